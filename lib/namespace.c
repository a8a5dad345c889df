/* namespace.c: namespace options, the NAMESPACE response, LIST patterns. */
#include <string.h>

#include "errors.h"
#include "namespace.h"
#include "xmalloc.h"

struct namespace
{
    int alt;
    char sep;
    enum namespace_virtdomains virtdomains;
    char *defaultdomain; /* NULL: none; always lower case */
    char *userprefix;
    char *sharedprefix;
    char *deletedprefix;
};

void
namespace_options_init(struct namespace_options *o)
{
    memset(o, 0, sizeof(*o));
    o->altnamespace = 1;
    o->unixhierarchysep = 1;
    o->virtdomains = NAMESPACE_VIRTDOMAINS_OFF;
    o->defaultdomain = "internal";
    o->userprefix = "Other Users";
    o->sharedprefix = "Shared Folders";
    o->deletedprefix = "DELETED";
}

/* A prefix is one external component: printable ASCII without the
 * separator, wildcards or quoting specials. */
static int
prefix_valid(const char *p, char sep)
{
    if (p == NULL || *p == '\0')
        return 0;
    for (; *p; p++) {
        unsigned char c = (unsigned char)*p;

        if (c < 0x20 || c >= 0x7f || c == (unsigned char)sep || c == '%'
            || c == '*' || c == '"' || c == '\\' || c == '!' || c == '&')
            return 0;
    }
    return 1;
}

int
namespace_new(const struct namespace_options *o, struct namespace **ns_r,
              const char **error_r)
{
    struct namespace_options defaults;
    struct namespace *ns;
    const char *up, *sp, *dp, *dd;
    char sep = o->unixhierarchysep ? '/' : '.';

    namespace_options_init(&defaults);
    *ns_r = NULL;
    up = o->userprefix ? o->userprefix : defaults.userprefix;
    sp = o->sharedprefix ? o->sharedprefix : defaults.sharedprefix;
    dp = o->deletedprefix ? o->deletedprefix : defaults.deletedprefix;
    dd = o->defaultdomain;
    if (!prefix_valid(up, sep) || !prefix_valid(sp, sep)) {
        *error_r = "userprefix/sharedprefix must be one non-empty component";
        return ERR_INVALID;
    }
    if (strcmp(up, sp) == 0 || util_strcasecmp(up, "INBOX") == 0
        || util_strcasecmp(sp, "INBOX") == 0) {
        *error_r = "userprefix and sharedprefix must differ from each "
                   "other and from INBOX";
        return ERR_INVALID;
    }
    /* deleted names are internal: the prefix must be one internal
     * component in either separator mode */
    if (!prefix_valid(dp, '.') || strchr(dp, '/') || strchr(dp, '^')) {
        *error_r = "deletedprefix must be one non-empty component";
        return ERR_INVALID;
    }
    if (dd && *dd && !namespace_domain_valid(dd, strlen(dd))) {
        *error_r = "defaultdomain is not a domain name";
        return ERR_INVALID;
    }
    if (o->virtdomains != NAMESPACE_VIRTDOMAINS_OFF
        && o->virtdomains != NAMESPACE_VIRTDOMAINS_USERID
        && o->virtdomains != NAMESPACE_VIRTDOMAINS_ON) {
        *error_r = "virtdomains must be off, userid or on";
        return ERR_INVALID;
    }
    ns = xzmalloc(sizeof(*ns));
    ns->alt = o->altnamespace != 0;
    ns->sep = sep;
    ns->virtdomains = o->virtdomains;
    if (dd && *dd) {
        ns->defaultdomain = xstrdup(dd);
        util_lcase(ns->defaultdomain);
    }
    ns->userprefix = xstrdup(up);
    ns->sharedprefix = xstrdup(sp);
    ns->deletedprefix = xstrdup(dp);
    *ns_r = ns;
    return 0;
}

/* imapd.conf SWITCH: Cyrus decides on the first character ("on"/"off" on
 * the second). Returns 0/1, or -1 when the value is not a switch. */
static int
parse_switch(const char *v)
{
    switch (v[0]) {
    case '1':
    case 'y':
    case 'Y':
    case 't':
    case 'T':
        return 1;
    case '0':
    case 'n':
    case 'N':
    case 'f':
    case 'F':
        return 0;
    case 'o':
    case 'O':
        if (v[1] == 'n' || v[1] == 'N')
            return 1;
        if (v[1] == 'f' || v[1] == 'F')
            return 0;
        return -1;
    default:
        return -1;
    }
}

int
namespace_from_config(namespace_config_cb *get_cb, void *ctx,
                      struct namespace **ns_r, const char **error_r)
{
    struct namespace_options o;
    const char *v;
    int sw;

