/* subs.c: subscriptions in subs.db (see subs.h for the contract). */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dbtxn.h"
#include "errors.h"
#include "subs.h"
#include "xmalloc.h"

#define SUBS_DEFAULT_PATH "subs.db"

struct subs_db {
    struct cyrusdb *db;
};

int
subs_open(struct cyrusdb_env *env, const char *path, struct subs_db **sdb_r)
{
    struct cyrusdb *db = NULL;
    int r;

    r = cyrusdb_open(env, path ? path : SUBS_DEFAULT_PATH, CYRUSDB_CREATE, &db);
    if (r)
        return r;
    *sdb_r = xzmalloc(sizeof(**sdb_r));
    (*sdb_r)->db = db;
    return 0;
}

void
subs_close(struct subs_db **sdbp)
{
    struct subs_db *sdb = *sdbp;

    if (sdb == NULL)
        return;
    *sdbp = NULL;
    cyrusdb_close(&sdb->db);
    free(sdb);
}

struct cyrusdb *
subs_cyrusdb(struct subs_db *sdb)
{
    return sdb->db;
}

/* user NUL [mboxname] */
static int
make_key(const char *user, const char *mboxname, struct buf *key)
{
    if (user == NULL || user[0] == '\0'
        || (mboxname != NULL && mboxname[0] == '\0'))
        return ERR_INVALID;
    buf_setcstr(key, user);
    buf_putc(key, '\0');
    if (mboxname)
        buf_appendcstr(key, mboxname);
    return 0;
}

int
subs_add(struct subs_db *sdb, const char *user, const char *mboxname,
         struct cyrusdb_txn **tid)
{
    struct buf key = BUF_INITIALIZER;
    int r = mboxname ? make_key(user, mboxname, &key) : ERR_INVALID;

    if (r == 0)
        r = cyrusdb_store(sdb->db, buf_base(&key), buf_len(&key), "", 0, tid);
    buf_free(&key);
    return r;
}

int
subs_remove(struct subs_db *sdb, const char *user, const char *mboxname,
            struct cyrusdb_txn **tid)
{
    struct buf key = BUF_INITIALIZER;
    int r = mboxname ? make_key(user, mboxname, &key) : ERR_INVALID;

    if (r == 0)
        r = cyrusdb_delete(sdb->db, buf_base(&key), buf_len(&key), tid, 0);
    buf_free(&key);
    return r;
}

int
subs_is_subscribed(struct subs_db *sdb, const char *user, const char *mboxname,
                   struct cyrusdb_txn **tid)
{
    struct buf key = BUF_INITIALIZER;
    int r = mboxname ? make_key(user, mboxname, &key) : ERR_INVALID;

    if (r == 0) {
        r = cyrusdb_fetch(sdb->db, buf_base(&key), buf_len(&key), NULL, NULL,
                          tid);
        if (r == 0)
            r = 1;
        else if (r == ERR_NOTFOUND)
            r = 0;
    }
    buf_free(&key);
    return r;
}

struct foreach_ctx {
    size_t prefixlen;
    subs_foreach_cb *cb;
    void *ctx;
};

static int
foreach_cb(void *ctx, const char *key, size_t keylen, const char *data,
           size_t datalen)
{
    struct foreach_ctx *fc = ctx;
    char *name;
    int r;

    (void)data;
    (void)datalen;
    if (keylen == fc->prefixlen)
        return 0; /* cannot be stored by subs_add(); ignore */
    name = xstrndup(key + fc->prefixlen, keylen - fc->prefixlen);
    r = fc->cb(fc->ctx, name);
    free(name);
    return r;
}

int
subs_foreach(struct subs_db *sdb, const char *user, subs_foreach_cb *cb,
             void *ctx, struct cyrusdb_txn **tid)
{
    struct buf prefix = BUF_INITIALIZER;
    struct foreach_ctx fc = {0, cb, ctx};
    int r = make_key(user, NULL, &prefix);

    if (r == 0) {
        fc.prefixlen = buf_len(&prefix);
        r = cyrusdb_foreach(sdb->db, buf_base(&prefix), buf_len(&prefix),
                            foreach_cb, &fc, tid);
    }
    buf_free(&prefix);
    return r;
}

