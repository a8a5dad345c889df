/* xfer.c: the source side of XFER (contract in xfer.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "config.h"
#include "errors.h"
#include "imaptok.h"
#include "log.h"
#include "mailbox.h"
#include "mboxlist.h"
#include "mboxname.h"
#include "mboxops.h"
#include "mupdate_client.h"
#include "quota.h"
#include "saslglue.h"
#include "seen.h"
#include "strarray.h"
#include "subs.h"
#include "util.h"
#include "vanished.h"
#include "xfer.h"
#include "xfer_seen.h"
#include "xmalloc.h"

#define XFER_BATCH_MSGS  500              /* < the reader's 1000 literals */
#define XFER_BATCH_BYTES (32 * 1024 * 1024)
#define XFER_MUPDATE_MS  10000

struct xfer_item {
    struct mboxlist_entry *e; /* the entry as it was */
    char *extname;            /* admin form on the wire */
    struct mailbox *mb;       /* open; locked from marking to the end */
    int deactivated, marked, created, pushed;
    uint64_t deletedmodseq;   /* highest modseq of an expunge not sent */
};

struct xfer {
    const struct xfer_env *env;
    const char *server, *partition;
    struct backend *be;
    struct stream *bs;
    struct mupdate_client *mc;
    struct xfer_item *items;
    size_t n;
    char *user; /* owner when moving a user */
    struct strarray uniqueids; /* of the items: their seen.db entries */
    unsigned tagno;
    int literalplus;
    struct buf tag, line, err;
    struct xfer_stats stats;
};

/* ---- talking to the destination ----------------------------------- */

static void
set_err(struct xfer *x, const char *fmt, ...) ATTR_FORMAT(2, 3);
static void
set_err(struct xfer *x, const char *fmt, ...)
{
    va_list ap;

    if (buf_len(&x->err))
        return; /* keep the first cause */
    va_start(ap, fmt);
    buf_vprintf(&x->err, fmt, ap);
    va_end(ap);
}

/* Start a command: "X<n> " (the caller writes the rest). */
static void
begin_cmd(struct xfer *x)
{
    buf_reset(&x->tag);
    buf_printf(&x->tag, "X%u", ++x->tagno);
    stream_printf(x->bs, "%s ", buf_cstring(&x->tag));
}

static void
put_astring(struct xfer *x, const char *s)
{
    struct buf b = BUF_INITIALIZER;

    imaptok_astring_out(&b, s, strlen(s));
    stream_write(x->bs, buf_base(&b), buf_len(&b));
    buf_free(&b);
}

/* Flush and read to the tagged reply: 0 for OK, ERR_PROTOCOL for NO/BAD
 * (the line goes to x->err), or a stream error. want_cont: stop at a
 * "+" continuation instead (returns 1). */
static int
read_reply(struct xfer *x, const char *what, int want_cont)
{
    size_t tl = buf_len(&x->tag);
    int r = stream_flush(x->bs);

    while (r == 0) {
        const char *l;

        r = stream_getline(x->bs, &x->line);
        if (r)
            break;
        l = buf_cstring(&x->line);
        if (want_cont && l[0] == '+')
            return 1;
        if (strncmp(l, buf_cstring(&x->tag), tl) != 0 || l[tl] != ' ')
            continue; /* untagged data */
        if (strncmp(l + tl + 1, "OK", 2) == 0)
            return 0;
        set_err(x, "%s on %s: %s", what, x->server, l + tl + 1);
        return ERR_PROTOCOL;
    }
    set_err(x, "%s on %s: %s", what, x->server, error_text(r));
    return r;
}

/* A literal header; without LITERAL+ wait for the go-ahead. */
static int
put_literal_header(struct xfer *x, size_t len, const char *what)
{
    int r;

    if (x->literalplus) {
        stream_printf(x->bs, "{%zu+}\r\n", len);
        return 0;
    }
    stream_printf(x->bs, "{%zu}\r\n", len);
    r = read_reply(x, what, 1);
    if (r == 1)
        return 0;
    return r ? r : ERR_PROTOCOL;
}

/* RFC 3501 date-time, in UTC. */
static void
put_datetime(struct xfer *x, int64_t when)
{
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr",
                                      "May", "Jun", "Jul", "Aug",
                                      "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)when;
    struct tm tm;

    gmtime_r(&t, &tm);
    stream_printf(x->bs, "\"%02d-%s-%04d %02d:%02d:%02d +0000\"", tm.tm_mday,
                  mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                  tm.tm_sec);
}

