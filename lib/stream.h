/* stream.h: the one protocol stream (STYLE.md rule 2).
 *
 * Every protocol (imapd, pop3d, lmtpd, mupdate, the proxy, tools) reads and
 * writes its peer through a struct stream; no other code calls read() or
 * write() on a socket. A stream is bidirectional over one socket (or a
 * read fd and a write fd) and stacks optional layers, installed in this
 * order during a session:
 *
 *     fd <- TLS <- SASL security layer <- DEFLATE <- buffers <- caller
 *
 * Modes. A stream is blocking (the default) or non-blocking:
 *  - blocking: calls that need the peer wait with poll() for at most the
 *    idle timeout (stream_set_timeout()) per wait and then fail with
 *    ERR_TIMEOUT. Before waiting for input, pending output is flushed so
 *    request/response protocols never deadlock.
 *  - non-blocking (event loops, the mupdate master): stream_fill()
 *    returns 0 instead of waiting and stream_flush() returns how much is
 *    still queued; wait for stream_poll_events() on stream_fd().
 * Either way the fd itself is switched to O_NONBLOCK for the life of the
 * stream (so a TLS record split across packets cannot block past the
 * timeout); stream_free() restores its original flag.
 *
 * Errors. Functions return 0 (or a count) or a negative ERR_* from
 * errors.h: ERR_EOF (the peer closed or reset the connection; stream_eof()
 * becomes true), ERR_TIMEOUT, ERR_TOOLONG (line limit, recoverable),
 * ERR_IO (system error) and ERR_PROTOCOL (TLS, SASL or DEFLATE failure).
 * The stream never raises SIGPIPE. EOF, I/O and protocol errors are
 * sticky: every later read returns the same code. stream_error() has the
 * text of the sticky error. Output errors are sticky too: writes after
 * one are dropped and every stream_flush() returns it. A read timeout is
 * not sticky (IDLE may keep waiting); a write timeout is (the peer
 * stopped reading: it is gone).
 *
 * The canonical read loop, blocking or not:
 *
 *     for (;;) {
 *         while ((line = stream_line(s, &len)) != NULL)
 *             handle(line, len);
 *         r = stream_fill(s);
 *         if (r == ERR_TOOLONG) { reply BAD; continue; }
 *         if (r == 0) break;           (non-blocking: poll, come back)
 *         if (r < 0) goto close;       (ERR_EOF, ERR_TIMEOUT, ...)
 *     }
 *
 * Implementation: stream.c (buffers, I/O), stream_layers.c (installing
 * the layers), tls.c (OpenSSL), stream_zlib.c (zlib). */
#ifndef STREAM_H
#define STREAM_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "util.h"

struct stream;
struct tls_ctx;
struct sasl_conn; /* sasl_conn_t from <sasl/sasl.h> */

/* Defaults: idle timeout 30 minutes (RFC 3501 5.4 autologout); line limit
 * 64 KiB (lines of many UIDs are long; literals are not lines). */
#define STREAM_DEFAULT_TIMEOUT_MS (30 * 60 * 1000)
#define STREAM_DEFAULT_MAXLINE    65536

/* ---- life cycle ------------------------------------------------------- */

/* A stream on a connected socket. Never fails (OOM aborts). The stream
 * does not own fd: stream_free() leaves it open, stream_close() closes
 * it. */
struct stream *stream_new(int fd);
/* Reading from rfd and writing to wfd (pipes: tools, tests). */
struct stream *stream_new_fds(int rfd, int wfd);
/* Free the stream without writing anything (pending output is lost: call
 * stream_flush() first) and without closing the fd. Sets *sp = NULL. */
void stream_free(struct stream **sp);
/* Send a TLS close_notify if TLS is active (best effort, never waits),
 * close the fd(s) and free. Pending output is discarded. Sets *sp = NULL. */
void stream_close(struct stream **sp);

/* The fd to poll() for input (for output too, unless stream_new_fds()). */
int stream_fd(const struct stream *s);
int stream_out_fd(const struct stream *s);

/* ---- options ---------------------------------------------------------- */

/* Idle timeout in milliseconds for each wait in blocking mode; < 0 waits
 * forever. */
void stream_set_timeout(struct stream *s, int ms);
/* Longest line stream_line() accepts, without its CRLF; 0 means no limit
 * (only for trusted peers). */
void stream_set_maxline(struct stream *s, size_t n);
/* on: non-blocking mode (see the top of this file). The convenience
 * readers (stream_getline(), stream_read_exact(), stream_read_to_fd())
 * and stream_starttls_*() always block with the timeout, in either
 * mode. */
void stream_set_nonblocking(struct stream *s, int on);

