"""Implicit TLS in the whole murder of tools/murder: the imaps and pop3s
services (`imapd -s`, `pop3d -s`) on every frontend and backend, with
certificates signed by the murder's own CA (DIR/tls/ca.pem).

Clients verify the server fully (the murder's CA, host name 127.0.0.1) and
check that the peer certificate is the node's own: Python's imaplib and
poplib, our bin/cyradm --tls, and Debian's Perl cyradm (Cyrus::IMAP), which
only knows STARTTLS: it is tested over STARTTLS, and over imaps through a
local plaintext-to-TLS relay. A plaintext client on the imaps and pop3s
ports gets no greeting and is disconnected at once.
"""
import imaplib
import os
import poplib
import re
import select
import smtplib
import socket
import ssl
import subprocess
import threading
import time
import unittest

import harness
import murdercase

MSG = ("From: Alice <alice@example.com>\r\n"
       "To: %s <%s@example.com>\r\n"
       "Subject: %s\r\n"
       "Message-ID: <%s@example.com>\r\n"
       "\r\n"
       "over implicit TLS: %s\r\n")


def msg(user, tag):
    return (MSG % (user, user, tag, tag, tag)).encode()


class Relay:
    """A plaintext listener on loopback; every connection is relayed to
    127.0.0.1:port over TLS (verified with ctx). For clients that cannot
    do implicit TLS themselves."""

    def __init__(self, port, ctx):
        self.port, self.ctx = port, ctx
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(4)
        self.addr = self.lsock.getsockname()
        self.peer_certs = []
        self.bytes_up = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                plain, _ = self.lsock.accept()
            except OSError:
                return
            threading.Thread(target=self._pipe, args=(plain,),
                             daemon=True).start()

    def _pipe(self, plain):
        try:
            raw = socket.create_connection(("127.0.0.1", self.port), 10)
            tls = self.ctx.wrap_socket(raw, server_hostname="127.0.0.1")
        except (OSError, ssl.SSLError):
            plain.close()
            return
        self.peer_certs.append(tls.getpeercert(binary_form=True))
        try:
            while True:
                # TLS may hold decrypted bytes select() cannot see
                ready = [tls] if tls.pending() else select.select(
                    [plain, tls], [], [], 30)[0]
                if not ready:
                    break
                if tls in ready:
                    data = tls.recv(65536)
                    if not data:
                        break
                    plain.sendall(data)
                if plain in ready:
                    data = plain.recv(65536)
                    if not data:
                        break
                    self.bytes_up += len(data)
                    tls.sendall(data)
        except (OSError, ssl.SSLError):
            pass
        finally:
            tls.close()
            plain.close()

    def close(self):
        try:
            self.lsock.shutdown(socket.SHUT_RDWR)  # wakes accept()
        except OSError:
            pass
        self.lsock.close()


