/* config.c: the imapd.conf reader (syntax as Cyrus lib/libconfig.c, see
 * CONFIG.md section 1) and the typed option table of config_options.def.
 *
 * Loading runs in two passes. The line pass checks syntax, types and
 * duplicates of every line (so a file is rejected the same way whichever
 * service reads it) and records raw text: generic lines, lines in the form
 * of this process's service, and unknown keys (the overflow table). The
 * final pass picks service form > generic > default for each option and
 * converts it once; getters then only read. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "hash.h"
#include "log.h"
#include "strarray.h"
#include "util.h"
#include "xmalloc.h"

/* The one process-wide pointer (STYLE.md rule 7); set by each main(). */
const struct config *config = NULL;

#define CONFIG_DEFAULT_PATH "/etc/imapd.conf"
#define CONFIG_DIR_TOKEN    "{configdirectory}"
/* imapd.conf files are a few kilobytes; anything this big is a mistake
 * (or /dev/zero) and is refused rather than read into memory. */
#define CONFIG_MAX_FILE (8 * 1024 * 1024)
/* Includes cannot loop (a file included twice is an error) but a long
 * chain of distinct files still costs stack. */
#define CONFIG_MAX_DEPTH 16

struct option_def {
    const char *name;
    enum config_type type;
    const char *def;
    const char *unit;
    const char *allowed;
    const char *doc;
};

static const struct option_def option_defs[CFG__COUNT] = {
#define CONFIG_OPTION(id, name, type, def, unit, allowed, doc) \
    {name, type, def, unit, allowed, doc},
#include "config_options.def"
#undef CONFIG_OPTION
};

/* A converted value. STRING/ENUM/STRINGLIST use str, SWITCH/INT/DURATION
 * num, BYTESIZE size, BITFIELD bits. */
struct value {
    char *str;
    long num;
    int64_t size;
    unsigned long bits;
};

struct slot {
    char *generic;  /* text of `name: ...`, or NULL */
    char *specific; /* text of `S_name: ...` for our service S, or NULL */
    unsigned char generic_old, specific_old; /* set through an old name */
    struct value val;
};

/* Old names Cyrus still accepts for renamed options ("deprecated in favor
 * of" in imapoptions). A line with an old name sets the option unless the
 * new name is given too, which wins; a warning names the new one. */
static const struct {
    const char *old;
    enum config_option opt;
} option_aliases[] = {
    {"quotawarn",        CFG_QUOTAWARNPERCENT    },
    {"tls_ca_file",      CFG_TLS_CLIENT_CA_FILE  },
    {"tls_ca_path",      CFG_TLS_CLIENT_CA_DIR   },
    {"tls_cert_file",    CFG_TLS_SERVER_CERT     },
    {"tls_cipher_list",  CFG_TLS_CIPHERS         },
    {"tls_key_file",     CFG_TLS_SERVER_KEY      },
    {"tlscache_db",      CFG_TLS_SESSIONS_DB     },
    {"tlscache_db_path", CFG_TLS_SESSIONS_DB_PATH},
};

struct config {
    char *filename;
    char *service; /* lowercased, or NULL */
    struct slot slots[CFG__COUNT];
    struct hash *overflow;    /* unknown key -> value (char *) */
    struct hash *seen;        /* every key given -> "file:line" (char *) */
    struct strarray includes; /* canonical paths of files read */
    struct strarray warnings;
};

/* State of one load: the config being built and the first error. */
struct loader {
    struct config *c;
    struct buf err;
};

/* ---------------------------------------------------------------------
 * Value conversion: pure functions of (option, text). On error they
 * append the reason to why and return -1. */

static int
is_blank(char ch)
{
    /* isspace() in the C locale, without the locale */
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f'
           || ch == '\v';
}

static int
is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

static char
lower(char ch)
{
    return (ch >= 'A' && ch <= 'Z') ? (char)(ch + ('a' - 'A')) : ch;
}

/* Cyrus decides on the first character ("yes", "y", "true", "1", "on"
 * are true; "no", "false", "0", "off" false); case is ignored here. */
