/* stream_private.h: the inside of struct stream, shared by the files that
 * implement lib/stream (stream.c: buffering and I/O; stream_layers.c:
 * installing TLS, SASL and DEFLATE). Nothing else may include it: protocol
 * code sees only the opaque struct of stream.h. */
#ifndef STREAM_PRIVATE_H
#define STREAM_PRIVATE_H

#include <sasl/sasl.h>
#include <sys/types.h>

#include "buf.h"
#include "stream.h"
#include "util.h"

struct tls_conn;
struct stream_zlib;

struct stream {
    int rfd, wfd;
    int rsock, wsock;
    int r_was_blocking, w_was_blocking;
    int nonblock;
    int timeout_ms;
    size_t maxline;

    /* input: decoded bytes, [in_off, in.len) not yet consumed */
    struct buf in;
    size_t in_off;
    struct buf raw; /* one read, before SASL decoding */
    struct buf zin; /* deflated input, [zin_off, zin.len) not inflated */
    size_t zin_off;
    short rwant; /* events the last read that would block waits for */
    int rerr;    /* sticky: ERR_EOF, ERR_IO, ERR_PROTOCOL */
    int discarding;
    int toolong_pending;
    int last_crlf;

    /* output: out (plain) -> [deflate] -> zout -> [SASL] -> wire -> fd */
    struct buf out;
    struct buf zout;
    struct buf wire;
    size_t wire_off;
    short wwant;
    int werr; /* sticky: ERR_IO, ERR_PROTOCOL, ERR_TIMEOUT */
    int z_unsynced;

    struct buf errtext;

    struct tls_conn *tls;
    sasl_conn_t *sasl;
    unsigned sasl_maxout;
    int sasl_ssf;
    struct stream_zlib *zlib;

    /* stream_splice(): the pipe from this stream's fd (when has_pipe) */
    int splice_pipe[2];
    int has_pipe;
    size_t splice_cap; /* the pipe's capacity */
    int nosplice;      /* splice() refused this fd: never try again */
};

/* Record the text of a sticky error (the first one wins). */
void stream_set_error_text(struct stream *s, const char *fmt, ...)
    ATTR_FORMAT(2, 3);
/* Make err the sticky output error and drop what is queued; returns err. */
int stream_fail_output(struct stream *s, int err);
/* Pass bytes read from the fd through SASL and DEFLATE into s->in: bytes
 * added, or a sticky input error. */
ssize_t stream_decode_input(struct stream *s, const char *p, size_t len);
/* Encode and write all queued output, waiting with the timeout whatever
 * the mode: 0 or a sticky output error. */
int stream_flush_all(struct stream *s);
/* poll() for events (POLLIN on the read fd, POLLOUT on the write fd): 0
 * ready, ERR_TIMEOUT, ERR_IO. */
int stream_poll_fds(struct stream *s, short events, int timeout_ms);
/* Close the pipe stream_splice() may have opened (stream_free()). */
void stream_splice_fini(struct stream *s);

#endif
