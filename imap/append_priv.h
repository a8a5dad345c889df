/* append_priv.h: the staged message, shared by append_stage.c (which
 * builds it) and append.c (which appends it). Internal to imap/append*.c. */
#ifndef APPEND_PRIV_H
#define APPEND_PRIV_H

#include <openssl/evp.h>
#include <sys/types.h>

#include "append.h"
#include "buf.h"

struct append_stage {
    char *path;       /* the temporary file */
    int fd;           /* -1 once finished */
    dev_t dev;        /* filesystem of the file, for hard links */
    uint64_t maxsize; /* 0: no limit */
    uint64_t size;    /* stored bytes so far */
    int prev_cr;      /* the last stored byte was CR */
    int error;        /* sticky ERR_* */
    int finished;
    int defer_fsync; /* the batch commit fsyncs the mailbox's link */
    EVP_MD_CTX *sha1;
    struct buf pending; /* converted bytes not yet written */
    int64_t stagedate;  /* default internal date */
    /* valid after finish */
    const char *map;
    size_t maplen;
    uint8_t guid[20];
    uint32_t header_size;
    int64_t sentdate;
    struct message *msg;
    struct buf cache; /* msgcache record */
};

#endif
