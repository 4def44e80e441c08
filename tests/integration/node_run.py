"""Running a Node script from an integration test (the JavaScript
client's end-to-end and browser tests, the console's browser test): one
place for the process handling. Not a test module (no test_ prefix)."""

import os
import secrets
import shutil
import signal
import subprocess
import time

from harness import Failure

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
NODE = shutil.which("node") or "node"
OUTPUT_SHOWN = 150        # lines of node's output shown on a failure


def run_node(ctx, args, extra_env, timeout, verbose_var):
    """node ARGS (cwd: the repository) with EXTRA_ENV, killed with its
    process group after TIMEOUT s; a Failure showing the last lines of its
    output unless it exits 0. -> its output. With VERBOSE_VAR=1 in the
    environment the whole output is shown as diagnostics."""
    env = dict(os.environ)
    env.update(extra_env)
    env.pop("NODE_OPTIONS", None)
    out_path = ctx.workspace.path("node-%s.out" % secrets.token_hex(3))
    started = time.monotonic()
    with open(out_path, "wb") as out:
        proc = subprocess.Popen([NODE] + args, cwd=ROOT, env=env,
                                stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            rc = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            rc = "killed after %d s" % timeout
    took = time.monotonic() - started
    with open(out_path, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    if os.environ.get(verbose_var) == "1":
        print("# | " + "\n# | ".join(text.splitlines()))
    if rc != 0:
        lines = text.splitlines()[-OUTPUT_SHOWN:]
        raise Failure("node %s: exit %s after %.1f s; its output (last %d "
                      "lines):\n# | %s" % (" ".join(args), rc, took,
                                           len(lines),
                                           "\n# | ".join(lines)))
    return text
