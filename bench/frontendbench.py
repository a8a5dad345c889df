#!/usr/bin/env python3
"""Proxied against direct: our frontend and Cyrus 3.6's frontend, same run.

  bench/frontendbench.py --ours DIR --cyrus DIR [--before DIR]
                         [--messages N] [--lmtp N] [--idle N] [--repeat N]
                         [--rounds N] [--out FILE]

DIR holds a running murder: --ours from `tools/murder start` (murder.json),
--cyrus from `bench/cyruspeer.py start --mode murder` (peer.json).  User
alice lives on backend1 in both.  Measured:

  imap    the workload of bench/imapbench.py (the backend issue's) on four
          sessions at once: through each frontend and directly to the
          backend behind it.  The runs are interleaved so that load from
          elsewhere on a shared machine hits all four alike: APPEND goes
          in --rounds slices (slice r to every server in turn), every
          other step runs --repeat times, each time round the servers in
          a rotating order.  msg/s of the best and of the median run per
          step, proxied/direct ratios, and the CPU time of the processes
          involved in each run (/proc/PID/task/*/schedstat): the one
          serving the session, and for a proxied session the backend
          process behind the frontend
  lmtp    --lmtp deliveries of a 4 KB message to alice (no AUTH: each
          node's `lmtp -a` port), through the frontend and directly to
          backend1, in --rounds sessions going round the servers: msg/s of
          the best session, ratio
  idle    --idle sessions logged in to each frontend with INBOX selected (so
          the frontend holds a backend connection), left idle: RSS and PSS
          of the frontend processes serving them, per session

Prints a markdown report (also the JSON with --out).  Needs root (/proc of
the Cyrus processes).
"""
import argparse
import json
import os
import smtplib
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import imapbench  # noqa: E402

USER = ("alice", "alice-pw")


def load(d, name):
    with open(os.path.join(d, name)) as f:
        return json.load(f)


def targets(ours, cyrus):
    """{label: (imap port, lmtp port, imap port of backend1)} for the four
    servers."""
    def pick(info, role, name=None):
        nodes = info[role]
        n = nodes[0] if name is None else [x for x in nodes
                                           if x["name"] == name][0]
        b = [x for x in info["backends"] if x["name"] == "backend1"][0]
        return n["imap"], n["lmtp"], b["imap"]
    return {
        "ours-direct": pick(ours, "backends", "backend1"),
        "ours-proxied": pick(ours, "frontends"),
        "cyrus-direct": pick(cyrus, "backends", "backend1"),
        "cyrus-proxied": pick(cyrus, "frontends"),
    }


LABELS = ("ours-direct", "ours-proxied", "cyrus-direct", "cyrus-proxied")


class Target:
    """One logged-in session to one of the four servers, with the
    processes whose CPU time each step is charged to: the one serving the
    session (a backend when direct, the frontend when proxied) and, when
    proxied, the backend process behind that frontend."""

    def __init__(self, label, port, backend_port, stamp):
        self.label, self.port = label, port
        self.conn = imapbench.Conn("127.0.0.1", port)
        self.conn.login(*USER)
        self.mbox = imapbench.mailbox_name(
            self.conn, "fb%s%d" % (label.replace("-", ""), stamp))
        self.qm = self.conn.quote(self.mbox.encode())
        # a frontend that has not heard of the user's INBOX from its
        # mupdate master yet (just started) says NO: wait a little
        for attempt in range(40):
            st, _, _ = self.conn.cmd(b"CREATE " + self.qm, ok=False)
            if b" OK" in st[:12]:
                break
            if attempt == 0:
                # a server without the user's INBOX (as in imapbench.run)
                self.conn.cmd(b"CREATE INBOX", ok=False)
            time.sleep(0.25)
        else:
            raise imapbench.ImapError("CREATE %s: %r" % (self.mbox, st))
        self.pid = imapbench.server_pid(self.conn, port)
        self.backend_port = backend_port
        self.behind = None
        self.find_behind()

    def find_behind(self):
        # the frontend connects to the backend lazily (at CREATE/SELECT)
        if self.label.endswith("proxied") and self.pid and not self.behind:
            self.behind = imapbench.upstream_pid(self.pid, self.backend_port)

    def timed(self, fn):
        """Run fn; (wall seconds, CPU seconds of the serving process, CPU
        seconds of the backend behind it or None), result of fn."""
        c0 = imapbench.cpu_seconds(self.pid)
        b0 = imapbench.cpu_seconds(self.behind)
        t0 = time.perf_counter()
        res = fn()
        dt = time.perf_counter() - t0
        c1 = imapbench.cpu_seconds(self.pid)
        b1 = imapbench.cpu_seconds(self.behind)
        cpu = c1 - c0 if c0 is not None and c1 is not None else None
        beh = b1 - b0 if b0 is not None and b1 is not None else None
        return dt, cpu, beh, res

    def close(self):
        self.conn.cmd(b"CLOSE", ok=False)
        self.conn.cmd(b"DELETE " + self.qm, ok=False)
        self.conn.close()