static int
parse_switch(const char *s, long *val_r)
{
    char c0 = lower(s[0]), c1 = c0 ? lower(s[1]) : '\0';

    if (c0 == '0' || c0 == 'n' || c0 == 'f' || (c0 == 'o' && c1 == 'f')) {
        *val_r = 0;
        return 0;
    }
    if (c0 == '1' || c0 == 'y' || c0 == 't' || (c0 == 'o' && c1 == 'n')) {
        *val_r = 1;
        return 0;
    }
    return -1;
}

/* Index of word (p, len) among the space-separated allowed values, or
 * -1. The canonical spelling is returned in *canon_r / *canon_len_r. */
static long
allowed_index(const char *allowed, const char *p, size_t len,
              const char **canon_r, size_t *canon_len_r)
{
    const char *a = allowed;
    long idx = 0;

    while (*a) {
        size_t n;

        while (*a == ' ')
            a++;
        if (*a == '\0')
            break;
        n = strcspn(a, " ");
        if (n == len && util_strncasecmp(a, p, len) == 0) {
            *canon_r = a;
            *canon_len_r = n;
            return idx;
        }
        a += n;
        idx++;
    }
    return -1;
}

static int
allowed_has(const char *allowed, const char *word)
{
    const char *canon;
    size_t n;

    return allowed_index(allowed, word, strlen(word), &canon, &n) >= 0;
}

/* ENUM and STRINGLIST take the whole value as one word. For enums with
 * on/off values, the switch spellings Cyrus accepts are mapped first. */
static int
parse_enum(const struct option_def *d, const char *s, struct value *v,
           struct buf *why)
{
    const char *canon;
    size_t n;

    if (d->type == CFG_ENUM && allowed_has(d->allowed, "on")
        && allowed_has(d->allowed, "off")) {
        static const char *const on[] = {"1", "yes", "t", "true", "y"};
        static const char *const off[] = {"0", "no", "f", "false", "n"};
        size_t i;

        for (i = 0; i < ARRAY_SIZE(on); i++) {
            if (util_strcasecmp(s, on[i]) == 0)
                s = "on";
            else if (util_strcasecmp(s, off[i]) == 0)
                s = "off";
        }
    }
    if (allowed_index(d->allowed, s, strlen(s), &canon, &n) < 0) {
        buf_printf(why, "expected one of: %s", d->allowed);
        return -1;
    }
    if (v)
        v->str = xstrndup(canon, n);
    return 0;
}

static int
parse_bitfield(const struct option_def *d, const char *s, struct value *v,
               struct buf *why)
{
    unsigned long bits = 0;

    for (;;) {
        const char *canon;
        size_t len, n;
        long idx;

        while (is_blank(*s))
            s++;
        if (*s == '\0')
            break;
        for (len = 0; s[len] && !is_blank(s[len]); len++)
            ;
        idx = allowed_index(d->allowed, s, len, &canon, &n);
        if (idx < 0) {
            buf_printf(why, "'%.*s' is not one of: %s", (int)len, s,
                       d->allowed);
            return -1;
        }
        ASSERT(idx < (long)(sizeof(bits) * CHAR_BIT));
        bits |= 1UL << idx;
        s += len;
    }
    if (v)
        v->bits = bits;
    return 0;
}

/* [-][Nd][Nh][Nm][Ns] in any order and repetition, as Cyrus
 * config_parseduration(); trailing digits take the option's unit. */
