/* msgcache.c: encode and decode the cache record (see msgcache.h). */
#include <string.h>
#include <zlib.h>

#include "errors.h"
#include "message_priv.h"
#include "msgcache.h"
#include "util.h"
#include "xmalloc.h"

#define HEADER_LEN 8 /* "MCR", version, u32 length */
#define CRC_LEN    4
/* The smallest encoded part: 5 varints, 2 empty-ish strings, 2 flags and
 * a child count. Bounds child counts before allocating. */
#define MIN_PART_LEN 12
/* Trees built by the parser are at most this deep (empty parts made at
 * the nesting limit add two levels). */
#define MAX_TREE_DEPTH (MESSAGE_MAX_DEPTH + 4)

/* ---- writing ---------------------------------------------------------- */

static void
put_u32(struct buf *b, uint32_t v)
{
    unsigned char c[4] = {(unsigned char)v, (unsigned char)(v >> 8),
                          (unsigned char)(v >> 16), (unsigned char)(v >> 24)};

    buf_appendmap(b, c, 4);
}

static void
put_varint(struct buf *b, uint64_t v)
{
    while (v >= 0x80) {
        buf_putc(b, (char)(0x80 | (v & 0x7f)));
        v >>= 7;
    }
    buf_putc(b, (char)v);
}

static void
put_str(struct buf *b, const char *s)
{
    size_t n = strlen(s);

    put_varint(b, n);
    buf_appendmap(b, s, n);
}

static void
put_nstr(struct buf *b, const char *s)
{
    buf_putc(b, s != NULL);
    if (s != NULL)
        put_str(b, s);
}

static void
put_part(struct buf *b, const struct message_part *p)
{
    size_t i;

    put_varint(b, p->header_offset);
    put_varint(b, p->header_size);
    put_varint(b, p->content_offset);
    put_varint(b, p->content_size);
    put_varint(b, p->lines);
    put_str(b, p->type);
    put_str(b, p->subtype);
    put_nstr(b, p->encoding);
    put_nstr(b, mimeheader_param(p->params, "CHARSET"));
    put_varint(b, p->nparts);
    for (i = 0; i < p->nparts; i++)
        put_part(b, &p->parts[i]);
}

static uint32_t
checksum(const unsigned char *p, size_t len)
{
    uLong crc = crc32(0L, Z_NULL, 0);

    while (len > 0) {
        uInt n = len > 0x40000000 ? 0x40000000 : (uInt)len;

        crc = crc32(crc, p, n);
        p += n;
        len -= n;
    }
    return (uint32_t)crc;
}

void
msgcache_encode(const struct message *m, struct buf *out)
{
    size_t start = buf_len(out), total, i;
    unsigned char *rec;

    buf_appendmap(out, "MCR", 3);
    buf_putc(out, MSGCACHE_VERSION);
    put_u32(out, 0); /* length, patched below */
    put_varint(out, m->size);
    buf_putc(out, m->has_date ? 1 : 0);
    if (m->has_date) /* zigzag: small negative dates stay short */
        put_varint(out, ((uint64_t)m->date << 1) ^ (uint64_t)(m->date >> 63));
    put_str(out, m->envelope);
    put_str(out, m->bodystructure);
    put_str(out, m->body);
    put_varint(out, ENVELOPE_NFIELDS);
    for (i = 0; i < ENVELOPE_NFIELDS; i++)
        put_nstr(out, m->root.fields[i]);
    put_part(out, &m->root);

    total = buf_len(out) - start + CRC_LEN;
    ASSERT(total <= UINT32_MAX);
    rec = (unsigned char *)out->s + start;
    rec[4] = (unsigned char)total;
    rec[5] = (unsigned char)(total >> 8);
    rec[6] = (unsigned char)(total >> 16);
    rec[7] = (unsigned char)(total >> 24);
    put_u32(out,
            checksum((const unsigned char *)out->s + start, total - CRC_LEN));
}

/* ---- reading (bounds-checked) ----------------------------------------- */

struct reader {
    const unsigned char *p;
    size_t len, off;
    int bad;
};

static size_t
remaining(const struct reader *r)
{
    return r->len - r->off;
}

static unsigned
get_u8(struct reader *r)
{
    if (r->bad || remaining(r) < 1) {
        r->bad = 1;
        return 0;
    }
    return r->p[r->off++];
}

static uint64_t
get_varint(struct reader *r)
{
    uint64_t v = 0;
    unsigned shift = 0;

    for (;;) {
        unsigned c = get_u8(r);

        if (r->bad)
            return 0;
        if (shift == 63 && (c & 0x7e) != 0) {
            r->bad = 1; /* more than 64 bits */
            return 0;
        }
        v |= (uint64_t)(c & 0x7f) << shift;
        if ((c & 0x80) == 0)
            return v;
        shift += 7;
        if (shift > 63) {
            r->bad = 1;
            return 0;
        }
    }
}

/* A string of the record as a span (no copy); r->bad on error. */
static const char *
get_span(struct reader *r, size_t *len_r)
{
    uint64_t n = get_varint(r);
    const char *s;

    *len_r = 0;
    if (r->bad || n > remaining(r)) {
        r->bad = 1;
        return NULL;
    }
    s = (const char *)r->p + r->off;
    if (memchr(s, '\0', (size_t)n) != NULL) {
        r->bad = 1;
        return NULL;
    }
    r->off += (size_t)n;
    *len_r = (size_t)n;
    return s;
}

