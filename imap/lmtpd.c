/* lmtpd.c: the backend LMTP server (RFC 2033), run by master.
 *
 * Options (besides service_main()'s): -a  preauthenticate TCP clients
 * (the MTA delivers without AUTH). UNIX socket clients are always
 * trusted. Otherwise a TCP client must AUTH, and only `admins`
 * (`lmtp_admins`) may.
 *
 * A session reads one command line at a time and answers it; replies
 * are flushed only when no further command is already buffered, which is
 * all PIPELINING needs. DATA stages the message once (lmtp_data.c) and
 * answers once per accepted recipient, each 250 only after the message is
 * durable in that recipient's mailbox. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "cyrusdb.h"
#include "errors.h"
#include "lmtpd.h"
#include "log.h"
#include "saslglue.h"
#include "service.h"
#include "stream.h"
#include "svcinit.h"
#include "tls.h"
#include "util.h"
#include "xmalloc.h"

#define LMTPD_TIMEOUT_MS (5 * 60 * 1000)

/* The one mutable global: this process's state (STYLE.md rule 7). */
static struct lmtpd_proc lmtpd_proc;

void
lmtpd_reset_txn(struct lmtpd_session *sess)
{
    size_t i;

    for (i = 0; i < sess->nrcpt; i++) {
        lmtp_target_free(&sess->rcpt[i].target);
        free(sess->rcpt[i].addr);
    }
    sess->nrcpt = 0;
    sess->have_mail = 0;
    buf_reset(&sess->from);
}

void
lmtpd_reply(struct lmtpd_session *sess, int code, const char *text)
{
    stream_printf(sess->s, "%d %s\r\n", code, text);
}

/* The next command line into line; flushes our replies first when the
 * client has sent nothing more (PIPELINING). */
int
lmtpd_read_line(struct lmtpd_session *sess, struct buf *line)
{
    /* stream_getline flushes our pending replies before it waits, so
     * pipelined commands are answered in batches */
    return stream_getline(sess->s, line);
}

static void
cmd_lhlo(struct lmtpd_session *sess, const char *arg, size_t len)
{
    struct buf out = BUF_INITIALIZER;
    int64_t max = config_bytesize(config, CFG_MAXMESSAGESIZE);

    if (len == 0) {
        lmtpd_reply(sess, 501, "5.5.4 LHLO needs a host name");
        return;
    }
    lmtpd_reset_txn(sess);
    free(sess->lhlo);
    sess->lhlo = xstrndup(arg, len);
    buf_printf(&out,
               "250-%s\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n"
               "250-PIPELINING\r\n",
               lmtpd_proc.servername);
    if (max > 0)
        buf_printf(&out, "250-SIZE %lld\r\n", (long long)max);
    else
        buf_appendcstr(&out, "250-SIZE\r\n");
    if (lmtpd_proc.tls != NULL && !stream_tls_active(sess->s)
        && sess->authuser == NULL)
        buf_appendcstr(&out, "250-STARTTLS\r\n");
    if (sess->authuser == NULL && sess->sasl != NULL)
        saslglue_mechlist(sess->sasl, "250-AUTH ", " ", "\r\n", &out);
    buf_printf(&out, "250-IGNOREQUOTA\r\n250 Ok SESSIONID=<%s>\r\n",
               sess->sessionid);
    stream_write(sess->s, buf_base(&out), buf_len(&out));
    buf_free(&out);
    sess->have_lhlo = 1;
}

static int
new_sasl(struct lmtpd_session *sess, int fd)
{
    struct saslglue_server_params params = {0};
    struct buf local = BUF_INITIALIZER, remote = BUF_INITIALIZER;
    const char *err = NULL;
    int r;

    saslglue_server_free(&sess->sasl);
    params.service = "lmtp";
    params.servername = lmtpd_proc.servername;
    if (saslglue_ipport(fd, 0, &local) == 0)
        params.local_ipport = buf_cstring(&local);
    if (saslglue_ipport(fd, 1, &remote) == 0)
        params.remote_ipport = buf_cstring(&remote);
    params.allow_plaintext =
        config_switch(config, CFG_ALLOWPLAINTEXT) || stream_tls_active(sess->s);
    if (stream_tls_active(sess->s))
        params.external_ssf = (unsigned)stream_tls_ssf(sess->s);
    params.policy = SASLGLUE_POLICY_ADMINS_ONLY;
    r = saslglue_server_new(config, &params, &sess->sasl, &err);
    if (r < 0)
        log_msg(LOG_ERR, "lmtpd: SASL: %s", err ? err : "?");
    buf_free(&local);
    buf_free(&remote);
    return r;
}

