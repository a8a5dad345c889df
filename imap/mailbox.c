/* mailbox.c: one mailbox on disk (see mailbox.h for the contract). Its
 * commits, and the group commit, are in mailbox_sync.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"
#include "log.h"
#include "mailbox_priv.h"
#include "vanished.h"
#include "strarray.h"
#include "util.h"
#include "xmalloc.h"

#define HEADER_MAGIC "cyrmurder-mailbox 1"

#define FNAME_HEADER "cyrus.header"
#define FNAME_INDEX  "cyrus.index"
#define FNAME_CACHE  "cyrus.cache"

static void
path_join(struct buf *b, const char *dir, const char *file)
{
    buf_setcstr(b, dir);
    buf_putc(b, '/');
    buf_appendcstr(b, file);
}

int
mailbox_fsync_path(const char *path, int dir)
{
    int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
    int r;

    if (fd < 0)
        return -1;
    r = fsync(fd);
    close(fd);
    return r;
}

/* ---- cyrus.header: text, replaced atomically ---- */

static int
header_write(const char *path, const char *uniqueid, const char *quotaroot,
             const struct strarray *flags)
{
    struct buf fname = BUF_INITIALIZER, tmp = BUF_INITIALIZER;
    struct buf text = BUF_INITIALIZER;
    size_t i;
    int fd, r = 0;

    buf_printf(&text, "%s\n%s\t%s\n", HEADER_MAGIC, uniqueid,
               quotaroot ? quotaroot : "");
    for (i = 0; i < flags->count; i++)
        buf_printf(&text, "%s%s", i ? " " : "", flags->data[i]);
    buf_putc(&text, '\n');
    path_join(&fname, path, FNAME_HEADER);
    buf_printf(&tmp, "%s.NEW", buf_cstring(&fname));
    fd = open(buf_cstring(&tmp), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
              0600);
    if (fd < 0 || util_write_all(fd, buf_base(&text), buf_len(&text)) < 0
        || fsync(fd) < 0
        || rename(buf_cstring(&tmp), buf_cstring(&fname)) < 0
        || mailbox_fsync_path(path, 1) < 0) {
        log_msg(LOG_ERR, "mailbox %s: writing header: %s", path,
                strerror(errno));
        r = ERR_IO;
    }
    if (fd >= 0)
        close(fd);
    buf_free(&fname);
    buf_free(&tmp);
    buf_free(&text);
    return r;
}

static int
header_read(struct mailbox *mb)
{
    struct buf fname = BUF_INITIALIZER, text = BUF_INITIALIZER;
    struct strarray *lines = NULL, *flags = NULL;
    char *tab;
    int r = 0;

    path_join(&fname, mb->path, FNAME_HEADER);
    {
        struct stat st;

        if (stat(buf_cstring(&fname), &st) == 0) {
            mb->header_ino = st.st_ino;
            mb->header_mtim = st.st_mtim;
        }
    }
    if (buf_load_file(&text, buf_cstring(&fname)) < 0) {
        r = errno == ENOENT ? ERR_NOMAILBOX : ERR_IO;
        goto done;
    }
    lines = strarray_split(buf_cstring(&text), "\n");
    if (lines->count < 2 || strcmp(lines->data[0], HEADER_MAGIC) != 0) {
        log_msg(LOG_ERR, "mailbox %s: bad header file", mb->path);
        r = ERR_IO;
        goto done;
    }
    tab = strchr(lines->data[1], '\t');
    if (tab)
        *tab = '\0';
    /* keep the old strings when unchanged: callers hold
     * mailbox_uniqueid()/mailbox_quotaroot() across mailbox_lock() */
    if (mb->uniqueid == NULL || strcmp(mb->uniqueid, lines->data[1]) != 0) {
        free(mb->uniqueid);
        mb->uniqueid = xstrdup(lines->data[1]);
    }
    if (tab == NULL || tab[1] == '\0') {
        free(mb->quotaroot);
        mb->quotaroot = NULL;
    } else if (mb->quotaroot == NULL || strcmp(mb->quotaroot, tab + 1) != 0) {
        free(mb->quotaroot);
        mb->quotaroot = xstrdup(tab + 1);
    }
    strarray_fini(&mb->flagnames);
    if (lines->count > 2) {
        size_t i;

        flags = strarray_split(lines->data[2], " ");
        for (i = 0; i < flags->count && i < MAILBOX_MAX_USER_FLAGS; i++)
            strarray_append(&mb->flagnames, flags->data[i]);
    }
done:
    strarray_free(&lines);
    strarray_free(&flags);
    buf_free(&fname);
    buf_free(&text);
    return r;
}

