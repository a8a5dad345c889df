/* cyr_expire: housekeeping run from cyrus.conf's EVENTS, as Cyrus's.
 *
 *   cyr_expire [-C imapd.conf] [-E dur] [-D dur] [-X dur] [-x] [-a] [-t]
 *              [-p prefix] [-u user] [-v]
 *
 * -D removes for good the mailboxes that DELETE kept under the deleted
 * prefix (delete_mode: delayed) longer than dur ago: at the mupdate
 * master first (as a backend in a murder), then mailboxes.db and the
 * spool. -E prunes duplicate-delivery entries (deliver.db) older than
 * dur. -X compacts mailboxes that still hold expunged messages (left
 * because other sessions had the mailbox open when they were expunged):
 * our store does not keep expunged messages for a period (expunge_mode
 * in doc/admin-guide.md), so its duration only has to parse. A duration
 * is a number of days, or numbers with the units d, h, m, s ("1d12h").
 *
 * Exit status: 0, 1 when a mailbox could not be handled, 64 (EX_USAGE),
 * 78 (EX_CONFIG), 74 (EX_IOERR). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "buf.h"
#include "config.h"
#include "cyrusdb.h"
#include "duplicate.h"
#include "errors.h"
#include "log.h"
#include "mailbox.h"
#include "mboxlist.h"
#include "mboxname.h"
#include "mboxops.h"
#include "namespace.h"
#include "murderhook.h"
#include "nsconfig.h"
#include "quota.h"
#include "strarray.h"
#include "subs.h"
#include "toolutil.h"
#include "xmalloc.h"

static const char usage_text[] =
    "usage: cyr_expire [-C imapd.conf] [-E dur] [-D dur] [-X dur] [-x] [-a]\n"
    "                  [-t] [-p prefix] [-u user] [-v]\n"
    "\n"
    "Housekeeping for cyrus.conf's EVENTS. A duration is a number of days or\n"
    "numbers with units d, h, m, s (\"7\", \"1d12h\", \"30m\").\n"
    "\n"
    "  -C FILE    read FILE instead of $CYRUS_CONF or /etc/imapd.conf\n"
    "  -D dur     remove mailboxes deleted (delete_mode: delayed) more than\n"
    "             dur ago, at the mupdate master too\n"
    "  -E dur     prune duplicate-delivery entries older than dur\n"
    "  -X dur     compact mailboxes still holding expunged messages (our\n"
    "             store keeps none for a period: dur is only checked)\n"
    "  -x         do not compact (overrides -X)\n"
    "  -a, -t     accepted for Cyrus compatibility (no annotations to skip,\n"
    "             no empty mailboxes to remove)\n"
    "  -p PREFIX  only mailboxes whose internal name starts with PREFIX\n"
    "             (for -D: the name they had before they were deleted)\n"
    "  -u USER    only USER's mailboxes (as -p user.USER)\n"
    "  -v         report what was done\n"
    "  -h, --help show this text\n";

struct expire {
    struct mboxops ops;
    struct duplicate_db *ddb;
    const char *prefix; /* NULL: every mailbox */
    int verbose;
    unsigned long removed, compacted;
};

/* Seconds in "7", "1d12h", "30m" (a bare number is days): 0 and *secs_r,
 * or -1. */
static int
parse_duration(const char *s, long long *secs_r)
{
    long long total = 0;
    int any = 0;

    while (*s) {
        char *end;
        long long n = strtoll(s, &end, 10);

        if (end == s || n < 0 || n > 100000000LL)
            return -1;
        switch (*end) {
        case '\0':
            if (any)
                return -1; /* "1d12": a unit is missing */
            total += n * 86400;
            s = end;
            break;
        case 'd': total += n * 86400; s = end + 1; break;
        case 'h': total += n * 3600; s = end + 1; break;
        case 'm': total += n * 60; s = end + 1; break;
        case 's': total += n; s = end + 1; break;
        default:
            return -1;
        }
        any = 1;
    }
    if (!any)
        return -1;
    *secs_r = total;
    return 0;
}

