"""Per-org rate limits (issue 13, /work/issue13/DESIGN.md): a token bucket
per org (rate = orgs.rate_limit requests/s, burst = rate, full again in
1 s) shared by every FastCGI process of the pool through
"<RELAYSYNC_DB>.ratelimit"; checked right after the bearer token is
authenticated, before the role, query and body checks; every answer after
a successful authentication carries RateLimit-Limit, -Remaining, -Reset,
RateLimit-Policy and RateLimit; an empty bucket answers 429 `rate_limited`
with Retry-After; RELAYSYNC_RATE_LIMITS=off turns it all off; an unusable
shared file lets requests through without the headers.

Every test name starts with "ratelimit: " so `run.py -k ratelimit` selects
them. Each test makes the orgs it limits (the CLI's `--rate-limit`), so no
other test's requests share their buckets. Tests that break the pool
(SIGKILL, the shared file) or change the program's environment run on side
servers of the run's kind with a temp dir of their own. Every loop and wait
is bounded.

Timing: a token bucket of rate R lets at most R + R*T requests through in
any T seconds. A flood's bound is taken from the test's own clock (from the
first request sent to the last admitted answer received: every admitted
check happened in between), so a slow front end (mod_fcgid's one-second
sleeps when no process is idle) widens the bound instead of failing the
test.
"""

import json
import math
import os
import pwd
import re
import secrets
import signal
import threading
import time

import harness
from harness import (Failure, expect, expect_equal, expect_json,
                     expect_match, expect_problem, free_port, http_call,
                     mint_token, run_parallel, test)

RL_HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset",
              "RateLimit-Policy", "RateLimit")
DEFAULT_RATE = 120          # orgs.rate_limit when org create has none
REFILL_WAIT = 1.1           # seconds: a bucket is full again after 1 s
FLOOD_TIMEOUT = 60          # seconds for one run_parallel flood
RECOVER_TIMEOUT = 15        # seconds for a side server to answer again


def rtest(name, last=False):
    return test("ratelimit: " + name, last)


# --------------------------------------------------------------------------
# orgs and servers
# --------------------------------------------------------------------------

def cli_ok(ws, args):
    rc, out, err = ws.cli(args)
    expect(rc == 0, "relaysync-admin %s: exit %d: %s%s"
           % (" ".join(args), rc, out, err))
    return out.strip()


class Org:
    """A fresh org on the server at PORT (database of workspace WS) made
    with `org create NAME [--rate-limit RATE]`, with an admin key and its
    access token (the exchange is unauthenticated: it takes nothing from
    the bucket). rate: what the org's RateLimit-Limit should say."""

    def __init__(self, ws, port, label, rate=None):
        self.ws = ws
        self.port = port
        self.name = "rl-%s-%s" % (label, secrets.token_hex(3))
        args = ["org", "create", self.name]
        if rate is not None:
            args += ["--rate-limit", str(rate)]
        self.org = cli_ok(ws, args)
        expect_match(r"^org_\S+$", self.org, "org create output")
        self.rate = DEFAULT_RATE if rate is None else rate
        self.tok = self.token("admin")

    def token(self, role):
        """A new key of ROLE in the org -> its access token."""
        out = cli_ok(self.ws, ["key", "create", "--org", self.org, "--email",
                               "%s-%s@rl.example.com"
                               % (role, secrets.token_hex(4)),
                               "--role", role, "--json"])
        key = json.loads(out)["api_key"]
        resp = http_call(self.port, "POST", "/v1/auth/token",
                         {"api_key": key})
        body = expect_json(resp, 200)
        expect_no_rl(resp, "the token exchange (unauthenticated)")
        return body["access_token"]

    def call(self, method, path, body=None, headers=None, token=None):
        return http_call(self.port, method, path, body, headers,
                         token or self.tok)

    def me(self):
        return self.call("GET", "/v1/me")

    def set_rate(self, rate):
        """`org set-rate-limit ORG RATE`: exit 0, prints nothing."""
        rc, out, err = self.ws.cli(["org", "set-rate-limit", self.org,
                                    str(rate)])
        expect(rc == 0, "org set-rate-limit %s %s: exit %d: %s%s"
               % (self.org, rate, rc, out, err))
        expect_equal(out, "", "org set-rate-limit's stdout (it prints "
                     "nothing without --json)")
        self.rate = rate


