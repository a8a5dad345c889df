/* quota.h: quota roots (RFC 2087 / RFC 9208) in quotas.db.
 *
 * A quota root is a mailbox name (usually `user.alice`); it governs that
 * mailbox and every descendant that is not under a nearer root. Each
 * mailbox records its root in its header (mailbox_quotaroot()); the
 * record here, keyed by the root name, holds per resource a limit and the
 * usage:
 *   STORAGE  limit in KiB, usage in bytes (reported as KiB, rounded down)
 *   MESSAGE  limit and usage in messages
 * A limit of QUOTA_UNLIMITED means the resource is not limited (and is
 * not shown in QUOTA responses). A root with no limit at all still
 * exists and keeps counting until quota_remove().
 *
 * Value format (text, so a dump is readable):
 *   "STORAGE <used> <limit> MESSAGE <used> <limit>"   limit -1 = none.
 *
 * Usage accounting and crashes. Usage is changed by quota_charge() in its
 * own transaction, never together with the mailbox, so the order matters:
 *   append:  charge first, then mailbox_commit(); refund if the commit
 *            fails (append.c does this).
 *   expunge: mailbox_commit() the EXPUNGED flags first, then uncharge
 *            (expunge.c does this).
 * A crash between the two steps therefore leaves usage too high, never
 * too low: a user is never let past the limit by a crash, and
 * `quota -f` (quota_set_usage() from the mailboxes' quota_used and exists
 * counters) repairs the excess.
 *
 * Durability: quotas.db is opened CYRUSDB_WRITE_NOSYNC. Usage is derived
 * data (the mailboxes' counters are the truth), so a charge is written to
 * the operating system at its commit but not flushed on its own: that
 * saves every delivery a disk flush. A killed process loses nothing; a
 * power loss or OS crash may lose the last charges (usage too low until
 * `quota -f`). Limits set by an admin (quota_set_limits(), quota_remove()
 * without a caller's tid) are flushed before they return.
 *
 * Every function takes the cyrusdb tid convention (cyrusdb.h) where it has
 * a tid argument; functions without one run in their own transaction and
 * retry on ERR_AGAIN. Errors: ERR_NOTFOUND (no such root), ERR_QUOTA,
 * ERR_INVALID (bad name or limit), ERR_AGAIN (inside a caller's txn),
 * ERR_IO (including a corrupt record, which is logged). */
#ifndef QUOTA_H
#define QUOTA_H

#include <stdint.h>

#include "buf.h"
#include "cyrusdb.h"

enum quota_resource {
    QUOTA_STORAGE = 0,
    QUOTA_MESSAGE,
    QUOTA_NUMRESOURCES
};

#define QUOTA_UNLIMITED (-1)
/* Largest limit accepted (RFC 9208: number64 is 63 bits; STORAGE limits
 * are KiB, so keep limit * 1024 within int64). */
#define QUOTA_MAX_LIMIT (INT64_MAX / 1024)

/* A quota record as a plain value. */
struct quota {
    int64_t limit[QUOTA_NUMRESOURCES]; /* QUOTA_UNLIMITED or >= 0 */
    int64_t used[QUOTA_NUMRESOURCES];  /* STORAGE in bytes; >= 0 */
};

struct quota_db;

/* Open path (relative to the configdirectory; NULL: "quotas.db") in env,
 * creating it if missing. 0 and *qdb_r, or ERR_IO. */
int quota_db_open(struct cyrusdb_env *env, const char *path,
                  struct quota_db **qdb_r);
/* Close and set *qdbp to NULL; NULL is fine. */
void quota_db_close(struct quota_db **qdbp);
/* The underlying database, to share a transaction with other tables. */
struct cyrusdb *quota_db_cyrusdb(struct quota_db *qdb);

/* "STORAGE" -> QUOTA_STORAGE, "MESSAGE" -> QUOTA_MESSAGE (case-
 * insensitive), else -1. And back (never NULL for a valid resource). */
int quota_resource_from_name(const char *name);
const char *quota_resource_name(enum quota_resource res);

