/* mboxlist.c: the mailbox list through cyrusdb. */
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "mboxlist.h"
#include "util.h"
#include "xmalloc.h"

struct mboxlist {
    struct cyrusdb *db;
};

int
mboxlist_open(struct cyrusdb_env *env, const char *path,
              struct mboxlist **ml_r)
{
    struct mboxlist *ml = xzmalloc(sizeof(*ml));
    int r = cyrusdb_open(env, path, CYRUSDB_CREATE, &ml->db);

    if (r) {
        free(ml);
        return r;
    }
    *ml_r = ml;
    return 0;
}

void
mboxlist_close(struct mboxlist **mlp)
{
    if (*mlp == NULL)
        return;
    cyrusdb_close(&(*mlp)->db);
    free(*mlp);
    *mlp = NULL;
}

struct cyrusdb *
mboxlist_db(struct mboxlist *ml)
{
    return ml->db;
}

struct mboxlist_entry *
mboxlist_entry_new(const char *name)
{
    struct mboxlist_entry *e = xzmalloc(sizeof(*e));

    e->name = xstrdup(name);
    return e;
}

struct mboxlist_entry *
mboxlist_entry_copy(const struct mboxlist_entry *src)
{
    struct mboxlist_entry *e = xmemdup(src, sizeof(*src));

    e->name = xstrdupnull(src->name);
    e->partition = xstrdupnull(src->partition);
    e->server = xstrdupnull(src->server);
    e->acl = xstrdupnull(src->acl);
    e->uniqueid = xstrdupnull(src->uniqueid);
    e->specialuse = xstrdupnull(src->specialuse);
    return e;
}

void
mboxlist_entry_free(struct mboxlist_entry **ep)
{
    struct mboxlist_entry *e = *ep;

    if (e == NULL)
        return;
    *ep = NULL;
    free(e->name);
    free(e->partition);
    free(e->server);
    free(e->acl);
    free(e->uniqueid);
    free(e->specialuse);
    free(e);
}

static const struct {
    uint32_t bit;
    char letter;
} mbtype_letters[] = {
    {MBTYPE_DELETED, 'd'}, {MBTYPE_MOVING, 'm'},       {MBTYPE_REMOTE, 'r'},
    {MBTYPE_RESERVE, 'z'}, {MBTYPE_INTERMEDIATE, 'i'},
};

void
mboxlist_mbtype_letters(uint32_t mbtype, struct buf *out)
{
    size_t i;

    buf_putc(out, 'e');
    for (i = 0; i < ARRAY_SIZE(mbtype_letters); i++) {
        if (mbtype & mbtype_letters[i].bit)
            buf_putc(out, mbtype_letters[i].letter);
    }
}

uint32_t
mboxlist_mbtype_parse(const char *letters)
{
    uint32_t t = 0;
    size_t i;

    for (; *letters; letters++) {
        for (i = 0; i < ARRAY_SIZE(mbtype_letters); i++) {
            if (*letters == mbtype_letters[i].letter)
                t |= mbtype_letters[i].bit;
        }
    }
    return t;
}

void
mboxlist_location(const struct mboxlist_entry *e, struct buf *out)
{
    if (e->server) {
        buf_appendcstr(out, e->server);
        buf_putc(out, '!');
    }
    if (e->partition)
        buf_appendcstr(out, e->partition);
}

/* Value format: a sequence of fields `K<len>:<bytes>` where K is one
 * letter; unknown letters are skipped, so new fields can be added. */
static void
put_field(struct buf *out, char key, const char *val, size_t len)
{
    buf_printf(out, "%c%zu:", key, len);
    buf_appendmap(out, val, len);
}

static void
put_str(struct buf *out, char key, const char *val)
{
    if (val)
        put_field(out, key, val, strlen(val));
}

static void
put_num(struct buf *out, char key, uint64_t val)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)val);

    put_field(out, key, tmp, (size_t)n);
}

void
mboxlist_entry_encode(const struct mboxlist_entry *e, struct buf *out)
{
    struct buf t = BUF_INITIALIZER;

    buf_reset(out);
    mboxlist_mbtype_letters(e->mbtype, &t);
    put_field(out, 'T', buf_base(&t), buf_len(&t));
    put_str(out, 'P', e->partition);
    put_str(out, 'S', e->server);
    put_str(out, 'A', e->acl);
    put_str(out, 'I', e->uniqueid);
    put_str(out, 'U', e->specialuse);
    put_num(out, 'V', e->uidvalidity);
    put_num(out, 'C', e->createdmodseq);
    put_num(out, 'F', e->foldermodseq);
    put_num(out, 'M', (uint64_t)e->mtime);
    buf_free(&t);
}

int
mboxlist_entry_decode(const char *name, const char *p, size_t len,
                      struct mboxlist_entry **entry_r)
{
    struct mboxlist_entry *e = mboxlist_entry_new(name);
    size_t i = 0;