class Side:
    """A server of the run's kind on a temp dir and database of its own,
    with APP_ENV changes to the program's environment. Its logs join the
    run's LogWatch while it runs (a failure shows them)."""

    def __init__(self, ctx, app_env=None, before_start=None):
        self.ctx = ctx
        self.ws = harness.Workspace(ctx.prefix, ctx.workspace.run_as)
        rc, out, err = self.ws.cli(["init"])
        if rc != 0:
            self.ws.remove()
            raise Failure("side server: relaysync-admin init: exit %d: %s%s"
                          % (rc, out, err))
        self.port = free_port()
        cls = harness.SERVERS[ctx.server_name]
        self.server = cls(self.ws, self.port, form=harness.APACHE_FORM,
                          defines=[("RELAYSYNC_MAX_CONN_PER_IP",
                                    harness.RUN_MAX_CONN_PER_IP)],
                          app_env=app_env)
        self.logs = self.server.log_files()
        if before_start:
            before_start(self)
        self.server.start()
        ctx.logs.files = ctx.logs.files + self.logs
        try:
            self.wait_healthy(harness.START_TIMEOUT)
        except Failure:
            self.stop()
            raise

    @property
    def shared_file(self):
        return self.ws.state + ".ratelimit"

    def wait_healthy(self, timeout):
        harness.wait_healthy(
            lambda t: http_call(self.port, "GET", "/v1/health", timeout=t),
            self.server.running, "side server", self.log_tail, timeout)

    def log_tail(self):
        return " | ".join(harness.LogWatch(self.logs).tail()[-8:])

    def log_text(self):
        text = ""
        for f in self.logs:
            text += harness.read_from(f, 0)
        return text

    def fcgi_pids(self):
        return fcgi_pids(self.server)

    def stop(self):
        self.server.stop()
        self.ctx.logs.files = [f for f in self.ctx.logs.files
                               if f not in self.logs]
        if os.environ.get("KEEP") == "1":
            print("# kept rate limit side server dir %s" % self.ws.dir)
        else:
            self.ws.remove()


def fcgi_pids(server):
    """The live FastCGI processes of SERVER (lighttpd's children; under
    Apache, mod_fcgid's)."""
    return harness.session_pids(server.proc.pid, fcgi_only=True)


# --------------------------------------------------------------------------
# the headers
# --------------------------------------------------------------------------

def rl_values(resp, rate, what):
    """RESP carries each RateLimit header exactly once, well formed and
    consistent (Limit = RATE, Policy `"org";q=RATE;w=1`, RateLimit
    `"org";r=<Remaining>;t=<Reset>`) -> (remaining, reset)."""
    for name in RL_HEADERS:
        n = len(resp.headers.get_all(name))
        expect(n == 1, "%s: header %s: expected exactly one, got %d"
               % (what, name, n), resp)
    limit = resp.headers.get("RateLimit-Limit")
    expect_equal(limit, str(rate), what + ": RateLimit-Limit (the org's "
                 "rate)", resp)
    remaining = resp.headers.get("RateLimit-Remaining")
    expect_match(r"^\d+$", remaining, what + ": RateLimit-Remaining", resp)
    remaining = int(remaining)
    reset = resp.headers.get("RateLimit-Reset")
    expect_match(r"^\d+$", reset, what + ": RateLimit-Reset", resp)
    reset = int(reset)
    expect(remaining <= rate - 1,
           "%s: RateLimit-Remaining %d: whole requests left after this one "
           "cannot reach the rate %d" % (what, remaining, rate), resp)
    # Burst = rate and a bucket refills fully in 1 s, so it is full again
    # within a second; this request left it short of full (it took a
    # request's worth, or found less than one), so the ceiling of the
    # time is exactly 1 s while one request is at least 1 ms of refill.
    if rate <= 1000:
        expect_equal(reset, 1, what + ": RateLimit-Reset (ceil of the "
                     "time until full: under 1 s, never 0 right after a "
                     "request)", resp)
    else:
        expect(reset in (0, 1), "%s: RateLimit-Reset %d: a bucket is full "
               "again within 1 s" % (what, reset), resp)
    expect_equal(resp.headers.get("RateLimit-Policy"),
                 '"org";q=%d;w=1' % rate, what + ": RateLimit-Policy", resp)
    expect_equal(resp.headers.get("RateLimit"),
                 '"org";r=%d;t=%d' % (remaining, reset),
                 what + ": RateLimit (r = Remaining, t = Reset)", resp)
    return remaining, reset


def expect_no_rl(resp, what):
    """RESP carries no RateLimit header of any kind."""
    found = [k for k, v in resp.headers.items()
             if k.lower().startswith("ratelimit")]
    expect(not found, "%s: expected no RateLimit headers, got %s"
           % (what, ", ".join(found)), resp)


def expect_limited(resp, rate, what):
    """RESP is the empty bucket's answer: 429 problem rate_limited,
    Retry-After 1 (ceil of the time until one request fits: at most
    1/rate s), the headers with Remaining 0."""
    expect_problem(resp, 429, "rate_limited")
    ra = resp.headers.get("Retry-After")
    expect_match(r"^\d+$", ra, what + ": Retry-After (whole seconds)", resp)
    expect(int(ra) >= 1, "%s: Retry-After %s: at least 1" % (what, ra), resp)
    expect(int(ra) <= 1, "%s: Retry-After %s: one request fits again "
           "within 1/rate s <= 1 s (ceil: 1)" % (what, ra), resp)
    remaining, _ = rl_values(resp, rate, what)
    expect_equal(remaining, 0, what + ": RateLimit-Remaining on a 429", resp)


# --------------------------------------------------------------------------
# floods
# --------------------------------------------------------------------------

class Shot:
    """One request of a flood: sent at t0, answered at t1 (monotonic);
    resp (a Response) or err (why there was none); tag: the caller's."""

    def __init__(self, tag, t0, t1, resp, err):
        self.tag, self.t0, self.t1, self.resp, self.err = \
            tag, t0, t1, resp, err


