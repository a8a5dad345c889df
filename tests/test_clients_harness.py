"""End-to-end: the real-client harnesses (tests/postfix.py, tests/clients.py)
work against Debian's Cyrus 3.6 on loopback (bench/cyruspeer.py, single
mode: imapd, pop3d, lmtpd), so e2e tests of our servers can rely on them.

Postfix delivers over lmtp:inet and lmtp:unix and Python's imaplib finds the
messages; swaks speaks LMTP (per-recipient codes); smtp-source -L loads
lmtpd; curl (imap://, pop3://), mutt, mbsync and fetchmail each see what
was delivered, and curl APPEND and mbsync push messages the other way.

Never skipped: a missing Debian package (or not being root) fails with the
apt-get line that fixes it.
"""
import imaplib
import os
import shutil
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.join(TOP, "bench"))
import clients  # noqa: E402
import postfix  # noqa: E402

try:
    import cyruspeer  # noqa: E402
except ImportError:  # reported as a failure by require_tools()
    cyruspeer = None

HOST = "127.0.0.1"
DOMAIN = "example.com"


def require_tools():
    """Fail (never skip) with a clear message when something is missing."""
    if cyruspeer is None:
        raise AssertionError("bench/cyruspeer.py (the Debian Cyrus peer) is "
                             "missing from %s/bench" % TOP)
    problems = []
    miss = cyruspeer.missing_packages()
    if miss:
        problems.append("Debian Cyrus (missing %s): apt-get install -y %s"
                        % (" ".join(miss), cyruspeer.PACKAGES))
    if postfix.missing_tools():
        problems.append("Postfix (missing %s): apt-get install -y postfix"
                        % " ".join(postfix.missing_tools()))
    if clients.missing_clients():
        problems.append("clients: apt-get install -y %s"
                        % " ".join(clients.missing_clients()))
    if os.geteuid() != 0:
        problems.append("must run as root (Cyrus master and Postfix drop "
                        "privileges themselves)")
    if problems:
        raise AssertionError("cannot run the client harness tests:\n  "
                             + "\n  ".join(problems)
                             + "\n(tools/deps.sh --test installs them)")


def make_msg(tag, subject=None, body=None):
    """A small RFC 5322 message with a unique Message-ID; returns
    (message-id, bytes)."""
    mid = "<%s.%d.%d@harness.example.com>" % (tag, os.getpid(),
                                              time.monotonic_ns())
    text = ("From: Harness <harness@example.com>\r\n"
            "To: someone@example.com\r\n"
            "Subject: %s\r\n"
            "Message-ID: %s\r\n"
            "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
            "\r\n"
            "%s\r\n" % (subject or tag, mid, body or "body of " + tag))
    return mid, text.encode()


