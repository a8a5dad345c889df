/* imapquote.c: IMAP nstring output (see imapquote.h). */
#include <string.h>

#include "imapquote.h"

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
