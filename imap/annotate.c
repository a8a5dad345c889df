/* annotate.c: annotations.db and entry-name rules (see annotate.h). */
#include <ctype.h>
#include <string.h>

#include "annotate.h"
#include "cyrusdb.h"
#include "errors.h"
#include "util.h"
#include "xmalloc.h"

struct annotate_db {
    struct cyrusdb *db;
};

int
annotate_open(struct cyrusdb_env *env, const char *path,
              struct annotate_db **db_r)
{
    struct cyrusdb *db = NULL;
    int r;

    r = cyrusdb_open(env, path ? path : "annotations.db", CYRUSDB_CREATE,
                     &db);
    if (r)
        return r;
    *db_r = xzmalloc(sizeof(**db_r));
    (*db_r)->db = db;
    return 0;
}

void
annotate_close(struct annotate_db **dbp)
{
    struct annotate_db *a = dbp ? *dbp : NULL;

    if (a == NULL)
        return;
    *dbp = NULL;
    cyrusdb_close(&a->db);
    free(a);
}

/* mailbox NUL entry NUL userid */
static void
make_key(struct buf *key, const char *mailbox, const char *entry,
         const char *userid)
{
    buf_reset(key);
    buf_appendcstr(key, mailbox);
    buf_putc(key, '\0');
    buf_appendcstr(key, entry);
    buf_putc(key, '\0');
    buf_appendcstr(key, userid ? userid : "");
}

int
annotate_get(struct annotate_db *db, const char *mailbox, const char *entry,
             const char *userid, struct buf *value_r,
             struct cyrusdb_txn **tid)
{
    struct buf key = BUF_INITIALIZER;
    const char *data;
    size_t len;
    int r;

    make_key(&key, mailbox, entry, userid);
    r = cyrusdb_fetch(db->db, buf_base(&key), buf_len(&key), &data, &len,
                      tid);
    if (r == 0)
        buf_setmap(value_r, data, len);
    buf_free(&key);
    return r;
}

int
annotate_set(struct annotate_db *db, const char *mailbox, const char *entry,
             const char *userid, const char *value, size_t len,
             struct cyrusdb_txn **tid)
{
    struct buf key = BUF_INITIALIZER;
    int r;

    make_key(&key, mailbox, entry, userid);
    if (value)
        r = cyrusdb_store(db->db, buf_base(&key), buf_len(&key), value, len,
                          tid);
    else
        r = cyrusdb_delete(db->db, buf_base(&key), buf_len(&key), tid, 1);
    buf_free(&key);
    return r;
}

struct foreach_ctx {
    size_t prefixlen;
    annotate_foreach_cb *cb;
    void *ctx;
};

static int
foreach_cb(void *ctx, const char *key, size_t keylen, const char *data,
           size_t datalen)
{
    struct foreach_ctx *fc = ctx;
    const char *entry = key + fc->prefixlen;
    size_t elen = strnlen(entry, keylen - fc->prefixlen);
    struct buf user = BUF_INITIALIZER;
    int r;

    if (fc->prefixlen + elen >= keylen)
        return 0; /* not one of ours: no userid separator */
    buf_appendmap(&user, entry + elen + 1, keylen - fc->prefixlen - elen - 1);
    r = fc->cb(fc->ctx, entry, buf_cstring(&user), data, datalen);
    buf_free(&user);
    return r;
}

int
annotate_foreach(struct annotate_db *db, const char *mailbox,
                 annotate_foreach_cb *cb, void *ctx, struct cyrusdb_txn **tid)
{
    struct foreach_ctx fc;

    fc.prefixlen = strlen(mailbox) + 1; /* the NUL is part of the prefix */
    fc.cb = cb;
    fc.ctx = ctx;
    return cyrusdb_foreach(db->db, mailbox, fc.prefixlen, foreach_cb, &fc,
                           tid);
}

struct move_ctx {
    struct annotate_db *db;
    const char *oldname;
    const char *newname; /* NULL: delete only */
    struct cyrusdb_txn **tid;
};

static int
move_cb(void *ctx, const char *entry, const char *userid, const char *value,
        size_t len)
{
    struct move_ctx *mc = ctx;
    int r = 0;

    if (mc->newname)
        r = annotate_set(mc->db, mc->newname, entry, userid, value, len,
                         mc->tid);
    if (r == 0)
        r = annotate_set(mc->db, mc->oldname, entry, userid, NULL, 0,
                         mc->tid);
    return r;
}

