/* mkmbox.c: test helper that creates a mailbox the way a backend does
 * (mailboxes.db entry + spool files, uuid layout), until the mailbox
 * tools land.
 *
 *   mkmbox -C imapd.conf NAME [ACL [STORAGE-KIB]]
 *
 * NAME is internal ("user.alice", "shared.x"); ACL is a Cyrus ACL string
 * with "|" for TAB (default: "<owner>|lrswipkxtecdan" for user mailboxes,
 * "anyone|lrs" for others); STORAGE-KIB makes NAME a quota root with that
 * STORAGE limit. Exits 0 or 1 with a message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uuid/uuid.h>

#include "config.h"
#include "cyrusdb.h"
#include "lmtp_deliver.h"
#include "mailbox.h"
#include "mboxlist.h"
#include "mboxname.h"
#include "quota.h"
#include "util.h"
#include "xmalloc.h"

int
main(int argc, char **argv)
{
    struct config *cfg;
    struct cyrusdb_env *env;
    struct mboxlist *ml = NULL;
    struct quota_db *qdb = NULL;
    struct mboxlist_entry *e;
    struct buf path = BUF_INITIALIZER, acl = BUF_INITIALIZER;
    char *err = NULL, uuid[37], *owner;
    const char *root = NULL;
    uuid_t u;
    int r;

    if (argc < 4 || strcmp(argv[1], "-C") != 0) {
        fprintf(stderr, "usage: mkmbox -C imapd.conf NAME [ACL [KIB]]\n");
        return 1;
    }
    cfg = config_load(argv[2], "mkmbox", &err);
    if (cfg == NULL) {
        fprintf(stderr, "mkmbox: %s\n", err ? err : "bad config");
        return 1;
    }
    config = cfg;
    buf_printf(&path, "%s/db", config_str(cfg, CFG_CONFIGDIRECTORY));
    env = cyrusdb_env_open(buf_cstring(&path), 0, &err);
    if (env == NULL || mboxlist_open(env, "mailboxes.db", &ml) < 0
        || quota_db_open(env, NULL, &qdb) < 0) {
        fprintf(stderr, "mkmbox: cannot open databases\n");
        return 1;
    }
    uuid_generate(u);
    uuid_unparse_lower(u, uuid);
    e = mboxlist_entry_new(argv[3]);
    e->partition = xstrdup("default");
    e->uniqueid = xstrdup(uuid);
    e->uidvalidity = (uint32_t)time(NULL);
    e->createdmodseq = 1;
    owner = mboxname_to_userid(argv[3]);
    if (argc > 4) {
        buf_setcstr(&acl, argv[4]);
        buf_replace_char(&acl, '|', '\t');
    } else if (owner != NULL) {
        buf_printf(&acl, "%s\tlrswipkxtecdan\t", owner);
    } else {
        buf_setcstr(&acl, "anyone\tlrs\t");
    }
    e->acl = buf_release(&acl);
    if (argc > 5) {
        int64_t limit[QUOTA_NUMRESOURCES] = {QUOTA_UNLIMITED, QUOTA_UNLIMITED};
        unsigned long kib;

        if (util_parse_ulong(argv[5], 1ul << 40, &kib) < 0
            || quota_set_limits(qdb, argv[3], (limit[0] = (int64_t)kib, limit),
                                NULL, NULL)
                   < 0) {
            fprintf(stderr, "mkmbox: bad quota\n");
            return 1;
        }
        root = argv[3];
    }
    r = lmtp_deliver_mailbox_path(cfg, e, &path);
    if (r == 0)
        r = mailbox_create(buf_cstring(&path), uuid, root, e->uidvalidity, 1);
    if (r == 0)
        r = mboxlist_store(ml, e, NULL);
    if (r < 0) {
        fprintf(stderr, "mkmbox: %s: error %d\n", argv[3], r);
        return 1;
    }
    free(owner);
    mboxlist_entry_free(&e);
    buf_free(&path);
    quota_db_close(&qdb);
    mboxlist_close(&ml);
    cyrusdb_env_close(&env);
    config_free(&cfg);
    return 0;
}