def flood(calls, timeout=FLOOD_TIMEOUT):
    """CALLS: (tag, port, method, path, body, headers, token) tuples, all
    sent at once (run_parallel, one thread and connection each) -> Shots.
    A request without an answer is a Shot with err (not a failure)."""
    def one(call):
        tag, port, method, path, body, headers, token = call

        def go():
            t0 = time.monotonic()
            try:
                resp, err = http_call(port, method, path, body, headers,
                                      token), None
            except Failure as e:
                resp, err = e.response, str(e)
            return Shot(tag, t0, time.monotonic(), resp, err)
        return go
    out = []
    for result, exc in run_parallel([one(c) for c in calls], timeout):
        if exc is not None:
            raise Failure("a flood thread failed: %s: %s"
                          % (type(exc).__name__, exc))
        out.append(result)
    return out


def me_calls(org, n, tag=None):
    return [(tag or org.name, org.port, "GET", "/v1/me", None, None,
             org.tok)] * n


def bucket_bound(rate, shots):
    """At most RATE + RATE*T requests get through a bucket in T seconds,
    T from the first shot sent to the last admitted answer (+1 for the
    edge) -> (bound, T)."""
    admitted = [s for s in shots if s.resp is not None
                and s.resp.status != 429]
    if not admitted:
        return rate, 0.0
    span = max(s.t1 for s in admitted) - min(s.t0 for s in shots)
    return rate + int(math.floor(rate * span)) + 1, span


def judge(shots, rate, what, ok_statuses=(200,), allow_errors=False):
    """Every answer of SHOTS is one of OK_STATUSES with the headers, or the
    empty bucket's 429; no more got through than the bucket allows ->
    (admitted, refused, bound, span). ALLOW_ERRORS: shots without an
    answer or with a 5xx are left out (a process was killed meanwhile)."""
    admitted, refused = [], []
    for i, s in enumerate(shots):
        w = "%s, request %d" % (what, i + 1)
        if s.resp is None or s.resp.status is None:
            expect(allow_errors, "%s: no answer: %s" % (w, s.err), s.resp)
            continue
        if allow_errors and s.resp.status >= 500:
            continue
        if s.resp.status == 429:
            expect_limited(s.resp, rate, w)
            refused.append(s)
        else:
            expect(s.resp.status in ok_statuses,
                   "%s: status %s, expected %s or 429"
                   % (w, s.resp.status, "/".join(map(str, ok_statuses))),
                   s.resp)
            rl_values(s.resp, rate, w)
            admitted.append(s)
    bound, span = bucket_bound(rate, [s for s in shots
                                      if s.resp is not None])
    expect(len(admitted) <= bound,
           "%s: %d of %d requests got through a bucket of %d/s in %.2f s "
           "(at most %d: burst %d + refill %d/s, +1)"
           % (what, len(admitted), len(shots), rate, span, bound, rate,
              rate), admitted[-1].resp if admitted else None)
    return admitted, refused, bound, span


def drain(org, what, tries=5):
    """Empties ORG's bucket: floods of 2*rate+10 GET /v1/me until one is
    refused (bounded). Returns the monotonic time of the last answer."""
    for _ in range(tries):
        shots = flood(me_calls(org, 2 * org.rate + 10))
        _, refused, _, _ = judge(shots, org.rate, what)
        if refused:
            return max(s.t1 for s in shots)
    raise Failure("%s: %d floods of %d requests never emptied a bucket of "
                  "%d/s" % (what, tries, 2 * org.rate + 10, org.rate))


# --------------------------------------------------------------------------
# 1. the headers
# --------------------------------------------------------------------------

@rtest("every authenticated answer carries RateLimit-Limit/-Remaining/"
       "-Reset, RateLimit-Policy and RateLimit (the org's rate; Remaining "
       "falls request by request); unauthenticated answers carry none")
