/* listen.h: cyrus.conf `listen=` addresses: parse them, bind them.
 *
 * Accepted forms (as Cyrus): `/path` (a UNIX socket), `port`, `host:port`,
 * `[v6addr]:port`, `*:port` (all interfaces). The port is a number
 * (1..65535) or a name from /etc/services; the host a name or a literal
 * address. A bare IPv6 address must be in brackets. */
#ifndef LISTEN_H
#define LISTEN_H

#include <stddef.h>

struct listen_spec {
    char *path; /* UNIX socket path, or NULL */
    char *host; /* NULL: every interface */
    char *port; /* NULL for a UNIX socket */
};

/* Parse `listen` (pure, no name lookups). Returns 0 and fills *spec_r
 * (free with listen_spec_fini()), or ERR_SYNTAX with a static reason in
 * *error_r and *spec_r empty. */
int listen_parse(const char *listen, struct listen_spec *spec_r,
                 const char **error_r);
void listen_spec_fini(struct listen_spec *spec);

/* Is proto one of tcp, tcp4, tcp6 (the ones master serves)? */
int listen_proto_ok(const char *proto);

/* Bind and listen on every address spec resolves to for proto ("tcp": v4
 * and v6, "tcp4", "tcp6"; ignored for UNIX sockets). The sockets are
 * non-blocking and close-on-exec; IPv6 ones are v6-only so that the v4
 * wildcard can be bound beside them. A UNIX socket replaces a stale socket
 * file at path (never another kind of file) and is made world-connectable,
 * as Cyrus does for lmtp.
 * Addresses the host cannot have (no IPv6, EADDRNOTAVAIL) are skipped and
 * logged as long as one address is bound. Returns the number of fds
 * appended to *fds_r (realloc'd array of *nfds_r entries, caller frees),
 * or ERR_IO with a message in *error_r (caller frees) and nothing bound. */
int listen_bind(const struct listen_spec *spec, const char *proto, int **fds_r,
                size_t *nfds_r, char **error_r);

#endif