def summarize(op, n, samples, **extra):
    """A row from [(wall, cpu, behind)] samples: rate from the fastest and
    from the median run, CPU (ms) of the median run's processes."""
    walls = sorted(x[0] for x in samples)
    best, med = walls[0], statistics.median(walls)

    def ms(i):
        v = [x[i] for x in samples if x[i] is not None]
        return round(statistics.median(v) * 1e3, 2) if v else None
    row = {"op": op, "messages": n, "runs": len(samples),
           "seconds": round(best, 4), "median_seconds": round(med, 4),
           "msgs_per_s": round(n / best, 1) if best > 0 else None,
           "median_msgs_per_s": round(n / med, 1) if med > 0 else None,
           "all_seconds": [round(x[0], 4) for x in samples],
           "cpu_ms": ms(1), "behind_cpu_ms": ms(2)}
    row.update(extra)
    return row


def imap_interleaved(t, args):
    """The imapbench workload on the four servers at once, interleaved:
    APPEND in --rounds slices (each slice to every server in turn), then
    each read step --repeat times, every repetition going round the
    servers (in a rotating order), so a burst of load from elsewhere on
    the machine hits all of them alike. STORE alternates +FLAGS and
    -FLAGS, so that every run changes every message and answers N FETCH
    lines."""
    gen = imapbench.MessageGen(42)
    n = args.messages
    msgs = [gen.message(i) for i in range(1, n + 1)]
    stamp = int(time.time())
    tg, res = {}, {}
    for label in t:
        port, bport = t[label][0], t[label][2]
        try:
            tg[label] = Target(label, port, bport, stamp)
        except (OSError, imapbench.ImapError) as e:
            res[label] = {"label": label, "error": str(e)}
    live = [lab for lab in t if lab in tg]
    rows = {lab: [] for lab in live}

    def rotate(k):
        return live[k % len(live):] + live[:k % len(live)]

    def run_step(op, count, make_fn, reps, **extra):
        samples = {lab: [] for lab in live}
        results = {}
        for k in range(reps):
            for lab in rotate(k):
                fn = make_fn(tg[lab], k)
                try:
                    dt, cpu, beh, r = tg[lab].timed(fn)
                except (OSError, imapbench.ImapError) as e:
                    res.setdefault(lab, {"label": lab})["error"] = str(e)
                    continue
                samples[lab].append((dt, cpu, beh))
                results[lab] = r
        for lab in live:
            if samples[lab]:
                ex = {k: (v(results.get(lab)) if callable(v) else v)
                      for k, v in extra.items()}
                rows[lab].append(summarize(op, count, samples[lab], **ex))

    # APPEND, pipelined, in slices
    rounds = max(1, min(args.rounds, n))
    bounds = [n * r // rounds for r in range(rounds + 1)]
    per = {lab: [] for lab in live}
    for r in range(rounds):
        part = msgs[bounds[r]:bounds[r + 1]]
        for lab in rotate(r):
            c = tg[lab].conn
            try:
                dt, cpu, beh, ok = tg[lab].timed(
                    lambda c=c, part=part, lab=lab: c.append_many(tg[lab].mbox,
                                                                  part))
            except (OSError, imapbench.ImapError) as e:
                res.setdefault(lab, {"label": lab})["error"] = str(e)
                continue
            # normalised to the whole run's size, so rows compare
            scale = n / len(part)
            per[lab].append((dt * scale, cpu * scale if cpu is not None
                             else None, beh * scale if beh is not None
                             else None))
    for lab in live:
        if per[lab]:
            rows[lab].append(summarize("append", n, per[lab],
                                       pipelined=b"LITERAL+" in tg[lab].conn.caps))
        try:
            _, _, lines = tg[lab].conn.cmd(b"SELECT " + tg[lab].qm)
        except (OSError, imapbench.ImapError) as e:
            res.setdefault(lab, {"label": lab})["error"] = str(e)
        tg[lab].find_behind()

    def cmd(text, keep=False):
        return lambda tgt, k: (lambda: tgt.conn.cmd(text, keep)[1])

    run_step("fetch_flags", n, cmd(b"FETCH 1:* (FLAGS)"), args.repeat,
             responses=lambda r: r)
    run_step("fetch_envelope", n, cmd(b"FETCH 1:* (ENVELOPE)"), args.repeat,
             responses=lambda r: r)
    k = max(1, min(n // 10, n))
    sample = sorted(set(1 + (j * n) // k for j in range(k)))
    run_step("fetch_body", len(sample),
             cmd(b"FETCH " + imapbench.seqset(sample).encode() + b" (BODY[])"),
             args.repeat, responses=lambda r: r)
    expected = gen.expected(n)
    for op, crit in (("search_subject", b'SUBJECT "%s"' % imapbench.SUBJECT_MARK.encode()),
                     ("search_from", b'FROM "%s"' % imapbench.FROM_MARK.encode()),
                     ("search_body", b'BODY "%s"' % imapbench.BODY_MARK.encode())):
        def search(tgt, k, crit=crit):
            def fn():
                _, _, lines = tgt.conn.cmd(b"UID SEARCH " + crit)
                return sum(len(ln.split()) - 2 for ln in lines
                           if ln.upper().startswith(b"* SEARCH"))
            return fn
        run_step(op, n, search, args.repeat, hits=lambda r: r,
                 expected_hits=expected[op])

    def store(tgt, k):
        sign = b"+" if k % 2 == 0 else b"-"
        return lambda: tgt.conn.cmd(b"STORE 1:* " + sign + b"FLAGS (\\Flagged)")[1]
    run_step("store", n, store, args.repeat, responses=lambda r: r)
    for lab in live:
        try:
            tg[lab].close()
        except (OSError, imapbench.ImapError):
            pass
        res.setdefault(lab, {"label": lab})
        res[lab]["rows"] = rows[lab]
        res[lab]["pid"] = tg[lab].pid
        res[lab]["behind_pid"] = tg[lab].behind
    return res


def lmtp_session(port, body, n):
    """n deliveries in one LMTP session: (seconds, ok, failed, error)."""
    ok = fail = 0
    t0 = time.perf_counter()
    try:
        with smtplib.LMTP("127.0.0.1", port, timeout=60) as s:
            for _ in range(n):
                try:
                    if s.sendmail("bench@example.org", [USER[0]], body) == {}:
                        ok += 1
                    else:
                        fail += 1
                except smtplib.SMTPException:
                    fail += 1
                    s.rset()
    except (OSError, smtplib.SMTPException) as e:
        return time.perf_counter() - t0, ok, n - ok, str(e)
    return time.perf_counter() - t0, ok, fail, None


def lmtp_interleaved(t, args):
    """--lmtp deliveries to each server, in --rounds sessions that go
    round the four servers in turn; the rate is the best session's."""
    body = imapbench.MessageGen(7).message(1)
    body = body[:4096] if len(body) > 4096 else body + b"x" * (4096 - len(body))
    body = body.replace(b"\r\n.", b"\r\n..")
    rounds = max(1, min(args.rounds, args.lmtp))
    labels = list(t)
    out = {lab: {"ok": 0, "failed": 0, "rates": []} for lab in labels}
    for r in range(rounds):
        count = args.lmtp * (r + 1) // rounds - args.lmtp * r // rounds
        k = r % len(labels)
        for lab in labels[k:] + labels[:k]:
            dt, ok, fail, err = lmtp_session(t[lab][1], body, count)
            o = out[lab]
            o["ok"] += ok
            o["failed"] += fail
            if err:
                o["error"] = err
            if ok and not fail:
                o["rates"].append(round(ok / dt, 1))
    for o in out.values():
        o["msgs_per_s"] = max(o["rates"]) if o["rates"] else 0
        o["median_msgs_per_s"] = (statistics.median(o["rates"])
                                  if o["rates"] else 0)
    return out


def idle_run(port, n):
    conns, pids = [], set()
    try:
        for _ in range(n):
            c = imapbench.Conn("127.0.0.1", port)
            c.login(*USER)
            c.cmd(b"SELECT INBOX")
            conns.append(c)
        time.sleep(0.5)
        for c in conns:
            pid = imapbench.server_pid(c, port)
            if pid:
                pids.add(pid)
        mem = [imapbench.proc_memory(p) for p in pids]
        rss = sum(m["rss_kb"] for m in mem)
        pss = sum(m["pss_kb"] for m in mem)
        return {"sessions": n, "processes": len(pids),
                "rss_kb_per_session": round(rss / n) if n else 0,
                "pss_kb_per_session": round(pss / n) if n else 0}
    except (OSError, imapbench.ImapError) as e:
        return {"sessions": len(conns), "error": str(e)}
    finally:
        for c in conns:
            c.close()


def ratio(a, b):
    return "%.2f" % (a / b) if a and b else "-"


def fmt(x, nd=0):
    return ("%%.%df" % nd) % x if x else "-"


def report(res):
    imap = res["imap"]

    def get(label, op):
        r = imap.get(label, {})
        return next((x for x in r.get("rows", []) if x["op"] == op), None)
    out = ["Rates in messages/s (best of the runs; median-run ratios in "
           "brackets), interleaved runs.", "",
           "| step | ours direct | ours proxied | ours prox/dir | "
           "cyrus direct | cyrus proxied | cyrus prox/dir | "
           "ours prox / cyrus prox |", "|" + "---|" * 8]
    ops = [x["op"] for x in imap.get("ours-direct", {}).get("rows", [])]
    for op in ops:
        rows = [get(lab, op) for lab in LABELS]
        v = [r["msgs_per_s"] if r else None for r in rows]
        m = [r["median_msgs_per_s"] if r else None for r in rows]
        out.append("| %s | %s | %s | %s (%s) | %s | %s | %s (%s) | %s (%s) |" % (
            op, fmt(v[0]), fmt(v[1]), ratio(v[1], v[0]), ratio(m[1], m[0]),
            fmt(v[2]), fmt(v[3]), ratio(v[3], v[2]), ratio(m[3], m[2]),
            ratio(v[1], v[3]), ratio(m[1], m[3])))
    lm = res["lmtp"]
    v = [lm[k].get("msgs_per_s") for k in LABELS]
    m = [lm[k].get("median_msgs_per_s") for k in LABELS]
    out.append("| lmtp 4 KB | %s | %s | %s (%s) | %s | %s | %s (%s) | %s (%s) |" % (
        fmt(v[0], 1), fmt(v[1], 1), ratio(v[1], v[0]), ratio(m[1], m[0]),
        fmt(v[2], 1), fmt(v[3], 1), ratio(v[3], v[2]), ratio(m[3], m[2]),
        ratio(v[1], v[3]), ratio(m[1], m[3])))
    if "before-direct" in imap:
        out += ["", "The tree before this change, same run (its own murder, "
                "interleaved with the others): rates in messages/s (best "
                "run), proxied/direct of the best and (median) runs, and "
                "the frontend's CPU ms per median run.", "",
                "| step | before direct | before proxied | before prox/dir | "
                "after prox/dir | before frontend CPU | after frontend CPU |",
                "|" + "---|" * 7]
        for op in ops:
            b = [get(lab, op) for lab in ("before-direct", "before-proxied",
                                          "ours-direct", "ours-proxied")]
            if not all(b):
                continue
            out.append("| %s | %s | %s | %s (%s) | %s (%s) | %s | %s |" % (
                op, fmt(b[0]["msgs_per_s"]), fmt(b[1]["msgs_per_s"]),
                ratio(b[1]["msgs_per_s"], b[0]["msgs_per_s"]),
                ratio(b[1]["median_msgs_per_s"], b[0]["median_msgs_per_s"]),
                ratio(b[3]["msgs_per_s"], b[2]["msgs_per_s"]),
                ratio(b[3]["median_msgs_per_s"], b[2]["median_msgs_per_s"]),
                fmt(b[1]["cpu_ms"], 2), fmt(b[3]["cpu_ms"], 2)))
        if "before-direct" in lm:
            v = [lm[k].get("msgs_per_s") for k in ("before-direct",
                                                   "before-proxied")]
            out.append("| lmtp 4 KB | %s | %s | %s | %s | - | - |" % (
                fmt(v[0], 1), fmt(v[1], 1), ratio(v[1], v[0]),
                ratio(lm["ours-proxied"].get("msgs_per_s"),
                      lm["ours-direct"].get("msgs_per_s"))))
    out += ["", "CPU per run (ms, median run): the process serving the "
            "session (backend when direct, frontend when proxied) and, when "
            "proxied, the backend process behind the frontend; wall = median "
            "run's elapsed ms.", "",
            "| step | ours direct: backend / wall | ours proxied: frontend + "
            "backend / wall | cyrus direct: backend / wall | cyrus proxied: "
            "frontend + backend / wall |", "|" + "---|" * 5]
    for op in ops:
        cells = [op]
        for lab in LABELS:
            r = get(lab, op)
            if not r:
                cells.append("-")
                continue
            wall = r["median_seconds"] * 1e3
            if lab.endswith("proxied"):
                cells.append("%s + %s / %.1f" % (fmt(r["cpu_ms"], 1),
                                                 fmt(r["behind_cpu_ms"], 1),
                                                 wall))
            else:
                cells.append("%s / %.1f" % (fmt(r["cpu_ms"], 1), wall))
        out.append("| " + " | ".join(cells) + " |")
    out.append("")
    before = "before" in res["idle"]
    out.append("| idle proxied session | ours | cyrus | ours/cyrus |"
               + (" before |" if before else ""))
    out.append("|---|---|---|---|" + ("---|" if before else ""))
    for key in ("rss_kb_per_session", "pss_kb_per_session"):
        a = res["idle"]["ours"].get(key)
        b = res["idle"]["cyrus"].get(key)
        out.append("| %s | %s | %s | %s |" % (key, a or "-", b or "-",
                                              ratio(a, b))
                   + (" %s |" % (res["idle"]["before"].get(key) or "-")
                      if before else ""))
    notes = []
    for lab, r in sorted(imap.items()):
        if "error" in r:
            notes.append("imap %s failed: %s" % (lab, r["error"].strip()[-200:]))
        for x in r.get("rows", []):
            if "expected_hits" in x and x.get("hits") != x["expected_hits"]:
                notes.append("%s: %s found %s, expected %d" % (
                    lab, x["op"], x.get("hits"), x["expected_hits"]))
    for lab, r in sorted(lm.items()):
        if r.get("failed"):
            notes.append("lmtp %s: %d of %d deliveries failed%s" % (
                lab, r["failed"], r["failed"] + r["ok"],
                " (%s)" % r["error"] if r.get("error") else ""))
    for lab, r in sorted(res["idle"].items()):
        if "error" in r:
            notes.append("idle %s: %s" % (lab, r["error"]))
    return "\n".join(out) + "\n" + "".join("\n* " + n for n in notes) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(prog="frontendbench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ours", required=True)
    ap.add_argument("--cyrus", required=True)
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=5,
                    help="runs of each read step and of STORE")
    ap.add_argument("--rounds", type=int, default=3,
                    help="slices of the APPEND and LMTP work")
    ap.add_argument("--lmtp", type=int, default=300)
    ap.add_argument("--idle", type=int, default=20)
    ap.add_argument("--before", metavar="DIR",
                    help="a second murder of ours (tools/murder, another "
                    "tree), run alongside as before-direct/before-proxied")
    ap.add_argument("--out")
    args = ap.parse_args(argv)
    t = targets(load(args.ours, "murder.json"), load(args.cyrus, "peer.json"))
    if args.before:
        b = targets(load(args.before, "murder.json"),
                    load(args.cyrus, "peer.json"))
        t["before-direct"] = b["ours-direct"]
        t["before-proxied"] = b["ours-proxied"]
    res = {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
           "messages": args.messages, "lmtp_messages": args.lmtp,
           "repeat": args.repeat, "rounds": args.rounds,
           "idle_sessions": args.idle, "imap": {}, "lmtp": {}, "idle": {}}
    res["imap"] = imap_interleaved(t, args)
    res["lmtp"] = lmtp_interleaved(t, args)
    res["idle"]["ours"] = idle_run(t["ours-proxied"][0], args.idle)
    res["idle"]["cyrus"] = idle_run(t["cyrus-proxied"][0], args.idle)
    if args.before:
        res["idle"]["before"] = idle_run(t["before-proxied"][0], args.idle)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(res, f, indent=1)
    sys.stdout.write(report(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
