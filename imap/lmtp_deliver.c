/* lmtp_deliver.c: LMTP recipient resolution and delivery
 * (lmtp_deliver.h). */
#include <string.h>
#include <time.h>

#include "acl.h"
#include "errors.h"
#include "lmtp_deliver.h"
#include "lmtp_proto.h"
#include "mailbox.h"
#include "mboxname.h"
#include "msgheader.h"
#include "util.h"
#include "xmalloc.h"

struct lmtp_target {
    char *mboxname;
    struct mboxlist_entry *entry;
    int ignorequota;
};

const char *
lmtp_target_mailbox(const struct lmtp_target *t)
{
    return t->mboxname;
}

const char *
lmtp_target_server(const struct lmtp_target *t)
{
    return t->entry ? t->entry->server : NULL;
}

void
lmtp_target_free(struct lmtp_target **tp)
{
    struct lmtp_target *t = *tp;

    if (t == NULL)
        return;
    *tp = NULL;
    free(t->mboxname);
    mboxlist_entry_free(&t->entry);
    free(t);
}

int
lmtp_deliver_mailbox_path(const struct config *cfg,
                          const struct mboxlist_entry *e, struct buf *path_r)
{
    const char *dir;

    if (e->partition == NULL || e->uniqueid == NULL || strlen(e->uniqueid) < 2)
        return ERR_IO;
    dir = config_partition_dir(cfg, e->partition);
    if (dir == NULL)
        return ERR_IO;
    buf_reset(path_r);
    buf_printf(path_r, "%s/uuid/%c/%c/%s", dir, e->uniqueid[0], e->uniqueid[1],
               e->uniqueid);
    return 0;
}

/* A usable local mailbox, or why not. */
static int
lookup_local(const struct lmtp_deliver_env *env, const char *name,
             struct mboxlist_entry **e_r)
{
    int r = mboxlist_lookup(env->ml, name, e_r, NULL);

    if (r < 0)
        return r;
    if ((*e_r)->mbtype & (MBTYPE_MOVING | MBTYPE_RESERVE)) {
        mboxlist_entry_free(e_r);
        return ERR_MOVED;
    }
    if ((*e_r)->mbtype & (MBTYPE_DELETED | MBTYPE_INTERMEDIATE)) {
        mboxlist_entry_free(e_r);
        return ERR_NOMAILBOX;
    }
    if (((*e_r)->mbtype & MBTYPE_REMOTE) && !env->proxy) {
        /* a backend does not proxy: the frontend sends mail elsewhere */
        mboxlist_entry_free(e_r);
        return ERR_MOVED;
    }
    return 0;
}

/* Cyrus: posting to a folder other than INBOX needs the `p` right of the
 * (anonymous) sender. */
static int
anonymous_may_post(const struct mboxlist_entry *e)
{
    uint32_t rights = 0;
    const char *err;

    if (e->acl == NULL)
        return 0;
    if (acl_string_myrights(e->acl, strlen(e->acl), ACL_DELETERIGHT_DEFAULT,
                            "anonymous", NULL, &rights, &err)
        < 0)
        return 0;
    return (rights & ACL_POST) != 0;
}

/* The internal name below base for a recipient detail: both '.' and '/'
 * separate levels (MTAs pass "alice+Sub/Folder" or "alice+Sub.Folder"
 * whatever the namespace). NULL for an empty level. */
static char *
detail_mailbox(const char *base, const char *detail)
{
    struct buf name = BUF_INITIALIZER;
    const char *p;
    char prev = '.';

    if (base != NULL) {
        buf_appendcstr(&name, base);
        buf_putc(&name, '.');
    }
    for (p = detail; *p; p++) {
        char c = (*p == '/') ? '.' : *p;

        if (c == '.' && prev == '.')
            break;
        buf_putc(&name, c);
        prev = c;
    }
    if (*p || prev == '.' || buf_len(&name) > MBOXNAME_MAX_LEN) {
        buf_free(&name);
        return NULL;
    }
    return buf_release(&name);
}

