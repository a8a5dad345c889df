"""Delayed delete (delete_mode: delayed, Cyrus 3's default) and cyr_expire,
end to end.

A DELETE on a backend renames the mailbox to
DELETED.<internal name>.<8 hex digits of the unix time> and keeps its
spool; only admins see such names and can RENAME them back. cyr_expire -D
removes them for good (at the mupdate master too in a murder), -E prunes
deliver.db. Checked on one backend (default config), on one started with
delete_mode: immediate, and through a whole murder (tools/murder).
"""
import os
import re
import smtplib
import subprocess
import time

import backend
import harness
import murdercase

USERS = ("alice", "bob", "carol", "dave", "erin")
HEX_RX = r"[0-9A-F]{8}"


def msg(tag, size=None):
    head = ("From: a@example.com\r\nTo: alice@example.com\r\n"
            "Subject: %s\r\nMessage-ID: <%s@example.com>\r\n\r\n"
            % (tag, tag)).encode()
    body = b"body of " + tag.encode() + b"\r\n"
    if size is not None:
        body = b"x" * (size - len(head) - 2) + b"\r\n"
    return head + body


def list_names(c, pattern="*", ref='""'):
    """Mailbox names LIST returns (the last field of each reply)."""
    typ, data = c.list(ref, pattern)
    if typ != "OK":
        raise AssertionError("LIST %s: %s %s" % (pattern, typ, data))
    out = []
    for d in data:
        if d is None:
            continue
        if isinstance(d, tuple):  # a name sent as a literal
            out.append(d[1].decode())
            continue
        out.append(d.decode().rsplit(" ", 1)[-1].strip('"'))
    return out


def list_names_from(data):
    return [d.decode().rsplit(" ", 1)[-1].strip('"') for d in data if d]

def deleted_names(c, internal):
    """The DELETED.<internal>.<hex> names c's LIST shows for internal."""
    rx = re.compile(r"^DELETED\.%s\.(%s)$" % (re.escape(internal), HEX_RX))
    return [n for n in list_names(c, "DELETED.*") if rx.match(n)]


def hex_time(name):
    return int(name.rsplit(".", 1)[1], 16)


def storage_used(c, mailbox="INBOX"):
    typ, data = c.getquotaroot(mailbox)
    if typ != "OK":
        raise AssertionError("GETQUOTAROOT: %s %s" % (typ, data))
    m = re.search(rb"\(STORAGE (\d+) (\d+)", data[1][0])
    if m is None:
        raise AssertionError("no STORAGE in %r" % data)
    return int(m.group(1))


def run_tool(name, *args):
    return subprocess.run([harness.bin_path(name)] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=30)


class DeleteCase(backend.BackendTestCase):
    """A backend (imap + lmtp) per class with USERS and the admin."""

    backend_users = USERS
    backend_services = ("imap", "lmtp")

    def mbpath(self, name):
        """Spool directory of internal name (asserts mbpath finds it)."""
        p = run_tool("mbpath", "-C", self.backend.master.imapd_conf, name)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        path = p.stdout.decode().strip()
        self.assertTrue(path.startswith(self.backend.master.spool), path)
        return path

    def expire(self, *args):
        return run_tool("cyr_expire", "-C", self.backend.master.imapd_conf,
                        *args)

    def expire_ok(self, *args):
        """cyr_expire ARGS must exit 0 saying nothing on stderr; returns
        its stdout."""
        p = self.expire(*args)
        self.assertEqual((p.returncode, p.stderr.decode()), (0, ""), args)
        return p.stdout.decode()

    def create_with_message(self, c, name, tag):
        self.assertEqual(c.create(name)[0], "OK")
        self.assertEqual(c.append(name, None, None, msg(tag))[0], "OK")

    def delete_and_find(self, c, name, internal):
        """DELETE name as c; returns the one DELETED name the admin sees
        for internal, after checking its hex time is about now."""
        before = int(time.time())
        typ, data = c.delete(name)
        self.assertEqual(typ, "OK", data)
        after = int(time.time())
        adm = self.login("cyrus")
        found = deleted_names(adm, internal)
        self.assertEqual(len(found), 1, found)
        self.assertTrue(before - 1 <= hex_time(found[0]) <= after + 1,
                        (found[0], before, after))
        return found[0]


