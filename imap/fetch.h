/* fetch.h: the FETCH engine of imapd (RFC 3501 6.4.5, 7.4.2; RFC 3516
 * BINARY; RFC 7162 CONDSTORE), pure of socket I/O.
 *
 * fetch_parse() reads the arguments of FETCH / UID FETCH from an
 * assembled command; fetch_run() appends the untagged FETCH responses for
 * the session's view of the selected mailbox to a struct buf. The output
 * is what Cyrus 3.x sends for the same request: items come in Cyrus's
 * fixed order (FLAGS, UID, INTERNALDATE, MODSEQ, RFC822.SIZE, ..., then
 * the body sections in the order asked), section names are echoed upper
 * case with field names as the client wrote them, a partial is echoed as
 * "<start>", empty data is "" and a part that does not exist is NIL.
 *
 * ENVELOPE, BODYSTRUCTURE, BODY and the section offsets come from the
 * message's cache record (imap/msgcache.h); the message file is mapped
 * only for the bytes of body sections. */
#ifndef FETCH_H
#define FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "imaptok.h"
#include "index.h"
#include "seqset.h"
#include "strarray.h"

/* fetch_args.items */
#define FETCH_FLAGS         (1u << 0)
#define FETCH_UID           (1u << 1)
#define FETCH_INTERNALDATE  (1u << 2)
#define FETCH_MODSEQ        (1u << 3)
#define FETCH_SIZE          (1u << 4) /* RFC822.SIZE */
#define FETCH_ENVELOPE      (1u << 5)
#define FETCH_BODYSTRUCTURE (1u << 6)
#define FETCH_BODY          (1u << 7) /* the non-extensible BODY */
#define FETCH_RFC822_HEADER (1u << 8)
#define FETCH_RFC822_TEXT   (1u << 9)
#define FETCH_RFC822        (1u << 10)
#define FETCH_SAVEDATE      (1u << 11) /* RFC 8514 */
#define FETCH_EMAILID       (1u << 12) /* RFC 8474 */
#define FETCH_THREADID      (1u << 13) /* RFC 8474; always NIL here */
#define FETCH_DIGEST_SHA1   (1u << 14) /* Cyrus DIGEST.SHA1 */
#define FETCH_SETSEEN       (1u << 15) /* some item implies \Seen */

/* RFC 3501 ALL / FAST / FULL */
#define FETCH_FAST (FETCH_FLAGS | FETCH_INTERNALDATE | FETCH_SIZE)
#define FETCH_ALL  (FETCH_FAST | FETCH_ENVELOPE)
#define FETCH_FULL (FETCH_ALL | FETCH_BODY)

enum fetch_section_kind {
    FETCH_SECTION_FIELDS,     /* BODY[...HEADER.FIELDS[.NOT] (...)] */
    FETCH_SECTION_BODY,       /* every other BODY[...] */
    FETCH_SECTION_BINARY,     /* BINARY[...] (RFC 3516) */
    FETCH_SECTION_BINARY_SIZE /* BINARY.SIZE[...] */
};

enum fetch_section_text {
    FETCH_TEXT_NONE, /* "" or part numbers only */
    FETCH_TEXT_HEADER,
    FETCH_TEXT_TEXT,
    FETCH_TEXT_MIME,
    FETCH_TEXT_FIELDS,
    FETCH_TEXT_FIELDS_NOT
};

/* Maximum number of part numbers in one section ("1.2.3..."). */
#define FETCH_MAX_PART_DEPTH 130

/* One body section asked for. Filled by fetch_parse(); read-only after. */
struct fetch_section {
    enum fetch_section_kind kind;
    char *name;             /* upper-cased text between the brackets,
                               without the field list: "1.MIME", "" */
    struct strarray fields; /* FIELDS kinds: names as written */
    uint32_t *parts;        /* the part numbers, nparts of them */
    size_t nparts;
    enum fetch_section_text text;
    int partial; /* <start.count> given */
    uint32_t start, count;
};

