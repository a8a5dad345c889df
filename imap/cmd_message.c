/* cmd_message.c: FETCH, STORE, SEARCH, SORT, EXPUNGE and their UID forms:
 * thin wrappers over the engines in fetch.c, store.c, search.c, sort.c and
 * expunge.c. */
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "errors.h"
#include "expunge.h"
#include "fetch.h"
#include "imapd.h"
#include "index.h"
#include "search.h"
#include "seqset.h"
#include "sort.h"
#include "store.h"
#include "stream.h"
#include "vanished.h"

static void
send_out(struct imapd_session *s)
{
    stream_write(s->s, buf_base(&s->out), buf_len(&s->out));
    buf_reset(&s->out);
}

/* fetch_ctx.flush_cb: send the FETCH responses formatted so far. */
static void
fetch_flush_cb(struct buf *out, void *cb_ctx)
{
    struct imapd_session *s = cb_ctx;

    stream_write(s->s, buf_base(out), buf_len(out));
    buf_reset(out);
}

void
cmd_fetch(struct imapd_session *s, const char *tag, struct imaptok *t,
          unsigned variant)
{
    int uid = !!(variant & IMAPD_CMD_UID);
    struct fetch_args args;
    struct fetch_ctx ctx;
    const char *err = NULL;
    int r, seen_changed = 0;

    memset(&args, 0, sizeof(args));
    if (fetch_parse(t, uid, &args, &err) < 0) {
        imapd_bad(s, tag, err ? err : "Invalid Fetch arguments");
        goto done;
    }
    /* RFC 7162 3.2.6: VANISHED only once QRESYNC is enabled */
    if (args.vanished && !(s->enabled & IMAPD_ENABLED_QRESYNC)) {
        imapd_bad(s, tag, "QRESYNC not enabled");
        goto done;
    }
    /* RFC 3501 7.4.1: no EXPUNGE during FETCH; pending changes first */
    imapd_sync(s, 0);
    if (args.vanished
        && mailbox_lock(index_mailbox(s->selected), MAILBOX_SHARED) == 0) {
        struct seqset *gone = vanished_since(index_mailbox(s->selected),
                                             args.changedsince, args.set);

        mailbox_unlock(index_mailbox(s->selected));
        buf_reset(&s->out);
        vanished_format(gone, 1, &s->out);
        send_out(s);
        seqset_free(&gone);
    }
    memset(&ctx, 0, sizeof(ctx));
    ctx.view = s->selected;
    ctx.condstore = !!(s->enabled & IMAPD_ENABLED_CONDSTORE);
    ctx.qresync = !!(s->enabled & IMAPD_ENABLED_QRESYNC);
    ctx.may_set_seen = !index_readonly(s->selected)
                       && (s->selected_rights & ACL_SEEN);
    ctx.flush_cb = fetch_flush_cb;
    ctx.cb_ctx = s;
    buf_reset(&s->out);
    r = fetch_run(&ctx, &args, &s->out, &seen_changed);
    if (seen_changed)
        imapd_seen_save(s);
    send_out(s);
    if (r)
        imapd_error(s, tag, r);
    else
        imapd_ok(s, tag, NULL, "Completed");
done:
    fetch_args_fini(&args);
}

void
cmd_store(struct imapd_session *s, const char *tag, struct imaptok *t,
          unsigned variant)
{
    int uid = !!(variant & IMAPD_CMD_UID);
    struct store_args args;
    struct store_ctx ctx;
    struct seqset *modified = NULL;
    const char *err = NULL;
    int r;

    memset(&args, 0, sizeof(args));
    if (store_parse(t, uid, &args, &err) < 0) {
        imapd_bad(s, tag, err ? err : "Invalid Store arguments");
        goto done;
    }
    if (index_readonly(s->selected)) {
        imapd_no(s, tag, NULL, "Mailbox is read-only");
        goto done;
    }
    imapd_sync(s, 0);
    memset(&ctx, 0, sizeof(ctx));
    ctx.view = s->selected;
    ctx.rights = s->selected_rights;
    ctx.condstore = !!(s->enabled & IMAPD_ENABLED_CONDSTORE);
    ctx.qresync = !!(s->enabled & IMAPD_ENABLED_QRESYNC);
    buf_reset(&s->out);
    r = store_run(&ctx, &args, &s->out, &modified);
    imapd_seen_save(s);
    send_out(s);
    if (r) {
        imapd_error(s, tag, r);
    } else if (modified && !seqset_is_empty(modified)) {
        struct buf code = BUF_INITIALIZER;

        buf_appendcstr(&code, "MODIFIED ");
        seqset_format(modified, &code);
        imapd_ok(s, tag, buf_cstring(&code), "Conditional Store failed");
        buf_free(&code);
    } else {
        imapd_ok(s, tag, NULL, "Completed");
    }
    seqset_free(&modified);
done:
    store_args_fini(&args);
}

