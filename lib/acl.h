/* acl.h: RFC 4314 access control lists with Cyrus semantics.
 *
 * Rights are bits (ACL_*). A Cyrus ACL string, as stored in mailboxes.db
 * and sent over MUPDATE, is "id<TAB>rights<TAB>" repeated, each entry with
 * its trailing TAB; an id written "-id" carries negative rights. Ids are
 * user ids, "anyone", "anonymous" and "group:<name>", compared exactly.
 *
 * Legacy rights (RFC 4314 section 2.1.1, Cyrus "deleteright" option):
 * "c" means "k", plus "x" when deleteright is 'c' (the Cyrus default);
 * "d" means "te", plus "x" when deleteright is 'd'. As Cyrus does, a
 * legacy letter only adds its member rights when none of them are written
 * beside it ("ck" is just "k"). Any other deleteright letter, when it is
 * a right letter, also grants "x" (so, as in Cyrus, that right can then
 * not be stored without "x"). Every function that reads or writes
 * rights letters takes the deleteright value (a char from the config).
 *
 * The effective rights of a user are the union of the positive entries
 * matching the user minus the union of matching negative entries; the
 * caller then applies implicit owner and admin rights (acl_apply_implicit).
 * Which rights an operation needs is the caller's business. */
#ifndef ACL_H
#define ACL_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "strarray.h"

#define ACL_LOOKUP     (1u << 0)  /* l */
#define ACL_READ       (1u << 1)  /* r */
#define ACL_SEEN       (1u << 2)  /* s */
#define ACL_WRITE      (1u << 3)  /* w */
#define ACL_INSERT     (1u << 4)  /* i */
#define ACL_POST       (1u << 5)  /* p */
#define ACL_CREATE     (1u << 6)  /* k */
#define ACL_DELETEMBOX (1u << 7)  /* x */
#define ACL_DELETEMSG  (1u << 8)  /* t */
#define ACL_EXPUNGE    (1u << 9)  /* e */
#define ACL_ADMIN      (1u << 10) /* a */
#define ACL_ANNOTATE   (1u << 11) /* n */
#define ACL_USER0      (1u << 12) /* 0; ACL_USER0 << k is digit k */
#define ACL_ALL        ((1u << 22) - 1)
#define ACL_NONE       0u

/* Cyrus's default for the "deleteright" option. */
#define ACL_DELETERIGHT_DEFAULT 'c'

/* The bit for one RFC 4314 right letter (not the legacy c/d), or 0. */
uint32_t acl_right_bit(char c);

/* Parse the rights letters p[0..len) (RFC 4314 letters, 0-9 and legacy
 * c/d; an empty string is no rights). Returns 0 with *rights_r, or
 * ERR_SYNTAX with a static reason in *error_r (may be NULL) for an
 * unknown letter. */
int acl_rights_parse(const char *p, size_t len, char deleteright,
                     uint32_t *rights_r, const char **error_r);

/* Append the rights in canonical RFC 4314 order "lrswipkxtean0123456789". */
void acl_rights_format(uint32_t rights, struct buf *out);
/* Append the rights as Cyrus writes them (GETACL, MYRIGHTS, mailboxes.db):
 * canonical order with "c" and "d" inserted after "e" when any of their
 * member rights is present ("lrswipkxtecdan" for all rights). */
void acl_rights_format_legacy(uint32_t rights, char deleteright,
                              struct buf *out);

/* Cyrus's default for the "implicit_owner_rights" option. */
#define ACL_IMPLICIT_OWNER_DEFAULT "lkxan"

/* Admins get every right; the owner gets owner_rights added; others get
 * rights unchanged. */
uint32_t acl_apply_implicit(uint32_t rights, int is_owner,
                            uint32_t owner_rights, int is_admin);
/* The same with the owner rights as the implicit_owner_rights option
 * string. Returns 0 with *rights_r, or ERR_SYNTAX (error_r as for
 * acl_rights_parse) when that string has an unknown letter. */
int acl_implicit_rights(uint32_t rights, int is_owner,
                        const char *implicit_owner_rights, char deleteright,
                        int is_admin, uint32_t *rights_r, const char **error_r);

struct acl;

struct acl *acl_new(void);
void acl_free(struct acl **aclp);

/* Parse the Cyrus ACL string p[0..len). Tolerates a missing final TAB.
 * Repeated ids are merged (their rights united, at the first place), as
 * evaluation would unite them anyway. Returns 0 and a new acl in *acl_r,
 * or ERR_SYNTAX with a static reason in *error_r (may be NULL): an invalid
 * id, an unknown rights letter, an id without rights. */
int acl_parse(const char *p, size_t len, char deleteright, struct acl **acl_r,
              const char **error_r);
/* Append the ACL string (entries in their order, each "id\trights\t");
 * rights with acl_rights_format_legacy(), as Cyrus stores them. */
void acl_format(const struct acl *acl, char deleteright, struct buf *out);

size_t acl_count(const struct acl *acl);
/* Entry i (< acl_count()): the id as written (with "-" when negative;
 * valid until the acl changes) and its rights. */
void acl_entry(const struct acl *acl, size_t i, const char **id_r,
               uint32_t *rights_r);
/* Rights of the entry for id ("-id" for the negative one). Returns 0, or
 * ERR_NOTFOUND (and *rights_r = 0) when there is no such entry. */
int acl_get(const struct acl *acl, const char *id, uint32_t *rights_r);

/* Nonzero if id can appear in an ACL: non-empty, not just "-", no
 * control characters (TAB, CR, LF, NUL). */
int acl_id_valid(const char *id);

enum acl_mode {
    ACL_MODE_SET,    /* replace the rights */
    ACL_MODE_ADD,    /* add to the rights */
    ACL_MODE_REMOVE, /* take away from the rights */
};

/* Change the entry for id ("-id" for negative rights). An existing entry
 * keeps its place, a new one is appended; an entry left with no rights is
 * removed. Returns 0 or ERR_INVALID for an invalid id. */
int acl_modify(struct acl *acl, const char *id, enum acl_mode mode,
               uint32_t rights);
/* SETACL (RFC 4314 3.1): rights p[0..len) with an optional leading "+"
 * (add) or "-" (remove), else replace. Returns 0, ERR_SYNTAX with a static
 * reason in *error_r (may be NULL) for bad rights, or ERR_INVALID. */
int acl_setacl(struct acl *acl, const char *id, const char *p, size_t len,
               char deleteright, const char **error_r);
/* DELETEACL: remove the entry for id. Returns 0, or ERR_NOTFOUND if there
 * was none (RFC 4314 does not make that an error; the caller decides). */
int acl_remove(struct acl *acl, const char *id);

/* Rights of userid (NULL or "anonymous" for the anonymous user) under
 * acl: entries for userid itself, "anyone", "anonymous" only for the
 * anonymous user, and any identifier listed in groups (written as in the
 * ACL, e.g. "group:staff"; groups may be NULL), positives minus negatives.
 * Implicit owner/admin rights are not included. */
uint32_t acl_myrights(const struct acl *acl, const char *userid,
                      const struct strarray *groups);
/* The same straight from an ACL string, without building an acl. Returns
 * 0 with *rights_r, or ERR_SYNTAX (error_r as for acl_parse). */
int acl_string_myrights(const char *p, size_t len, char deleteright,
                        const char *userid, const struct strarray *groups,
                        uint32_t *rights_r, const char **error_r);

#endif
