/* saslglue.h: Cyrus SASL (libsasl2) glue for our servers and clients.
 *
 * Server side (imapd, pop3d, lmtpd, the mupdate master): one
 * struct saslglue_server per session wraps a sasl_conn_t whose options come
 * from imapd.conf, whose user names are canonicalised as Cyrus does, and
 * whose authorization (proxy) policy is MURDER.md section 2.
 *
 * Client side (frontend -> backend proxy, backend -> mupdate master,
 * tools): one struct saslglue_client per connection, holding its own
 * copies of the credentials.
 *
 * Neither side does I/O: each protocol frames the exchange itself. A
 * server-side AUTHENTICATE is, in outline:
 *
 *     r = saslglue_server_start_b64(s, mech, ir, irlen, &chal, &err);
 *     while (r == SASLGLUE_CONTINUE) {
 *         send "+ " chal CRLF;  read line;  ("*" = client cancelled)
 *         buf_reset(&chal);
 *         r = saslglue_server_step_b64(s, line, len, &chal, &err);
 *     }
 *     r == 0: OK, session user is saslglue_server_user(s);
 *     r < 0: log err, sleep saslglue_failedloginpause(), reply NO.
 *
 * and a client-side one:
 *
 *     r = saslglue_client_start_b64(c, caps_mechs, &mech, &ir, &has_ir, &e);
 *     send "AUTHENTICATE " mech [" " ir]; then for each "+ data" line:
 *         r = saslglue_client_step_b64(c, data, len, &resp, &e);
 *         send resp CRLF;
 *     until the tagged OK/NO.
 *
 * (Without SASL-IR at the server, send "AUTHENTICATE " mech alone and
 * answer its first, empty "+ " with the initial response instead of
 * calling _step.)
 *
 * Error returns are 0 or a negative ERR_* (errors.h). `error_r` texts are
 * detail for the log (never for the peer: tell the client only
 * error_text(ERR_AUTH)); they stay valid until the next call on the same
 * object. */
#ifndef SASLGLUE_H
#define SASLGLUE_H

#include <stddef.h>

#include <sasl/sasl.h>

#include "buf.h"
#include "config.h"

/* Returned by the start/step functions when the exchange goes on: send the
 * output to the peer and feed its answer to the matching _step(). */
#define SASLGLUE_CONTINUE 1

/* ---- shared helpers ------------------------------------------------- */

/* Append the RFC 4648 base64 encoding of data[0..len) to out. */
void saslglue_b64_encode(const void *data, size_t len, struct buf *out);

/* Strictly decode base64 text in[0..len) and append the bytes to out.
 * Only the standard alphabet is accepted: the length must be a multiple of
 * 4, '=' padding may only end the text, unused trailing bits must be zero,
 * and whitespace or any other byte is an error. Empty input decodes to
 * nothing. Returns 0, or ERR_SYNTAX (out is then restored to its length on
 * entry). */
int saslglue_b64_decode(const char *in, size_t len, struct buf *out);

/* The string value of imapd.conf option `name`, whether it is a known
 * option (per-service form first, then generic, then the table default)
 * of a string, enum or stringlist type, or an overflow key (sasl_*,
 * <host>_password, ...; per-service form first). NULL when unset, or when
 * the known option has a non-string type. The pointer is owned by cfg. */
const char *saslglue_config_str(const struct config *cfg, const char *name);

/* Whether `user` (a canonical user id) appears in the space-separated
 * `admins` list of cfg (per-service overrides such as lmtp_admins apply,
 * since the config was loaded for that service). */
int saslglue_is_admin(const struct config *cfg, const char *user);

/* Seconds to wait before answering a failed authentication
 * (`failedloginpause`, default 3). The protocol layer sleeps; this module
 * never does. */
long saslglue_failedloginpause(const struct config *cfg);

/* Write the "a.b.c.d;port" / "v6addr;port" form libsasl wants for the local
 * (peer == 0) or remote (peer != 0) address of socket fd into out
 * (replacing its contents). Returns 0, ERR_NOTSUPPORTED for a non-IP socket
 * (pass NULL to saslglue_server_new() then), or ERR_IO. */
