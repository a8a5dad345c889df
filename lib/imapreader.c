/* imapreader.c: resumable IMAP command assembly; contract in imapreader.h.
 *
 * One mode at a time, resumed on every feed: reading a line, waiting for
 * the caller's verdict on a literal, copying (or spooling) literal bytes,
 * and the two discard modes that keep the stream in step after an error.
 * While discarding a line we only keep its last bytes (tail), enough to
 * see whether it ends in a literal header that must be swallowed too. */
#include <string.h>

#include "errors.h"
#include "imapreader.h"
#include "xmalloc.h"

#define READER_TAIL_MAX 64 /* a header "~{" 20 digits "+}" CR fits */
#define READER_TAG_MAX  128

enum reader_mode {
    RM_LINE,         /* reading a line of the command (or the one line) */
    RM_DECIDE,       /* literal header seen; caller must accept/reject */
    RM_LITERAL,      /* reading accepted literal bytes */
    RM_SKIP_LINE,    /* discarding to the end of the line */
    RM_SKIP_LITERAL, /* discarding a rejected literal's bytes */
    RM_DONE,         /* COMMAND or LINE delivered */
    RM_CLOSED,
};

struct imapreader {
    struct imapreader_limits lim;  /* for the current command */
    struct imapreader_limits next; /* from the next command on */
    enum reader_mode mode;
    int line_mode;  /* this read is one plain line */
    int want_line;  /* the next read is one plain line */
    int skip_plain; /* the line being skipped has no literal header */
    struct buf cmd;
    size_t line_start; /* offset of the current line in cmd */
    unsigned nliterals;

    /* the pending or current literal */
    uint64_t lit_size, lit_left;
    int lit_sync, lit_binary, lit_spool, lit_overflow;
    unsigned lit_index;

    struct imaptok_spooled *spooled;
    size_t nspooled, spooled_alloc;
    imapreader_sink_cb *sink;
    void *sink_ctx;

    uint64_t skip_left;
    char tail[READER_TAIL_MAX];
    size_t tail_len;
    int tail_cut; /* bytes before the tail were dropped */

    char tag[READER_TAG_MAX + 1]; /* of the current command, if seen */
    size_t tag_len;
    char err_tag[READER_TAG_MAX + 1];
    int err_has_tag;
    const char *error;
    int error_code;
};

void
imapreader_limits_default(struct imapreader_limits *l)
{
    l->max_line = 64 * 1024;
    l->max_literal = 64 * 1024 * 1024;
    l->max_command = 1024 * 1024;
    l->max_literals = 1000;
    l->max_discard = 64 * 1024 * 1024;
    l->spool_threshold = 64 * 1024;
}

void
imapreader_limits_preauth(struct imapreader_limits *l)
{
    l->max_line = 8 * 1024;
    l->max_literal = 8 * 1024;
    l->max_command = 16 * 1024;
    l->max_literals = 4;
    l->max_discard = 8 * 1024;
    l->spool_threshold = 64 * 1024;
}

/* Start collecting a new command (or the requested plain line). */
static void
reader_start(struct imapreader *r)
{
    buf_reset(&r->cmd);
    r->lim = r->next;
    r->mode = RM_LINE;
    r->line_mode = r->want_line;
    r->want_line = 0;
    r->line_start = 0;
    r->nliterals = 0;
    r->nspooled = 0;
    r->tag_len = 0;
}

struct imapreader *
imapreader_new(const struct imapreader_limits *limits)
{
    struct imapreader *r = xzmalloc(sizeof(*r));

    r->next = *limits;
    r->error = "";
    reader_start(r);
    return r;
}

void
imapreader_free(struct imapreader **rp)
{
    struct imapreader *r = *rp;

    if (r == NULL)
        return;
    *rp = NULL;
    buf_free(&r->cmd);
    free(r->spooled);
    free(r);
}

void
imapreader_set_limits(struct imapreader *r,
                      const struct imapreader_limits *limits)
{
    r->next = *limits;
    /* between commands: the next one starts now */
    if (r->mode == RM_DONE || (r->mode == RM_LINE && r->cmd.len == 0))
        r->lim = *limits;
}

void
imapreader_set_literal_sink(struct imapreader *r, imapreader_sink_cb *cb,
                            void *ctx)
{
    r->sink = cb;
    r->sink_ctx = ctx;
}

/* RFC 3501 tag char: ASTRING-CHAR except "+". */
static int
reader_tag_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f && c != '(' && c != ')' && c != '{' && c != '"'
           && c != '\\' && c != '%' && c != '*' && c != '+';
}

