/* charset.c: modified UTF-7, UTF-8, charset conversion, RFC 2047, body
 * transfer decodings and search folding, on top of ICU (uc, i18n). */
#define _GNU_SOURCE 1
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/ucnv.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>

#include "base64.h"
#include "charset.h"
#include "errors.h"
#include "xmalloc.h"

/* ---- UTF-8 ----------------------------------------------------------- */

/* Length of the well-formed UTF-8 sequence at p[0..len), or 0 if there is
 * none (RFC 3629 table: no overlongs, no surrogates, <= U+10FFFF). */
static size_t
utf8_seqlen(const unsigned char *p, size_t len)
{
    unsigned char c = p[0], lo = 0x80, hi = 0xbf;
    size_t n, i;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0; /* overlong */
        else if (c == 0xed)
            hi = 0x9f; /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90; /* overlong */
        else if (c == 0xf4)
            hi = 0x8f; /* above U+10FFFF */
    } else
        return 0;
    if (len < n || p[1] < lo || p[1] > hi)
        return 0;
    for (i = 2; i < n; i++) {
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    }
    return n;
}

int
charset_utf8_valid(const char *p, size_t len)
{
    const unsigned char *s = (const unsigned char *)p;
    size_t i = 0, n;

    while (i < len) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        if ((n = utf8_seqlen(s + i, len - i)) == 0)
            return 0;
        i += n;
    }
    return 1;
}

static void
append_utf8_cp(struct buf *out, UChar32 c)
{
    char tmp[4];
    size_t n;

    if (c < 0x80) {
        tmp[0] = (char)c;
        n = 1;
    } else if (c < 0x800) {
        tmp[0] = (char)(0xc0 | (c >> 6));
        tmp[1] = (char)(0x80 | (c & 0x3f));
        n = 2;
    } else if (c < 0x10000) {
        tmp[0] = (char)(0xe0 | (c >> 12));
        tmp[1] = (char)(0x80 | ((c >> 6) & 0x3f));
        tmp[2] = (char)(0x80 | (c & 0x3f));
        n = 3;
    } else {
        tmp[0] = (char)(0xf0 | (c >> 18));
        tmp[1] = (char)(0x80 | ((c >> 12) & 0x3f));
        tmp[2] = (char)(0x80 | ((c >> 6) & 0x3f));
        tmp[3] = (char)(0x80 | (c & 0x3f));
        n = 4;
    }
    buf_appendmap(out, tmp, n);
}

/* Append p[0..len) with every ill-formed byte replaced by U+FFFD. */
static void
append_utf8_sanitized(struct buf *out, const char *p, size_t len)
{
    const unsigned char *s = (const unsigned char *)p;
    size_t i = 0, start = 0, n;

    while (i < len) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        if ((n = utf8_seqlen(s + i, len - i)) != 0) {
            i += n;
            continue;
        }
        buf_appendmap(out, p + start, i - start);
        append_utf8_cp(out, 0xfffd);
        start = ++i;
    }
    buf_appendmap(out, p + start, len - start);
}

/* ---- modified UTF-7 (RFC 3501 5.1.3) ---------------------------------- */

/* ICU's converter for modified UTF-7; 0 or -1. */
static UConverter *
mutf7_open(void)
{
    UErrorCode err = U_ZERO_ERROR;
    UConverter *cnv = ucnv_open("IMAP-mailbox-name", &err);

    if (U_FAILURE(err))
        return NULL;
    /* stop at the first problem instead of substituting */
    ucnv_setToUCallBack(cnv, UCNV_TO_U_CALLBACK_STOP, NULL, NULL, NULL, &err);
    ucnv_setFromUCallBack(cnv, UCNV_FROM_U_CALLBACK_STOP, NULL, NULL, NULL,
                          &err);
    if (U_FAILURE(err)) {
        ucnv_close(cnv);
        return NULL;
    }
    return cnv;
}

/* Encode u[0..ulen) as modified UTF-7, appending to out; 0 or -1. */
static int
mutf7_encode(UConverter *cnv, const UChar *u, int32_t ulen, struct buf *out)
{
    UErrorCode err = U_ZERO_ERROR;
    int32_t cap, n;

    /* worst case: every unit alone in a base64 run ("&" + 3 + "-") */
    if (ulen > (INT32_MAX - 8) / 5)
        return -1;
    cap = ulen * 5 + 8;
    buf_ensure(out, (size_t)cap);
    n = ucnv_fromUChars(cnv, out->s + out->len, cap, u, ulen, &err);
    if (U_FAILURE(err) || n < 0 || n > cap)
        return -1;
    out->len += (size_t)n;
    return 0;
}

