/* acl.c: RFC 4314 ACLs with Cyrus semantics; the contract is in acl.h. */
#include <string.h>

#include "acl.h"
#include "errors.h"
#include "xmalloc.h"

/* Canonical RFC 4314 order; index i is bit (1u << i). */
static const char acl_letters[] = "lrswipkxtean0123456789";

struct acl_ent {
    char *id; /* "-" prefix for negative rights */
    uint32_t rights;
};

struct acl {
    struct acl_ent *e;
    size_t n, alloc;
};

uint32_t
acl_right_bit(char c)
{
    const char *hit;

    if (c == '\0')
        return 0;
    hit = memchr(acl_letters, c, sizeof(acl_letters) - 1);
    return hit ? 1u << (hit - acl_letters) : 0;
}

int
acl_rights_parse(const char *p, size_t len, char deleteright,
                 uint32_t *rights_r, const char **error_r)
{
    uint32_t result = 0, legacy_create = 0, legacy_delete = 0;
    size_t i;

    for (i = 0; i < len; i++) {
        uint32_t bit = acl_right_bit(p[i]);

        if (p[i] == 'c') {
            legacy_create = ACL_CREATE;
            if (deleteright == 'c')
                legacy_create |= ACL_DELETEMBOX;
        } else if (p[i] == 'd') {
            legacy_delete = ACL_DELETEMSG | ACL_EXPUNGE;
            if (deleteright == 'd')
                legacy_delete |= ACL_DELETEMBOX;
        } else if (bit == 0) {
            if (error_r)
                *error_r = "Unknown right in rights string";
            return ERR_SYNTAX;
        } else {
            result |= bit;
            /* Cyrus: any other deleteright letter also grants "x" */
            if (p[i] == deleteright)
                result |= ACL_DELETEMBOX;
        }
    }
    /* RFC 4314 2.1.1 as Cyrus reads it: a legacy macro only counts when
     * none of its member rights are written explicitly */
    if ((result & legacy_create) == 0)
        result |= legacy_create;
    if ((result & legacy_delete) == 0)
        result |= legacy_delete;
    *rights_r = result;
    return 0;
}

static void
acl_format_range(uint32_t rights, size_t from, size_t to, struct buf *out)
{
    size_t i;

    for (i = from; i < to; i++) {
        if (rights & (1u << i))
            buf_putc(out, acl_letters[i]);
    }
}

void
acl_rights_format(uint32_t rights, struct buf *out)
{
    acl_format_range(rights, 0, sizeof(acl_letters) - 1, out);
}

void
acl_rights_format_legacy(uint32_t rights, char deleteright, struct buf *out)
{
    uint32_t legacy_create = ACL_CREATE;
    uint32_t legacy_delete = ACL_DELETEMSG | ACL_EXPUNGE;
    const size_t after_e = 10; /* "lrswipkxte" */

    if (deleteright == 'c')
        legacy_create |= ACL_DELETEMBOX;
    else if (deleteright == 'd')
        legacy_delete |= ACL_DELETEMBOX;
    acl_format_range(rights, 0, after_e, out);
    if (rights & legacy_create)
        buf_putc(out, 'c');
    if (rights & legacy_delete)
        buf_putc(out, 'd');
    acl_format_range(rights, after_e, sizeof(acl_letters) - 1, out);
}

uint32_t
acl_apply_implicit(uint32_t rights, int is_owner, uint32_t owner_rights,
                   int is_admin)
{
    if (is_admin)
        return ACL_ALL;
    if (is_owner)
        rights |= owner_rights;
    return rights;
}

int
acl_implicit_rights(uint32_t rights, int is_owner,
                    const char *implicit_owner_rights, char deleteright,
                    int is_admin, uint32_t *rights_r, const char **error_r)
{
    uint32_t owner = 0;
    int r;

    r = acl_rights_parse(implicit_owner_rights, strlen(implicit_owner_rights),
                         deleteright, &owner, error_r);
    if (r < 0)
        return r;
    *rights_r = acl_apply_implicit(rights, is_owner, owner, is_admin);
    return 0;
}

struct acl *
acl_new(void)
{
    return xzmalloc(sizeof(struct acl));
}

void
acl_free(struct acl **aclp)
{
    struct acl *acl = *aclp;
    size_t i;

    if (acl == NULL)
        return;
    *aclp = NULL;
    for (i = 0; i < acl->n; i++)
        free(acl->e[i].id);
    free(acl->e);
    free(acl);
}

