/* service.h: the common main() of every service program (imapd, pop3d,
 * lmtpd, mupdate, echotest) and the wire format between a service process
 * and master.
 *
 * A service program's main is just
 *
 *     static const struct service_ops ops = {
 *         .name = "imapd", .init = imapd_init,
 *         .connection = imapd_connection, .fini = imapd_fini};
 *
 *     int
 *     main(int argc, char **argv)
 *     {
 *         return service_main(argc, argv, &ops);
 *     }
 *
 * (use designated initializers: struct service_ops may grow optional
 * fields, like serve below)
 *
 * service_main() parses the common options
 *     -C file   imapd.conf to load (else $CYRUS_CONF, else /etc/imapd.conf)
 *     -U uses   connections to serve before exiting (default 250, 0: no limit)
 *     -T secs   exit after this many idle seconds (default 60, 0: never)
 * removes them from argv, loads the configuration for service name
 * $CYRUS_SERVICE (else ops->name, else the program's base name), sets the
 * global `config`, calls log_init() with that name, ignores SIGPIPE (writes
 * to a closed socket return EPIPE), calls ops->init() once and then serves
 * in one of two modes:
 *
 * (a) Under master: fd 3 is a listening socket (SERVICE_LISTEN_FD) and fd 4
 *     the status pipe (SERVICE_STATUS_FD). The process accepts on fd 3 by
 *     itself, reporting READY when it waits for a client and BUSY when it
 *     has one, and exits after `uses` connections or `secs` idle seconds.
 *     SIGTERM and SIGHUP are blocked except while waiting: either one then
 *     makes the process finish (fini, exit 0). While ops->connection() runs,
 *     SIGTERM has its default action (the session dies at once, unless
 *     ops->init() installed a handler) and SIGHUP stays pending, so a
 *     session ends normally and the process exits afterwards: master sends
 *     SIGHUP to retire a service on reload and SIGTERM at shutdown.
 * (b) Standalone (fd 3 is not a listening socket), for debugging and tools:
 *     one connection on fd 0 if fd 0 is a socket (inetd style); otherwise
 *     stdin/stdout are relayed through a socketpair by a helper process, so
 *     connection() always gets one bidirectional socket. Then exit.
 *
 * The connection fd is blocking and close-on-exec; service_main() closes it
 * after connection() returns. */
#ifndef SERVICE_H
#define SERVICE_H

#include <stdint.h>

#define SERVICE_LISTEN_FD 3
#define SERVICE_STATUS_FD 4

/* Status messages, child -> master, on the status pipe shared by all the
 * children of one listener. Fixed size (a pipe write of at most PIPE_BUF
 * bytes is atomic, so messages from several children never interleave),
 * host byte order (both ends are on the same machine). */
enum service_status_type {
    SERVICE_STATUS_READY = 1, /* waiting in accept() */
    SERVICE_STATUS_BUSY = 2   /* serving a client, or about to exit */
};

struct service_status {
    uint32_t type; /* enum service_status_type */
    uint32_t pid;
};

/* What a connection handler knows about its client. The strings live until
 * connection() returns. */
struct service_conn {
    const char *service; /* the service name (cyrus.conf entry) */
    const char *local;   /* "ip;port" of our end, "" for UNIX / stdin */
    const char *remote;  /* "ip;port" of the client, "" for UNIX / stdin */
    int is_unix;         /* the client came through a UNIX socket */
    int standalone;      /* not started by master */
    unsigned use;        /* 1 for the first connection of this process */
};

struct service_ops {
    /* program name: the service name when $CYRUS_SERVICE is unset */
    const char *name;
    /* Once per process, after the config is loaded and before the first
     * connection; argv holds argv[0] and the options service_main() did not
     * consume. Return 0, or non-zero with a message in *err (static or
     * malloc'd is fine: it is only logged, never freed) to refuse to start:
     * the process then exits with EX_CONFIG (78). May be NULL. */
    int (*init)(int argc, char **argv, char **err);
    /* One client on fd. Must not close fd. */
    void (*connection)(int fd, const struct service_conn *info);
    /* Before a normal exit. May be NULL. */
    void (*fini)(void);
    /* Optional, for event-driven servers that handle many clients in one
     * process (the mupdate master): under master, called once instead of
     * the accept loop with the listening socket (non-blocking, fd 3). The
     * process reports READY first and stays READY, so master never forks a
     * second worker for it while it runs. Signals keep their default
     * actions (use loop_add_signal() for SIGTERM/SIGHUP). Return to exit;
     * info->use stays 0. Standalone mode still uses connection(). */
    void (*serve)(int listen_fd, const struct service_conn *info);
};

/* Run the service; returns the process exit status (0, or 78 when the
 * configuration or init() failed, 64 on bad options). */
int service_main(int argc, char **argv, const struct service_ops *ops);

/* From inside connection(): has master asked this process to finish (a
 * pending SIGHUP or SIGTERM)? Long sessions (IDLE) may check it to end
 * early. */
int service_stop_requested(void);

#endif