def headers(ctx):
    org = Org(ctx.workspace, ctx.port, "hdr", rate=10)
    # A fresh bucket is full: the first request leaves rate - 1.
    prev_sent = time.monotonic()
    first = org.me()
    expect_json(first, 200)
    remaining, _ = rl_values(first, 10, "first GET /v1/me")
    expect_equal(remaining, 9, "RateLimit-Remaining after the first "
                 "request of a fresh org of 10/s", first)
    # Consecutive requests made quickly: each takes one; the refill
    # between two checks (10/s times at most the time from sending the
    # one to the answer of the next) is all it may give back, so after a
    # pair less than 100 ms apart Remaining must have fallen.
    prev = remaining
    seen, quick = [remaining], 0
    for i in range(7):
        sent = time.monotonic()
        resp = org.me()
        now = time.monotonic()
        expect_json(resp, 200)
        rem, _ = rl_values(resp, 10, "GET /v1/me #%d" % (i + 2))
        most = prev - 1 + int(math.floor(10 * (now - prev_sent)))
        expect(rem <= most, "RateLimit-Remaining %d after %d: expected at "
               "most %d (one taken, at most %.0f ms of refill at 10/s)"
               % (rem, prev, most, 1000 * (now - prev_sent)), resp)
        quick += most < prev
        seen.append(rem)
        prev, prev_sent = rem, sent
    expect(quick >= 2, "fewer than 2 of 7 consecutive requests came "
           "within 100 ms of the one before (Remaining %r): too slow to "
           "see it fall" % seen)

    # Other authenticated answers carry them too: a handler's 404, the
    # role check's 403, a bad query, a bad body.
    viewer = org.token("viewer")
    for method, path, body, tok, status, what in (
            ("GET", "/v1/records/rec_01JNOSUCHRECORD00000000000", None,
             None, 404, "a handler's 404"),
            ("GET", "/v1/users", None, viewer, 403, "the role check's 403"),
            ("GET", "/v1/records?limit=abc", None, None, 400,
             "a bad query's 400"),
            ("POST", "/v1/records", "{not json", None, 400,
             "a bad body's 400")):
        time.sleep(REFILL_WAIT / 4)   # stay well inside the bucket
        resp = org.call(method, path, body, token=tok)
        expect(resp.status == status, "%s %s (%s): status %s, expected %s"
               % (method, path, what, resp.status, status), resp)
        rl_values(resp, 10, "%s %s (%s)" % (method, path, what))

    # The default rate, and the run's shared orgs (the harness makes them
    # with --rate-limit 1000000).
    dflt = Org(ctx.workspace, ctx.port, "dflt")
    resp = dflt.me()
    expect_json(resp, 200)
    rem, _ = rl_values(resp, DEFAULT_RATE, "an org made without "
                       "--rate-limit (default 120/s)")
    expect_equal(rem, DEFAULT_RATE - 1, "RateLimit-Remaining after the "
                 "first request of a fresh org of 120/s", resp)
    for key, what in ((ctx.admin_key, "demo"), (ctx.org_b_key, "other")):
        resp = ctx.call("GET", "/v1/me", token=ctx.token_for(key))
        expect_json(resp, 200)
        rl_values(resp, int(harness.SHARED_ORG_RATE), "the run's org " + what)

    # Unauthenticated answers: none.
    expired = mint_token(ctx.secret_file, ctx.org_id, "usr_x", "key_x",
                         "admin", int(time.time()) - 60)
    for method, path, body, hdrs, status, what in (
            ("GET", "/v1/health", None, None, 200, "health"),
            ("GET", "/v1/openapi.json", None, None, 200, "the OpenAPI "
             "document"),
            ("GET", "/v1/me", None, None, 401, "no token"),
            ("GET", "/v1/me", None, {"Authorization": "Bearer rst1.bogus.x"},
             401, "a malformed token"),
            ("GET", "/v1/me", None, {"Authorization": "Bearer " + expired},
             401, "an expired token"),
            ("GET", "/v1/nope", None, None, 404, "an unknown path"),
            ("POST", "/v1/users/accept", {"token": "inv_bogus",
                                          "password": "x" * 12}, None, None,
             "a bogus invite's acceptance")):
        resp = http_call(ctx.port, method, path, body, hdrs)
        if status is not None:
            expect(resp.status == status, "%s %s (%s): status %s, expected "
                   "%s" % (method, path, what, resp.status, status), resp)
        else:
            expect(400 <= resp.status < 500, "%s %s (%s): status %s, "
                   "expected a 4xx" % (method, path, what, resp.status), resp)
        expect_no_rl(resp, "%s %s (%s)" % (method, path, what))


# --------------------------------------------------------------------------
# 2. a flood
# --------------------------------------------------------------------------

@rtest("40 concurrent requests of an org limited to 5/s: at most 5 + the "
       "refill get 200, the rest 429 rate_limited with Retry-After and the "
       "headers (Remaining 0); another org's requests meanwhile all succeed")
def flood_one_org(ctx):
    lim = Org(ctx.workspace, ctx.port, "flood", rate=5)
    other = Org(ctx.workspace, ctx.port, "bystander")   # default 120/s
    shots = flood(me_calls(lim, 40, "limited") +
                  me_calls(other, 10, "other"))
    mine = [s for s in shots if s.tag == "limited"]
    theirs = [s for s in shots if s.tag == "other"]
    admitted, refused, bound, span = judge(mine, 5, "org of 5/s")
    expect(len(admitted) >= 1, "no request of a fresh org of 5/s got "
           "through (a full bucket holds 5)", mine[0].resp)
    expect(refused, "none of 40 concurrent requests of an org of 5/s was "
           "refused (%d got 200 in %.2f s; at most %d may)"
           % (len(admitted), span, bound), mine[0].resp)
    if span <= 1.0:
        expect(len(admitted) <= 10, "%d of 40 got through in %.2f s "
               "(allowed: 10)" % (len(admitted), span))
    for i, s in enumerate(theirs):
        expect(s.resp is not None, "other org, request %d: no answer: %s"
               % (i + 1, s.err))
        expect_json(s.resp, 200)
        rl_values(s.resp, DEFAULT_RATE, "other org, request %d" % (i + 1))


