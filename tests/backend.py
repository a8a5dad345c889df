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
import re
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


def node_opts(servername):
    """The imapd.conf options every test node starts from: plaintext
    logins checked against its sasldb, the admin, the standard namespace
    with "." as separator, no pause after a failed login."""
    return {
        "servername": servername,
        "admins": ADMIN,
        "allowplaintext": "yes",
        "unixhierarchysep": "no",
        "altnamespace": "no",
        "sasl_pwcheck_method": "auxprop",
        "sasl_auxprop_plugin": "sasldb",
        "sasl_mech_list": "PLAIN LOGIN",
        "failedloginpause": "0",
    }


def frontend_opts(servername, proxy):
    """node_opts() for a frontend that logs in to its backends as the
    proxy user proxy."""
    opts = node_opts(servername)
    opts.update({
        "proxy_authname": proxy,
        "proxy_password": password(proxy),
        "client_timeout": "2s",
    })
    return opts


class Backend:
    """A master running imapd (and pop3d/lmtpd when built) on free ports."""

    def __init__(self, name="backend1", imapd=None, users=USERS,
                 services=("imap",)):
        self.name = name
        self.ports = {"imap": harness.free_port()}
        opts = node_opts(name)
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
        return harness.imap_login(self.ports["imap"], user, password(user))

    def stop(self):
        self.master.stop()

    def cleanup(self):
        self.master.cleanup()


class BackendTestCase(harness.TestCase):
    backend_options = None
    backend_users = USERS
    backend_services = ("imap",)

    @classmethod
    def setUpClass(cls):
        cls.backend = Backend(imapd=cls.backend_options,
                              users=cls.backend_users,
                              services=cls.backend_services)
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
        self.addCleanup(harness.logout_quietly, c)
        return c

    def server_has(self, cmd):
        """Whether the backend knows the IMAP command cmd (sent as the
        admin; only a BAD "unrecognized" reply says no)."""
        c = self.login("cyrus")
        tag = c._new_tag().decode()
        c.send(("%s %s\r\n" % (tag, cmd)).encode())
        while True:
            line = c.readline().decode()
            if line.startswith(tag + " "):
                break
        return not re.match(r"\S+ BAD .*(Unrecognized|unknown)", line, re.I)
