/* expunge.h: EXPUNGE, UID EXPUNGE (RFC 4315) and CLOSE's silent expunge.
 *
 * Expunging marks each chosen record FLAG_INT_EXPUNGED (with a new
 * modseq) under the mailbox's exclusive lock and commits once; what
 * happens to the message files depends on expunge_mode (imapd.conf):
 *   delayed (default), semidelayed: files stay until the mailbox is
 *     compacted, so sessions that still list the message can fetch it;
 *   immediate: files are unlinked right after the commit (the records
 *     get FLAG_INT_UNLINKED).
 * When this process is the only one with the mailbox open, the mailbox
 * is compacted at once (expunged records dropped, their files removed).
 * The untagged "* n EXPUNGE" responses come from the session's view
 * (index_sync()), highest first. */
#ifndef EXPUNGE_H
#define EXPUNGE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "index.h"
#include "mailbox.h"
#include "quota.h"
#include "seqset.h"

enum expunge_mode {
    EXPUNGE_DELAYED,
    EXPUNGE_SEMIDELAYED,
    EXPUNGE_IMMEDIATE
};

/* "delayed", "semidelayed", "immediate" (any case): 0 and *mode_r, or
 * ERR_INVALID. */
int expunge_mode_parse(const char *name, enum expunge_mode *mode_r);

struct expunge_ctx {
    struct index_view *view;
    unsigned rights; /* the user's ACL_* rights; ACL_EXPUNGE is needed */
    enum expunge_mode mode;
    int condstore; /* passed on to index_sync() for its FETCH lines */
    struct quota_db *qdb; /* NULL: no quota accounting */
};

/* EXPUNGE (uids NULL) or UID EXPUNGE (uids: a UID set, "*" being the
 * mailbox's highest UID): expunge every \Deleted message (in uids), then
 * bring the view up to date with index_sync(view, out, 1, condstore),
 * which appends the "* n EXPUNGE" lines (and anything else pending).
 * *count_r (may be NULL) gets the number of messages expunged. Returns 0,
 * ERR_PERMISSION (read-only view or no ACL_EXPUNGE; nothing changed) or
 * ERR_IO; on error out is left as it was. */
int expunge_run(struct expunge_ctx *ctx, const struct seqset *uids,
                struct buf *out, unsigned *count_r);

/* CLOSE: expunge every \Deleted message without any response, when the
 * view is read-write and the user has ACL_EXPUNGE (otherwise nothing
 * happens and 0 is returned, as RFC 3501 6.4.2 wants). The caller closes
 * the view afterwards. Returns 0 or ERR_IO. */
int expunge_close(struct expunge_ctx *ctx);

/* The mailbox-level primitive (LMTP-free callers: POP3 DELE at QUIT, MOVE's
 * second half, tools): expunge from mb (open and unlocked; locked
 * exclusively here) the messages whose UIDs are in uids[0..n) (absent or
 * already expunged ones are skipped), or, with uids == NULL, every message
 * flagged \Deleted. With only_deleted and uids != NULL, only those of uids
 * that are \Deleted. The mailbox is committed first, then the quota root
 * uncharged, so a crash in between over-counts (quota -f repairs). qdb may
 * be NULL. 0 and *count_r (may be NULL), or an error. */
int expunge_messages(struct mailbox *mb, struct quota_db *qdb,
                     const uint32_t *uids, size_t n, int only_deleted,
                     uint32_t *count_r);

#endif
