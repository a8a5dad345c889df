/* daemons.c: START entries (run to completion, in order, before anything
 * else) and DAEMON entries (long-running, restarted when they die). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "master.h"
#include "util.h"
#include "xmalloc.h"

/* EX_TEMPFAIL from a START entry is accepted, as in Cyrus. */
#define DAEMONS_EX_TEMPFAIL 75
/* How long a wait=y daemon may take to say "ok". */
#define DAEMONS_WAIT_MS 30000

struct daemon {
    struct master *m;
    char *name;
    unsigned line;
    char *cmd;
    struct strarray argv;
    int wait;
    long maxfds;
    struct ratelimit rl;
    pid_t pid; /* 0: not running */
    long restart_timer;
    struct daemon *next;
};

int
daemons_run_start(struct master *m)
{
    size_t i, n = masterconf_count(m->conf, MASTERCONF_START);

    for (i = 0; i < n; i++) {
        const struct masterconf_entry *e =
            masterconf_entry(m->conf, MASTERCONF_START, i);
        struct child_spec spec = {CHILD_START, e->name, &e->argv, -1, -1, 0};
        struct child *c;
        char *err = NULL, text[64];
        int status = 0;

        c = children_spawn(m, &spec, &err);
        if (c == NULL) {
            master_startup_error("can't run startup: %s:%u: START %s: %s",
                                 m->cyrus_conf, e->line, e->name, err);
            free(err);
            return -1;
        }
        while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
            ;
        children_forget(m, &c);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
            continue;
        if (WIFEXITED(status) && WEXITSTATUS(status) == DAEMONS_EX_TEMPFAIL) {
            log_msg(LOG_NOTICE, "START %s exited with EX_TEMPFAIL; going on",
                    e->name);
            continue;
        }
        master_startup_error("can't run startup: %s:%u: START %s (%s) %s",
                             m->cyrus_conf, e->line, e->name, e->cmd,
                             children_status_text(status, text, sizeof(text)));
        return -1;
    }
    return 0;
}

static struct daemon *
daemon_new(const struct masterconf_entry *e)
{
    struct daemon *d = xzmalloc(sizeof(*d));
    size_t i;

    d->name = xstrdup(e->name);
    d->line = e->line;
    d->cmd = xstrdup(e->cmd);
    for (i = 0; i < e->argv.count; i++)
        strarray_append(&d->argv, e->argv.data[i]);
    d->wait = e->wait;
    d->maxfds = e->maxfds;
    ratelimit_init(&d->rl, e->maxforkrate);
    return d;
}

static void
daemon_free(struct master *m, struct daemon *d)
{
    if (d->restart_timer)
        loop_cancel_timer(m->loop, d->restart_timer);
    free(d->name);
    free(d->cmd);
    strarray_fini(&d->argv);
    free(d);
}

/* Fork d with fd3 as its fd 3 (-1: none; wait=y daemons restarted later
 * get /dev/null so that their "ok" goes nowhere harmlessly). */
static int
daemon_spawn(struct master *m, struct daemon *d, int fd3, char **error_r)
{
    struct child_spec spec = {CHILD_DAEMON, d->name, &d->argv,
                              fd3,          -1,      d->maxfds};
    struct child *c;
    int devnull = -1;

    if (fd3 < 0 && d->wait) {
        devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
        spec.fd3 = devnull;
    }
    ratelimit_forked(&d->rl, util_now_ms());
    c = children_spawn(m, &spec, error_r);
    if (devnull >= 0)
        close(devnull);
    if (c == NULL)
        return -1;
    d->pid = c->pid;
    return 0;
}

