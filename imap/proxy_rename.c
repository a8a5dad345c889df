/* proxy_rename.c: RENAME with a location on a frontend (MURDER.md
 * section 5): a partition move on the mailbox's backend, or XFER from
 * it to another backend. The location is "server!partition", "server!",
 * or a bare word: a partition when this node configures one of that
 * name, else a server (as Cyrus 3.6 reads it). */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "errors.h"
#include "imapd.h"
#include "imaptok.h"
#include "mboxlist.h"
#include "proxy_imap.h"
#include "xmalloc.h"

/* Append " {n+}\r\nstr" (a LITERAL+ argument) to cmd. */
static void
arg(struct buf *cmd, const char *str)
{
    buf_printf(cmd, " {%zu+}\r\n%s", strlen(str), str);
}

int
proxy_rename_location(struct imapd_session *s, const char *tag,
                      struct imaptok *t, const char *server)
{
    struct imaptok copy = *t;
    struct buf oldname = BUF_INITIALIZER, newname = BUF_INITIALIZER;
    struct buf loc = BUF_INITIALIZER, cmd = BUF_INITIALIZER;
    const char *bang, *part;
    char *dest = NULL;
    int handled = 0;

    if (imaptok_mailbox(&copy, &oldname) < 0 || imaptok_sp(&copy) < 0
        || imaptok_mailbox(&copy, &newname) < 0
        || imaptok_peek(&copy) != ' ')
        goto out; /* no location: the plain RENAME */
    imaptok_sp(&copy);
    if (imaptok_astring(&copy, &loc) < 0 || imaptok_end(&copy) < 0)
        goto out;
    handled = 1;
    if (!s->isadmin) {
        imapd_error(s, tag, ERR_PERMISSION);
        goto out;
    }
    if (strcmp(buf_cstring(&oldname), buf_cstring(&newname)) != 0) {
        imapd_no(s, tag, NULL,
                 "Cross-server or cross-partition move w/rename not supported");
        goto out;
    }
    bang = strchr(buf_cstring(&loc), '!');
    if (bang) {
        dest = xstrndup(buf_cstring(&loc), (size_t)(bang - buf_cstring(&loc)));
        part = bang + 1;
    } else if (config_partition_dir(config, buf_cstring(&loc)) == NULL) {
        /* Cyrus 3.6: a bare location that is no partition here names a
         * server ("renm box box backend2" in cyradm) */
        dest = xstrdup(buf_cstring(&loc));
        part = "";
    } else {
        part = buf_cstring(&loc);
    }
    if (dest == NULL || *dest == '\0'
        || (strcmp(dest, server) == 0 && *part)) {
        /* same server: a partition move there (no partition: XFER, which
         * the backend refuses as Cyrus does, "Invalid server") */
        buf_printf(&cmd, "%s RENAME", tag);
        arg(&cmd, buf_cstring(&oldname));
        arg(&cmd, buf_cstring(&oldname));
        arg(&cmd, part);
    } else {
        buf_printf(&cmd, "%s XFER", tag);
        arg(&cmd, buf_cstring(&oldname));
        arg(&cmd, dest);
        if (*part)
            arg(&cmd, part);
    }
    buf_appendcstr(&cmd, "\r\n");
    if (proxy_imap_forward(s, tag, server, buf_base(&cmd), buf_len(&cmd), NULL,
                           NULL))
        proxy_imap_kick();
out:
    free(dest);
    buf_free(&oldname);
    buf_free(&newname);
    buf_free(&loc);
    buf_free(&cmd);
    return handled;
}