def alive(pid):
    """True while pid is a running process (not gone, not a zombie waiting
    for init to reap it: a daemonized master's parent is init)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


class Imap:
    """imaplib as the independent witness of what the server holds."""

    def __init__(self, port, user, password):
        self.c = imaplib.IMAP4(HOST, port, timeout=30)
        self.c.login(user, password)

    def close(self):
        try:
            self.c.logout()
        except (OSError, imaplib.IMAP4.error):
            pass

    def messages(self, mailbox="INBOX"):
        """{uid: raw message} of mailbox (read-only)."""
        typ, _ = self.c.select(mailbox, readonly=True)
        if typ != "OK":
            raise AssertionError("SELECT %s: %s" % (mailbox, typ))
        typ, data = self.c.uid("FETCH", "1:*", "(BODY.PEEK[])")
        out = {}
        for item in data:
            if not isinstance(item, tuple):
                continue
            head = item[0].decode()
            uid = int(head.split("UID ", 1)[1].split()[0].rstrip(")"))
            out[uid] = item[1]
        self.c.close()
        return out

    def message_ids(self, mailbox="INBOX"):
        ids = {}
        for uid, raw in self.messages(mailbox).items():
            m = clients._parse(raw)
            ids[(m["Message-ID"] or "").strip()] = uid
        return ids


class ClientsHarnessTest(unittest.TestCase):
    """One Cyrus peer and one Postfix for all tests.  Users: carol's INBOX
    holds three messages Postfix delivered at setup and is only read; the
    other tests write to their own users."""

    @classmethod
    def setUpClass(cls):
        # a setup failure fails every test with its reason (an exception
        # here would count as one error and no test run)
        cls.setup_error = None
        try:
            cls._start()
        except Exception as e:  # noqa: BLE001 - reported by setUp
            cls.setup_error = "%s: %s" % (type(e).__name__, e)

    def setUp(self):
        if self.setup_error:
            self.fail("harness setup failed: %s" % self.setup_error)

    @classmethod
    def _start(cls):
        require_tools()
        cls.peer = cyruspeer.CyrusPeer("single")
        cls.peer.start()
        cls.addClassCleanup(cls.peer.__exit__, None, None, None)
        be = cls.peer.info["backends"][0]
        cls.imap_port, cls.pop3_port = be["imap"], be["pop3"]
        cls.lmtp_port, cls.lmtp_socket = be["lmtp"], be["lmtpsocket"]
        cls.pw = {u["user"]: u["password"] for u in cls.peer.info["users"]}
        cls.pf = postfix.Postfix(lmtp=(HOST, cls.lmtp_port),
                                 domains=(DOMAIN,))
        cls.pf.start()
        cls.addClassCleanup(cls.pf.__exit__, None, None, None)
        # carol's INBOX: two messages by sendmail, one by SMTP
        cls.carol_ids = []
        for i in range(3):
            mid, msg = make_msg("carol%d" % i, "for carol %d" % i)
            if i < 2:
                cls.pf.sendmail(msg, ["carol@%s" % DOMAIN])
            else:
                refused = cls.pf.smtp_send(msg, ["carol@%s" % DOMAIN])
                assert not refused, refused
            cls.carol_ids.append(mid)
        cls.pf.wait_queue_empty(timeout=30)

    def imap(self, user):
        c = Imap(self.imap_port, user, self.pw[user])
        self.addCleanup(c.close)
        return c

    def creds(self, user):
        return (HOST, self.imap_port, user, self.pw[user])

    def tmpdir(self):
        d = tempfile.mkdtemp(prefix="harness-")
        self.addCleanup(shutil.rmtree, d, True)
        return d

    # -- Postfix --------------------------------------------------------
    def test_postfix_lmtp_inet_delivered(self):
        status = self.pf.delivery_status("carol@%s" % DOMAIN)
        self.assertEqual(status, "sent", self.pf.log_tail())
        sent = [d for d in self.pf.deliveries()
                if d["to"] == "carol@%s" % DOMAIN]
        self.assertEqual(len(sent), 3)
        for d in sent:
            self.assertEqual(d["relay"], "%s[%s]:%d" % (HOST, HOST,
                                                       self.lmtp_port))
            self.assertTrue(d["dsn"].startswith("2."), d)
        ids = self.imap("carol").message_ids()
        for mid in self.carol_ids:
            self.assertIn(mid, ids)

    def test_postfix_unknown_recipient_bounces(self):
        mid, msg = make_msg("nobody")
        # null sender: the bounce is not sent anywhere
        self.pf.smtp_send(msg, ["nobody@%s" % DOMAIN, "alice@%s" % DOMAIN],
                          sender="")
        final = self.pf.wait_delivered(["nobody@%s" % DOMAIN,
                                        "alice@%s" % DOMAIN])
        self.assertEqual(final["nobody@%s" % DOMAIN]["status"], "bounced")
        self.assertTrue(final["nobody@%s" % DOMAIN]["dsn"].startswith("5."))
        self.assertEqual(final["alice@%s" % DOMAIN]["status"], "sent")
        self.pf.wait_queue_empty()
        self.assertIn(mid, self.imap("alice").message_ids())

    def test_postfix_lmtp_unix_socket(self):
        with postfix.Postfix(lmtp=self.lmtp_socket, domains=(DOMAIN,)) as pf:
            mid, msg = make_msg("unix")
            pf.sendmail(msg, ["dave@%s" % DOMAIN])
            pf.wait_queue_empty()
            d = pf.wait_delivered(["dave@%s" % DOMAIN])["dave@%s" % DOMAIN]
            self.assertEqual(d["status"], "sent", pf.log_tail())
            self.assertIn(self.lmtp_socket, d["relay"])
            pids = pf.pids()
            self.assertTrue(pids)
        self.assertIn(mid, self.imap("dave").message_ids())
        self.assertEqual(pf.pids(), [])
        for pid in pids:
            self.assertFalse(alive(pid),
                             "Postfix process %d outlived stop()" % pid)

    def test_smtp_source_lmtp_load(self):
        before = len(self.imap("bench").messages())
        elapsed = postfix.smtp_source((HOST, self.lmtp_port), sessions=2,
                                      messages=20, size=2000,
                                      sender="load@%s" % DOMAIN,
                                      rcpt="bench@%s" % DOMAIN)
        self.assertGreater(elapsed, 0)
        self.assertLess(elapsed, 30)
        self.assertEqual(len(self.imap("bench").messages()), before + 20)

    # -- swaks ----------------------------------------------------------
    def test_swaks_lmtp_per_recipient_codes(self):
        mid, msg = make_msg("swaks")
        r = clients.swaks_lmtp((HOST, self.lmtp_port),
                               ["alice@%s" % DOMAIN, "nobody@%s" % DOMAIN,
                                "bob@%s" % DOMAIN], msg)
        self.assertEqual(r.rcpt, {"alice@%s" % DOMAIN: 250,
                                  "nobody@%s" % DOMAIN: 550,
                                  "bob@%s" % DOMAIN: 250}, r.transcript)
        self.assertEqual(r.data, {"alice@%s" % DOMAIN: 250,
                                  "bob@%s" % DOMAIN: 250}, r.transcript)
        self.assertIn(mid, self.imap("alice").message_ids())
        self.assertIn(mid, self.imap("bob").message_ids())
        # the UNIX socket too, swaks' default message
        r = clients.swaks_lmtp(self.lmtp_socket, ["dave"])
        self.assertEqual((r.rcpt, r.data), ({"dave": 250}, {"dave": 250}),
                         r.transcript)

    # -- curl -------------------------------------------------------------
    def test_curl_imap_list_count_search_fetch(self):
        names = [n for _, _, n in clients.curl_imap_list(*self.creds("carol"))]
        self.assertIn("INBOX", names)
        truth = self.imap("carol").messages()
        self.assertEqual(clients.curl_imap_count(*self.creds("carol")),
                         len(truth))
        uids = clients.curl_imap_search(*self.creds("carol"))
        self.assertEqual(sorted(uids), sorted(truth))
        for uid in uids:
            raw = clients.curl_imap_fetch(*self.creds("carol"), "INBOX", uid)
            self.assertEqual(raw, truth[uid])

    def test_curl_imap_append(self):
        mid, msg = make_msg("curl-append")
        res = clients.curl_imap_append(*self.creds("dave"), "INBOX", msg)
        self.assertIsNotNone(res, "no APPENDUID")
        _, uid = res
        self.assertEqual(self.imap("dave").message_ids().get(mid), uid)
        raw = clients.curl_imap_fetch(*self.creds("dave"), "INBOX", uid)
        self.assertEqual(raw, msg)

    def test_curl_pop3_list_retr(self):
        truth = self.imap("carol").messages()
        lst = clients.curl_pop3_list(HOST, self.pop3_port, "carol",
                                     self.pw["carol"])
        self.assertEqual(len(lst), len(truth))
        bodies = set(truth.values())
        for num, size in lst:
            raw = clients.curl_pop3_retr(HOST, self.pop3_port, "carol",
                                         self.pw["carol"], num)
            self.assertEqual(len(raw), size)
            self.assertIn(raw, bodies)

    # -- mutt -------------------------------------------------------------
    def test_mutt_reads_mailbox(self):
        truth = self.imap("carol").message_ids()
        r = clients.mutt_read(*self.creds("carol"))
        self.assertEqual(r.count, len(truth))
        self.assertEqual(r.status, len(truth))
        got = {(m["Message-ID"] or "").strip() for m in r.messages}
        self.assertEqual(got, set(truth))
        # an empty mailbox: mutt -z exits at once
        c = self.imap("carol").c
        typ, _ = c.create("INBOX.muttempty")
        self.assertEqual(typ, "OK")
        r = clients.mutt_read(*self.creds("carol"), mailbox="INBOX.muttempty")
        self.assertEqual((r.count, r.messages), (0, []))

    # -- mbsync -----------------------------------------------------------
    def test_mbsync_both_ways(self):
        root = self.tmpdir()
        truth = self.imap("bob").message_ids()
        r = clients.mbsync_sync(*self.creds("bob"), root)
        self.assertEqual((r.far, r.near, r.local),
                         (len(truth), 0, len(truth)))
        # a new message in the Maildir goes up to the server
        mid, msg = make_msg("mbsync-up")
        new = os.path.join(clients.mbsync_folder(root), "new",
                           "1700000000.harness.local")
        with open(new, "wb") as f:
            f.write(msg.replace(b"\r\n", b"\n"))
        r = clients.mbsync_sync(*self.creds("bob"), root)
        self.assertEqual((r.far, r.near, r.local),
                         (len(truth), len(truth) + 1, len(truth) + 1))
        self.assertIn(mid, self.imap("bob").message_ids())

    # -- fetchmail --------------------------------------------------------
    def test_fetchmail_pop3_and_imap(self):
        truth = set(self.imap("carol").message_ids())
        for proto, port in (("POP3", self.pop3_port),
                            ("IMAP", self.imap_port)):
            mbox = os.path.join(self.tmpdir(), "in.mbox")
            r = clients.fetchmail_fetch(HOST, port, "carol", self.pw["carol"],
                                        mbox, protocol=proto)
            self.assertEqual(r.count, len(truth), proto)
            got = {(m["Message-ID"] or "").strip() for m in r.messages}
            self.assertEqual(got, truth, proto)
        # kept on the server
        self.assertEqual(set(self.imap("carol").message_ids()), truth)


if __name__ == "__main__":
    unittest.main()
