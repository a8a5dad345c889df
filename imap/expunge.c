/* expunge.c: expunging with quota accounting (see expunge.h). */
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "expunge.h"
#include "log.h"
#include "xmalloc.h"

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
expunge_messages(struct mailbox *mb, struct quota_db *qdb,
                 const uint32_t *uids, size_t n, int only_deleted,
                 uint32_t *count_r)
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
                r = expunge_one(mb, (uint32_t)idx, only_deleted, delta,
                                &count);
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
