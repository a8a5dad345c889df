"""End-to-end: the real Perl admin client (Debian libcyrus-imap-perl,
Cyrus::IMAP::Admin) and Debian's `cyradm` shell against the whole murder
of tools/murder (mupdate master, backend1, backend2, frontend1), through
the FRONTEND and directly against each BACKEND (issue 8).

Every effect is checked through a second connection: the backend's own
LIST/GETACL/GETQUOTA/SELECT as the admin, and the mupdate master's FIND.

The murder and the admin's view of its nodes: AdminMurderCase
(murdercase.py).
"""
import imaplib
import os
import re
import subprocess
import tempfile
import unittest

import murdercase

PRELUDE = r"""
use strict;
use warnings;
use Cyrus::IMAP::Admin;
$| = 1;
my $c = Cyrus::IMAP::Admin->new('127.0.0.1', $ARGV[0])
    or die "cannot connect\n";
$c->authenticate(-user => 'cyrus', -password => $ARGV[1],
                 -mechanism => 'PLAIN')
    or die "authenticate: " . ($c->error // '') . "\n";
sub check { my ($what, $ok) = @_; die "$what: " . ($c->error // '') . "\n"
    unless $ok; }
sub try { my ($what, $ok) = @_;
    print $ok ? "$what: ok\n" : "$what: error: " . ($c->error // '') . "\n"; }
"""


def have_perl_admin():
    return subprocess.run(["perl", "-MCyrus::IMAP::Admin", "-e", "1"],
                          stderr=subprocess.DEVNULL).returncode == 0


