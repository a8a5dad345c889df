/* cyrusdb_bdb.c: the Berkeley DB environment and database handles behind
 * cyrusdb.h: opening, closing, checkpoints, and getting back to a working
 * environment after another process crashed (see "Crashed processes" in
 * cyrusdb.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cyrusdb_bdb.h"
#include "errors.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#define KEEP_LEAKED(p) __lsan_ignore_object(p)
#else
#define KEEP_LEAKED(p) ((void)(p))
#endif

/* Shared cache for all databases of the environment. Fixed when the
 * environment is created; later openers' settings are ignored. */
#define ENV_CACHE_BYTES (4u * 1024 * 1024)
/* Lock table: enough for many processes with big transactions. */
#define ENV_MAX_LOCKS   50000
#define ENV_MAX_LOCKERS 10000
#define ENV_MAX_OBJECTS 50000
/* Initial size of the thread table failchk uses: two slots per process
 * (main thread and watchdog); it grows past this if the region has room,
 * and failchk, run at every open, reclaims the slots of dead processes. */
#define ENV_THREAD_COUNT 4096
/* A lock wait longer than this fails with DB_LOCK_NOTGRANTED: the holder
 * may be a process killed while holding it, which only failchk releases
 * (the deadlock detector cannot see a dead holder). Berkeley DB checks
 * timeouts only when deadlock detection runs, so the watchdog runs it. */
#define ENV_LOCK_TIMEOUT_MS 1000u
#define WATCHDOG_PERIOD_MS  500u
/* One call inside Berkeley DB for longer than this is stuck: a process
 * killed while holding one of Berkeley DB's internal mutexes (not a lock:
 * those time out) leaves every other process that needs that mutex
 * waiting forever, and Berkeley DB 5.3 cannot wake them. The stuck guard
 * then ends the process (EX_TEMPFAIL, logged) so that master starts a
 * fresh one, whose open runs failchk/recovery. CYRUSDB_STUCK_MS in the
 * environment overrides it (tests). */
#define ENV_STUCK_MS      60000u
#define GUARD_PERIOD_MS   1000u
#define EXIT_STUCK        75 /* EX_TEMPFAIL */
/* Log file size: checkpoints can only remove whole files. */
#define ENV_LOG_MAX (2u * 1024 * 1024)

#define ENV_OPEN_FLAGS                                                    \
    (DB_CREATE | DB_INIT_LOCK | DB_INIT_LOG | DB_INIT_MPOOL | DB_INIT_TXN \
     | DB_RECOVER | DB_FAILCHK | DB_THREAD)

static void
env_msgcall(const DB_ENV *dbenv, const char *msg)
{
    (void)dbenv;
    /* informational, e.g. failchk freeing a dead process's locks */
    log_msg(LOG_INFO, "cyrusdb: %s", msg);
}

static void
env_errcall(const DB_ENV *dbenv, const char *errpfx, const char *msg)
{
    struct cyrusdb_env *env = dbenv->app_private;

    (void)errpfx;
    /* Keep the last message only: the caller logs it once with context
     * (cyrusdb_bdb_ioerr). */
    if (env != NULL)
        buf_setcstr(&env->errmsg, msg);
}

/* The kernel's PF_EXITING task flag (linux/sched.h), field 9 of
 * /proc/PID/stat. */
#define PROC_PF_EXITING 0x4u

/* A zombie still answers kill(pid, 0) but will never release anything; nor
 * will a process the kernel is taking down (killed: PF_EXITING), which has
 * already dropped its file locks, so Berkeley DB's registry sees it dead
 * while kill(pid, 0) still finds it. */
