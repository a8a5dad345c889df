/* store.c: STORE / UID STORE (see store.h). */
#include <string.h>

#include "acl.h"
#include "errors.h"
#include "mailbox.h"
#include "store.h"
#include "util.h"
#include "xmalloc.h"

/* ---- parsing ---- */

static const struct {
    const char *name;
    uint32_t bit;
} system_flags[] = {
    {"\\Seen",     FLAG_SEEN    },
    {"\\Answered", FLAG_ANSWERED},
    {"\\Flagged",  FLAG_FLAGGED },
    {"\\Deleted",  FLAG_DELETED },
    {"\\Draft",    FLAG_DRAFT   },
};

void
store_args_fini(struct store_args *args)
{
    seqset_free(&args->set);
    strarray_fini(&args->keywords);
    memset(args, 0, sizeof(*args));
}

/* Sort one flag into the args. */
static int
add_flag(struct imaptok *t, struct store_args *args, const char *p, size_t len)
{
    size_t i;

    if (len > 0 && p[0] == '\\') {
        for (i = 0; i < ARRAY_SIZE(system_flags); i++) {
            if (util_memcaseeq(p, len, system_flags[i].name)) {
                args->system_flags |= system_flags[i].bit;
                return 0;
            }
        }
        return imaptok_fail(t, "Invalid system flag in STORE command");
    }
    strarray_appendmap(&args->keywords, p, len);
    return 0;
}

static int
parse_operation(struct imaptok *t, struct store_args *args)
{
    struct imaptok_span a;
    const char *p;
    size_t len;

    if (imaptok_atom(t, &a) < 0)
        return imaptok_fail(t, "Invalid STORE attribute");
    p = a.p;
    len = a.len;
    args->op = STORE_REPLACE;
    if (len > 0 && (*p == '+' || *p == '-')) {
        args->op = *p == '+' ? STORE_ADD : STORE_REMOVE;
        p++;
        len--;
    }
    if (len == 12 && util_memcaseeq(p, len, "FLAGS.SILENT"))
        args->silent = 1;
    else if (!util_memcaseeq(p, len, "FLAGS"))
        return imaptok_fail(t, "Invalid STORE attribute");
    return 0;
}

static int
parse_flags(struct imaptok *t, struct store_args *args)
{
    struct strarray list = STRARRAY_INITIALIZER;
    size_t i;
    int r = 0;

    if (imaptok_peek(t) == '(') {
        if (imaptok_flag_list(t, &list) < 0) {
            strarray_fini(&list);
            return -1;
        }
        for (i = 0; r == 0 && i < list.count; i++)
            r = add_flag(t, args, list.data[i], strlen(list.data[i]));
        strarray_fini(&list);
        return r;
    }
    for (;;) {
        struct imaptok_span f;

        if (imaptok_flag(t, &f) < 0 || add_flag(t, args, f.p, f.len) < 0)
            return -1;
        if (imaptok_peek(t) != ' ')
            return 0;
        imaptok_sp(t);
    }
}

int
store_parse(struct imaptok *t, int uid_command, struct store_args *args,
            const char **error_r)
{
    memset(args, 0, sizeof(*args));
    args->uid = uid_command;
    if (imaptok_seqset(t, &args->set) < 0 || imaptok_sp(t) < 0)
        goto bad;
    if (imaptok_peek(t) == '(') {
        imaptok_lparen(t);
        if (imaptok_keyword(t, "UNCHANGEDSINCE") < 0 || imaptok_sp(t) < 0
            || imaptok_number64(t, &args->unchangedsince) < 0
            || imaptok_rparen(t) < 0 || imaptok_sp(t) < 0) {
            imaptok_fail(t, "Invalid STORE modifier");
            goto bad;
        }
        args->has_unchangedsince = 1;
    }
    if (parse_operation(t, args) < 0 || imaptok_sp(t) < 0
        || parse_flags(t, args) < 0 || imaptok_end(t) < 0)
        goto bad;
    return 0;
bad:
    if (error_r)
        *error_r = imaptok_error(t);
    return ERR_SYNTAX;
}

/* ---- running ---- */

void
store_format_flaglist(struct mailbox *mb, unsigned rights, int readonly,
                      struct buf *out)
{
    const char *name;
    int i, nflags = 0;
    char sep = '(';

