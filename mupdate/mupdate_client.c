/* mupdate_client.c: MUPDATE client library (see mupdate_client.h). */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "errors.h"
#include "log.h"
#include "mupdate_client.h"
#include "saslglue.h"
#include "tlsconfig.h"
#include "xmalloc.h"

struct mupdate_client {
    int fd;
    struct stream *s;
    struct mupdate_parser *p;
    struct saslglue_client *sasl;
    unsigned tagn;
    char *mechs;
    int starttls; /* the last banner offered STARTTLS */
    int xchanges; /* the last banner offered XCHANGES */
    struct buf banner;
    int timeout_ms;
    /* windowed pipelining */
    size_t pipe_n; /* piped commands not answered yet */
    mupdate_list_cb *pipe_data_cb;
    mupdate_done_cb *pipe_done_cb;
    void *pipe_ctx;
};

void
mupdate_mailbox_free(struct mupdate_mailbox **mbp)
{
    struct mupdate_mailbox *mb = *mbp;

    if (mb == NULL)
        return;
    *mbp = NULL;
    free(mb->name);
    free(mb->location);
    free(mb->acl);
    free(mb);
}

struct stream *
mupdate_client_stream(struct mupdate_client *c)
{
    return c->s;
}

struct mupdate_parser *
mupdate_client_parser(struct mupdate_client *c)
{
    return c->p;
}

const char *
mupdate_client_banner(const struct mupdate_client *c)
{
    return buf_cstring((struct buf *)&c->banner);
}

int
mupdate_client_has_xchanges(const struct mupdate_client *c)
{
    return c->xchanges;
}

/* Read the next complete unit into c->p (blocking). 0, ERR_PROTOCOL, or
 * a stream error. */
static int
read_unit(struct mupdate_client *c)
{
    for (;;) {
        size_t avail, used;
        const char *data = stream_peek(c->s, &avail);
        enum mupdate_parse r = MUPDATE_PARSE_MORE;
        ssize_t n;

        if (avail > 0) {
            r = mupdate_parser_feed(c->p, data, avail, &used);
            stream_skip(c->s, used);
        }
        if (r == MUPDATE_PARSE_DONE)
            return 0;
        if (r == MUPDATE_PARSE_ERROR || r == MUPDATE_PARSE_CONTINUE)
            return ERR_PROTOCOL;
        n = stream_fill(c->s);
        if (n < 0)
            return (int)n;
    }
}

int
mupdate_client_data(struct mupdate_parser *p, struct mupdate_mailbox *mb)
{
    const char *w = mupdate_parser_word(p);
    size_t n = mupdate_parser_nargs(p);

    memset(mb, 0, sizeof(*mb));
    if (!strcmp(w, "MAILBOX")) {
        if (n != 3)
            return ERR_PROTOCOL;
        mb->acl = (char *)mupdate_parser_arg(p, 2, NULL);
    } else if (!strcmp(w, "RESERVE")) {
        if (n != 2)
            return ERR_PROTOCOL;
        mb->acl = (char *)"";
        mb->reserved = 1;
    } else if (!strcmp(w, "DELETE")) {
        if (n != 1)
            return ERR_PROTOCOL;
        mb->name = (char *)mupdate_parser_arg(p, 0, NULL);
        return 2;
    } else {
        return 0;
    }
    mb->name = (char *)mupdate_parser_arg(p, 0, NULL);
    mb->location = (char *)mupdate_parser_arg(p, 1, NULL);
    return 1;
}

int
mupdate_client_response(struct mupdate_client *c, mupdate_list_cb *cb,
                        void *ctx, struct buf *tag_r, const char **status_r)
{
    int stop = 0;

    for (;;) {
        const char *w, *tag;
        struct mupdate_mailbox mb;
        int r = read_unit(c);

        if (r < 0)
            return r;
        w = mupdate_parser_word(c->p);
        tag = mupdate_parser_tag(c->p);
        if (!strcmp(tag, "*")) {
            if (!strcmp(w, "BYE"))
                return ERR_PROTOCOL;
            continue;
        }
        if (!strcmp(w, "OK") || !strcmp(w, "NO") || !strcmp(w, "BAD")) {
            *status_r = !strcmp(w, "OK")   ? "OK"
                        : !strcmp(w, "NO") ? "NO"
                                           : "BAD";
            if (tag_r)
                buf_setcstr(tag_r, tag);
            return 0;
        }
        r = mupdate_client_data(c->p, &mb);
        if (r < 0)
            return r;
        if (r == 1 && cb != NULL && !stop)
            stop = cb(ctx, &mb);
    }
}