/* A string without NULs, as a new allocation; NULL (and r->bad) on
 * error. */
static char *
get_str(struct reader *r)
{
    size_t n;
    const char *s = get_span(r, &n);

    return s != NULL ? xstrndup(s, n) : NULL;
}

static char *
get_nstr(struct reader *r)
{
    unsigned present = get_u8(r);

    if (r->bad || present > 1) {
        r->bad = 1;
        return NULL;
    }
    return present ? get_str(r) : NULL;
}

static int
span_ok(uint64_t off, uint64_t len, uint64_t size)
{
    return off <= size && len <= size - off;
}

static void
get_part(struct reader *r, struct message_part *p, uint64_t size, int depth)
{
    uint64_t n, i;
    char *charset;

    p->header_offset = get_varint(r);
    p->header_size = get_varint(r);
    p->content_offset = get_varint(r);
    p->content_size = get_varint(r);
    p->lines = get_varint(r);
    p->type = get_str(r);
    p->subtype = get_str(r);
    p->encoding = get_nstr(r);
    charset = get_nstr(r);
    if (charset != NULL) {
        p->params = xzmalloc(sizeof(*p->params));
        p->params->name = xstrdup("CHARSET");
        p->params->value = charset;
    }
    n = get_varint(r);
    if (r->bad)
        return;
    if (!span_ok(p->header_offset, p->header_size, size)
        || !span_ok(p->content_offset, p->content_size, size)
        || p->lines > p->content_size || *p->type == '\0' || *p->subtype == '\0'
        || depth > MAX_TREE_DEPTH || n > remaining(r) / MIN_PART_LEN) {
        r->bad = 1;
        return;
    }
    if (message_part_is_rfc822(p) ? n != 1
                                  : (!message_part_is_multipart(p) && n != 0)) {
        r->bad = 1;
        return;
    }
    if (n == 0)
        return;
    p->parts = xcalloc((size_t)n, sizeof(*p->parts));
    p->parts_alloc = (size_t)n;
    for (i = 0; i < n && !r->bad; i++) {
        p->nparts++;
        get_part(r, &p->parts[i], size, depth + 1);
    }
}

static uint32_t
read_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16
           | (uint32_t)p[3] << 24;
}

int
msgcache_record_size(const char *p, size_t len, size_t *size_r)
{
    const unsigned char *u = (const unsigned char *)p;
    uint32_t total;

    if (len < HEADER_LEN || memcmp(p, "MCR", 3) != 0)
        return ERR_BADMSG;
    if (u[3] != MSGCACHE_VERSION)
        return ERR_NOTSUPPORTED;
    total = read_u32(u + 4);
    if (total < HEADER_LEN + CRC_LEN)
        return ERR_BADMSG;
    *size_r = total;
    return 0;
}

/* Check that p is one whole record with a good checksum and set r to
 * read its body (after the header, before the checksum). */
static int
reader_start(struct reader *r, const char *p, size_t len)
{
    const unsigned char *u = (const unsigned char *)p;
    size_t total;
    int rc = msgcache_record_size(p, len, &total);

    if (rc < 0)
        return rc;
    if (total != len
        || read_u32(u + len - CRC_LEN) != checksum(u, len - CRC_LEN))
        return ERR_BADMSG;
    r->p = u;
    r->len = len - CRC_LEN;
    r->off = HEADER_LEN;
    r->bad = 0;
    return 0;
}

int
msgcache_strings(const char *p, size_t len, struct msgcache_strings *out)
{
    struct reader r;
    unsigned has_date;
    int rc = reader_start(&r, p, len);

    if (rc < 0)
        return rc;
    (void)get_varint(&r); /* size */
    has_date = get_u8(&r);
    if (has_date > 1)
        r.bad = 1;
    if (has_date == 1)
        (void)get_varint(&r);
    out->envelope = get_span(&r, &out->envelope_len);
    out->bodystructure = get_span(&r, &out->bodystructure_len);
    out->body = get_span(&r, &out->body_len);
    return r.bad ? ERR_BADMSG : 0;
}

int
msgcache_decode(const char *p, size_t len, struct message **msg_r)
{
    struct reader r;
    struct message *m;
    uint64_t nfields, i;
    int rc = reader_start(&r, p, len);

    if (rc < 0)
        return rc;

    m = xzmalloc(sizeof(*m));
    m->size = get_varint(&r);
    m->has_date = (int)get_u8(&r);
    if (m->has_date > 1)
        r.bad = 1;
    if (m->has_date) {
        uint64_t z = get_varint(&r);

        m->date = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
    }
    m->envelope = get_str(&r);
    m->bodystructure = get_str(&r);
    m->body = get_str(&r);
    nfields = get_varint(&r);
    if (nfields != ENVELOPE_NFIELDS)
        r.bad = 1;
    for (i = 0; i < ENVELOPE_NFIELDS && !r.bad; i++)
        m->root.fields[i] = get_nstr(&r);
    if (!r.bad)
        get_part(&r, &m->root, m->size, 0);
    if (r.bad || r.off != r.len) {
        message_free(&m);
        return ERR_BADMSG;
    }
    *msg_r = m;
    return 0;
}
