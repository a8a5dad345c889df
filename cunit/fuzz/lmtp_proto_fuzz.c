/* lmtp_proto_fuzz.c: libFuzzer target for imap/lmtp_proto.c.
 *
 * Each input line goes through the command splitter, the MAIL and RCPT
 * parsers, the recipient splitter, the DATA unstuffer and the reply
 * parser. The whole input, stuffed as a client sends DATA and unstuffed
 * line by line as the server reads it, must come back as the input with
 * CRLF line ends. */
/* FUZZ_SOURCES: imap/lmtp_proto.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lmtp_proto.h"

static void
one_line(const char *line, size_t len, struct lmtp_path *path,
         struct lmtp_rcpt *rcpt, struct lmtp_reply *reply)
{
    const char *arg, *err, *out;
    size_t arglen, outlen;

    lmtp_command_parse(line, len, &arg, &arglen);
    if (arg < line || arg + arglen != line + len)
        abort();
    if (lmtp_parse_mail(line, len, path, &err) == 0
        || lmtp_parse_rcpt(line, len, path, &err) == 0) {
        lmtp_rcpt_split(buf_base(&path->addr), buf_len(&path->addr),
                        LMTP_RCPT_DOWNCASE, rcpt, &err);
    }
    lmtp_rcpt_split(line, len, LMTP_RCPT_STRICT, rcpt, &err);
    if (lmtp_data_line(line, len, &out, &outlen) == 0 && outlen > len)
        abort();
    if (lmtp_reply_feed(reply, line, len) < 0) {
        /* a client drops the connection here; start over */
        lmtp_reply_fini(reply);
        lmtp_reply_init(reply);
    }
    (void)lmtp_error_for_reply(reply->code, reply->enhanced);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    struct lmtp_path path;
    struct lmtp_rcpt rcpt;
    struct lmtp_reply reply;
    struct buf stuffed = BUF_INITIALIZER, back = BUF_INITIALIZER;
    struct buf expect = BUF_INITIALIZER;
    size_t i = 0;
    int ended = 0;

    lmtp_path_init(&path);
    lmtp_rcpt_init(&rcpt);
    lmtp_reply_init(&reply);
    while (i < size) {
        const char *nl = memchr(p + i, '\n', size - i);
        size_t end = nl ? (size_t)(nl - p) : size;
        size_t len = end - i;

        if (len > 0 && p[end - 1] == '\r' && nl)
            len--;
        one_line(p + i, len, &path, &rcpt, &reply);
        buf_appendmap(&expect, p + i, len);
        buf_appendmap(&expect, "\r\n", 2);
        i = nl ? end + 1 : size;
    }

    /* stuff then unstuff: the round trip is exact */
    lmtp_data_stuff(p, size, &stuffed);
    i = 0;
    while (i < buf_len(&stuffed)) {
        const char *s = buf_base(&stuffed);
        const char *nl = memchr(s + i, '\n', buf_len(&stuffed) - i);
        const char *out;
        size_t outlen;

        if (nl == NULL || nl == s + i || nl[-1] != '\r' || ended)
            abort();
        if (lmtp_data_line(s + i, (size_t)(nl - 1 - (s + i)), &out, &outlen))
            ended = 1;
        else {
            buf_appendmap(&back, out, outlen);
            buf_appendmap(&back, "\r\n", 2);
        }
        i = (size_t)(nl - s) + 1;
    }
    if (!ended || buf_cmp(&back, &expect) != 0)
        abort();

    /* the chunked decoder agrees with the line-based one, however the
     * stuffed text is split (chunk sizes taken from the input) */
    {
        struct lmtp_unstuff u;
        struct buf chunked = BUF_INITIALIZER;
        size_t off = 0, k = 0, total = buf_len(&stuffed);
        int done = 0;

        lmtp_unstuff_init(&u);
        while (off < total && !done) {
            size_t n = size ? (size_t)data[k++ % size] % 17 + 1 : total;

            if (n > total - off)
                n = total - off;
            off += lmtp_unstuff_feed(&u, buf_base(&stuffed) + off, n, &chunked,
                                     &done);
        }
        if (!done || off != total || buf_cmp(&chunked, &expect) != 0)
            abort();
        /* raw input: never consumes more than given */
        buf_reset(&chunked);
        lmtp_unstuff_init(&u);
        if (lmtp_unstuff_feed(&u, p, size, &chunked, &done) > size)
            abort();
        buf_free(&chunked);
    }

    buf_free(&stuffed);
    buf_free(&back);
    buf_free(&expect);
    lmtp_reply_fini(&reply);
    lmtp_rcpt_fini(&rcpt);
    lmtp_path_fini(&path);
    return 0;
}
