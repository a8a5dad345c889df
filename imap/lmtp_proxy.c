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

/* A cached connection to one backend. */
struct lmtp_proxy_conn {
    char *server;
    struct backend *be;
    struct lmtp_client *c; /* on be's stream */
    time_t used;
};

struct lmtp_proxy {
    const struct config *cfg;
    char *lhlo;
    struct lmtp_proxy_conn *conn;
    size_t nconn, connalloc;
    struct strarray texts; /* reply texts of the last delivery */
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

    if (polite && pc->c != NULL)
        lmtp_client_quit(pc->c, &e);
    lmtp_client_free(&pc->c);
    backend_free(&pc->be);
    free(pc->server);
    pc->server = NULL;
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
        conn_close(&p->conn[i], 1);
    free(p->conn);
    free(p->lhlo);
    strarray_fini(&p->texts);
    free(p);
}

/* Forget connection i (broken, or idle too long). */
static void
conn_drop(struct lmtp_proxy *p, size_t i, int polite)
{
    conn_close(&p->conn[i], polite);
    p->conn[i] = p->conn[--p->nconn];
}

/* A live client for server: cached (checked with RSET when idle) or new.
 * NULL when the backend cannot be reached. */
static struct lmtp_client *
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

        pc = &p->conn[i];
        if (strcmp(pc->server, server) != 0)
            continue;
        idle = time(NULL) - pc->used;
        if (idle >= BACKEND_IDLE_DROP) {
            conn_drop(p, i, 1);
            break;
        }
        if (idle < BACKEND_IDLE_PING || lmtp_client_rset(pc->c, &e) == 0)
            return pc->c;
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
    pc = &p->conn[p->nconn++];
    pc->server = xstrdup(server);
    pc->be = be;
    pc->c = c;
    pc->used = time(NULL);
    return c;
}

static void
conn_done(struct lmtp_proxy *p, const char *server, int broken)
{
    size_t i;

    for (i = 0; i < p->nconn; i++) {
        if (strcmp(p->conn[i].server, server) != 0)
            continue;
        if (broken)
            conn_drop(p, i, 0);
        else
            p->conn[i].used = time(NULL);
        return;
    }
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

/* One transaction with server for the recipients of rcpts that live
 * there. */
static void
deliver_server(struct lmtp_proxy *p, const char *server, const char *from,
               struct lmtp_proxy_rcpt *rcpts, size_t n, const char *msg,
               size_t len, const char *sessionid)
{
    struct lmtp_client_rcpt *br = xzmalloc(n * sizeof(*br));
    size_t *idx = xzmalloc(n * sizeof(*idx));
    struct lmtp_client *c = conn_get(p, server);
    struct lmtp_reply_code down = lmtp_reply_for_error(ERR_UNAVAILABLE, 0);
    const char *e = NULL;
    size_t i, m = 0;
    int r = ERR_UNAVAILABLE;

    for (i = 0; i < n; i++) {
        if (rcpts[i].code != 0 || strcmp(rcpts[i].server, server) != 0)
            continue;
        idx[m] = i;
        br[m].addr = rcpts[i].addr;
        br[m].ignorequota = rcpts[i].ignorequota;
        m++;
    }
    if (c != NULL) {
        r = lmtp_client_send(c, from, br, m, msg, len, &e);
        if (r < 0)
            log_msg(LOG_ERR, "lmtpd: %s: backend %s: %s", sessionid, server,
                    e ? e : error_text(r));
        conn_done(p, server, r < 0);
    }
    for (i = 0; i < m; i++) {
        struct lmtp_proxy_rcpt *rc = &rcpts[idx[i]];

        if (r < 0) {
            rc->code = down.code;
            rc->text = down.text;
        } else {
            map_reply(p, rc, &br[i], sessionid);
        }
        log_msg(LOG_INFO, "lmtpd: %s <%s> via %s: %d %s", sessionid, rc->addr,
                server, rc->code, rc->text);
    }
    free(br);
    free(idx);
}

void
lmtp_proxy_deliver(struct lmtp_proxy *p, const char *from,
                   struct lmtp_proxy_rcpt *rcpts, size_t n, const char *msg,
                   size_t len, const char *sessionid)
{
    size_t i;

    strarray_fini(&p->texts);
    for (i = 0; i < n; i++) {
        rcpts[i].code = 0;
        rcpts[i].text = NULL;
    }
    /* the first recipient without a reply names the next server */
    for (i = 0; i < n; i++) {
        if (rcpts[i].code == 0)
            deliver_server(p, rcpts[i].server, from, rcpts, n, msg, len,
                           sessionid);
    }
}
