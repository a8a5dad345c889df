/* quota: report quota roots, and with -f recompute their usage.
 *
 *   quota [-C imapd.conf] [-f] [-q] [root...]
 *
 * The roots given are prefixes: "user.alice" covers user.alice and
 * user.alice.*; none given means every root. -f recounts usage from the
 * mailboxes themselves (the quota_used and exists counters of each local
 * mailbox's index), stores it in quotas.db (quota.h explains why usage
 * can drift: a crash between the charge and the mailbox commit) and puts
 * the right quota root in each mailbox header. Run it while the mailboxes
 * are quiet: mail delivered during the count may be missed until the next
 * run.
 *
 * Exit status: 0, 1 when a mailbox could not be read or a root could not
 * be fixed, 64 (EX_USAGE), 78 (EX_CONFIG), 74 (EX_IOERR). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "buf.h"
#include "config.h"
#include "cyrusdb.h"
#include "errors.h"
#include "log.h"
#include "mailbox.h"
#include "mboxlist.h"
#include "mboxops.h"
#include "quota.h"
#include "strarray.h"
#include "toolutil.h"
#include "xmalloc.h"

static const char usage_text[] =
    "usage: quota [-C imapd.conf] [-f] [-q] [root...]\n"
    "\n"
    "Report quota roots (limit, percentage used, usage), or with -f\n"
    "recompute their usage from the mailboxes and fix quotas.db. Each root\n"
    "argument is a prefix of the roots to handle (default: all).\n"
    "\n"
    "  -C FILE   read FILE instead of $CYRUS_CONF or /etc/imapd.conf\n"
    "  -f        fix: recount usage and store it\n"
    "  -q        quiet: with -f, do not report the changes made\n"
    "  -h, --help  show this text\n";

struct root_usage {
    char *root;
    struct quota q;
    int64_t used[QUOTA_NUMRESOURCES]; /* recounted */
};

struct quota_tool {
    struct mboxops ops;
    struct quota_db *qdb;
    const struct strarray *prefixes;
    struct root_usage *roots;
    size_t nroots, alloc;
    int quiet;
};

/* Whether name is one of the prefixes or below one (all when none). */
static int
selected(const struct strarray *prefixes, const char *name)
{
    size_t i, n;

    if (prefixes->count == 0)
        return 1;
    for (i = 0; i < prefixes->count; i++) {
        const char *p = strarray_nth(prefixes, i);

        n = strlen(p);
        if (strncmp(name, p, n) == 0 && (name[n] == '\0' || name[n] == '.'))
            return 1;
    }
    return 0;
}

static int
collect_root_cb(void *ctx, const char *root, const struct quota *q)
{
    struct quota_tool *t = ctx;

    if (!selected(t->prefixes, root))
        return 0;
    if (t->nroots == t->alloc) {
        t->alloc = t->alloc ? 2 * t->alloc : 16;
        t->roots = xreallocarray(t->roots, t->alloc, sizeof(*t->roots));
    }
    memset(&t->roots[t->nroots], 0, sizeof(t->roots[0]));
    t->roots[t->nroots].root = xstrdup(root);
    t->roots[t->nroots].q = *q;
    t->nroots++;
    return 0;
}

static struct root_usage *
find_root(struct quota_tool *t, const char *root)
{
    size_t i;

    for (i = 0; i < t->nroots; i++) {
        if (strcmp(t->roots[i].root, root) == 0)
            return &t->roots[i];
    }
    return NULL;
}

static void
report(const struct quota_tool *t)
{
    size_t i;
    int res;

    printf("   Quota   %% Used     Used Resource Root\n");
    for (i = 0; i < t->nroots; i++) {
        const struct quota *q = &t->roots[i].q;
        int shown = 0;

        for (res = 0; res < QUOTA_NUMRESOURCES; res++) {
            /* STORAGE is counted in bytes, limited and shown in KiB */
            int64_t used = res == QUOTA_STORAGE ? q->used[res] / 1024
                                                : q->used[res];
            int64_t limit = q->limit[res];

            if (limit == QUOTA_UNLIMITED && (res != QUOTA_STORAGE || shown))
                continue;
            if (limit == QUOTA_UNLIMITED && res == QUOTA_STORAGE) {
                int other = 0, k;

                for (k = 0; k < QUOTA_NUMRESOURCES; k++)
                    other |= q->limit[k] != QUOTA_UNLIMITED;
                if (other)
                    continue;
                printf("%17s", "");
            } else if (limit > 0) {
                printf(" %7" PRId64 " %8" PRId64, limit, used * 100 / limit);
            } else {
                printf(" %7" PRId64 " %8s", limit, "");
            }
            printf(" %8" PRId64 " %8s %s\n", used,
                   quota_resource_name((enum quota_resource)res),
                   t->roots[i].root);
            shown = 1;
        }
    }
}

static int
collect_mailbox_cb(void *ctx, const struct mboxlist_entry *e)
{
    struct strarray *names = ctx;

    if (e->mbtype & (MBTYPE_REMOTE | MBTYPE_DELETED | MBTYPE_RESERVE
                     | MBTYPE_INTERMEDIATE))
        return 0;
    strarray_append(names, e->name);
    return 0;
}

/* Add name's usage to its root (when selected) and point its header at
 * that root. 0 or 1 after a message. */
