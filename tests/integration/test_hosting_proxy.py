"""RelaySync behind Apache with mod_proxy_fcgi and a pool of its own
(issue 18, "Apache under load"): the shipped apache/relaysync-proxy.conf
(with relaysync-common.conf) in front of the pool that
systemd/relaysync-fcgi.socket and relaysync-fcgi@.service describe.

systemd cannot run here, so the test does what it would do with the
installed units, read from PREFIX/etc/relaysync/systemd/ (ProxyPool):
    the socket unit   a listening unix socket at a temp path (instead of its
                      ListenStream=), owned by SocketUser=/SocketGroup= with
                      SocketMode=, backlog SOMAXCONN (systemd's Backlog=);
                      Accept=no, and Service= one of the template's
                      instances, or the test refuses the unit;
    the template      INSTANCES processes of its ExecStart=, each with the
                      listening socket as standard input (StandardInput=
                      socket, Sockets= the socket unit), as User=/Group=,
                      in /, with systemd's PATH, the unit's Environment= and
                      its EnvironmentFile= (the installed relaysync-fcgi.env
                      with its RELAYSYNC_DB and RELAYSYNC_SECRET_FILE lines
                      pointed at the test's database, and short stream
                      knobs appended, as an admin adds settings there);
                      Restart=always after RestartSec= when the test kills
                      one. The hardening lines (NoNewPrivileges=,
                      PrivateTmp=) are not reproduced.
The units themselves pass `systemd-analyze verify` (the systemd package;
a test fails, saying so, where it is missing). Apache (mpm_event,
mod_proxy, mod_proxy_fcgi and what the include needs, no mod_fcgid) runs
from a config written into the temp dir that Includes the shipped
relaysync-proxy.conf at server level with RELAYSYNC_SOCKET Defined; it
sets nothing of the program's: the settings reach the pool only through
its environment.

Every test name starts with "hosting proxy: " (`run.py -k proxy`). They
use a host of their own (started on first use, stopped when the run
ends), so they are registered only in the `--server apache` pass with the
default --apache-form server, as test_hosting_apache.py's are.

Every HTTP call has harness.HTTP_TIMEOUT; every wait is bounded.
"""

import argparse
import grp
import gzip
import json
import os
import pwd
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time

import harness
from harness import (Failure, at_teardown, expect, expect_equal, expect_json,
                     expect_match, expect_problem, free_port, http_call,
                     media_type, open_stream, run_parallel,
                     stream_slot_holders, test)
from test_compression import fetch
from test_server import (HUGE, ONE_MIB, expect_server_problem, raw_exchange,
                         request)
from web_checks import check_web, web_dir

SOCKET_UNIT = "relaysync-fcgi.socket"
SERVICE_UNIT = "relaysync-fcgi@.service"
ENV_FILE = "relaysync-fcgi.env"
INCLUDE = "relaysync-proxy.conf"
INSTANCES = 4             # relaysync-fcgi@{1..4}.service, as README says
# systemd's PATH for system services (systemd 252, Debian 12).
SYSTEMD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
MODULES = ("mpm_event", "authz_core", "alias", "mime", "env", "headers",
           "unique_id", "filter", "deflate", "proxy", "proxy_fcgi")
LIFETIME = 6              # s, RELAYSYNC_STREAM_LIFETIME appended to the env
HEARTBEAT = 2             # s, RELAYSYNC_STREAM_HEARTBEAT
DELIVERY = 2.0            # s from a write's answer to its event's arrival
BEFORE_END = 3.0          # s the event must come before the stream's end
BURST = 32                # requests at once
BURST_ROUNDS = 3
IDLE = 2.0                # s of quiet before each burst
BURST_MAX = 0.8           # s: no request of a burst may take longer
                          # (mod_fcgid's stalls are a whole second)
AFTER_KILL = 20           # requests at once after a process is killed
GONE_WAIT = 10            # s for a killed process / ended stream
REC_RE = r"^rec_[0-9a-z]+$"