static void
cmd_starttls(struct lmtpd_session *sess)
{
    char *err = NULL;

    if (lmtpd_proc.tls == NULL) {
        lmtpd_reply(sess, 454, "4.7.0 TLS not available");
        return;
    }
    if (stream_tls_active(sess->s) || sess->authuser != NULL) {
        lmtpd_reply(sess, 503, "5.5.1 TLS not allowed now");
        return;
    }
    lmtpd_reply(sess, 220, "2.0.0 Ready to start TLS");
    if (stream_flush(sess->s) < 0
        || stream_starttls_server(sess->s, lmtpd_proc.tls, &err) < 0) {
        log_msg(LOG_NOTICE, "lmtpd: STARTTLS failed: %s", err ? err : "?");
        free(err);
        sess->dead = 1;
        return;
    }
    /* RFC 3207 4.2: forget everything learnt before TLS */
    lmtpd_reset_txn(sess);
    sess->have_lhlo = 0;
    new_sasl(sess, stream_fd(sess->s));
}

static void
cmd_auth(struct lmtpd_session *sess, const char *arg, size_t len)
{
    struct buf mech = BUF_INITIALIZER, chal = BUF_INITIALIZER;
    struct buf line = BUF_INITIALIZER;
    const char *sp = memchr(arg, ' ', len), *err = NULL;
    int r;

    if (sess->authuser != NULL) {
        lmtpd_reply(sess, 503, "5.5.1 Already authenticated");
        return;
    }
    if (sess->sasl == NULL || len == 0 || sess->have_mail) {
        lmtpd_reply(sess, 501, "5.5.4 AUTH not possible now");
        return;
    }
    buf_setmap(&mech, arg, sp ? (size_t)(sp - arg) : len);
    if (sp != NULL)
        r = saslglue_server_start_b64(sess->sasl, buf_cstring(&mech), sp + 1,
                                      len - (size_t)(sp + 1 - arg), &chal,
                                      &err);
    else
        r = saslglue_server_start_b64(sess->sasl, buf_cstring(&mech), NULL, 0,
                                      &chal, &err);
    while (r == SASLGLUE_CONTINUE) {
        stream_printf(sess->s, "334 %s\r\n", buf_cstring(&chal));
        buf_reset(&chal);
        if (lmtpd_read_line(sess, &line) < 0) {
            sess->dead = 1;
            goto done;
        }
        if (buf_len(&line) == 1 && buf_base(&line)[0] == '*') {
            lmtpd_reply(sess, 501, "5.0.0 AUTH cancelled");
            goto done;
        }
        r = saslglue_server_step_b64(sess->sasl, buf_base(&line),
                                     buf_len(&line), &chal, &err);
    }
    if (r == 0) {
        sess->authuser = xstrdup(saslglue_server_user(sess->sasl));
        log_msg(LOG_NOTICE, "lmtpd: login: %s as %s", sess->conn->remote,
                sess->authuser);
        lmtpd_reply(sess, 235, "2.0.0 Authenticated");
    } else {
        log_msg(LOG_NOTICE, "lmtpd: badlogin: %s %s: %s", sess->conn->remote,
                buf_cstring(&mech), err ? err : error_text(r));
        sleep((unsigned)saslglue_failedloginpause(config));
        /* a failed exchange may start again, but not on this context */
        new_sasl(sess, stream_fd(sess->s));
        if (r == ERR_NOTSUPPORTED)
            lmtpd_reply(sess, 504, "5.5.4 Unrecognized authentication type");
        else
            lmtpd_reply(sess, 535, "5.7.8 Authentication failed");
    }
done:
    buf_free(&mech);
    buf_free(&chal);
    buf_free(&line);
}

static int
need_auth(struct lmtpd_session *sess)
{
    if (sess->authuser != NULL)
        return 0;
    lmtpd_reply(sess, 530, "5.7.1 Authentication required");
    return 1;
}

static void
cmd_mail(struct lmtpd_session *sess, const char *arg, size_t len)
{
    const char *err;
    int64_t max = config_bytesize(config, CFG_MAXMESSAGESIZE);

    if (!sess->have_lhlo) {
        lmtpd_reply(sess, 503, "5.5.1 Need LHLO command");
        return;
    }
    if (need_auth(sess))
        return;
    if (sess->have_mail) {
        lmtpd_reply(sess, 503, "5.5.1 Nested MAIL command");
        return;
    }
    if (lmtp_parse_mail(arg, len, &sess->path, &err) < 0) {
        lmtpd_reply(sess, 501, err);
        return;
    }
    if (max > 0 && sess->path.has_size && sess->path.size > (uint64_t)max) {
        lmtpd_reply(sess, 552, "5.2.3 Message size exceeds fixed limit");
        return;
    }
    buf_setmap(&sess->from, buf_base(&sess->path.addr),
               buf_len(&sess->path.addr));
    sess->have_mail = 1;
    lmtpd_reply(sess, 250, "2.1.0 ok");
}