static int
parse_duration(const char *s, const char *unit, long *val_r, struct buf *why)
{
    long total = 0, acc = 0;
    int neg = 0, digits = 0;
    char defunit = unit ? unit[0] : 's';

    if (*s == '-') {
        neg = 1;
        s++;
    }
    if (*s == '\0')
        goto bad;
    for (;; s++) {
        long mult;
        char u;

        if (is_digit(*s)) {
            int d = *s - '0';

            if (acc > (LONG_MAX - d) / 10)
                goto toobig;
            acc = acc * 10 + d;
            digits = 1;
            continue;
        }
        if (*s == '\0' && !digits)
            break;
        if (!digits)
            goto bad;
        u = *s ? lower(*s) : defunit;
        switch (u) {
        case 'd':
            mult = 86400;
            break;
        case 'h':
            mult = 3600;
            break;
        case 'm':
            mult = 60;
            break;
        case 's':
            mult = 1;
            break;
        default:
            goto bad;
        }
        if (acc > LONG_MAX / mult || total > LONG_MAX - acc * mult)
            goto toobig;
        total += acc * mult;
        acc = 0;
        digits = 0;
        if (*s == '\0')
            break;
    }
    *val_r = neg && total > 0 ? -1 : total;
    return 0;
bad:
    buf_appendcstr(why, "expected a duration like 1h30m or 45s");
    return -1;
toobig:
    buf_appendcstr(why, "duration too large");
    return -1;
}

/* N[ ][B|K|M|G][i][B] (x1024 each); a bare number is in the option's
 * unit. As Cyrus config_parsebytesize(), case does not matter. */
static int
parse_bytesize(const char *s, const char *unit, int64_t *val_r, struct buf *why)
{
    int64_t n = 0, mult;
    int neg = 0;
    const char *p = s;
    char u;

    if (*p == '-') {
        neg = 1;
        p++;
    }
    if (!is_digit(*p))
        goto bad;
    for (; is_digit(*p); p++) {
        int d = *p - '0';

        if (n > (INT64_MAX - d) / 10)
            goto toobig;
        n = n * 10 + d;
    }
    while (is_blank(*p))
        p++;
    u = *p ? lower(*p) : lower(unit ? unit[0] : 'b');
    switch (u) {
    case 'g':
        mult = (int64_t)1 << 30;
        break;
    case 'm':
        mult = (int64_t)1 << 20;
        break;
    case 'k':
        mult = (int64_t)1 << 10;
        break;
    case 'b':
        mult = 1;
        break;
    default:
        goto bad;
    }
    if (*p) {
        p++;
        if (u != 'b' && lower(*p) == 'i')
            p++;
        if (u != 'b' && lower(*p) == 'b')
            p++;
        if (*p)
            goto bad;
    }
    if (neg) {
        *val_r = n > 0 ? -1 : 0;
        return 0;
    }
    if (n > INT64_MAX / mult)
        goto toobig;
    *val_r = n * mult;
    return 0;
bad:
    buf_appendcstr(why, "expected a size like 512, 100K, 10M or 2G");
    return -1;
toobig:
    buf_appendcstr(why, "size too large");
    return -1;
}

/* Check text s for option d; when v is not NULL also store the result
 * (STRING: a copy of s, substitution happens in the final pass). */
static int
parse_value(const struct option_def *d, const char *s, struct value *v,
            struct buf *why)
{
    long num = 0;
    int64_t size = 0;

    switch (d->type) {
    case CFG_STRING:
        if (v)
            v->str = xstrdup(s);
        return 0;
    case CFG_INT:
        if (util_parse_long(s, &num) < 0) {
            buf_appendcstr(why, "expected an integer");
            return -1;
        }
        break;
    case CFG_SWITCH:
        if (parse_switch(s, &num) < 0) {
            buf_appendcstr(why, "expected yes/no, on/off, true/false or 1/0");
            return -1;
        }
        break;
    case CFG_ENUM:
    case CFG_STRINGLIST:
        return parse_enum(d, s, v, why);
    case CFG_BITFIELD:
        return parse_bitfield(d, s, v, why);
    case CFG_DURATION:
        if (parse_duration(s, d->unit, &num, why) < 0)
            return -1;
        break;
    case CFG_BYTESIZE:
        if (parse_bytesize(s, d->unit, &size, why) < 0)
            return -1;
        break;
    }
    if (v) {
        v->num = num;
        v->size = size;
    }
    return 0;
}

/* ---------------------------------------------------------------------
 * Option names. */

