/* mupdate_sync.c: merge an UPDATE dump into the local list (see
 * mupdate_sync.h). */
#include <string.h>

#include "errors.h"
#include "mupdate_proto.h"
#include "mupdate_sync.h"
#include "strarray.h"
#include "xmalloc.h"

/* local entries read ahead of the merge per cursor pass */
#define LOOKAHEAD 512

struct mupdate_sync {
    struct mboxlist *ml;
    mupdate_sync_changed_cb *changed_cb;
    void *ctx;
    struct cyrusdb_txn *tid;
    size_t inbatch;          /* dump entries merged in tid */
    struct strarray changed; /* names changed in tid */
    /* the local look-ahead: ahead[pos..n) not yet merged */
    struct mboxlist_entry *ahead[LOOKAHEAD];
    size_t n, pos;
    int local_done;        /* the cursor reached the end */
    struct buf local_last; /* last local name read; empty: none yet */
    struct buf dump_last;  /* previous dump name */
    int finished;
    int delta; /* only the names sent: no look-ahead, no stale names */
    struct mupdate_sync_stats st;
};

/* ---- entries --------------------------------------------------------- */

void
mupdate_sync_location(const struct mboxlist_entry *e, struct buf *out)
{
    buf_reset(out);
    if (e->server)
        buf_appendcstr(out, e->server);
    if (e->partition) {
        buf_putc(out, '!');
        buf_appendcstr(out, e->partition);
    }
}

/* Whether local entry e differs from the master's mb. */
static int
differs(const struct mboxlist_entry *e, const struct mupdate_mailbox *mb)
{
    struct buf loc = BUF_INITIALIZER;
    int diff;

    mupdate_sync_location(e, &loc);
    diff = strcmp(buf_cstring(&loc), mb->location) != 0
           || e->mbtype != (MBTYPE_REMOTE | (mb->reserved ? MBTYPE_RESERVE : 0))
           || strcmp(e->acl ? e->acl : "", mb->reserved ? "" : mb->acl) != 0;
    buf_free(&loc);
    return diff;
}

/* Store mb as a REMOTE entry (RESERVE too when reserved). */
static int
store(struct mboxlist *ml, const struct mupdate_mailbox *mb,
      struct cyrusdb_txn **tid)
{
    struct mboxlist_entry *e = mboxlist_entry_new(mb->name);
    struct buf server = BUF_INITIALIZER, part = BUF_INITIALIZER;
    int r;

    /* MUPDATE.md 5: "server!partition", or just "server" */
    if (mupdate_location_split(mb->location, &server, &part))
        e->partition = buf_release(&part);
    e->server = buf_release(&server);
    e->acl = xstrdup(mb->reserved ? "" : mb->acl);
    e->mbtype = MBTYPE_REMOTE | (mb->reserved ? MBTYPE_RESERVE : 0);
    r = mboxlist_store(ml, e, tid);
    mboxlist_entry_free(&e);
    buf_free(&part);
    return r;
}

int
mupdate_sync_apply(struct mboxlist *ml, const struct mupdate_mailbox *mb,
                   struct cyrusdb_txn **tid)
{
    struct mboxlist_entry *e = NULL;
    int r = mboxlist_lookup(ml, mb->name, &e, tid);

    if (r == 0 && !differs(e, mb)) {
        mboxlist_entry_free(&e);
        return 0;
    }
    mboxlist_entry_free(&e);
    if (r != 0 && r != ERR_NOMAILBOX)
        return r;
    r = store(ml, mb, tid);
    return r < 0 ? r : 1;
}

/* ---- the merge ------------------------------------------------------- */

struct mupdate_sync *
mupdate_sync_new(struct mboxlist *ml, mupdate_sync_changed_cb *changed_cb,
                 void *ctx)
{
    struct mupdate_sync *sy = xzmalloc(sizeof(*sy));

    sy->ml = ml;
    sy->changed_cb = changed_cb;
    sy->ctx = ctx;
    return sy;
}

struct mupdate_sync *
mupdate_sync_new_delta(struct mboxlist *ml, mupdate_sync_changed_cb *changed_cb,
                       void *ctx)
{
    struct mupdate_sync *sy = mupdate_sync_new(ml, changed_cb, ctx);

    sy->delta = 1;
    sy->local_done = 1;
    return sy;
}

static void
ahead_clear(struct mupdate_sync *sy)
{
    size_t i;

    for (i = 0; i < sy->n; i++)
        mboxlist_entry_free(&sy->ahead[i]);
    sy->n = sy->pos = 0;
}

static int
ahead_cb(void *ctx, const struct mboxlist_entry *e)
{
    struct mupdate_sync *sy = ctx;

    sy->ahead[sy->n++] = mboxlist_entry_copy(e);
    buf_setcstr(&sy->local_last, e->name);
    return sy->n == LOOKAHEAD;
}

/* The next local entry not yet merged, or NULL at the end of the list
 * (*r_out set on error). */
static const struct mboxlist_entry *
ahead_peek(struct mupdate_sync *sy, int *r_out)
{
    int r;

    *r_out = 0;
    if (sy->pos < sy->n)
        return sy->ahead[sy->pos];
    if (sy->local_done)
        return NULL;
    ahead_clear(sy);
    r = mboxlist_foreach_after(
        sy->ml, "",
        buf_len(&sy->local_last) ? buf_cstring(&sy->local_last) : NULL,
        ahead_cb, sy, &sy->tid);
    if (r < 0) {
        *r_out = r;
        return NULL;
    }
    if (r == 0)
        sy->local_done = 1; /* the walk ended before filling the array */
    return sy->n > 0 ? sy->ahead[0] : NULL;
}

