/* xfer_seen.h: the \Seen state other users keep of mailboxes that XFER
 * moves.
 *
 * A user's \Seen of a mailbox they do not own is a seen.db entry keyed
 * <user> NUL <mailbox uniqueid> (seen.h) in the seen.db of the backend
 * that serves the mailbox: every imapd reads and writes its own backend's
 * seen.db. So those entries belong with the mailbox, not with the user:
 * when a mailbox moves, every user's entry for its uniqueid moves along
 * (LOCALSEEN on the destination, then removed here), and when a user
 * moves, their entries for mailboxes that stay here stay here. XFER keeps
 * the uniqueid, so the moved entries still match. */
#ifndef XFER_SEEN_H
#define XFER_SEEN_H

#include "seen.h"
#include "strarray.h"

/* One entry: user's state sd of the mailbox uniqueid (all valid during
 * the call only). Return nonzero to stop. */
typedef int xfer_seen_cb(void *ctx, const char *user, const char *uniqueid,
                         const struct seen_data *sd);

/* Call cb for every entry of sdb, of any user, whose uniqueid is one of
 * uniqueids, in key order (user, then uniqueid). Entries that change
 * meanwhile are passed as they are when cb gets them; one removed
 * meanwhile is skipped, and so is a corrupt one (logged). Returns 0, the
 * first nonzero cb value, or an error of the database (ERR_IO). */
int xfer_seen_foreach(struct seen_db *sdb, const struct strarray *uniqueids,
                      xfer_seen_cb *cb, void *ctx);

/* Remove every entry, of any user, of the mailboxes uniqueids. 0 or the
 * first error (the others are still tried). */
int xfer_seen_delete(struct seen_db *sdb, const struct strarray *uniqueids);

#endif