    while (i < len) {
        char key = p[i++];
        uint64_t flen = 0, num = 0;
        size_t start = i;
        char *val;

        while (i < len && p[i] >= '0' && p[i] <= '9')
            i++;
        if (i == start || i >= len || p[i] != ':'
            || util_parse_u64(p + start, i - start, len, &flen) < 0
            || flen > len - i - 1)
            goto bad;
        i++;
        val = xstrndup(p + i, (size_t)flen);
        if (strchr("VCFM", key)
            && util_parse_u64(val, (size_t)flen, UINT64_MAX, &num) < 0) {
            free(val);
            goto bad;
        }
        switch (key) {
        case 'T':
            e->mbtype = mboxlist_mbtype_parse(val);
            break;
        case 'P':
            free(e->partition);
            e->partition = val;
            val = NULL;
            break;
        case 'S':
            free(e->server);
            e->server = val;
            val = NULL;
            break;
        case 'A':
            free(e->acl);
            e->acl = val;
            val = NULL;
            break;
        case 'I':
            free(e->uniqueid);
            e->uniqueid = val;
            val = NULL;
            break;
        case 'U':
            free(e->specialuse);
            e->specialuse = val;
            val = NULL;
            break;
        case 'V':
            e->uidvalidity = (uint32_t)num;
            break;
        case 'C':
            e->createdmodseq = num;
            break;
        case 'F':
            e->foldermodseq = num;
            break;
        case 'M':
            e->mtime = (int64_t)num;
            break;
        default:
            break;
        }
        free(val);
        i += (size_t)flen;
    }
    *entry_r = e;
    return 0;
bad:
    mboxlist_entry_free(&e);
    return ERR_IO;
}

int
mboxlist_lookup(struct mboxlist *ml, const char *name,
                struct mboxlist_entry **entry_r, struct cyrusdb_txn **tid)
{
    const char *data;
    size_t len;
    int r = cyrusdb_fetch(ml->db, name, strlen(name), &data, &len, tid);

    if (r == ERR_NOTFOUND)
        return ERR_NOMAILBOX;
    if (r)
        return r;
    return mboxlist_entry_decode(name, data, len, entry_r);
}

int
mboxlist_store(struct mboxlist *ml, const struct mboxlist_entry *entry,
               struct cyrusdb_txn **tid)
{
    struct buf val = BUF_INITIALIZER;
    int r;

    mboxlist_entry_encode(entry, &val);
    r = cyrusdb_store(ml->db, entry->name, strlen(entry->name),
                      buf_base(&val), buf_len(&val), tid);
    buf_free(&val);
    return r;
}

int
mboxlist_remove(struct mboxlist *ml, const char *name,
                struct cyrusdb_txn **tid)
{
    int r = cyrusdb_delete(ml->db, name, strlen(name), tid, 0);

    return r == ERR_NOTFOUND ? ERR_NOMAILBOX : r;
}

struct foreach_ctx {
    mboxlist_foreach_cb *cb;
    void *ctx;
};

static int
foreach_cb(void *ctx, const char *key, size_t keylen, const char *data,
           size_t datalen)
{
    struct foreach_ctx *fc = ctx;
    struct mboxlist_entry *e = NULL;
    char *name = xstrndup(key, keylen);
    int r;

    r = mboxlist_entry_decode(name, data, datalen, &e);
    free(name);
    if (r)
        return 0; /* a damaged record is skipped, not fatal to a listing */
    r = fc->cb(fc->ctx, e);
    mboxlist_entry_free(&e);
    return r;
}

int
mboxlist_foreach(struct mboxlist *ml, const char *prefix,
                 mboxlist_foreach_cb *cb, void *ctx, struct cyrusdb_txn **tid)
{
    struct foreach_ctx fc = {cb, ctx};

    return cyrusdb_foreach(ml->db, prefix, strlen(prefix), foreach_cb, &fc,
                           tid);
}

int
mboxlist_foreach_after(struct mboxlist *ml, const char *prefix,
                       const char *start, mboxlist_foreach_cb *cb, void *ctx,
                       struct cyrusdb_txn **tid)
{
    struct foreach_ctx fc = {cb, ctx};

    return cyrusdb_foreach_after(ml->db, prefix, strlen(prefix), start,
                                 start ? strlen(start) : 0, foreach_cb, &fc,
                                 tid);
}

static int
stop_cb(void *ctx, const char *key, size_t keylen, const char *data,
        size_t datalen)
{
    (void)ctx;
    (void)key;
    (void)keylen;
    (void)data;
    (void)datalen;
    return 1;
}

int
mboxlist_has_children(struct mboxlist *ml, const char *name)
{
    struct buf prefix = BUF_INITIALIZER;
    int r;

    buf_printf(&prefix, "%s.", name);
    r = cyrusdb_foreach(ml->db, buf_base(&prefix), buf_len(&prefix), stop_cb,
                        NULL, NULL);
    buf_free(&prefix);
    return r == 1;
}

int
mboxlist_commit(struct mboxlist *ml, struct cyrusdb_txn *tid)
{
    return cyrusdb_commit(ml->db, tid);
}

int
mboxlist_abort(struct mboxlist *ml, struct cyrusdb_txn *tid)
{
    return cyrusdb_abort(ml->db, tid);
}
