/* imapclient.c: a small blocking IMAP client over lib/stream. */
#include <errno.h>
#include <stdarg.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "errors.h"
#include "imapclient.h"
#include "saslglue.h"
#include "stream.h"
#include "util.h"
#include "xmalloc.h"

/* Responses of admin commands are small; a literal above this is a broken
 * or hostile server. */
#define IMAPCLIENT_MAX_LITERAL (64u * 1024 * 1024)
#define IMAPCLIENT_TIMEOUT_MS  (5 * 60 * 1000)

struct imapclient {
    struct stream *s;
    int owns_fd;
    char *host;
    unsigned tagnum;
    struct strarray caps;
    struct buf cmd;     /* the command being built */
    size_t *sync_lits;  /* offsets in cmd just after a "{N}\r\n" to wait at */
    size_t nsync, sync_alloc;
    struct buf resp;    /* the response being assembled */
    struct buf error;
    struct saslglue_client *sasl; /* kept while its layer is installed */
};

void
imapclient_result_init(struct imapclient_result *res)
{
    memset(res, 0, sizeof(*res));
}

void
imapclient_result_fini(struct imapclient_result *res)
{
    buf_free(&res->code);
    buf_free(&res->text);
}

static int
fail(struct imapclient *c, int r, const char *fmt, ...) ATTR_FORMAT(3, 4);

static int
fail(struct imapclient *c, int r, const char *fmt, ...)
{
    va_list ap;

    buf_reset(&c->error);
    va_start(ap, fmt);
    buf_vprintf(&c->error, fmt, ap);
    va_end(ap);
    return r;
}

static int
stream_fail(struct imapclient *c, int r, const char *what)
{
    const char *e = stream_error(c->s);

    return fail(c, r, "%s: %s", what, e ? e : error_text(r));
}

const char *
imapclient_error(const struct imapclient *c)
{
    return c->error.s ? c->error.s : "";
}

const char *
imapclient_host(const struct imapclient *c)
{
    return c->host ? c->host : "";
}

void
imapclient_set_timeout(struct imapclient *c, int ms)
{
    stream_set_timeout(c->s, ms);
}

const struct strarray *
imapclient_caps(const struct imapclient *c)
{
    return &c->caps;
}

int
imapclient_has_cap(const struct imapclient *c, const char *cap)
{
    return strarray_find_case(&c->caps, cap) >= 0;
}

int
imapclient_tls_active(const struct imapclient *c)
{
    return stream_tls_active(c->s);
}

/* ---- reading responses ---- */

/* If line[0..len) ends in a literal header "{N}" (or "{N+}"), its size. */
static int
literal_size(const char *line, size_t len, uint64_t *n_r)
{
    size_t i;

    if (len < 3 || line[len - 1] != '}')
        return 0;
    i = len - 1;
    if (line[i - 1] == '+')
        i--;
    while (i > 0 && line[i - 1] >= '0' && line[i - 1] <= '9')
        i--;
    if (i == 0 || line[i - 1] != '{' || i == len - 1)
        return 0;
    return util_parse_u64(line + i, len - 1 - i - (line[len - 2] == '+'),
                          UINT64_MAX, n_r)
           == 0;
}

/* Read one whole response into c->resp (literals included, final CRLF
 * stripped). */
static int
read_response(struct imapclient *c)
{
    struct buf line = BUF_INITIALIZER;
    uint64_t n;
    int r;

    buf_reset(&c->resp);
    for (;;) {
        r = stream_getline(c->s, &line);
        if (r < 0)
            break;
        buf_appendbuf(&c->resp, &line);
        if (!literal_size(line.s, buf_len(&line), &n))
            break;
        if (n > IMAPCLIENT_MAX_LITERAL) {
            r = fail(c, ERR_PROTOCOL, "server sent a literal of %llu bytes",
                     (unsigned long long)n);
            goto done;
        }
        buf_appendcstr(&c->resp, "\r\n");
        r = stream_read_exact(c->s, (size_t)n, &c->resp);
        if (r < 0)
            break;
    }
    if (r < 0)
        r = stream_fail(c, r, "reading from server");
done:
    buf_free(&line);
    buf_cstring(&c->resp);
    return r;
}