class PerlAdminMurderTest(murdercase.AdminMurderCase):
    def setUp(self):
        if not have_perl_admin():
            raise AssertionError("Cyrus::IMAP::Admin missing: apt-get install "
                                 "libcyrus-imap-perl (tools/deps.sh --test)")

    def perl(self, node, body):
        fd, path = tempfile.mkstemp(suffix=".pl")
        with os.fdopen(fd, "w") as f:
            f.write(PRELUDE + body)
        self.addCleanup(os.unlink, path)
        p = subprocess.run(["perl", path, str(self.port(node)),
                            self.admin_pw], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        return p.stdout.decode()

    def shell(self, node, script):
        """Debian's cyradm (Cyrus::IMAP::Shell) reading commands from
        stdin; (stdout, stderr). Prompts and echoed commands are on
        stdout, errors on stderr."""
        p = subprocess.run(["cyradm", "--user", "cyrus", "--password",
                            self.admin_pw, "--notls", "--server", "127.0.0.1",
                            "--port", str(self.port(node))],
                           input=script.encode(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60,
                           env=dict(os.environ, HOME=self.tmp))
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        return p.stdout.decode(), p.stderr.decode()

    # ---- through the frontend, with the Perl module ----

    def test_create_on_server_and_list(self):
        out = self.perl("frontend1", r"""
check('cm', $c->create('shared.pa1', 'backend2!default'));
check('cm', $c->create('user.bob.pa1', 'backend2!default'));
check('cm', $c->create('user.alice.pa1'));
print "lm $_->[0]\n" for $c->listmailbox('*.pa1');
try('cm other', $c->create('user.carol.pa1', 'backend2!default'));
try('cm again', $c->create('shared.pa1', 'backend1!default'));
""")
        # listed through the frontend right after the (referred) CREATE
        self.assertIn("lm shared.pa1\n", out)
        self.assertIn("lm user.bob.pa1\n", out)
        self.assertIn("lm user.alice.pa1\n", out)
        self.assertOnlyOn("shared.pa1", "backend2")
        self.assertOnlyOn("user.bob.pa1", "backend2")
        self.assertOnlyOn("user.alice.pa1", "backend1")
        # a user's mailboxes stay with the INBOX (Cyrus 3.6 too)
        self.assertRegex(out, r"cm other: error: .*Permission denied")
        self.assertIsNone(self.location("user.carol.pa1"))
        # refused by backend1/the master (after the referral the Perl
        # module keeps the previous error text: only the failure counts)
        self.assertIn("cm again: error", out)
        self.assertOnlyOn("shared.pa1", "backend2")

    def test_listmailbox_both_backends(self):
        out = self.perl("frontend1", r"""
for my $m ($c->listmailbox('*')) { print "$m->[0] ($m->[1])\n"; }
print "pat $_->[0]\n" for $c->listmailbox('shared.%');
""")
        for name in ("user.alice", "user.bob", "user.carol", "shared.lists",
                     "shared.team"):
            self.assertRegex(out, r"(?m)^%s \(" % re.escape(name))
        pat = re.findall(r"(?m)^pat (.*)$", out)
        self.assertIn("shared.lists", pat)
        self.assertIn("shared.team", pat)
        self.assertFalse([p for p in pat if p.count(".") != 1], pat)

    def test_acl_on_the_other_backend(self):
        out = self.perl("frontend1", r"""
check('sam', $c->setacl('shared.team', 'carol' => 'lrs', 'alice' => 'all'));
my %a = $c->listacl('shared.team');
print "lam $_ $a{$_}\n" for sort keys %a;
check('dam', $c->deleteacl('shared.team', 'carol'));
""")
        self.assertIn("lam carol lrs\n", out)
        self.assertIn("lam alice lrswipkxtecda\n", out)
        acl = self.acl("backend2", "shared.team")
        self.assertNotIn("carol", acl)
        self.assertEqual(acl["alice"], "lrswipkxtecda")

    def test_quota(self):
        self.fill("backend2", "user.bob", 1, "q")
        out = self.perl("frontend1", r"""
check('sq', $c->setquota('user.bob', 'STORAGE', 4000));
# one resource per call: with two, Cyrus::IMAP's %v writes
# "(MESSAGE 9STORAGE 3000 )", which Cyrus refuses too
check('sq', $c->setquota('user.alice', 'MESSAGE', 9));
my %q = $c->listquota('user.bob');
print "lq STORAGE $q{STORAGE}[0]/$q{STORAGE}[1]\n";
my ($root, %r) = $c->listquotaroot('user.bob');
print "lqr $root STORAGE $r{STORAGE}[1]\n";
($root, %r) = $c->listquotaroot('user.alice');
print "lqr $root MESSAGE $r{MESSAGE}[1]\n";
""")
        self.assertRegex(out, r"lq STORAGE \d+/4000\n")
        self.assertIn("lqr user.bob STORAGE 4000\n", out)
        self.assertIn("lqr user.alice MESSAGE 9\n", out)
        self.assertRegex(self.quota("backend2", "user.bob"),
                         r"STORAGE \d+ 4000")
        self.assertIn("MESSAGE 0 9", self.quota("backend1", "user.alice"))
        self.assertIsNone(self.quota("backend1", "user.bob"))

    def test_info(self):
        out = self.perl("frontend1", r"""
check('mboxcfg', $c->mboxconfig('shared.lists', 'comment', 'via fe'));
my %i = $c->getinfo('shared.lists');
check('info', !$c->error);
for my $k (sort keys %{$i{'shared.lists'}{'shared'}}) {
    print "shared $k=$i{'shared.lists'}{'shared'}{$k}\n";
}
my %s = $c->getinfo();
print "server $_\n" for sort keys %{$s{''}{'shared'}};
""")
        self.assertIn("shared /mailbox//shared/comment=via fe\n", out)
        self.assertIn("/shared/vendor/cmu/cyrus-imapd/server=backend1\n",
                      out)
        self.assertIn("server /server//shared/vendor/cmu/cyrus-imapd/"
                      "freespace/total\n", out)
        c = self.imap("backend1")
        imaplib.Commands.setdefault("GETMETADATA", ("AUTH", "SELECTED"))
        typ, data = c._simple_command("GETMETADATA", "shared.lists",
                                      "(/shared/comment)")
        self.assertEqual(typ, "OK", data)
        self.assertIn(b"via fe", repr(c.untagged_responses).encode())

    def test_rename_within_backend_and_delete(self):
        self.perl("frontend1", r"""
check('cm', $c->create('user.bob.r1'));
check('renm', $c->rename('user.bob.r1', 'user.bob.r2'));
""")
        self.assertOnlyOn("user.bob.r2", "backend2")
        self.assertGone("user.bob.r1")
        out = self.perl("frontend1", r"""
check('dm', $c->delete('user.bob.r2'));
try('dm again', $c->delete('user.bob.r2'));
try('renm w/partition', $c->rename('user.bob', 'user.bobby',
                                   'backend1!default'));
""")
        self.assertGone("user.bob.r2")
        self.assertRegex(out, r"dm again: error: .*(exist|NONEXISTENT)")
        self.assertIn("renm w/partition: error: Cross-server or "
                      "cross-partition move w/rename not supported", out)

    def test_rename_to_other_server_moves_messages(self):
        self.perl("frontend1",
                  "check('cm', $c->create('shared.mv', 'backend2!default'));")
        self.grant_admin("backend2", "shared.mv")
        before = self.fill("frontend1", "shared.mv", 3, "mv")
        self.assertEqual(len(before[1]), 3)
        self.perl("frontend1", r"""
check('renm', $c->rename('shared.mv', 'shared.mv', 'backend1!default'));
""")
        self.assertOnlyOn("shared.mv", "backend1")
        self.assertEqual(self.uids("backend1", "shared.mv"), before)
        self.assertEqual(self.uids("frontend1", "shared.mv"), before)

    def test_xfer_user_keeps_uids(self):
        user = "dave"  # on backend2; nothing else here uses dave
        inbox = self.fill("frontend1", "INBOX", 4, "xd", user=user)
        c = self.imap("frontend1", user)
        self.assertEqual(c.create("INBOX.sub")[0], "OK")
        sub = self.fill("frontend1", "INBOX.sub", 2, "xs", user=user)
        out = self.perl("frontend1", r"""
check('xfer', $c->xfer('user.dave', 'backend1'));
print "done\n";
""")
        self.assertIn("done\n", out)
        self.assertOnlyOn("user.dave", "backend1")
        self.assertOnlyOn("user.dave.sub", "backend1")
        self.assertEqual(self.uids("backend1", "INBOX", user), inbox)
        self.assertEqual(self.uids("backend1", "INBOX.sub", user), sub)
        # the user's own session through the frontend follows
        d = self.imap("frontend1", user)
        typ, data = d.select("INBOX")
        self.assertEqual((typ, data), ("OK", [b"4"]))

    # ---- directly against each backend ----

    def test_each_backend(self):
        for be, user in (("backend1", "carol"), ("backend2", "bob")):
            with self.subTest(backend=be):
                box = "user.%s.be" % user
                out = self.perl(be, r"""
my $b = '%s';
check('cm', $c->create($b));
check('cm', $c->create("$b.kid", 'default'));
print "lm $_->[0]\n" for $c->listmailbox("$b*");
check('sam', $c->setacl($b, 'alice' => 'read'));
my %%a = $c->listacl($b);
print "lam alice $a{alice}\n";
check('dam', $c->deleteacl($b, 'alice'));
check('sq', $c->setquota($b, 'STORAGE', 777));
my %%q = $c->listquota($b);
print "lq $q{STORAGE}[1]\n";
my ($root) = $c->listquotaroot("$b.kid");
print "lqr $root\n";
my %%i = $c->getinfo($b);
print "server $i{$b}{shared}{'/mailbox//shared/vendor/cmu/cyrus-imapd/server'}\n";
check('renm', $c->rename("$b.kid", "$b.kid2"));
check('dm', $c->delete("$b.kid2"));
""" % box)
                self.assertIn("lm %s\nlm %s.kid\n" % (box, box), out)
                self.assertIn("lam alice lrs\n", out)
                self.assertIn("lq 777\n", out)
                self.assertIn("lqr %s\n" % box, out)
                self.assertIn("server %s\n" % be, out)
                self.assertOnlyOn(box, be)
                self.assertNotIn("alice", self.acl(be, box))
                self.assertIn("STORAGE 0 777", self.quota(be, box))
                self.assertGone(box + ".kid")
                self.assertGone(box + ".kid2")
                # and the frontend sees the backend's creation
                self.assertIn(box, self.names("frontend1", box))

    # ---- Debian's cyradm shell, commands on stdin ----

    def test_shell_frontend_short_forms(self):
        self.perl("frontend1",
                  "check('cm', $c->create('shared.sh', 'backend1!default'));")
        self.grant_admin("backend1", "shared.sh")
        before = self.fill("frontend1", "shared.sh", 2, "sh")
        out, err = self.shell("frontend1", """\
cm shared.sh2 backend2!default
cm user.carol.sh backend1!default
lm shared.sh*
sam shared.sh2 bob read carol write
lam shared.sh2
dam shared.sh2 bob
sq user.carol 2500
lq user.carol
lqr user.carol.sh
info shared.sh2
renm shared.sh shared.sh backend2
renm user.carol.sh user.carol.sh2
dm shared.sh2
xfer user.carol backend2
help
""")
        self.assertEqual(err, "")
        self.assertIn("shared.sh2 (\\HasNoChildren)", out)
        self.assertIn("bob lrs", out)
        self.assertIn("carol lrswipkxte", out)
        self.assertIn(" STORAGE 0/2500 (0%)", out)
        self.assertIn("user.carol STORAGE 0/2500 (0%)", out)
        self.assertIn("server: backend2", out)
        for cmd in ("createmailbox", "listmailbox", "xfermailbox",
                    "listquotaroot", "renamemailbox", "setaclmailbox"):
            self.assertRegex(out, r"(?m)^%s, " % cmd)
        # effects, through the nodes themselves
        self.assertGone("shared.sh2")
        self.assertOnlyOn("shared.sh", "backend2")
        self.assertEqual(self.uids("backend2", "shared.sh"), before)
        self.assertOnlyOn("user.carol", "backend2")
        self.assertOnlyOn("user.carol.sh2", "backend2")
        self.assertGone("user.carol.sh")
        self.assertIn("STORAGE 0 2500", self.quota("backend2", "user.carol"))

    def test_shell_errors_and_backend(self):
        out, err = self.shell("backend2", """\
cm user.bob.shb
lm user.bob.shb
dm user.bob.nosuch
cm user.bob.shb
dm user.bob.shb
""")
        self.assertIn("user.bob.shb (\\HasNoChildren)", out)
        self.assertRegex(err, r"deletemailbox: .*[Nn]ot? ?exist")
        self.assertRegex(err, r"createmailbox: .*[Ee]xists")
        self.assertGone("user.bob.shb")


if __name__ == "__main__":
    unittest.main()
