/* lmtp_proto.h: the LMTP protocol engine (RFC 2033, RFC 5321 syntax),
 * without I/O.
 *
 * Used by the backend lmtpd (server side: command lines, MAIL/RCPT
 * paths and parameters, DATA unstuffing, error -> reply mapping) and by
 * the frontend LMTP proxy (client side: multi-line reply parsing, DATA
 * stuffing, reply -> error mapping). Everything works on (pointer,
 * length) spans, keeps no pointer past the call and logs nothing, so each
 * function is fuzzable on its own (cunit/fuzz/lmtp_proto_fuzz.c).
 *
 * Errors: 0 or a negative ERR_* (errors.h). Parsers that can fail set
 * *error_r to a static reply text with its enhanced status code, ready to
 * send after the numeric code (e.g. "5.5.4 Syntax error in parameters"). */
#ifndef LMTP_PROTO_H
#define LMTP_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* ---- commands (server side) ---------------------------------------- */

enum lmtp_verb {
    LMTP_UNKNOWN = 0,
    LMTP_LHLO,
    LMTP_MAIL,
    LMTP_RCPT,
    LMTP_DATA,
    LMTP_RSET,
    LMTP_NOOP,
    LMTP_QUIT,
    LMTP_VRFY,
    LMTP_STARTTLS,
    LMTP_AUTH,
    LMTP_HELO, /* HELO and EHLO: refused, LMTP needs LHLO (RFC 2033 4.1) */
    LMTP_EHLO
};

/* Split a command line line[0..len) (no CRLF) into its verb (ASCII
 * case-insensitive) and the argument span after the verb and the blanks
 * that follow it (arg_r, arglen_r; an empty span when there is none).
 * "MAIL FROM:<x>" gives LMTP_MAIL and "FROM:<x>". Unknown verbs and
 * verbs not followed by a blank or the end of the line give LMTP_UNKNOWN. */
enum lmtp_verb lmtp_command_parse(const char *line, size_t len,
                                  const char **arg_r, size_t *arglen_r);
/* The verb's name for logs ("MAIL"), "?" for LMTP_UNKNOWN. */
const char *lmtp_verb_name(enum lmtp_verb verb);

/* A parsed MAIL FROM or RCPT TO argument. Embed it and call
 * lmtp_path_init()/_fini(); each parse resets it first. */
struct lmtp_path {
    struct buf addr; /* the mailbox inside <> with any source route
                      * dropped and a quoted local part unquoted; ""
                      * for the null path <> */
    struct buf auth; /* MAIL AUTH=: the xtext-decoded address, "<>"
                      * for AUTH=<>, "" without the parameter */
    uint64_t size;   /* MAIL SIZE=, 0 without it */
    int has_size;
    int body_8bit;   /* MAIL BODY=8BITMIME */
    int ignorequota; /* RCPT IGNOREQUOTA (Cyrus extension) */
};

void lmtp_path_init(struct lmtp_path *p);
void lmtp_path_fini(struct lmtp_path *p);

/* Parse the argument of MAIL ("FROM:<addr> params") or RCPT ("TO:<addr>
 * params"): the keyword is case-insensitive, blanks may follow the colon,
 * the address must be in angle brackets (RCPT TO:<> is refused), and
 * the parameters are ESMTP keyword[=value] pairs separated by blanks.
 * MAIL knows SIZE, BODY (7BIT, 8BITMIME) and AUTH; RCPT knows
 * IGNOREQUOTA; any other parameter is refused (RFC 5321 4.1.1.11: 555).
 * Returns 0, or ERR_SYNTAX with *error_r set. */
int lmtp_parse_mail(const char *arg, size_t len, struct lmtp_path *out,
                    const char **error_r);
int lmtp_parse_rcpt(const char *arg, size_t len, struct lmtp_path *out,
                    const char **error_r);

/* A recipient address taken apart the Cyrus way: "user+detail@domain".
 * Embed it and call lmtp_rcpt_init()/_fini(). */
struct lmtp_rcpt {
    struct buf user;   /* local part up to the first '+' */
    struct buf detail; /* after the '+' ("" when there is none) */
    struct buf domain; /* after the last '@' ("" when there is none) */
    int has_detail;    /* a '+' was present (even with an empty detail) */
};

void lmtp_rcpt_init(struct lmtp_rcpt *r);
void lmtp_rcpt_fini(struct lmtp_rcpt *r);

/* Flags for lmtp_rcpt_split(). */
enum {
    LMTP_RCPT_DOWNCASE = 1 << 0, /* lmtp_downcase_rcpt: lowercase user */
    LMTP_RCPT_STRICT = 1 << 1    /* lmtp_strict_rfc2821: no 8-bit bytes */
};

/* Split addr[0..len) (as lmtp_path.addr holds it) into *out. Returns 0,
 * or ERR_SYNTAX (empty user, control characters, NUL, 8-bit bytes when
 * strict) with *error_r set. */