static void
put_flags(struct xfer *x, struct mailbox *mb, const struct index_record *rec)
{
    static const struct {
        uint32_t bit;
        const char *name;
    } sys[] = {{FLAG_ANSWERED, "\\Answered"}, {FLAG_FLAGGED, "\\Flagged"},
               {FLAG_DELETED, "\\Deleted"},   {FLAG_DRAFT, "\\Draft"},
               {FLAG_SEEN, "\\Seen"}};
    const char *sep = "";
    size_t i;

    stream_puts(x->bs, "(");
    for (i = 0; i < ARRAY_SIZE(sys); i++) {
        if (rec->system_flags & sys[i].bit) {
            stream_printf(x->bs, "%s%s", sep, sys[i].name);
            sep = " ";
        }
    }
    for (i = 0; i < MAILBOX_MAX_USER_FLAGS; i++) {
        const char *name;

        if (!(rec->user_flags[i / 32] & (1u << (i % 32))))
            continue;
        name = mailbox_user_flag_name(mb, (int)i);
        if (name) {
            stream_printf(x->bs, "%s%s", sep, name);
            sep = " ";
        }
    }
    stream_puts(x->bs, ")");
}

/* ---- the steps ----------------------------------------------------- */

struct collect_ctx {
    const char *root;
    int whole_user;
    struct strarray names;
};

static int
collect_cb(void *ctx, const struct mboxlist_entry *e)
{
    struct collect_ctx *c = ctx;

    if (strcmp(e->name, c->root) == 0
        || (c->whole_user && mboxname_is_child_of(e->name, c->root)))
        strarray_append(&c->names, e->name);
    return 0;
}

/* Fill x->items with the local entries to move. */
static int
collect(struct xfer *x, const char *intname)
{
    const struct mboxops *ops = x->env->ops;
    const char *admin = config_str(x->env->cfg, CFG_PROXY_AUTHNAME);
    struct collect_ctx c = {intname, 0, STRARRAY_INITIALIZER};
    size_t i;
    int r = 0;

    if (mboxname_is_user(intname) && !mboxname_is_inbox(intname))
        return ERR_NOTSUPPORTED;
    if (mboxname_is_inbox(intname)) {
        c.whole_user = 1;
        x->user = mboxname_to_userid(intname);
    }
    r = mboxlist_foreach(ops->ml, intname, collect_cb, &c, NULL);
    if (r == 0 && c.names.count == 0)
        r = ERR_NOMAILBOX;
    x->items = xzmalloc((c.names.count + 1) * sizeof(*x->items));
    for (i = 0; r == 0 && i < c.names.count; i++) {
        struct xfer_item *it = &x->items[x->n];

        r = mboxlist_lookup(ops->ml, c.names.data[i], &it->e, NULL);
        if (r)
            break;
        x->n++;
        if (it->e->mbtype & (MBTYPE_DELETED | MBTYPE_RESERVE
                             | MBTYPE_INTERMEDIATE))
            r = ERR_NOMAILBOX;
        else if (it->e->server || (it->e->mbtype & MBTYPE_MOVING))
            r = ERR_MOVED;
        else
            it->extname = mboxname_to_external(ops->ns, admin, 1,
                                               it->e->name);
        if (r == 0 && it->extname == NULL)
            r = ERR_BADNAME;
        if (r == 0 && it->e->uniqueid)
            strarray_append(&x->uniqueids, it->e->uniqueid);
    }
    strarray_fini(&c.names);
    return r;
}

static void
source_location(const struct xfer *x, const struct mboxlist_entry *e,
                struct buf *out)
{
    buf_reset(out);
    buf_printf(out, "%s!%s", x->env->ops->servername, e->partition);
}

static const char *
dest_partition(const struct xfer *x, const struct xfer_item *it)
{
    return x->partition ? x->partition : it->e->partition;
}

static int
cmp_path(const void *a, const void *b)
{
    const struct xfer_item *const *ia = a, *const *ib = b;

    return strcmp(mailbox_path((*ia)->mb), mailbox_path((*ib)->mb));
}