/* The parsed arguments of one FETCH. Owned by the caller (usually on the
 * stack); release with fetch_args_fini(). */
struct fetch_args {
    struct seqset *set; /* as written ("*" symbolic) */
    int uid;            /* UID FETCH: set holds UIDs; UID is implied */
    unsigned items;     /* FETCH_* bits */
    struct fetch_section *sections;
    size_t nsections;
    uint64_t changedsince; /* CHANGEDSINCE modifier; 0 when absent */
    int has_changedsince;
    int vanished; /* (VANISHED) modifier given (the caller's) */
};

/* Parse the arguments of FETCH after the command name and its SP:
 *     sequence-set SP ( "ALL" / "FULL" / "FAST" / fetch-att /
 *                       "(" fetch-att *(SP fetch-att) ")" )
 *     [ SP "(" modifier *(SP modifier) ")" ] end-of-command
 * with modifiers CHANGEDSINCE <mod-sequence> and VANISHED (RFC 7162;
 * CHANGEDSINCE implies MODSEQ). uid_command is UID FETCH (UID implied).
 * Returns 0 with *args filled (even on error, args must be released with
 * fetch_args_fini()), or ERR_SYNTAX with a static reason fit for
 * "tag BAD <reason>" in *error_r. */
int fetch_parse(struct imaptok *t, int uid_command, struct fetch_args *args,
                const char **error_r);
void fetch_args_fini(struct fetch_args *args);

/* What fetch_run() needs of the session. */
struct fetch_ctx {
    struct index_view *view; /* the selected mailbox */
    int condstore;           /* CONDSTORE enabled: a FLAGS change the client had
                                not seen is reported with MODSEQ */
    int qresync;             /* QRESYNC enabled: ... and with UID */
    int may_set_seen;        /* the user has the 's' right and the mailbox is
                                selected read-write: non-PEEK fetches set \Seen */
    /* Optional (NULL: everything stays in out): called between messages
     * when out holds FETCH_FLUSH_BYTES or more, to send the responses so
     * far and empty out, so the client reads while the rest is formatted.
     * Used only when no message can fail the command (no BINARY
     * sections): responses once sent cannot be taken back. */
    void (*flush_cb)(struct buf *out, void *cb_ctx);
    void *cb_ctx;
};

#define FETCH_FLUSH_BYTES (64 * 1024)

/* Run a parsed FETCH: for every message of the view in args->set
 * (sequence numbers, or UIDs with args->uid; "*" is the last message or
 * the highest UID the session knows; numbers not in the view are
 * ignored), in ascending order, append "* <seq> FETCH (...)\r\n" to out.
 * A message whose record is gone is skipped; one whose file is gone gets
 * "* OK Message <seq> no longer exists\r\n" instead, as Cyrus sends.
 * With args->has_changedsince only messages with a higher MODSEQ answer.
 * With ctx->flush_cb, out may have been handed over (and emptied) on the
 * way.
 *
 * Non-PEEK body items set \Seen (when ctx->may_set_seen) under the
 * mailbox's exclusive lock: the records are rewritten with new modseqs
 * and committed before anything is output, and the FLAGS of those
 * messages lead their FETCH response (RFC 3501 6.4.5). Any message whose
 * flags changed since the session was last told gets FLAGS too, and the
 * view is marked told. *seen_changed_r (may be NULL) is set to the number
 * of messages newly marked \Seen.
 *
 * Returns 0, or ERR_IO (lock, commit or a damaged record), or
 * ERR_UNKNOWNCTE for BINARY of a part with an unknown
 * Content-Transfer-Encoding; on error out is left as it was. */
int fetch_run(struct fetch_ctx *ctx, const struct fetch_args *args,
              struct buf *out, int *seen_changed_r);

/* Append an IMAP date-time as Cyrus writes INTERNALDATE:
 * "dd-Mon-yyyy hh:mm:ss +zzzz" in the server's local time zone, the day
 * padded with a space (" 7-Jul-2024 ..."), with the quotes. */
void fetch_format_datetime(int64_t t, struct buf *out);

#endif
