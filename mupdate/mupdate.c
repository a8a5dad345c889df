/* mupdate.c: bin/mupdate, the MUPDATE master (-m) or the frontend slave
 * (shared/docs/MUPDATE.md), started by master with prefork=1.
 *
 * One process serves everything in one lib/loop event loop: the listening
 * socket master hands over as fd 3 (lib/service "serve" hook), the clients,
 * the kick socket, and on a slave the connection to the master. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "cyrusdb.h"
#include "errors.h"
#include "log.h"
#include "loop.h"
#include "mboxlist.h"
#include "mupdate_server.h"
#include "mupdate_slave.h"
#include "saslglue.h"
#include "service.h"
#include "tlsconfig.h"
#include "xmalloc.h"

/* The one per-process context (STYLE.md rule 7). */
static struct {
    int master_mode;
    struct tls_ctx *tls; /* STARTTLS (tls_server_cert set), else NULL */
} mupdate_proc;

static int
mupdate_init(int argc, char **argv, char **err)
{
    char *tlserr = NULL;
    int opt;

    optind = 1;
    while ((opt = getopt(argc, argv, "ma")) != -1) {
        switch (opt) {
        case 'm':
            mupdate_proc.master_mode = 1;
            break;
        case 'a':
            /* master iff mupdate_server is local: not supported, be a
             * slave unless -m */
            break;
        default:
            *err = "usage: mupdate [-C imapd.conf] [-m]";
            return 1;
        }
    }
    if (mupdate_proc.master_mode
        && !strcmp(config_enum(config, CFG_MUPDATE_CONFIG), "unified")) {
        *err = "cannot run as mupdate master with mupdate_config: unified";
        return 1;
    }
    if (!mupdate_proc.master_mode && !config_str(config, CFG_MUPDATE_SERVER)) {
        *err = "slave mode needs mupdate_server (or run with -m)";
        return 1;
    }
    mupdate_proc.tls = tlsconfig_server(config, &tlserr);
    if (tlserr != NULL) {
        /* a broken certificate must not silently turn TLS off */
        log_msg(LOG_ERR, "mupdate: TLS: %s", tlserr);
        free(tlserr);
        *err = "cannot load tls_server_cert/tls_server_key";
        return 1;
    }
    if (saslglue_server_init("Cyrus", config) != 0) {
        *err = "cannot initialise SASL";
        return 1;
    }
    return 0;
}

static void
stop_cb(struct loop *l, int signo, void *ctx)
{
    (void)signo;
    (void)ctx;
    loop_stop(l);
}

static int
first_cb(void *ctx, const struct mboxlist_entry *e)
{
    (void)ctx;
    (void)e;
    return 1;
}

/* Whether the list has no entry at all. */
static int
table_empty(struct mboxlist *ml)
{
    return mboxlist_foreach(ml, "", first_cb, NULL, NULL) == 0;
}

/* Serve until SIGTERM/SIGHUP: on listenfd (under master), or only the one
 * client on clientfd (standalone, for debugging). */