/* Look for "tag SP" at the start of a (b[0..bn) after a[0..an)), within
 * the first max_line bytes only, so that where the input was split never
 * changes the answer. */
static void
reader_find_tag(struct imapreader *r, const char *a, size_t an, const char *b,
                size_t bn)
{
    size_t i;

    for (i = 0; i < an + bn && i <= READER_TAG_MAX && i < r->lim.max_line;
         i++) {
        unsigned char c = (unsigned char)(i < an ? a[i] : b[i - an]);

        if (c == ' ' && i > 0) {
            r->tag_len = i;
            return;
        }
        if (!reader_tag_char(c))
            return;
        r->tag[i] = (char)c;
    }
}

static void
reader_set_error(struct imapreader *r, const char *reason, int code)
{
    r->error = reason;
    r->error_code = code;
    r->err_has_tag = r->tag_len > 0;
    memcpy(r->err_tag, r->tag, r->tag_len);
    r->err_tag[r->tag_len] = '\0';
}

/* Does s[0..n) (CRLF stripped) end in a literal header? When truncated,
 * s is only the tail of a longer line, and digits reaching its start are
 * taken as a header of unknown (overflowing) size. */
static int
reader_literal_header(struct imapreader *r, const char *s, size_t n,
                      int truncated)
{
    size_t j, end;
    uint64_t v = 0;

    if (n < 3 || s[n - 1] != '}')
        return 0;
    j = n - 1;
    r->lit_sync = 1;
    if (s[j - 1] == '+') {
        r->lit_sync = 0;
        j--;
    }
    end = j;
    while (j > 0 && s[j - 1] >= '0' && s[j - 1] <= '9')
        j--;
    if (j == end)
        return 0;
    r->lit_overflow = 0;
    r->lit_binary = 0;
    if (j == 0) {
        if (!truncated)
            return 0;
        r->lit_overflow = 1;
        r->lit_size = UINT64_MAX;
        return 1;
    }
    if (s[j - 1] != '{')
        return 0;
    r->lit_binary = j >= 2 && s[j - 2] == '~';
    for (; j < end; j++) {
        unsigned d = (unsigned)(s[j] - '0');

        if (v > (UINT64_MAX - d) / 10) {
            r->lit_overflow = 1;
            v = UINT64_MAX;
            break;
        }
        v = v * 10 + d;
    }
    r->lit_size = v;
    return 1;
}

/* Drop the current command at a literal the client announced: nothing
 * more comes for "{N}", N bytes and the rest of the command for "{N+}". */
static enum imapreader_state
reader_drop_literal(struct imapreader *r)
{
    if (r->lit_sync) {
        reader_start(r);
        return IMAPREADER_ERROR;
    }
    if (r->lit_overflow || r->lit_size > r->lim.max_discard) {
        r->mode = RM_CLOSED;
        r->error = "Literal too large";
        r->error_code = ERR_TOOLONG;
        return IMAPREADER_CLOSE;
    }
    r->mode = RM_SKIP_LITERAL;
    r->skip_left = r->lit_size;
    return IMAPREADER_ERROR;
}

static int
reader_will_spool(const struct imapreader *r, uint64_t size)
{
    return r->sink != NULL && size >= r->lim.spool_threshold && size > 0;
}

/* A line of the command ended in a literal header. */
static enum imapreader_state
reader_got_header(struct imapreader *r)
{
    const char *why = NULL;

    r->lit_index = r->nliterals++;
    if (r->lit_overflow || r->lit_size > r->lim.max_literal)
        why = "Literal too large";
    else if (r->nliterals > r->lim.max_literals)
        why = "Too many literals";
    else if (!reader_will_spool(r, r->lit_size)
             && r->lit_size > r->lim.max_command - r->cmd.len)
        why = "Command too long";
    if (why != NULL) {
        reader_set_error(r, why, ERR_TOOLONG);
        return reader_drop_literal(r);
    }
    r->mode = RM_DECIDE;
    return IMAPREADER_LITERAL;
}

/* Begin discarding the rest of a line whose start is cmd[line_start..). */
static void
reader_skip_line(struct imapreader *r)
{
    size_t have = r->cmd.len - r->line_start;
    size_t keep = have < READER_TAIL_MAX ? have : READER_TAIL_MAX;

    if (keep > 0)
        memcpy(r->tail, r->cmd.s + r->cmd.len - keep, keep);
    r->tail_len = keep;
    r->tail_cut = keep < have;
    r->skip_plain = r->line_mode;
    r->mode = RM_SKIP_LINE;
}

