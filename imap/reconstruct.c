/* reconstruct.c: rebuild index and cache from spool files (reconstruct.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "append.h"
#include "errors.h"
#include "log.h"
#include "mailbox.h"
#include "reconstruct.h"
#include "strarray.h"
#include "util.h"
#include "xmalloc.h"

#define SCRATCH_DIR "cyrus.reconstruct.NEW"

static const char *const moved_files[] = {"cyrus.cache", "cyrus.index",
                                          "cyrus.header"};

/* What survives of the old index. */
struct old_state {
    int valid;
    char *uniqueid;
    char *quotaroot;
    struct mailbox_counts counts;
    struct index_record *recs; /* ascending UID */
    uint32_t nrecs;
    struct strarray flagnames; /* index = user flag bit */
};

static void
old_state_fini(struct old_state *o)
{
    free(o->uniqueid);
    free(o->quotaroot);
    free(o->recs);
    strarray_fini(&o->flagnames);
}

/* Read the old index of mb (locked). */
static void
old_state_read(struct mailbox *mb, struct old_state *o)
{
    uint32_t i;
    int f;

    o->counts = *mailbox_counts(mb);
    o->uniqueid = xstrdup(mailbox_uniqueid(mb));
    o->quotaroot = mailbox_quotaroot(mb) ? xstrdup(mailbox_quotaroot(mb))
                                         : NULL;
    o->recs = xmalloc(((size_t)o->counts.num_records + 1) * sizeof(*o->recs));
    for (i = 0; i < o->counts.num_records; i++) {
        if (mailbox_read_record(mb, i, &o->recs[o->nrecs]) == 0)
            o->nrecs++;
    }
    for (f = 0; f < MAILBOX_MAX_USER_FLAGS; f++) {
        const char *n = mailbox_user_flag_name(mb, f);

        strarray_append(&o->flagnames, n ? n : "");
    }
    o->valid = 1;
}

static const struct index_record *
old_find(const struct old_state *o, uint32_t uid)
{
    uint32_t lo = 0, hi = o->nrecs;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;

        if (o->recs[mid].uid == uid)
            return &o->recs[mid];
        if (o->recs[mid].uid < uid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

/* The UIDs of the `<uid>.` regular files in path, ascending. */
static int
scan_spool(const char *path, uint32_t **uids_r, size_t *n_r)
{
    DIR *d = opendir(path);
    struct dirent *de;
    uint32_t *uids = NULL;
    size_t n = 0, alloc = 0;

    if (d == NULL)
        return errno == ENOENT || errno == ENOTDIR ? ERR_NOMAILBOX : ERR_IO;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        uint64_t v;
        struct stat sb;

        if (len < 2 || de->d_name[len - 1] != '.' || de->d_name[0] == '0')
            continue;
        if (util_parse_u64(de->d_name, len - 1, UINT32_MAX, &v) < 0 || v == 0)
            continue;
        if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0
            || !S_ISREG(sb.st_mode))
            continue;
        if (n == alloc) {
            alloc = alloc ? alloc * 2 : 64;
            uids = xrealloc(uids, alloc * sizeof(*uids));
        }
        uids[n++] = (uint32_t)v;
    }
    closedir(d);
    if (n > 1)
        qsort(uids, n, sizeof(*uids), cmp_u32);
    *uids_r = uids;
    *n_r = n;
    return 0;
}

/* Stage spool file path/<uid>. into scratch. 0, ERR_BADMSG (skip it) or
 * ERR_IO. *mtime_r: the file's mtime. */
static int
stage_file(const char *path, uint32_t uid, const char *scratch,
           struct append_stage **st_r, int64_t *mtime_r)
{
    struct buf fname = BUF_INITIALIZER;
    struct stat sb;
    const char *base = NULL;
    int fd, r;

    buf_printf(&fname, "%s/%u.", path, uid);
    fd = open(buf_cstring(&fname), O_RDONLY | O_CLOEXEC);
    buf_free(&fname);
    if (fd < 0 || fstat(fd, &sb) < 0) {
        if (fd >= 0)
            close(fd);
        return ERR_IO;
    }
    *mtime_r = (int64_t)sb.st_mtime;
    if (sb.st_size == 0) {
        close(fd);
        return ERR_BADMSG;
    }
    base = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (base == MAP_FAILED)
        return ERR_IO;
    r = append_stage_from_memory(scratch, 0, base, (size_t)sb.st_size, st_r);
    munmap((void *)base, (size_t)sb.st_size);
    return r;
}

/* The keywords (names) set in rec. */
static void
record_keywords(const struct old_state *o, const struct index_record *rec,
                struct strarray *out)
{
    int f;

