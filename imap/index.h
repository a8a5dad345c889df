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

struct index_view;

struct index_msg {
    uint32_t uid;
    uint64_t told_modseq; /* last modseq whose flags the client was told */
    int recent;
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
/* Read the current record of message seq (lock held by the caller). */
int index_record(struct index_view *v, uint32_t seq,
                 struct index_record *rec_r);
/* Mark that the client has just been told the flags at this modseq. */
void index_told(struct index_view *v, uint32_t seq, uint64_t modseq);

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
