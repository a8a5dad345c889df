/* cyradm_cmds.c: the cyradm commands (perl/imap/IMAP/Shell.pm names,
 * aliases, arguments and output lines; the IMAP each sends is
 * IMAP-SCOPE.md section 4). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cyradm.h"
#include "errors.h"
#include "imapclient_resp.h"
#include "util.h"
#include "xmalloc.h"

/* One argument of an IMAP command: an astring, or verbatim text. */
struct arg {
    const char *s;
    int raw;
};

#define MAX_ARGS 64

struct cmd {
    const char *name;
    const char *aliases[3];
    int (*run)(struct cyradm *a, const char *name, int argc, char **argv);
    const char *usage;
    const char *help;
};

/* ---- sending, with referrals ---- */

static void
build(struct imapclient *c, const char *verb, const struct arg *args,
      size_t n)
{
    size_t i;

    imapclient_cmd_begin(c, verb);
    for (i = 0; i < n; i++) {
        if (args[i].raw)
            imapclient_cmd_atom(c, args[i].s);
        else
            imapclient_cmd_string(c, args[i].s);
    }
}

/* Follow a "NO [REFERRAL url ...]": connect to the (single) server the
 * URLs name, log in again and repeat the command there (Admin.pm). 0 and
 * the new result, or -1 (printed). */
static int
follow_referral(struct cyradm *a, const char *name, const char *verb,
                const struct arg *args, size_t n, imapclient_untagged_cb *cb,
                void *ctx, struct imapclient_result *res)
{
    struct strarray urls = {0};
    struct buf host = BUF_INITIALIZER, port = BUF_INITIALIZER,
               mb = BUF_INITIALIZER, host2 = BUF_INITIALIZER;
    struct imapclient *other = NULL;
    size_t i;
    int r = -1;

    imapclient_resp_referral(buf_cstring(&res->code), &urls);
    for (i = 0; i < urls.count; i++) {
        if (imapclient_resp_url(strarray_nth(&urls, i), i ? &host2 : &host,
                                &port, &mb)
            < 0) {
            fprintf(a->err, "%s: bad referral %s\n", name,
                    strarray_nth(&urls, i));
            goto done;
        }
        if (i && strcmp(buf_cstring(&host), buf_cstring(&host2)) != 0) {
            fprintf(a->err, "%s: Inter-server referral (%s and %s)\n", name,
                    buf_cstring(&host), buf_cstring(&host2));
            goto done;
        }
    }
    if (urls.count == 0) {
        fprintf(a->err, "%s: referral without a URL\n", name);
        goto done;
    }
    if (cyradm_connect(a, buf_cstring(&host),
                       buf_len(&port) ? buf_cstring(&port) : "143", &other)
        < 0)
        goto done;
    build(other, verb, args, n);
    if (imapclient_cmd_run(other, cb, ctx, res) < 0) {
        fprintf(a->err, "%s: %s: %s\n", name, buf_cstring(&host),
                imapclient_error(other));
        goto done;
    }
    r = 0;
done:
    imapclient_logout(&other);
    strarray_fini(&urls);
    buf_free(&host);
    buf_free(&host2);
    buf_free(&port);
    buf_free(&mb);
    return r;
}

/* Send verb args, follow a referral, and report a failure as
 * "name: text". 0 when the server said OK, -1 otherwise. */
static int
send_cmd(struct cyradm *a, const char *name, const char *verb,
         const struct arg *args, size_t n, imapclient_untagged_cb *cb,
         void *ctx)
{
    struct imapclient_result res;
    int r;

    if (a->conn == NULL) {
        fprintf(a->err, "%s: not connected\n", name);
        return -1;
    }
    imapclient_result_init(&res);
    build(a->conn, verb, args, n);
    r = imapclient_cmd_run(a->conn, cb, ctx, &res);
    if (r < 0) {
        fprintf(a->err, "%s: %s\n", name, imapclient_error(a->conn));
        /* the connection is gone: later commands say "not connected" */
        imapclient_free(&a->conn);
        goto done;
    }
    if (res.status == IMAPCLIENT_NO
        && util_strncasecmp(buf_cstring(&res.code), "REFERRAL ", 9) == 0) {
        r = follow_referral(a, name, verb, args, n, cb, ctx, &res);
        if (r < 0)
            goto done;
    }
    if (res.status != IMAPCLIENT_OK) {
        fprintf(a->err, "%s: %s\n", name, buf_cstring(&res.text));
        r = -1;
    }
done:
    imapclient_result_fini(&res);
    return r;
}

