/* lmtp_client.h: the client side of LMTP over a struct stream, for the
 * frontend LMTP proxy (issue 7) and tools.
 *
 * One connection: lmtp_client_new() reads the greeting and sends LHLO;
 * lmtp_client_auth() authenticates (AUTH with SASL, initial response
 * when the mechanism has one); lmtp_client_send() runs one whole
 * transaction (MAIL, the RCPTs and DATA pipelined when the server offers
 * PIPELINING) and reports one result per recipient, in order. The
 * connection can carry more transactions afterwards (a proxy caches it).
 *
 * Blocking, with the stream's timeout. Errors: 0 or a negative ERR_*;
 * connection-level failures (ERR_EOF, ERR_TIMEOUT, ERR_IO, ERR_PROTOCOL
 * for a malformed reply, ERR_UNAVAILABLE for a refused greeting) leave
 * the connection unusable; *error_r then says what was going on (static
 * text or owned by the client until the next call). */
#ifndef LMTP_CLIENT_H
#define LMTP_CLIENT_H

#include <stddef.h>

#include "lmtp_proto.h"
#include "saslglue.h"
#include "stream.h"

struct lmtp_client;

/* Take over s (freed by lmtp_client_free()), read the 220 greeting and
 * send "LHLO name". 0 and *c_r, or an error (s is then freed too). */
int lmtp_client_new(struct stream *s, const char *name,
                    struct lmtp_client **c_r, const char **error_r);
/* A client on a connection whose greeting (and AUTH) someone else
 * already handled (backend_connect() with backend_proto_lmtp): sends
 * "LHLO name" again for the keywords (RFC 5321 4.1.4 allows it). s stays
 * the caller's: lmtp_client_free() leaves it alone. 0 and *c_r, or an
 * error. */
int lmtp_client_attach(struct stream *s, const char *name,
                       struct lmtp_client **c_r, const char **error_r);
void lmtp_client_free(struct lmtp_client **cp);
/* Whether the LHLO reply listed keyword (case-insensitive, e.g.
 * "PIPELINING"), and its parameters ("PLAIN LOGIN" for AUTH, "" when
 * none); NULL when not listed. Owned by the client. */
const char *lmtp_client_cap(const struct lmtp_client *c, const char *keyword);
struct stream *lmtp_client_stream(struct lmtp_client *c);

/* AUTH with sc among the server's AUTH mechanisms. 0 (235), ERR_AUTH
 * (refused; the connection stays usable), ERR_NOTSUPPORTED (no common
 * mechanism), or a connection error. */
int lmtp_client_auth(struct lmtp_client *c, struct saslglue_client *sc,
                     const char **error_r);

/* One recipient of a transaction: the caller fills addr (and
 * ignorequota); lmtp_client_send() fills the rest. */
struct lmtp_client_rcpt {
    const char *addr;  /* without <> */
    int ignorequota;   /* send IGNOREQUOTA (when the server offers it) */
    int code;          /* the RCPT reply if refused, else the DATA one */
    char enhanced[16]; /* its enhanced status code or "" */
    int err;           /* lmtp_error_for_reply(code, enhanced) */
};

/* The whole transaction in one call: lmtp_client_begin(),
 * lmtp_client_wait_data(), lmtp_client_data(msg, len), lmtp_client_end().
 * Returns 0 when the exchange completed (each rcpt[i].err says how that
 * recipient fared; if MAIL or every RCPT was refused, DATA is not sent
 * (or, pipelined, is refused by the server), RSET is, and every rcpt
 * carries that error), or a connection error. */
int lmtp_client_send(struct lmtp_client *c, const char *from,
                     struct lmtp_client_rcpt *rcpts, size_t n, const char *msg,
                     size_t len, const char **error_r);

/* The same in steps, so that a proxy can send the envelope before it has
 * the message and pass the message on as it arrives:
 *
 * lmtp_client_begin(): MAIL FROM:<from> (AUTH=<> added when the server
 * offers AUTH, as Cyrus' proxy does), RCPT TO for each recipient, DATA.
 * With PIPELINING all of it goes in one write and no reply is read yet;
 * without, the commands go one at a time (DATA only after an accepted
 * RCPT). rcpts[0..n) must stay valid until lmtp_client_end() (or until
 * lmtp_client_wait_data() returned 0). 0 or a connection error. */
int lmtp_client_begin(struct lmtp_client *c, const char *from,
                      struct lmtp_client_rcpt *rcpts, size_t n,
                      const char **error_r);
/* Read the envelope's replies (pipelined). 1: the server said 354, send
 * the message with lmtp_client_data() and lmtp_client_end(); 0: nothing
 * will be delivered (MAIL, every RCPT or DATA refused): every rcpt has its
 * result and RSET was sent; or a connection error. */
int lmtp_client_wait_data(struct lmtp_client *c, const char **error_r);
/* The next msg[0..len) of the message (unstuffed, any chunking): queued
 * dot-stuffed, every line end (CRLF or bare LF) as CRLF. Write errors are
 * reported by lmtp_client_end(). No-op unless wait_data returned 1. */
void lmtp_client_data(struct lmtp_client *c, const char *msg, size_t len);
/* End the message (a CRLF after a last line without one, then ".") and
 * read one reply per accepted recipient (RFC 2033 4.2) into rcpts. 0 or
 * a connection error. No-op (0) unless wait_data returned 1. */
int lmtp_client_end(struct lmtp_client *c, const char **error_r);

/* RSET, QUIT: 0 or a connection error. */
int lmtp_client_rset(struct lmtp_client *c, const char **error_r);
int lmtp_client_quit(struct lmtp_client *c, const char **error_r);

#endif