static int
resolve_shared(const struct lmtp_deliver_env *env, struct lmtp_rcpt *r,
               struct lmtp_target *t, const char **error_r)
{
    char *intname = detail_mailbox(NULL, buf_cstring(&r->detail));
    int err;

    if (intname == NULL) {
        *error_r = "bad shared folder name";
        return ERR_NOMAILBOX;
    }
    err = lookup_local(env, intname, &t->entry);
    if (err < 0) {
        free(intname);
        *error_r = "no such shared folder";
        return err;
    }
    if (!anonymous_may_post(t->entry)) {
        free(intname);
        *error_r = "no post right on shared folder";
        return ERR_PERMISSION;
    }
    t->mboxname = intname;
    return 0;
}

static int
resolve_user(const struct lmtp_deliver_env *env, struct lmtp_rcpt *r,
             struct lmtp_target *t, const char **error_r)
{
    struct buf userid = BUF_INITIALIZER;
    char *inbox;
    int err;

    buf_appendbuf(&userid, &r->user);
    if (namespace_virtdomains(env->ns) && buf_len(&r->domain) > 0) {
        buf_putc(&userid, '@');
        buf_appendbuf(&userid, &r->domain);
    }
    inbox = mboxname_user_inbox(env->ns, buf_cstring(&userid));
    if (inbox == NULL) {
        buf_free(&userid);
        *error_r = "invalid user name";
        return ERR_NOUSER;
    }
    err = lookup_local(env, inbox, &t->entry);
    if (err == ERR_NOMAILBOX)
        err = ERR_NOUSER;
    if (err < 0) {
        *error_r = "no such user";
        goto done;
    }
    t->mboxname = inbox;
    inbox = NULL;
    if (r->has_detail && buf_len(&r->detail) > 0) {
        char *sub = detail_mailbox(t->mboxname, buf_cstring(&r->detail));
        struct mboxlist_entry *se = NULL;

        /* Cyrus: a folder that is missing or refuses posting silently
         * falls back to the INBOX */
        if (sub != NULL && lookup_local(env, sub, &se) == 0
            && anonymous_may_post(se)) {
            mboxlist_entry_free(&t->entry);
            t->entry = se;
            free(t->mboxname);
            t->mboxname = sub;
            sub = NULL;
        } else {
            mboxlist_entry_free(&se);
        }
        free(sub);
    }
done:
    free(inbox);
    buf_free(&userid);
    return err;
}

/* As Cyrus at RCPT time: refuse a mailbox whose quota root is already
 * full, so the MTA learns early. */
static int
rcpt_quota_check(const struct lmtp_deliver_env *env, const char *mboxname)
{
    static const int64_t one[QUOTA_NUMRESOURCES] = {1, 1};
    struct buf root = BUF_INITIALIZER;
    int err = 0;

    if (quota_findroot(env->qdb, mboxname, &root, NULL) == 0)
        err = quota_check(env->qdb, buf_cstring(&root), one, NULL, NULL);
    buf_free(&root);
    return err == ERR_QUOTA ? err : 0;
}

int
lmtp_target_resolve(const struct lmtp_deliver_env *env, const char *addr,
                    size_t len, int ignorequota, struct lmtp_target **t_r,
                    const char **error_r)
{
    struct lmtp_rcpt r;
    struct lmtp_target *t;
    const char *postuser = config_str(env->cfg, CFG_POSTUSER);
    unsigned flags = 0;
    int err;

    if (config_switch(env->cfg, CFG_LMTP_DOWNCASE_RCPT))
        flags |= LMTP_RCPT_DOWNCASE;
    if (config_switch(env->cfg, CFG_LMTP_STRICT_RFC2821))
        flags |= LMTP_RCPT_STRICT;
    lmtp_rcpt_init(&r);
    /* "+shared.x" alone is postuser's form with an empty postuser */
    if (len > 0 && addr[0] == '+' && postuser != NULL && postuser[0] == '\0') {
        buf_appendmap(&r.detail, addr + 1, len - 1);
        r.has_detail = 1;
        err = 0;
    } else {
        err = lmtp_rcpt_split(addr, len, flags, &r, error_r);
    }
    if (err < 0) {
        lmtp_rcpt_fini(&r);
        return err;
    }
    t = xzmalloc(sizeof(*t));
    t->ignorequota = ignorequota;
    if (postuser != NULL && r.has_detail
        && strcmp(buf_cstring(&r.user), postuser) == 0)
        err = resolve_shared(env, &r, t, error_r);
    else
        err = resolve_user(env, &r, t, error_r);
    lmtp_rcpt_fini(&r);
    if (err == 0 && !ignorequota && env->qdb != NULL)
        err = rcpt_quota_check(env, t->mboxname);
    if (err < 0) {
        if (err == ERR_QUOTA)
            *error_r = "over quota";
        lmtp_target_free(&t);
        return err;
    }
    *t_r = t;
    return 0;
}

