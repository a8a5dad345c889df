/* dbtxn.h: run a read-modify-write on cyrusdb tables as one transaction.
 *
 * The store's tables (quotas.db, seen.db, subs.db, deliver.db) follow the
 * cyrusdb tid convention (cyrusdb.h). An operation made of several calls
 * (read a record, decide, write it back) must run in one transaction:
 * the caller's, when it passes one, or else one begun here, committed
 * when the operation succeeds and retried from the start when Berkeley DB
 * reports a deadlock (ERR_AGAIN). */
#ifndef DBTXN_H
#define DBTXN_H

#include "cyrusdb.h"

/* The operation: use tid for every cyrusdb call; return 0 or ERR_*. It
 * may run several times (after ERR_AGAIN), so it must not change state
 * outside the database before it succeeds. */
typedef int dbtxn_cb(void *ctx, struct cyrusdb_txn **tid);

/* Attempts before giving up on repeated deadlocks (then ERR_AGAIN). */
#define DBTXN_MAX_TRIES 20

/* tid != NULL: run cb(ctx, tid) once in the caller's transaction and
 * return its result (the caller commits or aborts). tid == NULL: run cb
 * in a new transaction on db's environment; commit if cb returned 0
 * (returning the commit's result), abort otherwise (returning cb's
 * result); retry on ERR_AGAIN up to DBTXN_MAX_TRIES times. */
int dbtxn_run(struct cyrusdb *db, struct cyrusdb_txn **tid, dbtxn_cb *cb,
              void *ctx);

#endif
