/* mboxops.c: creating, deleting and renaming mailboxes on a backend. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <uuid/uuid.h>

#include "acl.h"
#include "config.h"
#include "dbtxn.h"
#include "errors.h"
#include "log.h"
#include "mailbox.h"
#include "mboxname.h"
#include "mboxops.h"
#include "namespace.h"
#include "quota.h"
#include "strarray.h"
#include "subs.h"
#include "util.h"
#include "xmalloc.h"

static char
deleteright(void)
{
    const char *d = config_str(config, CFG_DELETERIGHT);

    return d && *d ? d[0] : ACL_DELETERIGHT_DEFAULT;
}

uint32_t
mboxops_rights(const struct mboxops *ops, const struct mboxops_who *who,
               const struct mboxlist_entry *entry)
{
    const char *owner_str = config_str(config, CFG_IMPLICIT_OWNER_RIGHTS);
    const char *err = NULL;
    uint32_t rights = 0, owner_rights = 0;
    int owner;

    if (who->userid == NULL)
        return ACL_ALL;
    /* delayed-deleted mailboxes are the admins' (Cyrus: allowdeleted) */
    if (!who->isadmin && !config_switch(config, CFG_ALLOWDELETED)
        && mboxname_is_deleted(ops->ns, entry->name, NULL, NULL))
        return 0;
    if (entry->acl)
        acl_string_myrights(entry->acl, strlen(entry->acl), deleteright(),
                            who->userid, NULL, &rights, &err);
    if (owner_str)
        acl_rights_parse(owner_str, strlen(owner_str), deleteright(),
                         &owner_rights, &err);
    owner = mboxname_is_owner(ops->ns, entry->name, who->userid);
    return acl_apply_implicit(rights, owner, owner_rights, who->isadmin);
}

int
mboxops_path(const struct mboxops *ops, const struct mboxlist_entry *e,
             struct buf *path_r)
{
    const char *dir;

    (void)ops;
    if (e->partition == NULL || e->uniqueid == NULL
        || strlen(e->uniqueid) < 2)
        return ERR_IO;
    dir = config_partition_dir(config, e->partition);
    if (dir == NULL)
        return ERR_IO;
    buf_reset(path_r);
    /* uuid layout as Cyrus 3.x: renames never move files */
    buf_printf(path_r, "%s/uuid/%c/%c/%s", dir, e->uniqueid[0],
               e->uniqueid[1], e->uniqueid);
    return 0;
}

static void
location(const struct mboxops *ops, const struct mboxlist_entry *e,
         struct buf *out)
{
    buf_reset(out);
    buf_printf(out, "%s!%s", ops->servername, e->partition ? e->partition : "");
}

/* The nearest existing ancestor of name, or NULL. */
static struct mboxlist_entry *
find_parent(const struct mboxops *ops, const char *name)
{
    char *p = mboxname_parent(name);

    while (p) {
        struct mboxlist_entry *e = NULL;
        char *next;

        if (mboxlist_lookup(ops->ml, p, &e, NULL) == 0
            && !(e->mbtype & (MBTYPE_RESERVE | MBTYPE_DELETED))) {
            free(p);
            return e;
        }
        mboxlist_entry_free(&e);
        next = mboxname_parent(p);
        free(p);
        p = next;
    }
    return NULL;
}

static const char *
choose_partition(void)
{
    const char *def = config_str(config, CFG_DEFAULTPARTITION);
    struct strarray keys = STRARRAY_INITIALIZER;
    static char first[256];

    if (def && *def)
        return def;
    config_overflow_keys(config, "partition-", &keys);
    first[0] = '\0';
    if (keys.count > 0)
        snprintf(first, sizeof(first), "%s",
                 keys.data[0] + strlen("partition-"));
    strarray_fini(&keys);
    return first[0] ? first : NULL;
}

/* "anyone lrs admin all" style (defaultacl) to a Cyrus ACL string. */
static char *
acl_from_pairs(const char *pairs)
{
    struct strarray *w = strarray_split(pairs ? pairs : "", " \t");
    struct buf out = BUF_INITIALIZER;
    size_t i;

    for (i = 0; i + 1 < w->count; i += 2)
        buf_printf(&out, "%s\t%s\t", w->data[i], w->data[i + 1]);
    strarray_free(&w);
    return buf_release(&out);
}

