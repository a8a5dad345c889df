#!/usr/bin/env python3
"""lmtpbench.py: LMTP delivery and POP3 RETR throughput, Debian's Cyrus
lmtpd/pop3d (bench/cyruspeer.py, single) side by side with ours (one
backend node of tests/backend.py: master + imapd + pop3d + lmtpd -a) in
the same run, both with their durable defaults.

    bench/lmtpbench.py [--messages 2000] [--size 4096] [--conc 1,8]
        [--rounds 1] [--servers cyrus,ours] [--no-pop3] [--out FILE.json]
    bench/lmtpbench.py --compare FILE.json      # markdown table

Both servers run at once; for each concurrency the servers take turns
(Cyrus first), then POP3 for each. Per server and concurrency C:

  lmtp_cC  Postfix's `smtp-source -L -s C -m N -l SIZE -f a@x -t USER
           127.0.0.1:PORT` (one connection per message, C at a time) into
           a fresh INBOX (alice for the first concurrency, carol for the
           second, bob for a third); the INBOX's message count is read
           over IMAP before and after, and every message must be there
           (the run fails otherwise). deliveries/s = N / wall time.
           With --rounds R the N messages go in R smtp-source runs of
           about N/R each, the servers taking turns round by round (the
           first server alternating), and the wall times are added: on a
           machine shared with other jobs a slow spell of the disk then
           hits both servers alike instead of one whole row.
  pop3     poplib as alice (the N-message maildrop of the first run):
           STAT, then RETR of every message over one connection, then
           QUIT without DELE. messages/s and MB/s of message bytes.

Needs root (Cyrus's master drops to the cyrus user), Debian's
cyrus-imapd/cyrus-pop3d (see bench/README.md), postfix (smtp-source), and
our build (CYRUS_BUILD, default build/).
"""
import argparse
import contextlib
import imaplib
import json
import os
import platform
import poplib
import re
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "bench"))
sys.path.insert(0, os.path.join(TOP, "tests"))

USERS = ("alice", "carol", "bob")


class BenchError(Exception):
    pass


def inbox_count(host, port, user, password):
    c = imaplib.IMAP4(host, port, timeout=60)
    try:
        c.login(user, password)
        typ, data = c.select("INBOX", readonly=True)
        if typ != "OK":
            raise BenchError("SELECT INBOX as %s: %s" % (user, data))
        return int(data[0])
    finally:
        try:
            c.logout()
        except Exception:
            pass


def lmtp_rounds(srvs, conc, user, messages, size, rounds):
    """One lmtp_cC row per server: messages in `rounds` smtp-source runs,
    the servers taking turns each round. Returns {label: row}."""
    import postfix

    host = "127.0.0.1"
    before, seconds = {}, {}
    for srv in srvs:
        before[srv["label"]] = inbox_count(host, srv["imap"], user,
                                           srv["password"](user))
        seconds[srv["label"]] = 0.0
    for r in range(rounds):
        n = messages // rounds + (1 if r < messages % rounds else 0)
        order = srvs if r % 2 == 0 else list(reversed(srvs))
        for srv in order:
            seconds[srv["label"]] += postfix.smtp_source(
                (host, srv["lmtp"]), conc, n, size, "a@x", user, lmtp=True,
                timeout=3600)
    rows = {}
    for srv in srvs:
        label = srv["label"]
        # delivery is acknowledged before smtp-source returns
        got = inbox_count(host, srv["imap"], user,
                          srv["password"](user)) - before[label]
        if got != messages:
            raise BenchError("%s: %d messages delivered to %s, %d expected"
                             % (label, got, user, messages))
        elapsed = seconds[label]
        rows[label] = {"row": "lmtp_c%d" % conc, "concurrency": conc,
                       "user": user, "messages": messages, "size": size,
                       "rounds": rounds, "seconds": round(elapsed, 3),
                       "rate": round(messages / elapsed, 1),
                       "unit": "deliveries/s", "delivered": got}
    return rows


def pop3_run(srv, user, expect):
    p = poplib.POP3("127.0.0.1", srv["pop3"], timeout=60)
    try:
        p.user(user)
        p.pass_(srv["password"](user))
        count, _ = p.stat()
        if count != expect:
            raise BenchError("%s: POP3 maildrop of %s has %d messages, %d "
                             "expected" % (srv["label"], user, count, expect))
        nbytes = 0
        t0 = time.monotonic()
        for i in range(1, count + 1):
            _, lines, octets = p.retr(i)
            if not lines:
                raise BenchError("%s: RETR %d: empty" % (srv["label"], i))
            nbytes += octets
        elapsed = time.monotonic() - t0
        p.quit()
    except Exception:
        p.close()
        raise
    return {"row": "pop3_retr", "messages": count, "bytes": nbytes,
            "seconds": round(elapsed, 3), "rate": round(count / elapsed, 1),
            "unit": "messages/s",
            "mb_per_s": round(nbytes / elapsed / 1e6, 2)}


