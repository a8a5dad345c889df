/* message_fuzz.c: libFuzzer target for the message parser and the cache
 * record. Parses arbitrary bytes, builds every string, encodes the cache
 * record, decodes it and requires identical answers (strings, tree,
 * sections); also feeds the raw input to the cache decoder and to the
 * header helpers. */
/* clang-format off */
/* FUZZ_SOURCES: imap/bodystructure.c imap/envelope.c imap/imapquote.c imap/maildate.c imap/message.c imap/message_section.c imap/mimeheader.c imap/msgaddr.c imap/msgcache.c imap/msgheader.c */
/* clang-format on */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "message.h"
#include "message_section.h"
#include "msgcache.h"
#include "msgheader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const specs[] = {
    "",
    "HEADER",
    "TEXT",
    "1",
    "1.MIME",
    "2",
    "2.1",
    "1.1",
    "1.2.3",
    "2.HEADER",
    "2.TEXT",
    "1.1.MIME",
    "HEADER.FIELDS (From Subject)",
    "1.HEADER.FIELDS.NOT (To)",
};

#define CHECK(cond)  \
    do {             \
        if (!(cond)) \
            abort(); \
    } while (0)

static int
same(const char *a, const char *b)
{
    return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void
compare_tree(const struct message_part *a, const struct message_part *b)
{
    size_t i;

    CHECK(same(message_part_type(a), message_part_type(b)));
    CHECK(same(message_part_subtype(a), message_part_subtype(b)));
    CHECK(same(message_part_encoding(a), message_part_encoding(b)));
    CHECK(same(message_part_charset(a), message_part_charset(b)));
    CHECK(message_part_header(a).offset == message_part_header(b).offset);
    CHECK(message_part_header(a).len == message_part_header(b).len);
    CHECK(message_part_content(a).offset == message_part_content(b).offset);
    CHECK(message_part_content(a).len == message_part_content(b).len);
    CHECK(message_part_lines(a) == message_part_lines(b));
    CHECK(message_part_count(a) == message_part_count(b));
    for (i = 0; i < message_part_count(a); i++)
        compare_tree(message_part_child(a, i), message_part_child(b, i));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *msg = (const char *)data;
    struct message *m = NULL, *d = NULL;
    struct buf rec = BUF_INITIALIZER, rec2 = BUF_INITIALIZER;
    struct buf a = BUF_INITIALIZER, b = BUF_INITIALIZER;
    size_t i;
    int f;

    /* the raw bytes as a (corrupt) cache record */
    if (msgcache_decode(msg, size, &d) == 0)
        message_free(&d);

    (void)msgheader_check(msg, size);
    msgheader_crlf(msg, size, &a);
    (void)msgheader_message_id(msg, size, &b);
    buf_reset(&a);

    CHECK(message_parse(msg, size, &m) == 0);
    CHECK(message_size(m) == size);
    msgcache_encode(m, &rec);
    CHECK(msgcache_decode(buf_base(&rec), buf_len(&rec), &d) == 0);
    CHECK(same(message_envelope(m), message_envelope(d)));
    CHECK(same(message_bodystructure(m), message_bodystructure(d)));
    CHECK(same(message_body(m), message_body(d)));
    for (f = 0; f < ENVELOPE_NFIELDS; f++)
        CHECK(same(message_field(m, f), message_field(d, f)));
    CHECK(message_sent_date_or(m, 7) == message_sent_date_or(d, 7));
    compare_tree(message_root(m), message_root(d));
    msgcache_encode(d, &rec2);
    CHECK(buf_cmp(&rec, &rec2) == 0);
    for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
        buf_reset(&a);
        buf_reset(&b);
        CHECK(
            message_section_fetch(m, msg, size, specs[i], strlen(specs[i]), &a)
            == 0);
        CHECK(
            message_section_fetch(d, msg, size, specs[i], strlen(specs[i]), &b)
            == 0);
        CHECK(buf_cmp(&a, &b) == 0);
    }
    message_free(&m);
    message_free(&d);
    buf_free(&rec);
    buf_free(&rec2);
    buf_free(&a);
    buf_free(&b);
    return 0;
}