/* Step 3: entries MOVING, mailboxes open and locked (in path order). */
static int
mark_and_lock(struct xfer *x)
{
    const struct mboxops *ops = x->env->ops;
    struct xfer_item **order = xmalloc(x->n * sizeof(*order));
    struct buf path = BUF_INITIALIZER;
    size_t i;
    int r = 0;

    for (i = 0; r == 0 && i < x->n; i++) {
        struct xfer_item *it = &x->items[i];
        struct mboxlist_entry *m = mboxlist_entry_copy(it->e);

        m->mbtype |= MBTYPE_MOVING;
        free(m->server);
        m->server = xstrdup(x->server);
        r = mboxlist_store(ops->ml, m, NULL);
        mboxlist_entry_free(&m);
        if (r)
            break;
        it->marked = 1;
        buf_reset(&path);
        r = mboxops_path(ops, it->e, &path);
        if (r == 0)
            r = mailbox_open(buf_cstring(&path), &it->mb);
        order[i] = it;
    }
    if (r == 0) {
        qsort(order, x->n, sizeof(*order), cmp_path);
        for (i = 0; r == 0 && i < x->n; i++)
            r = mailbox_lock(order[i]->mb, MAILBOX_EXCLUSIVE);
    }
    if (r)
        set_err(x, "cannot lock local mailboxes: %s", error_text(r));
    free(order);
    buf_free(&path);
    return r;
}

/* LOCALCREATE with the source's identity; the quota root rides on the
 * mailbox that is the root. */
static int
remote_create(struct xfer *x, struct xfer_item *it)
{
    const struct mailbox_counts *c = mailbox_counts(it->mb);
    struct quota q;
    int r;

    begin_cmd(x);
    stream_puts(x->bs, "LOCALCREATE ");
    put_astring(x, it->extname);
    stream_puts(x->bs, " ");
    put_astring(x, dest_partition(x, it));
    stream_printf(x->bs, " (UIDVALIDITY %u UNIQUEID ", c->uidvalidity);
    put_astring(x, it->e->uniqueid);
    stream_puts(x->bs, " ACL ");
    put_astring(x, it->e->acl ? it->e->acl : "");
    if (x->env->ops->qdb
        && quota_read(x->env->ops->qdb, it->e->name, &q, NULL) == 0) {
        const char *sep = "";

        stream_puts(x->bs, " QUOTA (");
        if (q.limit[QUOTA_STORAGE] >= 0) {
            stream_printf(x->bs, "STORAGE %lld",
                          (long long)q.limit[QUOTA_STORAGE]);
            sep = " ";
        }
        if (q.limit[QUOTA_MESSAGE] >= 0)
            stream_printf(x->bs, "%sMESSAGE %lld", sep,
                          (long long)q.limit[QUOTA_MESSAGE]);
        stream_puts(x->bs, ")");
    }
    stream_puts(x->bs, ")\r\n");
    r = read_reply(x, "LOCALCREATE", 0);
    if (r == 0)
        it->created = 1;
    return r;
}

/* XAPPEND the records [*idx, ...) of it in one batch; *idx advances. */
static int
send_batch(struct xfer *x, struct xfer_item *it, uint32_t *idx)
{
    const struct mailbox_counts *c = mailbox_counts(it->mb);
    uint32_t sent = 0;
    uint64_t bytes = 0;
    int r = 0;

    for (; *idx < c->num_records && sent < XFER_BATCH_MSGS
           && bytes < XFER_BATCH_BYTES;
         (*idx)++) {
        struct index_record rec;
        const char *base;
        size_t len;

        r = mailbox_read_record(it->mb, *idx, &rec);
        if (r)
            break;
        if (rec.system_flags & FLAG_INT_EXPUNGED) {
            /* not sent: the destination learns it as its deleted
             * modseq (QRESYNC VANISHED, imap/vanished.h) */
            if (rec.modseq > it->deletedmodseq)
                it->deletedmodseq = rec.modseq;
            continue;
        }
        r = mailbox_map_message(it->mb, rec.uid, &base, &len);
        if (r) {
            set_err(x, "cannot read message %u of %s", rec.uid, it->e->name);
            break;
        }
        if (sent == 0) {
            begin_cmd(x);
            stream_puts(x->bs, "XAPPEND ");
            put_astring(x, it->extname);
        }
        stream_printf(x->bs, " %u ", rec.uid);
        put_flags(x, it->mb, &rec);
        stream_puts(x->bs, " ");
        put_datetime(x, rec.internaldate);
        if (rec.modseq)
            stream_printf(x->bs, " (MODSEQ %llu)",
                          (unsigned long long)rec.modseq);
        stream_puts(x->bs, " ");
        r = put_literal_header(x, len, "XAPPEND");
        if (r == 0)
            stream_write(x->bs, base, len);
        mailbox_unmap_message(base, len);
        if (r)
            break;
        sent++;
        bytes += len;
    }
    if (r == 0 && sent > 0) {
        stream_puts(x->bs, "\r\n");
        r = read_reply(x, "XAPPEND", 0);
    }
    if (r == 0) {
        x->stats.messages += sent;
        x->stats.bytes += bytes;
    }
    return r;
}

