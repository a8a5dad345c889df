/* cmd_metadata.c: GETMETADATA and SETMETADATA (RFC 5464) with the entries
 * Cyrus 3.x serves (IMAP-SCOPE.md §4, MURDER.md §16).
 *
 * Server entries (mailbox ""): /shared/comment, /shared/admin,
 * /shared/motd and the vendor shutdown/expire/squat values are stored in
 * annotations.db and writable by admins; /private/comment by anyone for
 * themself; freespace/total and freespace/percent/most are computed from
 * the partitions with statvfs() and read-only.
 *
 * Mailbox entries: /shared/comment, /private/comment and any other
 * entry outside /vendor/cmu/ are stored; /shared/specialuse and
 * /private/specialuse are the mailboxes.db specialuse field (what LIST
 * and CREATE ... USE see); the vendor size, partition, server and
 * uniqueid are computed and read-only; vendor expire, sharedseen,
 * news2mail, pop3showafter, sieve and squat are stored, writable by
 * admins and holders of `a`.
 *
 * Rights: reading shared values needs `l` and `r`, private ones `l`;
 * writing shared values `n` (or admin), private ones `l`. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "acl.h"
#include "annotate.h"
#include "config.h"
#include "errors.h"
#include "imapd.h"
#include "log.h"
#include "mboxlist.h"
#include "mboxname.h"
#include "stream.h"
#include "strarray.h"
#include "util.h"
#include "xmalloc.h"

#define VENDOR "/vendor/cmu/cyrus-imapd/"

/* struct md_def flags */
#define MD_SERVER  (1u << 0) /* exists on the server ("") */
#define MD_MAILBOX (1u << 1) /* exists on mailboxes */
#define MD_SHARED  (1u << 2) /* has a /shared value */
#define MD_PRIVATE (1u << 3) /* has a /private value */
#define MD_RO      (1u << 4) /* computed, read-only */
#define MD_ADMIN   (1u << 5) /* writing needs admin (server) or `a` */
#define MD_SPECIAL (1u << 6) /* the mailboxes.db specialuse field */

/* Largest value SETMETADATA accepts (RFC 5464 4.3 [METADATA MAXSIZE]). */
#define MD_MAXSIZE (64 * 1024)

struct md_req {
    struct imapd_session *s;
    const char *intname;          /* "" for the server */
    struct mboxlist_entry *entry; /* NULL for the server */
    uint32_t rights;
};

typedef int md_get_fn(struct md_req *q, struct buf *value);

struct md_def {
    const char *name; /* after the scope prefix */
    unsigned flags;
    md_get_fn *get;   /* computed entries */
};

/* KiB available and total over the configured partitions: the sum, or
 * the partition with the largest free share (most). */
static int
freespace(struct md_req *q, int most, struct buf *value)
{
    struct strarray keys = STRARRAY_INITIALIZER;
    uint64_t avail = 0, total = 0;
    double best = -1.0;
    size_t i;

    (void)q;
    config_overflow_keys(config, "partition-", &keys);
    for (i = 0; i < keys.count; i++) {
        const char *dir = config_overflow(config, keys.data[i]);
        struct statvfs st;
        uint64_t a, t;

        if (dir == NULL || statvfs(dir, &st) < 0)
            continue;
        a = (uint64_t)st.f_bavail * st.f_frsize / 1024;
        t = (uint64_t)st.f_blocks * st.f_frsize / 1024;
        if (!most) {
            avail += a;
            total += t;
        } else if (t && (double)a / (double)t > best) {
            best = (double)a / (double)t;
            avail = a;
            total = t;
        }
    }
    strarray_fini(&keys);
    buf_printf(value, "%llu;%llu", (unsigned long long)avail,
               (unsigned long long)total);
    return 0;
}

static int
get_freespace_total(struct md_req *q, struct buf *value)
{
    return freespace(q, 0, value);
}

static int
get_freespace_most(struct md_req *q, struct buf *value)
{
    return freespace(q, 1, value);
}

