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
    {"LSUB",         cmd_lsub,         AUTHED },
    {"XLIST",        cmd_xlist,        AUTHED },
    {"RLIST",        cmd_rlist,        AUTHED },
    {"RLSUB",        cmd_rlsub,        AUTHED },
    {"GETMETADATA",  cmd_getmetadata,  AUTHED },
    {"SETMETADATA",  cmd_setmetadata,  AUTHED },
    {"SUBSCRIBE",    cmd_subscribe,    AUTHED },
    {"UNSUBSCRIBE",  cmd_unsubscribe,  AUTHED },
    {"GETACL",       cmd_getacl,       AUTHED },
    {"SETACL",       cmd_setacl,       AUTHED },
    {"DELETEACL",    cmd_deleteacl,    AUTHED },
    {"LISTRIGHTS",   cmd_listrights,   AUTHED },
    {"MYRIGHTS",     cmd_myrights,     AUTHED },
    {"GETQUOTA",     cmd_getquota,     AUTHED },
    {"GETQUOTAROOT", cmd_getquotaroot, AUTHED },
    {"SETQUOTA",     cmd_setquota,     AUTHED },
    {"CLOSE",        cmd_close,        SELECTED},
    {"UNSELECT",     cmd_unselect,     SELECTED},
    {"CHECK",        cmd_check,        SELECTED},
    {"APPEND",       cmd_append,       AUTHED },
    {"LOCALAPPEND",  cmd_localappend,  AUTHED },
    {"IDLE",         cmd_idle,         AUTHED },
    {"FETCH",        cmd_fetch,        SELECTED},
    {"STORE",        cmd_store,        SELECTED},
    {"SEARCH",       cmd_search,       SELECTED},
    {"SORT",         cmd_sort,         SELECTED},
    {"EXPUNGE",      cmd_expunge,      SELECTED},
    {"COPY",         cmd_copy,         SELECTED},
    {"MOVE",         cmd_move,         SELECTED},
    {"UID FETCH",    cmd_uid_fetch,    SELECTED},
    {"UID STORE",    cmd_uid_store,    SELECTED},
    {"UID SEARCH",   cmd_uid_search,   SELECTED},
    {"UID SORT",     cmd_uid_sort,     SELECTED},
    {"THREAD",       cmd_thread,       SELECTED},
    {"UID THREAD",   cmd_uid_thread,   SELECTED},
    {"UID EXPUNGE",  cmd_uid_expunge,  SELECTED},
    {"UID COPY",     cmd_uid_copy,     SELECTED},
    {"UID MOVE",     cmd_uid_move,     SELECTED},
    {"COMPRESS",     cmd_compress,     AUTHED },
    {"XFER",         cmd_xfer,         AUTHED },
    {"LOCALCREATE",  cmd_localcreate,  AUTHED },
    {"LOCALDELETE",  cmd_localdelete,  AUTHED },
    {"XAPPEND",      cmd_xappend,      AUTHED },
    {"MUPDATEPUSH",  cmd_mupdatepush,  AUTHED },
    {"LOCALSUBSCRIBE", cmd_localsubscribe, AUTHED },
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
