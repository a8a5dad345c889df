/* mimeheader.c: MIME header field values (see mimeheader.h). */
#include <stdio.h>
#include <string.h>

#include "errors.h"
#include "imapquote.h"
#include "mimeheader.h"
#include "xmalloc.h"

/* RFC 2045 5.1 tspecials */
#define TSPECIALS "()<>@,;:\\\"/[]?="

static int
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v'
           || c == '\f';
}

/* A byte that may not appear in a token: controls, 8-bit, tspecials. */
static int
bad_token_char(char c)
{
    unsigned char u = (unsigned char)c;

    return u < 0x20 || u >= 0x80 || strchr(TSPECIALS, c) != NULL;
}

/* Skip blanks and comments; NULL at the end of the value (or inside an
 * unclosed comment). */
static const char *
skip_space(const char *p)
{
    while (p != NULL && *p != '\0') {
        if (*p == '(') {
            int depth = 1;

            for (p++; depth > 0; p++) {
                if (*p == '\0')
                    return NULL;
                if (*p == '\\' && p[1] != '\0')
                    p++;
                else if (*p == '(')
                    depth++;
                else if (*p == ')')
                    depth--;
            }
        } else if (is_space(*p)) {
            p++;
        } else {
            return p;
        }
    }
    return NULL;
}

static char *
ucase_dup(const char *s, size_t n)
{
    char *r = xstrndup(s, n);
    char *q;

    for (q = r; *q; q++) {
        if (*q >= 'a' && *q <= 'z')
            *q = (char)(*q - 'a' + 'A');
    }
    return r;
}

/* A token ending at a blank, '(' or one of stops; -1 if a bad character
 * comes first, else its length (may be 0). */
static long
token_len(const char *p, const char *stops)
{
    const char *q;

    for (q = p; *q && !is_space(*q) && *q != '(' && !strchr(stops, *q); q++) {
        if (bad_token_char(*q))
            return -1;
    }
    return q - p;
}

static void
param_add(struct mimeparam ***tail, char *name, char *value)
{
    struct mimeparam *m = xzmalloc(sizeof(*m));

    m->name = name;
    m->value = value;
    **tail = m;
    *tail = &m->next;
}

/* Unquote a quoted-string starting at p ('"'); *end_r gets the position
 * after the closing quote. NULL when not closed. */
static char *
unquote(const char *p, const char **end_r)
{
    struct buf b = BUF_INITIALIZER;

    for (p++; *p != '"'; p++) {
        if (*p == '\\')
            p++;
        if (*p == '\0') {
            buf_free(&b);
            return NULL;
        }
        buf_putc(&b, *p);
    }
    *end_r = p + 1;
    buf_cstring(&b);
    return buf_release(&b);
}

/* "; attr=value" list. Malformed parameters are skipped up to the next
 * ';' as Cyrus does. */
static void
parse_params(const char *p, struct mimeparam **params_r)
{
    struct mimeparam **tail = params_r;

    while (*tail)
        tail = &(*tail)->next;
    for (;;) {
        const char *attr, *val;
        long alen, vlen;
        char *value;

        if ((p = skip_space(p)) == NULL)
            return;
        attr = p;
        if ((alen = token_len(p, "=")) <= 0)
            goto skip;
        p = skip_space(p + alen);
        if (p == NULL)
            return;
        if (*p != '=')
            goto skip;
        if ((p = skip_space(p + 1)) == NULL)
            return;
        val = p;
        if (*p == '"') {
            if ((value = unquote(p, &p)) == NULL)
                return;
        } else {
            if ((vlen = token_len(p, ";")) < 0)
                goto skip;
            value = xstrndup(val, (size_t)vlen);
            p += vlen;
        }
        p = skip_space(p);
        if (p != NULL && *p != ';') {
            free(value);
            goto skip;
        }
        param_add(&tail, ucase_dup(attr, (size_t)alen), value);
        if (p == NULL)
            return;
        p++;
        continue;
    skip:
        p += strcspn(p, ";");
        if (*p == ';')
            p++;
    }
}

/* RFC 2231 3: percent-encode a simple value so that it can be appended
 * to an extended one. */
static void
append_encoded(struct buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c <= ' ' || c >= 0x7f || c == '*' || c == '\'' || c == '%'
            || strchr(TSPECIALS, c) != NULL)
            buf_printf(b, "%%%02X", c);
        else
            buf_putc(b, (char)c);
    }
}

/* The parameter called base*n or base*n* in list, and whether the latter. */
static struct mimeparam **
find_section(struct mimeparam **list, const char *base, size_t blen, int n,
             int *ext_r)
{
    char suffix[8];
    size_t slen;

    slen = (size_t)snprintf(suffix, sizeof(suffix), "*%d", n);
    for (; *list; list = &(*list)->next) {
        const char *name = (*list)->name;

        if (strncmp(name, base, blen) != 0
            || strncmp(name + blen, suffix, slen) != 0)
            continue;
        if (name[blen + slen] == '\0') {
            *ext_r = 0;
            return list;
        }
        if (name[blen + slen] == '*' && name[blen + slen + 1] == '\0') {
            *ext_r = 1;
            return list;
        }
    }
    return NULL;
}

