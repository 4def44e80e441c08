#!/usr/bin/env python3
"""Run the RelaySync integration suite against one web server.

    python3 tests/integration/run.py --prefix PREFIX --server lighttpd|apache [-k WORD]

Imports every test_*.py beside this file in sorted order (each registers its
tests with harness.test) and runs them; the last line is
`RESULT passed=X failed=Y`, and the exit code is 0 only when Y == 0.
"""

import glob
import importlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def load_test_modules():
    for path in sorted(glob.glob(os.path.join(HERE, "test_*.py"))):
        importlib.import_module(os.path.splitext(os.path.basename(path))[0])


def main():
    sys.path.insert(0, HERE)
    import harness
    load_test_modules()
    return harness.main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
