/* seen.h: per-user \Seen state for mailboxes the user does not own.
 *
 * The owner's \Seen lives in the index record flags; every other user's
 * lives here, in seen.db on the user's home backend (STORAGE.md §5). The
 * caller decides which applies (owner, or the mailbox's sharedseen
 * option).
 *
 * Key: <userid> NUL <mailbox uniqueid>. Uniqueids survive renames, so a
 * rename needs no change here; a deleted mailbox's entries are dropped
 * with seen_delete() (or left to be ignored: a new mailbox gets a new
 * uniqueid).
 * Value (text, as Cyrus's seen_db): "1 <lastread> <lastuid> <lastchange>
 * <uids>", where uids is the set of seen UIDs in IMAP sequence-set syntax
 * ("1:4,7"; empty when nothing is seen). This module stores the set as
 * text; lib/seqset parses and formats it (seqset_parse(),
 * seqset_normalize(), seqset_format()).
 *
 * Errors: ERR_INVALID (empty user or uniqueid, NUL in user, bad
 * characters in uids), ERR_AGAIN (in a caller's txn), ERR_IO (corrupt
 * record: logged). */
#ifndef SEEN_H
#define SEEN_H

#include <stdint.h>

#include "buf.h"
#include "cyrusdb.h"

struct seen_data {
    int64_t lastread;   /* when the user last read (time_t) */
    uint32_t lastuid;   /* highest UID in the mailbox at lastread */
    int64_t lastchange; /* when the mailbox last changed, as seen */
    struct buf uids;    /* sequence set of seen UIDs; "" = none */
};

#define SEEN_DATA_INITIALIZER    \
    {                            \
        0, 0, 0, BUF_INITIALIZER \
    }

struct seen_db;

/* Open path (relative to the configdirectory; NULL: "seen.db") in env,
 * creating it if missing. */
int seen_open(struct cyrusdb_env *env, const char *path,
              struct seen_db **sdb_r);
void seen_close(struct seen_db **sdbp);
/* The underlying database, to share a transaction with other tables. */
struct cyrusdb *seen_cyrusdb(struct seen_db *sdb);

/* Free the uids buffer (the struct itself is the caller's). */
void seen_data_fini(struct seen_data *sd);

/* Read user's state of the mailbox uniqueid into *sd_r (replacing its
 * contents). A missing entry is not an error: 0 with everything zero
 * and uids empty. */
int seen_read(struct seen_db *sdb, const char *user, const char *uniqueid,
              struct seen_data *sd_r, struct cyrusdb_txn **tid);
/* Replace user's state of uniqueid with sd (after STORE or FETCH set or
 * cleared \Seen). uids may hold only digits, ':' and ','. */
int seen_write(struct seen_db *sdb, const char *user, const char *uniqueid,
               const struct seen_data *sd, struct cyrusdb_txn **tid);
/* Remove user's entry for uniqueid; a missing one is not an error. */
int seen_delete(struct seen_db *sdb, const char *user, const char *uniqueid,
                struct cyrusdb_txn **tid);

/* Called for each of a user's entries in uniqueid order; sd is valid for
 * the call. Return nonzero to stop. */
typedef int seen_foreach_cb(void *ctx, const char *uniqueid,
                            const struct seen_data *sd);
/* Every entry of user (XFER of a user copies them this way). Corrupt
 * records are skipped (logged). Returns the first nonzero cb value, 0,
 * or an error. */
int seen_foreach(struct seen_db *sdb, const char *user, seen_foreach_cb *cb,
                 void *ctx, struct cyrusdb_txn **tid);
/* Remove every entry of user (user deletion). */
int seen_delete_user(struct seen_db *sdb, const char *user,
                     struct cyrusdb_txn **tid);

#endif
