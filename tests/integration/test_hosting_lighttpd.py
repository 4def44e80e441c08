"""Hosting RelaySync with lighttpd beyond the run's root-mounted FastCGI
pool (issue 14): under a sub-path with the shipped relaysync.conf
(var.relaysync_base = "/~crew/relaysync" set between the two includes),
and as a plain CGI through mod_cgi with the shipped relaysync-cgi.conf,
under that sub-path and at the root.

Each form runs on a private lighttpd of its own (hosting_lighttpd.Site:
a temp dir and database of its own, 127.0.0.1, started on first use and
stopped when the run ends). Under the mount, in both forms: health, the
token exchange, a bearer request, a record's 201 with its Location under
the mount and a GET of that Location, a cursor walk, the OpenAPI
document's servers url, 404s outside the mount, lighttpd's own refusals
(413, 431) answered as JSON problems through the mounted error handler,
an event stream passed through as written and ending by itself, and
lighttpd's static JSON problem when the program cannot answer (a side
site each, with a program that dies). Under mod_cgi also the per-org
rate limit (its shared file across CGI processes), and the root mount.

Every test name starts with "hosting lighttpd: " (`run.py -k hosting`).
They are registered only in a `--server lighttpd` run (the run's own
server is not used: each site is a lighttpd of its own).
"""

import os
import shutil
import signal
import sys
import tempfile
import time
import urllib.parse

import harness
from harness import (Failure, at_teardown, expect, expect_equal,
                     expect_json, expect_match, expect_problem, run_parallel)
from hosting_lighttpd import MOUNT, Site, raw_exchange
from web_checks import check_web, web_dir

REC_ID_RE = r"^rec_[A-Za-z0-9_-]+$"
LIFETIME = 3            # s, RELAYSYNC_STREAM_LIFETIME of the sites
STREAM_WAIT = 10        # s a stream may take to end by itself
DELIVERY = 2.0          # s from a write's answer to its event's arrival
FLOOD_RATE = 2          # requests/s of the rate-limited org
FLOOD = 6               # requests sent at once
DEAD_WAIT = 20          # s for a killed pool's paths to answer 5xx
HUGE = 3 * 1024 * 1024  # a Content-Length past max-request-size (1025 KiB)

# The sites, started on first use: key -> (hosting, mount, app_env).
SITES = {
    "fastcgi": ("fastcgi", MOUNT, {"RELAYSYNC_STREAM_LIFETIME": LIFETIME}),
    "cgi": ("cgi", MOUNT, {"RELAYSYNC_STREAM_LIFETIME": LIFETIME}),
    "cgi-root": ("cgi", "", None),
}
_started = {}   # key -> Site, or the Failure its start raised


def run_server():
    """The --server of this run (None when the command line has none)."""
    argv = sys.argv[1:]
    for i, arg in enumerate(argv):
        if arg == "--server" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--server="):
            return arg.split("=", 1)[1]
    return None


def htest(name):
    """Register NAME (prefixed) in a lighttpd run only."""
    def register(func):
        if run_server() in (None, "lighttpd"):
            def guarded(ctx):
                expect_equal(ctx.server_name, "lighttpd", "the run's server")
                func(ctx)
            harness.test("hosting lighttpd: " + name)(guarded)
        return func
    return register


def site(ctx, key):
    """The site KEY, started (once) on first use."""
    got = _started.get(key)
    if got is None:
        hosting, mount, env = SITES[key]
        try:
            got = Site(ctx, hosting, mount, app_env=env)
            at_teardown(got.stop)
        except Failure as e:
            got = Failure("%s site (mount %r) did not start: %s"
                          % (hosting, mount or "/", e))
        _started[key] = got
    if isinstance(got, Failure):
        raise got
    return got


# --------------------------------------------------------------------------
# the checks every form gets
# --------------------------------------------------------------------------

