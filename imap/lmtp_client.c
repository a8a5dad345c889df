/* lmtp_client.c: LMTP client over a stream (lmtp_client.h). */
#include <string.h>

#include "errors.h"
#include "lmtp_client.h"
#include "strarray.h"
#include "util.h"
#include "xmalloc.h"

struct lmtp_client {
    struct stream *s;
    struct strarray caps; /* "KEYWORD params", as listed after LHLO */
    struct lmtp_reply reply;
    struct buf line;
    struct buf cmd;
    struct buf cap; /* the params lmtp_client_cap() returned last */
    int borrowed;   /* s belongs to the caller (lmtp_client_attach()) */
    /* the transaction between lmtp_client_begin() and _end() */
    struct lmtp_client_rcpt *rcpts;
    size_t nrcpt;
    enum {
        TXN_NONE,
        TXN_ENVELOPE,
        TXN_DATA
    } txn;
    int pipelining, ignorequota;
    int bol;     /* the next message byte starts a line */
    int held_cr; /* a CR ended the last chunk */
};

/* Read one whole (possibly multi-line) reply into c->reply. */
static int
read_reply(struct lmtp_client *c, const char **error_r)
{
    int r;

    do {
        r = stream_getline(c->s, &c->line);
        if (r < 0) {
            *error_r =
                stream_error(c->s) ? stream_error(c->s) : "connection lost";
            return r;
        }
        r = lmtp_reply_feed(&c->reply, buf_base(&c->line), buf_len(&c->line));
        if (r < 0) {
            *error_r = "malformed LMTP reply";
            return ERR_PROTOCOL;
        }
    } while (r == 0);
    return 0;
}

static int
command(struct lmtp_client *c, const char *what, const char **error_r)
{
    stream_write(c->s, buf_base(&c->cmd), buf_len(&c->cmd));
    buf_reset(&c->cmd);
    if (stream_flush(c->s) < 0) {
        *error_r = what;
        return ERR_IO;
    }
    return read_reply(c, error_r);
}

void
lmtp_client_free(struct lmtp_client **cp)
{
    struct lmtp_client *c = *cp;

    if (c == NULL)
        return;
    *cp = NULL;
    if (!c->borrowed)
        stream_free(&c->s);
    strarray_fini(&c->caps);
    lmtp_reply_fini(&c->reply);
    buf_free(&c->line);
    buf_free(&c->cmd);
    buf_free(&c->cap);
    free(c);
}

/* Send LHLO and record the keywords of its reply. */
static int
lhlo(struct lmtp_client *c, const char *name, const char **error_r)
{
    const char *p, *nl;
    int r;

    buf_printf(&c->cmd, "LHLO %s\r\n", name);
    r = command(c, "sending LHLO", error_r);
    if (r == 0 && c->reply.code != 250) {
        *error_r = "LHLO refused";
        r = ERR_PROTOCOL;
    }
    if (r < 0)
        return r;
    strarray_fini(&c->caps);
    /* the first line is the server's name; the others are keywords */
    p = buf_cstring(&c->reply.text);
    for (nl = strchr(p, '\n'); nl != NULL; nl = strchr(p, '\n')) {
        p = nl + 1;
        nl = strchr(p, '\n');
        strarray_appendmap(&c->caps, p, nl ? (size_t)(nl - p) : strlen(p));
    }
    return 0;
}

int
lmtp_client_new(struct stream *s, const char *name, struct lmtp_client **c_r,
                const char **error_r)
{
    struct lmtp_client *c = xzmalloc(sizeof(*c));
    int r;

    c->s = s;
    lmtp_reply_init(&c->reply);
    r = read_reply(c, error_r);
    if (r == 0 && c->reply.code != 220) {
        *error_r = "server refused the connection";
        r = ERR_UNAVAILABLE;
    }
    if (r == 0)
        r = lhlo(c, name, error_r);
    if (r < 0) {
        lmtp_client_free(&c);
        return r;
    }
    *c_r = c;
    return 0;
}

