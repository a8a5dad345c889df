/* backend.c: connect to a backend and authenticate as the proxy (see
 * backend.h). */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "backend.h"
#include "config.h"
#include "errors.h"
#include "saslglue.h"
#include "strarray.h"
#include "stream.h"
#include "util.h"
#include "xmalloc.h"

const struct backend_protocol backend_proto_imap = {
    .name = "imap",
    .sasl_service = "imap",
    .banner_ok = "* OK",
    .capa_cmd = "C01 CAPABILITY",
    .capa_style = BACKEND_CAPA_IMAP,
    .capa_done = "C01 ",
    .mech_prefix = "AUTH=",
    .sasl_ir_capa = "SASL-IR",
    .starttls_cmd = "S01 STARTTLS",
    .starttls_capa = "STARTTLS",
    .starttls_ok = "S01 OK",
    .auth_cmd = "A01 AUTHENTICATE",
    .auth_cont = "+",
    .auth_ok = "A01 OK",
    .ping_cmd = "N01 NOOP",
    .ping_ok = "N01 OK",
    .ping_done = "N01 ",
    .logout_cmd = "Q01 LOGOUT",
    .logout_done = "Q01 ",
};

const struct backend_protocol backend_proto_pop3 = {
    .name = "pop3",
    .sasl_service = "pop",
    .banner_ok = "+OK",
    .capa_cmd = "CAPA",
    .capa_style = BACKEND_CAPA_POP3,
    .mech_prefix = "SASL ",
    .starttls_cmd = "STLS",
    .starttls_capa = "STLS",
    .starttls_ok = "+OK",
    .auth_cmd = "AUTH",
    .auth_cont = "+",
    .auth_ok = "+OK",
    .ping_cmd = "NOOP",
    .ping_ok = "+OK",
    .logout_cmd = "QUIT",
};

const struct backend_protocol backend_proto_lmtp = {
    .name = "lmtp",
    .sasl_service = "lmtp",
    .banner_ok = "220",
    .capa_cmd = "LHLO %s",
    .capa_style = BACKEND_CAPA_LMTP,
    .mech_prefix = "AUTH ",
    .starttls_cmd = "STARTTLS",
    .starttls_capa = "STARTTLS",
    .starttls_ok = "220",
    .auth_cmd = "AUTH",
    .auth_cont = "334",
    .auth_ok = "235",
    .ping_cmd = "NOOP",
    .ping_ok = "250",
    .logout_cmd = "QUIT",
};

struct backend {
    const struct backend_protocol *proto;
    char *server;
    int fd;
    struct stream *s;
    struct strarray capa; /* capability words (IMAP) or lines */
    struct buf mechs;     /* space-separated SASL mechanisms offered */
    struct saslglue_client *sasl;
    time_t last_used;
    struct backend *next; /* pool list */
};

struct backend_pool {
    const struct config *cfg;
    const struct backend_protocol *proto;
    char *authzid;
    struct tls_ctx *tls;
    struct backend *list;
};

static int
has_prefix(const char *line, const char *prefix)
{
    return prefix && strncasecmp(line, prefix, strlen(prefix)) == 0;
}

static char *
errf(const char *server, const char *what, const char *detail)
{
    struct buf b = BUF_INITIALIZER;

    buf_printf(&b, "backend %s: %s%s%s", server, what, detail ? ": " : "",
               detail ? detail : "");
    return buf_release(&b);
}

/* ---- where ---------------------------------------------------------- */

int
backend_resolve(const struct config *cfg, const char *server,
                const struct backend_protocol *proto, struct buf *host,
                struct buf *port)
{
    struct buf key = BUF_INITIALIZER;
    const char *addr, *colon;