def this_pass():
    """--server apache with the default --apache-form server (read from
    sys.argv: run.py imports the test modules before harness.main parses
    the arguments)."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--server")
    p.add_argument("--apache-form", default="server")
    args, _ = p.parse_known_args(sys.argv[1:])
    return args.server == "apache" and args.apache_form == "server"


def ptest(name):
    def register(func):
        def run(ctx):
            expect(ctx.server_name == "apache"
                   and harness.APACHE_FORM == "server",
                   "hosting proxy tests belong to the --server apache pass "
                   "with --apache-form server (registered from sys.argv)")
            func(ctx)
        if this_pass():
            test("hosting proxy: " + name)(run)
        return func
    return register


# --------------------------------------------------------------------------
# the units, read as systemd reads them (the parts the pool uses)
# --------------------------------------------------------------------------

def units_dir(prefix):
    return os.path.join(prefix, "etc", "relaysync", "systemd")


def parse_unit(path):
    """{section: {key: [value, ...]}} of a unit file: `[Section]` lines,
    `Key=value` lines (a key may repeat), blank lines and #/; comments."""
    sections, cur = {}, None
    with open(path, encoding="utf-8") as f:
        for raw in f.read().split("\n"):
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("[") and line.endswith("]"):
                cur = sections.setdefault(line[1:-1], {})
                continue
            expect(cur is not None and "=" in line and
                   not line.endswith("\\"),
                   "%s: a line this test cannot read: %r" % (path, raw))
            key, _, value = line.partition("=")
            cur.setdefault(key.strip(), []).append(value.strip())
    return sections


def values(unit, section, key):
    return unit.get(section, {}).get(key, [])


def one(unit, section, key, path):
    got = values(unit, section, key)
    expect(len(got) == 1, "%s: [%s] %s= should be set once, got %r"
           % (path, section, key, got))
    return got[0]


def parse_env_file(path):
    """An EnvironmentFile= as systemd reads it: NAME=value lines, blank
    lines and #/; comments, a value's surrounding quotes dropped."""
    env = {}
    with open(path, encoding="utf-8") as f:
        for raw in f.read().split("\n"):
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            name, sep, value = line.partition("=")
            expect(sep and re.match(r"^[A-Za-z_][A-Za-z0-9_]*$",
                                    name.strip()),
                   "%s: not a NAME=value line: %r" % (path, raw))
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            env[name.strip()] = value
    return env


def replace_setting(text, name, want, new, source):
    """TEXT with its one line NAME=WANT made NAME=NEW (a Failure when the
    installed file does not say exactly that once)."""
    lines = text.split("\n")
    hits = [i for i, l in enumerate(lines) if l.strip() == name + "=" + want]
    expect(len(hits) == 1, "%s: expected exactly one line %s=%s, found %d "
           "(file: %r)" % (source, name, want, len(hits), text))
    lines[hits[0]] = name + "=" + new
    return "\n".join(lines)


