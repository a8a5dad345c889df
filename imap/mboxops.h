/* mboxops.h: creating, deleting and renaming mailboxes on a backend.
 *
 * These are the operations behind IMAP CREATE/DELETE/RENAME, LMTP/admin
 * INBOX creation and XFER: rights checks, partition and ACL choice, the
 * spool directory, mailboxes.db, and, in a murder, the MUPDATE dance
 * (reserve before touching disk, activate after the local commit, undo on
 * failure: MURDER.md §3-§5). */
#ifndef MBOXOPS_H
#define MBOXOPS_H

#include <stdint.h>

#include "buf.h"
#include "mboxlist.h"

struct namespace;
struct quota_db;
struct subs_db;

/* Hooks to the mupdate master; all NULL (or the struct NULL) outside a
 * murder. Each returns 0 or an ERR_MUPDATE_* code. */
struct mboxops_murder {
    int (*reserve)(void *ctx, const char *name, const char *location);
    int (*activate)(void *ctx, const char *name, const char *location,
                    const char *acl);
    int (*remove)(void *ctx, const char *name);
    void *ctx;
};

struct mboxops {
    struct mboxlist *ml;
    const struct namespace *ns;
    const struct mboxops_murder *murder; /* NULL: not in a murder */
    const char *servername;              /* location server part */
    /* Optional (NULL: not maintained). With qdb, a new mailbox gets the
     * quota root governing its name (quota_findroot) in its header and a
     * rename moves renamed mailboxes' usage to their new root. With subs,
     * a rename moves the owner's subscriptions and a delete removes them
     * (subscriptions of other users are left alone, as Cyrus does). */
    struct quota_db *qdb;
    struct subs_db *subs;
    /* 0: DELETE follows delete_mode (delayed, Cyrus's default, renames
     * to the deleted prefix); 1: always removes at once (LOCALDELETE,
     * rolling back a mailbox just made). */
    int immediate_delete;
};

/* Who asks. */
struct mboxops_who {
    const char *userid; /* NULL: the system (tools, LMTP autocreate) */
    int isadmin;
};

/* Effective rights of who on entry: ACL + implicit owner rights
 * (implicit_owner_rights) + everything for admins. */
uint32_t mboxops_rights(const struct mboxops *ops,
                        const struct mboxops_who *who,
                        const struct mboxlist_entry *entry);

/* The spool directory of a local entry. */
int mboxops_path(const struct mboxops *ops, const struct mboxlist_entry *e,
                 struct buf *path_r);

/* Create intname. partition may be NULL (parent's, else defaultpartition).
 * Returns 0 and, if entry_r, the new entry; or ERR_EXISTS, ERR_PERMISSION,
 * ERR_BADNAME, ERR_MUPDATE_*, ERR_IO with *error_r (static text). */
int mboxops_create(const struct mboxops *ops, const struct mboxops_who *who,
                   const char *intname, const char *partition,
                   const char *specialuse, struct mboxlist_entry **entry_r,
                   const char **error_r);
/* Delete intname (and, for a user INBOX, every mailbox of that user).
 * With delete_mode: delayed (unless ops->immediate_delete) each one is
 * renamed to [domain!]<deletedprefix>.<name>.<hex time> instead, at the
 * mupdate master too; a name already under the deleted prefix is
 * removed for good. */
int mboxops_delete(const struct mboxops *ops, const struct mboxops_who *who,
                   const char *intname, const char **error_r);
/* Rename (same server); newpartition NULL keeps the partition. Renaming a
 * user INBOX moves its children too. */
int mboxops_rename(const struct mboxops *ops, const struct mboxops_who *who,
                   const char *oldname, const char *newname,
                   const char *newpartition, const char **error_r);
/* Make the quota root recorded in each local mailbox's header agree with
 * quotas.db: for intname and every mailbox under it, the root becomes
 * quota_findroot(name) (none if there is none), and the mailbox's usage
 * (bytes, messages) moves from the old root to the new one without
 * enforcement. Call it after a root was created or removed (SETQUOTA)
 * and after a rename. Remote entries are skipped. Needs ops->qdb (0 and
 * nothing done without). Stops at the first error (ERR_IO, ...). */
int mboxops_quota_sync(const struct mboxops *ops, const char *intname);

/* Change the ACL of an existing entry (SETACL/DELETEACL) and push it. */
int mboxops_setacl(const struct mboxops *ops, const char *intname,
                   const char *newacl, const char **error_r);

#endif