@rtest("the check comes before the role, query and body checks; a refused "
       "request writes nothing (its Idempotency-Key stays unused)")
def before_role_query_body(ctx):
    org = Org(ctx.workspace, ctx.port, "order", rate=1)
    viewer = org.token("viewer")
    copies = 4
    kinds = {
        "role": ("GET", "/v1/users", None, None, viewer, 403),
        "query": ("GET", "/v1/records?limit=abc", None, None, None, 400),
        "body": ("POST", "/v1/records", "{not json", None, None, 400),
    }
    posts = []
    for attempt in range(4):
        calls = []
        for kind, (method, path, body, hdrs, tok, _) in kinds.items():
            calls += [(kind, org.port, method, path, body, hdrs,
                       tok or org.tok)] * copies
        for i in range(copies):
            key = "rl-%s" % secrets.token_hex(8)
            body = {"title": "refused-%s" % key, "type": "rl"}
            posts.append((key, body))
            calls.append(("write:%s" % key, org.port, "POST", "/v1/records",
                          body, {"Idempotency-Key": key}, org.tok))
        shots = flood(calls)
        statuses = {"role": (403,), "query": (400,), "body": (400,)}
        for s in shots:
            kind = s.tag.split(":")[0]
            ok = statuses.get(kind, (201,))
            judge([s], 1, "%s (attempt %d)" % (s.tag, attempt + 1),
                  ok_statuses=ok)
        admitted, _, _, _ = judge(shots, 1, "org of 1/s, attempt %d"
                                  % (attempt + 1),
                                  ok_statuses=(201, 400, 403))
        if len(admitted) < copies:
            break   # then every kind had a 429
        time.sleep(REFILL_WAIT)
    else:
        raise Failure("4 floods of %d requests of an org of 1/s each let "
                      "%d or more through" % (len(shots), copies))
    for kind in list(kinds) + ["write"]:
        got = [s for s in shots if s.tag.split(":")[0] == kind]
        expect(any(s.resp.status == 429 for s in got),
               "no %s request was refused (statuses %r)"
               % (kind, [s.resp.status for s in got]))
    refused_keys = {s.tag.split(":", 1)[1] for s in shots
                    if s.tag.startswith("write:") and s.resp.status == 429}
    created_keys = {s.tag.split(":", 1)[1] for s in shots
                    if s.tag.startswith("write:") and s.resp.status == 201}
    # Nothing written for a refused POST: not in the list, and its
    # Idempotency-Key is fresh (201, not a replay).
    time.sleep(REFILL_WAIT)
    resp = org.call("GET", "/v1/records?limit=200")
    titles = {r.get("title") for r in expect_json(resp, 200)["data"]}
    for key in refused_keys:
        expect("refused-%s" % key not in titles, "a POST refused with 429 "
               "(Idempotency-Key %s) made a record" % key, resp)
    for key in created_keys:
        expect("refused-%s" % key in titles, "a POST answered 201 "
               "(Idempotency-Key %s) is not in the list" % key, resp)
    key = sorted(refused_keys)[0]
    body = dict(posts)[key]
    time.sleep(REFILL_WAIT)
    resp = org.call("POST", "/v1/records", body, {"Idempotency-Key": key})
    expect_json(resp, 201)
    expect(resp.headers.get("Idempotent-Replayed") is None,
           "the Idempotency-Key of a refused POST was replayed: the 429 "
           "stored something", resp)
    rl_values(resp, 1, "the POST again after the refill")


# --------------------------------------------------------------------------
# 3. the refill
# --------------------------------------------------------------------------

@rtest("an emptied bucket of 5/s is full again after ~1.1 s: 200 again, "
       "5 concurrent requests all get through")
def refill(ctx):
    org = Org(ctx.workspace, ctx.port, "refill", rate=5)
    drain(org, "draining an org of 5/s")
    time.sleep(REFILL_WAIT)
    resp = org.me()
    expect_json(resp, 200)
    rem, _ = rl_values(resp, 5, "GET /v1/me 1.1 s after the bucket "
                       "emptied")
    expect_equal(rem, 4, "RateLimit-Remaining: a full bucket of 5 less "
                 "this request", resp)
    drain(org, "draining it again")
    time.sleep(REFILL_WAIT)
    shots = flood(me_calls(org, 5))
    admitted, refused, _, _ = judge(shots, 5, "5 concurrent requests 1.1 s "
                                    "after the bucket emptied")
    expect(not refused, "%d of 5 concurrent requests refused 1.1 s after "
           "the bucket emptied (it refills fully in 1 s)" % len(refused),
           refused[0].resp if refused else None)


# --------------------------------------------------------------------------
# 4. changing the limit
# --------------------------------------------------------------------------

@rtest("org set-rate-limit ORG 50: the next request says 50, "
       "a burst of 20 gets through, lowering it limits at once; --json; "
       "unknown org and bad numbers fail")
