/* mbpath: print the spool directory of mailboxes.
 *
 *   mbpath [-C imapd.conf] [-q] mailbox...
 *
 * Mailbox names are internal (user.alice.Sent, example.com!user.bob).
 * Exit status: 0 when every path was printed, 1 when a mailbox was not
 * found or is not local, 64 (EX_USAGE), 78 (EX_CONFIG), 74 (EX_IOERR)
 * when the databases cannot be opened. */
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
#include "toolutil.h"

static const char usage_text[] =
    "usage: mbpath [-C imapd.conf] [-q] mailbox...\n"
    "\n"
    "Print the spool directory of each mailbox (internal names, such as\n"
    "user.alice.Sent), one per line.\n"
    "\n"
    "  -C FILE   read FILE instead of $CYRUS_CONF or /etc/imapd.conf\n"
    "  -q        quiet: no error messages (the exit status still says)\n"
    "  -h, --help  show this text\n";

/* Print the path of name; 0, or 1 after a message (unless quiet). */
static int
print_path(struct mboxops *ops, const char *name, int quiet)
{
    struct mboxlist_entry *e = NULL;
    struct buf path = BUF_INITIALIZER;
    int r;

    r = mboxlist_lookup(ops->ml, name, &e, NULL);
    if (r == 0 && (e->mbtype & (MBTYPE_DELETED | MBTYPE_RESERVE)))
        r = ERR_NOMAILBOX;
    if (r < 0) {
        if (!quiet)
            fprintf(stderr, "mbpath: %s: %s\n", name, error_text(r));
        mboxlist_entry_free(&e);
        return 1;
    }
    if (e->mbtype & MBTYPE_REMOTE) {
        if (!quiet)
            fprintf(stderr, "mbpath: %s: not local (on %s)\n", name,
                    e->server ? e->server : "another server");
        mboxlist_entry_free(&e);
        return 1;
    }
    r = mboxops_path(ops, e, &path);
    if (r < 0) {
        if (!quiet)
            fprintf(stderr, "mbpath: %s: no spool path (partition %s)\n",
                    name, e->partition ? e->partition : "(none)");
        r = 1;
    } else {
        printf("%s\n", buf_cstring(&path));
    }
    buf_free(&path);
    mboxlist_entry_free(&e);
    return r ? 1 : 0;
}

int
main(int argc, char **argv)
{
    struct toolutil tu;
    struct cyrusdb_env *env = NULL;
    struct mboxops ops;
    struct buf envdir = BUF_INITIALIZER;
    char *error = NULL;
    int opt, quiet = 0, r = 0, i;

    toolutil_init(&tu, "mbpath", usage_text);
    while ((opt = toolutil_getopt(&tu, argc, argv, "C:qh", NULL)) != -1) {
        if (opt == 'q')
            quiet = 1;
    }
    if (optind >= argc)
        toolutil_usage_error(&tu, "no mailbox given");
    r = toolutil_config_load(&tu);
    if (r)
        return r;
    memset(&ops, 0, sizeof(ops));
    toolutil_envdir(&envdir);
    env = cyrusdb_env_open(buf_cstring(&envdir), 0, &error);
    if (env == NULL || mboxlist_open(env, "mailboxes.db", &ops.ml) < 0) {
        fprintf(stderr, "mbpath: cannot open mailboxes.db in %s: %s\n",
                buf_cstring(&envdir), error ? error : "open failed");
        free(error);
        r = EX_IOERR;
        goto done;
    }
    for (i = optind; i < argc; i++)
        r |= print_path(&ops, argv[i], quiet);
done:
    mboxlist_close(&ops.ml);
    cyrusdb_env_close(&env);
    buf_free(&envdir);
    toolutil_fini(&tu);
    return r;
}