int
lmtp_client_attach(struct stream *s, const char *name, struct lmtp_client **c_r,
                   const char **error_r)
{
    struct lmtp_client *c = xzmalloc(sizeof(*c));
    int r;

    c->s = s;
    c->borrowed = 1;
    lmtp_reply_init(&c->reply);
    r = lhlo(c, name, error_r);
    if (r < 0) {
        lmtp_client_free(&c);
        return r;
    }
    *c_r = c;
    return 0;
}

const char *
lmtp_client_cap(const struct lmtp_client *c, const char *keyword)
{
    struct lmtp_client *mc = (struct lmtp_client *)c;
    size_t klen = strlen(keyword), i;

    for (i = 0; i < c->caps.count; i++) {
        const char *cap = strarray_nth(&c->caps, i);

        if (strlen(cap) >= klen && util_strncasecmp(cap, keyword, klen) == 0
            && (cap[klen] == '\0' || cap[klen] == ' ')) {
            buf_setcstr(&mc->cap, cap[klen] ? cap + klen + 1 : "");
            return buf_cstring(&mc->cap);
        }
    }
    return NULL;
}

struct stream *
lmtp_client_stream(struct lmtp_client *c)
{
    return c->s;
}

int
lmtp_client_auth(struct lmtp_client *c, struct saslglue_client *sc,
                 const char **error_r)
{
    const char *mechs = lmtp_client_cap(c, "AUTH"), *mech;
    struct buf out = BUF_INITIALIZER;
    int has_ir = 0, r;

    if (mechs == NULL) {
        *error_r = "server offers no AUTH";
        return ERR_NOTSUPPORTED;
    }
    r = saslglue_client_start_b64(sc, mechs, &mech, &out, &has_ir, error_r);
    if (r < 0)
        goto done;
    buf_printf(&c->cmd, "AUTH %s%s%s\r\n", mech, has_ir ? " " : "",
               has_ir ? buf_cstring(&out) : "");
    r = command(c, "sending AUTH", error_r);
    while (r == 0 && c->reply.code == 334) {
        buf_reset(&out);
        r = saslglue_client_step_b64(sc, buf_base(&c->reply.text),
                                     buf_len(&c->reply.text), &out, error_r);
        if (r < 0) {
            /* RFC 4954 4: cancel the exchange */
            buf_setcstr(&c->cmd, "*\r\n");
            command(c, "cancelling AUTH", error_r);
            goto done;
        }
        buf_appendbuf(&c->cmd, &out);
        buf_appendcstr(&c->cmd, "\r\n");
        r = command(c, "answering an AUTH challenge", error_r);
    }
    if (r == 0 && c->reply.code != 235) {
        *error_r = "authentication refused";
        r = ERR_AUTH;
    }
done:
    buf_free(&out);
    return r < 0 ? r : 0;
}

static void
set_result(struct lmtp_client_rcpt *rc, const struct lmtp_reply *reply)
{
    rc->code = reply->code;
    memcpy(rc->enhanced, reply->enhanced, sizeof(rc->enhanced));
    rc->err = lmtp_error_for_reply(reply->code, reply->enhanced);
}

/* Non-pipelined envelope: MAIL, each RCPT, DATA one at a time, stopping
 * early when nothing can be delivered. */
