/* murderhook.c: the mupdate hooks of a backend (see murderhook.h). */
#include <string.h>
#include <syslog.h>

#include "errors.h"
#include "log.h"
#include "mupdate_client.h"
#include "murderhook.h"
#include "xmalloc.h"

/* Bounds the connect and every answer: a backend command waits at most
 * this long for a stuck master. */
#define MURDERHOOK_TIMEOUT_MS 10000

struct murderhook {
    struct mboxops_murder hooks; /* first: the hooks' ctx is this struct */
    const struct config *cfg;
    struct mupdate_client *mc;
};

enum op { OP_RESERVE, OP_ACTIVATE, OP_DELETE };

/* Errors after which the connection is unusable (mupdate_client.h). */
static int
conn_broken(int r)
{
    return r == ERR_PROTOCOL || r == ERR_EOF || r == ERR_IO
           || r == ERR_TIMEOUT;
}

static int
ensure_conn(struct murderhook *h)
{
    const char *err = NULL;
    int r;

    if (h->mc != NULL)
        return 0;
    r = mupdate_client_connect(h->cfg, NULL, MURDERHOOK_TIMEOUT_MS, &h->mc,
                               &err);
    if (r != 0) {
        log_msg(LOG_ERR, "mupdate: cannot connect to %s: %s",
                config_str(h->cfg, CFG_MUPDATE_SERVER), err ? err : "");
        return ERR_MUPDATE_NOCONN;
    }
    return 0;
}

static int
run_once(struct murderhook *h, enum op op, const char *name,
         const char *location, const char *acl)
{
    struct mupdate_mailbox *mb = NULL;
    int r = ensure_conn(h);

    if (r != 0)
        return r;
    switch (op) {
    case OP_RESERVE:
        return mupdate_reserve(h->mc, name, location);
    case OP_ACTIVATE:
        return mupdate_activate(h->mc, name, location, acl ? acl : "");
    case OP_DELETE:
        r = mupdate_delete(h->mc, name);
        /* NO: absent (nothing to do) or a master error: tell them apart */
        if (r == ERR_MUPDATE_FAIL) {
            r = mupdate_find(h->mc, name, &mb);
            if (r == 0)
                r = ERR_MUPDATE_FAIL;
            mupdate_mailbox_free(&mb);
        }
        return r;
    }
    return ERR_MUPDATE_FAIL;
}

static int
run(struct murderhook *h, enum op op, const char *name, const char *location,
    const char *acl)
{
    int r = run_once(h, op, name, location, acl);

    if (conn_broken(r)) {
        /* maybe a connection the master dropped while we were idle */
        mupdate_client_free(&h->mc);
        r = run_once(h, op, name, location, acl);
        if (conn_broken(r)) {
            mupdate_client_free(&h->mc);
            r = ERR_MUPDATE_NOCONN;
        }
    }
    if (r != 0 && r != ERR_NOMAILBOX)
        log_msg(LOG_ERR, "mupdate: %s %s: %s",
                op == OP_RESERVE    ? "RESERVE"
                : op == OP_ACTIVATE ? "ACTIVATE"
                                    : "DELETE",
                name, error_text(r));
    return r;
}

static int
reserve_cb(void *ctx, const char *name, const char *location)
{
    return run(ctx, OP_RESERVE, name, location, NULL);
}

static int
activate_cb(void *ctx, const char *name, const char *location,
            const char *acl)
{
    return run(ctx, OP_ACTIVATE, name, location, acl);
}

static int
remove_cb(void *ctx, const char *name)
{
    return run(ctx, OP_DELETE, name, NULL, NULL);
}

struct mboxops_murder *
murderhook_new(const struct config *cfg)
{
    struct murderhook *h = xzmalloc(sizeof(*h));

    h->cfg = cfg;
    h->hooks.reserve = reserve_cb;
    h->hooks.activate = activate_cb;
    h->hooks.remove = remove_cb;
    h->hooks.ctx = h;
    return &h->hooks;
}

void
murderhook_free(struct mboxops_murder **mp)
{
    struct murderhook *h;

    if (*mp == NULL)
        return;
    h = (*mp)->ctx;
    if (h->mc != NULL) {
        mupdate_logout(h->mc);
        mupdate_client_free(&h->mc);
    }
    free(h);
    *mp = NULL;
}
