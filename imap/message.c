/* message.c: parse a raw message into the part tree (see message.h).
 *
 * A line scanner walks the message once. Each part is a header (up to a
 * blank line) and content; the content of a multipart is split at
 * delimiter lines of the boundaries currently open (a stack, outermost
 * first). A delimiter of an enclosing multipart ends every inner part and
 * multipart at once, which is how a missing close delimiter is handled
 * (RFC 2046 5.1.2). Content stops before the line end that precedes a
 * delimiter, as RFC 2046 5.1.1 assigns that CRLF to the delimiter. */
#include <string.h>

#include "bodystructure.h"
#include "errors.h"
#include "maildate.h"
#include "message_priv.h"
#include "msgheader.h"
#include "strarray.h"
#include "xmalloc.h"

#define DEFAULT_TYPE        "TEXT/PLAIN; CHARSET=us-ascii"
#define DEFAULT_DIGEST_TYPE "MESSAGE/RFC822"

struct scanner {
    const char *base;
    size_t len, off;
    struct strarray bounds; /* open boundaries, outermost first */
    size_t nparts;
    /* what ended the last scan */
    size_t stop_end; /* end of the content before the delimiter */
    long stop_level; /* index in bounds of the delimiter; -1: end */
    int stop_close;  /* it was a close delimiter ("--b--") */
};

static int
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v'
           || c == '\f';
}

static size_t
next_line(const struct scanner *sc, size_t off)
{
    const char *nl = memchr(sc->base + off, '\n', sc->len - off);

    return nl ? (size_t)(nl - sc->base) + 1 : sc->len;
}

/* The level of the boundary whose delimiter is the line [off, end), or
 * -1. "--b" followed by blanks or the line end opens a part, "--b--"
 * closes the multipart; "--bX..." is not a delimiter of b. */
static long
delimiter(const struct scanner *sc, size_t off, size_t end, int *close_r)
{
    const char *l = sc->base + off;
    size_t n = end - off, i;

    if (sc->nparts >= MESSAGE_MAX_PARTS)
        return -1;
    if (n < 2 || l[0] != '-' || l[1] != '-')
        return -1;
    for (i = sc->bounds.count; i-- > 0;) {
        const char *b = sc->bounds.data[i], *rest;
        size_t bl = strlen(b), rn;

        if (n - 2 < bl || memcmp(l + 2, b, bl) != 0)
            continue;
        rest = l + 2 + bl;
        rn = n - 2 - bl;
        if (rn >= 2 && rest[0] == '-' && rest[1] == '-') {
            *close_r = 1;
            return (long)i;
        }
        if (rn == 0 || is_space(rest[0])) {
            *close_r = 0;
            return (long)i;
        }
    }
    return -1;
}

/* Record a stop at the delimiter line [off, end) met while scanning
 * from start: the line end before the delimiter belongs to it. */
static void
stop_at(struct scanner *sc, size_t start, size_t off, size_t end, long level,
        int close)
{
    size_t e = off;

    if (off > start) {
        e = off - 1;
        if (e > start && sc->base[e - 1] == '\r')
            e--;
    }
    sc->stop_end = e;
    sc->stop_level = level;
    sc->stop_close = close;
    sc->off = end;
}

static void
stop_eof(struct scanner *sc)
{
    sc->stop_end = sc->len;
    sc->stop_level = -1;
    sc->stop_close = 0;
    sc->off = sc->len;
}

/* Content from sc->off to the next delimiter or the end. */
static void
scan_content(struct scanner *sc)
{
    size_t start = sc->off, off = start;

    while (off < sc->len) {
        size_t end = next_line(sc, off);
        int close;
        long level = delimiter(sc, off, end, &close);

        if (level >= 0) {
            stop_at(sc, start, off, end, level, close);
            return;
        }
        off = end;
    }
    stop_eof(sc);
}

/* The header of a part; returns 1 when a delimiter cut it short. */
static int
scan_header(struct scanner *sc, struct message_part *p)
{
    size_t start = sc->off, off = start;

    p->header_offset = start;
    while (off < sc->len) {
        size_t end = next_line(sc, off);
        int close;
        long level;

        if (sc->base[off] == '\n'
            || (sc->base[off] == '\r' && end == off + 2)) {
            p->header_size = end - start;
            p->content_offset = end;
            sc->off = end;
            return 0;
        }
        level = delimiter(sc, off, end, &close);
        if (level >= 0) {
            stop_at(sc, start, off, end, level, close);
            p->header_size = sc->stop_end - start;
            p->content_offset = sc->stop_end;
            return 1;
        }
        off = end;
    }
    p->header_size = sc->len - start;
    p->content_offset = sc->len;
    sc->off = sc->len;
    return 0;
}

static void
replace_str(char **dst, char *s)
{
    free(*dst);
    *dst = s;
}

