/* FUZZ_SOURCES: mupdate/mupdate_proto.c */
/* mupdate_proto_fuzz.c: the MUPDATE parser of mupdate/mupdate_proto.c.
 *
 * Properties: feeding the input whole or split at a point chosen by the
 * first byte gives the same sequence of results; every call consumes
 * bytes or finishes a unit (no livelock); a parsed unit re-written with
 * the writers parses back to the same strings. */
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "mupdate_proto.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_roundtrip(const struct mupdate_parser *p)
{
    struct mupdate_parser *q = mupdate_parser_new(NULL);
    struct buf out = BUF_INITIALIZER;
    size_t i, n = mupdate_parser_nargs(p), used;

    buf_printf(&out, "%s %s", mupdate_parser_tag(p), mupdate_parser_word(p));
    for (i = 0; i < n; i++) {
        size_t len;
        const char *a = mupdate_parser_arg(p, i, &len);

        buf_putc(&out, ' ');
        mupdate_write_literal(&out, a, len);
    }
    buf_appendcstr(&out, "\r\n");
    ASSERT(mupdate_parser_feed(q, buf_base(&out), buf_len(&out), &used)
           == MUPDATE_PARSE_DONE);
    ASSERT(used == buf_len(&out));
    ASSERT(mupdate_parser_nargs(q) == n);
    for (i = 0; i < n; i++) {
        size_t l1, l2;
        const char *a = mupdate_parser_arg(p, i, &l1);
        const char *b = mupdate_parser_arg(q, i, &l2);

        ASSERT(l1 == l2 && memcmp(a, b, l1) == 0);
    }
    mupdate_parser_free(&q);
    buf_free(&out);
}

/* Run the parser over data in chunks of at most chunk bytes; record the
 * results in res (up to 64). Returns how many. */
static size_t
run(const char *data, size_t size, size_t chunk, int *res, int roundtrip)
{
    struct mupdate_limits lim = {16, 512, 300, 8};
    struct mupdate_parser *p = mupdate_parser_new(&lim);
    size_t off = 0, nres = 0;

    while (off < size) {
        size_t n = size - off < chunk ? size - off : chunk, used;
        enum mupdate_parse r = mupdate_parser_feed(p, data + off, n, &used);

        ASSERT(used <= n);
        ASSERT(used > 0 || r != MUPDATE_PARSE_MORE || n == 0);
        off += used;
        if (r != MUPDATE_PARSE_MORE && nres < 64)
            res[nres++] = (int)r;
        if (r == MUPDATE_PARSE_DONE && roundtrip)
            check_roundtrip(p);
        if (r == MUPDATE_PARSE_ERROR)
            ASSERT(*mupdate_parser_error(p) != '\0');
    }
    mupdate_parser_free(&p);
    return nres;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int a[64], b[64];
    size_t na, nb, chunk;

    if (size < 1)
        return 0;
    chunk = (size_t)data[0] % 17 + 1;
    na = run((const char *)data + 1, size - 1, size, a, 1);
    nb = run((const char *)data + 1, size - 1, chunk, b, 0);
    ASSERT(na == nb);
    ASSERT(memcmp(a, b, na * sizeof(int)) == 0);
    return 0;
}
