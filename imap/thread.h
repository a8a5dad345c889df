/* thread.h: IMAP THREAD (RFC 5256 4-5): ORDEREDSUBJECT and REFERENCES.
 *
 *     thread_parse()  "THREAD alg charset search-keys"
 *     thread_run()    search (imap/search.h), load the threading headers,
 *                     thread, and write "* THREAD (1 2)(3 (4)(5))"
 *     thread_build()  the pure algorithm over an array of messages
 *
 * Subjects compare by their base subject (sort_base_subject()); dates are
 * sent dates, the internal date standing in when there is none; ties go by
 * sequence order (the order of the input array). */
#ifndef THREAD_H
#define THREAD_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "imaptok.h"

struct index_view;
struct thread_program;

enum thread_alg {
    THREAD_ORDEREDSUBJECT,
    THREAD_REFERENCES
};

/* One message to thread. Strings are raw header values (unfolded, RFC 2047
 * words still encoded) or NULL when the header is absent; they are only
 * read during thread_build(). */
struct thread_msg {
    uint32_t id;            /* the number reported: sequence number or UID */
    int64_t date;           /* sent date, seconds since the epoch */
    const char *subject;
    const char *message_id;
    const char *references;
    const char *in_reply_to;
};

/* The algorithm named name[0..len) (ASCII case-insensitive): 0 and *alg_r,
 * or ERR_NOTFOUND. */
int thread_alg_lookup(const char *name, size_t len, enum thread_alg *alg_r);

/* Thread msgs[0..n) (in sequence order) and append the thread lists to out
 * without the "* THREAD" prefix: "(1 2)(3 (4)(5))", "" when n is 0.
 * Members are written as thread_msg.id. Malformed or looping references
 * are tolerated: every message appears exactly once. */
void thread_build(enum thread_alg alg, const struct thread_msg *msgs,
                  size_t n, struct buf *out);

/* Parse the arguments of THREAD / UID THREAD: SP algorithm SP charset
 * 1*(SP search-key) and the end of the command; the cursor stands just
 * after the command name. Returns 0 and *prog_r (free with
 * thread_program_free()), or ERR_SYNTAX (BAD; an unknown algorithm is a
 * syntax error as Cyrus reports it) / ERR_BADCHARSET with a static reason
 * in *error_r. */
int thread_parse(struct imaptok *t, int uid_command,
                 struct thread_program **prog_r, const char **error_r);
void thread_program_free(struct thread_program **progp);

/* Search the view, thread the matches and append
 * "* THREAD <lists>\r\n" (just "* THREAD\r\n" when nothing matches) to
 * out. Takes and drops a shared lock itself. Returns 0 or ERR_IO. */
int thread_run(struct index_view *v, const struct thread_program *prog,
               struct buf *out);

#endif
