/* search.c: the program's lifetime and the SEARCH / ESEARCH responses.
 * Parsing is in search_parse.c, evaluation in search_eval.c. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "imaptok.h"
#include "search_priv.h"
#include "seqset.h"

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
    if (n > 0 && (ret->options & SEARCH_RETURN_ALL)) {
        struct seqset *set = seqset_from_list(matches, n);

        buf_appendcstr(out, " ALL ");
        seqset_format(set, out);
        seqset_free(&set);
    }
}

void
search_format(const struct search_return *ret, const char *tag,
              const uint32_t *matches, size_t n, uint64_t highestmodseq,
              struct buf *out)
{
    size_t i;

    if (ret->esearch) {
        format_esearch(ret, tag, matches, n, out);
        /* RFC 7162 3.1.5: ESEARCH's MODSEQ result */
        if (highestmodseq != 0)
            buf_printf(out, " MODSEQ %" PRIu64, highestmodseq);
    } else {
        buf_appendcstr(out, "* SEARCH");
        for (i = 0; i < n; i++)
            buf_printf(out, " %" PRIu32, matches[i]);
        /* RFC 7162 3.1.5: "(MODSEQ n)" only when something matched */
        if (highestmodseq != 0 && n > 0)
            buf_printf(out, " (MODSEQ %" PRIu64 ")", highestmodseq);
    }
    buf_appendcstr(out, "\r\n");
}
