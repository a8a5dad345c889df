/* stream_fuzz.c: line splitting of lib/stream against a reference.
 *
 * Input: byte 0 picks the line limit (1..64), byte 1 seeds the chunking
 * and bit 7 of byte 1 feeds the rest through a DEFLATE stream instead
 * (then only crash-freedom is checked: arbitrary bytes are mostly not
 * valid deflate). The rest is sent over a socketpair in random chunks
 * to a non-blocking stream; the lines and ERR_TOOLONG reports must match
 * what a trivial splitter computes from the whole input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "errors.h"
#include "stream.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Expected events: each line as "L<bytes>\n"-free record in a buf list,
 * encoded as (tag, len, bytes) to compare byte-exactly. */
static void
record(struct buf *out, char tag, const char *p, size_t len)
{
    buf_putc(out, tag);
    buf_appendmap(out, &len, sizeof(len));
    buf_appendmap(out, p, len);
}

static void
reference(const char *p, size_t len, size_t maxline, struct buf *out)
{
    size_t start = 0, i;

    for (i = 0; i < len; i++) {
        size_t n;

        if (p[i] != '\n')
            continue;
        n = i - start;
        if (n > 0 && p[i - 1] == '\r')
            n--;
        if (n > maxline)
            record(out, 'T', "", 0);
        else
            record(out, 'L', p + start, n);
        start = i + 1;
    }
}

static void
drain(struct stream *s, struct buf *out)
{
    for (;;) {
        const char *line;
        size_t len;
        ssize_t n;

        while ((line = stream_line(s, &len)) != NULL)
            record(out, 'L', line, len);
        n = stream_fill(s);
        if (n == ERR_TOOLONG) {
            record(out, 'T', "", 0);
            continue;
        }
        if (n <= 0)
            return;
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf want = BUF_INITIALIZER, got = BUF_INITIALIZER;
    struct stream *s;
    const char *p;
    size_t maxline, len, off = 0;
    unsigned seed;
    int sv[2], deflate;

    if (size < 2)
        return 0;
    maxline = 1 + data[0] % 64;
    seed = data[1];
    deflate = data[1] & 0x80;
    p = (const char *)data + 2;
    len = size - 2;
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        abort();
    s = stream_new(sv[0]);
    stream_set_nonblocking(s, 1);
    stream_set_maxline(s, maxline);
    if (deflate)
        stream_enable_deflate(s);
    while (off < len) {
        size_t n;

        seed = seed * 1103515245 + 12345;
        n = 1 + (seed >> 16) % 17;
        if (n > len - off)
            n = len - off;
        if (util_write_all(sv[1], p + off, n) < 0)
            abort();
        off += n;
        drain(s, &got);
    }
    close(sv[1]);
    drain(s, &got);
    if (!deflate) {
        reference(p, len, maxline, &want);
        /* a line cut by EOF may add one final report */
        if (buf_len(&got) == buf_len(&want) + 1 + sizeof(size_t)
            && buf_base(&got)[buf_len(&want)] == 'T')
            buf_truncate(&got, buf_len(&want));
        if (buf_cmp(&got, &want) != 0)
            abort();
    }
    stream_close(&s);
    buf_free(&want);
    buf_free(&got);
    return 0;
}
