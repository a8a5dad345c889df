"""murdercase: a whole murder of tools/murder (a mupdate master, backend1,
backend2 and FRONTENDS frontends on loopback) for one test class.

MurderCase starts it in setUpClass and stops it after the class: the
temporary directory, a free range of ports, sanitizer reports. Each class
has its own sanitizer report directory (cls.san, inside its temporary
directory): the nodes' processes write ASan/UBSan reports there
(ASAN_OPTIONS/UBSAN_OPTIONS log_path, as master -d drops its children's
stderr), and any file found there after the stop fails the class. So no
module depends on another one having been imported or run first.

AdminMurderCase adds the admin's view of the nodes (LIST, GETACL,
GETQUOTA, the master's FIND) for the administration tests.

The module-level helpers (murder(), free_base(), port_free(),
murder_info(), check_sanitizer_reports(), kill_masters(), descendants(),
alive()) are for tests that manage a murder themselves.
"""
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import harness
from mupdateclient import MupdateClient

MURDER = os.path.join(harness.TOP, "tools", "murder")


def port_free(port):
    """Nobody is bound to 127.0.0.1:port right now."""
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def free_base(span=60):
    """A base port with span free ports after it."""
    for _ in range(50):
        base = random.randrange(20000, 60000 - span, 10)
        if all(port_free(base + i) for i in range(span)):
            return base
    raise RuntimeError("no free port range")


def descendants(pids):
    """pids and every process below them."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(d))
    out, todo = set(), list(pids)
    while todo:
        p = todo.pop()
        if p not in out:
            out.add(p)
            todo.extend(children.get(p, []))
    return out


def alive(pid):
    """pid is a live process (not a zombie)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def murder(san_dir, *args):
    """Run `tools/murder ARGS`; returns its stdout, raises AssertionError
    (with its output) when it fails. The processes it starts write
    sanitizer reports to files in san_dir (an existing directory)."""
    env = dict(os.environ)
    for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
        log = "log_path=%s/%s" % (san_dir, var.split("_")[0].lower())
        env[var] = ":".join(filter(None, [env.get(var), log]))
    env.setdefault("CYRUS_BUILD", harness.build_dir())
    p = subprocess.run([MURDER] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=env, timeout=120)
    if p.returncode != 0:
        raise AssertionError("murder %s: %s%s" % (" ".join(args),
                                                   p.stdout.decode(),
                                                   p.stderr.decode()))
    return p.stdout.decode()


def kill_masters(murder_dir, timeout=10.0):
    """SIGTERM (after timeout SIGKILL) every node's master under
    murder_dir: for a start that failed before writing murder.json,
    which `murder stop` needs."""
    pids = []
    nodes = os.listdir(murder_dir) if os.path.isdir(murder_dir) else []
    for n in nodes:
        try:
            with open(os.path.join(murder_dir, n, "master.pid")) as f:
                pids.append(int(f.read().split()[0]))
        except (OSError, ValueError, IndexError):
            continue
    pids = [p for p in pids if alive(p)]
    for p in pids:
        os.kill(p, signal.SIGTERM)
    end = time.time() + timeout
    while [p for p in pids if alive(p)] and time.time() < end:
        time.sleep(0.05)
    for p in pids:
        if alive(p):
            os.kill(p, signal.SIGKILL)


def murder_info(murder_dir):
    """murder.json of a started murder, and its users' passwords."""
    with open(os.path.join(murder_dir, "murder.json")) as f:
        info = json.load(f)
    return info, {u["user"]: u["password"] for u in info["users"]}


def check_sanitizer_reports(murder_dir, san_dir):
    """Fail if a node's log under murder_dir or a file in san_dir holds a
    sanitizer report (call after "murder stop")."""
    bad = []
    nodes = os.listdir(murder_dir) if os.path.isdir(murder_dir) else []
    for n in nodes:
        log = os.path.join(murder_dir, n, "log")
        if os.path.exists(log):
            with open(log, errors="replace") as f:
                text = f.read()
            if "AddressSanitizer" in text or "runtime error" in text:
                bad.append(log)
    bad += [os.path.join(san_dir, f) for f in os.listdir(san_dir)]
    if bad:
        raise AssertionError("sanitizer reports in %s" % bad)


