/* cyrusdb.c: the operations of cyrusdb.h: environment and database
 * handles, Cyrus's tid convention, retries of deadlocks and lock timeouts,
 * and foreach in batches. Berkeley DB handle management and crash
 * handling live in cyrusdb_bdb.c. */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cyrusdb_bdb.h"
#include "errors.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

/* Autocommit operations retry a deadlock this often, a lock timeout (each
 * followed by failchk) this often, and reopen a panicked env this often. */
#define RETRY_DEADLOCKS 1000
#define RETRY_TIMEOUTS  30
#define RETRY_RESTARTS  3

/* foreach reads at most this many records (or bytes) per cursor pass:
 * each pass is a read transaction with a cursor open and closed, so small
 * passes dominate the cost of a long walk (the mupdate dump); the read
 * locks are held only for the pass, a few dozen pages */
#define BATCH_RECORDS 1024
#define BATCH_BYTES   (256 * 1024)

/* One Berkeley DB operation on db in txn. Returns a Berkeley DB code.
 * Even reads run in a transaction: Berkeley DB enforces lock timeouts
 * (which the watchdog relies on) only for transactional lockers. */
typedef int db_op_fn(struct cyrusdb *db, DB_TXN *txn, void *arg);

struct db_op {
    const char *what; /* for the log */
    db_op_fn *fn;
    void *arg;
};

struct cyrusdb_env *
cyrusdb_env_open(const char *envdir, unsigned flags, char **error_r)
{
    struct cyrusdb_env *env;
    struct buf err = BUF_INITIALIZER;
    const char *slash;
    size_t len;
    int r;

    len = strlen(envdir);
    while (len > 1 && envdir[len - 1] == '/')
        len--;
    if (len == 0) {
        *error_r = xstrdup("cyrusdb: empty environment directory");
        return NULL;
    }
    env = xzmalloc(sizeof(*env));
    env->envdir = xstrndup(envdir, len);
    slash = strrchr(env->envdir, '/');
    if (slash == NULL)
        env->configdir = xstrdup(".");
    else if (slash == env->envdir)
        env->configdir = xstrdup("/");
    else
        env->configdir = xstrndup(env->envdir, slash - env->envdir);
    env->pid = getpid();
    if (util_mkdir_p(env->envdir, 0750) < 0) {
        buf_printf(&err, "cyrusdb: cannot create %s: %s", env->envdir,
                   strerror(errno));
        goto fail;
    }
    r = cyrusdb_bdb_env_open(env, (flags & CYRUSDB_ENV_RECOVER) != 0);
    if (r != 0) {
        buf_printf(&err, "cyrusdb: cannot open environment %s: %s", env->envdir,
                   db_strerror(r));
        if (buf_len(&env->errmsg) > 0)
            buf_printf(&err, " (%s)", buf_cstring(&env->errmsg));
        goto fail;
    }
    buf_reset(&env->errmsg);
    return env;

fail:
    *error_r = buf_release(&err);
    buf_free(&env->errmsg);
    free(env->envdir);
    free(env->configdir);
    free(env);
    return NULL;
}

void
cyrusdb_env_close(struct cyrusdb_env **envp)
{
    struct cyrusdb_env *env = envp ? *envp : NULL;
    struct cyrusdb *db;

    if (env == NULL)
        return;
    *envp = NULL;
    if (env->pid == getpid()) {
        if (env->open_txns > 0) {
            log_msg(LOG_WARNING,
                    "cyrusdb: closing %s with %u open transaction(s)",
                    env->envdir, env->open_txns);
        }
        cyrusdb_bdb_env_close(env);
    }
    /* in a forked child: free our memory only, the BDB handles and the
     * registry slot belong to the parent */
    while ((db = env->dbs) != NULL) {
        env->dbs = db->next;
        buf_free(&db->data);
        free(db->path);
        free(db);
    }
    buf_free(&env->errmsg);
    free(env->envdir);
    free(env->configdir);
    free(env);
}

const char *
cyrusdb_env_configdir(const struct cyrusdb_env *env)
{
    return env->configdir;
}