/* Has another process replaced cyrus.header (a new user flag, or a quota
 * root set by SETQUOTA) since we read it? */
static int
header_changed(const struct mailbox *mb)
{
    struct buf fname = BUF_INITIALIZER;
    struct stat st;
    int changed = 0;

    path_join(&fname, mb->path, FNAME_HEADER);
    if (stat(buf_cstring(&fname), &st) == 0)
        changed = st.st_ino != mb->header_ino
                  || st.st_mtim.tv_sec != mb->header_mtim.tv_sec
                  || st.st_mtim.tv_nsec != mb->header_mtim.tv_nsec;
    buf_free(&fname);
    return changed;
}

/* ---- the index ---- */

static void
encode_header(char *out, const struct mailbox_counts *c, uint64_t seq)
{
    struct disk_header h;

    memset(out, 0, INDEX_HEADER_SIZE);
    memset(&h, 0, sizeof(h));
    h.magic = INDEX_MAGIC;
    h.version = INDEX_VERSION;
    h.header_size = INDEX_HEADER_SIZE;
    h.record_size = INDEX_RECORD_SIZE;
    h.c = *c;
    h.commit_seq = seq;
    memcpy(out, &h, sizeof(h));
}

int
mailbox_write_index_header(struct mailbox *mb)
{
    char hdr[INDEX_HEADER_SIZE];
    const size_t len = sizeof(struct disk_header);

    encode_header(hdr, &mb->counts, ++mb->commit_seq);
    /* not the padding after it: SYNCED_SEQ_OFFSET is not ours to write */
    if (pwrite(mb->index_fd, hdr, len, 0) != (ssize_t)len)
        return ERR_IO;
    return 0;
}

int
mailbox_create(const char *path, const char *uniqueid, const char *quotaroot,
               uint32_t uidvalidity, uint64_t createdmodseq)
{
    struct buf fname = BUF_INITIALIZER;
    struct mailbox_counts c;
    struct strarray noflags = STRARRAY_INITIALIZER;
    char hdr[INDEX_HEADER_SIZE];
    int fd = -1, r = 0;

    if (util_mkdir_p(path, 0750) < 0) {
        log_msg(LOG_ERR, "mailbox %s: mkdir: %s", path, strerror(errno));
        return ERR_IO;
    }
    path_join(&fname, path, FNAME_INDEX);
    fd = open(buf_cstring(&fname), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
              0600);
    if (fd < 0) {
        r = errno == EEXIST ? ERR_EXISTS : ERR_IO;
        goto done;
    }
    memset(&c, 0, sizeof(c));
    c.uidvalidity = uidvalidity;
    c.highestmodseq = createdmodseq ? createdmodseq : 1;
    c.createdmodseq = c.highestmodseq;
    encode_header(hdr, &c, 0);
    {
        /* no records yet, all of them durable */
        const uint32_t marks[2] = {SYNC_MARKS_MAGIC, 0};

        memcpy(hdr + SYNC_MARKS_OFFSET, marks, sizeof(marks));
    }
    if (util_write_all(fd, hdr, sizeof(hdr)) < 0 || fsync(fd) < 0) {
        r = ERR_IO;
        goto done;
    }
    path_join(&fname, path, FNAME_CACHE);
    close(fd);
    fd = open(buf_cstring(&fname), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
              0600);
    /* the cache starts with a version word so offset 0 is never a blob */
    if (fd < 0 || util_write_all(fd, "CYRC0001", 8) < 0 || fsync(fd) < 0) {
        r = ERR_IO;
        goto done;
    }
    /* the header is written last: its presence marks a complete mailbox */
    r = header_write(path, uniqueid, quotaroot, &noflags);
done:
    if (fd >= 0)
        close(fd);
    buf_free(&fname);
    return r;
}

