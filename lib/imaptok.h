/* imaptok.h: a pure tokenizer over one assembled IMAP command.
 *
 * The input is what lib/imapreader.h assembles: the command line, and
 * for each literal its header, CRLF, its bytes and the rest of the line,
 * ending in CRLF (a bare LF is accepted wherever CRLF is). Literals may
 * hold NUL bytes, so nothing here assumes NUL termination: every value is
 * a span (pointer + length) into the command, or a struct buf the caller
 * owns when unescaping is needed.
 *
 * The cursor is a small struct the caller embeds (usually on the stack);
 * its fields are private. Each token function returns 0 and advances the
 * cursor, or returns -1, leaves the cursor where it was and sets a short
 * static reason (imaptok_error()) fit for "tag BAD <reason>". Spans point
 * into the command and live as long as it does.
 *
 * Grammar is RFC 3501 section 9 (plus RFC 3516 literal8 "~{N}" and RFC
 * 7888 "{N+}"); which token comes next is the caller's business:
 *     imaptok_init(&t, cmd, len);
 *     if (imaptok_tag(&t, &tag) < 0 || imaptok_sp(&t) < 0
 *         || imaptok_atom(&t, &name) < 0)
 *         reply_bad(imaptok_error(&t));
 */
#ifndef IMAPTOK_H
#define IMAPTOK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "seqset.h"
#include "strarray.h"

struct imaptok_span {
    const char *p;
    size_t len;
};

/* A literal whose bytes were handed to the reader's sink instead of being
 * kept in the command (imapreader_set_literal_sink()). The command then
 * holds its header and CRLF and nothing else: offset is where its bytes
 * would have started. */
struct imaptok_spooled {
    size_t offset;  /* in the command, just after the header's CRLF */
    uint64_t size;  /* the literal's size in bytes */
    unsigned index; /* 0-based among all literals of the command */
};

struct imaptok {
    const char *p;
    size_t len;
    size_t pos;
    const char *error;
    const struct imaptok_spooled *spooled;
    size_t nspooled;
};

struct imaptok_literal {
    const char *p;  /* the bytes; NULL when spooled */
    uint64_t len;   /* size in bytes */
    int binary;     /* written "~{N}" (RFC 3516 literal8) */
    int spooled;    /* the bytes went to the sink; see index */
    unsigned index; /* spooled only: the sink's literal index */
};

/* Start a cursor over p[0..len). */
void imaptok_init(struct imaptok *t, const char *p, size_t len);
/* Tell the cursor which literals were spooled (the array must outlive
 * the cursor; imapreader_spooled() gives it). */
void imaptok_set_spooled(struct imaptok *t,
                         const struct imaptok_spooled *spooled, size_t n);
/* Reason for the last failure ("" if none); static text. */
const char *imaptok_error(const struct imaptok *t);
/* Set the reason and return -1, for callers' own grammar checks. */
int imaptok_fail(struct imaptok *t, const char *reason);
/* Offset of the cursor in the command. */
size_t imaptok_pos(const struct imaptok *t);

/* Next byte without consuming it, or -1 at the end of the command. */
int imaptok_peek(const struct imaptok *t);
/* Nonzero if nothing but the final CRLF (or nothing) is left. */
int imaptok_at_end(const struct imaptok *t);
/* Nonzero if the next token is the keyword word (as imaptok_keyword). */
int imaptok_peek_keyword(const struct imaptok *t, const char *word);
/* Nonzero if the next token is the atom NIL (not the string "NIL"). */
int imaptok_peek_nil(const struct imaptok *t);

/* Exactly one space. */
int imaptok_sp(struct imaptok *t);
/* The end of the command: an optional CRLF and nothing after it. */
int imaptok_end(struct imaptok *t);
/* The byte c. */
int imaptok_char(struct imaptok *t, char c);
int imaptok_lparen(struct imaptok *t);
int imaptok_rparen(struct imaptok *t);

/* tag: 1*<ASTRING-CHAR except "+">. */
int imaptok_tag(struct imaptok *t, struct imaptok_span *tag_r);

/* Atom variants (imaptok_atom_ex flags). */
#define IMAPTOK_ATOM_RBRACKET      0x1 /* allow "]" (ASTRING-CHAR, resp codes) */
#define IMAPTOK_ATOM_WILDCARDS     0x2 /* allow "%" and "*" (list-char) */
#define IMAPTOK_ATOM_STOP_LBRACKET 0x4 /* stop before "[": "BODY.PEEK[" */
/* atom: 1*ATOM-CHAR (printable ASCII except atom-specials
 * "(" ")" "{" SP "%" "*" DQUOTE "\" "]"). */