static int
usage_error(struct cyradm *a, const char *name)
{
    fprintf(a->err, "%s: wrong number of arguments\n", name);
    cyradm_help(a, name);
    return -1;
}

static int
has_wildcard(const char *s)
{
    return strpbrk(s, "*%") != NULL;
}

/* ---- listmailbox ---- */

struct list_ctx {
    struct strarray names;
    struct strarray lines;
    int skip_noselect;
};

static void
list_cb(void *ctx, const char *resp, size_t len)
{
    struct list_ctx *l = ctx;
    struct strarray attrs = {0};
    struct buf name = BUF_INITIALIZER, line = BUF_INITIALIZER;
    char sep;
    char *joined;

    if (imapclient_resp_list(resp, len, &attrs, &sep, &name) == 0) {
        if (!(l->skip_noselect
              && (strarray_find_case(&attrs, "\\Noselect") >= 0
                  || strarray_find_case(&attrs, "\\NonExistent") >= 0)))
            strarray_append(&l->names, buf_cstring(&name));
        buf_appendbuf(&line, &name);
        if (attrs.count) {
            joined = strarray_join(&attrs, " ");
            buf_printf(&line, " (%s)", joined);
            free(joined);
        }
        strarray_append(&l->lines, buf_cstring(&line));
    }
    strarray_fini(&attrs);
    buf_free(&name);
    buf_free(&line);
}

static int
list_names(struct cyradm *a, const char *name, const char *ref,
           const char *pat, int subscribed, int specialuse,
           struct list_ctx *l)
{
    struct arg args[4];
    size_t n = 0;

    if (subscribed)
        args[n++] = (struct arg){"(SUBSCRIBED)", 1};
    else if (specialuse)
        args[n++] = (struct arg){"(SPECIAL-USE)", 1};
    args[n++] = (struct arg){ref, 0};
    args[n++] = (struct arg){pat, 0};
    return send_cmd(a, name, "LIST", args, n, list_cb, l);
}

static void
list_fini(struct list_ctx *l)
{
    strarray_fini(&l->names);
    strarray_fini(&l->lines);
}

static int
cmd_list(struct cyradm *a, const char *name, int argc, char **argv)
{
    struct list_ctx l = {0};
    int subscribed = 0, specialuse = 0, i = 1, r;
    const char *pat = "*", *ref = "";

    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        const char *o = argv[i] + (argv[i][1] == '-' ? 2 : 1);

        if (strcmp(o, "subscribed") == 0)
            subscribed = 1;
        else if (strcmp(o, "specialuse") == 0)
            specialuse = 1;
        else
            return usage_error(a, name);
    }
    if (argc - i > 2)
        return usage_error(a, name);
    if (i < argc)
        pat = argv[i++];
    if (i < argc)
        ref = argv[i++];
    r = list_names(a, name, ref, pat, subscribed, specialuse, &l);
    if (r == 0) {
        size_t k;

        for (k = 0; k < l.lines.count; k++)
            fprintf(a->out, "%s\n", strarray_nth(&l.lines, k));
    }
    list_fini(&l);
    return r;
}

/* The mailboxes a command argument names: itself, or what LIST returns
 * for a pattern (selectable ones only). */
static int
expand(struct cyradm *a, const char *name, const char *arg,
       struct strarray *out)
{
    struct list_ctx l = {0};
    size_t k;
    int r = 0;

    if (!has_wildcard(arg)) {
        strarray_append(out, arg);
        return 0;
    }
    l.skip_noselect = 1;
    r = list_names(a, name, "", arg, 0, 0, &l);
    for (k = 0; r == 0 && k < l.names.count; k++)
        strarray_append(out, strarray_nth(&l.names, k));
    list_fini(&l);
    return r;
}

/* ---- create, delete, rename ---- */

/* "--partition p" / "-partition p" / "--specialuse f" before the
 * positional arguments; the rest is left in *pos_r. */
