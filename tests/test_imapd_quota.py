"""imapd end to end: GETQUOTA, GETQUOTAROOT, SETQUOTA (RFC 9208 as Cyrus
3.6), enforcement on APPEND and COPY, and usage after EXPUNGE."""
import re

import backend


def msg(i, size=2000):
    head = ("From: a@example.com\r\nSubject: q%d\r\n"
            "Message-ID: <q%d@example.com>\r\n\r\n" % (i, i)).encode()
    return head + b"x" * (size - len(head) - 2) + b"\r\n"


def usage(data):
    m = re.search(rb"\(STORAGE (\d+) (\d+)(?: MESSAGE (\d+) (\d+))?\)",
                  data)
    return tuple(int(x) if x is not None else None for x in m.groups())


class TestQuota(backend.BackendTestCase):
    def test_setquota_admin_only_and_forms(self):
        b = self.login("bob")
        typ, data = b.setquota("user.bob", "(STORAGE 100)")
        self.assertEqual(typ, "NO")
        adm = self.login("cyrus")
        typ, data = adm.getquota("user.bob")
        self.assertEqual(typ, "NO")
        self.assertEqual(adm.setquota("user.bob", "(STORAGE 102400)")[0], "OK")
        typ, data = adm.getquota("user.bob")
        self.assertEqual(data, [b'user.bob (STORAGE 0 102400)'])
        # bob sees his own root as INBOX
        typ, data = b.getquotaroot("INBOX")
        self.assertEqual(typ, "OK")
        self.assertEqual(data, [[b"INBOX INBOX"],
                                [b"INBOX (STORAGE 0 102400)"]])
        # a mailbox without a root
        typ, data = b.getquotaroot("INBOX")
        typ, data = adm.getquotaroot("user.carol")
        self.assertEqual(data[0], [b"user.carol"])
        # a root for a nonexistent mailbox needs "+"
        typ, data = adm.setquota("user.nosuch", "(STORAGE 10)")
        self.assertEqual(typ, "NO")
        typ, data = adm.setquota("+user.nosuch", "(STORAGE 10 MESSAGE 5)")
        self.assertEqual(typ, "OK")
        typ, data = adm.getquota("user.nosuch")
        self.assertEqual(data, [b"user.nosuch (STORAGE 0 10 MESSAGE 0 5)"])
        # "()" removes the root
        self.assertEqual(adm.setquota("user.nosuch", "()")[0], "OK")
        self.assertEqual(adm.getquota("user.nosuch")[0], "NO")

    def test_usage_of_existing_hierarchy_and_enforcement(self):
        c = self.login("carol")
        self.assertEqual(c.create("INBOX.sub")[0], "OK")
        for i in range(2):
            self.assertEqual(c.append("INBOX", None, None, msg(i))[0], "OK")
        self.assertEqual(c.append("INBOX.sub", None, None, msg(5))[0], "OK")
        adm = self.login("cyrus")
        self.assertEqual(adm.setquota("user.carol",
                                      "(STORAGE 8 MESSAGE 4)")[0], "OK")
        typ, data = adm.getquota("user.carol")
        # 3 messages of 2000 bytes: 5 KiB (rounded down)
        self.assertEqual(usage(data[0]), (5, 8, 3, 4))
        # the new root applies to the existing mailboxes at once
        typ, data = c.getquotaroot("INBOX.sub")
        self.assertEqual(data[0], [b"INBOX.sub INBOX"])
        self.assertEqual(c.append("INBOX.sub", None, None, msg(6))[0], "OK")
        typ, data = c.getquotaroot("INBOX")
        self.assertEqual(usage(data[1][0]), (7, 8, 4, 4))
        # over the MESSAGE limit now
        typ, data = c.append("INBOX", None, None, msg(7, 100))
        self.assertEqual(typ, "NO")
        self.assertIn(b"[OVERQUOTA]", data[0])
        c.select("INBOX")
        typ, data = c.copy("1", "INBOX.sub")
        self.assertEqual(typ, "NO")
        self.assertIn(b"[OVERQUOTA]", data[0])
        # expunge gives exactly the usage back
        c.store("1", "+FLAGS", "(\\Deleted)")
        self.assertEqual(c.expunge()[0], "OK")
        typ, data = c.getquotaroot("INBOX")
        self.assertEqual(usage(data[1][0]), (5, 8, 3, 4))
        c.close()
        c.select("INBOX.sub")
        c.store("1:*", "+FLAGS", "(\\Deleted)")
        self.assertEqual(c.close()[0], "OK")
        typ, data = c.getquotaroot("INBOX")
        self.assertEqual(usage(data[1][0]), (1, 8, 1, 4))
        c.select("INBOX")
        self.assertEqual(c.copy("1", "INBOX.sub")[0], "OK")
        typ, data = c.getquotaroot("INBOX.sub")
        self.assertEqual(usage(data[1][0]), (3, 8, 2, 4))

    def test_new_mailbox_and_removed_root(self):
        adm = self.login("cyrus")
        self.assertEqual(adm.create("user.alice.q")[0], "OK")
        self.assertEqual(adm.setquota("user.alice.q", "(MESSAGE 1)")[0], "OK")
        a = self.login("alice")
        self.assertEqual(a.create("INBOX.q.child")[0], "OK")
        self.assertEqual(a.append("INBOX.q.child", None, None, msg(1))[0],
                         "OK")
        typ, data = a.append("INBOX.q", None, None, msg(2))
        self.assertEqual(typ, "NO")
        self.assertIn(b"[OVERQUOTA]", data[0])
        typ, data = a.getquotaroot("INBOX.q.child")
        self.assertEqual(data, [[b"INBOX.q.child INBOX.q"],
                                [b"INBOX.q (MESSAGE 1 1)"]])
        # without the root, no limit applies any more
        self.assertEqual(adm.setquota("user.alice.q", "()")[0], "OK")
        self.assertEqual(a.append("INBOX.q", None, None, msg(2))[0], "OK")
        typ, data = a.getquotaroot("INBOX.q")
        self.assertEqual(data[0], [b"INBOX.q"])
