/* mupdate_proto.c: MUPDATE parser and writers (see mupdate_proto.h). */
#include <stdint.h>
#include <string.h>

#include "mupdate_proto.h"
#include "xmalloc.h"

enum pstate {
    S_TAG,
    S_WORD,
    S_AFTER,    /* after a token: SP or end of line */
    S_ARGSTART, /* after SP: a string starts */
    S_QUOTED,
    S_QUOTED_ESC,
    S_ATOM,
    S_LITNUM,
    S_LITCLOSE, /* after '+': expect '}' */
    S_LITCR,    /* after '}': expect CR or LF */
    S_LITLF,    /* after CR: expect LF */
    S_LITDATA,
    S_EOL_LF, /* CR seen at the end of the unit: expect LF */
    S_SKIPLIT,
    S_SKIP,
    S_FINISHED
};

struct arg {
    size_t off;
    size_t len;
};

struct mupdate_parser {
    struct mupdate_limits lim;
    enum pstate state;
    struct buf tag;
    struct buf word;
    struct buf data; /* all arguments, each followed by a NUL */
    struct arg *args;
    size_t nargs;
    size_t argsalloc;
    size_t nline;  /* bytes outside literals in this unit */
    uint64_t litn; /* literal length being read, then bytes left */
    int litdigits;
    int litsync;
    int littoobig;
    int has_tag;
    const char *error;
    enum mupdate_parse result; /* of a finished unit */
};

static const struct mupdate_limits default_limits = {64, 8192, 1u << 20, 64};

struct mupdate_parser *
mupdate_parser_new(const struct mupdate_limits *limits)
{
    struct mupdate_parser *p = xzmalloc(sizeof(*p));

    p->lim = default_limits;
    if (limits != NULL) {
        if (limits->max_atom)
            p->lim.max_atom = limits->max_atom;
        if (limits->max_line)
            p->lim.max_line = limits->max_line;
        if (limits->max_literal)
            p->lim.max_literal = limits->max_literal;
        if (limits->max_args)
            p->lim.max_args = limits->max_args;
    }
    mupdate_parser_reset(p);
    return p;
}

void
mupdate_parser_free(struct mupdate_parser **pp)
{
    struct mupdate_parser *p = *pp;

    if (p == NULL)
        return;
    *pp = NULL;
    buf_free(&p->tag);
    buf_free(&p->word);
    buf_free(&p->data);
    free(p->args);
    free(p);
}

void
mupdate_parser_reset(struct mupdate_parser *p)
{
    p->state = S_TAG;
    buf_reset(&p->tag);
    buf_reset(&p->word);
    buf_reset(&p->data);
    p->nargs = 0;
    p->nline = 0;
    p->litn = 0;
    p->litsync = 0;
    p->littoobig = 0;
    p->has_tag = 0;
    p->error = NULL;
    p->result = MUPDATE_PARSE_MORE;
}

static int
is_atom_char(unsigned char c)
{
    return c > 0x20 && c != 0x7f && c != '"';
}

static int
is_word_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Start a new argument in p->data. */
static int
arg_begin(struct mupdate_parser *p)
{
    if (p->nargs >= p->lim.max_args)
        return -1;
    if (p->nargs == p->argsalloc) {
        p->argsalloc = p->argsalloc ? 2 * p->argsalloc : 8;
        p->args = xrealloc(p->args, p->argsalloc * sizeof(*p->args));
    }
    p->args[p->nargs].off = buf_len(&p->data);
    p->args[p->nargs].len = 0;
    p->nargs++;
    return 0;
}

static void
arg_end(struct mupdate_parser *p)
{
    struct arg *a = &p->args[p->nargs - 1];

    a->len = buf_len(&p->data) - a->off;
    buf_putc(&p->data, '\0');
}

/* The unit is malformed: skip the rest of its line (unless c, the byte
 * that failed, already ended it). Returns the state to continue in. */
