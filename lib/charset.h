/* charset.h: character sets, via ICU.
 *
 * Modified UTF-7 mailbox names (RFC 3501 5.1.3), UTF-8 validation,
 * conversion of text in any IANA charset to UTF-8, RFC 2047 header
 * decoding, base64 / quoted-printable body decoding, and the folded form
 * used for case-insensitive SEARCH.
 *
 * Every function appends to its output buffer (it never resets it), so on
 * error the buffer may hold a partial result only where stated. Functions
 * hold no state between calls and are safe to call from several threads. */
#ifndef CHARSET_H
#define CHARSET_H

#include <stddef.h>

#include "buf.h"

/* 1 if p[0..len) is well-formed UTF-8 (no overlong forms, surrogates,
 * code points above U+10FFFF or truncated sequences), else 0. */
int charset_utf8_valid(const char *p, size_t len);

/* 1 if p[0..len) is canonical modified UTF-7: printable ASCII, '&-' for
 * '&', base64 runs that decode to whole UTF-16 (no lone surrogates) with
 * zero padding bits, that do not encode printable ASCII, are terminated by
 * '-' and are not adjacent to another run. Else 0. */
int charset_mutf7_valid(const char *p, size_t len);

/* Modified UTF-7 -> UTF-8. Returns 0, or ERR_INVALID (out unchanged) when
 * the input is not canonical modified UTF-7 (charset_mutf7_valid). */
int charset_mutf7_to_utf8(const char *p, size_t len, struct buf *out);

/* UTF-8 -> modified UTF-7. Returns 0, or ERR_INVALID (out unchanged) for
 * input that is not valid UTF-8 or contains NUL. */
int charset_utf8_to_mutf7(const char *p, size_t len, struct buf *out);

/* Convert text in charset (an IANA name or alias, case-insensitive:
 * "ISO-8859-1", "windows-1252", "UTF-16" with or without a BOM,
 * "Shift_JIS", ...) to UTF-8. Bytes that are invalid in the charset become
 * U+FFFD. Returns 0, or ERR_BADCHARSET (out unchanged) when ICU does not
 * know the charset (or charset is NULL or empty). */
int charset_to_utf8(const char *charset, const char *p, size_t len,
                    struct buf *out);

/* Decode a header value to UTF-8 (RFC 2047): B and Q encoded-words in any
 * charset are decoded, whitespace between adjacent encoded-words is
 * dropped (and their bytes joined before conversion, so a character split
 * across words survives), CR and LF are removed (unfolding). Malformed
 * words and words in unknown charsets are kept as they are. Raw text that
 * is not valid UTF-8 is taken as windows-1252. Always returns 0. */
int charset_decode_mimeheader(const char *p, size_t len, struct buf *out);

/* Base64 body decoding (RFC 2045 6.8), tolerant: bytes outside the
 * alphabet (line breaks, garbage) are skipped and decoding stops at the
 * first '='. A trailing partial group yields its whole bytes. Returns 0. */
int charset_decode_base64(const char *p, size_t len, struct buf *out);

/* Quoted-printable body decoding (RFC 2045 6.7), tolerant: "=XX" (either
 * case) decodes, "=" before a line end is a soft break, whitespace before
 * a line end is dropped, any other '=' is kept as is. Line ends (CRLF or
 * LF) are kept as they were. Returns 0. */
int charset_decode_qp(const char *p, size_t len, struct buf *out);

/* Folding flags: what to do with runs of white space (Unicode White_Space,
 * so CR, LF, TAB and NBSP too). */
#define CHARSET_FOLD_MERGESPACE 0x1 /* a run becomes one ' ' (headers) */
#define CHARSET_FOLD_SKIPSPACE  0x2 /* runs are removed */

/* Append the search form of UTF-8 text: ICU NFKC_Casefold (case folding
 * with compatibility normalisation, so "Straße" and "STRASSE", "É" and
 * "é" fold alike) with white space treated per flags. Invalid UTF-8
 * becomes U+FFFD. The result is UTF-8. Returns 0, or ERR_GENERIC if ICU
 * fails (it does not for valid input). */
int charset_fold(const char *p, size_t len, unsigned flags, struct buf *out);

/* A compiled case-insensitive substring search. */
struct charset_search;

/* Fold the UTF-8 needle once (charset_fold with flags). */
struct charset_search *charset_search_new(const char *p, size_t len,
                                          unsigned flags);

/* 1 if the needle occurs in the UTF-8 text, else 0 (an empty needle
 * matches everything). The text is folded with the needle's flags into a
 * scratch buffer kept in s (reused between calls), so one search must not
 * be used by two threads at once. */
int charset_search_match(struct charset_search *s, const char *text,
                         size_t len);

/* Same, for text already passed through charset_fold() with the same
 * flags (callers that fold a body once and search it many times). */
int charset_search_match_folded(const struct charset_search *s,
                                const char *folded, size_t len);

void charset_search_free(struct charset_search **sp);

#endif
