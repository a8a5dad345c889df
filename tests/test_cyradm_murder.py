"""End-to-end: our bin/cyradm (tools/cyradm*.c) against the FRONTEND of the
whole murder of tools/murder, every command of issue 8 with its short
form, over STARTTLS with SASL PLAIN and with the LOGIN command, in
script mode (stdin) and interactively (a pty: prompt, history).

Effects are checked through the backends themselves and the mupdate
master (AdminMurderCase in murdercase.py).
"""
import os
import pty
import select
import subprocess
import time
import unittest

import harness
import murdercase


class CyradmMurderTest(murdercase.AdminMurderCase):
    def cyradm(self, script, node="frontend1", extra=("--starttls",
                                                      "--insecure",
                                                      "--auth", "PLAIN")):
        p = subprocess.run([harness.bin_path("cyradm"), "--user", "cyrus",
                            "--password", self.admin_pw] + list(extra)
                           + ["127.0.0.1:%d" % self.port(node)],
                           input=script.encode(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60,
                           env=dict(os.environ, HOME=self.tmp))
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    def ok(self, script, **kw):
        rc, out, err = self.cyradm(script, **kw)
        self.assertEqual((rc, err), (0, ""), "script %r" % script)
        return out

    def test_create_on_server_list_delete(self):
        out = self.ok("cm shared.c1 backend2!default\n"
                      "createmailbox user.bob.c1 backend2!default\n"
                      "create user.alice.c1\n"
                      "lm *.c1\n")
        self.assertEqual(sorted(out.splitlines()), [
            "shared.c1 (\\HasNoChildren)", "user.alice.c1 (\\HasNoChildren)",
            "user.bob.c1 (\\HasNoChildren)"])
        self.assertOnlyOn("shared.c1", "backend2")
        self.assertOnlyOn("user.bob.c1", "backend2")
        self.assertOnlyOn("user.alice.c1", "backend1")
        # a user's mailbox stays with the INBOX (as in Cyrus 3.6)
        rc, out, err = self.cyradm("cm user.alice.c2 backend2!default\n")
        self.assertEqual(rc, 1)
        self.assertIn("createmailbox: Permission denied", err)
        self.assertIsNone(self.location("user.alice.c2"))
        # dm, with a pattern spanning both backends
        self.ok("dm *.c1\n")
        for name in ("shared.c1", "user.bob.c1", "user.alice.c1"):
            self.assertGone(name)
        rc, out, err = self.cyradm("deletemailbox shared.c1\n")
        self.assertEqual(rc, 1)
        self.assertIn("deletemailbox: Mailbox does not exist", err)

    def test_acl(self):
        out = self.ok("sam shared.team carol read dave all\n"
                      "lam shared.team\n"
                      "dam shared.team dave\n"
                      "listaclmailbox shared.team\n")
        self.assertIn("carol lrs\n", out)
        self.assertIn("dave lrswipkxtecda\n", out)
        acl = self.acl("backend2", "shared.team")
        self.assertEqual(acl["carol"], "lrs")
        self.assertNotIn("dave", acl)

    def test_quota(self):
        out = self.ok("sq user.bob 6000\nlq user.bob\nlqr user.bob\n"
                      "setquota user.alice message 12\n"
                      "listquota user.alice\n")
        self.assertEqual(out.splitlines(), [
            " STORAGE 0/6000 (0%)", "user.bob STORAGE 0/6000 (0%)",
            " MESSAGE 0/12 (0%)"])
        self.assertIn("STORAGE 0 6000", self.quota("backend2", "user.bob"))
        self.assertIn("MESSAGE 0 12", self.quota("backend1", "user.alice"))
        self.ok("sq user.bob none\n")
        self.assertNotIn("6000", self.quota("backend2", "user.bob") or "")

    def test_info(self):
        out = self.ok("info shared.lists\ninfo\n")
        self.assertIn("{shared.lists}:\n", out)
        self.assertIn("  /shared/vendor/cmu/cyrus-imapd/server: backend1\n",
                      out)
        self.assertIn("{}:\n", out)
        self.assertRegex(out, r"/shared/vendor/cmu/cyrus-imapd/freespace/"
                         r"total: \d+")

    def test_rename_and_move_to_other_server(self):
        self.ok("cm shared.mv backend1!default\n")
        self.grant_admin("backend1", "shared.mv")
        before = self.fill("frontend1", "shared.mv", 3, "cmv")
        # renm to a new server: "server!partition" and a bare server name
        self.ok("renm shared.mv shared.mv backend2!default\n")
        self.assertOnlyOn("shared.mv", "backend2")
        self.assertEqual(self.uids("backend2", "shared.mv"), before)
        self.ok("renamemailbox shared.mv shared.mv backend1\n")
        self.assertOnlyOn("shared.mv", "backend1")
        self.assertEqual(self.uids("backend1", "shared.mv"), before)
        # a plain rename stays on its backend
        self.ok("rename shared.mv shared.mv2\n")
        self.assertOnlyOn("shared.mv2", "backend1")
        self.assertGone("shared.mv")
        self.assertEqual(self.uids("backend1", "shared.mv2"), before)
        rc, out, err = self.cyradm("renm shared.mv2 shared.mv3 "
                                   "backend2!default\n")
        self.assertEqual(rc, 1)
        self.assertIn("renamemailbox: Cross-server or cross-partition move "
                      "w/rename not supported", err)
        self.ok("dm shared.mv2\n")
        self.assertGone("shared.mv2")

    def test_xfer_user_keeps_uids(self):
        user = "dave"
        inbox = self.fill("frontend1", "INBOX", 3, "cx", user=user)
        c = self.imap("frontend1", user)
        self.assertEqual(c.create("INBOX.sub")[0], "OK")
        sub = self.fill("frontend1", "INBOX.sub", 2, "cxs", user=user)
        self.ok("xfer user.dave backend1\n")
        self.assertOnlyOn("user.dave", "backend1")
        self.assertOnlyOn("user.dave.sub", "backend1")
        self.assertEqual(self.uids("backend1", "INBOX", user), inbox)
        self.assertEqual(self.uids("backend1", "INBOX.sub", user), sub)
        self.assertEqual(self.uids("frontend1", "INBOX", user), inbox)
        # back with the long name and a partition
        self.ok("xfermailbox user.dave backend2 default\n")
        self.assertOnlyOn("user.dave", "backend2")
        self.assertEqual(self.uids("backend2", "INBOX.sub", user), sub)
        # a user's submailbox alone cannot move (Cyrus says the same)
        rc, out, err = self.cyradm("xfer user.dave.sub backend1\n")
        self.assertEqual(rc, 1)
        self.assertIn("Operation is not supported on mailbox", err)

    def test_help(self):
        out = self.ok("help\nhelp renm\n")
        for name in ("createmailbox, cm", "deletemailbox, dm",
                     "renamemailbox, renm", "listmailbox, lm",
                     "listaclmailbox, lam", "setaclmailbox, sam",
                     "deleteaclmailbox, dam", "setquota, sq",
                     "listquota, lq", "listquotaroot, lqr",
                     "xfermailbox, xfer", "info", "help"):
            self.assertIn(name, out)
        self.assertIn("usage: renamemailbox [--partition partition] oldname "
                      "newname [partition]", out)

    def test_auth_variants(self):
        # plaintext LOGIN command, no TLS; SASL PLAIN without TLS; a
        # backend directly over STARTTLS verifying its certificate fails
        # without the murder's CA and works with it
        out = self.ok("lm shared.%\n", extra=("--auth", "login"))
        self.assertIn("shared.team (\\HasNoChildren)", out)
        out = self.ok("lm user.bob\n", extra=("--auth", "PLAIN"))
        self.assertIn("user.bob (\\HasNoChildren)", out)
        rc, out, err = self.cyradm("lm\n", node="backend1",
                                   extra=("--starttls", "--auth", "PLAIN"))
        self.assertNotEqual(rc, 0)
        self.assertIn("cyradm: ", err)
        self.assertIn("certificate verification failed", err)
        out = self.ok("lm shared.team\n", node="backend2",
                      extra=("--starttls", "--cafile", self.ca,
                             "--auth", "PLAIN"))
        self.assertIn("shared.team (\\HasNoChildren)", out)
        out = self.ok("lm shared.lists\n", node="backend1",
                      extra=("--auth", "PLAIN"))
        self.assertIn("shared.lists", out)
        # a wrong password through the frontend
        p = subprocess.run([harness.bin_path("cyradm"), "--user", "cyrus",
                            "--password", "wrong", "--starttls", "--insecure",
                            "127.0.0.1:%d" % self.port("frontend1")],
                           input=b"lm\n", stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"cannot authenticate", p.stderr)

    def test_interactive_pty(self):
        """On a terminal: a prompt, commands, history in ~/.cyradm_history."""
        home = os.path.join(self.tmp, "home")
        os.makedirs(home, exist_ok=True)
        pid, fd = pty.fork()
        if pid == 0:
            os.environ["HOME"] = home
            os.environ["TERM"] = "dumb"
            os.execv(harness.bin_path("cyradm"), [
                "cyradm", "--user", "cyrus", "--password", self.admin_pw,
                "--starttls", "--insecure",
                "127.0.0.1:%d" % self.port("frontend1")])
        out = b""

        def read_until(token, timeout=20):
            nonlocal out
            end = time.time() + timeout
            while token not in out and time.time() < end:
                r, _, _ = select.select([fd], [], [], 0.2)
                if r:
                    try:
                        out += os.read(fd, 4096)
                    except OSError:
                        break
            return token in out

        try:
            prompt = ("127.0.0.1:%d> " % self.port("frontend1")).encode()
            self.assertTrue(read_until(prompt), out)
            os.write(fd, b"lm shared.l*\r")
            self.assertTrue(read_until(b"shared.lists (\\HasNoChildren)"),
                            out)
            os.write(fd, b"quit\r")
            _, status = os.waitpid(pid, 0)
            pid = 0
            self.assertEqual(os.WEXITSTATUS(status), 0)
        finally:
            if pid:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
            os.close(fd)
        with open(os.path.join(home, ".cyradm_history")) as f:
            hist = f.read()
        # libedit writes blanks as \040
        self.assertIn("lm\\040shared.l*", hist.replace(" ", "\\040"))


if __name__ == "__main__":
    unittest.main()
