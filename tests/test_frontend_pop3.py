"""Frontend POP3 proxy end to end: users on two backends reached through
the frontend's pop3d with poplib and fetchmail; a backend killed gives a
prompt -ERR [SYS/TEMP] to its users while the other backend's users go on,
and works again once restarted."""
import os
import poplib
import smtplib
import tempfile
import time

import backend
import clients
import mailfrontend

MSG = (b"From: sender@example.com\r\nTo: %s@example.com\r\n"
       b"Subject: pop via frontend %s\r\n\r\nbody for %s\r\n")


class TestFrontendPop3(mailfrontend.MailFrontendCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # one message for each user, delivered through the frontend's LMTP
        with smtplib.LMTP("127.0.0.1", cls.fe.ports["lmtp"]) as l:
            for u in ("alice", "bob", "carol"):
                l.sendmail("sender@example.com", [u],
                           MSG % (u.encode(), u.encode(), u.encode()))

    def pop(self):
        return poplib.POP3("127.0.0.1", self.fe.ports["pop3"], timeout=15)

    def test_poplib_both_backends(self):
        for user in ("alice", "carol"):
            p = self.pop()
            p.user(user)
            p.pass_(backend.password(user))
            count, _ = p.stat()
            self.assertGreaterEqual(count, 1)
            _, lines, _ = p.retr(1)
            self.assertIn(("body for %s" % user).encode(), lines)
            self.assertTrue(p.uidl()[0].startswith(b"+OK"))
            self.assertIn("UIDL", p.capa())
            p.quit()

    def test_bad_password_stays_on_frontend(self):
        p = self.pop()
        p.user("alice")
        with self.assertRaises(poplib.error_proto):
            p.pass_("wrong")
        p.user("alice")
        p.pass_(backend.password("alice"))
        self.assertGreaterEqual(p.stat()[0], 1)
        p.quit()

    def test_dele_through_frontend(self):
        with smtplib.LMTP("127.0.0.1", self.fe.ports["lmtp"]) as l:
            l.sendmail("s@example.com", ["bob"], MSG % (b"bob", b"x", b"x"))
        before = self.count(self.b1, "bob")
        p = self.pop()
        p.user("bob")
        p.pass_(backend.password("bob"))
        n = p.stat()[0]
        self.assertEqual(n, before)
        p.dele(n)
        p.quit()
        self.assertEqual(self.count(self.b1, "bob"), before - 1)

    def test_fetchmail_both_backends(self):
        missing = clients.missing_clients()
        if "fetchmail" in missing:
            self.skipTest("fetchmail not installed")
        for user in ("alice", "carol"):
            with tempfile.TemporaryDirectory() as d:
                mbox = os.path.join(d, "mbox")
                res = clients.fetchmail_fetch(
                    "127.0.0.1", self.fe.ports["pop3"], user,
                    backend.password(user), mbox)
                self.assertGreaterEqual(res.count, 1)
                self.assertTrue(any(("body for %s" % user) in str(m)
                                    for m in res.messages), res)

    def test_backend_down_then_back(self):
        self.b2.master.stop()
        try:
            p = self.pop()
            p.user("carol")
            t0 = time.monotonic()
            with self.assertRaises(poplib.error_proto) as cm:
                p.pass_(backend.password("carol"))
            self.assertLess(time.monotonic() - t0, 1.5)
            self.assertIn(b"[SYS/TEMP]", str(cm.exception).encode())
            p.quit()
            # backend1's users are not affected
            a = self.pop()
            a.user("alice")
            a.pass_(backend.password("alice"))
            self.assertGreaterEqual(a.stat()[0], 1)
            a.quit()
        finally:
            self.b2.master.start(ports=list(self.b2.ports.values()))
        p = self.pop()
        p.user("carol")
        p.pass_(backend.password("carol"))
        self.assertGreaterEqual(p.stat()[0], 1)
        p.quit()

    def test_unknown_user_inbox(self):
        # dave authenticates on the frontend but has no INBOX anywhere
        p = self.pop()
        p.user("dave")
        with self.assertRaises(poplib.error_proto) as cm:
            p.pass_(backend.password("dave"))
        self.assertIn("SYS/TEMP", str(cm.exception))
        p.quit()
