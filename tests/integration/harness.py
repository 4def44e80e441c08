"""RelaySync integration harness: a private web server in front of the real
FastCGI program, a Context that tests use to talk to it, and the runner.

Python 3 standard library only (and, on PostgreSQL, Debian's psycopg2).
One run = one server (lighttpd or apache): a temp dir holds the database
(or, on PostgreSQL, names one of its own in a cluster: BACKEND), the
secret, the server config and its logs;
the CLI creates two orgs with an admin key each; the server is started, every
selected test runs once against it, and the server is always stopped.

Later suites reuse all of this: write tests/integration/test_<topic>.py,
`from harness import test, expect, ...`, and register functions with @test.
"""

import base64
import hashlib
import hmac
import http.client
import json
import os
import pwd
import re
import select
import shutil
import signal
import socket
import sqlite3
import stat
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse

DB_TIMEOUT = 30          # seconds, every direct database statement
HTTP_TIMEOUT = 10        # seconds, every HTTP call
START_TIMEOUT = 30       # seconds for /v1/health to answer after start
STOP_GRACE = 5           # seconds between SIGTERM and SIGKILL
CLI_TIMEOUT = 30         # seconds, every relaysync-admin call
WORKER_TIMEOUT = 60      # seconds, every relaysync-worker run
LOG_TAIL_LINES = 20
BODY_SHOWN = 600         # bytes of a body shown in a diagnostic

APACHE_BIN = "/usr/sbin/apache2"
APACHE_MODULES = "/usr/lib/apache2/modules"
APACHE_USER = "www-data"
APACHE_PCRE1 = "/usr/lib/x86_64-linux-gnu/libpcre.so.3"
LIGHTTPD_BIN = "lighttpd"
LIGHTTPD_MAGNET = "/usr/lib/lighttpd/mod_magnet.so"
RUN_MAX_CONN_PER_IP = 1000   # Apache + mod_qos: the run's per-address cap
POOL_SIZE = 4            # lighttpd's max-procs (Apache starts this many)
SHARED_ORG_RATE = "1000000"  # --rate-limit of the run's orgs "demo" and "other"

# How the Apache config includes relaysync.conf: "server" (at server level)
# or "vhost" (inside a <VirtualHost>); run.py --apache-form sets it.
APACHE_FORM = "server"

# Extra environment for the FastCGI program (e.g. RELAYSYNC_TOKEN_TTL).
# Test modules may add to it at import time with set_app_env().
# Webhooks of the run point at receivers on 127.0.0.1 over http://, which
# only an operator's RELAYSYNC_WEBHOOK_ALLOW_PRIVATE=1 permits; a test of
# the refusal starts a side server without it (Server's app_env).
APP_ENV = {"RELAYSYNC_WEBHOOK_ALLOW_PRIVATE": "1"}


def set_app_env(name, value):
    """Ask for NAME=VALUE in the FastCGI program's environment."""
    APP_ENV[name] = str(value)


# --------------------------------------------------------------------------
# The database backend: SQLite files (the default) or PostgreSQL
# --------------------------------------------------------------------------
# run.py --backend sets BACKEND, and with "postgresql" PG_CLUSTER: the
# libpq conninfo of a cluster (no dbname; RS_TEST_PG, or one run.py
# started with tests/pg/cluster) as {keyword: value}. Each Workspace then
# makes a database of its own there (dropped by remove()), and ws.db is
# its URI; ws.state names the host's own files (RELAYSYNC_STATE), which
# with SQLite are named after the database file itself.

BACKEND = "sqlite"
PG_CLUSTER = None
PG_DB_PREFIX = "rs_it_%d_" % os.getpid()   # this run's databases
_PG_DBS = [0]                               # how many it has made


def is_pg():
    """Whether the run's databases are PostgreSQL's."""
    return BACKEND == "postgresql"


def dialect(sqlite, postgresql):
    """The one of two texts (SQL, mostly) that suits the run's backend."""
    return postgresql if is_pg() else sqlite


class NotApplicable(Exception):
    """Ends a test that does not apply to the run's backend: reported,
    counted neither passed nor failed."""


def not_applicable(why):
    """On a PostgreSQL run, end the running test as not applicable
    because WHY (what it is about that PostgreSQL has not: an SQLite
    file, its WAL...). Nothing on an SQLite run."""
    if is_pg():
        raise NotApplicable("not applicable to PostgreSQL: " + why)


def parse_conninfo(text):
    """A libpq conninfo ("host=/tmp/pg port=5432 user=postgres", values
    possibly 'quoted', or a postgresql:// URI) -> {keyword: value}."""
    text = text.strip()
    if re.match(r"^postgres(ql)?://", text):
        u = urllib.parse.urlsplit(text)
        out = {}
        if u.hostname:
            out["host"] = urllib.parse.unquote(u.hostname)
        if u.port:
            out["port"] = str(u.port)
        if u.username:
            out["user"] = urllib.parse.unquote(u.username)
        if u.password:
            out["password"] = urllib.parse.unquote(u.password)
        if u.path.strip("/"):
            out["dbname"] = urllib.parse.unquote(u.path.strip("/"))
        out.update(urllib.parse.parse_qsl(u.query))
        return out
    out = {}
    pat = re.compile(r"\s*(\w+)\s*=\s*('((?:[^'\\]|\\.)*)'|\S+)")
    pos = 0
    while pos < len(text):
        m = pat.match(text, pos)
        if not m:
            raise ValueError("not a conninfo: %r" % text)
        if m.group(3) is not None:
            out[m.group(1)] = re.sub(r"\\(.)", r"\1", m.group(3))
        else:
            out[m.group(1)] = m.group(2)
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


def pg_conninfo(dbname):
    """The cluster's conninfo for DBNAME, key=value (for psql, pg_dump)."""
    parts = dict(PG_CLUSTER)
    parts["dbname"] = dbname
    return " ".join("%s='%s'" % (k, v.replace("\\", "\\\\")
                                  .replace("'", "\\'"))
                    for k, v in parts.items())


def pg_uri(dbname):
    """DBNAME in the cluster as a URI without spaces that libpq takes,
    e.g. postgresql://postgres@/rs_it_1_2?host=/tmp/pg&port=5432 (the
    settings' and the web servers' configs carry it as one word)."""
    parts = {k: v for k, v in PG_CLUSTER.items() if k != "dbname"}
    q = urllib.parse.quote
    user = parts.pop("user", None)
    password = parts.pop("password", None)
    auth = ""
    if user is not None:
        auth = q(user, safe="")
        if password is not None:
            auth += ":" + q(password, safe="")
        auth += "@"
    query = "&".join("%s=%s" % (k, q(v, safe="/")) for k, v in parts.items())
    return "postgresql://%s/%s%s" % (auth, q(dbname, safe=""),
                                     "?" + query if query else "")


def pg_bin(name):
    """The path of PostgreSQL's program NAME (psql, pg_dump): where
    tests/pg/cluster finds initdb (RS_PG_BIN, Debian's newest), else PATH."""
    dirs = [os.environ.get("RS_PG_BIN") or ""] + \
        ["/usr/lib/postgresql/%d/bin" % v for v in (17, 16, 15)]
    for d in dirs:
        if d and os.access(os.path.join(d, name), os.X_OK):
            return os.path.join(d, name)
    return name


