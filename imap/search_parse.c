/* search_parse.c: SEARCH arguments -> struct search_program.
 *
 * A recursive-descent parser over lib/imaptok.h; recursion depth is
 * bounded by SEARCH_MAX_DEPTH, counted for NOT, OR and parentheses. */
#include <string.h>
#include <strings.h>

#include "charset.h"
#include "envelope.h"
#include "errors.h"
#include "mailbox.h"
#include "search_priv.h"
#include "xmalloc.h"

struct parse_ctx {
    struct imaptok *t;
    const char *charset; /* NULL: US-ASCII / UTF-8 */
    struct buf str;      /* scratch: a string argument */
    struct buf utf8;     /* scratch: converted to UTF-8 */
    int modseq;
    size_t nslots;
    int err; /* ERR_SYNTAX or ERR_BADCHARSET once failed */
    const char *reason;
};

static int parse_key(struct parse_ctx *pc, int depth,
                     struct search_node **node_r);

static int
fail(struct parse_ctx *pc, const char *reason)
{
    if (pc->err == 0) {
        pc->err = ERR_SYNTAX;
        pc->reason = reason;
    }
    return -1;
}

static struct search_node *
node_new(enum search_kind kind, enum search_cost cost)
{
    struct search_node *n = xzmalloc(sizeof(*n));

    n->kind = kind;
    n->cost = cost;
    n->field = -1;
    return n;
}

static void
node_add_child(struct search_node *parent, struct search_node *child)
{
    parent->child = xreallocarray(parent->child, parent->nchild + 1,
                                  sizeof(*parent->child));
    parent->child[parent->nchild++] = child;
    if (child->cost > parent->cost)
        parent->cost = child->cost;
}

void
search_node_free(struct search_node **np)
{
    struct search_node *n = *np;
    size_t i;

    if (n == NULL)
        return;
    *np = NULL;
    for (i = 0; i < n->nchild; i++)
        search_node_free(&n->child[i]);
    free(n->child);
    free(n->name);
    seqset_free(&n->set);
    charset_search_free(&n->needle);
    free(n);
}

/* SP before an argument. */
static int
arg_sp(struct parse_ctx *pc, const char *what)
{
    if (imaptok_sp(pc->t) < 0)
        return fail(pc, what);
    return 0;
}

/* An astring argument, converted to UTF-8 and compiled as a needle. */
static int
parse_needle(struct parse_ctx *pc, struct search_node *n)
{
    const char *p;
    size_t len;

    if (arg_sp(pc, "Missing search string") < 0)
        return -1;
    if (imaptok_astring(pc->t, &pc->str) < 0)
        return fail(pc, "Invalid search string");
    p = buf_base(&pc->str);
    len = buf_len(&pc->str);
    if (pc->charset != NULL) {
        buf_reset(&pc->utf8);
        if (charset_to_utf8(pc->charset, p, len, &pc->utf8) < 0)
            return fail(pc, "Unknown charset");
        p = buf_base(&pc->utf8);
        len = buf_len(&pc->utf8);
    }
    n->empty_needle = len == 0;
    n->needle = charset_search_new(p, len, SEARCH_FOLD);
    return 0;
}

static int
parse_date(struct parse_ctx *pc, struct search_node *n)
{
    struct tm tm;

    if (arg_sp(pc, "Missing date") < 0)
        return -1;
    if (imaptok_date(pc->t, &tm) < 0)
        return fail(pc, "Invalid date");
    /* RFC 3501 6.4.4: dates disregard time and zone; like Cyrus we take
     * the day in the server's local time */
    tm.tm_isdst = -1;
    n->day_start = mktime(&tm);
    tm.tm_mday++;
    tm.tm_hour = 0;
    tm.tm_min = 0;
    tm.tm_sec = 0;
    tm.tm_isdst = -1;
    n->day_end = mktime(&tm);
    if (n->day_start == (time_t)-1 || n->day_end == (time_t)-1)
        return fail(pc, "Invalid date");
    return 0;
}

static int
parse_number64(struct parse_ctx *pc, struct search_node *n, int nonzero)
{
    uint32_t v32;

    if (arg_sp(pc, "Missing number") < 0)
        return -1;
    if (nonzero) {
        if (imaptok_nz_number(pc->t, &v32) < 0)
            return fail(pc, "Invalid number");
        n->num = v32;
        return 0;
    }
    if (imaptok_number64(pc->t, &n->num) < 0)
        return fail(pc, "Invalid number");
    return 0;
}

