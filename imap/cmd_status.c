/* cmd_status.c: STATUS (RFC 3501 6.3.10, RFC 7162 HIGHESTMODSEQ, RFC 8438
 * SIZE), also used by LIST-STATUS. */
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "errors.h"
#include "imapd.h"
#include "mailbox.h"
#include "mboxlist.h"
#include "seqset.h"
#include "stream.h"
#include "util.h"
#include "xmalloc.h"

#define ST_MESSAGES (1u << 0)
#define ST_RECENT   (1u << 1)
#define ST_UIDNEXT  (1u << 2)
#define ST_UIDVALID (1u << 3)
#define ST_UNSEEN   (1u << 4)
#define ST_MODSEQ   (1u << 5)
#define ST_SIZE     (1u << 6)
#define ST_MBOXID   (1u << 7)

static const struct {
    const char *name;
    unsigned bit;
} status_items[] = {
    {"MESSAGES", ST_MESSAGES},      {"RECENT", ST_RECENT},
    {"UIDNEXT", ST_UIDNEXT},        {"UIDVALIDITY", ST_UIDVALID},
    {"UNSEEN", ST_UNSEEN},          {"HIGHESTMODSEQ", ST_MODSEQ},
    {"SIZE", ST_SIZE},              {"MAILBOXID", ST_MBOXID},
};

int
imapd_status_parse(struct imaptok *t, unsigned *items_r)
{
    struct imaptok_span item;
    unsigned items = 0;

    if (imaptok_lparen(t) < 0)
        return -1;
    do {
        size_t i;
        unsigned bit = 0;

        if (imaptok_atom(t, &item) < 0)
            return -1;
        for (i = 0; i < ARRAY_SIZE(status_items); i++) {
            if (util_memcaseeq(item.p, item.len, status_items[i].name))
                bit = status_items[i].bit;
        }
        if (bit == 0)
            return imaptok_fail(t, "Invalid Status attribute");
        items |= bit;
    } while (imaptok_peek(t) == ' ' && imaptok_sp(t) == 0);
    if (imaptok_rparen(t) < 0)
        return -1;
    *items_r = items;
    return 0;
}

int
imapd_status_data(struct imapd_session *s, const struct mboxlist_entry *e,
                  unsigned items, struct buf *out)
{
    struct buf path = BUF_INITIALIZER;
    struct mailbox *mb = NULL;
    const struct mailbox_counts *c;
    uint32_t recent = 0, unseen, i;
    int r, first = 1;

    r = imapd_mailbox_path(s, e, &path);
    if (r == 0)
        r = mailbox_open(buf_cstring(&path), &mb);
    buf_free(&path);
    if (r)
        return r == ERR_NOMAILBOX ? ERR_IO : r;
    r = mailbox_lock(mb, MAILBOX_SHARED);
    if (r) {
        mailbox_close(&mb);
        return r;
    }
    c = mailbox_counts(mb);
    unseen = c->unseen;
    if (items & ST_UNSEEN) {
        struct seqset *seen = NULL;

        /* a non-owner's \Seen is in their seen.db (STORAGE.md §5) */
        if (imapd_seen_read(s, e->name, mailbox_uniqueid(mb), &seen) == 1) {
            unseen = 0;
            for (i = 0; i < c->num_records; i++) {
                struct index_record rec;

                mailbox_read_record(mb, i, &rec);
                if (!(rec.system_flags & FLAG_INT_EXPUNGED)
                    && !(seen && seqset_contains(seen, rec.uid, UINT32_MAX)))
                    unseen++;
            }
        }
        seqset_free(&seen);
    }
    if (items & ST_RECENT) {
        for (i = 0; i < c->num_records; i++) {
            struct index_record rec;

            mailbox_read_record(mb, i, &rec);
            if (!(rec.system_flags & FLAG_INT_EXPUNGED)
                && rec.uid > c->recent_uid)
                recent++;
        }
    }
    buf_putc(out, '(');
#define ITEM(bit, fmt, val)                                            \
    if (items & (bit)) {                                               \
        buf_printf(out, "%s" fmt, first ? "" : " ", val);              \
        first = 0;                                                     \
    }
    ITEM(ST_MESSAGES, "MESSAGES %u", c->exists)
    ITEM(ST_RECENT, "RECENT %u", recent)
    ITEM(ST_UIDNEXT, "UIDNEXT %u", c->last_uid + 1)
    ITEM(ST_UIDVALID, "UIDVALIDITY %u", c->uidvalidity)
    ITEM(ST_UNSEEN, "UNSEEN %u", unseen)
    ITEM(ST_MODSEQ, "HIGHESTMODSEQ %llu", (unsigned long long)c->highestmodseq)
    ITEM(ST_SIZE, "SIZE %llu", (unsigned long long)c->quota_used)
    ITEM(ST_MBOXID, "MAILBOXID (%s)", e->uniqueid ? e->uniqueid : "")
#undef ITEM
    buf_putc(out, ')');
    mailbox_unlock(mb);
    mailbox_close(&mb);
    return 0;
}

void
cmd_status(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    struct buf name = BUF_INITIALIZER, data = BUF_INITIALIZER;
    struct buf quoted = BUF_INITIALIZER;
    struct mboxlist_entry *e = NULL;
    unsigned items = 0;
    int r;

    if (imaptok_mailbox(t, &name) < 0 || imaptok_sp(t) < 0
        || imapd_status_parse(t, &items) < 0 || imaptok_end(t) < 0) {
        imapd_bad(s, tag, imaptok_error(t) ? imaptok_error(t)
                                           : "Invalid Status arguments");
        goto done;
    }
    r = imapd_lookup(s, buf_cstring(&name), NULL, &e);
    if (r == 0 && !(imapd_rights(s, e) & ACL_READ))
        r = ERR_PERMISSION;
    if (r == 0 && e->server)
        r = ERR_MOVED;
    if (r == 0)
        r = imapd_status_data(s, e, items, &data);
    if (r) {
        imapd_error(s, tag, r);
        goto done;
    }
    imaptok_astring_out(&quoted, buf_base(&name), buf_len(&name));
    stream_printf(s->s, "* STATUS %s %s\r\n", buf_cstring(&quoted),
                  buf_cstring(&data));
    imapd_sync(s, 1);
    imapd_ok(s, tag, NULL, "Completed");
done:
    mboxlist_entry_free(&e);
    buf_free(&name);
    buf_free(&data);
    buf_free(&quoted);
}