static int
envelope_lockstep(struct lmtp_client *c, const char *from, const char **error_r)
{
    struct lmtp_client_rcpt *rcpts = c->rcpts;
    size_t i, accepted = 0;
    int r;

    buf_printf(&c->cmd, "MAIL FROM:<%s>%s\r\n", from,
               lmtp_client_cap(c, "AUTH") ? " AUTH=<>" : "");
    if ((r = command(c, "sending MAIL", error_r)) < 0)
        return r;
    if (c->reply.code != 250) {
        for (i = 0; i < c->nrcpt; i++)
            set_result(&rcpts[i], &c->reply);
        return 0; /* lmtp_client_wait_data() sends RSET */
    }
    for (i = 0; i < c->nrcpt; i++) {
        buf_printf(&c->cmd, "RCPT TO:<%s>%s\r\n", rcpts[i].addr,
                   rcpts[i].ignorequota && c->ignorequota ? " IGNOREQUOTA"
                                                          : "");
        if ((r = command(c, "sending RCPT", error_r)) < 0)
            return r;
        set_result(&rcpts[i], &c->reply);
        if (c->reply.code == 250 || c->reply.code == 251) {
            rcpts[i].code = 0; /* known after DATA */
            accepted++;
        }
    }
    if (accepted == 0)
        return 0; /* lmtp_client_wait_data() sends RSET */
    buf_appendcstr(&c->cmd, "DATA\r\n");
    return command(c, "sending DATA", error_r);
}

int
lmtp_client_begin(struct lmtp_client *c, const char *from,
                  struct lmtp_client_rcpt *rcpts, size_t n,
                  const char **error_r)
{
    size_t i;
    int r;

    c->rcpts = rcpts;
    c->nrcpt = n;
    c->txn = TXN_NONE;
    c->ignorequota = lmtp_client_cap(c, "IGNOREQUOTA") != NULL;
    c->pipelining = lmtp_client_cap(c, "PIPELINING") != NULL;
    for (i = 0; i < n; i++) {
        rcpts[i].code = 0;
        rcpts[i].enhanced[0] = '\0';
        rcpts[i].err = 0;
    }
    if (!c->pipelining) {
        r = envelope_lockstep(c, from, error_r);
        if (r < 0)
            return r;
        c->txn = c->reply.code == 354 ? TXN_DATA : TXN_ENVELOPE;
        return 0;
    }
    /* RFC 2920: everything up to DATA in one go; the replies are read by
     * lmtp_client_wait_data() */
    buf_printf(&c->cmd, "MAIL FROM:<%s>%s\r\n", from,
               lmtp_client_cap(c, "AUTH") ? " AUTH=<>" : "");
    for (i = 0; i < n; i++) {
        buf_printf(&c->cmd, "RCPT TO:<%s>%s\r\n", rcpts[i].addr,
                   rcpts[i].ignorequota && c->ignorequota ? " IGNOREQUOTA"
                                                          : "");
    }
    buf_appendcstr(&c->cmd, "DATA\r\n");
    stream_write(c->s, buf_base(&c->cmd), buf_len(&c->cmd));
    buf_reset(&c->cmd);
    if (stream_flush(c->s) < 0) {
        *error_r = "sending the envelope";
        return ERR_IO;
    }
    c->txn = TXN_ENVELOPE;
    return 0;
}

/* The pipelined envelope's replies: MAIL, one per RCPT, DATA. */
static int
envelope_replies(struct lmtp_client *c, const char **error_r)
{
    struct lmtp_client_rcpt *rcpts = c->rcpts;
    size_t i;
    int r, mail_ok;

    if ((r = read_reply(c, error_r)) < 0)
        return r;
    mail_ok = c->reply.code == 250;
    if (!mail_ok) {
        /* every RCPT and the DATA fail too; each recipient gets the MAIL
         * reply */
        for (i = 0; i < c->nrcpt; i++)
            set_result(&rcpts[i], &c->reply);
    }
    for (i = 0; i < c->nrcpt; i++) {
        if ((r = read_reply(c, error_r)) < 0)
            return r;
        if (!mail_ok)
            continue;
        set_result(&rcpts[i], &c->reply);
        if (c->reply.code == 250 || c->reply.code == 251)
            rcpts[i].code = 0; /* known after DATA */
    }
    if ((r = read_reply(c, error_r)) < 0)
        return r;
    if (c->reply.code == 354)
        return 1;
    for (i = 0; i < c->nrcpt && mail_ok; i++) {
        if (rcpts[i].code == 0)
            set_result(&rcpts[i], &c->reply);
    }
    return 0;
}

