/* proxy_lsub.c: LSUB through a frontend (see proxy_imap.h).
 *
 * Subscriptions live on the backend holding the user's INBOX, which knows
 * only its own mailboxes: a subscribed mailbox of another backend comes
 * back flagged \Noselect. The frontend's replica knows them all, so the
 * flag is dropped for every name the replica holds and the user may see,
 * the way a Cyrus frontend answers LSUB. */
#include <string.h>

#include "imapd.h"
#include "imaptok.h"
#include "mboxlist.h"
#include "proxy_imap.h"
#include "util.h"

#define NOSELECT "\\Noselect"

/* Where "\Noselect" starts inside flags[0..len), or -1. */
static long
find_noselect(const char *flags, size_t len)
{
    size_t n = strlen(NOSELECT), i;

    for (i = 0; i + n <= len; i++) {
        if (util_strncasecmp(flags + i, NOSELECT, n) == 0
            && (i + n == len || flags[i + n] == ' ' || flags[i + n] == ')'))
            return (long)i;
    }
    return -1;
}

void
proxy_lsub_filter_cb(struct imapd_session *s, struct buf *line, void *ctx)
{
    struct imaptok t;
    struct buf sep = BUF_INITIALIZER, name = BUF_INITIALIZER;
    struct mboxlist_entry *e = NULL;
    const char *p = buf_cstring(line);
    const char *open, *close;
    long at;
    size_t off, n = strlen(NOSELECT);
    int nil;

    (void)ctx;
    if (util_strncasecmp(p, "* LSUB (", 8) && util_strncasecmp(p, "* LIST (", 8))
        return;
    open = p + 7;
    close = memchr(open, ')', buf_len(line) - 7);
    if (close == NULL)
        return;
    at = find_noselect(open + 1, (size_t)(close - open - 1));
    if (at < 0)
        return;
    imaptok_init(&t, close + 1, buf_len(line) - (size_t)(close + 1 - p));
    if (imaptok_sp(&t) < 0 || imaptok_nstring(&t, &sep, &nil) < 0
        || imaptok_sp(&t) < 0 || imaptok_astring(&t, &name) < 0
        || !imaptok_at_end(&t))
        goto out;
    if (imapd_lookup(s, buf_cstring(&name), NULL, &e) < 0)
        goto out; /* not in the replica or invisible: keep the flag */
    /* drop "\Noselect" and one space next to it */
    off = (size_t)(open + 1 - p) + (size_t)at;
    if (off + n < buf_len(line) && buf_base(line)[off + n] == ' ')
        n++;
    else if (off > 0 && buf_base(line)[off - 1] == ' ') {
        off--;
        n++;
    }
    buf_remove(line, off, n);
out:
    mboxlist_entry_free(&e);
    buf_free(&sep);
    buf_free(&name);
}
