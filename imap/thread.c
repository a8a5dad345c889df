/* thread.c: IMAP THREAD (RFC 5256) over the search engine. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "envelope.h"
#include "errors.h"
#include "hash.h"
#include "index.h"
#include "mailbox.h"
#include "message.h"
#include "msgcache.h"
#include "search_priv.h"
#include "sort.h"
#include "thread.h"
#include "util.h"
#include "xmalloc.h"

struct thread_program {
    enum thread_alg alg;
    int uid;
    struct search_program *search;
};

/* A node of the thread tree: a message or, for REFERENCES, a dummy
 * standing for a referenced message that is not in the set. Links are
 * indexes into the forest's array (which grows). */
struct node {
    int msg; /* index into msgs, or -1 for a dummy */
    int parent, child, next;
};

struct forest {
    const struct thread_msg *msgs;
    struct node *nodes;
    size_t n, alloc;
    char **subj;   /* base subject per message */
    int *is_reply; /* per message: the subject had Re:/Fwd: decorations */
};

int
thread_alg_lookup(const char *name, size_t len, enum thread_alg *alg_r)
{
    if (util_memcaseeq(name, len, "ORDEREDSUBJECT")) {
        *alg_r = THREAD_ORDEREDSUBJECT;
        return 0;
    }
    if (util_memcaseeq(name, len, "REFERENCES")) {
        *alg_r = THREAD_REFERENCES;
        return 0;
    }
    return ERR_NOTFOUND;
}

/* ---- the tree ---- */

static int
node_new(struct forest *f, int msg)
{
    if (f->n == f->alloc) {
        f->alloc = f->alloc ? 2 * f->alloc : 16;
        f->nodes = xrealloc(f->nodes, f->alloc * sizeof(*f->nodes));
    }
    f->nodes[f->n].msg = msg;
    f->nodes[f->n].parent = -1;
    f->nodes[f->n].child = -1;
    f->nodes[f->n].next = -1;
    return (int)f->n++;
}

static void
unlink_node(struct forest *f, int c)
{
    int p = f->nodes[c].parent, *pp;

    if (p < 0)
        return;
    for (pp = &f->nodes[p].child; *pp != c; pp = &f->nodes[*pp].next)
        ;
    *pp = f->nodes[c].next;
    f->nodes[c].parent = -1;
    f->nodes[c].next = -1;
}

/* Append c as the last child of p (c must have no parent). */
static void
add_child(struct forest *f, int p, int c)
{
    int *pp;

    for (pp = &f->nodes[p].child; *pp >= 0; pp = &f->nodes[*pp].next)
        ;
    *pp = c;
    f->nodes[c].parent = p;
    f->nodes[c].next = -1;
}

/* Whether a is b or one of b's ancestors. */
static int
is_ancestor(const struct forest *f, int a, int b)
{
    for (; b >= 0; b = f->nodes[b].parent) {
        if (a == b)
            return 1;
    }
    return 0;
}

static size_t
count_children(const struct forest *f, int p)
{
    size_t k = 0;
    int c;

    for (c = f->nodes[p].child; c >= 0; c = f->nodes[c].next)
        k++;
    return k;
}

/* The message whose date and subject stand for node c: its own, or for a
 * dummy its first child's (RFC 5256 REFERENCES 4 and 5.A). -1 if none. */
static int
node_msg(const struct forest *f, int c)
{
    while (c >= 0 && f->nodes[c].msg < 0)
        c = f->nodes[c].child;
    return c >= 0 ? f->nodes[c].msg : -1;
}

static int
cmp_nodes(const void *pa, const void *pb, void *ctx)
{
    const struct forest *f = ctx;
    int a = node_msg(f, *(const int *)pa), b = node_msg(f, *(const int *)pb);
    int64_t da, db;

    if (a < 0 || b < 0)
        return (a > b) - (a < b);
    da = f->msgs[a].date;
    db = f->msgs[b].date;
    if (da != db)
        return da < db ? -1 : 1;
    return (a > b) - (a < b); /* ties: sequence order */
}

