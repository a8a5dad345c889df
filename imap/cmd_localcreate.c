/* cmd_localcreate.c: LOCALCREATE, the XFER destination's create
 * (IMAP-SCOPE.md §2, MURDER.md §7).
 *
 *   LOCALCREATE name [partition] [(UIDVALIDITY n UNIQUEID id ACL acl
 *                                  QUOTA (STORAGE n MESSAGE m))]
 *
 * Admins only. Creates the mailbox in mailboxes.db and on disk without
 * any MUPDATE traffic: the name is RESERVED on the master for the source
 * until the destination's MUPDATEPUSH. The optional list keeps what the
 * source had (uidvalidity, uniqueid, ACL) so clients see the same mailbox;
 * QUOTA creates the quota root `name` with those limits first, so the
 * messages XAPPENDed next are charged to it. Each item is optional. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "errors.h"
#include "imapd.h"
#include "mailbox.h"
#include "mboxlist.h"
#include "mboxname.h"
#include "mboxops.h"
#include "quota.h"
#include "util.h"
#include "xmalloc.h"

struct localcreate_opts {
    uint32_t uidvalidity; /* 0: now */
    struct buf uniqueid;  /* empty: a new one */
    struct buf acl;       /* empty: defaults as CREATE */
    int has_quota;
    int64_t limit[QUOTA_NUMRESOURCES];
};

static int
span_is(const struct imaptok_span *w, const char *word)
{
    return w->len == strlen(word) && util_strncasecmp(w->p, word, w->len) == 0;
}

/* "(" item *(SP item) ")" */
static int
parse_opts(struct imaptok *t, struct localcreate_opts *o)
{
    struct imaptok_span w;
    int i;

    for (i = 0; i < QUOTA_NUMRESOURCES; i++)
        o->limit[i] = QUOTA_UNLIMITED;
    if (imaptok_lparen(t) < 0)
        return -1;
    while (imaptok_peek(t) != ')') {
        if (imaptok_atom(t, &w) < 0 || imaptok_sp(t) < 0)
            return -1;
        if (span_is(&w, "UIDVALIDITY")) {
            if (imaptok_nz_number(t, &o->uidvalidity) < 0)
                return -1;
        } else if (span_is(&w, "UNIQUEID")) {
            if (imaptok_astring(t, &o->uniqueid) < 0)
                return -1;
        } else if (span_is(&w, "ACL")) {
            if (imaptok_astring(t, &o->acl) < 0)
                return -1;
        } else if (span_is(&w, "QUOTA")) {
            if (imaptok_lparen(t) < 0)
                return -1;
            o->has_quota = 1;
            while (imaptok_peek(t) != ')') {
                struct imaptok_span res;
                uint64_t n;
                int which;

                if (imaptok_atom(t, &res) < 0 || imaptok_sp(t) < 0
                    || imaptok_number64(t, &n) < 0)
                    return -1;
                which = span_is(&res, "STORAGE")   ? QUOTA_STORAGE
                        : span_is(&res, "MESSAGE") ? QUOTA_MESSAGE
                                                           : -1;
                if (which < 0 || n > QUOTA_MAX_LIMIT)
                    return -1;
                o->limit[which] = (int64_t)n;
                if (imaptok_peek(t) == ' ')
                    imaptok_sp(t);
            }
            if (imaptok_rparen(t) < 0)
                return -1;
        } else {
            return -1;
        }
        if (imaptok_peek(t) == ' ')
            imaptok_sp(t);
    }
    return imaptok_rparen(t);
}

/* A Cyrus-style uniqueid is safe as a path component: hex and '-'. */
static int
uniqueid_ok(const char *id)
{
    size_t n = strlen(id);

    if (n < 2 || n > 64)
        return 0;
    return strspn(id, "0123456789abcdefABCDEF-") == n;
}