class TestDelayedDelete(DeleteCase):
    # 1
    def test_delete_keeps_mailbox_for_admin_only(self):
        a = self.login("alice")
        self.create_with_message(a, "INBOX.Old", "old1")
        path = self.mbpath("user.alice.Old")
        gone = self.delete_and_find(a, "INBOX.Old", "user.alice.Old")
        self.assertNotIn("INBOX.Old", list_names(a))
        self.assertEqual(list_names(a, "DELETED.*"), [])
        self.assertEqual(list_names(a, "*Old*"), [])
        # as for a mailbox that does not exist
        missing = a.select("DELETED.user.alice.Nosuch.6B000000")
        self.assertEqual(missing[0], "NO")
        self.assertEqual(a.select(gone), missing)
        missing = a.status("INBOX.Nosuch", "(MESSAGES)")
        self.assertEqual(missing[0], "NO")
        self.assertEqual(a.status(gone, "(MESSAGES)"), missing)
        self.assertEqual(a.getacl(gone)[0], "NO")
        self.assertEqual(a.delete(gone)[0], "NO")
        self.assertEqual(a.rename(gone, "INBOX.Back")[0], "NO")
        self.assertNotIn("INBOX.Back", list_names(a))
        # the spool stayed, and it is the deleted mailbox's now
        self.assertTrue(os.path.isdir(path), path)
        self.assertEqual(self.mbpath(gone), path)
        # the admin can look inside
        adm = self.login("cyrus")
        typ, data = adm.select(gone, readonly=True)
        self.assertEqual((typ, data), ("OK", [b"1"]))
        # the old name is free again, and new
        self.assertEqual(a.create("INBOX.Old")[0], "OK")
        typ, data = a.select("INBOX.Old")
        self.assertEqual((typ, data), ("OK", [b"0"]))
        self.assertNotEqual(self.mbpath("user.alice.Old"), path)
        self.assertEqual(a.close()[0], "OK")
        self.assertEqual(a.delete("INBOX.Old")[0], "OK")

    def test_same_name_twice_in_a_second(self):
        a = self.login("alice")
        self.create_with_message(a, "INBOX.Twice", "twice-1")
        self.assertEqual(a.delete("INBOX.Twice")[0], "OK")
        self.create_with_message(a, "INBOX.Twice", "twice-2")
        self.assertEqual(a.delete("INBOX.Twice")[0], "OK")
        adm = self.login("cyrus")
        found = sorted(deleted_names(adm, "user.alice.Twice"),
                       key=hex_time)
        self.assertEqual(len(found), 2, found)
        for name, tag in zip(found, ("twice-1", "twice-2")):
            self.assertEqual(adm.select(name, readonly=True),
                             ("OK", [b"1"]))
            typ, data = adm.fetch("1", "(BODY.PEEK[])")
            self.assertEqual(data[0][1], msg(tag))
        adm.close()

    def test_admin_delete_of_deleted_is_final(self):
        a = self.login("alice")
        self.create_with_message(a, "INBOX.Final", "final")
        path = self.mbpath("user.alice.Final")
        gone = self.delete_and_find(a, "INBOX.Final", "user.alice.Final")
        adm = self.login("cyrus")
        self.assertEqual(adm.delete(gone)[0], "OK")
        self.assertFalse(os.path.exists(path), path)
        self.assertEqual(deleted_names(adm, "user.alice.Final"), [])
        self.assertFalse([n for n in list_names(adm, "DELETED.*")
                          if "DELETED.DELETED" in n or "Final" in n])

    def test_localdelete_stays_immediate(self):
        a = self.login("alice")
        self.create_with_message(a, "INBOX.Local", "local")
        path = self.mbpath("user.alice.Local")
        adm = self.login("cyrus")
        tag = adm._new_tag().decode()
        adm.send(("%s LOCALDELETE user.alice.Local\r\n" % tag).encode())
        line = adm.readline().decode()
        self.assertTrue(line.startswith(tag + " OK"), line)
        self.assertEqual(deleted_names(adm, "user.alice.Local"), [])
        self.assertNotIn("INBOX.Local", list_names(a))
        self.assertFalse(os.path.exists(path), path)

    # 2
    def test_admin_renames_back(self):
        a = self.login("alice")
        self.create_with_message(a, "INBOX.Keep", "keep2")
        gone = self.delete_and_find(a, "INBOX.Keep", "user.alice.Keep")
        adm = self.login("cyrus")
        typ, data = adm.rename(gone, "user.alice.Restored")
        self.assertEqual(typ, "OK", data)
        self.assertEqual(deleted_names(adm, "user.alice.Keep"), [])
        self.assertIn("INBOX.Restored", list_names(a))
        typ, data = a.select("INBOX.Restored")
        self.assertEqual((typ, data), ("OK", [b"1"]))
        typ, data = a.fetch("1", "(BODY.PEEK[])")
        self.assertEqual(typ, "OK")
        self.assertEqual(data[0][1], msg("keep2"))

    # 3
    def test_quota_usage_leaves_the_root(self):
        adm = self.login("cyrus")
        self.assertEqual(adm.setquota("user.carol", "(STORAGE 100000)")[0],
                         "OK")
        c = self.login("carol")
        self.assertEqual(c.append("INBOX", None, None,
                                  msg("carol-in", 3000))[0], "OK")
        self.assertEqual(c.create("INBOX.Big")[0], "OK")
        self.assertEqual(c.append("INBOX.Big", None, None,
                                  msg("carol-big", 20 * 1024))[0], "OK")
        used = storage_used(c)
        self.assertGreaterEqual(used, 22)
        gone = self.delete_and_find(c, "INBOX.Big", "user.carol.Big")
        self.assertEqual(storage_used(c), used - 20)
        typ, data = adm.getquota("user.carol")
        self.assertEqual(typ, "OK")
        self.assertIn(b"(STORAGE %d 100000)" % (used - 20), data[0])
        # back under the user: the usage comes back with it
        self.assertEqual(adm.rename(gone, "user.carol.Big")[0], "OK")
        self.assertEqual(storage_used(c), used)

    def test_deleted_user_and_folder_roots_go(self):
        adm = self.login("cyrus")
        self.assertEqual(adm.create("user.erin.q")[0], "OK")
        self.assertEqual(adm.setquota("user.erin.q", "(STORAGE 500)")[0],
                         "OK")
        self.assertEqual(adm.setquota("user.erin", "(STORAGE 900)")[0], "OK")
        # a folder that is its own quota root takes the root with it
        self.assertEqual(adm.delete("user.erin.q")[0], "OK")
        self.assertEqual(adm.getquota("user.erin.q")[0], "NO")
        self.assertEqual(adm.getquota("user.erin")[0], "OK")
        # a deleted user takes its root with it
        self.assertEqual(adm.delete("user.erin")[0], "OK")
        self.assertEqual(adm.getquota("user.erin")[0], "NO")

    # 4
    def test_subscription_removed(self):
        a = self.login("alice")
        self.assertEqual(a.create("INBOX.Sub")[0], "OK")
        self.assertEqual(a.subscribe("INBOX.Sub")[0], "OK")
        self.assertEqual(a.subscribe("INBOX")[0], "OK")
        typ, data = a.lsub('""', "*")
        self.assertIn("INBOX.Sub", list_names_from(data))
        self.delete_and_find(a, "INBOX.Sub", "user.alice.Sub")
        typ, data = a.lsub('""', "*")
        self.assertEqual(typ, "OK")
        names = list_names_from(data)
        self.assertNotIn("INBOX.Sub", names)
        self.assertIn("INBOX", names)  # the others stay
        self.assertFalse([n for n in names if "Sub" in n], names)

    # 5
    def test_cyr_expire_removes_old_deleted(self):
        a = self.login("alice")
        b = self.login("bob")
        self.create_with_message(a, "INBOX.Exp", "exp5")
        self.create_with_message(b, "INBOX.Exp", "bexp5")
        path = self.mbpath("user.alice.Exp")
        bpath = self.mbpath("user.bob.Exp")
        gone = self.delete_and_find(a, "INBOX.Exp", "user.alice.Exp")
        bgone = self.delete_and_find(b, "INBOX.Exp", "user.bob.Exp")
        adm = self.login("cyrus")
        # one day: both are far younger
        for dur in ("1", "1h", "1d12h"):
            out = self.expire_ok("-D", dur, "-v")
            self.assertNotIn(gone, out)
            self.assertIn("removed 0 deleted mailboxes", out)
        self.assertEqual(deleted_names(adm, "user.alice.Exp"), [gone])
        self.assertTrue(os.path.isdir(path))
        time.sleep(1.1)
        # only bob's
        out = self.expire_ok("-D", "0", "-u", "bob", "-v")
        self.assertIn(bgone, out)
        self.assertNotIn(gone, out)
        self.assertEqual(deleted_names(adm, "user.bob.Exp"), [])
        self.assertFalse(os.path.exists(bpath), bpath)
        self.assertEqual(deleted_names(adm, "user.alice.Exp"), [gone])
        self.assertTrue(os.path.isdir(path))
        # a prefix names whole components: user.alice.Ex is not Exp's
        out = self.expire_ok("-D", "0", "-p", "user.alice.Ex", "-v")
        self.assertNotIn(gone, out)
        self.assertEqual(deleted_names(adm, "user.alice.Exp"), [gone])
        # then everyone's (the hex time has whole seconds: older than
        # "now" needs a second to have passed, which it has)
        out = self.expire_ok("-D", "0s", "-v")
        self.assertIn("removed %s" % gone, out)
        self.assertEqual(deleted_names(adm, "user.alice.Exp"), [])
        self.assertFalse(os.path.exists(path), path)
        typ, data = adm.select(gone)
        self.assertEqual(typ, "NO", data)
        r = run_tool("mbpath", "-q", "-C", self.backend.master.imapd_conf,
                     gone)
        self.assertNotEqual(r.returncode, 0)
        # nothing left to do: still fine
        out = self.expire_ok("-D", "0", "-v")
        self.assertNotIn(gone, out)

    # 6
    def lmtp_deliver(self, user, message):
        c = smtplib.LMTP("127.0.0.1", self.backend.ports["lmtp"], timeout=10)
        try:
            refused = c.sendmail("sender@example.org", [user], message)
        finally:
            c.quit()
        self.assertEqual(refused, {})

    def copies(self, user, msgid):
        c = self.login(user)
        typ, _ = c.select("INBOX", readonly=True)
        self.assertEqual(typ, "OK")
        typ, data = c.search(None, "HEADER", "Message-ID", msgid)
        self.assertEqual(typ, "OK")
        return len(data[0].split())

    def test_cyr_expire_prunes_duplicates(self):
        message = msg("dupexp6")
        msgid = "<dupexp6@example.com>"
        self.lmtp_deliver("erin", message)
        self.assertEqual(self.copies("erin", msgid), 1)
        self.lmtp_deliver("erin", message)
        self.assertEqual(self.copies("erin", msgid), 1)
        # a young entry survives -E 1
        out = self.expire_ok("-E", "1", "-v")
        self.lmtp_deliver("erin", message)
        self.assertEqual(self.copies("erin", msgid), 1)
        time.sleep(1.1)
        out = self.expire_ok("-E", "0", "-v")
        self.assertRegex(out, r"expired [1-9]\d* of")
        self.lmtp_deliver("erin", message)
        self.assertEqual(self.copies("erin", msgid), 2)
        # and recorded again: the next one is suppressed
        self.lmtp_deliver("erin", message)
        self.assertEqual(self.copies("erin", msgid), 2)

    # 7
    def test_admin_deletes_user(self):
        d = self.login("dave")
        self.create_with_message(d, "INBOX.sub", "dave-sub")
        self.assertEqual(d.create("INBOX.sub.deeper")[0], "OK")
        self.assertEqual(d.append("INBOX", None, None, msg("dave-in"))[0],
                         "OK")
        d.logout()
        adm = self.login("cyrus")
        before = int(time.time())
        typ, data = adm.delete("user.dave")
        self.assertEqual(typ, "OK", data)
        after = int(time.time())
        rx = re.compile(r"^DELETED\.(user\.dave(?:\..*)?)\.(%s)$" % HEX_RX)
        found = {}
        for n in list_names(adm, "DELETED.*"):
            m = rx.match(n)
            if m:
                found[m.group(1)] = n
        self.assertEqual(sorted(found), ["user.dave", "user.dave.sub",
                                         "user.dave.sub.deeper"])
        for n in found.values():
            self.assertTrue(before - 1 <= hex_time(n) <= after + 1, n)
        self.assertFalse([n for n in list_names(adm, "user.dave*")])
        typ, data = adm.select(found["user.dave"], readonly=True)
        self.assertEqual((typ, data), ("OK", [b"1"]))
        typ, data = adm.select(found["user.dave.sub"], readonly=True)
        self.assertEqual((typ, data), ("OK", [b"1"]))
        d = self.login("dave")
        typ, data = d.select("INBOX")
        self.assertEqual(typ, "NO", data)
        self.assertEqual(list_names(d, "*dave*"), [])
        self.assertEqual(list_names(d, "DELETED*"), [])

    # 10
    def test_cyr_expire_bad_usage(self):
        for args in ([], ["-D", "1x"], ["-E", ""], ["-D", "1d12"],
                     ["-v"], ["-D", "1", "extra"]):
            p = self.expire(*args)
            self.assertEqual(p.returncode, 64, (args, p.stdout, p.stderr))
            self.assertTrue(p.stderr.strip(), args)
        p = self.expire("-D", "1x")
        self.assertIn(b"1x", p.stderr)



