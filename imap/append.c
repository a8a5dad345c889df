/* append.c: appending staged or existing messages to a mailbox in
 * batches (see append.h for the contract). */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "append_priv.h"
#include "errors.h"
#include "log.h"
#include "msgcache.h"
#include "util.h"
#include "xmalloc.h"

struct append_batch {
    struct mailbox *mb;
    struct quota_db *qdb; /* NULL: no quota */
    char *root;           /* the mailbox's quota root, or NULL */
    unsigned flags;
    dev_t dev;                         /* filesystem of the mailbox directory */
    int64_t delta[QUOTA_NUMRESOURCES]; /* what the batch will charge */
    uint32_t first_uid;
    uint32_t count;
    int failed; /* an ERR_IO happened: only abort is left */
};

int
append_batch_begin(struct mailbox *mb, struct quota_db *qdb, unsigned flags,
                   struct append_batch **b_r)
{
    struct append_batch *b;
    struct stat sb;
    int r;

    if (stat(mailbox_path(mb), &sb) < 0) {
        log_msg(LOG_ERR, "append: stat %s: %s", mailbox_path(mb),
                strerror(errno));
        return ERR_IO;
    }
    r = mailbox_lock(mb, MAILBOX_EXCLUSIVE);
    if (r)
        return r;
    b = xzmalloc(sizeof(*b));
    b->mb = mb;
    b->flags = flags;
    b->dev = sb.st_dev;
    /* read the root under the lock: a SETQUOTA may just have moved it */
    if (qdb && mailbox_quotaroot(mb)) {
        b->qdb = qdb;
        b->root = xstrdup(mailbox_quotaroot(mb));
    }
    *b_r = b;
    return 0;
}

uint32_t
append_batch_count(const struct append_batch *b)
{
    return b->count;
}

/* Would one more message of size bytes keep the batch within quota? */
static int
quota_fits(struct append_batch *b, uint64_t size)
{
    int64_t delta[QUOTA_NUMRESOURCES];

    if (b->root == NULL || (b->flags & APPEND_IGNORE_QUOTA))
        return 0;
    delta[QUOTA_STORAGE] = b->delta[QUOTA_STORAGE] + (int64_t)size;
    delta[QUOTA_MESSAGE] = b->delta[QUOTA_MESSAGE] + 1;
    return quota_check(b->qdb, b->root, delta, NULL, NULL);
}

static int
set_user_flag(struct mailbox *mb, const char *name, struct index_record *rec)
{
    int idx = mailbox_user_flag(mb, name, 1);

    if (idx < 0)
        return ERR_NOTSUPPORTED;
    rec->user_flags[idx / 32] |= 1u << (idx % 32);
    return 0;
}

static void
added(struct append_batch *b, const struct index_record *rec)
{
    if (b->count++ == 0)
        b->first_uid = rec->uid;
    b->delta[QUOTA_STORAGE] += (int64_t)rec->size;
    b->delta[QUOTA_MESSAGE]++;
}

static int
batch_add(struct append_batch *b, const struct append_stage *st,
          const struct append_meta *meta, int take, uint32_t *uid_r)
{
    struct index_record rec;
    size_t i;
    int r;

    if (b->failed)
        return b->failed;
    if (!st->finished)
        return ERR_INVALID;
    r = quota_fits(b, st->size);
    if (r)
        return r;
    memset(&rec, 0, sizeof(rec));
    rec.system_flags = meta->system_flags & FLAG_SYSTEM_MASK;
    for (i = 0; meta->keywords && i < meta->keywords->count; i++) {
        r = set_user_flag(b->mb, meta->keywords->data[i], &rec);
        if (r)
            return r;
    }
    rec.internaldate = meta->internaldate ? meta->internaldate : st->stagedate;
    rec.sentdate = st->sentdate ? st->sentdate : rec.internaldate;
    rec.size = st->size;
    rec.header_size = st->header_size;
    memcpy(rec.guid, st->guid, sizeof(rec.guid));
    if (st->dev == b->dev && take) {
        r = mailbox_append_rename(b->mb, st->path, buf_base(&st->cache),
                                  buf_len(&st->cache), &rec);
        if (r == 0 && st->defer_fsync)
            mailbox_fsync_at_commit(b->mb, rec.uid);
    } else if (st->dev == b->dev) {
        r = mailbox_append_file(b->mb, st->path, buf_base(&st->cache),
                                buf_len(&st->cache), &rec);
        if (r == 0 && st->defer_fsync)
            mailbox_fsync_at_commit(b->mb, rec.uid);
    } else
        r = mailbox_append(b->mb, st->map, st->maplen, buf_base(&st->cache),
                           buf_len(&st->cache), &rec);
    if (r) {
        b->failed = r;
        return r;
    }
    added(b, &rec);
    if (uid_r)
        *uid_r = rec.uid;
    return 0;
}

