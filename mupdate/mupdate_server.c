/* mupdate_server.c: MUPDATE master/slave server (see mupdate_server.h). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include "errors.h"
#include "hash.h"
#include "log.h"
#include "mupdate_proto.h"
#include "mupdate_server.h"
#include "mupdate_sync.h"
#include "saslglue.h"
#include "strarray.h"
#include "stream.h"
#include "tls.h"
#include "xmalloc.h"

#define MUPDATE_VERSION   "3.6.1-cyrmurder"
#define MAX_PARTIAL_HOSTS 30

/* A LIST or UPDATE dump is read from the table in chunks of at most this
 * many entries or bytes, and a chunk is made only while less than
 * DUMP_LOW_WATER bytes wait in the connection's output; one loop
 * callback makes at most DUMP_ROUNDS chunks, so other connections are
 * served between them whatever the size of the table. */
#define DUMP_CHUNK_ENTRIES 2000
#define DUMP_CHUNK_BYTES   (128 * 1024)
#define DUMP_LOW_WATER     (256 * 1024)
#define DUMP_ROUNDS        4

/* An XCHANGES delta is written in one go: past this many names the full
 * dump (chunked, merged) is sent instead, so a big log never exceeds the
 * connection's output limit. */
#define DELTA_MAX_NAMES 100000

enum cstate {
    C_PREAUTH,
    C_SASL,  /* waiting for a raw SASL response line */
    C_DELAY, /* failed auth: the NO is delayed, input not read */
    C_AUTHED,
    C_STREAMING,
    C_CLOSING /* flush what is queued, then close */
};

/* A LIST or UPDATE reply being sent (MUPDATE.md 7): the walk over the
 * table resumes after the last name written. */
struct dump {
    char *tag;
    char *prefix;     /* LIST: location prefix; NULL: UPDATE (hosts filter) */
    struct buf after; /* last name read; empty: not started */
    struct buf out;   /* the chunk being made */
    size_t nchunk;    /* entries read into this chunk */
};

struct mconn {
    struct mupdate_server *srv;
    struct mconn *next;
    int fd;
    enum cstate state;
    struct stream *s;
    struct mupdate_parser *p;
    struct saslglue_server *sasl;
    unsigned sasl_ssf; /* external SSF c->sasl was made with */
    char *user;
    char *authtag;
    char *updtag;
    struct strarray hosts;   /* PARTIAL-UPDATE servers ("": all) */
    struct strarray pending; /* names to send, in order */
    struct hash *pendset;    /* the same names, for coalescing */
    long timer;
    struct dump *dump; /* LIST/UPDATE reply in progress, or NULL */
    int xchanges;      /* sent XCHANGES: gets XSYNCPOINTs */
    char remote[64];
};

struct mupdate_server {
    const struct config *cfg;
    struct loop *loop;
    struct mboxlist *ml;
    int readonly;
    int ready;
    int held; /* listening socket not polled */
    char *role;
    size_t max_output;
    struct tls_ctx *tls;             /* STARTTLS, or NULL */
    struct mupdate_changes *changes; /* the change log, or NULL */
    int listenfd;
    struct mconn *conns;
    size_t nconns;
    long drain_timer;
    struct cyrusdb_txn *tid;
    struct strarray changed; /* names changed in the open transaction */
};

/* ---- helpers --------------------------------------------------------- */


void
mupdate_server_entry_set(struct mboxlist_entry *e, const char *location,
                         const char *acl, int reserved)
{
    const char *bang = strchr(location, '!');

    free(e->server);
    free(e->partition);
    free(e->acl);
    if (bang) {
        e->server = xstrndup(location, (size_t)(bang - location));
        e->partition = xstrdup(bang + 1);
    } else {
        e->server = xstrdup(location);
        e->partition = NULL;
    }
    e->acl = xstrdup(acl ? acl : "");
    e->mbtype = MBTYPE_REMOTE | (reserved ? MBTYPE_RESERVE : 0);
}

static void
reply(struct mconn *c, const char *tag, const char *status, const char *text)
{
    struct buf b = BUF_INITIALIZER;

    mupdate_write_response(&b, tag ? tag : "*", status, text);
    stream_write(c->s, buf_base(&b), buf_len(&b));
    buf_free(&b);
}

/* Write e (or DELETE when e is NULL) as a data line tagged tag. */
static void
write_entry(struct buf *out, const char *tag, const char *name,
            const struct mboxlist_entry *e)
{
    struct buf loc = BUF_INITIALIZER;

    if (e == NULL) {
        mupdate_write_delete(out, tag, name);
        return;
    }
    mupdate_sync_location(e, &loc);
    if (e->mbtype & MBTYPE_RESERVE)
        mupdate_write_reserve(out, tag, name, buf_cstring(&loc));
    else
        mupdate_write_mailbox(out, tag, name, buf_cstring(&loc),
                              e->acl ? e->acl : "");
    buf_free(&loc);
}

static int
host_matches(const struct mconn *c, const struct mboxlist_entry *e)
{
    if (c->hosts.count == 0)
        return 1;
    return e->server && strarray_find(&c->hosts, e->server) >= 0;
}

