"""backend.py: a backend node (master + imapd [+ pop3d, lmtpd]) for e2e tests.

    import backend
    class T(backend.BackendTestCase):
        def test_x(self):
            c = self.login("alice")          # imaplib.IMAP4 logged in
            c.select("INBOX")

BackendTestCase starts one node per test class (users alice, bob, carol and
the admin cyrus, each with an INBOX) and stops it afterwards. Passwords are
"<user>-pw"; the admin's is "cyrus-pw".
"""
import imaplib
import os
import subprocess

import harness

USERS = ("alice", "bob", "carol")
ADMIN = "cyrus"


def password(user):
    return "%s-pw" % user


def make_sasldb(path, users, realm):
    for u in users:
        p = subprocess.run(["saslpasswd2", "-p", "-c", "-f", path, "-u", realm,
                            u], input=password(u).encode(),
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if p.returncode != 0:
            raise RuntimeError("saslpasswd2: %s" % p.stderr.decode())


class Backend:
    """A master running imapd (and pop3d/lmtpd when built) on free ports."""

    def __init__(self, name="backend1", imapd=None, users=USERS,
                 services=("imap",)):
        self.name = name
        self.ports = {"imap": harness.free_port()}
        opts = {
            "servername": name,
            "admins": ADMIN,
            "allowplaintext": "yes",
            "unixhierarchysep": "no",
            "altnamespace": "no",
            "sasl_pwcheck_method": "auxprop",
            "sasl_auxprop_plugin": "sasldb",
            "sasl_mech_list": "PLAIN LOGIN",
            "failedloginpause": "0",
        }
        opts.update(imapd or {})
        svcs = [("imap", {"cmd": "imapd",
                          "listen": "127.0.0.1:%d" % self.ports["imap"],
                          "prefork": 1})]
        for svc, cmd in (("pop3", "pop3d"), ("lmtp", "lmtpd -a")):
            if svc in services and os.path.exists(harness.bin_path(cmd.split()[0])):
                self.ports[svc] = harness.free_port()
                svcs.append((svc, {"cmd": cmd,
                                   "listen": "127.0.0.1:%d" % self.ports[svc]}))
        self.master = harness.Master(name=name, imapd=opts, services=svcs)
        self.sasldb = self.master.path("sasldb2")
        self.master.write_imapd_conf({"sasl_sasldb_path": self.sasldb})
        make_sasldb(self.sasldb, list(users) + [ADMIN], name)
        self.users = list(users)

    def start(self):
        self.master.start(ports=list(self.ports.values()))
        admin = self.login(ADMIN)
        for u in self.users:
            typ, data = admin.create("user.%s" % u)
            if typ != "OK":
                raise RuntimeError("CREATE user.%s: %s" % (u, data))
        admin.logout()
        return self

    def connect(self):
        return imaplib.IMAP4("127.0.0.1", self.ports["imap"], timeout=15)

    def login(self, user):
        c = self.connect()
        c.login(user, password(user))
        return c

    def stop(self):
        self.master.stop()

    def cleanup(self):
        self.master.cleanup()


class BackendTestCase(harness.TestCase):
    backend_options = None

    @classmethod
    def setUpClass(cls):
        cls.backend = Backend(imapd=cls.backend_options)
        try:
            cls.backend.start()
        except Exception:
            cls.backend.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.backend.cleanup()

    def login(self, user):
        c = self.backend.login(user)
        self.addCleanup(self._logout, c)
        return c

    @staticmethod
    def _logout(c):
        try:
            c.logout()
        except Exception:
            pass
