/* stream_splice.c: moving bytes from one plain stream to another inside
 * the kernel (stream_can_splice() and stream_splice() of stream.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "errors.h"
#include "stream.h"
#include "stream_private.h"

/* The pipe's capacity we ask for (fewer, larger splices), and Linux's
 * default, which we get where a bigger pipe is refused. One splice from
 * the socket takes at most what the pipe holds. */
#define STREAM_SPLICE_PIPE         262144
#define STREAM_SPLICE_DEFAULT_PIPE 65536

/* No layer (TLS, SASL, DEFLATE) that splicing would bypass, and splice()
 * not refused on this stream before. */
static int
stream_splice_plain(const struct stream *s)
{
    return s->tls == NULL && s->sasl == NULL && s->zlib == NULL && !s->nosplice;
}

int
stream_can_splice(const struct stream *src, const struct stream *dst)
{
    return stream_splice_plain(src) && stream_splice_plain(dst)
           && src->rerr == 0 && dst->werr == 0 && stream_buffered(src) == 0
           && stream_out_pending(dst) == 0;
}

static void
stream_splice_close_pipe(struct stream *s)
{
    if (!s->has_pipe)
        return;
    close(s->splice_pipe[0]);
    close(s->splice_pipe[1]);
    s->has_pipe = 0;
}

void
stream_splice_fini(struct stream *s)
{
    stream_splice_close_pipe(s);
}

static void stream_splice_write(struct stream *src, struct stream *dst,
                                size_t n);

/* Write the n bytes waiting in src's pipe to dst, waiting with dst's
 * timeout. On failure the bytes are dropped (the pipe is closed) and the
 * error is sticky in dst. */
static void
stream_splice_out(struct stream *src, struct stream *dst, size_t n)
{
    sigset_t pipe_set, old;

    /* splice(2) has no MSG_NOSIGNAL: SIGPIPE is held while writing and a
     * SIGPIPE the writes raised is taken back (the stream never raises
     * it, stream.h) */
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    stream_splice_write(src, dst, n);
    if (dst->werr == ERR_IO && !sigismember(&old, SIGPIPE)) {
        struct timespec zero = {0, 0};

        (void)sigtimedwait(&pipe_set, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void
stream_splice_write(struct stream *src, struct stream *dst, size_t n)
{
    while (n > 0) {
        ssize_t w = splice(src->splice_pipe[0], NULL, dst->wfd, NULL, n,
                           SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        int r;

        if (w > 0) {
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            r = stream_poll_fds(dst, POLLOUT, dst->timeout_ms);
            if (r == 0)
                continue;
            stream_set_error_text(dst, "%s",
                                  r == ERR_TIMEOUT ? "write timed out"
                                                   : "poll failed");
            stream_fail_output(dst, r);
        } else {
            stream_set_error_text(dst, "splice: %s",
                                  w < 0 ? strerror(errno) : "no progress");
            stream_fail_output(dst, ERR_IO);
        }
        stream_splice_close_pipe(src);
        return;
    }
}

ssize_t
stream_splice(struct stream *src, struct stream *dst, size_t n)
{
    ssize_t got;
    int cap;

    if (n == 0 || !stream_can_splice(src, dst))
        return 0;
    if (!src->has_pipe) {
        if (pipe2(src->splice_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
            src->nosplice = 1;
            return 0;
        }
        src->has_pipe = 1;
        /* the default (64 KiB) is fine where a bigger pipe is refused */
        cap = fcntl(src->splice_pipe[0], F_SETPIPE_SZ, STREAM_SPLICE_PIPE);
        src->splice_cap = cap >= STREAM_SPLICE_DEFAULT_PIPE
                              ? (size_t)cap
                              : STREAM_SPLICE_DEFAULT_PIPE;
    }
    if (n > src->splice_cap)
        n = src->splice_cap;
    got = splice(src->rfd, NULL, src->splice_pipe[1], NULL, n,
                 SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (got > 0) {
        stream_splice_out(src, dst, (size_t)got);
        return got;
    }
    if (got == 0 || errno == ECONNRESET) {
        src->rerr = ERR_EOF;
        return ERR_EOF;
    }
    if (errno == EAGAIN || errno == EINTR)
        return 0;
    if (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP) {
        /* not spliceable here: the caller reads and writes instead */
        src->nosplice = 1;
        stream_splice_close_pipe(src);
        return 0;
    }
    stream_set_error_text(src, "splice: %s", strerror(errno));
    src->rerr = ERR_IO;
    return ERR_IO;
}
