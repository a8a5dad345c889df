/* children.c: fork/exec of master's children, the pid table, reaping. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "master.h"
#include "util.h"
#include "xmalloc.h"

static void
children_key(pid_t pid, char key[24])
{
    snprintf(key, 24, "%ld", (long)pid);
}

static int
children_executable(const char *path)
{
    return access(path, X_OK) == 0;
}

char *
children_find_program(const struct master *m, const char *prog)
{
    struct buf path = BUF_INITIALIZER;
    const char *env;

    if (prog[0] == '/')
        return children_executable(prog) ? xstrdup(prog) : NULL;
    if (m->exe_dir) {
        buf_printf(&path, "%s/%s", m->exe_dir, prog);
        if (children_executable(buf_cstring(&path)))
            return buf_release(&path);
    }
    if (strchr(prog, '/')) {
        buf_free(&path);
        return children_executable(prog) ? xstrdup(prog) : NULL;
    }
    env = getenv("PATH");
    if (env == NULL)
        env = "/usr/local/bin:/usr/bin:/bin";
    while (*env) {
        const char *colon = strchr(env, ':');
        size_t len = colon ? (size_t)(colon - env) : strlen(env);

        buf_reset(&path);
        buf_appendmap(&path, len ? env : ".", len ? len : 1);
        buf_printf(&path, "/%s", prog);
        if (children_executable(buf_cstring(&path)))
            return buf_release(&path);
        env += len + (colon ? 1 : 0);
    }
    buf_free(&path);
    return NULL;
}

/* In the child, between fork and exec: never returns. */
static void
children_exec(struct master *m, const struct child_spec *spec, const char *path)
{
    struct strarray argv = STRARRAY_INITIALIZER;
    sigset_t none;
    size_t i;
    int t3 = -1, t4 = -1;

    loop_fork_reset(m->loop);
    signal(SIGPIPE, SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* no orphans: if master dies, so do its children */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != m->pid)
        _exit(0);
    /* move fds out of the way first: fd3 may be 4 and fd4 may be 3 */
    if (spec->fd3 >= 0)
        t3 = fcntl(spec->fd3, F_DUPFD, 10);
    if (spec->fd4 >= 0)
        t4 = fcntl(spec->fd4, F_DUPFD, 10);
    if ((spec->fd3 >= 0 && (t3 < 0 || dup2(t3, 3) < 0))
        || (spec->fd4 >= 0 && (t4 < 0 || dup2(t4, 4) < 0))) {
        log_msg(LOG_ERR, "%s: cannot set up fds: %s", spec->name,
                strerror(errno));
        _exit(71);
    }
    if (t3 >= 0)
        close(t3);
    if (t4 >= 0)
        close(t4);
    if (spec->maxfds > 0) {
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
            rl.rlim_cur = (rlim_t)spec->maxfds;
            if (rl.rlim_max != RLIM_INFINITY && rl.rlim_cur > rl.rlim_max)
                rl.rlim_cur = rl.rlim_max;
            if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                log_msg(LOG_WARNING, "%s: setrlimit(%ld): %s", spec->name,
                        spec->maxfds, strerror(errno));
        }
    }
    setenv("CYRUS_SERVICE", spec->name, 1);
    setenv("CYRUS_CONF", m->imapd_conf, 1);
    strarray_append(&argv, spec->argv->data[0]);
    if (m->pass_conf) {
        strarray_append(&argv, "-C");
        strarray_append(&argv, m->imapd_conf);
    }
    for (i = 1; i < spec->argv->count; i++)
        strarray_append(&argv, spec->argv->data[i]);
    execv(path, argv.data);
    log_msg(LOG_ERR, "%s: exec %s: %s", spec->name, path, strerror(errno));
    _exit(71);
}

struct child *
children_spawn(struct master *m, const struct child_spec *spec, char **error_r)
{
    struct buf err = BUF_INITIALIZER;
    struct child *c;
    char key[24], *path;
    pid_t pid;

    *error_r = NULL;
    path = children_find_program(m, spec->argv->data[0]);
    if (path == NULL) {
        buf_printf(&err, "program %s not found (looked in %s and $PATH)",
                   spec->argv->data[0], m->exe_dir ? m->exe_dir : "?");
        *error_r = buf_release(&err);
        return NULL;
    }
    pid = fork();
    if (pid < 0) {
        buf_printf(&err, "fork: %s", strerror(errno));
        *error_r = buf_release(&err);
        free(path);
        return NULL;
    }
    if (pid == 0)
        children_exec(m, spec, path);
    free(path);
    c = xzmalloc(sizeof(*c));
    c->pid = pid;
    c->kind = spec->kind;
    c->state = CHILD_STARTING;
    c->name = xstrdup(spec->name);
    c->started_ms = util_now_ms();
    children_key(pid, key);
    hash_insert(m->children, key, c);
    log_msg(LOG_DEBUG, "%s: started pid %ld", spec->name, (long)pid);
    return c;
}

struct child *
children_find(const struct master *m, pid_t pid)
{
    char key[24];

    children_key(pid, key);
    return hash_lookup(m->children, key);
}

void
children_forget(struct master *m, struct child **cp)
{
    struct child *c = *cp;
    char key[24];

    if (c == NULL)
        return;
    *cp = NULL;
    children_key(c->pid, key);
    hash_remove(m->children, key);
    free(c->name);
    free(c);
}

void
children_signal(struct master *m, struct child *c, int sig)
{
    c->signalled = 1;
    if (kill(c->pid, sig) < 0 && errno != ESRCH)
        log_msg(LOG_WARNING, "kill %ld: %s", (long)c->pid, strerror(errno));
}

struct signal_all_ctx {
    struct master *m;
    int sig;
};

static int
children_signal_cb(const char *key, void *value, void *ctx)
{
    struct signal_all_ctx *sa = ctx;

    children_signal(sa->m, value, sa->sig);
    return 0;
}

void
children_signal_all(struct master *m, int sig)
{
    struct signal_all_ctx sa = {m, sig};

    hash_foreach(m->children, children_signal_cb, &sa);
}

unsigned
children_count(const struct master *m)
{
    return (unsigned)hash_count(m->children);
}

const char *
children_status_text(int status, char *buf, unsigned size)
{
    if (WIFSIGNALED(status))
        snprintf(buf, size, "killed by signal %d%s", WTERMSIG(status),
                 WCOREDUMP(status) ? " (core dumped)" : "");
    else if (WIFEXITED(status))
        snprintf(buf, size, "exited with status %d", WEXITSTATUS(status));
    else
        snprintf(buf, size, "stopped (status 0x%x)", (unsigned)status);
    return buf;
}

void
children_reap(struct master *m)
{
    pid_t pid;
    int status;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        char key[24];
        struct child *c;

        children_key(pid, key);
        c = hash_remove(m->children, key);
        if (c == NULL) {
            log_msg(LOG_DEBUG, "reaped unknown pid %ld", (long)pid);
            continue;
        }
        switch (c->kind) {
        case CHILD_SERVICE:
            services_child_exited(m, c, status);
            break;
        case CHILD_DAEMON:
            daemons_child_exited(m, c, status);
            break;
        case CHILD_EVENT:
            events_child_exited(m, c, status);
            break;
        case CHILD_START:
            break;
        }
        free(c->name);
        free(c);
    }
    master_check_done(m);
}

static void
children_free_cb(void *value)
{
    struct child *c = value;

    free(c->name);
    free(c);
}

void
children_free_all(struct master *m)
{
    hash_free(&m->children, children_free_cb);
}
