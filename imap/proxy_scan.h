/* proxy_scan.h: find the ends of tagged replies in a backend's output
 * stream without copying it (the frontend's selected-state pump).
 *
 * The proxy queues the tags of the commands it sent, in order; it then
 * feeds whatever bytes the backend has sent, in chunks of any size, and
 * relays each scanned prefix to the client as it is. The scanner keeps
 * its state across chunks: where a line starts, whether it is the
 * tagged reply to the oldest queued tag, and literals ({n} at the end of
 * a line: the next n bytes are data, never a line start). No I/O. */
#ifndef PROXY_SCAN_H
#define PROXY_SCAN_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct proxy_scan;

struct proxy_scan *proxy_scan_new(void);
void proxy_scan_free(struct proxy_scan **sp);

/* Expect a tagged reply to tag (copied), after those already queued. */
void proxy_scan_push(struct proxy_scan *sc, const char *tag);
/* How many queued tags have not been answered yet. */
size_t proxy_scan_pending(const struct proxy_scan *sc);
/* The oldest unanswered tag, or NULL. */
const char *proxy_scan_head(const struct proxy_scan *sc);
/* Drop the oldest unanswered tag (its reply will never come). */
void proxy_scan_pop(struct proxy_scan *sc);

/* Scan p[0..len). Returns how many bytes were scanned: all of them, or
 * fewer when a tagged reply to the oldest queued tag ended (its LF is
 * the last byte scanned): then that tag is dequeued, *done_r is 1 and
 * the reply line (without CRLF) is in proxy_scan_tagged(). Otherwise
 * *done_r is 0. Bytes after the last queued reply are scanned too
 * (untagged data the backend sends unasked). */
size_t proxy_scan_feed(struct proxy_scan *sc, const char *p, size_t len,
                       int *done_r);
/* Bytes of literal data the scanner expects before the next line text:
 * the caller may pass them on unseen (proxy_scan_skip()). */
uint64_t proxy_scan_literal_left(const struct proxy_scan *sc);
/* Account for n (<= proxy_scan_literal_left()) literal bytes passed on
 * without proxy_scan_feed(). */
void proxy_scan_skip(struct proxy_scan *sc, uint64_t n);
/* The last complete tagged reply line, without its line ending ("" before
 * the first); valid until the next proxy_scan_feed(). */
const char *proxy_scan_tagged(const struct proxy_scan *sc);

#endif /* PROXY_SCAN_H */
