/* index.c: a session's view of its selected mailbox. */
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "index.h"
#include "seqset.h"
#include "vanished.h"
#include "xmalloc.h"

struct index_view {
    struct mailbox *mb;
    int readonly;
    struct index_msg *msgs;
    uint32_t count;
    uint32_t alloc;
    uint32_t generation;
    uint64_t highestmodseq; /* of the mailbox when last synced */
    uint32_t last_uid;      /* highest UID seen in the mailbox */
    uint32_t told_exists;
    uint32_t told_recent;
    uint32_t recent_count;
    int userseen;             /* per-user \Seen in msgs[].seen */
    int seen_dirty;
    struct seqset *seen_init; /* the loaded set, for messages added later */
    int qresync; /* report expunges as VANISHED (RFC 7162 3.2.10) */
};

static void
view_push(struct index_view *v, uint32_t uid, uint64_t modseq, int recent)
{
    if (v->count == v->alloc) {
        v->alloc = v->alloc ? v->alloc * 2 : 64;
        v->msgs = xreallocarray(v->msgs, v->alloc, sizeof(*v->msgs));
    }
    v->msgs[v->count].uid = uid;
    v->msgs[v->count].told_modseq = modseq;
    v->msgs[v->count].recent = recent;
    v->msgs[v->count].seen =
        v->seen_init ? seqset_contains(v->seen_init, uid, UINT32_MAX) : 0;
    v->msgs[v->count].seen_untold = 0;
    v->count++;
    if (recent)
        v->recent_count++;
}

int
index_open(const char *path, int readonly, struct index_view **view_r)
{
    struct index_view *v = xzmalloc(sizeof(*v));
    const struct mailbox_counts *c;
    uint32_t i, recent_from;
    int r;

    v->readonly = readonly;
    r = mailbox_open(path, &v->mb);
    if (r)
        goto fail;
    /* a read-write SELECT takes the \Recent messages for this session */
    r = mailbox_lock(v->mb, readonly ? MAILBOX_SHARED : MAILBOX_EXCLUSIVE);
    if (r)
        goto fail;
    c = mailbox_counts(v->mb);
    recent_from = c->recent_uid;
    for (i = 0; i < c->num_records; i++) {
        struct index_record rec;

        mailbox_read_record(v->mb, i, &rec);
        if (rec.system_flags & FLAG_INT_EXPUNGED)
            continue;
        view_push(v, rec.uid, rec.modseq, !readonly && rec.uid > recent_from);
    }
    v->generation = c->generation;
    v->highestmodseq = c->highestmodseq;
    v->last_uid = c->last_uid;
    if (!readonly && c->last_uid > c->recent_uid) {
        mailbox_set_recent_uid(v->mb, c->last_uid);
        r = mailbox_commit(v->mb);
    }
    mailbox_unlock(v->mb);
    if (r)
        goto fail;
    v->told_exists = v->count;
    v->told_recent = v->recent_count;
    *view_r = v;
    return 0;
fail:
    index_close(&v);
    return r;
}

void
index_close(struct index_view **viewp)
{
    struct index_view *v = *viewp;

    if (v == NULL)
        return;
    *viewp = NULL;
    mailbox_close(&v->mb);
    seqset_free(&v->seen_init);
    free(v->msgs);
    free(v);
}

struct mailbox *
index_mailbox(struct index_view *v)
{
    return v->mb;
}

int
index_readonly(const struct index_view *v)
{
    return v->readonly;
}

uint32_t
index_count(const struct index_view *v)
{
    return v->count;
}

uint32_t
index_recent_count(const struct index_view *v)
{
    return v->recent_count;
}

uint32_t
index_seq_to_uid(const struct index_view *v, uint32_t seq)
{
    return (seq >= 1 && seq <= v->count) ? v->msgs[seq - 1].uid : 0;
}