static int
pid_is_gone(pid_t pid)
{
    struct buf path = BUF_INITIALIZER, stat = BUF_INITIALIZER;
    const char *p;
    unsigned long flags;
    int gone = 0;

    buf_printf(&path, "/proc/%ld/stat", (long)pid);
    if (buf_load_file(&stat, buf_cstring(&path)) == 0) {
        /* "pid (comm) S ppid pgrp session tty tpgid flags ...": comm may
         * contain ')' so use the last one */
        p = strrchr(buf_cstring(&stat), ')');
        if (p != NULL && p[1] == ' ') {
            if (p[2] == 'Z' || p[2] == 'X')
                gone = 1;
            else if (sscanf(p + 3, "%*d %*d %*d %*d %*d %lu", &flags) == 1
                     && (flags & PROC_PF_EXITING))
                gone = 1;
        }
    }
    buf_free(&path);
    buf_free(&stat);
    return gone;
}

static int
pid_is_alive(pid_t pid)
{
    if (pid == getpid())
        return 1;
    if (kill(pid, 0) < 0 && errno == ESRCH)
        return 0;
    return !pid_is_gone(pid);
}

/* DB_ENV->set_isalive: our processes are single-threaded, so a thread is
 * alive exactly when its process is.
 *
 * Within one failchk run, a process once found alive stays alive. failchk
 * cleans up in stages (threads, locks, transactions, file registrations,
 * then the dead process's own mutexes); a process killed while the run is
 * under way would otherwise be skipped by the early stages and have its
 * mutexes freed by the last one, leaving its file registrations pointing at
 * freed (soon reused) mutexes. The next failchk then waits forever on one
 * of those (__dbreg_failchk), inside DB_ENV->open of every new process.
 * Keeping the first answer leaves that process whole for the next run. */
static int
env_isalive(DB_ENV *dbenv, pid_t pid, db_threadid_t tid, u_int32_t flags)
{
    struct cyrusdb_env *env = dbenv->app_private;
    size_t i;

    (void)tid;
    (void)flags;
    if (env == NULL || !__atomic_load_n(&env->failchk_running, __ATOMIC_ACQUIRE)
        || !pthread_equal(env->failchk_thread, pthread_self()))
        return pid_is_alive(pid);
    for (i = 0; i < env->failchk_nalive; i++) {
        if (env->failchk_alive[i] == pid)
            return 1;
    }
    if (!pid_is_alive(pid))
        return 0;
    if (env->failchk_nalive == env->failchk_alloc) {
        env->failchk_alloc = env->failchk_alloc ? 2 * env->failchk_alloc : 16;
        env->failchk_alive = xreallocarray(env->failchk_alive,
                                           env->failchk_alloc, sizeof(pid_t));
    }
    env->failchk_alive[env->failchk_nalive++] = pid;
    return 1;
}

/* Bracket a call that may run failchk (DB_ENV->open with DB_REGISTER,
 * DB_ENV->failchk) in the calling thread. */
static void
failchk_run_begin(struct cyrusdb_env *env)
{
    env->failchk_thread = pthread_self();
    env->failchk_nalive = 0;
    __atomic_store_n(&env->failchk_running, 1, __ATOMIC_RELEASE);
}

static void
failchk_run_end(struct cyrusdb_env *env)
{
    __atomic_store_n(&env->failchk_running, 0, __ATOMIC_RELEASE);
    env->failchk_nalive = 0;
    free(env->failchk_alive);
    env->failchk_alive = NULL;
    env->failchk_alloc = 0;
}

static int
failchk_run(struct cyrusdb_env *env)
{
    int r;

    failchk_run_begin(env);
    r = env->dbenv->failchk(env->dbenv, 0);
    failchk_run_end(env);
    return r;
}

/* Wait on cond until stop is set or period_ms passed: 1 if stopped. */
static int
thread_nap(pthread_mutex_t *mutex, pthread_cond_t *cond, const int *stop,
           unsigned period_ms)
{
    struct timespec deadline;

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_nsec += (long)period_ms * 1000000L;
    deadline.tv_sec += deadline.tv_nsec / 1000000000L;
    deadline.tv_nsec %= 1000000000L;
    pthread_cond_timedwait(cond, mutex, &deadline);
    return *stop;
}

