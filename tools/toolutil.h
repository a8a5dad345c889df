/* toolutil.h: the set-up the admin programs in tools/ share: the -C and
 * -h/--help options, usage text, loading imapd.conf and the path of the
 * cyrusdb environment.
 *
 * A tool embeds a struct toolutil in main():
 *
 *   toolutil_init(&tu, "mbpath", usage_text);
 *   while ((opt = toolutil_getopt(&tu, argc, argv, "C:qh", NULL)) != -1)
 *       ... its own options ...
 *   if ((r = toolutil_config_load(&tu)) != 0)
 *       return r;
 *   ...
 *   toolutil_fini(&tu);
 *
 * These run at a terminal, so failures are reported here on stderr as
 * "prog: why" and the caller only picks the exit status (sysexits.h). */
#ifndef TOOLUTIL_H
#define TOOLUTIL_H

#include <getopt.h>

#include "buf.h"
#include "config.h"
#include "util.h"

struct toolutil {
    const char *prog;      /* program name: messages, log ident, service */
    const char *usage;     /* the --help text; its first line: synopsis */
    const char *conf_path; /* -C FILE, or NULL */
    struct config *cfg;    /* loaded by toolutil_config_load(), or NULL */
};

/* Fill tu (prog and usage are not copied: they must outlive it) and
 * log_init(prog). */
void toolutil_init(struct toolutil *tu, const char *prog, const char *usage);

/* getopt_long() that handles what every tool has itself: -C FILE when
 * optstring has "C:" (sets tu->conf_path), -h and --help (the usage on
 * stdout, exit 0) and unknown options (toolutil_usage(tu, EX_USAGE)).
 * longopts NULL means just --help; a tool's own table must map "help" to
 * 'h'. Returns the tool's other options, -1 at the end (optind is then
 * the first operand). */
int toolutil_getopt(struct toolutil *tu, int argc, char **argv,
                    const char *optstring, const struct option *longopts);

/* Exit with code: for 0 (--help) the whole usage on stdout, otherwise its
 * first line and "Try 'prog --help' for more." on stderr. */
void toolutil_usage(const struct toolutil *tu, int code) ATTR_NORETURN;

/* "prog: message" on stderr, then toolutil_usage(tu, EX_USAGE). */
void toolutil_usage_error(const struct toolutil *tu, const char *fmt, ...)
    ATTR_FORMAT(2, 3) ATTR_NORETURN;

/* Load tu->conf_path (NULL: $CYRUS_CONF, else /etc/imapd.conf) with
 * tu->prog as the service name, and make it the process's `config`.
 * Returns 0, or EX_CONFIG after reporting why (stderr and the log). */
int toolutil_config_load(struct toolutil *tu);

/* Append the cyrusdb environment's directory, {configdirectory}/db, to
 * out. Needs the loaded config. */
void toolutil_envdir(struct buf *out);

/* Unload the configuration (config becomes NULL again). */
void toolutil_fini(struct toolutil *tu);

#endif
