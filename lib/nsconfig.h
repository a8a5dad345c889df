/* nsconfig.h: the namespace (lib/namespace.h) from imapd.conf. */
#ifndef NSCONFIG_H
#define NSCONFIG_H

#include "config.h"
#include "namespace.h"

/* altnamespace, unixhierarchysep, virtdomains, defaultdomain, userprefix,
 * sharedprefix, deletedprefix as written in cfg (Cyrus defaults when
 * absent). Returns 0 or -1 with *error_r (static text). */
int nsconfig_load(const struct config *cfg, struct namespace **ns_r,
                  const char **error_r);

#endif