static void
note_changed(struct mupdate_sync *sy, const char *name)
{
    if (sy->changed_cb != NULL)
        strarray_append(&sy->changed, name);
}

static int
commit(struct mupdate_sync *sy)
{
    size_t i;
    int r;

    r = mboxlist_commit(sy->ml, sy->tid);
    sy->tid = NULL;
    sy->inbatch = 0;
    if (r == 0) {
        for (i = 0; i < sy->changed.count; i++)
            sy->changed_cb(sy->ctx, sy->changed.data[i]);
    }
    strarray_fini(&sy->changed);
    return r;
}

/* Delete the look-ahead's next entry (stale: the dump passed it). */
static int
remove_next(struct mupdate_sync *sy)
{
    const char *name = sy->ahead[sy->pos]->name;
    int r = mboxlist_remove(sy->ml, name, &sy->tid);

    if (r == ERR_NOMAILBOX || r == ERR_NOTFOUND)
        r = 0; /* gone already (an out-of-order DELETE) */
    if (r == 0) {
        sy->st.removed++;
        note_changed(sy, name);
    }
    sy->pos++;
    return r;
}

static int
fail(struct mupdate_sync *sy, int r)
{
    if (sy->tid != NULL)
        mboxlist_abort(sy->ml, sy->tid);
    sy->tid = NULL;
    strarray_fini(&sy->changed);
    return r;
}

/* Close the batch when it is full. */
static int
batch_step(struct mupdate_sync *sy)
{
    int r;

    if (++sy->inbatch < MUPDATE_SYNC_BATCH)
        return 0;
    r = commit(sy);
    return r < 0 ? fail(sy, r) : 0;
}

/* A delta entry: written if absent or different. */
static int
delta_entry(struct mupdate_sync *sy, const struct mupdate_mailbox *mb)
{
    struct mboxlist_entry *e = NULL;
    int r = mboxlist_lookup(sy->ml, mb->name, &e, &sy->tid);

    if (r == 0 && !differs(e, mb)) {
        mboxlist_entry_free(&e);
    } else {
        mboxlist_entry_free(&e);
        if (r != 0 && r != ERR_NOMAILBOX)
            return fail(sy, r);
        if (r == 0)
            sy->st.updated++;
        else
            sy->st.added++;
        r = store(sy->ml, mb, &sy->tid);
        if (r < 0)
            return fail(sy, r);
        note_changed(sy, mb->name);
    }
    sy->st.received++;
    return batch_step(sy);
}

int
mupdate_sync_entry(struct mupdate_sync *sy, const struct mupdate_mailbox *mb)
{
    const struct mboxlist_entry *head;
    int r = 0, cmp = 1;

    if (sy->delta)
        return delta_entry(sy, mb);

    if (buf_len(&sy->dump_last) > 0
        && strcmp(mb->name, buf_cstring(&sy->dump_last)) <= 0)
        sy->st.unordered++;
    buf_setcstr(&sy->dump_last, mb->name);
    /* local names before this one that the dump did not send are stale */
    while ((head = ahead_peek(sy, &r)) != NULL
           && (cmp = strcmp(head->name, mb->name)) < 0) {
        r = remove_next(sy);
        if (r < 0)
            return fail(sy, r);
    }
    if (r < 0)
        return fail(sy, r);
    if (head != NULL && cmp == 0) {
        if (differs(head, mb)) {
            r = store(sy->ml, mb, &sy->tid);
            sy->st.updated++;
            note_changed(sy, mb->name);
        }
        sy->pos++;
    } else {
        /* absent locally (or, out of order, already passed): written
         * whole, whatever is there */
        r = store(sy->ml, mb, &sy->tid);
        sy->st.added++;
        note_changed(sy, mb->name);
    }
    if (r < 0)
        return fail(sy, r);
    sy->st.received++;
    if (++sy->inbatch >= MUPDATE_SYNC_BATCH) {
        r = commit(sy);
        if (r < 0)
            return fail(sy, r);
    }
    return 0;
}

int
mupdate_sync_delete(struct mupdate_sync *sy, const char *name)
{
    int r = mboxlist_remove(sy->ml, name, &sy->tid);

    if (sy->delta)
        sy->st.received++;
    if (r == ERR_NOMAILBOX || r == ERR_NOTFOUND)
        return sy->delta ? batch_step(sy) : 0;
    if (r < 0)
        return fail(sy, r);
    sy->st.removed++;
    note_changed(sy, name);
    return sy->delta ? batch_step(sy) : 0;
}

int
mupdate_sync_finish(struct mupdate_sync *sy)
{
    int r = 0;

    while (ahead_peek(sy, &r) != NULL) {
        r = remove_next(sy);
        if (r < 0)
            return fail(sy, r);
        /* a long tail of stale names: bounded transactions too */
        if (++sy->inbatch >= MUPDATE_SYNC_BATCH && (r = commit(sy)) < 0)
            return fail(sy, r);
    }
    if (r < 0)
        return fail(sy, r);
    r = commit(sy);
    if (r < 0)
        return fail(sy, r);
    sy->finished = 1;
    return 0;
}

const struct mupdate_sync_stats *
mupdate_sync_stats(const struct mupdate_sync *sy)
{
    return &sy->st;
}

void
mupdate_sync_free(struct mupdate_sync **syp)
{
    struct mupdate_sync *sy = *syp;

    if (sy == NULL)
        return;
    *syp = NULL;
    if (sy->tid != NULL)
        mboxlist_abort(sy->ml, sy->tid);
    ahead_clear(sy);
    strarray_fini(&sy->changed);
    buf_free(&sy->local_last);
    buf_free(&sy->dump_last);
    free(sy);
}