static void conn_close(struct mconn *c);
static void conn_update_events(struct mconn *c);

/* ---- streaming ------------------------------------------------------- */

static void
conn_queue(struct mconn *c, const char *name)
{
    if (hash_lookup(c->pendset, name) != NULL)
        return;
    hash_insert(c->pendset, name, (void *)1);
    strarray_append(&c->pending, name);
}

/* Send the current state of every queued name. */
static void
conn_drain(struct mconn *c)
{
    struct buf out = BUF_INITIALIZER;
    size_t i;

    for (i = 0; i < c->pending.count; i++) {
        const char *name = c->pending.data[i];
        struct mboxlist_entry *e = NULL;

        if (mboxlist_lookup(c->srv->ml, name, &e, NULL) != 0)
            e = NULL;
        /* PARTIAL-UPDATE: a deletion is sent to everyone (the name may
         * have been ours); entries only when their server matches */
        if (e == NULL || host_matches(c, e))
            write_entry(&out, c->updtag, name, e);
        mboxlist_entry_free(&e);
        if (buf_len(&out) > 65536) {
            stream_write(c->s, buf_base(&out), buf_len(&out));
            buf_reset(&out);
        }
    }
    stream_write(c->s, buf_base(&out), buf_len(&out));
    buf_free(&out);
    strarray_fini(&c->pending);
    hash_free(&c->pendset, NULL);
    c->pendset = hash_new(64);
}

static void
drain_cb(struct loop *l, long id, void *ctx)
{
    struct mupdate_server *srv = ctx;
    struct mconn *c, *next;

    (void)l;
    (void)id;
    srv->drain_timer = 0;
    for (c = srv->conns; c; c = next) {
        next = c->next;
        if (c->state == C_STREAMING && c->pending.count > 0) {
            conn_drain(c);
            conn_update_events(c);
        }
    }
}

void
mupdate_server_changed(struct mupdate_server *srv, const char *name)
{
    struct mconn *c;

    for (c = srv->conns; c; c = c->next) {
        if (c->state == C_STREAMING)
            conn_queue(c, name);
        else if (c->dump != NULL && c->dump->prefix == NULL
                 && strcmp(name, buf_cstring(&c->dump->after)) <= 0)
            conn_queue(c, name); /* already dumped: send it after the OK;
                                  * a later name is read by the dump */
    }
    if (srv->drain_timer == 0)
        srv->drain_timer = loop_add_timer(srv->loop, 0, drain_cb, srv);
}

/* ---- the table ------------------------------------------------------- */

static int
table_lookup(struct mupdate_server *srv, const char *name,
             struct mboxlist_entry **e_r)
{
    return mboxlist_lookup(srv->ml, name, e_r, &srv->tid);
}

static int
table_store(struct mupdate_server *srv, struct mboxlist_entry *e)
{
    int r = mboxlist_store(srv->ml, e, &srv->tid);

    if (r == 0 && srv->changes != NULL)
        r = mupdate_changes_note(srv->changes, e->name, &srv->tid);
    if (r == 0)
        strarray_append(&srv->changed, e->name);
    return r;
}

static int
table_remove(struct mupdate_server *srv, const char *name)
{
    int r = mboxlist_remove(srv->ml, name, &srv->tid);

    if (r == 0 && srv->changes != NULL)
        r = mupdate_changes_note(srv->changes, name, &srv->tid);
    if (r == 0)
        strarray_append(&srv->changed, name);
    return r;
}

/* Abort the open transaction (a failed write poisons it). */
static void
table_abort(struct mupdate_server *srv)
{
    if (srv->tid) {
        mboxlist_abort(srv->ml, srv->tid);
        srv->tid = NULL;
    }
    if (srv->changes != NULL)
        mupdate_changes_done(srv->changes, 0);
    strarray_fini(&srv->changed);
}

/* Commit the open transaction (if any) and publish its changes.
 * Returns 0 or the commit error (then nothing is published). */
static int
table_commit(struct mupdate_server *srv)
{
    int r = 0;
    size_t i;

    if (srv->tid == NULL)
        return 0;
    if (srv->changes != NULL)
        r = mupdate_changes_prepare(srv->changes, &srv->tid);
    if (r != 0) {
        table_abort(srv);
        return r;
    }
    r = mboxlist_commit(srv->ml, srv->tid);
    srv->tid = NULL;
    if (srv->changes != NULL)
        mupdate_changes_done(srv->changes, r == 0);
    if (r == 0) {
        for (i = 0; i < srv->changed.count; i++)
            mupdate_server_changed(srv, srv->changed.data[i]);
    }
    strarray_fini(&srv->changed);
    return r;
}

/* ---- commands -------------------------------------------------------- */

struct cmdargs {
    const char *tag;
    const char *a[MAX_PARTIAL_HOSTS + 1];
    size_t n;
};

