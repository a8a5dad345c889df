#!/usr/bin/env python3
"""Start and stop Debian's Cyrus IMAP 3.6 on loopback: the peer for benchmarks
and interop tests.

  bench/cyruspeer.py start DIR [--mode single|murder] [--base-port N]
  bench/cyruspeer.py stop DIR
  bench/cyruspeer.py status DIR

`start` creates DIR (its own imapd.conf, cyrus.conf, configdirectory and
partition per node), starts one Cyrus `master` per node, waits until every
port answers, creates each user's INBOX as the admin, prints a JSON
description (ports, users, passwords) and writes it to DIR/peer.json.
`stop` ends every process of the instance (nothing is left behind).

Modes:
  single  one server `cyrus1`: imap, pop3, lmtp -a (TCP and UNIX socket),
          lmtp with AUTH, idled.
  murder  mupdate master `mupdate`, backends `backend1` and `backend2`,
          frontend `frontend1` (imap, pop3, lmtp proxies, mupdate slave).
          Backends are located through an LD_PRELOAD getaddrinfo shim
          (bench/gai_shim.c, built here with cc) that maps
          (backend1, imap) etc. to 127.0.0.1:<port>: no root-only loopback
          aliases, no /etc/hosts edits, no standard ports.

Needs the Debian packages cyrus-imapd cyrus-murder cyrus-admin cyrus-clients
cyrus-pop3d sasl2-bin, and root (master drops to user cyrus).

As a module:
    with CyrusPeer("single") as peer:      # temp dir, free ports
        info = peer.info                   # same dict as peer.json
"""
import argparse
import imaplib
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CYRUS_BIN = os.environ.get("CYRUS_PEER_BIN", "/usr/lib/cyrus/bin")
PACKAGES = "cyrus-imapd cyrus-murder cyrus-admin cyrus-clients cyrus-pop3d sasl2-bin"
ADMIN = ("cyrus", "cyrus-secret")
PROXY = ("murder", "murder-secret")
# user, password, backend (murder mode; single mode puts all on cyrus1)
USERS = [("alice", "alice-pw", "backend1"), ("carol", "carol-pw", "backend1"),
         ("bob", "bob-pw", "backend2"), ("dave", "dave-pw", "backend2"),
         ("bench", "bench-pw", "backend1")]
# port offsets inside a node's block of 10
PORTS = {"imap": 0, "pop3": 1, "lmtp": 2, "lmtpauth": 3, "mupdate": 4}


class PeerError(Exception):
    """The peer could not be set up, started or stopped; the text says why."""


def missing_packages():
    """Names of the programs this harness needs that are not installed."""
    need = [os.path.join(CYRUS_BIN, p) for p in
            ("master", "imapd", "pop3d", "lmtpd", "mupdate", "ctl_cyrusdb",
             "ctl_mboxlist", "idled")]
    missing = [p for p in need if not os.access(p, os.X_OK)]
    if not shutil.which("saslpasswd2"):
        missing.append("saslpasswd2")
    return missing


def check_installed():
    miss = missing_packages()
    if miss:
        raise PeerError("Debian Cyrus is not installed (missing %s); as root run: "
                        "apt-get install -y %s" % (" ".join(miss), PACKAGES))
    if os.geteuid() != 0:
        raise PeerError("must run as root (Cyrus master drops to user cyrus)")
    try:
        pwd.getpwnam("cyrus")
    except KeyError:
        raise PeerError("no user cyrus: is cyrus-common installed?")


