"""End-to-end: bin/cyradm in script mode against a backend, every command;
referrals against a scripted server; bin/mbpath and bin/quota (-f).

Commands the backend does not implement yet (SETACL/GETACL/DELETEACL,
SETQUOTA/GETQUOTA/GETQUOTAROOT, GETMETADATA) are skipped with the reason,
found by asking the server, so the tests run as soon as they land.
"""
import imaplib
import os
import socket
import subprocess
import threading

import backend
import harness


def run_cyradm(port, script, user="cyrus", extra=(), host="127.0.0.1"):
    p = subprocess.run([harness.bin_path("cyradm"), "--user", user,
                        "--password", backend.password(user)] + list(extra)
                       + ["%s:%d" % (host, port)],
                       input=script.encode(), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


class CyradmTest(backend.BackendTestCase):
    def cyradm(self, script, **kw):
        return run_cyradm(self.backend.ports["imap"], script, **kw)

    def ok(self, script, **kw):
        rc, out, err = self.cyradm(script, **kw)
        self.assertEqual((rc, err), (0, ""), "script %r: %s" % (script, err))
        return out

    def require(self, cmd, script, name):
        """Until the server has cmd, cyradm must report its refusal as a
        failure (the formatting is tested against ScriptedServer)."""
        if self.server_has(cmd):
            return True
        rc, out, err = self.cyradm(script)
        self.assertEqual(rc, 1)
        self.assertIn("%s: " % name, err)
        return False

    def names(self, out):
        return [l.split(" (")[0] for l in out.splitlines()]

    def test_help_and_usage(self):
        out = self.ok("help\n")
        for name in ("createmailbox, cm", "deletemailbox, dm", "renm",
                     "listmailbox, lm", "lam", "sam", "dam", "setquota, sq",
                     "listquota, lq", "lqr", "xfer", "info", "help"):
            self.assertIn(name, out)
        out = self.ok("help sam\n")
        self.assertIn("usage: setaclmailbox mailbox id rights", out)
        rc, out, err = self.cyradm("cm\n")
        self.assertEqual(rc, 1)
        self.assertIn("createmailbox: wrong number of arguments", err)
        rc, out, err = self.cyradm("frobnicate x\n")
        self.assertEqual(rc, 1)
        self.assertIn("frobnicate: unknown command", err)
        p = subprocess.run([harness.bin_path("cyradm"), "--help"],
                           stdout=subprocess.PIPE, timeout=10)
        self.assertEqual(p.returncode, 0)
        self.assertIn(b"usage: cyradm", p.stdout)

    def test_create_list_delete(self):
        out = self.ok("cm user.alice.cm1\ncreatemailbox user.alice.cm2\n"
                      "create user.alice.cm2.sub default\n"
                      "lm user.alice.cm*\n")
        self.assertEqual(out.splitlines(), [
            "user.alice.cm1 (\\HasNoChildren)",
            "user.alice.cm2 (\\HasChildren)",
            "user.alice.cm2.sub (\\HasNoChildren)"])
        out = self.ok("listmailbox user.alice.cm%\nlist * user.alice.\n")
        self.assertIn("user.alice.cm1 (\\HasNoChildren)", out)
        # a pattern deletes every selectable match
        self.ok("dm user.alice.cm2.*\ndeletemailbox user.alice.cm1\n"
                "delete user.alice.cm2\n")
        out = self.ok("lm user.alice.*\n")
        self.assertNotIn("cm", out)

    def test_failures_exit_nonzero_and_go_on(self):
        rc, out, err = self.cyradm("cm user.alice.dup\ncm user.alice.dup\n"
                                   "dm user.alice.nosuch\n"
                                   "lm user.alice.dup\ndm user.alice.dup\n")
        self.assertEqual(rc, 1)
        self.assertRegex(err, r"createmailbox: .*[Ee]xists")
        self.assertIn("deletemailbox: ", err)
        self.assertEqual(out, "user.alice.dup (\\HasNoChildren)\n")

    def test_rename(self):
        out = self.ok("cm user.bob.old\nrenm user.bob.old user.bob.mid\n"
                      "renamemailbox user.bob.mid user.bob.new default\n"
                      "lm user.bob.*\ndm user.bob.new\n")
        self.assertEqual(self.names(out), ["user.bob.new"])

    def test_partition_argument(self):
        rc, out, err = self.cyradm("cm user.carol.p nosuchpart\n")
        self.assertEqual(rc, 1)
        self.assertIn("createmailbox: ", err)
        self.ok("cm --partition default user.carol.p\ndm user.carol.p\n")

    def test_user_cannot_admin(self):
        rc, out, err = self.cyradm("cm user.bob.x\n", user="alice")
        self.assertEqual(rc, 1)
        self.assertIn("createmailbox: ", err)

    def test_bad_password(self):
        p = subprocess.run([harness.bin_path("cyradm"), "--user", "cyrus",
                            "--password", "wrong", "127.0.0.1:%d" %
                            self.backend.ports["imap"]], input=b"lm\n",
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=30)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"cannot authenticate", p.stderr)

    def test_login_command(self):
        out = self.ok("lm user.alice\n", extra=["--auth", "login"])
        self.assertEqual(self.names(out), ["user.alice"])

    def test_version(self):
        out = self.ok("version\n")
        self.assertIn('"name"', out)

    def test_acl_commands(self):
        if not self.require("GETACL user.alice", "lam user.alice\n",
                            "listaclmailbox"):
            return
        self.ok("cm user.alice.acl\n")
        out = self.ok("sam user.alice.acl bob read carol lrswi\n"
                      "lam user.alice.acl\n")
        lines = out.splitlines()
        self.assertIn("bob lrs", lines)
        self.assertIn("carol lrswi", lines)
        out = self.ok("setaclmailbox user.alice.acl bob all\n"
                      "deleteaclmailbox user.alice.acl carol\n"
                      "listaclmailbox user.alice.acl\n")
        # "all" = lrswipkxtea; GETACL shows Cyrus's legacy c and d too
        self.assertIn("bob lrswipkxtecda", out.splitlines())
        self.assertNotIn("carol", out)
        out = self.ok("dam user.alice.acl bob\nlam user.alice.acl\n")
        self.assertNotIn("bob", out)
        self.ok("dm user.alice.acl\n")

    def test_quota_commands(self):
        if not self.require("GETQUOTAROOT user.carol", "lqr user.carol\n",
                            "listquotaroot"):
            return
        out = self.ok("sq user.carol 1000\nlq user.carol\n")
        self.assertRegex(out, r"^ STORAGE \d+/1000 \(\d+%\)$")
        out = self.ok("setquota user.carol storage 2000 message 50\n"
                      "listquota user.carol\nlqr user.carol\n")
        self.assertIn(" STORAGE 0/2000 (0%) MESSAGE 0/50 (0%)", out)
        self.assertIn("user.carol STORAGE 0/2000 (0%) MESSAGE 0/50 (0%)",
                      out)
        self.ok("sq user.carol none\n")

    def test_info(self):
        if not self.require('GETMETADATA "" (/shared/*)', "info\n", "info"):
            return
        out = self.ok("info\n")
        self.assertTrue(out.startswith("{}:\n"))
        self.assertRegex(out, r"/shared/vendor/cmu/cyrus-imapd/freespace/"
                         r"total: \d+;\d+")
        # a mailbox's entries, after a comment set through METADATA
        c = self.login("cyrus")
        c.xatom("SETMETADATA", 'user.carol (/shared/comment "carol box")')
        out = self.ok("info user.carol\n")
        self.assertTrue(out.startswith("{user.carol}:\n"), out)
        self.assertIn("  /shared/comment: carol box\n", out)
        self.assertIn("  /shared/vendor/cmu/cyrus-imapd/partition: default\n",
                      out)
        self.assertIn("  /shared/vendor/cmu/cyrus-imapd/server: backend1\n",
                      out)


