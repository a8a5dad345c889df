/* proxy_imap.c: imapd in the frontend role: which commands are proxied
 * where, and the relay of a backend's responses (see proxy_imap.h). */
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "config.h"
#include "errors.h"
#include "imapd.h"
#include "imapreader.h"
#include "imaptok.h"
#include "log.h"
#include "mboxlist.h"
#include "mboxname.h"
#include "mupdate_client.h"
#include "proxy_imap.h"
#include "proxy_scan.h"
#include "stream.h"
#include "util.h"
#include "xmalloc.h"

#define IDLE_POLL_MS 50
/* Literals at least this large go from backend to client by splice(2)
 * (smaller ones are not worth the extra system calls). */
#define PROXY_SPLICE_MIN 8192
/* How long a kick may wait for the replica to catch up with the master. */
#define KICK_TIMEOUT_MS 5000

struct proxy_imap {
    struct backend_pool *pool;
    struct backend *selected; /* owned by the pool */
    unsigned next_tag;
    /* the backend whose replies are still coming (commands forwarded
     * without waiting: pipelining), and the tags it owes */
    struct backend *busy;
    struct proxy_scan *scan;
    /* a CREATE/DELETE/SETACL was answered with a referral: the client
     * changes the mailbox on the backend itself, so the replica catches
     * up before the next command (Cyrus's referral_kick) */
    int kick_next;
};

struct proxy_imap *
proxy_imap_new(const char *userid)
{
    struct proxy_imap *p = xzmalloc(sizeof(*p));

    p->pool = backend_pool_new(config, &backend_proto_imap, userid, NULL);
    p->scan = proxy_scan_new();
    return p;
}

void
proxy_imap_free(struct proxy_imap **pp)
{
    struct proxy_imap *p = *pp;

    if (p == NULL)
        return;
    *pp = NULL;
    backend_pool_free(&p->pool);
    proxy_scan_free(&p->scan);
    free(p);
}

const char *
proxy_imap_tag(struct imapd_session *s, struct buf *out)
{
    buf_reset(out);
    buf_printf(out, "PROXY%u", s->proxy->next_tag++);
    return buf_cstring(out);
}

struct backend *
proxy_imap_selected(struct imapd_session *s)
{
    return s->proxy->selected;
}

/* ---- literals ------------------------------------------------------- */

int
proxy_imap_literal_at_end(const char *line, size_t len, uint64_t *n_r)
{
    size_t i;
    uint64_t n = 0;

    if (len < 3 || line[len - 1] != '}')
        return 0;
    i = len - 2;
    if (line[i] == '+' || line[i] == '-')
        i--;
    if (i == 0 || line[i] < '0' || line[i] > '9')
        return 0;
    while (i > 0 && line[i] >= '0' && line[i] <= '9')
        i--;
    if (line[i] != '{')
        return 0;
    for (i++; line[i] >= '0' && line[i] <= '9'; i++) {
        if (n > (UINT64_MAX - 9) / 10)
            return 0;
        n = n * 10 + (uint64_t)(line[i] - '0');
    }
    *n_r = n;
    return 1;
}

void
proxy_imap_rewrite_literals(const char *raw, size_t len, struct buf *out)
{
    size_t pos = 0;

    while (pos < len) {
        const char *nl = memchr(raw + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - raw) : len, linelen = end - pos;
        uint64_t n;

        if (linelen && raw[end - 1] == '\r')
            linelen--;
        if (nl && proxy_imap_literal_at_end(raw + pos, linelen, &n)
            && n <= len - end - 1) {
            const char *line = raw + pos;

            if (line[linelen - 2] == '+' || line[linelen - 2] == '-') {
                buf_appendmap(out, line, linelen);
            } else {
                buf_appendmap(out, line, linelen - 1);
                buf_appendcstr(out, "+}");
            }
            buf_appendcstr(out, "\r\n");
            buf_appendmap(out, nl + 1, (size_t)n);
            pos = end + 1 + (size_t)n;
            continue;
        }
        buf_appendmap(out, raw + pos, linelen);
        buf_appendcstr(out, "\r\n");
        pos = nl ? end + 1 : len;
    }
}

/* ---- relaying -------------------------------------------------------- */