static int
get_size(struct md_req *q, struct buf *value)
{
    struct imaptok t;
    struct buf data = BUF_INITIALIZER;
    unsigned items = 0;
    const char *p;
    int r = ERR_NOTFOUND;

    if (q->entry->server)
        return ERR_NOTFOUND;
    imaptok_init(&t, "(SIZE)", 6);
    if (imapd_status_parse(&t, &items) == 0
        && imapd_status_data(q->s, q->entry, items, &data) == 0
        && (p = strstr(buf_cstring(&data), "SIZE ")) != NULL) {
        buf_appendmap(value, p + 5, strspn(p + 5, "0123456789"));
        r = 0;
    }
    buf_free(&data);
    return r;
}

static int
get_partition(struct md_req *q, struct buf *value)
{
    if (q->entry->partition == NULL)
        return ERR_NOTFOUND;
    buf_appendcstr(value, q->entry->partition);
    return 0;
}

static int
get_server(struct md_req *q, struct buf *value)
{
    buf_appendcstr(value, q->entry->server ? q->entry->server
                                           : q->s->proc->servername);
    return 0;
}

static int
get_uniqueid(struct md_req *q, struct buf *value)
{
    if (q->entry->uniqueid == NULL)
        return ERR_NOTFOUND;
    buf_appendcstr(value, q->entry->uniqueid);
    return 0;
}

static int
get_specialuse(struct md_req *q, struct buf *value)
{
    if (q->entry->specialuse == NULL || !*q->entry->specialuse)
        return ERR_NOTFOUND;
    buf_appendcstr(value, q->entry->specialuse);
    return 0;
}

static const struct md_def md_defs[] = {
    {"/admin",                MD_SERVER | MD_SHARED | MD_ADMIN,              NULL},
    {"/comment",              MD_SERVER | MD_MAILBOX | MD_SHARED | MD_PRIVATE, NULL},
    {"/motd",                 MD_SERVER | MD_SHARED | MD_ADMIN,              NULL},
    {"/specialuse",           MD_MAILBOX | MD_SHARED | MD_PRIVATE | MD_SPECIAL,
     get_specialuse},
    {VENDOR "expire",         MD_SERVER | MD_MAILBOX | MD_SHARED | MD_ADMIN, NULL},
    {VENDOR "freespace/percent/most", MD_SERVER | MD_SHARED | MD_RO,
     get_freespace_most},
    {VENDOR "freespace/total", MD_SERVER | MD_SHARED | MD_RO,
     get_freespace_total},
    {VENDOR "news2mail",      MD_MAILBOX | MD_SHARED | MD_ADMIN,             NULL},
    {VENDOR "partition",      MD_MAILBOX | MD_SHARED | MD_RO, get_partition},
    {VENDOR "pop3showafter",  MD_MAILBOX | MD_SHARED | MD_ADMIN,             NULL},
    {VENDOR "server",         MD_MAILBOX | MD_SHARED | MD_RO, get_server},
    {VENDOR "sharedseen",     MD_MAILBOX | MD_SHARED | MD_ADMIN,             NULL},
    {VENDOR "shutdown",       MD_SERVER | MD_SHARED | MD_ADMIN,              NULL},
    {VENDOR "sieve",          MD_MAILBOX | MD_SHARED | MD_ADMIN,             NULL},
    {VENDOR "size",           MD_MAILBOX | MD_SHARED | MD_RO, get_size},
    {VENDOR "squat",          MD_SERVER | MD_MAILBOX | MD_SHARED | MD_ADMIN, NULL},
    {VENDOR "uniqueid",       MD_MAILBOX | MD_SHARED | MD_RO, get_uniqueid},
};

static const struct md_def *
find_def(const char *name)
{
    size_t i;

    for (i = 0; i < ARRAY_SIZE(md_defs); i++) {
        if (strcmp(md_defs[i].name, name) == 0)
            return &md_defs[i];
    }
    return NULL;
}

/* Whether the entry (scope, name) applies to this target at all; for
 * unknown names: stored user entries, except under /vendor/cmu/. */
static const struct md_def *
applicable(const struct md_req *q, int shared, const char *name, int *ok_r)
{
    const struct md_def *d = find_def(name);

    *ok_r = 0;
    if (d == NULL) {
        *ok_r = strncmp(name, "/vendor/cmu/", 12) != 0 && *name;
        return NULL;
    }
    if (!(d->flags & (q->entry ? MD_MAILBOX : MD_SERVER)))
        return d;
    if (!(d->flags & (shared ? MD_SHARED : MD_PRIVATE)))
        return d;
    *ok_r = 1;
    return d;
}

/* ---- GETMETADATA ----------------------------------------------------- */

