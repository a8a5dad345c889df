"""xfer_bench.py: time XFER of one N-message user between two of our
backends (tests/test_xfer.py topology), without and with concurrent LMTP
load to that user.

    CYRUS_BUILD=$PWD/build python3 bench/xfer_bench.py [N]   # default 10000

Fills user.alice (and user.bob for the loaded run) on be1 with MULTIAPPEND
batches of 200, then XFERs to be2 and prints seconds and messages/s.
"""
import os
import smtplib
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
import test_xfer  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 10000


def multiappend(port, user, n):
    s = socket.create_connection(("127.0.0.1", port))
    f = s.makefile("rb")
    f.readline()
    s.sendall(b"a LOGIN %s %s-pw\r\n" % (user.encode(), user.encode()))
    while not f.readline().startswith(b"a "):
        pass
    i = 0
    while i < n:
        parts = [b"b APPEND INBOX"]
        for j in range(i, min(n, i + 200)):
            m = test_xfer.msg(j, "bench")
            parts.append(b" (\\Seen) {%d+}\r\n" % len(m) + m)
        s.sendall(b"".join(parts) + b"\r\n")
        while True:
            line = f.readline()
            if line.startswith(b"b "):
                assert line.startswith(b"b OK"), line
                break
        i += 200
    s.close()


def run():
    t = test_xfer.TestXfer("test_1_user_with_folders")
    test_xfer.TestXfer.setUpClass()
    cls = test_xfer.TestXfer
    try:
        port = cls.be["be1"].ports["imap"]
        for user, load in (("alice", False), ("bob", True)):
            multiappend(port, user, N)
            stop = threading.Event()
            sent = [0]

            def lmtp():
                while not stop.is_set():
                    try:
                        with smtplib.LMTP("127.0.0.1",
                                          cls.be["be1"].ports["lmtp"]) as l:
                            l.sendmail("s@x", ["carol"],
                                       test_xfer.msg(sent[0], "load"))
                        sent[0] += 1
                    except (smtplib.SMTPException, OSError):
                        pass
            th = threading.Thread(target=lmtp)
            if load:
                th.start()
            a = cls.be["be1"].login("cyrus")
            t0 = time.time()
            typ, data = a._simple_command("XFER", "user.%s" % user, "be2")
            dt = time.time() - t0
            stop.set()
            if load:
                th.join()
            a.logout()
            print("XFER %d msgs %s LMTP load: %s %.2f s, %.0f msg/s%s" % (
                N, "with" if load else "without", typ, dt, N / dt,
                " (%d LMTP deliveries to another user meanwhile)" % sent[0]
                if load else ""))
    finally:
        cls.tearDownClass()
    del t


if __name__ == "__main__":
    run()
