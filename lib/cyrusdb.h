/* cyrusdb.h: the key-value database interface behind every persistent
 * table (mailboxes.db, deliver.db, seen state, subscriptions, quotas, the
 * mupdate master's table), implemented on Berkeley DB 5.3.
 *
 * Model
 *   One environment per process per configdirectory: a Berkeley DB
 *   environment in {configdirectory}/db holding the shared cache, locks and
 *   the write-ahead log. Each database is a btree file in (or under) the
 *   configdirectory; keys and values are arbitrary bytes (NULs allowed),
 *   keys are ordered by memcmp() with a shorter key before its extensions.
 *   Several processes may read and write the same database at once.
 *
 * Transactions (Cyrus's convention for every tid argument)
 *   tid == NULL           autocommit: the call is its own transaction;
 *                         deadlocks and lock timeouts are retried here.
 *   tid != NULL, *tid == NULL
 *                         a transaction is begun and stored in *tid; the
 *                         caller must later cyrusdb_commit() or
 *                         cyrusdb_abort() it, whatever this call returned.
 *   tid != NULL, *tid != NULL
 *                         the call joins that transaction.
 *   A transaction belongs to the environment: it may span several
 *   databases of one env. Inside a caller's transaction ERR_AGAIN means
 *   "deadlock, or a lock wait over one second (the holder may be dead, or
 *   be another transaction of this very process), or the environment was
 *   recovered under us": abort it and retry from the start. Two open
 *   transactions of one process that touch the same pages therefore cost
 *   a second and an ERR_AGAIN: do not interleave them.
 *
 * Errors: 0, ERR_NOTFOUND, ERR_AGAIN, ERR_INVALID (misuse), ERR_IO (any
 * other Berkeley DB failure; its message is logged once, with the path).
 *
 * Crashed processes
 *   Opening an environment registers the process (DB_REGISTER). When an
 *   open finds that a process died with the environment open (kill -9), it
 *   releases that process's locks and aborts its transactions (failchk),
 *   or, when that is impossible (it died inside Berkeley DB holding a
 *   mutex), runs normal recovery. A live process that waits on a lock held
 *   by a dead one times out, runs the same check and retries; a live
 *   process whose environment was recovered by another one reopens it and
 *   its databases transparently (open handles stay valid). Berkeley DB
 *   enforces lock timeouts only when its deadlock detector runs, so each
 *   open env has a helper thread that runs it for this process when one
 *   of our calls has waited longer than the timeout (it is otherwise
 *   idle; signals are blocked in it).
 *
 * Processes and fork: an env and everything opened from it belong to the
 * process that opened them. After fork() the child must not use them; it
 * may call cyrusdb_close()/cyrusdb_env_close() on them, which then only
 * free memory. At most one env per envdir may be open in a process. */
#ifndef CYRUSDB_H
#define CYRUSDB_H

#include <stddef.h>

struct cyrusdb_env;
struct cyrusdb;
struct cyrusdb_txn;

/* cyrusdb_env_open() flags */
enum {
    /* Run normal recovery unconditionally (ctl_cyrusdb -r at startup).
     * Only safe while no other process uses the environment. */
    CYRUSDB_ENV_RECOVER = 1 << 0,
};

/* cyrusdb_open() flags */
enum {
    CYRUSDB_CREATE = 1 << 0, /* create the file (and its directory) */
    CYRUSDB_NOSYNC = 1 << 1, /* commits need not reach the disk: caches */
    /* Commits are written to the operating system (a process killed
     * right after one loses nothing) but not flushed to the disk: a
     * power loss or OS crash may lose the last ones, and recovery then
     * rolls the database back to an earlier consistent state. For tables
     * whose lost updates are harmless or re-derivable (deliver.db: a lost
     * mark costs at worst one duplicate delivery, never a message). */
    CYRUSDB_WRITE_NOSYNC = 1 << 2,
};

/* Open the environment in envdir ({configdirectory}/db), creating the
 * directory and the environment if missing. Returns NULL on failure with
 * *error_r set to an xmalloc'ed message naming envdir (caller frees); on
 * success *error_r is left untouched. */
struct cyrusdb_env *cyrusdb_env_open(const char *envdir, unsigned flags,
                                     char **error_r);
/* Close every database still open in the env (their handles become
 * invalid), then the env. Sets *envp to NULL; NULL or *envp == NULL is a
 * no-op. Commit or abort transactions first: Berkeley DB aborts any left
 * open, and their tids leak. */
void cyrusdb_env_close(struct cyrusdb_env **envp);
/* Checkpoint: flush dirty cache pages, write a checkpoint record, and
 * remove log files no longer needed for normal recovery. 0 or ERR_IO. */
int cyrusdb_env_checkpoint(struct cyrusdb_env *env);
/* The configdirectory (parent of envdir), without a trailing slash. Valid
 * while env is open. */
