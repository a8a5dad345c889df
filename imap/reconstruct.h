/* reconstruct.h: rebuild a mailbox's index and cache from its spool files.
 *
 * A mailbox directory (imap/mailbox.h) holds one file per message named
 * `<uid>.`. reconstruct_mailbox() writes a fresh cyrus.index, cyrus.cache
 * and cyrus.header from those files:
 *
 *  - every spool file whose name is a UID becomes a record with that UID
 *    (files that are not valid messages, e.g. with NUL bytes, are skipped
 *    and counted as bad; they stay on disk);
 *  - when the old index is readable, its UIDVALIDITY, uniqueid, quota
 *    root, HIGHESTMODSEQ, \Recent mark and last UID are kept, and a file
 *    whose record survives keeps that record's flags (system and user, by
 *    name), internal date and expunged state (a delayed-expunge record
 *    stays expunged);
 *  - a file with no old record gets no flags and its mtime as internal
 *    date; an old record without a file is dropped;
 *  - when the old index is missing or damaged, everything comes from the
 *    files and from `fb` (the mailboxes.db entry's uniqueid and
 *    UIDVALIDITY; a new UIDVALIDITY from the clock if fb has none).
 *
 * UIDs never go down: the new last UID is the larger of the old one and
 * the highest file UID. Cache records and GUIDs are computed from the
 * files through the append pipeline (imap/append.h), so files with bare
 * LF line ends are rewritten with CRLF.
 *
 * The rebuild happens in a scratch directory inside the mailbox
 * (`cyrus.reconstruct.NEW`) and is moved into place file by file (spool
 * files, then cache, index, header), each by rename(), so a crash leaves
 * either the old or the new file of each kind; running reconstruct again
 * repairs any mix. The old index is held under the exclusive mailbox lock
 * (waiting for it)
 * while rebuilding; sessions that keep the mailbox open should be closed
 * (they go on reading the replaced files until they reopen it).
 * quotas.db is not touched: run quota -f afterwards if sizes changed. */
#ifndef RECONSTRUCT_H
#define RECONSTRUCT_H

#include <stdint.h>

/* Used only when the old index cannot be read. Any field may be NULL/0. */
struct reconstruct_fallback {
    const char *uniqueid;  /* NULL: derived from the directory name */
    const char *quotaroot; /* NULL: none */
    uint32_t uidvalidity;  /* 0: time(NULL) */
    uint64_t createdmodseq;
};

struct reconstruct_stats {
    uint32_t kept;    /* files whose old record survived (flags kept) */
    uint32_t added;   /* files with no old record */
    uint32_t dropped; /* old records whose file is gone */
    uint32_t bad;     /* files that are not valid messages (skipped) */
    uint32_t expunged; /* records kept in the expunged state */
    int from_scratch; /* 1 when the old index was missing or damaged */
    uint32_t uidvalidity;
    uint32_t last_uid;
};

/* Rebuild the mailbox in directory path. fb may be NULL. Returns 0 and
 * fills *stats_r (may be NULL); or ERR_NOMAILBOX (no such directory),
 * ERR_IO, with
 * *error_r set to static text (may be NULL). */
int reconstruct_mailbox(const char *path,
                        const struct reconstruct_fallback *fb,
                        struct reconstruct_stats *stats_r,
                        const char **error_r);

#endif
