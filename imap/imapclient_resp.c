/* imapclient_resp.c: parsers for admin-relevant untagged responses. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "errors.h"
#include "imapclient_resp.h"
#include "imaptok.h"
#include "util.h"

/* Consume the response keyword and the space after it. */
static int
keyword(struct imaptok *t, const char *word)
{
    if (imaptok_keyword(t, word) < 0)
        return ERR_NOTFOUND;
    if (imaptok_sp(t) < 0)
        return ERR_PROTOCOL;
    return 0;
}

/* Trailing data after the last field: only an optional CRLF. */
static int
end_ok(struct imaptok *t)
{
    return imaptok_at_end(t) ? 0 : ERR_PROTOCOL;
}

int
imapclient_resp_list(const char *resp, size_t len, struct strarray *attrs_r,
                     char *sep_r, struct buf *name_r)
{
    struct imaptok t;
    struct buf sep = BUF_INITIALIZER;
    struct imaptok_span a;
    int nil = 0, r;

    imaptok_init(&t, resp, len);
    if (imaptok_keyword(&t, "LIST") < 0 && imaptok_keyword(&t, "LSUB") < 0)
        return ERR_NOTFOUND;
    strarray_truncate(attrs_r, 0);
    r = ERR_PROTOCOL;
    if (imaptok_sp(&t) < 0 || imaptok_lparen(&t) < 0)
        goto done;
    while (imaptok_peek(&t) != ')') {
        if (attrs_r->count && imaptok_sp(&t) < 0)
            goto done;
        /* attributes are "\" atom; "\*" never appears in LIST */
        if (imaptok_char(&t, '\\') == 0) {
            if (imaptok_atom(&t, &a) < 0)
                goto done;
            struct buf f = BUF_INITIALIZER;

            buf_putc(&f, '\\');
            buf_appendmap(&f, a.p, a.len);
            strarray_appendm(attrs_r, buf_release(&f));
        } else if (imaptok_atom(&t, &a) == 0) {
            strarray_appendmap(attrs_r, a.p, a.len);
        } else {
            goto done;
        }
    }
    if (imaptok_rparen(&t) < 0 || imaptok_sp(&t) < 0
        || imaptok_nstring(&t, &sep, &nil) < 0 || imaptok_sp(&t) < 0
        || imaptok_mailbox(&t, name_r) < 0)
        goto done;
    if (!nil && buf_len(&sep) != 1)
        goto done;
    *sep_r = nil ? '\0' : sep.s[0];
    r = 0;
done:
    buf_free(&sep);
    return r;
}

/* astring *(SP astring) until the end, appended to out. */
static int
astrings_to_end(struct imaptok *t, struct strarray *out)
{
    struct buf v = BUF_INITIALIZER;
    int r = 0;

    while (!imaptok_at_end(t)) {
        if (imaptok_sp(t) < 0 || imaptok_astring(t, &v) < 0) {
            r = ERR_PROTOCOL;
            break;
        }
        strarray_append(out, buf_cstring(&v));
    }
    buf_free(&v);
    return r;
}

/* "* KW mailbox astring..." (ACL, QUOTAROOT) */
static int
mailbox_astrings(const char *resp, size_t len, const char *kw,
                 struct buf *mailbox_r, struct strarray *out)
{
    struct imaptok t;
    int r;

    imaptok_init(&t, resp, len);
    r = keyword(&t, kw);
    if (r < 0)
        return r;
    strarray_truncate(out, 0);
    if (imaptok_mailbox(&t, mailbox_r) < 0)
        return ERR_PROTOCOL;
    return astrings_to_end(&t, out);
}

int
imapclient_resp_acl(const char *resp, size_t len, struct buf *mailbox_r,
                    struct strarray *pairs_r)
{
    int r = mailbox_astrings(resp, len, "ACL", mailbox_r, pairs_r);

    if (r == 0 && pairs_r->count % 2)
        r = ERR_PROTOCOL;
    return r;
}

int
imapclient_resp_quota(const char *resp, size_t len, struct buf *root_r,
                      struct strarray *triples_r)
{
    struct imaptok t;
    struct imaptok_span name;
    uint64_t used, limit;
    char num[32];
    int r;

