/* cmd_mupdatepush.c: MUPDATEPUSH name (IMAP-SCOPE.md §2, MURDER.md §7
 * step 6): admins only; ACTIVATE the local mailbox name at our
 * servername!partition with its ACL on the mupdate master. The last step
 * of an XFER, run on the destination: from then on frontends route the
 * mailbox here. */
#include <stdlib.h>

#include "errors.h"
#include "imapd.h"
#include "mboxlist.h"
#include "mboxname.h"
#include "mboxops.h"

void
cmd_mupdatepush(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    struct buf name = BUF_INITIALIZER, loc = BUF_INITIALIZER;
    const struct mboxops_murder *m = s->proc->murder;
    struct mboxlist_entry *e = NULL;
    char *intname = NULL;
    int r;

    if (imaptok_mailbox(t, &name) < 0 || imaptok_end(t) < 0) {
        imapd_bad(s, tag, "Invalid arguments to Mupdatepush");
        goto done;
    }
    if (!s->isadmin) {
        imapd_error(s, tag, ERR_PERMISSION);
        goto done;
    }
    if (m == NULL || m->activate == NULL) {
        imapd_no(s, tag, NULL, "Not in a murder");
        goto done;
    }
    r = mboxname_to_internal(s->proc->ns, s->userid, s->isadmin,
                             buf_cstring(&name), &intname);
    if (r < 0)
        r = ERR_BADNAME;
    else
        r = mboxlist_lookup(s->proc->mboxlist, intname, &e, NULL);
    if (r == 0 && e->server)
        r = ERR_MOVED;
    if (r == 0) {
        buf_printf(&loc, "%s!%s", s->proc->servername, e->partition);
        r = m->activate(m->ctx, intname, buf_cstring(&loc),
                        e->acl ? e->acl : "");
    }
    if (r)
        imapd_error(s, tag, r);
    else
        imapd_ok(s, tag, NULL, "Completed");
done:
    mboxlist_entry_free(&e);
    free(intname);
    buf_free(&name);
    buf_free(&loc);
}
