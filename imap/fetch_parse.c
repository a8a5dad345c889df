/* fetch_parse.c: the arguments of FETCH / UID FETCH (see fetch.h). */
#include <string.h>

#include "errors.h"
#include "fetch.h"
#include "util.h"
#include "xmalloc.h"

/* Simple attributes: name, bits. */
static const struct {
    const char *name;
    unsigned items;
} simple_atts[] = {
    {"FLAGS",            FETCH_FLAGS                      },
    {"UID",              FETCH_UID                        },
    {"INTERNALDATE",     FETCH_INTERNALDATE               },
    {"MODSEQ",           FETCH_MODSEQ                     },
    {"RFC822.SIZE",      FETCH_SIZE                       },
    {"ENVELOPE",         FETCH_ENVELOPE                   },
    {"BODYSTRUCTURE",    FETCH_BODYSTRUCTURE              },
    {"BODY",             FETCH_BODY                       },
    {"RFC822",           FETCH_RFC822 | FETCH_SETSEEN     },
    {"RFC822.PEEK",      FETCH_RFC822                     },
    {"RFC822.HEADER",    FETCH_RFC822_HEADER              },
    {"RFC822.TEXT",      FETCH_RFC822_TEXT | FETCH_SETSEEN},
    {"RFC822.TEXT.PEEK", FETCH_RFC822_TEXT                },
    {"SAVEDATE",         FETCH_SAVEDATE                   },
    {"EMAILID",          FETCH_EMAILID                    },
    {"THREADID",         FETCH_THREADID                   },
    {"DIGEST.SHA1",      FETCH_DIGEST_SHA1                },
};

void
fetch_args_fini(struct fetch_args *args)
{
    size_t i;

    seqset_free(&args->set);
    for (i = 0; i < args->nsections; i++) {
        free(args->sections[i].name);
        free(args->sections[i].parts);
        strarray_fini(&args->sections[i].fields);
    }
    free(args->sections);
    memset(args, 0, sizeof(*args));
}

static struct fetch_section *
new_section(struct fetch_args *args, enum fetch_section_kind kind)
{
    struct fetch_section *s;

    args->sections = xreallocarray(args->sections, args->nsections + 1,
                                   sizeof(*args->sections));
    s = &args->sections[args->nsections++];
    memset(s, 0, sizeof(*s));
    s->kind = kind;
    return s;
}

/* Does p[0..len) at *off start with word (already upper case)? */
static int
eat_word(const char *p, size_t len, size_t *off, const char *word)
{
    size_t n = strlen(word);

    if (len - *off < n || memcmp(p + *off, word, n) != 0)
        return 0;
    *off += n;
    return 1;
}

/* Check and split an upper-cased section name: nz-number *("." nz-number)
 * then, after a ".", HEADER / TEXT / MIME / HEADER.FIELDS[.NOT]; or one of
 * HEADER / TEXT / HEADER.FIELDS[.NOT] alone; or nothing. BINARY sections
 * take part numbers only. */
static int
split_section(struct fetch_section *s, int binary)
{
    const char *p = s->name;
    size_t len = strlen(p), off = 0;
    uint32_t nums[FETCH_MAX_PART_DEPTH];
    size_t n = 0;

    while (off < len && p[off] >= '1' && p[off] <= '9') {
        uint64_t v = 0;

        while (off < len && p[off] >= '0' && p[off] <= '9') {
            v = v * 10 + (uint64_t)(p[off++] - '0');
            if (v > UINT32_MAX)
                return -1;
        }
        if (n == FETCH_MAX_PART_DEPTH)
            return -1;
        nums[n++] = (uint32_t)v;
        if (off == len)
            break;
        if (p[off++] != '.' || off == len)
            return -1;
    }
    s->text = FETCH_TEXT_NONE;
    if (off < len) {
        if (binary)
            return -1;
        if (eat_word(p, len, &off, "HEADER.FIELDS.NOT"))
            s->text = FETCH_TEXT_FIELDS_NOT;
        else if (eat_word(p, len, &off, "HEADER.FIELDS"))
            s->text = FETCH_TEXT_FIELDS;
        else if (eat_word(p, len, &off, "HEADER"))
            s->text = FETCH_TEXT_HEADER;
        else if (eat_word(p, len, &off, "TEXT"))
            s->text = FETCH_TEXT_TEXT;
        else if (n > 0 && eat_word(p, len, &off, "MIME"))
            s->text = FETCH_TEXT_MIME;
        if (s->text == FETCH_TEXT_NONE || off != len)
            return -1;
    }
    if (n > 0) {
        s->parts = xmemdup(nums, n * sizeof(nums[0]));
        s->nparts = n;
    }
    return 0;
}

