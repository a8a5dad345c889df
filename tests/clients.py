#!/usr/bin/env python3
"""Real mail clients, run non-interactively, with parsed results.

Each wrapper runs one Debian client program against host/port/user/password
(plain text, no TLS: the servers under test listen on loopback), waits for
it with a timeout and returns what it saw.  Any failure raises ClientError
carrying the command line, exit status and the client's own output, so a
failing e2e test shows the real conversation.

    curl     imap:// LIST, message count, UID SEARCH, fetch by UID, APPEND;
             pop3:// LIST and RETR                       (package curl)
    mutt     opens an IMAP mailbox under a pseudo-terminal and copies every
             message to a local mbox                     (package mutt)
    mbsync   syncs one IMAP mailbox with a local Maildir, both ways
                                                         (package isync)
    fetchmail  POP3 or IMAP into a local mbox through an MDA
                                                         (package fetchmail)
    swaks    one LMTP transaction, per-recipient reply codes at RCPT and
             after DATA                                  (package swaks)

Nothing here starts a server; see tests/postfix.py and bench/cyruspeer.py.
Python standard library only.  Passwords appear on command lines and in
generated rc files inside the caller's temp dirs: test credentials only.
"""
import collections
import email
import email.policy
import mailbox as mailboxlib
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

# program -> Debian package
PACKAGES = collections.OrderedDict([
    ("curl", "curl"), ("mutt", "mutt"), ("mbsync", "isync"),
    ("fetchmail", "fetchmail"), ("swaks", "swaks")])


class ClientError(Exception):
    """A client could not be run or reported failure; str() has its output."""


def missing_clients():
    """Debian packages whose program is not on PATH (empty when all are)."""
    return [pkg for prog, pkg in PACKAGES.items() if not shutil.which(prog)]


def _prog(name):
    path = shutil.which(name)
    if not path:
        raise ClientError("%s not found: apt-get install -y %s"
                          % (name, PACKAGES.get(name, name)))
    return path


def _run(argv, data=None, timeout=60, env=None, ok=(0,)):
    """Run argv; return the CompletedProcess.  Raises ClientError when the
    exit status is not in ok or the timeout passes."""
    try:
        p = subprocess.run(argv, input=data, env=env, timeout=timeout,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except subprocess.TimeoutExpired as e:
        raise ClientError("%s: no answer after %ss\n%s%s" % (
            _show(argv), timeout, _text(e.stdout), _text(e.stderr)))
    if p.returncode not in ok:
        raise ClientError("%s exited %d\n%s%s" % (
            _show(argv), p.returncode, _text(p.stdout), _text(p.stderr)))
    return p


def _text(b):
    return (b or b"").decode("utf-8", errors="replace")


def _show(argv):
    return " ".join(argv)


def _rc_safe(*values):
    """Refuse values that would need quoting in a generated rc file (mutt
    expands $ and backticks, each rc format escapes differently): test
    credentials and names are plain."""
    for v in values:
        if any(c in str(v) for c in "\"'\\$`\r\n"):
            raise ValueError("%r: quotes, backslashes, $, ` and line breaks "
                             "are not supported in generated rc files" % v)


def _parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.compat32)


def _imap_quote(s):
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


# ---------------------------------------------------------------- curl ---
def _curl(url, user, password, extra=(), data=None, timeout=60):
    argv = [_prog("curl"), "-sS", "--max-time", str(timeout),
            "--user", "%s:%s" % (user, password)] + list(extra) + [url]
    return _run(argv, data=data, timeout=timeout + 5)


def _imap_url(host, port, mailbox="", suffix=""):
    path = urllib.parse.quote(mailbox, safe="") if mailbox else ""
    return "imap://%s:%d/%s%s" % (host, port, path, suffix)


_LIST = re.compile(r'^\* LIST \(([^)]*)\) (NIL|"(?:[^"\\]|\\.)*") (.*)$')


