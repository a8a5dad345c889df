/* vanished.h: which UIDs vanished since a modseq (RFC 7162 QRESYNC).
 *
 * Expunged records stay in cyrus.index (FLAG_INT_EXPUNGED, with the
 * modseq of their expunge) until mailbox_compact() drops them. To answer
 * VANISHED (EARLIER) after that, compaction first records in the small
 * file cyrus.expunged the highest modseq among the records it drops (the
 * mailbox's "deleted modseq"). A client resynchronising from a modseq at
 * or above it is told exactly the UIDs expunged since; one from below it
 * is told every UID (of its known set, up to the last UID) that has no
 * record any more, as RFC 7162 3.2.5.2 allows: VANISHED (EARLIER) may
 * name UIDs the client already knew were gone. */
#ifndef VANISHED_H
#define VANISHED_H

#include <stdint.h>

#include "buf.h"
#include "seqset.h"

struct mailbox;

#define VANISHED_FNAME "cyrus.expunged"

/* Raise the deleted modseq of the mailbox directory at path to modseq
 * (nothing when it is already as high), durably. 0 or ERR_IO. Called by
 * mailbox_compact() under the exclusive lock, before records go. */
int vanished_note(const char *path, uint64_t modseq);
/* The deleted modseq of the mailbox at path: 0 when nothing was ever
 * compacted away (or the file is unreadable). */
uint64_t vanished_deletedmodseq(const char *path);

/* UIDs of mb (locked by the caller, shared is enough) expunged with a
 * modseq above since, restricted to known (a UID set; NULL means all,
 * "*" is the last UID). Returns a new set (seqset_free()), possibly
 * empty. */
struct seqset *vanished_since(struct mailbox *mb, uint64_t since,
                              const struct seqset *known);

/* Append "* VANISHED (EARLIER) <set>\r\n" (or without "(EARLIER) " when
 * earlier is 0); nothing for an empty set. */
void vanished_format(const struct seqset *set, int earlier, struct buf *out);

#endif
