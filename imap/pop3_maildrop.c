/* pop3_maildrop.c: the POP3 maildrop (pop3_maildrop.h). */
#include <fcntl.h>
#include <sys/file.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "errors.h"
#include "expunge.h"
#include "lmtp_deliver.h"
#include "mailbox.h"
#include "mboxname.h"
#include "pop3_maildrop.h"
#include "xmalloc.h"

struct pop3_msg {
    uint32_t uid;
    uint64_t size;
    int deleted;
};

struct pop3_maildrop {
    struct mailbox *mb;
    struct quota_db *qdb;
    int lockfd;
    uint32_t uidvalidity;
    struct pop3_msg *msgs;
    uint32_t count;
};

void
pop3_maildrop_free(struct pop3_maildrop **mdp)
{
    struct pop3_maildrop *md = *mdp;

    if (md == NULL)
        return;
    *mdp = NULL;
    mailbox_close(&md->mb);
    if (md->lockfd >= 0)
        close(md->lockfd); /* releases the POP lock */
    free(md->msgs);
    free(md);
}

/* The POP lock: an exclusive flock on a file in the mailbox directory,
 * held as long as the session. The kernel drops it when the process
 * dies, so a killed session never leaves the maildrop locked. */
static int
pop_lock(const char *dir, int *fd_r)
{
    struct buf path = BUF_INITIALIZER;
    int fd;

    buf_printf(&path, "%s/cyrus.pop3lock", dir);
    fd = open(buf_cstring(&path), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    buf_free(&path);
    if (fd < 0)
        return ERR_IO;
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        close(fd);
        return ERR_LOCKED;
    }
    *fd_r = fd;
    return 0;
}

/* popminpoll: refuse a login sooner than that after the previous one,
 * else record this one. Needs the exclusive lock. */
static int
login_delay(const struct pop3_maildrop_env *env, struct mailbox *mb)
{
    long minpoll = config_duration(env->cfg, CFG_POPMINPOLL);
    int64_t last = mailbox_counts(mb)->pop3_last_login;
    int64_t now = (int64_t)time(NULL);

    if (minpoll > 0 && last > 0 && now - last < minpoll)
        return ERR_AGAIN;
    mailbox_set_pop3_last_login(mb, now);
    return mailbox_commit(mb);
}

static int
snapshot(struct pop3_maildrop *md)
{
    const struct mailbox_counts *c = mailbox_counts(md->mb);
    uint32_t i;

    md->uidvalidity = c->uidvalidity;
    md->msgs = xcalloc(c->num_records ? c->num_records : 1, sizeof(*md->msgs));
    for (i = 0; i < c->num_records; i++) {
        struct index_record rec;

        if (mailbox_read_record(md->mb, i, &rec) < 0)
            return ERR_IO;
        if (rec.system_flags & FLAG_INT_EXPUNGED)
            continue;
        md->msgs[md->count].uid = rec.uid;
        md->msgs[md->count].size = rec.size;
        md->count++;
    }
    return 0;
}

int
pop3_maildrop_open(const struct pop3_maildrop_env *env, const char *userid,
                   struct pop3_maildrop **md_r)
{
    struct pop3_maildrop *md;
    struct mboxlist_entry *e = NULL;
    struct buf path = BUF_INITIALIZER;
    char *inbox = mboxname_user_inbox(env->ns, userid);
    int r;