    buf_reset(host);
    buf_reset(port);
    if (server == NULL || *server == '\0')
        return ERR_INVALID;
    buf_printf(&key, "%s_%s_addr", server, proto->name);
    addr = config_overflow(cfg, buf_cstring(&key));
    buf_free(&key);
    if (addr) {
        colon = strrchr(addr, ':');
        if (colon == NULL || colon == addr || colon[1] == '\0')
            return ERR_INVALID;
        buf_appendmap(host, addr, (size_t)(colon - addr));
        buf_appendcstr(port, colon + 1);
        return 0;
    }
    if (server[0] == '/') {
        buf_appendcstr(host, server);
        return 0;
    }
    /* "host:port", possibly followed by Cyrus's "/tls" or "/noauth" */
    {
        size_t n = strcspn(server, "/");

        colon = memchr(server, ':', n);
        if (colon
            && memchr(colon + 1, ':', n - (size_t)(colon + 1 - server))
                   == NULL) {
            buf_appendmap(host, server, (size_t)(colon - server));
            buf_appendmap(port, colon + 1, n - (size_t)(colon + 1 - server));
        } else {
            buf_appendmap(host, server, n);
            buf_appendcstr(port, proto->name);
        }
    }
    return 0;
}

/* Connect within timeout_ms; -1 with errno on failure. */
static int
connect_timeout(const struct sockaddr *sa, socklen_t salen, int family,
                int timeout_ms)
{
    int fd, flags, err = 0;
    socklen_t errlen = sizeof(err);
    struct pollfd pfd;

    fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    if (connect(fd, sa, salen) < 0) {
        if (errno != EINPROGRESS)
            goto fail;
        pfd.fd = fd;
        pfd.events = POLLOUT;
        for (;;) {
            int n = poll(&pfd, 1, timeout_ms);

            if (n > 0)
                break;
            if (n == 0) {
                errno = ETIMEDOUT;
                goto fail;
            }
            if (errno != EINTR)
                goto fail;
        }
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen) < 0)
            goto fail;
        if (err) {
            errno = err;
            goto fail;
        }
    }
    fcntl(fd, F_SETFL, flags);
    if (family != AF_UNIX) {
        int one = 1;

        /* small request/response exchanges: Nagle would delay each one
         * by an ACK round (Cyrus's LMTP proxy suffers from it) */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    return fd;
fail:
    err = errno;
    close(fd);
    errno = err;
    return -1;
}