int imaptok_atom(struct imaptok *t, struct imaptok_span *atom_r);
/* 1*ASTRING-CHAR: an atom that may contain "]". */
int imaptok_atom_bracket(struct imaptok *t, struct imaptok_span *atom_r);
int imaptok_atom_ex(struct imaptok *t, unsigned flags,
                    struct imaptok_span *atom_r);
/* The keyword word (ASCII case-insensitive), when it is followed by the
 * end, SP, CR, LF, "(", ")", "[", "]" or "<": "UID", "BODY" in "BODY[". */
int imaptok_keyword(struct imaptok *t, const char *word);
/* The atom NIL, any case. */
int imaptok_nil(struct imaptok *t);
/* flag: "\" atom (system flag or extension) or a keyword atom. "\*" is
 * refused (only servers send it). */
int imaptok_flag(struct imaptok *t, struct imaptok_span *flag_r);

/* number: 0..4294967295; nz-number: 1..4294967295; number64:
 * 0..2^63-1 (RFC 9051/7162 mod-sequence-value). Overflow is an error. */
int imaptok_number(struct imaptok *t, uint32_t *num_r);
int imaptok_nz_number(struct imaptok *t, uint32_t *num_r);
int imaptok_number64(struct imaptok *t, uint64_t *num_r);

/* quoted: DQUOTE *(QUOTED-CHAR) DQUOTE, "\\" and "\"" unescaped into out
 * (replaced). CR, LF, NUL and other escapes are errors; 8-bit bytes are
 * kept (RFC 6855 UTF8=ACCEPT clients send UTF-8). */
int imaptok_quoted(struct imaptok *t, struct buf *out);
/* literal: ["~"] "{" number ["+"] "}" CRLF and the bytes (a spooled
 * literal has no bytes in the command: see struct imaptok_spooled). */
int imaptok_literal(struct imaptok *t, struct imaptok_literal *lit_r);
/* string: quoted or a (non-binary, not spooled) literal, into out
 * (replaced). A NUL byte is an error, so buf_cstring(out) is the whole
 * value; use imaptok_literal() for raw data. */
int imaptok_string(struct imaptok *t, struct buf *out);
/* astring: 1*ASTRING-CHAR or string. */
int imaptok_astring(struct imaptok *t, struct buf *out);
/* nstring: NIL (sets *is_nil_r and empties out) or string. */
int imaptok_nstring(struct imaptok *t, struct buf *out, int *is_nil_r);
/* mailbox: an astring. Recognising INBOX in any case is the caller's. */
int imaptok_mailbox(struct imaptok *t, struct buf *out);
/* list-mailbox: 1*list-char (atom chars, "%", "*", "]") or string. */
int imaptok_list_mailbox(struct imaptok *t, struct buf *out);

/* "(" [astring *(SP astring)] ")", each appended to out. */
int imaptok_astring_list(struct imaptok *t, struct strarray *out);
/* flag-list: "(" [flag *(SP flag)] ")", each appended to out. */
int imaptok_flag_list(struct imaptok *t, struct strarray *out);

/* sequence-set (lib/seqset.h): a new set in *set_r, "*" kept symbolic.
 * RFC 5182 "$" is not handled here: peek for it first. */
int imaptok_seqset(struct imaptok *t, struct seqset **set_r);

/* SEARCH date: date-text or DQUOTE date-text DQUOTE, date-text being
 * "1-Feb-1994" (day 1 or 2 digits, month any case, 4-digit year). Sets
 * tm_mday, tm_mon (0-11), tm_year (years since 1900); other fields 0. */
int imaptok_date(struct imaptok *t, struct tm *tm_r);
/* APPEND date-time: "dd-Mon-yyyy hh:mm:ss +zzzz" in quotes (the day may
 * be " 7", "07" or "7"). *time_r is the UTC instant; *tzoff_r (may be
 * NULL) the zone's offset east of UTC in seconds. */
int imaptok_datetime(struct imaptok *t, time_t *time_r, int *tzoff_r);

/* Output helpers for responses (append to out). */
/* A quoted string when p[0..len) is short printable ASCII, else a
 * literal "{N}\r\n" followed by the bytes (CR, LF, NUL, 8-bit, long). */
void imaptok_quote(struct buf *out, const char *p, size_t len);
/* An atom when the value is non-empty ASTRING-CHARs and not "NIL", else
 * as imaptok_quote. */
void imaptok_astring_out(struct buf *out, const char *p, size_t len);
/* NIL when p is NULL, else as imaptok_quote. */
void imaptok_nstring_out(struct buf *out, const char *p, size_t len);

#endif
