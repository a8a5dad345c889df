/* mbreplica.c: test helper standing in for the mupdate slave until it
 * lands: copy every mailbox of a backend's mailboxes.db into a frontend's
 * as a remote entry (server set, REMOTE flag), as the replica would hold
 * it.
 *
 *     mbreplica SRC_CONFIGDIR SERVERNAME DST_CONFIGDIR
 */
#include <stdio.h>
#include <stdlib.h>

#include "buf.h"
#include "cyrusdb.h"
#include "mboxlist.h"
#include "xmalloc.h"

struct copy_ctx {
    struct mboxlist *dst;
    const char *server;
    int count;
    int failed;
};

static int
copy_cb(void *ctx, const struct mboxlist_entry *e)
{
    struct copy_ctx *c = ctx;
    struct mboxlist_entry *n;

    if (e->mbtype & (MBTYPE_DELETED | MBTYPE_RESERVE))
        return 0;
    n = mboxlist_entry_copy(e);
    n->mbtype |= MBTYPE_REMOTE;
    free(n->server);
    n->server = xstrdup(c->server);
    if (mboxlist_store(c->dst, n, NULL) < 0)
        c->failed = 1;
    else
        c->count++;
    mboxlist_entry_free(&n);
    return 0;
}

static struct mboxlist *
open_list(const char *configdir, struct cyrusdb_env **env_r)
{
    struct buf path = BUF_INITIALIZER;
    struct mboxlist *ml = NULL;
    char *err = NULL;

    buf_printf(&path, "%s/db", configdir);
    *env_r = cyrusdb_env_open(buf_cstring(&path), 0, &err);
    buf_free(&path);
    if (*env_r == NULL) {
        fprintf(stderr, "mbreplica: %s\n", err ? err : "env");
        free(err);
        return NULL;
    }
    if (mboxlist_open(*env_r, "mailboxes.db", &ml) < 0) {
        fprintf(stderr, "mbreplica: cannot open %s mailboxes.db\n", configdir);
        return NULL;
    }
    return ml;
}

int
main(int argc, char **argv)
{
    struct cyrusdb_env *senv = NULL, *denv = NULL;
    struct mboxlist *src, *dst;
    struct copy_ctx c = {NULL, NULL, 0, 0};

    if (argc != 4) {
        fprintf(stderr,
                "usage: mbreplica SRC_CONFIGDIR SERVER DST_CONFIGDIR\n");
        return 2;
    }
    src = open_list(argv[1], &senv);
    dst = open_list(argv[3], &denv);
    if (src == NULL || dst == NULL)
        return 1;
    c.dst = dst;
    c.server = argv[2];
    mboxlist_foreach(src, "", copy_cb, &c, NULL);
    mboxlist_close(&src);
    mboxlist_close(&dst);
    cyrusdb_env_close(&senv);
    cyrusdb_env_close(&denv);
    printf("%d\n", c.count);
    return c.failed;
}
