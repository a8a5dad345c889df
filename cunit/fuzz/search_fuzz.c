/* search_fuzz.c: libFuzzer target for imap/search_parse.c.
 *
 * The input is the argument text of a SEARCH command (after "SEARCH").
 * The first byte picks UID SEARCH. A parse must either succeed with a
 * program whose ESEARCH form formats, or fail with ERR_SYNTAX or
 * ERR_BADCHARSET and a reason; nothing may crash or leak, however deep
 * the nesting. */
/* FUZZ_SOURCES: imap/search.c imap/search_parse.c imap/envelope.c */
/* FUZZ_SOURCES: imap/msgaddr.c imap/imapquote.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "imaptok.h"
#include "search.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint32_t nums[] = {1, 2, 3, 7, 9};
    struct search_program *prog = NULL;
    struct search_return ret;
    struct imaptok t;
    struct buf out = BUF_INITIALIZER;
    const char *error = NULL;
    int uid, r;

    if (size == 0)
        return 0;
    uid = data[0] & 1;
    imaptok_init(&t, (const char *)data + 1, size - 1);
    r = search_parse(&t, uid, &prog, &ret, &error);
    if (r == 0) {
        if (prog == NULL || ret.uid != uid)
            abort();
        search_format(&ret, "f", nums, 5, ret.modseq ? 42 : 0, &out);
        if (buf_len(&out) < 10
            || memcmp(buf_base(&out) + buf_len(&out) - 2, "\r\n", 2) != 0)
            abort();
        search_program_free(&prog);
    } else if ((r != ERR_SYNTAX && r != ERR_BADCHARSET) || prog != NULL
               || error == NULL || error[0] == '\0') {
        abort();
    }
    buf_free(&out);
    return 0;
}