class ProxyPool:
    """The pool as the installed units describe it, started the way
    systemd would start it (see the module's docstring)."""

    def __init__(self, ws):
        self.ws = ws
        udir = units_dir(ws.prefix)
        self.socket_path = os.path.join(udir, SOCKET_UNIT)
        self.service_path = os.path.join(udir, SERVICE_UNIT)
        self.sock_unit = parse_unit(self.socket_path)
        self.svc_unit = parse_unit(self.service_path)
        self.listen = ws.path("run", "fcgi.sock")
        self.log = ws.path("pool.log")
        self.listener = None
        self.procs = {}          # instance -> Popen
        self.read_units()

    def read_units(self):
        su, sp = self.sock_unit, self.socket_path
        vu, vp = self.svc_unit, self.service_path
        listen = one(su, "Socket", "ListenStream", sp)
        expect(listen.startswith("/"),
               "%s: ListenStream=%s is not a unix socket path" % (sp, listen))
        self.unit_listen = listen
        expect_equal(one(su, "Socket", "Accept", sp), "no",
                     "%s: Accept= (one socket for every process)" % sp)
        expect_match(r"^relaysync-fcgi@[^.]+\.service$",
                     one(su, "Socket", "Service", sp),
                     "%s: Service= (an instance of %s)" % (sp, SERVICE_UNIT))
        self.sock_user = one(su, "Socket", "SocketUser", sp)
        self.sock_group = one(su, "Socket", "SocketGroup", sp)
        self.sock_mode = int(one(su, "Socket", "SocketMode", sp), 8)
        expect_equal(one(vu, "Service", "Sockets", vp), SOCKET_UNIT,
                     "%s: Sockets=" % vp)
        expect_equal(one(vu, "Service", "StandardInput", vp), "socket",
                     "%s: StandardInput=" % vp)
        self.argv = shlex.split(one(vu, "Service", "ExecStart", vp))
        expect(self.argv and self.argv[0].startswith("/"),
               "%s: ExecStart= should be an absolute path without a "
               "prefix character: %r" % (vp, self.argv))
        self.user = one(vu, "Service", "User", vp)
        self.group = one(vu, "Service", "Group", vp)
        self.env_files = values(vu, "Service", "EnvironmentFile")
        self.environment = {}
        for line in values(vu, "Service", "Environment"):
            for word in shlex.split(line):
                name, _, value = word.partition("=")
                self.environment[name] = value
        expect_equal(one(vu, "Service", "Restart", vp), "always",
                     "%s: Restart=" % vp)
        self.restart_sec = float(one(vu, "Service", "RestartSec", vp))

    def write_env(self, extra):
        """The installed EnvironmentFile, pointed at this workspace's
        database and secret, EXTRA (NAME -> value) appended; the unit must
        name exactly that installed file. -> the copy's path."""
        installed = os.path.join(units_dir(self.ws.prefix), ENV_FILE)
        expect_equal(self.env_files, [installed],
                     "%s: EnvironmentFile= (the installed %s)"
                     % (self.service_path, ENV_FILE))
        with open(installed, encoding="utf-8") as f:
            text = f.read()
        var = os.path.join(self.ws.prefix, "var", "lib", "relaysync")
        text = replace_setting(text, "RELAYSYNC_DB",
                               os.path.join(var, "relaysync.db"),
                               self.ws.db, installed)
        text = replace_setting(text, "RELAYSYNC_SECRET_FILE",
                               os.path.join(var, "relaysync.key"),
                               self.ws.secret_file, installed)
        if harness.is_pg():     # the host's own files (harness.Workspace)
            extra = dict(extra, RELAYSYNC_STATE=self.ws.state)
        text = text.rstrip("\n") + "\n" + "".join(
            "%s=%s\n" % kv for kv in sorted(extra.items()))
        path = self.ws.path(ENV_FILE)
        harness.write_file(path, text)
        self.env_file = path
        return path

    def proc_env(self):
        env = {"PATH": SYSTEMD_PATH}
        if os.geteuid() == 0:
            pw = pwd.getpwnam(self.user)
            env.update(USER=self.user, LOGNAME=self.user, HOME=pw.pw_dir,
                       SHELL=pw.pw_shell)
        env.update(self.environment)
        env.update(parse_env_file(self.env_file))   # the file wins
        return env

    def open_socket(self):
        """What the socket unit does when started."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.bind(self.listen)
            os.chmod(self.listen, self.sock_mode)
            if os.geteuid() == 0:
                os.chown(self.listen, pwd.getpwnam(self.sock_user).pw_uid,
                         grp.getgrnam(self.sock_group).gr_gid)
            s.listen(socket.SOMAXCONN)
        except OSError:
            s.close()
            raise
        self.listener = s

    def close_socket(self):
        """What stopping the socket unit does."""
        if self.listener is not None:
            self.listener.close()
            self.listener = None
        try:
            os.unlink(self.listen)
        except FileNotFoundError:
            pass

    def spawn(self, instance):
        """Start relaysync-fcgi@INSTANCE.service."""
        ids = {}
        if os.geteuid() == 0:
            ids = {"user": self.user, "group": self.group,
                   "extra_groups": []}
        with open(self.log, "ab") as out:
            self.procs[instance] = subprocess.Popen(
                self.argv, stdin=self.listener.fileno(), stdout=out,
                stderr=subprocess.STDOUT, env=self.proc_env(), cwd="/",
                start_new_session=True, **ids)

    def start(self):
        self.open_socket()
        for i in range(1, INSTANCES + 1):
            self.spawn(i)

    def alive(self):
        return sorted(i for i, p in self.procs.items() if p.poll() is None)

    def pids(self):
        return {p.pid: i for i, p in self.procs.items() if p.poll() is None}

    def restart_dead(self):
        """Restart=always: every ended instance again, after RestartSec=."""
        dead = [i for i, p in self.procs.items() if p.poll() is not None]
        if dead:
            time.sleep(self.restart_sec)
            for i in dead:
                self.spawn(i)
        return dead

    def stop(self):
        """SIGTERM to every process (each finishes its request), SIGKILL
        after harness.STOP_GRACE; then the socket."""
        for p in self.procs.values():
            if p.poll() is None:
                p.terminate()
        deadline = time.monotonic() + harness.STOP_GRACE
        for p in self.procs.values():
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(harness.STOP_GRACE)
        self.procs = {}
        self.close_socket()


# --------------------------------------------------------------------------
# Apache with the shipped include
# --------------------------------------------------------------------------

def apache_config(ws, port, socket_path, form="server", modules=MODULES):
    """A private Apache that Includes relaysync-proxy.conf (FORM "server":
    at server level; "vhost": inside a <VirtualHost>). Nothing of the
    program's settings: only the socket's path."""
    prefix = ws.prefix
    lines = ['ServerRoot "%s"' % ws.dir,
             'DefaultRuntimeDir "%s"' % ws.path("run"),
             'PidFile "%s"' % ws.path("run", "apache2.pid"),
             'ErrorLog "%s"' % ws.path("apache-error.log"),
             "LogLevel warn",
             "Listen 127.0.0.1:%d" % port,
             "ServerName 127.0.0.1"]
    lines += ['LoadModule %s_module "%s/mod_%s.so"'
              % (m, harness.APACHE_MODULES, m) for m in modules]
    if ws.run_as:
        lines += ["User %s" % ws.run_as, "Group %s" % ws.run_as]
    lines += ["TypesConfig /etc/mime.types",
              'DocumentRoot "%s"' % ws.www,
              'Define RELAYSYNC_SOCKET "%s"' % socket_path]
    inc = 'Include "%s"' % os.path.join(prefix, "etc", "relaysync", "apache",
                                        INCLUDE)
    if form == "vhost":
        lines += ["<VirtualHost 127.0.0.1:%d>" % port,
                  "    ServerName 127.0.0.1",
                  '    DocumentRoot "%s"' % ws.www,
                  "    " + inc,
                  "</VirtualHost>"]
    else:
        lines.append(inc)
    return "\n".join(lines) + "\n"


class ProxyApache(harness.Server):
    name = "apache"

    def __init__(self, ws, port, socket_path, pool_log):
        super().__init__(ws, port)
        self.socket_path = socket_path
        self.pool_log = pool_log

    def config_path(self):
        return self.ws.path("apache.conf")

    def log_files(self):
        return [self.ws.path("apache-error.log"), self.output, self.pool_log]

    def argv(self):
        return [harness.APACHE_BIN, "-f", self.config_path(), "-DFOREGROUND"]

    def write_config(self):
        harness.write_file(self.config_path(),
                           apache_config(self.ws, self.port,
                                         self.socket_path))


class ProxyHost:
    """The pool and the Apache in front of it, with an org and its admin
    token in the pool's database."""

    def __init__(self, ctx):
        self.ws = harness.Workspace(ctx.prefix, ctx.workspace.run_as)
        self.pool = ProxyPool(self.ws)
        self.pool.write_env({"RELAYSYNC_STREAM_LIFETIME": LIFETIME,
                             "RELAYSYNC_STREAM_HEARTBEAT": HEARTBEAT})
        if self.ws.run_as:
            harness.chown_tree(self.ws.dir, self.ws.run_as)
        self.port = free_port()
        self.apache = ProxyApache(self.ws, self.port, self.pool.listen,
                                  self.pool.log)
        self.tok = None

    def cli_ok(self, args):
        rc, out, err = self.ws.cli(args)
        if rc != 0:
            raise Failure("relaysync-admin %s: exit %d: %s%s"
                          % (" ".join(args), rc, out, err))
        return out.strip()

    def start(self):
        self.cli_ok(["init"])
        org = self.cli_ok(["org", "create", "proxy", "--rate-limit",
                           harness.SHARED_ORG_RATE])
        self.org = org
        self.key = json.loads(self.cli_ok(
            ["key", "create", "--org", org, "--email",
             "admin@proxy.example.com", "--role", "admin", "--json"]))["api_key"]
        self.pool.start()
        self.apache.start()
        self.wait_healthy()
        self.tok = self.token(self.key)

    def wait_healthy(self):
        harness.wait_healthy(
            lambda t: self.call("GET", "/v1/health", timeout=t),
            self.apache.running, "Apache (mod_proxy_fcgi)", self.log_tail)

    def log_tail(self):
        return " | ".join(
            harness.LogWatch(self.apache.log_files()).tail()[-10:])

    def call(self, method, path, body=None, headers=None, token=None,
             timeout=harness.HTTP_TIMEOUT):
        return http_call(self.port, method, path, body, headers, token,
                         timeout=timeout)

    def token(self, key):
        body = expect_json(self.call("POST", "/v1/auth/token",
                                     {"api_key": key}), 200)
        expect(isinstance(body.get("access_token"), str),
               "no access_token in %r" % body)
        return body["access_token"]

    def create(self, title="proxied", **members):
        body = {"title": title, "type": "proxy-" + secrets.token_hex(3)}
        body.update(members)
        resp = self.call("POST", "/v1/records", body, token=self.tok)
        rec = expect_json(resp, 201)
        return rec, resp

    def stop(self):
        try:
            self.apache.stop()
        finally:
            self.pool.stop()
            if os.environ.get("KEEP") == "1":
                print("# kept proxy host temp dir %s" % self.ws.dir)
            else:
                self.ws.remove()


