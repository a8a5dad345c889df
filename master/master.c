/* master.c: the master supervisor's main(): options, pid file, startup
 * order, signals, reload and shutdown.
 *
 * Startup order: read imapd.conf (configdirectory; create socket/ and
 * proc/), read cyrus.conf, run START entries to completion, bind every
 * SERVICES address, start DAEMON entries (waiting for wait=y ones), then
 * schedule EVENTS and fork preforked workers. See doc/master.8.md. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "log.h"
#include "master.h"
#include "util.h"
#include "xmalloc.h"

#define MASTER_EX_USAGE  64
#define MASTER_EX_CONFIG 78

struct master_opts {
    char *imapd_conf;
    int pass_conf;
    char *cyrus_conf;
    char *pidfile;
    int daemonize;
};

/* The per-process context (STYLE.md rule 7). */
static struct master master_proc;

static char *
master_abspath(const char *path)
{
    struct buf b = BUF_INITIALIZER;
    char cwd[4096];

    if (path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
        return xstrdup(path);
    buf_printf(&b, "%s/%s", cwd, path);
    return buf_release(&b);
}

static char *
master_exe_dir(void)
{
    char path[4096], *slash;
    ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);

    if (n <= 0)
        return NULL;
    path[n] = '\0';
    slash = strrchr(path, '/');
    if (slash == NULL)
        return NULL;
    *slash = '\0';
    return xstrdup(path[0] ? path : "/");
}

static void
master_usage(void)
{
    fprintf(stderr, "usage: master [-C imapd.conf] [-M cyrus.conf] "
                    "[-p pidfile] [-d | -D] [-L logfile]\n");
    exit(MASTER_EX_USAGE);
}

static void
master_parse_opts(int argc, char **argv, struct master_opts *o)
{
    const char *env;
    int c;

    while ((c = getopt(argc, argv, "C:M:p:dDL:")) != -1) {
        switch (c) {
        case 'C':
            free(o->imapd_conf);
            o->imapd_conf = master_abspath(optarg);
            o->pass_conf = 1;
            break;
        case 'M':
            free(o->cyrus_conf);
            o->cyrus_conf = master_abspath(optarg);
            break;
        case 'p':
            free(o->pidfile);
            o->pidfile = master_abspath(optarg);
            break;
        case 'd':
            o->daemonize = 1;
            break;
        case 'D':
            o->daemonize = 0;
            break;
        case 'L': {
            char *log = master_abspath(optarg);

            /* inherited by every child: they log to the same file */
            setenv("CYRUS_LOGFILE", log, 1);
            free(log);
            break;
        }
        default:
            master_usage();
        }
    }
    if (optind != argc)
        master_usage();
    env = getenv("CYRUS_CONF");
    if (o->imapd_conf == NULL)
        o->imapd_conf = master_abspath(env && *env ? env : "/etc/imapd.conf");
    if (o->cyrus_conf == NULL)
        o->cyrus_conf = xstrdup("/etc/cyrus.conf");
    if (o->pidfile == NULL)
        o->pidfile = xstrdup("/var/run/cyrus-master.pid");
}

static void master_fail(int code, const char *fmt, ...)
    ATTR_FORMAT(2, 3) ATTR_NORETURN;

static void master_vstartup_error(const char *fmt, va_list ap)
    ATTR_FORMAT(1, 0);

static void
master_vstartup_error(const char *fmt, va_list ap)
{
    struct buf msg = BUF_INITIALIZER;

    buf_vprintf(&msg, fmt, ap);
    log_msg(LOG_ERR, "%s", buf_cstring(&msg));
    fprintf(stderr, "master: %s\n", buf_cstring(&msg));
    buf_free(&msg);
}

void
master_startup_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    master_vstartup_error(fmt, ap);
    va_end(ap);
}

/* A startup error that ends master with exit code code. */
static void
master_fail(int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    master_vstartup_error(fmt, ap);
    va_end(ap);
    exit(code);
}

/* Fork into the background. The parent exits once the child reports
 * (through the returned pipe fd) that startup succeeded, so `master -d`
 * still fails visibly on a bad configuration. */
