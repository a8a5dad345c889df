/* imapd.c: the IMAP server: process setup, the command loop, replies. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "annotate.h"
#include "cyrusdb.h"
#include "errors.h"
#include "expunge.h"
#include "imapd.h"
#include "imapreader.h"
#include "index.h"
#include "log.h"
#include "acl.h"
#include "mboxlist.h"
#include "mboxname.h"
#include "mboxops.h"
#include "murderhook.h"
#include "namespace.h"
#include "proxy_imap.h"
#include "quota.h"
#include "saslglue.h"
#include "seqset.h"
#include "seen.h"
#include "service.h"
#include "stream.h"
#include "subs.h"
#include "svcinit.h"
#include "tls.h"
#include "util.h"
#include "xmalloc.h"

#define IMAPD_VERSION "cyrmurder-0.1"

/* The one mutable per-process context (STYLE.md rule 7). */
static struct imapd_proc imapd_proc;

/* ---- replies ---- */

static void
reply(struct imapd_session *s, const char *tag, const char *kind,
      const char *code, const char *text)
{
    if (code && *code)
        stream_printf(s->s, "%s %s [%s] %s\r\n", tag, kind, code, text);
    else
        stream_printf(s->s, "%s %s %s\r\n", tag, kind, text);
    stream_flush(s->s);
}

void
imapd_ok(struct imapd_session *s, const char *tag, const char *code,
         const char *text)
{
    reply(s, tag, "OK", code, text);
}

void
imapd_no(struct imapd_session *s, const char *tag, const char *code,
         const char *text)
{
    reply(s, tag, "NO", code, text);
}

void
imapd_bad(struct imapd_session *s, const char *tag, const char *text)
{
    reply(s, tag, "BAD", NULL, text);
}

void
imapd_error(struct imapd_session *s, const char *tag, int err)
{
    reply(s, tag, "NO", error_imap_code(err), error_text(err));
}

void
imapd_result(struct imapd_session *s, const char *tag, int r,
             const char *error)
{
    if (r && error)
        imapd_no(s, tag, NULL, error);
    else if (r)
        imapd_error(s, tag, r);
    else
        imapd_ok(s, tag, NULL, "Completed");
}

void
imapd_sync(struct imapd_session *s, int allow_expunge)
{
    struct stat sb;

    if (s->selected == NULL)
        return;
    /* XFER (xfer.c) removed the mailbox under us: it lives elsewhere
     * now; the client reconnects (through its frontend) and finds it */
    if (stat(mailbox_path(index_mailbox(s->selected)), &sb) < 0
        && errno == ENOENT) {
        stream_puts(s->s, "* BYE Mailbox has been moved to another server\r\n");
        stream_flush(s->s);
        s->state = IMAPD_LOGOUT;
        return;
    }
    buf_reset(&s->out);
    if (index_sync(s->selected, &s->out, allow_expunge,
                   s->enabled & IMAPD_ENABLED_CONDSTORE)
        == 0)
        stream_write(s->s, buf_base(&s->out), buf_len(&s->out));
}

int
imapd_plaintext_ok(const struct imapd_session *s)
{
    return stream_tls_active(s->s) || config_switch(config, CFG_ALLOWPLAINTEXT);
}

void
imapd_logged_in(struct imapd_session *s, const char *userid)
{
    struct imapreader_limits lim;

    free(s->userid);
    s->userid = xstrdup(userid);
    s->isadmin = saslglue_is_admin(config, userid);
    s->state = IMAPD_AUTH;
    if (s->proc->frontend) {
        proxy_imap_free(&s->proxy);
        s->proxy = proxy_imap_new(userid);
    }
    imapreader_limits_default(&lim);
    /* APPEND literals are streamed to disk (imapd_literal.c checks
     * maxmessagesize itself to answer [TOOBIG]); the reader's own cap is
     * APPENDLIMIT's "unlimited" */
    lim.max_literal = UINT32_MAX;
    imapreader_set_limits(s->reader, &lim);
    imapd_literal_init(s);
    log_msg(LOG_NOTICE, "login: %s %s%s", s->conn->remote, userid,
            s->isadmin ? " (admin)" : "");
}

/* ---- mailbox helpers ---- */

int
imapd_lookup(struct imapd_session *s, const char *extname, char **intname_r,
             struct mboxlist_entry **entry_r)
{
    char *intname = NULL;
    struct mboxlist_entry *e = NULL;
    int r;

