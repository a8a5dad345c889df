/* service.c: service_main(), the accept loop of service processes. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "log.h"
#include "service.h"
#include "strarray.h"
#include "xmalloc.h"

#define SERVICE_EX_USAGE  64
#define SERVICE_EX_CONFIG 78

struct service_opts {
    const char *conf;
    unsigned long maxuses;
    unsigned long idle_secs;
    struct strarray args; /* argv[0] and the options left for init() */
};

/* "ip;port" of one end of fd, or "" (UNIX sockets, errors). */
static void
service_addr(int fd, int peer, struct buf *out)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char host[NI_MAXHOST], port[NI_MAXSERV];
    int r;

    buf_reset(out);
    r = peer ? getpeername(fd, (struct sockaddr *)&ss, &len)
             : getsockname(fd, (struct sockaddr *)&ss, &len);
    if (r < 0 || (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
        return;
    if (getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), port,
                    sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV)
        != 0)
        return;
    buf_printf(out, "%s;%s", host, port);
}

static int
service_is_unix(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    return getsockname(fd, (struct sockaddr *)&ss, &len) == 0
           && ss.ss_family == AF_UNIX;
}

static void
service_report(int status_fd, enum service_status_type type)
{
    struct service_status msg;

    if (status_fd < 0)
        return;
    msg.type = (uint32_t)type;
    msg.pid = (uint32_t)getpid();
    /* master gone (EPIPE): nothing to report to; we exit on our own */
    if (write(status_fd, &msg, sizeof(msg)) < 0) {
    }
}

static int
service_parse_opts(int argc, char **argv, struct service_opts *o)
{
    int i;

    o->maxuses = 250;
    o->idle_secs = 60;
    strarray_append(&o->args, argc > 0 ? argv[0] : "service");
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *val;
        char opt;

        if (a[0] != '-' || (a[1] != 'C' && a[1] != 'U' && a[1] != 'T')) {
            strarray_append(&o->args, a);
            continue;
        }
        opt = a[1];
        if (a[2] != '\0') {
            val = a + 2;
        } else if (i + 1 < argc) {
            val = argv[++i];
        } else {
            fprintf(stderr, "%s: option -%c needs a value\n", argv[0], opt);
            return -1;
        }
        if (opt == 'C') {
            o->conf = val;
        } else if (util_parse_ulong(val, opt == 'U' ? 1000000000UL : 86400UL,
                                    opt == 'U' ? &o->maxuses : &o->idle_secs)
                   < 0) {
            fprintf(stderr, "%s: -%c %s: expected a number\n", argv[0], opt,
                    val);
            return -1;
        }
    }
    return 0;
}

static void
service_serve_one(int fd, const struct service_ops *ops,
                  struct service_conn *info, struct buf *local,
                  struct buf *remote)
{
    info->is_unix = service_is_unix(fd);
    service_addr(fd, 0, local);
    service_addr(fd, 1, remote);
    info->local = buf_cstring(local);
    info->remote = buf_cstring(remote);
    info->use++;
    ops->connection(fd, info);
}

/* Under master: accept on fd 3 until uses, idle time or a signal end it. */
static void
service_serve_master(const struct service_ops *ops,
                     const struct service_opts *o, struct service_conn *info)
{
    struct buf local = BUF_INITIALIZER, remote = BUF_INITIALIZER;
    sigset_t stopset, termset;
    int sigfd, status_fd = SERVICE_STATUS_FD;

    sigemptyset(&stopset);
    sigaddset(&stopset, SIGTERM);
    sigaddset(&stopset, SIGHUP);
    sigemptyset(&termset);
    sigaddset(&termset, SIGTERM);
    sigprocmask(SIG_BLOCK, &stopset, NULL);
    sigfd = signalfd(-1, &stopset, SFD_CLOEXEC | SFD_NONBLOCK);
    if (fcntl(status_fd, F_GETFD) < 0)
        status_fd = -1;
    else
        util_set_cloexec(status_fd, 1);
    util_set_cloexec(SERVICE_LISTEN_FD, 1);
    /* several workers wait on the socket and only one gets each client:
     * the others must not block in accept() with signals blocked */
    util_set_nonblock(SERVICE_LISTEN_FD, 1);
    for (;;) {
        struct pollfd pfd[2];
        int r, fd;

        if (service_stop_requested())
            break;
        service_report(status_fd, SERVICE_STATUS_READY);
        pfd[0].fd = SERVICE_LISTEN_FD;
        pfd[0].events = POLLIN;
        pfd[1].fd = sigfd;
        pfd[1].events = POLLIN;
        r = poll(pfd, sigfd >= 0 ? 2 : 1,
                 o->idle_secs ? (int)(o->idle_secs * 1000) : -1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            log_msg(LOG_ERR, "poll: %s", strerror(errno));
            break;
        }
        if (r == 0) {
            log_msg(LOG_DEBUG, "idle for %lus, exiting", o->idle_secs);
            break;
        }
        if (sigfd >= 0 && pfd[1].revents)
            break; /* asked to stop while waiting */
        fd = accept4(SERVICE_LISTEN_FD, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            /* another process took it, or the client went away */
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR
                || errno == ECONNABORTED || errno == EPROTO)
                continue;
            log_msg(LOG_ERR, "accept: %s", strerror(errno));
            break;
        }
        service_report(status_fd, SERVICE_STATUS_BUSY);
        sigprocmask(SIG_UNBLOCK, &termset, NULL);
        service_serve_one(fd, ops, info, &local, &remote);
        sigprocmask(SIG_BLOCK, &termset, NULL);
        close(fd);
        if (o->maxuses && info->use >= o->maxuses)
            break;
    }
    /* tell master first, so it does not count on us while we tidy up */
    service_report(status_fd, SERVICE_STATUS_BUSY);
    if (sigfd >= 0)
        close(sigfd);
    buf_free(&local);
    buf_free(&remote);
}