void
mupdate_client_send(struct mupdate_client *c, const char *word,
                    const char *const *args, size_t nargs, struct buf *tag_r)
{
    struct buf out = BUF_INITIALIZER, tag = BUF_INITIALIZER;

    buf_printf(&tag, "X%u", ++c->tagn);
    mupdate_write_command(&out, buf_cstring(&tag), word, args, nargs);
    stream_write(c->s, buf_base(&out), buf_len(&out));
    if (tag_r)
        buf_setcstr(tag_r, buf_cstring(&tag));
    buf_free(&out);
    buf_free(&tag);
}

/* Send one command and wait for its completion. */
static int
simple(struct mupdate_client *c, const char *word, const char *const *args,
       size_t nargs, mupdate_list_cb *cb, void *ctx, const char **status_r)
{
    int r;

    mupdate_client_send(c, word, args, nargs, NULL);
    r = stream_flush(c->s);
    if (r < 0)
        return r;
    return mupdate_client_response(c, cb, ctx, NULL, status_r);
}

int
mupdate_reserve(struct mupdate_client *c, const char *name,
                const char *location)
{
    const char *a[] = {name, location}, *st;
    int r = simple(c, "RESERVE", a, 2, NULL, NULL, &st);

    if (r < 0)
        return r;
    return strcmp(st, "OK") ? ERR_MUPDATE_RESERVE : 0;
}

int
mupdate_activate(struct mupdate_client *c, const char *name,
                 const char *location, const char *acl)
{
    const char *a[] = {name, location, acl}, *st;
    int r = simple(c, "ACTIVATE", a, 3, NULL, NULL, &st);

    if (r < 0)
        return r;
    return strcmp(st, "OK") ? ERR_MUPDATE_FAIL : 0;
}

int
mupdate_deactivate(struct mupdate_client *c, const char *name,
                   const char *location)
{
    const char *a[] = {name, location}, *st;
    int r = simple(c, "DEACTIVATE", a, 2, NULL, NULL, &st);

    if (r < 0)
        return r;
    return strcmp(st, "OK") ? ERR_MUPDATE_RESERVE : 0;
}

int
mupdate_delete(struct mupdate_client *c, const char *name)
{
    const char *a[] = {name}, *st;
    int r = simple(c, "DELETE", a, 1, NULL, NULL, &st);

    if (r < 0)
        return r;
    return strcmp(st, "OK") ? ERR_MUPDATE_FAIL : 0;
}

static int
find_cb(void *ctx, const struct mupdate_mailbox *mb)
{
    struct mupdate_mailbox **out = ctx;

    if (*out != NULL)
        return 1;
    *out = xzmalloc(sizeof(**out));
    (*out)->name = xstrdup(mb->name);
    (*out)->location = xstrdup(mb->location);
    (*out)->acl = xstrdup(mb->acl);
    (*out)->reserved = mb->reserved;
    return 0;
}

int
mupdate_find(struct mupdate_client *c, const char *name,
             struct mupdate_mailbox **mb_r)
{
    const char *a[] = {name}, *st;
    struct mupdate_mailbox *mb = NULL;
    int r = simple(c, "FIND", a, 1, find_cb, &mb, &st);

    if (r == 0 && strcmp(st, "OK") != 0)
        r = ERR_MUPDATE_FAIL;
    if (r == 0 && mb == NULL)
        r = ERR_NOMAILBOX;
    if (r < 0)
        mupdate_mailbox_free(&mb);
    *mb_r = mb;
    return r;
}

int
mupdate_list(struct mupdate_client *c, const char *prefix, mupdate_list_cb *cb,
             void *ctx)
{
    const char *a[] = {prefix}, *st;
    int r = simple(c, "LIST", a, prefix ? 1 : 0, cb, ctx, &st);

    if (r < 0)
        return r;
    return strcmp(st, "OK") ? ERR_MUPDATE_FAIL : 0;
}

