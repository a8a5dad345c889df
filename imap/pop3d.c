/* pop3d.c: the backend POP3 server (RFC 1939, RFC 2449 CAPA, RFC 5034
 * SASL, RFC 2595 STLS), run by master.
 *
 * Options (besides service_main()'s): -s  TLS from the start (pop3s).
 *
 * The session is two states (RFC 1939 3): AUTHORIZATION until USER/PASS
 * or AUTH succeed and the maildrop is open and locked (pop3_maildrop.h),
 * then TRANSACTION until QUIT, which expunges the messages marked by
 * DELE. A command table gates each command to its states.
 *
 * Frontend role (`mupdate_server` set, no `proxyservers`, as imapd
 * decides): after authentication the session goes to the backend holding
 * the user's INBOX (proxy_pop3.h) and pop3d only relays bytes. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "config.h"
#include "cyrusdb.h"
#include "errors.h"
#include "log.h"
#include "mboxlist.h"
#include "pop3_maildrop.h"
#include "pop3_proto.h"
#include "proxy_pop3.h"
#include "proxy_pump.h"
#include "saslglue.h"
#include "service.h"
#include "stream.h"
#include "svcinit.h"
#include "tls.h"
#include "xmalloc.h"

/* Per process: set up by init, read-only while serving. */
struct pop3d_proc {
    int implicit_tls; /* -s */
    int frontend;     /* proxy sessions to the backends */
    const char *servername;
    struct cyrusdb_env *dbenv;
    struct namespace *ns;
    struct tls_ctx *tls;
    struct pop3_maildrop_env menv;
};

/* The one mutable global (STYLE.md rule 7). */
static struct pop3d_proc pop3d_proc;

struct pop3d_session {
    struct stream *s;
    const struct service_conn *conn;
    struct saslglue_server *sasl;
    char *user;   /* USER argument, waiting for PASS */
    char *authid; /* the logged-in user, NULL in AUTHORIZATION */
    struct pop3_maildrop *md;
    int dead;
};

enum pop3d_state {
    POP3D_AUTHORIZATION = 1 << 0,
    POP3D_TRANSACTION = 1 << 1
};

struct pop3d_command {
    enum pop3_verb verb;
    void (*fn)(struct pop3d_session *sess, const struct pop3_command *cmd);
    unsigned states;
};

static void
ok(struct pop3d_session *sess, const char *text)
{
    stream_printf(sess->s, "+OK%s%s\r\n", *text ? " " : "", text);
}

static void
err(struct pop3d_session *sess, const char *text)
{
    stream_printf(sess->s, "-ERR %s\r\n", text);
}

static int
read_line(struct pop3d_session *sess, struct buf *line)
{
    /* stream_getline flushes our pending replies before it waits, so
     * pipelined commands are answered in batches */
    return stream_getline(sess->s, line);
}

static int
plaintext_ok(struct pop3d_session *sess)
{
    return config_switch(config, CFG_ALLOWPLAINTEXT)
           || stream_tls_active(sess->s);
}

static void
new_sasl(struct pop3d_session *sess)
{
    struct saslglue_server_params params = {0};
    struct buf local = BUF_INITIALIZER, remote = BUF_INITIALIZER;
    int fd = stream_fd(sess->s);
    const char *e = NULL;

    saslglue_server_free(&sess->sasl);
    params.service = "pop";
    params.servername = pop3d_proc.servername;
    if (saslglue_ipport(fd, 0, &local) == 0)
        params.local_ipport = buf_cstring(&local);
    if (saslglue_ipport(fd, 1, &remote) == 0)
        params.remote_ipport = buf_cstring(&remote);
    params.allow_plaintext = plaintext_ok(sess);
    if (stream_tls_active(sess->s))
        params.external_ssf = (unsigned)stream_tls_ssf(sess->s);
    params.policy = SASLGLUE_POLICY_PROXY;
    if (saslglue_server_new(config, &params, &sess->sasl, &e) < 0)
        log_msg(LOG_ERR, "pop3d: SASL: %s", e ? e : "?");
    buf_free(&local);
    buf_free(&remote);
}

