/* stream.c: the one protocol stream (see stream.h for the contracts). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sasl/sasl.h>

#include "errors.h"
#include "stream.h"
#include "stream_private.h"
#include "stream_zlib.h"
#include "tls.h"
#include "xmalloc.h"

/* One read of the fd. A TLS record carries at most 16 KiB; a plain socket
 * is read in larger pieces (fewer system calls for bulk data, such as a
 * proxy relaying FETCH BODY[] output). */
#define STREAM_READ_CHUNK       16384
#define STREAM_READ_CHUNK_PLAIN 65536
/* Most bytes one fill inflates (a deflate bomb grows memory by this much
 * per call, not by the compression ratio). */
#define STREAM_INFLATE_CAP 65536
/* Reads one fill may spend on input that decodes to nothing yet (partial
 * SASL packets, empty deflate blocks) before yielding to the caller. */
#define STREAM_MAX_EMPTY_READS 16
/* Blocking mode writes queued output once this much is waiting. */
#define STREAM_OUT_HIGHWATER 65536
/* Idle buffers above this size are released instead of kept. */
#define STREAM_KEEP_ALLOC (256 * 1024)

/* ---- life cycle ------------------------------------------------------- */

static int
stream_fd_is_socket(int fd)
{
    struct stat st;

    return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

static int
stream_fd_blocking(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    return fl >= 0 && !(fl & O_NONBLOCK);
}

struct stream *
stream_new_fds(int rfd, int wfd)
{
    struct stream *s = xzmalloc(sizeof(*s));

    s->rfd = rfd;
    s->wfd = wfd;
    s->rsock = stream_fd_is_socket(rfd);
    s->wsock = wfd == rfd ? s->rsock : stream_fd_is_socket(wfd);
    s->r_was_blocking = stream_fd_blocking(rfd);
    s->w_was_blocking = wfd == rfd ? 0 : stream_fd_blocking(wfd);
    /* waits happen in poll() with our timeout, never inside read/write */
    util_set_nonblock(rfd, 1);
    if (wfd != rfd)
        util_set_nonblock(wfd, 1);
    s->timeout_ms = STREAM_DEFAULT_TIMEOUT_MS;
    s->maxline = STREAM_DEFAULT_MAXLINE;
    s->rwant = POLLIN;
    s->wwant = POLLOUT;
    return s;
}

struct stream *
stream_new(int fd)
{
    return stream_new_fds(fd, fd);
}

void
stream_free(struct stream **sp)
{
    struct stream *s = *sp;

    if (s == NULL)
        return;
    *sp = NULL;
    if (s->r_was_blocking)
        util_set_nonblock(s->rfd, 0);
    if (s->w_was_blocking)
        util_set_nonblock(s->wfd, 0);
    stream_splice_fini(s);
    tls_conn_free(&s->tls);
    stream_zlib_free(&s->zlib);
    buf_free(&s->in);
    buf_free(&s->raw);
    buf_free(&s->zin);
    buf_free(&s->out);
    buf_free(&s->zout);
    buf_free(&s->wire);
    buf_free(&s->errtext);
    free(s);
}

void
stream_close(struct stream **sp)
{
    struct stream *s = *sp;
    int rfd, wfd;

    if (s == NULL)
        return;
    if (s->tls != NULL && !s->werr)
        tls_conn_shutdown(s->tls);
    rfd = s->rfd;
    wfd = s->wfd;
    /* no point restoring flags on fds about to be closed */
    s->r_was_blocking = s->w_was_blocking = 0;
    stream_free(sp);
    close(rfd);
    if (wfd != rfd)
        close(wfd);
}

int
stream_fd(const struct stream *s)
{
    return s->rfd;
}

int
stream_out_fd(const struct stream *s)
{
    return s->wfd;
}

void
stream_set_timeout(struct stream *s, int ms)
{
    s->timeout_ms = ms;
}

void
stream_set_maxline(struct stream *s, size_t n)
{
    s->maxline = n;
}

void
stream_set_nonblocking(struct stream *s, int on)
{
    s->nonblock = on ? 1 : 0;
}

/* ---- errors and waiting ----------------------------------------------- */

void
stream_set_error_text(struct stream *s, const char *fmt, ...)
{
    va_list ap;

    /* the first failure is the informative one */
    if (buf_len(&s->errtext) > 0)
        return;
    va_start(ap, fmt);
    buf_vprintf(&s->errtext, fmt, ap);
    va_end(ap);
    buf_cstring(&s->errtext);
}

const char *
stream_error(const struct stream *s)
{
    return buf_len(&s->errtext) ? buf_base(&s->errtext) : NULL;
}

int
stream_eof(const struct stream *s)
{
    return s->rerr == ERR_EOF;
}

/* Wait for events (POLLIN on rfd, POLLOUT on wfd). 0 when ready (or
 * hung up / failed: the next read or write tells), ERR_TIMEOUT, ERR_IO. */
int
stream_poll_fds(struct stream *s, short events, int timeout_ms)
{
    struct pollfd pfd[2];
    nfds_t n = 0;
    uint64_t deadline = 0;
    int wait = timeout_ms;

    if (s->rfd == s->wfd) {
        pfd[n].fd = s->rfd;
        pfd[n++].events = events;
    } else {
        if (events & POLLIN) {
            pfd[n].fd = s->rfd;
            pfd[n++].events = POLLIN;
        }
        if (events & POLLOUT) {
            pfd[n].fd = s->wfd;
            pfd[n++].events = POLLOUT;
        }
    }
    if (timeout_ms >= 0)
        deadline = util_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        int r = poll(pfd, n, wait);

        if (r > 0)
            return 0;
        if (r == 0)
            return ERR_TIMEOUT;
        if (errno != EINTR)
            return ERR_IO;
        if (timeout_ms >= 0) {
            uint64_t now = util_now_ms();

            if (now >= deadline)
                return ERR_TIMEOUT;
            wait = (int)(deadline - now);
        }
    }
}

