#!/usr/bin/env python3
"""IMAP workload driver: the same workload against any IMAP server, timed with
the wall clock, one JSON document out.

  bench/imapbench.py --port 143 --user bench --password pw [--host 127.0.0.1]
                     [--messages 10000] [--sample 1000] [--repeat 3]
                     [--mailbox NAME] [--keep] [--label cyrus] [--out FILE]
  bench/imapbench.py --compare A.json B.json ...   markdown table, B/A ratios

Steps (each a row with seconds and messages/s):
  append          APPEND of --messages generated messages into a new mailbox,
                  pipelined (64 in flight) with LITERAL+ when the server has it
  fetch_flags     FETCH 1:* (FLAGS)
  fetch_envelope  FETCH 1:* (ENVELOPE)
  fetch_body      FETCH <sample set> (BODY[])  (--sample messages spread evenly)
  search_subject  UID SEARCH SUBJECT "invoice"   (rate = messages scanned/s)
  search_from     UID SEARCH FROM "carol.smith"
  search_body     UID SEARCH BODY "zanzibar"
  store           STORE 1:* +FLAGS (\\Flagged)
Read-only steps run --repeat times; the row reports the fastest run (and all
times).  Each row also reports what the server answered (hits, responses) so
two servers can be checked against each other.

idle_session: RSS and PSS of the server process that serves a freshly
logged-in, idle session.  The process is found from the socket: the server's
end of our connection is the /proc/net/tcp{,6} entry whose local port is the
server port and whose remote port is our local port; its inode is matched
against /proc/*/fd/* (socket:[inode]); if several processes hold it (a fork
that kept it), the one with no descendant in the set is the session's.  This
needs the server on this host and permission to read its /proc (root).

Messages are generated deterministically (seeded PRNG): 2-20 KB, realistic
headers (Received, Message-ID, Date, From, To, Cc, Subject, MIME), a quarter
of them MIME multiparts (text+html alternative, or text + base64
attachment).  Subject "invoice" on every 50th message, sender carol.smith on
every 20th, the word "zanzibar" in every 97th body: the searches have known
answers (reported as expected_hits).

The client is a small raw-socket IMAP client (stdlib only) so that the time
measured is the server's, not imaplib's parsing.
"""
import argparse
import base64
import json
import os
import random
import re
import socket
import sys
import time

WORDS = ("the of and to in is you that it he was for on are as with his they at "
         "be this have from or one had by word but not what all were we when your "
         "can said there use an each which she do how their if will up other about "
         "out many then them these so some her would make like him into time has "
         "look two more write go see number no way could people my than first water "
         "been call who oil its now find long down day did get come made may part "
         "meeting report quarter budget project release server mailbox backup "
         "schedule review draft agenda proposal contract customer support network "
         "deadline update summary request approval travel office printer coffee").split()
SENDERS = ["alice.jones", "bob.miller", "carol.smith", "dave.brown", "erin.davis",
           "frank.wilson", "grace.moore", "heidi.taylor", "ivan.anderson",
           "judy.thomas", "mallory.jackson", "niaj.white", "olivia.harris",
           "peggy.martin", "rupert.thompson", "sybil.garcia", "trent.martinez",
           "victor.robinson", "walter.clark", "yolanda.lewis"]
DOMAINS = ["example.com", "example.org", "example.net", "mail.example.com"]
SUBJECT_MARK, SUBJECT_EVERY = "invoice", 50
FROM_MARK, FROM_EVERY = "carol.smith", 20    # SENDERS[2], i % 20 == 2
BODY_MARK, BODY_EVERY = "zanzibar", 97


