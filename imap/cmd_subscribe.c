/* cmd_subscribe.c: SUBSCRIBE, UNSUBSCRIBE and LSUB (RFC 3501 6.3.6-6.3.9)
 * over subs.db. LIST (SUBSCRIBED) and RETURN (SUBSCRIBED) are in
 * cmd_list.c.
 *
 * SUBSCRIBE needs an existing mailbox the user may see (`l`) unless
 * `allowallsubscribe` is on: then any well-formed name is accepted (a
 * Murder backend keeps subscriptions to mailboxes on other backends,
 * MURDER.md §13). UNSUBSCRIBE never checks the mailbox, and an absent
 * subscription is not an error.
 *
 * LSUB flags as Cyrus 3.6 writes them: "\Noselect" for a subscribed name
 * that does not exist here (or is invisible to the user) and for an
 * unsubscribed parent reported because a `%` stops at it while a child is
 * subscribed (RFC 3501 6.3.9); "\HasChildren" for an existing mailbox with
 * visible children; otherwise "()" (never \HasNoChildren). Order: the
 * user's own mailboxes, other users', shared ones, each by name. */
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "config.h"
#include "errors.h"
#include "hash.h"
#include "imapd.h"
#include "mboxlist.h"
#include "mboxname.h"
#include "namespace.h"
#include "stream.h"
#include "strarray.h"
#include "subs.h"
#include "xmalloc.h"

static void
change_sub(struct imapd_session *s, const char *tag, struct imaptok *t,
           int add)
{
    struct buf name = BUF_INITIALIZER;
    char *intname = NULL;
    int r;

    if (imaptok_mailbox(t, &name) < 0 || imaptok_end(t) < 0) {
        imapd_bad(s, tag, add ? "Invalid arguments to Subscribe"
                              : "Invalid arguments to Unsubscribe");
        goto done;
    }
    if (add && !config_switch(config, CFG_ALLOWALLSUBSCRIBE)) {
        r = imapd_lookup(s, buf_cstring(&name), &intname, NULL);
    } else {
        r = mboxname_to_internal(s->proc->ns, s->userid, s->isadmin,
                                 buf_cstring(&name), &intname)
                ? ERR_BADNAME
                : 0;
    }
    if (r == 0 && add)
        r = subs_add(s->proc->subs, s->userid, intname, NULL);
    else if (r == 0) {
        r = subs_remove(s->proc->subs, s->userid, intname, NULL);
        if (r == ERR_NOTFOUND)
            r = 0;
    }
    if (r)
        imapd_error(s, tag, r);
    else
        imapd_ok(s, tag, NULL, "Completed");
done:
    free(intname);
    buf_free(&name);
}

void
cmd_subscribe(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    change_sub(s, tag, t, 1);
}

void
cmd_unsubscribe(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    change_sub(s, tag, t, 0);
}

struct lsub_item {
    char *intname;
    char *extname;
    int group; /* 0 own, 1 other users, 2 shared */
};

static int
lsub_cmp(const void *a, const void *b)
{
    const struct lsub_item *x = a, *y = b;

    if (x->group != y->group)
        return x->group - y->group;
    return strcmp(x->intname, y->intname);
}

struct child_ctx {
    struct imapd_session *s;
    int found;
};

static int
visible_child_cb(void *ctx, const struct mboxlist_entry *e)
{
    struct child_ctx *cc = ctx;

    if (e->mbtype & (MBTYPE_RESERVE | MBTYPE_DELETED))
        return 0;
    if (imapd_rights(cc->s, e) & ACL_LOOKUP) {
        cc->found = 1;
        return 1;
    }
    return 0;
}

/* The LSUB flags of a subscribed name. */
static const char *
lsub_flags(struct imapd_session *s, const char *intname)
{
    struct mboxlist_entry *e = NULL;
    struct child_ctx cc = {s, 0};
    struct buf prefix = BUF_INITIALIZER;
    int visible;

    visible = mboxlist_lookup(s->proc->mboxlist, intname, &e, NULL) == 0
              && !(e->mbtype & (MBTYPE_RESERVE | MBTYPE_DELETED))
              && (imapd_rights(s, e) & ACL_LOOKUP);
    mboxlist_entry_free(&e);
    if (!visible)
        return "\\Noselect";
    buf_printf(&prefix, "%s.", intname);
    mboxlist_foreach(s->proc->mboxlist, buf_cstring(&prefix),
                     visible_child_cb, &cc, NULL);
    buf_free(&prefix);
    return cc.found ? "\\HasChildren" : "";
}