def set_rate_limit(ctx):
    org = Org(ctx.workspace, ctx.port, "change", rate=5)
    resp = org.me()
    expect_json(resp, 200)
    rl_values(resp, 5, "before the change")
    # The org's rate comes with the token's holder, read on every
    # request: the very next request uses the new one.
    org.set_rate(50)
    resp = org.me()
    expect(resp.status in (200, 429), "GET /v1/me after the change: "
           "status %s" % resp.status, resp)
    expect_equal(resp.headers.get("RateLimit-Limit"), "50",
                 "RateLimit-Limit of the first request after org "
                 "set-rate-limit %s 50" % org.org, resp)
    if resp.status == 200:
        rl_values(resp, 50, "the first answer after the change")
    else:
        expect_limited(resp, 50, "the first answer after the change")
    time.sleep(REFILL_WAIT)
    shots = flood(me_calls(org, 20))
    admitted, refused, _, _ = judge(shots, 50, "a burst of 20 at 50/s")
    expect(not refused, "%d of a burst of 20 refused at 50/s"
           % len(refused), refused[0].resp if refused else None)
    # Past the new limit it still limits.
    time.sleep(REFILL_WAIT)
    shots = flood(me_calls(org, 80))
    admitted, refused, bound, span = judge(shots, 50, "80 concurrent at "
                                           "50/s")
    if bound < 80:
        expect(refused, "none of 80 concurrent requests refused at 50/s "
               "(%d in %.2f s; at most %d may pass)"
               % (len(admitted), span, bound))

    # Lowering it applies too: 2/s, burst 2.
    org.set_rate(2)
    resp = org.me()
    expect(resp.status in (200, 429), "GET /v1/me after lowering the "
           "limit: status %s" % resp.status, resp)
    expect_equal(resp.headers.get("RateLimit-Limit"), "2",
                 "RateLimit-Limit of the first request after org "
                 "set-rate-limit %s 2" % org.org, resp)
    time.sleep(REFILL_WAIT)
    shots = flood(me_calls(org, 20))
    admitted, refused, bound, span = judge(shots, 2, "20 concurrent after "
                                           "lowering to 2/s")
    expect(refused, "none of 20 concurrent requests refused after "
           "lowering the limit to 2/s")

    # --json
    rc, out, err = ctx.cli(["org", "set-rate-limit", org.org, "7", "--json"])
    expect(rc == 0, "org set-rate-limit --json: exit %d: %s%s"
           % (rc, out, err))
    try:
        doc = json.loads(out)
    except ValueError:
        raise Failure("org set-rate-limit --json: not JSON: %r" % out)
    expect_equal(doc, {"org_id": org.org, "rate_limit": 7},
                 "org set-rate-limit --json output")
    org.rate = 7
    rc, out, err = ctx.cli(["org", "list", "--json"])
    expect(rc == 0, "org list --json: exit %d: %s" % (rc, err))
    mine = [o for o in json.loads(out) if o.get("id") == org.org]
    expect(len(mine) == 1 and mine[0].get("rate_limit") == 7,
           "org list --json: expected rate_limit 7 for %s, got %r"
           % (org.org, mine))

    # Failures change nothing.
    rc, out, err = ctx.cli(["org", "set-rate-limit", "org_nosuchorg0000000",
                            "50"])
    expect_equal(rc, 1, "org set-rate-limit of an unknown org: exit status "
                 "(stdout %r, stderr %r)" % (out, err))
    expect(err.strip(), "org set-rate-limit of an unknown org: no message "
           "on stderr")
    for bad in ("0", "1000001", "-5", "abc", "10x", ""):
        rc, out, err = ctx.cli(["org", "set-rate-limit", org.org, bad])
        expect(rc != 0, "org set-rate-limit %s %r: exit 0 (stdout %r)"
               % (org.org, bad, out))
    rc, out, err = ctx.cli(["org", "set-rate-limit", org.org])
    expect(rc != 0, "org set-rate-limit without N: exit 0")
    for good in ("1", "1000000"):
        rc, out, err = ctx.cli(["org", "set-rate-limit", org.org, good])
        expect(rc == 0, "org set-rate-limit %s %s: exit %d: %s"
               % (org.org, good, rc, err))
    org.set_rate(7)
    time.sleep(REFILL_WAIT)
    resp = org.me()
    expect_json(resp, 200)
    rl_values(resp, 7, "after the refused changes (the limit stays 7)")


# --------------------------------------------------------------------------
# 5. SIGKILL
# --------------------------------------------------------------------------

@rtest("a FastCGI process SIGKILLed during a flood: the limiter still "
       "works (a later burst is refused past the limit; other orgs' "
       "requests succeed)")
