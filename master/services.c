/* services.c: SERVICES entries: listeners, worker pools, READY/BUSY
 * tracking, spawning on demand, reload.
 *
 * Each bound address of a service is a pool with its own listening socket,
 * status pipe and workers (as Cyrus does with one service instance per
 * address). Workers accept by themselves. Master only watches a listener
 * when the pool has no worker starting or ready, so that a waiting client
 * makes it fork one; with maxchild workers alive the listener is not
 * watched at all and clients wait in the kernel's backlog. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "errors.h"
#include "listen.h"
#include "log.h"
#include "master.h"
#include "service.h"
#include "util.h"
#include "xmalloc.h"

struct pool {
    struct master *m;
    struct service *svc;
    int listen_fd;   /* -1 once closed or handed over */
    char *unix_path; /* UNIX socket to unlink when closing */
    int status_r, status_w;
    unsigned nstarting, nready, nbusy;
    int watching;
};

struct service {
    char *name;
    unsigned line;
    char *cmd, *listen, *proto;
    struct strarray argv;
    long prefork, maxchild, maxfds;
    struct ratelimit rl;
    long retry_timer; /* 0: none */
    struct pool **pools;
    size_t npools;
    int retired;
    struct service *next;
};

/* After a failed fork or exec setup, before trying again. */
#define SERVICES_RETRY_MS 200

static void pool_adjust(struct pool *p);

static struct service *
service_new(const struct masterconf_entry *e)
{
    struct service *svc = xzmalloc(sizeof(*svc));
    size_t i;

    svc->name = xstrdup(e->name);
    svc->line = e->line;
    svc->cmd = xstrdup(e->cmd);
    svc->listen = xstrdup(e->listen);
    svc->proto = xstrdup(e->proto);
    for (i = 0; i < e->argv.count; i++)
        strarray_append(&svc->argv, e->argv.data[i]);
    svc->prefork = e->prefork;
    svc->maxchild = e->maxchild;
    svc->maxfds = e->maxfds;
    ratelimit_init(&svc->rl, e->maxforkrate);
    return svc;
}

static unsigned
pool_children(const struct pool *p)
{
    return p->nstarting + p->nready + p->nbusy;
}

static unsigned
service_children(const struct service *svc)
{
    unsigned n = 0;
    size_t i;

    for (i = 0; i < svc->npools; i++)
        n += pool_children(svc->pools[i]);
    return n;
}

static void pool_listen_cb(struct loop *l, int fd, unsigned events, void *ctx);

static void
pool_watch(struct pool *p, int on)
{
    if (p->listen_fd < 0)
        on = 0;
    if (on == p->watching)
        return;
    if (on)
        loop_add_fd(p->m->loop, p->listen_fd, LOOP_READ, pool_listen_cb, p);
    else
        loop_del_fd(p->m->loop, p->listen_fd);
    p->watching = on;
}

static void
pool_close_listener(struct pool *p)
{
    pool_watch(p, 0);
    if (p->listen_fd >= 0)
        close(p->listen_fd);
    p->listen_fd = -1;
    if (p->unix_path)
        unlink(p->unix_path);
    free(p->unix_path);
    p->unix_path = NULL;
}

static void
service_free(struct master *m, struct service *svc)
{
    size_t i;

    for (i = 0; i < svc->npools; i++) {
        struct pool *p = svc->pools[i];

        pool_close_listener(p);
        loop_del_fd(m->loop, p->status_r);
        close(p->status_r);
        close(p->status_w);
        free(p);
    }
    if (svc->retry_timer)
        loop_cancel_timer(m->loop, svc->retry_timer);
    free(svc->pools);
    free(svc->name);
    free(svc->cmd);
    free(svc->listen);
    free(svc->proto);
    strarray_fini(&svc->argv);
    free(svc);
}

static unsigned *
pool_counter(struct pool *p, enum child_state state)
{
    return state == CHILD_STARTING ? &p->nstarting
           : state == CHILD_READY  ? &p->nready
                                   : &p->nbusy;
}

static void
pool_set_state(struct child *c, enum child_state state)
{
    unsigned *old = pool_counter(c->pool, c->state);

    ASSERT(*old > 0);
    (*old)--;
    c->state = state;
    (*pool_counter(c->pool, state))++;
}

/* Apply every status message waiting in p's pipe. `gone` is a worker
 * just reaped (already out of the pid table) whose last messages may still
 * be in the pipe, or NULL. */