/* Copy stdin to s and s to stdout until s closes. Runs in its own process
 * so that the service sees one ordinary socket. */
static void
service_relay(int s)
{
    char buf[4096];
    int in_open = 1;

    for (;;) {
        struct pollfd pfd[2];
        ssize_t n;

        pfd[0].fd = s;
        pfd[0].events = POLLIN;
        pfd[1].fd = in_open ? 0 : -1;
        pfd[1].events = POLLIN;
        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        if (pfd[0].revents) {
            n = read(s, buf, sizeof(buf));
            if (n <= 0 || util_write_all(1, buf, (size_t)n) < 0)
                return;
        }
        if (in_open && pfd[1].revents) {
            n = read(0, buf, sizeof(buf));
            if (n <= 0) {
                in_open = 0;
                shutdown(s, SHUT_WR);
            } else if (util_write_all(s, buf, (size_t)n) < 0) {
                return;
            }
        }
    }
}

static void
service_serve_standalone(const struct service_ops *ops,
                         struct service_conn *info)
{
    struct buf local = BUF_INITIALIZER, remote = BUF_INITIALIZER;
    struct stat st;
    int sv[2];
    pid_t relay;

    info->standalone = 1;
    if (fstat(0, &st) == 0 && S_ISSOCK(st.st_mode)) {
        service_serve_one(0, ops, info, &local, &remote);
        buf_free(&local);
        buf_free(&remote);
        return;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        log_msg(LOG_ERR, "socketpair: %s", strerror(errno));
        return;
    }
    fflush(stdout);
    relay = fork();
    if (relay < 0) {
        log_msg(LOG_ERR, "fork: %s", strerror(errno));
        close(sv[0]);
        close(sv[1]);
        return;
    }
    if (relay == 0) {
        close(sv[0]);
        service_relay(sv[1]);
        _exit(0);
    }
    close(sv[1]);
    /* the relay owns stdin now: the service must not read it */
    service_serve_one(sv[0], ops, info, &local, &remote);
    info->is_unix = 0;
    close(sv[0]);
    while (waitpid(relay, NULL, 0) < 0 && errno == EINTR)
        ;
    buf_free(&local);
    buf_free(&remote);
}

static int
service_listening(int fd)
{
    int on = 0;
    socklen_t len = sizeof(on);

    return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on;
}

int
service_main(int argc, char **argv, const struct service_ops *ops)
{
    struct service_opts o;
    struct service_conn info;
    struct config *cfg;
    const char *name, *base;
    char *err = NULL;
    int r = 0, under_master = service_listening(SERVICE_LISTEN_FD);

    memset(&o, 0, sizeof(o));
    memset(&info, 0, sizeof(info));
    if (service_parse_opts(argc, argv, &o) < 0) {
        strarray_fini(&o.args);
        return SERVICE_EX_USAGE;
    }
    base = strrchr(o.args.data[0], '/');
    base = base ? base + 1 : o.args.data[0];
    name = getenv("CYRUS_SERVICE");
    if (name == NULL || *name == '\0')
        name = ops->name ? ops->name : base;
    log_init(name);
    info.service = name;
    cfg = config_load(o.conf, name, &err);
    if (cfg == NULL) {
        fprintf(stderr, "%s: %s\n", name, err);
        log_msg(LOG_ERR, "%s", err);
        free(err);
        strarray_fini(&o.args);
        return SERVICE_EX_CONFIG;
    }
    config = cfg;
    signal(SIGPIPE, SIG_IGN);
    if (ops->init) {
        char *why = NULL;

        r = ops->init((int)o.args.count, o.args.data, &why);
        if (r != 0) {
            log_msg(LOG_ERR, "cannot start: %s", why ? why : "init failed");
            if (!under_master)
                fprintf(stderr, "%s: cannot start: %s\n", name,
                        why ? why : "init failed");
            r = SERVICE_EX_CONFIG;
        }
    }
    if (r == 0) {
        if (under_master && ops->serve) {
            int status_fd =
                fcntl(SERVICE_STATUS_FD, F_GETFD) < 0 ? -1 : SERVICE_STATUS_FD;

            util_set_nonblock(SERVICE_LISTEN_FD, 1);
            service_report(status_fd, SERVICE_STATUS_READY);
            ops->serve(SERVICE_LISTEN_FD, &info);
        } else if (under_master)
            service_serve_master(ops, &o, &info);
        else
            service_serve_standalone(ops, &info);
        if (ops->fini)
            ops->fini();
    }
    config = NULL;
    config_free(&cfg);
    strarray_fini(&o.args);
    return r;
}

int
service_stop_requested(void)
{
    sigset_t pending;

    if (sigpending(&pending) < 0)
        return 0;
    return sigismember(&pending, SIGHUP) == 1
           || sigismember(&pending, SIGTERM) == 1;
}
