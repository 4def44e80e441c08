"""Server-Sent-Events streams (issue 12; the OpenAPI document describes them):
GET /v1/audit/stream (admin) and GET /v1/events/stream (any role).

Framing over a raw GET (first bytes `retry: 1000` with the stream's place
`id: <n>`, then `id:`/`event:`/`data:` blocks, `: heartbeat` when idle, the
place and `retry: 1000` and the answer's end at the lifetime), delivery within 2 s of the write's answer, resume from
Last-Event-ID / last_event_id / after_seq (the header wins), 400 on bad
values, the per-org (429) and per-pool (503) caps with Retry-After, a client
that goes away freeing its slot, the `types` filter, roles, X-Request-Id on
every answer; and a third-party EventSource client (the `eventsource` npm
package, pinned in tests/integration/package-lock.json; sse_client.js) that
reconnects with Last-Event-ID, on the live port and, under Apache, on the
buffered one (where each answer ends after the poll that sent entries).

Every test name starts with "streams: " (`run.py -k streams`). The streams
run on side servers of the run's kind (their own temp dir and database) with
small knobs: lifetime 6 s, heartbeat 2 s, and either roomy caps ("live") or
one stream per org and two per pool ("caps"). Under Apache the side server
also listens on stream_port, a <VirtualHost> that Defines
RELAYSYNC_STREAMING (harness.Apache streams=True); its main port is the
buffered one. Under lighttpd both are the one port. Each test works in
orgs of its own, so it knows every entry and event they hold.
"""

import json
import os
import re
import secrets
import select
import shutil
import signal
import subprocess
import time
import urllib.parse

import harness
from harness import (Failure, expect, expect_equal, expect_json,
                     expect_match, expect_problem, free_port, open_stream,
                     stream_slot_holders, test)

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT = os.path.join(HERE, "sse_client.js")
CLIENT_MODULE = os.path.join(HERE, "node_modules", "eventsource")

LIFETIME = 6              # s, RELAYSYNC_STREAM_LIFETIME of the side servers
HEARTBEAT = 2             # s, RELAYSYNC_STREAM_HEARTBEAT
DELIVERY = 2.0            # s from a write's answer to its entry's arrival
BUFFERED_DELIVERY = 2.5   # the same through Apache's buffered port
OPEN_TIMEOUT = 5          # s for a stream's head / a client's first open
QUIET = 1.2               # s to watch for what must not come (> 2 polls)
PROMPT = 2.0              # s an ordinary request may take while caps are full
MAX_SEQ = 2 ** 40 - 1
TIME_RE = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"
EVT_RE = r"^evt_\S+$"
RID = "X-Request-Id"

# The side servers' knobs (the program's environment).
KNOBS = {
    "live": {"RELAYSYNC_STREAM_LIFETIME": LIFETIME,
             "RELAYSYNC_STREAM_HEARTBEAT": HEARTBEAT,
             "RELAYSYNC_STREAMS": 10, "RELAYSYNC_STREAMS_PER_ORG": 10},
    # long enough a lifetime that streams held open through a test stay
    "caps": {"RELAYSYNC_STREAM_LIFETIME": 30,
             "RELAYSYNC_STREAM_HEARTBEAT": HEARTBEAT,
             "RELAYSYNC_STREAMS": 2, "RELAYSYNC_STREAMS_PER_ORG": 1},
}
# lighttpd's max-procs: every stream holds a process; keep some for the API
PROCS = {"live": 14, "caps": 6}


def stest(name, last=False):
    return test("streams: " + name, last)


# --------------------------------------------------------------------------
# the side servers
# --------------------------------------------------------------------------

class StreamServer:
    """A server of the run's kind on a temp dir of its own, with KIND's
    knobs. port: the API (and, under Apache, the buffered streams);
    live: the unbuffered stream port (lighttpd: the same port)."""

    def __init__(self, ctx, kind):
        self.ctx = ctx
        self.kind = kind
        self.ws = harness.Workspace(ctx.prefix, ctx.workspace.run_as)
        rc, out, err = self.ws.cli(["init"])
        if rc != 0:
            self.ws.remove()
            raise Failure("relaysync-admin init: %s%s" % (out, err))
        self.port = free_port()
        cls = harness.SERVERS[ctx.server_name]
        self.server = cls(self.ws, self.port, form=harness.APACHE_FORM,
                          defines=[("RELAYSYNC_MAX_CONN_PER_IP",
                                    harness.RUN_MAX_CONN_PER_IP)],
                          app_env=KNOBS[kind], streams=True,
                          procs=PROCS[kind])
        self.live = self.server.stream_port
        self.buffered = self.server.buffered_port
        self.apache = ctx.server_name == "apache"
        self.logs = self.server.log_files()

    def start(self):
        self.server.start()
        # the test's failure shows these logs too
        self.ctx.logs.files = self.ctx.logs.files + self.logs
        deadline = time.monotonic() + harness.START_TIMEOUT
        for port in sorted({self.port, self.live, self.buffered}):
            while True:
                if not self.server.running():
                    raise Failure("stream side server exited: %s"
                                  % self.log_tail())
                try:
                    if harness.http_call(port, "GET", "/v1/health",
                                         timeout=2).status == 200:
                        break
                except Failure:
                    pass
                if time.monotonic() > deadline:
                    raise Failure("stream side server: port %d not healthy: "
                                  "%s" % (port, self.log_tail()))
                time.sleep(0.2)

    def log_tail(self):
        return " | ".join(harness.LogWatch(self.logs).tail()[-8:])

    def stop(self):
        self.server.stop()
        self.ctx.logs.files = [f for f in self.ctx.logs.files
                               if f not in self.logs]
        if os.environ.get("KEEP") == "1":
            print("# kept stream side server dir %s" % self.ws.dir)
        else:
            self.ws.remove()

    # -- calls ----------------------------------------------------------
    def call(self, method, path, body=None, token=None, headers=None):
        return harness.http_call(self.port, method, path, body, headers,
                                 token)

    def cli_ok(self, args):
        rc, out, err = self.ws.cli(args)
        expect(rc == 0, "relaysync-admin %s: exit %d: %s%s"
               % (" ".join(args), rc, out, err))
        return out.strip()

    def holders(self):
        return stream_slot_holders(self.ws.state)

    def quiesce(self, timeout=3 * HEARTBEAT + 2):
        """Waits (bounded) until no stream holds a slot: those of earlier
        tests end at their next heartbeat once their client is gone."""
        deadline = time.monotonic() + timeout
        while self.holders():
            if time.monotonic() > deadline:
                raise Failure("streams of earlier tests still hold slots "
                              "after %d s (processes %s)"
                              % (timeout, sorted(self.holders())))
            time.sleep(0.1)


