/* search_eval.c: running a search program over a session's view.
 *
 * Each message gets a small context that loads what the keys ask for,
 * lazily and once: the index record always; the decoded cache record for
 * cached header fields; the mapped message file for other header fields,
 * BODY and TEXT; and the folded header and body text, built once and
 * searched by every needle. AND/OR children were ordered cheapest first
 * at parse time, so the short-circuit skips the expensive loads whenever
 * the cheap keys already decide. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "charset.h"
#include "envelope.h"
#include "errors.h"
#include "index.h"
#include "mailbox.h"
#include "message.h"
#include "msgcache.h"
#include "msgheader.h"
#include "search_priv.h"
#include "xmalloc.h"

/* Per-run resolution of a slotted node. */
struct run_slot {
    struct seqset *set; /* normalized copy (SEQSET, UIDSET) */
    uint32_t sysflag;   /* KEYWORD naming a system flag */
    int userflag;       /* KEYWORD: user flag index, -1 if none */
};

struct run_ctx {
    struct index_view *v;
    struct mailbox *mb;
    time_t now;
    uint32_t count;
    struct run_slot *slots;
    struct buf tmp;  /* scratch: decoded bytes */
    struct buf tmp2; /* scratch: UTF-8 text */
    struct buf fold; /* scratch: folded text */
};

enum load_state {
    LOAD_NONE = 0,
    LOAD_OK,
    LOAD_FAILED
};

struct msg_ctx {
    struct run_ctx *run;
    uint32_t seq;
    struct index_record rec;
    int recent;
    struct message *m;
    enum load_state m_state;
    const char *base;
    size_t len;
    enum load_state map_state;
    struct buf body; /* folded text parts, each followed by NUL */
    enum load_state body_state;
    struct buf head; /* folded "name: value" fields, each followed by NUL */
    enum load_state head_state;
};

/* Fold UTF-8 text for matching. ASCII text (the common case) is folded
 * here: lower case and white space runs merged, exactly what ICU's
 * NFKC_Casefold gives for ASCII, at a fraction of the cost. */
static void
fold_append(const char *p, size_t len, struct buf *out)
{
    size_t i;
    int inspace = 0;

    for (i = 0; i < len; i++) {
        if ((unsigned char)p[i] >= 0x80) {
            charset_fold(p, len, SEARCH_FOLD, out);
            return;
        }
    }
    buf_ensure(out, len);
    for (i = 0; i < len; i++) {
        char c = p[i];

        if (c == ' ' || (c >= '\t' && c <= '\r')) {
            if (!inspace)
                buf_putc(out, ' ');
            inspace = 1;
            continue;
        }
        inspace = 0;
        buf_putc(out, c >= 'A' && c <= 'Z' ? (char)(c + 'a' - 'A') : c);
    }
}

/* ---- lazy loads ---- */

static int
msg_map(struct msg_ctx *mc)
{
    if (mc->map_state == LOAD_NONE) {
        mc->map_state = LOAD_FAILED;
        if (mailbox_map_message(mc->run->mb, mc->rec.uid, &mc->base, &mc->len)
            == 0)
            mc->map_state = LOAD_OK;
    }
    return mc->map_state == LOAD_OK ? 0 : -1;
}

/* The parsed message: from the cache record, else from the file. */
static const struct message *
msg_message(struct msg_ctx *mc)
{
    const char *blob;
    size_t bloblen;

    if (mc->m_state != LOAD_NONE)
        return mc->m;
    mc->m_state = LOAD_FAILED;
    if (mailbox_cache_blob(mc->run->mb, &mc->rec, &blob, &bloblen) == 0
        && msgcache_decode(blob, bloblen, &mc->m) == 0) {
        mc->m_state = LOAD_OK;
    } else if (msg_map(mc) == 0
               && message_parse(mc->base, mc->len, &mc->m) == 0) {
        mc->m_state = LOAD_OK;
    }
    return mc->m;
}

static void
msg_release(struct msg_ctx *mc)
{
    message_free(&mc->m);
    mc->m_state = LOAD_NONE;
    if (mc->map_state == LOAD_OK)
        mailbox_unmap_message(mc->base, mc->len);
    mc->base = NULL;
    mc->len = 0;
    mc->map_state = LOAD_NONE;
    buf_reset(&mc->body);
    mc->body_state = LOAD_NONE;
    buf_reset(&mc->head);
    mc->head_state = LOAD_NONE;
}