    r = mboxname_to_internal(s->proc->ns, s->userid, s->isadmin, extname,
                             &intname);
    if (r)
        return ERR_BADNAME;
    r = mboxlist_lookup(s->proc->mboxlist, intname, &e, NULL);
    if (r == 0 && (e->mbtype & (MBTYPE_RESERVE | MBTYPE_DELETED)))
        r = ERR_NOMAILBOX;
    if (r == 0 && !(imapd_rights(s, e) & ACL_LOOKUP))
        r = ERR_NOMAILBOX;
    if (r) {
        free(intname);
        mboxlist_entry_free(&e);
        return r == ERR_NOMAILBOX ? r : ERR_NOMAILBOX;
    }
    if (intname_r)
        *intname_r = intname;
    else
        free(intname);
    if (entry_r)
        *entry_r = e;
    else
        mboxlist_entry_free(&e);
    return 0;
}

uint32_t
imapd_rights(struct imapd_session *s, const struct mboxlist_entry *entry)
{
    struct mboxops_who who = {s->userid, s->isadmin};

    return mboxops_rights(s->proc->ops, &who, entry);
}

int
imapd_lookup_rights(struct imapd_session *s, const char *extname, uint32_t need,
                    char **intname_r, struct mboxlist_entry **entry_r,
                    uint32_t *rights_r)
{
    uint32_t rights;
    int r;

    r = imapd_lookup(s, extname, intname_r, entry_r);
    if (r)
        return r;
    rights = imapd_rights(s, *entry_r);
    if (need ? (rights & need) != need
             : !(rights & (ACL_LOOKUP | ACL_READ | ACL_INSERT | ACL_CREATE
                           | ACL_DELETEMBOX | ACL_ADMIN))) {
        free(*intname_r);
        *intname_r = NULL;
        mboxlist_entry_free(entry_r);
        return (rights & ACL_LOOKUP) ? ERR_PERMISSION : ERR_NOMAILBOX;
    }
    if (rights_r)
        *rights_r = rights;
    return 0;
}

char *
imapd_extname(struct imapd_session *s, const char *intname)
{
    return mboxname_to_external(s->proc->ns, s->userid, s->isadmin, intname);
}

int
imapd_mailbox_path(struct imapd_session *s, const struct mboxlist_entry *entry,
                   struct buf *out)
{
    return mboxops_path(s->proc->ops, entry, out);
}

int
imapd_expunge_mode(void)
{
    enum expunge_mode m = EXPUNGE_DELAYED;
    const char *v = config_enum(config, CFG_EXPUNGE_MODE);

    if (v)
        expunge_mode_parse(v, &m);
    return (int)m;
}

int
imapd_seen_read(struct imapd_session *s, const char *intname,
                const char *uniqueid, struct seqset **set_r)
{
    struct seen_data sd = SEEN_DATA_INITIALIZER;
    int r;

    *set_r = NULL;
    if (s->userid == NULL || s->proc->seen == NULL || uniqueid == NULL
        || mboxname_is_owner(s->proc->ns, intname, s->userid))
        return 0;
    r = seen_read(s->proc->seen, s->userid, uniqueid, &sd, NULL);
    if (r == 0 && buf_len(&sd.uids)
        && seqset_parse(buf_base(&sd.uids), buf_len(&sd.uids), set_r, NULL)
               < 0)
        *set_r = NULL; /* unreadable: nothing seen */
    seen_data_fini(&sd);
    return r < 0 ? r : 1;
}

int
imapd_seen_select(struct imapd_session *s)
{
    struct seqset *set = NULL;
    int r;

    if (s->selected == NULL)
        return 0;
    r = imapd_seen_read(s, s->selected_name,
                        mailbox_uniqueid(index_mailbox(s->selected)), &set);
    if (r == 1)
        index_userseen_enable(s->selected, set);
    seqset_free(&set);
    return r < 0 ? r : 0;
}

void
imapd_seen_save(struct imapd_session *s)
{
    struct seen_data sd = SEEN_DATA_INITIALIZER;
    const struct mailbox_counts *c;
    int r;

    if (s->selected == NULL || !index_userseen_dirty(s->selected))
        return;
    c = mailbox_counts(index_mailbox(s->selected));
    sd.lastread = (int64_t)time(NULL);
    sd.lastuid = c->last_uid;
    sd.lastchange = sd.lastread;
    index_userseen_format(s->selected, &sd.uids);
    r = seen_write(s->proc->seen, s->userid,
                   mailbox_uniqueid(index_mailbox(s->selected)), &sd, NULL);
    if (r)
        log_msg(LOG_ERR, "seen.db: saving %s's \\Seen of %s: %s", s->userid,
                s->selected_name, error_text(r));
    seen_data_fini(&sd);
}

