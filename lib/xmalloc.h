/* xmalloc.h: allocation that never returns NULL.
 *
 * Every allocator here aborts the process (after logging) when memory is
 * exhausted or a size computation would overflow, so callers never check
 * for NULL. */
#ifndef XMALLOC_H
#define XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
/* Zero-filled. */
void *xzmalloc(size_t size);
/* nmemb * size, checked for overflow, zero-filled. */
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
/* xreallocarray: ptr resized to nmemb * size, checked for overflow. */
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
/* xstrdup of NULL is NULL. */
char *xstrdupnull(const char *s);
/* Copy of the first len bytes of s plus a NUL; s may contain NULs. */
char *xstrndup(const char *s, size_t len);
void *xmemdup(const void *p, size_t len);

/* Called before aborting on OOM; never returns. */
void xmalloc_fail(size_t size) __attribute__((noreturn));

#endif