static void
cmd_rcpt(struct lmtpd_session *sess, const char *arg, size_t len)
{
    struct lmtp_target *t = NULL;
    struct lmtp_reply_code rc;
    const char *err = NULL;
    int r;

    if (!sess->have_mail) {
        lmtpd_reply(sess, 503, "5.5.1 Need MAIL command");
        return;
    }
    if (lmtp_parse_rcpt(arg, len, &sess->path, &err) < 0) {
        lmtpd_reply(sess, 501, err);
        return;
    }
    r = lmtp_target_resolve(&lmtpd_proc.denv, buf_base(&sess->path.addr),
                            buf_len(&sess->path.addr), sess->path.ignorequota,
                            &t, &err);
    if (r == 0 && lmtpd_proc.frontend && lmtp_target_server(t) == NULL) {
        /* a frontend delivers nothing itself */
        lmtp_target_free(&t);
        err = "mailbox is not on a backend";
        r = ERR_NOMAILBOX;
    }
    if (r < 0) {
        log_msg(LOG_INFO, "lmtpd: RCPT <%s>: %s", buf_cstring(&sess->path.addr),
                err ? err : error_text(r));
        rc = lmtp_reply_for_error(
            r, config_switch(config, CFG_LMTP_OVER_QUOTA_PERM_FAILURE));
        if (r == ERR_NOUSER || r == ERR_NOMAILBOX)
            stream_puts(sess->s,
                        "550-Mailbox unknown.  Either there is no mailbox "
                        "associated with this\r\n"
                        "550-name or you do not have authorization to see "
                        "it.\r\n");
        lmtpd_reply(sess, rc.code, rc.text);
        return;
    }
    if (sess->nrcpt == sess->rcptalloc) {
        sess->rcptalloc = sess->rcptalloc ? 2 * sess->rcptalloc : 8;
        sess->rcpt =
            xreallocarray(sess->rcpt, sess->rcptalloc, sizeof(*sess->rcpt));
    }
    sess->rcpt[sess->nrcpt].target = t;
    sess->rcpt[sess->nrcpt].addr = xstrdup(buf_cstring(&sess->path.addr));
    sess->rcpt[sess->nrcpt].ignorequota = sess->path.ignorequota;
    sess->nrcpt++;
    lmtpd_reply(sess, 250, "2.1.5 ok");
}

static void
cmd_vrfy(struct lmtpd_session *sess, const char *arg, size_t len)
{
    struct lmtp_target *t = NULL;
    const char *err;
    struct lmtp_reply_code rc;
    const char *a = arg;
    int r;

    if (need_auth(sess))
        return;
    if (len >= 2 && arg[0] == '<' && arg[len - 1] == '>') {
        a++;
        len -= 2;
    }
    r = lmtp_target_resolve(&lmtpd_proc.denv, a, len, 0, &t, &err);
    lmtp_target_free(&t);
    rc = lmtp_reply_for_error(r, 0);
    lmtpd_reply(sess, rc.code, r == 0 ? "2.1.5 ok" : rc.text);
}

static void
make_sessionid(struct lmtpd_session *sess, const struct service_conn *info)
{
    struct buf b = BUF_INITIALIZER;

    buf_printf(&b, "%s-%d-%ld-%u", lmtpd_proc.servername, (int)getpid(),
               (long)time(NULL), info->use);
    free(sess->sessionid);
    sess->sessionid = buf_release(&b);
}