static void
new_uniqueid(char out[37])
{
    uuid_t u;

    uuid_generate(u);
    uuid_unparse_lower(u, out);
}

int
mboxops_create(const struct mboxops *ops, const struct mboxops_who *who,
               const char *intname, const char *partition,
               const char *specialuse, struct mboxlist_entry **entry_r,
               const char **error_r)
{
    struct mboxlist_entry *existing = NULL, *parent = NULL, *e = NULL;
    struct buf path = BUF_INITIALIZER, loc = BUF_INITIALIZER;
    struct buf qroot = BUF_INITIALIZER;
    char uniqueid[37];
    int r, reserved = 0, created = 0, have_root = 0;

    *error_r = NULL;
    if (mboxname_policycheck(ops->ns, intname, error_r) < 0)
        return ERR_BADNAME;
    if (mboxlist_lookup(ops->ml, intname, &existing, NULL) == 0) {
        mboxlist_entry_free(&existing);
        return ERR_EXISTS;
    }
    parent = find_parent(ops, intname);
    if (who->userid && !who->isadmin) {
        if (mboxname_is_inbox(intname) || parent == NULL) {
            r = ERR_PERMISSION;
            goto done;
        }
        if (parent->server
            || !(mboxops_rights(ops, who, parent) & ACL_CREATE)) {
            r = ERR_PERMISSION;
            goto done;
        }
    }
    if (partition == NULL && parent && parent->partition && !parent->server)
        partition = parent->partition;
    if (partition == NULL)
        partition = choose_partition();
    if (partition == NULL || config_partition_dir(config, partition) == NULL) {
        *error_r = "Invalid partition";
        r = ERR_INVALID;
        goto done;
    }
    e = mboxlist_entry_new(intname);
    e->partition = xstrdup(partition);
    if (parent && parent->acl) {
        e->acl = xstrdup(parent->acl);
    } else if (mboxname_is_inbox(intname)) {
        char *owner = mboxname_to_userid(intname);
        struct buf a = BUF_INITIALIZER;

        buf_printf(&a, "%s\tlrswipkxtecdan\t", owner);
        e->acl = buf_release(&a);
        free(owner);
    } else {
        e->acl = acl_from_pairs(config_str(config, CFG_DEFAULTACL));
    }
    new_uniqueid(uniqueid);
    e->uniqueid = xstrdup(uniqueid);
    e->uidvalidity = (uint32_t)time(NULL);
    e->specialuse = xstrdupnull(specialuse);
    e->mtime = time(NULL);
    e->createdmodseq = 1;
    location(ops, e, &loc);
    /* MURDER.md §3: reserve the name before touching disk */
    if (ops->murder && ops->murder->reserve) {
        r = ops->murder->reserve(ops->murder->ctx, intname,
                                 buf_cstring(&loc));
        if (r)
            goto done;
        reserved = 1;
    }
    r = mboxops_path(ops, e, &path);
    if (r == 0 && ops->qdb) {
        /* the new mailbox is charged to the root governing its name */
        if (quota_findroot(ops->qdb, intname, &qroot, NULL) == 0)
            have_root = 1;
    }
    if (r == 0)
        r = mailbox_create(buf_cstring(&path), e->uniqueid,
                           have_root ? buf_cstring(&qroot) : NULL,
                           e->uidvalidity, 1);
    if (r)
        goto done;
    created = 1;
    r = mboxlist_store(ops->ml, e, NULL);
    if (r)
        goto done;
    if (ops->murder && ops->murder->activate) {
        r = ops->murder->activate(ops->murder->ctx, intname,
                                  buf_cstring(&loc), e->acl);
        if (r) {
            mboxlist_remove(ops->ml, intname, NULL);
            goto done;
        }
    }
    if (entry_r) {
        *entry_r = e;
        e = NULL;
    }
done:
    if (r) {
        if (created)
            mailbox_destroy(buf_cstring(&path));
        if (reserved && ops->murder->remove)
            ops->murder->remove(ops->murder->ctx, intname);
        if (*error_r == NULL)
            *error_r = error_text(r);
    }
    mboxlist_entry_free(&parent);
    mboxlist_entry_free(&e);
    buf_free(&path);
    buf_free(&loc);
    buf_free(&qroot);
    return r;
}