/* RFC 2231 3: join name*0, name*1, ... into one parameter. */
static void
fold_continuations(struct mimeparam **params)
{
    struct mimeparam *p;

    for (p = *params; p != NULL; p = p->next) {
        char *star = strchr(p->name, '*');
        size_t blen;
        int ext, n;
        struct buf value = BUF_INITIALIZER;

        if (star == NULL || star[1] != '0'
            || !(star[2] == '\0' || (star[2] == '*' && star[3] == '\0')))
            continue;
        ext = star[2] == '*';
        blen = (size_t)(star - p->name);
        buf_setcstr(&value, p->value);
        for (n = 1; n < 100; n++) {
            int cext;
            struct mimeparam **cp, *c;

            cp = find_section(params, p->name, blen, n, &cext);
            if (cp == NULL)
                break;
            c = *cp;
            if (cext && !ext) {
                /* the joined value becomes extended: charset and
                 * language unspecified */
                struct buf enc = BUF_INITIALIZER;

                buf_appendcstr(&enc, "''");
                append_encoded(&enc, buf_cstring(&value));
                buf_free(&value);
                value = enc;
                ext = 1;
            }
            if (ext && !cext)
                append_encoded(&value, c->value);
            else
                buf_appendcstr(&value, c->value);
            *cp = c->next;
            free(c->name);
            free(c->value);
            free(c);
        }
        star[0] = ext ? '*' : '\0';
        star[1] = '\0';
        free(p->value);
        buf_cstring(&value);
        p->value = buf_release(&value);
    }
}

/* "token [; params]" shared by Content-Type's subtype part and
 * Content-Disposition. */
static int
parse_token_params(const char *p, char **tok_r, struct mimeparam **params_r)
{
    long n = token_len(p, ";");
    const char *rest;
    struct mimeparam *params = NULL;

    if (n <= 0)
        return ERR_SYNTAX;
    rest = skip_space(p + n);
    if (rest != NULL && *rest != ';')
        return ERR_SYNTAX;
    if (rest != NULL) {
        parse_params(rest + 1, &params);
        fold_continuations(&params);
    }
    *tok_r = ucase_dup(p, (size_t)n);
    *params_r = params;
    return 0;
}

int
mimeheader_parse_type(const char *v, char **type_r, char **subtype_r,
                      struct mimeparam **params_r)
{
    const char *p = skip_space(v), *type;
    long tlen;
    int r;

    if (p == NULL)
        return ERR_SYNTAX;
    type = p;
    if ((tlen = token_len(p, "/")) <= 0)
        return ERR_SYNTAX;
    p = skip_space(p + tlen);
    if (p == NULL || *p != '/')
        return ERR_SYNTAX;
    if ((p = skip_space(p + 1)) == NULL)
        return ERR_SYNTAX;
    r = parse_token_params(p, subtype_r, params_r);
    if (r < 0)
        return r;
    *type_r = ucase_dup(type, (size_t)tlen);
    return 0;
}

int
mimeheader_parse_disposition(const char *v, char **disp_r,
                             struct mimeparam **params_r)
{
    const char *p = skip_space(v);

    if (p == NULL)
        return ERR_SYNTAX;
    return parse_token_params(p, disp_r, params_r);
}

struct mimeparam *
mimeheader_parse_language(const char *v)
{
    struct mimeparam *list = NULL, **tail = &list;
    const char *p = v;

    for (;;) {
        const char *q;

        if ((p = skip_space(p)) == NULL)
            break;
        for (q = p; *q && !is_space(*q) && *q != ',' && *q != '('; q++) {
            if (*q != '-'
                && !((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z')))
                return list;
        }
        if (q > p)
            param_add(&tail, NULL, ucase_dup(p, (size_t)(q - p)));
        p = skip_space(q);
        if (p == NULL || *p != ',')
            break;
        p++;
    }
    return list;
}

char *
mimeheader_parse_encoding(const char *v)
{
    const char *p = skip_space(v);
    long n;

    if (p == NULL || (n = token_len(p, "")) <= 0)
        return NULL;
    if (skip_space(p + n) != NULL)
        return NULL;
    return ucase_dup(p, (size_t)n);
}

const char *
mimeheader_param(const struct mimeparam *p, const char *name)
{
    for (; p != NULL; p = p->next) {
        if (p->name != NULL && strcmp(p->name, name) == 0)
            return p->value;
    }
    return NULL;
}

void
mimeheader_params_free(struct mimeparam **pp)
{
    struct mimeparam *p = *pp, *next;

    *pp = NULL;
    for (; p != NULL; p = next) {
        next = p->next;
        free(p->name);
        free(p->value);
        free(p);
    }
}

void
mimeheader_write_params(struct buf *out, const struct mimeparam *p,
                        int values_only)
{
    if (p == NULL) {
        buf_appendmap(out, "NIL", 3);
        return;
    }
    buf_putc(out, '(');
    for (; p != NULL; p = p->next) {
        if (!values_only) {
            imapquote_nstring(out, p->name);
            buf_putc(out, ' ');
        }
        imapquote_nstring(out, p->value);
        if (p->next != NULL)
            buf_putc(out, ' ');
    }
    buf_putc(out, ')');
}