static void
cmd_set(struct mconn *c, const struct cmdargs *ca, const char *word)
{
    struct mupdate_server *srv = c->srv;
    struct mboxlist_entry *e = NULL;
    struct buf loc = BUF_INITIALIZER;
    const char *name = ca->a[0], *no = NULL;
    int r, exists;

    r = table_lookup(srv, name, &e);
    if (r != 0 && r != ERR_NOMAILBOX)
        goto ioerr;
    exists = (r == 0);
    if (exists)
        mupdate_sync_location(e, &loc);
    if (!strcmp(word, "RESERVE")) {
        if (exists && strcmp(buf_cstring(&loc), ca->a[1]) != 0) {
            no = "mailbox already exists";
        } else {
            if (!exists)
                e = mboxlist_entry_new(name);
            mupdate_server_entry_set(e, ca->a[1], NULL, 1);
            r = table_store(srv, e);
        }
    } else if (!strcmp(word, "ACTIVATE")) {
        if (!exists)
            e = mboxlist_entry_new(name);
        mupdate_server_entry_set(e, ca->a[1], ca->a[2], 0);
        r = table_store(srv, e);
    } else if (!strcmp(word, "DEACTIVATE")) {
        if (!exists) {
            no = "mailbox doesn't exist";
        } else if (e->mbtype & MBTYPE_RESERVE) {
            no = "mailbox not currently active";
        } else {
            mupdate_server_entry_set(e, ca->a[1], NULL, 1);
            r = table_store(srv, e);
        }
    } else { /* DELETE */
        if (!exists)
            no = "mailbox doesn't exist";
        else
            r = table_remove(srv, name);
    }
    if (no != NULL) {
        reply(c, ca->tag, "NO", no);
    } else if (r != 0) {
    ioerr:
        log_msg(LOG_ERR, "mupdate: %s %s: %s", word, name, error_text(r));
        /* the transaction is poisoned: abort it, clients retry */
        table_abort(srv);
        reply(c, ca->tag, "NO", "database error");
    } else {
        reply(c, ca->tag, "OK", "done");
    }
    mboxlist_entry_free(&e);
    buf_free(&loc);
}

static void
dump_free(struct dump **dp)
{
    struct dump *d = *dp;

    if (d == NULL)
        return;
    *dp = NULL;
    free(d->tag);
    free(d->prefix);
    buf_free(&d->after);
    buf_free(&d->out);
    free(d);
}

/* One entry of a dump: written into the chunk unless filtered out;
 * returns 1 (stop this chunk) when the chunk is full. */
static int
dump_cb(void *ctx, const struct mboxlist_entry *e)
{
    struct mconn *c = ctx;
    struct dump *d = c->dump;
    struct buf loc = BUF_INITIALIZER;
    int keep = !(e->mbtype & MBTYPE_DELETED);

    buf_setcstr(&d->after, e->name);
    if (keep && d->prefix != NULL) {
        mupdate_sync_location(e, &loc);
        keep = strncmp(buf_cstring(&loc), d->prefix, strlen(d->prefix)) == 0;
        buf_free(&loc);
    } else if (keep) {
        keep = host_matches(c, e);
    }
    if (keep)
        write_entry(&d->out, d->tag, e->name, e);
    return ++d->nchunk >= DUMP_CHUNK_ENTRIES
           || buf_len(&d->out) >= DUMP_CHUNK_BYTES;
}

static int conn_process(struct mconn *c);

/* XCHANGES: tell c that everything committed so far was sent (call right
 * after a drain). */
static void
syncpoint(struct mconn *c)
{
    struct buf b = BUF_INITIALIZER;

    if (!c->xchanges || c->srv->changes == NULL)
        return;
    buf_appendcstr(&b, "* XSYNCPOINT ");
    mupdate_write_string(&b, mupdate_changes_epoch(c->srv->changes));
    buf_printf(&b, " \"%llu\"\r\n",
               (unsigned long long)mupdate_changes_last(c->srv->changes));
    stream_write(c->s, buf_base(&b), buf_len(&b));
    buf_free(&b);
}

/* The dump is complete (or failed: r < 0): send the tagged reply; an
 * UPDATE then streams, starting with the names changed behind the walk. */
static void
dump_finish(struct mconn *c, int r)
{
    struct dump *d = c->dump;

    if (r < 0) {
        log_msg(LOG_ERR, "mupdate: %s dump: %s", c->remote, error_text(r));
        reply(c, d->tag, "NO", "database error");
    } else if (d->prefix != NULL) {
        reply(c, d->tag, "OK", "list complete");
    } else {
        reply(c, d->tag, "OK", "streaming starts");
        c->state = C_STREAMING;
        if (c->pending.count > 0)
            conn_drain(c);
        syncpoint(c);
    }
    dump_free(&c->dump);
}

/* Make dump chunks while the output is short; at most DUMP_ROUNDS. At the
 * end, reply and go on with the commands pipelined behind. Returns 0, or
 * -1 when c must be closed. */
