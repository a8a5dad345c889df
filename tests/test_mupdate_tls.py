"""test_mupdate_tls.py: STARTTLS in the MUPDATE master and client
(shared/docs/MUPDATE.md sections 3-4) with a self-signed certificate:
the banner, the handshake and the banner re-sent under TLS, refusals,
our slave and ctl_mboxlist -m (a backend) talking to a TLS-only master,
and Debian's mupdatetest -t when installed."""
import os
import shutil
import ssl
import subprocess
import time
import unittest

import harness
from mupdatenode import MupdateNode
from test_imapd_tls import client_context, make_cert
from test_mupdate import ACL, MupdateTestCase, kick, slave_list

import test_mupdate_interop

ADMIN_PW = "cyrus-pw"


def tls_master(name):
    """A master with tls_server_cert and allowplaintext off: PLAIN is
    offered only after STARTTLS."""
    m = MupdateNode(name, imapd={"allowplaintext": "no"})
    cert, key = make_cert(m.master.dir)
    m.master.write_imapd_conf({"tls_server_cert": cert,
                               "tls_server_key": key})
    return m


def starttls(c):
    """STARTTLS on a MupdateClient; re-reads the banner under TLS.
    Returns the STARTTLS status."""
    st, text, _ = c.cmd("STARTTLS")
    if st != "OK":
        return st
    c.sock = client_context().wrap_socket(c.sock)
    c.file = c.sock.makefile("rb")
    c.caps = []
    c.banner = None
    while True:
        words = c.read_words()
        if words is None:
            raise EOFError("no banner after STARTTLS")
        if words[:3] == [b"*", b"OK", b"MUPDATE"]:
            c.banner = [w.decode() for w in words[3:]]
            return st
        c.caps.append([w.decode() for w in words[1:]])


class TestMasterStartTLS(MupdateTestCase):
    @classmethod
    def setUpClass(cls):
        cls.m = tls_master("tmaster").start()

    @classmethod
    def tearDownClass(cls):
        cls.m.master.cleanup()

    def test_banner_and_handshake(self):
        with self.m.client(auth=False) as c:
            self.assertIn(["STARTTLS"], c.caps)
            # no mechanism usable without TLS
            self.assertIn(["AUTH"], c.caps)
            st, _ = c.authenticate("cyrus", ADMIN_PW)
            self.assertEqual(st, "NO")
            self.assertEqual(starttls(c), "OK")
            self.assertIsInstance(c.sock, ssl.SSLSocket)
            self.assertEqual(c.banner[3], "(master)")
            self.assertNotIn(["STARTTLS"], c.caps)
            self.assertIn(["AUTH", "PLAIN"], c.caps)
            # a second STARTTLS is refused
            st, _, _ = c.cmd("STARTTLS")
            self.assertEqual(st, "BAD")
            st, _ = c.authenticate("cyrus", ADMIN_PW)
            self.assertEqual(st, "OK")
            st, _, _ = c.cmd("ACTIVATE", "user.tls", "be1!default", ACL)
            self.assertEqual(st, "OK")
            self.assertEqual(c.find("user.tls")[2], "be1!default")

    def test_pipelined_plaintext_dropped(self):
        # bytes sent after STARTTLS in plaintext are never executed
        with self.m.client(auth=False) as c:
            c.sock.sendall(b"S1 STARTTLS\r\nX1 NOOP\r\n")
            self.assertEqual(c.read_response("S1"), ("OK",
                             "Begin TLS negotiation now"))
            c.sock = client_context().wrap_socket(c.sock)
            c.file = c.sock.makefile("rb")
            words = c.read_words()
            while words[:3] != [b"*", b"OK", b"MUPDATE"]:
                self.assertNotEqual(words[0], b"X1")
                words = c.read_words()
            st, text, _ = c.cmd("NOOP")
            self.assertEqual((st, text), ("BAD", "Please login first"))

    def test_starttls_after_auth_refused(self):
        with self.m.client(auth=False) as c:
            self.assertEqual(starttls(c), "OK")
            self.assertEqual(c.authenticate("cyrus", ADMIN_PW)[0], "OK")
            st, _, _ = c.cmd("STARTTLS")
            self.assertEqual(st, "BAD")


class TestNoTLS(MupdateTestCase):
    def test_not_advertised_and_refused(self):
        m = self.node("ntmaster").start()
        with m.client(auth=False) as c:
            self.assertNotIn(["STARTTLS"], c.caps)
            st, _, _ = c.cmd("STARTTLS")
            self.assertEqual(st, "NO")
            # still usable in plaintext
            self.assertEqual(c.authenticate("cyrus", ADMIN_PW)[0], "OK")


