"""test_mupdate_changes.py: resync by changes (XCHANGES): a slave that
reconnects fetches only what changed since its saved position; one older
than the master's horizon, or of another epoch, gets the full dump."""
import os
import re

import harness
from mupdateclient import MupdateClient
from test_mupdate import MupdateTestCase, kick, slave_list
from test_mupdate_scale import fill

N = 2000
ACL = "anyone\tlrs\t"
SYNC_RE = (r"synchronization complete( \(changes\))?: (\d+) entries, "
           r"(\d+) added, (\d+) updated, (\d+) removed")


def name(i):
    return "user.c%05d" % i


def syncs(node):
    """(kind, entries, added, updated, removed) of each completed sync."""
    with open(node.master.logfile) as f:
        return [("changes" if m[0] else "full",) + tuple(int(x)
                                                         for x in m[1:])
                for m in re.findall(SYNC_RE, f.read())]


class TestResyncByChanges(MupdateTestCase):
    def master_list(self, m):
        with m.client() as c:
            return {d[1]: d for d in c.list()}

    def converge(self, m, s, what):
        want = self.master_list(m)
        harness.wait_for(lambda: slave_list(s) == want, timeout=30,
                         what=what)
        return want

    def hundred_changes(self, w, base):
        """40 new, 30 changed, 30 deleted names: 100 changes."""
        fill(w, ("user.new%d-%03d" % (base, i) for i in range(40)),
             acl=ACL)
        fill(w, (name(i) for i in range(base, base + 30)),
             location="be2!p2", acl=ACL)
        fill(w, (name(i) for i in range(base + 1000, base + 1030)),
             word="DELETE")

    def test_banner_offers_xchanges(self):
        m = self.node("xbmaster").start()
        c = MupdateClient(m.port)
        self.addCleanup(c.close)
        self.assertIn(["XCHANGES"], c.caps)

    def test_reconnect_after_master_restart_fetches_only_changes(self):
        m = self.node("xcmaster").start()
        w = self.client(m)
        fill(w, (name(i) for i in range(N)), acl=ACL)
        w.close()
        s = self.node("xcslave", master_port=m.port).start()
        self.converge(m, s, "first sync")
        self.assertEqual(syncs(s), [("full", N, N, 0, 0)])
        s.master.stop()
        m.master.stop()
        m.start()  # the log and its counters survive the restart
        w = self.client(m)
        self.hundred_changes(w, 0)
        s.start()
        self.converge(m, s, "replica after the changes")
        self.assertEqual(syncs(s)[1:], [("changes", 100, 40, 30, 30)])
        # streamed changes move the saved position (XSYNCPOINT in the
        # NOOP answer that a kick waits for)
        fill(w, ("user.live%d" % i for i in range(5)), acl=ACL)
        self.assertEqual(kick(s), b"ok")
        s.master.stop()
        fill(w, (name(i) for i in range(100, 103)), word="DELETE")
        s.start()
        self.converge(m, s, "replica after a streamed period")
        self.assertEqual(syncs(s)[2:], [("changes", 3, 0, 0, 3)])

    def test_slave_beyond_horizon_gets_full_dump(self):
        m = self.node("xhmaster",
                      imapd={"mupdate_changes_max": "50"}).start()
        w = self.client(m)
        fill(w, (name(i) for i in range(N)), acl=ACL)
        s = self.node("xhslave", master_port=m.port).start()
        self.converge(m, s, "first sync")
        s.master.stop()
        self.hundred_changes(w, 0)
        s.start()
        want = self.converge(m, s, "replica after a full resync")
        # the merge, not a reload: counts of what differed
        self.assertEqual(syncs(s)[1:], [("full", len(want), 40, 30, 30)])

    def test_undump_on_master_forces_full_dump(self):
        m = self.node("xumaster").start()
        w = self.client(m)
        fill(w, (name(i) for i in range(100)), acl=ACL)
        w.close()
        s = self.node("xuslave", master_port=m.port).start()
        self.converge(m, s, "first sync")
        s.master.stop()
        m.master.stop()
        # an offline change the log never saw
        m.tool("ctl_mboxlist", "-u", input=("user.offline\tr\tbe7\tp\t%s\n"
                                            % ACL).encode())
        m.start()
        s.start()
        want = self.converge(m, s, "replica after the undump")
        self.assertIn("user.offline", want)
        self.assertEqual(syncs(s)[1:], [("full", 101, 1, 0, 0)])

    def test_emptied_master_list_forces_full_dump(self):
        m = self.node("xemaster").start()
        w = self.client(m)
        fill(w, (name(i) for i in range(100)), acl=ACL)
        w.close()
        s = self.node("xeslave", master_port=m.port).start()
        self.converge(m, s, "first sync")
        s.master.stop()
        m.master.stop()
        # the list is lost and pushed again: the 100 old names were never
        # logged as deleted
        os.unlink(os.path.join(m.master.confdir, "mailboxes.db"))
        m.start()
        w = self.client(m)
        fill(w, ("user.again%d" % i for i in range(10)), acl=ACL)
        s.start()
        want = self.converge(m, s, "replica after the list was emptied")
        self.assertEqual(len(want), 10)
        self.assertEqual(syncs(s)[1:], [("full", 10, 10, 0, 100)])
