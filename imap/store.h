/* store.h: the STORE engine of imapd (RFC 3501 6.4.6; RFC 7162
 * UNCHANGEDSINCE / MODIFIED), pure of socket I/O.
 *
 * store_parse() reads the arguments of STORE / UID STORE; store_run()
 * changes the flags under the mailbox's exclusive lock, commits once, and
 * appends the untagged responses Cyrus 3.x sends for them. */
#ifndef STORE_H
#define STORE_H

#include <stdint.h>

#include "buf.h"
#include "imaptok.h"
#include "index.h"
#include "seqset.h"
#include "strarray.h"

enum store_op {
    STORE_REPLACE, /* FLAGS */
    STORE_ADD,     /* +FLAGS */
    STORE_REMOVE   /* -FLAGS */
};

/* The parsed arguments of one STORE; release with store_args_fini(). */
struct store_args {
    struct seqset *set; /* as written ("*" symbolic) */
    int uid;            /* UID STORE: set holds UIDs */
    enum store_op op;
    int silent;             /* .SILENT */
    int has_unchangedsince; /* (UNCHANGEDSINCE n) given */
    uint64_t unchangedsince;
    uint32_t system_flags;    /* FLAG_* of mailbox.h, \Seen included */
    struct strarray keywords; /* user flags as written */
};

/* Parse the arguments of STORE after the command name and its SP:
 *     sequence-set SP [ "(" "UNCHANGEDSINCE" SP mod-sequence ")" SP ]
 *     ["+" / "-"] "FLAGS" [".SILENT"] SP (flag-list / flag *(SP flag))
 *     end-of-command
 * (any case). \Recent and other unknown system flags are refused, as
 * Cyrus does ("Invalid system flag"). Returns 0, or ERR_SYNTAX with a
 * static reason for "tag BAD <reason>" in *error_r; release args with
 * store_args_fini() in both cases. */
int store_parse(struct imaptok *t, int uid_command, struct store_args *args,
                const char **error_r);
void store_args_fini(struct store_args *args);

/* What store_run() needs of the session. */
struct store_ctx {
    struct index_view *view;
    unsigned rights; /* the user's ACL_* rights (lib/acl.h) on the mailbox:
                        ACL_SEEN for \Seen, ACL_DELETEMSG for \Deleted,
                        ACL_WRITE for the others and for keywords */
    int condstore;   /* CONDSTORE enabled: MODSEQ in every report */
    int qresync;     /* QRESYNC enabled: UID in every report */
};

/* Run a parsed STORE on the messages of the view in args->set (sequence
 * numbers, or UIDs; "*" as in FETCH; messages not in the view and
 * expunged ones are skipped). Under the exclusive lock each record whose
 * flags change is rewritten with a new modseq (adding a flag that is
 * there, or removing one that is not, changes nothing, RFC 7162 3.8);
 * keywords are created as needed (ERR_LIMIT when the mailbox has no room
 * left); everything is committed once before anything is reported.
 *
 * Rights, as Cyrus: with FLAGS (replace) the parts the user may not
 * change are silently kept; with +FLAGS/-FLAGS, \Deleted without
 * ACL_DELETEMSG or any other flag without ACL_WRITE fails the whole
 * command with ERR_PERMISSION; \Seen without ACL_SEEN is ignored. A
 * read-only (EXAMINE) view has none of these rights.
 *
 * Reports, appended to out: when a keyword was created, "* FLAGS" and
 * "* OK [PERMANENTFLAGS ...]" first; then for every message whose modseq
 * the session had not been told "* <seq> FETCH (FLAGS (...)[ UID <uid>]
 * [ MODSEQ (<n>)])\r\n" (UID for UID STORE or QRESYNC; MODSEQ with
 * UNCHANGEDSINCE or CONDSTORE), and the view is marked told. .SILENT
 * suppresses the report unless CONDSTORE is on (RFC 7162 3.2: the MODSEQ
 * must still be sent; Cyrus sends FLAGS with it).
 *
 * With UNCHANGEDSINCE, messages whose modseq is higher are left alone and
 * collected (as sequence numbers, or UIDs for UID STORE) in a new set in
 * *modified_r for "OK [MODIFIED ...]"; *modified_r is NULL when there are
 * none (modified_r may be NULL).
 *
 * Returns 0, ERR_PERMISSION, ERR_LIMIT or ERR_IO; on error nothing was
 * committed by this call and out is left as it was. */
int store_run(struct store_ctx *ctx, const struct store_args *args,
              struct buf *out, struct seqset **modified_r);

/* Append "* FLAGS (...)\r\n* OK [PERMANENTFLAGS (...)] Ok\r\n" for the
 * mailbox as Cyrus writes them (SELECT, and after a keyword is created):
 * PERMANENTFLAGS lists what rights allow, "\*" when keywords may still be
 * created, and is "()" for a read-only selection. */
void store_format_flaglist(struct mailbox *mb, unsigned rights, int readonly,
                           struct buf *out);

#endif