int
mupdate_noop(struct mupdate_client *c)
{
    const char *st;
    int r = simple(c, "NOOP", NULL, 0, NULL, NULL, &st);

    if (r < 0)
        return r;
    return strcmp(st, "OK") ? ERR_MUPDATE_FAIL : 0;
}

int
mupdate_logout(struct mupdate_client *c)
{
    const char *st;
    int r;

    stream_puts(c->s, "Q01 LOGOUT\r\n");
    r = stream_flush(c->s);
    if (r < 0)
        return r;
    r = mupdate_client_response(c, NULL, NULL, NULL, &st);
    /* RFC 3656 says BYE, Cyrus says OK "bye-bye": both mean done */
    return r == ERR_PROTOCOL ? 0 : r;
}

/* ---- windowed pipelining --------------------------------------------- */

/* Queued output above which a piped command first waits for the socket
 * (reading answers meanwhile), and above which it is handed to the
 * socket at once: the server always has the next commands to work on
 * while we make more (a half-empty window or a held-back buffer makes
 * the push stop-and-go, one server commit per round trip). */
#define PIPE_OUT_MAX (256 * 1024)
#define PIPE_FLUSH   (16 * 1024)

void
mupdate_client_pipe_set_cb(struct mupdate_client *c, mupdate_list_cb *data_cb,
                           mupdate_done_cb *done_cb, void *ctx)
{
    c->pipe_data_cb = data_cb;
    c->pipe_done_cb = done_cb;
    c->pipe_ctx = ctx;
}

size_t
mupdate_client_pipe_outstanding(const struct mupdate_client *c)
{
    return c->pipe_n;
}

/* One parsed unit while piping. 0 or ERR_PROTOCOL. */
static int
pipe_unit(struct mupdate_client *c)
{
    const char *w = mupdate_parser_word(c->p);
    const char *tag = mupdate_parser_tag(c->p);
    struct mupdate_mailbox mb;
    int r;

    if (!strcmp(tag, "*"))
        return strcmp(w, "BYE") ? 0 : ERR_PROTOCOL;
    if (!strcmp(w, "OK") || !strcmp(w, "NO") || !strcmp(w, "BAD")) {
        if (c->pipe_n == 0)
            return ERR_PROTOCOL; /* an answer to nothing */
        c->pipe_n--;
        if (c->pipe_done_cb != NULL)
            c->pipe_done_cb(c->pipe_ctx, tag,
                            !strcmp(w, "OK")   ? "OK"
                            : !strcmp(w, "NO") ? "NO"
                                               : "BAD");
        return 0;
    }
    r = mupdate_client_data(c->p, &mb);
    if (r < 0)
        return r;
    if (r == 1 && c->pipe_data_cb != NULL)
        c->pipe_data_cb(c->pipe_ctx, &mb);
    return 0;
}

/* Handle every complete unit already buffered. 0 or ERR_PROTOCOL. */
static int
pipe_take(struct mupdate_client *c)
{
    for (;;) {
        size_t avail, used;
        const char *data = stream_peek(c->s, &avail);
        enum mupdate_parse pr;
        int r;

        if (avail == 0)
            return 0;
        pr = mupdate_parser_feed(c->p, data, avail, &used);
        stream_skip(c->s, used);
        if (pr == MUPDATE_PARSE_MORE)
            return 0;
        if (pr != MUPDATE_PARSE_DONE)
            return ERR_PROTOCOL;
        r = pipe_unit(c);
        if (r < 0)
            return r;
    }
}

/* Write and read, never blocking on one direction alone, until at most
 * max_n piped commands are unanswered and at most max_out bytes are
 * queued. */
static int
pipe_pump(struct mupdate_client *c, size_t max_n, size_t max_out)
{
    int r;

    stream_set_nonblocking(c->s, 1);
    for (;;) {
        struct pollfd pfd;
        ssize_t n;

        r = pipe_take(c);
        if (r < 0)
            break;
        r = stream_flush(c->s);
        if (r < 0)
            break;
        if (c->pipe_n <= max_n && stream_out_pending(c->s) <= max_out) {
            r = 0;
            break;
        }
        pfd.fd = stream_fd(c->s);
        pfd.events = (short)(POLLIN | stream_poll_events(c->s));
        pfd.revents = 0;
        n = poll(&pfd, 1, c->timeout_ms);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            r = n == 0 ? ERR_TIMEOUT : ERR_IO;
            break;
        }
        if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
            n = stream_fill(c->s);
            if (n < 0) {
                r = (int)n;
                break;
            }
        }
    }
    stream_set_nonblocking(c->s, 0);
    return r;
}

