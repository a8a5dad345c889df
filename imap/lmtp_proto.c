/* lmtp_proto.c: LMTP command, path, DATA and reply syntax (lmtp_proto.h). */
#include <ctype.h>
#include <string.h>

#include "errors.h"
#include "lmtp_proto.h"
#include "util.h"

static const char *const verb_names[] = {
    [LMTP_UNKNOWN] = "?",         [LMTP_LHLO] = "LHLO", [LMTP_MAIL] = "MAIL",
    [LMTP_RCPT] = "RCPT",         [LMTP_DATA] = "DATA", [LMTP_RSET] = "RSET",
    [LMTP_NOOP] = "NOOP",         [LMTP_QUIT] = "QUIT", [LMTP_VRFY] = "VRFY",
    [LMTP_STARTTLS] = "STARTTLS", [LMTP_AUTH] = "AUTH", [LMTP_HELO] = "HELO",
    [LMTP_EHLO] = "EHLO"};

#define SYNTAX_PARAMS "5.5.4 Syntax error in parameters"
#define SYNTAX_PATH   "5.5.2 Syntax error in mailbox address"

static int
is_blank(char c)
{
    return c == ' ' || c == '\t';
}

enum lmtp_verb
lmtp_command_parse(const char *line, size_t len, const char **arg_r,
                   size_t *arglen_r)
{
    size_t vlen = 0, i;
    enum lmtp_verb v = LMTP_UNKNOWN;

    while (vlen < len && !is_blank(line[vlen]))
        vlen++;
    for (i = 1; i < sizeof(verb_names) / sizeof(verb_names[0]); i++) {
        if (strlen(verb_names[i]) == vlen
            && util_memcaseeq(line, vlen, verb_names[i])) {
            v = (enum lmtp_verb)i;
            break;
        }
    }
    i = vlen;
    while (i < len && is_blank(line[i]))
        i++;
    *arg_r = line + i;
    *arglen_r = len - i;
    return v;
}

const char *
lmtp_verb_name(enum lmtp_verb verb)
{
    if ((size_t)verb >= sizeof(verb_names) / sizeof(verb_names[0]))
        return "?";
    return verb_names[verb];
}

void
lmtp_path_init(struct lmtp_path *p)
{
    memset(p, 0, sizeof(*p));
    buf_init(&p->addr);
    buf_init(&p->auth);
}

void
lmtp_path_fini(struct lmtp_path *p)
{
    buf_free(&p->addr);
    buf_free(&p->auth);
}

static void
path_reset(struct lmtp_path *p)
{
    buf_reset(&p->addr);
    buf_reset(&p->auth);
    p->size = 0;
    p->has_size = 0;
    p->body_8bit = 0;
    p->ignorequota = 0;
}

/* Parse "<...>" at arg[*pos]: the path with an optional source route
 * ("@a,@b:") dropped and a quoted local part unquoted. */
static int
parse_angle_path(const char *arg, size_t len, size_t *pos, struct buf *out)
{
    size_t i = *pos;
    int quoted = 0;

    if (i >= len || arg[i] != '<')
        return ERR_SYNTAX;
    i++;
    /* RFC 5321 4.1.2 A-d-l: obsolete source route, ignored (C.5 / F.2) */
    if (i < len && arg[i] == '@') {
        while (i < len && arg[i] != ':' && arg[i] != '>')
            i++;
        if (i >= len || arg[i] != ':')
            return ERR_SYNTAX;
        i++;
    }
    for (; i < len; i++) {
        unsigned char c = (unsigned char)arg[i];

        if (c == '\0' || c == '\r' || c == '\n')
            return ERR_SYNTAX;
        if (quoted) {
            if (c == '\\') {
                if (i + 1 >= len || arg[i + 1] == '\0')
                    return ERR_SYNTAX;
                buf_putc(out, arg[++i]);
            } else if (c == '"') {
                quoted = 0;
            } else {
                buf_putc(out, (char)c);
            }
            continue;
        }
        if (c == '"') {
            quoted = 1;
        } else if (c == '>') {
            *pos = i + 1;
            return 0;
        } else if (c == '<' || is_blank((char)c)) {
            return ERR_SYNTAX;
        } else {
            buf_putc(out, (char)c);
        }
    }
    return ERR_SYNTAX;
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int
lmtp_xtext_decode(const char *in, size_t len, struct buf *out)
{
    size_t i;

    buf_reset(out);
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];

        if (c == '+') {
            int hi, lo;

            if (i + 2 >= len)
                return ERR_SYNTAX;
            hi = hexval(in[i + 1]);
            lo = hexval(in[i + 2]);
            if (hi < 0 || lo < 0)
                return ERR_SYNTAX;
            buf_putc(out, (char)(hi * 16 + lo));
            i += 2;
        } else if (c < 33 || c > 126 || c == '=') {
            return ERR_SYNTAX;
        } else {
            buf_putc(out, (char)c);
        }
    }
    return 0;
}