static void
lost_backend(struct imapd_session *s, struct backend **bep)
{
    struct proxy_imap *p = s->proxy;

    log_msg(LOG_ERR, "lost connection to backend %s", backend_server(*bep));
    if (*bep == p->selected) {
        p->selected = NULL;
        stream_puts(s->s, "* BYE Lost connection to selected backend\r\n");
        s->state = IMAPD_LOGOUT;
    }
    backend_pool_drop(p->pool, bep);
}

/* The backend broke with replies owed: the client gets NO for each
 * (or BYE when it was the selected one). */
static void
lost_busy(struct imapd_session *s)
{
    struct proxy_imap *p = s->proxy;
    struct backend *be = p->busy;

    p->busy = NULL;
    lost_backend(s, &be);
    while (proxy_scan_pending(p->scan)) {
        if (s->state != IMAPD_LOGOUT)
            imapd_error(s, proxy_scan_head(p->scan), ERR_UNAVAILABLE);
        proxy_scan_pop(p->scan);
    }
}

/* Whether the client has input for us: buffered, or its fd is readable
 * (waiting also for the busy backend's fd, so 0 means the backend has
 * something, or the wait timed out). */
static int
client_ready(struct imapd_session *s, struct stream *bs)
{
    struct pollfd pfd[2];

    if (stream_buffered(s->s))
        return 1;
    if (stream_buffered(bs))
        return 0;
    pfd[0].fd = stream_fd(s->s);
    pfd[0].events = POLLIN;
    pfd[0].revents = 0;
    pfd[1].fd = stream_fd(bs);
    pfd[1].events = POLLIN;
    pfd[1].revents = 0;
    if (poll(pfd, 2, IDLE_POLL_MS * 200) <= 0)
        return 0;
    return pfd[1].revents == 0 && pfd[0].revents != 0;
}

/* Read what bs has already received without waiting: >0 bytes, 0 none
 * yet, or an error. */
static ssize_t
fill_now(struct stream *bs)
{
    ssize_t r;

    stream_set_nonblocking(bs, 1);
    r = stream_fill(bs);
    stream_set_nonblocking(bs, 0);
    return r;
}

/* The pump: relay the busy backend's output to the client as it comes,
 * in the chunks it arrived in (no per-line copies), until every owed
 * tagged reply has passed, or with until_client as soon as the client
 * has more to say. The client's output is flushed only when the backend
 * has nothing more buffered. */
static int
relay(struct imapd_session *s, int until_client)
{
    struct proxy_imap *p = s->proxy;
    struct stream *bs;
    ssize_t r;

    if (p->busy == NULL)
        return 0;
    bs = backend_stream(p->busy);
    if (stream_flush(bs) < 0) {
        lost_busy(s);
        return ERR_UNAVAILABLE;
    }
    while (proxy_scan_pending(p->scan)) {
        size_t len, n;
        int done;
        const char *d = stream_peek(bs, &len);

        if (len) {
            n = proxy_scan_feed(p->scan, d, len, &done);
            stream_write(s->s, d, n);
            stream_skip(bs, n);
            continue;
        }
        /* a large literal (FETCH BODY[]): passed on in the kernel */
        if (proxy_scan_literal_left(p->scan) >= PROXY_SPLICE_MIN) {
            stream_flush(s->s);
            r = stream_splice(bs, s->s,
                              (size_t)proxy_scan_literal_left(p->scan));
            if (r > 0) {
                proxy_scan_skip(p->scan, (uint64_t)r);
                continue;
            }
            if (r < 0) {
                lost_busy(s);
                return ERR_UNAVAILABLE;
            }
        }
        /* whatever the backend has already sent: one read, no poll() */
        r = fill_now(bs);
        if (r > 0 || r == ERR_TOOLONG)
            continue;
        if (r < 0) {
            lost_busy(s);
            return ERR_UNAVAILABLE;
        }
        stream_flush(s->s);
        if (until_client && client_ready(s, bs))
            return 0;
        if (stream_fill(bs) <= 0) {
            lost_busy(s);
            return ERR_UNAVAILABLE;
        }
    }
    backend_touch(p->busy);
    p->busy = NULL;
    return 0;
}

void
proxy_imap_drain(struct imapd_session *s)
{
    if (s->proxy)
        relay(s, 0);
}

void
proxy_imap_wait(struct imapd_session *s)
{
    if (s->proxy)
        relay(s, 1);
}