_SERVERS = {}


def _stop_all():
    while _SERVERS:
        _SERVERS.popitem()[1].stop()


def stream_server(ctx, kind):
    """The shared side server with KIND's knobs (started on first use; one
    kind runs at a time; all stop when the run ends)."""
    ss = _SERVERS.get(kind)
    if ss is not None and ss.server.running():
        return ss
    if not _SERVERS:
        harness.at_teardown(_stop_all)
    _stop_all()
    ss = StreamServer(ctx, kind)
    _SERVERS[kind] = ss
    ss.start()
    return ss


class Org:
    """A fresh org on SS with an admin (api_key, tok); nobody else writes
    to it, so the test knows every entry and event it holds."""

    def __init__(self, ss, label):
        self.ss = ss
        self.name = "%s-%s" % (label, secrets.token_hex(3))
        self.org = ss.cli_ok(["org", "create", self.name, "--rate-limit",
                              "100000"])
        expect_match(r"^org_\S+$", self.org, "org create output")
        self.tok = self.token("admin")

    def token(self, role):
        """A key of ROLE and its access token (the exchange appends a
        token.issue entry)."""
        email = "%s-%s@example.com" % (role, secrets.token_hex(4))
        out = self.ss.cli_ok(["key", "create", "--org", self.org, "--email",
                              email, "--role", role, "--json"])
        key = json.loads(out)["api_key"]
        resp = self.ss.call("POST", "/v1/auth/token", {"api_key": key})
        return expect_json(resp, 200)["access_token"]

    def post_record(self, title="rec", status=None):
        """POST /v1/records -> (record, monotonic time of the answer, wall
        time of the answer)."""
        body = {"title": title, "type": "stream"}
        if status:
            body["status"] = status
        resp = self.ss.call("POST", "/v1/records", body, token=self.tok)
        t, wall = time.monotonic(), time.time()
        return expect_json(resp, 201), t, wall

    def entries(self):
        resp = self.ss.call("GET", "/v1/audit?limit=200", token=self.tok)
        body = expect_json(resp, 200)
        expect(not body.get("has_more"), "a test org with over 200 entries",
               resp)
        return body["data"]

    def head(self):
        got = self.entries()
        return got[-1]["seq"] if got else 0

    def entry(self, seq):
        """Entry SEQ as GET /v1/audit?after_seq=SEQ-1 shows it."""
        resp = self.ss.call("GET", "/v1/audit?after_seq=%d&limit=1"
                            % (seq - 1), token=self.tok)
        data = expect_json(resp, 200)["data"]
        expect(len(data) == 1 and data[0].get("seq") == seq,
               "GET /v1/audit?after_seq=%d: want entry %d, got %r"
               % (seq - 1, seq, data), resp)
        return data[0]


# --------------------------------------------------------------------------
# raw streams
# --------------------------------------------------------------------------

def query(path, **params):
    return path + ("?" + urllib.parse.urlencode(params) if params else "")


def sopen(port, path, tok=None, headers=None, status=200):
    """GET PATH as a stream; every answer carries X-Request-Id; STATUS (if
    not None) is the one expected. -> harness.SSEStream."""
    s = open_stream(port, path, token=tok, headers=headers,
                    timeout=OPEN_TIMEOUT)
    if status is not None and s.status != status:
        s.close()
        raise Failure("GET %s: status: expected %r, got %r"
                      % (path, status, s.status), s.response())
    rid = s.headers.get(RID)
    if not rid:
        s.close()
        raise Failure("GET %s: %s header missing" % (path, RID),
                      s.response())
    return s