_HOST = []


def host(ctx):
    """The running ProxyHost; a start that failed fails every later test
    at once, with the same reason."""
    if _HOST:
        if isinstance(_HOST[0], Exception):
            raise Failure("the proxy host could not start earlier: %s"
                          % _HOST[0])
        return _HOST[0]
    try:
        h = ProxyHost(ctx)
    except Exception as e:  # noqa: kept for the later tests
        _HOST.append(e)
        raise
    at_teardown(h.stop)
    try:
        h.start()
    except Exception as e:  # noqa: kept for the later tests
        _HOST.append(e)
        raise
    _HOST.append(h)
    return h


def expect_content_length(resp, what):
    cl = resp.headers.get("Content-Length")
    expect(cl is not None and int(cl) == len(resp.body),
           "%s: Content-Length %r for a body of %d bytes (the program's "
           "length should be kept)" % (what, cl, len(resp.body)), resp)


# --------------------------------------------------------------------------
# the shipped files
# --------------------------------------------------------------------------

@ptest("the shipped socket unit and service template pass "
       "`systemd-analyze verify` without a warning")
def units_verify(ctx):
    tool = shutil.which("systemd-analyze")
    expect(tool, "systemd-analyze is not installed (Debian: apt-get install "
           "systemd): the shipped units cannot be verified")
    d = ctx.workspace.path("units-verify")
    os.makedirs(d, exist_ok=True)
    for name in (SOCKET_UNIT, SERVICE_UNIT):
        shutil.copy(os.path.join(units_dir(ctx.prefix), name), d)
    done = subprocess.run([tool, "verify", "--man=no", SOCKET_UNIT,
                           SERVICE_UNIT.replace("@", "@1")],
                          cwd=d, capture_output=True, timeout=60,
                          stdin=subprocess.DEVNULL)
    said = (done.stdout + done.stderr).decode("utf-8", "replace").strip()
    expect(done.returncode == 0 and not said,
           "systemd-analyze verify: exit %d: %s"
           % (done.returncode, said or "(nothing said)"))


