/* lmtp_proxy.c: per-backend LMTP transactions for the frontend
 * (lmtp_proxy.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"
#include "errors.h"
#include "lmtp_client.h"
#include "lmtp_proto.h"
#include "lmtp_proxy.h"
#include "log.h"
#include "strarray.h"
#include "xmalloc.h"

/* A cached connection to one backend, and its part of the transaction
 * in progress. */
struct lmtp_proxy_conn {
    char *server;
    struct backend *be;
    struct lmtp_client *c; /* on be's stream */
    time_t used;
    /* the transaction: br[i] is rcpts[idx[i]] of lmtp_proxy_begin() */
    struct lmtp_client_rcpt *br;
    size_t *idx;
    size_t m;
    enum {
        CONN_IDLE,
        CONN_ENVELOPE,
        CONN_DATA
    } state;
};

struct lmtp_proxy {
    const struct config *cfg;
    char *lhlo;
    struct lmtp_proxy_conn **conn; /* pointers: stable across drops */
    size_t nconn, connalloc;
    struct strarray texts; /* reply texts of the last delivery */
    /* the transaction in progress */
    struct lmtp_proxy_rcpt *rcpts;
    size_t nrcpt;
    const char *sessionid;
};

struct lmtp_proxy *
lmtp_proxy_new(const struct config *cfg, const char *lhlo)
{
    struct lmtp_proxy *p = xzmalloc(sizeof(*p));

    p->cfg = cfg;
    p->lhlo = xstrdup(lhlo);
    return p;
}

static void
conn_close(struct lmtp_proxy_conn *pc, int polite)
{
    const char *e;

    if (polite && pc->c != NULL && pc->state == CONN_IDLE)
        lmtp_client_quit(pc->c, &e);
    lmtp_client_free(&pc->c);
    backend_free(&pc->be);
    free(pc->server);
    free(pc->br);
    free(pc->idx);
    free(pc);
}

void
lmtp_proxy_free(struct lmtp_proxy **pp)
{
    struct lmtp_proxy *p = *pp;
    size_t i;

    if (p == NULL)
        return;
    *pp = NULL;
    for (i = 0; i < p->nconn; i++)
        conn_close(p->conn[i], 1);
    free(p->conn);
    free(p->lhlo);
    strarray_fini(&p->texts);
    free(p);
}

/* Forget connection i (broken, idle too long, or left in the middle of a
 * transaction, which only closing can cancel once DATA was sent). */
static void
conn_drop(struct lmtp_proxy *p, size_t i, int polite)
{
    conn_close(p->conn[i], polite);
    p->conn[i] = p->conn[--p->nconn];
}

static size_t
conn_index(const struct lmtp_proxy *p, const struct lmtp_proxy_conn *pc)
{
    size_t i;

    for (i = 0; i < p->nconn && p->conn[i] != pc; i++)
        ;
    return i;
}

/* A live connection to server: cached (checked with RSET when idle) or
 * new. NULL when the backend cannot be reached. */
static struct lmtp_proxy_conn *
conn_get(struct lmtp_proxy *p, const char *server)
{
    struct lmtp_proxy_conn *pc;
    struct backend *be = NULL;
    struct lmtp_client *c = NULL;
    char *why = NULL;
    const char *e = NULL;
    size_t i;
    int r;

    for (i = 0; i < p->nconn; i++) {
        time_t idle;

        pc = p->conn[i];
        if (strcmp(pc->server, server) != 0)
            continue;
        idle = time(NULL) - pc->used;
        if (idle >= BACKEND_IDLE_DROP) {
            conn_drop(p, i, 1);
            break;
        }
        if (idle < BACKEND_IDLE_PING || lmtp_client_rset(pc->c, &e) == 0)
            return pc;
        log_msg(LOG_INFO, "lmtpd: cached connection to %s: %s", server,
                e ? e : "?");
        conn_drop(p, i, 0);
        break;
    }
    r = backend_connect(p->cfg, server, &backend_proto_lmtp, NULL, NULL, &be,
                        &why);
    if (r == 0)
        r = lmtp_client_attach(backend_stream(be), p->lhlo, &c, &e);
    if (r < 0) {
        log_msg(LOG_ERR, "lmtpd: backend %s: %s", server,
                why ? why
                : e ? e
                    : error_text(r));
        free(why);
        backend_free(&be);
        return NULL;
    }
    if (p->nconn == p->connalloc) {
        p->connalloc = p->connalloc ? 2 * p->connalloc : 4;
        p->conn = xreallocarray(p->conn, p->connalloc, sizeof(*p->conn));
    }
    pc = xzmalloc(sizeof(*pc));
    p->conn[p->nconn++] = pc;
    pc->server = xstrdup(server);
    pc->be = be;
    pc->c = c;
    pc->used = time(NULL);
    return pc;
}

