/* search.h: IMAP SEARCH (RFC 3501 6.4.4) with ESEARCH result options
 * (RFC 4731), the CONDSTORE MODSEQ key (RFC 7162 3.1.5) and WITHIN's
 * OLDER/YOUNGER (RFC 5032).
 *
 * Three steps, none of which touches a socket:
 *     search_parse()  the command's arguments -> a compiled program
 *     search_run()    the program over a session's view -> matches
 *     search_format() the matches -> "* SEARCH ..." or "* ESEARCH ..."
 *
 * Strings in the program are converted to UTF-8 and folded once at parse
 * time (lib/charset.h); message text is decoded (RFC 2047 words, transfer
 * encodings, charsets) and folded the same way, so the match is a
 * case-insensitive substring match that also holds for non-ASCII text
 * ("ÉTÉ" finds "été"). White space runs compare as one space. */
#ifndef SEARCH_H
#define SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "imaptok.h"

struct index_view;

/* A parsed search: an opaque tree of keys, owned by the caller. */
struct search_program;

/* Nesting limit of NOT, OR and parentheses: deeper programs are refused
 * at parse time, so neither parsing nor evaluation can exhaust the stack. */
#define SEARCH_MAX_DEPTH 256

/* ESEARCH result options (RFC 4731). */
#define SEARCH_RETURN_MIN   0x1u
#define SEARCH_RETURN_MAX   0x2u
#define SEARCH_RETURN_ALL   0x4u
#define SEARCH_RETURN_COUNT 0x8u

/* How the result is to be reported. */
struct search_return {
    int esearch;      /* RETURN was given: reply "* ESEARCH" */
    unsigned options; /* SEARCH_RETURN_* ("RETURN ()" means ALL) */
    int uid;          /* UID SEARCH: matches are UIDs, ESEARCH says UID */
    int modseq;       /* MODSEQ was a key: report the highest modseq */
};

/* Parse the arguments of SEARCH / UID SEARCH:
 *     [SP "RETURN" SP "(" [opt *(SP opt)] ")"] [SP "CHARSET" SP astring]
 *     1*(SP search-key)
 * The cursor t stands just after the command name ("SEARCH"), at the
 * space before the arguments; the whole rest of the command is consumed,
 * its end (CRLF) included. uid_command is nonzero for UID SEARCH.
 *
 * Returns 0, *prog_r (free with search_program_free()) and *ret_r, or
 *   ERR_SYNTAX      malformed arguments (reply BAD),
 *   ERR_BADCHARSET  CHARSET names a charset ICU does not know (reply
 *                   NO [BADCHARSET (US-ASCII UTF-8)]),
 * with a static reason in *error_r and *prog_r untouched. Without
 * CHARSET, strings are US-ASCII, or UTF-8 when they hold 8-bit bytes. */
int search_parse(struct imaptok *t, int uid_command,
                 struct search_program **prog_r, struct search_return *ret_r,
                 const char **error_r);

void search_program_free(struct search_program **progp);

/* Evaluate prog over every message of the view, in sequence order, and
 * return the matches in ascending order: UIDs when the program came from
 * UID SEARCH, else sequence numbers. *matches_r is malloc'ed (free() it;
 * NULL when *n_r is 0). \Recent comes from the view; flags, dates, sizes
 * and modseqs from the index records; header keys from the cache record
 * (or the message file when a field is not cached or the record is
 * unusable); BODY and TEXT from the decoded text parts of the message
 * file, which is mapped at most once per message and only when the
 * cheaper keys leave the result open. Messages expunged on disk but still
 * in the view never match.
 *
 * *highestmodseq_r is 0 unless MODSEQ was a key; then it is the highest
 * modseq among the messages reported (all matches, or only the MIN/MAX
 * ones when RETURN asked for nothing else; RFC 7162 3.1.5), 0 if none.
 *
 * Takes and drops a shared lock on the view's mailbox itself (the caller
 * must not hold one). Returns 0, or ERR_IO when the lock fails. */
int search_run(struct index_view *v, const struct search_program *prog,
               uint32_t **matches_r, size_t *n_r, uint64_t *highestmodseq_r);

/* Append the untagged result to out, CRLF included:
 *     * SEARCH 2 3 9 (MODSEQ 917)            (no RETURN)
 *     * ESEARCH (TAG "a1") UID MIN 2 MAX 9 COUNT 5 ALL 2:5,9 MODSEQ 917
 * matches[0..n) ascending as search_run() gave them; highestmodseq 0
 * leaves MODSEQ out. With no matches ESEARCH gives only COUNT 0 (if
 * asked), as RFC 4731 3.1 says. */
void search_format(const struct search_return *ret, const char *tag,
                   const uint32_t *matches, size_t n, uint64_t highestmodseq,
                   struct buf *out);

#endif