/* Read from fd until "ok\r\n" (or "ok\n"). 0, or -1 on EOF or timeout. */
static int
daemon_wait_ok(int fd)
{
    char buf[64];
    size_t len = 0;
    uint64_t deadline = util_now_ms() + DAEMONS_WAIT_MS;

    for (;;) {
        struct pollfd pfd = {fd, POLLIN, 0};
        uint64_t now = util_now_ms();
        ssize_t n;
        int r;

        if (now >= deadline)
            return -1;
        r = poll(&pfd, 1, (int)(deadline - now));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        n = read(fd, buf + len, sizeof(buf) - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        len += (size_t)n;
        buf[len] = '\0';
        if (strncmp(buf, "ok\r\n", 4) == 0 || strncmp(buf, "ok\n", 3) == 0)
            return 0;
        if (len >= 4)
            return -1;
    }
}

static void
daemons_append(struct master *m, struct daemon *d)
{
    struct daemon **dp = &m->daemons;

    while (*dp)
        dp = &(*dp)->next;
    d->next = NULL;
    *dp = d;
}

int
daemons_start(struct master *m)
{
    size_t i, n = masterconf_count(m->conf, MASTERCONF_DAEMON);

    for (i = 0; i < n; i++) {
        const struct masterconf_entry *e =
            masterconf_entry(m->conf, MASTERCONF_DAEMON, i);
        struct daemon *d = daemon_new(e);
        char *err = NULL;
        int fds[2] = {-1, -1}, r;

        d->m = m;
        daemons_append(m, d);
        if (d->wait && pipe2(fds, O_CLOEXEC) < 0) {
            master_startup_error("DAEMON %s: pipe: %s", d->name,
                                 strerror(errno));
            return -1;
        }
        r = daemon_spawn(m, d, fds[1], &err);
        if (fds[1] >= 0)
            close(fds[1]);
        if (r < 0) {
            master_startup_error("%s:%u: DAEMON %s: %s", m->cyrus_conf, e->line,
                                 d->name, err);
            free(err);
            if (fds[0] >= 0)
                close(fds[0]);
            return -1;
        }
        if (d->wait) {
            r = daemon_wait_ok(fds[0]);
            close(fds[0]);
            if (r < 0) {
                master_startup_error("%s:%u: DAEMON %s (wait=y) did not write "
                                     "\"ok\" to fd 3",
                                     m->cyrus_conf, e->line, d->name);
                return -1;
            }
            log_msg(LOG_DEBUG, "DAEMON %s is ready", d->name);
        }
    }
    return 0;
}

static void daemon_restart(struct daemon *d);

static void
daemon_restart_cb(struct loop *l, long id, void *ctx)
{
    struct daemon *d = ctx;

    d->restart_timer = 0;
    daemon_restart(d);
}

static void
daemon_restart(struct daemon *d)
{
    struct master *m = d->m;
    unsigned delay;
    char *err = NULL;

    if (m->shutting_down || d->pid != 0 || d->restart_timer)
        return;
    delay = ratelimit_delay(&d->rl, util_now_ms());
    if (delay == 0 && daemon_spawn(m, d, -1, &err) == 0)
        return;
    if (err) {
        unsigned hold = ratelimit_crashed(&d->rl, util_now_ms());

        log_msg(LOG_ERR, "DAEMON %s: %s", d->name, err);
        free(err);
        delay = hold ? hold : 1000;
    }
    d->restart_timer = loop_add_timer(m->loop, delay, daemon_restart_cb, d);
}

static struct daemon *
daemon_find_pid(struct master *m, pid_t pid)
{
    struct daemon *d;

    for (d = m->daemons; d; d = d->next) {
        if (d->pid == pid)
            return d;
    }
    return NULL;
}

void
daemons_child_exited(struct master *m, struct child *c, int status)
{
    struct daemon *d = daemon_find_pid(m, c->pid);
    char text[64];
    unsigned hold;

    children_status_text(status, text, sizeof(text));
    if (d == NULL || m->shutting_down) {
        log_msg(LOG_DEBUG, "DAEMON %s pid %ld %s", c->name, (long)c->pid, text);
        return;
    }
    d->pid = 0;
    log_msg(LOG_ERR, "DAEMON %s pid %ld %s; restarting", d->name, (long)c->pid,
            text);
    hold = ratelimit_crashed(&d->rl, util_now_ms());
    if (hold)
        log_msg(LOG_WARNING,
                "DAEMON %s: %d deaths within %d s, waiting %u ms before "
                "restarting",
                d->name, RATELIMIT_CRASHES, RATELIMIT_CRASH_WINDOW_MS / 1000,
                hold);
    daemon_restart(d);
}

/* Ask a daemon's process to stop; it is no longer ours to restart. */
static void
daemon_stop(struct master *m, struct daemon *d)
{
    struct child *c = d->pid ? children_find(m, d->pid) : NULL;

    if (c)
        children_signal(m, c, SIGTERM);
    d->pid = 0;
}

void
daemons_reload(struct master *m, const struct masterconf *newconf)
{
    struct daemon *old = m->daemons, *d, **dp;
    size_t i, n = masterconf_count(newconf, MASTERCONF_DAEMON);

    m->daemons = NULL;
    for (i = 0; i < n; i++) {
        const struct masterconf_entry *e =
            masterconf_entry(newconf, MASTERCONF_DAEMON, i);

        for (dp = &old; *dp; dp = &(*dp)->next) {
            if (strcmp((*dp)->name, e->name) == 0)
                break;
        }
        d = *dp;
        if (d)
            *dp = d->next;
        if (d && strcmp(d->cmd, e->cmd) == 0 && d->maxfds == e->maxfds) {
            d->wait = e->wait;
            d->line = e->line;
            d->rl.maxrate = e->maxforkrate;
            daemons_append(m, d);
            continue;
        }
        if (d) {
            log_msg(LOG_NOTICE, "DAEMON %s: command changed, restarting",
                    e->name);
            daemon_stop(m, d);
            daemon_free(m, d);
        } else {
            log_msg(LOG_NOTICE, "DAEMON %s: added", e->name);
        }
        d = daemon_new(e);
        d->m = m;
        daemons_append(m, d);
        daemon_restart(d);
    }
    while (old) {
        d = old;
        old = d->next;
        log_msg(LOG_NOTICE, "DAEMON %s: removed", d->name);
        daemon_stop(m, d);
        daemon_free(m, d);
    }
}

void
daemons_free_all(struct master *m)
{
    struct daemon *d;

    while ((d = m->daemons) != NULL) {
        m->daemons = d->next;
        daemon_free(m, d);
    }
}