static int
create_opts(int argc, char **argv, const char **partition_r,
            const char **specialuse_r, int *pos_r)
{
    int i = 1;

    while (i < argc && argv[i][0] == '-' && argv[i][1]) {
        const char *o = argv[i] + (argv[i][1] == '-' ? 2 : 1);

        if (i + 1 >= argc)
            return -1;
        if (strcmp(o, "partition") == 0 || strcmp(o, "part") == 0)
            *partition_r = argv[i + 1];
        else if (specialuse_r && strcmp(o, "specialuse") == 0)
            *specialuse_r = argv[i + 1];
        else
            return -1;
        i += 2;
    }
    *pos_r = i;
    return 0;
}

static int
cmd_create(struct cyradm *a, const char *name, int argc, char **argv)
{
    const char *partition = NULL, *specialuse = NULL;
    struct buf opts = BUF_INITIALIZER;
    struct arg args[2];
    int i, r;

    if (create_opts(argc, argv, &partition, &specialuse, &i) < 0
        || argc - i < 1 || argc - i > 2)
        return usage_error(a, name);
    if (argc - i == 2)
        partition = argv[i + 1];
    args[0] = (struct arg){argv[i], 0};
    if (specialuse) {
        /* RFC 6154 5.1 CREATE-SPECIAL-USE, with Cyrus's PARTITION */
        buf_putc(&opts, '(');
        if (partition)
            buf_printf(&opts, "PARTITION %s ", partition);
        buf_printf(&opts, "USE (%s))", specialuse);
        args[1] = (struct arg){buf_cstring(&opts), 1};
    } else {
        args[1] = (struct arg){partition, 0};
    }
    r = send_cmd(a, name, "CREATE", args, partition || specialuse ? 2 : 1,
                 NULL, NULL);
    buf_free(&opts);
    return r;
}

static int
cmd_delete(struct cyradm *a, const char *name, int argc, char **argv)
{
    struct strarray boxes = {0};
    size_t k;
    int r;

    if (argc != 2)
        return usage_error(a, name);
    r = expand(a, name, argv[1], &boxes);
    for (k = 0; r == 0 && k < boxes.count; k++) {
        struct arg arg = {strarray_nth(&boxes, k), 0};

        r = send_cmd(a, name, "DELETE", &arg, 1, NULL, NULL);
    }
    strarray_fini(&boxes);
    return r;
}

/* RENAME and XFER: [--partition p] mailbox target [partition], where
 * target is the new name or the destination server. */
static int
move_cmd(struct cyradm *a, const char *name, const char *verb, int argc,
         char **argv)
{
    const char *partition = NULL;
    struct arg args[3];
    int i;

    if (create_opts(argc, argv, &partition, NULL, &i) < 0 || argc - i < 2
        || argc - i > 3)
        return usage_error(a, name);
    if (argc - i == 3)
        partition = argv[i + 2];
    args[0] = (struct arg){argv[i], 0};
    args[1] = (struct arg){argv[i + 1], 0};
    args[2] = (struct arg){partition, 0};
    return send_cmd(a, name, verb, args, partition ? 3 : 2, NULL, NULL);
}

static int
cmd_rename(struct cyradm *a, const char *name, int argc, char **argv)
{
    return move_cmd(a, name, "RENAME", argc, argv);
}

static int
cmd_xfer(struct cyradm *a, const char *name, int argc, char **argv)
{
    return move_cmd(a, name, "XFER", argc, argv);
}

/* ---- ACLs ---- */

static const struct {
    const char *alias;
    const char *rights;
} acl_aliases[] = {
    {"none",   ""           },
    {"read",   "lrs"        },
    {"post",   "lrsp"       },
    {"append", "lrsip"      },
    {"write",  "lrswipkxte" },
    {"delete", "lrxte"      },
    {"all",    "lrswipkxtea"},
};

/* Shell.pm: a rights alias, any case, else the rights as given. */
static const char *
acl_rights(const char *r)
{
    size_t i;

    for (i = 0; i < sizeof(acl_aliases) / sizeof(acl_aliases[0]); i++) {
        if (util_strcasecmp(r, acl_aliases[i].alias) == 0)
            return acl_aliases[i].rights;
    }
    return r;
}