static void
unmap_all(struct mailbox *mb)
{
    if (mb->map)
        munmap((void *)mb->map, mb->map_len);
    if (mb->cache_map)
        munmap((void *)mb->cache_map, mb->cache_map_len);
    mb->map = NULL;
    mb->map_len = 0;
    mb->cache_map = NULL;
    mb->cache_map_len = 0;
}

/* Re-read the header and remap the index after locking. */
static int
refresh(struct mailbox *mb)
{
    struct stat st;
    struct disk_header h;
    size_t need;

    if (fstat(mb->index_fd, &st) < 0)
        return ERR_IO;
    if ((size_t)st.st_size < INDEX_HEADER_SIZE)
        return ERR_IO;
    if (mb->map == NULL || mb->map_len != (size_t)st.st_size) {
        if (mb->map)
            munmap((void *)mb->map, mb->map_len);
        mb->map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED,
                       mb->index_fd, 0);
        if (mb->map == MAP_FAILED) {
            mb->map = NULL;
            return ERR_IO;
        }
        mb->map_len = (size_t)st.st_size;
    }
    memcpy(&h, mb->map, sizeof(h));
    if (h.magic != INDEX_MAGIC || h.version != INDEX_VERSION
        || h.record_size != INDEX_RECORD_SIZE
        || h.header_size != INDEX_HEADER_SIZE) {
        log_msg(LOG_ERR, "mailbox %s: bad index header", mb->path);
        return ERR_IO;
    }
    need = INDEX_HEADER_SIZE + (size_t)h.c.num_records * INDEX_RECORD_SIZE;
    if (need > mb->map_len) {
        log_msg(LOG_ERR, "mailbox %s: index truncated", mb->path);
        return ERR_IO;
    }
    if (h.c.generation != mb->counts.generation
        || h.c.num_records < mb->counts.num_records || header_changed(mb)) {
        /* rewritten by compaction: the flag names may have changed too */
        int r = header_read(mb);

        if (r)
            return r;
    }
    mb->counts = h.c;
    mb->commit_seq = h.commit_seq;
    return 0;
}

int
mailbox_open(const char *path, struct mailbox **mb_r)
{
    struct mailbox *mb = xzmalloc(sizeof(*mb));
    struct buf fname = BUF_INITIALIZER;
    int r;

    mb->path = xstrdup(path);
    mb->index_fd = mb->cache_fd = -1;
    r = header_read(mb);
    if (r)
        goto fail;
    /* "in use" marker first: a shared OFD lock on byte 0 of the cache
     * file (never replaced, unlike the header and the index). Compaction
     * holds it exclusively, so we never open a stale index. */
    path_join(&fname, path, FNAME_CACHE);
    mb->cache_fd = open(buf_cstring(&fname), O_RDWR | O_CLOEXEC);
    if (mb->cache_fd < 0) {
        r = errno == ENOENT ? ERR_NOMAILBOX : ERR_IO;
        goto fail;
    }
    {
        struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET,
                           .l_start = 0, .l_len = 1};

        while (fcntl(mb->cache_fd, F_OFD_SETLKW, &fl) < 0) {
            if (errno != EINTR) {
                r = ERR_IO;
                goto fail;
            }
        }
    }
    path_join(&fname, path, FNAME_INDEX);
    mb->index_fd = open(buf_cstring(&fname), O_RDWR | O_CLOEXEC);
    if (mb->index_fd < 0) {
        r = errno == ENOENT ? ERR_NOMAILBOX : ERR_IO;
        goto fail;
    }
    buf_free(&fname);
    *mb_r = mb;
    return 0;
fail:
    buf_free(&fname);
    mailbox_close(&mb);
    return r;
}