/* MODSEQ [entry-name SP entry-type-req] mod-sequence-valzer (RFC 7162).
 * Per-flag modseqs are not kept, so the entry is checked and ignored. */
static int
parse_modseq(struct parse_ctx *pc, struct search_node *n)
{
    struct imaptok_span type;

    if (arg_sp(pc, "Missing modseq") < 0)
        return -1;
    if (imaptok_peek(pc->t) == '"') {
        if (imaptok_quoted(pc->t, &pc->str) < 0
            || strncasecmp(buf_cstring(&pc->str), "/flags/", 7) != 0)
            return fail(pc, "Invalid MODSEQ entry name");
        if (imaptok_sp(pc->t) < 0 || imaptok_atom(pc->t, &type) < 0)
            return fail(pc, "Missing MODSEQ entry type");
        if (!((type.len == 4 && strncasecmp(type.p, "priv", 4) == 0)
              || (type.len == 6 && strncasecmp(type.p, "shared", 6) == 0)
              || (type.len == 3 && strncasecmp(type.p, "all", 3) == 0)))
            return fail(pc, "Invalid MODSEQ entry type");
        if (imaptok_sp(pc->t) < 0)
            return fail(pc, "Missing modseq");
    }
    if (imaptok_number64(pc->t, &n->num) < 0)
        return fail(pc, "Invalid modseq");
    pc->modseq = 1;
    return 0;
}

static int
parse_set(struct parse_ctx *pc, struct search_node *n)
{
    if (imaptok_peek(pc->t) == '$')
        return fail(pc, "Search result variable not supported");
    if (imaptok_seqset(pc->t, &n->set) < 0)
        return fail(pc, "Invalid sequence set");
    return 0;
}

/* "(" search-key *(SP search-key) ")" */
static int
parse_group(struct parse_ctx *pc, int depth, struct search_node **node_r)
{
    struct search_node *and = node_new(SEARCH_AND, SEARCH_COST_RECORD);

    imaptok_lparen(pc->t);
    for (;;) {
        struct search_node *child = NULL;

        if (parse_key(pc, depth + 1, &child) < 0) {
            search_node_free(&and);
            return -1;
        }
        node_add_child(and, child);
        if (imaptok_peek(pc->t) == ')')
            break;
        if (imaptok_sp(pc->t) < 0) {
            search_node_free(&and);
            return fail(pc, "Missing ) in search");
        }
    }
    imaptok_rparen(pc->t);
    *node_r = and;
    return 0;
}

/* Simple flag keys: name, system flag, whether it must be set. */
static const struct {
    const char *name;
    uint32_t flag;
    int set;
} flag_keys[] = {
    {"ANSWERED",   FLAG_ANSWERED, 1},
    {"DELETED",    FLAG_DELETED,  1},
    {"DRAFT",      FLAG_DRAFT,    1},
    {"FLAGGED",    FLAG_FLAGGED,  1},
    {"SEEN",       FLAG_SEEN,     1},
    {"UNANSWERED", FLAG_ANSWERED, 0},
    {"UNDELETED",  FLAG_DELETED,  0},
    {"UNDRAFT",    FLAG_DRAFT,    0},
    {"UNFLAGGED",  FLAG_FLAGGED,  0},
    {"UNSEEN",     FLAG_SEEN,     0},
};

/* Header keys with a fixed field name. */
static const struct {
    const char *name;
    enum envelope_field field;
} header_keys[] = {
    {"BCC",     ENVELOPE_BCC    },
    {"CC",      ENVELOPE_CC     },
    {"FROM",    ENVELOPE_FROM   },
    {"SUBJECT", ENVELOPE_SUBJECT},
    {"TO",      ENVELOPE_TO     },
};

static struct search_node *
negate(struct search_node *n)
{
    struct search_node *not = node_new(SEARCH_NOT, SEARCH_COST_RECORD);

    node_add_child(not, n);
    return not ;
}

static int
keyword_is(const struct imaptok_span *a, const char *word)
{
    return strlen(word) == a->len && strncasecmp(a->p, word, a->len) == 0;
}

/* Keys that take a second key or more: NOT, OR. */
static int
parse_compound(struct parse_ctx *pc, int depth, int is_or,
               struct search_node **node_r)
{
    struct search_node *n =
        node_new(is_or ? SEARCH_OR : SEARCH_NOT, SEARCH_COST_RECORD);
    int i;

