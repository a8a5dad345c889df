#!/usr/bin/env python3
"""lmtp_syncs.py: what one LMTP delivery costs the disk, ours and Debian's
Cyrus 3.6 lmtpd side by side (one 4 KB message, one recipient, one
connection, as `smtp-source -L -s 1` sends it).

    bench/lmtp_syncs.py [--messages 20] [--servers cyrus,ours]
                        [--jbd2 /proc/fs/jbd2/DEV/info --disk DEV]

Two counts per delivery:

  syscalls  strace -f on the server's master and its lmtpd processes while
            N deliveries run: fsync, fdatasync, sync_file_range, link,
            unlink, creating opens (needs strace).
  journal   with --jbd2: commits of the ext4 journal whose info file is
            given, and (with --disk, e.g. loop0) flush requests the block
            device completed (/sys/block/DEV/stat), during N deliveries
            without strace. Run with TMPDIR on that filesystem, alone on it
            (a loop-mounted image is best), so that both servers' spools
            and databases live there and nothing else writes to it:

      truncate -s 300M /tmp/fs.img && mkfs.ext4 -q -F /tmp/fs.img
      mkdir -p /tmp/mnt && mount -o loop /tmp/fs.img /tmp/mnt
      chmod 1777 /tmp/mnt
      TMPDIR=/tmp/mnt bench/lmtp_syncs.py --messages 500 \\
          --jbd2 /proc/fs/jbd2/loop0-8/info --disk loop0

Needs root (Cyrus's master drops to the cyrus user), Debian's cyrus-imapd,
postfix (smtp-source) and our build (CYRUS_BUILD, default build/).
"""
import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "bench"))
sys.path.insert(0, os.path.join(TOP, "tests"))

COUNTED = ("fsync", "fdatasync", "sync_file_range", "link", "unlink")


def children(ppid, name):
    """Pids of processes called name whose parent is ppid."""
    found = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % p) as f:
                comm, rest = f.read().rsplit(")", 1)
        except OSError:
            continue
        if comm.split("(", 1)[1] == name and int(rest.split()[1]) == ppid:
            found.append(int(p))
    return found


def deliver(port, n):
    import postfix

    return postfix.smtp_source(("127.0.0.1", port), 1, n, 4096, "a@x",
                               "alice", lmtp=True, timeout=600)


def count_syscalls(master_pid, port, n):
    pids = [master_pid] + children(master_pid, "lmtpd")
    with tempfile.NamedTemporaryFile(prefix="lmtp_syncs.") as out:
        argv = ["strace", "-f", "-qq", "-o", out.name, "-e",
                "trace=fsync,fdatasync,sync_file_range,link,unlink,openat"]
        for p in pids:
            argv += ["-p", str(p)]
        st = subprocess.Popen(argv, stderr=subprocess.DEVNULL)
        time.sleep(1.5)  # attached
        deliver(port, n)
        time.sleep(0.5)
        st.terminate()
        st.wait()
        counts = collections.Counter()
        with open(out.name) as f:
            for line in f:
                m = re.match(r"\d+\s+(\w+)\((.*)", line)
                if m is None:
                    continue
                name, args = m.groups()
                if name in COUNTED:
                    counts[name] += 1
                elif name == "openat" and "O_CREAT" in args:
                    counts["open(O_CREAT)"] += 1
    return {k: round(v / n, 2) for k, v in sorted(counts.items())}


def journal(args, port):
    def commits():
        with open(args.jbd2) as f:
            return int(f.readline().split()[0])

    def flushes():
        if not args.disk:
            return 0
        with open("/sys/block/%s/stat" % args.disk) as f:
            fields = f.read().split()
        return int(fields[15]) if len(fields) > 15 else 0

    time.sleep(6)  # past the periodic journal commit (commit=5)
    c0, f0 = commits(), flushes()
    secs = deliver(port, args.messages)
    c1, f1 = commits(), flushes()
    res = {"journal commits": round((c1 - c0) / args.messages, 2),
           "deliveries/s": round(args.messages / secs, 1)}
    if args.disk:
        res["device flushes"] = round((f1 - f0) / args.messages, 2)
    return res


def measure(label, master_pid, port, args):
    deliver(port, 3)  # warm: processes forked, databases open
    row = {"syscalls": count_syscalls(master_pid, port, args.messages)}
    if args.jbd2:
        row["journal"] = journal(args, port)
    print("%s: per delivery %s" % (label, row), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", type=int, default=20)
    ap.add_argument("--servers", default="cyrus,ours")
    ap.add_argument("--jbd2", help="/proc/fs/jbd2/<dev>/info")
    ap.add_argument("--disk", help="block device name for flush counts")
    args = ap.parse_args()
    for name in args.servers.split(","):
        if name == "ours":
            import backend

            node = backend.Backend(name="lmtpsyncs",
                                   services=("imap", "lmtp"))
            try:
                node.start()
                measure("ours", node.master.pid, node.ports["lmtp"], args)
            finally:
                node.stop()
                node.cleanup()
        elif name == "cyrus":
            import cyruspeer

            with cyruspeer.CyrusPeer("single") as peer:
                d = peer.info["dir"].encode()
                masters = [int(p) for p in os.listdir("/proc")
                           if p.isdigit() and _cmdline_has(p, d, b"master")]
                measure("cyrus", masters[0], peer.info["backends"][0]["lmtp"],
                        args)
    return 0


def _cmdline_has(pid, needle, prog):
    try:
        with open("/proc/%s/cmdline" % pid, "rb") as f:
            argv = f.read().split(b"\0")
    except OSError:
        return False
    return bool(argv) and os.path.basename(argv[0]) == prog and any(
        needle in a for a in argv)


if __name__ == "__main__":
    sys.exit(main())
