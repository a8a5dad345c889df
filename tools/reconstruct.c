/* reconstruct: rebuild mailboxes' index and cache from their spool files
 * (imap/reconstruct.h says exactly what is kept).
 *
 *   reconstruct [-C imapd.conf] [-r] [-q] mailbox...
 *
 * Mailboxes are internal names ("user.alice", "shared.news") or patterns
 * as Cyrus: "*" matches anything, "%" anything but the hierarchy
 * separator "."; -r adds every mailbox below each one.
 *
 * Exit status: 0 when every named mailbox was rebuilt, 64 (EX_USAGE) for
 * bad arguments, 78 (EX_CONFIG) when the configuration cannot be loaded,
 * 74 (EX_IOERR) when the databases cannot be opened, 1 when a mailbox
 * does not exist or could not be rebuilt (the others are still done). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "buf.h"
#include "config.h"
#include "cyrusdb.h"
#include "errors.h"
#include "log.h"
#include "mboxlist.h"
#include "mboxops.h"
#include "reconstruct.h"
#include "strarray.h"
#include "toolutil.h"
#include "xmalloc.h"

static const char usage_text[] =
    "usage: reconstruct [-C imapd.conf] [-r] [-q] mailbox...\n"
    "\n"
    "Rebuild each mailbox's cyrus.index and cyrus.cache from its spool\n"
    "files, keeping UIDVALIDITY, UIDs and flags where the old index still\n"
    "has them.\n"
    "\n"
    "  mailbox   internal name (user.alice) or pattern: * matches\n"
    "            anything, % anything but the separator '.'\n"
    "  -C FILE   read FILE instead of $CYRUS_CONF or /etc/imapd.conf\n"
    "  -r        also every mailbox below each named one\n"
    "  -q        quiet: print only errors\n"
    "  -h, --help  show this text\n";

/* Cyrus pattern match: '*' anything, '%' anything but '.'. */
static int
pattern_match(const char *pat, const char *name)
{
    for (; *pat; pat++, name++) {
        if (*pat == '*' || *pat == '%') {
            const char *p = name;

            for (;;) {
                if (pattern_match(pat + 1, p))
                    return 1;
                if (*p == '\0' || (*pat == '%' && *p == '.'))
                    return 0;
                p++;
            }
        }
        if (*name != *pat)
            return 0;
    }
    return *name == '\0';
}

struct collect {
    const struct strarray *patterns;
    int recursive;
    struct strarray *names;
    int *matched; /* per pattern */
};

static int
collect_cb(void *ctx, const struct mboxlist_entry *e)
{
    struct collect *c = ctx;
    size_t i;

    if (e->mbtype & (MBTYPE_REMOTE | MBTYPE_RESERVE | MBTYPE_DELETED
                     | MBTYPE_INTERMEDIATE))
        return 0;
    for (i = 0; i < c->patterns->count; i++) {
        const char *p = c->patterns->data[i];
        size_t plen = strlen(p);
        int hit = pattern_match(p, e->name);

        if (!hit && c->recursive && strpbrk(p, "*%") == NULL)
            hit = strncmp(e->name, p, plen) == 0 && e->name[plen] == '.';
        if (hit) {
            c->matched[i] = 1;
            strarray_append(c->names, e->name);
            return 0;
        }
    }
    return 0;
}

