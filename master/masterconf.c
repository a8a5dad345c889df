/* masterconf.c: parse and validate cyrus.conf. */
#include <errno.h>
#include <string.h>

#include "buf.h"
#include "cron.h"
#include "errors.h"
#include "listen.h"
#include "masterconf.h"
#include "util.h"
#include "xmalloc.h"

#define MC_MAX_LINE 4095
#define MC_MAX_ARGS 64

struct masterconf {
    struct masterconf_entry *entries[MASTERCONF_NSECTIONS];
    size_t count[MASTERCONF_NSECTIONS];
};

enum mc_state {
    MC_OUTSIDE,
    MC_WANT_BRACE, /* section name seen, `{` expected */
    MC_INSIDE
};

struct mc_parser {
    struct masterconf *mc;
    const char *filename;
    struct strarray *warnings;
    unsigned line;
    enum mc_state state;
    int section; /* enum masterconf_section, or -1 for a skipped one */
    char secname[32];
    unsigned secline;
    struct buf err; /* non-empty: the parse failed */
};

static const char *const mc_section_names[MASTERCONF_NSECTIONS] = {
    "START", "SERVICES", "EVENTS", "DAEMON"};

static const char *const mc_keys[MASTERCONF_NSECTIONS][9] = {
    {"cmd",      NULL      },
    {              "cmd",     "listen", "proto", "prefork", "maxchild", "maxforkrate", "maxfds",
     "babysit", NULL},
    { "cmd",  "period",                                                  "at", "cron", NULL},
    {           "cmd",         "wait","maxforkrate", "maxfds", NULL},
};

const char *
masterconf_section_name(enum masterconf_section section)
{
    ASSERT(section < MASTERCONF_NSECTIONS);
    return mc_section_names[section];
}

static void mc_error(struct mc_parser *ps, unsigned line, const char *fmt, ...)
    ATTR_FORMAT(3, 4);

static void
mc_error(struct mc_parser *ps, unsigned line, const char *fmt, ...)
{
    va_list ap;

    if (buf_len(&ps->err))
        return; /* keep the first error */
    buf_printf(&ps->err, "%s:%u: ", ps->filename, line);
    va_start(ap, fmt);
    buf_vprintf(&ps->err, fmt, ap);
    va_end(ap);
}

static void mc_warn(struct mc_parser *ps, const char *fmt, ...)
    ATTR_FORMAT(2, 3);

static void
mc_warn(struct mc_parser *ps, const char *fmt, ...)
{
    struct buf w = BUF_INITIALIZER;
    va_list ap;

    if (ps->warnings == NULL)
        return;
    buf_printf(&w, "%s:%u: ", ps->filename, ps->line);
    va_start(ap, fmt);
    buf_vprintf(&w, fmt, ap);
    va_end(ap);
    strarray_appendm(ps->warnings, buf_release(&w));
}

static int
mc_isalnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9');
}