def curl_imap_list(host, port, user, password):
    """Mailboxes as curl lists them (LIST "" *): [(flags, sep, name)], with
    quoted names and separators unquoted (sep None for NIL)."""
    p = _curl(_imap_url(host, port), user, password)
    out = []
    for line in _text(p.stdout).splitlines():
        m = _LIST.match(line.rstrip("\r"))
        if not m:
            continue
        flags, sep, name = m.groups()
        sep = None if sep == "NIL" else sep[1:-1].replace("\\", "")
        if name.startswith('"'):
            name = re.sub(r'\\(.)', r'\1', name[1:-1])
        out.append((flags.split(), sep, name))
    return out


def curl_imap_count(host, port, user, password, mailbox="INBOX"):
    """Number of messages in mailbox (the EXISTS of an EXAMINE)."""
    p = _curl(_imap_url(host, port, mailbox), user, password,
              ["-X", "EXAMINE %s" % _imap_quote(mailbox)])
    m = re.search(r"^\* (\d+) EXISTS", _text(p.stdout), re.M)
    if not m:
        raise ClientError("EXAMINE %s: no EXISTS in\n%s"
                          % (mailbox, _text(p.stdout)))
    return int(m.group(1))


def curl_imap_search(host, port, user, password, mailbox="INBOX",
                     criteria="ALL"):
    """UIDs matching criteria (UID SEARCH after curl's SELECT)."""
    p = _curl(_imap_url(host, port, mailbox), user, password,
              ["-X", "UID SEARCH %s" % criteria])
    m = re.search(r"^\* SEARCH([ \d]*)\r?$", _text(p.stdout), re.M)
    if not m:
        raise ClientError("UID SEARCH %s: no SEARCH in\n%s"
                          % (criteria, _text(p.stdout)))
    return [int(x) for x in m.group(1).split()]


def curl_imap_fetch(host, port, user, password, mailbox, uid):
    """The raw message with this UID (curl's imap://host/MAILBOX/;UID=n)."""
    p = _curl(_imap_url(host, port, mailbox, "/;UID=%d" % uid), user,
              password)
    if not p.stdout:
        raise ClientError("fetch of UID %d in %s returned nothing" % (uid,
                                                                     mailbox))
    return p.stdout


def curl_imap_append(host, port, user, password, mailbox, msg):
    """APPEND msg (bytes) with curl --upload-file; returns (uidvalidity, uid)
    from the server's APPENDUID, or None if it sent none."""
    # curl needs the size up front (it sends a synchronizing literal)
    with tempfile.NamedTemporaryFile(prefix="curl-append-") as f:
        f.write(msg)
        f.flush()
        p = _curl(_imap_url(host, port, mailbox), user, password,
                  ["-v", "--upload-file", f.name])
    m = re.search(r"^< \S+ OK \[APPENDUID (\d+) (\d+)\]", _text(p.stderr),
                  re.M)
    return (int(m.group(1)), int(m.group(2))) if m else None


def curl_pop3_list(host, port, user, password):
    """The POP3 LIST: [(message number, size in octets)]."""
    p = _curl("pop3://%s:%d/" % (host, port), user, password)
    out = []
    for line in _text(p.stdout).splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit():
            out.append((int(parts[0]), int(parts[1])))
    return out


def curl_pop3_retr(host, port, user, password, num):
    """The raw message number num (RETR)."""
    p = _curl("pop3://%s:%d/%d" % (host, port, num), user, password)
    if not p.stdout:
        raise ClientError("RETR %d returned nothing" % num)
    return p.stdout


# ---------------------------------------------------------------- mutt ---
MuttResult = collections.namedtuple("MuttResult", "count messages status")
MuttResult.__doc__ = """count: messages mutt copied out; messages: them,
parsed (email.message.Message); status: the Msgs:N of mutt's status line
(None when mutt exited at once on an empty mailbox)."""

MUTTRC = """\
# written by tests/clients.py
set imap_user = "{user}"
set imap_pass = "{password}"
set folder = "imap://{host}:{port}/"
set spoolfile = "+INBOX"
set ssl_starttls = no
set ssl_force_tls = no
set header_cache = ""
set message_cachedir = ""
set mbox_type = mbox
set confirmcreate = no
set confirmappend = no
set wait_key = no
set mail_check = 0
set timeout = 0
set sort = date-received
set move = no
set quit = yes
set delete = no
set beep = no
set imap_check_subscribed = no
"""