def check_basics(s):
    """health, the token exchange, a bearer GET /v1/me."""
    body = expect_json(s.call("GET", "/v1/health"), 200)
    expect_equal(body.get("status"), "ok", "health status")
    tok = s.token()
    resp = s.call("GET", "/v1/me", token=tok)
    me = expect_json(resp, 200)
    expect_equal(me.get("org_id"), s.org, "org_id of /v1/me", resp)
    expect_equal(me.get("role"), "admin", "role of /v1/me", resp)


def create(s, tok, label):
    """POST a record -> (record, response); 201 with Location under the
    mount, naming the record."""
    resp = s.call("POST", "/v1/records",
                  {"title": "Pressure check " + label, "type": label,
                   "site": "alpha"}, token=tok)
    rec = expect_json(resp, 201)
    expect_match(REC_ID_RE, rec.get("id"), "id", resp)
    expect_equal(resp.headers.get("Location"),
                 s.path("/v1/records/" + rec["id"]), "Location", resp)
    return rec, resp


def check_location(s):
    tok = s.token()
    rec, resp = create(s, tok, "loc-%d" % time.monotonic_ns())
    loc = resp.headers["Location"]
    got = s.call_raw("GET", loc, token=tok)
    body = expect_json(got, 200)
    expect_equal(body.get("id"), rec["id"], "id of GET Location", got)
    expect_equal(body.get("title"), rec["title"], "title of GET Location",
                 got)


def check_cursor(s):
    """3 records of a fresh type, listed with limit=1: three pages joined
    by next_cursor, the last with has_more false and next_cursor null."""
    tok = s.token()
    kind = "walk-%d" % time.monotonic_ns()
    made = [create(s, tok, kind)[0]["id"] for _ in range(3)]
    seen, cursor = [], None
    for page in range(1, 5):
        query = {"type": kind, "limit": "1"}
        if cursor:
            query["cursor"] = cursor
        resp = s.call("GET", "/v1/records?" + urllib.parse.urlencode(query),
                      token=tok)
        body = expect_json(resp, 200)
        data = body.get("data")
        expect(isinstance(data, list) and len(data) == 1,
               "page %d: expected 1 record, got %r" % (page, data), resp)
        seen.append(data[0].get("id"))
        if page < 3:
            expect_equal(body.get("has_more"), True, "page %d has_more"
                         % page, resp)
            cursor = body.get("next_cursor")
            expect(isinstance(cursor, str) and cursor,
                   "page %d: next_cursor %r" % (page, cursor), resp)
        else:
            expect_equal(body.get("has_more"), False, "last page has_more",
                         resp)
            expect_equal(body.get("next_cursor"), None,
                         "last page next_cursor", resp)
            break
    expect_equal(seen, made, "the walk's records (oldest first)")


def check_openapi(s):
    resp = s.call("GET", "/v1/openapi.json")
    doc = expect_json(resp, 200)
    servers = doc.get("servers")
    expect(isinstance(servers, list) and servers and
           isinstance(servers[0], dict), "servers: %r" % (servers,), resp)
    expect_equal(servers[0].get("url"), s.mount + "/", "servers[0].url",
                 resp)


def check_outside(s):
    """Paths outside the mount are lighttpd's own 404s (the program is
    never asked: no X-Request-Id); a path under the mount that the API
    does not have is the program's 404 problem, its instance the whole
    path."""
    for path in ("/v1/health", "/~crew/v1/health",
                 MOUNT + "/x/v1/health", MOUNT + "v1/health",
                 MOUNT + "/v1x/health", "/other" + MOUNT + "/v1/health"):
        resp = s.call_raw("GET", path)
        expect_equal(resp.status, 404, "status of GET %s" % path, resp)
        expect("X-Request-Id" not in resp.headers,
               "GET %s reached the program" % path, resp)
    resp = s.call("GET", "/v1/nowhere")
    expect_problem(resp, 404, "not_found")


