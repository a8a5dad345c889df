/* saslserver.c: the server side of the libsasl2 glue (saslglue.h):
 * per-session contexts, Cyrus-style user canonicalisation and the proxy
 * authorization policy of MURDER.md section 2. */
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "errors.h"
#include "log.h"
#include "saslglue.h"
#include "saslglue_int.h"
#include "xmalloc.h"

struct saslglue_server {
    sasl_conn_t *conn;
    const struct config *cfg;
    struct saslglue_opts opts;
    sasl_callback_t callbacks[5];
    char *service;
    char *realm;
    enum saslglue_policy policy;
    saslglue_proxy_acl_cb *acl_cb;
    void *acl_ctx;
    int allow_plaintext;
    int authenticated;
    int proxied;
    char *user;
    char *authcid;
    char *mech;
    struct buf err; /* detail of the last refusal by our callbacks */
    struct buf tmp; /* decoded base64 */
};

/* Whether realm (after '@') needs no cross-realm permission: ours, or
 * listed in loginrealms. */
static int
server_local_realm(const struct saslglue_server *s, const char *realm)
{
    if (util_strcasecmp(realm, s->realm) == 0)
        return 1;
    return saslglue_list_contains(saslglue_config_str(s->cfg, "loginrealms"),
                                  realm, 1);
}

/* Canonical user id of a SASL identity: the realm is dropped when it is
 * local. Returns a new string, or NULL (with s->err set) for a foreign
 * realm. */
static char *
server_local_id(struct saslglue_server *s, const char *id)
{
    const char *at = strrchr(id, '@');

    if (at == NULL)
        return xstrdup(id);
    if (at[1] != '\0' && server_local_realm(s, at + 1))
        return xstrndup(id, (size_t)(at - id));
    buf_reset(&s->err);
    buf_printf(&s->err, "cross-realm login %s denied", id);
    return NULL;
}

/* The policy of MURDER.md section 2 for canonical SASL identities. Returns
 * 0, or -1 with the reason in s->err. On success *user_r (new string) is
 * the session user. */
static int
server_authorize(struct saslglue_server *s, const char *authc_id,
                 const char *authz_id, char **authc_r, char **user_r)
{
    char *authc = server_local_id(s, authc_id);
    char *authz = authc ? server_local_id(s, authz_id) : NULL;
    int ok = 0;

    if (authc == NULL || authz == NULL)
        goto out;
    if (s->policy == SASLGLUE_POLICY_ADMINS_ONLY
        && !saslglue_is_admin(s->cfg, authc)) {
        buf_reset(&s->err);
        buf_printf(&s->err, "user %s is not allowed to authenticate to %s",
                   authc, s->service);
        goto out;
    }
    if (strcmp(authc, authz) == 0 || saslglue_is_admin(s->cfg, authc))
        ok = 1;
    else if (s->policy == SASLGLUE_POLICY_PROXY
             && saslglue_list_contains(
                 saslglue_config_str(s->cfg, "proxyservers"), authc, 0))
        ok = 1;
    else if (s->policy == SASLGLUE_POLICY_PROXY && s->acl_cb != NULL
             && s->acl_cb(authc, authz, s->acl_ctx))
        ok = 1;
    if (!ok) {
        buf_reset(&s->err);
        buf_printf(&s->err, "user %s is not allowed to proxy", authc);
    }
out:
    if (!ok) {
        free(authc);
        free(authz);
        return -1;
    }
    *authc_r = authc;
    *user_r = authz;
    return 0;
}

/* SASL_CB_PROXY_POLICY: libsasl calls it after every successful
 * mechanism, with the authzid equal to the authcid when none was given. */
static int
server_proxy_policy_cb(sasl_conn_t *conn, void *context,
                       const char *requested_user, unsigned rlen,
                       const char *auth_identity, unsigned alen,
                       const char *def_realm, unsigned urlen,
                       struct propctx *propctx)
{
    struct saslglue_server *s = context;
    char *authz = xstrndup(requested_user, rlen);
    char *authc = xstrndup(auth_identity, alen);
    char *canon_c = NULL, *user = NULL;
    int r;

    (void)def_realm;
    (void)urlen;
    (void)propctx;
    r = server_authorize(s, authc, authz, &canon_c, &user);
    free(authz);
    free(authc);
    free(canon_c);
    free(user);
    if (r < 0) {
        sasl_seterror(conn, SASL_NOLOG, "%s", buf_cstring(&s->err));
        return SASL_BADAUTH;
    }
    return SASL_OK;
}

/* SASL_CB_CANON_USER: refuse empty names and control characters, and drop
 * the realm when it is ours (lookups default to our realm anyway). Other
 * realms stay, so sasldb looks the user up there; the policy decides. */
