/* tls.h: OpenSSL 3 contexts and connections for lib/stream.
 *
 * A tls_ctx is built once per process (per role) from imapd.conf-style
 * settings and shared by every connection. A tls_conn is one SSL session
 * over a file descriptor pair; lib/stream.c drives it and is its only
 * intended user (protocol code calls stream_starttls_*()).
 *
 * Every function that can fail returns 0 (or a byte count) or a negative
 * ERR_* code from errors.h. error_r strings are allocated; the caller
 * frees them. Connections never raise SIGPIPE: they write with
 * send(MSG_NOSIGNAL) on sockets. */
#ifndef TLS_H
#define TLS_H

#include <stddef.h>
#include <sys/types.h>

enum tls_role {
    TLS_ROLE_SERVER,
    TLS_ROLE_CLIENT
};

/* Peer certificate checking.
 * Server: NONE does not ask for a client certificate; OPTIONAL asks and
 * fails the handshake only if one is presented and does not verify;
 * REQUIRE also fails when none is presented (Cyrus tls_client_certs
 * off/optional/require).
 * Client: anything but NONE verifies the server's chain against the CA
 * file/dir (or the system store when neither is set) and, when a
 * servername is given to tls_conn_new(), its host name. */
enum tls_verify {
    TLS_VERIFY_NONE,
    TLS_VERIFY_OPTIONAL,
    TLS_VERIFY_REQUIRE
};

struct tls_config {
    /* PEM certificate chain; required for a server, optional for a
     * client (client certificate). */
    const char *cert_file;
    /* PEM private key; NULL means it is in cert_file. */
    const char *key_file;
    /* Trust anchors for verifying the peer (either, both or none). */
    const char *ca_file;
    const char *ca_dir;
    /* Cyrus tls_versions: space-separated subset of "tls1_0 tls1_1
     * tls1_2 tls1_3". NULL or "" means "tls1_2 tls1_3". */
    const char *versions;
    /* OpenSSL cipher list for TLS <= 1.2 (Cyrus tls_ciphers); NULL keeps
     * OpenSSL's default. */
    const char *ciphers;
    /* Server only: prefer our cipher order (tls_prefer_server_ciphers). */
    int prefer_server_ciphers;
    enum tls_verify verify;
};

struct tls_ctx;
struct tls_conn;

/* Build a context. On failure returns ERR_INVALID (bad versions string or
 * missing certificate for a server) or ERR_IO (unreadable/mismatching
 * files) and sets *error_r to an allocated message naming the file and
 * OpenSSL's reason. */
int tls_ctx_new(enum tls_role role, const struct tls_config *cfg,
                struct tls_ctx **ctx_r, char **error_r);
/* Contexts are reference-counted by their connections: freeing a context
 * while connections use it is safe. Sets *ctxp = NULL. */
void tls_ctx_free(struct tls_ctx **ctxp);
enum tls_role tls_ctx_role(const struct tls_ctx *ctx);

/* Parse a tls_versions string into the lowest and highest allowed
 * version (OpenSSL TLS1_x_VERSION values) and a mask of versions in
 * between that are not listed (bit n set: TLS 1.n excluded). 0 or
 * ERR_INVALID (unknown word, or nothing listed). */
int tls_parse_versions(const char *versions, int *min_r, int *max_r,
                       unsigned *holes_r);

/* Start a session on rfd/wfd (usually the same socket, which must be
 * non-blocking: lib/stream sets O_NONBLOCK). servername (client role
 * only, may be NULL) is sent as SNI and checked against the server
 * certificate when the context verifies. No I/O happens here. 0, or
 * ERR_IO with *error_r set. */
int tls_conn_new(struct tls_ctx *ctx, int rfd, int wfd, const char *servername,
                 struct tls_conn **conn_r, char **error_r);
/* Free without sending anything. Sets *connp = NULL. */
void tls_conn_free(struct tls_conn **connp);

/* Advance the handshake. 0 when complete, ERR_AGAIN when it must wait for
 * the fd (see tls_conn_want()), ERR_PROTOCOL when it failed
 * (tls_conn_error() says why). */
int tls_conn_handshake(struct tls_conn *c);
/* Read up to len decrypted bytes (driving the handshake if needed).
 * >0 bytes read; 0 clean EOF (close_notify, or TCP EOF: IMAP framing is
 * in-band, so truncation is not an attack here); ERR_AGAIN: wait for the
 * fd events tls_conn_want() returns; ERR_PROTOCOL or ERR_IO: failed, see
 * tls_conn_error(). */
ssize_t tls_conn_read(struct tls_conn *c, void *p, size_t len);
/* Write up to len bytes; >0 bytes taken (partial writes happen).
 * ERR_AGAIN: wait for tls_conn_want() and call again with at least the
 * same bytes at p (the buffer may move). Errors as tls_conn_read(). */
ssize_t tls_conn_write(struct tls_conn *c, const void *p, size_t len);
/* poll() events (POLLIN and/or POLLOUT) the last ERR_AGAIN waits for. */
short tls_conn_want(const struct tls_conn *c);
/* Decrypted bytes OpenSSL holds that tls_conn_read() returns without
 * touching the fd. */
size_t tls_conn_pending(const struct tls_conn *c);
/* Send close_notify, best effort, without waiting for the peer's. */
void tls_conn_shutdown(struct tls_conn *c);

int tls_conn_handshake_done(const struct tls_conn *c);
/* Symmetric cipher strength in bits; 0 before the handshake completes.
 * This is the external SSF given to SASL (SASL_SSF_EXTERNAL). */
int tls_conn_ssf(const struct tls_conn *c);
/* "TLS_AES_256_GCM_SHA384", "TLSv1.3"; "" before the handshake. Valid
 * for the life of the connection. */
const char *tls_conn_cipher(const struct tls_conn *c);
const char *tls_conn_version(const struct tls_conn *c);
/* Common name of a verified peer certificate (SASL EXTERNAL authid), or
 * NULL when the peer sent none or it did not verify. Owned by c. */
const char *tls_conn_peer_cn(struct tls_conn *c);
/* Text of the last failure, or NULL. Owned by c. */
const char *tls_conn_error(struct tls_conn *c);

#endif