/* ---- reading ---------------------------------------------------------- */

/* Read what the peer has sent (one read of the fd, after anything the
 * layers already hold) and decode it into the input buffer.
 * >0: bytes added; 0: non-blocking mode and nothing to read yet (wait for
 * POLLIN); ERR_TOOLONG: the last stream_line() call met a line over the
 * limit: nothing was read, the rest of that line will be skipped, and
 * the next call reads on (reported once per long line); ERR_EOF,
 * ERR_TIMEOUT (blocking mode), ERR_IO, ERR_PROTOCOL.
 * Invalidates pointers from stream_line() and stream_peek(). */
ssize_t stream_fill(struct stream *s);

/* The next complete line from the input buffer, without its line ending
 * (CRLF, or a bare LF), NUL-terminated in place (it may also contain
 * NULs: use *len_r). NULL when no complete line is buffered: call
 * stream_fill(). The line is consumed; the pointer stays valid until the
 * next stream_fill(), stream_skip(), stream_read*() or stream_getline().
 * A line longer than the limit is never returned: it is dropped (as it
 * arrives, so memory stays bounded), stream_line() returns NULL and the
 * next stream_fill() or stream_getline() reports ERR_TOOLONG once. */
const char *stream_line(struct stream *s, size_t *len_r);
/* Whether the last line stream_line() returned ended in CRLF (1) or a
 * bare LF (0). */
int stream_line_crlf(const struct stream *s);

/* Blocking: set line to the next line (without line ending), waiting for
 * it. 0, ERR_TOOLONG (once per over-long line, which is skipped: call
 * again for the next line), ERR_EOF (also when the peer closed mid-line;
 * the partial line stays in stream_buffered() and is never returned as a
 * line), ERR_TIMEOUT, ERR_IO, ERR_PROTOCOL. */
int stream_getline(struct stream *s, struct buf *line);

/* Blocking: append exactly n bytes to out (IMAP literals). 0, or ERR_EOF,
 * ERR_TIMEOUT, ERR_IO, ERR_PROTOCOL; on error out holds what arrived. The
 * caller checks n against its limits first: out grows by n. */
int stream_read_exact(struct stream *s, size_t n, struct buf *out);
/* Blocking: copy exactly n bytes to fd (a big literal spooled to a file)
 * with bounded memory. 0, ERR_IO when writing fd fails (errno kept), or
 * the errors of stream_read_exact(). */
int stream_read_to_fd(struct stream *s, size_t n, int fd);

/* Copy up to len buffered bytes to p; if none are buffered, fill once
 * first (blocking or not, by mode). >0 bytes copied, 0 (non-blocking,
 * nothing yet), or the errors of stream_fill() (never ERR_TOOLONG). For
 * proxies pumping raw bytes. */
ssize_t stream_read(struct stream *s, void *p, size_t len);
/* The buffered input, without consuming it; *len_r may be 0. Valid until
 * the next call that reads or skips. */
const char *stream_peek(struct stream *s, size_t *len_r);
/* Consume n (<= buffered) bytes. */
void stream_skip(struct stream *s, size_t n);

/* Input the stream holds that the caller has not consumed: decoded bytes
 * plus data still inside the TLS and DEFLATE layers. A caller that polls
 * several fds must not block in poll() while this is non-zero: consume
 * it (or call stream_fill(), which decodes held data before reading the
 * fd). A partial line counts, so line-oriented callers use the loop at
 * the top of this file instead. */
size_t stream_buffered(const struct stream *s);
/* Wait until input is available (buffered, held by a layer, or the fd is
 * readable or at EOF). In blocking mode pending output is flushed first.
 * 0, ERR_TIMEOUT after timeout_ms (< 0: forever). Readable is a hint:
 * with TLS the bytes may turn out to be protocol records only. */
int stream_wait(struct stream *s, int timeout_ms);
/* True once the peer closed the connection (EOF seen by a read). */
int stream_eof(const struct stream *s);
/* Text of the sticky I/O or protocol error, or NULL (EOF and timeouts are
 * not errors). Owned by the stream. */
const char *stream_error(const struct stream *s);

/* ---- writing ---------------------------------------------------------- */

/* Queue bytes for the peer. Output is buffered; in blocking mode a large
 * queue is written out as it grows. Errors are reported by
 * stream_flush(). */
void stream_write(struct stream *s, const void *p, size_t len);
void stream_puts(struct stream *s, const char *str);
void stream_printf(struct stream *s, const char *fmt, ...) ATTR_FORMAT(2, 3);
void stream_vprintf(struct stream *s, const char *fmt, va_list ap)
    ATTR_FORMAT(2, 0);