/* The watchdog thread. A process blocked on a lock held by a process that
 * was killed would wait forever: nobody runs the deadlock detector, which
 * is what enforces lock timeouts. So while a call of ours has been inside
 * Berkeley DB for longer than the lock timeout, this thread expires timed
 * out waits (DB_LOCK_EXPIRE); the caller then sees DB_LOCK_NOTGRANTED,
 * runs failchk and retries. Idle processes only wake up periodically. */
static void *
watchdog_main(void *arg)
{
    struct cyrusdb_env *env = arg;
    uint64_t started;

    pthread_mutex_lock(&env->watchdog_mutex);
    while (!thread_nap(&env->watchdog_mutex, &env->watchdog_cond,
                       &env->watchdog_stop, WATCHDOG_PERIOD_MS)) {
        started = __atomic_load_n(&env->op_started_ms, __ATOMIC_RELAXED);
        if (started != 0 && util_now_ms() - started > ENV_LOCK_TIMEOUT_MS)
            env->dbenv->lock_detect(env->dbenv, 0, DB_LOCK_EXPIRE, NULL);
    }
    pthread_mutex_unlock(&env->watchdog_mutex);
    return NULL;
}

/* The stuck guard thread (ENV_STUCK_MS). It only reads op_started_ms:
 * the watchdog cannot do this, it may be stuck in lock_detect on the
 * same mutex as the main thread. */
static void *
guard_main(void *arg)
{
    struct cyrusdb_env *env = arg;
    uint64_t started, now;

    pthread_mutex_lock(&env->guard_mutex);
    while (!thread_nap(&env->guard_mutex, &env->guard_cond, &env->guard_stop,
                       GUARD_PERIOD_MS)) {
        started = __atomic_load_n(&env->op_started_ms, __ATOMIC_RELAXED);
        now = util_now_ms();
        if (started != 0 && now > started && now - started > env->stuck_ms) {
            log_msg(LOG_CRIT,
                    "cyrusdb: a call has been inside Berkeley DB for %llu ms "
                    "(a process probably died holding one of its mutexes in "
                    "%s): exiting so that a fresh process recovers",
                    (unsigned long long)(now - started), env->envdir);
            _exit(EXIT_STUCK);
        }
    }
    pthread_mutex_unlock(&env->guard_mutex);
    return NULL;
}

/* Start fn in a thread that blocks every signal (they stay with the main
 * thread), with its mutex and a CLOCK_MONOTONIC cond. 1 if running. */
static int
thread_start(pthread_t *th, pthread_mutex_t *mutex, pthread_cond_t *cond,
             void *(*fn)(void *), void *arg)
{
    pthread_condattr_t attr;
    sigset_t all, old;
    int running;

    pthread_mutex_init(mutex, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(cond, &attr);
    pthread_condattr_destroy(&attr);
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    running = pthread_create(th, NULL, fn, arg) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!running) {
        pthread_cond_destroy(cond);
        pthread_mutex_destroy(mutex);
    }
    return running;
}

/* Set *stop under mutex, wake and join the thread, free its sync. */
static void
thread_stop(pthread_t th, pthread_mutex_t *mutex, pthread_cond_t *cond,
            int *stop)
{
    pthread_mutex_lock(mutex);
    *stop = 1;
    pthread_cond_signal(cond);
    pthread_mutex_unlock(mutex);
    pthread_join(th, NULL);
    pthread_cond_destroy(cond);
    pthread_mutex_destroy(mutex);
}

static void
watchdog_start(struct cyrusdb_env *env)
{
    const char *stuck = getenv("CYRUSDB_STUCK_MS");

    env->watchdog_stop = 0;
    env->watchdog_running =
        thread_start(&env->watchdog, &env->watchdog_mutex,
                     &env->watchdog_cond, watchdog_main, env);
    if (!env->watchdog_running)
        log_msg(LOG_WARNING, "cyrusdb: no lock watchdog for %s", env->envdir);
    env->stuck_ms = ENV_STUCK_MS;
    if (stuck != NULL && strtoull(stuck, NULL, 10) > 0)
        env->stuck_ms = strtoull(stuck, NULL, 10);
    env->guard_stop = 0;
    env->guard_running = thread_start(&env->guard, &env->guard_mutex,
                                      &env->guard_cond, guard_main, env);
    if (!env->guard_running)
        log_msg(LOG_WARNING, "cyrusdb: no stuck guard for %s", env->envdir);
}

