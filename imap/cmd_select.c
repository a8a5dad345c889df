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
#include "seqset.h"
#include "stream.h"
#include "util.h"
#include "vanished.h"
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

/* The QRESYNC select parameter (RFC 7162 3.2.5). */
struct qresync {
    int given;
    uint32_t uidvalidity;
    uint64_t modseq;
    struct seqset *known; /* known-uids, NULL when absent */
};

/* SP "(" select-param *(SP select-param) ")" with CONDSTORE and
 * "QRESYNC" SP "(" uidvalidity SP mod-sequence [SP known-uids
 * [SP seq-match-data]] ")"; seq-match-data is checked and ignored (it only
 * narrows what we report anyway). */
static int
parse_params(struct imaptok *t, int *condstore_r, struct qresync *qr)
{
    struct imaptok_span p;

    if (imaptok_sp(t) < 0 || imaptok_lparen(t) < 0)
        return -1;
    do {
        if (imaptok_atom(t, &p) < 0)
            return -1;
        if (util_memcaseeq(p.p, p.len, "CONDSTORE")) {
            *condstore_r = 1;
        } else if (util_memcaseeq(p.p, p.len, "QRESYNC") && !qr->given) {
            qr->given = 1;
            if (imaptok_sp(t) < 0 || imaptok_lparen(t) < 0
                || imaptok_nz_number(t, &qr->uidvalidity) < 0
                || imaptok_sp(t) < 0 || imaptok_number64(t, &qr->modseq) < 0)
                return -1;
            if (imaptok_peek(t) == ' ') {
                if (imaptok_sp(t) < 0 || imaptok_seqset(t, &qr->known) < 0)
                    return -1;
            }
            if (imaptok_peek(t) == ' ') {
                struct seqset *a = NULL, *b = NULL;
                int r = imaptok_sp(t) < 0 || imaptok_lparen(t) < 0
                        || imaptok_seqset(t, &a) < 0 || imaptok_sp(t) < 0
                        || imaptok_seqset(t, &b) < 0 || imaptok_rparen(t) < 0;

                seqset_free(&a);
                seqset_free(&b);
                if (r)
                    return -1;
            }
            if (imaptok_rparen(t) < 0)
                return -1;
        } else {
            return -1;
        }
    } while (imaptok_peek(t) == ' ' && imaptok_sp(t) == 0);
    return imaptok_rparen(t);
}

/* RFC 7162 3.2.5.2: what changed since the client's modseq: the expunged
 * UIDs as VANISHED (EARLIER), then FETCH (UID FLAGS MODSEQ) of every
 * message changed since. */
static void
qresync_report(struct imapd_session *s, const struct qresync *qr)
{
    struct mailbox *mb = index_mailbox(s->selected);
    struct seqset *gone;
    uint32_t seq;

    if (mailbox_lock(mb, MAILBOX_SHARED) < 0)
        return;
    buf_reset(&s->out);
    gone = vanished_since(mb, qr->modseq, qr->known);
    vanished_format(gone, 1, &s->out);
    seqset_free(&gone);
    for (seq = 1; seq <= index_count(s->selected); seq++) {
        struct index_record rec;

        if (index_record(s->selected, seq, &rec) < 0
            || rec.modseq <= qr->modseq
            || (rec.system_flags & FLAG_INT_EXPUNGED))
            continue;
        buf_printf(&s->out, "* %u FETCH (UID %u FLAGS ", seq, rec.uid);
        index_format_flags(s->selected, &rec,
                           index_msg(s->selected, seq)->recent, &s->out);
        buf_printf(&s->out, " MODSEQ (%llu))\r\n",
                   (unsigned long long)rec.modseq);
        index_told(s->selected, seq, rec.modseq);
    }
    mailbox_unlock(mb);
    stream_write(s->s, buf_base(&s->out), buf_len(&s->out));
    buf_reset(&s->out);
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
    struct qresync qr;
    int r, readonly, condstore = 0;

    memset(&qr, 0, sizeof(qr));
    if (imaptok_mailbox(t, &name) < 0) {
        imapd_bad(s, tag, "Missing required argument to Select");
        goto done;
    }
    if (imaptok_peek(t) == ' '
        && parse_params(t, &condstore, &qr) < 0) {
        imapd_bad(s, tag, "Invalid Select parameters");
        goto done;
    }
    /* RFC 7162 3.2.5: QRESYNC only after ENABLE QRESYNC */
    if (qr.given && !(s->enabled & IMAPD_ENABLED_QRESYNC)) {
        imapd_bad(s, tag, "QRESYNC not enabled");
        goto done;
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
    imapd_seen_select(s);
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
    index_set_qresync(s->selected, s->enabled & IMAPD_ENABLED_QRESYNC);
    if (qr.given && qr.uidvalidity == c->uidvalidity)
        qresync_report(s, &qr);
    imapd_ok(s, tag, readonly ? "READ-ONLY" : "READ-WRITE", "Completed");
done:
    seqset_free(&qr.known);
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
        ec.qdb = s->proc->qdb;
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
