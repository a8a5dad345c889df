"""imapd end to end: THREAD (RFC 5256), CONDSTORE/QRESYNC (RFC 7162),
ENABLE, ESEARCH (RFC 4731), RENAME INBOX; raw responses checked."""
import re

import backend
import rawimap


def message(subject, mid, refs=None, date="Mon, 23 Nov 2026 10:00:00 +0000"):
    hdr = ("From: Alice <alice@example.com>\r\n"
           "To: Bob <bob@example.com>\r\n"
           "Subject: %s\r\n"
           "Date: %s\r\n"
           "Message-ID: <%s@example.com>\r\n" % (subject, date, mid))
    if refs:
        hdr += "References: %s\r\n" % " ".join(
            "<%s@example.com>" % r for r in refs)
    return (hdr + "\r\nbody\r\n").encode()


class TestExtensions(backend.BackendTestCase):
    def raw(self, user):
        r = rawimap.Raw(self.backend.ports["imap"])
        self.addCleanup(r.close)
        self.assertTrue(r.login(user, backend.password(user))
                        .startswith(b"t1 OK"))
        return r

    def run_cmd(self, r, text):
        t = r.tag()
        r.send(t + b" " + text.encode() + b"\r\n")
        return r.read_until_tagged(t)

    def fill(self, user, box, msgs):
        c = self.login(user)
        self.assertEqual(c.create(box)[0], "OK")
        for m in msgs:
            self.assertEqual(c.append(box, None, None, m)[0], "OK")
        c.logout()

    def test_capabilities(self):
        r = self.raw("alice")
        lines, tagged = self.run_cmd(r, "CAPABILITY")
        caps = lines[0].split()
        for cap in (b"THREAD=ORDEREDSUBJECT", b"THREAD=REFERENCES", b"SORT",
                    b"CONDSTORE", b"QRESYNC", b"ESEARCH", b"UNSELECT"):
            self.assertIn(cap, caps)

    def test_thread(self):
        self.fill("alice", "INBOX.th", [
            message("hello", "a", date="Mon, 23 Nov 2026 10:00:00 +0000"),
            message("Re: hello", "b", ["a"],
                    date="Mon, 23 Nov 2026 11:00:00 +0000"),
            message("other", "c", date="Mon, 23 Nov 2026 09:00:00 +0000"),
            message("Re: hello", "d", ["a"],
                    date="Mon, 23 Nov 2026 10:30:00 +0000"),
            message("Re: hello", "e", ["a", "d"],
                    date="Mon, 23 Nov 2026 12:00:00 +0000"),
        ])
        r = self.raw("alice")
        self.assertTrue(r.cmd("SELECT INBOX.th").endswith(b"Completed"))
        lines, tagged = self.run_cmd(r, "THREAD REFERENCES UTF-8 ALL")
        self.assertIn(b"OK", tagged)
        self.assertEqual(lines, [b"* THREAD (3)(1 (4 5)(2))"])
        lines, tagged = self.run_cmd(r, "THREAD ORDEREDSUBJECT UTF-8 ALL")
        self.assertEqual(lines, [b"* THREAD (3)(1 (4)(2)(5))"])
        lines, tagged = self.run_cmd(r, "UID THREAD REFERENCES US-ASCII "
                                        "SUBJECT hello")
        self.assertEqual(lines, [b"* THREAD (1 (4 5)(2))"])
        lines, tagged = self.run_cmd(r, "THREAD REFERENCES UTF-8 "
                                        "SUBJECT nothing")
        self.assertEqual(lines, [b"* THREAD"])
        self.assertIn(b" OK", tagged)
        self.assertIn(b" BAD", r.cmd("THREAD FOO UTF-8 ALL"))
        self.assertIn(b" NO [BADCHARSET",
                      r.cmd("THREAD REFERENCES X-BOGUS ALL"))

    def test_enable(self):
        r = self.raw("alice")
        lines, tagged = self.run_cmd(r, "ENABLE X-UNKNOWN")
        self.assertEqual(lines, [b"* ENABLED"])
        self.assertIn(b"OK", tagged)
        lines, tagged = self.run_cmd(r, "ENABLE CONDSTORE")
        self.assertEqual(lines, [b"* ENABLED CONDSTORE"])
        # CONDSTORE first must not hide QRESYNC
        lines, tagged = self.run_cmd(r, "ENABLE QRESYNC X-FOO")
        self.assertEqual(lines, [b"* ENABLED QRESYNC"])
        lines, tagged = self.run_cmd(r, "ENABLE QRESYNC")
        self.assertEqual(lines, [b"* ENABLED"])

    def select_state(self, lines):
        text = b"\n".join(lines)
        uidv = int(re.search(rb"\[UIDVALIDITY (\d+)\]", text).group(1))
        hms = int(re.search(rb"\[HIGHESTMODSEQ (\d+)\]", text).group(1))
        return uidv, hms

    def test_qresync_select_and_vanished(self):
        self.fill("alice", "INBOX.qr",
                  [message("m%d" % i, "qr%d" % i) for i in range(1, 6)])
        r = self.raw("alice")
        self.assertIn(b" BAD", r.cmd("SELECT INBOX.qr (QRESYNC (1 1))"))
        lines, tagged = self.run_cmd(r, "ENABLE QRESYNC")
        lines, tagged = self.run_cmd(r, "SELECT INBOX.qr")
        uidv, hms = self.select_state(lines)
        # another session changes a flag and expunges a message while we
        # hold the mailbox open (so the record is kept)
        o = self.raw("alice")
        o.cmd("SELECT INBOX.qr")
        self.assertIn(b"OK", o.cmd("STORE 2 +FLAGS (\\Flagged)"))
        self.assertIn(b"OK", o.cmd("STORE 3 +FLAGS (\\Deleted)"))
        lines, tagged = self.run_cmd(o, "EXPUNGE")
        self.assertIn(b"* 3 EXPUNGE", lines)
        # our own session now hears VANISHED, not EXPUNGE
        lines, tagged = self.run_cmd(r, "NOOP")
        self.assertIn(b"* VANISHED 3", lines)
        self.assertFalse([ln for ln in lines if ln.endswith(b"EXPUNGE")])
        # a fresh QRESYNC select catches up
        q = self.raw("alice")
        self.run_cmd(q, "ENABLE QRESYNC")
        lines, tagged = self.run_cmd(
            q, "SELECT INBOX.qr (QRESYNC (%d %d))" % (uidv, hms))
        self.assertIn(b"OK", tagged)
        self.assertIn(b"* VANISHED (EARLIER) 3", lines)
        fetch = [ln for ln in lines if b"FETCH" in ln]
        self.assertEqual(len(fetch), 1, lines)
        self.assertRegex(fetch[0], rb"^\* 2 FETCH \(UID 2 FLAGS \(\\Flagged\) "
                                   rb"MODSEQ \(\d+\)\)$")
        # a wrong UIDVALIDITY gets a plain select
        lines, tagged = self.run_cmd(
            q, "SELECT INBOX.qr (QRESYNC (%d %d))" % (uidv + 1, hms))
        self.assertFalse([ln for ln in lines if b"VANISHED" in ln])
        # UID FETCH ... (CHANGEDSINCE n VANISHED)
        self.run_cmd(q, "SELECT INBOX.qr")
        lines, tagged = self.run_cmd(
            q, "UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d VANISHED)" % hms)
        self.assertIn(b"OK", tagged)
        self.assertEqual(lines[0], b"* VANISHED (EARLIER) 3")
        self.assertEqual(len(lines), 2, lines)
        lines, tagged = self.run_cmd(
            q, "UID FETCH 4:* (FLAGS) (CHANGEDSINCE %d VANISHED)" % hms)
        self.assertEqual(lines, [])
        # VANISHED needs UID FETCH
        self.assertIn(b" BAD", q.cmd(
            "FETCH 1:* (FLAGS) (CHANGEDSINCE %d VANISHED)" % hms))

    def test_qresync_after_compaction(self):
        self.fill("alice", "INBOX.qc",
                  [message("m%d" % i, "qc%d" % i) for i in range(1, 6)])
        r = self.raw("alice")
        self.run_cmd(r, "ENABLE QRESYNC")
        lines, tagged = self.run_cmd(r, "SELECT INBOX.qc")
        uidv, hms = self.select_state(lines)
        r.cmd("STORE 2,4 +FLAGS.SILENT (\\Deleted)")
        # alone on the mailbox: the expunge compacts the records away
        lines, tagged = self.run_cmd(r, "EXPUNGE")
        self.assertIn(b"* VANISHED 2,4", lines)
        r.cmd("UNSELECT")
        q = self.raw("alice")
        self.run_cmd(q, "ENABLE QRESYNC")
        lines, tagged = self.run_cmd(
            q, "SELECT INBOX.qc (QRESYNC (%d %d 1:5))" % (uidv, hms))
        self.assertIn(b"* VANISHED (EARLIER) 2,4", lines)
        lines, tagged = self.run_cmd(
            q, "SELECT INBOX.qc (QRESYNC (%d %d 3:5 (1:2 3:4)))" % (uidv, hms))
        self.assertIn(b"* VANISHED (EARLIER) 4", lines)
        self.assertIn(b" BAD", q.cmd("SELECT INBOX.qc (QRESYNC (%d))" % uidv))

    def test_rename_inbox(self):
        c = self.login("carol")
        self.assertEqual(c.create("INBOX.kid")[0], "OK")
        c.append("INBOX", r"(\Flagged)", None, message("one", "ri1"))
        c.append("INBOX", None, None, message("two", "ri2"))
        c.append("INBOX.kid", None, None, message("kid", "ri3"))
        typ, data = c.rename("INBOX", "INBOX.old")
        self.assertEqual(typ, "OK", data)
        typ, data = c.select("INBOX")
        self.assertEqual(data, [b"0"])
        typ, data = c.select("INBOX.old")
        self.assertEqual(data, [b"2"])
        typ, data = c.fetch("1:2", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertIn(b"\\Flagged", data[0][0])
        self.assertIn(b"Subject: one", data[0][1])
        self.assertIn(b"Subject: two", data[2][1])
        # the INBOX's children stay where they are
        self.assertEqual(c.select("INBOX.kid")[1], [b"1"])
        typ, data = c.list('""', "INBOX.old.*")
        self.assertEqual(data, [None])
        # an existing target is refused and nothing moves
        c.append("INBOX", None, None, message("three", "ri4"))
        self.assertEqual(c.rename("INBOX", "INBOX.old")[0], "NO")
        self.assertEqual(c.select("INBOX")[1], [b"1"])
        # and the INBOX can be renamed again
        self.assertEqual(c.rename("INBOX", "INBOX.old2")[0], "OK")
        self.assertEqual(c.select("INBOX.old2")[1], [b"1"])

    def test_esearch_and_unselect(self):
        self.fill("alice", "INBOX.es",
                  [message("es%d" % i, "es%d" % i) for i in range(1, 6)])
        r = self.raw("alice")
        r.cmd("SELECT INBOX.es")
        r.cmd("STORE 2,4,5 +FLAGS.SILENT (\\Flagged)")
        t = r.tag()
        r.send(t + b" SEARCH RETURN (MIN MAX COUNT ALL) FLAGGED\r\n")
        lines, tagged = r.read_until_tagged(t)
        self.assertEqual(lines, [b'* ESEARCH (TAG "%s") MIN 2 MAX 5 COUNT 3 '
                                 b'ALL 2,4:5' % t])
        t = r.tag()
        r.send(t + b" UID SEARCH RETURN () FLAGGED\r\n")
        lines, tagged = r.read_until_tagged(t)
        self.assertEqual(lines, [b'* ESEARCH (TAG "%s") UID ALL 2,4:5' % t])
        t = r.tag()
        r.send(t + b" SEARCH RETURN (MIN MAX ALL COUNT) SUBJECT nothing\r\n")
        lines, tagged = r.read_until_tagged(t)
        # RFC 4731 3.1: only COUNT when nothing matched
        self.assertEqual(lines, [b'* ESEARCH (TAG "%s") COUNT 0' % t])
        t = r.tag()
        r.send(t + b" SEARCH RETURN (COUNT) ALL\r\n")
        lines, tagged = r.read_until_tagged(t)
        self.assertEqual(lines, [b'* ESEARCH (TAG "%s") COUNT 5' % t])
        # UNSELECT leaves the mailbox without expunging
        r.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)")
        self.assertIn(b" OK", r.cmd("UNSELECT"))
        self.assertIn(b" BAD", r.cmd("FETCH 1 FLAGS"))
        lines, tagged = self.run_cmd(r, "SELECT INBOX.es")
        self.assertIn(b"* 5 EXISTS", lines)
