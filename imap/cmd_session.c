/* cmd_session.c: CAPABILITY, NOOP, LOGOUT, ID, ENABLE, NAMESPACE. */
#include <string.h>

#include "imapd.h"
#include "index.h"
#include "namespace.h"
#include "stream.h"
#include "util.h"

void
cmd_capability(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    struct buf caps = BUF_INITIALIZER;

    if (imaptok_end(t) < 0) {
        imapd_bad(s, tag, "Unexpected extra arguments to Capability");
        return;
    }
    imapd_capabilities_command(s, &caps);
    stream_printf(s->s, "* CAPABILITY %s\r\n", buf_cstring(&caps));
    buf_free(&caps);
    imapd_sync(s, 1);
    imapd_ok(s, tag, NULL, "Completed");
}

void
cmd_noop(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    if (imaptok_end(t) < 0) {
        imapd_bad(s, tag, "Unexpected extra arguments to Noop");
        return;
    }
    imapd_sync(s, 1);
    imapd_ok(s, tag, NULL, "Completed");
}

void
cmd_logout(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    if (imaptok_end(t) < 0) {
        imapd_bad(s, tag, "Unexpected extra arguments to Logout");
        return;
    }
    stream_puts(s->s, "* BYE LOGOUT received\r\n");
    imapd_ok(s, tag, NULL, "Completed");
    s->state = IMAPD_LOGOUT;
}

/* RFC 2971: ID ( "name" "value" ... ) or ID NIL. The client's list is
 * checked for syntax and logged; we answer with ours. */
void
cmd_id(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    struct buf key = BUF_INITIALIZER, val = BUF_INITIALIZER;
    struct buf logline = BUF_INITIALIZER;
    int n = 0, nil;

    if (imaptok_nil(t) < 0) {
        if (imaptok_lparen(t) < 0)
            goto bad;
        while (imaptok_peek(t) != ')') {
            if (n && imaptok_sp(t) < 0)
                goto bad;
            if (imaptok_string(t, &key) < 0 || imaptok_sp(t) < 0
                || imaptok_nstring(t, &val, &nil) < 0)
                goto bad;
            if (++n > 30 || buf_len(&key) > 30 || buf_len(&val) > 1024) {
                imapd_bad(s, tag, "Invalid field-value pair in Id");
                goto done;
            }
            buf_printf(&logline, " \"%s\" \"%s\"", buf_cstring(&key),
                       nil ? "NIL" : buf_cstring(&val));
        }
        if (imaptok_rparen(t) < 0)
            goto bad;
    }
    if (imaptok_end(t) < 0)
        goto bad;
    stream_puts(s->s, "* ID (\"name\" \"Cyrus IMAPD\" \"version\" "
                      "\"cyrmurder-0.1\" \"vendor\" \"cyrmurder\")\r\n");
    imapd_sync(s, 1);
    imapd_ok(s, tag, NULL, "Completed");
    goto done;
bad:
    imapd_bad(s, tag, imaptok_error(t) ? imaptok_error(t)
                                       : "Invalid argument to Id");
done:
    buf_free(&key);
    buf_free(&val);
    buf_free(&logline);
}

/* RFC 5161 */
void
cmd_enable(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    struct buf enabled = BUF_INITIALIZER;
    struct imaptok_span cap;
    int n = 0;

    while (!imaptok_at_end(t)) {
        unsigned bit = 0;

        if (n++ && imaptok_sp(t) < 0)
            break;
        if (imaptok_atom(t, &cap) < 0)
            break;
        if (util_memcaseeq(cap.p, cap.len, "CONDSTORE"))
            bit = IMAPD_ENABLED_CONDSTORE;
        else if (util_memcaseeq(cap.p, cap.len, "QRESYNC"))
            bit = IMAPD_ENABLED_QRESYNC | IMAPD_ENABLED_CONDSTORE;
        /* QRESYNC implies CONDSTORE (RFC 7162 3.2.3); unknown
         * extensions are ignored (RFC 5161 3.1) */
        if (bit && (s->enabled & bit) != bit) {
            s->enabled |= bit;
            buf_putc(&enabled, ' ');
            buf_appendmap(&enabled, cap.p, cap.len);
        }
    }
    if (n == 0 || imaptok_end(t) < 0) {
        imapd_bad(s, tag, "Missing or invalid argument to Enable");
        buf_free(&enabled);
        return;
    }
    if (s->selected)
        index_set_qresync(s->selected, s->enabled & IMAPD_ENABLED_QRESYNC);
    stream_printf(s->s, "* ENABLED%s\r\n", buf_cstring(&enabled));
    buf_free(&enabled);
    imapd_ok(s, tag, NULL, "Completed");
}

void
cmd_namespace(struct imapd_session *s, const char *tag, struct imaptok *t)
{
    struct buf resp = BUF_INITIALIZER;

    if (imaptok_end(t) < 0) {
        imapd_bad(s, tag, "Unexpected extra arguments to Namespace");
        return;
    }
    namespace_response(s->proc->ns, s->isadmin, NAMESPACE_ALL, &resp);
    stream_printf(s->s, "* NAMESPACE %s\r\n", buf_cstring(&resp));
    buf_free(&resp);
    imapd_sync(s, 1);
    imapd_ok(s, tag, NULL, "Completed");
}
