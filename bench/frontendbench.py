#!/usr/bin/env python3
"""Proxied against direct: our frontend and Cyrus 3.6's frontend, same run.

  bench/frontendbench.py --ours DIR --cyrus DIR [--messages N] [--lmtp N]
                         [--idle N] [--out FILE]

DIR holds a running murder: --ours from `tools/murder start` (murder.json),
--cyrus from `bench/cyruspeer.py start --mode murder` (peer.json).  User
alice lives on backend1 in both.  Measured:

  imap    bench/imapbench.py (the backend issue's workload) through each
          frontend and directly to the backend behind it: msg/s per step,
          proxied/direct ratio
  lmtp    --lmtp deliveries of a 4 KB message to alice in one LMTP session
          (no AUTH: each node's `lmtp -a` port), through the frontend and
          directly to backend1: msg/s, ratio
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
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import imapbench  # noqa: E402

USER = ("alice", "alice-pw")


def load(d, name):
    with open(os.path.join(d, name)) as f:
        return json.load(f)


def targets(ours, cyrus):
    """{label: (imap port, lmtp port)} for the four servers."""
    def pick(info, role, name=None):
        nodes = info[role]
        n = nodes[0] if name is None else [x for x in nodes
                                           if x["name"] == name][0]
        return n["imap"], n["lmtp"]
    return {
        "ours-direct": pick(ours, "backends", "backend1"),
        "ours-proxied": pick(ours, "frontends"),
        "cyrus-direct": pick(cyrus, "backends", "backend1"),
        "cyrus-proxied": pick(cyrus, "frontends"),
    }


def imap_run(label, port, args, tmp):
    out = os.path.join(tmp, "%s.json" % label)
    cmd = [sys.executable, os.path.join(HERE, "imapbench.py"), "--port",
           str(port), "--user", USER[0], "--password", USER[1], "--messages",
           str(args.messages), "--sample", str(max(1, args.messages // 10)),
           "--repeat", str(args.repeat), "--label", label, "--no-rss",
           "--mailbox", "fb%s%d" % (label.replace("-", ""), int(time.time())),
           "--out", out]
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if p.returncode != 0:
        return {"label": label, "error": p.stderr.decode(errors="replace")}
    with open(out) as f:
        return json.load(f)


def lmtp_run(port, n):
    body = imapbench.MessageGen(7).message(1)
    body = body[:4096] if len(body) > 4096 else body + b"x" * (4096 - len(body))
    body = body.replace(b"\r\n.", b"\r\n..")
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
        return {"ok": ok, "failed": n - ok, "error": str(e)}
    dt = time.perf_counter() - t0
    return {"ok": ok, "failed": fail, "seconds": round(dt, 3),
            "msgs_per_s": round(ok / dt, 1) if ok else 0}


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


def report(res):
    imap = res["imap"]
    out = ["| step | ours direct | ours proxied | ours prox/dir | "
           "cyrus direct | cyrus proxied | cyrus prox/dir | "
           "ours prox / cyrus prox |", "|" + "---|" * 8]

    def rate(label, op):
        r = imap.get(label, {})
        x = next((x for x in r.get("rows", []) if x["op"] == op), None)
        return x["msgs_per_s"] if x else None
    ops = [x["op"] for x in imap.get("ours-direct", {}).get("rows", [])]
    for op in ops:
        v = [rate(lab, op) for lab in ("ours-direct", "ours-proxied",
                                       "cyrus-direct", "cyrus-proxied")]
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            op, *("%.0f" % x if x else "-" for x in v[:2]), ratio(v[1], v[0]),
            *("%.0f" % x if x else "-" for x in v[2:]), ratio(v[3], v[2]),
            ratio(v[1], v[3])))
    lm = res["lmtp"]
    v = [lm[k].get("msgs_per_s") for k in ("ours-direct", "ours-proxied",
                                           "cyrus-direct", "cyrus-proxied")]
    out.append("| lmtp 4 KB | %s | %s | %s | %s | %s | %s | %s |" % (
        *(str(x) if x else "-" for x in v[:2]), ratio(v[1], v[0]),
        *(str(x) if x else "-" for x in v[2:]), ratio(v[3], v[2]),
        ratio(v[1], v[3])))
    out.append("")
    out.append("| idle proxied session | ours | cyrus | ours/cyrus |")
    out.append("|---|---|---|---|")
    for key in ("rss_kb_per_session", "pss_kb_per_session"):
        a = res["idle"]["ours"].get(key)
        b = res["idle"]["cyrus"].get(key)
        out.append("| %s | %s | %s | %s |" % (key, a or "-", b or "-",
                                              ratio(a, b)))
    notes = []
    for lab, r in sorted(imap.items()):
        if "error" in r:
            notes.append("imap %s failed: %s" % (lab, r["error"].strip()[-200:]))
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
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--lmtp", type=int, default=300)
    ap.add_argument("--idle", type=int, default=20)
    ap.add_argument("--out")
    args = ap.parse_args(argv)
    t = targets(load(args.ours, "murder.json"), load(args.cyrus, "peer.json"))
    res = {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
           "messages": args.messages, "lmtp_messages": args.lmtp,
           "idle_sessions": args.idle, "imap": {}, "lmtp": {}, "idle": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for label, (iport, _) in t.items():
            res["imap"][label] = imap_run(label, iport, args, tmp)
    for label, (_, lport) in t.items():
        res["lmtp"][label] = lmtp_run(lport, args.lmtp)
    res["idle"]["ours"] = idle_run(t["ours-proxied"][0], args.idle)
    res["idle"]["cyrus"] = idle_run(t["cyrus-proxied"][0], args.idle)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(res, f, indent=1)
    sys.stdout.write(report(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