/* Split "[CODE args] text" into res. */
static void
parse_cond(const char *p, struct imapclient_result *res)
{
    const char *end;

    buf_reset(&res->code);
    buf_reset(&res->text);
    if (*p == '[' && (end = strchr(p, ']')) != NULL) {
        buf_setmap(&res->code, p + 1, (size_t)(end - p - 1));
        p = end + 1;
        while (*p == ' ')
            p++;
    }
    buf_setcstr(&res->text, p);
    buf_cstring(&res->code);
    buf_cstring(&res->text);
}

/* "OK ...", "NO ...", "BAD ..." at p: the status, and p past it. */
static int
parse_status(const char *p, enum imapclient_status *st_r, const char **rest_r)
{
    static const struct {
        const char *word;
        enum imapclient_status st;
    } words[] = {
        {"OK",  IMAPCLIENT_OK },
        {"NO",  IMAPCLIENT_NO },
        {"BAD", IMAPCLIENT_BAD},
    };
    size_t i, n;

    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        n = strlen(words[i].word);
        if (util_strncasecmp(p, words[i].word, n) == 0
            && (p[n] == ' ' || p[n] == '\0')) {
            *st_r = words[i].st;
            *rest_r = p[n] == ' ' ? p + n + 1 : p + n;
            return 0;
        }
    }
    return -1;
}

static void
set_caps(struct imapclient *c, const char *list)
{
    struct strarray *sa = strarray_split(list, " ");
    size_t i;

    strarray_fini(&c->caps);
    for (i = 0; i < sa->count; i++)
        strarray_append(&c->caps, strarray_nth(sa, i));
    strarray_free(&sa);
}

/* An untagged "CAPABILITY ..." response or a [CAPABILITY ...] code
 * updates the list on the way. */
static void
note_caps(struct imapclient *c, const char *resp)
{
    if (util_strncasecmp(resp, "CAPABILITY ", 11) == 0)
        set_caps(c, resp + 11);
}

static void
note_caps_code(struct imapclient *c, const struct imapclient_result *res)
{
    const char *code = res->code.s ? res->code.s : "";

    if (util_strncasecmp(code, "CAPABILITY ", 11) == 0)
        set_caps(c, code + 11);
}

/* ---- sending commands ---- */

void
imapclient_cmd_begin(struct imapclient *c, const char *verb)
{
    buf_reset(&c->cmd);
    c->nsync = 0;
    c->tagnum++;
    buf_printf(&c->cmd, "A%03u %s", c->tagnum, verb);
}

void
imapclient_cmd_atom(struct imapclient *c, const char *s)
{
    buf_putc(&c->cmd, ' ');
    buf_appendcstr(&c->cmd, s);
}

void
imapclient_cmd_raw(struct imapclient *c, const char *s)
{
    buf_appendcstr(&c->cmd, s);
}

static int
is_atom_char(unsigned char ch)
{
    return ch > ' ' && ch < 0x7f && strchr("(){%*\"\\]", ch) == NULL;
}

