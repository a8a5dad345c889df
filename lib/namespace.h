/* namespace.h: the IMAP namespace a site runs with (RFC 2342), and LIST
 * pattern matching in that namespace (RFC 3501 6.3.8).
 *
 * A namespace is built once from imapd.conf (altnamespace, unixhierarchysep,
 * virtdomains, defaultdomain, userprefix, sharedprefix, deletedprefix) and
 * is read-only afterwards, so one instance may be shared by everything in a
 * process. Every node of a murder must run with the same options: frontends
 * forward the client's external names unchanged (MURDER.md 1).
 *
 * Converting names between the internal form (`user.alice.Sent`) and what a
 * given session sees is in mboxname.h. */
#ifndef NAMESPACE_H
#define NAMESPACE_H

#include "buf.h"

struct namespace;

enum namespace_virtdomains {
    NAMESPACE_VIRTDOMAINS_OFF = 0,
    /* the domain comes from the userid (`alice@example.com`) */
    NAMESPACE_VIRTDOMAINS_USERID,
    /* Cyrus also derives it from the server address; we treat it as USERID */
    NAMESPACE_VIRTDOMAINS_ON
};

struct namespace_options {
    int altnamespace;     /* personal folders beside INBOX, not below it */
    int unixhierarchysep; /* '/' instead of '.' as external separator */
    enum namespace_virtdomains virtdomains;
    const char *defaultdomain; /* NULL or "": none */
    const char *userprefix;    /* altnamespace prefix of other users */
    const char *sharedprefix;  /* altnamespace prefix of shared folders */
    const char *deletedprefix; /* first component of delayed-deleted names */
};

/* Fill o with the Cyrus 3.x defaults: altnamespace and unixhierarchysep on,
 * virtdomains off, defaultdomain "internal", "Other Users",
 * "Shared Folders", "DELETED". The strings are static. */
void namespace_options_init(struct namespace_options *o);

/* Build a namespace from explicit options (strings are copied). Returns 0,
 * or ERR_INVALID with *error_r (static text) when a prefix is empty or
 * contains a separator, the deleted prefix is not a plain component, or
 * the default domain is not a domain name. */
int namespace_new(const struct namespace_options *o, struct namespace **ns_r,
                  const char **error_r);

/* Look up one imapd.conf option by name ("altnamespace", ...): its value
 * as written in the file, or NULL when not set (the default applies). */
typedef const char *namespace_config_cb(const char *option, void *ctx);

/* Build a namespace from imapd.conf values: SWITCH options accept
 * 1/y/t/on and 0/n/f/off (first character decides, as Cyrus does),
 * virtdomains accepts off/userid/on (and yes/no/true/false aliases).
 * Returns 0, or ERR_INVALID with *error_r (static text). */
int namespace_from_config(namespace_config_cb *get_cb, void *ctx,
                          struct namespace **ns_r, const char **error_r);

void namespace_free(struct namespace **nsp);

/* The external hierarchy separator: '/' or '.'. */
char namespace_separator(const struct namespace *ns);
int namespace_altnamespace(const struct namespace *ns);
enum namespace_virtdomains namespace_virtdomains(const struct namespace *ns);
/* NULL when there is no default domain. */
const char *namespace_defaultdomain(const struct namespace *ns);
const char *namespace_userprefix(const struct namespace *ns);
const char *namespace_sharedprefix(const struct namespace *ns);
const char *namespace_deletedprefix(const struct namespace *ns);

/* 1 if p[0..len) is a plausible domain name (letters, digits, '-', '_',
 * single dots inside; at most 255 bytes), else 0. */
int namespace_domain_valid(const char *p, size_t len);

/* Which NAMESPACE groups are accessible to the session (the caller knows
 * whether the user has an INBOX, or may see other users' or shared
 * mailboxes at all). */
#define NAMESPACE_PERSONAL 0x1
#define NAMESPACE_OTHER    0x2
#define NAMESPACE_SHARED   0x4
#define NAMESPACE_ALL      0x7

/* Append the NAMESPACE response data (the part after "* NAMESPACE "),
 * e.g. `(("INBOX." ".")) (("user." ".")) (("" "."))`; a group not in
 * accessible is NIL. Admins (isadmin) never get the alternate namespace, as
 * in Cyrus; the caller passes isadmin for unauthenticated sessions too. */
void namespace_response(const struct namespace *ns, int isadmin,
                        unsigned accessible, struct buf *out);

/* ---- LIST patterns --------------------------------------------------- */

struct namespace_pattern;

/* Compile a LIST reference and mailbox pattern, both in external form as
 * sent by the client (after mUTF-7 has been dealt with, if at all). The
 * two are concatenated (a separator doubled at the join is dropped, RFC
 * 3501 6.3.8); a leading INBOX component is matched case-insensitively.
 * `*` matches anything, `%` anything but the separator. Returns 0, or
 * ERR_TOOLONG for a combined pattern over 4096 bytes. An empty pattern
 * (the `LIST "" ""` separator query) compiles to one that matches
 * nothing: callers answer that query themselves. */
int namespace_pattern_new(const struct namespace *ns, const char *reference,
                          const char *pattern, struct namespace_pattern **p_r);

/* 1 if the external name matches the pattern, else 0. Keeps scratch state
 * in p: one pattern must not be used by two threads at once. */
int namespace_pattern_match(struct namespace_pattern *p, const char *extname);

/* 1 if some name below extname (extname + separator + anything) could
 * match, else 0: lets LIST skip whole subtrees and decide \HasChildren-
 * style intermediate output for `%`. */
int namespace_pattern_match_children(struct namespace_pattern *p,
                                     const char *extname);

void namespace_pattern_free(struct namespace_pattern **pp);

#endif