static int
cmd_setacl(struct cyradm *a, const char *name, int argc, char **argv)
{
    struct strarray boxes = {0};
    size_t k;
    int i, r;

    if (argc < 4 || (argc - 2) % 2)
        return usage_error(a, name);
    r = expand(a, name, argv[1], &boxes);
    for (k = 0; r == 0 && k < boxes.count; k++) {
        for (i = 2; r == 0 && i + 1 < argc; i += 2) {
            struct arg args[3] = {
                {strarray_nth(&boxes, k), 0},
                {argv[i],                 0},
                {acl_rights(argv[i + 1]), 0},
            };

            r = send_cmd(a, name, "SETACL", args, 3, NULL, NULL);
        }
    }
    strarray_fini(&boxes);
    return r;
}

static int
cmd_deleteacl(struct cyradm *a, const char *name, int argc, char **argv)
{
    struct strarray boxes = {0};
    size_t k;
    int i, r;

    if (argc < 3)
        return usage_error(a, name);
    r = expand(a, name, argv[1], &boxes);
    for (k = 0; r == 0 && k < boxes.count; k++) {
        for (i = 2; r == 0 && i < argc; i++) {
            struct arg args[2] = {
                {strarray_nth(&boxes, k), 0},
                {argv[i],                 0},
            };

            r = send_cmd(a, name, "DELETEACL", args, 2, NULL, NULL);
        }
    }
    strarray_fini(&boxes);
    return r;
}

/* Untagged replies that carry a mailbox and name/value pairs (ACL,
 * METADATA): each pair becomes a line "<indent><name><sep><value>". */
struct pairs_ctx {
    int (*parse)(const char *resp, size_t len, struct buf *mailbox_r,
                 struct strarray *pairs_r);
    const char *indent; /* "  " under a mailbox header, or "" */
    const char *sep;
    struct buf out;
};

static void
pairs_cb(void *ctx, const char *resp, size_t len)
{
    struct pairs_ctx *p = ctx;
    struct strarray pairs = {0};
    struct buf mb = BUF_INITIALIZER;
    size_t i;

    if (p->parse(resp, len, &mb, &pairs) == 0) {
        for (i = 0; i + 1 < pairs.count; i += 2)
            buf_printf(&p->out, "%s%s%s%s\n", p->indent,
                       strarray_nth(&pairs, i), p->sep,
                       strarray_nth(&pairs, i + 1));
    }
    strarray_fini(&pairs);
    buf_free(&mb);
}

/* Shell.pm prints "id rights" per entry; for a pattern, each mailbox's
 * entries follow a "mailbox:" line. */
static int
cmd_listacl(struct cyradm *a, const char *name, int argc, char **argv)
{
    struct strarray boxes = {0};
    struct pairs_ctx l = {imapclient_resp_acl, "", " ", BUF_INITIALIZER};
    int many;
    size_t k;
    int r;

    if (argc != 2)
        return usage_error(a, name);
    many = has_wildcard(argv[1]);
    l.indent = many ? "  " : "";
    r = expand(a, name, argv[1], &boxes);
    for (k = 0; r == 0 && k < boxes.count; k++) {
        struct arg arg = {strarray_nth(&boxes, k), 0};

        buf_reset(&l.out);
        r = send_cmd(a, name, "GETACL", &arg, 1, pairs_cb, &l);
        if (r == 0 && many)
            fprintf(a->out, "%s:\n", arg.s);
        if (r == 0)
            fputs(buf_cstring(&l.out), a->out);
    }
    strarray_fini(&boxes);
    buf_free(&l.out);
    return r;
}

/* ---- quotas ---- */

static void
quota_line(struct buf *out, const struct strarray *triples)
{
    size_t i;

    for (i = 0; i + 2 < triples->count; i += 3) {
        uint64_t used = strtoull(strarray_nth(triples, i + 1), NULL, 10);
        uint64_t limit = strtoull(strarray_nth(triples, i + 2), NULL, 10);

        buf_printf(out, " %s %" PRIu64 "/%" PRIu64, strarray_nth(triples, i),
                   used, limit);
        if (limit)
            buf_printf(out, " (%" PRIu64 "%%)", used * 100 / limit);
    }
}

struct quota_ctx {
    struct buf out;
    struct strarray roots;
    struct strarray triples;
};