class ScriptedServer:
    """A scripted IMAP server: after authentication, each command verb
    found in `answers` gets those lines (untagged responses, then the
    tagged status text, e.g. "OK done"); any other command gets
    NO [REFERRAL referral] (as a Cyrus frontend answers for a remote
    mailbox). `seen` records the commands received."""

    def __init__(self, referral="imap://nowhere/", answers=None):
        self.referral = referral
        self.answers = answers or {}
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.seen = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        f = conn.makefile("rwb")
        caps = "IMAP4rev1 AUTH=PLAIN SASL-IR MAILBOX-REFERRALS"
        f.write(("* OK [CAPABILITY %s] fake\r\n" % caps).encode())
        f.flush()
        for raw in f:
            tag, cmd = raw.decode().split(" ", 2)[:2]
            self.seen.append(raw.decode().strip())
            cmd = cmd.strip().upper()
            if cmd == "AUTHENTICATE":
                f.write(("%s OK [CAPABILITY %s] hi\r\n" % (tag, caps)).encode())
            elif cmd == "CAPABILITY":
                f.write(("* CAPABILITY %s\r\n%s OK done\r\n" %
                         (caps, tag)).encode())
            elif cmd in self.answers:
                lines = self.answers[cmd]
                for l in lines[:-1]:
                    f.write(("%s\r\n" % l).encode())
                f.write(("%s %s\r\n" % (tag, lines[-1])).encode())
            elif cmd == "LOGOUT":
                f.write(("* BYE bye\r\n%s OK done\r\n" % tag).encode())
                f.flush()
                break
            else:
                f.write(("%s NO [REFERRAL %s] Remote mailbox\r\n" %
                         (tag, self.referral)).encode())
            f.flush()
        conn.close()

    def close(self):
        self.sock.close()