struct md_value {
    struct buf v;
    int nil;
};

struct md_result {
    struct strarray names;   /* full entry names, in answer order */
    struct md_value *values; /* parallel to names */
    size_t longest;          /* largest value left out by MAXSIZE */
};

static void
result_add(struct md_result *res, const char *full, const struct buf *value,
           int nil, uint32_t maxsize)
{
    if (strarray_find(&res->names, full) >= 0)
        return;
    if (!nil && maxsize && buf_len(value) > maxsize) {
        if (buf_len(value) > res->longest)
            res->longest = buf_len(value);
        return;
    }
    res->values = xreallocarray(res->values, res->names.count + 1,
                                sizeof(*res->values));
    memset(&res->values[res->names.count], 0, sizeof(*res->values));
    res->values[res->names.count].nil = nil;
    if (!nil)
        buf_appendbuf(&res->values[res->names.count].v, value);
    strarray_append(&res->names, full);
}

/* The value of (scope, name) for the target: 0, or ERR_NOTFOUND. */
static int
md_value(struct md_req *q, int shared, const char *name,
         const struct md_def *d, struct buf *value)
{
    buf_reset(value);
    if (d && d->get)
        return d->get(q, value);
    return annotate_get(q->s->proc->annot, q->intname, name,
                        shared ? "" : q->s->userid, value, NULL);
}

struct collect_ctx {
    struct md_req *q;
    int shared;
    const char *pattern; /* name part, lowercased */
    int depth;
    uint32_t maxsize;
    struct md_result *res;
};

static int
wanted(const struct collect_ctx *c, const char *name)
{
    if (annotate_entry_has_wildcards(c->pattern))
        return annotate_entry_glob(c->pattern, name);
    return annotate_entry_match(c->pattern, name, c->depth);
}

static void
emit(struct collect_ctx *c, const char *name, const struct buf *value)
{
    struct buf full = BUF_INITIALIZER;

    buf_printf(&full, "%s%s", c->shared ? "/shared" : "/private", name);
    result_add(c->res, buf_cstring(&full), value, 0, c->maxsize);
    buf_free(&full);
}

static int
stored_cb(void *ctx, const char *entry, const char *userid, const char *value,
          size_t len)
{
    struct collect_ctx *c = ctx;
    struct buf v = BUF_INITIALIZER;
    int ok;

    if (strcmp(userid, c->shared ? "" : c->q->s->userid) != 0)
        return 0;
    if (!wanted(c, entry) || (applicable(c->q, c->shared, entry, &ok), !ok))
        return 0;
    buf_setmap(&v, value, len);
    emit(c, entry, &v);
    buf_free(&v);
    return 0;
}

/* Answer one requested entry (maybe a pattern or a DEPTH tree). */
static void
collect(struct collect_ctx *c)
{
    struct buf value = BUF_INITIALIZER;
    size_t i;

    if (!annotate_entry_has_wildcards(c->pattern) && c->depth == 0) {
        int ok;
        const struct md_def *d = applicable(c->q, c->shared, c->pattern, &ok);
        int r = ok ? md_value(c->q, c->shared, c->pattern, d, &value)
                   : ERR_NOTFOUND;
        struct buf full = BUF_INITIALIZER;

        /* RFC 5464 4.2: a named entry without a value is NIL */
        buf_printf(&full, "%s%s", c->shared ? "/shared" : "/private",
                   c->pattern);
        result_add(c->res, buf_cstring(&full), &value, r != 0, c->maxsize);
        buf_free(&full);
        buf_free(&value);
        return;
    }
    for (i = 0; i < ARRAY_SIZE(md_defs); i++) {
        const struct md_def *d = &md_defs[i];
        int ok;

        if (!d->get || !wanted(c, d->name))
            continue;
        applicable(c->q, c->shared, d->name, &ok);
        if (ok && md_value(c->q, c->shared, d->name, d, &value) == 0)
            emit(c, d->name, &value);
    }
    annotate_foreach(c->q->s->proc->annot, c->q->intname, stored_cb, c, NULL);
    buf_free(&value);
}

