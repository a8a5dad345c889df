/* message_corpus.h: the test messages shared by message.testc and
 * msgcache.testc, with their expected ENVELOPE, BODYSTRUCTURE and BODY.
 *
 * Messages are written with LF line ends for readability; the tests turn
 * them into CRLF (msgheader_crlf()) before parsing, as the store does, so
 * sizes and the expected strings are for the CRLF form. The expected
 * strings follow RFC 3501 7.4.2 and Cyrus's output conventions. */
#ifndef MESSAGE_CORPUS_H
#define MESSAGE_CORPUS_H

#include <stddef.h>

static const char simple_msg[] =
    "Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)\n"
    "From: Fred Foobar <foobar@Blurdybloop.example>\n"
    "Subject: afternoon meeting\n"
    "To: mooch@owatagu.siam.edu.example\n"
    "Message-Id: <B27397-0100000@Blurdybloop.example>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\n"
    "\n"
    "Hello Joe, do you think we can meet at 3:30 tomorrow?\n";

static const char simple_env[] =
    "(\"Mon, 7 Feb 1994 21:52:25 -0800 (PST)\" \"afternoon meeting\" "
    "((\"Fred Foobar\" NIL \"foobar\" \"Blurdybloop.example\")) "
    "((\"Fred Foobar\" NIL \"foobar\" \"Blurdybloop.example\")) "
    "((\"Fred Foobar\" NIL \"foobar\" \"Blurdybloop.example\")) ((NIL "
    "NIL \"mooch\" \"owatagu.siam.edu.example\")) NIL NIL NIL "
    "\"<B27397-0100000@Blurdybloop.example>\")";

static const char simple_bs[] =
    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" "
    "55 1 NIL NIL NIL NIL)";

static const char simple_body[] =
    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" "
    "55 1)";

static const char nested_msg[] =
    "From: \"Doe, John\" <john@example.com>\n"
    "To: undisclosed-recipients:;\n"
    "Cc: Team: alice@example.com, \"Bob B.\" <bob@example.org>;, carol\n"
    "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\n"
    "Content-Type: multipart/mixed; boundary=\"outer=_1\"\n"
    "\n"
    "This is the preamble.\n"
    "--outer=_1\n"
    "Content-Type: multipart/alternative; boundary=inner\n"
    "\n"
    "--inner\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: quoted-printable\n"
    "\n"
    "Hi there\n"
    "--inner\n"
    "Content-Type: text/html; charset=\"utf-8\"\n"
    "\n"
    "<p>Hi there</p>\n"
    "--inner--\n"
    "--outer=_1\n"
    "Content-Type: message/rfc822\n"
    "Content-Disposition: attachment; filename=\"fwd.eml\"\n"
    "\n"
    "From: Alice <alice@example.com>\n"
    "Subject: fwd\n"
    "Date: Tue, 1 Jul 2003 10:52:37 +0200\n"
    "Content-Type: multipart/mixed; boundary=b2\n"
    "\n"
    "--b2\n"
    "Content-Type: text/plain\n"
    "\n"
    "Inner text\n"
    "--b2\n"
    "Content-Type: application/pdf; name*0=\"long\"; name*1=\"name.pdf\"\n"
    "Content-Transfer-Encoding: base64\n"
    "Content-Disposition: attachment; filename*=utf-8''%E2%82%AC.pdf\n"
    "Content-Language: en, de-DE\n"
    "Content-ID: <pdf@x>\n"
    "Content-Description: A PDF\n"
    "Content-Location: http://x/y\n"
    "\n"
    "AAAA\n"
    "--b2--\n"
    "\n"
    "--outer=_1--\n"
    "epilogue\n";

static const char nested_env[] =
    "(NIL \"=?utf-8?q?Gr=C3=BC=C3=9Fe?=\" ((\"Doe, John\" NIL \"john\" "
    "\"example.com\")) ((\"Doe, John\" NIL \"john\" \"example.com\")) "
    "((\"Doe, John\" NIL \"john\" \"example.com\")) ((NIL NIL "
    "\"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) ((NIL NIL "
    "\"Team\" NIL)(NIL NIL \"alice\" \"example.com\")(\"Bob B.\" NIL "
    "\"bob\" \"example.org\")(NIL NIL NIL NIL)(NIL NIL \"carol\" "
    "\"unspecified-domain\")) NIL NIL NIL)";

