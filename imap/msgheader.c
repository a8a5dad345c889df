/* msgheader.c: raw RFC 5322 header helpers (see msgheader.h). */
#include <string.h>

#include "errors.h"
#include "msgheader.h"
#include "util.h"

static int
is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Offset just past the line that starts at off (after its LF, or len). */
static size_t
line_end(const char *p, size_t len, size_t off)
{
    const char *nl = memchr(p + off, '\n', len - off);

    return nl ? (size_t)(nl - p) + 1 : len;
}

/* Is the line at off empty (just CRLF or LF)? */
static int
line_is_blank(const char *p, size_t len, size_t off)
{
    if (off < len && p[off] == '\n')
        return 1;
    return off + 1 < len && p[off] == '\r' && p[off + 1] == '\n';
}

size_t
msgheader_size(const char *msg, size_t len)
{
    size_t off = 0;

    while (off < len) {
        size_t next = line_end(msg, len, off);

        if (line_is_blank(msg, len, off))
            return next;
        off = next;
    }
    return len;
}

int
msgheader_next(const char *hdr, size_t len, size_t *off,
               struct msgheader_field *f)
{
    size_t start = *off, end, first_end, vend;
    const char *colon;

    if (start >= len || line_is_blank(hdr, len, start))
        return 0;
    first_end = end = line_end(hdr, len, start);
    /* RFC 5322 2.2.3: a line starting with a blank continues the field */
    while (end < len && is_blank(hdr[end]))
        end = line_end(hdr, len, end);

    f->start = hdr + start;
    f->len = end - start;
    vend = end;
    if (vend > start && hdr[vend - 1] == '\n') {
        vend--;
        if (vend > start && hdr[vend - 1] == '\r')
            vend--;
    }
    colon = memchr(hdr + start, ':', first_end - start);
    if (colon == NULL) {
        f->name = hdr + start;
        f->name_len = 0;
        f->value = hdr + start;
        f->value_len = vend - start;
    } else {
        size_t nlen = (size_t)(colon - (hdr + start));

        while (nlen > 0 && is_blank(hdr[start + nlen - 1]))
            nlen--;
        f->name = hdr + start;
        f->name_len = nlen;
        f->value = colon + 1;
        f->value_len = vend > (size_t)(colon + 1 - hdr)
                           ? vend - (size_t)(colon + 1 - hdr)
                           : 0;
    }
    *off = end;
    return 1;
}

void
msgheader_unfold(const char *v, size_t len, int trim, struct buf *out)
{
    size_t i = 0, mark = buf_len(out);
    int seen_text = 0;

    while (i < len) {
        char c = v[i];

        if (c == '\r' && i + 1 < len && v[i + 1] == '\n') {
            if (i + 2 >= len || is_blank(v[i + 2])) {
                i += 2;
                continue;
            }
        } else if (c == '\n') {
            if (i + 1 >= len || is_blank(v[i + 1])) {
                i++;
                continue;
            }
        }
        if (!seen_text && is_blank(c)) {
            i++;
            continue;
        }
        seen_text = 1;
        buf_putc(out, c);
        i++;
    }
    if (trim) {
        size_t n = buf_len(out);

        while (n > mark && is_blank(buf_base(out)[n - 1]))
            n--;
        buf_truncate(out, n);
    }
}

int
msgheader_get_first(const char *msg, size_t len, const char *name,
                    struct buf *value_r)
{
    size_t hlen = msgheader_size(msg, len), off = 0;
    struct msgheader_field f;

    buf_reset(value_r);
    while (msgheader_next(msg, hlen, &off, &f)) {
        if (f.name_len > 0 && util_memcaseeq(f.name, f.name_len, name)) {
            msgheader_unfold(f.value, f.value_len, 1, value_r);
            return 0;
        }
    }
    return ERR_NOTFOUND;
}

static int
name_listed(const struct msgheader_field *f, const struct strarray *fields)
{
    size_t i;
    const char *s;

    STRARRAY_FOREACH(fields, i, s) {
        if (util_memcaseeq(f->name, f->name_len, s))
            return 1;
    }
    return 0;
}

void
msgheader_filter(const char *hdr, size_t len, const struct strarray *fields,
                 int exclude, struct buf *out)
{
    size_t off = 0;
    struct msgheader_field f;

    while (msgheader_next(hdr, len, &off, &f)) {
        if (f.name_len == 0)
            continue;
        if (name_listed(&f, fields) == !exclude) {
            buf_appendmap(out, f.start, f.len);
            if (f.start[f.len - 1] != '\n')
                buf_appendmap(out, "\r\n", 2);
        }
    }
    buf_appendmap(out, "\r\n", 2);
}

