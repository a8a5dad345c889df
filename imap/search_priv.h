/* search_priv.h: the compiled form of a search, shared by
 * search_parse.c (builds it), search_eval.c (runs it), search.c (frees
 * and formats) and sort.c (runs and formats a sorted search). Not for
 * other modules. */
#ifndef SEARCH_PRIV_H
#define SEARCH_PRIV_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "charset.h"
#include "search.h"
#include "seqset.h"

/* Fold flags for both needles and text: white space runs become one space
 * so that a phrase matches across line folds. */
#define SEARCH_FOLD CHARSET_FOLD_MERGESPACE

enum search_kind {
    SEARCH_ALL,
    SEARCH_AND,     /* children, all must match */
    SEARCH_OR,      /* two children */
    SEARCH_NOT,     /* one child */
    SEARCH_SYSFLAG, /* (system_flags & flag) != 0 */
    SEARCH_RECENT,
    SEARCH_KEYWORD, /* user flag by name (or a system flag name) */
    SEARCH_INTERNALDATE,
    SEARCH_SENTDATE,
    SEARCH_OLDER,   /* internaldate <= now - num */
    SEARCH_YOUNGER, /* internaldate >= now - num */
    SEARCH_LARGER,
    SEARCH_SMALLER,
    SEARCH_SEQSET,
    SEARCH_UIDSET,
    SEARCH_MODSEQ, /* modseq >= num */
    SEARCH_HEADER, /* field name + needle */
    SEARCH_BODY,
    SEARCH_TEXT
};

/* Date comparisons against a day [start, end) in local time. */
enum search_datecmp {
    SEARCH_DATE_BEFORE,
    SEARCH_DATE_ON,
    SEARCH_DATE_SINCE
};

/* Evaluation cost classes: cheaper children of AND/OR run first. */
enum search_cost {
    SEARCH_COST_RECORD = 0, /* index record or view only */
    SEARCH_COST_CACHE = 1,  /* cache record */
    SEARCH_COST_HEADER = 2, /* message file, header only */
    SEARCH_COST_BODY = 3    /* message file, decoded body */
};

struct search_node {
    enum search_kind kind;
    enum search_cost cost;
    enum search_datecmp datecmp;
    uint32_t flag;    /* SYSFLAG */
    uint64_t num;     /* sizes, seconds, modseq */
    time_t day_start; /* dates */
    time_t day_end;
    char *name; /* KEYWORD flag, HEADER field name */
    int field;  /* HEADER: envelope_field index or -1 */
    struct seqset *set;
    size_t slot; /* SEQSET/UIDSET/KEYWORD: index into per-run tables */
    struct charset_search *needle; /* HEADER, BODY, TEXT */
    int empty_needle;              /* HEADER "": any message with the field */
    struct search_node **child;
    size_t nchild;
};

struct search_program {
    struct search_node *root;
    size_t nslots; /* nodes with a slot */
    struct search_return ret;
};

void search_node_free(struct search_node **np);

/* For SORT and THREAD (RFC 5256), which put their own arguments between
 * RETURN and the charset. Same returns as search_parse(). */
/* [SP "RETURN" SP "(" ... ")"] (RFC 4731 / 5267); sets ret->esearch and
 * ret->options when present. */
int search_parse_return(struct imaptok *t, struct search_return *ret,
                        const char **error_r);
/* SP charset 1*(SP search-key) and the end of the command; the program
 * reports as *ret says (its modseq field is set from the keys). */
int search_parse_charset_keys(struct imaptok *t,
                              const struct search_return *ret,
                              struct search_program **prog_r,
                              const char **error_r);
/* search_run() with the numbering chosen by the caller (uid nonzero:
 * UIDs) instead of the program's. */
int search_run_as(struct index_view *v, const struct search_program *prog,
                  int uid, uint32_t **matches_r, size_t *n_r,
                  uint64_t *highestmodseq_r);

/* The untagged reply to SEARCH (name "SEARCH") or SORT ("SORT"): "* name
 * n1 n2 ... [(MODSEQ m)]\r\n", or "* ESEARCH ...\r\n" when ret->esearch.
 * matches are in reply order (ascending for SEARCH, sort order for SORT);
 * MIN/MAX are the first/last of them and ALL keeps their order. Appends
 * to out. */
void search_format_reply(const char *name, const struct search_return *ret,
                         const char *tag, const uint32_t *matches, size_t n,
                         uint64_t highestmodseq, struct buf *out);

#endif
