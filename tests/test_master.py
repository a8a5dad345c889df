"""End-to-end tests of bin/master with bin/echotest (tests/harness.py)."""
import os
import re
import signal
import socket
import time
import unittest

import harness
from harness import LineClient, free_port, wait_for


def echo(port_or_addr, **extra):
    keys = {"cmd": "echotest", "listen": port_or_addr}
    keys.update(extra)
    return keys


class TestMaster(harness.TestCase):

    def test_tcp_v4_v6_and_unix(self):
        p4, p6, pany = free_port(), free_port(), free_port()
        v6 = harness.ipv6_available()
        m = self.master()
        sock = m.path("conf", "socket", "echo")
        services = [("echo4", echo("127.0.0.1:%d" % p4, prefork=2,
                                   maxfds=100)),
                    ("echoany", echo("*:%d" % pany, proto="tcp4")),
                    ("echounix", echo(sock))]
        if v6:
            services.append(("echo6", echo("[::1]:%d" % p6)))
        m.write_cyrus_conf(services=services)
        addrs = [p4, pany, sock] + ([("::1", p6)] if v6 else [])
        m.start()
        # prefork=2: two waiting workers, visible as processes (counted
        # before any client makes master fork more)
        pids = m.wait_service_count("echo4", 2)
        # environment and limits of a worker
        env = harness.proc_environ(pids[0])
        self.assertEqual(env.get("CYRUS_SERVICE"), "echo4")
        self.assertEqual(env.get("CYRUS_CONF"), m.imapd_conf)
        self.assertEqual(env.get("CYRUS_LOGFILE"), m.logfile)
        self.assertEqual(harness.proc_cmdline(pids[0])[:3],
                         ["echotest", "-C", m.imapd_conf])
        with open("/proc/%d/limits" % pids[0]) as f:
            self.assertRegex(f.read(), r"Max open files\s+100\s")
        for addr in addrs:
            m.wait_accepting(addr)
        self.assertTrue(os.path.isdir(m.path("conf", "proc")))
        with LineClient(p4) as c:
            self.assertRegex(c.greeting, r"^\* OK echotest \d+ echo4$")
            self.assertEqual(c.cmd("hello world"), "hello world")
            self.assertRegex(c.cmd("ADDR"),
                             r"^127\.0\.0\.1;%d 127\.0\.0\.1;\d+ inet$" % p4)
        with LineClient(pany) as c:
            self.assertTrue(c.greeting.endswith(" echoany"))
        if v6:
            with LineClient(("::1", p6)) as c:
                self.assertTrue(c.greeting.endswith(" echo6"))
                self.assertRegex(c.cmd("ADDR"), r"^::1;%d ::1;\d+ inet$" % p6)
        with LineClient(sock) as c:
            self.assertTrue(c.greeting.endswith(" echounix"))
            self.assertEqual(c.cmd("ADDR"), "- - unix")
        m.stop()
        self.assertFalse(os.path.exists(sock))

    def test_worker_reuse_and_kill9(self):
        port = free_port()
        # one worker at most, so that every client meets the same one
        m = self.master(services=[("echo", echo("127.0.0.1:%d" % port,
                                                prefork=1, maxchild=1))])
        m.start(ports=[port])
        with LineClient(port) as c:
            pid = int(c.cmd("PID"))
            uses = int(c.cmd("USES"))
        # the same process serves the next client
        with LineClient(port) as c:
            self.assertEqual(int(c.cmd("PID")), pid)
            self.assertEqual(int(c.cmd("USES")), uses + 1)
        m.kill(pid)
        m.wait_log(r"service echo pid %d killed by signal 9" % pid)
        new = m.wait_service_count("echo", 1)
        self.assertNotEqual(new, [pid])
        with LineClient(port) as c:
            self.assertNotEqual(int(c.cmd("PID")), pid)
            self.assertEqual(c.cmd("ping"), "ping")
        m.stop()

    def test_failing_start_is_rate_limited(self):
        # workers that die before serving anyone (here init() refuses to
        # start) would be forked again at once, forever: the crash brake
        # holds the service back instead
        port = free_port()
        m = self.master(services=[("broken", echo("127.0.0.1:%d" % port,
                                                  cmd="echotest -e broken",
                                                  prefork=1))])
        m.start()
        m.wait_log(r"service broken pid \d+ exited with status 78", count=5)
        m.wait_log(r"service broken: 5 failures within 10 s, waiting "
                   r"1000 ms before forking again")
        self.assertTrue(m.running())
        # held back: no new worker during the hold
        n = len(re.findall(r"service broken pid \d+ exited", m.log_text()))
        time.sleep(0.5)
        self.assertLessEqual(
            len(re.findall(r"service broken pid \d+ exited", m.log_text())),
            n + 1)
        m.stop()

    def test_crash_with_a_client_is_not_rate_limited(self):
        # a worker that dies while serving a client (a session's bug)
        # started fine: the next client is served at once
        port = free_port()
        m = self.master(services=[("crashy", echo("127.0.0.1:%d" % port,
                                                  cmd="echotest -x CRASH"))])
        m.start(ports=[port])
        for _ in range(8):
            with LineClient(port) as c:
                c.send("CRASH")
                self.assertEqual(c.readline(), "")  # died: EOF
        m.wait_log(r"service crashy pid \d+ killed by signal 6 while "
                   r"serving a client", count=8)
        t0 = time.monotonic()
        with LineClient(port) as c:
            self.assertEqual(c.cmd("still here"), "still here")
        self.assertLess(time.monotonic() - t0, 3)
        self.assertNotIn("failures within", m.log_text())
        m.stop()

    def test_kill9_storm_of_busy_workers(self):
        # an admin (or a test) kill -9's the process serving a client, 10
        # times in a few seconds: master must not hold the service back,
        # the next client gets its greeting within a few seconds
        port = free_port()
        m = self.master(services=[("echo", echo("127.0.0.1:%d" % port,
                                                prefork=1))])
        m.start(ports=[port])
        t0 = time.monotonic()
        for _ in range(10):
            with LineClient(port) as c:
                pid = int(c.cmd("PID"))
                m.kill(pid)
                self.assertEqual(c.readline(), "")  # killed: EOF
        m.wait_log(r"service echo pid \d+ killed by signal 9", count=10)
        # within one crash window (10 s), or this proves nothing
        self.assertLess(time.monotonic() - t0, 10)
        t0 = time.monotonic()
        with LineClient(port) as c:
            self.assertEqual(c.cmd("hello"), "hello")
        self.assertLess(time.monotonic() - t0, 3)
        self.assertNotIn("failures within", m.log_text())
        m.stop()

    def test_maxchild_makes_clients_wait(self):
        port = free_port()
        m = self.master(services=[("one", echo("127.0.0.1:%d" % port,
                                               maxchild=1))])
        m.start(ports=[port])
        first = LineClient(port)
        self.assertTrue(first.greeting.endswith(" one"))
        # the second client connects (backlog) but gets no greeting yet
        second = socket.create_connection(("127.0.0.1", port), timeout=0.8)
        with self.assertRaises(socket.timeout):
            second.recv(100)
        self.assertEqual(len(m.service_pids("one")), 1)
        self.assertEqual(first.cmd("QUIT"), "* BYE")
        first.close()
        second.settimeout(harness.DEFAULT_TIMEOUT)
        self.assertTrue(second.recv(100).startswith(b"* OK echotest"))
        second.close()
        m.stop()

    def test_sighup_reload(self):
        pa, pb, pc = free_port(), free_port(), free_port()
        pd, pe = free_port(), free_port()
        m = self.master(services=[
            ("keep", echo("127.0.0.1:%d" % pa, prefork=1)),
            ("gone", echo("127.0.0.1:%d" % pb, prefork=1)),
            ("moved", echo("127.0.0.1:%d" % pd))])
        m.start(ports=[pa, pb, pd])
        busy = LineClient(pa)
        old_pid = int(busy.cmd("PID"))
        m.write_cyrus_conf(services=[
            ("keep", echo("127.0.0.1:%d" % pa, cmd="echotest -x BOOM")),
            ("added", echo("127.0.0.1:%d" % pc)),
            ("moved", echo("127.0.0.1:%d" % pe))])
        m.reload()
        m.wait_accepting(pc)
        m.wait_accepting(pe)
        with LineClient(pe) as c:
            self.assertTrue(c.greeting.endswith(" moved"))
        wait_for(lambda: not harness.can_connect(pd),
                 what="the old address of a moved service to close")
        with LineClient(pc) as c:
            self.assertTrue(c.greeting.endswith(" added"))
        # the removed service stops listening (its idle worker exits too)
        wait_for(lambda: not harness.can_connect(pb),
                 what="port of the removed service to close")
        # the changed one is served by new processes ...
        with LineClient(pa) as c:
            self.assertNotEqual(int(c.cmd("PID")), old_pid)
        # ... while the old session goes on to its end
        self.assertEqual(busy.cmd("still there"), "still there")
        self.assertEqual(busy.cmd("QUIT"), "* BYE")
        busy.close()
        wait_for(lambda: old_pid not in m.descendants(),
                 what="the old worker to exit after its session")
        self.assertNotIn("killed by signal", m.log_text())
        # a broken cyrus.conf on reload keeps the running configuration
        m.write_cyrus_conf_text("SERVICES {\n  x cmd=echotest\n}\n")
        m.reload()
        self.assertIn("keeping the current configuration", m.log_text())
        with LineClient(pc) as c:
            self.assertEqual(c.cmd("ok"), "ok")
        m.stop()

    def test_start_runs_first_and_events_and_daemon(self):
        port = free_port()
        m = self.master()
        marker = m.path("started")
        evfile = m.path("event.out")
        # records whether the service port was open while START ran
        start = m.script("start.sh", """echo "$CYRUS_SERVICE" > %s
if python3 -c 'import socket; socket.create_connection(("127.0.0.1", %d))' \\
   2>/dev/null; then echo listening; else echo closed; fi >> %s
""" % (marker, port, marker))
        ev = m.script("event.sh", 'echo "$CYRUS_SERVICE" >> %s' % evfile)
        dm = m.script("daemon.sh", "printf 'ok\\r\\n' >&3\nexec sleep 100")
        m.write_cyrus_conf(
            start=[("prep", {"cmd": start})],
            services=[("echo", echo("127.0.0.1:%d" % port))],
            events=[("tick", {"cmd": ev, "period": 1}),
                    ("nightly", {"cmd": ev, "at": "0300"}),
                    ("pathev", {"cmd": "false"})],
            daemon=[("dmn", {"cmd": dm, "wait": "y"})])
        m.start(ports=[port])
        # START ran to completion before anything listened
        with open(marker) as f:
            self.assertEqual(f.read().split(), ["prep", "closed"])
        # the period event runs at startup; the at=0300 one does not
        wait_for(lambda: os.path.exists(evfile), what="event output")
        with open(evfile) as f:
            self.assertEqual(f.read().split(), ["tick"])
        # a bare program name not in bin/ is found in $PATH; a one-shot
        # event's failure is logged
        m.wait_log(r"event pathev pid \d+ exited with status 1")
        # DAEMON: restarted when it dies
        (dpid,) = m.wait_service_count("dmn", 1)
        m.kill(dpid)
        m.wait_log(r"DAEMON dmn pid %d killed by signal 9; restarting" % dpid)
        new = wait_for(lambda: [p for p in m.service_pids("dmn")
                                if p != dpid], what="a new daemon")
        self.assertEqual(len(new), 1)
        m.stop()

    def test_failing_start_stops_master(self):
        port = free_port()
        m = self.master()
        bad = m.script("bad.sh", "exit 3")
        m.write_cyrus_conf(start=[("boom", {"cmd": bad})],
                           services=[("echo", echo("127.0.0.1:%d" % port))])
        status, out = m.run_to_exit()
        self.assertNotEqual(status, 0)
        self.assertIn("can't run startup", out)
        self.assertIn("START boom", out)
        self.assertIn("exited with status 3", out)
        self.assertFalse(harness.can_connect(port))
        self.assertEqual(m.session_processes(), [])
        self.assertFalse(os.path.exists(m.pidfile))

    def test_daemon_without_ok_stops_master(self):
        m = self.master()
        quiet = m.script("quiet.sh", "exit 0")
        m.write_cyrus_conf(daemon=[("dmn", {"cmd": quiet, "wait": "y"})])
        status, out = m.run_to_exit()
        self.assertNotEqual(status, 0)
        self.assertIn('DAEMON dmn (wait=y) did not write "ok" to fd 3', out)
        self.assertEqual(m.session_processes(), [])

    def test_sigterm_leaves_nothing(self):
        port = free_port()
        m = self.master(services=[("echo", echo("127.0.0.1:%d" % port,
                                                prefork=3))])
        m.start(ports=[port])
        busy = LineClient(port)
        # three waiting besides the busy one
        m.wait_service_count("echo", 4, at_least=True)
        self.assertTrue(os.path.exists(m.pidfile))
        with open(m.pidfile) as f:
            self.assertEqual(int(f.read()), m.pid)
        t0 = time.monotonic()
        self.assertEqual(m.stop(), 0)  # asserts nothing is left behind
        self.assertLess(time.monotonic() - t0, 6)
        self.assertEqual(busy.readline(), "")
        busy.close()
        self.assertFalse(harness.can_connect(port))

    def test_sigint_and_sigkill_escalation(self):
        port = free_port()
        m = self.master()
        stubborn = m.script("stubborn.sh", "exec python3 -c 'import signal, "
                            "time; signal.signal(signal.SIGTERM, "
                            "signal.SIG_IGN); time.sleep(100)'")
        m.write_cyrus_conf(services=[("echo", echo("127.0.0.1:%d" % port))],
                           daemon=[("stubborn", {"cmd": stubborn})])
        m.start(ports=[port])
        m.wait_service_count("stubborn", 1)
        time.sleep(0.3)  # let python install its handler
        t0 = time.monotonic()
        self.assertEqual(m.stop(sig=signal.SIGINT), 0)
        self.assertGreater(time.monotonic() - t0, 2.5)
        self.assertIn("exiting on signal 2", m.log_text())
        self.assertRegex(m.log_text(), r"1 children still running after "
                         r"3000 ms; SIGKILL")

    def test_missing_program_does_not_stop_master(self):
        port, bad = free_port(), free_port()
        m = self.master(services=[
            ("echo", echo("127.0.0.1:%d" % port)),
            ("ghost", echo("127.0.0.1:%d" % bad, cmd="nosuchprogram -x",
                           prefork=1))])
        m.start(ports=[port])
        m.wait_log(r"service ghost: program nosuchprogram not found")
        m.wait_log(r"service ghost: too many failures, waiting 1000 ms")
        with LineClient(port) as c:
            self.assertEqual(c.cmd("fine"), "fine")
        self.assertTrue(m.running())
        m.stop()

    def test_harness_catches_escaped_processes(self):
        # a daemon whose child leaves master's session and outlives it
        m = self.master()
        escapee = m.script("escape.sh", "setsid sleep 30 &\nexec sleep 100")
        m.write_cyrus_conf(daemon=[("esc", {"cmd": escapee})])
        m.start()
        wait_for(lambda: len(m.descendants()) == 2, what="two processes")
        with self.assertRaisesRegex(AssertionError,
                                    r"left behind.*sleep 30"):
            m.stop()

    def test_bad_cyrus_conf(self):
        cases = [
            ("SERVICES {\n  imap cmd=echotest\n}\n",
             "cyrus.conf:2: SERVICES entry 'imap' has no listen="),
            ("SERVICES {\n  imap listen=1\n}\n",
             "cyrus.conf:2: SERVICES entry 'imap' has no cmd="),
            ("SERVICES {\n  imap cmd=echotest listen=::1:143\n}\n",
             "cyrus.conf:2: SERVICES entry 'imap': bad listen"),
            ("SERVICES {\n  a cmd=x listen=1\n  a cmd=y listen=2\n}\n",
             "cyrus.conf:3: duplicate name 'a'"),
            ("\nSERVICES {\n  a cmd=x listen=1\n",
             "cyrus.conf:2: section SERVICES is not closed"),
            ("SERVICES {\n  a-b cmd=x listen=1\n}\n",
             "cyrus.conf:2: expected an entry name"),
        ]
        m = self.master()
        for text, want in cases:
            m.write_cyrus_conf_text(text)
            status, out = m.run_to_exit()
            self.assertNotEqual(status, 0, text)
            self.assertIn(want, out)
            open(m.outfile, "w").close()

    def test_port_in_use_is_an_error(self):
        port = free_port()
        blocker = socket.socket()
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind(("127.0.0.1", port))
        blocker.listen(1)
        try:
            m = self.master(services=[("echo", echo("127.0.0.1:%d" % port))])
            status, out = m.run_to_exit()
            self.assertNotEqual(status, 0)
            self.assertRegex(out, r"cyrus.conf:\d+: service echo: cannot listen")
            self.assertIn("Address already in use", out)
            # in the background too: the error still shows
            open(m.outfile, "w").close()
            status, out = m.run_to_exit(args=["-d"])
            self.assertNotEqual(status, 0)
            self.assertIn("Address already in use", out)
        finally:
            blocker.close()

    def test_daemonize(self):
        port = free_port()
        m = self.master(services=[("echo", echo("127.0.0.1:%d" % port))])
        status, out = m.run_to_exit(args=["-d"])
        self.assertEqual(status, 0, out)
        with open(m.pidfile) as f:
            pid = int(f.read())
        self.assertNotEqual(pid, m.pid)
        with LineClient(port) as c:
            self.assertEqual(c.cmd("hi"), "hi")
        os.kill(pid, signal.SIGTERM)
        wait_for(lambda: not os.path.exists("/proc/%d" % pid)
                 or harness._proc_stat(pid)[2] == "Z",
                 what="the daemonized master to exit")
        self.assertFalse(os.path.exists(m.pidfile))
        # its session (it called setsid) is empty: no worker left behind
        m.pid = pid
        self.assertEqual(m.session_processes(), [])


if __name__ == "__main__":
    unittest.main()