class MurderCase(unittest.TestCase):
    """A whole murder for the class, started once before its first test.

    Class attributes after setUpClass:
      tmp   the class's temporary directory (removed after the class
            unless the environment sets KEEP)
      dir   the murder's directory (tmp/m, murder.json in it)
      san   the sanitizer report directory (tmp/san)
      out   what `tools/murder start` printed
      info  murder.json
      pw    user -> password, with "cyrus" -> the admin's password
      admin_pw, ca   the admin's password, the murder's CA (PEM file)
    The murder is stopped (and reports checked) in tearDownClass, or as a
    class cleanup when setUpClass (also a subclass's) fails.
    """

    FRONTENDS = 1

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="murder-%s." % cls.__name__)
        cls.dir = os.path.join(cls.tmp, "m")
        cls.san = os.path.join(cls.tmp, "san")
        os.mkdir(cls.san)
        cls._stopped = False
        # runs only if tearDownClass did not (setUpClass failed)
        cls.addClassCleanup(cls.stop_murder)
        # 10 ports a node: mupdate, backends, frontends, and a spare
        span = 10 * (4 + cls.FRONTENDS)
        cls.out = cls.murder("start", cls.dir, "--base-port",
                             str(free_base(span)),
                             "--frontends", str(cls.FRONTENDS))
        cls.info, cls.pw = murder_info(cls.dir)
        cls.admin_pw = cls.info["admin"]["password"]
        cls.pw["cyrus"] = cls.admin_pw
        cls.ca = cls.info["tls"]["ca"]

    @classmethod
    def tearDownClass(cls):
        cls.stop_murder()

    @classmethod
    def murder(cls, *args):
        """`tools/murder ARGS` with this class's sanitizer directory (to
        stop or restart nodes of cls.dir)."""
        return murder(cls.san, *args)

    @classmethod
    def stop_murder(cls):
        """Stop every node (once), then fail on any sanitizer report;
        removes cls.tmp unless KEEP is set."""
        if cls._stopped:
            return
        cls._stopped = True
        try:
            if os.path.exists(os.path.join(cls.dir, "murder.json")):
                cls.murder("stop", cls.dir)
            else:
                kill_masters(cls.dir)
            check_sanitizer_reports(cls.dir, cls.san)
        finally:
            if not os.environ.get("KEEP"):
                shutil.rmtree(cls.tmp, ignore_errors=True)

    def node(self, name):
        """murder.json's entry for node name ("mupdate", "backend1",
        "frontend1", ...); KeyError if there is none."""
        for n in ([self.info["mupdate"]] + self.info["backends"]
                  + self.info["frontends"]):
            if n["name"] == name:
                return n
        raise KeyError(name)

    def login(self, user, node="frontend1", timeout=20):
        """An imaplib client logged in as user (or "cyrus", the admin) on
        node's IMAP port; logged out when the test ends."""
        c = harness.imap_login(self.node(node)["imap"], user, self.pw[user],
                               timeout=timeout)
        self.addCleanup(harness.logout_quietly, c)
        return c


def admin_msg(tag):
    """The message AdminMurderCase.fill() appends for tag."""
    return ("From: a@example.com\r\nTo: b@example.com\r\nSubject: %s\r\n"
            "Message-ID: <%s@example.com>\r\n\r\nbody %s\r\n"
            % (tag, tag, tag)).encode()


class AdminMurderCase(MurderCase):
    """MurderCase with the admin's view of each node: every effect is
    checked through a second connection (the node's own LIST, GETACL,
    GETQUOTA, SELECT as the admin, and the mupdate master's FIND)."""

    def port(self, node):
        """IMAP port of "frontend1", "backend1" or "backend2"."""
        return self.node(node)["imap"]

    def imap(self, node, user="cyrus"):
        return self.login(user, node)

    def names(self, node, pattern):
        """Mailbox names node's LIST returns for pattern (as the admin)."""
        c = self.imap(node)
        typ, data = c.list('""', pattern)
        self.assertEqual(typ, "OK", data)
        out = []
        for line in data:
            if isinstance(line, bytes):
                out.append(line.decode().rsplit(" ", 1)[-1].strip('"'))
        return sorted(out)

    def location(self, name):
        """The mupdate master's entry for name: "server!partition" or
        None."""
        with MupdateClient(self.info["mupdate"]["port"]) as m:
            st, text = m.authenticate("cyrus", self.admin_pw)
            self.assertEqual(st, "OK", text)
            e = m.find(name)
        if e is None:
            return None
        self.assertEqual(e[0], "MAILBOX", e)
        return e[2]

    def acl(self, node, name):
        c = self.imap(node)
        typ, data = c.getacl(name)
        self.assertEqual(typ, "OK", data)
        words = data[0].decode().split()
        return dict(zip(words[1::2], words[2::2]))

    def quota(self, node, root):
        c = self.imap(node)
        typ, data = c.getquota(root)
        if typ != "OK":
            return None
        return data[0].decode()

    def fill(self, node, mailbox, n, tag, user="cyrus"):
        """Append n messages; return their (UIDVALIDITY, [uid...])."""
        c = self.imap(node, user)
        for i in range(n):
            typ, data = c.append(mailbox, None, None,
                                 admin_msg("%s-%d" % (tag, i)))
            self.assertEqual(typ, "OK", data)
        return self.uids(node, mailbox, user)

    def uids(self, node, mailbox, user="cyrus"):
        """(UIDVALIDITY, [(uid, message-id)...]) of mailbox on node."""
        c = self.imap(node, user)
        typ, data = c.select(mailbox, readonly=True)
        self.assertEqual(typ, "OK", "%s on %s: %s" % (mailbox, node, data))
        uv = c.untagged_responses.get("UIDVALIDITY", [b"0"])[0].decode()
        typ, data = c.uid("FETCH", "1:*",
                          "(UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        out = []
        for x in data:
            if isinstance(x, tuple):
                uid = re.search(rb"UID (\d+)", x[0]).group(1).decode()
                mid = re.search(rb"<([^>]+)>", x[1]).group(1).decode()
                out.append((int(uid), mid))
        return uv, sorted(out)

    def grant_admin(self, node, mailbox):
        """The admin may append (admins get no 'i' right by default)."""
        c = self.imap(node)
        typ, data = c.setacl(mailbox, "cyrus", "lrswipkxtea")
        self.assertEqual(typ, "OK", data)

    def assertOnlyOn(self, name, server, where="default"):
        """name lives on server: its LIST and the master say so, the other
        backend does not list it."""
        other = "backend2" if server == "backend1" else "backend1"
        self.assertIn(name, self.names(server, name))
        self.assertNotIn(name, self.names(other, name))
        self.assertEqual(self.location(name), "%s!%s" % (server, where))

    def assertGone(self, name):
        for be in ("backend1", "backend2", "frontend1"):
            self.assertNotIn(name, self.names(be, name))
        self.assertIsNone(self.location(name))
