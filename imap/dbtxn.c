/* dbtxn.c: one transaction around a multi-call operation (see dbtxn.h). */
#include <time.h>

#include "dbtxn.h"
#include "errors.h"

int
dbtxn_run(struct cyrusdb *db, struct cyrusdb_txn **tid, dbtxn_cb *cb, void *ctx)
{
    int tries, r = ERR_AGAIN;

    if (tid != NULL)
        return cb(ctx, tid);
    for (tries = 0; tries < DBTXN_MAX_TRIES; tries++) {
        struct cyrusdb_txn *t = NULL;

        r = cb(ctx, &t);
        if (t != NULL) {
            if (r == 0)
                r = cyrusdb_commit(db, t);
            else
                cyrusdb_abort(db, t);
        }
        if (r != ERR_AGAIN)
            return r;
        /* back off a little so the other party can finish */
        {
            struct timespec ts = {0, 1000000L * (tries + 1)};

            nanosleep(&ts, NULL);
        }
    }
    return r;
}
