/* listen.c: parse and bind cyrus.conf listen addresses. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf.h"
#include "errors.h"
#include "listen.h"
#include "log.h"
#include "xmalloc.h"

static int
listen_port_ok(const char *p, size_t len)
{
    uint64_t v;
    size_t i;

    if (len == 0 || len > 64)
        return 0;
    if (p[0] >= '0' && p[0] <= '9')
        return util_parse_u64(p, len, 65535, &v) == 0 && v > 0;
    for (i = 0; i < len; i++) {
        char c = p[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return 1;
}

static int
listen_host_ok(const char *p, size_t len, int bracketed)
{
    size_t i;

    if (len == 0 || len > 255)
        return 0;
    for (i = 0; i < len; i++) {
        char c = p[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_')
            continue;
        if (bracketed && (c == ':' || c == '%'))
            continue;
        return 0;
    }
    return 1;
}

int
listen_parse(const char *listen, struct listen_spec *spec_r,
             const char **error_r)
{
    const char *colon, *host = NULL, *port;
    size_t hostlen = 0;
    int bracketed = 0;

    memset(spec_r, 0, sizeof(*spec_r));
    if (listen == NULL || *listen == '\0') {
        *error_r = "empty listen address";
        return ERR_SYNTAX;
    }
    if (listen[0] == '/') {
        if (strlen(listen) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
            *error_r = "UNIX socket path too long";
            return ERR_SYNTAX;
        }
        spec_r->path = xstrdup(listen);
        return 0;
    }
    if (listen[0] == '[') {
        const char *close = strchr(listen, ']');

        if (close == NULL || close[1] != ':') {
            *error_r = "expected [address]:port";
            return ERR_SYNTAX;
        }
        host = listen + 1;
        hostlen = (size_t)(close - host);
        port = close + 2;
        bracketed = 1;
    } else if ((colon = strrchr(listen, ':')) != NULL) {
        if (memchr(listen, ':', (size_t)(colon - listen)) != NULL) {
            *error_r = "an IPv6 address must be written [address]:port";
            return ERR_SYNTAX;
        }
        host = listen;
        hostlen = (size_t)(colon - listen);
        port = colon + 1;
    } else {
        port = listen;
    }
    if (host && !(hostlen == 1 && host[0] == '*' && !bracketed)
        && !listen_host_ok(host, hostlen, bracketed)) {
        *error_r = "bad host name or address";
        return ERR_SYNTAX;
    }
    if (!listen_port_ok(port, strlen(port))) {
        *error_r = "bad port (a number 1-65535 or a service name)";
        return ERR_SYNTAX;
    }
    if (host && !(hostlen == 1 && host[0] == '*'))
        spec_r->host = xstrndup(host, hostlen);
    spec_r->port = xstrdup(port);
    return 0;
}

void
listen_spec_fini(struct listen_spec *spec)
{
    free(spec->path);
    free(spec->host);
    free(spec->port);
    memset(spec, 0, sizeof(*spec));
}

int
listen_proto_ok(const char *proto)
{
    return strcmp(proto, "tcp") == 0 || strcmp(proto, "tcp4") == 0
           || strcmp(proto, "tcp6") == 0;
}

static void
listen_push(int **fds_r, size_t *nfds_r, int fd)
{
    *fds_r = xreallocarray(*fds_r, *nfds_r + 1, sizeof(int));
    (*fds_r)[(*nfds_r)++] = fd;
}

static int
listen_bind_unix(const char *path, int **fds_r, size_t *nfds_r, char **error_r)
{
    struct sockaddr_un sun;
    struct stat st;
    struct buf err = BUF_INITIALIZER;
    int fd;

    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            buf_printf(&err, "%s exists and is not a socket", path);
            *error_r = buf_release(&err);
            return ERR_IO;
        }
        unlink(path);
    }
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0
        || chmod(path, 0777) < 0 || listen(fd, SOMAXCONN) < 0) {
        buf_printf(&err, "cannot listen on %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        *error_r = buf_release(&err);
        return ERR_IO;
    }
    listen_push(fds_r, nfds_r, fd);
    return 1;
}

/* Errors that only say this host lacks the address family or address. */
static int
listen_skippable(int err)
{
    return err == EAFNOSUPPORT || err == EADDRNOTAVAIL
           || err == EPROTONOSUPPORT;
}

int
listen_bind(const struct listen_spec *spec, const char *proto, int **fds_r,
            size_t *nfds_r, char **error_r)
{
    struct addrinfo hints, *res = NULL, *ai;
    struct buf err = BUF_INITIALIZER;
    size_t first = *nfds_r;
    int r, bound = 0, fatal_err = 0;

    *error_r = NULL;
    if (spec->path)
        return listen_bind_unix(spec->path, fds_r, nfds_r, error_r);
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = strcmp(proto, "tcp4") == 0   ? AF_INET
                      : strcmp(proto, "tcp6") == 0 ? AF_INET6
                                                   : AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    r = getaddrinfo(spec->host, spec->port, &hints, &res);
    if (r != 0) {
        buf_printf(&err, "cannot resolve %s%s%s: %s",
                   spec->host ? spec->host : "", spec->host ? ":" : "",
                   spec->port, gai_strerror(r));
        *error_r = buf_release(&err);
        return ERR_IO;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        int fd, on = 1, e = 0;

        fd = socket(ai->ai_family,
                    ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                    ai->ai_protocol);
        if (fd < 0) {
            e = errno;
        } else {
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
            if (ai->ai_family == AF_INET6)
                setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
            if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0
                || listen(fd, SOMAXCONN) < 0)
                e = errno;
        }
        if (e == 0) {
            listen_push(fds_r, nfds_r, fd);
            bound++;
            continue;
        }
        if (fd >= 0)
            close(fd);
        if (!listen_skippable(e))
            fatal_err = 1;
        buf_reset(&err);
        buf_printf(&err, "cannot listen on %s%s%s (%s): %s",
                   spec->host ? spec->host : "*", ":", spec->port,
                   ai->ai_family == AF_INET6 ? "IPv6" : "IPv4", strerror(e));
        if (!fatal_err)
            log_msg(LOG_NOTICE, "%s; skipped", buf_cstring(&err));
        else
            break;
    }
    freeaddrinfo(res);
    if (fatal_err || bound == 0) {
        while (*nfds_r > first)
            close((*fds_r)[--*nfds_r]);
        if (buf_len(&err) == 0)
            buf_printf(&err, "no address to listen on for %s", spec->port);
        *error_r = buf_release(&err);
        return ERR_IO;
    }
    buf_free(&err);
    return bound;
}
