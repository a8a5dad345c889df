/* imaptok.c: IMAP command tokenizer; the contract is in imaptok.h. */
#include <string.h>

#include "errors.h"
#include "imaptok.h"

/* Longest value imaptok_quote() sends as a quoted string. */
#define IMAPTOK_QUOTE_MAX 1024

void
imaptok_init(struct imaptok *t, const char *p, size_t len)
{
    memset(t, 0, sizeof(*t));
    t->p = p;
    t->len = len;
    t->error = "";
}

void
imaptok_set_spooled(struct imaptok *t, const struct imaptok_spooled *spooled,
                    size_t n)
{
    t->spooled = spooled;
    t->nspooled = n;
}

const char *
imaptok_error(const struct imaptok *t)
{
    return t->error;
}

int
imaptok_fail(struct imaptok *t, const char *reason)
{
    t->error = reason;
    return -1;
}

size_t
imaptok_pos(const struct imaptok *t)
{
    return t->pos;
}

/* Rewind to start and fail with reason. */
static int
tok_fail_at(struct imaptok *t, size_t start, const char *reason)
{
    t->pos = start;
    return imaptok_fail(t, reason);
}

int
imaptok_peek(const struct imaptok *t)
{
    return t->pos < t->len ? (unsigned char)t->p[t->pos] : -1;
}

/* Is p[pos..len) empty, "\n" or "\r\n"? */
static int
tok_only_eol(const char *p, size_t len, size_t pos)
{
    size_t left = len - pos;

    return left == 0 || (left == 1 && p[pos] == '\n')
           || (left == 2 && p[pos] == '\r' && p[pos + 1] == '\n');
}

int
imaptok_at_end(const struct imaptok *t)
{
    return tok_only_eol(t->p, t->len, t->pos);
}

int
imaptok_sp(struct imaptok *t)
{
    if (imaptok_peek(t) != ' ')
        return imaptok_fail(t, "Missing space");
    t->pos++;
    return 0;
}

int
imaptok_end(struct imaptok *t)
{
    if (!imaptok_at_end(t))
        return imaptok_fail(t, "Unexpected extra arguments");
    t->pos = t->len;
    return 0;
}

int
imaptok_char(struct imaptok *t, char c)
{
    static const char *const reasons[] = {"Missing \"(\"", "Missing \")\"",
                                          "Missing \"[\"", "Missing \"]\"",
                                          "Unexpected character"};
    const char *which = "()[]";
    const char *hit = memchr(which, c, 4);

    if (c == '\0' || imaptok_peek(t) != (unsigned char)c)
        return imaptok_fail(t, reasons[hit ? hit - which : 4]);
    t->pos++;
    return 0;
}

int
imaptok_lparen(struct imaptok *t)
{
    return imaptok_char(t, '(');
}

int
imaptok_rparen(struct imaptok *t)
{
    return imaptok_char(t, ')');
}

/* RFC 3501 ATOM-CHAR, widened by flags. */
static int
tok_atom_char(unsigned char c, unsigned flags)
{
    if (c <= 0x20 || c >= 0x7f)
        return 0;
    switch (c) {
    case '(':
    case ')':
    case '{':
    case '"':
    case '\\':
        return 0;
    case '%':
    case '*':
        return (flags & IMAPTOK_ATOM_WILDCARDS) != 0;
    case ']':
        return (flags & IMAPTOK_ATOM_RBRACKET) != 0;
    case '[':
        return (flags & IMAPTOK_ATOM_STOP_LBRACKET) == 0;
    default:
        return 1;
    }
}

/* Length of the run of atom chars at the cursor. */
static size_t
tok_atom_run(const struct imaptok *t, unsigned flags)
{
    size_t i = t->pos;

    while (i < t->len && tok_atom_char((unsigned char)t->p[i], flags))
        i++;
    return i - t->pos;
}

int
imaptok_atom_ex(struct imaptok *t, unsigned flags, struct imaptok_span *atom_r)
{
    size_t n = tok_atom_run(t, flags);

    if (n == 0)
        return imaptok_fail(t, t->pos < t->len ? "Invalid atom"
                                               : "Missing argument");
    atom_r->p = t->p + t->pos;
    atom_r->len = n;
    t->pos += n;
    return 0;
}

int
imaptok_atom(struct imaptok *t, struct imaptok_span *atom_r)
{
    return imaptok_atom_ex(t, 0, atom_r);
}

