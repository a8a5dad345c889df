/* cmd_mailbox.c: CREATE, DELETE, RENAME (RFC 3501 6.3.3-6.3.5, Cyrus's
 * partition argument, RFC 6154 CREATE-SPECIAL-USE). */
#include <stdlib.h>
#include <string.h>

#include "annotate.h"
#include "errors.h"
#include "imapd.h"
#include "log.h"
#include "mboxlist.h"
#include "mboxname.h"
#include "mboxops.h"
#include "namespace.h"
#include "stream.h"
#include "util.h"
#include "xmalloc.h"

static const char *const specialuse_flags[] = {
    "\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk", "\\Sent",
    "\\Trash", "\\Important",
};

/* Strip one trailing hierarchy separator (RFC 3501 6.3.3). */
static void
strip_separator(struct imapd_session *s, struct buf *name)
{
    char sep = namespace_separator(s->proc->ns);

    if (buf_len(name) > 1 && buf_base(name)[buf_len(name) - 1] == sep)
        buf_truncate(name, buf_len(name) - 1);
}

static void
reply_result(struct imapd_session *s, const char *tag, int r,
             const char *err)
{
    if (r == 0)
        imapd_ok(s, tag, NULL, "Completed");
    else if (err && r != ERR_EXISTS && r != ERR_PERMISSION
             && r != ERR_NOMAILBOX)
        imapd_no(s, tag, error_imap_code(r), err);
    else
        imapd_error(s, tag, r);
}

/* CREATE name [partition | (PARTITION p USE (\Flag))] */
void
cmd_create(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    struct buf name = BUF_INITIALIZER, part = BUF_INITIALIZER;
    struct mboxops_who who = {s->userid, s->isadmin};
    char *intname = NULL, *specialuse = NULL;
    const char *err = NULL;
    int r;

    if (imaptok_mailbox(t, &name) < 0) {
        imapd_bad(s, tag, "Missing required argument to Create");
        goto done;
    }
    if (imaptok_peek(t) == ' ') {
        imaptok_sp(t);
        if (imaptok_peek(t) == '(') {
            struct buf key = BUF_INITIALIZER;

            imaptok_lparen(t);
            while (imaptok_peek(t) != ')' && !imaptok_at_end(t)) {
                if (buf_len(&key) && imaptok_sp(t) < 0)
                    break;
                if (imaptok_astring(t, &key) < 0 || imaptok_sp(t) < 0)
                    break;
                if (util_strcasecmp(buf_cstring(&key), "PARTITION") == 0) {
                    if (imaptok_astring(t, &part) < 0)
                        break;
                } else if (util_strcasecmp(buf_cstring(&key), "USE") == 0) {
                    struct strarray flags = STRARRAY_INITIALIZER;
                    size_t i;

                    if (imaptok_flag_list(t, &flags) < 0) {
                        strarray_fini(&flags);
                        break;
                    }
                    for (i = 0; i < flags.count; i++) {
                        size_t k;
                        int ok = 0;

                        for (k = 0; k < ARRAY_SIZE(specialuse_flags); k++)
                            ok |= util_strcasecmp(flags.data[i],
                                                  specialuse_flags[k])
                                  == 0;
                        if (!ok) {
                            strarray_fini(&flags);
                            buf_free(&key);
                            imapd_no(s, tag, "USEATTR",
                                     "Unsupported special-use attribute");
                            goto done;
                        }
                    }
                    free(specialuse);
                    specialuse = strarray_join(&flags, " ");
                    strarray_fini(&flags);
                } else {
                    break;
                }
            }
            buf_free(&key);
            if (imaptok_rparen(t) < 0) {
                imapd_bad(s, tag, "Invalid Create parameters");
                goto done;
            }
        } else if (imaptok_astring(t, &part) < 0) {
            imapd_bad(s, tag, "Invalid partition argument to Create");
            goto done;
        }
    }
    if (imaptok_end(t) < 0) {
        imapd_bad(s, tag, "Unexpected extra arguments to Create");
        goto done;
    }
    strip_separator(s, &name);
    if (buf_len(&part) && !s->isadmin) {
        imapd_error(s, tag, ERR_PERMISSION);
        goto done;
    }
    if (util_strcasecmp(buf_cstring(&name), "INBOX") == 0 && !s->isadmin) {
        imapd_error(s, tag, ERR_EXISTS);
        goto done;
    }
    if (mboxname_to_internal(s->proc->ns, s->userid, s->isadmin,
                             buf_cstring(&name), &intname)
        != 0) {
        imapd_error(s, tag, ERR_BADNAME);
        goto done;
    }
    r = mboxops_create(s->proc->ops, &who, intname,
                       buf_len(&part) ? buf_cstring(&part) : NULL, specialuse,
                       NULL, &err);
    if (r == 0)
        log_msg(LOG_INFO, "created %s by %s", intname, s->userid);
    reply_result(s, tag, r, err);
done:
    free(intname);
    free(specialuse);
    buf_free(&name);
    buf_free(&part);
}

