"""test_mixed_murder.py: a murder mixing our servers with Debian's Cyrus 3.6
(issue 7).

(a) our mupdate master + our backend + a Cyrus 3.6 frontend (mupdate slave
    and proxying imapd/pop3d/lmtpd, backends located with bench/gai_shim.c):
    alice's INBOX lives on our backend; everything goes through Cyrus.
(b) our mupdate master + a Cyrus 3.6 backend + our frontend.

Skipped when the Debian packages are missing or not running as root.
"""
import base64
import os
import poplib
import smtplib
import sys
import time
import unittest

import backend
import harness
from mupdatenode import MupdateNode

sys.path.insert(0, os.path.join(harness.TOP, "bench"))
import cyruspeer  # noqa: E402
from cyrusnode import CyrusBackend, CyrusFrontend  # noqa: E402

HAVE_CYRUS = (not cyruspeer.missing_packages() and os.geteuid() == 0)
PROXY = ("murder", backend.password("murder"))
ADMIN = (backend.ADMIN, backend.password(backend.ADMIN))
USERS = ("alice", "bob")

MSG = ("From: Sender <sender@example.org>\r\n"
       "To: alice@example.org\r\n"
       "Subject: %s\r\n"
       "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
       "Message-ID: <%s@example.org>\r\n"
       "\r\n"
       "hello from the mixed murder\r\n")


def msg(subject):
    return (MSG % (subject, subject.replace(" ", "."))).encode()


class OurNode:
    """One master of ours: services [(service, command, extra cyrus.conf
    keys)] each on a free loopback port (self.ports), imapd options opts,
    and a sasldb holding sasl_users."""

    def __init__(self, name, opts, services, sasl_users):
        self.name = name
        self.ports = {svc: harness.free_port() for svc, _, _ in services}
        svcs = [(svc, dict(extra, cmd=cmd,
                           listen="127.0.0.1:%d" % self.ports[svc]))
                for svc, cmd, extra in services]
        self.master = harness.Master(name=name, imapd=opts, services=svcs)
        self.sasldb = self.master.path("sasldb2")
        self.master.write_imapd_conf({"sasl_sasldb_path": self.sasldb})
        backend.make_sasldb(self.sasldb, sasl_users, name)

    def start(self):
        self.master.start(ports=list(self.ports.values()))
        return self

    def login(self, user):
        return harness.imap_login(self.ports["imap"], user,
                                  backend.password(user))


class OurBackend(OurNode):
    """Our imapd, pop3d and lmtpd (AUTH required, for frontends) on one node
    that registers its mailboxes with the mupdate master at master_port."""

    def __init__(self, name, master_port, users=USERS):
        self.users = list(users)
        opts = backend.node_opts(name)
        opts.update({
            "proxyservers": PROXY[0],
            "lmtp_admins": PROXY[0],
            "mupdate_server": "127.0.0.1:%d" % master_port,
            "mupdate_authname": PROXY[0],
            "mupdate_password": PROXY[1],
            "popminpoll": "0",
        })
        super().__init__(name, opts,
                         [("imap", "imapd", {}), ("pop3", "pop3d", {}),
                          ("lmtp", "lmtpd", {})],
                         self.users + [ADMIN[0], PROXY[0]])

    def start(self):
        super().start()
        c = self.login(ADMIN[0])
        for u in self.users:
            typ, data = c.create("user.%s" % u)
            if typ != "OK":
                raise RuntimeError("CREATE user.%s: %s" % (u, data))
        c.logout()
        return self


@unittest.skipUnless(HAVE_CYRUS, "Debian Cyrus murder packages not installed "
                     "(or not root)")
