/* append.h: the one way messages enter a mailbox: IMAP APPEND (and
 * MULTIAPPEND), COPY and MOVE, LMTP delivery and XFER.
 *
 * Two steps.
 *
 * 1. Stage the message once (struct append_stage): the bytes arrive from
 *    memory or in chunks (an IMAP literal, LMTP DATA after dot-unstuffing)
 *    and go to a temporary file in a staging directory on the partition
 *    (e.g. "<partition>/stage."), with every bare LF turned into CRLF.
 *    Finishing the stage fsyncs the file (or, when deferred, leaves that
 *    to the mailbox commits) and computes what every index record needs:
 *    size, header size, GUID (SHA-1 of the stored bytes), the sent date
 *    and the cache record (msgcache.h) from one parse.
 *    A NUL byte anywhere refuses the message (ERR_BADMSG); more than
 *    maxsize stored bytes refuses it (ERR_TOOBIG).
 *
 * 2. Append it to one or more mailboxes, each in a batch (struct
 *    append_batch): the batch holds the mailbox's exclusive lock, appends
 *    one or many messages (MULTIAPPEND, COPY of a set) and commits them
 *    with a single mailbox_commit(), so the fsyncs are paid once per batch
 *    and not once per message. The staged file is hard-linked into each
 *    mailbox (same filesystem) or copied (another filesystem), so one
 *    LMTP message to many recipients is written and fsynced once.
 *    append_one() is begin + add + commit for the common single case.
 *
 * Durability: append_batch_commit() returns 0 only when every message of
 * the batch is on disk and visible (mailbox_commit()); only then may the
 * caller answer OK / 250. Until then nothing of the batch is visible to
 * anyone, and a crash (even kill -9 halfway through a batch) leaves the
 * mailbox as it was at its last commit: the extra records past the index
 * header's count are ignored and overwritten by the next append.
 *
 * Quota: when a batch is given a quota_db and the mailbox has a quota
 * root (mailbox_quotaroot()), every add checks that the batch so far
 * still fits the root's STORAGE and MESSAGE limits (ERR_QUOTA otherwise,
 * the message is not added and the batch stays usable), and the commit
 * charges the batch's total in one quotas.db transaction (enforcing the
 * limits again, since another process may have charged meanwhile)
 * *before* committing the mailbox. A crash between the two, or a failed
 * mailbox commit (after which the messages may or may not be visible),
 * leaves usage too high, never too low; `quota -f` repairs it (quota.h).
 * APPEND_IGNORE_QUOTA (admins, XFER, LMTP without lmtp_strict_quota... as the
 * caller decides) skips the checks but still charges.
 *
 * Group commit: append_batch_commit() uses mailbox_commit_unlock(), so
 * concurrent committers (lmtpd processes delivering to one mailbox, IMAP
 * APPENDs) append under the lock but share the directory fsync and the
 * cache/index fdatasyncs outside it: one sync covers every commit whose
 * header was written before it (mailbox.h). The staged file is
 * fdatasynced once, before it is linked anywhere, unless the stage is
 * deferred (append_stage_defer_fsync(): IMAP APPEND, lmtpd), in which
 * case each mailbox's group sync fdatasyncs its link together with the
 * cache and index, so that a single delivery costs one journal commit.
 * Not done (yet): per-session batching (one lmtpd keeping a batch open
 * across the messages of one connection).
 *
 * Errors: ERR_BADMSG, ERR_TOOBIG, ERR_QUOTA, ERR_NOTSUPPORTED (the
 * mailbox already has MAILBOX_MAX_USER_FLAGS user flags and a new name is
 * needed), ERR_INVALID (misuse), ERR_IO (logged). */
#ifndef APPEND_H
#define APPEND_H

#include <stddef.h>
#include <stdint.h>

#include "mailbox.h"
#include "message.h"
#include "quota.h"
#include "strarray.h"

/* ---- step 1: staging ---- */

struct append_stage;

/* Start staging a message in a new temporary file in stagedir (created
 * with its parents if missing; it must be on the same filesystem as the
 * mailboxes for hard links). maxsize: largest accepted stored size in
 * bytes, 0 for no limit. 0 and *st_r, or ERR_IO. */
int append_stage_new(const char *stagedir, uint64_t maxsize,
                     struct append_stage **st_r);
/* Add the next len bytes of the message (any chunking; a CR at the end
 * of one chunk and the LF at the start of the next are one CRLF).
 * Returns 0, or the first error so far (ERR_BADMSG, ERR_TOOBIG, ERR_IO);
 * after an error the bytes are dropped but the caller may keep feeding
 * (to read past the rest of a literal), and the error sticks. */
int append_stage_write(struct append_stage *st, const char *data, size_t len);
/* Before finish: leave the fsync of the staged file to the commit of the
 * batches it is added to (append_batch_add() has the mailbox fsync its
 * link at commit), so that a batch of many messages, or one message with
 * its mailbox's cache and index, pays for one journal commit. Finish
 * then only starts writing the file out. Only for stages that go through
 * append_batch_add() or append_batch_take(). */
void append_stage_defer_fsync(struct append_stage *st);
/* End of the message: flush, fsync (unless deferred), map and parse. Returns 0
 * or the sticky error. After 0 the accessors below are valid. */
int append_stage_finish(struct append_stage *st);
/* new + write + finish in one call. On error *st_r is not set. */
int append_stage_from_memory(const char *stagedir, uint64_t maxsize,
                             const char *msg, size_t len,
                             struct append_stage **st_r);
