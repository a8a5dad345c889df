/* cmd_list.c: LIST with LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819),
 * SPECIAL-USE (RFC 6154) and CHILDREN (RFC 3348), answered from
 * mailboxes.db filtered by the `l` right, and subs.db for the SUBSCRIBED
 * selection and return options: a subscribed name that does not exist
 * (or is invisible) is listed by LIST (SUBSCRIBED) as
 * "\NonExistent \Subscribed"; RECURSIVEMATCH adds unsubscribed parents of
 * subscribed names with CHILDINFO ("SUBSCRIBED") (RFC 5258 3.5). */
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "errors.h"
#include "hash.h"
#include "imapd.h"
#include "mboxlist.h"
#include "mboxname.h"
#include "namespace.h"
#include "stream.h"
#include "subs.h"
#include "strarray.h"
#include "util.h"
#include "xmalloc.h"

#define SEL_SUBSCRIBED     (1u << 0)
#define SEL_REMOTE         (1u << 1)
#define SEL_RECURSIVEMATCH (1u << 2)
#define SEL_SPECIALUSE     (1u << 3)
#define RET_CHILDREN       (1u << 0)
#define RET_SUBSCRIBED     (1u << 1)
#define RET_SPECIALUSE     (1u << 2)
#define RET_STATUS         (1u << 3)
#define RET_MYRIGHTS       (1u << 4)

struct list_item {
    char *extname;
    char *intname;
    char *specialuse;
    int group;          /* 0 own, 1 other users, 2 shared: Cyrus's order */
    int exists;         /* 0: an intermediate name with children only */
    int has_children;
    int subscribed;
    int subonly;        /* only here because of a subscription */
    int sub_child;      /* a descendant is subscribed (RECURSIVEMATCH) */
    uint32_t rights;
};

struct list_ctx {
    struct imapd_session *s;
    struct hash *byname;  /* extname -> struct list_item */
    struct list_item **items;
    size_t count, alloc;
    char sep;
};

static struct list_item *
add_item(struct list_ctx *lc, const char *extname, const char *intname)
{
    struct list_item *it = hash_lookup(lc->byname, extname);

    if (it)
        return it;
    it = xzmalloc(sizeof(*it));
    it->extname = xstrdup(extname);
    it->intname = xstrdup(intname);
    if (lc->s->userid && mboxname_is_owner(lc->s->proc->ns, intname,
                                           lc->s->userid))
        it->group = 0;
    else if (mboxname_is_user(intname))
        it->group = 1;
    else
        it->group = 2;
    hash_insert(lc->byname, extname, it);
    if (lc->count == lc->alloc) {
        lc->alloc = lc->alloc ? lc->alloc * 2 : 64;
        lc->items = xreallocarray(lc->items, lc->alloc, sizeof(*lc->items));
    }
    lc->items[lc->count++] = it;
    return it;
}

static int
collect_cb(void *ctx, const struct mboxlist_entry *e)
{
    struct list_ctx *lc = ctx;
    struct list_item *it;
    uint32_t rights;
    char *ext, *p;

    if (e->mbtype & (MBTYPE_RESERVE | MBTYPE_DELETED))
        return 0;
    rights = imapd_rights(lc->s, e);
    if (!(rights & ACL_LOOKUP))
        return 0;
    ext = imapd_extname(lc->s, e->name);
    if (ext == NULL)
        return 0;
    it = add_item(lc, ext, e->name);
    it->exists = 1;
    it->rights = rights;
    free(it->specialuse);
    it->specialuse = xstrdupnull(e->specialuse);
    /* every ancestor has children; missing ones become intermediates */
    while ((p = strrchr(ext, lc->sep)) != NULL) {
        struct list_item *parent;
        char *pint = mboxname_parent(it->intname);

        *p = '\0';
        parent = add_item(lc, ext, pint ? pint : "");
        free(pint);
        parent->has_children = 1;
        it = parent;
    }
    free(ext);
    return 0;
}

/* Add the user's subscriptions: mark existing items, add the others (and
 * their missing parents) as subscription-only. */
static int
add_subscriptions(struct list_ctx *lc)
{
    struct strarray names = STRARRAY_INITIALIZER;
    size_t i;
    int r;

    r = subs_list(lc->s->proc->subs, lc->s->userid, &names, NULL);
    for (i = 0; r == 0 && i < names.count; i++) {
        char *ext = imapd_extname(lc->s, names.data[i]);
        char *p, *pint = NULL;
        struct list_item *it;

        if (ext == NULL)
            continue;
        it = hash_lookup(lc->byname, ext);
        if (it == NULL) {
            it = add_item(lc, ext, names.data[i]);
            it->subonly = 1;
        }
        it->subscribed = 1;
        pint = xstrdup(names.data[i]);
        while ((p = strrchr(ext, lc->sep)) != NULL) {
            struct list_item *parent;
            char *next = mboxname_parent(pint);

            *p = '\0';
            free(pint);
            pint = next;
            parent = hash_lookup(lc->byname, ext);
            if (parent == NULL) {
                parent = add_item(lc, ext, pint ? pint : "");
                parent->subonly = 1;
            }
            parent->sub_child = 1;
        }
        free(pint);
        free(ext);
    }
    strarray_fini(&names);
    return r;
}

