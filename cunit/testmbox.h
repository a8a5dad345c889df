/* testmbox.h: real mailboxes with real messages for the FETCH, STORE and
 * EXPUNGE suites: each message is parsed, its cache record encoded with
 * msgcache_encode() and appended with mailbox_append(), as delivery
 * does. Functions are static inline so a suite may use any subset. */
#ifndef TESTMBOX_H
#define TESTMBOX_H

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "cunit.h"
#include "mailbox.h"
#include "message.h"
#include "msgcache.h"
#include "msgheader.h"

/* A fresh mailbox path under the test directory. */
static inline const char *
testmbox_path(const char *tag)
{
    static char path[512];
    static int counter;

    snprintf(path, sizeof(path), "%s/%s%d", cunit_tmpdir(), tag, ++counter);
    return path;
}

/* Append msg (NUL-terminated) with the given flags and internal date to
 * an exclusively locked mailbox; returns the UID. */
static inline uint32_t
testmbox_append_locked(struct mailbox *mb, const char *msg, uint32_t flags,
                       int64_t internaldate)
{
    struct message *m = NULL;
    struct buf cache = BUF_INITIALIZER;
    struct index_record rec;
    size_t len = strlen(msg);

    CU_ASSERT_FATAL(message_parse(msg, len, &m) == 0);
    msgcache_encode(m, &cache);
    memset(&rec, 0, sizeof(rec));
    rec.system_flags = flags;
    rec.internaldate = internaldate;
    rec.sentdate = internaldate;
    rec.header_size = (uint32_t)msgheader_size(msg, len);
    rec.guid[0] = 0xab;
    rec.guid[19] = 0x01;
    CU_ASSERT_FATAL(
        mailbox_append(mb, msg, len, buf_base(&cache), buf_len(&cache), &rec)
        == 0);
    message_free(&m);
    buf_free(&cache);
    return rec.uid;
}

/* Create a mailbox holding the n messages msgs[] (flags[i] each, or 0
 * when flags is NULL); internal dates are 1700000000 + i. */
static inline const char *
testmbox_create(const char *tag, const char *const *msgs, const uint32_t *flags,
                size_t n)
{
    const char *path = testmbox_path(tag);
    struct mailbox *mb = NULL;
    size_t i;

    CU_ASSERT_FATAL(mailbox_create(path, "uuid-test", NULL, 77, 0) == 0);
    CU_ASSERT_FATAL(mailbox_open(path, &mb) == 0);
    CU_ASSERT_FATAL(mailbox_lock(mb, MAILBOX_EXCLUSIVE) == 0);
    for (i = 0; i < n; i++)
        testmbox_append_locked(mb, msgs[i], flags ? flags[i] : 0,
                               1700000000 + (int64_t)i);
    CU_ASSERT_FATAL(mailbox_commit(mb) == 0);
    mailbox_unlock(mb);
    mailbox_close(&mb);
    return path;
}

/* Read the record of uid from the mailbox at path (own open). */
static inline int
testmbox_record(const char *path, uint32_t uid, struct index_record *rec)
{
    struct mailbox *mb = NULL;
    long idx;
    int r = -1;

    if (mailbox_open(path, &mb) != 0)
        return -1;
    if (mailbox_lock(mb, MAILBOX_SHARED) == 0) {
        idx = mailbox_find_uid(mb, uid);
        if (idx >= 0)
            r = mailbox_read_record(mb, (uint32_t)idx, rec);
        mailbox_unlock(mb);
    }
    mailbox_close(&mb);
    return r;
}

/* Rewrite uid's system flags from another "process" (own open). */
static inline void
testmbox_set_flags(const char *path, uint32_t uid, uint32_t flags)
{
    struct mailbox *mb = NULL;
    struct index_record rec;
    long idx;

    CU_ASSERT_FATAL(mailbox_open(path, &mb) == 0);
    CU_ASSERT_FATAL(mailbox_lock(mb, MAILBOX_EXCLUSIVE) == 0);
    idx = mailbox_find_uid(mb, uid);
    CU_ASSERT_FATAL(idx >= 0);
    mailbox_read_record(mb, (uint32_t)idx, &rec);
    rec.system_flags = flags;
    CU_ASSERT(mailbox_rewrite_record(mb, (uint32_t)idx, &rec) == 0);
    CU_ASSERT(mailbox_commit(mb) == 0);
    mailbox_unlock(mb);
    mailbox_close(&mb);
}

#endif