/* Decode modified UTF-7 into a new UTF-16 string (*u_r, caller frees)
 * after checking that it is canonical; 0 or -1. */
static int
mutf7_decode(const char *p, size_t len, UChar **u_r, int32_t *ulen_r)
{
    UConverter *cnv;
    UErrorCode err = U_ZERO_ERROR;
    struct buf again = BUF_INITIALIZER;
    UChar *u;
    int32_t ulen;
    size_t i;
    int r = -1;

    *u_r = NULL;
    if (len > INT32_MAX / 2)
        return -1;
    for (i = 0; i < len; i++) {
        if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] > 0x7e)
            return -1;
    }
    if ((cnv = mutf7_open()) == NULL)
        return -1;
    /* each UTF-16 unit needs at least one input byte */
    u = xcalloc(len + 1, sizeof(UChar));
    ulen = ucnv_toUChars(cnv, u, (int32_t)len + 1, p, (int32_t)len, &err);
    if (U_FAILURE(err) || ulen < 0 || (size_t)ulen > len)
        goto done;
    /* lone surrogates are not text, and NUL ends a C string (the UTF-8
     * direction refuses it too) */
    for (i = 0; i < (size_t)ulen; i++) {
        if (u[i] == 0)
            goto done;
        if (U16_IS_LEAD(u[i]) && i + 1 < (size_t)ulen && U16_IS_TRAIL(u[i + 1]))
            i++;
        else if (U16_IS_SURROGATE(u[i]))
            goto done;
    }
    /* canonical means: encoding the result again gives the same bytes
     * (rejects encoded ASCII, split runs, nonzero padding bits) */
    if (mutf7_encode(cnv, u, ulen, &again) < 0 || again.len != len
        || memcmp(again.s ? again.s : "", p, len) != 0)
        goto done;
    *u_r = u;
    *ulen_r = ulen;
    u = NULL;
    r = 0;
done:
    free(u);
    buf_free(&again);
    ucnv_close(cnv);
    return r;
}

int
charset_mutf7_valid(const char *p, size_t len)
{
    UChar *u;
    int32_t ulen;

    /* the common case, plain ASCII without '&', needs no ICU */
    if (memchr(p, '&', len) == NULL) {
        size_t i;

        for (i = 0; i < len; i++) {
            if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] > 0x7e)
                return 0;
        }
        return 1;
    }
    if (mutf7_decode(p, len, &u, &ulen) < 0)
        return 0;
    free(u);
    return 1;
}

/* Append u[0..ulen) (well-formed UTF-16) as UTF-8. */
static void
append_utf16(struct buf *out, const UChar *u, int32_t ulen)
{
    int32_t i = 0;
    UChar32 c;

    while (i < ulen) {
        U16_NEXT(u, i, ulen, c);
        if (U_IS_SURROGATE(c))
            c = 0xfffd;
        append_utf8_cp(out, c);
    }
}

int
charset_mutf7_to_utf8(const char *p, size_t len, struct buf *out)
{
    UChar *u;
    int32_t ulen;

    if (mutf7_decode(p, len, &u, &ulen) < 0)
        return ERR_INVALID;
    append_utf16(out, u, ulen);
    free(u);
    return 0;
}

int
charset_utf8_to_mutf7(const char *p, size_t len, struct buf *out)
{
    UConverter *cnv;
    UErrorCode err = U_ZERO_ERROR;
    UChar *u;
    int32_t ulen;
    struct buf tmp = BUF_INITIALIZER;
    int r = ERR_INVALID;

    if (len > INT32_MAX / 2 || memchr(p, '\0', len) != NULL
        || !charset_utf8_valid(p, len))
        return ERR_INVALID;
    if ((cnv = mutf7_open()) == NULL)
        return ERR_GENERIC;
    u = xcalloc(len + 1, sizeof(UChar));
    u_strFromUTF8(u, (int32_t)len + 1, &ulen, p, (int32_t)len, &err);
    if (U_SUCCESS(err) && mutf7_encode(cnv, u, ulen, &tmp) == 0) {
        buf_appendbuf(out, &tmp);
        r = 0;
    }
    buf_free(&tmp);
    free(u);
    ucnv_close(cnv);
    return r;
}

