"""The JavaScript sync client (clients/js, issue 16) end to end: each test
runs one node test file of clients/js/test/e2e/ (`node --test FILE`)
against this run's server, or a side server of the run's kind, and passes
when node exits 0 (its output is shown when it does not).

Each test makes what its file needs with the CLI and hands it over in the
environment (clients/js/test/e2e/env.mjs lists the names): RS_URL,
RS_API_KEY (+ RS_API_KEY_2, a second admin of the same fresh org), RS_ORG,
RS_KEY_SLOW (an org with --rate-limit 2), RS_FCGI and RS_DB (the crash
test SIGKILLs, by pid, the processes running RS_FCGI whose RELAYSYNC_DB
is RS_DB: this server's pool, not another run's on the same prefix),
RS_OLD_SYNC_TOKEN (a sync token of RS_ORG minted 91 days ago, for the
410), RS_FOLLOW_URL / RS_FOLLOW_KEY (a side server whose streams end after
3 s) and RS_SPEED_KEY (an empty org). The speed test's times are printed as `#` lines;
JSCLIENT_VERBOSE=1 prints every node output (diagnostics: kills, replays).

The browser test runs clients/js/test/browser/offline-reload.test.mjs
against a side server that the node test stops and starts through a small
control server here (POST /stop, /start), so the page really loses the
server. It needs Debian's chromium (RELAYSYNC_IT_CHROMIUM, default
/usr/bin/chromium) and playwright-core (`npm ci` in clients/js), and
fails, saying which, when either is missing (scripts/test installs both).

Every test name starts with "jsclient: " (`run.py -k jsclient`). node is
Debian's (v18+); the client itself has no npm dependencies.
"""

import hashlib
import hmac
import json
import os
import secrets
import shutil
import subprocess
import time

import harness
import node_run
from harness import (Failure, b64url, expect, free_port, http_call,
                     kdf_subkey, read_master_key, test)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
CLIENT = os.path.join(ROOT, "clients", "js")
E2E = os.path.join(CLIENT, "test", "e2e")
BROWSER = os.path.join(CLIENT, "test", "browser")
NODE = shutil.which("node") or "node"
CHROMIUM = os.environ.get("RELAYSYNC_IT_CHROMIUM", "/usr/bin/chromium")
NODE_TIMEOUT = 300        # s, one node test file
FAST_ORG_RATE = "1000000"
SLOW_ORG_RATE = "2"
FOLLOW_LIFETIME = 3       # s, RELAYSYNC_STREAM_LIFETIME of the side server
DAY_MS = 86400 * 1000


def jtest(name, last=False):
    return test("jsclient: " + name, last)


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def cli_ok(ws, args):
    rc, out, err = ws.cli(args)
    expect(rc == 0, "relaysync-admin %s: exit %d: %s%s"
           % (" ".join(args), rc, out, err))
    return out.strip()


def new_org(ws, label, rate=FAST_ORG_RATE, keys=1):
    """A fresh org on WS's database -> (org id, [admin keys of KEYS users])."""
    org = cli_ok(ws, ["org", "create", "%s-%s" % (label, secrets.token_hex(3)),
                      "--rate-limit", rate])
    out = []
    for _ in range(keys):
        out.append(json.loads(cli_ok(ws, [
            "key", "create", "--org", org, "--email",
            "js-%s@example.com" % secrets.token_hex(4), "--role", "admin",
            "--json"]))["api_key"])
    return org, out


def mint_sync_token(secret_file, org_id, change_seq, issued_ms):
    """A sync token signed as the server signs them (test_records.py)."""
    payload = "sync\n%s\n%d\n%d" % (org_id, change_seq, issued_ms)
    head = "rss1." + b64url(payload.encode("utf-8"))
    key = kdf_subkey(read_master_key(secret_file), 3, b"rs_cursr")
    tag = hmac.new(key, head.encode("ascii"), hashlib.sha512).digest()[:32]
    return head + "." + b64url(tag)


def base_env(ctx, side=None):
    """What every node file gets: a fresh org on the run's server, or on
    SIDE (a SideServer)."""
    ws = side.ws if side else ctx.workspace
    org, (key, key2) = new_org(ws, "js", keys=2)
    _, (slow,) = new_org(ws, "js-slow", rate=SLOW_ORG_RATE)
    return {
        "RS_URL": side.url if side else ctx.base_url,
        "RS_API_KEY": key,
        "RS_API_KEY_2": key2,
        "RS_ORG": org,
        "RS_KEY_SLOW": slow,
        "RS_FCGI": side.server.fcgi if side else ctx.server.fcgi,
        "RS_DB": ws.db,
        "RS_OLD_SYNC_TOKEN": mint_sync_token(
            ws.secret_file, org, 0, int(time.time() * 1000) - 91 * DAY_MS),
    }


