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
until the name shows), and the time for the replica, stopped while 100
changes are made, to be current again once started (our master: resync
by changes, XCHANGES; Cyrus's: a full UPDATE merge). Prints one Markdown
table row each. The push to Cyrus is the same ctl_mboxlist -m: its
windowed pipelining keeps Cyrus's master (which stops reading while its
output is full) from deadlocking it. --cyrus N runs
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


def hundred_changes(port, user, pw, n):
    """50 new names, 25 moved, 25 deleted, through the master."""
    c = MupdateClient(port, timeout=600)
    c.authenticate(user, pw)
    for i in range(50):
        c.cmd("ACTIVATE", "user.chg%03d" % i, "benchbe!default", ACL)
    for i in range(25):
        c.cmd("ACTIVATE", "user.u%07d" % i, "benchbe!other", ACL)
    for i in range(25):
        c.cmd("DELETE", "user.u%07d" % (n - 1 - i))
    c.close()


def replica_has_changes(slave, n):
    try:
        with slave.client() as c:
            return (c.find("user.chg049") is not None
                    and c.find("user.u%07d" % (n - 25)) is None)
    except (OSError, EOFError, AssertionError):
        return False


def reconnect(port, user, pw, n, slave):
    """Stop the replica, make 100 changes, start it: seconds until its
    sync is logged and the changes are there (ours: fetched by XCHANGES;
    against Cyrus's master, a full UPDATE merge), and what the slave
    logged: "changes" with the entries it got, or "full"."""
    done = r"synchronization complete( \(changes\))?: (\d+) entries"
    before = len(slave.master.wait_log(done))
    slave.master.stop(timeout=120)
    hundred_changes(port, user, pw, n)
    t0 = time.monotonic()
    slave.master.start(ports=[slave.port], timeout=600)
    m = slave.master.wait_log(done, timeout=600, count=before + 1)[-1]
    harness.wait_for(lambda: replica_has_changes(slave, n), timeout=600,
                     interval=0.01, what="changes on the replica")
    kind = "%s changes" % m.group(2) if m.group(1) else "full"
    return time.monotonic() - t0, kind


def run(label, port, user, pw, n, master_pid_rss):
    be = backend_conf(port, user, pw, n)
    t0 = time.monotonic()
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
    again, kind = reconnect(port, user, pw, n, slave)
    slave.master.cleanup()
    shutil.rmtree(be.dir, True)
    print("| %s | %d | %.1f s | %.1f MB | %.1f s | %.1f MB | %.1f ms | "
          "%.2f s (%s) |" % (label, n, push, mrss / 1024, fresh,
                             srss / 1024, lat * 1000, again, kind))
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, nargs="+", default=[100000])
    ap.add_argument("--cyrus", type=int, nargs="*", default=None,
                    metavar="N", help="also Cyrus 3.6's master at these N "
                    "(default: the first -n)")
    ap.add_argument("--changes-max", default=None, metavar="N",
                    help="our master's mupdate_changes_max (0: no change "
                    "log, so a restarted replica merges the full dump)")
    args = ap.parse_args()
    print("| master | mailboxes | ctl_mboxlist -m | master peak RSS | fresh "
          "replica | replica peak RSS | ACTIVATE→replica | replica restart, "
          "100 changes |")
    print("|---|---|---|---|---|---|---|---|")
    for n in args.n:
        m = MupdateNode("benchmaster", imapd=(
            {"mupdate_changes_max": args.changes_max}
            if args.changes_max is not None else None))
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
                n, cyrus_rss)
        finally:
            peer.stop()
            shutil.rmtree(peer.dir, True)


if __name__ == "__main__":
    main()