static long
session_timeout(void)
{
    long timeout = config_duration(config, CFG_POPTIMEOUT);

    /* poptimeout is at least 10 minutes (RFC 1939 3) */
    return timeout < 600 ? 600 : timeout;
}

/* Frontend: authentication succeeded as user; hand the session to the
 * backend and relay until either side closes. */
static void
proxy_login(struct pop3d_session *sess, const char *user, const char *mech)
{
    struct backend *be = NULL;
    const char *reply = NULL;
    int r = proxy_pop3_open(config, pop3d_proc.menv.ml, pop3d_proc.ns, user,
                            &be, &reply);

    if (r < 0) {
        err(sess, reply);
        log_msg(LOG_NOTICE, "pop3d: %s: proxy: %s", user, error_text(r));
        new_sasl(sess);
        return;
    }
    log_msg(LOG_NOTICE, "pop3d: login: %s %s %s proxied to %s",
            sess->conn->remote, user, mech, backend_server(be));
    ok(sess, "Maildrop locked and ready");
    r = stream_flush(sess->s);
    if (r == 0)
        r = proxy_pump(sess->s, backend_stream(be),
                       (int)session_timeout() * 1000);
    if (r == 1)
        log_msg(LOG_INFO, "pop3d: %s: backend %s closed", user,
                backend_server(be));
    else if (r != 0)
        log_msg(LOG_NOTICE, "pop3d: %s: relay to %s: %s", user,
                backend_server(be), error_text(r));
    /* no QUIT of our own: the client's QUIT went through, or the client
     * vanished and its deletions must not be committed (RFC 1939 6) */
    backend_free(&be);
    sess->dead = 1;
}

/* Authentication succeeded as user: open the maildrop. */
static void
login(struct pop3d_session *sess, const char *user, const char *mech)
{
    int r;

    if (pop3d_proc.frontend) {
        proxy_login(sess, user, mech);
        return;
    }
    r = pop3_maildrop_open(&pop3d_proc.menv, user, &sess->md);

    switch (r) {
    case 0:
        sess->authid = xstrdup(user);
        log_msg(LOG_NOTICE, "pop3d: login: %s %s %s", sess->conn->remote, user,
                mech);
        ok(sess, "Mailbox locked and ready");
        return;
    case ERR_LOCKED:
        err(sess, "[IN-USE] Unable to lock maildrop");
        break;
    case ERR_AGAIN:
        err(sess, "[LOGIN-DELAY] Minimum time between mail checks violation");
        break;
    case ERR_NOUSER:
        err(sess, "[SYS/PERM] Unable to locate maildrop");
        break;
    case ERR_MOVED:
        err(sess, "[SYS/TEMP] Maildrop has been moved");
        break;
    default:
        err(sess, "[SYS/TEMP] Unable to open maildrop");
        break;
    }
    log_msg(LOG_NOTICE, "pop3d: %s: maildrop: %s", user, error_text(r));
    /* RFC 1939: the session stays in AUTHORIZATION; start over */
    new_sasl(sess);
}

static void
badlogin(struct pop3d_session *sess, const char *who, const char *why)
{
    log_msg(LOG_NOTICE, "pop3d: badlogin: %s %s: %s", sess->conn->remote, who,
            why ? why : "?");
    sleep((unsigned)saslglue_failedloginpause(config));
    new_sasl(sess);
    err(sess, "[AUTH] Invalid login");
}

static void
cmd_user(struct pop3d_session *sess, const struct pop3_command *cmd)
{
    if (!plaintext_ok(sess)) {
        err(sess, "[AUTH] USER command only available under a layer");
        return;
    }
    if (cmd->nargs != 1) {
        err(sess, "Missing argument");
        return;
    }
    free(sess->user);
    sess->user = xstrndup(cmd->arg[0], cmd->arglen[0]);
    ok(sess, "Name is a valid mailbox");
}