def run_all(srvs, args):
    """Every row for every server, the servers taking turns row by row so
    that a slow spell of the (shared) disk hits both alike."""
    rows = {srv["label"]: [] for srv in srvs}
    concs = [int(c) for c in args.conc.split(",")]
    if len(concs) > len(USERS):
        raise BenchError("at most %d concurrencies" % len(USERS))
    for conc, user in zip(concs, USERS):
        print("lmtpbench: %s: smtp-source -L -s %d -m %d -l %d -> %s in %d "
              "round(s)" % (",".join(s["label"] for s in srvs), conc,
                            args.messages, args.size, user, args.rounds),
              file=sys.stderr)
        got = lmtp_rounds(srvs, conc, user, args.messages, args.size,
                          args.rounds)
        for srv in srvs:
            rows[srv["label"]].append(got[srv["label"]])
    for srv in srvs if args.pop3 else []:
        print("lmtpbench: %s: POP3 RETR x %d" % (srv["label"], args.messages),
              file=sys.stderr)
        rows[srv["label"]].append(pop3_run(srv, USERS[0], args.messages))
    return [{"label": srv["label"], "rows": rows[srv["label"]]}
            for srv in srvs]


@contextlib.contextmanager
def cyrus_server():
    import cyruspeer

    with cyruspeer.CyrusPeer("single") as peer:
        b = peer.info["backends"][0]
        pw = {u["user"]: u["password"] for u in peer.info["users"]}
        yield {"label": "cyrus", "imap": b["imap"], "pop3": b["pop3"],
               "lmtp": b["lmtp"], "password": lambda u: pw[u]}


@contextlib.contextmanager
def our_server():
    import backend

    node = backend.Backend(name="lmtpbench",
                           services=("imap", "pop3", "lmtp"))
    try:
        node.start()
        for svc in ("pop3", "lmtp"):
            if svc not in node.ports:
                raise BenchError("ours: %s not built" % svc)
        yield {"label": "ours", "imap": node.ports["imap"],
               "pop3": node.ports["pop3"], "lmtp": node.ports["lmtp"],
               "password": backend.password}
    finally:
        node.stop()
        node.cleanup()


def machine():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"model name\s*:\s*(.*)", f.read())
            cpu = m.group(1) if m else cpu
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release()}


def compare(results):
    by = {r["label"]: {row["row"]: row for row in r["rows"]}
          for r in results["servers"]}
    names = []
    for r in results["servers"]:
        for row in r["rows"]:
            if row["row"] not in names:
                names.append(row["row"])
    out = ["| row | what | cyrus | ours | ours/cyrus |",
           "| --- | --- | --- | --- | --- |"]
    for name in names:
        c, o = by.get("cyrus", {}).get(name), by.get("ours", {}).get(name)
        ref = c or o
        if name.startswith("lmtp"):
            what = "LMTP, %d at a time, %d x %d B" % (
                ref["concurrency"], ref["messages"], ref["size"])
            if ref.get("rounds", 1) > 1:
                what += ", %d rounds" % ref["rounds"]
        else:
            what = "POP3 RETR of %d messages" % ref["messages"]

        def cell(row):
            if row is None:
                return "-"
            s = "%s %s (%.1f s)" % (row["rate"], row["unit"], row["seconds"])
            if "mb_per_s" in row:
                s += ", %s MB/s" % row["mb_per_s"]
            return s
        ratio = "%.2fx" % (o["rate"] / c["rate"]) if c and o else "-"
        out.append("| %s | %s | %s | %s | %s |" % (name, what, cell(c),
                                                   cell(o), ratio))
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--conc", default="1,8")
    ap.add_argument("--rounds", type=int, default=1,
                    help="split each LMTP row into this many turns")
    ap.add_argument("--servers", default="cyrus,ours")
    ap.add_argument("--no-pop3", dest="pop3", action="store_false",
                    help="LMTP rows only")
    ap.add_argument("--out")
    ap.add_argument("--compare", metavar="JSON")
    args = ap.parse_args()
    if args.compare:
        with open(args.compare) as f:
            print(compare(json.load(f)))
        return 0
    results = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
               "machine": machine(), "messages": args.messages,
               "size": args.size, "servers": []}
    with contextlib.ExitStack() as stack:
        srvs = [stack.enter_context({"cyrus": cyrus_server,
                                     "ours": our_server}[name]())
                for name in args.servers.split(",")]
        results["servers"] = run_all(srvs, args)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=1)
    print(compare(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
