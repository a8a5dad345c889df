/* cmd_compress.c: COMPRESS DEFLATE (RFC 4978). */
#include "imapd.h"
#include "imaptok.h"
#include "log.h"
#include "stream.h"
#include "util.h"

void
cmd_compress(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    struct imaptok_span alg;

    if (imaptok_atom(t, &alg) < 0 || imaptok_end(t) < 0) {
        imapd_bad(s, tag, "Invalid arguments to Compress");
        return;
    }
    if (!util_memcaseeq(alg.p, alg.len, "DEFLATE")) {
        imapd_no(s, tag, NULL, "Unknown COMPRESS algorithm");
        return;
    }
    /* RFC 4978 section 3: a second COMPRESS is refused */
    if (stream_deflate_active(s->s)) {
        imapd_no(s, tag, "COMPRESSIONACTIVE", "DEFLATE active via COMPRESS");
        return;
    }
    /* the OK goes out uncompressed; everything after it is compressed,
     * including pipelined input already buffered */
    imapd_ok(s, tag, NULL, "DEFLATE active");
    if (stream_enable_deflate(s->s) < 0) {
        log_msg(LOG_ERR, "COMPRESS: cannot start DEFLATE");
        s->state = IMAPD_LOGOUT;
    }
}
