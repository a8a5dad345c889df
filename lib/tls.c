/* tls.c: OpenSSL 3 contexts and connections for lib/stream. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "buf.h"
#include "errors.h"
#include "tls.h"
#include "xmalloc.h"

struct tls_ctx {
    SSL_CTX *ssl_ctx;
    /* our fd BIO (see below); lives as long as any connection */
    BIO_METHOD *bio_method;
    enum tls_role role;
    enum tls_verify verify;
    unsigned refs;
};

struct tls_conn {
    struct tls_ctx *ctx;
    SSL *ssl;
    short want;
    int done;
    char *peer_cn;
    int peer_cn_done;
    struct buf err;
};

/* ---- a file-descriptor BIO -------------------------------------------
 * OpenSSL's socket BIO writes with write(), which raises SIGPIPE when the
 * peer has gone; a library must not kill its caller for that. This BIO
 * uses send(MSG_NOSIGNAL) on sockets (read()/write() otherwise, so pipes
 * work in tests and tools) and supports distinct read and write fds. */

struct tls_bio_fds {
    int rfd, wfd;
    int rsock, wsock;
    int eof; /* OpenSSL asks (BIO_CTRL_EOF) to tell EOF from errors */
};

static int
tls_fd_is_socket(int fd)
{
    struct stat st;

    return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

static int
tls_bio_write(BIO *b, const char *p, int len)
{
    struct tls_bio_fds *f = BIO_get_data(b);
    ssize_t n;

    BIO_clear_retry_flags(b);
    if (f->wsock)
        n = send(f->wfd, p, (size_t)len, MSG_NOSIGNAL);
    else
        n = write(f->wfd, p, (size_t)len);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        BIO_set_retry_write(b);
    return (int)n;
}

static int
tls_bio_read(BIO *b, char *p, int len)
{
    struct tls_bio_fds *f = BIO_get_data(b);
    ssize_t n;

    BIO_clear_retry_flags(b);
    if (f->rsock)
        n = recv(f->rfd, p, (size_t)len, 0);
    else
        n = read(f->rfd, p, (size_t)len);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        BIO_set_retry_read(b);
    if (n == 0 && len > 0)
        f->eof = 1;
    return (int)n;
}

static int
tls_bio_puts(BIO *b, const char *str)
{
    return tls_bio_write(b, str, (int)strlen(str));
}

static long
tls_bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    struct tls_bio_fds *f = BIO_get_data(b);

    if (f == NULL)
        return 0;
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_EOF:
        return f->eof;
    case BIO_C_GET_FD:
        if (ptr != NULL)
            *(int *)ptr = f->rfd;
        return f->rfd;
    default:
        return 0;
    }
}

static int
tls_bio_create(BIO *b)
{
    BIO_set_data(b, NULL);
    BIO_set_init(b, 0);
    return 1;
}

static int
tls_bio_destroy(BIO *b)
{
    free(BIO_get_data(b));
    BIO_set_data(b, NULL);
    return 1;
}

static BIO_METHOD *
tls_bio_method_new(void)
{
    BIO_METHOD *m;
    int type = BIO_get_new_index();

    if (type < 0)
        return NULL;
    m = BIO_meth_new(type | BIO_TYPE_SOURCE_SINK, "cyrmurder fd");
    if (m == NULL)
        return NULL;
    BIO_meth_set_write(m, tls_bio_write);
    BIO_meth_set_read(m, tls_bio_read);
    BIO_meth_set_puts(m, tls_bio_puts);
    BIO_meth_set_ctrl(m, tls_bio_ctrl);
    BIO_meth_set_create(m, tls_bio_create);
    BIO_meth_set_destroy(m, tls_bio_destroy);
    return m;
}

/* ---- errors ----------------------------------------------------------- */

/* Append OpenSSL's queued reasons to b and clear the queue. */
static void
tls_append_ssl_errors(struct buf *b)
{
    unsigned long code;
    char tmp[256];
    int first = 1;

    while ((code = ERR_get_error()) != 0) {
        ERR_error_string_n(code, tmp, sizeof(tmp));
        buf_appendcstr(b, first ? ": " : "; ");
        buf_appendcstr(b, tmp);
        first = 0;
    }
}

