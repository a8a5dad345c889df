/* buf.h: the growable byte buffer used for all text (STYLE.md rule 1).
 *
 * A buf holds len bytes (which may include NULs) in an allocation of alloc
 * bytes. buf_cstring() guarantees a NUL after the data without changing
 * len. Growth is overflow-checked and aborts on OOM, so no function here
 * fails. Pointers returned by buf_base()/buf_cstring() are valid until the
 * next call that changes the buffer. */
#ifndef BUF_H
#define BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct buf {
    char *s;
    size_t len;
    size_t alloc;
};

#define BUF_INITIALIZER {NULL, 0, 0}

void buf_init(struct buf *b);
/* Free the allocation and reset to empty. */
void buf_free(struct buf *b);
/* Empty the buffer but keep the allocation. */
void buf_reset(struct buf *b);
/* Make room for at least n more bytes. */
void buf_ensure(struct buf *b, size_t n);
void buf_truncate(struct buf *b, size_t len);

static inline const char *
buf_base(const struct buf *b)
{
    return b->s ? b->s : "";
}

static inline size_t
buf_len(const struct buf *b)
{
    return b->len;
}

/* NUL-terminated view; never NULL. */
const char *buf_cstring(struct buf *b);
/* Hand the (NUL-terminated) allocation to the caller; b becomes empty. */
char *buf_release(struct buf *b);

void buf_appendmap(struct buf *b, const void *p, size_t len);
void buf_appendcstr(struct buf *b, const char *s);
void buf_appendbuf(struct buf *b, const struct buf *src);
/* Append one byte. Inline: parsers and folders call it per character,
 * so the common case (room left) must not cost a call. */
static inline void
buf_putc(struct buf *b, char c)
{
    /* buf_ensure() keeps one spare byte for buf_cstring()'s NUL */
    if (b->alloc - b->len < 2)
        buf_ensure(b, 1);
    b->s[b->len++] = c;
}
void buf_printf(struct buf *b, const char *fmt, ...) ATTR_FORMAT(2, 3);
void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
    ATTR_FORMAT(2, 0);
void buf_setcstr(struct buf *b, const char *s);
void buf_setmap(struct buf *b, const void *p, size_t len);
/* Insert at offset off (<= len). */
void buf_insertmap(struct buf *b, size_t off, const void *p, size_t len);
/* Remove n bytes at offset off. */
void buf_remove(struct buf *b, size_t off, size_t n);
/* Strip trailing CR/LF/space/tab. */
void buf_trim_right(struct buf *b);
/* Replace every occurrence of byte from with byte to. */
void buf_replace_char(struct buf *b, char from, char to);
int buf_cmp(const struct buf *a, const struct buf *b);
/* Load a whole file; 0 or -1 with errno. */
int buf_load_file(struct buf *b, const char *path);

#endif
