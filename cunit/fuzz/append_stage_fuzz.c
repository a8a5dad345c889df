/* append_stage_fuzz.c: libFuzzer target for staging a message
 * (imap/append_stage.c). The first two bytes choose a size limit and a
 * chunking seed; the rest is the message, fed in pseudo-random chunks.
 * Requires: NUL -> ERR_BADMSG; stored size over the limit -> ERR_TOOBIG;
 * otherwise the stored bytes equal msgheader_crlf() of the whole input
 * (chunk boundaries never change the result), the size and header size
 * agree, and the cache record decodes. */
/* clang-format off */
/* FUZZ_SOURCES: imap/append_stage.c imap/bodystructure.c imap/envelope.c imap/imapquote.c imap/maildate.c imap/message.c imap/message_section.c imap/mimeheader.c imap/msgaddr.c imap/msgcache.c imap/msgheader.c */
/* clang-format on */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "append.h"
#include "buf.h"
#include "errors.h"
#include "msgcache.h"
#include "msgheader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)  \
    do {             \
        if (!(cond)) \
            abort(); \
    } while (0)

static char stagedir[64];

static void
cleanup(void)
{
    rmdir(stagedir);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct append_stage *st = NULL;
    struct buf want = BUF_INITIALIZER;
    const char *msg, *stored;
    size_t len, off = 0, storedlen;
    uint64_t maxsize;
    unsigned seed;
    int r, expect = 0;

    if (stagedir[0] == '\0') {
        snprintf(stagedir, sizeof(stagedir), "/tmp/append_stage_fuzz.%ld",
                 (long)getpid());
        atexit(cleanup);
    }
    if (size < 2)
        return 0;
    maxsize = data[0] == 0 ? 0 : (uint64_t)data[0] * 16;
    seed = data[1];
    msg = (const char *)data + 2;
    len = size - 2;
    msgheader_crlf(msg, len, &want);
    if (memchr(msg, '\0', len) != NULL)
        expect = ERR_BADMSG;
    CHECK(append_stage_new(stagedir, maxsize, &st) == 0);
    r = 0;
    while (off < len) {
        size_t n;

        seed = seed * 1103515245u + 12345u;
        n = 1 + (seed >> 16) % 64;
        if (n > len - off)
            n = len - off;
        r = append_stage_write(st, msg + off, n);
        off += n;
        if (r)
            break;
    }
    if (r == 0)
        r = append_stage_finish(st);
    if (expect == ERR_BADMSG) {
        /* unless the limit was hit first, before the NUL */
        CHECK(r == ERR_BADMSG || r == ERR_TOOBIG);
    } else if (maxsize && buf_len(&want) > maxsize) {
        CHECK(r == ERR_TOOBIG);
    } else {
        struct message *m = NULL;
        const char *p;
        size_t plen;

        CHECK(r == 0);
        stored = append_stage_data(st, &storedlen);
        CHECK(storedlen == buf_len(&want));
        CHECK(memcmp(stored, buf_base(&want), storedlen) == 0);
        CHECK(append_stage_size(st) == storedlen);
        CHECK(append_stage_header_size(st)
              == msgheader_size(stored, storedlen));
        /* the cache record the store keeps must decode */
        {
            struct buf cache = BUF_INITIALIZER;

            msgcache_encode(append_stage_message(st), &cache);
            p = buf_base(&cache);
            plen = buf_len(&cache);
            CHECK(msgcache_decode(p, plen, &m) == 0);
            CHECK(message_size(m) == storedlen);
            message_free(&m);
            buf_free(&cache);
        }
    }
    append_stage_free(&st);
    buf_free(&want);
    return 0;
}