def sigkill(ctx):
    side = Side(ctx)
    try:
        lim = Org(side.ws, side.port, "kill", rate=5)
        other = Org(side.ws, side.port, "kill-other", rate=1000)
        # Warm the pool so there are processes to kill.
        shots = flood(me_calls(other, 3 * harness.POOL_SIZE))
        judge(shots, 1000, "warming the pool")
        killed = []
        for round_ in range(3):
            pids = side.fcgi_pids()
            expect(pids, "round %d: no %s process found in the side "
                   "server's session" % (round_ + 1, harness.FCGI_NAME))
            stop = threading.Event()
            answered = []

            def hammer():
                deadline = time.monotonic() + 3
                while not stop.is_set() and time.monotonic() < deadline:
                    try:
                        answered.append(lim.me().status)
                    except Failure as e:
                        answered.append(str(e))
            threads = [threading.Thread(target=hammer, daemon=True)
                       for _ in range(8)]
            for t in threads:
                t.start()
            time.sleep(0.3)
            victim = pids[round_ % len(pids)]
            try:
                os.kill(victim, signal.SIGKILL)
                killed.append(victim)
            except ProcessLookupError:
                pass
            time.sleep(0.3)
            stop.set()
            for t in threads:
                t.join(harness.HTTP_TIMEOUT + 2)
            expect(not any(t.is_alive() for t in threads),
                   "round %d: flood threads still running" % (round_ + 1))
            expect(429 in answered, "round %d: 8 threads flooding an org of "
                   "5/s for 0.6 s got no 429 (answers: %r)"
                   % (round_ + 1, sorted(set(map(str, answered)))))
        expect(killed, "no FastCGI process could be killed")
        side.wait_healthy(RECOVER_TIMEOUT)
        # Whatever answers after a process died must be a working limiter:
        # first let the pool settle (bounded), then a burst.
        deadline = time.monotonic() + RECOVER_TIMEOUT
        while True:
            shots = flood(me_calls(other, 2 * harness.POOL_SIZE))
            if all(s.resp is not None and s.resp.status == 200
                   for s in shots):
                break
            expect(time.monotonic() < deadline,
                   "the other org's requests still fail %d s after the "
                   "kills: %r" % (RECOVER_TIMEOUT,
                                  [s.resp.status if s.resp else s.err
                                   for s in shots]),
                   next((s.resp for s in shots if s.resp is not None
                         and s.resp.status != 200), None))
            time.sleep(0.3)
        time.sleep(REFILL_WAIT)
        shots = flood(me_calls(lim, 30, "limited") +
                      me_calls(other, 10, "other"))
        mine = [s for s in shots if s.tag == "limited"]
        admitted, refused, bound, span = judge(mine, 5, "org of 5/s after "
                                               "the kills")
        expect(refused, "none of 30 concurrent requests of an org of 5/s "
               "refused after a process was killed (%d in %.2f s; at most "
               "%d may)" % (len(admitted), span, bound))
        expect(admitted, "no request of an org of 5/s got through 1.1 s "
               "after its last one (the bucket is stuck)", mine[0].resp)
        for i, s in enumerate(x for x in shots if x.tag == "other"):
            expect(s.resp is not None, "other org, request %d: no answer: "
                   "%s" % (i + 1, s.err))
            expect_json(s.resp, 200)
            rl_values(s.resp, 1000, "other org, request %d" % (i + 1))
    finally:
        side.stop()


# --------------------------------------------------------------------------
# 6. RELAYSYNC_RATE_LIMITS=off
# --------------------------------------------------------------------------

@rtest("RELAYSYNC_RATE_LIMITS=off: no RateLimit headers and no 429, even "
       "for an org limited to 1/s")
def turned_off(ctx):
    side = Side(ctx, app_env={"RELAYSYNC_RATE_LIMITS": "off"})
    try:
        org = Org(side.ws, side.port, "off", rate=1)
        shots = flood(me_calls(org, 20))
        for i, s in enumerate(shots):
            expect(s.resp is not None, "request %d: no answer: %s"
                   % (i + 1, s.err))
            expect_json(s.resp, 200)
            expect_no_rl(s.resp, "limiter off, request %d" % (i + 1))
        for i in range(5):
            resp = org.me()
            expect_json(resp, 200)
            expect_no_rl(resp, "limiter off, sequential request %d"
                         % (i + 1))
        viewer = org.token("viewer")
        resp = org.call("GET", "/v1/users", token=viewer)
        expect_problem(resp, 403, "forbidden")
        expect_no_rl(resp, "limiter off, a 403")
        resp = org.call("GET", "/v1/records/rec_01JNOSUCHRECORD00000000000")
        expect_equal(resp.status, 404, "status", resp)
        expect_no_rl(resp, "limiter off, a 404")
    finally:
        side.stop()


# --------------------------------------------------------------------------
# 7. the shared file: garbage, deleted, unusable
# --------------------------------------------------------------------------

def expect_answered(resp, rate, what):
    """RESP is a well-formed answer of a limiter whose table may be
    garbage: 200 with consistent RateLimit headers or (let through, the
    table unusable) none; or the empty bucket's 429."""
    expect(resp is not None and resp.status is not None,
           "%s: no answer" % what, resp)
    if resp.status == 429:
        expect_limited(resp, rate, what)
        return
    expect_json(resp, 200)
    if resp.headers.get("RateLimit-Limit") is not None:
        rl_values(resp, rate, what)
    else:
        expect_no_rl(resp, what + " (let through without a bucket)")


def recovers(org, what, timeout=3.0):
    """Within TIMEOUT ORG's requests are answered (well-formed 200 or 429
    only) and one gets 200: nothing is wedged."""
    deadline = time.monotonic() + timeout
    statuses = []
    while True:
        resp = org.me()
        statuses.append(resp.status)
        expect_answered(resp, org.rate, what)
        if resp.status == 200:
            return resp
        expect(time.monotonic() < deadline, "%s: no 200 within %.0f s "
               "(answers %r): the bucket is wedged"
               % (what, timeout, statuses), resp)
        time.sleep(0.2)


