"""End-to-end: the real Perl admin client (Debian libcyrus-imap-perl,
Cyrus::IMAP::Admin, what Cyrus's cyradm is built on) against our backend.

Each test writes a small perl script and runs it with the backend's port.
The script prints results on stdout and dies with the client's error text.
Commands the backend does not implement yet (ACL, QUOTA and METADATA are
being added on another branch) are checked to fail cleanly instead, until
they land.
"""
import os
import subprocess
import tempfile

import backend

PRELUDE = r"""
use strict;
use warnings;
use Cyrus::IMAP::Admin;
$| = 1;
my $c = Cyrus::IMAP::Admin->new('127.0.0.1', $ARGV[0])
    or die "cannot connect\n";
$c->authenticate(-user => 'cyrus', -password => 'cyrus-pw',
                 -mechanism => 'PLAIN')
    or die "authenticate: " . ($c->error // '') . "\n";
sub check { my ($what, $ok) = @_; die "$what: " . ($c->error // '') . "\n"
    unless $ok; }
"""


def have_perl_admin():
    return subprocess.run(["perl", "-MCyrus::IMAP::Admin", "-e", "1"],
                          stderr=subprocess.DEVNULL).returncode == 0


class PerlAdminTest(backend.BackendTestCase):
    def setUp(self):
        if not have_perl_admin():
            raise AssertionError("Cyrus::IMAP::Admin missing: apt-get install "
                                 "libcyrus-imap-perl (tools/deps.sh --test)")

    def perl(self, body):
        fd, path = tempfile.mkstemp(suffix=".pl")
        with os.fdopen(fd, "w") as f:
            f.write(PRELUDE + body)
        self.addCleanup(os.unlink, path)
        p = subprocess.run(["perl", path, str(self.backend.ports["imap"])],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=60)
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    def ok(self, body):
        rc, out, err = self.perl(body)
        self.assertEqual(rc, 0, err)
        return out

    def test_create_list_rename_delete(self):
        out = self.ok(r"""
check('create', $c->create('user.alice.p1'));
check('create with partition', $c->create('user.alice.p2', 'default'));
for my $m ($c->listmailbox('user.alice.*')) {
    print "$m->[0] ($m->[1])\n";
}
check('rename', $c->rename('user.alice.p1', 'user.alice.p3'));
check('rename with partition',
      $c->rename('user.alice.p3', 'user.alice.p4', 'default'));
check('delete', $c->delete('user.alice.p2'));
print "after: ", join(' ', map { $_->[0] } $c->listmailbox('user.alice.*')),
    "\n";
check('delete', $c->delete('user.alice.p4'));
""")
        self.assertIn("user.alice.p1 (\\HasNoChildren)", out)
        self.assertIn("user.alice.p2 (\\HasNoChildren)", out)
        self.assertIn("after: user.alice.p4\n", out)

    def test_errors_reported(self):
        out = self.ok(r"""
print $c->create('user.alice') ? "created\n" : "error: " . $c->error . "\n";
print $c->delete('user.alice.nosuch') ? "deleted\n"
    : "error: " . $c->error . "\n";
""")
        lines = out.splitlines()
        self.assertTrue(lines[0].startswith("error: "), lines)
        self.assertRegex(lines[0], "(?i)exists")
        self.assertTrue(lines[1].startswith("error: "), lines)

    def test_acl(self):
        if not self.server_has("GETACL user.bob"):
            rc, out, err = self.perl(
                r"my %a = $c->listacl('user.bob'); "
                r"die 'listacl: ' . $c->error . qq(\n) if $c->error;")
            self.assertNotEqual(rc, 0)
            self.assertIn("listacl: ", err)
            return
        out = self.ok(r"""
check('create', $c->create('user.bob.acl'));
check('setacl', $c->setacl('user.bob.acl', 'alice' => 'lrs',
                           'carol' => 'lrswipkxtea'));
my %acl = $c->listacl('user.bob.acl');
print "$_ $acl{$_}\n" for sort keys %acl;
check('deleteacl', $c->deleteacl('user.bob.acl', 'carol'));
%acl = $c->listacl('user.bob.acl');
print "after: ", join(' ', sort keys %acl), "\n";
check('delete', $c->delete('user.bob.acl'));
""")
        self.assertIn("alice lrs\n", out)
        # "all" = lrswipkxtea; GETACL shows Cyrus's legacy c and d too
        self.assertIn("carol lrswipkxtecda\n", out)
        self.assertNotIn("carol", out.split("after: ")[1])

    def test_quota(self):
        if not self.server_has("GETQUOTAROOT user.carol"):
            rc, out, err = self.perl(
                r"my @q = $c->listquotaroot('user.carol'); "
                r"die 'lqr: ' . $c->error . qq(\n) if $c->error;")
            self.assertNotEqual(rc, 0)
            self.assertIn("lqr: ", err)
            return
        out = self.ok(r"""
check('setquota', $c->setquota('user.carol', 'STORAGE', 1000));
my %q = $c->listquota('user.carol');
print "lq STORAGE $q{STORAGE}[0]/$q{STORAGE}[1]\n";
my ($root, %r) = $c->listquotaroot('user.carol');
print "lqr $root STORAGE $r{STORAGE}[1]\n";
""")
        self.assertIn("lq STORAGE 0/1000\n", out)
        self.assertIn("lqr user.carol STORAGE 1000\n", out)

    def test_info(self):
        if not self.server_has('GETMETADATA "" (/shared/*)'):
            rc, out, err = self.perl(
                r"my %i = $c->getinfo(); "
                r"die 'info: ' . $c->error . qq(\n) if $c->error;")
            self.assertNotEqual(rc, 0)
            self.assertIn("info: ", err)
            return
        self.ok(r"my %i = $c->getinfo(); check('info', !$c->error);")
        out = self.ok(r"""
check('mboxcfg', $c->mboxconfig('user.carol', 'comment', 'perl note'));
check('expire', $c->mboxconfig('user.carol', 'expire', '30'));
my %i = $c->getinfo('user.carol');
check('info', !$c->error);
for my $k (sort keys %{$i{'user.carol'}{'private'}}) {
    print "private $k=$i{'user.carol'}{'private'}{$k}\n";
}
for my $k (sort keys %{$i{'user.carol'}{'shared'}}) {
    print "shared $k=$i{'user.carol'}{'shared'}{$k}\n";
}
my %s = $c->getinfo();
print "server $_\n" for sort keys %{$s{''}{'shared'}};
""")
        self.assertIn("shared /mailbox//shared/comment=perl note\n", out)
        self.assertIn("shared /mailbox//shared/vendor/cmu/cyrus-imapd/"
                      "expire=30\n", out)
        self.assertIn("shared /mailbox//shared/vendor/cmu/cyrus-imapd/"
                      "partition=default\n", out)
        self.assertIn("server /server//shared/vendor/cmu/cyrus-imapd/"
                      "freespace/total\n", out)