/* Sort p's children by date; with recurse, every level below first,
 * else only the children of dummies (RFC 5256 REFERENCES 4). */
static void
sort_children(struct forest *f, int p, int recurse)
{
    size_t k = count_children(f, p), i;
    int *v, c;

    /* a dummy's date is its first child's once they are sorted */
    for (c = f->nodes[p].child; c >= 0; c = f->nodes[c].next) {
        if (recurse || f->nodes[c].msg < 0)
            sort_children(f, c, recurse);
    }
    if (k < 2)
        return;
    v = xcalloc(k, sizeof(*v));
    for (i = 0, c = f->nodes[p].child; c >= 0; c = f->nodes[c].next)
        v[i++] = c;
    qsort_r(v, k, sizeof(*v), cmp_nodes, f);
    f->nodes[p].child = v[0];
    for (i = 0; i + 1 < k; i++)
        f->nodes[v[i]].next = v[i + 1];
    f->nodes[v[k - 1]].next = -1;
    free(v);
}

/* ---- message-ids ---- */

/* The next "<...>" at *pp (white space inside removed) into out: 0, or -1
 * when there is none left. */
static int
next_msgid(const char **pp, struct buf *out)
{
    const char *p = *pp, *q;

    buf_reset(out);
    for (;;) {
        p = p ? strchr(p, '<') : NULL;
        if (p == NULL)
            return -1;
        q = strchr(p + 1, '>');
        if (q == NULL)
            return -1;
        buf_reset(out);
        for (; p <= q; p++) {
            if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
                buf_putc(out, *p);
        }
        *pp = p;
        if (buf_len(out) > 2)
            return 0;
    }
}

static int
id_node(struct forest *f, struct hash *ids, const char *id)
{
    void *v = hash_lookup(ids, id);
    int c;

    if (v != NULL)
        return (int)(intptr_t)v - 1;
    c = node_new(f, -1);
    hash_insert(ids, id, (void *)(intptr_t)(c + 1));
    return c;
}

/* RFC 5256 REFERENCES steps 1-3: link messages by their references,
 * children of the returned root node are the threads. */
static int
link_references(struct forest *f, size_t n)
{
    struct hash *ids = hash_new(2 * n + 1);
    struct buf id = BUF_INITIALIZER;
    size_t i;
    int root, c;

    for (i = 0; i < n; i++) {
        const struct thread_msg *m = &f->msgs[i];
        const char *p = m->message_id;
        int prev = -1, nrefs = 0;

        c = -1;
        if (next_msgid(&p, &id) == 0) {
            c = id_node(f, ids, buf_cstring(&id));
            if (f->nodes[c].msg >= 0)
                c = -1; /* a duplicate Message-ID: treat as having none */
        }
        if (c < 0)
            c = node_new(f, (int)i);
        f->nodes[c].msg = (int)i;
        /* 1.A: References, or the first msg-id of In-Reply-To */
        p = m->references;
        if (p == NULL || strchr(p, '<') == NULL)
            p = m->in_reply_to;
        while (next_msgid(&p, &id) == 0) {
            int r = id_node(f, ids, buf_cstring(&id));

            if (prev >= 0 && f->nodes[r].parent < 0
                && !is_ancestor(f, r, prev))
                add_child(f, prev, r);
            prev = r;
            nrefs++;
            if (m->references == NULL || strchr(m->references, '<') == NULL)
                break; /* In-Reply-To: first msg-id only */
        }
        /* 1.C: the last reference is the parent, unless that loops */
        if (nrefs > 0 && !is_ancestor(f, c, prev)) {
            unlink_node(f, c);
            add_child(f, prev, c);
        } else if (nrefs == 0) {
            unlink_node(f, c);
        }
    }
    buf_free(&id);
    hash_free(&ids, NULL);
    /* 2: the roots */
    root = node_new(f, -1);
    for (i = 0; i + 1 < f->n; i++) {
        if (f->nodes[i].parent < 0)
            add_child(f, root, (int)i);
    }
    return root;
}

