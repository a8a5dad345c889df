"""imapd end to end: GETACL, SETACL, DELETEACL, LISTRIGHTS, MYRIGHTS (RFC
4314) with Cyrus 3.6's answers, sharing between users, and per-user \\Seen
on a shared folder (STORAGE.md §5), with imaplib."""
import imaplib

import backend

imaplib.Commands.setdefault("LISTRIGHTS", ("AUTH", "SELECTED"))

MSG = (b"From: Alice <alice@example.com>\r\nSubject: %d\r\n"
       b"Message-ID: <acl%d@example.com>\r\n\r\nbody\r\n")


def untagged(c, typ, dat, name):
    return c._untagged_response(typ, dat, name)


class TestAcl(backend.BackendTestCase):
    def test_transcript_forms(self):
        c = self.login("alice")
        typ, data = c.getacl("INBOX")
        self.assertEqual((typ, data), ("OK", [b"INBOX alice lrswipkxtecdan"]))
        typ, data = c.myrights("INBOX")
        self.assertEqual((typ, data), ("OK", [b"INBOX lrswipkxtecdan"]))
        typ, data = untagged(c, *c._simple_command("LISTRIGHTS", "INBOX",
                                                    "bob"), "LISTRIGHTS")
        self.assertEqual(typ, "OK")
        self.assertEqual(data, [b"INBOX bob p l r s w i k x t e c d a n "
                                b"0 1 2 3 4 5 6 7 8 9"])
        # the owner's required rights are the implicit owner rights
        typ, data = untagged(c, *c._simple_command("LISTRIGHTS", "INBOX",
                                                    "alice"), "LISTRIGHTS")
        self.assertTrue(data[0].startswith(b"INBOX alice lkxcan "), data)

    def test_share_with_bob(self):
        a = self.login("alice")
        self.assertEqual(a.create("INBOX.share")[0], "OK")
        for i in range(3):
            self.assertEqual(a.append("INBOX.share", None, None,
                                      MSG % (i, i))[0], "OK")
        b = self.login("bob")
        # invisible before the SETACL: does not exist for bob
        typ, data = b.select("user.alice.share")
        self.assertEqual(typ, "NO")
        typ, data = b.getacl("user.alice.share")
        self.assertEqual(typ, "NO")
        self.assertIn(b"does not exist", data[0])
        self.assertEqual(a.setacl("INBOX.share", "bob", "lrs")[0], "OK")
        typ, data = a.getacl("INBOX.share")
        self.assertEqual(data, [b"INBOX.share alice lrswipkxtecdan bob lrs"])
        typ, data = b.myrights("user.alice.share")
        self.assertEqual(data, [b"user.alice.share lrs"])
        # bob sees it but may not administer it
        typ, data = b.getacl("user.alice.share")
        self.assertEqual((typ, data), ("NO", [b"Permission denied"]))
        self.assertEqual(b.setacl("user.alice.share", "bob", "lrswipkxtea")[0],
                         "NO")
        typ, data = b.select("user.alice.share")
        self.assertEqual((typ, data), ("OK", [b"3"]))
        typ, data = b.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertIn(b"Subject: 0", data[0][1])
        # no `t`: \Deleted cannot be set, nothing is expunged
        typ, data = b.store("1", "+FLAGS", "(\\Deleted)")
        self.assertEqual(typ, "NO")
        b.expunge()
        typ, data = b.search(None, "ALL")
        self.assertEqual(data, [b"1 2 3"])
        # with t and e, bob can delete
        self.assertEqual(a.setacl("INBOX.share", "bob", "+te")[0], "OK")
        typ, data = a.getacl("INBOX.share")
        self.assertEqual(data, [b"INBOX.share alice lrswipkxtecdan "
                                b"bob lrsted"])
        b.select("user.alice.share")
        self.assertEqual(b.store("1", "+FLAGS", "(\\Deleted)")[0], "OK")
        self.assertEqual(b.expunge()[0], "OK")
        typ, data = b.search(None, "ALL")
        self.assertEqual(data, [b"1 2"])
        # -rights removes, DELETEACL drops the entry
        self.assertEqual(a.setacl("INBOX.share", "bob", "-ted")[0], "OK")
        typ, data = a.getacl("INBOX.share")
        self.assertEqual(data, [b"INBOX.share alice lrswipkxtecdan bob lrs"])
        self.assertEqual(a.deleteacl("INBOX.share", "bob")[0], "OK")
        typ, data = a.getacl("INBOX.share")
        self.assertEqual(data, [b"INBOX.share alice lrswipkxtecdan"])
        self.assertEqual(b.select("user.alice.share")[0], "NO")

    def test_negative_rights_and_anyone(self):
        a = self.login("alice")
        self.assertEqual(a.create("INBOX.pub")[0], "OK")
        self.assertEqual(a.setacl("INBOX.pub", "anyone", "lrs")[0], "OK")
        b = self.login("bob")
        c = self.login("carol")
        self.assertEqual(b.myrights("user.alice.pub")[1],
                         [b"user.alice.pub lrs"])
        self.assertEqual(c.select("user.alice.pub")[0], "OK")
        # carol is excluded by a negative entry
        self.assertEqual(a.setacl("INBOX.pub", "-carol", "lr")[0], "OK")
        typ, data = a.getacl("INBOX.pub")
        self.assertEqual(data, [b"INBOX.pub alice lrswipkxtecdan "
                                b"anyone lrs -carol lr"])
        self.assertEqual(c.myrights("user.alice.pub")[0], "NO")
        self.assertEqual(c.select("user.alice.pub")[0], "NO")
        self.assertEqual(b.select("user.alice.pub")[0], "OK")
        with self.assertRaises(imaplib.IMAP4.error):
            a.setacl("INBOX.pub", "bob", "bogus!")

    def test_owner_keeps_implicit_rights(self):
        a = self.login("alice")
        self.assertEqual(a.create("INBOX.mine")[0], "OK")
        self.assertEqual(a.setacl("INBOX.mine", "alice", '""')[0], "OK")
        typ, data = a.myrights("INBOX.mine")
        self.assertEqual(data, [b"INBOX.mine lkxcan"])
        # still administrable: the owner restores the entry
        self.assertEqual(a.setacl("INBOX.mine", "alice", "lrswipkxtea")[0],
                         "OK")
        typ, data = a.myrights("INBOX.mine")
        self.assertEqual(data, [b"INBOX.mine lrswipkxtecdan"])

    def test_admin_may_setacl_anywhere(self):
        adm = self.login("cyrus")
        self.assertEqual(adm.setacl("user.carol", "bob", "lr")[0], "OK")
        typ, data = adm.getacl("user.carol")
        self.assertEqual(data, [b"user.carol carol lrswipkxtecdan bob lr"])
        b = self.login("bob")
        self.assertEqual(b.select("user.carol", readonly=True)[0], "OK")

    def test_per_user_seen(self):
        a = self.login("alice")
        self.assertEqual(a.create("INBOX.seen")[0], "OK")
        for i in range(3):
            a.append("INBOX.seen", None, None, MSG % (10 + i, 10 + i))
        self.assertEqual(a.setacl("INBOX.seen", "bob", "lrsw")[0], "OK")
        a.select("INBOX.seen")
        self.assertEqual(a.store("1", "+FLAGS", "(\\Seen)")[0], "OK")
        b = self.login("bob")
        typ, data = b.status("user.alice.seen", "(UNSEEN)")
        self.assertIn(b"UNSEEN 3", data[0])
        b.select("user.alice.seen")
        self.assertEqual(b.search(None, "SEEN")[1], [b""])
        typ, data = b.store("2:3", "+FLAGS", "(\\Seen)")
        self.assertEqual(typ, "OK")
        self.assertIn(b"\\Seen", data[0])
        self.assertEqual(b.search(None, "SEEN")[1], [b"2 3"])
        self.assertEqual(b.search(None, "UNSEEN")[1], [b"1"])
        # a non-PEEK body fetch marks seen for bob only
        b.fetch("1", "(BODY[TEXT])")
        self.assertEqual(b.search(None, "UNSEEN")[1], [b""])
        b.store("3", "-FLAGS", "(\\Seen)")
        typ, data = b.fetch("1:3", "(FLAGS)")
        self.assertEqual([(b"\\Seen" in d) for d in data],
                         [True, True, False])
        # alice's own state is untouched
        a.select("INBOX.seen")
        self.assertEqual(a.search(None, "SEEN")[1], [b"1"])
        typ, data = a.status("INBOX.seen", "(UNSEEN)")
        self.assertIn(b"UNSEEN 2", data[0])
        # bob's state survives a new session
        b.logout()
        b2 = self.login("bob")
        typ, data = b2.status("user.alice.seen", "(UNSEEN)")
        self.assertIn(b"UNSEEN 1", data[0])
        typ, data = b2.select("user.alice.seen")
        self.assertEqual(b2.search(None, "UNSEEN")[1], [b"3"])
        self.assertIn(b"3", b2.response("UNSEEN")[1][0] or b"")