def expect_stream_head(s, live=True):
    """A 200 event stream's head; when LIVE, `retry: 1000` arrives at once
    as the body's first bytes."""
    r = s.response()
    expect_equal(s.status, 200, "status", r)
    expect_equal(harness.media_type(r), "text/event-stream", "Content-Type",
                 r)
    # A buffered answer may be whole before the server sends its head:
    # lighttpd then gives it a Content-Length, rightly.
    expect(not live or "Content-Length" not in s.headers,
           "a live stream has no Content-Length", r)
    expect_equal(s.headers.get("Cache-Control"), "no-store",
                 "Cache-Control", r)
    expect_equal(s.headers.get("X-Accel-Buffering"), "no",
                 "X-Accel-Buffering", r)
    if live:
        f = s.next_frame(1.0)
        expect(f is not None, "no `retry: 1000` block within 1 s of the "
               "answer's head", s.response())
        expect(re.match(rb"retry: 1000\nid: [0-9]+\n\n", s.body),
               "the body's first bytes: want 'retry: 1000\\nid: <n>\\n\\n', "
               "got %r" % s.body[:40], s.response())


def is_event(f):
    return f.event is not None or f.data is not None


def next_event(s, deadline, what):
    """The next block with an id/event/data before DEADLINE (monotonic);
    only heartbeats and `retry: 1000` may come before it."""
    seen = []
    while True:
        f = s.next_frame(max(0.0, deadline - time.monotonic()))
        if f is None:
            raise Failure("%s: nothing arrived in time (blocks before: %r; "
                          "answer ended: %s)" % (what, seen, s.ended),
                          s.response())
        if is_event(f):
            return f
        expect(f.is_heartbeat() or f.is_retry(),
               "%s: an unexpected block %r" % (what, f.lines), s.response())
        seen.append(f.lines)


def expect_no_event(s, seconds, what):
    """Nothing but heartbeats (or the end) for SECONDS."""
    for f in s.frames(seconds):
        expect(not is_event(f), "%s: unexpected %r" % (what, f.lines),
               s.response())


def expect_audit_frame(f, seq, entry, s, what):
    expect(len(f.lines) == 3 and f.lines[0] == "id: %d" % seq
           and f.lines[1] == "event: audit" and f.lines[2].startswith("data: "),
           "%s: want ['id: %d', 'event: audit', 'data: <entry>'], got %r"
           % (what, seq, f.lines), s.response())
    expect_equal(f.json(), entry, what + ": data vs GET /v1/audit's entry",
                 s.response())


def expect_event_frame(f, n, etype, org, rec, s, what):
    """An event block: id N, event ETYPE, data the webhook body (id, type,
    timestamp, org_id, data: the record REC)."""
    expect(len(f.lines) == 3 and f.lines[0] == "id: %d" % n
           and f.lines[1] == "event: " + etype
           and f.lines[2].startswith("data: "),
           "%s: want ['id: %d', 'event: %s', 'data: <body>'], got %r"
           % (what, n, etype, f.lines), s.response())
    body = f.json()
    expect(isinstance(body, dict), what + ": data is not an object",
           s.response())
    expect_equal(sorted(body), ["data", "id", "org_id", "timestamp", "type"],
                 what + ": data members", s.response())
    expect_match(EVT_RE, body["id"], what + ": data.id", s.response())
    expect_equal(body["type"], etype, what + ": data.type", s.response())
    expect_equal(body["org_id"], org, what + ": data.org_id", s.response())
    expect_match(TIME_RE, body["timestamp"], what + ": data.timestamp",
                 s.response())
    expect(isinstance(body["data"], dict)
           and body["data"].get("id") == rec["id"]
           and body["data"].get("title") == rec["title"],
           "%s: data.data should be record %s, got %r"
           % (what, rec["id"], body["data"]), s.response())
    return body


def expect_within(t_got, t_ref, limit, what, s=None):
    lag = t_got - t_ref
    expect(lag <= limit, "%s: arrived %.2f s after the write's answer "
           "(want <= %.1f s)" % (what, lag, limit),
           s.response() if s else None)


# --------------------------------------------------------------------------
# the EventSource client (node sse_client.js)
# --------------------------------------------------------------------------

