/* cmd_xfer.c: XFER name server [partition] (MURDER.md §7): admins (and
 * the proxy admin a frontend uses) move a user or a shared mailbox from
 * this backend to server. The work is in xfer.c; this file parses, checks
 * and answers as Cyrus does:
 *   * OK USER alice | * OK MAILBOX "name" | * NO USER alice (reason)
 * then the tagged OK, or the tagged NO of the failure. */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "errors.h"
#include "imapd.h"
#include "log.h"
#include "mboxname.h"
#include "stream.h"
#include "xfer.h"

/* Whether the session's selected mailbox is intname or under it. */
static int
moving_selected(const struct imapd_session *s, const char *intname)
{
    if (s->selected_name == NULL)
        return 0;
    return strcmp(s->selected_name, intname) == 0
           || (mboxname_is_inbox(intname)
               && mboxname_is_child_of(s->selected_name, intname));
}

void
cmd_xfer(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    struct buf name = BUF_INITIALIZER, server = BUF_INITIALIZER;
    struct buf part = BUF_INITIALIZER;
    struct xfer_env env = {config, s->proc->ops, NULL, s->proc->seen};
    struct xfer_stats st;
    struct strarray trash = STRARRAY_INITIALIZER;
    char *intname = NULL, *error = NULL, *user = NULL;
    int r;

    if (imaptok_mailbox(t, &name) < 0 || imaptok_sp(t) < 0
        || imaptok_astring(t, &server) < 0
        || (!imaptok_at_end(t)
            && (imaptok_sp(t) < 0 || imaptok_astring(t, &part) < 0))
        || imaptok_end(t) < 0) {
        imapd_bad(s, tag, "Invalid arguments to Xfer");
        goto done;
    }
    if (!s->isadmin) {
        imapd_error(s, tag, ERR_PERMISSION);
        goto done;
    }
    if (s->proc->murder == NULL) {
        imapd_no(s, tag, NULL, "Not in a murder");
        goto done;
    }
    if (mboxname_to_internal(s->proc->ns, s->userid, s->isadmin,
                             buf_cstring(&name), &intname)
        < 0) {
        imapd_error(s, tag, ERR_BADNAME);
        goto done;
    }
    if (moving_selected(s, intname)) {
        imapd_error(s, tag, ERR_LOCKED);
        goto done;
    }
    memset(&st, 0, sizeof(st));
    r = xfer_move(&env, intname, buf_cstring(&server),
                  buf_len(&part) ? buf_cstring(&part) : NULL, &st, &trash,
                  &error);
    user = mboxname_is_inbox(intname) ? mboxname_to_userid(intname) : NULL;
    if (r == 0) {
        log_msg(LOG_NOTICE,
                "xfer: %s to %s: %u mailboxes, %u messages, %llu bytes",
                intname, buf_cstring(&server), st.mailboxes, st.messages,
                (unsigned long long)st.bytes);
        buf_reset(&s->out);
        if (user) {
            buf_printf(&s->out, "* OK USER %s\r\n", user);
        } else {
            buf_appendcstr(&s->out, "* OK MAILBOX ");
            imaptok_quote(&s->out, buf_cstring(&name), buf_len(&name));
            buf_appendcstr(&s->out, "\r\n");
        }
        stream_write(s->s, buf_base(&s->out), buf_len(&s->out));
        imapd_ok(s, tag, NULL, "Completed");
        /* the move is complete: the old spool files go after the reply */
        stream_flush(s->s);
        xfer_remove_trash(&trash);
        goto done;
    }
    log_msg(LOG_ERR, "xfer: %s to %s failed: %s", intname,
            buf_cstring(&server), error ? error : error_text(r));
    buf_reset(&s->out);
    if (user) {
        buf_printf(&s->out, "* NO USER %s (%s)\r\n", user,
                   error ? error : error_text(r));
    } else {
        buf_appendcstr(&s->out, "* NO MAILBOX ");
        imaptok_quote(&s->out, buf_cstring(&name), buf_len(&name));
        buf_printf(&s->out, " (%s)\r\n", error ? error : error_text(r));
    }
    stream_write(s->s, buf_base(&s->out), buf_len(&s->out));
    if (r == ERR_INVALID && error)
        imapd_no(s, tag, NULL, error);
    else
        imapd_error(s, tag, r);
done:
    xfer_remove_trash(&trash);
    free(intname);
    free(error);
    free(user);
    buf_free(&name);
    buf_free(&server);
    buf_free(&part);
}
