"""imapd end to end: pipelined APPENDs (LITERAL+) share one commit but
keep their replies in order, each with its own APPENDUID; errors in the
middle of a pipeline answer only their own command."""
import re
import socket

import backend

MSG = ("From: Alice <alice@example.com>\r\n"
       "Subject: pipe %s\r\n"
       "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
       "\r\n"
       "body %s\r\n")


def append(tag, mailbox, *texts):
    """An APPEND (MULTIAPPEND for several texts) with LITERAL+ literals."""
    out = "%s APPEND %s" % (tag, mailbox)
    for t in texts:
        out += " {%d+}\r\n%s" % (len(t), t)
    return out + "\r\n"


class RawSession:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=15)
        self.f = self.sock.makefile("rb")
        self.f.readline()

    def send(self, text):
        self.sock.sendall(text.encode())

    def read_until(self, tag):
        """Lines up to and including the tagged reply for tag."""
        lines = []
        while True:
            line = self.f.readline()
            if not line:
                raise AssertionError("EOF before %s: %r" % (tag, lines))
            lines.append(line.decode())
            if line.startswith(tag.encode() + b" "):
                return lines

    def close(self):
        self.f.close()
        self.sock.close()


def tagged(lines):
    return [l for l in lines if not l.startswith("*")]


class TestPipelinedAppend(backend.BackendTestCase):
    def session(self, user):
        s = RawSession(self.backend.ports["imap"])
        self.addCleanup(s.close)
        s.send("l LOGIN %s %s-pw\r\n" % (user, user))
        self.assertIn(" OK ", s.read_until("l")[-1])
        return s

    def test_pipeline_order_and_uids(self):
        s = self.session("alice")
        s.send("c1 CREATE INBOX.p1\r\nc2 CREATE INBOX.p2\r\n")
        s.read_until("c2")
        batch = "".join(append("a%d" % i, "INBOX.p1", MSG % (i, i))
                        for i in range(1, 9))
        batch += append("b1", "INBOX.nosuch", MSG % ("x", "x"))
        batch += append("a9", "INBOX.p1", MSG % (9, 9))
        batch += append("bad", "INBOX.p1", "Subject: nul\r\n\r\na\0b\r\n")
        batch += append("a10", "INBOX.p2", MSG % (10, 10))
        batch += append("a11", "INBOX.p1", MSG % (11, 11), MSG % (12, 12))
        batch += "n1 NOOP\r\n"
        batch += "s1 STATUS INBOX.p1 (MESSAGES UIDNEXT)\r\n"
        s.send(batch)
        lines = s.read_until("s1")
        tags = [l.split(" ", 1)[0] for l in tagged(lines)]
        self.assertEqual(tags, ["a1", "a2", "a3", "a4", "a5", "a6", "a7",
                                "a8", "b1", "a9", "bad", "a10", "a11", "n1",
                                "s1"])
        replies = dict((l.split(" ", 1)[0], l) for l in tagged(lines))
        uids = {}
        for t, l in replies.items():
            m = re.search(r"OK \[APPENDUID (\d+) ([\d:]+)\]", l)
            if m:
                uids[t] = m.group(2)
        self.assertEqual([uids["a%d" % i] for i in range(1, 10)],
                         [str(i) for i in range(1, 10)])
        self.assertEqual(uids["a10"], "1")
        self.assertEqual(uids["a11"], "10:11")
        self.assertIn("TRYCREATE", replies["b1"])
        self.assertRegex(replies["bad"], r"^bad NO ")
        status = [l for l in lines if l.startswith("* STATUS")]
        self.assertEqual(len(status), 1)
        self.assertIn("MESSAGES 11", status[0])
        self.assertIn("UIDNEXT 12", status[0])
        # every message is there with its own text
        s.send("e EXAMINE INBOX.p1\r\n")
        s.read_until("e")
        s.send("f FETCH 9 (BODY[TEXT])\r\n")
        self.assertIn("body 9\r\n", "".join(s.read_until("f")))

    def test_appends_then_eof_are_answered_and_kept(self):
        s = self.session("bob")
        s.send("c CREATE INBOX.eof\r\n")
        s.read_until("c")
        s.send(append("a1", "INBOX.eof", MSG % (1, 1))
               + append("a2", "INBOX.eof", MSG % (2, 2)))
        s.sock.shutdown(socket.SHUT_WR)
        lines = s.read_until("a2")
        self.assertEqual([l.split(" ", 2)[1] for l in tagged(lines)],
                         ["OK", "OK"])
        other = self.session("bob")
        other.send("st STATUS INBOX.eof (MESSAGES)\r\n")
        self.assertIn("MESSAGES 2", "".join(other.read_until("st")))


if __name__ == "__main__":
    import unittest
    unittest.main()
