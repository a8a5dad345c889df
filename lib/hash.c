/* hash.c: string-keyed hash table with chaining. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "xmalloc.h"

struct hash_entry {
    struct hash_entry *next;
    uint32_t hv;
    void *value;
    char key[];
};

struct hash {
    struct hash_entry **buckets;
    size_t nbuckets; /* power of two */
    size_t count;
};

static uint32_t
hash_fnv1a(const char *s)
{
    uint32_t h = 2166136261u;

    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h;
}

struct hash *
hash_new(size_t size_hint)
{
    struct hash *h = xzmalloc(sizeof(*h));

    h->nbuckets = 16;
    while (h->nbuckets < size_hint && h->nbuckets < ((size_t)1 << 30))
        h->nbuckets <<= 1;
    h->buckets = xcalloc(h->nbuckets, sizeof(*h->buckets));
    return h;
}

void
hash_free(struct hash **hp, hash_free_cb *free_cb)
{
    struct hash *h = *hp;
    size_t i;

    if (h == NULL)
        return;
    *hp = NULL;
    for (i = 0; i < h->nbuckets; i++) {
        struct hash_entry *e = h->buckets[i];

        while (e) {
            struct hash_entry *next = e->next;

            if (free_cb)
                free_cb(e->value);
            free(e);
            e = next;
        }
    }
    free(h->buckets);
    free(h);
}

static void
hash_grow(struct hash *h)
{
    size_t n = h->nbuckets * 2;
    struct hash_entry **nb = xcalloc(n, sizeof(*nb));
    size_t i;

    for (i = 0; i < h->nbuckets; i++) {
        struct hash_entry *e = h->buckets[i];

        while (e) {
            struct hash_entry *next = e->next;
            size_t b = e->hv & (n - 1);

            e->next = nb[b];
            nb[b] = e;
            e = next;
        }
    }
    free(h->buckets);
    h->buckets = nb;
    h->nbuckets = n;
}

static struct hash_entry **
hash_find(const struct hash *h, const char *key, uint32_t hv)
{
    struct hash_entry **ep = &h->buckets[hv & (h->nbuckets - 1)];

    for (; *ep; ep = &(*ep)->next) {
        if ((*ep)->hv == hv && strcmp((*ep)->key, key) == 0)
            break;
    }
    return ep;
}

void *
hash_insert(struct hash *h, const char *key, void *value)
{
    uint32_t hv = hash_fnv1a(key);
    struct hash_entry **ep = hash_find(h, key, hv);
    struct hash_entry *e;
    size_t klen;

    if (*ep) {
        void *old = (*ep)->value;

        (*ep)->value = value;
        return old;
    }
    if (h->count >= h->nbuckets) {
        hash_grow(h);
        ep = hash_find(h, key, hv);
    }
    klen = strlen(key);
    e = xmalloc(sizeof(*e) + klen + 1);
    memcpy(e->key, key, klen + 1);
    e->hv = hv;
    e->value = value;
    e->next = NULL;
    *ep = e;
    h->count++;
    return NULL;
}

void *
hash_lookup(const struct hash *h, const char *key)
{
    struct hash_entry **ep = hash_find(h, key, hash_fnv1a(key));

    return *ep ? (*ep)->value : NULL;
}

void *
hash_remove(struct hash *h, const char *key)
{
    struct hash_entry **ep = hash_find(h, key, hash_fnv1a(key));
    struct hash_entry *e = *ep;
    void *v;

    if (e == NULL)
        return NULL;
    *ep = e->next;
    v = e->value;
    free(e);
    h->count--;
    return v;
}

size_t
hash_count(const struct hash *h)
{
    return h->count;
}

int
hash_foreach(const struct hash *h, hash_foreach_cb *cb, void *ctx)
{
    size_t i;

    for (i = 0; i < h->nbuckets; i++) {
        struct hash_entry *e;

        for (e = h->buckets[i]; e; e = e->next) {
            int r = cb(e->key, e->value, ctx);

            if (r)
                return r;
        }
    }
    return 0;
}
