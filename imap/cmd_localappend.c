/* cmd_localappend.c: LOCALAPPEND, the Cyrus-private APPEND a Cyrus 3.x
 * frontend sends to a backend for every APPEND it proxies:
 *
 *     tag LOCALAPPEND mailbox partition [flags] [date-time] literal ...
 *
 * "Local" means: append here, do not look for the mailbox elsewhere in the
 * murder. The partition (empty as Cyrus sends it) is where Cyrus would
 * stage; we stage on the mailbox's own partition and ignore it. Only a
 * proxied session (a frontend logged in for the user) or an admin may use
 * it; to anyone else it does not exist, as an unknown command. */
#include "imapd.h"
#include "saslglue.h"
#include "util.h"

void
cmd_localappend(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    struct buf name = BUF_INITIALIZER, partition = BUF_INITIALIZER;

    if (!s->isadmin && !(s->sasl && saslglue_server_proxied(s->sasl))) {
        imapd_bad(s, tag, "Unrecognized command");
        return;
    }
    if (imaptok_mailbox(t, &name) < 0 || imaptok_sp(t) < 0 ||
        imaptok_astring(t, &partition) < 0 || imaptok_sp(t) < 0)
        imapd_bad(s, tag, "Missing required argument to Localappend");
    else
        cmd_append_to(s, tag, buf_cstring(&name), t);
    buf_free(&name);
    buf_free(&partition);
}
