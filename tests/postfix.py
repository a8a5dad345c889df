#!/usr/bin/env python3
"""A private Postfix instance on loopback, for end-to-end tests and benchmarks.

Everything lives in one directory (a temp dir unless one is given):

    DIR/etc/main.cf, DIR/etc/master.cf   config_directory (root, 0755)
    DIR/queue/                           queue_directory (root; subdirs postfix)
    DIR/data/                            data_directory (postfix, 0700)
    DIR/maillog                          maillog_file, written by postlogd

The instance listens with smtpd on 127.0.0.1:<free port> only, uses no DNS,
accepts mail for `domains` (virtual_mailbox_domains) and for localhost
(mydestination) and hands all of it to one LMTP server:
`virtual_transport = mailbox_transport = local_transport =
lmtp:inet:HOST:PORT` (or `lmtp:unix:/path`).

The recipe that makes `postfix -c DIR start` work next to (or without) a
system Postfix, found by running Debian 12's postfix 3.7:

  * Run as root.  Postfix's master starts as root and each daemon drops to
    `mail_owner` (the Debian user `postfix`); `postdrop`/`postqueue` are
    setgid `postdrop` (`setgid_group`).  Both names are the system's; the
    instance just reuses them.  As root, `-c DIR` needs no
    `alternate_config_directories` entry in /etc/postfix/main.cf (which may
    not even exist: Debian's "No configuration" leaves it absent).
  * Every directory from / down to DIR must be searchable by `postfix`
    (mkdtemp makes 0700: we chmod 0755).  DIR, DIR/etc and DIR/queue are
    root 0755; main.cf and master.cf root 0644.  The data directory must be
    postfix 0700 (else master: "open lock file .../master.lock ...
    Permission denied").  Queue subdirectories as
    /etc/postfix/postfix-files lists them: maildrop postfix:postdrop 0730,
    public postfix:postdrop 0710, pid root 0755, the rest postfix 0700.
    `postfix start` (or `postfix -c DIR/etc set-permissions`) would create
    them, but that runs post-install over every installed file (2.5 s), so
    we make them ourselves.
  * No service is chrooted (column 5 of master.cf is `n` everywhere): a
    chroot would need copies of /etc/services, resolv.conf etc. under
    the queue.
  * Logging: `maillog_file = DIR/maillog` and `maillog_file_prefixes = DIR`
    (a path outside the prefixes is refused), plus the `postlog unix-dgram`
    service in master.cf.  No syslog is needed.
  * Stopping: `postfix -c DIR/etc stop` spends ~1.7 s in postfix-script
    checks; SIGTERM to the pid in DIR/queue/pid/master.pid does the same
    (the master passes it on to its daemons).  Every process of the
    instance has MAIL_CONFIG=DIR/etc in its environment, which is how
    pids() finds them, orphans included.

Use:
    with Postfix(lmtp=("127.0.0.1", 2003)) as pf:
        pf.sendmail(msg, ["alice@example.com"])
        pf.wait_queue_empty()
        assert pf.delivery_status("alice@example.com") == "sent"

Also `smtp_source()`: run Postfix's `smtp-source -L` as an LMTP load generator.
Python standard library only; needs the Debian package `postfix` and root.
"""
import grp
import json
import os
import pwd
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import time

PACKAGE = "postfix"
SBIN = "/usr/sbin"


class PostfixError(Exception):
    """The instance could not be set up, started, fed or stopped."""


def _tool(name):
    path = shutil.which(name) or os.path.join(SBIN, name)
    if not os.access(path, os.X_OK):
        raise PostfixError("%s not found: install the Debian package %s "
                           "(apt-get install -y %s)" % (name, PACKAGE, PACKAGE))
    return path


def missing_tools():
    """Names of the Postfix programs this module needs that are missing."""
    out = []
    for name in ("postfix", "postconf", "postqueue", "sendmail",
                 "smtp-source"):
        path = shutil.which(name) or os.path.join(SBIN, name)
        if not os.access(path, os.X_OK):
            out.append(name)
    return out


def free_port():
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def lmtp_nexthop(lmtp):
    """The Postfix LMTP destination for (host, port) or a UNIX socket path."""
    if isinstance(lmtp, str):
        return "lmtp:unix:%s" % lmtp
    host, port = lmtp
    return "lmtp:inet:%s:%d" % (host, port)


# queue subdirectories owned by mail_owner, mode 0700 (postfix-files)
QUEUE_SUBDIRS = ("active", "bounce", "corrupt", "defer", "deferred", "flush",
                 "hold", "incoming", "private", "saved", "trace")