static int
server_canon_user_cb(sasl_conn_t *conn, void *context, const char *in,
                     unsigned inlen, unsigned flags, const char *user_realm,
                     char *out, unsigned out_max, unsigned *out_len)
{
    struct saslglue_server *s = context;
    unsigned i, n;
    const char *at = NULL;

    (void)flags;
    (void)user_realm;
    if (inlen == 0)
        inlen = (unsigned)strlen(in);
    if (inlen == 0) {
        sasl_seterror(conn, SASL_NOLOG, "empty user name");
        return SASL_BADPROT;
    }
    for (i = 0; i < inlen; i++) {
        unsigned char c = (unsigned char)in[i];

        if (c < 0x20 || c == 0x7f) {
            sasl_seterror(conn, SASL_NOLOG, "invalid user name");
            return SASL_BADPROT;
        }
        if (c == '@')
            at = in + i;
    }
    n = inlen;
    if (at != NULL && at + 1 < in + inlen) {
        size_t rlen = (size_t)(in + inlen - (at + 1));

        if (strlen(s->realm) == rlen
            && util_strncasecmp(at + 1, s->realm, rlen) == 0)
            n = (unsigned)(at - in);
    }
    if (n >= out_max)
        return SASL_BUFOVER;
    memcpy(out, in, n);
    out[n] = '\0';
    *out_len = n;
    return SASL_OK;
}

/* What libsasl's global state points at. */
struct saslglue_global {
    sasl_callback_t callbacks[3]; /* first: libsasl's pointer is to it */
    struct saslglue_opts opts;
};

int
saslglue_server_init(const char *appname, const struct config *cfg)
{
    struct saslglue_global *g;
    int r;

    /* libsasl would only count a second init and ignore its callbacks */
    if (sasl_global_listmech() != NULL)
        return 0;
    /* libsasl keeps this table for the life of the process (it never
     * copies it), so it is allocated once and handed over. */
    g = xzmalloc(sizeof(*g));
    saslglue_opts_init(&g->opts, cfg);
    g->callbacks[0].id = SASL_CB_GETOPT;
    g->callbacks[0].proc = saslglue_getopt_proc();
    g->callbacks[0].context = &g->opts;
    g->callbacks[1].id = SASL_CB_LOG;
    g->callbacks[1].proc = saslglue_log_proc();
    g->callbacks[2].id = SASL_CB_LIST_END;
    r = sasl_server_init(g->callbacks, appname);
    if (r != SASL_OK) {
        log_msg(LOG_ERR, "sasl_server_init: %s", sasl_errstring(r, NULL, NULL));
        saslglue_opts_fini(&g->opts);
        free(g);
        return ERR_GENERIC;
    }
    return 0;
}

static int
server_set_secprops(struct saslglue_server *s)
{
    sasl_security_properties_t sp;

    memset(&sp, 0, sizeof(sp));
    sp.min_ssf =
        (sasl_ssf_t)saslglue_config_num(s->cfg, "sasl_minimum_layer", 0);
    sp.max_ssf =
        (sasl_ssf_t)saslglue_config_num(s->cfg, "sasl_maximum_layer", 256);
    sp.maxbufsize = SASLGLUE_MAXBUFSIZE;
    if (!saslglue_config_num(s->cfg, "allowanonymouslogin", 0))
        sp.security_flags |= SASL_SEC_NOANONYMOUS;
    if (!s->allow_plaintext)
        sp.security_flags |= SASL_SEC_NOPLAINTEXT;
    return sasl_setprop(s->conn, SASL_SEC_PROPS, &sp) == SASL_OK ? 0
                                                                 : ERR_GENERIC;
}

static int
server_set_external(struct saslglue_server *s, unsigned ssf, const char *authid)
{
    sasl_ssf_t essf = ssf;

    if (sasl_setprop(s->conn, SASL_SSF_EXTERNAL, &essf) != SASL_OK)
        return ERR_GENERIC;
    if (authid != NULL
        && sasl_setprop(s->conn, SASL_AUTH_EXTERNAL, authid) != SASL_OK)
        return ERR_GENERIC;
    return 0;
}

int
saslglue_server_new(const struct config *cfg,
                    const struct saslglue_server_params *p,
                    struct saslglue_server **server_r, const char **error_r)
{
    struct saslglue_server *s;
    const char *realm = p->servername;
    char host[256];
    int r;

