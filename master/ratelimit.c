/* ratelimit.c: fork rate and crash brake for master's entries. */
#include <string.h>

#include "ratelimit.h"

void
ratelimit_init(struct ratelimit *r, long maxrate)
{
    memset(r, 0, sizeof(*r));
    r->maxrate = maxrate;
}

static void
ratelimit_roll(struct ratelimit *r, uint64_t now_ms)
{
    if (now_ms - r->window_start_ms >= 1000 || now_ms < r->window_start_ms) {
        r->window_start_ms = now_ms;
        r->forks = 0;
    }
}

unsigned
ratelimit_delay(struct ratelimit *r, uint64_t now_ms)
{
    if (r->hold_until_ms > now_ms)
        return (unsigned)(r->hold_until_ms - now_ms);
    if (r->maxrate <= 0)
        return 0;
    ratelimit_roll(r, now_ms);
    if (r->forks < (unsigned long)r->maxrate)
        return 0;
    return (unsigned)(r->window_start_ms + 1000 - now_ms);
}

void
ratelimit_forked(struct ratelimit *r, uint64_t now_ms)
{
    ratelimit_roll(r, now_ms);
    r->forks++;
}

unsigned
ratelimit_crashed(struct ratelimit *r, uint64_t now_ms)
{
    if (now_ms - r->crash_window_start_ms > RATELIMIT_CRASH_WINDOW_MS) {
        r->crash_window_start_ms = now_ms;
        r->crashes = 0;
        /* a minute of good behaviour since the last hold: start over */
        if (now_ms > r->hold_until_ms + 60000)
            r->hold_ms = 0;
    }
    if (++r->crashes < RATELIMIT_CRASHES)
        return 0;
    r->hold_ms = r->hold_ms ? r->hold_ms * 2 : 1000;
    if (r->hold_ms > RATELIMIT_MAX_HOLD_MS)
        r->hold_ms = RATELIMIT_MAX_HOLD_MS;
    r->hold_until_ms = now_ms + r->hold_ms;
    r->crashes = 0;
    r->crash_window_start_ms = now_ms;
    return r->hold_ms;
}