def check_refusals(s):
    """lighttpd refuses a 3 MiB Content-Length (413) and a 70 KB header
    (431) itself; the error handler under the mount has the program
    answer both as problems."""
    tok = s.token()
    path = s.path("/v1/records")
    data = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
            "Content-Length: %d\r\n\r\n" % (path, tok, HUGE)).encode() + \
        b'{"title":'
    t0 = time.monotonic()
    resp = raw_exchange(s.port, data, path, timeout=5)
    took = time.monotonic() - t0
    expect_problem(resp, 413, "payload_too_large", instance=path)
    expect(took < 3, "413 after %.1f s, not at once" % took, resp)

    path = s.path("/v1/health")
    data = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            "X-Big: %s\r\n\r\n" % (path, "a" * 70000)).encode()
    resp = raw_exchange(s.port, data, path)
    expect_equal(resp.status, 431, "status", resp)
    expect_equal(harness.media_type(resp), "application/problem+json",
                 "Content-Type", resp)
    body = resp.json()
    expect_equal(body.get("status"), 431, "problem status member", resp)
    expect_equal(body.get("request_id"), resp.headers.get("X-Request-Id"),
                 "problem request_id vs X-Request-Id", resp)


def check_stream(s):
    """GET <mount>/v1/events/stream: 200 text/event-stream, a first block
    of retry: 1000 and id: long before the lifetime ends, an event written
    meanwhile as it happens (the program's writes pass through: the
    include's stream-response-body = 2 follows the mount), and the end by
    itself after the lifetime with retry:/id: again."""
    tok = s.token()
    path = s.path("/v1/events/stream")
    opened = time.monotonic()
    st = harness.open_stream(s.port, path, token=tok, timeout=5)
    try:
        expect_equal(st.status, 200, "status", st.response())
        expect_equal(harness.media_type(st.response()), "text/event-stream",
                     "Content-Type", st.response())
        first = st.next_frame(5)
        expect(first is not None and first.is_retry() and first.id,
               "first block: expected retry: 1000 and id:, got %r"
               % (first,), st.response())
        expect(first.t - opened < LIFETIME - 1.5, "first block after "
               "%.1f s: the answer is buffered" % (first.t - opened),
               st.response())
        rec, resp = create(s, tok, "stream-%d" % time.monotonic_ns())
        written = time.monotonic()
        frames, ended = [], False
        deadline = opened + LIFETIME + STREAM_WAIT
        while time.monotonic() < deadline:
            f = st.next_frame(max(0.0, deadline - time.monotonic()))
            if f is None:
                break
            frames.append(f)
        ended = st.read_all(max(0.1, deadline - time.monotonic()))
        took = time.monotonic() - opened
        expect(ended, "the stream did not end within %d s"
               % (LIFETIME + STREAM_WAIT), st.response())
        expect(took >= LIFETIME - 0.5, "the stream ended after %.1f s, "
               "before its lifetime (%d s)" % (took, LIFETIME),
               st.response())
        mine = [f for f in frames if f.event == "record.created" and
                rec["id"] in (f.data or "")]
        expect(len(mine) == 1, "expected one record.created event for %s, "
               "got %r" % (rec["id"], frames), st.response())
        expect_match(r"^\d+$", mine[0].id, "event id", st.response())
        expect(mine[0].t - written < DELIVERY, "the event arrived %.1f s "
               "after the write: held back" % (mine[0].t - written),
               st.response())
        expect(frames and frames[-1].is_retry() and frames[-1].id,
               "the last block should be retry: 1000 with id:, got %r"
               % (frames[-1:],), st.response())
        expect(frames[-1].t - mine[0].t > 0.5, "the event came with the "
               "stream's end, not before it", st.response())
    finally:
        st.close()


FORMS = (("fastcgi", "FastCGI (relaysync.conf) under " + MOUNT),
         ("cgi", "mod_cgi (relaysync-cgi.conf) under " + MOUNT))
