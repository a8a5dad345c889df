/* masterconf.h: the cyrus.conf parser (CONFIG.md section 3).
 *
 *   SECTION {
 *     name  key=value key="quoted value" ...
 *   }
 *
 * Sections START, SERVICES, EVENTS and DAEMON (case-insensitive); other
 * sections are skipped with a warning. `{` follows the section name on the
 * same or the next line; `}` closes a section on its own line or at the end
 * of an entry line. `#` starts a comment anywhere. Lines are at most 4095
 * bytes. Entry names and keys are alphanumeric; a value is `"..."` (no
 * escapes) or a word up to whitespace. At most 64 keys per entry.
 *
 * The parser is pure (no I/O besides masterconf_load(), no globals, no
 * logging): unknown keys become warnings, everything else that is wrong is
 * an error naming file:line. Entries are validated: every entry needs
 * `cmd`, SERVICES need a well-formed `listen` and a tcp/tcp4/tcp6 `proto`,
 * numbers must be numbers, `at` is hhmm, `cron` is five cron fields, and
 * names are unique within a section and across SERVICES and DAEMON. */
#ifndef MASTERCONF_H
#define MASTERCONF_H

#include <stddef.h>

#include "strarray.h"

enum masterconf_section {
    MASTERCONF_START,
    MASTERCONF_SERVICES,
    MASTERCONF_EVENTS,
    MASTERCONF_DAEMON,
    MASTERCONF_NSECTIONS
};

/* One validated entry; owned by its struct masterconf, read-only. Fields
 * that do not apply to the entry's section hold their defaults. */
struct masterconf_entry {
    enum masterconf_section section;
    const char *name;
    unsigned line;
    const char *cmd;      /* as written */
    struct strarray argv; /* cmd split on whitespace; count >= 1 */
    /* SERVICES */
    const char *listen; /* NULL outside SERVICES */
    const char *proto;  /* "tcp" (default), "tcp4", "tcp6" */
    long prefork;       /* >= 0; babysit makes it >= 1 */
    long maxchild;      /* -1: unlimited (0 and -1 in the file) */
    long maxforkrate;   /* forks per second, 0: unlimited; babysit and
                         * DAEMON default to 10 */
    long maxfds;        /* RLIMIT_NOFILE for the child, 0: inherit */
    int babysit;
    /* DAEMON */
    int wait; /* wait=y: master waits for "ok\r\n" on fd 3 */
    /* EVENTS */
    long period;      /* minutes, 0: none */
    int at;           /* hhmm, -1: none */
    const char *cron; /* NULL: none */
};

struct masterconf;

/* Parse text[0..len) (need not be NUL-terminated; a NUL byte is an
 * error). `filename` prefixes messages. Returns the parsed configuration,
 * or NULL with "file:line: reason" in *error_r (caller frees). Warnings
 * ("file:line: ...") are appended to warnings_r when it is not NULL. */
struct masterconf *masterconf_parse(const char *text, size_t len,
                                    const char *filename,
                                    struct strarray *warnings_r,
                                    char **error_r);
/* Read and parse a file; an unreadable file is an error too. */
struct masterconf *masterconf_load(const char *path,
                                   struct strarray *warnings_r, char **error_r);
void masterconf_free(struct masterconf **mcp);

/* Entries of a section in file order. */
size_t masterconf_count(const struct masterconf *mc,
                        enum masterconf_section section);
/* The i-th entry (i < masterconf_count()). */
const struct masterconf_entry *masterconf_entry(const struct masterconf *mc,
                                                enum masterconf_section section,
                                                size_t i);
/* The entry of that section named name, or NULL. */
const struct masterconf_entry *masterconf_find(const struct masterconf *mc,
                                               enum masterconf_section section,
                                               const char *name);
/* "START", "SERVICES", "EVENTS", "DAEMON". */
const char *masterconf_section_name(enum masterconf_section section);

#endif
