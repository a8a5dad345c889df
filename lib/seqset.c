/* seqset.c: IMAP sequence sets; the contract is in seqset.h. */
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "seqset.h"
#include "xmalloc.h"

struct seqset_range {
    uint32_t lo, hi; /* as written; SEQSET_STAR (0) is "*" */
};

struct seqset {
    struct seqset_range *r;
    size_t n, alloc;
    /* ranges ascending, lo <= hi, disjoint and not adjacent, no "*" */
    int normalized;
};

struct seqset *
seqset_new(void)
{
    struct seqset *s = xzmalloc(sizeof(*s));

    s->normalized = 1;
    return s;
}

void
seqset_free(struct seqset **sp)
{
    struct seqset *s = *sp;

    if (s == NULL)
        return;
    *sp = NULL;
    free(s->r);
    free(s);
}

struct seqset *
seqset_dup(const struct seqset *s)
{
    struct seqset *d = seqset_new();

    if (s->n > 0) {
        d->r = xmemdup(s->r, s->n * sizeof(*s->r));
        d->n = d->alloc = s->n;
    }
    d->normalized = s->normalized;
    return d;
}

static void
seqset_push(struct seqset *s, uint32_t lo, uint32_t hi)
{
    if (s->n == s->alloc) {
        s->alloc = s->alloc ? s->alloc * 2 : 4;
        s->r = xreallocarray(s->r, s->alloc, sizeof(*s->r));
    }
    s->r[s->n].lo = lo;
    s->r[s->n].hi = hi;
    s->n++;
}

void
seqset_add(struct seqset *s, uint32_t lo, uint32_t hi)
{
    struct seqset_range *last;

    if (lo != SEQSET_STAR && hi != SEQSET_STAR && lo > hi) {
        uint32_t t = lo;

        lo = hi;
        hi = t;
    }
    if (lo == SEQSET_STAR || hi == SEQSET_STAR) {
        seqset_push(s, lo, hi);
        s->normalized = 0;
        return;
    }
    if (!s->normalized || s->n == 0) {
        seqset_push(s, lo, hi);
        return;
    }
    last = &s->r[s->n - 1];
    /* fast path for ascending input: extend or append in place */
    if (lo >= last->lo && (uint64_t)lo <= (uint64_t)last->hi + 1) {
        if (hi > last->hi)
            last->hi = hi;
        return;
    }
    /* before the push, which may move the array */
    if (lo < last->lo)
        s->normalized = 0;
    seqset_push(s, lo, hi);
}

void
seqset_add_num(struct seqset *s, uint32_t n)
{
    seqset_add(s, n, n);
}

/* One "n" or "*" at p[*pos], advancing *pos. */
static int
seqset_parse_num(const char *p, size_t len, size_t *pos, uint32_t *val_r)
{
    uint64_t v = 0;
    size_t i = *pos;

    if (i < len && p[i] == '*') {
        *pos = i + 1;
        *val_r = SEQSET_STAR;
        return 0;
    }
    if (i >= len || p[i] < '0' || p[i] > '9')
        return -1;
    for (; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
        v = v * 10 + (unsigned)(p[i] - '0');
        if (v > UINT32_MAX)
            return -2;
    }
    if (v == 0)
        return -3;
    *pos = i;
    *val_r = (uint32_t)v;
    return 0;
}

int
seqset_parse(const char *p, size_t len, struct seqset **set_r,
             const char **error_r)
{
    static const char *const reasons[] = {"Invalid sequence set",
                                          "Sequence number too large",
                                          "Invalid sequence number 0"};
    struct seqset *s;
    size_t pos = 0;
    int r = 0;

    if (len == 0) {
        if (error_r)
            *error_r = "Empty sequence set";
        return ERR_SYNTAX;
    }
    s = seqset_new();
    for (;;) {
        uint32_t lo, hi;

        r = seqset_parse_num(p, len, &pos, &lo);
        if (r < 0)
            break;
        hi = lo;
        if (pos < len && p[pos] == ':') {
            pos++;
            r = seqset_parse_num(p, len, &pos, &hi);
            if (r < 0)
                break;
        }
        seqset_add(s, lo, hi);
        if (pos == len)
            break;
        if (p[pos] != ',') {
            r = -1;
            break;
        }
        pos++;
    }
    if (r < 0) {
        if (error_r)
            *error_r = reasons[-r - 1];
        seqset_free(&s);
        return ERR_SYNTAX;
    }
    *set_r = s;
    return 0;
}

struct seqset *
seqset_from_list(const uint32_t *nums, size_t n)
{
    struct seqset *s = seqset_new();
    size_t i;

    for (i = 0; i < n; i++) {
        if (nums[i] != 0)
            seqset_add_num(s, nums[i]);
    }
    seqset_normalize(s, 0);
    return s;
}

int
seqset_is_empty(const struct seqset *s)
{
    return s->n == 0;
}

int
seqset_has_star(const struct seqset *s)
{
    size_t i;

    for (i = 0; i < s->n; i++) {
        if (s->r[i].lo == SEQSET_STAR || s->r[i].hi == SEQSET_STAR)
            return 1;
    }
    return 0;
}