int
mupdate_client_pipe(struct mupdate_client *c, const char *word,
                    const char *const *args, size_t nargs, struct buf *tag_r)
{
    /* queued, not written here: the pump writes what the socket takes */
    stream_set_nonblocking(c->s, 1);
    mupdate_client_send(c, word, args, nargs, tag_r);
    stream_set_nonblocking(c->s, 0);
    c->pipe_n++;
    /* past the window, the pump reads every answer that has arrived */
    if (c->pipe_n > MUPDATE_CLIENT_WINDOW
        || stream_out_pending(c->s) >= PIPE_FLUSH)
        return pipe_pump(c, MUPDATE_CLIENT_WINDOW, PIPE_OUT_MAX);
    return 0;
}

int
mupdate_client_pipe_wait(struct mupdate_client *c)
{
    return pipe_pump(c, 0, 0);
}

/* ---- connecting ------------------------------------------------------ */

static int
tcp_connect(const char *server, int timeout_ms, const char **error_r)
{
    struct addrinfo hints, *res = NULL, *ai;
    char host[256], port[32] = "3905";
    const char *colon, *slash;
    size_t hl;
    int fd = -1;

    slash = strchr(server, '/');
    hl = slash ? (size_t)(slash - server) : strlen(server);
    colon = memchr(server, ':', hl);
    if (colon) {
        size_t pl = hl - (size_t)(colon - server) - 1;

        if (pl == 0 || pl >= sizeof(port)) {
            *error_r = "bad mupdate_server port";
            return -1;
        }
        memcpy(port, colon + 1, pl);
        port[pl] = '\0';
        hl = (size_t)(colon - server);
    }
    if (hl == 0 || hl >= sizeof(host)) {
        *error_r = "bad mupdate_server host";
        return -1;
    }
    memcpy(host, server, hl);
    host[hl] = '\0';
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &res) != 0) {
        *error_r = "cannot resolve mupdate server";
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        struct pollfd pfd;
        int err = 0;
        socklen_t el = sizeof(err);

        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        util_set_nonblock(fd, 1);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0
            && errno != EINPROGRESS) {
            close(fd);
            fd = -1;
            continue;
        }
        pfd.fd = fd;
        pfd.events = POLLOUT;
        if (poll(&pfd, 1, timeout_ms) == 1
            && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0
            && err == 0) {
            int one = 1;

            util_set_nonblock(fd, 0);
            /* our writes are whole commands, batched by the stream: Nagle
             * would hold a pipelined batch's tail for the peer's delayed
             * ACK */
            if (ai->ai_family == AF_INET || ai->ai_family == AF_INET6)
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            break;
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        *error_r = "cannot connect to mupdate server";
    return fd;
}

/* Read the banner: collect "* AUTH" mechs until "* OK MUPDATE". */
static int
read_banner(struct mupdate_client *c)
{
    struct buf mechs = BUF_INITIALIZER;
    int r;

    free(c->mechs);
    c->mechs = NULL;
    c->starttls = 0;
    c->xchanges = 0;
    buf_reset(&c->banner);
    for (;;) {
        const char *w;
        size_t i, n;

        r = read_unit(c);
        if (r < 0)
            break;
        w = mupdate_parser_word(c->p);
        n = mupdate_parser_nargs(c->p);
        if (strcmp(mupdate_parser_tag(c->p), "*") != 0) {
            r = ERR_PROTOCOL;
            break;
        }
        if (!strcmp(w, "AUTH")) {
            for (i = 0; i < n; i++) {
                if (buf_len(&mechs))
                    buf_putc(&mechs, ' ');
                buf_appendcstr(&mechs, mupdate_parser_arg(c->p, i, NULL));
            }
        } else if (!strcmp(w, "STARTTLS")) {
            c->starttls = 1;
        } else if (!strcmp(w, "XCHANGES")) {
            c->xchanges = 1;
        } else if (!strcmp(w, "OK")) {
            for (i = 0; i < n; i++) {
                if (i)
                    buf_putc(&c->banner, ' ');
                buf_appendcstr(&c->banner, mupdate_parser_arg(c->p, i, NULL));
            }
            break;
        } else if (!strcmp(w, "BYE")) {
            r = ERR_PROTOCOL;
            break;
        }
    }
    c->mechs = buf_release(&mechs);
    return r;
}