static int quota_move_one(const struct mboxops *ops,
                          const struct mboxlist_entry *e, const char *want);

/* A deleted mailbox that was a quota root takes the root with it (as
 * Cyrus: a mailbox or user made again later does not inherit the old
 * limit). Best effort: the delete itself is done. */
static void
drop_own_root(const struct mboxops *ops, const char *name)
{
    int r;

    if (ops->qdb == NULL)
        return;
    r = quota_remove(ops->qdb, name, NULL);
    if (r && r != ERR_NOTFOUND)
        log_msg(LOG_ERR, "delete %s: removing its quota root: %s", name,
                error_text(r));
}

/* Remove one local mailbox: master first, then db, then spool. */
static int
delete_one(const struct mboxops *ops, const struct mboxlist_entry *e)
{
    struct buf path = BUF_INITIALIZER;
    int r;

    if (ops->murder && ops->murder->remove) {
        r = ops->murder->remove(ops->murder->ctx, e->name);
        if (r && r != ERR_NOMAILBOX)
            return r;
    }
    r = mboxlist_remove(ops->ml, e->name, NULL);
    if (r)
        return r;
    /* its messages stop counting against its quota root */
    if (ops->qdb && quota_move_one(ops, e, NULL) != 0)
        log_msg(LOG_ERR, "delete %s: uncharging its quota root failed",
                e->name);
    drop_own_root(ops, e->name);
    if (mboxops_path(ops, e, &path) == 0)
        mailbox_destroy(buf_cstring(&path));
    buf_free(&path);
    if (ops->subs) {
        char *owner = mboxname_to_userid(e->name);

        /* best effort: the mailbox is gone either way */
        if (owner)
            subs_remove(ops->subs, owner, e->name, NULL);
        free(owner);
    }
    return 0;
}

/* In a murder, give the mailbox oldname the name newname at the master:
 * MURDER.md §4, the new name is reserved first (a name another server
 * holds stops the rename with the old one untouched), then activated,
 * then the old one dropped. */
static int
rename_at_master(const struct mboxops *ops, const char *oldname,
                 const char *newname)
{
    struct mboxlist_entry *e = NULL;
    struct buf loc = BUF_INITIALIZER;
    int r;

    if (ops->murder == NULL)
        return 0;
    r = mboxlist_lookup(ops->ml, oldname, &e, NULL);
    if (r)
        return r;
    free(e->name);
    e->name = xstrdup(newname);
    location(ops, e, &loc);
    r = ops->murder->reserve(ops->murder->ctx, e->name, buf_cstring(&loc));
    if (r == 0) {
        r = ops->murder->activate(ops->murder->ctx, e->name,
                                  buf_cstring(&loc), e->acl);
        if (r)
            ops->murder->remove(ops->murder->ctx, e->name);
    }
    if (r == 0) {
        r = ops->murder->remove(ops->murder->ctx, oldname);
        if (r == ERR_NOMAILBOX)
            r = 0;
    }
    mboxlist_entry_free(&e);
    buf_free(&loc);
    return r;
}

/* The renames of one operation in mailboxes.db, as one transaction. */
struct rename_db {
    const struct mboxops *ops;
    const struct strarray *from, *to;
};

static int
rename_db_cb(void *ctx, struct cyrusdb_txn **tid)
{
    const struct rename_db *rd = ctx;
    struct mboxlist *ml = rd->ops->ml;
    size_t i;
    int r = 0;

    for (i = 0; i < rd->from->count && r == 0; i++) {
        struct mboxlist_entry *e = NULL;

        r = mboxlist_lookup(ml, rd->from->data[i], &e, tid);
        if (r == 0) {
            free(e->name);
            e->name = xstrdup(rd->to->data[i]);
            r = mboxlist_remove(ml, rd->from->data[i], tid);
        }
        if (r == 0) {
            e->mtime = time(NULL);
            r = mboxlist_store(ml, e, tid);
        }
        mboxlist_entry_free(&e);
    }
    return r;
}

/* Rename from[i] to to[i] in mailboxes.db, all or nothing, retried when
 * Berkeley DB picks this transaction as a deadlock's loser (concurrent
 * CREATEs, DELETEs and RENAMEs write the same table). */
