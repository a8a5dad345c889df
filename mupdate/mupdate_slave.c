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
#include "hash.h"
#include "log.h"
#include "mupdate_client.h"
#include "mupdate_slave.h"
#include "xmalloc.h"

#define CONNECT_TIMEOUT_MS 10000
#define MAX_KICKS          64

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
};

static void slave_connect(struct mupdate_slave *sl);
static void retry_cb(struct loop *l, long id, void *ctx);

/* ---- applying changes ------------------------------------------------ */

static int
entry_differs(const struct mboxlist_entry *e, const struct mupdate_mailbox *mb)
{
    struct buf loc = BUF_INITIALIZER;
    int diff;

    mupdate_server_location(e, &loc);
    diff = strcmp(buf_cstring(&loc), mb->location) != 0
           || !(e->mbtype & MBTYPE_REMOTE)
           || !!(e->mbtype & MBTYPE_RESERVE) != !!mb->reserved
           || strcmp(e->acl ? e->acl : "", mb->reserved ? "" : mb->acl) != 0;
    buf_free(&loc);
    return diff;
}

static int
apply_one(struct mupdate_slave *sl, const struct mupdate_mailbox *mb,
          struct cyrusdb_txn **tid)
{
    struct mboxlist_entry *e = NULL;
    int r = mboxlist_lookup(sl->ml, mb->name, &e, tid);

    if (r == 0 && !entry_differs(e, mb)) {
        mboxlist_entry_free(&e);
        return 0;
    }
    if (e == NULL)
        e = mboxlist_entry_new(mb->name);
    mupdate_server_entry_set(e, mb->location, mb->reserved ? "" : mb->acl,
                             mb->reserved);
    r = mboxlist_store(sl->ml, e, tid);
    mboxlist_entry_free(&e);
    return r < 0 ? r : 1;
}

struct mergectx {
    struct mupdate_slave *sl;
    struct hash *remote; /* name -> struct mupdate_mailbox * */
    struct strarray changed;
    struct cyrusdb_txn *tid;
    int err;
};

static void
mb_free_cb(void *v)
{
    struct mupdate_mailbox *mb = v;

    mupdate_mailbox_free(&mb);
}

static int
collect_cb(void *ctx, const struct mupdate_mailbox *mb)
{
    struct mergectx *m = ctx;
    struct mupdate_mailbox *copy = xzmalloc(sizeof(*copy));

    copy->name = xstrdup(mb->name);
    copy->location = xstrdup(mb->location);
    copy->acl = xstrdup(mb->acl);
    copy->reserved = mb->reserved;
    mb_free_cb(hash_insert(m->remote, copy->name, copy));
    return 0;
}

static int
merge_local_cb(void *ctx, const struct mboxlist_entry *e)
{
    struct mergectx *m = ctx;
    struct mupdate_mailbox *mb = hash_lookup(m->remote, e->name);
    int r;

    if (mb == NULL) {
        r = mboxlist_remove(m->sl->ml, e->name, &m->tid);
        if (r == 0)
            strarray_append(&m->changed, e->name);
    } else {
        r = apply_one(m->sl, mb, &m->tid);
        if (r > 0)
            strarray_append(&m->changed, e->name);
        mb_free_cb(hash_remove(m->remote, e->name));
    }
    if (r < 0) {
        m->err = r;
        return 1;
    }
    return 0;
}

static int
merge_remote_cb(const char *key, void *value, void *ctx)
{
    struct mergectx *m = ctx;
    int r = apply_one(m->sl, value, &m->tid);

    (void)key;
    if (r < 0) {
        m->err = r;
        return 1;
    }
    strarray_append(&m->changed, key);
    return 0;
}

/* UPDATE and merge the dump in one transaction. */
static int
slave_sync(struct mupdate_slave *sl)
{
    struct mergectx m;
    const char *st = NULL;
    size_t i;
    int r;

    memset(&m, 0, sizeof(m));
    m.sl = sl;
    m.remote = hash_new(1024);
    stream_puts(mupdate_client_stream(sl->mc), "U01 UPDATE\r\n");
    r = stream_flush(mupdate_client_stream(sl->mc));
    if (r == 0)
        r = mupdate_client_response(sl->mc, collect_cb, &m, NULL, &st);
    if (r == 0 && strcmp(st, "OK") != 0)
        r = ERR_MUPDATE_FAIL;
    if (r == 0) {
        log_msg(LOG_NOTICE,
                "synchronizing mailbox list with master mupdate server");
        r = mboxlist_foreach(sl->ml, "", merge_local_cb, &m, &m.tid);
        if (r == 0 && m.err == 0)
            hash_foreach(m.remote, merge_remote_cb, &m);
        if (r == 0)
            r = m.err;
        if (r == 0 && m.tid)
            r = mboxlist_commit(sl->ml, m.tid);
        else if (m.tid)
            mboxlist_abort(sl->ml, m.tid);
    }
    if (r == 0) {
        log_msg(LOG_NOTICE, "mailbox list synchronization complete");
        for (i = 0; sl->srv && i < m.changed.count; i++)
            mupdate_server_changed(sl->srv, m.changed.data[i]);
    }
    strarray_fini(&m.changed);
    hash_free(&m.remote, mb_free_cb);
    return r;
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
    r = mupdate_client_data(p, &mb);
    if (r == 1) {
        r = apply_one(sl, &mb, NULL);
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
    if (sl->idle_noop) {
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
        r = slave_sync(sl);
        if (r < 0)
            err = error_text(r);
    }
    if (r < 0) {
        log_msg(LOG_ERR, "mupdate: cannot sync with master: %s",
                err ? err : "");
        slave_drop(sl, err ? err : "connect failed");
        return;
    }
    if (sl->srv)
        mupdate_server_set_ready(sl->srv, 1);
    sl->fd = stream_fd(mupdate_client_stream(sl->mc));
    stream_set_nonblocking(mupdate_client_stream(sl->mc), 1);
    sl->heard = 1;
    sl->idle_noop = 0;
    loop_add_fd(sl->loop, sl->fd, LOOP_READ, master_cb, sl);
    sl->idle_timer = loop_add_timer(
        sl->loop, (unsigned)(retry < 1 ? 1 : retry) * 1000, idle_cb, sl);
    /* anything already buffered behind the dump */
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
    if (sl->retry_timer)
        loop_cancel_timer(sl->loop, sl->retry_timer);
    if (sl->idle_timer)
        loop_cancel_timer(sl->loop, sl->idle_timer);
    free(sl);
}