const char *cyrusdb_env_configdir(const struct cyrusdb_env *env);

/* Open the btree at path: absolute, or relative to the configdirectory.
 * flags: CYRUSDB_CREATE, CYRUSDB_NOSYNC, CYRUSDB_WRITE_NOSYNC. Returns 0 and
 * *db_r, ERR_NOTFOUND if the file does not exist and CYRUSDB_CREATE was not
 * given, or ERR_IO. A process should open each database once and keep the
 * handle. */
int cyrusdb_open(struct cyrusdb_env *env, const char *path, unsigned flags,
                 struct cyrusdb **db_r);
/* Close the handle and set *dbp to NULL (no-op on NULL). The caller must
 * have finished its transactions on it. 0 or ERR_IO; the handle is freed
 * either way. */
int cyrusdb_close(struct cyrusdb **dbp);

/* Look up key. 0 with *data_r and *datalen_r set (data is NUL-terminated for
 * convenience, not counted in *datalen_r; data_r may be NULL to test for
 * existence), ERR_NOTFOUND, ERR_AGAIN (in a caller's txn), ERR_IO. *data_r
 * is valid until the next call on db (a per-db buffer). */
int cyrusdb_fetch(struct cyrusdb *db, const char *key, size_t keylen,
                  const char **data_r, size_t *datalen_r,
                  struct cyrusdb_txn **tid);
/* Insert or replace key. keylen must be > 0. 0, ERR_AGAIN, ERR_INVALID,
 * ERR_IO. */
int cyrusdb_store(struct cyrusdb *db, const char *key, size_t keylen,
                  const char *data, size_t datalen, struct cyrusdb_txn **tid);
/* Remove key. An absent key is ERR_NOTFOUND unless force, then 0. */
int cyrusdb_delete(struct cyrusdb *db, const char *key, size_t keylen,
                   struct cyrusdb_txn **tid, int force);

/* Called for each record; key and data (NUL-terminated, not counted) are
 * valid during the call only, even if cb itself calls into this db.
 * Return 0 to continue, anything else to stop foreach with that value. */
typedef int cyrusdb_foreach_cb(void *ctx, const char *key, size_t keylen,
                               const char *data, size_t datalen);
/* Call cb in key order for each key starting with prefix[0..prefixlen)
 * (prefixlen 0: every key). Returns 0 after the last record, the first
 * nonzero cb return, or an error (ERR_AGAIN in a caller's txn, ERR_IO).
 *
 * No cursor or (outside a txn) lock is held while cb runs, so cb may call
 * cyrusdb_fetch/store/delete on the same db: with the same tid inside a
 * txn, or with tid NULL in autocommit. Each record passed to cb is current
 * when it is passed, as far as this handle's own changes go: keys cb
 * deletes are not visited later, keys cb stores after the current one
 * are. Outside a txn the traversal is not a snapshot: other processes'
 * concurrent changes may or may not be seen. */
int cyrusdb_foreach(struct cyrusdb *db, const char *prefix, size_t prefixlen,
                    cyrusdb_foreach_cb *cb, void *ctx,
                    struct cyrusdb_txn **tid);

/* The same, visiting only keys that sort strictly after
 * start[0..startlen) (start NULL: from the first key of the prefix; a
 * start below the prefix is ignored): resumes a walk that stopped at
 * start, e.g. one chunk of a long listing at a time. */
int cyrusdb_foreach_after(struct cyrusdb *db, const char *prefix,
                          size_t prefixlen, const char *start,
                          size_t startlen, cyrusdb_foreach_cb *cb, void *ctx,
                          struct cyrusdb_txn **tid);

/* Finish a transaction begun through a tid argument of an operation on db
 * or on another db of the same env. Commit is durable (log flushed) unless
 * db was opened CYRUSDB_NOSYNC or CYRUSDB_WRITE_NOSYNC (then as those
 * flags say); autocommit calls follow db's flags the same way. Both
 * free tid whatever they return; a NULL tid (the call that was to begin
 * it failed) is a no-op returning 0.
 * commit: 0, ERR_AGAIN (the txn was lost to a recovery), ERR_IO.
 * abort: 0 or ERR_IO. */
int cyrusdb_commit(struct cyrusdb *db, struct cyrusdb_txn *tid);
/* Flush the log of db's environment to disk: every commit made so far,
 * also those of CYRUSDB_WRITE_NOSYNC databases, is durable afterwards.
 * For an occasional change that must outlive a power loss in a table
 * whose routine updates are not flushed (quotas.db limits). 0 or ERR_IO. */
int cyrusdb_flush(struct cyrusdb *db);
int cyrusdb_abort(struct cyrusdb *db, struct cyrusdb_txn *tid);

#endif