def run_node(ctx, args, extra_env, timeout=NODE_TIMEOUT):
    if not os.path.exists(os.path.join(CLIENT, "src", "relaysync.mjs")):
        raise Failure("clients/js/src/relaysync.mjs is missing")
    return node_run.run_node(ctx, args, extra_env, timeout,
                             "JSCLIENT_VERBOSE")


def node_test(ctx, name, extra_env, timeout=NODE_TIMEOUT):
    return run_node(ctx, ["--test", "--test-concurrency=1",
                          os.path.join(E2E, name)],
                    extra_env, timeout)


class SideServer:
    """A side server of the run's kind on a temp dir and database of its
    own. FOLLOW: its event streams end after FOLLOW_LIFETIME s (Apache:
    also the unbuffered streaming vhost, live; buffered: the main port)."""

    def __init__(self, ctx, follow=False):
        self.ctx = ctx
        self.ws = harness.Workspace(ctx.prefix, ctx.workspace.run_as)
        rc, out, err = self.ws.cli(["init"])
        if rc != 0:
            self.ws.remove()
            raise Failure("side server: relaysync-admin init: exit %d: %s%s"
                          % (rc, out, err))
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        cls = harness.SERVERS[ctx.server_name]
        knobs = {"RELAYSYNC_STREAM_LIFETIME": FOLLOW_LIFETIME,
                 "RELAYSYNC_STREAM_HEARTBEAT": 1,
                 "RELAYSYNC_STREAMS": 8,
                 "RELAYSYNC_STREAMS_PER_ORG": 8} if follow else {}
        self.server = cls(self.ws, self.port, form=harness.APACHE_FORM,
                          defines=[("RELAYSYNC_MAX_CONN_PER_IP",
                                    harness.RUN_MAX_CONN_PER_IP)],
                          app_env=knobs, streams=follow,
                          procs=12 if follow else None)
        self.live = self.server.stream_port or self.port
        self.buffered = (self.server.buffered_port
                         if follow and ctx.server_name == "apache" else None)
        self.logs = self.server.log_files()

    def start(self):
        self.server.start()
        self.ctx.logs.files = self.ctx.logs.files + self.logs
        deadline = time.monotonic() + harness.START_TIMEOUT
        for port in sorted({self.port, self.live}):
            while True:
                try:
                    if http_call(port, "GET", "/v1/health",
                                 timeout=2).status == 200:
                        break
                except Failure:
                    pass
                if time.monotonic() > deadline or not self.server.running():
                    raise Failure("side server: port %d not healthy"
                                  % port)
                time.sleep(0.2)

    def restart_stopped(self):
        """Start it again after stop_only() (same config, database)."""
        self.server.start()
        deadline = time.monotonic() + harness.START_TIMEOUT
        while True:
            try:
                if http_call(self.port, "GET", "/v1/health",
                             timeout=2).status == 200:
                    return
            except Failure:
                pass
            if time.monotonic() > deadline or not self.server.running():
                raise Failure("side server: not healthy after a restart")
            time.sleep(0.2)

    def stop_only(self):
        """Stop the web server (and its pool), keeping the temp dir."""
        self.server.stop()

    def stop(self):
        self.server.stop()
        self.ctx.logs.files = [f for f in self.ctx.logs.files
                               if f not in self.logs]
        if os.environ.get("KEEP") == "1":
            print("# kept side server dir %s" % self.ws.dir)
        else:
            self.ws.remove()


# --------------------------------------------------------------------------
# the node test files
# --------------------------------------------------------------------------

@jtest("offline edits are queued durably and synced once online "
       "(e2e/offline.test.mjs)")
def offline(ctx):
    node_test(ctx, "offline.test.mjs", base_env(ctx))


@jtest("auth: a 401 renews the token once, a refused token does not loop, "
       "a token near its end is renewed first (e2e/auth.test.mjs)")
def auth(ctx):
    node_test(ctx, "auth.test.mjs", base_env(ctx))


@jtest("ordering: one record's ops never reordered at batch sizes 1, 2, "
       "7, 100; concurrent sync() calls and writes during a push land once; "
       "large records chunked under 1 MiB; a refused create dropped "
       "(e2e/ordering.test.mjs)")
def ordering(ctx):
    node_test(ctx, "ordering.test.mjs", base_env(ctx))


@jtest("crashes: the pool SIGKILLed mid-push of 3,000 creates, the "
       "client's own process killed mid-push and mid-pull, batch answers "
       "lost: each op applied exactly once (e2e/crash.test.mjs)")
def crash(ctx):
    # a side server: its pool is SIGKILLed, and the run's tests after this
    # one must not meet a web server still respawning its backends
    side = SideServer(ctx)
    try:
        side.start()
        node_test(ctx, "crash.test.mjs", base_env(ctx, side))
    finally:
        side.stop()


