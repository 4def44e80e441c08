"""Support for test_hosting_lighttpd.py: private lighttpd servers that
serve RelaySync through the shipped includes in the two hosting forms
the tests check, each on a temp dir and database of its own:

- "fastcgi": relaysync-paths.conf + relaysync.conf (mod_fastcgi, a pool);
- "cgi":     relaysync-paths.conf + relaysync-cgi.conf (mod_cgi, one
             process per request, for hosts without FastCGI daemons);

mounted at the root ("") or under a sub-path (var.relaysync_base set
between the two includes, as an operator would). Everything else is the
run's (harness.Lighttpd): 127.0.0.1, a free port, the error log, the
optional relaysync-magnet.conf, SIGTERM/SIGKILL of the whole session.
"""

import json
import os
import secrets
import socket
import time

import harness
from harness import Failure, expect, expect_json, free_port, http_call

MOUNT = "/~crew/relaysync"


class HostedLighttpd(harness.Lighttpd):
    """harness.Lighttpd with the mount set before the main include and a
    choice of main include. FORM: "fastcgi" (relaysync.conf) or "cgi"
    (relaysync-cgi.conf); MOUNT: var.relaysync_base ("" leaves the
    include's default, the root). The program's extra environment
    (harness APP_ENV with APP_ENV changes): under FastCGI lighttpd's own
    environment, which the pool inherits (as the run's server); under
    mod_cgi, which hands a CGI none of lighttpd's environment, the
    include's var.relaysync_env."""

    def __init__(self, ws, port, hosting="fastcgi", mount="", **kwargs):
        super().__init__(ws, port, **kwargs)
        self.hosting = hosting
        self.mount = mount

    def write_config(self):
        ws, prefix = self.ws, self.ws.prefix
        conf = os.path.join(prefix, "etc/relaysync/lighttpd")
        main = {"fastcgi": "relaysync.conf",
                "cgi": "relaysync-cgi.conf"}[self.hosting]
        lines = [
            'server.document-root = "%s"' % ws.www,
            "server.port = %d" % self.port,
            'server.bind = "127.0.0.1"',
            'server.errorlog = "%s"' % ws.path("lighttpd-error.log"),
            'include "%s"' % os.path.join(conf, "relaysync-paths.conf"),
            'var.relaysync_fcgi := "%s"' % self.fcgi,
            'var.relaysync_db := "%s"' % ws.db,
            'var.relaysync_secret_file := "%s"' % ws.secret_file,
            'var.relaysync_socket := "%s"' % ws.path("fcgi.sock"),
            "var.relaysync_procs := %d" % self.procs,
        ]
        if harness.is_pg():
            lines.append('var.relaysync_state := "%s"' % ws.state)
        if self.mount:
            lines.append('var.relaysync_base := "%s"' % self.mount)
        if self.hosting == "cgi":
            env = sorted(self.app_env().items())
            lines.append("var.relaysync_env = ( %s )" % ", ".join(
                '"%s" => "%s"' % (k, v) for k, v in env))
        lines.append('include "%s"' % os.path.join(conf, main))
        if os.path.exists(harness.LIGHTTPD_MAGNET):
            lines.append('include "%s"'
                         % os.path.join(conf, "relaysync-magnet.conf"))
        lines += self.extra
        harness.write_file(self.config_path(), "\n".join(lines) + "\n")