/* ---- input ------------------------------------------------------------ */

static ssize_t
stream_fail_input(struct stream *s, int err)
{
    s->rerr = err;
    return err;
}

/* Output failed for good: what is queued can never be delivered. */
int
stream_fail_output(struct stream *s, int err)
{
    s->werr = err;
    buf_free(&s->out);
    buf_free(&s->zout);
    buf_free(&s->wire);
    s->wire_off = 0;
    return err;
}

/* One non-blocking read from TLS or the fd: >0 bytes, 0 would block
 * (s->rwant says for what), or a (sticky) error. */
static ssize_t
stream_read_fd(struct stream *s, void *p, size_t len)
{
    ssize_t n;

    /* a stale POLLOUT would make an event loop spin */
    s->rwant = POLLIN;
    if (s->tls != NULL) {
        n = tls_conn_read(s->tls, p, len);
        if (n > 0)
            return n;
        if (n == 0)
            return stream_fail_input(s, ERR_EOF);
        if (n == ERR_AGAIN) {
            s->rwant = tls_conn_want(s->tls);
            return 0;
        }
        stream_set_error_text(s, "%s", tls_conn_error(s->tls));
        /* the session is dead both ways */
        if (s->werr == 0)
            stream_fail_output(s, (int)n);
        return stream_fail_input(s, (int)n);
    }
    if (s->rsock)
        n = recv(s->rfd, p, len, 0);
    else
        n = read(s->rfd, p, len);
    if (n > 0)
        return n;
    /* a reset is the peer going away (unread data in its buffer at
     * close makes TCP send RST): the same as EOF to the protocol */
    if (n == 0 || errno == ECONNRESET)
        return stream_fail_input(s, ERR_EOF);
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        s->rwant = POLLIN;
        return 0;
    }
    stream_set_error_text(s, "read: %s", strerror(errno));
    return stream_fail_input(s, ERR_IO);
}