static char *
tls_error_str(const char *what, const char *arg)
{
    struct buf b = BUF_INITIALIZER;

    buf_appendcstr(&b, what);
    if (arg != NULL)
        buf_printf(&b, " %s", arg);
    tls_append_ssl_errors(&b);
    return buf_release(&b);
}

/* ---- contexts --------------------------------------------------------- */

static const struct {
    const char *name;
    int version;
} tls_version_names[] = {
    {"tls1_0", TLS1_VERSION  },
    {"tls1_1", TLS1_1_VERSION},
    {"tls1_2", TLS1_2_VERSION},
    {"tls1_3", TLS1_3_VERSION},
};

int
tls_parse_versions(const char *versions, int *min_r, int *max_r,
                   unsigned *holes_r)
{
    unsigned listed = 0, holes = 0;
    const char *p = versions;
    int lo = -1, hi = -1;
    size_t i;

    if (p == NULL || p[strspn(p, " \t,")] == '\0')
        p = "tls1_2 tls1_3";
    while (*p != '\0') {
        size_t n;
        int found = 0;

        p += strspn(p, " \t,");
        n = strcspn(p, " \t,");
        if (n == 0)
            break;
        for (i = 0; i < ARRAY_SIZE(tls_version_names); i++) {
            if (strlen(tls_version_names[i].name) == n
                && util_strncasecmp(p, tls_version_names[i].name, n) == 0) {
                listed |= 1u << i;
                found = 1;
            }
        }
        if (!found)
            return ERR_INVALID;
        p += n;
    }
    if (listed == 0)
        return ERR_INVALID;
    for (i = 0; i < ARRAY_SIZE(tls_version_names); i++) {
        if (listed & (1u << i)) {
            if (lo < 0)
                lo = (int)i;
            hi = (int)i;
        }
    }
    for (i = (size_t)lo; i <= (size_t)hi; i++) {
        if (!(listed & (1u << i)))
            holes |= 1u << i;
    }
    *min_r = tls_version_names[lo].version;
    *max_r = tls_version_names[hi].version;
    *holes_r = holes;
    return 0;
}

