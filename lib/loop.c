/* loop.c: poll(2)-based event loop with timers and self-pipe signals. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "errors.h"
#include "loop.h"
#include "util.h"
#include "xmalloc.h"

#define LOOP_NSIG 65

struct loop_fd {
    int fd;
    unsigned events;
    loop_fd_cb *cb;
    void *ctx;
    uint64_t serial; /* tells a reused fd number from the old one */
};

struct loop_timer {
    long id;
    uint64_t due_ms;
    loop_timer_cb *cb;
    void *ctx;
};

struct loop_signal {
    loop_signal_cb *cb;
    void *ctx;
    struct sigaction old;
};

struct loop {
    struct loop_fd *fds;
    unsigned nfds, allocfds;
    int *fd_index; /* fd -> index in fds, or -1 */
    unsigned fd_index_size;
    uint64_t next_serial;

    struct loop_timer *timers;
    unsigned ntimers, alloctimers;
    long next_timer_id;

    struct loop_signal *sigs[LOOP_NSIG];
    int sigpipe[2]; /* [0] read end, polled by the loop */

    struct pollfd *pfds; /* scratch for one poll() */
    uint64_t *pserial;
    unsigned allocp;

    int stop;
};

/* The signal handler has no context argument, so the pipe to wake up and
 * the flags of which signals arrived must be static. Only the loop recorded
 * in loop_signal_owner may install handlers (see loop.h). */
static volatile sig_atomic_t loop_signal_pending[LOOP_NSIG];
static volatile sig_atomic_t loop_signal_wfd = -1;
static struct loop *loop_signal_owner;

static void
loop_signal_handler(int signo)
{
    int saved = errno;
    char c = 0;

    if (signo > 0 && signo < LOOP_NSIG)
        loop_signal_pending[signo] = 1;
    if (loop_signal_wfd >= 0) {
        /* the pipe is non-blocking: when full, a wakeup is already queued */
        if (write(loop_signal_wfd, &c, 1) < 0) {
        }
    }
    errno = saved;
}

struct loop *
loop_new(void)
{
    struct loop *l = xzmalloc(sizeof(*l));

    if (pipe2(l->sigpipe, O_CLOEXEC | O_NONBLOCK) < 0)
        util_fatal(71, "loop_new: pipe: %s", strerror(errno));
    l->next_serial = 1;
    l->next_timer_id = 1;
    return l;
}

void
loop_free(struct loop **lp)
{
    struct loop *l = *lp;
    int s;

    if (l == NULL)
        return;
    *lp = NULL;
    for (s = 1; s < LOOP_NSIG; s++) {
        if (l->sigs[s])
            loop_del_signal(l, s);
    }
    if (loop_signal_owner == l) {
        loop_signal_owner = NULL;
        loop_signal_wfd = -1;
    }
    close(l->sigpipe[0]);
    close(l->sigpipe[1]);
    free(l->fds);
    free(l->fd_index);
    free(l->timers);
    free(l->pfds);
    free(l->pserial);
    free(l);
}

static struct loop_fd *
loop_find_fd(const struct loop *l, int fd)
{
    if (fd < 0 || (unsigned)fd >= l->fd_index_size || l->fd_index[fd] < 0)
        return NULL;
    return &l->fds[l->fd_index[fd]];
}

int
loop_add_fd(struct loop *l, int fd, unsigned events, loop_fd_cb *cb, void *ctx)
{
    struct loop_fd *e;

    if (fd < 0 || (events & ~(LOOP_READ | LOOP_WRITE)) || cb == NULL)
        return ERR_INVALID;
    if (loop_find_fd(l, fd))
        return ERR_EXISTS;
    if ((unsigned)fd >= l->fd_index_size) {
        unsigned n = l->fd_index_size ? l->fd_index_size : 64, i;

        while (n <= (unsigned)fd)
            n *= 2;
        l->fd_index = xreallocarray(l->fd_index, n, sizeof(int));
        for (i = l->fd_index_size; i < n; i++)
            l->fd_index[i] = -1;
        l->fd_index_size = n;
    }
    if (l->nfds == l->allocfds) {
        l->allocfds = l->allocfds ? 2 * l->allocfds : 16;
        l->fds = xreallocarray(l->fds, l->allocfds, sizeof(*l->fds));
    }
    e = &l->fds[l->nfds];
    e->fd = fd;
    e->events = events;
    e->cb = cb;
    e->ctx = ctx;
    e->serial = l->next_serial++;
    l->fd_index[fd] = (int)l->nfds;
    l->nfds++;
    return 0;
}

