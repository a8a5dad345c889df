/* imap_commands.c: the IMAP command table (STYLE.md rule 4). */
#include <stddef.h>

#include "imapd.h"
#include "util.h"

#define ANY      (IMAPD_NOTAUTH | IMAPD_AUTH | IMAPD_SELECTED)
#define NOTAUTH  IMAPD_NOTAUTH
#define AUTHED   (IMAPD_AUTH | IMAPD_SELECTED)
#define SELECTED IMAPD_SELECTED

static const struct imapd_command imapd_commands[] = {
    {"CAPABILITY",   cmd_capability,   ANY    },
    {"NOOP",         cmd_noop,         ANY    },
    {"LOGOUT",       cmd_logout,       ANY    },
    {"ID",           cmd_id,           ANY    },
    {"STARTTLS",     cmd_starttls,     NOTAUTH},
    {"LOGIN",        cmd_login,        NOTAUTH},
    {"AUTHENTICATE", cmd_authenticate, NOTAUTH},
    {"ENABLE",       cmd_enable,       AUTHED },
    {"NAMESPACE",    cmd_namespace,    AUTHED },
    {"SELECT",       cmd_select,       AUTHED },
    {"EXAMINE",      cmd_examine,      AUTHED },
    {"CREATE",       cmd_create,       AUTHED },
    {"DELETE",       cmd_delete,       AUTHED },
    {"RENAME",       cmd_rename,       AUTHED },
    {"LIST",         cmd_list,         AUTHED },
    {"STATUS",       cmd_status,       AUTHED },
    {"CLOSE",        cmd_close,        SELECTED},
    {"UNSELECT",     cmd_unselect,     SELECTED},
    {"CHECK",        cmd_check,        SELECTED},
};

const struct imapd_command *
imapd_command_find(const char *name, size_t len)
{
    size_t i;

    for (i = 0; i < ARRAY_SIZE(imapd_commands); i++) {
        if (util_memcaseeq(name, len, imapd_commands[i].name))
            return &imapd_commands[i];
    }
    return NULL;
}
