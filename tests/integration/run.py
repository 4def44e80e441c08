#!/usr/bin/env python3
"""Run the RelaySync integration suite against one web server.

    python3 tests/integration/run.py --prefix PREFIX --server lighttpd|apache [-k WORD]
        [--bundle relaysync-bundle-VERSION.tar.gz]

Imports every test_*.py beside this file in sorted order (each registers its
tests with harness.test) and runs them; the last line is
`RESULT passed=X failed=Y`, and the exit code is 0 only when Y == 0.

--bundle names the upload bundle that `make bundle` made: run.py takes it
off the arguments (harness.main never sees it) and leaves its absolute path
in harness.BUNDLE (None without it) before the test modules are imported,
so the tests that need a bundle (test_hosting_bundle.py) register only
when one is given.
"""

import argparse
import glob
import importlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def load_test_modules():
    for path in sorted(glob.glob(os.path.join(HERE, "test_*.py"))):
        importlib.import_module(os.path.splitext(os.path.basename(path))[0])


def split_bundle(argv):
    """(the --bundle path or None, ARGV without --bundle)."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--bundle", default=None)
    args, rest = p.parse_known_args(argv)
    if "-h" in rest or "--help" in rest:
        print("  --bundle TARBALL      the upload bundle (make bundle): its "
              "tests run too")
    return args.bundle, rest


def main():
    sys.path.insert(0, HERE)
    import harness
    bundle, argv = split_bundle(sys.argv[1:])
    harness.BUNDLE = os.path.abspath(bundle) if bundle else None
    load_test_modules()
    return harness.main(argv)


if __name__ == "__main__":
    sys.exit(main())
