/* imapd.h: the IMAP session and the per-process context of imapd.
 *
 * One imapd process serves one connection at a time (master reuses the
 * process for the next one). The process context (`struct imapd_proc`)
 * holds what lives across connections: the database environment, the
 * mailbox list, TLS contexts. The session holds one connection's state and
 * is reset between connections. Command handlers live in imap/cmd_*.c and
 * are reached through the table in imap/imap_commands.c. */
#ifndef IMAPD_H
#define IMAPD_H

#include <stdint.h>

#include "buf.h"
#include "imaptok.h"
#include "strarray.h"

struct annotate_db;
struct append_group;
struct cyrusdb_env;
struct index_view;
struct mboxlist_entry;
struct quota_db;
struct seen_db;
struct subs_db;
struct imapreader;
struct imapd_literals;
struct append_stage;
struct mboxlist;
struct namespace;
struct proxy_imap;
struct saslglue_server;
struct seqset;
struct service_conn;
struct stream;
struct tls_ctx;

enum imapd_state {
    IMAPD_NOTAUTH = 1 << 0,
    IMAPD_AUTH = 1 << 1,
    IMAPD_SELECTED = 1 << 2,
    IMAPD_LOGOUT = 1 << 3
};

/* ENABLEd extensions (RFC 5161). */
#define IMAPD_ENABLED_CONDSTORE (1u << 0)
#define IMAPD_ENABLED_QRESYNC   (1u << 1)
#define IMAPD_ENABLED_UTF8      (1u << 2)

struct imapd_proc {
    struct cyrusdb_env *dbenv;
    struct mboxlist *mboxlist;
    struct namespace *ns;
    struct mboxops *ops;      /* mailbox operations (rights, create, ...) */
    struct mboxops_murder *murder; /* backend in a murder, else NULL */
    struct quota_db *qdb;     /* quotas.db */
    struct subs_db *subs;     /* subs.db */
    struct seen_db *seen;     /* seen.db: non-owners' Seen (STORAGE.md §5) */
    struct annotate_db *annot; /* annotations.db: METADATA values */
    struct tls_ctx *tls;       /* NULL when no tls_server_cert */
    int implicit_tls;          /* -s: imaps */
    const char *servername;
    int frontend;              /* mupdate_server set, no proxyservers */
};

struct imapd_session {
    struct imapd_proc *proc;
    const struct service_conn *conn;
    struct stream *s;
    struct imapreader *reader;
    enum imapd_state state;
    char *userid;              /* canonical user, NULL before login */
    int isadmin;
    struct saslglue_server *sasl;
    struct index_view *selected;
    char *selected_name;       /* internal name of the selected mailbox */
    uint32_t selected_rights;  /* the user's rights on it at SELECT */
    unsigned enabled;
    unsigned failed_logins;
    struct buf out;            /* scratch for building responses */
    struct imapd_literals *literals; /* spooled literals (imapd_literal.c) */
    struct proxy_imap *proxy;  /* frontend role: backend connections */
    int referrals;             /* RLIST/RLSUB/LIST (REMOTE) seen: RFC 2193 */
    /* pipelined APPENDs awaiting their one commit and OKs (cmd_append.c);
     * NULL when none */
    struct append_group *append_group;
};

/* Reply helpers: append "tag OK|NO|BAD [code] text" and flush. The code
 * may be NULL or "" for none. */
void imapd_ok(struct imapd_session *s, const char *tag, const char *code,
              const char *text);
void imapd_no(struct imapd_session *s, const char *tag, const char *code,
              const char *text);
void imapd_bad(struct imapd_session *s, const char *tag, const char *text);
/* "tag NO [CODE] text" for a negative ERR_* code. */
void imapd_error(struct imapd_session *s, const char *tag, int err);
/* The tagged reply for an operation's result: OK "Completed" for r == 0,
 * else NO with error (a server's own words, when not NULL) or the
 * reply of imapd_error(). */
void imapd_result(struct imapd_session *s, const char *tag, int r,
                  const char *error);
/* Send pending untagged updates of the selected mailbox. */
void imapd_sync(struct imapd_session *s, int allow_expunge);

/* Resolve a mailbox name as the client sent it (mUTF-7, external form).
 * Returns 0 with the internal name and the mailboxes.db entry (caller frees
 * both; either out-param may be NULL), or ERR_BADNAME / ERR_NOMAILBOX (a
 * mailbox the user may not even look up (`l`) is reported as
 * nonexistent, as Cyrus does). */
int imapd_lookup(struct imapd_session *s, const char *extname,
                 char **intname_r, struct mboxlist_entry **entry_r);