def free_ports(n):
    """n distinct TCP ports free on 127.0.0.1 right now."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def wait_port(port, timeout=30.0):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                s.settimeout(5)
                # a port answers once the service sends its greeting
                if s.recv(1):
                    return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


def topology(mode):
    if mode == "single":
        return [{"name": "cyrus1", "role": "single"}]
    if mode == "murder":
        return [{"name": "mupdate", "role": "mupdate"},
                {"name": "backend1", "role": "backend"},
                {"name": "backend2", "role": "backend"},
                {"name": "frontend1", "role": "frontend"}]
    raise PeerError("unknown mode %r (single or murder)" % mode)


def node_services(node):
    """Names of the TCP services a node listens on, in start order."""
    role = node["role"]
    if role == "mupdate":
        return ["mupdate"]
    svcs = ["imap", "pop3", "lmtp", "lmtpauth"]
    if role == "frontend":
        svcs.append("mupdate")
    return svcs


def imapd_conf(d, node, nodes, sasldb):
    ndir = os.path.join(d, node["name"])
    cfg = os.path.join(ndir, "config")
    role = node["role"]
    # backends too: Cyrus's XFER logs in to the destination backend as
    # proxy_authname, which must be an admin there
    admins = [ADMIN[0]] + ([PROXY[0]] if role in ("mupdate", "backend")
                           else [])
    conf = [
        "configdirectory: %s" % cfg,
        "partition-default: %s" % os.path.join(ndir, "spool"),
        "defaultpartition: default",
        "servername: %s" % node["name"],
        "admins: %s" % " ".join(admins),
        "allowplaintext: yes",
        # Debian's defaults, written out: user.alice, INBOX.Sub
        "unixhierarchysep: no",
        "altnamespace: no",
        "virtdomains: off",
        "hashimapspool: true",
        "umask: 077",
        "sasl_pwcheck_method: auxprop",
        "sasl_auxprop_plugin: sasldb",
        "sasl_sasldb_path: %s" % sasldb,
        "sasl_mech_list: PLAIN LOGIN",
        "sasl_auto_transition: no",
        # everything Debian would put under /run/cyrus goes into the node
        "proc_path: %s" % os.path.join(cfg, "proc"),
        "mboxname_lockpath: %s" % os.path.join(cfg, "lock"),
        "lmtpsocket: %s" % os.path.join(cfg, "socket", "lmtp"),
        "idlesocket: %s" % os.path.join(cfg, "socket", "idle"),
        "notifysocket: %s" % os.path.join(cfg, "socket", "notify"),
        "sievedir: %s" % os.path.join(cfg, "sieve"),
        "syslog_prefix: cyruspeer-%s" % node["name"],
        "lmtp_downcase_rcpt: yes",
        "popminpoll: 0",
    ]
    if role != "single" and role != "mupdate":
        master = nodes[0]["ports"]["mupdate"]
        conf += ["mupdate_server: 127.0.0.1:%d" % master,
                 "mupdate_authname: %s" % PROXY[0],
                 "mupdate_password: %s" % PROXY[1],
                 "proxy_authname: %s" % PROXY[0],
                 "proxy_password: %s" % PROXY[1]]
    if role == "backend":
        conf += ["proxyservers: %s" % PROXY[0],
                 # service-specific: <service name>_admins
                 "lmtpauth_admins: %s" % PROXY[0],
                 "allowusermoves: yes"]
    if role == "frontend":
        conf += ["serverlist: %s" % " ".join(
            n["name"] for n in nodes if n["role"] == "backend")]
    return "# %s (%s), written by bench/cyruspeer.py\n%s\n" % (
        node["name"], role, "\n".join(conf))


def cyrus_conf(d, node):
    ndir = os.path.join(d, node["name"])
    role = node["role"]
    ports = node["ports"]
    listen = "127.0.0.1:%d"
    # master's own -C is not passed on: every command names the config
    c = "-C %s" % os.path.join(ndir, "imapd.conf")
    start = ['  recover cmd="ctl_cyrusdb %s -r"' % c]
    if role == "backend":
        start.append('  mupdatepush cmd="ctl_mboxlist %s -m"' % c)
    svcs = []
    if role == "mupdate":
        svcs.append('  mupdate cmd="mupdate %s -m" listen="%s" prefork=1'
                    % (c, listen % ports["mupdate"]))
    else:
        if role == "frontend":
            svcs.append('  mupdate cmd="mupdate %s" listen="%s" prefork=1'
                        % (c, listen % ports["mupdate"]))
        svcs += [
            '  imap cmd="imapd %s" listen="%s" prefork=0' % (c, listen % ports["imap"]),
            '  pop3 cmd="pop3d %s" listen="%s" prefork=0' % (c, listen % ports["pop3"]),
            '  lmtp cmd="lmtpd %s -a" listen="%s" prefork=0' % (c, listen % ports["lmtp"]),
            '  lmtpauth cmd="lmtpd %s" listen="%s" prefork=0' % (c, listen % ports["lmtpauth"]),
            '  lmtpunix cmd="lmtpd %s -a" listen="%s" prefork=0'
            % (c, os.path.join(ndir, "config", "socket", "lmtp")),
        ]
    daemon = []
    if role in ("single", "backend"):
        daemon.append('  idled cmd="idled %s"' % c)
    events = ['  checkpoint cmd="ctl_cyrusdb %s -c" period=30' % c]
    return ("# %s (%s), written by bench/cyruspeer.py\n"
            "START {\n%s\n}\n\nSERVICES {\n%s\n}\n\nEVENTS {\n%s\n}\n\n"
            "DAEMON {\n%s\n}\n" % (node["name"], role, "\n".join(start),
                                   "\n".join(svcs), "\n".join(events),
                                   "\n".join(daemon)))


def chown_tree(path, uid, gid):
    os.chown(path, uid, gid)
    for root, dirs, files in os.walk(path):
        for n in dirs + files:
            os.lchown(os.path.join(root, n), uid, gid)


def build_shim(d):
    """Compile bench/gai_shim.c into DIR/gai_shim.so; return its path."""
    src = os.path.join(HERE, "gai_shim.c")
    out = os.path.join(d, "gai_shim.so")
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if not cc:
        raise PeerError("no C compiler (cc) to build %s" % src)
    p = subprocess.run([cc, "-shared", "-fPIC", "-O2", "-o", out, src, "-ldl"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if p.returncode != 0:
        raise PeerError("building the getaddrinfo shim failed:\n%s"
                        % p.stdout.decode(errors="replace"))
    os.chmod(out, 0o755)
    return out


def shim_map(nodes):
    """GAI_SHIM_MAP value: every backend's (name, service) -> its port.
    Frontends proxy LMTP with AUTH, so "lmtp" maps to the lmtpauth port."""
    ent = []
    for n in nodes:
        if n["role"] not in ("backend", "frontend"):
            continue
        p = n["ports"]
        for svc, num, port in (("imap", 143, p["imap"]), ("pop3", 110, p["pop3"]),
                               ("lmtp", 24, p["lmtpauth"])):
            ent.append("%s/%s=%d" % (n["name"], svc, port))
            ent.append("%s/%d=%d" % (n["name"], num, port))
    return ",".join(ent)


def _pidfile(d, name):
    return os.path.join(d, name, "master.pid")


def _read_pid(path):
    try:
        with open(path) as f:
            pid = int(f.read().split()[0])
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError, IndexError):
        return None


def _instance_pids(d):
    """Pids of every process whose command line names a file under d (each
    service gets -C d/NODE/imapd.conf from master)."""
    pids = []
    key = (os.path.abspath(d) + "/").encode()
    for ent in os.listdir("/proc"):
        if not ent.isdigit() or int(ent) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % ent, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        # "-C DIR/NODE/imapd.conf": master and every service it spawns
        for i in range(len(argv) - 1):
            if argv[i] == b"-C" and argv[i + 1].startswith(key):
                pids.append(int(ent))
                break
    return pids


class CyrusPeer:
    """One Debian Cyrus instance (single server or four-node murder) in a
    directory.  start() returns the info dict; stop() leaves no process."""

    def __init__(self, mode="single", directory=None, base_port=None):
        self.mode = mode
        self.nodes = topology(mode)
        self._own_dir = directory is None
        self.dir = os.path.abspath(directory or tempfile.mkdtemp(prefix="cyruspeer-"))
        self.base_port = base_port
        self.info = None

    # -- context manager --------------------------------------------------
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    # -- setup -------------------------------------------------------------
    def _assign_ports(self):
        if self.base_port:
            for i, n in enumerate(self.nodes):
                n["ports"] = {k: self.base_port + 10 * i + off
                              for k, off in PORTS.items()}
            return
        ports = free_ports(len(PORTS) * len(self.nodes))
        for i, n in enumerate(self.nodes):
            n["ports"] = {k: ports[i * len(PORTS) + j]
                          for j, k in enumerate(PORTS)}

    def _make_sasldb(self, path):
        creds = [ADMIN, PROXY] + [(u, p) for u, p, _ in USERS]
        for user, pw in creds:
            # Cyrus looks unqualified users up in the realm = its servername
            for n in self.nodes:
                p = subprocess.run(["saslpasswd2", "-p", "-c", "-f", path,
                                    "-u", n["name"], user], input=pw.encode(),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                if p.returncode != 0:
                    raise PeerError("saslpasswd2 failed: %s"
                                    % p.stderr.decode(errors="replace").strip())

    def _write(self):
        d = self.dir
        os.makedirs(d, exist_ok=True)
        os.chmod(d, 0o755)
        sasldb = os.path.join(d, "sasldb2")
        if os.path.exists(sasldb):
            os.unlink(sasldb)
        self._make_sasldb(sasldb)
        for n in self.nodes:
            ndir = os.path.join(d, n["name"])
            for sub in ("config/socket", "config/proc", "config/db",
                        "config/log", "config/lock", "config/sieve", "spool"):
                os.makedirs(os.path.join(ndir, sub), exist_ok=True)
            with open(os.path.join(ndir, "imapd.conf"), "w") as f:
                f.write(imapd_conf(d, n, self.nodes, sasldb))
            with open(os.path.join(ndir, "cyrus.conf"), "w") as f:
                f.write(cyrus_conf(d, n))
        pw = pwd.getpwnam("cyrus")
        chown_tree(d, pw.pw_uid, pw.pw_gid)
        os.chmod(sasldb, 0o640)

    def _env(self):
        env = dict(os.environ)
        if self.mode == "murder":
            env["LD_PRELOAD"] = self._shim
            env["GAI_SHIM_MAP"] = shim_map(self.nodes)
        return env

    def _start_node(self, n):
        ndir = os.path.join(self.dir, n["name"])
        pidfile = _pidfile(self.dir, n["name"])
        cmd = [os.path.join(CYRUS_BIN, "master"),
               "-C", os.path.join(ndir, "imapd.conf"),
               "-M", os.path.join(ndir, "cyrus.conf"),
               "-p", pidfile, "-L", os.path.join(ndir, "master.log"), "-d"]
        p = subprocess.run(cmd, env=self._env(), cwd=ndir,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if p.returncode != 0:
            raise PeerError("%s: master exited %d: %s" % (
                n["name"], p.returncode, p.stdout.decode(errors="replace")))
        end = time.time() + 20
        while not _read_pid(pidfile) and time.time() < end:
            time.sleep(0.05)
        if not _read_pid(pidfile):
            raise PeerError("%s: master did not start (see %s/master.log)"
                            % (n["name"], ndir))
        for svc in node_services(n):
            if not wait_port(n["ports"][svc]):
                raise PeerError("%s: %s on 127.0.0.1:%d does not answer "
                                "(see %s/master.log)" % (n["name"], svc,
                                                         n["ports"][svc], ndir))

    def _create_inboxes(self):
        for n in self.nodes:
            if n["role"] not in ("single", "backend"):
                continue
            mine = [u for u, _, b in USERS
                    if n["role"] == "single" or b == n["name"]]
            if not mine:
                continue
            im = imaplib.IMAP4("127.0.0.1", n["ports"]["imap"], timeout=30)
            try:
                im.login(*ADMIN)
                for u in mine:
                    typ, data = im.create("user.%s" % u)
                    if typ != "OK" and b"exists" not in b" ".join(data).lower():
                        raise PeerError("%s: CREATE user.%s: %s %s"
                                        % (n["name"], u, typ, data))
                im.logout()
            finally:
                try:
                    im.shutdown()
                except OSError:
                    pass

    def _describe(self):
        def svc(n):
            p = n["ports"]
            return {"name": n["name"], "imap": p["imap"], "pop3": p["pop3"],
                    "lmtp": p["lmtp"], "lmtpauth": p["lmtpauth"],
                    "lmtpsocket": os.path.join(self.dir, n["name"], "config",
                                               "socket", "lmtp"),
                    "imapd_conf": os.path.join(self.dir, n["name"], "imapd.conf")}
        me = os.path.abspath(__file__)
        info = {
            "mode": self.mode,
            "dir": self.dir,
            "host": "127.0.0.1",
            "admin": {"user": ADMIN[0], "password": ADMIN[1]},
            "proxy": {"user": PROXY[0], "password": PROXY[1]},
            "frontends": [svc(n) for n in self.nodes if n["role"] == "frontend"],
            "backends": [svc(n) for n in self.nodes
                         if n["role"] in ("backend", "single")],
            "users": [{"user": u, "password": p,
                       "backend": "cyrus1" if self.mode == "single" else b}
                      for u, p, b in USERS],
            "control": {"stop": "%s stop %s" % (me, self.dir),
                        "status": "%s status %s" % (me, self.dir)},
            "sasldb": os.path.join(self.dir, "sasldb2"),
            "cyrus_bin": CYRUS_BIN,
            "_nodes": self.nodes,
        }
        if self.mode == "murder":
            m = self.nodes[0]
            info["mupdate"] = {"name": m["name"], "port": m["ports"]["mupdate"]}
            info["gai_shim"] = {"LD_PRELOAD": self._shim,
                                "GAI_SHIM_MAP": shim_map(self.nodes)}
        return info

    # -- public ------------------------------------------------------------
    def start(self):
        """Write the configuration, start every node, create the INBOXes.
        Returns the info dict (also written to DIR/peer.json).  On failure
        stops whatever was started and raises PeerError."""
        if _instance_pids(self.dir):
            raise PeerError("%s already has running Cyrus processes; stop it first"
                            % self.dir)
        try:
            check_installed()
            self._assign_ports()
            os.makedirs(self.dir, exist_ok=True)
            self._shim = build_shim(self.dir) if self.mode == "murder" else None
            self._write()
            for n in self.nodes:
                self._start_node(n)
            self._create_inboxes()
        except BaseException:
            self.stop()
            if self._own_dir:
                shutil.rmtree(self.dir, ignore_errors=True)
            raise
        self.info = self._describe()
        with open(os.path.join(self.dir, "peer.json"), "w") as f:
            json.dump(self.info, f, indent=1)
        return self.info

    def stop(self, timeout=15.0):
        """SIGTERM every node's master (frontend first), then SIGKILL any
        process of this instance still alive after timeout seconds."""
        return stop_dir(self.dir, [n["name"] for n in self.nodes], timeout)


def stop_dir(d, names, timeout=15.0):
    """Stop the instance in d; returns the number of processes that had to
    be killed with SIGKILL."""
    for name in reversed(names):
        pid = _read_pid(_pidfile(d, name))
        if pid:
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass
    end = time.time() + timeout
    while _instance_pids(d) and time.time() < end:
        time.sleep(0.05)
    killed = 0
    for pid in _instance_pids(d):
        try:
            os.kill(pid, signal.SIGKILL)
            killed += 1
        except OSError:
            pass
    end = time.time() + 5
    while _instance_pids(d) and time.time() < end:
        time.sleep(0.05)
    if _instance_pids(d):
        raise PeerError("processes of %s survive SIGKILL: %s" % (d, _instance_pids(d)))
    return killed


def load_info(d):
    try:
        with open(os.path.join(d, "peer.json")) as f:
            return json.load(f)
    except OSError:
        raise PeerError("%s holds no peer (no peer.json)" % d)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="cyruspeer", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("start")
    s.add_argument("dir")
    s.add_argument("--mode", choices=("single", "murder"), default="single")
    s.add_argument("--base-port", type=int, default=0,
                   help="ports base+10*node+{0 imap,1 pop3,2 lmtp,3 lmtpauth,"
                        "4 mupdate}; default: any free ports")
    s = sub.add_parser("stop")
    s.add_argument("dir")
    s = sub.add_parser("status")
    s.add_argument("dir")
    args = ap.parse_args(argv)
    d = os.path.abspath(args.dir)
    try:
        if args.cmd == "start":
            peer = CyrusPeer(args.mode, d, args.base_port or None)
            info = peer.start()
            print(json.dumps({k: v for k, v in info.items() if k != "_nodes"},
                             indent=1))
        elif args.cmd == "stop":
            try:
                names = [n["name"] for n in load_info(d)["_nodes"]]
            except PeerError:
                names = [e for e in os.listdir(d)
                         if os.path.exists(_pidfile(d, e))] if os.path.isdir(d) else []
            killed = stop_dir(d, names)
            print("stopped %s%s" % (d, " (%d killed)" % killed if killed else ""))
        else:
            info = load_info(d)
            alive = 0
            for n in info["_nodes"]:
                pid = _read_pid(_pidfile(d, n["name"]))
                alive += bool(pid)
                print("%-10s %s" % (n["name"], "running (pid %d)" % pid
                                    if pid else "stopped"))
            return 0 if alive == len(info["_nodes"]) else 3
    except PeerError as e:
        sys.stderr.write("cyruspeer: %s\n" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