static int
acl_id_valid_map(const char *p, size_t len)
{
    size_t i;

    if (len == 0 || (len == 1 && p[0] == '-'))
        return 0;
    for (i = 0; i < len; i++) {
        if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
            return 0;
    }
    return 1;
}

int
acl_id_valid(const char *id)
{
    return id != NULL && acl_id_valid_map(id, strlen(id));
}

static long
acl_find_map(const struct acl *acl, const char *id, size_t len)
{
    size_t i;

    for (i = 0; i < acl->n; i++) {
        if (strlen(acl->e[i].id) == len && memcmp(acl->e[i].id, id, len) == 0)
            return (long)i;
    }
    return -1;
}

static void
acl_append(struct acl *acl, const char *id, size_t len, uint32_t rights)
{
    if (acl->n == acl->alloc) {
        acl->alloc = acl->alloc ? acl->alloc * 2 : 8;
        acl->e = xreallocarray(acl->e, acl->alloc, sizeof(*acl->e));
    }
    acl->e[acl->n].id = xstrndup(id, len);
    acl->e[acl->n].rights = rights;
    acl->n++;
}

/* One "id\trights\t" entry starting at p[*pos]; the final TAB may be
 * missing at the end of the string. Returns 1 with the spans, 0 at the
 * end, -1 on a malformed entry. */
static int
acl_next_entry(const char *p, size_t len, size_t *pos, const char **id_r,
               size_t *idlen_r, const char **rights_r, size_t *rlen_r)
{
    const char *tab, *end;
    size_t i = *pos;

    if (i >= len)
        return 0;
    tab = memchr(p + i, '\t', len - i);
    if (tab == NULL)
        return -1;
    *id_r = p + i;
    *idlen_r = (size_t)(tab - (p + i));
    i = (size_t)(tab - p) + 1;
    end = i < len ? memchr(p + i, '\t', len - i) : NULL;
    *rights_r = p + i;
    if (end == NULL) {
        *rlen_r = len - i;
        *pos = len;
    } else {
        *rlen_r = (size_t)(end - (p + i));
        *pos = (size_t)(end - p) + 1;
    }
    return 1;
}

int
acl_parse(const char *p, size_t len, char deleteright, struct acl **acl_r,
          const char **error_r)
{
    struct acl *acl = acl_new();
    size_t pos = 0;
    const char *id, *rp;
    size_t idlen, rlen;
    int r;

    while ((r = acl_next_entry(p, len, &pos, &id, &idlen, &rp, &rlen)) > 0) {
        uint32_t rights;
        long at;

        if (!acl_id_valid_map(id, idlen)) {
            if (error_r)
                *error_r = "Invalid identifier in ACL";
            acl_free(&acl);
            return ERR_SYNTAX;
        }
        if (acl_rights_parse(rp, rlen, deleteright, &rights, error_r) < 0) {
            acl_free(&acl);
            return ERR_SYNTAX;
        }
        if (rights == 0)
            continue;
        at = acl_find_map(acl, id, idlen);
        if (at >= 0)
            acl->e[at].rights |= rights;
        else
            acl_append(acl, id, idlen, rights);
    }
    if (r < 0) {
        if (error_r)
            *error_r = "ACL entry without rights";
        acl_free(&acl);
        return ERR_SYNTAX;
    }
    *acl_r = acl;
    return 0;
}

void
acl_format(const struct acl *acl, char deleteright, struct buf *out)
{
    size_t i;

    for (i = 0; i < acl->n; i++) {
        buf_appendcstr(out, acl->e[i].id);
        buf_putc(out, '\t');
        acl_rights_format_legacy(acl->e[i].rights, deleteright, out);
        buf_putc(out, '\t');
    }
}

size_t
acl_count(const struct acl *acl)
{
    return acl->n;
}

void
acl_entry(const struct acl *acl, size_t i, const char **id_r,
          uint32_t *rights_r)
{
    ASSERT(i < acl->n);
    *id_r = acl->e[i].id;
    *rights_r = acl->e[i].rights;
}

int
acl_get(const struct acl *acl, const char *id, uint32_t *rights_r)
{
    long at = acl_find_map(acl, id, strlen(id));

    *rights_r = at >= 0 ? acl->e[at].rights : 0;
    return at >= 0 ? 0 : ERR_NOTFOUND;
}

static void
acl_remove_at(struct acl *acl, size_t i)
{
    free(acl->e[i].id);
    memmove(&acl->e[i], &acl->e[i + 1], (acl->n - i - 1) * sizeof(*acl->e));
    acl->n--;
}