/* Send the client's command to be, its synchronizing literals made
 * LITERAL+, and expect its tagged reply. With async the reply is
 * relayed later (pipelining); else it is relayed now and 1 returned for
 * a tagged OK, 0 otherwise. */
static int
send_cmd(struct imapd_session *s, struct backend *be, const char *tag,
         const char *raw, size_t rawlen, int async)
{
    struct proxy_imap *p = s->proxy;
    struct buf cmd = BUF_INITIALIZER;
    const char *t;

    if (p->busy && p->busy != be)
        relay(s, 0);
    proxy_imap_rewrite_literals(raw, rawlen, &cmd);
    stream_write(backend_stream(be), buf_base(&cmd), buf_len(&cmd));
    buf_free(&cmd);
    proxy_scan_push(p->scan, tag);
    p->busy = be;
    if (async)
        return 0;
    relay(s, 0);
    if (p->busy != NULL || s->state == IMAPD_LOGOUT)
        return 0;
    t = proxy_scan_tagged(p->scan);
    return strlen(t) > strlen(tag) + 3
           && util_strncasecmp(t + strlen(tag) + 1, "OK", 2) == 0;
}

int
proxy_imap_pipe(struct imapd_session *s, struct backend **bep, const char *tag,
                int relay, struct buf *tagged)
{
    return proxy_imap_pipe_filter(s, bep, tag, relay, NULL, NULL, tagged);
}

int
proxy_imap_pipe_filter(struct imapd_session *s, struct backend **bep,
                       const char *tag, int relay_it, proxy_imap_filter_cb *cb,
                       void *ctx, struct buf *tagged)
{
    struct stream *bs;
    struct buf line = BUF_INITIALIZER, lit = BUF_INITIALIZER;
    size_t taglen = strlen(tag);
    int r, continued = 0;

    if (s->proxy->busy == *bep && relay(s, 0) < 0) {
        *bep = NULL; /* dropped with the replies it owed */
        return ERR_UNAVAILABLE;
    }
    relay(s, 0);
    bs = backend_stream(*bep);
    stream_flush(bs);
    for (;;) {
        uint64_t n;

        r = stream_getline(bs, &line);
        if (r < 0)
            break;
        if (!continued && buf_len(&line) > taglen
            && memcmp(buf_base(&line), tag, taglen) == 0
            && buf_base(&line)[taglen] == ' ') {
            buf_setmap(tagged, buf_base(&line), buf_len(&line));
            break;
        }
        if (relay_it) {
            if (cb && !continued)
                cb(s, &line, ctx);
            stream_write(s->s, buf_base(&line), buf_len(&line));
            stream_puts(s->s, "\r\n");
        }
        continued = 0;
        if (proxy_imap_literal_at_end(buf_base(&line), buf_len(&line), &n)) {
            buf_reset(&lit);
            r = stream_read_exact(bs, (size_t)n, &lit);
            if (r < 0)
                break;
            if (relay_it)
                stream_write(s->s, buf_base(&lit), buf_len(&lit));
            continued = 1;
        }
    }
    buf_free(&line);
    buf_free(&lit);
    if (r < 0) {
        lost_backend(s, bep);
        return ERR_UNAVAILABLE;
    }
    backend_touch(*bep);
    return 0;
}

struct backend *
proxy_imap_backend(struct imapd_session *s, const char *tag, const char *server)
{
    struct proxy_imap *p = s->proxy;
    struct backend *be = NULL;
    char *err = NULL;
    int r;

    /* the selected (or busy) backend is in constant use: no ping */
    if (p->selected && strcmp(backend_server(p->selected), server) == 0)
        return p->selected;
    if (p->busy && strcmp(backend_server(p->busy), server) == 0)
        return p->busy;
    r = backend_pool_get(p->pool, server, &be, &err);
    if (r < 0) {
        log_msg(LOG_ERR, "%s", err ? err : "backend connect failed");
        free(err);
        imapd_error(s, tag, ERR_UNAVAILABLE);
        return NULL;
    }
    return be;
}

/* Send the client's command to server and relay the answer, tagged line
 * included. Returns 1 on a tagged OK, 0 otherwise. */
static int
forward(struct imapd_session *s, const char *tag, const char *server,
        const char *raw, size_t rawlen)
{
    return proxy_imap_forward(s, tag, server, raw, rawlen, NULL, NULL);
}

