/* cmd_acl.c: GETACL, SETACL, DELETEACL, LISTRIGHTS, MYRIGHTS (RFC 4314)
 * with Cyrus 3.6's answers.
 *
 * Who may: GETACL, LISTRIGHTS, SETACL and DELETEACL need the `a` right
 * (admins and, through implicit_owner_rights, owners have it); without it
 * the answer is "NO Permission denied", or "NO Mailbox does not exist"
 * when the user may not even see the mailbox (`l`). MYRIGHTS needs any of
 * l r i k x a. SETACL/DELETEACL also need `allowsetacl` unless the user is
 * an admin.
 *
 * The owner of a mailbox may edit or delete their own ACL entry like any
 * other: as in Cyrus 3.x, the implicit owner rights (default "lkxan") are
 * added at evaluation time, so an owner cannot lock themselves out of `l`
 * or `a` on their own mailboxes whatever the ACL says.
 *
 * Changes go through mboxops_setacl(), which also pushes the new ACL to
 * the mupdate master in a murder (MURDER.md §6). */
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "config.h"
#include "errors.h"
#include "imapd.h"
#include "mboxlist.h"
#include "mboxname.h"
#include "mboxops.h"
#include "stream.h"
#include "xmalloc.h"

static char
deleteright(void)
{
    const char *d = config_str(config, CFG_DELETERIGHT);

    return d && *d ? d[0] : ACL_DELETERIGHT_DEFAULT;
}

/* Resolve name and check that the user has all of need (0: any of the
 * MYRIGHTS set). On failure the NO reply is sent and nonzero returned. */
static int
target(struct imapd_session *s, const char *tag, const char *name,
       uint32_t need, char **intname_r, struct mboxlist_entry **e_r,
       uint32_t *rights_r)
{
    int r = imapd_lookup_rights(s, name, need, intname_r, e_r, rights_r);

    /* Cyrus answers these without a response code */
    if (r)
        imapd_no(s, tag, NULL, error_text(r));
    return r;
}

/* GETACL mailbox */
void
cmd_getacl(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    struct buf name = BUF_INITIALIZER, line = BUF_INITIALIZER;
    struct mboxlist_entry *e = NULL;
    struct acl *acl = NULL;
    char *intname = NULL;
    size_t i;

    if (imaptok_mailbox(t, &name) < 0 || imaptok_end(t) < 0) {
        imapd_bad(s, tag, "Invalid arguments to Getacl");
        goto done;
    }
    if (target(s, tag, buf_cstring(&name), ACL_ADMIN, &intname, &e, NULL))
        goto done;
    if (acl_parse(e->acl ? e->acl : "", e->acl ? strlen(e->acl) : 0,
                  deleteright(), &acl, NULL)
        < 0) {
        imapd_error(s, tag, ERR_IO);
        goto done;
    }
    buf_appendcstr(&line, "* ACL ");
    imaptok_astring_out(&line, buf_base(&name), buf_len(&name));
    for (i = 0; i < acl_count(acl); i++) {
        const char *id;
        uint32_t rights;

        acl_entry(acl, i, &id, &rights);
        buf_putc(&line, ' ');
        imaptok_astring_out(&line, id, strlen(id));
        buf_putc(&line, ' ');
        acl_rights_format_legacy(rights, deleteright(), &line);
    }
    buf_appendcstr(&line, "\r\n");
    stream_write(s->s, buf_base(&line), buf_len(&line));
    imapd_ok(s, tag, NULL, "Completed");
done:
    acl_free(&acl);
    mboxlist_entry_free(&e);
    free(intname);
    buf_free(&name);
    buf_free(&line);
}

/* The selected mailbox's cached rights follow an ACL change. */
static void
refresh_selected(struct imapd_session *s, const char *intname)
{
    struct mboxlist_entry *e = NULL;

    if (s->selected_name == NULL || strcmp(s->selected_name, intname) != 0)
        return;
    if (mboxlist_lookup(s->proc->mboxlist, intname, &e, NULL) == 0)
        s->selected_rights = imapd_rights(s, e);
    mboxlist_entry_free(&e);
}