    imaptok_init(&t, resp, len);
    r = keyword(&t, "QUOTA");
    if (r < 0)
        return r;
    strarray_truncate(triples_r, 0);
    if (imaptok_astring(&t, root_r) < 0 || imaptok_sp(&t) < 0
        || imaptok_lparen(&t) < 0)
        return ERR_PROTOCOL;
    while (imaptok_peek(&t) != ')') {
        if (triples_r->count && imaptok_sp(&t) < 0)
            return ERR_PROTOCOL;
        if (imaptok_atom(&t, &name) < 0 || imaptok_sp(&t) < 0
            || imaptok_number64(&t, &used) < 0 || imaptok_sp(&t) < 0
            || imaptok_number64(&t, &limit) < 0)
            return ERR_PROTOCOL;
        strarray_appendmap(triples_r, name.p, name.len);
        snprintf(num, sizeof(num), "%" PRIu64, used);
        strarray_append(triples_r, num);
        snprintf(num, sizeof(num), "%" PRIu64, limit);
        strarray_append(triples_r, num);
    }
    if (imaptok_rparen(&t) < 0)
        return ERR_PROTOCOL;
    return end_ok(&t);
}

int
imapclient_resp_quotaroot(const char *resp, size_t len, struct buf *mailbox_r,
                          struct strarray *roots_r)
{
    return mailbox_astrings(resp, len, "QUOTAROOT", mailbox_r, roots_r);
}

int
imapclient_resp_metadata(const char *resp, size_t len, struct buf *mailbox_r,
                         struct strarray *pairs_r)
{
    struct imaptok t;
    struct buf v = BUF_INITIALIZER;
    int nil, r;

    imaptok_init(&t, resp, len);
    r = keyword(&t, "METADATA");
    if (r < 0)
        return r;
    strarray_truncate(pairs_r, 0);
    r = ERR_PROTOCOL;
    if (imaptok_mailbox(&t, mailbox_r) < 0 || imaptok_sp(&t) < 0
        || imaptok_lparen(&t) < 0)
        goto done;
    while (imaptok_peek(&t) != ')') {
        if (pairs_r->count && imaptok_sp(&t) < 0)
            goto done;
        if (imaptok_astring(&t, &v) < 0 || imaptok_sp(&t) < 0)
            goto done;
        strarray_append(pairs_r, buf_cstring(&v));
        if (imaptok_nstring(&t, &v, &nil) < 0)
            goto done;
        strarray_append(pairs_r, buf_cstring(&v));
    }
    if (imaptok_rparen(&t) < 0)
        goto done;
    r = end_ok(&t);
done:
    buf_free(&v);
    return r;
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int
imapclient_resp_url(const char *url, struct buf *host_r, struct buf *port_r,
                    struct buf *mailbox_r)
{
    const char *p, *auth_end, *end, *colon;
    size_t hostlen;
    unsigned long port;

    if (util_strncasecmp(url, "imap://", 7) != 0)
        return ERR_SYNTAX;
    p = url + 7;
    end = p + strcspn(p, "/");
    /* userinfo: up to the last '@' before the path */
    auth_end = memrchr(p, '@', (size_t)(end - p));
    if (auth_end)
        p = auth_end + 1;
    buf_reset(host_r);
    buf_reset(port_r);
    buf_reset(mailbox_r);
    if (*p == '[') {
        const char *rb = memchr(p, ']', (size_t)(end - p));

        if (rb == NULL)
            return ERR_SYNTAX;
        buf_appendmap(host_r, p + 1, (size_t)(rb - p - 1));
        colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
        if (colon == NULL && rb + 1 != end)
            return ERR_SYNTAX;
    } else {
        colon = memchr(p, ':', (size_t)(end - p));
        hostlen = colon ? (size_t)(colon - p) : (size_t)(end - p);
        buf_appendmap(host_r, p, hostlen);
    }
    if (buf_len(host_r) == 0)
        return ERR_SYNTAX;
    if (colon) {
        buf_appendmap(port_r, colon + 1, (size_t)(end - colon - 1));
        if (util_parse_ulong(buf_cstring(port_r), 65535, &port) < 0
            || port == 0)
            return ERR_SYNTAX;
    }
    buf_cstring(host_r);
    buf_cstring(port_r);
    if (*end == '/') {
        for (p = end + 1; *p && *p != ';'; p++) {
            if (*p == '%') {
                int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);

                if (lo < 0)
                    return ERR_SYNTAX;
                buf_putc(mailbox_r, (char)(hi * 16 + lo));
                p += 2;
            } else {
                buf_putc(mailbox_r, *p);
            }
        }
    }
    buf_cstring(mailbox_r);
    return 0;
}

int
imapclient_resp_referral(const char *code, struct strarray *urls_r)
{
    struct strarray *words;
    size_t i;

    if (util_strncasecmp(code, "REFERRAL", 8) != 0
        || (code[8] != ' ' && code[8] != '\0'))
        return ERR_NOTFOUND;
    strarray_truncate(urls_r, 0);
    words = strarray_split(code + 8, " ");
    for (i = 0; i < words->count; i++)
        strarray_append(urls_r, strarray_nth(words, i));
    strarray_free(&words);
    return 0;
}
