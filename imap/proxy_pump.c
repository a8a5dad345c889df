/* proxy_pump.c: the symmetric byte relay of proxy_pump.h. */
#include <errno.h>
#include <poll.h>
#include <stddef.h>

#include "errors.h"
#include "proxy_pump.h"
#include "stream.h"

#define PUMP_CHUNK 16384

/* Move what src has (one read) to dst. 1 when bytes moved, 0 when none
 * were ready, or the error of src (ERR_EOF when it closed). */
static int
move(struct stream *src, struct stream *dst)
{
    char chunk[PUMP_CHUNK];
    ssize_t n;

    if (stream_out_pending(dst) > PROXY_PUMP_HIGHWATER)
        return 0;
    n = stream_read(src, chunk, sizeof(chunk));
    if (n < 0)
        return (int)n;
    if (n == 0)
        return 0;
    stream_write(dst, chunk, (size_t)n);
    return 1;
}

/* Deliver what is queued for s, waiting at most idle_ms. */
static void
drain(struct stream *s, int idle_ms)
{
    stream_set_nonblocking(s, 0);
    stream_set_timeout(s, idle_ms);
    stream_flush(s);
}

/* The poll() entries for s: its input fd with POLLIN unless paused, its
 * output fd with POLLOUT when output waits. Returns the entries used. */
static int
setup_poll(struct stream *s, int want_in, struct pollfd *p)
{
    short ev = stream_poll_events(s);
    int n = 0;

    if (!want_in)
        ev = (short)(ev & ~POLLIN);
    if (stream_fd(s) == stream_out_fd(s)) {
        p[0].fd = stream_fd(s);
        p[0].events = ev;
        p[0].revents = 0;
        return 1;
    }
    p[n].fd = stream_fd(s);
    p[n].events = (short)(ev & POLLIN);
    p[n++].revents = 0;
    p[n].fd = stream_out_fd(s);
    p[n].events = (short)(ev & POLLOUT);
    p[n++].revents = 0;
    return n;
}

int
proxy_pump(struct stream *a, struct stream *b, int idle_ms)
{
    struct stream *side[2] = {a, b};
    int i;

    stream_set_nonblocking(a, 1);
    stream_set_nonblocking(b, 1);
    for (;;) {
        struct pollfd pfd[4];
        /* busy: something moved, so more may be buffered; go round again
         * before sleeping (a partial TLS record held by a layer is not
         * "busy": poll() says when the rest arrives) */
        int npfd = 0, busy = 0, r;

        for (i = 0; i < 2; i++) {
            struct stream *src = side[i], *dst = side[1 - i];

            r = move(src, dst);
            if (r < 0) {
                drain(dst, idle_ms);
                return r == ERR_EOF ? i : r;
            }
            busy |= r;
        }
        for (i = 0; i < 2; i++) {
            r = stream_flush(side[i]);
            if (r < 0)
                return r;
        }
        for (i = 0; i < 2; i++) {
            struct stream *src = side[i], *dst = side[1 - i];
            int paused = stream_out_pending(dst) > PROXY_PUMP_HIGHWATER;

            npfd += setup_poll(src, !paused, pfd + npfd);
        }
        if (busy)
            continue;
        r = poll(pfd, (nfds_t)npfd, idle_ms);
        if (r == 0)
            return ERR_TIMEOUT;
        if (r < 0 && errno != EINTR)
            return ERR_IO;
    }
}