static int
dump_step(struct mconn *c)
{
    struct mupdate_server *srv = c->srv;
    unsigned round;
    int r;

    /* reads never join the write transaction (see dispatch()) */
    if (table_commit(srv) != 0)
        return -1;
    for (round = 0; round < DUMP_ROUNDS && c->dump != NULL; round++) {
        struct dump *d = c->dump;

        if (stream_out_pending(c->s) >= DUMP_LOW_WATER)
            return 0;
        d->nchunk = 0;
        r = mboxlist_foreach_after(
            srv->ml, "", buf_len(&d->after) ? buf_cstring(&d->after) : NULL,
            dump_cb, c, NULL);
        stream_write(c->s, buf_base(&d->out), buf_len(&d->out));
        buf_reset(&d->out);
        if (r == 0 || r < 0) {
            dump_finish(c, r);
            if (conn_process(c) < 0)
                return -1;
            return table_commit(srv) != 0 ? -1 : 0;
        }
        if (stream_flush(c->s) < 0)
            return -1;
    }
    return 0;
}

/* Start a LIST (prefix) or UPDATE (prefix NULL) reply; the entries are
 * sent by dump_step() as the client reads. */
static void
dump_start(struct mconn *c, const char *tag, const char *prefix)
{
    struct dump *d = xzmalloc(sizeof(*d));

    d->tag = xstrdup(tag);
    d->prefix = prefix ? xstrdup(prefix) : NULL;
    c->dump = d;
}

static void
cmd_find(struct mconn *c, const struct cmdargs *ca)
{
    struct mboxlist_entry *e = NULL;
    struct buf out = BUF_INITIALIZER;

    if (mboxlist_lookup(c->srv->ml, ca->a[0], &e, NULL) == 0) {
        write_entry(&out, ca->tag, ca->a[0], e);
        stream_write(c->s, buf_base(&out), buf_len(&out));
    }
    mboxlist_entry_free(&e);
    buf_free(&out);
    reply(c, ca->tag, "OK", "Search completed");
}

static void
cmd_update(struct mconn *c, const struct cmdargs *ca)
{
    size_t i;

    for (i = 0; i < ca->n; i++) {
        if (ca->a[i][0] == '\0') {
            reply(c, ca->tag, "BAD", "Badly formed arguments");
            return;
        }
    }
    for (i = 0; i < ca->n; i++)
        strarray_append(&c->hosts, ca->a[i]);
    free(c->updtag);
    c->updtag = xstrdup(ca->tag);
    /* the dump is read in chunks as the client takes it (1,000,000
     * entries are ~95 MB on the wire); the OK and the stream follow */
    dump_start(c, ca->tag, NULL);
}

/* XCHANGES "epoch" "n": the changes since n, or the whole dump when they
 * are not in the log (see mupdate_server.h). */
static void
cmd_xchanges(struct mconn *c, const struct cmdargs *ca)
{
    struct mupdate_server *srv = c->srv;
    struct strarray names = STRARRAY_INITIALIZER;
    struct buf out = BUF_INITIALIZER;
    uint64_t since;
    size_t i;

    if (srv->changes == NULL) {
        reply(c, ca->tag, "BAD", "Unrecognized command");
        return;
    }
    c->xchanges = 1;
    free(c->updtag);
    c->updtag = xstrdup(ca->tag);
    if (util_parse_u64(ca->a[1], strlen(ca->a[1]), UINT64_MAX, &since) != 0
        || mupdate_changes_since(srv->changes, ca->a[0], since, &names) != 0
        || names.count > DELTA_MAX_NAMES) {
        stream_puts(c->s, "* XSYNC \"FULL\"\r\n");
        strarray_fini(&names);
        dump_start(c, ca->tag, NULL);
        return;
    }
    /* at most the log's size: sent at once, in this loop iteration, so
     * no change can slip between the log read and the stream's start */
    buf_appendcstr(&out, "* XSYNC \"DELTA\"\r\n");
    for (i = 0; i < names.count; i++) {
        struct mboxlist_entry *e = NULL;

        if (mboxlist_lookup(srv->ml, names.data[i], &e, NULL) != 0)
            e = NULL;
        write_entry(&out, ca->tag, names.data[i], e);
        mboxlist_entry_free(&e);
        if (buf_len(&out) > 65536) {
            stream_write(c->s, buf_base(&out), buf_len(&out));
            buf_reset(&out);
        }
    }
    stream_write(c->s, buf_base(&out), buf_len(&out));
    log_msg(LOG_INFO, "mupdate: %s XCHANGES since %llu: %zu names", c->remote,
            (unsigned long long)since, names.count);
    reply(c, ca->tag, "OK", "streaming starts");
    c->state = C_STREAMING;
    syncpoint(c);
    buf_free(&out);
    strarray_fini(&names);
}

static void
auth_done(struct mconn *c)
{
    c->user = xstrdup(saslglue_server_user(c->sasl));
    log_msg(LOG_NOTICE, "login: %s %s %s User logged in", c->remote, c->user,
            saslglue_server_mech(c->sasl));
    reply(c, c->authtag, "OK", "Authenticated");
    c->state = C_AUTHED;
    /* a negotiated security layer starts right after the OK */
    if (saslglue_server_ssf(c->sasl) > 0)
        stream_set_sasl(c->s,
                        (struct sasl_conn *)saslglue_server_conn(c->sasl));
}

static void delay_cb(struct loop *l, long id, void *ctx);