void
imapd_unselect(struct imapd_session *s)
{
    imapd_seen_save(s);
    index_close(&s->selected);
    free(s->selected_name);
    s->selected_name = NULL;
    if (s->state == IMAPD_SELECTED)
        s->state = IMAPD_AUTH;
}

/* ---- the command loop ---- */

static void
dispatch(struct imapd_session *s, const char *cmd, size_t len)
{
    struct imaptok t;
    struct imaptok_span tagspan, name;
    const struct imapd_command *c;
    const struct imaptok_spooled *spooled;
    size_t nspooled;
    char *tag;

    imaptok_init(&t, cmd, len);
    spooled = imapreader_spooled(s->reader, &nspooled);
    if (nspooled)
        imaptok_set_spooled(&t, spooled, nspooled);
    if (imaptok_tag(&t, &tagspan) < 0) {
        proxy_imap_drain(s);
        cmd_append_flush(s);
        stream_puts(s->s, "* BAD Invalid tag\r\n");
        stream_flush(s->s);
        return;
    }
    tag = xstrndup(tagspan.p, tagspan.len);
    if (imaptok_sp(&t) < 0 || imaptok_atom(&t, &name) < 0) {
        proxy_imap_drain(s);
        cmd_append_flush(s);
        imapd_bad(s, tag, "Null command");
        goto done;
    }
    c = imapd_command_find(name.p, name.len);
    /* frontend role: whatever the proxy answers must come after the
     * pending APPENDs' replies, so no group spans it */
    if (s->proxy)
        cmd_append_flush(s);
    /* UID FETCH etc.: the table has the two-word names */
    if (c == NULL && util_memcaseeq(name.p, name.len, "UID")) {
        struct imaptok_span sub;
        struct buf full = BUF_INITIALIZER;

        if (imaptok_sp(&t) == 0 && imaptok_atom(&t, &sub) == 0) {
            buf_appendcstr(&full, "UID ");
            buf_appendmap(&full, sub.p, sub.len);
            c = imapd_command_find(buf_base(&full), buf_len(&full));
            if (s->proxy && s->state != IMAPD_NOTAUTH) {
                if (imaptok_peek(&t) == ' ')
                    imaptok_sp(&t);
                if (proxy_imap_dispatch(s, tag, buf_cstring(&full), &t, cmd,
                                        len)) {
                    buf_free(&full);
                    goto done;
                }
            }
        }
        buf_free(&full);
    } else if (s->proxy && s->state != IMAPD_NOTAUTH) {
        /* frontend role: the proxy takes what belongs to a backend */
        struct imaptok args = t;
        char *cname = xstrndup(name.p, name.len);
        int handled;

        if (imaptok_peek(&args) == ' ')
            imaptok_sp(&args);
        handled = proxy_imap_dispatch(s, tag, cname, &args, cmd, len);
        free(cname);
        if (handled)
            goto done;
    }
    /* only an APPEND may join the pending APPENDs' commit (it flushes
     * itself when it cannot) */
    if (c == NULL || c->fn != cmd_append || !(c->states & s->state))
        cmd_append_flush(s);
    if (c == NULL) {
        imapd_bad(s, tag, "Unrecognized command");
        goto done;
    }
    if (!(c->states & s->state)) {
        if (s->state == IMAPD_NOTAUTH)
            imapd_bad(s, tag, "Please login first");
        else if (c->states == IMAPD_NOTAUTH)
            imapd_bad(s, tag, "Already authenticated");
        else
            imapd_bad(s, tag, "Please select a mailbox first");
        goto done;
    }
    /* the handler sees the arguments after one SP (if any) */
    if (imaptok_peek(&t) == ' ')
        imaptok_sp(&t);
    if (c->vfn != NULL)
        c->vfn(s, tag, &t, c->variant);
    else
        c->fn(s, tag, &t);
done:
    free(tag);
}

/* Input read while APPENDs wait for their commit before the loop commits
 * anyway: a long upload must not keep the mailbox locked. */
#define GROUP_MAX_READ (4 * 1024 * 1024)

/* With APPENDs pending: read what has already arrived, without waiting.
 * >0 bytes read; 0 when nothing (or too much) has: the pending APPENDs
 * were then committed and answered. */
