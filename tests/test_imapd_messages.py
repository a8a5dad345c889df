"""imapd end to end: APPEND, FETCH, STORE, SEARCH, EXPUNGE, COPY, MOVE,
IDLE and two sessions seeing each other's changes, with imaplib."""
import imaplib
import re
import socket
import threading
import time

import backend

MSG = ("From: Alice <alice@example.com>\r\n"
       "To: Bob <bob@example.com>\r\n"
       "Subject: %s\r\n"
       "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
       "Message-ID: <%s@example.com>\r\n"
       "\r\n"
       "%s\r\n")


def msg(subject, body="hello world", mid=None):
    return (MSG % (subject, mid or subject.replace(" ", "."), body)).encode()


class TestMessages(backend.BackendTestCase):
    def fresh(self, user, name):
        c = self.login(user)
        self.assertEqual(c.create(name)[0], "OK")
        return c

    def test_append_fetch_roundtrip(self):
        c = self.fresh("alice", "INBOX.t1")
        typ, data = c.append("INBOX.t1", r"(\Flagged $Work)",
                             '"17-Jul-1996 02:44:25 -0700"', msg("first"))
        self.assertEqual(typ, "OK")
        self.assertRegex(data[0].decode(), r"\[APPENDUID \d+ 1\]")
        c.append("INBOX.t1", None, None, msg("second", "other text"))
        typ, data = c.select("INBOX.t1")
        self.assertEqual(data, [b"2"])
        typ, data = c.fetch("1", "(FLAGS INTERNALDATE RFC822.SIZE UID)")
        line = data[0].decode()
        self.assertIn("\\Flagged", line)
        self.assertIn("$Work", line)
        # the server may show the date in its own zone: same instant
        m = re.search(r'INTERNALDATE ("[^"]+")', line)
        self.assertIsNotNone(m, line)
        self.assertEqual(time.mktime(imaplib.Internaldate2tuple(
            ("INTERNALDATE %s" % m.group(1)).encode())),
            time.mktime(imaplib.Internaldate2tuple(
                b'INTERNALDATE "17-Jul-1996 02:44:25 -0700"')))
        self.assertIn("UID 1", line)
        typ, data = c.fetch("2", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)] ENVELOPE)")
        self.assertIn(b"Subject: second", data[0][1])
        typ, data = c.fetch("1:2", "(BODY[])")
        self.assertEqual(data[0][1], msg("first"))
        typ, data = c.fetch("1", "(FLAGS)")
        self.assertIn(b"\\Seen", data[0])

    def test_store_search_expunge(self):
        c = self.fresh("alice", "INBOX.t2")
        for i in range(5):
            c.append("INBOX.t2", None, None,
                     msg("subject %d" % i, "body number %d" % i))
        c.select("INBOX.t2")
        typ, data = c.store("2:3", "+FLAGS", r"(\Deleted)")
        self.assertEqual(typ, "OK")
        self.assertEqual(c.search(None, "DELETED")[1], [b"2 3"])
        self.assertEqual(c.search(None, "UNDELETED")[1], [b"1 4 5"])
        self.assertEqual(c.search(None, 'SUBJECT "subject 4"')[1], [b"5"])
        self.assertEqual(c.search(None, 'BODY "number 1"')[1], [b"2"])
        self.assertEqual(c.uid("SEARCH", "ALL")[1], [b"1 2 3 4 5"])
        typ, data = c.expunge()
        self.assertEqual(typ, "OK")
        self.assertEqual(data, [b"3", b"2"])
        self.assertEqual(c.uid("SEARCH", "ALL")[1], [b"1 4 5"])

    def test_bad_search_is_bad(self):
        c = self.fresh("alice", "INBOX.t3")
        c.select("INBOX.t3")
        with self.assertRaises(imaplib.IMAP4.error):
            c.search(None, "NOSUCHKEY")
        self.assertEqual(c.noop()[0], "OK")

    def test_copy_and_move(self):
        c = self.fresh("alice", "INBOX.src")
        self.assertEqual(c.create("INBOX.dst")[0], "OK")
        for i in range(3):
            c.append("INBOX.src", r"(\Answered)", None, msg("m%d" % i))
        c.select("INBOX.src")
        typ, data = c.copy("1:2", "INBOX.dst")
        self.assertEqual(typ, "OK")
        self.assertRegex(data[0].decode(), r"COPYUID \d+ 1:2 1:2")
        typ, data = c.copy("1", "INBOX.nope")
        self.assertEqual(typ, "NO")
        self.assertIn(b"TRYCREATE", data[0])
        typ, data = c._simple_command("MOVE", "3", "INBOX.dst")
        self.assertEqual(typ, "OK")
        self.assertEqual(c.search(None, "ALL")[1], [b"1 2"])
        st = c.status("INBOX.dst", "(MESSAGES)")[1][0]
        self.assertIn(b"MESSAGES 3", st)
        c.select("INBOX.dst")
        typ, data = c.fetch("3", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertIn(b"\\Answered", data[0][0])
        self.assertIn(b"m2", data[0][1])

    def test_two_sessions_see_each_other(self):
        a = self.fresh("alice", "INBOX.shared1")
        b = self.login("alice")
        a.select("INBOX.shared1")
        b.select("INBOX.shared1")
        b.append("INBOX.shared1", None, None, msg("new one"))
        typ, data = a.noop()
        self.assertIn(b"1", [d for d in a.untagged_responses.get("EXISTS", [])])
        a.store("1", "+FLAGS", r"(\Flagged)")
        b.noop()
        fetched = b.untagged_responses.get("FETCH", [])
        self.assertTrue(any(b"\\Flagged" in f for f in fetched), fetched)

    def test_idle_sees_new_mail(self):
        c = self.fresh("bob", "INBOX.idle")
        c.select("INBOX.idle")
        port = self.backend.ports["imap"]
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        f = s.makefile("rb")
        f.readline()
        s.sendall(b"a LOGIN bob bob-pw\r\nb SELECT INBOX.idle\r\n")
        while not f.readline().startswith(b"b OK"):
            pass
        s.sendall(b"c IDLE\r\n")
        self.assertEqual(f.readline(), b"+ idling\r\n")
        t0 = time.time()
        c.append("INBOX.idle", None, None, msg("wake up"))
        line = f.readline()
        self.assertEqual(line, b"* 1 EXISTS\r\n")
        self.assertLess(time.time() - t0, 2.0)
        s.sendall(b"DONE\r\n")
        while True:
            line = f.readline()
            if line.startswith(b"c "):
                break
        self.assertEqual(line, b"c OK Completed\r\n")
        s.close()

    def test_append_limits_and_bad_literal(self):
        c = self.fresh("carol", "INBOX.lim")
        typ, data = c.append("INBOX.lim", None, None, b"Subject: x\r\n\r\na\0b\r\n")
        self.assertEqual(typ, "NO")
        typ, data = c.append("INBOX.nosuch", None, None, msg("x"))
        self.assertEqual(typ, "NO")
        self.assertIn(b"TRYCREATE", data[0])
