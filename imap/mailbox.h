/* mailbox.h: one mailbox on disk: spool files, index, cache, header.
 *
 * A mailbox is a directory holding one file per message (`<uid>.`), the
 * index `cyrus.index` (a fixed header and one fixed-size record per message
 * in ascending UID order), the append-only cache `cyrus.cache` (one opaque
 * blob per message, written by the caller: see imap/msgcache.h) and the
 * text file `cyrus.header` (uniqueid, quota root, user flag names).
 *
 * Concurrency: every process opens the mailbox itself. Readers take a shared
 * lock, writers an exclusive one (open-file-description locks on the index,
 * so two opens in one process do not interfere). Index records are read
 * through a read-only shared mapping; mailbox_lock() refreshes it.
 *
 * Durability: mailbox_commit() makes every change since the lock durable
 * (message files, cache, records, then the header) before it returns 0;
 * a crash at any point leaves the index consistent: records past the
 * header's count are ignored, and no acknowledged message is lost. */
#ifndef MAILBOX_H
#define MAILBOX_H

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "buf.h"

#define MAILBOX_MAX_USER_FLAGS 128

/* System flags (bits as Cyrus). */
#define FLAG_ANSWERED     (1u << 0)
#define FLAG_FLAGGED      (1u << 1)
#define FLAG_DELETED      (1u << 2)
#define FLAG_DRAFT        (1u << 3)
#define FLAG_SEEN         (1u << 4)
#define FLAG_SYSTEM_MASK  0x1fu
/* Internal flags. */
#define FLAG_INT_EXPUNGED (1u << 31)
#define FLAG_INT_UNLINKED (1u << 30)

struct index_record {
    uint32_t uid;
    uint32_t system_flags;
    int64_t internaldate;
    int64_t sentdate;
    int64_t savedate;
    uint64_t size;
    uint32_t header_size;
    uint32_t cache_len;
    uint64_t cache_offset;
    uint64_t modseq;
    uint32_t user_flags[MAILBOX_MAX_USER_FLAGS / 32];
    uint8_t guid[20];
};

/* Summary counters kept in the index header. */
struct mailbox_counts {
    uint32_t uidvalidity;
    uint32_t last_uid;      /* UIDNEXT - 1 */
    uint32_t recent_uid;    /* highest UID already announced as \Recent */
    uint32_t num_records;   /* records in the index, expunged ones included */
    uint32_t exists;        /* records not expunged */
    uint32_t unseen;        /* not expunged and not \Seen */
    uint32_t deleted;       /* not expunged and \Deleted */
    uint32_t generation;    /* bumped when the index is rewritten */
    uint64_t highestmodseq;
    uint64_t createdmodseq;
    uint64_t quota_used;    /* bytes of non-expunged messages */
    int64_t last_appenddate;
    int64_t pop3_last_login;
};

struct mailbox;

enum mailbox_lock {
    MAILBOX_UNLOCKED = 0,
    MAILBOX_SHARED,
    MAILBOX_EXCLUSIVE
};

/* Create the directory (and parents) and an empty mailbox in it. Fails with
 * ERR_EXISTS if a mailbox is already there. */
int mailbox_create(const char *path, const char *uniqueid,
                   const char *quotaroot, uint32_t uidvalidity,
                   uint64_t createdmodseq);
/* Open an existing mailbox (ERR_NOMAILBOX if absent, ERR_IO if damaged). */
int mailbox_open(const char *path, struct mailbox **mb_r);
void mailbox_close(struct mailbox **mbp);
/* Remove the mailbox directory and everything in it. */
int mailbox_destroy(const char *path);

/* Lock and refresh the mapping. Locks do not nest. */
int mailbox_lock(struct mailbox *mb, enum mailbox_lock mode);
void mailbox_unlock(struct mailbox *mb);
/* Try to become the only process with this mailbox open (for compaction):
 * 1 if no other process holds it open, else 0. */
int mailbox_is_alone(struct mailbox *mb);

const char *mailbox_path(const struct mailbox *mb);
/* Both stay valid until mailbox_close(), across mailbox_lock() refreshes,
 * as long as the header keeps the same value (the uniqueid never changes;
 * the quota root changes only with SETQUOTA on a parent). */
const char *mailbox_uniqueid(const struct mailbox *mb);
const char *mailbox_quotaroot(const struct mailbox *mb);
const struct mailbox_counts *mailbox_counts(const struct mailbox *mb);

/* Records (valid while locked): index 0 .. num_records-1. */
int mailbox_read_record(const struct mailbox *mb, uint32_t idx,
                        struct index_record *rec_r);
/* Index of the record with this UID or -1 (binary search). */
long mailbox_find_uid(const struct mailbox *mb, uint32_t uid);

/* Path of a message file. */
void mailbox_message_path(const struct mailbox *mb, uint32_t uid,
                          struct buf *path_r);
/* Map a message's bytes (read-only); *len_r is its size. Unmap with
 * mailbox_unmap_message(). */
int mailbox_map_message(const struct mailbox *mb, uint32_t uid,
                        const char **base_r, size_t *len_r);
void mailbox_unmap_message(const char *base, size_t len);
/* The cache blob of a record (valid while locked). */
int mailbox_cache_blob(struct mailbox *mb, const struct index_record *rec,
                       const char **blob_r, size_t *len_r);

