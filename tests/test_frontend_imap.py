"""Frontend IMAP proxy end to end: two backends and one frontend on loopback.

backend1 holds user.alice and user.bob, backend2 user.carol plus
user.alice.Remote (a child of alice's INBOX on the other backend) and
shared.b2. The backends push their mailbox lists to a mupdate master
(bin/mupdate -m); the frontend runs the mupdate slave, whose replica is the
frontend's mailboxes.db. Each backend's imapd trusts the frontend's proxy
user ("murder") through `proxyservers`; the frontend finds the backends
through the `<server>_imap_addr` options.
"""
import hashlib
import imaplib
import os
import re
import socket
import threading
import time

import backend
import harness
import rawimap
from mupdatenode import MupdateNode

PROXY = "murder"

MSG = ("From: Alice <alice@example.com>\r\n"
       "To: Bob <bob@example.com>\r\n"
       "Subject: %s\r\n"
       "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
       "Message-ID: <%s@example.com>\r\n"
       "\r\n"
       "%s\r\n")


def msg(subject, body="hello world"):
    return (MSG % (subject, subject.replace(" ", "."), body)).encode()


# Mailboxes the admin creates for a user without a parent on that backend
# get `defaultacl`; the owner's full rights come from implicit_owner_rights.
ACL_OPTS = {"defaultacl": "cyrus lrswipkxtecdan",
            "implicit_owner_rights": "lrswipkxtecdan"}
# maxmessagesize: room for test_big_append_streamed's 20 MB message
BACKEND_OPTS = dict(ACL_OPTS, proxyservers=PROXY, allowallsubscribe="1",
                    maxmessagesize="64M")
# every replica entry the class fixture creates
FIXTURE = ("user.alice", "user.bob", "user.carol", "user.alice.Remote",
           "shared.b2")


def mupdate_opts(master):
    return {"mupdate_server": "127.0.0.1:%d" % master.port,
            "mupdate_authname": backend.ADMIN,
            "mupdate_password": backend.password(backend.ADMIN),
            "mupdate_retry_delay": "1"}


def start_backend(name, users, master):
    b = backend.Backend(name=name, users=users,
                        imapd=dict(BACKEND_OPTS, **mupdate_opts(master)))
    backend.make_sasldb(b.sasldb, [PROXY], name)
    b.start()
    return b


class Frontend:
    """imapd in the frontend role plus the mupdate slave keeping its
    replica."""

    def __init__(self, backends, master):
        self.port = harness.free_port()
        self.mupdate_port = harness.free_port()
        opts = backend.frontend_opts("frontend1", PROXY)
        opts["serverlist"] = " ".join(b.name for b in backends)
        opts.update(ACL_OPTS)
        opts["maxmessagesize"] = "64M"
        opts.update(mupdate_opts(master))
        for b in backends:
            opts["%s_imap_addr" % b.name] = "127.0.0.1:%d" % b.ports["imap"]
        self.master = harness.Master(
            name="frontend1", imapd=opts,
            services=[("mupdate", {"cmd": "mupdate", "prefork": 1,
                                   "listen": "127.0.0.1:%d" % self.mupdate_port}),
                      ("imap", {"cmd": "imapd",
                                "listen": "127.0.0.1:%d" % self.port})])
        sasldb = self.master.path("sasldb2")
        self.master.write_imapd_conf({"sasl_sasldb_path": sasldb})
        backend.make_sasldb(sasldb, list(backend.USERS) + [backend.ADMIN],
                            "frontend1")

    def start(self):
        self.master.start(ports=[self.mupdate_port, self.port])

    def login(self, user):
        return harness.imap_login(self.port, user, backend.password(user))

    def names(self):
        """Every name of the replica (LIST as the admin)."""
        c = self.login(backend.ADMIN)
        try:
            typ, data = c.list('""', "*")
            return {d.decode().rsplit(" ", 1)[-1].strip('"')
                    for d in data if d}
        finally:
            c.logout()

    def wait_replica(self, names):
        harness.wait_for(lambda: set(names) <= self.names(),
                         what="%s in the frontend's replica" % " ".join(names))