int
cyrusdb_env_checkpoint(struct cyrusdb_env *env)
{
    int r;

    ASSERT(env->pid == getpid());
    if (env->dbenv == NULL && (r = cyrusdb_bdb_env_restart(env)) != 0)
        return cyrusdb_bdb_ioerr(env, "reopen", env->envdir, r);
    r = env->dbenv->txn_checkpoint(env->dbenv, 0, 0, 0);
    if (r == DB_RUNRECOVERY && cyrusdb_bdb_env_restart(env) == 0)
        r = env->dbenv->txn_checkpoint(env->dbenv, 0, 0, 0);
    if (r != 0)
        return cyrusdb_bdb_ioerr(env, "checkpoint", env->envdir, r);
    r = env->dbenv->log_archive(env->dbenv, NULL, DB_ARCH_REMOVE);
    if (r != 0)
        return cyrusdb_bdb_ioerr(env, "log_archive", env->envdir, r);
    return 0;
}

int
cyrusdb_flush(struct cyrusdb *db)
{
    struct cyrusdb_env *env = db->env;
    int r;

    ASSERT(env->pid == getpid());
    if (env->dbenv == NULL)
        return ERR_IO;
    r = env->dbenv->log_flush(env->dbenv, NULL);
    if (r != 0)
        return cyrusdb_bdb_ioerr(env, "log_flush", env->envdir, r);
    return 0;
}

int
cyrusdb_open(struct cyrusdb_env *env, const char *path, unsigned flags,
             struct cyrusdb **db_r)
{
    struct cyrusdb *db;
    struct buf abspath = BUF_INITIALIZER;
    const char *slash;
    int r;

    *db_r = NULL;
    ASSERT(env->pid == getpid());
    if (path == NULL || path[0] == '\0')
        return ERR_INVALID;
    if (path[0] != '/')
        buf_printf(&abspath, "%s/", env->configdir);
    buf_appendcstr(&abspath, path);
    if (flags & CYRUSDB_CREATE) {
        slash = strrchr(buf_cstring(&abspath), '/');
        if (slash != NULL && slash != buf_base(&abspath)) {
            char *dir =
                xstrndup(buf_base(&abspath), slash - buf_base(&abspath));

            if (util_mkdir_p(dir, 0750) < 0) {
                log_msg(LOG_ERR, "cyrusdb: cannot create %s: %s", dir,
                        strerror(errno));
                free(dir);
                buf_free(&abspath);
                return ERR_IO;
            }
            free(dir);
        }
    }
    db = xzmalloc(sizeof(*db));
    db->env = env;
    db->path = buf_release(&abspath);
    db->flags = flags;
    if (env->dbenv == NULL && (r = cyrusdb_bdb_env_restart(env)) != 0) {
        r = cyrusdb_bdb_ioerr(env, "reopen", env->envdir, r);
        goto fail;
    }
    r = cyrusdb_bdb_db_open(db);
    if (r == DB_RUNRECOVERY && cyrusdb_bdb_env_restart(env) == 0)
        r = cyrusdb_bdb_db_open(db);
    if (r == ENOENT) {
        r = ERR_NOTFOUND;
        goto fail;
    }
    if (r != 0) {
        r = cyrusdb_bdb_ioerr(env, "open", db->path, r);
        goto fail;
    }
    db->next = env->dbs;
    env->dbs = db;
    *db_r = db;
    return 0;

fail:
    free(db->path);
    free(db);
    return r;
}

int
cyrusdb_close(struct cyrusdb **dbp)
{
    struct cyrusdb *db = dbp ? *dbp : NULL;
    struct cyrusdb **pp;
    int r = 0;

    if (db == NULL)
        return 0;
    *dbp = NULL;
    for (pp = &db->env->dbs; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == db) {
            *pp = db->next;
            break;
        }
    }
    if (db->bdb != NULL && db->env->pid == getpid()) {
        r = db->bdb->close(db->bdb, cyrusdb_bdb_close_flags(db));
        if (r != 0)
            r = cyrusdb_bdb_ioerr(db->env, "close", db->path, r);
    }
    buf_free(&db->data);
    free(db->path);
    free(db);
    return r;
}

