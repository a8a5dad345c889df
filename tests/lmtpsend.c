/* lmtpsend.c: test driver for imap/lmtp_client.c against a real lmtpd.
 *
 *   lmtpsend PORT AUTHNAME PASSWORD FROM RCPT... < message
 *
 * Connects to 127.0.0.1:PORT, authenticates (unless AUTHNAME is "-"),
 * sends one transaction and prints "RCPT CODE ENHANCED" per recipient.
 * Exits 0 when the exchange completed, 1 otherwise. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "errors.h"
#include "lmtp_client.h"
#include "util.h"
#include "xmalloc.h"

int
main(int argc, char **argv)
{
    struct sockaddr_in sin;
    struct lmtp_client *c = NULL;
    struct lmtp_client_rcpt *r = NULL;
    struct saslglue_client *sc = NULL;
    struct buf msg = BUF_INITIALIZER;
    const char *err = "?";
    unsigned long port;
    char chunk[4096];
    ssize_t n;
    int fd, i, nr;

    if (argc < 6 || util_parse_ulong(argv[1], 65535, &port) < 0) {
        fprintf(stderr,
                "usage: lmtpsend PORT AUTHNAME PASSWORD FROM RCPT...\n");
        return 1;
    }
    while ((n = read(0, chunk, sizeof(chunk))) > 0)
        buf_appendmap(&msg, chunk, (size_t)n);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
        perror("lmtpsend: connect");
        return 1;
    }
    if (lmtp_client_new(stream_new(fd), "lmtpsend", &c, &err) < 0)
        goto fail;
    if (strcmp(argv[2], "-") != 0) {
        if (saslglue_client_init() < 0
            || saslglue_client_new("lmtp", "localhost", argv[2], argv[3], NULL,
                                   NULL, &sc, &err)
                   < 0
            || lmtp_client_auth(c, sc, &err) < 0)
            goto fail;
    }
    nr = argc - 5;
    r = xcalloc((size_t)nr, sizeof(*r));
    for (i = 0; i < nr; i++)
        r[i].addr = argv[5 + i];
    if (lmtp_client_send(c, argv[4], r, (size_t)nr, buf_base(&msg),
                         buf_len(&msg), &err)
        < 0)
        goto fail;
    for (i = 0; i < nr; i++)
        printf("%s %d %s\n", r[i].addr, r[i].code, r[i].enhanced);
    lmtp_client_quit(c, &err);
    lmtp_client_free(&c);
    saslglue_client_free(&sc);
    free(r);
    buf_free(&msg);
    return 0;
fail:
    fprintf(stderr, "lmtpsend: %s\n", err ? err : "?");
    lmtp_client_free(&c);
    saslglue_client_free(&sc);
    free(r);
    buf_free(&msg);
    return 1;
}
