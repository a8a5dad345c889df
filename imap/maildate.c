/* maildate.c: RFC 5322 dates to time_t (see maildate.h). */
#include <stdint.h>
#include <string.h>

#include "errors.h"
#include "maildate.h"
#include "util.h"

struct dscan {
    const char *s;
    size_t len, i;
};

static int
dpeek(const struct dscan *d)
{
    return d->i < d->len ? (unsigned char)d->s[d->i] : 0;
}

/* Blanks, line ends and (nested) comments: RFC 5322 CFWS. */
static void
dskip(struct dscan *d)
{
    int depth = 0, c;

    while ((c = dpeek(d)) != 0) {
        if (c == '(')
            depth++;
        else if (c == ')' && depth > 0)
            depth--;
        else if (c == '\\' && depth > 0)
            d->i++;
        else if (depth == 0 && c != ' ' && c != '\t' && c != '\r' && c != '\n')
            break;
        d->i++;
    }
}

/* Up to maxdigits digits; returns the count read (0: none). */
static int
dnum(struct dscan *d, int maxdigits, int *val_r)
{
    int n = 0, v = 0, c;

    while (n < maxdigits && (c = dpeek(d)) >= '0' && c <= '9') {
        v = v * 10 + (c - '0');
        d->i++;
        n++;
    }
    *val_r = v;
    return n;
}

/* A run of letters, lowercased into word (at most cap-1 kept). */
static size_t
dword(struct dscan *d, char *word, size_t cap)
{
    size_t n = 0;
    int c;

    while (((c = dpeek(d)) >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
        if (n + 1 < cap)
            word[n++] = (char)(c | 0x20);
        d->i++;
    }
    word[n] = '\0';
    return n;
}

static int
month_index(const char *w)
{
    static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    int m;

    if (strlen(w) < 3)
        return -1;
    for (m = 0; m < 12; m++) {
        if (memcmp(months + 3 * m, w, 3) == 0)
            return m;
    }
    return -1;
}

/* Zone offset in minutes east of UTC from a zone name. */
static int
zone_name(const char *w, int *min_r)
{
    static const struct {
        const char *name;
        int hours;
    } zones[] = {
        {"ut",  0 },
        {"utc", 0 },
        {"gmt", 0 },
        {"z",   0 },
        {"est", -5},
        {"edt", -4},
        {"cst", -6},
        {"cdt", -5},
        {"mst", -7},
        {"mdt", -6},
        {"pst", -8},
        {"pdt", -7},
    };
    size_t i;

    for (i = 0; i < ARRAY_SIZE(zones); i++) {
        if (strcmp(zones[i].name, w) == 0) {
            *min_r = zones[i].hours * 60;
            return 0;
        }
    }
    /* RFC 5322 4.3: other military zones are treated as -0000 */
    if (strlen(w) == 1) {
        *min_r = 0;
        return 0;
    }
    return -1;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (m: 1..12). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int
maildate_parse(const char *s, size_t len, time_t *t_r)
{
    struct dscan d = {s, len, 0};
    char word[16];
    int day, mon, year, hour, min, sec = 0, zone = 0, n;

    dskip(&d);
    /* optional day-of-week, with or without the comma */
    if (dword(&d, word, sizeof(word)) > 0) {
        dskip(&d);
        if (dpeek(&d) == ',')
            d.i++;
        dskip(&d);
    }
    if (dnum(&d, 2, &day) == 0)
        return ERR_SYNTAX;
    dskip(&d);
    if (dpeek(&d) == '-') /* "1-Jul-2003" as IMAP dates write it */
        d.i++;
    dword(&d, word, sizeof(word));
    if ((mon = month_index(word)) < 0)
        return ERR_SYNTAX;
    dskip(&d);
    if (dpeek(&d) == '-')
        d.i++;
    n = dnum(&d, 4, &year);
    if (n < 2)
        return ERR_SYNTAX;
    if (n == 2)
        year += year < 50 ? 2000 : 1900;
    else if (n == 3)
        year += 1900;
    dskip(&d);
    if (dnum(&d, 2, &hour) == 0 || dpeek(&d) != ':')
        return ERR_SYNTAX;
    d.i++;
    if (dnum(&d, 2, &min) != 2)
        return ERR_SYNTAX;
    if (dpeek(&d) == ':') {
        d.i++;
        if (dnum(&d, 2, &sec) != 2)
            return ERR_SYNTAX;
    }
    dskip(&d);
    if (dpeek(&d) == '+' || dpeek(&d) == '-') {
        int sign = dpeek(&d) == '-' ? -1 : 1, hhmm;

        d.i++;
        if (dnum(&d, 4, &hhmm) != 4 || hhmm % 100 > 59)
            return ERR_SYNTAX;
        zone = sign * ((hhmm / 100) * 60 + hhmm % 100);
    } else if (dword(&d, word, sizeof(word)) > 0) {
        if (zone_name(word, &zone) < 0)
            return ERR_SYNTAX;
    }
    if (day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
        return ERR_SYNTAX;
    *t_r = (time_t)(days_from_civil(year, mon + 1, day) * 86400 + hour * 3600
                    + min * 60 + sec - zone * 60);
    return 0;
}
