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

/* Read the message up to its final "." line and pass it on, counting
 * the trace header bytes in against max (0: no limit). After *over_r is
 * set the rest is drained. 0 or the connection error. */
static int
relay_message(struct lmtpd_session *sess, uint64_t max, uint64_t total,
              int *over_r)
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
            total += buf_len(&out);
            if (!*over_r && max > 0 && total > max) {
                *over_r = 1;
                lmtp_proxy_abort(sess->proxy);
            }
            if (!*over_r && buf_len(&out) > 0)
                lmtp_proxy_write(sess->proxy, buf_base(&out), buf_len(&out));
            buf_reset(&out);
            continue;
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

void
lmtpd_proxy_data(struct lmtpd_session *sess, const struct lmtpd_proc *proc)
{
    struct buf hdr = BUF_INITIALIZER, from = BUF_INITIALIZER;
    struct lmtp_proxy_rcpt *pr = NULL;
    int64_t max = config_bytesize(config, CFG_MAXMESSAGESIZE);
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
    err =
        relay_message(sess, max > 0 ? (uint64_t)max : 0, buf_len(&hdr), &over);
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
