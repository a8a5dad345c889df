/* mboxname.c: internal <-> external mailbox names, name predicates,
 * delayed-delete names, the creation policy and spool paths. */
#include <string.h>

#include "charset.h"
#include "errors.h"
#include "mboxname.h"
#include "strarray.h"
#include "xmalloc.h"

/* ---- parsed forms ---------------------------------------------------- */

/* An internal name cut into its parts; pointers into the name. */
struct iname {
    const char *dom; /* NULL: no domain */
    size_t domlen;
    const char *body; /* after "domain!" */
    const char *lp;   /* personal: the localpart (encoded); else NULL */
    size_t lplen;
    const char *rest; /* personal: "" or ".box..."; shared: the body */
};

/* Split intname; 0 if it is well formed (non-empty components, at most
 * one '!', a localpart after "user"), else -1. */
static int
iname_parse(const char *intname, struct iname *n)
{
    const char *bang = strchr(intname, '!');
    const char *p;

    memset(n, 0, sizeof(*n));
    n->body = intname;
    if (bang) {
        if (bang == intname || strchr(bang + 1, '!'))
            return -1;
        n->dom = intname;
        n->domlen = (size_t)(bang - intname);
        n->body = bang + 1;
    }
    p = n->body;
    if (*p == '\0' || *p == '.' || p[strlen(p) - 1] == '.'
        || strstr(p, "..") != NULL)
        return -1;
    if (strncmp(p, "user", 4) == 0 && (p[4] == '.' || p[4] == '\0')) {
        if (p[4] == '\0')
            return -1; /* "user" alone is no mailbox */
        n->lp = p + 5;
        n->lplen = strcspn(n->lp, ".");
        n->rest = n->lp + n->lplen;
    } else {
        n->rest = p;
    }
    return 0;
}

/* The session as the name functions need it. */
struct who {
    char *local; /* encoded localpart ('.' as '^'); NULL: unauthenticated */
    char *dom;   /* lower-case domain; NULL: none or the default domain */
    int adminview;
};

static void
who_fini(struct who *w)
{
    free(w->local);
    free(w->dom);
}

/* Parse userid into an encoded localpart and domain. 0 or -1 if the
 * userid cannot own mailboxes. */
static int
userid_split(const struct namespace *ns, const char *userid, char **local_r,
             char **dom_r)
{
    const char *at = NULL, *p;
    char *q;
    size_t lplen;

    *local_r = *dom_r = NULL;
    for (p = userid; *p; p++) {
        unsigned char c = (unsigned char)*p;

        if (c < 0x20 || c >= 0x7f || c == '!' || c == '^' || c == '/'
            || c == '%' || c == '*')
            return -1;
    }
    if (namespace_virtdomains(ns) != NAMESPACE_VIRTDOMAINS_OFF)
        at = strrchr(userid, '@');
    lplen = at ? (size_t)(at - userid) : strlen(userid);
    if (lplen == 0 || (at && memchr(userid, '@', lplen) != NULL))
        return -1;
    if (at) {
        const char *dd = namespace_defaultdomain(ns);
        char *dom;

        if (!namespace_domain_valid(at + 1, strlen(at + 1)))
            return -1;
        dom = xstrdup(at + 1);
        util_lcase(dom);
        if (dd && strcmp(dom, dd) == 0)
            free(dom);
        else
            *dom_r = dom;
    }
    *local_r = xstrndup(userid, lplen);
    for (q = *local_r; *q; q++) {
        if (*q == '.')
            *q = '^';
    }
    return 0;
}

static int
who_init(const struct namespace *ns, const char *userid, int isadmin,
         struct who *w)
{
    memset(w, 0, sizeof(*w));
    w->adminview = isadmin || userid == NULL || *userid == '\0';
    if (userid == NULL || *userid == '\0')
        return 0;
    return userid_split(ns, userid, &w->local, &w->dom);
}

static int
is_inbox_word(const char *p, size_t len)
{
    return len == 5 && util_strncasecmp(p, "INBOX", 5) == 0;
}