int
imaptok_atom_bracket(struct imaptok *t, struct imaptok_span *atom_r)
{
    return imaptok_atom_ex(t, IMAPTOK_ATOM_RBRACKET, atom_r);
}

int
imaptok_tag(struct imaptok *t, struct imaptok_span *tag_r)
{
    size_t i = t->pos;

    while (i < t->len && t->p[i] != '+'
           && tok_atom_char((unsigned char)t->p[i], IMAPTOK_ATOM_RBRACKET))
        i++;
    if (i == t->pos || (i < t->len && t->p[i] == '+'))
        return imaptok_fail(t, "Invalid tag");
    tag_r->p = t->p + t->pos;
    tag_r->len = i - t->pos;
    t->pos = i;
    return 0;
}

/* Length of word at the cursor if it is there as a keyword, else 0. */
static size_t
tok_keyword_len(const struct imaptok *t, const char *word)
{
    size_t n = strlen(word), left = t->len - t->pos;
    const char *end = " \r\n()[]<";
    size_t i;

    if (n == 0 || left < n)
        return 0;
    for (i = 0; i < n; i++) {
        char a = t->p[t->pos + i], b = word[i];

        if (a >= 'a' && a <= 'z')
            a = (char)(a - 'a' + 'A');
        if (b >= 'a' && b <= 'z')
            b = (char)(b - 'a' + 'A');
        if (a != b)
            return 0;
    }
    if (left > n && memchr(end, t->p[t->pos + n], strlen(end)) == NULL)
        return 0;
    return n;
}

int
imaptok_peek_keyword(const struct imaptok *t, const char *word)
{
    return tok_keyword_len(t, word) != 0;
}

int
imaptok_keyword(struct imaptok *t, const char *word)
{
    size_t n = tok_keyword_len(t, word);

    if (n == 0)
        return imaptok_fail(t, "Unexpected argument");
    t->pos += n;
    return 0;
}

int
imaptok_peek_nil(const struct imaptok *t)
{
    size_t left = t->len - t->pos;

    return left >= 3 && (t->p[t->pos] | 0x20) == 'n'
           && (t->p[t->pos + 1] | 0x20) == 'i'
           && (t->p[t->pos + 2] | 0x20) == 'l'
           && (left == 3
               || !tok_atom_char((unsigned char)t->p[t->pos + 3],
                                 IMAPTOK_ATOM_RBRACKET));
}

int
imaptok_nil(struct imaptok *t)
{
    if (!imaptok_peek_nil(t))
        return imaptok_fail(t, "Expected NIL");
    t->pos += 3;
    return 0;
}

int
imaptok_flag(struct imaptok *t, struct imaptok_span *flag_r)
{
    size_t start = t->pos;
    struct imaptok_span a;

    if (imaptok_peek(t) == '\\')
        t->pos++;
    if (imaptok_atom(t, &a) < 0)
        return tok_fail_at(t, start, "Invalid flag");
    flag_r->p = t->p + start;
    flag_r->len = t->pos - start;
    return 0;
}

/* Digits at the cursor into *v (at most max); -1 bad, -2 overflow. */
static int
tok_digits(struct imaptok *t, uint64_t max, uint64_t *v_r)
{
    uint64_t v = 0;
    size_t i = t->pos;

    if (i >= t->len || t->p[i] < '0' || t->p[i] > '9')
        return -1;
    for (; i < t->len && t->p[i] >= '0' && t->p[i] <= '9'; i++) {
        unsigned d = (unsigned)(t->p[i] - '0');

        if (v > (max - d) / 10)
            return -2;
        v = v * 10 + d;
    }
    t->pos = i;
    *v_r = v;
    return 0;
}

static int
tok_number(struct imaptok *t, uint64_t min, uint64_t max, uint64_t *v_r)
{
    size_t start = t->pos;
    int r = tok_digits(t, max, v_r);

    if (r == -1)
        return imaptok_fail(t, "Expected number");
    if (r == -2)
        return imaptok_fail(t, "Number too large");
    if (*v_r < min)
        return tok_fail_at(t, start, "Number must be nonzero");
    return 0;
}

int
imaptok_number(struct imaptok *t, uint32_t *num_r)
{
    uint64_t v;

    if (tok_number(t, 0, UINT32_MAX, &v) < 0)
        return -1;
    *num_r = (uint32_t)v;
    return 0;
}

int
imaptok_nz_number(struct imaptok *t, uint32_t *num_r)
{
    uint64_t v;

    if (tok_number(t, 1, UINT32_MAX, &v) < 0)
        return -1;
    *num_r = (uint32_t)v;
    return 0;
}

