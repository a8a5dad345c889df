/* mboxlist.h: the mailbox list (mailboxes.db) through cyrusdb.
 *
 * One entry per mailbox, keyed by its internal name (`user.alice.Sent`,
 * `example.com!user.bob`, `shared.lists`). On a backend the entries are the
 * local mailboxes; on a frontend or the mupdate master they are the murder's
 * list (every entry REMOTE, with a server). The value is a small
 * self-describing record (see mboxlist_entry_encode()). */
#ifndef MBOXLIST_H
#define MBOXLIST_H

#include <stdint.h>

#include "buf.h"
#include "cyrusdb.h"

/* Type and flag bits (the letters are Cyrus's, see STORAGE.md §3). */
#define MBTYPE_EMAIL        0u
#define MBTYPE_DELETED      (1u << 0) /* d: tombstone */
#define MBTYPE_MOVING       (1u << 1) /* m: mid-XFER, server = destination */
#define MBTYPE_REMOTE       (1u << 2) /* r: lives on `server` */
#define MBTYPE_RESERVE      (1u << 3) /* z: name reserved, not usable */
#define MBTYPE_INTERMEDIATE (1u << 4) /* i: placeholder for a missing parent */

struct mboxlist_entry {
    char *name;
    uint32_t mbtype;
    char *partition;
    char *server;      /* NULL for a local mailbox */
    char *acl;         /* Cyrus ACL string: id TAB rights TAB ... */
    char *uniqueid;
    char *specialuse;  /* e.g. "\Sent", or NULL */
    uint32_t uidvalidity;
    uint64_t createdmodseq;
    uint64_t foldermodseq;
    int64_t mtime;
};

struct mboxlist;

/* Open {configdirectory}/mailboxes.db in env (created if missing). */
int mboxlist_open(struct cyrusdb_env *env, const char *path,
                  struct mboxlist **ml_r);
void mboxlist_close(struct mboxlist **mlp);
struct cyrusdb *mboxlist_db(struct mboxlist *ml);

/* Look a name up; ERR_NOMAILBOX if absent. The entry is the caller's
 * (mboxlist_entry_free()). */
int mboxlist_lookup(struct mboxlist *ml, const char *name,
                    struct mboxlist_entry **entry_r,
                    struct cyrusdb_txn **tid);
/* Insert or replace. */
int mboxlist_store(struct mboxlist *ml, const struct mboxlist_entry *entry,
                   struct cyrusdb_txn **tid);
int mboxlist_remove(struct mboxlist *ml, const char *name,
                    struct cyrusdb_txn **tid);

/* Return nonzero to stop. The entry is only valid during the call. */
typedef int mboxlist_foreach_cb(void *ctx, const struct mboxlist_entry *e);
/* In name order over names starting with prefix ("" = all). */
int mboxlist_foreach(struct mboxlist *ml, const char *prefix,
                     mboxlist_foreach_cb *cb, void *ctx,
                     struct cyrusdb_txn **tid);
/* The same over names that sort strictly after start (NULL: all), so a
 * long walk can be done in chunks: stop the callback after a chunk and
 * resume with start = the last name seen. */
int mboxlist_foreach_after(struct mboxlist *ml, const char *prefix,
                           const char *start, mboxlist_foreach_cb *cb,
                           void *ctx, struct cyrusdb_txn **tid);
/* Whether name has at least one child entry (name + "."). */
int mboxlist_has_children(struct mboxlist *ml, const char *name);
int mboxlist_commit(struct mboxlist *ml, struct cyrusdb_txn *tid);
int mboxlist_abort(struct mboxlist *ml, struct cyrusdb_txn *tid);

struct mboxlist_entry *mboxlist_entry_new(const char *name);
struct mboxlist_entry *mboxlist_entry_copy(const struct mboxlist_entry *e);
void mboxlist_entry_free(struct mboxlist_entry **ep);
/* Serialise / parse the value of an entry (name not included). */
void mboxlist_entry_encode(const struct mboxlist_entry *e, struct buf *out);
int mboxlist_entry_decode(const char *name, const char *p, size_t len,
                          struct mboxlist_entry **entry_r);
/* Cyrus letters for mbtype ("e", "er", "ez", ...), and back. */
void mboxlist_mbtype_letters(uint32_t mbtype, struct buf *out);
uint32_t mboxlist_mbtype_parse(const char *letters);
/* "server!partition" (or "partition" for local entries). */
void mboxlist_location(const struct mboxlist_entry *e, struct buf *out);

#endif
