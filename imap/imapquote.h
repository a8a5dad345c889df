/* imapquote.h: IMAP nstring output (RFC 3501 4.2-4.5) as Cyrus writes it.
 *
 * Used for ENVELOPE and BODYSTRUCTURE so that our strings are
 * byte-identical to a Cyrus backend's: a value is a quoted string unless
 * it is 1024 bytes or longer or holds NUL, CR, LF, an 8-bit byte, '"',
 * '\\' or '%', in which case it is a literal "{n}\r\n" followed by the
 * bytes. */
#ifndef IMAPQUOTE_H
#define IMAPQUOTE_H

#include <stddef.h>

#include "buf.h"

/* Append s as an nstring: NIL when s is NULL. */
void imapquote_nstring(struct buf *out, const char *s);
/* Append s[0..len) as a string (never NIL). */
void imapquote_string_map(struct buf *out, const char *s, size_t len);

#endif
