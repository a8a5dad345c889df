/* svcinit.h: the start-up steps every mail service (imapd, pop3d,
 * lmtpd) shares: its name, the database environment, the namespace,
 * SASL, TLS, and whether it is a murder frontend. */
#ifndef SVCINIT_H
#define SVCINIT_H

struct config;
struct cyrusdb_env;
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

/* Close and free what svcinit_start() opened (the servername is
 * static). */
void svcinit_fini(struct svcinit *si);

#endif