static void
pool_read_status(struct pool *p, struct child *gone)
{
    struct service_status msgs[64];
    ssize_t n;
    size_t i;

    while ((n = read(p->status_r, msgs, sizeof(msgs))) > 0) {
        /* whole messages only: each was one atomic pipe write */
        for (i = 0; i < (size_t)n / sizeof(msgs[0]); i++) {
            pid_t pid = (pid_t)msgs[i].pid;
            struct child *c =
                gone && gone->pid == pid ? gone : children_find(p->m, pid);

            /* a worker that has been reaped already, or a forged pid */
            if (c == NULL || c->pool != p)
                continue;
            if (msgs[i].type == SERVICE_STATUS_READY)
                pool_set_state(c, CHILD_READY);
            else if (msgs[i].type == SERVICE_STATUS_BUSY)
                pool_set_state(c, CHILD_BUSY);
            else
                log_msg(LOG_WARNING,
                        "service %s: pid %ld sent unknown status %u",
                        p->svc->name, (long)c->pid, (unsigned)msgs[i].type);
        }
    }
}

/* Status messages from this pool's workers. */
static void
pool_status_cb(struct loop *l, int fd, unsigned events, void *ctx)
{
    struct pool *p = ctx;

    pool_read_status(p, NULL);
    pool_adjust(p);
}

static void
service_retry_cb(struct loop *l, long id, void *ctx)
{
    struct service *svc = ctx;
    size_t i;

    svc->retry_timer = 0;
    for (i = 0; i < svc->npools; i++)
        pool_adjust(svc->pools[i]);
}

static void
service_retry_later(struct master *m, struct service *svc, unsigned ms)
{
    if (svc->retry_timer == 0)
        svc->retry_timer = loop_add_timer(m->loop, ms, service_retry_cb, svc);
}

/* Fork one worker for p. 0, or -1 (logged; counted as a crash). */
static int
pool_spawn(struct pool *p)
{
    struct service *svc = p->svc;
    struct child_spec spec;
    struct child *c;
    char *err = NULL;
    unsigned hold;

    memset(&spec, 0, sizeof(spec));
    spec.kind = CHILD_SERVICE;
    spec.name = svc->name;
    spec.argv = &svc->argv;
    spec.fd3 = p->listen_fd;
    spec.fd4 = p->status_w;
    spec.maxfds = svc->maxfds;
    ratelimit_forked(&svc->rl, util_now_ms());
    c = children_spawn(p->m, &spec, &err);
    if (c == NULL) {
        log_msg(LOG_ERR, "service %s: %s", svc->name, err);
        free(err);
        hold = ratelimit_crashed(&svc->rl, util_now_ms());
        if (hold)
            log_msg(LOG_WARNING,
                    "service %s: too many failures, waiting %u ms before "
                    "forking again",
                    svc->name, hold);
        /* no child, so no SIGCHLD will bring us back: try again later */
        service_retry_later(p->m, svc, hold ? hold : SERVICES_RETRY_MS);
        return -1;
    }
    c->pool = p;
    p->nstarting++;
    return 0;
}

static int
pool_room(const struct pool *p)
{
    return p->svc->maxchild < 0
           || pool_children(p) < (unsigned long)p->svc->maxchild;
}

/* Fork preforked workers and decide whether to watch the listener. */
static void
pool_adjust(struct pool *p)
{
    struct master *m = p->m;
    struct service *svc = p->svc;
    unsigned delay = 0;

    if (m->shutting_down || svc->retired || p->listen_fd < 0) {
        pool_watch(p, 0);
        return;
    }
    while (p->nstarting + p->nready < (unsigned long)svc->prefork
           && pool_room(p) && svc->retry_timer == 0) {
        delay = ratelimit_delay(&svc->rl, util_now_ms());
        if (delay || pool_spawn(p) < 0)
            break;
    }
    if (p->nstarting + p->nready == 0 && pool_room(p)) {
        delay = ratelimit_delay(&svc->rl, util_now_ms());
        /* a readable listener we may not serve yet would spin the loop */
        pool_watch(p, delay == 0 && svc->retry_timer == 0);
    } else {
        pool_watch(p, 0);
    }
    if (delay)
        service_retry_later(m, svc, delay);
}

/* A client is waiting and no worker is ready: fork one. */
static void
pool_listen_cb(struct loop *l, int fd, unsigned events, void *ctx)
{
    struct pool *p = ctx;

    if (p->nstarting + p->nready == 0 && pool_room(p)
        && p->svc->retry_timer == 0
        && ratelimit_delay(&p->svc->rl, util_now_ms()) == 0)
        pool_spawn(p);
    pool_adjust(p);
}

static int
service_add_pool(struct master *m, struct service *svc, int listen_fd,
                 const char *unix_path)
{
    struct pool *p = xzmalloc(sizeof(*p));
    int fds[2];

    if (pipe2(fds, O_CLOEXEC) < 0) {
        free(p);
        return -1;
    }
    /* only master's end is non-blocking: a worker's status write waits
     * rather than getting lost if master is slow */
    util_set_nonblock(fds[0], 1);
    p->m = m;
    p->svc = svc;
    p->listen_fd = listen_fd;
    p->unix_path = xstrdupnull(unix_path);
    p->status_r = fds[0];
    p->status_w = fds[1];
    loop_add_fd(m->loop, p->status_r, LOOP_READ, pool_status_cb, p);
    svc->pools = xreallocarray(svc->pools, svc->npools + 1, sizeof(p));
    svc->pools[svc->npools++] = p;
    return 0;
}

