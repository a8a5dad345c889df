/* saslglue.c: libsasl2 glue, the parts both sides share: base64, option
 * lookups, the getopt and log callbacks.
 *
 * Server side: saslserver.c; client side: saslclient.c. Contracts are in
 * saslglue.h. */
#include <limits.h>
#include <stdint.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>

#include "base64.h"
#include "errors.h"
#include "hash.h"
#include "log.h"
#include "saslglue.h"
#include "saslglue_int.h"
#include "xmalloc.h"

/* ---- base64 (RFC 4648 section 4) ----------------------------------- */

void
saslglue_b64_encode(const void *data, size_t len, struct buf *out)
{
    base64_encode(data, len, out);
}

int
saslglue_b64_decode(const char *in, size_t len, struct buf *out)
{
    return base64_decode(in, len, out);
}

/* ---- configuration lookups ---------------------------------------- */

/* Index of the known option called name, or -1. */
static int
known_option(const char *name)
{
    int i;

    for (i = 0; i < (int)CFG__COUNT; i++) {
        if (strcmp(config_option_name((enum config_option)i), name) == 0)
            return i;
    }
    return -1;
}

const char *
saslglue_config_str(const struct config *cfg, const char *name)
{
    int i = known_option(name);

    if (i < 0)
        return config_overflow(cfg, name);
    switch (config_option_type((enum config_option)i)) {
    case CFG_STRING:
        return config_str(cfg, (enum config_option)i);
    case CFG_ENUM:
    case CFG_STRINGLIST:
        return config_enum(cfg, (enum config_option)i);
    default:
        return NULL;
    }
}

/* "3", "3s", "2m", "1h30m", "1d": seconds, or -1 if malformed. */
static long
parse_duration(const char *s)
{
    long total = 0, n = -1;

    if (*s == '\0')
        return -1;
    for (; *s; s++) {
        if (*s >= '0' && *s <= '9') {
            if (n < 0)
                n = 0;
            if (n > (LONG_MAX - 9) / 10)
                return -1;
            n = n * 10 + (*s - '0');
            continue;
        }
        if (n < 0)
            return -1;
        switch (*s) {
        case 's':
            total += n;
            break;
        case 'm':
            total += n * 60;
            break;
        case 'h':
            total += n * 3600;
            break;
        case 'd':
            total += n * 86400;
            break;
        default:
            return -1;
        }
        n = -1;
    }
    return n >= 0 ? total + n : total;
}

/* SWITCH spelling (CONFIG.md): 1 y t on / 0 n f off. -1 if neither. */
static int
parse_switch(const char *s)
{
    if (util_strcasecmp(s, "on") == 0 || *s == '1' || *s == 'y' || *s == 'Y'
        || *s == 't' || *s == 'T')
        return 1;
    if (util_strcasecmp(s, "off") == 0 || *s == '0' || *s == 'n' || *s == 'N'
        || *s == 'f' || *s == 'F')
        return 0;
    return -1;
}

long
saslglue_config_num(const struct config *cfg, const char *name, long def)
{
    int i = known_option(name);
    const char *s;
    long v;

    if (i >= 0) {
        enum config_option opt = (enum config_option)i;

        switch (config_option_type(opt)) {
        case CFG_INT:
            return config_int(cfg, opt);
        case CFG_SWITCH:
            return config_switch(cfg, opt);
        case CFG_DURATION:
            return config_duration(cfg, opt);
        case CFG_BYTESIZE:
            return (long)config_bytesize(cfg, opt);
        default:
            break;
        }
    }
    s = saslglue_config_str(cfg, name);
    if (s == NULL || *s == '\0')
        return def;
    if (util_parse_long(s, &v) == 0)
        return v;
    if ((v = parse_duration(s)) >= 0)
        return v;
    if ((v = parse_switch(s)) >= 0)
        return v;
    return def;
}

int
saslglue_list_contains(const char *list, const char *word, int icase)
{
    size_t wlen = strlen(word);
    const char *p = list;

    if (list == NULL || wlen == 0)
        return 0;
    while (*p) {
        size_t n;

        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        n = strcspn(p, " \t,");
        if (n == wlen
            && (icase ? util_strncasecmp(p, word, n) == 0
                      : memcmp(p, word, n) == 0))
            return 1;
        p += n;
    }
    return 0;
}

int
saslglue_is_admin(const struct config *cfg, const char *user)
{
    return saslglue_list_contains(saslglue_config_str(cfg, "admins"), user, 0);
}

long
saslglue_failedloginpause(const struct config *cfg)
{
    long v = saslglue_config_num(cfg, "failedloginpause", 3);

    return v < 0 ? 0 : v;
}

/* ---- libsasl callbacks shared by every context ------------------------ */

void
saslglue_opts_init(struct saslglue_opts *o, const struct config *cfg)
{
    o->cfg = cfg;
    o->cache = NULL;
}

void
saslglue_opts_fini(struct saslglue_opts *o)
{
    hash_free(&o->cache, free);
}

/* One imapd.conf key for libsasl: string options as they are; numbers
 * and switches of known options formatted once into the cache (which
 * never changes an entry, so earlier answers stay valid). */