class Client:
    """node sse_client.js URL: an EventSource of the `eventsource` package.
    Its stdout lines (JSON) are read with deadlines; .seen holds them all
    (each with "at", the monotonic time this process read it)."""

    def __init__(self, url, headers, events, seconds=60):
        node = shutil.which("node") or shutil.which("nodejs")
        expect(node, "node is not installed (scripts/test installs nodejs)")
        expect(os.path.isdir(CLIENT_MODULE),
               "%s missing: run `npm ci` in tests/integration (scripts/test "
               "does)" % CLIENT_MODULE)
        argv = [node, CLIENT, url, "--seconds", str(seconds)]
        for name, value in headers.items():
            argv += ["--header", "%s: %s" % (name, value)]
        for e in events:
            argv += ["--event", e]
        self.url = url
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.buf = b""
        self.eof = False
        self.seen = []
        self.pending = []

    def _pump(self, deadline):
        """Reads what the client wrote, waiting at most until DEADLINE;
        False when nothing came (or it exited)."""
        fd = self.proc.stdout.fileno()
        left = deadline - time.monotonic()
        if self.eof or left <= 0 or not select.select([fd], [], [], left)[0]:
            return False
        data = os.read(fd, 65536)
        if not data:
            self.eof = True
            return False
        now = time.monotonic()
        self.buf += data
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            text = line.decode("utf-8", "replace")
            try:
                obj = json.loads(text)
            except ValueError:
                obj = {"kind": "output", "text": text}
            obj["at"] = now
            self.seen.append(obj)
            self.pending.append(obj)
        return True

    def next(self, deadline, kinds=("event",)):
        """The next line of one of KINDS before DEADLINE, or None."""
        while True:
            while self.pending:
                obj = self.pending.pop(0)
                if obj["kind"] in kinds:
                    return obj
            if not self._pump(deadline):
                return None

    def wait_open(self, timeout=OPEN_TIMEOUT):
        got = self.next(time.monotonic() + timeout, kinds=("open",))
        expect(got is not None, "the EventSource client did not connect "
               "within %d s: %s" % (timeout, self.transcript()))

    def events(self, count, deadline):
        """Up to COUNT events before DEADLINE."""
        out = []
        while len(out) < count:
            e = self.next(deadline)
            if e is None:
                break
            out.append(e)
        return out

    def opens(self):
        return sum(1 for o in self.seen if o["kind"] == "open")

    def transcript(self):
        return "client %s saw %s" % (self.url, json.dumps(
            [{k: v for k, v in o.items() if k != "at"} for o in self.seen])
            [:1500])

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self.proc.stdout.close()


def client_url(port, path):
    return "http://127.0.0.1:%d%s" % (port, path)


def expect_client_entries(c, org, want, what):
    """The client's events are audit entries WANT (seqs), in order, each
    once, their data as GET /v1/audit shows them."""
    got = [e for e in c.seen if e["kind"] == "event"]
    ids = [e.get("id") for e in got]
    expect_equal(ids, [str(n) for n in want], what + ": event ids (%s)"
                 % c.transcript())
    for e, n in zip(got, want):
        expect_equal(e.get("type"), "audit", "%s: event %d's type" % (what, n))
        expect_equal(json.loads(e["data"]), org.entry(n),
                     "%s: event %d's data vs GET /v1/audit" % (what, n))


# ==========================================================================
# framing and delivery (live port)
# ==========================================================================

@stest("a raw GET /v1/audit/stream on the live port: 200 text/event-stream, "
       "no-store, no Content-Length, `retry: 1000` first; an entry appended "
       "after connecting arrives within 2 s of the write's answer as "
       "id/event: audit/data (the entry as GET /v1/audit shows it); nothing "
       "older is sent")
def framing(ctx):
    ss = stream_server(ctx, "live")
    o = Org(ss, "st-frame")
    seq = o.head() + 1
    with sopen(ss.live, "/v1/audit/stream", o.tok) as s:
        expect_stream_head(s)
        rec, t_ans, _ = o.post_record("framing")
        f = next_event(s, t_ans + DELIVERY, "the record's entry")
        expect_within(f.t, t_ans, DELIVERY, "the record's entry", s)
        entry = o.entry(seq)
        expect_audit_frame(f, seq, entry, s, "the record's entry")
        expect_equal((entry["action"], entry["target"]),
                     ("record.create", rec["id"]), "the entry", s.response())
        # the block's raw bytes, exactly
        raw = ("id: %d\nevent: audit\ndata: " % seq).encode()
        expect(raw in s.body, "raw block %r not in the body" % raw,
               s.response())
        expect_no_event(s, QUIET, "after the one entry")


@stest("an EventSource client (npm eventsource) on the live port gets an "
       "entry appended after it connected within 2 s; killed, 3 more "
       "entries, a new client with Last-Event-ID gets exactly those 3")
def eventsource_client(ctx):
    ss = stream_server(ctx, "live")
    o = Org(ss, "st-es")
    url = client_url(ss.live, "/v1/audit/stream")
    auth = {"Authorization": "Bearer " + o.tok}
    seq = o.head() + 1
    c = Client(url, auth, ["audit"])
    try:
        c.wait_open()
        _, _, wall = o.post_record("es-1")
        got = c.events(1, time.monotonic() + DELIVERY + 1)
        expect(got, "no event within %.1f s: %s" % (DELIVERY + 1,
                                                    c.transcript()))
        lag = got[0]["t"] / 1000.0 - wall
        expect(lag <= DELIVERY, "the entry reached the client %.2f s after "
               "the write's answer (want <= %.1f): %s"
               % (lag, DELIVERY, c.transcript()))
        expect_client_entries(c, o, [seq], "first client")
    finally:
        c.kill()
    for i in range(3):
        o.post_record("es-missed-%d" % i)
    c2 = Client(url, dict(auth, **{"Last-Event-ID": str(seq)}), ["audit"])
    try:
        c2.wait_open()
        c2.events(3, time.monotonic() + DELIVERY + 1)
        c2.events(1, time.monotonic() + QUIET)   # anything more is wrong
        expect_client_entries(c2, o, [seq + 1, seq + 2, seq + 3],
                              "client resumed with Last-Event-ID")
    finally:
        c2.kill()


