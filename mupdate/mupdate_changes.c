/* mupdate_changes.c: the change log for resync by changes (see
 * mupdate_changes.h). */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "errors.h"
#include "hash.h"
#include "mupdate_changes.h"
#include "util.h"
#include "xmalloc.h"

#define KEY_EPOCH    "e"
#define KEY_LAST     "n"
#define KEY_HORIZON  "h"
#define KEY_POSITION "s"
#define LOG_PREFIX   "l"

struct mupdate_changes {
    struct cyrusdb *db;
    size_t max;
    char epoch[40];
    uint64_t last;        /* committed */
    uint64_t horizon;     /* committed */
    uint64_t next;        /* last counter noted in the open transaction */
    uint64_t new_horizon; /* after the open transaction's trim */
    int pending;          /* changes noted in the open transaction */
};

static void
log_key(char out[24], uint64_t n)
{
    snprintf(out, 24, LOG_PREFIX "%016" PRIx64, n);
}

static int
put_u64(struct cyrusdb *db, const char *key, uint64_t v,
        struct cyrusdb_txn **tid)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v);

    return cyrusdb_store(db, key, strlen(key), tmp, (size_t)n, tid);
}

/* 0 with *v_r (0 when absent), or an error. */
static int
get_u64(struct cyrusdb *db, const char *key, uint64_t *v_r)
{
    const char *data;
    size_t len;
    int r = cyrusdb_fetch(db, key, strlen(key), &data, &len, NULL);

    *v_r = 0;
    if (r == ERR_NOTFOUND)
        return 0;
    if (r < 0)
        return r;
    return util_parse_u64(data, len, UINT64_MAX, v_r) == 0 ? 0 : ERR_IO;
}

