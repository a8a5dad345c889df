/* xfer.h: XFER, moving a mailbox or a whole user from this backend to
 * another one while the murder keeps running (MURDER.md §7, issue 8).
 *
 * The source side, ours-to-ours. For one item (a user INBOX with every
 * mailbox under it, its subscriptions and quota root; or one shared
 * mailbox):
 *   1. connect to the destination as proxy_authname (backend_connect();
 *      the destination must list it in `admins`) and to the mupdate
 *      master;
 *   2. DEACTIVATE each mailbox on the master: frontends see it RESERVED,
 *      so LMTP gets 451 4.2.1 (the MTA retries) and SELECT "Mailbox is
 *      currently reserved";
 *   3. mark each local entry MOVING (server = destination; our lmtpd then
 *      answers 451 too) and lock each mailbox exclusively, in path order
 *      like append_copy(), until the end: a delivery or STORE already
 *      waiting for the lock cannot slip in after the copy;
 *   4. on the destination: LOCALCREATE (same uidvalidity, uniqueid, ACL;
 *      the quota root with its limits on the INBOX), XAPPEND every
 *      message with its UID, flags, internal date and modseq in batches,
 *      then UIDNEXT with the mailbox's HIGHESTMODSEQ and deleted modseq
 *      (the highest modseq of an expunge not sent), LOCALSUBSCRIBE each
 *      subscription of the user, LOCALSEEN every seen.db entry, of any
 *      user, of the moved mailboxes (xfer_seen.h);
 *   5. MUPDATEPUSH each mailbox on the destination (the master now says
 *      destination!partition) -- the commit point;
 *   6. destroy the local copies (still locked: a waiting delivery then
 *      fails with a tempfail and is retried by its MTA at the new place),
 *      remove the entries, the user's subscriptions, the moved mailboxes'
 *      seen.db entries and the quota root.
 * Any failure before step 5 rolls back: LOCALDELETE on the destination
 * (if it still answers), the entries restored, ACTIVATE back at the
 * source. A failure of a later MUPDATEPUSH is repaired by ACTIVATEing
 * that mailbox at the destination through our own master connection.
 *
 * Carried so that clients need not resynchronise (RFC 7162): every
 * message's MODSEQ and the mailbox's HIGHESTMODSEQ, so CONDSTORE sees the
 * same values and a QRESYNC client in sync before the move sees no change
 * after it; the deleted modseq, so one that was behind an expunge gets
 * VANISHED (EARLIER) for it. Not carried: \Recent. Other users' \Seen
 * of the moved mailboxes (their seen.db entries on this backend, keyed
 * by the uniqueid the move keeps) goes along; the moved user's own
 * entries for mailboxes that stay here stay here (xfer_seen.h). */
#ifndef XFER_H
#define XFER_H

#include <stdint.h>

#include "strarray.h"

struct config;
struct mboxops;
struct seen_db;
struct tls_ctx;

struct xfer_env {
    const struct config *cfg;
    const struct mboxops *ops; /* ml, ns, servername; qdb, subs optional */
    struct tls_ctx *tls;       /* for STARTTLS to the destination, or NULL */
    struct seen_db *seen;      /* this backend's seen.db, or NULL */
};

/* Progress and statistics of one xfer_move(). */
struct xfer_stats {
    uint32_t mailboxes;
    uint32_t messages;
    uint64_t bytes;
};

/* Move intname (internal; a user INBOX means the whole user) to server
 * (a server name as in mailboxes.db locations) on partition (NULL: each
 * mailbox keeps its partition name). 0 with *stats_r filled (may be NULL), or:
 * ERR_NOMAILBOX (no such local mailbox), ERR_NOTSUPPORTED (a user's
 * sub-mailbox: move the user), ERR_INVALID (server is ourselves),
 * ERR_MOVED (it is already remote or moving), ERR_UNAVAILABLE (cannot
 * reach the destination), ERR_MUPDATE_* (master), ERR_PROTOCOL (the
 * destination refused a step; the move was rolled back), ERR_IO. *error_r
 * then holds an allocated message (caller frees) or NULL.
 *
 * trash_r (may be NULL): after 0, the local spool directories are no
 * longer mailboxes (header gone, renamed aside) but their message files
 * are still there; their paths are appended to *trash_r for the caller to
 * remove with xfer_remove_trash() once it has answered, so the client
 * does not wait for thousands of unlinks. NULL: removed before return. A
 * crash in between leaves "<spool dir>.XFERGONE" directories that are no
 * mailbox and may be deleted by hand. */
int xfer_move(const struct xfer_env *env, const char *intname,
              const char *server, const char *partition,
              struct xfer_stats *stats_r, struct strarray *trash_r,
              char **error_r);

/* Remove the directories xfer_move() left in *trash (errors are logged)
 * and empty it. */
void xfer_remove_trash(struct strarray *trash);

#endif