static ssize_t
fill_pending(struct imapd_session *s, size_t *grouped)
{
    ssize_t n = 0;

    if (*grouped < GROUP_MAX_READ) {
        stream_set_nonblocking(s->s, 1);
        n = stream_fill(s->s);
        stream_set_nonblocking(s->s, 0);
    }
    if (n > 0) {
        *grouped += (size_t)n;
        return n;
    }
    cmd_append_flush(s);
    *grouped = 0;
    return 0;
}

/* Read and run commands until LOGOUT, EOF or a fatal stream error. */
static void
command_loop(struct imapd_session *s)
{
    size_t grouped = 0; /* bytes read while APPENDs are pending */

    for (;;) {
        const char *p;
        size_t len, used = 0;
        enum imapreader_state st;

        if (s->append_group == NULL)
            grouped = 0;
        stream_flush(s->s);
        if (s->state == IMAPD_LOGOUT)
            return;
        p = stream_peek(s->s, &len);
        if (len == 0 && s->append_group != NULL
            && fill_pending(s, &grouped) > 0)
            continue;
        if (len == 0) {
            ssize_t n;

            /* frontend: relay pipelined replies while the client is quiet */
            proxy_imap_wait(s);
            if (s->state == IMAPD_LOGOUT)
                continue;
            n = stream_fill(s->s);

            if (n <= 0) {
                if (!stream_eof(s->s))
                    stream_printf(s->s, "* BYE %s\r\n",
                                  stream_error(s->s) ? stream_error(s->s)
                                                     : "Timed out");
                return;
            }
            continue;
        }
        st = imapreader_feed(s->reader, p, len, &used);
        stream_skip(s->s, used);
        switch (st) {
        case IMAPREADER_NEED_MORE:
        case IMAPREADER_LINE:
            break;
        case IMAPREADER_LITERAL:
            if (imapd_literal_decide(s) < 0)
                return;
            break;
        case IMAPREADER_ERROR: {
            const char *tag = imapreader_error_tag(s->reader);

            proxy_imap_drain(s);
            cmd_append_flush(s);
            stream_printf(s->s, "%s BAD %s\r\n", tag ? tag : "*",
                          imapreader_error(s->reader));
            imapd_literal_reset(s);
            break;
        }
        case IMAPREADER_CLOSE:
            proxy_imap_drain(s);
            cmd_append_flush(s);
            stream_printf(s->s, "* BYE %s\r\n", imapreader_error(s->reader));
            return;
        case IMAPREADER_COMMAND:
            p = imapreader_command(s->reader, &len);
            dispatch(s, p, len);
            imapd_literal_reset(s);
            break;
        }
    }
}