static int
word_eq(const char *p, size_t len, const char *word)
{
    return strlen(word) == len && memcmp(p, word, len) == 0;
}

/* ---- external -> internal -------------------------------------------- */

/* Append one external component in internal form: a '.' in it (only
 * possible with the '/' separator) is stored as '^'. */
static void
append_int_component(struct buf *out, const char *p, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        buf_putc(out, p[i] == '.' ? '^' : p[i]);
}

int
mboxname_to_internal(const struct namespace *ns, const char *userid,
                     int isadmin, const char *extname, char **intname_r)
{
    struct who w;
    struct strarray comps = STRARRAY_INITIALIZER;
    struct buf out = BUF_INITIALIZER;
    const char *name = extname, *lp = NULL, *dom = NULL;
    char sep = namespace_separator(ns);
    char *extdom = NULL;
    size_t len = strlen(extname), i, first = 0, start;
    int r = ERR_BADNAME, own = 0;

    *intname_r = NULL;
    if (who_init(ns, userid, isadmin, &w) < 0) {
        who_fini(&w);
        return ERR_INVALID;
    }
    if (len == 0 || strchr(extname, '!') != NULL)
        goto done;
    dom = w.dom;
    if (w.adminview && namespace_virtdomains(ns) != NAMESPACE_VIRTDOMAINS_OFF) {
        /* admins name other domains with a trailing "@domain" */
        const char *at = strrchr(extname, '@');

        if (at) {
            const char *dd = namespace_defaultdomain(ns);

            if (!namespace_domain_valid(at + 1, strlen(at + 1)))
                goto done;
            extdom = xstrdup(at + 1);
            util_lcase(extdom);
            dom = (dd && strcmp(extdom, dd) == 0) ? NULL : extdom;
            len = (size_t)(at - extname);
        }
    }
    /* split into components; none may be empty */
    for (i = 0, start = 0; i <= len; i++) {
        if (i == len || name[i] == sep) {
            if (i == start)
                goto done;
            strarray_appendmap(&comps, name + start, i - start);
            start = i + 1;
        }
    }
    if (namespace_altnamespace(ns) && !w.adminview) {
        const char *c0 = comps.data[0];

        if (strcmp(c0, namespace_userprefix(ns)) == 0) {
            if (comps.count < 2)
                goto done;
            lp = comps.data[1];
            first = 2;
        } else if (strcmp(c0, namespace_sharedprefix(ns)) == 0) {
            if (comps.count < 2)
                goto done;
            first = 1;
        } else {
            own = 1;
            first = is_inbox_word(c0, strlen(c0)) ? 1 : 0;
        }
    } else {
        const char *c0 = comps.data[0];

        if (is_inbox_word(c0, strlen(c0))) {
            if (w.local == NULL)
                goto done;
            own = 1;
            first = 1;
        } else if (strcmp(c0, "user") == 0) {
            if (comps.count < 2)
                goto done;
            lp = comps.data[1];
            first = 2;
        }
    }
    if (lp && namespace_virtdomains(ns) != NAMESPACE_VIRTDOMAINS_OFF
        && strchr(lp, '@'))
        goto done;
    if (dom) {
        buf_appendcstr(&out, dom);
        buf_putc(&out, '!');
    }
    if (own) {
        buf_appendcstr(&out, "user.");
        buf_appendcstr(&out, w.local);
    } else if (lp) {
        buf_appendcstr(&out, "user.");
        append_int_component(&out, lp, strlen(lp));
    }
    for (i = first; i < comps.count; i++) {
        if (own || lp || i > first)
            buf_putc(&out, '.');
        append_int_component(&out, comps.data[i], strlen(comps.data[i]));
    }
    *intname_r = buf_release(&out);
    r = 0;
done:
    buf_free(&out);
    strarray_fini(&comps);
    free(extdom);
    who_fini(&w);
    return r;
}

/* ---- internal -> external -------------------------------------------- */

/* Append one internal component (p[0..len), no '.') in external form;
 * -1 if it cannot be written with this separator. */