/* Decode a raw header value (folds, RFC 2047 words) and fold it into out. */
static void
fold_header_value(struct run_ctx *run, const char *v, size_t len,
                  struct buf *out)
{
    buf_reset(&run->tmp);
    msgheader_unfold(v, len, 1, &run->tmp);
    buf_reset(&run->tmp2);
    charset_decode_mimeheader(buf_base(&run->tmp), buf_len(&run->tmp),
                              &run->tmp2);
    fold_append(buf_base(&run->tmp2), buf_len(&run->tmp2), out);
}

/* Append every field of hdr[0..len) as folded "name: value" + NUL. */
static void
fold_header_fields(struct run_ctx *run, const char *hdr, size_t len,
                   struct buf *out)
{
    struct msgheader_field f;
    size_t off = 0;

    while (msgheader_next(hdr, len, &off, &f)) {
        if (f.name_len == 0)
            continue;
        fold_append(f.name, f.name_len, out);
        buf_appendcstr(out, ": ");
        fold_header_value(run, f.value, f.value_len, out);
        buf_putc(out, '\0');
    }
}

static int
is_utf8_name(const char *cs)
{
    return strcasecmp(cs, "UTF-8") == 0 || strcasecmp(cs, "US-ASCII") == 0
           || strcasecmp(cs, "UTF8") == 0;
}

/* Transfer-decode, convert to UTF-8 and fold one text part into out. */
static void
fold_text_part(struct msg_ctx *mc, const struct message_part *p,
               struct buf *out)
{
    struct run_ctx *run = mc->run;
    struct message_span sp = message_part_content(p);
    const char *enc = message_part_encoding(p);
    const char *cs = message_part_charset(p);
    const char *text;
    size_t len;

    if (sp.offset > mc->len || sp.len > mc->len - sp.offset)
        return; /* the cache does not describe this file */
    text = mc->base + sp.offset;
    len = (size_t)sp.len;
    buf_reset(&run->tmp);
    if (strcmp(enc, "BASE64") == 0) {
        charset_decode_base64(text, len, &run->tmp);
        text = buf_base(&run->tmp);
        len = buf_len(&run->tmp);
    } else if (strcmp(enc, "QUOTED-PRINTABLE") == 0) {
        charset_decode_qp(text, len, &run->tmp);
        text = buf_base(&run->tmp);
        len = buf_len(&run->tmp);
    }
    buf_reset(&run->tmp2);
    if (cs != NULL && !is_utf8_name(cs)
        && charset_to_utf8(cs, text, len, &run->tmp2) == 0) {
        text = buf_base(&run->tmp2);
        len = buf_len(&run->tmp2);
    } else if (!charset_utf8_valid(text, len)) {
        /* unlabelled or mislabelled 8-bit text: the usual guess */
        buf_reset(&run->tmp2);
        charset_to_utf8("windows-1252", text, len, &run->tmp2);
        text = buf_base(&run->tmp2);
        len = buf_len(&run->tmp2);
    }
    fold_append(text, len, out);
    buf_putc(out, '\0');
}

/* The searchable text under a part: text parts, and the header fields of
 * encapsulated messages. Depth is bounded by MESSAGE_MAX_DEPTH. */
static void
fold_part_tree(struct msg_ctx *mc, const struct message_part *p,
               struct buf *out)
{
    size_t i, n = message_part_count(p);

    if (message_part_is_multipart(p)) {
        for (i = 0; i < n; i++)
            fold_part_tree(mc, message_part_child(p, i), out);
    } else if (message_part_is_rfc822(p) && n == 1) {
        const struct message_part *inner = message_part_child(p, 0);
        struct message_span h = message_part_header(inner);

        if (h.offset <= mc->len && h.len <= mc->len - h.offset)
            fold_header_fields(mc->run, mc->base + h.offset, (size_t)h.len,
                               out);
        fold_part_tree(mc, inner, out);
    } else if (strcmp(message_part_type(p), "TEXT") == 0) {
        fold_text_part(mc, p, out);
    }
}

static const struct buf *
msg_body(struct msg_ctx *mc)
{
    const struct message *m;

    if (mc->body_state == LOAD_NONE) {
        mc->body_state = LOAD_FAILED;
        m = msg_message(mc);
        if (m != NULL && msg_map(mc) == 0) {
            fold_part_tree(mc, message_root(m), &mc->body);
            mc->body_state = LOAD_OK;
        }
    }
    return mc->body_state == LOAD_OK ? &mc->body : NULL;
}

static const struct buf *
msg_head(struct msg_ctx *mc)
{
    if (mc->head_state == LOAD_NONE) {
        mc->head_state = LOAD_FAILED;
        if (msg_map(mc) == 0) {
            fold_header_fields(mc->run, mc->base,
                               msgheader_size(mc->base, mc->len), &mc->head);
            mc->head_state = LOAD_OK;
        }
    }
    return mc->head_state == LOAD_OK ? &mc->head : NULL;
}

