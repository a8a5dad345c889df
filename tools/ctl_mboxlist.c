/* ctl_mboxlist.c: bin/ctl_mboxlist, dump, undump and push the mailbox list.
 *
 *   ctl_mboxlist [-C imapd.conf] -d            dump mailboxes.db to stdout
 *   ctl_mboxlist [-C imapd.conf] -u            undump stdin into it
 *   ctl_mboxlist [-C imapd.conf] -m [-a] [-w]  push to the mupdate master
 *
 * Dump format, one entry per line:
 *   name TAB type-letters TAB server TAB partition TAB acl
 * where server is empty for a local mailbox and acl (itself TAB-separated,
 * Cyrus style) runs to the end of the line.
 *
 * -m follows shared/docs/MURDER.md section 8 with every command pipelined
 * on one connection: LIST "<servername>!", DELETE each listed name that is
 * not local, ACTIVATE each local entry that is missing or different (a
 * name unknown to our list is first looked up with FIND, unless -a, and
 * left alone with a warning if another server holds it). -w prints the
 * actions and changes nothing. */
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "cyrusdb.h"
#include "errors.h"
#include "hash.h"
#include "log.h"
#include "mboxlist.h"
#include "mupdate_client.h"
#include "mupdate_server.h"
#include "strarray.h"
#include "toolutil.h"
#include "xmalloc.h"


static const char usage_text[] =
    "usage: ctl_mboxlist [-C imapd.conf] -d | -u | -m [-a] [-w]\n"
    "  -C FILE  read FILE instead of $CYRUS_CONF or /etc/imapd.conf\n"
    "  -d  dump the mailbox list (one entry per line)\n"
    "  -u  undump: read entries in -d format from stdin\n"
    "  -m  push the local list to the mupdate master\n"
    "  -a  with -m: authoritative, push without FIND\n"
    "  -w  with -m: print what would be done, change nothing\n"
    "  -h, --help  show this text\n";

static int
dump_cb(void *ctx, const struct mboxlist_entry *e)
{
    struct buf b = BUF_INITIALIZER;

    (void)ctx;
    buf_printf(&b, "%s\t", e->name);
    mboxlist_mbtype_letters(e->mbtype, &b);
    buf_printf(&b, "\t%s\t%s\t%s\n", e->server ? e->server : "",
               e->partition ? e->partition : "", e->acl ? e->acl : "");
    fwrite(buf_base(&b), 1, buf_len(&b), stdout);
    buf_free(&b);
    return 0;
}

static int
undump(struct mboxlist *ml)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    struct cyrusdb_txn *tid = NULL;
    unsigned lineno = 0;
    int r = 0;

    while ((n = getline(&line, &cap, stdin)) > 0) {
        struct strarray *f;
        struct mboxlist_entry *e;
        char *acl, *field, *tab;
        size_t i, tabs = 0;

        lineno++;
        if (line[n - 1] == '\n')
            line[--n] = '\0';
        if (n == 0)
            continue;
        /* the ACL (5th field) keeps its own TABs */
        for (i = 0, acl = NULL; i < (size_t)n; i++) {
            if (line[i] == '\t' && ++tabs == 4) {
                line[i] = '\0';
                acl = line + i + 1;
                break;
            }
        }
        if (acl == NULL) {
            fprintf(stderr, "ctl_mboxlist: line %u: expected 5 fields\n",
                    lineno);
            r = ERR_SYNTAX;
            break;
        }
        /* empty fields count (a local entry has no server) */
        f = strarray_new();
        for (field = line;; field = tab + 1) {
            tab = strchr(field, '\t');
            if (tab != NULL)
                *tab = '\0';
            strarray_append(f, field);
            if (tab == NULL)
                break;
        }
        e = mboxlist_entry_new(f->data[0]);
        e->mbtype = mboxlist_mbtype_parse(f->data[1]);
        e->server = f->data[2][0] ? xstrdup(f->data[2]) : NULL;
        e->partition = xstrdup(f->data[3]);
        e->acl = xstrdup(acl);
        r = mboxlist_store(ml, e, &tid);
        mboxlist_entry_free(&e);
        strarray_free(&f);
        if (r < 0)
            break;
    }
    free(line);
    if (tid != NULL) {
        if (r == 0)
            r = mboxlist_commit(ml, tid);
        else
            mboxlist_abort(ml, tid);
    }
    return r;
}

/* ---- -m -------------------------------------------------------------- */

