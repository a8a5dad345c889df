/* quota.c: quota roots in quotas.db (see quota.h for the contract). */
#include <string.h>

#include "dbtxn.h"
#include "errors.h"
#include "imapquote.h"
#include "log.h"
#include "quota.h"
#include "util.h"
#include "xmalloc.h"

#define QUOTA_DEFAULT_PATH "quotas.db"

struct quota_db {
    struct cyrusdb *db;
};

static const char *const resource_names[QUOTA_NUMRESOURCES] = {
    [QUOTA_STORAGE] = "STORAGE",
    [QUOTA_MESSAGE] = "MESSAGE",
};

/* Bytes per unit of each resource's limit. */
static const int64_t resource_units[QUOTA_NUMRESOURCES] = {
    [QUOTA_STORAGE] = 1024,
    [QUOTA_MESSAGE] = 1,
};

int
quota_db_open(struct cyrusdb_env *env, const char *path,
              struct quota_db **qdb_r)
{
    struct cyrusdb *db = NULL;
    int r;

    /* usage is re-derivable: no flush per charge (quota.h) */
    r = cyrusdb_open(env, path ? path : QUOTA_DEFAULT_PATH,
                     CYRUSDB_CREATE | CYRUSDB_WRITE_NOSYNC,
                     &db);
    if (r)
        return r;
    *qdb_r = xzmalloc(sizeof(**qdb_r));
    (*qdb_r)->db = db;
    return 0;
}

void
quota_db_close(struct quota_db **qdbp)
{
    struct quota_db *qdb = *qdbp;

    if (qdb == NULL)
        return;
    *qdbp = NULL;
    cyrusdb_close(&qdb->db);
    free(qdb);
}

struct cyrusdb *
quota_db_cyrusdb(struct quota_db *qdb)
{
    return qdb->db;
}

int
quota_resource_from_name(const char *name)
{
    int i;

    for (i = 0; i < QUOTA_NUMRESOURCES; i++) {
        if (util_strcasecmp(name, resource_names[i]) == 0)
            return i;
    }
    return -1;
}

const char *
quota_resource_name(enum quota_resource res)
{
    ASSERT((int)res >= 0 && res < QUOTA_NUMRESOURCES);
    return resource_names[res];
}

/* ---- record encoding ---- */

static void
quota_encode(const struct quota *q, struct buf *out)
{
    int i;

    buf_reset(out);
    for (i = 0; i < QUOTA_NUMRESOURCES; i++) {
        buf_printf(out, "%s%s %lld %lld", i ? " " : "", resource_names[i],
                   (long long)q->used[i], (long long)q->limit[i]);
    }
}

/* Parse one signed decimal number (optional '-') ending at a space or
 * the end; advances *pp. */
static int
parse_num(const char **pp, const char *end, int64_t *val_r)
{
    const char *p = *pp, *start;
    int neg = 0;
    uint64_t v;

    if (p < end && *p == '-') {
        neg = 1;
        p++;
    }
    start = p;
    while (p < end && *p != ' ')
        p++;
    if (util_parse_u64(start, (size_t)(p - start), INT64_MAX, &v) < 0)
        return -1;
    *val_r = neg ? -(int64_t)v : (int64_t)v;
    *pp = p;
    return 0;
}

static int
quota_decode(const char *p, size_t len, struct quota *q_r)
{
    const char *end = p + len;
    int i;

    for (i = 0; i < QUOTA_NUMRESOURCES; i++) {
        size_t nlen = strlen(resource_names[i]);

        q_r->limit[i] = QUOTA_UNLIMITED;
        q_r->used[i] = 0;
        if (i > 0) {
            if (p >= end || *p != ' ')
                return ERR_IO;
            p++;
        }
        if ((size_t)(end - p) < nlen + 1
            || memcmp(p, resource_names[i], nlen) != 0 || p[nlen] != ' ')
            return ERR_IO;
        p += nlen + 1;
        if (parse_num(&p, end, &q_r->used[i]) < 0 || q_r->used[i] < 0)
            return ERR_IO;
        if (p >= end || *p != ' ')
            return ERR_IO;
        p++;
        if (parse_num(&p, end, &q_r->limit[i]) < 0
            || q_r->limit[i] < QUOTA_UNLIMITED)
            return ERR_IO;
    }
    return p == end ? 0 : ERR_IO;
}

static int
valid_root(const char *root)
{
    return root != NULL && root[0] != '\0';
}

int
quota_read(struct quota_db *qdb, const char *root, struct quota *q_r,
           struct cyrusdb_txn **tid)
{
    const char *data;
    size_t len;
    int r;

