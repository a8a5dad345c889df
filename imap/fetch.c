/* fetch.c: running a FETCH against the session's view (see fetch.h). */
#include <string.h>
#include <time.h>

#include "charset.h"
#include "errors.h"
#include "fetch.h"
#include "mailbox.h"
#include "message.h"
#include "message_section.h"
#include "msgcache.h"
#include "msgheader.h"
#include "xmalloc.h"

/* Everything known about the message being answered. */
struct msgctx {
    uint32_t seq;
    struct index_record rec;
    struct message *m; /* decoded cache record, or NULL */
    /* ENVELOPE, BODYSTRUCTURE, BODY: from m, or straight from the cache
     * record when nothing else of it is needed */
    struct msgcache_strings str;
    int have_str;
    const char *base;  /* mapped message file, or NULL */
    size_t len;
    struct buf scratch; /* filtered headers, decoded BINARY */
};

void
fetch_format_datetime(int64_t t, struct buf *out)
{
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr",
                                       "May", "Jun", "Jul", "Aug",
                                       "Sep", "Oct", "Nov", "Dec"};
    time_t tt = (time_t)t;
    struct tm tm;
    long off;

    if (localtime_r(&tt, &tm) == NULL) {
        tt = 0;
        gmtime_r(&tt, &tm);
        tm.tm_gmtoff = 0;
    }
    off = tm.tm_gmtoff / 60;
    buf_printf(out, "\"%2d-%s-%d %02d:%02d:%02d %c%02ld%02ld\"", tm.tm_mday,
               months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
               tm.tm_sec, off < 0 ? '-' : '+', (off < 0 ? -off : off) / 60,
               (off < 0 ? -off : off) % 60);
}

/* ---- literals, as Cyrus's index_fetchmsg() writes them ---- */

/* Append size bytes of data[offset..] (of a datalen-byte source) as a
 * literal, narrowed by the partial of s; "" when empty. A NUL makes it a
 * literal8 (RFC 3516). A source shorter than promised is padded with
 * spaces so the client stays in sync. */
static void
put_data(struct buf *out, const char *data, size_t datalen, uint64_t offset,
         uint64_t size, const struct fetch_section *s)
{
    uint64_t n;

    if (s != NULL && s->partial) {
        size = size <= s->start ? 0 : size - s->start;
        if (size > s->count)
            size = s->count;
        offset += s->start;
    }
    if (size == 0) {
        buf_appendcstr(out, "\"\"");
        return;
    }
    n = size;
    if (offset + size > datalen) {
        if (datalen <= offset) {
            buf_appendcstr(out, "\"\"");
            return;
        }
        n = datalen - offset;
    }
    buf_printf(out, "%s{%llu}\r\n",
               memchr(data + offset, '\0', (size_t)n) ? "~" : "",
               (unsigned long long)size);
    buf_appendmap(out, data + offset, (size_t)n);
    for (; n < size; n++)
        buf_putc(out, ' ');
}

/* ---- sections, resolved as Cyrus does ---- */

/* Walk the part numbers. *cur_r is NULL for the message itself (Cyrus's
 * message/rfc822 wrapper around the top), else the part. -1: no such
 * part (answered NIL). */
static int
walk_parts(const struct message *m, const struct fetch_section *s,
           const struct message_part **cur_r)
{
    const struct message_part *cur = NULL;
    size_t i;

    for (i = 0; i < s->nparts; i++) {
        const struct message_part *body;
        uint32_t n = s->parts[i];

        if (cur == NULL)
            body = message_root(m);
        else if (message_part_is_rfc822(cur) && message_part_count(cur) == 1)
            body = message_part_child(cur, 0);
        else if (message_part_is_multipart(cur) && message_part_count(cur))
            body = cur;
        else
            return -1;
        if (message_part_is_multipart(body) && message_part_count(body)) {
            if (n > message_part_count(body))
                return -1;
            cur = message_part_child(body, n - 1);
        } else {
            if (n != 1)
                return -1;
            cur = body;
        }
    }
    *cur_r = cur;
    return 0;
}

/* The message inside cur for HEADER/TEXT, or NULL. */
static const struct message_part *
inner_message(const struct message *m, const struct message_part *cur)
{
    if (cur == NULL)
        return message_root(m);
    if (message_part_is_rfc822(cur) && message_part_count(cur) == 1)
        return message_part_child(cur, 0);
    return NULL;
}

