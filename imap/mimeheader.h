/* mimeheader.h: MIME header field values (RFC 2045, 2183, 2231, 3282)
 * parsed the way Cyrus does for BODYSTRUCTURE.
 *
 * Inputs are unfolded header values (NUL-terminated, see
 * msgheader_unfold()). Tokens are upper-cased (type, subtype, parameter
 * names, disposition, encoding, languages); parameter values keep their
 * case with quotes and escapes removed. RFC 2231 continuations
 * (name*0, name*1*, ...) are joined into one parameter called name, or
 * name* when any piece used the extended charset'lang'%XX form; extended
 * values are kept encoded, as Cyrus sends them. */
#ifndef MIMEHEADER_H
#define MIMEHEADER_H

#include "buf.h"

struct mimeparam {
    char *name; /* upper case; NULL for Content-Language entries */
    char *value;
    struct mimeparam *next;
};

/* Content-Type "type/subtype *(; param)". Returns 0 and sets the outputs
 * (caller frees), or ERR_SYNTAX (outputs untouched) when the value is not
 * a valid type, in which case the part keeps its default type. */
int mimeheader_parse_type(const char *v, char **type_r, char **subtype_r,
                          struct mimeparam **params_r);
/* Content-Disposition "token *(; param)"; same contract. */
int mimeheader_parse_disposition(const char *v, char **disp_r,
                                 struct mimeparam **params_r);
/* Content-Language: the comma-separated tags up to the first invalid
 * one (upper-cased, in value), or NULL. */
struct mimeparam *mimeheader_parse_language(const char *v);
/* Content-Transfer-Encoding: the upper-cased token, or NULL when the value
 * is not a single token. */
char *mimeheader_parse_encoding(const char *v);

/* Value of the first parameter called name (exact, upper case) or NULL. */
const char *mimeheader_param(const struct mimeparam *p, const char *name);
void mimeheader_params_free(struct mimeparam **pp);

/* Append NIL, or "(name value ...)" as nstrings; with values_only (for
 * body-fld-lang) just "(value ...)". */
void mimeheader_write_params(struct buf *out, const struct mimeparam *p,
                             int values_only);

#endif