static const char nested_bs[] =
    "(((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL "
    "\"QUOTED-PRINTABLE\" 8 0 NIL NIL NIL NIL)(\"TEXT\" \"HTML\" "
    "(\"CHARSET\" \"utf-8\") NIL NIL \"7BIT\" 15 0 NIL NIL NIL NIL) "
    "\"ALTERNATIVE\" (\"BOUNDARY\" \"inner\") NIL NIL NIL)(\"MESSAGE\" "
    "\"RFC822\" NIL NIL NIL \"7BIT\" 472 (\"Tue, 1 Jul 2003 10:52:37 "
    "+0200\" \"fwd\" ((\"Alice\" NIL \"alice\" \"example.com\")) "
    "((\"Alice\" NIL \"alice\" \"example.com\")) ((\"Alice\" NIL "
    "\"alice\" \"example.com\")) NIL NIL NIL NIL NIL) ((\"TEXT\" "
    "\"PLAIN\" NIL NIL NIL \"7BIT\" 10 0 NIL NIL NIL "
    "NIL)(\"APPLICATION\" \"PDF\" (\"NAME\" \"longname.pdf\") "
    "\"<pdf@x>\" \"A PDF\" \"BASE64\" 4 NIL (\"ATTACHMENT\" "
    "(\"FILENAME*\" {20}\r\nutf-8''%E2%82%AC.pdf)) (\"EN\" \"DE-DE\") "
    "\"http://x/y\") \"MIXED\" (\"BOUNDARY\" \"b2\") NIL NIL NIL) 20 "
    "NIL (\"ATTACHMENT\" (\"FILENAME\" \"fwd.eml\")) NIL NIL) "
    "\"MIXED\" (\"BOUNDARY\" \"outer=_1\") NIL NIL NIL)";

static const char nested_body[] =
    "(((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL "
    "\"QUOTED-PRINTABLE\" 8 0)(\"TEXT\" \"HTML\" (\"CHARSET\" "
    "\"utf-8\") NIL NIL \"7BIT\" 15 0) \"ALTERNATIVE\")(\"MESSAGE\" "
    "\"RFC822\" NIL NIL NIL \"7BIT\" 472 (\"Tue, 1 Jul 2003 10:52:37 "
    "+0200\" \"fwd\" ((\"Alice\" NIL \"alice\" \"example.com\")) "
    "((\"Alice\" NIL \"alice\" \"example.com\")) ((\"Alice\" NIL "
    "\"alice\" \"example.com\")) NIL NIL NIL NIL NIL) ((\"TEXT\" "
    "\"PLAIN\" NIL NIL NIL \"7BIT\" 10 0)(\"APPLICATION\" \"PDF\" "
    "(\"NAME\" \"longname.pdf\") \"<pdf@x>\" \"A PDF\" \"BASE64\" 4) "
    "\"MIXED\") 20) \"MIXED\")";

static const char noclose_msg[] = "Subject: no close\n"
                                  "Content-Type: multipart/mixed; boundary=x\n"
                                  "\n"
                                  "--x\n"
                                  "Content-Type: text/plain\n"
                                  "\n"
                                  "part one\n"
                                  "--x\n"
                                  "\n"
                                  "part two\n";

static const char noclose_env[] =
    "(NIL \"no close\" NIL NIL NIL NIL NIL NIL NIL NIL)";

static const char noclose_bs[] =
    "((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 8 0 NIL NIL NIL "
    "NIL)(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL "
    "\"7BIT\" 10 1 NIL NIL NIL NIL) \"MIXED\" (\"BOUNDARY\" \"x\") NIL "
    "NIL NIL)";

static const char noclose_body[] =
    "((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 8 0)(\"TEXT\" \"PLAIN\" "
    "(\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 10 1) \"MIXED\")";

static const char badtype_msg[] = "Subject: bad ct\n"
                                  "Content-Type: garbage\n"
                                  "Content-Transfer-Encoding: 8bit junk\n"
                                  "\n"
                                  "body\n";

static const char badtype_env[] =
    "(NIL \"bad ct\" NIL NIL NIL NIL NIL NIL NIL NIL)";

static const char badtype_bs[] =
    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 6 "
    "1 NIL NIL NIL NIL)";

static const char badtype_body[] =
    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 6 "
    "1)";

static const char headeronly_msg[] = "Subject: header only\n";

static const char headeronly_env[] =
    "(NIL \"header only\" NIL NIL NIL NIL NIL NIL NIL NIL)";

static const char headeronly_bs[] =
    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 0 "
    "0 NIL NIL NIL NIL)";

static const char headeronly_body[] =
    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 0 "
    "0)";