static int
append_ext_component(struct buf *out, const char *p, size_t len, char sep)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (sep == '/') {
            if (p[i] == '/')
                return -1;
            buf_putc(out, p[i] == '^' ? '.' : p[i]);
        } else {
            buf_putc(out, p[i]);
        }
    }
    return 0;
}

/* Append ".a.b" (internal, leading dot optional) as "<sep>a<sep>b";
 * lead: whether to write a separator before the first component. */
static int
append_ext_path(struct buf *out, const char *p, int lead, char sep)
{
    if (*p == '.')
        p++;
    while (*p) {
        size_t n = strcspn(p, ".");

        if (lead)
            buf_putc(out, sep);
        lead = 1;
        if (append_ext_component(out, p, n, sep) < 0)
            return -1;
        p += n;
        if (*p == '.')
            p++;
    }
    return 0;
}

/* The first component of ".a.b" or "a.b" and its length. */
static const char *
first_component(const char *p, size_t *len_r)
{
    if (*p == '.')
        p++;
    *len_r = strcspn(p, ".");
    return p;
}

static int
to_external_admin(const struct namespace *ns, const struct who *w,
                  const struct iname *n, const char *dom, struct buf *out)
{
    char sep = namespace_separator(ns);
    const char *suffix = NULL;
    size_t clen;
    const char *c0;

    if (util_strcmpsafe(dom, w->dom) != 0) {
        /* not the admin's own domain: say which one */
        suffix = dom ? dom : namespace_defaultdomain(ns);
        if (suffix == NULL)
            return -1;
    }
    if (n->lp) {
        buf_appendcstr(out, "user");
        buf_putc(out, sep);
        if (append_ext_component(out, n->lp, n->lplen, sep) < 0
            || append_ext_path(out, n->rest, 1, sep) < 0)
            return -1;
    } else {
        c0 = first_component(n->rest, &clen);
        if (is_inbox_word(c0, clen))
            return -1; /* INBOX means the session's own INBOX */
        if (append_ext_path(out, n->rest, 0, sep) < 0)
            return -1;
    }
    if (namespace_virtdomains(ns) != NAMESPACE_VIRTDOMAINS_OFF) {
        /* the last '@' starts the domain: a name with '@' needs one */
        if (!suffix && memchr(out->s, '@', out->len)) {
            suffix = dom ? dom : namespace_defaultdomain(ns);
            if (!suffix)
                return -1;
        }
        if (suffix) {
            buf_putc(out, '@');
            buf_appendcstr(out, suffix);
        }
    }
    return 0;
}

static int
to_external_user(const struct namespace *ns, const struct who *w,
                 const struct iname *n, const char *dom, struct buf *out)
{
    char sep = namespace_separator(ns);
    int alt = namespace_altnamespace(ns);
    const char *c0;
    size_t clen;

    if (util_strcmpsafe(dom, w->dom) != 0)
        return -1; /* no cross-domain access */
    if (n->lp && word_eq(n->lp, n->lplen, w->local)) {
        if (!alt) {
            buf_appendcstr(out, "INBOX");
            return append_ext_path(out, n->rest, 1, sep);
        }
        if (*n->rest == '\0') {
            buf_appendcstr(out, "INBOX");
            return 0;
        }
        /* alt: these first components would be read back as INBOX or
         * as a namespace prefix */
        c0 = first_component(n->rest, &clen);
        if (is_inbox_word(c0, clen)
            || word_eq(c0, clen, namespace_userprefix(ns))
            || word_eq(c0, clen, namespace_sharedprefix(ns)))
            return -1;
        return append_ext_path(out, n->rest, 0, sep);
    }
    if (n->lp) {
        buf_appendcstr(out, alt ? namespace_userprefix(ns) : "user");
        buf_putc(out, sep);
        if (append_ext_component(out, n->lp, n->lplen, sep) < 0)
            return -1;
        return append_ext_path(out, n->rest, 1, sep);
    }
    if (alt) {
        buf_appendcstr(out, namespace_sharedprefix(ns));
        return append_ext_path(out, n->rest, 1, sep);
    }
    c0 = first_component(n->rest, &clen);
    if (is_inbox_word(c0, clen))
        return -1;
    return append_ext_path(out, n->rest, 0, sep);
}