int
append_batch_add(struct append_batch *b, const struct append_stage *st,
                 const struct append_meta *meta, uint32_t *uid_r)
{
    return batch_add(b, st, meta, 0, uid_r);
}

int
append_batch_take(struct append_batch *b, struct append_stage *st,
                  const struct append_meta *meta, uint32_t *uid_r)
{
    int r = batch_add(b, st, meta, 1, uid_r);

    if (r == 0 && st->dev == b->dev) {
        /* the file is the mailbox's now: append_stage_free() must not
         * remove it */
        free(st->path);
        st->path = NULL;
    }
    return r;
}

/* The cache record of srcrec: the stored blob, or (if it cannot be read)
 * a fresh one from the message itself. */
static int
copy_cache(struct mailbox *src, const struct index_record *srcrec,
           struct buf *cache)
{
    const char *blob, *base;
    size_t len;
    struct message *m = NULL;
    int r;

    if (mailbox_cache_blob(src, srcrec, &blob, &len) == 0
        && msgcache_decode(blob, len, &m) == 0) {
        message_free(&m);
        buf_setmap(cache, blob, len);
        return 0;
    }
    r = mailbox_map_message(src, srcrec->uid, &base, &len);
    if (r)
        return r;
    message_parse(base, len, &m);
    buf_reset(cache);
    msgcache_encode(m, cache);
    message_free(&m);
    mailbox_unmap_message(base, len);
    return 0;
}

int
append_batch_copy(struct append_batch *b, struct mailbox *src,
                  const struct index_record *srcrec, uint32_t *uid_r)
{
    struct index_record rec = *srcrec;
    struct buf path = BUF_INITIALIZER, cache = BUF_INITIALIZER;
    struct stat sb;
    int i, r;

    if (b->failed)
        return b->failed;
    if (srcrec->system_flags & FLAG_INT_EXPUNGED)
        return ERR_NOTFOUND;
    r = quota_fits(b, srcrec->size);
    if (r)
        return r;
    rec.system_flags &= FLAG_SYSTEM_MASK;
    rec.savedate = 0;
    if (src != b->mb) {
        /* user flag numbers are per mailbox: carry the names over */
        memset(rec.user_flags, 0, sizeof(rec.user_flags));
        for (i = 0; i < MAILBOX_MAX_USER_FLAGS; i++) {
            const char *name;

            if (!(srcrec->user_flags[i / 32] & (1u << (i % 32))))
                continue;
            name = mailbox_user_flag_name(src, i);
            if (name && (r = set_user_flag(b->mb, name, &rec)) != 0)
                return r;
        }
    }
    mailbox_message_path(src, srcrec->uid, &path);
    if (stat(buf_cstring(&path), &sb) < 0) {
        r = errno == ENOENT ? ERR_NOTFOUND : ERR_IO;
        goto done;
    }
    /* copied, not pointed to: the source's cache may be remapped by the
     * append when src is the batch's own mailbox */
    r = copy_cache(src, srcrec, &cache);
    if (r)
        goto done;
    if (sb.st_dev == b->dev) {
        rec.size = (uint64_t)sb.st_size;
        r = mailbox_append_file(b->mb, buf_cstring(&path), buf_base(&cache),
                                buf_len(&cache), &rec);
    } else {
        const char *base;
        size_t len;

        r = mailbox_map_message(src, srcrec->uid, &base, &len);
        if (r)
            goto done;
        r = mailbox_append(b->mb, base, len, buf_base(&cache), buf_len(&cache),
                           &rec);
        mailbox_unmap_message(base, len);
    }
    if (r) {
        b->failed = r;
        goto done;
    }
    added(b, &rec);
    if (uid_r)
        *uid_r = rec.uid;
done:
    buf_free(&path);
    buf_free(&cache);
    return r;
}

static void
batch_free(struct append_batch *b)
{
    free(b->root);
    free(b);
}

void
append_batch_abort(struct append_batch **bp)
{
    struct append_batch *b = *bp;
    struct buf path = BUF_INITIALIZER;
    uint32_t i;

    if (b == NULL)
        return;
    *bp = NULL;
    /* Nothing was committed: the records past the index header's count
     * are ignored and reused. Remove the files while still holding the
     * lock, before another writer can take these UIDs. */
    for (i = 0; i < b->count; i++) {
        mailbox_message_path(b->mb, b->first_uid + i, &path);
        unlink(buf_cstring(&path));
    }
    buf_free(&path);
    mailbox_unlock(b->mb);
    batch_free(b);
}

