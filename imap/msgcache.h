/* msgcache.h: the per-message cache record of the store.
 *
 * A record holds everything FETCH needs without re-parsing: RFC822.SIZE,
 * the sent date, the ENVELOPE, BODYSTRUCTURE and BODY strings, the cached
 * header values (the envelope_field set: From, To, Cc, Bcc, Subject,
 * Message-ID, In-Reply-To, References, Date, Sender, Reply-To) and the
 * part tree with offsets, types, encodings and charsets for BODY[section].
 *
 * Layout (all integers little-endian; varints are LEB128):
 *   "MCR" version(1 byte) total-length(u32)
 *   size(varint) flags(u8: 1 = has date) [date(zigzag varint)]
 *   envelope bodystructure body (each: varint length + bytes)
 *   field-count(varint) { present(u8) [string] }...
 *   part tree, pre-order: header-offset header-size content-offset
 *     content-size lines (varints) type subtype (strings)
 *     encoding charset (present(u8) [string]) child-count(varint) children
 *   crc32(u32) of every byte before it
 * A reader that meets another version refuses the record and the store
 * re-parses the message. */
#ifndef MSGCACHE_H
#define MSGCACHE_H

#include <stddef.h>

#include "buf.h"
#include "message.h"

#define MSGCACHE_VERSION 1

/* Append the record for m (parsed or decoded) to out. */
void msgcache_encode(const struct message *m, struct buf *out);

/* Length of the record that starts at p, from its header: 0 and *size_r,
 * ERR_BADMSG when p[0..len) does not start with a record header (or is
 * shorter than the header), ERR_NOTSUPPORTED for another version. The
 * record may extend past len. */
int msgcache_record_size(const char *p, size_t len, size_t *size_r);

/* Decode the record in p[0..len) (exactly one record). Untrusted input:
 * every length and offset is checked, the checksum verified, and the
 * tree validated (offsets inside the message, sane nesting), so corrupt
 * bytes give ERR_BADMSG (ERR_NOTSUPPORTED for another version), never a
 * crash. On success returns 0 and *msg_r, which answers every message.h
 * accessor and message_section_find() as the parsed message did. */
int msgcache_decode(const char *p, size_t len, struct message **msg_r);

/* The record's precomputed IMAP strings, pointing into the record. */
struct msgcache_strings {
    const char *envelope, *bodystructure, *body;
    size_t envelope_len, bodystructure_len, body_len;
};

/* The strings of the record in p[0..len) without decoding the rest:
 * header, length and checksum are verified as by msgcache_decode() (so a
 * damaged record gives ERR_BADMSG / ERR_NOTSUPPORTED), the part tree is
 * not. For FETCH ENVELOPE / BODYSTRUCTURE / BODY, which need nothing
 * else and should not pay for the whole tree. */
int msgcache_strings(const char *p, size_t len, struct msgcache_strings *out);

#endif
