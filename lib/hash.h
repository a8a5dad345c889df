/* hash.h: a string-keyed hash table (open hashing, grows as needed).
 *
 * Keys are copied; values are opaque pointers owned by the caller unless a
 * free callback is given to hash_free(). */
#ifndef HASH_H
#define HASH_H

#include <stddef.h>

struct hash;

typedef void hash_free_cb(void *value);
/* Return nonzero to stop the walk. */
typedef int hash_foreach_cb(const char *key, void *value, void *ctx);

struct hash *hash_new(size_t size_hint);
/* Frees keys, and values via free_cb when not NULL. */
void hash_free(struct hash **hp, hash_free_cb *free_cb);
/* Insert or replace; returns the previous value (or NULL). */
void *hash_insert(struct hash *h, const char *key, void *value);
void *hash_lookup(const struct hash *h, const char *key);
/* Remove; returns the value that was stored (or NULL). */
void *hash_remove(struct hash *h, const char *key);
size_t hash_count(const struct hash *h);
/* Walk in unspecified order; the table must not change during the walk.
 * Returns the first nonzero value of cb, or 0. */
int hash_foreach(const struct hash *h, hash_foreach_cb *cb, void *ctx);

#endif
