"""test_mupdate.py: bin/mupdate (master and slave) and bin/ctl_mboxlist end
to end, with the Python MUPDATE client in mupdateclient.py."""
import os
import shutil
import signal
import socket
import threading
import time

import harness
from mupdateclient import MupdateClient
from mupdatenode import MupdateNode

ACL = "alice\tlrswipkxtecda\t"


class MupdateTestCase(harness.TestCase):
    def node(self, name, **kw):
        n = MupdateNode(name, **kw)
        self.addCleanup(n.master.cleanup)
        return n

    def client(self, node, **kw):
        c = node.client(**kw)
        self.addCleanup(c.close)
        return c


class TestMasterProtocol(MupdateTestCase):
    @classmethod
    def setUpClass(cls):
        cls.m = MupdateNode("mmaster", users=("alice",)).start()

    @classmethod
    def tearDownClass(cls):
        cls.m.master.cleanup()

    def test_banner(self):
        with self.m.client(auth=False) as c:
            self.assertEqual(c.banner[0], "mmaster")
            self.assertEqual(c.banner[3], "(master)")
            self.assertIn(["AUTH", "PLAIN"], c.caps)
            self.assertIn(["PARTIAL-UPDATE"], c.caps)

    def test_preauth_refused(self):
        with self.m.client(auth=False) as c:
            st, text, _ = c.cmd("FIND", "user.x")
            self.assertEqual((st, text), ("BAD", "Please login first"))
            st, _, _ = c.cmd("RESERVE", "user.x", "be1!default")
            self.assertEqual(st, "BAD")

    def test_bad_password(self):
        with self.m.client(auth=False) as c:
            st, _ = c.authenticate("cyrus", "wrong")
            self.assertEqual(st, "NO")
            st, _ = c.authenticate("cyrus", "cyrus-pw")
            self.assertEqual(st, "OK")
            st, text = c.authenticate("cyrus", "cyrus-pw")
            self.assertEqual(st, "BAD")

    def test_non_admin_refused(self):
        with self.m.client(auth=False) as c:
            st, _ = c.authenticate("alice", "alice-pw")
            self.assertEqual(st, "NO")
            st, _, _ = c.cmd("ACTIVATE", "user.evil", "be1!default", ACL)
            self.assertEqual(st, "BAD")
        with self.m.client() as c:
            self.assertIsNone(c.find("user.evil"))

    def test_state_machine(self):
        c = self.client(self.m)
        n = "user.sm"
        self.assertEqual(c.cmd("RESERVE", n, "be1!default")[0], "OK")
        self.assertEqual(c.find(n), ("RESERVE", n, "be1!default"))
        st, text, _ = c.cmd("RESERVE", n, "be2!default")
        self.assertEqual((st, text), ("NO", "mailbox already exists"))
        st, text, _ = c.cmd("DEACTIVATE", n, "be1!default")
        self.assertEqual((st, text), ("NO", "mailbox not currently active"))
        self.assertEqual(c.cmd("ACTIVATE", n, "be1!default", ACL)[0], "OK")
        self.assertEqual(c.find(n), ("MAILBOX", n, "be1!default", ACL))
        st, text, _ = c.cmd("RESERVE", n, "be2!p2")
        self.assertEqual(st, "NO")
        self.assertEqual(c.cmd("DEACTIVATE", n, "be2!p2")[0], "OK")
        self.assertEqual(c.find(n), ("RESERVE", n, "be2!p2"))
        self.assertEqual(c.cmd("DELETE", n)[0], "OK")
        self.assertIsNone(c.find(n))
        st, text, _ = c.cmd("DELETE", n)
        self.assertEqual((st, text), ("NO", "mailbox doesn't exist"))
        st, text, _ = c.cmd("DEACTIVATE", n, "be1!default")
        self.assertEqual((st, text), ("NO", "mailbox doesn't exist"))

    def test_list_prefix(self):
        c = self.client(self.m)
        for i in range(3):
            c.cmd("ACTIVATE", "user.l%d" % i, "lbe1!default", ACL)
        c.cmd("ACTIVATE", "user.l9", "lbe2!default", ACL)
        names = sorted(d[1] for d in c.list("lbe1!"))
        self.assertEqual(names, ["user.l0", "user.l1", "user.l2"])
        self.assertIn("user.l9", [d[1] for d in c.list()])

    def test_parse_errors(self):
        c = self.client(self.m)
        self.assertEqual(c.cmd("FROB")[:2], ("BAD", "Unrecognized command"))
        self.assertEqual(c.cmd("FIND")[:2], ("BAD", "Missing arguments"))
        self.assertEqual(c.cmd("FIND", "a", "b")[:2],
                         ("BAD", "Extra arguments"))
        # still usable afterwards
        self.assertEqual(c.cmd("NOOP")[0], "OK")

    def test_update_stream(self):
        c = self.client(self.m)
        c.cmd("ACTIVATE", "user.s0", "sbe!default", ACL)
        s = self.client(self.m)
        data = []
        tag = s.send_cmd("UPDATE")
        self.assertEqual(s.read_response(tag, data)[0], "OK")
        self.assertIn(("MAILBOX", "user.s0", "sbe!default", ACL), data)
        st, text, _ = s.cmd("FIND", "user.s0")
        self.assertEqual((st, text), ("BAD", "not legal when streaming"))
        c.cmd("ACTIVATE", "user.s1", "sbe!default", ACL)
        c.cmd("DELETE", "user.s0")
        st, _, data = s.cmd("NOOP")
        self.assertEqual(st, "OK")
        self.assertIn(("MAILBOX", "user.s1", "sbe!default", ACL), data)
        self.assertIn(("DELETE", "user.s0"), data)

    def test_partial_update(self):
        c = self.client(self.m)
        s = self.client(self.m)
        tag = s.send_cmd("UPDATE", "pbe1")
        s.read_response(tag, [])
        c.cmd("ACTIVATE", "user.p1", "pbe1!default", ACL)
        c.cmd("ACTIVATE", "user.p2", "pbe2!default", ACL)
        _, _, data = s.cmd("NOOP")
        names = [d[1] for d in data]
        self.assertIn("user.p1", names)
        self.assertNotIn("user.p2", names)

    def test_slow_reader_does_not_stall(self):
        c = self.client(self.m)
        slow = self.client(self.m)
        tag = slow.send_cmd("UPDATE")
        slow.read_response(tag, [])
        # slow never reads again; many changes with big ACLs
        acl = "x" * 4000 + "\tlrs\t"
        t0 = time.monotonic()
        for i in range(300):
            self.assertEqual(
                c.cmd("ACTIVATE", "user.big%d" % i, "sl!default", acl)[0],
                "OK")
        self.assertLess(time.monotonic() - t0, 10)
        with self.m.client() as d:
            self.assertIsNotNone(d.find("user.big299"))

    def test_logout(self):
        c = self.client(self.m)
        st, _, _ = c.cmd("LOGOUT")
        self.assertEqual(st, "OK")
        self.assertIsNone(c.readline())


