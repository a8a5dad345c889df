/* imapclient_resp.h: parsers for the untagged responses and response
 * codes admin clients read (cyradm, XFER, tests).
 *
 * Each parser takes one response as imapclient.h hands it over (the text
 * after "* ", literals assembled in place, no final CRLF) and is pure: no
 * I/O, no globals. They return 0 when the response is of their kind and
 * well formed, ERR_NOTFOUND when it is another kind of response (the out
 * parameters are then untouched), and ERR_PROTOCOL when it is of their
 * kind but malformed (out parameters hold partial results). Out buffers
 * and arrays are replaced, not appended to. */
#ifndef IMAPCLIENT_RESP_H
#define IMAPCLIENT_RESP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "strarray.h"

/* LIST / LSUB (RFC 3501 7.2.2): attrs_r gets the attributes as sent
 * ("\HasNoChildren"), *sep_r the hierarchy separator ('\0' for NIL),
 * name_r the mailbox name. Extended data after the name is ignored. */
int imapclient_resp_list(const char *resp, size_t len,
                         struct strarray *attrs_r, char *sep_r,
                         struct buf *name_r);

/* ACL (RFC 4314 3.6): mailbox_r, and pairs_r as identifier, rights,
 * identifier, rights, ... */
int imapclient_resp_acl(const char *resp, size_t len, struct buf *mailbox_r,
                        struct strarray *pairs_r);

/* QUOTA (RFC 9208 5.1): root_r, and triples_r as resource name, usage,
 * limit (decimal text), ... */
int imapclient_resp_quota(const char *resp, size_t len, struct buf *root_r,
                          struct strarray *triples_r);

/* QUOTAROOT (RFC 9208 5.2): mailbox_r, and the roots (possibly none). */
int imapclient_resp_quotaroot(const char *resp, size_t len,
                              struct buf *mailbox_r, struct strarray *roots_r);

/* METADATA (RFC 5464 4.4.1), the value form: mailbox_r, and pairs_r as
 * entry, value, ... (a NIL value is the empty string). */
int imapclient_resp_metadata(const char *resp, size_t len,
                             struct buf *mailbox_r, struct strarray *pairs_r);

/* An IMAP URL from a REFERRAL response code (RFC 2221, RFC 5092):
 * "imap://[user[;AUTH=mech]@]host[:port]/[mailbox[;params]]". host_r gets
 * the host (IPv6 without brackets), port_r the port or "" when absent,
 * mailbox_r the %-decoded mailbox (may be empty). 0 or ERR_SYNTAX. */
int imapclient_resp_url(const char *url, struct buf *host_r,
                        struct buf *port_r, struct buf *mailbox_r);

/* The URLs of a "REFERRAL url [url]" response code, in order (Cyrus
 * sends two for an inter-server RENAME). 0, or ERR_NOTFOUND when code is
 * not a REFERRAL. */
int imapclient_resp_referral(const char *code, struct strarray *urls_r);

#endif