static int
copy_messages(struct xfer *x, struct xfer_item *it)
{
    const struct mailbox_counts *c = mailbox_counts(it->mb);
    uint64_t gone = vanished_deletedmodseq(mailbox_path(it->mb));
    uint32_t idx = 0;
    int r = 0;

    if (gone > it->deletedmodseq)
        it->deletedmodseq = gone;
    while (r == 0 && idx < c->num_records)
        r = send_batch(x, it, &idx);
    if (r == 0) {
        /* UIDs above the last message (expunged ones) stay used; the
         * modseqs go on from where they were (RFC 7162 CONDSTORE) */
        begin_cmd(x);
        stream_puts(x->bs, "XAPPEND ");
        put_astring(x, it->extname);
        stream_printf(x->bs, " UIDNEXT %u HIGHESTMODSEQ %llu",
                      c->last_uid + 1,
                      (unsigned long long)c->highestmodseq);
        if (it->deletedmodseq)
            stream_printf(x->bs, " DELETEDMODSEQ %llu",
                          (unsigned long long)it->deletedmodseq);
        stream_puts(x->bs, "\r\n");
        r = read_reply(x, "XAPPEND UIDNEXT", 0);
    }
    return r;
}

static int
subs_cb(void *ctx, const char *mboxname)
{
    struct xfer *x = ctx;
    const char *admin = config_str(x->env->cfg, CFG_PROXY_AUTHNAME);
    char *ext = mboxname_to_external(x->env->ops->ns, admin, 1, mboxname);
    int r;

    if (ext == NULL)
        return 0; /* not expressible: dropped, as Cyrus would */
    begin_cmd(x);
    stream_puts(x->bs, "LOCALSUBSCRIBE ");
    put_astring(x, x->user);
    stream_puts(x->bs, " ");
    put_astring(x, ext);
    stream_puts(x->bs, "\r\n");
    free(ext);
    r = read_reply(x, "LOCALSUBSCRIBE", 0);
    return r ? r : 0;
}

static int
seen_cb(void *ctx, const char *user, const char *uniqueid,
        const struct seen_data *sd)
{
    struct xfer *x = ctx;

    begin_cmd(x);
    stream_puts(x->bs, "LOCALSEEN ");
    put_astring(x, user);
    stream_puts(x->bs, " ");
    put_astring(x, uniqueid);
    stream_printf(x->bs, " %lld %u %lld ",
                  (long long)(sd->lastread > 0 ? sd->lastread : 0),
                  sd->lastuid,
                  (long long)(sd->lastchange > 0 ? sd->lastchange : 0));
    stream_puts(x->bs, "\"");
    stream_write(x->bs, buf_base(&sd->uids), buf_len(&sd->uids));
    stream_puts(x->bs, "\"\r\n");
    return read_reply(x, "LOCALSEEN", 0);
}

static int
copy_all(struct xfer *x)
{
    size_t i;
    int r = 0;

    for (i = 0; r == 0 && i < x->n; i++)
        r = remote_create(x, &x->items[i]);
    for (i = 0; r == 0 && i < x->n; i++) {
        r = copy_messages(x, &x->items[i]);
        if (r == 0)
            x->stats.mailboxes++;
    }
    if (r == 0 && x->user && x->env->ops->subs)
        r = subs_foreach(x->env->ops->subs, x->user, subs_cb, x, NULL);
    if (r == 0 && x->env->seen)
        r = xfer_seen_foreach(x->env->seen, &x->uniqueids, seen_cb, x);
    return r;
}

