/* imap_commands.c: the IMAP command table (STYLE.md rule 4). */
#include <stddef.h>

#include "imapd.h"
#include "util.h"

#define ANY      (IMAPD_NOTAUTH | IMAPD_AUTH | IMAPD_SELECTED)
#define NOTAUTH  IMAPD_NOTAUTH
#define AUTHED   (IMAPD_AUTH | IMAPD_SELECTED)
#define SELECTED IMAPD_SELECTED
#define UID      IMAPD_CMD_UID
#define SORT     IMAPD_CMD_SORT
#define MOVE     IMAPD_CMD_MOVE

/* VCMD: entries that share one handler, told apart by variant */
#define CMD(name, fn, states)           {name, fn, states, NULL, 0}
#define VCMD(name, vfn, states, variant) {name, NULL, states, vfn, variant}

static const struct imapd_command imapd_commands[] = {
    CMD("CAPABILITY", cmd_capability, ANY),
    CMD("NOOP", cmd_noop, ANY),
    CMD("LOGOUT", cmd_logout, ANY),
    CMD("ID", cmd_id, ANY),
    CMD("STARTTLS", cmd_starttls, NOTAUTH),
    CMD("LOGIN", cmd_login, NOTAUTH),
    CMD("AUTHENTICATE", cmd_authenticate, NOTAUTH),
    CMD("ENABLE", cmd_enable, AUTHED),
    CMD("NAMESPACE", cmd_namespace, AUTHED),
    CMD("SELECT", cmd_select, AUTHED),
    CMD("EXAMINE", cmd_examine, AUTHED),
    CMD("CREATE", cmd_create, AUTHED),
    CMD("DELETE", cmd_delete, AUTHED),
    CMD("RENAME", cmd_rename, AUTHED),
    CMD("LIST", cmd_list, AUTHED),
    CMD("STATUS", cmd_status, AUTHED),
    CMD("LSUB", cmd_lsub, AUTHED),
    CMD("XLIST", cmd_xlist, AUTHED),
    CMD("RLIST", cmd_rlist, AUTHED),
    CMD("RLSUB", cmd_rlsub, AUTHED),
    CMD("GETMETADATA", cmd_getmetadata, AUTHED),
    CMD("SETMETADATA", cmd_setmetadata, AUTHED),
    CMD("SUBSCRIBE", cmd_subscribe, AUTHED),
    CMD("UNSUBSCRIBE", cmd_unsubscribe, AUTHED),
    CMD("GETACL", cmd_getacl, AUTHED),
    CMD("SETACL", cmd_setacl, AUTHED),
    CMD("DELETEACL", cmd_deleteacl, AUTHED),
    CMD("LISTRIGHTS", cmd_listrights, AUTHED),
    CMD("MYRIGHTS", cmd_myrights, AUTHED),
    CMD("GETQUOTA", cmd_getquota, AUTHED),
    CMD("GETQUOTAROOT", cmd_getquotaroot, AUTHED),
    CMD("SETQUOTA", cmd_setquota, AUTHED),
    CMD("CLOSE", cmd_close, SELECTED),
    CMD("UNSELECT", cmd_unselect, SELECTED),
    CMD("CHECK", cmd_check, SELECTED),
    CMD("APPEND", cmd_append, AUTHED),
    CMD("LOCALAPPEND", cmd_localappend, AUTHED),
    CMD("IDLE", cmd_idle, AUTHED),
    VCMD("FETCH", cmd_fetch, SELECTED, 0),
    VCMD("STORE", cmd_store, SELECTED, 0),
    VCMD("SEARCH", cmd_search, SELECTED, 0),
    VCMD("SORT", cmd_search, SELECTED, SORT),
    VCMD("EXPUNGE", cmd_expunge, SELECTED, 0),
    VCMD("COPY", cmd_copy, SELECTED, 0),
    VCMD("MOVE", cmd_copy, SELECTED, MOVE),
    VCMD("UID FETCH", cmd_fetch, SELECTED, UID),
    VCMD("UID STORE", cmd_store, SELECTED, UID),
    VCMD("UID SEARCH", cmd_search, SELECTED, UID),
    VCMD("UID SORT", cmd_search, SELECTED, UID | SORT),
    VCMD("THREAD", cmd_thread, SELECTED, 0),
    VCMD("UID THREAD", cmd_thread, SELECTED, UID),
    VCMD("UID EXPUNGE", cmd_expunge, SELECTED, UID),
    VCMD("UID COPY", cmd_copy, SELECTED, UID),
    VCMD("UID MOVE", cmd_copy, SELECTED, UID | MOVE),
    CMD("COMPRESS", cmd_compress, AUTHED),
    CMD("XFER", cmd_xfer, AUTHED),
    CMD("LOCALCREATE", cmd_localcreate, AUTHED),
    CMD("LOCALDELETE", cmd_localdelete, AUTHED),
    CMD("XAPPEND", cmd_xappend, AUTHED),
    CMD("MUPDATEPUSH", cmd_mupdatepush, AUTHED),
    CMD("LOCALSUBSCRIBE", cmd_localsubscribe, AUTHED),
    CMD("LOCALSEEN", cmd_localseen, AUTHED),
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