int saslglue_ipport(int fd, int peer, struct buf *out);

/* ---- server side ---------------------------------------------------- */

struct saslglue_server;

/* Who may authenticate as whom (MURDER.md section 2). For every policy,
 * an identity with a realm ("user@realm") is refused unless the realm is
 * the server realm or listed in `loginrealms` ("cross-realm login ...
 * denied"); ids are compared with the realm stripped, case-sensitively. */
enum saslglue_policy {
    /* imapd, pop3d: authcid == authzid always; otherwise authcid must be in
     * `admins` or `proxyservers` (or pass the proxy_acl_cb). */
    SASLGLUE_POLICY_PROXY,
    /* lmtpd, mupdate master: the authcid must be in `admins` at all;
     * admins may then also proxy. */
    SASLGLUE_POLICY_ADMINS_ONLY
};

/* Optional extra authorization for SASLGLUE_POLICY_PROXY (imapd with
 * loginuseacl: the authcid has the `a` right on the authzid's INBOX).
 * Called with canonical ids only when the lists did not allow the proxy
 * login; return nonzero to allow. */
typedef int saslglue_proxy_acl_cb(const char *authcid, const char *authzid,
                                  void *ctx);

struct saslglue_server_params {
    const char *service;         /* SASL service: "imap", "pop", "lmtp",
                                  * "mupdate" (required) */
    const char *servername;      /* server FQDN and SASL user realm; NULL:
                                  * config `servername`, else the host name */
    const char *local_ipport;    /* "ip;port" or NULL (saslglue_ipport()) */
    const char *remote_ipport;   /* "ip;port" or NULL */
    unsigned external_ssf;       /* SSF of an active TLS layer, else 0 */
    const char *external_authid; /* TLS client certificate identity or NULL
                                  * (enables the EXTERNAL mechanism) */
    /* Nonzero allows mechanisms that send passwords in the clear (PLAIN,
     * LOGIN) and saslglue_checkpass(): the caller passes
     * "allowplaintext or TLS active". */
    int allow_plaintext;
    enum saslglue_policy policy;
    saslglue_proxy_acl_cb *proxy_acl_cb; /* optional, PROXY policy only */
    void *proxy_acl_ctx;
};

/* Once per process, before any saslglue_server_new(): sasl_server_init()
 * with appname (e.g. "Cyrus") and callbacks reading imapd.conf (cfg must
 * outlive the process's use of SASL), logging to log_msg(). libsasl keeps
 * one global state, so a second call only returns 0; per-session options
 * always come from the config given to saslglue_server_new(). Returns 0 or
 * ERR_GENERIC (detail logged, for startup). */
int saslglue_server_init(const char *appname, const struct config *cfg);

/* A SASL server context for one session. libsasl options come from cfg
 * (`<service>_sasl_<plugin>_<opt>`, `sasl_<plugin>_<opt>`,
 * `<service>_sasl_<opt>`, `sasl_<opt>`, e.g. sasl_pwcheck_method,
 * sasl_mech_list, sasl_auxprop_plugin, sasl_sasldb_path); security
 * properties from sasl_minimum_layer, sasl_maximum_layer,
 * allowanonymouslogin and params->allow_plaintext. cfg and the params
 * strings are copied or must outlive the context (cfg must). Returns 0 and
 * *server_r, or ERR_GENERIC with *error_r (static text). */
int saslglue_server_new(const struct config *cfg,
                        const struct saslglue_server_params *params,
                        struct saslglue_server **server_r,
                        const char **error_r);
/* Dispose of the context; sets *serverp = NULL. NULL is fine. */
void saslglue_server_free(struct saslglue_server **serverp);

/* TLS came up after the context was made (STARTTLS): record its SSF and
 * client identity and allow plaintext mechanisms. Only before start.
 * Returns 0 or ERR_GENERIC. */
int saslglue_server_set_tls(struct saslglue_server *s, unsigned ssf,
                            const char *authid);

/* Whether plaintext mechanisms / saslglue_checkpass() are allowed now. */
int saslglue_server_plaintext_ok(const struct saslglue_server *s);

