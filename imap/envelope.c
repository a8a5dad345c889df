/* envelope.c: the IMAP ENVELOPE (see envelope.h). */
#include <string.h>

#include "envelope.h"
#include "imapquote.h"
#include "msgaddr.h"
#include "util.h"

static const char *const field_names[ENVELOPE_NFIELDS] = {
    [ENVELOPE_DATE] = "Date",
    [ENVELOPE_SUBJECT] = "Subject",
    [ENVELOPE_FROM] = "From",
    [ENVELOPE_SENDER] = "Sender",
    [ENVELOPE_REPLY_TO] = "Reply-To",
    [ENVELOPE_TO] = "To",
    [ENVELOPE_CC] = "Cc",
    [ENVELOPE_BCC] = "Bcc",
    [ENVELOPE_IN_REPLY_TO] = "In-Reply-To",
    [ENVELOPE_MESSAGE_ID] = "Message-ID",
    [ENVELOPE_REFERENCES] = "References",
};

const char *
envelope_field_name(enum envelope_field f)
{
    if ((unsigned)f >= ENVELOPE_NFIELDS)
        return NULL;
    return field_names[f];
}

int
envelope_field_lookup(const char *name, size_t len)
{
    int i;

    for (i = 0; i < ENVELOPE_NFIELDS; i++) {
        if (util_memcaseeq(name, len, field_names[i]))
            return i;
    }
    return -1;
}

static struct msgaddr *
parse_list(const char *s)
{
    return s ? msgaddr_parse(s, strlen(s)) : NULL;
}

void
envelope_write(struct buf *out, char *const fields[ENVELOPE_NFIELDS])
{
    struct msgaddr *from = parse_list(fields[ENVELOPE_FROM]);
    struct msgaddr *sender = parse_list(fields[ENVELOPE_SENDER]);
    struct msgaddr *reply_to = parse_list(fields[ENVELOPE_REPLY_TO]);
    struct msgaddr *to = parse_list(fields[ENVELOPE_TO]);
    struct msgaddr *cc = parse_list(fields[ENVELOPE_CC]);
    struct msgaddr *bcc = parse_list(fields[ENVELOPE_BCC]);

    buf_putc(out, '(');
    imapquote_nstring(out, fields[ENVELOPE_DATE]);
    buf_putc(out, ' ');
    imapquote_nstring(out, fields[ENVELOPE_SUBJECT]);
    buf_putc(out, ' ');
    msgaddr_write_imap(out, from);
    buf_putc(out, ' ');
    /* RFC 3501 7.4.2: sender and reply-to default to from */
    msgaddr_write_imap(out, sender ? sender : from);
    buf_putc(out, ' ');
    msgaddr_write_imap(out, reply_to ? reply_to : from);
    buf_putc(out, ' ');
    msgaddr_write_imap(out, to);
    buf_putc(out, ' ');
    msgaddr_write_imap(out, cc);
    buf_putc(out, ' ');
    msgaddr_write_imap(out, bcc);
    buf_putc(out, ' ');
    imapquote_nstring(out, fields[ENVELOPE_IN_REPLY_TO]);
    buf_putc(out, ' ');
    imapquote_nstring(out, fields[ENVELOPE_MESSAGE_ID]);
    buf_putc(out, ')');
    msgaddr_free(&from);
    msgaddr_free(&sender);
    msgaddr_free(&reply_to);
    msgaddr_free(&to);
    msgaddr_free(&cc);
    msgaddr_free(&bcc);
}