/* Our reply for what the backend said about one recipient. */
static void
map_reply(struct lmtp_proxy *p, struct lmtp_proxy_rcpt *r,
          const struct lmtp_client_rcpt *br, const char *sessionid)
{
    struct buf t = BUF_INITIALIZER;

    if (br->err == ERR_NOMAILBOX || br->err == ERR_NOUSER) {
        /* our replica said the mailbox exists: it may be stale; let the
         * MTA retry rather than bounce */
        r->code = 451;
        buf_appendcstr(&t, "4.3.0 Mailbox unknown on the backend");
    } else if (br->code >= 200 && br->code < 300) {
        r->code = br->code;
        buf_printf(&t, "%s Ok SESSIONID=<%s>",
                   br->enhanced[0] ? br->enhanced : "2.1.5", sessionid);
    } else {
        r->code = br->code;
        if (br->enhanced[0])
            buf_printf(&t, "%s ", br->enhanced);
        buf_appendcstr(&t, error_text(br->err));
    }
    strarray_appendm(&p->texts, buf_release(&t));
    r->text = strarray_nth(&p->texts, p->texts.count - 1);
}

/* The recipients of pc's part of the transaction that are still open
 * get the "backend unavailable" reply; the connection is dropped. */
static void
conn_failed(struct lmtp_proxy *p, struct lmtp_proxy_conn *pc, const char *e,
            int r)
{
    struct lmtp_reply_code down = lmtp_reply_for_error(ERR_UNAVAILABLE, 0);
    size_t i;

    log_msg(LOG_ERR, "lmtpd: %s: backend %s: %s", p->sessionid, pc->server,
            e ? e : error_text(r));
    for (i = 0; i < pc->m; i++) {
        struct lmtp_proxy_rcpt *rc = &p->rcpts[pc->idx[i]];

        rc->code = down.code;
        rc->text = down.text;
        log_msg(LOG_INFO, "lmtpd: %s <%s> via %s: %d %s", p->sessionid,
                rc->addr, pc->server, rc->code, rc->text);
    }
    pc->state = CONN_IDLE;
    conn_drop(p, conn_index(p, pc), 0);
}

/* pc's part of the transaction is over: map the backend's replies. */
static void
conn_finished(struct lmtp_proxy *p, struct lmtp_proxy_conn *pc)
{
    size_t i;

    for (i = 0; i < pc->m; i++) {
        struct lmtp_proxy_rcpt *rc = &p->rcpts[pc->idx[i]];

        map_reply(p, rc, &pc->br[i], p->sessionid);
        log_msg(LOG_INFO, "lmtpd: %s <%s> via %s: %d %s", p->sessionid,
                rc->addr, pc->server, rc->code, rc->text);
    }
    pc->state = CONN_IDLE;
    pc->used = time(NULL);
}

/* Start server's part of the transaction: its recipients among
 * p->rcpts (those without a reply yet). */
