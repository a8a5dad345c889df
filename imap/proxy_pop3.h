/* proxy_pop3.h: pop3d in the frontend role (MURDER.md section 2): once
 * the user authenticated against the frontend, the session is handed to
 * the backend holding the user's INBOX, logged in there as the proxy with
 * the user as authorization id; pop3d then relays bytes (proxy_pump.h). */
#ifndef PROXY_POP3_H
#define PROXY_POP3_H

struct backend;
struct config;
struct mboxlist;
struct namespace;

/* Find userid's INBOX in the replica ml and connect to its server. 0 and
 * *be_r (the caller frees it: backend_free(), since the client's QUIT
 * already ended the backend session, or the client vanished and POP3
 * must not expunge), or:
 *   ERR_NOUSER      no INBOX (or a deleted/intermediate entry),
 *   ERR_MOVED       the INBOX is reserved or being moved (XFER),
 *   ERR_LOCKED      the backend's maildrop is locked by another session,
 *   ERR_UNAVAILABLE the backend cannot be reached or refused us,
 * with *reply_r the text for "-ERR " (static, with its RFC 3206 code). */
int proxy_pop3_open(const struct config *cfg, struct mboxlist *ml,
                    const struct namespace *ns, const char *userid,
                    struct backend **be_r, const char **reply_r);

#endif
