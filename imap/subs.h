/* subs.h: IMAP subscriptions (SUBSCRIBE, UNSUBSCRIBE, LSUB,
 * LIST (SUBSCRIBED)) in subs.db.
 *
 * Key: <userid> NUL <internal mailbox name>, empty value; so one user's
 * subscriptions are contiguous and come out in name order (memcmp order
 * of the internal names). Names are not checked against mailboxes.db:
 * with allowallsubscribe a user may subscribe to mailboxes this server
 * does not hold (the INBOX backend keeps a Murder user's subscriptions,
 * STORAGE.md §5); the caller applies that policy.
 *
 * Errors: ERR_INVALID (empty user or name), ERR_NOTFOUND, ERR_AGAIN (in a
 * caller's txn), ERR_IO. */
#ifndef SUBS_H
#define SUBS_H

#include "cyrusdb.h"
#include "strarray.h"

struct subs_db;

/* Open path (relative to the configdirectory; NULL: "subs.db") in env,
 * creating it if missing. */
int subs_open(struct cyrusdb_env *env, const char *path,
              struct subs_db **sdb_r);
void subs_close(struct subs_db **sdbp);
/* The underlying database, to share a transaction with other tables. */
struct cyrusdb *subs_cyrusdb(struct subs_db *sdb);

/* Subscribe user to mboxname; already subscribed is fine (0). */
int subs_add(struct subs_db *sdb, const char *user, const char *mboxname,
             struct cyrusdb_txn **tid);
/* Unsubscribe; ERR_NOTFOUND if user was not subscribed (RFC 3501 allows
 * either answer; the caller chooses). */
int subs_remove(struct subs_db *sdb, const char *user, const char *mboxname,
                struct cyrusdb_txn **tid);
/* 1 if subscribed, 0 if not, or an error. */
int subs_is_subscribed(struct subs_db *sdb, const char *user,
                       const char *mboxname, struct cyrusdb_txn **tid);

/* Called in name order; return nonzero to stop. */
typedef int subs_foreach_cb(void *ctx, const char *mboxname);
/* Every subscription of user. Returns the first nonzero cb value, 0 or an
 * error. */
int subs_foreach(struct subs_db *sdb, const char *user, subs_foreach_cb *cb,
                 void *ctx, struct cyrusdb_txn **tid);
/* Append user's subscriptions, in name order, to names_r. */
int subs_list(struct subs_db *sdb, const char *user, struct strarray *names_r,
              struct cyrusdb_txn **tid);

/* A mailbox of user's was renamed from oldname to newname (with its
 * children, as IMAP RENAME does): move the subscription to oldname and
 * those to oldname.<anything> so they follow, in one transaction.
 * Subscriptions that did not exist are not created. *moved_r (may be
 * NULL) is the number of subscriptions moved. */
int subs_rename(struct subs_db *sdb, const char *user, const char *oldname,
                const char *newname, unsigned *moved_r,
                struct cyrusdb_txn **tid);
/* Remove every subscription of user (user deletion). */
int subs_delete_user(struct subs_db *sdb, const char *user,
                     struct cyrusdb_txn **tid);

#endif
