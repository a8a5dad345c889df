/* proxy_create.c: where a CREATE on a frontend goes (MURDER.md section
 * 3): an explicit "server!partition" (admins only), else the server of the
 * nearest existing parent in the replica, else a weighted choice over
 * `serverlist`.
 *
 * Weights are our extension: `<server>_weight: N` (default 1, 0 = never
 * chosen) in imapd.conf; the choice is random in proportion to the
 * weights, so `serverlist: backend1 backend2` with `backend2_weight: 3`
 * puts three quarters of the new top-level mailboxes on backend2. Cyrus's
 * free-space modes (GETMETADATA freespace) are not implemented. */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "errors.h"
#include "imapd.h"
#include "mboxlist.h"
#include "mboxname.h"
#include "proxy_imap.h"
#include "strarray.h"
#include "util.h"
#include "xmalloc.h"

/* Cyrus keeps a user's mailboxes on one backend: a personal mailbox
 * below an INBOX that lives on another server than the requested one is
 * refused (3.6 answers "NO Permission denied"). 1 when refused. */
static int
other_users_server(struct imapd_session *s, const char *intname,
                   const char *server)
{
    struct mboxlist_entry *e = NULL;
    char *user, *inbox = NULL;
    int refused = 0;

    if (mboxname_is_inbox(intname) || !mboxname_is_user(intname))
        return 0;
    user = mboxname_to_userid(intname);
    if (user)
        inbox = mboxname_user_inbox(s->proc->ns, user);
    if (inbox && mboxlist_lookup(s->proc->mboxlist, inbox, &e, NULL) == 0
        && e->server && !(e->mbtype & MBTYPE_DELETED))
        refused = strcmp(e->server, server) != 0;
    mboxlist_entry_free(&e);
    free(inbox);
    free(user);
    return refused;
}

/* The server of the nearest existing ancestor of intname, or NULL. */
static char *
parent_server(struct imapd_session *s, const char *intname)
{
    char *name = xstrdup(intname), *dot;
    char *server = NULL;

    while (server == NULL && (dot = strrchr(name, '.')) != NULL) {
        struct mboxlist_entry *e = NULL;

        *dot = '\0';
        if (mboxlist_lookup(s->proc->mboxlist, name, &e, NULL) == 0 && e->server
            && !(e->mbtype & MBTYPE_DELETED))
            server = xstrdup(e->server);
        mboxlist_entry_free(&e);
    }
    free(name);
    return server;
}

static long
server_weight(const char *server)
{
    struct buf key = BUF_INITIALIZER;
    const char *v;
    unsigned long w = 1;

    buf_printf(&key, "%s_weight", server);
    v = config_overflow(config, buf_cstring(&key));
    if (v && util_parse_ulong(v, 1000000, &w) < 0)
        w = 1;
    buf_free(&key);
    return (long)w;
}

/* A weighted random member of serverlist, or NULL. */
static char *
choose_server(void)
{
    const char *list = config_str(config, CFG_SERVERLIST);
    struct strarray *servers;
    long total = 0, pick;
    size_t i;
    char *chosen = NULL;

    if (list == NULL)
        return NULL;
    servers = strarray_split(list, " ,");
    for (i = 0; i < servers->count; i++)
        total += server_weight(strarray_nth(servers, i));
    if (total > 0) {
        pick = random() % total;
        for (i = 0; i < servers->count; i++) {
            pick -= server_weight(strarray_nth(servers, i));
            if (pick < 0) {
                chosen = xstrdup(strarray_nth(servers, i));
                break;
            }
        }
    }
    strarray_free(&servers);
    return chosen;
}

int
proxy_create_place(struct imapd_session *s, const char *extname,
                   const char *partarg, char **server_r, char **part_r)
{
    char *intname = NULL;
    const char *bang;

    *server_r = NULL;
    *part_r = NULL;
    if (mboxname_to_internal(s->proc->ns, s->userid, s->isadmin, extname,
                             &intname)
        < 0)
        return ERR_BADNAME;
    if (partarg) {
        /* MURDER.md 3.1: only admins choose where a mailbox lives */
        if (!s->isadmin) {
            free(intname);
            return ERR_PERMISSION;
        }
        bang = strchr(partarg, '!');
        if (bang) {
            *server_r = xstrndup(partarg, (size_t)(bang - partarg));
            if (bang[1])
                *part_r = xstrdup(bang + 1);
        } else {
            *part_r = xstrdup(partarg);
        }
    }
    if (*server_r && other_users_server(s, intname, *server_r)) {
        free(*server_r);
        free(*part_r);
        *server_r = *part_r = NULL;
        free(intname);
        return ERR_PERMISSION;
    }
    if (*server_r == NULL)
        *server_r = parent_server(s, intname);
    if (*server_r == NULL)
        *server_r = choose_server();
    free(intname);
    if (*server_r == NULL) {
        free(*part_r);
        *part_r = NULL;
        return ERR_UNAVAILABLE;
    }
    return 0;
}