static void
put_section_label(struct buf *out, const struct fetch_section *s)
{
    static const char *const prefix[] = {"BODY[", "BODY[", "BINARY[",
                                         "BINARY.SIZE["};
    size_t i;

    buf_appendcstr(out, prefix[s->kind]);
    buf_appendcstr(out, s->name);
    if (s->kind == FETCH_SECTION_FIELDS) {
        buf_appendcstr(out, " (");
        for (i = 0; i < s->fields.count; i++) {
            if (i)
                buf_putc(out, ' ');
            imaptok_astring_out(out, s->fields.data[i],
                                strlen(s->fields.data[i]));
        }
        buf_putc(out, ')');
    }
    buf_putc(out, ']');
    if (s->partial)
        buf_printf(out, "<%u>", s->start);
    buf_putc(out, ' ');
}

/* HEADER.FIELDS[.NOT]: Cyrus takes the header of the part itself when it
 * is not a message/rfc822 one, and answers NIL for an empty header. */
static void
put_fields(struct msgctx *mc, const struct fetch_section *s, struct buf *out)
{
    const struct message_part *cur, *body;
    struct message_span h;
    struct buf *f = &mc->scratch;

    if (walk_parts(mc->m, s, &cur) < 0) {
        buf_appendcstr(out, "NIL");
        return;
    }
    body = cur == NULL ? message_root(mc->m) : cur;
    if (cur != NULL && message_part_is_rfc822(cur)
        && message_part_count(cur) == 1)
        body = message_part_child(cur, 0);
    h = message_part_header(body);
    if (h.len == 0) {
        buf_appendcstr(out, "NIL");
        return;
    }
    if (h.offset > mc->len)
        h.offset = h.len = 0;
    else if (h.len > mc->len - h.offset)
        h.len = mc->len - h.offset;
    buf_reset(f);
    msgheader_filter(mc->base + h.offset, (size_t)h.len, &s->fields,
                     s->text == FETCH_TEXT_FIELDS_NOT, f);
    if (s->partial) {
        struct message_span p =
            message_section_partial(buf_len(f), s->start, s->count);

        if (p.len == 0) {
            buf_appendcstr(out, "\"\"");
            return;
        }
        buf_printf(out, "{%llu}\r\n", (unsigned long long)p.len);
        buf_appendmap(out, buf_base(f) + p.offset, (size_t)p.len);
        return;
    }
    buf_printf(out, "{%zu}\r\n", buf_len(f));
    buf_appendbuf(out, f);
}

static void
put_body_section(struct msgctx *mc, const struct fetch_section *s,
                 struct buf *out)
{
    const struct message_part *cur, *inner;
    struct message_span sp;

    if (walk_parts(mc->m, s, &cur) < 0) {
        buf_appendcstr(out, "NIL");
        return;
    }
    switch (s->text) {
    case FETCH_TEXT_NONE:
        if (cur == NULL) {
            put_data(out, mc->base, mc->len, 0, mc->rec.size, s);
            return;
        }
        sp = message_part_content(cur);
        break;
    case FETCH_TEXT_MIME:
        sp = message_part_header(cur);
        break;
    default:
        inner = inner_message(mc->m, cur);
        if (inner == NULL) {
            buf_appendcstr(out, "NIL");
            return;
        }
        sp = s->text == FETCH_TEXT_HEADER ? message_part_header(inner)
                                          : message_part_content(inner);
        break;
    }
    put_data(out, mc->base, mc->len, sp.offset, sp.len, s);
}

/* Decode the content of cur into mc->scratch. 0 or ERR_UNKNOWNCTE. */
static int
decode_part(struct msgctx *mc, const struct message_part *cur,
            const char **data_r, size_t *len_r)
{
    struct message_span sp = message_part_content(cur);
    const char *enc = message_part_encoding(cur);

    if (sp.offset > mc->len || sp.len > mc->len - sp.offset)
        return ERR_IO;
    if (strcmp(enc, "BASE64") == 0) {
        buf_reset(&mc->scratch);
        charset_decode_base64(mc->base + sp.offset, (size_t)sp.len,
                              &mc->scratch);
    } else if (strcmp(enc, "QUOTED-PRINTABLE") == 0) {
        buf_reset(&mc->scratch);
        charset_decode_qp(mc->base + sp.offset, (size_t)sp.len, &mc->scratch);
    } else if (strcmp(enc, "7BIT") == 0 || strcmp(enc, "8BIT") == 0
               || strcmp(enc, "BINARY") == 0) {
        *data_r = mc->base + sp.offset;
        *len_r = (size_t)sp.len;
        return 0;
    } else {
        return ERR_UNKNOWNCTE;
    }
    *data_r = buf_base(&mc->scratch);
    *len_r = buf_len(&mc->scratch);
    return 0;
}