void
cmd_delete(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    struct buf name = BUF_INITIALIZER;
    struct mboxops_who who = {s->userid, s->isadmin};
    char *intname = NULL;
    const char *err = NULL;
    int r;

    if (imaptok_mailbox(t, &name) < 0 || imaptok_end(t) < 0) {
        imapd_bad(s, tag, "Missing required argument to Delete");
        goto done;
    }
    strip_separator(s, &name);
    r = imapd_lookup(s, buf_cstring(&name), &intname, NULL);
    if (r) {
        imapd_error(s, tag, r);
        goto done;
    }
    if (s->selected_name && strcmp(s->selected_name, intname) == 0)
        imapd_unselect(s);
    r = mboxops_delete(s->proc->ops, &who, intname, &err);
    if (r == 0) {
        log_msg(LOG_INFO, "deleted %s by %s", intname, s->userid);
        /* its METADATA goes with it (errors are logged, not fatal) */
        if (annotate_delete_mailbox(s->proc->annot, intname, NULL) < 0)
            log_msg(LOG_ERR, "annotations of %s not removed", intname);
    }
    reply_result(s, tag, r, err);
done:
    free(intname);
    buf_free(&name);
}

void
cmd_rename(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    struct buf oldname = BUF_INITIALIZER, newname = BUF_INITIALIZER;
    struct buf part = BUF_INITIALIZER;
    struct mboxops_who who = {s->userid, s->isadmin};
    char *oldint = NULL, *newint = NULL;
    const char *err = NULL;
    int r;

    if (imaptok_mailbox(t, &oldname) < 0 || imaptok_sp(t) < 0
        || imaptok_mailbox(t, &newname) < 0) {
        imapd_bad(s, tag, "Missing required argument to Rename");
        goto done;
    }
    if (imaptok_peek(t) == ' '
        && (imaptok_sp(t) < 0 || imaptok_astring(t, &part) < 0)) {
        imapd_bad(s, tag, "Invalid partition argument to Rename");
        goto done;
    }
    if (imaptok_end(t) < 0) {
        imapd_bad(s, tag, "Unexpected extra arguments to Rename");
        goto done;
    }
    if (buf_len(&part) && !s->isadmin) {
        imapd_error(s, tag, ERR_PERMISSION);
        goto done;
    }
    strip_separator(s, &oldname);
    strip_separator(s, &newname);
    r = imapd_lookup(s, buf_cstring(&oldname), &oldint, NULL);
    if (r) {
        imapd_error(s, tag, r);
        goto done;
    }
    if (mboxname_to_internal(s->proc->ns, s->userid, s->isadmin,
                             buf_cstring(&newname), &newint)
        != 0) {
        imapd_error(s, tag, ERR_BADNAME);
        goto done;
    }
    if (strcmp(oldint, newint) == 0 && !buf_len(&part)) {
        imapd_no(s, tag, NULL, "Mailbox already exists");
        goto done;
    }
    if (mboxname_is_inbox(oldint) && !mboxname_is_inbox(newint)
        && !buf_len(&part)
        && mboxname_is_owner(s->proc->ns, oldint, s->userid))
        r = imapd_rename_inbox(s, oldint, newint, &err);
    else
        r = mboxops_rename(s->proc->ops, &who, oldint, newint,
                           buf_len(&part) ? buf_cstring(&part) : NULL, &err);
    if (r == 0) {
        log_msg(LOG_INFO, "renamed %s to %s by %s", oldint, newint,
                s->userid);
        /* the mailbox's own METADATA follows it (not an INBOX rename,
         * where the INBOX stays) */
        if (!mboxname_is_inbox(oldint)
            && annotate_rename_mailbox(s->proc->annot, oldint, newint, NULL)
                   < 0)
            log_msg(LOG_ERR, "annotations of %s not moved", oldint);
    }
    reply_result(s, tag, r, err);
done:
    free(oldint);
    free(newint);
    buf_free(&oldname);
    buf_free(&newname);
    buf_free(&part);
}