struct push {
    struct mupdate_client *mc;
    struct mboxlist *ml;
    const char *servername;
    int dryrun, authoritative;
    struct hash *listed; /* name -> "location\nacl" or "location\n\r" */
    struct strarray find;     /* names to FIND */
    struct strarray activate; /* name, location, acl triples */
    size_t nsent;             /* commands awaiting an answer */
    int err;
};

static int
listed_cb(void *ctx, const struct mupdate_mailbox *mb)
{
    struct push *p = ctx;
    struct buf v = BUF_INITIALIZER;

    buf_printf(&v, "%s\n%s%s", mb->location, mb->reserved ? "\r" : "",
               mb->acl);
    free(hash_insert(p->listed, mb->name, buf_release(&v)));
    return 0;
}

static void
send_cmd(struct push *p, const char *word, const char *const *args, size_t n)
{
    if (p->dryrun) {
        printf("%s %s%s%s\n", word, args[0], n > 1 ? " " : "",
               n > 1 ? args[1] : "");
        if (strcmp(word, "FIND") != 0)
            return;
    }
    mupdate_client_send(p->mc, word, args, n, NULL);
    p->nsent++;
}

static int
local_cb(void *ctx, const struct mboxlist_entry *e)
{
    struct push *p = ctx;
    struct buf loc = BUF_INITIALIZER, want = BUF_INITIALIZER;
    const char *have;

    if (e->mbtype & (MBTYPE_DELETED | MBTYPE_REMOTE | MBTYPE_RESERVE
                     | MBTYPE_INTERMEDIATE))
        return 0;
    buf_printf(&loc, "%s!%s", p->servername, e->partition ? e->partition : "");
    buf_printf(&want, "%s\n%s", buf_cstring(&loc), e->acl ? e->acl : "");
    have = hash_lookup(p->listed, e->name);
    if (have == NULL && !p->authoritative) {
        strarray_append(&p->find, e->name);
    } else if (have == NULL || strcmp(have, buf_cstring(&want)) != 0) {
        strarray_append(&p->activate, e->name);
        strarray_append(&p->activate, buf_cstring(&loc));
        strarray_append(&p->activate, e->acl ? e->acl : "");
    }
    buf_free(&loc);
    buf_free(&want);
    return 0;
}

static int
stale_cb(const char *name, void *value, void *ctx)
{
    struct push *p = ctx;
    struct mboxlist_entry *e = NULL;
    const char *args[] = {name};

    (void)value;
    if (mboxlist_lookup(p->ml, name, &e, NULL) == 0
        && !(e->mbtype & (MBTYPE_DELETED | MBTYPE_REMOTE))) {
        mboxlist_entry_free(&e);
        return 0;
    }
    mboxlist_entry_free(&e);
    log_msg(LOG_WARNING, "Remove from MUPDATE: %s", name);
    send_cmd(p, "DELETE", args, 1);
    return 0;
}

/* Collect the answers to everything sent so far. FIND answers go to
 * found (name -> 1) when found is not NULL. */
static int
collect(struct push *p, struct hash *found)
{
    int r = stream_flush(mupdate_client_stream(p->mc));

    struct push fctx;

    memset(&fctx, 0, sizeof(fctx));
    fctx.listed = found;
    while (r == 0 && p->nsent > 0) {
        const char *st;

        r = mupdate_client_response(p->mc, found ? listed_cb : NULL,
                                    found ? &fctx : NULL, NULL, &st);
        if (r == 0 && strcmp(st, "OK") != 0) {
            fprintf(stderr, "ctl_mboxlist: master answered %s\n", st);
            p->err = ERR_MUPDATE_FAIL;
        }
        p->nsent--;
    }
    return r;
}

