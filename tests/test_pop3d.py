"""End-to-end tests of pop3d under master: python poplib, curl pop3:// and
fetchmail against messages delivered by our lmtpd."""

import base64
import os
import poplib
import re
import shutil
import smtplib
import socket
import ssl
import subprocess
import unittest

import harness
from test_lmtpd import DeliveryCase, make_cert, msg, sasl_user


class Pop3Case(DeliveryCase):
    pop_opts = {}

    def setUp(self):
        self.pop_port = harness.free_port()
        self.start_master(imapd=self.pop_opts, services=[
            ("pop3", {"cmd": "pop3d",
                      "listen": "127.0.0.1:%d" % self.pop_port})])
        self.prepare()
        self.go(ports=[self.pop_port])
        sasl_user(self.m, "alice", "alicepw")
        self.mkmbox("user.alice")

    def prepare(self):
        pass

    def deliver(self, *ids):
        c = self.lmtp()
        for i in ids:
            self.assertEqual(c.sendmail("s@x", ["alice"], msg(i)), {})
        c.quit()

    def pop_when_unlocked(self):
        """Log in once the previous session's process has seen its client
        go away and released the POP lock."""
        got = []

        def attempt():
            try:
                got.append(self.pop())
                return True
            except poplib.error_proto as e:
                if b"[IN-USE]" not in e.args[0]:
                    raise
                return False
        harness.wait_for(attempt, what="POP lock released")
        return got[0]

    def pop(self, user="alice", password="alicepw"):
        p = poplib.POP3("127.0.0.1", self.pop_port, timeout=10)
        p.user(user)
        p.pass_(password)
        return p


class TestPop3d(Pop3Case):
    pop_opts = {"allowplaintext": "yes"}

    def test_capa_before_login(self):
        p = poplib.POP3("127.0.0.1", self.pop_port, timeout=10)
        self.assertTrue(p.getwelcome().startswith(b"+OK testhost"))
        caps = p.capa()
        for c in ("TOP", "UIDL", "PIPELINING", "RESP-CODES",
                  "AUTH-RESP-CODE", "USER"):
            self.assertIn(c, caps)
        self.assertEqual(caps["SASL"], ["PLAIN", "LOGIN"])
        self.assertEqual(caps["EXPIRE"], ["NEVER"])
        self.assertNotIn("STLS", caps)
        # transaction commands are refused before login
        with self.assertRaises(poplib.error_proto):
            p.stat()
        p.quit()

    def test_retr_list_top_uidl(self):
        self.deliver("a1", "a2")
        p = self.pop()
        count, size = p.stat()
        self.assertEqual(count, 2)
        _, listing, _ = p.list()
        sizes = [int(l.split()[1]) for l in listing]
        self.assertEqual(sum(sizes), size)
        _, lines, octets = p.retr(1)
        text = b"\r\n".join(lines)
        self.assertIn(b"Message-ID: <a1@example.org>", text)
        # the leading dot came back unstuffed
        self.assertIn(b"\r\n.leading dot", text)
        self.assertEqual(sizes[0], len(text) + 2)
        _, top, _ = p.top(2, 0)
        self.assertIn(b"Message-ID: <a2@example.org>", top)
        self.assertEqual(top[-1], b"")
        self.assertNotIn(b"Hello there.", top)
        _, uidls, _ = p.uidl()
        ids = [l.split()[1] for l in uidls]
        self.assertTrue(all(re.match(rb"^\d+\.\d+$", i) for i in ids), ids)
        single = p.uidl(2).split()
        self.assertEqual(single[2], ids[1])
        with self.assertRaises(poplib.error_proto):
            p.retr(3)
        p.quit()
        # UIDL is stable across sessions
        p = self.pop()
        self.assertEqual([l.split()[1] for l in p.uidl()[1]], ids)
        p.quit()

    def test_dele_rset_quit(self):
        self.deliver("d1", "d2", "d3")
        p = self.pop()
        p.dele(1)
        with self.assertRaises(poplib.error_proto):
            p.retr(1)
        self.assertEqual(p.stat()[0], 2)
        p.rset()
        self.assertEqual(p.stat()[0], 3)
        p.dele(2)
        # dropping the connection expunges nothing
        p.sock.shutdown(socket.SHUT_RDWR)
        p.close()
        p = self.pop_when_unlocked()
        self.assertEqual(p.stat()[0], 3)
        p.dele(2)
        p.quit()
        p = self.pop()
        self.assertEqual(p.stat()[0], 2)
        texts = [b"\r\n".join(p.retr(i)[1]) for i in (1, 2)]
        self.assertIn(b"<d1@", texts[0])
        self.assertIn(b"<d3@", texts[1])
        p.quit()

    def test_in_use(self):
        p1 = self.pop()
        p2 = poplib.POP3("127.0.0.1", self.pop_port, timeout=10)
        p2.user("alice")
        with self.assertRaises(poplib.error_proto) as cm:
            p2.pass_("alicepw")
        self.assertIn(b"[IN-USE]", cm.exception.args[0])
        p2.quit()
        p1.quit()
        self.pop().quit()

    def test_bad_password_and_unknown_user(self):
        p = poplib.POP3("127.0.0.1", self.pop_port, timeout=10)
        p.user("alice")
        with self.assertRaises(poplib.error_proto) as cm:
            p.pass_("wrong")
        self.assertIn(b"[AUTH]", cm.exception.args[0])
        sasl_user(self.m, "nobox", "nopw")
        p.user("nobox")
        with self.assertRaises(poplib.error_proto) as cm:
            p.pass_("nopw")
        self.assertIn(b"[SYS/PERM]", cm.exception.args[0])
        p.quit()

    def test_auth_plain_initial_response(self):
        self.deliver("s1")
        ir = base64.b64encode(b"\0alice\0alicepw").decode()
        with harness.LineClient(self.pop_port) as c:
            self.assertTrue(c.cmd("AUTH PLAIN " + ir).startswith("+OK"))
            self.assertEqual(c.cmd("STAT")[:5], "+OK 1")
            self.assertTrue(c.cmd("QUIT").startswith("+OK"))
        # and without initial response: an empty challenge first
        with harness.LineClient(self.pop_port) as c:
            self.assertEqual(c.cmd("AUTH PLAIN"), "+ ")
            self.assertTrue(c.cmd(ir).startswith("+OK"))
            c.cmd("QUIT")
        with harness.LineClient(self.pop_port) as c:
            self.assertEqual(c.cmd("AUTH PLAIN"), "+ ")
            self.assertTrue(c.cmd("*").startswith("-ERR [AUTH]"))

    def test_curl(self):
        if shutil.which("curl") is None:
            self.skipTest("curl not installed")
        self.deliver("c1")
        url = "pop3://127.0.0.1:%d/1" % self.pop_port
        r = subprocess.run(["curl", "-s", "-S", "--user", "alice:alicepw",
                            url], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"Message-ID: <c1@example.org>", r.stdout)
        r = subprocess.run(["curl", "-s", "-S", "--user", "alice:alicepw",
                            "pop3://127.0.0.1:%d/" % self.pop_port],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith(b"1 "), r.stdout)

    def test_fetchmail(self):
        if shutil.which("fetchmail") is None:
            self.skipTest("fetchmail not installed")
        self.deliver("f1", "f2")
        out = self.m.path("fetched")
        rc = self.m.path("fetchmailrc")
        with open(rc, "w") as f:
            f.write('poll 127.0.0.1 service %d protocol pop3 uidl\n'
                    '  user "alice" password "alicepw" is "x" here\n'
                    '  sslproto "" mda "/bin/sh -c \'cat >> %s\'"\n'
                    % (self.pop_port, out))
        os.chmod(rc, 0o600)
        env = dict(os.environ, HOME=self.m.dir)
        r = subprocess.run(["fetchmail", "-f", rc, "--nosyslog", "-v",
                            "--pidfile", self.m.path("fm.pid"),
                            "-i", self.m.path("fm.ids")],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           env=env, timeout=60)
        self.assertIn(r.returncode, (0,), r.stdout.decode(errors="replace"))
        with open(out, "rb") as f:
            got = f.read()
        self.assertIn(b"<f1@example.org>", got)
        self.assertIn(b"<f2@example.org>", got)
        # fetchmail deletes what it fetched (no --keep)
        p = self.pop()
        self.assertEqual(p.stat()[0], 0)
        p.quit()


