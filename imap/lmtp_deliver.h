/* lmtp_deliver.h: where an LMTP recipient's mail goes, and putting it
 * there (the backend side of lmtpd).
 *
 * Recipient forms (as Cyrus lmtpd):
 *   user, user@domain         the user's INBOX (the domain only matters
 *                             with virtdomains)
 *   user+folder[@domain]      user.<user>.<folder> when that mailbox
 *                             exists and anonymous has the `p` right on
 *                             it, else the user's INBOX
 *   <postuser>+shared.folder  the shared mailbox `shared.folder`, which
 *                             must exist and grant anonymous `p`
 * The user part is lowercased (lmtp_downcase_rcpt) and must be 7-bit
 * (lmtp_strict_rfc2821).
 *
 * Delivery stages the message once (append.h) and appends it to each
 * target's mailbox; append_one() returns only once the message is
 * durable, so the caller may answer 250 after a 0 return. Duplicate
 * suppression (duplicatesuppression): a Message-ID already delivered to
 * a mailbox is not delivered again, and counts as delivered.
 *
 * Errors (lmtp_proto.h maps them to replies): ERR_NOUSER, ERR_NOMAILBOX,
 * ERR_PERMISSION, ERR_SYNTAX, ERR_QUOTA, ERR_TOOBIG, ERR_BADMSG,
 * ERR_MOVED, ERR_IO. */
#ifndef LMTP_DELIVER_H
#define LMTP_DELIVER_H

#include <stddef.h>

#include "append.h"
#include "config.h"
#include "duplicate.h"
#include "mboxlist.h"
#include "namespace.h"
#include "quota.h"

/* What delivery needs; all owned by the caller and outliving every
 * target. ddb may be NULL (no duplicate suppression). */
struct lmtp_deliver_env {
    const struct config *cfg;
    const struct namespace *ns;
    struct mboxlist *ml;
    struct quota_db *qdb;
    struct duplicate_db *ddb;
    int proxy; /* frontend: ml is the murder replica; entries on other
                * servers (MBTYPE_REMOTE) are valid targets, found by
                * lmtp_target_server() */
};

struct lmtp_target;

/* Resolve the address addr[0..len) of a RCPT TO (lmtp_path.addr) to its
 * target mailbox. ignorequota: the RCPT had IGNOREQUOTA. Returns 0 and
 * *t_r, or an error with *error_r (static text for the log). */
int lmtp_target_resolve(const struct lmtp_deliver_env *env, const char *addr,
                        size_t len, int ignorequota, struct lmtp_target **t_r,
                        const char **error_r);
void lmtp_target_free(struct lmtp_target **tp);
/* The internal name of the target mailbox ("user.alice.Sub"). */
const char *lmtp_target_mailbox(const struct lmtp_target *t);

/* The server holding the target mailbox (a frontend's view), or NULL for
 * a local one. Owned by t. */
const char *lmtp_target_server(const struct lmtp_target *t);

/* Deliver the finished stage st to t (opening, appending and closing the
 * mailbox). Returns 0 when the message is durable in the mailbox or was a
 * suppressed duplicate (*dup_r set to 1; dup_r may be NULL), or an
 * error. */
int lmtp_target_deliver(const struct lmtp_deliver_env *env,
                        struct lmtp_target *t, const struct append_stage *st,
                        int *dup_r);

/* The directory holding a local mailbox's files (uuid layout, as
 * mboxops_path()): <partition dir>/uuid/<u0>/<u1>/<uniqueid>. Replaces
 * the contents of path_r. 0 or ERR_IO (unknown partition, no uniqueid). */
int lmtp_deliver_mailbox_path(const struct config *cfg,
                              const struct mboxlist_entry *e,
                              struct buf *path_r);

#endif
