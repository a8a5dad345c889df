/* mailbox_sync.c: making a mailbox's changes durable, mailbox_commit()
 * and the group commit of mailbox_commit_unlock() (see mailbox.h for the
 * contract, mailbox_priv.h for the index layout they rely on). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "errors.h"
#include "log.h"
#include "mailbox_priv.h"
#include "strarray.h"

/* Byte of cyrus.cache whose OFD lock serialises the group syncs (byte 0
 * is the "in use" marker). */
#define SYNC_LOCK_BYTE 1
/* Message files the group sync keeps open at once (sync_files()). */
#define SYNC_FILES_AT_ONCE 64

/* From this many deferred message files on, one syncfs() of the
 * partition replaces their fsyncs: each fsync costs a device cache flush
 * (ext4 issues one even when the journal has nothing to commit), so 500
 * files of an XFER batch took 1.5 s one by one and 0.02-0.05 s with one
 * syncfs() (measured here, ext4 on virtio). syncfs() also writes other
 * processes' dirty data on that filesystem, which is why a commit of a
 * few messages keeps the per-file fsyncs. */
#define MAILBOX_SYNCFS_MIN 16

/* Make the files of mailbox_fsync_at_commit() durable. 0 or -1 (logged). */
static int
sync_deferred(struct mailbox *mb)
{
    size_t i;

    if (mb->sync_paths.count >= MAILBOX_SYNCFS_MIN) {
        /* Linux 5.8+ reports writeback errors of the filesystem here */
        if (syncfs(mb->index_fd) == 0)
            return 0;
        log_msg(LOG_WARNING, "mailbox %s: syncfs: %s; fsync each file",
                mb->path, strerror(errno));
    }
    for (i = 0; i < mb->sync_paths.count; i++) {
        if (mailbox_fsync_path(mb->sync_paths.data[i], 0) < 0) {
            log_msg(LOG_ERR, "mailbox %s: fsync %s: %s", mb->path,
                    mb->sync_paths.data[i], strerror(errno));
            return -1;
        }
    }
    return 0;
}

int
mailbox_commit(struct mailbox *mb)
{
    ASSERT(mb->lock == MAILBOX_EXCLUSIVE);
    if (!mb->dirty)
        return 0;
    /* order matters: data first, then the header that makes it visible.
     * Written together, the files cost one journal commit, not one each. */
    if (sync_deferred(mb) < 0)
        return ERR_IO;
    strarray_fini(&mb->sync_paths);
    if (mb->dir_dirty && mailbox_fsync_path(mb->path, 1) < 0)
        return ERR_IO;
    mb->dir_dirty = 0;
    if (fdatasync(mb->cache_fd) < 0 || fdatasync(mb->index_fd) < 0)
        return ERR_IO;
    if (mailbox_write_index_header(mb) < 0 || fdatasync(mb->index_fd) < 0)
        return ERR_IO;
    mb->dirty = 0;
    return 0;
}

/* Lock or unlock (type F_WRLCK, F_RDLCK, F_UNLCK) len bytes at start of
 * fd, waiting. */
static int
ofd_lock(int fd, short type, off_t start, off_t len)
{
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET,
                       .l_start = start, .l_len = len};

    while (fcntl(fd, F_OFD_SETLKW, &fl) < 0) {
        if (errno != EINTR)
            return -1;
    }
    return 0;
}

/* The sync marks (SYNC_MARKS_OFFSET): 0 and the record count below which
 * every message file is durable, or -1 while they are not kept yet. */
static int
read_sync_marks(const struct mailbox *mb, uint32_t *records_r)
{
    uint32_t marks[2];

    if (pread(mb->index_fd, marks, sizeof(marks), SYNC_MARKS_OFFSET)
            != (ssize_t)sizeof(marks)
        || marks[0] != SYNC_MARKS_MAGIC)
        return -1;
    *records_r = marks[1];
    return 0;
}

/* Start writing out fd's dirty pages from offset on (Linux), without
 * waiting. See sync_files(). */
static void
write_start(int fd, off_t offset)
{
#ifdef SYNC_FILE_RANGE_WRITE
    (void)sync_file_range(fd, offset, 0, SYNC_FILE_RANGE_WRITE);
#else
    (void)fd;
    (void)offset;
#endif
}

/* Wait for the writes write_start() began (and write what is left). */
static void
write_wait(int fd)
{
#ifdef SYNC_FILE_RANGE_WRITE
    (void)sync_file_range(fd, 0, 0,
                          SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE
                              | SYNC_FILE_RANGE_WAIT_AFTER);
#else
    (void)fd;
#endif
}

/* The message files of records [from, to) of the index, as read from
 * the file (not the mapping, which may be older). Appends to paths. */
