/* cmd_localdelete.c: LOCALDELETE name (IMAP-SCOPE.md §2): admins only,
 * delete a local mailbox (a user INBOX takes its children with it)
 * without telling the mupdate master. XFER's rollback on the destination
 * and tests use it. */
#include <stdlib.h>

#include "errors.h"
#include "imapd.h"
#include "mboxname.h"
#include "mboxops.h"

void
cmd_localdelete(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    struct buf name = BUF_INITIALIZER;
    struct mboxops_who who = {s->userid, 1};
    struct mboxops local = *s->proc->ops;
    const char *error = NULL;
    char *intname = NULL;
    int r;

    if (imaptok_mailbox(t, &name) < 0 || imaptok_end(t) < 0) {
        imapd_bad(s, tag, "Invalid arguments to Localdelete");
        goto done;
    }
    if (!s->isadmin) {
        imapd_error(s, tag, ERR_PERMISSION);
        goto done;
    }
    if (mboxname_to_internal(s->proc->ns, s->userid, s->isadmin,
                             buf_cstring(&name), &intname)
        < 0) {
        imapd_error(s, tag, ERR_BADNAME);
        goto done;
    }
    local.murder = NULL;
    local.immediate_delete = 1; /* XFER's rollback: nothing to keep */
    r = mboxops_delete(&local, &who, intname, &error);
    imapd_result(s, tag, r, error);
done:
    free(intname);
    buf_free(&name);
}