int
proxy_imap_forward(struct imapd_session *s, const char *tag,
                   const char *server, const char *raw, size_t rawlen,
                   proxy_imap_filter_cb *cb, void *ctx)
{
    struct backend *be = proxy_imap_backend(s, tag, server);
    struct buf cmd = BUF_INITIALIZER, tagged = BUF_INITIALIZER;
    int ok = 0;

    if (be == NULL)
        return 0;
    if (cb == NULL)
        return send_cmd(s, be, tag, raw, rawlen, 0);
    proxy_imap_rewrite_literals(raw, rawlen, &cmd);
    stream_write(backend_stream(be), buf_base(&cmd), buf_len(&cmd));
    if (proxy_imap_pipe_filter(s, &be, tag, 1, cb, ctx, &tagged) < 0) {
        if (s->state != IMAPD_LOGOUT)
            imapd_error(s, tag, ERR_UNAVAILABLE);
    } else {
        const char *t = buf_cstring(&tagged) + strlen(tag) + 1;

        ok = util_strncasecmp(t, "OK", 2) == 0;
        stream_printf(s->s, "%s\r\n", buf_cstring(&tagged));
        stream_flush(s->s);
    }
    buf_free(&cmd);
    buf_free(&tagged);
    return ok;
}

/* ---- the replica ------------------------------------------------------ */

void
proxy_imap_kick(void)
{
    const char *dir = config_str(config, CFG_CONFIGDIRECTORY);
    int r;

    if (dir == NULL)
        return;
    r = mupdate_kick(dir, KICK_TIMEOUT_MS);
    if (r < 0)
        log_msg(LOG_WARNING, "kicking the mupdate slave: %s", error_text(r));
}

/* Whether extname names a RESERVE entry of the replica (a mailbox being
 * created or moved elsewhere in the murder). */
static int
is_reserved(struct imapd_session *s, const char *extname)
{
    char *intname = NULL;
    struct mboxlist_entry *e = NULL;
    int reserved = 0;

    if (mboxname_to_internal(s->proc->ns, s->userid, s->isadmin, extname,
                             &intname) == 0
        && mboxlist_lookup(s->proc->mboxlist, intname, &e, NULL) == 0)
        reserved = (e->mbtype & MBTYPE_RESERVE) != 0;
    mboxlist_entry_free(&e);
    free(intname);
    return reserved;
}

int
proxy_imap_lookup(struct imapd_session *s, const char *extname,
                  struct mboxlist_entry **entry_r)
{
    int r = imapd_lookup(s, extname, NULL, entry_r);

    if (r == ERR_NOMAILBOX) {
        /* maybe created elsewhere a moment ago: catch up once */
        proxy_imap_kick();
        r = imapd_lookup(s, extname, NULL, entry_r);
    }
    if (r == ERR_NOMAILBOX && is_reserved(s, extname))
        r = ERR_RESERVED;
    return r;
}

/* ---- referrals (RFC 2193, MURDER.md §14) ------------------------------ */

/* Whether this session gets referrals instead of proxying: the client
 * opted in (RLIST/RLSUB/LIST (REMOTE)) and they are not disabled. */
static int
want_referral(const struct imapd_session *s)
{
    return s->referrals
           && !config_switch(config, CFG_PROXYD_DISABLE_MAILBOX_REFERRALS);
}

/* "tag NO [REFERRAL imap://;AUTH=*@host/mailbox] Remote mailbox.": host
 * is the backend's <server>_imap_addr when configured (something a
 * client can connect to), else the server name; the mailbox is the
 * client's mUTF-7 name, URL-encoded (RFC 2192 achar). */
static void
send_referral(struct imapd_session *s, const char *tag, const char *server,
              const char *ext)
{
    static const char safe[] = "-._~!$'()*+,;=:@&";
    struct buf key = BUF_INITIALIZER, code = BUF_INITIALIZER;
    const char *addr, *p;

    buf_printf(&key, "%s_imap_addr", server);
    addr = config_overflow(config, buf_cstring(&key));
    buf_printf(&code, "REFERRAL imap://;AUTH=*@%s/", addr ? addr : server);
    for (p = ext; *p; p++) {
        unsigned char c = (unsigned char)*p;

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || strchr(safe, c))
            buf_putc(&code, (char)c);
        else
            buf_printf(&code, "%%%02X", c);
    }
    imapd_no(s, tag, buf_cstring(&code), "Remote mailbox.");
    buf_free(&key);
    buf_free(&code);
}