char *
mboxname_to_external(const struct namespace *ns, const char *userid,
                     int isadmin, const char *intname)
{
    struct who w;
    struct iname n;
    struct buf out = BUF_INITIALIZER;
    char *dom = NULL;
    int r = -1;

    if (who_init(ns, userid, isadmin, &w) < 0 || iname_parse(intname, &n) < 0)
        goto done;
    if (n.dom) {
        const char *dd = namespace_defaultdomain(ns);

        /* canonical internal names never carry the default domain */
        if (namespace_virtdomains(ns) == NAMESPACE_VIRTDOMAINS_OFF
            || !namespace_domain_valid(n.dom, n.domlen))
            goto done;
        dom = xstrndup(n.dom, n.domlen);
        util_lcase(dom);
        /* upper case is not what we would have written either */
        if ((dd && strcmp(dom, dd) == 0) || memcmp(dom, n.dom, n.domlen) != 0)
            goto done;
    }
    if (n.lp && namespace_virtdomains(ns) != NAMESPACE_VIRTDOMAINS_OFF
        && memchr(n.lp, '@', n.lplen))
        goto done;
    if (w.adminview)
        r = to_external_admin(ns, &w, &n, dom, &out);
    else
        r = to_external_user(ns, &w, &n, dom, &out);
done:
    free(dom);
    who_fini(&w);
    if (r < 0) {
        buf_free(&out);
        return NULL;
    }
    return buf_release(&out);
}

/* ---- predicates ------------------------------------------------------ */

char *
mboxname_user_inbox(const struct namespace *ns, const char *userid)
{
    char *local, *dom;
    struct buf out = BUF_INITIALIZER;

    if (userid == NULL || userid_split(ns, userid, &local, &dom) < 0)
        return NULL;
    if (dom)
        buf_printf(&out, "%s!", dom);
    buf_printf(&out, "user.%s", local);
    free(local);
    free(dom);
    return buf_release(&out);
}

char *
mboxname_to_userid(const char *intname)
{
    struct iname n;
    struct buf out = BUF_INITIALIZER;

    if (iname_parse(intname, &n) < 0 || n.lp == NULL)
        return NULL;
    buf_appendmap(&out, n.lp, n.lplen);
    buf_replace_char(&out, '^', '.');
    if (n.dom) {
        buf_putc(&out, '@');
        buf_appendmap(&out, n.dom, n.domlen);
    }
    return buf_release(&out);
}

char *
mboxname_domain(const char *intname)
{
    const char *bang = strchr(intname, '!');

    return bang ? xstrndup(intname, (size_t)(bang - intname)) : NULL;
}

int
mboxname_is_user(const char *intname)
{
    struct iname n;

    return iname_parse(intname, &n) == 0 && n.lp != NULL;
}

int
mboxname_is_inbox(const char *intname)
{
    struct iname n;

    return iname_parse(intname, &n) == 0 && n.lp != NULL && *n.rest == '\0';
}

int
mboxname_is_owner(const struct namespace *ns, const char *intname,
                  const char *userid)
{
    char *inbox = mboxname_user_inbox(ns, userid);
    int r;

    if (inbox == NULL)
        return 0;
    r = strcmp(intname, inbox) == 0 || mboxname_is_child_of(intname, inbox);
    free(inbox);
    return r;
}

char *
mboxname_parent(const char *intname)
{
    struct iname n;
    const char *dot;

    if (iname_parse(intname, &n) < 0 || (n.lp && *n.rest == '\0'))
        return NULL;
    dot = strrchr(n.body, '.');
    if (dot == NULL)
        return NULL;
    return xstrndup(intname, (size_t)(dot - intname));
}

int
mboxname_is_child_of(const char *name, const char *parent)
{
    size_t pl = strlen(parent);

    return pl > 0 && strncmp(name, parent, pl) == 0 && name[pl] == '.'
           && name[pl + 1] != '\0';
}