/* ---- any charset -> UTF-8 --------------------------------------------- */

int
charset_to_utf8(const char *charset, const char *p, size_t len, struct buf *out)
{
    UErrorCode err = U_ZERO_ERROR;
    UConverter *src, *dst;
    UChar pivot[1024];
    UChar *psrc = pivot, *ptgt = pivot;
    const char *s = p, *slimit = p + len;
    UBool reset = 1;
    size_t start = out->len;

    if (charset == NULL || *charset == '\0')
        return ERR_BADCHARSET;
    src = ucnv_open(charset, &err);
    if (U_FAILURE(err))
        return ERR_BADCHARSET;
    if (ucnv_getType(src) == UCNV_UTF8) {
        /* the usual case: no conversion, only validation */
        ucnv_close(src);
        append_utf8_sanitized(out, p, len);
        return 0;
    }
    dst = ucnv_open("UTF-8", &err);
    if (U_FAILURE(err)) {
        ucnv_close(src);
        return ERR_GENERIC;
    }
    ucnv_setToUCallBack(src, UCNV_TO_U_CALLBACK_SUBSTITUTE, NULL, NULL, NULL,
                        &err);
    for (;;) {
        char *t, *t0;

        /* most charsets need at most 3 UTF-8 bytes per input byte */
        buf_ensure(out, len < 4096 ? len * 3 + 16 : 16384);
        t0 = t = out->s + out->len;
        err = U_ZERO_ERROR;
        ucnv_convertEx(dst, src, &t, out->s + out->alloc - 1, &s, slimit, pivot,
                       &psrc, &ptgt, pivot + ARRAY_SIZE(pivot), reset, 1, &err);
        reset = 0;
        out->len += (size_t)(t - t0);
        if (err != U_BUFFER_OVERFLOW_ERROR)
            break;
    }
    ucnv_close(src);
    ucnv_close(dst);
    if (U_FAILURE(err)) {
        buf_truncate(out, start);
        return ERR_GENERIC;
    }
    return 0;
}

/* ---- RFC 2047 encoded-words ------------------------------------------- */

#define EW_MAX 2048 /* longer "words" are not decoded (RFC: 75) */

static int
hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}


/* Strict base64 of one encoded-word: alphabet, then only '=' padding.
 * Appends the bytes; 0 or -1. */
static int
ew_decode_b(const char *p, size_t len, struct buf *out)
{
    unsigned acc = 0;
    int bits = 0;
    size_t i, pad = 0;

    for (i = 0; i < len; i++) {
        int v;

        if (p[i] == '=') {
            pad++;
            continue;
        }
        if (pad || (v = base64_value((unsigned char)p[i])) < 0)
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf_putc(out, (char)((acc >> bits) & 0xff));
        }
    }
    return pad > 2 ? -1 : 0;
}

/* Q encoding (RFC 2047 4.2): '_' is a space, =XX a byte. 0 or -1. */
static int
ew_decode_q(const char *p, size_t len, struct buf *out)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (p[i] == '_') {
            buf_putc(out, ' ');
        } else if (p[i] == '=') {
            int hi, lo;

            if (i + 2 >= len)
                return -1;
            hi = hexval((unsigned char)p[i + 1]);
            lo = hexval((unsigned char)p[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            buf_putc(out, (char)(hi << 4 | lo));
            i += 2;
        } else {
            buf_putc(out, p[i]);
        }
    }
    return 0;
}

struct ew {
    const char *charset; /* not NUL-terminated */
    size_t charsetlen;
    char enc;
    const char *text;
    size_t textlen;
    size_t end; /* offset after "?=" */
};

/* Parse "=?charset?e?text?=" at p[i]; 0 or -1. */
static int
ew_parse(const char *p, size_t len, size_t i, struct ew *w)
{
    size_t j = i + 2, limit = len - i > EW_MAX ? i + EW_MAX : len;

    w->charset = p + j;
    while (j < limit && p[j] != '?') {
        unsigned char c = (unsigned char)p[j];

        /* RFC 2047 token: no space, controls or especials */
        if (c <= 0x20 || c >= 0x7f || strchr("()<>@,;\"/[]?=", c))
            return -1;
        j++;
    }
    w->charsetlen = (size_t)(p + j - w->charset);
    if (j + 2 >= limit || w->charsetlen == 0 || p[j + 2] != '?')
        return -1;
    w->enc = p[j + 1];
    if (w->enc != 'B' && w->enc != 'b' && w->enc != 'Q' && w->enc != 'q')
        return -1;
    j += 3;
    w->text = p + j;
    while (j < limit && p[j] != '?') {
        unsigned char c = (unsigned char)p[j];

        if (c <= 0x20 || c >= 0x7f)
            return -1;
        j++;
    }
    if (j >= limit || j + 1 >= len || p[j + 1] != '=')
        return -1;
    w->textlen = (size_t)(p + j - w->text);
    w->end = j + 2;
    return 0;
}

