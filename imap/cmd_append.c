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

/* ---- APPEND and its group commit ----
 *
 * Every APPEND is durable before its OK, but pipelined APPENDs to one
 * mailbox share one commit: a successful APPEND leaves its batch open in
 * s->append_group (the mailbox stays locked) and the command loop calls
 * cmd_append_flush() before it would wait for input, before any other
 * command and before any other reply. A following single-message APPEND
 * to the same mailbox joins the open batch. So the directory, cache and
 * index fsyncs (and the message files' own, which a commit does) are paid
 * once per group, and the OKs are sent only after that commit. */

/* Most commands in one group: bounds how long the first one waits for
 * its OK (the client keeps sending meanwhile). */
#define GROUP_MAX_COMMANDS 32

struct append_group {
    struct mailbox *mb;
    struct append_batch *batch;
    char *path; /* the mailbox directory, to recognize the next APPEND */
    size_t n;
    struct {
        char *tag;
        uint32_t first_uid, last_uid;
    } cmds[GROUP_MAX_COMMANDS];
};

/* One message of an APPEND, staged before the mailbox is locked. */
struct staged {
    struct append_stage *st;
    struct append_meta meta;
    struct strarray keywords;
};

static void
group_free(struct append_group **gp)
{
    struct append_group *g = *gp;
    size_t i;

    if (g == NULL)
        return;
    *gp = NULL;
    append_batch_abort(&g->batch);
    mailbox_close(&g->mb);
    for (i = 0; i < g->n; i++)
        free(g->cmds[i].tag);
    free(g->path);
    free(g);
}

void
cmd_append_flush(struct imapd_session *s)
{
    struct append_group *g = s->append_group;
    struct append_result res;
    size_t i;
    int r;

    if (g == NULL)
        return;
    s->append_group = NULL;
    memset(&res, 0, sizeof(res));
    /* durable (fsynced) before the OKs */
    r = append_batch_commit(&g->batch, &res);
    if (r == 0)
        imapd_sync(s, 1);
    for (i = 0; i < g->n; i++) {
        const char *tag = g->cmds[i].tag;

        if (r)
            stream_printf(s->s, "%s NO [%s] %s\r\n", tag, error_imap_code(r),
                          error_text(r));
        else if (g->cmds[i].first_uid == g->cmds[i].last_uid)
            stream_printf(s->s, "%s OK [APPENDUID %u %u] Completed\r\n", tag,
                          res.uidvalidity, g->cmds[i].first_uid);
        else
            stream_printf(s->s, "%s OK [APPENDUID %u %u:%u] Completed\r\n", tag,
                          res.uidvalidity, g->cmds[i].first_uid,
                          g->cmds[i].last_uid);
    }
    stream_flush(s->s);
    group_free(&g);
}

static void
group_add_command(struct imapd_session *s, const char *tag, uint32_t first,
                  uint32_t last)
{
    struct append_group *g = s->append_group;

    g->cmds[g->n].tag = xstrdup(tag);
    g->cmds[g->n].first_uid = first;
    g->cmds[g->n].last_uid = last;
    if (++g->n == GROUP_MAX_COMMANDS)
        cmd_append_flush(s);
}

/* The destination of an APPEND: it must exist ([TRYCREATE] otherwise)
 * and the user needs `i`. 0 with the entry, its spool path and the
 * rights, or an error already answered (after flushing the group). */
static int
append_dest(struct imapd_session *s, const char *tag, const char *extname,
            struct mboxlist_entry **e_r, struct buf *path, uint32_t *rights_r)
{
    int r = imapd_lookup(s, extname, NULL, e_r);

    if (r == 0 && (*e_r)->server)
        r = ERR_MOVED;
    if (r == 0) {
        *rights_r = imapd_rights(s, *e_r);
        if (!(*rights_r & ACL_INSERT))
            r = ERR_PERMISSION;
    }
    if (r == 0)
        r = imapd_mailbox_path(s, *e_r, path);
    if (r) {
        cmd_append_flush(s);
        if (r == ERR_NOMAILBOX)
            imapd_no(s, tag, "TRYCREATE", "Mailbox does not exist");
        else
            imapd_error(s, tag, r);
    }
    return r;
}