static void
cmd_pass(struct pop3d_session *sess, const struct pop3_command *cmd)
{
    char *pass;
    const char *why = NULL;
    int r;

    if (sess->user == NULL) {
        err(sess, "Must give USER command");
        return;
    }
    pass = xstrndup(cmd->rest, cmd->restlen);
    r = sess->sasl ? saslglue_checkpass(sess->sasl, sess->user, pass, &why)
                   : ERR_AUTH;
    memset(pass, 0, cmd->restlen);
    free(pass);
    if (r < 0)
        badlogin(sess, sess->user, why);
    else
        login(sess, saslglue_server_user(sess->sasl), "plaintext");
    free(sess->user);
    sess->user = NULL;
}

static void
cmd_auth(struct pop3d_session *sess, const struct pop3_command *cmd)
{
    struct buf mech = BUF_INITIALIZER, chal = BUF_INITIALIZER;
    struct buf line = BUF_INITIALIZER, list = BUF_INITIALIZER;
    const char *why = NULL;
    int r;

    if (sess->sasl == NULL) {
        err(sess, "[SYS/TEMP] Authentication unavailable");
        return;
    }
    if (cmd->nargs == 0) {
        /* RFC 5034 4 allows the bare form: list the mechanisms */
        saslglue_mechlist(sess->sasl, "", "\r\n", "\r\n", &list);
        stream_printf(sess->s,
                      "+OK List of supported mechanisms follows\r\n"
                      "%s.\r\n",
                      buf_cstring(&list));
        buf_free(&list);
        return;
    }
    buf_setmap(&mech, cmd->arg[0], cmd->arglen[0]);
    r = saslglue_server_start_b64(
        sess->sasl, buf_cstring(&mech), cmd->nargs > 1 ? cmd->arg[1] : NULL,
        cmd->nargs > 1 ? cmd->arglen[1] : 0, &chal, &why);
    while (r == SASLGLUE_CONTINUE) {
        stream_printf(sess->s, "+ %s\r\n", buf_cstring(&chal));
        buf_reset(&chal);
        if (read_line(sess, &line) < 0) {
            sess->dead = 1;
            goto done;
        }
        if (buf_len(&line) == 1 && buf_base(&line)[0] == '*') {
            err(sess, "[AUTH] Client canceled authentication");
            new_sasl(sess);
            goto done;
        }
        r = saslglue_server_step_b64(sess->sasl, buf_base(&line),
                                     buf_len(&line), &chal, &why);
    }
    if (r == 0)
        login(sess, saslglue_server_user(sess->sasl), buf_cstring(&mech));
    else
        badlogin(sess, buf_cstring(&mech), why);
done:
    buf_free(&mech);
    buf_free(&chal);
    buf_free(&line);
}

static void
cmd_capa(struct pop3d_session *sess, const struct pop3_command *cmd)
{
    struct buf out = BUF_INITIALIZER;
    long minpoll = config_duration(config, CFG_POPMINPOLL);
    long expire = config_duration(config, CFG_POPEXPIRETIME);

    (void)cmd;
    buf_appendcstr(&out, "+OK List of capabilities follows\r\n");
    if (sess->authid == NULL && sess->sasl != NULL)
        saslglue_mechlist(sess->sasl, "SASL ", " ", "\r\n", &out);
    if (pop3d_proc.tls != NULL && !stream_tls_active(sess->s)
        && sess->authid == NULL)
        buf_appendcstr(&out, "STLS\r\n");
    if (expire < 0)
        buf_appendcstr(&out, "EXPIRE NEVER\r\n");
    else
        buf_printf(&out, "EXPIRE %ld\r\n", expire / 86400);
    if (minpoll > 0)
        buf_printf(&out, "LOGIN-DELAY %ld\r\n", minpoll);
    buf_appendcstr(&out, "TOP\r\nUIDL\r\nPIPELINING\r\nRESP-CODES\r\n"
                         "AUTH-RESP-CODE\r\n");
    if (sess->authid == NULL && plaintext_ok(sess))
        buf_appendcstr(&out, "USER\r\n");
    if (sess->authid != NULL
        || strcmp(config_enum(config, CFG_SERVERINFO), "on") == 0)
        buf_appendcstr(&out, "IMPLEMENTATION Cyrus POP3 server\r\n");
    buf_appendcstr(&out, ".\r\n");
    stream_write(sess->s, buf_base(&out), buf_len(&out));
    buf_free(&out);
}

