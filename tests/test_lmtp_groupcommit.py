"""test_lmtp_groupcommit.py: concurrent LMTP deliveries to one mailbox
(the group commit of imap/mailbox_sync.c shares their fsyncs) while one lmtpd
is killed with SIGKILL: every delivery answered 250 must be in the
mailbox, readable, exactly once, and the mailbox keeps working."""
import random
import re
import signal
import smtplib
import threading
import time

import harness

THREADS = 6
PER_THREAD = 25


def message(mid):
    return (("From: s@example.org\r\nTo: alice@example.org\r\n"
             "Subject: group %s\r\nMessage-ID: <%s@example.org>\r\n\r\n"
             % (mid, mid)) + "body line\r\n" * 60).encode()


class TestGroupCommitKill(harness.TestCase):
    def setUp(self):
        import backend
        self.b = backend.Backend(services=("imap", "lmtp"))
        self.addCleanup(self.b.cleanup)
        self.b.start()
        self.addCleanup(self.b.stop)

    def deliver_loop(self, t, acked, failed):
        for i in range(PER_THREAD):
            mid = "t%d-%d" % (t, i)
            try:
                c = smtplib.LMTP("127.0.0.1", self.b.ports["lmtp"], timeout=20)
                refused = c.sendmail("s@x", ["alice"], message(mid))
                c.quit()
                if refused:
                    failed.append(mid)
                else:
                    acked.append(mid)
            except (smtplib.SMTPException, OSError):
                failed.append(mid)  # its lmtpd was killed: no 250

    def test_kill_one_lmtpd_during_concurrent_deliveries(self):
        acked, failed = [], []
        threads = [threading.Thread(target=self.deliver_loop,
                                    args=(t, acked, failed))
                   for t in range(THREADS)]
        for th in threads:
            th.start()
        # kill one lmtpd while the others deliver
        victim = None
        deadline = time.monotonic() + 20
        while victim is None and time.monotonic() < deadline:
            pids = self.b.master.service_pids("lmtp")
            if len(pids) >= 2 and len(acked) >= 10:
                victim = random.choice(pids)
                self.b.master.kill(victim, signal.SIGKILL)
            else:
                time.sleep(0.01)
        for th in threads:
            th.join(120)
        self.assertIsNotNone(victim, "never saw two lmtpd at once")
        self.assertEqual(len(acked) + len(failed), THREADS * PER_THREAD)
        self.assertGreater(len(acked), THREADS * PER_THREAD // 2)

        im = self.b.login("alice")
        typ, data = im.select("INBOX")
        self.assertEqual(typ, "OK")
        exists = int(data[0])
        typ, data = im.fetch("1:*", "(UID BODY.PEEK[HEADER.FIELDS "
                                    "(MESSAGE-ID)])")
        self.assertEqual(typ, "OK")
        found = []
        for item in data:
            if isinstance(item, tuple):
                m = re.search(rb"<([^@>]+)@example.org>", item[1])
                self.assertIsNotNone(m, item)
                found.append(m.group(1).decode())
        self.assertEqual(len(found), exists)
        # every acknowledged delivery is there exactly once; a killed one
        # may or may not be (it was never acknowledged)
        for mid in acked:
            self.assertEqual(found.count(mid), 1, mid)
        self.assertEqual(len(set(found)), len(found))
        self.assertTrue(set(found) <= set(acked) | set(failed))
        im.logout()

        # the mailbox still takes deliveries
        c = smtplib.LMTP("127.0.0.1", self.b.ports["lmtp"], timeout=20)
        self.assertEqual(c.sendmail("s@x", ["alice"], message("after")), {})
        c.quit()
        im = self.b.login("alice")
        typ, data = im.select("INBOX")
        self.assertEqual(int(data[0]), exists + 1)
        im.logout()


if __name__ == "__main__":
    import unittest
    unittest.main()
