"""mupdatenode.py: mupdate master / slave nodes for the e2e tests.

    m = MupdateNode("mmaster").start()                 # bin/mupdate -m
    s = MupdateNode("fe1", master_port=m.port).start() # slave replica
    with m.client() as c: ...                          # authenticated as cyrus
"""
import os
import subprocess

import backend
import harness
from mupdateclient import MupdateClient

ADMIN = "cyrus"


class MupdateNode:
    def __init__(self, name, master_port=None, admins=(ADMIN,),
                 users=("alice",), imapd=None, extra_services=()):
        self.name = name
        self.port = harness.free_port()
        self.is_master = master_port is None
        opts = {
            "servername": name,
            "admins": " ".join(admins),
            "sasl_pwcheck_method": "auxprop",
            "sasl_auxprop_plugin": "sasldb",
            "sasl_mech_list": "PLAIN",
            "failedloginpause": "0",
            "mupdate_retry_delay": "1",
        }
        if not self.is_master:
            opts.update({"mupdate_server": "127.0.0.1:%d" % master_port,
                         "mupdate_authname": ADMIN,
                         "mupdate_password": backend.password(ADMIN)})
        opts.update(imapd or {})
        cmd = "mupdate -m" if self.is_master else "mupdate"
        svcs = [("mupdate", {"cmd": cmd,
                             "listen": "127.0.0.1:%d" % self.port,
                             "prefork": 1})] + list(extra_services)
        self.master = harness.Master(name=name, imapd=opts, services=svcs)
        self.sasldb = self.master.path("sasldb2")
        self.master.write_imapd_conf({"sasl_sasldb_path": self.sasldb})
        backend.make_sasldb(self.sasldb, list(users) + list(admins), name)

    def start(self, **kw):
        self.master.start(ports=[self.port], **kw)
        return self

    def client(self, user=ADMIN, auth=True):
        c = MupdateClient(self.port)
        if auth:
            st, text = c.authenticate(user, backend.password(user))
            if st != "OK":
                c.close()
                raise AssertionError("AUTHENTICATE %s: %s %s"
                                     % (user, st, text))
        return c

    def tool(self, name, *args, input=None, check=True):
        """Run bin/<name> -C imapd.conf args; returns CompletedProcess."""
        env = dict(os.environ)
        env["CYRUS_LOGFILE"] = self.master.logfile
        p = subprocess.run([harness.bin_path(name), "-C",
                            self.master.imapd_conf] + list(args),
                           input=input, capture_output=True, env=env,
                           timeout=60)
        if check and p.returncode != 0:
            raise AssertionError("%s %s: exit %d\n%s%s" % (
                name, " ".join(args), p.returncode, p.stdout.decode(),
                p.stderr.decode()))
        return p

    def dump(self):
        """ctl_mboxlist -d as {name: (type, server, partition, acl)}."""
        out = self.tool("ctl_mboxlist", "-d").stdout.decode()
        res = {}
        for line in out.splitlines():
            f = line.split("\t", 4)
            res[f[0]] = tuple(f[1:])
        return res