static int
put_binary_section(struct msgctx *mc, const struct fetch_section *s,
                   struct buf *out)
{
    const struct message_part *cur;
    const char *data;
    size_t len;
    int r;

    if (walk_parts(mc->m, s, &cur) < 0) {
        buf_appendcstr(out, s->kind == FETCH_SECTION_BINARY_SIZE ? "0" : "NIL");
        return 0;
    }
    if (cur == NULL) {
        /* BINARY[] is the whole message, undecoded */
        if (s->kind == FETCH_SECTION_BINARY_SIZE)
            buf_printf(out, "%llu", (unsigned long long)mc->rec.size);
        else
            put_data(out, mc->base, mc->len, 0, mc->rec.size, s);
        return 0;
    }
    r = decode_part(mc, cur, &data, &len);
    if (r < 0)
        return r;
    if (s->kind == FETCH_SECTION_BINARY_SIZE)
        buf_printf(out, "%zu", len);
    else
        put_data(out, data, len, 0, len, s);
    return 0;
}

/* ---- one message ---- */

static void
put_hex(struct buf *out, const uint8_t *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        buf_putc(out, hex[p[i] >> 4]);
        buf_putc(out, hex[p[i] & 15]);
    }
}

#define NEED_CACHE (FETCH_ENVELOPE | FETCH_BODYSTRUCTURE | FETCH_BODY)
#define NEED_FILE  (FETCH_RFC822 | FETCH_RFC822_HEADER | FETCH_RFC822_TEXT)

/* Item separator: "(" before the first item, " " after. */
#define SEP(out, n) buf_putc((out), (n)++ ? ' ' : '(')

static int
fetch_one(struct fetch_ctx *ctx, const struct fetch_args *args,
          struct msgctx *mc, struct buf *out)
{
    struct index_view *v = ctx->view;
    struct mailbox *mb = index_mailbox(v);
    const struct index_msg *im = index_msg(v, mc->seq);
    unsigned items = args->items;
    size_t start = buf_len(out), i;
    unsigned n = 0;
    int changed, r = 0, kind;

