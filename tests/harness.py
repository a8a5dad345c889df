"""harness.py: start real masters on loopback for end-to-end tests.

Python 3 standard library only. Every e2e test (tests/test_*.py, run by
tests/run.py) builds on this module. The typical test::

    import harness

    class TestSomething(harness.TestCase):
        def test_echo(self):
            port = harness.free_port()
            m = self.master(services=[
                ("echo", {"cmd": "echotest", "listen": "127.0.0.1:%d" % port,
                          "prefork": 1})])
            m.start(ports=[port])
            with harness.LineClient(port) as c:
                self.assertIn("echotest", c.greeting)
                self.assertEqual(c.cmd("hello"), "hello")
            m.stop()   # also done by cleanup; asserts nothing is left behind

What it gives you:

* build_dir() / bin_path(name): the build tree is $CYRUS_BUILD if set,
  otherwise the first of <top>/bin/.., <top>/build, <top>/build-asan that
  holds bin/master (<top> is the parent of this tests/ directory).
* free_port(): a free loopback TCP port (never handed out twice by one run);
  ipv6_available().
* Master: one master with its own temporary directory (removed after the
  test unless KEEP=1 is set in the environment; its path is printed then),
  an imapd.conf written from a dict (configdirectory and partition-default
  pre-filled), a cyrus.conf written from section lists, CYRUS_LOGFILE in the
  directory, a pid file, start/stop/reload, process-tree inspection, kill
  helpers and log access. Failures carry the log tail and master's stderr.
* LineClient: a tiny CRLF line client over TCP or a UNIX socket (on
  SocketClient, the connection other protocol clients build on).
* wait_for(predicate, timeout): poll until true, with a message on timeout.
* TestCase: unittest.TestCase whose self.master(...) registers cleanup, so
  a failing test still stops its master and removes its files.
* NodesTestCase: a TestCase whose nodes start once per class (its
  start_nodes() appends each to cls.nodes) and are cleaned up after it,
  or at once when one fails to start; cleanup_nodes() does that part.
* imap_login(port, user, password) and logout_quietly(c): the IMAP
  clients (imaplib) tests open and close.

The sections of cyrus.conf are lists of (name, {key: value}) pairs; values
are quoted when they contain spaces. Commands named without a path are
found by master next to itself in bin/ (echotest, imapd, ...) or in $PATH.
Note that master passes "-C <imapd.conf>" to every command it runs, as
Cyrus does; Master.script() writes shell scripts that accept and drop it.
"""

import imaplib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)

DEFAULT_TIMEOUT = float(os.environ.get("HARNESS_TIMEOUT", "15"))

_used_ports = set()


def build_dir():
    """Directory holding bin/master (see module doc)."""
    env = os.environ.get("CYRUS_BUILD")
    candidates = [env] if env else [TOP, os.path.join(TOP, "build"),
                                    os.path.join(TOP, "build-asan")]
    for d in candidates:
        if d and os.path.exists(os.path.join(d, "bin", "master")):
            return os.path.abspath(d)
    raise RuntimeError("no build tree with bin/master found (tried %s); "
                       "build first or set CYRUS_BUILD" % ", ".join(
                           c for c in candidates if c))


def bin_path(name):
    """Absolute path of program `name` in the build tree's bin/."""
    return os.path.join(build_dir(), "bin", name)


def free_port(host="127.0.0.1"):
    """A TCP port nobody listens on right now, unique within this run."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(100):
        s = socket.socket(family, socket.SOCK_STREAM)
        try:
            s.bind((host, 0))
            port = s.getsockname()[1]
        finally:
            s.close()
        if port not in _used_ports:
            _used_ports.add(port)
            return port
    raise RuntimeError("no free port")


def ipv6_available():
    """Can we bind ::1 here?"""
    if not socket.has_ipv6:
        return False
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        try:
            s.bind(("::1", 0))
        finally:
            s.close()
        return True
    except OSError:
        return False


def wait_for(predicate, timeout=DEFAULT_TIMEOUT, interval=0.05, what=None):
    """Call predicate() until it returns a true value, which is returned.
    Raises AssertionError naming `what` (a string, or a callable returning
    one, evaluated at the timeout) after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            if callable(what):
                what = what()
            raise AssertionError("timed out after %.1fs waiting for %s"
                                 % (timeout, what or predicate))
        time.sleep(interval)