/* Resolve range i against max into [*lo_r, *hi_r]; 0 if it is empty. */
static int
seqset_resolve(const struct seqset_range *rg, uint32_t max, uint32_t *lo_r,
               uint32_t *hi_r)
{
    uint32_t a = rg->lo, b = rg->hi;

    if (a == SEQSET_STAR || b == SEQSET_STAR) {
        if (max == 0)
            return 0;
        if (a == SEQSET_STAR)
            a = max;
        if (b == SEQSET_STAR)
            b = max;
    }
    if (a > b) {
        *lo_r = b;
        *hi_r = a;
    } else {
        *lo_r = a;
        *hi_r = b;
    }
    return 1;
}

static int
seqset_range_cmp(const void *a, const void *b)
{
    const struct seqset_range *x = a, *y = b;

    if (x->lo != y->lo)
        return x->lo < y->lo ? -1 : 1;
    if (x->hi != y->hi)
        return x->hi < y->hi ? -1 : 1;
    return 0;
}

void
seqset_normalize(struct seqset *s, uint32_t max)
{
    size_t i, out = 0;

    if (s->normalized)
        return;
    for (i = 0; i < s->n; i++) {
        uint32_t lo, hi;

        if (seqset_resolve(&s->r[i], max, &lo, &hi)) {
            s->r[out].lo = lo;
            s->r[out].hi = hi;
            out++;
        }
    }
    s->n = out;
    if (s->n > 1)
        qsort(s->r, s->n, sizeof(*s->r), seqset_range_cmp);
    out = 0;
    for (i = 0; i < s->n; i++) {
        if (out > 0 && (uint64_t)s->r[i].lo <= (uint64_t)s->r[out - 1].hi + 1) {
            if (s->r[i].hi > s->r[out - 1].hi)
                s->r[out - 1].hi = s->r[i].hi;
        } else {
            s->r[out++] = s->r[i];
        }
    }
    s->n = out;
    s->normalized = 1;
}

/* Index of the first normalized range with hi >= num, or s->n. */
static size_t
seqset_search(const struct seqset *s, uint32_t num)
{
    size_t lo = 0, hi = s->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (s->r[mid].hi < num)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int
seqset_contains(const struct seqset *s, uint32_t num, uint32_t max)
{
    size_t i;

    if (num == 0)
        return 0;
    if (s->normalized) {
        i = seqset_search(s, num);
        return i < s->n && s->r[i].lo <= num;
    }
    for (i = 0; i < s->n; i++) {
        uint32_t lo, hi;

        if (seqset_resolve(&s->r[i], max, &lo, &hi) && lo <= num && num <= hi)
            return 1;
    }
    return 0;
}

uint32_t
seqset_next(const struct seqset *s, uint32_t max, uint32_t after)
{
    uint32_t best = 0;
    size_t i;

    if (after == UINT32_MAX)
        return 0;
    if (s->normalized) {
        i = seqset_search(s, after + 1);
        if (i == s->n)
            return 0;
        return s->r[i].lo > after ? s->r[i].lo : after + 1;
    }
    for (i = 0; i < s->n; i++) {
        uint32_t lo, hi, cand;

        if (!seqset_resolve(&s->r[i], max, &lo, &hi) || hi <= after)
            continue;
        cand = lo > after ? lo : after + 1;
        if (best == 0 || cand < best)
            best = cand;
    }
    return best;
}

uint32_t
seqset_first(const struct seqset *s, uint32_t max)
{
    return seqset_next(s, max, 0);
}

uint32_t
seqset_last(const struct seqset *s, uint32_t max)
{
    uint32_t best = 0;
    size_t i;

    if (s->normalized)
        return s->n ? s->r[s->n - 1].hi : 0;
    for (i = 0; i < s->n; i++) {
        uint32_t lo, hi;

        if (seqset_resolve(&s->r[i], max, &lo, &hi) && hi > best)
            best = hi;
    }
    return best;
}

int
seqset_foreach_range(const struct seqset *s, uint32_t max, seqset_range_cb *cb,
                     void *ctx)
{
    struct seqset *tmp = NULL;
    const struct seqset *use = s;
    size_t i;
    int r = 0;

    if (!s->normalized) {
        tmp = seqset_dup(s);
        seqset_normalize(tmp, max);
        use = tmp;
    }
    for (i = 0; i < use->n && r == 0; i++)
        r = cb(use->r[i].lo, use->r[i].hi, ctx);
    seqset_free(&tmp);
    return r;
}

static int
seqset_count_cb(uint32_t lo, uint32_t hi, void *ctx)
{
    uint64_t *total = ctx;

    *total += (uint64_t)hi - lo + 1;
    return 0;
}

uint64_t
seqset_count(const struct seqset *s, uint32_t max)
{
    uint64_t total = 0;

    seqset_foreach_range(s, max, seqset_count_cb, &total);
    return total;
}

static void
seqset_format_num(struct buf *out, uint32_t n)
{
    if (n == SEQSET_STAR)
        buf_putc(out, '*');
    else
        buf_printf(out, "%u", n);
}

void
seqset_format(const struct seqset *s, struct buf *out)
{
    size_t i;

    for (i = 0; i < s->n; i++) {
        if (i > 0)
            buf_putc(out, ',');
        seqset_format_num(out, s->r[i].lo);
        if (s->r[i].hi != s->r[i].lo) {
            buf_putc(out, ':');
            seqset_format_num(out, s->r[i].hi);
        }
    }
}