/* The session user's effective rights on an entry. */
uint32_t imapd_rights(struct imapd_session *s,
                      const struct mboxlist_entry *entry);
/* imapd_lookup(), then a rights check: the user must hold all of need, or
 * with need 0 any one of l r i k x a (RFC 4314 MYRIGHTS). Lacking
 * them gives ERR_PERMISSION if the user may look the mailbox up, else
 * ERR_NOMAILBOX. On success *intname_r and *entry_r (both required; the
 * caller frees them) and *rights_r (may be NULL) are set; on failure
 * nothing is returned to free. */
int imapd_lookup_rights(struct imapd_session *s, const char *extname,
                        uint32_t need, char **intname_r,
                        struct mboxlist_entry **entry_r, uint32_t *rights_r);
/* Internal -> external name for this session (caller frees), NULL if the
 * session cannot express it. */
char *imapd_extname(struct imapd_session *s, const char *intname);
/* Path of a local mailbox's spool directory. */
int imapd_mailbox_path(struct imapd_session *s,
                       const struct mboxlist_entry *entry, struct buf *out);
/* STATUS items: parse "(MESSAGES UNSEEN ...)" into a bit set; format the
 * parenthesised STATUS data of a local mailbox. */
int imapd_status_parse(struct imaptok *t, unsigned *items_r);
int imapd_status_data(struct imapd_session *s,
                      const struct mboxlist_entry *e, unsigned items,
                      struct buf *out);
/* expunge_mode from imapd.conf (enum expunge_mode of imap/expunge.h). */
int imapd_expunge_mode(void);
/* Per-user \Seen (STORAGE.md §5). A user who does not own a mailbox
 * keeps \Seen in seen.db, keyed by the mailbox's uniqueid.
 * imapd_seen_read(): 1 and the user's seen UIDs in *set_r (caller frees;
 * NULL when none) if that applies to intname, 0 if the index flags are
 * the user's (the owner), or a negative error.
 * imapd_seen_select(): after SELECT, give the view the user's set when it
 * applies. imapd_seen_save(): write the selected view's set back if
 * FETCH or STORE changed it (errors are logged). */
int imapd_seen_read(struct imapd_session *s, const char *intname,
                    const char *uniqueid, struct seqset **set_r);
int imapd_seen_select(struct imapd_session *s);
void imapd_seen_save(struct imapd_session *s);
/* Close the selected mailbox (CLOSE, UNSELECT, a new SELECT). */
void imapd_unselect(struct imapd_session *s);

/* RENAME INBOX newname (imap/rename_inbox.c): create newname and move
 * every message of the INBOX there; the INBOX stays, empty, with its
 * children. Both names internal. 0, or an ERR_* with *error_r (static). */
int imapd_rename_inbox(struct imapd_session *s, const char *inbox,
                       const char *newname, const char **error_r);

/* Whether plaintext passwords may be used right now (TLS or
 * allowplaintext). */
int imapd_plaintext_ok(const struct imapd_session *s);
/* The CAPABILITY list for the current state (no leading/trailing space):
 * the greeting's and the login reply's. */
void imapd_capabilities(const struct imapd_session *s, struct buf *out);
/* The answer to the CAPABILITY command: before login it also lists the
 * extensions, as Cyrus does. */
void imapd_capabilities_command(const struct imapd_session *s,
                                struct buf *out);
/* Finish a successful login as userid (canonical). */
void imapd_logged_in(struct imapd_session *s, const char *userid);

/* imapd_literal.c: literal decisions and APPEND spooling. */
/* After login: big literals go to append stages from now on. */
void imapd_literal_init(struct imapd_session *s);
/* The reader stopped at a literal header: check it (maxmessagesize with
 * [TOOBIG] for APPEND, RFC 7888 limits, in-memory limit for other
 * commands), then send "+ go ahead" and accept it or reply and reject
 * it. 0 to go on; -1 after "* BYE": the connection must close. */
int imapd_literal_decide(struct imapd_session *s);
/* The stage holding literal `index` of the current command, or NULL if
 * it was not spooled; the caller owns it (append_stage_finish(), then
 * append_stage_free()). */
struct append_stage *imapd_literal_take(struct imapd_session *s,
                                        unsigned index);
/* Frontend role: write the current command (cmd, len as dispatched) to
 * out, for a backend, with its spooled literals put back in place: each
 * one's header becomes "{n+}" (n: the spooled size), then its bytes, read
 * from the spool file in chunks so that the message is never whole in
 * memory; the command's other synchronizing literals become LITERAL+
 * (proxy_imap_rewrite_literals()). Drops the command's spools. 0; or,
 * with nothing written, ERR_BADMSG (NUL bytes), ERR_TOOBIG or ERR_IO from
 * spooling: the command is to be refused; or ERR_IO when a spool file
 * could not be read back halfway (out is then shut down). Write errors
 * are out's (stream_flush()). */
