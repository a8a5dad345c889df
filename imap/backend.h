/* backend.h: connect to a backend and authenticate as the proxy.
 *
 * THE one routine the IMAP, POP3 and LMTP proxies and XFER use to reach a
 * backend (MURDER.md section 2). A small per-protocol description (struct
 * backend_protocol, like Cyrus's struct protocol_t) gives the framing of
 * the banner, the capability request, STARTTLS, AUTHENTICATE, the ping
 * and the logout; the code below is shared.
 *
 * Steps of backend_connect():
 *   1. find host:port (backend_resolve()), connect with `client_timeout`
 *      (default 10 s) and TCP_NODELAY;
 *   2. read the banner; ask for capabilities unless the banner had them
 *      (IMAP "* OK [CAPABILITY ...]");
 *   3. STARTTLS only when no offered mechanism is usable without it and
 *      the caller gave a TLS client context;
 *   4. SASL (lib/saslglue client side) with authcid `proxy_authname`,
 *      password `<shorthost>_password` else `proxy_password`, realm
 *      `proxy_realm`, authzid = the user (or none), using SASL-IR when the
 *      backend advertises it (IMAP) or the protocol always allows it.
 *
 * Where a backend is: the server name from a mailboxes.db location
 * ("backend1") maps to an address per protocol, first match wins:
 *   - `<server>_<proto>_addr: host:port` (our imapd.conf extension, e.g.
 *     `backend1_imap_addr: 127.0.0.1:12110`, `_pop3_addr`, `_lmtp_addr`),
 *     so one host can run a whole murder;
 *   - the server name itself as `host:port` (Cyrus/Cassandane style; the
 *     port is used for every protocol, as Cyrus does) or `/path` (a UNIX
 *     socket);
 *   - getaddrinfo(server, protocol service name) ("imap", "pop3", "lmtp").
 *
 * A struct backend_pool caches one authenticated connection per server for
 * a session: reused while alive, pinged (NOOP) before reuse when it sat
 * idle, dropped after 5 minutes idle. All functions return 0 or a negative
 * ERR_*; connection failures are ERR_UNAVAILABLE, refused authentication
 * ERR_AUTH. Error texts are for the log. */
#ifndef BACKEND_H
#define BACKEND_H

#include <time.h>

#include "buf.h"

struct config;
struct stream;
struct tls_ctx;

/* How the capability list is framed. */
enum backend_capa_style {
    BACKEND_CAPA_IMAP, /* "* CAPABILITY a b" then "<tag> OK" */
    BACKEND_CAPA_POP3, /* "+OK", one capability per line, "." */
    BACKEND_CAPA_LMTP  /* "250-a", ..., "250 z" */
};

struct backend_protocol {
    const char *name;         /* "imap": <server>_imap_addr, getaddrinfo */
    const char *sasl_service; /* "imap", "pop", "lmtp" */
    const char *banner_ok;    /* prefix of a good banner */
    const char *capa_cmd;     /* "C01 CAPABILITY"; "%s" = our host name */
    enum backend_capa_style capa_style;
    const char *capa_done;     /* IMAP: the tag + SP ending the reply */
    const char *mech_prefix;   /* "AUTH=" (IMAP), "SASL " (POP3),
                                * "AUTH " (LMTP) */
    const char *sasl_ir_capa;  /* capability enabling SASL-IR; NULL:
                                * always allowed */
    const char *starttls_cmd;  /* "S01 STARTTLS" */
    const char *starttls_capa; /* "STARTTLS", "STLS" */
    const char *starttls_ok;   /* "S01 OK", "+OK", "220" */
    const char *auth_cmd;      /* "A01 AUTHENTICATE", "AUTH" */
    const char *auth_cont;     /* "+ ", "+ ", "334 " */
    const char *auth_ok;       /* "A01 OK", "+OK", "235" */
    const char *ping_cmd;      /* "N01 NOOP" */
    const char *ping_ok;       /* "N01 OK", "+OK", "250" */
    const char *ping_done;     /* "N01 " for IMAP, NULL: first line */
    const char *logout_cmd;    /* "Q01 LOGOUT", "QUIT" */
    const char *logout_done;   /* "Q01 ", NULL: first line */
};