/* ---- commands -------------------------------------------------------- */

/* Look up the mailbox argument at t (t is not moved). 1 with *server_r
 * (owned by *entry_r) for a remote mailbox, 0 for a local one (the local
 * handler runs), -1 after replying NO/BAD. */
static int
remote_mailbox(struct imapd_session *s, const char *tag, struct imaptok *t,
               struct mboxlist_entry **entry_r, struct buf *ext)
{
    struct imaptok copy = *t;
    int r;

    *entry_r = NULL;
    if (imaptok_mailbox(&copy, ext) < 0)
        return 0; /* the local parser reports the syntax error */
    if (buf_len(ext) == 0)
        return 0; /* "": server METADATA, answered here */
    r = proxy_imap_lookup(s, buf_cstring(ext), entry_r);
    if (r < 0) {
        imapd_error(s, tag, r);
        return -1;
    }
    if ((*entry_r)->server == NULL) {
        mboxlist_entry_free(entry_r);
        return 0;
    }
    return 1;
}

/* The server holding the user's INBOX (subscriptions live there). */
static char *
inbox_server(struct imapd_session *s)
{
    struct buf name = BUF_INITIALIZER;
    struct mboxlist_entry *e = NULL;
    char *server = NULL;

    buf_printf(&name, "user.%s", s->userid);
    buf_replace_char(&name, '@', '\0');
    if (mboxlist_lookup(s->proc->mboxlist, buf_cstring(&name), &e, NULL) == 0
        && e->server)
        server = xstrdup(e->server);
    mboxlist_entry_free(&e);
    buf_free(&name);
    return server;
}

/* Leave the selected backend unless it is server (NULL: leave anyway). */
static void
leave_backend(struct imapd_session *s, const char *server)
{
    struct proxy_imap *p = s->proxy;

    if (p->selected
        && (server == NULL || strcmp(backend_server(p->selected), server))) {
        /* leaving this backend: it must not keep the mailbox open */
        struct buf t = BUF_INITIALIZER, tagged = BUF_INITIALIZER;
        struct backend *old = p->selected;

        proxy_imap_tag(s, &t);
        stream_printf(backend_stream(old), "%s UNSELECT\r\n", buf_cstring(&t));
        p->selected = NULL;
        proxy_imap_pipe(s, &old, buf_cstring(&t), 0, &tagged);
        buf_free(&t);
        buf_free(&tagged);
        if (s->state == IMAPD_SELECTED)
            s->state = IMAPD_AUTH;
    }
}

static void
do_select(struct imapd_session *s, const char *tag, const char *server,
          const char *raw, size_t rawlen)
{
    struct proxy_imap *p = s->proxy;

    leave_backend(s, server);
    imapd_unselect(s);
    if (forward(s, tag, server, raw, rawlen)) {
        p->selected = backend_pool_find(p->pool, server);
        s->state = IMAPD_SELECTED;
    } else if (s->state != IMAPD_LOGOUT) {
        /* RFC 3501 6.3.1: a failed SELECT leaves no mailbox selected */
        p->selected = NULL;
        s->state = IMAPD_AUTH;
    }
}

/* IDLE relayed both ways until the client's DONE and the backend's
 * tagged reply. */