/* Inflate held compressed input into s->in: bytes added, or an error. */
static ssize_t
stream_inflate_held(struct stream *s)
{
    size_t avail, used;
    const char *err = NULL;
    long n;

    if (s->zlib == NULL)
        return 0;
    avail = s->zin.len - s->zin_off;
    if (avail == 0 && !stream_zlib_has_output(s->zlib))
        return 0;
    n = stream_zlib_decompress(s->zlib, s->zin.s + s->zin_off, avail,
                               STREAM_INFLATE_CAP, &s->in, &used, &err);
    if (n < 0) {
        stream_set_error_text(s, "%s", err);
        return stream_fail_input(s, ERR_PROTOCOL);
    }
    s->zin_off += used;
    if (s->zin_off == s->zin.len) {
        buf_reset(&s->zin);
        s->zin_off = 0;
    }
    return n;
}

/* Pass bytes read from the fd through SASL and DEFLATE into s->in. */
ssize_t
stream_decode_input(struct stream *s, const char *p, size_t len)
{
    if (s->sasl != NULL) {
        const char *o = NULL;
        unsigned olen = 0;
        int r = sasl_decode(s->sasl, p, (unsigned)len, &o, &olen);

        if (r != SASL_OK) {
            stream_set_error_text(s, "SASL decode: %s",
                                  sasl_errdetail(s->sasl));
            return stream_fail_input(s, ERR_PROTOCOL);
        }
        p = o;
        len = olen;
    }
    if (s->zlib != NULL) {
        /* never let unconsumed compressed input pile up behind zin_off */
        if (s->zin_off > 0) {
            buf_remove(&s->zin, 0, s->zin_off);
            s->zin_off = 0;
        }
        buf_appendmap(&s->zin, p, len);
        return stream_inflate_held(s);
    }
    buf_appendmap(&s->in, p, len);
    return (ssize_t)len;
}

/* Drop consumed input so the buffer does not grow; invalidates line
 * pointers, which is why only fills and reads call it. */
static void
stream_compact(struct stream *s)
{
    if (s->in_off == 0)
        return;
    if (s->in_off >= s->in.len) {
        if (s->in.alloc > STREAM_KEEP_ALLOC)
            buf_free(&s->in);
        else
            buf_reset(&s->in);
    } else {
        buf_remove(&s->in, 0, s->in_off);
    }
    s->in_off = 0;
}

/* Decode held data or read the fd once (plus what TLS holds), never
 * waiting. >0 bytes added to s->in; 0 would block; or an error. */
static ssize_t
stream_fill_once(struct stream *s)
{
    ssize_t n, total = 0;
    int reads = 0;

    if (s->rerr < 0)
        return s->rerr;
    stream_compact(s);
    n = stream_inflate_held(s);
    if (n != 0)
        return n;
    for (;;) {
        int direct = s->sasl == NULL && s->zlib == NULL;
        struct buf *dst = direct ? &s->in : &s->raw;

        size_t chunk = s->tls == NULL && s->rsock ? STREAM_READ_CHUNK_PLAIN
                                                  : STREAM_READ_CHUNK;

        if (!direct)
            buf_reset(&s->raw);
        buf_ensure(dst, chunk);
        n = stream_read_fd(s, dst->s + dst->len, chunk);
        /* errors are sticky: with data in hand, they wait for the next
         * call */
        if (n <= 0)
            return (n == 0 || total > 0) ? total : n;
        dst->len += (size_t)n;
        if (!direct) {
            n = stream_decode_input(s, s->raw.s, s->raw.len);
            if (n < 0)
                return total > 0 ? total : n;
        }
        total += n;
        /* decrypted bytes inside OpenSSL would be invisible to poll() */
        if (s->tls != NULL && tls_conn_pending(s->tls) > 0
            && total < 4 * STREAM_READ_CHUNK)
            continue;
        if (total > 0)
            return total;
        /* a partial SASL packet or deflate block: read on, but let an
         * event loop serve others if the peer trickles such input */
        if (++reads >= STREAM_MAX_EMPTY_READS)
            return 0;
    }
}