static int
txn_begin(struct cyrusdb_env *env, struct cyrusdb_txn **tid_r)
{
    DB_TXN *txn = NULL;
    struct cyrusdb_txn *t;
    int r;

    *tid_r = NULL;
    if (env->dbenv == NULL)
        return DB_RUNRECOVERY; /* an earlier reopen failed */
    r = env->dbenv->txn_begin(env->dbenv, NULL, &txn, 0);
    if (r != 0)
        return r;
    t = xzmalloc(sizeof(*t));
    t->env = env;
    t->txn = txn;
    t->gen = env->gen;
    env->open_txns++;
    *tid_r = t;
    return 0;
}

/* Commit (commit != 0) or abort t and free it; Berkeley DB code. */
static int
txn_end(struct cyrusdb *db, struct cyrusdb_txn *t, int commit)
{
    struct cyrusdb_env *env = t->env;
    int r;

    ASSERT(t->gen == env->gen);
    cyrusdb_bdb_op_begin(env);
    if (commit) {
        u_int32_t how = DB_TXN_SYNC;

        if (db->flags & CYRUSDB_NOSYNC)
            how = DB_TXN_NOSYNC;
        else if (db->flags & CYRUSDB_WRITE_NOSYNC)
            how = DB_TXN_WRITE_NOSYNC;
        r = t->txn->commit(t->txn, how);
    } else {
        r = t->txn->abort(t->txn);
    }
    cyrusdb_bdb_op_end(env);
    env->open_txns--;
    free(t);
    return r;
}

/* Map a Berkeley DB result of op on db to 0 or ERR_*. */
static int
op_result(struct cyrusdb *db, const char *what, int r)
{
    switch (r) {
    case 0:
        return 0;
    case DB_NOTFOUND:
    case DB_KEYEMPTY:
        return ERR_NOTFOUND;
    case DB_LOCK_DEADLOCK:
    case DB_LOCK_NOTGRANTED:
        return ERR_AGAIN;
    default:
        return cyrusdb_bdb_ioerr(db->env, what, db->path, r);
    }
}

/* Pause before retrying a deadlock, spread by pid so that the losers of a
 * cycle do not collide again in lockstep. The first retries are at once:
 * the detector already chose a single loser. */
static void
deadlock_backoff(int attempt)
{
    struct timespec ts;
    unsigned spread_us, us;

    if (attempt < 3)
        return;
    spread_us = attempt < 20 ? 1000u * (unsigned)attempt : 20000u;
    us = 100u
         + ((unsigned)getpid() * 2654435761u ^ (unsigned)attempt * 40503u)
               % spread_us;
    ts.tv_sec = 0;
    ts.tv_nsec = (long)us * 1000L;
    nanosleep(&ts, NULL);
}

/* Run op inside the caller's transaction (tid != NULL), beginning it if
 * *tid is NULL. */
static int
run_in_txn(struct cyrusdb *db, struct cyrusdb_txn **tid, const struct db_op *op)
{
    struct cyrusdb_env *env = db->env;
    int r;

    if (*tid == NULL) {
        r = txn_begin(env, tid);
        if (r == DB_RUNRECOVERY && cyrusdb_bdb_env_restart(env) == 0)
            r = txn_begin(env, tid);
        if (r != 0)
            return op_result(db, "begin", r);
    }
    ASSERT((*tid)->env == env);
    if ((*tid)->gen != env->gen)
        return ERR_AGAIN; /* lost to a recovery: abort and retry */
    if (db->bdb == NULL)
        return op_result(db, "reopen", DB_RUNRECOVERY);
    cyrusdb_bdb_op_begin(env);
    r = op->fn(db, (*tid)->txn, op->arg);
    cyrusdb_bdb_op_end(env);
    if (r == DB_LOCK_NOTGRANTED) {
        cyrusdb_bdb_env_failchk(env);
    } else if (r == DB_RUNRECOVERY) {
        if (cyrusdb_bdb_env_restart(env) == 0)
            return ERR_AGAIN;
    }
    return op_result(db, op->what, r);
}