static void
lsub_line(struct imapd_session *s, char sep, const char *flags,
          const char *extname, struct buf *out)
{
    buf_printf(out, "* LSUB (%s) \"%c\" ", flags, sep);
    imaptok_astring_out(out, extname, strlen(extname));
    buf_appendcstr(out, "\r\n");
    stream_write(s->s, buf_base(out), buf_len(out));
    buf_reset(out);
}

/* LSUB reference pattern */
void
cmd_lsub(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    struct buf ref = BUF_INITIALIZER, pat = BUF_INITIALIZER;
    struct buf line = BUF_INITIALIZER;
    struct strarray names = STRARRAY_INITIALIZER;
    struct namespace_pattern *np = NULL;
    struct lsub_item *items = NULL;
    struct hash *subscribed = NULL, *emitted = NULL;
    char sep = namespace_separator(s->proc->ns);
    size_t i, n = 0;
    int r;

    if (imaptok_mailbox(t, &ref) < 0 || imaptok_sp(t) < 0
        || imaptok_list_mailbox(t, &pat) < 0 || imaptok_end(t) < 0) {
        imapd_bad(s, tag, "Invalid arguments to Lsub");
        goto done;
    }
    if (buf_len(&pat) == 0) {
        /* as LIST "" "": only the hierarchy separator */
        buf_printf(&line, "* LSUB (\\Noselect) \"%c\" \"\"\r\n", sep);
        stream_write(s->s, buf_base(&line), buf_len(&line));
        imapd_ok(s, tag, NULL, "Completed");
        goto done;
    }
    r = subs_list(s->proc->subs, s->userid, &names, NULL);
    if (r == 0)
        r = namespace_pattern_new(s->proc->ns, buf_cstring(&ref),
                                  buf_cstring(&pat), &np);
    if (r) {
        imapd_error(s, tag, r);
        goto done;
    }
    items = xzmalloc((names.count + 1) * sizeof(*items));
    subscribed = hash_new(64);
    emitted = hash_new(64);
    for (i = 0; i < names.count; i++) {
        char *ext = imapd_extname(s, names.data[i]);

        if (ext == NULL)
            continue;
        items[n].intname = xstrdup(names.data[i]);
        items[n].extname = ext;
        if (mboxname_is_owner(s->proc->ns, names.data[i], s->userid))
            items[n].group = 0;
        else if (mboxname_is_user(names.data[i]))
            items[n].group = 1;
        else
            items[n].group = 2;
        hash_insert(subscribed, ext, items + n);
        n++;
    }
    if (n > 1)
        qsort(items, n, sizeof(*items), lsub_cmp);
    for (i = 0; i < n; i++) {
        const char *ext = items[i].extname;
        char *anc;
        char *p;

        if (namespace_pattern_match(np, ext)) {
            lsub_line(s, sep, lsub_flags(s, items[i].intname), ext, &line);
            continue;
        }
        /* RFC 3501 6.3.9: "%" stopping at an unsubscribed parent of a
         * subscribed name reports that parent as \Noselect */
        anc = xstrdup(ext);
        while ((p = strrchr(anc, sep)) != NULL) {
            *p = '\0';
            if (hash_lookup(subscribed, anc) || hash_lookup(emitted, anc))
                continue;
            if (namespace_pattern_match(np, anc)) {
                hash_insert(emitted, anc, items + i);
                lsub_line(s, sep, "\\Noselect", anc, &line);
            }
        }
        free(anc);
    }
    imapd_sync(s, 1);
    imapd_ok(s, tag, NULL, "Completed");
done:
    for (i = 0; i < n; i++) {
        free(items[i].intname);
        free(items[i].extname);
    }
    free(items);
    hash_free(&subscribed, NULL);
    hash_free(&emitted, NULL);
    namespace_pattern_free(&np);
    strarray_fini(&names);
    buf_free(&ref);
    buf_free(&pat);
    buf_free(&line);
}