static int
master_daemonize(void)
{
    int fds[2], devnull;
    pid_t pid;
    char ok = 0;

    if (pipe2(fds, O_CLOEXEC) < 0)
        master_fail(71, "pipe: %s", strerror(errno));
    pid = fork();
    if (pid < 0)
        master_fail(71, "fork: %s", strerror(errno));
    if (pid > 0) {
        close(fds[1]);
        if (read(fds[0], &ok, 1) != 1 || ok != 'k')
            _exit(1);
        _exit(0);
    }
    close(fds[0]);
    setsid();
    if (chdir("/") < 0) {
    }
    /* stderr stays until startup is over, for its error messages */
    devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
        dup2(devnull, 0);
        dup2(devnull, 1);
        if (devnull > 2)
            close(devnull);
    }
    return fds[1];
}

/* Create and lock the pid file. Returns its fd (kept open: the lock shows
 * that a master is running). */
static int
master_pidfile(const char *path)
{
    struct buf b = BUF_INITIALIZER;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

    if (fd < 0)
        master_fail(73, "cannot open pid file %s: %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) < 0)
        master_fail(75, "pid file %s is locked: is another master running?",
                    path);
    buf_printf(&b, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) < 0
        || util_write_all(fd, buf_base(&b), buf_len(&b)) < 0)
        master_fail(73, "cannot write pid file %s: %s", path, strerror(errno));
    buf_free(&b);
    return fd;
}

void
master_check_done(struct master *m)
{
    if (m->shutting_down && children_count(m) == 0)
        loop_stop(m->loop);
}

static void
master_giveup_cb(struct loop *l, long id, void *ctx)
{
    struct master *m = ctx;

    log_msg(LOG_ERR, "%u children survived SIGKILL; exiting anyway",
            children_count(m));
    loop_stop(l);
}

static void
master_kill_cb(struct loop *l, long id, void *ctx)
{
    struct master *m = ctx;

    log_msg(LOG_WARNING, "%u children still running after %d ms; SIGKILL",
            children_count(m), MASTER_KILL_GRACE_MS);
    children_signal_all(m, SIGKILL);
    m->kill_timer = loop_add_timer(l, MASTER_GIVEUP_MS, master_giveup_cb, m);
}

static void
master_shutdown(struct master *m, int signo)
{
    if (m->shutting_down) {
        /* asked twice: no more patience */
        children_signal_all(m, SIGKILL);
        return;
    }
    m->shutting_down = 1;
    log_msg(LOG_NOTICE, "exiting on signal %d", signo);
    services_stop(m);
    events_stop(m);
    children_signal_all(m, SIGTERM);
    m->kill_timer =
        loop_add_timer(m->loop, MASTER_KILL_GRACE_MS, master_kill_cb, m);
    master_check_done(m);
}

static void
master_reload(struct master *m)
{
    struct strarray warnings = STRARRAY_INITIALIZER;
    struct masterconf *newconf;
    char *err = NULL;
    size_t i;

    if (m->shutting_down)
        return;
    log_msg(LOG_NOTICE, "SIGHUP: rereading %s", m->cyrus_conf);
    newconf = masterconf_load(m->cyrus_conf, &warnings, &err);
    for (i = 0; i < warnings.count; i++)
        log_msg(LOG_WARNING, "%s", warnings.data[i]);
    strarray_fini(&warnings);
    if (newconf == NULL) {
        log_msg(LOG_ERR, "%s; keeping the current configuration", err);
        free(err);
        return;
    }
    services_reload(m, newconf);
    daemons_reload(m, newconf);
    events_reload(m, newconf);
    masterconf_free(&m->conf);
    m->conf = newconf;
    log_msg(LOG_NOTICE, "reloaded %s", m->cyrus_conf);
}

static void
master_signal_cb(struct loop *l, int signo, void *ctx)
{
    struct master *m = ctx;

    switch (signo) {
    case SIGCHLD:
        children_reap(m);
        break;
    case SIGHUP:
        master_reload(m);
        break;
    default:
        master_shutdown(m, signo);
        break;
    }
}

/* Startup failed after children were started: stop them before exiting
 * (no process left behind, even on the error path). */