/* Raw (not encoded) header text: unfold, keep UTF-8, else windows-1252. */
static void
append_raw(struct buf *out, const char *p, size_t len)
{
    struct buf tmp = BUF_INITIALIZER;
    size_t i;

    for (i = 0; i < len; i++) {
        if (p[i] != '\r' && p[i] != '\n')
            buf_putc(&tmp, p[i]);
    }
    if (charset_utf8_valid(tmp.s ? tmp.s : "", tmp.len)
        || charset_to_utf8("windows-1252", buf_base(&tmp), tmp.len, out) < 0)
        append_utf8_sanitized(out, buf_base(&tmp), tmp.len);
    buf_free(&tmp);
}

static int
only_space(const char *p, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
            return 0;
    }
    return 1;
}

/* Bytes of adjacent encoded-words in one charset, waiting for conversion. */
struct ew_pending {
    char charset[64];
    struct buf bytes;
    int active;
};

static void
ew_flush(struct ew_pending *pend, struct buf *out)
{
    if (!pend->active)
        return;
    /* the charset was known when the word was accepted */
    if (charset_to_utf8(pend->charset, buf_base(&pend->bytes), pend->bytes.len,
                        out)
        < 0)
        append_utf8_sanitized(out, buf_base(&pend->bytes), pend->bytes.len);
    buf_reset(&pend->bytes);
    pend->active = 0;
}

/* Decode one parsed word: its charset (without an RFC 2231 language) into
 * cs and its bytes appended to bytes. 0, or -1 if the word is malformed
 * or its charset unknown to ICU (known is the charset already accepted,
 * or NULL). */
static int
ew_decode(const struct ew *w, const char *known, char cs[64], struct buf *bytes)
{
    size_t cslen = w->charsetlen;
    const char *star = memchr(w->charset, '*', cslen);
    UErrorCode err = U_ZERO_ERROR;
    UConverter *cnv;
    int r;

    if (star) /* RFC 2231 5: charset*language */
        cslen = (size_t)(star - w->charset);
    if (cslen == 0 || cslen >= 64)
        return -1;
    memcpy(cs, w->charset, cslen);
    cs[cslen] = '\0';
    if (w->enc == 'B' || w->enc == 'b')
        r = ew_decode_b(w->text, w->textlen, bytes);
    else
        r = ew_decode_q(w->text, w->textlen, bytes);
    if (r == 0 && !(known && util_strcasecmp(known, cs) == 0)) {
        cnv = ucnv_open(cs, &err);
        if (U_FAILURE(err))
            r = -1;
        else
            ucnv_close(cnv);
    }
    return r;
}

int
charset_decode_mimeheader(const char *p, size_t len, struct buf *out)
{
    struct ew_pending pend;
    struct buf bytes = BUF_INITIALIZER;
    size_t i = 0, raw = 0; /* p[raw..i) is text not yet written */

    memset(&pend, 0, sizeof(pend));
    while (i + 1 < len) {
        struct ew w;
        char cs[64];

        buf_reset(&bytes);
        if (p[i] != '=' || p[i + 1] != '?' || ew_parse(p, len, i, &w) < 0
            || ew_decode(&w, pend.active ? pend.charset : NULL, cs, &bytes)
                   < 0) {
            i++; /* not a word, or a malformed one: it stays text */
            continue;
        }
        /* RFC 2047 6.2: white space between adjacent encoded-words is
         * not displayed */
        if (!(pend.active && only_space(p + raw, i - raw))) {
            ew_flush(&pend, out);
            append_raw(out, p + raw, i - raw);
        }
        if (pend.active && util_strcasecmp(pend.charset, cs) != 0)
            ew_flush(&pend, out);
        /* bytes of words in one charset are converted together, so a
         * character split across two words survives */
        memcpy(pend.charset, cs, strlen(cs) + 1);
        pend.active = 1;
        buf_appendbuf(&pend.bytes, &bytes);
        i = raw = w.end;
    }
    ew_flush(&pend, out);
    append_raw(out, p + raw, len - raw);
    buf_free(&pend.bytes);
    buf_free(&bytes);
    return 0;
}