/* Fill, waiting (with the idle timeout) until something arrives. */
static ssize_t
stream_fill_wait(struct stream *s)
{
    for (;;) {
        ssize_t n = stream_fill_once(s);
        int r;

        if (n != 0)
            return n;
        /* the peer may be waiting for our reply before it sends more;
         * a failed flush is sticky and reported by stream_flush() */
        (void)stream_flush_all(s);
        r = stream_poll_fds(s, s->rwant, s->timeout_ms);
        if (r == ERR_IO) {
            stream_set_error_text(s, "poll: %s", strerror(errno));
            return stream_fail_input(s, ERR_IO);
        }
        if (r < 0)
            return r; /* ERR_TIMEOUT: not sticky */
    }
}

ssize_t
stream_fill(struct stream *s)
{
    if (s->toolong_pending) {
        s->toolong_pending = 0;
        return ERR_TOOLONG;
    }
    return s->nonblock ? stream_fill_once(s) : stream_fill_wait(s);
}

/* A partial line of avail bytes (no LF yet) is already too long when even
 * a CRLF arriving next would not save it. */
static int
stream_partial_too_long(const struct stream *s, const char *p, size_t avail)
{
    if (s->maxline == 0 || avail <= s->maxline)
        return 0;
    return avail > s->maxline + 1 || p[avail - 1] != '\r';
}

const char *
stream_line(struct stream *s, size_t *len_r)
{
    for (;;) {
        size_t avail = s->in.len - s->in_off, len;
        char *p = s->in.s + s->in_off, *nl;
        int crlf;

        if (s->toolong_pending || avail == 0)
            return NULL;
        nl = memchr(p, '\n', avail);
        if (s->discarding) {
            /* the tail of an over-long line: drop it as it arrives */
            if (nl == NULL) {
                s->in_off = s->in.len;
                return NULL;
            }
            s->in_off += (size_t)(nl - p) + 1;
            s->discarding = 0;
            continue;
        }
        if (nl == NULL) {
            if (stream_partial_too_long(s, p, avail)) {
                s->in_off = s->in.len;
                s->discarding = 1;
                s->toolong_pending = 1;
            }
            return NULL;
        }
        len = (size_t)(nl - p);
        crlf = len > 0 && p[len - 1] == '\r';
        if (crlf)
            len--;
        s->in_off += (size_t)(nl - p) + 1;
        if (s->maxline != 0 && len > s->maxline) {
            /* report before handing out the lines after it */
            s->toolong_pending = 1;
            return NULL;
        }
        p[len] = '\0';
        s->last_crlf = crlf;
        *len_r = len;
        return p;
    }
}

int
stream_line_crlf(const struct stream *s)
{
    return s->last_crlf;
}

int
stream_getline(struct stream *s, struct buf *line)
{
    for (;;) {
        size_t len;
        const char *p = stream_line(s, &len);
        ssize_t n;

        if (p != NULL) {
            buf_setmap(line, p, len);
            return 0;
        }
        if (s->toolong_pending) {
            s->toolong_pending = 0;
            return ERR_TOOLONG;
        }
        n = stream_fill_wait(s);
        if (n < 0)
            return (int)n;
    }
}

/* Move up to n buffered bytes out: to buf (append) or to fd. */
static ssize_t
stream_take(struct stream *s, size_t n, struct buf *out, int fd)
{
    size_t avail = s->in.len - s->in_off;

    if (n > avail)
        n = avail;
    if (n == 0)
        return 0;
    if (out != NULL) {
        buf_appendmap(out, s->in.s + s->in_off, n);
    } else if (util_write_all(fd, s->in.s + s->in_off, n) < 0) {
        return ERR_IO;
    }
    s->in_off += n;
    return (ssize_t)n;
}

static int
stream_read_n(struct stream *s, size_t n, struct buf *out, int fd)
{
    while (n > 0) {
        ssize_t got = stream_take(s, n, out, fd);

        if (got < 0)
            return (int)got;
        n -= (size_t)got;
        if (n == 0)
            break;
        got = stream_fill_wait(s);
        if (got < 0)
            return (int)got;
    }
    return 0;
}

