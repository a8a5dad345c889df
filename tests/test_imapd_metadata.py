"""imapd end to end: METADATA (RFC 5464) with Cyrus's server and mailbox
entries, XLIST and RLIST/RLSUB/LIST (REMOTE) on a backend."""
import re

import backend
import rawimap

VENDOR = "/shared/vendor/cmu/cyrus-imapd/"


class TestMetadata(backend.BackendTestCase):
    def raw(self, user):
        r = rawimap.Raw(self.backend.ports["imap"])
        self.addCleanup(r.close)
        self.assertIn(b" OK", r.login(user, backend.password(user)))
        return r

    def run_cmd(self, r, text):
        t = r.tag()
        r.send(t + b" " + text.encode() + b"\r\n")
        lines, tagged = r.read_until_tagged(t)
        return lines, tagged.decode()

    def meta(self, r, text):
        lines, tagged = self.run_cmd(r, text)
        self.assertRegex(tagged, r"^\S+ OK", text)
        return b"\n".join(lines).decode()

    def test_capabilities(self):
        r = self.raw("alice")
        lines, _ = self.run_cmd(r, "CAPABILITY")
        caps = lines[0].decode().split()
        for cap in ("METADATA", "LIST-METADATA", "XLIST",
                    "MAILBOX-REFERRALS"):
            self.assertIn(cap, caps)

    def test_server_entries(self):
        admin = self.raw("cyrus")
        user = self.raw("alice")
        out = self.meta(admin, 'SETMETADATA "" (/shared/comment "srv note"'
                        ' /shared/motd "hello")')
        out = self.meta(user, 'GETMETADATA "" (/shared/comment /shared/motd'
                        ' /shared/admin)')
        self.assertEqual(out, '* METADATA "" ("/shared/comment" "srv note" '
                         '"/shared/motd" "hello" "/shared/admin" NIL)')
        # only admins write shared server entries
        _, tagged = self.run_cmd(user, 'SETMETADATA "" (/shared/motd "x")')
        self.assertIn("NO", tagged)
        # private server entries: per user
        self.meta(user, 'SETMETADATA "" (/private/comment "mine")')
        out = self.meta(user, 'GETMETADATA "" /private/comment')
        self.assertIn('"mine"', out)
        out = self.meta(admin, 'GETMETADATA "" /private/comment')
        self.assertIn('"/private/comment" NIL', out)
        # NIL removes
        self.meta(admin, 'SETMETADATA "" (/shared/motd NIL)')
        out = self.meta(user, 'GETMETADATA "" /shared/motd')
        self.assertIn('"/shared/motd" NIL', out)

    def test_freespace(self):
        r = self.raw("cyrus")
        out = self.meta(r, 'GETMETADATA "" ("%sfreespace/total")' % VENDOR)
        m = re.search(r'freespace/total" "(\d+);(\d+)"', out)
        self.assertIsNotNone(m, out)
        self.assertGreater(int(m.group(2)), 0)
        self.assertLessEqual(int(m.group(1)), int(m.group(2)))
        out = self.meta(r, 'GETMETADATA "" %sfreespace/percent/most' % VENDOR)
        self.assertRegex(out, r'percent/most" "\d+;\d+"')
        _, tagged = self.run_cmd(r, 'SETMETADATA "" (%sfreespace/total "1")'
                                 % VENDOR)
        self.assertIn("NO", tagged)

    def test_mailbox_entries(self):
        a = self.raw("alice")
        self.assertIn("OK", self.run_cmd(a, "CREATE INBOX.md")[1])
        self.meta(a, 'SETMETADATA INBOX.md (/shared/comment "shared c" '
                  '/private/comment "private c")')
        out = self.meta(a, "GETMETADATA INBOX.md (/shared/comment "
                        "/private/comment)")
        self.assertEqual(out, '* METADATA INBOX.md ("/shared/comment" '
                         '"shared c" "/private/comment" "private c")')
        out = self.meta(a, 'GETMETADATA INBOX.md (%spartition %sserver '
                        '%suniqueid %ssize)' % ((VENDOR,) * 4))
        self.assertIn('partition" "default"', out)
        self.assertIn('server" "backend1"', out)
        self.assertRegex(out, r'uniqueid" "[^"]+"')
        self.assertIn('size" "0"', out)
        _, tagged = self.run_cmd(a, 'SETMETADATA INBOX.md (%ssize "5")'
                                 % VENDOR)
        self.assertIn("NO", tagged)
        # wildcard: everything shared, as cyradm's info asks
        out = self.meta(a, 'GETMETADATA INBOX.md (/shared/*)')
        self.assertIn('"/shared/comment" "shared c"', out)
        self.assertIn(VENDOR + "size", out)
        self.assertNotIn("/private/comment", out)
        # DEPTH 1 below /private
        out = self.meta(a, 'GETMETADATA (DEPTH 1) INBOX.md /private')
        self.assertEqual(out, '* METADATA INBOX.md ("/private/comment" '
                         '"private c")')
        # MAXSIZE leaves long values out with LONGENTRIES
        _, tagged = self.run_cmd(a, "GETMETADATA (MAXSIZE 3) INBOX.md "
                                 "/shared/comment")
        self.assertIn("[METADATA LONGENTRIES 8]", tagged)

    def test_rights(self):
        a = self.raw("alice")
        b = self.raw("bob")
        self.assertIn("OK", self.run_cmd(a, "CREATE INBOX.acl")[1])
        self.meta(a, 'SETMETADATA INBOX.acl (/shared/comment "c")')
        # bob cannot even see it
        _, tagged = self.run_cmd(b, "GETMETADATA user.alice.acl "
                                 "/shared/comment")
        self.assertIn("NO", tagged)
        # l only: no shared values, but private ones of his own
        self.assertIn("OK", self.run_cmd(a, "SETACL INBOX.acl bob l")[1])
        out = self.meta(b, "GETMETADATA user.alice.acl /shared/comment")
        self.assertEqual(out, "")
        self.meta(b, 'SETMETADATA user.alice.acl (/private/comment "b")')
        _, tagged = self.run_cmd(b, 'SETMETADATA user.alice.acl '
                                 '(/shared/comment "x")')
        self.assertIn("NO", tagged)
        # lr reads shared; n writes it
        self.assertIn("OK", self.run_cmd(a, "SETACL INBOX.acl bob lrn")[1])
        out = self.meta(b, "GETMETADATA user.alice.acl /shared/comment")
        self.assertIn('"c"', out)
        self.meta(b, 'SETMETADATA user.alice.acl (/shared/comment "by bob")')
        out = self.meta(a, "GETMETADATA INBOX.acl (/shared/comment "
                        "/private/comment)")
        self.assertIn('"/shared/comment" "by bob" "/private/comment" NIL',
                      out)

    def test_specialuse_tied_to_list(self):
        a = self.raw("alice")
        self.assertIn("OK", self.run_cmd(a, "CREATE INBOX.Junkmail")[1])
        self.meta(a, 'SETMETADATA INBOX.Junkmail (/private/specialuse '
                  '"\\\\Junk")')
        lines, _ = self.run_cmd(a, 'LIST "" INBOX.Junkmail')
        self.assertIn(b"\\Junk", lines[0])
        out = self.meta(a, "GETMETADATA INBOX.Junkmail /shared/specialuse")
        self.assertIn('"\\\\Junk"', out)
        _, tagged = self.run_cmd(a, 'SETMETADATA INBOX.Junkmail '
                                 '(/private/specialuse "\\\\Bogus")')
        self.assertIn("NO", tagged)
        self.meta(a, "SETMETADATA INBOX.Junkmail (/private/specialuse NIL)")
        lines, _ = self.run_cmd(a, 'LIST "" INBOX.Junkmail')
        self.assertNotIn(b"\\Junk", lines[0])
        # CREATE ... USE shows up in METADATA
        self.assertIn("OK", self.run_cmd(
            a, "CREATE INBOX.Sent2 (USE (\\Sent))")[1])
        out = self.meta(a, "GETMETADATA INBOX.Sent2 /private/specialuse")
        self.assertIn('"\\\\Sent"', out)

    def test_delete_and_rename_carry_metadata(self):
        a = self.raw("alice")
        self.assertIn("OK", self.run_cmd(a, "CREATE INBOX.mv")[1])
        self.meta(a, 'SETMETADATA INBOX.mv (/shared/comment "moves")')
        self.assertIn("OK", self.run_cmd(a, "RENAME INBOX.mv INBOX.mv2")[1])
        out = self.meta(a, "GETMETADATA INBOX.mv2 /shared/comment")
        self.assertIn('"moves"', out)
        self.assertIn("OK", self.run_cmd(a, "DELETE INBOX.mv2")[1])
        self.assertIn("OK", self.run_cmd(a, "CREATE INBOX.mv2")[1])
        out = self.meta(a, "GETMETADATA INBOX.mv2 /shared/comment")
        self.assertIn('"/shared/comment" NIL', out)

    def test_bad_syntax(self):
        a = self.raw("alice")
        for cmd in ('GETMETADATA "" /bogus/x', 'GETMETADATA "" /shared/',
                    'SETMETADATA "" (/shared/*  "x")',
                    'SETMETADATA ""', 'GETMETADATA (DEPTH 7) "" /shared'):
            _, tagged = self.run_cmd(a, cmd)
            self.assertIn(" BAD ", tagged, cmd)

    def test_xlist_rlist_rlsub(self):
        a = self.raw("alice")
        self.assertIn("OK", self.run_cmd(
            a, "CREATE INBOX.Drafts (USE (\\Drafts))")[1])
        lines, tagged = self.run_cmd(a, 'XLIST "" "*"')
        self.assertIn("OK", tagged)
        text = b"\n".join(lines).decode()
        self.assertRegex(text, r'\* XLIST \([^)]*\\Inbox\) "\." INBOX')
        self.assertRegex(text, r'\* XLIST \([^)]*\\Drafts\) "\." '
                         r'INBOX\.Drafts')
        lines, tagged = self.run_cmd(a, 'RLIST "" "INBOX.Drafts"')
        self.assertIn("OK", tagged)
        self.assertEqual(len(lines), 1)
        self.assertTrue(lines[0].startswith(b"* LIST ("))
        self.assertIn("OK", self.run_cmd(a, "SUBSCRIBE INBOX.Drafts")[1])
        lines, tagged = self.run_cmd(a, 'RLSUB "" "*"')
        self.assertIn("OK", tagged)
        self.assertIn(b'* LSUB () "." INBOX.Drafts', lines)
        lines, tagged = self.run_cmd(a, 'LIST (REMOTE) "" "INBOX"')
        self.assertIn("OK", tagged)
        self.assertEqual(len(lines), 1)
