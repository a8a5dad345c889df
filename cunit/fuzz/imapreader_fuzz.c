/* imapreader_fuzz.c: libFuzzer target for lib/imapreader.c.
 *
 * The first bytes choose limits and a sink; the rest is the client
 * stream. It is fed once whole and once in pseudo-random pieces; the
 * caller's decisions depend only on the literal's ordinal, so both runs
 * must report the same events. Every command must respect the limits and
 * go through the tokenizer without harm. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "imapreader.h"
#include "imaptok.h"

struct run {
    struct imapreader *r;
    struct imapreader_limits lim;
    struct buf log;
    uint64_t sunk;
    unsigned nlit;
    unsigned policy;
};

static int
sink_cb(void *ctx, unsigned index, uint64_t size, uint64_t offset,
        const char *data, size_t len)
{
    struct run *run = ctx;

    (void)index;
    (void)data;
    if (len == 0 || offset + len > size)
        abort();
    run->sunk += len;
    /* fail now and then, deterministically by position */
    return (run->policy & 8) && offset + len == size && size % 7 == 3 ? -5 : 0;
}

static void
tokenize(const char *cmd, size_t len, const struct imaptok_spooled *sp,
         size_t nsp)
{
    struct imaptok t;
    struct imaptok_span a;
    struct imaptok_literal lit;
    struct buf b = BUF_INITIALIZER;

    imaptok_init(&t, cmd, len);
    imaptok_set_spooled(&t, sp, nsp);
    if (imaptok_tag(&t, &a) < 0 || imaptok_sp(&t) < 0
        || imaptok_atom(&t, &a) < 0)
        return;
    while (imaptok_sp(&t) == 0) {
        int c = imaptok_peek(&t);

        if (c == '{' || c == '~') {
            if (imaptok_literal(&t, &lit) < 0)
                break;
        } else if (imaptok_astring(&t, &b) < 0) {
            break;
        }
    }
    buf_free(&b);
}

static void
event(struct run *run, enum imapreader_state st)
{
    const char *p;
    const struct imaptok_spooled *sp;
    size_t n, nsp;

    switch (st) {
    case IMAPREADER_LITERAL:
        if (imapreader_literal_size(run->r) > run->lim.max_literal)
            abort();
        buf_printf(&run->log, "L%llu%c",
                   (unsigned long long)imapreader_literal_size(run->r),
                   imapreader_literal_sync(run->r) ? 's' : 'n');
        if ((run->nlit++ + run->policy) % 3 == 0) {
            buf_printf(&run->log, "R%d", imapreader_reject_literal(run->r));
        } else {
            imapreader_accept_literal(run->r);
        }
        break;
    case IMAPREADER_COMMAND:
        p = imapreader_command(run->r, &n);
        if (n > run->lim.max_command || p[n] != '\0')
            abort();
        buf_printf(&run->log, "C%zu:", n);
        buf_appendmap(&run->log, p, n);
        sp = imapreader_spooled(run->r, &nsp);
        tokenize(p, n, sp, nsp);
        if (run->policy & 16)
            imapreader_read_line(run->r);
        break;
    case IMAPREADER_LINE:
        p = imapreader_line(run->r, &n);
        if (n > run->lim.max_line)
            abort();
        buf_printf(&run->log, "N%zu:", n);
        buf_appendmap(&run->log, p, n);
        break;
    case IMAPREADER_ERROR:
        p = imapreader_error_tag(run->r);
        buf_printf(&run->log, "E%s/%s", imapreader_error(run->r), p ? p : "*");
        break;
    case IMAPREADER_CLOSE:
        buf_printf(&run->log, "X%s", imapreader_error(run->r));
        break;
    case IMAPREADER_NEED_MORE:
        break;
    }
}

/* Feed data in pieces from the PRNG (0 seed: all at once); the events
 * go to log. */
static void
feed(const struct imapreader_limits *lim, unsigned policy, const char *data,
     size_t len, uint32_t seed, struct buf *log)
{
    struct run run;
    size_t off = 0;

    memset(&run, 0, sizeof(run));
    run.lim = *lim;
    run.policy = policy;
    run.r = imapreader_new(lim);
    if (policy & 4)
        imapreader_set_literal_sink(run.r, sink_cb, &run);
    while (off < len) {
        size_t piece = len - off, used;
        enum imapreader_state st;

        if (seed) {
            seed = seed * 1103515245u + 12345u;
            piece = 1 + (seed >> 16) % 13;
            if (piece > len - off)
                piece = len - off;
        }
        /* feed one piece until it is used up */
        for (;;) {
            st = imapreader_feed(run.r, data + off, piece, &used);
            if (used > piece)
                abort();
            off += used;
            piece -= used;
            event(&run, st);
            if (st == IMAPREADER_CLOSE)
                goto out;
            if (st == IMAPREADER_NEED_MORE) {
                if (piece != 0)
                    abort();
                break;
            }
        }
    }
out:
    imapreader_free(&run.r);
    *log = run.log;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    struct imapreader_limits lim;
    unsigned policy;
    struct buf a, b;

    if (n < 2)
        return 0;
    policy = d[0];
    imapreader_limits_default(&lim);
    if (d[1] & 1) {
        lim.max_line = 16 + d[1] % 48;
        lim.max_literal = 64;
        lim.max_command = 96;
        lim.max_literals = 1 + d[1] % 4;
        lim.max_discard = 32;
        lim.spool_threshold = 1 + d[1] % 16;
    }
    feed(&lim, policy, (const char *)d + 2, n - 2, 0, &a);
    feed(&lim, policy, (const char *)d + 2, n - 2, 1 + d[1], &b);
    if (a.len != b.len || memcmp(buf_base(&a), buf_base(&b), a.len) != 0)
        abort();
    buf_free(&a);
    buf_free(&b);
    return 0;
}