static int
list_cb(void *ctx, const char *mboxname)
{
    strarray_append(ctx, mboxname);
    return 0;
}

int
subs_list(struct subs_db *sdb, const char *user, struct strarray *names_r,
          struct cyrusdb_txn **tid)
{
    return subs_foreach(sdb, user, list_cb, names_r, tid);
}

/* ---- rename and user deletion: collect, then change, in one txn ---- */

struct move_ctx {
    struct subs_db *sdb;
    const char *user;
    const char *oldname;
    const char *newname;
    struct strarray found; /* old names to move (or delete) */
    unsigned moved;
};

static int
collect_cb(void *ctx, const char *mboxname)
{
    struct move_ctx *mc = ctx;
    size_t oldlen = strlen(mc->oldname);

    /* the prefix scan also finds siblings such as oldname + "x" */
    if (mc->oldname[0] == '\0'
        || (strncmp(mboxname, mc->oldname, oldlen) == 0
            && (mboxname[oldlen] == '\0' || mboxname[oldlen] == '.')))
        strarray_append(&mc->found, mboxname);
    return 0;
}

static int
move_cb(void *ctx, struct cyrusdb_txn **tid)
{
    struct move_ctx *mc = ctx;
    struct buf key = BUF_INITIALIZER, name = BUF_INITIALIZER;
    size_t i, oldlen = strlen(mc->oldname);
    int r;

    strarray_fini(&mc->found);
    mc->moved = 0;
    make_key(mc->user, NULL, &key);
    buf_appendcstr(&key, mc->oldname);
    {
        struct foreach_ctx fc = {0, collect_cb, mc};

        fc.prefixlen = strlen(mc->user) + 1;
        r = cyrusdb_foreach(mc->sdb->db, buf_base(&key), buf_len(&key),
                            foreach_cb, &fc, tid);
    }
    /* deletes first, then stores: the new names may overlap old ones */
    for (i = 0; r == 0 && i < mc->found.count; i++)
        r = subs_remove(mc->sdb, mc->user, mc->found.data[i], tid);
    for (i = 0; r == 0 && mc->newname && i < mc->found.count; i++) {
        buf_setcstr(&name, mc->newname);
        buf_appendcstr(&name, mc->found.data[i] + oldlen);
        r = subs_add(mc->sdb, mc->user, buf_cstring(&name), tid);
    }
    if (r == 0)
        mc->moved = (unsigned)mc->found.count;
    buf_free(&key);
    buf_free(&name);
    return r;
}

int
subs_rename(struct subs_db *sdb, const char *user, const char *oldname,
            const char *newname, unsigned *moved_r, struct cyrusdb_txn **tid)
{
    struct move_ctx mc = {sdb, user, oldname, newname, STRARRAY_INITIALIZER, 0};
    int r;

    if (user == NULL || user[0] == '\0' || oldname == NULL || oldname[0] == '\0'
        || newname == NULL || newname[0] == '\0')
        return ERR_INVALID;
    if (strcmp(oldname, newname) == 0)
        r = 0;
    else
        r = dbtxn_run(sdb->db, tid, move_cb, &mc);
    if (r == 0 && moved_r)
        *moved_r = mc.moved;
    strarray_fini(&mc.found);
    return r;
}

int
subs_delete_user(struct subs_db *sdb, const char *user,
                 struct cyrusdb_txn **tid)
{
    struct move_ctx mc = {sdb, user, "", NULL, STRARRAY_INITIALIZER, 0};
    int r;

    if (user == NULL || user[0] == '\0')
        return ERR_INVALID;
    r = dbtxn_run(sdb->db, tid, move_cb, &mc);
    strarray_fini(&mc.found);
    return r;
}