/* "(" option *(SP option) ")": MAXSIZE n, DEPTH 0|1|infinity. */
static int
parse_get_options(struct imaptok *t, uint32_t *maxsize_r, int *depth_r)
{
    if (imaptok_lparen(t) < 0)
        return -1;
    for (;;) {
        if (imaptok_keyword(t, "MAXSIZE") == 0) {
            if (imaptok_sp(t) < 0 || imaptok_number(t, maxsize_r) < 0)
                return -1;
        } else if (imaptok_keyword(t, "DEPTH") == 0) {
            if (imaptok_sp(t) < 0)
                return -1;
            if (imaptok_keyword(t, "infinity") == 0)
                *depth_r = -1;
            else if (imaptok_keyword(t, "0") == 0)
                *depth_r = 0;
            else if (imaptok_keyword(t, "1") == 0)
                *depth_r = 1;
            else
                return imaptok_fail(t, "Invalid DEPTH");
        } else {
            return imaptok_fail(t, "Invalid GETMETADATA option");
        }
        if (imaptok_peek(t) != ' ')
            break;
        imaptok_sp(t);
    }
    return imaptok_rparen(t);
}

/* Resolve the mailbox argument into q: "" is the server. 0 or ERR_*. */
static int
target(struct imapd_session *s, const char *ext, struct md_req *q,
       char **intname_r)
{
    int r;

    memset(q, 0, sizeof(*q));
    q->s = s;
    *intname_r = NULL;
    if (*ext == '\0') {
        q->intname = "";
        return 0;
    }
    r = imapd_lookup(s, ext, intname_r, &q->entry);
    if (r < 0)
        return r;
    q->intname = *intname_r;
    q->rights = imapd_rights(s, q->entry);
    return 0;
}

static void
send_result(struct imapd_session *s, const char *ext,
            const struct md_result *res)
{
    struct buf line = BUF_INITIALIZER;
    size_t i;

    if (res->names.count == 0)
        return;
    buf_appendcstr(&line, "* METADATA ");
    imaptok_astring_out(&line, ext, strlen(ext));
    buf_appendcstr(&line, " (");
    for (i = 0; i < res->names.count; i++) {
        const struct md_value *v = &res->values[i];

        if (i)
            buf_putc(&line, ' ');
        /* Cyrus quotes entry names (shared/reference transcripts) */
        imaptok_quote(&line, res->names.data[i], strlen(res->names.data[i]));
        buf_putc(&line, ' ');
        if (v->nil)
            buf_appendcstr(&line, "NIL");
        else
            imaptok_quote(&line, buf_base(&v->v), buf_len(&v->v));
    }
    buf_appendcstr(&line, ")\r\n");
    stream_write(s->s, buf_base(&line), buf_len(&line));
    buf_free(&line);
}

void
cmd_getmetadata(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    struct buf mbox = BUF_INITIALIZER, e = BUF_INITIALIZER;
    struct buf name = BUF_INITIALIZER;
    struct strarray entries = STRARRAY_INITIALIZER;
    struct md_result res;
    struct md_req q;
    char *intname = NULL;
    uint32_t maxsize = 0;
    int depth = 0, r;
    size_t i;

    memset(&res, 0, sizeof(res));
    memset(&q, 0, sizeof(q));
    if (imaptok_peek(t) == '('
        && (parse_get_options(t, &maxsize, &depth) < 0 || imaptok_sp(t) < 0))
        goto bad;
    if (imaptok_mailbox(t, &mbox) < 0 || imaptok_sp(t) < 0)
        goto bad;
    /* entries as list-mailbox: cyradm sends the pattern (/shared/STAR)
     * unquoted */
    if (imaptok_peek(t) == '(') {
        imaptok_lparen(t);
        do {
            if (imaptok_list_mailbox(t, &e) < 0)
                goto bad;
            strarray_append(&entries, buf_cstring(&e));
        } while (imaptok_peek(t) == ' ' && imaptok_sp(t) == 0);
        if (imaptok_rparen(t) < 0)
            goto bad;
    } else {
        if (imaptok_list_mailbox(t, &e) < 0)
            goto bad;
        strarray_append(&entries, buf_cstring(&e));
    }
    if (imaptok_end(t) < 0)
        goto bad;
    for (i = 0; i < entries.count; i++) {
        if (!annotate_entry_valid(entries.data[i], 1)) {
            imapd_bad(s, tag, "Invalid entry name");
            goto done;
        }
    }
    r = target(s, buf_cstring(&mbox), &q, &intname);
    if (r == 0 && q.entry && (q.entry->mbtype & MBTYPE_REMOTE)
        && !q.entry->server)
        r = ERR_NOMAILBOX;
    if (r < 0) {
        imapd_error(s, tag, r);
        goto done;
    }
    for (i = 0; i < entries.count; i++) {
        struct collect_ctx c;
        int shared = annotate_entry_split(entries.data[i], &name);

        /* RFC 5464 3.4: shared values need read access to the mailbox */
        if (shared && q.entry && !s->isadmin
            && !(q.rights & ACL_READ))
            continue;
        c.q = &q;
        c.shared = shared;
        c.pattern = buf_cstring(&name);
        c.depth = depth;
        c.maxsize = maxsize;
        c.res = &res;
        collect(&c);
    }
    send_result(s, buf_cstring(&mbox), &res);
    if (res.longest) {
        struct buf code = BUF_INITIALIZER;

        buf_printf(&code, "METADATA LONGENTRIES %zu", res.longest);
        imapd_ok(s, tag, buf_cstring(&code), "Completed");
        buf_free(&code);
    } else {
        imapd_ok(s, tag, NULL, "Completed");
    }
    goto done;
bad:
    imapd_bad(s, tag, "Invalid arguments to Getmetadata");
done:
    for (i = 0; i < res.names.count; i++)
        buf_free(&res.values[i].v);
    free(res.values);
    strarray_fini(&res.names);
    strarray_fini(&entries);
    mboxlist_entry_free(&q.entry);
    free(intname);
    buf_free(&mbox);
    buf_free(&e);
    buf_free(&name);
}

