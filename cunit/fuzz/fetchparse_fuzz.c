/* fetchparse_fuzz.c: libFuzzer target for the FETCH and STORE argument
 * parsers (imap/fetch_parse.c, store_parse() in imap/store.c).
 *
 * The first byte picks the parser and UID or not; the rest is the
 * argument text. A parse either succeeds with consistent arguments or
 * fails with a reason; it never crashes or leaks. */
/* FUZZ_SOURCES: imap/fetch_parse.c imap/store.c imap/index.c imap/mailbox.c imap/mailbox_sync.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "fetch.h"
#include "imaptok.h"
#include "store.h"

static void
check_fetch(const struct fetch_args *a)
{
    size_t i;

    if (a->set == NULL)
        abort();
    for (i = 0; i < a->nsections; i++) {
        const struct fetch_section *s = &a->sections[i];

        if (s->name == NULL || s->nparts > FETCH_MAX_PART_DEPTH)
            abort();
        if ((s->kind == FETCH_SECTION_FIELDS) != (s->fields.count > 0))
            abort();
        if (s->partial && s->count == 0)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct imaptok t;
    const char *err = NULL;
    int uid, r;

    if (size < 1)
        return 0;
    uid = data[0] & 1;
    imaptok_init(&t, (const char *)data + 1, size - 1);
    if (data[0] & 2) {
        struct store_args a;

        r = store_parse(&t, uid, &a, &err);
        if (r == 0 && (a.set == NULL || a.op > STORE_REMOVE))
            abort();
        store_args_fini(&a);
    } else {
        struct fetch_args a;

        r = fetch_parse(&t, uid, &a, &err);
        if (r == 0)
            check_fetch(&a);
        fetch_args_fini(&a);
    }
    if (r != 0 && (r != ERR_SYNTAX || err == NULL || err[0] == '\0'))
        abort();
    return 0;
}