static void
cmd_stls(struct pop3d_session *sess, const struct pop3_command *cmd)
{
    char *e = NULL;

    (void)cmd;
    if (pop3d_proc.tls == NULL || stream_tls_active(sess->s)) {
        err(sess, "STLS not available");
        return;
    }
    ok(sess, "Begin TLS negotiation now");
    if (stream_flush(sess->s) < 0
        || stream_starttls_server(sess->s, pop3d_proc.tls, &e) < 0) {
        log_msg(LOG_NOTICE, "pop3d: STLS failed: %s", e ? e : "?");
        free(e);
        sess->dead = 1;
        return;
    }
    free(sess->user);
    sess->user = NULL;
    new_sasl(sess);
}

static void
cmd_quit(struct pop3d_session *sess, const struct pop3_command *cmd)
{
    int r = 0;

    (void)cmd;
    sess->dead = 1;
    /* RFC 1939 6: the UPDATE state, only after TRANSACTION. The POP lock
     * goes before the reply, so a client that logs in again right after
     * +OK does not find its own old session holding the maildrop. */
    if (sess->md != NULL)
        r = pop3_maildrop_commit(sess->md);
    pop3_maildrop_free(&sess->md);
    if (r < 0)
        err(sess, "[SYS/TEMP] Unable to remove some messages");
    else
        ok(sess, "");
}

static void
cmd_noop(struct pop3d_session *sess, const struct pop3_command *cmd)
{
    (void)cmd;
    ok(sess, "");
}

/* The message number argument of LIST/RETR/DELE/TOP/UIDL, answering the
 * error itself. 0 and *msgno_r, or -1. */
static int
msgno_arg(struct pop3d_session *sess, const struct pop3_command *cmd,
          uint32_t *msgno_r, uint32_t *uid_r, uint64_t *size_r)
{
    if (cmd->nargs < 1
        || pop3_parse_number(cmd->arg[0], cmd->arglen[0], UINT32_MAX, 0,
                             msgno_r)
               < 0) {
        err(sess, "Invalid message number");
        return -1;
    }
    /* RFC 1939: one argument (TOP's line count is its own to check);
     * "RETR 1 2" must not pass for "RETR 1" */
    if (cmd->nargs > 1 && cmd->verb != POP3_TOP) {
        err(sess, "Unexpected extra argument");
        return -1;
    }
    if (pop3_maildrop_msg(sess->md, *msgno_r, uid_r, size_r) < 0) {
        err(sess, "No such message");
        return -1;
    }
    return 0;
}

static void
cmd_stat(struct pop3d_session *sess, const struct pop3_command *cmd)
{
    uint32_t n;
    uint64_t size;

    (void)cmd;
    pop3_maildrop_stat(sess->md, &n, &size);
    stream_printf(sess->s, "+OK %u %llu\r\n", n, (unsigned long long)size);
}

/* LIST and UIDL share their shape: one line, or all of them. */
static void
list_or_uidl(struct pop3d_session *sess, const struct pop3_command *cmd,
             int uidl)
{
    struct buf id = BUF_INITIALIZER;
    uint32_t msgno, uid, uidvalidity = pop3_maildrop_uidvalidity(sess->md);
    uint64_t size;

    if (cmd->nargs > 0) {
        if (msgno_arg(sess, cmd, &msgno, &uid, &size) == 0) {
            pop3_uidl(uidvalidity, uid, &id);
            if (uidl)
                stream_printf(sess->s, "+OK %u %s\r\n", msgno,
                              buf_cstring(&id));
            else
                stream_printf(sess->s, "+OK %u %llu\r\n", msgno,
                              (unsigned long long)size);
        }
        buf_free(&id);
        return;
    }
    ok(sess, "");
    for (msgno = 1; msgno <= pop3_maildrop_count(sess->md); msgno++) {
        if (pop3_maildrop_msg(sess->md, msgno, &uid, &size) < 0)
            continue;
        if (uidl) {
            pop3_uidl(uidvalidity, uid, &id);
            stream_printf(sess->s, "%u %s\r\n", msgno, buf_cstring(&id));
        } else {
            stream_printf(sess->s, "%u %llu\r\n", msgno,
                          (unsigned long long)size);
        }
    }
    stream_puts(sess->s, ".\r\n");
    buf_free(&id);
}

