/* annotate.h: METADATA (RFC 5464) values in annotations.db, and the pure
 * rules for entry names.
 *
 * Storage: one record per (mailbox, entry, owner). The key is
 *     <mailbox> NUL <entry> NUL <userid>
 * where mailbox is the internal name ("" for server entries), entry is
 * the name without its "/shared" or "/private" prefix, lowercased
 * ("/comment", "/vendor/cmu/cyrus-imapd/expire"), and userid is "" for a
 * shared value or the owner of a private one, as Cyrus keys it. The value
 * is the raw bytes (NULs allowed). Only stored entries live here: the
 * computed ones (size, partition, freespace, specialuse ...) are the
 * caller's business (imap/cmd_metadata.c).
 *
 * Errors: 0, ERR_NOTFOUND, ERR_AGAIN (inside a caller's txn), ERR_IO;
 * tid arguments follow lib/cyrusdb.h. */
#ifndef ANNOTATE_H
#define ANNOTATE_H

#include <stddef.h>

#include "buf.h"

struct cyrusdb_env;
struct cyrusdb_txn;
struct annotate_db;

/* Open path ("annotations.db" when NULL; relative to the configdirectory)
 * in env, created if missing. 0 with *db_r, or ERR_IO. */
int annotate_open(struct cyrusdb_env *env, const char *path,
                  struct annotate_db **db_r);
/* Close and set *dbp to NULL; NULL or *dbp == NULL is a no-op. */
void annotate_close(struct annotate_db **dbp);

/* The value of (mailbox, entry, userid) into value_r (replaced).
 * 0, ERR_NOTFOUND, or an error. */
int annotate_get(struct annotate_db *db, const char *mailbox,
                 const char *entry, const char *userid, struct buf *value_r,
                 struct cyrusdb_txn **tid);
/* Store value[0..len), or remove the record when value is NULL (an
 * absent record is not an error then). 0 or an error. */
int annotate_set(struct annotate_db *db, const char *mailbox,
                 const char *entry, const char *userid, const char *value,
                 size_t len, struct cyrusdb_txn **tid);

/* Called for each record of one mailbox in key order (entry, then
 * userid); the strings are valid during the call only. Return nonzero to
 * stop with that value. */
typedef int annotate_foreach_cb(void *ctx, const char *entry,
                                const char *userid, const char *value,
                                size_t len);
int annotate_foreach(struct annotate_db *db, const char *mailbox,
                     annotate_foreach_cb *cb, void *ctx,
                     struct cyrusdb_txn **tid);
/* Remove every record of mailbox (DELETE). 0 or an error. */
/* Commit or abort a transaction begun through a tid argument. */
int annotate_commit(struct annotate_db *db, struct cyrusdb_txn *tid);
int annotate_abort(struct annotate_db *db, struct cyrusdb_txn *tid);
int annotate_delete_mailbox(struct annotate_db *db, const char *mailbox,
                            struct cyrusdb_txn **tid);
/* Move every record of oldname to newname (RENAME). 0 or an error. */
int annotate_rename_mailbox(struct annotate_db *db, const char *oldname,
                            const char *newname, struct cyrusdb_txn **tid);

/* ---- entry names (pure) -------------------------------------------- */

/* RFC 5464 3.2 entry syntax: "/shared" or "/private" followed by one or
 * more "/component"s of printable ASCII other than "*", "%" and "/";
 * no empty component, no trailing "/". 1 if valid, else 0. With
 * wildcards set (GETMETADATA, as Cyrus accepts "/shared/" followed by
 * "*"), "*" and "%"
 * are allowed in components and a component may be empty only when the
 * entry is "/shared" or "/private" itself; at most
 * ANNOTATE_MAX_WILDCARDS of them. */
#define ANNOTATE_MAX_WILDCARDS 4
int annotate_entry_valid(const char *entry, int wildcards);
/* Whether p contains "*" or "%". */
int annotate_entry_has_wildcards(const char *p);
/* Cyrus's entry patterns: "*" matches any characters, "%" any except
 * "/"; everything else itself. 1 on a match of the whole candidate. */
int annotate_entry_glob(const char *pattern, const char *candidate);
/* Split a valid entry into its scope (1 shared, 0 private) and the part
 * after the prefix ("" for a bare root), lowercased, into rest (replaced).
 * -1 if the entry does not start with "/shared" or "/private". */
int annotate_entry_split(const char *entry, struct buf *rest);
/* RFC 5464 4.2.2 DEPTH: whether candidate is requested itself (depth 0),
 * it or a direct child (depth 1), or it or any descendant (depth -1 for
 * "infinity"). Both are entry paths after the scope prefix, lowercased
 * ("" stands for the root). */
int annotate_entry_match(const char *requested, const char *candidate,
                         int depth);

#endif
