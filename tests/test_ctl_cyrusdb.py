"""End-to-end: bin/ctl_cyrusdb as an administrator (and master) runs it.

Recovery and checkpoint on a real configdirectory, --help, and the exit
status and message of every kind of failure. (Recovery after a crashed
writer, with data checks, is in cunit/cyrusdb.testc, which needs the C
API to write data.)
"""
import os
import shutil
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)

EX_USAGE = 64
EX_IOERR = 74
EX_CONFIG = 78


def ctl_path():
    """bin/ctl_cyrusdb of $CYRUS_BUILD, else of <top>, <top>/build or
    <top>/build-asan, whichever has it first."""
    env = os.environ.get("CYRUS_BUILD")
    candidates = [env] if env else [TOP, os.path.join(TOP, "build"),
                                    os.path.join(TOP, "build-asan")]
    for d in candidates:
        p = os.path.join(d, "bin", "ctl_cyrusdb")
        if d and os.access(p, os.X_OK):
            return p
    raise AssertionError("bin/ctl_cyrusdb not found (tried %s): build first "
                         "or set CYRUS_BUILD" % ", ".join(c for c in
                                                         candidates if c))


class CtlCyrusdbTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ctl_cyrusdb.")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.configdir = os.path.join(self.dir, "conf")
        self.conf = self.write_conf("configdirectory: %s\n" % self.configdir)

    def write_conf(self, text, name="imapd.conf"):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def run_ctl(self, *args, env=None):
        e = dict(os.environ)
        e.pop("CYRUS_CONF", None)
        e.update(env or {})
        return subprocess.run([ctl_path()] + list(args), capture_output=True,
                              text=True, timeout=60, env=e)

    def envdir(self):
        return os.path.join(self.configdir, "db")

    def test_help(self):
        for flag in ("--help", "-h"):
            p = self.run_ctl(flag)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("usage: ctl_cyrusdb [-C imapd.conf] -r | -c",
                          p.stdout)
            self.assertIn("-r", p.stdout)
            self.assertIn("checkpoint", p.stdout)

    def test_usage_errors(self):
        cases = [
            ((), "one of -r, -c is required"),
            (("-r", "-c"), "give only one of -r, -c"),
            (("-q",), "invalid option"),
            (("-C", self.conf, "-r", "extra"), "unexpected argument 'extra'"),
        ]
        for args, message in cases:
            p = self.run_ctl(*args)
            self.assertEqual(p.returncode, EX_USAGE, args)
            self.assertIn(message, p.stderr)
            self.assertIn("--help", p.stderr)
            self.assertFalse(os.path.exists(self.configdir))

    def test_recover_creates_environment(self):
        p = self.run_ctl("-C", self.conf, "-r")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr, "")
        names = os.listdir(self.envdir())
        self.assertTrue(any(n.startswith("__db.") for n in names), names)
        self.assertTrue(any(n.startswith("log.") for n in names), names)
        # again, on the existing environment, then a checkpoint
        p = self.run_ctl("-C", self.conf, "-r")
        self.assertEqual(p.returncode, 0, p.stderr)
        p = self.run_ctl("-C", self.conf, "-c")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr, "")

    def test_conf_from_environment(self):
        p = self.run_ctl("-c", env={"CYRUS_CONF": self.conf})
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(os.path.isdir(self.envdir()))

    def test_checkpoint_while_another_process_holds_env(self):
        # two checkpoints at once: both must succeed
        procs = [subprocess.Popen([ctl_path(), "-C", self.conf, "-c"],
                                  stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
        for p in procs:
            _, err = p.communicate(timeout=60)
            self.assertEqual(p.returncode, 0, err)

    def test_missing_config(self):
        missing = os.path.join(self.dir, "nonexistent.conf")
        p = self.run_ctl("-C", missing, "-r")
        self.assertEqual(p.returncode, EX_CONFIG)
        self.assertIn("nonexistent.conf", p.stderr)

    def test_config_without_configdirectory(self):
        conf = self.write_conf("admins: cyrus\n", "noconfigdir.conf")
        p = self.run_ctl("-C", conf, "-c")
        self.assertEqual(p.returncode, EX_CONFIG)
        self.assertIn("configdirectory", p.stderr)

    def test_unusable_configdirectory(self):
        # configdirectory names a regular file: no environment can live
        # under it
        conf = self.write_conf("configdirectory: %s\n" % self.conf,
                               "bad.conf")
        for flag, word in (("-r", "recover"), ("-c", "checkpoint")):
            p = self.run_ctl("-C", conf, flag)
            self.assertEqual(p.returncode, EX_IOERR)
            self.assertIn("%s failed" % word, p.stderr)
            self.assertIn(os.path.join(self.conf, "db"), p.stderr)


if __name__ == "__main__":
    unittest.main()
