/* cmd_xappend.c: XAPPEND, the XFER destination's upload that keeps UIDs
 * and modseqs (MURDER.md §7, our replacement for Cyrus's UNDUMP).
 *
 *   XAPPEND name 1*(SP uid SP flag-list SP date-time SP [ext SP] literal)
 *   XAPPEND name SP "UIDNEXT" SP uid [SP "HIGHESTMODSEQ" SP n]
 *                                    [SP "DELETEDMODSEQ" SP n]
 *   ext = "(" "MODSEQ" SP n ")"
 *
 * Admins only. All messages go into name in one batch (one lock, one
 * commit: durable before the OK), each with exactly the given UID, flags
 * (system flags and keywords, \Deleted included), internal date and,
 * with ext, modseq (else a fresh one). UIDs must be ascending and above
 * the mailbox's last UID (ERR_INVALID otherwise: "NO UID out of order");
 * the mailbox's UIDNEXT then follows the last one. Quota is charged but
 * not enforced (the source already accepted these messages). Literals are
 * streamed to the partition's staging directory as for APPEND
 * (imapd_literal.c) and renamed into the mailbox; their fsyncs are left
 * to the batch's commit, so a batch pays for one journal commit, not one
 * per message.
 *
 * The UIDNEXT form ends a mailbox's upload: it raises UIDNEXT to uid (a
 * no-op when it is not below), so UIDs of messages expunged at the source
 * are never reused; HIGHESTMODSEQ raises the mailbox's highest modseq to
 * the source's (RFC 7162: a client's CONDSTORE/QRESYNC state stays
 * valid); DELETEDMODSEQ records the highest modseq of the expunges the
 * source does not send (imap/vanished.h), so a QRESYNC client that knew
 * the mailbox from before that modseq is told VANISHED (EARLIER) for
 * UIDs without a record, and one from after it nothing. All optional:
 * without them the upload behaves as before (fresh modseqs). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "append.h"
#include "config.h"
#include "errors.h"
#include "imapd.h"
#include "mailbox.h"
#include "mboxlist.h"
#include "mboxname.h"
#include "util.h"
#include "vanished.h"
#include "xmalloc.h"

static const struct {
    const char *name;
    uint32_t bit;
} sysflags[] = {
    {"\\Answered", FLAG_ANSWERED}, {"\\Flagged", FLAG_FLAGGED},
    {"\\Deleted", FLAG_DELETED},   {"\\Draft", FLAG_DRAFT},
    {"\\Seen", FLAG_SEEN},
};

/* Split flags into system bits and keywords (\Recent and unknown system
 * flags are dropped). */
static void
split_flags(const struct strarray *flags, uint32_t *bits_r,
            struct strarray *keywords)
{
    size_t i, j;

    *bits_r = 0;
    for (i = 0; i < flags->count; i++) {
        if (flags->data[i][0] != '\\') {
            strarray_append(keywords, flags->data[i]);
            continue;
        }
        for (j = 0; j < ARRAY_SIZE(sysflags); j++) {
            if (util_strcasecmp(flags->data[i], sysflags[j].name) == 0)
                *bits_r |= sysflags[j].bit;
        }
    }
}

/* Open the local mailbox behind the admin name extname. */
static int
open_local(struct imapd_session *s, const char *extname,
           struct mboxlist_entry **e_r, struct mailbox **mb_r)
{
    struct buf path = BUF_INITIALIZER;
    char *intname = NULL;
    int r;

    r = mboxname_to_internal(s->proc->ns, s->userid, s->isadmin, extname,
                             &intname);
    if (r < 0)
        return ERR_BADNAME;
    r = mboxlist_lookup(s->proc->mboxlist, intname, e_r, NULL);
    free(intname);
    if (r == 0 && (*e_r)->server)
        r = ERR_MOVED;
    if (r == 0)
        r = imapd_mailbox_path(s, *e_r, &path);
    if (r == 0)
        r = mailbox_open(buf_cstring(&path), mb_r);
    buf_free(&path);
    return r;
}

/* "(MODSEQ n)" before a message's literal. */
static int
parse_ext(struct imaptok *t, uint64_t *modseq_r)
{
    if (imaptok_lparen(t) < 0 || imaptok_keyword(t, "MODSEQ") < 0
        || imaptok_sp(t) < 0 || imaptok_number64(t, modseq_r) < 0
        || *modseq_r == 0 || imaptok_rparen(t) < 0 || imaptok_sp(t) < 0)
        return -1;
    return 0;
}

/* One message: uid SP flag-list SP date-time SP [ext SP] literal. */
static int
add_one(struct imapd_session *s, struct imaptok *t, struct mailbox *mb,
        struct append_batch *batch, const char *stagedir, int *bad_r)
{
    struct strarray flags = STRARRAY_INITIALIZER;
    struct strarray keywords = STRARRAY_INITIALIZER;
    struct imaptok_literal lit;
    struct append_stage *st = NULL;
    struct append_meta meta;
    uint32_t uid, got = 0;
    uint64_t modseq = 0;
    time_t when;
    int tz, r;

