/* cyradm: the Cyrus admin shell, in C.
 *
 *   cyradm [--user U] [--authz Z] [--password P | --passfile F]
 *          [--auth MECH] [--port N] [--tls | --starttls] [--cafile F]
 *          [--insecure] host[:port]
 *
 * Commands come from a terminal (libedit line editing and history) or,
 * when stdin is not a terminal, one per line from stdin (script mode: the
 * exit status is 1 when any command failed). The commands are in
 * cyradm_cmds.c. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <termios.h>
#include <unistd.h>

#include <editline/readline.h>

#include "buf.h"
#include "cyradm.h"
#include "errors.h"
#include "log.h"
#include "saslglue.h"
#include "tls.h"
#include "toolutil.h"
#include "xmalloc.h"

static const char usage_text[] =
    "usage: cyradm [options] host[:port]\n"
    "\n"
    "The Cyrus administration shell: create, delete and rename mailboxes,\n"
    "set ACLs and quotas, against a backend or a murder frontend.\n"
    "\n"
    "  -u, --user USER      authenticate as USER (default: $USER)\n"
    "      --authz ID       act as ID (SASL authorization id)\n"
    "  -w, --password PW    the password (visible to ps: prefer --passfile)\n"
    "      --passfile FILE  read the password from the first line of FILE\n"
    "      --auth MECH      SASL mechanism(s), space-separated, or 'login'\n"
    "                       for the LOGIN command (default: any offered)\n"
    "  -p, --port PORT      port (default 143, 993 with --tls)\n"
    "      --tls            TLS from the start (imaps)\n"
    "      --starttls       STARTTLS before authenticating\n"
    "      --cafile FILE    trust the CAs in FILE to verify the server\n"
    "      --insecure       do not verify the server's certificate\n"
    "  -h, --help           show this text\n"
    "\n"
    "Commands are read from stdin when it is not a terminal; the exit\n"
    "status is then 1 if any command failed. Type 'help' for commands.\n";

/* Read a password from the terminal without echo. NULL if there is no
 * terminal. Caller frees. */
static char *
prompt_password(const char *user, const char *host)
{
    struct termios old, quiet;
    struct buf pw = BUF_INITIALIZER;
    FILE *tty = fopen("/dev/tty", "r+");
    int c;

    if (tty == NULL)
        return NULL;
    fprintf(tty, "Password for %s@%s: ", user, host);
    fflush(tty);
    tcgetattr(fileno(tty), &old);
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
    while ((c = fgetc(tty)) != EOF && c != '\n')
        buf_putc(&pw, (char)c);
    tcsetattr(fileno(tty), TCSAFLUSH, &old);
    fputc('\n', tty);
    fclose(tty);
    return buf_release(&pw) ?: xstrdup("");
}

int
cyradm_connect(struct cyradm *a, const char *host, const char *port,
               struct imapclient **c_r)
{
    struct cyradm_login *l = &a->login;
    struct imapclient *c = NULL;
    char *err = NULL, *hostcopy = xstrdup(host), *colon;
    int r;

    /* "host:port" (not an IPv6 literal) */
    colon = strrchr(hostcopy, ':');
    if (port == NULL && colon && strchr(hostcopy, ':') == colon) {
        *colon = '\0';
        port = colon + 1;
    }
    if (port == NULL)
        port = l->port;
    r = imapclient_connect(hostcopy, port, l->implicit_tls ? l->tls : NULL,
                           &c, &err);
    if (r < 0) {
        fprintf(a->err, "cyradm: cannot connect to %s: %s\n", host,
                err ? err : error_text(r));
        free(err);
        goto done;
    }
    if (l->starttls) {
        r = imapclient_starttls(c, l->tls, hostcopy);
        if (r < 0) {
            fprintf(a->err, "cyradm: %s: %s\n", host, imapclient_error(c));
            goto done;
        }
    }
    if (l->mech && util_strcasecmp(l->mech, "login") == 0)
        r = imapclient_login(c, l->user, l->password);
    else
        r = imapclient_authenticate(c, l->mech, l->user, l->authz,
                                    l->password);
    if (r == ERR_NOTSUPPORTED && l->mech == NULL
        && !imapclient_has_cap(c, "LOGINDISABLED"))
        r = imapclient_login(c, l->user, l->password);
    if (r < 0)
        fprintf(a->err, "cyradm: cannot authenticate to %s: %s\n", host,
                imapclient_error(c));
done:
    free(hostcopy);
    if (r < 0) {
        imapclient_free(&c);
        return -1;
    }
    *c_r = c;
    return 0;
}

