/* storetest.h: fixtures shared by the store suites (append, quota, seen,
 * subs, duplicate): a fresh configdirectory with its own Berkeley DB
 * environment under cunit_tmpdir(). Included by .testc files only. */
#ifndef STORETEST_H
#define STORETEST_H

#include <stdio.h>
#include <stdlib.h>

#include "buf.h"
#include "cunit.h"
#include "cyrusdb.h"

/* {tmp}/<name><n> with the environment in its db/ subdirectory; a new
 * one on every call so tests do not see each other's data. The path is
 * written to configdir (may be NULL). */
static inline struct cyrusdb_env *
storetest_env_open(const char *name, struct buf *configdir)
{
    static int counter;
    struct buf dir = BUF_INITIALIZER;
    struct cyrusdb_env *env;
    char *error = NULL;

    buf_printf(&dir, "%s/%s%d/db", cunit_tmpdir(), name, ++counter);
    env = cyrusdb_env_open(buf_cstring(&dir), 0, &error);
    if (env == NULL) {
        fprintf(stderr, "storetest: %s\n", error ? error : "env open");
        free(error);
    }
    if (configdir) {
        buf_truncate(&dir, buf_len(&dir) - 3);
        buf_setcstr(configdir, buf_cstring(&dir));
    }
    buf_free(&dir);
    return env;
}

#endif
