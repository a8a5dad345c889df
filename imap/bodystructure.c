/* bodystructure.c: IMAP BODY / BODYSTRUCTURE (see bodystructure.h). */
#include <string.h>

#include "bodystructure.h"
#include "envelope.h"
#include "imapquote.h"
#include "message_priv.h"

static void
write_disposition(struct buf *out, const struct message_part *p)
{
    if (p->disposition == NULL) {
        buf_appendmap(out, "NIL", 3);
        return;
    }
    buf_putc(out, '(');
    imapquote_nstring(out, p->disposition);
    buf_putc(out, ' ');
    mimeheader_write_params(out, p->disp_params, 0);
    buf_putc(out, ')');
}

/* body-ext-1part / body-ext-mpart after md5 or parameters */
static void
write_ext_tail(struct buf *out, const struct message_part *p)
{
    buf_putc(out, ' ');
    write_disposition(out, p);
    buf_putc(out, ' ');
    mimeheader_write_params(out, p->language, 1);
    buf_putc(out, ' ');
    imapquote_nstring(out, p->location);
}

static void
write_empty_text(struct buf *out, int extended)
{
    buf_appendcstr(out, "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") "
                        "NIL NIL \"7BIT\" 0 0");
    if (extended)
        buf_appendcstr(out, " NIL NIL NIL NIL");
    buf_putc(out, ')');
}

void
bodystructure_write(struct buf *out, const struct message_part *p, int extended)
{
    size_t i;

    if (strcmp(p->type, "MULTIPART") == 0) {
        if (p->nparts == 0) {
            write_empty_text(out, extended);
            return;
        }
        /* RFC 3501: body-type-mpart = 1*body SP media-subtype */
        buf_putc(out, '(');
        for (i = 0; i < p->nparts; i++)
            bodystructure_write(out, &p->parts[i], extended);
        buf_putc(out, ' ');
        imapquote_nstring(out, p->subtype);
        if (extended) {
            buf_putc(out, ' ');
            mimeheader_write_params(out, p->params, 0);
            write_ext_tail(out, p);
        }
        buf_putc(out, ')');
        return;
    }
    buf_putc(out, '(');
    imapquote_nstring(out, p->type);
    buf_putc(out, ' ');
    imapquote_nstring(out, p->subtype);
    buf_putc(out, ' ');
    mimeheader_write_params(out, p->params, 0);
    buf_putc(out, ' ');
    imapquote_nstring(out, p->id);
    buf_putc(out, ' ');
    imapquote_nstring(out, p->description);
    buf_putc(out, ' ');
    imapquote_nstring(out, p->encoding ? p->encoding : "7BIT");
    buf_printf(out, " %llu", (unsigned long long)p->content_size);
    if (strcmp(p->type, "TEXT") == 0) {
        buf_printf(out, " %llu", (unsigned long long)p->lines);
    } else if (strcmp(p->type, "MESSAGE") == 0
               && strcmp(p->subtype, "RFC822") == 0 && p->nparts == 1) {
        buf_putc(out, ' ');
        envelope_write(out, p->parts[0].fields);
        buf_putc(out, ' ');
        bodystructure_write(out, &p->parts[0], extended);
        buf_printf(out, " %llu", (unsigned long long)p->lines);
    }
    if (extended) {
        buf_putc(out, ' ');
        imapquote_nstring(out, p->md5);
        write_ext_tail(out, p);
    }
    buf_putc(out, ')');
}