void
mailbox_close(struct mailbox **mbp)
{
    struct mailbox *mb = *mbp;

    if (mb == NULL)
        return;
    *mbp = NULL;
    if (mb->lock != MAILBOX_UNLOCKED)
        mailbox_unlock(mb);
    unmap_all(mb);
    if (mb->index_fd >= 0)
        close(mb->index_fd);
    if (mb->cache_fd >= 0)
        close(mb->cache_fd);
    strarray_fini(&mb->flagnames);
    strarray_fini(&mb->sync_paths);
    free(mb->path);
    free(mb->uniqueid);
    free(mb->quotaroot);
    free(mb);
}

int
mailbox_destroy(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *de;
    struct buf fname = BUF_INITIALIZER;
    int r = 0;

    if (d == NULL)
        return errno == ENOENT ? ERR_NOMAILBOX : ERR_IO;
    /* the header goes first so a crash leaves no half mailbox that opens */
    path_join(&fname, path, FNAME_HEADER);
    unlink(buf_cstring(&fname));
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        path_join(&fname, path, de->d_name);
        if (unlink(buf_cstring(&fname)) < 0 && errno != ENOENT)
            r = ERR_IO;
    }
    closedir(d);
    if (rmdir(path) < 0 && errno != ENOENT)
        r = ERR_IO;
    buf_free(&fname);
    return r;
}

int
mailbox_lock(struct mailbox *mb, enum mailbox_lock mode)
{
    struct flock fl = {.l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    int r;

    ASSERT(mb->lock == MAILBOX_UNLOCKED);
    fl.l_type = mode == MAILBOX_EXCLUSIVE ? F_WRLCK : F_RDLCK;
    while (fcntl(mb->index_fd, F_OFD_SETLKW, &fl) < 0) {
        if (errno != EINTR)
            return ERR_IO;
    }
    mb->lock = mode;
    r = refresh(mb);
    if (r) {
        mailbox_unlock(mb);
        return r;
    }
    if (mode == MAILBOX_EXCLUSIVE) {
        struct stat st;

        if (fstat(mb->cache_fd, &st) < 0) {
            mailbox_unlock(mb);
            return ERR_IO;
        }
        mb->cache_end = (uint64_t)st.st_size;
        mb->dirty = 0;
    }
    return 0;
}

void
mailbox_unlock(struct mailbox *mb)
{
    struct flock fl = {.l_type = F_UNLCK, .l_whence = SEEK_SET,
                       .l_start = 0, .l_len = 0};

    if (mb->lock == MAILBOX_UNLOCKED)
        return;
    fcntl(mb->index_fd, F_OFD_SETLK, &fl);
    mb->lock = MAILBOX_UNLOCKED;
    mb->next_modseq = 0;
    strarray_fini(&mb->sync_paths);
}

int
mailbox_is_alone(struct mailbox *mb)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET,
                       .l_start = 0, .l_len = 1};
    int alone;

    /* Upgrade our own shared marker; succeeds only if nobody else holds
     * one. Then go back to shared. */
    alone = fcntl(mb->cache_fd, F_OFD_SETLK, &fl) == 0;
    if (alone) {
        fl.l_type = F_RDLCK;
        fcntl(mb->cache_fd, F_OFD_SETLK, &fl);
    }
    return alone;
}

const char *
mailbox_path(const struct mailbox *mb)
{
    return mb->path;
}

const char *
mailbox_uniqueid(const struct mailbox *mb)
{
    return mb->uniqueid;
}

const char *
mailbox_quotaroot(const struct mailbox *mb)
{
    return mb->quotaroot;
}

const struct mailbox_counts *
mailbox_counts(const struct mailbox *mb)
{
    return &mb->counts;
}

/* Records are stored field by field so the layout does not depend on
 * struct padding. */
#define REC_FIELDS(X)                                                       \
    X(uid) X(system_flags) X(internaldate) X(sentdate) X(savedate) X(size) \
    X(header_size) X(cache_len) X(cache_offset) X(modseq) X(user_flags)    \
    X(guid)

void
mailbox_record_decode(const char *p, struct index_record *rec)
{
    size_t off = 0;

#define DEC(f)                                \
    memcpy(&rec->f, p + off, sizeof(rec->f)); \
    off += sizeof(rec->f);
    REC_FIELDS(DEC)
#undef DEC
    ASSERT(off <= INDEX_RECORD_SIZE);
}