static int
rename_in_db(const struct mboxops *ops, const struct strarray *from,
             const struct strarray *to)
{
    struct rename_db rd = {ops, from, to};

    return dbtxn_run(mboxlist_db(ops->ml), NULL, rename_db_cb, &rd);
}

/* delete_mode: delayed (Cyrus's default) */
static int
delete_mode_delayed(void)
{
    const char *m = config_enum(config, CFG_DELETE_MODE);

    return m == NULL || strcasecmp(m, "immediate") != 0;
}

/* delete_mode: delayed: rename one local mailbox to its deleted name,
 * [domain!]<deletedprefix>.<name>.<hex time> (at the master too), which
 * only admins see (mboxops_rights()) and `cyr_expire -D` removes for
 * good; an admin can rename it back. The owner's subscription goes, as
 * with an immediate delete, and its usage leaves the quota root. */
static int
delete_later(const struct mboxops *ops, const struct mboxlist_entry *e,
             time_t when)
{
    struct strarray from = STRARRAY_INITIALIZER, to = STRARRAY_INITIALIZER;
    char *newname = mboxname_to_deleted(ops->ns, e->name, when);
    struct mboxlist_entry *clash = NULL;
    int r;

    /* the same name deleted twice within a second: one second later */
    while (mboxlist_lookup(ops->ml, newname, &clash, NULL) == 0) {
        mboxlist_entry_free(&clash);
        free(newname);
        newname = mboxname_to_deleted(ops->ns, e->name, ++when);
    }
    strarray_append(&from, e->name);
    strarray_append(&to, newname);
    r = rename_at_master(ops, e->name, newname);
    if (r == 0)
        r = rename_in_db(ops, &from, &to);
    strarray_fini(&from);
    strarray_fini(&to);
    if (r == 0) {
        char *owner = mboxname_to_userid(e->name);

        /* best effort, as in delete_one() */
        if (ops->subs && owner)
            subs_remove(ops->subs, owner, e->name, NULL);
        free(owner);
        if (mboxops_quota_sync(ops, newname))
            log_msg(LOG_ERR, "delete %s: leaving its quota root failed",
                    e->name);
        drop_own_root(ops, e->name);
        log_msg(LOG_INFO, "delete %s: kept as %s (delete_mode: delayed)",
                e->name, newname);
    }
    free(newname);
    return r;
}

static int
collect_cb(void *ctx, const struct mboxlist_entry *e)
{
    struct strarray *names = ctx;

    strarray_append(names, e->name);
    return 0;
}

int
mboxops_delete(const struct mboxops *ops, const struct mboxops_who *who,
               const char *intname, const char **error_r)
{
    struct mboxlist_entry *e = NULL;
    time_t when = time(NULL);
    int delayed, r;

    *error_r = NULL;
    r = mboxlist_lookup(ops->ml, intname, &e, NULL);
    if (r)
        return r;
    if (e->server) {
        r = ERR_NOMAILBOX;
        goto done;
    }
    if (who->userid && !who->isadmin) {
        /* a user INBOX is deleted by admins only */
        if (mboxname_is_inbox(intname)
            || !(mboxops_rights(ops, who, e) & ACL_DELETEMBOX)) {
            r = ERR_PERMISSION;
            goto done;
        }
    }
    delayed = !ops->immediate_delete && delete_mode_delayed()
              && !mboxname_is_deleted(ops->ns, intname, NULL, NULL);
    if (mboxname_is_inbox(intname)) {
        struct strarray kids = STRARRAY_INITIALIZER;
        struct buf prefix = BUF_INITIALIZER;
        size_t i;

        buf_printf(&prefix, "%s.", intname);
        mboxlist_foreach(ops->ml, buf_cstring(&prefix), collect_cb, &kids,
                         NULL);
        /* children first, deepest first, so a crash never orphans one */
        for (i = kids.count; i > 0 && r == 0; i--) {
            struct mboxlist_entry *k = NULL;

            if (mboxlist_lookup(ops->ml, kids.data[i - 1], &k, NULL) != 0)
                continue;
            if (k->server == NULL)
                r = delayed ? delete_later(ops, k, when) : delete_one(ops, k);
            mboxlist_entry_free(&k);
        }
        strarray_fini(&kids);
        buf_free(&prefix);
        if (r)
            goto done;
    }
    r = delayed ? delete_later(ops, e, when) : delete_one(ops, e);
done:
    if (r && *error_r == NULL)
        *error_r = error_text(r);
    mboxlist_entry_free(&e);
    return r;
}

