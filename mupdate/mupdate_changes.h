/* mupdate_changes.h: the change log behind resync by changes (the
 * XCHANGES extension of our MUPDATE, shared/docs/MUPDATE.md).
 *
 * The master numbers every change to its table (a store or a delete of a
 * name) with a counter and logs (counter -> name) in a side database,
 * {configdirectory}/mupdate_changes.db, in the same transaction as the
 * change. The log keeps the last `max` changes: the horizon is the
 * counter before the oldest one kept. A log has an epoch, a random text
 * made when the log is created (or reset): counters of another epoch mean
 * nothing here.
 *
 * A slave that has applied everything up to counter n of epoch E asks for
 * the changes since n; if E is the log's epoch and horizon <= n <= last,
 * the answer is the set of names logged after n (each sent in its current
 * state, or as DELETE), otherwise it needs the full dump.
 *
 * Keys: "e" epoch, "n" last counter, "h" horizon, "l" + 16 hex digits a
 * change; a slave keeps its own position under "s" ("epoch counter") in
 * its own mupdate_changes.db.
 *
 * Offline changes to the master's table are not logged: ctl_mboxlist -u
 * resets the epoch, and so does the master when it starts with an empty
 * table and a non-empty log (mailboxes.db removed), so every slave gets
 * a full dump once. Restoring an older mailboxes.db by hand needs the
 * same: remove mupdate_changes.db with it.
 *
 * Errors are cyrusdb's (ERR_AGAIN, ERR_IO). */
#ifndef MUPDATE_CHANGES_H
#define MUPDATE_CHANGES_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "cyrusdb.h"
#include "strarray.h"

/* The side database, relative to the configdirectory. */
#define MUPDATE_CHANGES_DB "mupdate_changes.db"
/* Changes kept when max is 0. */
#define MUPDATE_CHANGES_MAX 100000

struct mupdate_changes;

/* The log in db (created, with a fresh epoch, when empty); max changes
 * kept (0: MUPDATE_CHANGES_MAX). db is borrowed: it must outlive the log.
 * 0 and *ch_r, or an error. */
int mupdate_changes_open(struct cyrusdb *db, size_t max,
                         struct mupdate_changes **ch_r);
void mupdate_changes_free(struct mupdate_changes **chp);

/* The epoch (valid while ch lives). */
const char *mupdate_changes_epoch(const struct mupdate_changes *ch);
/* The last committed counter, and the horizon. */
uint64_t mupdate_changes_last(const struct mupdate_changes *ch);
uint64_t mupdate_changes_horizon(const struct mupdate_changes *ch);

/* Log a change of name in tid (as in cyrusdb.h: begun if *tid is NULL).
 * Not visible to mupdate_changes_last() until mupdate_changes_commit(). */
int mupdate_changes_note(struct mupdate_changes *ch, const char *name,
                         struct cyrusdb_txn **tid);
/* Before committing tid: record the counter, and trim the log past max.
 * No-op (0) when nothing was noted. */
int mupdate_changes_prepare(struct mupdate_changes *ch,
                            struct cyrusdb_txn **tid);
/* After tid was committed (ok != 0) or aborted (ok == 0). */
void mupdate_changes_done(struct mupdate_changes *ch, int ok);

/* The names changed after counter since of epoch (each once, in the
 * order of their last change) appended to names_r. 0, ERR_NOTFOUND when
 * the epoch differs or since is outside [horizon, last] (a full dump is
 * needed), or an error. Reads outside any transaction: call it between
 * commits. */
int mupdate_changes_since(struct mupdate_changes *ch, const char *epoch,
                          uint64_t since, struct strarray *names_r);

/* A new epoch: every slave's position becomes unusable. Autocommit. */
int mupdate_changes_reset(struct cyrusdb *db);

/* The slave's position: 0 with *epoch_r (replaced) and *n_r, or
 * ERR_NOTFOUND (never synced), or an error. */
int mupdate_changes_position(struct cyrusdb *db, struct buf *epoch_r,
                             uint64_t *n_r);
/* Record the slave's position (autocommit). */
int mupdate_changes_set_position(struct cyrusdb *db, const char *epoch,
                                 uint64_t n);

#endif