class TestCyrusFrontendOurBackend(harness.NodesTestCase):
    @classmethod
    def start_nodes(cls):
        cls.mm = MupdateNode("mixmaster", admins=(ADMIN[0], PROXY[0]),
                             users=())
        cls.nodes.append(cls.mm)
        cls.mm.start()
        cls.be = OurBackend("ourbe", cls.mm.port)
        cls.nodes.append(cls.be)
        cls.be.start()
        cls.fe = CyrusFrontend(
            cls.mm.port, {"ourbe": cls.be.ports},
            users={u: backend.password(u) for u in USERS},
            proxy=PROXY, admin=ADMIN)
        cls.nodes.append(cls.fe)
        cls.fe.start()
        if not cls.fe.wait_replica("user.alice"):
            raise RuntimeError("Cyrus slave never learned user.alice:\n%s"
                               % cls.mm.master.log_tail())

    def login(self, user):
        c = harness.imap_login(self.fe.ports["imap"], user,
                               backend.password(user))
        self.addCleanup(harness.logout_quietly, c)
        return c

    def fail_with_logs(self, what):
        self.fail("%s\n--- our backend log:\n%s" % (
            what, self.be.master.log_tail(60)))

    def test_replica_points_at_our_backend(self):
        d = self.fe.dump()
        self.assertIn("user.alice", d)
        self.assertIn("\"server\": \"ourbe\"", d)

    def test_login_list_select_fetch_append(self):
        c = self.login("alice")
        typ, data = c.list('""', "*")
        self.assertEqual(typ, "OK", data)
        self.assertIn(b"INBOX", b"\n".join(data))
        typ, data = c.append("INBOX", r"(\Flagged)", None, msg("via cyrus fe"))
        if typ != "OK":
            self.fail_with_logs("APPEND: %s %s" % (typ, data))
        typ, data = c.select("INBOX")
        if typ != "OK":
            self.fail_with_logs("SELECT: %s %s" % (typ, data))
        n = int(data[0])
        self.assertGreaterEqual(n, 1)
        typ, data = c.fetch("1:*", "(UID FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertEqual(typ, "OK", data)
        blob = b"".join(x[1] if isinstance(x, tuple) else x for x in data)
        heads = b"".join(x[0] for x in data if isinstance(x, tuple))
        self.assertIn(b"via cyrus fe", blob)
        self.assertIn(b"\\Flagged", heads)
        typ, data = c.store(str(n), "+FLAGS", r"(\Seen)")
        self.assertEqual(typ, "OK", data)
        self.assertIn(b"\\Seen", data[0])
        # the message really is on our backend
        direct = self.be.login("alice")
        self.addCleanup(harness.logout_quietly, direct)
        typ, data = direct.select("INBOX", readonly=True)
        self.assertEqual(typ, "OK")
        typ, data = direct.search(None, "SUBJECT", '"via cyrus fe"')
        self.assertTrue(data[0].split(), "not on our backend")

    def raw_localappend(self, user, authzid=None):
        """LOCALAPPEND straight to our backend; returns the tagged line."""
        import socket
        with socket.create_connection(("127.0.0.1", self.be.ports["imap"]),
                                      timeout=15) as sk:
            f = sk.makefile("rb")
            f.readline()
            pw = backend.password(user) if user != PROXY[0] else PROXY[1]
            ir = base64.b64encode(("%s\0%s\0%s" % (authzid or user, user, pw))
                                  .encode()).decode()
            body = b"Subject: raw localappend\r\n\r\nhi\r\n"
            sk.sendall(("A1 AUTHENTICATE PLAIN %s\r\n" % ir).encode())
            line = f.readline()
            if not line.startswith(b"A1 OK"):
                return line
            sk.sendall(b'A2 Localappend {5+}\r\nINBOX "" (\\Seen) {%d+}\r\n'
                       % len(body) + body + b"\r\n")
            while True:
                line = f.readline()
                if line.startswith(b"A2 ") or not line:
                    return line

    def test_localappend_only_for_proxies(self):
        self.assertTrue(self.raw_localappend(PROXY[0], "alice")
                        .startswith(b"A2 OK [APPENDUID"))
        self.assertTrue(self.raw_localappend("alice")
                        .startswith(b"A2 BAD"))

    def test_create_through_cyrus_frontend(self):
        c = self.login("alice")
        typ, data = c.create("INBOX.mixsub")
        if typ != "OK":
            self.fail_with_logs("CREATE: %s %s" % (typ, data))
        direct = self.be.login("alice")
        self.addCleanup(harness.logout_quietly, direct)
        names = b"\n".join(direct.list('""', "*")[1])
        self.assertIn(b"INBOX.mixsub", names)
        with self.mm.client() as m:
            e = m.find("user.alice.mixsub")
            self.assertIsNotNone(e)
            self.assertEqual(e[2], "ourbe!default")

    def test_lmtp_via_cyrus_proxy(self):
        with smtplib.LMTP("127.0.0.1", self.fe.ports["lmtp"], timeout=30) as s:
            s.ehlo_or_helo_if_needed()
            refused = s.sendmail("sender@example.org", ["bob"],
                                 msg("lmtp via cyrus"))
            self.assertEqual(refused, {})
        direct = self.be.login("bob")
        self.addCleanup(harness.logout_quietly, direct)
        direct.select("INBOX", readonly=True)
        typ, data = direct.search(None, "SUBJECT", '"lmtp via cyrus"')
        if not data[0].split():
            self.fail_with_logs("LMTP delivery did not reach our backend")

    def test_pop3_via_cyrus_proxy(self):
        # put a message in bob's INBOX directly, read it through Cyrus
        direct = self.be.login("bob")
        self.addCleanup(harness.logout_quietly, direct)
        self.assertEqual(direct.append("INBOX", None, None,
                                       msg("pop via cyrus"))[0], "OK")
        p = poplib.POP3("127.0.0.1", self.fe.ports["pop3"], timeout=30)
        try:
            p.user("bob")
            try:
                p.pass_(backend.password("bob"))
            except poplib.error_proto as e:
                self.fail_with_logs("POP3 PASS: %s" % e)
            count, size = p.stat()
            self.assertGreaterEqual(count, 1)
            found = False
            for i in range(1, count + 1):
                lines = p.top(i, 0)[1]
                if b"Subject: pop via cyrus" in lines:
                    found = True
            self.assertTrue(found)
        finally:
            p.quit()


class OurFrontend(OurNode):
    """Our mupdate slave + imapd/pop3d/lmtpd in frontend role, in front of
    the backends {name: {"imap": port, "pop3": port, "lmtp": port}}."""

    def __init__(self, name, master_port, backends, users=USERS):
        opts = backend.node_opts(name)
        opts.update({
            "mupdate_server": "127.0.0.1:%d" % master_port,
            "mupdate_authname": PROXY[0],
            "mupdate_password": PROXY[1],
            "mupdate_retry_delay": "1",
            "proxy_authname": PROXY[0],
            "proxy_password": PROXY[1],
            "serverlist": " ".join(sorted(backends)),
            "client_timeout": "5s",
        })
        for b, p in backends.items():
            for svc in ("imap", "pop3", "lmtp"):
                opts["%s_%s_addr" % (b, svc)] = "127.0.0.1:%d" % p[svc]
        super().__init__(name, opts,
                         [("mupdate", "mupdate", {"prefork": 1}),
                          ("imap", "imapd", {}), ("pop3", "pop3d", {}),
                          ("lmtp", "lmtpd -a", {})],
                         list(users) + [ADMIN[0]])


@unittest.skipUnless(HAVE_CYRUS, "Debian Cyrus murder packages not installed "
                     "(or not root)")
class TestOurFrontendCyrusBackend(harness.NodesTestCase):
    @classmethod
    def start_nodes(cls):
        cls.mm = MupdateNode("mixmaster2", admins=(ADMIN[0], PROXY[0]),
                             users=())
        cls.nodes.append(cls.mm)
        cls.mm.start()
        cls.be = CyrusBackend(
            cls.mm.port, {}, users={u: backend.password(u) for u in USERS},
            proxy=PROXY, admin=ADMIN)
        cls.nodes.append(cls.be)
        cls.be.start()
        cls.be.create_users()
        cls.fe = OurFrontend("ourfe", cls.mm.port, {
            cls.be.name: {"imap": cls.be.ports["imap"],
                          "pop3": cls.be.ports["pop3"],
                          "lmtp": cls.be.ports["lmtpauth"]}})
        cls.nodes.append(cls.fe)
        cls.fe.start()
        harness.wait_for(cls._replica_has_alice, timeout=20,
                         what="our replica learns user.alice")

    @classmethod
    def _replica_has_alice(cls):
        try:
            c = cls.fe.login("alice")
        except Exception:
            return False
        try:
            return c.select("INBOX")[0] == "OK"
        finally:
            harness.logout_quietly(c)

    def login(self, user):
        c = self.fe.login(user)
        self.addCleanup(harness.logout_quietly, c)
        return c

    def cyrus_login(self, user):
        c = harness.imap_login(self.be.ports["imap"], user,
                               backend.password(user))
        self.addCleanup(harness.logout_quietly, c)
        return c

    def fail_with_logs(self, what):
        self.fail("%s\n--- our frontend log:\n%s" % (
            what, self.fe.master.log_tail(60)))

    def test_master_knows_cyrus_backend(self):
        with self.mm.client() as m:
            e = m.find("user.alice")
            self.assertIsNotNone(e)
            self.assertEqual(e[2], "%s!default" % self.be.name)

    def test_login_list_select_fetch_append(self):
        c = self.login("alice")
        typ, data = c.list('""', "*")
        self.assertEqual(typ, "OK", data)
        self.assertIn(b"INBOX", b"\n".join(data))
        typ, data = c.append("INBOX", r"(\Flagged)", None,
                             msg("via our fe"))
        if typ != "OK":
            self.fail_with_logs("APPEND: %s %s" % (typ, data))
        typ, data = c.select("INBOX")
        if typ != "OK":
            self.fail_with_logs("SELECT: %s %s" % (typ, data))
        n = int(data[0])
        self.assertGreaterEqual(n, 1)
        typ, data = c.fetch(str(n), "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertEqual(typ, "OK", data)
        self.assertIn(b"via our fe", data[0][1])
        self.assertIn(b"\\Flagged", data[0][0])
        # really stored by Cyrus
        direct = self.cyrus_login("alice")
        direct.select("INBOX", readonly=True)
        typ, data = direct.search(None, "SUBJECT", '"via our fe"')
        self.assertTrue(data[0].split(), "not on the Cyrus backend")

    def test_lmtp_via_our_frontend(self):
        with smtplib.LMTP("127.0.0.1", self.fe.ports["lmtp"], timeout=30) as s:
            try:
                refused = s.sendmail("sender@example.org", ["bob"],
                                     msg("lmtp via our fe"))
            except smtplib.SMTPRecipientsRefused as e:
                # until the LMTP proxy lands on main: a temporary failure
                # (the MTA retries), never a bounce
                self.assertEqual(e.recipients["bob"][0], 451, e)
                self.assertIn(b"4.2.1", e.recipients["bob"][1])
                return
            self.assertEqual(refused, {})
        direct = self.cyrus_login("bob")
        direct.select("INBOX", readonly=True)
        typ, data = direct.search(None, "SUBJECT", '"lmtp via our fe"')
        if not data[0].split():
            self.fail_with_logs("LMTP delivery did not reach Cyrus")

    def test_pop3_via_our_frontend(self):
        direct = self.cyrus_login("bob")
        self.assertEqual(direct.append("INBOX", None, None,
                                       msg("pop via our fe"))[0], "OK")
        p = poplib.POP3("127.0.0.1", self.fe.ports["pop3"], timeout=30)
        try:
            p.user("bob")
            try:
                p.pass_(backend.password("bob"))
            except poplib.error_proto as e:
                # until the POP3 proxy lands on main: a temporary error
                if e.args[0].startswith(b"-ERR [SYS/TEMP]"):
                    return
                self.fail_with_logs("POP3 PASS: %s" % e)
            count, _ = p.stat()
            self.assertGreaterEqual(count, 1)
            tops = [b"\n".join(p.top(i, 0)[1]) for i in range(1, count + 1)]
            self.assertTrue(any(b"Subject: pop via our fe" in t for t in tops))
        finally:
            p.quit()


if __name__ == "__main__":
    unittest.main()