static void
watchdog_stop(struct cyrusdb_env *env)
{
    if (env->watchdog_running)
        thread_stop(env->watchdog, &env->watchdog_mutex, &env->watchdog_cond,
                    &env->watchdog_stop);
    env->watchdog_running = 0;
    if (env->guard_running)
        thread_stop(env->guard, &env->guard_mutex, &env->guard_cond,
                    &env->guard_stop);
    env->guard_running = 0;
}

int
cyrusdb_bdb_env_open(struct cyrusdb_env *env, int force_recovery)
{
    DB_ENV *dbenv = NULL;
    u_int32_t flags = ENV_OPEN_FLAGS;
    int r;

    ASSERT(env->dbenv == NULL);
    r = db_env_create(&dbenv, 0);
    if (r != 0)
        return r;
    dbenv->app_private = env;
    dbenv->set_errcall(dbenv, env_errcall);
    dbenv->set_msgcall(dbenv, env_msgcall);
    if ((r = dbenv->set_cachesize(dbenv, 0, ENV_CACHE_BYTES, 1)) != 0
        || (r = dbenv->set_lg_max(dbenv, ENV_LOG_MAX)) != 0
        || (r = dbenv->set_lk_max_locks(dbenv, ENV_MAX_LOCKS)) != 0
        || (r = dbenv->set_lk_max_lockers(dbenv, ENV_MAX_LOCKERS)) != 0
        || (r = dbenv->set_lk_max_objects(dbenv, ENV_MAX_OBJECTS)) != 0
        || (r = dbenv->set_lk_detect(dbenv, DB_LOCK_DEFAULT)) != 0
        || (r = dbenv->set_timeout(dbenv, ENV_LOCK_TIMEOUT_MS * 1000u,
                                   DB_SET_LOCK_TIMEOUT))
               != 0
        /* a timed out wait reports DB_LOCK_NOTGRANTED, not DEADLOCK */
        || (r = dbenv->set_flags(dbenv, DB_TIME_NOTGRANTED, 1)) != 0
        || (r = dbenv->set_thread_count(dbenv, ENV_THREAD_COUNT)) != 0
        || (r = dbenv->set_isalive(dbenv, env_isalive)) != 0) {
        dbenv->close(dbenv, 0);
        return r;
    }
    /* DB_REGISTER: recover only when a registered process died with the
     * environment open; with DB_FAILCHK it first tries to just release
     * the dead process's locks and abort its transactions, and falls back
     * to recovery (panicking the other processes, which then reopen via
     * cyrusdb_bdb_env_restart) when that is not enough. Forced recovery
     * (ctl_cyrusdb -r) must skip DB_REGISTER, which would cancel
     * DB_RECOVER when no crash is registered. */
    if (!force_recovery)
        flags |= DB_REGISTER;
    failchk_run_begin(env);
    r = dbenv->open(dbenv, env->envdir, flags, 0);
    failchk_run_end(env);
    if (r != 0) {
        dbenv->close(dbenv, 0);
        return r;
    }
    env->dbenv = dbenv;
    watchdog_start(env);
    return 0;
}

int
cyrusdb_bdb_db_open(struct cyrusdb *db)
{
    DB *bdb = NULL;
    u_int32_t flags = DB_AUTO_COMMIT;
    int r, tries;

    if (db->flags & CYRUSDB_CREATE)
        flags |= DB_CREATE;
    for (tries = 0;; tries++) {
        r = db_create(&bdb, db->env->dbenv, 0);
        if (r != 0)
            return r;
        cyrusdb_bdb_op_begin(db->env);
        r = bdb->open(bdb, NULL, db->path, NULL, DB_BTREE, flags, 0);
        cyrusdb_bdb_op_end(db->env);
        if (r == 0) {
            db->bdb = bdb;
            return 0;
        }
        bdb->close(bdb, DB_NOSYNC);
        /* two processes creating the same file may deadlock */
        if ((r != DB_LOCK_DEADLOCK && r != DB_LOCK_NOTGRANTED) || tries >= 20)
            return r;
        /* no restart from here (we may be inside one): if failchk asks
         * for recovery, the next attempt fails and our caller restarts */
        if (r == DB_LOCK_NOTGRANTED)
            failchk_run(db->env);
    }
}