static void
fail(struct mupdate_parser *p, const char *why, unsigned char c)
{
    if (p->error == NULL)
        p->error = why;
    if (c == '\n') {
        p->state = S_FINISHED;
        p->result = MUPDATE_PARSE_ERROR;
    } else {
        p->state = S_SKIP;
    }
}

/* A line end (LF) arrived where the unit may end. */
static void
finish(struct mupdate_parser *p)
{
    p->state = S_FINISHED;
    p->result = p->error ? MUPDATE_PARSE_ERROR : MUPDATE_PARSE_DONE;
}

/* End of the line that announced a literal. Returns 1 when the caller
 * must stop and report CONTINUE. */
static int
literal_announced(struct mupdate_parser *p)
{
    if (p->littoobig) {
        p->error = "Literal too large";
        if (p->litsync) {
            /* the client waits for "+ go ahead" that never comes */
            p->state = S_FINISHED;
            p->result = MUPDATE_PARSE_ERROR;
        } else {
            p->state = S_SKIPLIT;
        }
        return 0;
    }
    if (arg_begin(p) < 0) {
        p->error = "Too many arguments";
        p->state = p->litsync ? S_FINISHED : S_SKIPLIT;
        if (p->litsync)
            p->result = MUPDATE_PARSE_ERROR;
        return 0;
    }
    buf_ensure(&p->data, (size_t)p->litn + 1);
    if (p->litn == 0) {
        arg_end(p);
        p->state = S_AFTER;
    } else {
        p->state = S_LITDATA;
    }
    return p->litsync;
}

