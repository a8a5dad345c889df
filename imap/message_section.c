/* message_section.c: BODY[section] resolution (see message_section.h). */
#include <string.h>

#include "errors.h"
#include "message_priv.h"
#include "message_section.h"
#include "msgheader.h"
#include "util.h"
#include "xmalloc.h"

#define MAX_PART_NUMBER 0x7fffffffUL
#define MAX_PART_DEPTH  (2 * MESSAGE_MAX_DEPTH + 2)

enum section_text {
    TEXT_NONE,
    TEXT_HEADER,
    TEXT_TEXT,
    TEXT_MIME,
    TEXT_FIELDS,
    TEXT_FIELDS_NOT
};

struct spec {
    unsigned long nums[MAX_PART_DEPTH];
    size_t nnums;
    enum section_text text;
};

static int
keyword(const char *p, size_t len, size_t *off, const char *word)
{
    size_t n = strlen(word);

    if (len - *off < n || util_strncasecmp(p + *off, word, n) != 0)
        return 0;
    *off += n;
    return 1;
}

/* " (name name ...)" after HEADER.FIELDS[.NOT] */
static int
parse_field_list(const char *p, size_t len, size_t off, struct strarray *out)
{
    if (off >= len || p[off] != ' ')
        return ERR_SYNTAX;
    off++;
    if (off >= len || p[off] != '(')
        return ERR_SYNTAX;
    off++;
    for (;;) {
        size_t start;

        if (off < len && p[off] == ')' && out->count > 0)
            break;
        if (out->count > 0) {
            if (off >= len || p[off] != ' ')
                return ERR_SYNTAX;
            off++;
        }
        if (off < len && p[off] == '"') {
            struct buf name = BUF_INITIALIZER;

            for (off++; off < len && p[off] != '"'; off++) {
                if (p[off] == '\\' && off + 1 < len)
                    off++;
                buf_putc(&name, p[off]);
            }
            if (off >= len) {
                buf_free(&name);
                return ERR_SYNTAX;
            }
            off++;
            strarray_append(out, buf_cstring(&name));
            buf_free(&name);
            continue;
        }
        start = off;
        while (off < len && p[off] != ' ' && p[off] != ')' && p[off] != '('
               && p[off] != '"' && (unsigned char)p[off] > ' ')
            off++;
        if (off == start)
            return ERR_SYNTAX;
        strarray_appendmap(out, p + start, off - start);
    }
    return off + 1 == len ? 0 : ERR_SYNTAX;
}

static int
parse_spec(const char *p, size_t len, struct spec *s, struct strarray *fields)
{
    size_t off = 0;

    s->nnums = 0;
    s->text = TEXT_NONE;
    while (off < len && p[off] >= '0' && p[off] <= '9') {
        unsigned long v = 0;

        if (p[off] == '0' || s->nnums == MAX_PART_DEPTH)
            return ERR_SYNTAX;
        while (off < len && p[off] >= '0' && p[off] <= '9') {
            v = v * 10 + (unsigned long)(p[off++] - '0');
            if (v > MAX_PART_NUMBER)
                return ERR_SYNTAX;
        }
        s->nums[s->nnums++] = v;
        if (off == len)
            return 0;
        if (p[off++] != '.')
            return ERR_SYNTAX;
        if (off == len)
            return ERR_SYNTAX;
    }
    if (off == len)
        return 0; /* "" */
    if (keyword(p, len, &off, "HEADER.FIELDS.NOT")) {
        s->text = TEXT_FIELDS_NOT;
        return parse_field_list(p, len, off, fields);
    }
    if (keyword(p, len, &off, "HEADER.FIELDS")) {
        s->text = TEXT_FIELDS;
        return parse_field_list(p, len, off, fields);
    }
    if (keyword(p, len, &off, "HEADER"))
        s->text = TEXT_HEADER;
    else if (keyword(p, len, &off, "TEXT"))
        s->text = TEXT_TEXT;
    else if (s->nnums > 0 && keyword(p, len, &off, "MIME"))
        s->text = TEXT_MIME;
    else
        return ERR_SYNTAX;
    return off == len ? 0 : ERR_SYNTAX;
}