/* Handle one SASL step result r with challenge chal. */
static void
auth_step(struct mconn *c, int r, struct buf *chal, const char *err)
{
    if (r == SASLGLUE_CONTINUE) {
        /* MUPDATE.md 4: raw base64 challenge, no "+ " */
        stream_write(c->s, buf_base(chal), buf_len(chal));
        stream_write(c->s, "\r\n", 2);
        c->state = C_SASL;
        return;
    }
    if (r == 0) {
        auth_done(c);
        return;
    }
    log_msg(LOG_NOTICE, "badlogin: %s %s", c->remote, err ? err : "");
    c->state = C_DELAY;
    c->timer = loop_add_timer(
        c->srv->loop, (unsigned)(saslglue_failedloginpause(c->srv->cfg) * 1000),
        delay_cb, c);
}

static void
delay_cb(struct loop *l, long id, void *ctx)
{
    struct mconn *c = ctx;

    (void)l;
    (void)id;
    c->timer = 0;
    reply(c, c->authtag, "NO", error_text(ERR_AUTH));
    c->state = C_PREAUTH;
    saslglue_server_free(&c->sasl);
    conn_update_events(c);
}

static int
sasl_new(struct mconn *c)
{
    struct saslglue_server_params sp;
    struct buf lip = BUF_INITIALIZER, rip = BUF_INITIALIZER;
    const char *err = NULL;
    int r;

    memset(&sp, 0, sizeof(sp));
    sp.service = "mupdate";
    c->sasl_ssf = (unsigned)stream_tls_ssf(c->s);
    sp.external_ssf = c->sasl_ssf;
    if (c->sasl_ssf > 0)
        sp.external_authid = stream_tls_peer_cn(c->s);
    if (saslglue_ipport(c->fd, 0, &lip) == 0)
        sp.local_ipport = buf_cstring(&lip);
    if (saslglue_ipport(c->fd, 1, &rip) == 0)
        sp.remote_ipport = buf_cstring(&rip);
    /* the murder's internal protocol: Cyrus offers PLAIN without TLS.
     * Once STARTTLS is configured, allowplaintext decides (off: the
     * plaintext mechanisms appear only after the handshake). */
    sp.allow_plaintext = c->srv->tls == NULL || stream_tls_active(c->s)
                         || config_switch(c->srv->cfg, CFG_ALLOWPLAINTEXT);
    sp.policy = SASLGLUE_POLICY_ADMINS_ONLY;
    r = saslglue_server_new(c->srv->cfg, &sp, &c->sasl, &err);
    if (r != 0)
        log_msg(LOG_ERR, "mupdate: sasl: %s", err ? err : "");
    buf_free(&lip);
    buf_free(&rip);
    return r;
}

static void
cmd_authenticate(struct mconn *c, const struct cmdargs *ca)
{
    struct buf chal = BUF_INITIALIZER;
    const char *err = NULL;
    int r;

    if (c->state != C_PREAUTH) {
        reply(c, ca->tag, "BAD", "already authenticated");
        return;
    }
    free(c->authtag);
    c->authtag = xstrdup(ca->tag);
    /* made before the TLS handshake finished: redo it with the TLS SSF
     * (and the client certificate for EXTERNAL) */
    if (c->sasl != NULL && c->sasl_ssf != (unsigned)stream_tls_ssf(c->s))
        saslglue_server_free(&c->sasl);
    if (c->sasl == NULL && sasl_new(c) != 0) {
        reply(c, ca->tag, "NO", "SASL unavailable");
        return;
    }
    r = saslglue_server_start_b64(
        c->sasl, ca->a[0], ca->n > 1 ? ca->a[1] : NULL,
        ca->n > 1 ? strlen(ca->a[1]) : 0, &chal, &err);
    auth_step(c, r, &chal, err);
    buf_free(&chal);
}

/* A raw SASL response line arrived in state C_SASL. */
static void
sasl_line(struct mconn *c, const char *line, size_t len)
{
    struct buf chal = BUF_INITIALIZER;
    const char *err = NULL;
    int r;

    if (len == 1 && line[0] == '*') {
        reply(c, c->authtag, "NO", "Client canceled authentication");
        saslglue_server_free(&c->sasl);
        c->state = C_PREAUTH;
        return;
    }
    r = saslglue_server_step_b64(c->sasl, line, len, &chal, &err);
    auth_step(c, r, &chal, err);
    buf_free(&chal);
}

static void banner(struct mconn *c);

/* STARTTLS (MUPDATE.md 3/4): only before authentication, once, and not
 * under DEFLATE; the banner is sent again under TLS. */
static void
cmd_starttls(struct mconn *c, const struct cmdargs *ca)
{
    char *err = NULL;

    if (c->state != C_PREAUTH) {
        reply(c, ca->tag, "BAD", "Already authenticated");
        return;
    }
    if (stream_tls_active(c->s)) {
        reply(c, ca->tag, "BAD", "Already successfully executed");
        return;
    }
    if (c->srv->tls == NULL || stream_deflate_active(c->s)) {
        reply(c, ca->tag, "NO", "Error initializing TLS");
        return;
    }
    reply(c, ca->tag, "OK", "Begin TLS negotiation now");
    /* flushes the OK in plaintext, drops any input pipelined after it;
     * the handshake finishes inside later fills/flushes */
    if (stream_starttls_server(c->s, c->srv->tls, &err) < 0) {
        log_msg(LOG_NOTICE, "mupdate: %s STARTTLS failed: %s", c->remote,
                err ? err : "");
        free(err);
        c->state = C_CLOSING;
        return;
    }
    mupdate_parser_free(&c->p);
    c->p = mupdate_parser_new(NULL);
    saslglue_server_free(&c->sasl);
    sasl_new(c);
    banner(c);
}