static int
authenticate(struct mupdate_client *c, const struct config *cfg,
             const char *host, const char **error_r)
{
    const char *authname = config_str(cfg, CFG_MUPDATE_AUTHNAME);
    const char *mech = NULL;
    struct buf out = BUF_INITIALIZER, line = BUF_INITIALIZER;
    int r, has_ir = 0;

    if (authname == NULL)
        authname = config_str(cfg, CFG_MUPDATE_USERNAME);
    r = saslglue_client_init();
    if (r == 0)
        r = saslglue_client_new(
            "mupdate", host, authname, config_str(cfg, CFG_MUPDATE_PASSWORD),
            config_str(cfg, CFG_MUPDATE_REALM),
            config_str(cfg, CFG_MUPDATE_USERNAME), &c->sasl, error_r);
    if (r == 0)
        r = saslglue_client_start_b64(c->sasl, c->mechs, &mech, &out, &has_ir,
                                      error_r);
    if (r < 0)
        goto done;
    stream_printf(c->s, "A01 AUTHENTICATE \"%s\"", mech);
    if (has_ir) {
        stream_puts(c->s, " ");
        stream_printf(c->s, "{%zu+}\r\n", buf_len(&out));
        stream_write(c->s, buf_base(&out), buf_len(&out));
    }
    stream_puts(c->s, "\r\n");
    for (;;) {
        r = stream_getline(c->s, &line);
        if (r < 0)
            goto done;
        if (!strncmp(buf_cstring(&line), "A01 ", 4)) {
            r = !strncmp(buf_cstring(&line) + 4, "OK", 2) ? 0 : ERR_AUTH;
            if (r < 0)
                *error_r = "authentication refused by mupdate server";
            break;
        }
        buf_reset(&out);
        r = saslglue_client_step_b64(c->sasl, buf_base(&line), buf_len(&line),
                                     &out, error_r);
        if (r < 0) {
            stream_puts(c->s, "*\r\n");
            stream_flush(c->s);
            goto done;
        }
        stream_write(c->s, buf_base(&out), buf_len(&out));
        stream_puts(c->s, "\r\n");
    }
    if (r == 0 && saslglue_client_ssf(c->sasl) > 0)
        r = stream_set_sasl(c->s,
                            (struct sasl_conn *)saslglue_client_conn(c->sasl));
done:
    buf_free(&out);
    buf_free(&line);
    return r;
}

/* Is TLS to the server wanted? Yes when the server string says /tls, when
 * tls_client_* options make a client context worth having, or when the
 * banner offers no SASL mechanism at all before TLS. */
static int
want_tls(const struct mupdate_client *c, const struct config *cfg,
         const char *server)
{
    if (strstr(server, "/tls") != NULL)
        return 1;
    if (!c->starttls)
        return 0;
    if (c->mechs == NULL || c->mechs[0] == '\0')
        return 1;
    return config_str(cfg, CFG_TLS_CLIENT_CERT) != NULL
           || config_str(cfg, CFG_TLS_CLIENT_CA_FILE) != NULL
           || config_str(cfg, CFG_TLS_CLIENT_CA_DIR) != NULL;
}

/* STARTTLS, handshake and read the new banner. 0 or an error with
 * *error_r set. */
