/* svcinit.h: the start-up steps every mail service (imapd, pop3d,
 * lmtpd) shares: its name, the database environment, the namespace,
 * SASL, TLS, and whether it is a murder frontend. */
#ifndef SVCINIT_H
#define SVCINIT_H

struct config;
struct cyrusdb_env;
struct stream;
struct namespace;
struct tls_ctx;

struct svcinit {
    const char *servername;    /* servername:, else the host name */
    struct cyrusdb_env *dbenv; /* configdirectory/db */
    struct namespace *ns;      /* from the namespace options */
    struct tls_ctx *tls;       /* NULL when no tls_server_cert is set */
    int frontend;              /* mupdate_server set, proxyservers not */
};

/* Fill *si from cfg, in this order: servername, the database
 * environment, the namespace, the SASL server (and, on a frontend, the
 * SASL client, which must come after it), the TLS server context.
 * implicit_tls names the service ("imaps", "pop3s") when it was started
 * with -s, which then needs a certificate; NULL otherwise. On failure
 * returns -1 with an allocated *err; what was opened stays in *si for
 * svcinit_fini(). */
int svcinit_start(const struct config *cfg, const char *implicit_tls,
                  struct svcinit *si, char **err);

/* Longest wait for a client's TLS handshake on an implicit-TLS port
 * (imaps, pop3s): a client that connects and says nothing (a plaintext
 * client on the TLS port) is let go after this, not after the session's
 * idle timeout. */
#define SVCINIT_TLS_HANDSHAKE_MS (60 * 1000)

/* The TLS handshake of a connection to an implicit-TLS port: waits at
 * most handshake_ms (SVCINIT_TLS_HANDSHAKE_MS; idle_ms if that is
 * shorter and >= 0), then puts the stream's timeout back to idle_ms (< 0:
 * no limit). 0, or -1 after logging "<service> TLS failed from <remote>:
 * why". */
int svcinit_implicit_tls(struct stream *s, struct tls_ctx *tls, int idle_ms,
                         int handshake_ms, const char *service,
                         const char *remote);

/* Close and free what svcinit_start() opened (the servername is
 * static). */
void svcinit_fini(struct svcinit *si);

#endif
