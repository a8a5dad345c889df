/* lmtp_data.c: lmtpd's DATA command (RFC 2033 4.2): read the message,
 * stage it once, deliver it to each recipient and answer once per
 * recipient.
 *
 * Durability: lmtp_target_deliver() returns 0 only after the mailbox
 * commit, which has made the message file (the staged file, linked into
 * the mailbox; its fsync is deferred to that commit so that one journal
 * commit covers file, link, cache and index), the cache and the index
 * durable, so a 250 is never sent for a message that a crash could lose. A
 * session killed while reading DATA leaves only a staged temporary file behind,
 * never a partial message in a mailbox. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "errors.h"
#include "lmtpd.h"
#include "log.h"
#include "msgheader.h"
#include "xmalloc.h"

void
lmtpd_trace_headers(const struct lmtpd_session *sess,
                    const struct lmtpd_proc *proc, struct buf *out)
{
    char date[64];
    time_t now = time(NULL);
    struct tm tm;

    localtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
    buf_printf(out, "Return-Path: <%.*s>\r\n", (int)buf_len(&sess->from),
               buf_base(&sess->from));
    buf_printf(out,
               "Received: from %s (%s)\r\n\tby %s (Cyrus) with LMTP%s%s;"
               "\r\n\t%s\r\n",
               sess->lhlo ? sess->lhlo : "unknown",
               sess->conn->remote[0] ? sess->conn->remote : "local",
               proc->servername, stream_tls_active(sess->s) ? "S" : "",
               sess->sasl && saslglue_server_user(sess->sasl) ? "A" : "", date);
}

int
lmtpd_read_data(struct lmtpd_session *sess, lmtpd_data_cb *cb, void *ctx)
{
    struct lmtp_unstuff u;
    struct buf out = BUF_INITIALIZER;
    int done = 0, r = 0;

    lmtp_unstuff_init(&u);
    while (!done) {
        size_t avail, used;
        const char *p = stream_peek(sess->s, &avail);
        ssize_t n;

        if (avail > 0) {
            used = lmtp_unstuff_feed(&u, p, avail, &out, &done);
            stream_skip(sess->s, used);
            if (buf_len(&out) > 0)
                cb(ctx, buf_base(&out), buf_len(&out));
            buf_reset(&out);
            continue;
        }
        if (stream_flush(sess->s) < 0) {
            r = ERR_IO;
            break;
        }
        n = stream_fill(sess->s);
        if (n < 0 && n != ERR_TOOLONG) {
            r = (int)n;
            break;
        }
    }
    buf_free(&out);
    return r;
}

/* lmtpd_data_cb: into the stage (NULL: the stage failed, drain). */
static void
stage_cb(void *ctx, const char *data, size_t len)
{
    struct append_stage *st = ctx;

    if (st != NULL)
        append_stage_write(st, data, len);
}

/* Refuse messages whose header Cyrus refuses: a line that is not a field
 * (also a message with no header at all) or a NUL. */
static int
check_message(const struct append_stage *st)
{
    size_t len;
    const char *data = append_stage_data(st, &len);
    unsigned problems = msgheader_check(data, len);

    if (problems & (MSGHEADER_BAD_FIELD | MSGHEADER_NUL | MSGHEADER_BODY_NUL))
        return ERR_BADMSG;
    return 0;
}

void
lmtpd_data(struct lmtpd_session *sess, const struct lmtpd_proc *proc)
{
    struct append_stage *st = NULL;
    struct buf hdr = BUF_INITIALIZER, ok = BUF_INITIALIZER;
    int64_t max = config_bytesize(config, CFG_MAXMESSAGESIZE);
    int quota_perm = config_switch(config, CFG_LMTP_OVER_QUOTA_PERM_FAILURE);
    int err;
    size_t i;

    if (proc->frontend) {
        lmtpd_proxy_data(sess, proc);
        return;
    }
    if (!sess->have_mail) {
        lmtpd_reply(sess, 503, "5.5.1 Need MAIL command");
        return;
    }
    if (sess->nrcpt == 0) {
        lmtpd_reply(sess, 503, "5.5.1 No recipients");
        return;
    }
    err = append_stage_new(proc->stagedir, max > 0 ? (uint64_t)max : 0, &st);
    if (err < 0)
        log_msg(LOG_ERR, "lmtpd: cannot stage in %s: %s", proc->stagedir,
                error_text(err));
    else
        append_stage_defer_fsync(st); /* each mailbox's commit syncs it */
    lmtpd_reply(sess, 354, "go ahead");
    if (st != NULL) {
        lmtpd_trace_headers(sess, proc, &hdr);
        append_stage_write(st, buf_base(&hdr), buf_len(&hdr));
    }
    err = lmtpd_read_data(sess, stage_cb, st);
    if (err < 0) {
        /* the client is gone: nothing was delivered, nothing is answered */
        log_msg(LOG_NOTICE, "lmtpd: connection lost in DATA: %s",
                error_text(err));
        sess->dead = 1;
        goto done;
    }
    if (st == NULL)
        err = ERR_IO;
    if (err == 0)
        err = append_stage_finish(st);
    if (err == 0)
        err = check_message(st);
    buf_printf(&ok, "2.1.5 Ok SESSIONID=<%s>", sess->sessionid);
    for (i = 0; i < sess->nrcpt; i++) {
        struct lmtpd_rcpt *rc = &sess->rcpt[i];
        struct lmtp_reply_code code;
        int r = err, dup = 0;

        if (r == 0)
            r = lmtp_target_deliver(&proc->denv, rc->target, st, &dup);
        if (r == 0) {
            log_msg(LOG_INFO, "lmtpd: %s <%s> to %s%s", sess->sessionid,
                    rc->addr, lmtp_target_mailbox(rc->target),
                    dup ? ": duplicate suppressed" : "");
            lmtpd_reply(sess, 250, buf_cstring(&ok));
            continue;
        }
        log_msg(LOG_NOTICE, "lmtpd: %s <%s> to %s failed: %s", sess->sessionid,
                rc->addr, lmtp_target_mailbox(rc->target), error_text(r));
        code = lmtp_reply_for_error(r, quota_perm);
        lmtpd_reply(sess, code.code, code.text);
    }
    /* answer before the clean-up (removing the staged file): the client
     * waits for these replies; an error shows at the next read */
    (void)stream_flush(sess->s);
done:
    append_stage_free(&st);
    buf_free(&hdr);
    buf_free(&ok);
    lmtpd_reset_txn(sess);
}