static int
item_cmp(const void *a, const void *b)
{
    const struct list_item *x = *(struct list_item *const *)a;
    const struct list_item *y = *(struct list_item *const *)b;

    if (x->group != y->group)
        return x->group - y->group;
    return strcmp(x->intname, y->intname);
}

static void
item_free(void *p)
{
    struct list_item *it = p;

    free(it->extname);
    free(it->intname);
    free(it->specialuse);
    free(it);
}

static int
parse_options(struct imaptok *t, const char *const *names,
              const unsigned *bits, size_t n, unsigned *opts_r,
              unsigned *status_r)
{
    struct imaptok_span w;

    if (imaptok_lparen(t) < 0)
        return -1;
    while (imaptok_peek(t) != ')') {
        size_t i;
        int found = 0;

        if (*opts_r && imaptok_sp(t) < 0)
            return -1;
        if (imaptok_atom(t, &w) < 0)
            return -1;
        for (i = 0; i < n; i++) {
            if (util_memcaseeq(w.p, w.len, names[i])) {
                *opts_r |= bits[i];
                found = 1;
            }
        }
        if (!found)
            return imaptok_fail(t, "Invalid LIST option");
        if (status_r && util_memcaseeq(w.p, w.len, "STATUS")) {
            if (imaptok_sp(t) < 0 || imapd_status_parse(t, status_r) < 0)
                return -1;
        }
        *opts_r |= 1u << 31; /* "something seen": for the SP check */
    }
    *opts_r &= ~(1u << 31);
    return imaptok_rparen(t);
}

/* LIST, or XLIST when xlist is set: the Gmail-style answer Cyrus gives
 * ("* XLIST", special-use flags always, \Inbox on the INBOX). */