/* "<" number "." nz-number ">" after the closing bracket, if present. */
static int
parse_partial(struct imaptok *t, struct fetch_section *s)
{
    if (imaptok_peek(t) != '<')
        return 0;
    if (imaptok_char(t, '<') < 0 || imaptok_number(t, &s->start) < 0
        || imaptok_char(t, '.') < 0 || imaptok_nz_number(t, &s->count) < 0
        || imaptok_char(t, '>') < 0)
        return imaptok_fail(t, "Invalid body partial");
    s->partial = 1;
    return 0;
}

/* A valid header field name (RFC 5322 ftext), as Cyrus checks it. */
static int
field_name_ok(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c <= ' ' || c >= 0x7f || c == ':')
            return 0;
    }
    return 1;
}

/* After "BODY[", "BODY.PEEK[", "BINARY[", ...: the section up to and
 * including "]" and an optional partial. */
static int
parse_section(struct imaptok *t, struct fetch_args *args,
              enum fetch_section_kind kind)
{
    struct fetch_section *s;
    struct imaptok_span spec = {"", 0};
    size_t i;

    if (imaptok_peek(t) != ']' && imaptok_atom(t, &spec) < 0)
        return imaptok_fail(t, "Invalid body section");
    s = new_section(args, kind);
    s->name = xstrndup(spec.p, spec.len);
    util_ucase(s->name);
    if (split_section(s, kind != FETCH_SECTION_BODY) < 0)
        return imaptok_fail(t, kind == FETCH_SECTION_BODY
                                   ? "Invalid body section"
                                   : "Invalid binary section");
    if (s->text == FETCH_TEXT_FIELDS || s->text == FETCH_TEXT_FIELDS_NOT) {
        s->kind = FETCH_SECTION_FIELDS;
        if (imaptok_sp(t) < 0 || imaptok_astring_list(t, &s->fields) < 0
            || s->fields.count == 0)
            return imaptok_fail(t, "Invalid header field list");
        for (i = 0; i < s->fields.count; i++) {
            if (!field_name_ok(s->fields.data[i]))
                return imaptok_fail(t, "Invalid field-name");
        }
    }
    if (imaptok_char(t, ']') < 0)
        return imaptok_fail(t, "Missing required close bracket");
    if (kind == FETCH_SECTION_BINARY_SIZE)
        return 0;
    return parse_partial(t, s);
}