def psql(sql, dbname="postgres", timeout=60):
    """Runs SQL with psql on DBNAME of the cluster, stopping at the first
    error -> its output; a RuntimeError naming the SQL when it fails."""
    done = subprocess.run([pg_bin("psql"), "-X", "-q", "-A", "-t",
                           "-v", "ON_ERROR_STOP=1", "-d", pg_conninfo(dbname),
                           "-c", sql],
                          stdin=subprocess.DEVNULL, capture_output=True,
                          timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError("psql %r: exit %d: %s" % (
            sql, done.returncode, done.stderr.decode("utf-8", "replace")))
    return done.stdout.decode("utf-8", "replace")


def pg_create_database():
    """A fresh, empty database in the cluster -> its name."""
    _PG_DBS[0] += 1
    name = "%s%d" % (PG_DB_PREFIX, _PG_DBS[0])
    psql('CREATE DATABASE "%s"' % name)
    return name


def pg_drop_database(name):
    """Drops NAME, ending what is still connected to it (a pool killed
    mid-request leaves no one; a server a failed test did not stop may)."""
    psql('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)


def pg_drop_run_databases():
    """Drops every database this run made and left (a test that did not
    remove its Workspace) -> their names."""
    names = psql("SELECT datname FROM pg_database WHERE datname LIKE '%s%%'"
                 % PG_DB_PREFIX.replace("_", "\\_")).split()
    for name in names:
        pg_drop_database(name)
    return names


_PSYCOPG2 = []


def psycopg2_module():
    """Debian's python3-psycopg2. A python3 that is not Debian's own (a
    pyenv one, say) does not look in Debian's dist-packages: its
    psycopg2 is tried there too (the same CPython minor version loads
    it)."""
    if not _PSYCOPG2:
        try:
            import psycopg2
        except ImportError:
            debian = "/usr/lib/python3/dist-packages"
            if debian in sys.path or not os.path.isdir(debian):
                raise
            sys.path.append(debian)
            try:
                import psycopg2
            finally:
                sys.path.remove(debian)
        _PSYCOPG2.append(psycopg2)
    return _PSYCOPG2[0]


def pg_value(v):
    """A psycopg2 result value as sqlite3 would give it: bytes for bytea,
    an int for a whole numeric (sum(), count() over bigint)."""
    import decimal
    if isinstance(v, memoryview):
        return v.tobytes()
    if isinstance(v, decimal.Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    return v


def pg_sql(sql):
    """SQL written with sqlite3's ? placeholders for psycopg2 (%s; a
    literal % doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")


def pg_connect(db, readonly=False):
    """A psycopg2 connection to DB (a conninfo or URI), autocommit: each
    statement its own transaction, as sqlite3's connect-run-commit."""
    con = psycopg2_module().connect(db, connect_timeout=10)
    con.autocommit = True
    if readonly:
        con.set_session(readonly=True, autocommit=True)
    return con


# --------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------

class TestCase:
    def __init__(self, name, func, last, sqlite_only=None):
        self.name = name
        self.func = func
        self.last = last
        self.sqlite_only = sqlite_only


_TESTS = []


def test(name, last=False, sqlite_only=None):
    """Register a test function f(ctx). Tests run in registration order;
    last=True defers a test to the end of the run (e.g. one that leaves the
    server in a state that would disturb others). SQLITE_ONLY: why the
    test is about SQLite's files themselves; on a PostgreSQL run it is
    then not run but reported not applicable (not_applicable())."""
    def register(func):
        _TESTS.append(TestCase(name, func, last, sqlite_only))
        return func
    return register


_TEARDOWN = []


def at_teardown(func):
    """Call FUNC() when the run ends (before its server stops), e.g. to
    stop a side server that several tests share."""
    _TEARDOWN.append(func)


def selected_tests(substring=None):
    chosen = [t for t in _TESTS if not substring or substring in t.name]
    return [t for t in chosen if not t.last] + [t for t in chosen if t.last]


# --------------------------------------------------------------------------
# Contract log: every exchange, for tests/contract/check.mjs
# --------------------------------------------------------------------------
# run.py sets CONTRACT_LOG to a file; every answered exchange that
# http_call makes, and every SSEStream (its head and what its body had
# when it was closed), is appended to it as one JSON line:
#   {"test", "kind": "http"|"sse", "port", "main" (true: the run's own
#    server, whose API is at the root), "method", "path" (with query),
#    "request_headers": [[name, value], ...], "request_body" (text, or
#    "request_body_base64"), "status",
#    "response_headers": [[name, value], ...] (as sent, repeats kept),
#    "body": text | null, "body_base64": base64 | null (when not UTF-8),
#    "complete": false when a stream's body was cut off by the test}
# After the run, check.mjs validates each one against openapi/openapi.json
# (the contract test, last in the run). An exchange with no answer is not
# recorded (there is nothing to check).

CONTRACT_LOG = None      # path of the log, or None: nothing is recorded
MAIN_PORT = None         # the run's own server (its API at the root)
_STREAMS = []            # SSEStreams opened by the running test
CURRENT_TEST = None      # the name of the test running now
_CONTRACT_LOCK = None


def _log_text(data):
    """(text, None) for UTF-8 bytes, else (None, base64)."""
    data = data or b""
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        return None, base64.b64encode(data).decode("ascii")


def record_exchange(kind, port, method, path, req_headers, status,
                    resp_headers, body, complete=True, req_body=None):
    """Append one answered exchange to CONTRACT_LOG (thread-safe)."""
    global _CONTRACT_LOCK
    if CONTRACT_LOG is None or status is None:
        return
    import threading
    if _CONTRACT_LOCK is None:
        _CONTRACT_LOCK = threading.Lock()
    text, b64 = _log_text(body)
    req_text, req_b64 = _log_text(req_body)
    line = json.dumps({
        "test": CURRENT_TEST, "kind": kind, "port": port,
        "main": port == MAIN_PORT,
        "method": method, "path": path,
        "request_headers": [[str(k), str(v)]
                            for k, v in (req_headers or {}).items()],
        "request_body": req_text, "request_body_base64": req_b64,
        "status": status,
        "response_headers": [[k, v] for k, v in resp_headers],
        "body": text, "body_base64": b64, "complete": complete,
    }) + "\n"
    with _CONTRACT_LOCK:
        with open(CONTRACT_LOG, "a", encoding="utf-8") as f:
            f.write(line)


# --------------------------------------------------------------------------
# Expectations
# --------------------------------------------------------------------------

class Failure(Exception):
    """A test expectation that did not hold; carries the response involved."""

    def __init__(self, message, response=None):
        super().__init__(message)
        self.response = response


def expect(cond, message, response=None):
    if not cond:
        raise Failure(message, response)


def expect_equal(got, want, what, response=None):
    expect(got == want, "%s: expected %r, got %r" % (what, want, got), response)


def expect_match(pattern, value, what, response=None):
    ok = isinstance(value, str) and re.search(pattern, value) is not None
    expect(ok, "%s: expected to match /%s/, got %r" % (what, pattern, value),
           response)


def media_type(resp):
    value = resp.headers.get("Content-Type") or ""
    return value.split(";")[0].strip().lower()


def expect_status(resp, status):
    expect_equal(resp.status, status, "status", resp)


def expect_json(resp, status=200):
    """The response has STATUS, an application/json type and a JSON body;
    returns the parsed body."""
    expect_status(resp, status)
    expect_equal(media_type(resp), "application/json", "Content-Type", resp)
    return resp.json()


def expect_problem(resp, status, code, instance=None):
    """The response is an RFC 9457 problem with every member the contract
    names; INSTANCE defaults to the request path. Returns the parsed body."""
    expect_status(resp, status)
    expect_equal(media_type(resp), "application/problem+json",
                 "Content-Type", resp)
    body = resp.json()
    expect(isinstance(body, dict), "problem body is not an object", resp)
    expect_equal(body.get("code"), code, "problem code", resp)
    expect_equal(body.get("type"), "https://relaysync.io/problems/" + code,
                 "problem type", resp)
    expect_equal(body.get("status"), status, "problem status member", resp)
    for member in ("title", "detail"):
        value = body.get(member)
        expect(isinstance(value, str) and value,
               "problem %s: expected a non-empty string, got %r"
               % (member, value), resp)
    if instance is None:
        instance = resp.request_path.split("?")[0]
    expect_equal(body.get("instance"), instance, "problem instance", resp)
    request_id = resp.headers.get("X-Request-Id")
    expect(request_id, "X-Request-Id header missing", resp)
    expect_equal(body.get("request_id"), request_id,
                 "problem request_id vs X-Request-Id header", resp)
    return body


# --------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------

class Headers:
    """Response headers: an ordered multi-map with case-insensitive names."""

    def __init__(self, pairs):
        self.pairs = list(pairs)

    def get(self, name, default=None):
        values = self.get_all(name)
        return values[0] if values else default

    def get_all(self, name):
        name = name.lower()
        return [v for k, v in self.pairs if k.lower() == name]

    def __getitem__(self, name):
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __contains__(self, name):
        return bool(self.get_all(name))

    def items(self):
        return list(self.pairs)


class Response:
    def __init__(self, method, path, req_headers, req_body,
                 status, headers, body):
        self.request_method = method
        self.request_path = path
        self.request_headers = req_headers
        self.request_body = req_body
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        """The body as JSON; a Failure (not a crash) when it is not JSON."""
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise Failure("body is not JSON (%s)" % e, self)

    def describe(self):
        """Lines showing the exchange, for a failure's diagnostic."""
        lines = ["request: %s %s" % (self.request_method, self.request_path)]
        for k, v in self.request_headers.items():
            lines.append("  %s: %s" % (k, v))
        if self.request_body is not None:
            lines.append("  body: " + show_bytes(self.request_body))
        lines.append("response: %s" % self.status)
        for k, v in self.headers.items():
            lines.append("  %s: %s" % (k, v))
        lines.append("  body: " + show_bytes(self.body))
        return lines


def show_bytes(data):
    """DATA for a diagnostic: text when it decodes, cut to BODY_SHOWN."""
    cut = data[:BODY_SHOWN]
    try:
        text = cut.decode("utf-8")
    except UnicodeDecodeError:
        text = repr(cut)
    more = " ... (%d bytes in all)" % len(data) if len(data) > BODY_SHOWN else ""
    return text.replace("\n", "\\n") + more


def encode_body(body):
    if body is None or isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body).encode("utf-8")


def request_headers(data, headers, token):
    """The headers to send: JSON type for a body, bearer token, then the
    caller's headers (a value of None removes a default)."""
    out = {}
    if data is not None:
        out["Content-Type"] = "application/json"
    if token is not None:
        out["Authorization"] = "Bearer " + token
    for name, value in (headers or {}).items():
        for existing in [k for k in out if k.lower() == name.lower()]:
            del out[existing]
        if value is not None:
            out[name] = value
    return out


def http_call(port, method, path, body=None, headers=None, token=None,
              timeout=HTTP_TIMEOUT, sample=None):
    """One HTTP/1.1 exchange with 127.0.0.1:PORT on a fresh connection,
    recorded for the contract check (only when SAMPLE(response) is true,
    if given: a load test records a sample, not its every request)."""
    data = encode_body(body)
    hdrs = request_headers(data, headers, token)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        try:
            conn.request(method, path, body=data, headers=hdrs)
        except (BrokenPipeError, ConnectionResetError):
            if conn.sock is None:
                raise
            # the server answered early (e.g. 413) and closed: read it
        raw = conn.getresponse()
        payload = raw.read()
        resp = Response(method, path, hdrs, data, raw.status,
                        Headers(raw.getheaders()), payload)
        if sample is None or sample(resp):
            record_exchange("http", port, method, path, hdrs, raw.status,
                            raw.getheaders(), payload, req_body=data)
        return resp
    except (OSError, http.client.HTTPException) as e:
        stub = Response(method, path, hdrs, data, None, Headers([]), b"")
        raise Failure("no HTTP answer: %s: %s" % (type(e).__name__, e), stub)
    finally:
        conn.close()


FCGI_NAME = "relaysync.fcgi"


def session_pids(sid, fcgi_only=False):
    """The live processes of session SID but its leader (a server runs
    in a session of its own); FCGI_ONLY: those whose command line names
    relaysync.fcgi. Sorted."""
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == sid:
            continue
        pid = int(name)
        try:
            if os.getsid(pid) != sid:
                continue
            with open("/proc/%d/stat" % pid) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                cmd = f.read()
        except (OSError, IndexError):
            continue
        if state != "Z" and (not fcgi_only or FCGI_NAME.encode() in cmd):
            pids.append(pid)
    return sorted(pids)


def run_parallel(funcs, timeout):
    """Run each of FUNCS (no arguments) in its own thread, all released at
    once by a barrier; wait at most TIMEOUT seconds in all. Returns a list
    of (result, exception) in the order of FUNCS. A Failure when a thread is
    still running at the deadline (the threads are daemons: they cannot hold
    up the run)."""
    import threading
    barrier = threading.Barrier(len(funcs))
    results = [(None, Failure("thread did not finish"))] * len(funcs)

    def work(i, func):
        try:
            barrier.wait(timeout)
            results[i] = (func(), None)
        except Exception as e:  # noqa: handed back to the caller
            results[i] = (None, e)

    threads = [threading.Thread(target=work, args=(i, f), daemon=True)
               for i, f in enumerate(funcs)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    alive = sum(1 for t in threads if t.is_alive())
    if alive:
        raise Failure("%d of %d threads still running after %d s"
                      % (alive, len(threads), timeout))
    return results


def wait_healthy(get, running, what, log_tail, timeout=START_TIMEOUT):
    """Wait up to TIMEOUT s for GET(timeout) (a GET of /v1/health) to
    answer 200; a Failure naming WHAT, with LOG_TAIL(), when RUNNING()
    says the server exited or the time is up."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if not running():
            raise Failure("%s exited during start: %s" % (what, log_tail()))
        try:
            resp = get(2)
            if resp.status == 200:
                return
            last = "status %s: %s" % (resp.status, show_bytes(resp.body))
        except Failure as e:
            last = str(e)
        time.sleep(0.2)
    raise Failure("%s: GET /v1/health not 200 within %d s (%s): %s"
                  % (what, timeout, last, log_tail()))


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------
# Event streams (text/event-stream): a raw streaming GET, read with timeouts
# --------------------------------------------------------------------------

class SSEFrame:
    """One event-stream block (the lines up to a blank line): LINES as
    sent, T the monotonic time the block's blank line arrived. id, event,
    data (data lines joined by \\n), retry: the last value of each field
    (None when absent); comments: the text after ':' of comment lines."""

    def __init__(self, lines, t):
        self.lines = list(lines)
        self.t = t
        self.id = self.event = self.data = self.retry = None
        self.comments = []
        data = []
        for line in self.lines:
            if line.startswith(":"):
                self.comments.append(line[1:].lstrip(" "))
                continue
            name, _, value = line.partition(":")
            if value.startswith(" "):
                value = value[1:]
            if name == "data":
                data.append(value)
            elif name in ("id", "event", "retry"):
                setattr(self, name, value)
        if data:
            self.data = "\n".join(data)

    def is_heartbeat(self):
        return self.lines == [": heartbeat"]

    def is_retry(self):
        """A place block: `retry: 1000` and the stream's `id:`, no event,
        no data (what a stream sends first and last)."""
        return (self.retry == "1000" and self.event is None
                and self.data is None and not self.comments
                and all(l == "retry: 1000" or l.startswith("id: ")
                        for l in self.lines))

    def json(self):
        """data as JSON; a Failure when it is not."""
        try:
            return json.loads(self.data or "")
        except ValueError as e:
            raise Failure("event data is not JSON (%s): %r" % (e, self.data))

    def __repr__(self):
        return "SSEFrame(%r)" % (self.lines,)


class SSEStream:
    """A GET on a fresh connection to 127.0.0.1:PORT whose answer is read
    as it arrives: status, headers (Headers), then the body's lines with
    their arrival times (chunked, Content-Length or close-delimited bodies
    are all decoded). Every wait has a deadline; nothing here blocks past
    it. A non-200 answer is read whole by open_stream."""

    def __init__(self, port, path, headers=None, token=None,
                 timeout=HTTP_TIMEOUT, source=None):
        self.port = port
        self.path = path
        self.req_headers = request_headers(None, headers, token)
        self.status = None
        self.headers = Headers([])
        self.body = b""          # decoded body so far
        self.ended = False       # the answer's end was read
        self.eof = False         # the server closed the connection
        self.opened_at = None    # monotonic time the head was complete
        self.ended_at = None
        self._raw = b""          # transport bytes not decoded yet
        self._text = b""         # decoded bytes not yet split into lines
        self._lines = []         # (line, time) not yet taken
        self._frame = []         # lines of the frame being assembled
        self._chunked = False
        self._left = None        # bytes of a Content-Length body still due
        self._recorded = False   # in the contract log already (close())
        _STREAMS.append(self)
        deadline = time.monotonic() + timeout
        self.sock = None
        req = ["GET %s HTTP/1.1" % path, "Host: 127.0.0.1:%d" % port]
        have = {k.lower() for k in self.req_headers}
        if "accept" not in have:
            req.append("Accept: text/event-stream")
        req += ["%s: %s" % kv for kv in self.req_headers.items()]
        try:
            self.sock = socket.create_connection(
                ("127.0.0.1", port), timeout=timeout,
                source_address=(source, 0) if source else None)
            self.sock.sendall(("\r\n".join(req) + "\r\n\r\n").encode("utf-8"))
            self._read_head(deadline)
        except OSError as e:
            self.close()
            raise Failure("GET %s: no HTTP answer: %s: %s"
                          % (path, type(e).__name__, e), self.response())
        except Failure:
            self.close()
            raise

    # -- transport ------------------------------------------------------
    def _recv(self, deadline):
        """One recv, waiting at most until DEADLINE: True when bytes (or
        the connection's end) came, False at the deadline."""
        if self.eof:
            return False
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([self.sock], [], [], left)[0]:
            return False
        try:
            data = self.sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            data = b""
        now = time.monotonic()
        if not data:
            self.eof = True
        self._raw += data
        if self.status is not None:
            self._decode(now)
        return True

    def _read_head(self, deadline):
        while b"\r\n\r\n" not in self._raw:
            if not self._recv(deadline):
                raise Failure("GET %s: no complete answer head within the "
                              "deadline (got %r)" % (self.path, self._raw[:200]),
                              self.response())
            if self.eof and b"\r\n\r\n" not in self._raw:
                raise Failure("GET %s: connection closed before the answer "
                              "head (got %r)" % (self.path, self._raw[:200]),
                              self.response())
        head, self._raw = self._raw.split(b"\r\n\r\n", 1)
        lines = head.decode("iso-8859-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        self.status = int(parts[1])
        pairs = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            pairs.append((name.strip(), value.strip()))
        self.headers = Headers(pairs)
        self.opened_at = time.monotonic()
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        self._chunked = "chunked" in te
        if not self._chunked and self.headers.get("Content-Length"):
            self._left = int(self.headers.get("Content-Length"))
        self._decode(self.opened_at)

    def _decode(self, now):
        """Moves what _raw holds of the body into body/_text/_lines."""
        out = b""
        while not self.ended:
            if self._chunked:
                if b"\r\n" not in self._raw:
                    break
                size_line, rest = self._raw.split(b"\r\n", 1)
                try:
                    size = int(size_line.split(b";")[0].strip(), 16)
                except ValueError:
                    raise Failure("GET %s: bad chunk size line %r"
                                  % (self.path, size_line), self.response())
                if size == 0:
                    # the last chunk, then trailers up to a blank line
                    if rest.startswith(b"\r\n") or b"\r\n\r\n" in rest:
                        self.ended = True
                        self._raw = b""
                    break
                if len(rest) < size + 2:
                    break
                out += rest[:size]
                self._raw = rest[size + 2:]
            elif self._left is not None:
                take = self._raw[:self._left]
                out += take
                self._raw = self._raw[len(take):]
                self._left -= len(take)
                if self._left == 0:
                    self.ended = True
                break
            else:
                out += self._raw
                self._raw = b""
                if self.eof:
                    self.ended = True
                break
        if self.eof and not self.ended:
            self.ended = True    # cut short: what came is all there is
        if self.ended and self.ended_at is None:
            self.ended_at = now
        if out:
            self.body += out
            self._text += out
            while b"\n" in self._text:
                line, self._text = self._text.split(b"\n", 1)
                if line.endswith(b"\r"):
                    line = line[:-1]
                self._lines.append((line.decode("utf-8", "replace"), now))

    # -- what tests use -------------------------------------------------
    def read_all(self, timeout):
        """Reads until the answer ends or TIMEOUT passes: True when it
        ended."""
        deadline = time.monotonic() + timeout
        while not self.ended and self._recv(deadline):
            pass
        return self.ended

    def next_line(self, timeout):
        """The next body line and its arrival time, or None when TIMEOUT
        passes (or the answer ended) first."""
        deadline = time.monotonic() + timeout
        while not self._lines:
            if self.ended or not self._recv(deadline):
                return None
        return self._lines.pop(0)

    def next_frame(self, timeout):
        """The next event-stream block (SSEFrame), or None when TIMEOUT
        passes (or the answer ends) before its blank line."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.next_line(max(0.0, deadline - time.monotonic()))
            if got is None:
                return None
            line, t = got
            if line == "":
                if self._frame:
                    frame, self._frame = SSEFrame(self._frame, t), []
                    return frame
                continue
            self._frame.append(line)

    def frames(self, timeout):
        """Every block that arrives within TIMEOUT (or until the end)."""
        out, deadline = [], time.monotonic() + timeout
        while True:
            f = self.next_frame(max(0.0, deadline - time.monotonic()))
            if f is None:
                return out
            out.append(f)

    def response(self):
        """The exchange so far as a Response (for diagnostics and
        expect_problem)."""
        return Response("GET", self.path, self.req_headers, None,
                        self.status, self.headers, self.body)

    def record(self):
        """Puts this exchange in the contract log once: its head and the
        body so far (close() does it; so does the runner after each test,
        for a stream the test left open)."""
        if not self._recorded and self.status is not None:
            self._recorded = True
            record_exchange("sse", self.port, "GET", self.path,
                            self.req_headers, self.status,
                            self.headers.items(), self.body, self.ended)

    def close(self):
        self.record()
        try:
            if self.sock is not None:
                self.sock.close()
        except OSError:
            pass

    def abort(self):
        """Closes the connection abruptly (a RST, as a client that dies)."""
        try:
            if self.sock is not None:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                     struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_stream(port, path, token=None, headers=None, timeout=HTTP_TIMEOUT,
                source=None):
    """GET PATH as an event stream -> SSEStream with its head read; a
    non-200 answer is read whole (its body in .body, .response() for
    expect_problem) and its connection closed."""
    s = SSEStream(port, path, headers, token, timeout, source)
    if s.status != 200:
        s.read_all(timeout)
        s.close()
    return s


def stream_slot_holders(state):
    """Process ids holding a flock on a file under "<STATE>-streams/" (the
    event streams' slot files, STREAMS.md; STATE is a Workspace's state:
    its database file with SQLite), from /proc/locks: one per open
    stream. Read-only: it takes no lock itself."""
    top = state + "-streams"
    inodes = set()
    for root, dirs, files in os.walk(top):
        for name in files:
            try:
                inodes.add(os.stat(os.path.join(root, name)).st_ino)
            except OSError:
                pass
    holders = set()
    try:
        with open("/proc/locks") as f:
            for line in f:
                parts = line.split()
                if "->" in parts:
                    continue   # a waiter, not a holder
                if len(parts) < 6 or parts[1] != "FLOCK":
                    continue
                try:
                    ino = int(parts[5].split(":")[2])
                except (IndexError, ValueError):
                    continue
                if ino in inodes:
                    holders.add(int(parts[4]))
    except OSError:
        pass
    return holders


# --------------------------------------------------------------------------
# Tokens (format in tests/integration/README.md)
# --------------------------------------------------------------------------

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def read_master_key(secret_file):
    with open(secret_file, "r", encoding="ascii") as f:
        return bytes.fromhex(f.read().strip())


def kdf_subkey(master, subkey_id, context):
    """libsodium crypto_kdf_derive_from_key(32, SUBKEY_ID, CONTEXT, MASTER):
    BLAKE2b-256 keyed with MASTER, salt = id as 8 LE bytes + 8 zeros,
    personal = the 8-byte CONTEXT + 8 zeros."""
    return hashlib.blake2b(b"", digest_size=32, key=master,
                           salt=struct.pack("<Q", subkey_id) + b"\0" * 8,
                           person=context + b"\0" * 8).digest()


def token_subkey(master):
    """libsodium crypto_kdf_derive_from_key(32, id 2, ctx "rs_token", M)."""
    return kdf_subkey(master, 2, b"rs_token")


def mint_token(secret_file, org_id, user_id, key_id, role, exp):
    """An access token signed as the server signs them, expiring at EXP
    (Unix seconds)."""
    payload = "%s\n%s\n%s\n%s\n%d" % (org_id, user_id, key_id, role, exp)
    head = "rst1." + b64url(payload.encode("utf-8"))
    key = token_subkey(read_master_key(secret_file))
    tag = hmac.new(key, head.encode("ascii"), hashlib.sha512).digest()[:32]
    return head + "." + b64url(tag)


# --------------------------------------------------------------------------
# Workspace: temp dir and CLI
# --------------------------------------------------------------------------

class Workspace:
    """The temp dir of one run. RUN_AS names the user the CLI and the
    server's children run as (None: the current user). db is the
    database (RELAYSYNC_DB): var/relaysync.db, or on a PostgreSQL run
    the URI of a fresh database of its own (pg_name) in the cluster;
    state names the host's own files (the rate limits' table
    <state>.ratelimit, the streams' slots <state>-streams/): db itself
    with SQLite, var/relaysync (RELAYSYNC_STATE) with PostgreSQL.
    SQLITE: an SQLite file whatever the run's backend (what
    relaysync-admin copy moves to PostgreSQL)."""

    def __init__(self, prefix, run_as=None, sqlite=False):
        self.prefix = prefix
        self.run_as = run_as
        self.pg_name = None
        self.dir = tempfile.mkdtemp(prefix="relaysync-it.")
        os.chmod(self.dir, 0o755)
        self.var = self.path("var")
        self.www = self.path("www")
        for d in (self.var, self.www, self.path("run"), self.path("fcgid")):
            os.mkdir(d)
        if is_pg() and not sqlite:
            try:
                self.pg_name = pg_create_database()
            except BaseException:
                shutil.rmtree(self.dir, ignore_errors=True)
                raise
            self.db = pg_uri(self.pg_name)
            self.state = os.path.join(self.var, "relaysync")
        else:
            self.db = os.path.join(self.var, "relaysync.db")
            self.state = self.db
        self.secret_file = os.path.join(self.var, "relaysync.key")
        if run_as:
            chown_tree(self.dir, run_as)

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def cli_env(self):
        env = dict(os.environ)
        env["RELAYSYNC_DB"] = self.db
        env["RELAYSYNC_SECRET_FILE"] = self.secret_file
        if is_pg():
            env["RELAYSYNC_STATE"] = self.state
        return env

    def cli(self, args):
        """Run PREFIX/bin/relaysync-admin ARGS -> (rc, stdout, stderr)."""
        argv = [os.path.join(self.prefix, "bin", "relaysync-admin")] + args
        extra = {}
        if self.run_as:
            extra = {"user": self.run_as, "group": self.run_as,
                     "extra_groups": []}
        try:
            done = subprocess.run(argv, env=self.cli_env(), cwd=self.dir,
                                  stdin=subprocess.DEVNULL,
                                  capture_output=True, timeout=CLI_TIMEOUT,
                                  **extra)
        except subprocess.TimeoutExpired:
            return (-1, "", "timed out after %d s" % CLI_TIMEOUT)
        return (done.returncode, done.stdout.decode("utf-8", "replace"),
                done.stderr.decode("utf-8", "replace"))

    # -- relaysync-worker -------------------------------------------------
    def worker_env(self, allow_private=True):
        """The worker's environment: the CLI's, with
        RELAYSYNC_WEBHOOK_ALLOW_PRIVATE=1 when ALLOW_PRIVATE (else unset)."""
        env = self.cli_env()
        env.pop("RELAYSYNC_WEBHOOK_ALLOW_PRIVATE", None)
        if allow_private:
            env["RELAYSYNC_WEBHOOK_ALLOW_PRIVATE"] = "1"
        return env

    def worker_argv(self, args, hosts=None):
        """argv of PREFIX/bin/relaysync-worker ARGS. HOSTS: a file bind-
        mounted on /etc/hosts for this run only (a private mount namespace
        made by unshare; needs root), the worker then dropping to RUN_AS
        itself. -> (argv, subprocess.Popen keyword arguments)."""
        argv = [os.path.join(self.prefix, "bin", "relaysync-worker")] + \
            list(args)
        if hosts is None:
            extra = {}
            if self.run_as:
                extra = {"user": self.run_as, "group": self.run_as,
                         "extra_groups": []}
            return argv, extra
        if os.geteuid() != 0:
            raise Failure("a private /etc/hosts needs root (unshare --mount)")
        if self.run_as:
            argv = ["setpriv", "--reuid=" + self.run_as,
                    "--regid=" + self.run_as, "--clear-groups"] + argv
        script = 'mount --bind "$1" /etc/hosts && shift && exec "$@"'
        return ["unshare", "--mount", "sh", "-c", script, "sh",
                hosts] + argv, {}

    def worker(self, args, allow_private=True, hosts=None,
               timeout=WORKER_TIMEOUT):
        """Run relaysync-worker ARGS to its end, as the CLI's user
        -> (rc, stdout, stderr, seconds); rc -1 when it ran past TIMEOUT
        (it is then killed)."""
        argv, extra = self.worker_argv(args, hosts)
        started = time.monotonic()
        try:
            done = subprocess.run(argv, env=self.worker_env(allow_private),
                                  cwd=self.dir, stdin=subprocess.DEVNULL,
                                  capture_output=True, timeout=timeout,
                                  **extra)
        except subprocess.TimeoutExpired as e:
            return (-1, (e.stdout or b"").decode("utf-8", "replace"),
                    "timed out after %d s" % timeout,
                    time.monotonic() - started)
        return (done.returncode, done.stdout.decode("utf-8", "replace"),
                done.stderr.decode("utf-8", "replace"),
                time.monotonic() - started)

    def spawn_worker(self, args, allow_private=True):
        """Start relaysync-worker ARGS in a session of its own, its output
        in a file under the temp dir (the Popen's output_path) ->
        subprocess.Popen (the caller waits for it or kills it)."""
        argv, extra = self.worker_argv(args)
        n = len([f for f in os.listdir(self.dir)
                 if f.startswith("worker-")])
        out = open(self.path("worker-%d.out" % n), "wb")
        try:
            proc = subprocess.Popen(argv, env=self.worker_env(allow_private),
                                    cwd=self.dir, stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True, **extra)
        finally:
            out.close()
        proc.output_path = out.name
        return proc

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)
        if self.pg_name:
            name, self.pg_name = self.pg_name, None
            pg_drop_database(name)


def chown_tree(top, user):
    pw = pwd.getpwnam(user)
    for root, dirs, files in os.walk(top):
        for name in [root] + [os.path.join(root, n) for n in dirs + files]:
            os.lchown(name, pw.pw_uid, pw.pw_gid)


def make_world_readable(top):
    """Let another user read (and run) everything under TOP."""
    for root, dirs, files in os.walk(top):
        for name in [root] + [os.path.join(root, n) for n in dirs + files]:
            st = os.lstat(name)
            if stat.S_ISLNK(st.st_mode):
                continue
            mode = st.st_mode | stat.S_IROTH
            if stat.S_ISDIR(st.st_mode) or st.st_mode & stat.S_IXUSR:
                mode |= stat.S_IXOTH
            if mode != st.st_mode:
                os.chmod(name, stat.S_IMODE(mode))


# --------------------------------------------------------------------------
# Servers
# --------------------------------------------------------------------------

class Server:
    """A private web server process; subclasses write its config."""

    name = "?"

    def __init__(self, ws, port, fcgi=None, extra=(), form="server",
                 defines=(), app_env=None, streams=False, procs=None):
        """FCGI: the program to run (default: the prefix's); EXTRA: config
        lines added after the includes (to override a setting); FORM
        (Apache): "server" includes relaysync.conf at server level,
        "vhost" inside a <VirtualHost>; DEFINES (Apache): (name, value)
        pairs Defined before the includes; APP_ENV: changes to the
        program's environment over the run's APP_ENV (a value of None
        removes a name). STREAMS (Apache): also listen on stream_port
        (a free port), served by a <VirtualHost> that Defines
        RELAYSYNC_STREAMING around its Include of relaysync.conf (the
        event streams' unbuffered vhost); lighttpd streams on its one
        port, so there stream_port is port. buffered_port: where streams
        run in buffered mode (Apache: port, whose vhost keeps mod_fcgid's
        buffer; lighttpd with STREAMS: a second listener that sets
        RELAYSYNC_STREAM=buffered with mod_setenv, as a site behind a
        buffering proxy would). PROCS (lighttpd): max-procs (default
        POOL_SIZE)."""
        self.ws = ws
        self.port = port
        self.streams = streams
        self.stream_port = None
        self.buffered_port = None
        self.procs = procs or POOL_SIZE
        self.proc = None
        self.output = ws.path(self.name + ".out")
        self.fcgi = fcgi or os.path.join(ws.prefix,
                                         "libexec/relaysync/relaysync.fcgi")
        self.extra = list(extra)
        self.form = form
        self.defines = list(defines)
        self.app_env_changes = dict(app_env or {})

    def app_env(self):
        """The program's extra environment: APP_ENV with this server's
        changes."""
        env = dict(APP_ENV)
        for name, value in self.app_env_changes.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = str(value)
        return env

    def argv(self):
        raise NotImplementedError

    def env(self):
        return dict(os.environ)

    def log_files(self):
        return [self.output]

    def start(self):
        self.write_config()
        with open(self.output, "wb") as out:
            self.proc = subprocess.Popen(self.argv(), env=self.env(),
                                         stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """SIGTERM, then SIGKILL after STOP_GRACE; then clear out whatever
        is left of the process group (FastCGI children)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(STOP_GRACE)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc = None


class Lighttpd(Server):
    name = "lighttpd"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stream_port = self.port   # one port: the include scopes it
        if self.streams:
            self.buffered_port = free_port()

    def config_path(self):
        return self.ws.path("lighttpd.conf")

    def log_files(self):
        return [self.ws.path("lighttpd-error.log"), self.output]

    def argv(self):
        return [LIGHTTPD_BIN, "-D", "-f", self.config_path()]

    def env(self):
        env = dict(os.environ)
        for name, value in self.app_env_changes.items():
            if value is None:
                env.pop(name, None)
        env.update(self.app_env())  # lighttpd hands it to the children
        return env

    def write_config(self):
        ws, prefix = self.ws, self.ws.prefix
        conf = os.path.join(prefix, "etc/relaysync/lighttpd")
        lines = [
            'server.document-root = "%s"' % ws.www,
            "server.port = %d" % self.port,
            'server.bind = "127.0.0.1"',
            'server.errorlog = "%s"' % ws.path("lighttpd-error.log"),
            'include "%s"' % os.path.join(conf, "relaysync-paths.conf"),
            # := replaces what relaysync-paths.conf set
            'var.relaysync_fcgi := "%s"' % self.fcgi,
            'var.relaysync_db := "%s"' % ws.db,
            'var.relaysync_secret_file := "%s"' % ws.secret_file,
            'var.relaysync_socket := "%s"' % ws.path("fcgi.sock"),
            "var.relaysync_procs := %d" % self.procs,
        ]
        if is_pg():
            lines.append('var.relaysync_state := "%s"' % ws.state)
        # DEFINES the include takes as variables too (Apache's Define
        # RELAYSYNC_HOSTS is lighttpd's var.relaysync_hosts).
        for name, value in self.defines:
            if name == "RELAYSYNC_HOSTS":
                lines.append('var.relaysync_hosts := "%s"' % value)
        lines += [
            'include "%s"' % os.path.join(conf, "relaysync.conf"),
        ]
        # The optional mod_magnet include (lighttpd-modules-lua, which
        # scripts/test installs): ids on lighttpd's own 5xx problems.
        if os.path.exists(LIGHTTPD_MAGNET):
            lines.append('include "%s"'
                         % os.path.join(conf, "relaysync-magnet.conf"))
        if self.buffered_port:
            lines += ['server.modules += ( "mod_setenv" )',
                      '$SERVER["socket"] == "127.0.0.1:%d" {'
                      % self.buffered_port,
                      '    setenv.add-environment = ( "RELAYSYNC_STREAM" '
                      '=> "buffered" )',
                      '}']
        lines += self.extra
        write_file(self.config_path(), "\n".join(lines) + "\n")


class Apache(Server):
    name = "apache"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.buffered_port = self.port
        if self.streams:
            self.stream_port = free_port()

    def config_path(self):
        return self.ws.path("apache.conf")

    def log_files(self):
        return [self.ws.path("apache-error.log"), self.output]

    def argv(self):
        return [APACHE_BIN, "-f", self.config_path(), "-DFOREGROUND"]

    def write_config(self):
        ws, prefix = self.ws, self.ws.prefix
        lines = ['ServerRoot "%s"' % ws.dir,
                 'DefaultRuntimeDir "%s"' % ws.path("run"),
                 'PidFile "%s"' % ws.path("run", "apache2.pid"),
                 'ErrorLog "%s"' % ws.path("apache-error.log"),
                 "LogLevel warn",
                 "Listen 127.0.0.1:%d" % self.port,
                 "ServerName 127.0.0.1"]
        if self.stream_port:
            lines.append("Listen 127.0.0.1:%d" % self.stream_port)
        for mod in ("mpm_event", "authz_core", "alias", "mime", "env",
                    "fcgid", "headers", "unique_id", "reqtimeout",
                    "filter", "deflate"):
            lines.append('LoadModule %s_module "%s/mod_%s.so"'
                         % (mod, APACHE_MODULES, mod))
        # mod_qos (libapache2-mod-qos, which scripts/test installs): the
        # include's per-address connection cap. Debian 12's build needs
        # libpcre's pcre_* symbols, which apache2 (built with PCRE2) no
        # longer provides: load the library first.
        if os.path.exists(os.path.join(APACHE_MODULES, "mod_qos.so")):
            if os.path.exists(APACHE_PCRE1):
                lines.append('LoadFile "%s"' % APACHE_PCRE1)
            lines.append('LoadModule qos_module "%s/mod_qos.so"'
                         % APACHE_MODULES)
        if ws.run_as:
            lines += ["User %s" % ws.run_as, "Group %s" % ws.run_as]
        fcgi_dir = os.path.dirname(self.fcgi)
        conf = os.path.join(prefix, "etc/relaysync/apache")
        lines += ["TypesConfig /etc/mime.types",
                  'FcgidIPCDir "%s"' % ws.path("fcgid"),
                  'FcgidProcessTableFile "%s"' % ws.path("fcgid", "shm"),
                  'DocumentRoot "%s"' % ws.www,
                  'Define RELAYSYNC_FCGI "%s"' % self.fcgi,
                  'Define RELAYSYNC_FCGI_DIR "%s"' % fcgi_dir,
                  'Define RELAYSYNC_DB "%s"' % ws.db,
                  'Define RELAYSYNC_SECRET_FILE "%s"' % ws.secret_file]
        if is_pg():
            lines.append('Define RELAYSYNC_STATE "%s"' % ws.state)
        lines += ['Define %s "%s"' % (name, value)
                  for name, value in self.defines]
        lines += [
                  'Include "%s"' % os.path.join(conf, "relaysync-server.conf")]
        # The API's part: at server level, or inside a virtual host (the
        # server then answers other paths from its own DocumentRoot).
        api = ['FcgidInitialEnv %s "%s"' % (name, value)
               for name, value in sorted(self.app_env().items())]
        api.append('Include "%s"' % os.path.join(conf, "relaysync.conf"))
        if self.form == "vhost":
            lines.append("<VirtualHost 127.0.0.1:%d>" % self.port)
            lines += ["    ServerName 127.0.0.1",
                      '    DocumentRoot "%s"' % ws.www]
            lines += ["    " + l for l in api]
            lines.append("</VirtualHost>")
        else:
            lines += api
        # The event streams' vhost: relaysync.conf with RELAYSYNC_STREAMING
        # Defined (no output buffer there), in either form.
        if self.stream_port:
            lines.append("<VirtualHost 127.0.0.1:%d>" % self.stream_port)
            lines += ["    ServerName 127.0.0.1",
                      '    DocumentRoot "%s"' % ws.www,
                      "    Define RELAYSYNC_STREAMING"]
            lines += ["    " + l for l in api]
            lines += ["    UnDefine RELAYSYNC_STREAMING",
                      "</VirtualHost>"]
        lines += self.extra
        write_file(self.config_path(), "\n".join(lines) + "\n")


SERVERS = {"lighttpd": Lighttpd, "apache": Apache}


def write_file(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


class LogWatch:
    """Remembers where the server logs end, to show what a test added."""

    def __init__(self, files):
        self.files = files
        self.marks = {}

    def mark(self):
        self.marks = {f: file_size(f) for f in self.files}

    def new_lines(self):
        lines = []
        for f in self.files:
            text = read_from(f, self.marks.get(f, 0))
            lines += ["%s: %s" % (os.path.basename(f), l)
                      for l in text.splitlines()]
        return lines[-LOG_TAIL_LINES:]

    def tail(self):
        lines = []
        for f in self.files:
            text = read_from(f, 0)
            lines += ["%s: %s" % (os.path.basename(f), l)
                      for l in text.splitlines()[-LOG_TAIL_LINES:]]
        return lines


def file_size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def read_from(path, offset):
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


# --------------------------------------------------------------------------
# Context: what a test gets
# --------------------------------------------------------------------------

class SetupError(Exception):
    pass


class Context:
    """A running RelaySync behind one web server, with two orgs.

    base_url, server_name, prefix, workspace, secret_file
    org_id, admin_key            -- org "demo", admin@example.com (admin)
    org_b_id, org_b_key          -- a second org with its own admin key
    call(method, path, body=None, headers={}, token=None) -> Response
    cli(args) -> (rc, stdout, stderr)
    worker(args, allow_private=True, hosts=None) -> (rc, out, err, seconds)
    spawn_worker(args, allow_private=True) -> subprocess.Popen
    token_for(key) -> access token (a Failure when the exchange fails)
    """

    def __init__(self, prefix, server_name):
        self.prefix = prefix
        self.server_name = server_name
        self.server = None
        root = os.geteuid() == 0
        run_as = APACHE_USER if server_name == "apache" and root else None
        if run_as:
            make_world_readable(prefix)
        self.workspace = Workspace(prefix, run_as)
        self.secret_file = self.workspace.secret_file
        self.port = free_port()
        global MAIN_PORT
        MAIN_PORT = self.port
        self.base_url = "http://127.0.0.1:%d" % self.port
        self.logs = None

    # -- setup --------------------------------------------------------
    def setup(self):
        self.cli_ok(["init"])
        # The run's shared orgs get a rate limit no test reaches (issue 13:
        # a per-org token bucket; the default of 120/s would throttle the
        # tests that write fast); tests of the limiter make orgs of their own.
        self.org_id = self.cli_ok(["org", "create", "demo", "--rate-limit",
                                   SHARED_ORG_RATE]).strip()
        self.admin_key = json.loads(self.cli_ok(
            ["key", "create", "--org", self.org_id, "--email",
             "admin@example.com", "--role", "admin", "--json"]))["api_key"]
        self.org_b_id = self.cli_ok(["org", "create", "other", "--rate-limit",
                                     SHARED_ORG_RATE]).strip()
        self.org_b_key = json.loads(self.cli_ok(
            ["key", "create", "--org", self.org_b_id, "--email",
             "admin@other.example.com", "--role", "admin",
             "--json"]))["api_key"]
        # Every test connection comes from 127.0.0.1: lift the include's
        # per-address cap (mod_qos) for the run; a test that checks the cap
        # starts a server of its own.
        self.server = SERVERS[self.server_name](
            self.workspace, self.port, form=APACHE_FORM,
            defines=[("RELAYSYNC_MAX_CONN_PER_IP", RUN_MAX_CONN_PER_IP)])
        self.stream_port = self.server.stream_port
        self.logs = LogWatch(self.server.log_files())
        self.server.start()
        self.wait_healthy()

    def cli_ok(self, args):
        rc, out, err = self.cli(args)
        if rc != 0:
            raise SetupError("relaysync-admin %s: exit %d: %s%s"
                             % (" ".join(args), rc, out, err))
        return out

    def wait_healthy(self):
        """Wait up to START_TIMEOUT for /v1/health to answer 200."""
        deadline = time.monotonic() + START_TIMEOUT
        last = "no answer"
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if not self.server.running():
                raise SetupError("%s exited with status %s during start"
                                 % (self.server_name, self.server.proc.returncode))
            try:
                resp = http_call(self.port, "GET", "/v1/health",
                                 timeout=min(left, HTTP_TIMEOUT))
                if resp.status == 200:
                    return
                last = "status %s: %s" % (resp.status, show_bytes(resp.body))
            except Failure as e:
                last = str(e)
            time.sleep(0.25)
        raise SetupError("GET /v1/health did not answer 200 within %d s (%s)"
                         % (START_TIMEOUT, last))

    def teardown(self):
        while _TEARDOWN:   # what tests started (side servers), newest first
            try:
                _TEARDOWN.pop()()
            except Exception as e:  # noqa: the run's server still stops
                print("# teardown: %s: %s" % (type(e).__name__, e))
        if self.server:
            self.server.stop()
        if os.environ.get("KEEP") == "1":
            print("# kept temp dir %s" % self.workspace.dir)
            if self.workspace.pg_name:
                print("# kept database %s" % self.workspace.db)
        else:
            self.workspace.remove()

    # -- what tests use -----------------------------------------------
    def call(self, method, path, body=None, headers=None, token=None):
        return http_call(self.port, method, path, body, headers, token)

    def cli(self, args):
        return self.workspace.cli(args)

    def worker(self, args, allow_private=True, hosts=None,
               timeout=WORKER_TIMEOUT):
        """Run relaysync-worker ARGS on the run's database as the CLI's
        user -> (rc, stdout, stderr, seconds). See Workspace.worker."""
        return self.workspace.worker(args, allow_private, hosts, timeout)

    def spawn_worker(self, args, allow_private=True):
        """Start relaysync-worker ARGS -> subprocess.Popen."""
        return self.workspace.spawn_worker(args, allow_private)

    def token_for(self, key):
        resp = self.call("POST", "/v1/auth/token", {"api_key": key})
        body = expect_json(resp, 200)
        token = body.get("access_token")
        expect(isinstance(token, str) and token,
               "token exchange gave no access_token", resp)
        return token


# --------------------------------------------------------------------------
# Runner
# --------------------------------------------------------------------------

def diag(lines):
    for line in lines:
        print("# " + line)


def failure_lines(exc):
    if isinstance(exc, Failure):
        lines = ["expected/got: " + str(exc)]
        if exc.response is not None:
            lines += exc.response.describe()
        return lines
    return ["exception: %s: %s" % (type(exc).__name__, exc)] + \
        traceback.format_exc().rstrip().splitlines()[-6:]


NOT_APPLICABLE = []      # (name, why) of the run's tests that did not apply


def run_one(ctx, number, case):
    """Run CASE; print its TAP line and diagnostics. True when it passed,
    None when it does not apply to the run's backend (NotApplicable: a
    TAP skip that says why, counted neither passed nor failed)."""
    global CURRENT_TEST
    CURRENT_TEST = case.name
    ctx.logs.mark()
    try:
        try:
            if case.sqlite_only:
                not_applicable(case.sqlite_only)
            case.func(ctx)
        finally:
            while _STREAMS:     # streams the test left open: log them too
                _STREAMS.pop().record()
    except NotApplicable as na:
        print("ok %d - %s # SKIP %s" % (number, case.name, na))
        NOT_APPLICABLE.append((case.name, str(na)))
        sys.stdout.flush()
        return None
    except Exception as exc:  # noqa: any error is this test's failure
        print("not ok %d - %s" % (number, case.name))
        diag(failure_lines(exc))
        log_lines = ctx.logs.new_lines()
        if log_lines:
            diag(["server log during this test:"] + log_lines)
        else:
            diag(["server log tail (nothing new during this test):"]
                 + ctx.logs.tail()[-5:])
        sys.stdout.flush()
        return False
    print("ok %d - %s" % (number, case.name))
    sys.stdout.flush()
    return True


def fail_all(cases, reason, log_lines):
    """Report every case as failed because the run could not start."""
    diag(["setup failed: " + reason] + log_lines)
    for number, case in enumerate(cases, 1):
        print("not ok %d - %s" % (number, case.name))
        diag(["not run: setup failed"])
    return 0, max(1, len(cases))


def run_cases(ctx, cases):
    passed = failed = 0
    for number, case in enumerate(cases, 1):
        ok = run_one(ctx, number, case)
        if ok:
            passed += 1
        elif ok is not None:
            failed += 1
    return passed, failed


def parse_args(argv):
    import argparse
    p = argparse.ArgumentParser(description="RelaySync integration tests")
    p.add_argument("--prefix", required=True,
                   help="install prefix holding bin/relaysync-admin")
    p.add_argument("--server", required=True, choices=sorted(SERVERS))
    p.add_argument("-k", dest="keyword", default=None,
                   help="run only tests whose name contains this")
    p.add_argument("--apache-form", choices=("server", "vhost"),
                   default="server",
                   help="include relaysync.conf at server level (default) "
                   "or inside a <VirtualHost>")
    p.add_argument("--contract-log", default=None,
                   help="record every exchange here (default: a file in a "
                   "temp dir, kept only when the contract check fails)")
    p.add_argument("--no-contract", action="store_true",
                   help="record nothing and leave the contract check out")
    return p.parse_args(argv)


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
CONTRACT_DIR = os.path.join(ROOT, "tests", "contract")
CONTRACT_NAME = "contract: every exchange matches openapi/openapi.json"
CONTRACT_MIN_EXCHANGES = 1000   # a whole run makes several thousand
CONTRACT_SHOWN = 60             # violation lines shown under a failure
CONTRACT_TIMEOUT = 300          # seconds for check.mjs


def contract_setup(path):
    """Start recording: -> {"log": path, "tmp": dir to remove or None}."""
    global CONTRACT_LOG
    tmp = None
    if path is None:
        tmp = tempfile.mkdtemp(prefix="relaysync-contract.")
        path = os.path.join(tmp, "exchanges.jsonl")
    path = os.path.abspath(path)
    open(path, "w").close()       # a fresh log for this run
    CONTRACT_LOG = path
    return {"log": path, "tmp": tmp}


def contract_test(number, contract, minimum):
    """The run's last TAP test: tests/contract/check.mjs on the log. True
    when it passed. The log (and its temp dir) is kept when it failed."""
    global CONTRACT_LOG
    CONTRACT_LOG = None
    cmd = ["node", os.path.join(CONTRACT_DIR, "check.mjs"),
           "--openapi", os.path.join(ROOT, "openapi", "openapi.json"),
           "--log", contract["log"], "--min", str(minimum)]
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT,
                              timeout=CONTRACT_TIMEOUT)
        out = proc.stdout.decode("utf-8", "replace").splitlines()
        ok = proc.returncode == 0
    except (OSError, subprocess.TimeoutExpired) as e:
        out, ok = ["check.mjs did not run: %s: %s" % (type(e).__name__, e),
                   "(npm ci in tests/contract installs what it needs)"], False
    print("%s %d - %s" % ("ok" if ok else "not ok", number, CONTRACT_NAME))
    summary = [l for l in out if re.match(r"^\d+ exchanges checked", l)]
    if ok:
        diag(summary)
        if contract["tmp"]:
            shutil.rmtree(contract["tmp"], ignore_errors=True)
    else:
        shown = [l for l in out if l not in summary][:CONTRACT_SHOWN]
        more = len(out) - len(summary) - len(shown)
        diag(shown + (["... %d more lines" % more] if more > 0 else [])
             + summary + ["exchange log kept: " + contract["log"]])
    sys.stdout.flush()
    return ok


def on_sigterm(signum, frame):
    raise SystemExit(128 + signum)  # unwind so the server is stopped


def main(argv):
    args = parse_args(argv)
    global APACHE_FORM
    APACHE_FORM = args.apache_form
    signal.signal(signal.SIGTERM, on_sigterm)
    cases = selected_tests(args.keyword)
    prefix = os.path.abspath(args.prefix)
    form = " (relaysync.conf in a <VirtualHost>)" \
        if args.server == "apache" and APACHE_FORM == "vhost" else ""
    backend = "" if not is_pg() else " backend=postgresql (%s)" % \
        " ".join("%s=%s" % kv for kv in PG_CLUSTER.items()
                 if kv[0] != "password")
    print("# RelaySync integration: server=%s%s prefix=%s%s"
          % (args.server, form, prefix, backend))
    contract = None if args.no_contract else contract_setup(args.contract_log)
    print("1..%d" % (len(cases) + (1 if contract else 0)))
    sys.stdout.flush()
    ctx = None
    try:
        try:
            ctx = Context(prefix, args.server)
            ctx.setup()
        except Exception as e:  # noqa: report, then still stop the server
            logs = ctx.logs.tail() if ctx and ctx.logs else []
            passed, failed = fail_all(cases, "%s: %s" % (type(e).__name__, e),
                                      logs)
        else:
            passed, failed = run_cases(ctx, cases)
    finally:
        if ctx:
            ctx.teardown()
        if is_pg() and os.environ.get("KEEP") != "1":
            try:
                left = pg_drop_run_databases()
            except (OSError, RuntimeError, subprocess.SubprocessError) as e:
                left = ["(cannot list them: %s)" % e]
            if left:
                # a side server a failed test did not stop, say
                print("# dropped databases the run left: " + " ".join(left))
    if contract:
        # the full run must have made a good many exchanges; a subset (-k)
        # at least one
        minimum = CONTRACT_MIN_EXCHANGES if args.keyword is None else 1
        if contract_test(len(cases) + 1, contract, minimum):
            passed += 1
        else:
            failed += 1
    if not is_pg():
        print("RESULT passed=%d failed=%d" % (passed, failed))
        return 0 if failed == 0 else 1
    if NOT_APPLICABLE:
        diag(["not applicable to PostgreSQL (%d):" % len(NOT_APPLICABLE)] +
             ["  %s: %s" % (name, why.split(": ", 1)[1])
              for name, why in NOT_APPLICABLE])
    print("RESULT passed=%d failed=%d not_applicable=%d"
          % (passed, failed, len(NOT_APPLICABLE)))
    return 0 if failed == 0 else 1


# --------------------------------------------------------------------------
# The run's database, for what the API does not show (events, expiry)
# --------------------------------------------------------------------------

def _pg_do(db, sql, params, write):
    """_db_do on PostgreSQL: SQL with ? placeholders (pg_sql), values as
    sqlite3 gives them (pg_value); changes: the rows a write changed."""
    con = pg_connect(db, readonly=not write)
    try:
        cur = con.cursor()
        cur.execute(pg_sql(sql), tuple(params))
        if cur.description is not None:
            rows = [[pg_value(v) for v in r] for r in cur.fetchall()]
            changes = 0
        else:
            rows, changes = [], max(cur.rowcount, 0)
    finally:
        con.close()
    return rows, changes


def _is_pg_db(db):
    """Whether DB names a PostgreSQL database: a run on PostgreSQL still
    builds SQLite sites (the shared-hosting tests), whose database is a
    file, named by its absolute path; a conninfo or URI never starts
    with "/"."""
    return is_pg() and not db.startswith("/")


def _db_do(db, sql, params, write):
    """Run one statement; returns (rows, changes)."""
    if _is_pg_db(db):
        return _pg_do(db, sql, params, write)
    if write:
        con = sqlite3.connect(db, timeout=10)
    else:
        con = sqlite3.connect("file:%s?mode=ro" % urllib.parse.quote(db),
                              uri=True, timeout=10)
    try:
        con.execute("PRAGMA busy_timeout = 10000")
        rows = [list(r) for r in con.execute(sql, list(params)).fetchall()]
        changes = con.total_changes
        con.commit()
    finally:
        con.close()
    return rows, changes


def db_run(ctx, sql, params=(), write=False):
    """Run one statement on the run's database. When the harness runs the
    web server's children as another user, a forked child does it as that
    user (so SQLite's -wal/-shm files keep their owner). (rows, changes).
    SQL takes ? placeholders on either backend; where its dialect is
    SQLite's, pass dialect(sqlite_sql, postgresql_sql). On PostgreSQL
    a write=False statement runs in a read-only transaction."""
    ws = ctx.workspace
    if not ws.run_as or _is_pg_db(ws.db):   # PostgreSQL: no file to own
        return _db_do(ws.db, sql, params, write)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: drop to the server's user, answer on the pipe
        try:
            os.close(r)
            pw = pwd.getpwnam(ws.run_as)
            os.setgroups([])
            os.setgid(pw.pw_gid)
            os.setuid(pw.pw_uid)
            out = {"result": _db_do(ws.db, sql, params, write)}
        except BaseException as e:  # noqa: reported to the parent
            out = {"error": "%s: %s" % (type(e).__name__, e)}
        data = json.dumps(out).encode("utf-8")
        while data:
            data = data[os.write(w, data):]
        os._exit(0)
    os.close(w)
    chunks, deadline = [], time.monotonic() + DB_TIMEOUT
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([r], [], [], left)[0]:
                os.kill(pid, signal.SIGKILL)
                raise Failure("database helper timed out after %d s: %s"
                              % (DB_TIMEOUT, sql))
            chunk = os.read(r, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(r)
        os.waitpid(pid, 0)
    out = json.loads(b"".join(chunks).decode("utf-8") or "{}")
    expect("result" in out, "database helper failed (%s): %s"
           % (sql, out.get("error", "no answer")))
    return tuple(out["result"])


def as_db_user(ctx, func):
    """FUNC() (returning a JSON-able value) run as the user the database
    belongs to: here, or (when the harness runs the web server's children
    as another user) in a forked child that drops to that user, so that
    the files SQLite makes (-wal, -shm, copies) keep that owner. A Failure
    when FUNC raises or takes longer than DB_TIMEOUT."""
    ws = ctx.workspace
    if not ws.run_as:
        return func()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: drop to the server's user, answer on the pipe
        try:
            os.close(r)
            pw = pwd.getpwnam(ws.run_as)
            os.setgroups([])
            os.setgid(pw.pw_gid)
            os.setuid(pw.pw_uid)
            out = {"result": func()}
        except BaseException as e:  # noqa: reported to the parent
            out = {"error": "%s: %s" % (type(e).__name__, e)}
        data = json.dumps(out).encode("utf-8")
        while data:
            data = data[os.write(w, data):]
        os._exit(0)
    os.close(w)
    chunks, deadline = [], time.monotonic() + DB_TIMEOUT
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([r], [], [], left)[0]:
                os.kill(pid, signal.SIGKILL)
                raise Failure("database helper timed out after %d s"
                              % DB_TIMEOUT)
            chunk = os.read(r, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(r)
        os.waitpid(pid, 0)
    out = json.loads(b"".join(chunks).decode("utf-8") or "{}")
    expect("result" in out, "database helper failed: %s"
           % out.get("error", "no answer"))
    return out["result"]


def db_integrity(ctx):
    """The run's database checked whole: SQLite's PRAGMA integrity_check
    rows ([["ok"]] when sound). On PostgreSQL amcheck's equivalent (the
    extension made in the database if need be): every table's heap
    (verify_heapam) and every B-tree index against it (bt_index_check
    with heapallindexed) -> [["ok"]], or a row per problem."""
    if not is_pg():
        return db_run(ctx, "PRAGMA integrity_check")[0]
    con = pg_connect(ctx.workspace.db)
    try:
        cur = con.cursor()
        cur.execute("CREATE EXTENSION IF NOT EXISTS amcheck")
        cur.execute("SELECT c.relname, v.blkno, v.offnum, v.msg "
                    "FROM pg_class c, verify_heapam(c.oid) v "
                    "WHERE c.relkind = 'r' AND "
                    "c.relnamespace = 'public'::regnamespace")
        rows = [["%s: block %s, offset %s: %s" % tuple(r)]
                for r in cur.fetchall()]
        cur.execute("SELECT c.oid, c.relname FROM pg_class c JOIN pg_am a "
                    "ON a.oid = c.relam WHERE c.relkind = 'i' AND "
                    "a.amname = 'btree' AND "
                    "c.relnamespace = 'public'::regnamespace")
        for oid, name in cur.fetchall():
            try:
                cur.execute("SELECT bt_index_check(%s, true)", (oid,))
            except psycopg2_module().Error as e:
                rows.append(["index %s: %s" % (name, str(e).strip())])
    finally:
        con.close()
    return rows or [["ok"]]


def db_contents(ctx):
    """PostgreSQL: {table: (rows, md5 of its rows' text in order)} of
    every table of the run's database, to tell that nothing was written.
    (An SQLite test watches its WAL file for that.)"""
    con = pg_connect(ctx.workspace.db, readonly=True)
    try:
        cur = con.cursor()
        # one snapshot for every table
        cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = "
                    "'public' ORDER BY tablename")
        out = {}
        for (name,) in cur.fetchall():
            cur.execute('SELECT count(*), md5(coalesce(string_agg(t::text, '
                        'E\'\\n\' ORDER BY t::text), \'\')) FROM "%s" t'
                        % name)
            out[name] = tuple(cur.fetchone())
        cur.execute("COMMIT")
    finally:
        con.close()
    return out


def db_backup(ctx, dest):
    """A consistent copy of the run's database (WAL included) at DEST, made
    with SQLite's online backup as the database's user (as_db_user). On
    PostgreSQL DEST is an empty database (a Workspace's db): pg_dump's
    one snapshot of the run's, restored there with psql."""
    src_path = ctx.workspace.db
    if is_pg():
        dump = subprocess.run([pg_bin("pg_dump"), "--no-owner", "-d",
                               src_path], stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=DB_TIMEOUT)
        expect(dump.returncode == 0, "pg_dump: exit %d: %s" % (
            dump.returncode, dump.stderr.decode("utf-8", "replace")))
        load = subprocess.run([pg_bin("psql"), "-X", "-q", "-v",
                               "ON_ERROR_STOP=1", "-d", dest],
                              input=dump.stdout, capture_output=True,
                              timeout=DB_TIMEOUT)
        expect(load.returncode == 0, "psql (the dump into %s): exit %d: %s"
               % (dest, load.returncode,
                  load.stderr.decode("utf-8", "replace")))
        return True

    def copy():
        src = sqlite3.connect("file:%s?mode=ro" % urllib.parse.quote(src_path),
                              uri=True, timeout=10)
        try:
            src.execute("PRAGMA busy_timeout = 10000")
            dst = sqlite3.connect(dest, timeout=10)
            try:
                src.backup(dst)
            finally:
                dst.close()
        finally:
            src.close()
        return True
    return as_db_user(ctx, copy)
