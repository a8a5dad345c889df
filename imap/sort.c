/* sort.c: IMAP SORT (RFC 5256) over the search engine. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "charset.h"
#include "envelope.h"
#include "errors.h"
#include "index.h"
#include "mailbox.h"
#include "message.h"
#include "msgaddr.h"
#include "msgcache.h"
#include "search_priv.h"
#include "sort.h"
#include "xmalloc.h"

enum sort_key {
    SORT_ARRIVAL,
    SORT_CC,
    SORT_DATE,
    SORT_FROM,
    SORT_SIZE,
    SORT_SUBJECT,
    SORT_TO
};

struct sort_crit {
    enum sort_key key;
    int reverse;
};

/* Limit on criteria: each key at most once is plenty, with REVERSE. */
#define SORT_MAX_CRITERIA 16

struct sort_program {
    struct sort_crit crit[SORT_MAX_CRITERIA];
    size_t ncrit;
    struct search_program *search;
    struct search_return ret;
};

/* One matched message with its sort keys. */
struct sort_item {
    uint32_t seq, uid;
    uint64_t modseq;
    int64_t arrival, date;
    uint64_t size;
    char *str[SORT_TO + 1]; /* CC, FROM, SUBJECT, TO (others NULL) */
};

/* ---- parsing ---- */

static const struct {
    const char *name;
    enum sort_key key;
} sort_keys[] = {
    {"ARRIVAL", SORT_ARRIVAL},
    {"CC",      SORT_CC     },
    {"DATE",    SORT_DATE   },
    {"FROM",    SORT_FROM   },
    {"SIZE",    SORT_SIZE   },
    {"SUBJECT", SORT_SUBJECT},
    {"TO",      SORT_TO     },
};

static int
parse_criteria(struct imaptok *t, struct sort_program *p)
{
    struct imaptok_span a;
    size_t i;

    if (imaptok_sp(t) < 0 || imaptok_lparen(t) < 0)
        return -1;
    do {
        int reverse = 0, found = 0;

        if (imaptok_keyword(t, "REVERSE") == 0) {
            reverse = 1;
            if (imaptok_sp(t) < 0)
                return -1;
        }
        if (imaptok_atom(t, &a) < 0 || p->ncrit == SORT_MAX_CRITERIA)
            return -1;
        for (i = 0; i < sizeof(sort_keys) / sizeof(sort_keys[0]); i++) {
            if (strlen(sort_keys[i].name) == a.len
                && strncasecmp(a.p, sort_keys[i].name, a.len) == 0) {
                p->crit[p->ncrit].key = sort_keys[i].key;
                p->crit[p->ncrit].reverse = reverse;
                p->ncrit++;
                found = 1;
            }
        }
        if (!found)
            return -1;
    } while (imaptok_sp(t) == 0);
    return imaptok_rparen(t);
}

int
sort_parse(struct imaptok *t, int uid_command, struct sort_program **prog_r,
           struct search_return *ret_r, const char **error_r)
{
    struct sort_program *p = xzmalloc(sizeof(*p));
    int r;

    p->ret.uid = uid_command != 0;
    r = search_parse_return(t, &p->ret, error_r);
    if (r == 0 && parse_criteria(t, p) < 0) {
        if (error_r)
            *error_r = "Invalid sort criteria";
        r = ERR_SYNTAX;
    }
    if (r == 0)
        r = search_parse_charset_keys(t, &p->ret, &p->search, error_r);
    if (r < 0) {
        sort_program_free(&p);
        return r;
    }
    p->ret.modseq = p->search->ret.modseq;
    *ret_r = p->ret;
    *prog_r = p;
    return 0;
}

void
sort_program_free(struct sort_program **progp)
{
    struct sort_program *p = *progp;

    if (p == NULL)
        return;
    *progp = NULL;
    search_program_free(&p->search);
    free(p);
}

/* ---- base subject (RFC 5256 2.1) ---- */

/* subj-blob = "[" *BLOBCHAR "]" *WSP: the end of one at p, or p. */
static size_t
skip_blob(const char *s, size_t p, size_t e)
{
    size_t q;

    if (p >= e || s[p] != '[')
        return p;
    for (q = p + 1; q < e && s[q] != '[' && s[q] != ']'; q++)
        ;
    if (q >= e || s[q] != ']')
        return p;
    for (q++; q < e && s[q] == ' '; q++)
        ;
    return q;
}

static int
has_prefix(const char *s, size_t p, size_t e, const char *word)
{
    size_t n = strlen(word);

    return e - p >= n && strncasecmp(s + p, word, n) == 0;
}