static int
tls_ctx_setup(struct tls_ctx *ctx, const struct tls_config *cfg, char **error_r)
{
    static const uint64_t hole_ops[] = {SSL_OP_NO_TLSv1, SSL_OP_NO_TLSv1_1,
                                        SSL_OP_NO_TLSv1_2, SSL_OP_NO_TLSv1_3};
    SSL_CTX *sc = ctx->ssl_ctx;
    int vmin, vmax, mode = SSL_VERIFY_NONE;
    unsigned holes, i;
    uint64_t ops;

    if (tls_parse_versions(cfg->versions, &vmin, &vmax, &holes) < 0) {
        *error_r = tls_error_str("tls_versions: unknown or empty list:",
                                 cfg->versions);
        return ERR_INVALID;
    }
    if (!SSL_CTX_set_min_proto_version(sc, vmin)
        || !SSL_CTX_set_max_proto_version(sc, vmax)) {
        *error_r = tls_error_str("tls_versions not supported:", cfg->versions);
        return ERR_INVALID;
    }
    /* No TLS compression (CRIME); a TCP EOF without close_notify is a
     * plain EOF (IMAP framing is in-band); no renegotiation (DoS). */
    ops = SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF
          | SSL_OP_NO_RENEGOTIATION;
    for (i = 0; i < ARRAY_SIZE(hole_ops); i++) {
        if (holes & (1u << i))
            ops |= hole_ops[i];
    }
    if (ctx->role == TLS_ROLE_SERVER && cfg->prefer_server_ciphers)
        ops |= SSL_OP_CIPHER_SERVER_PREFERENCE;
    SSL_CTX_set_options(sc, ops);
    /* lib/stream retries writes from a buffer that may have moved and
     * wants partial progress reported */
    SSL_CTX_set_mode(sc, SSL_MODE_ENABLE_PARTIAL_WRITE
                             | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (cfg->ciphers != NULL && *cfg->ciphers != '\0'
        && !SSL_CTX_set_cipher_list(sc, cfg->ciphers)) {
        *error_r = tls_error_str("tls_ciphers:", cfg->ciphers);
        return ERR_INVALID;
    }

    if (cfg->cert_file != NULL) {
        const char *key = cfg->key_file ? cfg->key_file : cfg->cert_file;

        if (!SSL_CTX_use_certificate_chain_file(sc, cfg->cert_file)) {
            *error_r = tls_error_str("cannot load certificate", cfg->cert_file);
            return ERR_IO;
        }
        if (!SSL_CTX_use_PrivateKey_file(sc, key, SSL_FILETYPE_PEM)) {
            *error_r = tls_error_str("cannot load private key", key);
            return ERR_IO;
        }
        if (!SSL_CTX_check_private_key(sc)) {
            *error_r = tls_error_str("private key does not match", key);
            return ERR_IO;
        }
    } else if (ctx->role == TLS_ROLE_SERVER) {
        *error_r = xstrdup("TLS server needs a certificate (tls_server_cert)");
        return ERR_INVALID;
    }

    if (cfg->ca_file != NULL || cfg->ca_dir != NULL) {
        if (!SSL_CTX_load_verify_locations(sc, cfg->ca_file, cfg->ca_dir)) {
            *error_r = tls_error_str("cannot load CA",
                                     cfg->ca_file ? cfg->ca_file : cfg->ca_dir);
            return ERR_IO;
        }
    } else if (ctx->role == TLS_ROLE_CLIENT && cfg->verify != TLS_VERIFY_NONE
               && !SSL_CTX_set_default_verify_paths(sc)) {
        *error_r = tls_error_str("cannot load the system CA store", NULL);
        return ERR_IO;
    }

    if (ctx->role == TLS_ROLE_SERVER) {
        static const unsigned char sid[] = "cyrmurder";

        SSL_CTX_set_dh_auto(sc, 1);
        /* required for session resumption when client certs are asked */
        SSL_CTX_set_session_id_context(sc, sid, sizeof(sid) - 1);
        if (cfg->verify == TLS_VERIFY_OPTIONAL)
            mode = SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE;
        else if (cfg->verify == TLS_VERIFY_REQUIRE)
            mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
                   | SSL_VERIFY_CLIENT_ONCE;
        if (mode != SSL_VERIFY_NONE && cfg->ca_file != NULL) {
            STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(cfg->ca_file);

            if (names != NULL)
                SSL_CTX_set_client_CA_list(sc, names);
        }
    } else if (cfg->verify != TLS_VERIFY_NONE) {
        mode = SSL_VERIFY_PEER;
    }
    SSL_CTX_set_verify(sc, mode, NULL);
    return 0;
}

int
tls_ctx_new(enum tls_role role, const struct tls_config *cfg,
            struct tls_ctx **ctx_r, char **error_r)
{
    struct tls_ctx *ctx = xzmalloc(sizeof(*ctx));
    int r;

    *ctx_r = NULL;
    ERR_clear_error();
    ctx->role = role;
    ctx->verify = cfg->verify;
    ctx->refs = 1;
    ctx->ssl_ctx = SSL_CTX_new(role == TLS_ROLE_SERVER ? TLS_server_method()
                                                       : TLS_client_method());
    ctx->bio_method = tls_bio_method_new();
    if (ctx->ssl_ctx == NULL || ctx->bio_method == NULL) {
        *error_r = tls_error_str("cannot create an OpenSSL context", NULL);
        tls_ctx_free(&ctx);
        return ERR_IO;
    }
    r = tls_ctx_setup(ctx, cfg, error_r);
    if (r < 0) {
        tls_ctx_free(&ctx);
        return r;
    }
    *ctx_r = ctx;
    return 0;
}

static void
tls_ctx_unref(struct tls_ctx *ctx)
{
    ASSERT(ctx->refs > 0);
    if (--ctx->refs > 0)
        return;
    SSL_CTX_free(ctx->ssl_ctx);
    if (ctx->bio_method != NULL)
        BIO_meth_free(ctx->bio_method);
    free(ctx);
}

void
tls_ctx_free(struct tls_ctx **ctxp)
{
    struct tls_ctx *ctx = *ctxp;

    if (ctx == NULL)
        return;
    *ctxp = NULL;
    tls_ctx_unref(ctx);
}

enum tls_role
tls_ctx_role(const struct tls_ctx *ctx)
{
    return ctx->role;
}

/* ---- connections ------------------------------------------------------ */

int
tls_conn_new(struct tls_ctx *ctx, int rfd, int wfd, const char *servername,
             struct tls_conn **conn_r, char **error_r)
{
    struct tls_conn *c;
    struct tls_bio_fds *f;
    BIO *bio;

    *conn_r = NULL;
    ERR_clear_error();
    bio = BIO_new(ctx->bio_method);
    if (bio == NULL) {
        *error_r = tls_error_str("cannot create a BIO", NULL);
        return ERR_IO;
    }
    f = xzmalloc(sizeof(*f));
    f->rfd = rfd;
    f->wfd = wfd;
    f->rsock = tls_fd_is_socket(rfd);
    f->wsock = wfd == rfd ? f->rsock : tls_fd_is_socket(wfd);
    BIO_set_data(bio, f);
    BIO_set_init(bio, 1);

    c = xzmalloc(sizeof(*c));
    c->ssl = SSL_new(ctx->ssl_ctx);
    if (c->ssl == NULL) {
        *error_r = tls_error_str("cannot create an SSL session", NULL);
        BIO_free(bio);
        free(c);
        return ERR_IO;
    }
    ctx->refs++;
    c->ctx = ctx;
    /* one BIO for both directions; SSL_set_bio() takes our reference
     * and adds the second one itself */
    SSL_set_bio(c->ssl, bio, bio);

    if (ctx->role == TLS_ROLE_SERVER) {
        SSL_set_accept_state(c->ssl);
    } else {
        if (servername != NULL && *servername != '\0') {
            unsigned char addr[16];
            int is_ip = inet_pton(AF_INET, servername, addr) == 1
                        || inet_pton(AF_INET6, servername, addr) == 1;
            int ok = 1;

            /* RFC 6066 3: SNI carries host names, never literal IPs */
            if (!is_ip)
                ok = SSL_set_tlsext_host_name(c->ssl, servername);
            if (ok && ctx->verify != TLS_VERIFY_NONE) {
                X509_VERIFY_PARAM *vp = SSL_get0_param(c->ssl);

                ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, servername)
                           : SSL_set1_host(c->ssl, servername);
            }
            if (!ok) {
                *error_r = tls_error_str("bad server name", servername);
                tls_conn_free(&c);
                return ERR_INVALID;
            }
        }
        SSL_set_connect_state(c->ssl);
    }
    *conn_r = c;
    return 0;
}

