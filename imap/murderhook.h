/* murderhook.h: a backend's link to the mupdate master (MURDER.md §3-§5),
 * as the hooks of struct mboxops_murder.
 *
 * One MUPDATE connection per process, opened on first use with
 * mupdate_client_connect() (cfg's mupdate_server and credentials) and kept
 * for the next operations. An operation that fails on the stream (master
 * restarted, idle connection cut) is retried once on a fresh connection;
 * every command is idempotent on the master for the same location (RESERVE
 * at the same location, ACTIVATE, DELETE of a gone name), so a retry after
 * a lost OK is harmless. Hook results: 0, ERR_MUPDATE_NOCONN (no master:
 * "no connection to server"), ERR_MUPDATE_RESERVE (the name is held, by
 * another server or already active), ERR_MUPDATE_FAIL, ERR_NOMAILBOX
 * (remove of a name the master does not have). */
#ifndef MURDERHOOK_H
#define MURDERHOOK_H

#include "config.h"
#include "mboxops.h"

/* Hooks for mboxops; cfg must outlive them. Never NULL; nothing is
 * connected yet. */
struct mboxops_murder *murderhook_new(const struct config *cfg);
/* LOGOUT (if connected), close and free; sets *mp = NULL. */
void murderhook_free(struct mboxops_murder **mp);

#endif
