"""Frontend LMTP proxy end to end: one transaction through the frontend's
lmtpd with recipients on both backends plus an unknown one (smtplib.LMTP,
swaks, a private Postfix); messages land on the right backends (checked
over IMAP on each backend); a backend down gives 451 for its recipients
only, promptly; restarted, it works again."""
import smtplib
import time

import clients
import mailfrontend
import postfix
import rawimap

MSG = (b"From: sender@example.com\r\nTo: list@example.com\r\n"
       b"Subject: lmtp via frontend %s\r\n\r\nhello\r\n.dotted line\r\n")


class TestFrontendLmtp(mailfrontend.MailFrontendCase):
    def lmtp(self):
        return smtplib.LMTP("127.0.0.1", self.fe.ports["lmtp"], timeout=15)

    def counts(self):
        return (self.count(self.b1, "alice"), self.count(self.b1, "bob"),
                self.count(self.b2, "carol"))

    def send(self, rcpts, tag):
        """One transaction; returns {rcpt: (code, text)} for refused RCPTs
        and the per-recipient DATA replies."""
        l = self.lmtp()
        try:
            l.ehlo_or_helo_if_needed()
            code, _ = l.mail("sender@example.com")
            self.assertEqual(code, 250)
            accepted, result = [], {}
            for r in rcpts:
                code, text = l.rcpt(r)
                if code == 250:
                    accepted.append(r)
                else:
                    result[r] = (code, text)
            l.putcmd("data")
            code, _ = l.getreply()
            self.assertEqual(code, 354)
            l.send((MSG % tag).replace(b"\r\n.", b"\r\n..")
                   + b".\r\n")
            for r in accepted:
                result[r] = l.getreply()
            l.quit()
            return result
        finally:
            l.close()

    def test_local_lmtp_for_setup(self):
        # sanity: the backends take direct LMTP from an admin only
        with smtplib.LMTP("127.0.0.1", self.b1.ports["lmtp"]) as l:
            l.ehlo_or_helo_if_needed()
            code, _ = l.mail("sender@example.com")
            self.assertEqual(code, 530)

    def test_both_backends_and_unknown(self):
        before = self.counts()
        res = self.send(["alice", "carol", "nosuchuser", "bob"], b"one")
        self.assertEqual(res["nosuchuser"][0], 550)
        self.assertIn(b"5.1.1", res["nosuchuser"][1])
        for r in ("alice", "carol", "bob"):
            self.assertEqual(res[r][0], 250, res)
        self.assertEqual(self.counts(),
                         (before[0] + 1, before[1] + 1, before[2] + 1))
        # the body arrived unstuffed, with our trace headers
        c = self.b2.login("carol")
        c.select("INBOX")
        typ, data = c.search(None, "SUBJECT", '"lmtp via frontend one"')
        n = data[0].split()[-1]
        body = c.fetch(n, "(BODY.PEEK[])")[1][0][1]
        c.logout()
        self.assertIn(b"\r\n.dotted line\r\n", body)
        self.assertIn(b"by frontend1", body)

    def test_big_message_streamed(self):
        """An 8 MB message for recipients on both backends is relayed as
        it arrives (issue 7): it lands byte-identical on each, and the
        frontend lmtpd's peak RSS grows by far less than the message."""
        size = 8 * 1024 * 1024
        line = b"%07d .. the quick brown fox jumps over the lazy dog\r\n"
        lines = [line % i for i in range(size // len(line % 0))]
        lines[1000] = b".a line that starts with a dot\r\n"
        body = (MSG % b"big") + b"".join(lines)
        before = self.counts()
        l = self.lmtp()
        try:
            l.ehlo_or_helo_if_needed()
            pid = rawimap.server_pid(self.fe.master, l.sock)
            hwm0 = rawimap.proc_status(pid, "VmHWM")
            self.assertEqual(l.sendmail("sender@example.com",
                                        ["alice", "carol"], body), {})
            hwm1 = rawimap.proc_status(pid, "VmHWM")
            l.quit()
        finally:
            l.close()
        self.assertLess(hwm1 - hwm0, 3 * 1024,
                        "frontend VmHWM %d -> %d kB" % (hwm0, hwm1))
        after = self.counts()
        self.assertEqual((after[0], after[2]), (before[0] + 1, before[2] + 1))
        for node, user in ((self.b1, "alice"), (self.b2, "carol")):
            c = node.login(user)
            c.select("INBOX", readonly=True)
            typ, data = c.search(None, "SUBJECT", '"lmtp via frontend big"')
            n = data[0].split()[-1]
            got = c.fetch(n, "(BODY.PEEK[])")[1][0][1]
            c.logout()
            # our Return-Path and Received come first, then the message
            self.assertTrue(got.endswith(body), (node.name, len(got)))
            self.assertLess(len(got) - len(body), 1024)

    def test_swaks(self):
        if "swaks" in clients.missing_clients():
            self.skipTest("swaks not installed")
        before = self.counts()
        res = clients.swaks_lmtp(("127.0.0.1", self.fe.ports["lmtp"]),
                                 ["alice", "carol", "nobody"], msg=MSG % b"sw")
        self.assertEqual(res.rcpt["nobody"], 550)
        self.assertEqual(res.data.get("alice"), 250, res)
        self.assertEqual(res.data.get("carol"), 250, res)
        after = self.counts()
        self.assertEqual((after[0], after[2]), (before[0] + 1, before[2] + 1))

    def test_backend_down_then_back(self):
        before = self.counts()
        self.b2.master.stop()
        try:
            t0 = time.monotonic()
            res = self.send(["alice", "carol"], b"down")
            self.assertLess(time.monotonic() - t0, 1.5)
            self.assertEqual(res["alice"][0], 250)
            self.assertEqual(res["carol"][0], 451)
            self.assertIn(b"4.4.3", res["carol"][1])
        finally:
            self.b2.master.start(ports=list(self.b2.ports.values()))
        self.assertEqual(self.count(self.b1, "alice"), before[0] + 1)
        self.assertEqual(self.count(self.b2, "carol"), before[2])
        res = self.send(["alice", "carol"], b"back")
        self.assertEqual(res["carol"][0], 250, res)
        self.assertEqual(self.count(self.b2, "carol"), before[2] + 1)

    def test_postfix_through_frontend(self):
        missing = postfix.missing_tools()
        if missing:
            self.skipTest("postfix not usable: %s" % missing)
        before = self.counts()
        rcpts = ["alice@example.com", "carol@example.com"]
        with postfix.Postfix(lmtp=("127.0.0.1", self.fe.ports["lmtp"])) as pf:
            pf.sendmail(MSG % b"postfix", rcpts)
            pf.wait_delivered(rcpts)
            for r in rcpts:
                self.assertEqual(pf.delivery_status(r), "sent")
        after = self.counts()
        self.assertEqual((after[0], after[2]), (before[0] + 1, before[2] + 1))