static int
starttls(struct mupdate_client *c, const struct config *cfg, const char *host,
         const char **error_r)
{
    struct tls_ctx *ctx;
    char *err = NULL;
    const char *w;
    int r;

    if (!c->starttls) {
        *error_r = "mupdate server does not offer STARTTLS";
        return ERR_PROTOCOL;
    }
    stream_puts(c->s, "S01 STARTTLS\r\n");
    r = stream_flush(c->s);
    if (r == 0)
        r = read_unit(c);
    if (r < 0) {
        *error_r = "no answer to STARTTLS";
        return r;
    }
    w = mupdate_parser_word(c->p);
    if (strcmp(mupdate_parser_tag(c->p), "S01") != 0 || strcmp(w, "OK") != 0) {
        *error_r = "STARTTLS refused by mupdate server";
        return ERR_PROTOCOL;
    }
    ctx = tlsconfig_client(cfg, &err);
    if (ctx == NULL) {
        log_msg(LOG_ERR, "mupdate client: TLS: %s", err ? err : "");
        free(err);
        *error_r = "cannot set up client TLS";
        return ERR_PROTOCOL;
    }
    /* the stream keeps its own reference to ctx */
    r = stream_starttls_client(c->s, ctx, host, &err);
    tls_ctx_free(&ctx);
    if (r < 0) {
        log_msg(LOG_ERR, "mupdate client: TLS handshake with %s: %s", host,
                err ? err : "");
        free(err);
        *error_r = "TLS handshake with mupdate server failed";
        return r;
    }
    /* anything the parser held came in plaintext: start afresh */
    mupdate_parser_free(&c->p);
    c->p = mupdate_parser_new(NULL);
    r = read_banner(c);
    if (r < 0)
        *error_r = "no MUPDATE banner after STARTTLS";
    return r;
}

int
mupdate_client_connect(const struct config *cfg, const char *server,
                       int timeout_ms, struct mupdate_client **client_r,
                       const char **error_r)
{
    struct mupdate_client *c;
    char host[256];
    size_t hl;
    int fd, r;

    *client_r = NULL;
    if (server == NULL)
        server = config_str(cfg, CFG_MUPDATE_SERVER);
    if (server == NULL) {
        *error_r = "mupdate_server not set";
        return ERR_MUPDATE_NOCONN;
    }
    fd = tcp_connect(server, timeout_ms, error_r);
    if (fd < 0)
        return ERR_MUPDATE_NOCONN;
    c = xzmalloc(sizeof(*c));
    c->fd = fd;
    c->s = stream_new(fd);
    stream_set_timeout(c->s, timeout_ms);
    c->timeout_ms = timeout_ms;
    stream_set_maxline(c->s, 0);
    c->p = mupdate_parser_new(NULL);
    r = read_banner(c);
    if (r < 0)
        *error_r = "no MUPDATE banner";
    hl = strcspn(server, ":/");
    if (hl >= sizeof(host))
        hl = sizeof(host) - 1;
    memcpy(host, server, hl);
    host[hl] = '\0';
    if (r == 0 && want_tls(c, cfg, server))
        r = starttls(c, cfg, host, error_r);
    if (r == 0 && strstr(server, "/noauth") == NULL)
        r = authenticate(c, cfg, host, error_r);
    if (r < 0) {
        mupdate_client_free(&c);
        return ERR_MUPDATE_NOCONN;
    }
    *client_r = c;
    return 0;
}

void
mupdate_client_free(struct mupdate_client **cp)
{
    struct mupdate_client *c = *cp;

    if (c == NULL)
        return;
    *cp = NULL;
    stream_close(&c->s);
    mupdate_parser_free(&c->p);
    saslglue_client_free(&c->sasl);
    free(c->mechs);
    buf_free(&c->banner);
    free(c);
}

int
mupdate_kick(const char *configdirectory, int timeout_ms)
{
    struct sockaddr_un sun;
    struct pollfd pfd;
    char ans[8];
    ssize_t n;
    int fd, len;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    len = snprintf(sun.sun_path, sizeof(sun.sun_path),
                   "%s/socket/mupdate.target", configdirectory);
    if (len < 0 || (size_t)len >= sizeof(sun.sun_path))
        return ERR_INVALID;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return ERR_IO;
    if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        close(fd);
        return ERR_MUPDATE_NOCONN;
    }
    pfd.fd = fd;
    pfd.events = POLLIN;
    if (poll(&pfd, 1, timeout_ms) != 1) {
        close(fd);
        return ERR_TIMEOUT;
    }
    n = read(fd, ans, sizeof(ans));
    close(fd);
    return (n >= 2 && !memcmp(ans, "ok", 2)) ? 0 : ERR_MUPDATE_NOCONN;
}