    mc->have_str = 0;
    if ((items & NEED_CACHE) || args->nsections) {
        const char *blob;
        size_t bloblen;

        /* items that need the record are left out if it is damaged, as
         * Cyrus does */
        if (mailbox_cache_blob(mb, &mc->rec, &blob, &bloblen) < 0)
            mc->m = NULL;
        else if (args->nsections == 0)
            mc->have_str = msgcache_strings(blob, bloblen, &mc->str) == 0;
        else if (msgcache_decode(blob, bloblen, &mc->m) < 0)
            mc->m = NULL;
    }
    if (mc->m) {
        mc->have_str = 1;
        mc->str.envelope = message_envelope(mc->m);
        mc->str.envelope_len = strlen(mc->str.envelope);
        mc->str.bodystructure = message_bodystructure(mc->m);
        mc->str.bodystructure_len = strlen(mc->str.bodystructure);
        mc->str.body = message_body(mc->m);
        mc->str.body_len = strlen(mc->str.body);
    }
    if ((items & NEED_FILE) || (args->nsections && mc->m)) {
        if (mailbox_map_message(mb, mc->rec.uid, &mc->base, &mc->len) < 0) {
            mc->base = NULL;
            buf_printf(out, "* OK Message %u no longer exists\r\n", mc->seq);
            return 0;
        }
    }
    buf_printf(out, "* %u FETCH ", mc->seq);
    changed = mc->rec.modseq > im->told_modseq || im->seen_untold;
    if ((items & FETCH_FLAGS) || changed) {
        SEP(out, n);
        buf_appendcstr(out, "FLAGS ");
        index_format_flags(v, &mc->rec, im->recent, out);
        index_told(v, mc->seq, mc->rec.modseq);
    }
    if ((items & FETCH_UID) || (changed && ctx->qresync)) {
        SEP(out, n);
        buf_printf(out, "UID %u", mc->rec.uid);
    }
    if (items & FETCH_DIGEST_SHA1) {
        SEP(out, n);
        buf_appendcstr(out, "DIGEST.SHA1 ");
        put_hex(out, mc->rec.guid, sizeof(mc->rec.guid));
    }
    if (items & FETCH_INTERNALDATE) {
        SEP(out, n);
        buf_appendcstr(out, "INTERNALDATE ");
        fetch_format_datetime(mc->rec.internaldate, out);
    }
    if ((items & FETCH_MODSEQ) || (changed && ctx->condstore)) {
        SEP(out, n);
        buf_printf(out, "MODSEQ (%llu)", (unsigned long long)mc->rec.modseq);
    }
    if (items & FETCH_SIZE) {
        SEP(out, n);
        buf_printf(out, "RFC822.SIZE %llu", (unsigned long long)mc->rec.size);
    }
    if (items & FETCH_EMAILID) {
        SEP(out, n);
        buf_appendcstr(out, "EMAILID (M");
        put_hex(out, mc->rec.guid, 12);
        buf_putc(out, ')');
    }
    if (items & FETCH_THREADID) {
        SEP(out, n);
        buf_appendcstr(out, "THREADID (NIL)");
    }
    if (items & FETCH_SAVEDATE) {
        SEP(out, n);
        buf_appendcstr(out, "SAVEDATE ");
        fetch_format_datetime(
            mc->rec.savedate ? mc->rec.savedate : mc->rec.internaldate, out);
    }
    if ((items & FETCH_ENVELOPE) && mc->have_str) {
        SEP(out, n);
        buf_appendcstr(out, "ENVELOPE ");
        buf_appendmap(out, mc->str.envelope, mc->str.envelope_len);
    }
    if ((items & FETCH_BODYSTRUCTURE) && mc->have_str) {
        SEP(out, n);
        buf_appendcstr(out, "BODYSTRUCTURE ");
        buf_appendmap(out, mc->str.bodystructure, mc->str.bodystructure_len);
    }
    if ((items & FETCH_BODY) && mc->have_str) {
        SEP(out, n);
        buf_appendcstr(out, "BODY ");
        buf_appendmap(out, mc->str.body, mc->str.body_len);
    }
    if (items & (FETCH_RFC822_HEADER | FETCH_RFC822_TEXT)) {
        uint64_t hs = mc->rec.header_size;

        if (hs == 0 || hs > mc->rec.size)
            hs = msgheader_size(mc->base, mc->len);
        if (items & FETCH_RFC822_HEADER) {
            SEP(out, n);
            buf_appendcstr(out, "RFC822.HEADER ");
            put_data(out, mc->base, mc->len, 0, hs, NULL);
        }
        if (items & FETCH_RFC822_TEXT) {
            SEP(out, n);
            buf_appendcstr(out, "RFC822.TEXT ");
            put_data(out, mc->base, mc->len, hs,
                     mc->rec.size > hs ? mc->rec.size - hs : 0, NULL);
        }
    }
    if (items & FETCH_RFC822) {
        SEP(out, n);
        buf_appendcstr(out, "RFC822 ");
        put_data(out, mc->base, mc->len, 0, mc->rec.size, NULL);
    }
    /* sections: header fields first, then bodies, binaries, sizes */
    for (kind = FETCH_SECTION_FIELDS;
         mc->m && kind <= FETCH_SECTION_BINARY_SIZE; kind++) {
        for (i = 0; i < args->nsections; i++) {
            const struct fetch_section *s = &args->sections[i];

            if ((int)s->kind != kind)
                continue;
            SEP(out, n);
            put_section_label(out, s);
            if (kind == FETCH_SECTION_FIELDS)
                put_fields(mc, s, out);
            else if (kind == FETCH_SECTION_BODY)
                put_body_section(mc, s, out);
            else if ((r = put_binary_section(mc, s, out)) < 0)
                return r;
        }
    }
    if (n == 0)
        buf_truncate(out, start);
    else
        buf_appendcstr(out, ")\r\n");
    return 0;
}

/* ---- the set ---- */