def _run_pty(argv, env, cwd, timeout):
    """Run argv with a pseudo-terminal as stdin/stdout/stderr; return
    (exit status, everything it drew).  Killed after timeout."""
    master, slave = pty.openpty()
    try:
        p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave,
                             env=env, cwd=cwd, close_fds=True,
                             start_new_session=True)
    finally:
        os.close(slave)
    out = bytearray()
    end = time.monotonic() + timeout
    try:
        while True:
            r, _, _ = select.select([master], [], [], 0.2)
            chunk = b""
            if r:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: every holder closed the terminal
                    chunk = b""
                out += chunk
            if not chunk and p.poll() is not None:
                break
            if r and not chunk:  # closed but not yet reaped
                try:
                    p.wait(max(0.1, end - time.monotonic()))
                except subprocess.TimeoutExpired:
                    pass
            if time.monotonic() > end:
                p.kill()
                p.wait()
                raise ClientError("%s: still running after %ss; screen:\n%s"
                                  % (_show(argv), timeout,
                                     _screen_text(bytes(out))))
        return p.wait(), bytes(out)
    finally:
        os.close(master)


def _screen_text(raw):
    """Terminal output without escape sequences, for messages and parsing."""
    s = re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][0-9A-Za-z]|\x1b[=>]", b" ",
               raw)
    return _text(s)


def mutt_read(host, port, user, password, mailbox="INBOX", workdir=None,
              timeout=30):
    """Open imap://host:port/mailbox in mutt (-n -F generated muttrc, under
    a pty), tag all messages and copy them to a local mbox, quit.
    Returns MuttResult.  Copying leaves the IMAP mailbox as it was."""
    _rc_safe(user, password, host, mailbox)
    own = workdir is None
    wd = workdir or tempfile.mkdtemp(prefix="mutt-")
    try:
        rc = os.path.join(wd, "muttrc")
        with open(rc, "w") as f:
            f.write(MUTTRC.format(user=user, password=password, host=host,
                                  port=port))
        os.chmod(rc, 0o600)
        out_mbox = os.path.join(wd, "copied.mbox")
        if os.path.exists(out_mbox):
            os.unlink(out_mbox)
        url = "imap://%s:%d/%s" % (host, port, mailbox)
        # -z: exit at once on an empty mailbox (the pushed keys would
        # otherwise be flushed by the "No messages" error and mutt would
        # wait for a keystroke forever)
        keys = ("<tag-pattern>~A<enter><tag-prefix><copy-message>%s<enter>"
                "<quit>" % out_mbox)
        argv = [_prog("mutt"), "-n", "-F", rc, "-z", "-f", url,
                "-e", 'push "%s"' % keys]
        env = dict(os.environ, HOME=wd, TERM="vt100", MAIL="/dev/null",
                   LC_ALL="C.UTF-8")
        env.pop("MUTT", None)
        status, raw = _run_pty(argv, env, wd, timeout)
        screen = _screen_text(raw)
        if status == 1 and "Mailbox is empty" in screen:
            return MuttResult(0, [], None)
        if status != 0:
            raise ClientError("%s exited %d; screen:\n%s"
                              % (_show(argv), status, screen))
        m = re.findall(r"\[Msgs:(\d+)", screen)
        shown = int(m[-1]) if m else None
        msgs = []
        if os.path.exists(out_mbox):
            box = mailboxlib.mbox(out_mbox, create=False)
            msgs = [_parse(box.get_bytes(k)) for k in box.keys()]
            box.close()
        return MuttResult(len(msgs), msgs, shown)
    finally:
        if own:
            shutil.rmtree(wd, ignore_errors=True)


# -------------------------------------------------------------- mbsync ---
MbsyncResult = collections.namedtuple("MbsyncResult", "far near local")
MbsyncResult.__doc__ = """far, near: messages mbsync found on the IMAP
side and in the Maildir when it loaded them (before this sync); local:
messages in the Maildir after the sync."""

