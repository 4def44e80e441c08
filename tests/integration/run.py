#!/usr/bin/env python3
"""Run the RelaySync integration suite against one web server.

    python3 tests/integration/run.py --prefix PREFIX --server lighttpd|apache [-k WORD]
        [--bundle relaysync-bundle-VERSION.tar.gz]
        [--backend sqlite|postgresql]

Imports every test_*.py beside this file in sorted order (each registers its
tests with harness.test) and runs them; the last line is
`RESULT passed=X failed=Y`, and the exit code is 0 only when Y == 0.

--bundle names the upload bundle that `make bundle` made: run.py takes it
off the arguments (harness.main never sees it) and leaves its absolute path
in harness.BUNDLE (None without it) before the test modules are imported,
so the tests that need a bundle (test_hosting_bundle.py) register only
when one is given.

--backend postgresql (default sqlite) runs the suite on PostgreSQL: the
cluster whose conninfo (no dbname) env RS_TEST_PG holds, else one run.py
starts itself with tests/pg/cluster in a temp dir and stops (and removes)
at the end. Each harness.Workspace gets a fresh database there; what the
run leaves is dropped at the end. A test about SQLite's files themselves
is reported not applicable (harness.not_applicable), and the last line
is then `RESULT passed=X failed=Y not_applicable=Z`.
"""

import argparse
import glob
import importlib
import os
import shutil
import subprocess
import sys
import tempfile

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


def split_backend(argv):
    """(the --backend value, ARGV without it)."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--backend", choices=("sqlite", "postgresql"),
                   default="sqlite")
    args, rest = p.parse_known_args(argv)
    if "-h" in rest or "--help" in rest:
        print("  --backend sqlite|postgresql  the database (default sqlite);"
              " postgresql:\n                        the cluster of "
              "RS_TEST_PG, else one started here")
    return args.backend, rest


CLUSTER = os.path.join(os.path.dirname(os.path.dirname(HERE)), "tests",
                       "pg", "cluster")


def start_cluster():
    """A throwaway cluster (tests/pg/cluster) -> (its dir, conninfo)."""
    top = tempfile.mkdtemp(prefix="relaysync-it-pg.")
    os.chmod(top, 0o755)
    done = subprocess.run([CLUSTER, "start", top], stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=120)
    if done.returncode != 0:
        shutil.rmtree(top, ignore_errors=True)
        raise SystemExit("run.py: tests/pg/cluster start: exit %d: %s"
                         % (done.returncode,
                            done.stderr.decode("utf-8", "replace")))
    return top, done.stdout.decode("utf-8").strip()


def stop_cluster(top):
    subprocess.run([CLUSTER, "stop", top], stdin=subprocess.DEVNULL,
                   timeout=120)
    if os.environ.get("KEEP") != "1":
        shutil.rmtree(top, ignore_errors=True)


def main():
    sys.path.insert(0, HERE)
    import harness
    bundle, argv = split_bundle(sys.argv[1:])
    backend, argv = split_backend(argv)
    harness.BUNDLE = os.path.abspath(bundle) if bundle else None
    harness.BACKEND = backend
    load_test_modules()
    if backend == "sqlite" or "-h" in argv or "--help" in argv:
        return harness.main(argv)
    harness.psycopg2_module()   # fails now, not in every test
    own = None
    conninfo = os.environ.get("RS_TEST_PG")
    if not conninfo:
        own, conninfo = start_cluster()
        print("# started a PostgreSQL cluster in %s%s" % (
            own, " (KEEP=1: kept, stopped, at the end)"
            if os.environ.get("KEEP") == "1" else ""))
    try:
        harness.PG_CLUSTER = harness.parse_conninfo(conninfo)
        harness.PG_CLUSTER.pop("dbname", None)
        return harness.main(argv)
    finally:
        if own:
            stop_cluster(own)


if __name__ == "__main__":
    sys.exit(main())