static enum imapreader_state
reader_step_line(struct imapreader *r, const char *p, size_t n, size_t *used)
{
    const char *lf = memchr(p, '\n', n);
    size_t take = lf ? (size_t)(lf - p) + 1 : n;
    size_t have = r->cmd.len - r->line_start, end;
    const char *why = NULL;

    size_t line_room = r->lim.max_line - have;
    size_t cmd_room = r->line_mode ? SIZE_MAX : r->lim.max_command - r->cmd.len;

    /* name the limit the byte stream crosses first, so that the reason
     * does not depend on how the input was split */
    if (take > line_room || take > cmd_room)
        why = line_room <= cmd_room ? "Line too long" : "Command too long";
    if (why != NULL) {
        if (r->line_start == 0 && r->tag_len == 0 && !r->line_mode)
            reader_find_tag(r, r->cmd.s, r->cmd.len, p, take);
        reader_set_error(r, why, ERR_TOOLONG);
        reader_skip_line(r);
        *used = 0;
        return IMAPREADER_ERROR;
    }
    buf_appendmap(&r->cmd, p, take);
    *used = take;
    if (lf == NULL)
        return IMAPREADER_NEED_MORE;
    end = r->cmd.len - 1;
    if (end > r->line_start && r->cmd.s[end - 1] == '\r')
        end--;
    if (r->line_mode) {
        buf_truncate(&r->cmd, end);
        buf_cstring(&r->cmd);
        r->mode = RM_DONE;
        return IMAPREADER_LINE;
    }
    if (r->line_start == 0)
        reader_find_tag(r, r->cmd.s, r->cmd.len, NULL, 0);
    if (reader_literal_header(r, r->cmd.s + r->line_start, end - r->line_start,
                              0))
        return reader_got_header(r);
    buf_cstring(&r->cmd);
    r->mode = RM_DONE;
    return IMAPREADER_COMMAND;
}

static enum imapreader_state
reader_step_literal(struct imapreader *r, const char *p, size_t n, size_t *used)
{
    size_t take = n < r->lit_left ? n : (size_t)r->lit_left;

    *used = take;
    if (r->lit_spool) {
        int rc = r->sink(r->sink_ctx, r->lit_index, r->lit_size,
                         r->lit_size - r->lit_left, p, take);

        r->lit_left -= take;
        if (rc < 0) {
            reader_set_error(r, "Cannot store literal", rc);
            r->skip_left = r->lit_left;
            r->tail_len = 0;
            r->tail_cut = 0;
            r->skip_plain = 0;
            r->mode = r->lit_left ? RM_SKIP_LITERAL : RM_SKIP_LINE;
            return IMAPREADER_ERROR;
        }
    } else {
        buf_appendmap(&r->cmd, p, take);
        r->lit_left -= take;
    }
    if (r->lit_left == 0) {
        r->mode = RM_LINE;
        r->line_start = r->cmd.len;
    }
    return IMAPREADER_NEED_MORE;
}

static enum imapreader_state
reader_step_skip_line(struct imapreader *r, const char *p, size_t n,
                      size_t *used)
{
    const char *lf = memchr(p, '\n', n);
    size_t take = lf ? (size_t)(lf - p) + 1 : n;
    size_t body = lf ? take - 1 : take;
    size_t tl;

    *used = take;
    /* keep only the last READER_TAIL_MAX bytes of the line */
    if (body >= READER_TAIL_MAX) {
        memcpy(r->tail, p + body - READER_TAIL_MAX, READER_TAIL_MAX);
        r->tail_cut |= r->tail_len > 0 || body > READER_TAIL_MAX;
        r->tail_len = READER_TAIL_MAX;
    } else {
        size_t drop = r->tail_len + body > READER_TAIL_MAX
                          ? r->tail_len + body - READER_TAIL_MAX
                          : 0;

        memmove(r->tail, r->tail + drop, r->tail_len - drop);
        r->tail_len -= drop;
        r->tail_cut |= drop > 0;
        memcpy(r->tail + r->tail_len, p, body);
        r->tail_len += body;
    }
    if (lf == NULL)
        return IMAPREADER_NEED_MORE;
    tl = r->tail_len;
    if (tl > 0 && r->tail[tl - 1] == '\r')
        tl--;
    if (!r->skip_plain && reader_literal_header(r, r->tail, tl, r->tail_cut)
        && !r->lit_sync) {
        if (r->lit_overflow || r->lit_size > r->lim.max_discard) {
            r->mode = RM_CLOSED;
            r->error = "Literal too large";
            r->error_code = ERR_TOOLONG;
            return IMAPREADER_CLOSE;
        }
        r->skip_left = r->lit_size;
        r->mode = RM_SKIP_LITERAL;
        return IMAPREADER_NEED_MORE;
    }
    /* the client waits for "+" after a sync header: the command ends */
    reader_start(r);
    return IMAPREADER_NEED_MORE;
}

