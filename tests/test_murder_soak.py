"""A concurrent soak through the frontend of a whole murder (tools/murder):
8 threads for about SOAK_SECS seconds, each doing a random mix of IMAP
(SELECT, FETCH, STORE, SEARCH, APPEND, COPY across backends, IDLE,
CREATE + APPEND + DELETE of a folder), POP3 and LMTP, all through
frontend1. Then the books are checked:

- every LMTP 250 for a recipient is a message in that user's INBOX,
  exactly once (by Message-ID, asked on the user's backend directly);
- every APPEND OK is its message in its mailbox, exactly once; for a
  folder deleted afterwards, in the one DELETED.user.<u>.<folder>.<hex>
  mailbox the delete left (delete_mode: delayed) on the user's backend;
- no reply other than an expected one (OK / +OK / 250 and the few NOs
  listed in EXPECTED_NO), no dropped connection;
- no server process crashed: the node logs have no "killed by signal"
  and no sanitizer report (MurderCase checks the latter at teardown).
"""
import base64
import os
import random
import re
import socket
import threading
import time
import uuid

import murdercase
import rawimap
from test_frontend_badinput import Lines

SOAK_SECS = float(os.environ.get("SOAK_SECS", "25"))
THREADS = 8
USERS = ("alice", "carol", "bob", "dave")
SHARED = ("shared.lists", "shared.team")  # on backend1, backend2
# replies that are not errors under concurrency: POP3 locks the
# maildrop, a second session of the same user is refused (RFC 2449)
EXPECTED_NO = (b"-ERR [IN-USE] ",)


def mid():
    return "soak-%s@example.com" % uuid.uuid4().hex