MBSYNCRC = """\
# written by tests/clients.py
IMAPAccount acc
Host {host}
Port {port}
User {user}
Pass {password}
SSLType None
AuthMechs LOGIN PLAIN

IMAPStore far
Account acc

MaildirStore near
Path {root}/
Inbox {root}/INBOX
SubFolders Verbatim

Channel sync
Far :far:
Near :near:
Patterns {pattern}
Create Both
Expunge None
Sync All
SyncState *
"""


def maildir_count(path):
    """Messages in the Maildir folder path (files in new/ and cur/)."""
    n = 0
    for sub in ("new", "cur"):
        d = os.path.join(path, sub)
        if os.path.isdir(d):
            n += sum(1 for e in os.listdir(d) if not e.startswith("."))
    return n


def mbsync_folder(root, mailbox="INBOX"):
    """The Maildir folder mbsync_sync() keeps mailbox in, under root."""
    return os.path.join(root, mailbox)


def mbsync_sync(host, port, user, password, root, mailbox="INBOX",
                timeout=60):
    """Sync IMAP mailbox with the Maildir mbsync_folder(root, mailbox) in
    both directions (new messages, flags; nothing expunged).  The rc file
    and sync state live in root, so repeated calls are incremental.
    Returns MbsyncResult."""
    _rc_safe(user, password, host, mailbox, root)
    os.makedirs(root, exist_ok=True)
    rc = os.path.join(root, ".mbsyncrc")
    with open(rc, "w") as f:
        f.write(MBSYNCRC.format(host=host, port=port, user=user,
                                password=password, root=root,
                                pattern=_imap_quote(mailbox)))
    os.chmod(rc, 0o600)
    argv = [_prog("mbsync"), "-c", rc, "-V", "sync"]
    env = dict(os.environ, HOME=root)
    p = _run(argv, timeout=timeout, env=env)
    out = _text(p.stdout) + _text(p.stderr)
    far = re.search(r"^far side: (\d+) messages", out, re.M)
    near = re.search(r"^near side: (\d+) messages", out, re.M)
    if not far or not near:
        raise ClientError("%s: no message counts in\n%s" % (_show(argv), out))
    return MbsyncResult(int(far.group(1)), int(near.group(1)),
                        maildir_count(mbsync_folder(root, mailbox)))


# ----------------------------------------------------------- fetchmail ---
FetchResult = collections.namedtuple("FetchResult", "count messages")
FetchResult.__doc__ = """count: messages fetchmail reported reading in this
run; messages: every message now in the mbox, parsed."""

FETCHMAILRC = """\
# written by tests/clients.py
set no syslog
set no bouncemail
poll {host} service {port} protocol {protocol} auth password timeout 30
  user "{user}" there with password "{password}" is "{local}" here
  {folder}keep fetchall no rewrite sslproto ''
  mda "{python} -S {mda} {mbox}"
"""

# the MDA fetchmail pipes each message to: append it to an mbox
MDA = """\
import mailbox, sys
box = mailbox.mbox(sys.argv[1])
box.lock()
try:
    box.add(mailbox.mboxMessage(sys.stdin.buffer.read()))
    box.flush()
finally:
    box.unlock()
    box.close()
"""


