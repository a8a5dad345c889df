/* tlsconfig.h: TLS contexts built from imapd.conf (tls_* options).
 *
 * The one place that maps Cyrus's TLS options onto lib/tls.h, shared by
 * imapd, pop3d, lmtpd, mupdate and the proxy client side. */
#ifndef TLSCONFIG_H
#define TLSCONFIG_H

#include "config.h"
#include "tls.h"

/* Server context from tls_server_cert/tls_server_key (+ CA, versions,
 * ciphers). Returns NULL with *error_r NULL when tls_server_cert is not
 * set (TLS off), or NULL with an allocated *error_r on failure. */
struct tls_ctx *tlsconfig_server(const struct config *cfg, char **error_r);
/* Client context (tls_client_cert/key, tls_client_ca_file/dir; peers are
 * verified only when a CA is configured). NULL + *error_r on failure. */
struct tls_ctx *tlsconfig_client(const struct config *cfg, char **error_r);

#endif