/* Stage one literal; its fsync is left to the commit (one for the whole
 * group). */
static int
stage(const char *stagedir, int64_t maxsize, const struct imaptok_literal *lit,
      struct append_stage **st_r)
{
    struct append_stage *st = NULL;
    int r =
        append_stage_new(stagedir, maxsize > 0 ? (uint64_t)maxsize : 0, &st);

    if (r)
        return r;
    append_stage_defer_fsync(st);
    r = append_stage_write(st, lit->p, lit->len);
    if (r == 0)
        r = append_stage_finish(st);
    if (r) {
        append_stage_free(&st);
        return r;
    }
    *st_r = st;
    return 0;
}

/* Parse and stage the messages: [flags] [date-time] literal, one or more
 * (RFC 3502). 0, or an error already answered. */
static int
append_parse(struct imapd_session *s, const char *tag, struct imaptok *t,
             uint32_t rights, const char *stagedir, struct staged **msgs_r,
             size_t *n_r)
{
    int64_t maxsize = config_bytesize(config, CFG_MAXMESSAGESIZE);
    struct staged *msgs = NULL;
    size_t n = 0, alloc = 0;
    int r = 0;

    do {
        struct strarray flags = STRARRAY_INITIALIZER;
        struct imaptok_literal lit;
        struct staged *m;
        time_t when = 0;
        size_t i;

        if (n > 0 && imaptok_sp(t) < 0)
            break;
        if (imaptok_peek(t) == '(') {
            if (imaptok_flag_list(t, &flags) < 0 || imaptok_sp(t) < 0) {
                strarray_fini(&flags);
                goto bad_syntax;
            }
        }
        if (imaptok_peek(t) == '"') {
            int tz;

            if (imaptok_datetime(t, &when, &tz) < 0 || imaptok_sp(t) < 0) {
                strarray_fini(&flags);
                goto bad_syntax;
            }
        }
        if (imaptok_literal(t, &lit) < 0) {
            strarray_fini(&flags);
            goto bad_syntax;
        }
        if (n == alloc) {
            alloc = alloc ? 2 * alloc : 1;
            msgs = xrealloc(msgs, alloc * sizeof(*msgs));
        }
        m = &msgs[n++];
        memset(m, 0, sizeof(*m));
        for (i = 0; i < flags.count; i++) {
            uint32_t bit;

            if (flags.data[i][0] == '\\') {
                if (!flag_bit(flags.data[i], &bit))
                    continue; /* \Recent and unknown system flags */
                m->meta.system_flags |= bit;
            } else {
                strarray_append(&m->keywords, flags.data[i]);
            }
        }
        strarray_fini(&flags);
        /* flags the user may not set are dropped, as Cyrus does */
        if (!(rights & ACL_WRITE)) {
            m->meta.system_flags &= FLAG_SEEN | FLAG_DELETED;
            strarray_fini(&m->keywords);
        }
        if (!(rights & ACL_SEEN))
            m->meta.system_flags &= ~FLAG_SEEN;
        if (!(rights & ACL_DELETEMSG))
            m->meta.system_flags &= ~FLAG_DELETED;
        m->meta.internaldate = when ? (int64_t)when : (int64_t)time(NULL);
        if (lit.spooled) {
            /* streamed to disk while it arrived (imapd_literal.c) */
            m->st = imapd_literal_take(s, lit.index);
            r = ERR_IO;
            if (m->st) {
                append_stage_defer_fsync(m->st);
                r = append_stage_finish(m->st);
            }
        } else {
            r = stage(stagedir, maxsize, &lit, &m->st);
        }
        if (r) {
            cmd_append_flush(s);
            if (r == ERR_BADMSG)
                imapd_no(s, tag, "PARSE",
                         "Message contains invalid header or NUL bytes");
            else
                imapd_error(s, tag, r);
            goto fail;
        }
    } while (!imaptok_at_end(t));
    if (imaptok_end(t) < 0) {
        cmd_append_flush(s);
        imapd_bad(s, tag, "Unexpected extra arguments to Append");
        r = ERR_INVALID;
        goto fail;
    }
    *msgs_r = msgs;
    *n_r = n;
    return 0;
bad_syntax:
    cmd_append_flush(s);
    imapd_bad(s, tag,
              imaptok_error(t) ? imaptok_error(t) : "Invalid Append arguments");
    r = ERR_INVALID;
fail:
    while (n > 0) {
        n--;
        append_stage_free(&msgs[n].st);
        strarray_fini(&msgs[n].keywords);
    }
    free(msgs);
    return r;
}

