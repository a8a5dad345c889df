/* msgaddr.c: RFC 5322 address lists for the IMAP ENVELOPE (see msgaddr.h).
 *
 * A small tokenizer over the unfolded header value: a "phrase" runs up to
 * one of a set of special characters, and the special that stopped it
 * decides what the phrase was (a group name before ':', a local part
 * before '@', a display name before '<', ...). This mirrors the behaviour
 * of Cyrus's parser so that ENVELOPE answers match a Cyrus backend. */
#include <ctype.h>
#include <string.h>

#include "imapquote.h"
#include "msgaddr.h"
#include "xmalloc.h"

static const char unspecified_domain[] = "unspecified-domain";

struct addrparser {
    const char *s;
    size_t len, i;
    struct msgaddr **tail;
    struct buf phrase, mailbox, domain, route, comment;
};

static int
peek(const struct addrparser *p)
{
    return p->i < p->len ? (unsigned char)p->s[p->i] : 0;
}

static int
is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v'
           || c == '\f';
}

static int
is_alnum(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9');
}

/* Skip blanks and (nested) comments. */
static void
skip_cfws(struct addrparser *p)
{
    int c;

    while ((c = peek(p)) != 0) {
        if (c == '(') {
            int depth = 1;

            p->i++;
            while (depth > 0 && (c = peek(p)) != 0) {
                p->i++;
                if (c == '\\' && peek(p) != 0)
                    p->i++;
                else if (c == '(')
                    depth++;
                else if (c == ')')
                    depth--;
            }
        } else if (is_space(c)) {
            p->i++;
        } else {
            break;
        }
    }
}

static void
strip_trailing(struct buf *b, const char *chars)
{
    size_t n = buf_len(b);

    while (n > 0 && strchr(chars, buf_base(b)[n - 1]) != NULL)
        n--;
    buf_truncate(b, n);
}

/* A phrase up to (and consuming) one of specials; returns that special,
 * or 0 at the end of input or on an unbalanced quote (phrase emptied). */
static int
parse_phrase(struct addrparser *p, const char *specials, struct buf *out)
{
    int c;

    skip_cfws(p);
    buf_reset(out);
    for (;;) {
        c = peek(p);
        if (c == 0 || strchr(specials, c) != NULL) {
            strip_trailing(out, " ");
            if (c != 0)
                p->i++;
            return c;
        }
        p->i++;
        if (c == '"') {
            for (;;) {
                c = peek(p);
                if (c == 0)
                    goto fail;
                p->i++;
                if (c == '"')
                    break;
                if (c == '\\') {
                    c = peek(p);
                    if (c == 0)
                        goto fail;
                    p->i++;
                } else if (iscntrl(c)) {
                    if (c == '\r' || c == '\n')
                        c = ' ';
                    else if (c != '\t')
                        continue;
                }
                buf_putc(out, (char)c);
            }
        } else if (is_space(c) || c == '(') {
            p->i--;
            skip_cfws(p);
            buf_putc(out, ' ');
        } else {
            buf_putc(out, (char)c);
        }
    }
fail:
    buf_reset(out);
    p->i = p->len;
    return 0;
}

/* A domain; with want_comment, a trailing comment is kept in p->comment
 * (used as the display name of "user@host (Name)"). */
static int
parse_domain(struct addrparser *p, int want_comment, int *have_comment)
{
    int c;

    *have_comment = 0;
    skip_cfws(p);
    buf_reset(&p->domain);
    for (;;) {
        c = peek(p);
        if (c == 0)
            break;
        p->i++;
        if (is_alnum(c) || c == '-' || c == '[' || c == ']' || c == ':'
            || c > 127 || c == '@') {
            buf_putc(&p->domain, (char)c);
            *have_comment = 0;
        } else if (c == '.') {
            size_t n = buf_len(&p->domain);

            if (n > 0 && buf_base(&p->domain)[n - 1] != '.')
                buf_putc(&p->domain, '.');
            *have_comment = 0;
        } else if (c == '(' && want_comment) {
            int depth = 1;

            buf_reset(&p->comment);
            while (depth > 0 && (c = peek(p)) != 0) {
                p->i++;
                if (c == '(')
                    depth++;
                else if (c == ')')
                    depth--;
                else if (c == '\\' && (c = peek(p)) != 0)
                    p->i++;
                if (depth > 0)
                    buf_putc(&p->comment, (char)c);
            }
            *have_comment = 1;
        } else if (c == '(') {
            p->i--;
            skip_cfws(p);
        } else if (!is_space(c)) {
            break;
        }
    }
    strip_trailing(&p->domain, ".");
    return c;
}

/* An obsolete source route "@a,@b" up to the ':' before the mailbox. */
static int
parse_route(struct addrparser *p)
{
    int c;

    skip_cfws(p);
    buf_reset(&p->route);
    for (;;) {
        c = peek(p);
        if (c == 0)
            break;
        p->i++;
        if (is_alnum(c) || c == '-' || c == '[' || c == ']' || c == ','
            || c == '@') {
            buf_putc(&p->route, (char)c);
        } else if (c == '.') {
            size_t n = buf_len(&p->route);

            if (n > 0 && buf_base(&p->route)[n - 1] != '.')
                buf_putc(&p->route, '.');
        } else if (is_space(c) || c == '(') {
            p->i--;
            skip_cfws(p);
        } else {
            break;
        }
    }
    strip_trailing(&p->route, ".,@");
    return c;
}