/* Run op per the tid convention (cyrusdb.h); autocommit retries. */
static int
run_op(struct cyrusdb *db, struct cyrusdb_txn **tid, const struct db_op *op)
{
    struct cyrusdb_env *env = db->env;
    struct cyrusdb_txn *t;
    int r, deadlocks = 0, timeouts = 0, restarts = 0;

    ASSERT(env->pid == getpid());
    if (tid != NULL)
        return run_in_txn(db, tid, op);
    for (;;) {
        cyrusdb_bdb_op_begin(env);
        if (env->dbenv == NULL || db->bdb == NULL) {
            r = DB_RUNRECOVERY;
        } else if ((r = txn_begin(env, &t)) == 0) {
            r = op->fn(db, t->txn, op->arg);
            if (r == 0)
                r = txn_end(db, t, 1);
            else
                txn_end(db, t, 0);
        }
        cyrusdb_bdb_op_end(env);
        if (r == DB_LOCK_DEADLOCK && ++deadlocks < RETRY_DEADLOCKS) {
            deadlock_backoff(deadlocks);
            continue;
        }
        if (r == DB_LOCK_NOTGRANTED && ++timeouts < RETRY_TIMEOUTS) {
            cyrusdb_bdb_env_failchk(env);
            continue;
        }
        if (r == DB_RUNRECOVERY && ++restarts < RETRY_RESTARTS) {
            cyrusdb_bdb_env_restart(env);
            continue;
        }
        return op_result(db, op->what, r);
    }
}

static void
dbt_set(DBT *dbt, const char *p, size_t len)
{
    memset(dbt, 0, sizeof(*dbt));
    dbt->data = (void *)p;
    dbt->size = (u_int32_t)len;
}

struct key_arg {
    const char *key;
    size_t keylen;
    const char *data;
    size_t datalen;
};

static int
fetch_fn(struct cyrusdb *db, DB_TXN *txn, void *arg)
{
    const struct key_arg *ka = arg;
    DBT k, d;
    int r;

    dbt_set(&k, ka->key, ka->keylen);
    buf_reset(&db->data);
    buf_ensure(&db->data, 256);
    for (;;) {
        memset(&d, 0, sizeof(d));
        d.flags = DB_DBT_USERMEM;
        d.data = db->data.s;
        /* keep a byte for the NUL buf_cstring() adds */
        d.ulen = (u_int32_t)(db->data.alloc - 1);
        r = db->bdb->get(db->bdb, txn, &k, &d, 0);
        if (r != DB_BUFFER_SMALL)
            break;
        buf_ensure(&db->data, (size_t)d.size + 1);
    }
    if (r == 0)
        db->data.len = d.size;
    return r;
}

static int
store_fn(struct cyrusdb *db, DB_TXN *txn, void *arg)
{
    const struct key_arg *ka = arg;
    DBT k, d;

    dbt_set(&k, ka->key, ka->keylen);
    dbt_set(&d, ka->data, ka->datalen);
    return db->bdb->put(db->bdb, txn, &k, &d, 0);
}

static int
delete_fn(struct cyrusdb *db, DB_TXN *txn, void *arg)
{
    const struct key_arg *ka = arg;
    DBT k;

    dbt_set(&k, ka->key, ka->keylen);
    return db->bdb->del(db->bdb, txn, &k, 0);
}

/* Berkeley DB sizes are 32-bit. */
#define SIZE_OK(n) ((n) <= (size_t)UINT32_MAX - 1)

int
cyrusdb_fetch(struct cyrusdb *db, const char *key, size_t keylen,
              const char **data_r, size_t *datalen_r, struct cyrusdb_txn **tid)
{
    struct key_arg ka = {key, keylen, NULL, 0};
    struct db_op op = {"fetch", fetch_fn, &ka};
    int r;

    if (data_r != NULL)
        *data_r = NULL;
    if (datalen_r != NULL)
        *datalen_r = 0;
    if (keylen == 0 || !SIZE_OK(keylen))
        return ERR_NOTFOUND;
    r = run_op(db, tid, &op);
    if (r != 0)
        return r;
    if (data_r != NULL)
        *data_r = buf_cstring(&db->data);
    if (datalen_r != NULL)
        *datalen_r = buf_len(&db->data);
    return 0;
}

