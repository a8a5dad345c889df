/* seqset.h: IMAP sequence sets (RFC 3501 section 9, "sequence-set").
 *
 * A seqset is an ordered list of ranges of nonzero 32-bit numbers, as
 * written by a client ("1,3:5,7:*") or built by the server from a sorted
 * list of UIDs ("1:3,5"). The "*" endpoint stays symbolic until a
 * function is given the largest number in use ("max"): RFC 3501 says "*"
 * is the largest number in use, and a range is the same whichever way
 * round it is written, so "3:*" with max 2 means 2:3.
 *
 * When max is 0 (nothing in use, e.g. sequence numbers in an empty
 * mailbox) a range with a "*" endpoint contains nothing. Callers that want
 * UID semantics for an empty mailbox (RFC 3501: "*" is then UIDNEXT) pass
 * that value as max.
 *
 * Nothing here fails except parsing; allocation aborts on OOM. */
#ifndef SEQSET_H
#define SEQSET_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct seqset;

/* The symbolic "*" endpoint, for seqset_add(). */
#define SEQSET_STAR 0u

struct seqset *seqset_new(void);
void seqset_free(struct seqset **sp);
struct seqset *seqset_dup(const struct seqset *s);

/* Parse exactly p[0..len) as a sequence-set: one or more of "n", "*",
 * "a:b" separated by commas, numbers 1..4294967295 (leading zeros are
 * accepted, 0 is not). Returns 0 and a new set in *set_r, or ERR_SYNTAX
 * with a static reason in *error_r (may be NULL) and *set_r untouched. */
int seqset_parse(const char *p, size_t len, struct seqset **set_r,
                 const char **error_r);

/* Append the range lo:hi (either may be SEQSET_STAR; lo > hi is fine).
 * Numbers added in ascending order are merged as they come, so building
 * from a sorted list stays compact. */
void seqset_add(struct seqset *s, uint32_t lo, uint32_t hi);
/* seqset_add(s, n, n); n must not be 0. */
void seqset_add_num(struct seqset *s, uint32_t n);
/* A new set from n numbers (any order; zeros are skipped), normalized. */
struct seqset *seqset_from_list(const uint32_t *nums, size_t n);

/* Nonzero if no range was parsed or added. */
int seqset_is_empty(const struct seqset *s);
/* Nonzero if some endpoint is "*". */
int seqset_has_star(const struct seqset *s);

/* Resolve "*" against max, then sort and merge overlapping and adjacent
 * ranges in place. Afterwards the set has no "*" and lookups are
 * O(log n). Without "*" in the set, max is not used. */
void seqset_normalize(struct seqset *s, uint32_t max);

/* Nonzero if num is in the set, "*" meaning max. */
int seqset_contains(const struct seqset *s, uint32_t num, uint32_t max);
/* Smallest member, largest member, or 0 if there is none. */
uint32_t seqset_first(const struct seqset *s, uint32_t max);
uint32_t seqset_last(const struct seqset *s, uint32_t max);
/* Smallest member greater than after, or 0 if there is none. Iterate in
 * ascending order with
 *     for (n = seqset_first(s, max); n; n = seqset_next(s, max, n)) */
uint32_t seqset_next(const struct seqset *s, uint32_t max, uint32_t after);
/* Number of distinct members (up to 2^32 - 1, hence 64 bits). */
uint64_t seqset_count(const struct seqset *s, uint32_t max);

/* Return nonzero to stop the walk. */
typedef int seqset_range_cb(uint32_t lo, uint32_t hi, void *ctx);
/* Call cb for each maximal range lo..hi of members in ascending order,
 * without expanding ranges. Returns the first nonzero cb value, or 0. */
int seqset_foreach_range(const struct seqset *s, uint32_t max,
                         seqset_range_cb *cb, void *ctx);

/* Append the set to out in IMAP syntax, ranges in their current order
 * ("*" kept symbolic); normalize first for the compact form. An empty set
 * appends nothing. */
void seqset_format(const struct seqset *s, struct buf *out);

#endif