/* One fetch-att, or a macro when allowed. */
static int
parse_att(struct imaptok *t, struct fetch_args *args, int inlist)
{
    struct imaptok_span a;
    char name[32];
    size_t i;

    if (imaptok_atom_ex(t, IMAPTOK_ATOM_STOP_LBRACKET, &a) < 0)
        return imaptok_fail(t, "Invalid fetch attribute");
    if (a.len >= sizeof(name))
        return imaptok_fail(t, "Invalid fetch attribute");
    memcpy(name, a.p, a.len);
    name[a.len] = '\0';
    util_ucase(name);
    if (imaptok_peek(t) == '[') {
        enum fetch_section_kind kind;

        if (strcmp(name, "BODY") == 0) {
            kind = FETCH_SECTION_BODY;
            args->items |= FETCH_SETSEEN;
        } else if (strcmp(name, "BODY.PEEK") == 0) {
            kind = FETCH_SECTION_BODY;
        } else if (strcmp(name, "BINARY") == 0) {
            kind = FETCH_SECTION_BINARY;
            args->items |= FETCH_SETSEEN;
        } else if (strcmp(name, "BINARY.PEEK") == 0) {
            kind = FETCH_SECTION_BINARY;
        } else if (strcmp(name, "BINARY.SIZE") == 0) {
            kind = FETCH_SECTION_BINARY_SIZE;
        } else {
            return imaptok_fail(t, "Invalid fetch attribute");
        }
        imaptok_char(t, '[');
        return parse_section(t, args, kind);
    }
    if (!inlist) {
        if (strcmp(name, "ALL") == 0) {
            args->items |= FETCH_ALL;
            return 0;
        }
        if (strcmp(name, "FAST") == 0) {
            args->items |= FETCH_FAST;
            return 0;
        }
        if (strcmp(name, "FULL") == 0) {
            args->items |= FETCH_FULL;
            return 0;
        }
    }
    for (i = 0; i < ARRAY_SIZE(simple_atts); i++) {
        if (strcmp(name, simple_atts[i].name) == 0) {
            args->items |= simple_atts[i].items;
            return 0;
        }
    }
    return imaptok_fail(t, "Invalid fetch attribute");
}

/* " (CHANGEDSINCE n VANISHED)" */
static int
parse_modifiers(struct imaptok *t, struct fetch_args *args)
{
    if (imaptok_lparen(t) < 0)
        return imaptok_fail(t,
                            "Missing required open parenthesis in modifiers");
    for (;;) {
        if (imaptok_peek_keyword(t, "CHANGEDSINCE")) {
            imaptok_keyword(t, "CHANGEDSINCE");
            if (imaptok_sp(t) < 0
                || imaptok_number64(t, &args->changedsince) < 0)
                return imaptok_fail(t, "Invalid argument to CHANGEDSINCE");
            args->has_changedsince = 1;
            args->items |= FETCH_MODSEQ;
        } else if (imaptok_peek_keyword(t, "VANISHED")) {
            imaptok_keyword(t, "VANISHED");
            args->vanished = 1;
        } else {
            return imaptok_fail(t, "Invalid fetch modifier");
        }
        if (imaptok_peek(t) != ' ')
            break;
        imaptok_sp(t);
    }
    if (imaptok_rparen(t) < 0)
        return imaptok_fail(t,
                            "Missing required close parenthesis in modifiers");
    /* RFC 7162 3.2.6: VANISHED needs CHANGEDSINCE and UID FETCH */
    if (args->vanished && (!args->has_changedsince || !args->uid))
        return imaptok_fail(t, "VANISHED requires UID FETCH and CHANGEDSINCE");
    return 0;
}

int
fetch_parse(struct imaptok *t, int uid_command, struct fetch_args *args,
            const char **error_r)
{
    int r;

    memset(args, 0, sizeof(*args));
    args->uid = uid_command;
    if (imaptok_seqset(t, &args->set) < 0 || imaptok_sp(t) < 0)
        goto bad;
    if (imaptok_peek(t) == '(') {
        imaptok_lparen(t);
        for (;;) {
            if (parse_att(t, args, 1) < 0)
                goto bad;
            if (imaptok_peek(t) != ' ')
                break;
            imaptok_sp(t);
        }
        if (imaptok_rparen(t) < 0) {
            imaptok_fail(t, "Missing close parenthesis in FETCH");
            goto bad;
        }
    } else if (parse_att(t, args, 0) < 0) {
        goto bad;
    }
    if (imaptok_peek(t) == ' ') {
        imaptok_sp(t);
        if (parse_modifiers(t, args) < 0)
            goto bad;
    }
    if (imaptok_end(t) < 0)
        goto bad;
    if (uid_command)
        args->items |= FETCH_UID;
    return 0;
bad:
    r = ERR_SYNTAX;
    if (error_r)
        *error_r = imaptok_error(t);
    return r;
}