int
config_option_lookup(const char *name)
{
    int i;

    for (i = 0; i < CFG__COUNT; i++) {
        if (option_defs[i].name[0] == name[0]
            && strcmp(option_defs[i].name, name) == 0)
            return i;
    }
    return -1;
}

/* Unknown keys that are expected (partitions, SASL, per-host
 * credentials) are not warned about. key may be in service form. */
static int
key_pattern_ok(const char *key)
{
    static const char *const prefixes[] = {"partition-", "metapartition-",
                                           "archivepartition-", "sasl_"};
    static const char *const suffixes[] = {"_password", "_mechs",
                                           "_client_cert", "_client_key",
                                           "_imap_addr", "_pop3_addr",
                                           "_lmtp_addr", "_weight"};
    size_t len = strlen(key), i;
    const char *u = strchr(key, '_');

    for (i = 0; i < ARRAY_SIZE(prefixes); i++) {
        size_t n = strlen(prefixes[i]);

        if (strncmp(key, prefixes[i], n) == 0
            || (u && strncmp(u + 1, prefixes[i], n) == 0))
            return 1;
    }
    for (i = 0; i < ARRAY_SIZE(suffixes); i++) {
        size_t n = strlen(suffixes[i]);

        if (len > n && strcmp(key + len - n, suffixes[i]) == 0)
            return 1;
    }
    return 0;
}

/* ---------------------------------------------------------------------
 * The line pass. */

static int parse_text(struct loader *ld, const char *text, size_t len,
                      const char *name, int depth);

static int fail(struct loader *ld, const char *name, unsigned line,
                const char *fmt, ...) ATTR_FORMAT(4, 5);

static int
fail(struct loader *ld, const char *name, unsigned line, const char *fmt, ...)
{
    va_list ap;

    buf_reset(&ld->err);
    if (line)
        buf_printf(&ld->err, "%s:%u: ", name, line);
    else
        buf_printf(&ld->err, "%s: ", name);
    va_start(ap, fmt);
    buf_vprintf(&ld->err, fmt, ap);
    va_end(ap);
    return -1;
}

/* Read a regular file of at most CONFIG_MAX_FILE bytes into out.
 * 0, or -1 with errno. */
static int
read_file(const char *path, struct buf *out)
{
    char chunk[16384];
    struct stat st;
    int fd, saved;
    ssize_t n;

    /* O_NONBLOCK: opening a FIFO must not hang; it is refused below */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) < 0)
        goto err;
    if (!S_ISREG(st.st_mode)) {
        errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        goto err;
    }
    if (st.st_size > CONFIG_MAX_FILE) {
        errno = EFBIG;
        goto err;
    }
    buf_reset(out);
    for (;;) {
        n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto err;
        if (n == 0)
            break;
        if (buf_len(out) + (size_t)n > CONFIG_MAX_FILE) {
            errno = EFBIG;
            goto err;
        }
        buf_appendmap(out, chunk, (size_t)n);
    }
    close(fd);
    return 0;
err:
    saved = errno;
    close(fd);
    errno = saved;
    return -1;
}

/* Record path as read; -1 if it was read before. Paths that cannot be
 * resolved (text loaded from memory) are not recorded. */
static int
note_include(struct config *c, const char *path)
{
    char *canon = realpath(path, NULL);

    if (canon == NULL)
        return 0;
    if (strarray_find(&c->includes, canon) >= 0) {
        free(canon);
        return -1;
    }
    strarray_appendm(&c->includes, canon);
    return 0;
}

static int
do_include(struct loader *ld, const char *arg, const char *name, unsigned line,
           int depth)
{
    struct buf path = BUF_INITIALIZER, text = BUF_INITIALIZER;
    const char *slash = strrchr(name, '/');
    int r;

    if (arg[0] != '/' && slash != NULL)
        buf_appendmap(&path, name, (size_t)(slash - name) + 1);
    buf_appendcstr(&path, arg);
    if (depth >= CONFIG_MAX_DEPTH) {
        r = fail(ld, name, line, "@include: %s: nested too deeply", arg);
    } else if (read_file(buf_cstring(&path), &text) < 0) {
        r = fail(ld, name, line, "@include: cannot read %s: %s",
                 buf_cstring(&path), strerror(errno));
    } else if (note_include(ld->c, buf_cstring(&path)) < 0) {
        r = fail(ld, name, line, "@include: config file %s included twice",
                 buf_cstring(&path));
    } else {
        r = parse_text(ld, buf_base(&text), buf_len(&text), buf_cstring(&path),
                       depth + 1);
    }
    buf_free(&text);
    buf_free(&path);
    return r;
}