static void
mupdate_run(int listenfd, int clientfd)
{
    const char *confdir = config_str(config, CFG_CONFIGDIRECTORY);
    struct buf path = BUF_INITIALIZER, role = BUF_INITIALIZER;
    struct cyrusdb_env *env;
    struct mboxlist *ml = NULL;
    struct cyrusdb *chdb = NULL;
    struct mupdate_changes *changes = NULL;
    struct mupdate_server_params sp;
    struct mupdate_server *srv;
    struct mupdate_slave *slave = NULL;
    struct loop *loop;
    char *err = NULL;
    struct mupdate_kick *kick = NULL;
    int r;

    buf_printf(&path, "%s/db", confdir);
    env = cyrusdb_env_open(buf_cstring(&path), 0, &err);
    if (env == NULL) {
        log_msg(LOG_ERR, "mupdate: %s", err);
        free(err);
        buf_free(&path);
        return;
    }
    r = mboxlist_open(env, config_str(config, CFG_MBOXLIST_DB_PATH), &ml);
    if (r != 0) {
        log_msg(LOG_ERR, "mupdate: cannot open mailboxes.db: %s",
                error_text(r));
        cyrusdb_env_close(&env);
        buf_free(&path);
        return;
    }
    /* the master logs its changes for XCHANGES; a slave keeps its
     * position in the same file */
    r = cyrusdb_open(env, MUPDATE_CHANGES_DB, CYRUSDB_CREATE, &chdb);
    if (r != 0)
        log_msg(LOG_ERR, "mupdate: cannot open %s: %s", MUPDATE_CHANGES_DB,
                error_text(r));
    if (chdb != NULL && mupdate_proc.master_mode
        && config_int(config, CFG_MUPDATE_CHANGES_MAX) > 0) {
        r = mupdate_changes_open(
            chdb, (size_t)config_int(config, CFG_MUPDATE_CHANGES_MAX),
            &changes);
        /* a list emptied behind the log's back (mailboxes.db removed, to
         * be pushed again): its old names were never logged as deleted,
         * so no slave may resync by changes across it */
        if (r == 0 && mupdate_changes_last(changes) > 0 && table_empty(ml)) {
            log_msg(LOG_NOTICE, "mupdate: empty list: new change log epoch");
            mupdate_changes_free(&changes);
            r = mupdate_changes_reset(chdb);
            if (r == 0)
                r = mupdate_changes_open(
                    chdb, (size_t)config_int(config, CFG_MUPDATE_CHANGES_MAX),
                    &changes);
        }
        if (r != 0)
            log_msg(LOG_ERR, "mupdate: change log: %s", error_text(r));
    }
    loop = loop_new();
    loop_add_signal(loop, SIGTERM, stop_cb, NULL);
    loop_add_signal(loop, SIGHUP, stop_cb, NULL);
    loop_add_signal(loop, SIGINT, stop_cb, NULL);
    memset(&sp, 0, sizeof(sp));
    sp.cfg = config;
    sp.loop = loop;
    sp.ml = ml;
    sp.readonly = !mupdate_proc.master_mode;
    if (mupdate_proc.master_mode)
        buf_setcstr(&role, "(master)");
    else
        buf_printf(&role, "mupdate://%s",
                   config_str(config, CFG_MUPDATE_SERVER));
    sp.banner_role = buf_cstring(&role);
    sp.tls = mupdate_proc.tls;
    sp.changes = changes;
    srv = mupdate_server_new(&sp);
    if (!mupdate_proc.master_mode) {
        /* refuse local clients until the first sync */
        mupdate_server_set_ready(srv, 0);
        slave = mupdate_slave_new(config, loop, ml, chdb, srv);
    }
    if (listenfd >= 0)
        mupdate_server_listen(srv, listenfd);
    else
        mupdate_server_add_client(srv, dup(clientfd));
    buf_reset(&path);
    buf_printf(&path, "%s/socket/mupdate.target", confdir);
    if (mupdate_kick_listen(loop, buf_cstring(&path), slave, &kick) < 0)
        log_msg(LOG_ERR, "mupdate: cannot listen on %s", buf_cstring(&path));
    if (listenfd >= 0) {
        loop_run(loop);
    } else {
        /* standalone: serve the one client on stdin, then exit */
        while (mupdate_server_nclients(srv) > 0)
            loop_run_once(loop, -1);
    }
    mupdate_slave_free(&slave);
    mupdate_server_free(&srv);
    mupdate_kick_free(&kick);
    loop_free(&loop);
    mupdate_changes_free(&changes);
    cyrusdb_close(&chdb);
    mboxlist_close(&ml);
    cyrusdb_env_close(&env);
    buf_free(&path);
    buf_free(&role);
}

static void
mupdate_serve(int listen_fd, const struct service_conn *info)
{
    (void)info;
    mupdate_run(listen_fd, -1);
}

static void
mupdate_connection(int fd, const struct service_conn *info)
{
    (void)info;
    mupdate_run(-1, fd);
}

int
main(int argc, char **argv)
{
    static const struct service_ops ops = {.name = "mupdate",
                                           .init = mupdate_init,
                                           .connection = mupdate_connection,
                                           .serve = mupdate_serve};

    return service_main(argc, argv, &ops);
}