    for (i = 0; i < (is_or ? 2 : 1); i++) {
        struct search_node *child = NULL;

        if (arg_sp(pc, "Missing search key") < 0
            || parse_key(pc, depth + 1, &child) < 0) {
            search_node_free(&n);
            return -1;
        }
        node_add_child(n, child);
    }
    *node_r = n;
    return 0;
}

static int
parse_header_key(struct parse_ctx *pc, struct search_node *n)
{
    if (arg_sp(pc, "Missing header name") < 0)
        return -1;
    if (imaptok_astring(pc->t, &pc->str) < 0 || buf_len(&pc->str) == 0)
        return fail(pc, "Invalid header name");
    n->name = xstrdup(buf_cstring(&pc->str));
    n->field = envelope_field_lookup(n->name, strlen(n->name));
    n->cost = n->field >= 0 ? SEARCH_COST_CACHE : SEARCH_COST_HEADER;
    return parse_needle(pc, n);
}

static int
parse_key(struct parse_ctx *pc, int depth, struct search_node **node_r)
{
    struct imaptok_span a;
    struct search_node *n;
    int c = imaptok_peek(pc->t);
    size_t i;

    if (depth > SEARCH_MAX_DEPTH)
        return fail(pc, "Search nested too deeply");
    if (c == '(')
        return parse_group(pc, depth, node_r);
    if ((c >= '0' && c <= '9') || c == '*' || c == '$') {
        n = node_new(SEARCH_SEQSET, SEARCH_COST_RECORD);
        n->slot = pc->nslots++;
        if (parse_set(pc, n) < 0) {
            search_node_free(&n);
            return -1;
        }
        *node_r = n;
        return 0;
    }
    if (imaptok_atom(pc->t, &a) < 0)
        return fail(pc, c < 0 || c == '\r' || c == '\n' || c == ')'
                            ? "Missing search key"
                            : "Invalid search key");
    for (i = 0; i < sizeof(flag_keys) / sizeof(flag_keys[0]); i++) {
        if (keyword_is(&a, flag_keys[i].name)) {
            n = node_new(SEARCH_SYSFLAG, SEARCH_COST_RECORD);
            n->flag = flag_keys[i].flag;
            *node_r = flag_keys[i].set ? n : negate(n);
            return 0;
        }
    }
    for (i = 0; i < sizeof(header_keys) / sizeof(header_keys[0]); i++) {
        if (keyword_is(&a, header_keys[i].name)) {
            n = node_new(SEARCH_HEADER, SEARCH_COST_CACHE);
            n->field = (int)header_keys[i].field;
            n->name = xstrdup(envelope_field_name(header_keys[i].field));
            goto with_arg;
        }
    }
    if (keyword_is(&a, "NOT"))
        return parse_compound(pc, depth, 0, node_r);
    if (keyword_is(&a, "OR"))
        return parse_compound(pc, depth, 1, node_r);
    if (keyword_is(&a, "ALL")) {
        *node_r = node_new(SEARCH_ALL, SEARCH_COST_RECORD);
        return 0;
    }
    if (keyword_is(&a, "RECENT") || keyword_is(&a, "OLD")) {
        n = node_new(SEARCH_RECENT, SEARCH_COST_RECORD);
        *node_r = keyword_is(&a, "OLD") ? negate(n) : n;
        return 0;
    }
    if (keyword_is(&a, "NEW")) {
        /* RFC 3501: NEW is (RECENT UNSEEN) */
        struct search_node *seen = node_new(SEARCH_SYSFLAG, SEARCH_COST_RECORD);

        seen->flag = FLAG_SEEN;
        n = node_new(SEARCH_AND, SEARCH_COST_RECORD);
        node_add_child(n, node_new(SEARCH_RECENT, SEARCH_COST_RECORD));
        node_add_child(n, negate(seen));
        *node_r = n;
        return 0;
    }
    n = node_new(SEARCH_ALL, SEARCH_COST_RECORD);
    if (keyword_is(&a, "KEYWORD") || keyword_is(&a, "UNKEYWORD")) {
        struct imaptok_span flag;

        n->kind = SEARCH_KEYWORD;
        n->slot = pc->nslots++;
        if (arg_sp(pc, "Missing keyword") < 0)
            goto bad;
        if (imaptok_flag(pc->t, &flag) < 0) {
            fail(pc, "Invalid keyword");
            goto bad;
        }
        n->name = xstrndup(flag.p, flag.len);
        if (keyword_is(&a, "UNKEYWORD"))
            n = negate(n);
    } else if (keyword_is(&a, "BEFORE") || keyword_is(&a, "ON")
               || keyword_is(&a, "SINCE")) {
        n->kind = SEARCH_INTERNALDATE;
        n->datecmp = keyword_is(&a, "BEFORE") ? SEARCH_DATE_BEFORE
                     : keyword_is(&a, "ON")   ? SEARCH_DATE_ON
                                              : SEARCH_DATE_SINCE;
        if (parse_date(pc, n) < 0)
            goto bad;
    } else if (keyword_is(&a, "SENTBEFORE") || keyword_is(&a, "SENTON")
               || keyword_is(&a, "SENTSINCE")) {
        n->kind = SEARCH_SENTDATE;
        n->datecmp = keyword_is(&a, "SENTBEFORE") ? SEARCH_DATE_BEFORE
                     : keyword_is(&a, "SENTON")   ? SEARCH_DATE_ON
                                                  : SEARCH_DATE_SINCE;
        if (parse_date(pc, n) < 0)
            goto bad;
    } else if (keyword_is(&a, "LARGER") || keyword_is(&a, "SMALLER")) {
        n->kind = keyword_is(&a, "LARGER") ? SEARCH_LARGER : SEARCH_SMALLER;
        if (parse_number64(pc, n, 0) < 0)
            goto bad;
    } else if (keyword_is(&a, "OLDER") || keyword_is(&a, "YOUNGER")) {
        n->kind = keyword_is(&a, "OLDER") ? SEARCH_OLDER : SEARCH_YOUNGER;
        if (parse_number64(pc, n, 1) < 0)
            goto bad;
    } else if (keyword_is(&a, "UID")) {
        n->kind = SEARCH_UIDSET;
        n->slot = pc->nslots++;
        if (arg_sp(pc, "Missing UID set") < 0 || parse_set(pc, n) < 0)
            goto bad;
    } else if (keyword_is(&a, "MODSEQ")) {
        n->kind = SEARCH_MODSEQ;
        if (parse_modseq(pc, n) < 0)
            goto bad;
    } else if (keyword_is(&a, "HEADER")) {
        n->kind = SEARCH_HEADER;
        if (parse_header_key(pc, n) < 0)
            goto bad;
    } else if (keyword_is(&a, "BODY") || keyword_is(&a, "TEXT")) {
        n->kind = keyword_is(&a, "BODY") ? SEARCH_BODY : SEARCH_TEXT;
        n->cost = SEARCH_COST_BODY;
        if (parse_needle(pc, n) < 0)
            goto bad;
    } else {
        search_node_free(&n);
        return fail(pc, "Unknown search key");
    }
    *node_r = n;
    return 0;

with_arg:
    if (parse_needle(pc, n) < 0)
        goto bad;
    *node_r = n;
    return 0;

bad:
    search_node_free(&n);
    return -1;
}

