/* message.h: a parsed message for the store: the MIME part tree with
 * byte offsets, and the IMAP strings FETCH needs (ENVELOPE, BODYSTRUCTURE,
 * BODY) built once so that FETCH never re-parses.
 *
 * A struct message comes either from message_parse() over the raw bytes
 * or from msgcache_decode() over a cache record (msgcache.h); both answer
 * every accessor here identically. Neither keeps a pointer to the message
 * bytes: section content (message_section.h) is read from the bytes the
 * caller holds, using the offsets kept here.
 *
 * Parsing follows Cyrus (imap/message.c) so that a frontend sees the same
 * answers from our backends as from Cyrus ones: a missing or invalid
 * Content-Type means text/plain; charset=us-ascii (message/rfc822 inside
 * multipart/digest); a later header of the same name replaces an earlier
 * one; sizes and line counts of a part end before the line end that
 * precedes the next boundary; a multipart without boundary, or deeper
 * than MESSAGE_MAX_DEPTH, has no parts and is shown as an empty
 * text/plain part; a missing close delimiter ends at the end of the
 * enclosing part. Bare LF line ends are tolerated everywhere. */
#ifndef MESSAGE_H
#define MESSAGE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "envelope.h"

/* Nesting limit (multiparts and encapsulated messages). */
#define MESSAGE_MAX_DEPTH 64
/* Part limit per message; past it boundaries are no longer recognised. */
#define MESSAGE_MAX_PARTS 10000

struct message;
struct message_part;

/* A byte range of the message. */
struct message_span {
    uint64_t offset;
    uint64_t len;
};

/* Parse msg[0..len). Never fails on content: every byte sequence gives a
 * tree. Returns 0 and *msg_r (free with message_free()). */
int message_parse(const char *msg, size_t len, struct message **msg_r);
void message_free(struct message **mp);

/* RFC822.SIZE: the length of the whole message in bytes. */
uint64_t message_size(const struct message *m);
/* NUL-terminated IMAP strings, valid while m lives. They may contain
 * literals ("{n}\r\n..."), never NUL. */
const char *message_envelope(const struct message *m);
const char *message_bodystructure(const struct message *m); /* extended */
const char *message_body(const struct message *m);          /* BODY */

/* The unfolded value of a top-level header field (leading blanks
 * removed, last occurrence wins) or NULL when absent. */
const char *message_field(const struct message *m, enum envelope_field f);
/* The Date header as time_t: 0 and *t_r, or ERR_NOTFOUND when there is
 * no Date header or it does not parse. */
int message_sent_date(const struct message *m, time_t *t_r);
/* The sent date, or fallback (e.g. the internal date) when there is none. */
time_t message_sent_date_or(const struct message *m, time_t fallback);

/* The root part: the message itself (header = the message header,
 * content = the body). Never NULL. */
const struct message_part *message_root(const struct message *m);

/* Upper-case MIME type and subtype ("TEXT", "PLAIN"). */
const char *message_part_type(const struct message_part *p);
const char *message_part_subtype(const struct message_part *p);
/* Content-Transfer-Encoding, upper case; "7BIT" when absent. */
const char *message_part_encoding(const struct message_part *p);
/* The CHARSET parameter or NULL. */
const char *message_part_charset(const struct message_part *p);
/* The part's header (including its terminating blank line) and content. */
struct message_span message_part_header(const struct message_part *p);
struct message_span message_part_content(const struct message_part *p);
/* Line count of the content (LF count), as BODYSTRUCTURE shows it. */
uint64_t message_part_lines(const struct message_part *p);
/* Children: the parts of a multipart, or exactly one for message/rfc822
 * (the encapsulated message, whose header is the RFC 5322 header); 0 for
 * other parts. */
size_t message_part_count(const struct message_part *p);
/* Child i (< message_part_count()), or NULL. */
const struct message_part *message_part_child(const struct message_part *p,
                                              size_t i);
/* Is this a message/rfc822 part? Is it a multipart? */
int message_part_is_rfc822(const struct message_part *p);
int message_part_is_multipart(const struct message_part *p);

#endif
