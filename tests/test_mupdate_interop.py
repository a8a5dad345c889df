"""test_mupdate_interop.py: our mupdate against Debian's Cyrus 3.6
(cyrus-imapd, cyrus-murder, cyrus-clients): Cyrus's mupdatetest and
ctl_mboxlist -m against our master, our backend against a Cyrus master.
Skipped when the packages are missing."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import backend
import harness
from mupdateclient import MupdateClient
from mupdatenode import MupdateNode

sys.path.insert(0, os.path.join(harness.TOP, "bench"))
import cyruspeer  # noqa: E402

CYRUS_BIN = cyruspeer.CYRUS_BIN
HAVE_CYRUS = (os.path.exists(os.path.join(CYRUS_BIN, "mupdate"))
              and not cyruspeer.missing_packages() and os.geteuid() == 0)


def add_sasl_user(node, user, pw):
    subprocess.run(["saslpasswd2", "-p", "-c", "-f", node.sasldb, "-u",
                    node.name, user], input=pw.encode(), check=True)


@unittest.skipUnless(HAVE_CYRUS, "Debian Cyrus murder packages not installed")
class TestCyrusClientsOnOurMaster(harness.TestCase):
    def test_mupdatetest(self):
        m = MupdateNode("imaster")
        self.addCleanup(m.master.cleanup)
        m.start()
        with m.client() as c:
            c.cmd("ACTIVATE", "user.alice", "be1!default", "alice\tlrs\t")
        p = subprocess.run(
            [os.path.join(CYRUS_BIN, "mupdatetest"), "-p", str(m.port), "-a",
             "cyrus", "-w", "cyrus-pw", "-m", "PLAIN", "127.0.0.1"],
            input=b"A1 FIND user.alice\r\nA2 LIST\r\nA3 LOGOUT\r\n",
            capture_output=True, timeout=30)
        out = p.stdout.decode(errors="replace")
        self.assertIn('A01 OK "Authenticated"', out)
        self.assertIn('A1 OK "Search completed"', out)
        self.assertIn("be1!default", out)
        self.assertIn('A2 OK "list complete"', out)

    def test_cyrus_backend_pushes_to_our_master(self):
        m = MupdateNode("imaster2", admins=("cyrus", "murder"))
        self.addCleanup(m.master.cleanup)
        add_sasl_user(m, "murder", cyruspeer.PROXY[1])
        m.start()
        peer = cyruspeer.CyrusPeer("murder")
        self.addCleanup(lambda: (peer.stop(), shutil.rmtree(peer.dir, True)))
        info = peer.start()
        be = [b for b in info["backends"] if b["name"] == "backend1"][0]
        with open(be["imapd_conf"]) as f:
            lines = [l for l in f if not l.startswith("mupdate_server:")]
        conf = os.path.join(peer.dir, "backend1", "imapd-ours.conf")
        with open(conf, "w") as f:
            f.writelines(lines)
            f.write("mupdate_server: 127.0.0.1:%d\n" % m.port)
        os.chmod(conf, 0o644)
        p = subprocess.run(
            ["setpriv", "--reuid=cyrus", "--regid=mail", "--init-groups",
             os.path.join(CYRUS_BIN, "ctl_mboxlist"), "-C", conf, "-m"],
            capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace"))
        with m.client() as c:
            e = c.find("user.alice")
            self.assertIsNotNone(e, m.master.log_tail())
            self.assertEqual(e[:3], ("MAILBOX", "user.alice",
                                     "backend1!default"))
            names = [d[1] for d in c.list("backend1!")]
            self.assertIn("user.carol", names)
            self.assertNotIn("user.bob", names)   # on backend2


@unittest.skipUnless(HAVE_CYRUS, "Debian Cyrus murder packages not installed")
class TestOurBackendOnCyrusMaster(harness.TestCase):
    def test_backend_and_ctl_mboxlist_push(self):
        peer = cyruspeer.CyrusPeer("murder")
        self.addCleanup(lambda: (peer.stop(), shutil.rmtree(peer.dir, True)))
        info = peer.start()
        port = info["mupdate"]["port"]
        user, pw = cyruspeer.PROXY
        be = backend.Backend("ourbe", users=("zed",), imapd={
            "mupdate_server": "127.0.0.1:%d" % port,
            "mupdate_authname": user, "mupdate_password": pw,
            "proxyservers": "proxy"})
        self.addCleanup(be.cleanup)
        be.start()   # CREATE user.zed through the Cyrus master
        c = MupdateClient(port)
        self.addCleanup(c.close)
        self.assertEqual(c.authenticate(user, pw)[0], "OK")
        e = c.find("user.zed")
        self.assertEqual(e[:3], ("MAILBOX", "user.zed", "ourbe!default"))
        a = be.login("zed")
        self.assertEqual(a.create("INBOX.sub")[0], "OK")
        self.assertEqual(c.find("user.zed.sub")[2], "ourbe!default")
        # a name a Cyrus backend holds cannot be created here
        admin = be.login("cyrus")
        self.assertEqual(admin.create("user.alice")[0], "NO")
        self.assertEqual(c.find("user.alice")[2], "backend1!default")
        # ctl_mboxlist -m: remove the master's entry, push it back
        self.assertEqual(c.cmd("DELETE", "user.zed.sub")[0], "OK")
        env = dict(os.environ, CYRUS_LOGFILE=be.master.logfile)
        p = subprocess.run([harness.bin_path("ctl_mboxlist"), "-C",
                            be.master.imapd_conf, "-m"], env=env,
                           capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace"))
        self.assertEqual(c.find("user.zed.sub")[2], "ourbe!default")
        a.logout()
        admin.logout()

    def test_ctl_mboxlist_push_beyond_cyrus_output_buffer(self):
        """21,000 ACTIVATEs to Cyrus's master (one synced commit each,
        ~35 s) with the windowed client: every answer OK, every name
        listed. (Loopback socket buffers absorb this many answers even
        for a client that sends everything first; the deadlock itself is
        shown by cunit/mupdate_client.testc.)"""
        n = 21000
        peer = cyruspeer.CyrusPeer("murder")
        self.addCleanup(lambda: (peer.stop(), shutil.rmtree(peer.dir, True)))
        info = peer.start()
        port = info["mupdate"]["port"]
        user, pw = cyruspeer.PROXY
        be = harness.Master(name="pushbe", imapd={
            "servername": "pushbe", "mupdate_server": "127.0.0.1:%d" % port,
            "mupdate_authname": user, "mupdate_password": pw})
        self.addCleanup(shutil.rmtree, be.dir, True)  # never started
        env = dict(os.environ, CYRUS_LOGFILE=be.logfile)
        lines = "".join("user.p%06d\te\t\tdefault\tanyone\tlrs\t\n" % i
                        for i in range(n))
        for args, inp in ((["-u"], lines.encode()), (["-m", "-a"], None)):
            p = subprocess.run([harness.bin_path("ctl_mboxlist"), "-C",
                                be.imapd_conf] + args, input=inp, env=env,
                               capture_output=True, timeout=120)
            self.assertEqual(p.returncode, 0,
                             p.stderr.decode(errors="replace"))
        c = MupdateClient(port)
        self.addCleanup(c.close)
        self.assertEqual(c.authenticate(user, pw)[0], "OK")
        names = [d[1] for d in c.list("pushbe!")]
        self.assertEqual(len(names), n)
        self.assertEqual(c.find("user.p%06d" % (n - 1))[2], "pushbe!default")
