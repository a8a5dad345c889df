/* expunge.h: removing messages from a mailbox with exact quota
 * accounting (IMAP EXPUNGE, UID EXPUNGE, CLOSE, MOVE's second half, POP3
 * DELE at QUIT).
 *
 * Expunging only marks records FLAG_INT_EXPUNGED (mailbox_compact() later
 * drops them and unlinks their files). The order is the one quota.h
 * requires: the mailbox is committed first, then the quota root is
 * uncharged, so a crash in between over-counts. */
#ifndef EXPUNGE_H
#define EXPUNGE_H

#include <stddef.h>
#include <stdint.h>

#include "mailbox.h"
#include "quota.h"

/* Expunge from mb (open and unlocked; locked exclusively here) the
 * messages whose UIDs are in uids[0..n) (any order; absent or already
 * expunged ones are skipped), or, with uids == NULL, every message
 * flagged \Deleted. With only_deleted and uids != NULL, only those of
 * uids that are \Deleted (UID EXPUNGE, RFC 4315). qdb may be NULL (no
 * quota). 0 and *count_r (may be NULL) messages expunged, or an error
 * (ERR_IO: mailbox_rewrite_record() writes in place, so some records may
 * be marked anyway; the quota is then left over-counted). */
int expunge_messages(struct mailbox *mb, struct quota_db *qdb,
                     const uint32_t *uids, size_t n, int only_deleted,
                     uint32_t *count_r);

#endif
