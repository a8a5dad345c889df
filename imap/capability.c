/* capability.c: what imapd advertises, by session state (IMAP-SCOPE.md §1). */
#include <string.h>

#include "config.h"
#include "imapd.h"
#include "saslglue.h"
#include "stream.h"
#include "strarray.h"
#include "util.h"

/* Extensions implemented after login, in Cyrus's order. */
static const char *const authed_caps[] = {
    "ACL", "CHILDREN", "CONDSTORE", "ESEARCH", "LIST-EXTENDED", "LIST-STATUS",
    "MAILBOX-REFERRALS", "METADATA", "MOVE", "MULTIAPPEND", "NAMESPACE",
    "QRESYNC", "QUOTA",
    "RIGHTS=kxten", "SORT", "SPECIAL-USE", "THREAD=ORDEREDSUBJECT",
    "THREAD=REFERENCES", "UIDPLUS", "UNSELECT", "LIST-METADATA", "XLIST",
    "IDLE",
};

static void
add(struct buf *out, const struct strarray *suppress, const char *cap)
{
    if (suppress && strarray_find_case(suppress, cap) >= 0)
        return;
    if (buf_len(out))
        buf_putc(out, ' ');
    buf_appendcstr(out, cap);
}

static void
add_extensions(struct buf *out, const struct strarray *suppress)
{
    size_t i;

    for (i = 0; i < ARRAY_SIZE(authed_caps); i++) {
        if (strcmp(authed_caps[i], "MAILBOX-REFERRALS") == 0
            && config_switch(config, CFG_PROXYD_DISABLE_MAILBOX_REFERRALS))
            continue;
        add(out, suppress, authed_caps[i]);
    }
}

static void
build(const struct imapd_session *s, struct buf *out, int command)
{
    const char *sup = config_str(config, CFG_SUPPRESS_CAPABILITIES);
    struct strarray *suppress = sup ? strarray_split(sup, " \t") : NULL;
    const char *mupdate = config_str(config, CFG_MUPDATE_SERVER);

    buf_reset(out);
    add(out, suppress, "IMAP4rev1");
    add(out, suppress, config_switch(config, CFG_LITERALMINUS) ? "LITERAL-"
                                                               : "LITERAL+");
    add(out, suppress, "ID");
    add(out, suppress, "ENABLE");
    if (s->state == IMAPD_NOTAUTH) {
        /* Cyrus answers a pre-login CAPABILITY command with the
         * extensions too (only the greeting is short): clients such as
         * Cyrus::IMAP::Admin look for METADATA and MAILBOX-REFERRALS
         * there */
        if (command)
            add_extensions(out, suppress);
        if (mupdate && *mupdate) {
            struct buf m = BUF_INITIALIZER;

            buf_printf(&m, "MUPDATE=mupdate://%s/", mupdate);
            add(out, suppress, buf_cstring(&m));
            buf_free(&m);
        }
        if (s->proc->tls && !stream_tls_active(s->s))
            add(out, suppress, "STARTTLS");
        if (!imapd_plaintext_ok(s))
            add(out, suppress, "LOGINDISABLED");
        if (s->sasl) {
            struct buf mechs = BUF_INITIALIZER;

            saslglue_mechlist(s->sasl, "AUTH=", " AUTH=", "", &mechs);
            if (buf_len(&mechs))
                add(out, suppress, buf_cstring(&mechs));
            buf_free(&mechs);
        }
        add(out, suppress, "SASL-IR");
        if (command && !stream_deflate_active(s->s))
            add(out, suppress, "COMPRESS=DEFLATE");
    } else {
        add_extensions(out, suppress);
        if (!stream_deflate_active(s->s))
            add(out, suppress, "COMPRESS=DEFLATE");
        if (mupdate && *mupdate) {
            struct buf m = BUF_INITIALIZER;

            buf_printf(&m, "MUPDATE=mupdate://%s/", mupdate);
            add(out, suppress, buf_cstring(&m));
            buf_free(&m);
        }
        {
            struct buf m = BUF_INITIALIZER;
            int64_t max = config_bytesize(config, CFG_MAXMESSAGESIZE);

            buf_printf(&m, "APPENDLIMIT=%lld",
                       max > 0 ? (long long)max : 4294967295LL);
            add(out, suppress, buf_cstring(&m));
            buf_free(&m);
        }
    }
    strarray_free(&suppress);
}

void
imapd_capabilities(const struct imapd_session *s, struct buf *out)
{
    build(s, out, 0);
}

void
imapd_capabilities_command(const struct imapd_session *s, struct buf *out)
{
    build(s, out, 1);
}
