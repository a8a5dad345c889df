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
    CFG_ENUM,      /* one of the allowed values */
    CFG_STRINGLIST,
    CFG_BITFIELD,  /* subset of the allowed values */
    CFG_DURATION,  /* seconds */
    CFG_BYTESIZE   /* bytes */
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
 * (used for overrides; may be NULL). Returns NULL and a message naming
 * file:line in *error_r (caller frees) on bad syntax, an ill-typed value,
 * a duplicate, an unreadable @include, or a missing configdirectory.
 * Warnings (unknown keys) are logged, not fatal. */
struct config *config_load(const char *path, const char *service,
                           char **error_r);
/* Same, but from text in memory (for tests and fuzzing); `name` is used in
 * error messages. */
struct config *config_load_text(const char *text, size_t len,
                                const char *name, const char *service,
                                char **error_r);
void config_free(struct config **cp);

/* Typed getters. Each ASSERTs that opt has the matching type.
 * Strings never return NULL for options with a default, NULL if unset and
 * without default. {configdirectory} in defaults is substituted. */
const char *config_str(const struct config *c, enum config_option opt);
long config_int(const struct config *c, enum config_option opt);
int config_switch(const struct config *c, enum config_option opt);
/* ENUM / STRINGLIST: the canonical allowed value chosen ("on", "off",
 * "delayed", ...). */
const char *config_enum(const struct config *c, enum config_option opt);
/* BITFIELD: bit i set when allowed value i is listed. */
unsigned long config_bits(const struct config *c, enum config_option opt);
/* DURATION in seconds; BYTESIZE in bytes (-1 stays -1). */
long config_duration(const struct config *c, enum config_option opt);
int64_t config_bytesize(const struct config *c, enum config_option opt);
/* Whether the option was given (in service or generic form). */
int config_isset(const struct config *c, enum config_option opt);

/* Overflow (unknown to the table) keys: service form first, then plain.
 * NULL if absent. e.g. config_overflow(c, "partition-default"). */
const char *config_overflow(const struct config *c, const char *key);
/* Every overflow key starting with prefix, e.g. "partition-". */
void config_overflow_keys(const struct config *c, const char *prefix,
                          struct strarray *keys_r);
/* The path a partition's spool lives at, or NULL. */
const char *config_partition_dir(const struct config *c, const char *part);

/* Service name the config was loaded for (may be NULL), and file path. */
const char *config_service(const struct config *c);
const char *config_filename(const struct config *c);

/* Option metadata, for docs and for `--help` listings. */
const char *config_option_name(enum config_option opt);
enum config_type config_option_type(enum config_option opt);
const char *config_option_doc(enum config_option opt);

#endif
