/* cmd_quota.c: GETQUOTA, GETQUOTAROOT, SETQUOTA (RFC 9208 / RFC 2087 as
 * Cyrus 3.6 answers them).
 *
 * Quota roots live in quotas.db (imap/quota.h); each mailbox's header
 * names the root it is charged to, which is what the append and expunge
 * paths read (mailbox_quotaroot()). This file keeps the headers in sync:
 * after a root is created or removed, mboxops_quota_sync() re-points every
 * local mailbox under it at quota_findroot() of its name and moves its
 * current usage (bytes, messages) over, so usage is right at once on an
 * existing hierarchy. New mailboxes get their root at CREATE (mboxops.c)
 * and renamed ones after RENAME.
 *
 * Who may: SETQUOTA is for admins only. GETQUOTA: admins, the owner of the
 * root, or a user with `r` on the root mailbox. GETQUOTAROOT needs `r` on
 * the mailbox (else "Permission denied", or "does not exist" without
 * `l`).
 *
 * SETQUOTA semantics (Cyrus 3.6): the listed resources get those limits,
 * unlisted ones become unlimited, -1 means unlimited; an empty list "()"
 * removes the root (its mailboxes fall back to an enclosing root). A root
 * must be an existing mailbox unless written "+root", which creates the
 * root for a mailbox that does not exist (yet): XFER sets up quotas so. */
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "errors.h"
#include "imapd.h"
#include "log.h"
#include "mboxlist.h"
#include "mboxname.h"
#include "mboxops.h"
#include "quota.h"
#include "stream.h"
#include "util.h"
#include "xmalloc.h"

/* Append "* QUOTA <root> (...)\r\n" for the internal root name. */
static void
format_quota(struct imapd_session *s, const char *root, const struct quota *q,
             struct buf *out)
{
    char *ext = imapd_extname(s, root);
    const char *name = ext ? ext : root;

    buf_appendcstr(out, "* QUOTA ");
    imaptok_astring_out(out, name, strlen(name));
    buf_putc(out, ' ');
    quota_format_resources(q, out);
    buf_appendcstr(out, "\r\n");
    free(ext);
}

/* GETQUOTA root */
void
cmd_getquota(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    struct buf name = BUF_INITIALIZER, line = BUF_INITIALIZER;
    struct mboxlist_entry *e = NULL;
    char *root = NULL;
    struct quota q;
    int r, allowed;

    if (imaptok_astring(t, &name) < 0 || imaptok_end(t) < 0) {
        imapd_bad(s, tag, "Invalid arguments to Getquota");
        goto done;
    }
    if (mboxname_to_internal(s->proc->ns, s->userid, s->isadmin,
                             buf_cstring(&name), &root)
        != 0) {
        imapd_no(s, tag, NULL, "Quota root does not exist");
        goto done;
    }
    allowed = s->isadmin || mboxname_is_owner(s->proc->ns, root, s->userid);
    if (!allowed && mboxlist_lookup(s->proc->mboxlist, root, &e, NULL) == 0)
        allowed = (imapd_rights(s, e) & ACL_READ) != 0;
    if (!allowed) {
        imapd_error(s, tag, ERR_PERMISSION);
        goto done;
    }
    r = quota_read(s->proc->qdb, root, &q, NULL);
    if (r == ERR_NOTFOUND) {
        imapd_no(s, tag, NULL, "Quota root does not exist");
        goto done;
    }
    if (r) {
        imapd_error(s, tag, r);
        goto done;
    }
    format_quota(s, root, &q, &line);
    stream_write(s->s, buf_base(&line), buf_len(&line));
    imapd_ok(s, tag, NULL, "Completed");
done:
    mboxlist_entry_free(&e);
    free(root);
    buf_free(&name);
    buf_free(&line);
}

/* GETQUOTAROOT mailbox */
void
cmd_getquotaroot(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    struct buf name = BUF_INITIALIZER, line = BUF_INITIALIZER;
    struct buf root = BUF_INITIALIZER;
    struct mboxlist_entry *e = NULL;
    char *intname = NULL;
    struct quota q;
    int r;

    if (imaptok_mailbox(t, &name) < 0 || imaptok_end(t) < 0) {
        imapd_bad(s, tag, "Invalid arguments to Getquotaroot");
        goto done;
    }
    r = imapd_lookup_rights(s, buf_cstring(&name), ACL_READ, &intname, &e,
                            NULL);
    if (r) {
        imapd_error(s, tag, r);
        goto done;
    }
    buf_appendcstr(&line, "* QUOTAROOT ");
    imaptok_astring_out(&line, buf_base(&name), buf_len(&name));
    r = quota_findroot(s->proc->qdb, intname, &root, NULL);
    if (r == 0 && quota_read(s->proc->qdb, buf_cstring(&root), &q, NULL) == 0) {
        char *ext = imapd_extname(s, buf_cstring(&root));
        const char *rn = ext ? ext : buf_cstring(&root);

        buf_putc(&line, ' ');
        imaptok_astring_out(&line, rn, strlen(rn));
        buf_appendcstr(&line, "\r\n");
        format_quota(s, buf_cstring(&root), &q, &line);
        free(ext);
    } else {
        buf_appendcstr(&line, "\r\n");
    }
    stream_write(s->s, buf_base(&line), buf_len(&line));
    imapd_ok(s, tag, NULL, "Completed");
done:
    mboxlist_entry_free(&e);
    free(intname);
    buf_free(&name);
    buf_free(&line);
    buf_free(&root);
}