static void
quota_cb(void *ctx, const char *resp, size_t len)
{
    struct quota_ctx *q = ctx;
    struct buf name = BUF_INITIALIZER;

    if (imapclient_resp_quota(resp, len, &name, &q->triples) == 0) {
        if (q->roots.count)
            buf_appendbuf(&q->out, &name);
        quota_line(&q->out, &q->triples);
        buf_putc(&q->out, '\n');
    } else if (imapclient_resp_quotaroot(resp, len, &name, &q->roots) == 0
               && q->roots.count == 0) {
        buf_printf(&q->out, "%s: no quota root\n", buf_cstring(&name));
    }
    buf_free(&name);
}

/* GETQUOTA root / GETQUOTAROOT mailbox: one argument, the quota lines. */
static int
quota_query(struct cyradm *a, const char *name, const char *verb, int argc,
            char **argv)
{
    struct quota_ctx q = {0};
    struct arg arg;
    int r;

    if (argc != 2)
        return usage_error(a, name);
    arg = (struct arg){argv[1], 0};
    r = send_cmd(a, name, verb, &arg, 1, quota_cb, &q);
    if (r == 0)
        fputs(buf_cstring(&q.out), a->out);
    buf_free(&q.out);
    strarray_fini(&q.roots);
    strarray_fini(&q.triples);
    return r;
}

static int
cmd_listquota(struct cyradm *a, const char *name, int argc, char **argv)
{
    return quota_query(a, name, "GETQUOTA", argc, argv);
}

static int
cmd_listquotaroot(struct cyradm *a, const char *name, int argc, char **argv)
{
    return quota_query(a, name, "GETQUOTAROOT", argc, argv);
}

static int
cmd_setquota(struct cyradm *a, const char *name, int argc, char **argv)
{
    struct buf list = BUF_INITIALIZER;
    struct arg args[2];
    uint64_t v;
    int i, r;

    if (argc < 3)
        return usage_error(a, name);
    buf_putc(&list, '(');
    if (argc == 3) {
        /* a lone number is the STORAGE limit (Shell.pm) */
        if (util_strcasecmp(argv[2], "none") != 0) {
            if (util_parse_u64(argv[2], strlen(argv[2]), INT64_MAX, &v) < 0)
                goto bad_number;
            buf_printf(&list, "STORAGE %" PRIu64, v);
        }
    } else {
        if ((argc - 2) % 2)
            goto bad;
        for (i = 2; i + 1 < argc; i += 2) {
            if (util_strcasecmp(argv[i + 1], "none") == 0)
                continue;
            if (util_parse_u64(argv[i + 1], strlen(argv[i + 1]), INT64_MAX,
                               &v)
                < 0)
                goto bad_number;
            if (buf_len(&list) > 1)
                buf_putc(&list, ' ');
            {
                char *res = xstrdup(argv[i]);

                util_ucase(res);
                buf_appendcstr(&list, res);
                free(res);
            }
            buf_printf(&list, " %" PRIu64, v);
        }
    }
    buf_putc(&list, ')');
    args[0] = (struct arg){argv[1], 0};
    args[1] = (struct arg){buf_cstring(&list), 1};
    r = send_cmd(a, name, "SETQUOTA", args, 2, NULL, NULL);
    buf_free(&list);
    return r;
bad_number:
    fprintf(a->err, "%s: limit must be a number or \"none\"\n", name);
    buf_free(&list);
    return -1;
bad:
    buf_free(&list);
    return usage_error(a, name);
}

/* ---- info (metadata), reconstruct, subscribe, version ---- */

static int
cmd_info(struct cyradm *a, const char *name, int argc, char **argv)
{
    struct pairs_ctx m = {imapclient_resp_metadata, "  ", ": ",
                          BUF_INITIALIZER};
    const char *mb = argc > 1 ? argv[1] : "";
    struct arg args[2] = {
        {mb,                0},
        {"(/private/*)", 1},
    };
    int r;

    if (argc > 2)
        return usage_error(a, name);
    r = send_cmd(a, name, "GETMETADATA", args, 2, pairs_cb, &m);
    if (r == 0) {
        args[1].s = "(/shared/*)";
        r = send_cmd(a, name, "GETMETADATA", args, 2, pairs_cb, &m);
    }
    if (r == 0) {
        fprintf(a->out, "{%s}:\n", mb);
        fputs(buf_cstring(&m.out), a->out);
    }
    buf_free(&m.out);
    return r;
}

