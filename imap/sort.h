/* sort.h: IMAP SORT (RFC 5256) with ESORT result options (RFC 5267).
 *
 *     sort_parse()  "SORT [RETURN (...)] (criteria) charset keys"
 *     sort_run()    search (imap/search.h), then order the matches
 *     sort_format() "* SORT 3 1 2" or "* ESEARCH (TAG "t") ..."
 *
 * Criteria: ARRIVAL, CC, DATE, FROM, SIZE, SUBJECT, TO, each optionally
 * preceded by REVERSE. Strings compare with i;ascii-casemap; addresses by
 * the local part of the first address; SUBJECT by the base subject of
 * RFC 5256 2.1; DATE by the sent date, the internal date standing in when
 * there is none. Ties keep sequence order. */
#ifndef SORT_H
#define SORT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "imaptok.h"
#include "search.h"

struct index_view;
struct sort_program;

/* Parse the arguments of SORT / UID SORT; the cursor stands just after
 * the command name, and the rest of the command is consumed. Returns 0,
 * *prog_r (free with sort_program_free()) and *ret_r (esearch set when
 * RETURN was given), or ERR_SYNTAX / ERR_BADCHARSET with a static reason
 * in *error_r, as search_parse(). */
int sort_parse(struct imaptok *t, int uid_command, struct sort_program **prog_r,
               struct search_return *ret_r, const char **error_r);
void sort_program_free(struct sort_program **progp);

/* Search the view and return the matches in sort order (UIDs for UID
 * SORT, else sequence numbers) in *matches_r (free(); NULL when *n_r is
 * 0). *highestmodseq_r as search_run(). Takes and drops a shared lock
 * itself. Returns 0 or ERR_IO. */
int sort_run(struct index_view *v, const struct sort_program *prog,
             uint32_t **matches_r, size_t *n_r, uint64_t *highestmodseq_r);

/* Append "* SORT 3 1 2 (MODSEQ n)\r\n", or for RETURN the ESEARCH form
 * where MIN and MAX are the first and last messages in sort order and
 * ALL lists them in sort order (ascending runs written as ranges). */
void sort_format(const struct search_return *ret, const char *tag,
                 const uint32_t *matches, size_t n, uint64_t highestmodseq,
                 struct buf *out);

/* The RFC 5256 2.1 base subject of a raw Subject value (encoded words
 * decoded to UTF-8, white space collapsed, "Re:", "Fwd:", "[blob]" and
 * "(fwd)" decorations removed), replacing out. */
void sort_base_subject(const char *subject, size_t len, struct buf *out);

#endif
