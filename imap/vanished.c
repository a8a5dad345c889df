/* vanished.c: expunged UIDs for QRESYNC (see vanished.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errors.h"
#include "mailbox.h"
#include "util.h"
#include "vanished.h"

static void
file_path(const char *dir, const char *suffix, struct buf *out)
{
    buf_reset(out);
    buf_printf(out, "%s/%s%s", dir, VANISHED_FNAME, suffix);
}

uint64_t
vanished_deletedmodseq(const char *path)
{
    struct buf fn = BUF_INITIALIZER;
    char text[32];
    ssize_t n;
    int fd;

    file_path(path, "", &fn);
    fd = open(buf_cstring(&fn), O_RDONLY | O_CLOEXEC);
    buf_free(&fn);
    if (fd < 0)
        return 0;
    n = read(fd, text, sizeof(text) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    text[n] = '\0';
    return strtoull(text, NULL, 10);
}

int
vanished_note(const char *path, uint64_t modseq)
{
    struct buf fn = BUF_INITIALIZER, tmp = BUF_INITIALIZER;
    struct buf text = BUF_INITIALIZER;
    int fd, r = 0;

    if (modseq <= vanished_deletedmodseq(path))
        return 0;
    file_path(path, "", &fn);
    file_path(path, ".NEW", &tmp);
    buf_printf(&text, "%" PRIu64 "\n", modseq);
    fd = open(buf_cstring(&tmp), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
              0600);
    if (fd < 0 || util_write_all(fd, buf_base(&text), buf_len(&text)) < 0
        || fsync(fd) < 0 || rename(buf_cstring(&tmp), buf_cstring(&fn)) < 0)
        r = ERR_IO;
    if (fd >= 0)
        close(fd);
    if (r)
        unlink(buf_cstring(&tmp));
    buf_free(&fn);
    buf_free(&tmp);
    buf_free(&text);
    return r;
}

struct seqset *
vanished_since(struct mailbox *mb, uint64_t since, const struct seqset *known)
{
    const struct mailbox_counts *c = mailbox_counts(mb);
    struct seqset *out = seqset_new();
    uint32_t i, next_uid = 1, max = c->last_uid;
    int gaps = since < vanished_deletedmodseq(mailbox_path(mb));

    for (i = 0; i <= c->num_records; i++) {
        struct index_record rec;
        uint32_t uid = max + 1;

        if (i < c->num_records && mailbox_read_record(mb, i, &rec) == 0)
            uid = rec.uid;
        else if (i < c->num_records)
            continue;
        /* UIDs without a record were compacted away at some modseq at
         * most the deleted modseq */
        if (gaps && uid > next_uid) {
            if (known == NULL) {
                seqset_add(out, next_uid, uid - 1);
            } else {
                uint32_t u;

                for (u = seqset_next(known, max, next_uid - 1);
                     u != 0 && u < uid; u = seqset_next(known, max, u))
                    seqset_add_num(out, u);
            }
        }
        if (i == c->num_records)
            break;
        next_uid = uid + 1;
        if ((rec.system_flags & FLAG_INT_EXPUNGED) && rec.modseq > since
            && (known == NULL || seqset_contains(known, uid, max)))
            seqset_add_num(out, uid);
    }
    return out;
}

void
vanished_format(const struct seqset *set, int earlier, struct buf *out)
{
    if (set == NULL || seqset_is_empty(set))
        return;
    buf_appendcstr(out, earlier ? "* VANISHED (EARLIER) " : "* VANISHED ");
    seqset_format(set, out);
    buf_appendcstr(out, "\r\n");
}