int
annotate_commit(struct annotate_db *db, struct cyrusdb_txn *tid)
{
    return cyrusdb_commit(db->db, tid);
}

int
annotate_abort(struct annotate_db *db, struct cyrusdb_txn *tid)
{
    return cyrusdb_abort(db->db, tid);
}

int
annotate_delete_mailbox(struct annotate_db *db, const char *mailbox,
                        struct cyrusdb_txn **tid)
{
    struct move_ctx mc = {db, mailbox, NULL, tid};

    return annotate_foreach(db, mailbox, move_cb, &mc, tid);
}

int
annotate_rename_mailbox(struct annotate_db *db, const char *oldname,
                        const char *newname, struct cyrusdb_txn **tid)
{
    struct move_ctx mc = {db, oldname, newname, tid};

    if (strcmp(oldname, newname) == 0)
        return 0;
    return annotate_foreach(db, oldname, move_cb, &mc, tid);
}

/* ---- entry names ----------------------------------------------------- */

static size_t
scope_prefix(const char *entry)
{
    if (util_strncasecmp(entry, "/shared", 7) == 0
        && (entry[7] == '\0' || entry[7] == '/'))
        return 7;
    if (util_strncasecmp(entry, "/private", 8) == 0
        && (entry[8] == '\0' || entry[8] == '/'))
        return 8;
    return 0;
}

int
annotate_entry_valid(const char *entry, int wildcards)
{
    size_t n = scope_prefix(entry);
    const char *p;

    if (n == 0)
        return 0;
    p = entry + n;
    if (*p == '\0')
        return wildcards;
    /* bound the glob's backtracking (annotate_entry_glob) */
    if (wildcards) {
        const char *w;
        int count = 0;

        for (w = p; *w; w++)
            count += (*w == '*' || *w == '%');
        if (count > ANNOTATE_MAX_WILDCARDS)
            return 0;
    }
    while (*p) {
        size_t comp = 0;

        if (*p != '/')
            return 0;
        for (p++; *p && *p != '/'; p++, comp++) {
            unsigned char c = (unsigned char)*p;

            if (c <= 0x20 || c >= 0x7f)
                return 0;
            if (!wildcards && (c == '*' || c == '%'))
                return 0;
        }
        if (comp == 0)
            return 0;
    }
    return 1;
}

int
annotate_entry_split(const char *entry, struct buf *rest)
{
    size_t n = scope_prefix(entry);
    const char *p;

    if (n == 0)
        return -1;
    buf_reset(rest);
    for (p = entry + n; *p; p++)
        buf_putc(rest, (char)tolower((unsigned char)*p));
    buf_cstring(rest);
    return n == 7;
}

int
annotate_entry_match(const char *requested, const char *candidate, int depth)
{
    size_t n = strlen(requested);
    const char *rest;

    if (strncmp(candidate, requested, n) != 0)
        return 0;
    rest = candidate + n;
    if (*rest == '\0')
        return 1;
    if (depth == 0 || *rest != '/')
        return 0;
    if (depth < 0)
        return 1;
    return strchr(rest + 1, '/') == NULL;
}

int
annotate_entry_has_wildcards(const char *p)
{
    return strpbrk(p, "*%") != NULL;
}

int
annotate_entry_glob(const char *pattern, const char *candidate)
{
    /* iterative glob with one backtrack point per "*"; "%" is tried
     * recursively since it may not cross "/" */
    for (; *pattern; pattern++) {
        if (*pattern == '*') {
            const char *c;

            for (c = candidate;; c++) {
                if (annotate_entry_glob(pattern + 1, c))
                    return 1;
                if (*c == '\0')
                    return 0;
            }
        }
        if (*pattern == '%') {
            const char *c;

            for (c = candidate;; c++) {
                if (annotate_entry_glob(pattern + 1, c))
                    return 1;
                if (*c == '\0' || *c == '/')
                    return 0;
            }
        }
        if (*candidate != *pattern)
            return 0;
        candidate++;
    }
    return *candidate == '\0';
}