    namespace_options_init(&o);
    *ns_r = NULL;
    if ((v = get_cb("altnamespace", ctx)) != NULL) {
        if ((sw = parse_switch(v)) < 0) {
            *error_r = "altnamespace: not a switch value";
            return ERR_INVALID;
        }
        o.altnamespace = sw;
    }
    if ((v = get_cb("unixhierarchysep", ctx)) != NULL) {
        if ((sw = parse_switch(v)) < 0) {
            *error_r = "unixhierarchysep: not a switch value";
            return ERR_INVALID;
        }
        o.unixhierarchysep = sw;
    }
    if ((v = get_cb("virtdomains", ctx)) != NULL) {
        if (util_strcasecmp(v, "userid") == 0)
            o.virtdomains = NAMESPACE_VIRTDOMAINS_USERID;
        else if (util_strcasecmp(v, "on") == 0 || util_strcasecmp(v, "1") == 0
                 || util_strcasecmp(v, "yes") == 0
                 || util_strcasecmp(v, "t") == 0
                 || util_strcasecmp(v, "true") == 0)
            o.virtdomains = NAMESPACE_VIRTDOMAINS_ON;
        else if (util_strcasecmp(v, "off") == 0 || util_strcasecmp(v, "0") == 0
                 || util_strcasecmp(v, "no") == 0
                 || util_strcasecmp(v, "f") == 0
                 || util_strcasecmp(v, "false") == 0)
            o.virtdomains = NAMESPACE_VIRTDOMAINS_OFF;
        else {
            *error_r = "virtdomains: must be off, userid or on";
            return ERR_INVALID;
        }
    }
    if ((v = get_cb("defaultdomain", ctx)) != NULL)
        o.defaultdomain = v;
    if ((v = get_cb("userprefix", ctx)) != NULL)
        o.userprefix = v;
    if ((v = get_cb("sharedprefix", ctx)) != NULL)
        o.sharedprefix = v;
    if ((v = get_cb("deletedprefix", ctx)) != NULL)
        o.deletedprefix = v;
    return namespace_new(&o, ns_r, error_r);
}

void
namespace_free(struct namespace **nsp)
{
    struct namespace *ns = *nsp;

    if (ns == NULL)
        return;
    *nsp = NULL;
    free(ns->defaultdomain);
    free(ns->userprefix);
    free(ns->sharedprefix);
    free(ns->deletedprefix);
    free(ns);
}

char
namespace_separator(const struct namespace *ns)
{
    return ns->sep;
}

int
namespace_altnamespace(const struct namespace *ns)
{
    return ns->alt;
}

enum namespace_virtdomains
namespace_virtdomains(const struct namespace *ns)
{
    return ns->virtdomains;
}

const char *
namespace_defaultdomain(const struct namespace *ns)
{
    return ns->defaultdomain;
}

const char *
namespace_userprefix(const struct namespace *ns)
{
    return ns->userprefix;
}

const char *
namespace_sharedprefix(const struct namespace *ns)
{
    return ns->sharedprefix;
}

const char *
namespace_deletedprefix(const struct namespace *ns)
{
    return ns->deletedprefix;
}

int
namespace_domain_valid(const char *p, size_t len)
{
    size_t i;

    /* RFC 1035 host names, loosely: labels of letters, digits and '-'
     * separated by single dots */
    if (len == 0 || len > 255 || p[0] == '.' || p[len - 1] == '.')
        return 0;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];

        if (c == '.') {
            if (p[i + 1] == '.')
                return 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

/* One NAMESPACE group: (("prefix" "sep")) with the prefix as a quoted
 * string (RFC 3501 quoted specials escaped). */
static void
append_group(struct buf *out, const char *prefix, int add_sep, char sep)
{
    const char *p;

    buf_appendcstr(out, "((\"");
    for (p = prefix; *p; p++) {
        if (*p == '"' || *p == '\\')
            buf_putc(out, '\\');
        buf_putc(out, *p);
    }
    if (add_sep)
        buf_putc(out, sep);
    buf_printf(out, "\" \"%c\"))", sep);
}

void
namespace_response(const struct namespace *ns, int isadmin, unsigned accessible,
                   struct buf *out)
{
    int alt = ns->alt && !isadmin;

    if (!(accessible & NAMESPACE_PERSONAL))
        buf_appendcstr(out, "NIL");
    else if (alt)
        append_group(out, "", 0, ns->sep);
    else
        append_group(out, "INBOX", 1, ns->sep);
    buf_putc(out, ' ');
    if (!(accessible & NAMESPACE_OTHER))
        buf_appendcstr(out, "NIL");
    else
        append_group(out, alt ? ns->userprefix : "user", 1, ns->sep);
    buf_putc(out, ' ');
    if (!(accessible & NAMESPACE_SHARED))
        buf_appendcstr(out, "NIL");
    else if (alt)
        append_group(out, ns->sharedprefix, 1, ns->sep);
    else
        append_group(out, "", 0, ns->sep);
}

/* ---- LIST patterns ----------------------------------------------------
 *
 * The pattern is a small NFA: token i is a literal byte, `*` or `%`, and
 * state i means "tokens before i are consumed". Matching keeps the set of
 * live states, so the cost is O(len(name) * len(pattern)) with no
 * backtracking blow-up on patterns like `*a*a*a*a*b`. */

#define PAT_STAR 0x100
#define PAT_PCT  0x200
#define PAT_CI   0x400 /* literal compared ASCII case-insensitively */
#define PAT_MAX  4096

struct namespace_pattern {
    char sep;
    size_t ntok;
    unsigned short *tok;
    unsigned char *cur, *next; /* ntok + 1 state flags each */
};

static unsigned char
ascii_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

int
namespace_pattern_new(const struct namespace *ns, const char *reference,
                      const char *pattern, struct namespace_pattern **p_r)
{
    struct namespace_pattern *p;
    struct buf full = BUF_INITIALIZER;
    const char *s;
    size_t i, len, inbox_end = 0;

    *p_r = NULL;
    buf_appendcstr(&full, reference ? reference : "");
    if (full.len && full.s[full.len - 1] == ns->sep && pattern[0] == ns->sep)
        pattern++;
    buf_appendcstr(&full, pattern);
    if (full.len > PAT_MAX) {
        buf_free(&full);
        return ERR_TOOLONG;
    }
    s = buf_cstring(&full);
    len = full.len;
    /* RFC 3501 5.1: INBOX is case-insensitive, so is a leading INBOX
     * component of a pattern */
    if (len >= 5 && util_strncasecmp(s, "INBOX", 5) == 0
        && (len == 5 || s[5] == ns->sep))
        inbox_end = 5;

    p = xzmalloc(sizeof(*p));
    p->sep = ns->sep;
    p->tok = xcalloc(len + 1, sizeof(*p->tok));
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '*') {
            /* runs of `*` (and `%` next to `*`) add nothing */
            if (p->ntok && (p->tok[p->ntok - 1] & (PAT_STAR | PAT_PCT))) {
                p->tok[p->ntok - 1] = PAT_STAR;
                continue;
            }
            p->tok[p->ntok++] = PAT_STAR;
        } else if (c == '%') {
            if (p->ntok && (p->tok[p->ntok - 1] & (PAT_STAR | PAT_PCT)))
                continue;
            p->tok[p->ntok++] = PAT_PCT;
        } else if (i < inbox_end) {
            p->tok[p->ntok++] = PAT_CI | ascii_lower(c);
        } else {
            p->tok[p->ntok++] = c;
        }
    }
    p->cur = xzmalloc(p->ntok + 1);
    p->next = xzmalloc(p->ntok + 1);
    buf_free(&full);
    *p_r = p;
    return 0;
}