int
imaptok_number64(struct imaptok *t, uint64_t *num_r)
{
    return tok_number(t, 0, INT64_MAX, num_r);
}

int
imaptok_quoted(struct imaptok *t, struct buf *out)
{
    size_t start = t->pos, i;

    if (imaptok_peek(t) != '"')
        return imaptok_fail(t, "Expected quoted string");
    buf_reset(out);
    for (i = t->pos + 1; i < t->len; i++) {
        char c = t->p[i];

        if (c == '"') {
            t->pos = i + 1;
            return 0;
        }
        if (c == '\r' || c == '\n' || c == '\0')
            return tok_fail_at(t, start, "Invalid character in quoted string");
        if (c == '\\') {
            if (i + 1 >= t->len || (t->p[i + 1] != '\\' && t->p[i + 1] != '"'))
                return tok_fail_at(t, start, "Invalid escape in quoted string");
            c = t->p[++i];
        }
        buf_putc(out, c);
    }
    return tok_fail_at(t, start, "Unterminated quoted string");
}

int
imaptok_literal(struct imaptok *t, struct imaptok_literal *lit_r)
{
    size_t start = t->pos, k;
    uint64_t size;
    int binary = 0, r;

    if (imaptok_peek(t) == '~') {
        binary = 1;
        t->pos++;
    }
    if (imaptok_peek(t) != '{')
        return tok_fail_at(t, start, "Expected literal");
    t->pos++;
    r = tok_digits(t, UINT64_MAX, &size);
    if (r < 0)
        return tok_fail_at(
            t, start, r == -2 ? "Literal too large" : "Invalid literal size");
    /* RFC 7888: LITERAL+ and LITERAL- both write "{N+}" */
    if (imaptok_peek(t) == '+')
        t->pos++;
    if (imaptok_peek(t) != '}')
        return tok_fail_at(t, start, "Invalid literal");
    t->pos++;
    if (imaptok_peek(t) == '\r')
        t->pos++;
    if (imaptok_peek(t) != '\n')
        return tok_fail_at(t, start, "Missing CRLF after literal");
    t->pos++;
    memset(lit_r, 0, sizeof(*lit_r));
    lit_r->binary = binary;
    lit_r->len = size;
    for (k = 0; k < t->nspooled; k++) {
        if (t->spooled[k].offset == t->pos) {
            if (t->spooled[k].size != size)
                return tok_fail_at(t, start, "Spooled literal size mismatch");
            lit_r->spooled = 1;
            lit_r->index = t->spooled[k].index;
            return 0;
        }
    }
    if (size > t->len - t->pos)
        return tok_fail_at(t, start, "Literal extends past end of command");
    lit_r->p = t->p + t->pos;
    t->pos += (size_t)size;
    return 0;
}

/* Does a literal8 "~{" start at the cursor? ("~" alone is an atom.) */
static int
tok_at_literal8(const struct imaptok *t)
{
    return t->len - t->pos >= 2 && t->p[t->pos] == '~'
           && t->p[t->pos + 1] == '{';
}

int
imaptok_string(struct imaptok *t, struct buf *out)
{
    size_t start = t->pos;
    struct imaptok_literal lit;
    int c = imaptok_peek(t);

    if (c == '"')
        return imaptok_quoted(t, out);
    if (c != '{')
        return imaptok_fail(t, tok_at_literal8(t)
                                   ? "Binary literal not allowed here"
                                   : "Expected string");
    if (imaptok_literal(t, &lit) < 0)
        return -1;
    if (lit.spooled)
        return tok_fail_at(t, start, "Literal too large here");
    if (memchr(lit.p, '\0', (size_t)lit.len) != NULL)
        return tok_fail_at(t, start, "NUL in string");
    buf_setmap(out, lit.p, (size_t)lit.len);
    return 0;
}

/* An atom of chars with flags, or a string. */
static int
tok_atom_or_string(struct imaptok *t, unsigned flags, struct buf *out)
{
    struct imaptok_span a;
    int c = imaptok_peek(t);

    if (c == '"' || c == '{' || tok_at_literal8(t))
        return imaptok_string(t, out);
    if (imaptok_atom_ex(t, flags, &a) < 0)
        return -1;
    buf_setmap(out, a.p, a.len);
    return 0;
}

int
imaptok_astring(struct imaptok *t, struct buf *out)
{
    return tok_atom_or_string(t, IMAPTOK_ATOM_RBRACKET, out);
}