static void
append_string(struct imapclient *c, const char *s, int allow_atom)
{
    size_t len = strlen(s), i;
    int atom = allow_atom && len > 0 && util_strcasecmp(s, "NIL") != 0;
    int quotable = len < 1024;

    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];

        if (!is_atom_char(ch))
            atom = 0;
        if (ch < ' ' || ch >= 0x7f)
            quotable = 0;
    }
    buf_putc(&c->cmd, ' ');
    if (atom) {
        buf_appendcstr(&c->cmd, s);
    } else if (quotable) {
        buf_putc(&c->cmd, '"');
        for (i = 0; i < len; i++) {
            if (s[i] == '"' || s[i] == '\\')
                buf_putc(&c->cmd, '\\');
            buf_putc(&c->cmd, s[i]);
        }
        buf_putc(&c->cmd, '"');
    } else if (imapclient_has_cap(c, "LITERAL+")) {
        buf_printf(&c->cmd, "{%zu+}\r\n", len);
        buf_appendmap(&c->cmd, s, len);
    } else {
        buf_printf(&c->cmd, "{%zu}\r\n", len);
        if (c->nsync == c->sync_alloc) {
            c->sync_alloc = c->sync_alloc ? 2 * c->sync_alloc : 4;
            c->sync_lits = xreallocarray(c->sync_lits, c->sync_alloc,
                                         sizeof(*c->sync_lits));
        }
        c->sync_lits[c->nsync++] = buf_len(&c->cmd);
        buf_appendmap(&c->cmd, s, len);
    }
}

void
imapclient_cmd_string(struct imapclient *c, const char *s)
{
    append_string(c, s, 1);
}

void
imapclient_cmd_quoted(struct imapclient *c, const char *s)
{
    append_string(c, s, 0);
}

/* Read until the tagged response of tag; continuation requests go to
 * *cont_r (when not NULL) and stop the loop with 1. */
static int
read_until_tagged(struct imapclient *c, const char *tag,
                  imapclient_untagged_cb *cb, void *ctx,
                  struct imapclient_result *res, int want_cont)
{
    size_t taglen = strlen(tag);
    const char *rest;
    int r;

    for (;;) {
        r = read_response(c);
        if (r < 0)
            return r;
        if (c->resp.s[0] == '+' && want_cont)
            return 1;
        if (c->resp.s[0] == '*' && c->resp.s[1] == ' ') {
            const char *u = c->resp.s + 2;

            if (util_strncasecmp(u, "BYE", 3) == 0
                && (u[3] == ' ' || u[3] == '\0'))
                return fail(c, ERR_EOF, "server said BYE: %s",
                            u[3] ? u + 4 : "");
            note_caps(c, u);
            if (cb)
                cb(ctx, u, buf_len(&c->resp) - 2);
            continue;
        }
        if (c->resp.s[0] == '+')
            return fail(c, ERR_PROTOCOL, "unexpected continuation request");
        if (strncmp(c->resp.s, tag, taglen) == 0
            && c->resp.s[taglen] == ' ') {
            if (parse_status(c->resp.s + taglen + 1, &res->status, &rest) < 0)
                return fail(c, ERR_PROTOCOL, "bad tagged response: %s",
                            c->resp.s);
            parse_cond(rest, res);
            note_caps_code(c, res);
            return 0;
        }
        return fail(c, ERR_PROTOCOL, "unexpected response: %.200s",
                    c->resp.s);
    }
}

int
imapclient_cmd_run(struct imapclient *c, imapclient_untagged_cb *cb,
                   void *ctx, struct imapclient_result *res)
{
    char tag[16];
    size_t sent = 0, i;
    int r;

    snprintf(tag, sizeof(tag), "A%03u", c->tagnum);
    buf_reset(&c->error);
    for (i = 0; i < c->nsync; i++) {
        stream_write(c->s, c->cmd.s + sent, c->sync_lits[i] - sent);
        sent = c->sync_lits[i];
        r = stream_flush(c->s);
        if (r < 0)
            return stream_fail(c, r, "writing to server");
        r = read_until_tagged(c, tag, cb, ctx, res, 1);
        if (r <= 0) {
            if (r == 0)
                return 0; /* refused the literal: the command is over */
            return r;
        }
    }
    stream_write(c->s, c->cmd.s + sent, buf_len(&c->cmd) - sent);
    stream_puts(c->s, "\r\n");
    r = stream_flush(c->s);
    if (r < 0)
        return stream_fail(c, r, "writing to server");
    c->nsync = 0;
    return read_until_tagged(c, tag, cb, ctx, res, 0);
}

/* ---- connection ---- */