    for (f = 0; f < MAILBOX_MAX_USER_FLAGS; f++) {
        if ((rec->user_flags[f / 32] & (1u << (f % 32)))
            && o->flagnames.data[f][0])
            strarray_append(out, o->flagnames.data[f]);
    }
}

struct build {
    const char *path;
    const char *scratch;
    const struct old_state *old;
    struct reconstruct_stats *st;
    uint32_t *expunged; /* UIDs to mark expunged after the commit */
    size_t nexpunged;
    uint32_t max_uid;
};

/* Append every spool file to the new mailbox nmb, in one batch. */
static int
build_records(struct build *bd, struct mailbox *nmb, const uint32_t *uids,
              size_t n)
{
    struct append_batch *b = NULL;
    size_t i;
    int r;

    r = append_batch_begin(nmb, NULL, APPEND_IGNORE_QUOTA, &b);
    if (r)
        return r;
    for (i = 0; i < n; i++) {
        struct append_stage *stage = NULL;
        struct strarray kw = STRARRAY_INITIALIZER;
        struct append_meta meta;
        const struct index_record *orec = old_find(bd->old, uids[i]);
        int64_t mtime = 0;

        r = stage_file(bd->path, uids[i], bd->scratch, &stage, &mtime);
        if (r == ERR_BADMSG || r == ERR_TOOBIG) {
            log_msg(LOG_WARNING, "reconstruct %s: %u. is not a message",
                    bd->path, uids[i]);
            bd->st->bad++;
            r = 0;
            continue;
        }
        if (r)
            break;
        memset(&meta, 0, sizeof(meta));
        meta.internaldate = mtime;
        if (orec) {
            meta.system_flags = orec->system_flags & FLAG_SYSTEM_MASK;
            meta.internaldate = orec->internaldate;
            record_keywords(bd->old, orec, &kw);
            meta.keywords = kw.count ? &kw : NULL;
        }
        /* the batch holds nmb's exclusive lock: set the UID it gets */
        r = mailbox_set_next_uid(nmb, uids[i]);
        if (r == 0)
            r = append_batch_add(b, stage, &meta, NULL);
        append_stage_free(&stage);
        strarray_fini(&kw);
        if (r)
            break;
        if (orec && (orec->system_flags & FLAG_INT_EXPUNGED)) {
            bd->expunged[bd->nexpunged++] = uids[i];
            bd->st->expunged++;
        }
        if (orec)
            bd->st->kept++;
        else
            bd->st->added++;
        bd->max_uid = uids[i];
    }
    if (r) {
        append_batch_abort(&b);
        return r;
    }
    return append_batch_commit(&b, NULL);
}

/* Expunged marks, UID high-water mark, \Recent: after the batch. */
static int
finish_counts(struct build *bd, struct mailbox *nmb)
{
    const struct old_state *o = bd->old;
    uint32_t last;
    size_t i;
    int r = mailbox_lock(nmb, MAILBOX_EXCLUSIVE);

    if (r)
        return r;
    for (i = 0; i < bd->nexpunged && r == 0; i++) {
        long idx = mailbox_find_uid(nmb, bd->expunged[i]);
        struct index_record rec;

        if (idx < 0 || mailbox_read_record(nmb, (uint32_t)idx, &rec) < 0)
            continue;
        rec.system_flags |= FLAG_INT_EXPUNGED;
        r = mailbox_rewrite_record(nmb, (uint32_t)idx, &rec);
    }
    last = mailbox_counts(nmb)->last_uid;
    if (r == 0 && o->valid && o->counts.last_uid > last)
        r = mailbox_set_next_uid(nmb, o->counts.last_uid + 1);
    if (r == 0 && o->valid) {
        mailbox_set_recent_uid(nmb, o->counts.recent_uid);
        if (o->counts.pop3_last_login)
            mailbox_set_pop3_last_login(nmb, o->counts.pop3_last_login);
    }
    if (r == 0)
        r = mailbox_commit(nmb);
    bd->st->last_uid = mailbox_counts(nmb)->last_uid;
    bd->st->uidvalidity = mailbox_counts(nmb)->uidvalidity;
    mailbox_unlock(nmb);
    return r;
}

static int
fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int r;

    if (fd < 0)
        return -1;
    r = fsync(fd);
    close(fd);
    return r;
}