int
mboxname_depth(const char *intname)
{
    const char *bang = strchr(intname, '!');
    const char *p = bang ? bang + 1 : intname;
    int depth;

    if (*p == '\0')
        return 0;
    for (depth = 1; *p; p++) {
        if (*p == '.')
            depth++;
    }
    return depth;
}

/* ---- delayed delete -------------------------------------------------- */

char *
mboxname_to_deleted(const struct namespace *ns, const char *intname,
                    time_t when)
{
    const char *bang = strchr(intname, '!');
    struct buf out = BUF_INITIALIZER;

    if (bang) {
        buf_appendmap(&out, intname, (size_t)(bang + 1 - intname));
        intname = bang + 1;
    }
    buf_printf(&out, "%s.%s.%08lX", namespace_deletedprefix(ns), intname,
               (unsigned long)when);
    return buf_release(&out);
}

int
mboxname_is_deleted(const struct namespace *ns, const char *intname,
                    char **orig_r, time_t *when_r)
{
    const char *bang = strchr(intname, '!');
    const char *body = bang ? bang + 1 : intname;
    const char *dp = namespace_deletedprefix(ns);
    size_t dplen = strlen(dp), hexlen, i;
    const char *dot, *hex;
    unsigned long long t = 0;
    struct buf out = BUF_INITIALIZER;

    if (strncmp(body, dp, dplen) != 0 || body[dplen] != '.')
        return 0;
    dot = strrchr(body, '.');
    if (dot <= body + dplen + 1)
        return 0; /* no original name between prefix and time */
    hex = dot + 1;
    hexlen = strlen(hex);
    if (hexlen < 8 || hexlen > 16)
        return 0;
    for (i = 0; i < hexlen; i++) {
        char c = hex[i];
        unsigned v;

        if (c >= '0' && c <= '9')
            v = (unsigned)(c - '0');
        else if (c >= 'A' && c <= 'F')
            v = (unsigned)(c - 'A' + 10);
        else if (c >= 'a' && c <= 'f')
            v = (unsigned)(c - 'a' + 10);
        else
            return 0;
        t = (t << 4) | v;
    }
    if (orig_r) {
        if (bang)
            buf_appendmap(&out, intname, (size_t)(bang + 1 - intname));
        buf_appendmap(&out, body + dplen + 1,
                      (size_t)(dot - (body + dplen + 1)));
        *orig_r = buf_release(&out);
    }
    if (when_r)
        *when_r = (time_t)t;
    return 1;
}

/* ---- creation policy ------------------------------------------------- */

static int
policy_fail(const char **error_r, const char *why)
{
    *error_r = why;
    return ERR_BADNAME;
}

/* Check one internal component (no '.'). */
static int
policy_component(const struct namespace *ns, const char *p, size_t len,
                 const char **error_r)
{
    size_t i, dots = 0;

    if (len == 0)
        return policy_fail(error_r, "empty hierarchy level");
    if (len > MBOXNAME_MAX_COMPONENT)
        return policy_fail(error_r, "hierarchy level too long");
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];

        if (c < 0x20 || c >= 0x7f)
            return policy_fail(error_r, "control or 8-bit character");
        if (c == '%' || c == '*')
            return policy_fail(error_r, "wildcard character");
        if (c == '"' || c == '\\' || c == '!' || c == '/')
            return policy_fail(error_r, "forbidden character");
        if (c == '^') {
            if (namespace_separator(ns) != '/')
                return policy_fail(error_r, "forbidden character");
            dots++;
        }
    }
    if (dots == len)
        return policy_fail(error_r, "name made of dots");
    return 0;
}