static void
do_idle(struct imapd_session *s, const char *tag)
{
    struct proxy_imap *p = s->proxy;
    struct backend *be = p->selected;
    struct stream *bs = backend_stream(be);
    struct buf line = BUF_INITIALIZER;
    int done_sent = 0, r;
    enum imapreader_state st;

    stream_printf(bs, "%s IDLE\r\n", tag);
    stream_flush(bs);
    imapreader_read_line(s->reader);
    for (;;) {
        const char *cp;
        size_t len, used = 0;

        while (stream_buffered(bs) || stream_wait(bs, 0) == 0) {
            r = stream_getline(bs, &line);
            if (r < 0) {
                lost_backend(s, &be);
                goto out;
            }
            stream_write(s->s, buf_base(&line), buf_len(&line));
            stream_puts(s->s, "\r\n");
            if (util_strncasecmp(buf_cstring(&line), tag, strlen(tag)) == 0
                && buf_base(&line)[strlen(tag)] == ' ') {
                if (!done_sent) /* refused: no continuation line coming */
                    imapreader_reset(s->reader);
                goto out;
            }
        }
        stream_flush(s->s);
        if (done_sent) {
            stream_wait(bs, 1000);
            continue;
        }
        cp = stream_peek(s->s, &len);
        if (len == 0) {
            r = stream_wait(s->s, IDLE_POLL_MS);
            if (r < 0 && r != ERR_TIMEOUT)
                goto gone;
            if (r == 0 && stream_fill(s->s) <= 0)
                goto gone;
            continue;
        }
        st = imapreader_feed(s->reader, cp, len, &used);
        stream_skip(s->s, used);
        if (st == IMAPREADER_LINE || st == IMAPREADER_ERROR
            || st == IMAPREADER_CLOSE) {
            /* whatever the client said ends IDLE; the backend judges it
             * (a line over the limit was dropped: an empty one stands
             * for it, else the session hung in IDLE) */
            cp = st == IMAPREADER_LINE ? imapreader_line(s->reader, &len) : "";
            if (st != IMAPREADER_LINE)
                len = 0;
            stream_write(bs, cp, len);
            stream_puts(bs, "\r\n");
            stream_flush(bs);
            done_sent = 1;
        }
    }
gone:
    s->state = IMAPD_LOGOUT;
out:
    stream_flush(s->s);
    buf_free(&line);
}

static int
has_word(const char *p, size_t len, const char *word)
{
    size_t n = strlen(word), i;

    for (i = 0; i + n <= len; i++) {
        if (util_strncasecmp(p + i, word, n) == 0)
            return 1;
    }
    return 0;
}

static int
cmd_is(const char *name, const char *const *list)
{
    for (; *list; list++) {
        if (util_strcasecmp(name, *list) == 0)
            return 1;
    }
    return 0;
}

/* Commands answered by the frontend itself. */
static const char *const local_cmds[] = {
    "CAPABILITY",   "LOGOUT", "ID",        "STARTTLS", "LOGIN",
    "AUTHENTICATE", "ENABLE", "NAMESPACE", NULL};
/* Mailbox commands after whose success the replica must catch up. */
static const char *const mboxlist_cmds[] = {"DELETE", "RENAME", "SETACL",
                                            "DELETEACL", "XFER", NULL};
/* Commands whose first argument is a mailbox, proxied to its backend. */
static const char *const mailbox_cmds[] = {
    "STATUS",      "DELETE",      "RENAME",     "GETACL",       "SETACL",
    "DELETEACL",   "MYRIGHTS",    "LISTRIGHTS", "GETQUOTAROOT", "APPEND",
    "GETMETADATA", "SETMETADATA", "GETQUOTA",    "SETQUOTA",
    /* Cyrus proxies these to the backend holding the (root) mailbox */
    "XFER",        NULL};

/* Commands answered with a referral once the client opted in (SETACL
 * only for admins, CREATE in do_create()). */
static const char *const referral_cmds[] = {"DELETE", "APPEND", NULL};

/* A selected-state command passed through as it is, without waiting
 * for its reply (not IDLE, COPY/MOVE, CLOSE/UNSELECT, LIST: those look
 * at the answer or change state). */
static int
plain_selected(struct imapd_session *s, const char *name)
{
    static const char *const special[] = {
        "IDLE",     "COPY", "MOVE",  "UID COPY", "UID MOVE", "CLOSE",
        "UNSELECT", "LIST", "RLIST", "XLIST",    "LSUB",     "RLSUB",
        "SELECT",   "EXAMINE", NULL};

    return s->proxy->selected != NULL && !cmd_is(name, special)
           && !cmd_is(name, local_cmds) && !cmd_is(name, mailbox_cmds)
           && util_strcasecmp(name, "CREATE") != 0
           && util_strcasecmp(name, "SUBSCRIBE") != 0
           && util_strcasecmp(name, "UNSUBSCRIBE") != 0;
}

/* APPEND: literals from 64 KiB on were spooled to a file on the way in
 * (imapd_literal.c), the command holds only their headers; the bytes go
 * to the backend from there, in chunks (else the backend waits forever
 * for a literal that never comes). Not waiting for the reply keeps
 * MULTIAPPEND and pipelined APPENDs pipelined. */