class TestMasterRestart(MupdateTestCase):
    def test_restart_keeps_table(self):
        m = self.node("mrestart").start()
        with m.client() as c:
            c.cmd("ACTIVATE", "user.keep", "be1!default", ACL)
            c.cmd("RESERVE", "user.res", "be1!default")
        m.master.stop()
        m.start()
        with m.client() as c:
            self.assertEqual(c.find("user.keep"),
                             ("MAILBOX", "user.keep", "be1!default", ACL))
            self.assertEqual(c.find("user.res"),
                             ("RESERVE", "user.res", "be1!default"))


def slave_list(node):
    with node.client() as c:
        return {d[1]: d for d in c.list()}


def kick(node, timeout=10):
    path = os.path.join(node.master.confdir, "socket", "mupdate.target")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
        return s.recv(100)
    finally:
        s.close()


class TestSlave(MupdateTestCase):
    def test_replicates(self):
        m = self.node("smaster").start()
        c = self.client(m)
        c.cmd("ACTIVATE", "user.pre", "be1!default", ACL)
        s = self.node("slave1", master_port=m.port).start()
        harness.wait_for(lambda: "user.pre" in slave_list(s),
                         what="initial sync")
        with s.client(auth=False) as sc:
            self.assertTrue(sc.banner[3].startswith("mupdate://"))
        c.cmd("ACTIVATE", "user.new", "be2!default", ACL)
        self.assertTrue(kick(s).startswith(b"ok"))
        self.assertIn("user.new", slave_list(s))
        c.cmd("ACTIVATE", "user.new", "be2!default", "bob\tlr\t")
        c.cmd("DELETE", "user.pre")
        kick(s)
        lst = slave_list(s)
        self.assertEqual(lst["user.new"],
                         ("MAILBOX", "user.new", "be2!default", "bob\tlr\t"))
        self.assertNotIn("user.pre", lst)
        # FIND on the slave port; writes refused there
        sc = self.client(s)
        self.assertEqual(sc.find("user.new")[2], "be2!default")
        st, text, _ = sc.cmd("ACTIVATE", "user.x", "be1!default", ACL)
        self.assertEqual((st, text), ("BAD", "read-only session"))
        # the local mailboxes.db is the replica
        d = s.dump()
        self.assertEqual(d["user.new"][1:3], ("be2", "default"))
        self.assertNotIn("user.pre", d)

    def test_master_down_keeps_serving_and_resyncs(self):
        m = self.node("dmaster").start()
        c = m.client()
        for i in range(20):
            c.cmd("ACTIVATE", "user.d%d" % i, "be1!default", ACL)
        c.close()
        s = self.node("dslave", master_port=m.port).start()
        harness.wait_for(lambda: len(slave_list(s)) == 20, what="sync")
        m.master.stop()
        time.sleep(1.5)
        self.assertEqual(len(slave_list(s)), 20)
        # kick answers at once while disconnected
        self.assertTrue(kick(s, timeout=5).startswith(b"ok"))
        # change the master's table, usually before the slave reconnects
        # (retry delay 1 s + jitter): the resync or the stream carries it
        m.start()
        with m.client() as c:
            c.cmd("DELETE", "user.d0")
            c.cmd("ACTIVATE", "user.added", "be3!default", ACL)
        harness.wait_for(lambda: "user.added" in slave_list(s)
                         and "user.d0" not in slave_list(s),
                         timeout=20, what="resync after master restart")
        self.assertEqual(len(slave_list(s)), 20)


