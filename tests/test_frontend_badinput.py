"""Bad input through the FRONTEND of a whole murder (tools/murder): imapd
in the frontend role (before login, after login, and in the selected
state proxied to a backend), the POP3 and LMTP proxies, and the mupdate
master. Every refusal is a specific reply (IMAP BAD/NO, POP3 -ERR, LMTP
5xx) and the server stays alive on the same connection (where the
protocol allows) and for a new one; nothing crashes, hangs or leaves
half a message behind (counted on the backends); a client gone in the
middle of a big FETCH leaves no backend connection behind.

maxmessagesize is 1 MiB on every node here (set in setUpClass), and
failedloginpause 0 on the frontend so that refused AUTHs answer at once.
"""
import base64
import os
import re
import socket
import time

import harness
import rawimap
import murdercase
from mupdateclient import MupdateClient

MAXMSG = 1024 * 1024
MEG = b"x" * (1 << 20)


def message(subject, size=0):
    """A message of about size bytes (at least its header)."""
    head = b"From: a@example.com\r\nSubject: %s\r\n\r\n" % subject.encode()
    line = b"z" * 78 + b"\r\n"
    return head + line * (size // len(line)) + b"end\r\n"


def established(port):
    """TCP connections established to 127.0.0.1:port (server side)."""
    n = 0
    with open("/proc/net/tcp") as f:
        for ln in f.readlines()[1:]:
            p = ln.split()
            if p[3] == "01" and int(p[1].split(":")[1], 16) == port:
                n += 1
    return n


class Lines(harness.SocketClient):
    """A line protocol client (POP3, LMTP, raw mupdate)."""

    def __init__(self, port, greeting=True, timeout=15):
        super().__init__(port, timeout)
        self.greeting = self.line() if greeting else None

    def line(self):
        return self.file.readline().rstrip(b"\r\n")

    def send(self, data):
        self.sock.sendall(data)

    def cmd(self, text):
        """Send a line, return the (first) reply line."""
        self.send((text.encode() if isinstance(text, str) else text)
                  + b"\r\n")
        return self.line()

    def smtp(self):
        """One SMTP/LMTP reply, all its lines joined by \\n."""
        out = []
        while True:
            ln = self.line()
            out.append(ln)
            if len(ln) < 4 or ln[3:4] != b"-":
                return b"\n".join(out)

    def lcmd(self, text):
        self.send((text.encode() if isinstance(text, str) else text)
                  + b"\r\n")
        return self.smtp()

class FrontendBadInput(murdercase.AdminMurderCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for node in ("backend1", "backend2", "frontend1"):
            with open(os.path.join(cls.dir, node, "imapd.conf"), "a") as f:
                f.write("maxmessagesize: %d\n" % MAXMSG)
                if node == "frontend1":
                    f.write("failedloginpause: 0\n")
            cls.murder("stop", cls.dir, node)
            cls.murder("start", cls.dir, node)
        fe = cls.info["frontends"][0]
        cls.fe_imap, cls.fe_pop3, cls.fe_lmtp = (fe["imap"], fe["pop3"],
                                                 fe["lmtp"])
        cls.b1_imap = cls.info["backends"][0]["imap"]
        cls.b2_imap = cls.info["backends"][1]["imap"]
        # alice (backend1) and bob (backend2) get one message each
        with Lines(cls.fe_lmtp) as l:
            l.lcmd("LHLO test")
            l.lcmd("MAIL FROM:<s@example.com>")
            l.lcmd("RCPT TO:<alice>")
            l.lcmd("RCPT TO:<bob>")
            l.lcmd("DATA")
            l.send(message("first") + b".\r\n")
            l.smtp()
            l.smtp()

    # ---- helpers ----

    def raw(self, user=None, port=None):
        r = rawimap.Raw(port or self.fe_imap)
        self.addCleanup(r.close)
        if user:
            self.assertRegex(r.login(user, self.pw[user]), rb"^t\d+ OK")
        return r

    def lines(self, port, greeting=True):
        c = Lines(port, greeting)
        self.addCleanup(c.close)
        return c

    def alive(self, r):
        self.assertRegex(r.cmd("NOOP"), rb"^t\d+ OK")

    def frontend_alive(self):
        """A new connection to each frontend service works."""
        r = self.raw("alice")
        self.assertRegex(r.cmd("SELECT INBOX"), rb"^t\d+ OK")
        p = self.lines(self.fe_pop3)
        self.assertTrue(p.greeting.startswith(b"+OK"), p.greeting)
        self.assertTrue(p.cmd("QUIT").startswith(b"+OK"))
        l = self.lines(self.fe_lmtp)
        self.assertTrue(l.greeting.startswith(b"220"), l.greeting)
        self.assertTrue(l.lcmd("LHLO x").startswith(b"250"))

    def count(self, user, mailbox="INBOX"):
        """Messages in user's mailbox, asked on its backend directly."""
        home = {u["user"]: u["backend"] for u in self.info["users"]}[user]
        c = self.imap(home, user)
        typ, data = c.status(mailbox, "(MESSAGES)")
        self.assertEqual(typ, "OK", data)
        return int(re.search(rb"MESSAGES (\d+)", data[0]).group(1))

    def stage_files(self):
        """Files left in the frontend's spool (APPEND stages)."""
        out = []
        for d, _, files in os.walk(os.path.join(self.dir, "frontend1",
                                                "spool")):
            out += [os.path.join(d, f) for f in files]
        return out

    def tagged(self, r, data, tag):
        r.send(data)
        return r.read_until_tagged(tag)[1]

    # ---- IMAP ----

    def test_imap_before_login(self):
        r = self.raw()
        self.assertRegex(r.cmd("FROBNICATE"), rb"^t\d+ BAD Unrecognized")
        self.assertRegex(self.tagged(r, b"n1 NO\x00OP\r\n", b"n1"),
                         rb"^n1 BAD ")
        self.assertRegex(self.tagged(r, b"n2 SELECT \xff\xfe\r\n", b"n2"),
                         rb"^n2 BAD ")
        for cmd in ("SELECT INBOX", "FETCH 1 (FLAGS", 'SEARCH "x',
                    "LOGIN", "LOGIN a", "AUTHENTICATE", "ID ("):
            self.assertRegex(r.cmd(cmd), rb"^t\d+ BAD ", cmd)
        self.alive(r)
        # over the pre-auth line limit: answered before the CRLF comes
        r.send(b"L1 NOOP " + MEG)
        self.assertEqual(r.line(), b"L1 BAD Line too long")
        r.send(b"\r\n")
        self.alive(r)
        r.send(b"L2 NOOP " + b"x" * 10000 + b"\r\n")
        self.assertRegex(r.read_until_tagged(b"L2")[1], rb"^L2 BAD ")
        # a 10 KB tag is longer than a pre-auth line
        r.send(b"T" * 10240 + b" NOOP\r\n")
        self.assertEqual(r.line(), b"* BAD Line too long")
        self.alive(r)
        # a literal above the pre-auth limit is refused without "+"
        r.send(b"p1 LOGIN {20000}\r\n")
        self.assertRegex(r.line(), rb"^p1 BAD Literal too large")
        self.alive(r)
        # AUTHENTICATE with bad base64: as a response and as SASL-IR
        r.send(b"a1 AUTHENTICATE PLAIN\r\n")
        self.assertTrue(r.line().startswith(b"+"))
        r.send(b"!!!not*base64***\r\n")
        self.assertRegex(r.read_until_tagged(b"a1")[1], rb"^a1 (BAD|NO) ")
        self.assertRegex(r.cmd("AUTHENTICATE PLAIN !!!***"),
                         rb"^t\d+ (BAD|NO) ")
        self.assertRegex(r.cmd("AUTHENTICATE PLAIN ="), rb"^t\d+ (BAD|NO) ")
        r.send(b"a2 AUTHENTICATE PLAIN\r\n")
        self.assertTrue(r.line().startswith(b"+"))
        r.send(b"*\r\n")
        self.assertRegex(r.read_until_tagged(b"a2")[1], rb"^a2 BAD ")
        self.alive(r)
        # the same connection can still log in (AUTHENTICATE this time)
        ir = base64.b64encode(b"\0alice\0" + self.pw["alice"].encode())
        self.assertRegex(r.cmd(b"AUTHENTICATE PLAIN " + ir), rb"^t\d+ OK")
        self.frontend_alive()

    def test_imap_after_login(self):
        r = self.raw("alice")
        self.assertRegex(r.cmd("FROBNICATE"), rb"^t\d+ BAD Unrecognized")
        self.assertRegex(self.tagged(r, b"n1 NO\x00OP\r\n", b"n1"),
                         rb"^n1 BAD ")
        self.assertRegex(self.tagged(r, b"n2 SELECT \xff\xfe\r\n", b"n2"),
                         rb"^n2 (BAD|NO) ")
        self.assertRegex(self.tagged(r, b"n3 FETCH\xe9 1 FLAGS\r\n", b"n3"),
                         rb"^n3 BAD ")
        for cmd in ("FETCH 1 (FLAGS", 'SEARCH "x', "STORE 1 +FLAGS (\\Seen",
                    'EXAMINE "unterminated', "STATUS INBOX (MESSAGES",
                    "LIST \"\" (", "CREATE", "RENAME a", "APPEND INBOX (\\Seen",
                    "GETACL", "UID FROB 1"):
            self.assertRegex(r.cmd(cmd), rb"^t\d+ (BAD|NO) ", cmd)
        # a command with 10,000 arguments
        self.assertRegex(r.cmd("NOOP" + " x" * 10000),
                         rb"^t\d+ BAD Unexpected extra arguments")
        self.assertRegex(r.cmd("STATUS INBOX (" + "MESSAGES " * 9999
                               + "MESSAGES)"), rb"^t\d+ (OK|BAD|NO)")
        self.alive(r)
        # over the line limit, answered before any CRLF
        r.send(b"L1 NOOP " + MEG)
        self.assertEqual(r.line(), b"L1 BAD Line too long")
        r.send(b"\r\n")
        self.alive(r)
        # a 10 KB tag fits an authenticated line: it comes back whole
        tag = b"T" * 10240
        self.assertEqual(self.tagged(r, tag + b" NOOP\r\n", tag),
                         tag + b" OK Completed")
        # IDLE without a selected mailbox, then garbage for DONE
        r.send(b"i1 IDLE\r\n")
        ln = r.line()
        if ln.startswith(b"+"):
            r.send(b"garbage instead of done\r\n")
            ln = r.read_until_tagged(b"i1")[1]
        self.assertRegex(ln, rb"^i1 (BAD|NO) ")
        self.alive(r)
        self.assertRegex(r.cmd("SELECT INBOX"), rb"^t\d+ OK")

    def test_imap_selected_proxied(self):
        r = self.raw("alice")
        self.assertRegex(r.cmd("SELECT INBOX"), rb"^t\d+ OK \[READ-WRITE\]")
        for cmd, want in (
                ("FETCH 1 (FLAGS", rb"BAD .*(paren|\))"),
                ("FETCH 1 (FLAGS BODY[HEADER.FIELDS (SUBJECT)", rb"BAD "),
                ("FETCH (1) FLAGS", rb"BAD "),
                ("SEARCH (ALL", rb"BAD "),
                ("SEARCH ALL)", rb"BAD "),
                ('SEARCH SUBJECT "abc', rb"BAD "),
                ("SEARCH SUBJECT {5", rb"BAD "),
                ("STORE 1 +FLAGS (\\Seen", rb"BAD "),
                ('STORE 1 +FLAGS ("x', rb"BAD "),
                ("STORE 1 +FLAGS \\Seen)", rb"BAD "),
                ("STORE 1 FROB (\\Seen)", rb"BAD "),
                ("COPY 1", rb"BAD "),
                ("FROBNICATE 1", rb"BAD Unrecognized"),
                ("UID", rb"BAD ")):
            self.assertRegex(r.cmd(cmd), rb"^t\d+ " + want, cmd)
            self.alive(r)
        self.assertRegex(self.tagged(r, b"n1 FETCH 1 (FL\x00AGS)\r\n", b"n1"),
                         rb"^n1 BAD ")
        self.assertRegex(self.tagged(r, b"n2 SEARCH SUBJECT \xff\xfe\x80\r\n",
                                     b"n2"), rb"^n2 (OK|BAD|NO)")
        self.assertRegex(self.tagged(r, b"n3 STORE 1 +FLAGS (\xe9\xe8)\r\n",
                                     b"n3"), rb"^n3 (BAD|NO) ")
        self.alive(r)
        # 10,000 arguments: search keys, fetch items, a sequence set
        self.assertRegex(r.cmd("SEARCH" + " ALL" * 10000), rb"^t\d+ OK")
        self.assertRegex(r.cmd("FETCH 1 (" + " ".join(["FLAGS"] * 10000)
                               + ")"), rb"^t\d+ OK")
        self.assertRegex(r.cmd("UID FETCH " + ",".join(
            str(i) for i in range(1, 10001)) + " FLAGS"), rb"^t\d+ OK")
        self.assertRegex(r.cmd("STORE 1 +FLAGS (" + " ".join(
            "k%d" % i for i in range(10000)) + ")"), rb"^t\d+ (NO|BAD) ")
        # a 10 KB tag goes to the backend and comes back whole
        tag = b"T" * 10240
        self.assertEqual(self.tagged(r, tag + b" NOOP\r\n", tag),
                         tag + b" OK Completed")
        r.send(b"L1 NOOP " + MEG)
        self.assertEqual(r.line(), b"L1 BAD Line too long")
        r.send(b"\r\n")
        self.alive(r)
        # IDLE on the backend, then garbage instead of DONE
        r.send(b"i1 IDLE\r\n")
        self.assertTrue(r.line().startswith(b"+"))
        r.send(b"garbage instead of done\r\n")
        self.assertRegex(r.read_until_tagged(b"i1")[1], rb"^i1 BAD ")
        self.alive(r)
        r.send(b"i2 IDLE\r\n")
        self.assertTrue(r.line().startswith(b"+"))
        r.send(b"x" * 100000 + b"\r\n")
        self.assertRegex(r.read_until_tagged(b"i2")[1], rb"^i2 BAD ")
        self.alive(r)
        self.assertRegex(r.cmd("FETCH 1 (FLAGS)"), rb"^t\d+ OK")

    def test_imap_literal_limits(self):
        before = self.count("alice")
        r = self.raw("alice")
        for state in ("authenticated", "selected"):
            # over maxmessagesize: refused before the client sends it
            r.send(b"a1 APPEND INBOX {999999999}\r\n")
            self.assertRegex(r.line(), rb"^a1 NO \[TOOBIG\]", state)
            self.alive(r)
            # non-synchronizing just over the limit: swallowed, [TOOBIG]
            body = message("toobig", MAXMSG + 100)
            r.send(b"a2 APPEND INBOX {%d+}\r\n" % len(body) + body + b"\r\n")
            self.assertRegex(r.read_until_tagged(b"a2")[1],
                             rb"^a2 NO \[TOOBIG\]", state)
            self.alive(r)
            # another command's literal over the in-memory limit
            r.send(b"a3 SELECT {2000000}\r\n")
            self.assertRegex(r.line(), rb"^a3 BAD ", state)
            self.alive(r)
            self.assertRegex(r.cmd("SELECT INBOX"), rb"^t\d+ OK")
        # too big to swallow: RFC 7888 lets the server say BYE and close
        r.send(b"a4 APPEND INBOX {999999999+}\r\nSubject: x\r\n\r\n")
        ln = r.line()
        self.assertRegex(ln, rb"^(\* BYE|a4 NO \[TOOBIG\])")
        if ln.startswith(b"* BYE"):
            self.assertEqual(r.line(), b"")
        self.assertEqual(self.count("alice"), before)
        self.frontend_alive()

    def test_imap_big_append_proxied(self):
        """APPENDs of literals spooled on the frontend (64 KiB and more)
        reach the backend whole (they used to hang the session)."""
        name = "INBOX.bigapp"
        r = self.raw("alice")
        self.assertRegex(r.cmd("CREATE " + name), rb"^t\d+ OK")
        a, b = message("big a", 300000), message("big b", 200000)
        r.send(b"b1 APPEND %s {%d}\r\n" % (name.encode(), len(a)))
        self.assertTrue(r.line().startswith(b"+"))
        r.send(a + b"\r\n")
        self.assertRegex(r.read_until_tagged(b"b1")[1], rb"^b1 OK \[APPENDUID")
        # MULTIAPPEND of a small and a big non-synchronizing literal
        small = message("small")
        r.send(b"b2 APPEND %s {%d+}\r\n%s (\\Seen) {%d+}\r\n%s\r\n"
               % (name.encode(), len(small), small, len(b), b))
        self.assertRegex(r.read_until_tagged(b"b2")[1], rb"^b2 OK \[APPENDUID")
        # a NUL in a spooled literal is the frontend's to refuse
        bad = message("nul", 100000) + b"\x00\r\n"
        r.send(b"b3 APPEND %s {%d+}\r\n%s\r\n" % (name.encode(), len(bad), bad))
        self.assertRegex(r.read_until_tagged(b"b3")[1], rb"^b3 NO \[PARSE\]")
        self.assertRegex(r.cmd("SELECT " + name), rb"^t\d+ OK")
        r.send(b"f1 FETCH 1:* BODY.PEEK[]\r\n")
        untagged, tagged = r.read_until_tagged(b"f1")
        self.assertRegex(tagged, rb"^f1 OK")
        bodies = [x for x in untagged if len(x) > 1000 or x == small]
        self.assertEqual(bodies, [a, small, b])
        self.assertEqual(self.stage_files(), [])

    def test_imap_literal_cut_off(self):
        """A literal announced and the connection closed half-way: the
        backend gets no half message."""
        before = self.count("alice")
        for selected in (False, True):
            for sync in (True, False):
                r = self.raw("alice")
                if selected:
                    self.assertRegex(r.cmd("SELECT INBOX"), rb"^t\d+ OK")
                for size in (1000, 300000):
                    body = message("half", size)
                    if sync:
                        r.send(b"h1 APPEND INBOX {%d}\r\n" % len(body))
                        self.assertTrue(r.line().startswith(b"+"))
                    else:
                        r.send(b"h1 APPEND INBOX {%d+}\r\n" % len(body))
                    r.send(body[:len(body) // 2])
                    time.sleep(0.1)
                    r.close()
                    r = self.raw("alice")
        time.sleep(0.5)
        self.assertEqual(self.count("alice"), before)
        harness.wait_for(lambda: self.stage_files() == [], timeout=5,
                         what="no stage files left on the frontend")
        self.frontend_alive()

    def test_imap_disconnect_during_big_fetch(self):
        name = "INBOX.bigfetch"
        r = self.raw("alice")
        self.assertRegex(r.cmd("CREATE " + name), rb"^t\d+ OK")
        body = message("fetch me", 900000)
        for _ in range(6):
            self.assertRegex(r.cmd(b"APPEND %s {%d+}\r\n%s" % (
                name.encode(), len(body), body)), rb"^t\d+ OK")
        r.close()
        # every earlier session's backend connection is gone
        harness.wait_for(lambda: established(self.b1_imap) == 0,
                         timeout=10, what="no connection to backend1")
        base_b1 = 0
        pids_before = self.frontend_pids()
        r = self.raw("alice")
        self.assertRegex(r.cmd("SELECT " + name), rb"^t\d+ OK")
        self.assertEqual(established(self.b1_imap), base_b1 + 1)
        r.send(b"f1 FETCH 1:* BODY[]\r\n")
        self.assertGreater(len(r.file.read(100000)), 0)
        # a reset in the middle: the frontend's writes fail
        r.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                          b"\x01\x00\x00\x00\x00\x00\x00\x00")
        r.close()
        harness.wait_for(lambda: established(self.b1_imap) == base_b1,
                         timeout=10, what="backend connection released")
        harness.wait_for(lambda: established(self.fe_imap) == 0, timeout=10,
                         what="frontend child done with the client")
        # no process left behind for it (children are reused or exit)
        self.assertLessEqual(len(self.frontend_pids()), len(pids_before) + 1)
        self.frontend_alive()

    def frontend_pids(self):
        with open(os.path.join(self.dir, "frontend1", "master.pid")) as f:
            return murdercase.descendants([int(f.read().split()[0])])

    # ---- POP3 ----

    def test_pop3(self):
        p = self.lines(self.fe_pop3)
        self.assertTrue(p.greeting.startswith(b"+OK"))
        self.assertEqual(p.cmd("FROBNICATE"), b"-ERR Unrecognized command")
        for cmd in ("RETR 1", "TOP 1 1", "STAT", "PASS x", "DELE 1"):
            self.assertTrue(p.cmd(cmd).startswith(b"-ERR"), cmd)
        p.send(b"USER " + MEG)
        self.assertEqual(p.line(), b"-ERR Line too long")
        p.send(b"\r\n")
        self.assertEqual(p.cmd("USER " + "u" * 10000), b"-ERR Line too long")
        self.assertTrue(p.cmd(b"US\x00ER alice").startswith(b"-ERR"))
        self.assertTrue(p.cmd(b"\xff\xfe\x80").startswith(b"-ERR"))
        # AUTH with bad base64, as a response and as an initial response
        self.assertEqual(p.cmd("AUTH PLAIN"), b"+ ")
        self.assertTrue(p.cmd("!!!not*base64***").startswith(b"-ERR"))
        self.assertTrue(p.cmd("AUTH PLAIN !!!***").startswith(b"-ERR"))
        self.assertEqual(p.cmd("AUTH PLAIN"), b"+ ")
        self.assertTrue(p.cmd("*").startswith(b"-ERR"))
        self.assertTrue(p.cmd("AUTH FROB").startswith(b"-ERR"))
        self.assertTrue(p.cmd("CAPA").startswith(b"+OK"))
        while p.line() != b".":
            pass
        # the same connection still logs in (proxied to backend1)
        self.assertTrue(p.cmd("USER alice").startswith(b"+OK"))
        self.assertTrue(p.cmd("PASS " + self.pw["alice"]).startswith(b"+OK"))
        n = int(p.cmd("STAT").split()[1])
        self.assertGreaterEqual(n, 1)
        self.assertEqual(p.cmd("FROBNICATE")[:4], b"-ERR")
        for cmd in ("RETR 99999", "RETR 0", "RETR -1", "RETR abc", "RETR",
                    "RETR 99999999999999999999", "RETR 1 2", "TOP 1 junk",
                    "TOP junk", "TOP 1 -5", "TOP 1", "TOP 99999 1",
                    "TOP 1 99999999999999999999x", "DELE x", "LIST x",
                    "UIDL 99999"):
            self.assertTrue(p.cmd(cmd).startswith(b"-ERR"), cmd)
        p.send(b"NOOP " + MEG)
        self.assertTrue(p.line().startswith(b"-ERR"))
        p.send(b"\r\n")
        self.assertTrue(p.cmd(b"RE\x00TR 1").startswith(b"-ERR"))
        self.assertTrue(p.cmd("NOOP").startswith(b"+OK"))
        self.assertTrue(p.cmd("RETR 1").startswith(b"+OK"))
        got = []
        while True:
            ln = p.line()
            if ln == b".":
                break
            got.append(ln)
        self.assertIn(b"Subject: first", got)
        self.assertEqual(int(p.cmd("STAT").split()[1]), n)
        self.assertTrue(p.cmd("QUIT").startswith(b"+OK"))
        self.assertEqual(p.line(), b"")
        self.frontend_alive()

    def test_pop3_in_use(self):
        """A second session of the same user meets the backend's maildrop
        lock: -ERR [IN-USE] (RFC 2449), not a server failure."""
        p1 = self.lines(self.fe_pop3)
        self.assertTrue(p1.cmd("USER carol").startswith(b"+OK"))
        self.assertTrue(p1.cmd("PASS " + self.pw["carol"]).startswith(b"+OK"))
        p2 = self.lines(self.fe_pop3)
        self.assertTrue(p2.cmd("USER carol").startswith(b"+OK"))
        self.assertRegex(p2.cmd("PASS " + self.pw["carol"]),
                         rb"^-ERR \[IN-USE\] ")
        self.assertTrue(p1.cmd("STAT").startswith(b"+OK"))
        self.assertTrue(p1.cmd("QUIT").startswith(b"+OK"))
        # once the first is gone, the second may try again
        def login_again():
            p2.cmd("USER carol")
            return p2.cmd("PASS " + self.pw["carol"]).startswith(b"+OK")
        harness.wait_for(login_again, timeout=5,
                         what="carol's maildrop unlocked")
        self.assertTrue(p2.cmd("STAT").startswith(b"+OK"))

    # ---- LMTP ----

    def lmtp(self):
        l = self.lines(self.fe_lmtp)
        self.assertTrue(l.greeting.startswith(b"220"))
        return l

    def test_lmtp_sequence_errors(self):
        l = self.lmtp()
        self.assertRegex(l.lcmd("MAIL FROM:<a@example.com>"), rb"^503 ")
        self.assertRegex(l.lcmd("RCPT TO:<alice>"), rb"^503 ")
        self.assertRegex(l.lcmd("DATA"), rb"^503 ")
        self.assertRegex(l.lcmd("FROBNICATE"), rb"^5\d\d ")
        self.assertRegex(l.lcmd("LHLO test"), rb"^250")
        self.assertRegex(l.lcmd("RCPT TO:<alice>"), rb"^503 ")
        self.assertRegex(l.lcmd("DATA"), rb"^503 ")
        self.assertRegex(l.lcmd("MAIL FROM:<a@example.com>"), rb"^250 ")
        self.assertRegex(l.lcmd("MAIL FROM:<b@example.com>"), rb"^503 ")
        self.assertRegex(l.lcmd("DATA"), rb"^503 .*[Nn]o recipients")
        self.assertRegex(l.lcmd(b"RCPT TO:<al\x00ice>"), rb"^5\d\d ")
        self.assertRegex(l.lcmd(b"RCPT TO:<\xff\xfe>"), rb"^5\d\d ")
        self.assertRegex(l.lcmd("RCPT TO:<" + "a" * 10240 + ">"),
                         rb"^5\d\d[ -]")
        self.assertRegex(l.lcmd("RCPT TO:alice"), rb"^(250|501) ")
        l.send(b"RCPT TO:<" + MEG)
        self.assertRegex(l.smtp(), rb"^500 5\.5\.2 Line too long")
        l.send(b">\r\n")
        self.assertRegex(l.lcmd("NOOP"), rb"^250 ")
        self.assertRegex(l.lcmd("RSET"), rb"^250 ")
        self.assertRegex(l.lcmd("QUIT"), rb"^221 ")
        self.frontend_alive()

    def transaction(self, l, rcpts):
        self.assertRegex(l.lcmd("LHLO test"), rb"^250")
        self.assertRegex(l.lcmd("MAIL FROM:<a@example.com>"), rb"^250 ")
        for rc in rcpts:
            self.assertRegex(l.lcmd("RCPT TO:<%s>" % rc), rb"^250 ")
        self.assertRegex(l.lcmd("DATA"), rb"^354 ")

    def test_lmtp_too_big(self):
        before = (self.count("alice"), self.count("bob"))
        l = self.lmtp()
        self.transaction(l, ["alice", "bob"])
        l.send(message("too big", MAXMSG + 1000) + b".\r\n")
        for _ in range(2):
            self.assertRegex(l.smtp(), rb"^552 ")
        self.assertRegex(l.lcmd("NOOP"), rb"^250 ")
        # SIZE= announces it: refused at MAIL
        self.assertRegex(l.lcmd("MAIL FROM:<a@example.com> SIZE=%d"
                                % (MAXMSG * 10)), rb"^552 ")
        self.assertRegex(l.lcmd("MAIL FROM:<a@example.com> SIZE=junk"),
                         rb"^5\d\d ")
        # a line over the limit in the message body
        self.assertRegex(l.lcmd("MAIL FROM:<a@example.com>"), rb"^250 ")
        self.assertRegex(l.lcmd("RCPT TO:<alice>"), rb"^250 ")
        self.assertRegex(l.lcmd("DATA"), rb"^354 ")
        l.send(b"Subject: long line\r\n\r\n" + MEG + b"\r\n.\r\n")
        self.assertRegex(l.smtp(), rb"^5\d\d ")
        self.assertRegex(l.lcmd("NOOP"), rb"^250 ")
        self.assertEqual((self.count("alice"), self.count("bob")), before)
        self.frontend_alive()

    def test_lmtp_closed_mid_data(self):
        before = (self.count("alice"), self.count("bob"))
        for size in (100, 300000):
            l = self.lmtp()
            self.transaction(l, ["alice", "bob"])
            body = message("cut off", size)
            l.send(body[:len(body) // 2])
            time.sleep(0.1)
            l.close()
        time.sleep(1)
        self.assertEqual((self.count("alice"), self.count("bob")), before)
        # and a whole one afterwards is delivered once to each
        l = self.lmtp()
        self.transaction(l, ["alice", "bob"])
        l.send(message("whole") + b".\r\n")
        self.assertRegex(l.smtp(), rb"^250 ")
        self.assertRegex(l.smtp(), rb"^250 ")
        self.assertEqual((self.count("alice"), self.count("bob")),
                         (before[0] + 1, before[1] + 1))

    # ---- mupdate master ----

    def mupdate_raw(self):
        m = self.lines(self.info["mupdate"]["port"], greeting=False)
        while not m.line().startswith(b"* OK MUPDATE"):
            pass
        return m

    def mupdate_garbage(self, m, authed):
        first = b'"Please login first"' if not authed else b""
        self.assertRegex(m.cmd("X1 FROBNICATE"), rb'^X1 BAD ')
        # (mupdate answers a long line once its end has come)
        m.send(b"X2 NOOP " + MEG + b"\r\n")
        self.assertRegex(m.line(), rb'^X2 BAD "Line too long"')
        self.assertRegex(m.cmd(b"\xff\xfe\x00garbage"), rb"^\* BAD ")
        self.assertRegex(m.cmd(b"X3 NO\x00OP"), rb"^X3 BAD ")
        m.send(b"X4 FIND {999999999}\r\n")
        self.assertRegex(m.line(), rb'^X4 BAD "Literal too large"')
        self.assertRegex(m.cmd("X5 FIND"), rb"^X5 BAD ")
        self.assertRegex(m.cmd('X6 FIND "unterminated'), rb"^X6 BAD ")
        self.assertRegex(m.cmd("X7 ACTIVATE"), rb"^X7 BAD ")
        self.assertRegex(m.cmd('X8 ACTIVATE "user.zz"'), rb"^X8 BAD ")
        self.assertRegex(m.cmd("T" * 10240 + " NOOP"), rb"^\* BAD ")
        self.assertRegex(m.cmd("Y1 LIST" + ' "a"' * 10000),
                         rb'^(Y1|\*) BAD ')
        ln = m.cmd("Y2 NOOP")
        if authed:
            self.assertRegex(ln, rb"^Y2 OK")
        else:
            self.assertEqual(ln, b"Y2 BAD " + first)

    def test_mupdate_master(self):
        m = self.mupdate_raw()
        self.mupdate_garbage(m, authed=False)
        # the same connection still authenticates
        ir = base64.b64encode(b"\0cyrus\0" + self.admin_pw.encode())
        self.assertRegex(m.cmd(b'A1 AUTHENTICATE "PLAIN" "%s"' % ir),
                         rb"^A1 OK")
        self.mupdate_garbage(m, authed=True)
        # nothing changed in the mailbox list
        with MupdateClient(self.info["mupdate"]["port"]) as c:
            st, text = c.authenticate("cyrus", self.admin_pw)
            self.assertEqual(st, "OK", text)
            self.assertIsNone(c.find("user.zz"))
            e = c.find("user.alice")
            self.assertEqual((e[0], e[2]), ("MAILBOX", "backend1!default"))
        self.frontend_alive()