static void
record_encode(char *p, const struct index_record *rec)
{
    size_t off = 0;

    memset(p, 0, INDEX_RECORD_SIZE);
#define ENC(f)                                \
    memcpy(p + off, &rec->f, sizeof(rec->f)); \
    off += sizeof(rec->f);
    REC_FIELDS(ENC)
#undef ENC
    ASSERT(off <= INDEX_RECORD_SIZE);
}

int
mailbox_read_record(const struct mailbox *mb, uint32_t idx,
                    struct index_record *rec_r)
{
    if (mb->map == NULL || idx >= mb->counts.num_records)
        return ERR_NOTFOUND;
    mailbox_record_decode(mb->map + INDEX_HEADER_SIZE
                              + (size_t)idx * INDEX_RECORD_SIZE,
                          rec_r);
    return 0;
}

static uint32_t
record_uid_at(const struct mailbox *mb, uint32_t idx)
{
    uint32_t uid;

    memcpy(&uid, mb->map + INDEX_HEADER_SIZE + (size_t)idx * INDEX_RECORD_SIZE,
           sizeof(uid));
    return uid;
}

long
mailbox_find_uid(const struct mailbox *mb, uint32_t uid)
{
    uint32_t lo = 0, hi = mb->counts.num_records;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        uint32_t u = record_uid_at(mb, mid);

        if (u == uid)
            return (long)mid;
        if (u < uid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

void
mailbox_message_path(const struct mailbox *mb, uint32_t uid,
                     struct buf *path_r)
{
    buf_reset(path_r);
    buf_printf(path_r, "%s/%u.", mb->path, uid);
}

int
mailbox_map_message(const struct mailbox *mb, uint32_t uid,
                    const char **base_r, size_t *len_r)
{
    struct buf path = BUF_INITIALIZER;
    struct stat st;
    int fd;
    void *p;

    mailbox_message_path(mb, uid, &path);
    fd = open(buf_cstring(&path), O_RDONLY | O_CLOEXEC);
    buf_free(&path);
    if (fd < 0)
        return errno == ENOENT ? ERR_NOTFOUND : ERR_IO;
    if (fstat(fd, &st) < 0) {
        close(fd);
        return ERR_IO;
    }
    if (st.st_size == 0) {
        close(fd);
        *base_r = "";
        *len_r = 0;
        return 0;
    }
    p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return ERR_IO;
    *base_r = p;
    *len_r = (size_t)st.st_size;
    return 0;
}

void
mailbox_unmap_message(const char *base, size_t len)
{
    if (len > 0)
        munmap((void *)base, len);
}

int
mailbox_cache_blob(struct mailbox *mb, const struct index_record *rec,
                   const char **blob_r, size_t *len_r)
{
    uint64_t end = rec->cache_offset + rec->cache_len;

    if (rec->cache_offset < 8 || end < rec->cache_offset)
        return ERR_IO;
    if (mb->cache_map == NULL || end > mb->cache_map_len) {
        struct stat st;

        if (fstat(mb->cache_fd, &st) < 0 || (uint64_t)st.st_size < end)
            return ERR_IO;
        if (mb->cache_map)
            munmap((void *)mb->cache_map, mb->cache_map_len);
        mb->cache_map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED,
                             mb->cache_fd, 0);
        if (mb->cache_map == MAP_FAILED) {
            mb->cache_map = NULL;
            return ERR_IO;
        }
        mb->cache_map_len = (size_t)st.st_size;
    }
    *blob_r = mb->cache_map + rec->cache_offset;
    *len_r = rec->cache_len;
    return 0;
}

/* ---- writing ---- */

static void
count_record(struct mailbox_counts *c, const struct index_record *rec, int sign)
{
    if (rec->system_flags & FLAG_INT_EXPUNGED)
        return;
    c->exists += (uint32_t)sign;
    c->quota_used += (uint64_t)((int64_t)rec->size * sign);
    if (!(rec->system_flags & FLAG_SEEN))
        c->unseen += (uint32_t)sign;
    if (rec->system_flags & FLAG_DELETED)
        c->deleted += (uint32_t)sign;
}

/* Records appended under our own lock lie past the mapping taken at lock
 * time: extend it so reads of them work before the commit. */
static int
remap_index(struct mailbox *mb)
{
    size_t need = INDEX_HEADER_SIZE
                  + (size_t)mb->counts.num_records * INDEX_RECORD_SIZE;
    void *p;

    if (mb->map && need <= mb->map_len)
        return 0;
    if (mb->map)
        munmap((void *)mb->map, mb->map_len);
    mb->map = NULL;
    p = mmap(NULL, need, PROT_READ, MAP_SHARED, mb->index_fd, 0);
    if (p == MAP_FAILED)
        return ERR_IO;
    mb->map = p;
    mb->map_len = need;
    return 0;
}

static int
append_record(struct mailbox *mb, const char *cache, size_t cachelen,
              struct index_record *rec)
{
    char raw[INDEX_RECORD_SIZE];
    off_t off;

    rec->cache_offset = mb->cache_end;
    rec->cache_len = (uint32_t)cachelen;
    if (cachelen > 0
        && pwrite(mb->cache_fd, cache, cachelen, (off_t)mb->cache_end)
               != (ssize_t)cachelen)
        return ERR_IO;
    mb->cache_end += cachelen;
    if (mb->next_modseq) {
        /* XFER keeps the source's modseq (mailbox_set_next_modseq()) */
        rec->modseq = mb->next_modseq;
        mb->next_modseq = 0;
        if (rec->modseq > mb->counts.highestmodseq)
            mb->counts.highestmodseq = rec->modseq;
    } else {
        rec->modseq = ++mb->counts.highestmodseq;
    }
    if (rec->savedate == 0)
        rec->savedate = time(NULL);
    record_encode(raw, rec);
    off = INDEX_HEADER_SIZE + (off_t)mb->counts.num_records * INDEX_RECORD_SIZE;
    if (pwrite(mb->index_fd, raw, sizeof(raw), off) != (ssize_t)sizeof(raw))
        return ERR_IO;
    mb->counts.num_records++;
    mb->counts.last_uid = rec->uid;
    mb->counts.last_appenddate = time(NULL);
    count_record(&mb->counts, rec, 1);
    mb->dirty = 1;
    return remap_index(mb);
}

int
mailbox_append(struct mailbox *mb, const char *msg, size_t len,
               const char *cache, size_t cachelen, struct index_record *rec)
{
    struct buf path = BUF_INITIALIZER;
    int fd, r;

    ASSERT(mb->lock == MAILBOX_EXCLUSIVE);
    rec->uid = mb->counts.last_uid + 1;
    rec->size = len;
    mailbox_message_path(mb, rec->uid, &path);
    fd = open(buf_cstring(&path), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
              0600);
    if (fd < 0 || util_write_all(fd, msg, len) < 0 || fdatasync(fd) < 0) {
        log_msg(LOG_ERR, "mailbox %s: writing %s: %s", mb->path,
                buf_cstring(&path), strerror(errno));
        if (fd >= 0)
            close(fd);
        unlink(buf_cstring(&path));
        buf_free(&path);
        return ERR_IO;
    }
    close(fd);
    buf_free(&path);
    mb->dir_dirty = 1;
    r = append_record(mb, cache, cachelen, rec);
    return r;
}

static int
append_from_file(struct mailbox *mb, const char *tmppath, const char *cache,
                 size_t cachelen, struct index_record *rec, int move)
{
    struct buf path = BUF_INITIALIZER;
    int r;

    ASSERT(mb->lock == MAILBOX_EXCLUSIVE);
    rec->uid = mb->counts.last_uid + 1;
    mailbox_message_path(mb, rec->uid, &path);
    /* the caller fsynced tmppath (or asked for mailbox_fsync_at_commit);
     * a hard link keeps the caller's file so one spooled message can go
     * to many mailboxes */
    if (move) {
        r = rename(tmppath, buf_cstring(&path));
    } else {
        unlink(buf_cstring(&path));
        r = link(tmppath, buf_cstring(&path));
    }
    if (r < 0) {
        log_msg(LOG_ERR, "mailbox %s: %s %s: %s", mb->path,
                move ? "rename" : "link", tmppath, strerror(errno));
        buf_free(&path);
        return ERR_IO;
    }
    buf_free(&path);
    mb->dir_dirty = 1;
    r = append_record(mb, cache, cachelen, rec);
    return r;
}

int
mailbox_append_file(struct mailbox *mb, const char *tmppath, const char *cache,
                    size_t cachelen, struct index_record *rec)
{
    return append_from_file(mb, tmppath, cache, cachelen, rec, 0);
}

int
mailbox_append_rename(struct mailbox *mb, const char *tmppath,
                      const char *cache, size_t cachelen,
                      struct index_record *rec)
{
    return append_from_file(mb, tmppath, cache, cachelen, rec, 1);
}

void
mailbox_fsync_at_commit(struct mailbox *mb, uint32_t uid)
{
    struct buf path = BUF_INITIALIZER;

    ASSERT(mb->lock == MAILBOX_EXCLUSIVE);
    mailbox_message_path(mb, uid, &path);
    strarray_appendm(&mb->sync_paths, buf_release(&path));
}

int
mailbox_rewrite_record(struct mailbox *mb, uint32_t idx,
                       struct index_record *rec)
{
    struct index_record old;
    char raw[INDEX_RECORD_SIZE];
    off_t off;

    ASSERT(mb->lock == MAILBOX_EXCLUSIVE);
    if (mailbox_read_record(mb, idx, &old) < 0 || old.uid != rec->uid)
        return ERR_NOTFOUND;
    count_record(&mb->counts, &old, -1);
    rec->modseq = ++mb->counts.highestmodseq;
    record_encode(raw, rec);
    off = INDEX_HEADER_SIZE + (off_t)idx * INDEX_RECORD_SIZE;
    if (pwrite(mb->index_fd, raw, sizeof(raw), off) != (ssize_t)sizeof(raw))
        return ERR_IO;
    count_record(&mb->counts, rec, 1);
    mb->dirty = 1;
    return 0;
}

int
mailbox_set_next_uid(struct mailbox *mb, uint32_t uid)
{
    ASSERT(mb->lock == MAILBOX_EXCLUSIVE);
    if (uid == 0 || uid <= mb->counts.last_uid)
        return ERR_INVALID;
    mb->counts.last_uid = uid - 1;
    mb->dirty = 1;
    return 0;
}

void
mailbox_set_next_modseq(struct mailbox *mb, uint64_t modseq)
{
    ASSERT(mb->lock == MAILBOX_EXCLUSIVE);
    mb->next_modseq = modseq;
}

void
mailbox_raise_highestmodseq(struct mailbox *mb, uint64_t modseq)
{
    ASSERT(mb->lock == MAILBOX_EXCLUSIVE);
    if (modseq > mb->counts.highestmodseq) {
        mb->counts.highestmodseq = modseq;
        mb->dirty = 1;
    }
}

void
mailbox_set_recent_uid(struct mailbox *mb, uint32_t uid)
{
    ASSERT(mb->lock == MAILBOX_EXCLUSIVE);
    if (uid > mb->counts.recent_uid) {
        mb->counts.recent_uid = uid;
        mb->dirty = 1;
    }
}

void
mailbox_set_pop3_last_login(struct mailbox *mb, int64_t when)
{
    ASSERT(mb->lock == MAILBOX_EXCLUSIVE);
    mb->counts.pop3_last_login = when;
    mb->dirty = 1;
}


int
mailbox_compact(struct mailbox *mb)
{
    struct buf tmp = BUF_INITIALIZER, fname = BUF_INITIALIZER;
    struct mailbox_counts c = mb->counts;
    char hdr[INDEX_HEADER_SIZE], raw[INDEX_RECORD_SIZE];
    uint64_t dropped = 0;
    uint32_t i;
    int fd, r = 0;

    struct flock hl = {.l_type = F_WRLCK, .l_whence = SEEK_SET,
                       .l_start = 0, .l_len = 1};

    ASSERT(mb->lock == MAILBOX_EXCLUSIVE);
    /* hold the "in use" byte exclusively for the whole rewrite so that no
     * process opens the old index meanwhile */
    if (fcntl(mb->cache_fd, F_OFD_SETLK, &hl) < 0)
        return ERR_LOCKED;
    path_join(&fname, mb->path, FNAME_INDEX);
    buf_printf(&tmp, "%s.NEW", buf_cstring(&fname));
    fd = open(buf_cstring(&tmp), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
              0600);
    if (fd < 0) {
        r = ERR_IO;
        goto done;
    }
    c.num_records = 0;
    c.generation++;
    /* QRESYNC: remember how far expunges are forgotten (imap/vanished.h) */
    for (i = 0; i < mb->counts.num_records; i++) {
        struct index_record rec;

        mailbox_read_record(mb, i, &rec);
        if ((rec.system_flags & FLAG_INT_EXPUNGED) && rec.modseq > dropped)
            dropped = rec.modseq;
    }
    if (dropped && vanished_note(mb->path, dropped) < 0) {
        r = ERR_IO;
        goto done;
    }
    if (lseek(fd, INDEX_HEADER_SIZE, SEEK_SET) < 0) {
        r = ERR_IO;
        goto done;
    }
    for (i = 0; i < mb->counts.num_records; i++) {
        struct index_record rec;

        mailbox_read_record(mb, i, &rec);
        if (rec.system_flags & FLAG_INT_EXPUNGED) {
            struct buf p = BUF_INITIALIZER;

            mailbox_message_path(mb, rec.uid, &p);
            unlink(buf_cstring(&p));
            buf_free(&p);
            continue;
        }
        record_encode(raw, &rec);
        if (util_write_all(fd, raw, sizeof(raw)) < 0) {
            r = ERR_IO;
            goto done;
        }
        c.num_records++;
    }
    encode_header(hdr, &c, mb->commit_seq);
    if (pwrite(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr)
        || fsync(fd) < 0) {
        r = ERR_IO;
        goto done;
    }
    /* The new index takes the old one's place; we lock the new file
     * before dropping the old descriptor. */
    if (rename(buf_cstring(&tmp), buf_cstring(&fname)) < 0) {
        r = ERR_IO;
        goto done;
    }
    mailbox_fsync_path(mb->path, 1);
    {
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET,
                           .l_start = 0, .l_len = 0};

        if (fcntl(fd, F_OFD_SETLK, &fl) < 0) {
            r = ERR_IO;
            goto done;
        }
    }
    close(mb->index_fd);
    mb->index_fd = fd;
    fd = -1;
    if (mb->map)
        munmap((void *)mb->map, mb->map_len);
    mb->map = NULL;
    mb->counts.generation = c.generation;
    r = refresh(mb);
done:
    if (fd >= 0) {
        close(fd);
        unlink(buf_cstring(&tmp));
    }
    hl.l_type = F_RDLCK;
    fcntl(mb->cache_fd, F_OFD_SETLK, &hl);
    buf_free(&tmp);
    buf_free(&fname);
    return r;
}

int
mailbox_user_flag(struct mailbox *mb, const char *name, int create)
{
    long idx = strarray_find_case(&mb->flagnames, name);

    if (idx >= 0)
        return (int)idx;
    if (!create || mb->flagnames.count >= MAILBOX_MAX_USER_FLAGS)
        return -1;
    ASSERT(mb->lock == MAILBOX_EXCLUSIVE);
    strarray_append(&mb->flagnames, name);
    if (header_write(mb->path, mb->uniqueid, mb->quotaroot, &mb->flagnames)
        < 0) {
        strarray_truncate(&mb->flagnames, mb->flagnames.count - 1);
        return -1;
    }
    /* others must reread the names: make them see a new generation */
    mb->counts.generation++;
    mb->dirty = 1;
    return (int)mb->flagnames.count - 1;
}

const char *
mailbox_user_flag_name(const struct mailbox *mb, int idx)
{
    return strarray_nth(&mb->flagnames, (size_t)idx);
}

int
mailbox_set_quotaroot(struct mailbox *mb, const char *root)
{
    int r = header_write(mb->path, mb->uniqueid, root, &mb->flagnames);

    if (r == 0) {
        free(mb->quotaroot);
        mb->quotaroot = xstrdupnull(root);
    }
    return r;
}