    buf_appendcstr(out,
                   "* FLAGS (\\Answered \\Flagged \\Draft \\Deleted \\Seen");
    for (i = 0; (name = mailbox_user_flag_name(mb, i)) != NULL; i++) {
        buf_printf(out, " %s", name);
        nflags++;
    }
    buf_appendcstr(out, ")\r\n* OK [PERMANENTFLAGS ");
    if (!readonly) {
        if (rights & ACL_WRITE) {
            buf_printf(out, "%c\\Answered \\Flagged \\Draft", sep);
            sep = ' ';
        }
        if (rights & ACL_DELETEMSG) {
            buf_printf(out, "%c\\Deleted", sep);
            sep = ' ';
        }
        if (rights & ACL_SEEN) {
            buf_printf(out, "%c\\Seen", sep);
            sep = ' ';
        }
        if (rights & ACL_WRITE) {
            for (i = 0; i < nflags; i++)
                buf_printf(out, " %s", mailbox_user_flag_name(mb, i));
            if (nflags < MAILBOX_MAX_USER_FLAGS)
                buf_appendcstr(out, " \\*");
        }
    }
    if (sep == '(')
        buf_putc(out, '(');
    buf_appendcstr(out, ")] Ok\r\n");
}

/* Keyword bits for the names; creates names for replace and add. */
static int
keyword_bits(struct mailbox *mb, const struct store_args *args, int create,
             uint32_t bits[MAILBOX_MAX_USER_FLAGS / 32], int *created_r)
{
    size_t i;

    memset(bits, 0, MAILBOX_MAX_USER_FLAGS / 32 * sizeof(uint32_t));
    for (i = 0; i < args->keywords.count; i++) {
        const char *name = args->keywords.data[i];
        int idx = mailbox_user_flag(mb, name, 0);

        if (idx < 0 && create) {
            idx = mailbox_user_flag(mb, name, 1);
            if (idx < 0)
                return ERR_LIMIT;
            *created_r = 1;
        }
        if (idx >= 0)
            bits[idx / 32] |= 1u << (idx % 32);
    }
    return 0;
}

/* The new flags of rec under args and rights (Cyrus's index_storeflag).
 * Returns nonzero when something changed. */
static int
apply(struct index_record *rec, const struct store_args *args, unsigned rights,
      const uint32_t kw[MAILBOX_MAX_USER_FLAGS / 32])
{
    uint32_t old = rec->system_flags, sys = old;
    uint32_t want = args->system_flags & FLAG_SYSTEM_MASK;
    uint32_t mask = 0;
    size_t i;
    int changed = 0;

    if (rights & ACL_SEEN)
        mask |= FLAG_SEEN;
    if (rights & ACL_DELETEMSG)
        mask |= FLAG_DELETED;
    if (rights & ACL_WRITE)
        mask |= FLAG_ANSWERED | FLAG_FLAGGED | FLAG_DRAFT;
    switch (args->op) {
    case STORE_REPLACE:
        sys = (old & ~mask) | (want & mask);
        break;
    case STORE_ADD:
        sys = old | (want & mask);
        break;
    case STORE_REMOVE:
        sys = old & ~(want & mask);
        break;
    }
    if (sys != old) {
        rec->system_flags = sys;
        changed = 1;
    }
    if (!(rights & ACL_WRITE))
        return changed;
    for (i = 0; i < MAILBOX_MAX_USER_FLAGS / 32; i++) {
        uint32_t u = rec->user_flags[i];

        if (args->op == STORE_REPLACE)
            u = kw[i];
        else if (args->op == STORE_ADD)
            u |= kw[i];
        else
            u &= ~kw[i];
        if (u != rec->user_flags[i]) {
            rec->user_flags[i] = u;
            changed = 1;
        }
    }
    return changed;
}

/* The sequence numbers of the view in the set, ascending. */
static uint32_t *
target_seqs(struct index_view *v, const struct store_args *args, size_t *n_r)
{
    uint32_t count = index_count(v), seq, *seqs;
    uint32_t max = args->uid ? index_max_uid(v) : count;
    struct seqset *set = seqset_dup(args->set);
    size_t n = 0;

    seqs = xmalloc(((size_t)count + 1) * sizeof(*seqs));
    seqset_normalize(set, max);
    for (seq = 1; seq <= count; seq++) {
        if (seqset_contains(set, args->uid ? index_seq_to_uid(v, seq) : seq,
                            max))
            seqs[n++] = seq;
    }
    seqset_free(&set);
    *n_r = n;
    return seqs;
}

