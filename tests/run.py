#!/usr/bin/env python3
"""Run the end-to-end tests (tests/test_*.py, python3 unittest, stdlib only).

Usage: tests/run.py [-k PATTERN] [module ...]
The build tree is found from this file's location (binaries in bin/).
Prints "e2e: N passed, M failed" last; exits 1 on any failure or error.
"""
import argparse
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


class CountingResult(unittest.TextTestResult):
    def startTest(self, test):
        self._t0 = time.time()
        super().startTest(test)

    def stopTest(self, test):
        super().stopTest(test)
        if self.showAll:
            self.stream.writeln("    (%.1fs)" % (time.time() - self._t0))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", dest="pattern", action="append")
    ap.add_argument("-v", action="store_true")
    ap.add_argument("modules", nargs="*")
    args = ap.parse_args()
    sys.path.insert(0, HERE)
    loader = unittest.TestLoader()
    if args.pattern:
        loader.testNamePatterns = ["*%s*" % p for p in args.pattern]
    if args.modules:
        names = [m[:-3] if m.endswith(".py") else m for m in args.modules]
        names = [os.path.basename(n) for n in names]
        suite = loader.loadTestsFromNames(names)
    else:
        suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    runner = unittest.TextTestRunner(verbosity=2, resultclass=CountingResult)
    result = runner.run(suite)
    # errors in setUpClass/setUpModule are counted as errors without a
    # matching testsRun increment, so passed is computed from tests that
    # ran and did not fail themselves
    bad_tests = {id(t) for t, _ in result.failures + result.errors}
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    passed = max(0, result.testsRun - len(bad_tests) - len(result.unexpectedSuccesses) - skipped)
    # a skipped test is not a pass: CI must not skip (DEVELOPERS.md)
    failed += skipped
    print("\ne2e: %d passed, %d failed" % (passed, failed))
    return 1 if failed or result.testsRun == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