/* subj-leader = (*subj-blob subj-refwd) / WSP: the end of one at b, or b.
 * subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":" */
static size_t
leader_end(const char *s, size_t b, size_t e)
{
    size_t p = b, q;

    if (b < e && s[b] == ' ')
        return b + 1;
    while ((q = skip_blob(s, p, e)) != p)
        p = q;
    if (has_prefix(s, p, e, "re"))
        p += 2;
    else if (has_prefix(s, p, e, "fwd"))
        p += 3;
    else if (has_prefix(s, p, e, "fw"))
        p += 2;
    else
        return b;
    while (p < e && s[p] == ' ')
        p++;
    p = skip_blob(s, p, e);
    return p < e && s[p] == ':' ? p + 1 : b;
}

void
sort_base_subject(const char *subject, size_t len, struct buf *out)
{
    struct buf dec = BUF_INITIALIZER;
    const char *d;
    size_t i, b, e, n;
    char *s;

    /* 1: decode, white space runs to one space */
    charset_decode_mimeheader(subject, len, &dec);
    buf_reset(out);
    d = buf_base(&dec);
    for (i = 0; i < buf_len(&dec); i++) {
        int ws = d[i] == ' ' || d[i] == '\t' || d[i] == '\r' || d[i] == '\n';

        if (!ws)
            buf_putc(out, d[i]);
        else if (buf_len(out) == 0 || out->s[buf_len(out) - 1] != ' ')
            buf_putc(out, ' ');
    }
    buf_free(&dec);
    s = out->s;
    b = 0;
    e = buf_len(out);
    for (;;) {
        /* 2: trailing "(fwd)" and blanks */
        for (;;) {
            while (e > b && s[e - 1] == ' ')
                e--;
            if (e - b >= 5 && strncasecmp(s + e - 5, "(fwd)", 5) == 0) {
                e -= 5;
                continue;
            }
            break;
        }
        /* 3-5: leaders, and a leading blob unless it is all there is */
        for (;;) {
            size_t old = b;

            while ((n = leader_end(s, b, e)) != b)
                b = n;
            n = skip_blob(s, b, e);
            if (n != b && n < e)
                b = n;
            if (b == old)
                break;
        }
        /* 6: "[fwd:" ... "]" */
        if (e - b >= 6 && strncasecmp(s + b, "[fwd:", 5) == 0
            && s[e - 1] == ']') {
            b += 5;
            e--;
            continue;
        }
        break;
    }
    if (e > b && b > 0)
        memmove(s, s + b, e - b);
    buf_truncate(out, e - b);
}

/* ---- running ---- */

/* The local part of the first address (not a group) of a header value. */
static char *
first_mailbox(const char *value)
{
    struct msgaddr *list, *a;
    char *r = NULL;

    if (value == NULL)
        return xstrdup("");
    list = msgaddr_parse(value, strlen(value));
    for (a = list; a != NULL && r == NULL; a = a->next) {
        if (a->mailbox != NULL && a->domain != NULL)
            r = xstrdup(a->mailbox);
    }
    msgaddr_free(&list);
    return r ? r : xstrdup("");
}

static unsigned
needed_keys(const struct sort_program *p)
{
    unsigned need = 0;
    size_t i;

    for (i = 0; i < p->ncrit; i++)
        need |= 1u << p->crit[i].key;
    return need;
}

/* Fill an item's keys from its record and, if needed, its message. */
static void
item_load(struct mailbox *mb, struct sort_item *it,
          const struct index_record *rec, unsigned need)
{
    const unsigned strkeys = (1u << SORT_CC) | (1u << SORT_FROM)
                             | (1u << SORT_SUBJECT) | (1u << SORT_TO);
    struct message *m = NULL;
    const char *blob, *base;
    size_t bloblen, len;

    it->uid = rec->uid;
    it->modseq = rec->modseq;
    it->arrival = rec->internaldate;
    it->date = rec->sentdate ? rec->sentdate : rec->internaldate;
    it->size = rec->size;
    if (!(need & strkeys))
        return;
    if (mailbox_cache_blob(mb, rec, &blob, &bloblen) < 0
        || msgcache_decode(blob, bloblen, &m) < 0) {
        m = NULL;
        if (mailbox_map_message(mb, rec->uid, &base, &len) == 0) {
            message_parse(base, len, &m);
            mailbox_unmap_message(base, len);
        }
    }
    if (need & (1u << SORT_CC))
        it->str[SORT_CC] =
            first_mailbox(m ? message_field(m, ENVELOPE_CC) : NULL);
    if (need & (1u << SORT_FROM))
        it->str[SORT_FROM] =
            first_mailbox(m ? message_field(m, ENVELOPE_FROM) : NULL);
    if (need & (1u << SORT_TO))
        it->str[SORT_TO] =
            first_mailbox(m ? message_field(m, ENVELOPE_TO) : NULL);
    if (need & (1u << SORT_SUBJECT)) {
        const char *subj = m ? message_field(m, ENVELOPE_SUBJECT) : NULL;
        struct buf base_subj = BUF_INITIALIZER;

        sort_base_subject(subj ? subj : "", subj ? strlen(subj) : 0,
                          &base_subj);
        it->str[SORT_SUBJECT] = xstrdup(buf_cstring(&base_subj));
        buf_free(&base_subj);
    }
    message_free(&m);
}

