/* stream_zlib.h: the raw DEFLATE layer of lib/stream (RFC 4978
 * COMPRESS=DEFLATE, mupdate COMPRESS, proxy_compress).
 *
 * One object compresses the output direction and decompresses the input
 * direction of one connection, as raw deflate (RFC 1951, no zlib or gzip
 * header). lib/stream.c is its only intended user. zlib allocates through
 * xmalloc, so nothing here fails for lack of memory. */
#ifndef STREAM_ZLIB_H
#define STREAM_ZLIB_H

#include <stddef.h>

#include "buf.h"

struct stream_zlib;

struct stream_zlib *stream_zlib_new(void);
/* Sets *zp = NULL. */
void stream_zlib_free(struct stream_zlib **zp);

/* Compress p[0..len) and append the output to out. With sync set, end
 * with a Z_SYNC_FLUSH so the peer can decode everything written so far
 * (RFC 4978 4: flush whenever the sender waits for a reply). 0, or
 * ERR_PROTOCOL if zlib reports an inconsistent state. */
int stream_zlib_compress(struct stream_zlib *z, const void *p, size_t len,
                         int sync, struct buf *out);

/* Decompress from p[0..len), appending at most max_out bytes to out (a
 * deflate bomb cannot make one call allocate more). *used_r is the input
 * consumed; the caller keeps the rest and calls again. Returns the number
 * of bytes appended (0 is possible: partial block), or ERR_PROTOCOL for
 * corrupt input or data after the final block. *error_r is static text.
 * When the output limit stopped it, zlib may still hold decoded bytes
 * although all input was used: see stream_zlib_has_output(). */
long stream_zlib_decompress(struct stream_zlib *z, const void *p, size_t len,
                            size_t max_out, struct buf *out, size_t *used_r,
                            const char **error_r);
/* True when a decompress call with no new input may still produce output
 * (the last call filled max_out). */
int stream_zlib_has_output(const struct stream_zlib *z);

#endif