/* One command line: split, run. 0, -1 (failed), 1 (quit). */
static int
run_line(struct cyradm *a, const char *line)
{
    struct strarray words = {0};
    int r;

    while (*line == ' ' || *line == '\t')
        line++;
    if (*line == '#' || *line == '\0')
        return 0;
    if (cyradm_split(line, &words) < 0) {
        fprintf(a->err, "cyradm: unterminated quote\n");
        strarray_fini(&words);
        return -1;
    }
    r = cyradm_cmds_run(a, (int)words.count, words.data);
    fflush(a->out);
    strarray_fini(&words);
    return r;
}

static int
script_loop(struct cyradm *a)
{
    struct buf line = BUF_INITIALIZER;
    int c, failed = 0, r = 0;

    while (r != 1) {
        buf_reset(&line);
        while ((c = getchar()) != EOF && c != '\n')
            buf_putc(&line, (char)c);
        if (c == EOF && buf_len(&line) == 0)
            break;
        r = run_line(a, buf_cstring(&line));
        if (r < 0)
            failed = 1;
    }
    buf_free(&line);
    return failed ? 1 : 0;
}

static char *
history_path(void)
{
    const char *home = getenv("HOME");
    struct buf p = BUF_INITIALIZER;

    if (home == NULL || *home == '\0')
        return NULL;
    buf_printf(&p, "%s/.cyradm_history", home);
    return buf_release(&p);
}

/* Completion of the first word: command names and aliases. */
static char *
command_generator(const char *text, int state)
{
    static size_t idx;
    const char *const *names = cyradm_command_names();
    size_t len = strlen(text);

    if (state == 0)
        idx = 0;
    while (names[idx]) {
        const char *n = names[idx++];

        if (strncmp(n, text, len) == 0)
            return xstrdup(n);
    }
    return NULL;
}

static char **
complete(const char *text, int start, int end)
{
    (void)end;
    if (start != 0)
        return NULL;
    return rl_completion_matches(text, command_generator);
}

static int
interactive_loop(struct cyradm *a)
{
    struct buf prompt = BUF_INITIALIZER;
    char *hist = history_path(), *line;
    int r = 0;

    rl_readline_name = "cyradm";
    rl_attempted_completion_function = complete;
    using_history();
    if (hist)
        read_history(hist);
    buf_printf(&prompt, "%s> ", a->host);
    while (r != 1 && (line = readline(buf_cstring(&prompt))) != NULL) {
        if (*line)
            add_history(line);
        r = run_line(a, line);
        free(line);
    }
    if (r != 1)
        fputc('\n', a->out);
    if (hist)
        write_history(hist);
    free(hist);
    buf_free(&prompt);
    return 0;
}

static char *
read_passfile(const char *path)
{
    struct buf b = BUF_INITIALIZER;

    if (buf_load_file(&b, path) < 0) {
        fprintf(stderr, "cyradm: cannot read %s: %s\n", path, strerror(errno));
        buf_free(&b);
        return NULL;
    }
    buf_truncate(&b, strcspn(buf_cstring(&b), "\r\n"));
    return buf_release(&b) ?: xstrdup("");
}

