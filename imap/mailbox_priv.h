/* mailbox_priv.h: what mailbox.c (one mailbox on disk) and mailbox_sync.c
 * (making its changes durable: commit and group commit) share: the index
 * layout, struct mailbox and a few helpers. Only those two files include
 * it; everyone else uses mailbox.h. */
#ifndef MAILBOX_PRIV_H
#define MAILBOX_PRIV_H

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "mailbox.h"
#include "strarray.h"

#define INDEX_MAGIC       0x4379724du /* "CyrM" */
#define INDEX_VERSION     1
#define INDEX_HEADER_SIZE 128
#define INDEX_RECORD_SIZE 112

/* On-disk index header, native byte order, padded to INDEX_HEADER_SIZE.
 * commit_seq counts header writes (group commit, below); older indexes
 * have 0 there, which is fine. */
struct disk_header {
    uint32_t magic;
    uint32_t version;
    uint32_t header_size;
    uint32_t record_size;
    struct mailbox_counts c;
    uint64_t commit_seq;
};

/* Group commit (mailbox_commit_unlock()): the commit_seq up to which
 * every change is known to be on disk, in the index header's padding.
 * Written only by the process holding SYNC_LOCK_BYTE (mailbox_sync.c),
 * never by mailbox_write_index_header() (which stops at sizeof(struct
 * disk_header)), and never fsynced on its own: it sits in the same
 * sector as commit_seq, so whatever reaches the disk, synced <= commit_seq
 * holds there too and a later commit (with a higher commit_seq) is never
 * wrongly skipped. */
#define SYNCED_SEQ_OFFSET 120
/* Next to it, in the same sector: SYNC_MARKS_MAGIC and the number of
 * records whose message files are known to be durable (every record below
 * it). While the magic is absent (indexes written before it existed, or
 * just compacted), each committer fsyncs its own message files under the
 * lock, before its header; once a sync has set it, the group sync
 * fsyncs the message files of the records past it instead, for everyone
 * (mailbox_commit_unlock()). Written by the group sync (holding
 * SYNC_LOCK_BYTE), and moved forward by a committer whose own files are
 * durable already when no record before its own is pending. Setting it
 * too low is always safe (files are synced again); too high never
 * happens. */
#define SYNC_MARKS_OFFSET 112
#define SYNC_MARKS_MAGIC  0x53796e63u /* "Sync" */
_Static_assert(sizeof(struct disk_header) <= SYNC_MARKS_OFFSET,
               "the sync marks must lie past the header");

struct mailbox {
    char *path;
    char *uniqueid;
    char *quotaroot;
    struct strarray flagnames;
    ino_t header_ino;      /* identity of the cyrus.header last read: it is */
    struct timespec header_mtim; /* replaced by rename(), so a change shows */
    int index_fd;
    int cache_fd;
    enum mailbox_lock lock;
    struct mailbox_counts counts;
    uint64_t commit_seq;   /* of the header last read or written */
    const char *map;       /* index mapping */
    size_t map_len;
    const char *cache_map;
    size_t cache_map_len;
    uint64_t cache_end;    /* where the next blob goes */
    int dirty;             /* header needs writing at commit */
    struct strarray sync_paths; /* message files to fsync at commit */
    int dir_dirty;
    uint64_t next_modseq;  /* the next append's modseq (XFER), or 0 */
};

/* Open path (a directory if dir) read-only and fsync it. 0, or -1 with
 * errno set. */
int mailbox_fsync_path(const char *path, int dir);

/* Write mb->counts to the index header with the next commit_seq (which
 * it increments), not fsynced: only sizeof(struct disk_header) bytes,
 * never the padding after it (SYNCED_SEQ_OFFSET, SYNC_MARKS_OFFSET).
 * 0 or ERR_IO. */
int mailbox_write_index_header(struct mailbox *mb);

/* Decode the INDEX_RECORD_SIZE bytes of one index record at p. */
void mailbox_record_decode(const char *p, struct index_record *rec);

#endif
