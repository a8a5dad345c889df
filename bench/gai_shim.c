/* gai_shim.c: LD_PRELOAD getaddrinfo() override for running a Cyrus murder
 * on one host.
 *
 * Cyrus stores a mailbox's location as "server!partition" and reaches that
 * backend with getaddrinfo(server, "imap" | "pop3" | "lmtp"), i.e. one host
 * per backend on standard ports.  This shim maps chosen (host, service)
 * pairs to 127.0.0.1:port so that every node can listen on its own loopback
 * ports instead.
 *
 * The map comes from the environment variable GAI_SHIM_MAP, read at every
 * call (no state, no globals):
 *
 *     GAI_SHIM_MAP="backend1/imap=11143,backend1/pop3=11110,backend2/imap=..."
 *
 * A service may be named ("imap") or numeric ("143"); host names compare
 * case-insensitively.  A lookup that matches is answered by the real
 * getaddrinfo("127.0.0.1", "<port>", hints, res), so the result is a normal
 * freeaddrinfo()-able list.  Anything else goes to the real getaddrinfo()
 * unchanged.
 *
 * Built by bench/cyruspeer.py: cc -shared -fPIC -O2 -o gai_shim.so gai_shim.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef int (*gai_fn)(const char *, const char *, const struct addrinfo *,
                      struct addrinfo **);

int getaddrinfo(const char *node, const char *service,
                const struct addrinfo *hints, struct addrinfo **res);

/* Does the entry "host/service=port" (length len) match (node, service)?
 * On a match, copy the port text into port_r (NUL-terminated) and return 1. */
static int shim_match(const char *ent, size_t len, const char *node,
                      const char *service, char *port_r, size_t port_size)
{
    const char *slash = memchr(ent, '/', len);
    const char *eq = memchr(ent, '=', len);
    size_t hlen, slen, plen;

    if (!slash || !eq || eq < slash)
        return 0;
    hlen = (size_t)(slash - ent);
    slen = (size_t)(eq - slash - 1);
    plen = len - (size_t)(eq - ent) - 1;
    if (hlen != strlen(node) || strncasecmp(ent, node, hlen) != 0)
        return 0;
    if (slen != strlen(service) || strncmp(slash + 1, service, slen) != 0)
        return 0;
    if (plen == 0 || plen >= port_size)
        return 0;
    memcpy(port_r, eq + 1, plen);
    port_r[plen] = '\0';
    return 1;
}

int getaddrinfo(const char *node, const char *service,
                const struct addrinfo *hints, struct addrinfo **res)
{
    gai_fn real = (gai_fn)dlsym(RTLD_NEXT, "getaddrinfo");
    const char *map = getenv("GAI_SHIM_MAP");
    char port[16];

    if (!real)
        return EAI_SYSTEM;
    if (map && node && service) {
        const char *p = map;
        while (*p) {
            const char *end = strchr(p, ',');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            if (shim_match(p, len, node, service, port, sizeof(port)))
                return real("127.0.0.1", port, hints, res);
            if (!end)
                break;
            p = end + 1;
        }
    }
    return real(node, service, hints, res);
}
