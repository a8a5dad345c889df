/* msgaddr.h: RFC 5322 address lists, parsed the way Cyrus does for the
 * IMAP ENVELOPE (RFC 3501 7.4.2).
 *
 * The parser is lenient and never fails: whatever it cannot make sense of
 * is skipped. Groups become a start entry (mailbox = group name, domain
 * NULL) and an end entry (all fields NULL). Quoted strings lose their
 * quotes and escapes, blanks and comments collapse to one space, a comment
 * after a bare addr-spec becomes the display name, an address without a
 * domain gets "unspecified-domain", and encoded words are kept raw. */
#ifndef MSGADDR_H
#define MSGADDR_H

#include <stddef.h>

#include "buf.h"

struct msgaddr {
    char *name;    /* display name or NULL */
    char *route;   /* obsolete source route ("@a,@b") or NULL */
    char *mailbox; /* local part; group name; NULL for a group end */
    char *domain;  /* NULL for group start and end */
    struct msgaddr *next;
};

/* Parse an (unfolded) address list; parsing stops at a NUL. Returns the
 * list, or NULL when it holds no address. Free with msgaddr_free(). */
struct msgaddr *msgaddr_parse(const char *s, size_t len);
void msgaddr_free(struct msgaddr **ap);

/* Append the IMAP form of list to out: NIL for an empty list, else
 * "((name route mailbox host)...)" with nstrings (imapquote.h). */
void msgaddr_write_imap(struct buf *out, const struct msgaddr *list);

#endif