int
mboxname_policycheck(const struct namespace *ns, const char *intname,
                     const char **error_r)
{
    const char *bang = strchr(intname, '!');
    const char *body = bang ? bang + 1 : intname;
    const char *p, *c0;
    size_t n, c0len;
    int r, comp = 0;
    int virt = namespace_virtdomains(ns) != NAMESPACE_VIRTDOMAINS_OFF;

    if (mboxname_is_deleted(ns, intname, NULL, NULL))
        return 0;
    if (strlen(intname) > MBOXNAME_MAX_LEN)
        return policy_fail(error_r, "name too long");
    if (bang) {
        if (!virt)
            return policy_fail(error_r, "virtual domains are disabled");
        if (!namespace_domain_valid(intname, (size_t)(bang - intname)))
            return policy_fail(error_r, "invalid domain");
    }
    if (*body == '\0')
        return policy_fail(error_r, "empty name");
    for (p = body;; p += n + 1, comp++) {
        n = strcspn(p, ".");
        if ((r = policy_component(ns, p, n, error_r)) < 0)
            return r;
        if (p[n] == '\0')
            break;
    }
    if (!charset_mutf7_valid(body, strlen(body)))
        return policy_fail(error_r, "invalid modified UTF-7");
    c0 = first_component(body, &c0len);
    if (word_eq(c0, c0len, "user")) {
        const char *lp = body + 5;
        size_t lplen;

        if (comp < 1)
            return policy_fail(error_r, "no user name after \"user\"");
        lplen = strcspn(lp, ".");
        if (virt && memchr(lp, '@', lplen))
            return policy_fail(error_r, "'@' in a user name");
        if (namespace_altnamespace(ns) && lp[lplen] == '.') {
            c0 = first_component(lp + lplen, &c0len);
            if (is_inbox_word(c0, c0len)
                || word_eq(c0, c0len, namespace_userprefix(ns))
                || word_eq(c0, c0len, namespace_sharedprefix(ns)))
                return policy_fail(error_r, "reserved folder name");
        }
        return 0;
    }
    if (is_inbox_word(c0, c0len))
        return policy_fail(error_r, "shared name starting with INBOX");
    if (word_eq(c0, c0len, namespace_deletedprefix(ns)))
        return policy_fail(error_r, "reserved for deleted mailboxes");
    return 0;
}

/* ---- spool paths ----------------------------------------------------- */

char
mboxname_hash_char(const char *name, int fulldirhash)
{
    const unsigned char *p = (const unsigned char *)name;

    if (fulldirhash) {
        /* the Cyrus rolling hash: mix each byte into a 32-bit value
         * (shift left 3 xor shift right 5), 23 buckets 'A'..'W' */
        uint32_t h = 0;

        for (; *p && *p != '.'; p++)
            h = ((h << 3) ^ (h >> 5)) ^ *p;
        return (char)('A' + h % 23);
    }
    if (*p >= 'A' && *p <= 'Z')
        return (char)(*p + 32);
    if (*p >= 'a' && *p <= 'z')
        return (char)*p;
    return 'q';
}

int
mboxname_to_path(const char *intname, unsigned flags, struct buf *out)
{
    struct iname n;
    struct buf path = BUF_INITIALIZER;
    int full = (flags & MBOXNAME_PATH_FULLHASH) != 0;
    const char *p;

    /* components have no '.', so no "." or ".." directory either */
    if (iname_parse(intname, &n) < 0 || strchr(n.body, '/')
        || (n.dom && !namespace_domain_valid(n.dom, n.domlen)))
        return ERR_BADNAME;
    if (n.dom) {
        char *dom = xstrndup(n.dom, n.domlen);

        buf_appendcstr(&path, "domain/");
        if (flags & MBOXNAME_PATH_HASH)
            buf_printf(&path, "%c/", mboxname_hash_char(dom, full));
        buf_printf(&path, "%s/", dom);
        free(dom);
    }
    if (flags & MBOXNAME_PATH_HASH) {
        char *key = n.lp ? xstrndup(n.lp, n.lplen)
                         : xstrndup(n.rest, strcspn(n.rest, "."));

        buf_printf(&path, "%c/", mboxname_hash_char(key, full));
        free(key);
    }
    for (p = n.body; *p; p++)
        buf_putc(&path, *p == '.' ? '/' : *p);
    buf_appendbuf(out, &path);
    buf_free(&path);
    return 0;
}
