"""xfer_bench.py: time XFER of one user holding N messages (default 10,000)
between two backends, without and with concurrent LMTP load to that same
user, on our servers and on Debian's Cyrus 3.6 (bench/cyruspeer.py murder
mode) in the same run (issue 8; results in doc/benchmarks.md).

    CYRUS_BUILD=$PWD/build python3 bench/xfer_bench.py [N] [--no-cyrus]

Ours: the tests/test_xfer.py topology (master, be1, be2); the load is
delivered where the master says the user lives, retrying on 4xx and on
the source's 550 during the switch (as a frontend turns it into 451).
Cyrus: the load goes to its frontend's LMTP proxy, retrying on 4xx. Each
loaded run then counts the user's messages: N + acknowledged deliveries,
each exactly once, or the run is reported as failed.
"""
import imaplib
import os
import re
import smtplib
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
sys.path.insert(0, os.path.dirname(__file__))
import test_xfer  # noqa: E402

imaplib.Commands.setdefault("XFER", ("AUTH", "SELECTED"))
ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
N = int(ARGS[0]) if ARGS else 10000
BATCH = 200


def multiappend(port, user, pw, n, tag):
    s = socket.create_connection(("127.0.0.1", port))
    f = s.makefile("rb")
    f.readline()
    s.sendall(b"a LOGIN %s %s\r\n" % (user.encode(), pw.encode()))
    while True:
        line = f.readline()
        if line.startswith(b"a "):
            assert line.startswith(b"a OK"), line
            break
    i = 0
    while i < n:
        parts = [b"b APPEND INBOX"]
        for j in range(i, min(n, i + BATCH)):
            m = test_xfer.msg(j, tag)
            parts.append(b" (\\Seen) {%d+}\r\n" % len(m) + m)
        s.sendall(b"".join(parts) + b"\r\n")
        while True:
            line = f.readline()
            if line.startswith(b"b "):
                assert line.startswith(b"b OK"), line
                break
        i += BATCH
    s.sendall(b"c LOGOUT\r\n")
    s.close()


class Load:
    """LMTP deliveries to user until stopped; target() gives the port."""

    def __init__(self, user, target):
        self.user, self.target = user, target
        self.acked, self.retries, self.errors = [], 0, []
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.run)

    def run(self):
        i = 0
        while not self.stop.is_set():
            try:
                port = self.target()
                if port is None:
                    time.sleep(0.02)
                    continue
                with smtplib.LMTP("127.0.0.1", port, timeout=30) as l:
                    l.sendmail("s@example.com", [self.user],
                               test_xfer.msg(i, "load"))
                self.acked.append("load-%d" % i)
                i += 1
            except smtplib.SMTPRecipientsRefused as ex:
                code = list(ex.recipients.values())[0][0]
                if code // 100 != 4 and code != 550:
                    self.errors.append(str(ex))
                    return
                self.retries += 1
                time.sleep(0.02)
            except smtplib.SMTPResponseException as ex:
                if ex.smtp_code // 100 != 4:
                    self.errors.append(str(ex))
                    return
                self.retries += 1
                time.sleep(0.02)
            except OSError as ex:
                self.retries += 1
                time.sleep(0.05)

    def __enter__(self):
        self.t.start()
        while len(self.acked) < 5 and not self.errors:
            time.sleep(0.01)
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.t.join()


def count(port, user, pw):
    """{message-id local part: occurrences} of user's INBOX."""
    c = imaplib.IMAP4("127.0.0.1", port, timeout=60)
    c.login(user, pw)
    c.select("INBOX", readonly=True)
    typ, data = c.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    c.logout()
    ids = {}
    for x in data:
        if isinstance(x, tuple):
            k = re.search(rb"<([^@]+)@", x[1]).group(1).decode()
            ids[k] = ids.get(k, 0) + 1
    return ids


def verdict(ids, load):
    base = sum(1 for k in ids if not k.startswith("load-"))
    got = {k: v for k, v in ids.items() if k.startswith("load-")}
    dups = sum(v - 1 for v in got.values())
    lost = len(set(load.acked) - set(got)) if load else 0
    ok = base == N and dups == 0 and lost == 0
    return ok, "%d+%d msgs, %d lost, %d duplicated" % (base, len(got),
                                                       lost, dups)


def report(server, typ, dt, load, ok, what):
    print("%-6s XFER %5d msgs %-12s %s %7.2f s %6.0f msg/s  %s%s" % (
        server, N, "with load" if load else "without load", typ, dt,
        N / dt, what, "" if ok else "  FAILED"))
    if load:
        print("%-6s        %d LMTP deliveries acked (from 5 before the XFER to 0.5 s after), %d "
              "4xx/550 retries" % ("", len(load.acked), load.retries))
    sys.stdout.flush()


def ours():
    cls = test_xfer.TestXfer
    cls.setUpClass()
    try:
        be = cls.be
        lmtp = {n: b.ports["lmtp"] for n, b in be.items()}

        def target():
            with cls.m.client() as mc:
                e = mc.find("user.bob")
            if e is None or e[0] != "MAILBOX":
                return None
            return lmtp[e[2].split("!")[0]]

        for user, loaded in (("alice", False), ("bob", True)):
            multiappend(be["be1"].ports["imap"], user, "%s-pw" % user, N,
                        "bench")
            a = be["be1"].login("cyrus")
            a.sock.settimeout(900)
            load = Load(user, target) if loaded else None
            if load:
                load.__enter__()
            t0 = time.time()
            typ, data = a._simple_command("XFER", "user.%s" % user, "be2")
            dt = time.time() - t0
            if load:
                time.sleep(0.5)
                load.__exit__()
            a.logout()
            ok, what = verdict(count(be["be2"].ports["imap"], user,
                                     "%s-pw" % user), load)
            report("ours", typ, dt, load, ok and typ == "OK", what)
    finally:
        cls.tearDownClass()


def cyrus():
    import cyruspeer
    if cyruspeer.missing_packages():
        print("cyrus: skipped (missing %s)" % cyruspeer.missing_packages())
        return
    with cyruspeer.CyrusPeer("murder") as peer:
        info = peer.info
        pw = {u["user"]: u["password"] for u in info["users"]}
        be = {b["name"]: b for b in info["backends"]}
        fe = info["frontends"][0]
        for user, loaded in (("bench", False), ("alice", True)):
            multiappend(be["backend1"]["imap"], user, pw[user], N, "bench")
            a = imaplib.IMAP4("127.0.0.1", be["backend1"]["imap"],
                              timeout=600)
            a.login(info["admin"]["user"], info["admin"]["password"])
            load = Load(user, lambda: fe["lmtp"]) if loaded else None
            if load:
                load.__enter__()
            t0 = time.time()
            typ, data = a._simple_command("XFER", "user.%s" % user,
                                          "backend2")
            dt = time.time() - t0
            if load:
                time.sleep(0.5)
                load.__exit__()
            a.logout()
            if typ != "OK":
                print("cyrus: XFER %s: %s %s" % (user, typ, data))
            ok, what = verdict(count(be["backend2"]["imap"], user, pw[user]),
                               load)
            report("cyrus", typ, dt, load, ok and typ == "OK", what)


if __name__ == "__main__":
    ours()
    if "--no-cyrus" not in sys.argv:
        cyrus()