class TestPop3dTls(Pop3Case):
    pop_opts = {"allowplaintext": "no"}

    def prepare(self):
        key, cert = make_cert(self.m)
        self.m.write_imapd_conf({"tls_server_cert": cert,
                                 "tls_server_key": key})

    def test_user_needs_tls(self):
        self.deliver("t1")
        p = poplib.POP3("127.0.0.1", self.pop_port, timeout=10)
        caps = p.capa()
        self.assertIn("STLS", caps)
        self.assertNotIn("USER", caps)
        with self.assertRaises(poplib.error_proto) as cm:
            p.user("alice")
        self.assertIn(b"[AUTH]", cm.exception.args[0])
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        p.stls(ctx)
        caps = p.capa()
        self.assertNotIn("STLS", caps)
        self.assertIn("USER", caps)
        p.user("alice")
        p.pass_("alicepw")
        self.assertEqual(p.stat()[0], 1)
        p.quit()


class TestPop3dMinPoll(Pop3Case):
    pop_opts = {"allowplaintext": "yes", "popminpoll": "1"}

    def test_login_delay(self):
        p = poplib.POP3("127.0.0.1", self.pop_port, timeout=10)
        self.assertEqual(p.capa()["LOGIN-DELAY"], ["60"])
        p.user("alice")
        p.pass_("alicepw")
        p.quit()
        p = poplib.POP3("127.0.0.1", self.pop_port, timeout=10)
        p.user("alice")
        with self.assertRaises(poplib.error_proto) as cm:
            p.pass_("alicepw")
        self.assertIn(b"[LOGIN-DELAY]", cm.exception.args[0])
        p.quit()


if __name__ == "__main__":
    unittest.main()