/* One header field of a part. Later fields replace earlier ones. */
static void
apply_field(struct message_part *p, const struct msgheader_field *f,
            int is_message, struct buf *tmp)
{
    const char *n = f->name, *v;
    size_t nl = f->name_len;
    int idx = -1, mime = nl > 8 && util_strncasecmp(n, "Content-", 8) == 0;

    if (!mime && is_message)
        idx = envelope_field_lookup(n, nl);
    if (!mime && idx < 0)
        return; /* not a field we keep: no need to unfold it */
    buf_reset(tmp);
    msgheader_unfold(f->value, f->value_len, 0, tmp);
    v = buf_cstring(tmp);
    if (mime) {
        if (util_memcaseeq(n, nl, "Content-Type")) {
            replace_str(&p->type, NULL);
            replace_str(&p->subtype, NULL);
            mimeheader_params_free(&p->params);
            mimeheader_parse_type(v, &p->type, &p->subtype, &p->params);
        } else if (util_memcaseeq(n, nl, "Content-Transfer-Encoding")) {
            replace_str(&p->encoding, mimeheader_parse_encoding(v));
        } else if (util_memcaseeq(n, nl, "Content-Disposition")) {
            replace_str(&p->disposition, NULL);
            mimeheader_params_free(&p->disp_params);
            mimeheader_parse_disposition(v, &p->disposition, &p->disp_params);
        } else if (util_memcaseeq(n, nl, "Content-Language")) {
            mimeheader_params_free(&p->language);
            p->language = mimeheader_parse_language(v);
        } else if (util_memcaseeq(n, nl, "Content-ID")) {
            replace_str(&p->id, xstrdup(v));
        } else if (util_memcaseeq(n, nl, "Content-Description")) {
            replace_str(&p->description, xstrdup(v));
        } else if (util_memcaseeq(n, nl, "Content-MD5")) {
            replace_str(&p->md5, xstrdup(v));
        } else if (util_memcaseeq(n, nl, "Content-Location")) {
            replace_str(&p->location, xstrdup(v));
        }
        return;
    }
    replace_str(&p->fields[idx], xstrdup(v));
}

static void
parse_fields(const struct scanner *sc, struct message_part *p, int is_message)
{
    const char *h = sc->base + p->header_offset;
    size_t off = 0;
    struct msgheader_field f;
    struct buf tmp = BUF_INITIALIZER;

    while (msgheader_next(h, p->header_size, &off, &f))
        apply_field(p, &f, is_message, &tmp);
    buf_free(&tmp);
}

static void
set_default_type(struct message_part *p, int digest_child)
{
    mimeheader_parse_type(digest_child ? DEFAULT_DIGEST_TYPE : DEFAULT_TYPE,
                          &p->type, &p->subtype, &p->params);
}

static int
is_type(const struct message_part *p, const char *type, const char *subtype)
{
    return strcmp(p->type, type) == 0
           && (subtype == NULL || strcmp(p->subtype, subtype) == 0);
}

static struct message_part *
add_child(struct message_part *p)
{
    if (p->nparts == p->parts_alloc) {
        p->parts_alloc = p->parts_alloc ? 2 * p->parts_alloc : 2;
        p->parts = xreallocarray(p->parts, p->parts_alloc, sizeof(*p->parts));
    }
    memset(&p->parts[p->nparts], 0, sizeof(*p->parts));
    return &p->parts[p->nparts++];
}

/* An empty part at offset (Cyrus shows one for a multipart whose
 * boundary never appears); message/rfc822 gets an empty message. */
static void
make_empty_part(struct message_part *p, uint64_t offset, int digest_child)
{
    p->header_offset = p->content_offset = offset;
    set_default_type(p, digest_child);
    if (is_type(p, "MESSAGE", "RFC822"))
        make_empty_part(add_child(p), offset, 0);
}

static uint64_t
count_lines(const char *p, size_t len)
{
    uint64_t n = 0;
    const char *end = p + len;

    while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        n++;
        p++;
    }
    return n;
}

static void parse_part(struct scanner *sc, struct message_part *p,
                       int digest_child, int depth, int is_message);

static void
parse_multipart(struct scanner *sc, struct message_part *p, const char *bnd,
                int depth)
{
    int digest = strcmp(p->subtype, "DIGEST") == 0;
    long level = (long)sc->bounds.count;

    strarray_append(&sc->bounds, bnd);
    scan_content(sc); /* the preamble */
    if (sc->stop_level != level) {
        make_empty_part(add_child(p), sc->stop_end, digest);
    } else {
        while (sc->stop_level == level && !sc->stop_close) {
            sc->nparts++;
            parse_part(sc, add_child(p), digest, depth + 1, 0);
        }
        if (sc->stop_level == level) {
            strarray_truncate(&sc->bounds, (size_t)level);
            scan_content(sc); /* the epilogue */
        }
    }
    strarray_truncate(&sc->bounds, (size_t)level);
}

