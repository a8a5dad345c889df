"""test_mupdate_backend.py: backends hooked to our mupdate master (imapd
with mupdate_server + proxyservers), a frontend slave replica."""
import imaplib

import backend
import harness
from mupdatenode import MupdateNode


def murder_opts(master_port):
    return {"mupdate_server": "127.0.0.1:%d" % master_port,
            "mupdate_authname": "cyrus", "mupdate_password": "cyrus-pw",
            "proxyservers": "proxy"}


class TestBackendPush(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.nodes = []
        try:
            cls.m = MupdateNode("bmaster").start()
            cls.nodes.append(cls.m.master)
            cls.slave = MupdateNode("bslave", master_port=cls.m.port).start()
            cls.nodes.append(cls.slave.master)
            cls.be1 = backend.Backend("be1", users=("alice",),
                                      imapd=murder_opts(cls.m.port))
            cls.nodes.append(cls.be1.master)
            cls.be1.start()
            cls.be2 = backend.Backend("be2", users=("bob",),
                                      imapd=murder_opts(cls.m.port))
            cls.nodes.append(cls.be2.master)
            cls.be2.start()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for n in reversed(cls.nodes):
            n.cleanup()

    def find(self, name, node=None):
        with (node or self.slave).client() as c:
            return c.find(name)

    def sync(self):
        with self.m.client() as c:
            c.cmd("NOOP")
        with self.slave.client() as c:
            c.cmd("NOOP")

    def wait_slave(self, name, present=True):
        harness.wait_for(lambda: (self.find(name) is not None) == present,
                         what="%s %s on the replica" % (
                             name, "present" if present else "gone"))

    def be2_local(self):
        node = MupdateNode.__new__(MupdateNode)
        node.master = self.be2.master
        return node.dump()

    def login(self, be, user):
        c = be.login(user)
        self.addCleanup(lambda: c.logout())
        return c

    def test_1_inboxes_registered(self):
        self.wait_slave("user.alice")
        self.assertEqual(self.find("user.alice", self.m)[2], "be1!default")
        self.assertEqual(self.find("user.bob", self.m)[2], "be2!default")
        self.wait_slave("user.bob")

    def test_2_create_rename_delete(self):
        c = self.login(self.be1, "alice")
        self.assertEqual(c.create("INBOX.proj")[0], "OK")
        self.wait_slave("user.alice.proj")
        e = self.find("user.alice.proj")
        self.assertEqual(e[0], "MAILBOX")
        self.assertEqual(e[2], "be1!default")
        self.assertIn("alice\t", e[3])
        self.assertEqual(c.rename("INBOX.proj", "INBOX.proj2")[0], "OK")
        self.wait_slave("user.alice.proj2")
        self.wait_slave("user.alice.proj", present=False)
        self.assertEqual(c.delete("INBOX.proj2")[0], "OK")
        self.wait_slave("user.alice.proj2", present=False)
        d = self.slave.dump()
        self.assertNotIn("user.alice.proj2", d)
        self.assertEqual(d["user.alice"][1], "be1")

    def test_3_name_held_elsewhere(self):
        admin = self.login(self.be2, "cyrus")
        typ, data = admin.create("user.alice")
        self.assertEqual(typ, "NO")
        self.assertIn(b"reserve", data[0])
        typ, data = admin.create("user.alice.sub")
        # the parent is not local on be2: refused or reserved elsewhere;
        # either way be1 keeps the name space
        self.assertEqual(self.find("user.alice", self.m)[2], "be1!default")
        lst = admin.list('""', "user.alice*")[1]
        self.assertNotIn(b"user.alice\"", b" ".join(x for x in lst if x))
        # rename onto a name be1 holds: refused, the old name stays
        c = self.login(self.be2, "bob")
        self.assertEqual(c.create("INBOX.x")[0], "OK")
        self.wait_slave("user.bob.x")
        a = self.login(self.be1, "alice")
        self.assertEqual(a.create("INBOX.held")[0], "OK")
        typ, _ = admin.rename("user.bob.x", "user.alice.held")
        self.assertEqual(typ, "NO")
        self.assertEqual(self.find("user.bob.x", self.m)[2], "be2!default")
        self.assertEqual(self.find("user.alice.held", self.m)[2],
                         "be1!default")
        self.assertIn("user.bob.x", self.be2_local())

    def test_4_master_down(self):
        c = self.login(self.be1, "alice")
        self.m.master.stop()
        try:
            typ, data = c.create("INBOX.offline")
            self.assertEqual(typ, "NO")
            self.assertIn(b"no connection to server", data[0])
            typ, lst = c.list('""', "INBOX.offline")
            self.assertEqual([x for x in lst if x], [])
            # the replica keeps serving the last list
            self.assertIsNotNone(self.find("user.alice"))
        finally:
            self.m.start()
        # the backend reconnects on the next operation
        self.assertEqual(c.create("INBOX.online")[0], "OK")
        self.wait_slave("user.alice.online")