/* ---- keys ---- */

static int
match_folded(const struct search_node *n, const struct buf *b)
{
    return charset_search_match_folded(n->needle, b->s ? b->s : "", b->len);
}

/* A header field not in the cache: every occurrence in the file. */
static int
match_file_header(struct msg_ctx *mc, const struct search_node *n)
{
    struct run_ctx *run = mc->run;
    struct msgheader_field f;
    size_t off = 0, hlen, nlen = strlen(n->name);

    if (msg_map(mc) < 0)
        return 0;
    hlen = msgheader_size(mc->base, mc->len);
    while (msgheader_next(mc->base, hlen, &off, &f)) {
        if (f.name_len != nlen || strncasecmp(f.name, n->name, nlen) != 0)
            continue;
        if (n->empty_needle)
            return 1;
        buf_reset(&run->fold);
        fold_header_value(run, f.value, f.value_len, &run->fold);
        if (match_folded(n, &run->fold))
            return 1;
    }
    return 0;
}

static int
match_header(struct msg_ctx *mc, const struct search_node *n)
{
    struct run_ctx *run = mc->run;
    const struct message *m;
    const char *value;

    if (n->field < 0)
        return match_file_header(mc, n);
    m = msg_message(mc);
    if (m == NULL)
        return 0;
    value = message_field(m, (enum envelope_field)n->field);
    if (value == NULL)
        return 0;
    if (n->empty_needle)
        return 1;
    buf_reset(&run->fold);
    fold_header_value(run, value, strlen(value), &run->fold);
    return match_folded(n, &run->fold);
}

static int
match_date(const struct search_node *n, int64_t t)
{
    switch (n->datecmp) {
    case SEARCH_DATE_BEFORE:
        return t < (int64_t)n->day_start;
    case SEARCH_DATE_ON:
        return t >= (int64_t)n->day_start && t < (int64_t)n->day_end;
    case SEARCH_DATE_SINCE:
        return t >= (int64_t)n->day_start;
    }
    return 0;
}

static int
match_keyword(struct msg_ctx *mc, const struct search_node *n)
{
    const struct run_slot *s = &mc->run->slots[n->slot];

    if (s->sysflag)
        return (mc->rec.system_flags & s->sysflag) != 0;
    if (s->userflag < 0)
        return 0;
    return (mc->rec.user_flags[s->userflag / 32] >> (s->userflag % 32)) & 1;
}

static int
eval(struct msg_ctx *mc, const struct search_node *n)
{
    const struct buf *b;
    size_t i;

    switch (n->kind) {
    case SEARCH_ALL:
        return 1;
    case SEARCH_AND:
        for (i = 0; i < n->nchild; i++) {
            if (!eval(mc, n->child[i]))
                return 0;
        }
        return 1;
    case SEARCH_OR:
        return eval(mc, n->child[0]) || eval(mc, n->child[1]);
    case SEARCH_NOT:
        return !eval(mc, n->child[0]);
    case SEARCH_SYSFLAG:
        return (mc->rec.system_flags & n->flag) != 0;
    case SEARCH_RECENT:
        return mc->recent;
    case SEARCH_KEYWORD:
        return match_keyword(mc, n);
    case SEARCH_INTERNALDATE:
        return match_date(n, mc->rec.internaldate);
    case SEARCH_SENTDATE:
        return match_date(n, mc->rec.sentdate ? mc->rec.sentdate
                                              : mc->rec.internaldate);
    case SEARCH_OLDER:
        return mc->rec.internaldate <= (int64_t)mc->run->now - (int64_t)n->num;
    case SEARCH_YOUNGER:
        return mc->rec.internaldate > (int64_t)mc->run->now - (int64_t)n->num;
    case SEARCH_LARGER:
        return mc->rec.size > n->num;
    case SEARCH_SMALLER:
        return mc->rec.size < n->num;
    case SEARCH_SEQSET:
        return seqset_contains(mc->run->slots[n->slot].set, mc->seq, 0);
    case SEARCH_UIDSET:
        return seqset_contains(mc->run->slots[n->slot].set, mc->rec.uid, 0);
    case SEARCH_MODSEQ:
        return mc->rec.modseq >= n->num;
    case SEARCH_HEADER:
        return match_header(mc, n);
    case SEARCH_BODY:
        b = msg_body(mc);
        return b != NULL && match_folded(n, b);
    case SEARCH_TEXT:
        b = msg_head(mc);
        if (b != NULL && match_folded(n, b))
            return 1;
        b = msg_body(mc);
        return b != NULL && match_folded(n, b);
    }
    return 0;
}