/* One ESMTP parameter keyword[=value]; *handled_r says it was known. */
static int
parse_param(const char *kw, size_t kwlen, const char *val, size_t vallen,
            int has_val, int is_mail, struct lmtp_path *out,
            const char **error_r)
{
    if (is_mail && util_memcaseeq(kw, kwlen, "SIZE")) {
        if (!has_val || util_parse_u64(val, vallen, UINT64_MAX, &out->size))
            goto bad;
        out->has_size = 1;
        return 0;
    }
    if (is_mail && util_memcaseeq(kw, kwlen, "BODY")) {
        if (has_val && util_memcaseeq(val, vallen, "8BITMIME"))
            out->body_8bit = 1;
        else if (!has_val || !util_memcaseeq(val, vallen, "7BIT"))
            goto bad;
        return 0;
    }
    if (is_mail && util_memcaseeq(kw, kwlen, "AUTH")) {
        if (!has_val || vallen == 0)
            goto bad;
        if (vallen == 2 && memcmp(val, "<>", 2) == 0) {
            buf_setcstr(&out->auth, "<>");
            return 0;
        }
        if (lmtp_xtext_decode(val, vallen, &out->auth) < 0
            || buf_len(&out->auth) == 0)
            goto bad;
        return 0;
    }
    if (!is_mail && util_memcaseeq(kw, kwlen, "IGNOREQUOTA") && !has_val) {
        out->ignorequota = 1;
        return 0;
    }
    *error_r = "5.5.4 Unrecognized parameter";
    return ERR_SYNTAX;
bad:
    *error_r = SYNTAX_PARAMS;
    return ERR_SYNTAX;
}

static int
parse_envelope(const char *arg, size_t len, const char *keyword, int is_mail,
               struct lmtp_path *out, const char **error_r)
{
    size_t klen = strlen(keyword), i;
    int r;

    path_reset(out);
    *error_r = SYNTAX_PARAMS;
    if (len < klen || !util_memcaseeq(arg, klen, keyword))
        return ERR_SYNTAX;
    i = klen;
    while (i < len && is_blank(arg[i]))
        i++;
    if (parse_angle_path(arg, len, &i, &out->addr) < 0) {
        *error_r = SYNTAX_PATH;
        return ERR_SYNTAX;
    }
    if (!is_mail && buf_len(&out->addr) == 0) {
        *error_r = SYNTAX_PATH;
        return ERR_SYNTAX;
    }
    while (i < len) {
        size_t kw, kwlen, eq, end;

        if (!is_blank(arg[i]))
            return ERR_SYNTAX;
        while (i < len && is_blank(arg[i]))
            i++;
        if (i == len)
            break;
        kw = i;
        while (i < len && !is_blank(arg[i]) && arg[i] != '=')
            i++;
        kwlen = i - kw;
        eq = i;
        while (i < len && !is_blank(arg[i]))
            i++;
        end = i;
        if (kwlen == 0)
            return ERR_SYNTAX;
        if (eq < end) {
            r = parse_param(arg + kw, kwlen, arg + eq + 1, end - eq - 1, 1,
                            is_mail, out, error_r);
        } else {
            r = parse_param(arg + kw, kwlen, NULL, 0, 0, is_mail, out, error_r);
        }
        if (r != 0)
            return ERR_SYNTAX;
    }
    return 0;
}

int
lmtp_parse_mail(const char *arg, size_t len, struct lmtp_path *out,
                const char **error_r)
{
    return parse_envelope(arg, len, "FROM:", 1, out, error_r);
}

int
lmtp_parse_rcpt(const char *arg, size_t len, struct lmtp_path *out,
                const char **error_r)
{
    return parse_envelope(arg, len, "TO:", 0, out, error_r);
}

void
lmtp_rcpt_init(struct lmtp_rcpt *r)
{
    memset(r, 0, sizeof(*r));
}

void
lmtp_rcpt_fini(struct lmtp_rcpt *r)
{
    buf_free(&r->user);
    buf_free(&r->detail);
    buf_free(&r->domain);
}

int
lmtp_rcpt_split(const char *addr, size_t len, unsigned flags,
                struct lmtp_rcpt *out, const char **error_r)
{
    size_t local = len, plus, i;

