/* tlsconfig.c: TLS contexts built from imapd.conf. */
#include <stddef.h>
#include <string.h>

#include "tlsconfig.h"

static void
common(const struct config *cfg, struct tls_config *tc)
{
    memset(tc, 0, sizeof(*tc));
    tc->versions = config_str(cfg, CFG_TLS_VERSIONS);
    tc->ciphers = config_str(cfg, CFG_TLS_CIPHERS);
}

struct tls_ctx *
tlsconfig_server(const struct config *cfg, char **error_r)
{
    struct tls_config tc;
    struct tls_ctx *ctx = NULL;

    *error_r = NULL;
    if (config_str(cfg, CFG_TLS_SERVER_CERT) == NULL)
        return NULL;
    common(cfg, &tc);
    tc.cert_file = config_str(cfg, CFG_TLS_SERVER_CERT);
    tc.key_file = config_str(cfg, CFG_TLS_SERVER_KEY);
    tc.ca_file = config_str(cfg, CFG_TLS_SERVER_CA_FILE);
    tc.prefer_server_ciphers = config_switch(cfg, CFG_TLS_PREFER_SERVER_CIPHERS);
    tc.verify = TLS_VERIFY_NONE;
    if (tls_ctx_new(TLS_ROLE_SERVER, &tc, &ctx, error_r) < 0)
        return NULL;
    return ctx;
}

struct tls_ctx *
tlsconfig_client(const struct config *cfg, char **error_r)
{
    struct tls_config tc;
    struct tls_ctx *ctx = NULL;

    *error_r = NULL;
    common(cfg, &tc);
    tc.cert_file = config_str(cfg, CFG_TLS_CLIENT_CERT);
    tc.key_file = config_str(cfg, CFG_TLS_CLIENT_KEY);
    tc.ca_file = config_str(cfg, CFG_TLS_CLIENT_CA_FILE);
    tc.ca_dir = config_str(cfg, CFG_TLS_CLIENT_CA_DIR);
    tc.verify = (tc.ca_file || tc.ca_dir) ? TLS_VERIFY_REQUIRE
                                          : TLS_VERIFY_NONE;
    if (tls_ctx_new(TLS_ROLE_CLIENT, &tc, &ctx, error_r) < 0)
        return NULL;
    return ctx;
}