/* Feed one byte outside literal data. Returns 1 to stop with CONTINUE. */
static int
step(struct mupdate_parser *p, unsigned char c)
{
    if (p->state != S_SKIP && ++p->nline > p->lim.max_line) {
        fail(p, "Line too long", c);
        return 0;
    }
    switch (p->state) {
    case S_TAG:
        if (c == ' ') {
            if (buf_len(&p->tag) == 0)
                fail(p, "Need command", c);
            else {
                p->has_tag = 1;
                p->state = S_WORD;
            }
        } else if (c == '\r' || c == '\n') {
            if (buf_len(&p->tag) > 0)
                p->has_tag = 1;
            p->error = buf_len(&p->tag) ? "Null command" : "Need command";
            if (c == '\r')
                p->state = S_EOL_LF;
            else
                finish(p);
        } else if (is_atom_char(c) && c != '{'
                   && buf_len(&p->tag) < p->lim.max_atom) {
            buf_putc(&p->tag, (char)c);
        } else {
            fail(p, "Need command", c);
        }
        break;
    case S_WORD:
        if (is_word_char(c) && buf_len(&p->word) < p->lim.max_atom) {
            buf_putc(&p->word, (char)((c >= 'a' && c <= 'z') ? c - 32 : c));
        } else if (buf_len(&p->word) == 0) {
            fail(p, "Null command", c);
        } else if (c == ' ') {
            p->state = S_ARGSTART;
        } else if (c == '\r') {
            p->state = S_EOL_LF;
        } else if (c == '\n') {
            finish(p);
        } else {
            fail(p, "Unrecognized command", c);
        }
        break;
    case S_AFTER:
        if (c == ' ')
            p->state = S_ARGSTART;
        else if (c == '\r')
            p->state = S_EOL_LF;
        else if (c == '\n')
            finish(p);
        else
            fail(p, "Badly formed arguments", c);
        break;
    case S_ARGSTART:
        if (c == '"') {
            if (arg_begin(p) < 0)
                fail(p, "Too many arguments", c);
            else
                p->state = S_QUOTED;
        } else if (c == '{') {
            p->litn = 0;
            p->litdigits = 0;
            p->litsync = 1;
            p->littoobig = 0;
            p->state = S_LITNUM;
        } else if (is_atom_char(c)) {
            if (arg_begin(p) < 0) {
                fail(p, "Too many arguments", c);
            } else {
                buf_putc(&p->data, (char)c);
                p->state = S_ATOM;
            }
        } else if (c == '\r') {
            /* a trailing space: tolerated */
            p->state = S_EOL_LF;
        } else if (c == '\n') {
            finish(p);
        } else {
            fail(p, "Badly formed arguments", c);
        }
        break;
    case S_QUOTED:
        if (c == '"') {
            arg_end(p);
            p->state = S_AFTER;
        } else if (c == '\\') {
            p->state = S_QUOTED_ESC;
        } else if (c == '\r' || c == '\n' || c == '\0') {
            fail(p, "Badly formed arguments", c);
        } else {
            buf_putc(&p->data, (char)c);
        }
        break;
    case S_QUOTED_ESC:
        if (c == '"' || c == '\\') {
            buf_putc(&p->data, (char)c);
            p->state = S_QUOTED;
        } else {
            fail(p, "Badly formed arguments", c);
        }
        break;
    case S_ATOM:
        if (is_atom_char(c)) {
            buf_putc(&p->data, (char)c);
            break;
        }
        arg_end(p);
        p->state = S_AFTER;
        p->nline--; /* the separator is counted again by the re-dispatch */
        return step(p, c);
    case S_LITNUM:
        if (c >= '0' && c <= '9') {
            if (p->litn > (UINT64_MAX - 9) / 10) {
                fail(p, "Badly formed arguments", c);
                break;
            }
            p->litn = p->litn * 10 + (uint64_t)(c - '0');
            if (p->litn > p->lim.max_literal)
                p->littoobig = 1;
            p->litdigits++;
        } else if (c == '+' && p->litdigits > 0) {
            p->litsync = 0;
            p->state = S_LITCLOSE;
        } else if (c == '}' && p->litdigits > 0) {
            p->state = S_LITCR;
        } else {
            fail(p, "Badly formed arguments", c);
        }
        break;
    case S_LITCLOSE:
        if (c == '}')
            p->state = S_LITCR;
        else
            fail(p, "Badly formed arguments", c);
        break;
    case S_LITCR:
        if (c == '\r')
            p->state = S_LITLF;
        else if (c == '\n')
            return literal_announced(p);
        else
            fail(p, "Badly formed arguments", c);
        break;
    case S_LITLF:
        if (c == '\n')
            return literal_announced(p);
        fail(p, "Badly formed arguments", c);
        break;
    case S_EOL_LF:
        if (c == '\n')
            finish(p);
        else
            fail(p, p->error ? p->error : "Badly formed arguments", c);
        break;
    case S_SKIP:
        if (c == '\n') {
            p->state = S_FINISHED;
            p->result = MUPDATE_PARSE_ERROR;
        }
        break;
    case S_LITDATA:
    case S_SKIPLIT:
    case S_FINISHED:
        ASSERT(0);
    }
    return 0;
}

enum mupdate_parse
mupdate_parser_feed(struct mupdate_parser *p, const char *data, size_t len,
                    size_t *used_r)
{
    size_t i = 0;

    if (p->state == S_FINISHED)
        mupdate_parser_reset(p);
    while (i < len) {
        if (p->state == S_LITDATA || p->state == S_SKIPLIT) {
            size_t n = len - i;

            if (n > p->litn)
                n = (size_t)p->litn;
            if (p->state == S_LITDATA)
                buf_appendmap(&p->data, data + i, n);
            i += n;
            p->litn -= n;
            if (p->litn == 0) {
                if (p->state == S_LITDATA) {
                    arg_end(p);
                    p->state = S_AFTER;
                } else {
                    p->state = S_SKIP;
                }
            }
            continue;
        }
        if (step(p, (unsigned char)data[i++])) {
            *used_r = i;
            return MUPDATE_PARSE_CONTINUE;
        }
        if (p->state == S_FINISHED) {
            *used_r = i;
            return p->result;
        }
    }
    *used_r = i;
    return MUPDATE_PARSE_MORE;
}

