/* mupdate_sync.h: merge a master's UPDATE dump into the local mailbox list
 * as it is read (the frontend replica, shared/docs/MUPDATE.md section 9).
 *
 * The dump comes in name order (ours and Cyrus's masters walk their
 * table); the merge walks the local list beside it, a few hundred names
 * at a time through a resumable cursor:
 *   - a local name that the dump passed without sending is stale: deleted;
 *   - a name in both is rewritten only if it differs;
 *   - a name only in the dump is added.
 * Local names after the dump's last one are deleted by
 * mupdate_sync_finish(). The list is never emptied first: until the merge
 * reaches a name, readers see its old entry. An out-of-order name is
 * still applied correctly (written over whatever is there), and no name
 * the dump sent is ever deleted by the merge; a local name that sorts
 * between two out-of-order dump names may be deleted and written again.
 *
 * Memory: the local look-ahead and one batch of changed names, whatever
 * the size of the list. Writes go in transactions of MUPDATE_SYNC_BATCH
 * dump entries (one log flush each, none per entry); the last one is
 * committed by mupdate_sync_finish(). After each commit the names it
 * changed are passed to changed_cb (for the slave's own UPDATE clients).
 *
 * Errors are cyrusdb's (ERR_AGAIN, ERR_IO): the open transaction is then
 * aborted (earlier batches stay: a partial merge, completed by the next
 * sync) and the sync is unusable: free it. */
#ifndef MUPDATE_SYNC_H
#define MUPDATE_SYNC_H

#include <stddef.h>

#include "mboxlist.h"
#include "mupdate_client.h"

#define MUPDATE_SYNC_BATCH 5000

struct mupdate_sync;

/* Called after a commit for each name it changed (added, rewritten or
 * deleted). */
typedef void mupdate_sync_changed_cb(void *ctx, const char *name);

struct mupdate_sync_stats {
    size_t received; /* dump entries merged */
    size_t added;
    size_t updated;
    size_t removed;
    size_t unordered; /* dump names not after the previous one */
};

/* Start a merge into ml; changed_cb may be NULL. Never NULL. */
struct mupdate_sync *mupdate_sync_new(struct mboxlist *ml,
                                      mupdate_sync_changed_cb *changed_cb,
                                      void *ctx);
/* The same for a delta (XCHANGES, mupdate_changes.h): only the names
 * sent are touched (entries written if they differ, DELETEs removed);
 * mupdate_sync_finish() deletes nothing and only commits; `received`
 * counts the DELETE lines too. */
struct mupdate_sync *mupdate_sync_new_delta(struct mboxlist *ml,
                                            mupdate_sync_changed_cb *changed_cb,
                                            void *ctx);
/* Merge one MAILBOX/RESERVE line of the dump (mb->reserved: RESERVE).
 * 0 or an error. */
int mupdate_sync_entry(struct mupdate_sync *sy,
                       const struct mupdate_mailbox *mb);
/* A DELETE line inside the dump: remove name if present. 0 or an error. */
int mupdate_sync_delete(struct mupdate_sync *sy, const char *name);
/* The dump is complete: delete the local names after its last one and
 * commit. 0 or an error. */
int mupdate_sync_finish(struct mupdate_sync *sy);
/* Counters so far. */
const struct mupdate_sync_stats *
mupdate_sync_stats(const struct mupdate_sync *sy);
/* Abort what is uncommitted (unless finished) and free; *syp = NULL. */
void mupdate_sync_free(struct mupdate_sync **syp);

/* Make name's entry in ml match mb (one line of the stream, outside a
 * dump). Returns 1 if it was written, 0 if it already matched, or an
 * error. tid as in cyrusdb.h. */
int mupdate_sync_apply(struct mboxlist *ml, const struct mupdate_mailbox *mb,
                       struct cyrusdb_txn **tid);

/* The location of entry e as MUPDATE sends it: "server!partition",
 * "server" or "" (replacing out's contents). */
void mupdate_sync_location(const struct mboxlist_entry *e, struct buf *out);

#endif