int
loop_mod_fd(struct loop *l, int fd, unsigned events)
{
    struct loop_fd *e = loop_find_fd(l, fd);

    if (e == NULL)
        return ERR_NOTFOUND;
    if (events & ~(LOOP_READ | LOOP_WRITE))
        return ERR_INVALID;
    e->events = events;
    return 0;
}

int
loop_del_fd(struct loop *l, int fd)
{
    struct loop_fd *e = loop_find_fd(l, fd);
    unsigned idx;

    if (e == NULL)
        return ERR_NOTFOUND;
    idx = (unsigned)l->fd_index[fd];
    l->fd_index[fd] = -1;
    l->nfds--;
    if (idx != l->nfds) {
        l->fds[idx] = l->fds[l->nfds];
        l->fd_index[l->fds[idx].fd] = (int)idx;
    }
    return 0;
}

long
loop_add_timer(struct loop *l, unsigned ms, loop_timer_cb *cb, void *ctx)
{
    struct loop_timer *t;

    ASSERT(cb != NULL);
    if (l->ntimers == l->alloctimers) {
        l->alloctimers = l->alloctimers ? 2 * l->alloctimers : 16;
        l->timers =
            xreallocarray(l->timers, l->alloctimers, sizeof(*l->timers));
    }
    t = &l->timers[l->ntimers++];
    t->id = l->next_timer_id++;
    t->due_ms = util_now_ms() + ms;
    t->cb = cb;
    t->ctx = ctx;
    return t->id;
}

int
loop_cancel_timer(struct loop *l, long id)
{
    unsigned i;

    for (i = 0; i < l->ntimers; i++) {
        if (l->timers[i].id == id) {
            l->timers[i] = l->timers[--l->ntimers];
            return 0;
        }
    }
    return ERR_NOTFOUND;
}

int
loop_add_signal(struct loop *l, int signo, loop_signal_cb *cb, void *ctx)
{
    struct sigaction sa;
    struct loop_signal *s;

    if (signo <= 0 || signo >= LOOP_NSIG || signo == SIGKILL || signo == SIGSTOP
        || cb == NULL)
        return ERR_INVALID;
    if (loop_signal_owner != NULL && loop_signal_owner != l)
        return ERR_CONFLICT;
    if (l->sigs[signo])
        return ERR_EXISTS;
    s = xzmalloc(sizeof(*s));
    s->cb = cb;
    s->ctx = ctx;
    loop_signal_owner = l;
    loop_signal_wfd = l->sigpipe[1];
    loop_signal_pending[signo] = 0;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = loop_signal_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (sigaction(signo, &sa, &s->old) < 0) {
        free(s);
        return ERR_INVALID;
    }
    l->sigs[signo] = s;
    return 0;
}

int
loop_del_signal(struct loop *l, int signo)
{
    struct sigaction sa;

    if (signo <= 0 || signo >= LOOP_NSIG || l->sigs[signo] == NULL)
        return ERR_NOTFOUND;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(signo, &sa, NULL);
    free(l->sigs[signo]);
    l->sigs[signo] = NULL;
    loop_signal_pending[signo] = 0;
    return 0;
}

void
loop_fork_reset(struct loop *l)
{
    struct sigaction sa;
    int s;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    for (s = 1; s < LOOP_NSIG; s++) {
        if (l->sigs[s])
            sigaction(s, &sa, NULL);
    }
    loop_signal_wfd = -1;
}

/* Milliseconds until the earliest timer (0 if overdue), or -1 if none. */
static int
loop_next_timeout(const struct loop *l, uint64_t now)
{
    uint64_t best = UINT64_MAX;
    unsigned i;

    for (i = 0; i < l->ntimers; i++) {
        if (l->timers[i].due_ms < best)
            best = l->timers[i].due_ms;
    }
    if (best == UINT64_MAX)
        return -1;
    if (best <= now)
        return 0;
    if (best - now > INT32_MAX)
        return INT32_MAX;
    return (int)(best - now);
}

static int
loop_dispatch_signals(struct loop *l)
{
    char drain[64];
    int s, n = 0;

    while (read(l->sigpipe[0], drain, sizeof(drain)) > 0)
        ;
    for (s = 1; s < LOOP_NSIG; s++) {
        if (!loop_signal_pending[s])
            continue;
        loop_signal_pending[s] = 0;
        if (l->sigs[s]) {
            l->sigs[s]->cb(l, s, l->sigs[s]->ctx);
            n++;
        }
        if (l->stop)
            break;
    }
    return n;
}