class TestAllowDeleted(DeleteCase):
    backend_options = {"allowdeleted": "yes"}

    def test_owner_sees_own_deleted(self):
        a = self.login("alice")
        self.create_with_message(a, "INBOX.Seen", "seen")
        gone = self.delete_and_find(a, "INBOX.Seen", "user.alice.Seen")
        self.assertIn(gone, list_names(a, "DELETED.*"))
        typ, data = a.select(gone, readonly=True)
        self.assertEqual((typ, data), ("OK", [b"1"]))
        # bob has no rights on alice's mailboxes, deleted or not
        b = self.login("bob")
        self.assertEqual(list_names(b, "DELETED.*"), [])
        self.assertEqual(b.select(gone)[0], "NO")


# 8
class TestImmediateDelete(DeleteCase):
    backend_options = {"delete_mode": "immediate"}

    def test_delete_is_final(self):
        a = self.login("alice")
        self.create_with_message(a, "INBOX.Now", "now8")
        path = self.mbpath("user.alice.Now")
        self.assertTrue(os.path.isdir(path))
        self.assertEqual(a.delete("INBOX.Now")[0], "OK")
        adm = self.login("cyrus")
        self.assertEqual(list_names(adm, "DELETED*"), [])
        self.assertNotIn("user.alice.Now", list_names(adm))
        self.assertFalse(os.path.exists(path), path)
        # and an admin deleting a user leaves nothing either
        self.assertEqual(adm.delete("user.bob")[0], "OK")
        self.assertEqual(list_names(adm, "DELETED*"), [])
        self.assertEqual(list_names(adm, "user.bob*"), [])

    def test_quota_usage_and_roots(self):
        adm = self.login("cyrus")
        self.assertEqual(adm.setquota("user.carol", "(STORAGE 100000)")[0],
                         "OK")
        c = self.login("carol")
        self.assertEqual(c.create("INBOX.Big")[0], "OK")
        self.assertEqual(c.append("INBOX.Big", None, None,
                                  msg("carol-now", 20 * 1024))[0], "OK")
        used = storage_used(c)
        self.assertGreaterEqual(used, 20)
        self.assertEqual(c.delete("INBOX.Big")[0], "OK")
        self.assertEqual(storage_used(c), used - 20)
        # a deleted user's quota root goes with it (Cyrus: a recreated
        # user does not inherit the old limit)
        self.assertEqual(adm.delete("user.carol")[0], "OK")
        typ, data = adm.getquota("user.carol")
        self.assertEqual(typ, "NO", data)


