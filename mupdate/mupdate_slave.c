/* mupdate_slave.c: the frontend replica (see mupdate_slave.h). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "errors.h"
#include "log.h"
#include "mupdate_client.h"
#include "mupdate_slave.h"
#include "mupdate_sync.h"
#include "xmalloc.h"

#define CONNECT_TIMEOUT_MS 10000
#define MAX_KICKS          64
#define SYNC_TAG           "U01"

struct kick {
    int fd;
    unsigned noop; /* the NOOP whose OK answers it; 0: none sent */
};

struct mupdate_slave {
    const struct config *cfg;
    struct loop *loop;
    struct mboxlist *ml;
    struct mupdate_server *srv;
    struct mupdate_client *mc; /* NULL while disconnected */
    int fd;
    long retry_timer;
    long idle_timer;
    int heard;          /* data since the last idle tick */
    unsigned noop_sent; /* last NOOP number sent */
    unsigned noop_done; /* last NOOP number answered */
    unsigned idle_noop; /* outstanding liveness NOOP, 0: none */
    struct kick kicks[MAX_KICKS];
    size_t nkicks;
    struct mupdate_sync *sync; /* reading the UPDATE dump, or NULL */
    int synced_once;
    int64_t sync_t0;
};

static void slave_connect(struct mupdate_slave *sl);
static void retry_cb(struct loop *l, long id, void *ctx);

/* ---- the initial dump ---------------------------------------------- */

static void
sync_changed_cb(void *ctx, const char *name)
{
    struct mupdate_slave *sl = ctx;

    if (sl->srv)
        mupdate_server_changed(sl->srv, name);
}

/* Send UPDATE; its dump is merged by sync_unit() as it arrives. */
static int
sync_start(struct mupdate_slave *sl)
{
    struct stream *s = mupdate_client_stream(sl->mc);

    stream_puts(s, SYNC_TAG " UPDATE\r\n");
    sl->sync = mupdate_sync_new(sl->ml, sync_changed_cb, sl);
    /* a first sync: local clients wait for it rather than get a BYE */
    if (sl->srv && !sl->synced_once)
        mupdate_server_hold(sl->srv, 1);
    sl->sync_t0 = util_now_ms();
    log_msg(LOG_NOTICE,
            "synchronizing mailbox list with master mupdate server");
    return stream_flush(s) < 0 ? ERR_IO : 0;
}

/* One unit while the dump is read. 0, or an error (drop the master). */
static int
sync_unit(struct mupdate_slave *sl, struct mupdate_parser *p)
{
    const char *tag = mupdate_parser_tag(p), *w = mupdate_parser_word(p);
    struct mupdate_mailbox mb;
    const struct mupdate_sync_stats *st;
    int r;

    if (strcmp(tag, SYNC_TAG) == 0 && strcmp(w, "OK") == 0) {
        r = mupdate_sync_finish(sl->sync);
        if (r < 0)
            return r;
        st = mupdate_sync_stats(sl->sync);
        log_msg(LOG_NOTICE,
                "mailbox list synchronization complete: %zu entries, "
                "%zu added, %zu updated, %zu removed, %lld ms",
                st->received, st->added, st->updated, st->removed,
                (long long)(util_now_ms() - sl->sync_t0));
        if (st->unordered > 0)
            log_msg(LOG_WARNING, "mupdate: %zu names of the dump were out of "
                                 "order", st->unordered);
        mupdate_sync_free(&sl->sync);
        sl->synced_once = 1;
        if (sl->srv) {
            mupdate_server_set_ready(sl->srv, 1);
            mupdate_server_hold(sl->srv, 0);
        }
        return 0;
    }
    if (strcmp(w, "NO") == 0 || strcmp(w, "BAD") == 0
        || strcmp(w, "BYE") == 0)
        return ERR_MUPDATE_FAIL;
    if (strcmp(w, "OK") == 0)
        return 0; /* a NOOP's: answered after the dump, never before */
    r = mupdate_client_data(p, &mb);
    if (r == 1)
        return mupdate_sync_entry(sl->sync, &mb);
    if (r == 2)
        return mupdate_sync_delete(sl->sync, mb.name);
    return r < 0 ? r : 0;
}

/* ---- kicks ----------------------------------------------------------- */

static void
kick_answer(struct mupdate_slave *sl, int all)
{
    size_t i = 0;

    while (i < sl->nkicks) {
        struct kick *k = &sl->kicks[i];

        if (all || (k->noop != 0 && k->noop <= sl->noop_done)) {
            if (util_write_all(k->fd, "ok", 2) < 0) {
            }
            loop_del_fd(sl->loop, k->fd);
            close(k->fd);
            sl->kicks[i] = sl->kicks[--sl->nkicks];
        } else {
            i++;
        }
    }
}

static void
send_noop(struct mupdate_slave *sl)
{
    struct stream *s = mupdate_client_stream(sl->mc);

    sl->noop_sent++;
    stream_printf(s, "N%u NOOP\r\n", sl->noop_sent);
    if (stream_flush(s) < 0) {
    } /* errors surface on the next read */
}