/* Append the mechanisms this session may use to out as
 * prefix MECH1 sep MECH2 ... suffix (e.g. "AUTH=", " AUTH=", "" for IMAP
 * CAPABILITY, or "", " ", "" for a plain list). Nothing is appended when no
 * mechanism is usable. Returns the number of mechanisms (>= 0), or
 * ERR_GENERIC. */
int saslglue_mechlist(struct saslglue_server *s, const char *prefix,
                      const char *sep, const char *suffix, struct buf *out);

/* Start an exchange with mechanism mech and, if in != NULL, the client's
 * initial response in[0..inlen) (raw bytes; inlen 0 = empty response).
 * Returns
 *   0                  authenticated (see the getters below),
 *   SASLGLUE_CONTINUE  out_r/outlen_r hold the next challenge (raw bytes,
 *                      owned by the context, valid until the next call),
 *   ERR_NOTSUPPORTED   unknown or disallowed mechanism (e.g. PLAIN without
 *                      TLS/allowplaintext),
 *   ERR_AUTH           anything else: bad credentials, unknown user,
 *                      refused authorization, malformed response.
 * After 0 or an error the exchange is over; a failed context may start
 * again, an authenticated one refuses with ERR_INVALID. */
int saslglue_server_start(struct saslglue_server *s, const char *mech,
                          const char *in, size_t inlen, const char **out_r,
                          size_t *outlen_r, const char **error_r);
/* Feed the client's next response; results as saslglue_server_start(). */
int saslglue_server_step(struct saslglue_server *s, const char *in,
                         size_t inlen, const char **out_r, size_t *outlen_r,
                         const char **error_r);

/* The same with base64 on the wire: `in` is the base64 text the client
 * sent (NULL: no initial response; "=" alone: empty response, as RFC 4959,
 * RFC 5034 and RFC 4954 spell it); on SASLGLUE_CONTINUE the base64
 * challenge is appended to out_b64 (possibly nothing: send "+ " alone).
 * Bad base64 is ERR_AUTH ("Invalid base64"), like a bad response. */
int saslglue_server_start_b64(struct saslglue_server *s, const char *mech,
                              const char *in, size_t inlen, struct buf *out_b64,
                              const char **error_r);
int saslglue_server_step_b64(struct saslglue_server *s, const char *in,
                             size_t inlen, struct buf *out_b64,
                             const char **error_r);

/* Plaintext login (IMAP LOGIN, POP3 USER/PASS) through sasl_checkpass(),
 * with the same realm rules and policy as the mechanisms (authcid ==
 * authzid == user). Returns 0 (then the getters answer as after a
 * mechanism), ERR_PERMISSION when plaintext is not allowed on this
 * session, or ERR_AUTH. */
int saslglue_checkpass(struct saslglue_server *s, const char *user,
                       const char *pass, const char **error_r);

/* After success (NULL / 0 before): the session user = the canonical
 * authorization id, realm stripped when it is the server realm or listed in
 * `loginrealms`. Owned by the context. */
const char *saslglue_server_user(const struct saslglue_server *s);
/* The canonical authentication id (the proxy's own name when proxied). */
const char *saslglue_server_authcid(const struct saslglue_server *s);
/* Nonzero when authcid != authzid (a proxy login): the session runs as the
 * authzid and the proxy's own admin rights do not apply. If the authzid
 * itself is in `admins` (saslglue_is_admin(cfg, saslglue_server_user(s)))
 * the session is a proxy-admin (MURDER.md section 2). */
int saslglue_server_proxied(const struct saslglue_server *s);
/* The mechanism that succeeded ("PLAIN", ...; "checkpass" for
 * saslglue_checkpass()), NULL before success. */
const char *saslglue_server_mech(const struct saslglue_server *s);
/* The SSF of the negotiated SASL security layer (0: none, so nothing to
 * wrap); the stream layer encodes through saslglue_server_conn() if > 0. */
unsigned saslglue_server_ssf(const struct saslglue_server *s);
/* The underlying libsasl connection (for sasl_encode/sasl_decode). */
sasl_conn_t *saslglue_server_conn(struct saslglue_server *s);

