/* log.h: logging through syslog, tagged with the service name.
 *
 * When the environment variable CYRUS_LOGFILE names a file, every line is
 * also appended there with a timestamp and pid (tests read it; master
 * passes it on to its children). */
#ifndef LOG_H
#define LOG_H

#include <syslog.h>

#include "util.h"

/* ident: the service or program name ("imap", "master", ...). */
void log_init(const char *ident);
void log_msg(int prio, const char *fmt, ...) ATTR_FORMAT(2, 3);
/* Log at debug level only when CYRUS_DEBUG is set. */
int log_debug_enabled(void);
const char *log_ident(void);

#endif
