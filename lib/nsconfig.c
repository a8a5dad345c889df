/* nsconfig.c: the namespace from imapd.conf. */
#include "nsconfig.h"

static const char *
get_cb(const char *option, void *ctx)
{
    /* the raw text as written, or NULL: namespace applies the defaults */
    return config_overflow((const struct config *)ctx, option);
}

int
nsconfig_load(const struct config *cfg, struct namespace **ns_r,
              const char **error_r)
{
    return namespace_from_config(get_cb, (void *)cfg, ns_r, error_r);
}
