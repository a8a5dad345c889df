"""Frontend MAILBOX-REFERRALS (RFC 2193, MURDER.md §14) end to end, on the
murder of test_frontend_imap (two backends, mupdate master, frontend):
after RLIST/RLSUB/LIST (REMOTE) the frontend refers SELECT/EXAMINE, DELETE,
APPEND and admin CREATE/SETACL to the backend's <server>_imap_addr; cyradm
follows the referral."""
import re

import backend
import rawimap
import test_frontend_imap as tfi
from test_cyradm import run_cyradm


class TestFrontendReferrals(tfi.harness.NodesTestCase):
    start_nodes = classmethod(tfi.TestFrontendImap.start_nodes.__func__)

    def raw(self, user):
        r = rawimap.Raw(self.fe.port)
        self.addCleanup(r.close)
        self.assertIn(b" OK", r.login(user, backend.password(user)))
        return r

    def addr(self, b):
        return "127.0.0.1:%d" % b.ports["imap"]

    def test_no_referral_without_opt_in(self):
        r = self.raw("alice")
        self.assertIn(b" OK", r.cmd("SELECT INBOX"))

    def test_select_examine_referred_after_rlist(self):
        r = self.raw("alice")
        self.assertIn(b" OK", r.cmd('RLIST "" ""'))
        for verb in ("SELECT", "EXAMINE"):
            self.assertEqual(
                r.cmd("%s INBOX.Remote" % verb).split(b" ", 1)[1].decode(),
                "NO [REFERRAL imap://;AUTH=*@%s/INBOX.Remote] "
                "Remote mailbox." % self.addr(self.b2))
        line = r.cmd("SELECT INBOX").decode()
        self.assertIn("[REFERRAL imap://;AUTH=*@%s/INBOX]"
                      % self.addr(self.b1), line)

    def test_list_remote_opts_in_and_delete_append(self):
        r = self.raw("alice")
        self.assertIn(b" OK", r.cmd('LIST (REMOTE) "" INBOX'))
        line = r.cmd("DELETE INBOX.Remote").decode()
        self.assertIn("NO [REFERRAL imap://;AUTH=*@%s/INBOX.Remote]"
                      % self.addr(self.b2), line)
        line = r.cmd("APPEND INBOX.Remote {3+}\r\nabc").decode()
        self.assertIn("REFERRAL", line)
        # not deleted on the backend
        self.assertIn("user.alice.Remote", self.fe.names())

    def test_url_encoding(self):
        r = self.raw("cyrus")
        self.assertIn(b" OK", r.cmd('RLSUB "" "*"'))
        line = r.cmd('SETACL "shared.b2" anyone lr').decode()
        self.assertIn("REFERRAL imap://;AUTH=*@%s/shared.b2]"
                      % self.addr(self.b2), line)
        line = r.cmd('CREATE "user.carol.a b&AOk-"').decode()
        self.assertIn("[REFERRAL imap://;AUTH=*@%s/user.carol.a%%20b&AOk-]"
                      % self.addr(self.b2), line)

    def test_cyradm_follows_referrals(self):
        script = "cm user.carol.viaref\nlm user.carol*\ndm user.carol.viaref\n"
        p = run_cyradm(self.fe.port, script)
        self.assertEqual((p[0], p[2]), (0, ""), p)
        self.assertIn("user.carol.viaref", p[1])
        c = self.b2.login(backend.ADMIN)
        typ, data = c.list('""', "user.carol.viaref")
        c.logout()
        self.assertEqual(data, [None])
