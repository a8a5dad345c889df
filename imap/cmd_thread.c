/* cmd_thread.c: THREAD and UID THREAD (RFC 5256 BASE.6.4.THREAD). */
#include <string.h>

#include "errors.h"
#include "imapd.h"
#include "stream.h"
#include "thread.h"

void
cmd_thread(struct imapd_session *s, const char *tag, struct imaptok *t,
           unsigned variant)
{
    int uid = !!(variant & IMAPD_CMD_UID);
    struct thread_program *prog = NULL;
    const char *err = NULL;
    int r;

    /* thread_parse() expects to stand at the SP after the command name */
    if (t->pos > 0 && t->p[t->pos - 1] == ' ')
        t->pos--;
    r = thread_parse(t, uid, &prog, &err);
    if (r == ERR_BADCHARSET) {
        imapd_no(s, tag, "BADCHARSET (US-ASCII UTF-8)",
                 "Unrecognized character set");
        return;
    }
    if (r) {
        imapd_bad(s, tag, err ? err : "Invalid Thread arguments");
        return;
    }
    imapd_sync(s, 0);
    buf_reset(&s->out);
    r = thread_run(s->selected, prog, &s->out);
    if (r == 0)
        stream_write(s->s, buf_base(&s->out), buf_len(&s->out));
    buf_reset(&s->out);
    thread_program_free(&prog);
    if (r)
        imapd_error(s, tag, r);
    else
        imapd_ok(s, tag, NULL, "Completed");
}
