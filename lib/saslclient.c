/* saslclient.c: the client side of the libsasl2 glue (saslglue.h), used by
 * frontends toward backends, backends toward the mupdate master, and
 * tools. */
#include <limits.h>
#include <string.h>

#include "errors.h"
#include "log.h"
#include "saslglue.h"
#include "saslglue_int.h"
#include "strarray.h"
#include "xmalloc.h"

struct saslglue_client {
    sasl_conn_t *conn;
    sasl_callback_t callbacks[6];
    char *authname;
    char *authzid; /* "" when none */
    char *realm;   /* NULL: the first realm the server offers */
    sasl_secret_t *secret;
    char *restrict_mechs; /* NULL: any */
    char *mech;           /* chosen by start */
    struct buf tmp;       /* decoded challenge */
};

int
saslglue_client_init(void)
{
    int r = sasl_client_init(saslglue_log_callbacks());

    if (r != SASL_OK) {
        log_msg(LOG_ERR, "sasl_client_init: %s", sasl_errstring(r, NULL, NULL));
        return ERR_GENERIC;
    }
    return 0;
}

/* SASL_CB_AUTHNAME, SASL_CB_USER */
static int
client_simple_cb(void *context, int id, const char **result, unsigned *len)
{
    struct saslglue_client *c = context;
    const char *v;

    switch (id) {
    case SASL_CB_AUTHNAME:
        v = c->authname;
        break;
    case SASL_CB_USER:
        v = c->authzid;
        break;
    default:
        return SASL_BADPARAM;
    }
    *result = v;
    if (len != NULL)
        *len = (unsigned)strlen(v);
    return SASL_OK;
}

/* SASL_CB_PASS: the secret is ours and lives as long as the context. */
static int
client_secret_cb(sasl_conn_t *conn, void *context, int id,
                 sasl_secret_t **psecret)
{
    struct saslglue_client *c = context;

    (void)conn;
    if (id != SASL_CB_PASS || psecret == NULL)
        return SASL_BADPARAM;
    *psecret = c->secret;
    return SASL_OK;
}

/* SASL_CB_GETREALM */
static int
client_realm_cb(void *context, int id, const char **availrealms,
                const char **result)
{
    struct saslglue_client *c = context;

    if (id != SASL_CB_GETREALM)
        return SASL_BADPARAM;
    if (c->realm != NULL)
        *result = c->realm;
    else if (availrealms != NULL && availrealms[0] != NULL)
        *result = availrealms[0];
    else
        *result = "";
    return SASL_OK;
}

static int
client_set_secprops(struct saslglue_client *c, unsigned max_layer)
{
    sasl_security_properties_t sp;

    memset(&sp, 0, sizeof(sp));
    sp.max_ssf = max_layer;
    sp.maxbufsize = SASLGLUE_MAXBUFSIZE;
    /* a proxy or replica must never end up logged in anonymously */
    sp.security_flags = SASL_SEC_NOANONYMOUS;
    return sasl_setprop(c->conn, SASL_SEC_PROPS, &sp) == SASL_OK ? 0
                                                                 : ERR_GENERIC;
}

int
saslglue_client_new(const char *service, const char *serverhost,
                    const char *authname, const char *password,
                    const char *realm, const char *authzid,
                    struct saslglue_client **client_r, const char **error_r)
{
    struct saslglue_client *c;
    size_t plen;
    int r;

    *client_r = NULL;
    if (service == NULL || serverhost == NULL || authname == NULL
        || password == NULL) {
        *error_r = "missing service, host, name or password";
        return ERR_INVALID;
    }
    plen = strlen(password);
    if (plen > UINT_MAX - 1) {
        *error_r = "password too long";
        return ERR_INVALID;
    }
    c = xzmalloc(sizeof(*c));
    c->authname = xstrdup(authname);
    c->authzid = xstrdup(authzid ? authzid : "");
    c->realm = xstrdupnull(realm);
    c->secret = xzmalloc(sizeof(sasl_secret_t) + plen + 1);
    c->secret->len = (unsigned long)plen;
    memcpy(c->secret->data, password, plen);

