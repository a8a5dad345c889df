/* proxy_scan.c: the tagged-reply scanner of proxy_scan.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "proxy_scan.h"
#include "strarray.h"
#include "xmalloc.h"

/* Where the scanner is within the current line's literal marker. */
enum lit_state {
    LIT_NONE,  /* no "{" candidate at the end of the line so far */
    LIT_OPEN,  /* "{" seen */
    LIT_DIGIT, /* "{" and digits */
    LIT_CLOSE, /* "{n}" (or "{n+}") */
    LIT_CR     /* "{n}\r" */
};

struct proxy_scan {
    struct strarray tags; /* queued, oldest first */
    size_t head;          /* index of the oldest unanswered tag in tags */
    int line_start;       /* the next byte starts a line */
    int matching;         /* this line may still be the head's tagged reply */
    size_t taglen;        /* strlen() of the head tag */
    size_t tagpos;        /* bytes of the head tag matched */
    int tagged;           /* this line is the head's tagged reply */
    struct buf line;      /* the tagged line so far */
    struct buf last;      /* the last complete tagged line */
    enum lit_state lit;
    uint64_t litn;    /* the literal's size while parsing it */
    uint64_t literal; /* literal bytes still to skip */
};

struct proxy_scan *
proxy_scan_new(void)
{
    struct proxy_scan *sc = xzmalloc(sizeof(*sc));

    sc->line_start = 1;
    return sc;
}

void
proxy_scan_free(struct proxy_scan **sp)
{
    struct proxy_scan *sc = *sp;

    if (sc == NULL)
        return;
    *sp = NULL;
    strarray_fini(&sc->tags);
    buf_free(&sc->line);
    buf_free(&sc->last);
    free(sc);
}

void
proxy_scan_push(struct proxy_scan *sc, const char *tag)
{
    strarray_append(&sc->tags, tag);
}

size_t
proxy_scan_pending(const struct proxy_scan *sc)
{
    return sc->tags.count - sc->head;
}

const char *
proxy_scan_head(const struct proxy_scan *sc)
{
    if (proxy_scan_pending(sc) == 0)
        return NULL;
    return strarray_nth(&sc->tags, sc->head);
}

void
proxy_scan_pop(struct proxy_scan *sc)
{
    if (proxy_scan_pending(sc) == 0)
        return;
    sc->head++;
    if (sc->head == sc->tags.count) {
        /* all answered: start the queue over instead of growing it */
        strarray_truncate(&sc->tags, 0);
        sc->head = 0;
    }
}

uint64_t
proxy_scan_literal_left(const struct proxy_scan *sc)
{
    return sc->literal;
}

void
proxy_scan_skip(struct proxy_scan *sc, uint64_t n)
{
    sc->literal -= n < sc->literal ? n : sc->literal;
}

const char *
proxy_scan_tagged(const struct proxy_scan *sc)
{
    return buf_cstring(&((struct proxy_scan *)sc)->last);
}

/* Track "{n}" / "{n+}" at the end of the line, one byte at a time. */
static void
lit_step(struct proxy_scan *sc, char c)
{
    if (c == '{') {
        sc->lit = LIT_OPEN;
        sc->litn = 0;
        return;
    }
    switch (sc->lit) {
    case LIT_OPEN:
    case LIT_DIGIT:
        if (c >= '0' && c <= '9' && sc->litn <= (UINT64_MAX - 9) / 10) {
            sc->litn = sc->litn * 10 + (uint64_t)(c - '0');
            sc->lit = LIT_DIGIT;
            return;
        }
        if (sc->lit == LIT_DIGIT && c == '}') {
            sc->lit = LIT_CLOSE;
            return;
        }
        if (sc->lit == LIT_DIGIT && c == '+')
            return; /* "{n+" */
        break;
    case LIT_CLOSE:
        if (c == '\r') {
            sc->lit = LIT_CR;
            return;
        }
        break;
    default:
        break;
    }
    sc->lit = LIT_NONE;
}

/* Run the literal tracker over seg[0..n), none of which is a line end.
 * Only the bytes from the last "{" on can leave a marker pending; before
 * that, the state reaches LIT_NONE at the first byte that is not part of
 * a marker and stays there (same result as stepping every byte). */
static void
lit_scan(struct proxy_scan *sc, const char *seg, size_t n)
{
    const char *open = n ? memrchr(seg, '{', n) : NULL;
    size_t i = 0;

    if (open != NULL) {
        i = (size_t)(open - seg);
    } else {
        for (; i < n && sc->lit != LIT_NONE; i++)
            lit_step(sc, seg[i]);
        return;
    }
    for (; i < n; i++)
        lit_step(sc, seg[i]);
}

/* The line ended (its LF was scanned). 1 when it was the head's tagged
 * reply (now dequeued, the line in sc->last). */
static int
line_end(struct proxy_scan *sc)
{
    size_t n;

    sc->line_start = 1;
    if (sc->lit == LIT_CLOSE || sc->lit == LIT_CR) {
        /* the line goes on after the literal */
        sc->literal = sc->litn;
        sc->line_start = 0;
        sc->lit = LIT_NONE;
        return 0;
    }
    if (!sc->tagged)
        return 0;
    n = buf_len(&sc->line);
    if (n && buf_base(&sc->line)[n - 1] == '\r')
        buf_truncate(&sc->line, n - 1);
    buf_setmap(&sc->last, buf_base(&sc->line), buf_len(&sc->line));
    proxy_scan_pop(sc);
    return 1;
}

/* Match c against the head tag at the start of a line. */
static void
match_step(struct proxy_scan *sc, char c)
{
    const char *head = proxy_scan_head(sc);

    if (sc->tagpos < sc->taglen && c == head[sc->tagpos]) {
        sc->tagpos++;
    } else if (sc->tagpos == sc->taglen && c == ' ') {
        sc->tagged = 1;
        buf_setcstr(&sc->line, head);
        buf_putc(&sc->line, c);
        sc->matching = 0;
    } else {
        sc->matching = 0;
    }
}

size_t
proxy_scan_feed(struct proxy_scan *sc, const char *p, size_t len, int *done_r)
{
    size_t i = 0;

    *done_r = 0;
    while (i < len) {
        const char *nl;
        size_t end;

        if (sc->literal) {
            size_t n = len - i;

            if ((uint64_t)n > sc->literal)
                n = (size_t)sc->literal;
            sc->literal -= n;
            i += n;
            continue;
        }
        if (sc->line_start) {
            const char *head = proxy_scan_head(sc);

            sc->line_start = 0;
            sc->matching = head != NULL;
            sc->taglen = head ? strlen(head) : 0;
            sc->tagpos = 0;
            sc->tagged = 0;
            sc->lit = LIT_NONE;
            buf_reset(&sc->line);
        }
        /* the first bytes of a line, one at a time, while they may be
         * the head's tag; then the rest of the line at once */
        while (sc->matching && i < len && p[i] != '\n') {
            match_step(sc, p[i]);
            lit_step(sc, p[i]);
            i++;
        }
        if (i == len)
            break;
        nl = memchr(p + i, '\n', len - i);
        end = nl ? (size_t)(nl - p) : len;
        if (sc->tagged)
            buf_appendmap(&sc->line, p + i, end - i);
        lit_scan(sc, p + i, end - i);
        i = end;
        if (nl == NULL)
            break;
        i++;
        if (line_end(sc)) {
            *done_r = 1;
            return i;
        }
    }
    return i;
}