# one service per line: name type private unpriv chroot wakeup maxproc command
MASTER_CF = """\
# written by tests/postfix.py: nothing chrooted, smtpd on loopback only
{listen} inet n - n - - smtpd
pickup    unix  n - n 60   1 pickup
cleanup   unix  n - n -    0 cleanup
qmgr      unix  n - n 300  1 qmgr
rewrite   unix  - - n -    - trivial-rewrite
bounce    unix  - - n -    0 bounce
defer     unix  - - n -    0 bounce
trace     unix  - - n -    0 bounce
verify    unix  - - n -    1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -    - proxymap
proxywrite unix - - n -    1 proxymap
smtp      unix  - - n -    - smtp
relay     unix  - - n -    - smtp
showq     unix  n - n -    - showq
error     unix  - - n -    - error
retry     unix  - - n -    - error
discard   unix  - - n -    - discard
lmtp      unix  - - n -    - lmtp
anvil     unix  - - n -    1 anvil
scache    unix  - - n -    1 scache
postlog   unix-dgram n - n - 1 postlogd
"""


def main_cf(d, lmtp, domains, name):
    nexthop = lmtp_nexthop(lmtp)
    conf = [
        ("compatibility_level", "3.6"),
        ("queue_directory", os.path.join(d, "queue")),
        ("data_directory", os.path.join(d, "data")),
        ("mail_owner", "postfix"),
        ("setgid_group", "postdrop"),
        ("syslog_name", name),
        ("maillog_file", os.path.join(d, "maillog")),
        ("maillog_file_prefixes", d),
        ("myhostname", "%s.localdomain" % name),
        ("mydomain", "localdomain"),
        ("myorigin", "$myhostname"),
        ("mydestination", "localhost, $myhostname"),
        ("inet_interfaces", "loopback-only"),
        ("inet_protocols", "ipv4"),
        ("mynetworks", "127.0.0.0/8"),
        ("smtpd_relay_restrictions",
         "permit_mynetworks, reject_unauth_destination"),
        ("smtpd_banner", "$myhostname ESMTP test instance"),
        # all local and virtual mail goes to the LMTP server
        ("virtual_mailbox_domains", ", ".join(domains)),
        ("virtual_mailbox_maps", ""),
        ("virtual_transport", nexthop),
        ("local_transport", nexthop),
        ("mailbox_transport", nexthop),
        ("local_recipient_maps", ""),
        ("alias_maps", ""),
        ("alias_database", ""),
        ("relayhost", ""),
        # no DNS anywhere
        ("smtp_dns_support_level", "disabled"),
        ("lmtp_dns_support_level", "disabled"),
        ("smtp_host_lookup", "native"),
        ("lmtp_host_lookup", "native"),
        ("append_dot_mydomain", "no"),
        ("biff", "no"),
        ("smtputf8_enable", "no"),
        # retry quickly: a test waits for the queue to drain
        ("queue_run_delay", "1s"),
        ("minimal_backoff_time", "1s"),
        ("maximal_backoff_time", "5s"),
        ("maximal_queue_lifetime", "1h"),
        ("bounce_queue_lifetime", "1h"),
        ("notify_classes", ""),
        ("default_process_limit", "20"),
        ("message_size_limit", "104857600"),
        ("authorized_submit_users", "static:anyone"),
    ]
    return "# written by tests/postfix.py\n" + "".join(
        "%s = %s\n" % kv for kv in conf)


# "<name>/lmtp[123]: 4Xy...: to=<a@b>, relay=..., delay=.., dsn=2.1.5,
#  status=sent (250 2.1.5 Ok)"
_DELIVERY = re.compile(
    r"\]: (?P<qid>[0-9A-Za-z]+): to=<(?P<to>[^>]*)>,(?: orig_to=<[^>]*>,)?"
    r"(?: relay=(?P<relay>[^,]*),)?.*? dsn=(?P<dsn>[0-9.]+), "
    r"status=(?P<status>\w+) \((?P<text>.*)\)\s*$")