static int
pending_paths(struct mailbox *mb, uint32_t from, uint32_t to,
              struct strarray *paths)
{
    struct buf path = BUF_INITIALIZER;
    char raw[INDEX_RECORD_SIZE];
    struct index_record rec;
    uint32_t i;

    for (i = from; i < to; i++) {
        off_t off = INDEX_HEADER_SIZE + (off_t)i * INDEX_RECORD_SIZE;

        if (pread(mb->index_fd, raw, sizeof(raw), off) != (ssize_t)sizeof(raw))
            return -1;
        mailbox_record_decode(raw, &rec);
        mailbox_message_path(mb, rec.uid, &path);
        strarray_append(paths, buf_cstring(&path));
    }
    buf_free(&path);
    return 0;
}

/* Make the message files in paths, the directory, the cache and the
 * index durable, in that order as far as it matters: the message files,
 * cache blobs and records are written out and their fsyncs done before
 * the index header (which counts them) is written, except when the new
 * records share the header's page. A file that is gone (expunged and
 * unlinked since) is skipped.
 *
 * Why write everything out first (Linux, ext4): fdatasync of a file that
 * grew commits the filesystem journal, and with delayed allocation (and
 * unwritten extents converted when the write completes) each file's
 * blocks and size would otherwise land in a journal transaction of their
 * own, one commit per file. Written out together and waited for, they
 * all join the transaction that also holds the new directory entries:
 * the first fsync below commits it and the others only flush the disk's
 * cache. */
static int
sync_files(struct mailbox *mb, const struct strarray *paths,
           uint32_t first_record)
{
    off_t from = INDEX_HEADER_SIZE + (off_t)first_record * INDEX_RECORD_SIZE;
    long page = sysconf(_SC_PAGESIZE);
    int fds[SYNC_FILES_AT_ONCE];
    size_t start = 0, n, i;
    int r = 0;

    write_start(mb->cache_fd, 0);
    /* the records, not the header's page if they can be told apart */
    if (page > 0 && from >= page)
        from -= from % page;
    else
        from = 0;
    write_start(mb->index_fd, from);
    /* Many files (an XFER or MULTIAPPEND batch): one syncfs() instead,
     * as sync_deferred() does. Else in slices, so that a big batch stays
     * below the fd limit. */
    if (paths->count >= MAILBOX_SYNCFS_MIN) {
        if (syncfs(mb->index_fd) == 0)
            start = paths->count;
        else
            log_msg(LOG_WARNING, "mailbox %s: syncfs: %s; fsync each file",
                    mb->path, strerror(errno));
    }
    for (; r == 0 && start < paths->count; start += n) {
        n = paths->count - start;
        if (n > SYNC_FILES_AT_ONCE)
            n = SYNC_FILES_AT_ONCE;
        for (i = 0; i < n; i++) {
            const char *f = paths->data[start + i];

            fds[i] = open(f, O_RDONLY | O_CLOEXEC);
            if (fds[i] < 0 && errno != ENOENT) {
                log_msg(LOG_ERR, "mailbox %s: open %s: %s", mb->path, f,
                        strerror(errno));
                r = ERR_IO;
            }
            if (fds[i] >= 0)
                write_start(fds[i], 0);
        }
        for (i = 0; i < n; i++) {
            if (fds[i] >= 0)
                write_wait(fds[i]);
        }
        if (start == 0) {
            write_wait(mb->cache_fd);
            write_wait(mb->index_fd);
        }
        for (i = 0; i < n; i++) {
            if (r == 0 && fds[i] >= 0 && fdatasync(fds[i]) < 0) {
                log_msg(LOG_ERR, "mailbox %s: fdatasync %s: %s", mb->path,
                        paths->data[start + i], strerror(errno));
                r = ERR_IO;
            }
            if (fds[i] >= 0)
                close(fds[i]);
        }
    }
    if (paths->count == 0 || paths->count >= MAILBOX_SYNCFS_MIN) {
        write_wait(mb->cache_fd);
        write_wait(mb->index_fd);
    }
    if (r == 0
        && (mailbox_fsync_path(mb->path, 1) < 0 || fdatasync(mb->cache_fd) < 0
            || fdatasync(mb->index_fd) < 0)) {
        log_msg(LOG_ERR, "mailbox %s: sync: %s", mb->path, strerror(errno));
        r = ERR_IO;
    }
    return r;
}

/* Make every commit up to seq durable, unless another process already
 * did (see mailbox_commit_unlock()). Called unlocked. */