int
lmtp_client_wait_data(struct lmtp_client *c, const char **error_r)
{
    size_t i;
    int r;

    if (c->txn == TXN_DATA)
        return 1;
    if (c->txn == TXN_ENVELOPE && c->pipelining) {
        r = envelope_replies(c, error_r);
        if (r < 0)
            return r;
        if (r == 1) {
            c->txn = TXN_DATA;
            c->bol = 1;
            c->held_cr = 0;
            return 1;
        }
    } else if (c->txn == TXN_ENVELOPE) {
        /* lockstep: DATA was refused after some RCPT was accepted */
        for (i = 0; i < c->nrcpt; i++) {
            if (c->rcpts[i].code == 0)
                set_result(&c->rcpts[i], &c->reply);
        }
    }
    c->txn = TXN_NONE;
    /* nothing is delivered: end the transaction on the server too */
    r = lmtp_client_rset(c, error_r);
    return r < 0 ? r : 0;
}

void
lmtp_client_data(struct lmtp_client *c, const char *p, size_t len)
{
    if (c->txn != TXN_DATA)
        return;
    /* RFC 5321 4.5.2 dot-stuffing, with every line end sent as CRLF; a
     * CR at the end of one chunk waits for the next to know whether it
     * ends a line */
    while (len > 0) {
        const char *nl;
        size_t n, adv;

        if (c->held_cr) {
            c->held_cr = 0;
            if (*p == '\n') {
                stream_write(c->s, "\r\n", 2);
                c->bol = 1;
                p++;
                len--;
                continue;
            }
            stream_write(c->s, "\r", 1);
        }
        if (c->bol) {
            c->bol = 0;
            if (*p == '.')
                stream_write(c->s, ".", 1);
        }
        nl = memchr(p, '\n', len);
        if (nl == NULL) {
            n = len;
            if (p[n - 1] == '\r') {
                c->held_cr = 1;
                n--;
            }
            stream_write(c->s, p, n);
            return;
        }
        n = (size_t)(nl - p);
        adv = n + 1;
        if (n > 0 && p[n - 1] == '\r')
            n--;
        stream_write(c->s, p, n);
        stream_write(c->s, "\r\n", 2);
        c->bol = 1;
        p += adv;
        len -= adv;
    }
}

int
lmtp_client_end(struct lmtp_client *c, const char **error_r)
{
    size_t i;
    int r;

    if (c->txn != TXN_DATA)
        return 0;
    c->txn = TXN_NONE;
    if (c->held_cr)
        stream_write(c->s, "\r", 1);
    if (c->held_cr || !c->bol)
        stream_write(c->s, "\r\n", 2);
    stream_write(c->s, ".\r\n", 3);
    if (stream_flush(c->s) < 0) {
        *error_r = "sending the message";
        return ERR_IO;
    }
    /* RFC 2033 4.2: one reply per accepted recipient, in order */
    for (i = 0; i < c->nrcpt; i++) {
        if (c->rcpts[i].code != 0)
            continue;
        if ((r = read_reply(c, error_r)) < 0)
            return r;
        set_result(&c->rcpts[i], &c->reply);
    }
    return 0;
}

int
lmtp_client_send(struct lmtp_client *c, const char *from,
                 struct lmtp_client_rcpt *rcpts, size_t n, const char *msg,
                 size_t len, const char **error_r)
{
    int r = lmtp_client_begin(c, from, rcpts, n, error_r);

    if (r == 0)
        r = lmtp_client_wait_data(c, error_r);
    if (r <= 0)
        return r;
    lmtp_client_data(c, msg, len);
    return lmtp_client_end(c, error_r);
}

int
lmtp_client_rset(struct lmtp_client *c, const char **error_r)
{
    buf_setcstr(&c->cmd, "RSET\r\n");
    return command(c, "sending RSET", error_r);
}

int
lmtp_client_quit(struct lmtp_client *c, const char **error_r)
{
    buf_setcstr(&c->cmd, "QUIT\r\n");
    return command(c, "sending QUIT", error_r);
}
