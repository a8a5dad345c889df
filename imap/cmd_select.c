/* cmd_select.c: SELECT, EXAMINE, CLOSE, UNSELECT, CHECK. */
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "errors.h"
#include "expunge.h"
#include "imapd.h"
#include "index.h"
#include "mailbox.h"
#include "mboxlist.h"
#include "stream.h"
#include "util.h"
#include "xmalloc.h"

static void
flag_list(struct imapd_session *s, struct buf *out, int permanent,
          uint32_t rights)
{
    struct mailbox *mb = index_mailbox(s->selected);
    int i;

    buf_putc(out, '(');
    if (!permanent || (rights & ACL_WRITE))
        buf_appendcstr(out, "\\Answered \\Flagged \\Draft ");
    if (!permanent || (rights & ACL_DELETEMSG))
        buf_appendcstr(out, "\\Deleted ");
    if (!permanent || (rights & ACL_SEEN))
        buf_appendcstr(out, "\\Seen ");
    if (!permanent || (rights & ACL_WRITE)) {
        for (i = 0; i < MAILBOX_MAX_USER_FLAGS; i++) {
            const char *name = mailbox_user_flag_name(mb, i);

            if (name == NULL)
                break;
            buf_printf(out, "%s ", name);
        }
    }
    if (permanent && (rights & ACL_WRITE))
        buf_appendcstr(out, "\\* ");
    if (buf_len(out) > 1 && buf_base(out)[buf_len(out) - 1] == ' ')
        buf_truncate(out, buf_len(out) - 1);
    buf_putc(out, ')');
}

static void
do_select(struct imapd_session *s, const char *tag, struct imaptok *t,
          int examine)
{
    struct buf name = BUF_INITIALIZER, flags = BUF_INITIALIZER;
    struct buf path = BUF_INITIALIZER;
    struct mboxlist_entry *e = NULL;
    char *intname = NULL;
    const struct mailbox_counts *c;
    uint32_t rights, seq, first_unseen = 0;
    int r, readonly, condstore = 0;

    if (imaptok_mailbox(t, &name) < 0) {
        imapd_bad(s, tag, "Missing required argument to Select");
        goto done;
    }
    if (imaptok_peek(t) == ' ') {
        struct imaptok_span p;

        /* RFC 7162 select parameter */
        if (imaptok_sp(t) < 0 || imaptok_lparen(t) < 0
            || imaptok_atom(t, &p) < 0
            || !util_memcaseeq(p.p, p.len, "CONDSTORE")
            || imaptok_rparen(t) < 0) {
            imapd_bad(s, tag, "Invalid Select parameters");
            goto done;
        }
        condstore = 1;
    }
    if (imaptok_end(t) < 0) {
        imapd_bad(s, tag, "Unexpected extra arguments to Select");
        goto done;
    }
    /* RFC 3501 6.3.1: a failed SELECT leaves no mailbox selected */
    if (s->selected) {
        imapd_unselect(s);
        stream_puts(s->s, "* OK [CLOSED] Ok\r\n");
    }
    r = imapd_lookup(s, buf_cstring(&name), &intname, &e);
    if (r) {
        imapd_error(s, tag, r);
        goto done;
    }
    rights = imapd_rights(s, e);
    if (!(rights & ACL_READ)) {
        imapd_error(s, tag, ERR_PERMISSION);
        goto done;
    }
    if (e->server) {
        imapd_error(s, tag, ERR_MOVED);
        goto done;
    }
    readonly = examine || !(rights & (ACL_WRITE | ACL_SEEN | ACL_DELETEMSG
                                      | ACL_EXPUNGE | ACL_INSERT));
    r = imapd_mailbox_path(s, e, &path);
    if (r == 0)
        r = index_open(buf_cstring(&path), readonly, &s->selected);
    if (r) {
        imapd_error(s, tag, r == ERR_NOMAILBOX ? ERR_IO : r);
        goto done;
    }
    if (condstore)
        s->enabled |= IMAPD_ENABLED_CONDSTORE;
    s->selected_name = intname;
    s->selected_rights = rights;
    intname = NULL;
    s->state = IMAPD_SELECTED;
    c = mailbox_counts(index_mailbox(s->selected));
    flag_list(s, &flags, 0, rights);
    stream_printf(s->s, "* FLAGS %s\r\n", buf_cstring(&flags));
    buf_reset(&flags);
    flag_list(s, &flags, 1, readonly ? 0 : rights);
    stream_printf(s->s, "* OK [PERMANENTFLAGS %s] Ok\r\n",
                  buf_cstring(&flags));
    stream_printf(s->s, "* %u EXISTS\r\n", index_count(s->selected));
    stream_printf(s->s, "* %u RECENT\r\n", index_recent_count(s->selected));
    if (mailbox_lock(index_mailbox(s->selected), MAILBOX_SHARED) == 0) {
        for (seq = 1; seq <= index_count(s->selected); seq++) {
            struct index_record rec;

            if (index_record(s->selected, seq, &rec) == 0
                && !(rec.system_flags & FLAG_SEEN)) {
                first_unseen = seq;
                break;
            }
        }
        mailbox_unlock(index_mailbox(s->selected));
    }
    if (first_unseen)
        stream_printf(s->s, "* OK [UNSEEN %u] Ok\r\n", first_unseen);
    stream_printf(s->s, "* OK [UIDVALIDITY %u] Ok\r\n", c->uidvalidity);
    stream_printf(s->s, "* OK [UIDNEXT %u] Ok\r\n", c->last_uid + 1);
    stream_printf(s->s, "* OK [HIGHESTMODSEQ %llu] Ok\r\n",
                  (unsigned long long)c->highestmodseq);
    stream_printf(s->s, "* OK [MAILBOXID (%s)] Ok\r\n", e->uniqueid);
    imapd_ok(s, tag, readonly ? "READ-ONLY" : "READ-WRITE", "Completed");
done:
    free(intname);
    mboxlist_entry_free(&e);
    buf_free(&name);
    buf_free(&flags);
    buf_free(&path);
}

void
cmd_select(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    do_select(s, tag, t, 0);
}

void
cmd_examine(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    do_select(s, tag, t, 1);
}

void
cmd_close(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    if (imaptok_end(t) < 0) {
        imapd_bad(s, tag, "Unexpected extra arguments to Close");
        return;
    }
    /* RFC 3501 6.4.2: silently expunge \Deleted when read-write */
    {
        struct expunge_ctx ec;

        memset(&ec, 0, sizeof(ec));
        ec.view = s->selected;
        ec.rights = s->selected_rights;
        ec.mode = (enum expunge_mode)imapd_expunge_mode();
        expunge_close(&ec);
    }
    imapd_unselect(s);
    imapd_ok(s, tag, NULL, "Completed");
}

void
cmd_unselect(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    if (imaptok_end(t) < 0) {
        imapd_bad(s, tag, "Unexpected extra arguments to Unselect");
        return;
    }
    imapd_unselect(s);
    imapd_ok(s, tag, NULL, "Completed");
}

void
cmd_check(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    if (imaptok_end(t) < 0) {
        imapd_bad(s, tag, "Unexpected extra arguments to Check");
        return;
    }
    imapd_sync(s, 1);
    imapd_ok(s, tag, NULL, "Completed");
}
