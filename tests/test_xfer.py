"""test_xfer.py: XFER of users and mailboxes between two of our backends
under a mupdate master (issue 8, MURDER.md section 7).

be1 and be2 push to the master; each lists `cyrus` (the proxy_authname
XFER connects with) in its admins and finds the other through
`<server>_imap_addr`. LMTP load is delivered the way a frontend routes
it: FIND on the master, then LMTP to that backend, retrying on 4xx (as
Postfix would) and on a backend's 550 5.1.1 (as a frontend maps it to 451
while its view of the location is a moment old) -- so a message is
counted once it got its 250.
"""
import imaplib
import os
import re
import smtplib
import threading
import time

import backend
import harness
import rawimap
from mupdatenode import MupdateNode

ADMIN = backend.ADMIN
USERS = ("alice", "bob", "carol", "dave", "erin", "frank", "gina", "hank")
for _cmd in ("XFER", "LOCALCREATE", "LOCALDELETE", "MUPDATEPUSH", "IDLE"):
    imaplib.Commands.setdefault(_cmd, ("AUTH", "SELECTED"))


def opts(master_port):
    return {"mupdate_server": "127.0.0.1:%d" % master_port,
            "mupdate_authname": ADMIN, "mupdate_password": "cyrus-pw",
            "proxyservers": "proxy", "proxy_authname": ADMIN,
            "proxy_password": backend.password(ADMIN),
            "allowallsubscribe": "1", "client_timeout": "5s"}


def msg(i, tag="m"):
    return ("From: a@example.com\r\nTo: b@example.com\r\n"
            "Subject: %s %d\r\nMessage-ID: <%s-%d@example.com>\r\n"
            "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nbody %d\r\n"
            % (tag, i, tag, i, i)).encode()


FLAGS = ["()", "(\\Seen)", "(\\Flagged \\Seen)", "(\\Answered $Label1)",
         "(\\Deleted)", "(\\Draft)"]


def modseqs(port, user, mailbox):
    """(uidvalidity, HIGHESTMODSEQ, {uid: modseq}) of mailbox, from a
    CONDSTORE SELECT (RFC 7162) on a raw connection."""
    r = rawimap.Raw(port)
    try:
        assert r.login(user, backend.password(user)).split()[1] == b"OK"
        t = r.tag()
        r.send(t + b" SELECT " + mailbox.encode() + b" (CONDSTORE)\r\n")
        lines, done = r.read_until_tagged(t)
        assert done.split()[1] == b"OK", done
        text = b"\n".join(lines)
        uv = int(re.search(rb"UIDVALIDITY (\d+)", text).group(1))
        hms = int(re.search(rb"HIGHESTMODSEQ (\d+)", text).group(1))
        t = r.tag()
        r.send(t + b" UID FETCH 1:* (MODSEQ)\r\n")
        lines, done = r.read_until_tagged(t)
        assert done.split()[1] == b"OK", done
        per = {}
        for ln in lines:
            u = re.search(rb"UID (\d+)", ln)
            m = re.search(rb"MODSEQ \((\d+)\)", ln)
            if u and m:
                per[int(u.group(1))] = int(m.group(1))
        return uv, hms, per
    finally:
        r.close()


def qresync(port, user, mailbox, uv, since, known=None):
    """Untagged lines of SELECT mailbox (QRESYNC (uv since [known]))
    after ENABLE QRESYNC, minus the ones every SELECT sends."""
    r = rawimap.Raw(port)
    try:
        assert r.login(user, backend.password(user)).split()[1] == b"OK"
        assert r.cmd("ENABLE QRESYNC").split()[1] == b"OK"
        arg = "%d %d" % (uv, since) + (" " + known if known else "")
        t = r.tag()
        r.send(t + b" SELECT %s (QRESYNC (%s))\r\n" % (mailbox.encode(),
                                                        arg.encode()))
        lines, done = r.read_until_tagged(t)
        assert done.split()[1] == b"OK", done
        return [ln for ln in lines
                if b"FETCH" in ln or b"VANISHED" in ln]
    finally:
        r.close()


def leftovers(spool, needle):
    """Files under spool holding needle, and directories set aside by
    XFER (".XFERGONE")."""
    found = []
    for top, dirs, files in os.walk(spool):
        found += [d for d in dirs if d.endswith(".XFERGONE")]
        for f in files:
            try:
                with open(os.path.join(top, f), "rb") as fh:
                    if needle in fh.read():
                        found.append(os.path.join(top, f))
            except OSError:
                pass
    return found