void
cmd_search(struct imapd_session *s, const char *tag, struct imaptok *t,
           unsigned variant)
{
    int uid = !!(variant & IMAPD_CMD_UID);
    int sort = !!(variant & IMAPD_CMD_SORT);
    struct search_program *prog = NULL;
    struct sort_program *sprog = NULL;
    struct search_return ret;
    uint32_t *matches = NULL;
    size_t n = 0;
    uint64_t modseq = 0;
    const char *err = NULL;
    int r;

    memset(&ret, 0, sizeof(ret));
    /* the engines expect to stand at the SP after the command name */
    if (t->pos > 0 && t->p[t->pos - 1] == ' ')
        t->pos--;
    r = sort ? sort_parse(t, uid, &sprog, &ret, &err)
             : search_parse(t, uid, &prog, &ret, &err);
    if (r == ERR_BADCHARSET) {
        imapd_no(s, tag, "BADCHARSET (US-ASCII UTF-8)",
                 "Unrecognized character set");
        goto done;
    }
    if (r) {
        imapd_bad(s, tag, err ? err : "Invalid Search arguments");
        goto done;
    }
    imapd_sync(s, 0);
    r = sort ? sort_run(s->selected, sprog, &matches, &n, &modseq)
             : search_run(s->selected, prog, &matches, &n, &modseq);
    if (r) {
        imapd_error(s, tag, r);
        goto done;
    }
    buf_reset(&s->out);
    if (sort)
        sort_format(&ret, tag, matches, n, modseq, &s->out);
    else
        search_format(&ret, tag, matches, n, modseq, &s->out);
    send_out(s);
    imapd_ok(s, tag, NULL, "Completed");
done:
    free(matches);
    search_program_free(&prog);
    sort_program_free(&sprog);
}

static void
do_expunge(struct imapd_session *s, const char *tag, struct seqset *uids)
{
    struct expunge_ctx ctx;
    int r;

    memset(&ctx, 0, sizeof(ctx));
    ctx.view = s->selected;
    ctx.rights = s->selected_rights;
    ctx.mode = (enum expunge_mode)imapd_expunge_mode();
    ctx.condstore = !!(s->enabled & IMAPD_ENABLED_CONDSTORE);
    ctx.qdb = s->proc->qdb;
    buf_reset(&s->out);
    r = expunge_run(&ctx, uids, &s->out, NULL);
    send_out(s);
    if (r)
        imapd_error(s, tag, r);
    else
        imapd_ok(s, tag, NULL, "Completed");
}

/* EXPUNGE, and RFC 4315 UID EXPUNGE with its UID set */
void
cmd_expunge(struct imapd_session *s, const char *tag, struct imaptok *t,
            unsigned variant)
{
    struct seqset *set = NULL;

    if (!(variant & IMAPD_CMD_UID)) {
        if (imaptok_end(t) < 0) {
            imapd_bad(s, tag, "Unexpected extra arguments to Expunge");
            return;
        }
    } else if (imaptok_seqset(t, &set) < 0 || imaptok_end(t) < 0) {
        imapd_bad(s, tag, "Invalid sequence in Uid Expunge");
        seqset_free(&set);
        return;
    }
    do_expunge(s, tag, set);
    seqset_free(&set);
}