int lmtp_rcpt_split(const char *addr, size_t len, unsigned flags,
                    struct lmtp_rcpt *out, const char **error_r);

/* ---- DATA ------------------------------------------------------------ */

/* One line of DATA as the stream returns it (line ending removed).
 * Returns 1 for the terminating "." (nothing to store), else 0 with
 * out_r, outlen_r: the line with one leading dot removed (RFC 5321
 * 4.5.2); the caller stores it followed by CRLF. */
int lmtp_data_line(const char *line, size_t len, const char **out_r,
                   size_t *outlen_r);

/* The same as a resumable byte decoder, for DATA read in chunks of any
 * size (no line length limit). Zero it (or lmtp_unstuff_init()) before
 * the first byte after the DATA command's line. */
struct lmtp_unstuff {
    int state;
};

void lmtp_unstuff_init(struct lmtp_unstuff *u);
/* Decode in[0..len): append the message bytes to out with the leading
 * dot of each line removed and line ends kept as received (CRLF or bare
 * LF). Stops right after the terminating "." line (".\r\n" or ".\n"),
 * setting *done_r to 1; bytes after it (pipelined commands) are not
 * consumed. Returns the number of bytes consumed. */
size_t lmtp_unstuff_feed(struct lmtp_unstuff *u, const char *in, size_t len,
                         struct buf *out, int *done_r);

/* Client side: append msg[0..len) to out dot-stuffed, with every line
 * ending (CRLF, or a bare LF) sent as CRLF, a CRLF added after a last
 * line without one, and the terminating ".\r\n". */
void lmtp_data_stuff(const char *msg, size_t len, struct buf *out);

/* ---- replies ---------------------------------------------------------- */

/* How the server answers a delivery error for one recipient. */
struct lmtp_reply_code {
    int code;         /* 250, 452, 550, ... */
    const char *text; /* enhanced status + text, e.g. "4.2.2 Over quota" */
};

/* The reply Cyrus sends for err (0 or ERR_*; IMAP-SCOPE.md section 6):
 * 0 -> 250 2.1.5, ERR_QUOTA -> 452 4.2.2 (552 5.2.2 with quota_perm),
 * ERR_NOUSER/ERR_NOMAILBOX -> 550 5.1.1, ERR_PERMISSION -> 550 5.7.1,
 * ERR_TOOBIG -> 552 5.2.3, ERR_BADMSG -> 554 5.6.0, ERR_MOVED/ERR_RESERVED
 * -> 451 4.2.1, ERR_UNAVAILABLE or ERR_MUPDATE_x -> 451 4.4.3, ERR_NOTSUPPORTED
 * -> 451 4.2.0, ERR_SYNTAX -> 501 5.5.4, else 451 4.3.0. */
struct lmtp_reply_code lmtp_reply_for_error(int err, int quota_perm);

/* The error a proxy reports for a backend reply (Cyrus revconvert_lmtp):
 * 2xx -> 0; 452 or x.2.2 -> ERR_QUOTA; x.2.3 -> ERR_TOOBIG; 550 5.7.x ->
 * ERR_PERMISSION; 550 5.1.x -> ERR_NOMAILBOX; 554 -> ERR_BADMSG; 451
 * 4.2.1 -> ERR_MOVED; 451 4.4.x -> ERR_UNAVAILABLE; other 4xx ->
 * ERR_AGAIN; other 5xx -> ERR_PROTOCOL. enhanced may be NULL or "". */
int lmtp_error_for_reply(int code, const char *enhanced);

/* A (possibly multi-line) reply being read by a client. Embed it and
 * call lmtp_reply_init()/_fini(). */
struct lmtp_reply {
    int code;          /* 0 until the first line */
    char enhanced[16]; /* "2.1.5" from the first line that has one (Cyrus:
                        * the last line), or "" when none has */
    struct buf text;   /* the lines' texts (after the enhanced code of
                        * the first line), joined by "\n" */
    int complete;
};

void lmtp_reply_init(struct lmtp_reply *r);
void lmtp_reply_fini(struct lmtp_reply *r);
/* Feed the next reply line (no CRLF). The first line after a complete
 * reply starts a new one. Returns 1 when this line ended the reply
 * ("NNN " or "NNN" alone), 0 when more lines follow ("NNN-"), or
 * ERR_PROTOCOL (not "NNN[ -]", code < 200 or > 599, or a continuation
 * line with another code). */
int lmtp_reply_feed(struct lmtp_reply *r, const char *line, size_t len);

/* RFC 3461 4 xtext: decode in[0..len) ("+XX" hex escapes) into out
 * (replacing its contents). Returns 0 or ERR_SYNTAX. */
int lmtp_xtext_decode(const char *in, size_t len, struct buf *out);

#endif
