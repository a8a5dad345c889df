/* cmd_xappend.c: XAPPEND, the XFER destination's upload that keeps UIDs
 * (MURDER.md §7, our replacement for Cyrus's UNDUMP).
 *
 *   XAPPEND name 1*(SP uid SP flag-list SP date-time SP literal)
 *   XAPPEND name SP "UIDNEXT" SP uid
 *
 * Admins only. All messages go into name in one batch (one lock, one
 * commit: durable before the OK), each with exactly the given UID, flags
 * (system flags and keywords, \Deleted included) and internal date. UIDs
 * must be ascending and above the mailbox's last UID (ERR_INVALID
 * otherwise: "NO UID out of order"); the mailbox's UIDNEXT then follows
 * the last one. Quota is charged but not enforced (the source already
 * accepted these messages). Literals are streamed to the partition's
 * staging directory as for APPEND (imapd_literal.c). The UIDNEXT form
 * raises the mailbox's UIDNEXT to uid (a no-op when it is not below),
 * so UIDs of messages expunged at the source are never reused. */
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

/* One message: uid SP flag-list SP date-time SP literal. */
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
    time_t when;
    int tz, r;

    *bad_r = 0;
    if (imaptok_nz_number(t, &uid) < 0 || imaptok_sp(t) < 0
        || imaptok_flag_list(t, &flags) < 0 || imaptok_sp(t) < 0
        || imaptok_datetime(t, &when, &tz) < 0 || imaptok_sp(t) < 0
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
        r = st ? append_stage_finish(st) : ERR_IO;
    } else {
        r = append_stage_from_memory(stagedir, 0, lit.p, lit.len, &st);
    }
    /* the batch holds the exclusive lock: the next append gets uid */
    if (r == 0)
        r = mailbox_set_next_uid(mb, uid);
    if (r == 0)
        r = append_batch_add(batch, st, &meta, &got);
    if (r == 0 && got != uid)
        r = ERR_IO;
    append_stage_free(&st);
    strarray_fini(&flags);
    strarray_fini(&keywords);
    return r;
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
        uint32_t next;

        if (imaptok_keyword(t, "UIDNEXT") < 0 || imaptok_sp(t) < 0
            || imaptok_nz_number(t, &next) < 0 || imaptok_end(t) < 0) {
            imapd_bad(s, tag, "Invalid Xappend UIDNEXT");
            goto done;
        }
        if (next > mailbox_counts(mb)->last_uid + 1)
            r = mailbox_set_next_uid(mb, next);
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