    c->callbacks[0].id = SASL_CB_AUTHNAME;
    c->callbacks[0].proc = SASLGLUE_PROC(&client_simple_cb);
    c->callbacks[0].context = c;
    c->callbacks[1].id = SASL_CB_USER;
    c->callbacks[1].proc = SASLGLUE_PROC(&client_simple_cb);
    c->callbacks[1].context = c;
    c->callbacks[2].id = SASL_CB_PASS;
    c->callbacks[2].proc = SASLGLUE_PROC(&client_secret_cb);
    c->callbacks[2].context = c;
    c->callbacks[3].id = SASL_CB_GETREALM;
    c->callbacks[3].proc = SASLGLUE_PROC(&client_realm_cb);
    c->callbacks[3].context = c;
    c->callbacks[4].id = SASL_CB_LOG;
    c->callbacks[4].proc = saslglue_log_proc();
    c->callbacks[5].id = SASL_CB_LIST_END;

    /* SASL_NEED_PROXY: with an authzid, only mechanisms that can carry it
     * (PLAIN, DIGEST-MD5, SCRAM, ...) may be chosen. */
    r = sasl_client_new(service, serverhost, NULL, NULL, c->callbacks,
                        c->authzid[0] ? SASL_NEED_PROXY : 0, &c->conn);
    if (r != SASL_OK) {
        *error_r = "sasl_client_new failed";
        saslglue_client_free(&c);
        return ERR_GENERIC;
    }
    if (client_set_secprops(c, 0) < 0) {
        *error_r = "cannot set SASL security properties";
        saslglue_client_free(&c);
        return ERR_GENERIC;
    }
    *client_r = c;
    return 0;
}

void
saslglue_client_free(struct saslglue_client **clientp)
{
    struct saslglue_client *c = *clientp;

    if (c == NULL)
        return;
    *clientp = NULL;
    if (c->conn != NULL)
        sasl_dispose(&c->conn);
    if (c->secret != NULL) {
        explicit_bzero(c->secret->data, c->secret->len);
        free(c->secret);
    }
    free(c->authname);
    free(c->authzid);
    free(c->realm);
    free(c->restrict_mechs);
    free(c->mech);
    buf_free(&c->tmp);
    free(c);
}

int
saslglue_client_set_ssf(struct saslglue_client *c, unsigned external_ssf,
                        unsigned max_layer)
{
    sasl_ssf_t essf = external_ssf;

    if (sasl_setprop(c->conn, SASL_SSF_EXTERNAL, &essf) != SASL_OK)
        return ERR_GENERIC;
    return client_set_secprops(c, max_layer);
}

void
saslglue_client_restrict(struct saslglue_client *c, const char *mechs)
{
    free(c->restrict_mechs);
    c->restrict_mechs = (mechs && *mechs) ? xstrdup(mechs) : NULL;
}

/* `<shorthost>_<suffix>`: host up to the first '.' or ':' (a servername
 * may carry a port), lowercased like every option name. */
static const char *
client_host_option(const struct config *cfg, const char *host,
                   const char *suffix)
{
    struct buf key = BUF_INITIALIZER;
    const char *v;

    buf_appendmap(&key, host, strcspn(host, ".:"));
    buf_printf(&key, "_%s", suffix);
    util_lcase(key.s);
    v = saslglue_config_str(cfg, buf_cstring(&key));
    buf_free(&key);
    return v;
}

const char *
saslglue_client_forced_mechs(const struct config *cfg, const char *host)
{
    const char *v = host ? client_host_option(cfg, host, "mechs") : NULL;

    return v ? v : saslglue_config_str(cfg, "force_sasl_client_mech");
}

const char *
saslglue_client_password(const struct config *cfg, const char *host)
{
    const char *v = host ? client_host_option(cfg, host, "password") : NULL;

    return v ? v : saslglue_config_str(cfg, "proxy_password");
}

/* The candidate mechanisms, uppercased: the offered ones, filtered and
 * ordered by the restriction if any; PLAIN makes LOGIN redundant (same
 * secret, and PLAIN can carry an authzid). */
static void
client_candidates(const struct saslglue_client *c, const char *mechlist,
                  struct strarray *out)
{
    struct strarray *offered = strarray_split(mechlist, " \t");
    size_t i;
    long login;

    for (i = 0; i < offered->count; i++)
        util_ucase(offered->data[i]);
    if (c->restrict_mechs != NULL) {
        struct strarray *want = strarray_split(c->restrict_mechs, " \t,");

        for (i = 0; i < want->count; i++) {
            util_ucase(want->data[i]);
            if (strarray_find(offered, want->data[i]) >= 0)
                strarray_add_unique(out, want->data[i]);
        }
        strarray_free(&want);
    } else {
        for (i = 0; i < offered->count; i++)
            strarray_add_unique(out, offered->data[i]);
    }
    strarray_free(&offered);
    login = strarray_find(out, "LOGIN");
    if (login >= 0 && strarray_find(out, "PLAIN") >= 0)
        strarray_remove(out, (size_t)login);
}