/* 3: drop dummies without children; promote the children of a dummy
 * unless it is at the top with more than one child. */
static void
prune(struct forest *f, int p, int root)
{
    int c = f->nodes[p].child, *pp = &f->nodes[p].child;

    while (c >= 0) {
        int next = f->nodes[c].next;

        prune(f, c, root);
        if (f->nodes[c].msg < 0
            && (p != root || count_children(f, c) <= 1)) {
            int first = f->nodes[c].child, k;

            /* splice c's children in c's place */
            for (k = first; k >= 0; k = f->nodes[k].next)
                f->nodes[k].parent = p;
            if (first >= 0) {
                *pp = first;
                for (k = first; f->nodes[k].next >= 0; k = f->nodes[k].next)
                    ;
                f->nodes[k].next = next;
                pp = &f->nodes[k].next;
            } else {
                *pp = next;
            }
            f->nodes[c].child = -1;
            f->nodes[c].parent = -1;
        } else {
            pp = &f->nodes[c].next;
        }
        c = next;
    }
}

/* 5: merge threads whose roots have the same base subject. */
static void
group_by_subject(struct forest *f, int root)
{
    struct hash *subj = hash_new(count_children(f, root) + 1);
    int c, next;

    /* 5.A-C: the representative root of each subject */
    for (c = f->nodes[root].child; c >= 0; c = f->nodes[c].next) {
        int m = node_msg(f, c), old;
        void *v;

        if (m < 0 || f->subj[m][0] == '\0')
            continue;
        v = hash_lookup(subj, f->subj[m]);
        old = v ? (int)(intptr_t)v - 1 : -1;
        if (old < 0
            || (f->nodes[c].msg < 0 && f->nodes[old].msg >= 0)
            || (f->nodes[old].msg >= 0 && f->nodes[c].msg >= 0
                && f->is_reply[f->nodes[old].msg]
                && !f->is_reply[f->nodes[c].msg]))
            hash_insert(subj, f->subj[m], (void *)(intptr_t)(c + 1));
    }
    /* 5.D-E: merge the others into it */
    for (c = f->nodes[root].child; c >= 0; c = next) {
        int m = node_msg(f, c), t, k;
        void *v;

        next = f->nodes[c].next;
        if (m < 0 || f->subj[m][0] == '\0')
            continue;
        v = hash_lookup(subj, f->subj[m]);
        t = v ? (int)(intptr_t)v - 1 : -1;
        if (t < 0 || t == c)
            continue;
        unlink_node(f, c);
        if (f->nodes[t].msg < 0 && f->nodes[c].msg < 0) {
            /* both dummies: c's children join t's */
            while ((k = f->nodes[c].child) >= 0) {
                unlink_node(f, k);
                add_child(f, t, k);
            }
        } else if (f->nodes[t].msg < 0) {
            add_child(f, t, c);
        } else if (f->nodes[c].msg >= 0 && f->is_reply[f->nodes[c].msg]
                   && !f->is_reply[f->nodes[t].msg]) {
            add_child(f, t, c);
        } else {
            /* siblings under a new dummy that takes t's place */
            int d = node_new(f, -1), *pp;

            for (pp = &f->nodes[root].child; *pp != t;
                 pp = &f->nodes[*pp].next)
                ;
            *pp = d;
            f->nodes[d].parent = root;
            f->nodes[d].next = f->nodes[t].next;
            f->nodes[t].parent = -1;
            f->nodes[t].next = -1;
            add_child(f, d, t);
            add_child(f, d, c);
            hash_insert(subj, f->subj[m], (void *)(intptr_t)(d + 1));
        }
    }
    hash_free(&subj, NULL);
}

/* ORDEREDSUBJECT (RFC 5256 4): group by base subject; the earliest is the
 * parent of all the others. */