static int
sync_upto(struct mailbox *mb, uint64_t seq)
{
    struct strarray paths = STRARRAY_INITIALIZER;
    uint64_t synced = 0, upto = seq;
    uint32_t marked = 0, nrec = 0;
    int have_marks, r = 0;
    struct disk_header h;

    if (ofd_lock(mb->cache_fd, F_WRLCK, SYNC_LOCK_BYTE, 1) < 0)
        return ERR_IO;
    if (pread(mb->index_fd, &synced, sizeof(synced), SYNCED_SEQ_OFFSET)
        != (ssize_t)sizeof(synced))
        synced = 0;
    if (synced >= seq)
        goto done; /* someone's fsyncs already covered our writes */
    have_marks = read_sync_marks(mb, &marked) == 0;
    /* Every commit up to the header's current commit_seq has written all
     * it had to (its writer held the exclusive lock until then), so the
     * fsyncs below cover them all: read it, and the records it counts,
     * under a shared lock. */
    if (ofd_lock(mb->index_fd, F_RDLCK, 0, 0) < 0) {
        r = ERR_IO;
        goto done;
    }
    if (pread(mb->index_fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h)) {
        if (h.commit_seq > upto)
            upto = h.commit_seq;
        nrec = h.c.num_records;
    } else {
        r = ERR_IO;
    }
    /* with the marks kept, committers left their message files to us */
    if (r == 0 && have_marks && marked < nrec
        && pending_paths(mb, marked, nrec, &paths) < 0)
        r = ERR_IO;
    ofd_lock(mb->index_fd, F_UNLCK, 0, 0);
    if (!have_marks)
        marked = 0; /* no idea where the new records begin */
    else if (marked > nrec)
        marked = nrec;
    if (r == 0)
        r = sync_files(mb, &paths, marked);
    if (r == 0) {
        const uint32_t marks[2] = {SYNC_MARKS_MAGIC, nrec};

        /* harmless if lost: the next commit syncs again */
        if (pwrite(mb->index_fd, marks, sizeof(marks), SYNC_MARKS_OFFSET)
                != (ssize_t)sizeof(marks)
            || pwrite(mb->index_fd, &upto, sizeof(upto), SYNCED_SEQ_OFFSET)
                   != (ssize_t)sizeof(upto))
            log_msg(LOG_WARNING, "mailbox %s: recording sync: %s", mb->path,
                    strerror(errno));
    }
done:
    ofd_lock(mb->cache_fd, F_UNLCK, SYNC_LOCK_BYTE, 1);
    strarray_fini(&paths);
    return r;
}

int
mailbox_commit_unlock(struct mailbox *mb)
{
    struct disk_header h;
    uint32_t marked = 0;
    uint64_t seq;
    size_t i;
    int marks;

    ASSERT(mb->lock == MAILBOX_EXCLUSIVE);
    if (!mb->dirty) {
        mailbox_unlock(mb);
        return 0;
    }
    /* Message files whose fsync was deferred (mailbox_fsync_at_commit())
     * must be durable before the commit is acknowledged, and written out
     * before the header counting them. Once the sync marks are kept, the
     * group sync sees to that for every committer; before, each one
     * syncs its own here, under the lock (one journal commit for all of
     * them, or one syncfs() for many). */
    marks = read_sync_marks(mb, &marked) == 0;
    for (i = 0; marks && i < mb->sync_paths.count; i++) {
        struct stat sb;
        const char *f = mb->sync_paths.data[i];

        /* only make sure the file is still there: a commit never
         * publishes a record without its message */
        if (stat(f, &sb) < 0) {
            log_msg(LOG_ERR, "mailbox %s: stat %s: %s", mb->path, f,
                    strerror(errno));
            mailbox_unlock(mb);
            return ERR_IO;
        }
    }
    if (!marks && sync_deferred(mb) < 0) {
        mailbox_unlock(mb);
        return ERR_IO;
    }
    /* the records on disk before ours (the header is not written yet) */
    if (pread(mb->index_fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
        h.c.num_records = UINT32_MAX;
    if (mailbox_write_index_header(mb) < 0) {
        mailbox_unlock(mb);
        return ERR_IO;
    }
    /* Nothing deferred (links of synced stages, copies: their data is
     * durable) and nothing pending before us: the marks may move past our
     * records, so that no sync fdatasyncs their files again (a COPY of
     * thousands). A concurrent sync may set them back, which is safe. */
    if (marks && mb->sync_paths.count == 0 && marked == h.c.num_records
        && mb->counts.num_records > marked) {
        const uint32_t m[2] = {SYNC_MARKS_MAGIC, mb->counts.num_records};

        if (pwrite(mb->index_fd, m, sizeof(m), SYNC_MARKS_OFFSET)
            != (ssize_t)sizeof(m))
            log_msg(LOG_WARNING, "mailbox %s: moving sync marks: %s", mb->path,
                    strerror(errno)); /* harmless */
    }
    seq = mb->commit_seq;
    mb->dirty = 0;
    mb->dir_dirty = 0;
    mailbox_unlock(mb);
    return sync_upto(mb, seq);
}