/* Bind svc's listen address: one pool per socket. 0, or -1 with *error_r
 * (caller frees). */
static int
service_bind(struct master *m, struct service *svc, char **error_r)
{
    struct listen_spec spec;
    struct buf err = BUF_INITIALIZER;
    const char *why;
    char *msg = NULL;
    int *fds = NULL, r;
    size_t nfds = 0, i;

    if (listen_parse(svc->listen, &spec, &why) < 0) {
        buf_printf(&err, "bad listen=%s: %s", svc->listen, why);
        *error_r = buf_release(&err);
        return -1;
    }
    r = listen_bind(&spec, svc->proto, &fds, &nfds, &msg);
    if (r < 0) {
        *error_r = msg;
        listen_spec_fini(&spec);
        free(fds);
        return -1;
    }
    for (i = 0; i < nfds; i++) {
        if (service_add_pool(m, svc, fds[i], spec.path) < 0) {
            buf_printf(&err, "pipe: %s", strerror(errno));
            for (; i < nfds; i++)
                close(fds[i]);
            *error_r = buf_release(&err);
            listen_spec_fini(&spec);
            free(fds);
            return -1;
        }
    }
    log_msg(LOG_DEBUG, "service %s: listening on %s (%zu socket%s)", svc->name,
            svc->listen, nfds, nfds == 1 ? "" : "s");
    listen_spec_fini(&spec);
    free(fds);
    return 0;
}

static void
services_append(struct service **list, struct service *svc)
{
    while (*list)
        list = &(*list)->next;
    svc->next = NULL;
    *list = svc;
}

int
services_start(struct master *m)
{
    size_t i, n = masterconf_count(m->conf, MASTERCONF_SERVICES);

    for (i = 0; i < n; i++) {
        const struct masterconf_entry *e =
            masterconf_entry(m->conf, MASTERCONF_SERVICES, i);
        struct service *svc = service_new(e);
        char *err = NULL;

        if (service_bind(m, svc, &err) < 0) {
            log_msg(LOG_ERR, "%s:%u: service %s: %s", m->cyrus_conf, e->line,
                    e->name, err);
            fprintf(stderr, "master: %s:%u: service %s: %s\n", m->cyrus_conf,
                    e->line, e->name, err);
            free(err);
            service_free(m, svc);
            return -1;
        }
        services_append(&m->services, svc);
    }
    return 0;
}

void
services_adjust_all(struct master *m)
{
    struct service *svc;
    size_t i;

    for (svc = m->services; svc; svc = svc->next) {
        for (i = 0; i < svc->npools; i++)
            pool_adjust(svc->pools[i]);
    }
}

static void
services_unlink(struct service **list, struct service *svc)
{
    while (*list && *list != svc)
        list = &(*list)->next;
    if (*list)
        *list = svc->next;
    svc->next = NULL;
}

struct retire_ctx {
    struct master *m;
    struct service *svc;
};

static int
service_hup_cb(const char *key, void *value, void *ctx)
{
    struct retire_ctx *rc = ctx;
    struct child *c = value;

    if (c->kind == CHILD_SERVICE && c->pool->svc == rc->svc)
        children_signal(rc->m, c, SIGHUP);
    return 0;
}

/* Stop forking for svc and tell its workers to finish (SIGHUP: idle ones
 * exit at once, busy ones after their session). Freed when the last one
 * is reaped. */
static void
service_retire(struct master *m, struct service *svc)
{
    struct retire_ctx rc = {m, svc};
    size_t i;

    services_unlink(&m->services, svc);
    svc->retired = 1;
    for (i = 0; i < svc->npools; i++)
        pool_close_listener(svc->pools[i]);
    if (service_children(svc) == 0) {
        service_free(m, svc);
        return;
    }
    hash_foreach(m->children, service_hup_cb, &rc);
    services_append(&m->retired, svc);
}

/* Same listen and proto, new command: the new service takes over the
 * bound sockets (no moment without a listener), the old one retires. */
static struct service *
service_take_over(struct master *m, struct service *old,
                  const struct masterconf_entry *e)
{
    struct service *svc = service_new(e);
    size_t i;

    for (i = 0; i < old->npools; i++) {
        struct pool *op = old->pools[i];

        pool_watch(op, 0);
        if (service_add_pool(m, svc, op->listen_fd, op->unix_path) < 0) {
            log_msg(LOG_ERR, "service %s: pipe: %s", svc->name,
                    strerror(errno));
            continue;
        }
        op->listen_fd = -1;
        free(op->unix_path);
        op->unix_path = NULL;
    }
    return svc;
}

