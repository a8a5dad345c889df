"""imapd with real clients (tests/clients.py wrappers): curl imap://
(LIST, fetch by UID, APPEND by upload), mutt (reads the mailbox and
copies every message) and mbsync (new messages and flag changes in
both directions)."""
import os
import tempfile
import unittest

import backend
import clients

HOST = "127.0.0.1"


def msg(subject, body="hello"):
    return ("From: a@example.com\r\nTo: b@example.com\r\n"
            "Subject: %s\r\nMessage-ID: <%s@example.com>\r\n"
            "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\n%s\r\n"
            % (subject, subject.replace(" ", "."), body)).encode()


@unittest.skipIf(clients.missing_clients() and
                 {"curl", "mutt", "mbsync"} & set(clients.missing_clients()),
                 "clients missing: apt-get install curl mutt isync")
class TestClients(backend.BackendTestCase):
    def port(self):
        return self.backend.ports["imap"]

    def test_curl(self):
        c = self.login("alice")
        self.assertEqual(c.create("INBOX.curl")[0], "OK")
        names = [n for _, _, n in clients.curl_imap_list(
            HOST, self.port(), "alice", "alice-pw")]
        self.assertIn("INBOX", names)
        self.assertIn("INBOX.curl", names)
        res = clients.curl_imap_append(HOST, self.port(), "alice", "alice-pw",
                                       "INBOX.curl", msg("via curl"))
        self.assertIsNotNone(res)
        uidvalidity, uid = res
        self.assertEqual(uid, 1)
        clients.curl_imap_append(HOST, self.port(), "alice", "alice-pw",
                                 "INBOX.curl", msg("second curl"))
        self.assertEqual(clients.curl_imap_count(
            HOST, self.port(), "alice", "alice-pw", "INBOX.curl"), 2)
        got = clients.curl_imap_fetch(HOST, self.port(), "alice", "alice-pw",
                                      "INBOX.curl", 2)
        self.assertEqual(got.replace(b"\r\n", b"\n").rstrip(),
                         msg("second curl").replace(b"\r\n", b"\n").rstrip())
        self.assertEqual(clients.curl_imap_search(
            HOST, self.port(), "alice", "alice-pw", "INBOX.curl",
            "SUBJECT curl"), [1, 2])

    def test_mutt(self):
        c = self.login("bob")
        self.assertEqual(c.create("INBOX.mutt")[0], "OK")
        for s in ("one", "two", "three"):
            c.append("INBOX.mutt", None, None, msg("mutt %s" % s))
        res = clients.mutt_read(HOST, self.port(), "bob", "bob-pw",
                                "INBOX.mutt")
        subjects = sorted(m["Subject"] for m in res.messages)
        self.assertEqual(subjects, ["mutt one", "mutt three", "mutt two"])

    def test_mbsync_both_ways(self):
        # mbsync strips the personal namespace prefix "INBOX.": the
        # server's INBOX.sync is its folder "sync"
        c = self.login("carol")
        self.assertEqual(c.create("INBOX.sync")[0], "OK")
        c.append("INBOX.sync", None, None, msg("server side"))
        root = tempfile.mkdtemp(prefix="mbsync-")
        self.addCleanup(lambda: __import__("shutil").rmtree(root, True))
        r = clients.mbsync_sync(HOST, self.port(), "carol", "carol-pw", root,
                                "sync")
        self.assertEqual(r.local, 1)
        folder = clients.mbsync_folder(root, "sync")
        # a new message on the Maildir side goes up
        newdir = os.path.join(folder, "new")
        with open(os.path.join(newdir, "1700000000.local.host"), "wb") as f:
            f.write(msg("maildir side").replace(b"\r\n", b"\n"))
        # and the server's message gets \Flagged locally (F in the name)
        cur = os.path.join(folder, "cur")
        for d in (newdir, cur):
            for name in os.listdir(d):
                if b"server side" in open(os.path.join(d, name), "rb").read():
                    base = name.split(":2,")[0]
                    flags = name.split(":2,")[1] if ":2," in name else ""
                    os.rename(os.path.join(d, name),
                              os.path.join(cur, base + ":2," +
                                           "".join(sorted(flags + "F"))))
        r = clients.mbsync_sync(HOST, self.port(), "carol", "carol-pw", root,
                                "sync")
        self.assertEqual(r.far, 1)  # counted before this sync
        c.select("INBOX.sync")
        typ, data = c.search(None, "SUBJECT", '"maildir side"')
        self.assertEqual(len(data[0].split()), 1)
        typ, data = c.search(None, "FLAGGED")
        self.assertEqual(len(data[0].split()), 1)
        # server-side change comes down: \Seen on the uploaded message
        up = data and c.search(None, "SUBJECT", '"maildir side"')[1][0]
        c.store(up.split()[0], "+FLAGS", "(\\Seen)")
        c.append("INBOX.sync", None, None, msg("server later"))
        r = clients.mbsync_sync(HOST, self.port(), "carol", "carol-pw", root,
                                "sync")
        self.assertEqual(r.local, 3)
        seen_local = [n for n in os.listdir(cur)
                      if ":2," in n and "S" in n.split(":2,")[1]]
        self.assertGreaterEqual(len(seen_local), 1)
