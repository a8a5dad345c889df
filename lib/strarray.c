/* strarray.c: a growable array of owned strings. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "strarray.h"
#include "util.h"
#include "xmalloc.h"

struct strarray *
strarray_new(void)
{
    return xzmalloc(sizeof(struct strarray));
}

void
strarray_fini(struct strarray *sa)
{
    size_t i;

    for (i = 0; i < sa->count; i++)
        free(sa->data[i]);
    free(sa->data);
    sa->data = NULL;
    sa->count = 0;
    sa->alloc = 0;
}

void
strarray_free(struct strarray **sap)
{
    if (*sap == NULL)
        return;
    strarray_fini(*sap);
    free(*sap);
    *sap = NULL;
}

void
strarray_truncate(struct strarray *sa, size_t count)
{
    while (sa->count > count) {
        sa->count--;
        free(sa->data[sa->count]);
        sa->data[sa->count] = NULL;
    }
}

static void
ensure_room(struct strarray *sa)
{
    if (sa->count + 2 <= sa->alloc)
        return;
    sa->alloc = sa->alloc ? sa->alloc * 2 : 8;
    sa->data = xreallocarray(sa->data, sa->alloc, sizeof(char *));
}

size_t
strarray_appendm(struct strarray *sa, char *s)
{
    ensure_room(sa);
    sa->data[sa->count++] = s;
    sa->data[sa->count] = NULL;
    return sa->count - 1;
}

size_t
strarray_append(struct strarray *sa, const char *s)
{
    return strarray_appendm(sa, xstrdup(s));
}

size_t
strarray_appendmap(struct strarray *sa, const char *p, size_t len)
{
    return strarray_appendm(sa, xstrndup(p, len));
}

void
strarray_insert(struct strarray *sa, size_t idx, const char *s)
{
    if (idx >= sa->count) {
        strarray_append(sa, s);
        return;
    }
    ensure_room(sa);
    memmove(sa->data + idx + 1, sa->data + idx,
            (sa->count - idx + 1) * sizeof(char *));
    sa->data[idx] = xstrdup(s);
    sa->count++;
}

void
strarray_remove(struct strarray *sa, size_t idx)
{
    if (idx >= sa->count)
        return;
    free(sa->data[idx]);
    memmove(sa->data + idx, sa->data + idx + 1,
            (sa->count - idx) * sizeof(char *));
    sa->count--;
}

const char *
strarray_nth(const struct strarray *sa, size_t idx)
{
    return idx < sa->count ? sa->data[idx] : NULL;
}

long
strarray_find(const struct strarray *sa, const char *s)
{
    size_t i;

    for (i = 0; i < sa->count; i++) {
        if (strcmp(sa->data[i], s) == 0)
            return (long)i;
    }
    return -1;
}

long
strarray_find_case(const struct strarray *sa, const char *s)
{
    size_t i;

    for (i = 0; i < sa->count; i++) {
        if (util_strcasecmp(sa->data[i], s) == 0)
            return (long)i;
    }
    return -1;
}

void
strarray_add_unique(struct strarray *sa, const char *s)
{
    if (strarray_find(sa, s) < 0)
        strarray_append(sa, s);
}

static int
cmp_str_cb(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void
strarray_sort(struct strarray *sa)
{
    if (sa->count > 1)
        qsort(sa->data, sa->count, sizeof(char *), cmp_str_cb);
}

struct strarray *
strarray_split(const char *s, const char *seps)
{
    struct strarray *sa = strarray_new();
    const char *p = s;

    while (*p) {
        size_t n;

        p += strspn(p, seps);
        n = strcspn(p, seps);
        if (n > 0)
            strarray_appendmap(sa, p, n);
        p += n;
    }
    return sa;
}

char *
strarray_join(const struct strarray *sa, const char *sep)
{
    struct buf b = BUF_INITIALIZER;
    size_t i;

    for (i = 0; i < sa->count; i++) {
        if (i)
            buf_appendcstr(&b, sep);
        buf_appendcstr(&b, sa->data[i]);
    }
    return buf_release(&b);
}
