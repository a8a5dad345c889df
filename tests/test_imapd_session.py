"""imapd end to end: greeting, CAPABILITY, LOGIN/AUTHENTICATE, NAMESPACE,
ID, ENABLE, bad input, and mailbox management (CREATE, DELETE, RENAME,
LIST, STATUS, SELECT/EXAMINE) with python's imaplib."""
import imaplib
import socket

import backend
import harness


class TestSession(backend.BackendTestCase):
    def raw(self):
        s = socket.create_connection(("127.0.0.1", self.backend.ports["imap"]),
                                     timeout=10)
        f = s.makefile("rb")
        greeting = f.readline().decode()
        return s, f, greeting

    def test_greeting_and_capability(self):
        s, f, greeting = self.raw()
        self.assertTrue(greeting.startswith("* OK [CAPABILITY IMAP4rev1 "))
        self.assertIn("AUTH=PLAIN", greeting)
        self.assertIn("backend1", greeting)
        s.sendall(b"a1 CAPABILITY\r\n")
        caps = f.readline().decode()
        self.assertTrue(caps.startswith("* CAPABILITY IMAP4rev1"))
        self.assertEqual(f.readline(), b"a1 OK Completed\r\n")
        s.close()

    def test_login_and_failures(self):
        c = self.backend.connect()
        with self.assertRaises(imaplib.IMAP4.error):
            c.login("alice", "wrong")
        typ, data = c.login("alice", "alice-pw")
        self.assertEqual(typ, "OK")
        caps = c.capability()[1][0].decode()
        self.assertIn("NAMESPACE", caps)
        self.assertNotIn("AUTH=PLAIN", caps)
        c.logout()

    def test_authenticate_plain(self):
        c = self.backend.connect()
        typ, _ = c.authenticate("PLAIN",
                                lambda _: b"\0bob\0bob-pw")
        self.assertEqual(typ, "OK")
        self.assertEqual(c.noop()[0], "OK")
        c.logout()

    def test_commands_need_login(self):
        s, f, _ = self.raw()
        s.sendall(b"a1 SELECT INBOX\r\na2 FOO\r\n\r\na3 LOGOUT\r\n")
        self.assertEqual(f.readline(), b"a1 BAD Please login first\r\n")
        self.assertEqual(f.readline(), b"a2 BAD Unrecognized command\r\n")
        line = f.readline()
        self.assertTrue(line.startswith(b"* BAD") or line.startswith(b" BAD"),
                        line)
        self.assertEqual(f.readline(), b"* BYE LOGOUT received\r\n")
        s.close()

    def test_overlong_line_gets_bad_and_session_goes_on(self):
        s, f, _ = self.raw()
        s.sendall(b"a1 NOOP " + b"x" * 100000 + b"\r\na2 NOOP\r\n")
        self.assertTrue(f.readline().startswith(b"a1 BAD"))
        self.assertEqual(f.readline(), b"a2 OK Completed\r\n")
        s.close()

    def test_namespace_and_id(self):
        c = self.login("alice")
        typ, data = c.namespace()
        self.assertEqual(typ, "OK")
        self.assertEqual(data[0], b'(("INBOX." ".")) (("user." ".")) (("" "."))')
        typ, data = c.xatom("ID", "NIL")
        self.assertEqual(typ, "OK")

    def test_create_list_status_select(self):
        c = self.login("alice")
        self.assertEqual(c.create("INBOX.Work")[0], "OK")
        self.assertEqual(c.create("INBOX.Work.Sub")[0], "OK")
        typ, data = c.create("INBOX.Work")
        self.assertEqual(typ, "NO")
        typ, data = c.list('""', "*")
        self.assertEqual(typ, "OK")
        names = [d.decode() for d in data]
        self.assertIn('(\\HasChildren) "." INBOX', names)
        self.assertIn('(\\HasChildren) "." INBOX.Work', names)
        self.assertIn('(\\HasNoChildren) "." INBOX.Work.Sub', names)
        typ, data = c.list('""', "%")
        self.assertEqual([d.decode() for d in data],
                         ['(\\HasChildren) "." INBOX'])
        typ, data = c.status("INBOX.Work", "(MESSAGES UIDNEXT UNSEEN)")
        self.assertEqual(typ, "OK")
        self.assertIn(b"MESSAGES 0 UIDNEXT 1 UNSEEN 0", data[0])
        typ, data = c.select("INBOX.Work")
        self.assertEqual(typ, "OK")
        self.assertEqual(data, [b"0"])
        typ, data = c.select("INBOX.Nope")
        self.assertEqual(typ, "NO")
        self.assertEqual(c.rename("INBOX.Work", "INBOX.Play")[0], "OK")
        typ, data = c.list('""', "INBOX.*")
        names = [d.decode() for d in data]
        self.assertIn('(\\HasNoChildren) "." INBOX.Play.Sub', names)
        self.assertEqual(c.delete("INBOX.Play.Sub")[0], "OK")
        self.assertEqual(c.delete("INBOX.Play")[0], "OK")
        self.assertEqual(c.list('""', "INBOX.*")[1], [None])

    def test_other_users_mailboxes_are_private(self):
        a = self.login("alice")
        self.assertEqual(a.create("INBOX.Private")[0], "OK")
        b = self.login("bob")
        typ, data = b.select("user.alice.Private")
        self.assertEqual(typ, "NO")
        self.assertIn(b"does not exist", data[0])
        typ, data = b.list('""', "user.alice*")
        self.assertEqual(data, [None])
        # users may not create other users or top-level mailboxes
        self.assertEqual(b.create("user.mallory")[0], "NO")
        self.assertEqual(b.create("toplevel")[0], "NO")

    def test_admin_sees_internal_names(self):
        c = self.login("cyrus")
        typ, data = c.list('""', "user.%")
        names = [d.decode() for d in data]
        self.assertIn('(\\HasNoChildren) "." user.carol', names)


class TestEmptyServer(harness.TestCase):
    """A node with no mailbox at all (a frontend's replica before its first
    sync looks the same): LIST and LSUB answer OK with nothing, the
    session goes on. Under UBSan an empty LIST used to abort imapd."""

    def test_list_and_lsub_with_no_mailbox(self):
        b = backend.Backend(users=())
        self.addCleanup(b.cleanup)
        b.start()
        c = b.login(backend.ADMIN)
        self.addCleanup(harness.logout_quietly, c)
        typ, data = c.list('""', "*")
        self.assertEqual(typ, "OK")
        self.assertEqual([d for d in data if d], [])
        typ, data = c.lsub('""', "*")
        self.assertEqual(typ, "OK")
        self.assertEqual([d for d in data if d], [])
        self.assertEqual(c.noop()[0], "OK")
