/* msgheader.h: raw RFC 5322 header helpers over byte spans.
 *
 * Everything here works on (pointer, length) spans of message bytes that
 * may contain NULs and bare LFs; nothing is modified in place and nothing
 * keeps a pointer past the call, except the field iterator, whose pointers
 * point into the caller's span. Delivery and APPEND use these to vet and
 * normalise incoming messages before the MIME parser (message.h) sees
 * them. */
#ifndef MSGHEADER_H
#define MSGHEADER_H

#include <stddef.h>

#include "buf.h"
#include "strarray.h"

/* Length of the header section of msg[0..len), including the blank line
 * (CRLF CRLF, or LF LF) that ends it. Without a blank line the whole input
 * is header and len is returned. A message that starts with a blank line
 * has a header of just that line (2 bytes, or 1 for a bare LF). */
size_t msgheader_size(const char *msg, size_t len);

/* One header field as found by msgheader_next(). Pointers are into the
 * span given to msgheader_next(). */
struct msgheader_field {
    const char *name;  /* field name; name_len 0 for a line without ':' */
    size_t name_len;   /* trailing blanks before ':' not included */
    const char *value; /* raw value after ':', folds included, */
    size_t value_len;  /* final line end not included */
    const char *start; /* the whole field including its final line end */
    size_t len;
};

/* Step through the fields of a header section hdr[0..len) (typically
 * msgheader_size() bytes). *off is the cursor: start it at 0. Returns 1
 * and fills *f (advancing *off past the field and its continuation
 * lines), or 0 at the blank line that ends the header or at the end of
 * the span. */
int msgheader_next(const char *hdr, size_t len, size_t *off,
                   struct msgheader_field *f);

/* Append the unfolded form of a raw field value to out: every CRLF or LF
 * followed by a blank is removed (RFC 5322 3.2.2), leading blanks are
 * skipped, and a trailing line end is dropped. With trim, trailing blanks
 * are dropped too. */
void msgheader_unfold(const char *v, size_t len, int trim, struct buf *out);

/* The first field called name (ASCII case-insensitive) in the header of
 * msg[0..len). Returns 0 and sets value_r to the unfolded, trimmed value,
 * or ERR_NOTFOUND (value_r emptied). */
int msgheader_get_first(const char *msg, size_t len, const char *name,
                        struct buf *value_r);

/* IMAP HEADER.FIELDS / HEADER.FIELDS.NOT (RFC 3501 6.4.5): append to out
 * the fields of hdr[0..len) whose names are in fields (exclude == 0) or
 * not in fields (exclude != 0), in message order, each with its
 * continuation lines, then the terminating blank line CRLF. Lines without
 * a colon are never copied. A last field without a line end gets CRLF. */
void msgheader_filter(const char *hdr, size_t len,
                      const struct strarray *fields, int exclude,
                      struct buf *out);

/* Problems found by msgheader_check(), as bits. */
enum msgheader_problem {
    MSGHEADER_NUL = 1 << 0,       /* NUL byte in the header */
    MSGHEADER_8BIT = 1 << 1,      /* byte >= 0x80 in the header */
    MSGHEADER_BARE_LF = 1 << 2,   /* LF not preceded by CR, anywhere */
    MSGHEADER_BAD_FIELD = 1 << 3, /* header line that is not a field */
    MSGHEADER_BODY_NUL = 1 << 4   /* NUL byte in the body */
};

/* Scan msg[0..len) and return the OR of the msgheader_problem bits that
 * apply (0: clean). A header line is bad when it has no ':' or its name
 * is empty or holds a control character, blank or 8-bit byte; an mbox
 * "From " line is tolerated as Cyrus does. */
unsigned msgheader_check(const char *msg, size_t len);

/* Append msg[0..len) to out with every bare LF turned into CRLF. Returns
 * the number of LFs that were converted. */
size_t msgheader_crlf(const char *msg, size_t len, struct buf *out);

/* Extract the first msg-id ("<" id-left "@" id-right ">", RFC 5322 3.6.4)
 * from a raw header value, skipping blanks, folds and comments. Sets id_r
 * to the id with its angle brackets and returns 0, or returns
 * ERR_NOTFOUND when the value holds no bracketed id. Lenient: an id
 * without "@" is accepted. */
int msgheader_parse_msgid(const char *v, size_t len, struct buf *id_r);

/* msgheader_parse_msgid() on the first Message-ID field of msg[0..len). */
int msgheader_message_id(const char *msg, size_t len, struct buf *id_r);

#endif