/* Put cheaper children of AND first (stable), and the cheaper side of
 * OR first, so evaluation stops before it reads files when it can. */
static void
order_by_cost(struct search_node *n)
{
    size_t i, j;

    for (i = 0; i < n->nchild; i++)
        order_by_cost(n->child[i]);
    for (i = 1; i < n->nchild; i++) {
        struct search_node *c = n->child[i];

        for (j = i; j > 0 && n->child[j - 1]->cost > c->cost; j--)
            n->child[j] = n->child[j - 1];
        n->child[j] = c;
    }
}

/* [SP "RETURN" SP "(" [opt *(SP opt)] ")"] */
static int
parse_return(struct parse_ctx *pc, struct search_return *ret)
{
    struct imaptok_span a;

    ret->esearch = 1;
    if (imaptok_sp(pc->t) < 0 || imaptok_lparen(pc->t) < 0)
        return fail(pc, "Invalid RETURN options");
    while (imaptok_peek(pc->t) != ')') {
        if (ret->options != 0 && imaptok_sp(pc->t) < 0)
            return fail(pc, "Invalid RETURN options");
        if (imaptok_atom(pc->t, &a) < 0)
            return fail(pc, "Invalid RETURN options");
        if (keyword_is(&a, "MIN"))
            ret->options |= SEARCH_RETURN_MIN;
        else if (keyword_is(&a, "MAX"))
            ret->options |= SEARCH_RETURN_MAX;
        else if (keyword_is(&a, "ALL"))
            ret->options |= SEARCH_RETURN_ALL;
        else if (keyword_is(&a, "COUNT"))
            ret->options |= SEARCH_RETURN_COUNT;
        else
            return fail(pc, "Unknown RETURN option");
    }
    imaptok_rparen(pc->t);
    /* RFC 4731 3.1: "RETURN ()" is the same as "RETURN (ALL)" */
    if (ret->options == 0)
        ret->options = SEARCH_RETURN_ALL;
    return 0;
}

