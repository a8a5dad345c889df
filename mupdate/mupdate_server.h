/* mupdate_server.h: the server side of MUPDATE (shared/docs/MUPDATE.md),
 * event-driven in one process on lib/loop with non-blocking streams.
 *
 * One struct mupdate_server serves every connection accepted on its
 * listening socket. As the master it owns the authoritative table (a
 * mailboxes.db through mboxlist) and applies RESERVE/ACTIVATE/DEACTIVATE/
 * DELETE with the state machine of MUPDATE.md section 6; as a slave it
 * serves the local replica read-only (writes get BAD "read-only session").
 *
 * Durability: the commands parsed from one read of a connection run in one
 * database transaction, committed before any of their OKs is written.
 *
 * Dumps (LIST, UPDATE): the entries are read from the table in chunks
 * (a cursor that resumes after the last name sent), each made only when
 * the connection's unsent output is short, a few per loop iteration: a
 * dump of any size holds at most a few hundred KB in memory and never
 * stalls the other connections. Commands pipelined behind it are read
 * once its tagged OK is sent. A change to a name the UPDATE dump already
 * passed is queued and sent after the OK; a later name is read by the
 * dump itself.
 *
 * Streaming (UPDATE): every change queues the changed name on each
 * streaming connection; the queues are drained at the end of the loop
 * iteration that made the change (names coalesced), sending each name's
 * current state. A NOOP drains its connection's queue before its OK. A
 * connection whose unsent output exceeds the limit is cut off with
 * `* BYE "Too far behind"`, so a slow reader never stalls the others.
 *
 * Resync by changes (with a change log, mupdate_changes.h): the banner
 * has `* XCHANGES`, and `tag XCHANGES "epoch" "n"` (n: the last counter
 * the client applied, "0" and any epoch when it has none) answers
 *     * XSYNC "DELTA"              then the names changed since n, or
 *     * XSYNC "FULL"               then the whole UPDATE dump,
 * both as UPDATE does (data lines under tag, `tag OK "streaming
 * starts"`, then the stream), and `* XSYNCPOINT "epoch" "m"` after the
 * dump and in every NOOP answer of that connection: everything up to
 * counter m was sent before it. Cyrus's clients never send XCHANGES and
 * ignore the unknown banner line. */
#ifndef MUPDATE_SERVER_H
#define MUPDATE_SERVER_H

#include <stddef.h>

#include "config.h"
#include "loop.h"
#include "tls.h"
#include "mboxlist.h"
#include "mupdate_changes.h"

struct mupdate_server;

struct mupdate_server_params {
    const struct config *cfg; /* must outlive the server */
    struct loop *loop;
    struct mboxlist *ml;      /* the table; must outlive the server */
    int readonly;             /* slave: only FIND/LIST/UPDATE/NOOP */
    /* 4th string of the banner: "(master)" or "mupdate://<server>" */
    const char *banner_role;
    size_t max_output;        /* bytes queued per connection, 0: 64 MiB */
    /* STARTTLS context (tlsconfig_server()), NULL: no STARTTLS. Borrowed:
     * must outlive the server. With it, `* STARTTLS` is advertised until
     * TLS is active, STARTTLS is refused after authentication, the banner
     * is re-sent after the handshake, and unless allowplaintext is on the
     * plaintext SASL mechanisms are offered only under TLS. */
    struct tls_ctx *tls;
    /* The change log (the master's), NULL: no XCHANGES. Borrowed: must
     * outlive the server; every change of the table is logged in it. */
    struct mupdate_changes *changes;
};

/* A server; params are copied (strings too). Never NULL. */
struct mupdate_server *
mupdate_server_new(const struct mupdate_server_params *params);
/* Close every connection, stop listening, free; sets *sp = NULL. */
void mupdate_server_free(struct mupdate_server **sp);

/* Accept clients on listenfd (a listening socket; the server sets it
 * non-blocking and never closes it). 0 or a loop error. */
int mupdate_server_listen(struct mupdate_server *srv, int listenfd);
/* Serve one already-connected socket (the server takes ownership and
 * closes it). */
void mupdate_server_add_client(struct mupdate_server *srv, int fd);

/* A name's entry changed in the table by someone else (the slave applying
 * the master's stream): queue it for the streaming clients. */
void mupdate_server_changed(struct mupdate_server *srv, const char *name);
/* Refuse (ready == 0: `* BYE "no longer ready for connections"`) or accept
 * new clients; a slave is unready until its first sync. */
void mupdate_server_set_ready(struct mupdate_server *srv, int ready);
/* hold != 0: stop accepting (new clients wait in the listen backlog), so
 * they are answered, not refused, once a first sync in progress is
 * complete; 0: accept again. */
void mupdate_server_hold(struct mupdate_server *srv, int hold);
/* Number of open client connections. */
size_t mupdate_server_nclients(const struct mupdate_server *srv);

/* Fill e's server/partition/mbtype/acl from the wire form (REMOTE, plus
 * RESERVE when reserved; acl NULL means ""). */
void mupdate_server_entry_set(struct mboxlist_entry *e, const char *location,
                              const char *acl, int reserved);

#endif
