"""Webhooks and the sync queue (CONTRACT.md sections 4 and 8; issue 11):
endpoints, delivery by the real relaysync-worker to a real HTTP receiver on
127.0.0.1 (tests/integration/receiver.py), signatures checked here from the
Standard Webhooks text (not with our signing code), retries, leases, order,
410, Retry-After, SSRF refusals, redirects, stalls, replay, rotation, and
GET /v1/sync/queue / POST /v1/sync/retry.

Every test name starts with "webhooks: " so that `-k webhook` selects them.
Each test works in an org of its own (the worker delivers every org's due
jobs, so a test's webhooks are deleted when it ends, and an org's events
fan out only to that org's endpoints). The run's server has
RELAYSYNC_WEBHOOK_ALLOW_PRIVATE=1 (harness.APP_ENV), and the worker gets
it too unless a test says otherwise: receivers are http:// on loopback.
Every wait is bounded.
"""

import base64
import datetime
import email.utils
import hashlib
import hmac
import json
import os
import re
import secrets
import time
import urllib.parse

import harness
from harness import (Failure, db_run, expect, expect_equal, expect_json,
                     expect_match, expect_problem, free_port, run_parallel,
                     test)
from receiver import Receiver, Reply

TIME_RE = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$"
WHK_RE = r"^whk_\S+$"
JOB_RE = r"^job_\S+$"
EVT_RE = r"^evt_\S+$"
SECRET_RE = r"^whsec_[A-Za-z0-9+/]{43}=$"
WEBHOOK_MEMBERS = {"id", "url", "events", "description", "status",
                   "disabled_reason", "created_at", "updated_at"}
JOB_MEMBERS = {"id", "kind", "queue", "priority", "state", "attempts",
               "max_attempts", "next_attempt_at", "last_error", "last_status",
               "event_id", "event_type", "record_id", "webhook_id",
               "created_at", "updated_at"}
STATES = ("pending", "running", "succeeded", "failed", "dead")
SEED_HOOK = {"url": "https://hooks.org.io/relaysync",
             "events": ["record.synced", "record.conflict"]}
FORM = "application/x-www-form-urlencoded"
SIG_TOLERANCE = 300      # seconds between webhook-timestamp and arrival
DELIVERY_WAIT = 10       # seconds a delivery may take to reach the receiver
MAX_PAGES = 50
KILL_LEASE = 2           # --lease of the worker that is SIGKILLed (--timeout 1)


def wtest(name, last=False):
    return test("webhooks: " + name, last)


# --------------------------------------------------------------------------
# helpers: identities
# --------------------------------------------------------------------------

def cli_ok(ctx, args, ws=None):
    rc, out, err = (ws or ctx.workspace).cli(args)
    expect(rc == 0, "relaysync-admin %s: exit %d: %s%s"
           % (" ".join(args), rc, out, err))
    return out.strip()


def new_key(ctx, org, role, ws=None):
    out = cli_ok(ctx, ["key", "create", "--org", org, "--email",
                       "%s-%s@example.com" % (role, secrets.token_hex(4)),
                       "--role", role, "--json"], ws)
    return json.loads(out)["api_key"]


def key_for(ctx, org, role):
    return ctx.token_for(new_key(ctx, org, role))


def fresh_org(ctx, label="whk", rate=None):
    """A new org (CLI; RATE: its --rate-limit, else the default) with an
    admin: (org_id, admin token)."""
    org = cli_ok(ctx, ["org", "create", "%s-%s" % (label,
                                                   secrets.token_hex(3))]
                 + (["--rate-limit", rate] if rate else []))
    return org, key_for(ctx, org, "admin")


# --------------------------------------------------------------------------
# helpers: time
# --------------------------------------------------------------------------

def parse_time(value):
    """RFC 3339 UTC time (with or without a fraction) -> Unix seconds."""
    m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z$", value or "")
    expect(m, "not an RFC 3339 UTC time: %r" % (value,))
    dt = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")
    dt = dt.replace(tzinfo=datetime.timezone.utc)
    return dt.timestamp() + (float(m.group(2)) if m.group(2) else 0.0)