@rtest("garbage written over the shared file, or the file deleted, wedges "
       "nothing: requests are answered and get through; with a new file "
       "(the pool restarted) it limits again")
def shared_file_garbage(ctx):
    side = Side(ctx)
    try:
        org = Org(side.ws, side.port, "garbage", rate=2)
        other = Org(side.ws, side.port, "garbage-other", rate=1000)
        drain(org, "before the garbage")
        path = side.shared_file
        expect(os.path.isfile(path), "no shared file at %s after limited "
               "requests" % path)
        size = os.path.getsize(path)
        expect(size > 0, "the shared file %s is empty" % path)
        # Garbage over every byte (its size kept): random bytes, then all
        # ones (the largest keys, times and levels a slot can hold).
        for fill, label in ((lambda n: os.urandom(n), "random bytes"),
                            (lambda n: b"\xff" * n, "0xff bytes")):
            with open(path, "r+b") as f:
                f.write(fill(size))
            for o, w in ((org, "the limited org"), (other, "another org")):
                recovers(o, "%s after %s over the shared file" % (w, label))
            shots = flood(me_calls(org, 10, "limited") +
                          me_calls(other, 5, "other"))
            for i, s in enumerate(shots):
                expect_answered(s.resp, org.rate if s.tag == "limited"
                                else other.rate, "after %s, %s request %d"
                                % (label, s.tag, i + 1))
        os.unlink(path)
        for o, w in ((org, "the limited org"), (other, "another org")):
            recovers(o, "%s after the shared file was deleted" % w)
        shots = flood(me_calls(org, 10, "limited") +
                      me_calls(other, 5, "other"))
        for i, s in enumerate(shots):
            expect_answered(s.resp, org.rate if s.tag == "limited"
                            else other.rate, "after the deletion, %s "
                            "request %d" % (s.tag, i + 1))
        # New processes make a new file: the limiter is back.
        for pid in side.fcgi_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        side.wait_healthy(RECOVER_TIMEOUT)
        recovers(other, "another org after the pool restarted",
                 timeout=RECOVER_TIMEOUT)
        drain(org, "the limited org after the pool restarted on a new "
              "file")
        expect(os.path.isfile(path), "no new shared file at %s after the "
               "pool restarted" % path)
        time.sleep(REFILL_WAIT)
        recovers(org, "the limited org 1.1 s after that")
    finally:
        side.stop()


@rtest("a shared file that cannot be used: requests get through (fail "
       "open) without RateLimit headers, and the program says so in the "
       "log")
def shared_file_unusable(ctx):
    def make_dir(side):
        # A directory where the file should be: nobody can map it.
        os.mkdir(side.shared_file, 0o755)
    side = Side(ctx, before_start=make_dir)
    try:
        org = Org(side.ws, side.port, "failopen", rate=1)
        shots = flood(me_calls(org, 20))
        for i, s in enumerate(shots):
            expect(s.resp is not None, "request %d: no answer: %s"
                   % (i + 1, s.err))
            expect_json(s.resp, 200)
            expect_no_rl(s.resp, "unusable shared file, request %d"
                         % (i + 1))
        pids = side.fcgi_pids()
        lines = [l for l in side.log_text().splitlines()
                 if re.search(r"rate.?limit", l, re.I)]
        expect(lines, "no log line about the unusable shared file %s "
               "(log tail: %s)" % (side.shared_file, side.log_tail()))
        expect(len(lines) <= max(len(pids), harness.POOL_SIZE) + 2,
               "%d log lines about the shared file from %d processes (one "
               "a process): %s" % (len(lines), len(pids), lines[:6]))
    finally:
        side.stop()


@rtest("a shared file found damaged at start (not a table of this "
       "version): requests get through without RateLimit headers, and the "
       "log names the file and says to delete it")
def shared_file_damaged(ctx):
    def damage(side):
        with open(side.shared_file, "wb") as f:
            f.write(os.urandom(256 * 1024))
        if side.ws.run_as:  # the server's user may open it: not a
            pw = pwd.getpwnam(side.ws.run_as)  # permission problem
            os.chown(side.shared_file, pw.pw_uid, pw.pw_gid)
    side = Side(ctx, before_start=damage)
    try:
        org = Org(side.ws, side.port, "damaged", rate=1)
        shots = flood(me_calls(org, 12))
        for i, s in enumerate(shots):
            expect(s.resp is not None, "request %d: no answer: %s"
                   % (i + 1, s.err))
            expect_json(s.resp, 200)
            expect_no_rl(s.resp, "damaged shared file, request %d"
                         % (i + 1))
        lines = [l for l in side.log_text().splitlines()
                 if side.shared_file in l and "delete" in l]
        expect(lines, "no log line naming the damaged shared file %s and "
               "what to do (log tail: %s)"
               % (side.shared_file, side.log_tail()))
    finally:
        side.stop()
