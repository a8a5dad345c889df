/* message_priv.h: the layout of struct message and struct message_part,
 * shared only by the files that build or serialise them (message.c,
 * bodystructure.c, msgcache.c, message_section.c). Everyone else uses the
 * accessors in message.h. */
#ifndef MESSAGE_PRIV_H
#define MESSAGE_PRIV_H

#include "envelope.h"
#include "message.h"
#include "mimeheader.h"

struct message_part {
    uint64_t header_offset, header_size;
    uint64_t content_offset, content_size;
    uint64_t lines;
    char *type, *subtype;     /* upper case, never NULL once built */
    char *encoding;           /* upper case or NULL (7BIT) */
    struct mimeparam *params; /* Content-Type parameters */
    /* Below: only filled by the parser (a decoded cache record keeps the
     * finished BODYSTRUCTURE string instead). */
    char *id, *description, *md5, *location;
    char *disposition;
    struct mimeparam *disp_params;
    struct mimeparam *language;
    char *fields[ENVELOPE_NFIELDS]; /* message nodes only */
    size_t nparts, parts_alloc;
    struct message_part *parts; /* nparts entries */
};

struct message {
    uint64_t size;
    int has_date;
    int64_t date;
    char *envelope, *bodystructure, *body;
    struct message_part root;
};

/* Free everything a part owns (not the part itself). */
void message_part_fini(struct message_part *p);

#endif