/* ---- client side ---------------------------------------------------- */

struct saslglue_client;

/* Once per process before saslglue_client_new() (logs into log_msg()).
 * Returns 0 or ERR_GENERIC. */
int saslglue_client_init(void);

/* A client context to authenticate to service ("imap", "pop", "lmtp",
 * "mupdate") on serverhost (its name as the server knows itself: used by
 * DIGEST-MD5's digest-uri) as authname with password, in realm (NULL: the
 * first realm the server offers), asking to act as authzid (NULL or "":
 * none; then only mechanisms that can proxy are chosen). All strings are
 * copied. Returns 0 and *client_r, or ERR_GENERIC with *error_r. */
int saslglue_client_new(const char *service, const char *serverhost,
                        const char *authname, const char *password,
                        const char *realm, const char *authzid,
                        struct saslglue_client **client_r,
                        const char **error_r);
/* Dispose (wiping the password); sets *clientp = NULL. NULL is fine. */
void saslglue_client_free(struct saslglue_client **clientp);

/* The channel is protected by TLS with this SSF (0: none); max_layer caps
 * the SASL security layer we accept (0: authentication only, the default).
 * Only before start. Returns 0 or ERR_GENERIC. */
int saslglue_client_set_ssf(struct saslglue_client *c, unsigned external_ssf,
                            unsigned max_layer);

/* Only choose among mechs (space-separated, in preference order; NULL or
 * "": no restriction). See saslglue_client_forced_mechs(). */
void saslglue_client_restrict(struct saslglue_client *c, const char *mechs);

/* The configured mechanism list toward host: `<shorthost>_mechs`, else
 * `force_sasl_client_mech`; NULL if neither. shorthost is host up to the
 * first '.' or ':'. Owned by cfg. */
const char *saslglue_client_forced_mechs(const struct config *cfg,
                                         const char *host);
/* The configured password toward host: `<shorthost>_password`, else
 * `proxy_password`; NULL if neither. Owned by cfg. */
const char *saslglue_client_password(const struct config *cfg,
                                     const char *host);

/* Choose a mechanism from mechlist (space-separated, as the server
 * advertised; case does not matter), restricted as above, PLAIN preferred
 * over LOGIN, otherwise libsasl's order (strongest first), and produce the
 * initial response. *mech_r (owned by the context) names it; *out_r is
 * NULL when the mechanism has no initial response, else out_r/outlen_r
 * hold it (possibly empty; owned by libsasl until the next call).
 * Returns 0 (our side is done; the server may still answer with a final
 * challenge, feed it to _step), SASLGLUE_CONTINUE (expect challenges),
 * ERR_NOTSUPPORTED (no usable common mechanism) or ERR_AUTH. */
int saslglue_client_start(struct saslglue_client *c, const char *mechlist,
                          const char **mech_r, const char **out_r,
                          size_t *outlen_r, const char **error_r);
/* Answer challenge in[0..inlen); results as saslglue_client_start() (the
 * answer, possibly empty, is in out_r/outlen_r; never NULL on success). */
int saslglue_client_step(struct saslglue_client *c, const char *in,
                         size_t inlen, const char **out_r, size_t *outlen_r,
                         const char **error_r);

/* The same with base64: the initial response is appended to out_b64, and
 * *has_ir_r says whether there is one (an empty one is "=", RFC 4959);
 * the challenge is base64 text and the answer is appended to out_b64.
 * Bad base64 in a challenge is ERR_PROTOCOL. */
int saslglue_client_start_b64(struct saslglue_client *c, const char *mechlist,
                              const char **mech_r, struct buf *out_b64,
                              int *has_ir_r, const char **error_r);
int saslglue_client_step_b64(struct saslglue_client *c, const char *in,
                             size_t inlen, struct buf *out_b64,
                             const char **error_r);

/* The negotiated security layer SSF (0: none) and the libsasl connection,
 * for the stream layer. */
unsigned saslglue_client_ssf(const struct saslglue_client *c);
sasl_conn_t *saslglue_client_conn(struct saslglue_client *c);

#endif
