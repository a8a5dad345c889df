/* rename_inbox.c: RENAME INBOX newname (RFC 3501 6.3.5): every message of
 * the INBOX moves to a new mailbox newname; the INBOX stays, empty, and
 * keeps its children, as Cyrus does. */
#include <stdlib.h>

#include "append.h"
#include "errors.h"
#include "expunge.h"
#include "imapd.h"
#include "mailbox.h"
#include "mboxlist.h"
#include "mboxops.h"
#include "xmalloc.h"

static int
open_entry(struct imapd_session *s, const struct mboxlist_entry *e,
           struct mailbox **mb_r)
{
    struct buf path = BUF_INITIALIZER;
    int r = imapd_mailbox_path(s, e, &path);

    if (r == 0)
        r = mailbox_open(buf_cstring(&path), mb_r);
    buf_free(&path);
    return r;
}

/* The UIDs of mb's live messages (lock taken here). */
static int
live_uids(struct mailbox *mb, uint32_t **uids_r, size_t *n_r)
{
    const struct mailbox_counts *c;
    uint32_t i;
    int r = mailbox_lock(mb, MAILBOX_SHARED);

    *uids_r = NULL;
    *n_r = 0;
    if (r)
        return r;
    c = mailbox_counts(mb);
    if (c->num_records)
        *uids_r = xcalloc(c->num_records, sizeof(**uids_r));
    for (i = 0; i < c->num_records; i++) {
        struct index_record rec;

        if (mailbox_read_record(mb, i, &rec) == 0
            && !(rec.system_flags & FLAG_INT_EXPUNGED))
            (*uids_r)[(*n_r)++] = rec.uid;
    }
    mailbox_unlock(mb);
    return 0;
}

int
imapd_rename_inbox(struct imapd_session *s, const char *inbox,
                   const char *newname, const char **error_r)
{
    struct mboxops_who who = {s->userid, s->isadmin};
    struct mboxlist_entry *src_e = NULL, *dst_e = NULL;
    struct mailbox *src = NULL, *dst = NULL;
    struct append_result res;
    const char *derr = NULL;
    uint32_t *uids = NULL;
    size_t n = 0;
    int r;

    *error_r = NULL;
    r = mboxlist_lookup(s->proc->mboxlist, inbox, &src_e, NULL);
    if (r == 0 && src_e->server)
        r = ERR_MOVED;
    if (r)
        goto done;
    r = mboxops_create(s->proc->ops, &who, newname, NULL, NULL, &dst_e,
                       error_r);
    if (r)
        goto done;
    r = open_entry(s, src_e, &src);
    if (r == 0)
        r = open_entry(s, dst_e, &dst);
    if (r == 0)
        r = live_uids(src, &uids, &n);
    /* flags and dates go along; the quota root is the same user's */
    if (r == 0 && n > 0)
        r = append_copy(src, uids, n, dst, s->proc->qdb, 0, &res, NULL);
    if (r == 0 && n > 0)
        r = expunge_messages(src, s->proc->qdb, uids, n, 0, NULL);
    if (r) {
        /* the copy is all or nothing: take the new mailbox back */
        struct mboxops now = *s->proc->ops;

        mailbox_close(&dst);
        now.immediate_delete = 1; /* it never held anything */
        mboxops_delete(&now, &who, newname, &derr);
        if (*error_r == NULL)
            *error_r = error_text(r);
    }
done:
    if (r && *error_r == NULL)
        *error_r = error_text(r);
    free(uids);
    mailbox_close(&src);
    mailbox_close(&dst);
    mboxlist_entry_free(&src_e);
    mboxlist_entry_free(&dst_e);
    return r;
}
