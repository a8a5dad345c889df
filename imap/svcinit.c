/* svcinit.c: the start-up steps the mail services share (svcinit.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "cyrusdb.h"
#include "namespace.h"
#include "nsconfig.h"
#include "log.h"
#include "saslglue.h"
#include "stream.h"
#include "svcinit.h"
#include "tls.h"
#include "tlsconfig.h"
#include "util.h"
#include "xmalloc.h"

static const char *
svcinit_servername(const struct config *cfg)
{
    static char host[256];
    const char *name = config_str(cfg, CFG_SERVERNAME);

    if (name != NULL)
        return name;
    if (gethostname(host, sizeof(host) - 1) < 0 || host[0] == '\0')
        snprintf(host, sizeof(host), "localhost");
    return host;
}

int
svcinit_start(const struct config *cfg, const char *implicit_tls,
              struct svcinit *si, char **err)
{
    struct buf path = BUF_INITIALIZER;
    const char *nserr = NULL;

    memset(si, 0, sizeof(*si));
    *err = NULL;
    si->servername = svcinit_servername(cfg);
    buf_printf(&path, "%s/db", config_str(cfg, CFG_CONFIGDIRECTORY));
    si->dbenv = cyrusdb_env_open(buf_cstring(&path), 0, err);
    buf_free(&path);
    if (si->dbenv == NULL)
        return -1;
    if (nsconfig_load(cfg, &si->ns, &nserr) < 0) {
        *err = xstrdup(nserr ? nserr : "bad namespace settings");
        return -1;
    }
    if (saslglue_server_init("Cyrus", cfg) < 0) {
        *err = xstrdup("SASL initialisation failed");
        return -1;
    }
    si->frontend = config_isset(cfg, CFG_MUPDATE_SERVER)
                   && !config_isset(cfg, CFG_PROXYSERVERS);
    /* after the server init: libsasl keeps the first init's callbacks */
    if (si->frontend && saslglue_client_init() < 0) {
        *err = xstrdup("SASL client initialisation failed");
        return -1;
    }
    si->tls = tlsconfig_server(cfg, err);
    if (si->tls == NULL && *err)
        return -1;
    if (si->tls == NULL && implicit_tls) {
        struct buf msg = BUF_INITIALIZER;

        buf_printf(&msg, "%s (-s) needs tls_server_cert and tls_server_key",
                   implicit_tls);
        *err = buf_release(&msg);
        return -1;
    }
    return 0;
}

int
svcinit_implicit_tls(struct stream *s, struct tls_ctx *tls, int idle_ms,
                     int handshake_ms, const char *service, const char *remote)
{
    char *err = NULL;
    int wait = handshake_ms, r;

    if (idle_ms >= 0 && idle_ms < wait)
        wait = idle_ms;
    stream_set_timeout(s, wait);
    r = stream_starttls_server(s, tls, &err);
    stream_set_timeout(s, idle_ms);
    if (r < 0) {
        log_msg(LOG_NOTICE, "%s TLS failed from %s: %s", service,
                remote && *remote ? remote : "?", err ? err : "?");
        free(err);
        return -1;
    }
    return 0;
}

void
svcinit_fini(struct svcinit *si)
{
    tls_ctx_free(&si->tls);
    namespace_free(&si->ns);
    cyrusdb_env_close(&si->dbenv);
}