int
append_batch_commit(struct append_batch **bp, struct append_result *res_r)
{
    struct append_batch *b = *bp;
    struct append_result res;
    int r;

    memset(&res, 0, sizeof(res));
    res.uidvalidity = mailbox_counts(b->mb)->uidvalidity;
    if (b->failed) {
        r = b->failed;
        append_batch_abort(bp);
        return r;
    }
    if (b->count > 0 && b->root) {
        /* quota first: a crash after this over-counts (quota.h) */
        r = quota_charge(b->qdb, b->root, b->delta,
                         (b->flags & APPEND_IGNORE_QUOTA) ? 0 : QUOTA_ENFORCE,
                         NULL);
        if (r) {
            append_batch_abort(bp);
            return r;
        }
    }
    /* group commit: the fsyncs are shared with concurrent committers
     * (mailbox.h); 0 still means durable, and the mailbox is unlocked */
    r = mailbox_commit_unlock(b->mb);
    if (r) {
        /* The header may or may not have reached the disk, so the
         * messages may be visible after all: keep their files and the
         * charge (over-counting is what quota -f repairs). */
        log_msg(LOG_ERR, "append: commit of %u messages to %s failed", b->count,
                mailbox_path(b->mb));
        *bp = NULL;
        mailbox_unlock(b->mb);
        batch_free(b);
        return r;
    }
    if (b->count > 0) {
        res.first_uid = b->first_uid;
        res.last_uid = b->first_uid + b->count - 1;
        res.count = b->count;
    }
    *bp = NULL;
    mailbox_unlock(b->mb);
    batch_free(b);
    if (res_r)
        *res_r = res;
    return 0;
}

int
append_one(struct mailbox *mb, struct quota_db *qdb, unsigned flags,
           const struct append_stage *st, const struct append_meta *meta,
           uint32_t *uid_r)
{
    struct append_batch *b = NULL;
    struct append_result res;
    int r = append_batch_begin(mb, qdb, flags, &b);

    if (r)
        return r;
    r = append_batch_add(b, st, meta, NULL);
    if (r) {
        append_batch_abort(&b);
        return r;
    }
    r = append_batch_commit(&b, &res);
    if (r == 0 && uid_r)
        *uid_r = res.first_uid;
    return r;
}

/* The current, not expunged records of uids, read before anything is
 * appended (mailbox_find_uid() only sees the records mapped at lock
 * time). */
static size_t
snapshot_records(struct mailbox *src, const uint32_t *uids, size_t n,
                 struct index_record *recs)
{
    size_t i, count = 0;

    for (i = 0; i < n; i++) {
        long idx = mailbox_find_uid(src, uids[i]);

        if (idx < 0 || mailbox_read_record(src, (uint32_t)idx, &recs[count])
            || (recs[count].system_flags & FLAG_INT_EXPUNGED))
            continue;
        count++;
    }
    return count;
}

int
append_copy(struct mailbox *src, const uint32_t *uids, size_t n,
            struct mailbox *dst, struct quota_db *qdb, unsigned flags,
            struct append_result *res_r, uint32_t *src_uids_r)
{
    struct append_batch *b = NULL;
    struct index_record *recs;
    int same = src == dst;
    int src_first = !same && strcmp(mailbox_path(src), mailbox_path(dst)) < 0;
    size_t i, count;
    int r;

    if (src_first && (r = mailbox_lock(src, MAILBOX_SHARED)) != 0)
        return r;
    r = append_batch_begin(dst, qdb, flags, &b);
    if (r) {
        if (src_first)
            mailbox_unlock(src);
        return r;
    }
    if (!same && !src_first && (r = mailbox_lock(src, MAILBOX_SHARED)) != 0) {
        append_batch_abort(&b);
        return r;
    }
    recs = xcalloc(n ? n : 1, sizeof(*recs));
    count = snapshot_records(src, uids, n, recs);
    for (i = 0; r == 0 && i < count; i++) {
        r = append_batch_copy(b, src, &recs[i], NULL);
        if (r == 0 && src_uids_r)
            src_uids_r[i] = recs[i].uid;
    }
    free(recs);
    /* every file is linked or copied: the source can go */
    if (!same)
        mailbox_unlock(src);
    if (r) {
        append_batch_abort(&b);
        return r;
    }
    return append_batch_commit(&b, res_r);
}
