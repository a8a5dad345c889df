/* cron.h: five-field cron schedules for EVENTS (`cron="m h dom mon dow"`)
 * and daily `at=hhmm` times.
 *
 * Field syntax as Vixie cron: `*`, `N`, `N-M`, each optionally `/step`,
 * joined by commas; months and weekdays also by 3-letter English names
 * (jan..dec, sun..sat); weekday 0 and 7 are Sunday. When both day of
 * month and day of week are restricted, a day matching either one
 * matches. Times are local time. Pure: no I/O, no globals. */
#ifndef CRON_H
#define CRON_H

#include <time.h>

struct cron;

/* Parse spec. Returns 0 and a new schedule in *cron_r, or ERR_SYNTAX with
 * a static description in *error_r. */
int cron_parse(const char *spec, struct cron **cron_r, const char **error_r);
/* The schedule "every day at hh:mm" for at = hh*100 + mm (0..2359 with
 * mm < 60). Returns 0 or ERR_INVALID. */
int cron_daily(int at, struct cron **cron_r);
void cron_free(struct cron **cp);

/* The first matching minute strictly after `after` (seconds since the
 * epoch), or -1 if nothing matches within about eight years (a 31st of
 * February). */
time_t cron_next(const struct cron *c, time_t after);

#endif