class TestKill9(MupdateTestCase):
    def test_kill9_during_activates(self):
        m = self.node("kmaster").start()
        s = self.node("kslave", master_port=m.port).start()
        N = 500
        done = threading.Event()
        errors = []

        def writer():
            i = 0
            c = None
            try:
                while i < N:
                    try:
                        if c is None:
                            c = m.client()
                        st, _, _ = c.cmd("ACTIVATE", "user.k%03d" % i,
                                         "be1!default", ACL)
                        if st == "OK":
                            i += 1
                    except (OSError, EOFError, AssertionError):
                        if c:
                            c.close()
                        c = None
                        time.sleep(0.05)
            except Exception as e:  # pragma: no cover
                errors.append(e)
            finally:
                if c:
                    c.close()
                done.set()

        t = threading.Thread(target=writer)
        t.start()
        harness.wait_for(lambda: len(slave_list(s)) >= 50, what="50 on slave")
        pids = m.master.wait_service_count("mupdate", 1)
        m.master.kill(pids[0], signal.SIGKILL)
        # one sample at least: under ASan the writer may be done already
        counts = [len(slave_list(s))]
        while not done.is_set():
            counts.append(len(slave_list(s)))
            time.sleep(0.02)
        t.join()
        self.assertEqual(errors, [])
        self.assertGreater(min(counts), 0, "replica was emptied")
        # the replica only ever grows
        self.assertEqual(counts, sorted(counts))
        with m.client() as c:
            want = {d[1]: d for d in c.list()}
        self.assertEqual(len(want), N)
        harness.wait_for(lambda: slave_list(s) == want, timeout=20,
                         what="replica to converge")


class TestCtlMboxlist(MupdateTestCase):
    def test_push(self):
        m = self.node("cmaster").start()
        be = harness.Master(name="cbe1", imapd={
            "servername": "cbe1",
            "mupdate_server": "127.0.0.1:%d" % m.port,
            "mupdate_authname": "cyrus", "mupdate_password": "cyrus-pw"})
        # never started: remove its files only
        self.addCleanup(shutil.rmtree, be.dir, True)
        local = ["user.a\te\t\tdefault\t" + ACL,
                 "user.b\te\t\tdefault\t" + ACL]

        def tool(*args, **kw):
            node = MupdateNode.__new__(MupdateNode)
            node.master = be
            return node.tool("ctl_mboxlist", *args, **kw)

        tool("-u", input=("\n".join(local) + "\n").encode())
        self.assertEqual(tool("-d").stdout.decode().count("\n"), 2)
        c = self.client(m)
        c.cmd("ACTIVATE", "user.stale", "cbe1!default", ACL)
        c.cmd("ACTIVATE", "user.other", "cbe2!default", ACL)
        out = tool("-m", "-w").stdout.decode()
        self.assertIn("user.stale", out)
        self.assertIsNone(c.find("user.a"))          # dry run
        self.assertIsNotNone(c.find("user.stale"))
        tool("-m")
        self.assertEqual(c.find("user.a"),
                         ("MAILBOX", "user.a", "cbe1!default", ACL))
        self.assertIsNotNone(c.find("user.b"))
        self.assertIsNone(c.find("user.stale"))
        self.assertIsNotNone(c.find("user.other"))
        # a second push changes nothing
        out = tool("-m", "-w").stdout.decode()
        self.assertNotIn("user.a", out)