static void
begin_server(struct lmtp_proxy *p, const char *server, const char *from)
{
    struct lmtp_proxy_conn *pc = conn_get(p, server);
    struct lmtp_reply_code down = lmtp_reply_for_error(ERR_UNAVAILABLE, 0);
    const char *e = NULL;
    size_t i;
    int r;

    if (pc == NULL) {
        for (i = 0; i < p->nrcpt; i++) {
            struct lmtp_proxy_rcpt *rc = &p->rcpts[i];

            if (rc->code != 0 || strcmp(rc->server, server) != 0)
                continue;
            rc->code = down.code;
            rc->text = down.text;
            log_msg(LOG_INFO, "lmtpd: %s <%s> via %s: %d %s", p->sessionid,
                    rc->addr, server, rc->code, rc->text);
        }
        return;
    }
    pc->br = xreallocarray(pc->br, p->nrcpt, sizeof(*pc->br));
    pc->idx = xreallocarray(pc->idx, p->nrcpt, sizeof(*pc->idx));
    pc->m = 0;
    for (i = 0; i < p->nrcpt; i++) {
        if (p->rcpts[i].code != 0 || strcmp(p->rcpts[i].server, server) != 0)
            continue;
        memset(&pc->br[pc->m], 0, sizeof(pc->br[pc->m]));
        pc->idx[pc->m] = i;
        pc->br[pc->m].addr = p->rcpts[i].addr;
        pc->br[pc->m].ignorequota = p->rcpts[i].ignorequota;
        /* marks the recipient as taken until the real reply */
        p->rcpts[i].code = -1;
        pc->m++;
    }
    pc->state = CONN_ENVELOPE;
    r = lmtp_client_begin(pc->c, from, pc->br, pc->m, &e);
    if (r < 0)
        conn_failed(p, pc, e, r);
}

void
lmtp_proxy_begin(struct lmtp_proxy *p, const char *from,
                 struct lmtp_proxy_rcpt *rcpts, size_t n, const char *sessionid)
{
    size_t i;

    strarray_fini(&p->texts);
    p->rcpts = rcpts;
    p->nrcpt = n;
    p->sessionid = sessionid;
    for (i = 0; i < n; i++) {
        rcpts[i].code = 0;
        rcpts[i].text = NULL;
    }
    /* the first recipient not yet taken names the next server; each
     * backend's envelope goes out now and is answered while the client
     * sends the message */
    for (i = 0; i < n; i++) {
        if (rcpts[i].code == 0)
            begin_server(p, rcpts[i].server, from);
    }
}

size_t
lmtp_proxy_wait(struct lmtp_proxy *p)
{
    size_t i = 0, taking = 0;

    while (i < p->nconn) {
        struct lmtp_proxy_conn *pc = p->conn[i];
        const char *e = NULL;
        int r;

        if (pc->state != CONN_ENVELOPE) {
            i++;
            continue;
        }
        r = lmtp_client_wait_data(pc->c, &e);
        if (r < 0) {
            conn_failed(p, pc, e, r); /* conn[i] is another one now */
            continue;
        }
        if (r == 1) {
            pc->state = CONN_DATA;
            taking++;
        } else {
            conn_finished(p, pc);
        }
        i++;
    }
    return taking;
}

void
lmtp_proxy_write(struct lmtp_proxy *p, const char *data, size_t len)
{
    size_t i;

    for (i = 0; i < p->nconn; i++) {
        if (p->conn[i]->state == CONN_DATA)
            lmtp_client_data(p->conn[i]->c, data, len);
    }
}

void
lmtp_proxy_end(struct lmtp_proxy *p)
{
    size_t i = 0;

    lmtp_proxy_wait(p);
    while (i < p->nconn) {
        struct lmtp_proxy_conn *pc = p->conn[i];
        const char *e = NULL;
        int r;

        if (pc->state != CONN_DATA) {
            i++;
            continue;
        }
        r = lmtp_client_end(pc->c, &e);
        if (r < 0) {
            conn_failed(p, pc, e, r);
            continue;
        }
        conn_finished(p, pc);
        i++;
    }
    p->rcpts = NULL;
    p->nrcpt = 0;
}

void
lmtp_proxy_abort(struct lmtp_proxy *p)
{
    size_t i = 0;

    while (i < p->nconn) {
        if (p->conn[i]->state != CONN_IDLE) {
            /* DATA is out (or the server waits for the message): only
             * closing stops a delivery now */
            p->conn[i]->state = CONN_IDLE;
            conn_drop(p, i, 0);
            continue;
        }
        i++;
    }
    p->rcpts = NULL;
    p->nrcpt = 0;
}

void
lmtp_proxy_deliver(struct lmtp_proxy *p, const char *from,
                   struct lmtp_proxy_rcpt *rcpts, size_t n, const char *msg,
                   size_t len, const char *sessionid)
{
    lmtp_proxy_begin(p, from, rcpts, n, sessionid);
    if (lmtp_proxy_wait(p) > 0)
        lmtp_proxy_write(p, msg, len);
    lmtp_proxy_end(p);
}
