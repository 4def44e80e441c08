"""The operator console (console/, issue 17) in headless Chromium against
this run's server, which serves it at /console/ through the shipped
includes (lighttpd or Apache) with the strict Content-Security-Policy.

Each test runs console/test/console.test.mjs (node --test, driving
Debian's chromium through playwright-core from clients/js/node_modules)
with what it needs in the environment:
  RS_URL           this run's server (the console is RS_URL/console/)
  RS_API_KEY       an admin of a fresh org
  RS_OPERATOR_KEY  an operator of that org, RS_OPERATOR_ID its user id
  RS_CONTROL       http://127.0.0.1:<port> of a small control server here:
                   POST /worker runs `relaysync-worker --once`,
                   POST /receiver/<status> sets the webhook receiver's
                   answer, GET /receiver -> {"requests": n}
  RS_HOOK_URL      the webhook receiver (tests/integration/receiver.py),
                   answering 500 until told otherwise
  RS_OUT           the output folder for screenshots (printed as # lines)
The test passes when node exits 0 (its output is shown when it does not).

Output: tests/integration/output/console-<server>/ (git-ignored).
Every test name starts with "console: " (`run.py -k console`).
"""

import http.server
import json
import os
import secrets
import shutil
import threading

import harness
import node_run
from harness import Failure, expect, test
from receiver import Receiver

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
SCRIPT = os.path.join(ROOT, "console", "test", "console.test.mjs")
PLAYWRIGHT = os.path.join(ROOT, "clients", "js", "node_modules",
                          "playwright-core")
CHROMIUM = os.environ.get("RELAYSYNC_IT_CHROMIUM", "/usr/bin/chromium")
NODE_TIMEOUT = 300        # s


def run_node(ctx, args, extra_env, timeout):
    return node_run.run_node(ctx, args, extra_env, timeout,
                             "CONSOLE_VERBOSE")


def cli_json(ctx, args):
    rc, out, err = ctx.cli(args)
    expect(rc == 0, "relaysync-admin %s: exit %d: %s%s"
           % (" ".join(args), rc, out, err))
    return out


class Control:
    """POST /worker, POST /receiver/<status>, GET /receiver for the node
    script, on 127.0.0.1 (a free port)."""

    def __init__(self, ctx, rx):
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def reply(self, status, doc):
                body = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path == "/receiver":
                    return self.reply(200, {"requests": len(rx.requests),
                                            "answered": [r.answered for r in rx.requests]})
                self.reply(404, {})

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                if n:
                    self.rfile.read(n)
                if self.path == "/worker":
                    rc, out, err, secs = ctx.worker(["--once"])
                    owner.worker_runs += 1
                    return self.reply(200 if rc == 0 else 500,
                                      {"rc": rc, "out": out, "err": err})
                if self.path.startswith("/receiver/"):
                    rx.answer(int(self.path.rsplit("/", 1)[1]))
                    return self.reply(200, {})
                self.reply(404, {})

        self.worker_runs = 0
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                      Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def output_dir(ctx):
    out = os.path.join(HERE, "output", "console-%s" % ctx.server_name)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    return out


@test("console: sign in; records list and history, a conflict resolved; a "
      "failing webhook's job failed in the queue, retried from the console, "
      "succeeded once the receiver is fixed; invite; policy dry run; audit "
      "live within 2 s and the chain verified (a wrong hash reported); roles "
      "and 403 details; 360 px; no console errors or CSP violations; "
      "screenshots")
def console_browser(ctx):
    if not os.path.exists(CHROMIUM):
        raise Failure("%s is missing (apt-get install chromium)" % CHROMIUM)
    if not os.path.isdir(PLAYWRIGHT):
        raise Failure("%s is missing (npm ci in clients/js)" % PLAYWRIGHT)
    org = cli_json(ctx, ["org", "create", "console-%s" % secrets.token_hex(3),
                         "--rate-limit", harness.SHARED_ORG_RATE]).strip()
    admin = json.loads(cli_json(ctx, [
        "key", "create", "--org", org, "--email",
        "console-admin@example.com", "--role", "admin", "--json"]))
    operator = json.loads(cli_json(ctx, [
        "key", "create", "--org", org, "--email",
        "console-operator@example.com", "--role", "operator", "--json"]))
    rx = Receiver()
    rx.answer(500, body=b"boom")
    control = Control(ctx, rx)
    try:
        out = output_dir(ctx)
        text = run_node(ctx, ["--test", "--test-concurrency=1", SCRIPT], {
            "RS_URL": ctx.base_url,
            "RS_API_KEY": admin["api_key"],
            "RS_OPERATOR_KEY": operator["api_key"],
            "RS_OPERATOR_ID": operator["user_id"],
            "RS_CONTROL": control.url,
            "RS_HOOK_URL": rx.url("/hook"),
            "RS_OUT": out,
            "RS_CHROMIUM": CHROMIUM,
        }, NODE_TIMEOUT)
        shots = sorted(os.path.join(out, f) for f in os.listdir(out)
                       if f.endswith(".png"))
        expect(len(shots) >= 8, "screenshots saved: %s" % shots)
        for line in text.splitlines():
            if line.startswith("# ") and ("ms" in line or "entries" in line):
                print(line)
        for path in shots:
            print("# screenshot: %s" % path)
        expect(control.worker_runs >= 2, "the worker ran %d times"
               % control.worker_runs)
    except Failure as e:
        e.args = (str(e) + "\n# " + "\n# ".join(rx.describe()[:40]),)
        raise
    finally:
        control.stop()
        rx.stop()
