/* maildate.h: RFC 5322 date-time (3.3, with the obsolete forms of 4.3)
 * to time_t, for the sent date of a message. */
#ifndef MAILDATE_H
#define MAILDATE_H

#include <stddef.h>
#include <time.h>

/* Parse a Date header value such as "Tue, 1 Jul 2003 10:52:37 +0200".
 * Accepted leniently: comments and extra blanks, a missing day name,
 * month names in any case, 2-digit years (< 50 is 20xx, else 19xx) and
 * 3-digit years (+ 1900), missing seconds, obsolete zone names (UT, GMT,
 * EST ... PDT; military letters and a missing zone count as +0000).
 * Returns 0 and sets *t_r (seconds since the epoch, UTC), or ERR_SYNTAX
 * when the text is not a date (field out of range, garbage). */
int maildate_parse(const char *s, size_t len, time_t *t_r);

#endif