static void
report(struct store_ctx *ctx, const struct store_args *args, uint32_t seq,
       const struct index_record *rec, uint64_t oldmodseq, struct buf *out)
{
    struct index_view *v = ctx->view;
    const struct index_msg *im = index_msg(v, seq);

    /* silent and nothing else changed meanwhile: just mark it told */
    if (args->silent && !ctx->condstore && im->told_modseq == oldmodseq) {
        index_told(v, seq, rec->modseq);
        return;
    }
    if (rec->modseq <= im->told_modseq && !im->seen_untold)
        return;
    buf_printf(out, "* %u FETCH (FLAGS ", seq);
    index_format_flags(v, rec, im->recent, out);
    if (args->uid || ctx->qresync)
        buf_printf(out, " UID %u", rec->uid);
    if (args->has_unchangedsince || ctx->condstore)
        buf_printf(out, " MODSEQ (%llu)", (unsigned long long)rec->modseq);
    buf_appendcstr(out, ")\r\n");
    index_told(v, seq, rec->modseq);
}

int
store_run(struct store_ctx *ctx, const struct store_args *args, struct buf *out,
          struct seqset **modified_r)
{
    struct index_view *v = ctx->view;
    struct mailbox *mb = index_mailbox(v);
    unsigned rights = index_readonly(v) ? 0 : ctx->rights;
    uint32_t kw[MAILBOX_MAX_USER_FLAGS / 32];
    uint32_t want = args->system_flags & FLAG_SYSTEM_MASK;
    struct seqset *modified = NULL;
    struct buf fetches = BUF_INITIALIZER;
    size_t n, i, start = buf_len(out);
    uint32_t *seqs;
    int r, created = 0;

    if (modified_r)
        *modified_r = NULL;
    if (args->op != STORE_REPLACE
        && (((want & FLAG_DELETED) && !(rights & ACL_DELETEMSG))
            || (((want & ~(FLAG_DELETED | FLAG_SEEN)) || args->keywords.count)
                && !(rights & ACL_WRITE))))
        return ERR_PERMISSION;
    seqs = target_seqs(v, args, &n);
    r = mailbox_lock(mb, MAILBOX_EXCLUSIVE);
    if (r < 0) {
        free(seqs);
        return r;
    }
    r = keyword_bits(mb, args, (rights & ACL_WRITE) && args->op != STORE_REMOVE,
                     kw, &created);
    for (i = 0; r == 0 && i < n; i++) {
        struct index_record rec;
        uint64_t oldmodseq;
        long idx = mailbox_find_uid(mb, index_seq_to_uid(v, seqs[i]));

        if (idx < 0 || mailbox_read_record(mb, (uint32_t)idx, &rec) < 0
            || (rec.system_flags & FLAG_INT_EXPUNGED))
            continue;
        if (args->has_unchangedsince && rec.modseq > args->unchangedsince) {
            if (modified == NULL)
                modified = seqset_new();
            seqset_add_num(modified, args->uid ? rec.uid : seqs[i]);
            continue;
        }
        oldmodseq = rec.modseq;
        if (index_userseen_enabled(v)) {
            /* per-user \Seen (index.h): \Seen goes to the view's set,
             * the record keeps the owner's */
            uint32_t disk_seen = rec.system_flags & FLAG_SEEN;
            struct index_record before;

            index_apply_seen(v, &rec);
            before = rec;
            if (apply(&rec, args, rights, kw)) {
                index_userseen_set(v, seqs[i],
                                   (rec.system_flags & FLAG_SEEN) != 0);
                rec.system_flags = (rec.system_flags & ~FLAG_SEEN) | disk_seen;
                before.system_flags =
                    (before.system_flags & ~FLAG_SEEN) | disk_seen;
                if (memcmp(&before, &rec, sizeof(rec)) != 0)
                    r = mailbox_rewrite_record(mb, (uint32_t)idx, &rec);
                index_apply_seen(v, &rec);
            }
        } else if (apply(&rec, args, rights, kw)) {
            r = mailbox_rewrite_record(mb, (uint32_t)idx, &rec);
        }
        if (r == 0)
            report(ctx, args, seqs[i], &rec, oldmodseq, &fetches);
    }
    if (r == 0)
        r = mailbox_commit(mb);
    mailbox_unlock(mb);
    free(seqs);
    if (r < 0) {
        /* the view may have been marked told of uncommitted changes;
         * the next index_sync() reports whatever is on disk */
        buf_free(&fetches);
        seqset_free(&modified);
        buf_truncate(out, start);
        return r;
    }
    if (created)
        store_format_flaglist(mb, rights, index_readonly(v), out);
    buf_appendbuf(out, &fetches);
    buf_free(&fetches);
    if (modified_r)
        *modified_r = modified;
    else
        seqset_free(&modified);
    return 0;
}