static void
imapd_connection(int fd, const struct service_conn *info)
{
    struct imapd_session sess;
    struct imapreader_limits lim;
    struct buf caps = BUF_INITIALIZER;
    int idle_ms;

    memset(&sess, 0, sizeof(sess));
    sess.proc = &imapd_proc;
    sess.conn = info;
    sess.state = IMAPD_NOTAUTH;
    sess.s = stream_new(fd);
    {
        /* replies go out whole, flushed once: no Nagle delay (fails
         * harmlessly on a UNIX socket) */
        int one = 1;

        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    idle_ms = (int)config_duration(config, CFG_TIMEOUT) * 1000;
    stream_set_timeout(sess.s, idle_ms);
    imapreader_limits_preauth(&lim);
    sess.reader = imapreader_new(&lim);
    if (imapd_proc.implicit_tls
        && svcinit_implicit_tls(sess.s, imapd_proc.tls, idle_ms,
                                SVCINIT_TLS_HANDSHAKE_MS, "imaps",
                                info->remote)
               < 0)
        goto done;
    {
        struct saslglue_server_params sp;
        const char *err = NULL;

        memset(&sp, 0, sizeof(sp));
        sp.service = "imap";
        sp.servername = imapd_proc.servername;
        sp.local_ipport = *info->local ? info->local : NULL;
        sp.remote_ipport = *info->remote ? info->remote : NULL;
        sp.external_ssf = (unsigned)stream_tls_ssf(sess.s);
        sp.allow_plaintext = imapd_plaintext_ok(&sess);
        sp.policy = SASLGLUE_POLICY_PROXY;
        if (saslglue_server_new(config, &sp, &sess.sasl, &err) < 0) {
            log_msg(LOG_ERR, "SASL: %s", err ? err : "?");
            stream_puts(sess.s, "* BYE Server error: SASL unavailable\r\n");
            goto done;
        }
    }
    imapd_capabilities(&sess, &caps);
    stream_printf(sess.s, "* OK [CAPABILITY %s] %s Cyrus IMAP %s server ready\r\n",
                  buf_cstring(&caps), imapd_proc.servername, IMAPD_VERSION);
    command_loop(&sess);
    /* APPENDs read in full before EOF are completed, as if answered */
    cmd_append_flush(&sess);
done:
    stream_flush(sess.s);
    imapd_seen_save(&sess);
    if (sess.userid)
        log_msg(LOG_NOTICE, "logout: %s", sess.userid);
    index_close(&sess.selected);
    free(sess.selected_name);
    proxy_imap_free(&sess.proxy);
    saslglue_server_free(&sess.sasl);
    imapd_literal_free(&sess);
    imapreader_free(&sess.reader);
    stream_free(&sess.s);
    close(fd);
    free(sess.userid);
    buf_free(&sess.out);
    buf_free(&caps);
}

/* What svcinit_start() opened; imapd_proc holds copies of its fields. */
static struct svcinit imapd_base;

static int
imapd_init(int argc, char **argv, char **err)
{
    int opt, r;

    optind = 1;
    while ((opt = getopt(argc, argv, "s")) != -1) {
        if (opt == 's')
            imapd_proc.implicit_tls = 1;
    }
    if (svcinit_start(config, imapd_proc.implicit_tls ? "imaps" : NULL,
                      &imapd_base, err) < 0)
        return -1;
    imapd_proc.servername = imapd_base.servername;
    imapd_proc.dbenv = imapd_base.dbenv;
    imapd_proc.ns = imapd_base.ns;
    imapd_proc.tls = imapd_base.tls;
    imapd_proc.frontend = imapd_base.frontend;
    r = mboxlist_open(imapd_proc.dbenv, "mailboxes.db", &imapd_proc.mboxlist);
    if (r) {
        *err = xstrdup("cannot open mailboxes.db");
        return -1;
    }
    r = quota_db_open(imapd_proc.dbenv, "quotas.db", &imapd_proc.qdb);
    if (r) {
        *err = xstrdup("cannot open quotas.db");
        return -1;
    }
    r = subs_open(imapd_proc.dbenv, "subs.db", &imapd_proc.subs);
    if (r) {
        *err = xstrdup("cannot open subs.db");
        return -1;
    }
    r = seen_open(imapd_proc.dbenv, "seen.db", &imapd_proc.seen);
    if (r) {
        *err = xstrdup("cannot open seen.db");
        return -1;
    }
    r = annotate_open(imapd_proc.dbenv, "annotations.db", &imapd_proc.annot);
    if (r) {
        *err = xstrdup("cannot open annotations.db");
        return -1;
    }
    imapd_proc.ops = xzmalloc(sizeof(*imapd_proc.ops));
    imapd_proc.ops->ml = imapd_proc.mboxlist;
    imapd_proc.ops->servername = imapd_proc.servername;
    imapd_proc.ops->qdb = imapd_proc.qdb;
    imapd_proc.ops->subs = imapd_proc.subs;
    imapd_proc.ops->ns = imapd_proc.ns;
    /* a backend in a murder (MURDER.md §3): names go through the master */
    if (config_str(config, CFG_MUPDATE_SERVER)
        && config_str(config, CFG_PROXYSERVERS)) {
        imapd_proc.murder = murderhook_new(config);
        imapd_proc.ops->murder = imapd_proc.murder;
    }
    return 0;
}

static void
imapd_fini(void)
{
    murderhook_free(&imapd_proc.murder);
    free(imapd_proc.ops);
    imapd_proc.ops = NULL;
    annotate_close(&imapd_proc.annot);
    seen_close(&imapd_proc.seen);
    subs_close(&imapd_proc.subs);
    quota_db_close(&imapd_proc.qdb);
    mboxlist_close(&imapd_proc.mboxlist);
    imapd_proc.ns = NULL;
    imapd_proc.tls = NULL;
    imapd_proc.dbenv = NULL;
    svcinit_fini(&imapd_base);
}

int
main(int argc, char **argv)
{
    static const struct service_ops ops = {
        .name = "imap",
        .init = imapd_init,
        .connection = imapd_connection,
        .fini = imapd_fini,
    };

    return service_main(argc, argv, &ops);
}