extern const struct backend_protocol backend_proto_imap;
extern const struct backend_protocol backend_proto_pop3;
extern const struct backend_protocol backend_proto_lmtp;

struct backend;

/* Where server is reachable for proto, per the rules at the top. On 0,
 * host holds a host name/address or a "/path" (then port is empty) and
 * port a number or service name (both replaced). ERR_INVALID for an empty
 * server or a malformed `_addr` value. */
int backend_resolve(const struct config *cfg, const char *server,
                    const struct backend_protocol *proto, struct buf *host,
                    struct buf *port);

/* Connect to server and authenticate as the proxy with authzid (NULL or
 * "": none; LMTP, XFER). tls may be NULL (no STARTTLS then). Returns 0 and
 * *be_r, or ERR_UNAVAILABLE (cannot connect, timeout, bad banner),
 * ERR_AUTH (the backend refused us), ERR_NOTSUPPORTED (no common
 * mechanism), ERR_PROTOCOL; *error_r is then an allocated message the
 * caller frees. */
int backend_connect(const struct config *cfg, const char *server,
                    const struct backend_protocol *proto, const char *authzid,
                    struct tls_ctx *tls, struct backend **be_r, char **error_r);

/* Send the protocol's logout, wait briefly for its answer, close and free.
 * Sets *bep = NULL; NULL is fine. */
void backend_logout(struct backend **bep);
/* Close and free without a word (a broken connection). */
void backend_free(struct backend **bep);

/* The connection's stream (blocking, `client_timeout` per wait). Owned by
 * the backend. */
struct stream *backend_stream(struct backend *be);
/* The server name it was connected for. */
const char *backend_server(const struct backend *be);
/* Whether the backend advertised capability capa (case-insensitive; for
 * IMAP also "NAME=" prefixes as given). Capabilities are those after
 * authentication when the backend sent them with the OK, else the
 * pre-authentication ones. */
int backend_has_capa(const struct backend *be, const char *capa);
/* Send the protocol's ping and wait for its answer; untagged lines before
 * it are discarded. 0 or ERR_UNAVAILABLE (then the connection is dead). */
int backend_ping(struct backend *be);
/* Note that the connection was used now (for the idle rules). */
void backend_touch(struct backend *be);
/* Seconds since the last use. */
time_t backend_idle(const struct backend *be);

/* ---- the per-session cache ----------------------------------------- */

#define BACKEND_IDLE_DROP 300 /* seconds: drop cached connections */
#define BACKEND_IDLE_PING 1   /* seconds: ping before reusing */

struct backend_pool;

/* A cache of connections for one session acting as authzid (copied). cfg
 * and tls (may be NULL) must outlive the pool. */
struct backend_pool *backend_pool_new(const struct config *cfg,
                                      const struct backend_protocol *proto,
                                      const char *authzid, struct tls_ctx *tls);
/* Log out of every cached backend and free; sets *poolp = NULL. */
void backend_pool_free(struct backend_pool **poolp);
/* A live connection to server: the cached one (pinged first if idle for
 * BACKEND_IDLE_PING seconds or more and `except` is not it; reconnected if
 * the ping fails) or a new one. Connections idle for BACKEND_IDLE_DROP
 * seconds are logged out first. Returns 0 and *be_r (owned by the pool),
 * or the errors of backend_connect() with *error_r allocated. */
int backend_pool_get(struct backend_pool *pool, const char *server,
                     struct backend **be_r, char **error_r);
/* The cached connection to server, or NULL; no ping, no connect. */
struct backend *backend_pool_find(struct backend_pool *pool,
                                  const char *server);
/* Forget a broken connection (frees it, *bep = NULL). */
void backend_pool_drop(struct backend_pool *pool, struct backend **bep);
/* Calls cb for every cached connection (ENABLE replay, LOGOUT). */
typedef void backend_pool_cb(struct backend *be, void *ctx);
void backend_pool_foreach(struct backend_pool *pool, backend_pool_cb *cb,
                          void *ctx);

#endif