/* System flag names a client may give to KEYWORD. */
static uint32_t
system_flag_bit(const char *name)
{
    static const struct {
        const char *name;
        uint32_t bit;
    } names[] = {
        {"\\Answered", FLAG_ANSWERED},
        {"\\Flagged",  FLAG_FLAGGED },
        {"\\Deleted",  FLAG_DELETED },
        {"\\Draft",    FLAG_DRAFT   },
        {"\\Seen",     FLAG_SEEN    },
    };
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcasecmp(name, names[i].name) == 0)
            return names[i].bit;
    }
    return 0;
}

/* Resolve sets against this view and keywords against this mailbox. */
static void
slots_init(struct run_ctx *run, const struct search_node *n)
{
    struct run_slot *s = &run->slots[n->slot];
    size_t i;

    for (i = 0; i < n->nchild; i++)
        slots_init(run, n->child[i]);
    if (n->kind == SEARCH_SEQSET || n->kind == SEARCH_UIDSET) {
        s->set = seqset_dup(n->set);
        seqset_normalize(s->set, n->kind == SEARCH_SEQSET
                                     ? run->count
                                     : index_max_uid(run->v));
    } else if (n->kind == SEARCH_KEYWORD) {
        s->sysflag = system_flag_bit(n->name);
        s->userflag = s->sysflag ? -1 : mailbox_user_flag(run->mb, n->name, 0);
    }
}

/* RFC 7162 3.1.5: the highest modseq among the messages reported. */
static uint64_t
reported_modseq(const struct search_program *prog, const uint64_t *modseqs,
                size_t n)
{
    unsigned opts = prog->ret.options;
    uint64_t best = 0;
    size_t i;

    if (n == 0)
        return 0;
    if (!prog->ret.esearch
        || (opts & (SEARCH_RETURN_ALL | SEARCH_RETURN_COUNT)) != 0) {
        for (i = 0; i < n; i++) {
            if (modseqs[i] > best)
                best = modseqs[i];
        }
        return best;
    }
    if (opts & SEARCH_RETURN_MIN)
        best = modseqs[0];
    if ((opts & SEARCH_RETURN_MAX) && modseqs[n - 1] > best)
        best = modseqs[n - 1];
    return best;
}

int
search_run(struct index_view *v, const struct search_program *prog,
           uint32_t **matches_r, size_t *n_r, uint64_t *highestmodseq_r)
{
    return search_run_as(v, prog, prog->ret.uid, matches_r, n_r,
                         highestmodseq_r);
}

int
search_run_as(struct index_view *v, const struct search_program *prog, int uid,
              uint32_t **matches_r, size_t *n_r, uint64_t *highestmodseq_r)
{
    struct run_ctx run;
    struct msg_ctx mc;
    uint32_t *matches = NULL;
    uint64_t *modseqs = NULL;
    size_t n = 0, cap = 0, i;
    uint32_t seq;
    int r;

    *matches_r = NULL;
    *n_r = 0;
    *highestmodseq_r = 0;
    memset(&run, 0, sizeof(run));
    run.v = v;
    run.mb = index_mailbox(v);
    run.now = time(NULL);
    run.count = index_count(v);
    r = mailbox_lock(run.mb, MAILBOX_SHARED);
    if (r < 0)
        return r;
    run.slots = xcalloc(prog->nslots ? prog->nslots : 1, sizeof(*run.slots));
    slots_init(&run, prog->root);
    memset(&mc, 0, sizeof(mc));
    mc.run = &run;
    for (seq = 1; seq <= run.count; seq++) {
        if (index_record(v, seq, &mc.rec) < 0
            || (mc.rec.system_flags & FLAG_INT_EXPUNGED))
            continue;
        mc.seq = seq;
        mc.recent = index_msg(v, seq)->recent;
        if (eval(&mc, prog->root)) {
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                matches = xreallocarray(matches, cap, sizeof(*matches));
                if (prog->ret.modseq)
                    modseqs = xreallocarray(modseqs, cap, sizeof(*modseqs));
            }
            matches[n] = uid ? mc.rec.uid : seq;
            if (modseqs != NULL)
                modseqs[n] = mc.rec.modseq;
            n++;
        }
        msg_release(&mc);
    }
    mailbox_unlock(run.mb);
    if (prog->ret.modseq)
        *highestmodseq_r = reported_modseq(prog, modseqs, n);
    for (i = 0; i < prog->nslots; i++)
        seqset_free(&run.slots[i].set);
    free(run.slots);
    free(modseqs);
    buf_free(&mc.body);
    buf_free(&mc.head);
    buf_free(&run.tmp);
    buf_free(&run.tmp2);
    buf_free(&run.fold);
    *matches_r = matches;
    *n_r = n;
    return 0;
}