    *bad_r = 0;
    if (imaptok_nz_number(t, &uid) < 0 || imaptok_sp(t) < 0
        || imaptok_flag_list(t, &flags) < 0 || imaptok_sp(t) < 0
        || imaptok_datetime(t, &when, &tz) < 0 || imaptok_sp(t) < 0
        || (imaptok_peek(t) == '(' && parse_ext(t, &modseq) < 0)
        || imaptok_literal(t, &lit) < 0) {
        *bad_r = 1;
        strarray_fini(&flags);
        return ERR_SYNTAX;
    }
    memset(&meta, 0, sizeof(meta));
    split_flags(&flags, &meta.system_flags, &keywords);
    meta.keywords = keywords.count ? &keywords : NULL;
    meta.internaldate = (int64_t)when;
    if (lit.spooled) {
        st = imapd_literal_take(s, lit.index);
        r = ERR_IO;
    } else {
        r = append_stage_new(stagedir, 0, &st);
    }
    if (st) {
        /* the batch's commit fsyncs the files (once per batch) */
        append_stage_defer_fsync(st);
        r = lit.spooled ? 0 : append_stage_write(st, lit.p, lit.len);
        if (r == 0)
            r = append_stage_finish(st);
    }
    /* the batch holds the exclusive lock: the next append gets uid (and
     * modseq) */
    if (r == 0)
        r = mailbox_set_next_uid(mb, uid);
    if (r == 0 && modseq)
        mailbox_set_next_modseq(mb, modseq);
    if (r == 0)
        r = append_batch_take(batch, st, &meta, &got);
    if (r == 0 && got != uid)
        r = ERR_IO;
    append_stage_free(&st);
    strarray_fini(&flags);
    strarray_fini(&keywords);
    return r;
}

/* [SP "HIGHESTMODSEQ" SP n] [SP "DELETEDMODSEQ" SP n] */
static int
parse_modseqs(struct imaptok *t, uint64_t *highest_r, uint64_t *deleted_r)
{
    while (imaptok_peek(t) == ' ') {
        uint64_t *dst;

        if (imaptok_sp(t) < 0)
            return -1;
        if (imaptok_peek_keyword(t, "HIGHESTMODSEQ")) {
            dst = highest_r;
            imaptok_keyword(t, "HIGHESTMODSEQ");
        } else if (imaptok_peek_keyword(t, "DELETEDMODSEQ")) {
            dst = deleted_r;
            imaptok_keyword(t, "DELETEDMODSEQ");
        } else {
            return -1;
        }
        if (imaptok_sp(t) < 0 || imaptok_number64(t, dst) < 0)
            return -1;
    }
    return 0;
}

void
cmd_xappend(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    struct buf name = BUF_INITIALIZER, stagedir = BUF_INITIALIZER;
    struct mboxlist_entry *e = NULL;
    struct mailbox *mb = NULL;
    struct append_batch *batch = NULL;
    struct append_result res;
    int r, bad = 0;

    if (imaptok_mailbox(t, &name) < 0 || imaptok_sp(t) < 0) {
        imapd_bad(s, tag, "Missing required argument to Xappend");
        goto done;
    }
    if (!s->isadmin) {
        imapd_error(s, tag, ERR_PERMISSION);
        goto done;
    }
    r = open_local(s, buf_cstring(&name), &e, &mb);
    if (r == 0) {
        buf_setcstr(&stagedir, config_partition_dir(config, e->partition));
        r = append_batch_begin(mb, s->proc->qdb, APPEND_IGNORE_QUOTA, &batch);
    }
    if (r) {
        imapd_error(s, tag, r);
        goto done;
    }
    if (imaptok_peek_keyword(t, "UIDNEXT")) {
        uint64_t highest = 0, deleted = 0;
        uint32_t next;

        if (imaptok_keyword(t, "UIDNEXT") < 0 || imaptok_sp(t) < 0
            || imaptok_nz_number(t, &next) < 0
            || parse_modseqs(t, &highest, &deleted) < 0
            || imaptok_end(t) < 0) {
            imapd_bad(s, tag, "Invalid Xappend UIDNEXT");
            goto done;
        }
        if (next > mailbox_counts(mb)->last_uid + 1)
            r = mailbox_set_next_uid(mb, next);
        if (r == 0 && highest)
            mailbox_raise_highestmodseq(mb, highest);
        /* before the commit makes the records visible: a QRESYNC client
         * must never see the mailbox without it */
        if (r == 0 && deleted)
            r = vanished_note(mailbox_path(mb), deleted);
        if (r == 0)
            r = append_batch_commit(&batch, &res);
        if (r)
            imapd_error(s, tag, r);
        else
            imapd_ok(s, tag, NULL, "Completed");
        goto done;
    }
    do {
        if (append_batch_count(batch) > 0 && imaptok_sp(t) < 0) {
            bad = 1;
            break;
        }
        r = add_one(s, t, mb, batch, buf_cstring(&stagedir), &bad);
        if (r)
            break;
    } while (!imaptok_at_end(t));
    if (r == 0 && !bad && imaptok_end(t) < 0)
        bad = 1;
    if (bad) {
        imapd_bad(s, tag, imaptok_error(t) ? imaptok_error(t)
                                           : "Invalid Xappend arguments");
        goto done;
    }
    if (r == ERR_INVALID) {
        imapd_no(s, tag, NULL, "UID out of order");
        goto done;
    }
    if (r == 0)
        r = append_batch_commit(&batch, &res);
    if (r) {
        imapd_error(s, tag, r);
        goto done;
    }
    imapd_ok(s, tag, NULL, "Completed");
done:
    append_batch_abort(&batch);
    mailbox_close(&mb);
    mboxlist_entry_free(&e);
    buf_free(&name);
    buf_free(&stagedir);
}