/* Fire every timer that was due at `now` and existed when the dispatch
 * started (a 0 ms timer added by a callback waits for the next round, so a
 * timer that re-arms itself cannot starve the fds). */
static int
loop_dispatch_timers(struct loop *l, uint64_t now)
{
    long last_id = l->next_timer_id - 1;
    int n = 0;

    while (!l->stop) {
        unsigned i, best = l->ntimers;
        struct loop_timer t;

        for (i = 0; i < l->ntimers; i++) {
            const struct loop_timer *c = &l->timers[i];

            if (c->due_ms > now || c->id > last_id)
                continue;
            if (best == l->ntimers || c->due_ms < l->timers[best].due_ms
                || (c->due_ms == l->timers[best].due_ms
                    && c->id < l->timers[best].id))
                best = i;
        }
        if (best == l->ntimers)
            break;
        t = l->timers[best];
        l->timers[best] = l->timers[--l->ntimers];
        t.cb(l, t.id, t.ctx);
        n++;
    }
    return n;
}

int
loop_run_once(struct loop *l, int timeout_ms)
{
    unsigned i, np = 0;
    int r, next, n = 0, sigready = 0;
    int stop_before = l->stop;
    uint64_t now = util_now_ms();

    /* l->stop below means "stopped by a callback of this round" */
    l->stop = 0;

    if (l->allocp < l->nfds + 1) {
        l->allocp = l->nfds + 16;
        l->pfds = xreallocarray(l->pfds, l->allocp, sizeof(*l->pfds));
        l->pserial = xreallocarray(l->pserial, l->allocp, sizeof(uint64_t));
    }
    l->pfds[np].fd = l->sigpipe[0];
    l->pfds[np].events = POLLIN;
    l->pfds[np].revents = 0;
    l->pserial[np++] = 0;
    for (i = 0; i < l->nfds; i++) {
        const struct loop_fd *e = &l->fds[i];

        if (e->events == 0)
            continue;
        l->pfds[np].fd = e->fd;
        l->pfds[np].events =
            (short)(((e->events & LOOP_READ) ? POLLIN : 0)
                    | ((e->events & LOOP_WRITE) ? POLLOUT : 0));
        l->pfds[np].revents = 0;
        l->pserial[np++] = e->serial;
    }
    next = loop_next_timeout(l, now);
    if (next >= 0 && (timeout_ms < 0 || next < timeout_ms))
        timeout_ms = next;
    r = poll(l->pfds, np, timeout_ms);
    if (r < 0 && errno != EINTR) {
        l->stop |= stop_before;
        return ERR_IO;
    }
    if (r > 0) {
        for (i = 1; i < np && !l->stop; i++) {
            short rev = l->pfds[i].revents;
            struct loop_fd *e;
            unsigned ev = 0;

            if (rev == 0)
                continue;
            e = loop_find_fd(l, l->pfds[i].fd);
            /* deleted, or re-added after the poll: not this event */
            if (e == NULL || e->serial != l->pserial[i])
                continue;
            if (rev & POLLIN)
                ev |= LOOP_READ;
            if (rev & POLLOUT)
                ev |= LOOP_WRITE;
            if (rev & (POLLHUP | POLLERR | POLLNVAL))
                ev |= LOOP_HUP | (e->events & (LOOP_READ | LOOP_WRITE));
            ev &= e->events | LOOP_HUP;
            if (ev == 0)
                continue;
            e->cb(l, e->fd, ev, e->ctx);
            n++;
        }
        sigready = l->pfds[0].revents != 0;
    }
    /* a signal that interrupted poll() has also written to the pipe */
    if ((sigready || r < 0) && !l->stop)
        n += loop_dispatch_signals(l);
    if (!l->stop)
        n += loop_dispatch_timers(l, util_now_ms());
    l->stop |= stop_before;
    return n;
}

int
loop_run(struct loop *l)
{
    int r = 0;

    l->stop = 0;
    while (!l->stop) {
        r = loop_run_once(l, -1);
        if (r < 0)
            break;
        r = 0;
    }
    l->stop = 0;
    return r;
}

void
loop_stop(struct loop *l)
{
    l->stop = 1;
}

unsigned
loop_fd_count(const struct loop *l)
{
    return l->nfds;
}

unsigned
loop_timer_count(const struct loop *l)
{
    return l->ntimers;
}