static int
localcreate(struct imapd_session *s, const char *intname,
            const char *partition, struct localcreate_opts *o,
            const char **error_r)
{
    struct mboxops_who who = {s->userid, 1};
    struct mboxops local = *s->proc->ops;
    struct mboxlist_entry *e = NULL;
    struct buf oldpath = BUF_INITIALIZER, path = BUF_INITIALIZER;
    struct buf root = BUF_INITIALIZER;
    int r, have_root = 0;

    *error_r = NULL;
    if (o->has_quota && s->proc->qdb) {
        r = quota_set_limits(s->proc->qdb, intname, o->limit, NULL, NULL);
        if (r)
            return r;
    }
    /* the ordinary create (rights, partition, ACL defaults, quota root),
     * without the master: XFER pushes it at the end */
    local.murder = NULL;
    r = mboxops_create(&local, &who, intname, partition, NULL, &e, error_r);
    if (r)
        return r;
    if (o->uidvalidity == 0 && buf_len(&o->uniqueid) == 0
        && buf_len(&o->acl) == 0)
        goto done;
    /* keep the source's identity: the spool directory depends on the
     * uniqueid, so the fresh empty mailbox is recreated under it */
    r = mboxops_path(&local, e, &oldpath);
    if (o->uidvalidity)
        e->uidvalidity = o->uidvalidity;
    if (buf_len(&o->uniqueid)) {
        free(e->uniqueid);
        e->uniqueid = xstrdup(buf_cstring(&o->uniqueid));
    }
    if (buf_len(&o->acl)) {
        free(e->acl);
        e->acl = xstrdup(buf_cstring(&o->acl));
    }
    if (r == 0)
        r = mboxops_path(&local, e, &path);
    if (r == 0 && s->proc->qdb
        && quota_findroot(s->proc->qdb, intname, &root, NULL) == 0)
        have_root = 1;
    if (r == 0) {
        mailbox_destroy(buf_cstring(&oldpath));
        r = mailbox_create(buf_cstring(&path), e->uniqueid,
                           have_root ? buf_cstring(&root) : NULL,
                           e->uidvalidity, 1);
    }
    if (r == 0)
        r = mboxlist_store(local.ml, e, NULL);
    if (r) {
        mailbox_destroy(buf_cstring(&path));
        mboxlist_remove(local.ml, intname, NULL);
        *error_r = "Cannot create mailbox with the given identity";
    }
done:
    mboxlist_entry_free(&e);
    buf_free(&oldpath);
    buf_free(&path);
    buf_free(&root);
    return r;
}

void
cmd_localcreate(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    struct buf name = BUF_INITIALIZER, part = BUF_INITIALIZER;
    struct localcreate_opts o;
    char *intname = NULL;
    const char *error = NULL;
    int r;

    memset(&o, 0, sizeof(o));
    if (imaptok_mailbox(t, &name) < 0) {
        imapd_bad(s, tag, "Missing required argument to Localcreate");
        goto done;
    }
    if (!imaptok_at_end(t)) {
        if (imaptok_sp(t) < 0
            || (imaptok_peek(t) != '(' && imaptok_astring(t, &part) < 0)
            || (!imaptok_at_end(t) && imaptok_peek(t) == ' '
                && imaptok_sp(t) < 0)) {
            imapd_bad(s, tag, "Invalid partition");
            goto done;
        }
    }
    if (!imaptok_at_end(t) && parse_opts(t, &o) < 0) {
        imapd_bad(s, tag, "Invalid Localcreate options");
        goto done;
    }
    if (imaptok_end(t) < 0) {
        imapd_bad(s, tag, "Unexpected extra arguments to Localcreate");
        goto done;
    }
    if (!s->isadmin) {
        imapd_error(s, tag, ERR_PERMISSION);
        goto done;
    }
    if (buf_len(&o.uniqueid) && !uniqueid_ok(buf_cstring(&o.uniqueid))) {
        imapd_bad(s, tag, "Invalid UNIQUEID");
        goto done;
    }
    if (mboxname_to_internal(s->proc->ns, s->userid, s->isadmin,
                             buf_cstring(&name), &intname)
        < 0) {
        imapd_error(s, tag, ERR_BADNAME);
        goto done;
    }
    r = localcreate(s, intname, buf_len(&part) ? buf_cstring(&part) : NULL,
                    &o, &error);
    imapd_result(s, tag, r, error);
done:
    free(intname);
    buf_free(&name);
    buf_free(&part);
    buf_free(&o.uniqueid);
    buf_free(&o.acl);
}
