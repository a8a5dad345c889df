/* index.h: a session's view of its selected mailbox.
 *
 * IMAP numbers messages by sequence number in the order the session has
 * been told about them. The view keeps that list (UIDs in ascending order)
 * and, on index_sync(), compares it with the mailbox on disk to produce the
 * untagged EXPUNGE / EXISTS / RECENT / FETCH responses the client is owed
 * (RFC 3501 §5.2, §7.3-7.4), so several sessions on one mailbox see each
 * other's changes. */
#ifndef INDEX_H
#define INDEX_H

#include <stdint.h>

#include "buf.h"
#include "mailbox.h"
#include "seqset.h"

struct index_view;

struct index_msg {
    uint32_t uid;
    uint64_t told_modseq; /* last modseq whose flags the client was told */
    int recent;
    int seen;        /* per-user \Seen (only with index_userseen_enable) */
    int seen_untold; /* seen changed and the client has not been told */
};

/* Open the mailbox at path as the session's selected mailbox. readonly is
 * EXAMINE (no \Recent taken). On success the view owns the mailbox. */
int index_open(const char *path, int readonly, struct index_view **view_r);
void index_close(struct index_view **viewp);
struct mailbox *index_mailbox(struct index_view *v);
int index_readonly(const struct index_view *v);

/* Number of messages the client knows about (the EXISTS it was told). */
uint32_t index_count(const struct index_view *v);
uint32_t index_recent_count(const struct index_view *v);
/* 1-based; 0 if out of range. */
uint32_t index_seq_to_uid(const struct index_view *v, uint32_t seq);
/* Sequence number of uid, or 0 if the client does not know it. */
uint32_t index_uid_to_seq(const struct index_view *v, uint32_t uid);
/* Highest UID the client knows (for `*` in UID sets), 0 if empty. */
uint32_t index_max_uid(const struct index_view *v);
const struct index_msg *index_msg(const struct index_view *v, uint32_t seq);
/* Read the current record of message seq (lock held by the caller), with
 * FLAG_SEEN replaced by the per-user state when the view has one. */
int index_record(struct index_view *v, uint32_t seq,
                 struct index_record *rec_r);
/* Mark that the client has just been told the flags at this modseq
 * (and any per-user \Seen change of the message). */
void index_told(struct index_view *v, uint32_t seq, uint64_t modseq);

/* ---- per-user \Seen (STORAGE.md §5) ----
 *
 * A user who does not own the mailbox keeps \Seen in their seen.db, not
 * in the index records. The session loads that set and hands it to the
 * view with index_userseen_enable(); from then on the view answers \Seen
 * from it: index_record(), index_apply_seen() and index_sync() replace
 * FLAG_SEEN of each record with the user's state, so FETCH FLAGS, SEARCH
 * SEEN/UNSEEN, SORT and SELECT's UNSEEN need no other change. Writers
 * (STORE, FETCH of a body) call index_userseen_set() instead of rewriting
 * the record's FLAG_SEEN; the caller then saves index_userseen_format()
 * to seen.db when index_userseen_dirty() says so. A change is owed to the
 * client as a FETCH FLAGS (seen_untold) until index_told(). */

/* Use seen (UIDs; NULL: nothing seen) as the user's \Seen from now on. */
void index_userseen_enable(struct index_view *v, const struct seqset *seen);
/* 1 when the view keeps per-user \Seen. */
int index_userseen_enabled(const struct index_view *v);
/* Set or clear message seq's per-user \Seen. Returns 1 if it changed. */
int index_userseen_set(struct index_view *v, uint32_t seq, int seen);
/* Replace FLAG_SEEN of rec (found by its UID) with the per-user state;
 * nothing without per-user \Seen or for a UID not in the view. */
void index_apply_seen(const struct index_view *v, struct index_record *rec);
/* 1 if the per-user set changed since the last index_userseen_format(). */
int index_userseen_dirty(const struct index_view *v);
/* Append the seen UIDs as a sequence set ("1:3,7", "" for none) and
 * clear the dirty mark. */
void index_userseen_format(struct index_view *v, struct buf *out);
/* Number of messages in the view without per-user \Seen. */
uint32_t index_userseen_unseen(const struct index_view *v);

/* Bring the view up to date with the mailbox (takes and drops a shared
 * lock itself) and append the untagged responses to out. Expunges are only
 * reported (and removed from the view) when allow_expunge is set: not
 * during FETCH, STORE or SEARCH (RFC 3501 §7.4.1). With condstore, FETCH
 * responses carry MODSEQ. */
int index_sync(struct index_view *v, struct buf *out, int allow_expunge,
               int condstore);

/* With QRESYNC enabled (RFC 7162 3.2.10), index_sync() reports expunged
 * messages as one "* VANISHED <uids>" line instead of "* n EXPUNGE". */
void index_set_qresync(struct index_view *v, int on);

/* Format the FLAGS list of a record: "(\Seen $Junk)" with \Recent when
 * recent. */
void index_format_flags(struct index_view *v, const struct index_record *rec,
                        int recent, struct buf *out);

#endif
