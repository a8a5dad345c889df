/* imapd_literal.c: what imapd does when a command stops at a literal
 * header: size checks (maxmessagesize, RFC 7888, RFC 7889) before the
 * client sends a byte of it, and streaming APPEND literals straight into
 * append stages (imap/append.h) so a big message never sits in memory.
 *
 * An APPEND to a mailbox on a backend (frontend role) spools its big
 * literals to plain unnamed temporary files instead (no parse, no map, no
 * fsync: the backend stages and commits), and imapd_literal_forward()
 * sends them on from there in chunks. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "append.h"
#include "config.h"
#include "errors.h"
#include "imapd.h"
#include "imapreader.h"
#include "imaptok.h"
#include "mboxlist.h"
#include "proxy_imap.h"
#include "stream.h"
#include "util.h"
#include "xmalloc.h"

/* RFC 7888 section 5: LITERAL- allows "{N+}" only up to this size. */
#define LITERALMINUS_MAX 4096

/* How much of a spooled literal is read (and sent on) at a time. */
#define FORWARD_CHUNK (64 * 1024)

/* A literal spooled as it came, for a backend. */
struct raw_spool {
    int fd; /* unnamed temporary file; -1 when not used */
    uint64_t size;
    int err; /* sticky: ERR_BADMSG (NUL), ERR_TOOBIG, ERR_IO */
};

struct imapd_literals {
    struct append_stage **stages; /* by literal index; NULL if not spooled */
    struct raw_spool *raw;        /* by literal index, the remote case */
    unsigned nstages;
    char *stagedir; /* for this command's APPEND, or NULL */
    int looked_up;  /* the APPEND's mailbox was looked up */
    int remote;     /* ... and is on a backend */
    int failed;     /* a stage could not be created */
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

static void
raw_close(struct raw_spool *rs)
{
    if (rs->fd >= 0)
        close(rs->fd);
    rs->fd = -1;
    rs->size = 0;
    rs->err = 0;
}

/* An unnamed file in dir/stage. (it goes away when closed, whatever
 * happens to the process): -1 on failure. */
static int
raw_open(const char *dir)
{
    struct buf path = BUF_INITIALIZER;
    int fd;

    buf_printf(&path, "%s/stage.", dir);
    if (util_mkdir_p(buf_cstring(&path), 0750) < 0) {
        buf_free(&path);
        return -1;
    }
    fd = open(buf_cstring(&path), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR)) {
        char *tmpl;

        buf_appendcstr(&path, "/literalXXXXXX");
        tmpl = buf_release(&path);
        fd = mkostemp(tmpl, O_CLOEXEC);
        if (fd >= 0)
            unlink(tmpl);
        free(tmpl);
    }
    buf_free(&path);
    return fd;
}

static int
raw_write(struct raw_spool *rs, const char *data, size_t len)
{
    uint64_t max = max_message_size();

    if (rs->err == 0 && memchr(data, '\0', len) != NULL)
        rs->err = ERR_BADMSG;
    rs->size += len;
    if (rs->err == 0 && max && rs->size > max)
        rs->err = ERR_TOOBIG;
    if (rs->err != 0)
        return 0; /* APPEND reports it; the rest is read and dropped */
    if (util_write_all(rs->fd, data, len) < 0) {
        rs->err = ERR_IO;
        return ERR_IO;
    }
    return 0;
}