static int
build_orderedsubject(struct forest *f, size_t n)
{
    struct hash *subj = hash_new(n + 1);
    int root, c;
    size_t i;

    for (i = 0; i < n; i++)
        node_new(f, (int)i);
    root = node_new(f, -1);
    for (i = 0; i < n; i++)
        add_child(f, root, (int)i);
    sort_children(f, root, 0);
    for (c = f->nodes[root].child; c >= 0;) {
        int next = f->nodes[c].next, m = f->nodes[c].msg;
        void *v = hash_lookup(subj, f->subj[m]);

        if (v == NULL) {
            hash_insert(subj, f->subj[m], (void *)(intptr_t)(c + 1));
        } else {
            unlink_node(f, c);
            add_child(f, (int)(intptr_t)v - 1, c);
        }
        c = next;
    }
    hash_free(&subj, NULL);
    return root;
}

/* ---- output ---- */

/* thread-members [SP thread-nested] for node c (a dummy writes only its
 * nested children). */
static void
write_members(const struct forest *f, int c, struct buf *out)
{
    int k;

    for (;;) {
        size_t nk = count_children(f, c);

        if (f->nodes[c].msg >= 0) {
            buf_printf(out, "%" PRIu32, f->msgs[f->nodes[c].msg].id);
            if (nk > 0)
                buf_putc(out, ' ');
        }
        if (nk == 1 && f->nodes[c].msg >= 0) {
            c = f->nodes[c].child;
            continue;
        }
        for (k = f->nodes[c].child; k >= 0; k = f->nodes[k].next) {
            buf_putc(out, '(');
            write_members(f, k, out);
            buf_putc(out, ')');
        }
        return;
    }
}

/* Whether the decorations sort_base_subject() removes include a reply or
 * forward marker, for REFERENCES 5.C. */
static int
subject_is_reply(const char *subject, const char *base)
{
    struct buf plain = BUF_INITIALIZER;
    const char *s;
    size_t len;
    int r = 0;

    if (subject == NULL)
        return 0;
    charset_decode_mimeheader(subject, strlen(subject), &plain);
    s = buf_cstring(&plain);
    while (*s == ' ' || *s == '\t')
        s++;
    len = strlen(s);
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    while (*s == '[') { /* list tags ahead of the Re: */
        const char *q = strchr(s, ']');

        if (q == NULL)
            break;
        len -= (size_t)(q + 1 - s);
        for (s = q + 1; *s == ' '; s++)
            len--;
    }
    if (strncasecmp(s, "re", 2) == 0 || strncasecmp(s, "fw", 2) == 0)
        r = strlen(base) < len; /* the base subject lost the leader */
    else if (len >= 5 && strncasecmp(s + len - 5, "(fwd)", 5) == 0)
        r = 1;
    else if (strncasecmp(s, "[fwd:", 5) == 0)
        r = 1;
    buf_free(&plain);
    return r;
}

void
thread_build(enum thread_alg alg, const struct thread_msg *msgs, size_t n,
             struct buf *out)
{
    struct forest f;
    struct buf b = BUF_INITIALIZER;
    size_t i;
    int root, c;

    if (n == 0)
        return;
    memset(&f, 0, sizeof(f));
    f.msgs = msgs;
    f.subj = xcalloc(n, sizeof(*f.subj));
    f.is_reply = xcalloc(n, sizeof(*f.is_reply));
    for (i = 0; i < n; i++) {
        const char *s = msgs[i].subject ? msgs[i].subject : "";

        sort_base_subject(s, strlen(s), &b);
        f.subj[i] = xstrdup(buf_cstring(&b));
        f.is_reply[i] = subject_is_reply(msgs[i].subject, f.subj[i]);
    }
    buf_free(&b);
    if (alg == THREAD_ORDEREDSUBJECT) {
        root = build_orderedsubject(&f, n);
    } else {
        root = link_references(&f, n);
        prune(&f, root, root);
        sort_children(&f, root, 0); /* 4 */
        group_by_subject(&f, root); /* 5 */
        sort_children(&f, root, 1); /* 6 */
    }
    for (c = f.nodes[root].child; c >= 0; c = f.nodes[c].next) {
        buf_putc(out, '(');
        write_members(&f, c, out);
        buf_putc(out, ')');
    }
    for (i = 0; i < n; i++)
        free(f.subj[i]);
    free(f.subj);
    free(f.is_reply);
    free(f.nodes);
}

