"""RENAME with a location through a frontend (MURDER.md section 5):
`RENAME user.alice user.alice backend2!default` becomes XFER on backend1;
a partition-only location becomes `RENAME old old part` on the backend;
old != new with a location is refused."""
import imaplib

import backend
from mupdatenode import MupdateNode
from test_frontend_imap import (BACKEND_OPTS, PROXY, Frontend, msg,
                                mupdate_opts)
import harness

ADMIN = backend.ADMIN


class TestFrontendRename(harness.NodesTestCase):
    @classmethod
    def start_nodes(cls):
        cls.mupdate = MupdateNode("rmaster", admins=(ADMIN,))
        cls.nodes.append(cls.mupdate)
        cls.mupdate.start()
        cls.be = []
        for name, users in (("backend1", ("alice", "bob")),
                            ("backend2", ("carol",))):
            o = dict(BACKEND_OPTS, **mupdate_opts(cls.mupdate))
            o.update({"proxy_authname": ADMIN,
                      "proxy_password": backend.password(ADMIN),
                      "proxyservers": "%s %s" % (PROXY, ADMIN)})
            b = backend.Backend(name=name, users=users, imapd=o)
            backend.make_sasldb(b.sasldb, [PROXY], name)
            cls.be.append(b)
            cls.nodes.append(b)
        for b in cls.be:
            b.master.write_imapd_conf(dict(
                ("%s_imap_addr" % o.name, "127.0.0.1:%d" % o.ports["imap"])
                for o in cls.be))
            b.start()
        cls.fe = Frontend(cls.be, cls.mupdate)
        cls.nodes.append(cls.fe)
        cls.fe.start()
        cls.fe.wait_replica(["user.alice", "user.carol"])

    def admin(self):
        c = self.fe.login(ADMIN)
        self.addCleanup(c.logout)
        return c

    def rename(self, c, *args):
        return c._simple_command("RENAME", *args)

    def test_cross_rename_refused(self):
        typ, data = self.rename(self.admin(), "user.bob", "user.bobby",
                                "backend2!default")
        self.assertEqual(typ, "NO")
        self.assertIn(b"Cross-server or cross-partition move w/rename",
                      data[0])

    def test_same_server_partition_move(self):
        # proxied as "RENAME user.bob user.bob default" to backend1; our
        # backend does not implement partition moves yet and answers
        # ALREADYEXISTS, which must come from the backend, not the frontend
        typ, data = self.rename(self.admin(), "user.bob", "user.bob",
                                "default")
        self.assertNotIn(b"Cross-server", data[0])
        if typ != "OK":
            self.assertIn(b"ALREADYEXISTS", data[0])

    def test_move_alice_to_backend2(self):
        a = self.fe.login("alice")
        for i in range(3):
            self.assertEqual(a.append("INBOX", None, None,
                                      msg("before move %d" % i))[0], "OK")
        a.select("INBOX")
        typ, before = a.uid("FETCH", "1:*", "(UID)")
        a.logout()
        typ, data = self.rename(self.admin(), "user.alice", "user.alice",
                                "backend2!default")
        self.assertEqual(typ, "OK", data)
        with self.mupdate.client() as m:
            e = m.find("user.alice")
        self.assertIn("backend2", str(e))
        a = self.fe.login("alice")
        self.addCleanup(a.logout)
        typ, data = a.select("INBOX")
        self.assertEqual(typ, "OK", data)
        self.assertEqual(int(data[0]), 3)
        typ, after = a.uid("FETCH", "1:*", "(UID)")
        self.assertEqual(before, after)
        d = self.be[1].login(ADMIN)
        self.assertEqual(d.select("user.alice")[0], "OK")
        d.logout()