static struct imapclient *
client_new(struct stream *s, const char *host)
{
    struct imapclient *c = xzmalloc(sizeof(*c));

    c->s = s;
    c->host = xstrdup(host);
    stream_set_timeout(s, IMAPCLIENT_TIMEOUT_MS);
    return c;
}

int
imapclient_refresh_caps(struct imapclient *c)
{
    struct imapclient_result res;
    int r;

    imapclient_result_init(&res);
    imapclient_cmd_begin(c, "CAPABILITY");
    r = imapclient_cmd_run(c, NULL, NULL, &res);
    if (r == 0 && res.status != IMAPCLIENT_OK)
        r = fail(c, ERR_PROTOCOL, "CAPABILITY failed: %s", buf_cstring(&res.text));
    imapclient_result_fini(&res);
    return r;
}

static int
greeting(struct imapclient *c, char **error_r)
{
    struct imapclient_result res;
    const char *rest;
    int r;

    imapclient_result_init(&res);
    r = read_response(c);
    if (r == 0 && strncmp(c->resp.s, "* ", 2) != 0)
        r = fail(c, ERR_PROTOCOL, "bad greeting: %.200s", c->resp.s);
    if (r == 0 && util_strncasecmp(c->resp.s + 2, "BYE", 3) == 0)
        r = fail(c, ERR_UNAVAILABLE, "server refused: %.200s", c->resp.s);
    if (r == 0 && parse_status(c->resp.s + 2, &res.status, &rest) < 0)
        r = fail(c, ERR_PROTOCOL, "bad greeting: %.200s", c->resp.s);
    if (r == 0) {
        parse_cond(rest, &res);
        note_caps_code(c, &res);
        if (c->caps.count == 0)
            r = imapclient_refresh_caps(c);
    }
    imapclient_result_fini(&res);
    if (r < 0 && error_r)
        *error_r = xstrdup(imapclient_error(c));
    return r;
}

int
imapclient_new_fd(int fd, struct imapclient **c_r, char **error_r)
{
    struct imapclient *c = client_new(stream_new(fd), "");
    int r = greeting(c, error_r);

    if (r < 0) {
        imapclient_free(&c);
        return r;
    }
    *c_r = c;
    return 0;
}

static int
tcp_connect(const char *host, const char *port, char **error_r)
{
    struct addrinfo hints, *res = NULL, *ai;
    int fd = -1, err, saved = 0;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    err = getaddrinfo(host, port, &hints, &res);
    if (err != 0) {
        struct buf b = BUF_INITIALIZER;

        buf_printf(&b, "%s: %s", host, gai_strerror(err));
        *error_r = buf_release(&b);
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                    ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        struct buf b = BUF_INITIALIZER;

        buf_printf(&b, "connect to %s port %s: %s", host, port,
                   strerror(saved));
        *error_r = buf_release(&b);
    }
    return fd;
}

int
imapclient_connect(const char *host, const char *port,
                   struct tls_ctx *implicit_tls, struct imapclient **c_r,
                   char **error_r)
{
    struct imapclient *c;
    char *tlserr = NULL;
    int fd, r;

    *error_r = NULL;
    if (port == NULL)
        port = implicit_tls ? "993" : "143";
    fd = tcp_connect(host, port, error_r);
    if (fd < 0)
        return ERR_IO;
    c = client_new(stream_new(fd), host);
    c->owns_fd = 1;
    if (implicit_tls) {
        r = stream_starttls_client(c->s, implicit_tls, host, &tlserr);
        if (r < 0) {
            struct buf b = BUF_INITIALIZER;

            buf_printf(&b, "TLS with %s: %s", host, tlserr ? tlserr : "");
            free(tlserr);
            *error_r = buf_release(&b);
            imapclient_free(&c);
            return r;
        }
    }
    r = greeting(c, error_r);
    if (r < 0) {
        imapclient_free(&c);
        return r;
    }
    *c_r = c;
    return 0;
}

