/* dbtool: raw access to a cyrusdb database, for e2e tests that need to
 * set up or damage state the servers cannot (quotas.db usage for
 * `quota -f`).
 *
 *   dbtool -C imapd.conf DB get KEY
 *   dbtool -C imapd.conf DB set KEY VALUE
 *
 * DB is relative to the configdirectory (quotas.db). Exit 0, or 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "cyrusdb.h"
#include "errors.h"
#include "log.h"

int
main(int argc, char **argv)
{
    struct config *loaded;
    struct cyrusdb_env *env;
    struct cyrusdb *db = NULL;
    struct buf envdir = BUF_INITIALIZER;
    const char *data;
    size_t len;
    char *error = NULL;
    int r = 1;

    log_init("dbtool");
    if (argc < 6 || strcmp(argv[1], "-C") != 0
        || (strcmp(argv[4], "get") != 0 && strcmp(argv[4], "set") != 0)
        || (strcmp(argv[4], "set") == 0 && argc != 7)) {
        fprintf(stderr, "usage: dbtool -C conf DB get KEY | set KEY VALUE\n");
        return 1;
    }
    loaded = config_load(argv[2], "dbtool", &error);
    if (loaded == NULL) {
        fprintf(stderr, "dbtool: %s\n", error);
        return 1;
    }
    config = loaded;
    buf_printf(&envdir, "%s/db", config_str(config, CFG_CONFIGDIRECTORY));
    env = cyrusdb_env_open(buf_cstring(&envdir), 0, &error);
    if (env == NULL || cyrusdb_open(env, argv[3], CYRUSDB_CREATE, &db) < 0) {
        fprintf(stderr, "dbtool: cannot open %s\n", argv[3]);
        goto done;
    }
    if (strcmp(argv[4], "get") == 0) {
        if (cyrusdb_fetch(db, argv[5], strlen(argv[5]), &data, &len, NULL)
            == 0) {
            printf("%.*s\n", (int)len, data);
            r = 0;
        }
    } else {
        r = cyrusdb_store(db, argv[5], strlen(argv[5]), argv[6],
                          strlen(argv[6]), NULL)
            < 0;
    }
done:
    cyrusdb_close(&db);
    cyrusdb_env_close(&env);
    buf_free(&envdir);
    config = NULL;
    config_free(&loaded);
    return r;
}
