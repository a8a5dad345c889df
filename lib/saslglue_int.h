/* saslglue_int.h: internals shared by saslglue.c and saslclient.c only. */
#ifndef SASLGLUE_INT_H
#define SASLGLUE_INT_H

#include <sasl/sasl.h>

#include "config.h"

struct hash;
struct buf;

/* Cyrus uses 4096-byte protocol buffers; a security layer's largest
 * incoming chunk follows. */
#define SASLGLUE_MAXBUFSIZE 4096

/* The context of our SASL_CB_GETOPT callback. */
struct saslglue_opts {
    const struct config *cfg;
    struct hash *cache; /* numbers formatted for libsasl, by key */
};

void saslglue_opts_init(struct saslglue_opts *o, const struct config *cfg);
void saslglue_opts_fini(struct saslglue_opts *o);

/* The type of sasl_callback_t.proc (sasl.h has no name for it). */
typedef int (*saslglue_proc_t)(void);
/* libsasl calls it back with the arguments its id implies; the detour
 * through void (*)(void) is the portable spelling of that cast. */
#define SASLGLUE_PROC(f) ((saslglue_proc_t)(void (*)(void))(f))

/* The callback procedures, cast for a sasl_callback_t table:
 * getopt (context: struct saslglue_opts *) and log (context unused). */
saslglue_proc_t saslglue_getopt_proc(void);
saslglue_proc_t saslglue_log_proc(void);
/* A constant callback table with only the log callback. */
const sasl_callback_t *saslglue_log_callbacks(void);

/* A numeric/switch/duration option by name (known or overflow); def when
 * unset or unparsable. */
long saslglue_config_num(const struct config *cfg, const char *name, long def);

/* Whether word is an element of the space/comma-separated list. */
int saslglue_list_contains(const char *list, const char *word, int icase);

/* libsasl result -> 0, SASLGLUE_CONTINUE, ERR_NOTSUPPORTED or ERR_AUTH. */
int saslglue_result(int sasl_result);

/* Decode a base64 SASL response ("=" = empty) into tmp; 0 or ERR_SYNTAX.
 * data_r and len_r point into tmp. */
int saslglue_b64_in(const char *in, size_t inlen, struct buf *tmp,
                    const char **data_r, size_t *len_r);

#endif
