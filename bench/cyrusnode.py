#!/usr/bin/env python3
"""One Debian Cyrus 3.6 murder node joined to a murder that is not Cyrus's
own: the mixed murder of issue 7 (tests/test_mixed_murder.py,
bench/frontendbench.py).

* CyrusFrontend: mupdate slave + proxying imapd, pop3d, lmtpd in front of
  our backends.
* CyrusBackend: imapd, pop3d, lmtpd (AUTH port for frontends) that push
  their mailboxes to our mupdate master (ctl_mboxlist -m at start, and
  RESERVE/ACTIVATE on CREATE); create_users() makes the INBOXes.

    fe = CyrusFrontend(master_port, {"ourbe": {"imap": 1143, "pop3": 1110,
                                               "lmtp": 1024}},
                       users={"alice": "alice-pw"},
                       proxy=("murder", "murder-pw"),
                       admin=("cyrus", "cyrus-pw"))
    fe.start()          # ports in fe.ports: imap, pop3, lmtp (-a), lmtpauth
    ...
    fe.stop()           # no process left; fe.cleanup() also removes the dir

The frontend's mupdate slave logs in to the master at master_port as the
proxy user (the master must list it in `admins`); its imapd/pop3d/lmtpd log
in to each backend as the proxy user with the client as authorization id
(IMAP, POP3) or none (LMTP), so each backend needs the proxy user in
`proxyservers` and in `lmtp_admins`.  Backends are located through the
getaddrinfo shim (bench/gai_shim.c): (name, imap|pop3|lmtp) -> 127.0.0.1:port.
Needs root (Cyrus's master drops to user cyrus).
"""
import os
import pwd
import shutil
import subprocess
import tempfile
import time

import cyruspeer