class TestMurderTLS(murdercase.MurderCase):
    # ---- helpers ----

    def ctx(self):
        """Full verification: the murder's CA and the host name."""
        ctx = ssl.create_default_context(cafile=self.ca)
        self.assertTrue(ctx.check_hostname)
        self.assertEqual(ctx.verify_mode, ssl.CERT_REQUIRED)
        return ctx

    def node_cert_der(self, name):
        with open(self.node(name)["cert"]) as f:
            return ssl.PEM_cert_to_DER_cert(f.read())

    def assertPeerIs(self, sock, name):
        """sock's peer presents name's certificate, over TLS 1.2 or
        later."""
        self.assertEqual(sock.getpeercert(binary_form=True),
                         self.node_cert_der(name))
        subject = dict(x[0] for x in sock.getpeercert()["subject"])
        self.assertEqual(subject["commonName"], name)
        self.assertIn(sock.version(), ("TLSv1.2", "TLSv1.3"))

    def imaps(self, name, user):
        c = imaplib.IMAP4_SSL("127.0.0.1", self.node(name)["imaps"],
                              ssl_context=self.ctx(), timeout=20)
        self.addCleanup(harness.logout_quietly, c)
        self.assertPeerIs(c.sock, name)
        self.assertEqual(c.login(user, self.pw[user])[0], "OK")
        return c

    def imap(self, name, user):
        return self.login(user, name)

    def fetch_by_msgid(self, c, mailbox, tag):
        """The messages in mailbox whose Message-ID is tag's, whole."""
        typ, data = c.select(mailbox, readonly=True)
        self.assertEqual(typ, "OK", data)
        typ, data = c.uid("SEARCH", "HEADER", "Message-ID",
                          "<%s@example.com>" % tag)
        self.assertEqual(typ, "OK", data)
        out = []
        for uid in data[0].split():
            typ, d = c.uid("FETCH", uid, "(BODY.PEEK[])")
            self.assertEqual(typ, "OK", d)
            out.append(d[0][1])
        return out

    # ---- the configuration ----

    def test_ports_and_config(self):
        base = self.info["mupdate"]["port"] - 4
        nodes = self.info["backends"] + self.info["frontends"]
        self.assertEqual([n["name"] for n in nodes],
                         ["backend1", "backend2", "frontend1"])
        seen = set()
        for i, n in enumerate(nodes, 1):
            # N + 10 * node + 5 / 6, next to imap (0) and pop3 (1)
            self.assertEqual((n["imaps"], n["pop3s"]),
                             (base + 10 * i + 5, base + 10 * i + 6))
            ports = [n[k] for k in ("imap", "pop3", "lmtp", "imaps", "pop3s")]
            self.assertFalse(seen & set(ports))
            seen |= set(ports)
            self.assertIn("imaps %d" % n["imaps"], self.out)
            self.assertIn("pop3s %d" % n["pop3s"], self.out)
            with open(os.path.join(self.dir, n["name"], "cyrus.conf")) as f:
                conf = f.read()
            self.assertIn('imaps cmd="imapd -s" listen=127.0.0.1:%d'
                          % n["imaps"], conf)
            self.assertIn('pop3s cmd="pop3d -s" listen=127.0.0.1:%d'
                          % n["pop3s"], conf)
            # the certificate chains to the murder's CA
            p = subprocess.run(["openssl", "verify", "-CAfile", self.ca,
                                n["cert"]], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
            self.assertEqual(p.returncode, 0, p.stdout)
        self.assertIn(self.ca, self.out)

    def test_untrusted_client_refuses(self):
        """Without the murder's CA, verification fails: the trust the
        other tests rely on is real."""
        ctx = ssl.create_default_context()
        with self.assertRaises(ssl.SSLCertVerificationError):
            imaplib.IMAP4_SSL("127.0.0.1", self.node("frontend1")["imaps"],
                              ssl_context=ctx, timeout=20)
        # and a frontend's certificate is not a backend's
        ctx = self.ctx()
        with socket.create_connection(
                ("127.0.0.1", self.node("backend2")["imaps"]), 20) as raw:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                self.assertPeerIs(s, "backend2")
                self.assertNotEqual(s.getpeercert(binary_form=True),
                                    self.node_cert_der("frontend1"))

    # ---- IMAP over imaps ----

    def test_imaps_frontend_append_fetch(self):
        tag = "imaps-fe-%d" % os.getpid()
        body = msg("alice", tag)
        c = self.imaps("frontend1", "alice")
        typ, data = c.select("INBOX")
        self.assertEqual(typ, "OK", data)
        before = int(data[0])
        typ, data = c.append("INBOX", r"(\Flagged)", None, body)
        self.assertEqual(typ, "OK", data)
        typ, data = c.select("INBOX")
        self.assertEqual(int(data[0]), before + 1)
        self.assertEqual(self.fetch_by_msgid(c, "INBOX", tag), [body])
        typ, data = c.fetch(str(before + 1), "(FLAGS BODY.PEEK[HEADER.FIELDS "
                            "(SUBJECT)])")
        self.assertEqual(typ, "OK", data)
        self.assertIn(b"\\Flagged", data[0][0])
        self.assertEqual(data[0][1].strip(), ("Subject: %s" % tag).encode())
        # on alice's backend directly, in plaintext and over its imaps
        self.assertEqual(self.fetch_by_msgid(self.imap("backend1", "alice"),
                                             "INBOX", tag), [body])
        self.assertEqual(self.fetch_by_msgid(self.imaps("backend1", "alice"),
                                             "INBOX", tag), [body])
        # and not on the other backend
        a = self.imap("backend2", "cyrus")
        typ, data = a.list('""', "user.alice")
        self.assertEqual(typ, "OK")
        self.assertEqual([d for d in data if d], [])

    def test_imaps_frontend_other_backend(self):
        """bob's INBOX is on backend2: the frontend proxies there too."""
        tag = "imaps-bob-%d" % os.getpid()
        body = msg("bob", tag)
        c = self.imaps("frontend1", "bob")
        self.assertEqual(c.append("INBOX", None, None, body)[0], "OK")
        self.assertEqual(self.fetch_by_msgid(c, "INBOX", tag), [body])
        self.assertEqual(self.fetch_by_msgid(self.imaps("backend2", "bob"),
                                             "INBOX", tag), [body])

    # ---- POP3 over pop3s ----

    def test_pop3s_frontend_lmtp_delivery(self):
        tag = "pop3s-%d" % os.getpid()
        body = msg("carol", tag)
        lmtp = smtplib.LMTP("127.0.0.1", self.node("frontend1")["lmtp"],
                            timeout=20)
        try:
            self.assertEqual(lmtp.sendmail("alice@example.com", ["carol"],
                                           body), {})
        finally:
            lmtp.quit()
        # what the backend holds
        typ, data = self.imap("backend1", "carol").select("INBOX",
                                                          readonly=True)
        self.assertEqual(typ, "OK")
        exists = int(data[0])
        self.assertGreaterEqual(exists, 1)

        p = poplib.POP3_SSL("127.0.0.1", self.node("frontend1")["pop3s"],
                            context=self.ctx(), timeout=20)
        try:
            self.assertPeerIs(p.sock, "frontend1")
            self.assertTrue(p.getwelcome().startswith(b"+OK"))
            p.user("carol")
            self.assertTrue(p.pass_(self.pw["carol"]).startswith(b"+OK"))
            count, size = p.stat()
            self.assertEqual(count, exists)
            self.assertGreaterEqual(size, len(body))
            found = []
            for i in range(1, count + 1):
                resp, lines, octets = p.retr(i)
                self.assertTrue(resp.startswith(b"+OK"))
                if ("Subject: %s" % tag).encode() in lines:
                    found.append(lines)
            self.assertEqual(len(found), 1)
            self.assertIn(("over implicit TLS: %s" % tag).encode(), found[0])
        finally:
            p.quit()
        # the backend's own pop3s sees the same maildrop
        p = poplib.POP3_SSL("127.0.0.1", self.node("backend1")["pop3s"],
                            context=self.ctx(), timeout=20)
        try:
            self.assertPeerIs(p.sock, "backend1")
            p.user("carol")
            p.pass_(self.pw["carol"])
            self.assertEqual(p.stat()[0], exists)
        finally:
            p.quit()

    # ---- admin clients ----

    def test_own_cyradm_imaps(self):
        port = self.node("frontend1")["imaps"]
        cmd = [harness.bin_path("cyradm"), "--user", "cyrus", "--password",
               self.pw["cyrus"], "--tls"]
        p = subprocess.run(cmd + ["--cafile", self.ca, "127.0.0.1:%d" % port],
                           input=b"lm shared.l*\nlm user.%\n",
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=60, env=dict(os.environ, HOME=self.tmp))
        self.assertEqual((p.returncode, p.stderr), (0, b""))
        names = sorted(l.split()[0] for l in p.stdout.decode().splitlines())
        self.assertEqual(names, ["shared.lists", "user.alice", "user.bob",
                                 "user.carol", "user.dave"])
        # without the CA it does not trust the node
        p = subprocess.run(cmd + ["127.0.0.1:%d" % port], input=b"lm\n",
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=60, env=dict(os.environ, HOME=self.tmp))
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"certificate verif", p.stderr)

    def debian_cyradm(self, port, script, *opts):
        p = subprocess.run(["cyradm", "--user", "cyrus", "--password",
                            self.pw["cyrus"], "--server", "127.0.0.1",
                            "--port", str(port)] + list(opts),
                           input=script.encode(), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60,
                           env=dict(os.environ, HOME=self.tmp))
        self.assertEqual(p.returncode, 0, p.stdout.decode())
        return p.stdout.decode()

    def test_debian_cyradm_starttls(self):
        """Cyrus::IMAP has no implicit TLS; its STARTTLS (--tlskey with
        an empty key: no client certificate) checks the server against
        --cafile, but only reports a mismatch ("verify error")."""
        port = self.node("frontend1")["imap"]
        out = self.debian_cyradm(port, "lm shared.*\n", "--tlskey", "",
                                 "--cafile", self.ca)
        self.assertIn("shared.lists", out)
        self.assertIn("shared.team", out)
        self.assertNotIn("verify error", out)
        # the same with a CA that did not sign the node: TLS did happen
        other = os.path.join(self.tmp, "other-ca")
        os.makedirs(other, exist_ok=True)
        from test_imapd_tls import make_cert
        cert, _ = make_cert(other)
        out = self.debian_cyradm(port, "lm shared.*\n", "--tlskey", "",
                                 "--cafile", cert)
        self.assertIn("verify error", out)

    def test_debian_cyradm_over_imaps(self):
        """Debian's cyradm, plaintext, through a relay doing the TLS of
        the frontend's imaps port: LIST as the admin and a CREATE that
        lands on a backend."""
        relay = Relay(self.node("frontend1")["imaps"], self.ctx())
        self.addCleanup(relay.close)
        name = "shared.tls%d" % os.getpid()
        out = self.debian_cyradm(relay.addr[1],
                                 "lm user.*\ncm %s backend2!default\n"
                                 "lm shared.*\n" % name, "--notls")
        for mbox in ("user.alice", "user.bob", "user.carol", "user.dave",
                     "shared.lists", "shared.team", name):
            self.assertIn(mbox, out)
        self.assertNotIn("cyradm:", out)
        self.assertGreater(relay.bytes_up, 0)
        self.assertEqual(set(relay.peer_certs),
                         {self.node_cert_der("frontend1")})
        names = [d.decode() for d in self.imap("backend2", "cyrus").list(
            '""', name)[1] if d]
        self.assertEqual(len(names), 1, names)
        self.assertEqual(self.imap("frontend1", "cyrus").delete(name)[0],
                         "OK")
        # the frontend logged the admin in on its imaps service
        with open(os.path.join(self.dir, "frontend1", "log"),
                  errors="replace") as f:
            self.assertRegex(f.read(), r"imaps\[\d+\]: login: \S+ cyrus")

    # ---- plaintext clients on the TLS ports ----

    def test_plaintext_client_on_tls_ports(self):
        fe = self.node("frontend1")
        for svc in ("imaps", "pop3s"):
            with socket.create_connection(("127.0.0.1", fe[svc]),
                                          timeout=1) as s:
                # no greeting: the server waits for a TLS ClientHello
                with self.assertRaises(socket.timeout):
                    s.recv(100)
                s.sendall(b"a1 CAPABILITY\r\n" if svc == "imaps"
                          else b"CAPA\r\n")
                t0, got = time.time(), b""
                s.settimeout(5)
                try:
                    while True:
                        data = s.recv(4096)
                        if not data:
                            break
                        got += data
                except ConnectionResetError:
                    pass
                self.assertLess(time.time() - t0, 5, svc)
                self.assertNotIn(b"OK", got, svc)
                self.assertNotRegex(got, re.compile(b"CAPABILITY|IMAP|POP"))
        # the services still answer TLS clients
        c = self.imaps("frontend1", "dave")
        self.assertEqual(c.select("INBOX")[0], "OK")
        p = poplib.POP3_SSL("127.0.0.1", fe["pop3s"], context=self.ctx(),
                            timeout=20)
        self.assertTrue(p.getwelcome().startswith(b"+OK"))
        p.quit()


if __name__ == "__main__":
    unittest.main()
