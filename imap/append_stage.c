/* append_stage.c: staging a message for the append pipeline (append.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "append_priv.h"
#include "errors.h"
#include "log.h"
#include "msgcache.h"
#include "msgheader.h"
#include "util.h"
#include "xmalloc.h"

/* Write the converted bytes in blocks of about this size. */
#define STAGE_FLUSH_SIZE (64 * 1024)

int
append_stage_new(const char *stagedir, uint64_t maxsize,
                 struct append_stage **st_r)
{
    struct append_stage *st;
    struct buf path = BUF_INITIALIZER;
    struct stat sb;
    int fd;

    buf_printf(&path, "%s/%ld.XXXXXX", stagedir, (long)getpid());
    fd = mkostemp((char *)buf_cstring(&path), O_CLOEXEC);
    /* the directory exists after the first message: make it only then */
    if (fd < 0 && errno == ENOENT) {
        if (util_mkdir_p(stagedir, 0750) < 0) {
            log_msg(LOG_ERR, "append: mkdir %s: %s", stagedir,
                    strerror(errno));
            buf_free(&path);
            return ERR_IO;
        }
        buf_reset(&path);
        buf_printf(&path, "%s/%ld.XXXXXX", stagedir, (long)getpid());
        fd = mkostemp((char *)buf_cstring(&path), O_CLOEXEC);
    }
    if (fd < 0 || fstat(fd, &sb) < 0) {
        log_msg(LOG_ERR, "append: creating %s: %s", buf_cstring(&path),
                strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(buf_cstring(&path));
        }
        buf_free(&path);
        return ERR_IO;
    }
    st = xzmalloc(sizeof(*st));
    st->path = buf_release(&path);
    st->fd = fd;
    st->dev = sb.st_dev;
    st->maxsize = maxsize;
    st->stagedate = (int64_t)time(NULL);
    st->sha1 = EVP_MD_CTX_new();
    if (st->sha1 == NULL || !EVP_DigestInit_ex(st->sha1, EVP_sha1(), NULL)) {
        log_msg(LOG_ERR, "append: SHA-1 unavailable");
        append_stage_free(&st);
        return ERR_IO;
    }
    *st_r = st;
    return 0;
}

static void
stage_fail(struct append_stage *st, int err)
{
    if (st->error == 0)
        st->error = err;
    buf_free(&st->pending);
}

static int
stage_flush(struct append_stage *st)
{
    if (buf_len(&st->pending) == 0)
        return 0;
    if (util_write_all(st->fd, buf_base(&st->pending), buf_len(&st->pending))
        < 0) {
        log_msg(LOG_ERR, "append: writing %s: %s", st->path, strerror(errno));
        stage_fail(st, ERR_IO);
        return ERR_IO;
    }
    buf_reset(&st->pending);
    return 0;
}

int
append_stage_write(struct append_stage *st, const char *data, size_t len)
{
    size_t start, added;

    if (st->finished)
        return ERR_INVALID;
    if (st->error)
        return st->error;
    if (len == 0)
        return 0;
    /* RFC 3501 4.3: NUL is never allowed in a message (no BINARY here) */
    if (memchr(data, '\0', len) != NULL) {
        stage_fail(st, ERR_BADMSG);
        return st->error;
    }
    start = buf_len(&st->pending);
    if (st->prev_cr && data[0] == '\n') {
        /* the CR ended the previous chunk: this LF is not bare */
        buf_putc(&st->pending, '\n');
        data++;
        len--;
    }
    msgheader_crlf(data, len, &st->pending);
    added = buf_len(&st->pending) - start;
    if (st->maxsize && (added > st->maxsize - st->size)) {
        stage_fail(st, ERR_TOOBIG);
        return st->error;
    }
    EVP_DigestUpdate(st->sha1, buf_base(&st->pending) + start, added);
    st->size += added;
    st->prev_cr = buf_base(&st->pending)[buf_len(&st->pending) - 1] == '\r';
    if (buf_len(&st->pending) >= STAGE_FLUSH_SIZE)
        return stage_flush(st);
    return 0;
}

