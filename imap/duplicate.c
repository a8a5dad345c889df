/* duplicate.c: deliver.db (see duplicate.h for the contract). */
#include <string.h>

#include "buf.h"
#include "duplicate.h"
#include "errors.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

#define DUPLICATE_DEFAULT_PATH "deliver.db"

struct duplicate_db {
    struct cyrusdb *db;
};

int
duplicate_open(struct cyrusdb_env *env, const char *path,
               struct duplicate_db **ddb_r)
{
    struct cyrusdb *db = NULL;
    int r;

    /* No flush of its own per mark: the mark is written after the message
     * is durable in its mailbox, so losing it (power loss, OS crash) only
     * costs one duplicate delivery if the MTA retries, never a message.
     * A killed process loses nothing (the log is written at commit). */
    r = cyrusdb_open(env, path ? path : DUPLICATE_DEFAULT_PATH,
                     CYRUSDB_CREATE | CYRUSDB_WRITE_NOSYNC, &db);
    if (r)
        return r;
    *ddb_r = xzmalloc(sizeof(**ddb_r));
    (*ddb_r)->db = db;
    return 0;
}

void
duplicate_close(struct duplicate_db **ddbp)
{
    struct duplicate_db *ddb = *ddbp;

    if (ddb == NULL)
        return;
    *ddbp = NULL;
    cyrusdb_close(&ddb->db);
    free(ddb);
}

static int
make_key(const struct duplicate_key *k, struct buf *key)
{
    if (k->id == NULL || k->id[0] == '\0' || k->to == NULL || k->to[0] == '\0')
        return ERR_INVALID;
    buf_setcstr(key, k->id);
    buf_putc(key, '\0');
    buf_appendcstr(key, k->to);
    buf_putc(key, '\0');
    buf_appendcstr(key, k->date ? k->date : "");
    buf_putc(key, '\0');
    return 0;
}

/* "<mark> <uid>" */
static int
decode(const char *p, size_t len, time_t *mark_r, uint32_t *uid_r)
{
    const char *sp = memchr(p, ' ', len);
    uint64_t mark, uid;

    if (sp == NULL || util_parse_u64(p, (size_t)(sp - p), INT64_MAX, &mark) < 0
        || util_parse_u64(sp + 1, len - (size_t)(sp + 1 - p), UINT32_MAX, &uid)
               < 0)
        return -1;
    *mark_r = (time_t)mark;
    *uid_r = (uint32_t)uid;
    return 0;
}

int
duplicate_check(struct duplicate_db *ddb, const struct duplicate_key *key,
                time_t *mark_r, uint32_t *uid_r, struct cyrusdb_txn **tid)
{
    struct buf k = BUF_INITIALIZER;
    const char *data;
    size_t len;
    time_t mark = 0;
    uint32_t uid = 0;
    int r = make_key(key, &k);

    if (r == 0)
        r = cyrusdb_fetch(ddb->db, buf_base(&k), buf_len(&k), &data, &len, tid);
    if (r == 0) {
        if (decode(data, len, &mark, &uid) < 0) {
            log_msg(LOG_WARNING, "deliver.db: corrupt entry for %s %s", key->id,
                    key->to);
            mark = 0;
            uid = 0;
        }
        r = 1;
    } else if (r == ERR_NOTFOUND) {
        r = 0;
    }
    if (mark_r)
        *mark_r = mark;
    if (uid_r)
        *uid_r = uid;
    buf_free(&k);
    return r;
}

int
duplicate_mark(struct duplicate_db *ddb, const struct duplicate_key *key,
               time_t mark, uint32_t uid, struct cyrusdb_txn **tid)
{
    struct buf k = BUF_INITIALIZER, v = BUF_INITIALIZER;
    int r = make_key(key, &k);

    if (r == 0 && mark < 0)
        r = ERR_INVALID;
    if (r == 0) {
        buf_printf(&v, "%lld %u", (long long)mark, uid);
        r = cyrusdb_store(ddb->db, buf_base(&k), buf_len(&k), buf_base(&v),
                          buf_len(&v), tid);
    }
    buf_free(&k);
    buf_free(&v);
    return r;
}

int
duplicate_unmark(struct duplicate_db *ddb, const struct duplicate_key *key,
                 struct cyrusdb_txn **tid)
{
    struct buf k = BUF_INITIALIZER;
    int r = make_key(key, &k);

    if (r == 0)
        r = cyrusdb_delete(ddb->db, buf_base(&k), buf_len(&k), tid, 1);
    buf_free(&k);
    return r;
}

struct prune_ctx {
    struct duplicate_db *ddb;
    time_t cutoff;
    unsigned long pruned, kept;
};

static int
prune_cb(void *ctx, const char *key, size_t keylen, const char *data,
         size_t datalen)
{
    struct prune_ctx *pc = ctx;
    time_t mark;
    uint32_t uid;
    int r;

    if (decode(data, datalen, &mark, &uid) == 0 && mark >= pc->cutoff) {
        pc->kept++;
        return 0;
    }
    /* autocommit: foreach holds no lock while we run (cyrusdb.h) */
    r = cyrusdb_delete(pc->ddb->db, key, keylen, NULL, 1);
    if (r)
        return r;
    pc->pruned++;
    return 0;
}

int
duplicate_prune(struct duplicate_db *ddb, time_t cutoff,
                unsigned long *pruned_r, unsigned long *kept_r)
{
    struct prune_ctx pc = {ddb, cutoff, 0, 0};
    int r = cyrusdb_foreach(ddb->db, "", 0, prune_cb, &pc, NULL);

    if (pruned_r)
        *pruned_r = pc.pruned;
    if (kept_r)
        *kept_r = pc.kept;
    return r;
}