/* Cyrus's header line check (message_copy_strict). */
static int
line_is_bad_field(const char *p, size_t n)
{
    size_t i;

    if (n == 0 || is_blank(p[0]))
        return 0;
    if (n >= 5 && memcmp(p, "From ", 5) == 0)
        return 0;
    for (i = 0; i < n && p[i] != ':'; i++) {
        unsigned char c = (unsigned char)p[i];

        if (c <= ' ' || c >= 0x7f)
            return 1;
    }
    return i == 0 || i == n;
}

unsigned
msgheader_check(const char *msg, size_t len)
{
    size_t hlen = msgheader_size(msg, len), i, off = 0;
    unsigned r = 0;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)msg[i];

        if (c == '\n' && (i == 0 || msg[i - 1] != '\r'))
            r |= MSGHEADER_BARE_LF;
        else if (c == 0)
            r |= i < hlen ? MSGHEADER_NUL : MSGHEADER_BODY_NUL;
        else if (c >= 0x80 && i < hlen)
            r |= MSGHEADER_8BIT;
    }
    while (off < hlen && !line_is_blank(msg, hlen, off)) {
        size_t next = line_end(msg, hlen, off), n = next - off;

        while (n > 0 && (msg[off + n - 1] == '\n' || msg[off + n - 1] == '\r'))
            n--;
        if (line_is_bad_field(msg + off, n))
            r |= MSGHEADER_BAD_FIELD;
        off = next;
    }
    return r;
}

size_t
msgheader_crlf(const char *msg, size_t len, struct buf *out)
{
    size_t i, from = 0, converted = 0;

    for (i = 0; i < len; i++) {
        if (msg[i] == '\n' && (i == 0 || msg[i - 1] != '\r')) {
            buf_appendmap(out, msg + from, i - from);
            buf_appendmap(out, "\r\n", 2);
            from = i + 1;
            converted++;
        }
    }
    buf_appendmap(out, msg + from, len - from);
    return converted;
}

/* Skip an RFC 5322 comment starting at v[i] == '('; returns the offset
 * after it (or len when it is not closed). */
static size_t
skip_comment(const char *v, size_t len, size_t i)
{
    int depth = 0;

    for (; i < len; i++) {
        if (v[i] == '\\')
            i++;
        else if (v[i] == '(')
            depth++;
        else if (v[i] == ')' && --depth == 0)
            return i + 1;
    }
    return len;
}

static size_t
skip_quoted(const char *v, size_t len, size_t i)
{
    for (i++; i < len; i++) {
        if (v[i] == '\\')
            i++;
        else if (v[i] == '"')
            return i + 1;
    }
    return len;
}

int
msgheader_parse_msgid(const char *v, size_t len, struct buf *id_r)
{
    size_t i = 0;

    buf_reset(id_r);
    while (i < len) {
        if (v[i] == '(') {
            i = skip_comment(v, len, i);
        } else if (v[i] == '"') {
            i = skip_quoted(v, len, i);
        } else if (v[i] == '<') {
            const char *gt = memchr(v + i, '>', len - i);
            size_t j;

            if (gt == NULL)
                break;
            buf_putc(id_r, '<');
            for (j = i + 1; v + j < gt; j++) {
                if (!is_blank(v[j]) && v[j] != '\r' && v[j] != '\n')
                    buf_putc(id_r, v[j]);
            }
            if (buf_len(id_r) > 1) {
                buf_putc(id_r, '>');
                return 0;
            }
            buf_reset(id_r);
            i = (size_t)(gt - v) + 1;
        } else {
            i++;
        }
    }
    buf_reset(id_r);
    return ERR_NOTFOUND;
}

int
msgheader_message_id(const char *msg, size_t len, struct buf *id_r)
{
    size_t hlen = msgheader_size(msg, len), off = 0;
    struct msgheader_field f;

    while (msgheader_next(msg, hlen, &off, &f)) {
        if (f.name_len > 0 && util_memcaseeq(f.name, f.name_len, "Message-ID"))
            return msgheader_parse_msgid(f.value, f.value_len, id_r);
    }
    buf_reset(id_r);
    return ERR_NOTFOUND;
}
