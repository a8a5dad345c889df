/* seen.c: per-user seen state in seen.db (see seen.h for the contract). */
#include <string.h>

#include "dbtxn.h"
#include "errors.h"
#include "log.h"
#include "seen.h"
#include "util.h"
#include "xmalloc.h"

#define SEEN_DEFAULT_PATH "seen.db"
#define SEEN_VERSION      "1"

struct seen_db {
    struct cyrusdb *db;
};

int
seen_open(struct cyrusdb_env *env, const char *path, struct seen_db **sdb_r)
{
    struct cyrusdb *db = NULL;
    int r;

    r = cyrusdb_open(env, path ? path : SEEN_DEFAULT_PATH, CYRUSDB_CREATE, &db);
    if (r)
        return r;
    *sdb_r = xzmalloc(sizeof(**sdb_r));
    (*sdb_r)->db = db;
    return 0;
}

void
seen_close(struct seen_db **sdbp)
{
    struct seen_db *sdb = *sdbp;

    if (sdb == NULL)
        return;
    *sdbp = NULL;
    cyrusdb_close(&sdb->db);
    free(sdb);
}

struct cyrusdb *
seen_cyrusdb(struct seen_db *sdb)
{
    return sdb->db;
}

void
seen_data_fini(struct seen_data *sd)
{
    buf_free(&sd->uids);
}

static void
seen_data_clear(struct seen_data *sd)
{
    sd->lastread = 0;
    sd->lastuid = 0;
    sd->lastchange = 0;
    buf_reset(&sd->uids);
}

/* user NUL uniqueid; the user prefix (with its NUL) is what
 * seen_foreach() scans. */
static int
make_key(const char *user, const char *uniqueid, struct buf *key)
{
    if (user == NULL || user[0] == '\0'
        || (uniqueid != NULL && uniqueid[0] == '\0'))
        return ERR_INVALID;
    buf_setcstr(key, user);
    buf_putc(key, '\0');
    if (uniqueid)
        buf_appendcstr(key, uniqueid);
    return 0;
}

static int
valid_uids(const char *p, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (!((p[i] >= '0' && p[i] <= '9') || p[i] == ':' || p[i] == ','))
            return 0;
    }
    return 1;
}

/* Next space-separated field of p[*off..len) as a number. */
static int
next_num(const char *p, size_t len, size_t *off, uint64_t max, uint64_t *v)
{
    size_t start = *off, end = start;

    while (end < len && p[end] != ' ')
        end++;
    if (util_parse_u64(p + start, end - start, max, v) < 0)
        return -1;
    *off = end < len ? end + 1 : end;
    return 0;
}

static int
seen_decode(const char *p, size_t len, struct seen_data *sd)
{
    size_t off = 0;
    uint64_t version, lastread, lastuid, lastchange;

    seen_data_clear(sd);
    if (next_num(p, len, &off, 1, &version) < 0 || version != 1
        || next_num(p, len, &off, INT64_MAX, &lastread) < 0
        || next_num(p, len, &off, UINT32_MAX, &lastuid) < 0
        || next_num(p, len, &off, INT64_MAX, &lastchange) < 0)
        return ERR_IO;
    /* the uids field may be empty: "1 0 0 0 " */
    if (off < len && !valid_uids(p + off, len - off))
        return ERR_IO;
    sd->lastread = (int64_t)lastread;
    sd->lastuid = (uint32_t)lastuid;
    sd->lastchange = (int64_t)lastchange;
    if (off < len)
        buf_setmap(&sd->uids, p + off, len - off);
    return 0;
}

int
seen_read(struct seen_db *sdb, const char *user, const char *uniqueid,
          struct seen_data *sd_r, struct cyrusdb_txn **tid)
{
    struct buf key = BUF_INITIALIZER;
    const char *data;
    size_t len;
    int r;

    seen_data_clear(sd_r);
    if (uniqueid == NULL)
        return ERR_INVALID;
    r = make_key(user, uniqueid, &key);
    if (r == 0)
        r = cyrusdb_fetch(sdb->db, buf_base(&key), buf_len(&key), &data, &len,
                          tid);
    if (r == ERR_NOTFOUND) {
        r = 0;
    } else if (r == 0 && seen_decode(data, len, sd_r) < 0) {
        log_msg(LOG_ERR, "seen.db: corrupt record for %s %s", user, uniqueid);
        seen_data_clear(sd_r);
        r = ERR_IO;
    }
    buf_free(&key);
    return r;
}