static void
cmd_list(struct pop3d_session *sess, const struct pop3_command *cmd)
{
    list_or_uidl(sess, cmd, 0);
}

static void
cmd_uidl(struct pop3d_session *sess, const struct pop3_command *cmd)
{
    list_or_uidl(sess, cmd, 1);
}

static void
send_message(struct pop3d_session *sess, const struct pop3_command *cmd,
             long toplines)
{
    struct buf out = BUF_INITIALIZER;
    const char *base;
    size_t len;
    uint32_t msgno, uid;
    uint64_t size;

    if (msgno_arg(sess, cmd, &msgno, &uid, &size) < 0)
        return;
    if (pop3_maildrop_map(sess->md, msgno, &base, &len) < 0) {
        err(sess, "[SYS/TEMP] Message has been removed");
        return;
    }
    if (toplines < 0)
        stream_printf(sess->s, "+OK %llu octets\r\n", (unsigned long long)size);
    else
        ok(sess, "Message follows");
    pop3_stuff_message(base, len, toplines, &out);
    stream_write(sess->s, buf_base(&out), buf_len(&out));
    pop3_maildrop_unmap(base, len);
    buf_free(&out);
}

static void
cmd_retr(struct pop3d_session *sess, const struct pop3_command *cmd)
{
    send_message(sess, cmd, -1);
}

static void
cmd_top(struct pop3d_session *sess, const struct pop3_command *cmd)
{
    uint32_t lines;

    if (cmd->nargs != 2
        || pop3_parse_number(cmd->arg[1], cmd->arglen[1], UINT32_MAX, 1, &lines)
               < 0) {
        err(sess, "Invalid number of lines");
        return;
    }
    send_message(sess, cmd, (long)lines);
}

static void
cmd_dele(struct pop3d_session *sess, const struct pop3_command *cmd)
{
    uint32_t msgno, uid;
    uint64_t size;

    if (msgno_arg(sess, cmd, &msgno, &uid, &size) < 0)
        return;
    pop3_maildrop_delete(sess->md, msgno);
    ok(sess, "message deleted");
}

static void
cmd_rset(struct pop3d_session *sess, const struct pop3_command *cmd)
{
    (void)cmd;
    pop3_maildrop_reset(sess->md);
    ok(sess, "");
}

#define AUTHZ POP3D_AUTHORIZATION
#define TRANS POP3D_TRANSACTION

static const struct pop3d_command pop3d_commands[] = {
    {POP3_USER, cmd_user, AUTHZ        },
    {POP3_PASS, cmd_pass, AUTHZ        },
    {POP3_AUTH, cmd_auth, AUTHZ        },
    {POP3_STLS, cmd_stls, AUTHZ        },
    {POP3_CAPA, cmd_capa, AUTHZ | TRANS},
    {POP3_QUIT, cmd_quit, AUTHZ | TRANS},
    {POP3_NOOP, cmd_noop, TRANS        },
    {POP3_STAT, cmd_stat, TRANS        },
    {POP3_LIST, cmd_list, TRANS        },
    {POP3_RETR, cmd_retr, TRANS        },
    {POP3_DELE, cmd_dele, TRANS        },
    {POP3_RSET, cmd_rset, TRANS        },
    {POP3_TOP,  cmd_top,  TRANS        },
    {POP3_UIDL, cmd_uidl, TRANS        },
};