def snapshot(c, mailbox):
    """(uidvalidity, uidnext, [(uid, flags, internaldate)]) of mailbox."""
    typ, data = c.status(mailbox, "(UIDVALIDITY UIDNEXT)")
    assert typ == "OK", data
    st = data[0].decode()
    uv = int(re.search(r"UIDVALIDITY (\d+)", st).group(1))
    un = int(re.search(r"UIDNEXT (\d+)", st).group(1))
    typ, _ = c.select(mailbox, readonly=True)
    assert typ == "OK"
    typ, data = c.uid("FETCH", "1:*", "(FLAGS INTERNALDATE)")
    recs = []
    for d in data:
        if not d:
            continue
        s = d.decode() if isinstance(d, bytes) else d[0].decode()
        m = re.search(r"UID (\d+)", s)
        f = re.search(r"FLAGS \(([^)]*)\)", s)
        t = re.search(r'INTERNALDATE "([^"]+)"', s)
        if m:
            recs.append((int(m.group(1)),
                         tuple(sorted(f.group(1).split())),
                         t.group(1)))
    c.close()
    return uv, un, sorted(recs)


class TestXfer(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.nodes = []
        try:
            cls.m = MupdateNode("xmaster").start()
            cls.nodes.append(cls.m.master)
            cls.be = {}
            for name in ("be1", "be2"):
                b = backend.Backend(name, users=(), imapd=opts(cls.m.port),
                                    services=("imap", "lmtp"))
                cls.be[name] = b
                cls.nodes.append(b.master)
            for b in cls.be.values():
                b.master.write_imapd_conf(dict(
                    ("%s_imap_addr" % o.name,
                     "127.0.0.1:%d" % o.ports["imap"])
                    for o in cls.be.values()))
                backend.make_sasldb(b.sasldb, USERS, b.name)
                b.start()
            a = cls.be["be1"].login(ADMIN)
            for u in USERS:
                typ, data = a.create("user.%s" % u)
                assert typ == "OK", data
            a.logout()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for n in reversed(cls.nodes):
            n.cleanup()

    def login(self, server, user):
        c = self.be[server].login(user)
        self.addCleanup(self._logout, c)
        return c

    @staticmethod
    def _logout(c):
        try:
            c.logout()
        except Exception:
            pass

    def where(self, name):
        with self.m.client() as c:
            e = c.find(name)
        return e

    def xfer(self, name, server, *extra):
        a = self.login("be1" if server == "be2" else "be2", ADMIN)
        typ, data = a._simple_command("XFER", name, server, *extra)
        return typ, a.untagged_responses, a

    def fill(self, user, mailbox, n, tag):
        c = self.login("be1", user)
        for i in range(n):
            typ, data = c.append(mailbox, FLAGS[i % len(FLAGS)],
                                 imaplib.Time2Internaldate(
                                     1700000000 + i * 3600),
                                 msg(i, tag))
            self.assertEqual(typ, "OK", data)
        return c

    # ---- tests ---------------------------------------------------------

    def test_1_user_with_folders(self):
        c = self.fill("alice", "INBOX", 200, "a")
        for f in ("INBOX.Sent", "INBOX.Sent.old"):
            self.assertEqual(c.create(f)[0], "OK")
        c.logout()
        c = self.fill("alice", "INBOX.Sent", 30, "s")
        self.assertEqual(c.subscribe("INBOX.Sent")[0], "OK")
        self.assertEqual(c.subscribe("INBOX.Sent.old")[0], "OK")
        # a hole at the end: UIDNEXT must survive
        c.select("INBOX.Sent")
        c.uid("STORE", "29:30", "+FLAGS", "(\\Deleted)")
        c.expunge()
        c.close()
        boxes = ("INBOX", "INBOX.Sent", "INBOX.Sent.old")
        before = {b: snapshot(c, b) for b in boxes}
        c.logout()
        a = self.login("be1", ADMIN)
        typ, data = a.setquota("user.alice", "(STORAGE 100000)")
        self.assertEqual(typ, "OK", data)
        typ, data = a._simple_command("XFER", "user.alice", "be2")
        self.assertEqual(typ, "OK", data)
        self.assertIn(b"USER alice", b" ".join(a.untagged_responses.get(
            "OK", [])))
        # destination: identical
        d = self.login("be2", "alice")
        for b in boxes:
            self.assertEqual(snapshot(d, b), before[b], b)
        typ, data = d.lsub('""', "*")
        subs = b" ".join(x for x in data if x)
        self.assertIn(b"INBOX.Sent", subs)
        self.assertIn(b"INBOX.Sent.old", subs)
        typ, data = d.getquotaroot("INBOX")
        self.assertIn(b"STORAGE", b" ".join(x for x in data[1] if x)
                      if isinstance(data[0], list) else b" ".join(
                          x if isinstance(x, bytes) else b""
                          for x in data))
        # the master points at be2; the source is empty
        for name in ("user.alice", "user.alice.Sent", "user.alice.Sent.old"):
            e = self.where(name)
            self.assertEqual(e[0], "MAILBOX", name)
            self.assertEqual(e[2], "be2!default", name)
        typ, data = a.list('""', "user.alice*")
        self.assertEqual([x for x in data if x], [])
        # a new CREATE lands on be2 and is pushed from there
        self.assertEqual(d.create("INBOX.after")[0], "OK")
        harness.wait_for(lambda: self.where("user.alice.after"))
        self.assertEqual(self.where("user.alice.after")[2], "be2!default")

    def test_2_selected_session_disconnected(self):
        self.fill("bob", "INBOX", 10, "b")
        c = self.be["be1"].login("bob")
        c.select("INBOX")
        typ, data = self.xfer("user.bob", "be2")[:2]
        self.assertEqual(typ, "OK", data)
        with self.assertRaises(imaplib.IMAP4.abort) as cm:
            c.noop()
        self.assertIn("moved", str(cm.exception))
        d = self.login("be2", "bob")
        self.assertEqual(d.select("INBOX")[1][0], b"10")

    def test_3_xfer_under_lmtp_load(self):
        self.fill("carol", "INBOX", 100, "c0")
        acked, stop, errors = [], threading.Event(), []
        ports = {n: b.ports["lmtp"] for n, b in self.be.items()}

        after = {}

        def deliver():
            i = 0
            while True:
                if stop.is_set():
                    after.setdefault("i", i)
                    if i >= max(40, after["i"] + 20):
                        return
                mid = "load-%d" % i
                try:
                    e = self.where("user.carol")
                    if e is None or e[0] != "MAILBOX":
                        time.sleep(0.02)
                        continue
                    srv = e[2].split("!")[0]
                    with smtplib.LMTP("127.0.0.1", ports[srv],
                                      timeout=10) as l:
                        l.ehlo("test")
                        l.sendmail("s@example.com", ["carol"],
                                   msg(i, "load"))
                    acked.append(mid)
                    i += 1
                except smtplib.SMTPResponseException as ex:
                    if ex.smtp_code // 100 != 4:
                        errors.append("%s: %s" % (mid, ex))
                        return
                    time.sleep(0.02)
                except smtplib.SMTPRecipientsRefused as ex:
                    code = list(ex.recipients.values())[0][0]
                    # a frontend turns a backend's 550 5.1.1 into 451
                    # 4.3.0: its replica (here the FIND) may be a moment
                    # behind the move (MURDER.md section 15)
                    if code == 550:
                        time.sleep(0.02)
                        continue
                    if code // 100 != 4:
                        errors.append("%s: %s" % (mid, ex))
                        return
                    time.sleep(0.02)
                if i > 400:
                    return

        t = threading.Thread(target=deliver)
        t.start()
        harness.wait_for(lambda: len(acked) >= 10, what="deliveries")
        typ, data = self.xfer("user.carol", "be2")[:2]
        stop.set()
        t.join(60)
        self.assertEqual(typ, "OK", data)
        self.assertEqual(errors, [])
        self.assertGreaterEqual(len(acked), 40)
        d = self.login("be2", "carol")
        d.select("INBOX")
        typ, data = d.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        ids = [re.search(rb"<([^@]+)@", x[1]).group(1).decode()
               for x in data if isinstance(x, tuple)]
        got = [x for x in ids if x.startswith("load-")]
        self.assertEqual(sorted(got), sorted(set(got)), "duplicates")
        self.assertEqual(sorted(got), sorted(acked))
        self.assertEqual(len([x for x in ids if x.startswith("c0-")]), 100)

    def test_4_failure_rolls_back(self):
        self.fill("dave", "INBOX", 50, "d")
        c = self.login("be1", "dave")
        self.assertEqual(c.create("INBOX.x")[0], "OK")
        before = snapshot(c, "INBOX")
        # the destination already holds a child: LOCALCREATE fails midway
        b2 = self.login("be2", ADMIN)
        typ, data = b2._simple_command("LOCALCREATE", "user.dave.x")
        self.assertEqual(typ, "OK", data)
        typ, data = self.xfer("user.dave", "be2")[:2]
        self.assertEqual(typ, "NO")
        e = self.where("user.dave")
        self.assertEqual((e[0], e[2]), ("MAILBOX", "be1!default"))
        self.assertEqual(snapshot(c, "INBOX"), before)
        typ, data = b2.list('""', "user.dave*")
        # only the pre-existing child (and its \\Noselect parent) is left
        self.assertEqual([x for x in data if x and b"dave.x" not in x
                          and b"Noselect" not in x], [])
        # and LMTP to the source works again
        with smtplib.LMTP("127.0.0.1", self.be["be1"].ports["lmtp"]) as l:
            l.sendmail("s@example.com", ["dave"], msg(999, "d"))

    def test_5_destination_dies_mid_transfer(self):
        self.fill("erin", "INBOX", 300, "e")
        c = self.login("be1", "erin")
        before = snapshot(c, "INBOX")
        result = {}

        def run():
            result["r"] = self.xfer("user.erin", "be2")[:2]

        t = threading.Thread(target=run)
        t.start()
        time.sleep(0.15)
        self.be["be2"].master.stop(check=False, sig=9)
        t.join(60)
        try:
            e = self.where("user.erin")
            if result["r"][0] == "OK":
                self.assertEqual(e[2], "be2!default")
            else:
                self.assertEqual((e[0], e[2]), ("MAILBOX", "be1!default"))
                self.assertEqual(snapshot(c, "INBOX"), before)
        finally:
            self.be["be2"].master.start(
                ports=list(self.be["be2"].ports.values()))

    def test_6_seen_db_carried_and_idle_bye(self):
        """frank's \\Seen of a shared mailbox (seen.db, not a flag) goes
        with him; a session IDLE in the moved mailbox gets BYE."""
        a = self.login("be1", ADMIN)
        self.assertEqual(a.create("shared.seen")[0], "OK")
        self.assertEqual(a.setacl("shared.seen", "frank", "lrsw")[0], "OK")
        for i in range(3):
            typ, data = a.append("shared.seen", "()", None, msg(i, "sh"))
            self.assertEqual(typ, "OK", data)
        f = self.be["be1"].login("frank")
        self.assertEqual(f.select("shared.seen")[0], "OK")
        self.assertEqual(f.store("1:2", "+FLAGS", "(\\Seen)")[0], "OK")
        f.logout()
        # the owner-less mailbox keeps frank's \\Seen in seen.db only
        typ, data = a.select("shared.seen", readonly=True)
        typ, data = a.fetch("1:*", "(FLAGS)")
        self.assertFalse(any(b"Seen" in x for x in data if x), data)
        a.close()
        # a session idling in it
        idler = self.be["be1"].login("frank")
        self.assertEqual(idler.select("shared.seen")[0], "OK")
        idler.send(b"I1 IDLE\r\n")
        self.assertTrue(idler.readline().startswith(b"+"))
        for name in ("user.frank", "shared.seen"):
            typ, data = a._simple_command("XFER", name, "be2")
            self.assertEqual(typ, "OK", data)
        idler.sock.settimeout(5)
        line = idler.readline()
        self.assertIn(b"BYE", line)
        self.assertIn(b"moved", line)
        self.assertEqual(idler.readline(), b"")  # closed
        d = self.login("be2", "frank")
        self.assertEqual(d.select("shared.seen", readonly=True)[0], "OK")
        typ, data = d.fetch("1:*", "(FLAGS)")
        seen = [b"Seen" in x for x in data if x]
        self.assertEqual(seen, [True, True, False], data)

    def test_7_modseqs_carried(self):
        """Each message's MODSEQ, the mailbox's HIGHESTMODSEQ and what
        QRESYNC answers survive the move (RFC 7162)."""
        c = self.fill("gina", "INBOX", 30, "g")
        self.assertEqual(c.create("INBOX.Old")[0], "OK")
        c.select("INBOX")
        # flag changes make modseqs non-monotonic in UID order
        c.uid("STORE", "3,7,11", "+FLAGS", "(\\Flagged)")
        c.uid("STORE", "20:22", "+FLAGS", "(\\Deleted)")
        p1, p2 = self.be["be1"].ports["imap"], self.be["be2"].ports["imap"]
        before_expunge = modseqs(p1, "gina", "INBOX")[1]
        # fill() marked every sixth message \\Deleted: 5,11,17,23,29 go too
        c.expunge()
        c.uid("STORE", "2", "+FLAGS", "($Later)")
        c.close()
        c.logout()
        uv, hms, per = modseqs(p1, "gina", "INBOX")
        self.assertEqual(len(per), 22)
        self.assertGreater(per[2], per[30])  # STORE after the appends
        old = modseqs(p1, "gina", "INBOX.Old")
        # a QRESYNC client in sync sees nothing, before and after
        self.assertEqual(qresync(p1, "gina", "INBOX", uv, hms), [])
        typ, data = self.xfer("user.gina", "be2")[:2]
        self.assertEqual(typ, "OK", data)
        # the source's spool files were set aside and removed after the OK
        harness.wait_for(lambda: not leftovers(self.be["be1"].master.spool,
                                               b"<g-"),
                         what="old spool removed")
        self.assertEqual(modseqs(p2, "gina", "INBOX"), (uv, hms, per))
        self.assertEqual(modseqs(p2, "gina", "INBOX.Old"), old)
        self.assertEqual(qresync(p2, "gina", "INBOX", uv, hms), [])
        # one that stopped before the expunge learns of it: VANISHED
        # (EARLIER) names the expunged UIDs, and FETCH the one change
        lines = qresync(p2, "gina", "INBOX", uv, before_expunge, "1:30")
        van = [ln for ln in lines if b"VANISHED" in ln]
        self.assertEqual(van, [b"* VANISHED (EARLIER) 5,11,17,20:23,29"],
                         lines)
        fetched = [ln for ln in lines if b"FETCH" in ln]
        self.assertEqual(len(fetched), 1, lines)  # UID 2's later STORE
        self.assertIn(b"UID 2 ", fetched[0] + b" ")
        # new changes on the destination go on from the old HIGHESTMODSEQ
        d = self.login("be2", "gina")
        d.select("INBOX")
        d.uid("STORE", "1", "+FLAGS", "(\\Answered)")
        d.close()
        uv2, hms2, per2 = modseqs(p2, "gina", "INBOX")
        self.assertGreater(hms2, hms)
        self.assertEqual(per2[1], hms2)

    def test_8_others_seen_moves_with_mailbox(self):
        """hank's \\Seen of a shared folder lives in seen.db of the
        backend holding it, keyed by its uniqueid: it goes along when the
        folder moves (uniqueid kept), and when hank himself moves his
        entries for folders that stay on the source stay there."""
        a = self.login("be1", ADMIN)
        for box in ("shared.stay", "shared.go"):
            self.assertEqual(a.create(box)[0], "OK")
            self.assertEqual(a.setacl(box, "hank", "lrs")[0], "OK")
            for i in range(4):
                typ, data = a.append(box, "()", None, msg(i, "x"))
                self.assertEqual(typ, "OK", data)
        h = self.login("be1", "hank")
        for box in ("shared.stay", "shared.go"):
            self.assertEqual(h.select(box)[0], "OK")
            self.assertEqual(h.store("1:2", "+FLAGS", "(\\Seen)")[0], "OK")
            h.close()
        typ, data = a._simple_command("XFER", "shared.go", "be2")
        self.assertEqual(typ, "OK", data)

        def seen(server, box):
            c = self.login(server, "hank")
            self.assertEqual(c.select(box, readonly=True)[0], "OK")
            typ, data = c.fetch("1:*", "(FLAGS)")
            c.close()
            return [b"Seen" in x for x in data if x]

        self.assertEqual(seen("be2", "shared.go"), [True, True, False, False])
        self.assertEqual(seen("be1", "shared.stay"),
                         [True, True, False, False])
        # and moving hank himself leaves his \\Seen of shared.stay (still
        # on be1) where be1 reads it
        typ, data = a._simple_command("XFER", "user.hank", "be2")
        self.assertEqual(typ, "OK", data)
        self.assertEqual(seen("be1", "shared.stay"),
                         [True, True, False, False])
        self.assertEqual(seen("be2", "shared.go"), [True, True, False, False])
