/* cmd_localsubscribe.c: LOCALSUBSCRIBE user name: admins only; add name
 * (admin form, need not exist here) to user's subscriptions in subs.db.
 * XFER uses it to carry a moved user's subscriptions (MURDER.md §7
 * step 4); Cyrus carries them inside its UNDUMP image instead. */
#include <stdlib.h>

#include "errors.h"
#include "imapd.h"
#include "mboxname.h"
#include "subs.h"

void
cmd_localsubscribe(struct imapd_session *s, const char *tag,
                   struct imaptok *t)
{
    struct buf user = BUF_INITIALIZER, name = BUF_INITIALIZER;
    char *intname = NULL;
    int r;

    if (imaptok_astring(t, &user) < 0 || imaptok_sp(t) < 0
        || imaptok_mailbox(t, &name) < 0 || imaptok_end(t) < 0) {
        imapd_bad(s, tag, "Invalid arguments to Localsubscribe");
        goto done;
    }
    if (!s->isadmin) {
        imapd_error(s, tag, ERR_PERMISSION);
        goto done;
    }
    if (s->proc->subs == NULL) {
        imapd_error(s, tag, ERR_NOTSUPPORTED);
        goto done;
    }
    r = mboxname_to_internal(s->proc->ns, s->userid, s->isadmin,
                             buf_cstring(&name), &intname);
    if (r < 0)
        r = ERR_BADNAME;
    else
        r = subs_add(s->proc->subs, buf_cstring(&user), intname, NULL);
    if (r)
        imapd_error(s, tag, r);
    else
        imapd_ok(s, tag, NULL, "Completed");
done:
    free(intname);
    buf_free(&user);
    buf_free(&name);
}
