/* ctl_cyrusdb: maintenance of the Berkeley DB environment that holds every
 * cyrusdb database ({configdirectory}/db).
 *
 *   ctl_cyrusdb [-C imapd.conf] -r   recover (at startup, before services)
 *   ctl_cyrusdb [-C imapd.conf] -c   checkpoint and remove old log files
 *
 * Exit status: 0 on success, 64 (EX_USAGE) for bad arguments, 78
 * (EX_CONFIG) when the configuration cannot be loaded, 74 (EX_IOERR) when
 * the environment cannot be opened, recovered or checkpointed. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "buf.h"
#include "config.h"
#include "cyrusdb.h"
#include "errors.h"
#include "log.h"

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

/* --help: the whole text on stdout; after a usage error: the first line
 * and a hint on stderr. */
static void
usage(int code)
{
    if (code == 0) {
        fputs(usage_text, stdout);
    } else {
        fprintf(stderr, "%.*s\nTry 'ctl_cyrusdb --help' for more.\n",
                (int)strcspn(usage_text, "\n"), usage_text);
    }
    exit(code);
}

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
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL,   0,           NULL, 0  },
    };
    enum ctl_action action = CTL_NONE;
    const char *conf_path = NULL;
    struct config *loaded;
    struct buf envdir = BUF_INITIALIZER;
    char *error = NULL;
    int opt, r;

    log_init("ctl_cyrusdb");
    while ((opt = getopt_long(argc, argv, "C:rch", longopts, NULL)) != -1) {
        switch (opt) {
        case 'C':
            conf_path = optarg;
            break;
        case 'r':
        case 'c':
            if (action != CTL_NONE) {
                fprintf(stderr, "ctl_cyrusdb: give only one of -r, -c\n");
                usage(EX_USAGE);
            }
            action = opt == 'r' ? CTL_RECOVER : CTL_CHECKPOINT;
            break;
        case 'h':
            usage(0);
            break;
        default:
            usage(EX_USAGE);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "ctl_cyrusdb: unexpected argument '%s'\n",
                argv[optind]);
        usage(EX_USAGE);
    }
    if (action == CTL_NONE) {
        fprintf(stderr, "ctl_cyrusdb: one of -r, -c is required\n");
        usage(EX_USAGE);
    }

    loaded = config_load(conf_path, "ctl_cyrusdb", &error);
    if (loaded == NULL) {
        fprintf(stderr, "ctl_cyrusdb: %s\n", error ? error : "no config");
        log_msg(LOG_ERR, "%s", error ? error : "no config");
        free(error);
        return EX_CONFIG;
    }
    config = loaded;
    buf_printf(&envdir, "%s/db", config_str(config, CFG_CONFIGDIRECTORY));
    r = run(action, buf_cstring(&envdir));
    buf_free(&envdir);
    config = NULL;
    config_free(&loaded);
    return r;
}