/* A limit: a number, or -1 for none. */
static int
parse_limit(struct imaptok *t, int64_t *limit_r)
{
    struct imaptok_span w;
    uint64_t v;
    int neg = 0;

    if (imaptok_atom(t, &w) < 0)
        return -1;
    if (w.len > 0 && w.p[0] == '-') {
        neg = 1;
        w.p++;
        w.len--;
    }
    if (util_parse_u64(w.p, w.len, (uint64_t)QUOTA_MAX_LIMIT, &v) < 0)
        return imaptok_fail(t, "Invalid quota limit");
    if (neg && v != 1)
        return imaptok_fail(t, "Invalid quota limit");
    *limit_r = neg ? QUOTA_UNLIMITED : (int64_t)v;
    return 0;
}

/* "(STORAGE n MESSAGE n)" into limit[]; *count_r resources listed. */
static int
parse_resources(struct imaptok *t, int64_t limit[QUOTA_NUMRESOURCES],
                int *count_r)
{
    struct imaptok_span w;
    int n = 0;

    if (imaptok_lparen(t) < 0)
        return -1;
    while (imaptok_peek(t) != ')') {
        int res;
        char word[32];
        int64_t v = 0;

        if (n && imaptok_sp(t) < 0)
            return -1;
        if (imaptok_atom(t, &w) < 0 || imaptok_sp(t) < 0)
            return -1;
        if (w.len >= sizeof(word))
            return imaptok_fail(t, "Invalid quota resource");
        memcpy(word, w.p, w.len);
        word[w.len] = '\0';
        res = quota_resource_from_name(word);
        if (res < 0)
            return imaptok_fail(t, "Invalid quota resource");
        if (parse_limit(t, &v) < 0)
            return -1;
        limit[res] = v;
        n++;
    }
    *count_r = n;
    return imaptok_rparen(t);
}

/* SETQUOTA [+]root (resource limit ...) */
void
cmd_setquota(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    struct buf name = BUF_INITIALIZER;
    int64_t limit[QUOTA_NUMRESOURCES];
    const char *ext;
    char *root = NULL;
    int i, n = 0, force = 0, created = 0, r;

    for (i = 0; i < QUOTA_NUMRESOURCES; i++)
        limit[i] = QUOTA_UNLIMITED;
    if (imaptok_astring(t, &name) < 0 || imaptok_sp(t) < 0
        || parse_resources(t, limit, &n) < 0 || imaptok_end(t) < 0) {
        imapd_bad(s, tag, imaptok_error(t) ? imaptok_error(t)
                                           : "Invalid arguments to Setquota");
        goto done;
    }
    if (!s->isadmin) {
        imapd_error(s, tag, ERR_PERMISSION);
        goto done;
    }
    ext = buf_cstring(&name);
    if (ext[0] == '+') {
        force = 1;
        ext++;
    }
    if (force || n == 0) {
        /* "+root", or removing a root whose mailbox may be gone */
        if (mboxname_to_internal(s->proc->ns, s->userid, s->isadmin, ext,
                                 &root)
            != 0) {
            imapd_error(s, tag, ERR_BADNAME);
            goto done;
        }
    } else {
        struct mboxlist_entry *e = NULL;

        r = imapd_lookup(s, ext, &root, &e);
        if (r == 0 && e->server)
            r = ERR_MOVED;
        mboxlist_entry_free(&e);
        if (r) {
            imapd_error(s, tag, r);
            goto done;
        }
    }
    if (n == 0) {
        /* "()": the root goes away; an absent one is fine (Cyrus) */
        r = quota_remove(s->proc->qdb, root, NULL);
        if (r == ERR_NOTFOUND)
            r = 0;
        created = 1; /* headers must be re-pointed */
    } else {
        r = quota_set_limits(s->proc->qdb, root, limit, &created, NULL);
    }
    if (r == 0 && created)
        r = mboxops_quota_sync(s->proc->ops, root);
    if (r) {
        log_msg(LOG_ERR, "SETQUOTA %s: %s", root, error_text(r));
        imapd_error(s, tag, r);
        goto done;
    }
    imapd_ok(s, tag, NULL, "Completed");
done:
    free(root);
    buf_free(&name);
}
