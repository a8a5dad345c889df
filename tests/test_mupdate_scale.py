"""test_mupdate_scale.py: the chunked UPDATE dump of the master and the
streaming merge of the slave, with 20,000 mailboxes."""
import re
import time

import harness
from test_mupdate import MupdateTestCase, slave_list

N = 20000
ACL = "anyone\tlrs\t" + "".join("user%03d\tlrswipkxtecda\t" % i
                                for i in range(12))


def fill(c, names, location="be1!default", acl=ACL, word="ACTIVATE"):
    """Pipelined writes, 2000 a round trip; every answer must be OK."""
    names = list(names)
    for i in range(0, len(names), 2000):
        out = b""
        tags = []
        for n in names[i:i + 2000]:
            c.ntag += 1
            tag = "T%d" % c.ntag
            tags.append(tag)
            args = (n, location, acl) if word == "ACTIVATE" else (n,)
            out += tag.encode() + b" " + word.encode()
            for a in args:
                out += b" " + c.quote(a)
            out += b"\r\n"
        c.sock.sendall(out)
        for tag in tags:
            st, text = c.read_response(tag)
            assert st == "OK", (tag, st, text)


def name(i):
    return "user.r%05d" % i


class TestChunkedDump(MupdateTestCase):
    def test_big_dump_does_not_stall_others(self):
        m = self.node("cdmaster").start()
        w = self.client(m)
        fill(w, (name(i) for i in range(N)))
        slow = self.client(m)
        # UPDATE with a NOOP pipelined behind it; then do not read: the
        # ~7 MB dump fills the socket buffers and has to wait
        slow.sock.sendall(b"U1 UPDATE\r\nN1 NOOP\r\n")
        time.sleep(0.5)
        t0 = time.monotonic()
        self.assertEqual(w.cmd("ACTIVATE", "user.a-during", "be2!default",
                               ACL)[0], "OK")
        self.assertEqual(w.cmd("ACTIVATE", "user.z-during", "be2!default",
                               ACL)[0], "OK")
        self.assertEqual(w.cmd("DELETE", name(0))[0], "OK")
        self.assertIsNotNone(w.find(name(N - 1)))
        self.assertLess(time.monotonic() - t0, 2.0,
                        "a stalled dump blocked another client")
        # now read it all: the dump, its OK, the changes, the NOOP's OK
        data = []
        self.assertEqual(slow.read_response("U1", data)[0], "OK")
        self.assertEqual(slow.read_response("N1", data)[0], "OK")
        final = {}
        for d in data:
            if d[0] == "DELETE":
                final.pop(d[1], None)
            else:
                final[d[1]] = d
        want = {name(i) for i in range(1, N)} | {"user.a-during",
                                                 "user.z-during"}
        self.assertEqual(set(final), want)
        self.assertEqual(final[name(7)], ("MAILBOX", name(7), "be1!default",
                                          ACL))
        self.assertEqual(final["user.a-during"][2], "be2!default")
        # the stream goes on after the dump
        w.cmd("ACTIVATE", "user.after", "be3!default", ACL)
        _, _, data = slow.cmd("NOOP")
        self.assertIn(("MAILBOX", "user.after", "be3!default", ACL), data)

    def test_list_in_chunks_then_next_command(self):
        m = self.node("clmaster").start()
        w = self.client(m)
        fill(w, (name(i) for i in range(N)))
        fill(w, ("user.other%d" % i for i in range(10)), location="be9!p")
        c = self.client(m)
        c.sock.sendall(b"L1 LIST\r\nL2 LIST {5+}\r\nbe9!p\r\nF1 FIND "
                       b"{11+}\r\nuser.other3\r\n")
        data = []
        self.assertEqual(c.read_response("L1", data)[0], "OK")
        self.assertEqual(len(data), N + 10)
        self.assertEqual([d[1] for d in data], sorted(d[1] for d in data))
        data = []
        self.assertEqual(c.read_response("L2", data)[0], "OK")
        self.assertEqual(sorted(d[1] for d in data),
                         ["user.other%d" % i for i in range(10)])
        data = []
        self.assertEqual(c.read_response("F1", data)[0], "OK")
        self.assertEqual(data, [("MAILBOX", "user.other3", "be9!p", ACL)])


class TestReplicaConverges(MupdateTestCase):
    def test_resync_removes_stale_and_misses_none(self):
        m = self.node("rcmaster").start()
        w = self.client(m)
        fill(w, (name(i) for i in range(N)))
        s = self.node("rcslave", master_port=m.port).start()
        harness.wait_for(lambda: len(slave_list(s)) == N, timeout=60,
                         what="first sync of %d" % N)
        s.master.stop()
        # while the replica is down: stale, changed and new entries
        deleted = [name(i) for i in range(0, N, 7)]
        changed = [name(i) for i in range(0, N, 5) if i % 7]
        added = ["user.s%05d" % i for i in range(1000)]
        fill(w, deleted, word="DELETE")
        fill(w, changed, location="be2!p2")
        fill(w, added, location="be3!default")
        s.start()
        with m.client() as c:
            want = {d[1]: d for d in c.list()}
        self.assertEqual(len(want), N - len(deleted) + len(added))
        harness.wait_for(lambda: slave_list(s) == want, timeout=60,
                         what="replica to converge")
        # one merge did it: exact counts in the slave's log
        with open(s.master.logfile) as f:
            logs = re.findall(r"synchronization complete: (\d+) entries, "
                              r"(\d+) added, (\d+) updated, (\d+) removed",
                              f.read())
        self.assertEqual(len(logs), 2, logs)
        self.assertEqual(logs[0], (str(N), str(N), "0", "0"))
        self.assertEqual(logs[1], (str(len(want)), str(len(added)),
                                   str(len(changed)), str(len(deleted))))
