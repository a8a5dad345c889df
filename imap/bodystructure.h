/* bodystructure.h: IMAP BODY and BODYSTRUCTURE (RFC 3501 7.4.2) of a
 * parsed part tree, written as Cyrus writes them: upper-case types,
 * "7BIT" when no encoding is given, line counts for TEXT and
 * message/rfc822, and for BODYSTRUCTURE all extension fields (md5,
 * disposition, language, location; multiparts: parameters, disposition,
 * language, location). A multipart without parts is written as an empty
 * text/plain; charset=us-ascii part. */
#ifndef BODYSTRUCTURE_H
#define BODYSTRUCTURE_H

#include "buf.h"

struct message_part;

/* Append the body of p (a tree built by message_parse()) to out;
 * extended selects BODYSTRUCTURE over BODY. */
void bodystructure_write(struct buf *out, const struct message_part *p,
                         int extended);

#endif