/* The option called name, by its name or an old one (*old_r set). */
static int
find_option(const char *name, int *old_r)
{
    int opt = config_option_lookup(name);
    size_t i;

    *old_r = 0;
    if (opt >= 0)
        return opt;
    for (i = 0; i < ARRAY_SIZE(option_aliases); i++) {
        if (strcmp(option_aliases[i].old, name) == 0) {
            *old_r = 1;
            return (int)option_aliases[i].opt;
        }
    }
    return -1;
}

/* Which option a key names: exact match (generic form, *svc_len_r = 0),
 * else `S_option` split at the first `_` whose rest is an option. */
static int
resolve_key(const char *key, size_t *svc_len_r, int *old_r)
{
    const char *u;
    int opt = find_option(key, old_r);

    *svc_len_r = 0;
    if (opt >= 0)
        return opt;
    for (u = strchr(key, '_'); u; u = strchr(u + 1, '_')) {
        if (u == key || u[1] == '\0')
            continue;
        opt = find_option(u + 1, old_r);
        if (opt >= 0) {
            *svc_len_r = (size_t)(u - key);
            return opt;
        }
    }
    return -1;
}

/* Set *field to value unless the value there came through the new name
 * and this one through an old name. */
static void
store_value(char **field, unsigned char *old_flag, const char *value, int old)
{
    if (*field != NULL) {
        if (old)
            return;
        free(*field);
    }
    *field = xstrdup(value);
    *old_flag = (unsigned char)old;
}

static void add_warning(struct config *c, const char *name, unsigned line,
                        const char *fmt, ...) ATTR_FORMAT(4, 5);

static void
add_warning(struct config *c, const char *name, unsigned line, const char *fmt,
            ...)
{
    struct buf w = BUF_INITIALIZER;
    va_list ap;

    buf_printf(&w, "%s:%u: ", name, line);
    va_start(ap, fmt);
    buf_vprintf(&w, fmt, ap);
    va_end(ap);
    strarray_appendm(&c->warnings, buf_release(&w));
}

/* One logical line (continuations joined), NUL-terminated and writable. */
static int
parse_line(struct loader *ld, char *p, const char *name, unsigned line,
           int depth)
{
    struct config *c = ld->c;
    struct buf why = BUF_INITIALIZER;
    char *key, *value, *end, *where;
    size_t svc_len;
    int opt, old;

    while (is_blank(*p))
        p++;
    if (*p == '\0' || *p == '#')
        return 0;
    key = p;
    if (*p == '@')
        p++;
    for (; *p
           && (is_digit(*p) || (lower(*p) >= 'a' && lower(*p) <= 'z')
               || *p == '-' || *p == '_');
         p++)
        *p = lower(*p);
    if (*p != ':' || p == key || (p == key + 1 && *key == '@'))
        return fail(ld, name, line, "invalid option name on line %u", line);
    *p++ = '\0';
    while (is_blank(*p))
        p++;
    value = p;
    for (end = p + strlen(p); end > value && is_blank(end[-1]); end--)
        ;
    *end = '\0';
    if (*value == '\0')
        return fail(ld, name, line, "empty option value for %s on line %u", key,
                    line);

    if (strcmp(key, "@include") == 0)
        return do_include(ld, value, name, line, depth);

    where = hash_lookup(c->seen, key);
    if (where != NULL) {
        return fail(ld, name, line, "option '%s' specified twice (first at %s)",
                    key, where);
    }
    {
        struct buf w = BUF_INITIALIZER;

        buf_printf(&w, "%s:%u", name, line);
        hash_insert(c->seen, key, buf_release(&w));
    }

    opt = resolve_key(key, &svc_len, &old);
    if (opt < 0) {
        hash_insert(c->overflow, key, xstrdup(value));
        if (!key_pattern_ok(key))
            add_warning(c, name, line, "unknown option '%s'", key);
        return 0;
    }
    if (old) {
        add_warning(c, name, line, "option '%s' is deprecated, use '%s'", key,
                    option_defs[opt].name);
    }
    if (parse_value(&option_defs[opt], value, NULL, &why) < 0) {
        fail(ld, name, line, "invalid value '%s' for option '%s': %s", value,
             key, buf_cstring(&why));
        buf_free(&why);
        return -1;
    }
    if (svc_len == 0) {
        store_value(&c->slots[opt].generic, &c->slots[opt].generic_old, value,
                    old);
    } else if (c->service && strlen(c->service) == svc_len
               && strncmp(c->service, key, svc_len) == 0) {
        store_value(&c->slots[opt].specific, &c->slots[opt].specific_old, value,
                    old);
    }
    /* other services' forms were checked and are otherwise ignored */
    return 0;
}