/* Cyrus without lmtp_strict_quota refuses only a mailbox already at or
 * over its limit; the message itself may take it past the limit. */
static int
quota_flags(const struct lmtp_deliver_env *env, struct lmtp_target *t,
            struct mailbox *mb, unsigned *flags_r)
{
    static const int64_t one[QUOTA_NUMRESOURCES] = {1, 1};
    const char *root = mailbox_quotaroot(mb);
    int err;

    *flags_r = 0;
    if (t->ignorequota || env->qdb == NULL || root == NULL || !*root) {
        *flags_r = APPEND_IGNORE_QUOTA;
        return 0;
    }
    if (config_switch(env->cfg, CFG_LMTP_STRICT_QUOTA))
        return 0;
    err = quota_check(env->qdb, root, one, NULL, NULL);
    if (err == 0)
        *flags_r = APPEND_IGNORE_QUOTA;
    return err;
}

int
lmtp_target_deliver(const struct lmtp_deliver_env *env, struct lmtp_target *t,
                    const struct append_stage *st, int *dup_r)
{
    struct buf path = BUF_INITIALIZER, msgid = BUF_INITIALIZER;
    struct buf date = BUF_INITIALIZER;
    struct duplicate_key key;
    struct append_meta meta = {0};
    struct mailbox *mb = NULL;
    const char *data;
    size_t len;
    unsigned flags;
    uint32_t uid = 0;
    int err, dupcheck = 0;

    if (dup_r)
        *dup_r = 0;
    err = lmtp_deliver_mailbox_path(env->cfg, t->entry, &path);
    if (err == 0)
        err = mailbox_open(buf_cstring(&path), &mb);
    if (err < 0)
        goto done;
    data = append_stage_data(st, &len);
    if (env->ddb != NULL && config_switch(env->cfg, CFG_DUPLICATESUPPRESSION)
        && msgheader_message_id(data, len, &msgid) == 0) {
        msgheader_get_first(data, len, "Date", &date);
        key.id = buf_cstring(&msgid);
        key.to = mailbox_uniqueid(mb);
        key.date = buf_cstring(&date);
        dupcheck = 1;
        if (duplicate_check(env->ddb, &key, NULL, NULL, NULL) == 1) {
            if (dup_r)
                *dup_r = 1;
            goto done;
        }
    }
    err = quota_flags(env, t, mb, &flags);
    if (err == 0)
        err = append_one(mb, env->qdb, flags, st, &meta, &uid);
    if (err == 0 && dupcheck) {
        /* after the commit: a crash in between delivers twice at worst,
         * never loses the message */
        duplicate_mark(env->ddb, &key, time(NULL), uid, NULL);
    }
done:
    /* The recipient resolved at RCPT time; a mailbox that vanished since
     * was moved away (XFER renames the spool aside) or deleted meanwhile.
     * A 550 would make the MTA bounce mail for a user who exists on
     * another backend: answer 451 so it retries and the next RCPT finds
     * where the mailbox is now (or that it is really gone). */
    if (err == ERR_NOMAILBOX)
        err = ERR_MOVED;
    mailbox_close(&mb);
    buf_free(&path);
    buf_free(&msgid);
    buf_free(&date);
    return err;
}
