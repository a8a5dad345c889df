/* imapd_literal.c: what imapd does when a command stops at a literal
 * header: size checks (maxmessagesize, RFC 7888, RFC 7889) before the
 * client sends a byte of it, and streaming APPEND literals straight into
 * append stages (imap/append.h) so a big message never sits in memory. */
#include <stdlib.h>
#include <string.h>

#include "append.h"
#include "config.h"
#include "errors.h"
#include "imapd.h"
#include "imapreader.h"
#include "imaptok.h"
#include "mboxlist.h"
#include "stream.h"
#include "util.h"
#include "xmalloc.h"

/* RFC 7888 section 5: LITERAL- allows "{N+}" only up to this size. */
#define LITERALMINUS_MAX 4096

struct imapd_literals {
    struct append_stage **stages; /* by literal index; NULL if not spooled */
    unsigned nstages;
    char *stagedir;               /* for this command's APPEND, or NULL */
    int failed;                   /* a stage could not be created */
};

static struct imapd_literals *
lits(struct imapd_session *s)
{
    if (s->literals == NULL)
        s->literals = xzmalloc(sizeof(*s->literals));
    return s->literals;
}

static uint64_t
max_message_size(void)
{
    int64_t max = config_bytesize(config, CFG_MAXMESSAGESIZE);

    return max > 0 ? (uint64_t)max : 0;
}

/* Where this command's literals are staged: the target mailbox's
 * partition when known, else the default partition. */
static const char *
stage_dir(struct imapd_literals *l)
{
    const char *part;

    if (l->stagedir)
        return l->stagedir;
    part = config_str(config, CFG_DEFAULTPARTITION);
    return config_partition_dir(config, part ? part : "default");
}

static int
sink_cb(void *ctx, unsigned index, uint64_t size, uint64_t offset,
        const char *data, size_t len)
{
    struct imapd_session *s = ctx;
    struct imapd_literals *l = lits(s);
    int r;

    (void)size;
    if (offset == 0) {
        const char *dir = stage_dir(l);

        if (index >= l->nstages) {
            l->stages = xrealloc(l->stages, (index + 1) * sizeof(*l->stages));
            memset(l->stages + l->nstages, 0,
                   (index + 1 - l->nstages) * sizeof(*l->stages));
            l->nstages = index + 1;
        }
        append_stage_free(&l->stages[index]);
        if (dir == NULL
            || append_stage_new(dir, max_message_size(), &l->stages[index])) {
            l->failed = 1;
            return ERR_IO;
        }
    }
    if (index >= l->nstages || l->stages[index] == NULL)
        return ERR_IO;
    r = append_stage_write(l->stages[index], data, len);
    /* a NUL or an oversized message is APPEND's to report ([PARSE],
     * [TOOBIG]); the stage keeps the error and drops the bytes */
    return r == ERR_IO ? r : 0;
}

void
imapd_literal_init(struct imapd_session *s)
{
    imapreader_set_literal_sink(s->reader, sink_cb, s);
}

/* What the command so far says: its tag, whether it is APPEND and, if
 * so, the target mailbox's partition directory (into l->stagedir). */
static int
inspect(struct imapd_session *s, struct buf *tag, int *is_append_r)
{
    struct imapd_literals *l = lits(s);
    struct imaptok t;
    struct imaptok_span span, name;
    size_t len;
    const char *cmd = imapreader_command(s->reader, &len);
    struct buf mbox = BUF_INITIALIZER;

    *is_append_r = 0;
    imaptok_init(&t, cmd, len);
    if (imaptok_tag(&t, &span) < 0)
        return -1;
    buf_setmap(tag, span.p, span.len);
    if (imaptok_sp(&t) < 0 || imaptok_atom(&t, &name) < 0)
        return 0;
    /* XAPPEND (cmd_xappend.c, XFER) carries messages the same way */
    if (!util_memcaseeq(name.p, name.len, "APPEND")
        && !util_memcaseeq(name.p, name.len, "XAPPEND"))
        return 0;
    *is_append_r = 1;
    if (l->stagedir == NULL && imaptok_sp(&t) == 0
        && imaptok_mailbox(&t, &mbox) == 0) {
        struct mboxlist_entry *e = NULL;

        if (imapd_lookup(s, buf_cstring(&mbox), NULL, &e) == 0
            && e->server == NULL && e->partition) {
            const char *dir = config_partition_dir(config, e->partition);

            if (dir)
                l->stagedir = xstrdup(dir);
        }
        mboxlist_entry_free(&e);
    }
    buf_free(&mbox);
    return 0;
}

/* Refuse the pending literal with "tag <kind> [code] text". */
static int
refuse(struct imapd_session *s, const char *tag, int bad, const char *code,
       const char *text)
{
    /* the OKs of pipelined APPENDs still pending go first */
    cmd_append_flush(s);
    if (imapreader_reject_literal(s->reader) < 0) {
        /* RFC 7888 section 4: too big to swallow, the server closes */
        stream_printf(s->s, "* BYE %s\r\n", imapreader_error(s->reader));
        return -1;
    }
    if (bad)
        imapd_bad(s, tag, text);
    else
        imapd_no(s, tag, code, text);
    imapd_literal_reset(s);
    return 0;
}

