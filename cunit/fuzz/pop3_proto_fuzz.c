/* pop3_proto_fuzz.c: libFuzzer target for imap/pop3_proto.c.
 *
 * Every input line goes through the command parser (argument spans must
 * lie inside the line) and the number parser; the whole input through
 * the RETR/TOP stuffer, whose output must be CRLF lines ending in a lone
 * "." line, with no other line starting with a single dot. */
/* FUZZ_SOURCES: imap/pop3_proto.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pop3_proto.h"

static void
check_stuffed(const struct buf *b)
{
    const char *s = buf_base(b);
    size_t len = buf_len(b), i = 0;

    if (len < 3 || memcmp(s + len - 3, ".\r\n", 3) != 0)
        abort();
    while (i < len - 3) {
        const char *nl = memchr(s + i, '\n', len - 3 - i);

        if (nl == NULL || nl == s + i || nl[-1] != '\r')
            abort();
        if (s[i] == '.' && s[i + 1] != '.')
            abort();
        i = (size_t)(nl - s) + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    struct buf out = BUF_INITIALIZER;
    size_t i = 0;

    while (i < size) {
        const char *nl = memchr(p + i, '\n', size - i);
        size_t end = nl ? (size_t)(nl - p) : size;
        struct pop3_command cmd;
        const char *err;
        uint32_t n;
        int a;

        if (pop3_command_parse(p + i, end - i, &cmd, &err) == 0) {
            for (a = 0; a < cmd.nargs; a++) {
                if (cmd.arg[a] < p + i || cmd.arg[a] + cmd.arglen[a] > p + end)
                    abort();
                if (pop3_parse_number(cmd.arg[a], cmd.arglen[a], 1000, 1, &n)
                        == 0
                    && n > 1000)
                    abort();
            }
        }
        i = nl ? end + 1 : size;
    }
    pop3_stuff_message(p, size, -1, &out);
    check_stuffed(&out);
    buf_reset(&out);
    pop3_stuff_message(p, size, size > 0 ? data[0] % 4 : 0, &out);
    check_stuffed(&out);
    buf_free(&out);
    return 0;
}
