/* cmd_idle.c: IDLE (RFC 2177). Changes to the selected mailbox by other
 * sessions or deliveries are pushed within a quarter second; the client
 * ends IDLE with DONE. */
#include <string.h>

#include "config.h"
#include "errors.h"
#include "imapd.h"
#include "imapreader.h"
#include "stream.h"
#include "util.h"

#define IDLE_POLL_MS 250

void
cmd_idle(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    long timeout = config_duration(config, CFG_IMAPIDLETIMEOUT);
    uint64_t deadline;
    struct buf line = BUF_INITIALIZER;

    if (imaptok_end(t) < 0) {
        imapd_bad(s, tag, "Unexpected extra arguments to Idle");
        return;
    }
    if (timeout <= 0)
        timeout = config_duration(config, CFG_TIMEOUT);
    if (timeout <= 0)
        timeout = 30 * 60;
    deadline = util_now_ms() + (uint64_t)timeout * 1000;
    stream_puts(s->s, "+ idling\r\n");
    imapd_sync(s, 1);
    stream_flush(s->s);
    if (s->state == IMAPD_LOGOUT)
        goto done;
    imapreader_read_line(s->reader);
    for (;;) {
        const char *p;
        size_t len, used = 0;
        enum imapreader_state st;

        p = stream_peek(s->s, &len);
        if (len == 0) {
            int w = stream_wait(s->s, IDLE_POLL_MS);

            if (w < 0 && w != ERR_TIMEOUT) {
                s->state = IMAPD_LOGOUT;
                goto done;
            }
            if (w == ERR_TIMEOUT) {
                if (util_now_ms() > deadline) {
                    stream_puts(s->s, "* BYE Idle timeout\r\n");
                    s->state = IMAPD_LOGOUT;
                    goto done;
                }
                imapd_sync(s, 1);
                stream_flush(s->s);
                if (s->state == IMAPD_LOGOUT)
                    goto done; /* the mailbox was moved away: BYE sent */
                continue;
            }
            if (stream_fill(s->s) <= 0) {
                s->state = IMAPD_LOGOUT;
                goto done;
            }
            continue;
        }
        st = imapreader_feed(s->reader, p, len, &used);
        stream_skip(s->s, used);
        if (st == IMAPREADER_LINE) {
            p = imapreader_line(s->reader, &len);
            if (util_memcaseeq(p, len, "DONE")) {
                imapd_sync(s, 1);
                imapd_ok(s, tag, NULL, "Completed");
            } else {
                imapd_bad(s, tag, "Invalid Idle continuation");
            }
            goto done;
        }
        if (st == IMAPREADER_ERROR || st == IMAPREADER_CLOSE) {
            imapd_bad(s, tag, "Invalid Idle continuation");
            goto done;
        }
    }
done:
    buf_free(&line);
}
