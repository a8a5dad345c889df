/* proxy_imap.h: imapd in the frontend role (MURDER.md sections 10-13).
 *
 * A frontend is a node with `mupdate_server` set and no `proxyservers`.
 * Its mailboxes.db is the replica of the murder's mailbox list: entries
 * carry the server that holds each mailbox. The session answers
 * LOGIN/AUTHENTICATE, CAPABILITY, NAMESPACE, ID, ENABLE and LIST locally
 * (LIST from the replica with ACL filtering) and proxies the rest to the
 * backend that holds the mailbox, logged in there as `proxy_authname`
 * with the user as authorization id (imap/backend.h), one cached
 * connection per backend for the session.
 *
 * Selected state: after a proxied SELECT/EXAMINE every later command of
 * the selected state goes verbatim to that backend (the client's tag
 * kept, synchronizing literals turned into LITERAL+), and the backend's
 * responses come back verbatim; IDLE is relayed both ways until DONE. */
#ifndef PROXY_IMAP_H
#define PROXY_IMAP_H

#include <stddef.h>

#include "buf.h"

struct backend;
struct imapd_session;
struct imaptok;
struct mboxlist_entry;
struct proxy_imap;

/* Per-session proxy state for userid (copied). */
struct proxy_imap *proxy_imap_new(const char *userid);
/* Log out of every backend and free; sets *pp = NULL. NULL is fine. */
void proxy_imap_free(struct proxy_imap **pp);

/* Offer a command to the proxy before the local command table. name is
 * the command word (the second word joined for "UID x"), t is positioned
 * at its arguments, raw[0..rawlen) the whole command as the client sent
 * it (tag, literals, final CRLF). Returns 1 when the proxy handled it (the
 * tagged reply is sent), 0 to let the local handler run. */
int proxy_imap_dispatch(struct imapd_session *s, const char *tag,
                        const char *name, struct imaptok *t, const char *raw,
                        size_t rawlen);

/* ---- shared with proxy_copy.c and proxy_create.c -------------------- */

/* Pipelining: commands for one backend are forwarded without waiting
 * for their replies, which the pump relays later. proxy_imap_wait()
 * relays until every reply has passed or the client has more input
 * (the command loop calls it before blocking on the client);
 * proxy_imap_drain() until every reply has passed (before anything
 * else answers the client). No-ops without proxy state. */
void proxy_imap_wait(struct imapd_session *s);
void proxy_imap_drain(struct imapd_session *s);

/* Make the replica current: ask the local mupdate slave (kick socket in
 * configdirectory) and wait until it has applied every change the master
 * knew of (at most a few seconds; failures are logged, not returned). */
void proxy_imap_kick(void);
/* imapd_lookup() for the frontend: a miss kicks the replica and looks
 * again once; a name that is only reserved gives ERR_RESERVED ("Mailbox
 * is currently reserved"). 0 and *entry_r, or ERR_NOMAILBOX/ERR_BADNAME/
 * ERR_RESERVED. */
int proxy_imap_lookup(struct imapd_session *s, const char *extname,
                      struct mboxlist_entry **entry_r);

/* Append raw (a client command) to out with every synchronizing literal
 * "{N}" turned into "{N+}"; a missing final CRLF is added. */
void proxy_imap_rewrite_literals(const char *raw, size_t len, struct buf *out);
/* Whether line[0..len) ends in a literal header "{N}" or "{N+}"; the
 * size goes to *n_r. */
int proxy_imap_literal_at_end(const char *line, size_t len, uint64_t *n_r);

/* Read a backend's response up to the line tagged tag, relaying untagged
 * lines (and their literals) to the client when relay is set; the
 * tagged line goes to *tagged (without CRLF) and is not relayed. 0, or
 * ERR_UNAVAILABLE when the backend connection broke (it is then dropped
 * from the pool, and the session ends if it was the selected one). */
int proxy_imap_pipe(struct imapd_session *s, struct backend **bep,
                    const char *tag, int relay, struct buf *tagged);
/* Called for each untagged response line before it is relayed (not for
 * literal data); it may rewrite *line in place. */
typedef void proxy_imap_filter_cb(struct imapd_session *s, struct buf *line,
                                  void *ctx);
/* proxy_imap_pipe() with cb (may be NULL) applied to relayed lines. */
int proxy_imap_pipe_filter(struct imapd_session *s, struct backend **bep,
                           const char *tag, int relay,
                           proxy_imap_filter_cb *cb, void *ctx,
                           struct buf *tagged);
/* Send the client's command raw[0..rawlen) to server (literals made
 * non-synchronizing) and relay the answer through cb (may be NULL), the
 * tagged line included. 1 on a tagged OK, 0 otherwise (the client has
 * its answer either way). */
int proxy_imap_forward(struct imapd_session *s, const char *tag,
                       const char *server, const char *raw, size_t rawlen,
                       proxy_imap_filter_cb *cb, void *ctx);
/* A connection to server (see backend_pool_get()); on failure the client
 * gets "tag NO [UNAVAILABLE] ..." and NULL is returned. */
struct backend *proxy_imap_backend(struct imapd_session *s, const char *tag,
                                   const char *server);
/* A fresh tag "PROXYn" for commands the frontend originates. */
const char *proxy_imap_tag(struct imapd_session *s, struct buf *out);
/* The backend holding the selected mailbox, or NULL. */
struct backend *proxy_imap_selected(struct imapd_session *s);

/* Filter for LSUB and LIST (SUBSCRIBED) answers of the INBOX's backend
 * (proxy_lsub.c): that backend flags subscribed mailboxes held by other
 * backends \Noselect; the flag is dropped for names the replica holds
 * and the user may see. ctx is unused. */
void proxy_lsub_filter_cb(struct imapd_session *s, struct buf *line,
                          void *ctx);

/* COPY/MOVE (uid: UID form, move: MOVE) with the destination on another
 * backend than the selected one (proxy_copy.c). */
void proxy_copy(struct imapd_session *s, const char *tag, int uid, int move,
                const char *set, const char *dest_ext, const char *dest_server);
/* The server for a new mailbox (proxy_create.c): *server_r (allocated)
 * and *part_r (allocated or NULL). Returns 0 or ERR_PERMISSION /
 * ERR_UNAVAILABLE / ERR_BADNAME. */
int proxy_create_place(struct imapd_session *s, const char *extname,
                       const char *partarg, char **server_r, char **part_r);

/* RENAME with a location (proxy_rename.c, MURDER.md section 5), t at
 * the arguments, server holding the old name: 0 when there is no
 * location (the caller proxies the plain RENAME); else 1 after
 * answering: NO unless admin and old == new; then "RENAME old old part"
 * to server when the location names no other server and a partition,
 * else "XFER old destserver [part]" to server, and a replica kick after
 * OK. A location without '!' is a partition if this node configures
 * one of that name, else a server (Cyrus 3.6). */
int proxy_rename_location(struct imapd_session *s, const char *tag,
                          struct imaptok *t, const char *server);

#endif