static void
kick_conn_cb(struct loop *l, int fd, unsigned events, void *ctx)
{
    struct mupdate_slave *sl = ctx;
    size_t i;

    (void)l;
    (void)events;
    /* the kicker hung up before its answer */
    for (i = 0; sl && i < sl->nkicks; i++) {
        if (sl->kicks[i].fd == fd) {
            loop_del_fd(sl->loop, fd);
            close(fd);
            sl->kicks[i] = sl->kicks[--sl->nkicks];
            return;
        }
    }
}

struct mupdate_kick {
    struct loop *loop;
    struct mupdate_slave *sl;
    int fd;
    char *path;
};

static void
kick_accept_cb(struct loop *l, int lfd, unsigned events, void *ctx)
{
    struct mupdate_kick *kl = ctx;
    struct mupdate_slave *sl = kl->sl;
    int fd;

    (void)events;
    while ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
        if (sl == NULL || sl->mc == NULL || sl->nkicks >= MAX_KICKS) {
            /* master (placebo) or disconnected: nothing to wait for */
            if (util_write_all(fd, "ok", 2) < 0) {
            }
            close(fd);
            continue;
        }
        send_noop(sl);
        sl->kicks[sl->nkicks].fd = fd;
        sl->kicks[sl->nkicks].noop = sl->noop_sent;
        sl->nkicks++;
        loop_add_fd(l, fd, LOOP_READ, kick_conn_cb, sl);
    }
}

int
mupdate_kick_listen(struct loop *loop, const char *path,
                    struct mupdate_slave *slave, struct mupdate_kick **kick_r)
{
    struct sockaddr_un sun;
    struct mupdate_kick *kl;
    char dir[sizeof(sun.sun_path)];
    const char *slash;
    int fd;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun.sun_path))
        return ERR_INVALID;
    memcpy(sun.sun_path, path, strlen(path));
    slash = strrchr(path, '/');
    if (slash && slash != path) {
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash - path] = '\0';
        util_mkdir_p(dir, 0755);
    }
    unlink(path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return ERR_IO;
    if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0
        || listen(fd, 16) < 0) {
        close(fd);
        return ERR_IO;
    }
    chmod(path, 0777);
    kl = xzmalloc(sizeof(*kl));
    kl->loop = loop;
    kl->sl = slave;
    kl->fd = fd;
    kl->path = xstrdup(path);
    loop_add_fd(loop, fd, LOOP_READ, kick_accept_cb, kl);
    *kick_r = kl;
    return 0;
}

void
mupdate_kick_free(struct mupdate_kick **kp)
{
    struct mupdate_kick *kl = *kp;

    if (kl == NULL)
        return;
    loop_del_fd(kl->loop, kl->fd);
    close(kl->fd);
    unlink(kl->path);
    free(kl->path);
    free(kl);
    *kp = NULL;
}

/* ---- the master connection ------------------------------------------- */

static void
slave_drop(struct mupdate_slave *sl, const char *why)
{
    long retry = config_int(sl->cfg, CFG_MUPDATE_RETRY_DELAY);
    unsigned delay;

    if (retry < 1)
        retry = 1;
    if (sl->mc) {
        log_msg(LOG_WARNING, "mupdate: lost master connection: %s", why);
        loop_del_fd(sl->loop, sl->fd);
        mupdate_client_free(&sl->mc);
    }
    /* a merge cut short keeps its committed batches: the list is never
     * emptied, the next sync completes it */
    mupdate_sync_free(&sl->sync);
    if (sl->srv)
        mupdate_server_hold(sl->srv, 0); /* unready: they get the BYE */
    if (sl->idle_timer) {
        loop_cancel_timer(sl->loop, sl->idle_timer);
        sl->idle_timer = 0;
    }
    kick_answer(sl, 1);
    delay = (unsigned)(retry * 1000);
    if (retry > 1)
        delay += (unsigned)(rand() % (int)(retry * 500));
    if (sl->retry_timer == 0)
        sl->retry_timer = loop_add_timer(sl->loop, delay, retry_cb, sl);
}

static void
stream_unit(struct mupdate_slave *sl, struct mupdate_parser *p)
{
    const char *tag = mupdate_parser_tag(p), *w = mupdate_parser_word(p);
    struct mupdate_mailbox mb;
    int r;

    if (!strcmp(w, "OK") && tag[0] == 'N') {
        unsigned long n;

        if (util_parse_ulong(tag + 1, 0xffffffffUL, &n) == 0) {
            sl->noop_done = (unsigned)n;
            if (sl->idle_noop && sl->idle_noop <= n)
                sl->idle_noop = 0;
            kick_answer(sl, 0);
        }
        return;
    }
    if (!strcmp(w, "NO") || !strcmp(w, "BAD") || !strcmp(w, "BYE")) {
        slave_drop(sl, "error from master");
        return;
    }
    if (sl->sync != NULL) {
        r = sync_unit(sl, p);
        if (r < 0)
            slave_drop(sl, error_text(r));
        return;
    }
    r = mupdate_client_data(p, &mb);
    if (r == 1) {
        r = mupdate_sync_apply(sl->ml, &mb, NULL);
    } else if (r == 2) {
        r = mboxlist_remove(sl->ml, mb.name, NULL);
        r = (r == 0) ? 1 : (r == ERR_NOMAILBOX || r == ERR_NOTFOUND) ? 0 : r;
    }
    if (r < 0) {
        slave_drop(sl, error_text(r));
        return;
    }
    if (r > 0 && sl->srv)
        mupdate_server_changed(sl->srv, mb.name);
}