/* ---- writing (exclusive lock held) ---- */

/* Append a message: writes the spool file, the cache blob and the record.
 * rec supplies flags, dates, size, header_size, guid; uid, modseq and
 * cache fields are filled in and returned. Not durable until commit. */
int mailbox_append(struct mailbox *mb, const char *msg, size_t len,
                   const char *cache, size_t cachelen,
                   struct index_record *rec);
/* Same, taking the message from an already-written file which is renamed
 * (same filesystem) into place. */
int mailbox_append_file(struct mailbox *mb, const char *tmppath,
                        const char *cache, size_t cachelen,
                        struct index_record *rec);
/* Same, but tmppath itself becomes the message file (renamed, so it is
 * gone from tmppath): one create and one rename per message instead of a
 * create, a link and an unlink. */
int mailbox_append_rename(struct mailbox *mb, const char *tmppath,
                          const char *cache, size_t cachelen,
                          struct index_record *rec);
/* The message file of uid (appended since the lock) has not been fsynced
 * yet: mailbox_commit() fsyncs it before anything that makes it visible,
 * mailbox_commit_unlock() before its header is durable.
 * Lets a group of appends pay for one journal commit instead of one per
 * message. Forgotten at unlock. */
void mailbox_fsync_at_commit(struct mailbox *mb, uint32_t uid);
/* Rewrite a record's flags (system + user) with a new modseq; expunging
 * sets FLAG_INT_EXPUNGED. Counters are kept right. */
int mailbox_rewrite_record(struct mailbox *mb, uint32_t idx,
                           struct index_record *rec);
/* Make the next append get UID uid (reconstruct keeps the UIDs its spool
 * files are named after): uid must be above last_uid; last_uid becomes
 * uid - 1. 0, or ERR_INVALID when uid <= last_uid or uid is 0. */
int mailbox_set_next_uid(struct mailbox *mb, uint32_t uid);
/* Give the next appended record exactly this modseq instead of
 * highestmodseq + 1 (XFER keeps the source's modseqs; 0: back to a fresh
 * one). highestmodseq rises to it when below, never falls. Applies to
 * one append only and is forgotten at unlock. Only for a mailbox nobody
 * else writes to yet (the XFER destination): a modseq below
 * highestmodseq breaks CONDSTORE's ordering for other sessions. */
void mailbox_set_next_modseq(struct mailbox *mb, uint64_t modseq);
/* Raise highestmodseq to modseq (nothing when it is not below). */
void mailbox_raise_highestmodseq(struct mailbox *mb, uint64_t modseq);
/* Announce \Recent up to uid. */
void mailbox_set_recent_uid(struct mailbox *mb, uint32_t uid);
void mailbox_set_pop3_last_login(struct mailbox *mb, int64_t when);
/* Make everything since the lock durable. */
int mailbox_commit(struct mailbox *mb);
/* Group commit: make everything since the lock visible, unlock, then
 * make it durable, sharing the fsyncs with other processes committing to
 * this mailbox at the same time. Returns 0 only when every change of this
 * commit is on disk (message links, cache, records, header), so a caller
 * may acknowledge after 0, exactly as after mailbox_commit(); the mailbox
 * is unlocked whatever the result.
 *
 * Message files left to the commit (mailbox_fsync_at_commit()) are
 * fsynced by the group sync, before the index (so one journal commit
 * covers file, directory entry, cache and records); the commit fails
 * with ERR_IO, before anything is visible, if one is already gone. In an
 * index written before the sync marks existed they are fsynced under the
 * lock first, as mailbox_commit() does, until a first sync starts the
 * marks.
 *
 * How: the header write (under the lock) gets the next commit sequence
 * number S. Then, under a per-mailbox sync lock, a process whose S is
 * already below the "synced up to" mark returns at once; otherwise it
 * reads the newest S' (every commit up to S' has finished writing) and
 * the records it counts, writes out and fdatasyncs the message files of
 * the records past the "records synced" mark, then runs one directory
 * fsync + cache and index fdatasync, which cover them all, and sets the
 * marks to S' and that record count. N deliveries waiting on one sync
 * share it; a single delivery pays one journal commit (ext4).
 *
 * Visibility and crash safety: other processes may see the changes
 * before they are durable (never acknowledged before that). A kill -9 at
 * any point loses nothing written before the header (the page cache
 * survives). A power loss before the sync may leave the header on disk
 * counting records whose message file, cache blob or record did not
 * reach it (the sync writes the header out last, but the kernel may
 * write that page earlier, and records in the header's own page go with
 * it; Cyrus's own commit does not order records before header either);
 * those messages were never acknowledged. Use mailbox_commit() where
 * that ordering matters. */
int mailbox_commit_unlock(struct mailbox *mb);
/* Drop expunged records and unlink their files; only when alone. */
int mailbox_compact(struct mailbox *mb);

/* User flags: index of a name (case-insensitive), creating it when asked
 * and there is room; -1 if absent or full. */
int mailbox_user_flag(struct mailbox *mb, const char *name, int create);
const char *mailbox_user_flag_name(const struct mailbox *mb, int idx);
/* Change the quota root stored in the header. */
int mailbox_set_quotaroot(struct mailbox *mb, const char *root);

#endif