class CyradmReferralTest(backend.BackendTestCase):
    def test_referral_followed(self):
        port = self.backend.ports["imap"]
        fake = ScriptedServer("imap://cyrus;AUTH=*@127.0.0.1:%d/user.bob.ref"
                            % port)
        self.addCleanup(fake.close)
        rc, out, err = run_cyradm(fake.port, "cm user.bob.ref\n")
        self.assertEqual((rc, err), (0, ""))
        self.assertIn("A003 CREATE user.bob.ref", fake.seen)
        c = self.login("cyrus")
        typ, data = c.list("user.bob.", "ref")
        self.assertEqual(typ, "OK")
        self.assertIn(b"user.bob.ref", data[0])

    def test_inter_server_rename_refused(self):
        fake = ScriptedServer("imap://a.example/user.x imap://b.example/user.y")
        self.addCleanup(fake.close)
        rc, out, err = run_cyradm(fake.port, "renm user.x user.y\n")
        self.assertEqual(rc, 1)
        self.assertIn("renamemailbox: Inter-server referral", err)


class CyradmOutputTest(harness.TestCase):
    """What cyradm sends for each command and how it prints the answers,
    against ScriptedServer (independent of what the backend implements)."""

    def run_script(self, answers, script):
        srv = ScriptedServer(answers=answers)
        self.addCleanup(srv.close)
        rc, out, err = run_cyradm(srv.port, script)
        srv.thread.join(10)
        return rc, out, err, srv.seen[2:-1]  # without auth, caps, logout

    def test_acl(self):
        rc, out, err, seen = self.run_script(
            {"GETACL": ["* ACL user.bob bob lrswipkxtecda anyone lr",
                        "OK done"],
             "SETACL": ["OK done"], "DELETEACL": ["OK done"]},
            "lam user.bob\nsam user.bob carol write anyone none\n"
            "setacl user.bob dave lrs\ndam user.bob carol dave\n")
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual(out, "bob lrswipkxtecda\nanyone lr\n")
        self.assertEqual(seen, [
            "A003 GETACL user.bob",
            "A004 SETACL user.bob carol lrswipkxte",
            'A005 SETACL user.bob anyone ""',
            "A006 SETACL user.bob dave lrs",
            "A007 DELETEACL user.bob carol",
            "A008 DELETEACL user.bob dave"])

    def test_quota(self):
        rc, out, err, seen = self.run_script(
            {"GETQUOTA": ["* QUOTA user.bob (STORAGE 250 1000)", "OK done"],
             "GETQUOTAROOT": ["* QUOTAROOT user.bob.x user.bob",
                              "* QUOTA user.bob (STORAGE 250 1000 MESSAGE 3 "
                              "10)", "OK done"],
             "SETQUOTA": ["OK done"]},
            "lq user.bob\nlqr user.bob.x\nsq user.bob 1000\n"
            "setquota user.bob storage 10 message 5\nsq user.bob none\n")
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual(out, " STORAGE 250/1000 (25%)\n"
                         "user.bob STORAGE 250/1000 (25%) MESSAGE 3/10 "
                         "(30%)\n")
        self.assertEqual(seen, [
            "A003 GETQUOTA user.bob", "A004 GETQUOTAROOT user.bob.x",
            "A005 SETQUOTA user.bob (STORAGE 1000)",
            "A006 SETQUOTA user.bob (STORAGE 10 MESSAGE 5)",
            "A007 SETQUOTA user.bob ()"])

    def test_info_xfer_reconstruct(self):
        rc, out, err, seen = self.run_script(
            {"GETMETADATA": ['* METADATA "" (/shared/comment "a note")',
                             "OK done"],
             "XFER": ["OK done"], "RECONSTRUCT": ["OK done"]},
            "info\nxfer user.bob be2\nxfer user.bob be2 p2\n"
            "reconstruct -r user.bob\n")
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual(out, "{}:\n  /shared/comment: a note\n"
                              "  /shared/comment: a note\n")
        self.assertEqual(seen, [
            'A003 GETMETADATA "" (/private/*)',
            'A004 GETMETADATA "" (/shared/*)',
            "A005 XFER user.bob be2", "A006 XFER user.bob be2 p2",
            "A007 RECONSTRUCT user.bob RECURSIVE"])

    def test_server_error_text(self):
        rc, out, err, seen = self.run_script(
            {"GETACL": ["NO Permission denied"]}, "lam user.bob\n")
        self.assertEqual(rc, 1)
        self.assertEqual(err, "listaclmailbox: Permission denied\n")