static enum imapreader_state
reader_step_skip_literal(struct imapreader *r, size_t n, size_t *used)
{
    size_t take = n < r->skip_left ? n : (size_t)r->skip_left;

    *used = take;
    r->skip_left -= take;
    if (r->skip_left == 0) {
        r->tail_len = 0;
        r->tail_cut = 0;
        r->skip_plain = 0;
        r->mode = RM_SKIP_LINE;
    }
    return IMAPREADER_NEED_MORE;
}

enum imapreader_state
imapreader_feed(struct imapreader *r, const char *data, size_t len,
                size_t *used_r)
{
    enum imapreader_state st = IMAPREADER_NEED_MORE;
    size_t pos = 0;

    if (r->mode == RM_DONE)
        reader_start(r);
    while (st == IMAPREADER_NEED_MORE) {
        size_t used = 0;

        if (r->mode == RM_DECIDE) {
            st = IMAPREADER_LITERAL;
            break;
        }
        if (r->mode == RM_CLOSED) {
            st = IMAPREADER_CLOSE;
            break;
        }
        /* a zero-size literal needs no bytes to finish */
        if (r->mode == RM_LITERAL && r->lit_left == 0) {
            r->mode = RM_LINE;
            r->line_start = r->cmd.len;
        }
        if (pos == len)
            break;
        switch (r->mode) {
        case RM_LINE:
            st = reader_step_line(r, data + pos, len - pos, &used);
            break;
        case RM_LITERAL:
            st = reader_step_literal(r, data + pos, len - pos, &used);
            break;
        case RM_SKIP_LINE:
            st = reader_step_skip_line(r, data + pos, len - pos, &used);
            break;
        case RM_SKIP_LITERAL:
            st = reader_step_skip_literal(r, len - pos, &used);
            break;
        default:
            ASSERT(0);
        }
        pos += used;
    }
    *used_r = pos;
    return st;
}

uint64_t
imapreader_literal_size(const struct imapreader *r)
{
    return r->lit_size;
}

int
imapreader_literal_sync(const struct imapreader *r)
{
    return r->lit_sync;
}

int
imapreader_literal_binary(const struct imapreader *r)
{
    return r->lit_binary;
}

unsigned
imapreader_literal_index(const struct imapreader *r)
{
    return r->lit_index;
}

void
imapreader_accept_literal(struct imapreader *r)
{
    ASSERT(r->mode == RM_DECIDE);
    r->lit_left = r->lit_size;
    r->lit_spool = reader_will_spool(r, r->lit_size);
    if (r->lit_spool) {
        if (r->nspooled == r->spooled_alloc) {
            r->spooled_alloc = r->spooled_alloc ? r->spooled_alloc * 2 : 4;
            r->spooled = xreallocarray(r->spooled, r->spooled_alloc,
                                       sizeof(*r->spooled));
        }
        r->spooled[r->nspooled].offset = r->cmd.len;
        r->spooled[r->nspooled].size = r->lit_size;
        r->spooled[r->nspooled].index = r->lit_index;
        r->nspooled++;
    }
    r->mode = RM_LITERAL;
}

int
imapreader_reject_literal(struct imapreader *r)
{
    ASSERT(r->mode == RM_DECIDE);
    return reader_drop_literal(r) == IMAPREADER_CLOSE ? ERR_TOOLONG : 0;
}

const char *
imapreader_command(const struct imapreader *r, size_t *len_r)
{
    *len_r = r->cmd.len;
    return buf_base(&r->cmd);
}

const struct imaptok_spooled *
imapreader_spooled(const struct imapreader *r, size_t *count_r)
{
    *count_r = r->nspooled;
    return r->spooled;
}

void
imapreader_read_line(struct imapreader *r)
{
    r->want_line = 1;
    if (r->mode == RM_DONE
        || (r->mode == RM_LINE && r->cmd.len == 0 && r->nliterals == 0))
        reader_start(r);
}

const char *
imapreader_line(const struct imapreader *r, size_t *len_r)
{
    *len_r = r->cmd.len;
    return buf_base(&r->cmd);
}

const char *
imapreader_error(const struct imapreader *r)
{
    return r->error;
}

int
imapreader_error_code(const struct imapreader *r)
{
    return r->error_code;
}

const char *
imapreader_error_tag(const struct imapreader *r)
{
    return r->err_has_tag ? r->err_tag : NULL;
}

void
imapreader_reset(struct imapreader *r)
{
    if (r->mode == RM_CLOSED)
        return;
    r->want_line = 0;
    reader_start(r);
}
