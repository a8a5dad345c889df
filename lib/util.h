/* util.h: small helpers shared by every module. */
#ifndef UTIL_H
#define UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define ATTR_FORMAT(fmt, args) __attribute__((format(printf, fmt, args)))
#define ATTR_NORETURN          __attribute__((noreturn))
#define ARRAY_SIZE(a)          (sizeof(a) / sizeof((a)[0]))

/* Always-on assertion for broken invariants (STYLE.md rule 6). */
#define ASSERT(cond)                                                     \
    do {                                                                 \
        if (!(cond))                                                     \
            util_assert_fail(#cond, __FILE__, __LINE__);                 \
    } while (0)

void util_assert_fail(const char *expr, const char *file, int line)
    ATTR_NORETURN;

/* Print to stderr and syslog, then exit(code). Only for main() startup. */
void util_fatal(int code, const char *fmt, ...) ATTR_FORMAT(2, 3)
    ATTR_NORETURN;

/* Parse a whole decimal number in p[0..len) (no sign, no spaces).
 * Returns 0 and sets *val_r, or -1 on empty input, a non-digit, or a value
 * above max. */
int util_parse_u64(const char *p, size_t len, uint64_t max, uint64_t *val_r);
/* Same for a NUL-terminated string. */
int util_parse_ulong(const char *s, unsigned long max, unsigned long *val_r);
/* Signed, NUL-terminated, optional leading '-'; strtol base 0 semantics
 * (10, 0x1f, 010) as imapd.conf INT options want. */
int util_parse_long(const char *s, long *val_r);

/* ASCII case helpers (locale-independent). */
void util_lcase(char *s);
void util_ucase(char *s);
int util_strcasecmp(const char *a, const char *b);
int util_strncasecmp(const char *a, const char *b, size_t n);
/* Case-insensitive compare of (p,len) with a NUL-terminated word. */
int util_memcaseeq(const char *p, size_t len, const char *word);

/* strcmp that orders NULL before everything. */
int util_strcmpsafe(const char *a, const char *b);

/* Write all of buf to fd, retrying on EINTR/short writes; 0 or -1. */
int util_write_all(int fd, const void *buf, size_t len);
/* Read exactly len bytes unless EOF; returns bytes read or -1. */
ssize_t util_read_all(int fd, void *buf, size_t len);

/* Create dir and its parents (mode). 0 or -1 with errno. */
int util_mkdir_p(const char *path, unsigned mode);

/* Monotonic milliseconds. */
uint64_t util_now_ms(void);

/* Set/clear O_NONBLOCK and FD_CLOEXEC; 0 or -1. */
int util_set_nonblock(int fd, int on);
int util_set_cloexec(int fd, int on);

#endif
