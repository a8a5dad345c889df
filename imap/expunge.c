/* expunge.c: EXPUNGE, UID EXPUNGE and CLOSE (see expunge.h). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acl.h"
#include "errors.h"
#include "expunge.h"
#include "log.h"
#include "mailbox.h"
#include "util.h"
#include "xmalloc.h"

int
expunge_mode_parse(const char *name, enum expunge_mode *mode_r)
{
    if (util_strcasecmp(name, "delayed") == 0)
        *mode_r = EXPUNGE_DELAYED;
    else if (util_strcasecmp(name, "semidelayed") == 0)
        *mode_r = EXPUNGE_SEMIDELAYED;
    else if (util_strcasecmp(name, "immediate") == 0)
        *mode_r = EXPUNGE_IMMEDIATE;
    else
        return ERR_INVALID;
    return 0;
}

/* Mark the chosen records expunged, commit, unlink (immediate), compact
 * when alone. */
static int
expunge_records(struct expunge_ctx *ctx, const struct seqset *uids,
                unsigned *count_r)
{
    struct mailbox *mb = index_mailbox(ctx->view);
    const struct mailbox_counts *c;
    struct seqset *set = NULL;
    uint32_t *unlink_uids = NULL, i, max, nunlink = 0;
    unsigned count = 0;
    int64_t delta[QUOTA_NUMRESOURCES] = {0, 0};
    char *root = NULL;
    int r;

    r = mailbox_lock(mb, MAILBOX_EXCLUSIVE);
    if (r < 0)
        return r;
    c = mailbox_counts(mb);
    max = c->last_uid;
    if (uids) {
        set = seqset_dup(uids);
        seqset_normalize(set, max);
    }
    if (ctx->mode == EXPUNGE_IMMEDIATE)
        unlink_uids = xmalloc(((size_t)c->num_records + 1) * sizeof(uint32_t));
    for (i = 0; r == 0 && i < c->num_records; i++) {
        struct index_record rec;

        if (mailbox_read_record(mb, i, &rec) < 0)
            continue;
        if ((rec.system_flags & FLAG_INT_EXPUNGED)
            || !(rec.system_flags & FLAG_DELETED))
            continue;
        if (set && !seqset_contains(set, rec.uid, max))
            continue;
        rec.system_flags |= FLAG_INT_EXPUNGED;
        if (unlink_uids) {
            rec.system_flags |= FLAG_INT_UNLINKED;
            unlink_uids[nunlink++] = rec.uid;
        }
        r = mailbox_rewrite_record(mb, i, &rec);
        delta[QUOTA_STORAGE] -= (int64_t)rec.size;
        delta[QUOTA_MESSAGE]--;
        count++;
    }
    if (r == 0 && count > 0)
        r = mailbox_commit(mb);
    if (r == 0) {
        struct buf path = BUF_INITIALIZER;

        /* files go only once the records saying so are durable */
        for (i = 0; i < nunlink; i++) {
            mailbox_message_path(mb, unlink_uids[i], &path);
            unlink(buf_cstring(&path));
        }
        buf_free(&path);
        /* compaction only tidies: the expunge itself is committed, so a
         * failure here is logged and otherwise ignored */
        if (count > 0 && mailbox_is_alone(mb) && mailbox_compact(mb) < 0)
            log_msg(LOG_WARNING, "mailbox %s: compaction after expunge failed",
                    mailbox_path(mb));
    }
    if (r == 0 && count > 0 && ctx->qdb && mailbox_quotaroot(mb))
        root = xstrdup(mailbox_quotaroot(mb));
    mailbox_unlock(mb);
    if (root) {
        /* after the commit: a crash before this over-counts */
        int qr = quota_charge(ctx->qdb, root, delta, 0, NULL);

        if (qr)
            log_msg(LOG_ERR, "expunge %s: uncharging quota root %s: %s",
                    mailbox_path(mb), root, error_name(qr));
        free(root);
    }
    seqset_free(&set);
    free(unlink_uids);
    if (count_r)
        *count_r = r == 0 ? count : 0;
    return r;
}

int
expunge_run(struct expunge_ctx *ctx, const struct seqset *uids, struct buf *out,
            unsigned *count_r)
{
    size_t start = buf_len(out);
    int r;

    if (count_r)
        *count_r = 0;
    if (index_readonly(ctx->view) || !(ctx->rights & ACL_EXPUNGE))
        return ERR_PERMISSION;
    r = expunge_records(ctx, uids, count_r);
    if (r == 0)
        r = index_sync(ctx->view, out, 1, ctx->condstore);
    if (r < 0)
        buf_truncate(out, start);
    return r;
}

int
expunge_close(struct expunge_ctx *ctx)
{
    if (index_readonly(ctx->view) || !(ctx->rights & ACL_EXPUNGE))
        return 0;
    return expunge_records(ctx, NULL, NULL);
}

/* ---- the mailbox-level primitive ---- */

static int
expunge_one(struct mailbox *mb, uint32_t idx, int only_deleted,
            int64_t delta[QUOTA_NUMRESOURCES], uint32_t *count)
{
    struct index_record rec;
    int r = mailbox_read_record(mb, idx, &rec);

    if (r)
        return r;
    if ((rec.system_flags & FLAG_INT_EXPUNGED)
        || (only_deleted && !(rec.system_flags & FLAG_DELETED)))
        return 0;
    rec.system_flags |= FLAG_INT_EXPUNGED;
    r = mailbox_rewrite_record(mb, idx, &rec);
    if (r)
        return r;
    delta[QUOTA_STORAGE] -= (int64_t)rec.size;
    delta[QUOTA_MESSAGE]--;
    (*count)++;
    return 0;
}

int
expunge_messages(struct mailbox *mb, struct quota_db *qdb, const uint32_t *uids,
                 size_t n, int only_deleted, uint32_t *count_r)
{
    int64_t delta[QUOTA_NUMRESOURCES] = {0, 0};
    uint32_t count = 0, num;
    size_t i;
    char *root = NULL;
    int r = mailbox_lock(mb, MAILBOX_EXCLUSIVE);

    if (r)
        return r;
    /* records are only rewritten here, never added: the mapping taken
     * by the lock covers them all */
    num = mailbox_counts(mb)->num_records;
    if (uids == NULL) {
        for (i = 0; r == 0 && i < num; i++)
            r = expunge_one(mb, (uint32_t)i, 1, delta, &count);
    } else {
        for (i = 0; r == 0 && i < n; i++) {
            long idx = mailbox_find_uid(mb, uids[i]);

            if (idx >= 0)
                r = expunge_one(mb, (uint32_t)idx, only_deleted, delta, &count);
        }
    }
    if (r == 0)
        r = mailbox_commit(mb);
    if (r == 0 && count > 0 && qdb && mailbox_quotaroot(mb))
        root = xstrdup(mailbox_quotaroot(mb));
    mailbox_unlock(mb);
    if (r)
        return r;
    if (root) {
        /* after the commit: a crash before this line over-counts */
        int qr = quota_charge(qdb, root, delta, 0, NULL);

        if (qr)
            log_msg(LOG_ERR, "expunge %s: uncharging quota root %s: %s",
                    mailbox_path(mb), root, error_name(qr));
        free(root);
    }
    if (count_r)
        *count_r = count;
    return 0;
}