int
seen_write(struct seen_db *sdb, const char *user, const char *uniqueid,
           const struct seen_data *sd, struct cyrusdb_txn **tid)
{
    struct buf key = BUF_INITIALIZER, val = BUF_INITIALIZER;
    int r;

    if (uniqueid == NULL || sd->lastread < 0 || sd->lastchange < 0
        || !valid_uids(buf_base(&sd->uids), buf_len(&sd->uids)))
        return ERR_INVALID;
    r = make_key(user, uniqueid, &key);
    if (r == 0) {
        buf_printf(&val, SEEN_VERSION " %lld %u %lld ", (long long)sd->lastread,
                   sd->lastuid, (long long)sd->lastchange);
        buf_appendbuf(&val, &sd->uids);
        r = cyrusdb_store(sdb->db, buf_base(&key), buf_len(&key),
                          buf_base(&val), buf_len(&val), tid);
    }
    buf_free(&key);
    buf_free(&val);
    return r;
}

int
seen_delete(struct seen_db *sdb, const char *user, const char *uniqueid,
            struct cyrusdb_txn **tid)
{
    struct buf key = BUF_INITIALIZER;
    int r;

    if (uniqueid == NULL)
        return ERR_INVALID;
    r = make_key(user, uniqueid, &key);
    if (r == 0)
        r = cyrusdb_delete(sdb->db, buf_base(&key), buf_len(&key), tid, 1);
    buf_free(&key);
    return r;
}

struct foreach_ctx {
    size_t prefixlen;
    seen_foreach_cb *cb;
    void *ctx;
    struct seen_data sd;
};

static int
foreach_cb(void *ctx, const char *key, size_t keylen, const char *data,
           size_t datalen)
{
    struct foreach_ctx *fc = ctx;
    const char *id = key + fc->prefixlen;
    size_t idlen = keylen - fc->prefixlen;
    char *uniqueid;
    int r;

    if (idlen == 0 || memchr(id, '\0', idlen) != NULL
        || seen_decode(data, datalen, &fc->sd) < 0) {
        log_msg(LOG_ERR, "seen.db: skipping corrupt record");
        return 0;
    }
    uniqueid = xstrndup(id, idlen);
    r = fc->cb(fc->ctx, uniqueid, &fc->sd);
    free(uniqueid);
    return r;
}

int
seen_foreach(struct seen_db *sdb, const char *user, seen_foreach_cb *cb,
             void *ctx, struct cyrusdb_txn **tid)
{
    struct buf prefix = BUF_INITIALIZER;
    struct foreach_ctx fc = {0, cb, ctx, SEEN_DATA_INITIALIZER};
    int r;

    r = make_key(user, NULL, &prefix);
    if (r == 0) {
        fc.prefixlen = buf_len(&prefix);
        r = cyrusdb_foreach(sdb->db, buf_base(&prefix), buf_len(&prefix),
                            foreach_cb, &fc, tid);
    }
    seen_data_fini(&fc.sd);
    buf_free(&prefix);
    return r;
}

struct delete_ctx {
    struct seen_db *sdb;
    struct buf prefix;
    struct cyrusdb_txn **tid;
};

static int
delete_one_cb(void *ctx, const char *key, size_t keylen, const char *data,
              size_t datalen)
{
    struct delete_ctx *dc = ctx;

    (void)data;
    (void)datalen;
    return cyrusdb_delete(dc->sdb->db, key, keylen, dc->tid, 1);
}

static int
delete_user_cb(void *ctx, struct cyrusdb_txn **tid)
{
    struct delete_ctx *dc = ctx;

    dc->tid = tid;
    return cyrusdb_foreach(dc->sdb->db, buf_base(&dc->prefix),
                           buf_len(&dc->prefix), delete_one_cb, dc, tid);
}

int
seen_delete_user(struct seen_db *sdb, const char *user,
                 struct cyrusdb_txn **tid)
{
    struct delete_ctx dc = {sdb, BUF_INITIALIZER, NULL};
    int r;

    r = make_key(user, NULL, &dc.prefix);
    if (r == 0)
        r = dbtxn_run(sdb->db, tid, delete_user_cb, &dc);
    buf_free(&dc.prefix);
    return r;
}