int
imapd_literal_decide(struct imapd_session *s)
{
    struct imapreader_limits lim;
    struct buf tag = BUF_INITIALIZER;
    uint64_t size = imapreader_literal_size(s->reader);
    int sync = imapreader_literal_sync(s->reader);
    uint64_t maxmsg = max_message_size();
    size_t cmdlen;
    int is_append = 0, r = 0;

    if (s->state == IMAPD_NOTAUTH) {
        /* the reader's pre-auth limits already applied */
        if (!sync && size > LITERALMINUS_MAX
            && config_switch(config, CFG_LITERALMINUS)) {
            inspect(s, &tag, &is_append);
            r = refuse(s, buf_len(&tag) ? buf_cstring(&tag) : "*", 1, NULL,
                       "Non-synchronizing literal too large");
            goto done;
        }
        goto accept;
    }
    inspect(s, &tag, &is_append);
    if (buf_len(&tag) == 0)
        buf_setcstr(&tag, "*");
    if (!sync && size > LITERALMINUS_MAX
        && config_switch(config, CFG_LITERALMINUS)) {
        r = refuse(s, buf_cstring(&tag), 1, NULL,
                   "Non-synchronizing literal too large");
        goto done;
    }
    if (is_append) {
        /* RFC 7889: over APPENDLIMIT is [TOOBIG], decided before the
         * client sends the message */
        if (maxmsg && size > maxmsg) {
            r = refuse(s, buf_cstring(&tag), 0, "TOOBIG",
                       "Message too large");
            goto done;
        }
        goto accept;
    }
    /* any other command keeps its literals in memory */
    imapreader_command(s->reader, &cmdlen);
    imapreader_limits_default(&lim);
    if (size > lim.max_command || cmdlen + size > lim.max_command) {
        r = refuse(s, buf_cstring(&tag), 1, NULL, "Literal too large");
        goto done;
    }
    imapreader_set_literal_sink(s->reader, NULL, NULL);
    if (sync)
        stream_puts(s->s, "+ go ahead\r\n");
    imapreader_accept_literal(s->reader);
    imapd_literal_init(s);
    goto done;
accept:
    if (sync)
        stream_puts(s->s, "+ go ahead\r\n");
    imapreader_accept_literal(s->reader);
done:
    stream_flush(s->s);
    buf_free(&tag);
    return r;
}

struct append_stage *
imapd_literal_take(struct imapd_session *s, unsigned index)
{
    struct imapd_literals *l = lits(s);
    struct append_stage *st;

    if (index >= l->nstages)
        return NULL;
    st = l->stages[index];
    l->stages[index] = NULL;
    return st;
}

int
imapd_literal_inline(struct imapd_session *s, const char *cmd, size_t len,
                     struct buf *out)
{
    const struct imaptok_spooled *sp;
    size_t n, i, pos = 0;
    int r = 0;

    sp = imapreader_spooled(s->reader, &n);
    buf_reset(out);
    for (i = 0; i < n && r == 0; i++) {
        struct append_stage *st = imapd_literal_take(s, sp[i].index);
        size_t brace = sp[i].offset, datalen = 0;
        const char *data;

        /* the header "{N}" / "{N+}" / "~{N}" ends just before the CRLF
         * that precedes offset */
        while (brace > pos && cmd[brace - 1] != '{')
            brace--;
        if (st == NULL || sp[i].offset < 2 || sp[i].offset > len
            || brace <= pos) {
            append_stage_free(&st);
            return ERR_IO;
        }
        /* no fsync: the stage only carries the bytes to the backend */
        append_stage_defer_fsync(st);
        r = append_stage_finish(st);
        if (r == 0) {
            data = append_stage_data(st, &datalen);
            buf_appendmap(out, cmd + pos, brace - pos);
            buf_printf(out, "%zu+}\r\n", datalen);
            buf_appendmap(out, data, datalen);
            pos = sp[i].offset;
        }
        append_stage_free(&st);
    }
    if (r == 0)
        buf_appendmap(out, cmd + pos, len - pos);
    return r;
}

void
imapd_literal_reset(struct imapd_session *s)
{
    struct imapd_literals *l = s->literals;
    unsigned i;

    if (l == NULL)
        return;
    for (i = 0; i < l->nstages; i++)
        append_stage_free(&l->stages[i]);
    l->nstages = 0;
    free(l->stagedir);
    l->stagedir = NULL;
    l->failed = 0;
}

void
imapd_literal_free(struct imapd_session *s)
{
    imapd_literal_reset(s);
    if (s->literals)
        free(s->literals->stages);
    free(s->literals);
    s->literals = NULL;
}
