"""imapd bad input: every refusal is a tagged BAD/NO (or * BYE where RFC
7888 allows it) and the session goes on; big literals are refused
before they are sent; a big APPEND is streamed to disk (RSS stays
small)."""
import time

import backend
import rawimap

MAXMSG = 20 * 1024 * 1024


class TestBadInput(backend.BackendTestCase):
    backend_options = {"maxmessagesize": str(MAXMSG)}

    def raw(self, user=None):
        r = rawimap.Raw(self.backend.ports["imap"])
        self.addCleanup(r.close)
        if user:
            self.assertIn(b"OK", r.login(user, backend.password(user)))
        return r

    def alive(self, r):
        self.assertRegex(r.cmd("NOOP"), rb"^t\d+ OK")

    def test_unknown_and_bad_syntax(self):
        r = self.raw()
        for cmd in ("FROBNICATE", "LOGIN", "LOGIN onlyuser", "SELECT INBOX",
                    "AUTHENTICATE", "CAPABILITY extra", "ID (", ""):
            self.assertRegex(r.cmd(cmd), rb"^t\d+ BAD ", cmd)
            self.alive(r)
        self.assertIn(b"OK", r.login("alice", "alice-pw"))
        for cmd in ("FROBNICATE", "SELECT", "EXAMINE \"unterminated",
                    "CREATE", "DELETE", "RENAME a", "LIST", "LIST \"\"",
                    "STATUS INBOX", "STATUS INBOX (BOGUS)", "APPEND",
                    "APPEND INBOX", "APPEND INBOX (\\Seen", "ENABLE",
                    "UID", "UID FROB 1", "FETCH 1 FLAGS", "COMPRESS",
                    "COMPRESS DEFLATE extra", "LOGIN a b"):
            self.assertRegex(r.cmd(cmd), rb"^t\d+ (BAD|NO) ", cmd)
            self.alive(r)
        self.assertIn(b"OK", r.cmd("SELECT INBOX"))
        for cmd in ("FETCH", "FETCH 1", "FETCH 1 (FOO)", "FETCH x FLAGS",
                    "FETCH 1:* (FLAGS", "STORE 1 +FLAGS", "STORE 1 BOGUS (x)",
                    "SEARCH FOO", "SEARCH (", "SEARCH CHARSET", "SORT (",
                    "SORT (DATE) UTF-8", "COPY 1", "MOVE", "UID STORE",
                    "UID EXPUNGE", "EXPUNGE extra", "CLOSE x", "IDLE x"):
            self.assertRegex(r.cmd(cmd), rb"^t\d+ BAD ", cmd)
            self.alive(r)

    def test_nul_and_8bit(self):
        r = self.raw("alice")
        r.send(b"n1 NO\x00OP\r\n")
        self.assertRegex(r.read_until_tagged(b"n1")[1], rb"^n1 BAD ")
        self.alive(r)
        r.send(b"n2 SELECT \xff\xfe\r\n")
        self.assertRegex(r.read_until_tagged(b"n2")[1], rb"^n2 (BAD|NO) ")
        r.send(b"n3 FETCH\xe9 1 FLAGS\r\n")
        self.assertRegex(r.read_until_tagged(b"n3")[1], rb"^n3 BAD ")
        self.alive(r)

    def test_huge_sequence_sets_and_deep_parens(self):
        r = self.raw("alice")
        self.assertIn(b"OK", r.cmd("CREATE INBOX.seq"))
        msg = b"Subject: x\r\n\r\nbody\r\n"
        self.assertIn(b"OK", r.cmd(b"APPEND INBOX.seq {%d+}\r\n%s"
                                   % (len(msg), msg)))
        self.assertIn(b"OK", r.cmd("SELECT INBOX.seq"))
        self.assertRegex(r.cmd("FETCH 1:4294967295 FLAGS"), rb"^t\d+ OK")
        self.assertRegex(r.cmd("UID FETCH 1:4294967295 FLAGS"), rb"^t\d+ OK")
        self.assertRegex(r.cmd("FETCH 1:4294967296 FLAGS"), rb"^t\d+ BAD")
        self.assertRegex(r.cmd("FETCH 0 FLAGS"), rb"^t\d+ BAD")
        many = ",".join(str(i) for i in range(1, 6000))
        self.assertRegex(r.cmd("UID FETCH %s FLAGS" % many), rb"^t\d+ OK")
        deep = "(" * 5000 + "ALL" + ")" * 5000
        self.assertRegex(r.cmd("SEARCH " + deep), rb"^t\d+ (BAD|NO|OK)")
        self.alive(r)
        deep = "NOT " * 20000 + "ALL"
        self.assertRegex(r.cmd("SEARCH " + deep), rb"^t\d+ (BAD|NO|OK)")
        self.alive(r)

    def test_overlong_lines(self):
        r = self.raw()
        # pre-auth: lines are capped at 8 KiB
        r.send(b"L1 NOOP " + b"x" * 10000 + b"\r\n")
        self.assertRegex(r.read_until_tagged(b"L1")[1], rb"^L1 BAD ")
        self.alive(r)
        r.send(b"L2 NOOP " + b"x" * 5000 + b"\r\n")
        self.assertRegex(r.read_until_tagged(b"L2")[1], rb"^L2 BAD ")
        self.assertIn(b"OK", r.login("alice", "alice-pw"))
        # after login 5000 bytes is fine, 100 KiB is not
        r.send(b"L3 NOOP " + b"x" * 5000 + b"\r\n")
        self.assertRegex(r.read_until_tagged(b"L3")[1], rb"^L3 BAD ")
        r.send(b"L4 NOOP " + b"x" * 100000 + b"\r\n")
        self.assertRegex(r.read_until_tagged(b"L4")[1],
                         rb"^L4 BAD .*too long")
        self.alive(r)

    def test_preauth_literal_refused_unread(self):
        r = self.raw()
        r.send(b"p1 LOGIN {20000}\r\n")
        # no "+": the server refuses without reading
        self.assertRegex(r.line(), rb"^p1 BAD ")
        self.alive(r)
        # a non-synchronizing literal the server takes, in a bad command
        r.send(b"p2 LOGIN {4000+}\r\n" + b"a" * 4000 + b" x y\r\n")
        self.assertRegex(r.read_until_tagged(b"p2")[1], rb"^p2 BAD ")
        self.alive(r)
        # too large to swallow: RFC 7888 lets the server close
        r.send(b"p3 LOGIN {100000000+}\r\n")
        ln = r.line()
        self.assertTrue(ln.startswith(b"* BYE"), ln)
        self.assertEqual(r.line(), b"")

    def test_append_toobig_without_reading(self):
        r = self.raw("alice")
        r.send(b"a1 APPEND INBOX {%d}\r\n" % (MAXMSG + 1))
        self.assertRegex(r.line(), rb"^a1 NO \[TOOBIG\]")
        self.alive(r)
        # non-synchronizing: the server swallows it, then [TOOBIG]
        body = b"x" * (MAXMSG + 10)
        r.send(b"a2 APPEND INBOX {%d+}\r\n" % len(body) + body + b"\r\n")
        self.assertRegex(r.read_until_tagged(b"a2")[1], rb"^a2 NO \[TOOBIG\]")
        self.alive(r)
        # an other command's literal over the in-memory limit
        r.send(b"a3 SELECT {2000000}\r\n")
        self.assertRegex(r.line(), rb"^a3 BAD ")
        self.alive(r)

    def test_big_append_streamed(self):
        r = self.raw("alice")
        self.assertIn(b"OK", r.cmd("CREATE INBOX.big"))
        pid = rawimap.server_pid(self.backend.master, r.sock)
        size = 16 * 1024 * 1024
        head = b"Subject: big one\r\n\r\n"
        line = b"y" * 78 + b"\r\n"
        total = len(head) + size // len(line) * len(line)
        r.send(b"b1 APPEND INBOX.big {%d}\r\n" % total)
        self.assertTrue(r.line().startswith(b"+"))
        r.send(head)
        chunk = line * 1000
        left = total - len(head)
        while left:
            n = min(left, len(chunk))
            r.send(chunk[:n])
            left -= n
        r.send(b"\r\n")
        self.assertRegex(r.read_until_tagged(b"b1")[1],
                         rb"^b1 OK \[APPENDUID \d+ 1\]")
        anon_kb = rawimap.proc_status(pid, "RssAnon")
        hwm_kb = rawimap.proc_status(pid, "VmHWM")
        print("big APPEND of %d MiB: imapd RssAnon %d kB, VmHWM %d kB"
              % (total >> 20, anon_kb, hwm_kb))
        # the literal never sat in anonymous memory
        self.assertLess(anon_kb, 12 * 1024)
        self.assertIn(b"OK", r.cmd("SELECT INBOX.big"))
        r.send(b"f1 FETCH 1 RFC822.SIZE\r\n")
        untagged, tagged = r.read_until_tagged(b"f1")
        self.assertIn(b"RFC822.SIZE %d" % total, b"".join(untagged))
        # no stage files are left behind in the partition
        time.sleep(0.1)
        import os
        left = [f for f in os.listdir(self.backend.master.spool)
                if "." in f and f.split(".")[0].isdigit()]
        self.assertEqual(left, [])