def message(msgid, size):
    head = ("From: soak@example.com\r\nTo: x@example.com\r\n"
            "Subject: soak %s\r\nMessage-ID: <%s>\r\n\r\n"
            % (msgid[:13], msgid)).encode()
    return head + b"soak body line\r\n" * max(1, size // 16)


class Books:
    """What the threads did, under one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.delivered = []   # (user, msgid) for each LMTP 250
        self.appended = []    # (user, mailbox, msgid) for each APPEND OK
        self.churned = []     # (user, folder, msgid, deleted) of churn
        self.errors = []
        self.ops = {}

    def op(self, name):
        with self.lock:
            self.ops[name] = self.ops.get(name, 0) + 1

    def error(self, what):
        with self.lock:
            self.errors.append(what)


class Worker:
    def __init__(self, case, books, seed):
        self.case = case
        self.books = books
        self.rnd = random.Random(seed)
        self.user = USERS[seed % len(USERS)]
        self.pw = case.pw[self.user]

    def expect(self, what, reply, pattern):
        if re.match(pattern, reply) is None and not any(
                e in reply for e in EXPECTED_NO):
            self.books.error("%s %s: %r" % (self.user, what, reply[:200]))
            return False
        return True

    # ---- IMAP ----

    def imap(self):
        r = rawimap.Raw(self.case.fe_imap, timeout=20)
        if not self.expect("LOGIN", r.login(self.user, self.pw),
                           rb"^t\d+ OK"):
            r.close()
            return None
        return r

    def imap_session(self):
        r = self.imap()
        if r is None:
            return
        try:
            for _ in range(self.rnd.randint(2, 8)):
                op = self.rnd.choice(("select", "fetch", "store", "search",
                                      "append", "append", "copy", "idle",
                                      "churn"))
                self.books.op("imap " + op)
                getattr(self, "imap_" + op)(r)
            self.expect("LOGOUT", r.cmd("LOGOUT"), rb"^t\d+ OK")
        finally:
            r.close()

    def pick_mailbox(self):
        return self.rnd.choice(("INBOX",) + SHARED)

    def select(self, r, name=None):
        name = name or self.pick_mailbox()
        self.expect("SELECT " + name, r.cmd("SELECT " + name), rb"^t\d+ OK")
        return name

    def imap_select(self, r):
        self.select(r)

    def imap_fetch(self, r):
        self.select(r)
        self.expect("FETCH", r.cmd(self.rnd.choice((
            "FETCH 1:* (FLAGS UID)", "UID FETCH 1:* (RFC822.SIZE ENVELOPE)",
            "FETCH 1:* (BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])",
            "FETCH 1 BODY.PEEK[]"))), rb"^t\d+ OK")

    def imap_store(self, r):
        self.select(r)
        self.expect("STORE", r.cmd(self.rnd.choice((
            "STORE 1:* +FLAGS (\\Flagged)", "STORE 1:* -FLAGS (\\Flagged)",
            "UID STORE 1:* +FLAGS.SILENT (\\Seen soak)",
            "STORE 1 FLAGS (\\Answered)"))), rb"^t\d+ OK")

    def imap_search(self, r):
        self.select(r)
        self.expect("SEARCH", r.cmd(self.rnd.choice((
            "SEARCH ALL", "UID SEARCH SUBJECT soak", "SEARCH FLAGGED",
            "SEARCH HEADER Message-ID soak NOT SEEN"))), rb"^t\d+ OK")

    def imap_append(self, r):
        name = self.pick_mailbox()
        msgid = mid()
        body = message(msgid, self.rnd.choice((200, 2000, 100000)))
        reply = r.cmd(b"APPEND %s {%d+}\r\n%s" % (name.encode(), len(body),
                                                  body))
        if self.expect("APPEND " + name, reply, rb"^t\d+ OK"):
            with self.books.lock:
                self.books.appended.append((self.user, name, msgid))

    def imap_copy(self, r):
        # from INBOX only: the shared folders' APPENDs stay unique there
        self.select(r, "INBOX")
        dest = self.rnd.choice(SHARED)
        self.expect("COPY INBOX " + dest,
                    r.cmd("%s 1 %s" % (self.rnd.choice(("COPY", "UID COPY")),
                                       dest)), rb"^t\d+ OK")

    def imap_idle(self, r):
        self.select(r)
        t = r.tag()
        r.send(t + b" IDLE\r\n")
        ln = r.line()
        if not self.expect("IDLE", ln, rb"^\+"):
            return
        time.sleep(self.rnd.uniform(0.05, 0.4))
        r.send(b"DONE\r\n")
        self.expect("IDLE DONE", r.read_until_tagged(t)[1], t + rb" OK")

    def imap_churn(self, r):
        """CREATE a folder, APPEND to it, mostly DELETE it again."""
        folder = "Churn%s" % uuid.uuid4().hex[:10]
        name = "INBOX." + folder
        if not self.expect("CREATE " + name, r.cmd("CREATE " + name),
                           rb"^t\d+ OK"):
            return
        msgid = mid()
        body = message(msgid, self.rnd.choice((200, 3000)))
        reply = r.cmd(b"APPEND %s {%d+}\r\n%s" % (name.encode(), len(body),
                                                  body))
        if not self.expect("APPEND " + name, reply, rb"^t\d+ OK"):
            return
        deleted = self.rnd.random() < 0.75
        if deleted and not self.expect("DELETE " + name,
                                       r.cmd("DELETE " + name),
                                       rb"^t\d+ OK"):
            return
        with self.books.lock:
            self.books.churned.append((self.user, folder, msgid, deleted))

    # ---- POP3 ----

    def pop3_session(self):
        self.books.op("pop3")
        p = Lines(self.case.fe_pop3, timeout=20)
        try:
            self.expect("POP3 USER", p.cmd("USER " + self.user), rb"^\+OK")
            reply = p.cmd("PASS " + self.pw)
            if not reply.startswith(b"+OK"):
                self.expect("POP3 PASS", reply, rb"^\+OK")
                return
            st = p.cmd("STAT")
            if not self.expect("STAT", st, rb"^\+OK \d+ \d+"):
                return
            n = int(st.split()[1])
            if n:
                msg = self.rnd.randint(1, n)
                if self.expect("RETR", p.cmd("RETR %d" % msg), rb"^\+OK"):
                    while p.file.readline() not in (b".\r\n", b""):
                        pass
                self.expect("UIDL", p.cmd("UIDL %d" % msg), rb"^\+OK")
            self.expect("QUIT", p.cmd("QUIT"), rb"^\+OK")
        finally:
            p.close()

    # ---- LMTP ----

    def lmtp_session(self):
        self.books.op("lmtp")
        l = Lines(self.case.fe_lmtp, timeout=20)
        try:
            self.expect("LHLO", l.lcmd("LHLO soak"), rb"^250")
            for _ in range(self.rnd.randint(1, 3)):
                rcpts = self.rnd.sample(USERS, self.rnd.randint(1, 3))
                msgid = mid()
                self.expect("MAIL", l.lcmd("MAIL FROM:<soak@example.com>"),
                            rb"^250")
                for u in rcpts:
                    self.expect("RCPT", l.lcmd("RCPT TO:<%s>" % u), rb"^250")
                if not self.expect("DATA", l.lcmd("DATA"), rb"^354"):
                    return
                l.send(message(msgid, self.rnd.choice((300, 5000, 90000)))
                       + b".\r\n")
                for u in rcpts:
                    reply = l.smtp()
                    if self.expect("DATA for " + u, reply, rb"^250"):
                        with self.books.lock:
                            self.books.delivered.append((u, msgid))
            self.expect("QUIT", l.lcmd("QUIT"), rb"^221")
        finally:
            l.close()

    def run(self, until):
        while time.monotonic() < until:
            kind = self.rnd.choice(("imap", "imap", "imap", "pop3", "lmtp",
                                    "lmtp"))
            try:
                getattr(self, kind + "_session")()
            except (OSError, socket.timeout, ValueError, IndexError) as e:
                self.books.error("%s %s: %s: %s" % (self.user, kind,
                                                    type(e).__name__, e))


class MurderSoak(murdercase.AdminMurderCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        fe = cls.info["frontends"][0]
        cls.fe_imap, cls.fe_pop3, cls.fe_lmtp = (fe["imap"], fe["pop3"],
                                                 fe["lmtp"])

    def message_ids(self, user, mailbox):
        """Message-IDs in user's mailbox (on its own backend), with their
        counts."""
        home = {u["user"]: u["backend"] for u in self.info["users"]}[user]
        if mailbox in SHARED:
            home = "backend1" if mailbox == SHARED[0] else "backend2"
        c = self.imap(home, user)
        typ, data = c.select(mailbox, readonly=True)
        self.assertEqual(typ, "OK", data)
        typ, data = c.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        self.assertEqual(typ, "OK", data)
        out = {}
        for x in data:
            if isinstance(x, tuple):
                m = re.search(rb"<([^>]+)>", x[1])
                if m:
                    k = m.group(1).decode()
                    out[k] = out.get(k, 0) + 1
        return out

    def test_soak(self):
        books = Books()
        # a message in every INBOX, so that COPY/FETCH/STORE have work
        with Lines(self.fe_lmtp) as l:
            l.lcmd("LHLO soak")
            l.lcmd("MAIL FROM:<soak@example.com>")
            for u in USERS:
                l.lcmd("RCPT TO:<%s>" % u)
            l.lcmd("DATA")
            msgid = mid()
            l.send(message(msgid, 100) + b".\r\n")
            for u in USERS:
                self.assertRegex(l.smtp(), rb"^250")
                books.delivered.append((u, msgid))
        until = time.monotonic() + SOAK_SECS
        threads = [threading.Thread(target=Worker(self, books, i + 1).run,
                                    args=(until,), daemon=True)
                   for i in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(SOAK_SECS + 30)
            self.assertFalse(t.is_alive(), "a soak thread hangs")
        print("soak: %s" % ", ".join("%s %d" % kv
                                     for kv in sorted(books.ops.items())))
        print("soak: %d LMTP deliveries, %d APPENDs"
              % (len(books.delivered), len(books.appended)))
        self.assertEqual(books.errors[:20], [])
        self.assertGreater(len(books.delivered), 20)
        self.assertGreater(len(books.appended), 20)
        # every 250 and every APPEND OK is there exactly once
        wrong = []
        for user in USERS:
            have = self.message_ids(user, "INBOX")
            for u, m in books.delivered:
                if u == user and have.get(m) != 1:
                    wrong.append(("lmtp", u, m, have.get(m)))
            for u, box, m in books.appended:
                if u == user and box == "INBOX" and have.get(m) != 1:
                    wrong.append(("append", u, box, m, have.get(m)))
        for box in SHARED:
            have = self.message_ids("alice", box)
            for u, b, m in books.appended:
                if b == box and have.get(m) != 1:
                    wrong.append(("append", u, box, m, have.get(m)))
        # created folders: the message in the folder, or in the one
        # delayed-deleted mailbox its DELETE left
        home = {u["user"]: u["backend"] for u in self.info["users"]}
        churned = 0
        for u, folder, m, deleted in books.churned:
            churned += 1
            if not deleted:
                have = self.message_ids(u, "INBOX." + folder)
                if have.get(m) != 1:
                    wrong.append(("churn", u, folder, m, have))
                continue
            kept = self.names(home[u], "DELETED.user.%s.%s.*" % (u, folder))
            if len(kept) != 1:
                wrong.append(("churn deleted", u, folder, kept))
                continue
            c = self.imap(home[u])
            typ, data = c.select(kept[0], readonly=True)
            ids = (c.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
                   if typ == "OK" else ("NO", []))
            n = sum(1 for x in ids[1]
                    if isinstance(x, tuple) and m.encode() in x[1])
            if n != 1:
                wrong.append(("churn deleted", u, kept[0], m, n))
        print("soak: %d folders created (and mostly deleted)" % churned)
        self.assertEqual(wrong, [])
        # no server process died of a signal
        crashed = []
        for node in os.listdir(self.dir):
            log = os.path.join(self.dir, node, "log")
            if os.path.exists(log):
                with open(log, errors="replace") as f:
                    crashed += [ln.strip() for ln in f
                                if "killed by signal" in ln
                                or "AddressSanitizer" in ln
                                or "runtime error" in ln]
        self.assertEqual(crashed, [])