int
stream_read_exact(struct stream *s, size_t n, struct buf *out)
{
    return stream_read_n(s, n, out, -1);
}

int
stream_read_to_fd(struct stream *s, size_t n, int fd)
{
    return stream_read_n(s, n, NULL, fd);
}

ssize_t
stream_read(struct stream *s, void *p, size_t len)
{
    size_t avail = s->in.len - s->in_off;

    if (len == 0)
        return 0;
    if (avail == 0) {
        ssize_t n = s->nonblock ? stream_fill_once(s) : stream_fill_wait(s);

        if (n <= 0)
            return n;
        avail = s->in.len - s->in_off;
    }
    if (len > avail)
        len = avail;
    memcpy(p, s->in.s + s->in_off, len);
    s->in_off += len;
    return (ssize_t)len;
}

const char *
stream_peek(struct stream *s, size_t *len_r)
{
    *len_r = s->in.len - s->in_off;
    return s->in.s ? s->in.s + s->in_off : "";
}

void
stream_skip(struct stream *s, size_t n)
{
    ASSERT(n <= s->in.len - s->in_off);
    s->in_off += n;
}

size_t
stream_buffered(const struct stream *s)
{
    size_t n = s->in.len - s->in_off + (s->zin.len - s->zin_off);

    if (s->tls != NULL)
        n += tls_conn_pending(s->tls);
    if (s->zlib != NULL && stream_zlib_has_output(s->zlib))
        n++;
    return n;
}

int
stream_wait(struct stream *s, int timeout_ms)
{
    if (stream_buffered(s) > 0 || s->rerr < 0)
        return 0;
    if (!s->nonblock)
        (void)stream_flush_all(s);
    return stream_poll_fds(s, s->rwant, timeout_ms) == ERR_TIMEOUT ? ERR_TIMEOUT
                                                                   : 0;
}

/* ---- output ----------------------------------------------------------- */

/* Run queued plaintext through DEFLATE and SASL into s->wire. sync: end
 * with a deflate sync flush. */
static int
stream_encode(struct stream *s, int sync)
{
    struct buf *src = &s->out;

    /* keep already-written bytes from accumulating at the front */
    if (s->wire_off > 0 && s->wire_off >= s->wire.len / 2) {
        buf_remove(&s->wire, 0, s->wire_off);
        s->wire_off = 0;
    }
    if (s->zlib != NULL) {
        struct buf *dst = s->sasl ? &s->zout : &s->wire;

        if (s->out.len > 0 || (sync && s->z_unsynced)) {
            if (stream_zlib_compress(s->zlib, s->out.s, s->out.len, sync, dst)
                < 0) {
                stream_set_error_text(s, "DEFLATE: compression failed");
                return stream_fail_output(s, ERR_PROTOCOL);
            }
            s->z_unsynced = !sync;
            buf_reset(&s->out);
        }
        src = &s->zout;
    }
    if (s->sasl != NULL) {
        size_t off = 0;

        while (off < src->len) {
            size_t n = src->len - off;
            const char *o = NULL;
            unsigned olen = 0;

            if (n > s->sasl_maxout)
                n = s->sasl_maxout;
            if (sasl_encode(s->sasl, src->s + off, (unsigned)n, &o, &olen)
                != SASL_OK) {
                stream_set_error_text(s, "SASL encode: %s",
                                      sasl_errdetail(s->sasl));
                return stream_fail_output(s, ERR_PROTOCOL);
            }
            buf_appendmap(&s->wire, o, olen);
            off += n;
        }
        buf_reset(src);
    } else if (s->zlib == NULL && s->out.len > 0) {
        if (s->wire_off == s->wire.len) {
            /* nothing queued: hand the buffer over instead of copying */
            struct buf tmp = s->wire;

            s->wire = s->out;
            s->out = tmp;
            s->wire_off = 0;
        } else {
            buf_appendbuf(&s->wire, &s->out);
        }
        buf_reset(&s->out);
    }
    return 0;
}

/* Write s->wire to TLS or the fd. 0 when all written; ERR_AGAIN when it
 * would block and !block; or a sticky error. */