/* Read root. 0 and *q_r, ERR_NOTFOUND, ERR_AGAIN, ERR_IO. */
int quota_read(struct quota_db *qdb, const char *root, struct quota *q_r,
               struct cyrusdb_txn **tid);

/* The quota root governing mailbox mboxname: mboxname itself if it is a
 * root, else the nearest ancestor (by '.' components, never crossing the
 * `domain!` prefix) that is. 0 and the root in *root_r, or ERR_NOTFOUND
 * (root_r emptied). */
int quota_findroot(struct quota_db *qdb, const char *mboxname,
                   struct buf *root_r, struct cyrusdb_txn **tid);

/* SETQUOTA: give root exactly these limits (QUOTA_UNLIMITED removes a
 * resource's limit), creating the root with zero usage if it does not
 * exist; an existing root keeps its usage. When the root is new the
 * caller must also point the affected mailboxes at it and charge their
 * current usage (quota_set_usage()). ERR_INVALID for a limit below -1 or
 * above QUOTA_MAX_LIMIT or an empty root name. *created_r (may be NULL) is
 * set to 1 when the root did not exist before. */
int quota_set_limits(struct quota_db *qdb, const char *root,
                     const int64_t limit[QUOTA_NUMRESOURCES], int *created_r,
                     struct cyrusdb_txn **tid);
/* Remove root (SETQUOTA root () in Cyrus; mailboxes then fall back to an
 * enclosing root). 0 or ERR_NOTFOUND. */
int quota_remove(struct quota_db *qdb, const char *root,
                 struct cyrusdb_txn **tid);

/* Would adding delta (bytes, messages) to root's usage stay within its
 * limits? Negative or zero deltas always fit. 0 (also when root does not
 * exist: no quota), ERR_QUOTA, or an error. q_r (may be NULL) receives
 * the record read (untouched if the root does not exist). */
int quota_check(struct quota_db *qdb, const char *root,
                const int64_t delta[QUOTA_NUMRESOURCES], struct quota *q_r,
                struct cyrusdb_txn **tid);

/* quota_charge() flags */
enum {
    QUOTA_ENFORCE = 1 << 0 /* refuse (ERR_QUOTA) a positive delta that
                            * does not fit; otherwise always charge */
};

/* Add delta (either sign) to root's usage, read-check-write in one
 * transaction. Usage that would go below zero is clamped to zero (and
 * logged: the record was already wrong). A root that does not exist is
 * not an error: nothing is charged and 0 is returned (the mailbox has no
 * quota, or the root was just removed). */
int quota_charge(struct quota_db *qdb, const char *root,
                 const int64_t delta[QUOTA_NUMRESOURCES], unsigned flags,
                 struct cyrusdb_txn **tid);

/* `quota -f`: overwrite root's usage with recomputed values. ERR_NOTFOUND
 * if root does not exist. */
int quota_set_usage(struct quota_db *qdb, const char *root,
                    const int64_t used[QUOTA_NUMRESOURCES],
                    struct cyrusdb_txn **tid);

/* Called in name order; return nonzero to stop. q is valid for the call. */
typedef int quota_foreach_cb(void *ctx, const char *root,
                             const struct quota *q);
/* Every root starting with prefix ("" or NULL: all). Returns the first
 * nonzero cb value, 0, or an error. Corrupt records are skipped (logged). */
int quota_foreach(struct quota_db *qdb, const char *prefix,
                  quota_foreach_cb *cb, void *ctx, struct cyrusdb_txn **tid);

/* ---- IMAP formatting (RFC 2087 / 9208) ---- */

/* Append the resource list of q: "(STORAGE 10 512 MESSAGE 3 100)" with
 * only the limited resources, STORAGE usage in KiB rounded down; "()"
 * when nothing is limited. */
void quota_format_resources(const struct quota *q, struct buf *out);
/* Append `* QUOTA <root> <resources>\r\n`; root_ext is the name the
 * client sees, written as an IMAP string. */
void quota_format_response(const char *root_ext, const struct quota *q,
                           struct buf *out);

#endif