static int
parse_text(struct loader *ld, const char *text, size_t len, const char *name,
           int depth)
{
    struct buf line = BUF_INITIALIZER;
    size_t pos = 0;
    unsigned lineno = 0;
    int r = 0;

    while (pos < len && r == 0) {
        unsigned first = lineno + 1;

        buf_reset(&line);
        for (;;) {
            const char *nl = memchr(text + pos, '\n', len - pos);
            size_t end = nl ? (size_t)(nl - text) : len;

            lineno++;
            buf_appendmap(&line, text + pos, end - pos);
            pos = nl ? end + 1 : len;
            /* a CRLF file ends lines in '\r', also before a continuation */
            if (line.len && line.s[line.len - 1] == '\r')
                buf_truncate(&line, line.len - 1);
            if (line.len && line.s[line.len - 1] == '\\') {
                buf_truncate(&line, line.len - 1);
                if (pos < len)
                    continue;
            }
            break;
        }
        if (memchr(buf_base(&line), '\0', buf_len(&line)) != NULL) {
            r = fail(ld, name, first, "NUL byte on line %u", first);
            break;
        }
        /* buf_cstring() always allocates, so line.s is writable */
        buf_cstring(&line);
        r = parse_line(ld, line.s, name, first, depth);
    }
    buf_free(&line);
    return r;
}

/* ---------------------------------------------------------------------
 * The final pass. */

static void
substitute_configdir(struct config *c, struct value *v)
{
    const char *dir = c->slots[CFG_CONFIGDIRECTORY].val.str;
    size_t n = strlen(CONFIG_DIR_TOKEN);
    struct buf b = BUF_INITIALIZER;

    if (v->str == NULL || dir == NULL
        || util_strncasecmp(v->str, CONFIG_DIR_TOKEN, n) != 0)
        return;
    buf_printf(&b, "%s%s", dir, v->str + n);
    free(v->str);
    v->str = buf_release(&b);
}

static int
finish(struct loader *ld)
{
    struct config *c = ld->c;
    int i;

    for (i = 0; i < CFG__COUNT; i++) {
        struct slot *s = &c->slots[i];
        const char *raw = s->specific ? s->specific : s->generic;
        struct buf why = BUF_INITIALIZER;

        if (raw == NULL)
            raw = option_defs[i].def;
        if (raw == NULL)
            continue;
        /* given values were checked line by line; defaults by the tests */
        if (parse_value(&option_defs[i], raw, &s->val, &why) < 0) {
            fail(ld, c->filename, 0, "bad default for %s: %s",
                 option_defs[i].name, buf_cstring(&why));
            buf_free(&why);
            return -1;
        }
    }
    if (c->slots[CFG_CONFIGDIRECTORY].val.str == NULL)
        return fail(ld, c->filename, 0, "configdirectory option not specified");
    for (i = 0; i < CFG__COUNT; i++) {
        if (option_defs[i].type == CFG_STRING && i != CFG_CONFIGDIRECTORY)
            substitute_configdir(c, &c->slots[i].val);
    }
    return 0;
}