/* After a committed rename: the owner's subscriptions follow the
 * mailboxes (STORAGE.md §5), and the renamed mailboxes are charged to the
 * quota root of their new names. Failures are logged, not returned: the
 * rename itself is done. */
static void
rename_followups(const struct mboxops *ops, const char *oldname,
                 const char *newname)
{
    char *owner = mboxname_to_userid(oldname);
    int r;

    if (ops->subs && owner) {
        r = subs_rename(ops->subs, owner, oldname, newname, NULL, NULL);
        if (r)
            log_msg(LOG_ERR, "rename %s: moving subscriptions: %s", oldname,
                    error_text(r));
    }
    free(owner);
    r = mboxops_quota_sync(ops, newname);
    if (r)
        log_msg(LOG_ERR, "rename %s: quota roots: %s", newname,
                error_text(r));
}

int
mboxops_rename(const struct mboxops *ops, const struct mboxops_who *who,
               const char *oldname, const char *newname,
               const char *newpartition, const char **error_r)
{
    struct mboxlist_entry *old = NULL, *existing = NULL, *newparent = NULL;
    struct strarray names = STRARRAY_INITIALIZER;
    struct strarray newnames = STRARRAY_INITIALIZER;
    struct buf prefix = BUF_INITIALIZER;
    size_t oldlen = strlen(oldname), i;
    int r;

    *error_r = NULL;
    r = mboxlist_lookup(ops->ml, oldname, &old, NULL);
    if (r)
        goto done;
    if (old->server) {
        r = ERR_NOMAILBOX;
        goto done;
    }
    if (mboxname_policycheck(ops->ns, newname, error_r) < 0) {
        r = ERR_BADNAME;
        goto done;
    }
    if (mboxlist_lookup(ops->ml, newname, &existing, NULL) == 0) {
        r = ERR_EXISTS;
        goto done;
    }
    if (newpartition && strcmp(newpartition, old->partition) != 0) {
        *error_r = "Cross-partition move is not supported";
        r = ERR_NOTSUPPORTED;
        goto done;
    }
    newparent = find_parent(ops, newname);
    if (who->userid && !who->isadmin) {
        if (mboxname_is_inbox(oldname) || mboxname_is_inbox(newname)
            || !(mboxops_rights(ops, who, old) & ACL_DELETEMBOX)
            || newparent == NULL
            || !(mboxops_rights(ops, who, newparent) & ACL_CREATE)) {
            r = ERR_PERMISSION;
            goto done;
        }
    }
    /* an admin restoring a deleted INBOX (DELETED.user.x.<hex>) may */
    if (mboxname_is_inbox(oldname) != mboxname_is_inbox(newname)
        && !(who->isadmin
             && mboxname_is_deleted(ops->ns, oldname, NULL, NULL))) {
        *error_r = "Operation is not supported on mailbox";
        r = ERR_NOTSUPPORTED;
        goto done;
    }
    /* RFC 3501 6.3.5: inferiors are renamed too */
    strarray_append(&names, oldname);
    buf_printf(&prefix, "%s.", oldname);
    mboxlist_foreach(ops->ml, buf_cstring(&prefix), collect_cb, &names, NULL);
    for (i = 0; i < names.count && r == 0; i++) {
        struct buf nn = BUF_INITIALIZER;

        buf_printf(&nn, "%s%s", newname, names.data[i] + oldlen);
        strarray_append(&newnames, buf_cstring(&nn));
        r = rename_at_master(ops, names.data[i], buf_cstring(&nn));
        buf_free(&nn);
    }
    if (r == 0)
        r = rename_in_db(ops, &names, &newnames);
    if (r == 0)
        rename_followups(ops, oldname, newname);
done:
    if (r && *error_r == NULL)
        *error_r = error_text(r);
    mboxlist_entry_free(&old);
    mboxlist_entry_free(&existing);
    mboxlist_entry_free(&newparent);
    strarray_fini(&names);
    strarray_fini(&newnames);
    buf_free(&prefix);
    return r;
}