@stest("resume: after_seq=N and last_event_id=N send N+1.. at once "
       "(after_seq=0: from 1); Last-Event-ID beats both, last_event_id beats "
       "after_seq; abc, -1, 1.5, 2^40, huge: 400 invalid_request naming the "
       "parameter/header; 2^40-1 accepted; unknown parameter 400")
def resume(ctx):
    ss = stream_server(ctx, "live")
    o = Org(ss, "st-resume")
    for i in range(3):
        o.post_record("resume-%d" % i)
    entries = o.entries()
    k = entries[-1]["seq"]
    expect_equal([e["seq"] for e in entries], list(range(1, k + 1)),
                 "the org's seqs")
    n = k - 3

    def expect_from(first, path, headers=None, what=""):
        with sopen(ss.live, path, o.tok, headers) as s:
            expect_stream_head(s)
            t0 = time.monotonic()
            for seq in range(first, k + 1):
                f = next_event(s, t0 + 1.5, "%s: entry %d" % (what, seq))
                expect_audit_frame(f, seq, entries[seq - 1], s,
                                   "%s: entry %d" % (what, seq))
            expect_no_event(s, QUIET, what + ": after the last entry")

    expect_from(n + 1, query("/v1/audit/stream", after_seq=n), None,
                "after_seq=%d" % n)
    expect_from(n + 1, query("/v1/audit/stream", last_event_id=n), None,
                "last_event_id=%d" % n)
    expect_from(1, query("/v1/audit/stream", after_seq=0), None,
                "after_seq=0")
    expect_from(k, query("/v1/audit/stream", after_seq=1), {
        "Last-Event-ID": str(k - 1)}, "Last-Event-ID over after_seq")
    expect_from(k - 1, query("/v1/audit/stream", after_seq=1,
                             last_event_id=n),
                {"Last-Event-ID": str(k - 2)},
                "Last-Event-ID over both")
    expect_from(n + 1, query("/v1/audit/stream", after_seq=1,
                             last_event_id=n), None,
                "last_event_id over after_seq")
    # the largest number is accepted (past the end: nothing to send)
    with sopen(ss.live, query("/v1/audit/stream", after_seq=MAX_SEQ),
               o.tok) as s:
        expect_stream_head(s)
        expect_no_event(s, QUIET, "after_seq=2^40-1")
    bad = ["abc", "-1", "1.5", str(MAX_SEQ + 1), "99999999999999999999999"]
    for value in bad:
        for name in ("after_seq", "last_event_id"):
            for path in ("/v1/audit/stream", "/v1/events/stream"):
                s = sopen(ss.live, query(path, **{name: value}), o.tok,
                          status=400)
                p = expect_problem(s.response(), 400, "invalid_request")
                expect(name in p["detail"], "detail should name %s: %r"
                       % (name, p["detail"]), s.response())
        s = sopen(ss.live, query("/v1/audit/stream", after_seq=1), o.tok,
                  {"Last-Event-ID": value}, status=400)
        p = expect_problem(s.response(), 400, "invalid_request")
        expect("last-event-id" in p["detail"].lower(),
               "detail should name Last-Event-ID: %r" % p["detail"],
               s.response())
    for path in ("/v1/audit/stream", "/v1/events/stream"):
        s = sopen(ss.live, query(path, since=1), o.tok, status=400)
        expect_problem(s.response(), 400, "invalid_request")


@stest("an idle stream writes `: heartbeat` about every 2 s "
       "(RELAYSYNC_STREAM_HEARTBEAT=2) and ends by itself after ~6 s "
       "(RELAYSYNC_STREAM_LIFETIME=6) with `retry: 1000` last")
def heartbeat_lifetime(ctx):
    ss = stream_server(ctx, "live")
    o = Org(ss, "st-idle")
    with sopen(ss.live, "/v1/audit/stream", o.tok) as s:
        expect_stream_head(s)
        t_open = s.opened_at
        frames = s.frames(LIFETIME + 3)
        r = s.response()
        expect(s.ended, "the answer had not ended %d s after it began"
               % (LIFETIME + 3), r)
        took = s.ended_at - t_open
        expect(LIFETIME - 2 <= took <= LIFETIME + 2,
               "the answer ended %.2f s after it began (want %d +- 2)"
               % (took, LIFETIME), r)
        expect(frames, "no block after the first `retry: 1000`", r)
        expect(frames[-1].is_retry(), "the last block should be `retry: "
               "1000`, got %r" % (frames[-1].lines,), r)
        expect(re.search(rb"\n\nid: [0-9]+\nretry: 1000\n\n$", s.body),
               "the body should end with 'id: <n>\\nretry: 1000\\n\\n', "
               "got %r" % s.body[-40:], r)
        beats = frames[:-1]
        for f in beats:
            expect(f.is_heartbeat(), "an idle stream sent %r" % (f.lines,), r)
        expect(len(beats) >= 2, "want at least 2 heartbeats in %d s, got %d"
               % (LIFETIME, len(beats)), r)
        expect(b": heartbeat\n\n" in s.body, "raw ': heartbeat\\n\\n'", r)
        last = t_open
        for i, f in enumerate(beats):
            gap = f.t - last
            expect(HEARTBEAT - 0.5 <= gap <= HEARTBEAT + 1.0,
                   "heartbeat %d came %.2f s after the previous write "
                   "(want about %d)" % (i + 1, gap, HEARTBEAT), r)
            last = f.t