class Postfix:
    """One private Postfix instance.  start() returns self; stop() leaves no
    process of the instance running."""

    def __init__(self, lmtp, domains=("example.com",), directory=None,
                 smtp_port=None, name="postfix-test"):
        self.lmtp = lmtp
        self.domains = tuple(domains)
        self._own_dir = directory is None
        self.dir = os.path.abspath(
            directory or tempfile.mkdtemp(prefix="postfix-"))
        self.smtp_port = smtp_port or free_port()
        self.name = name
        self.conf = os.path.join(self.dir, "etc")
        self.maillog = os.path.join(self.dir, "maillog")
        self.started = False

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    # -- running Postfix's own tools ----------------------------------------
    def _run(self, argv, data=None, timeout=60, check=True):
        env = dict(os.environ, MAIL_CONFIG=self.conf)
        p = subprocess.run(argv, input=data, env=env, timeout=timeout,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if check and p.returncode != 0:
            raise PostfixError("%s exited %d: %s%s" % (
                " ".join(argv), p.returncode,
                p.stderr.decode(errors="replace"),
                self.log_tail()))
        return p

    def log_tail(self, n=20):
        try:
            with open(self.maillog, errors="replace") as f:
                lines = f.readlines()[-n:]
        except OSError:
            return ""
        return "\n--- %s (last %d lines) ---\n%s" % (self.maillog, n,
                                                      "".join(lines))

    def _write(self):
        for sub in ("etc", "queue", "data"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        # postfix must reach every path component below /
        p = self.dir
        while p != "/":
            st = os.stat(p)
            if st.st_mode & 0o005 != 0o005:
                if p == self.dir or p.startswith(self.dir):
                    os.chmod(p, st.st_mode | 0o755)
                else:
                    raise PostfixError("%s is not world-searchable: the postfix "
                                       "user cannot reach %s" % (p, self.dir))
            p = os.path.dirname(p)
        for sub in ("", "etc", "queue"):
            os.chown(os.path.join(self.dir, sub), 0, 0)
            os.chmod(os.path.join(self.dir, sub), 0o755)
        self._make_queue()
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            f.write(main_cf(self.dir, self.lmtp, self.domains, self.name))
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(listen="127.0.0.1:%d" % self.smtp_port))
        for n in ("main.cf", "master.cf"):
            os.chmod(os.path.join(self.conf, n), 0o644)

    def _make_queue(self):
        """Create data_directory and the queue subdirectories with the owners
        and modes of /etc/postfix/postfix-files.  `postfix start` would
        create missing ones itself (post-install create-missing) but that
        walks every file Postfix installed and costs 2.5 s."""
        try:
            owner = pwd.getpwnam("postfix").pw_uid
            drop = grp.getgrnam("postdrop").gr_gid
        except KeyError:
            raise PostfixError("no user postfix or group postdrop: is the "
                               "Debian package %s installed?" % PACKAGE)
        dirs = [("data", owner, 0, 0o700), ("queue/pid", 0, 0, 0o755),
                ("queue/maildrop", owner, drop, 0o730),
                ("queue/public", owner, drop, 0o710)]
        dirs += [("queue/" + n, owner, 0, 0o700) for n in QUEUE_SUBDIRS]
        for rel, uid, gid, mode in dirs:
            path = os.path.join(self.dir, rel)
            os.makedirs(path, exist_ok=True)
            os.chown(path, uid, gid)
            os.chmod(path, mode)

    def master_pid(self):
        """Pid of this instance's master, or None when it is not running."""
        try:
            with open(os.path.join(self.dir, "queue", "pid",
                                   "master.pid")) as f:
                pid = int(f.read().split()[0])
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError, IndexError):
            return None

    # -- public ----------------------------------------------------------
    def start(self, timeout=20.0):
        """Write the configuration, fix permissions, start the master and
        wait until smtpd answers on 127.0.0.1:smtp_port."""
        miss = missing_tools()
        if miss:
            raise PostfixError("Postfix is not installed (missing %s): "
                               "apt-get install -y %s" % (" ".join(miss),
                                                          PACKAGE))
        if os.geteuid() != 0:
            raise PostfixError("a private Postfix must be started as root")
        if self.master_pid():
            raise PostfixError("%s already runs a Postfix master" % self.dir)
        self._write()
        postfix = _tool("postfix")
        self._run([postfix, "-c", self.conf, "start"])
        self.started = True
        end = time.time() + timeout
        while time.time() < end:
            try:
                with socket.create_connection(("127.0.0.1", self.smtp_port),
                                              timeout=2) as s:
                    s.settimeout(5)
                    if s.recv(4).startswith(b"220"):
                        return self
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise PostfixError("Postfix smtpd on 127.0.0.1:%d does not answer%s"
                           % (self.smtp_port, self.log_tail()))

    def stop(self, timeout=15.0):
        """Stop the master and every daemon; SIGKILL what outlives timeout.
        Returns the number of processes that had to be killed."""
        pid = self.master_pid()
        if not pid and not self.pids():
            self.started = False
            return 0
        # what `postfix stop` does, minus 1.7 s of postfix-script checks:
        # the master passes SIGTERM on to its children and exits
        if pid:
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass
        end = time.time() + timeout
        while self.pids() and time.time() < end:
            time.sleep(0.05)
        killed = 0
        for p in self.pids():
            try:
                os.kill(p, signal.SIGKILL)
                killed += 1
            except OSError:
                pass
        self.started = False
        return killed

    def pids(self):
        """Pids of every process of this instance: the master and its
        daemons all carry MAIL_CONFIG=DIR/etc in their environment (the
        master's import_environment passes it on), so this also finds
        daemons orphaned by a master that died."""
        key = ("MAIL_CONFIG=%s" % self.conf).encode()
        out = []
        for ent in os.listdir("/proc"):
            if not ent.isdigit() or int(ent) == os.getpid():
                continue
            try:
                with open("/proc/%s/environ" % ent, "rb") as f:
                    env = f.read().split(b"\0")
            except OSError:
                continue
            if key in env:
                out.append(int(ent))
        return out

    def sendmail(self, msg, rcpts, sender="sender@example.com"):
        """Submit msg (bytes) with Postfix's `sendmail -C DIR` (the
        postdrop/pickup path)."""
        argv = [_tool("sendmail"), "-C", self.conf, "-i", "-f", sender, "--"]
        self._run(argv + list(rcpts), data=msg)

    def smtp_send(self, msg, rcpts, sender="sender@example.com"):
        """Submit msg over SMTP to the instance's smtpd; returns the dict of
        refused recipients (smtplib.sendmail's)."""
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=30) as s:
            return s.sendmail(sender, list(rcpts), msg)

    def queue(self):
        """The queue as `postqueue -j` lists it: one dict per message
        (queue_id, queue_name, sender, recipients[{address, delay_reason}])."""
        p = self._run([_tool("postqueue"), "-c", self.conf, "-j"])
        return [json.loads(line) for line in
                p.stdout.decode(errors="replace").splitlines() if line.strip()]

    def flush(self):
        """Ask the queue manager to retry deferred mail now."""
        self._run([_tool("postqueue"), "-c", self.conf, "-f"])

    def wait_queue_empty(self, timeout=30.0):
        """Wait until no message is queued (delivered or bounced); raise
        PostfixError naming what is still queued and why on timeout."""
        end = time.time() + timeout
        last_flush = time.time()
        while True:
            q = self.queue()
            if not q:
                return
            if time.time() > end:
                why = "; ".join(
                    "%s %s: %s" % (m.get("queue_id"), r.get("address"),
                                   r.get("delay_reason", m.get("queue_name")))
                    for m in q for r in m.get("recipients", []))
                raise PostfixError("queue not empty after %.0fs: %s%s"
                                   % (timeout, why, self.log_tail()))
            if time.time() - last_flush > 2:
                self.flush()
                last_flush = time.time()
            time.sleep(0.1)

    def deliveries(self):
        """Every delivery attempt in the maillog, oldest first: dicts with
        qid, to, relay, dsn, status (sent, deferred, bounced, ...), text."""
        try:
            with open(self.maillog, errors="replace") as f:
                lines = f.read().splitlines()
        except OSError:
            return []
        out = []
        for line in lines:
            m = _DELIVERY.search(line)
            if m:
                out.append(m.groupdict())
        return out

    def delivery_status(self, rcpt):
        """Status of the latest delivery attempt to rcpt ("sent",
        "deferred", "bounced", ...) or None if there was none yet."""
        last = None
        for d in self.deliveries():
            if d["to"].lower() == rcpt.lower():
                last = d["status"]
        return last

    def wait_delivered(self, rcpts, timeout=30.0):
        """Wait until every rcpt has a final status (sent or bounced);
        return {rcpt: delivery dict}."""
        end = time.time() + timeout
        want = {r.lower() for r in rcpts}
        while True:
            final = {}
            for d in self.deliveries():
                to = d["to"].lower()
                if to in want and d["status"] in ("sent", "bounced"):
                    final[to] = d
            if len(final) == len(want):
                return final
            if time.time() > end:
                raise PostfixError("no final delivery for %s after %.0fs%s"
                                   % (sorted(want - set(final)), timeout,
                                      self.log_tail()))
            time.sleep(0.1)


def smtp_source(target, sessions, messages, size, sender, rcpt, lmtp=True,
                timeout=600):
    """Run Postfix's load generator `smtp-source [-L] -s sessions -m messages
    -l size -f sender -t rcpt target` and return the elapsed seconds.

    target: (host, port) or a UNIX socket path.  With lmtp=True (default)
    it speaks LMTP.  Raises PostfixError if smtp-source fails (it exits
    non-zero on any protocol error)."""
    if isinstance(target, str):
        where = "unix:%s" % target
    else:
        where = "%s:%d" % target
    argv = [_tool("smtp-source")] + (["-L"] if lmtp else []) + [
        "-s", str(sessions), "-m", str(messages), "-l", str(size),
        "-f", sender, "-t", rcpt, where]
    t0 = time.monotonic()
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    elapsed = time.monotonic() - t0
    if p.returncode != 0:
        raise PostfixError("%s exited %d: %s" % (
            " ".join(argv), p.returncode,
            (p.stdout + p.stderr).decode(errors="replace")))
    return elapsed
