/* unit.c: runs every CUnit suite listed in suites.def.
 *
 * Usage: unit [suite ...]   (no argument: all suites)
 * Prints "cunit: N passed, M failed" last and exits 1 on any failure. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cunit.h"
#include "xmalloc.h"

#define SUITE(n) extern const struct cunit_suite cunit_suite_##n;
#include "suites.def"
#undef SUITE

static const struct cunit_suite *all_suites[] = {
#define SUITE(n) &cunit_suite_##n,
#include "suites.def"
#undef SUITE
};

static char *tmpdir_path;

static void
cleanup_tmpdir(void)
{
    if (tmpdir_path && getenv("CUNIT_KEEP") == NULL) {
        struct buf cmd = BUF_INITIALIZER;

        buf_printf(&cmd, "rm -rf '%s'", tmpdir_path);
        if (system(buf_cstring(&cmd)) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir_path);
        buf_free(&cmd);
    }
}

const char *
cunit_tmpdir(void)
{
    if (tmpdir_path == NULL) {
        char tmpl[] = "/tmp/cunit.XXXXXX";

        if (mkdtemp(tmpl) == NULL) {
            perror("mkdtemp");
            exit(2);
        }
        tmpdir_path = xstrdup(tmpl);
        atexit(cleanup_tmpdir);
    }
    return tmpdir_path;
}

static int
wanted(const char *name, int argc, char **argv)
{
    int i;

    if (argc < 2)
        return 1;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], name) == 0)
            return 1;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    size_t i;
    unsigned run, failed;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    for (i = 0; i < sizeof(all_suites) / sizeof(all_suites[0]); i++) {
        const struct cunit_suite *s = all_suites[i];
        CU_pSuite suite;
        CU_TestInfo *t;

        if (!wanted(s->name, argc, argv))
            continue;
        suite = CU_add_suite(s->name, s->setup, s->teardown);
        for (t = s->tests; t->pName; t++)
            CU_add_test(suite, t->pName, t->pTestFunc);
    }
    CU_basic_set_mode(getenv("CUNIT_VERBOSE") ? CU_BRM_VERBOSE
                                              : CU_BRM_NORMAL);
    CU_basic_run_tests();
    run = CU_get_number_of_tests_run();
    failed = CU_get_number_of_tests_failed();
    /* a failing suite setup counts as a failed test */
    failed += CU_get_number_of_suites_failed();
    printf("\ncunit: %u passed, %u failed\n", run - CU_get_number_of_tests_failed(),
           failed);
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
