/* pop3_proto.c: POP3 command syntax and message output (pop3_proto.h). */
#include <stdio.h>
#include <string.h>

#include "errors.h"
#include "pop3_proto.h"
#include "util.h"

static const char *const verb_names[] = {
    [POP3_UNKNOWN] = "?", [POP3_USER] = "USER", [POP3_PASS] = "PASS",
    [POP3_APOP] = "APOP", [POP3_AUTH] = "AUTH", [POP3_CAPA] = "CAPA",
    [POP3_STLS] = "STLS", [POP3_QUIT] = "QUIT", [POP3_NOOP] = "NOOP",
    [POP3_STAT] = "STAT", [POP3_LIST] = "LIST", [POP3_RETR] = "RETR",
    [POP3_DELE] = "DELE", [POP3_RSET] = "RSET", [POP3_TOP] = "TOP",
    [POP3_UIDL] = "UIDL"};

#define NVERBS (sizeof(verb_names) / sizeof(verb_names[0]))

const char *
pop3_verb_name(enum pop3_verb verb)
{
    if ((size_t)verb >= NVERBS)
        return "?";
    return verb_names[verb];
}

int
pop3_command_parse(const char *line, size_t len, struct pop3_command *cmd_r,
                   const char **error_r)
{
    size_t vlen = 0, i;

    memset(cmd_r, 0, sizeof(*cmd_r));
    *error_r = "Syntax error";
    while (vlen < len && line[vlen] != ' ')
        vlen++;
    for (i = 1; i < NVERBS; i++) {
        if (strlen(verb_names[i]) == vlen
            && util_memcaseeq(line, vlen, verb_names[i])) {
            cmd_r->verb = (enum pop3_verb)i;
            break;
        }
    }
    if (cmd_r->verb == POP3_UNKNOWN)
        return 0;
    if (vlen == len) {
        cmd_r->rest = line + len;
        return 0;
    }
    cmd_r->rest = line + vlen + 1;
    cmd_r->restlen = len - vlen - 1;
    if (cmd_r->verb == POP3_PASS)
        return 0;
    i = vlen;
    while (i < len) {
        size_t start = ++i, max;

        while (i < len && line[i] != ' ')
            i++;
        if (cmd_r->nargs == 2) {
            *error_r = "Too many arguments";
            return ERR_SYNTAX;
        }
        max = (cmd_r->verb == POP3_AUTH && cmd_r->nargs == 1) ? POP3_MAX_LINE
                                                              : POP3_MAX_ARG;
        if (i == start || i - start > max) {
            *error_r =
                i == start ? "Unexpected extra space" : "Argument too long";
            return ERR_SYNTAX;
        }
        cmd_r->arg[cmd_r->nargs] = line + start;
        cmd_r->arglen[cmd_r->nargs] = i - start;
        cmd_r->nargs++;
    }
    return 0;
}

int
pop3_parse_number(const char *p, size_t len, uint32_t max, int allow_zero,
                  uint32_t *n_r)
{
    uint64_t v;

    /* util_parse_u64's own max check wraps for max < 9: check here */
    if (len == 0 || len > 10 || util_parse_u64(p, len, UINT32_MAX, &v) < 0
        || v > max)
        return ERR_SYNTAX;
    if (v == 0 && !allow_zero)
        return ERR_SYNTAX;
    *n_r = (uint32_t)v;
    return 0;
}

void
pop3_uidl(uint32_t uidvalidity, uint32_t uid, struct buf *out)
{
    buf_reset(out);
    buf_printf(out, "%u.%u", uidvalidity, uid);
}

void
pop3_stuff_message(const char *msg, size_t len, long toplines, struct buf *out)
{
    size_t i = 0;
    int inheader = 1;
    long body = 0;

    while (i < len) {
        const char *nl = memchr(msg + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - msg) : len;
        size_t linelen = end - i;

        if (linelen > 0 && msg[end - 1] == '\r' && nl)
            linelen--;
        if (!inheader && toplines >= 0 && body++ >= toplines)
            break;
        if (inheader && linelen == 0)
            inheader = 0;
        if (msg[i] == '.')
            buf_putc(out, '.');
        buf_appendmap(out, msg + i, linelen);
        buf_appendmap(out, "\r\n", 2);
        i = nl ? end + 1 : len;
    }
    buf_appendmap(out, ".\r\n", 3);
}
