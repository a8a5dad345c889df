/* cyrusdb_bdb.h: Berkeley DB plumbing shared by cyrusdb.c and
 * cyrusdb_bdb.c. Internal to lib/cyrusdb*.c: nothing else includes it.
 *
 * cyrusdb_bdb.c owns the environment and database handles (open, close,
 * recovery after crashed processes, error reporting); cyrusdb.c builds the
 * public operations on top, with the retry and transaction rules. */
#ifndef CYRUSDB_BDB_H
#define CYRUSDB_BDB_H

#include <db.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "cyrusdb.h"
#include "util.h"

struct cyrusdb_env {
    DB_ENV *dbenv;
    char *envdir;
    char *configdir;
    pid_t pid;           /* the opener; a forked child must not touch BDB */
    unsigned gen;        /* bumped each time the env is reopened */
    unsigned open_txns;  /* begun and not yet committed/aborted */
    struct cyrusdb *dbs; /* open databases, reopened with the env */
    struct buf errmsg;   /* last message from Berkeley DB's errcall */
    /* Lock-wait watchdog (see cyrusdb_bdb.c): a thread that expires the
     * lock waits of this process once they exceed the lock timeout. */
    pthread_t watchdog;
    int watchdog_running;
    pthread_mutex_t watchdog_mutex;
    pthread_cond_t watchdog_cond;
    int watchdog_stop;      /* under watchdog_mutex */
    uint64_t op_started_ms; /* atomic: 0, or when the current call began */
    /* Stuck guard (see cyrusdb_bdb.c): a thread that never enters Berkeley
     * DB and ends the process when one call has been inside it for
     * stuck_ms, so that a hang on a dead process's mutex becomes a restart
     * plus recovery. */
    pthread_t guard;
    int guard_running;
    pthread_mutex_t guard_mutex;
    pthread_cond_t guard_cond;
    int guard_stop; /* under guard_mutex */
    uint64_t stuck_ms;
    /* One failchk run sees one answer per process (see env_isalive in
     * cyrusdb_bdb.c): the thread running it, and the pids found alive. */
    int failchk_running;
    pthread_t failchk_thread;
    pid_t *failchk_alive;
    size_t failchk_nalive, failchk_alloc;
};

struct cyrusdb {
    struct cyrusdb_env *env;
    DB *bdb; /* NULL if a reopen after recovery failed */
    char *path;
    unsigned flags;
    unsigned long mods; /* successful stores/deletes: foreach rereads */
    struct buf data;    /* cyrusdb_fetch() results */
    struct cyrusdb *next;
};

struct cyrusdb_txn {
    struct cyrusdb_env *env;
    DB_TXN *txn;
    unsigned gen; /* env->gen at begin: stale after a reopen */
};

/* Create and open env->dbenv (which must be NULL) in env->envdir with our
 * settings, and
 * start the watchdog on it. force_recovery: run normal recovery
 * unconditionally (and do not register). Returns a Berkeley DB code or
 * errno; BDB's message, if any, is in env->errmsg. */
int cyrusdb_bdb_env_open(struct cyrusdb_env *env, int force_recovery);
/* Stop the watchdog, close every database handle of env and the DB_ENV
 * handle (not the wrappers: db->bdb and env->dbenv become NULL). */
void cyrusdb_bdb_env_close(struct cyrusdb_env *env);
/* Open (or reopen) db->bdb from db->path and db->flags in env->dbenv,
 * retrying deadlocks. Returns a Berkeley DB code or errno (ENOENT). */
int cyrusdb_bdb_db_open(struct cyrusdb *db);

/* Bracket every call into Berkeley DB that may wait for a lock. */
static inline void
cyrusdb_bdb_op_begin(struct cyrusdb_env *env)
{
    __atomic_store_n(&env->op_started_ms, util_now_ms(), __ATOMIC_RELAXED);
}

static inline void
cyrusdb_bdb_op_end(struct cyrusdb_env *env)
{
    __atomic_store_n(&env->op_started_ms, 0, __ATOMIC_RELAXED);
}

/* DB->close() flags for db. */
static inline u_int32_t
cyrusdb_bdb_close_flags(const struct cyrusdb *db)
{
    /* the log makes commits durable; only caches skip the page flush */
    return (db->flags & CYRUSDB_NOSYNC) ? DB_NOSYNC : 0;
}

/* Reopen the environment and every open database after a panic
 * (DB_RUNRECOVERY), running recovery if the registry says it is needed.
 * Transactions begun earlier become stale (gen changes). Returns a
 * Berkeley DB code (0 on success). */
int cyrusdb_bdb_env_restart(struct cyrusdb_env *env);

/* Release what crashed processes left behind (DB_ENV->failchk), after a
 * lock wait timed out. Restarts the env if failchk demands recovery.
 * Returns a Berkeley DB code. */
int cyrusdb_bdb_env_failchk(struct cyrusdb_env *env);

/* Log "cyrusdb: <what> <path>: <db_strerror(r)>[: <last BDB message>]" at
 * LOG_ERR once, clear the saved message, and return ERR_IO. */
int cyrusdb_bdb_ioerr(struct cyrusdb_env *env, const char *what,
                      const char *path, int r);

#endif