void
tls_conn_free(struct tls_conn **connp)
{
    struct tls_conn *c = *connp;

    if (c == NULL)
        return;
    *connp = NULL;
    SSL_free(c->ssl);
    tls_ctx_unref(c->ctx);
    free(c->peer_cn);
    buf_free(&c->err);
    free(c);
}

/* Map an SSL_* call's result; sets c->want or the error text. */
static int
tls_conn_result(struct tls_conn *c, int ret, const char *what)
{
    int saved_errno = errno;
    int e = SSL_get_error(c->ssl, ret);
    long vr;

    if (!c->done && SSL_is_init_finished(c->ssl))
        c->done = 1;

    switch (e) {
    case SSL_ERROR_WANT_READ:
        c->want = POLLIN;
        return ERR_AGAIN;
    case SSL_ERROR_WANT_WRITE:
        c->want = POLLOUT;
        return ERR_AGAIN;
    case SSL_ERROR_ZERO_RETURN:
        return ERR_EOF;
    default:
        break;
    }
    buf_reset(&c->err);
    buf_appendcstr(&c->err, what);
    vr = SSL_get_verify_result(c->ssl);
    if (!c->done && vr != X509_V_OK
        && (SSL_get_verify_mode(c->ssl) & SSL_VERIFY_PEER)) {
        buf_printf(&c->err, ": certificate verification failed: %s",
                   X509_verify_cert_error_string(vr));
    }
    /* a reset after the handshake is the peer going away, like EOF */
    if (e == SSL_ERROR_SYSCALL && c->done && ERR_peek_error() == 0
        && (saved_errno == ECONNRESET || saved_errno == 0))
        return ERR_EOF;
    if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
        if (ret == 0 || saved_errno == 0)
            buf_appendcstr(&c->err, ": connection closed by peer");
        else
            buf_printf(&c->err, ": %s", strerror(saved_errno));
        return c->done ? ERR_IO : ERR_PROTOCOL;
    }
    tls_append_ssl_errors(&c->err);
    return ERR_PROTOCOL;
}