static const char *
opts_lookup(struct saslglue_opts *o, const char *key)
{
    int i = known_option(key);
    char *v;

    if (i < 0)
        return config_overflow(o->cfg, key);
    switch (config_option_type((enum config_option)i)) {
    case CFG_STRING:
    case CFG_ENUM:
    case CFG_STRINGLIST:
        return saslglue_config_str(o->cfg, key);
    case CFG_BITFIELD:
        return NULL;
    default:
        break;
    }
    if (o->cache == NULL)
        o->cache = hash_new(16);
    v = hash_lookup(o->cache, key);
    if (v == NULL) {
        struct buf b = BUF_INITIALIZER;

        buf_printf(&b, "%ld", saslglue_config_num(o->cfg, key, 0));
        v = buf_release(&b);
        hash_insert(o->cache, key, v);
    }
    return v;
}

/* SASL_CB_GETOPT. Cyrus order: sasl_<plugin>_<opt>, then sasl_<opt>, each
 * in its per-service form first (config_overflow does that). */
static int
getopt_cb(void *context, const char *plugin_name, const char *option,
          const char **result, unsigned *len)
{
    struct saslglue_opts *o = context;
    struct buf key = BUF_INITIALIZER;
    const char *v = NULL;

    if (o == NULL || o->cfg == NULL || option == NULL)
        return SASL_FAIL;
    if (plugin_name != NULL) {
        buf_printf(&key, "sasl_%s_%s", plugin_name, option);
        util_lcase(key.s);
        v = opts_lookup(o, buf_cstring(&key));
    }
    if (v == NULL) {
        buf_reset(&key);
        buf_printf(&key, "sasl_%s", option);
        util_lcase(key.s);
        v = opts_lookup(o, buf_cstring(&key));
    }
    buf_free(&key);
    if (v == NULL)
        return SASL_FAIL;
    *result = v;
    if (len != NULL)
        *len = (unsigned)strlen(v);
    return SASL_OK;
}

/* SASL_CB_LOG: into our log. Messages that may carry passwords
 * (SASL_LOG_PASS) are never written. */
static int
log_cb(void *context, int level, const char *message)
{
    int prio;

    (void)context;
    switch (level) {
    case SASL_LOG_NONE:
    case SASL_LOG_PASS:
        return SASL_OK;
    case SASL_LOG_ERR:
        prio = LOG_ERR;
        break;
    case SASL_LOG_FAIL:
        prio = LOG_NOTICE;
        break;
    case SASL_LOG_WARN:
        prio = LOG_WARNING;
        break;
    case SASL_LOG_NOTE:
        prio = LOG_NOTICE;
        break;
    default:
        prio = LOG_DEBUG;
        break;
    }
    log_msg(prio, "SASL %s", message ? message : "(null)");
    return SASL_OK;
}

saslglue_proc_t
saslglue_log_proc(void)
{
    return SASLGLUE_PROC(&log_cb);
}

const sasl_callback_t *
saslglue_log_callbacks(void)
{
    /* constant: libsasl keeps a process-wide pointer to it */
    static const sasl_callback_t cbs[] = {
        {SASL_CB_LOG,      SASLGLUE_PROC(&log_cb), NULL},
        {SASL_CB_LIST_END, NULL,                   NULL},
    };

    return cbs;
}

saslglue_proc_t
saslglue_getopt_proc(void)
{
    return SASLGLUE_PROC(&getopt_cb);
}

/* ---- small helpers ------------------------------------------------- */

int
saslglue_ipport(int fd, int peer, struct buf *out)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char host[NI_MAXHOST], serv[NI_MAXSERV];
    int r;

    r = peer ? getpeername(fd, (struct sockaddr *)&ss, &len)
             : getsockname(fd, (struct sockaddr *)&ss, &len);
    if (r < 0)
        return ERR_IO;
    if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)
        return ERR_NOTSUPPORTED;
    if (getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), serv,
                    sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV)
        != 0)
        return ERR_IO;
    buf_reset(out);
    buf_printf(out, "%s;%s", host, serv);
    return 0;
}

int
saslglue_result(int r)
{
    switch (r) {
    case SASL_OK:
        return 0;
    case SASL_CONTINUE:
        return SASLGLUE_CONTINUE;
    case SASL_NOMECH:
    case SASL_TOOWEAK:
    case SASL_ENCRYPT:
        return ERR_NOTSUPPORTED;
    default:
        return ERR_AUTH;
    }
}

int
saslglue_b64_in(const char *in, size_t inlen, struct buf *tmp,
                const char **data_r, size_t *len_r)
{
    buf_reset(tmp);
    /* RFC 4959 section 3 (also RFC 5034, RFC 4954): "=" is an empty
     * response, distinct from an absent one. */
    if (!(inlen == 1 && in[0] == '=')
        && saslglue_b64_decode(in, inlen, tmp) < 0)
        return ERR_SYNTAX;
    *data_r = buf_base(tmp);
    *len_r = buf_len(tmp);
    return 0;
}