/* The part named by the numbers, or NULL when there is none. */
static const struct message_part *
find_part(const struct message *m, const struct spec *s)
{
    const struct message_part *container = &m->root, *x = NULL;
    int is_message = 1;
    size_t k;

    for (k = 0; k < s->nnums; k++) {
        unsigned long n = s->nums[k];

        if (strcmp(container->type, "MULTIPART") == 0
            && container->nparts > 0) {
            if (n > container->nparts)
                return NULL;
            x = &container->parts[n - 1];
        } else if (is_message && n == 1) {
            /* RFC 3501 6.4.5: a non-multipart message has a part 1 */
            x = container;
        } else {
            return NULL;
        }
        if (k + 1 == s->nnums)
            break;
        if (message_part_is_rfc822(x) && x->nparts == 1) {
            container = &x->parts[0];
            is_message = 1;
        } else if (message_part_is_multipart(x)) {
            container = x;
            is_message = 0;
        } else {
            return NULL;
        }
    }
    return x;
}

int
message_section_find(const struct message *m, const char *spec, size_t len,
                     struct message_section *sec_r)
{
    struct spec s;
    const struct message_part *x = &m->root;
    int r;

    memset(sec_r, 0, sizeof(*sec_r));
    r = parse_spec(spec, len, &s, &sec_r->fields);
    if (r < 0) {
        strarray_fini(&sec_r->fields);
        return r;
    }
    if (s.nnums > 0) {
        x = find_part(m, &s);
        if (x == NULL)
            return 0;
    }
    switch (s.text) {
    case TEXT_NONE:
        if (s.nnums == 0) {
            sec_r->span.len = m->size;
        } else if (!(message_part_is_multipart(x) && x->nparts == 0)) {
            sec_r->span = message_part_content(x);
        }
        return 0;
    case TEXT_MIME:
        sec_r->span = message_part_header(x);
        return 0;
    default:
        break;
    }
    if (s.nnums > 0) {
        if (!message_part_is_rfc822(x) || x->nparts != 1)
            return 0;
        x = &x->parts[0];
    }
    if (s.text == TEXT_TEXT) {
        sec_r->span = message_part_content(x);
        return 0;
    }
    sec_r->span = message_part_header(x);
    if (s.text == TEXT_FIELDS)
        sec_r->kind = MESSAGE_SECTION_FIELDS;
    else if (s.text == TEXT_FIELDS_NOT)
        sec_r->kind = MESSAGE_SECTION_FIELDS_NOT;
    return 0;
}

void
message_section_fini(struct message_section *sec)
{
    strarray_fini(&sec->fields);
}

int
message_section_fetch(const struct message *m, const char *msg, size_t len,
                      const char *spec, size_t speclen, struct buf *out)
{
    struct message_section sec;
    int r = message_section_find(m, spec, speclen, &sec);

    if (r < 0)
        return r;
    if (sec.span.offset > len || sec.span.len > len - sec.span.offset) {
        message_section_fini(&sec);
        return ERR_BADMSG;
    }
    if (sec.kind == MESSAGE_SECTION_BYTES)
        buf_appendmap(out, msg + sec.span.offset, (size_t)sec.span.len);
    else
        msgheader_filter(msg + sec.span.offset, (size_t)sec.span.len,
                         &sec.fields, sec.kind == MESSAGE_SECTION_FIELDS_NOT,
                         out);
    message_section_fini(&sec);
    return 0;
}

struct message_span
message_section_partial(uint64_t len, uint64_t start, uint64_t count)
{
    struct message_span s;

    s.offset = start < len ? start : len;
    s.len = len - s.offset < count ? len - s.offset : count;
    return s;
}
