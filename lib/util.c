/* util.c: small helpers shared by every module. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "util.h"

void
util_assert_fail(const char *expr, const char *file, int line)
{
    syslog(LOG_CRIT, "assertion failed: %s (%s:%d)", expr, file, line);
    fprintf(stderr, "assertion failed: %s (%s:%d)\n", expr, file, line);
    abort();
}

void
util_fatal(int code, const char *fmt, ...)
{
    va_list ap;
    struct buf msg = BUF_INITIALIZER;

    va_start(ap, fmt);
    buf_vprintf(&msg, fmt, ap);
    va_end(ap);
    syslog(LOG_ERR, "fatal: %s", buf_cstring(&msg));
    fprintf(stderr, "fatal: %s\n", buf_cstring(&msg));
    buf_free(&msg);
    exit(code);
}

int
util_parse_u64(const char *p, size_t len, uint64_t max, uint64_t *val_r)
{
    uint64_t v = 0;
    size_t i;

    if (len == 0)
        return -1;
    for (i = 0; i < len; i++) {
        unsigned d;

        if (p[i] < '0' || p[i] > '9')
            return -1;
        d = (unsigned)(p[i] - '0');
        /* checked before the multiply so it can never wrap */
        if (d > max || v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *val_r = v;
    return 0;
}

int
util_parse_ulong(const char *s, unsigned long max, unsigned long *val_r)
{
    uint64_t v;

    if (util_parse_u64(s, strlen(s), max, &v) < 0)
        return -1;
    *val_r = (unsigned long)v;
    return 0;
}

int
util_parse_long(const char *s, long *val_r)
{
    char *end;
    long v;

    if (*s == '\0')
        return -1;
    errno = 0;
    v = strtol(s, &end, 0);
    if (errno || *end != '\0')
        return -1;
    *val_r = v;
    return 0;
}

static int
ascii_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

void
util_lcase(char *s)
{
    for (; *s; s++)
        *s = (char)ascii_lower((unsigned char)*s);
}

void
util_ucase(char *s)
{
    for (; *s; s++) {
        if (*s >= 'a' && *s <= 'z')
            *s = (char)(*s - 32);
    }
}

int
util_strcasecmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        int ca = ascii_lower((unsigned char)*a);
        int cb = ascii_lower((unsigned char)*b);

        if (ca != cb || ca == 0)
            return ca - cb;
    }
}

int
util_strncasecmp(const char *a, const char *b, size_t n)
{
    for (; n > 0; a++, b++, n--) {
        int ca = ascii_lower((unsigned char)*a);
        int cb = ascii_lower((unsigned char)*b);

        if (ca != cb || ca == 0)
            return ca - cb;
    }
    return 0;
}

int
util_memcaseeq(const char *p, size_t len, const char *word)
{
    return strlen(word) == len && util_strncasecmp(p, word, len) == 0;
}

int
util_strcmpsafe(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return (a != NULL) - (b != NULL);
    return strcmp(a, b);
}

int
util_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

ssize_t
util_read_all(int fd, void *buf, size_t len)
{
    char *p = buf;
    size_t got = 0;

    while (got < len) {
        ssize_t n = read(fd, p + got, len - got);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

int
util_mkdir_p(const char *path, unsigned mode)
{
    struct buf b = BUF_INITIALIZER;
    size_t i;
    int r = 0;

    buf_setcstr(&b, path);
    for (i = 1; i <= buf_len(&b) && r == 0; i++) {
        char *s = (char *)buf_cstring(&b);

        if (s[i] != '/' && s[i] != '\0')
            continue;
        s[i] = '\0';
        if (mkdir(s, mode) < 0 && errno != EEXIST)
            r = -1;
        if (i < buf_len(&b))
            s[i] = '/';
    }
    buf_free(&b);
    return r;
}

uint64_t
util_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int
util_set_nonblock(int fd, int on)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl < 0)
        return -1;
    fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
    return fcntl(fd, F_SETFL, fl);
}

int
util_set_cloexec(int fd, int on)
{
    int fl = fcntl(fd, F_GETFD);

    if (fl < 0)
        return -1;
    fl = on ? (fl | FD_CLOEXEC) : (fl & ~FD_CLOEXEC);
    return fcntl(fd, F_SETFD, fl);
}