/* ---- body transfer decodings ------------------------------------------ */

int
charset_decode_base64(const char *p, size_t len, struct buf *out)
{
    unsigned acc = 0;
    int bits = 0;
    size_t i;

    buf_ensure(out, len / 4 * 3 + 3);
    for (i = 0; i < len; i++) {
        int v;

        if (p[i] == '=')
            break;
        if ((v = base64_value((unsigned char)p[i])) < 0)
            continue;
        acc = ((acc << 6) | (unsigned)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out->s[out->len++] = (char)((acc >> bits) & 0xff);
        }
    }
    return 0;
}

int
charset_decode_qp(const char *p, size_t len, struct buf *out)
{
    size_t i = 0;

    buf_ensure(out, len);
    while (i < len) {
        const char *nl = memchr(p + i, '\n', len - i);
        size_t eol = nl ? (size_t)(nl - p) : len; /* line is p[i..end) */
        size_t end = eol, j;
        int soft = 0;

        if (end > i && p[end - 1] == '\r' && nl)
            end--;
        /* RFC 2045 6.7 (3): transport may add trailing white space */
        while (end > i && (p[end - 1] == ' ' || p[end - 1] == '\t'))
            end--;
        if (end > i && p[end - 1] == '=') {
            soft = 1;
            end--;
        }
        for (j = i; j < end; j++) {
            int hi, lo;

            if (p[j] == '=' && j + 2 < end
                && (hi = hexval((unsigned char)p[j + 1])) >= 0
                && (lo = hexval((unsigned char)p[j + 2])) >= 0) {
                out->s[out->len++] = (char)(hi << 4 | lo);
                j += 2;
            } else {
                out->s[out->len++] = p[j];
            }
        }
        if (!nl)
            break;
        if (!soft) {
            if (eol > i && p[eol - 1] == '\r')
                out->s[out->len++] = '\r';
            out->s[out->len++] = '\n';
        }
        i = eol + 1;
    }
    return 0;
}

/* ---- search folding --------------------------------------------------- *
 *
 * Text is folded in chunks of about FOLD_CHUNK bytes so that a whole
 * message body needs only bounded scratch space (kept across calls by a
 * charset_search). Chunks end where NFKC_Casefold has a boundary, so
 * folding in pieces gives the same result as folding at once. */

#define FOLD_CHUNK 65536

struct fold_scratch {
    UChar *u; /* UTF-16 of the chunk */
    int32_t ucap;
    UChar *n; /* normalised */
    int32_t ncap;
};

static void
scratch_fini(struct fold_scratch *sc)
{
    free(sc->u);
    free(sc->n);
    memset(sc, 0, sizeof(*sc));
}

static void
scratch_grow(UChar **p, int32_t *cap, int32_t want)
{
    if (*cap >= want)
        return;
    *p = xreallocarray(*p, (size_t)want, sizeof(UChar));
    *cap = want;
}

/* Where to end the chunk that starts at p[0] (len bytes left): at most
 * FOLD_CHUNK bytes, on a UTF-8 character start, before a character that
 * does not combine with what precedes it. */
static size_t
fold_chunk_end(const UNormalizer2 *n2, const char *p, size_t len)
{
    const unsigned char *s = (const unsigned char *)p;
    size_t end, try, tries;

    if (len <= FOLD_CHUNK)
        return len;
    end = FOLD_CHUNK;
    while (end > 0 && (s[end] & 0xc0) == 0x80)
        end--;
    for (try = end, tries = 0; try > 0 && tries < 64; tries++) {
        size_t n = utf8_seqlen(s + try, len - try);
        UChar32 c = 0xfffd;

        if (n == 1)
            c = s[try];
        else if (n == 2)
            c = ((s[try] & 0x1f) << 6) | (s[try + 1] & 0x3f);
        else if (n == 3)
            c = ((s[try] & 0x0f) << 12) | ((s[try + 1] & 0x3f) << 6)
                | (s[try + 2] & 0x3f);
        else if (n == 4)
            c = ((s[try] & 0x07) << 18) | ((s[try + 1] & 0x3f) << 12)
                | ((s[try + 2] & 0x3f) << 6) | (s[try + 3] & 0x3f);
        if (unorm2_hasBoundaryBefore(n2, c))
            return try;
        /* step back one character */
        try--;
        while (try > 0 && (s[try] & 0xc0) == 0x80)
            try--;
    }
    return end ? end : FOLD_CHUNK; /* pathological: cut anyway */
}

