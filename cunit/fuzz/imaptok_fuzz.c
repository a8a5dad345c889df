/* imaptok_fuzz.c: libFuzzer target for lib/imaptok.c (and lib/seqset.c).
 *
 * The input is one command: a tag, a name, then FETCH/SEARCH-like
 * arguments, each read by whichever token function its first byte
 * suggests. Every function must either advance the cursor or leave it
 * where it was with a reason. Each value read is also written back with
 * the output helpers and must read back the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imaptok.h"
#include "seqset.h"

/* A failed call must not move the cursor and must say why. */
#define TRY(t, call) tok_check((t), imaptok_pos(t), (call))

static int
tok_check(struct imaptok *t, size_t before, int r)
{
    if (r < 0) {
        if (imaptok_pos(t) != before || imaptok_error(t)[0] == '\0')
            abort();
    } else if (r != 0 || imaptok_pos(t) < before) {
        abort();
    }
    return r;
}

/* What astring_out/nstring_out write must read back unchanged. */
static void
roundtrip(const char *p, size_t len)
{
    struct buf out = BUF_INITIALIZER, back = BUF_INITIALIZER;
    struct imaptok t;
    struct imaptok_literal lit;
    int is_nil = 0;

    /* strings refuse NUL; raw bytes go as a literal */
    if (memchr(p, '\0', len) != NULL) {
        imaptok_quote(&out, p, len);
        imaptok_init(&t, buf_base(&out), buf_len(&out));
        if (imaptok_literal(&t, &lit) < 0 || lit.len != len
            || memcmp(lit.p, p, len) != 0 || !imaptok_at_end(&t))
            abort();
        buf_free(&out);
        return;
    }
    imaptok_astring_out(&out, p, len);
    imaptok_init(&t, buf_base(&out), buf_len(&out));
    if (imaptok_astring(&t, &back) < 0 || !imaptok_at_end(&t)
        || buf_len(&back) != len || memcmp(buf_base(&back), p, len) != 0)
        abort();
    buf_reset(&out);
    imaptok_nstring_out(&out, p, len);
    imaptok_init(&t, buf_base(&out), buf_len(&out));
    if (imaptok_nstring(&t, &back, &is_nil) < 0 || is_nil
        || buf_len(&back) != len || memcmp(buf_base(&back), p, len) != 0)
        abort();
    buf_free(&out);
    buf_free(&back);
}

static void
check_seqset(struct seqset *s)
{
    struct buf out = BUF_INITIALIZER;
    struct seqset *again = NULL;
    uint32_t max = 17, n, prev = 0;
    uint64_t count = 0;

    seqset_format(s, &out);
    if (seqset_parse(buf_base(&out), buf_len(&out), &again, NULL) < 0)
        abort();
    /* iterate (bounded) in ascending order, members only */
    for (n = seqset_first(s, max); n && count < 1000;
         n = seqset_next(s, max, n)) {
        if (n <= prev || !seqset_contains(s, n, max)
            || !seqset_contains(again, n, max))
            abort();
        prev = n;
        count++;
    }
    if (count < 1000 && count != seqset_count(s, max))
        abort();
    seqset_normalize(again, max);
    if (seqset_count(again, max) != seqset_count(s, max)
        || seqset_first(again, 0) != seqset_first(s, max)
        || seqset_last(again, 0) != seqset_last(s, max))
        abort();
    seqset_free(&again);
    buf_free(&out);
}

static int arg(struct imaptok *t, struct buf *b, int depth);

/* "(" ... ")": a flag list, an astring list, or nested arguments. */
static int
arg_list(struct imaptok *t, struct buf *b, int depth)
{
    struct strarray sa = STRARRAY_INITIALIZER;
    int r;

    r = TRY(t, imaptok_flag_list(t, &sa));
    if (r < 0)
        r = TRY(t, imaptok_astring_list(t, &sa));
    strarray_fini(&sa);
    if (r == 0)
        return 0;
    if (depth > 8 || TRY(t, imaptok_lparen(t)) < 0)
        return -1;
    while (arg(t, b, depth + 1) == 0 && TRY(t, imaptok_sp(t)) == 0)
        ;
    return TRY(t, imaptok_rparen(t));
}

/* An atom, maybe with a FETCH section: BODY[HEADER.FIELDS (A B)]. */
static int
arg_atom(struct imaptok *t)
{
    struct strarray sa = STRARRAY_INITIALIZER;
    struct imaptok_span sp;

    if (TRY(t, imaptok_atom_ex(t, IMAPTOK_ATOM_STOP_LBRACKET, &sp)) < 0)
        return -1;
    if (TRY(t, imaptok_char(t, '[')) == 0) {
        TRY(t, imaptok_atom(t, &sp));
        if (TRY(t, imaptok_sp(t)) == 0)
            TRY(t, imaptok_astring_list(t, &sa));
        strarray_fini(&sa);
        TRY(t, imaptok_char(t, ']'));
    }
    return 0;
}

static int
arg(struct imaptok *t, struct buf *b, int depth)
{
    struct imaptok_span sp;
    struct imaptok_literal lit;
    struct seqset *set = NULL;
    struct tm tm;
    time_t when;
    uint64_t n64;
    int c = imaptok_peek(t), is_nil, off;

    if (c == '(')
        return arg_list(t, b, depth);
    if (c == '"') {
        if (TRY(t, imaptok_datetime(t, &when, &off)) == 0
            || TRY(t, imaptok_date(t, &tm)) == 0)
            return 0;
        if (TRY(t, imaptok_quoted(t, b)) < 0)
            return -1;
        roundtrip(buf_base(b), buf_len(b));
        return 0;
    }
    if (c == '{' || c == '~') {
        if (TRY(t, imaptok_literal(t, &lit)) < 0)
            return -1;
        if (lit.p != NULL)
            roundtrip(lit.p, (size_t)lit.len);
        return 0;
    }
    if ((c >= '0' && c <= '9') || c == '*') {
        if (TRY(t, imaptok_date(t, &tm)) == 0)
            return 0;
        if (TRY(t, imaptok_seqset(t, &set)) == 0) {
            check_seqset(set);
            seqset_free(&set);
            return 0;
        }
        return TRY(t, imaptok_number64(t, &n64));
    }
    if (c == '\\')
        return TRY(t, imaptok_flag(t, &sp));
    if (TRY(t, imaptok_nstring(t, b, &is_nil)) == 0)
        return 0;
    if (arg_atom(t) == 0)
        return 0;
    return TRY(t, imaptok_list_mailbox(t, b));
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    struct imaptok t;
    struct imaptok_span tag, name;
    struct buf b = BUF_INITIALIZER;

    imaptok_init(&t, (const char *)d, n);
    if (TRY(&t, imaptok_tag(&t, &tag)) < 0 || TRY(&t, imaptok_sp(&t)) < 0)
        return 0;
    if (TRY(&t, imaptok_keyword(&t, "UID")) == 0)
        TRY(&t, imaptok_sp(&t));
    if (TRY(&t, imaptok_atom(&t, &name)) < 0)
        return 0;
    while (TRY(&t, imaptok_sp(&t)) == 0) {
        if (arg(&t, &b, 0) < 0)
            break;
    }
    TRY(&t, imaptok_end(&t));
    buf_free(&b);
    return 0;
}