/* Step 5: MUPDATEPUSH each; 0 once the first one went through. */
static int
push_all(struct xfer *x)
{
    struct buf loc = BUF_INITIALIZER;
    size_t i;
    int r = 0, any = 0;

    for (i = 0; i < x->n; i++) {
        struct xfer_item *it = &x->items[i];

        begin_cmd(x);
        stream_puts(x->bs, "MUPDATEPUSH ");
        put_astring(x, it->extname);
        stream_puts(x->bs, "\r\n");
        r = read_reply(x, "MUPDATEPUSH", 0);
        if (r && any) {
            /* past the commit point: activate it there ourselves */
            buf_reset(&loc);
            buf_printf(&loc, "%s!%s", x->server, dest_partition(x, it));
            r = mupdate_activate(x->mc, it->e->name, buf_cstring(&loc),
                                 it->e->acl ? it->e->acl : "");
            if (r)
                log_msg(LOG_ERR, "xfer: %s left RESERVED on the master: %s",
                        it->e->name, error_text(r));
        }
        if (r && !any)
            break;
        it->pushed = 1;
        any = 1;
    }
    buf_free(&loc);
    return any ? 0 : r;
}

/* Out of the way at once, removed later: the spool directory loses its
 * header (no longer a mailbox for anyone) and is renamed to a sibling
 * the caller removes after its reply (xfer_remove_trash()); unlinking
 * 10,000 message files one by one took seconds. Without trash, or when
 * the rename fails, it is destroyed here. */
static void
discard_spool(struct xfer_item *it, struct strarray *trash)
{
    struct buf path = BUF_INITIALIZER, gone = BUF_INITIALIZER;

    buf_setcstr(&path, mailbox_path(it->mb));
    if (trash) {
        buf_printf(&gone, "%s/cyrus.header", buf_cstring(&path));
        unlink(buf_cstring(&gone));
        buf_reset(&gone);
        buf_printf(&gone, "%s.XFERGONE", buf_cstring(&path));
        if (rename(buf_cstring(&path), buf_cstring(&gone)) == 0) {
            strarray_append(trash, buf_cstring(&gone));
            goto done;
        }
    }
    if (mailbox_destroy(buf_cstring(&path)) != 0)
        log_msg(LOG_ERR, "xfer: cannot remove %s", buf_cstring(&path));
done:
    buf_free(&path);
    buf_free(&gone);
}

/* Step 6: the local copies go (under the lock), then the user's data. */
static void
remove_local(struct xfer *x, struct strarray *trash)
{
    const struct mboxops *ops = x->env->ops;
    size_t i;

    for (i = x->n; i-- > 0;) {
        struct xfer_item *it = &x->items[i];

        discard_spool(it, trash);
        mboxlist_remove(ops->ml, it->e->name, NULL);
    }
    if (x->user && ops->subs)
        subs_delete_user(ops->subs, x->user, NULL);
    if (x->env->seen)
        xfer_seen_delete(x->env->seen, &x->uniqueids);
    if (x->user && ops->qdb)
        quota_remove(ops->qdb, x->items[0].e->name, NULL);
}

void
xfer_remove_trash(struct strarray *trash)
{
    size_t i;

    for (i = 0; i < trash->count; i++) {
        if (mailbox_destroy(trash->data[i]) != 0)
            log_msg(LOG_ERR, "xfer: cannot remove %s", trash->data[i]);
    }
    strarray_fini(trash);
}

/* Failure before the commit point: undo on both sides. */
static void
rollback(struct xfer *x)
{
    const struct mboxops *ops = x->env->ops;
    struct buf loc = BUF_INITIALIZER;
    const char *err = NULL;
    size_t i;

    for (i = x->n; x->bs && i-- > 0;) {
        struct xfer_item *it = &x->items[i];

        if (!it->created)
            continue;
        begin_cmd(x);
        stream_puts(x->bs, "LOCALDELETE ");
        put_astring(x, it->extname);
        stream_puts(x->bs, "\r\n");
        if (read_reply(x, "LOCALDELETE", 0) < 0 && stream_eof(x->bs))
            break;
    }
    for (i = 0; i < x->n; i++) {
        struct xfer_item *it = &x->items[i];

        if (it->marked)
            mboxlist_store(ops->ml, it->e, NULL);
        if (it->mb) {
            mailbox_unlock(it->mb);
            mailbox_close(&it->mb);
        }
    }
    for (i = 0; i < x->n; i++) {
        struct xfer_item *it = &x->items[i];
        int r;

        if (!it->deactivated)
            continue;
        source_location(x, it->e, &loc);
        r = x->mc ? mupdate_activate(x->mc, it->e->name, buf_cstring(&loc),
                                     it->e->acl ? it->e->acl : "")
                  : ERR_MUPDATE_NOCONN;
        if (r && r != ERR_MUPDATE_FAIL) {
            /* the master connection broke: one fresh try */
            mupdate_client_free(&x->mc);
            if (mupdate_client_connect(x->env->cfg, NULL, XFER_MUPDATE_MS,
                                       &x->mc, &err)
                == 0)
                r = mupdate_activate(x->mc, it->e->name, buf_cstring(&loc),
                                     it->e->acl ? it->e->acl : "");
        }
        if (r)
            log_msg(LOG_ERR, "xfer: cannot reactivate %s at %s: %s",
                    it->e->name, buf_cstring(&loc), error_text(r));
    }
    buf_free(&loc);
}

