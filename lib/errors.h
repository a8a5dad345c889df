/* errors.h: the project-wide error codes (STYLE.md rule 6).
 *
 * Functions return 0 on success or a negative ERR_* code. Each code has an
 * IMAP response code (may be empty) and a default human text. */
#ifndef ERRORS_H
#define ERRORS_H

/* X(name, imap response code, default text) */
#define ERROR_TABLE(X)                                                       \
    X(ERR_GENERIC, "", "Internal error")                                     \
    X(ERR_IO, "SERVERBUG", "System I/O error")                               \
    X(ERR_NOMEM, "SERVERBUG", "Out of memory")                               \
    X(ERR_NOMAILBOX, "NONEXISTENT", "Mailbox does not exist")                \
    X(ERR_EXISTS, "ALREADYEXISTS", "Mailbox already exists")                 \
    X(ERR_PERMISSION, "NOPERM", "Permission denied")                         \
    X(ERR_UNAVAILABLE, "UNAVAILABLE",                                        \
      "Server(s) unavailable to complete operation")                         \
    X(ERR_BADNAME, "CANNOT", "Invalid mailbox name")                         \
    X(ERR_QUOTA, "OVERQUOTA", "Over quota")                                  \
    X(ERR_TOOBIG, "TOOBIG", "Message too large")                             \
    X(ERR_LOCKED, "INUSE", "Mailbox is locked")                              \
    X(ERR_RESERVED, "INUSE", "Mailbox is currently reserved")                \
    X(ERR_MOVED, "UNAVAILABLE", "Mailbox has been moved to another server")  \
    X(ERR_NOTSUPPORTED, "CANNOT", "Operation is not supported on mailbox")   \
    X(ERR_PROTOCOL, "", "Bad protocol")                                      \
    X(ERR_SYNTAX, "", "Syntax error")                                        \
    X(ERR_NOTFOUND, "NONEXISTENT", "Not found")                              \
    X(ERR_AGAIN, "UNAVAILABLE", "Resource temporarily unavailable")          \
    X(ERR_TIMEOUT, "UNAVAILABLE", "Timed out")                               \
    X(ERR_EOF, "", "Connection closed")                                      \
    X(ERR_TOOLONG, "TOOBIG", "Line or literal too long")                     \
    X(ERR_AUTH, "AUTHENTICATIONFAILED", "Authentication failed")             \
    X(ERR_BADMSG, "PARSE", "Message contains invalid header or body")        \
    X(ERR_NOUSER, "NONEXISTENT", "User does not exist")                      \
    X(ERR_MUPDATE_NOCONN, "UNAVAILABLE", "no connection to server")          \
    X(ERR_MUPDATE_RESERVE, "", "unable to reserve mailbox on mupdate server") \
    X(ERR_MUPDATE_FAIL, "", "mupdate operation failed")                      \
    X(ERR_INVALID, "", "Invalid argument")                                   \
    X(ERR_CONFLICT, "", "Conflicting change")                                \
    X(ERR_BADCHARSET, "BADCHARSET", "Unknown charset")                      \
    X(ERR_UNKNOWNCTE, "UNKNOWN-CTE", "Unknown content-transfer-encoding")   \
    X(ERR_LIMIT, "LIMIT", "Too many user flags in mailbox")

enum error_code {
    ERR_OK = 0,
#define ERROR_ENUM(name, code, text) name##_POS,
    ERR__FIRST_POS = 0,
    ERROR_TABLE(ERROR_ENUM) ERR__COUNT_POS
#undef ERROR_ENUM
};

/* The negative codes callers use: ERR_NOMAILBOX == -ERR_NOMAILBOX_POS. */
enum error_value {
#define ERROR_DEFINE(name, code, text) name = -name##_POS,
    ERROR_TABLE(ERROR_DEFINE) ERR__LAST = -ERR__COUNT_POS
#undef ERROR_DEFINE
};

/* Default text for a (negative) error code; never NULL. */
const char *error_text(int err);
/* IMAP response code ("NONEXISTENT", ...) or "" if none. */
const char *error_imap_code(int err);
/* Symbolic name, for logs and tests ("ERR_NOMAILBOX"). */
const char *error_name(int err);

#endif