static void
append_reply_error(struct imapd_session *s, const char *tag, int r)
{
    cmd_append_flush(s);
    imapd_error(s, tag, r);
}

void
cmd_append(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    struct buf name = BUF_INITIALIZER;

    if (imaptok_mailbox(t, &name) < 0 || imaptok_sp(t) < 0) {
        cmd_append_flush(s);
        imapd_bad(s, tag, "Missing required argument to Append");
    } else {
        cmd_append_to(s, tag, buf_cstring(&name), t);
    }
    buf_free(&name);
}

void
cmd_append_to(struct imapd_session *s, const char *tag, const char *extname,
              struct imaptok *t)
{
    struct buf stagedir = BUF_INITIALIZER;
    struct buf path = BUF_INITIALIZER;
    struct mboxlist_entry *e = NULL;
    struct mailbox *mb = NULL;
    struct append_batch *batch = NULL;
    struct staged *msgs = NULL;
    struct append_group *g;
    uint32_t rights = 0, uid, first_uid = 0;
    size_t n = 0, i;
    int r;

    if (append_dest(s, tag, extname, &e, &path, &rights) != 0)
        goto done;
    buf_printf(&stagedir, "%s", config_partition_dir(config, e->partition));
    if (append_parse(s, tag, t, rights, buf_cstring(&stagedir), &msgs, &n) != 0)
        goto done;
    /* msgs moved while growing: point at the keywords only now */
    for (i = 0; i < n; i++)
        msgs[i].meta.keywords =
            msgs[i].keywords.count ? &msgs[i].keywords : NULL;
    g = s->append_group;
    if (g && n == 1 && strcmp(g->path, buf_cstring(&path)) == 0) {
        /* join the open batch: a failed add of one message leaves the
         * batch as it was (ERR_QUOTA, ERR_NOTSUPPORTED) or fails it
         * all (ERR_IO), which the flush reports to every command */
        r = append_batch_take(g->batch, msgs[0].st, &msgs[0].meta, &uid);
        if (r)
            append_reply_error(s, tag, r);
        else
            group_add_command(s, tag, uid, uid);
        goto done;
    }
    cmd_append_flush(s);
    r = mailbox_open(buf_cstring(&path), &mb);
    if (r == 0)
        r = append_batch_begin(mb, s->proc->qdb, 0, &batch);
    for (i = 0; r == 0 && i < n; i++) {
        r = append_batch_take(batch, msgs[i].st, &msgs[i].meta, &uid);
        if (i == 0)
            first_uid = uid;
    }
    if (r) {
        append_batch_abort(&batch);
        append_reply_error(s, tag, r);
        goto done;
    }
    /* committed by cmd_append_flush(), when the loop finds no more input
     * at hand or another command */
    g = xzmalloc(sizeof(*g));
    g->mb = mb;
    g->batch = batch;
    g->path = buf_release(&path);
    mb = NULL;
    s->append_group = g;
    group_add_command(s, tag, first_uid, uid);
done:
    for (i = 0; i < n; i++) {
        append_stage_free(&msgs[i].st);
        strarray_fini(&msgs[i].keywords);
    }
    free(msgs);
    mailbox_close(&mb);
    mboxlist_entry_free(&e);
    buf_free(&path);
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

void
cmd_copy(struct imapd_session *s, const char *tag, struct imaptok *t,
         unsigned variant)
{
    int uid = !!(variant & IMAPD_CMD_UID);
    int move = !!(variant & IMAPD_CMD_MOVE);
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