def check_console(s):
    """The console and docs page under the mount (web_checks.py)."""
    check_web(lambda method, url, headers=None:
              s.call_raw(method, url, headers=headers), s.mount,
              web_dir(s.ctx.prefix), "sql/0001_init.sql", compressed=True)


CHECKS = (
    (check_console, "the console and docs page at <mount>/console/ and "
     "<mount>/docs/, with the strict CSP, nothing else of the install "
     "reachable"),
    (check_basics, "health, token exchange and a bearer GET /v1/me"),
    (check_location, "POST /v1/records is 201 with its Location under the "
     "mount, and that Location answers"),
    (check_cursor, "a list with limit=1 over 3 records follows next_cursor "
     "to the end"),
    (check_openapi, "the OpenAPI document's servers[0].url is the mount"),
    (check_outside, "paths outside the mount are 404 and never reach the "
     "program; an unknown API path is a 404 problem"),
    (check_refusals, "lighttpd's own 413 (body) and 431 (header) are JSON "
     "problems through the mounted error handler"),
    (check_stream, "GET /v1/events/stream passes each block through as "
     "written and ends by itself after its lifetime (%d s)" % LIFETIME),
)


def register_form(key, label, check, what):
    @htest("%s: %s" % (label, what))
    def run(ctx):
        check(site(ctx, key))
    return run


for _key, _label in FORMS:
    for _check, _what in CHECKS:
        register_form(_key, _label, _check, _what)


# --------------------------------------------------------------------------
# mod_cgi only
# --------------------------------------------------------------------------

@htest("mod_cgi under %s: an org limited to %d/s sending %d requests at "
       "once gets 429 rate_limited with Retry-After (the shared rate file "
       "works across CGI processes)" % (MOUNT, FLOOD_RATE, FLOOD))
def cgi_rate_limit(ctx):
    s = site(ctx, "cgi")
    org, key = s.new_org("rl", FLOOD_RATE)
    tok = s.token(key)
    started = time.monotonic()
    got = run_parallel([lambda: (s.call("GET", "/v1/me", token=tok),
                                 time.monotonic())] * FLOOD, 30)
    answers = []
    for result, exc in got:
        if exc is not None:
            raise exc
        answers.append(result)
    ok = [(r, t) for r, t in answers if r.status == 200]
    limited = [r for r, t in answers if r.status == 429]
    others = [r for r, t in answers if r.status not in (200, 429)]
    expect(not others, "statuses other than 200/429: %s"
           % [r.status for r in others], others[0] if others else None)
    expect(ok, "no request got through (%s)"
           % [r.status for r, t in answers], answers[0][0])
    expect(limited, "none of %d requests at once was limited at %d/s: "
           "each CGI process had a bucket of its own?" % (FLOOD, FLOOD_RATE),
           answers[0][0])
    # a bucket of rate R lets at most R + R*T through in T seconds
    took = max(t for r, t in ok) - started
    bound = FLOOD_RATE + FLOOD_RATE * took
    expect(len(ok) <= bound, "%d of %d got through in %.2f s; a shared "
           "bucket allows at most %.1f" % (len(ok), FLOOD, took, bound),
           ok[0][0])
    for r, t in ok:
        expect_equal(r.headers.get("RateLimit-Limit"), str(FLOOD_RATE),
                     "RateLimit-Limit", r)
    for r in limited:
        expect_problem(r, 429, "rate_limited")
        expect_match(r"^[1-9][0-9]*$", r.headers.get("Retry-After"),
                     "Retry-After", r)


# --------------------------------------------------------------------------
# the program cannot answer: lighttpd's own static problem, under the mount
# --------------------------------------------------------------------------

