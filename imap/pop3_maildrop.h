/* pop3_maildrop.h: a POP3 session's view of its maildrop (RFC 1939 8).
 *
 * Opening takes the user's POP lock (one POP session per mailbox at a
 * time: a second gets ERR_LOCKED, "-ERR [IN-USE]"), enforces popminpoll
 * (ERR_AGAIN, "-ERR [LOGIN-DELAY]"), records the login time in the
 * mailbox and snapshots the messages: message numbers 1..n stay fixed
 * for the session whatever other processes (lmtpd, imapd) do meanwhile.
 * DELE only marks; pop3_maildrop_commit() (QUIT) expunges the marked
 * messages; closing without commit (RSET, a dropped connection) expunges
 * nothing. */
#ifndef POP3_MAILDROP_H
#define POP3_MAILDROP_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "mboxlist.h"
#include "namespace.h"
#include "quota.h"

struct pop3_maildrop_env {
    const struct config *cfg;
    const struct namespace *ns;
    struct mboxlist *ml;
    struct quota_db *qdb; /* may be NULL */
};

struct pop3_maildrop;

/* Open userid's INBOX. Returns 0 and *md_r, or ERR_NOUSER (no INBOX),
 * ERR_MOVED (remote or in transit), ERR_LOCKED, ERR_AGAIN, ERR_IO. */
int pop3_maildrop_open(const struct pop3_maildrop_env *env, const char *userid,
                       struct pop3_maildrop **md_r);
/* Release the POP lock and free, expunging nothing. *mdp = NULL; NULL is
 * fine. */
void pop3_maildrop_free(struct pop3_maildrop **mdp);

/* Messages in the snapshot (deleted ones included): numbers 1..count. */
uint32_t pop3_maildrop_count(const struct pop3_maildrop *md);
/* Messages not marked deleted and their total size. */
void pop3_maildrop_stat(const struct pop3_maildrop *md, uint32_t *n_r,
                        uint64_t *size_r);
/* Message msgno: 0 and its UID and size, or ERR_NOTFOUND (out of range
 * or marked deleted). */
int pop3_maildrop_msg(const struct pop3_maildrop *md, uint32_t msgno,
                      uint32_t *uid_r, uint64_t *size_r);
uint32_t pop3_maildrop_uidvalidity(const struct pop3_maildrop *md);
/* Map message msgno's bytes; 0 or ERR_NOTFOUND / ERR_IO. Unmap with
 * pop3_maildrop_unmap(). */
int pop3_maildrop_map(const struct pop3_maildrop *md, uint32_t msgno,
                      const char **base_r, size_t *len_r);
void pop3_maildrop_unmap(const char *base, size_t len);
/* Mark msgno deleted: 0 or ERR_NOTFOUND. */
int pop3_maildrop_delete(struct pop3_maildrop *md, uint32_t msgno);
/* Unmark everything (RSET). */
void pop3_maildrop_reset(struct pop3_maildrop *md);
/* Expunge the marked messages (QUIT in the TRANSACTION state). 0 or
 * ERR_IO. */
int pop3_maildrop_commit(struct pop3_maildrop *md);

#endif