static int
cmd_reconstruct(struct cyradm *a, const char *name, int argc, char **argv)
{
    struct arg args[2];
    int recursive = 0, i;
    const char *mb = NULL;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-r") == 0)
            recursive = 1;
        else if (mb == NULL)
            mb = argv[i];
        else
            return usage_error(a, name);
    }
    if (mb == NULL)
        return usage_error(a, name);
    args[0] = (struct arg){mb, 0};
    args[1] = (struct arg){"RECURSIVE", 1};
    return send_cmd(a, name, "RECONSTRUCT", args, recursive ? 2 : 1, NULL,
                    NULL);
}

static int
cmd_subscribe(struct cyradm *a, const char *name, int argc, char **argv)
{
    struct arg arg;

    if (argc != 2)
        return usage_error(a, name);
    arg = (struct arg){argv[1], 0};
    return send_cmd(a, name, name[0] == 'u' ? "UNSUBSCRIBE" : "SUBSCRIBE",
                    &arg, 1, NULL, NULL);
}

static void
id_cb(void *ctx, const char *resp, size_t len)
{
    struct buf *out = ctx;

    if (util_strncasecmp(resp, "ID ", 3) == 0)
        buf_appendmap(out, resp + 3, len - 3);
}

static int
cmd_version(struct cyradm *a, const char *name, int argc, char **argv)
{
    struct buf out = BUF_INITIALIZER;
    struct arg arg = {"NIL", 1};
    int r;

    if (argc != 1)
        return usage_error(a, name);
    r = send_cmd(a, name, "ID", &arg, 1, id_cb, &out);
    if (r == 0)
        fprintf(a->out, "%s\n", buf_cstring(&out));
    buf_free(&out);
    return r;
}

static int
cmd_help(struct cyradm *a, const char *name, int argc, char **argv)
{
    if (argc > 2)
        return usage_error(a, name);
    return cyradm_help(a, argc > 1 ? argv[1] : NULL);
}

static int
cmd_quit(struct cyradm *a, const char *name, int argc, char **argv)
{
    (void)a;
    (void)name;
    (void)argc;
    (void)argv;
    return 1;
}

