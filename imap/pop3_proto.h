/* pop3_proto.h: POP3 command syntax and message output (RFC 1939, RFC
 * 2449, RFC 5034), without I/O.
 *
 * Used by pop3d; pure functions over (pointer, length) spans that keep no
 * pointer past the call, fuzzed by cunit/fuzz/pop3_proto_fuzz.c. */
#ifndef POP3_PROTO_H
#define POP3_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* RFC 2449 4: a command line is at most 255 octets with its CRLF. */
#define POP3_MAX_LINE 255
/* RFC 1939 3 / RFC 2449 4: each argument is at most 40 octets, except
 * AUTH initial responses (RFC 5034 4: up to 255 octets per line). */
#define POP3_MAX_ARG 40

enum pop3_verb {
    POP3_UNKNOWN = 0,
    POP3_USER,
    POP3_PASS,
    POP3_APOP,
    POP3_AUTH,
    POP3_CAPA,
    POP3_STLS,
    POP3_QUIT,
    POP3_NOOP,
    POP3_STAT,
    POP3_LIST,
    POP3_RETR,
    POP3_DELE,
    POP3_RSET,
    POP3_TOP,
    POP3_UIDL
};

struct pop3_command {
    enum pop3_verb verb;
    /* up to two arguments separated by single spaces (spans into the
     * parsed line) */
    const char *arg[2];
    size_t arglen[2];
    int nargs;
    /* everything after the verb and one space: PASS takes its password
     * from here since passwords may contain spaces */
    const char *rest;
    size_t restlen;
};

/* Parse line[0..len) (no CRLF). The verb is ASCII case-insensitive.
 * Returns 0 and fills *cmd_r (verb POP3_UNKNOWN for an unknown verb);
 * ERR_SYNTAX when the verb is followed by something other than a space,
 * when there are more than two arguments (except PASS), or when an
 * argument is empty or longer than POP3_MAX_ARG (AUTH's second argument
 * excepted); then *error_r is a static text for "-ERR". */
int pop3_command_parse(const char *line, size_t len, struct pop3_command *cmd_r,
                       const char **error_r);
/* The verb's name for logs, "?" for POP3_UNKNOWN. */
const char *pop3_verb_name(enum pop3_verb verb);

/* A message number or line count: decimal digits only, no sign, 1 <= n
 * <= max (min 0 when allow_zero). Returns 0 and *n_r, or ERR_SYNTAX. */
int pop3_parse_number(const char *p, size_t len, uint32_t max, int allow_zero,
                      uint32_t *n_r);

/* The Cyrus-style unique id "<uidvalidity>.<uid>" (uidl_format cyrus),
 * stable across sessions. Replaces the contents of out. */
void pop3_uidl(uint32_t uidvalidity, uint32_t uid, struct buf *out);

/* Append msg[0..len) to out as a multi-line response body: lines byte-
 * stuffed (RFC 1939 3), every line ending sent as CRLF, a CRLF added after
 * a last line without one, then ".\r\n". With toplines >= 0 (TOP), only
 * the header, the blank line after it and the first toplines lines of the
 * body are sent. */
void pop3_stuff_message(const char *msg, size_t len, long toplines,
                        struct buf *out);

#endif