static void
lmtpd_connection(int fd, const struct service_conn *info)
{
    struct lmtpd_session sess;
    struct buf line = BUF_INITIALIZER;

    memset(&sess, 0, sizeof(sess));
    sess.conn = info;
    sess.s = stream_new(fd);
    stream_set_timeout(sess.s, LMTPD_TIMEOUT_MS);
    lmtp_path_init(&sess.path);
    make_sessionid(&sess, info);
    if (lmtpd_proc.preauth || info->is_unix || info->standalone)
        sess.authuser = xstrdup("postman");
    new_sasl(&sess, fd);
    stream_printf(sess.s, "220 %s Cyrus LMTP server ready\r\n",
                  lmtpd_proc.servername);
    while (!sess.dead) {
        const char *arg;
        size_t arglen;
        enum lmtp_verb verb;
        int r = lmtpd_read_line(&sess, &line);

        if (r == ERR_TOOLONG) {
            lmtpd_reply(&sess, 500, "5.5.2 Line too long");
            continue;
        }
        if (r < 0)
            break;
        verb =
            lmtp_command_parse(buf_base(&line), buf_len(&line), &arg, &arglen);
        switch (verb) {
        case LMTP_LHLO:
            cmd_lhlo(&sess, arg, arglen);
            break;
        case LMTP_STARTTLS:
            cmd_starttls(&sess);
            break;
        case LMTP_AUTH:
            cmd_auth(&sess, arg, arglen);
            break;
        case LMTP_MAIL:
            cmd_mail(&sess, arg, arglen);
            break;
        case LMTP_RCPT:
            cmd_rcpt(&sess, arg, arglen);
            break;
        case LMTP_DATA:
            if (!need_auth(&sess))
                lmtpd_data(&sess, &lmtpd_proc);
            break;
        case LMTP_RSET:
            lmtpd_reset_txn(&sess);
            lmtpd_reply(&sess, 250, "2.0.0 ok");
            break;
        case LMTP_NOOP:
            lmtpd_reply(&sess, 250, "2.0.0 ok");
            break;
        case LMTP_VRFY:
            cmd_vrfy(&sess, arg, arglen);
            break;
        case LMTP_QUIT:
            lmtpd_reply(&sess, 221, "2.0.0 bye");
            sess.dead = 1;
            break;
        case LMTP_HELO:
        case LMTP_EHLO:
            lmtpd_reply(&sess, 500, "5.5.1 This is LMTP: use LHLO");
            break;
        default:
            lmtpd_reply(&sess, 500, "5.5.2 Syntax error, command unrecognized");
            break;
        }
    }
    stream_flush(sess.s);
    lmtpd_reset_txn(&sess);
    free(sess.rcpt);
    lmtp_proxy_free(&sess.proxy);
    free(sess.lhlo);
    free(sess.authuser);
    free(sess.sessionid);
    buf_free(&sess.from);
    buf_free(&line);
    lmtp_path_fini(&sess.path);
    saslglue_server_free(&sess.sasl);
    stream_free(&sess.s);
}

/* What svcinit_start() opened; lmtpd_proc holds copies of its fields. */
static struct svcinit lmtpd_base;

static int
lmtpd_init(int argc, char **argv, char **err)
{
    struct buf path = BUF_INITIALIZER;
    const char *part;
    int opt;

    optind = 1;
    while ((opt = getopt(argc, argv, "a")) != -1) {
        if (opt == 'a')
            lmtpd_proc.preauth = 1;
    }
    if (svcinit_start(config, NULL, &lmtpd_base, err) < 0)
        return -1;
    lmtpd_proc.servername = lmtpd_base.servername;
    lmtpd_proc.dbenv = lmtpd_base.dbenv;
    lmtpd_proc.ns = lmtpd_base.ns;
    lmtpd_proc.tls = lmtpd_base.tls;
    lmtpd_proc.frontend = lmtpd_base.frontend;
    if (mboxlist_open(lmtpd_proc.dbenv, "mailboxes.db", &lmtpd_proc.ml) < 0
        || quota_db_open(lmtpd_proc.dbenv, NULL, &lmtpd_proc.qdb) < 0
        || duplicate_open(lmtpd_proc.dbenv,
                          config_str(config, CFG_DUPLICATE_DB_PATH),
                          &lmtpd_proc.ddb)
               < 0) {
        *err = xstrdup("cannot open mailboxes.db, quotas.db or deliver.db");
        return -1;
    }
    lmtpd_proc.denv.cfg = config;
    lmtpd_proc.denv.ns = lmtpd_proc.ns;
    lmtpd_proc.denv.ml = lmtpd_proc.ml;
    if (lmtpd_proc.frontend) {
        /* no local delivery: quota and duplicates are the backends' */
        lmtpd_proc.denv.proxy = 1;
        return 0;
    }
    part = config_str(config, CFG_DEFAULTPARTITION);
    part = config_partition_dir(config, part ? part : "default");
    if (part == NULL) {
        *err = xstrdup("no partition-default (or defaultpartition) directory");
        return -1;
    }
    buf_printf(&path, "%s/stage.", part);
    lmtpd_proc.stagedir = buf_release(&path);
    lmtpd_proc.denv.qdb = lmtpd_proc.qdb;
    lmtpd_proc.denv.ddb = lmtpd_proc.ddb;
    return 0;
}

static void
lmtpd_fini(void)
{
    duplicate_close(&lmtpd_proc.ddb);
    quota_db_close(&lmtpd_proc.qdb);
    mboxlist_close(&lmtpd_proc.ml);
    lmtpd_proc.ns = NULL;
    lmtpd_proc.tls = NULL;
    lmtpd_proc.dbenv = NULL;
    svcinit_fini(&lmtpd_base);
    free(lmtpd_proc.stagedir);
}

int
main(int argc, char **argv)
{
    static const struct service_ops ops = {.name = "lmtp",
                                           .init = lmtpd_init,
                                           .connection = lmtpd_connection,
                                           .fini = lmtpd_fini};

    return service_main(argc, argv, &ops);
}