    *server_r = NULL;
    if (p->service == NULL) {
        *error_r = "no SASL service name";
        return ERR_INVALID;
    }
    if (realm == NULL)
        realm = saslglue_config_str(cfg, "servername");
    if (realm == NULL) {
        if (gethostname(host, sizeof(host)) < 0) {
            *error_r = "gethostname failed";
            return ERR_GENERIC;
        }
        host[sizeof(host) - 1] = '\0';
        realm = host;
    }
    s = xzmalloc(sizeof(*s));
    s->cfg = cfg;
    saslglue_opts_init(&s->opts, cfg);
    s->service = xstrdup(p->service);
    s->realm = xstrdup(realm);
    s->policy = p->policy;
    s->acl_cb = p->proxy_acl_cb;
    s->acl_ctx = p->proxy_acl_ctx;
    s->allow_plaintext = p->allow_plaintext;
    s->callbacks[0].id = SASL_CB_GETOPT;
    s->callbacks[0].proc = saslglue_getopt_proc();
    s->callbacks[0].context = &s->opts;
    s->callbacks[1].id = SASL_CB_LOG;
    s->callbacks[1].proc = saslglue_log_proc();
    s->callbacks[2].id = SASL_CB_PROXY_POLICY;
    s->callbacks[2].proc = SASLGLUE_PROC(&server_proxy_policy_cb);
    s->callbacks[2].context = s;
    s->callbacks[3].id = SASL_CB_CANON_USER;
    s->callbacks[3].proc = SASLGLUE_PROC(&server_canon_user_cb);
    s->callbacks[3].context = s;
    s->callbacks[4].id = SASL_CB_LIST_END;

    /* No SASL_SUCCESS_DATA: none of IMAP, POP3, LMTP or MUPDATE can carry
     * data in the final OK, so libsasl sends it as one more challenge. */
    r = sasl_server_new(s->service, s->realm, s->realm, p->local_ipport,
                        p->remote_ipport, s->callbacks, 0, &s->conn);
    if (r != SASL_OK) {
        *error_r = "sasl_server_new failed";
        saslglue_server_free(&s);
        return ERR_GENERIC;
    }
    if (server_set_secprops(s) < 0
        || server_set_external(s, p->external_ssf, p->external_authid) < 0) {
        *error_r = "cannot set SASL security properties";
        saslglue_server_free(&s);
        return ERR_GENERIC;
    }
    *server_r = s;
    return 0;
}

void
saslglue_server_free(struct saslglue_server **serverp)
{
    struct saslglue_server *s = *serverp;

    if (s == NULL)
        return;
    *serverp = NULL;
    if (s->conn != NULL)
        sasl_dispose(&s->conn);
    saslglue_opts_fini(&s->opts);
    free(s->service);
    free(s->realm);
    free(s->user);
    free(s->authcid);
    free(s->mech);
    buf_free(&s->err);
    buf_free(&s->tmp);
    free(s);
}

int
saslglue_server_set_tls(struct saslglue_server *s, unsigned ssf,
                        const char *authid)
{
    s->allow_plaintext = 1;
    if (server_set_external(s, ssf, authid) < 0)
        return ERR_GENERIC;
    return server_set_secprops(s);
}

int
saslglue_server_plaintext_ok(const struct saslglue_server *s)
{
    return s->allow_plaintext;
}

int
saslglue_mechlist(struct saslglue_server *s, const char *prefix,
                  const char *sep, const char *suffix, struct buf *out)
{
    const char *list = NULL;
    unsigned len = 0;
    int count = 0, r;

    r = sasl_listmech(s->conn, NULL, prefix, sep, suffix, &list, &len, &count);
    if (r == SASL_NOMECH)
        return 0;
    if (r != SASL_OK)
        return ERR_GENERIC;
    if (count > 0)
        buf_appendmap(out, list, len);
    return count;
}

/* Record who logged in, once libsasl (or checkpass) said yes. */
static int
server_succeeded(struct saslglue_server *s, const char *mech,
                 const char **error_r)
{
    const void *authz = NULL, *authc = NULL;
    char *canon_c = NULL, *user = NULL;

    if (sasl_getprop(s->conn, SASL_USERNAME, &authz) != SASL_OK || authz == NULL
        || sasl_getprop(s->conn, SASL_AUTHUSER, &authc) != SASL_OK
        || authc == NULL) {
        *error_r = "no user name after authentication";
        return ERR_AUTH;
    }
    if (server_authorize(s, authc, authz, &canon_c, &user) < 0) {
        *error_r = buf_cstring(&s->err);
        return ERR_AUTH;
    }
    free(s->authcid);
    free(s->user);
    free(s->mech);
    s->authcid = canon_c;
    s->user = user;
    s->mech = xstrdup(mech);
    s->proxied = strcmp(canon_c, user) != 0;
    s->authenticated = 1;
    return 0;
}

static int
server_outcome(struct saslglue_server *s, int sr, const char *out,
               unsigned outlen, const char **out_r, size_t *outlen_r,
               const char **error_r)
{
    const void *mech = NULL;
    int r = saslglue_result(sr);

    *out_r = out ? out : "";
    *outlen_r = out ? outlen : 0;
    if (r == 0) {
        if (sasl_getprop(s->conn, SASL_MECHNAME, &mech) != SASL_OK
            || mech == NULL)
            mech = "unknown";
        return server_succeeded(s, mech, error_r);
    }
    if (r < 0)
        *error_r = sasl_errdetail(s->conn);
    return r;
}