int
cyrusdb_store(struct cyrusdb *db, const char *key, size_t keylen,
              const char *data, size_t datalen, struct cyrusdb_txn **tid)
{
    struct key_arg ka = {key, keylen, data ? data : "", datalen};
    struct db_op op = {"store", store_fn, &ka};
    int r;

    if (keylen == 0 || !SIZE_OK(keylen) || !SIZE_OK(datalen)
        || (data == NULL && datalen > 0))
        return ERR_INVALID;
    r = run_op(db, tid, &op);
    if (r == 0)
        db->mods++;
    return r;
}

int
cyrusdb_delete(struct cyrusdb *db, const char *key, size_t keylen,
               struct cyrusdb_txn **tid, int force)
{
    struct key_arg ka = {key, keylen, NULL, 0};
    struct db_op op = {"delete", delete_fn, &ka};
    int r;

    if (keylen == 0 || !SIZE_OK(keylen))
        r = ERR_NOTFOUND;
    else
        r = run_op(db, tid, &op);
    if (r == 0)
        db->mods++;
    if (r == ERR_NOTFOUND && force)
        r = 0;
    return r;
}

/* A batch of records read by one cursor pass, each stored as
 * [u32 keylen][u32 datalen] key NUL data NUL. */
struct batch {
    struct buf recs;
    size_t count;
    int more; /* stopped at the batch limit, not at the end */
};

struct batch_arg {
    const char *prefix;
    size_t prefixlen;
    const struct buf *after; /* resume strictly after this key... */
    int have_after;          /* ...if set */
    struct batch *batch;
};

static void
batch_add(struct batch *b, const DBT *k, const DBT *d)
{
    uint32_t lens[2] = {k->size, d->size};

    buf_appendmap(&b->recs, lens, sizeof(lens));
    buf_appendmap(&b->recs, k->data, k->size);
    buf_putc(&b->recs, '\0');
    buf_appendmap(&b->recs, d->data, d->size);
    buf_putc(&b->recs, '\0');
    b->count++;
}

static int
has_prefix(const DBT *k, const char *prefix, size_t prefixlen)
{
    if (prefixlen == 0)
        return 1; /* prefix may be NULL */
    return k->size >= prefixlen && memcmp(k->data, prefix, prefixlen) == 0;
}

static int
read_batch_fn(struct cyrusdb *db, DB_TXN *txn, void *arg)
{
    const struct batch_arg *ba = arg;
    struct batch *b = ba->batch;
    DBC *c = NULL;
    DBT k, d;
    u_int32_t how = DB_SET_RANGE;
    int r, t;

    buf_reset(&b->recs);
    b->count = 0;
    b->more = 0;
    r = db->bdb->cursor(db->bdb, txn, &c, 0);
    if (r != 0)
        return r;
    memset(&k, 0, sizeof(k));
    memset(&d, 0, sizeof(d));
    k.flags = DB_DBT_REALLOC;
    d.flags = DB_DBT_REALLOC;
    /* DB_SET_RANGE reallocs the key it is given: pass a malloc'ed copy */
    if (ba->have_after) {
        k.data = xmemdup(buf_base(ba->after), buf_len(ba->after));
        k.size = (u_int32_t)buf_len(ba->after);
    } else if (ba->prefixlen > 0) {
        k.data = xmemdup(ba->prefix, ba->prefixlen);
        k.size = (u_int32_t)ba->prefixlen;
    } else {
        how = DB_FIRST;
    }
    r = c->get(c, &k, &d, how);
    if (r == 0 && ba->have_after && k.size == buf_len(ba->after)
        && memcmp(k.data, buf_base(ba->after), k.size) == 0)
        r = c->get(c, &k, &d, DB_NEXT);
    while (r == 0 && has_prefix(&k, ba->prefix, ba->prefixlen)) {
        if (b->count >= BATCH_RECORDS || buf_len(&b->recs) >= BATCH_BYTES) {
            b->more = 1;
            break;
        }
        batch_add(b, &k, &d);
        r = c->get(c, &k, &d, DB_NEXT);
    }
    if (r == DB_NOTFOUND)
        r = 0;
    t = c->close(c);
    if (r == 0)
        r = t;
    free(k.data);
    free(d.data);
    return r;
}