enum {
    CMD_PREAUTH = 1,  /* allowed before authentication */
    CMD_NOAUTH = 2,   /* needs no authentication at all */
    CMD_WRITE = 4,    /* refused on a read-only (slave) server */
    CMD_STREAMOK = 8, /* allowed while streaming */
};

struct command {
    const char *name;
    unsigned flags;
    size_t minargs, maxargs;
};

static const struct command commands[] = {
    {"AUTHENTICATE", CMD_PREAUTH | CMD_NOAUTH,                1, 2                },
    {"LOGOUT",       CMD_PREAUTH | CMD_NOAUTH | CMD_STREAMOK, 0, 0                },
    {"COMPRESS",     CMD_PREAUTH | CMD_NOAUTH,                1, 1                },
    {"STARTTLS",     CMD_PREAUTH | CMD_NOAUTH,                0, 0                },
    {"NOOP",         CMD_STREAMOK,                            0, 0                },
    {"RESERVE",      CMD_WRITE,                               2, 2                },
    {"ACTIVATE",     CMD_WRITE,                               3, 3                },
    {"DEACTIVATE",   CMD_WRITE,                               2, 2                },
    {"DELETE",       CMD_WRITE,                               1, 1                },
    {"FIND",         0,                                       1, 1                },
    {"LIST",         0,                                       0, 1                },
    {"UPDATE",       0,                                       0, MAX_PARTIAL_HOSTS},
    {"XCHANGES",     0,                                       2, 2                },
};

static void
dispatch(struct mconn *c, struct mupdate_parser *p)
{
    const char *word = mupdate_parser_word(p);
    const struct command *cmd = NULL;
    struct cmdargs ca;
    size_t i;

    memset(&ca, 0, sizeof(ca));
    ca.tag = mupdate_parser_tag(p);
    for (i = 0; i < ARRAY_SIZE(commands); i++) {
        if (!strcmp(commands[i].name, word))
            cmd = &commands[i];
    }
    if (cmd == NULL) {
        reply(c, ca.tag, "BAD",
              c->state == C_PREAUTH ? "Please login first"
                                    : "Unrecognized command");
        return;
    }
    if (c->state == C_PREAUTH && !(cmd->flags & CMD_PREAUTH)) {
        reply(c, ca.tag, "BAD", "Please login first");
        return;
    }
    if (c->state == C_STREAMING && !(cmd->flags & CMD_STREAMOK)) {
        reply(c, ca.tag, "BAD", "not legal when streaming");
        return;
    }
    ca.n = mupdate_parser_nargs(p);
    if (ca.n < cmd->minargs) {
        reply(c, ca.tag, "BAD", "Missing arguments");
        return;
    }
    if (ca.n > cmd->maxargs) {
        reply(c, ca.tag, "BAD", "Extra arguments");
        return;
    }
    for (i = 0; i < ca.n; i++) {
        if (mupdate_parser_arg_has_nul(p, i)) {
            reply(c, ca.tag, "BAD", "Badly formed arguments");
            return;
        }
        ca.a[i] = mupdate_parser_arg(p, i, NULL);
    }
    if ((cmd->flags & CMD_WRITE) && c->srv->readonly) {
        reply(c, ca.tag, "BAD", "read-only session");
        return;
    }
    /* reads run outside the write transaction: commit the writes parsed
     * so far (their OKs are still unsent) so a read never waits on our
     * own locks and sees them */
    if (!(cmd->flags & CMD_WRITE) && table_commit(c->srv) != 0) {
        reply(c, ca.tag, "NO", "database error");
        return;
    }
    if (!strcmp(word, "AUTHENTICATE")) {
        cmd_authenticate(c, &ca);
    } else if (!strcmp(word, "LOGOUT")) {
        reply(c, ca.tag, "OK", "bye-bye");
        c->state = C_CLOSING;
    } else if (!strcmp(word, "COMPRESS")) {
        if (util_strcasecmp(ca.a[0], "DEFLATE") != 0
            || stream_deflate_active(c->s)) {
            reply(c, ca.tag, "NO", "Unknown COMPRESS algorithm");
        } else {
            reply(c, ca.tag, "OK", "DEFLATE active");
            stream_enable_deflate(c->s);
        }
    } else if (!strcmp(word, "STARTTLS")) {
        cmd_starttls(c, &ca);
    } else if (!strcmp(word, "NOOP")) {
        if (c->state == C_STREAMING) {
            conn_drain(c);
            syncpoint(c);
        }
        reply(c, ca.tag, "OK", "Noop done");
    } else if (cmd->flags & CMD_WRITE) {
        cmd_set(c, &ca, word);
    } else if (!strcmp(word, "FIND")) {
        cmd_find(c, &ca);
    } else if (!strcmp(word, "LIST")) {
        dump_start(c, ca.tag, ca.n ? ca.a[0] : "");
    } else if (!strcmp(word, "XCHANGES")) {
        cmd_xchanges(c, &ca);
    } else {
        cmd_update(c, &ca);
    }
}