@stest("a stream tells its place (`id:` with the first and last "
       "`retry: 1000`) even when it sent nothing or only events a filter "
       "left out: a client resuming from it gets exactly what was written "
       "after, nothing twice")
def place(ctx):
    ss = stream_server(ctx, "live")
    o = Org(ss, "st-place")
    head = o.head()
    with sopen(ss.live, "/v1/audit/stream", o.tok) as s:
        expect_stream_head(s)
        m = re.match(rb"retry: 1000\nid: ([0-9]+)\n\n", s.body)
        expect(m and int(m.group(1)) == head, "the first block's id should "
               "be the current end, %d: %r" % (head, s.body[:40]),
               s.response())
    o.post_record("after-1")
    o.post_record("after-2")
    with sopen(ss.live, "/v1/audit/stream", o.tok,
               headers={"Last-Event-ID": str(head)}) as s:
        expect_stream_head(s)
        t0 = time.monotonic()
        for seq in (head + 1, head + 2):
            f = next_event(s, t0 + DELIVERY, "entry %d" % seq)
            expect_equal(f.id, str(seq), "resumed entry id", s.response())
        expect_no_event(s, QUIET, "after the two entries")
    # Events a filter leaves out move the place the stream ends with.
    with sopen(ss.live, query("/v1/events/stream", types="record.synced"),
               o.tok) as s:
        expect_stream_head(s)
        m = re.match(rb"retry: 1000\nid: ([0-9]+)\n\n", s.body)
        expect(m is not None, "no place first: %r" % s.body[:40],
               s.response())
        n = int(m.group(1))
        o.post_record("not-synced")            # record.created: n + 1
        frames = s.frames(LIFETIME + 3)
        expect(s.ended, "the stream did not end", s.response())
        expect(not any(is_event(f) for f in frames),
               "a filtered-out event was sent", s.response())
        expect(frames and frames[-1].is_retry() and frames[-1].id ==
               str(n + 1), "the last block should carry id %d (the event "
               "left out), got %r" % (n + 1, frames and frames[-1].lines),
               s.response())


# ==========================================================================
# /v1/events/stream, roles, X-Request-Id
# ==========================================================================

@stest("/v1/events/stream (a viewer): a record created as synced arrives as "
       "record.created then record.synced (consecutive ids) within 2 s, data "
       "the webhook body; ?types= filters; after_seq resumes; an unknown "
       "type is 400 naming it")
def events_stream(ctx):
    ss = stream_server(ctx, "live")
    o = Org(ss, "st-events")
    viewer = o.token("viewer")
    with sopen(ss.live, "/v1/events/stream", viewer) as s:
        expect_stream_head(s)
        rec, t_ans, _ = o.post_record("ev-1", status="synced")
        f1 = next_event(s, t_ans + DELIVERY, "record.created")
        expect_within(f1.t, t_ans, DELIVERY, "record.created", s)
        expect_match(r"^\d+$", f1.id or "", "the first event's id",
                     s.response())
        n = int(f1.id)
        expect_event_frame(f1, n, "record.created", o.org, rec, s,
                           "first event")
        f2 = next_event(s, t_ans + DELIVERY, "record.synced")
        expect_within(f2.t, t_ans, DELIVERY, "record.synced", s)
        expect_event_frame(f2, n + 1, "record.synced", o.org, rec, s,
                           "second event")
        expect_no_event(s, QUIET, "after the record's two events")
    with sopen(ss.live, query("/v1/events/stream", types="record.synced"),
               viewer) as s:
        expect_stream_head(s)
        o.post_record("ev-queued")                  # record.created: n+2
        rec3, t_ans, _ = o.post_record("ev-3", status="synced")  # n+3, n+4
        f = next_event(s, t_ans + DELIVERY, "types=record.synced")
        expect_event_frame(f, n + 4, "record.synced", o.org, rec3, s,
                           "types=record.synced")
        expect_no_event(s, QUIET, "types=record.synced: after it")
    with sopen(ss.live, query("/v1/events/stream", after_seq=n - 1,
                              types="record.created,record.synced"),
               viewer) as s:
        expect_stream_head(s)
        want = ["record.created", "record.synced", "record.created",
                "record.created", "record.synced"]
        t0 = time.monotonic()
        for i, etype in enumerate(want):
            f = next_event(s, t0 + 1.5, "resumed event %d" % (n + i))
            expect((f.id, f.event) == (str(n + i), etype),
                   "resumed: want event %d %s, got %r"
                   % (n + i, etype, f.lines), s.response())
        expect_no_event(s, QUIET, "resumed: after the last event")
    for types, name in (("record.bogus", "record.bogus"),
                        ("record.created,nope", "nope")):
        s = sopen(ss.live, query("/v1/events/stream", types=types), viewer,
                  status=400)
        p = expect_problem(s.response(), 400, "invalid_request")
        expect(name in p["detail"], "detail should name %s: %r"
               % (name, p["detail"]), s.response())


@stest("roles: /v1/audit/stream is 403 for a viewer and an operator, 401 "
       "without a token or with a bad one; /v1/events/stream 401 without one")