int
cyrusdb_foreach(struct cyrusdb *db, const char *prefix, size_t prefixlen,
                cyrusdb_foreach_cb *cb, void *ctx, struct cyrusdb_txn **tid)
{
    return cyrusdb_foreach_after(db, prefix, prefixlen, NULL, 0, cb, ctx, tid);
}

int
cyrusdb_foreach_after(struct cyrusdb *db, const char *prefix,
                      size_t prefixlen, const char *start, size_t startlen,
                      cyrusdb_foreach_cb *cb, void *ctx,
                      struct cyrusdb_txn **tid)
{
    struct batch batch = {BUF_INITIALIZER, 0, 0};
    struct buf after = BUF_INITIALIZER;
    struct batch_arg ba = {prefix, prefixlen, &after, 0, &batch};
    struct db_op op = {"foreach", read_batch_fn, &ba};
    const char *p;
    uint32_t lens[2];
    unsigned long mods;
    size_t i;
    int r;

    if (!SIZE_OK(prefixlen) || !SIZE_OK(startlen))
        return ERR_INVALID;
    /* a start before the prefix's range would begin the walk outside it */
    if (start != NULL && startlen >= prefixlen
        && (prefixlen == 0 || memcmp(start, prefix, prefixlen) >= 0)) {
        buf_setmap(&after, start, startlen);
        ba.have_after = 1;
    }
    for (;;) {
        r = run_op(db, tid, &op);
        if (r != 0)
            break;
        p = buf_base(&batch.recs);
        for (i = 0; i < batch.count; i++) {
            memcpy(lens, p, sizeof(lens));
            p += sizeof(lens);
            buf_setmap(&after, p, lens[0]);
            ba.have_after = 1;
            mods = db->mods;
            r = cb(ctx, p, lens[0], p + lens[0] + 1, lens[1]);
            if (r != 0)
                goto done;
            p += lens[0] + 1 + lens[1] + 1;
            /* cb changed the db: the rest of the batch may be stale */
            if (db->mods != mods)
                break;
        }
        if (i == batch.count && !batch.more)
            break;
    }
done:
    buf_free(&batch.recs);
    buf_free(&after);
    return r;
}

/* End tid: commit it (commit != 0) or abort it. A transaction that died
 * with its environment (reopened since, or DB_RUNRECOVERY now) cannot
 * commit, so a commit returns ERR_AGAIN; for an abort that is the outcome
 * asked for, so it returns 0. */
static int
txn_finish(struct cyrusdb *db, struct cyrusdb_txn *tid, int commit)
{
    struct cyrusdb_env *env = db->env;
    int lost = commit ? ERR_AGAIN : 0;
    int r;

    ASSERT(env->pid == getpid());
    if (tid == NULL)
        return 0; /* the begin failed: nothing to finish */
    ASSERT(tid->env == env);
    if (tid->gen != env->gen) {
        /* the env was reopened since: BDB already aborted it */
        free(tid);
        return lost;
    }
    r = txn_end(db, tid, commit);
    if (r == DB_RUNRECOVERY) {
        /* the transaction dies with the environment */
        cyrusdb_bdb_env_restart(env);
        return lost;
    }
    return op_result(db, commit ? "commit" : "abort", r);
}

int
cyrusdb_commit(struct cyrusdb *db, struct cyrusdb_txn *tid)
{
    return txn_finish(db, tid, 1);
}

int
cyrusdb_abort(struct cyrusdb *db, struct cyrusdb_txn *tid)
{
    return txn_finish(db, tid, 0);
}