/* ---- SETMETADATA ----------------------------------------------------- */

static const char *const specialuse_flags[] = {
    "\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk", "\\Sent",
    "\\Trash", "\\Important",
};

/* A space-separated list of RFC 6154 flags, canonically spelled into
 * out. 0 or -1. */
static int
specialuse_canon(const char *value, struct buf *out)
{
    struct strarray *words = strarray_split(value, " ");
    size_t i, k;
    int r = 0;

    buf_reset(out);
    for (i = 0; r == 0 && words && i < words->count; i++) {
        for (k = 0; k < ARRAY_SIZE(specialuse_flags); k++) {
            if (util_strcasecmp(words->data[i], specialuse_flags[k]) == 0)
                break;
        }
        if (k == ARRAY_SIZE(specialuse_flags)) {
            r = -1;
            break;
        }
        if (buf_len(out))
            buf_putc(out, ' ');
        buf_appendcstr(out, specialuse_flags[k]);
    }
    strarray_free(&words);
    return r;
}

/* May the session write (shared, name) on the target? 0 or ERR_*. */
static int
may_write(const struct md_req *q, int shared, const struct md_def *d)
{
    struct imapd_session *s = q->s;

    if (d && (d->flags & MD_RO))
        return ERR_PERMISSION;
    if (q->entry == NULL) /* the server */
        return (!shared || s->isadmin) ? 0 : ERR_PERMISSION;
    if (d && (d->flags & MD_SPECIAL))
        return (s->isadmin
                || mboxname_is_owner(s->proc->ns, q->intname, s->userid)
                || (q->rights & ACL_ADMIN))
                   ? 0
                   : ERR_PERMISSION;
    if (s->isadmin)
        return 0;
    if (d && (d->flags & MD_ADMIN))
        return (q->rights & ACL_ADMIN) ? 0 : ERR_PERMISSION;
    if (shared)
        return (q->rights & ACL_ANNOTATE) ? 0 : ERR_PERMISSION;
    return (q->rights & ACL_LOOKUP) ? 0 : ERR_PERMISSION;
}

static int
set_specialuse(struct md_req *q, const char *value)
{
    struct mboxlist_entry *e = NULL;
    struct buf canon = BUF_INITIALIZER;
    int r;

    if (value && *value && specialuse_canon(value, &canon) < 0)
        return ERR_INVALID;
    r = mboxlist_lookup(q->s->proc->mboxlist, q->intname, &e, NULL);
    if (r == 0) {
        free(e->specialuse);
        e->specialuse = buf_len(&canon) ? xstrdup(buf_cstring(&canon)) : NULL;
        r = mboxlist_store(q->s->proc->mboxlist, e, NULL);
    }
    mboxlist_entry_free(&e);
    buf_free(&canon);
    return r;
}