    if (!valid_root(root))
        return ERR_INVALID;
    r = cyrusdb_fetch(qdb->db, root, strlen(root), &data, &len, tid);
    if (r)
        return r;
    if (quota_decode(data, len, q_r) < 0) {
        log_msg(LOG_ERR, "quota %s: corrupt record", root);
        return ERR_IO;
    }
    return 0;
}

static int
quota_write(struct quota_db *qdb, const char *root, const struct quota *q,
            struct cyrusdb_txn **tid)
{
    struct buf val = BUF_INITIALIZER;
    int r;

    quota_encode(q, &val);
    r = cyrusdb_store(qdb->db, root, strlen(root), buf_base(&val),
                      buf_len(&val), tid);
    buf_free(&val);
    return r;
}

int
quota_findroot(struct quota_db *qdb, const char *mboxname, struct buf *root_r,
               struct cyrusdb_txn **tid)
{
    const char *bang = strchr(mboxname, '!');
    size_t minlen = bang ? (size_t)(bang - mboxname) + 1 : 0;
    size_t len = strlen(mboxname);

    buf_setcstr(root_r, mboxname);
    while (len > minlen) {
        int r = cyrusdb_fetch(qdb->db, buf_base(root_r), len, NULL, NULL, tid);
        const char *dot;

        if (r == 0) {
            buf_truncate(root_r, len);
            return 0;
        }
        if (r != ERR_NOTFOUND) {
            buf_reset(root_r);
            return r;
        }
        /* strip the last component; a name never ends with '.' */
        dot = memrchr(buf_base(root_r) + minlen, '.', len - minlen);
        if (dot == NULL)
            break;
        len = (size_t)(dot - buf_base(root_r));
    }
    buf_reset(root_r);
    return ERR_NOTFOUND;
}

/* ---- changes (each runs through dbtxn_run) ---- */

struct op {
    struct quota_db *qdb;
    const char *root;
    const int64_t *vals; /* limits, delta or usage */
    unsigned flags;
    int created;
};

static int
set_limits_cb(void *ctx, struct cyrusdb_txn **tid)
{
    struct op *op = ctx;
    struct quota q;
    int i, r;

    r = quota_read(op->qdb, op->root, &q, tid);
    op->created = r == ERR_NOTFOUND;
    if (op->created) {
        memset(&q, 0, sizeof(q));
        r = 0;
    }
    if (r)
        return r;
    for (i = 0; i < QUOTA_NUMRESOURCES; i++)
        q.limit[i] = op->vals[i];
    return quota_write(op->qdb, op->root, &q, tid);
}

int
quota_set_limits(struct quota_db *qdb, const char *root,
                 const int64_t limit[QUOTA_NUMRESOURCES], int *created_r,
                 struct cyrusdb_txn **tid)
{
    struct op op = {qdb, root, limit, 0, 0};
    int i, r;

    if (!valid_root(root))
        return ERR_INVALID;
    for (i = 0; i < QUOTA_NUMRESOURCES; i++) {
        if (limit[i] < QUOTA_UNLIMITED || limit[i] > QUOTA_MAX_LIMIT)
            return ERR_INVALID;
    }
    r = dbtxn_run(qdb->db, tid, set_limits_cb, &op);
    if (r == 0 && tid == NULL)
        r = cyrusdb_flush(qdb->db); /* an admin's change: durable (quota.h) */
    if (r == 0 && created_r)
        *created_r = op.created;
    return r;
}

int
quota_remove(struct quota_db *qdb, const char *root, struct cyrusdb_txn **tid)
{
    int r;

    if (!valid_root(root))
        return ERR_INVALID;
    r = cyrusdb_delete(qdb->db, root, strlen(root), tid, 0);
    if (r == 0 && tid == NULL)
        r = cyrusdb_flush(qdb->db); /* an admin's change: durable (quota.h) */
    return r;
}

/* Whether q can take delta: only positive deltas are checked, against
 * limit * unit (RFC 9208 5.1: usage may exceed a limit lowered later; it
 * just cannot grow). */
static int
fits(const struct quota *q, const int64_t delta[QUOTA_NUMRESOURCES])
{
    int i;

    for (i = 0; i < QUOTA_NUMRESOURCES; i++) {
        int64_t lim;

        if (delta[i] <= 0 || q->limit[i] == QUOTA_UNLIMITED)
            continue;
        lim = q->limit[i] * resource_units[i];
        if (q->used[i] > lim || delta[i] > lim - q->used[i])
            return 0;
    }
    return 1;
}

int
quota_check(struct quota_db *qdb, const char *root,
            const int64_t delta[QUOTA_NUMRESOURCES], struct quota *q_r,
            struct cyrusdb_txn **tid)
{
    struct quota q;
    int r = quota_read(qdb, root, &q, tid);