class TestPeersOverTLS(MupdateTestCase):
    def test_slave_replicates_over_starttls(self):
        m = tls_master("tsmaster")
        self.addCleanup(m.master.cleanup)
        m.start()
        with m.client(auth=False) as c:
            starttls(c)
            c.authenticate("cyrus", ADMIN_PW)
            c.cmd("ACTIVATE", "user.pre", "be1!default", ACL)
            # the slave must use TLS: the master offers nothing without it
            s = self.node("tslave", master_port=m.port).start()
            harness.wait_for(lambda: "user.pre" in slave_list(s),
                             what="initial sync over TLS")
            c.cmd("ACTIVATE", "user.streamed", "be2!default", ACL)
            self.assertTrue(kick(s).startswith(b"ok"))
            self.assertEqual(slave_list(s)["user.streamed"][2],
                             "be2!default")

    def test_slave_with_verified_ca(self):
        # tls_client_ca_file set: the master's certificate is verified
        # against it and its name (test_slave_rejects_unverified_master
        # is the failing counterpart)
        m = tls_master("tvmaster")
        self.addCleanup(m.master.cleanup)
        cert = m.master.path("server.pem")
        m.start()
        with m.client(auth=False) as c:
            starttls(c)
            c.authenticate("cyrus", ADMIN_PW)
            c.cmd("ACTIVATE", "user.v", "be1!default", ACL)
        # the certificate's CN is localhost: connect by that name
        s = self.node("tvslave", master_port=m.port, imapd={
            "tls_client_ca_file": cert})
        s.master.write_imapd_conf({"mupdate_server": "localhost:%d" % m.port})
        s.start()
        harness.wait_for(lambda: "user.v" in slave_list(s),
                         what="sync over verified TLS")

    def test_slave_rejects_unverified_master(self):
        m = tls_master("txmaster")
        self.addCleanup(m.master.cleanup)
        m.start()
        d = os.path.join(m.master.dir, "other")
        os.makedirs(d)
        other_cert, _ = make_cert(d)
        s = self.node("txslave", master_port=m.port, imapd={
            "tls_client_ca_file": other_cert})
        s.master.write_imapd_conf({"mupdate_server": "localhost:%d" % m.port})
        s.start()
        time.sleep(2)
        # never synced: the slave still refuses its clients
        with self.assertRaises(EOFError):
            slave_list(s)

    def test_ctl_mboxlist_push_over_starttls(self):
        m = tls_master("tcmaster")
        self.addCleanup(m.master.cleanup)
        m.start()
        be = harness.Master(name="tcbe1", imapd={
            "servername": "tcbe1",
            "mupdate_server": "127.0.0.1:%d" % m.port,
            "mupdate_authname": "cyrus", "mupdate_password": ADMIN_PW})
        self.addCleanup(shutil.rmtree, be.dir, True)

        def tool(*args, **kw):
            node = MupdateNode.__new__(MupdateNode)
            node.master = be
            return node.tool("ctl_mboxlist", *args, **kw)

        tool("-u", input=("user.a\te\t\tdefault\t" + ACL + "\n").encode())
        tool("-m")
        with m.client(auth=False) as c:
            starttls(c)
            c.authenticate("cyrus", ADMIN_PW)
            self.assertEqual(c.find("user.a"),
                             ("MAILBOX", "user.a", "tcbe1!default", ACL))


@unittest.skipUnless(test_mupdate_interop.HAVE_CYRUS,
                     "Debian Cyrus murder packages not installed")
class TestCyrusMupdatetestTLS(MupdateTestCase):
    def test_mupdatetest_t(self):
        m = tls_master("tcymaster")
        self.addCleanup(m.master.cleanup)
        m.start()
        p = subprocess.run(
            [os.path.join(test_mupdate_interop.CYRUS_BIN, "mupdatetest"),
             "-t", "", "-p", str(m.port), "-a", "cyrus", "-w", ADMIN_PW,
             "-m", "PLAIN", "127.0.0.1"],
            input=b"A1 LIST\r\nA2 LOGOUT\r\n", capture_output=True,
            timeout=30)
        out = p.stdout.decode(errors="replace")
        err = p.stderr.decode(errors="replace")
        self.assertIn("TLS connection established", out + err)
        self.assertIn('A01 OK "Authenticated"', out)
        self.assertIn('A1 OK "list complete"', out)
