/* mupdate_proto.h: the MUPDATE wire format (RFC 3656 as Cyrus 3.x speaks
 * it, shared/docs/MUPDATE.md section 2), both directions.
 *
 * The parser is pure and resumable (STYLE.md rule 3): it does no I/O, keeps
 * its state in struct mupdate_parser and consumes as many bytes as it is
 * given, so a line or a literal split across reads just means "feed me
 * more". One parsed unit is a command (client -> server) or a response
 * (server -> client):
 *
 *     tag SP word *(SP string) CRLF
 *
 * where tag is "*" or an atom, word an atom (upper-cased by the parser:
 * Cyrus compares command names case-insensitively), and each string is
 * quoted ("..."; backslash escapes \" and \\), a literal ({N}CRLF or
 * {N+}CRLF followed by N octets, NULs allowed) or, leniently, a bare atom
 * (Cyrus's own getstring() and its "* AUTH PLAIN LOGIN" banners).
 *
 * Lines that are not commands (SASL exchange lines, "+ go ahead") are the
 * caller's business: it reads them as plain lines when it expects them.
 *
 * The writers produce exactly Cyrus's forms: a client sends every argument
 * as a {N+} literal; a server sends names, locations and ACLs in
 * MAILBOX/RESERVE/DELETE as {N+} literals and the text of OK/NO/BAD/BYE as
 * a quoted string. */
#ifndef MUPDATE_PROTO_H
#define MUPDATE_PROTO_H

#include <stddef.h>

#include "buf.h"

/* Limits; 0 in a field means the default shown. */
struct mupdate_limits {
    size_t max_atom;    /* tag and word length, default 64 */
    size_t max_line;    /* bytes outside literals per unit, default 8192 */
    size_t max_literal; /* one literal, default 1 MiB (RFC: >= 4096) */
    size_t max_args;    /* strings after the word, default 64 */
};

enum mupdate_parse {
    /* Everything given was consumed; the unit is not complete yet. */
    MUPDATE_PARSE_MORE = 0,
    /* A unit is complete: read it with the getters, then call
     * mupdate_parser_reset() (feeding resets by itself too). */
    MUPDATE_PARSE_DONE,
    /* A synchronizing literal {N} was announced and accepted: a server
     * answers "+ go ahead" before the client sends the octets, then keeps
     * feeding. */
    MUPDATE_PARSE_CONTINUE,
    /* The unit is malformed. Its bytes have been consumed up to and
     * including the end of its line (or the announcing line of a literal
     * that was refused); mupdate_parser_error() says why in Cyrus's words
     * and mupdate_parser_tag() is the tag if one was read (else NULL). */
    MUPDATE_PARSE_ERROR
};

struct mupdate_parser;

/* limits may be NULL (defaults); it is copied. */
struct mupdate_parser *mupdate_parser_new(const struct mupdate_limits *limits);
void mupdate_parser_free(struct mupdate_parser **pp);
/* Forget the current unit (complete or not) and start a new one. */
void mupdate_parser_reset(struct mupdate_parser *p);

/* Consume bytes data[0..len): stops right after a unit is complete, a
 * synchronizing literal is announced, or an error's line ends, so *used_r
 * (always set) may be less than len; the caller keeps the rest for the
 * next call. A call after DONE or ERROR starts a new unit. */
enum mupdate_parse mupdate_parser_feed(struct mupdate_parser *p,
                                       const char *data, size_t len,
                                       size_t *used_r);

/* The parsed unit; pointers are owned by the parser and valid until the
 * next feed or reset. NUL-terminated (literals may also contain NULs: use
 * len_r). */
const char *mupdate_parser_tag(const struct mupdate_parser *p);
const char *mupdate_parser_word(const struct mupdate_parser *p);
size_t mupdate_parser_nargs(const struct mupdate_parser *p);
/* NULL when i >= nargs. len_r may be NULL. */
const char *mupdate_parser_arg(const struct mupdate_parser *p, size_t i,
                               size_t *len_r);
/* Whether argument i contains a NUL byte (not a valid name/location). */
int mupdate_parser_arg_has_nul(const struct mupdate_parser *p, size_t i);
/* After MUPDATE_PARSE_ERROR: "Need command", "Null command", "Badly formed
 * arguments", "Line too long", "Literal too large", "Too many arguments".
 * Static text. */
const char *mupdate_parser_error(const struct mupdate_parser *p);

/* ---- writers (append to out) ----------------------------------------- */

/* {N+}CRLF<data> */
void mupdate_write_literal(struct buf *out, const char *s, size_t len);
/* "s" when s is quotable (no CR, LF, NUL, ", \ and under 1024 bytes),
 * else a {N+} literal. */
void mupdate_write_string(struct buf *out, const char *s);

/* "tag SP word" ... then each argument as " {N+}CRLF<arg>", then CRLF:
 * the Cyrus client form. */
void mupdate_write_command(struct buf *out, const char *tag, const char *word,
                           const char *const *args, size_t nargs);
/* tag SP status SP "text" CRLF (status: OK, NO, BAD, BYE). */
void mupdate_write_response(struct buf *out, const char *tag,
                            const char *status, const char *text);
/* tag MAILBOX {n+}name {n+}location {n+}acl CRLF */
void mupdate_write_mailbox(struct buf *out, const char *tag, const char *name,
                           const char *location, const char *acl);
/* tag RESERVE {n+}name {n+}location CRLF */
void mupdate_write_reserve(struct buf *out, const char *tag, const char *name,
                           const char *location);
/* tag DELETE {n+}name CRLF */
void mupdate_write_delete(struct buf *out, const char *tag, const char *name);

/* ---- locations ------------------------------------------------------- */

/* Split "server!partition" at the first '!' (MUPDATE.md section 5): the
 * server part goes to server_r, the rest to partition_r (both replaced;
 * partition_r is empty when there is no '!'). Returns 1 if a '!' was
 * present, else 0. */
int mupdate_location_split(const char *location, struct buf *server_r,
                           struct buf *partition_r);

#endif