static int
mc_isspace(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static char *
mc_skip_space(char *p)
{
    while (mc_isspace(*p))
        p++;
    return p;
}

/* key=value pairs of one entry, in order: keys at even indexes. */
static const char *
mc_arg(const struct strarray *args, const char *key)
{
    size_t i;

    for (i = 0; i + 1 < args->count; i += 2) {
        if (strcmp(args->data[i], key) == 0)
            return args->data[i + 1];
    }
    return NULL;
}

static int
mc_known_key(int section, const char *key)
{
    int i;

    for (i = 0; mc_keys[section][i]; i++) {
        if (strcmp(mc_keys[section][i], key) == 0)
            return 1;
    }
    return 0;
}

/* Integer key: 0 and *v_r, or -1 after reporting. */
static int
mc_long(struct mc_parser *ps, const struct strarray *args, const char *key,
        long def, long min, long *v_r)
{
    const char *s = mc_arg(args, key);

    *v_r = def;
    if (s == NULL)
        return 0;
    if (util_parse_long(s, v_r) < 0 || *v_r < min) {
        mc_error(ps, ps->line, "%s=%s: expected a number >= %ld", key, s, min);
        return -1;
    }
    return 0;
}

static int
mc_switch(struct mc_parser *ps, const struct strarray *args, const char *key,
          int *v_r)
{
    const char *s = mc_arg(args, key);

    *v_r = 0;
    if (s == NULL)
        return 0;
    /* as imapd.conf switches: the first character decides, or on/off */
    if (util_strcasecmp(s, "on") == 0 || (s[0] && strchr("1yYtT", s[0]))) {
        *v_r = 1;
        return 0;
    }
    if (util_strcasecmp(s, "off") == 0 || (s[0] && strchr("0nNfF", s[0])))
        return 0;
    mc_error(ps, ps->line, "%s=%s: expected yes or no", key, s);
    return -1;
}

static int
mc_parse_at(const char *s, int *at_r)
{
    uint64_t v;

    if (util_parse_u64(s, strlen(s), 2359, &v) < 0 || strlen(s) > 4
        || v % 100 > 59)
        return -1;
    *at_r = (int)v;
    return 0;
}

static const struct masterconf_entry *
mc_find_any(const struct masterconf *mc, int section, const char *name)
{
    return masterconf_find(mc, (enum masterconf_section)section, name);
}

/* Validate one entry's args and append it. */
static void
mc_add_entry(struct mc_parser *ps, const char *name, struct strarray *args)
{
    struct masterconf *mc = ps->mc;
    int sec = ps->section;
    struct masterconf_entry e;
    const struct masterconf_entry *dup;
    const char *cmd, *s, *why;
    size_t i;

    memset(&e, 0, sizeof(e));
    for (i = 0; i + 1 < args->count; i += 2) {
        if (!mc_known_key(sec, args->data[i]))
            mc_warn(ps, "unknown key '%s' in %s entry '%s' ignored",
                    args->data[i], mc_section_names[sec], name);
    }
    dup = mc_find_any(mc, sec, name);
    if (dup == NULL && sec == MASTERCONF_SERVICES)
        dup = mc_find_any(mc, MASTERCONF_DAEMON, name);
    if (dup == NULL && sec == MASTERCONF_DAEMON)
        dup = mc_find_any(mc, MASTERCONF_SERVICES, name);
    if (dup) {
        mc_error(ps, ps->line, "duplicate name '%s' (first in %s at line %u)",
                 name, mc_section_names[dup->section], dup->line);
        return;
    }
    cmd = mc_arg(args, "cmd");
    if (cmd == NULL) {
        mc_error(ps, ps->line,
                 "%s entry '%s' has no cmd=", mc_section_names[sec], name);
        return;
    }
    e.section = (enum masterconf_section)sec;
    e.line = ps->line;
    {
        struct strarray *words = strarray_split(cmd, " \t");

        e.argv = *words;
        free(words);
    }
    if (e.argv.count == 0) {
        mc_error(ps, ps->line, "%s entry '%s' has an empty cmd",
                 mc_section_names[sec], name);
        strarray_fini(&e.argv);
        return;
    }
    e.maxchild = -1;
    e.at = -1;
    if (sec == MASTERCONF_SERVICES) {
        struct listen_spec spec;

        s = mc_arg(args, "listen");
        if (s == NULL) {
            mc_error(ps, ps->line, "SERVICES entry '%s' has no listen=", name);
        } else if (listen_parse(s, &spec, &why) < 0) {
            mc_error(ps, ps->line, "SERVICES entry '%s': bad listen=%s: %s",
                     name, s, why);
        } else {
            listen_spec_fini(&spec);
        }
        e.listen = s;
        e.proto = mc_arg(args, "proto");
        if (e.proto == NULL)
            e.proto = "tcp";
        if (!listen_proto_ok(e.proto))
            mc_error(ps, ps->line,
                     "SERVICES entry '%s': proto=%s not supported "
                     "(tcp, tcp4 or tcp6)",
                     name, e.proto);
        mc_long(ps, args, "prefork", 0, 0, &e.prefork);
        mc_long(ps, args, "maxchild", -1, -1, &e.maxchild);
        mc_long(ps, args, "maxforkrate", 0, 0, &e.maxforkrate);
        mc_long(ps, args, "maxfds", 0, 0, &e.maxfds);
        mc_switch(ps, args, "babysit", &e.babysit);
        if (e.maxchild == 0)
            e.maxchild = -1;
        if (e.babysit) {
            if (e.prefork < 1)
                e.prefork = 1;
            if (e.maxforkrate == 0)
                e.maxforkrate = 10;
        }
        if (e.maxchild > 0 && e.prefork > e.maxchild) {
            mc_warn(ps,
                    "service '%s': prefork=%ld above maxchild=%ld, "
                    "using %ld",
                    name, e.prefork, e.maxchild, e.maxchild);
            e.prefork = e.maxchild;
        }
    } else if (sec == MASTERCONF_DAEMON) {
        mc_switch(ps, args, "wait", &e.wait);
        mc_long(ps, args, "maxforkrate", 0, 0, &e.maxforkrate);
        mc_long(ps, args, "maxfds", 0, 0, &e.maxfds);
        if (e.maxforkrate == 0)
            e.maxforkrate = 10;
    } else if (sec == MASTERCONF_EVENTS) {
        mc_long(ps, args, "period", 0, 0, &e.period);
        s = mc_arg(args, "at");
        if (s && mc_parse_at(s, &e.at) < 0)
            mc_error(ps, ps->line, "EVENTS entry '%s': at=%s is not hhmm", name,
                     s);
        e.cron = mc_arg(args, "cron");
        if (e.cron) {
            struct cron *c = NULL;

            if (cron_parse(e.cron, &c, &why) < 0)
                mc_error(ps, ps->line, "EVENTS entry '%s': cron=\"%s\": %s",
                         name, e.cron, why);
            cron_free(&c);
        }
    }
    if (buf_len(&ps->err)) {
        strarray_fini(&e.argv);
        return;
    }
    /* own the strings now that the entry is kept */
    e.name = xstrdup(name);
    e.cmd = xstrdup(cmd);
    e.listen = xstrdupnull(e.listen);
    e.proto = xstrdupnull(e.proto);
    e.cron = xstrdupnull(e.cron);
    mc->entries[sec] =
        xreallocarray(mc->entries[sec], mc->count[sec] + 1, sizeof(e));
    mc->entries[sec][mc->count[sec]++] = e;
}

/* An entry line inside a known section: `name key=value ... [}]`.
 * Returns the rest of the line after a closing `}`, or NULL. */
static char *
mc_entry_line(struct mc_parser *ps, char *p)
{
    struct strarray args = STRARRAY_INITIALIZER;
    char *name = p, *rest = NULL;
    char saved;

    while (mc_isalnum(*p))
        p++;
    if (p == name || !(*p == '\0' || mc_isspace(*p))) {
        mc_error(ps, ps->line,
                 "expected an entry name (letters and digits) in %s",
                 ps->secname);
        return NULL;
    }
    saved = *p;
    *p = '\0';
    name = xstrdup(name);
    *p = saved;
    for (;;) {
        char *key, *val, *k;
        size_t keylen;

        p = mc_skip_space(p);
        if (*p == '\0')
            break;
        if (*p == '}') {
            rest = p;
            break;
        }
        key = p;
        while (mc_isalnum(*p))
            p++;
        keylen = (size_t)(p - key);
        if (keylen == 0 || *p != '=') {
            mc_error(ps, ps->line, "entry '%s': expected key=value", name);
            break;
        }
        p++;
        if (*p == '"') {
            val = ++p;
            while (*p && *p != '"')
                p++;
            if (*p != '"') {
                mc_error(ps, ps->line, "entry '%s': unterminated quote", name);
                break;
            }
        } else {
            val = p;
            while (*p && !mc_isspace(*p))
                p++;
        }
        k = xstrndup(key, keylen);
        if (mc_arg(&args, k) != NULL) {
            mc_error(ps, ps->line, "entry '%s': duplicate key '%s'", name, k);
            free(k);
            break;
        }
        if (args.count / 2 >= MC_MAX_ARGS) {
            mc_error(ps, ps->line, "entry '%s': more than %d keys", name,
                     MC_MAX_ARGS);
            free(k);
            break;
        }
        strarray_appendm(&args, k);
        strarray_appendmap(&args, val, (size_t)(p - val));
        if (*p == '"')
            p++;
    }
    if (buf_len(&ps->err) == 0 && ps->section >= 0)
        mc_add_entry(ps, name, &args);
    strarray_fini(&args);
    free(name);
    return rest;
}

/* One line, comment removed, NUL-terminated. */
static void
mc_line(struct mc_parser *ps, char *p)
{
    while (buf_len(&ps->err) == 0) {
        p = mc_skip_space(p);
        if (*p == '\0')
            return;
        if (ps->state == MC_OUTSIDE) {
            char *word = p;
            size_t len;
            int s;

            while (mc_isalnum(*p) || *p == '_')
                p++;
            len = (size_t)(p - word);
            if (len == 0) {
                mc_error(ps, ps->line, "expected a section name");
                return;
            }
            if (len >= sizeof(ps->secname))
                len = sizeof(ps->secname) - 1;
            memcpy(ps->secname, word, len);
            ps->secname[len] = '\0';
            ps->secline = ps->line;
            ps->section = -1;
            for (s = 0; s < MASTERCONF_NSECTIONS; s++) {
                if (util_strcasecmp(ps->secname, mc_section_names[s]) == 0)
                    ps->section = s;
            }
            if (ps->section < 0)
                mc_warn(ps, "unknown section %s skipped", ps->secname);
            ps->state = MC_WANT_BRACE;
            continue;
        }
        if (ps->state == MC_WANT_BRACE) {
            if (*p != '{') {
                mc_error(ps, ps->line, "expected { after section %s",
                         ps->secname);
                return;
            }
            ps->state = MC_INSIDE;
            p++;
            continue;
        }
        /* inside a section */
        if (*p == '}') {
            ps->state = MC_OUTSIDE;
            p++;
            continue;
        }
        if (ps->section < 0) {
            /* skipped section: only look for the closing brace */
            char *end = p + strlen(p);

            while (end > p && mc_isspace(end[-1]))
                end--;
            if (end > p && end[-1] == '}')
                ps->state = MC_OUTSIDE;
            return;
        }
        p = mc_entry_line(ps, p);
        if (p == NULL)
            return;
    }
}

struct masterconf *
masterconf_parse(const char *text, size_t len, const char *filename,
                 struct strarray *warnings_r, char **error_r)
{
    struct mc_parser ps;
    struct buf line = BUF_INITIALIZER;
    size_t pos = 0;

    memset(&ps, 0, sizeof(ps));
    ps.mc = xzmalloc(sizeof(*ps.mc));
    ps.filename = filename ? filename : "cyrus.conf";
    ps.warnings = warnings_r;
    ps.section = -1;
    *error_r = NULL;
    while (pos < len && buf_len(&ps.err) == 0) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        const char *hash;

        ps.line++;
        if (n > MC_MAX_LINE) {
            mc_error(&ps, ps.line, "line longer than %d bytes", MC_MAX_LINE);
            break;
        }
        if (memchr(text + pos, '\0', n) != NULL) {
            mc_error(&ps, ps.line, "NUL byte in line");
            break;
        }
        hash = memchr(text + pos, '#', n);
        buf_setmap(&line, text + pos, hash ? (size_t)(hash - (text + pos)) : n);
        mc_line(&ps, (char *)buf_cstring(&line));
        pos += n + (nl ? 1 : 0);
    }
    buf_free(&line);
    if (buf_len(&ps.err) == 0 && ps.state != MC_OUTSIDE)
        mc_error(&ps, ps.secline, "section %s is not closed with }",
                 ps.secname);
    if (buf_len(&ps.err)) {
        *error_r = buf_release(&ps.err);
        masterconf_free(&ps.mc);
        return NULL;
    }
    buf_free(&ps.err);
    return ps.mc;
}

