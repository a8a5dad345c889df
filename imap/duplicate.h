/* duplicate.h: duplicate delivery suppression (deliver.db).
 *
 * lmtpd delivers a given Message-ID only once to a given mailbox: before
 * delivering it checks the key, after a successful delivery it marks it
 * (unless the mailbox has the duplicatedeliver option or
 * duplicatesuppression is off: the caller's policy). Entries are pruned
 * after some days (cyr_expire -E). Lives on backends only; a frontend
 * lmtpd opens no duplicate database.
 *
 * Key (as Cyrus): <id> NUL <to> NUL <date> NUL, where id is the
 * Message-ID (with its angle brackets), to the mailbox uniqueid (or any
 * other tracking name: sieve uses its own), date the Date header or "".
 * Value (text): "<mark time> <uid>".
 *
 * Durability: marks are committed without a flush of their own
 * (CYRUSDB_WRITE_NOSYNC): they survive a killed process but a power loss
 * may drop the last ones. That is safe because a mark only ever follows a
 * durable delivery: a lost mark means the message may be delivered again
 * if the MTA retries, never that a message is lost. (A later flushed
 * commit of any table of the environment flushes the marks before it.)
 * Removals (unmark, prune) are not flushed either: a lost one leaves a
 * mark that suppresses what it suppressed before.
 *
 * Errors: ERR_INVALID (empty id or to, NUL impossible by construction),
 * ERR_AGAIN (in a caller's txn), ERR_IO. */
#ifndef DUPLICATE_H
#define DUPLICATE_H

#include <stdint.h>
#include <time.h>

#include "cyrusdb.h"

struct duplicate_key {
    const char *id;   /* Message-ID; required */
    const char *to;   /* mailbox uniqueid; required */
    const char *date; /* Date header; NULL means "" */
};

struct duplicate_db;

/* Open path (relative to the configdirectory, or absolute as
 * duplicate_db_path gives it; NULL: "deliver.db") in env, creating it if
 * missing. */
int duplicate_open(struct cyrusdb_env *env, const char *path,
                   struct duplicate_db **ddb_r);
void duplicate_close(struct duplicate_db **ddbp);

/* 1 if key was marked (its mark time in *mark_r and first UID in *uid_r,
 * each may be NULL), 0 if not, or an error. A corrupt value counts as
 * marked at time 0 (delivering twice is worse than pruning early). */
int duplicate_check(struct duplicate_db *ddb, const struct duplicate_key *key,
                    time_t *mark_r, uint32_t *uid_r, struct cyrusdb_txn **tid);
/* Record that key was delivered at mark as uid (0 if unknown);
 * replaces an older mark. */
int duplicate_mark(struct duplicate_db *ddb, const struct duplicate_key *key,
                   time_t mark, uint32_t uid, struct cyrusdb_txn **tid);
/* Remove the mark of key; a missing one is not an error. */
int duplicate_unmark(struct duplicate_db *ddb, const struct duplicate_key *key,
                     struct cyrusdb_txn **tid);

/* Remove every entry marked before cutoff (e.g. now - days * 86400) and
 * corrupt ones. Each removal is its own small transaction, so a big
 * database is never locked for long and deliveries may run meanwhile. *pruned_r
 * and *kept_r (each may be NULL) count the entries removed and left. */
int duplicate_prune(struct duplicate_db *ddb, time_t cutoff,
                    unsigned long *pruned_r, unsigned long *kept_r);

#endif