/* SETACL mailbox id rights / DELETEACL mailbox id */
static void
change_acl(struct imapd_session *s, const char *tag, struct imaptok *t,
           int delete)
{
    struct buf name = BUF_INITIALIZER, id = BUF_INITIALIZER;
    struct buf rights = BUF_INITIALIZER, newacl = BUF_INITIALIZER;
    struct mboxlist_entry *e = NULL;
    struct acl *acl = NULL;
    char *intname = NULL;
    const char *err = NULL;
    int r;

    if (imaptok_mailbox(t, &name) < 0 || imaptok_sp(t) < 0
        || imaptok_astring(t, &id) < 0
        || (!delete && (imaptok_sp(t) < 0 || imaptok_astring(t, &rights) < 0))
        || imaptok_end(t) < 0) {
        imapd_bad(s, tag, delete ? "Invalid arguments to Deleteacl"
                                 : "Invalid arguments to Setacl");
        goto done;
    }
    if (!s->isadmin && !config_switch(config, CFG_ALLOWSETACL)) {
        imapd_error(s, tag, ERR_PERMISSION);
        goto done;
    }
    if (!acl_id_valid(buf_cstring(&id))) {
        imapd_bad(s, tag, "Invalid identifier");
        goto done;
    }
    if (target(s, tag, buf_cstring(&name), ACL_ADMIN, &intname, &e, NULL))
        goto done;
    if (e->server) {
        imapd_error(s, tag, ERR_MOVED);
        goto done;
    }
    if (acl_parse(e->acl ? e->acl : "", e->acl ? strlen(e->acl) : 0,
                  deleteright(), &acl, NULL)
        < 0) {
        imapd_error(s, tag, ERR_IO);
        goto done;
    }
    if (delete) {
        /* RFC 4314 3.2: removing an absent entry is not an error */
        acl_remove(acl, buf_cstring(&id));
    } else {
        r = acl_setacl(acl, buf_cstring(&id), buf_base(&rights),
                       buf_len(&rights), deleteright(), &err);
        if (r == ERR_SYNTAX) {
            imapd_bad(s, tag, err ? err : "Invalid rights");
            goto done;
        }
        if (r) {
            imapd_error(s, tag, r);
            goto done;
        }
    }
    acl_format(acl, deleteright(), &newacl);
    r = mboxops_setacl(s->proc->ops, intname, buf_cstring(&newacl), &err);
    if (r) {
        imapd_no(s, tag, error_imap_code(r), err ? err : error_text(r));
        goto done;
    }
    refresh_selected(s, intname);
    imapd_ok(s, tag, NULL, "Completed");
done:
    acl_free(&acl);
    mboxlist_entry_free(&e);
    free(intname);
    buf_free(&name);
    buf_free(&id);
    buf_free(&rights);
    buf_free(&newacl);
}

void
cmd_setacl(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    change_acl(s, tag, t, 0);
}

void
cmd_deleteacl(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    change_acl(s, tag, t, 1);
}

/* LISTRIGHTS mailbox id: Cyrus's form. The required rights are the
 * implicit owner rights when id owns the mailbox, "p" on a user INBOX
 * (anyone may post to it), else none (""); then every other right, each
 * as its own word, in Cyrus's order (legacy c and d included). */
void
cmd_listrights(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    struct buf name = BUF_INITIALIZER, id = BUF_INITIALIZER;
    struct buf line = BUF_INITIALIZER, req = BUF_INITIALIZER;
    struct buf opt = BUF_INITIALIZER;
    struct mboxlist_entry *e = NULL;
    char *intname = NULL;
    uint32_t implicit = 0;
    size_t i;

    if (imaptok_mailbox(t, &name) < 0 || imaptok_sp(t) < 0
        || imaptok_astring(t, &id) < 0 || imaptok_end(t) < 0) {
        imapd_bad(s, tag, "Invalid arguments to Listrights");
        goto done;
    }
    if (target(s, tag, buf_cstring(&name), ACL_ADMIN, &intname, &e, NULL))
        goto done;
    if (mboxname_is_owner(s->proc->ns, intname, buf_cstring(&id))) {
        const char *own = config_str(config, CFG_IMPLICIT_OWNER_RIGHTS);

        if (own == NULL)
            own = ACL_IMPLICIT_OWNER_DEFAULT;
        acl_rights_parse(own, strlen(own), deleteright(), &implicit, NULL);
    } else if (mboxname_is_inbox(intname)) {
        implicit = ACL_POST;
    }
    buf_appendcstr(&line, "* LISTRIGHTS ");
    imaptok_astring_out(&line, buf_base(&name), buf_len(&name));
    buf_putc(&line, ' ');
    imaptok_astring_out(&line, buf_base(&id), buf_len(&id));
    buf_putc(&line, ' ');
    if (implicit) {
        acl_rights_format_legacy(implicit, deleteright(), &req);
        buf_appendbuf(&line, &req);
    } else {
        buf_appendcstr(&line, "\"\"");
    }
    acl_rights_format_legacy(ACL_ALL & ~implicit, deleteright(), &opt);
    for (i = 0; i < buf_len(&opt); i++)
        buf_printf(&line, " %c", buf_base(&opt)[i]);
    buf_appendcstr(&line, "\r\n");
    stream_write(s->s, buf_base(&line), buf_len(&line));
    imapd_ok(s, tag, NULL, "Completed");
done:
    mboxlist_entry_free(&e);
    free(intname);
    buf_free(&name);
    buf_free(&id);
    buf_free(&line);
    buf_free(&req);
    buf_free(&opt);
}

/* MYRIGHTS mailbox */
void
cmd_myrights(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    struct buf name = BUF_INITIALIZER, line = BUF_INITIALIZER;
    struct mboxlist_entry *e = NULL;
    char *intname = NULL;
    uint32_t rights = 0;

    if (imaptok_mailbox(t, &name) < 0 || imaptok_end(t) < 0) {
        imapd_bad(s, tag, "Invalid arguments to Myrights");
        goto done;
    }
    if (target(s, tag, buf_cstring(&name), 0, &intname, &e, &rights))
        goto done;
    buf_appendcstr(&line, "* MYRIGHTS ");
    imaptok_astring_out(&line, buf_base(&name), buf_len(&name));
    buf_putc(&line, ' ');
    acl_rights_format_legacy(rights, deleteright(), &line);
    buf_appendcstr(&line, "\r\n");
    stream_write(s->s, buf_base(&line), buf_len(&line));
    imapd_ok(s, tag, NULL, "Completed");
done:
    mboxlist_entry_free(&e);
    free(intname);
    buf_free(&name);
    buf_free(&line);
}