def can_connect(addr, timeout=0.5):
    """True if a TCP (port, (host, port)) or UNIX (path) connect succeeds."""
    try:
        s = _connect(addr, timeout)
    except OSError:
        return False
    s.close()
    return True


def _connect(addr, timeout):
    if isinstance(addr, str) and addr.startswith("/"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(addr)
        except OSError:
            s.close()
            raise
        return s
    if isinstance(addr, int):
        addr = ("127.0.0.1", addr)
    return socket.create_connection(addr, timeout=timeout)


class SocketClient:
    """A connected socket (self.sock) with a buffered binary reader
    (self.file), usable as a context manager. addr: port (on 127.0.0.1),
    (host, port) or a UNIX socket path."""

    def __init__(self, addr, timeout=DEFAULT_TIMEOUT):
        self.sock = _connect(addr, timeout)
        self.sock.settimeout(timeout)
        self.file = self.sock.makefile("rb")

    def close(self):
        try:
            self.file.close()
        finally:
            self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class LineClient(SocketClient):
    """A CRLF line client (see SocketClient for addr). Reads the greeting
    line unless greeting=False."""

    def __init__(self, addr, timeout=DEFAULT_TIMEOUT, greeting=True):
        super().__init__(addr, timeout)
        self.greeting = self.readline() if greeting else None

    def readline(self):
        """Next line without CRLF; "" at EOF."""
        line = self.file.readline()
        return line.decode("utf-8", "replace").rstrip("\r\n")

    def send(self, line):
        self.sock.sendall(line.encode("utf-8") + b"\r\n")

    def cmd(self, line):
        """Send a line and return the next line read."""
        self.send(line)
        return self.readline()


def _proc_stat(pid):
    """(ppid, sid, state) of pid, or None if gone."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read().decode("ascii", "replace")
    except OSError:
        return None
    # comm may contain spaces and parentheses: fields follow the last ')'
    rest = data[data.rindex(")") + 2:].split()
    return int(rest[1]), int(rest[3]), rest[0]


def _proc_starttime(pid):
    """Start time of pid (clock ticks since boot), or None if gone: tells
    a process from a later one that reuses its pid."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read().decode("ascii", "replace")
    except OSError:
        return None
    rest = data[data.rindex(")") + 2:].split()
    return None if rest[0] == "Z" else int(rest[19])


def _all_pids():
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


def proc_environ(pid):
    """Environment of pid as a dict ({} if unreadable)."""
    try:
        with open("/proc/%d/environ" % pid, "rb") as f:
            raw = f.read()
    except OSError:
        return {}
    env = {}
    for item in raw.split(b"\0"):
        if b"=" in item:
            k, v = item.split(b"=", 1)
            env[k.decode("utf-8", "replace")] = v.decode("utf-8", "replace")
    return env


def proc_cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return [a.decode("utf-8", "replace")
                    for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def _quote(value):
    value = str(value)
    if value == "" or any(c.isspace() for c in value) or "#" in value:
        if '"' in value:
            raise ValueError("cyrus.conf values cannot contain quotes "
                             "and spaces: %r" % value)
        return '"%s"' % value
    return value


def cyrus_conf_text(start=(), services=(), events=(), daemon=()):
    """cyrus.conf text from lists of (name, {key: value}) entries."""
    out = []
    for title, entries in (("START", start), ("SERVICES", services),
                           ("EVENTS", events), ("DAEMON", daemon)):
        out.append("%s {" % title)
        for name, keys in entries:
            args = " ".join("%s=%s" % (k, _quote(v)) for k, v in keys.items())
            out.append("  %s %s" % (name, args))
        out.append("}")
    return "\n".join(out) + "\n"


class Master:
    """One master process with its own directory. Nothing runs until
    start(); call stop() (or cleanup(), which TestCase does for you)."""

    def __init__(self, name="master", imapd=None, start=(), services=(),
                 events=(), daemon=(), conf_text=None):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix="cyr-%s-" % name)
        self.confdir = os.path.join(self.dir, "conf")
        self.spool = os.path.join(self.dir, "spool")
        os.makedirs(self.spool)
        self.logfile = os.path.join(self.dir, "log")
        self.outfile = os.path.join(self.dir, "master.out")
        self.pidfile = os.path.join(self.dir, "master.pid")
        self.imapd_conf = os.path.join(self.dir, "imapd.conf")
        self.cyrus_conf = os.path.join(self.dir, "cyrus.conf")
        self.proc = None
        self.pid = None
        self.returncode = None
        self.imapd = {"configdirectory": self.confdir,
                      "partition-default": self.spool}
        self.imapd.update(imapd or {})
        self.write_imapd_conf()
        if conf_text is not None:
            self.write_cyrus_conf_text(conf_text)
        else:
            self.write_cyrus_conf(start, services, events, daemon)

    # ---- files -------------------------------------------------------
    def path(self, *parts):
        """A path inside this master's directory."""
        return os.path.join(self.dir, *parts)

    def write_imapd_conf(self, options=None):
        """(Re)write imapd.conf from self.imapd updated with options."""
        if options:
            self.imapd.update(options)
        with open(self.imapd_conf, "w") as f:
            for k, v in self.imapd.items():
                f.write("%s: %s\n" % (k, v))

    def write_cyrus_conf(self, start=(), services=(), events=(), daemon=()):
        self.write_cyrus_conf_text(cyrus_conf_text(start, services, events,
                                                   daemon))

    def write_cyrus_conf_text(self, text):
        with open(self.cyrus_conf, "w") as f:
            f.write(text)

    def script(self, name, body):
        """Write an executable /bin/sh script; "-C file" arguments that
        master adds are dropped before body runs. Returns its path."""
        path = self.path(name)
        with open(path, "w") as f:
            f.write("#!/bin/sh\n"
                    "if [ \"$1\" = -C ]; then shift 2; fi\n" + body + "\n")
        os.chmod(path, 0o755)
        return path

    # ---- running -----------------------------------------------------
    def start(self, ports=(), paths=(), args=(), timeout=DEFAULT_TIMEOUT,
              wait_ready=True):
        """Start master in the foreground (its own session) and wait until
        every port/(host, port)/UNIX path in ports and paths accepts
        connections and the log says "ready for work"."""
        if self.pid is not None:
            # a restart after kill -9: the old master's children hold its
            # listening sockets until their parent-death signal ends them
            # (a port that "accepts" may still be theirs)
            wait_for(lambda: not self.session_processes(), timeout,
                     what="the previous master's children to exit")
        readies = len(re.findall(r"ready for work", self.log_text()))
        env = dict(os.environ)
        env["CYRUS_LOGFILE"] = self.logfile
        env.pop("CYRUS_SERVICE", None)
        cmd = [bin_path("master"), "-D", "-C", self.imapd_conf, "-M",
               self.cyrus_conf, "-p", self.pidfile] + list(args)
        out = open(self.outfile, "ab")
        try:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=out, env=env,
                                         cwd=self.dir, start_new_session=True)
        finally:
            out.close()
        self.pid = self.proc.pid
        self.returncode = None
        if wait_ready:
            self.wait_log(r"ready for work", timeout=timeout,
                          count=readies + 1)
        for addr in list(ports) + list(paths):
            self.wait_accepting(addr, timeout)
        return self

    def run_to_exit(self, args=(), timeout=DEFAULT_TIMEOUT):
        """Start master expecting it to exit by itself (bad config, failing
        START). Returns (exit status, stderr+stdout text)."""
        self.start(args=args, wait_ready=False)
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("master did not exit within %.0fs\n%s"
                                 % (timeout, self.diagnostics()))
        return self.returncode, self.output()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_accepting(self, addr, timeout=DEFAULT_TIMEOUT):
        deadline = time.monotonic() + timeout
        while not can_connect(addr):
            if not self.running():
                raise AssertionError("master exited (status %s) before %s "
                                     "accepted connections\n%s"
                                     % (self.proc.returncode, addr,
                                        self.diagnostics()))
            if time.monotonic() >= deadline:
                raise AssertionError("%s did not accept connections within "
                                     "%.0fs\n%s" % (addr, timeout,
                                                    self.diagnostics()))
            time.sleep(0.05)

    def reload(self):
        """SIGHUP: master rereads cyrus.conf."""
        n = self.log_text().count("reloaded ")
        os.kill(self.pid, signal.SIGHUP)
        wait_for(lambda: self.log_text().count("reloaded ") > n
                 or "keeping the current configuration" in self.log_text(),
                 what="master to reload\n" + self.diagnostics())

    def stop(self, timeout=DEFAULT_TIMEOUT, check=True, sig=signal.SIGTERM):
        """Send sig (SIGTERM), wait, and (check=True) assert a clean exit:
        status 0, pid file removed, and no process left behind: none in
        master's session and none of the processes whose parent chain
        reached master just before the signal. Returns the exit status."""
        if self.proc is None or self.returncode is not None:
            return self.returncode
        # descendants now, to catch any that leave master's session
        before = {p: _proc_starttime(p) for p in self.descendants()}
        if self.running():
            os.kill(self.pid, sig)
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill_all()
            raise AssertionError("master did not exit within %.0fs of "
                                 "SIGTERM\n%s" % (timeout, self.diagnostics()))
        if check:
            left = set(self.session_processes())
            left.update(p for p, t in before.items()
                        if t is not None and _proc_starttime(p) == t)
            left = sorted(left)
            if left:
                desc = ["%d %s" % (p, " ".join(proc_cmdline(p)))
                        for p in left]
                self.kill_all()
                for p in left:
                    try:
                        os.kill(p, signal.SIGKILL)
                    except OSError:
                        pass
                raise AssertionError("processes left behind after master "
                                     "exited: %s" % desc)
            if self.returncode != 0:
                raise AssertionError("master exited with status %s\n%s"
                                     % (self.returncode, self.diagnostics()))
            if os.path.exists(self.pidfile):
                raise AssertionError("pid file %s not removed"
                                     % self.pidfile)
        return self.returncode

    def kill_all(self):
        """SIGKILL master and everything in its session (last resort)."""
        if self.pid is None:
            return
        for pid in [self.pid] + self.session_processes():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if self.proc is not None:
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass

    def cleanup(self):
        """Stop master if running (without checks) and remove the
        directory unless KEEP=1."""
        if self.running():
            try:
                self.stop(check=False, timeout=10)
            except AssertionError:
                pass
        self.kill_all()
        if os.environ.get("KEEP"):
            print("KEEP: %s kept in %s" % (self.name, self.dir))
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    # ---- processes ---------------------------------------------------
    def descendants(self):
        """Live (non-zombie) processes whose parent chain reaches master."""
        if self.pid is None:
            return []
        parent = {}
        for pid in _all_pids():
            st = _proc_stat(pid)
            if st and st[2] != "Z":
                parent[pid] = st[0]
        found = []
        for pid in parent:
            p = parent.get(pid)
            seen = 0
            while p and p != 1 and seen < 64:
                if p == self.pid:
                    found.append(pid)
                    break
                p = parent.get(p)
                seen += 1
        return sorted(found)

    def session_processes(self):
        """Live processes (master's own excepted) in master's session: its
        descendants, including orphans reparented after master died."""
        if self.pid is None:
            return []
        out = []
        for pid in _all_pids():
            st = _proc_stat(pid)
            if st and st[1] == self.pid and pid != self.pid and st[2] != "Z":
                out.append(pid)
        return sorted(out)

    def service_pids(self, service):
        """Pids of master's children started for cyrus.conf entry
        `service` (by their CYRUS_SERVICE environment)."""
        return [p for p in self.descendants()
                if _proc_stat(p) and _proc_stat(p)[0] == self.pid
                and proc_environ(p).get("CYRUS_SERVICE") == service]

    def wait_service_count(self, service, n, timeout=DEFAULT_TIMEOUT,
                           at_least=False):
        """Wait until exactly n (at_least: n or more) processes serve
        `service`; returns their pids."""
        def check():
            pids = self.service_pids(service)
            ok = len(pids) >= n if at_least else len(pids) == n
            return pids if ok else None
        return wait_for(check, timeout, what=lambda: "%s%d %s processes "
                        "(have %s)\n%s" % ("at least " if at_least else "", n,
                                           service, self.service_pids(service),
                                           self.log_tail()))

    def kill(self, pid, sig=signal.SIGKILL):
        """Send sig (default SIGKILL) to one of master's children."""
        os.kill(pid, sig)

    # ---- logs ----------------------------------------------------------
    def log_text(self):
        try:
            with open(self.logfile, "r", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log_tail(self, n=40):
        return "\n".join(self.log_text().splitlines()[-n:])

    def output(self):
        """master's own stdout+stderr."""
        try:
            with open(self.outfile, "r", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def wait_log(self, pattern, timeout=DEFAULT_TIMEOUT, count=1):
        """Wait until regex pattern matches at least count log lines;
        returns the matches. Fails early if master exits."""
        rx = re.compile(pattern)

        def check():
            found = [m for m in (rx.search(l)
                                 for l in self.log_text().splitlines()) if m]
            if len(found) >= count:
                return found
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError("master exited (status %s) while "
                                     "waiting for log /%s/\n%s"
                                     % (self.proc.returncode, pattern,
                                        self.diagnostics()))
            return None
        return wait_for(check, timeout,
                        what="log /%s/\n%s" % (pattern, self.log_tail()))

    def diagnostics(self):
        """Log tail and master output, for failure messages."""
        return ("--- %s log (%s) ---\n%s\n--- master stdout/stderr ---\n%s"
                % (self.name, self.logfile, self.log_tail(),
                   self.output()[-3000:]))


class TestCase(unittest.TestCase):
    """unittest.TestCase with self.master(): a Master that is cleaned up
    (stopped, directory removed) when the test ends, pass or fail."""

    def master(self, **kwargs):
        m = Master(name=kwargs.pop("name", self._testMethodName), **kwargs)
        self.addCleanup(m.cleanup)
        return m


def cleanup_nodes(nodes):
    """Clean up what a test class started, last started first: each node
    is a Master or has a cleanup() or a .master. Errors are ignored, so
    every node gets its turn."""
    for n in reversed(nodes):
        f = getattr(n, "cleanup", None) or n.master.cleanup
        try:
            f()
        except Exception:
            pass


class NodesTestCase(TestCase):
    """A TestCase whose nodes start once per class: a subclass defines the
    classmethod start_nodes(), which appends each node to cls.nodes as it
    creates it; they are cleaned up after the class (or at once, when
    start_nodes() fails)."""

    nodes = []

    @classmethod
    def start_nodes(cls):
        raise NotImplementedError

    @classmethod
    def setUpClass(cls):
        cls.nodes = []
        try:
            cls.start_nodes()
        except BaseException:
            cleanup_nodes(cls.nodes)
            raise

    @classmethod
    def tearDownClass(cls):
        cleanup_nodes(cls.nodes)


def imap_login(port, user, password, timeout=15):
    """An imaplib client on 127.0.0.1:port, logged in as user."""
    c = imaplib.IMAP4("127.0.0.1", port, timeout=timeout)
    c.login(user, password)
    return c


def logout_quietly(c):
    """Log an imaplib client out, ignoring errors (the server or the
    connection may already be gone); for addCleanup()."""
    try:
        c.logout()
    except Exception:
        pass
