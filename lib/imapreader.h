/* imapreader.h: assembles IMAP commands from a byte stream, with no I/O.
 *
 * The session feeds whatever bytes it has read; the reader collects one
 * complete command: the command line and, for every literal ("{N}",
 * "{N+}", "~{N}"), the literal's bytes and the line that continues after
 * it, until a line ends without a literal header. The command is kept
 * exactly as received (line CRLF bytes rest-of-line CRLF ...) for
 * lib/imaptok.h. Lines end in CRLF or a bare LF.
 *
 * Every call of imapreader_feed() reports what happened:
 *
 *   NEED_MORE  all the bytes were used; feed more when they arrive.
 *   LITERAL    a literal header ended a line. The caller checks
 *              imapreader_literal_size()/_sync() against its own rules
 *              (quota, RFC 7888 LITERAL- 4096-byte limit on "{N+}") and
 *              either sends "+ go ahead" (for a synchronizing literal)
 *              and calls imapreader_accept_literal(), or answers
 *              "tag NO/BAD ..." and calls imapreader_reject_literal().
 *              Feeding before deciding returns LITERAL again, using
 *              nothing.
 *   COMMAND    imapreader_command() holds the whole command.
 *   LINE       after imapreader_read_line(): imapreader_line() holds
 *              the line.
 *   ERROR      the command broke a limit (line or command too long,
 *              literal too large, too many literals, the sink failed).
 *              Send "tag BAD <imapreader_error()>" (or "* BAD" when
 *              imapreader_error_tag() is NULL) and keep feeding: the
 *              reader quietly discards the rest of that command,
 *              swallowing any non-synchronizing literal in it, and goes
 *              on with the next one.
 *   CLOSE      the stream cannot be resynchronized: a rejected
 *              non-synchronizing literal is larger than max_discard (RFC
 *              7888 section 4 lets the server close). Send "* BYE" with
 *              imapreader_error() and close. Every later feed returns
 *              CLOSE.
 *
 * *used_r is always set to the bytes consumed; the rest of data belongs
 * to what comes next and must be fed again. The reader checks the limits
 * itself before it ever reports LITERAL, so a literal is never larger
 * than max_literal.
 *
 * Limits are the caller's (Redis style: tighter before authentication;
 * imapreader_set_limits() applies from the next command on, which is
 * the one about to be read when called between commands). */
#ifndef IMAPREADER_H
#define IMAPREADER_H

#include <stddef.h>
#include <stdint.h>

#include "imaptok.h"

struct imapreader_limits {
    size_t max_line;          /* longest line, CRLF included */
    uint64_t max_literal;     /* largest literal accepted */
    uint64_t max_command;     /* most bytes of one command kept in memory:
                               * lines plus literal bytes not spooled */
    unsigned max_literals;    /* most literals in one command */
    uint64_t max_discard;     /* largest rejected "{N+}" swallowed */
    uint64_t spool_threshold; /* with a sink, literals of at least this
                               * many bytes (and at least 1) go to it */
};

/* Defaults for an authenticated session: lines 64 KiB, literals 64 MiB,
 * command 1 MiB in memory, 1000 literals, discard up to 64 MiB, spool
 * from 64 KiB. */
void imapreader_limits_default(struct imapreader_limits *l);
/* Tighter limits before authentication: lines 8 KiB, literals 8 KiB,
 * command 16 KiB, 4 literals, discard up to 8 KiB. */
void imapreader_limits_preauth(struct imapreader_limits *l);

enum imapreader_state {
    IMAPREADER_NEED_MORE,
    IMAPREADER_LITERAL,
    IMAPREADER_COMMAND,
    IMAPREADER_LINE,
    IMAPREADER_ERROR,
    IMAPREADER_CLOSE,
};

struct imapreader;

/* limits is copied. */
struct imapreader *imapreader_new(const struct imapreader_limits *limits);
void imapreader_free(struct imapreader **rp);
void imapreader_set_limits(struct imapreader *r,
                           const struct imapreader_limits *limits);

/* Receives a spooled literal's bytes in order, in chunks: index is the
 * literal's 0-based index in the command, size its total size, offset
 * where data[0..len) sits in it (offset 0 is the first chunk: open the
 * file then; offset + len == size is the last). Return 0, or a negative
 * ERR_* to give up: the reader then discards the rest of the command and
 * reports ERROR with that code. */
typedef int imapreader_sink_cb(void *ctx, unsigned index, uint64_t size,
                               uint64_t offset, const char *data, size_t len);
/* From now on accepted literals of at least limits.spool_threshold bytes
 * go to cb instead of into the command, which then holds a placeholder
 * (header and CRLF, no bytes) listed by imapreader_spooled(). cb NULL
 * turns spooling off. */
void imapreader_set_literal_sink(struct imapreader *r, imapreader_sink_cb *cb,
                                 void *ctx);

enum imapreader_state imapreader_feed(struct imapreader *r, const char *data,
                                      size_t len, size_t *used_r);

/* While LITERAL is pending: its size, whether it is synchronizing ("{N}",
 * the client waits for "+"), binary ("~{N}"), and its 0-based index. */
uint64_t imapreader_literal_size(const struct imapreader *r);
int imapreader_literal_sync(const struct imapreader *r);
int imapreader_literal_binary(const struct imapreader *r);
unsigned imapreader_literal_index(const struct imapreader *r);
/* Take the pending literal (spooled when a sink is set and it is big
 * enough). The caller sends "+ go ahead" itself for a sync literal. */
void imapreader_accept_literal(struct imapreader *r);
/* Refuse the pending literal; the command is dropped. For "{N}" the
 * client sends nothing more of it; for "{N+}" the reader swallows the N
 * bytes and the rest of the command. Returns 0, or ERR_TOOLONG when N is
 * above max_discard: the reader is then in CLOSE state. */
int imapreader_reject_literal(struct imapreader *r);

/* After COMMAND: the command bytes and length (NUL-terminated for
 * convenience; it may contain NULs inside literals). Valid until the next
 * feed, read_line, reset or free. */
const char *imapreader_command(const struct imapreader *r, size_t *len_r);
/* After COMMAND: the spooled literals, in order (count may be 0), for
 * imaptok_set_spooled(). Same lifetime as the command. */
const struct imaptok_spooled *imapreader_spooled(const struct imapreader *r,
                                                 size_t *count_r);

/* Ask for one plain line next (IDLE's "DONE", AUTHENTICATE responses):
 * no literal processing; the next feed reports LINE (or ERROR for a line
 * longer than max_line, which is then discarded). Only between commands
 * (after COMMAND, ERROR or LINE, or before the first feed). */
void imapreader_read_line(struct imapreader *r);
/* After LINE: the line without its CRLF (NUL-terminated), valid as for
 * imapreader_command(). */
const char *imapreader_line(const struct imapreader *r, size_t *len_r);

/* After ERROR or CLOSE: a short reason for the client (static text), the
 * ERR_* code (ERR_TOOLONG for limits, or the sink's), and the command's
 * tag when its first line showed one, else NULL. Kept until the next
 * ERROR. */
const char *imapreader_error(const struct imapreader *r);
int imapreader_error_code(const struct imapreader *r);
const char *imapreader_error_tag(const struct imapreader *r);

/* Forget any partial command or pending literal (e.g. after STARTTLS);
 * line mode is cancelled. A CLOSE state stays. */
void imapreader_reset(struct imapreader *r);

#endif
