/* stream_layers.c: installing TLS, the SASL security layer and DEFLATE on
 * a stream (see stream.h for the contracts). */
#include <poll.h>
#include <string.h>

#include <sasl/sasl.h>

#include "errors.h"
#include "stream.h"
#include "stream_private.h"
#include "stream_zlib.h"
#include "tls.h"
#include "xmalloc.h"

/* ---- layers ----------------------------------------------------------- */

static int
stream_starttls(struct stream *s, struct tls_ctx *ctx, const char *servername,
                char **error_r)
{
    int r;

    *error_r = NULL;
    if (s->tls != NULL || s->sasl != NULL || s->zlib != NULL) {
        *error_r = xstrdup(s->tls ? "TLS is already active"
                                  : "TLS cannot start over SASL or DEFLATE");
        return ERR_PROTOCOL;
    }
    r = stream_flush_all(s);
    if (r < 0) {
        *error_r = xstrdup(stream_error(s) ? stream_error(s) : error_text(r));
        return r;
    }
    /* RFC 3207 6, RFC 2595 3.1: anything that arrived in plaintext before
     * the handshake may have been injected by a man in the middle; it
     * must not be taken as sent under TLS. */
    buf_reset(&s->in);
    s->in_off = 0;
    s->discarding = 0;
    s->toolong_pending = 0;
    r = tls_conn_new(ctx, s->rfd, s->wfd, servername, &s->tls, error_r);
    if (r < 0)
        return r;
    for (;;) {
        r = tls_conn_handshake(s->tls);
        if (r == 0)
            return 0;
        if (r == ERR_AGAIN) {
            if (s->nonblock) {
                /* finished inside fill/flush */
                s->rwant = tls_conn_want(s->tls);
                return 0;
            }
            r = stream_poll_fds(s, tls_conn_want(s->tls), s->timeout_ms);
            if (r == 0)
                continue;
            stream_set_error_text(s, "TLS handshake %s",
                                  r == ERR_TIMEOUT ? "timed out"
                                                   : "poll failed");
        } else {
            stream_set_error_text(s, "%s", tls_conn_error(s->tls));
        }
        /* a half-done handshake leaves the connection unusable */
        s->rerr = r;
        stream_fail_output(s, r);
        *error_r = xstrdup(stream_error(s));
        return r;
    }
}

int
stream_starttls_server(struct stream *s, struct tls_ctx *ctx, char **error_r)
{
    ASSERT(tls_ctx_role(ctx) == TLS_ROLE_SERVER);
    return stream_starttls(s, ctx, NULL, error_r);
}

int
stream_starttls_client(struct stream *s, struct tls_ctx *ctx,
                       const char *servername, char **error_r)
{
    ASSERT(tls_ctx_role(ctx) == TLS_ROLE_CLIENT);
    return stream_starttls(s, ctx, servername, error_r);
}

int
stream_tls_active(const struct stream *s)
{
    return s->tls != NULL;
}

int
stream_tls_ssf(const struct stream *s)
{
    return s->tls ? tls_conn_ssf(s->tls) : 0;
}

const char *
stream_tls_cipher(const struct stream *s)
{
    return s->tls ? tls_conn_cipher(s->tls) : "";
}

const char *
stream_tls_version(const struct stream *s)
{
    return s->tls ? tls_conn_version(s->tls) : "";
}

const char *
stream_tls_peer_cn(struct stream *s)
{
    return s->tls ? tls_conn_peer_cn(s->tls) : NULL;
}

/* Bytes buffered but not consumed when a decoding layer starts were sent
 * after the point where the layer took effect: take them back out. */
static void
stream_take_unconsumed(struct stream *s, struct buf *raw)
{
    buf_appendmap(raw, s->in.s + s->in_off, s->in.len - s->in_off);
    buf_reset(&s->in);
    s->in_off = 0;
}

int
stream_set_sasl(struct stream *s, struct sasl_conn *conn)
{
    const void *v = NULL;
    struct buf held = BUF_INITIALIZER;
    int ssf, r;
    unsigned maxout;

    if (s->sasl != NULL || s->zlib != NULL)
        return ERR_PROTOCOL;
    if (sasl_getprop(conn, SASL_SSF, &v) != SASL_OK || v == NULL)
        return ERR_PROTOCOL;
    ssf = (int)*(const sasl_ssf_t *)v;
    if (ssf == 0)
        return 0;
    if (sasl_getprop(conn, SASL_MAXOUTBUF, &v) != SASL_OK || v == NULL)
        return ERR_PROTOCOL;
    maxout = *(const unsigned *)v;
    r = stream_flush_all(s);
    if (r < 0)
        return r;
    s->sasl = conn;
    s->sasl_ssf = ssf;
    s->sasl_maxout = maxout > 0 ? maxout : 4096;
    stream_take_unconsumed(s, &held);
    if (held.len > 0 && stream_decode_input(s, held.s, held.len) < 0)
        r = s->rerr;
    buf_free(&held);
    return r;
}

int
stream_sasl_ssf(const struct stream *s)
{
    return s->sasl ? s->sasl_ssf : 0;
}

int
stream_enable_deflate(struct stream *s)
{
    int r;

    if (s->zlib != NULL)
        return ERR_PROTOCOL;
    r = stream_flush_all(s);
    if (r < 0)
        return r;
    s->zlib = stream_zlib_new();
    /* the compressed bytes already here are inflated by the next fill */
    stream_take_unconsumed(s, &s->zin);
    return 0;
}

int
stream_deflate_active(const struct stream *s)
{
    return s->zlib != NULL;
}
