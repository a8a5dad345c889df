"""mailfrontend.py: two backends (imapd, pop3d, lmtpd) and a frontend running
pop3d and lmtpd in the frontend role, for test_frontend_pop3/_lmtp.

backend1 holds alice and bob, backend2 carol. The frontend's replica is filled
with bin/mbreplica (as tests/test_frontend_imap.py does); it finds the backends
through `<server>_pop3_addr` / `_lmtp_addr`. The frontend's lmtpd runs with -a
(the MTA needs no AUTH); it authenticates to the backends as the proxy user,
which the backends trust through `proxyservers` and `lmtp_admins`.
"""
import os
import subprocess

import backend
import harness

PROXY = "murder"
BACKEND_OPTS = {"defaultacl": "cyrus lrswipkxtecdan",
                "implicit_owner_rights": "lrswipkxtecdan",
                "proxyservers": PROXY, "lmtp_admins": PROXY}


def start_backend(name, users):
    b = backend.Backend(name=name, users=users, imapd=BACKEND_OPTS,
                        services=("imap", "pop3", "lmtp"))
    backend.make_sasldb(b.sasldb, [PROXY], name)
    # lmtpd without -a: the frontend must AUTH as an `lmtp_admins` member
    b.master.write_cyrus_conf(services=[
        ("imap", {"cmd": "imapd", "prefork": 1,
                  "listen": "127.0.0.1:%d" % b.ports["imap"]}),
        ("pop3", {"cmd": "pop3d",
                  "listen": "127.0.0.1:%d" % b.ports["pop3"]}),
        ("lmtp", {"cmd": "lmtpd",
                  "listen": "127.0.0.1:%d" % b.ports["lmtp"]})])
    b.start()
    return b


def replicate(src, server, dst):
    out = subprocess.run([harness.bin_path("mbreplica"),
                          src.master.imapd["configdirectory"], server,
                          dst.imapd["configdirectory"]],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if out.returncode != 0:
        raise RuntimeError("mbreplica: %s" % out.stderr.decode())


class MailFrontend:
    def __init__(self, backends):
        self.ports = {"pop3": harness.free_port(), "lmtp": harness.free_port()}
        opts = backend.frontend_opts("frontend1", PROXY)
        opts["mupdate_server"] = "127.0.0.1:1"
        for b in backends:
            opts["%s_pop3_addr" % b.name] = "127.0.0.1:%d" % b.ports["pop3"]
            opts["%s_lmtp_addr" % b.name] = "127.0.0.1:%d" % b.ports["lmtp"]
        self.master = harness.Master(
            name="frontend1", imapd=opts,
            services=[("pop3", {"cmd": "pop3d",
                                "listen": "127.0.0.1:%d" % self.ports["pop3"]}),
                      ("lmtp", {"cmd": "lmtpd -a",
                                "listen": "127.0.0.1:%d" % self.ports["lmtp"]})])
        sasldb = self.master.path("sasldb2")
        self.master.write_imapd_conf({"sasl_sasldb_path": sasldb})
        backend.make_sasldb(sasldb, list(backend.USERS) + ["dave", backend.ADMIN],
                            "frontend1")
        os.makedirs(self.master.imapd["configdirectory"], exist_ok=True)
        for b in backends:
            replicate(b, b.name, self.master)

    def start(self):
        self.master.start(ports=list(self.ports.values()))


class MailFrontendCase(harness.NodesTestCase):
    """b1 (alice, bob), b2 (carol) and fe, started once per class."""

    @classmethod
    def start_nodes(cls):
        cls.b1 = start_backend("backend1", ("alice", "bob"))
        cls.nodes.append(cls.b1)
        cls.b2 = start_backend("backend2", ("carol",))
        cls.nodes.append(cls.b2)
        cls.fe = MailFrontend([cls.b1, cls.b2])
        cls.nodes.append(cls.fe)
        cls.fe.start()

    def count(self, node, user):
        """Messages in user's INBOX, asked over IMAP on the backend itself."""
        c = node.login(user)
        try:
            typ, data = c.select("INBOX", readonly=True)
            self.assertEqual(typ, "OK")
            return int(data[0])
        finally:
            c.logout()
