/* proxy_copy.c: COPY and MOVE from the selected backend to a mailbox on
 * another backend (MURDER.md section 12): fetch flags, internal date and
 * the message from the source, MULTIAPPEND them to the destination, and
 * for MOVE expunge the source messages only once the append succeeded. */
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "errors.h"
#include "imapd.h"
#include "log.h"
#include "proxy_imap.h"
#include "stream.h"
#include "util.h"
#include "xmalloc.h"

struct copy_msg {
    unsigned long uid;
    struct buf flags; /* without the parentheses, \Recent removed */
    struct buf date;  /* without the quotes */
    struct buf body;
};

struct copy_list {
    struct copy_msg *msgs;
    size_t count, alloc;
};

static void
copy_list_free(struct copy_list *l)
{
    size_t i;

    for (i = 0; i < l->count; i++) {
        buf_free(&l->msgs[i].flags);
        buf_free(&l->msgs[i].date);
        buf_free(&l->msgs[i].body);
    }
    free(l->msgs);
    memset(l, 0, sizeof(*l));
}

/* Keep the flags of "(a b c)" at p except \Recent (RFC 3501 2.3.2: a
 * session cannot set it). */
static void
take_flags(const char *p, struct buf *out)
{
    const char *end = strchr(p, ')');
    const char *w = p;

    if (end == NULL)
        return;
    while (w < end) {
        const char *sp = memchr(w, ' ', (size_t)(end - w));
        size_t n = sp ? (size_t)(sp - w) : (size_t)(end - w);

        if (n && !(n == 7 && util_strncasecmp(w, "\\Recent", 7) == 0)) {
            if (buf_len(out))
                buf_putc(out, ' ');
            buf_appendmap(out, w, n);
        }
        w += n + 1;
    }
}

/* Pick UID, FLAGS and INTERNALDATE out of the text of one FETCH response
 * (the literal itself is not in text). */
static int
parse_fetch(const char *text, struct copy_msg *m)
{
    const char *p;

    p = strstr(text, "UID ");
    if (p == NULL)
        return ERR_PROTOCOL;
    m->uid = strtoul(p + 4, NULL, 10);
    p = strstr(text, "FLAGS (");
    if (p)
        take_flags(p + 7, &m->flags);
    p = strstr(text, "INTERNALDATE \"");
    if (p) {
        const char *q = strchr(p + 14, '"');

        if (q)
            buf_appendmap(&m->date, p + 14, (size_t)(q - p - 14));
    }
    return m->uid ? 0 : ERR_PROTOCOL;
}

/* Run the FETCH on the source and collect the messages; other untagged
 * responses go to the client (it has the source selected). 0, ERR_NO
 * (tagged NO/BAD: *tagged has it) or ERR_UNAVAILABLE. */
static int
fetch_source(struct imapd_session *s, struct backend **bep, int uid,
             const char *set, struct copy_list *l, struct buf *tagged)
{
    struct stream *bs = backend_stream(*bep);
    struct buf tag = BUF_INITIALIZER, line = BUF_INITIALIZER;
    struct buf text = BUF_INITIALIZER, lit = BUF_INITIALIZER;
    int r = 0;

    proxy_imap_tag(s, &tag);
    stream_printf(bs, "%s %sFETCH %s (UID FLAGS INTERNALDATE BODY.PEEK[])\r\n",
                  buf_cstring(&tag), uid ? "UID " : "", set);
    stream_flush(bs);
    for (;;) {
        uint64_t n;

        buf_reset(&text);
        buf_reset(&lit);
        /* one response: a line, and after each literal its continuation */
        for (;;) {
            r = stream_getline(bs, &line);
            if (r < 0)
                goto broken;
            buf_appendbuf(&text, &line);
            if (!proxy_imap_literal_at_end(buf_base(&line), buf_len(&line), &n))
                break;
            buf_reset(&lit);
            r = stream_read_exact(bs, (size_t)n, &lit);
            if (r < 0)
                goto broken;
        }
        if (strncmp(buf_cstring(&text), buf_cstring(&tag), buf_len(&tag)) == 0
            && buf_base(&text)[buf_len(&tag)] == ' ') {
            buf_setmap(tagged, buf_base(&text), buf_len(&text));
            r = util_strncasecmp(buf_cstring(&text) + buf_len(&tag) + 1, "OK",
                                 2)
                        == 0
                    ? 0
                    : ERR_PROTOCOL;
            break;
        }
        if (strstr(buf_cstring(&text), " FETCH (") && buf_len(&lit)) {
            struct copy_msg *m;

            if (l->count == l->alloc) {
                l->alloc = l->alloc ? 2 * l->alloc : 16;
                l->msgs = xrealloc(l->msgs, l->alloc * sizeof(*l->msgs));
            }
            m = &l->msgs[l->count++];
            memset(m, 0, sizeof(*m));
            if (parse_fetch(buf_cstring(&text), m) < 0) {
                r = ERR_PROTOCOL;
                break;
            }
            buf_appendbuf(&m->body, &lit);
        } else if (buf_len(&lit) == 0) {
            stream_printf(s->s, "%s\r\n", buf_cstring(&text));
        }
    }
    goto out;
broken:
    r = ERR_UNAVAILABLE;
out:
    buf_free(&tag);
    buf_free(&line);
    buf_free(&text);
    buf_free(&lit);
    return r;
}