# 9
class TestMurderDelayedDelete(murdercase.MurderCase):
    def fe_login(self, user, password):
        c = harness.imap_login(self.info["frontends"][0]["imap"], user,
                               password)
        self.addCleanup(harness.logout_quietly, c)
        return c

    def test_delete_and_expire_through_frontend(self):
        user = [u for u in self.info["users"]
                if u["backend"] == "backend1"][0]
        be = [b for b in self.info["backends"]
              if b["name"] == "backend1"][0]
        be_conf = os.path.join(self.dir, "backend1", "imapd.conf")
        internal = "user.%s.Gone" % user["user"]
        c = self.fe_login(user["user"], user["password"])
        self.assertEqual(c.create("INBOX.Gone")[0], "OK")
        self.assertEqual(c.append("INBOX.Gone", None, None,
                                  msg("murder9"))[0], "OK")
        typ, data = c.delete("INBOX.Gone")
        self.assertEqual(typ, "OK", data)
        adm = self.fe_login(self.info["admin"]["user"],
                            self.info["admin"]["password"])
        found = harness.wait_for(
            lambda: deleted_names(adm, internal), timeout=5, interval=0.1,
            what="the deleted name in the frontend's mailbox list")
        self.assertEqual(len(found), 1, found)
        self.assertLessEqual(abs(hex_time(found[0]) - time.time()), 5)
        # the user sees nothing of it through the frontend
        self.assertNotIn("INBOX.Gone", list_names(c))
        self.assertEqual(list_names(c, "DELETED.*"), [])
        self.assertEqual(c.select(found[0])[0], "NO")
        # the backend's admin sees it too (with its messages)
        badm = harness.imap_login(be["imap"], self.info["admin"]["user"],
                                  self.info["admin"]["password"])
        self.addCleanup(harness.logout_quietly, badm)
        self.assertEqual(deleted_names(badm, internal), found)
        self.assertEqual(badm.select(found[0], readonly=True),
                         ("OK", [b"1"]))
        badm.close()
        # the frontend admin reaches it through the proxy
        typ, data = adm.status(found[0], "(MESSAGES)")
        self.assertEqual(typ, "OK", data)
        self.assertIn(b"MESSAGES 1", data[0])
        time.sleep(1.1)
        p = run_tool("cyr_expire", "-C", be_conf, "-D", "0", "-v")
        self.assertEqual((p.returncode, p.stderr.decode()), (0, ""))
        self.assertIn("removed %s" % found[0], p.stdout.decode())
        harness.wait_for(
            lambda: not deleted_names(adm, internal), timeout=5,
            interval=0.1, what="the deleted name to leave the frontend")
        self.assertEqual(deleted_names(badm, internal), [])
        self.assertNotEqual(adm.status(found[0], "(MESSAGES)")[0], "OK")

    def test_undelete_through_frontend(self):
        user = [u for u in self.info["users"]
                if u["backend"] == "backend2"][0]
        internal = "user.%s.Undo" % user["user"]
        c = self.fe_login(user["user"], user["password"])
        self.assertEqual(c.create("INBOX.Undo")[0], "OK")
        self.assertEqual(c.append("INBOX.Undo", None, None,
                                  msg("undo9"))[0], "OK")
        self.assertEqual(c.delete("INBOX.Undo")[0], "OK")
        adm = self.fe_login(self.info["admin"]["user"],
                            self.info["admin"]["password"])
        found = harness.wait_for(
            lambda: deleted_names(adm, internal), timeout=5, interval=0.1,
            what="the deleted name in the frontend's mailbox list")
        typ, data = adm.rename(found[0], internal)
        self.assertEqual(typ, "OK", data)
        harness.wait_for(lambda: "INBOX.Undo" in list_names(c), timeout=5,
                         interval=0.1, what="INBOX.Undo back for the user")
        self.assertEqual(deleted_names(adm, internal), [])
        self.assertEqual(c.select("INBOX.Undo"), ("OK", [b"1"]))
        typ, data = c.fetch("1", "(BODY.PEEK[])")
        self.assertEqual(data[0][1], msg("undo9"))