struct masterconf *
masterconf_load(const char *path, struct strarray *warnings_r, char **error_r)
{
    struct buf text = BUF_INITIALIZER;
    struct masterconf *mc;

    if (buf_load_file(&text, path) < 0) {
        struct buf err = BUF_INITIALIZER;

        buf_printf(&err, "%s: %s", path, strerror(errno));
        *error_r = buf_release(&err);
        buf_free(&text);
        return NULL;
    }
    mc = masterconf_parse(buf_base(&text), buf_len(&text), path, warnings_r,
                          error_r);
    buf_free(&text);
    return mc;
}

void
masterconf_free(struct masterconf **mcp)
{
    struct masterconf *mc = *mcp;
    int s;
    size_t i;

    if (mc == NULL)
        return;
    *mcp = NULL;
    for (s = 0; s < MASTERCONF_NSECTIONS; s++) {
        for (i = 0; i < mc->count[s]; i++) {
            struct masterconf_entry *e = &mc->entries[s][i];

            free((char *)e->name);
            free((char *)e->cmd);
            free((char *)e->listen);
            free((char *)e->proto);
            free((char *)e->cron);
            strarray_fini(&e->argv);
        }
        free(mc->entries[s]);
    }
    free(mc);
}

size_t
masterconf_count(const struct masterconf *mc, enum masterconf_section section)
{
    ASSERT(section < MASTERCONF_NSECTIONS);
    return mc->count[section];
}

const struct masterconf_entry *
masterconf_entry(const struct masterconf *mc, enum masterconf_section section,
                 size_t i)
{
    ASSERT(section < MASTERCONF_NSECTIONS && i < mc->count[section]);
    return &mc->entries[section][i];
}

const struct masterconf_entry *
masterconf_find(const struct masterconf *mc, enum masterconf_section section,
                const char *name)
{
    size_t i;

    ASSERT(section < MASTERCONF_NSECTIONS);
    for (i = 0; i < mc->count[section]; i++) {
        if (strcmp(mc->entries[section][i].name, name) == 0)
            return &mc->entries[section][i];
    }
    return NULL;
}