struct md_set {
    char *entry;
    char *value; /* NULL: remove */
    size_t len;
};

void
cmd_setmetadata(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    struct buf mbox = BUF_INITIALIZER, e = BUF_INITIALIZER;
    struct buf v = BUF_INITIALIZER, name = BUF_INITIALIZER;
    struct md_set *sets = NULL;
    size_t nsets = 0, i;
    struct md_req q;
    char *intname = NULL;
    int r = 0;

    memset(&q, 0, sizeof(q));
    if (imaptok_mailbox(t, &mbox) < 0 || imaptok_sp(t) < 0
        || imaptok_lparen(t) < 0)
        goto bad;
    while (imaptok_peek(t) != ')') {
        int nil = 0;

        if (nsets && imaptok_sp(t) < 0)
            goto bad;
        if (imaptok_astring(t, &e) < 0 || imaptok_sp(t) < 0)
            goto bad;
        if (imaptok_peek(t) == '~' || imaptok_peek(t) == '{') {
            struct imaptok_literal lit;

            if (imaptok_literal(t, &lit) < 0 || lit.spooled)
                goto bad;
            buf_setmap(&v, lit.p, (size_t)lit.len);
        } else if (imaptok_nstring(t, &v, &nil) < 0) {
            goto bad;
        }
        if (!annotate_entry_valid(buf_cstring(&e), 0)) {
            imapd_bad(s, tag, "Invalid entry name");
            goto done;
        }
        if (!nil && buf_len(&v) > MD_MAXSIZE) {
            imapd_no(s, tag, "METADATA MAXSIZE 65536", "Value too large");
            goto done;
        }
        sets = xreallocarray(sets, nsets + 1, sizeof(*sets));
        sets[nsets].entry = xstrdup(buf_cstring(&e));
        sets[nsets].value = NULL;
        if (!nil) {
            /* may hold NULs (literal8): keep the length */
            sets[nsets].value = xmalloc(buf_len(&v) + 1);
            memcpy(sets[nsets].value, buf_base(&v), buf_len(&v));
            sets[nsets].value[buf_len(&v)] = '\0';
        }
        sets[nsets].len = buf_len(&v);
        nsets++;
    }
    if (imaptok_rparen(t) < 0 || imaptok_end(t) < 0 || nsets == 0)
        goto bad;
    r = target(s, buf_cstring(&mbox), &q, &intname);
    if (r < 0) {
        imapd_error(s, tag, r);
        goto done;
    }
    /* check every entry before changing any (RFC 5464 4.3: all or none) */
    for (i = 0; i < nsets; i++) {
        int ok, shared = annotate_entry_split(sets[i].entry, &name);
        const struct md_def *d = applicable(&q, shared, buf_cstring(&name),
                                            &ok);

        r = ok ? may_write(&q, shared, d) : ERR_PERMISSION;
        if (r == 0 && d && (d->flags & MD_SPECIAL) && sets[i].value
            && *sets[i].value && specialuse_canon(sets[i].value, &v) < 0)
            r = ERR_INVALID;
        if (r < 0)
            break;
    }
    for (i = 0; r == 0 && i < nsets; i++) {
        int ok, shared = annotate_entry_split(sets[i].entry, &name);
        const struct md_def *d = applicable(&q, shared, buf_cstring(&name),
                                            &ok);

        if (d && (d->flags & MD_SPECIAL))
            r = set_specialuse(&q, sets[i].value);
        else
            r = annotate_set(s->proc->annot, q.intname, buf_cstring(&name),
                             shared ? "" : s->userid, sets[i].value,
                             sets[i].len, NULL);
    }
    if (r == ERR_INVALID)
        imapd_no(s, tag, NULL, "Invalid special-use value");
    else if (r < 0)
        imapd_error(s, tag, r);
    else
        imapd_ok(s, tag, NULL, "Completed");
    goto done;
bad:
    imapd_bad(s, tag, imaptok_error(t) && *imaptok_error(t)
                          ? imaptok_error(t)
                          : "Invalid arguments to Setmetadata");
done:
    for (i = 0; i < nsets; i++) {
        free(sets[i].entry);
        free(sets[i].value);
    }
    free(sets);
    mboxlist_entry_free(&q.entry);
    free(intname);
    buf_free(&mbox);
    buf_free(&e);
    buf_free(&v);
    buf_free(&name);
}