    buf_reset(&out->user);
    buf_reset(&out->detail);
    buf_reset(&out->domain);
    out->has_detail = 0;
    *error_r = SYNTAX_PATH;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)addr[i];

        if (c < 32 || c == 127)
            return ERR_SYNTAX;
        if (c >= 128 && (flags & LMTP_RCPT_STRICT)) {
            *error_r = "5.6.7 Address contains 8-bit characters";
            return ERR_SYNTAX;
        }
        if (c == '@')
            local = i;
    }
    if (local < len)
        buf_appendmap(&out->domain, addr + local + 1, len - local - 1);
    for (plus = 0; plus < local && addr[plus] != '+'; plus++)
        ;
    if (plus == 0)
        return ERR_SYNTAX;
    buf_appendmap(&out->user, addr, plus);
    if (plus < local) {
        out->has_detail = 1;
        buf_appendmap(&out->detail, addr + plus + 1, local - plus - 1);
    }
    if (flags & LMTP_RCPT_DOWNCASE) {
        /* Cyrus lowercases the user part only: the detail names a
         * folder, whose case matters */
        char *p = (char *)buf_cstring(&out->user);

        for (; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    }
    return 0;
}

int
lmtp_data_line(const char *line, size_t len, const char **out_r,
               size_t *outlen_r)
{
    if (len == 1 && line[0] == '.')
        return 1;
    if (len > 0 && line[0] == '.') {
        line++;
        len--;
    }
    *out_r = line;
    *outlen_r = len;
    return 0;
}

enum {
    UNSTUFF_BOL = 0, /* at the start of a line */
    UNSTUFF_MID,     /* inside a line */
    UNSTUFF_DOT,     /* a line started with '.' */
    UNSTUFF_DOTCR    /* a line started with ".\r" */
};

void
lmtp_unstuff_init(struct lmtp_unstuff *u)
{
    u->state = UNSTUFF_BOL;
}

size_t
lmtp_unstuff_feed(struct lmtp_unstuff *u, const char *in, size_t len,
                  struct buf *out, int *done_r)
{
    size_t i = 0, run;

    *done_r = 0;
    while (i < len) {
        char c = in[i];

        switch (u->state) {
        case UNSTUFF_BOL:
            i++;
            if (c == '.') {
                u->state = UNSTUFF_DOT;
                break;
            }
            buf_putc(out, c);
            u->state = c == '\n' ? UNSTUFF_BOL : UNSTUFF_MID;
            break;
        case UNSTUFF_MID: {
            /* copy up to and including the next LF in one go */
            const char *nl = memchr(in + i, '\n', len - i);

            run = nl ? (size_t)(nl - (in + i)) + 1 : len - i;
            buf_appendmap(out, in + i, run);
            i += run;
            if (nl)
                u->state = UNSTUFF_BOL;
            break;
        }
        case UNSTUFF_DOT:
            i++;
            if (c == '\n') {
                u->state = UNSTUFF_BOL;
                *done_r = 1;
                return i;
            }
            if (c == '\r') {
                u->state = UNSTUFF_DOTCR;
                break;
            }
            /* RFC 5321 4.5.2: the first dot of the line is dropped */
            buf_putc(out, c);
            u->state = UNSTUFF_MID;
            break;
        case UNSTUFF_DOTCR:
            if (c == '\n') {
                i++;
                u->state = UNSTUFF_BOL;
                *done_r = 1;
                return i;
            }
            /* ".\r" then something else: an unstuffed line "\r..." */
            buf_putc(out, '\r');
            u->state = UNSTUFF_MID;
            break;
        }
    }
    return i;
}

void
lmtp_data_stuff(const char *msg, size_t len, struct buf *out)
{
    size_t i = 0;

    while (i < len) {
        const char *nl = memchr(msg + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - msg) : len;
        size_t linelen = end - i;

        if (linelen > 0 && msg[end - 1] == '\r' && nl)
            linelen--;
        if (msg[i] == '.')
            buf_putc(out, '.');
        buf_appendmap(out, msg + i, linelen);
        buf_appendmap(out, "\r\n", 2);
        i = nl ? end + 1 : len;
    }
    buf_appendmap(out, ".\r\n", 3);
}

