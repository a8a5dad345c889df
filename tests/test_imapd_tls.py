"""imapd TLS end to end: STARTTLS and imaps (imapd -s) with a self-signed
certificate made here, LOGINDISABLED / PRIVACYREQUIRED before TLS when
allowplaintext is off, and COMPRESS=DEFLATE (RFC 4978)."""
import imaplib
import os
import socket
import ssl
import subprocess
import zlib

import backend
import harness


def make_cert(dirpath):
    cert = os.path.join(dirpath, "server.pem")
    key = os.path.join(dirpath, "server.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-keyout", key, "-out", cert], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def client_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class TLSBackend(backend.Backend):
    """A backend with imap (STARTTLS) and imaps, allowplaintext off."""

    def __init__(self):
        super().__init__(name="tlsnode", imapd={"allowplaintext": "no"})
        cert, key = make_cert(self.master.dir)
        self.master.write_imapd_conf({"tls_server_cert": cert,
                                      "tls_server_key": key})
        self.ports["imaps"] = harness.free_port()
        self.master.write_cyrus_conf(services=[
            ("imap", {"cmd": "imapd", "prefork": 1,
                      "listen": "127.0.0.1:%d" % self.ports["imap"]}),
            ("imaps", {"cmd": "imapd -s",
                       "listen": "127.0.0.1:%d" % self.ports["imaps"]}),
        ])

    def login(self, user):
        c = imaplib.IMAP4_SSL("127.0.0.1", self.ports["imaps"],
                              ssl_context=client_context(), timeout=15)
        c.login(user, backend.password(user))
        return c


class TestTLS(backend.BackendTestCase):
    @classmethod
    def setUpClass(cls):
        cls.backend = TLSBackend()
        try:
            cls.backend.start()
        except Exception:
            cls.backend.cleanup()
            raise

    def test_plaintext_refused_before_tls(self):
        c = imaplib.IMAP4("127.0.0.1", self.backend.ports["imap"], timeout=15)
        self.addCleanup(harness.logout_quietly, c)
        self.assertIn("STARTTLS", c.capabilities)
        self.assertIn("LOGINDISABLED", c.capabilities)
        # imaplib itself refuses LOGIN once LOGINDISABLED is advertised
        with self.assertRaises(imaplib.IMAP4.error):
            c.login("alice", "alice-pw")

    def test_login_tagged_no_privacyrequired(self):
        s = socket.create_connection(("127.0.0.1", self.backend.ports["imap"]),
                                     timeout=15)
        self.addCleanup(s.close)
        f = s.makefile("rb")
        f.readline()
        s.sendall(b"a LOGIN alice alice-pw\r\nb NOOP\r\n")
        ln = f.readline()
        self.assertRegex(ln, rb"^a NO \[PRIVACYREQUIRED\]")
        self.assertRegex(f.readline(), rb"^b OK")

    def test_starttls_then_login(self):
        c = imaplib.IMAP4("127.0.0.1", self.backend.ports["imap"], timeout=15)
        self.addCleanup(harness.logout_quietly, c)
        typ, _ = c.starttls(ssl_context=client_context())
        self.assertEqual(typ, "OK")
        self.assertNotIn("STARTTLS", c.capabilities)
        self.assertNotIn("LOGINDISABLED", c.capabilities)
        self.assertEqual(c.login("alice", "alice-pw")[0], "OK")
        typ, data = c.select("INBOX")
        self.assertEqual(typ, "OK")

    def test_starttls_discards_pipelined(self):
        s = socket.create_connection(("127.0.0.1", self.backend.ports["imap"]),
                                     timeout=15)
        self.addCleanup(s.close)
        f = s.makefile("rb")
        f.readline()
        # RFC 3501 6.2.1: the NOOP sent in clear after STARTTLS is dropped
        s.sendall(b"a STARTTLS\r\nb NOOP\r\n")
        self.assertRegex(f.readline(), rb"^a OK")
        ts = client_context().wrap_socket(s, server_hostname="localhost")
        ts.sendall(b"c NOOP\r\n")
        tf = ts.makefile("rb")
        self.assertRegex(tf.readline(), rb"^c OK")

    def test_imaps(self):
        c = self.backend.login("bob")
        self.addCleanup(harness.logout_quietly, c)
        self.assertEqual(c.select("INBOX")[0], "OK")
        typ, data = c.capability()
        self.assertIn(b"COMPRESS=DEFLATE", data[0])
        self.assertNotIn(b"STARTTLS", data[0])

    def test_compress_deflate_over_tls(self):
        ctx = client_context()
        raw = socket.create_connection(("127.0.0.1",
                                        self.backend.ports["imaps"]),
                                       timeout=15)
        s = ctx.wrap_socket(raw, server_hostname="localhost")
        self.addCleanup(s.close)
        f = s.makefile("rb")
        f.readline()
        s.sendall(b"a LOGIN carol carol-pw\r\n")
        while not f.readline().startswith(b"a "):
            pass
        s.sendall(b"b COMPRESS DEFLATE\r\n")
        self.assertRegex(f.readline(), rb"^b OK")
        comp = zlib.compressobj(6, zlib.DEFLATED, -15)
        decomp = zlib.decompressobj(-15)

        def send(data):
            s.sendall(comp.compress(data) + comp.flush(zlib.Z_SYNC_FLUSH))

        def read_tagged(tag):
            out = b""
            while not any(ln.startswith(tag + b" ")
                          for ln in out.split(b"\r\n")):
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += decomp.decompress(chunk)
            return out

        send(b"c SELECT INBOX\r\n")
        self.assertIn(b"c OK", read_tagged(b"c"))
        send(b"d COMPRESS DEFLATE\r\n")
        self.assertIn(b"d NO [COMPRESSIONACTIVE]", read_tagged(b"d"))
        msg = b"Subject: zipped\r\n\r\n" + b"compressible " * 500 + b"\r\n"
        send(b"e APPEND INBOX {%d+}\r\n%s\r\n" % (len(msg), msg))
        self.assertIn(b"e OK", read_tagged(b"e"))
        send(b"f CAPABILITY\r\n")
        caps = read_tagged(b"f")
        self.assertNotIn(b"COMPRESS=DEFLATE", caps)
        send(b"g LOGOUT\r\n")
        self.assertIn(b"* BYE", read_tagged(b"g"))

    def test_compress_plain_connection(self):
        c = imaplib.IMAP4("127.0.0.1", self.backend.ports["imap"], timeout=15)
        self.addCleanup(harness.logout_quietly, c)
        c.starttls(ssl_context=client_context())
        c.login("alice", "alice-pw")
        imaplib.Commands.setdefault("COMPRESS", ("AUTH", "SELECTED"))
        typ, data = c._simple_command("COMPRESS", "FOO")
        self.assertEqual(typ, "NO")
        typ, data = c.noop()
        self.assertEqual(typ, "OK")