class MaintenanceToolsTest(backend.BackendTestCase):
    def tool(self, name, *args):
        p = subprocess.run([harness.bin_path(name), "-C",
                            self.backend.master.imapd_conf] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=30)
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    def test_mbpath(self):
        rc, out, err = self.tool("mbpath", "user.alice", "user.bob")
        self.assertEqual((rc, err), (0, ""))
        paths = out.splitlines()
        self.assertEqual(len(paths), 2)
        for p in paths:
            self.assertTrue(p.startswith(self.backend.master.spool), p)
            self.assertTrue(os.path.exists(os.path.join(p, "cyrus.index")), p)
        rc, out, err = self.tool("mbpath", "user.alice", "user.nosuch")
        self.assertEqual(rc, 1)
        self.assertEqual(len(out.splitlines()), 1)
        self.assertIn("mbpath: user.nosuch: Mailbox does not exist", err)
        rc, out, err = self.tool("mbpath", "-q", "user.nosuch")
        self.assertEqual((rc, out, err), (1, "", ""))
        rc, out, err = self.tool("mbpath")
        self.assertEqual(rc, 64)
        p = subprocess.run([harness.bin_path("mbpath"), "--help"],
                           stdout=subprocess.PIPE, timeout=10)
        self.assertEqual(p.returncode, 0)
        self.assertIn(b"usage: mbpath", p.stdout)
        p = subprocess.run([harness.bin_path("mbpath"), "-C", "/nonexistent",
                            "user.alice"], stderr=subprocess.PIPE, timeout=10)
        self.assertEqual(p.returncode, 78)

    def test_common_options(self):
        """The set-up every tool shares (tools/toolutil.c): --help, a bad
        option, a missing configuration file."""
        for name in ("mbpath", "quota", "reconstruct", "ctl_cyrusdb",
                     "ctl_mboxlist", "cyradm"):
            exe = harness.bin_path(name)
            p = subprocess.run([exe, "--help"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=10)
            self.assertEqual((p.returncode, p.stderr), (0, b""), name)
            self.assertTrue(p.stdout.startswith(b"usage: " + name.encode()),
                            p.stdout)
            self.assertIn(b"-h, --help", p.stdout, name)
            p = subprocess.run([exe, "-Z"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=10)
            self.assertEqual((p.returncode, p.stdout), (64, b""), name)
            self.assertIn(b"\nusage: " + name.encode(), p.stderr)
            self.assertIn(("Try '%s --help' for more." % name).encode(),
                          p.stderr)
            if name == "cyradm":
                continue
            args = {"ctl_cyrusdb": ["-c"], "ctl_mboxlist": ["-d"]}
            p = subprocess.run([exe, "-C", "/nonexistent"]
                               + args.get(name, ["user.alice"]),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=10)
            self.assertEqual(p.returncode, 78, name)
            self.assertTrue(p.stderr.startswith(name.encode() + b": "),
                            p.stderr)

    def dbtool(self, *args):
        p = subprocess.run([harness.bin_path("dbtool"), "-C",
                            self.backend.master.imapd_conf, "quotas.db"]
                           + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout.decode().strip()

    def test_quota_fix(self):
        c = self.login("bob")
        msg = b"From: a@b\r\nSubject: q\r\n\r\n" + b"x" * 3000 + b"\r\n"
        for _ in range(2):
            self.assertEqual(c.append("INBOX", None, None, msg)[0], "OK")
        self.assertEqual(c.create("INBOX.sub")[0], "OK")
        self.assertEqual(c.append("INBOX.sub", None, None, msg)[0], "OK")
        # a root with wrong usage, as a crash between charge and commit
        # would leave it
        self.dbtool("set", "user.bob", "STORAGE 999999 5000 MESSAGE 77 -1")
        rc, out, err = self.tool("quota", "user.bob")
        self.assertEqual((rc, err), (0, ""))
        self.assertIn("   Quota   % Used     Used Resource Root", out)
        self.assertRegex(out, r"\n +5000 +19 +976 +STORAGE user\.bob\n")

        rc, out, err = self.tool("quota", "-f", "user.bob")
        self.assertEqual((rc, err), (0, ""))
        total = 3 * len(msg)
        self.assertIn("user.bob: STORAGE usage was 999999, now %d" % total,
                      out)
        self.assertIn("user.bob: MESSAGE usage was 77, now 3", out)
        self.assertEqual(self.dbtool("get", "user.bob"),
                         "STORAGE %d 5000 MESSAGE 3 -1" % total)
        # a second run has nothing to fix
        rc, out, err = self.tool("quota", "-f", "user.bob")
        self.assertEqual((rc, err), (0, ""))
        self.assertNotIn("usage was", out)
        # -q: silent
        rc, out, err = self.tool("quota", "-f", "-q")
        self.assertEqual((rc, out, err), (0, "", ""))

    def test_quota_usage_errors(self):
        rc, out, err = self.tool("quota", "-x")
        self.assertEqual(rc, 64)
        p = subprocess.run([harness.bin_path("quota"), "--help"],
                           stdout=subprocess.PIPE, timeout=10)
        self.assertEqual(p.returncode, 0)
        self.assertIn(b"usage: quota", p.stdout)
        p = subprocess.run([harness.bin_path("quota"), "-C", "/nonexistent"],
                           stderr=subprocess.PIPE, timeout=10)
        self.assertEqual(p.returncode, 78)
