/* ratelimit.h: how often master may fork for one service or daemon.
 *
 * Two limits, both per cyrus.conf entry: `maxforkrate` forks per second (a
 * one-second window; 0 means no limit), and a crash brake: after
 * RATELIMIT_CRASHES abnormal exits (the caller decides which exits count:
 * for services, only workers that died before serving a client) within
 * RATELIMIT_CRASH_WINDOW_MS the
 * entry is held back for a while, 1 s the first time, doubling on each
 * further hold up to 30 s, and starting again at 1 s once the entry has
 * behaved for a minute. Pure arithmetic on a caller-supplied clock. */
#ifndef RATELIMIT_H
#define RATELIMIT_H

#include <stdint.h>

#define RATELIMIT_CRASHES         5
#define RATELIMIT_CRASH_WINDOW_MS 10000
#define RATELIMIT_MAX_HOLD_MS     30000

struct ratelimit {
    long maxrate; /* forks per second, 0: unlimited */
    uint64_t window_start_ms;
    unsigned forks;
    uint64_t crash_window_start_ms;
    unsigned crashes;
    unsigned hold_ms; /* length of the last hold, 0: none yet */
    uint64_t hold_until_ms;
};

/* A limiter allowing maxrate forks per second. */
void ratelimit_init(struct ratelimit *r, long maxrate);
/* Milliseconds to wait before the next fork is allowed; 0: fork now. */
unsigned ratelimit_delay(struct ratelimit *r, uint64_t now_ms);
/* Count a fork made at now_ms. */
void ratelimit_forked(struct ratelimit *r, uint64_t now_ms);
/* Count an abnormal exit. Returns the length in ms of the hold this crash
 * starts (the caller logs it), or 0 when no hold starts. */
unsigned ratelimit_crashed(struct ratelimit *r, uint64_t now_ms);

#endif
