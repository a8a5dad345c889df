/* mupdate_client.h: the MUPDATE client library for backends, tools and the
 * frontend slave (shared/docs/MUPDATE.md section 10).
 *
 * Blocking calls over one connection, each with the stream's timeout.
 * Errors (errors.h): ERR_MUPDATE_NOCONN (connect, banner or authentication
 * failed), ERR_MUPDATE_RESERVE (NO to RESERVE/DEACTIVATE), ERR_MUPDATE_FAIL
 * (NO to ACTIVATE/DELETE, BAD), ERR_PROTOCOL (garbage from the server),
 * ERR_NOMAILBOX (FIND found nothing), ERR_TIMEOUT / ERR_EOF / ERR_IO from
 * the stream. After ERR_PROTOCOL or a stream error the connection is
 * unusable: free it. */
#ifndef MUPDATE_CLIENT_H
#define MUPDATE_CLIENT_H

#include <stddef.h>

#include "config.h"
#include "mupdate_proto.h"
#include "stream.h"

struct mupdate_client;

/* One entry as the server sent it. Strings valid during the callback (or
 * until mupdate_mailbox_free() for mupdate_find()). */
struct mupdate_mailbox {
    char *name;
    char *location;
    char *acl;    /* "" for reserved */
    int reserved; /* RESERVE line, not MAILBOX */
};
void mupdate_mailbox_free(struct mupdate_mailbox **mbp);

/* Return nonzero to stop reading callbacks (the rest of the response is
 * still consumed). */
typedef int mupdate_list_cb(void *ctx, const struct mupdate_mailbox *mb);

/* Connect to server ("host[:port][/tls][/noauth]", port 3905 by default;
 * NULL: cfg's mupdate_server), read the banner and authenticate with cfg's
 * mupdate_authname, mupdate_password, mupdate_realm and mupdate_username
 * (authzid; "" none). timeout_ms bounds the connect and every later wait.
 * 0 and *client_r, or ERR_MUPDATE_NOCONN with *error_r (static text or
 * owned by nothing: copy it if kept). Calls saslglue_client_init(). */
int mupdate_client_connect(const struct config *cfg, const char *server,
                           int timeout_ms, struct mupdate_client **client_r,
                           const char **error_r);
/* Close (without LOGOUT) and free; sets *cp = NULL. */
void mupdate_client_free(struct mupdate_client **cp);

int mupdate_reserve(struct mupdate_client *c, const char *name,
                    const char *location);
int mupdate_activate(struct mupdate_client *c, const char *name,
                     const char *location, const char *acl);
int mupdate_deactivate(struct mupdate_client *c, const char *name,
                       const char *location);
int mupdate_delete(struct mupdate_client *c, const char *name);
/* 0 and *mb_r (caller frees), or ERR_NOMAILBOX. */
int mupdate_find(struct mupdate_client *c, const char *name,
                 struct mupdate_mailbox **mb_r);
/* LIST (prefix NULL: all); cb for each entry. */
int mupdate_list(struct mupdate_client *c, const char *prefix,
                 mupdate_list_cb *cb, void *ctx);
int mupdate_noop(struct mupdate_client *c);
/* LOGOUT and wait for its OK (or BYE). 0 or an error. */
int mupdate_logout(struct mupdate_client *c);

/* ---- pipelining (ctl_mboxlist) and streaming (the slave) ------------ */

/* Send word with args as {N+} literals under a fresh tag (copied into
 * tag_r, which is replaced); nothing is flushed. */
void mupdate_client_send(struct mupdate_client *c, const char *word,
                         const char *const *args, size_t nargs,
                         struct buf *tag_r);
/* Read until the next tagged OK/NO/BAD (data lines go to cb if not NULL,
 * whatever their tag): *status_r is "OK", "NO" or "BAD" (static), tag_r
 * gets its tag. 0, ERR_PROTOCOL (BYE, garbage), or a stream error. */
int mupdate_client_response(struct mupdate_client *c, mupdate_list_cb *cb,
                            void *ctx, struct buf *tag_r,
                            const char **status_r);
/* ---- windowed pipelining (ctl_mboxlist -m) ---------------------------
 *
 * Commands sent with mupdate_client_pipe() are written while the answers
 * to earlier ones are read: at most MUPDATE_CLIENT_WINDOW stay
 * unanswered, and whenever the socket does not take the queued output
 * the answers that arrived are read first. So a server that stops reading
 * while its own output is full (Cyrus's master) never deadlocks with us,
 * whatever the number of commands. Do not mix with mupdate_client_send()
 * or the blocking calls until mupdate_client_pipe_wait() returned. */
#define MUPDATE_CLIENT_WINDOW 1000

/* A command sent with mupdate_client_pipe() was answered: status "OK",
 * "NO" or "BAD" (static), tag its tag. Valid during the call. */
typedef void mupdate_done_cb(void *ctx, const char *tag, const char *status);

/* Where the answers go: data lines (MAILBOX/RESERVE) to data_cb, tagged
 * answers to done_cb, either may be NULL. Kept until changed. */
void mupdate_client_pipe_set_cb(struct mupdate_client *c,
                                mupdate_list_cb *data_cb,
                                mupdate_done_cb *done_cb, void *ctx);
/* Queue word with args under a fresh tag (copied into tag_r when not
 * NULL), then write and read as needed to keep the window. 0,
 * ERR_PROTOCOL (BYE or garbage) or a stream error (ERR_TIMEOUT: nothing
 * moved either way for the connection's timeout). */
int mupdate_client_pipe(struct mupdate_client *c, const char *word,
                        const char *const *args, size_t nargs,
                        struct buf *tag_r);
/* Write everything and read until every piped command is answered. 0 or
 * an error as above. */
int mupdate_client_pipe_wait(struct mupdate_client *c);
/* Piped commands not answered yet. */
size_t mupdate_client_pipe_outstanding(const struct mupdate_client *c);

/* The connection's stream (flush it after mupdate_client_send()). */
struct stream *mupdate_client_stream(struct mupdate_client *c);
/* The connection's parser (for non-blocking readers of the stream). */
struct mupdate_parser *mupdate_client_parser(struct mupdate_client *c);
/* The server's greeting text after "* OK MUPDATE" (its 4 strings
 * joined with spaces). */
const char *mupdate_client_banner(const struct mupdate_client *c);
/* Whether the banner offered XCHANGES (resync by changes, ours only). */
int mupdate_client_has_xchanges(const struct mupdate_client *c);

/* Fill *mb from a parsed MAILBOX/RESERVE/DELETE unit (pointers into the
 * parser). Returns 1 for MAILBOX/RESERVE, 2 for DELETE (location and acl
 * NULL), 0 for another word, ERR_PROTOCOL for a bad argument count. */
int mupdate_client_data(struct mupdate_parser *p, struct mupdate_mailbox *mb);

/* Make this frontend's replica current: connect to the slave's kick socket
 * {configdirectory}/socket/mupdate.target and wait (at most timeout_ms) for
 * its "ok". 0, ERR_MUPDATE_NOCONN (no slave), ERR_TIMEOUT. */
int mupdate_kick(const char *configdirectory, int timeout_ms);

#endif