def roles(ctx):
    ss = stream_server(ctx, "live")
    o = Org(ss, "st-roles")
    for role in ("viewer", "operator"):
        s = sopen(ss.live, "/v1/audit/stream", o.token(role), status=403)
        expect_problem(s.response(), 403, "forbidden")
    for path in ("/v1/audit/stream", "/v1/events/stream"):
        s = sopen(ss.live, path, None, status=401)
        expect_problem(s.response(), 401, "unauthorized")
        s = sopen(ss.live, path, "rst1.bad.token", status=401)
        expect_equal(s.status, 401, "a bad token", s.response())


@stest("every answer of both routes carries X-Request-Id (200, 400, 401, "
       "403; on every port), a problem's request_id being that header")
def request_ids(ctx):
    ss = stream_server(ctx, "live")
    o = Org(ss, "st-rid")
    viewer = o.token("viewer")
    o.post_record("rid")   # an event, so a buffered events stream ends
    ports = sorted({ss.live, ss.port})
    seen = set()
    for port in ports:
        for path, tok in (("/v1/audit/stream", o.tok),
                          ("/v1/events/stream", viewer)):
            # a stream that ends at once where buffered: resume from 0
            # (Apache's main port sends its head only with the answer)
            s = sopen(port, query(path, after_seq=0) if port != ss.live
                      else path, tok)
            seen.add(s.headers.get(RID))
            s.close()
            for bad_path, bad_tok, status, code in (
                    (query(path, after_seq="abc"), tok, 400,
                     "invalid_request"),
                    (path, None, 401, "unauthorized")):
                s = sopen(port, bad_path, bad_tok, status=status)
                expect_problem(s.response(), status, code)
                seen.add(s.headers.get(RID))
        s = sopen(port, "/v1/audit/stream", viewer, status=403)
        expect_problem(s.response(), 403, "forbidden")
        seen.add(s.headers.get(RID))
    expect_equal(len(seen), len(ports) * 7, "distinct request ids")


# ==========================================================================
# Apache's buffered port (the include without RELAYSYNC_STREAMING)
# ==========================================================================

@stest("buffered mode (Apache's main port; under lighttpd a listener that "
       "sets RELAYSYNC_STREAM=buffered): an answer ends right after the "
       "poll that sent entries; an EventSource client gets an entry appended "
       "after it connected within 2.5 s and, across its reconnects, 5 "
       "entries appended one per 0.3 s exactly once each, in order")
def buffered_port(ctx):
    ss = stream_server(ctx, "live")
    o = Org(ss, "st-buf")
    for i in range(2):
        o.post_record("buf-old-%d" % i)
    k = o.head()
    # raw: existing entries, then the answer ends (at most a poll later)
    t0 = time.monotonic()
    s = sopen(ss.buffered, query("/v1/audit/stream", after_seq=k - 2), o.tok,
              status=None)
    try:
        expect_stream_head(s, live=False)
        s.read_all(LIFETIME - 1)
        r = s.response()
        expect(s.ended and s.ended_at - t0 <= 2.0,
               "the buffered answer with entries to send should end within "
               "2 s (ended: %s after %.2f s)"
               % (s.ended, (s.ended_at or time.monotonic()) - t0), r)
        expect(re.match(rb"retry: 1000\nid: [0-9]+\n\n", s.body),
               "retry and the place first", r)
        frames = s.frames(0)
        events = [f for f in frames if is_event(f)]
        expect_equal([f.id for f in events], [str(k - 1), str(k)],
                     "the buffered answer's entries", r)
    finally:
        s.close()
    # the EventSource client
    ss.quiesce()
    url = client_url(ss.buffered, "/v1/audit/stream")
    c = Client(url, {"Authorization": "Bearer " + o.tok}, ["audit"])
    try:
        # connected = its stream holds a slot (the answer's head comes
        # only with its end on this port)
        deadline = time.monotonic() + OPEN_TIMEOUT
        while not ss.holders():
            expect(time.monotonic() < deadline, "the client's stream took "
                   "no slot in %s-streams/ within %d s: %s"
                   % (ss.ws.state, OPEN_TIMEOUT, c.transcript()))
            time.sleep(0.05)
        _, _, wall = o.post_record("buf-1")
        got = c.events(1, time.monotonic() + BUFFERED_DELIVERY + 1)
        expect(got, "no event within %.1f s: %s"
               % (BUFFERED_DELIVERY + 1, c.transcript()))
        lag = got[0]["t"] / 1000.0 - wall
        expect(lag <= BUFFERED_DELIVERY, "the entry reached the client "
               "%.2f s after the write's answer (want <= %.1f): %s"
               % (lag, BUFFERED_DELIVERY, c.transcript()))
        next_t = time.monotonic()
        for i in range(5):
            time.sleep(max(0.0, next_t - time.monotonic()))
            o.post_record("buf-burst-%d" % i)
            next_t += 0.3
        c.events(5, time.monotonic() + BUFFERED_DELIVERY + 1)
        c.events(1, time.monotonic() + 1.5)   # a duplicate would come now
        expect_client_entries(c, o, [k + 1 + i for i in range(6)],
                              "buffered port")
        expect(c.opens() >= 2, "the client should have reconnected (each "
               "buffered answer ends after entries): %s" % c.transcript())
    finally:
        c.kill()