def format_time(t):
    dt = datetime.datetime.fromtimestamp(int(t), datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (
        int(round((t - int(t)) * 1000)) % 1000)


def poll(fn, timeout, what, interval=0.1):
    """fn() until it is truthy, at most TIMEOUT seconds -> its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise Failure("%s: not within %s s" % (what, timeout))
        time.sleep(interval)


# --------------------------------------------------------------------------
# helpers: signatures, written from the Standard Webhooks text
# --------------------------------------------------------------------------

def secret_key(secret):
    """The key bytes of a "whsec_<base64>" secret."""
    expect(secret.startswith("whsec_"), "secret %r lacks whsec_" % secret)
    return base64.b64decode(secret[len("whsec_"):], validate=True)


def expected_signature(secret, msg_id, timestamp, body):
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    mac = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return base64.b64encode(mac).decode("ascii")


def signature_ok(req, secret):
    """True when one of the request's "v1,<sig>" signatures (space-separated)
    is the HMAC-SHA256 of id.timestamp.body under SECRET."""
    want = expected_signature(secret, req.header("webhook-id") or "",
                              req.header("webhook-timestamp") or "", req.body)
    for part in (req.header("webhook-signature") or "").split():
        version, _, sig = part.partition(",")
        if version == "v1" and hmac.compare_digest(sig, want):
            return True
    return False


# The Standard Webhooks reference example (its libraries' tests): our
# verifier must agree with it before it judges a delivery.
SPEC_EXAMPLE = ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330",
                b'{"test": 2432232314}',
                "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")


def expect_verifier_sound():
    secret, msg_id, ts, body, sig = SPEC_EXAMPLE
    expect_equal(expected_signature(secret, msg_id, ts, body), sig,
                 "this test's signer on the specification's example")


def expect_delivery(req, secret, org=None, etype=None, what="delivery"):
    """REQ is a Standard Webhooks delivery signed with SECRET: POST,
    JSON, our User-Agent, webhook-id = the body's event id, a timestamp
    close to its arrival, a v1 signature that verifies. -> the body."""
    expect_equal(req.method, "POST", what + " method")
    expect_equal((req.header("Content-Type") or "").split(";")[0].strip(),
                 "application/json", what + " Content-Type")
    expect_match(r"^RelaySync-Webhooks/\S+$", req.header("User-Agent"),
                 what + " User-Agent")
    msg_id = req.header("webhook-id")
    expect_match(EVT_RE, msg_id, what + " webhook-id")
    ts = req.header("webhook-timestamp")
    expect_match(r"^\d+$", ts, what + " webhook-timestamp")
    expect(abs(int(ts) - req.arrived) <= SIG_TOLERANCE,
           "%s webhook-timestamp %s is %d s from its arrival"
           % (what, ts, int(ts) - req.arrived))
    expect_match(r"^v1,[A-Za-z0-9+/]+=*( v1,[A-Za-z0-9+/]+=*)*$",
                 req.header("webhook-signature"), what + " webhook-signature")
    expect(signature_ok(req, secret),
           "%s: webhook-signature %r does not verify (want v1,%s)"
           % (what, req.header("webhook-signature"),
              expected_signature(secret, msg_id, ts, req.body)))
    try:
        body = req.json()
    except ValueError as e:
        raise Failure("%s body is not JSON: %s" % (what, e))
    expect(isinstance(body, dict), what + " body is not an object")
    # record.conflict also names the conflict it kept (test_conflicts.py).
    members = ["data", "id", "org_id", "timestamp", "type"]
    if body.get("type") == "record.conflict":
        members = ["conflict_id"] + members
    expect_equal(sorted(body), members, what + " body members")
    expect_equal(body["id"], msg_id, what + ": webhook-id vs body id")
    if org is not None:
        expect_equal(body["org_id"], org, what + " org_id")
    if etype is not None:
        expect_equal(body["type"], etype, what + " type")
    expect_match(TIME_RE, body["timestamp"], what + " timestamp")
    return body


# --------------------------------------------------------------------------
# helpers: API
# --------------------------------------------------------------------------

def expect_webhook(w, resp=None, secret=False, what="webhook"):
    expect(isinstance(w, dict), "%s is not an object: %r" % (what, w), resp)
    members = WEBHOOK_MEMBERS | ({"secret"} if secret else set())
    expect_equal(set(w), members, what + " members", resp)
    expect_match(WHK_RE, w["id"], what + ".id", resp)
    expect(isinstance(w["events"], list) and w["events"],
           what + ".events: expected a non-empty array", resp)
    expect(w["status"] in ("enabled", "disabled"), what + ".status", resp)
    expect_match(TIME_RE, w["created_at"], what + ".created_at", resp)
    expect_match(TIME_RE, w["updated_at"], what + ".updated_at", resp)
    if secret:
        expect_match(SECRET_RE, w["secret"], what + ".secret", resp)
        expect_equal(len(secret_key(w["secret"])), 32, "secret bytes", resp)
    return w


def expect_job(j, resp=None, what="job"):
    expect(isinstance(j, dict), "%s is not an object: %r" % (what, j), resp)
    expect_equal(set(j), JOB_MEMBERS, what + " members", resp)
    expect_match(JOB_RE, j["id"], what + ".id", resp)
    expect_equal(j["kind"], "webhook", what + ".kind", resp)
    expect(j["state"] in STATES, "%s.state %r" % (what, j["state"]), resp)
    expect(type(j["priority"]) is int and 0 <= j["priority"] <= 9,
           what + ".priority: an integer 0..9", resp)
    for name in ("attempts", "max_attempts"):
        expect(type(j[name]) is int, "%s.%s is not an integer" % (what, name),
               resp)
    expect(isinstance(j["queue"], str) and j["queue"], what + ".queue", resp)
    for name in ("next_attempt_at", "created_at", "updated_at"):
        expect_match(TIME_RE, j[name], "%s.%s" % (what, name), resp)
    expect(j["last_error"] is None or isinstance(j["last_error"], str),
           what + ".last_error: null or a string", resp)
    expect(j["last_status"] is None or type(j["last_status"]) is int,
           what + ".last_status: null or an integer", resp)
    expect_match(EVT_RE, j["event_id"], what + ".event_id", resp)
    expect(isinstance(j["event_type"], str), what + ".event_type", resp)
    expect(j["record_id"] is None or isinstance(j["record_id"], str),
           what + ".record_id", resp)
    expect_match(WHK_RE, j["webhook_id"], what + ".webhook_id", resp)
    return j


def create_hook(ctx, tok, url, events, status=201, **members):
    body = {"url": url, "events": events}
    body.update(members)
    resp = ctx.call("POST", "/v1/webhooks", body, token=tok)
    w = expect_webhook(expect_json(resp, status), resp, secret=True)
    expect_equal(resp.headers.get("Location"), "/v1/webhooks/" + w["id"],
                 "Location", resp)
    expect_equal((w["url"], w["events"], w["status"]),
                 (url, events, "enabled"), "url, events, status", resp)
    return w


def get_hook(ctx, tok, hook_id):
    resp = ctx.call("GET", "/v1/webhooks/" + hook_id, token=tok)
    return expect_webhook(expect_json(resp, 200), resp), resp


def queue_page(ctx, tok, **params):
    path = "/v1/sync/queue"
    if params:
        path += "?" + urllib.parse.urlencode(params)
    resp = ctx.call("GET", path, token=tok)
    body = expect_json(resp, 200)
    expect(isinstance(body, dict), "queue answer is not an object", resp)
    expect(isinstance(body.get("data"), list), "data is not an array", resp)
    expect(type(body.get("has_more")) is bool, "has_more", resp)
    expect_equal(body.get("next_cursor") is not None, body["has_more"],
                 "next_cursor present exactly when has_more", resp)
    counts = body.get("counts")
    expect(isinstance(counts, dict), "counts is not an object", resp)
    expect_equal(sorted(counts), sorted(STATES), "counts members", resp)
    for name in STATES:
        expect(type(counts[name]) is int and counts[name] >= 0,
               "counts.%s is not a count" % name, resp)
    for i, j in enumerate(body["data"]):
        expect_job(j, resp, "data[%d]" % i)
    return body, resp


def all_jobs(ctx, tok, **params):
    """Every job the queue lists with PARAMS, walking the cursor."""
    jobs, cursor = [], None
    for _ in range(MAX_PAGES):
        q = dict(params)
        if cursor:
            q["cursor"] = cursor
        body, _ = queue_page(ctx, tok, **q)
        jobs += body["data"]
        if not body["has_more"]:
            return jobs
        cursor = body["next_cursor"]
    raise Failure("GET /v1/sync/queue: still has_more after %d pages"
                  % MAX_PAGES)


def job_of_event(ctx, tok, event_id):
    jobs = [j for j in all_jobs(ctx, tok) if j["event_id"] == event_id]
    expect_equal(len(jobs), 1, "jobs of event %s" % event_id)
    return jobs[0]


def retry(ctx, tok, job_id, status=202):
    resp = ctx.call("POST", "/v1/sync/retry/" + job_id, token=tok)
    if status != 202:
        return resp
    return expect_job(expect_json(resp, 202), resp), resp


def new_record(ctx, tok, **members):
    body = {"title": "Pressure check", "type": "wh-" + secrets.token_hex(4)}
    body.update(members)
    resp = ctx.call("POST", "/v1/records", body, token=tok)
    return expect_json(resp, 201)


def patch_record(ctx, tok, rec, members, status=200):
    body = dict(members)
    body["causal"] = rec["causal"]
    resp = ctx.call("PATCH", "/v1/records/" + rec["id"], body, token=tok)
    if status == 200:
        return expect_json(resp, 200)
    return expect_problem(resp, status, "causal_conflict")


def events_of(ctx, org, record_id=None):
    """The org's outbox events [(id, type, record_id, payload)], oldest
    first."""
    sql = "SELECT id, type, record_id, payload FROM events WHERE org_id = ?"
    args = [org]
    if record_id is not None:
        sql += " AND record_id = ?"
        args.append(record_id)
    rows, _ = db_run(ctx, sql + " ORDER BY " +
                     harness.dialect("rowid", "seq"), args)
    return [tuple(r) for r in rows]


def worker(ctx, *args, allow_private=True, hosts=None, rc=0):
    """relaysync-worker --once ARGS; expects exit RC -> (seconds, stderr)."""
    argv = ["--once"] + list(args)
    got, out, err, secs = ctx.worker(argv, allow_private=allow_private,
                                     hosts=hosts)
    expect(got == rc, "relaysync-worker %s: exit %d (want %d), stdout %r, "
           "stderr %r" % (" ".join(argv), got, rc, out, err))
    return secs, err


def read_text(path, limit=2000):
    try:
        with open(path, "rb") as f:
            return f.read(limit).decode("utf-8", "replace")
    except OSError as e:
        return "(%s)" % e


class Scene:
    """A test's world: a fresh org with an admin token, receivers it
    starts, and webhooks it registers (deleted at the end, so that later
    worker runs do not keep trying them). A failure inside shows what the
    receivers got."""

    def __init__(self, ctx, label="whk", rate=None):
        self.ctx = ctx
        self.org, self.tok = fresh_org(ctx, label, rate)
        self.receivers = []
        self.hooks = []

    def receiver(self):
        rx = Receiver()
        self.receivers.append(rx)
        return rx

    def hook(self, url, events, **members):
        w = create_hook(self.ctx, self.tok, url, events, **members)
        self.hooks.append(w["id"])
        return w

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        for hook_id in self.hooks:
            try:
                self.ctx.call("DELETE", "/v1/webhooks/" + hook_id,
                              token=self.tok)
            except Failure:
                pass
        lines = []
        for rx in self.receivers:
            lines += rx.describe()
            rx.stop()
        if isinstance(exc, Failure) and lines:
            exc.args = (str(exc) + "\n# " + "\n# ".join(lines[:60]),)
        return False


# ==========================================================================
# endpoints
# ==========================================================================

@wtest("the seed's curl (POST /v1/webhooks, curl -d's content type) is 201 "
       "with a whsec_ secret shown once")
def seed_curl(ctx):
    with Scene(ctx) as sc:
        resp = ctx.call("POST", "/v1/webhooks",
                        json.dumps(SEED_HOOK).encode(),
                        headers={"Content-Type": FORM}, token=sc.tok)
        w = expect_webhook(expect_json(resp, 201), resp, secret=True)
        sc.hooks.append(w["id"])
        expect_equal(resp.headers.get("Location"), "/v1/webhooks/" + w["id"],
                     "Location", resp)
        expect_equal((w["url"], w["events"], w["status"], w["description"],
                      w["disabled_reason"]),
                     (SEED_HOOK["url"], SEED_HOOK["events"], "enabled", None,
                      None), "members", resp)
        again, resp = get_hook(ctx, sc.tok, w["id"])
        expect("secret" not in again, "GET shows the secret", resp)
        expect(w["secret"][6:] not in resp.body.decode(),
               "GET body holds the secret", resp)
        expect_equal(again, {k: v for k, v in w.items() if k != "secret"},
                     "GET vs the create answer", resp)


@wtest("create, list, get, patch and delete an endpoint; DELETE drops its "
       "jobs; then 404")
def crud(ctx):
    with Scene(ctx) as sc:
        rx = sc.receiver()
        rx.answer(500)
        a = sc.hook(rx.url("/a"), ["record.created"], description="first")
        b = sc.hook(rx.url("/b"), ["*"])
        expect_equal(a["description"], "first", "description")
        resp = ctx.call("GET", "/v1/webhooks", token=sc.tok)
        body = expect_json(resp, 200)
        expect(isinstance(body.get("data"), list), "data", resp)
        expect_equal(sorted(w["id"] for w in body["data"]),
                     sorted([a["id"], b["id"]]), "listed ids", resp)
        for w in body["data"]:
            expect_webhook(w, resp)
        resp = ctx.call("GET", "/v1/webhooks?limit=1", token=sc.tok)
        page = expect_json(resp, 200)
        expect_equal((len(page["data"]), page.get("has_more")), (1, True),
                     "limit=1 page", resp)
        expect(isinstance(page.get("next_cursor"), str), "next_cursor", resp)
        resp = ctx.call("GET", "/v1/webhooks?limit=1&cursor="
                        + urllib.parse.quote(page["next_cursor"]),
                        token=sc.tok)
        page2 = expect_json(resp, 200)
        expect_equal(len(page2["data"]), 1, "second page", resp)
        expect(page2["data"][0]["id"] != page["data"][0]["id"],
               "second page repeats the first", resp)
        # PATCH
        resp = ctx.call("PATCH", "/v1/webhooks/" + a["id"],
                        {"events": ["record.created", "record.updated"],
                         "description": "second"}, token=sc.tok)
        p = expect_webhook(expect_json(resp, 200), resp)
        expect_equal((p["events"], p["description"], p["url"]),
                     (["record.created", "record.updated"], "second",
                      a["url"]), "patched members", resp)
        expect("secret" not in p, "PATCH shows the secret", resp)
        # jobs of b, then DELETE b drops them
        rec = new_record(ctx, sc.tok)
        worker(ctx)
        jobs = all_jobs(ctx, sc.tok)
        expect_equal(sorted(j["webhook_id"] for j in jobs),
                     sorted([a["id"], b["id"]]), "one job per endpoint")
        expect(all(j["record_id"] == rec["id"] for j in jobs), "record_id")
        resp = ctx.call("DELETE", "/v1/webhooks/" + b["id"], token=sc.tok)
        expect_equal(resp.status, 204, "DELETE status", resp)
        expect_equal(resp.body, b"", "DELETE body", resp)
        jobs = all_jobs(ctx, sc.tok)
        expect_equal([j["webhook_id"] for j in jobs], [a["id"]],
                     "jobs after DELETE")
        expect_problem(ctx.call("GET", "/v1/webhooks/" + b["id"],
                                token=sc.tok), 404, "not_found")
        expect_problem(ctx.call("DELETE", "/v1/webhooks/" + b["id"],
                                token=sc.tok), 404, "not_found")


@wtest("bad members are 400: events (empty, unknown, duplicate, * mixed), "
       "url (missing, ftp, too long), description over 500")
def invalid_members(ctx):
    with Scene(ctx) as sc:
        url = "https://hooks.example.com/h"
        for events in ([], ["record.bogus"], ["record.created"] * 2,
                       ["*", "record.created"], "record.created", [1]):
            resp = ctx.call("POST", "/v1/webhooks",
                            {"url": url, "events": events}, token=sc.tok)
            body = expect_problem(resp, 400, "invalid_request")
            fields = [e.get("field") for e in body.get("errors") or []]
            expect("events" in fields, "errors should name events, named %r"
                   % fields, resp)
        resp = ctx.call("POST", "/v1/webhooks",
                        {"events": ["record.created"]}, token=sc.tok)
        expect(resp.status == 400, "missing url: 400", resp)
        for bad in ("ftp://hooks.example.com/h", "hooks.example.com/h",
                    "https://", "https://user:pw@hooks.example.com/h"):
            resp = ctx.call("POST", "/v1/webhooks",
                            {"url": bad, "events": ["record.created"]},
                            token=sc.tok)
            expect_problem(resp, 400, "invalid_webhook_url")
        # over 2048 bytes: a refused URL, or a bad member naming url
        resp = ctx.call("POST", "/v1/webhooks",
                        {"url": "https://hooks.example.com/" + "a" * 2100,
                         "events": ["record.created"]}, token=sc.tok)
        code = resp.json().get("code") if resp.status == 400 else None
        body = expect_problem(resp, 400, code if code in (
            "invalid_webhook_url", "invalid_request") else
            "invalid_webhook_url")
        if code == "invalid_request":
            fields = [e.get("field") for e in body.get("errors") or []]
            expect_equal(fields, ["url"], "errors fields", resp)
        resp = ctx.call("POST", "/v1/webhooks",
                        {"url": url, "events": ["record.created"],
                         "description": "d" * 501}, token=sc.tok)
        expect_problem(resp, 400, "invalid_request")
        # every listed name is accepted
        names = ["record.created", "record.updated", "record.deleted",
                 "record.synced", "record.conflict", "user.invited",
                 "user.activated", "policy.updated", "policy.deleted"]
        sc.hook(url, names)
        resp = ctx.call("GET", "/v1/webhooks", token=sc.tok)
        expect_equal(len(expect_json(resp, 200)["data"]), 1,
                     "endpoints after the refusals", resp)


@wtest("an org's 17th endpoint is 409 webhook_limit_reached")
def limit_reached(ctx):
    with Scene(ctx) as sc:
        for i in range(16):
            sc.hook("https://hooks.example.com/%d" % i, ["record.created"])
        resp = ctx.call("POST", "/v1/webhooks",
                        {"url": "https://hooks.example.com/17",
                         "events": ["record.created"]}, token=sc.tok)
        expect_problem(resp, 409, "webhook_limit_reached")


@wtest("POST /v1/webhooks with an Idempotency-Key replays the first answer")
def idempotent_create(ctx):
    with Scene(ctx) as sc:
        key = "wh-" + secrets.token_hex(6)
        body = {"url": "https://hooks.example.com/i",
                "events": ["record.created"]}
        first = ctx.call("POST", "/v1/webhooks", body,
                         headers={"Idempotency-Key": key}, token=sc.tok)
        w = expect_webhook(expect_json(first, 201), first, secret=True)
        sc.hooks.append(w["id"])
        second = ctx.call("POST", "/v1/webhooks", body,
                          headers={"Idempotency-Key": key}, token=sc.tok)
        expect_equal(expect_json(second, 201).get("id"), w["id"],
                     "replayed id", second)
        resp = ctx.call("GET", "/v1/webhooks", token=sc.tok)
        expect_equal([x["id"] for x in expect_json(resp, 200)["data"]],
                     [w["id"]], "endpoints", resp)


@wtest("a viewer gets 403 on every webhook and queue endpoint; an operator "
       "reads the queue and retries, but not the endpoints")
def roles(ctx):
    with Scene(ctx) as sc:
        w = sc.hook("https://hooks.example.com/r", ["record.created"])
        viewer = key_for(ctx, sc.org, "viewer")
        operator = key_for(ctx, sc.org, "operator")
        hook_calls = [
            ("GET", "/v1/webhooks", None),
            ("POST", "/v1/webhooks", {"url": "https://hooks.example.com/v",
                                      "events": ["record.created"]}),
            ("GET", "/v1/webhooks/" + w["id"], None),
            ("PATCH", "/v1/webhooks/" + w["id"], {"description": "x"}),
            ("POST", "/v1/webhooks/%s/rotate-secret" % w["id"], None),
            ("POST", "/v1/webhooks/%s/replay" % w["id"],
             {"since": format_time(time.time() - 60)}),
            ("DELETE", "/v1/webhooks/" + w["id"], None),
        ]
        queue_calls = [("GET", "/v1/sync/queue", None),
                       ("POST", "/v1/sync/retry/job_2003", None)]
        for method, path, body in hook_calls + queue_calls:
            expect_problem(ctx.call(method, path, body, token=viewer), 403,
                           "forbidden")
        for method, path, body in hook_calls:
            expect_problem(ctx.call(method, path, body, token=operator), 403,
                           "forbidden")
        queue_page(ctx, operator)
        expect_problem(ctx.call("POST", "/v1/sync/retry/job_2003",
                                token=operator), 404, "not_found")
        expect_problem(ctx.call("GET", "/v1/sync/queue"), 401,
                       "unauthorized")
        get_hook(ctx, sc.tok, w["id"])  # still there


@wtest("another org's endpoint and job are 404, and not in its lists")
def other_org(ctx):
    with Scene(ctx) as sc:
        rx = sc.receiver()
        rx.answer(500)
        w = sc.hook(rx.url(), ["record.created"])
        new_record(ctx, sc.tok)
        worker(ctx)
        jobs = all_jobs(ctx, sc.tok)
        expect_equal(len(jobs), 1, "jobs in the org")
        _, other = fresh_org(ctx, "other")
        for method, path, body in [
                ("GET", "/v1/webhooks/" + w["id"], None),
                ("PATCH", "/v1/webhooks/" + w["id"], {"description": "x"}),
                ("POST", "/v1/webhooks/%s/rotate-secret" % w["id"], None),
                ("POST", "/v1/webhooks/%s/replay" % w["id"],
                 {"since": format_time(time.time() - 60)}),
                ("DELETE", "/v1/webhooks/" + w["id"], None),
                ("POST", "/v1/sync/retry/" + jobs[0]["id"], None)]:
            expect_problem(ctx.call(method, path, body, token=other), 404,
                           "not_found")
        resp = ctx.call("GET", "/v1/webhooks", token=other)
        expect_equal(expect_json(resp, 200)["data"], [], "other's list",
                     resp)
        body, resp = queue_page(ctx, other)
        expect_equal(body["data"], [], "other's queue", resp)
        expect_equal(sum(body["counts"].values()), 0, "other's counts", resp)
        # untouched in its own org
        got, _ = get_hook(ctx, sc.tok, w["id"])
        expect_equal(got["description"], None, "description")
        expect_equal(job_of_event(ctx, sc.tok, jobs[0]["event_id"])["state"],
                     "failed", "job state")


# ==========================================================================
# delivery
# ==========================================================================

@wtest("record.created, record.synced and record.conflict are delivered, "
       "signed (verified here from the spec), webhook-id = the event id, "
       "body = the event's payload")
def delivered_signed(ctx):
    expect_verifier_sound()
    with Scene(ctx) as sc:
        rx = sc.receiver()
        w = sc.hook(rx.url("/in"), ["record.created", "record.synced",
                                    "record.conflict"])
        rec = new_record(ctx, sc.tok)
        synced = patch_record(ctx, sc.tok, rec, {"status": "synced"})
        patch_record(ctx, sc.tok, rec, {"title": "stale"}, status=409)
        events = events_of(ctx, sc.org, rec["id"])
        wanted = [e for e in events if e[1] != "record.updated"]
        expect_equal([e[1] for e in wanted],
                     ["record.created", "record.synced", "record.conflict"],
                     "the record's events")
        worker(ctx)
        reqs = rx.wait_for(3, DELIVERY_WAIT)
        expect_equal(len(reqs), 3, "deliveries")
        for req, (eid, etype, rid, payload) in zip(reqs, wanted):
            what = "delivery of " + etype
            expect_equal(req.path, "/in", what + " path")
            body = expect_delivery(req, w["secret"], sc.org, etype, what)
            expect_equal(body["id"], eid, what + ": id (in order)")
            expect_equal(req.body.decode("utf-8"), payload,
                         what + ": body vs the event's payload")
            expect_equal(body["data"]["id"], rec["id"], what + " data.id")
        expect_equal(reqs[1].json()["data"], synced, "record.synced data")
        expect_equal(reqs[2].json()["data"], synced, "record.conflict data")
        # a wrong secret does not verify (the check is not vacuous)
        other = "whsec_" + base64.b64encode(os.urandom(32)).decode()
        expect(not signature_ok(reqs[0], other), "verifies under any secret")
        jobs = all_jobs(ctx, sc.tok)
        expect_equal(sorted(j["event_id"] for j in jobs),
                     sorted(e[0] for e in wanted), "jobs' event ids")
        for j in jobs:
            expect_equal((j["state"], j["attempts"], j["last_status"],
                          j["last_error"], j["webhook_id"], j["record_id"],
                          j["max_attempts"]),
                         ("succeeded", 1, 200, None, w["id"], rec["id"], 8),
                         "job %s" % j["id"])
        # a second run delivers nothing again
        worker(ctx)
        time.sleep(0.3)
        expect_equal(len(rx.requests), 3, "deliveries after a second run")


@wtest("a failing receiver (500): job failed, attempts 1, last_status 500, "
       "due ~5 s later; POST /v1/sync/retry -> 202 pending; the next run "
       "delivers it with the same webhook-id")
def failed_then_retry(ctx):
    with Scene(ctx) as sc:
        rx = sc.receiver()
        rx.answer(500, body=b"boom")
        w = sc.hook(rx.url(), ["record.created"])
        new_record(ctx, sc.tok)
        worker(ctx)
        reqs = rx.wait_for(1, DELIVERY_WAIT)
        expect_equal(len(reqs), 1, "attempts seen")
        body, resp = queue_page(ctx, sc.tok, state="failed")
        expect_equal(len(body["data"]), 1, "failed jobs", resp)
        job = body["data"][0]
        expect_equal((job["attempts"], job["last_status"], job["state"]),
                     (1, 500, "failed"), "attempts, last_status, state", resp)
        expect(isinstance(job["last_error"], str) and job["last_error"],
               "last_error: a string", resp)
        expect_equal(job["event_id"], reqs[0].header("webhook-id"),
                     "event_id vs webhook-id", resp)
        wait = parse_time(job["next_attempt_at"]) - reqs[0].arrived
        expect(3.5 <= wait <= 7.5, "next attempt %.1f s after the first "
               "(backoff ~5 s with jitter)" % wait, resp)
        expect_equal(body["counts"]["failed"], 1, "counts.failed", resp)
        # not due yet: an immediate run does not try again
        worker(ctx)
        expect_equal(len(rx.requests), 1, "attempts after an early run")
        # forced retry
        rx.answer(200)
        before = time.time()
        job2, resp = retry(ctx, sc.tok, job["id"])
        expect_equal((job2["id"], job2["state"], job2["attempts"]),
                     (job["id"], "pending", 1), "retried job", resp)
        expect(parse_time(job2["next_attempt_at"]) <= before + 1.5,
               "retried job due now, is due at %s" % job2["next_attempt_at"],
               resp)
        worker(ctx)
        reqs = rx.wait_for(2, DELIVERY_WAIT)
        expect_equal(len(reqs), 2, "attempts seen")
        expect_delivery(reqs[1], w["secret"], sc.org, "record.created",
                        "retried delivery")
        expect_equal(reqs[1].header("webhook-id"),
                     reqs[0].header("webhook-id"), "webhook-id kept")
        done = job_of_event(ctx, sc.tok, job["event_id"])
        expect_equal((done["state"], done["attempts"], done["last_status"]),
                     ("succeeded", 2, 200), "job after the retry")


@wtest("the 8th failed attempt makes the job dead; a retry of a dead job "
       "gives it a fresh budget and it is delivered")
def dead_after_eight(ctx):
    with Scene(ctx) as sc:
        rx = sc.receiver()
        rx.answer(500)
        w = sc.hook(rx.url(), ["record.created"])
        new_record(ctx, sc.tok)
        worker(ctx)
        job = None
        for attempt in range(1, 9):
            expect_equal(len(rx.wait_for(attempt, DELIVERY_WAIT)), attempt,
                         "attempts seen")
            (job,) = all_jobs(ctx, sc.tok)
            want = "dead" if attempt == 8 else "failed"
            expect_equal((job["state"], job["attempts"], job["last_status"]),
                         (want, attempt, 500), "job after attempt %d"
                         % attempt)
            if attempt < 8:
                retry(ctx, sc.tok, job["id"])
                worker(ctx)
        worker(ctx)
        time.sleep(0.3)
        expect_equal(len(rx.requests), 8, "attempts after the job died")
        ids = {q.header("webhook-id") for q in rx.requests}
        expect_equal(ids, {job["event_id"]}, "webhook-ids of the attempts")
        rx.answer(200)
        again, resp = retry(ctx, sc.tok, job["id"])
        expect_equal(again["state"], "pending", "state after the retry",
                     resp)
        expect(again["max_attempts"] - again["attempts"] >= 1,
               "a dead job's retry leaves no attempt", resp)
        worker(ctx)
        reqs = rx.wait_for(9, DELIVERY_WAIT)
        expect_equal(len(reqs), 9, "attempts after the retry")
        expect_delivery(reqs[8], w["secret"], sc.org, "record.created")
        (job,) = all_jobs(ctx, sc.tok)
        expect_equal((job["state"], job["last_status"]), ("succeeded", 200),
                     "job after the retry of the dead job")


@wtest("retrying a succeeded job is 409 job_not_retryable")
def retry_succeeded(ctx):
    with Scene(ctx) as sc:
        rx = sc.receiver()
        sc.hook(rx.url(), ["record.created"])
        new_record(ctx, sc.tok)
        worker(ctx)
        expect_equal(len(rx.wait_for(1, DELIVERY_WAIT)), 1, "deliveries")
        body, resp = queue_page(ctx, sc.tok, state="succeeded")
        expect_equal(len(body["data"]), 1, "succeeded jobs", resp)
        job = body["data"][0]
        resp = retry(ctx, sc.tok, job["id"], status=409)
        expect_problem(resp, 409, "job_not_retryable")
        expect_equal(job_of_event(ctx, sc.tok, job["event_id"])["state"],
                     "succeeded", "state after the refused retry")


@wtest("retry of an unknown job is 404 (Content-Length: 0), and the seed's "
       "curl -X POST .../v1/sync/retry/job_2003 (no body) a JSON problem")
def retry_unknown(ctx):
    org, tok = fresh_org(ctx)
    for job_id in ("job_2003", "job_" + "0" * 26):
        path = "/v1/sync/retry/" + job_id
        resp = ctx.call("POST", path, b"", token=tok,
                        headers={"Content-Length": "0",
                                 "Content-Type": None})
        expect_equal(resp.request_headers.get("Content-Length"), "0",
                     "sent Content-Length", resp)
        expect_problem(resp, 404, "not_found")
    import test_server  # its raw socket helpers (no Content-Length at all)
    path = "/v1/sync/retry/job_2003"
    raw = test_server.request("POST", path,
                              ["Authorization: Bearer " + tok])
    resp = test_server.raw_exchange(ctx.port, raw, path)
    body = test_server.expect_server_problem(resp, resp.status,
                                             instance=path)
    expect(resp.status in (404, 411), "status: 404 from the program or "
           "lighttpd's 411, got %s" % resp.status, resp)
    if resp.status == 404:
        expect_equal(body.get("code"), "not_found", "code", resp)
    else:
        expect_equal(ctx.server_name, "lighttpd", "a 411 from", resp)


@wtest("a worker SIGKILLed mid-delivery: the job stays running; after the "
       "lease (--lease 2) the next run delivers it with the same webhook-id")
def killed_mid_delivery(ctx):
    with Scene(ctx) as sc:
        rx = sc.receiver()
        rx.push(Reply(stall=True))      # the first request never answers
        w = sc.hook(rx.url(), ["record.created"])
        new_record(ctx, sc.tok)
        proc = ctx.spawn_worker(["--once", "--timeout", "1",
                                 "--lease", str(KILL_LEASE)])
        try:
            reqs = rx.wait_for(1, 20)
            alive = proc.poll() is None
            proc.kill()
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)
        expect_equal(len(reqs), 1, "requests at the receiver within 20 s of "
                     "the worker's start (worker still running: %s; it "
                     "said: %r; jobs: %r)" % (
                         alive, read_text(proc.output_path),
                         [(j["state"], j["attempts"], j["next_attempt_at"])
                          for j in all_jobs(ctx, sc.tok)]))
        expect_equal(proc.returncode, -9, "worker ended by SIGKILL (it ended "
                     "on its own first if not)")
        first = reqs[0]
        body, resp = queue_page(ctx, sc.tok)
        expect_equal(len(body["data"]), 1, "jobs", resp)
        job = body["data"][0]
        expect_equal((job["state"], job["attempts"]), ("running", 1),
                     "job after the kill", resp)
        lease_end = parse_time(job["next_attempt_at"])
        expect(0 < lease_end - first.arrived <= KILL_LEASE + 1.5,
               "lease ends %.1f s after the delivery began (--lease %d)"
               % (lease_end - first.arrived, KILL_LEASE), resp)
        if lease_end - time.time() > 0.8:
            worker(ctx, "--timeout", "1", "--lease", str(KILL_LEASE))
            expect_equal(len(rx.requests), 1,
                         "requests after a run inside the lease")
        time.sleep(max(0.0, min(KILL_LEASE + 3.0,
                                lease_end - time.time() + 0.3)))
        worker(ctx, "--timeout", "5")
        reqs = rx.wait_for(2, DELIVERY_WAIT)
        expect_equal(len(reqs), 2, "requests after the lease")
        expect_delivery(reqs[1], w["secret"], sc.org, "record.created",
                        "the second delivery")
        expect_equal(reqs[1].header("webhook-id"), first.header("webhook-id"),
                     "webhook-id kept")
        done = job_of_event(ctx, sc.tok, job["event_id"])
        expect_equal((done["state"], done["attempts"], done["last_status"]),
                     ("succeeded", 2, 200), "job after the second run")


@wtest("two workers started at once deliver each job exactly once")
def two_workers(ctx):
    n = 12
    with Scene(ctx) as sc:
        rx = sc.receiver()
        rx.answer(200, delay=0.05)
        sc.hook(rx.url(), ["record.created"])
        for _ in range(n):
            new_record(ctx, sc.tok)
        ids = [e[0] for e in events_of(ctx, sc.org)
               if e[1] == "record.created"]
        expect_equal(len(ids), n, "events")
        results = run_parallel([lambda: ctx.worker(["--once"]),
                                lambda: ctx.worker(["--once"])],
                               harness.WORKER_TIMEOUT + 10)
        for i, (res, exc) in enumerate(results):
            if exc is not None:
                raise exc
            rc, out, err, _ = res
            expect_equal(rc, 0, "worker %d exit (stderr %r)" % (i, err))
        reqs = rx.wait_for(n, DELIVERY_WAIT)
        time.sleep(0.5)   # a duplicate would come now
        got = [r.header("webhook-id") for r in rx.requests]
        expect_equal(sorted(got), sorted(ids),
                     "webhook-ids delivered (each event once)")
        body, resp = queue_page(ctx, sc.tok)
        expect_equal(body["counts"]["succeeded"], n, "counts.succeeded",
                     resp)
        worker(ctx)
        time.sleep(0.3)
        expect_equal(len(rx.requests), n, "deliveries after a third run")
        del reqs


@wtest("per-record order: while record R's first event is retried its "
       "second waits (another record's event goes); then R's arrive in "
       "order")
def per_record_order(ctx):
    with Scene(ctx) as sc:
        rx = sc.receiver()
        w = sc.hook(rx.url(), ["record.created", "record.updated"])
        r = new_record(ctx, sc.tok)
        s = new_record(ctx, sc.tok)
        patch_record(ctx, sc.tok, r, {"title": "second"})
        evs = events_of(ctx, sc.org)
        r1, r2 = [e[0] for e in evs if e[2] == r["id"]]
        (s1,) = [e[0] for e in evs if e[2] == s["id"]]
        fail_r1 = {"on": True}
        rx.rule(lambda req: Reply(500) if fail_r1["on"] and
                req.header("webhook-id") == r1 else None)
        worker(ctx)
        rx.wait_for(2, DELIVERY_WAIT)
        time.sleep(0.3)
        seen = [q.header("webhook-id") for q in rx.requests]
        expect(r1 in seen and s1 in seen,
               "R's first and S's event were tried: %r" % seen)
        expect(r2 not in seen, "R's second event was sent while its first "
               "failed: %r" % seen)
        j1 = job_of_event(ctx, sc.tok, r1)
        j2 = job_of_event(ctx, sc.tok, r2)
        expect_equal((j1["state"], j1["last_status"]), ("failed", 500),
                     "R's first job")
        expect_equal(j2["state"], "pending", "R's second job")
        expect_equal(job_of_event(ctx, sc.tok, s1)["state"], "succeeded",
                     "S's job")
        # another run before the retry is due: R's second still waits
        worker(ctx)
        time.sleep(0.3)
        expect(r2 not in [q.header("webhook-id") for q in rx.requests],
               "R's second event sent while its first waits for its retry")
        fail_r1["on"] = False
        retry(ctx, sc.tok, j1["id"])
        for _ in range(3):      # R2 may need the pass after R1 settles
            worker(ctx)
            if r2 in [q.header("webhook-id") for q in rx.requests]:
                break
        reqs = rx.requests
        ok1 = [i for i, q in enumerate(reqs)
               if q.header("webhook-id") == r1 and q.answered == 200]
        at2 = [i for i, q in enumerate(reqs)
               if q.header("webhook-id") == r2]
        expect_equal(len(ok1), 1, "R's first delivered once")
        expect_equal(len(at2), 1, "R's second delivered once")
        expect(ok1[0] < at2[0], "R's second arrived before its first")
        expect_delivery(reqs[at2[0]], w["secret"], sc.org, "record.updated",
                        "R's second")
        for eid in (r1, r2):
            expect_equal(job_of_event(ctx, sc.tok, eid)["state"],
                         "succeeded", "job of %s" % eid)


@wtest("a 410 disables the endpoint (GET shows disabled): job dead, later "
       "events not delivered; PATCH status enabled brings it back")
def gone_disables(ctx):
    with Scene(ctx) as sc:
        rx = sc.receiver()
        rx.answer(410)
        w = sc.hook(rx.url(), ["record.created"])
        new_record(ctx, sc.tok)
        worker(ctx)
        expect_equal(len(rx.wait_for(1, DELIVERY_WAIT)), 1, "attempts")
        body, resp = queue_page(ctx, sc.tok)
        expect_equal(len(body["data"]), 1, "jobs", resp)
        job = body["data"][0]
        expect_equal((job["state"], job["last_status"], job["attempts"]),
                     ("dead", 410, 1), "job after a 410", resp)
        got, resp = get_hook(ctx, sc.tok, w["id"])
        expect_equal(got["status"], "disabled", "status", resp)
        expect(isinstance(got["disabled_reason"], str)
               and "410" in got["disabled_reason"],
               "disabled_reason names the 410", resp)
        rx.answer(200)
        new_record(ctx, sc.tok)
        worker(ctx)
        time.sleep(0.3)
        expect_equal(len(rx.requests), 1, "requests after the disable")
        body, resp = queue_page(ctx, sc.tok)
        expect_equal([j["state"] for j in body["data"]], ["dead"],
                     "jobs after the disable", resp)
        # an operator brings it back: later events go again
        resp = ctx.call("PATCH", "/v1/webhooks/" + w["id"],
                        {"status": "enabled"}, token=sc.tok)
        again = expect_webhook(expect_json(resp, 200), resp)
        expect_equal((again["status"], again["disabled_reason"]),
                     ("enabled", None), "re-enabled", resp)
        rec = new_record(ctx, sc.tok)
        worker(ctx)
        reqs = rx.wait_for(2, DELIVERY_WAIT)
        expect_equal(len(reqs), 2, "requests after re-enabling")
        body = expect_delivery(reqs[1], w["secret"], sc.org, "record.created")
        expect_equal(body["data"]["id"], rec["id"], "the new record's event")


@wtest("Retry-After is honoured: 429 with Retry-After: 120 -> due ~120 s "
       "later (not the 5 s backoff); 503 with an HTTP date -> due then")
def retry_after(ctx):
    with Scene(ctx) as sc:
        rx = sc.receiver()
        sc.hook(rx.url(), ["record.created"])
        a = new_record(ctx, sc.tok)
        b = new_record(ctx, sc.tok)
        date_at = int(time.time()) + 90
        http_date = email.utils.formatdate(date_at, usegmt=True)

        def answer(req):
            rid = req.json()["data"]["id"]
            if rid == a["id"]:
                return Reply(429, {"Retry-After": "120"})
            return Reply(503, {"Retry-After": http_date})
        rx.rule(answer)
        worker(ctx)
        reqs = rx.wait_for(2, DELIVERY_WAIT)
        expect_equal(len(reqs), 2, "attempts")
        by_rec = {q.json()["data"]["id"]: q for q in reqs}
        jobs = {j["record_id"]: j for j in all_jobs(ctx, sc.tok)}
        ja, jb = jobs[a["id"]], jobs[b["id"]]
        expect_equal((ja["state"], ja["last_status"]), ("failed", 429),
                     "the 429 job")
        expect_equal((jb["state"], jb["last_status"]), ("failed", 503),
                     "the 503 job")
        wait_a = parse_time(ja["next_attempt_at"]) - by_rec[a["id"]].arrived
        expect(115 <= wait_a <= 125, "429 job due %.1f s after its attempt "
               "(want ~120: %s)" % (wait_a, ja["next_attempt_at"]))
        off_b = parse_time(jb["next_attempt_at"]) - date_at
        expect(-3 <= off_b <= 3, "503 job due %.1f s from the Retry-After "
               "date %s (%s)" % (off_b, http_date, jb["next_attempt_at"]))
        worker(ctx)
        time.sleep(0.3)
        expect_equal(len(rx.requests), 2, "attempts after an early run")


@wtest("private targets are refused without RELAYSYNC_WEBHOOK_ALLOW_PRIVATE "
       "(a side server): 400 invalid_webhook_url; public and unresolvable "
       "names accepted")
def private_refused(ctx):
    side = NoPrivateServer(ctx)
    try:
        side.start()
        tok = side.admin_token()
        refused = ["http://127.0.0.1:%d/hook" % free_port(),
                   "https://127.0.0.1/hook", "https://127.1.2.3:8443/hook",
                   "https://localhost/hook", "https://api.localhost/hook",
                   "https://10.1.2.3/hook", "https://172.16.0.1/hook",
                   "https://192.168.1.1/hook", "https://169.254.169.254/",
                   "https://100.64.0.1/hook", "https://0.0.0.0/hook",
                   "https://[::1]/hook", "https://[fd00::1]/hook",
                   "https://[fe80::1]/hook", "https://[::ffff:127.0.0.1]/h",
                   "https://[::ffff:10.0.0.1]/hook",
                   "http://1.1.1.1/hook"]
        for url in refused:
            resp = side.call("POST", "/v1/webhooks",
                             {"url": url, "events": ["record.created"]}, tok)
            expect_problem(resp, 400, "invalid_webhook_url")
        for url in ("https://1.1.1.1/hook",
                    "https://rebind.example:%d/hook" % free_port()):
            started = time.monotonic()
            resp = side.call("POST", "/v1/webhooks",
                             {"url": url, "events": ["record.created"]}, tok)
            took = time.monotonic() - started
            w = expect_webhook(expect_json(resp, 201), resp, secret=True)
            expect_equal(w["url"], url, "url", resp)
            expect(took < 5, "registration took %.1f s (resolution is "
                   "bounded by 2 s)" % took, resp)
    finally:
        side.stop()


@wtest("DNS rebinding: a name resolving to 127.0.0.1 only at connect time "
       "is refused by the worker without the flag; last_error names "
       "127.0.0.1, the receiver gets nothing")
def rebinding_refused(ctx):
    with Scene(ctx) as sc:
        rx = sc.receiver()
        url = "https://rebind.example:%d/hook" % rx.port
        sc.hook(url, ["record.created"])
        new_record(ctx, sc.tok)
        hosts = ctx.workspace.path("hosts-rebind")
        with open(hosts, "w", encoding="ascii") as f:
            f.write("127.0.0.1 localhost\n127.0.0.1 rebind.example\n")
        os.chmod(hosts, 0o644)
        worker(ctx, "--timeout", "3", allow_private=False, hosts=hosts)
        time.sleep(0.3)
        expect_equal(rx.connections, 0, "connections the receiver got")
        body, resp = queue_page(ctx, sc.tok)
        expect_equal(len(body["data"]), 1, "jobs", resp)
        job = body["data"][0]
        expect_equal((job["state"], job["attempts"], job["last_status"]),
                     ("failed", 1, None), "job after the refusal", resp)
        expect(isinstance(job["last_error"], str)
               and "127.0.0.1" in job["last_error"],
               "last_error names 127.0.0.1", resp)


@wtest("a receiver that redirects (302 Location) is a failure with "
       "last_status 302; the target is never hit")
def redirect_not_followed(ctx):
    with Scene(ctx) as sc:
        rx = sc.receiver()
        target = sc.receiver()
        rx.answer(302, {"Location": target.url("/target")})
        sc.hook(rx.url(), ["record.created"])
        new_record(ctx, sc.tok)
        worker(ctx)
        expect_equal(len(rx.wait_for(1, DELIVERY_WAIT)), 1, "attempts")
        time.sleep(0.3)
        expect_equal(target.connections, 0, "connections to the target")
        body, resp = queue_page(ctx, sc.tok)
        job = body["data"][0]
        expect_equal((job["state"], job["attempts"], job["last_status"]),
                     ("failed", 1, 302), "job after the redirect", resp)


@wtest("a receiver answering 200 with a 32 MiB body: success, and the "
       "worker reads 64 KiB of it, not the rest")
def answer_capped(ctx):
    with Scene(ctx) as sc:
        rx = sc.receiver()
        # More than both sockets' buffers can hold: if the worker read it
        # all, the receiver's write would complete.
        rx.answer(200, body=b"x" * (32 * 1024 * 1024))
        sc.hook(rx.url(), ["record.created"])
        new_record(ctx, sc.tok)
        started = time.time()
        worker(ctx)
        took = time.time() - started
        got = rx.wait_for(1, DELIVERY_WAIT)
        expect_equal(len(got), 1, "deliveries")
        body, resp = queue_page(ctx, sc.tok)
        job = body["data"][0]
        expect_equal((job["state"], job["attempts"], job["last_status"]),
                     ("succeeded", 1, 200), "job after a huge answer", resp)
        expect(got[0].answered is None, "the receiver wrote all 32 MiB: "
               "the worker read the whole answer")
        expect(took < 8, "the worker took %.1f s" % took)


@wtest("a stalling receiver is a failure within --timeout 2")
def stall_times_out(ctx):
    with Scene(ctx) as sc:
        rx = sc.receiver()
        rx.answer(200, stall=True)
        sc.hook(rx.url(), ["record.created"])
        new_record(ctx, sc.tok)
        secs, _ = worker(ctx, "--timeout", "2")
        expect_equal(len(rx.requests), 1, "the request reached the receiver")
        expect(1.5 <= secs <= 8, "worker run took %.1f s (timeout 2 s)"
               % secs)
        body, resp = queue_page(ctx, sc.tok)
        job = body["data"][0]
        expect_equal((job["state"], job["attempts"], job["last_status"]),
                     ("failed", 1, None), "job after the stall", resp)
        expect(isinstance(job["last_error"], str)
               and "timed out" in job["last_error"],
               "last_error says it timed out", resp)


@wtest("replay re-queues a window with the original event ids (and reaches "
       "back before the endpoint existed); bad windows are 400")
def replay(ctx):
    with Scene(ctx) as sc:
        rx = sc.receiver()
        t0 = time.time() - 1
        before = new_record(ctx, sc.tok)      # before the endpoint
        w = sc.hook(rx.url(), ["record.created"])
        after = new_record(ctx, sc.tok)
        patch_record(ctx, sc.tok, after, {"title": "not subscribed"})
        worker(ctx)
        first = rx.wait_for(1, DELIVERY_WAIT)
        time.sleep(0.3)
        expect_equal(len(rx.requests), 1, "deliveries before the replay")
        first = first[0]
        expect_equal(first.json()["data"]["id"], after["id"],
                     "the delivered record")
        path = "/v1/webhooks/%s/replay" % w["id"]
        resp = ctx.call("POST", path, {"since": format_time(t0)},
                        token=sc.tok)
        expect_equal(expect_json(resp, 202), {"jobs": 2}, "replay answer",
                     resp)
        worker(ctx)
        reqs = rx.wait_for(3, DELIVERY_WAIT)
        time.sleep(0.3)
        expect_equal(len(rx.requests), 3, "deliveries after the replay")
        ids = {}
        for q in reqs[1:]:
            body = expect_delivery(q, w["secret"], sc.org, "record.created",
                                   "replayed delivery")
            ids[body["data"]["id"]] = q.header("webhook-id")
        expect_equal(ids.get(after["id"]), first.header("webhook-id"),
                     "replayed webhook-id = the first delivery's")
        (ev_before,) = [e[0] for e in events_of(ctx, sc.org, before["id"])]
        expect_equal(ids.get(before["id"]), ev_before,
                     "the earlier record's event id")
        # windows: nothing after, refused when since >= until or not a time
        time.sleep(1.1)
        resp = ctx.call("POST", path, {"since": format_time(time.time() - 1)},
                        token=sc.tok)
        expect_equal(expect_json(resp, 202), {"jobs": 0}, "empty window",
                     resp)
        resp = ctx.call("POST", path,
                        {"since": format_time(t0 - 100),
                         "until": format_time(t0 - 50)}, token=sc.tok)
        expect_equal(expect_json(resp, 202), {"jobs": 0}, "window before",
                     resp)
        for bad in ({"since": format_time(t0), "until": format_time(t0)},
                    {"since": format_time(t0 + 10),
                     "until": format_time(t0)},
                    {"since": "yesterday"}, {}):
            expect_problem(ctx.call("POST", path, bad, token=sc.tok), 400,
                           "invalid_request")


@wtest("rotate-secret: 200 with a new secret; the next delivery verifies "
       "with the new secret and not the old")
def rotate_secret(ctx):
    with Scene(ctx) as sc:
        rx = sc.receiver()
        w = sc.hook(rx.url(), ["record.created"])
        resp = ctx.call("POST", "/v1/webhooks/%s/rotate-secret" % w["id"],
                        token=sc.tok)
        r = expect_webhook(expect_json(resp, 200), resp, secret=True)
        expect_equal(r["id"], w["id"], "id", resp)
        expect(r["secret"] != w["secret"], "the secret did not change", resp)
        got, resp = get_hook(ctx, sc.tok, w["id"])
        expect("secret" not in got, "GET shows the secret", resp)
        new_record(ctx, sc.tok)
        worker(ctx)
        reqs = rx.wait_for(1, DELIVERY_WAIT)
        expect_equal(len(reqs), 1, "deliveries")
        expect_delivery(reqs[0], r["secret"], sc.org, "record.created",
                        "delivery after the rotation")
        expect(not signature_ok(reqs[0], w["secret"]),
               "the delivery also verifies under the old secret")


# ==========================================================================
# the queue
# ==========================================================================

@wtest("GET /v1/sync/queue: job shape, state/queue/event_type filters, "
       "counts over the whole org, limit and cursor")
def queue_filters(ctx):
    with Scene(ctx) as sc:
        resp = ctx.call("POST", "/v1/policies",
                        {"name": "defer_media", "when": "size>5120",
                         "then": "queue=wifi"}, token=sc.tok)
        expect_json(resp, 201)
        rx = sc.receiver()
        bad_type = "wh-bad-" + secrets.token_hex(3)
        rx.rule(lambda req: Reply(500)
                if req.json()["data"]["type"] == bad_type else None)
        w = sc.hook(rx.url(), ["record.created", "record.updated"])
        good = [new_record(ctx, sc.tok), new_record(ctx, sc.tok)]
        big = new_record(ctx, sc.tok, data={"blob": "x" * 6000})
        bad = new_record(ctx, sc.tok, type=bad_type)
        # bad's second event waits (pending) behind its failing first
        patch_record(ctx, sc.tok, bad, {"title": "later"})
        worker(ctx)
        rx.wait_for(4, DELIVERY_WAIT)
        body, resp = queue_page(ctx, sc.tok)
        expect_equal(body["counts"], {"pending": 1, "running": 0,
                                      "succeeded": 3, "failed": 1,
                                      "dead": 0}, "counts", resp)
        jobs = all_jobs(ctx, sc.tok)
        expect_equal(len(jobs), 5, "jobs")
        expect_equal(len({j["id"] for j in jobs}), 5, "distinct job ids")
        by_event = {e[0]: e for e in events_of(ctx, sc.org)}
        for j in jobs:
            ev = by_event.get(j["event_id"])
            expect(ev is not None, "job %s: event %s not in the org"
                   % (j["id"], j["event_id"]))
            expect_equal((j["event_type"], j["record_id"], j["webhook_id"]),
                         (ev[1], ev[2], w["id"]), "job %s" % j["id"])
        recs = {r["id"]: r for r in good + [big, bad]}
        for j in jobs:
            if j["record_id"] in recs:
                expect_equal(j["queue"], recs[j["record_id"]]["queue"],
                             "job queue vs its record's")
        expect_equal(big["queue"], "wifi", "the big record's queue")
        # filters; counts stay the org's
        for params, want in [
                ({"state": "succeeded"}, 3), ({"state": "failed"}, 1),
                ({"state": "pending"}, 1), ({"state": "dead"}, 0),
                ({"event_type": "record.created"}, 4),
                ({"event_type": "record.updated"}, 1),
                ({"event_type": "record.deleted"}, 0),
                ({"queue": "wifi"}, 1), ({"queue": "nope"}, 0),
                ({"state": "succeeded", "queue": "wifi"}, 1)]:
            body, resp = queue_page(ctx, sc.tok, **params)
            expect_equal(len(body["data"]), want, "jobs for %r" % params,
                         resp)
            expect_equal(body["counts"]["succeeded"], 3,
                         "counts.succeeded under %r" % params, resp)
            for name, value in params.items():
                for j in body["data"]:
                    expect_equal(j[name], value, name, resp)
        body, resp = queue_page(ctx, sc.tok, state="failed")
        f = body["data"][0]
        expect_equal((f["record_id"], f["last_status"], f["attempts"]),
                     (bad["id"], 500, 1), "the failed job", resp)
        body, resp = queue_page(ctx, sc.tok, state="pending")
        p = body["data"][0]
        expect_equal((p["record_id"], p["event_type"], p["attempts"]),
                     (bad["id"], "record.updated", 0), "the pending job", resp)
        # paging
        walked = all_jobs(ctx, sc.tok, limit=2)
        expect_equal([j["id"] for j in walked], [j["id"] for j in jobs],
                     "limit=2 walk vs one page")
        body, resp = queue_page(ctx, sc.tok, limit=2)
        expect_equal((len(body["data"]), body["has_more"]), (2, True),
                     "limit=2 page", resp)
        for bad_params in ({"state": "bogus"}, {"limit": "0"},
                           {"limit": "x"}):
            resp = ctx.call("GET", "/v1/sync/queue?"
                            + urllib.parse.urlencode(bad_params),
                            token=sc.tok)
            expect_problem(resp, 400, "invalid_request")
        resp = ctx.call("GET", "/v1/sync/queue?cursor=garbage", token=sc.tok)
        expect_problem(resp, 400, "invalid_cursor")


@wtest("the policies' queue, priority and delay reach the jobs: a delayed "
       "job waits, pending, while the others go")
def policy_jobs(ctx):
    with Scene(ctx) as sc:
        resp = ctx.call("POST", "/v1/policies",
                        {"name": "slow", "when": "size>5120",
                         "then": "queue=bulk;priority=2;delay=5m"},
                        token=sc.tok)
        expect_json(resp, 201)
        rx = sc.receiver()
        sc.hook(rx.url(), ["record.created"])
        started = time.time()
        big = new_record(ctx, sc.tok, data={"blob": "x" * 6000})
        small = new_record(ctx, sc.tok)
        worker(ctx)
        rx.wait_for(1, DELIVERY_WAIT)
        time.sleep(0.3)
        got = [q.json()["data"]["id"] for q in rx.requests]
        expect_equal(got, [small["id"]], "records delivered")
        jobs = {j["record_id"]: j for j in all_jobs(ctx, sc.tok)}
        jb, js = jobs[big["id"]], jobs[small["id"]]
        expect_equal((jb["queue"], jb["priority"], jb["state"],
                      jb["attempts"]), ("bulk", 2, "pending", 0),
                     "the delayed job")
        expect_equal((js["queue"], js["priority"], js["state"]),
                     ("default", 5, "succeeded"), "the other job")
        due = parse_time(jb["next_attempt_at"]) - started
        expect(280 <= due <= 320, "delayed job due %.0f s after the write "
               "(delay=5m)" % due)


# --------------------------------------------------------------------------
# a side server without RELAYSYNC_WEBHOOK_ALLOW_PRIVATE
# --------------------------------------------------------------------------

class NoPrivateServer:
    """A second private server of the run's kind, its own temp dir and
    database, whose program runs without RELAYSYNC_WEBHOOK_ALLOW_PRIVATE."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.ws = harness.Workspace(ctx.prefix, ctx.workspace.run_as)
        self.port = free_port()
        cls = harness.SERVERS[ctx.server_name]
        self.server = cls(self.ws, self.port, form=harness.APACHE_FORM,
                          defines=[("RELAYSYNC_MAX_CONN_PER_IP",
                                    harness.RUN_MAX_CONN_PER_IP)],
                          app_env={"RELAYSYNC_WEBHOOK_ALLOW_PRIVATE": None})

    def start(self):
        cli_ok(self.ctx, ["init"], self.ws)
        self.org = cli_ok(self.ctx, ["org", "create", "noprivate"], self.ws)
        self.key = new_key(self.ctx, self.org, "admin", self.ws)
        expect("RELAYSYNC_WEBHOOK_ALLOW_PRIVATE" not in
               self.server.app_env(), "the side server has the flag")
        self.server.start()
        deadline = time.monotonic() + harness.START_TIMEOUT
        while time.monotonic() < deadline:
            if not self.server.running():
                raise Failure("side server exited: %s" % self.log_tail())
            try:
                if harness.http_call(self.port, "GET", "/v1/health",
                                     timeout=2).status == 200:
                    return
            except Failure:
                pass
            time.sleep(0.2)
        raise Failure("side server not healthy: %s" % self.log_tail())

    def call(self, method, path, body=None, token=None):
        return harness.http_call(self.port, method, path, body, None, token)

    def admin_token(self):
        resp = self.call("POST", "/v1/auth/token", {"api_key": self.key})
        return expect_json(resp, 200)["access_token"]

    def log_tail(self):
        return " | ".join(
            harness.LogWatch(self.server.log_files()).tail()[-8:])

    def stop(self):
        self.server.stop()
        self.ws.remove()


# ==========================================================================
# the worker and the WAL
# ==========================================================================

DRAIN_EVENTS = 8000              # deliveries of one worker run
DRAIN_WAL_MAX = 20 * 1024 * 1024  # the 16 MiB the WAL is cut back to, and room


def max_wal_while(ctx, proc, timeout):
    """The largest size of the run's WAL file, sampled every 20 ms until
    PROC exits (at most TIMEOUT s; then it is killed) -> (bytes, rc)."""
    wal = ctx.workspace.db + "-wal"
    top = 0
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            top = max(top, os.path.getsize(wal))
        except OSError:
            pass
        time.sleep(0.02)
    if proc.poll() is None:
        proc.kill()
        proc.wait()
        raise Failure("relaysync-worker still running after %d s: %s"
                      % (timeout, read_text(proc.output_path)))
    return top, proc.returncode


@wtest("the worker checkpoints as its own writes grow the WAL: one run "
       "delivering %d events while no client writes keeps the WAL file "
       "under %d MiB (bench/soak saw a drain grow it past 200 MiB)"
       % (DRAIN_EVENTS, DRAIN_WAL_MAX // 1048576))
def drain_checkpoints(ctx):
    with Scene(ctx, rate=harness.SHARED_ORG_RATE) as sc:
        rx = sc.receiver()
        sc.hook(rx.url("/in"), ["record.created"])
        for n in range(DRAIN_EVENTS // 100):
            items = [{"method": "POST", "path": "/v1/records",
                      "body": {"title": "drain %d.%d" % (n, i),
                               "type": "drain",
                               "data": {"note": "x" * 200}}}
                     for i in range(100)]
            got = expect_json(ctx.call("POST", "/v1/batch",
                                       {"requests": items}, token=sc.tok))
            expect_equal([r["status"] for r in got["responses"]],
                         [201] * 100, "batch %d's statuses" % n)
        proc = ctx.workspace.spawn_worker(["--once"])
        top, rc = max_wal_while(ctx, proc, harness.WORKER_TIMEOUT)
        expect_equal(rc, 0, "relaysync-worker --once exit (output: %s)"
                     % read_text(proc.output_path))
        rows, _ = db_run(ctx, "SELECT state, count(*) FROM jobs WHERE "
                              "org_id = ? GROUP BY state", (sc.org,))
        expect_equal(dict(rows), {"succeeded": DRAIN_EVENTS},
                     "the org's jobs by state")
        harness.not_applicable("the size of SQLite's -wal file (the run's "
                               "%d deliveries were checked, all succeeded)"
                               % DRAIN_EVENTS)
        expect(top <= DRAIN_WAL_MAX, "the WAL grew to %.1f MiB while the "
               "worker delivered (at most %d MiB)"
               % (top / 1048576, DRAIN_WAL_MAX // 1048576))