void
imapclient_free(struct imapclient **cp)
{
    struct imapclient *c = *cp;

    if (c == NULL)
        return;
    *cp = NULL;
    if (c->owns_fd)
        stream_close(&c->s);
    else
        stream_free(&c->s);
    saslglue_client_free(&c->sasl);
    free(c->host);
    strarray_fini(&c->caps);
    buf_free(&c->cmd);
    buf_free(&c->resp);
    buf_free(&c->error);
    free(c->sync_lits);
    free(c);
}

void
imapclient_logout(struct imapclient **cp)
{
    struct imapclient_result res;

    if (*cp == NULL)
        return;
    imapclient_result_init(&res);
    imapclient_cmd_begin(*cp, "LOGOUT");
    /* the server answers "* BYE" first: that ends the read with ERR_EOF */
    (void)imapclient_cmd_run(*cp, NULL, NULL, &res);
    imapclient_result_fini(&res);
    imapclient_free(cp);
}

int
imapclient_starttls(struct imapclient *c, struct tls_ctx *ctx,
                    const char *servername)
{
    struct imapclient_result res;
    char *err = NULL;
    int r;

    if (!imapclient_has_cap(c, "STARTTLS"))
        return fail(c, ERR_NOTSUPPORTED, "server does not offer STARTTLS");
    imapclient_result_init(&res);
    imapclient_cmd_begin(c, "STARTTLS");
    r = imapclient_cmd_run(c, NULL, NULL, &res);
    if (r == 0 && res.status != IMAPCLIENT_OK)
        r = fail(c, ERR_PROTOCOL, "STARTTLS refused: %s", buf_cstring(&res.text));
    imapclient_result_fini(&res);
    if (r < 0)
        return r;
    r = stream_starttls_client(c->s, ctx, servername, &err);
    if (r < 0) {
        fail(c, r, "TLS handshake: %s", err ? err : "");
        free(err);
        return r;
    }
    /* RFC 3501 6.2.1: capabilities learned before TLS are void */
    strarray_fini(&c->caps);
    return imapclient_refresh_caps(c);
}

int
imapclient_login(struct imapclient *c, const char *user, const char *password)
{
    struct imapclient_result res;
    int r;

    imapclient_result_init(&res);
    imapclient_cmd_begin(c, "LOGIN");
    imapclient_cmd_string(c, user);
    imapclient_cmd_quoted(c, password);
    r = imapclient_cmd_run(c, NULL, NULL, &res);
    if (r == 0 && res.status != IMAPCLIENT_OK)
        r = fail(c, ERR_AUTH, "LOGIN failed: %s", buf_cstring(&res.text));
    if (r == 0
        && util_strncasecmp(buf_cstring(&res.code), "CAPABILITY ", 11) != 0)
        r = imapclient_refresh_caps(c);
    imapclient_result_fini(&res);
    return r;
}

/* Build the mechanism list from AUTH=... capabilities. */
static void
server_mechs(const struct imapclient *c, struct buf *out)
{
    size_t i;

    for (i = 0; i < c->caps.count; i++) {
        const char *cap = strarray_nth(&c->caps, i);

        if (util_strncasecmp(cap, "AUTH=", 5) == 0) {
            if (buf_len(out))
                buf_putc(out, ' ');
            buf_appendcstr(out, cap + 5);
        }
    }
}

/* The AUTHENTICATE exchange once the command is sent: answer each
 * continuation until the tagged response. ir is the initial response
 * still to send after the first "+" (no SASL-IR), or NULL. */
static int
auth_exchange(struct imapclient *c, const char *tag, const struct buf *ir,
              struct imapclient_result *res)
{
    struct buf out = BUF_INITIALIZER;
    const char *err = NULL, *data;
    int r;