void
cyrusdb_bdb_env_close(struct cyrusdb_env *env)
{
    struct cyrusdb *db;

    watchdog_stop(env);
    /* In a panicked environment, close only drops our registry slot and
     * file handles (returning DB_RUNRECOVERY without waiting for mutexes a
     * dead process may hold) and frees nothing: a deliberate leak, rare
     * and small, which LeakSanitizer is told about. */
    for (db = env->dbs; db != NULL; db = db->next) {
        if (db->bdb != NULL)
            db->bdb->close(db->bdb, cyrusdb_bdb_close_flags(db));
        db->bdb = NULL;
    }
    if (env->dbenv != NULL
        && env->dbenv->close(env->dbenv, 0) == DB_RUNRECOVERY)
        KEEP_LEAKED(env->dbenv);
    env->dbenv = NULL;
}

int
cyrusdb_bdb_env_restart(struct cyrusdb_env *env)
{
    struct cyrusdb *db;
    int r, dbr;

    ASSERT(env->pid == getpid());
    log_msg(LOG_NOTICE, "cyrusdb: reopening environment %s after a panic",
            env->envdir);
    cyrusdb_bdb_env_close(env);
    env->gen++;
    env->open_txns = 0; /* BDB aborted them with the old handle */
    r = cyrusdb_bdb_env_open(env, 0);
    if (r != 0)
        return r;
    for (db = env->dbs; db != NULL; db = db->next) {
        dbr = cyrusdb_bdb_db_open(db);
        if (dbr != 0 && r == 0)
            r = dbr;
    }
    return r;
}

int
cyrusdb_bdb_env_failchk(struct cyrusdb_env *env)
{
    int r;

    if (env->dbenv == NULL)
        return cyrusdb_bdb_env_restart(env);
    r = failchk_run(env);
    if (r == DB_RUNRECOVERY) {
        /* A process died inside Berkeley DB, maybe holding a mutex: only
         * recovery helps. Panic the environment so that every process
         * (us included) stops waiting and reopens; the first reopen runs
         * recovery (DB_REGISTER finds the dead process). */
        log_msg(LOG_WARNING, "cyrusdb: %s: %s", env->envdir,
                buf_len(&env->errmsg) ? buf_cstring(&env->errmsg)
                                      : db_strerror(r));
        buf_reset(&env->errmsg);
        env->dbenv->set_flags(env->dbenv, DB_PANIC_ENVIRONMENT, 1);
        r = cyrusdb_bdb_env_restart(env);
    } else if (r != 0) {
        /* failchk could not clean up everything; the wait will time out
         * again and we retry */
        log_msg(LOG_NOTICE, "cyrusdb: failchk %s: %s", env->envdir,
                buf_len(&env->errmsg) ? buf_cstring(&env->errmsg)
                                      : db_strerror(r));
        buf_reset(&env->errmsg);
    }
    return r;
}

int
cyrusdb_bdb_ioerr(struct cyrusdb_env *env, const char *what, const char *path,
                  int r)
{
    if (buf_len(&env->errmsg) > 0) {
        log_msg(LOG_ERR, "cyrusdb: %s %s: %s: %s", what, path, db_strerror(r),
                buf_cstring(&env->errmsg));
    } else {
        log_msg(LOG_ERR, "cyrusdb: %s %s: %s", what, path, db_strerror(r));
    }
    buf_reset(&env->errmsg);
    return ERR_IO;
}