/* The sequence numbers to answer, ascending. */
static uint32_t *
target_seqs(struct index_view *v, const struct fetch_args *args, size_t *n_r)
{
    uint32_t count = index_count(v), seq, *seqs;
    struct seqset *set = seqset_dup(args->set);
    size_t n = 0;

    seqs = xmalloc(((size_t)count + 1) * sizeof(*seqs));
    if (args->uid) {
        uint32_t max = index_max_uid(v);

        seqset_normalize(set, max);
        for (seq = 1; seq <= count; seq++) {
            if (seqset_contains(set, index_seq_to_uid(v, seq), max))
                seqs[n++] = seq;
        }
    } else {
        seqset_normalize(set, count);
        for (seq = seqset_first(set, count); seq && seq <= count;
             seq = seqset_next(set, count, seq))
            seqs[n++] = seq;
    }
    seqset_free(&set);
    *n_r = n;
    return seqs;
}

/* Set \Seen on the targets (exclusive lock, one commit). */
static int
set_seen(struct index_view *v, const uint32_t *seqs, size_t n, int *count_r)
{
    struct mailbox *mb = index_mailbox(v);
    size_t i;
    int r, count = 0;

    if (index_userseen_enabled(v)) {
        /* per-user \Seen: the view's set, saved by the caller */
        for (i = 0; i < n; i++)
            count += index_userseen_set(v, seqs[i], 1);
        *count_r = count;
        return 0;
    }
    r = mailbox_lock(mb, MAILBOX_EXCLUSIVE);
    if (r < 0)
        return r;
    for (i = 0; i < n; i++) {
        struct index_record rec;
        long idx = mailbox_find_uid(mb, index_seq_to_uid(v, seqs[i]));

        if (idx < 0 || mailbox_read_record(mb, (uint32_t)idx, &rec) < 0)
            continue;
        if (rec.system_flags & (FLAG_SEEN | FLAG_INT_EXPUNGED))
            continue;
        rec.system_flags |= FLAG_SEEN;
        r = mailbox_rewrite_record(mb, (uint32_t)idx, &rec);
        if (r < 0)
            break;
        count++;
    }
    if (r == 0)
        r = mailbox_commit(mb);
    mailbox_unlock(mb);
    *count_r = r == 0 ? count : 0;
    return r;
}

/* Whether no message can fail the command, so that responses may be
 * sent before the end: only BINARY decoding fails (UNKNOWN-CTE). */
static int
may_stream(const struct fetch_args *args)
{
    size_t i;

    for (i = 0; i < args->nsections; i++) {
        if (args->sections[i].kind == FETCH_SECTION_BINARY
            || args->sections[i].kind == FETCH_SECTION_BINARY_SIZE)
            return 0;
    }
    return 1;
}

int
fetch_run(struct fetch_ctx *ctx, const struct fetch_args *args, struct buf *out,
          int *seen_changed_r)
{
    struct index_view *v = ctx->view;
    struct mailbox *mb = index_mailbox(v);
    size_t n, i, start = buf_len(out);
    uint32_t *seqs = target_seqs(v, args, &n);
    struct msgctx mc;
    int r = 0, seen = 0, locked = 0;
    int stream = ctx->flush_cb != NULL && may_stream(args);

    memset(&mc, 0, sizeof(mc));
    if (n > 0 && (args->items & FETCH_SETSEEN) && ctx->may_set_seen
        && !index_readonly(v))
        r = set_seen(v, seqs, n, &seen);
    if (r == 0 && n > 0) {
        r = mailbox_lock(mb, MAILBOX_SHARED);
        locked = r == 0;
    }
    for (i = 0; r == 0 && i < n; i++) {
        long idx;

        mc.seq = seqs[i];
        idx = mailbox_find_uid(mb, index_seq_to_uid(v, mc.seq));
        if (idx < 0 || mailbox_read_record(mb, (uint32_t)idx, &mc.rec) < 0)
            continue; /* gone: skipped, as Cyrus */
        index_apply_seen(v, &mc.rec);
        if (args->has_changedsince && mc.rec.modseq <= args->changedsince)
            continue;
        r = fetch_one(ctx, args, &mc, out);
        message_free(&mc.m);
        if (mc.base)
            mailbox_unmap_message(mc.base, mc.len);
        mc.base = NULL;
        mc.len = 0;
        if (stream && r == 0 && buf_len(out) >= FETCH_FLUSH_BYTES) {
            ctx->flush_cb(out, ctx->cb_ctx);
            start = 0; /* the caller emptied out */
        }
    }
    if (locked)
        mailbox_unlock(mb);
    buf_free(&mc.scratch);
    free(seqs);
    if (r < 0)
        buf_truncate(out, start);
    if (seen_changed_r)
        *seen_changed_r = seen;
    return r;
}