class Site:
    """RelaySync behind a HostedLighttpd (HOSTING, MOUNT) with APP_ENV
    changes, on a temp dir of its own, started and answering
    <mount>/v1/health; an org (rate limit RATE) with an admin key.
    Paths given to call() are the API's (/v1/...): the mount is put in
    front. Its logs join the run's LogWatch while it runs."""

    def __init__(self, ctx, hosting, mount, app_env=None, rate=1000000,
                 fcgi=None, healthy=True):
        """FCGI: the program (default: the prefix's); HEALTHY: wait for
        <mount>/v1/health to answer 200 and make the org (False: only
        start lighttpd)."""
        self.ctx = ctx
        self.hosting = hosting
        self.mount = mount
        self.ws = harness.Workspace(ctx.prefix, ctx.workspace.run_as)
        self.server = None
        try:
            self.cli_ok(["init"])
            self.port = free_port()
            self.server = HostedLighttpd(self.ws, self.port, hosting=hosting,
                                         mount=mount, app_env=app_env,
                                         fcgi=fcgi)
            self.logs = self.server.log_files()
            self.server.start()
            ctx.logs.files = ctx.logs.files + self.logs
            if healthy:
                self.wait_healthy()
                self.org, self.key = self.new_org("site", rate)
        except BaseException:
            self.stop()
            raise

    def __repr__(self):
        return "%s at %r" % (self.hosting, self.mount or "/")

    # -- setup ----------------------------------------------------------
    def cli_ok(self, args):
        rc, out, err = self.ws.cli(args)
        expect(rc == 0, "relaysync-admin %s: exit %d: %s%s"
               % (" ".join(args), rc, out, err))
        return out.strip()

    def new_org(self, label, rate=1000000):
        """A fresh org with an admin key -> (org id, API key)."""
        name = "%s-%s" % (label, secrets.token_hex(3))
        org = self.cli_ok(["org", "create", name, "--rate-limit", str(rate)])
        key = json.loads(self.cli_ok(
            ["key", "create", "--org", org, "--email",
             "admin@%s.example.com" % name, "--role", "admin",
             "--json"]))["api_key"]
        return org, key

    def wait_healthy(self):
        harness.wait_healthy(
            lambda t: self.call("GET", "/v1/health", timeout=t),
            self.server.running, "lighttpd (%r) under %r" % (self, self.mount),
            self.log_tail)

    def program_pids(self):
        """The live processes of lighttpd's session (it runs in a session
        of its own) whose command line names relaysync.fcgi."""
        sid = self.server.proc.pid
        pids = []
        for name in os.listdir("/proc"):
            if not name.isdigit() or int(name) == sid:
                continue
            try:
                if os.getsid(int(name)) != sid:
                    continue
                with open("/proc/%s/cmdline" % name, "rb") as f:
                    if b"relaysync.fcgi" in f.read():
                        pids.append(int(name))
            except OSError:
                continue
        return pids

    def log_tail(self):
        return " | ".join(harness.LogWatch(self.logs).tail()[-8:])

    def stop(self):
        if self.server is not None and self.server.proc is not None:
            self.server.stop()
            self.ctx.logs.files = [f for f in self.ctx.logs.files
                                   if f not in self.logs]
        if os.environ.get("KEEP") == "1":
            print("# kept hosting side server dir %s" % self.ws.dir)
        else:
            self.ws.remove()

    # -- calls ----------------------------------------------------------
    def path(self, api_path):
        """The URL path of API_PATH (/v1/...) under the mount."""
        return self.mount + api_path

    def call(self, method, api_path, body=None, headers=None, token=None,
             timeout=harness.HTTP_TIMEOUT):
        return http_call(self.port, method, self.path(api_path), body,
                         headers, token, timeout)

    def call_raw(self, method, url_path, body=None, headers=None, token=None):
        """A call to URL_PATH as it is (no mount put in front)."""
        return http_call(self.port, method, url_path, body, headers, token)

    def token(self, key=None):
        resp = self.call("POST", "/v1/auth/token",
                         {"api_key": key or self.key})
        body = expect_json(resp, 200)
        tok = body.get("access_token")
        expect(isinstance(tok, str) and tok,
               "token exchange gave no access_token", resp)
        return tok


def raw_exchange(port, data, path, timeout=harness.HTTP_TIMEOUT):
    """Send DATA (a whole request, bytes) to 127.0.0.1:PORT and read the
    answer until the server closes (Connection: close) or answers a whole
    Content-Length body -> harness.Response (PATH for diagnostics). The
    send may be cut short by an early answer (413)."""
    stub = harness.Response("RAW", path, {}, None, None,
                            harness.Headers([]), b"")
    deadline = time.monotonic() + timeout
    got = b""
    try:
        with socket.create_connection(("127.0.0.1", port),
                                      timeout=timeout) as s:
            try:
                s.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                pass
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Failure("no whole answer within %d s: %r"
                                  % (timeout, got[:300]), stub)
                s.settimeout(left)
                try:
                    chunk = s.recv(65536)
                except ConnectionResetError:
                    chunk = b""
                if not chunk:
                    break
                got += chunk
                resp = parse_answer(got, stub, final=False)
                if resp is not None:
                    return resp
    except OSError as e:
        if not got:
            raise Failure("no HTTP answer: %s: %s" % (type(e).__name__, e),
                          stub)
    return parse_answer(got, stub, final=True)


def parse_answer(data, stub, final):
    """An HTTP/1.x answer in DATA -> Response; None while incomplete
    (unless FINAL)."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        if final:
            raise Failure("incomplete answer: %r" % data[:300], stub)
        return None
    lines = head.decode("latin-1").split("\r\n")
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        raise Failure("not an HTTP status line: %r" % lines[0], stub)
    pairs = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        pairs.append((name.strip(), value.strip()))
    headers = harness.Headers(pairs)
    length = headers.get("Content-Length")
    if length is not None and len(body) >= int(length):
        body = body[:int(length)]
    elif not final:
        return None
    return harness.Response(stub.request_method, stub.request_path,
                            stub.request_headers, None, status, headers,
                            body)