int
mboxops_setacl(const struct mboxops *ops, const char *intname,
               const char *newacl, const char **error_r)
{
    struct mboxlist_entry *e = NULL;
    struct buf loc = BUF_INITIALIZER;
    int r;

    *error_r = NULL;
    r = mboxlist_lookup(ops->ml, intname, &e, NULL);
    if (r)
        return r;
    free(e->acl);
    e->acl = xstrdup(newacl);
    e->foldermodseq++;
    r = mboxlist_store(ops->ml, e, NULL);
    if (r == 0 && ops->murder && ops->murder->activate) {
        location(ops, e, &loc);
        r = ops->murder->activate(ops->murder->ctx, intname,
                                  buf_cstring(&loc), e->acl);
        if (r)
            *error_r = "ACL changed locally but not on the mupdate server";
    }
    if (r && *error_r == NULL)
        *error_r = error_text(r);
    mboxlist_entry_free(&e);
    buf_free(&loc);
    return r;
}

/* Point one local mailbox at want (NULL: none), moving its usage. The
 * new root is charged before the header changes and the old one refunded
 * after, so a crash over-counts (quota.h). */
static int
quota_move_one(const struct mboxops *ops, const struct mboxlist_entry *e,
               const char *want)
{
    struct buf path = BUF_INITIALIZER;
    struct mailbox *mb = NULL;
    int64_t delta[QUOTA_NUMRESOURCES];
    char *old = NULL;
    int r;

    r = mboxops_path(ops, e, &path);
    if (r == 0)
        r = mailbox_open(buf_cstring(&path), &mb);
    if (r == 0)
        r = mailbox_lock(mb, MAILBOX_EXCLUSIVE);
    if (r)
        goto done;
    old = xstrdupnull(mailbox_quotaroot(mb));
    if ((old == NULL && want == NULL)
        || (old && want && strcmp(old, want) == 0)) {
        mailbox_unlock(mb);
        goto done;
    }
    delta[QUOTA_STORAGE] = (int64_t)mailbox_counts(mb)->quota_used;
    delta[QUOTA_MESSAGE] = (int64_t)mailbox_counts(mb)->exists;
    if (want)
        r = quota_charge(ops->qdb, want, delta, 0, NULL);
    if (r == 0)
        r = mailbox_set_quotaroot(mb, want);
    mailbox_unlock(mb);
    if (r == 0 && old) {
        delta[QUOTA_STORAGE] = -delta[QUOTA_STORAGE];
        delta[QUOTA_MESSAGE] = -delta[QUOTA_MESSAGE];
        r = quota_charge(ops->qdb, old, delta, 0, NULL);
    }
done:
    mailbox_close(&mb);
    free(old);
    buf_free(&path);
    return r;
}

int
mboxops_quota_sync(const struct mboxops *ops, const char *intname)
{
    struct strarray names = STRARRAY_INITIALIZER;
    struct buf prefix = BUF_INITIALIZER, root = BUF_INITIALIZER;
    size_t i;
    int r = 0;

    if (ops->qdb == NULL)
        return 0;
    strarray_append(&names, intname);
    buf_printf(&prefix, "%s.", intname);
    mboxlist_foreach(ops->ml, buf_cstring(&prefix), collect_cb, &names, NULL);
    for (i = 0; i < names.count && r == 0; i++) {
        struct mboxlist_entry *e = NULL;
        int have;

        if (mboxlist_lookup(ops->ml, names.data[i], &e, NULL) != 0)
            continue;
        if (e->server || (e->mbtype & (MBTYPE_RESERVE | MBTYPE_DELETED))) {
            mboxlist_entry_free(&e);
            continue;
        }
        r = quota_findroot(ops->qdb, e->name, &root, NULL);
        have = r == 0;
        if (r == ERR_NOTFOUND)
            r = 0;
        if (r == 0)
            r = quota_move_one(ops, e, have ? buf_cstring(&root) : NULL);
        mboxlist_entry_free(&e);
    }
    strarray_fini(&names);
    buf_free(&prefix);
    buf_free(&root);
    return r;
}