/* ---- connections ----------------------------------------------------- */

static void
conn_update_events(struct mconn *c)
{
    unsigned ev = 0;
    short pe;

    if (c->state == C_CLOSING || c->state == C_DELAY) {
        if (stream_flush(c->s) < 0
            || (c->state == C_CLOSING && stream_out_pending(c->s) == 0)) {
            conn_close(c);
            return;
        }
    } else if (stream_flush(c->s) < 0) {
        conn_close(c);
        return;
    }
    if (stream_out_pending(c->s) > c->srv->max_output) {
        /* too far behind: the stream may be mid-line, but the peer is
         * being dropped anyway */
        log_msg(LOG_WARNING, "mupdate: %s too far behind, dropped", c->remote);
        conn_close(c);
        return;
    }
    pe = stream_poll_events(c->s);
    /* a dump answers its command before the next one is read (Cyrus
     * answers in order); it is made as the socket takes it */
    if (c->state != C_DELAY && c->state != C_CLOSING && c->dump == NULL)
        ev |= LOOP_READ;
    if ((pe & POLLOUT) || c->dump != NULL)
        ev |= LOOP_WRITE;
    if (c->state == C_CLOSING && stream_out_pending(c->s) > 0)
        ev |= LOOP_WRITE;
    loop_mod_fd(c->srv->loop, c->fd, ev);
}

/* Process everything buffered. Returns 0, or -1 when c was closed. */
static int
conn_process(struct mconn *c)
{
    for (;;) {
        size_t avail, used;
        const char *data = stream_peek(c->s, &avail);
        enum mupdate_parse r;

        if (avail == 0 || c->state == C_DELAY || c->state == C_CLOSING
            || c->dump != NULL)
            return 0;
        if (c->state == C_SASL) {
            const char *nl = memchr(data, '\n', avail);
            size_t len;

            if (nl == NULL) {
                if (avail > 65536)
                    return -1;
                return 0;
            }
            len = (size_t)(nl - data);
            if (len > 0 && data[len - 1] == '\r')
                len--;
            {
                char *line = xstrndup(data, len);

                stream_skip(c->s, (size_t)(nl - data) + 1);
                sasl_line(c, line, len);
                free(line);
            }
            continue;
        }
        r = mupdate_parser_feed(c->p, data, avail, &used);
        stream_skip(c->s, used);
        switch (r) {
        case MUPDATE_PARSE_MORE:
            return 0;
        case MUPDATE_PARSE_CONTINUE:
            stream_puts(c->s, "+ go ahead\r\n");
            break;
        case MUPDATE_PARSE_ERROR:
            if (mupdate_parser_tag(c->p) == NULL)
                reply(c, NULL, "BAD", "Need command");
            else
                reply(c, mupdate_parser_tag(c->p), "BAD",
                      mupdate_parser_error(c->p));
            break;
        case MUPDATE_PARSE_DONE:
            dispatch(c, c->p);
            break;
        }
    }
}

static void
conn_cb(struct loop *l, int fd, unsigned events, void *ctx)
{
    struct mconn *c = ctx;
    struct mupdate_server *srv = c->srv;
    ssize_t n;

    (void)l;
    (void)fd;
    if (c->dump != NULL) {
        /* writable, or a hangup that the next flush reports */
        if (dump_step(c) < 0) {
            conn_close(c);
            return;
        }
    } else if (events & (LOOP_READ | LOOP_HUP)) {
        n = stream_fill(c->s);
        if (n < 0 && n != ERR_TOOLONG) {
            conn_close(c);
            return;
        }
        if (conn_process(c) < 0) {
            table_commit(srv);
            conn_close(c);
            return;
        }
        /* durable before acknowledged */
        if (table_commit(srv) != 0) {
            stream_puts(c->s, "* BYE \"database error\"\r\n");
            c->state = C_CLOSING;
        }
    }
    conn_update_events(c);
}