static int
in_scope(const struct expire *x, const char *name)
{
    size_t n;

    if (x->prefix == NULL)
        return 1;
    n = strlen(x->prefix);
    return strncmp(name, x->prefix, n) == 0
           && (name[n] == '\0' || name[n] == '.');
}

static int
collect_cb(void *ctx, const struct mboxlist_entry *e)
{
    if (e->server == NULL)
        strarray_append(ctx, e->name);
    return 0;
}

/* The names of the local mailboxes into names: 0, or -1 after saying
 * why on stderr. */
static int
local_names(const struct expire *x, struct strarray *names)
{
    int r = mboxlist_foreach(x->ops.ml, "", collect_cb, names, NULL);

    if (r < 0) {
        fprintf(stderr, "cyr_expire: reading mailboxes.db: %s\n",
                error_text(r));
        strarray_fini(names);
        return -1;
    }
    return 0;
}

/* -D: every local mailbox under the deleted prefix whose time is before
 * cutoff. */
static int
remove_deleted(struct expire *x, time_t cutoff)
{
    struct strarray names = STRARRAY_INITIALIZER;
    struct mboxops_who system = {NULL, 1};
    size_t i;
    int failed = 0, r;

    if (local_names(x, &names) < 0)
        return 1;
    for (i = 0; i < names.count; i++) {
        const char *name = strarray_nth(&names, i);
        const char *err = NULL;
        char *orig = NULL;
        time_t when;

        if (!mboxname_is_deleted(x->ops.ns, name, &orig, &when))
            continue;
        if (when < cutoff && in_scope(x, orig)) {
            r = mboxops_delete(&x->ops, &system, name, &err);
            if (r == 0) {
                x->removed++;
                log_msg(LOG_NOTICE, "cyr_expire: removed %s", name);
                if (x->verbose)
                    printf("removed %s\n", name);
            } else if (r != ERR_NOMAILBOX) {
                fprintf(stderr, "cyr_expire: %s: %s\n", name,
                        err ? err : error_text(r));
                failed = 1;
            }
        }
        free(orig);
    }
    strarray_fini(&names);
    return failed;
}

/* -X: compact the local mailboxes that hold expunged records, where no
 * one else has them open. */
static int
compact_all(struct expire *x)
{
    struct strarray names = STRARRAY_INITIALIZER;
    struct buf path = BUF_INITIALIZER;
    size_t i;
    int failed = 0, r;

    if (local_names(x, &names) < 0)
        return 1;
    for (i = 0; i < names.count; i++) {
        const char *name = strarray_nth(&names, i);
        struct mboxlist_entry *e = NULL;
        struct mailbox *mb = NULL;
        const struct mailbox_counts *c;

        if (!in_scope(x, name)
            || mboxlist_lookup(x->ops.ml, name, &e, NULL) != 0)
            continue;
        r = mboxops_path(&x->ops, e, &path);
        if (r == 0)
            r = mailbox_open(buf_cstring(&path), &mb);
        if (r == 0)
            r = mailbox_lock(mb, MAILBOX_EXCLUSIVE);
        if (r == 0) {
            c = mailbox_counts(mb);
            if (c->num_records > c->exists && mailbox_is_alone(mb)) {
                r = mailbox_compact(mb);
                if (r == 0) {
                    x->compacted++;
                    if (x->verbose)
                        printf("compacted %s\n", name);
                }
            }
            mailbox_unlock(mb);
        }
        if (r) {
            fprintf(stderr, "cyr_expire: %s: %s\n", name, error_text(r));
            failed = 1;
        }
        mailbox_close(&mb);
        mboxlist_entry_free(&e);
    }
    buf_free(&path);
    strarray_fini(&names);
    return failed;
}

static void
opt_duration(const struct toolutil *tu, int opt, const char *arg,
             long long *secs_r)
{
    if (parse_duration(arg, secs_r) < 0)
        toolutil_usage_error(tu, "-%c: bad duration '%s'", opt, arg);
}