static int
parse_charset(struct parse_ctx *pc)
{
    struct buf probe = BUF_INITIALIZER;
    const char *cs;
    int r;

    if (imaptok_sp(pc->t) < 0 || imaptok_astring(pc->t, &pc->str) < 0)
        return fail(pc, "Missing charset name");
    cs = buf_cstring(&pc->str);
    if (strcasecmp(cs, "US-ASCII") == 0 || strcasecmp(cs, "UTF-8") == 0)
        return 0;
    r = charset_to_utf8(cs, "a", 1, &probe);
    buf_free(&probe);
    if (r < 0) {
        pc->err = ERR_BADCHARSET;
        pc->reason = "Unknown charset";
        return -1;
    }
    pc->charset = xstrdup(cs);
    return 0;
}

/* 1*(SP search-key) and the end of the command, into a new program. */
static int
parse_keys(struct parse_ctx *pc, const struct search_return *ret,
           struct search_program **prog_r)
{
    struct search_node *root = node_new(SEARCH_AND, SEARCH_COST_RECORD);
    struct search_program *prog;
    struct imaptok *t = pc->t;

    for (;;) {
        struct search_node *child = NULL;

        if (arg_sp(pc, "Missing search key") < 0
            || parse_key(pc, 1, &child) < 0) {
            search_node_free(&root);
            return -1;
        }
        node_add_child(root, child);
        if (imaptok_at_end(t))
            break;
        if (imaptok_peek(t) != ' ') {
            search_node_free(&root);
            return fail(pc, imaptok_peek(t) == ')' ? "Unexpected ) in search"
                                                   : "Junk after search key");
        }
    }
    if (imaptok_end(t) < 0) {
        search_node_free(&root);
        return fail(pc, "Junk after search");
    }
    order_by_cost(root);
    prog = xzmalloc(sizeof(*prog));
    prog->root = root;
    prog->nslots = pc->nslots;
    prog->ret = *ret;
    prog->ret.modseq = pc->modseq;
    *prog_r = prog;
    return 0;
}

/* Release the context; on failure report its error. */
static int
parse_finish(struct parse_ctx *pc, int r, const char **error_r)
{
    buf_free(&pc->str);
    buf_free(&pc->utf8);
    free((char *)pc->charset);
    if (r == 0)
        return 0;
    if (error_r)
        *error_r = pc->reason;
    return pc->err ? pc->err : ERR_SYNTAX;
}

/* If the next token (after a space) is word, consume both. */
static int
take_keyword(struct imaptok *t, const char *word)
{
    struct imaptok probe = *t;

    if (imaptok_sp(&probe) < 0 || !imaptok_peek_keyword(&probe, word))
        return 0;
    *t = probe;
    imaptok_keyword(t, word);
    return 1;
}

int
search_parse(struct imaptok *t, int uid_command, struct search_program **prog_r,
             struct search_return *ret_r, const char **error_r)
{
    struct parse_ctx pc;
    struct search_return ret;
    int r = 0;

    memset(&pc, 0, sizeof(pc));
    memset(&ret, 0, sizeof(ret));
    pc.t = t;
    ret.uid = uid_command != 0;
    /* RETURN and CHARSET are no search keys, so peeking is unambiguous */
    if (take_keyword(t, "RETURN"))
        r = parse_return(&pc, &ret);
    if (r == 0 && take_keyword(t, "CHARSET"))
        r = parse_charset(&pc);
    if (r == 0)
        r = parse_keys(&pc, &ret, prog_r);
    if (r == 0)
        *ret_r = (*prog_r)->ret;
    return parse_finish(&pc, r, error_r);
}

int
search_parse_return(struct imaptok *t, struct search_return *ret,
                    const char **error_r)
{
    struct parse_ctx pc;
    int r = 0;

    memset(&pc, 0, sizeof(pc));
    pc.t = t;
    if (take_keyword(t, "RETURN"))
        r = parse_return(&pc, ret);
    return parse_finish(&pc, r, error_r);
}

int
search_parse_charset_keys(struct imaptok *t, const struct search_return *ret,
                          struct search_program **prog_r, const char **error_r)
{
    struct parse_ctx pc;
    int r;

    memset(&pc, 0, sizeof(pc));
    pc.t = t;
    r = parse_charset(&pc);
    if (r == 0)
        r = parse_keys(&pc, ret, prog_r);
    return parse_finish(&pc, r, error_r);
}
