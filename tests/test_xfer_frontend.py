"""test_xfer_frontend.py: XFER of a user in the whole murder of tools/murder
(master, two backends, one frontend) while LMTP load goes to the
FRONTEND's lmtpd and the user has INBOX selected through the frontend
(issue 8).

The load retries on 4xx as Postfix would (the frontend answers 451 while
the mailbox is RESERVED or moving); every message that got its 250 must
be in the moved INBOX exactly once. The selected client is disconnected
cleanly (BYE) or keeps working, and a new session through the frontend
selects the INBOX on its new backend.
"""
import imaplib
import re
import smtplib
import threading
import time
import unittest

import harness
import murdercase

imaplib.Commands.setdefault("XFER", ("AUTH", "SELECTED"))


def msg(i):
    return ("From: s@example.com\r\nTo: alice@example.com\r\n"
            "Subject: xl %d\r\nMessage-ID: <xl-%d@example.com>\r\n"
            "\r\nbody %d\r\n" % (i, i, i)).encode()


class TestXferFrontend(murdercase.MurderCase):
    def connect(self, node, user):
        c = imaplib.IMAP4("127.0.0.1", node["imap"], timeout=15)
        c.login(user, self.pw[user])
        return c

    def message_ids(self, c):
        typ, data = c.select("INBOX", readonly=True)
        self.assertEqual(typ, "OK", data)
        typ, data = c.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        return [re.search(rb"<([^@]+)@", x[1]).group(1).decode()
                for x in data if isinstance(x, tuple)]

    def test_xfer_user_under_frontend_lmtp_load(self):
        fe = self.info["frontends"][0]
        user = [u["user"] for u in self.info["users"]
                if u["backend"] == "backend1"][0]
        c = self.connect(fe, user)
        for i in range(50):
            typ, data = c.append("INBOX", "(\\Seen)", None, msg(1000 + i))
            self.assertEqual(typ, "OK", data)
        before = self.message_ids(c)
        c.close()
        self.assertEqual(c.select("INBOX")[0], "OK")
        acked, errors, stop = [], [], threading.Event()
        after, retries = {}, []

        def deliver():
            i = 0
            while i < 600:
                if stop.is_set():
                    after.setdefault("i", i)
                    if i >= max(40, after["i"] + 20):
                        return
                try:
                    with smtplib.LMTP("127.0.0.1", fe["lmtp"],
                                      timeout=15) as l:
                        l.sendmail("s@example.com", [user], msg(i))
                    acked.append("xl-%d" % i)
                    i += 1
                except smtplib.SMTPRecipientsRefused as ex:
                    code = list(ex.recipients.values())[0][0]
                    if code // 100 != 4:
                        errors.append("xl-%d: %s" % (i, ex))
                        return
                    retries.append(code)
                    time.sleep(0.02)  # retry, as Postfix would
                except smtplib.SMTPResponseException as ex:
                    if ex.smtp_code // 100 != 4:
                        errors.append("xl-%d: %s" % (i, ex))
                        return
                    retries.append(ex.smtp_code)
                    time.sleep(0.02)
        t = threading.Thread(target=deliver)
        t.start()
        try:
            harness.wait_for(lambda: len(acked) >= 10 or errors,
                             what="deliveries through the frontend")
            a = self.connect(self.node("backend1"), "cyrus")
            typ, data = a._simple_command("XFER", "user.%s" % user,
                                          "backend2")
            a.logout()
        finally:
            stop.set()
            t.join(120)
        self.assertEqual(typ, "OK", data)
        self.assertEqual(errors, [])
        self.assertFalse(t.is_alive())
        self.assertGreaterEqual(len(acked), 40)
        # the client that had INBOX selected through the frontend
        how = "re-proxied"
        try:
            c.noop()
            self.assertEqual(c.select("INBOX")[0], "OK")
        except imaplib.IMAP4.abort as ex:
            self.assertIn("moved", str(ex).lower())
            how = "disconnected"
        print("\n    %d acked, %d 4xx retries, selected client %s"
              % (len(acked), len(retries), how))
        try:
            c.logout()
        except Exception:
            pass
        # a new session through the frontend lands on backend2
        d = self.connect(fe, user)
        ids = self.message_ids(d)
        d.logout()
        got = [x for x in ids if x not in before]
        self.assertEqual(len(got), len(set(got)), "duplicates")
        self.assertEqual(sorted(got), sorted(acked))
        self.assertEqual(len([x for x in ids if x in before]), len(before))
        # and the source holds nothing of the user any more
        b1 = self.connect(self.node("backend1"), "cyrus")
        typ, data = b1.list('""', "user.%s*" % user)
        b1.logout()
        self.assertEqual([x for x in data if x], [])


if __name__ == "__main__":
    unittest.main()