/* Wildcards may match nothing: a live state before one makes the state
 * after it live too. Ascending order lets chains propagate in one pass. */
static void
pattern_closure(const struct namespace_pattern *p, unsigned char *set)
{
    size_t i;

    for (i = 0; i < p->ntok; i++) {
        if (set[i] && (p->tok[i] & (PAT_STAR | PAT_PCT)))
            set[i + 1] = 1;
    }
}

/* Feed one byte; returns 0 when no state is left alive. */
static int
pattern_step(struct namespace_pattern *p, unsigned char c)
{
    unsigned char *tmp;
    size_t i;
    int alive = 0;

    memset(p->next, 0, p->ntok + 1);
    for (i = 0; i < p->ntok; i++) {
        unsigned short t = p->tok[i];

        if (!p->cur[i])
            continue;
        if (t & PAT_STAR) {
            p->next[i] = 1;
        } else if (t & PAT_PCT) {
            if (c != (unsigned char)p->sep)
                p->next[i] = 1;
        } else if (t & PAT_CI) {
            if (ascii_lower(c) == (t & 0xff))
                p->next[i + 1] = 1;
        } else if (c == t) {
            p->next[i + 1] = 1;
        }
    }
    pattern_closure(p, p->next);
    for (i = 0; i <= p->ntok; i++)
        alive |= p->next[i];
    tmp = p->cur;
    p->cur = p->next;
    p->next = tmp;
    return alive;
}

/* Run the NFA over name; returns 0 if it died, else 1 (p->cur holds the
 * final states). */
static int
pattern_run(struct namespace_pattern *p, const char *name)
{
    const unsigned char *s = (const unsigned char *)name;

    memset(p->cur, 0, p->ntok + 1);
    p->cur[0] = 1;
    pattern_closure(p, p->cur);
    for (; *s; s++) {
        if (!pattern_step(p, *s))
            return 0;
    }
    return 1;
}

int
namespace_pattern_match(struct namespace_pattern *p, const char *extname)
{
    if (p->ntok == 0)
        return 0;
    return pattern_run(p, extname) && p->cur[p->ntok];
}

int
namespace_pattern_match_children(struct namespace_pattern *p,
                                 const char *extname)
{
    if (p->ntok == 0)
        return 0;
    size_t i;

    /* a state before the end that is alive after "name<sep>" can reach
     * the end by consuming at least one more byte, so some child name
     * could match; the end state alone only matches "name<sep>" itself */
    if (!pattern_run(p, extname) || !pattern_step(p, (unsigned char)p->sep))
        return 0;
    for (i = 0; i < p->ntok; i++) {
        if (p->cur[i])
            return 1;
    }
    return 0;
}

void
namespace_pattern_free(struct namespace_pattern **pp)
{
    struct namespace_pattern *p = *pp;

    if (p == NULL)
        return;
    *pp = NULL;
    free(p->tok);
    free(p->cur);
    free(p->next);
    free(p);
}