static struct config *
config_new(const char *name, const char *service)
{
    struct config *c = xzmalloc(sizeof(*c));

    c->filename = xstrdup(name);
    if (service && *service) {
        c->service = xstrdup(service);
        util_lcase(c->service);
    }
    c->overflow = hash_new(64);
    c->seen = hash_new(256);
    return c;
}

static struct config *
load_finish(struct loader *ld, int r, char **error_r)
{
    size_t i;

    if (r == 0)
        r = finish(ld);
    if (r < 0) {
        if (error_r)
            *error_r = buf_release(&ld->err);
        buf_free(&ld->err);
        config_free(&ld->c);
        return NULL;
    }
    buf_free(&ld->err);
    for (i = 0; i < ld->c->warnings.count; i++)
        log_msg(LOG_WARNING, "%s", ld->c->warnings.data[i]);
    if (error_r)
        *error_r = NULL;
    return ld->c;
}

struct config *
config_load_text(const char *text, size_t len, const char *name,
                 const char *service, char **error_r)
{
    struct loader ld = {NULL, BUF_INITIALIZER};
    int r;

    if (name == NULL)
        name = "(text)";
    ld.c = config_new(name, service);
    r = note_include(ld.c, name);
    ASSERT(r == 0);
    r = parse_text(&ld, text, len, name, 0);
    return load_finish(&ld, r, error_r);
}

struct config *
config_load(const char *path, const char *service, char **error_r)
{
    struct loader ld = {NULL, BUF_INITIALIZER};
    struct buf text = BUF_INITIALIZER;
    int r;

    if (path == NULL)
        path = getenv("CYRUS_CONF");
    if (path == NULL || *path == '\0')
        path = CONFIG_DEFAULT_PATH;
    ld.c = config_new(path, service);
    if (read_file(path, &text) < 0) {
        r = fail(&ld, path, 0, "cannot read configuration file: %s",
                 strerror(errno));
    } else {
        r = note_include(ld.c, path);
        ASSERT(r == 0);
        r = parse_text(&ld, buf_base(&text), buf_len(&text), path, 0);
    }
    buf_free(&text);
    return load_finish(&ld, r, error_r);
}

void
config_free(struct config **cp)
{
    struct config *c = *cp;
    int i;

    if (c == NULL)
        return;
    *cp = NULL;
    for (i = 0; i < CFG__COUNT; i++) {
        free(c->slots[i].generic);
        free(c->slots[i].specific);
        free(c->slots[i].val.str);
    }
    hash_free(&c->overflow, free);
    hash_free(&c->seen, free);
    strarray_fini(&c->includes);
    strarray_fini(&c->warnings);
    free(c->service);
    free(c->filename);
    free(c);
}

/* ---------------------------------------------------------------------
 * Getters. */

static const struct value *
get(const struct config *c, enum config_option opt, enum config_type t1,
    enum config_type t2)
{
    ASSERT(c != NULL);
    ASSERT((int)opt >= 0 && opt < CFG__COUNT);
    ASSERT(option_defs[opt].type == t1 || option_defs[opt].type == t2);
    return &c->slots[opt].val;
}

const char *
config_str(const struct config *c, enum config_option opt)
{
    return get(c, opt, CFG_STRING, CFG_STRING)->str;
}

long
config_int(const struct config *c, enum config_option opt)
{
    return get(c, opt, CFG_INT, CFG_INT)->num;
}

int
config_switch(const struct config *c, enum config_option opt)
{
    return get(c, opt, CFG_SWITCH, CFG_SWITCH)->num != 0;
}

const char *
config_enum(const struct config *c, enum config_option opt)
{
    return get(c, opt, CFG_ENUM, CFG_STRINGLIST)->str;
}

