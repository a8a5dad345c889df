/* master.h: the master supervisor's shared state, private to master/.
 *
 * One process, one event loop (lib/loop.h). Files by concept:
 *   master.c    main(): options, pid file, startup order, signals, shutdown
 *   children.c  fork/exec of every child, the pid table, reaping
 *   services.c  SERVICES: listeners, worker pools, READY/BUSY, reload
 *   daemons.c   START (run to completion) and DAEMON (kept running)
 *   events.c    EVENTS (period=, at=, cron=)
 * The one mutable global is the context in master.c (STYLE.md rule 7);
 * everything else receives `struct master *`. */
#ifndef MASTER_H
#define MASTER_H

#include <stdint.h>
#include <sys/types.h>

#include "hash.h"
#include "loop.h"
#include "masterconf.h"
#include "ratelimit.h"
#include "strarray.h"

/* How long shutdown waits after SIGTERM before SIGKILL, and after SIGKILL
 * before giving up. */
#define MASTER_KILL_GRACE_MS 3000
#define MASTER_GIVEUP_MS     2000

struct service;
struct daemon;
struct event;
struct pool;

struct master {
    struct loop *loop;
    pid_t pid;
    const char *imapd_conf;  /* effective imapd.conf path (CYRUS_CONF) */
    int pass_conf;           /* -C given: pass "-C file" to children */
    const char *cyrus_conf;  /* absolute path of cyrus.conf */
    char *exe_dir;           /* directory of the master binary */
    struct masterconf *conf; /* the configuration in force */

    struct hash *children; /* "pid" -> struct child */
    struct service *services;
    struct service *retired; /* removed or replaced, children still alive */
    struct daemon *daemons;
    struct event *events;

    int shutting_down;
    long kill_timer;
};

enum child_kind {
    CHILD_START,
    CHILD_SERVICE,
    CHILD_DAEMON,
    CHILD_EVENT
};

enum child_state {
    CHILD_STARTING, /* forked, no status message yet */
    CHILD_READY,
    CHILD_BUSY
};

struct child {
    pid_t pid;
    enum child_kind kind;
    enum child_state state;
    char *name;        /* cyrus.conf entry name */
    struct pool *pool; /* CHILD_SERVICE: counts live there */
    int signalled;     /* we asked it to go: its death is no crash */
    uint64_t started_ms;
};

/* What to fork. fd3/fd4: passed as fds 3 and 4, -1 for none. */
struct child_spec {
    enum child_kind kind;
    const char *name;
    const struct strarray *argv; /* cmd words; argv[0] is looked up */
    int fd3, fd4;
    long maxfds; /* RLIMIT_NOFILE, 0: inherit */
};

/* children.c */
/* Fork and exec; the child is recorded in m->children. Returns it, or NULL
 * with a message in *error_r (caller frees; it does not repeat the entry
 * name) when the program cannot be found or fork() fails. An exec failure
 * happens in the child: it logs and exits with status 71. */
struct child *children_spawn(struct master *m, const struct child_spec *spec,
                             char **error_r);
/* Path of the program for cmd word `prog`: absolute as is; otherwise the
 * master binary's directory first, then $PATH. NULL if not executable. */
char *children_find_program(const struct master *m, const char *prog);
/* The live child with that pid, or NULL. */
struct child *children_find(const struct master *m, pid_t pid);
/* Remove a child from the table and free it (after waitpid() by the
 * caller, for START entries that are waited for synchronously). */
void children_forget(struct master *m, struct child **cp);
/* Send sig to one child and mark it as asked to go. */
void children_signal(struct master *m, struct child *c, int sig);
/* Send sig to every child. */
void children_signal_all(struct master *m, int sig);
unsigned children_count(const struct master *m);
/* Reap every exited child (SIGCHLD) and hand each to its owner. */
void children_reap(struct master *m);
/* "exited with status 3" / "killed by signal 9" for logs (static). */
const char *children_status_text(int status, char *buf, unsigned size);
/* Free the table (at exit). */
void children_free_all(struct master *m);

/* services.c */
/* Bind every SERVICES entry of m->conf. 0, or -1 after logging to stderr
 * and the log (startup: master exits). */
int services_start(struct master *m);
/* Fork prefork workers, watch listeners (after startup and daemons). */
void services_adjust_all(struct master *m);
/* SIGHUP: bring services in line with newconf. */
void services_reload(struct master *m, const struct masterconf *newconf);
/* A service child changed state or died. */
void services_child_exited(struct master *m, struct child *c, int status);
/* Shutdown: close every listener, stop forking. */
void services_stop(struct master *m);
void services_free_all(struct master *m);

/* daemons.c */
/* Run START entries in order. 0, or -1 ("can't run startup" logged). */
int daemons_run_start(struct master *m);
/* Start DAEMON entries in order, waiting for wait=y ones. 0 or -1. */
int daemons_start(struct master *m);
void daemons_reload(struct master *m, const struct masterconf *newconf);
void daemons_child_exited(struct master *m, struct child *c, int status);
void daemons_free_all(struct master *m);

/* events.c */
void events_start(struct master *m);
void events_reload(struct master *m, const struct masterconf *newconf);
void events_child_exited(struct master *m, struct child *c, int status);
void events_stop(struct master *m);
void events_free_all(struct master *m);

/* master.c: called by children.c when the last child is gone during
 * shutdown. */
void master_check_done(struct master *m);
/* master.c: report a startup error to the log and, since the admin who
 * starts master is watching, to stderr ("master: ..."). */
void master_startup_error(const char *fmt, ...) ATTR_FORMAT(1, 2);

#endif