static int
push(struct mboxlist *ml, int dryrun, int authoritative)
{
    struct push p;
    struct buf prefix = BUF_INITIALIZER;
    struct hash *found = hash_new(64);
    const char *err = NULL;
    char host[256];
    size_t i;
    int r;

    memset(&p, 0, sizeof(p));
    p.ml = ml;
    p.dryrun = dryrun;
    p.authoritative = authoritative;
    p.servername = config_str(config, CFG_SERVERNAME);
    if (p.servername == NULL) {
        if (gethostname(host, sizeof(host)) != 0)
            host[0] = '\0';
        host[sizeof(host) - 1] = '\0';
        p.servername = host;
    }
    p.listed = hash_new(1024);
    log_msg(LOG_NOTICE, "populating mupdate");
    r = mupdate_client_connect(config, NULL, 30000, &p.mc, &err);
    if (r < 0) {
        fprintf(stderr, "ctl_mboxlist: mupdate_connect failed: %s\n",
                err ? err : error_text(r));
        goto done;
    }
    buf_printf(&prefix, "%s!", p.servername);
    r = mupdate_list(p.mc, buf_cstring(&prefix), listed_cb, &p);
    if (r == 0) {
        hash_foreach(p.listed, stale_cb, &p);
        r = mboxlist_foreach(ml, "", local_cb, &p, NULL);
    }
    if (r == 0) {
        for (i = 0; i < p.find.count; i++) {
            const char *args[] = {p.find.data[i]};

            send_cmd(&p, "FIND", args, 1);
        }
        r = collect(&p, found);
    }
    for (i = 0; r == 0 && i < p.find.count; i++) {
        const char *name = p.find.data[i];
        struct mboxlist_entry *e = NULL;
        struct buf loc = BUF_INITIALIZER;

        if (hash_lookup(found, name) != NULL) {
            fprintf(stderr,
                    "ctl_mboxlist: %s exists on another server: "
                    "left alone\n",
                    name);
            continue;
        }
        if (mboxlist_lookup(ml, name, &e, NULL) == 0) {
            buf_printf(&loc, "%s!%s", p.servername,
                       e->partition ? e->partition : "");
            strarray_append(&p.activate, name);
            strarray_append(&p.activate, buf_cstring(&loc));
            strarray_append(&p.activate, e->acl ? e->acl : "");
        }
        mboxlist_entry_free(&e);
        buf_free(&loc);
    }
    for (i = 0; r == 0 && i + 2 < p.activate.count; i += 3) {
        const char *args[] = {p.activate.data[i], p.activate.data[i + 1],
                              p.activate.data[i + 2]};

        send_cmd(&p, "ACTIVATE", args, 3);
    }
    if (r == 0)
        r = collect(&p, NULL);
    if (r == 0)
        r = mupdate_logout(p.mc);
    if (r == 0)
        r = p.err;
    if (r < 0)
        fprintf(stderr, "ctl_mboxlist: push failed: %s\n", error_text(r));
    else
        log_msg(LOG_NOTICE, "done populating mupdate");
done:
    mupdate_client_free(&p.mc);
    hash_free(&p.listed, free);
    hash_free(&found, free);
    strarray_fini(&p.find);
    strarray_fini(&p.activate);
    buf_free(&prefix);
    return r;
}

int
main(int argc, char **argv)
{
    struct toolutil tu;
    struct cyrusdb_env *env;
    struct mboxlist *ml = NULL;
    struct buf path = BUF_INITIALIZER;
    char *err = NULL;
    int opt, mode = 0, dryrun = 0, auth = 0, r;

    toolutil_init(&tu, "ctl_mboxlist", usage_text);
    while ((opt = toolutil_getopt(&tu, argc, argv, "C:dumawh", NULL)) != -1) {
        switch (opt) {
        case 'd':
        case 'u':
        case 'm':
            if (mode != 0 && mode != opt)
                toolutil_usage_error(&tu, "give only one of -d, -u, -m");
            mode = opt;
            break;
        case 'a':
            auth = 1;
            break;
        case 'w':
            dryrun = 1;
            break;
        }
    }
    if (mode == 0)
        toolutil_usage_error(&tu, "one of -d, -u, -m is required");
    if (optind != argc)
        toolutil_usage_error(&tu, "unexpected argument '%s'", argv[optind]);
    r = toolutil_config_load(&tu);
    if (r)
        return r;
    toolutil_envdir(&path);
    env = cyrusdb_env_open(buf_cstring(&path), 0, &err);
    if (env == NULL) {
        fprintf(stderr, "ctl_mboxlist: %s\n", err);
        free(err);
        r = ERR_IO;
        goto out;
    }
    r = mboxlist_open(env, config_str(config, CFG_MBOXLIST_DB_PATH), &ml);
    if (r < 0) {
        fprintf(stderr, "ctl_mboxlist: cannot open mailboxes.db: %s\n",
                error_text(r));
        goto out;
    }
    if (mode == 'd')
        r = mboxlist_foreach(ml, "", dump_cb, NULL, NULL);
    else if (mode == 'u')
        r = undump(ml);
    else
        r = push(ml, dryrun, auth);
    if (r < 0 && mode != 'm')
        fprintf(stderr, "ctl_mboxlist: %s\n", error_text(r));
out:
    mboxlist_close(&ml);
    cyrusdb_env_close(&env);
    toolutil_fini(&tu);
    buf_free(&path);
    fflush(stdout);
    return r < 0 ? 1 : 0;
}
