/* buf.c: the growable byte buffer. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "xmalloc.h"

void
buf_init(struct buf *b)
{
    b->s = NULL;
    b->len = 0;
    b->alloc = 0;
}

void
buf_free(struct buf *b)
{
    free(b->s);
    buf_init(b);
}

void
buf_reset(struct buf *b)
{
    b->len = 0;
}

void
buf_ensure(struct buf *b, size_t n)
{
    size_t want;

    /* one extra byte so buf_cstring() never reallocates needlessly */
    if (n > SIZE_MAX - b->len - 1)
        xmalloc_fail(SIZE_MAX);
    want = b->len + n + 1;
    if (want <= b->alloc)
        return;
    if (b->alloc < 64)
        b->alloc = 64;
    while (b->alloc < want) {
        if (b->alloc > SIZE_MAX / 2) {
            b->alloc = want;
            break;
        }
        b->alloc *= 2;
    }
    b->s = xrealloc(b->s, b->alloc);
}

void
buf_truncate(struct buf *b, size_t len)
{
    if (len > b->len) {
        buf_ensure(b, len - b->len);
        memset(b->s + b->len, 0, len - b->len);
    }
    b->len = len;
}

const char *
buf_cstring(struct buf *b)
{
    buf_ensure(b, 0);
    b->s[b->len] = '\0';
    return b->s;
}

char *
buf_release(struct buf *b)
{
    char *s;

    buf_cstring(b);
    s = b->s;
    buf_init(b);
    return s;
}

void
buf_appendmap(struct buf *b, const void *p, size_t len)
{
    if (len == 0)
        return;
    buf_ensure(b, len);
    memcpy(b->s + b->len, p, len);
    b->len += len;
}

void
buf_appendcstr(struct buf *b, const char *s)
{
    buf_appendmap(b, s, strlen(s));
}

void
buf_appendbuf(struct buf *b, const struct buf *src)
{
    buf_appendmap(b, buf_base(src), src->len);
}

void
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    int n;

    va_copy(ap2, ap);
    buf_ensure(b, 64);
    n = vsnprintf(b->s + b->len, b->alloc - b->len, fmt, ap);
    if (n < 0) {
        va_end(ap2);
        return;
    }
    if ((size_t)n >= b->alloc - b->len) {
        buf_ensure(b, (size_t)n);
        n = vsnprintf(b->s + b->len, b->alloc - b->len, fmt, ap2);
    }
    va_end(ap2);
    b->len += (size_t)n;
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void
buf_setcstr(struct buf *b, const char *s)
{
    buf_reset(b);
    buf_appendcstr(b, s);
}

void
buf_setmap(struct buf *b, const void *p, size_t len)
{
    buf_reset(b);
    buf_appendmap(b, p, len);
}

void
buf_insertmap(struct buf *b, size_t off, const void *p, size_t len)
{
    ASSERT(off <= b->len);
    buf_ensure(b, len);
    memmove(b->s + off + len, b->s + off, b->len - off);
    memcpy(b->s + off, p, len);
    b->len += len;
}

void
buf_remove(struct buf *b, size_t off, size_t n)
{
    if (off >= b->len)
        return;
    if (n > b->len - off)
        n = b->len - off;
    memmove(b->s + off, b->s + off + n, b->len - off - n);
    b->len -= n;
}

void
buf_trim_right(struct buf *b)
{
    while (b->len > 0) {
        char c = b->s[b->len - 1];

        if (c != '\r' && c != '\n' && c != ' ' && c != '\t')
            break;
        b->len--;
    }
}

void
buf_replace_char(struct buf *b, char from, char to)
{
    size_t i;

    for (i = 0; i < b->len; i++) {
        if (b->s[i] == from)
            b->s[i] = to;
    }
}

int
buf_cmp(const struct buf *a, const struct buf *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int r = n ? memcmp(a->s, b->s, n) : 0;

    if (r)
        return r;
    return (a->len > b->len) - (a->len < b->len);
}

int
buf_load_file(struct buf *b, const char *path)
{
    char chunk[65536];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return -1;
    buf_reset(b);
    for (;;) {
        n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        buf_appendmap(b, chunk, (size_t)n);
    }
    close(fd);
    return n < 0 ? -1 : 0;
}