static int
open_socket(const char *host, const char *port, int timeout_ms, char **detail_r)
{
    struct addrinfo hints, *res = NULL, *ai;
    int fd = -1, r, err = 0;

    if (host[0] == '/') {
        struct sockaddr_un sun;

        memset(&sun, 0, sizeof(sun));
        sun.sun_family = AF_UNIX;
        if (strlen(host) >= sizeof(sun.sun_path)) {
            *detail_r = xstrdup("socket path too long");
            return -1;
        }
        memcpy(sun.sun_path, host, strlen(host));
        fd = connect_timeout((struct sockaddr *)&sun, sizeof(sun), AF_UNIX,
                             timeout_ms);
        if (fd < 0)
            *detail_r = xstrdup(strerror(errno));
        return fd;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    r = getaddrinfo(host, port, &hints, &res);
    if (r != 0) {
        *detail_r = xstrdup(gai_strerror(r));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        fd = connect_timeout(ai->ai_addr, ai->ai_addrlen, ai->ai_family,
                             timeout_ms);
        if (fd >= 0)
            break;
        err = errno;
    }
    freeaddrinfo(res);
    if (fd < 0)
        *detail_r = xstrdup(strerror(err ? err : ECONNREFUSED));
    return fd;
}

/* ---- capabilities --------------------------------------------------- */

static void
add_mechs(struct backend *be, const char *list)
{
    struct strarray *w = strarray_split(list, " ");
    size_t i;

    for (i = 0; i < (w)->count; i++) {
        if (buf_len(&be->mechs))
            buf_putc(&be->mechs, ' ');
        buf_appendcstr(&be->mechs, strarray_nth(w, i));
    }
    strarray_free(&w);
}

/* Record an IMAP capability list (words separated by spaces). */
static void
imap_capa_words(struct backend *be, const char *p, size_t len)
{
    struct buf word = BUF_INITIALIZER;
    size_t i, plen = strlen(be->proto->mech_prefix);

    strarray_truncate(&be->capa, 0);
    buf_reset(&be->mechs);
    for (i = 0; i <= len; i++) {
        if (i == len || p[i] == ' ') {
            if (buf_len(&word)) {
                const char *w = buf_cstring(&word);

                strarray_append(&be->capa, w);
                if (has_prefix(w, be->proto->mech_prefix))
                    add_mechs(be, w + plen);
            }
            buf_reset(&word);
        } else {
            buf_putc(&word, p[i]);
        }
    }
    buf_free(&word);
}

/* "* OK [CAPABILITY a b] text" or "A01 OK [CAPABILITY ...]": record. */
static int
imap_capa_code(struct backend *be, const char *line)
{
    const char *p = strstr(line, "[CAPABILITY ");
    const char *end;

    if (p == NULL)
        return 0;
    p += strlen("[CAPABILITY ");
    end = strchr(p, ']');
    if (end == NULL)
        return 0;
    imap_capa_words(be, p, (size_t)(end - p));
    return 1;
}

static int
read_line(struct backend *be, struct buf *line)
{
    int r = stream_getline(be->s, line);

    if (r == ERR_TOOLONG)
        return ERR_PROTOCOL;
    return r < 0 ? ERR_UNAVAILABLE : 0;
}

static int
ask_capabilities(struct backend *be, char **error_r)
{
    const struct backend_protocol *p = be->proto;
    struct buf line = BUF_INITIALIZER;
    int r, started = 0;

    if (strstr(p->capa_cmd, "%s")) {
        char host[256];

        if (gethostname(host, sizeof(host) - 1) < 0)
            memcpy(host, "localhost", sizeof("localhost"));
        host[sizeof(host) - 1] = '\0';
        stream_printf(be->s, "LHLO %s\r\n", host);
    } else {
        stream_printf(be->s, "%s\r\n", p->capa_cmd);
    }
    strarray_truncate(&be->capa, 0);
    buf_reset(&be->mechs);
    for (;;) {
        const char *l;

        r = read_line(be, &line);
        if (r < 0)
            break;
        l = buf_cstring(&line);
        if (p->capa_style == BACKEND_CAPA_IMAP) {
            if (has_prefix(l, "* CAPABILITY ")) {
                imap_capa_words(be, l + 13, strlen(l + 13));
            } else if (has_prefix(l, p->capa_done)) {
                if (!has_prefix(l + strlen(p->capa_done), "OK"))
                    r = ERR_PROTOCOL;
                break;
            }
        } else if (p->capa_style == BACKEND_CAPA_POP3) {
            if (!started) {
                started = 1;
                if (!has_prefix(l, "+OK")) {
                    r = ERR_PROTOCOL;
                    break;
                }
                continue;
            }
            if (strcmp(l, ".") == 0)
                break;
            strarray_append(&be->capa, l);
            if (has_prefix(l, p->mech_prefix))
                add_mechs(be, l + strlen(p->mech_prefix));
        } else {
            if (!has_prefix(l, "250") || strlen(l) < 4) {
                r = ERR_PROTOCOL;
                break;
            }
            strarray_append(&be->capa, l + 4);
            if (has_prefix(l + 4, p->mech_prefix))
                add_mechs(be, l + 4 + strlen(p->mech_prefix));
            if (l[3] == ' ')
                break;
        }
    }
    if (r < 0)
        *error_r = errf(be->server, "capabilities", buf_cstring(&line));
    buf_free(&line);
    return r;
}

int
backend_has_capa(const struct backend *be, const char *capa)
{
    size_t i, n = strlen(capa);

    for (i = 0; i < (&be->capa)->count; i++) {
        const char *c = strarray_nth(&be->capa, i);

        /* POP3/LMTP lines: the first word is the capability */
        if (strncasecmp(c, capa, n) == 0 && (c[n] == '\0' || c[n] == ' '))
            return 1;
    }
    return 0;
}

/* ---- authentication ------------------------------------------------- */

static int
do_starttls(struct backend *be, struct tls_ctx *tls, const char *host,
            char **error_r)
{
    struct buf line = BUF_INITIALIZER;
    char *err = NULL;
    int r;

    stream_printf(be->s, "%s\r\n", be->proto->starttls_cmd);
    do {
        r = read_line(be, &line);
    } while (r == 0 && be->proto->capa_style == BACKEND_CAPA_IMAP
             && has_prefix(buf_cstring(&line), "* "));
    if (r == 0 && !has_prefix(buf_cstring(&line), be->proto->starttls_ok))
        r = ERR_PROTOCOL;
    if (r < 0) {
        *error_r = errf(be->server, "STARTTLS refused", buf_cstring(&line));
        buf_free(&line);
        return r;
    }
    buf_free(&line);
    if (stream_starttls_client(be->s, tls, host[0] == '/' ? NULL : host, &err)
        < 0) {
        *error_r = errf(be->server, "TLS", err);
        free(err);
        return ERR_PROTOCOL;
    }
    return ask_capabilities(be, error_r);
}

static int
authenticate(struct backend *be, const struct config *cfg, const char *host,
             const char *authzid, char **error_r)
{
    const struct backend_protocol *p = be->proto;
    const char *authname = config_str(cfg, CFG_PROXY_AUTHNAME);
    const char *password = saslglue_client_password(cfg, be->server);
    const char *realm = saslglue_config_str(cfg, "proxy_realm");
    const char *mech = NULL, *err = NULL;
    struct buf out = BUF_INITIALIZER, line = BUF_INITIALIZER;
    int r, has_ir = 0, use_ir;

    if (authname == NULL)
        authname = "proxy";
    r = saslglue_client_new(p->sasl_service, host, authname,
                            password ? password : "", realm, authzid, &be->sasl,
                            &err);
    if (r < 0)
        goto fail;
    saslglue_client_restrict(be->sasl,
                             saslglue_client_forced_mechs(cfg, be->server));
    saslglue_client_set_ssf(be->sasl, (unsigned)stream_tls_ssf(be->s), 0);
    r = saslglue_client_start_b64(be->sasl, buf_cstring(&be->mechs), &mech,
                                  &out, &has_ir, &err);
    if (r < 0)
        goto fail;
    use_ir =
        has_ir
        && (p->sasl_ir_capa == NULL || backend_has_capa(be, p->sasl_ir_capa));
    if (use_ir)
        stream_printf(be->s, "%s %s %s\r\n", p->auth_cmd, mech,
                      buf_cstring(&out));
    else
        stream_printf(be->s, "%s %s\r\n", p->auth_cmd, mech);
    for (;;) {
        const char *l;

        r = read_line(be, &line);
        if (r < 0) {
            err = "connection lost during authentication";
            goto fail;
        }
        l = buf_cstring(&line);
        if (p->capa_style == BACKEND_CAPA_IMAP && has_prefix(l, "* "))
            continue;
        /* POP3: "+OK" also starts with the continuation's "+" */
        if (!has_prefix(l, p->auth_cont) || has_prefix(l, p->auth_ok))
            break;
        l += strlen(p->auth_cont);
        if (*l == ' ')
            l++;
        buf_reset(&out);
        if (has_ir && !use_ir) {
            /* the initial response answers the first, empty challenge */
            has_ir = 0;
            r = saslglue_client_start_b64(be->sasl, buf_cstring(&be->mechs),
                                          &mech, &out, &has_ir, &err);
        } else {
            r = saslglue_client_step_b64(be->sasl, l, strlen(l), &out, &err);
        }
        if (r < 0) {
            stream_puts(be->s, "*\r\n");
            goto fail;
        }
        stream_printf(be->s, "%s\r\n", buf_cstring(&out));
    }
    if (!has_prefix(buf_cstring(&line), p->auth_ok)) {
        r = ERR_AUTH;
        err = buf_cstring(&line);
        goto fail;
    }
    if (p->capa_style == BACKEND_CAPA_IMAP)
        imap_capa_code(be, buf_cstring(&line));
    r = stream_set_sasl(be->s, saslglue_client_conn(be->sasl));
    if (r < 0) {
        err = "security layer";
        goto fail;
    }
    buf_free(&out);
    buf_free(&line);
    return 0;
fail:
    *error_r = errf(be->server, "authentication failed", err);
    buf_free(&out);
    buf_free(&line);
    return r < 0 ? r : ERR_AUTH;
}

static int
offers_usable_mech(struct backend *be)
{
    /* a mechanism that needs TLS (PLAIN, LOGIN under the usual
     * security properties) is only advertised by our peers once TLS is
     * on; any mechanism at all means we can try without STARTTLS */
    return buf_len(&be->mechs) > 0;
}

int
backend_connect(const struct config *cfg, const char *server,
                const struct backend_protocol *proto, const char *authzid,
                struct tls_ctx *tls, struct backend **be_r, char **error_r)
{
    struct buf host = BUF_INITIALIZER, port = BUF_INITIALIZER;
    struct buf line = BUF_INITIALIZER;
    struct backend *be;
    char *detail = NULL;
    long timeout = config_duration(cfg, CFG_CLIENT_TIMEOUT);
    int fd, r;

    *be_r = NULL;
    *error_r = NULL;
    if (timeout <= 0)
        timeout = 10;
    r = backend_resolve(cfg, server, proto, &host, &port);
    if (r < 0) {
        *error_r = errf(server ? server : "", "no address", NULL);
        goto out;
    }
    fd = open_socket(buf_cstring(&host), buf_cstring(&port),
                     (int)timeout * 1000, &detail);
    if (fd < 0) {
        *error_r = errf(server, "connect", detail);
        r = ERR_UNAVAILABLE;
        goto out;
    }
    be = xzmalloc(sizeof(*be));
    be->proto = proto;
    be->server = xstrdup(server);
    be->fd = fd;
    be->s = stream_new(fd);
    stream_set_timeout(be->s, (int)timeout * 1000);
    stream_set_maxline(be->s, 0);
    r = read_line(be, &line);
    if (r == 0 && !has_prefix(buf_cstring(&line), proto->banner_ok))
        r = ERR_UNAVAILABLE;
    if (r < 0) {
        *error_r = errf(server, "bad banner", buf_cstring(&line));
        r = ERR_UNAVAILABLE;
        goto fail;
    }
    if (proto->capa_style != BACKEND_CAPA_IMAP
        || !imap_capa_code(be, buf_cstring(&line))) {
        r = ask_capabilities(be, error_r);
        if (r < 0)
            goto fail;
    }
    if (!offers_usable_mech(be) && tls
        && backend_has_capa(be, proto->starttls_capa)) {
        r = do_starttls(be, tls, buf_cstring(&host), error_r);
        if (r < 0)
            goto fail;
    }
    r = authenticate(be, cfg, buf_cstring(&host), authzid, error_r);
    if (r < 0)
        goto fail;
    be->last_used = time(NULL);
    *be_r = be;
    r = 0;
    goto out;
fail:
    backend_free(&be);
out:
    free(detail);
    buf_free(&host);
    buf_free(&port);
    buf_free(&line);
    return r;
}

void
backend_free(struct backend **bep)
{
    struct backend *be = *bep;

    if (be == NULL)
        return;
    *bep = NULL;
    stream_free(&be->s);
    if (be->fd >= 0)
        close(be->fd);
    saslglue_client_free(&be->sasl);
    strarray_fini(&be->capa);
    buf_free(&be->mechs);
    free(be->server);
    free(be);
}

/* Send cmd and read up to the line starting with done (or the first line
 * when done is NULL). *last receives that line. */
static int
simple_command(struct backend *be, const char *cmd, const char *done,
               struct buf *last)
{
    int r;

    stream_printf(be->s, "%s\r\n", cmd);
    do {
        r = read_line(be, last);
    } while (r == 0 && done && !has_prefix(buf_cstring(last), done));
    return r;
}

void
backend_logout(struct backend **bep)
{
    struct backend *be = *bep;
    struct buf line = BUF_INITIALIZER;

    if (be == NULL)
        return;
    if (!stream_eof(be->s) && stream_error(be->s) == NULL) {
        /* a backend that stopped answering must not hold up the client's
         * LOGOUT for the whole client_timeout */
        stream_set_timeout(be->s, 1000);
        simple_command(be, be->proto->logout_cmd, be->proto->logout_done,
                       &line);
    }
    buf_free(&line);
    backend_free(bep);
}

struct stream *
backend_stream(struct backend *be)
{
    return be->s;
}

const char *
backend_server(const struct backend *be)
{
    return be->server;
}

int
backend_ping(struct backend *be)
{
    struct buf line = BUF_INITIALIZER;
    int r =
        simple_command(be, be->proto->ping_cmd, be->proto->ping_done, &line);

    if (r == 0 && !has_prefix(buf_cstring(&line), be->proto->ping_ok))
        r = ERR_UNAVAILABLE;
    buf_free(&line);
    if (r == 0)
        backend_touch(be);
    return r < 0 ? ERR_UNAVAILABLE : 0;
}

void
backend_touch(struct backend *be)
{
    be->last_used = time(NULL);
}

time_t
backend_idle(const struct backend *be)
{
    return time(NULL) - be->last_used;
}

/* ---- pool ----------------------------------------------------------- */

struct backend_pool *
backend_pool_new(const struct config *cfg, const struct backend_protocol *proto,
                 const char *authzid, struct tls_ctx *tls)
{
    struct backend_pool *pool = xzmalloc(sizeof(*pool));

    pool->cfg = cfg;
    pool->proto = proto;
    pool->authzid = authzid ? xstrdup(authzid) : NULL;
    pool->tls = tls;
    return pool;
}

void
backend_pool_free(struct backend_pool **poolp)
{
    struct backend_pool *pool = *poolp;

    if (pool == NULL)
        return;
    *poolp = NULL;
    while (pool->list) {
        struct backend *be = pool->list;

        pool->list = be->next;
        backend_logout(&be);
    }
    free(pool->authzid);
    free(pool);
}

static void
unlink_be(struct backend_pool *pool, struct backend *be)
{
    struct backend **pp;

    for (pp = &pool->list; *pp; pp = &(*pp)->next) {
        if (*pp == be) {
            *pp = be->next;
            be->next = NULL;
            return;
        }
    }
}

void
backend_pool_drop(struct backend_pool *pool, struct backend **bep)
{
    if (*bep == NULL)
        return;
    unlink_be(pool, *bep);
    backend_free(bep);
}

struct backend *
backend_pool_find(struct backend_pool *pool, const char *server)
{
    struct backend *be;

    for (be = pool->list; be; be = be->next) {
        if (strcmp(be->server, server) == 0)
            return be;
    }
    return NULL;
}

int
backend_pool_get(struct backend_pool *pool, const char *server,
                 struct backend **be_r, char **error_r)
{
    struct backend *be, *next;
    int r;

    *error_r = NULL;
    for (be = pool->list; be; be = next) {
        next = be->next;
        if (backend_idle(be) >= BACKEND_IDLE_DROP) {
            unlink_be(pool, be);
            backend_logout(&be);
        }
    }
    be = backend_pool_find(pool, server);
    if (be && backend_idle(be) >= BACKEND_IDLE_PING && backend_ping(be) < 0)
        backend_pool_drop(pool, &be);
    if (be == NULL) {
        r = backend_connect(pool->cfg, server, pool->proto, pool->authzid,
                            pool->tls, &be, error_r);
        if (r < 0)
            return r;
        be->next = pool->list;
        pool->list = be;
    }
    backend_touch(be);
    *be_r = be;
    return 0;
}

void
backend_pool_foreach(struct backend_pool *pool, backend_pool_cb *cb, void *ctx)
{
    struct backend *be, *next;

    for (be = pool->list; be; be = next) {
        next = be->next;
        cb(be, ctx);
    }
}