static void
forward_append(struct imapd_session *s, const char *tag, const char *server,
               const char *raw, size_t rawlen)
{
    struct proxy_imap *p = s->proxy;
    struct backend *be = proxy_imap_backend(s, tag, server);
    int r;

    if (be == NULL) {
        imapd_literal_reset(s);
        return;
    }
    if (p->busy && p->busy != be)
        relay(s, 0);
    r = imapd_literal_forward(s, raw, rawlen, backend_stream(be));
    if (r < 0) {
        relay(s, 0); /* the pipelined APPENDs' replies go first */
        if (r == ERR_BADMSG)
            imapd_no(s, tag, "PARSE",
                     "Message contains invalid header or NUL bytes");
        else
            imapd_error(s, tag, r);
        return;
    }
    proxy_scan_push(p->scan, tag);
    p->busy = be;
}

static void
copy_or_move(struct imapd_session *s, const char *tag, const char *name,
             struct imaptok *t, const char *raw, size_t rawlen)
{
    struct imaptok_span set;
    struct buf ext = BUF_INITIALIZER;
    struct mboxlist_entry *e = NULL;
    int uid = util_strncasecmp(name, "UID ", 4) == 0;
    int move = util_strcasecmp(name + (uid ? 4 : 0), "MOVE") == 0;
    int r;

    if (imaptok_atom_ex(t, IMAPTOK_ATOM_WILDCARDS, &set) < 0
        || imaptok_sp(t) < 0 || imaptok_mailbox(t, &ext) < 0) {
        imapd_bad(s, tag, "Invalid arguments");
        goto out;
    }
    r = proxy_imap_lookup(s, buf_cstring(&ext), &e);
    if (r == ERR_RESERVED) {
        imapd_error(s, tag, r);
        goto out;
    }
    if (r < 0) {
        imapd_no(s, tag, "TRYCREATE", error_text(r));
        goto out;
    }
    if (e->server == NULL
        || strcmp(e->server, backend_server(s->proxy->selected)) == 0) {
        forward(s, tag, backend_server(s->proxy->selected), raw, rawlen);
    } else {
        char *setstr = xstrndup(set.p, set.len);

        proxy_copy(s, tag, uid, move, setstr, buf_cstring(&ext), e->server);
        free(setstr);
    }
out:
    mboxlist_entry_free(&e);
    buf_free(&ext);
}

static void
do_create(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    struct buf ext = BUF_INITIALIZER, part = BUF_INITIALIZER;
    struct buf cmd = BUF_INITIALIZER;
    char *server = NULL, *partition = NULL;
    int r;

    if (imaptok_mailbox(t, &ext) < 0) {
        imapd_bad(s, tag, "Missing required argument to Create");
        goto out;
    }
    if (imaptok_peek(t) == ' ') {
        imaptok_sp(t);
        if (imaptok_peek(t) != '(' && imaptok_astring(t, &part) < 0) {
            imapd_bad(s, tag, "Invalid partition");
            goto out;
        }
    }
    r = proxy_create_place(s, buf_cstring(&ext),
                           buf_len(&part) ? buf_cstring(&part) : NULL, &server,
                           &partition);
    if (r < 0) {
        imapd_error(s, tag, r);
        goto out;
    }
    if (s->isadmin && want_referral(s)) {
        send_referral(s, tag, server, buf_cstring(&ext));
        s->proxy->kick_next = 1;
        goto out;
    }
    buf_printf(&cmd, "%s CREATE {%zu+}\r\n%s", tag, buf_len(&ext),
               buf_cstring(&ext));
    if (partition)
        buf_printf(&cmd, " {%zu+}\r\n%s", strlen(partition), partition);
    buf_appendcstr(&cmd, "\r\n");
    if (forward(s, tag, server, buf_base(&cmd), buf_len(&cmd)))
        proxy_imap_kick(); /* "CREATE x" then "SELECT x" must work at once */
out:
    free(server);
    free(partition);
    buf_free(&ext);
    buf_free(&part);
    buf_free(&cmd);
}

int
proxy_imap_dispatch(struct imapd_session *s, const char *tag, const char *name,
                    struct imaptok *t, const char *raw, size_t rawlen)
{
    struct proxy_imap *p = s->proxy;
    struct mboxlist_entry *e = NULL;
    struct buf ext = BUF_INITIALIZER;
    int r;