int
acl_modify(struct acl *acl, const char *id, enum acl_mode mode, uint32_t rights)
{
    long at;
    uint32_t old;

    if (!acl_id_valid(id))
        return ERR_INVALID;
    rights &= ACL_ALL;
    at = acl_find_map(acl, id, strlen(id));
    old = at >= 0 ? acl->e[at].rights : 0;
    switch (mode) {
    case ACL_MODE_SET:
        break;
    case ACL_MODE_ADD:
        rights |= old;
        break;
    case ACL_MODE_REMOVE:
        rights = old & ~rights;
        break;
    }
    if (at >= 0 && rights == 0)
        acl_remove_at(acl, (size_t)at);
    else if (at >= 0)
        acl->e[at].rights = rights;
    else if (rights != 0)
        acl_append(acl, id, strlen(id), rights);
    return 0;
}

int
acl_setacl(struct acl *acl, const char *id, const char *p, size_t len,
           char deleteright, const char **error_r)
{
    enum acl_mode mode = ACL_MODE_SET;
    uint32_t rights;
    int r;

    if (len > 0 && (p[0] == '+' || p[0] == '-')) {
        mode = p[0] == '+' ? ACL_MODE_ADD : ACL_MODE_REMOVE;
        p++;
        len--;
    }
    r = acl_rights_parse(p, len, deleteright, &rights, error_r);
    if (r < 0)
        return r;
    r = acl_modify(acl, id, mode, rights);
    if (r < 0 && error_r)
        *error_r = "Invalid identifier";
    return r;
}

int
acl_remove(struct acl *acl, const char *id)
{
    long at = acl_find_map(acl, id, strlen(id));

    if (at < 0)
        return ERR_NOTFOUND;
    acl_remove_at(acl, (size_t)at);
    return 0;
}

static int
acl_span_is(const char *p, size_t len, const char *word)
{
    return word != NULL && strlen(word) == len && memcmp(p, word, len) == 0;
}

/* Does the (sign-stripped) identifier p[0..len) apply to the user? */
static int
acl_matches(const char *p, size_t len, const char *userid,
            const struct strarray *groups)
{
    size_t i;

    if (acl_span_is(p, len, "anyone"))
        return 1;
    if (userid == NULL || strcmp(userid, "anonymous") == 0)
        return acl_span_is(p, len, "anonymous");
    if (acl_span_is(p, len, userid))
        return 1;
    for (i = 0; groups != NULL && i < groups->count; i++) {
        if (acl_span_is(p, len, groups->data[i]))
            return 1;
    }
    return 0;
}

/* Fold one entry into the positive/negative unions. */
static void
acl_fold(const char *id, size_t len, uint32_t rights, const char *userid,
         const struct strarray *groups, uint32_t *pos, uint32_t *neg)
{
    if (len > 0 && id[0] == '-') {
        if (acl_matches(id + 1, len - 1, userid, groups))
            *neg |= rights;
    } else if (acl_matches(id, len, userid, groups)) {
        *pos |= rights;
    }
}

uint32_t
acl_myrights(const struct acl *acl, const char *userid,
             const struct strarray *groups)
{
    uint32_t pos = 0, neg = 0;
    size_t i;

    for (i = 0; i < acl->n; i++) {
        acl_fold(acl->e[i].id, strlen(acl->e[i].id), acl->e[i].rights, userid,
                 groups, &pos, &neg);
    }
    return pos & ~neg;
}

int
acl_string_myrights(const char *p, size_t len, char deleteright,
                    const char *userid, const struct strarray *groups,
                    uint32_t *rights_r, const char **error_r)
{
    uint32_t pos_rights = 0, neg_rights = 0;
    size_t pos = 0;
    const char *id, *rp;
    size_t idlen, rlen;
    int r;

    while ((r = acl_next_entry(p, len, &pos, &id, &idlen, &rp, &rlen)) > 0) {
        uint32_t rights;

        if (!acl_id_valid_map(id, idlen)) {
            if (error_r)
                *error_r = "Invalid identifier in ACL";
            return ERR_SYNTAX;
        }
        if (acl_rights_parse(rp, rlen, deleteright, &rights, error_r) < 0)
            return ERR_SYNTAX;
        acl_fold(id, idlen, rights, userid, groups, &pos_rights, &neg_rights);
    }
    if (r < 0) {
        if (error_r)
            *error_r = "ACL entry without rights";
        return ERR_SYNTAX;
    }
    *rights_r = pos_rights & ~neg_rights;
    return 0;
}
