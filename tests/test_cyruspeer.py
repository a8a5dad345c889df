"""End-to-end: the Debian Cyrus 3.6 peer harness (bench/cyruspeer.py) works,
so interop tests and benchmarks can rely on it.

Single mode: login, CREATE, APPEND, FETCH, POP3, LMTP (TCP and UNIX socket),
and a stop that leaves no process and no open port.  Murder mode: a mailbox
created on backend1 shows up in the frontend's LIST; users on both backends
work through the frontend (IMAP and LMTP), which proves the getaddrinfo shim.

Never skipped: without the Debian packages (or without root) the tests fail
and say what to install.
"""
import imaplib
import os
import poplib
import smtplib
import socket
import sys
import time
import unittest

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "bench"))
import cyruspeer  # noqa: E402

MSG = (b"From: Alice <alice@example.com>\r\n"
       b"To: Bob <bob@example.com>\r\n"
       b"Subject: peer check\r\n"
       b"Message-ID: <peer-check-1@example.com>\r\n"
       b"\r\n"
       b"line one\r\nline two\r\n")


def require_peer():
    """Fail (not skip) with a clear message when the peer cannot run."""
    miss = cyruspeer.missing_packages()
    if miss:
        raise AssertionError(
            "Debian Cyrus peer not installed (missing: %s). Install with: "
            "apt-get install -y %s (tools/deps.sh --test should)"
            % (" ".join(miss), cyruspeer.PACKAGES))
    if os.geteuid() != 0:
        raise AssertionError("the Cyrus peer must be started as root")


def imap(port, user, pw):
    c = imaplib.IMAP4("127.0.0.1", port, timeout=30)
    c.login(user, pw)
    return c


def lmtp_deliver(conn, rcpts, msg):
    """Deliver msg with an open LMTP connection; returns the refused dict."""
    try:
        return conn.sendmail("sender@example.com", rcpts, msg)
    finally:
        conn.quit()


class SingleModeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_peer()
        cls.peer = cyruspeer.CyrusPeer("single")
        cls.info = cls.peer.start()
        cls.node = cls.info["backends"][0]
        cls.pw = {u["user"]: u["password"] for u in cls.info["users"]}

    @classmethod
    def tearDownClass(cls):
        cls.peer.__exit__(None, None, None)

    def test_info_shape(self):
        self.assertEqual(self.info["mode"], "single")
        self.assertEqual(len(self.info["backends"]), 1)
        for key in ("imap", "pop3", "lmtp", "lmtpauth"):
            self.assertIsInstance(self.node[key], int)
        self.assertTrue(os.path.exists(self.node["lmtpsocket"]))
        self.assertIn("alice", self.pw)

    def test_login_create_append_fetch(self):
        c = imap(self.node["imap"], "alice", self.pw["alice"])
        try:
            typ, _ = c.create("INBOX.Harness")
            self.assertEqual(typ, "OK")
            typ, data = c.list('""', "INBOX*")
            self.assertIn(b"INBOX.Harness", b" ".join(data))
            typ, data = c.append("INBOX.Harness", "(\\Flagged)", None, MSG)
            self.assertEqual(typ, "OK")
            self.assertIn(b"APPENDUID", data[0])
            typ, data = c.select("INBOX.Harness")
            self.assertEqual((typ, data[0]), ("OK", b"1"))
            typ, data = c.fetch("1", "(FLAGS BODY.PEEK[])")
            self.assertEqual(typ, "OK")
            self.assertIn(b"\\Flagged", data[0][0])
            self.assertEqual(data[0][1], MSG)
            typ, data = c.uid("SEARCH", "SUBJECT", '"peer check"')
            self.assertEqual(len(data[0].split()), 1)
        finally:
            c.logout()

    def test_bad_password_is_refused(self):
        c = imaplib.IMAP4("127.0.0.1", self.node["imap"], timeout=30)
        try:
            with self.assertRaises(imaplib.IMAP4.error):
                c.login("alice", "wrong-password")
        finally:
            c.shutdown()

    def test_lmtp_tcp_and_unix_then_pop3(self):
        # distinct Message-IDs: Cyrus drops a duplicate (same id, same user)
        l = smtplib.LMTP("127.0.0.1", self.node["lmtp"])
        self.assertEqual(lmtp_deliver(l, ["carol"], MSG), {})
        l = smtplib.LMTP(self.node["lmtpsocket"])
        self.assertEqual(lmtp_deliver(l, ["carol"], MSG.replace(b"-1@", b"-2@")), {})
        p = poplib.POP3("127.0.0.1", self.node["pop3"], timeout=30)
        try:
            p.user("carol")
            p.pass_(self.pw["carol"])
            count, _ = p.stat()
            self.assertEqual(count, 2)
            _, lines, _ = p.retr(1)
            self.assertIn(b"Subject: peer check", lines)
        finally:
            p.quit()

    def test_admin_sees_user_inboxes(self):
        c = imap(self.node["imap"], self.info["admin"]["user"],
                 self.info["admin"]["password"])
        try:
            typ, data = c.list('""', "user.%")
            names = b" ".join(data)
            for u in self.pw:
                self.assertIn(b"user." + u.encode(), names)
        finally:
            c.logout()


