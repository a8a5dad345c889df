/* saslglue_fuzz.c: the strict base64 decoder of lib/saslglue.c.
 *
 * Property: whatever decodes must re-encode to exactly the input (strict
 * decoding accepts canonical encodings only), and whatever encodes must
 * decode back to the same bytes. */
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "errors.h"
#include "saslglue.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf dec = BUF_INITIALIZER, enc = BUF_INITIALIZER;

    buf_setcstr(&dec, "pre");
    if (saslglue_b64_decode((const char *)data, size, &dec) == 0) {
        saslglue_b64_encode(buf_base(&dec) + 3, buf_len(&dec) - 3, &enc);
        ASSERT(buf_len(&enc) == size);
        ASSERT(memcmp(buf_base(&enc), data, size) == 0);
    } else {
        ASSERT(buf_len(&dec) == 3); /* failure restores the buffer */
    }
    buf_reset(&enc);
    buf_reset(&dec);
    saslglue_b64_encode(data, size, &enc);
    ASSERT(saslglue_b64_decode(buf_base(&enc), buf_len(&enc), &dec) == 0);
    ASSERT(buf_len(&dec) == size);
    ASSERT(size == 0 || memcmp(buf_base(&dec), data, size) == 0);
    buf_free(&dec);
    buf_free(&enc);
    return 0;
}