# ==========================================================================
# caps and a client that goes away
# ==========================================================================

@stest("caps (1 per org, 2 per pool): an org's second stream (either "
       "route) is 429 too_many_streams with Retry-After: 5, another org's is "
       "accepted, a third stream 503 service_unavailable with Retry-After: "
       "5; GET /v1/me and POST /v1/records stay prompt")
def caps(ctx):
    ss = stream_server(ctx, "caps")
    x, y, z = Org(ss, "st-cap-x"), Org(ss, "st-cap-y"), Org(ss, "st-cap-z")
    ss.quiesce()
    held = []
    try:
        held.append(sopen(ss.live, "/v1/audit/stream", x.tok))
        expect_stream_head(held[0])
        for path in ("/v1/events/stream", "/v1/audit/stream"):
            t0 = time.monotonic()
            s = sopen(ss.live, path, x.tok, status=429)
            expect(time.monotonic() - t0 < PROMPT, "the 429 took %.2f s"
                   % (time.monotonic() - t0), s.response())
            expect_problem(s.response(), 429, "too_many_streams")
            expect_equal(s.headers.get("Retry-After"), "5", "Retry-After",
                         s.response())
        held.append(sopen(ss.live, "/v1/events/stream", y.tok))
        expect_stream_head(held[1])
        for path in ("/v1/audit/stream", "/v1/events/stream"):
            t0 = time.monotonic()
            s = sopen(ss.live, path, z.tok, status=503)
            expect(time.monotonic() - t0 < PROMPT, "the 503 took %.2f s"
                   % (time.monotonic() - t0), s.response())
            expect_problem(s.response(), 503, "service_unavailable")
            expect_equal(s.headers.get("Retry-After"), "5", "Retry-After",
                         s.response())
        for port in sorted({ss.port, ss.live}):
            for i in range(3):
                t0 = time.monotonic()
                me = harness.http_call(port, "GET", "/v1/me", token=z.tok)
                took = time.monotonic() - t0
                expect_json(me, 200)
                expect(took < PROMPT, "GET /v1/me took %.2f s with the "
                       "caps full" % took, me)
                t0 = time.monotonic()
                made = harness.http_call(port, "POST", "/v1/records",
                                         {"title": "cap", "type": "s"},
                                         token=x.tok)
                took = time.monotonic() - t0
                expect_json(made, 201)
                expect(took < PROMPT, "POST /v1/records took %.2f s with "
                       "the caps full" % took, made)
        # and the held streams still work: x's stream has those entries
        f = next_event(held[0], time.monotonic() + DELIVERY,
                       "x's held stream")
        expect_equal(f.event, "audit", "x's held stream", held[0].response())
    finally:
        for s in held:
            s.close()


@stest("a client that goes away (1 stream per org, heartbeat 2 s): its "
       "connection reset right after a heartbeat, a new stream of its org "
       "is accepted within heartbeat + 1 s of that heartbeat (Apache "
       "notices at its next write), under lighttpd within 1 s of the reset "
       "(slot and process freed)")
def disconnect(ctx):
    ss = stream_server(ctx, "caps")
    o = Org(ss, "st-gone")
    ss.quiesce()
    s1 = sopen(ss.live, "/v1/audit/stream", o.tok)
    try:
        expect_stream_head(s1)
        s = sopen(ss.live, "/v1/audit/stream", o.tok, status=429)
        expect_problem(s.response(), 429, "too_many_streams")
        # reset right after a heartbeat: the next write is HEARTBEAT away,
        # so "noticed at the next write" frees the slot by HEARTBEAT plus
        # a poll (0.5 s) and slack, whatever the phase
        beat = s1.next_frame(HEARTBEAT + 1.5)
        expect(beat is not None and beat.is_heartbeat(),
               "want a heartbeat within %.1f s, got %r"
               % (HEARTBEAT + 1.5, beat and beat.lines), s1.response())
        holder = ss.holders()
    finally:
        s1.abort()
    t_beat = beat.t
    t_reset = time.monotonic()
    limit = HEARTBEAT + 1.0
    tries = []
    while True:
        s = sopen(ss.live, "/v1/audit/stream", o.tok, status=None)
        took = time.monotonic() - t_beat
        tries.append(s.status)
        if s.status == 200:
            s.close()
            break
        expect_problem(s.response(), 429, "too_many_streams")
        expect(took < limit,
               "no new stream of the org accepted within %.1f s of the last "
               "heartbeat before the reset (answers: %r; slot holders then "
               "%r, now %r)" % (limit, tries, sorted(holder),
                                 sorted(ss.holders())), s.response())
        time.sleep(0.1)
    expect(took <= limit, "accepted %.2f s after the last heartbeat before "
           "the reset (want <= %.1f)" % (took, limit))
    # lighttpd hangs up the FastCGI connection as soon as its client goes:
    # the program sees that between polls, before any write.
    if not ss.apache:
        gone = time.monotonic() - t_reset
        expect(gone < 1.0, "lighttpd: accepted %.2f s after the reset "
               "(want < 1 s: the hang-up is seen while waiting)" % gone)