static void
grow(struct imapd_literals *l, unsigned index)
{
    unsigned i;

    if (index < l->nstages)
        return;
    l->stages = xreallocarray(l->stages, index + 1, sizeof(*l->stages));
    l->raw = xreallocarray(l->raw, index + 1, sizeof(*l->raw));
    for (i = l->nstages; i <= index; i++) {
        l->stages[i] = NULL;
        l->raw[i].fd = -1;
        l->raw[i].size = 0;
        l->raw[i].err = 0;
    }
    l->nstages = index + 1;
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

        grow(l, index);
        append_stage_free(&l->stages[index]);
        raw_close(&l->raw[index]);
        if (dir != NULL && l->remote) {
            l->raw[index].fd = raw_open(dir);
            if (l->raw[index].fd < 0) {
                l->failed = 1;
                return ERR_IO;
            }
        } else if (dir == NULL
                   || append_stage_new(dir, max_message_size(),
                                       &l->stages[index])) {
            l->failed = 1;
            return ERR_IO;
        }
    }
    if (index < l->nstages && l->raw[index].fd >= 0)
        return raw_write(&l->raw[index], data, len);
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
    if (!l->looked_up && imaptok_sp(&t) == 0
        && imaptok_mailbox(&t, &mbox) == 0) {
        struct mboxlist_entry *e = NULL;

        l->looked_up = 1;
        if (imapd_lookup(s, buf_cstring(&mbox), NULL, &e) == 0
            && e->server != NULL) {
            l->remote = 1;
        } else if (e != NULL && e->server == NULL && e->partition) {
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
            r = refuse(s, buf_cstring(&tag), 0, "TOOBIG", "Message too large");
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

/* Send n bytes of fd from its start to out, in chunks. 0, or ERR_IO
 * (the file could not be read: out is then cut off, since the backend
 * waits for the rest of a literal that cannot come). */
static int
send_file(int fd, uint64_t n, struct stream *out)
{
    char *chunk = xmalloc(FORWARD_CHUNK);
    uint64_t off = 0;
    int r = 0;

    while (off < n) {
        size_t want =
            n - off < FORWARD_CHUNK ? (size_t)(n - off) : FORWARD_CHUNK;
        ssize_t got = pread(fd, chunk, want, (off_t)off);

        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            shutdown(stream_out_fd(out), SHUT_RDWR);
            r = ERR_IO;
            break;
        }
        stream_write(out, chunk, (size_t)got);
        off += (uint64_t)got;
    }
    free(chunk);
    return r;
}

/* A stage's bytes to out, in chunks (an APPEND whose literals were staged
 * for a local mailbox before it turned out to be remote). */
static void
send_stage(const struct append_stage *st, struct stream *out)
{
    size_t len, off;
    const char *data = append_stage_data(st, &len);

    for (off = 0; off < len; off += FORWARD_CHUNK)
        stream_write(out, data + off,
                     len - off < FORWARD_CHUNK ? len - off : FORWARD_CHUNK);
}

/* cmd[0..len) to out with its synchronizing literals made LITERAL+; the
 * command's last piece is ended with CRLF. */
static void
send_text(const char *cmd, size_t len, int last, struct stream *out)
{
    struct buf b = BUF_INITIALIZER;

    proxy_imap_rewrite_literals(cmd, len, &b);
    /* the rewrite ends every line with CRLF, also one without */
    if (!last && buf_len(&b) >= 2 && (len == 0 || cmd[len - 1] != '\n'))
        buf_truncate(&b, buf_len(&b) - 2);
    stream_write(out, buf_base(&b), buf_len(&b));
    buf_free(&b);
}

int
imapd_literal_forward(struct imapd_session *s, const char *cmd, size_t len,
                      struct stream *out)
{
    struct imapd_literals *l = lits(s);
    const struct imaptok_spooled *sp;
    size_t n, i, pos = 0;
    size_t *brace;
    int r = 0;

    sp = imapreader_spooled(s->reader, &n);
    brace = xzmalloc((n + 1) * sizeof(*brace));
    /* everything is checked before the first byte goes out */
    for (i = 0; i < n && r == 0; i++) {
        unsigned idx = sp[i].index;
        size_t b = sp[i].offset;
        struct raw_spool *rs = idx < l->nstages ? &l->raw[idx] : NULL;

        /* the header "{N}" / "{N+}" / "~{N}" ends just before the CRLF
         * that precedes offset */
        while (b > pos && cmd[b - 1] != '{')
            b--;
        if (rs == NULL || sp[i].offset < 2 || sp[i].offset > len || b <= pos) {
            r = ERR_IO;
        } else if (rs->fd >= 0) {
            r = rs->err;
        } else if (l->stages[idx] == NULL) {
            r = ERR_IO;
        } else {
            /* no fsync: the stage only carries the bytes to the backend */
            append_stage_defer_fsync(l->stages[idx]);
            r = append_stage_finish(l->stages[idx]);
        }
        brace[i] = b;
        pos = sp[i].offset;
    }
    pos = 0;
    for (i = 0; i < n && r == 0; i++) {
        struct raw_spool *rs = &l->raw[sp[i].index];
        uint64_t size =
            rs->fd >= 0 ? rs->size : append_stage_size(l->stages[sp[i].index]);

        send_text(cmd + pos, brace[i] - pos, 0, out);
        stream_printf(out, "%llu+}\r\n", (unsigned long long)size);
        if (rs->fd >= 0)
            r = send_file(rs->fd, size, out);
        else
            send_stage(l->stages[sp[i].index], out);
        pos = sp[i].offset;
    }
    if (r == 0)
        send_text(cmd + pos, len - pos, 1, out);
    free(brace);
    imapd_literal_reset(s);
    return r;
}

void
imapd_literal_reset(struct imapd_session *s)
{
    struct imapd_literals *l = s->literals;
    unsigned i;

    if (l == NULL)
        return;
    for (i = 0; i < l->nstages; i++) {
        append_stage_free(&l->stages[i]);
        raw_close(&l->raw[i]);
    }
    l->nstages = 0;
    free(l->stagedir);
    l->stagedir = NULL;
    l->looked_up = 0;
    l->remote = 0;
    l->failed = 0;
}

void
imapd_literal_free(struct imapd_session *s)
{
    imapd_literal_reset(s);
    if (s->literals) {
        free(s->literals->stages);
        free(s->literals->raw);
    }
    free(s->literals);
    s->literals = NULL;
}