@ptest("relaysync-proxy.conf loads at server level and inside a "
       "<VirtualHost> (apache2 -t), and names mod_proxy_fcgi when it is "
       "not loaded")
def include_forms(ctx):
    ws = harness.Workspace(ctx.prefix)
    try:
        sock = ws.path("run", "fcgi.sock")
        for form, modules, ok in (
                ("server", MODULES, True), ("vhost", MODULES, True),
                ("server", tuple(m for m in MODULES if m != "proxy_fcgi"),
                 False)):
            path = ws.path("apache-%s-%d.conf" % (form, len(modules)))
            harness.write_file(path, apache_config(ws, free_port(), sock,
                                                   form, modules))
            done = subprocess.run([harness.APACHE_BIN, "-t", "-f", path],
                                  capture_output=True, timeout=30,
                                  stdin=subprocess.DEVNULL)
            said = (done.stdout + done.stderr).decode("utf-8", "replace")
            if ok:
                expect(done.returncode == 0, "apache2 -t, the include at %s "
                       "level: exit %d: %s" % (form, done.returncode, said))
            else:
                expect(done.returncode != 0 and
                       "RelaySync needs mod_proxy_fcgi" in said,
                       "apache2 -t without mod_proxy_fcgi: want a failure "
                       "naming it, got exit %d: %s" % (done.returncode, said))
    finally:
        ws.remove()


