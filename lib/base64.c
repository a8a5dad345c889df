/* base64.c: RFC 4648 base64 (see base64.h). */
#include <stdint.h>

#include "base64.h"
#include "errors.h"
#include "util.h"

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void
base64_encode(const void *data, size_t len, struct buf *out)
{
    const unsigned char *p = data;
    char quad[4];
    size_t i;

    ASSERT(len <= SIZE_MAX / 4 * 3 - 2);
    buf_ensure(out, (len + 2) / 3 * 4);
    for (i = 0; i + 3 <= len; i += 3) {
        unsigned long v =
            (unsigned long)p[i] << 16 | (unsigned long)p[i + 1] << 8 | p[i + 2];

        quad[0] = b64_alphabet[(v >> 18) & 63];
        quad[1] = b64_alphabet[(v >> 12) & 63];
        quad[2] = b64_alphabet[(v >> 6) & 63];
        quad[3] = b64_alphabet[v & 63];
        buf_appendmap(out, quad, 4);
    }
    if (i < len) {
        unsigned long v = (unsigned long)p[i] << 16;

        if (i + 1 < len)
            v |= (unsigned long)p[i + 1] << 8;
        quad[0] = b64_alphabet[(v >> 18) & 63];
        quad[1] = b64_alphabet[(v >> 12) & 63];
        quad[2] = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
        quad[3] = '=';
        buf_appendmap(out, quad, 4);
    }
}

int
base64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int
base64_decode(const char *in, size_t len, struct buf *out)
{
    size_t start = buf_len(out), i;

    if (len % 4 != 0)
        return ERR_SYNTAX;
    buf_ensure(out, len / 4 * 3);
    for (i = 0; i < len; i += 4) {
        unsigned long v = 0;
        int j, pad = 0;
        char bytes[3];

        for (j = 0; j < 4; j++) {
            int d;

            if (in[i + j] == '=') {
                /* padding only in the last quantum, and only its last
                 * one or two characters */
                if (i + 4 != len || j < 2)
                    goto bad;
                pad++;
                d = 0;
            } else {
                d = base64_value((unsigned char)in[i + j]);
                if (d < 0 || pad > 0)
                    goto bad;
            }
            v = v << 6 | (unsigned long)d;
        }
        /* canonical encodings only: the bits padding hides are zero */
        if ((pad == 1 && (v & 0xff) != 0) || (pad == 2 && (v & 0xffff) != 0))
            goto bad;
        bytes[0] = (char)(v >> 16);
        bytes[1] = (char)(v >> 8);
        bytes[2] = (char)v;
        buf_appendmap(out, bytes, (size_t)(3 - pad));
    }
    return 0;
bad:
    buf_truncate(out, start);
    return ERR_SYNTAX;
}