    if (r == ERR_NOTFOUND)
        return 0;
    if (r)
        return r;
    if (q_r)
        *q_r = q;
    return fits(&q, delta) ? 0 : ERR_QUOTA;
}

static int
charge_cb(void *ctx, struct cyrusdb_txn **tid)
{
    struct op *op = ctx;
    struct quota q;
    int i, r;

    r = quota_read(op->qdb, op->root, &q, tid);
    if (r == ERR_NOTFOUND)
        return 0;
    if (r)
        return r;
    if ((op->flags & QUOTA_ENFORCE) && !fits(&q, op->vals))
        return ERR_QUOTA;
    for (i = 0; i < QUOTA_NUMRESOURCES; i++) {
        int64_t d = op->vals[i];

        if (d < 0 && q.used[i] < -d) {
            log_msg(LOG_WARNING,
                    "quota %s: %s usage would go negative (%lld%+lld);"
                    " run quota -f",
                    op->root, resource_names[i], (long long)q.used[i],
                    (long long)d);
            q.used[i] = 0;
        } else if (d > 0 && q.used[i] > INT64_MAX - d) {
            q.used[i] = INT64_MAX;
        } else {
            q.used[i] += d;
        }
    }
    return quota_write(op->qdb, op->root, &q, tid);
}

int
quota_charge(struct quota_db *qdb, const char *root,
             const int64_t delta[QUOTA_NUMRESOURCES], unsigned flags,
             struct cyrusdb_txn **tid)
{
    struct op op = {qdb, root, delta, flags, 0};

    if (!valid_root(root))
        return ERR_INVALID;
    return dbtxn_run(qdb->db, tid, charge_cb, &op);
}

static int
set_usage_cb(void *ctx, struct cyrusdb_txn **tid)
{
    struct op *op = ctx;
    struct quota q;
    int i, r;

    r = quota_read(op->qdb, op->root, &q, tid);
    if (r)
        return r;
    for (i = 0; i < QUOTA_NUMRESOURCES; i++)
        q.used[i] = op->vals[i] < 0 ? 0 : op->vals[i];
    return quota_write(op->qdb, op->root, &q, tid);
}

int
quota_set_usage(struct quota_db *qdb, const char *root,
                const int64_t used[QUOTA_NUMRESOURCES],
                struct cyrusdb_txn **tid)
{
    struct op op = {qdb, root, used, 0, 0};

    if (!valid_root(root))
        return ERR_INVALID;
    return dbtxn_run(qdb->db, tid, set_usage_cb, &op);
}

struct foreach_ctx {
    quota_foreach_cb *cb;
    void *ctx;
};

static int
foreach_cb(void *ctx, const char *key, size_t keylen, const char *data,
           size_t datalen)
{
    struct foreach_ctx *fc = ctx;
    struct quota q;
    char *root;
    int r;

    if (memchr(key, '\0', keylen) != NULL
        || quota_decode(data, datalen, &q) < 0) {
        log_msg(LOG_ERR, "quotas.db: skipping corrupt record %.*s", (int)keylen,
                key);
        return 0;
    }
    root = xstrndup(key, keylen);
    r = fc->cb(fc->ctx, root, &q);
    free(root);
    return r;
}

int
quota_foreach(struct quota_db *qdb, const char *prefix, quota_foreach_cb *cb,
              void *ctx, struct cyrusdb_txn **tid)
{
    struct foreach_ctx fc = {cb, ctx};

    return cyrusdb_foreach(qdb->db, prefix ? prefix : "",
                           prefix ? strlen(prefix) : 0, foreach_cb, &fc, tid);
}

/* ---- formatting ---- */

void
quota_format_resources(const struct quota *q, struct buf *out)
{
    int i, n = 0;

    buf_putc(out, '(');
    for (i = 0; i < QUOTA_NUMRESOURCES; i++) {
        int64_t used = q->used[i];

        if (q->limit[i] == QUOTA_UNLIMITED)
            continue;
        if (i == QUOTA_STORAGE)
            used /= 1024;
        buf_printf(out, "%s%s %lld %lld", n++ ? " " : "", resource_names[i],
                   (long long)used, (long long)q->limit[i]);
    }
    buf_putc(out, ')');
}

void
quota_format_response(const char *root_ext, const struct quota *q,
                      struct buf *out)
{
    buf_appendcstr(out, "* QUOTA ");
    imapquote_string_map(out, root_ext, strlen(root_ext));
    buf_putc(out, ' ');
    quota_format_resources(q, out);
    buf_appendcstr(out, "\r\n");
}
