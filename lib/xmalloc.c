/* xmalloc.c: allocation that aborts instead of failing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "xmalloc.h"

void
xmalloc_fail(size_t size)
{
    static const char msg[] = "fatal: out of memory\n";

    syslog(LOG_CRIT, "out of memory allocating %zu bytes", size);
    if (write(2, msg, sizeof(msg) - 1) < 0) {
        /* nothing more we can do */
    }
    abort();
}

void *
xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);

    if (p == NULL)
        xmalloc_fail(size);
    return p;
}

void *
xzmalloc(size_t size)
{
    void *p = calloc(1, size ? size : 1);

    if (p == NULL)
        xmalloc_fail(size);
    return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
    if (size && nmemb > SIZE_MAX / size)
        xmalloc_fail(SIZE_MAX);
    return xzmalloc(nmemb * size);
}

void *
xrealloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);

    if (p == NULL)
        xmalloc_fail(size);
    return p;
}

void *
xreallocarray(void *ptr, size_t nmemb, size_t size)
{
    if (size && nmemb > SIZE_MAX / size)
        xmalloc_fail(SIZE_MAX);
    return xrealloc(ptr, nmemb * size);
}

char *
xstrdup(const char *s)
{
    return xmemdup(s, strlen(s) + 1);
}

char *
xstrdupnull(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

char *
xstrndup(const char *s, size_t len)
{
    char *p;

    if (len == SIZE_MAX)
        xmalloc_fail(len);
    p = xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

void *
xmemdup(const void *src, size_t len)
{
    void *p = xmalloc(len);

    memcpy(p, src, len);
    return p;
}
