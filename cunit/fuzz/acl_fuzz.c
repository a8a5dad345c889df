/* acl_fuzz.c: libFuzzer target for lib/acl.c.
 *
 * The input is a Cyrus ACL string (first byte: deleteright). A parsed ACL
 * must format to a string that parses to the same ACL; rights from the
 * acl and straight from the string must agree; rights letters must
 * round-trip; SETACL edits must keep the ACL well formed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"

static const char *const users[] = {
    NULL, "anonymous", "fred", "anyone", "group:staff", "-fred", "a"};

static void
same_acl(const struct acl *a, const struct acl *b)
{
    size_t i;

    if (acl_count(a) != acl_count(b))
        abort();
    for (i = 0; i < acl_count(a); i++) {
        const char *ida, *idb;
        uint32_t ra, rb;

        acl_entry(a, i, &ida, &ra);
        acl_entry(b, i, &idb, &rb);
        if (strcmp(ida, idb) != 0 || ra != rb || ra == 0)
            abort();
    }
}

static void
check_rights(uint32_t bits, char deleteright)
{
    struct buf out = BUF_INITIALIZER;
    uint32_t back;

    acl_rights_format(bits, &out);
    if (acl_rights_parse(buf_base(&out), buf_len(&out), deleteright, &back,
                         NULL)
            < 0
        || (back & ~ACL_DELETEMBOX) != (bits & ~ACL_DELETEMBOX))
        abort();
    buf_reset(&out);
    acl_rights_format_legacy(bits, deleteright, &out);
    if (acl_rights_parse(buf_base(&out), buf_len(&out), deleteright, &back,
                         NULL)
            < 0
        || (back & ~ACL_DELETEMBOX) != (bits & ~ACL_DELETEMBOX))
        abort();
    buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    struct strarray groups = STRARRAY_INITIALIZER;
    struct acl *acl = NULL, *again = NULL;
    struct buf out = BUF_INITIALIZER;
    const char *p;
    char deleteright;
    size_t i, len;
    uint32_t r1, r2;
    int ok;

    if (n < 1)
        return 0;
    /* deleteright naming another right ("a") makes that right imply "x",
     * so it cannot be stored alone and does not round-trip (as in Cyrus);
     * the fuzzer sticks to the values that do */
    deleteright = "cdx"[d[0] % 3];
    p = (const char *)d + 1;
    len = n - 1;
    strarray_append(&groups, "group:staff");

    ok = acl_parse(p, len, deleteright, &acl, NULL) == 0;
    for (i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
        int r = acl_string_myrights(p, len, deleteright, users[i], &groups, &r2,
                                    NULL);

        if ((r == 0) != ok)
            abort();
        if (ok) {
            r1 = acl_myrights(acl, users[i], &groups);
            if (r1 != r2)
                abort();
            check_rights(r1, deleteright);
        }
    }
    if (ok) {
        acl_format(acl, deleteright, &out);
        if (acl_parse(buf_base(&out), buf_len(&out), deleteright, &again, NULL)
            < 0)
            abort();
        same_acl(acl, again);
        acl_free(&again);
        /* edit with pieces of the input as ids and rights */
        for (i = 0; i + 2 < len && i < 64; i += 3) {
            char id[3] = {p[i], p[i + 1], '\0'};
            size_t rl = len - i - 2;

            if (rl > 3)
                rl = 1 + rl % 3;
            acl_setacl(acl, id, p + i + 2, rl, deleteright, NULL);
            buf_reset(&out);
            acl_format(acl, deleteright, &out);
            if (acl_parse(buf_base(&out), buf_len(&out), deleteright, &again,
                          NULL)
                < 0)
                abort();
            same_acl(acl, again);
            acl_free(&again);
        }
        acl_free(&acl);
    }
    buf_free(&out);
    strarray_fini(&groups);
    return 0;
}