    if (inbox == NULL)
        return ERR_NOUSER;
    r = mboxlist_lookup(env->ml, inbox, &e, NULL);
    free(inbox);
    if (r == ERR_NOMAILBOX)
        return ERR_NOUSER;
    if (r < 0)
        return r;
    if (e->mbtype & (MBTYPE_REMOTE | MBTYPE_MOVING | MBTYPE_RESERVE)) {
        mboxlist_entry_free(&e);
        return ERR_MOVED;
    }
    if (e->mbtype & (MBTYPE_DELETED | MBTYPE_INTERMEDIATE)) {
        mboxlist_entry_free(&e);
        return ERR_NOUSER;
    }
    md = xzmalloc(sizeof(*md));
    md->lockfd = -1;
    md->qdb = env->qdb;
    r = lmtp_deliver_mailbox_path(env->cfg, e, &path);
    mboxlist_entry_free(&e);
    if (r == 0)
        r = mailbox_open(buf_cstring(&path), &md->mb);
    if (r == 0)
        r = pop_lock(buf_cstring(&path), &md->lockfd);
    if (r == 0)
        r = mailbox_lock(md->mb, MAILBOX_EXCLUSIVE);
    if (r == 0) {
        r = login_delay(env, md->mb);
        if (r == 0)
            r = snapshot(md);
        mailbox_unlock(md->mb);
    }
    buf_free(&path);
    if (r < 0) {
        pop3_maildrop_free(&md);
        return r;
    }
    *md_r = md;
    return 0;
}

uint32_t
pop3_maildrop_count(const struct pop3_maildrop *md)
{
    return md->count;
}

void
pop3_maildrop_stat(const struct pop3_maildrop *md, uint32_t *n_r,
                   uint64_t *size_r)
{
    uint32_t i;

    *n_r = 0;
    *size_r = 0;
    for (i = 0; i < md->count; i++) {
        if (md->msgs[i].deleted)
            continue;
        (*n_r)++;
        *size_r += md->msgs[i].size;
    }
}

static const struct pop3_msg *
get_msg(const struct pop3_maildrop *md, uint32_t msgno)
{
    if (msgno == 0 || msgno > md->count || md->msgs[msgno - 1].deleted)
        return NULL;
    return &md->msgs[msgno - 1];
}

int
pop3_maildrop_msg(const struct pop3_maildrop *md, uint32_t msgno,
                  uint32_t *uid_r, uint64_t *size_r)
{
    const struct pop3_msg *m = get_msg(md, msgno);

    if (m == NULL)
        return ERR_NOTFOUND;
    *uid_r = m->uid;
    *size_r = m->size;
    return 0;
}

uint32_t
pop3_maildrop_uidvalidity(const struct pop3_maildrop *md)
{
    return md->uidvalidity;
}

int
pop3_maildrop_map(const struct pop3_maildrop *md, uint32_t msgno,
                  const char **base_r, size_t *len_r)
{
    const struct pop3_msg *m = get_msg(md, msgno);
    int r;

    if (m == NULL)
        return ERR_NOTFOUND;
    /* the file stays until an expunge is compacted, and only this
     * session (holding the POP lock) expunges through POP; an IMAP
     * EXPUNGE meanwhile makes it ERR_NOTFOUND */
    r = mailbox_map_message(md->mb, m->uid, base_r, len_r);
    return r < 0 ? ERR_NOTFOUND : 0;
}

void
pop3_maildrop_unmap(const char *base, size_t len)
{
    mailbox_unmap_message(base, len);
}

int
pop3_maildrop_delete(struct pop3_maildrop *md, uint32_t msgno)
{
    if (get_msg(md, msgno) == NULL)
        return ERR_NOTFOUND;
    md->msgs[msgno - 1].deleted = 1;
    return 0;
}

void
pop3_maildrop_reset(struct pop3_maildrop *md)
{
    uint32_t i;

    for (i = 0; i < md->count; i++)
        md->msgs[i].deleted = 0;
}

int
pop3_maildrop_commit(struct pop3_maildrop *md)
{
    uint32_t *uids = xcalloc(md->count ? md->count : 1, sizeof(*uids));
    size_t n = 0;
    uint32_t i;
    int r = 0;

    for (i = 0; i < md->count; i++) {
        if (md->msgs[i].deleted)
            uids[n++] = md->msgs[i].uid;
    }
    if (n > 0)
        r = expunge_messages(md->mb, md->qdb, uids, n, 0, NULL);
    free(uids);
    return r;
}
