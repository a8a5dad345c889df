/* mboxname.h: mailbox names, internal and external (STORAGE.md 1).
 *
 * Internal names are what mailboxes.db, MUPDATE, LMTP routing and XFER
 * use, exactly as Cyrus writes them:
 *     [domain!]user.<localpart>[.<box>...]   personal (INBOX = user.alice)
 *     [domain!]<box>[.<box>...]              shared
 * The separator is always '.', a '.' inside a component is stored as '^'
 * and components are never empty. Names are bytes (mUTF-7 on the wire and
 * in the database); nothing here changes their encoding.
 *
 * External names are what one IMAP session sees; they depend on the
 * namespace options (namespace.h) and on who is looking: the session
 * userid (NULL before authentication) and whether the session is an admin.
 * Admins and unauthenticated sessions see internal-like names (`user.bob`,
 * `user/bob`, never the alternate namespace) with the external separator;
 * with virtual domains an admin addresses other domains with a trailing
 * `@domain` (`user/alice/Sent@example.com`).
 *
 * Every string returned as `char *` is newly allocated and owned by the
 * caller. */
#ifndef MBOXNAME_H
#define MBOXNAME_H

#include <time.h>

#include "buf.h"
#include "namespace.h"

/* Longest internal name accepted by mboxname_policycheck() (as Cyrus'
 * MAX_MAILBOX_NAME) and longest single component (a directory name). */
#define MBOXNAME_MAX_LEN       490
#define MBOXNAME_MAX_COMPONENT 255

/* External -> internal for the session (userid, isadmin). A leading INBOX
 * component is case-insensitive. Returns 0 with *intname_r set, or
 * ERR_BADNAME (empty name, empty component, a bare prefix such as "user"
 * or "Other Users", INBOX with no user, a bad domain, '!' in a name, '@'
 * in a localpart with virtual domains) or ERR_INVALID (unusable userid).
 * On error *intname_r is NULL. The result is not policy-checked. */
int mboxname_to_internal(const struct namespace *ns, const char *userid,
                         int isadmin, const char *extname, char **intname_r);

/* Internal -> external for the session, or NULL when this session cannot
 * express the name (another domain, a component containing the external
 * separator, names hidden behind INBOX or a namespace prefix, malformed
 * internal names). Whenever the result is not NULL,
 * mboxname_to_internal() of it gives intname back. */
char *mboxname_to_external(const struct namespace *ns, const char *userid,
                           int isadmin, const char *intname);

/* The internal name of the user's INBOX (`user.alice`,
 * `example.com!user.john^doe` for john.doe@example.com with virtual
 * domains), or NULL for an invalid userid (empty, control or 8-bit bytes,
 * '!' or '^', an empty localpart or bad domain). */
char *mboxname_user_inbox(const struct namespace *ns, const char *userid);

/* The owner of a personal mailbox (`alice`, `alice@example.com`,
 * `john.doe` for user.john^doe), or NULL for a shared or malformed name. */
char *mboxname_to_userid(const char *intname);

/* The domain of an internal name, or NULL when it has none. */
char *mboxname_domain(const char *intname);

/* 1 if intname is a personal mailbox ([domain!]user.X[...]), else 0. */
int mboxname_is_user(const char *intname);
/* 1 if intname is a user's INBOX ([domain!]user.X), else 0. */
int mboxname_is_inbox(const char *intname);
/* 1 if intname belongs to userid (its INBOX or below), else 0. */
int mboxname_is_owner(const struct namespace *ns, const char *intname,
                      const char *userid);

/* The parent mailbox name (`user.alice` for `user.alice.Sent`), or NULL
 * for a top-level shared name or a user INBOX (whose "parent" `user` is
 * not a mailbox). The domain is kept. */
char *mboxname_parent(const char *intname);

/* 1 if name is strictly below parent (`user.alice.a.b` below
 * `user.alice`, but not `user.alicex`), else 0. */
int mboxname_is_child_of(const char *name, const char *parent);

/* Number of components, not counting the domain: `user.alice` 2,
 * `shared.Public` 2, `x` 1; 0 for an empty name. */
int mboxname_depth(const char *intname);

/* The delayed-delete name of intname: [domain!]<deletedprefix>.<name>.
 * <8 upper-case hex digits of when> (`DELETED.user.alice.Sent.6B035242`). */
char *mboxname_to_deleted(const struct namespace *ns, const char *intname,
                          time_t when);

/* 1 if intname is a delayed-delete name: then *orig_r (if not NULL) gets
 * the original name (caller frees) and *when_r (if not NULL) the time.
 * Otherwise 0 and the out-parameters are untouched. */
int mboxname_is_deleted(const struct namespace *ns, const char *intname,
                        char **orig_r, time_t *when_r);

/* Site policy for creating intname (Cyrus mboxname_policycheck, adapted):
 * at most MBOXNAME_MAX_LEN bytes and MBOXNAME_MAX_COMPONENT per component;
 * no empty components; printable ASCII only; none of % * " \ ! / (nor ^
 * without unixhierarchysep); '&' must start canonical modified UTF-7;
 * no component made only of dots; a domain only with virtual domains; and
 * the name must be expressible: no bare `user`, no shared name starting
 * with INBOX or the deleted prefix, no '@' in a localpart with virtual
 * domains, and with altnamespace no personal folder named INBOX or like a
 * namespace prefix. Delayed-delete names pass unchecked (they existed).
 * Returns 0, or ERR_BADNAME with *error_r set to static text. */
int mboxname_policycheck(const struct namespace *ns, const char *intname,
                         const char **error_r);

/* The spool hash letter of a name (Cyrus dir_hash_c): name is a user
 * localpart or the first shared component (only bytes up to the first
 * '.' count). Default: first byte lowercased, 'q' if not a-z; with
 * fulldirhash: 'A' + a rolling hash of the bytes, modulo 23. */
char mboxname_hash_char(const char *name, int fulldirhash);

#define MBOXNAME_PATH_HASH     0x1 /* hashimapspool */
#define MBOXNAME_PATH_FULLHASH 0x2 /* fulldirhash (with HASH) */

/* Append the legacy spool path of intname, relative to the partition:
 * [domain/[<h>/]<domain>/][<h>/]user/alice/Sent (dots in components stay
 * '^'). Returns 0, or ERR_BADNAME (out unchanged) for a name that would
 * not make a safe path: empty components, '/' in a component. */
int mboxname_to_path(const char *intname, unsigned flags, struct buf *out);

#endif