static int
client_outcome(struct saslglue_client *c, int sr, const char **error_r)
{
    int r = saslglue_result(sr);

    if (sr == SASL_INTERACT) {
        *error_r = "SASL mechanism needs more credentials";
        return ERR_AUTH;
    }
    if (r < 0)
        *error_r = sasl_errdetail(c->conn);
    return r;
}

int
saslglue_client_start(struct saslglue_client *c, const char *mechlist,
                      const char **mech_r, const char **out_r, size_t *outlen_r,
                      const char **error_r)
{
    struct strarray cands = STRARRAY_INITIALIZER;
    const char *out = NULL, *mech = NULL;
    unsigned outlen = 0;
    int sr = SASL_NOMECH;
    size_t i;

    *mech_r = NULL;
    *out_r = NULL;
    *outlen_r = 0;
    client_candidates(c, mechlist ? mechlist : "", &cands);
    if (cands.count == 0) {
        strarray_fini(&cands);
        *error_r = "no common SASL mechanism";
        return ERR_NOTSUPPORTED;
    }
    if (c->restrict_mechs != NULL) {
        /* a forced list is tried in its own order */
        for (i = 0; i < cands.count && sr == SASL_NOMECH; i++)
            sr = sasl_client_start(c->conn, cands.data[i], NULL, &out, &outlen,
                                   &mech);
    } else {
        char *list = strarray_join(&cands, " ");

        sr = sasl_client_start(c->conn, list, NULL, &out, &outlen, &mech);
        free(list);
    }
    strarray_fini(&cands);
    if (sr != SASL_OK && sr != SASL_CONTINUE)
        return client_outcome(c, sr, error_r);
    free(c->mech);
    c->mech = xstrdup(mech ? mech : "");
    *mech_r = c->mech;
    *out_r = out;
    *outlen_r = out ? outlen : 0;
    return client_outcome(c, sr, error_r);
}

int
saslglue_client_step(struct saslglue_client *c, const char *in, size_t inlen,
                     const char **out_r, size_t *outlen_r, const char **error_r)
{
    const char *out = NULL;
    unsigned outlen = 0;
    int sr;

    *out_r = "";
    *outlen_r = 0;
    if (inlen > UINT_MAX) {
        *error_r = "challenge too long";
        return ERR_AUTH;
    }
    sr = sasl_client_step(c->conn, in ? in : "", (unsigned)inlen, NULL, &out,
                          &outlen);
    if (sr == SASL_OK || sr == SASL_CONTINUE) {
        *out_r = out ? out : "";
        *outlen_r = out ? outlen : 0;
    }
    return client_outcome(c, sr, error_r);
}

int
saslglue_client_start_b64(struct saslglue_client *c, const char *mechlist,
                          const char **mech_r, struct buf *out_b64,
                          int *has_ir_r, const char **error_r)
{
    const char *out;
    size_t outlen;
    int r;

    *has_ir_r = 0;
    r = saslglue_client_start(c, mechlist, mech_r, &out, &outlen, error_r);
    if (r < 0 || out == NULL)
        return r;
    *has_ir_r = 1;
    if (outlen == 0)
        buf_putc(out_b64, '='); /* RFC 4959 section 3 */
    else
        saslglue_b64_encode(out, outlen, out_b64);
    return r;
}

int
saslglue_client_step_b64(struct saslglue_client *c, const char *in,
                         size_t inlen, struct buf *out_b64,
                         const char **error_r)
{
    const char *data, *out;
    size_t len, outlen;
    int r;

    buf_reset(&c->tmp);
    if (saslglue_b64_decode(in, inlen, &c->tmp) < 0) {
        *error_r = "Invalid base64 in server challenge";
        return ERR_PROTOCOL;
    }
    data = buf_base(&c->tmp);
    len = buf_len(&c->tmp);
    r = saslglue_client_step(c, data, len, &out, &outlen, error_r);
    if (r >= 0)
        saslglue_b64_encode(out, outlen, out_b64);
    return r;
}

unsigned
saslglue_client_ssf(const struct saslglue_client *c)
{
    const void *ssf = NULL;

    if (sasl_getprop(c->conn, SASL_SSF, &ssf) != SASL_OK || ssf == NULL)
        return 0;
    return *(const sasl_ssf_t *)ssf;
}

sasl_conn_t *
saslglue_client_conn(struct saslglue_client *c)
{
    return c->conn;
}