def fetchmail_fetch(host, port, user, password, mbox, protocol="POP3",
                    mailbox="INBOX", timeout=60):
    """Fetch all messages (keep them on the server) over POP3 or IMAP
    (mailbox selects the IMAP folder) and append them to the local mbox.
    Returns FetchResult; a server with no messages gives count 0."""
    _rc_safe(user, password, host, mailbox, mbox)
    protocol = protocol.upper()
    if protocol not in ("POP3", "IMAP"):
        raise ValueError("protocol must be POP3 or IMAP")
    wd = tempfile.mkdtemp(prefix="fetchmail-")
    try:
        mda = os.path.join(wd, "mda.py")
        with open(mda, "w") as f:
            f.write(MDA)
        rc = os.path.join(wd, "fetchmailrc")
        folder = ('folder "%s"\n  ' % mailbox) if protocol == "IMAP" else ""
        with open(rc, "w") as f:
            f.write(FETCHMAILRC.format(
                host=host, port=port, protocol=protocol, user=user,
                password=password, local="root", folder=folder,
                python=sys.executable, mda=mda, mbox=os.path.abspath(mbox)))
        os.chmod(rc, 0o600)  # fetchmail refuses a readable rc file
        argv = [_prog("fetchmail"), "-f", rc, "--nodetach", "-v"]
        env = dict(os.environ, FETCHMAILHOME=wd, HOME=wd)
        # 0: mail fetched; 1: no mail (fetchmail(1) EXIT CODES)
        p = _run(argv, timeout=timeout, env=env, ok=(0, 1))
        out = _text(p.stdout) + _text(p.stderr)
        count = len(re.findall(r"^reading message ", out, re.M))
        if p.returncode == 0 and count == 0:
            raise ClientError("fetchmail exited 0 but read nothing:\n%s" % out)
        msgs = []
        if os.path.exists(mbox):
            box = mailboxlib.mbox(mbox, create=False)
            msgs = [_parse(box.get_bytes(k)) for k in box.keys()]
            box.close()
        return FetchResult(count, msgs)
    finally:
        shutil.rmtree(wd, ignore_errors=True)


# --------------------------------------------------------------- swaks ---
SwaksResult = collections.namedtuple("SwaksResult",
                                     "rcpt data status transcript")
SwaksResult.__doc__ = """rcpt: {recipient: reply code to RCPT TO};
data: {recipient: reply code after DATA} for recipients whose RCPT was
accepted (LMTP answers once per recipient); status: swaks' exit status;
transcript: swaks' output."""


def _replies(lines):
    """Pair each client command with the server reply that follows it:
    [(command, code, text)].  Lines: swaks' ' -> ', '<- ' and '<** '."""
    out = []
    cmd = None
    text = []
    for line in lines:
        if line.startswith(" -> "):
            cmd = line[4:]
            continue
        if not (line.startswith("<-  ") or line.startswith("<** ")):
            continue
        reply = line[4:]
        text.append(reply)
        if len(reply) >= 4 and reply[3] == "-":
            continue  # continuation line
        code = int(reply[:3]) if reply[:3].isdigit() else 0
        out.append((cmd, code, "\n".join(text)))
        text = []
    return out


def swaks_lmtp(target, rcpts, msg=None, sender="sender@example.com",
               helo="client.example.com", timeout=60):
    """One LMTP transaction with swaks --protocol LMTP.  target: (host,
    port) or a UNIX socket path; msg: the whole message (bytes) or None for
    swaks' default test message.  Returns SwaksResult; never raises for
    refused recipients (that is a result), only when swaks cannot run."""
    argv = [_prog("swaks"), "--protocol", "LMTP", "--helo", helo,
            "--from", sender, "--to", ",".join(rcpts),
            "--timeout", str(timeout)]
    if isinstance(target, str):
        argv += ["--socket", target]
    else:
        argv += ["--server", target[0], "--port", str(target[1])]
    if msg is not None:
        argv += ["--data", "-"]
    # swaks exits non-zero on refused recipients or data: that is a result
    p = _run(argv, data=msg if msg is not None else b"", timeout=timeout + 5,
             ok=tuple(range(256)))
    transcript = _text(p.stdout) + _text(p.stderr)
    if p.returncode == 2 or "=== Connected" not in transcript:
        raise ClientError("%s could not connect (exit %d):\n%s"
                          % (_show(argv), p.returncode, transcript))
    pairs = _replies(transcript.splitlines())
    rcpt = {}
    accepted = []
    data = {}
    pending_data = False
    for cmd, code, _ in pairs:
        if cmd and cmd.upper().startswith("RCPT TO:"):
            addr = cmd[8:].strip().strip("<>")
            rcpt[addr] = code
            if code // 100 == 2:
                accepted.append(addr)
        elif cmd == "DATA" and code == 354:
            pending_data = True
        elif pending_data and len(data) < len(accepted):
            # after the final dot: one reply per accepted recipient, in order
            data[accepted[len(data)]] = code
    return SwaksResult(rcpt, data, p.returncode, transcript)
