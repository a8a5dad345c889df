"""imapd end to end: SUBSCRIBE, UNSUBSCRIBE, LSUB, LIST (SUBSCRIBED) and
RETURN (SUBSCRIBED), RECURSIVEMATCH; subscriptions follow RENAME and go
with DELETE."""
import backend


def names(data):
    return [d.decode() for d in data if d is not None]


class TestSubscribe(backend.BackendTestCase):
    def test_subscribe_lsub_like_cyrus(self):
        a = self.login("alice")
        self.assertEqual(a.create("INBOX.Sub")[0], "OK")
        adm = self.login("cyrus")
        self.assertEqual(adm.create("shared.Public")[0], "OK")
        self.assertEqual(adm.setacl("shared.Public", "anyone", "lrs")[0], "OK")
        self.assertEqual(adm.setacl("user.bob", "alice", "lrsip")[0], "OK")
        for name in ("INBOX", "INBOX.Sub", "user.bob", "shared.Public"):
            self.assertEqual(a.subscribe(name)[0], "OK", name)
        typ, data = a.subscribe("user.nosuch")
        self.assertEqual(typ, "NO")
        self.assertIn(b"Mailbox does not exist", data[0])
        typ, data = a.lsub('""', "*")
        self.assertEqual(names(data), [
            '(\\HasChildren) "." INBOX',
            '() "." INBOX.Sub',
            '() "." user.bob',
            '() "." shared.Public'])
        # "%" stops at INBOX and reports unsubscribed parents \Noselect
        typ, data = a.lsub('""', "%")
        self.assertEqual(names(data), [
            '(\\HasChildren) "." INBOX',
            '(\\Noselect) "." user',
            '(\\Noselect) "." shared'])
        typ, data = a.list('""', "*")
        self.assertNotIn("\\Subscribed", " ".join(names(data)))
        typ, data = a._simple_command("LIST", "(SUBSCRIBED)", '""', '"*"')
        typ, data = a._untagged_response(typ, data, "LIST")
        self.assertEqual(names(data), [
            '(\\Subscribed \\HasChildren) "." INBOX',
            '(\\Subscribed \\HasNoChildren) "." INBOX.Sub',
            '(\\Subscribed \\HasNoChildren) "." user.bob',
            '(\\Subscribed \\HasNoChildren) "." shared.Public'])
        typ, data = a._simple_command("LIST", '""', '"INBOX*"', "RETURN",
                                      "(SUBSCRIBED)")
        typ, data = a._untagged_response(typ, data, "LIST")
        self.assertEqual(names(data), [
            '(\\Subscribed \\HasChildren) "." INBOX',
            '(\\Subscribed \\HasNoChildren) "." INBOX.Sub'])
        self.assertEqual(a.unsubscribe("INBOX.Sub")[0], "OK")
        # unsubscribing twice is fine
        self.assertEqual(a.unsubscribe("INBOX.Sub")[0], "OK")
        typ, data = a.lsub('""', "INBOX*")
        self.assertEqual(names(data), ['(\\HasChildren) "." INBOX'])
        # RECURSIVEMATCH: INBOX is not subscribed to, but a child is
        a.unsubscribe("INBOX")
        a.subscribe("INBOX.Sub")
        typ, data = a._simple_command("LIST", "(SUBSCRIBED RECURSIVEMATCH)",
                                      '""', '"%"')
        typ, data = a._untagged_response(typ, data, "LIST")
        self.assertIn('(\\HasChildren) "." INBOX ("CHILDINFO" ("SUBSCRIBED"))',
                      names(data))
        with self.assertRaisesRegex(a.error, "BAD"):
            a._simple_command("LIST", "(RECURSIVEMATCH)", '""', '"%"')

    def test_rename_and_delete_move_subscriptions(self):
        c = self.login("carol")
        self.assertEqual(c.create("INBOX.old")[0], "OK")
        self.assertEqual(c.create("INBOX.old.kid")[0], "OK")
        c.subscribe("INBOX.old")
        c.subscribe("INBOX.old.kid")
        self.assertEqual(c.rename("INBOX.old", "INBOX.new")[0], "OK")
        typ, data = c.lsub('""', "INBOX.*")
        self.assertEqual(names(data), ['(\\HasChildren) "." INBOX.new',
                                       '() "." INBOX.new.kid'])
        self.assertEqual(c.delete("INBOX.new.kid")[0], "OK")
        typ, data = c.lsub('""', "INBOX.*")
        self.assertEqual(names(data), ['() "." INBOX.new'])


class TestAllowAllSubscribe(backend.BackendTestCase):
    backend_options = {"allowallsubscribe": "yes"}

    def test_nonexistent_subscription(self):
        a = self.login("alice")
        self.assertEqual(a.subscribe("user.nosuch")[0], "OK")
        self.assertEqual(a.subscribe("INBOX")[0], "OK")
        typ, data = a.lsub('""', "*")
        self.assertEqual(names(data), ['() "." INBOX',
                                       '(\\Noselect) "." user.nosuch'])
        typ, data = a._simple_command("LIST", "(SUBSCRIBED)", '""', '"*"')
        typ, data = a._untagged_response(typ, data, "LIST")
        self.assertEqual(names(data), [
            '(\\Subscribed \\HasNoChildren) "." INBOX',
            '(\\NonExistent \\Subscribed \\HasNoChildren) "." user.nosuch'])
        # a plain LIST does not show it
        typ, data = a.list('""', "*")
        self.assertEqual(names(data), ['(\\HasNoChildren) "." INBOX'])