/* A random epoch: 16 hex digits. */
static void
new_epoch(char out[40])
{
    uint64_t v = 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

    if (fd < 0 || read(fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
        v = util_now_ms() * 6364136223846793005ULL ^ (uint64_t)getpid();
    if (fd >= 0)
        close(fd);
    snprintf(out, 40, "%016" PRIx64, v);
}

int
mupdate_changes_reset(struct cyrusdb *db)
{
    char epoch[40];

    new_epoch(epoch);
    return cyrusdb_store(db, KEY_EPOCH, 1, epoch, strlen(epoch), NULL);
}

int
mupdate_changes_open(struct cyrusdb *db, size_t max,
                     struct mupdate_changes **ch_r)
{
    struct mupdate_changes *ch;
    const char *data;
    size_t len;
    int r;

    *ch_r = NULL;
    r = cyrusdb_fetch(db, KEY_EPOCH, 1, &data, &len, NULL);
    if (r == ERR_NOTFOUND) {
        r = mupdate_changes_reset(db);
        if (r == 0)
            r = cyrusdb_fetch(db, KEY_EPOCH, 1, &data, &len, NULL);
    }
    if (r < 0)
        return r;
    ch = xzmalloc(sizeof(*ch));
    ch->db = db;
    ch->max = max ? max : MUPDATE_CHANGES_MAX;
    snprintf(ch->epoch, sizeof(ch->epoch), "%.*s",
             (int)(len < sizeof(ch->epoch) ? len : sizeof(ch->epoch) - 1),
             data);
    r = get_u64(db, KEY_LAST, &ch->last);
    if (r == 0)
        r = get_u64(db, KEY_HORIZON, &ch->horizon);
    if (r < 0) {
        free(ch);
        return r;
    }
    ch->next = ch->last;
    ch->new_horizon = ch->horizon;
    *ch_r = ch;
    return 0;
}

void
mupdate_changes_free(struct mupdate_changes **chp)
{
    free(*chp);
    *chp = NULL;
}

const char *
mupdate_changes_epoch(const struct mupdate_changes *ch)
{
    return ch->epoch;
}

uint64_t
mupdate_changes_last(const struct mupdate_changes *ch)
{
    return ch->last;
}

uint64_t
mupdate_changes_horizon(const struct mupdate_changes *ch)
{
    return ch->horizon;
}

int
mupdate_changes_note(struct mupdate_changes *ch, const char *name,
                     struct cyrusdb_txn **tid)
{
    char key[24];

    if (!ch->pending) {
        ch->next = ch->last;
        ch->new_horizon = ch->horizon;
    }
    ch->pending = 1;
    log_key(key, ++ch->next);
    return cyrusdb_store(ch->db, key, strlen(key), name, strlen(name), tid);
}

int
mupdate_changes_prepare(struct mupdate_changes *ch, struct cyrusdb_txn **tid)
{
    uint64_t h, target;
    char key[24];
    int r;

    if (!ch->pending)
        return 0;
    r = put_u64(ch->db, KEY_LAST, ch->next, tid);
    if (r < 0)
        return r;
    /* trim in steps of max/8, not at every change: each step is one
     * transaction's worth of deletes */
    if (ch->next - ch->new_horizon <= ch->max + ch->max / 8)
        return 0;
    target = ch->next - ch->max;
    for (h = ch->new_horizon + 1; h <= target; h++) {
        log_key(key, h);
        r = cyrusdb_delete(ch->db, key, strlen(key), tid, 1);
        if (r < 0)
            return r;
    }
    r = put_u64(ch->db, KEY_HORIZON, target, tid);
    if (r == 0)
        ch->new_horizon = target;
    return r;
}

void
mupdate_changes_done(struct mupdate_changes *ch, int ok)
{
    if (ch->pending && ok) {
        ch->last = ch->next;
        ch->horizon = ch->new_horizon;
    }
    ch->next = ch->last;
    ch->new_horizon = ch->horizon;
    ch->pending = 0;
}

struct since_ctx {
    struct hash *seen;
    struct strarray *names;
};

static int
since_cb(void *ctx, const char *key, size_t keylen, const char *data,
         size_t datalen)
{
    struct since_ctx *sc = ctx;
    char *name = xstrndup(data, datalen);

    (void)key;
    (void)keylen;
    if (hash_lookup(sc->seen, name) == NULL) {
        hash_insert(sc->seen, name, (void *)1);
        strarray_append(sc->names, name);
    }
    free(name);
    return 0;
}

int
mupdate_changes_since(struct mupdate_changes *ch, const char *epoch,
                      uint64_t since, struct strarray *names_r)
{
    struct since_ctx sc;
    char key[24];
    int r;

    if (epoch == NULL || strcmp(epoch, ch->epoch) != 0 || since < ch->horizon
        || since > ch->last)
        return ERR_NOTFOUND;
    sc.seen = hash_new(256);
    sc.names = names_r;
    log_key(key, since);
    /* the log's keys sort by counter: start right after since */
    r = cyrusdb_foreach_after(ch->db, LOG_PREFIX, 1, key, strlen(key), since_cb,
                              &sc, NULL);
    hash_free(&sc.seen, NULL);
    return r;
}

int
mupdate_changes_position(struct cyrusdb *db, struct buf *epoch_r, uint64_t *n_r)
{
    const char *data, *sp;
    size_t len;
    int r = cyrusdb_fetch(db, KEY_POSITION, 1, &data, &len, NULL);

    *n_r = 0;
    if (r < 0)
        return r;
    sp = memchr(data, ' ', len);
    if (sp == NULL
        || util_parse_u64(sp + 1, len - (size_t)(sp - data) - 1, UINT64_MAX,
                          n_r)
               != 0)
        return ERR_NOTFOUND; /* unreadable: as if never synced */
    buf_setmap(epoch_r, data, (size_t)(sp - data));
    return 0;
}

int
mupdate_changes_set_position(struct cyrusdb *db, const char *epoch, uint64_t n)
{
    struct buf v = BUF_INITIALIZER;
    int r;

    buf_printf(&v, "%s %" PRIu64, epoch, n);
    r = cyrusdb_store(db, KEY_POSITION, 1, buf_base(&v), buf_len(&v), NULL);
    buf_free(&v);
    return r;
}