class LifecycleTest(unittest.TestCase):
    def test_stop_leaves_nothing(self):
        require_peer()
        peer = cyruspeer.CyrusPeer("single")
        with peer:
            info = peer.info
            port = info["backends"][0]["imap"]
            self.assertTrue(cyruspeer._instance_pids(peer.dir))
            with open(os.path.join(peer.dir, "peer.json")) as f:
                self.assertIn('"imap": %d' % port, f.read())
        self.assertEqual(cyruspeer._instance_pids(peer.dir), [])
        self.assertFalse(os.path.exists(peer.dir))
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()


class MurderModeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_peer()
        cls.peer = cyruspeer.CyrusPeer("murder")
        cls.info = cls.peer.start()
        cls.fe = cls.info["frontends"][0]
        cls.be = {b["name"]: b for b in cls.info["backends"]}
        cls.pw = {u["user"]: u["password"] for u in cls.info["users"]}
        cls.where = {u["user"]: u["backend"] for u in cls.info["users"]}

    @classmethod
    def tearDownClass(cls):
        cls.peer.__exit__(None, None, None)

    def test_topology(self):
        self.assertEqual(sorted(self.be), ["backend1", "backend2"])
        self.assertEqual(self.where["alice"], "backend1")
        self.assertEqual(self.where["bob"], "backend2")
        self.assertIsInstance(self.info["mupdate"]["port"], int)

    def test_mailbox_created_on_backend1_listed_by_frontend(self):
        adm = imap(self.be["backend1"]["imap"], self.info["admin"]["user"],
                   self.info["admin"]["password"])
        try:
            typ, _ = adm.create("user.alice.MadeOnBackend1")
            self.assertEqual(typ, "OK")
        finally:
            adm.logout()
        c = imap(self.fe["imap"], "alice", self.pw["alice"])
        try:
            # the master batches changes to slaves every 5 s
            deadline = time.time() + 20
            names = b""
            while time.time() < deadline:
                _, data = c.list('""', "*")
                names = b" ".join(d for d in data if d)
                if b"INBOX.MadeOnBackend1" in names:
                    break
                time.sleep(0.25)
            self.assertIn(b"INBOX.MadeOnBackend1", names)
        finally:
            c.logout()

    def test_users_on_both_backends_via_frontend(self):
        for user in ("alice", "bob"):
            c = imap(self.fe["imap"], user, self.pw[user])
            try:
                typ, data = c.append("INBOX", None, None, MSG)
                self.assertEqual(typ, "OK", data)
                typ, data = c.select("INBOX")
                self.assertEqual(typ, "OK")
                n = int(data[0])
                typ, data = c.fetch(str(n), "(BODY.PEEK[])")
                self.assertEqual(data[0][1], MSG)
            finally:
                c.logout()
        # and the message really is on bob's backend
        c = imap(self.be["backend2"]["imap"], "bob", self.pw["bob"])
        try:
            typ, data = c.select("INBOX")
            self.assertGreaterEqual(int(data[0]), 1)
        finally:
            c.logout()

    def test_lmtp_via_frontend_splits_per_backend(self):
        l = smtplib.LMTP("127.0.0.1", self.fe["lmtp"])
        self.assertEqual(lmtp_deliver(l, ["carol", "dave"], MSG), {})
        for user, node in (("carol", "backend1"), ("dave", "backend2")):
            c = imap(self.be[node]["imap"], user, self.pw[user])
            try:
                _, data = c.select("INBOX")
                self.assertEqual(int(data[0]), 1, user)
            finally:
                c.logout()


if __name__ == "__main__":
    unittest.main()
