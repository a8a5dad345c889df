/* charset_fuzz.c: modified UTF-7, RFC 2047 headers, body decodings,
 * charset conversion and search folding on arbitrary bytes.
 *
 * Checks the contracts of charset.h: valid mUTF-7 survives a round trip
 * through UTF-8, and every UTF-8 output is well formed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "charset.h"

static const char *const charsets[] = {
    "UTF-8",    "ISO-8859-1", "windows-1252", "UTF-16",
    "UTF-16LE", "Shift_JIS",  "ISO-2022-JP",  "EUC-KR",
    "GB18030",  "KOI8-R",     "UTF-7",        "x-unknown",
};

static void
must_be_utf8(const struct buf *b)
{
    if (!charset_utf8_valid(buf_base(b), buf_len(b)))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    struct buf a = BUF_INITIALIZER, b = BUF_INITIALIZER;
    struct charset_search *s;
    int valid;

    /* mUTF-7 -> UTF-8 -> mUTF-7 gives the input back */
    valid = charset_mutf7_valid(p, size);
    if ((charset_mutf7_to_utf8(p, size, &a) == 0) != valid)
        abort();
    if (valid) {
        must_be_utf8(&a);
        if (charset_utf8_to_mutf7(buf_base(&a), buf_len(&a), &b) != 0
            || buf_len(&b) != size || memcmp(buf_base(&b), p, size) != 0)
            abort();
    }
    buf_reset(&a);
    buf_reset(&b);
    /* UTF-8 -> mUTF-7 -> UTF-8 gives the input back */
    if (charset_utf8_to_mutf7(p, size, &a) == 0) {
        if (!charset_mutf7_valid(buf_base(&a), buf_len(&a))
            || charset_mutf7_to_utf8(buf_base(&a), buf_len(&a), &b) != 0
            || buf_len(&b) != size || memcmp(buf_base(&b), p, size) != 0)
            abort();
    }
    buf_reset(&a);
    buf_reset(&b);

    charset_decode_mimeheader(p, size, &a);
    must_be_utf8(&a);
    buf_reset(&a);
    charset_decode_base64(p, size, &a);
    if (buf_len(&a) > size)
        abort();
    buf_reset(&a);
    charset_decode_qp(p, size, &a);
    if (buf_len(&a) > size)
        abort();
    buf_reset(&a);
    if (size > 0) {
        const char *cs =
            charsets[data[0] % (sizeof(charsets) / sizeof(charsets[0]))];

        if (charset_to_utf8(cs, p + 1, size - 1, &a) == 0)
            must_be_utf8(&a);
        buf_reset(&a);
    }
    if (charset_fold(p, size, size ? data[0] & 3 : 0, &a) == 0)
        must_be_utf8(&a);
    s = charset_search_new(p, size < 4 ? size : 4, CHARSET_FOLD_MERGESPACE);
    /* folding is idempotent enough that the needle is in its own text */
    (void)charset_search_match(s, p, size);
    charset_search_match_folded(s, buf_base(&a), buf_len(&a));
    charset_search_free(&s);
    buf_free(&a);
    buf_free(&b);
    return 0;
}