uint32_t
index_uid_to_seq(const struct index_view *v, uint32_t uid)
{
    uint32_t lo = 0, hi = v->count;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;

        if (v->msgs[mid].uid == uid)
            return mid + 1;
        if (v->msgs[mid].uid < uid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

uint32_t
index_max_uid(const struct index_view *v)
{
    return v->count ? v->msgs[v->count - 1].uid : 0;
}

const struct index_msg *
index_msg(const struct index_view *v, uint32_t seq)
{
    return (seq >= 1 && seq <= v->count) ? &v->msgs[seq - 1] : NULL;
}

int
index_record(struct index_view *v, uint32_t seq, struct index_record *rec_r)
{
    long idx;

    if (seq < 1 || seq > v->count)
        return ERR_NOTFOUND;
    idx = mailbox_find_uid(v->mb, v->msgs[seq - 1].uid);
    if (idx < 0)
        return ERR_NOTFOUND;
    if (mailbox_read_record(v->mb, (uint32_t)idx, rec_r) < 0)
        return ERR_IO;
    if (v->userseen)
        rec_r->system_flags = (rec_r->system_flags & ~FLAG_SEEN)
                              | (v->msgs[seq - 1].seen ? FLAG_SEEN : 0);
    return 0;
}

void
index_told(struct index_view *v, uint32_t seq, uint64_t modseq)
{
    if (seq < 1 || seq > v->count)
        return;
    if (v->msgs[seq - 1].told_modseq < modseq)
        v->msgs[seq - 1].told_modseq = modseq;
    v->msgs[seq - 1].seen_untold = 0;
}

void
index_userseen_enable(struct index_view *v, const struct seqset *seen)
{
    uint32_t i;

    seqset_free(&v->seen_init);
    v->seen_init = seen ? seqset_dup(seen) : NULL;
    v->userseen = 1;
    v->seen_dirty = 0;
    for (i = 0; i < v->count; i++)
        v->msgs[i].seen =
            seen ? seqset_contains(seen, v->msgs[i].uid, UINT32_MAX) : 0;
}

int
index_userseen_enabled(const struct index_view *v)
{
    return v->userseen;
}

int
index_userseen_set(struct index_view *v, uint32_t seq, int seen)
{
    struct index_msg *m;

    if (!v->userseen || seq < 1 || seq > v->count)
        return 0;
    m = &v->msgs[seq - 1];
    if (!m->seen == !seen)
        return 0;
    m->seen = seen ? 1 : 0;
    m->seen_untold = 1;
    v->seen_dirty = 1;
    return 1;
}

void
index_apply_seen(const struct index_view *v, struct index_record *rec)
{
    uint32_t seq;

    if (!v->userseen)
        return;
    seq = index_uid_to_seq(v, rec->uid);
    if (seq == 0)
        return;
    rec->system_flags = (rec->system_flags & ~FLAG_SEEN)
                        | (v->msgs[seq - 1].seen ? FLAG_SEEN : 0);
}

int
index_userseen_dirty(const struct index_view *v)
{
    return v->userseen && v->seen_dirty;
}

void
index_userseen_format(struct index_view *v, struct buf *out)
{
    struct seqset *set = seqset_new();
    uint32_t i;

    for (i = 0; i < v->count; i++) {
        if (v->msgs[i].seen)
            seqset_add_num(set, v->msgs[i].uid);
    }
    seqset_format(set, out);
    seqset_free(&set);
    /* later messages are judged by the saved set, not the loaded one */
    seqset_free(&v->seen_init);
    v->seen_dirty = 0;
}

uint32_t
index_userseen_unseen(const struct index_view *v)
{
    uint32_t i, n = 0;

    for (i = 0; i < v->count; i++)
        n += !v->msgs[i].seen;
    return n;
}

void
index_format_flags(struct index_view *v, const struct index_record *rec,
                   int recent, struct buf *out)
{
    static const struct {
        uint32_t bit;
        const char *name;
    } sysflags[] = {
        /* Cyrus's order (index_fetchflags): Draft before Deleted */
        {FLAG_ANSWERED, "\\Answered"}, {FLAG_FLAGGED, "\\Flagged"},
        {FLAG_DRAFT, "\\Draft"},       {FLAG_DELETED, "\\Deleted"},
        {FLAG_SEEN, "\\Seen"},
    };
    size_t i;
    int first = 1, n;

    buf_putc(out, '(');
    if (recent) {
        buf_appendcstr(out, "\\Recent");
        first = 0;
    }
    for (i = 0; i < sizeof(sysflags) / sizeof(sysflags[0]); i++) {
        if (rec->system_flags & sysflags[i].bit) {
            if (!first)
                buf_putc(out, ' ');
            buf_appendcstr(out, sysflags[i].name);
            first = 0;
        }
    }
    for (n = 0; n < MAILBOX_MAX_USER_FLAGS; n++) {
        const char *name;

        if (!(rec->user_flags[n / 32] & (1u << (n % 32))))
            continue;
        name = mailbox_user_flag_name(v->mb, n);
        if (name == NULL)
            continue;
        if (!first)
            buf_putc(out, ' ');
        buf_appendcstr(out, name);
        first = 0;
    }
    buf_putc(out, ')');
}

int
index_sync(struct index_view *v, struct buf *out, int allow_expunge,
           int condstore)
{
    const struct mailbox_counts *c;
    uint32_t i, seq, n, claim = 0;
    int r;

    r = mailbox_lock(v->mb, MAILBOX_SHARED);
    if (r)
        return r;
    c = mailbox_counts(v->mb);
    if (c->highestmodseq == v->highestmodseq && c->last_uid == v->last_uid
        && c->generation == v->generation) {
        mailbox_unlock(v->mb);
        return 0;
    }
    /* 1. expunges, highest sequence number first so the numbers the client
     * holds stay right while it applies them */
    if (allow_expunge) {
        struct seqset *gone = v->qresync ? seqset_new() : NULL;

        for (seq = v->count; seq >= 1; seq--) {
            struct index_record rec;
            long idx = mailbox_find_uid(v->mb, v->msgs[seq - 1].uid);

            if (idx >= 0) {
                mailbox_read_record(v->mb, (uint32_t)idx, &rec);
                if (!(rec.system_flags & FLAG_INT_EXPUNGED))
                    continue;
            }
            if (gone)
                seqset_add_num(gone, v->msgs[seq - 1].uid);
            else
                buf_printf(out, "* %u EXPUNGE\r\n", seq);
            /* the client counts it out itself (RFC 3501 7.4.1): no EXISTS
             * or RECENT for it, as Cyrus */
            if (seq <= v->told_exists)
                v->told_exists--;
            if (v->msgs[seq - 1].recent) {
                v->recent_count--;
                if (v->told_recent > 0)
                    v->told_recent--;
            }
            memmove(&v->msgs[seq - 1], &v->msgs[seq],
                    (v->count - seq) * sizeof(v->msgs[0]));
            v->count--;
        }
        if (gone) {
            seqset_normalize(gone, 0);
            vanished_format(gone, 0, out);
            seqset_free(&gone);
        }
    }
    /* 2. flag changes of messages the client knows */
    for (seq = 1; seq <= v->count; seq++) {
        struct index_record rec;
        long idx = mailbox_find_uid(v->mb, v->msgs[seq - 1].uid);

        if (idx < 0)
            continue;
        mailbox_read_record(v->mb, (uint32_t)idx, &rec);
        if ((rec.modseq <= v->msgs[seq - 1].told_modseq
             && !v->msgs[seq - 1].seen_untold)
            || (rec.system_flags & FLAG_INT_EXPUNGED))
            continue;
        index_apply_seen(v, &rec);
        buf_printf(out, "* %u FETCH (FLAGS ", seq);
        index_format_flags(v, &rec, v->msgs[seq - 1].recent, out);
        if (condstore)
            buf_printf(out, " MODSEQ (%llu)", (unsigned long long)rec.modseq);
        buf_appendcstr(out, ")\r\n");
        v->msgs[seq - 1].told_modseq = rec.modseq;
        v->msgs[seq - 1].seen_untold = 0;
    }
    /* 3. new messages; a read-write session claims those nobody has
     * announced as \Recent yet */
    n = c->num_records;
    for (i = 0; i < n; i++) {
        struct index_record rec;
        int recent;

        mailbox_read_record(v->mb, i, &rec);
        if (rec.uid <= v->last_uid || (rec.system_flags & FLAG_INT_EXPUNGED))
            continue;
        recent = !v->readonly && rec.uid > c->recent_uid;
        if (recent && rec.uid > claim)
            claim = rec.uid;
        view_push(v, rec.uid, rec.modseq, recent);
    }
    v->last_uid = c->last_uid;
    v->highestmodseq = c->highestmodseq;
    v->generation = c->generation;
    mailbox_unlock(v->mb);
    if (claim && mailbox_lock(v->mb, MAILBOX_EXCLUSIVE) == 0) {
        mailbox_set_recent_uid(v->mb, claim);
        mailbox_commit(v->mb);
        mailbox_unlock(v->mb);
    }
    if (v->count != v->told_exists) {
        buf_printf(out, "* %u EXISTS\r\n", v->count);
        v->told_exists = v->count;
    }
    if (v->recent_count != v->told_recent) {
        buf_printf(out, "* %u RECENT\r\n", v->recent_count);
        v->told_recent = v->recent_count;
    }
    return 0;
}

void
index_set_qresync(struct index_view *v, int on)
{
    v->qresync = on != 0;
}
