"""End-to-end tests of lmtpd (RFC 2033) under master: python smtplib.LMTP
and swaks as clients, messages checked in the mailbox spool files.

Also home of the small helpers test_pop3d.py shares (DeliveryCase)."""

import glob
import os
import shutil
import signal
import smtplib
import socket
import subprocess
import time
import unittest

import harness

SERVERNAME = "testhost"


def make_cert(m):
    """A self-signed certificate for master m: (key path, cert path)."""
    key, cert = m.path("key.pem"), m.path("cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                    "-subj", "/CN=" + SERVERNAME], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return key, cert


def sasl_user(m, user, password):
    """Add user to the sasldb of master m (realm = SERVERNAME)."""
    subprocess.run(["saslpasswd2", "-p", "-c", "-f", m.path("sasldb2"),
                    "-u", SERVERNAME, user], input=password.encode(),
                   check=True)


class DeliveryCase(harness.TestCase):
    """A master with lmtpd (-a on TCP, plain on a UNIX socket and a second
    TCP port without -a) and whatever extra services a test wants."""

    imapd_extra = {}
    extra_services = []

    def start_master(self, imapd=None, services=()):
        self.lmtp_port = harness.free_port()
        self.auth_port = harness.free_port()
        opts = {"servername": SERVERNAME,
                "admins": "postman admin",
                "failedloginpause": "0",
                "sasl_pwcheck_method": "auxprop",
                "sasl_auxprop_plugin": "sasldb",
                "sasl_mech_list": "PLAIN LOGIN",
                "allowplaintext": "yes"}
        opts.update(self.imapd_extra)
        opts.update(imapd or {})
        svc = [("lmtp", {"cmd": "lmtpd -a",
                         "listen": "127.0.0.1:%d" % self.lmtp_port}),
               ("lmtpauth", {"cmd": "lmtpd",
                             "listen": "127.0.0.1:%d" % self.auth_port})]
        m = self.master(imapd=opts, services=svc + list(services))
        m.imapd["sasl_sasldb_path"] = m.path("sasldb2")
        self.lmtp_sock = m.path("lmtp.sock")
        svc.append(("lmtpunix", {"cmd": "lmtpd", "listen": self.lmtp_sock}))
        m.write_imapd_conf()
        m.write_cyrus_conf(services=svc + list(services))
        self.m = m
        return m

    def go(self, ports=(), paths=()):
        self.m.start(ports=[self.lmtp_port, self.auth_port] + list(ports),
                     paths=[self.lmtp_sock] + list(paths))

    def mkmbox(self, name, acl=None, quota_kib=None):
        args = [harness.bin_path("mkmbox"), "-C", self.m.imapd_conf, name]
        if acl is not None or quota_kib is not None:
            args.append(acl if acl is not None else "anyone|lrs")
        if quota_kib is not None:
            args.append(str(quota_kib))
        subprocess.run(args, check=True)

    def messages(self, uniqueid_glob="*"):
        """{mailbox dir: [message texts]} from the spool (uuid layout)."""
        out = {}
        for d in glob.glob(os.path.join(self.m.spool, "uuid", "?", "?",
                                        uniqueid_glob)):
            msgs = []
            for f in sorted(glob.glob(os.path.join(d, "*.")),
                            key=lambda p: int(os.path.basename(p)[:-1])):
                with open(f, "rb") as fh:
                    msgs.append(fh.read())
            out[d] = msgs
        return out

    def all_messages(self):
        return [msg for msgs in self.messages().values() for msg in msgs]

    def lmtp(self, port=None):
        c = smtplib.LMTP("127.0.0.1", port or self.lmtp_port, timeout=10)
        return c


MSG = (b"From: sender@example.org\r\nTo: alice@example.org\r\n"
       b"Subject: hello\r\nMessage-ID: <%s@example.org>\r\n\r\n"
       b"Hello there.\r\n.leading dot\r\n")


def msg(msgid="m1"):
    return MSG.replace(b"%s", msgid.encode())


class TestLmtpd(DeliveryCase):
    def setUp(self):
        self.start_master()
        for u in ("alice", "bob"):
            self.mkmbox("user." + u)
        self.go()

    def test_lhlo_capabilities(self):
        with harness.LineClient(self.lmtp_port) as c:
            self.assertTrue(c.greeting.startswith("220 testhost"), c.greeting)
            c.send("LHLO client.example.org")
            lines = []
            while True:
                line = c.readline()
                lines.append(line)
                if not line.startswith("250-"):
                    break
            caps = [l[4:] for l in lines]
            self.assertEqual(caps[0], "testhost")
            for cap in ("8BITMIME", "ENHANCEDSTATUSCODES", "PIPELINING",
                        "IGNOREQUOTA"):
                self.assertIn(cap, caps)
            self.assertTrue(any(c_.startswith("SIZE") for c_ in caps))
            self.assertTrue(lines[-1].startswith("250 Ok SESSIONID=<"))
            self.assertEqual(c.cmd("HELO x")[:3], "500")
            self.assertEqual(c.cmd("QUIT"), "221 2.0.0 bye")

    def test_deliver_two_recipients_and_unknown(self):
        c = self.lmtp()
        c.ehlo("client")
        c.mail("sender@example.org")
        self.assertEqual(c.rcpt("alice")[0], 250)
        self.assertEqual(c.rcpt("Bob@example.org")[0], 250)
        code, text = c.rcpt("nosuchuser")
        self.assertEqual(code, 550)
        self.assertIn(b"5.1.1", text)
        # smtplib.LMTP.data() returns one reply per accepted recipient
        # only through sendmail(); use the raw protocol here
        code, _ = c.docmd("DATA")
        self.assertEqual(code, 354)
        c.send(b"Subject: x\r\nMessage-ID: <two@x>\r\n\r\nbody\r\n"
               b"..stuffed\r\n.\r\n")
        r1 = c.getreply()
        r2 = c.getreply()
        self.assertEqual(r1[0], 250)
        self.assertEqual(r2[0], 250)
        self.assertIn(b"SESSIONID", r1[1])
        c.quit()
        msgs = self.all_messages()
        self.assertEqual(len(msgs), 2)
        for m_ in msgs:
            self.assertTrue(m_.startswith(b"Return-Path: <sender@example.org>"
                                          b"\r\nReceived: "), m_[:80])
            self.assertTrue(m_.endswith(b"\r\n\r\nbody\r\n.stuffed\r\n"),
                            m_[-40:])

    def test_mailbox_gone_between_rcpt_and_data_is_temporary(self):
        # what XFER does to the source backend while a transaction is open:
        # the spool goes away after RCPT was accepted; a 550 here would
        # bounce mail for a user who now lives on another backend
        path = subprocess.run([harness.bin_path("mbpath"), "-C",
                               self.m.imapd_conf, "user.bob"], check=True,
                              stdout=subprocess.PIPE).stdout.decode().strip()
        c = self.lmtp()
        c.ehlo("client")
        c.mail("sender@example.org")
        self.assertEqual(c.rcpt("alice")[0], 250)
        self.assertEqual(c.rcpt("bob")[0], 250)
        os.rename(path, path + ".XFERGONE")
        self.assertEqual(c.docmd("DATA")[0], 354)
        c.send(msg("gone") + b".\r\n")
        r_alice, r_bob = c.getreply(), c.getreply()
        self.assertEqual(r_alice[0], 250, r_alice)
        self.assertEqual(r_bob[0], 451, r_bob)
        self.assertIn(b"4.2.1", r_bob[1])
        c.quit()
        self.assertEqual(len(self.all_messages()), 1)

    def test_sendmail_refused_recipient(self):
        c = self.lmtp()
        refused = c.sendmail("s@x", ["alice", "ghost"], msg("sm"))
        self.assertIn("ghost", refused)
        self.assertEqual(refused["ghost"][0], 550)
        c.quit()
        self.assertEqual(len(self.all_messages()), 1)

    def test_duplicate_suppression(self):
        c = self.lmtp()
        c.sendmail("s@x", ["alice"], msg("dup"))
        c.sendmail("s@x", ["alice"], msg("dup"))
        c.sendmail("s@x", ["alice"], msg("other"))
        c.quit()
        self.assertEqual(len(self.all_messages()), 2)

    def test_bare_lf_and_headerless(self):
        with harness.LineClient(self.lmtp_port) as c:
            for line in ("LHLO x", "MAIL FROM:<>", "RCPT TO:<alice>"):
                c.send(line)
            c.readline()  # multi-line LHLO reply: skip to its last line
            while True:
                line = c.readline()
                if line.startswith("250 "):
                    break
            self.assertEqual(c.readline()[:3], "250")
            self.assertEqual(c.readline()[:3], "250")
            c.sock.sendall(b"DATA\r\n")
            self.assertEqual(c.readline()[:3], "354")
            c.sock.sendall(b"Subject: lf\nMessage-ID: <lf@x>\n\nbody\n.\n")
            self.assertEqual(c.readline()[:3], "250")
            # a message whose first line is not a header field
            for line in ("MAIL FROM:<>", "RCPT TO:<bob>", "DATA"):
                c.send(line)
            self.assertEqual(c.readline()[:3], "250")
            self.assertEqual(c.readline()[:3], "250")
            self.assertEqual(c.readline()[:3], "354")
            c.sock.sendall(b"just some text\r\nno header\r\n.\r\n")
            reply = c.readline()
            self.assertTrue(reply.startswith("554 5.6.0"), reply)
        msgs = self.all_messages()
        self.assertEqual(len(msgs), 1)
        self.assertIn(b"Subject: lf\r\nMessage-ID: <lf@x>\r\n\r\nbody\r\n",
                      msgs[0])
        self.assertNotIn(b"\n\n", msgs[0].replace(b"\r\n", b""))

    def test_long_line_and_pipelined_commands(self):
        long_line = b"x" * 200000
        with harness.LineClient(self.lmtp_port) as c:
            # the whole transaction and the next command in one write
            c.sock.sendall(b"LHLO x\r\nMAIL FROM:<>\r\nRCPT TO:<alice>\r\n"
                           b"DATA\r\nSubject: long\r\n\r\n" + long_line +
                           b"\r\n.\r\nNOOP\r\n")
            while not c.readline().startswith("250 Ok"):
                pass
            replies = [c.readline() for _ in range(5)]
        self.assertEqual([r[:3] for r in replies],
                         ["250", "250", "354", "250", "250"], replies)
        msgs = self.all_messages()
        self.assertEqual(len(msgs), 1)
        self.assertTrue(msgs[0].endswith(b"\r\n\r\n" + long_line + b"\r\n"))

    def test_unix_socket(self):
        c = smtplib.LMTP(self.lmtp_sock, timeout=10)
        self.assertEqual(c.sendmail("s@x", ["bob"], msg("unix")), {})
        c.quit()
        self.assertEqual(len(self.all_messages()), 1)

    def test_swaks(self):
        if shutil.which("swaks") is None:
            self.skipTest("swaks not installed")
        r = subprocess.run(["swaks", "--protocol", "LMTP", "--server",
                            "127.0.0.1:%d" % self.lmtp_port, "--to", "alice",
                            "--from", "swaks@example.org", "--header",
                            "Subject: via swaks"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=30)
        out = r.stdout.decode()
        self.assertEqual(r.returncode, 0, out)
        self.assertIn("250 2.1.5", out)
        self.assertTrue(any(b"Subject: via swaks" in m_
                            for m_ in self.all_messages()))

    def test_auth_required_without_a(self):
        sasl_user(self.m, "admin", "adminpw")
        sasl_user(self.m, "alice", "alicepw")
        c = self.lmtp(self.auth_port)
        c.ehlo("x")
        self.assertIn("auth", c.esmtp_features)
        self.assertEqual(c.mail("s@x")[0], 530)
        # a user who is not an admin may not authenticate to lmtpd
        with self.assertRaises(smtplib.SMTPAuthenticationError):
            c.login("alice", "alicepw")
        c.login("admin", "adminpw")
        self.assertEqual(c.sendmail("s@x", ["alice"], msg("auth")), {})
        c.quit()
        self.assertEqual(len(self.all_messages()), 1)

    def test_our_client_with_auth(self):
        """imap/lmtp_client.c (the proxy's client side) against lmtpd:
        AUTH PLAIN as an admin, pipelined transaction, per-recipient
        replies."""
        sasl_user(self.m, "admin", "adminpw")
        r = subprocess.run([harness.bin_path("lmtpsend"), str(self.auth_port),
                            "admin", "adminpw", "s@x", "alice", "ghost",
                            "bob"], input=msg("ours"), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.decode().splitlines(),
                         ["alice 250 2.1.5", "ghost 550 5.1.1",
                          "bob 250 2.1.5"])
        self.assertEqual(len(self.all_messages()), 2)
        # a wrong password is refused
        r = subprocess.run([harness.bin_path("lmtpsend"), str(self.auth_port),
                            "admin", "bad", "s@x", "alice"], input=msg("x"),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"refused", r.stderr)


class TestLmtpdFolders(DeliveryCase):
    imapd_extra = {"postuser": "bb", "maxmessagesize": "2048"}

    def setUp(self):
        self.start_master()
        self.mkmbox("user.alice")
        self.mkmbox("user.alice.Post", "alice|lrswipkxtecdan|anyone|p")
        self.mkmbox("user.alice.Private")
        self.mkmbox("shared.open", "anyone|lrsp")
        self.mkmbox("shared.closed", "anyone|lrs")
        self.mkmbox("user.carol", None, 1)
        self.go()

    def dirs_with(self, needle):
        return [d for d, msgs in self.messages().items()
                if any(needle in m_ for m_ in msgs)]

    def test_plus_folder_with_and_without_p(self):
        c = self.lmtp()
        self.assertEqual(c.sendmail("s@x", ["alice+Post"], msg("p1")), {})
        self.assertEqual(c.sendmail("s@x", ["alice+Private"], msg("p2")), {})
        self.assertEqual(c.sendmail("s@x", ["alice+Missing"], msg("p3")), {})
        c.quit()
        post = self.dirs_with(b"<p1@")
        priv = self.dirs_with(b"<p2@")
        missing = self.dirs_with(b"<p3@")
        self.assertEqual(len(post), 1)
        # no p right and missing folder: both fall back to the INBOX
        self.assertEqual(priv, missing)
        self.assertNotEqual(post, priv)

    def test_fallback_copy_is_a_duplicate(self):
        # as in the Cyrus recording: alice+Private falls back to the INBOX,
        # where the same Message-ID just arrived for alice: one copy
        r = subprocess.run([harness.bin_path("lmtpsend"), str(self.lmtp_port),
                            "-", "-", "s@x", "alice", "alice+Private"],
                           input=msg("fb"), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.decode().splitlines(),
                         ["alice 250 2.1.5", "alice+Private 250 2.1.5"])
        dirs = self.dirs_with(b"<fb@")
        self.assertEqual(len(dirs), 1)
        self.assertEqual(len(self.messages()[dirs[0]]), 1)
        self.m.wait_log(r"duplicate suppressed")

    def test_postuser_shared(self):
        c = self.lmtp()
        self.assertEqual(c.sendmail("s@x", ["bb+shared.open"], msg("s1")),
                         {})
        refused = c.sendmail("s@x", ["bb+shared.open", "bb+shared.closed"],
                             msg("s2"))
        self.assertEqual(refused["bb+shared.closed"][0], 550)
        c.quit()
        self.assertEqual(len(self.dirs_with(b"<s1@")), 1)

    def test_size_limits(self):
        c = self.lmtp()
        c.ehlo("x")
        self.assertEqual(c.esmtp_features.get("size"), "2048")
        self.assertEqual(c.mail("s@x", ["SIZE=4096"])[0], 552)
        # without SIZE= the limit applies to the data itself
        big = msg("big") + b"x" * 4000 + b"\r\n"
        self.assertEqual(c.mail("s@x")[0], 250)
        self.assertEqual(c.rcpt("alice")[0], 250)
        code, text = c.data(big)
        self.assertEqual(code, 552)
        self.assertIn(b"5.2.3", text)
        c.quit()
        self.assertEqual(self.all_messages(), [])

    def test_over_quota(self):
        c = self.lmtp()
        # carol has 1 KiB: the first message goes in (Cyrus only refuses
        # a mailbox already over quota), the second is refused with 452
        self.assertEqual(c.sendmail("s@x", ["carol"], msg("q1") + b"y" * 1200),
                         {})
        with self.assertRaises(smtplib.SMTPRecipientsRefused) as cm:
            c.sendmail("s@x", ["carol"], msg("q2"))
        self.assertEqual(cm.exception.recipients["carol"][0], 452)
        # IGNOREQUOTA delivers anyway
        c.rset()
        c.mail("s@x")
        self.assertEqual(c.rcpt("carol", ["IGNOREQUOTA"])[0], 250)
        self.assertEqual(c.data(msg("q3"))[0], 250)
        c.quit()
        self.assertEqual(len(self.dirs_with(b"<q3@")), 1)


class TestLmtpdQuotaPerm(DeliveryCase):
    imapd_extra = {"lmtp_over_quota_perm_failure": "yes",
                   "lmtp_strict_quota": "yes"}

    def setUp(self):
        self.start_master()
        self.mkmbox("user.dave", None, 1)
        self.go()

    def test_strict_perm(self):
        c = self.lmtp()
        # strict: this message alone would exceed the quota; refused at
        # DATA time, permanently
        with self.assertRaises(smtplib.SMTPDataError) as cm:
            c.sendmail("s@x", ["dave"], msg("big") + b"z" * 2000)
        self.assertEqual(cm.exception.smtp_code, 552)
        self.assertIn(b"5.2.2", cm.exception.smtp_error)
        c.quit()
        self.assertEqual(self.all_messages(), [])


class TestLmtpdNoDuplicateSuppression(DeliveryCase):
    imapd_extra = {"duplicatesuppression": "no"}

    def setUp(self):
        self.start_master()
        self.mkmbox("user.alice")
        self.go()

    def test_same_message_id_delivered_twice(self):
        # with suppression off, the same Message-ID to the same user is
        # delivered again (Cyrus's duplicatesuppression: 0)
        c = self.lmtp()
        self.assertEqual(c.sendmail("s@x", ["alice"], msg("dup")), {})
        self.assertEqual(c.sendmail("s@x", ["alice"], msg("dup")), {})
        c.quit()
        msgs = self.all_messages()
        self.assertEqual(len(msgs), 2)
        self.assertTrue(all(b"<dup@" in m_ for m_ in msgs))


class TestLmtpdCrash(DeliveryCase):
    def setUp(self):
        self.start_master()
        self.mkmbox("user.erin")
        self.go()

    def test_kill_mid_data_leaves_nothing(self):
        with harness.LineClient(self.lmtp_port) as c:
            for line in ("LHLO x", "MAIL FROM:<>", "RCPT TO:<erin>", "DATA"):
                c.send(line)
            while not c.readline().startswith("354"):
                pass
            c.sock.sendall(b"Subject: half\r\n\r\n" + b"line\r\n" * 1000)
            time.sleep(0.3)
            pids = self.m.service_pids("lmtp")
            busy = [p for p in pids]
            for p in busy:
                self.m.kill(p, signal.SIGKILL)
            self.assertEqual(c.readline(), "")
        self.assertEqual(self.all_messages(), [])
        # the mailbox still works afterwards
        c2 = self.lmtp()
        self.assertEqual(c2.sendmail("s@x", ["erin"], msg("after")), {})
        c2.quit()
        self.assertEqual(len(self.all_messages()), 1)


class TestLmtpdTls(DeliveryCase):
    imapd_extra = {"allowplaintext": "no"}

    def setUp(self):
        self.start_master()
        key, cert = make_cert(self.m)
        self.m.write_imapd_conf({"tls_server_cert": cert,
                                 "tls_server_key": key})
        self.mkmbox("user.alice")
        self.go()
        sasl_user(self.m, "admin", "adminpw")

    def test_starttls_then_auth(self):
        import ssl
        c = self.lmtp(self.auth_port)
        c.ehlo("x")
        self.assertIn("starttls", c.esmtp_features)
        # PLAIN needs TLS when allowplaintext is off
        self.assertNotIn("PLAIN", c.esmtp_features.get("auth", ""))
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        c.starttls(context=ctx)
        c.ehlo("x")
        self.assertNotIn("starttls", c.esmtp_features)
        self.assertIn("PLAIN", c.esmtp_features.get("auth", ""))
        c.login("admin", "adminpw")
        self.assertEqual(c.sendmail("s@x", ["alice"], msg("tls")), {})
        c.quit()
        got = self.all_messages()
        self.assertEqual(len(got), 1)
        self.assertIn(b"with LMTPSA;", got[0])


class TestPostfix(DeliveryCase):
    """A private Postfix (tests/postfix.py) delivers to our lmtpd over
    lmtp:inet (lmtpd -a) and lmtp:unix."""

    def setUp(self):
        import postfix
        if postfix.missing_tools() or os.geteuid() != 0:
            self.skipTest("needs root and the Debian postfix package")
        self.postfix = postfix
        self.start_master()
        # Postfix's lmtp client runs as `postfix`: let it reach the socket
        os.chmod(self.m.dir, 0o755)
        for u in ("alice", "bob"):
            self.mkmbox("user." + u)
        self.go()

    def check_delivered(self, pf, rcpts, mid):
        pf.wait_queue_empty()
        final = pf.wait_delivered(rcpts)
        for r in rcpts:
            self.assertEqual(final[r]["status"], "sent", pf.log_tail())
            self.assertTrue(final[r]["dsn"].startswith("2."), final[r])
        self.assertEqual(len([m_ for m_ in self.all_messages()
                              if mid.encode() in m_]), len(rcpts))

    def test_lmtp_inet(self):
        with self.postfix.Postfix(lmtp=("127.0.0.1", self.lmtp_port),
                                  domains=("example.com",)) as pf:
            refused = pf.smtp_send(msg("pfinet"), ["alice@example.com",
                                                   "bob@example.com"])
            self.assertEqual(refused, {})
            self.check_delivered(pf, ["alice@example.com",
                                      "bob@example.com"], "<pfinet@")
            # an unknown user bounces (5.1.1), the queue empties
            pf.smtp_send(msg("pfbounce"), ["ghost@example.com"], sender="")
            final = pf.wait_delivered(["ghost@example.com"])
            self.assertEqual(final["ghost@example.com"]["status"], "bounced")
            self.assertTrue(final["ghost@example.com"]["dsn"]
                            .startswith("5.1.1"))

    def test_lmtp_unix(self):
        with self.postfix.Postfix(lmtp=self.lmtp_sock,
                                  domains=("example.com",)) as pf:
            pf.sendmail(msg("pfunix"), ["alice@example.com"])
            self.check_delivered(pf, ["alice@example.com"], "<pfunix@")


class TestWithImapd(harness.TestCase):
    """lmtpd and pop3d beside imapd on one backend (tests/backend.py):
    mail delivered over LMTP shows up in IMAP and POP3."""

    def test_deliver_then_read(self):
        import backend
        import imaplib
        import poplib
        b = backend.Backend(services=("imap", "pop3", "lmtp"))
        self.addCleanup(b.cleanup)
        b.start()
        admin = b.login(backend.ADMIN)
        self.assertEqual(admin.create("user.alice.Lists")[0], "OK")
        admin.logout()
        # smtplib reads only the first of LMTP's per-recipient DATA
        # replies: one connection per multi-recipient sendmail()
        for rcpts, mid in ((["alice", "bob"], "i1"), (["alice+Lists"], "i2")):
            c = smtplib.LMTP("127.0.0.1", b.ports["lmtp"], timeout=10)
            self.assertEqual(c.sendmail("s@x", rcpts, msg(mid)), {})
            c.close()
        im = b.login("alice")
        # imapd has no SETACL yet: without anyone's `p` right on the
        # folder, alice+Lists falls back to the INBOX
        typ, data = im.select("INBOX")
        self.assertEqual((typ, data[0]), ("OK", b"2"))
        typ, data = im.select("INBOX.Lists")
        self.assertEqual((typ, data[0]), ("OK", b"0"))
        im.logout()
        p = poplib.POP3("127.0.0.1", b.ports["pop3"], timeout=10)
        p.user("bob")
        p.pass_(backend.password("bob"))
        self.assertEqual(p.stat()[0], 1)
        self.assertIn(b"Message-ID: <i1@example.org>", b"\r\n".join(
            p.retr(1)[1]))
        p.quit()


if __name__ == "__main__":
    unittest.main()