static void
list_run(struct imapd_session *s, const char *tag, struct imaptok *t,
         int xlist)
{
    static const char *const selnames[] = {"SUBSCRIBED", "REMOTE",
                                           "RECURSIVEMATCH", "SPECIAL-USE"};
    static const unsigned selbits[] = {SEL_SUBSCRIBED, SEL_REMOTE,
                                       SEL_RECURSIVEMATCH, SEL_SPECIALUSE};
    static const char *const retnames[] = {"CHILDREN", "SUBSCRIBED",
                                           "SPECIAL-USE", "STATUS",
                                           "MYRIGHTS"};
    static const unsigned retbits[] = {RET_CHILDREN, RET_SUBSCRIBED,
                                       RET_SPECIALUSE, RET_STATUS,
                                       RET_MYRIGHTS};
    struct buf ref = BUF_INITIALIZER, pat = BUF_INITIALIZER;
    struct buf line = BUF_INITIALIZER;
    struct strarray patterns = STRARRAY_INITIALIZER;
    struct list_ctx lc;
    unsigned sel = 0, ret = 0, status_items = 0;
    int extended = 0;
    size_t i, k;

    memset(&lc, 0, sizeof(lc));
    if (imaptok_peek(t) == '(') {
        extended = 1;
        if (parse_options(t, selnames, selbits, ARRAY_SIZE(selnames), &sel,
                          NULL)
                < 0
            || imaptok_sp(t) < 0)
            goto bad;
    }
    if (imaptok_mailbox(t, &ref) < 0 || imaptok_sp(t) < 0)
        goto bad;
    if (imaptok_peek(t) == '(') {
        extended = 1;
        imaptok_lparen(t);
        do {
            if (imaptok_list_mailbox(t, &pat) < 0)
                goto bad;
            strarray_append(&patterns, buf_cstring(&pat));
        } while (imaptok_peek(t) == ' ' && imaptok_sp(t) == 0);
        if (imaptok_rparen(t) < 0)
            goto bad;
    } else {
        if (imaptok_list_mailbox(t, &pat) < 0)
            goto bad;
        strarray_append(&patterns, buf_cstring(&pat));
    }
    if (imaptok_peek(t) == ' ') {
        if (imaptok_sp(t) < 0 || imaptok_keyword(t, "RETURN") < 0
            || imaptok_sp(t) < 0
            || parse_options(t, retnames, retbits, ARRAY_SIZE(retnames), &ret,
                             &status_items)
                   < 0)
            goto bad;
        extended = 1;
    }
    if (imaptok_end(t) < 0)
        goto bad;
    /* RFC 5258 3: LIST (REMOTE) opts into referrals as RLIST does */
    if (sel & SEL_REMOTE)
        s->referrals = 1;
    lc.s = s;
    lc.sep = namespace_separator(s->proc->ns);
    /* RFC 3501 6.3.8: an empty pattern asks for the separator */
    if (patterns.count == 1 && patterns.data[0][0] == '\0') {
        stream_printf(s->s, "* %s (\\Noselect) \"%c\" \"\"\r\n",
                      xlist ? "XLIST" : "LIST", lc.sep);
        imapd_ok(s, tag, NULL, "Completed");
        goto done;
    }
    /* RFC 5258 3: RECURSIVEMATCH needs another selection option */
    if ((sel & SEL_RECURSIVEMATCH) && !(sel & ~SEL_RECURSIVEMATCH & ~SEL_REMOTE)) {
        imapd_bad(s, tag, "RECURSIVEMATCH without another selection option");
        goto done;
    }
    lc.byname = hash_new(256);
    mboxlist_foreach(s->proc->mboxlist, "", collect_cb, &lc, NULL);
    if ((sel & SEL_SUBSCRIBED) || (ret & RET_SUBSCRIBED)) {
        int r = add_subscriptions(&lc);

        if (r) {
            imapd_error(s, tag, r);
            goto done;
        }
    }
    if (lc.count > 1) /* items is NULL for an empty list (a fresh replica) */
        qsort(lc.items, lc.count, sizeof(*lc.items), item_cmp);
    for (k = 0; k < patterns.count; k++) {
        struct namespace_pattern *np = NULL;

        if (namespace_pattern_new(s->proc->ns, buf_cstring(&ref),
                                  patterns.data[k], &np)
            < 0)
            continue;
        for (i = 0; i < lc.count; i++) {
            struct list_item *it = lc.items[i];
            int first = 1, childinfo;

            if (it->group < 0 || !namespace_pattern_match(np, it->extname))
                continue;
            if ((sel & SEL_SPECIALUSE) && !it->specialuse)
                continue;
            childinfo = (sel & SEL_RECURSIVEMATCH) && (sel & SEL_SUBSCRIBED)
                        && it->sub_child;
            if (sel & SEL_SUBSCRIBED) {
                if (!it->subscribed && !childinfo)
                    continue;
            } else if (it->subonly) {
                continue;
            }
            buf_reset(&line);
            buf_appendcstr(&line, xlist ? "* XLIST (" : "* LIST (");
            if (!it->exists) {
                buf_appendcstr(&line, extended ? "\\NonExistent"
                                               : "\\Noselect");
                first = 0;
            }
            if (it->subscribed
                && ((sel & SEL_SUBSCRIBED) || (ret & RET_SUBSCRIBED))) {
                buf_printf(&line, "%s\\Subscribed", first ? "" : " ");
                first = 0;
            }
            buf_printf(&line, "%s%s", first ? "" : " ",
                       it->has_children ? "\\HasChildren" : "\\HasNoChildren");
            if (it->specialuse
                && (ret & RET_SPECIALUSE || sel & SEL_SPECIALUSE || !extended
                    || xlist))
                buf_printf(&line, " %s", it->specialuse);
            if (xlist && it->exists && it->group == 0
                && mboxname_is_inbox(it->intname))
                buf_appendcstr(&line, " \\Inbox");
            buf_printf(&line, ") \"%c\" ", lc.sep);
            imaptok_astring_out(&line, it->extname, strlen(it->extname));
            if (childinfo)
                buf_appendcstr(&line, " (\"CHILDINFO\" (\"SUBSCRIBED\"))");
            buf_appendcstr(&line, "\r\n");
            if ((ret & RET_STATUS) && it->exists) {
                struct mboxlist_entry *e = NULL;
                struct buf data = BUF_INITIALIZER;

                if (mboxlist_lookup(s->proc->mboxlist, it->intname, &e, NULL)
                        == 0
                    && !e->server && (it->rights & ACL_READ)
                    && imapd_status_data(s, e, status_items, &data) == 0) {
                    buf_appendcstr(&line, "* STATUS ");
                    imaptok_astring_out(&line, it->extname,
                                        strlen(it->extname));
                    buf_printf(&line, " %s\r\n", buf_cstring(&data));
                }
                buf_free(&data);
                mboxlist_entry_free(&e);
            }
            stream_write(s->s, buf_base(&line), buf_len(&line));
            /* a name matched by two patterns is listed once */
            it->group = -1 - it->group;
        }
        namespace_pattern_free(&np);
    }
    imapd_sync(s, 1);
    imapd_ok(s, tag, NULL, "Completed");
    goto done;
bad:
    imapd_bad(s, tag, imaptok_error(t) ? imaptok_error(t)
                                       : "Invalid arguments to List");
done:
    for (i = 0; i < lc.count; i++)
        item_free(lc.items[i]);
    free(lc.items);
    hash_free(&lc.byname, NULL);
    strarray_fini(&patterns);
    buf_free(&ref);
    buf_free(&pat);
    buf_free(&line);
}

void
cmd_list(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    list_run(s, tag, t, 0);
}

void
cmd_xlist(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    list_run(s, tag, t, 1);
}

/* RLIST/RLSUB: LIST/LSUB that opt the session into referrals (RFC 2193
 * 4); on a backend nothing is remote, so the answers are LIST's/LSUB's. */
void
cmd_rlist(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    s->referrals = 1;
    list_run(s, tag, t, 0);
}

void
cmd_rlsub(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    s->referrals = 1;
    cmd_lsub(s, tag, t);
}
