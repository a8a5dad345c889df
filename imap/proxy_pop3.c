/* proxy_pop3.c: where a POP3 user's maildrop lives, and the connection
 * to it (proxy_pop3.h). */
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "errors.h"
#include "log.h"
#include "mboxlist.h"
#include "mboxname.h"
#include "proxy_pop3.h"

int
proxy_pop3_open(const struct config *cfg, struct mboxlist *ml,
                const struct namespace *ns, const char *userid,
                struct backend **be_r, const char **reply_r)
{
    struct mboxlist_entry *e = NULL;
    char *inbox = mboxname_user_inbox(ns, userid), *why = NULL;
    int r;

    *be_r = NULL;
    r = inbox ? mboxlist_lookup(ml, inbox, &e, NULL) : ERR_NOMAILBOX;
    free(inbox);
    if (r < 0 || (e->mbtype & (MBTYPE_DELETED | MBTYPE_INTERMEDIATE))
        || e->server == NULL) {
        /* Cyrus answers a missing INBOX on a frontend as temporary: the
         * replica may lag behind a CREATE on the backend */
        mboxlist_entry_free(&e);
        *reply_r = "[SYS/TEMP] Unable to locate maildrop";
        return ERR_NOUSER;
    }
    if (e->mbtype & (MBTYPE_RESERVE | MBTYPE_MOVING)) {
        mboxlist_entry_free(&e);
        *reply_r = "[SYS/TEMP] Maildrop is being moved";
        return ERR_MOVED;
    }
    r = backend_connect(cfg, e->server, &backend_proto_pop3, userid, NULL, be_r,
                        &why);
    if (r < 0) {
        log_msg(LOG_ERR, "pop3d: backend %s for %s: %s", e->server, userid,
                why ? why : error_text(r));
        mboxlist_entry_free(&e);
        /* the backend's maildrop lock is held by another session: keep
         * RFC 2449's IN-USE (the client retries later, does not give up) */
        if (r == ERR_AUTH && why && strstr(why, "[IN-USE]")) {
            free(why);
            *reply_r = "[IN-USE] Unable to lock maildrop";
            return ERR_LOCKED;
        }
        free(why);
        *reply_r = "[SYS/TEMP] Server(s) unavailable to complete operation";
        return ERR_UNAVAILABLE;
    }
    log_msg(LOG_INFO, "pop3d: %s proxied to %s", userid, e->server);
    mboxlist_entry_free(&e);
    return 0;
}