/* Unmap, remove the temporary file (the mailboxes keep their own links)
 * and free. Sets *stp to NULL; NULL is fine. */
void append_stage_free(struct append_stage **stp);

/* After a successful finish: */
/* The stored bytes (CRLF line ends) and their length; valid until
 * append_stage_free(). */
const char *append_stage_data(const struct append_stage *st, size_t *len_r);
uint64_t append_stage_size(const struct append_stage *st);
uint32_t append_stage_header_size(const struct append_stage *st);
/* SHA-1 of the stored bytes (20 bytes), the index record's GUID. */
const uint8_t *append_stage_guid(const struct append_stage *st);
/* The Date header as time_t, or 0 if absent or unparsable. */
int64_t append_stage_sentdate(const struct append_stage *st);
/* The parsed message (Message-ID for duplicate suppression, fields for
 * Sieve); valid until append_stage_free(). */
const struct message *append_stage_message(const struct append_stage *st);

/* ---- step 2: appending ---- */

/* Flags for append_batch_begin() and append_one(). */
enum {
    APPEND_IGNORE_QUOTA = 1 << 0
};

/* What the new record gets besides the message itself. */
struct append_meta {
    uint32_t system_flags;           /* FLAG_ANSWERED..FLAG_SEEN; other
                                      * bits are ignored */
    const struct strarray *keywords; /* user flag names, or NULL; names
                                      * new to the mailbox are added */
    int64_t internaldate;            /* 0: when the stage was created */
};

/* The UIDs a commit made visible, for APPENDUID / COPYUID (RFC 4315):
 * they are consecutive since the batch held the lock. */
struct append_result {
    uint32_t uidvalidity;
    uint32_t first_uid; /* 0 when count is 0 */
    uint32_t last_uid;
    uint32_t count;
};

struct append_batch;

/* Lock mb (open and unlocked) exclusively and start a batch. qdb may be
 * NULL (no quota). 0 and *b_r, or the lock error (mb is then unlocked). */
int append_batch_begin(struct mailbox *mb, struct quota_db *qdb, unsigned flags,
                       struct append_batch **b_r);
/* Append a finished stage with meta. 0 and *uid_r (may be NULL), or
 * ERR_QUOTA / ERR_NOTSUPPORTED (nothing added; the batch goes on) or
 * ERR_IO (the batch must be aborted). */
int append_batch_add(struct append_batch *b, const struct append_stage *st,
                     const struct append_meta *meta, uint32_t *uid_r);
/* Same, for a stage that goes to this one mailbox only: its file is
 * renamed into the mailbox rather than linked (fewer inode operations),
 * after which the stage still gives its data and metadata but adds to no
 * other mailbox. Errors as append_batch_add(). */
int append_batch_take(struct append_batch *b, struct append_stage *st,
                      const struct append_meta *meta, uint32_t *uid_r);
/* Append a message of another mailbox keeping its system flags, user
 * flags (by name), internal date, sent date, size and GUID; the file is
 * hard-linked when both mailboxes are on one filesystem (else copied)
 * and the cache record is reused. src must be locked by the caller
 * (shared is enough), or be the batch's own mailbox (COPY into the
 * selected mailbox; then it must not be locked again). srcrec is a
 * current record of src that is not expunged. Errors as
 * append_batch_add(); ERR_NOTFOUND if the message file is gone. */
int append_batch_copy(struct append_batch *b, struct mailbox *src,
                      const struct index_record *srcrec, uint32_t *uid_r);
/* Number of messages added so far. */
uint32_t append_batch_count(const struct append_batch *b);
/* Charge quota, commit the mailbox, unlock it and free the batch (*bp =
 * NULL, whatever the result). 0 and *res_r (may be NULL): every message
 * is durable. On error nothing of the batch is visible (ERR_QUOTA when
 * another process used up the quota meanwhile, ERR_IO). */
int append_batch_commit(struct append_batch **bp, struct append_result *res_r);
/* Drop everything added, unlock and free (*bp = NULL; NULL is fine). */
void append_batch_abort(struct append_batch **bp);

/* One stage into one mailbox (LMTP: call once per recipient mailbox;
 * the stage is written only once). mb open and unlocked. */
int append_one(struct mailbox *mb, struct quota_db *qdb, unsigned flags,
               const struct append_stage *st, const struct append_meta *meta,
               uint32_t *uid_r);

/* COPY / MOVE of uids[0..n) (UIDs of src, ascending or not; UIDs that do
 * not exist or are expunged are skipped) into dst, in one batch. src and
 * dst are open and unlocked (they may be the same mailbox); the locks are
 * taken here in a fixed order (by path) so two COPYs in opposite
 * directions cannot deadlock. The same mailbox must be passed as the
 * same handle: two handles of one mailbox in one process exclude each
 * other's locks (open-file-description locks). This is also why
 * append_batch_copy() callers that lock src themselves should do so in
 * the same order (lower path first). *res_r lists the new UIDs;
 * src_uids_r (may be NULL) receives the source UIDs actually copied, in
 * the same order, for COPYUID. All or nothing: on error nothing is
 * copied. */
int append_copy(struct mailbox *src, const uint32_t *uids, size_t n,
                struct mailbox *dst, struct quota_db *qdb, unsigned flags,
                struct append_result *res_r, uint32_t *src_uids_r);

#endif
