/* log.c: syslog with an optional mirror file for tests. */
#include <fcntl.h>
#include <paths.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"

/* Process-wide logging state, set once by log_init(). */
static struct {
    char ident[64];
    int mirror_fd;
    int debug;
    int no_syslogd;    /* _PATH_LOG was missing at the last look */
    time_t next_look;  /* when to look again */
} log_state = {"cyrus", -1, 0, 0, 0};

/* Without a syslog daemon, glibc's syslog() makes and closes a socket on
 * every call trying to reach it again (a measurable part of an LMTP
 * delivery on a machine without one): look for its socket at most every
 * few seconds instead, and skip syslog() while it is absent. */
#define SYSLOG_LOOK_SECONDS 10

static int
syslogd_present(void)
{
    time_t now = time(NULL);

    if (now >= log_state.next_look) {
        log_state.no_syslogd = access(_PATH_LOG, W_OK) < 0;
        log_state.next_look = now + SYSLOG_LOOK_SECONDS;
    }
    return !log_state.no_syslogd;
}

void
log_init(const char *ident)
{
    const char *file = getenv("CYRUS_LOGFILE");
    const char *prefix = getenv("CYRUS_SYSLOG_PREFIX");

    snprintf(log_state.ident, sizeof(log_state.ident), "%s%s%s",
             prefix ? prefix : "", prefix ? "/" : "", ident);
    closelog();
    openlog(log_state.ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
    if (log_state.mirror_fd >= 0)
        close(log_state.mirror_fd);
    log_state.mirror_fd = -1;
    log_state.next_look = 0;
    if (file && *file)
        log_state.mirror_fd =
            open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    log_state.debug = getenv("CYRUS_DEBUG") != NULL;
}

const char *
log_ident(void)
{
    return log_state.ident;
}

int
log_debug_enabled(void)
{
    return log_state.debug;
}

void
log_msg(int prio, const char *fmt, ...)
{
    va_list ap;
    struct buf line = BUF_INITIALIZER;

    if (prio == LOG_DEBUG && !log_state.debug)
        return;
    va_start(ap, fmt);
    buf_vprintf(&line, fmt, ap);
    va_end(ap);
    if (syslogd_present())
        syslog(prio, "%s", buf_cstring(&line));
    if (log_state.mirror_fd >= 0) {
        struct buf out = BUF_INITIALIZER;
        struct timeval tv;
        struct tm tm;

        gettimeofday(&tv, NULL);
        localtime_r(&tv.tv_sec, &tm);
        buf_printf(&out, "%02d:%02d:%02d.%03d %s[%d]: %s\n", tm.tm_hour,
                   tm.tm_min, tm.tm_sec, (int)(tv.tv_usec / 1000),
                   log_state.ident, (int)getpid(), buf_cstring(&line));
        /* one write() per line keeps lines from several processes whole */
        if (write(log_state.mirror_fd, buf_base(&out), buf_len(&out)) < 0) {
            /* a failing mirror must not stop the server */
        }
        buf_free(&out);
    }
    buf_free(&line);
}