static int
count_mailbox(struct quota_tool *t, const char *name)
{
    struct buf root = BUF_INITIALIZER, path = BUF_INITIALIZER;
    struct mboxlist_entry *e = NULL;
    struct mailbox *mb = NULL;
    struct root_usage *ru;
    const struct mailbox_counts *counts;
    int r, failed = 0;

    r = quota_findroot(t->qdb, name, &root, NULL);
    if (r == ERR_NOTFOUND)
        buf_reset(&root);
    else if (r < 0)
        goto error;
    ru = buf_len(&root) ? find_root(t, buf_cstring(&root)) : NULL;
    if (ru == NULL && !selected(t->prefixes, name))
        goto done;
    r = mboxlist_lookup(t->ops.ml, name, &e, NULL);
    if (r == 0)
        r = mboxops_path(&t->ops, e, &path);
    if (r == 0)
        r = mailbox_open(buf_cstring(&path), &mb);
    if (r == 0)
        r = mailbox_lock(mb, MAILBOX_EXCLUSIVE);
    if (r < 0)
        goto error;
    counts = mailbox_counts(mb);
    if (ru) {
        ru->used[QUOTA_STORAGE] += (int64_t)counts->quota_used;
        ru->used[QUOTA_MESSAGE] += counts->exists;
    }
    if (strcmp(mailbox_quotaroot(mb) ? mailbox_quotaroot(mb) : "",
               buf_cstring(&root))
        != 0) {
        if (!t->quiet)
            printf("%s: quota root %s --> %s\n", name,
                   mailbox_quotaroot(mb) ? mailbox_quotaroot(mb) : "(none)",
                   buf_len(&root) ? buf_cstring(&root) : "(none)");
        r = mailbox_set_quotaroot(mb, buf_len(&root) ? buf_cstring(&root)
                                                     : NULL);
        if (r == 0)
            r = mailbox_commit(mb);
        if (r < 0)
            goto error;
    }
    goto done;
error:
    fprintf(stderr, "quota: %s: %s\n", name, error_text(r));
    failed = 1;
done:
    if (mb)
        mailbox_unlock(mb);
    mailbox_close(&mb);
    mboxlist_entry_free(&e);
    buf_free(&root);
    buf_free(&path);
    return failed;
}

static int
fix(struct quota_tool *t)
{
    struct strarray names = {0};
    size_t i;
    int res, r, failed = 0;

    r = mboxlist_foreach(t->ops.ml, "", collect_mailbox_cb, &names, NULL);
    if (r < 0) {
        fprintf(stderr, "quota: reading mailboxes.db: %s\n", error_text(r));
        strarray_fini(&names);
        return 1;
    }
    for (i = 0; i < names.count; i++)
        failed |= count_mailbox(t, strarray_nth(&names, i));
    strarray_fini(&names);
    for (i = 0; i < t->nroots; i++) {
        struct root_usage *ru = &t->roots[i];
        int changed = 0;

        for (res = 0; res < QUOTA_NUMRESOURCES; res++) {
            if (ru->used[res] == ru->q.used[res])
                continue;
            changed = 1;
            if (!t->quiet)
                printf("%s: %s usage was %" PRId64 ", now %" PRId64 "\n",
                       ru->root, quota_resource_name((enum quota_resource)res),
                       ru->q.used[res], ru->used[res]);
        }
        if (!changed)
            continue;
        r = quota_set_usage(t->qdb, ru->root, ru->used, NULL);
        if (r < 0) {
            fprintf(stderr, "quota: %s: cannot store usage: %s\n", ru->root,
                    error_text(r));
            failed = 1;
            continue;
        }
        memcpy(ru->q.used, ru->used, sizeof(ru->used));
    }
    return failed;
}

int
main(int argc, char **argv)
{
    struct toolutil tu;
    struct cyrusdb_env *env = NULL;
    struct quota_tool t;
    struct strarray prefixes = {0};
    struct buf envdir = BUF_INITIALIZER;
    char *error = NULL;
    int opt, dofix = 0, r = 0, i;
    size_t k;

    memset(&t, 0, sizeof(t));
    toolutil_init(&tu, "quota", usage_text);
    while ((opt = toolutil_getopt(&tu, argc, argv, "C:fqh", NULL)) != -1) {
        if (opt == 'f')
            dofix = 1;
        else if (opt == 'q')
            t.quiet = 1;
    }
    r = toolutil_config_load(&tu);
    if (r)
        return r;
    for (i = optind; i < argc; i++)
        strarray_append(&prefixes, argv[i]);
    t.prefixes = &prefixes;
    toolutil_envdir(&envdir);
    env = cyrusdb_env_open(buf_cstring(&envdir), 0, &error);
    if (env == NULL || mboxlist_open(env, "mailboxes.db", &t.ops.ml) < 0
        || quota_db_open(env, "quotas.db", &t.qdb) < 0) {
        fprintf(stderr, "quota: cannot open the databases in %s: %s\n",
                buf_cstring(&envdir), error ? error : "open failed");
        free(error);
        r = EX_IOERR;
        goto done;
    }
    r = quota_foreach(t.qdb, "", collect_root_cb, &t, NULL);
    if (r < 0) {
        fprintf(stderr, "quota: reading quotas.db: %s\n", error_text(r));
        r = EX_IOERR;
        goto done;
    }
    r = dofix ? fix(&t) : 0;
    if (!dofix || !t.quiet)
        report(&t);
done:
    for (k = 0; k < t.nroots; k++)
        free(t.roots[k].root);
    free(t.roots);
    quota_db_close(&t.qdb);
    mboxlist_close(&t.ops.ml);
    cyrusdb_env_close(&env);
    buf_free(&envdir);
    strarray_fini(&prefixes);
    toolutil_fini(&tu);
    return r;
}
