/* lmtpd_proxy.c: DATA on a frontend lmtpd (MURDER.md section 15, issue
 * 7): the message goes on to the backends as it arrives.
 *
 * The backends get their envelopes (MAIL, RCPTs, DATA, pipelined) as
 * soon as the client says DATA, so they work on them while the client
 * sends the message; the message is then relayed in chunks, never held
 * whole in memory, and nothing touches the disk here: each backend makes
 * the message durable before its 250, which is passed on. A message that
 * turns out too big, or a client that leaves in the middle, closes the
 * backend connections in DATA (only that cancels a delivery there). */
#include <string.h>

#include "config.h"
#include "errors.h"
#include "lmtpd.h"
#include "log.h"
#include "xmalloc.h"

/* Passing the message on, counting the trace header bytes in against
 * max (0: no limit); after over is set the rest is drained. */
struct relay {
    struct lmtpd_session *sess;
    uint64_t max, total;
    int over;
};

/* lmtpd_data_cb */
static void
relay_cb(void *ctx, const char *data, size_t len)
{
    struct relay *rl = ctx;

    rl->total += len;
    if (!rl->over && rl->max > 0 && rl->total > rl->max) {
        rl->over = 1;
        lmtp_proxy_abort(rl->sess->proxy);
    }
    if (!rl->over)
        lmtp_proxy_write(rl->sess->proxy, data, len);
}

void
lmtpd_proxy_data(struct lmtpd_session *sess, const struct lmtpd_proc *proc)
{
    struct buf hdr = BUF_INITIALIZER, from = BUF_INITIALIZER;
    struct lmtp_proxy_rcpt *pr = NULL;
    int64_t max = config_bytesize(config, CFG_MAXMESSAGESIZE);
    struct relay rl = {0};
    int over = 0, err;
    size_t i;

    if (!sess->have_mail || sess->nrcpt == 0) {
        lmtpd_reply(sess, 503,
                    sess->have_mail ? "5.5.1 No recipients"
                                    : "5.5.1 Need MAIL command");
        return;
    }
    if (sess->proxy == NULL)
        sess->proxy = lmtp_proxy_new(config, "lmtpproxyd");
    pr = xzmalloc(sess->nrcpt * sizeof(*pr));
    for (i = 0; i < sess->nrcpt; i++) {
        pr[i].addr = sess->rcpt[i].addr;
        pr[i].server = lmtp_target_server(sess->rcpt[i].target);
        pr[i].ignorequota = sess->rcpt[i].ignorequota;
    }
    buf_appendbuf(&from, &sess->from);
    lmtp_proxy_begin(sess->proxy, buf_cstring(&from), pr, sess->nrcpt,
                     sess->sessionid);
    lmtpd_reply(sess, 354, "go ahead");
    if (stream_flush(sess->s) < 0) {
        lmtp_proxy_abort(sess->proxy);
        sess->dead = 1;
        goto done;
    }
    /* the client sends while the backends answer the envelope */
    lmtp_proxy_wait(sess->proxy);
    lmtpd_trace_headers(sess, proc, &hdr);
    lmtp_proxy_write(sess->proxy, buf_base(&hdr), buf_len(&hdr));
    rl.sess = sess;
    rl.max = max > 0 ? (uint64_t)max : 0;
    rl.total = buf_len(&hdr);
    err = lmtpd_read_data(sess, relay_cb, &rl);
    over = rl.over;
    if (err < 0) {
        log_msg(LOG_NOTICE, "lmtpd: connection lost in DATA: %s",
                error_text(err));
        lmtp_proxy_abort(sess->proxy);
        sess->dead = 1;
        goto done;
    }
    if (over) {
        for (i = 0; i < sess->nrcpt; i++)
            lmtpd_reply(sess, 552, "5.2.3 Message size exceeds fixed limit");
        goto done;
    }
    lmtp_proxy_end(sess->proxy);
    for (i = 0; i < sess->nrcpt; i++)
        lmtpd_reply(sess, pr[i].code, pr[i].text);
done:
    free(pr);
    buf_free(&hdr);
    buf_free(&from);
    lmtpd_reset_txn(sess);
}