    if (p == NULL)
        return 0;
    if (p->kick_next) {
        p->kick_next = 0;
        proxy_imap_kick();
    }
    /* pipelined: APPEND, and what goes to the selected backend as it is;
     * anything else first waits for the replies still coming */
    if (util_strcasecmp(name, "APPEND") != 0 && !plain_selected(s, name))
        relay(s, 0);
    if (cmd_is(name, local_cmds))
        return 0;
    if (util_strcasecmp(name, "SELECT") == 0
        || util_strcasecmp(name, "EXAMINE") == 0) {
        r = remote_mailbox(s, tag, t, &e, &ext);
        if (r == 1 && want_referral(s))
            send_referral(s, tag, e->server, buf_cstring(&ext));
        else if (r == 1)
            do_select(s, tag, e->server, raw, rawlen);
        else if (r == 0)
            leave_backend(s, NULL);
        goto done;
    }
    if (cmd_is(name, mailbox_cmds)) {
        r = remote_mailbox(s, tag, t, &e, &ext);
        if (r == 1 && want_referral(s)
            && (cmd_is(name, referral_cmds)
                || (s->isadmin && util_strcasecmp(name, "SETACL") == 0))) {
            send_referral(s, tag, e->server, buf_cstring(&ext));
            /* the client changes the mailbox list on the backend */
            p->kick_next = cmd_is(name, mboxlist_cmds);
        } else if (r == 1 && util_strcasecmp(name, "APPEND") == 0) {
            forward_append(s, tag, e->server, raw, rawlen);
        } else if (r == 1 && util_strcasecmp(name, "RENAME") == 0
                   && proxy_rename_location(s, tag, t, e->server)) {
            ; /* RENAME old old location: answered */
        } else if (r == 1 && forward(s, tag, e->server, raw, rawlen)
                   && cmd_is(name, mboxlist_cmds)) {
            proxy_imap_kick();
        }
        goto done;
    }
    if (util_strcasecmp(name, "CREATE") == 0) {
        do_create(s, tag, t);
        r = 1;
        goto done;
    }
    if (util_strcasecmp(name, "RLSUB") == 0)
        s->referrals = 1; /* and answered by the INBOX's backend */
    if (util_strcasecmp(name, "LSUB") == 0
        || util_strcasecmp(name, "RLSUB") == 0
        || util_strcasecmp(name, "SUBSCRIBE") == 0
        || util_strcasecmp(name, "UNSUBSCRIBE") == 0
        || (util_strcasecmp(name, "LIST") == 0
            && has_word(raw, rawlen, "SUBSCRIBED"))) {
        char *server = inbox_server(s);

        if (server == NULL) {
            r = 0; /* INBOX is local (or none): the local handler */
            goto done;
        }
        if (util_strcasecmp(name, "SUBSCRIBE") == 0) {
            r = remote_mailbox(s, tag, t, &e, &ext);
            if (r < 0) {
                free(server);
                goto done;
            }
        }
        proxy_imap_forward(s, tag, server, raw, rawlen, proxy_lsub_filter_cb,
                           NULL);
        free(server);
        r = 1;
        goto done;
    }
    if (p->selected == NULL || util_strcasecmp(name, "LIST") == 0
        || util_strcasecmp(name, "RLIST") == 0
        || util_strcasecmp(name, "XLIST") == 0) {
        r = 0;
        goto done;
    }
    /* the selected state: everything else goes to the selected backend */
    r = 1;
    if (util_strcasecmp(name, "IDLE") == 0) {
        do_idle(s, tag);
    } else if (util_strcasecmp(name, "COPY") == 0
               || util_strcasecmp(name, "MOVE") == 0
               || util_strcasecmp(name, "UID COPY") == 0
               || util_strcasecmp(name, "UID MOVE") == 0) {
        copy_or_move(s, tag, name, t, raw, rawlen);
    } else if (util_strcasecmp(name, "CLOSE") == 0
               || util_strcasecmp(name, "UNSELECT") == 0) {
        forward(s, tag, backend_server(p->selected), raw, rawlen);
        p->selected = NULL;
        if (s->state == IMAPD_SELECTED)
            s->state = IMAPD_AUTH;
    } else {
        send_cmd(s, p->selected, tag, raw, rawlen, 1);
    }
done:
    mboxlist_entry_free(&e);
    buf_free(&ext);
    return r != 0;
}
