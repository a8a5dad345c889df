/* cmd_append.c: APPEND (with MULTIAPPEND, RFC 3502), COPY and MOVE (RFC
 * 6851) and their UID forms, with UIDPLUS responses (RFC 4315). All go
 * through the one append pipeline in append.c. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acl.h"
#include "append.h"
#include "config.h"
#include "errors.h"
#include "expunge.h"
#include "imapd.h"
#include "index.h"
#include "mailbox.h"
#include "mboxlist.h"
#include "seqset.h"
#include "stream.h"
#include "util.h"
#include "xmalloc.h"

/* Open the destination of APPEND/COPY/MOVE: it must exist ([TRYCREATE]
 * otherwise, RFC 3501 6.3.11) and the user needs `i`. */
static int
open_dest(struct imapd_session *s, const char *tag, const char *extname,
          struct mboxlist_entry **e_r, struct mailbox **mb_r)
{
    struct buf path = BUF_INITIALIZER;
    int r = imapd_lookup(s, extname, NULL, e_r);

    if (r == ERR_NOMAILBOX) {
        imapd_no(s, tag, "TRYCREATE", "Mailbox does not exist");
        return r;
    }
    if (r == 0 && (*e_r)->server)
        r = ERR_MOVED;
    if (r == 0 && !(imapd_rights(s, *e_r) & ACL_INSERT))
        r = ERR_PERMISSION;
    if (r == 0)
        r = imapd_mailbox_path(s, *e_r, &path);
    if (r == 0)
        r = mailbox_open(buf_cstring(&path), mb_r);
    buf_free(&path);
    if (r)
        imapd_error(s, tag, r);
    return r;
}

static int
flag_bit(const char *name, uint32_t *bit_r)
{
    static const struct {
        const char *name;
        uint32_t bit;
    } sys[] = {
        {"\\Answered", FLAG_ANSWERED}, {"\\Flagged", FLAG_FLAGGED},
        {"\\Deleted", FLAG_DELETED},   {"\\Draft", FLAG_DRAFT},
        {"\\Seen", FLAG_SEEN},
    };
    size_t i;

    for (i = 0; i < ARRAY_SIZE(sys); i++) {
        if (util_strcasecmp(name, sys[i].name) == 0) {
            *bit_r = sys[i].bit;
            return 1;
        }
    }
    return 0;
}

void
cmd_append(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    struct buf name = BUF_INITIALIZER;

    if (imaptok_mailbox(t, &name) < 0 || imaptok_sp(t) < 0)
        imapd_bad(s, tag, "Missing required argument to Append");
    else
        cmd_append_to(s, tag, buf_cstring(&name), t);
    buf_free(&name);
}

void
cmd_append_to(struct imapd_session *s, const char *tag, const char *extname,
              struct imaptok *t)
{
    struct buf stagedir = BUF_INITIALIZER;
    struct mboxlist_entry *e = NULL;
    struct mailbox *mb = NULL;
    struct append_batch *batch = NULL;
    struct append_result res;
    int64_t maxsize = config_bytesize(config, CFG_MAXMESSAGESIZE);
    uint32_t rights;
    int r, n = 0;

    if (open_dest(s, tag, extname, &e, &mb) != 0)
        goto done;
    rights = imapd_rights(s, e);
    buf_printf(&stagedir, "%s", config_partition_dir(config, e->partition));
    r = append_batch_begin(mb, s->proc->qdb, 0, &batch);
    if (r) {
        imapd_error(s, tag, r);
        goto done;
    }
    /* one or more messages: [flags] [date-time] literal (RFC 3502) */
    do {
        struct strarray flags = STRARRAY_INITIALIZER;
        struct strarray keywords = STRARRAY_INITIALIZER;
        struct append_meta meta;
        struct imaptok_literal lit;
        struct append_stage *st = NULL;
        struct buf quoted = BUF_INITIALIZER;
        time_t when = 0;
        size_t i;

        memset(&meta, 0, sizeof(meta));
        if (n > 0 && imaptok_sp(t) < 0)
            break;
        if (imaptok_peek(t) == '(') {
            if (imaptok_flag_list(t, &flags) < 0 || imaptok_sp(t) < 0)
                goto bad_syntax;
        }
        if (imaptok_peek(t) == '"') {
            int tz;

            if (imaptok_datetime(t, &when, &tz) < 0 || imaptok_sp(t) < 0)
                goto bad_syntax;
        }
        if (imaptok_literal(t, &lit) < 0)
            goto bad_syntax;
        for (i = 0; i < flags.count; i++) {
            uint32_t bit;

            if (flags.data[i][0] == '\\') {
                if (!flag_bit(flags.data[i], &bit))
                    continue; /* \Recent and unknown system flags */
                meta.system_flags |= bit;
            } else {
                strarray_append(&keywords, flags.data[i]);
            }
        }
        /* flags the user may not set are dropped, as Cyrus does */
        if (!(rights & ACL_WRITE)) {
            meta.system_flags &= FLAG_SEEN | FLAG_DELETED;
            strarray_fini(&keywords);
        }
        if (!(rights & ACL_SEEN))
            meta.system_flags &= ~FLAG_SEEN;
        if (!(rights & ACL_DELETEMSG))
            meta.system_flags &= ~FLAG_DELETED;
        meta.keywords = keywords.count ? &keywords : NULL;
        meta.internaldate = when ? (int64_t)when : (int64_t)time(NULL);
        if (lit.spooled) {
            /* streamed to disk while it arrived (imapd_literal.c) */
            st = imapd_literal_take(s, lit.index);
            r = st ? append_stage_finish(st) : ERR_IO;
        } else {
            r = append_stage_from_memory(buf_cstring(&stagedir),
                                         maxsize > 0 ? (uint64_t)maxsize : 0,
                                         lit.p, lit.len, &st);
        }
        if (r == 0)
            r = append_batch_add(batch, st, &meta, NULL);
        append_stage_free(&st);
        strarray_fini(&flags);
        strarray_fini(&keywords);
        buf_free(&quoted);
        if (r) {
            append_batch_abort(&batch);
            if (r == ERR_BADMSG)
                imapd_no(s, tag, "PARSE",
                         "Message contains invalid header or NUL bytes");
            else
                imapd_error(s, tag, r);
            goto done;
        }
        n++;
        continue;
    bad_syntax:
        strarray_fini(&flags);
        strarray_fini(&keywords);
        append_batch_abort(&batch);
        imapd_bad(s, tag, imaptok_error(t) ? imaptok_error(t)
                                           : "Invalid Append arguments");
        goto done;
    } while (!imaptok_at_end(t));
    if (imaptok_end(t) < 0) {
        append_batch_abort(&batch);
        imapd_bad(s, tag, "Unexpected extra arguments to Append");
        goto done;
    }
    /* durable (fsynced) before the OK */
    r = append_batch_commit(&batch, &res);
    if (r) {
        imapd_error(s, tag, r);
        goto done;
    }
    imapd_sync(s, 1);
    {
        struct buf code = BUF_INITIALIZER;

        if (res.count == 1)
            buf_printf(&code, "APPENDUID %u %u", res.uidvalidity,
                       res.first_uid);
        else
            buf_printf(&code, "APPENDUID %u %u:%u", res.uidvalidity,
                       res.first_uid, res.last_uid);
        imapd_ok(s, tag, buf_cstring(&code), "Completed");
        buf_free(&code);
    }
done:
    append_batch_abort(&batch);
    mailbox_close(&mb);
    mboxlist_entry_free(&e);
    buf_free(&stagedir);
}

