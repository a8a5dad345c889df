/* mupdate_slave.h: the frontend replica (shared/docs/MUPDATE.md section 9).
 *
 * Keeps the local mailboxes.db an exact replica of the master's list:
 * connect to mupdate_server, authenticate, UPDATE; merge the dump into
 * the existing table in one transaction (local-only names deleted,
 * missing or differing ones written; the old list keeps being served
 * while disconnected), then apply the stream. Liveness: a NOOP after
 * mupdate_retry_delay seconds of silence; no answer by the next period
 * drops the connection (with XCHANGES a NOOP goes every period anyway:
 * its XSYNCPOINT moves the saved position). Reconnects after retry +
 * rand(0..retry/2) s.
 *
 * Kicks: a local process connects to {configdirectory}/socket/
 * mupdate.target; the slave sends a NOOP to the master and, when its OK
 * arrives (every earlier update applied), writes "ok" and closes. While
 * disconnected from the master a kick is answered at once. */
#ifndef MUPDATE_SLAVE_H
#define MUPDATE_SLAVE_H

#include "config.h"
#include "loop.h"
#include "mboxlist.h"
#include "mupdate_server.h"

struct mupdate_slave;

/* srv (may be NULL) is told about every applied change. chdb (may be
 * NULL; borrowed) keeps the slave's position in the master's change log:
 * with it, and a master offering XCHANGES, a reconnect fetches only the
 * changes since the last XSYNCPOINT applied (mupdate_changes.h), or the
 * full dump when the master no longer has them. Connects at once (the
 * first attempt blocks for at most the connect timeout). */
struct mupdate_slave *mupdate_slave_new(const struct config *cfg,
                                        struct loop *loop, struct mboxlist *ml,
                                        struct cyrusdb *chdb,
                                        struct mupdate_server *srv);
void mupdate_slave_free(struct mupdate_slave **sp);

/* Listen on the kick socket path; master mode (slave NULL) answers "ok"
 * at once. 0 and *kick_r (registered in loop), or a negative ERR_*. */
struct mupdate_kick;
int mupdate_kick_listen(struct loop *loop, const char *path,
                        struct mupdate_slave *slave,
                        struct mupdate_kick **kick_r);
/* Stop listening, remove the socket file, free; sets *kp = NULL. Before
 * loop_free(). */
void mupdate_kick_free(struct mupdate_kick **kp);

#endif
