/* config.h: imapd.conf, read once at startup and read-only afterwards.
 *
 * Options are described by the typed table in config_options.def (name,
 * type, default, allowed values, doc). A program loads its file once with
 * config_load(); the loaded struct is then only read. The process-wide
 * pointer `config` (defined in config.c) is the one global every program
 * sets right after loading (STYLE.md rule 7).
 *
 * Service overrides (as Cyrus): inside the service named S (the cyrus.conf
 * entry that started the process, or the tool's own name) a line
 * `S_option: value` beats `option: value` whatever the order. Unknown
 * option names are kept in an overflow table (partition-NAME, sasl_*,
 * <host>_password, ...) and warned about unless they follow a known
 * pattern. */
#ifndef CONFIG_H
#define CONFIG_H

#include <stdint.h>

#include "strarray.h"

enum config_type {
    CFG_STRING,
    CFG_INT,
    CFG_SWITCH,
    CFG_ENUM, /* one of the allowed values */
    CFG_STRINGLIST,
    CFG_BITFIELD, /* subset of the allowed values */
    CFG_DURATION, /* seconds */
    CFG_BYTESIZE  /* bytes */
};

/* CFG_<ID> for every option in config_options.def. */
enum config_option {
#define CONFIG_OPTION(id, name, type, def, unit, allowed, doc) CFG_##id,
#include "config_options.def"
#undef CONFIG_OPTION
    CFG__COUNT
};

struct config;

/* The loaded configuration of this process (NULL before config_load()). */
extern const struct config *config;

/* Load path (NULL: $CYRUS_CONF, else /etc/imapd.conf) for service `service`
 * (used for overrides; may be NULL; matched case-insensitively). Returns
 * NULL and a message naming file:line in *error_r (caller frees; error_r
 * may be NULL) on bad syntax, an ill-typed value, a duplicate, an
 * unreadable @include, a file included twice, or a missing
 * configdirectory. Warnings (unknown keys) are logged with
 * log_msg(LOG_WARNING) once the whole file loaded, one per key; they are
 * also kept for config_warnings(). Included files must be regular files;
 * a relative @include path is relative to the including file. */
struct config *config_load(const char *path, const char *service,
                           char **error_r);
/* Same, but from text in memory (for tests and fuzzing); `name` is used in
 * error messages and as the base for relative @include paths. Text may
 * hold any bytes: a NUL inside a line is an error. */
struct config *config_load_text(const char *text, size_t len, const char *name,
                                const char *service, char **error_r);
/* Frees c and sets *cp = NULL; NULL and *cp == NULL are fine. Does not
 * touch the global `config` (the caller resets it first). */
void config_free(struct config **cp);

/* Typed getters. Each ASSERTs that opt has the matching type.
 * The value is the service form if given, else the generic form, else the
 * table default. Strings never return NULL for options with a default,
 * NULL if unset and without default; a STRING value (given or default)
 * starting with {configdirectory} has it replaced by configdirectory.
 * Pointers stay valid until config_free(). Numeric options that are unset
 * and have no default return 0 (use config_isset()). */
const char *config_str(const struct config *c, enum config_option opt);
long config_int(const struct config *c, enum config_option opt);
/* SWITCH: 0 or 1. */
int config_switch(const struct config *c, enum config_option opt);
/* ENUM / STRINGLIST: the canonical allowed value chosen ("on", "off",
 * "delayed", ...). */
const char *config_enum(const struct config *c, enum config_option opt);
/* BITFIELD: bit i set when allowed value i is listed. */
unsigned long config_bits(const struct config *c, enum config_option opt);
/* DURATION in seconds; BYTESIZE in bytes. A negative value ("-1", as in
 * popexpiretime or autocreate_quota) is returned as -1 whatever the unit. */
long config_duration(const struct config *c, enum config_option opt);
int64_t config_bytesize(const struct config *c, enum config_option opt);
/* Whether the option was given (in service or generic form). */
int config_isset(const struct config *c, enum config_option opt);

/* Overflow (unknown to the table) keys: service form `S_key` first, then
 * plain `key` (key is matched lowercased). NULL if absent. e.g.
 * config_overflow(c, "partition-default"). For a key that is a table
 * option, the text it was given with (service form first) or NULL: so
 * SASL glue can look up every sasl_* name the same way. The pointer stays
 * valid until config_free(). */
const char *config_overflow(const struct config *c, const char *key);
/* Every overflow key starting with prefix, e.g. "partition-": plain keys,
 * and this service's `S_key` forms with `S_` removed; sorted, no
 * duplicates, appended to keys_r. */
void config_overflow_keys(const struct config *c, const char *prefix,
                          struct strarray *keys_r);
/* The path a partition's spool lives at, or NULL. */
const char *config_partition_dir(const struct config *c, const char *part);

/* Service name the config was loaded for (may be NULL), and file path. */
const char *config_service(const struct config *c);
const char *config_filename(const struct config *c);

/* Warnings of the load (unknown keys), "file:line: ..." each. */
const struct strarray *config_warnings(const struct config *c);

/* Option metadata, for docs and for `--help` listings. opt must be a
 * valid option (ASSERTed). */
const char *config_option_name(enum config_option opt);
enum config_type config_option_type(enum config_option opt);
const char *config_option_doc(enum config_option opt);
/* Default as written in the table (before {configdirectory}), or NULL. */
const char *config_option_default(enum config_option opt);
/* The option called name (exact, lowercase), or -1. */
int config_option_lookup(const char *name);

#endif
