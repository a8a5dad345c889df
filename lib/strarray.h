/* strarray.h: a growable array of owned NUL-terminated strings. */
#ifndef STRARRAY_H
#define STRARRAY_H

#include <stddef.h>

struct strarray {
    char **data; /* always NULL-terminated when count > 0 */
    size_t count;
    size_t alloc;
};

#define STRARRAY_INITIALIZER {NULL, 0, 0}
#define STRARRAY_FOREACH(sa, i, s)                                         \
    for ((i) = 0; (i) < (sa)->count && (((s) = (sa)->data[(i)]), 1); (i)++)

struct strarray *strarray_new(void);
void strarray_free(struct strarray **sap);
/* Free the strings, keep the struct (for embedded arrays). */
void strarray_fini(struct strarray *sa);
void strarray_truncate(struct strarray *sa, size_t count);

/* Append a copy of s; returns its index. */
size_t strarray_append(struct strarray *sa, const char *s);
/* Append and take ownership of s. */
size_t strarray_appendm(struct strarray *sa, char *s);
/* Append a copy of p[0..len). */
size_t strarray_appendmap(struct strarray *sa, const char *p, size_t len);
void strarray_insert(struct strarray *sa, size_t idx, const char *s);
void strarray_remove(struct strarray *sa, size_t idx);
const char *strarray_nth(const struct strarray *sa, size_t idx);
/* Index of the first string equal to s, or -1. */
long strarray_find(const struct strarray *sa, const char *s);
long strarray_find_case(const struct strarray *sa, const char *s);
/* Append s only if not present. */
void strarray_add_unique(struct strarray *sa, const char *s);
void strarray_sort(struct strarray *sa);
/* Split s on any of the separator bytes, dropping empty fields. */
struct strarray *strarray_split(const char *s, const char *seps);
/* Join with sep; caller frees. */
char *strarray_join(const struct strarray *sa, const char *sep);

#endif