class TestFrontendImap(harness.NodesTestCase):
    @classmethod
    def start_nodes(cls):
        cls.mupdate = MupdateNode("mmaster", admins=(backend.ADMIN,))
        cls.nodes.append(cls.mupdate)
        cls.mupdate.start()
        cls.b1 = start_backend("backend1", ("alice", "bob"), cls.mupdate)
        cls.nodes.append(cls.b1)
        cls.b2 = start_backend("backend2", ("carol",), cls.mupdate)
        cls.nodes.append(cls.b2)
        admin = cls.b2.login(backend.ADMIN)
        for name in ("user.alice.Remote", "shared.b2"):
            typ, data = admin.create(name)
            if typ != "OK":
                raise RuntimeError("CREATE %s: %s" % (name, data))
        admin.logout()
        cls.fe = Frontend([cls.b1, cls.b2], cls.mupdate)
        cls.nodes.append(cls.fe)
        cls.fe.start()
        cls.fe.wait_replica(FIXTURE)

    def login(self, user):
        c = self.fe.login(user)
        self.addCleanup(harness.logout_quietly, c)
        return c

    def fresh(self, c, mailbox, server):
        """Create a mailbox directly on a backend as the admin; the backend
        tells the mupdate master, whose slave updates the replica."""
        node = self.b1 if server == "backend1" else self.b2
        a = node.login(backend.ADMIN)
        self.assertEqual(a.create(mailbox)[0], "OK")
        a.logout()
        self.fe.wait_replica([mailbox])

    # ---- tests -------------------------------------------------------

    def test_login_and_capability(self):
        c = self.fe.login("alice")
        typ, data = c.capability()
        self.assertEqual(typ, "OK")
        self.assertIn(b"IMAP4rev1", data[0])
        c.logout()
        bad = imaplib.IMAP4("127.0.0.1", self.fe.port, timeout=15)
        with self.assertRaises(imaplib.IMAP4.error):
            bad.login("alice", "wrong")
        bad.logout()

    def test_list_from_replica_with_acl(self):
        c = self.login("alice")
        typ, data = c.list('""', "*")
        self.assertEqual(typ, "OK")
        names = b"\n".join(data).decode()
        self.assertIn("INBOX", names)
        self.assertIn("INBOX.Remote", names)
        self.assertNotIn("user.bob", names)
        bob = self.login("bob")
        names = b"\n".join(bob.list('""', "*")[1]).decode()
        self.assertIn("INBOX", names)
        self.assertNotIn("Remote", names)

    def test_select_fetch_store_search_both_backends(self):
        c = self.login("alice")
        for box in ("INBOX", "INBOX.Remote"):
            self.assertEqual(c.append(box, r"(\Flagged)", None,
                                      msg("hello %s" % box))[0], "OK")
            typ, data = c.select(box)
            self.assertEqual(typ, "OK", data)
            n = int(data[0])
            self.assertGreaterEqual(n, 1)
            typ, data = c.fetch(str(n), "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            self.assertEqual(typ, "OK")
            self.assertIn(("hello %s" % box).encode(), data[0][1])
            self.assertIn(b"\\Flagged", data[0][0])
            typ, data = c.store(str(n), "+FLAGS", r"(\Answered)")
            self.assertEqual(typ, "OK")
            self.assertIn(b"\\Answered", data[0])
            typ, data = c.search(None, "SUBJECT", '"hello %s"' % box)
            self.assertEqual(typ, "OK")
            self.assertIn(str(n).encode(), data[0].split())
            typ, data = c.uid("FETCH", "1:*", "(UID)")
            self.assertEqual(typ, "OK")
            self.assertTrue(data and data[0])

    def test_idle_through_frontend(self):
        c = self.login("alice")
        c.create  # noqa: imaplib API presence
        self.assertEqual(c.select("INBOX.Remote")[0], "OK")
        sock = c.socket()
        c.send(b"i1 IDLE\r\n")
        self.assertTrue(c.readline().startswith(b"+"))
        other = self.b2.login(backend.ADMIN)
        other.append("user.alice.Remote", None, None, msg("during idle"))
        other.logout()
        sock.settimeout(5)
        line = c.readline()
        self.assertRegex(line, rb"^\* \d+ EXISTS")
        c.send(b"DONE\r\n")
        while True:
            line = c.readline()
            if line.startswith(b"i1 "):
                break
        self.assertTrue(line.startswith(b"i1 OK"), line)
        self.assertEqual(c.noop()[0], "OK")

    def test_pipelined_appends_and_fetches(self):
        """64 APPENDs (LITERAL+) and then selected-state commands sent in
        one write: every tagged reply arrives, in order, each OK."""
        c = self.login("bob")
        self.fresh(c, "user.bob.Pipe", "backend1")
        sock = c.socket()
        out = b""
        for i in range(64):
            m = msg("pipe %d" % i)
            out += b"p%d APPEND INBOX.Pipe {%d+}\r\n%s\r\n" % (i, len(m), m)
        out += b"s1 SELECT INBOX.Pipe\r\n"
        for i in range(16):
            out += b"f%d FETCH 1:* (FLAGS)\r\nn%d NOOP\r\n" % (i, i)
        sock.sendall(out)
        tags, fetches = [], 0
        while len(tags) < 64 + 1 + 32:
            line = c.readline()
            self.assertTrue(line, "connection closed")
            if line.startswith(b"* ") and b" FETCH " in line:
                fetches += 1
            elif not line.startswith(b"*"):
                tag, status = line.split(b" ", 2)[:2]
                self.assertEqual(status, b"OK", line)
                tags.append(tag.decode())
        want = (["p%d" % i for i in range(64)] + ["s1"]
                + [t for i in range(16) for t in ("f%d" % i, "n%d" % i)])
        self.assertEqual(tags, want)
        self.assertEqual(fetches, 16 * 64)
        self.assertEqual(c.noop()[0], "OK")

    def test_append_to_either_backend(self):
        c = self.login("carol")
        self.fresh(c, "user.carol.Drafts", "backend2")
        self.assertEqual(c.append("INBOX.Drafts", None, None,
                                  msg("carol draft"))[0], "OK")
        a = self.login("alice")
        typ, data = a.append("INBOX", r"(\Seen)", None, msg("to b1"))
        self.assertEqual(typ, "OK")
        self.assertRegex(data[0].decode(), r"APPENDUID \d+ \d+")
        typ, data = a.append("INBOX.Remote", None, None, msg("to b2"))
        self.assertEqual(typ, "OK")
        direct = self.b2.login(backend.ADMIN)
        typ, data = direct.select("user.alice.Remote")
        typ, data = direct.search(None, "SUBJECT", '"to b2"')
        self.assertTrue(data[0].split())
        direct.logout()

    def test_big_append_streamed(self):
        """A 20 MB APPEND through the frontend arrives byte-identical, and
        the frontend never holds it in memory: it is spooled to a file
        and sent on in chunks (issue 7), so the serving process's peak RSS
        grows by far less than the message."""
        size = 20 * 1024 * 1024
        line = b"%07d the quick brown fox jumps over the lazy dog 0123456789\r\n"
        body = b"".join(line % i for i in range(size // len(line % 0) + 1))
        big = msg("big streamed").rstrip(b"\r\n") + b"\r\n" + body[:size]
        c = self.login("alice")
        pid = rawimap.server_pid(self.fe.master, c.sock)
        hwm0 = rawimap.proc_status(pid, "VmHWM")
        typ, data = c.append("INBOX", None, None, big)
        self.assertEqual(typ, "OK", data)
        uid = re.search(rb"APPENDUID \d+ (\d+)", data[0]).group(1)
        hwm1 = rawimap.proc_status(pid, "VmHWM")
        # the old path (stage mapped, then copied into one buffer) grew
        # by about twice the message
        self.assertLess(hwm1 - hwm0, 4 * 1024,
                        "frontend VmHWM %d -> %d kB" % (hwm0, hwm1))
        direct = self.b1.login(backend.ADMIN)
        try:
            self.assertEqual(direct.select("user.alice", readonly=True)[0],
                             "OK")
            typ, data = direct.uid("FETCH", uid.decode(), "(BODY.PEEK[])")
            self.assertEqual(typ, "OK")
            got = data[0][1]
        finally:
            direct.logout()
        self.assertEqual(len(got), len(big))
        self.assertEqual(hashlib.sha1(got).hexdigest(),
                         hashlib.sha1(big).hexdigest())

    def _move_or_copy(self, verb):
        src, dst = "INBOX.%sSrc" % verb, "INBOX.%sDst" % verb
        c = self.login("alice")
        self.fresh(c, "user.alice.%sSrc" % verb, "backend1")
        self.fresh(c, "user.alice.%sDst" % verb, "backend2")
        date = '"17-Jul-1996 02:44:25 -0700"'
        self.assertEqual(c.append(src, r"(\Flagged $Work)", date,
                                  msg("%s one" % verb))[0], "OK")
        self.assertEqual(c.append(src, r"(\Seen)", date,
                                  msg("%s two" % verb))[0], "OK")
        self.assertEqual(c.select(src)[0], "OK")
        typ, data = c.uid(verb, "1:*", dst)
        self.assertEqual(typ, "OK", data)
        self.assertEqual(c.select(dst)[0], "OK")
        typ, data = c.fetch("1:*", "(FLAGS INTERNALDATE BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertEqual(typ, "OK")
        parts = [d for d in data if isinstance(d, tuple)]
        self.assertEqual(len(parts), 2)
        first = parts[0][0].decode()
        self.assertIn("\\Flagged", first)
        self.assertIn("$Work", first)
        want = time.mktime(imaplib.Internaldate2tuple(
            ('INTERNALDATE %s' % date).encode()))
        m = re.search(r'INTERNALDATE ("[^"]+")', first)
        self.assertEqual(time.mktime(imaplib.Internaldate2tuple(
            ("INTERNALDATE %s" % m.group(1)).encode())), want)
        self.assertIn(b"%s one" % verb.encode(), parts[0][1])
        self.assertIn("\\Seen", parts[1][0].decode())
        typ, data = c.select(src)
        return int(data[0])

    def test_copy_across_backends(self):
        self.assertEqual(self._move_or_copy("COPY"), 2)

    def test_move_across_backends(self):
        self.assertEqual(self._move_or_copy("MOVE"), 0)

    def test_create_then_select_at_once(self):
        c = self.login("alice")
        for name in ("INBOX.Kicked", "INBOX.Remote.Kicked"):
            self.assertEqual(c.create(name)[0], "OK")
            # the frontend kicked its slave before answering CREATE: LIST
            # (answered from the replica, no kick of its own) has it
            self.assertIn(name, b"\n".join(c.list('""', "*")[1]).decode())
            self.assertEqual(c.select(name)[0], "OK")
        self.assertEqual(c.rename("INBOX.Kicked", "INBOX.Kicked2")[0], "OK")
        self.assertEqual(c.select("INBOX.Kicked2")[0], "OK")
        self.assertEqual(c.close()[0], "OK")
        for name in ("INBOX.Kicked2", "INBOX.Remote.Kicked"):
            self.assertEqual(c.delete(name)[0], "OK")
            self.assertEqual(c.select(name)[0], "NO")

    def test_status(self):
        c = self.login("alice")
        typ, data = c.status("INBOX.Remote", "(MESSAGES)")
        self.assertEqual(typ, "OK", data)
        self.assertIn(b"MESSAGES", data[0])
        typ, data = c.status("user.bob", "(MESSAGES)")
        self.assertEqual(typ, "NO")

    def test_z_backend_down(self):
        # runs last (name order): kills backend2
        c = self.login("alice")
        self.assertEqual(c.select("INBOX.Remote")[0], "OK")
        self.assertEqual(c.select("INBOX")[0], "OK")
        self.b2.master.stop()
        t0 = time.time()
        typ, data = c.status("INBOX.Remote", "(MESSAGES)")
        self.assertLess(time.time() - t0, 1.0)
        self.assertEqual(typ, "NO")
        self.assertIn(b"[UNAVAILABLE]", data[0])
        fresh = self.login("alice")
        t0 = time.time()
        typ, data = fresh.select("INBOX.Remote")
        self.assertLess(time.time() - t0, 1.0)
        self.assertEqual(typ, "NO")
        self.assertIn(b"[UNAVAILABLE]", data[0])
        # backend1 keeps working
        self.assertEqual(fresh.select("INBOX")[0], "OK")
        self.assertEqual(fresh.fetch("1:*", "(FLAGS)")[0], "OK")
        self.assertEqual(c.noop()[0], "OK")