static void
parse_part(struct scanner *sc, struct message_part *p, int digest_child,
           int depth, int is_message)
{
    int cut = scan_header(sc, p);
    const char *bnd;

    parse_fields(sc, p, is_message);
    if (p->type == NULL)
        set_default_type(p, digest_child);
    if (cut) {
        if (is_type(p, "MESSAGE", "RFC822"))
            make_empty_part(add_child(p), p->content_offset, 0);
        return;
    }
    bnd = mimeheader_param(p->params, "BOUNDARY");
    if (is_type(p, "MULTIPART", NULL) && bnd != NULL && *bnd != '\0'
        && depth < MESSAGE_MAX_DEPTH) {
        parse_multipart(sc, p, bnd, depth);
    } else if (is_type(p, "MESSAGE", "RFC822")) {
        if (depth < MESSAGE_MAX_DEPTH) {
            parse_part(sc, add_child(p), 0, depth + 1, 1);
        } else {
            make_empty_part(add_child(p), p->content_offset, 0);
            scan_content(sc);
        }
    } else {
        scan_content(sc);
    }
    if (sc->stop_end > p->content_offset)
        p->content_size = sc->stop_end - p->content_offset;
    p->lines = count_lines(sc->base + p->content_offset, p->content_size);
}

int
message_parse(const char *msg, size_t len, struct message **msg_r)
{
    struct message *m = xzmalloc(sizeof(*m));
    struct scanner sc = {.base = msg, .len = len};
    struct buf b = BUF_INITIALIZER;
    const char *date;
    time_t t;

    m->size = len;
    parse_part(&sc, &m->root, 0, 0, 1);
    strarray_fini(&sc.bounds);

    envelope_write(&b, m->root.fields);
    m->envelope = buf_release(&b);
    bodystructure_write(&b, &m->root, 1);
    m->bodystructure = buf_release(&b);
    bodystructure_write(&b, &m->root, 0);
    m->body = buf_release(&b);
    date = m->root.fields[ENVELOPE_DATE];
    if (date != NULL && maildate_parse(date, strlen(date), &t) == 0) {
        m->has_date = 1;
        m->date = (int64_t)t;
    }
    *msg_r = m;
    return 0;
}

void
message_part_fini(struct message_part *p)
{
    size_t i;

    for (i = 0; i < p->nparts; i++)
        message_part_fini(&p->parts[i]);
    free(p->parts);
    free(p->type);
    free(p->subtype);
    free(p->encoding);
    mimeheader_params_free(&p->params);
    free(p->id);
    free(p->description);
    free(p->md5);
    free(p->location);
    free(p->disposition);
    mimeheader_params_free(&p->disp_params);
    mimeheader_params_free(&p->language);
    for (i = 0; i < ENVELOPE_NFIELDS; i++)
        free(p->fields[i]);
    memset(p, 0, sizeof(*p));
}

void
message_free(struct message **mp)
{
    struct message *m = *mp;

    if (m == NULL)
        return;
    *mp = NULL;
    message_part_fini(&m->root);
    free(m->envelope);
    free(m->bodystructure);
    free(m->body);
    free(m);
}

uint64_t
message_size(const struct message *m)
{
    return m->size;
}

const char *
message_envelope(const struct message *m)
{
    return m->envelope;
}

const char *
message_bodystructure(const struct message *m)
{
    return m->bodystructure;
}

const char *
message_body(const struct message *m)
{
    return m->body;
}

const char *
message_field(const struct message *m, enum envelope_field f)
{
    if ((unsigned)f >= ENVELOPE_NFIELDS)
        return NULL;
    return m->root.fields[f];
}

int
message_sent_date(const struct message *m, time_t *t_r)
{
    if (!m->has_date)
        return ERR_NOTFOUND;
    *t_r = (time_t)m->date;
    return 0;
}

time_t
message_sent_date_or(const struct message *m, time_t fallback)
{
    return m->has_date ? (time_t)m->date : fallback;
}

const struct message_part *
message_root(const struct message *m)
{
    return &m->root;
}

const char *
message_part_type(const struct message_part *p)
{
    return p->type;
}

const char *
message_part_subtype(const struct message_part *p)
{
    return p->subtype;
}

const char *
message_part_encoding(const struct message_part *p)
{
    return p->encoding ? p->encoding : "7BIT";
}

const char *
message_part_charset(const struct message_part *p)
{
    return mimeheader_param(p->params, "CHARSET");
}

struct message_span
message_part_header(const struct message_part *p)
{
    struct message_span s = {p->header_offset, p->header_size};

    return s;
}

struct message_span
message_part_content(const struct message_part *p)
{
    struct message_span s = {p->content_offset, p->content_size};

    return s;
}

uint64_t
message_part_lines(const struct message_part *p)
{
    return p->lines;
}

size_t
message_part_count(const struct message_part *p)
{
    return p->nparts;
}

const struct message_part *
message_part_child(const struct message_part *p, size_t i)
{
    return i < p->nparts ? &p->parts[i] : NULL;
}

int
message_part_is_rfc822(const struct message_part *p)
{
    return is_type(p, "MESSAGE", "RFC822");
}

int
message_part_is_multipart(const struct message_part *p)
{
    return is_type(p, "MULTIPART", NULL);
}