static int
stream_write_wire(struct stream *s, int block)
{
    while (s->wire_off < s->wire.len) {
        const char *p = s->wire.s + s->wire_off;
        size_t len = s->wire.len - s->wire_off;
        ssize_t n;
        int r;

        if (s->tls != NULL) {
            n = tls_conn_write(s->tls, p, len);
            if (n == ERR_AGAIN) {
                s->wwant = tls_conn_want(s->tls);
                n = 0;
            } else if (n < 0) {
                stream_set_error_text(s, "%s", tls_conn_error(s->tls));
                s->rerr = s->rerr ? s->rerr : (int)n;
                return stream_fail_output(s, (int)n);
            }
        } else {
            if (s->wsock)
                n = send(s->wfd, p, len, MSG_NOSIGNAL);
            else
                n = write(s->wfd, p, len);
            if (n < 0) {
                if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                    stream_set_error_text(s, "write: %s", strerror(errno));
                    return stream_fail_output(s, ERR_IO);
                }
                s->wwant = POLLOUT;
                n = 0;
            }
        }
        if (n > 0) {
            s->wire_off += (size_t)n;
            continue;
        }
        if (!block)
            return ERR_AGAIN;
        r = stream_poll_fds(s, s->wwant, s->timeout_ms);
        if (r == ERR_TIMEOUT) {
            /* the peer stopped reading for a whole timeout: it is gone */
            stream_set_error_text(s, "write timed out");
            return stream_fail_output(s, ERR_TIMEOUT);
        }
        if (r < 0) {
            stream_set_error_text(s, "poll: %s", strerror(errno));
            return stream_fail_output(s, ERR_IO);
        }
    }
    if (s->wire.alloc > STREAM_KEEP_ALLOC)
        buf_free(&s->wire);
    else
        buf_reset(&s->wire);
    s->wire_off = 0;
    s->wwant = POLLOUT;
    return 0;
}

int
stream_flush_all(struct stream *s)
{
    int r;

    if (s->werr < 0)
        return s->werr;
    r = stream_encode(s, 1);
    if (r < 0)
        return r;
    return stream_write_wire(s, 1);
}

int
stream_flush(struct stream *s)
{
    size_t left;
    int r;

    if (s->werr < 0)
        return s->werr;
    r = stream_encode(s, 1);
    if (r < 0)
        return r;
    r = stream_write_wire(s, !s->nonblock);
    if (r != ERR_AGAIN)
        return r;
    left = s->wire.len - s->wire_off;
    return left > INT_MAX ? INT_MAX : (int)left;
}

/* After appending to s->out: in blocking mode write out a large queue
 * (without a deflate sync flush: only stream_flush() ends a burst). */
static void
stream_queued(struct stream *s)
{
    if (s->nonblock || s->out.len < STREAM_OUT_HIGHWATER)
        return;
    if (stream_encode(s, 0) == 0)
        (void)stream_write_wire(s, 1);
}

void
stream_write(struct stream *s, const void *p, size_t len)
{
    if (s->werr < 0 || len == 0)
        return;
    buf_appendmap(&s->out, p, len);
    stream_queued(s);
}

void
stream_puts(struct stream *s, const char *str)
{
    stream_write(s, str, strlen(str));
}

void
stream_vprintf(struct stream *s, const char *fmt, va_list ap)
{
    if (s->werr < 0)
        return;
    buf_vprintf(&s->out, fmt, ap);
    stream_queued(s);
}

void
stream_printf(struct stream *s, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    stream_vprintf(s, fmt, ap);
    va_end(ap);
}

size_t
stream_out_pending(const struct stream *s)
{
    return s->out.len + s->zout.len + (s->wire.len - s->wire_off);
}

short
stream_poll_events(const struct stream *s)
{
    short ev = POLLIN;

    if (s->rwant == POLLOUT)
        ev |= POLLOUT;
    if (stream_out_pending(s) > 0 && s->werr == 0)
        ev |= s->wwant;
    return ev;
}
