/* cron.c: parse cron fields into bitmasks; find the next matching minute. */
#include <stdint.h>
#include <string.h>

#include "cron.h"
#include "errors.h"
#include "util.h"
#include "xmalloc.h"

struct cron {
    uint64_t minutes; /* bit 0..59 */
    uint32_t hours;   /* bit 0..23 */
    uint32_t mdays;   /* bit 1..31 */
    uint16_t months;  /* bit 1..12 */
    uint8_t wdays;    /* bit 0..6, Sunday = 0 */
    int mday_star, wday_star;
};

struct cron_field {
    int min, max;
    const char *const *names; /* names[i] stands for min + i */
};

static const char *const cron_month_names[] = {
    "jan", "feb", "mar", "apr", "may", "jun", "jul",
    "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const cron_wday_names[] = {"sun", "mon", "tue", "wed",
                                              "thu", "fri", "sat", NULL};

static const struct cron_field cron_fields[5] = {
    {0, 59, NULL            },
    {0, 23, NULL            },
    {1, 31, NULL            },
    {1, 12, cron_month_names},
    {0, 7,  cron_wday_names },
};

/* A number or a name at *pp; advances *pp. -1 if neither. */
static int
cron_value(const char **pp, const struct cron_field *f)
{
    const char *p = *pp;
    int v = 0, digits = 0, i;

    while (*p >= '0' && *p <= '9' && digits < 4) {
        v = v * 10 + (*p++ - '0');
        digits++;
    }
    if (digits > 0) {
        if (*p >= '0' && *p <= '9')
            return -1;
        *pp = p;
        return v;
    }
    for (i = 0; f->names && f->names[i]; i++) {
        if (util_strncasecmp(p, f->names[i], 3) == 0) {
            *pp = p + 3;
            return f->min + i;
        }
    }
    return -1;
}

/* One field p[0..len) into a bitmask. */
static int
cron_field_parse(const char *p, size_t len, const struct cron_field *f,
                 uint64_t *bits_r, int *star_r, const char **error_r)
{
    char *copy = xstrndup(p, len), *item = copy;
    uint64_t bits = 0;
    int r = 0;

    *star_r = strcmp(copy, "*") == 0;
    while (r == 0) {
        const char *q = item;
        char *comma = strchr(item, ',');
        int lo, hi, step = 1, v, single = 0;

        if (comma)
            *comma = '\0';
        if (*q == '*') {
            lo = f->min;
            hi = f->max;
            q++;
        } else {
            lo = hi = cron_value(&q, f);
            single = 1;
            if (lo < 0) {
                *error_r = "bad number or name in cron field";
                r = ERR_SYNTAX;
                break;
            }
            if (*q == '-') {
                single = 0;
                q++;
                hi = cron_value(&q, f);
                if (hi < 0) {
                    *error_r = "bad range in cron field";
                    r = ERR_SYNTAX;
                    break;
                }
            }
        }
        if (*q == '/') {
            const char *s = ++q;

            step = 0;
            while (*q >= '0' && *q <= '9' && step < 1000)
                step = step * 10 + (*q++ - '0');
            if (q == s || step == 0) {
                *error_r = "bad step in cron field";
                r = ERR_SYNTAX;
                break;
            }
            if (single) /* "N/step": from N to the end of the range */
                hi = f->max;
        }
        if (*q != '\0') {
            *error_r = "unexpected character in cron field";
            r = ERR_SYNTAX;
            break;
        }
        if (lo < f->min || hi > f->max || lo > hi) {
            *error_r = "cron value out of range";
            r = ERR_SYNTAX;
            break;
        }
        for (v = lo; v <= hi; v += step)
            bits |= UINT64_C(1) << v;
        if (comma == NULL)
            break;
        item = comma + 1;
    }
    free(copy);
    *bits_r = bits;
    return r;
}

int
cron_parse(const char *spec, struct cron **cron_r, const char **error_r)
{
    struct cron *c = xzmalloc(sizeof(*c));
    uint64_t bits[5];
    int star[5];
    const char *p = spec;
    int i, r;

    *cron_r = NULL;
    for (i = 0; i < 5; i++) {
        const char *start;

        while (*p == ' ' || *p == '\t')
            p++;
        start = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        if (p == start) {
            *error_r = "cron needs five fields: minute hour day month weekday";
            free(c);
            return ERR_SYNTAX;
        }
        r = cron_field_parse(start, (size_t)(p - start), &cron_fields[i],
                             &bits[i], &star[i], error_r);
        if (r < 0) {
            free(c);
            return r;
        }
    }
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p != '\0') {
        *error_r = "cron has more than five fields";
        free(c);
        return ERR_SYNTAX;
    }
    c->minutes = bits[0];
    c->hours = (uint32_t)bits[1];
    c->mdays = (uint32_t)bits[2];
    c->months = (uint16_t)bits[3];
    /* weekday 7 is Sunday too */
    c->wdays = (uint8_t)((bits[4] | (bits[4] >> 7)) & 0x7f);
    c->mday_star = star[2];
    c->wday_star = star[4];
    *cron_r = c;
    return 0;
}

int
cron_daily(int at, struct cron **cron_r)
{
    struct cron *c;

    *cron_r = NULL;
    if (at < 0 || at > 2359 || at % 100 > 59)
        return ERR_INVALID;
    c = xzmalloc(sizeof(*c));
    c->minutes = UINT64_C(1) << (at % 100);
    c->hours = UINT32_C(1) << (at / 100);
    c->mdays = 0xfffffffe;
    c->months = 0x1ffe;
    c->wdays = 0x7f;
    c->mday_star = c->wday_star = 1;
    *cron_r = c;
    return 0;
}

void
cron_free(struct cron **cp)
{
    free(*cp);
    *cp = NULL;
}

static int
cron_day_matches(const struct cron *c, const struct tm *tm)
{
    int mday = (c->mdays >> tm->tm_mday) & 1;
    int wday = (c->wdays >> tm->tm_wday) & 1;

    if (c->mday_star || c->wday_star)
        return mday && wday;
    return mday || wday;
}

/* mktime() normalises overflowing fields; re-read to get wday etc. */
static time_t
cron_normalise(struct tm *tm)
{
    time_t t;

    tm->tm_isdst = -1;
    t = mktime(tm);
    localtime_r(&t, tm);
    return t;
}

time_t
cron_next(const struct cron *c, time_t after)
{
    struct tm tm;
    time_t t = after - (after % 60) + 60;
    int i;

    localtime_r(&t, &tm);
    tm.tm_sec = 0;
    /* each step advances at least a minute and skips whole months, days
     * and hours that cannot match: a few thousand steps cover 8 years */
    for (i = 0; i < 20000; i++) {
        if (!((c->months >> (tm.tm_mon + 1)) & 1)) {
            tm.tm_mon++;
            tm.tm_mday = 1;
            tm.tm_hour = tm.tm_min = 0;
        } else if (!cron_day_matches(c, &tm)) {
            tm.tm_mday++;
            tm.tm_hour = tm.tm_min = 0;
        } else if (!((c->hours >> tm.tm_hour) & 1)) {
            tm.tm_hour++;
            tm.tm_min = 0;
        } else if (!((c->minutes >> tm.tm_min) & 1)) {
            tm.tm_min++;
        } else {
            t = cron_normalise(&tm);
            if (t > after)
                return t;
            tm.tm_min++;
        }
        t = cron_normalise(&tm);
        tm.tm_sec = 0;
        if (t - after > (time_t)8 * 366 * 86400)
            break;
    }
    return -1;
}