int
imaptok_nstring(struct imaptok *t, struct buf *out, int *is_nil_r)
{
    int c = imaptok_peek(t);

    *is_nil_r = 0;
    if (c != '"' && c != '{' && !tok_at_literal8(t)) {
        if (imaptok_nil(t) < 0)
            return imaptok_fail(t, "Expected string or NIL");
        buf_reset(out);
        *is_nil_r = 1;
        return 0;
    }
    return imaptok_string(t, out);
}

int
imaptok_mailbox(struct imaptok *t, struct buf *out)
{
    return imaptok_astring(t, out);
}

int
imaptok_list_mailbox(struct imaptok *t, struct buf *out)
{
    return tok_atom_or_string(t, IMAPTOK_ATOM_RBRACKET | IMAPTOK_ATOM_WILDCARDS,
                              out);
}

/* "(" [item *(SP item)] ")", each item (flag or astring) into out. */
static int
tok_list(struct imaptok *t, struct strarray *out, int is_flags)
{
    size_t start = t->pos, count0 = out->count;
    struct buf b = BUF_INITIALIZER;
    int r = 0;

    if (imaptok_lparen(t) < 0)
        return -1;
    if (imaptok_peek(t) == ')') {
        t->pos++;
        return 0;
    }
    for (;;) {
        struct imaptok_span f;

        if (is_flags)
            r = imaptok_flag(t, &f);
        else
            r = imaptok_astring(t, &b);
        if (r < 0)
            break;
        if (is_flags)
            strarray_appendmap(out, f.p, f.len);
        else
            strarray_append(out, buf_cstring(&b));
        if (imaptok_peek(t) == ')') {
            t->pos++;
            break;
        }
        if (imaptok_peek(t) != ' ') {
            r = imaptok_fail(t, "Missing \")\"");
            break;
        }
        t->pos++;
    }
    buf_free(&b);
    if (r < 0) {
        strarray_truncate(out, count0);
        return tok_fail_at(t, start, t->error);
    }
    return 0;
}

int
imaptok_astring_list(struct imaptok *t, struct strarray *out)
{
    return tok_list(t, out, 0);
}

int
imaptok_flag_list(struct imaptok *t, struct strarray *out)
{
    return tok_list(t, out, 1);
}

int
imaptok_seqset(struct imaptok *t, struct seqset **set_r)
{
    size_t i = t->pos;
    const char *why = NULL;

    while (i < t->len
           && ((t->p[i] >= '0' && t->p[i] <= '9') || t->p[i] == ':'
               || t->p[i] == ',' || t->p[i] == '*'))
        i++;
    if (i == t->pos)
        return imaptok_fail(t, "Expected sequence set");
    if (seqset_parse(t->p + t->pos, i - t->pos, set_r, &why) < 0)
        return imaptok_fail(t, why);
    t->pos = i;
    return 0;
}

/* Month abbreviation p[0..3) -> 0..11, or -1. */
static int
tok_month(const char *p)
{
    static const char months[] = "JANFEBMARAPRMAYJUNJULAUGSEPOCTNOVDEC";
    char up[3];
    int i;

    for (i = 0; i < 3; i++)
        up[i] = (p[i] >= 'a' && p[i] <= 'z') ? (char)(p[i] - 'a' + 'A') : p[i];
    for (i = 0; i < 12; i++) {
        if (memcmp(months + 3 * i, up, 3) == 0)
            return i;
    }
    return -1;
}

static int
tok_days_in_month(int year, int mon)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

    return days[mon] + (mon == 1 && leap);
}

