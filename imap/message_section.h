/* message_section.h: IMAP FETCH BODY[section]<partial> (RFC 3501 6.4.5)
 * resolved against a message's part tree (message.h).
 *
 * Resolution needs only the tree, so it works the same on a freshly
 * parsed message and on one decoded from the cache; the bytes are then
 * read from the message file by the caller (or by
 * message_section_fetch()). */
#ifndef MESSAGE_SECTION_H
#define MESSAGE_SECTION_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "message.h"
#include "strarray.h"

enum message_section_kind {
    MESSAGE_SECTION_BYTES,     /* the answer is span, verbatim */
    MESSAGE_SECTION_FIELDS,    /* HEADER.FIELDS: filter the header span */
    MESSAGE_SECTION_FIELDS_NOT /* HEADER.FIELDS.NOT */
};

struct message_section {
    enum message_section_kind kind;
    struct message_span span; /* bytes of the message */
    struct strarray fields;   /* field names for the FIELDS kinds */
};

/* Resolve spec[0..len), the text between the brackets: "", "HEADER",
 * "TEXT", "1", "1.2.MIME", "2.HEADER.FIELDS (From To)",
 * "HEADER.FIELDS.NOT (Received)", "3.TEXT", ... (keywords in any case;
 * field names are atoms or quoted strings). Part numbers follow RFC 3501:
 * a non-multipart message has only part 1 (its body; 1.MIME is its
 * header), the parts of a message/rfc822 part are those of the
 * encapsulated message, and HEADER/TEXT after part numbers need a
 * message/rfc822 part.
 * Returns 0 and fills *sec_r (always initialised; release with
 * message_section_fini()); a part that does not exist, or a HEADER/TEXT
 * of a part that is no message, resolves to an empty span. Returns
 * ERR_SYNTAX for a malformed spec. */
int message_section_find(const struct message *m, const char *spec, size_t len,
                         struct message_section *sec_r);
void message_section_fini(struct message_section *sec);

/* Resolve spec and append the section's bytes from msg[0..len) (the
 * message m was parsed from) to out; HEADER.FIELDS gets the filtered
 * header ending with the blank line. Returns 0, ERR_SYNTAX, or ERR_BADMSG
 * when the span lies outside msg (the bytes do not match m). */
int message_section_fetch(const struct message *m, const char *msg, size_t len,
                          const char *spec, size_t speclen, struct buf *out);

/* <start.count> of a section of len bytes: the sub-span to send, relative
 * to the section start (empty when start is past the end). */
struct message_span message_section_partial(uint64_t len, uint64_t start,
                                            uint64_t count);

#endif
