/* imapclient.h: a small blocking IMAP client (cyradm, tests, XFER).
 *
 * One struct imapclient is one connection to an IMAP server over
 * lib/stream (TLS, SASL security layer). It speaks request/response: the
 * caller builds one command with imapclient_cmd_*(), runs it, gets every
 * untagged response through a callback and the tagged result in a
 * struct imapclient_result. Nothing is pipelined.
 *
 *     imapclient_cmd_begin(c, "CREATE");
 *     imapclient_cmd_string(c, "user.alice.Sent");
 *     r = imapclient_cmd_run(c, NULL, NULL, &res);
 *     if (r < 0)  -> the connection failed (imapclient_error(c))
 *     else if (res.status != IMAPCLIENT_OK) -> NO/BAD, see res.code/res.text
 *
 * Untagged responses are handed over as assembled by the reader: the text
 * after "* ", and for each literal its "{N}" header, CRLF, the N bytes and
 * the rest of the line (the form lib/imaptok.h parses), without the final
 * CRLF; imapclient_resp.h has parsers for the ones admin tools need.
 *
 * Errors: functions return 0 or a negative ERR_* (errors.h): ERR_EOF,
 * ERR_TIMEOUT, ERR_IO, ERR_PROTOCOL (a malformed response, TLS or SASL
 * failure), ERR_AUTH (the server refused the credentials), ERR_NOTSUPPORTED
 * (no usable mechanism, no STARTTLS). imapclient_error() has the detail,
 * owned by the client and valid until the next call on it. */
#ifndef IMAPCLIENT_H
#define IMAPCLIENT_H

#include <stddef.h>

#include "buf.h"
#include "strarray.h"

struct imapclient;
struct tls_ctx;

enum imapclient_status {
    IMAPCLIENT_OK,
    IMAPCLIENT_NO,
    IMAPCLIENT_BAD
};

/* The tagged completion of a command. Embed, imapclient_result_init(),
 * reuse across commands (each run resets it), imapclient_result_fini(). */
struct imapclient_result {
    enum imapclient_status status;
    struct buf code; /* response code without brackets ("REFERRAL imap://x/y",
                      * "NONEXISTENT"), or empty */
    struct buf text; /* human-readable text after the code */
};

void imapclient_result_init(struct imapclient_result *res);
void imapclient_result_fini(struct imapclient_result *res);

/* ---- connecting ------------------------------------------------------- */

/* Connect to host:port (port NULL: "143", or "993" when implicit_tls is
 * set), start TLS at once when implicit_tls is set (servername = host),
 * read the greeting and the capabilities (from the greeting's
 * [CAPABILITY] code, else with a CAPABILITY command). A "* BYE" greeting
 * is ERR_UNAVAILABLE. 0 and *c_r, or an error with *error_r (allocated,
 * caller frees). */
int imapclient_connect(const char *host, const char *port,
                       struct tls_ctx *implicit_tls, struct imapclient **c_r,
                       char **error_r);
/* The same over an already connected fd (tests over socketpair());
 * the client does not own fd: imapclient_free() leaves it open. */
int imapclient_new_fd(int fd, struct imapclient **c_r, char **error_r);
/* Close the connection (without LOGOUT) and free. Sets *cp = NULL. */
void imapclient_free(struct imapclient **cp);
/* Send LOGOUT, wait for its completion (best effort), then free. */
void imapclient_logout(struct imapclient **cp);

/* Idle timeout for each wait, in milliseconds (default 5 minutes). */
void imapclient_set_timeout(struct imapclient *c, int ms);

/* Detail of the last failure ("" if none). */
const char *imapclient_error(const struct imapclient *c);
/* The host name given to imapclient_connect() ("" for _new_fd()). */
const char *imapclient_host(const struct imapclient *c);

/* ---- capabilities and authentication ---------------------------------- */

/* The current capability list (refreshed after STARTTLS and login). */
const struct strarray *imapclient_caps(const struct imapclient *c);
/* Whether cap ("ACL", "AUTH=PLAIN", ...) is advertised, any case. */
int imapclient_has_cap(const struct imapclient *c, const char *cap);
/* Ask again (CAPABILITY). 0 or an error. */
int imapclient_refresh_caps(struct imapclient *c);

/* STARTTLS (RFC 3501 6.2.1) with ctx (a client context), servername for
 * SNI and verification (may be NULL). ERR_NOTSUPPORTED when the server
 * does not advertise it. */
int imapclient_starttls(struct imapclient *c, struct tls_ctx *ctx,
                        const char *servername);
int imapclient_tls_active(const struct imapclient *c);

/* LOGIN user password. 0, ERR_AUTH (NO), or an error. */
int imapclient_login(struct imapclient *c, const char *user,
                     const char *password);

/* AUTHENTICATE with libsasl (lib/saslglue.h client side; the caller did
 * saslglue_client_init()). mechs: space-separated mechanisms to choose
 * from (NULL: any the server offers), authzid NULL for none. Uses SASL-IR
 * when offered, installs a negotiated security layer, then refreshes the
 * capabilities. 0, ERR_AUTH, ERR_NOTSUPPORTED or an error. */
int imapclient_authenticate(struct imapclient *c, const char *mechs,
                            const char *authname, const char *authzid,
                            const char *password);

/* ---- commands --------------------------------------------------------- */

/* Start a command: "<tag> verb". Discards any command being built. */
void imapclient_cmd_begin(struct imapclient *c, const char *verb);
/* Append " " and s verbatim (atoms, "(STORAGE 100)", "NIL"). */
void imapclient_cmd_atom(struct imapclient *c, const char *s);
/* Append s verbatim, without a space ("(", ")"). */
void imapclient_cmd_raw(struct imapclient *c, const char *s);
/* Append " " and s as an IMAP astring: an atom when it is one (and not
 * NIL), a quoted string when printable, else a literal (non-synchronising
 * when the server has LITERAL+, else sent after its "+" continuation). */
void imapclient_cmd_string(struct imapclient *c, const char *s);
/* The same as a quoted string or literal, never an atom ("" stays ""). */
void imapclient_cmd_quoted(struct imapclient *c, const char *s);

/* Called for each untagged response (see the top of this file); resp is
 * NUL-terminated and valid during the call. */
typedef void imapclient_untagged_cb(void *ctx, const char *resp, size_t len);

/* Send the command built and read until its tagged completion, handing
 * untagged responses to cb (may be NULL). 0 (the command completed, see
 * res->status) or a connection error. A "* BYE" before the completion is
 * ERR_EOF with the server's text in imapclient_error(). */
int imapclient_cmd_run(struct imapclient *c, imapclient_untagged_cb *cb,
                       void *ctx, struct imapclient_result *res);

#endif