static void
conn_close(struct mconn *c)
{
    struct mupdate_server *srv = c->srv;
    struct mconn **pp;

    for (pp = &srv->conns; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
    srv->nconns--;
    loop_del_fd(srv->loop, c->fd);
    if (c->timer)
        loop_cancel_timer(srv->loop, c->timer);
    stream_close(&c->s);
    mupdate_parser_free(&c->p);
    saslglue_server_free(&c->sasl);
    free(c->user);
    free(c->authtag);
    free(c->updtag);
    strarray_fini(&c->hosts);
    strarray_fini(&c->pending);
    hash_free(&c->pendset, NULL);
    dump_free(&c->dump);
    free(c);
}

static void
banner(struct mconn *c)
{
    struct buf b = BUF_INITIALIZER, mechs = BUF_INITIALIZER;
    const char *sn = config_str(c->srv->cfg, CFG_SERVERNAME);
    char host[256];

    if (sn == NULL) {
        if (gethostname(host, sizeof(host)) != 0)
            host[0] = '\0';
        host[sizeof(host) - 1] = '\0';
        sn = host;
    }
    buf_appendcstr(&b, "* AUTH");
    if (c->sasl != NULL
        && saslglue_mechlist(c->sasl, "", " ", "", &mechs) > 0) {
        struct strarray *sa = strarray_split(buf_cstring(&mechs), " ");
        size_t i;

        for (i = 0; i < sa->count; i++)
            buf_printf(&b, " \"%s\"", sa->data[i]);
        strarray_free(&sa);
    }
    buf_appendcstr(&b, "\r\n");
    if (c->srv->tls != NULL && !stream_tls_active(c->s))
        buf_appendcstr(&b, "* STARTTLS\r\n");
    buf_appendcstr(&b, "* COMPRESS \"DEFLATE\"\r\n* PARTIAL-UPDATE\r\n");
    if (c->srv->changes != NULL)
        buf_appendcstr(&b, "* XCHANGES\r\n");
    buf_printf(&b, "* OK MUPDATE ");
    mupdate_write_string(&b, sn);
    buf_printf(&b, " \"Cyrus IMAP\" \"%s\" ", MUPDATE_VERSION);
    mupdate_write_string(&b, c->srv->role);
    buf_appendcstr(&b, "\r\n");
    stream_write(c->s, buf_base(&b), buf_len(&b));
    buf_free(&b);
    buf_free(&mechs);
}

void
mupdate_server_add_client(struct mupdate_server *srv, int fd)
{
    struct mconn *c = xzmalloc(sizeof(*c));
    struct buf rip = BUF_INITIALIZER;

    c->srv = srv;
    c->fd = fd;
    c->s = stream_new(fd);
    stream_set_nonblocking(c->s, 1);
    stream_set_maxline(c->s, 0);
    c->p = mupdate_parser_new(NULL);
    c->pendset = hash_new(64);
    c->state = C_PREAUTH;
    if (saslglue_ipport(fd, 1, &rip) == 0)
        snprintf(c->remote, sizeof(c->remote), "%s", buf_cstring(&rip));
    else
        snprintf(c->remote, sizeof(c->remote), "local");
    buf_free(&rip);
    c->next = srv->conns;
    srv->conns = c;
    srv->nconns++;
    loop_add_fd(srv->loop, fd, LOOP_READ, conn_cb, c);
    if ((long)srv->nconns > config_int(srv->cfg, CFG_MUPDATE_CONNECTIONS_MAX)) {
        stream_puts(c->s, "* BYE \"Server Unable\"\r\n");
        c->state = C_CLOSING;
    } else if (!srv->ready) {
        stream_puts(c->s, "* BYE \"no longer ready for connections\"\r\n");
        c->state = C_CLOSING;
    } else {
        sasl_new(c);
        banner(c);
    }
    conn_update_events(c);
}

static void
accept_cb(struct loop *l, int fd, unsigned events, void *ctx)
{
    struct mupdate_server *srv = ctx;
    int cfd;

    (void)l;
    (void)events;
    while ((cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
        mupdate_server_add_client(srv, cfd);
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        log_msg(LOG_ERR, "mupdate: accept: %s", strerror(errno));
}

int
mupdate_server_listen(struct mupdate_server *srv, int listenfd)
{
    util_set_nonblock(listenfd, 1);
    srv->listenfd = listenfd;
    return loop_add_fd(srv->loop, listenfd, srv->held ? 0 : LOOP_READ,
                       accept_cb, srv);
}

struct mupdate_server *
mupdate_server_new(const struct mupdate_server_params *params)
{
    struct mupdate_server *srv = xzmalloc(sizeof(*srv));

    srv->cfg = params->cfg;
    srv->loop = params->loop;
    srv->ml = params->ml;
    srv->readonly = params->readonly;
    srv->ready = 1;
    srv->role = xstrdup(params->banner_role ? params->banner_role : "(master)");
    srv->max_output = params->max_output ? params->max_output : 64u << 20;
    srv->tls = params->tls;
    srv->changes = params->changes;
    srv->listenfd = -1;
    return srv;
}

void
mupdate_server_set_ready(struct mupdate_server *srv, int ready)
{
    srv->ready = ready;
}

void
mupdate_server_hold(struct mupdate_server *srv, int hold)
{
    srv->held = hold;
    if (srv->listenfd >= 0)
        loop_mod_fd(srv->loop, srv->listenfd, hold ? 0 : LOOP_READ);
}

size_t
mupdate_server_nclients(const struct mupdate_server *srv)
{
    return srv->nconns;
}

void
mupdate_server_free(struct mupdate_server **sp)
{
    struct mupdate_server *srv = *sp;

    if (srv == NULL)
        return;
    *sp = NULL;
    table_commit(srv);
    while (srv->conns)
        conn_close(srv->conns);
    if (srv->listenfd >= 0)
        loop_del_fd(srv->loop, srv->listenfd);
    if (srv->drain_timer)
        loop_cancel_timer(srv->loop, srv->drain_timer);
    strarray_fini(&srv->changed);
    free(srv->role);
    free(srv);
}