struct stream;
int imapd_literal_forward(struct imapd_session *s, const char *cmd,
                          size_t len, struct stream *out);
/* Drop the current command's stages (after every command). */
void imapd_literal_reset(struct imapd_session *s);
void imapd_literal_free(struct imapd_session *s);
/* Commit the APPENDs held in s->append_group and send their tagged
 * replies (OK, or NO if the commit failed); nothing if there are none.
 * The command loop calls it before waiting for input, before any command
 * other than APPEND and at the end of the session, so replies keep their
 * order and no mailbox stays locked while the client is waited for. */
void cmd_append_flush(struct imapd_session *s);

/* A command handler: t is positioned after the command name (and its SP
 * if arguments follow). It sends the tagged reply itself. */
typedef void imapd_cmd_fn(struct imapd_session *s, const char *tag,
                          struct imaptok *t);

/* A handler that serves several table entries (FETCH and UID FETCH,
 * SEARCH and SORT, ...): variant is the entry's IMAPD_CMD_* bits. */
typedef void imapd_cmd_variant_fn(struct imapd_session *s, const char *tag,
                                  struct imaptok *t, unsigned variant);

#define IMAPD_CMD_UID  (1u << 0) /* "UID ..." form: arguments are UIDs */
#define IMAPD_CMD_SORT (1u << 1) /* SEARCH handler: SORT (RFC 5256) */
#define IMAPD_CMD_MOVE (1u << 2) /* COPY handler: MOVE (RFC 6851) */

/* Exactly one of fn and vfn is set. */
struct imapd_command {
    const char *name;
    imapd_cmd_fn *fn;
    unsigned states; /* enum imapd_state bits in which it is allowed */
    imapd_cmd_variant_fn *vfn;
    unsigned variant; /* passed to vfn */
};

/* Find a command by name (case-insensitive); NULL if unknown. */
const struct imapd_command *imapd_command_find(const char *name, size_t len);

/* Handlers (imap/cmd_*.c). */
imapd_cmd_fn cmd_capability, cmd_noop, cmd_logout, cmd_id, cmd_enable,
    cmd_namespace, cmd_login, cmd_authenticate, cmd_starttls;
imapd_cmd_fn cmd_select, cmd_examine, cmd_close, cmd_unselect, cmd_check;
imapd_cmd_fn cmd_create, cmd_delete, cmd_rename;
imapd_cmd_fn cmd_list, cmd_lsub, cmd_status;
imapd_cmd_fn cmd_append, cmd_idle;
/* variants: UID (all), SORT (cmd_search), MOVE (cmd_copy) */
imapd_cmd_variant_fn cmd_fetch, cmd_store, cmd_search, cmd_expunge, cmd_copy;
imapd_cmd_fn cmd_compress; /* RFC 4978, imap/cmd_compress.c */
imapd_cmd_variant_fn cmd_thread; /* RFC 5256, imap/cmd_thread.c */
imapd_cmd_fn cmd_getacl, cmd_setacl, cmd_deleteacl, cmd_listrights,
    cmd_myrights;
imapd_cmd_fn cmd_getquota, cmd_getquotaroot, cmd_setquota;
imapd_cmd_fn cmd_subscribe, cmd_unsubscribe;
imapd_cmd_fn cmd_getmetadata, cmd_setmetadata; /* RFC 5464 */
imapd_cmd_fn cmd_xlist, cmd_rlist, cmd_rlsub; /* imap/cmd_list.c */
/* LOCALAPPEND (Cyrus-private, imap/cmd_localappend.c): what a Cyrus 3.x
 * frontend sends for every proxied APPEND. */
imapd_cmd_fn cmd_localappend;
/* APPEND after the mailbox argument and its SP: [flags] [date] literal,
 * repeated (MULTIAPPEND); sends the tagged reply. */
void cmd_append_to(struct imapd_session *s, const char *tag,
                   const char *extname, struct imaptok *t);
/* XFER source (cmd_xfer.c) and destination (cmd_localcreate.c,
 * cmd_localdelete.c, cmd_xappend.c, cmd_mupdatepush.c,
 * cmd_localsubscribe.c, cmd_localseen.c); admins only. */
imapd_cmd_fn cmd_xfer, cmd_localcreate, cmd_localdelete, cmd_xappend,
    cmd_mupdatepush, cmd_localsubscribe, cmd_localseen;

#endif
