/* ctl_cyrusdb: maintenance of the Berkeley DB environment that holds every
 * cyrusdb database ({configdirectory}/db).
 *
 *   ctl_cyrusdb [-C imapd.conf] -r   recover (at startup, before services)
 *   ctl_cyrusdb [-C imapd.conf] -c   checkpoint and remove old log files
 *
 * Exit status: 0 on success, 64 (EX_USAGE) for bad arguments, 78
 * (EX_CONFIG) when the configuration cannot be loaded, 74 (EX_IOERR) when
 * the environment cannot be opened, recovered or checkpointed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "buf.h"
#include "config.h"
#include "cyrusdb.h"
#include "errors.h"
#include "log.h"
#include "toolutil.h"

static const char usage_text[] =
    "usage: ctl_cyrusdb [-C imapd.conf] -r | -c\n"
    "\n"
    "Maintain the Berkeley DB environment of the cyrusdb databases\n"
    "({configdirectory}/db).\n"
    "\n"
    "  -C FILE   read FILE instead of $CYRUS_CONF or /etc/imapd.conf\n"
    "  -r        run recovery; only while no other process uses the\n"
    "            databases (master runs it at startup, before services)\n"
    "  -c        checkpoint: flush the cache and remove log files that\n"
    "            recovery no longer needs (run periodically)\n"
    "  -h, --help  show this text\n";

enum ctl_action {
    CTL_NONE,
    CTL_RECOVER,
    CTL_CHECKPOINT
};

static int
run(enum ctl_action action, const char *envdir)
{
    struct cyrusdb_env *env;
    char *error = NULL;
    const char *what = action == CTL_RECOVER ? "recover" : "checkpoint";
    int r;

    log_msg(LOG_NOTICE, "%s: starting on %s", what, envdir);
    env = cyrusdb_env_open(
        envdir, action == CTL_RECOVER ? CYRUSDB_ENV_RECOVER : 0, &error);
    if (env == NULL) {
        fprintf(stderr, "ctl_cyrusdb: %s failed: %s\n", what, error);
        log_msg(LOG_ERR, "%s failed: %s", what, error);
        free(error);
        return EX_IOERR;
    }
    /* after a recovery, a checkpoint leaves a short log behind */
    r = cyrusdb_env_checkpoint(env);
    cyrusdb_env_close(&env);
    if (r < 0) {
        fprintf(stderr, "ctl_cyrusdb: %s failed: checkpoint of %s: %s\n", what,
                envdir, error_text(r));
        log_msg(LOG_ERR, "%s failed: checkpoint of %s: %s", what, envdir,
                error_text(r));
        return EX_IOERR;
    }
    log_msg(LOG_NOTICE, "%s: done", what);
    return 0;
}

int
main(int argc, char **argv)
{
    enum ctl_action action = CTL_NONE;
    struct toolutil tu;
    struct buf envdir = BUF_INITIALIZER;
    int opt, r;

    toolutil_init(&tu, "ctl_cyrusdb", usage_text);
    while ((opt = toolutil_getopt(&tu, argc, argv, "C:rch", NULL)) != -1) {
        if (opt != 'r' && opt != 'c')
            continue;
        if (action != CTL_NONE)
            toolutil_usage_error(&tu, "give only one of -r, -c");
        action = opt == 'r' ? CTL_RECOVER : CTL_CHECKPOINT;
    }
    if (optind < argc)
        toolutil_usage_error(&tu, "unexpected argument '%s'", argv[optind]);
    if (action == CTL_NONE)
        toolutil_usage_error(&tu, "one of -r, -c is required");
    r = toolutil_config_load(&tu);
    if (r)
        return r;
    toolutil_envdir(&envdir);
    r = run(action, buf_cstring(&envdir));
    buf_free(&envdir);
    toolutil_fini(&tu);
    return r;
}
