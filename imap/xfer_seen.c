/* xfer_seen.c: other users' \Seen of moved mailboxes (see xfer_seen.h). */
#include <string.h>

#include "cyrusdb.h"
#include "errors.h"
#include "hash.h"
#include "xfer_seen.h"
#include "xmalloc.h"

/* The keys (user, uniqueid) of the entries of the wanted mailboxes,
 * collected first: cb then reads each entry without a traversal open. */
struct collect_ctx {
    struct hash *wanted;
    struct strarray users, uniqueids;
};

static int
collect_cb(void *ctx, const char *key, size_t keylen, const char *data,
           size_t datalen)
{
    struct collect_ctx *c = ctx;
    const char *nul = memchr(key, '\0', keylen);

    (void)data;
    (void)datalen;
    /* key: user NUL uniqueid; the key is NUL-terminated after keylen */
    if (nul == NULL || nul == key || (size_t)(nul - key) + 1 >= keylen)
        return 0;
    if (hash_lookup(c->wanted, nul + 1) == NULL)
        return 0;
    strarray_appendmap(&c->users, key, (size_t)(nul - key));
    strarray_append(&c->uniqueids, nul + 1);
    return 0;
}

static int
collect(struct seen_db *sdb, const struct strarray *uniqueids,
        struct collect_ctx *c)
{
    size_t i;

    memset(c, 0, sizeof(*c));
    c->wanted = hash_new(uniqueids->count + 1);
    for (i = 0; i < uniqueids->count; i++)
        hash_insert(c->wanted, uniqueids->data[i], (void *)"");
    return cyrusdb_foreach(seen_cyrusdb(sdb), "", 0, collect_cb, c, NULL);
}

static void
collect_fini(struct collect_ctx *c)
{
    hash_free(&c->wanted, NULL);
    strarray_fini(&c->users);
    strarray_fini(&c->uniqueids);
}

int
xfer_seen_foreach(struct seen_db *sdb, const struct strarray *uniqueids,
                  xfer_seen_cb *cb, void *ctx)
{
    struct seen_data sd = SEEN_DATA_INITIALIZER;
    struct collect_ctx c;
    size_t i;
    int r;

    if (uniqueids->count == 0)
        return 0;
    r = collect(sdb, uniqueids, &c);
    for (i = 0; r == 0 && i < c.users.count; i++) {
        const char *user = c.users.data[i], *uid = c.uniqueids.data[i];

        r = seen_read(sdb, user, uid, &sd, NULL);
        if (r == ERR_IO) {
            r = 0; /* corrupt (seen_read() logged it): skipped, as
                    * seen_foreach() does */
            continue;
        }
        if (r)
            break;
        /* removed since the traversal: seen_read() gives all zero */
        if (sd.lastread == 0 && sd.lastuid == 0 && sd.lastchange == 0
            && buf_len(&sd.uids) == 0)
            continue;
        r = cb(ctx, user, uid, &sd);
    }
    seen_data_fini(&sd);
    collect_fini(&c);
    return r;
}

int
xfer_seen_delete(struct seen_db *sdb, const struct strarray *uniqueids)
{
    struct collect_ctx c;
    size_t i;
    int r, first;

    if (uniqueids->count == 0)
        return 0;
    first = collect(sdb, uniqueids, &c);
    for (i = 0; i < c.users.count; i++) {
        r = seen_delete(sdb, c.users.data[i], c.uniqueids.data[i], NULL);
        if (r && first == 0)
            first = r;
    }
    collect_fini(&c);
    return first;
}