def expect_static_problem(resp, path):
    """RESP is lighttpd's errors/status-<code>.html for a 5xx: a JSON
    problem (the include's errorfile-prefix and mimetype under the mount);
    with relaysync-magnet.conf (lighttpd-modules-lua) also an X-Request-Id
    that is its request_id and PATH as instance."""
    expect(resp.status in (500, 502, 503, 504),
           "status %s: expected lighttpd's 5xx" % resp.status, resp)
    expect_equal(harness.media_type(resp), "application/problem+json",
                 "Content-Type", resp)
    body = resp.json()
    expect_equal(body.get("status"), resp.status, "problem status member",
                 resp)
    expect(body.get("code") in ("internal_error", "service_unavailable"),
           "problem code %r" % body.get("code"), resp)
    if os.path.exists(harness.LIGHTTPD_MAGNET):
        rid = resp.headers.get("X-Request-Id")
        expect(rid, "X-Request-Id missing (relaysync-magnet.conf)", resp)
        expect_equal(body.get("request_id"), rid, "request_id", resp)
        expect_equal(body.get("instance"), path, "instance", resp)


def write_program(directory, text):
    """An executable relaysync.fcgi in DIRECTORY running shell TEXT."""
    path = os.path.join(directory, "relaysync.fcgi")
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + text + "\n")
    os.chmod(path, 0o755)
    return path


@htest("FastCGI (relaysync.conf) under %s: when the pool died and cannot "
       "start again, the mount's paths get lighttpd's static JSON problem"
       % MOUNT)
def fastcgi_dead_pool(ctx):
    tmp = tempfile.mkdtemp(prefix="relaysync-hosting.")
    s = None
    try:
        os.chmod(tmp, 0o755)
        marker = os.path.join(tmp, "dead")
        real = os.path.join(ctx.prefix, "libexec/relaysync/relaysync.fcgi")
        wrapper = write_program(tmp, "[ -e '%s' ] && exit 1\nexec '%s' \"$@\""
                                % (marker, real))
        s = Site(ctx, "fastcgi", MOUNT, fcgi=wrapper)
        open(marker, "w").close()
        pids = s.program_pids()
        expect(pids, "no relaysync.fcgi process in lighttpd's session")
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        path = s.path("/v1/health")
        resp, deadline = None, time.monotonic() + DEAD_WAIT
        while time.monotonic() < deadline:
            resp = s.call("GET", "/v1/health", timeout=DEAD_WAIT)
            if resp.status >= 500:
                break
            time.sleep(0.3)
        expect(resp is not None and resp.status >= 500,
               "the program still answers after %d s" % DEAD_WAIT, resp)
        expect_static_problem(resp, path)
    finally:
        if s is not None:
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)


@htest("mod_cgi (relaysync-cgi.conf) under %s: a program that dies "
       "without answering gets lighttpd's static JSON problem" % MOUNT)
def cgi_dead_program(ctx):
    tmp = tempfile.mkdtemp(prefix="relaysync-hosting.")
    s = None
    try:
        os.chmod(tmp, 0o755)
        s = Site(ctx, "cgi", MOUNT, fcgi=write_program(tmp, "exit 1"),
                 healthy=False)
        path = s.path("/v1/records")
        resp, deadline = None, time.monotonic() + harness.START_TIMEOUT
        while time.monotonic() < deadline:   # until lighttpd listens
            try:
                resp = s.call("GET", "/v1/records", timeout=5)
                break
            except Failure:
                time.sleep(0.2)
        expect(resp is not None, "lighttpd did not answer")
        expect_static_problem(resp, path)
    finally:
        if s is not None:
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)


@htest("mod_cgi (relaysync-cgi.conf) at the root: health, token, a record's "
       "Location /v1/records/..., the OpenAPI servers url /")
def cgi_root(ctx):
    s = site(ctx, "cgi-root")
    check_basics(s)
    tok = s.token()
    rec, resp = create(s, tok, "root-%d" % time.monotonic_ns())
    expect_equal(resp.headers.get("Location"), "/v1/records/" + rec["id"],
                 "Location", resp)
    expect_json(s.call_raw("GET", resp.headers["Location"], token=tok), 200)
    check_openapi(s)
    resp = s.call_raw("GET", MOUNT + "/v1/health")
    expect_equal(resp.status, 404, "status outside /v<n>", resp)