static const char bodyonly_msg[] = "\n"
                                   "body without header\n";

static const char bodyonly_env[] = "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)";

static const char bodyonly_bs[] =
    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" "
    "21 1 NIL NIL NIL NIL)";

static const char bodyonly_body[] =
    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" "
    "21 1)";

static const char rfc2231_msg[] =
    "From: a@b.c\n"
    "Subject: params\n"
    "Content-Type: application/octet-stream;\n"
    " name*0*=us-ascii'en'This%20is%20;\n"
    " name*1*=%2A%2A%2Afun%2A%2A%2A;\n"
    " name*2=\"isn't it!\"\n"
    "Content-Disposition: attachment;\n"
    " filename*0=\"plain \";\n"
    " filename*1*=%E2%82%AC;\n"
    " size=123 (comment); bad@=x; title*=iso-8859-1''caf%E9\n"
    "Content-Language: en-US, (comment) fr\n"
    "Content-Transfer-Encoding: Base64\n"
    "\n"
    "AAAA\n";

static const char rfc2231_env[] =
    "(NIL \"params\" ((NIL NIL \"a\" \"b.c\")) ((NIL NIL \"a\" "
    "\"b.c\")) ((NIL NIL \"a\" \"b.c\")) NIL NIL NIL NIL NIL)";

static const char rfc2231_bs[] =
    "(\"APPLICATION\" \"OCTET-STREAM\" (\"NAME*\" "
    "{58}\r\nus-ascii'en'This%20is%20%2A%2A%2Afun%2A%2A%2Aisn%27t%20it!) "
    "NIL NIL \"BASE64\" 6 NIL (\"ATTACHMENT\" (\"FILENAME*\" "
    "{19}\r\n''plain%20%E2%82%AC \"SIZE\" \"123\" \"TITLE*\" "
    "{18}\r\niso-8859-1''caf%E9)) (\"EN-US\" \"FR\") NIL)";

static const char rfc2231_body[] =
    "(\"APPLICATION\" \"OCTET-STREAM\" (\"NAME*\" "
    "{58}\r\nus-ascii'en'This%20is%20%2A%2A%2Afun%2A%2A%2Aisn%27t%20it!) "
    "NIL NIL \"BASE64\" 6)";

static const char addresses_msg[] =
    "From: \"Joe Q. Public\" <john.q.public@example.com>\n"
    "Sender: <@route1,@route2:user@example.net>\n"
    "Reply-To: pete(his account)@silly.test(his host)\n"
    "To: A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;, "
    "Mary Smith <mary@x.test>\n"
    "Cc: \"quoted local\"@example.com, nodomain, <>\n"
    "Bcc: (Empty list)(start)Hidden recipients  :(nobody(that I know))  ;\n"
    "In-Reply-To: <1234@local.machine.example> <3456@example.net>\n"
    "Message-ID: <abcd.1234@local.machine.test>\n"
    "Subject: \"quoted\" subject with \\ backslash\n"
    "Date: Thu, 13 Feb 1969 23:32:54 -0330\n"
    "\n"
    "x\n";

static const char addresses_env[] =
    "(\"Thu, 13 Feb 1969 23:32:54 -0330\" {33}\r\n\"quoted\" subject "
    "with \\ backslash ((\"Joe Q. Public\" NIL \"john.q.public\" "
    "\"example.com\")) ((NIL \"@route1,@route2\" \"user\" "
    "\"example.net\")) ((\"his host\" NIL \"pete\" \"silly.test\")) "
    "((NIL NIL \"A Group\" NIL)(\"Ed Jones\" NIL \"c\" \"a.test\")(NIL "
    "NIL \"joe\" \"where.test\")(\"John\" NIL \"jdoe\" "
    "\"one.test\")(NIL NIL NIL NIL)(\"Mary Smith\" NIL \"mary\" "
    "\"x.test\")) ((NIL NIL \"quoted local\" \"example.com\")(NIL NIL "
    "\"nodomain\" \"unspecified-domain\")(NIL NIL \"\" "
    "\"unspecified-domain\")) ((NIL NIL \"Hidden recipients\" NIL)(NIL "
    "NIL NIL NIL)) \"<1234@local.machine.example> <3456@example.net>\" "
    "\"<abcd.1234@local.machine.test>\")";

static const char addresses_bs[] =
    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 3 "
    "1 NIL NIL NIL NIL)";

static const char addresses_body[] =
    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 3 "
    "1)";