/* Fold one chunk; *inspace carries "inside a white-space run" across. */
static int
fold_chunk(const UNormalizer2 *n2, struct fold_scratch *sc, const char *p,
           size_t len, unsigned flags, int *inspace, struct buf *out)
{
    UErrorCode err = U_ZERO_ERROR;
    int32_t ulen, nlen, i = 0;
    UChar32 c;

    /* UTF-16 never has more units than UTF-8 has bytes */
    scratch_grow(&sc->u, &sc->ucap, (int32_t)len + 1);
    u_strFromUTF8WithSub(sc->u, sc->ucap, &ulen, p, (int32_t)len, 0xfffd, NULL,
                         &err);
    if (U_FAILURE(err))
        return ERR_GENERIC;
    scratch_grow(&sc->n, &sc->ncap, ulen * 2 + 16);
    nlen = unorm2_normalize(n2, sc->u, ulen, sc->n, sc->ncap, &err);
    if (err == U_BUFFER_OVERFLOW_ERROR) {
        err = U_ZERO_ERROR;
        scratch_grow(&sc->n, &sc->ncap, nlen + 1);
        nlen = unorm2_normalize(n2, sc->u, ulen, sc->n, sc->ncap, &err);
    }
    if (U_FAILURE(err))
        return ERR_GENERIC;
    buf_ensure(out, (size_t)nlen * 3);
    while (i < nlen) {
        U16_NEXT(sc->n, i, nlen, c);
        if (u_isUWhiteSpace(c)) {
            if (flags & CHARSET_FOLD_SKIPSPACE)
                continue;
            if (flags & CHARSET_FOLD_MERGESPACE) {
                if (!*inspace)
                    buf_putc(out, ' ');
                *inspace = 1;
                continue;
            }
        }
        *inspace = 0;
        if (c < 0x80)
            out->s[out->len++] = (char)c;
        else
            append_utf8_cp(out, U_IS_SURROGATE(c) ? 0xfffd : c);
    }
    return 0;
}

static int
fold_with(struct fold_scratch *sc, const char *p, size_t len, unsigned flags,
          struct buf *out)
{
    UErrorCode err = U_ZERO_ERROR;
    const UNormalizer2 *n2 = unorm2_getNFKCCasefoldInstance(&err);
    int inspace = 0, r;

    if (U_FAILURE(err))
        return ERR_GENERIC;
    while (len > 0) {
        size_t n = fold_chunk_end(n2, p, len);

        if ((r = fold_chunk(n2, sc, p, n, flags, &inspace, out)) < 0)
            return r;
        p += n;
        len -= n;
    }
    return 0;
}

int
charset_fold(const char *p, size_t len, unsigned flags, struct buf *out)
{
    struct fold_scratch sc;
    int r;

    memset(&sc, 0, sizeof(sc));
    r = fold_with(&sc, p, len, flags, out);
    scratch_fini(&sc);
    return r;
}

struct charset_search {
    unsigned flags;
    struct buf needle; /* folded */
    struct buf text;   /* scratch: the folded text */
    struct fold_scratch sc;
};

struct charset_search *
charset_search_new(const char *p, size_t len, unsigned flags)
{
    struct charset_search *s = xzmalloc(sizeof(*s));

    s->flags = flags;
    if (fold_with(&s->sc, p, len, flags, &s->needle) < 0)
        append_utf8_sanitized(&s->needle, p, len);
    return s;
}

int
charset_search_match_folded(const struct charset_search *s, const char *folded,
                            size_t len)
{
    if (s->needle.len == 0)
        return 1;
    return memmem(folded, len, s->needle.s, s->needle.len) != NULL;
}

int
charset_search_match(struct charset_search *s, const char *text, size_t len)
{
    buf_reset(&s->text);
    if (fold_with(&s->sc, text, len, s->flags, &s->text) < 0)
        return 0;
    return charset_search_match_folded(s, buf_base(&s->text), s->text.len);
}

void
charset_search_free(struct charset_search **sp)
{
    struct charset_search *s = *sp;

    if (s == NULL)
        return;
    *sp = NULL;
    buf_free(&s->needle);
    buf_free(&s->text);
    scratch_fini(&s->sc);
    free(s);
}