int
append_stage_finish(struct append_stage *st)
{
    unsigned mdlen = 0;
    time_t sent;
    int r;

    if (st->finished)
        return ERR_INVALID;
    if (st->error)
        return st->error;
    r = stage_flush(st);
    if (r)
        return r;
    buf_free(&st->pending);
    if (st->size > SIZE_MAX || st->size > INT64_MAX) {
        stage_fail(st, ERR_TOOBIG);
        return st->error;
    }
    /* durable before anyone links it: a mailbox commit only fsyncs its
     * directory, not the linked file (unless told to: defer_fsync) */
    if (st->defer_fsync) {
        /* start the writeback now (Linux): by the commit the blocks are
         * allocated and in one journal transaction, so the first fsync
         * there commits them all and the others find little to do */
#ifdef SYNC_FILE_RANGE_WRITE
        (void)sync_file_range(st->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
#endif
    } else if (fdatasync(st->fd) < 0) {
        /* fdatasync: the size is included, the times are not needed */
        log_msg(LOG_ERR, "append: fdatasync %s: %s", st->path,
                strerror(errno));
        stage_fail(st, ERR_IO);
        return ERR_IO;
    }
    if (st->size > 0) {
        void *p =
            mmap(NULL, (size_t)st->size, PROT_READ, MAP_SHARED, st->fd, 0);

        if (p == MAP_FAILED) {
            log_msg(LOG_ERR, "append: mmap %s: %s", st->path, strerror(errno));
            stage_fail(st, ERR_IO);
            return ERR_IO;
        }
        st->map = p;
        st->maplen = (size_t)st->size;
    } else {
        st->map = "";
        st->maplen = 0;
    }
    close(st->fd);
    st->fd = -1;
    if (!EVP_DigestFinal_ex(st->sha1, st->guid, &mdlen) || mdlen != 20) {
        stage_fail(st, ERR_IO);
        return ERR_IO;
    }
    if (msgheader_size(st->map, st->maplen) > UINT32_MAX) {
        stage_fail(st, ERR_TOOBIG);
        return st->error;
    }
    st->header_size = (uint32_t)msgheader_size(st->map, st->maplen);
    r = message_parse(st->map, st->maplen, &st->msg);
    if (r) {
        stage_fail(st, r);
        return r;
    }
    msgcache_encode(st->msg, &st->cache);
    st->sentdate = message_sent_date(st->msg, &sent) == 0 ? (int64_t)sent : 0;
    st->finished = 1;
    return 0;
}

void
append_stage_defer_fsync(struct append_stage *st)
{
    st->defer_fsync = 1;
}

int
append_stage_from_memory(const char *stagedir, uint64_t maxsize,
                         const char *msg, size_t len,
                         struct append_stage **st_r)
{
    struct append_stage *st = NULL;
    int r = append_stage_new(stagedir, maxsize, &st);

    if (r)
        return r;
    r = append_stage_write(st, msg, len);
    if (r == 0)
        r = append_stage_finish(st);
    if (r) {
        append_stage_free(&st);
        return r;
    }
    *st_r = st;
    return 0;
}

void
append_stage_free(struct append_stage **stp)
{
    struct append_stage *st = *stp;

    if (st == NULL)
        return;
    *stp = NULL;
    if (st->map && st->maplen > 0)
        munmap((void *)st->map, st->maplen);
    if (st->fd >= 0)
        close(st->fd);
    if (st->path)
        unlink(st->path);
    if (st->sha1)
        EVP_MD_CTX_free(st->sha1);
    message_free(&st->msg);
    buf_free(&st->pending);
    buf_free(&st->cache);
    free(st->path);
    free(st);
}

const char *
append_stage_data(const struct append_stage *st, size_t *len_r)
{
    ASSERT(st->finished);
    *len_r = st->maplen;
    return st->map;
}

uint64_t
append_stage_size(const struct append_stage *st)
{
    return st->size;
}

uint32_t
append_stage_header_size(const struct append_stage *st)
{
    ASSERT(st->finished);
    return st->header_size;
}

const uint8_t *
append_stage_guid(const struct append_stage *st)
{
    ASSERT(st->finished);
    return st->guid;
}

int64_t
append_stage_sentdate(const struct append_stage *st)
{
    ASSERT(st->finished);
    return st->sentdate;
}

const struct message *
append_stage_message(const struct append_stage *st)
{
    ASSERT(st->finished);
    return st->msg;
}