static int
rebuild_one(struct mboxlist *ml, const char *name, int quiet)
{
    struct mboxlist_entry *e = NULL;
    struct reconstruct_fallback fb;
    struct reconstruct_stats st;
    struct buf path = BUF_INITIALIZER;
    const char *err = NULL;
    int r;

    r = mboxlist_lookup(ml, name, &e, NULL);
    if (r) {
        fprintf(stderr, "reconstruct: %s: %s\n", name, error_text(r));
        return 1;
    }
    r = mboxops_path(NULL, e, &path);
    if (r) {
        fprintf(stderr, "reconstruct: %s: no spool path (partition %s)\n",
                name, e->partition ? e->partition : "?");
        mboxlist_entry_free(&e);
        return 1;
    }
    memset(&fb, 0, sizeof(fb));
    fb.uniqueid = e->uniqueid;
    fb.uidvalidity = e->uidvalidity;
    fb.createdmodseq = e->createdmodseq;
    r = reconstruct_mailbox(buf_cstring(&path), &fb, &st, &err);
    if (r) {
        fprintf(stderr, "reconstruct: %s (%s): %s: %s\n", name,
                buf_cstring(&path), err ? err : "failed", error_text(r));
        log_msg(LOG_ERR, "%s: %s: %s", name, err ? err : "failed",
                error_text(r));
    } else {
        if (!quiet)
            printf("%s: %u messages (%u kept, %u new, %u dropped, %u bad, "
                   "%u expunged)%s uidvalidity %u last uid %u\n",
                   name, st.kept + st.added, st.kept, st.added, st.dropped,
                   st.bad, st.expunged,
                   st.from_scratch ? " from scratch," : "", st.uidvalidity,
                   st.last_uid);
        log_msg(LOG_NOTICE, "reconstructed %s: %u kept %u new %u dropped",
                name, st.kept, st.added, st.dropped);
    }
    buf_free(&path);
    mboxlist_entry_free(&e);
    return r ? 1 : 0;
}

static int
run(const struct strarray *patterns, int recursive, int quiet)
{
    struct buf envdir = BUF_INITIALIZER;
    struct cyrusdb_env *env;
    struct mboxlist *ml = NULL;
    struct strarray names = STRARRAY_INITIALIZER;
    struct collect c;
    char *error = NULL;
    size_t i;
    int rc = 0;

    toolutil_envdir(&envdir);
    env = cyrusdb_env_open(buf_cstring(&envdir), 0, &error);
    buf_free(&envdir);
    if (env == NULL) {
        fprintf(stderr, "reconstruct: %s\n", error);
        free(error);
        return EX_IOERR;
    }
    if (mboxlist_open(env, "mailboxes.db", &ml) != 0) {
        fprintf(stderr, "reconstruct: cannot open mailboxes.db\n");
        cyrusdb_env_close(&env);
        return EX_IOERR;
    }
    c.patterns = patterns;
    c.recursive = recursive;
    c.names = &names;
    c.matched = xzmalloc(patterns->count * sizeof(int));
    mboxlist_foreach(ml, "", collect_cb, &c, NULL);
    for (i = 0; i < patterns->count; i++) {
        if (!c.matched[i]) {
            fprintf(stderr, "reconstruct: %s: %s\n", patterns->data[i],
                    error_text(ERR_NOMAILBOX));
            rc = 1;
        }
    }
    for (i = 0; i < names.count; i++) {
        if (rebuild_one(ml, names.data[i], quiet))
            rc = 1;
    }
    free(c.matched);
    strarray_fini(&names);
    mboxlist_close(&ml);
    cyrusdb_env_close(&env);
    return rc;
}

int
main(int argc, char **argv)
{
    struct toolutil tu;
    struct strarray patterns = STRARRAY_INITIALIZER;
    int opt, recursive = 0, quiet = 0, r;

    toolutil_init(&tu, "reconstruct", usage_text);
    while ((opt = toolutil_getopt(&tu, argc, argv, "C:rqh", NULL)) != -1) {
        if (opt == 'r')
            recursive = 1;
        else if (opt == 'q')
            quiet = 1;
    }
    if (optind >= argc)
        toolutil_usage_error(&tu, "no mailbox given");
    r = toolutil_config_load(&tu);
    if (r)
        return r;
    for (; optind < argc; optind++)
        strarray_append(&patterns, argv[optind]);
    r = run(&patterns, recursive, quiet);
    strarray_fini(&patterns);
    toolutil_fini(&tu);
    return r;
}