unsigned long
config_bits(const struct config *c, enum config_option opt)
{
    return get(c, opt, CFG_BITFIELD, CFG_BITFIELD)->bits;
}

long
config_duration(const struct config *c, enum config_option opt)
{
    return get(c, opt, CFG_DURATION, CFG_DURATION)->num;
}

int64_t
config_bytesize(const struct config *c, enum config_option opt)
{
    return get(c, opt, CFG_BYTESIZE, CFG_BYTESIZE)->size;
}

int
config_isset(const struct config *c, enum config_option opt)
{
    ASSERT(c != NULL);
    ASSERT((int)opt >= 0 && opt < CFG__COUNT);
    return c->slots[opt].generic != NULL || c->slots[opt].specific != NULL;
}

/* Lowercased copy of key in k, optionally prefixed with "service_". */
static const char *
lower_key(struct buf *k, const char *service, const char *key)
{
    buf_reset(k);
    if (service)
        buf_printf(k, "%s_", service);
    buf_appendcstr(k, key);
    buf_cstring(k);
    util_lcase(k->s);
    return k->s;
}

const char *
config_overflow(const struct config *c, const char *key)
{
    struct buf k = BUF_INITIALIZER;
    const char *v = NULL;
    int opt;

    ASSERT(c != NULL);
    if (c->service)
        v = hash_lookup(c->overflow, lower_key(&k, c->service, key));
    if (v == NULL)
        v = hash_lookup(c->overflow, lower_key(&k, NULL, key));
    if (v == NULL
        && (opt = config_option_lookup(lower_key(&k, NULL, key))) >= 0)
        v = c->slots[opt].specific ? c->slots[opt].specific
                                   : c->slots[opt].generic;
    buf_free(&k);
    return v;
}

struct keys_ctx {
    const char *prefix;
    const char *service;
    struct strarray *keys;
};

static int
overflow_keys_cb(const char *key, void *value, void *ctx)
{
    struct keys_ctx *kc = ctx;
    size_t n = kc->service ? strlen(kc->service) : 0;

    (void)value;
    if (kc->service && strncmp(key, kc->service, n) == 0 && key[n] == '_'
        && strncmp(key + n + 1, kc->prefix, strlen(kc->prefix)) == 0)
        strarray_add_unique(kc->keys, key + n + 1);
    if (strncmp(key, kc->prefix, strlen(kc->prefix)) == 0)
        strarray_add_unique(kc->keys, key);
    return 0;
}

void
config_overflow_keys(const struct config *c, const char *prefix,
                     struct strarray *keys_r)
{
    struct strarray found = STRARRAY_INITIALIZER;
    struct keys_ctx kc = {prefix, c->service, &found};
    size_t i;

    ASSERT(c != NULL);
    hash_foreach(c->overflow, overflow_keys_cb, &kc);
    strarray_sort(&found);
    for (i = 0; i < found.count; i++)
        strarray_add_unique(keys_r, found.data[i]);
    strarray_fini(&found);
}

const char *
config_partition_dir(const struct config *c, const char *part)
{
    struct buf k = BUF_INITIALIZER;
    const char *v;

    buf_printf(&k, "partition-%s", part);
    v = config_overflow(c, buf_cstring(&k));
    buf_free(&k);
    return v;
}

const char *
config_service(const struct config *c)
{
    return c->service;
}

const char *
config_filename(const struct config *c)
{
    return c->filename;
}

const struct strarray *
config_warnings(const struct config *c)
{
    return &c->warnings;
}

/* ---------------------------------------------------------------------
 * Metadata. */

static const struct option_def *
def_of(enum config_option opt)
{
    ASSERT((int)opt >= 0 && opt < CFG__COUNT);
    return &option_defs[opt];
}

const char *
config_option_name(enum config_option opt)
{
    return def_of(opt)->name;
}

enum config_type
config_option_type(enum config_option opt)
{
    return def_of(opt)->type;
}

const char *
config_option_doc(enum config_option opt)
{
    return def_of(opt)->doc;
}

const char *
config_option_default(enum config_option opt)
{
    return def_of(opt)->def;
}