const char *
mupdate_parser_tag(const struct mupdate_parser *p)
{
    return p->has_tag ? buf_cstring((struct buf *)&p->tag) : NULL;
}

const char *
mupdate_parser_word(const struct mupdate_parser *p)
{
    return buf_cstring((struct buf *)&p->word);
}

size_t
mupdate_parser_nargs(const struct mupdate_parser *p)
{
    return p->nargs;
}

const char *
mupdate_parser_arg(const struct mupdate_parser *p, size_t i, size_t *len_r)
{
    if (i >= p->nargs)
        return NULL;
    if (len_r != NULL)
        *len_r = p->args[i].len;
    return buf_base(&p->data) + p->args[i].off;
}

int
mupdate_parser_arg_has_nul(const struct mupdate_parser *p, size_t i)
{
    if (i >= p->nargs)
        return 0;
    return memchr(buf_base(&p->data) + p->args[i].off, '\0', p->args[i].len)
           != NULL;
}

const char *
mupdate_parser_error(const struct mupdate_parser *p)
{
    return p->error ? p->error : "";
}

/* ---- writers --------------------------------------------------------- */

void
mupdate_write_literal(struct buf *out, const char *s, size_t len)
{
    buf_printf(out, "{%zu+}\r\n", len);
    buf_appendmap(out, s, len);
}

void
mupdate_write_string(struct buf *out, const char *s)
{
    size_t len = strlen(s);

    if (len < 1024 && strpbrk(s, "\r\n\"\\") == NULL) {
        buf_putc(out, '"');
        buf_appendmap(out, s, len);
        buf_putc(out, '"');
    } else {
        mupdate_write_literal(out, s, len);
    }
}

void
mupdate_write_command(struct buf *out, const char *tag, const char *word,
                      const char *const *args, size_t nargs)
{
    size_t i;

    buf_printf(out, "%s %s", tag, word);
    for (i = 0; i < nargs; i++) {
        buf_putc(out, ' ');
        mupdate_write_literal(out, args[i], strlen(args[i]));
    }
    buf_appendcstr(out, "\r\n");
}

void
mupdate_write_response(struct buf *out, const char *tag, const char *status,
                       const char *text)
{
    buf_printf(out, "%s %s ", tag, status);
    mupdate_write_string(out, text);
    buf_appendcstr(out, "\r\n");
}

static void
write_data(struct buf *out, const char *tag, const char *word,
           const char *a, const char *b, const char *c)
{
    buf_printf(out, "%s %s ", tag, word);
    mupdate_write_literal(out, a, strlen(a));
    if (b != NULL) {
        buf_putc(out, ' ');
        mupdate_write_literal(out, b, strlen(b));
    }
    if (c != NULL) {
        buf_putc(out, ' ');
        mupdate_write_literal(out, c, strlen(c));
    }
    buf_appendcstr(out, "\r\n");
}

void
mupdate_write_mailbox(struct buf *out, const char *tag, const char *name,
                      const char *location, const char *acl)
{
    write_data(out, tag, "MAILBOX", name, location, acl ? acl : "");
}

void
mupdate_write_reserve(struct buf *out, const char *tag, const char *name,
                      const char *location)
{
    write_data(out, tag, "RESERVE", name, location, NULL);
}

void
mupdate_write_delete(struct buf *out, const char *tag, const char *name)
{
    write_data(out, tag, "DELETE", name, NULL, NULL);
}

int
mupdate_location_split(const char *location, struct buf *server_r,
                       struct buf *partition_r)
{
    const char *bang = strchr(location, '!');

    if (bang == NULL) {
        buf_setcstr(server_r, location);
        buf_reset(partition_r);
        return 0;
    }
    buf_setmap(server_r, location, (size_t)(bang - location));
    buf_setcstr(partition_r, bang + 1);
    return 1;
}
