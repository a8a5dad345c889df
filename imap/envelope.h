/* envelope.h: the header fields behind the IMAP ENVELOPE (RFC 3501
 * 7.4.2) and the ENVELOPE string itself, written as Cyrus writes it. */
#ifndef ENVELOPE_H
#define ENVELOPE_H

#include <stddef.h>

#include "buf.h"

/* The fields a message keeps (and the store caches) per message: the ten
 * ENVELOPE fields plus References. */
enum envelope_field {
    ENVELOPE_DATE,
    ENVELOPE_SUBJECT,
    ENVELOPE_FROM,
    ENVELOPE_SENDER,
    ENVELOPE_REPLY_TO,
    ENVELOPE_TO,
    ENVELOPE_CC,
    ENVELOPE_BCC,
    ENVELOPE_IN_REPLY_TO,
    ENVELOPE_MESSAGE_ID,
    ENVELOPE_REFERENCES,
    ENVELOPE_NFIELDS
};

/* Canonical header name of a field ("Reply-To"); NULL if out of range. */
const char *envelope_field_name(enum envelope_field f);
/* Field index of a header name (ASCII case-insensitive), or -1. */
int envelope_field_lookup(const char *name, size_t len);

/* Append "(date subject from sender reply-to to cc bcc in-reply-to
 * message-id)" to out. fields[i] is the unfolded header value or NULL
 * when absent. Strings are written raw (encoded words untouched) as
 * nstrings; address fields are parsed with msgaddr; sender and reply-to
 * default to from when absent or empty. */
void envelope_write(struct buf *out, char *const fields[ENVELOPE_NFIELDS]);

#endif