@jtest("two clients: conflict surfaced, resolved both ways, merged with "
       "merge: true when disjoint (e2e/conflicts.test.mjs)")
def conflicts(ctx):
    node_test(ctx, "conflicts.test.mjs", base_env(ctx))


@jtest("tombstones by delta sync, a poison 410 op dropped, and 410 "
       "sync_token_expired -> full resync (e2e/tombstones.test.mjs)")
def tombstones(ctx):
    node_test(ctx, "tombstones.test.mjs", base_env(ctx))


@jtest("429 back-off on an org limited to 2/s honours Retry-After "
       "(e2e/backoff.test.mjs)")
def backoff(ctx):
    node_test(ctx, "backoff.test.mjs", base_env(ctx))


@jtest("follow() pulls on each event and resumes after the server ends "
       "the stream (lifetime 3 s, side server) (e2e/follow.test.mjs)")
def follow(ctx):
    side = SideServer(ctx, follow=True)
    try:
        side.start()
        _, (key,) = new_org(side.ws, "js-follow", rate="100000")
        env = {"RS_FOLLOW_URL": "http://127.0.0.1:%d" % side.live,
               "RS_FOLLOW_KEY": key,
               "RS_FOLLOW_LIFETIME": str(FOLLOW_LIFETIME)}
        if side.buffered:
            env["RS_FOLLOW_BUFFERED_URL"] = "http://127.0.0.1:%d" \
                % side.buffered
        node_test(ctx, "follow.test.mjs", env)
    finally:
        side.stop()


@jtest("speed: push 10,000 queued creates < 10 s, full pull of 10,000 "
       "< 5 s (e2e/speed.test.mjs)")
def speed(ctx):
    # a side server of its own (an empty database; the run's stays small)
    side = SideServer(ctx)
    try:
        side.start()
        _, (key,) = new_org(side.ws, "js-speed")
        env = {"RS_URL": side.url, "RS_SPEED_KEY": key}
        out = node_test(ctx, "speed.test.mjs", env)
    except Failure as e:
        for line in str(e).splitlines():
            if "SPEED " in line:
                print("# jsclient %s: %s" % (ctx.server_name,
                                             line[line.index("SPEED "):]))
        raise
    finally:
        side.stop()
    for line in out.splitlines():
        if "SPEED " in line and "# Subtest" not in line:
            print("# jsclient %s: %s" % (ctx.server_name,
                                         line[line.index("SPEED "):]))
            break


# --------------------------------------------------------------------------
# the browser test
# --------------------------------------------------------------------------

class Control:
    """A small HTTP server on 127.0.0.1 (a thread) through which the node
    test stops and starts SIDE: POST /stop, POST /start."""

    def __init__(self, side):
        import http.server
        import threading
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                what = self.path.strip("/")
                try:
                    if what == "stop":
                        side.stop_only()
                    elif what == "start":
                        side.restart_stopped()
                    else:
                        raise Failure("unknown control " + what)
                    owner.done.append(what)
                    status, body = 200, b"ok"
                except Exception as e:  # noqa: reported to the node test
                    status, body = 500, str(e).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.done = []
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                     Handler)
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def browser_missing():
    """Why the browser test cannot run here (None: it can)."""
    if not os.path.exists(CHROMIUM):
        return "%s is missing (apt-get install chromium)" % CHROMIUM
    probe = ("require('node:module').createRequire(%s)"
             "('playwright-core')" % json.dumps(
                 os.path.join(CLIENT, "package.json")))
    done = subprocess.run([NODE, "-e", probe], cwd=CLIENT,
                          capture_output=True, timeout=60)
    if done.returncode != 0:
        return "playwright-core is not installed (npm ci in clients/js)"
    return None


@jtest("browser: headless Chromium queues edits in IndexedDB while the "
       "server is stopped, reloads, the server starts, the edits arrive "
       "exactly once; a tab closed mid-push, a new tab finishes "
       "(browser/offline-reload.test.mjs)")
def browser(ctx):
    why = browser_missing()
    if why:
        raise Failure("the browser test cannot run: %s" % why)
    side = SideServer(ctx)
    control = None
    try:
        side.start()
        _, (key,) = new_org(side.ws, "js-browser", rate="100000")
        control = Control(side)
        env = {"RS_URL": side.url,
               "RS_API_KEY": key, "RS_CONTROL": control.url,
               "RS_CHROMIUM": CHROMIUM}
        run_node(ctx, ["--test", os.path.join(BROWSER,
                                              "offline-reload.test.mjs")],
                 env)
        expect(control.done == ["stop", "start"],
               "the side server was stopped and started once: %r"
               % control.done)
    finally:
        if control:
            control.close()
        side.stop()
