/* mboxname_fuzz.c: external <-> internal name conversion, policy, paths
 * and LIST patterns.
 *
 * Input: one mode byte (altnamespace, unixhierarchysep, virtdomains,
 * admin, which session user), then an optional "userid\n", then the name.
 * Checks the round-trip contract of mboxname.h: whatever
 * mboxname_to_external() returns converts back to the same internal
 * name. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mboxname.h"
#include "xmalloc.h"

static const char *const users[] = {
    "alice", "john.doe", "alice@example.com", "admin@example.com", NULL,
};

static void
check_back(const struct namespace *ns, const char *user, int admin,
           const char *intname)
{
    char *ext = mboxname_to_external(ns, user, admin, intname);
    char *back = NULL;

    if (ext == NULL)
        return;
    if (mboxname_to_internal(ns, user, admin, ext, &back) != 0
        || strcmp(back, intname) != 0)
        abort(); /* the header promises a round trip */
    free(ext);
    free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct namespace_options o;
    struct namespace *ns = NULL;
    struct namespace_pattern *pat = NULL;
    const char *error, *user, *nl;
    char *input, *name, *intname = NULL, *s;
    struct buf path = BUF_INITIALIZER;
    unsigned mode;
    int admin;
    time_t when;

    if (size < 1)
        return 0;
    mode = data[0];
    input = xstrndup((const char *)data + 1, size - 1); /* stops at NUL */
    namespace_options_init(&o);
    o.altnamespace = mode & 1;
    o.unixhierarchysep = (mode >> 1) & 1;
    o.virtdomains = ((mode >> 2) & 3) % 3;
    admin = (mode >> 4) & 1;
    user = users[((mode >> 5) & 7) % ARRAY_SIZE(users)];
    if (namespace_new(&o, &ns, &error) != 0)
        abort();
    name = input;
    if ((nl = strchr(input, '\n')) != NULL) {
        input[nl - input] = '\0';
        user = input;
        name = input + (nl - input) + 1;
    }

    /* the input as an external name */
    if (mboxname_to_internal(ns, user, admin, name, &intname) == 0) {
        (void)mboxname_policycheck(ns, intname, &error);
        check_back(ns, user, admin, intname);
        free(intname);
    }
    /* the input as an internal name, seen by several sessions */
    check_back(ns, user, admin, name);
    check_back(ns, "alice", 0, name);
    check_back(ns, "alice@example.com", 0, name);
    check_back(ns, "cyrus", 1, name);
    check_back(ns, NULL, 0, name);
    (void)mboxname_policycheck(ns, name, &error);
    free(mboxname_to_userid(name));
    free(mboxname_parent(name));
    free(mboxname_domain(name));
    (void)mboxname_depth(name);
    (void)mboxname_is_inbox(name);
    (void)mboxname_is_owner(ns, name, user ? user : "alice");
    if (mboxname_is_deleted(ns, name, &s, &when))
        free(s);
    if (mboxname_to_path(name, (unsigned)mode & 3, &path) == 0
        && (strstr(buf_cstring(&path), "/../") || path.s[0] == '/'))
        abort();
    buf_free(&path);
    (void)mboxname_hash_char(name, mode & 1);
    if (user && (s = mboxname_user_inbox(ns, user)) != NULL) {
        if (!mboxname_is_inbox(s))
            abort();
        free(s);
    }

    /* the input as a LIST pattern, and as a name for fixed patterns */
    if (namespace_pattern_new(ns, "", name, &pat) == 0) {
        (void)namespace_pattern_match(pat, "INBOX/Sub.x");
        (void)namespace_pattern_match_children(pat, "user.bob");
        namespace_pattern_free(&pat);
    }
    if (namespace_pattern_new(ns, "INBOX.", "*%a%", &pat) == 0) {
        (void)namespace_pattern_match(pat, name);
        (void)namespace_pattern_match_children(pat, name);
        namespace_pattern_free(&pat);
    }
    namespace_free(&ns);
    free(input);
    return 0;
}