class MessageGen:
    """Deterministic message i (1-based) for a given seed."""

    def __init__(self, seed=42):
        rng = random.Random(seed)
        self.seed = seed
        # one long pool of text lines (words wrapped at 72 columns); bodies
        # are runs of whole lines from it
        self.lines, cur = [], []
        width = 0
        for _ in range(60000):
            w = rng.choice(WORDS)
            if width + len(w) + 1 > 72:
                self.lines.append(" ".join(cur))
                cur, width = [], 0
            cur.append(w)
            width += len(w) + 1
        self.avg = sum(len(x) + 2 for x in self.lines) / len(self.lines)
        self.blob = bytes(rng.getrandbits(8) for _ in range(16384))

    def _text(self, rng, size, mark=None):
        """About size bytes of whole CRLF lines; mark (a word) on a line of
        its own somewhere inside."""
        count = max(1, int(size / self.avg))
        start = rng.randrange(0, len(self.lines) - count - 1)
        lines = self.lines[start:start + count]
        if mark:
            lines.insert(rng.randrange(len(lines) + 1), "see %s notes" % mark)
        return "\r\n".join(lines)

    def message(self, i):
        rng = random.Random(self.seed * 1000003 + i)
        size = rng.randrange(2048, 20480)
        sender = SENDERS[i % len(SENDERS)]
        dom = DOMAINS[i % len(DOMAINS)]
        to = SENDERS[(i * 7 + 3) % len(SENDERS)]
        words = [rng.choice(WORDS) for _ in range(rng.randrange(3, 9))]
        if i % SUBJECT_EVERY == 0:
            words.insert(rng.randrange(len(words)), SUBJECT_MARK)
        subject = " ".join(words).capitalize()
        day = 1 + i % 28
        hh, mm, ss = (i // 3600) % 24, (i // 60) % 60, i % 60
        date = "%s, %02d Mar 2025 %02d:%02d:%02d +0100" % (
            ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[i % 7], day, hh, mm, ss)
        hdr = [
            "Return-Path: <%s@%s>" % (sender, dom),
            "Received: from mx%d.%s (mx%d.%s [192.0.2.%d])\r\n\tby mail.example.com "
            "(Postfix) with ESMTPS id %08X\r\n\tfor <%s@example.com>; %s"
            % (i % 5, dom, i % 5, dom, i % 250 + 1, i * 2654435761 & 0xFFFFFFFF,
               to, date),
            "Message-ID: <%d.%08x@%s>" % (i, rng.getrandbits(32), dom),
            "Date: %s" % date,
            "From: \"%s\" <%s@%s>" % (sender.replace(".", " ").title(), sender, dom),
            "To: \"%s\" <%s@example.com>" % (to.replace(".", " ").title(), to),
        ]
        if i % 3 == 0:
            hdr.append("Cc: %s@example.org, %s@example.net"
                       % (SENDERS[(i + 5) % 20], SENDERS[(i + 11) % 20]))
        hdr += ["Subject: %s" % subject, "MIME-Version: 1.0"]
        kind = i % 8
        mark = BODY_MARK if i % BODY_EVERY == 0 else None
        n = rng.randrange(1024, len(self.blob)) if kind == 5 else 0
        tsize = size // 2 if kind == 1 else max(300, size - n * 4 // 3)
        text = self._text(rng, tsize, mark)
        if kind == 1:
            b = "=_alt_%d" % i
            hdr.append('Content-Type: multipart/alternative; boundary="%s"' % b)
            body = ("This is a multi-part message in MIME format.\r\n\r\n"
                    "--%s\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n%s\r\n"
                    "--%s\r\nContent-Type: text/html; charset=us-ascii\r\n\r\n"
                    "<html><body><p>%s</p></body></html>\r\n--%s--\r\n"
                    % (b, text, b, text.replace("\r\n", "<br>\r\n"), b))
        elif kind == 5:
            b = "=_mixed_%d" % i
            att = base64.encodebytes(self.blob[:n]).decode().replace("\n", "\r\n")
            hdr.append('Content-Type: multipart/mixed; boundary="%s"' % b)
            body = ("--%s\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n%s\r\n"
                    "--%s\r\nContent-Type: application/pdf; name=\"report-%d.pdf\"\r\n"
                    "Content-Transfer-Encoding: base64\r\n"
                    "Content-Disposition: attachment; filename=\"report-%d.pdf\"\r\n\r\n"
                    "%s--%s--\r\n" % (b, text, b, i, i,
                                       att, b))
        else:
            hdr.append("Content-Type: text/plain; charset=us-ascii")
            hdr.append("Content-Transfer-Encoding: 7bit")
            body = text + "\r\n"
        return ("\r\n".join(hdr) + "\r\n\r\n" + body).encode("ascii")

    def expected(self, n):
        return {
            "search_subject": sum(1 for i in range(1, n + 1) if i % SUBJECT_EVERY == 0),
            "search_from": sum(1 for i in range(1, n + 1) if i % len(SENDERS) == 2),
            "search_body": sum(1 for i in range(1, n + 1) if i % BODY_EVERY == 0),
        }


class ImapError(Exception):
    pass


class Conn:
    """Minimal IMAP client on a raw socket: tagged commands, literals skipped
    or collected, untagged responses counted."""

    def __init__(self, host, port, timeout=300):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.pos = 0
        self.ntag = 0
        self.rx = 0
        greeting = self.line()
        if not greeting.startswith(b"* OK"):
            raise ImapError("greeting: %r" % greeting)
        self.caps = set()
        self._caps_from(greeting)

    def _caps_from(self, line):
        m = re.search(rb"\[CAPABILITY ([^\]]*)\]", line)
        if m:
            self.caps = set(m.group(1).upper().split())

    def _fill(self):
        if self.pos > 1 << 20:
            del self.buf[:self.pos]
            self.pos = 0
        data = self.sock.recv(1 << 18)
        if not data:
            raise ImapError("connection closed by server")
        self.rx += len(data)
        self.buf += data

    def line(self):
        while True:
            i = self.buf.find(b"\r\n", self.pos)
            if i >= 0:
                out = bytes(self.buf[self.pos:i])
                self.pos = i + 2
                return out
            self._fill()

    def take(self, n):
        while len(self.buf) - self.pos < n:
            self._fill()
        out = self.buf[self.pos:self.pos + n]
        self.pos += n
        return out

    def tag(self):
        self.ntag += 1
        return b"B%05d" % self.ntag

    def response(self, tag, keep=False):
        """Read until the tagged response of tag.  Returns (status line,
        untagged count, list of untagged lines with literals inlined if
        keep, else of the first line of each untagged response)."""
        untagged, lines = 0, []
        while True:
            ln = self.line()
            whole = [ln]
            while ln.endswith(b"}"):
                m = re.search(rb"\{(\d+)\+?\}$", ln)
                if not m:
                    break
                lit = self.take(int(m.group(1)))
                if keep:
                    whole.append(bytes(lit))
                ln = self.line()
                whole.append(ln)
            if whole[0].startswith(b"* "):
                untagged += 1
                lines.append(b"".join(whole) if keep else whole[0])
            elif whole[0].startswith(tag + b" "):
                return whole[0], untagged, lines
            elif whole[0].startswith(b"+"):
                raise ImapError("unexpected continuation: %r" % whole[0])

    def cmd(self, text, keep=False, ok=True):
        t = self.tag()
        self.sock.sendall(t + b" " + text + b"\r\n")
        status, n, lines = self.response(t, keep)
        if ok and not status.startswith(t + b" OK"):
            raise ImapError("%s -> %r" % (text[:80], status))
        return status, n, lines

    @staticmethod
    def quote(s):
        return b'"' + s.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'

    def login(self, user, pw):
        st, _, _ = self.cmd(b"LOGIN " + self.quote(user.encode()) + b" "
                            + self.quote(pw.encode()))
        self._caps_from(st)
        if not any(c.startswith(b"LITERAL") for c in self.caps):
            _, _, lines = self.cmd(b"CAPABILITY")
            for ln in lines:
                if ln.upper().startswith(b"* CAPABILITY "):
                    self.caps = set(ln[13:].upper().split())

    def append_many(self, mbox, messages, window=64):
        """APPEND every message; pipelined with LITERAL+, else one at a time.
        Returns the number of OK answers."""
        qm = self.quote(mbox.encode())
        nok = 0
        if b"LITERAL+" not in self.caps:
            for msg in messages:
                t = self.tag()
                self.sock.sendall(t + b" APPEND " + qm + b" {%d}\r\n" % len(msg))
                ln = self.line()
                if not ln.startswith(b"+"):
                    raise ImapError("APPEND refused: %r" % ln)
                self.sock.sendall(msg + b"\r\n")
                st, _, _ = self.response(t)
                nok += st.startswith(t + b" OK")
            return nok
        pending = []
        it = iter(messages)
        done = False
        while True:
            while not done and len(pending) < window:
                try:
                    msg = next(it)
                except StopIteration:
                    done = True
                    break
                t = self.tag()
                self.sock.sendall(t + b" APPEND " + qm + b" {%d+}\r\n" % len(msg)
                                  + msg + b"\r\n")
                pending.append(t)
            if not pending:
                return nok
            t = pending.pop(0)
            st, _, _ = self.response(t)
            if not st.startswith(t + b" OK"):
                raise ImapError("APPEND: %r" % st)
            nok += 1

    def close(self):
        try:
            self.cmd(b"LOGOUT", ok=False)
        except (OSError, ImapError):
            pass
        self.sock.close()


# -- finding the server process of a connection ----------------------------

def _tcp_inodes(local_port, remote_port):
    """Inodes of sockets in /proc/net/tcp{,6} with that local and remote port."""
    found = []
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                next(f)
                for ln in f:
                    parts = ln.split()
                    lport = int(parts[1].rsplit(":", 1)[1], 16)
                    rport = int(parts[2].rsplit(":", 1)[1], 16)
                    if lport == local_port and rport == remote_port:
                        found.append(parts[9])
        except OSError:
            continue
    return [i for i in found if i != "0"]


def _ppid(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def server_pid(conn, server_port):
    """Pid of the process serving conn (see the module doc), or None."""
    return pid_by_ports(server_port, conn.sock.getsockname()[1])


def pid_by_ports(server_port, client_port):
    """Pid of the process holding the server end (local port server_port,
    remote port client_port) of a TCP connection on this host, or None."""
    my_port = client_port
    inodes = set("socket:[%s]" % i for i in _tcp_inodes(server_port, my_port))
    if not inodes:
        return None
    holders = set()
    for ent in os.listdir("/proc"):
        if not ent.isdigit():
            continue
        fddir = "/proc/%s/fd" % ent
        try:
            for fd in os.listdir(fddir):
                try:
                    if os.readlink(os.path.join(fddir, fd)) in inodes:
                        holders.add(int(ent))
                        break
                except OSError:
                    continue
        except OSError:
            continue
    # the session's process: a holder none of whose descendants hold it
    leaves = [p for p in holders
              if not any(_is_ancestor(p, q) for q in holders if q != p)]
    return max(leaves) if leaves else None


def upstream_pid(pid, server_port):
    """Pid of the process at the other end of pid's TCP connection to
    server_port on this host (the backend process serving a frontend
    process), or None."""
    fds = "/proc/%d/fd" % pid
    mine = set()
    try:
        for fd in os.listdir(fds):
            try:
                link = os.readlink(os.path.join(fds, fd))
            except OSError:
                continue
            if link.startswith("socket:["):
                mine.add(link[8:-1])
    except OSError:
        return None
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                next(f)
                for ln in f:
                    parts = ln.split()
                    rport = int(parts[2].rsplit(":", 1)[1], 16)
                    if parts[9] in mine and rport == server_port:
                        lport = int(parts[1].rsplit(":", 1)[1], 16)
                        return pid_by_ports(server_port, lport)
        except OSError:
            continue
    return None


def cpu_seconds(pid):
    """CPU time a process has used so far (all its threads), in seconds,
    from /proc/PID/task/*/schedstat (nanoseconds; /proc/PID/stat's ticks
    are too coarse for millisecond steps). None when unreadable."""
    if not pid:
        return None
    total = 0
    try:
        for t in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/schedstat" % (pid, t)) as f:
                    total += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                continue
    except OSError:
        return None
    return total / 1e9


def _is_ancestor(a, b):
    while b > 1:
        b = _ppid(b)
        if b == a:
            return True
    return False


def proc_memory(pid):
    """{"rss_kb", "pss_kb", "name"} of a process (pss 0 if unreadable)."""
    out = {"pid": pid, "rss_kb": 0, "pss_kb": 0, "name": ""}
    try:
        with open("/proc/%d/status" % pid) as f:
            for ln in f:
                if ln.startswith("VmRSS:"):
                    out["rss_kb"] = int(ln.split()[1])
                elif ln.startswith("Name:"):
                    out["name"] = ln.split()[1]
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for ln in f:
                if ln.startswith("Pss:"):
                    out["pss_kb"] = int(ln.split()[1])
    except OSError:
        pass
    return out


# -- the workload ------------------------------------------------------------

def seqset(nums):
    """Compact IMAP sequence set of sorted numbers."""
    out, i = [], 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        out.append(str(nums[i]) if i == j else "%d:%d" % (nums[i], nums[j]))
        i = j + 1
    return ",".join(out)


def timed(fn, repeat):
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), times, result


def row(op, n, seconds, times=None, **extra):
    r = {"op": op, "messages": n, "seconds": round(seconds, 4),
         "msgs_per_s": round(n / seconds, 1) if seconds > 0 else None}
    if times and len(times) > 1:
        r["all_seconds"] = [round(t, 4) for t in times]
    r.update(extra)
    return r


def mailbox_name(c, base):
    """INBOX<sep>base: a personal sub-mailbox in either naming."""
    _, _, lines = c.cmd(b'LIST "" ""')
    sep = "."
    for ln in lines:
        m = re.match(rb'\* LIST \([^)]*\) "(.)"', ln)
        if m:
            sep = m.group(1).decode()
    return "INBOX%s%s" % (sep, base)


def run(args):
    gen = MessageGen(args.seed)
    msgs = [gen.message(i) for i in range(1, args.messages + 1)]
    total_bytes = sum(len(m) for m in msgs)
    c = Conn(args.host, args.port)
    c.login(args.user, args.password)
    mbox = mailbox_name(c, args.mailbox or "bench%d" % int(time.time()))
    qm = c.quote(mbox.encode())
    st, _, _ = c.cmd(b"CREATE " + qm, ok=False)
    if b" OK" not in st[:12]:
        # a server without the user's INBOX yet: try making it, then again
        c.cmd(b"CREATE INBOX", ok=False)
        st, _, _ = c.cmd(b"CREATE " + qm, ok=False)
    if b" OK" not in st[:12]:
        raise ImapError("CREATE %s: %r (choose another --mailbox)" % (mbox, st))
    rows = []
    n = args.messages

    t0 = time.perf_counter()
    nok = c.append_many(mbox, msgs)
    dt = time.perf_counter() - t0
    rows.append(row("append", nok, dt, mb_per_s=round(total_bytes / dt / 1e6, 2),
                    pipelined=b"LITERAL+" in c.caps))
    st, _, lines = c.cmd(b"SELECT " + qm)
    exists = 0
    for ln in lines:
        m = re.match(rb"\* (\d+) EXISTS", ln)
        if m:
            exists = int(m.group(1))
    if exists != n:
        raise ImapError("SELECT: %d messages, expected %d" % (exists, n))

    def fetch(what, keep=False):
        return lambda: c.cmd(b"FETCH " + what, keep)[1]

    best, times, cnt = timed(fetch(b"1:* (FLAGS)"), args.repeat)
    rows.append(row("fetch_flags", n, best, times, responses=cnt))
    best, times, cnt = timed(fetch(b"1:* (ENVELOPE)"), args.repeat)
    rows.append(row("fetch_envelope", n, best, times, responses=cnt))
    k = max(1, min(args.sample, n))
    sample = sorted(set(1 + (j * n) // k for j in range(k)))
    rx0 = c.rx
    best, times, cnt = timed(fetch(seqset(sample).encode() + b" (BODY[])"),
                             args.repeat)
    rows.append(row("fetch_body", len(sample), best, times, responses=cnt,
                    mb_per_s=round((c.rx - rx0) / args.repeat / best / 1e6, 2)))
    expected = gen.expected(n)
    for op, crit in (("search_subject", b'SUBJECT "%s"' % SUBJECT_MARK.encode()),
                     ("search_from", b'FROM "%s"' % FROM_MARK.encode()),
                     ("search_body", b'BODY "%s"' % BODY_MARK.encode())):
        def search(crit=crit):
            _, _, lines = c.cmd(b"UID SEARCH " + crit)
            hits = 0
            for ln in lines:
                if ln.upper().startswith(b"* SEARCH"):
                    hits += len(ln.split()) - 2
            return hits
        best, times, hits = timed(search, args.repeat)
        rows.append(row(op, n, best, times, hits=hits, expected_hits=expected[op]))
    best, times, cnt = timed(lambda: c.cmd(b"STORE 1:* +FLAGS (\\Flagged)")[1], 1)
    rows.append(row("store", n, best, times, responses=cnt))

    idle = None
    if not args.no_rss:
        s = Conn(args.host, args.port)
        s.login(args.user, args.password)
        s.cmd(b"SELECT INBOX")
        time.sleep(0.5)
        pid = server_pid(s, args.port)
        idle = proc_memory(pid) if pid else {"error": "server process not found "
                                             "(not local, or /proc not readable)"}
        s.close()
    if not args.keep:
        c.cmd(b"CLOSE", ok=False)
        c.cmd(b"DELETE " + qm, ok=False)
    c.close()
    return {
        "label": args.label, "host": args.host, "port": args.port,
        "user": args.user, "mailbox": mbox, "messages": n,
        "message_bytes": total_bytes, "seed": args.seed,
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "rows": rows, "idle_session": idle,
    }


def compare(paths):
    """Markdown table of several result files side by side; the ratio
    column is (each later server) / (the first)."""
    res = []
    for p in paths:
        with open(p) as f:
            res.append(json.load(f))
    base = res[0]
    head = ["step"] + ["%s msg/s" % r["label"] for r in res]
    head += ["%s/%s" % (r["label"], base["label"]) for r in res[1:]]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    ops = [r["op"] for r in base["rows"]]
    for op in ops:
        vals = []
        for r in res:
            row_ = next((x for x in r["rows"] if x["op"] == op), None)
            vals.append(row_["msgs_per_s"] if row_ else None)
        cells = [op] + ["%.0f" % v if v else "-" for v in vals]
        cells += ["%.2f" % (v / vals[0]) if v and vals[0] else "-" for v in vals[1:]]
        out.append("| " + " | ".join(cells) + " |")
    for key, name in (("rss_kb", "idle session RSS KB"), ("pss_kb", "idle session PSS KB")):
        vals = [(r.get("idle_session") or {}).get(key) for r in res]
        cells = [name] + [str(v) if v else "-" for v in vals]
        cells += ["%.2f" % (v / vals[0]) if v and vals[0] else "-" for v in vals[1:]]
        out.append("| " + " | ".join(cells) + " |")
    notes = []
    for r in res:
        for x in r["rows"]:
            if "expected_hits" in x and x["hits"] != x["expected_hits"]:
                notes.append("%s: %s found %d, expected %d" % (
                    r["label"], x["op"], x["hits"], x["expected_hits"]))
    return "\n".join(out) + ("\n\n" + "\n".join("* " + n for n in notes)
                             if notes else "") + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(prog="imapbench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--mailbox", help="name under INBOX (default bench<time>); "
                    "must not exist")
    ap.add_argument("--messages", type=int, default=10000)
    ap.add_argument("--sample", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--label", default="server")
    ap.add_argument("--keep", action="store_true", help="keep the mailbox")
    ap.add_argument("--no-rss", action="store_true")
    ap.add_argument("--out", help="also write the JSON here")
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["--compare"]:
        sys.stdout.write(compare(argv[1:]))
        return 0
    args = ap.parse_args(argv)
    try:
        res = run(args)
    except (OSError, ImapError) as e:
        sys.stderr.write("imapbench: %s\n" % e)
        return 1
    text = json.dumps(res, indent=1)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