static int
cmp_num(uint64_t a, uint64_t b)
{
    return a < b ? -1 : a > b;
}

static int
item_cmp(const void *pa, const void *pb, void *ctx)
{
    const struct sort_item *a = pa, *b = pb;
    const struct sort_program *p = ctx;
    size_t i;

    for (i = 0; i < p->ncrit; i++) {
        int c = 0;

        switch (p->crit[i].key) {
        case SORT_ARRIVAL:
            c = a->arrival < b->arrival ? -1 : a->arrival > b->arrival;
            break;
        case SORT_DATE:
            c = a->date < b->date ? -1 : a->date > b->date;
            break;
        case SORT_SIZE:
            c = cmp_num(a->size, b->size);
            break;
        case SORT_CC:
        case SORT_FROM:
        case SORT_SUBJECT:
        case SORT_TO:
            c = strcasecmp(a->str[p->crit[i].key], b->str[p->crit[i].key]);
            break;
        }
        if (c != 0)
            return p->crit[i].reverse ? -c : c;
    }
    /* RFC 5256 3: ties go by sequence number */
    return cmp_num(a->seq, b->seq);
}

int
sort_run(struct index_view *v, const struct sort_program *prog,
         uint32_t **matches_r, size_t *n_r, uint64_t *highestmodseq_r)
{
    struct mailbox *mb = index_mailbox(v);
    struct sort_item *items;
    uint32_t *seqs = NULL, *out;
    size_t n = 0, i, k = 0, j;
    uint64_t hms = 0;
    unsigned need = needed_keys(prog);
    int r;

    *matches_r = NULL;
    *n_r = 0;
    *highestmodseq_r = 0;
    r = search_run_as(v, prog->search, 0, &seqs, &n, &hms);
    if (r < 0 || n == 0) {
        free(seqs);
        return r;
    }
    items = xcalloc(n, sizeof(*items));
    r = mailbox_lock(mb, MAILBOX_SHARED);
    if (r < 0) {
        free(items);
        free(seqs);
        return r;
    }
    for (i = 0; i < n; i++) {
        struct index_record rec;

        if (index_record(v, seqs[i], &rec) < 0)
            continue; /* gone since the search: leave it out */
        items[k].seq = seqs[i];
        item_load(mb, &items[k], &rec, need);
        k++;
    }
    mailbox_unlock(mb);
    free(seqs);
    qsort_r(items, k, sizeof(*items), item_cmp, (void *)prog);
    out = k ? xcalloc(k, sizeof(*out)) : NULL;
    hms = 0;
    for (i = 0; i < k; i++) {
        out[i] = prog->ret.uid ? items[i].uid : items[i].seq;
        /* RFC 7162 3.1.5 as search_run(): MIN/MAX alone report theirs */
        if (!prog->ret.esearch
            || (prog->ret.options & (SEARCH_RETURN_ALL | SEARCH_RETURN_COUNT))
            || ((prog->ret.options & SEARCH_RETURN_MIN) && i == 0)
            || ((prog->ret.options & SEARCH_RETURN_MAX) && i == k - 1)) {
            if (items[i].modseq > hms)
                hms = items[i].modseq;
        }
        for (j = 0; j <= SORT_TO; j++)
            free(items[i].str[j]);
    }
    free(items);
    if (prog->ret.modseq)
        *highestmodseq_r = hms;
    *matches_r = out;
    *n_r = k;
    return 0;
}

void
sort_format(const struct search_return *ret, const char *tag,
            const uint32_t *matches, size_t n, uint64_t highestmodseq,
            struct buf *out)
{
    search_format_reply("SORT", ret, tag, matches, n, highestmodseq, out);
}