struct lmtp_reply_code
lmtp_reply_for_error(int err, int quota_perm)
{
    struct lmtp_reply_code rc;

    switch (err) {
    case 0:
        rc.code = 250, rc.text = "2.1.5 Ok";
        break;
    case ERR_QUOTA:
        if (quota_perm)
            rc.code = 552, rc.text = "5.2.2 Over quota";
        else
            rc.code = 452, rc.text = "4.2.2 Over quota";
        break;
    case ERR_NOUSER:
    case ERR_NOMAILBOX:
        rc.code = 550, rc.text = "5.1.1 User unknown";
        break;
    case ERR_PERMISSION:
        rc.code = 550, rc.text = "5.7.1 Permission denied";
        break;
    case ERR_TOOBIG:
        rc.code = 552, rc.text = "5.2.3 Message size exceeds fixed limit";
        break;
    case ERR_BADMSG:
        rc.code = 554, rc.text = "5.6.0 Message contains invalid header";
        break;
    case ERR_MOVED:
    case ERR_RESERVED:
        rc.code = 451, rc.text = "4.2.1 Mailbox has been moved";
        break;
    case ERR_UNAVAILABLE:
    case ERR_MUPDATE_NOCONN:
    case ERR_MUPDATE_RESERVE:
    case ERR_MUPDATE_FAIL:
        rc.code = 451, rc.text = "4.4.3 Server unavailable";
        break;
    case ERR_NOTSUPPORTED:
        rc.code = 451, rc.text = "4.2.0 Mailbox not supported";
        break;
    case ERR_SYNTAX:
        rc.code = 501, rc.text = SYNTAX_PARAMS;
        break;
    default:
        rc.code = 451, rc.text = "4.3.0 System I/O error";
        break;
    }
    return rc;
}

int
lmtp_error_for_reply(int code, const char *enhanced)
{
    const char *e = enhanced ? enhanced : "";
    const char *sub = strchr(e, '.');

    if (code >= 200 && code < 300)
        return 0;
    if (code == 452 || (sub && strncmp(sub, ".2.2", 4) == 0))
        return ERR_QUOTA;
    if (sub && strncmp(sub, ".2.3", 4) == 0)
        return ERR_TOOBIG;
    if (code == 550 && strncmp(e, "5.7.", 4) == 0)
        return ERR_PERMISSION;
    if (code == 550 && strncmp(e, "5.1.", 4) == 0)
        return ERR_NOMAILBOX;
    if (code == 554)
        return ERR_BADMSG;
    if (code == 451 && strcmp(e, "4.2.1") == 0)
        return ERR_MOVED;
    if (code == 451 && strncmp(e, "4.4.", 4) == 0)
        return ERR_UNAVAILABLE;
    if (code >= 400 && code < 500)
        return ERR_AGAIN;
    return ERR_PROTOCOL;
}

void
lmtp_reply_init(struct lmtp_reply *r)
{
    memset(r, 0, sizeof(*r));
}

void
lmtp_reply_fini(struct lmtp_reply *r)
{
    buf_free(&r->text);
}

/* "d.ddd.ddd" (RFC 3463 class.subject.detail) at p: its length, or 0. */
static size_t
enhanced_len(const char *p, size_t len)
{
    size_t i = 0, part, digits;

    for (part = 0; part < 3; part++) {
        if (part > 0) {
            if (i >= len || p[i] != '.')
                return 0;
            i++;
        }
        for (digits = 0; i < len && isdigit((unsigned char)p[i]); i++)
            digits++;
        if (digits == 0 || digits > 3)
            return 0;
    }
    if (i < len && !is_blank(p[i]))
        return 0;
    return i;
}

int
lmtp_reply_feed(struct lmtp_reply *r, const char *line, size_t len)
{
    int code, i, last;
    size_t off = 4, elen;

    if (len < 3)
        return ERR_PROTOCOL;
    for (i = 0, code = 0; i < 3; i++) {
        if (!isdigit((unsigned char)line[i]))
            return ERR_PROTOCOL;
        code = code * 10 + (line[i] - '0');
    }
    if (code < 200 || code > 599)
        return ERR_PROTOCOL;
    if (len > 3 && line[3] != ' ' && line[3] != '-')
        return ERR_PROTOCOL;
    last = (len == 3 || line[3] == ' ');
    if (r->complete || r->code == 0) {
        r->complete = 0;
        r->code = code;
        r->enhanced[0] = '\0';
        buf_reset(&r->text);
        if (len > off && (elen = enhanced_len(line + off, len - off)) > 0
            && elen < sizeof(r->enhanced)) {
            memcpy(r->enhanced, line + off, elen);
            r->enhanced[elen] = '\0';
            off += elen;
            while (off < len && is_blank(line[off]))
                off++;
        }
    } else {
        if (code != r->code)
            return ERR_PROTOCOL;
        buf_putc(&r->text, '\n');
        /* Cyrus puts the enhanced code on the last line only */
        if (r->enhanced[0] == '\0' && len > off
            && (elen = enhanced_len(line + off, len - off)) > 0
            && elen < sizeof(r->enhanced)) {
            memcpy(r->enhanced, line + off, elen);
            r->enhanced[elen] = '\0';
        }
    }
    if (len > off)
        buf_appendmap(&r->text, line + off, len - off);
    if (last)
        r->complete = 1;
    return last;
}