int
main(int argc, char **argv)
{
    enum {
        OPT_AUTHZ = 256,
        OPT_PASSFILE,
        OPT_AUTH,
        OPT_TLS,
        OPT_STARTTLS,
        OPT_CAFILE,
        OPT_INSECURE
    };
    static const struct option longopts[] = {
        {"user",     required_argument, NULL, 'u'         },
        {"authz",    required_argument, NULL, OPT_AUTHZ   },
        {"password", required_argument, NULL, 'w'         },
        {"passfile", required_argument, NULL, OPT_PASSFILE},
        {"auth",     required_argument, NULL, OPT_AUTH    },
        {"port",     required_argument, NULL, 'p'         },
        {"tls",      no_argument,       NULL, OPT_TLS     },
        {"starttls", no_argument,       NULL, OPT_STARTTLS},
        {"cafile",   required_argument, NULL, OPT_CAFILE  },
        {"insecure", no_argument,       NULL, OPT_INSECURE},
        {"help",     no_argument,       NULL, 'h'         },
        {NULL,       0,                 NULL, 0           },
    };
    struct toolutil tu;
    struct cyradm a;
    struct tls_config tlscfg;
    char *password = NULL, *tlserr = NULL;
    const char *passfile = NULL;
    int opt, insecure = 0, r;

    memset(&a, 0, sizeof(a));
    memset(&tlscfg, 0, sizeof(tlscfg));
    a.out = stdout;
    a.err = stderr;
    toolutil_init(&tu, "cyradm", usage_text);
    while ((opt = toolutil_getopt(&tu, argc, argv, "u:w:p:h", longopts))
           != -1) {
        switch (opt) {
        case 'u':
            a.login.user = optarg;
            break;
        case OPT_AUTHZ:
            a.login.authz = optarg;
            break;
        case 'w':
            a.login.password = optarg;
            break;
        case OPT_PASSFILE:
            passfile = optarg;
            break;
        case OPT_AUTH:
            a.login.mech = optarg;
            break;
        case 'p':
            a.login.port = optarg;
            break;
        case OPT_TLS:
            a.login.implicit_tls = 1;
            break;
        case OPT_STARTTLS:
            a.login.starttls = 1;
            break;
        case OPT_CAFILE:
            tlscfg.ca_file = optarg;
            break;
        case OPT_INSECURE:
            insecure = 1;
            break;
        }
    }
    if (optind != argc - 1)
        toolutil_usage_error(&tu, optind >= argc ? "no host given"
                                                 : "too many arguments");
    if (a.login.implicit_tls && a.login.starttls)
        toolutil_usage_error(&tu, "give only one of --tls, --starttls");
    a.host = argv[optind];
    if (a.login.user == NULL)
        a.login.user = getenv("USER");
    if (a.login.user == NULL) {
        fprintf(stderr, "cyradm: no user: give --user\n");
        return EX_USAGE;
    }
    if (passfile) {
        password = read_passfile(passfile);
        if (password == NULL)
            return EX_NOINPUT;
        a.login.password = password;
    } else if (a.login.password == NULL) {
        password = prompt_password(a.login.user, a.host);
        if (password == NULL) {
            fprintf(stderr, "cyradm: no terminal to ask for the password: "
                            "give --password or --passfile\n");
            return EX_USAGE;
        }
        a.login.password = password;
    }
    if (a.login.implicit_tls || a.login.starttls) {
        tlscfg.verify = insecure ? TLS_VERIFY_NONE : TLS_VERIFY_REQUIRE;
        if (tls_ctx_new(TLS_ROLE_CLIENT, &tlscfg, &a.login.tls, &tlserr) < 0) {
            fprintf(stderr, "cyradm: TLS: %s\n", tlserr ? tlserr : "");
            free(tlserr);
            return EX_CONFIG;
        }
    }
    if (saslglue_client_init() < 0) {
        fprintf(stderr, "cyradm: cannot initialise SASL\n");
        return EX_SOFTWARE;
    }
    if (cyradm_connect(&a, a.host, NULL, &a.conn) < 0) {
        r = EX_UNAVAILABLE;
    } else if (isatty(STDIN_FILENO)) {
        r = interactive_loop(&a);
    } else {
        r = script_loop(&a);
    }
    imapclient_logout(&a.conn);
    tls_ctx_free(&a.login.tls);
    if (password) {
        memset(password, 0, strlen(password));
        free(password);
    }
    return r;
}