static const char digest_msg[] = "From: digest@example.com\n"
                                 "Subject: digest\n"
                                 "Content-Type: multipart/digest; boundary=d\n"
                                 "\n"
                                 "--d\n"
                                 "\n"
                                 "From: one@example.com\n"
                                 "Subject: first\n"
                                 "\n"
                                 "one\n"
                                 "--d\n"
                                 "Content-Type: text/plain\n"
                                 "\n"
                                 "not a message\n"
                                 "--d--\n";

static const char digest_env[] =
    "(NIL \"digest\" ((NIL NIL \"digest\" \"example.com\")) ((NIL NIL "
    "\"digest\" \"example.com\")) ((NIL NIL \"digest\" "
    "\"example.com\")) NIL NIL NIL NIL NIL)";

static const char digest_bs[] =
    "((\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 44 (NIL \"first\" "
    "((NIL NIL \"one\" \"example.com\")) ((NIL NIL \"one\" "
    "\"example.com\")) ((NIL NIL \"one\" \"example.com\")) NIL NIL NIL "
    "NIL NIL) (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL "
    "\"7BIT\" 3 0 NIL NIL NIL NIL) 3 NIL NIL NIL NIL)(\"TEXT\" "
    "\"PLAIN\" NIL NIL NIL \"7BIT\" 13 0 NIL NIL NIL NIL) \"DIGEST\" "
    "(\"BOUNDARY\" \"d\") NIL NIL NIL)";

static const char digest_body[] =
    "((\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 44 (NIL \"first\" "
    "((NIL NIL \"one\" \"example.com\")) ((NIL NIL \"one\" "
    "\"example.com\")) ((NIL NIL \"one\" \"example.com\")) NIL NIL NIL "
    "NIL NIL) (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL "
    "\"7BIT\" 3 0) 3)(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 13 0) "
    "\"DIGEST\")";

static const char lostboundary_msg[] =
    "Subject: lost\n"
    "Content-Type: multipart/mixed; boundary=never\n"
    "\n"
    "no delimiter here\n";

static const char lostboundary_env[] =
    "(NIL \"lost\" NIL NIL NIL NIL NIL NIL NIL NIL)";

static const char lostboundary_bs[] =
    "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" "
    "0 0 NIL NIL NIL NIL) \"MIXED\" (\"BOUNDARY\" \"never\") NIL NIL "
    "NIL)";

static const char lostboundary_body[] =
    "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" "
    "0 0) \"MIXED\")";

static const char noboundary_msg[] = "Subject: nobnd\n"
                                     "Content-Type: multipart/mixed\n"
                                     "\n"
                                     "--x\n"
                                     "\n"
                                     "hi\n";

static const char noboundary_env[] =
    "(NIL \"nobnd\" NIL NIL NIL NIL NIL NIL NIL NIL)";

static const char noboundary_bs[] =
    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 0 "
    "0 NIL NIL NIL NIL)";

static const char noboundary_body[] =
    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 0 "
    "0)";

struct corpus_msg {
    const char *name;
    const char *msg; /* LF line ends */
    const char *envelope;
    const char *bodystructure;
    const char *body;
    size_t size; /* RFC822.SIZE of the CRLF form */
};

static const struct corpus_msg message_corpus[] = {
    {"simple",       simple_msg,       simple_env,       simple_bs,       simple_body,    326 },
    {"nested",       nested_msg,       nested_env,       nested_bs,       nested_body,    1098},
    {"noclose",      noclose_msg,      noclose_env,      noclose_bs,      noclose_body,   124 },
    {"badtype",      badtype_msg,      badtype_env,      badtype_bs,      badtype_body,   86  },
    {"headeronly",   headeronly_msg,   headeronly_env,   headeronly_bs,
     headeronly_body,                                                                     22  },
    {"bodyonly",     bodyonly_msg,     bodyonly_env,     bodyonly_bs,     bodyonly_body,  23  },
    {"rfc2231",      rfc2231_msg,      rfc2231_env,      rfc2231_bs,      rfc2231_body,   381 },
    {"addresses",    addresses_msg,    addresses_env,    addresses_bs,    addresses_body,
     551                                                                                      },
    {"digest",       digest_msg,       digest_env,       digest_bs,       digest_body,    197 },
    {"lostboundary", lostboundary_msg, lostboundary_env, lostboundary_bs,
     lostboundary_body,                                                                   83  },
    {"noboundary",   noboundary_msg,   noboundary_env,   noboundary_bs,
     noboundary_body,                                                                     60  },
};

#endif
