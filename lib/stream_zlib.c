/* stream_zlib.c: the raw DEFLATE layer of lib/stream. */
#include <limits.h>
#include <string.h>
#include <zlib.h>

#include "errors.h"
#include "stream_zlib.h"
#include "xmalloc.h"

struct stream_zlib {
    z_stream out; /* deflate */
    z_stream in;  /* inflate */
    int in_ended;
    int in_more; /* inflate may hold decoded output */
};

/* zlib asks for memory through these so OOM aborts like everywhere else
 * (xmalloc.h) instead of surfacing as Z_MEM_ERROR mid-session. */
static voidpf
stream_zlib_alloc(voidpf opaque, uInt items, uInt size)
{
    return xreallocarray(NULL, items, size);
}

static void
stream_zlib_release(voidpf opaque, voidpf p)
{
    free(p);
}

struct stream_zlib *
stream_zlib_new(void)
{
    struct stream_zlib *z = xzmalloc(sizeof(*z));
    int r;

    z->out.zalloc = z->in.zalloc = stream_zlib_alloc;
    z->out.zfree = z->in.zfree = stream_zlib_release;
    /* windowBits -15: raw deflate with a 32K window (RFC 4978 3) */
    r = deflateInit2(&z->out, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8,
                     Z_DEFAULT_STRATEGY);
    ASSERT(r == Z_OK);
    r = inflateInit2(&z->in, -15);
    ASSERT(r == Z_OK);
    return z;
}

void
stream_zlib_free(struct stream_zlib **zp)
{
    struct stream_zlib *z = *zp;

    if (z == NULL)
        return;
    *zp = NULL;
    deflateEnd(&z->out);
    inflateEnd(&z->in);
    free(z);
}

int
stream_zlib_compress(struct stream_zlib *z, const void *p, size_t len, int sync,
                     struct buf *out)
{
    const unsigned char *src = p;

    for (;;) {
        /* avail_in is a uInt: feed very large inputs in slices */
        size_t slice = len > UINT_MAX / 2 ? UINT_MAX / 2 : len;
        int flush = (slice == len && sync) ? Z_SYNC_FLUSH : Z_NO_FLUSH;
        int r;

        z->out.next_in = (Bytef *)src;
        z->out.avail_in = (uInt)slice;
        do {
            size_t room = deflateBound(&z->out, z->out.avail_in) + 16;

            buf_ensure(out, room);
            z->out.next_out = (Bytef *)out->s + out->len;
            z->out.avail_out = (uInt)room;
            r = deflate(&z->out, flush);
            if (r != Z_OK && r != Z_BUF_ERROR)
                return ERR_PROTOCOL;
            out->len += room - z->out.avail_out;
            /* done when all input is taken and deflate left output room
             * (so nothing of the flush is still held back) */
        } while (z->out.avail_in > 0 || z->out.avail_out == 0);
        src += slice;
        len -= slice;
        if (len == 0)
            return 0;
    }
}

long
stream_zlib_decompress(struct stream_zlib *z, const void *p, size_t len,
                       size_t max_out, struct buf *out, size_t *used_r,
                       const char **error_r)
{
    size_t before = out->len, in_slice, room;
    int r;

    *used_r = 0;
    if (len == 0 && !z->in_more)
        return 0;
    if (z->in_ended) {
        *error_r = "DEFLATE: data after the end of the compressed stream";
        return ERR_PROTOCOL;
    }
    if (max_out > INT_MAX)
        max_out = INT_MAX;
    in_slice = len > UINT_MAX / 2 ? UINT_MAX / 2 : len;
    z->in.next_in = (Bytef *)p;
    z->in.avail_in = (uInt)in_slice;
    z->in_more = 0;
    while (out->len - before < max_out) {
        room = max_out - (out->len - before);
        if (room > 65536)
            room = 65536;
        buf_ensure(out, room);
        z->in.next_out = (Bytef *)out->s + out->len;
        z->in.avail_out = (uInt)room;
        r = inflate(&z->in, Z_SYNC_FLUSH);
        out->len += room - z->in.avail_out;
        if (r == Z_STREAM_END) {
            z->in_ended = 1;
            break;
        }
        if (r == Z_BUF_ERROR)
            break; /* no progress possible: needs more input */
        if (r != Z_OK) {
            *error_r = "DEFLATE: corrupt compressed data";
            return ERR_PROTOCOL;
        }
        /* output space left over means zlib holds nothing back */
        if (z->in.avail_out > 0 && z->in.avail_in == 0)
            break;
    }
    /* a full output buffer may leave decoded bytes inside zlib even when
     * all input was consumed; the next call (with len 0) gets them */
    if (z->in.avail_out == 0 && !z->in_ended)
        z->in_more = 1;
    *used_r = in_slice - z->in.avail_in;
    if (z->in_ended && *used_r < len) {
        *error_r = "DEFLATE: data after the end of the compressed stream";
        return ERR_PROTOCOL;
    }
    return (long)(out->len - before);
}

int
stream_zlib_has_output(const struct stream_zlib *z)
{
    return z->in_more;
}