    for (;;) {
        r = read_until_tagged(c, tag, NULL, NULL, res, 1);
        if (r <= 0)
            break;
        data = c->resp.s[1] == ' ' ? c->resp.s + 2 : c->resp.s + 1;
        buf_reset(&out);
        if (ir) {
            buf_appendbuf(&out, ir);
            ir = NULL;
        } else {
            r = saslglue_client_step_b64(c->sasl, data, strlen(data), &out,
                                         &err);
            if (r < 0) {
                /* RFC 3501 6.2.2: "*" cancels; the server answers BAD */
                stream_puts(c->s, "*\r\n");
                (void)read_until_tagged(c, tag, NULL, NULL, res, 0);
                r = fail(c, ERR_AUTH, "SASL: %s", err ? err : "");
                break;
            }
        }
        stream_write(c->s, out.s ? out.s : "", buf_len(&out));
        stream_puts(c->s, "\r\n");
        r = stream_flush(c->s);
        if (r < 0) {
            r = stream_fail(c, r, "writing to server");
            break;
        }
    }
    buf_free(&out);
    return r;
}

int
imapclient_authenticate(struct imapclient *c, const char *mechs,
                        const char *authname, const char *authzid,
                        const char *password)
{
    struct imapclient_result res;
    struct buf offered = BUF_INITIALIZER, ir = BUF_INITIALIZER;
    const char *mech = NULL, *err = NULL;
    char tag[16];
    int has_ir = 0, r;

    imapclient_result_init(&res);
    saslglue_client_free(&c->sasl);
    server_mechs(c, &offered);
    r = saslglue_client_new("imap", c->host[0] ? c->host : "localhost",
                            authname, password, NULL, authzid, &c->sasl,
                            &err);
    if (r < 0) {
        r = fail(c, ERR_AUTH, "SASL: %s", err ? err : "");
        goto done;
    }
    if (stream_tls_active(c->s))
        saslglue_client_set_ssf(c->sasl, (unsigned)stream_tls_ssf(c->s), 256);
    else
        saslglue_client_set_ssf(c->sasl, 0, 256);
    if (mechs && *mechs)
        saslglue_client_restrict(c->sasl, mechs);
    r = saslglue_client_start_b64(c->sasl, buf_cstring(&offered), &mech, &ir,
                                  &has_ir, &err);
    if (r < 0) {
        r = fail(c, r == ERR_NOTSUPPORTED ? ERR_NOTSUPPORTED : ERR_AUTH,
                 "SASL: %s (server offers: %s)", err ? err : "no mechanism",
                 buf_cstring(&offered));
        goto done;
    }
    imapclient_cmd_begin(c, "AUTHENTICATE");
    imapclient_cmd_atom(c, mech);
    if (has_ir && imapclient_has_cap(c, "SASL-IR"))
        imapclient_cmd_atom(c, buf_cstring(&ir));
    snprintf(tag, sizeof(tag), "A%03u", c->tagnum);
    stream_write(c->s, c->cmd.s, buf_len(&c->cmd));
    stream_puts(c->s, "\r\n");
    r = stream_flush(c->s);
    if (r < 0) {
        r = stream_fail(c, r, "writing to server");
        goto done;
    }
    r = auth_exchange(c, tag,
                      has_ir && !imapclient_has_cap(c, "SASL-IR") ? &ir
                                                                   : NULL,
                      &res);
    if (r < 0)
        goto done;
    if (res.status != IMAPCLIENT_OK) {
        r = fail(c, ERR_AUTH, "AUTHENTICATE %s failed: %s", mech,
                 buf_cstring(&res.text));
        goto done;
    }
    if (saslglue_client_ssf(c->sasl) > 0) {
        r = stream_set_sasl(c->s, saslglue_client_conn(c->sasl));
        if (r < 0) {
            r = stream_fail(c, r, "SASL security layer");
            goto done;
        }
    }
    r = imapclient_refresh_caps(c);
done:
    if (r < 0 && (c->sasl == NULL || saslglue_client_ssf(c->sasl) == 0))
        saslglue_client_free(&c->sasl);
    imapclient_result_fini(&res);
    buf_free(&offered);
    buf_free(&ir);
    return r;
}