static void
uid_list(const struct copy_list *l, struct buf *out)
{
    size_t i;

    for (i = 0; i < l->count; i++)
        buf_printf(out, "%s%lu", i ? "," : "", l->msgs[i].uid);
}

/* MULTIAPPEND the messages to dest; 0 with *tagged holding the OK line. */
static int
append_dest(struct imapd_session *s, struct backend **bep, const char *tag,
            const char *dest, const struct copy_list *l, struct buf *tagged)
{
    struct stream *bs = backend_stream(*bep);
    size_t i;
    int r;

    stream_printf(bs, "%s APPEND {%zu+}\r\n%s", tag, strlen(dest), dest);
    for (i = 0; i < l->count; i++) {
        const struct copy_msg *m = &l->msgs[i];

        stream_printf(bs, " (%s)", buf_cstring((struct buf *)&m->flags));
        if (buf_len(&m->date))
            stream_printf(bs, " \"%s\"", buf_cstring((struct buf *)&m->date));
        stream_printf(bs, " {%zu+}\r\n", buf_len(&m->body));
        stream_write(bs, buf_base(&m->body), buf_len(&m->body));
    }
    stream_puts(bs, "\r\n");
    r = proxy_imap_pipe(s, bep, tag, 0, tagged);
    if (r < 0)
        return r;
    return util_strncasecmp(buf_cstring(tagged) + strlen(tag) + 1, "OK", 2) == 0
               ? 0
               : ERR_PROTOCOL;
}

/* MOVE: flag and expunge the copied messages on the source, relaying the
 * EXPUNGE responses. */
static void
expunge_source(struct imapd_session *s, const struct copy_list *l)
{
    struct backend *be = proxy_imap_selected(s);
    struct buf tag = BUF_INITIALIZER, uids = BUF_INITIALIZER;
    struct buf tagged = BUF_INITIALIZER;

    uid_list(l, &uids);
    proxy_imap_tag(s, &tag);
    stream_printf(backend_stream(be),
                  "%s UID STORE %s +FLAGS.SILENT (\\Deleted)\r\n",
                  buf_cstring(&tag), buf_cstring(&uids));
    if (proxy_imap_pipe(s, &be, buf_cstring(&tag), 1, &tagged) == 0) {
        proxy_imap_tag(s, &tag);
        stream_printf(backend_stream(be), "%s UID EXPUNGE %s\r\n",
                      buf_cstring(&tag), buf_cstring(&uids));
        proxy_imap_pipe(s, &be, buf_cstring(&tag), 1, &tagged);
    }
    buf_free(&tag);
    buf_free(&uids);
    buf_free(&tagged);
}

void
proxy_copy(struct imapd_session *s, const char *tag, int uid, int move,
           const char *set, const char *dest_ext, const char *dest_server)
{
    struct backend *src = proxy_imap_selected(s), *dst;
    struct copy_list l = {NULL, 0, 0};
    struct buf tagged = BUF_INITIALIZER, code = BUF_INITIALIZER;
    const char *p;
    int r;

    r = fetch_source(s, &src, uid, set, &l, &tagged);
    if (r == ERR_UNAVAILABLE) {
        /* the selected backend is gone: the session cannot go on */
        stream_puts(s->s, "* BYE Lost connection to selected backend\r\n");
        s->state = IMAPD_LOGOUT;
        goto out;
    }
    if (r < 0) {
        imapd_no(s, tag, NULL, "inter-server COPY failed");
        goto out;
    }
    if (l.count == 0) {
        imapd_ok(s, tag, NULL, "Completed");
        goto out;
    }
    dst = proxy_imap_backend(s, tag, dest_server);
    if (dst == NULL)
        goto out;
    r = append_dest(s, &dst, tag, dest_ext, &l, &tagged);
    if (r == ERR_UNAVAILABLE) {
        if (s->state != IMAPD_LOGOUT)
            imapd_error(s, tag, ERR_UNAVAILABLE);
        goto out;
    }
    if (r < 0) {
        /* the destination's NO (quota, rights, ...) is the answer */
        const char *t = buf_cstring(&tagged) + strlen(tag) + 1;

        stream_printf(s->s, "%s %s\r\n", tag, t);
        goto out;
    }
    p = strstr(buf_cstring(&tagged), "[APPENDUID ");
    if (p) {
        unsigned long uidvalidity = strtoul(p + 11, (char **)&p, 10);
        const char *end = strchr(p, ']');

        buf_printf(&code, "COPYUID %lu ", uidvalidity);
        uid_list(&l, &code);
        if (end && *p == ' ')
            buf_appendmap(&code, p, (size_t)(end - p));
    }
    if (move) {
        /* RFC 6851 4.3: COPYUID in an untagged OK before the EXPUNGEs */
        if (buf_len(&code))
            stream_printf(s->s, "* OK [%s] Moved\r\n", buf_cstring(&code));
        expunge_source(s, &l);
        if (s->state != IMAPD_LOGOUT)
            imapd_ok(s, tag, NULL, "Completed");
    } else {
        imapd_ok(s, tag, buf_cstring(&code), "Completed");
    }
out:
    copy_list_free(&l);
    buf_free(&tagged);
    buf_free(&code);
}
