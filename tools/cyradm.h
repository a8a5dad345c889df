/* cyradm.h: the cyradm admin shell, shared between its files.
 *
 * cyradm.c    options, connecting and authenticating, the read loop
 *             (interactive with libedit, or a script on stdin)
 * cyradm_cmds.c  the commands (Cyrus's names and aliases), each one IMAP
 *             exchange or a few, following referrals */
#ifndef CYRADM_H
#define CYRADM_H

#include <stdio.h>

#include "imapclient.h"
#include "strarray.h"

struct tls_ctx;

/* How to reach and authenticate to a server (also used for referrals). */
struct cyradm_login {
    const char *user;     /* authentication id; NULL: $USER */
    const char *authz;    /* authorization id or NULL */
    const char *password; /* NULL: prompt (interactive) */
    const char *mech;     /* "login", a SASL mechanism list, or NULL: any */
    const char *port;     /* NULL: 143 (993 with --tls) */
    int starttls;
    struct tls_ctx *tls;  /* client context for --tls/--starttls, or NULL */
    int implicit_tls;
};

/* The session: one per process, created in main() and passed down. */
struct cyradm {
    struct imapclient *conn; /* NULL when not connected */
    struct cyradm_login login;
    char *host;
    FILE *out;
    FILE *err;
};

/* Connect to host (host[:port] allowed when port is NULL) and log in with
 * a->login. 0 and *c_r, or -1 after printing why to a->err. */
int cyradm_connect(struct cyradm *a, const char *host, const char *port,
                   struct imapclient **c_r);

/* Run the command line argv[0..argc) (argv[0] is the command name or an
 * alias). 0 on success, -1 after printing an error to a->err, 1 when the
 * command was quit/exit. */
int cyradm_cmds_run(struct cyradm *a, int argc, char **argv);

/* Split a command line into words: blanks separate, '...' and "..."
 * quote, a backslash escapes the next byte. Appends to words. 0, or -1
 * for an unterminated quote. */
int cyradm_split(const char *line, struct strarray *words);

/* Print the command list (no name) or one command's usage. 0 or -1 for
 * an unknown command. */
int cyradm_help(struct cyradm *a, const char *name);

/* Names of every command and alias, for completion. */
const char *const *cyradm_command_names(void);

#endif
