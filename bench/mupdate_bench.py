#!/usr/bin/env python3
"""mupdate_bench.py: mupdate at scale, ours and (with --cyrus) Debian
Cyrus 3.6's, with the same client tools.

  CYRUS_BUILD=build python3 bench/mupdate_bench.py [-n 100000 1000000]
      [--cyrus 100000]

For each master and N: push N mailboxes with our ctl_mboxlist -m -a from
a backend configuration (the time of that push), the master's peak RSS
(VmHWM, read after the replica's dump too), the time for a fresh replica
(our bin/mupdate slave) to be complete and its peak RSS, and the
ACTIVATE-to-replica latency (median of 20, with a FIND on the replica port
until the name shows). Prints one Markdown table row each. --cyrus N runs
Debian Cyrus 3.6's master at each N given (its push costs ~4 ms a
mailbox).
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))
sys.path.insert(0, HERE)
import harness  # noqa: E402
from mupdateclient import MupdateClient  # noqa: E402
from mupdatenode import MupdateNode  # noqa: E402

ACL = "anyone\tlrs\tcyrus\tlrswipkxtecda\t"


def rss_kb(pid, field="VmHWM:"):
    """Peak resident set (VmHWM) of pid in kB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def service_rss(master):
    pids = master.wait_service_count("mupdate", 1)
    return rss_kb(pids[0])


def tool(master, name, *args, input=None, timeout=7200):
    """bin/<name> -C imapd.conf args, with no 60 s cap (1M lines)."""
    env = dict(os.environ)
    env["CYRUS_LOGFILE"] = master.logfile
    p = subprocess.run([harness.bin_path(name), "-C", master.imapd_conf]
                       + list(args), input=input, capture_output=True,
                       env=env, timeout=timeout)
    if p.returncode != 0:
        raise AssertionError("%s %s: exit %d\n%s" % (
            name, " ".join(args), p.returncode, p.stderr.decode()))
    return p


def backend_conf(port, user, pw, n):
    m = harness.Master(name="benchbe", imapd={
        "servername": "benchbe", "mupdate_server": "127.0.0.1:%d" % port,
        "mupdate_authname": user, "mupdate_password": pw})
    lines = "".join("user.u%07d\te\t\tdefault\t%s\n" % (i, ACL)
                    for i in range(n))
    tool(m, "ctl_mboxlist", "-u", input=lines.encode())
    return m


def replica_complete(slave, last):
    try:
        with slave.client() as c:
            return c.find(last) is not None
    except (OSError, EOFError, AssertionError):
        return False


def latency(master_port, user, pw, slave, rounds=20):
    out = []
    w = MupdateClient(master_port)
    w.authenticate(user, pw)
    r = slave.client()
    for i in range(rounds):
        name = "user.lat%03d" % i
        t0 = time.monotonic()
        w.cmd("ACTIVATE", name, "benchbe!default", ACL)
        while r.find(name) is None:
            time.sleep(0.002)
        out.append(time.monotonic() - t0)
    w.close()
    r.close()
    return statistics.median(out)


def push_python(port, user, pw, n, batch=2000):
    """ACTIVATE the same N entries, pipelined 2000 a round trip: our
    ctl_mboxlist -m sends all before reading, and Cyrus's master (one
    fsync per ACTIVATE) then stops reading and the push times out past
    ~10k."""
    c = MupdateClient(port, timeout=600)
    c.authenticate(user, pw)
    for i in range(0, n, batch):
        out = b""
        tags = []
        for j in range(i, min(n, i + batch)):
            c.ntag += 1
            tags.append("T%d" % c.ntag)
            out += tags[-1].encode() + b" ACTIVATE"
            for a in ("user.u%07d" % j, "benchbe!default", ACL):
                out += b" " + c.quote(a)
            out += b"\r\n"
        c.sock.sendall(out)
        for t in tags:
            st, text = c.read_response(t)
            assert st == "OK", (st, text)
    c.close()


def run(label, port, user, pw, n, master_pid_rss, python_push=False):
    be = backend_conf(port, user, pw, n)
    t0 = time.monotonic()
    if python_push:
        push_python(port, user, pw, n)
    else:
        tool(be, "ctl_mboxlist", "-m", "-a")
    push = time.monotonic() - t0
    slave = MupdateNode("benchslave", master_port=port,
                        imapd={"mupdate_authname": user,
                               "mupdate_password": pw,
                               "mupdate_retry_delay": "20"})
    t0 = time.monotonic()
    slave.master.start(ports=[slave.port], timeout=600)
    harness.wait_for(lambda: replica_complete(slave, "user.u%07d" % (n - 1)),
                     timeout=600, interval=0.2, what="replica")
    fresh = time.monotonic() - t0
    srss = service_rss(slave.master)
    mrss = master_pid_rss()
    lat = latency(port, user, pw, slave)
    slave.master.cleanup()
    shutil.rmtree(be.dir, True)
    print("| %s | %d | %.1f s | %.1f MB | %.1f s | %.1f MB | %.1f ms |" % (
        label, n, push, mrss / 1024, fresh, srss / 1024, lat * 1000))
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, nargs="+", default=[100000])
    ap.add_argument("--cyrus", type=int, nargs="*", default=None,
                    metavar="N", help="also Cyrus 3.6's master at these N "
                    "(default: the first -n)")
    args = ap.parse_args()
    print("| master | mailboxes | ctl_mboxlist -m | master peak RSS | fresh "
          "replica | replica peak RSS | ACTIVATE→replica |")
    print("|---|---|---|---|---|---|---|")
    for n in args.n:
        m = MupdateNode("benchmaster")
        m.start()
        try:
            run("ours", m.port, "cyrus", "cyrus-pw", n,
                lambda: service_rss(m.master))
        finally:
            m.master.cleanup()
    for n in ([args.n[0]] if args.cyrus == [] else args.cyrus or []):
        import cyruspeer
        peer = cyruspeer.CyrusPeer("murder")
        try:
            info = peer.start()
            port = info["mupdate"]["port"]

            def cyrus_rss():
                out = subprocess.run(["pgrep", "-f", "mupdate .*-m"],
                                     capture_output=True).stdout.split()
                return max(rss_kb(int(p)) for p in out)
            run("Cyrus 3.6", port, cyruspeer.PROXY[0], cyruspeer.PROXY[1],
                n, cyrus_rss, python_push=True)
        finally:
            peer.stop()
            shutil.rmtree(peer.dir, True)


if __name__ == "__main__":
    main()