int
saslglue_server_start(struct saslglue_server *s, const char *mech,
                      const char *in, size_t inlen, const char **out_r,
                      size_t *outlen_r, const char **error_r)
{
    const char *out = NULL;
    unsigned outlen = 0;
    int r;

    *out_r = "";
    *outlen_r = 0;
    if (s->authenticated) {
        *error_r = "already authenticated";
        return ERR_INVALID;
    }
    if (inlen > UINT_MAX) {
        *error_r = "initial response too long";
        return ERR_AUTH;
    }
    r = sasl_server_start(s->conn, mech, in, (unsigned)inlen, &out, &outlen);
    return server_outcome(s, r, out, outlen, out_r, outlen_r, error_r);
}

int
saslglue_server_step(struct saslglue_server *s, const char *in, size_t inlen,
                     const char **out_r, size_t *outlen_r, const char **error_r)
{
    const char *out = NULL;
    unsigned outlen = 0;
    int r;

    *out_r = "";
    *outlen_r = 0;
    if (s->authenticated) {
        *error_r = "already authenticated";
        return ERR_INVALID;
    }
    if (inlen > UINT_MAX) {
        *error_r = "response too long";
        return ERR_AUTH;
    }
    r = sasl_server_step(s->conn, in ? in : "", (unsigned)inlen, &out, &outlen);
    return server_outcome(s, r, out, outlen, out_r, outlen_r, error_r);
}

int
saslglue_server_start_b64(struct saslglue_server *s, const char *mech,
                          const char *in, size_t inlen, struct buf *out_b64,
                          const char **error_r)
{
    const char *data = NULL, *out;
    size_t len = 0, outlen;
    int r;

    if (in != NULL && saslglue_b64_in(in, inlen, &s->tmp, &data, &len) < 0) {
        *error_r = "Invalid base64";
        return ERR_AUTH;
    }
    r = saslglue_server_start(s, mech, data, len, &out, &outlen, error_r);
    if (r == SASLGLUE_CONTINUE)
        saslglue_b64_encode(out, outlen, out_b64);
    return r;
}

int
saslglue_server_step_b64(struct saslglue_server *s, const char *in,
                         size_t inlen, struct buf *out_b64,
                         const char **error_r)
{
    const char *data, *out;
    size_t len, outlen;
    int r;

    if (saslglue_b64_in(in, inlen, &s->tmp, &data, &len) < 0) {
        *error_r = "Invalid base64";
        return ERR_AUTH;
    }
    r = saslglue_server_step(s, data, len, &out, &outlen, error_r);
    if (r == SASLGLUE_CONTINUE)
        saslglue_b64_encode(out, outlen, out_b64);
    return r;
}

int
saslglue_checkpass(struct saslglue_server *s, const char *user,
                   const char *pass, const char **error_r)
{
    size_t ulen = strlen(user), plen = strlen(pass);
    int r;

    if (s->authenticated) {
        *error_r = "already authenticated";
        return ERR_INVALID;
    }
    if (!s->allow_plaintext) {
        *error_r = "plaintext login not allowed without TLS";
        return ERR_PERMISSION;
    }
    if (ulen == 0 || ulen > UINT_MAX || plen > UINT_MAX) {
        *error_r = "bad user name or password length";
        return ERR_AUTH;
    }
    r = sasl_checkpass(s->conn, user, (unsigned)ulen, pass, (unsigned)plen);
    if (r != SASL_OK) {
        *error_r = sasl_errdetail(s->conn);
        return ERR_AUTH;
    }
    return server_succeeded(s, "checkpass", error_r);
}

const char *
saslglue_server_user(const struct saslglue_server *s)
{
    return s->authenticated ? s->user : NULL;
}

const char *
saslglue_server_authcid(const struct saslglue_server *s)
{
    return s->authenticated ? s->authcid : NULL;
}

int
saslglue_server_proxied(const struct saslglue_server *s)
{
    return s->authenticated && s->proxied;
}

const char *
saslglue_server_mech(const struct saslglue_server *s)
{
    return s->authenticated ? s->mech : NULL;
}

unsigned
saslglue_server_ssf(const struct saslglue_server *s)
{
    const void *ssf = NULL;

    if (!s->authenticated || sasl_getprop(s->conn, SASL_SSF, &ssf) != SASL_OK
        || ssf == NULL)
        return 0;
    return *(const sasl_ssf_t *)ssf;
}

sasl_conn_t *
saslglue_server_conn(struct saslglue_server *s)
{
    return s->conn;
}
