/* cmd_auth.c: LOGIN, AUTHENTICATE, STARTTLS. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "errors.h"
#include "imapd.h"
#include "imapreader.h"
#include "log.h"
#include "saslglue.h"
#include "service.h"
#include "stream.h"
#include "tls.h"
#include "util.h"

static void
login_ok(struct imapd_session *s, const char *tag, const char *user)
{
    struct buf caps = BUF_INITIALIZER, code = BUF_INITIALIZER;

    imapd_logged_in(s, user);
    imapd_capabilities(s, &caps);
    buf_printf(&code, "CAPABILITY %s", buf_cstring(&caps));
    imapd_ok(s, tag, buf_cstring(&code), "User logged in");
    buf_free(&caps);
    buf_free(&code);
}

static void
login_failed(struct imapd_session *s, const char *tag, const char *why)
{
    long pause = saslglue_failedloginpause(config);

    log_msg(LOG_NOTICE, "badlogin: %s %s", s->conn->remote, why);
    /* slow down password guessing (failedloginpause, default 3 s) */
    if (pause > 0)
        sleep((unsigned)pause);
    s->failed_logins++;
    imapd_no(s, tag, "AUTHENTICATIONFAILED", "Authentication failed");
}

void
cmd_login(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    struct buf user = BUF_INITIALIZER, pass = BUF_INITIALIZER;
    const char *err = NULL;
    int r;

    if (imaptok_astring(t, &user) < 0 || imaptok_sp(t) < 0
        || imaptok_astring(t, &pass) < 0 || imaptok_end(t) < 0) {
        imapd_bad(s, tag, "Missing required argument to Login");
        goto done;
    }
    if (!imapd_plaintext_ok(s)) {
        imapd_no(s, tag, "PRIVACYREQUIRED",
                 "Login only available under a layer");
        goto done;
    }
    r = saslglue_checkpass(s->sasl, buf_cstring(&user), buf_cstring(&pass),
                           &err);
    if (r) {
        login_failed(s, tag, err ? err : error_text(r));
        goto done;
    }
    login_ok(s, tag, saslglue_server_user(s->sasl));
done:
    buf_free(&user);
    buf_free(&pass);
}

/* Read one continuation line of an AUTHENTICATE exchange. */
static int
read_auth_line(struct imapd_session *s, struct buf *line)
{
    imapreader_read_line(s->reader);
    for (;;) {
        const char *p;
        size_t len, used = 0;
        enum imapreader_state st;

        stream_flush(s->s);
        p = stream_peek(s->s, &len);
        if (len == 0) {
            if (stream_fill(s->s) <= 0)
                return ERR_EOF;
            continue;
        }
        st = imapreader_feed(s->reader, p, len, &used);
        stream_skip(s->s, used);
        if (st == IMAPREADER_LINE) {
            p = imapreader_line(s->reader, &len);
            buf_setmap(line, p, len);
            return 0;
        }
        if (st == IMAPREADER_ERROR || st == IMAPREADER_CLOSE)
            return ERR_TOOLONG;
    }
}

void
cmd_authenticate(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    struct imaptok_span mech, ir;
    struct buf out = BUF_INITIALIZER, line = BUF_INITIALIZER;
    char *mechname = NULL;
    const char *err = NULL;
    int r, have_ir = 0;

    if (imaptok_atom(t, &mech) < 0) {
        imapd_bad(s, tag, "Missing required argument to Authenticate");
        goto done;
    }
    mechname = strndup(mech.p, mech.len);
    if (imaptok_peek(t) == ' ') {
        /* SASL-IR (RFC 4959): "=" is an empty initial response */
        if (imaptok_sp(t) < 0
            || imaptok_atom_ex(t, IMAPTOK_ATOM_RBRACKET, &ir) < 0) {
            imapd_bad(s, tag, "Invalid initial response");
            goto done;
        }
        have_ir = 1;
    }
    if (imaptok_end(t) < 0) {
        imapd_bad(s, tag, "Unexpected extra arguments to Authenticate");
        goto done;
    }
    if (have_ir && ir.len == 1 && ir.p[0] == '=')
        r = saslglue_server_start_b64(s->sasl, mechname, "", 0, &out, &err);
    else if (have_ir)
        r = saslglue_server_start_b64(s->sasl, mechname, ir.p, ir.len, &out,
                                      &err);
    else
        r = saslglue_server_start_b64(s->sasl, mechname, NULL, 0, &out, &err);
    while (r == SASLGLUE_CONTINUE) {
        stream_printf(s->s, "+ %s\r\n", buf_cstring(&out));
        buf_reset(&out);
        if (read_auth_line(s, &line) < 0) {
            s->state = IMAPD_LOGOUT;
            goto done;
        }
        if (buf_len(&line) == 1 && buf_base(&line)[0] == '*') {
            imapd_bad(s, tag, "Client canceled authentication");
            goto done;
        }
        r = saslglue_server_step_b64(s->sasl, buf_base(&line),
                                     buf_len(&line), &out, &err);
    }
    if (r == ERR_NOTSUPPORTED) {
        imapd_no(s, tag, NULL, "Authentication mechanism not supported");
        goto done;
    }
    if (r) {
        login_failed(s, tag, err ? err : error_text(r));
        goto done;
    }
    if (saslglue_server_ssf(s->sasl) > 0)
        stream_set_sasl(s->s, (struct sasl_conn *)saslglue_server_conn(s->sasl));
    login_ok(s, tag, saslglue_server_user(s->sasl));
done:
    free(mechname);
    buf_free(&out);
    buf_free(&line);
}

void
cmd_starttls(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    char *err = NULL;

    if (imaptok_end(t) < 0) {
        imapd_bad(s, tag, "Unexpected extra arguments to Starttls");
        return;
    }
    if (s->proc->tls == NULL) {
        imapd_no(s, tag, NULL, "TLS not available");
        return;
    }
    if (stream_tls_active(s->s)) {
        imapd_bad(s, tag, "Already successfully executed STARTTLS");
        return;
    }
    imapd_ok(s, tag, NULL, "Begin TLS negotiation now");
    /* RFC 3501 6.2.1: anything pipelined after STARTTLS is discarded */
    imapreader_reset(s->reader);
    if (stream_starttls_server(s->s, s->proc->tls, &err) < 0) {
        log_msg(LOG_NOTICE, "STARTTLS failed: %s", err ? err : "?");
        free(err);
        s->state = IMAPD_LOGOUT;
        return;
    }
    saslglue_server_set_tls(s->sasl, (unsigned)stream_tls_ssf(s->s), NULL);
}
