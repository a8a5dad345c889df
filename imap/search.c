/* search.c: the program's lifetime and the SEARCH / ESEARCH responses.
 * Parsing is in search_parse.c, evaluation in search_eval.c. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "imaptok.h"
#include "search_priv.h"

void
search_program_free(struct search_program **progp)
{
    struct search_program *prog = *progp;

    if (prog == NULL)
        return;
    *progp = NULL;
    search_node_free(&prog->root);
    free(prog);
}

/* " ALL" of RFC 4731, as ranges of consecutive numbers in the order given
 * (for ascending matches that is the sequence set; a sorted result keeps
 * its order) */
static void
format_all(const uint32_t *matches, size_t n, struct buf *out)
{
    size_t i, j;

    buf_appendcstr(out, " ALL ");
    for (i = 0; i < n; i = j) {
        for (j = i + 1; j < n && matches[j] == matches[j - 1] + 1; j++)
            ;
        buf_printf(out, "%s%" PRIu32, i ? "," : "", matches[i]);
        if (j - i > 1)
            buf_printf(out, ":%" PRIu32, matches[j - 1]);
    }
}

static void
format_esearch(const struct search_return *ret, const char *tag,
               const uint32_t *matches, size_t n, struct buf *out)
{
    buf_appendcstr(out, "* ESEARCH");
    if (tag != NULL) {
        buf_appendcstr(out, " (TAG ");
        imaptok_quote(out, tag, strlen(tag));
        buf_putc(out, ')');
    }
    if (ret->uid)
        buf_appendcstr(out, " UID");
    /* RFC 4731 3.1: MIN, MAX and ALL are left out when nothing matched */
    if (n > 0 && (ret->options & SEARCH_RETURN_MIN))
        buf_printf(out, " MIN %" PRIu32, matches[0]);
    if (n > 0 && (ret->options & SEARCH_RETURN_MAX))
        buf_printf(out, " MAX %" PRIu32, matches[n - 1]);
    if (ret->options & SEARCH_RETURN_COUNT)
        buf_printf(out, " COUNT %zu", n);
    if (n > 0 && (ret->options & SEARCH_RETURN_ALL))
        format_all(matches, n, out);
}

void
search_format_reply(const char *name, const struct search_return *ret,
                    const char *tag, const uint32_t *matches, size_t n,
                    uint64_t highestmodseq, struct buf *out)
{
    size_t i;

    if (ret->esearch) {
        format_esearch(ret, tag, matches, n, out);
        /* RFC 7162 3.1.5: ESEARCH's MODSEQ result */
        if (highestmodseq != 0)
            buf_printf(out, " MODSEQ %" PRIu64, highestmodseq);
    } else {
        buf_printf(out, "* %s", name);
        for (i = 0; i < n; i++)
            buf_printf(out, " %" PRIu32, matches[i]);
        /* RFC 7162 3.1.5: "(MODSEQ n)" only when something matched */
        if (highestmodseq != 0 && n > 0)
            buf_printf(out, " (MODSEQ %" PRIu64 ")", highestmodseq);
    }
    buf_appendcstr(out, "\r\n");
}

void
search_format(const struct search_return *ret, const char *tag,
              const uint32_t *matches, size_t n, uint64_t highestmodseq,
              struct buf *out)
{
    search_format_reply("SEARCH", ret, tag, matches, n, highestmodseq, out);
}
