/* cmd_localseen.c: LOCALSEEN user uniqueid lastread lastuid lastchange
 * uids: admins only; store user's seen.db entry for the mailbox uniqueid
 * (uids: a sequence set, "" when nothing is seen). XFER of a user uses
 * it to carry the user's \Seen of mailboxes they do not own (seen.h),
 * which live in seen.db on the user's home backend; Cyrus carries them
 * inside its UNDUMP image instead. */
#include "errors.h"
#include "imapd.h"
#include "seen.h"

void
cmd_localseen(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    struct buf user = BUF_INITIALIZER, uniqueid = BUF_INITIALIZER;
    struct seen_data sd = SEEN_DATA_INITIALIZER;
    uint64_t lastread, lastchange;
    int r;

    if (imaptok_astring(t, &user) < 0 || imaptok_sp(t) < 0
        || imaptok_astring(t, &uniqueid) < 0 || imaptok_sp(t) < 0
        || imaptok_number64(t, &lastread) < 0 || imaptok_sp(t) < 0
        || imaptok_number(t, &sd.lastuid) < 0 || imaptok_sp(t) < 0
        || imaptok_number64(t, &lastchange) < 0 || imaptok_sp(t) < 0
        || imaptok_astring(t, &sd.uids) < 0 || imaptok_end(t) < 0
        || lastread > INT64_MAX || lastchange > INT64_MAX) {
        imapd_bad(s, tag, "Invalid arguments to Localseen");
        goto done;
    }
    if (!s->isadmin) {
        imapd_error(s, tag, ERR_PERMISSION);
        goto done;
    }
    if (s->proc->seen == NULL) {
        imapd_error(s, tag, ERR_NOTSUPPORTED);
        goto done;
    }
    sd.lastread = (int64_t)lastread;
    sd.lastchange = (int64_t)lastchange;
    r = seen_write(s->proc->seen, buf_cstring(&user), buf_cstring(&uniqueid),
                   &sd, NULL);
    if (r)
        imapd_error(s, tag, r);
    else
        imapd_ok(s, tag, NULL, "Completed");
done:
    seen_data_fini(&sd);
    buf_free(&user);
    buf_free(&uniqueid);
}
