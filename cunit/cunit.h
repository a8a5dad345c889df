/* cunit.h: how a .testc file declares its suite.
 *
 * Each cunit/<module>.testc ends with
 *     CUNIT_SUITE(module, setup_fn_or_NULL, teardown_fn_or_NULL,
 *                 CUNIT_TEST(test_a), CUNIT_TEST(test_b));
 * and cunit/suites.def gets a line SUITE(module). */
#ifndef CUNIT_H
#define CUNIT_H

#include <CUnit/CUnit.h>

struct cunit_suite {
    const char *name;
    int (*setup)(void);
    int (*teardown)(void);
    CU_TestInfo *tests;
};

#define CUNIT_TEST(fn) {#fn, fn}
#define CUNIT_SUITE(name, setup, teardown, ...)                           \
    static CU_TestInfo cunit_tests_##name[] = {__VA_ARGS__, CU_TEST_INFO_NULL}; \
    const struct cunit_suite cunit_suite_##name = {#name, setup, teardown, \
                                                   cunit_tests_##name}

/* A fresh temporary directory for the running test binary (created on
 * first use, removed at exit unless CUNIT_KEEP is set). */
const char *cunit_tmpdir(void);

#endif