/* The UIDs of the selected messages named by set (sequence numbers or
 * UIDs), ascending. */
static uint32_t *
resolve_uids(struct imapd_session *s, struct seqset *set, int uid,
             size_t *n_r)
{
    uint32_t count = index_count(s->selected), seq;
    uint32_t max = uid ? index_max_uid(s->selected) : count;
    uint32_t *uids = xmalloc(((size_t)count + 1) * sizeof(uint32_t));
    size_t n = 0;

    for (seq = 1; seq <= count; seq++) {
        uint32_t u = index_seq_to_uid(s->selected, seq);

        if (seqset_contains(set, uid ? u : seq, max))
            uids[n++] = u;
    }
    *n_r = n;
    return uids;
}

static void
do_copy(struct imapd_session *s, const char *tag, struct imaptok *t, int uid,
        int move)
{
    struct seqset *set = NULL;
    struct buf name = BUF_INITIALIZER, code = BUF_INITIALIZER;
    struct mboxlist_entry *e = NULL;
    struct mailbox *dst = NULL;
    struct append_result res;
    uint32_t *uids = NULL, *srcuids = NULL;
    size_t n = 0;
    int r;

    if (imaptok_seqset(t, &set) < 0 || imaptok_sp(t) < 0
        || imaptok_mailbox(t, &name) < 0 || imaptok_end(t) < 0) {
        imapd_bad(s, tag, move ? "Invalid arguments to Move"
                               : "Invalid arguments to Copy");
        goto done;
    }
    if (move && (index_readonly(s->selected)
                 || !(s->selected_rights & ACL_EXPUNGE))) {
        imapd_error(s, tag, ERR_PERMISSION);
        goto done;
    }
    if (open_dest(s, tag, buf_cstring(&name), &e, &dst) != 0)
        goto done;
    uids = resolve_uids(s, set, uid, &n);
    if (n == 0) {
        imapd_sync(s, !move && uid);
        imapd_ok(s, tag, NULL, "Completed");
        goto done;
    }
    srcuids = xmalloc(n * sizeof(uint32_t));
    memset(&res, 0, sizeof(res));
    r = append_copy(index_mailbox(s->selected), uids, n, dst, s->proc->qdb, 0,
                    &res, srcuids);
    if (r) {
        imapd_error(s, tag, r);
        goto done;
    }
    if (res.count > 0) {
        struct seqset *src = seqset_from_list(srcuids, res.count);

        buf_printf(&code, "COPYUID %u ", res.uidvalidity);
        seqset_format(src, &code);
        if (res.count == 1)
            buf_printf(&code, " %u", res.first_uid);
        else
            buf_printf(&code, " %u:%u", res.first_uid, res.last_uid);
        seqset_free(&src);
    }
    if (move) {
        /* RFC 6851: the copy is committed; now the originals go */
        r = expunge_messages(index_mailbox(s->selected), s->proc->qdb, uids,
                             n, 0, NULL);
        if (buf_len(&code))
            stream_printf(s->s, "* OK [%s] Completed\r\n", buf_cstring(&code));
        imapd_sync(s, 1);
        if (r)
            imapd_error(s, tag, r);
        else
            imapd_ok(s, tag, NULL, "Completed");
        goto done;
    }
    imapd_sync(s, uid);
    imapd_ok(s, tag, buf_len(&code) ? buf_cstring(&code) : NULL, "Completed");
done:
    free(uids);
    free(srcuids);
    seqset_free(&set);
    mailbox_close(&dst);
    mboxlist_entry_free(&e);
    buf_free(&name);
    buf_free(&code);
}

void
cmd_copy(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    do_copy(s, tag, t, 0, 0);
}

void
cmd_uid_copy(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    do_copy(s, tag, t, 1, 0);
}

void
cmd_move(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    do_copy(s, tag, t, 0, 1);
}

void
cmd_uid_move(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    do_copy(s, tag, t, 1, 1);
}