void
services_reload(struct master *m, const struct masterconf *newconf)
{
    struct service *fresh = NULL, *svc, *next;
    size_t i, n = masterconf_count(newconf, MASTERCONF_SERVICES);

    for (i = 0; i < n; i++) {
        const struct masterconf_entry *e =
            masterconf_entry(newconf, MASTERCONF_SERVICES, i);
        char *err = NULL;

        for (svc = m->services; svc; svc = svc->next) {
            if (strcmp(svc->name, e->name) == 0)
                break;
        }
        if (svc && strcmp(svc->listen, e->listen) == 0
            && strcmp(svc->proto, e->proto) == 0) {
            if (strcmp(svc->cmd, e->cmd) != 0 || svc->maxfds != e->maxfds) {
                struct service *repl = service_take_over(m, svc, e);

                log_msg(LOG_NOTICE,
                        "service %s: command changed, "
                        "restarting its processes",
                        e->name);
                service_retire(m, svc);
                services_append(&fresh, repl);
            } else {
                services_unlink(&m->services, svc);
                svc->line = e->line;
                svc->prefork = e->prefork;
                svc->maxchild = e->maxchild;
                svc->rl.maxrate = e->maxforkrate;
                services_append(&fresh, svc);
            }
            continue;
        }
        if (svc) {
            log_msg(LOG_NOTICE, "service %s: listen address changed to %s",
                    e->name, e->listen);
            service_retire(m, svc);
        } else {
            log_msg(LOG_NOTICE, "service %s: added", e->name);
        }
        svc = service_new(e);
        if (service_bind(m, svc, &err) < 0) {
            log_msg(LOG_ERR, "%s:%u: service %s: %s; not started",
                    m->cyrus_conf, e->line, e->name, err);
            free(err);
            service_free(m, svc);
            continue;
        }
        services_append(&fresh, svc);
    }
    for (svc = m->services; svc; svc = next) {
        next = svc->next;
        log_msg(LOG_NOTICE, "service %s: removed", svc->name);
        service_retire(m, svc);
    }
    m->services = fresh;
    services_adjust_all(m);
}

void
services_child_exited(struct master *m, struct child *c, int status)
{
    struct pool *p = c->pool;
    struct service *svc = p->svc;
    char text[64];

    /* its BUSY may still be in the pipe: SIGCHLD can be handled first */
    pool_read_status(p, c);
    (*pool_counter(p, c->state))--;
    if (!c->signalled && (WIFSIGNALED(status) || WEXITSTATUS(status) != 0)) {
        unsigned hold = 0;

        log_msg(LOG_ERR, "service %s pid %ld %s%s", svc->name, (long)c->pid,
                children_status_text(status, text, sizeof(text)),
                c->state == CHILD_BUSY ? " while serving a client" : "");
        /* The crash brake is for workers that die before they serve
         * anyone (bad config, missing library, a crash in init), which
         * would otherwise be forked again at once, forever. A worker that
         * dies with a client (a bug hit by one session, or an admin's
         * kill -9) was started fine; holding the service back would only
         * keep the next clients waiting (as Cyrus: READY-state failures
         * count, BUSY ones do not). */
        if (c->state != CHILD_BUSY)
            hold = ratelimit_crashed(&svc->rl, util_now_ms());
        if (hold)
            log_msg(LOG_WARNING,
                    "service %s: %d failures within %d s, waiting %u ms "
                    "before forking again",
                    svc->name, RATELIMIT_CRASHES,
                    RATELIMIT_CRASH_WINDOW_MS / 1000, hold);
    } else {
        log_msg(LOG_DEBUG, "service %s pid %ld %s", svc->name, (long)c->pid,
                children_status_text(status, text, sizeof(text)));
    }
    if (svc->retired) {
        if (service_children(svc) == 0) {
            services_unlink(&m->retired, svc);
            service_free(m, svc);
        }
        return;
    }
    pool_adjust(p);
}

void
services_stop(struct master *m)
{
    struct service *svc;
    size_t i;

    for (svc = m->services; svc; svc = svc->next) {
        for (i = 0; i < svc->npools; i++)
            pool_close_listener(svc->pools[i]);
        if (svc->retry_timer)
            loop_cancel_timer(m->loop, svc->retry_timer);
        svc->retry_timer = 0;
    }
}

void
services_free_all(struct master *m)
{
    struct service *svc, *next;

    for (svc = m->services; svc; svc = next) {
        next = svc->next;
        service_free(m, svc);
    }
    for (svc = m->retired; svc; svc = next) {
        next = svc->next;
        service_free(m, svc);
    }
    m->services = m->retired = NULL;
}