int
tls_conn_handshake(struct tls_conn *c)
{
    int ret, r;

    if (c->done)
        return 0;
    ERR_clear_error();
    errno = 0;
    ret = SSL_do_handshake(c->ssl);
    if (ret == 1) {
        c->done = 1;
        return 0;
    }
    r = tls_conn_result(c, ret, "TLS handshake failed");
    if (r == ERR_EOF) {
        buf_setcstr(&c->err, "TLS handshake failed: connection closed");
        r = ERR_PROTOCOL;
    }
    return r;
}

ssize_t
tls_conn_read(struct tls_conn *c, void *p, size_t len)
{
    int n, r;

    ERR_clear_error();
    errno = 0;
    n = SSL_read(c->ssl, p, len > INT_MAX ? INT_MAX : (int)len);
    if (n > 0) {
        c->done = 1;
        return n;
    }
    r = tls_conn_result(c, n,
                        c->done ? "TLS read failed" : "TLS handshake failed");
    if (r == ERR_EOF)
        return 0;
    return r;
}

ssize_t
tls_conn_write(struct tls_conn *c, const void *p, size_t len)
{
    int n, r;

    if (len == 0)
        return 0;
    ERR_clear_error();
    errno = 0;
    n = SSL_write(c->ssl, p, len > (1u << 20) ? (1 << 20) : (int)len);
    if (n > 0) {
        c->done = 1;
        return n;
    }
    r = tls_conn_result(c, n,
                        c->done ? "TLS write failed" : "TLS handshake failed");
    if (r == ERR_EOF) {
        buf_setcstr(&c->err, "TLS write failed: peer closed the session");
        r = ERR_IO;
    }
    return r;
}

short
tls_conn_want(const struct tls_conn *c)
{
    return c->want;
}

size_t
tls_conn_pending(const struct tls_conn *c)
{
    int n = SSL_pending(c->ssl);

    return n > 0 ? (size_t)n : 0;
}

void
tls_conn_shutdown(struct tls_conn *c)
{
    ERR_clear_error();
    if (SSL_is_init_finished(c->ssl))
        (void)SSL_shutdown(c->ssl);
    ERR_clear_error();
}

int
tls_conn_handshake_done(const struct tls_conn *c)
{
    return SSL_is_init_finished(c->ssl) ? 1 : 0;
}

int
tls_conn_ssf(const struct tls_conn *c)
{
    if (!SSL_is_init_finished(c->ssl))
        return 0;
    return SSL_get_cipher_bits(c->ssl, NULL);
}

const char *
tls_conn_cipher(const struct tls_conn *c)
{
    if (!SSL_is_init_finished(c->ssl))
        return "";
    return SSL_get_cipher_name(c->ssl);
}

const char *
tls_conn_version(const struct tls_conn *c)
{
    if (!SSL_is_init_finished(c->ssl))
        return "";
    return SSL_get_version(c->ssl);
}

const char *
tls_conn_peer_cn(struct tls_conn *c)
{
    X509 *cert;
    X509_NAME *subject;
    int idx, n;
    unsigned char *utf8 = NULL;

    if (c->peer_cn_done || !SSL_is_init_finished(c->ssl))
        return c->peer_cn;
    c->peer_cn_done = 1;
    cert = SSL_get0_peer_certificate(c->ssl);
    if (cert == NULL || SSL_get_verify_result(c->ssl) != X509_V_OK)
        return NULL;
    /* with SSL_VERIFY_NONE the result is OK without any check */
    if (!(SSL_get_verify_mode(c->ssl) & SSL_VERIFY_PEER))
        return NULL;
    subject = X509_get_subject_name(cert);
    idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    if (idx < 0)
        return NULL;
    n = ASN1_STRING_to_UTF8(
        &utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx)));
    /* an embedded NUL would let "admin\0.evil" pass as "admin" */
    if (n > 0 && memchr(utf8, '\0', (size_t)n) == NULL)
        c->peer_cn = xstrndup((const char *)utf8, (size_t)n);
    OPENSSL_free(utf8);
    return c->peer_cn;
}

const char *
tls_conn_error(struct tls_conn *c)
{
    return buf_len(&c->err) ? buf_cstring(&c->err) : NULL;
}