/* ---- the command ---- */

int
thread_parse(struct imaptok *t, int uid_command,
             struct thread_program **prog_r, const char **error_r)
{
    struct thread_program *p = xzmalloc(sizeof(*p));
    struct search_return ret;
    struct imaptok_span a;
    int r = 0;

    memset(&ret, 0, sizeof(ret));
    ret.uid = uid_command != 0;
    p->uid = ret.uid;
    if (imaptok_sp(t) < 0 || imaptok_atom(t, &a) < 0
        || thread_alg_lookup(a.p, a.len, &p->alg) < 0) {
        if (error_r)
            *error_r = "Invalid Thread algorithm";
        r = ERR_SYNTAX;
    }
    if (r == 0)
        r = search_parse_charset_keys(t, &ret, &p->search, error_r);
    if (r < 0) {
        thread_program_free(&p);
        return r;
    }
    *prog_r = p;
    return 0;
}

void
thread_program_free(struct thread_program **progp)
{
    struct thread_program *p = *progp;

    if (p == NULL)
        return;
    *progp = NULL;
    search_program_free(&p->search);
    free(p);
}

static char *
dup_field(const struct message *m, enum envelope_field fld)
{
    const char *v = m ? message_field(m, fld) : NULL;

    return v ? xstrdup(v) : NULL;
}

int
thread_run(struct index_view *v, const struct thread_program *prog,
           struct buf *out)
{
    struct mailbox *mb = index_mailbox(v);
    struct thread_msg *msgs;
    uint32_t *seqs = NULL;
    uint64_t hms = 0;
    size_t n = 0, i, k = 0;
    int r;

    buf_appendcstr(out, "* THREAD");
    r = search_run_as(v, prog->search, 0, &seqs, &n, &hms);
    if (r < 0 || n == 0) {
        free(seqs);
        buf_appendcstr(out, "\r\n");
        return r;
    }
    msgs = xcalloc(n, sizeof(*msgs));
    r = mailbox_lock(mb, MAILBOX_SHARED);
    if (r < 0) {
        free(msgs);
        free(seqs);
        buf_appendcstr(out, "\r\n");
        return r;
    }
    for (i = 0; i < n; i++) {
        struct index_record rec;
        struct message *m = NULL;
        const char *blob, *base;
        size_t bloblen, len;

        if (index_record(v, seqs[i], &rec) < 0)
            continue; /* gone since the search */
        if (mailbox_cache_blob(mb, &rec, &blob, &bloblen) < 0
            || msgcache_decode(blob, bloblen, &m) < 0) {
            m = NULL;
            if (mailbox_map_message(mb, rec.uid, &base, &len) == 0) {
                message_parse(base, len, &m);
                mailbox_unmap_message(base, len);
            }
        }
        msgs[k].id = prog->uid ? rec.uid : seqs[i];
        msgs[k].date = rec.sentdate ? rec.sentdate : rec.internaldate;
        msgs[k].subject = dup_field(m, ENVELOPE_SUBJECT);
        msgs[k].message_id = dup_field(m, ENVELOPE_MESSAGE_ID);
        msgs[k].references = dup_field(m, ENVELOPE_REFERENCES);
        msgs[k].in_reply_to = dup_field(m, ENVELOPE_IN_REPLY_TO);
        message_free(&m);
        k++;
    }
    mailbox_unlock(mb);
    free(seqs);
    if (k > 0)
        buf_putc(out, ' ');
    thread_build(prog->alg, msgs, k, out);
    buf_appendcstr(out, "\r\n");
    for (i = 0; i < k; i++) {
        free((char *)msgs[i].subject);
        free((char *)msgs[i].message_id);
        free((char *)msgs[i].references);
        free((char *)msgs[i].in_reply_to);
    }
    free(msgs);
    return 0;
}
