/* lmtpd.h: lmtpd's process and session state, shared by lmtpd.c (the
 * session loop and envelope commands) and lmtp_data.c (DATA). Private to
 * the lmtpd program. */
#ifndef LMTPD_H
#define LMTPD_H

#include <stddef.h>

#include "buf.h"
#include "cyrusdb.h"
#include "lmtp_deliver.h"
#include "lmtp_proto.h"
#include "lmtp_proxy.h"
#include "saslglue.h"
#include "service.h"
#include "stream.h"

/* Per process: set up by init, read-only while serving. */
struct lmtpd_proc {
    int preauth;  /* -a */
    int frontend; /* mupdate_server without proxyservers: proxy to the
                   * backends (lmtp_proxy.h); ml is the replica */
    const char *servername;
    struct cyrusdb_env *dbenv;
    struct mboxlist *ml;
    struct quota_db *qdb;
    struct duplicate_db *ddb;
    struct namespace *ns;
    struct tls_ctx *tls; /* NULL: no STARTTLS */
    char *stagedir;      /* <default partition>/stage. */
    struct lmtp_deliver_env denv;
};

struct lmtpd_rcpt {
    char *addr; /* as given in RCPT TO, for logs and Received */
    struct lmtp_target *target;
    int ignorequota; /* the RCPT had IGNOREQUOTA (passed on by a proxy) */
};

/* Per connection. */
struct lmtpd_session {
    struct stream *s;
    const struct service_conn *conn;
    struct saslglue_server *sasl;
    char *authuser; /* NULL until authenticated (or preauthenticated) */
    char *lhlo;     /* the client's LHLO name */
    char *sessionid;
    int have_lhlo;
    int have_mail;
    int dead; /* stop after this command */
    struct buf from;
    struct lmtp_path path; /* scratch for MAIL/RCPT parsing */
    struct lmtpd_rcpt *rcpt;
    size_t nrcpt, rcptalloc;
    struct lmtp_proxy *proxy; /* frontend: backend connections, or NULL */
};

/* End the mail transaction: forget MAIL and the recipients. */
void lmtpd_reset_txn(struct lmtpd_session *sess);
/* Queue "code text\r\n". */
void lmtpd_reply(struct lmtpd_session *sess, int code, const char *text);
/* The next line from the client (without line end) into line; flushes
 * queued replies before waiting. 0, ERR_TOOLONG (the line was dropped),
 * or ERR_EOF/ERR_TIMEOUT/ERR_IO. */
int lmtpd_read_line(struct lmtpd_session *sess, struct buf *line);
/* DATA: read the message, deliver it to every recipient, answer once per
 * recipient, and end the transaction. */
void lmtpd_data(struct lmtpd_session *sess, const struct lmtpd_proc *proc);
/* Called with each piece of the message body, dot-unstuffed. */
typedef void lmtpd_data_cb(void *ctx, const char *data, size_t len);
/* Read the message after DATA up to its final "." line, in chunks as they
 * arrive (no line length limit, memory bounded by the chunk size), and
 * pass each to cb. Bare LFs are passed on as they are. Flushes queued
 * replies before waiting. 0 or the connection error (lmtp_data.c). */
int lmtpd_read_data(struct lmtpd_session *sess, lmtpd_data_cb *cb, void *ctx);
/* Return-Path and Received, as Cyrus lmtpd prepends them, appended to
 * out (lmtp_data.c). */
void lmtpd_trace_headers(const struct lmtpd_session *sess,
                         const struct lmtpd_proc *proc, struct buf *out);
/* DATA on a frontend: relay the message to the recipients' backends as
 * it arrives and answer once per recipient (lmtpd_proxy.c). */
void lmtpd_proxy_data(struct lmtpd_session *sess,
                      const struct lmtpd_proc *proc);

#endif
