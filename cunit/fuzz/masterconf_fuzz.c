/* masterconf_fuzz.c: the cyrus.conf parser, listen= and cron= parsers must
 * never crash or leak on any input. */
/* FUZZ_SOURCES: master/masterconf.c master/listen.c master/cron.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../master/cron.h"
#include "../../master/listen.h"
#include "../../master/masterconf.h"
#include "strarray.h"
#include "xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct strarray warnings = STRARRAY_INITIALIZER;
    char *err = NULL, *s;
    struct masterconf *mc;
    struct listen_spec spec;
    struct cron *c = NULL;
    const char *why;

    mc = masterconf_parse((const char *)data, size, "fuzz", &warnings, &err);
    if (mc) {
        size_t i, n = masterconf_count(mc, MASTERCONF_EVENTS);

        /* every accepted schedule must be computable */
        for (i = 0; i < n; i++) {
            const struct masterconf_entry *e =
                masterconf_entry(mc, MASTERCONF_EVENTS, i);

            if (e->cron && cron_parse(e->cron, &c, &why) == 0) {
                cron_next(c, (time_t)1700000000);
                cron_free(&c);
            }
        }
        if (err != NULL)
            abort(); /* success never sets an error */
    } else if (err == NULL) {
        abort(); /* a failure always explains itself */
    }
    masterconf_free(&mc);
    free(err);
    strarray_fini(&warnings);

    /* the same bytes as a listen address and a cron line */
    s = xstrndup((const char *)data, size < 200 ? size : 200);
    if (listen_parse(s, &spec, &why) == 0)
        listen_spec_fini(&spec);
    if (cron_parse(s, &c, &why) == 0) {
        cron_next(c, (time_t)1700000000);
        cron_free(&c);
    }
    free(s);
    return 0;
}