# --------------------------------------------------------------------------
# the API through the pool
# --------------------------------------------------------------------------

@ptest("health, a token exchange and /v1/me (Authorization reaches the "
       "pool; without it a 401 problem), the settings from the pool's "
       "environment file")
def basics(ctx):
    h = host(ctx)
    resp = h.call("GET", "/v1/health")
    body = expect_json(resp, 200)
    expect_equal(body.get("status"), "ok", "health status", resp)
    expect_content_length(resp, "GET /v1/health")
    resp = h.call("GET", "/v1/me", token=h.tok)
    me = expect_json(resp, 200)
    expect_equal(me.get("org_id"), h.org, "org_id of /v1/me (the org made "
                 "in the environment file's database)", resp)
    expect_problem(h.call("GET", "/v1/me"), 401, "unauthorized")
    cfg = h.ws.path("apache.conf")
    with open(cfg, encoding="utf-8") as f:
        expect("RELAYSYNC_DB" not in f.read(),
               "the test's Apache config names RELAYSYNC_DB: the setting "
               "must come from the pool's environment alone")


@ptest("a record: POST 201 with Location and ETag, GET at Location the same "
       "record and ETag, both with the program's Content-Length")
def record_roundtrip(ctx):
    h = host(ctx)
    rec, resp = h.create("proxied record", data={"n": 1})
    expect_match(REC_RE, rec.get("id"), "id", resp)
    expect_equal(resp.headers.get("Location"), "/v1/records/" + rec["id"],
                 "Location", resp)
    expect_equal(resp.headers.get("ETag"), '"%s"' % rec["causal"], "ETag",
                 resp)
    expect_content_length(resp, "POST /v1/records")
    got = h.call("GET", resp.headers["Location"], token=h.tok)
    expect_equal(expect_json(got, 200), rec, "GET at Location", got)
    expect_equal(got.headers.get("ETag"), '"%s"' % rec["causal"],
                 "ETag of GET", got)
    expect_content_length(got, "GET /v1/records/<id>")


@ptest("JSON problems: 413 at once for a declared 100 GB body, the "
       "program's 413 for 1 MiB + 1, 411 for a chunked body, 400 for a "
       "malformed escape and a malformed header, 404 for /v2/... and an "
       "encoded slash")