static void
master_cb(struct loop *l, int fd, unsigned events, void *ctx)
{
    struct mupdate_slave *sl = ctx;
    struct stream *s = mupdate_client_stream(sl->mc);
    struct mupdate_parser *p = mupdate_client_parser(sl->mc);
    ssize_t n;

    (void)l;
    (void)fd;
    (void)events;
    n = stream_fill(s);
    if (n < 0) {
        slave_drop(sl, n == ERR_EOF ? "connection closed" : error_text((int)n));
        return;
    }
    sl->heard = 1;
    while (sl->mc) {
        size_t avail, used;
        const char *data = stream_peek(s, &avail);
        enum mupdate_parse r;

        if (avail == 0)
            break;
        r = mupdate_parser_feed(p, data, avail, &used);
        stream_skip(s, used);
        if (r == MUPDATE_PARSE_MORE)
            break;
        if (r != MUPDATE_PARSE_DONE) {
            slave_drop(sl, "protocol error");
            return;
        }
        stream_unit(sl, p);
    }
}

static void
idle_cb(struct loop *l, long id, void *ctx)
{
    struct mupdate_slave *sl = ctx;
    long retry = config_int(sl->cfg, CFG_MUPDATE_RETRY_DELAY);

    (void)id;
    sl->idle_timer = 0;
    if (sl->mc == NULL)
        return;
    /* a NOOP sent during a long dump is answered after it: data still
     * flowing means the master is alive */
    if (!sl->heard && sl->idle_noop) {
        slave_drop(sl, "master did not answer NOOP");
        return;
    }
    if (!sl->heard) {
        send_noop(sl);
        sl->idle_noop = sl->noop_sent;
    }
    sl->heard = 0;
    sl->idle_timer = loop_add_timer(l, (unsigned)(retry < 1 ? 1 : retry) * 1000,
                                    idle_cb, sl);
}

static void
retry_cb(struct loop *l, long id, void *ctx)
{
    struct mupdate_slave *sl = ctx;

    (void)l;
    (void)id;
    sl->retry_timer = 0;
    slave_connect(sl);
}

static void
slave_connect(struct mupdate_slave *sl)
{
    const char *err = NULL;
    long retry = config_int(sl->cfg, CFG_MUPDATE_RETRY_DELAY);
    int r;

    r = mupdate_client_connect(sl->cfg, NULL, CONNECT_TIMEOUT_MS, &sl->mc,
                               &err);
    if (r == 0) {
        log_msg(LOG_NOTICE, "successful mupdate connection to %s",
                config_str(sl->cfg, CFG_MUPDATE_SERVER));
        r = sync_start(sl);
        if (r < 0)
            err = error_text(r);
    }
    if (r < 0) {
        log_msg(LOG_ERR, "mupdate: cannot sync with master: %s",
                err ? err : "");
        slave_drop(sl, err ? err : "connect failed");
        return;
    }
    /* the dump is read and merged as it arrives, between the loop's
     * other work (kicks, the slave's own clients) */
    sl->fd = stream_fd(mupdate_client_stream(sl->mc));
    stream_set_nonblocking(mupdate_client_stream(sl->mc), 1);
    sl->heard = 1;
    sl->idle_noop = 0;
    loop_add_fd(sl->loop, sl->fd, LOOP_READ, master_cb, sl);
    sl->idle_timer = loop_add_timer(
        sl->loop, (unsigned)(retry < 1 ? 1 : retry) * 1000, idle_cb, sl);
    /* anything already buffered behind the banner */
    master_cb(sl->loop, sl->fd, LOOP_READ, sl);
}

struct mupdate_slave *
mupdate_slave_new(const struct config *cfg, struct loop *loop,
                  struct mboxlist *ml, struct mupdate_server *srv)
{
    struct mupdate_slave *sl = xzmalloc(sizeof(*sl));

    sl->cfg = cfg;
    sl->loop = loop;
    sl->ml = ml;
    sl->srv = srv;
    sl->fd = -1;
    srand((unsigned)getpid() ^ (unsigned)util_now_ms());
    slave_connect(sl);
    return sl;
}

void
mupdate_slave_free(struct mupdate_slave **sp)
{
    struct mupdate_slave *sl = *sp;

    if (sl == NULL)
        return;
    *sp = NULL;
    if (sl->mc) {
        loop_del_fd(sl->loop, sl->fd);
        mupdate_client_free(&sl->mc);
    }
    kick_answer(sl, 1);
    mupdate_sync_free(&sl->sync);
    if (sl->retry_timer)
        loop_cancel_timer(sl->loop, sl->retry_timer);
    if (sl->idle_timer)
        loop_cancel_timer(sl->loop, sl->idle_timer);
    free(sl);
}