static void
master_abort_startup(struct master *m)
{
    uint64_t deadline = util_now_ms() + MASTER_KILL_GRACE_MS;
    int sig = SIGTERM;

    m->shutting_down = 1;
    services_stop(m);
    children_signal_all(m, sig);
    while (children_count(m) > 0) {
        children_reap(m);
        if (children_count(m) == 0)
            break;
        if (sig == SIGTERM && util_now_ms() > deadline) {
            sig = SIGKILL;
            children_signal_all(m, sig);
        }
        usleep(20 * 1000);
    }
}

static void
master_mkdirs(const char *configdir)
{
    static const char *const subdirs[] = {"socket", "proc"};
    struct buf path = BUF_INITIALIZER;
    size_t i;

    for (i = 0; i < ARRAY_SIZE(subdirs); i++) {
        buf_reset(&path);
        buf_printf(&path, "%s/%s", configdir, subdirs[i]);
        if (util_mkdir_p(buf_cstring(&path), 0755) < 0)
            master_fail(73, "cannot create %s: %s", buf_cstring(&path),
                        strerror(errno));
    }
    buf_free(&path);
}

int
main(int argc, char **argv)
{
    static const int signals[] = {SIGCHLD, SIGHUP, SIGTERM, SIGINT};
    struct master *m = &master_proc;
    struct master_opts o;
    struct strarray warnings = STRARRAY_INITIALIZER;
    struct config *cfg;
    char *err = NULL;
    int pidfd, notify_fd = -1, failed = 0;
    size_t i;

    memset(&o, 0, sizeof(o));
    master_parse_opts(argc, argv, &o);
    log_init("master");
    m->imapd_conf = o.imapd_conf;
    m->pass_conf = o.pass_conf;
    m->cyrus_conf = o.cyrus_conf;
    m->exe_dir = master_exe_dir();

    cfg = config_load(o.imapd_conf, "master", &err);
    if (cfg == NULL)
        master_fail(MASTER_EX_CONFIG, "%s", err);
    config = cfg;
    master_mkdirs(config_str(cfg, CFG_CONFIGDIRECTORY));
    m->conf = masterconf_load(o.cyrus_conf, &warnings, &err);
    if (m->conf == NULL)
        master_fail(MASTER_EX_CONFIG, "%s", err);
    for (i = 0; i < warnings.count; i++)
        log_msg(LOG_WARNING, "%s", warnings.data[i]);
    strarray_fini(&warnings);

    if (o.daemonize)
        notify_fd = master_daemonize();
    m->pid = getpid();
    pidfd = master_pidfile(o.pidfile);

    signal(SIGPIPE, SIG_IGN);
    m->loop = loop_new();
    m->children = hash_new(64);
    for (i = 0; i < ARRAY_SIZE(signals); i++)
        loop_add_signal(m->loop, signals[i], master_signal_cb, m);

    if (daemons_run_start(m) < 0 || services_start(m) < 0
        || daemons_start(m) < 0) {
        master_abort_startup(m);
        failed = 1;
    } else {
        if (notify_fd >= 0) {
            /* startup errors went to the terminal; from now on the log */
            int devnull = open("/dev/null", O_WRONLY);

            if (devnull >= 0) {
                dup2(devnull, 2);
                close(devnull);
            }
        }
        events_start(m);
        services_adjust_all(m);
        log_msg(LOG_NOTICE, "ready for work (pid %ld)", (long)m->pid);
        if (notify_fd >= 0) {
            if (write(notify_fd, "k", 1) < 0) {
            }
            close(notify_fd);
        }
        loop_run(m->loop);
        log_msg(LOG_NOTICE, "exiting");
    }

    unlink(o.pidfile);
    close(pidfd);
    services_free_all(m);
    daemons_free_all(m);
    events_free_all(m);
    children_free_all(m);
    masterconf_free(&m->conf);
    loop_free(&m->loop);
    config = NULL;
    config_free(&cfg);
    free(m->exe_dir);
    free(o.imapd_conf);
    free(o.cyrus_conf);
    free(o.pidfile);
    return failed ? 1 : 0;
}