static const struct cmd commands[] = {
    {"createmailbox",    {"cm", "create"},             cmd_create,
     "[--partition partition] [--specialuse flag] mailbox [partition]",
     "create mailbox (partition may be server!partition on a frontend)"},
    {"deletemailbox",    {"dm", "delete"},             cmd_delete,
     "mailbox",
     "delete mailbox (a pattern deletes every match)"},
    {"renamemailbox",    {"renm", "rename"},           cmd_rename,
     "[--partition partition] oldname newname [partition]",
     "rename mailbox, optionally moving it to partition"},
    {"listmailbox",      {"lm", "list"},               cmd_list,
     "[-subscribed] [-specialuse] [pattern [reference]]",
     "list mailboxes"},
    {"listaclmailbox",   {"lam", "listacl"},           cmd_listacl,
     "mailbox",
     "list the access control list of mailbox"},
    {"setaclmailbox",    {"sam", "setacl"},            cmd_setacl,
     "mailbox id rights [id rights ...]",
     "set ACL entries; rights may be none, read, post, append, write, "
     "delete, all"},
    {"deleteaclmailbox", {"dam", "deleteacl"},         cmd_deleteacl,
     "mailbox id [id ...]",
     "delete ACL entries"},
    {"setquota",         {"sq"},                       cmd_setquota,
     "root limit | root resource limit [resource limit ...]",
     "set quota limits (a lone limit is STORAGE in KiB; none removes)"},
    {"listquota",        {"lq"},                       cmd_listquota,
     "root",
     "show a quota root's usage and limits"},
    {"listquotaroot",    {"lqr", "lqm"},               cmd_listquotaroot,
     "mailbox",
     "show the quota roots of mailbox with usage and limits"},
    {"xfermailbox",      {"xfer"},                     cmd_xfer,
     "mailbox server [partition]",
     "move mailbox to another backend (murder)"},
    {"info",             {NULL},                       cmd_info,
     "[mailbox]",
     "show mailbox (or server) metadata"},
    {"reconstruct",      {NULL},                       cmd_reconstruct,
     "[-r] mailbox",
     "rebuild mailbox index (-r: and its children)"},
    {"subscribe",        {"sub"},                      cmd_subscribe,
     "mailbox",
     "subscribe to mailbox"},
    {"unsubscribe",      {"unsub"},                    cmd_subscribe,
     "mailbox",
     "unsubscribe from mailbox"},
    {"version",          {"ver"},                      cmd_version,
     "",
     "show the server's ID"},
    {"help",             {"?"},                        cmd_help,
     "[command]",
     "show commands or one command's usage"},
    {"exit",             {"quit"},                     cmd_quit,
     "",
     "leave cyradm"},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct cmd *
find_cmd(const char *name)
{
    size_t i, j;

    for (i = 0; i < NCOMMANDS; i++) {
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
        for (j = 0; j < 3 && commands[i].aliases[j]; j++) {
            if (strcmp(commands[i].aliases[j], name) == 0)
                return &commands[i];
        }
    }
    return NULL;
}

const char *const *
cyradm_command_names(void)
{
    static const char *names[NCOMMANDS * 4 + 1];
    size_t i, j, n = 0;

    if (names[0] == NULL) {
        for (i = 0; i < NCOMMANDS; i++) {
            names[n++] = commands[i].name;
            for (j = 0; j < 3 && commands[i].aliases[j]; j++)
                names[n++] = commands[i].aliases[j];
        }
    }
    return names;
}

int
cyradm_help(struct cyradm *a, const char *name)
{
    const struct cmd *c;
    size_t i, j;

    if (name) {
        c = find_cmd(name);
        if (c == NULL) {
            fprintf(a->err, "help: unknown command: %s\n", name);
            return -1;
        }
        fprintf(a->out, "usage: %s %s\n", c->name, c->usage);
        for (j = 0; j < 3 && c->aliases[j]; j++)
            fprintf(a->out, "%s%s", j ? ", " : "aliases: ", c->aliases[j]);
        if (c->aliases[0])
            fputc('\n', a->out);
        fprintf(a->out, "%s\n", c->help);
        return 0;
    }
    for (i = 0; i < NCOMMANDS; i++) {
        struct buf names = BUF_INITIALIZER;

        buf_appendcstr(&names, commands[i].name);
        for (j = 0; j < 3 && commands[i].aliases[j]; j++)
            buf_printf(&names, ", %s", commands[i].aliases[j]);
        fprintf(a->out, "%-34s %s\n", buf_cstring(&names), commands[i].help);
        buf_free(&names);
    }
    return 0;
}

int
cyradm_cmds_run(struct cyradm *a, int argc, char **argv)
{
    const struct cmd *c;

    if (argc == 0)
        return 0;
    c = find_cmd(argv[0]);
    if (c == NULL) {
        fprintf(a->err, "%s: unknown command (try help)\n", argv[0]);
        return -1;
    }
    if (argc > MAX_ARGS) {
        fprintf(a->err, "%s: too many arguments\n", c->name);
        return -1;
    }
    return c->run(a, c->name, argc, argv);
}

int
cyradm_split(const char *line, struct strarray *words)
{
    struct buf w = BUF_INITIALIZER;
    const char *p = line;
    int in_word = 0;
    char quote = 0;

    for (; *p; p++) {
        if (quote) {
            if (*p == quote)
                quote = 0;
            else if (*p == '\\' && quote == '"' && p[1])
                buf_putc(&w, *++p);
            else
                buf_putc(&w, *p);
        } else if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
            if (in_word)
                strarray_append(words, buf_cstring(&w));
            buf_reset(&w);
            in_word = 0;
        } else if (*p == '\'' || *p == '"') {
            quote = *p;
            in_word = 1;
        } else if (*p == '\\' && p[1]) {
            buf_putc(&w, *++p);
            in_word = 1;
        } else {
            buf_putc(&w, *p);
            in_word = 1;
        }
    }
    if (in_word && !quote)
        strarray_append(words, buf_cstring(&w));
    buf_free(&w);
    return quote ? -1 : 0;
}