/* Encode (DEFLATE sync flush, SASL) and write everything queued.
 * Blocking: 0 when all is written, or ERR_TIMEOUT / ERR_IO /
 * ERR_PROTOCOL (sticky, including errors from earlier writes).
 * Non-blocking: 0 when all is written, >0 the bytes still queued (capped
 * at INT_MAX; wait for stream_poll_events() and call again), or an
 * error. */
int stream_flush(struct stream *s);
/* Bytes queued and not yet written to the fd. */
size_t stream_out_pending(const struct stream *s);
/* poll() events to wait for in non-blocking mode: POLLIN, plus POLLOUT
 * when output is queued or TLS must write to make progress. */
short stream_poll_events(const struct stream *s);

/* ---- relaying in the kernel ------------------------------------------ */
/* Whether stream_splice() may move bytes from src to dst now: neither has
 * a TLS, SASL or DEFLATE layer, src holds no unconsumed input and no
 * sticky input error, dst has nothing queued and no output error, and
 * splice(2) has not been refused on src's fd before. */
int stream_can_splice(const struct stream *src, const struct stream *dst);
/* Move up to n bytes that src's peer has already sent to dst's peer with
 * splice(2) through a pipe src keeps (closed by stream_free()), without
 * copying them through user space: for proxies relaying large literals.
 * Never waits for input; waits (with dst's timeout) until what was taken
 * from src is written. >0: bytes taken from src (a failure writing them
 * is sticky in dst, reported by stream_flush(), and the bytes are
 * dropped); 0: nothing to take now (nothing has arrived, or
 * !stream_can_splice(): read with stream_fill() instead); ERR_EOF or
 * ERR_IO: src failed (sticky, as for stream_fill()). */
ssize_t stream_splice(struct stream *src, struct stream *dst, size_t n);

/* ---- layers ----------------------------------------------------------- */

/* STARTTLS (or implicit TLS right after accept()/connect()): flush pending
 * output in plaintext (the "OK begin TLS" reply), then DISCARD every byte
 * of input buffered so far: RFC 3207 6 / RFC 2595 3.1: plaintext that
 * arrived before the handshake must not be taken as sent under TLS
 * (command injection). Then handshake as the role of ctx. In blocking
 * mode it waits for the handshake (with the timeout); in non-blocking
 * mode it returns 0 at once and the handshake completes within
 * stream_fill()/stream_flush() (failures come from those).
 * servername (client only, may be NULL) is sent as SNI and verified when
 * the context verifies. 0, or ERR_PROTOCOL (handshake failed, TLS already
 * on, or a SASL/DEFLATE layer is on), ERR_TIMEOUT, ERR_IO; *error_r is
 * then an allocated message (caller frees). The stream keeps a reference
 * to ctx. */
int stream_starttls_server(struct stream *s, struct tls_ctx *ctx,
                           char **error_r);
int stream_starttls_client(struct stream *s, struct tls_ctx *ctx,
                           const char *servername, char **error_r);
int stream_tls_active(const struct stream *s);
/* Cipher strength in bits (the SASL external SSF); 0 without TLS or
 * before the handshake completed. */
int stream_tls_ssf(const struct stream *s);
/* "" without TLS. Owned by the stream. */
const char *stream_tls_cipher(const struct stream *s);
const char *stream_tls_version(const struct stream *s);
/* CN of the peer's verified certificate, or NULL. Owned by the stream. */
const char *stream_tls_peer_cn(struct stream *s);

/* Install the SASL security layer negotiated on conn (call it after the
 * authentication exchange succeeded: after the server sent, or the client
 * read, the final OK). If conn's SSF is 0 nothing changes. Otherwise
 * pending output is flushed unencoded first, later output is sasl_encode()d
 * in pieces of at most SASL_MAXOUTBUF, and input, including bytes already
 * buffered and not yet consumed, is sasl_decode()d. The caller keeps
 * ownership of conn and must not dispose it before freeing the stream.
 * 0, ERR_PROTOCOL (a layer is already on, DEFLATE is on, or SASL says
 * so), or a flush error. */
int stream_set_sasl(struct stream *s, struct sasl_conn *conn);
/* SSF of the installed SASL layer, 0 if none. */
int stream_sasl_ssf(const struct stream *s);

/* RFC 4978 COMPRESS=DEFLATE: from now on output is raw deflate with a
 * sync flush at every stream_flush(), and input is inflated, including
 * bytes already buffered and not yet consumed (they followed the
 * command's OK). Pending output is flushed uncompressed first (the OK
 * itself). 0, ERR_PROTOCOL (already on), or a flush error. */
int stream_enable_deflate(struct stream *s);
int stream_deflate_active(const struct stream *s);

#endif
