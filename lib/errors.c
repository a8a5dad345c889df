/* errors.c: text for the project-wide error codes. */
#include "errors.h"

struct error_info {
    const char *name;
    const char *imap_code;
    const char *text;
};

static const struct error_info error_infos[] = {
    {"ERR_OK", "", "Success"},
#define ERROR_INFO(name, code, text) {#name, code, text},
    ERROR_TABLE(ERROR_INFO)
#undef ERROR_INFO
};

static const struct error_info *
error_lookup(int err)
{
    int idx = -err;

    if (idx < 0 || idx >= (int)(sizeof(error_infos) / sizeof(error_infos[0])))
        return &error_infos[1]; /* ERR_GENERIC */
    return &error_infos[idx];
}

const char *
error_text(int err)
{
    return error_lookup(err)->text;
}

const char *
error_imap_code(int err)
{
    return error_lookup(err)->imap_code;
}

const char *
error_name(int err)
{
    return error_lookup(err)->name;
}