/* Exactly n digits at the cursor. */
static int
tok_fixed_digits(struct imaptok *t, size_t n, int *v_r)
{
    int v = 0;
    size_t i;

    if (t->len - t->pos < n)
        return -1;
    for (i = 0; i < n; i++) {
        char c = t->p[t->pos + i];

        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    t->pos += n;
    *v_r = v;
    return 0;
}

/* date-text after the day: "-" month "-" 4DIGIT; checks the day. */
static int
tok_month_year(struct imaptok *t, int day, struct tm *tm_r)
{
    int mon, year;

    if (t->len - t->pos < 5 || t->p[t->pos] != '-')
        return -1;
    mon = tok_month(t->p + t->pos + 1);
    if (mon < 0 || t->p[t->pos + 4] != '-')
        return -1;
    t->pos += 5;
    if (tok_fixed_digits(t, 4, &year) < 0 || year < 1)
        return -1;
    if (day < 1 || day > tok_days_in_month(year, mon))
        return -1;
    memset(tm_r, 0, sizeof(*tm_r));
    tm_r->tm_mday = day;
    tm_r->tm_mon = mon;
    tm_r->tm_year = year - 1900;
    return 0;
}

/* 1*2DIGIT day. */
static int
tok_day(struct imaptok *t, int *day_r)
{
    if (tok_fixed_digits(t, 2, day_r) == 0)
        return 0;
    return tok_fixed_digits(t, 1, day_r);
}

int
imaptok_date(struct imaptok *t, struct tm *tm_r)
{
    size_t start = t->pos;
    int quoted = imaptok_peek(t) == '"', day;

    if (quoted)
        t->pos++;
    if (tok_day(t, &day) < 0 || tok_month_year(t, day, tm_r) < 0
        || (quoted && imaptok_char(t, '"') < 0))
        return tok_fail_at(t, start, "Invalid date");
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (mon 0..11). */
static int64_t
tok_days_from_civil(int64_t y, int mon, int mday)
{
    int64_t era, yoe, doy, doe;
    int m = mon + 1;

    if (m <= 2)
        y--;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + mday - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int
imaptok_datetime(struct imaptok *t, time_t *time_r, int *tzoff_r)
{
    size_t start = t->pos;
    struct tm tm;
    int day, hh, mm, ss, zh, zm, sign;
    int64_t secs;

    if (imaptok_char(t, '"') < 0)
        return tok_fail_at(t, start, "Invalid date-time");
    if (imaptok_peek(t) == ' ')
        t->pos++;
    if (tok_day(t, &day) < 0 || tok_month_year(t, day, &tm) < 0
        || imaptok_sp(t) < 0 || tok_fixed_digits(t, 2, &hh) < 0
        || imaptok_char(t, ':') < 0 || tok_fixed_digits(t, 2, &mm) < 0
        || imaptok_char(t, ':') < 0 || tok_fixed_digits(t, 2, &ss) < 0
        || imaptok_sp(t) < 0)
        return tok_fail_at(t, start, "Invalid date-time");
    sign = imaptok_peek(t);
    if (sign != '+' && sign != '-')
        return tok_fail_at(t, start, "Invalid time zone");
    t->pos++;
    if (tok_fixed_digits(t, 2, &zh) < 0 || tok_fixed_digits(t, 2, &zm) < 0
        || zm > 59 || imaptok_char(t, '"') < 0)
        return tok_fail_at(t, start, "Invalid time zone");
    /* 60 seconds: a leap second, as RFC 5322 allows */
    if (hh > 23 || mm > 59 || ss > 60)
        return tok_fail_at(t, start, "Invalid time");
    secs = tok_days_from_civil(tm.tm_year + 1900, tm.tm_mon, tm.tm_mday) * 86400
           + hh * 3600 + mm * 60 + ss;
    zh = zh * 3600 + zm * 60;
    if (sign == '-')
        zh = -zh;
    *time_r = (time_t)(secs - zh);
    if (tzoff_r)
        *tzoff_r = zh;
    return 0;
}

/* The general rule for our responses. ENVELOPE and BODYSTRUCTURE use
 * imap/imapquote.c instead, which reproduces Cyrus's different choice of
 * quoted vs literal byte for byte (see the comment there). */
void
imaptok_quote(struct buf *out, const char *p, size_t len)
{
    size_t i;

    if (len <= IMAPTOK_QUOTE_MAX) {
        for (i = 0; i < len; i++) {
            if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] > 0x7e)
                break;
        }
        if (i == len) {
            buf_putc(out, '"');
            for (i = 0; i < len; i++) {
                if (p[i] == '"' || p[i] == '\\')
                    buf_putc(out, '\\');
                buf_putc(out, p[i]);
            }
            buf_putc(out, '"');
            return;
        }
    }
    buf_printf(out, "{%zu}\r\n", len);
    buf_appendmap(out, p, len);
}

void
imaptok_astring_out(struct buf *out, const char *p, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (!tok_atom_char((unsigned char)p[i], IMAPTOK_ATOM_RBRACKET))
            break;
    }
    if (len > 0 && i == len && !(len == 3 && util_memcaseeq(p, len, "NIL")))
        buf_appendmap(out, p, len);
    else
        imaptok_quote(out, p, len);
}

void
imaptok_nstring_out(struct buf *out, const char *p, size_t len)
{
    if (p == NULL)
        buf_appendcstr(out, "NIL");
    else
        imaptok_quote(out, p, len);
}