/* Move the rebuilt files from scratch into path. */
static int
move_into_place(const char *path, const char *scratch, const uint32_t *uids,
                size_t n)
{
    struct buf from = BUF_INITIALIZER, to = BUF_INITIALIZER;
    size_t i;
    int r = 0;

    for (i = 0; i < n && r == 0; i++) {
        buf_reset(&from);
        buf_reset(&to);
        buf_printf(&from, "%s/%u.", scratch, uids[i]);
        buf_printf(&to, "%s/%u.", path, uids[i]);
        /* a skipped (bad) file has no counterpart: leave it */
        if (rename(buf_cstring(&from), buf_cstring(&to)) < 0 && errno != ENOENT)
            r = ERR_IO;
    }
    if (r == 0 && fsync_dir(path) < 0)
        r = ERR_IO;
    for (i = 0; i < ARRAY_SIZE(moved_files) && r == 0; i++) {
        buf_reset(&from);
        buf_reset(&to);
        buf_printf(&from, "%s/%s", scratch, moved_files[i]);
        buf_printf(&to, "%s/%s", path, moved_files[i]);
        if (rename(buf_cstring(&from), buf_cstring(&to)) < 0)
            r = ERR_IO;
    }
    if (r == 0 && fsync_dir(path) < 0)
        r = ERR_IO;
    if (r)
        log_msg(LOG_ERR, "reconstruct %s: moving %s: %s", path,
                buf_cstring(&from), strerror(errno));
    buf_free(&from);
    buf_free(&to);
    return r;
}

/* uniqueid when nothing else says: the directory's last component (the
 * uuid layout names directories after the uniqueid). */
static char *
guess_uniqueid(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;

    return xstrdup(*name ? name : "reconstructed");
}

int
reconstruct_mailbox(const char *path, const struct reconstruct_fallback *fb,
                    struct reconstruct_stats *stats_r, const char **error_r)
{
    static const struct reconstruct_fallback nofb;
    struct reconstruct_stats stats;
    struct old_state old;
    struct mailbox *omb = NULL, *nmb = NULL;
    struct buf scratch = BUF_INITIALIZER;
    struct build bd;
    uint32_t *uids = NULL;
    size_t n = 0;
    char *uniqueid = NULL;
    const char *err = NULL;
    uint32_t uidvalidity;
    uint64_t modseq;
    int r;

    if (fb == NULL)
        fb = &nofb;
    memset(&stats, 0, sizeof(stats));
    memset(&old, 0, sizeof(old));
    memset(&bd, 0, sizeof(bd));
    r = scan_spool(path, &uids, &n);
    if (r) {
        err = r == ERR_NOMAILBOX ? "no such mailbox directory"
                                 : "cannot read the mailbox directory";
        goto done;
    }
    /* the old index, locked for the whole rebuild */
    if (mailbox_open(path, &omb) == 0
        && mailbox_lock(omb, MAILBOX_EXCLUSIVE) == 0) {
        old_state_read(omb, &old);
    } else {
        mailbox_close(&omb);
        stats.from_scratch = 1;
    }
    if (old.valid) {
        uniqueid = xstrdup(old.uniqueid);
        uidvalidity = old.counts.uidvalidity;
        modseq = old.counts.highestmodseq;
    } else {
        uniqueid = fb->uniqueid ? xstrdup(fb->uniqueid) : guess_uniqueid(path);
        uidvalidity = fb->uidvalidity ? fb->uidvalidity : (uint32_t)time(NULL);
        modseq = fb->createdmodseq;
    }
    buf_printf(&scratch, "%s/%s", path, SCRATCH_DIR);
    mailbox_destroy(buf_cstring(&scratch)); /* left by an earlier crash */
    r = mailbox_create(buf_cstring(&scratch), uniqueid,
                       old.valid ? old.quotaroot : fb->quotaroot, uidvalidity,
                       modseq);
    if (r == 0)
        r = mailbox_open(buf_cstring(&scratch), &nmb);
    if (r) {
        err = "cannot create the scratch mailbox";
        goto done;
    }
    bd.path = path;
    bd.scratch = buf_cstring(&scratch);
    bd.old = &old;
    bd.st = &stats;
    bd.expunged = xmalloc((n + 1) * sizeof(uint32_t));
    r = build_records(&bd, nmb, uids, n);
    if (r == 0)
        r = finish_counts(&bd, nmb);
    /* user flag names are written with cyrus.header at commit */
    mailbox_close(&nmb);
    if (r) {
        err = "cannot build the new index";
        goto done;
    }
    r = move_into_place(path, buf_cstring(&scratch), uids, n);
    if (r) {
        err = "cannot move the new index into place";
        goto done;
    }
    if (old.valid) {
        uint32_t i;

        for (i = 0; i < old.nrecs; i++) {
            if (old.recs[i].uid
                && bsearch(&old.recs[i].uid, uids, n, sizeof(*uids), cmp_u32)
                       == NULL)
                stats.dropped++;
        }
    }
    if (stats_r)
        *stats_r = stats;
done:
    if (buf_len(&scratch))
        mailbox_destroy(buf_cstring(&scratch));
    mailbox_close(&nmb);
    mailbox_close(&omb);
    old_state_fini(&old);
    free(bd.expunged);
    free(uniqueid);
    free(uids);
    buf_free(&scratch);
    if (error_r)
        *error_r = err;
    return r;
}
