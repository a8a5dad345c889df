/* echotest.c: a tiny service on lib/service for master's tests.
 *
 *   echotest [-x WORD] [-e MSG]
 *
 * Greets "* OK echotest <pid> <service-name>", then echoes every line back
 * until a line "QUIT" (answered "* BYE"). With -x WORD the process aborts
 * when a client sends the line WORD (for crash/restart tests); with -e MSG
 * init() refuses to start with MSG. A line "PID" answers the process id,
 * "USES" the number of this connection in the process, "ADDR" the local
 * and remote addresses. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "service.h"
#include "util.h"

/* The per-process context (STYLE.md rule 7). */
static struct {
    char *crash_word;
} echotest;

static int
echotest_init(int argc, char **argv, char **err)
{
    int i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-x") == 0 && i + 1 < argc) {
            echotest.crash_word = argv[++i];
        } else if (strcmp(argv[i], "-e") == 0 && i + 1 < argc) {
            *err = argv[++i];
            return -1;
        } else {
            *err = "usage: echotest [-x WORD] [-e MSG]";
            return -1;
        }
    }
    return 0;
}

static int
echotest_send(int fd, struct buf *out)
{
    int r = util_write_all(fd, buf_base(out), buf_len(out));

    buf_reset(out);
    return r;
}

static void
echotest_connection(int fd, const struct service_conn *info)
{
    struct buf in = BUF_INITIALIZER, out = BUF_INITIALIZER;
    char chunk[1024];

    buf_printf(&out, "* OK echotest %d %s\r\n", (int)getpid(), info->service);
    if (echotest_send(fd, &out) < 0)
        goto done;
    for (;;) {
        const char *nl = memchr(buf_base(&in), '\n', buf_len(&in));
        ssize_t n;
        size_t len;

        if (nl == NULL) {
            n = read(fd, chunk, sizeof(chunk));
            if (n <= 0)
                break;
            buf_appendmap(&in, chunk, (size_t)n);
            continue;
        }
        len = (size_t)(nl - buf_base(&in));
        if (len > 0 && buf_base(&in)[len - 1] == '\r')
            len--;
        if (echotest.crash_word
            && util_memcaseeq(buf_base(&in), len, echotest.crash_word)) {
            log_msg(LOG_NOTICE, "crashing on request");
            abort();
        }
        if (util_memcaseeq(buf_base(&in), len, "QUIT")) {
            buf_appendcstr(&out, "* BYE\r\n");
            echotest_send(fd, &out);
            break;
        } else if (util_memcaseeq(buf_base(&in), len, "PID")) {
            buf_printf(&out, "%d\r\n", (int)getpid());
        } else if (util_memcaseeq(buf_base(&in), len, "USES")) {
            buf_printf(&out, "%u\r\n", info->use);
        } else if (util_memcaseeq(buf_base(&in), len, "ADDR")) {
            buf_printf(&out, "%s %s %s\r\n", info->local[0] ? info->local : "-",
                       info->remote[0] ? info->remote : "-",
                       info->is_unix ? "unix" : "inet");
        } else {
            buf_appendmap(&out, buf_base(&in), len);
            buf_appendcstr(&out, "\r\n");
        }
        buf_remove(&in, 0, (size_t)(nl - buf_base(&in)) + 1);
        if (echotest_send(fd, &out) < 0)
            break;
    }
done:
    buf_free(&in);
    buf_free(&out);
}

static const struct service_ops echotest_ops = {
    .name = "echotest",
    .init = echotest_init,
    .connection = echotest_connection,
};

int
main(int argc, char **argv)
{
    return service_main(argc, argv, &echotest_ops);
}