def problems(ctx):
    h = host(ctx)
    data = request("POST", "/v1/records",
                   ["Authorization: Bearer " + h.tok,
                    "Content-Type: application/json",
                    "Content-Length: %d" % HUGE], b'{"title":')
    t0 = time.monotonic()
    resp = raw_exchange(h.port, data, "/v1/records", timeout=5)
    took = time.monotonic() - t0
    expect_server_problem(resp, 413, instance="/v1/records",
                          code="payload_too_large")
    expect(took < 3, "answered after %.1f s, not at once" % took, resp)
    resp = h.call("POST", "/v1/records", b"x" * (ONE_MIB + 1),
                  {"Content-Type": "application/json"}, h.tok)
    p = expect_problem(resp, 413, "payload_too_large")
    expect("1048577" in p["detail"], "the program's own 413 names the "
           "body's size: %r" % p["detail"], resp)
    body = json.dumps({"title": "chunked", "type": "proxy"}).encode()
    data = request("POST", "/v1/records",
                   ["Authorization: Bearer " + h.tok,
                    "Content-Type: application/json",
                    "Transfer-Encoding: chunked"],
                   b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
    resp = raw_exchange(h.port, data, "/v1/records")
    expect_server_problem(resp, 411, instance="/v1/records",
                          code="length_required")
    resp = h.call("GET", "/v1/records/%zz", token=h.tok)
    expect_server_problem(resp, 400, code="invalid_request")
    resp = raw_exchange(h.port, request("GET", "/v1/health",
                                        ["Bad header line"]), "/v1/health")
    expect_server_problem(resp, 400, code="invalid_request")
    expect_problem(h.call("GET", "/v2/records", token=h.tok), 404,
                   "not_found")
    rec, _ = h.create("slashed")
    for path in ("/v1/records%2F" + rec["id"], "/v1%2Frecords%2F" + rec["id"]):
        expect_problem(h.call("GET", path, token=h.tok), 404, "not_found")


@ptest("an event stream is live: a record's event arrives within 2 s of "
       "the write, seconds before the stream ends itself (lifetime 6 s)")
def stream_live(ctx):
    h = host(ctx)
    with open_stream(h.port, "/v1/events/stream", token=h.tok) as s:
        expect_equal(s.status, 200, "status", s.response())
        expect_equal(media_type(s.response()), "text/event-stream",
                     "Content-Type", s.response())
        first = s.next_frame(2.0)
        expect(first is not None and first.is_retry(),
               "no `retry: 1000` block within 2 s of the head: %r"
               % (first and first.lines), s.response())
        rec, _ = h.create("streamed")
        t_ans = time.monotonic()
        got = None
        while got is None:
            f = s.next_frame(max(0.0, t_ans + DELIVERY - time.monotonic()))
            expect(f is not None, "no event within %.1f s of the write "
                   "(answer ended: %s)" % (DELIVERY, s.ended), s.response())
            if f.event is not None:
                got = f
        expect_equal(got.event, "record.created", "event", s.response())
        expect_equal(got.json()["data"]["id"], rec["id"], "event's record",
                     s.response())
        expect(not s.ended, "the stream ended with the event: not live",
               s.response())
        expect(s.read_all(LIFETIME + 5), "the stream did not end itself "
               "within %d s" % (LIFETIME + 5), s.response())
        ended = time.monotonic()
        expect(ended - got.t >= BEFORE_END,
               "the event arrived %.2f s before the stream's end (want >= "
               "%.1f s): it was held back, not passed through live"
               % (ended - got.t, BEFORE_END), s.response())


@ptest("compression as under relaysync.conf: a JSON list over 1 KiB goes "
       "out gzip-compressed with Vary, a record with an ETag as is")
def compression(ctx):
    h = host(ctx)
    for i in range(8):
        h.create("compressible %d %s" % (i, "z" * 120))
    # (compression's own fetch: a compressed body stays out of the
    # contract log, which checks bodies as sent)
    resp = fetch(h.port, "GET", "/v1/records?limit=50", token=h.tok,
                 ae="gzip")
    expect_equal(resp.status, 200, "status", resp)
    expect_equal(resp.headers.get("Content-Encoding"), "gzip",
                 "Content-Encoding of a list over 1 KiB", resp)
    expect("Accept-Encoding" in (resp.headers.get("Vary") or ""),
           "Vary: %r" % resp.headers.get("Vary"), resp)
    listed = json.loads(gzip.decompress(resp.body))
    expect(len(json.dumps(listed)) > 1024 and listed["data"],
           "the list is not over 1 KiB", resp)
    rec, _ = h.create("etagged", data={"pad": "q" * 1500})
    resp = fetch(h.port, "GET", "/v1/records/" + rec["id"], token=h.tok,
                 ae="gzip")
    expect_json(resp, 200)
    expect(resp.headers.get("Content-Encoding") is None,
           "a record with an ETag was compressed", resp)
    expect_equal(resp.headers.get("ETag"), '"%s"' % rec["causal"], "ETag",
                 resp)


@ptest("/console/ and /docs/ are served as under relaysync.conf (types, "
       "the strict CSP, redirects, nothing else reachable, gzip)")
def web_pages(ctx):
    h = host(ctx)
    check_web(lambda method, url, headers=None:
              h.call(method, url, headers=headers), "",
              web_dir(ctx.prefix), "sql/0001_init.sql", compressed=True)


# --------------------------------------------------------------------------
# under load
# --------------------------------------------------------------------------

@ptest("%d requests at once after %.0f s idle, %d times: every one 200, "
       "none slower than %.1f s (no one-second stall)"
       % (BURST, IDLE, BURST_ROUNDS, BURST_MAX))
def burst(ctx):
    h = host(ctx)
    rec, _ = h.create("burst")
    path = "/v1/records/" + rec["id"]

    def one_request(i):
        def run():
            t0 = time.monotonic()
            if i % 4 == 0:
                resp = h.call("GET", "/v1/health")
            else:
                resp = h.call("GET", path, token=h.tok)
            return resp, time.monotonic() - t0
        return run

    worst = []
    for rnd in range(BURST_ROUNDS):
        time.sleep(IDLE)
        results = run_parallel([one_request(i) for i in range(BURST)], 60)
        times = []
        for i, (got, exc) in enumerate(results):
            if exc is not None:
                raise exc
            resp, took = got
            expect_equal(resp.status, 200, "round %d request %d status"
                         % (rnd + 1, i), resp)
            times.append(took)
        times.sort()
        worst.append(times[-1])
        expect(times[-1] < BURST_MAX,
               "round %d: the slowest of %d requests took %.3f s (want < "
               "%.1f s); median %.3f s; all: %s"
               % (rnd + 1, BURST, times[-1], BURST_MAX,
                  times[len(times) // 2],
                  " ".join("%.3f" % t for t in times)))
    print("# slowest request per round: %s s"
          % ", ".join("%.3f" % t for t in worst))


@ptest("SIGKILL of the pool process serving a stream ends that stream only: "
       "the others answer %d requests at once; restarted (Restart=always), "
       "the pool has %d processes again" % (AFTER_KILL, INSTANCES))
def kill_one(ctx):
    h = host(ctx)
    rec, _ = h.create("kill")
    path = "/v1/records/" + rec["id"]
    expect_equal(h.pool.alive(), list(range(1, INSTANCES + 1)),
                 "running instances before")
    with open_stream(h.port, "/v1/events/stream", token=h.tok) as s:
        expect_equal(s.status, 200, "stream status", s.response())
        deadline = time.monotonic() + GONE_WAIT
        holders = []
        while not holders and time.monotonic() < deadline:
            holders = sorted(stream_slot_holders(h.ws.state))
            time.sleep(0.1)
        pids = h.pool.pids()
        expect(len(holders) == 1 and holders[0] in pids,
               "want one pool process holding the stream's slot, got %r "
               "(pool: %r)" % (holders, pids))
        victim = pids[holders[0]]
        os.kill(holders[0], signal.SIGKILL)
        h.pool.procs[victim].wait(GONE_WAIT)
        expect(s.read_all(GONE_WAIT) or s.eof,
               "the killed process's stream did not end within %d s"
               % GONE_WAIT, s.response())
    alive = h.pool.alive()
    expect_equal(alive, [i for i in range(1, INSTANCES + 1) if i != victim],
                 "running instances after the kill")

    def get():
        return h.call("GET", path, token=h.tok)
    for i, (resp, exc) in enumerate(run_parallel([get] * AFTER_KILL, 60)):
        if exc is not None:
            raise exc
        expect_equal(resp.status, 200, "request %d after the kill" % i, resp)
    expect_equal(h.pool.restart_dead(), [victim], "instances restarted")
    for _ in range(INSTANCES * 2):
        expect_json(h.call("GET", path, token=h.tok), 200)
    expect_equal(h.pool.alive(), list(range(1, INSTANCES + 1)),
                 "running instances after the restart")


@ptest("with the pool's socket gone the API answers a 503 problem; with the "
       "pool back, the very next request is served")
def pool_down(ctx):
    h = host(ctx)
    h.pool.stop()
    try:
        for path in ("/v1/health", "/v1/records"):
            resp = h.call("GET", path, token=h.tok)
            expect_problem(resp, 503, "service_unavailable")
    finally:
        h.pool.start()
    resp = h.call("GET", "/v1/health")
    expect_json(resp, 200)
