/* lmtp_proxy.h: the frontend LMTP proxy's delivery step (MURDER.md
 * section 15, issue 7): one LMTP transaction per backend for the
 * recipients it holds, each backend's per-recipient replies mapped back
 * to the recipients in the client's order.
 *
 * Connections (imap/backend.c with backend_proto_lmtp: TCP_NODELAY, AUTH
 * as `proxy_authname` with an empty authzid, so backends list the proxy
 * in `lmtp_admins`) are cached for the life of the struct lmtp_proxy
 * (one lmtpd session): reused while alive, checked with RSET after
 * BACKEND_IDLE_PING seconds idle, dropped after BACKEND_IDLE_DROP. Backends
 * are served one after the other; an unreachable one costs at most
 * `client_timeout` (connection refused: at once) and fails only its own
 * recipients.
 *
 * Final replies (IMAP-SCOPE.md section 6):
 *   backend accepted           its reply code and enhanced code
 *   backend refused the RCPT   550 5.1.x becomes 451 4.3.0 (our replica
 *                              may be stale); others keep their codes
 *   DATA-phase failure         the backend's code and enhanced code
 *   backend unreachable/lost   451 4.4.3 */
#ifndef LMTP_PROXY_H
#define LMTP_PROXY_H

#include <stddef.h>

struct config;
struct lmtp_proxy;

/* One recipient: the caller fills addr, server and ignorequota;
 * lmtp_proxy_deliver() fills code and text ("4.4.3 ..."; owned by the
 * proxy until the next lmtp_proxy_deliver()). */
struct lmtp_proxy_rcpt {
    const char *addr;   /* as given in RCPT TO, without <> */
    const char *server; /* from the replica entry */
    int ignorequota;
    int code;
    const char *text;
};

/* cfg must outlive the proxy; lhlo is the name we give in LHLO. */
struct lmtp_proxy *lmtp_proxy_new(const struct config *cfg, const char *lhlo);
/* QUIT every cached connection and free; sets *pp = NULL. */
void lmtp_proxy_free(struct lmtp_proxy **pp);

/* Deliver msg[0..len) (unstuffed, with our trace headers) from `from` to
 * rcpts[0..n), grouped by server; fills each rcpt's code and text. The
 * session id goes into the text of successful replies. The steps below
 * in one call. */
void lmtp_proxy_deliver(struct lmtp_proxy *p, const char *from,
                        struct lmtp_proxy_rcpt *rcpts, size_t n,
                        const char *msg, size_t len, const char *sessionid);

/* The same in steps, for a message that arrives while the backends
 * already work on the envelope (the frontend's DATA):
 *
 * lmtp_proxy_begin(): connect (or reuse) each backend of rcpts and send
 * it MAIL, its RCPTs and DATA, pipelined, without waiting for replies.
 * rcpts (and sessionid) must stay valid until lmtp_proxy_end() or
 * lmtp_proxy_abort(); recipients whose backend is unreachable get their
 * reply (451 4.4.3) at once. */
void lmtp_proxy_begin(struct lmtp_proxy *p, const char *from,
                      struct lmtp_proxy_rcpt *rcpts, size_t n,
                      const char *sessionid);
/* Wait for the envelope replies: the number of backends that said 354
 * and wait for the message. Recipients whose backend refused the
 * envelope get their reply now. */
size_t lmtp_proxy_wait(struct lmtp_proxy *p);
/* The next data[0..len) of the message (unstuffed, any chunking) to
 * every backend that waits for it. Errors show in lmtp_proxy_end(). */
void lmtp_proxy_write(struct lmtp_proxy *p, const char *data, size_t len);
/* End of the message: every recipient's final reply (code and text). */
void lmtp_proxy_end(struct lmtp_proxy *p);
/* The message will not come (the client left, or it is too big): close
 * every connection in the middle of the transaction, since a backend
 * that said 354 delivers whatever ends with "." (they are reconnected
 * next time). The recipients' replies are left undefined. */
void lmtp_proxy_abort(struct lmtp_proxy *p);

#endif