static char *
dup_nonempty(const struct buf *b)
{
    return buf_len(b) ? xstrndup(buf_base(b), buf_len(b)) : NULL;
}

/* Append an entry; mailbox/domain NULL mean "absent", an empty domain
 * means "address without domain". */
static void
add(struct addrparser *p, const struct buf *name, const struct buf *route,
    const struct buf *mailbox, const struct buf *domain)
{
    struct msgaddr *a = xzmalloc(sizeof(*a));

    a->name = name ? dup_nonempty(name) : NULL;
    a->route = route ? dup_nonempty(route) : NULL;
    if (mailbox)
        a->mailbox = xstrndup(buf_base(mailbox), buf_len(mailbox));
    if (domain)
        a->domain = buf_len(domain)
                        ? xstrndup(buf_base(domain), buf_len(domain))
                        : xstrdup(unspecified_domain);
    *p->tail = a;
    p->tail = &a->next;
}

static void
add_group_end(struct addrparser *p)
{
    add(p, NULL, NULL, NULL, NULL);
}

/* After an angle address: skip to the closing '>'. */
static void
skip_to_angle_end(struct addrparser *p, int tok)
{
    while (tok != 0 && tok != '>') {
        tok = peek(p);
        if (tok != 0)
            p->i++;
    }
}

/* The part after '<': [route ":"] local "@" domain ">". */
static void
parse_angle(struct addrparser *p)
{
    static const struct buf empty = BUF_INITIALIZER;
    int tok, dummy;

    buf_reset(&p->route);
    tok = parse_phrase(p, "@>", &p->mailbox);
    if (tok != '@') {
        add(p, &p->phrase, NULL, &p->mailbox, &empty);
        return;
    }
    if (buf_len(&p->mailbox) == 0) {
        p->i--; /* give the '@' back to the route */
        tok = parse_route(p);
        if (tok != ':') {
            add(p, &p->phrase, &p->route, &empty, &empty);
            skip_to_angle_end(p, tok);
            return;
        }
        tok = parse_phrase(p, "@>", &p->mailbox);
        if (tok != '@') {
            add(p, &p->phrase, &p->route, &p->mailbox, &empty);
            return;
        }
    }
    tok = parse_domain(p, 0, &dummy);
    add(p, &p->phrase, &p->route, &p->mailbox, &p->domain);
    skip_to_angle_end(p, tok);
}

struct msgaddr *
msgaddr_parse(const char *s, size_t len)
{
    static const struct buf empty = BUF_INITIALIZER;
    struct msgaddr *list = NULL;
    struct addrparser p = {.s = s, .len = strnlen(s, len), .tail = &list};
    int tok = ' ', ingroup = 0, have_comment;

    while (tok != 0) {
        tok = parse_phrase(&p, ingroup ? ",@<;" : ",@<:", &p.phrase);
        switch (tok) {
        case ',':
        case '\0':
        case ';':
            if (buf_len(&p.phrase))
                add(&p, NULL, NULL, &p.phrase, &empty);
            if (tok == ';') {
                add_group_end(&p);
                ingroup = 0;
            }
            break;
        case ':':
            add(&p, NULL, NULL, &p.phrase, NULL);
            ingroup = 1;
            break;
        case '@':
            tok = parse_domain(&p, 1, &have_comment);
            add(&p, have_comment ? &p.comment : NULL, NULL, &p.phrase,
                &p.domain);
            if (tok == ';') {
                add_group_end(&p);
                ingroup = 0;
            }
            break;
        case '<':
            parse_angle(&p);
            tok = ' ';
            if (p.i >= p.len)
                tok = 0;
            break;
        }
    }
    if (ingroup)
        add_group_end(&p);
    buf_free(&p.phrase);
    buf_free(&p.mailbox);
    buf_free(&p.domain);
    buf_free(&p.route);
    buf_free(&p.comment);
    return list;
}

void
msgaddr_free(struct msgaddr **ap)
{
    struct msgaddr *a = *ap, *next;

    *ap = NULL;
    for (; a != NULL; a = next) {
        next = a->next;
        free(a->name);
        free(a->route);
        free(a->mailbox);
        free(a->domain);
        free(a);
    }
}

void
msgaddr_write_imap(struct buf *out, const struct msgaddr *list)
{
    if (list == NULL) {
        buf_appendmap(out, "NIL", 3);
        return;
    }
    buf_putc(out, '(');
    for (; list != NULL; list = list->next) {
        buf_putc(out, '(');
        imapquote_nstring(out, list->name);
        buf_putc(out, ' ');
        imapquote_nstring(out, list->route);
        buf_putc(out, ' ');
        imapquote_nstring(out, list->mailbox);
        buf_putc(out, ' ');
        imapquote_nstring(out, list->domain);
        buf_putc(out, ')');
    }
    buf_putc(out, ')');
}