class CyrusNode:
    role = None
    name = None

    def __init__(self, master_port, backends, users, proxy, admin,
                 directory=None):
        self.master_port = master_port
        self.backends = backends
        self.users = dict(users)
        self.proxy = proxy
        self.admin = admin
        self._own_dir = directory is None
        self.dir = os.path.abspath(directory or
                                   tempfile.mkdtemp(prefix="cyrusfe-"))
        ports = cyruspeer.free_ports(len(cyruspeer.PORTS))
        self.ports = dict(zip(cyruspeer.PORTS, ports))
        self.node = {"name": self.name, "role": self.role,
                     "ports": self.ports}
        self.ndir = os.path.join(self.dir, self.name)

    def shim_map(self):
        return ",".join("%s/%s=%d" % (name, svc, port)
                        for name, svcs in sorted(self.backends.items())
                        for svc, port in sorted(svcs.items()))

    def _imapd_conf(self, sasldb):
        cfg = os.path.join(self.ndir, "config")
        conf = {
            "configdirectory": cfg,
            "partition-default": os.path.join(self.ndir, "spool"),
            "defaultpartition": "default",
            "servername": self.name,
            "admins": self.admin[0],
            "allowplaintext": "yes",
            "unixhierarchysep": "no",
            "altnamespace": "no",
            "virtdomains": "off",
            "hashimapspool": "true",
            "sasl_pwcheck_method": "auxprop",
            "sasl_auxprop_plugin": "sasldb",
            "sasl_sasldb_path": sasldb,
            "sasl_mech_list": "PLAIN LOGIN",
            "sasl_auto_transition": "no",
            "proc_path": os.path.join(cfg, "proc"),
            "mboxname_lockpath": os.path.join(cfg, "lock"),
            "lmtpsocket": os.path.join(cfg, "socket", "lmtp"),
            "idlesocket": os.path.join(cfg, "socket", "idle"),
            "notifysocket": os.path.join(cfg, "socket", "notify"),
            "sievedir": os.path.join(cfg, "sieve"),
            "syslog_prefix": "cyrus-%s" % self.name,
            "lmtp_downcase_rcpt": "yes",
            "popminpoll": "0",
            "mupdate_server": "127.0.0.1:%d" % self.master_port,
            "mupdate_authname": self.proxy[0],
            "mupdate_password": self.proxy[1],
            "proxy_authname": self.proxy[0],
            "proxy_password": self.proxy[1],
        }
        if self.role == "frontend":
            conf["serverlist"] = " ".join(sorted(self.backends))
        else:
            conf.update({"proxyservers": self.proxy[0],
                         # <service name>_admins: the AUTH lmtp service
                         "lmtpauth_admins": self.proxy[0]})
        return "".join("%s: %s\n" % kv for kv in conf.items())

    def _write(self):
        for sub in ("config/socket", "config/proc", "config/db",
                    "config/log", "config/lock", "config/sieve", "spool"):
            os.makedirs(os.path.join(self.ndir, sub), exist_ok=True)
        os.chmod(self.dir, 0o755)
        sasldb = os.path.join(self.dir, "sasldb2")
        creds = [self.admin, self.proxy] + list(self.users.items())
        for user, pw in creds:
            p = subprocess.run(["saslpasswd2", "-p", "-c", "-f", sasldb,
                                "-u", self.name, user], input=pw.encode(),
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
            if p.returncode != 0:
                raise cyruspeer.PeerError("saslpasswd2: %s" % p.stderr.decode())
        with open(os.path.join(self.ndir, "imapd.conf"), "w") as f:
            f.write(self._imapd_conf(sasldb))
        with open(os.path.join(self.ndir, "cyrus.conf"), "w") as f:
            f.write(cyruspeer.cyrus_conf(self.dir, self.node))
        pw = pwd.getpwnam("cyrus")
        cyruspeer.chown_tree(self.dir, pw.pw_uid, pw.pw_gid)
        os.chmod(sasldb, 0o640)

    def start(self):
        """Write the node, start Cyrus's master, wait for every port."""
        cyruspeer.check_installed()
        try:
            self._write()
            shim = cyruspeer.build_shim(self.dir)
            env = dict(os.environ, LD_PRELOAD=shim,
                       GAI_SHIM_MAP=self.shim_map())
            pidfile = os.path.join(self.ndir, "master.pid")
            cmd = [os.path.join(cyruspeer.CYRUS_BIN, "master"),
                   "-C", os.path.join(self.ndir, "imapd.conf"),
                   "-M", os.path.join(self.ndir, "cyrus.conf"),
                   "-p", pidfile, "-L", os.path.join(self.ndir, "master.log"),
                   "-d"]
            p = subprocess.run(cmd, env=env, cwd=self.ndir,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            if p.returncode != 0:
                raise cyruspeer.PeerError("Cyrus master exited %d: %s" % (
                    p.returncode, p.stdout.decode(errors="replace")))
            for svc in cyruspeer.node_services(self.node):
                if not cyruspeer.wait_port(self.ports[svc]):
                    raise cyruspeer.PeerError(
                        "Cyrus frontend %s on %d does not answer (%s)" % (
                            svc, self.ports[svc], self.ndir))
        except BaseException:
            self.stop()
            raise
        return self

    def wait_replica(self, name, timeout=20.0):
        """Wait until the slave's mailboxes.db knows name (ctl_mboxlist -d)."""
        end = time.time() + timeout
        while time.time() < end:
            if name in self.dump():
                return True
            time.sleep(0.2)
        return False

    def dump(self):
        p = subprocess.run(
            ["setpriv", "--reuid=cyrus", "--regid=mail", "--init-groups",
             os.path.join(cyruspeer.CYRUS_BIN, "ctl_mboxlist"), "-C",
             os.path.join(self.ndir, "imapd.conf"), "-d"],
            capture_output=True, timeout=30)
        return p.stdout.decode(errors="replace")

    def stop(self):
        cyruspeer.stop_dir(self.dir, [self.name])

    def cleanup(self):
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def session_pids(self, service):
        """Pids of the frontend's processes for one service (by argv[0]
        imapd / pop3d / lmtpd)."""
        out = []
        for pid in cyruspeer._instance_pids(self.dir):
            try:
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    argv0 = f.read().split(b"\0")[0]
            except OSError:
                continue
            if os.path.basename(argv0).decode() == service:
                out.append(pid)
        return out


class CyrusFrontend(CyrusNode):
    role = "frontend"
    name = "cfrontend"


class CyrusBackend(CyrusNode):
    """backends is unused ({}); users are created by create_users()."""
    role = "backend"
    name = "cbackend"

    def create_users(self):
        """CREATE user.<name> for every user, as the admin."""
        import imaplib
        c = imaplib.IMAP4("127.0.0.1", self.ports["imap"], timeout=30)
        c.login(*self.admin)
        for u in sorted(self.users):
            typ, data = c.create("user.%s" % u)
            if typ != "OK":
                c.logout()
                raise cyruspeer.PeerError("Cyrus backend: CREATE user.%s: "
                                          "%s %s" % (u, typ, data))
        c.logout()