static void
dispatch(struct pop3d_session *sess, const char *line, size_t len)
{
    struct pop3_command cmd;
    const char *why;
    unsigned state = sess->md ? POP3D_TRANSACTION : POP3D_AUTHORIZATION;
    size_t i;

    if (pop3_command_parse(line, len, &cmd, &why) < 0) {
        err(sess, why);
        return;
    }
    for (i = 0; i < sizeof(pop3d_commands) / sizeof(pop3d_commands[0]); i++) {
        if (pop3d_commands[i].verb != cmd.verb)
            continue;
        if (!(pop3d_commands[i].states & state)) {
            err(sess, "Command not allowed in this state");
            return;
        }
        pop3d_commands[i].fn(sess, &cmd);
        return;
    }
    err(sess, "Unrecognized command");
}

static void
pop3d_connection(int fd, const struct service_conn *info)
{
    struct pop3d_session sess;
    struct buf line = BUF_INITIALIZER;

    memset(&sess, 0, sizeof(sess));
    sess.conn = info;
    sess.s = stream_new(fd);
    stream_set_timeout(sess.s, (int)session_timeout() * 1000);
    stream_set_maxline(sess.s, 8192);
    if (pop3d_proc.implicit_tls
        && svcinit_implicit_tls(sess.s, pop3d_proc.tls,
                                (int)session_timeout() * 1000,
                                SVCINIT_TLS_HANDSHAKE_MS, "pop3s",
                                info->remote)
               < 0)
        goto out;
    new_sasl(&sess);
    stream_printf(sess.s, "+OK %s Cyrus POP3 server ready\r\n",
                  pop3d_proc.servername);
    while (!sess.dead) {
        int r = read_line(&sess, &line);

        if (r == ERR_TOOLONG) {
            err(&sess, "Line too long");
            continue;
        }
        if (r < 0)
            break;
        dispatch(&sess, buf_base(&line), buf_len(&line));
    }
    stream_flush(sess.s);
out:
    pop3_maildrop_free(&sess.md);
    saslglue_server_free(&sess.sasl);
    free(sess.user);
    free(sess.authid);
    buf_free(&line);
    stream_free(&sess.s);
}

/* What svcinit_start() opened; pop3d_proc holds copies of its fields. */
static struct svcinit pop3d_base;

static int
pop3d_init(int argc, char **argv, char **errp)
{
    int opt;

    optind = 1;
    while ((opt = getopt(argc, argv, "s")) != -1) {
        if (opt == 's')
            pop3d_proc.implicit_tls = 1;
    }
    if (svcinit_start(config, pop3d_proc.implicit_tls ? "pop3s" : NULL,
                      &pop3d_base, errp) < 0)
        return -1;
    pop3d_proc.servername = pop3d_base.servername;
    pop3d_proc.dbenv = pop3d_base.dbenv;
    pop3d_proc.ns = pop3d_base.ns;
    pop3d_proc.tls = pop3d_base.tls;
    pop3d_proc.frontend = pop3d_base.frontend;
    if (mboxlist_open(pop3d_proc.dbenv, "mailboxes.db", &pop3d_proc.menv.ml) < 0
        || quota_db_open(pop3d_proc.dbenv, NULL, &pop3d_proc.menv.qdb) < 0) {
        *errp = xstrdup("cannot open mailboxes.db or quotas.db");
        return -1;
    }
    pop3d_proc.menv.cfg = config;
    pop3d_proc.menv.ns = pop3d_proc.ns;
    return 0;
}

static void
pop3d_fini(void)
{
    quota_db_close(&pop3d_proc.menv.qdb);
    mboxlist_close(&pop3d_proc.menv.ml);
    pop3d_proc.ns = NULL;
    pop3d_proc.tls = NULL;
    pop3d_proc.dbenv = NULL;
    svcinit_fini(&pop3d_base);
}

int
main(int argc, char **argv)
{
    static const struct service_ops ops = {.name = "pop3",
                                           .init = pop3d_init,
                                           .connection = pop3d_connection,
                                           .fini = pop3d_fini};

    return service_main(argc, argv, &ops);
}
