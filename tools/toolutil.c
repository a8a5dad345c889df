/* toolutil.c: set-up shared by the admin tools (see toolutil.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "log.h"
#include "toolutil.h"

static const struct option toolutil_help_only[] = {
    {"help", no_argument, NULL, 'h'},
    {NULL,   0,           NULL, 0  },
};

void
toolutil_init(struct toolutil *tu, const char *prog, const char *usage)
{
    memset(tu, 0, sizeof(*tu));
    tu->prog = prog;
    tu->usage = usage;
    log_init(prog);
}

int
toolutil_getopt(struct toolutil *tu, int argc, char **argv,
                const char *optstring, const struct option *longopts)
{
    int opt;

    for (;;) {
        opt = getopt_long(argc, argv, optstring,
                          longopts ? longopts : toolutil_help_only, NULL);
        if (opt == 'C') {
            tu->conf_path = optarg;
            continue;
        }
        if (opt == 'h')
            toolutil_usage(tu, 0);
        if (opt == '?' || opt == ':')
            toolutil_usage(tu, EX_USAGE);
        return opt;
    }
}

void
toolutil_usage(const struct toolutil *tu, int code)
{
    if (code == 0) {
        fputs(tu->usage, stdout);
    } else {
        fprintf(stderr, "%.*s\nTry '%s --help' for more.\n",
                (int)strcspn(tu->usage, "\n"), tu->usage, tu->prog);
    }
    exit(code);
}

void
toolutil_usage_error(const struct toolutil *tu, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", tu->prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    toolutil_usage(tu, EX_USAGE);
}

int
toolutil_config_load(struct toolutil *tu)
{
    char *error = NULL;

    tu->cfg = config_load(tu->conf_path, tu->prog, &error);
    if (tu->cfg == NULL) {
        fprintf(stderr, "%s: %s\n", tu->prog, error ? error : "no config");
        log_msg(LOG_ERR, "%s", error ? error : "no config");
        free(error);
        return EX_CONFIG;
    }
    config = tu->cfg;
    return 0;
}

void
toolutil_envdir(struct buf *out)
{
    buf_printf(out, "%s/db", config_str(config, CFG_CONFIGDIRECTORY));
}

void
toolutil_fini(struct toolutil *tu)
{
    if (config == tu->cfg)
        config = NULL;
    config_free(&tu->cfg);
}