static int
deactivate_all(struct xfer *x)
{
    struct buf loc = BUF_INITIALIZER;
    size_t i;
    int r = 0;

    for (i = 0; r == 0 && i < x->n; i++) {
        source_location(x, x->items[i].e, &loc);
        r = mupdate_deactivate(x->mc, x->items[i].e->name, buf_cstring(&loc));
        if (r)
            set_err(x, "DEACTIVATE %s: %s", x->items[i].e->name,
                    error_text(r));
        else
            x->items[i].deactivated = 1;
    }
    buf_free(&loc);
    return r;
}

static int
connect_all(struct xfer *x)
{
    const char *merr = NULL;
    char *berr = NULL;
    int r;

    r = saslglue_client_init();
    if (r) {
        set_err(x, "SASL client library unavailable");
        return r;
    }
    r = backend_connect(x->env->cfg, x->server, &backend_proto_imap, NULL,
                        x->env->tls, &x->be, &berr);
    if (r) {
        set_err(x, "connect to %s: %s", x->server, berr ? berr : "failed");
        free(berr);
        return r;
    }
    x->bs = backend_stream(x->be);
    x->literalplus = backend_has_capa(x->be, "LITERAL+");
    r = mupdate_client_connect(x->env->cfg, NULL, XFER_MUPDATE_MS, &x->mc,
                               &merr);
    if (r)
        set_err(x, "mupdate master: %s", merr ? merr : "no connection");
    return r;
}

static void
xfer_fini(struct xfer *x)
{
    size_t i;

    for (i = 0; i < x->n; i++) {
        if (x->items[i].mb) {
            mailbox_unlock(x->items[i].mb);
            mailbox_close(&x->items[i].mb);
        }
        mboxlist_entry_free(&x->items[i].e);
        free(x->items[i].extname);
    }
    free(x->items);
    free(x->user);
    strarray_fini(&x->uniqueids);
    if (x->mc) {
        mupdate_logout(x->mc);
        mupdate_client_free(&x->mc);
    }
    if (x->be && x->bs && !stream_eof(x->bs))
        backend_logout(&x->be);
    backend_free(&x->be);
    buf_free(&x->tag);
    buf_free(&x->line);
    buf_free(&x->err);
}

int
xfer_move(const struct xfer_env *env, const char *intname, const char *server,
          const char *partition, struct xfer_stats *stats_r,
          struct strarray *trash_r, char **error_r)
{
    struct xfer x;
    int r;

    memset(&x, 0, sizeof(x));
    x.env = env;
    x.server = server;
    x.partition = partition;
    *error_r = NULL;
    if (strcmp(server, env->ops->servername) == 0) {
        *error_r = xstrdup("Invalid server requested");
        return ERR_INVALID;
    }
    r = collect(&x, intname);
    if (r == 0)
        r = connect_all(&x);
    if (r == 0)
        r = deactivate_all(&x);
    if (r == 0)
        r = mark_and_lock(&x);
    if (r == 0)
        r = copy_all(&x);
    if (r == 0)
        r = push_all(&x);
    if (r) {
        if (r != ERR_NOTSUPPORTED && r != ERR_NOMAILBOX && r != ERR_MOVED
            && r != ERR_BADNAME)
            rollback(&x);
        if (r == ERR_EOF || r == ERR_TIMEOUT || r == ERR_IO)
            r = ERR_UNAVAILABLE;
        if (buf_len(&x.err))
            *error_r = buf_release(&x.err);
    } else {
        remove_local(&x, trash_r);
        if (stats_r)
            *stats_r = x.stats;
    }
    xfer_fini(&x);
    return r;
}
