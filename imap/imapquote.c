/* imapquote.c: IMAP nstring output (see imapquote.h). */
#include <string.h>

#include "imapquote.h"

/* Not imaptok_quote() (lib/imaptok.c), on purpose: the rules differ in
 * every branch. That one escapes '"' and '\\' inside quotes, sends any
 * other control byte as a literal and quotes up to 1024 bytes; Cyrus's
 * ENVELOPE and BODYSTRUCTURE never escape ('"', '\\' and '%' force a
 * literal), keep TAB and the other controls except CR, LF and NUL in
 * quotes, and quote only below 1024 bytes. Our ENVELOPE must be
 * byte-identical to a Cyrus backend's (imapquote.h), so one routine with
 * a flag would be two routines in one body. */
void
imapquote_string_map(struct buf *out, const char *s, size_t len)
{
    size_t i;
    int literal = len >= 1024;

    for (i = 0; i < len && !literal; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == 0 || c >= 0x80 || c == '\r' || c == '\n' || c == '"'
            || c == '\\' || c == '%')
            literal = 1;
    }
    if (literal) {
        buf_printf(out, "{%zu}\r\n", len);
        buf_appendmap(out, s, len);
    } else {
        buf_putc(out, '"');
        buf_appendmap(out, s, len);
        buf_putc(out, '"');
    }
}

void
imapquote_nstring(struct buf *out, const char *s)
{
    if (s == NULL)
        buf_appendmap(out, "NIL", 3);
    else
        imapquote_string_map(out, s, strlen(s));
}