int
main(int argc, char **argv)
{
    struct toolutil tu;
    struct cyrusdb_env *env = NULL;
    struct expire x;
    struct buf envdir = BUF_INITIALIZER, userprefix = BUF_INITIALIZER;
    struct namespace *ns = NULL;
    struct mboxops_murder *murder = NULL;
    const char *nserr = NULL;
    char *error = NULL;
    long long del = -1, dup = -1, exp = -1;
    int opt, noexpunge = 0, failed = 0, r;
    time_t now = time(NULL);

    memset(&x, 0, sizeof(x));
    toolutil_init(&tu, "cyr_expire", usage_text);
    while ((opt = toolutil_getopt(&tu, argc, argv, "C:D:E:X:xatp:u:vh",
                                  NULL))
           != -1) {
        switch (opt) {
        case 'D': opt_duration(&tu, opt, optarg, &del); break;
        case 'E': opt_duration(&tu, opt, optarg, &dup); break;
        case 'X': opt_duration(&tu, opt, optarg, &exp); break;
        case 'x': noexpunge = 1; break;
        case 'p': x.prefix = optarg; break;
        case 'u':
            buf_reset(&userprefix);
            buf_printf(&userprefix, "user.%s", optarg);
            x.prefix = buf_cstring(&userprefix);
            break;
        case 'v': x.verbose = 1; break;
        default: break; /* -a, -t */
        }
    }
    if (optind < argc)
        toolutil_usage_error(&tu, "unexpected argument '%s'", argv[optind]);
    if (del < 0 && dup < 0 && exp < 0)
        toolutil_usage_error(&tu, "nothing to do: give -D, -E or -X");
    r = toolutil_config_load(&tu);
    if (r)
        return r;
    toolutil_envdir(&envdir);
    env = cyrusdb_env_open(buf_cstring(&envdir), 0, &error);
    if (env == NULL || mboxlist_open(env, "mailboxes.db", &x.ops.ml) < 0
        || quota_db_open(env, NULL, &x.ops.qdb) < 0
        || subs_open(env, "subs.db", &x.ops.subs) < 0
        || (dup >= 0
            && duplicate_open(env, config_str(config, CFG_DUPLICATE_DB_PATH),
                              &x.ddb)
                   < 0)) {
        fprintf(stderr, "cyr_expire: cannot open the databases in %s: %s\n",
                buf_cstring(&envdir), error ? error : "open failed");
        r = EX_IOERR;
        goto done;
    }
    if (nsconfig_load(config, &ns, &nserr) < 0) {
        fprintf(stderr, "cyr_expire: %s\n",
                nserr ? nserr : "bad namespace settings");
        r = EX_CONFIG;
        goto done;
    }
    x.ops.ns = ns;
    x.ops.servername = config_str(config, CFG_SERVERNAME);
    /* a backend in a murder tells the master (MURDER.md §3) */
    if (config_str(config, CFG_MUPDATE_SERVER)
        && config_str(config, CFG_PROXYSERVERS)) {
        murder = murderhook_new(config);
        x.ops.murder = murder;
    }
    if (del >= 0)
        failed |= remove_deleted(&x, now - (time_t)del);
    if (exp >= 0 && !noexpunge)
        failed |= compact_all(&x);
    if (dup >= 0) {
        unsigned long pruned = 0, kept = 0;

        r = duplicate_prune(x.ddb, now - (time_t)dup, &pruned, &kept);
        if (r < 0) {
            fprintf(stderr, "cyr_expire: pruning deliver.db: %s\n",
                    error_text(r));
            failed = 1;
        } else if (x.verbose) {
            printf("expired %lu of %lu duplicate entries\n", pruned,
                   pruned + kept);
        }
    }
    if (x.verbose) {
        if (del >= 0)
            printf("removed %lu deleted mailboxes\n", x.removed);
        if (exp >= 0 && !noexpunge)
            printf("compacted %lu mailboxes\n", x.compacted);
    }
    r = failed;
done:
    if (murder)
        murderhook_free(&murder);
    namespace_free(&ns);
    free(error);
    duplicate_close(&x.ddb);
    subs_close(&x.ops.subs);
    quota_db_close(&x.ops.qdb);
    mboxlist_close(&x.ops.ml);
    cyrusdb_env_close(&env);
    buf_free(&envdir);
    buf_free(&userprefix);
    toolutil_fini(&tu);
    return r;
}
