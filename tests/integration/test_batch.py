"""POST /v1/batch (issue 15): up to 100
API requests in one write transaction, each answered as if sent alone
(status, body, the headers Location, ETag, Idempotent-Replayed,
Retry-After, Preference-Applied; its own Idempotency-Key, If-Match,
role check and rate-limit token); independent items (each in a savepoint)
or `"atomic": true` (any item >= 400 rolls everything back: 409
batch_failed listing every item's answer); the batch's own
Idempotency-Key; malformed batches refused whole (400 naming the field)
before anything runs; the 16 MiB bound on the answer; 503 when the write
lock is not had in time.

Every test name starts with "batch: " so `run.py -k batch` selects them.
Each test works in an org of its own made with the CLI (a rate limit no
test reaches, except the rate-limit test's), so it knows every record,
audit entry and event its org holds. The rate-limit test talks from a
loopback address of its own (RATE_SOURCE). Side servers (the mount test)
are stopped when the test ends. Every loop and wait is bounded.
"""

import http.client
import json
import os
import pwd
import secrets
import select
import signal
import sqlite3
import subprocess
import time
import urllib.parse

import harness
from harness import (Failure, Headers, Response, db_run, encode_body, expect,
                     expect_equal, expect_json, expect_match, expect_problem,
                     expect_status, http_call, request_headers, test)

PROBLEM_BASE = "https://relaysync.io/problems/"
ITEM_MEMBERS = {"status", "headers", "body"}
# The answer headers an item carries over (exact spelling), when it had them.
ITEM_HEADERS = ("Location", "ETag", "Idempotent-Replayed", "Retry-After",
                "Preference-Applied")
REC_ID_RE = r"^rec_[0-9a-z]{26}$"
ULID_RE = r"^[0-9A-HJKMNP-TV-Z]{26}$"
UNKNOWN_ID = "rec_" + "0" * 26
HIGH_RATE = 1000000          # --rate-limit of the tests' orgs
MAX_ITEMS = 100              # items in one batch
MAX_DATA = 65536             # a record's data, compact bytes
MAX_ANSWER = 16 * 1024 * 1024
BIG_RECORDS = 140            # 140 x 64 KiB: one list of them is ~8.8 MiB
BIG_PER_BATCH = 14           # 14 x 64 KiB items stay under the 1 MiB body
RATE_SOURCE = "127.0.0.21"   # the rate-limit test's own source address
LOW_RATE = 2                 # requests/s (and burst) of its org
RATE_ITEMS = 10
LOCK_HOLD_MAX = 20           # seconds the lock holder holds at most
BUSY_WAIT_MIN = 1.0          # seconds a writer waits at least (5 s timeout)
MAX_PAGES = 100              # bound on every cursor walk
POLICY = {"name": "batch_wifi", "when": "size>5120", "then": "queue=wifi"}


def btest(name, last=False):
    return test("batch: " + name, last)


# --------------------------------------------------------------------------
# helpers: orgs, keys, users
# --------------------------------------------------------------------------

def cli_ok(ctx, args):
    rc, out, err = ctx.cli(args)
    expect(rc == 0, "relaysync-admin %s: exit %d: %s%s"
           % (" ".join(args), rc, out, err))
    return out.strip()


def new_key(ctx, org, role):
    email = "%s-%s@batch.example.com" % (role, secrets.token_hex(4))
    out = cli_ok(ctx, ["key", "create", "--org", org, "--email", email,
                       "--role", role, "--json"])
    try:
        return json.loads(out)
    except ValueError:
        raise Failure("key create --json: not JSON: %r" % out)


class Org:
    """A fresh org (CLI, --rate-limit RATE) with an admin key: org, uid
    (the admin's user id), tok (an access token, exchanged through
    CALL_TOKEN when given, else ctx.token_for)."""

    def __init__(self, ctx, label, rate=HIGH_RATE, call_token=None):
        self.ctx = ctx
        self.name = "batch-%s-%s" % (label, secrets.token_hex(3))
        self.org = cli_ok(ctx, ["org", "create", self.name, "--rate-limit",
                                str(rate)])
        expect_match(r"^org_\S+$", self.org, "org create output")
        key = new_key(ctx, self.org, "admin")
        self.api_key = key["api_key"]
        self.uid = key.get("user_id")
        self.tok = (call_token or ctx.token_for)(self.api_key)

    def invite_accept(self, role):
        """A user of ROLE made by invite + accept (as test_users.py
        does) -> (user id, access token)."""
        email = "%s-%s@batch.example.com" % (role, secrets.token_hex(4))
        resp = self.ctx.call("POST", "/v1/users/invite",
                             {"email": email, "role": role}, token=self.tok)
        inv = expect_json(resp, 201)
        expect_match(r"^rsi_\S+$", inv.get("invite_token"), "invite_token",
                     resp)
        resp = self.ctx.call("POST", "/v1/users/accept",
                             {"invite_token": inv["invite_token"]})
        acc = expect_json(resp, 201)
        expect_match(r"^rs_live_\S+$", acc.get("api_key"), "api_key", resp)
        expect_equal((acc.get("user") or {}).get("role"), role, "user.role",
                     resp)
        return acc["user"]["id"], self.ctx.token_for(acc["api_key"])


# --------------------------------------------------------------------------
# helpers: the batch
# --------------------------------------------------------------------------

def item(method, path, body=None, headers=None):
    it = {"method": method, "path": path}
    if headers is not None:
        it["headers"] = headers
    if body is not None:
        it["body"] = body
    return it


def envelope(items, atomic=None, extra=None):
    body = {"requests": items}
    if atomic is not None:
        body["atomic"] = atomic
    body.update(extra or {})
    return body


def batch(ctx, tok, items, atomic=None, key=None, raw=None):
    """POST /v1/batch with ITEMS (or the bytes/object RAW as the body)."""
    body = raw if raw is not None else envelope(items, atomic)
    headers = {"Idempotency-Key": key} if key is not None else None
    return ctx.call("POST", "/v1/batch", body, headers, tok)


def uniq(label="t"):
    return "%s-%s" % (label, secrets.token_hex(6))


def new_record(rec_type, i=0, **members):
    body = {"title": "Batch %d" % i, "type": rec_type, "data": {"i": i}}
    body.update(members)
    return body


def check_item(r, i, resp, failed_batch=False):
    """R (responses[I] of RESP) has the documented shape: exactly status,
    headers, body (and in a 409 batch_failed `failed`: true exactly when
    status >= 400); headers only the listed names, string values; body an
    object or null, a problem object when status >= 400."""
    what = "responses[%d]" % i
    expect(isinstance(r, dict), "%s: expected an object, got %r"
           % (what, r), resp)
    names = set(r)
    allowed = ITEM_MEMBERS | ({"failed"} if failed_batch else set())
    expect(ITEM_MEMBERS <= names <= allowed,
           "%s members: expected %s, got %s"
           % (what, sorted(allowed), sorted(names)), resp)
    status = r["status"]
    expect(type(status) is int and 100 <= status <= 599,
           "%s.status: expected an HTTP status, got %r" % (what, status),
           resp)
    headers = r["headers"]
    expect(isinstance(headers, dict), "%s.headers: expected an object, "
           "got %r" % (what, headers), resp)
    for name, value in headers.items():
        expect(name in ITEM_HEADERS, "%s.headers: %r is not one of %s"
               % (what, name, ", ".join(ITEM_HEADERS)), resp)
        expect(isinstance(value, str), "%s.headers.%s: expected a string, "
               "got %r" % (what, name, value), resp)
    body = r["body"]
    expect(body is None or isinstance(body, dict),
           "%s.body: expected an object or null, got %r" % (what, body),
           resp)
    if status >= 400:
        expect(isinstance(body, dict) and body.get("status") == status
               and isinstance(body.get("code"), str),
               "%s: a %d needs a problem body with status and code, got %r"
               % (what, status, body), resp)
    if failed_batch:
        if status >= 400:
            expect(r.get("failed") is True, "%s (status %d): expected "
                   "failed: true, got %r" % (what, status, r.get("failed")),
                   resp)
        else:
            expect(r.get("failed", False) is False, "%s (status %d): "
                   "failed: expected absent or false, got %r"
                   % (what, status, r.get("failed")), resp)


def expect_answers(resp, n):
    """RESP is the 200 answer of a batch of N items -> its responses,
    each of the documented shape."""
    body = expect_json(resp, 200)
    expect(isinstance(body, dict) and isinstance(body.get("responses"),
                                                 list),
           "batch answer: expected an object with a responses array", resp)
    got = body["responses"]
    expect_equal(len(got), n, "number of responses", resp)
    for i, r in enumerate(got):
        check_item(r, i, resp)
    return got


def expect_failed_batch(resp, n):
    """RESP is 409 batch_failed (an atomic batch with a failing item)
    -> its responses (N, each with failed: true when >= 400)."""
    body = expect_problem(resp, 409, "batch_failed")
    got = body.get("responses")
    expect(isinstance(got, list), "batch_failed: member responses should "
           "be an array, got %r" % (got,), resp)
    expect_equal(len(got), n, "number of responses", resp)
    for i, r in enumerate(got):
        check_item(r, i, resp, failed_batch=True)
    return got


def expect_item(r, status, what, resp):
    """R answered STATUS -> its body."""
    expect_equal(r.get("status"), status, what + ": status", resp)
    return r.get("body")


def expect_item_problem(r, status, code, path, what, resp):
    """R answered STATUS with an RFC 9457 problem CODE whose instance is
    PATH (the item's path without its query), as alone -> the body."""
    body = expect_item(r, status, what, resp)
    expect(isinstance(body, dict), "%s: problem body expected, got %r"
           % (what, body), resp)
    expect_equal(body.get("code"), code, what + ": problem code", resp)
    expect_equal(body.get("type"), PROBLEM_BASE + code, what + ": type",
                 resp)
    expect_equal(body.get("status"), status, what + ": problem status", resp)
    for member in ("title", "detail", "request_id"):
        value = body.get(member)
        expect(isinstance(value, str) and value, "%s: problem %s: expected "
               "a non-empty string, got %r" % (what, member, value), resp)
    expect_equal(body.get("instance"), path.split("?")[0],
                 what + ": problem instance (the item's path)", resp)
    return body


def expect_created(r, what, resp, mount=""):
    """R is a 201 record with Location MOUNT/v1/records/<id> and ETag
    "<causal>" -> the record."""
    rec = expect_item(r, 201, what, resp)
    expect(isinstance(rec, dict), what + ": record expected", resp)
    expect_match(REC_ID_RE, rec.get("id"), what + ": id", resp)
    expect_match(ULID_RE, rec.get("causal"), what + ": causal", resp)
    expect_equal(r["headers"].get("Location"),
                 mount + "/v1/records/" + rec["id"], what + ": Location",
                 resp)
    expect_equal(r["headers"].get("ETag"), '"%s"' % rec["causal"],
                 what + ": ETag", resp)
    return rec


def not_replayed(r, what, resp):
    expect(r["headers"].get("Idempotent-Replayed") != "true",
           what + ": a first answer says Idempotent-Replayed: true", resp)


def field_errors(body):
    errors = body.get("errors")
    if not isinstance(errors, list):
        return []
    return [e.get("field") for e in errors if isinstance(e, dict)]


def expect_batch_invalid(resp, fields):
    """400 invalid_request for the whole batch whose errors name one of
    FIELDS (a field or a tuple of acceptable ones), each with a message."""
    body = expect_problem(resp, 400, "invalid_request")
    errors = body.get("errors")
    expect(isinstance(errors, list) and errors,
           "errors: expected a non-empty array", resp)
    for e in errors:
        expect(isinstance(e, dict) and isinstance(e.get("field"), str)
               and isinstance(e.get("message"), str) and e["message"],
               "errors entry without field and message: %r" % (e,), resp)
    if isinstance(fields, str):
        fields = (fields,)
    got = field_errors(body)
    expect(any(f in got for f in fields), "errors should name %s, named %r"
           % (" or ".join(repr(f) for f in fields), got), resp)
    expect("responses" not in body, "a malformed batch ran items "
           "(member responses)", resp)
    return body


def alone_view(resp):
    """What an item shows of RESP (the same request sent alone): status,
    the carried-over headers, the JSON body (None when empty), without
    the members that differ per request (request_id; a list's
    sync_token, which carries its issue time)."""
    headers = {}
    for name in ITEM_HEADERS:
        if name in resp.headers:
            headers[name] = resp.headers.get(name)
    body = resp.json() if resp.body else None
    return resp.status, headers, strip_volatile(body)


def item_view(r):
    return r["status"], dict(r["headers"]), strip_volatile(r["body"])


def strip_volatile(body):
    if isinstance(body, dict):
        body = {k: v for k, v in body.items()
                if k not in ("request_id", "sync_token")}
    return body


def expect_as_alone(ctx, tok, it, r, what, resp, detail=True):
    """The item IT (which must change nothing) sent alone answers what R
    shows: same status, carried-over headers and body. DETAIL=False
    leaves a problem's detail out (a request the web server itself
    refuses alone, e.g. lighttpd's 400 for a GET with a body, words it
    its own way; status, code and instance must still agree)."""
    alone = ctx.call(it["method"], it["path"], it.get("body"),
                     it.get("headers"), tok)
    want, got = alone_view(alone), item_view(r)
    if not detail:
        want, got = [(s, h, {k: v for k, v in (b or {}).items()
                             if k != "detail"}) for s, h, b in (want, got)]
    expect_equal(got, want,
                 "%s (%s %s) vs the same request alone (status, headers, "
                 "body)" % (what, it["method"], it["path"]), resp)


# --------------------------------------------------------------------------
# helpers: what an org holds
# --------------------------------------------------------------------------

def walk(ctx, tok, path, params):
    """Every item of a cursor list at PATH with PARAMS -> (items, last
    page's body)."""
    items, cursor = [], None
    for _ in range(MAX_PAGES):
        q = dict(params)
        if cursor:
            q["cursor"] = cursor
        resp = ctx.call("GET", path + "?" + urllib.parse.urlencode(q),
                        token=tok)
        body = expect_json(resp, 200)
        expect(isinstance(body, dict) and isinstance(body.get("data"), list),
               "%s: data should be an array" % path, resp)
        items += body["data"]
        if not body.get("has_more"):
            return items, body
        cursor = body.get("next_cursor")
        expect(isinstance(cursor, str) and cursor,
               "has_more without next_cursor", resp)
    raise Failure("%s did not end within %d pages" % (path, MAX_PAGES))


def records(ctx, tok, **params):
    """Every record the org lists (deleted ones too unless PARAMS says
    otherwise)."""
    params.setdefault("limit", "200")
    if "type" not in params and "since" not in params:
        params.setdefault("include_deleted", "true")
    return walk(ctx, tok, "/v1/records", params)[0]


def audit(ctx, tok):
    """Every audit entry of the org (GET /v1/audit as its admin)."""
    return walk(ctx, tok, "/v1/audit", {"limit": "200"})[0]


def event_count(ctx, org):
    rows, _ = db_run(ctx, "SELECT count(*) FROM events WHERE org_id = ?",
                     [org])
    return rows[0][0]


def event_types(ctx, record_id):
    rows, _ = db_run(ctx, "SELECT type FROM events WHERE record_id = ? "
                     "ORDER BY " + harness.dialect("rowid", "seq"),
                     [record_id])
    return [r[0] for r in rows]


def create_alone(ctx, tok, body, headers=None):
    resp = ctx.call("POST", "/v1/records", body, headers, tok)
    rec = expect_json(resp, 201)
    expect_match(REC_ID_RE, rec.get("id"), "id", resp)
    return rec, resp


def patch_alone(ctx, tok, rec, members):
    body = dict(members, causal=rec["causal"])
    resp = ctx.call("PATCH", "/v1/records/" + rec["id"], body, token=tok)
    return expect_json(resp, 200)


def get_record(ctx, tok, rec_id):
    return ctx.call("GET", "/v1/records/" + rec_id, token=tok)


def ids(items):
    return [x.get("id") for x in items]


# ==========================================================================
# idempotency: item keys and the batch's key
# ==========================================================================

@btest("100 creates with item keys: 201 each with Location and ETag; the "
       "batch key replays the whole answer byte for byte; without it every "
       "item replays (Idempotent-Replayed in its headers); an item's "
       "request alone replays; the record count stays 100")
def hundred_creates(ctx):
    o = Org(ctx, "hundred")
    rec_type, tag = uniq("h"), secrets.token_hex(4)
    items = [item("POST", "/v1/records", new_record(rec_type, i),
                  {"Idempotency-Key": "item-%s-%03d" % (tag, i)})
             for i in range(MAX_ITEMS)]
    data = json.dumps(envelope(items)).encode("utf-8")
    bkey = "batch-" + tag

    first = batch(ctx, o.tok, None, key=bkey, raw=data)
    got = expect_answers(first, MAX_ITEMS)
    expect(first.headers.get("Idempotent-Replayed") != "true",
           "the first batch answer says Idempotent-Replayed: true", first)
    recs = []
    for i, r in enumerate(got):
        what = "responses[%d]" % i
        rec = expect_created(r, what, first)
        not_replayed(r, what, first)
        expect_equal((rec.get("type"), rec.get("data")),
                     (rec_type, {"i": i}), what + ": type and data", first)
        recs.append(rec)
    expect_equal(len(set(ids(recs))), MAX_ITEMS, "distinct record ids")
    listed = records(ctx, o.tok, type=rec_type)
    expect_equal(sorted(ids(listed)), sorted(ids(recs)),
                 "the org's records of the type after the batch")
    one = get_record(ctx, o.tok, recs[57]["id"])
    expect_equal(expect_json(one, 200), recs[57], "GET of item 57's record",
                 one)

    # The whole batch again under its key: the stored answer, nothing runs.
    again = batch(ctx, o.tok, None, key=bkey, raw=data)
    expect_status(again, 200)
    expect_equal(again.headers.get("Idempotent-Replayed"), "true",
                 "the batch's Idempotent-Replayed", again)
    expect(again.body == first.body, "the replayed batch body is not byte "
           "for byte the first (%d vs %d bytes)"
           % (len(again.body), len(first.body)), again)
    expect_equal(len(records(ctx, o.tok, type=rec_type)), MAX_ITEMS,
                 "records of the type after the batch replay")

    # The same items without the batch key: each item replays its own.
    third = batch(ctx, o.tok, items)
    got3 = expect_answers(third, MAX_ITEMS)
    expect(third.headers.get("Idempotent-Replayed") != "true",
           "a batch without a key says Idempotent-Replayed: true", third)
    for i, r in enumerate(got3):
        what = "item replay responses[%d]" % i
        expect_equal(r["status"], 201, what + ": status", third)
        expect_equal(r["headers"].get("Idempotent-Replayed"), "true",
                     what + ": Idempotent-Replayed", third)
        for name in ("Location", "ETag"):
            expect_equal(r["headers"].get(name), got[i]["headers"].get(name),
                         what + ": " + name + " (the first answer's)", third)
        expect_equal(r["body"], got[i]["body"], what + ": body", third)

    # One item's request alone, with its key: the item's answer.
    it = items[37]
    alone = ctx.call("POST", "/v1/records", it["body"], it["headers"], o.tok)
    expect_equal(expect_json(alone, 201), got[37]["body"],
                 "item 37 sent alone: body", alone)
    expect_equal(alone.headers.get("Idempotent-Replayed"), "true",
                 "item 37 sent alone: Idempotent-Replayed", alone)
    for name in ("Location", "ETag"):
        expect_equal(alone.headers.get(name), got[37]["headers"].get(name),
                     "item 37 sent alone: " + name, alone)
    expect_equal(len(records(ctx, o.tok, type=rec_type)), MAX_ITEMS,
                 "records of the type after every replay")


@btest("an item's Idempotency-Key used alone first replays in a batch; the "
       "same key with another body is 422 for that item; the header name "
       "is case-insensitive")
def item_key_from_alone(ctx):
    o = Org(ctx, "ikey")
    rec_type, key = uniq("k"), uniq("key")
    body = new_record(rec_type, 1)
    rec, first = create_alone(ctx, o.tok, body, {"Idempotency-Key": key})
    other_key = uniq("key")
    items = [item("POST", "/v1/records", body, {"idempotency-key": key}),
             item("POST", "/v1/records", dict(body, title="Another"),
                  {"Idempotency-Key": key}),
             item("POST", "/v1/records", new_record(rec_type, 2),
                  {"IDEMPOTENCY-KEY": other_key})]
    resp = batch(ctx, o.tok, items)
    got = expect_answers(resp, 3)
    expect_equal(expect_item(got[0], 201, "responses[0]", resp), rec,
                 "responses[0]: the alone answer's body", resp)
    expect_equal(got[0]["headers"].get("Idempotent-Replayed"), "true",
                 "responses[0]: Idempotent-Replayed", resp)
    for name in ("Location", "ETag"):
        expect_equal(got[0]["headers"].get(name), first.headers.get(name),
                     "responses[0]: " + name, resp)
    expect_item_problem(got[1], 422, "idempotency_key_reused",
                        "/v1/records", "responses[1]", resp)
    expect(not {"Location", "ETag"} & set(got[1]["headers"]),
           "responses[1]: a 422 carries Location or ETag", resp)
    made = expect_created(got[2], "responses[2]", resp)
    not_replayed(got[2], "responses[2]", resp)
    listed = records(ctx, o.tok, type=rec_type)
    expect_equal(sorted(ids(listed)), sorted([rec["id"], made["id"]]),
                 "records of the type")
    # The key an upper-case name carried is the item's: alone it replays.
    alone = ctx.call("POST", "/v1/records", new_record(rec_type, 2),
                     {"Idempotency-Key": other_key}, o.tok)
    expect_equal(expect_json(alone, 201), made, "item 2 alone: body", alone)
    expect_equal(alone.headers.get("Idempotent-Replayed"), "true",
                 "item 2 alone: Idempotent-Replayed", alone)


@btest("a batch Idempotency-Key reused with another body is 422 "
       "idempotency_key_reused and runs nothing")
def batch_key_reused(ctx):
    o = Org(ctx, "bkey")
    rec_type, key = uniq("b"), uniq("bkey")
    resp = batch(ctx, o.tok, [item("POST", "/v1/records",
                                   new_record(rec_type, 1))], key=key)
    expect_created(expect_answers(resp, 1)[0], "responses[0]", resp)
    resp = batch(ctx, o.tok, [item("POST", "/v1/records",
                                   new_record(rec_type, 2))], key=key)
    expect_problem(resp, 422, "idempotency_key_reused")
    expect(resp.headers.get("Idempotent-Replayed") != "true",
           "the 422 says Idempotent-Replayed: true", resp)
    listed = records(ctx, o.tok, type=rec_type)
    expect_equal([r["data"] for r in listed], [{"i": 1}],
                 "records of the type (the second batch ran nothing)")


# ==========================================================================
# independent and atomic
# ==========================================================================

@btest("independent: a failing item changes nothing, the others commit "
       "(GET, list, one audit entry and one event each)")
def independent_mixed(ctx):
    o = Org(ctx, "indep")
    rec_type = uniq("i")
    audit_before = audit(ctx, o.tok)
    events_before = event_count(ctx, o.org)
    items = [item("POST", "/v1/records", new_record(rec_type, 0)),
             item("POST", "/v1/records",
                  new_record(rec_type, 1, status="bogus")),
             item("POST", "/v1/records", new_record(rec_type, 2),
                  {"Content-Type": "application/json"})]
    resp = batch(ctx, o.tok, items)
    got = expect_answers(resp, 3)
    a = expect_created(got[0], "responses[0]", resp)
    bad = expect_item_problem(got[1], 400, "invalid_request", "/v1/records",
                              "responses[1]", resp)
    expect("status" in field_errors(bad), "responses[1]: errors should "
           "name status, named %r" % field_errors(bad), resp)
    expect_equal(got[1]["headers"], {}, "responses[1]: headers", resp)
    c = expect_created(got[2], "responses[2]", resp)
    for rec in (a, c):
        g = get_record(ctx, o.tok, rec["id"])
        expect_equal(expect_json(g, 200), rec, "GET of a committed item", g)
        expect_equal(g.headers.get("ETag"), '"%s"' % rec["causal"], "ETag",
                     g)
    listed = records(ctx, o.tok, type=rec_type)
    expect_equal(sorted(ids(listed)), sorted([a["id"], c["id"]]),
                 "records of the type (the failing item made none)")
    new = audit(ctx, o.tok)[len(audit_before):]
    expect_equal([(e["action"], e["target"]) for e in new],
                 [("record.create", a["id"]), ("record.create", c["id"])],
                 "the audit entries the batch added (action, target)")
    for e in new:
        expect_equal(e["actor"], {"type": "user", "id": o.uid},
                     "audit entry %s actor" % e["seq"])
    expect_equal(event_count(ctx, o.org) - events_before, 2,
                 "events the batch added")
    for rec in (a, c):
        expect_equal(event_types(ctx, rec["id"]), ["record.created"],
                     "events of %s" % rec["id"])


@btest("atomic: failing items make it 409 batch_failed with every item's "
       "answer (failed: true on the failing ones); nothing stays: records, "
       "audit entries, events, conflicts, item and batch keys")
def atomic_failed(ctx):
    o = Org(ctx, "atomic")
    rec_type = uniq("a")
    r0, _ = create_alone(ctx, o.tok, new_record(rec_type, 0))
    r1 = patch_alone(ctx, o.tok, r0, {"title": "current"})
    audit_before = audit(ctx, o.tok)
    events_before = event_count(ctx, o.org)
    records_before = records(ctx, o.tok)
    ikey, bkey = uniq("ik"), uniq("bk")
    first_body = new_record(rec_type, 1)
    items = [item("POST", "/v1/records", first_body,
                  {"Idempotency-Key": ikey}),
             item("PATCH", "/v1/records/" + r0["id"],
                  {"title": "stale", "causal": r0["causal"]}),
             item("POST", "/v1/records",
                  new_record(rec_type, 2, status="bogus")),
             item("POST", "/v1/records", new_record(rec_type, 3))]

    for attempt in ("first", "again under the same key"):
        resp = batch(ctx, o.tok, items, atomic=True, key=bkey)
        got = expect_failed_batch(resp, 4)
        expect(resp.headers.get("Idempotent-Replayed") != "true",
               "%s: a 409 says Idempotent-Replayed: true" % attempt, resp)
        would = expect_created(got[0], attempt + ": responses[0]", resp)
        not_replayed(got[0], attempt + ": responses[0]", resp)
        cur = expect_item_problem(got[1], 409, "causal_conflict",
                                  "/v1/records/" + r0["id"],
                                  attempt + ": responses[1]", resp)
        expect_equal(cur.get("current"), r1, attempt + ": responses[1]: "
                     "member current", resp)
        expect_item_problem(got[2], 400, "invalid_request", "/v1/records",
                            attempt + ": responses[2]", resp)
        expect_created(got[3], attempt + ": responses[3]", resp)
        expect_equal(records(ctx, o.tok), records_before,
                     attempt + ": the org's records after the failed batch")
        g = get_record(ctx, o.tok, would["id"])
        expect_problem(g, 404, "not_found")
        expect_equal(audit(ctx, o.tok), audit_before,
                     attempt + ": the org's audit entries")
        expect_equal(event_count(ctx, o.org), events_before,
                     attempt + ": the org's events (no record.created, no "
                     "record.conflict)")
        expect_equal(event_types(ctx, r0["id"]),
                     ["record.created", "record.updated"],
                     attempt + ": events of the conflicting record")

    # Nothing was kept under the item's key: alone it creates (no replay).
    alone = ctx.call("POST", "/v1/records", first_body,
                     {"Idempotency-Key": ikey}, o.tok)
    made = expect_json(alone, 201)
    expect(alone.headers.get("Idempotent-Replayed") != "true",
           "the item key of a failed atomic batch replayed alone", alone)
    expect(made.get("id") != would["id"], "alone got the rolled-back id",
           alone)
    # Nor under the batch's key: another body under it runs (not 422).
    resp = batch(ctx, o.tok, [item("POST", "/v1/records",
                                   new_record(rec_type, 4))],
                 atomic=True, key=bkey)
    expect_created(expect_answers(resp, 1)[0], "fixed batch: responses[0]",
                   resp)
    expect(resp.headers.get("Idempotent-Replayed") != "true",
           "the fixed batch was answered as a replay", resp)
    expect_equal(len(records(ctx, o.tok, type=rec_type)), 3,
                 "records of the type: r0, the alone create, the fixed "
                 "batch's")


@btest("atomic with every item succeeding is 200 and commits them all "
       "(records, policies, users; later items see earlier ones)")
def atomic_ok(ctx):
    o = Org(ctx, "atomok")
    rec_type = uniq("o")
    email = "inv-%s@batch.example.com" % secrets.token_hex(4)
    items = [item("POST", "/v1/records", new_record(rec_type, 0)),
             item("POST", "/v1/policies", POLICY),
             item("GET", "/v1/policies/" + POLICY["name"]),
             item("POST", "/v1/policies/evaluate",
                  {"record": {"title": "t", "type": "photo",
                              "data": {"blob": "x" * 6000}}}),
             item("POST", "/v1/users/invite", {"email": email,
                                               "role": "operator"}),
             item("GET", "/v1/users?limit=200")]
    resp = batch(ctx, o.tok, items, atomic=True)
    got = expect_answers(resp, len(items))
    rec = expect_created(got[0], "responses[0]", resp)
    pol = expect_item(got[1], 201, "responses[1]", resp)
    expect_equal(got[1]["headers"].get("Location"),
                 "/v1/policies/" + POLICY["name"], "responses[1]: Location",
                 resp)
    expect_equal(expect_item(got[2], 200, "responses[2]", resp), pol,
                 "responses[2]: GET of the policy item 1 made", resp)
    ev = expect_item(got[3], 200, "responses[3]", resp)
    expect_equal(ev.get("queue"), "wifi", "responses[3]: the evaluated "
                 "queue (item 1's policy)", resp)
    inv = expect_item(got[4], 201, "responses[4]", resp)
    expect_match(r"^rsi_\S+$", inv.get("invite_token"),
                 "responses[4]: invite_token", resp)
    listed = expect_item(got[5], 200, "responses[5]", resp)
    expect(email in [u.get("email") for u in listed.get("data", [])],
           "responses[5]: the list does not show item 4's invitee", resp)
    expect_equal(expect_json(get_record(ctx, o.tok, rec["id"])), rec,
                 "the record after the batch")
    g = ctx.call("GET", "/v1/policies/" + POLICY["name"], token=o.tok)
    expect_equal(expect_json(g, 200), pol, "the policy after the batch", g)
    actions = [e["action"] for e in audit(ctx, o.tok)]
    for action in ("record.create", "policy.put", "user.invite"):
        expect_equal(actions.count(action), 1, "audit entries " + action)


# ==========================================================================
# roles, causal checks, items answered as alone
# ==========================================================================

@btest("a viewer's batch: GET items 200, write items 403 forbidden each; "
       "nothing is written")
def viewer_items(ctx):
    o = Org(ctx, "viewer")
    rec_type = uniq("v")
    rec, _ = create_alone(ctx, o.tok, new_record(rec_type, 0))
    _, vtok = o.invite_accept("viewer")
    audit_before = audit(ctx, o.tok)
    path = "/v1/records/" + rec["id"]
    items = [item("GET", "/v1/records?limit=5&type=" + rec_type),
             item("POST", "/v1/records", new_record(rec_type, 1)),
             item("GET", path),
             item("PATCH", path, {"title": "no", "causal": rec["causal"]}),
             item("DELETE", path),
             item("POST", "/v1/policies", POLICY),
             item("POST", "/v1/users/invite",
                  {"email": "x-%s@batch.example.com" % secrets.token_hex(3),
                   "role": "viewer"})]
    resp = batch(ctx, vtok, items)
    got = expect_answers(resp, len(items))
    listed = expect_item(got[0], 200, "responses[0]", resp)
    expect_equal(ids(listed.get("data") or []), [rec["id"]],
                 "responses[0]: listed ids", resp)
    expect_equal(expect_item(got[2], 200, "responses[2]", resp), rec,
                 "responses[2]: the record", resp)
    expect_equal(got[2]["headers"], {"ETag": '"%s"' % rec["causal"]},
                 "responses[2]: headers", resp)
    for i in (1, 3, 4, 5, 6):
        expect_item_problem(got[i], 403, "forbidden", items[i]["path"],
                            "responses[%d]" % i, resp)
        expect_as_alone(ctx, vtok, items[i], got[i], "responses[%d]" % i,
                        resp)
    expect_equal(records(ctx, o.tok), [rec], "the org's records")
    expect_equal(audit(ctx, o.tok)[len(audit_before):], [],
                 "audit entries added by the viewer's batch")


@btest("per item If-Match: a stale one is 412, a stale body causal 409 "
       "(each with current), the current one applies; items run in order; "
       "each conflict is written as alone (event, audit entry)")
def causal_items(ctx):
    o = Org(ctx, "causal")
    r0, _ = create_alone(ctx, o.tok, new_record(uniq("c"), 0))
    r1 = patch_alone(ctx, o.tok, r0, {"title": "one"})
    audit_before = audit(ctx, o.tok)
    path = "/v1/records/" + r0["id"]
    items = [item("PATCH", path, {"title": "stale header"},
                  {"If-Match": '"%s"' % r0["causal"]}),
             item("PATCH", path, {"title": "stale body",
                                  "causal": r0["causal"]}),
             item("PATCH", path, {"title": "two"},
                  {"if-match": '"%s"' % r1["causal"]}),
             item("GET", path),
             item("DELETE", path, headers={"If-Match": '"%s"'
                                           % r1["causal"]})]
    resp = batch(ctx, o.tok, items)
    got = expect_answers(resp, len(items))
    p = expect_item_problem(got[0], 412, "causal_conflict", path,
                            "responses[0]", resp)
    expect_equal(p.get("current"), r1, "responses[0]: current", resp)
    p = expect_item_problem(got[1], 409, "causal_conflict", path,
                            "responses[1]", resp)
    expect_equal(p.get("current"), r1, "responses[1]: current", resp)
    r2 = expect_item(got[2], 200, "responses[2]", resp)
    expect_equal((r2.get("title"), r2.get("version")), ("two", 3),
                 "responses[2]: title and version", resp)
    expect_equal(got[2]["headers"].get("ETag"), '"%s"' % r2.get("causal"),
                 "responses[2]: ETag", resp)
    expect_equal(expect_item(got[3], 200, "responses[3]", resp), r2,
                 "responses[3]: GET after item 2", resp)
    # item 4's If-Match was current before item 2 ran: stale by now
    p = expect_item_problem(got[4], 409, "causal_conflict", path,
                            "responses[4]", resp)
    expect_equal(p.get("current"), r2, "responses[4]: current", resp)
    g = get_record(ctx, o.tok, r0["id"])
    expect_equal(expect_json(g, 200), r2, "the record after the batch", g)
    expect_equal(event_types(ctx, r0["id"]),
                 ["record.created", "record.updated", "record.conflict",
                  "record.conflict", "record.updated", "record.conflict"],
                 "events of the record")
    new = audit(ctx, o.tok)[len(audit_before):]
    expect_equal([(e["action"], e["target"]) for e in new],
                 [("record.conflict", r0["id"]),
                  ("record.conflict", r0["id"]),
                  ("record.update", r0["id"]),
                  ("record.conflict", r0["id"])],
                 "audit entries the batch added")


@btest("a lost causal check in a batch keeps its conflict (its id in the "
       "item's 409), which later items read and resolve; in an atomic batch "
       "that fails, the conflict is rolled back with the rest")
def conflict_items(ctx):
    o = Org(ctx, "conflict")
    r0, _ = create_alone(ctx, o.tok, new_record(uniq("k"), 0))
    r1 = patch_alone(ctx, o.tok, r0, {"title": "one"})
    path = "/v1/records/" + r0["id"]
    resp = batch(ctx, o.tok, [item("PATCH", path, {"title": "stale",
                                                   "causal": r0["causal"]})])
    got = expect_answers(resp, 1)
    p = expect_item_problem(got[0], 409, "causal_conflict", path,
                            "responses[0]", resp)
    cid = p.get("conflict_id")
    expect_match(r"^cfl_[0-9a-z]{26}$", cid, "responses[0]: conflict_id",
                 resp)
    g = ctx.call("GET", "/v1/conflicts/" + cid, token=o.tok)
    c = expect_json(g, 200)
    expect_equal((c.get("status"), c.get("record_id"), c.get("base_causal"),
                  c.get("attempted")),
                 ("open", r0["id"], r0["causal"], {"title": "stale"}),
                 "the conflict read alone", g)
    cpath = "/v1/conflicts/" + cid
    resp = batch(ctx, o.tok, [item("GET", cpath),
                              item("POST", cpath + "/resolve",
                                   {"take": "attempted"}),
                              item("GET", path),
                              item("GET", "/v1/conflicts?record_id="
                                   + r0["id"])])
    got = expect_answers(resp, 4)
    expect_equal(expect_item(got[0], 200, "responses[0]", resp)
                 .get("status"), "open", "responses[0]: status", resp)
    res = expect_item(got[1], 200, "responses[1]", resp)
    expect_equal(((res.get("conflict") or {}).get("status"),
                  (res.get("record") or {}).get("title"),
                  (res.get("record") or {}).get("version")),
                 ("resolved", "stale", r1["version"] + 1),
                 "responses[1]: the conflict resolved, the record written",
                 resp)
    rec = expect_item(got[2], 200, "responses[2]", resp)
    expect_equal(rec, res.get("record"), "responses[2]: the record after "
                 "the resolve", resp)
    lst = expect_item(got[3], 200, "responses[3]", resp)
    expect_equal([(x.get("id"), x.get("status")) for x in
                  lst.get("data") or []], [(cid, "resolved")],
                 "responses[3]: the record's conflicts", resp)
    # atomic and failing: the new conflict goes with everything else
    resp = batch(ctx, o.tok, [item("PATCH", path, {"title": "stale again",
                                                   "causal": r0["causal"]}),
                              item("POST", "/v1/records", {"title": "x"})],
                 atomic=True)
    got = expect_failed_batch(resp, 2)
    p = expect_item_problem(got[0], 409, "causal_conflict", path,
                            "responses[0]", resp)
    gone = p.get("conflict_id")
    expect_match(r"^cfl_[0-9a-z]{26}$", gone, "responses[0]: conflict_id",
                 resp)
    g = ctx.call("GET", "/v1/conflicts/" + gone, token=o.tok)
    expect_problem(g, 404, "not_found")
    g = ctx.call("GET", "/v1/conflicts?record_id=" + r0["id"], token=o.tok)
    expect_equal([x.get("id") for x in expect_json(g, 200).get("data")],
                 [cid], "the record's conflicts after the atomic batch", g)


@btest("items answer errors as alone: unknown and malformed record ids 404, "
       "a deleted record 410 with its ETag, an unknown policy 404, an "
       "unknown query parameter 400, a DELETE 204 with body null")
def errors_as_alone(ctx):
    o = Org(ctx, "alone")
    rec, _ = create_alone(ctx, o.tok, new_record(uniq("e"), 0))
    resp = ctx.call("DELETE", "/v1/records/" + rec["id"], token=o.tok)
    tomb = expect_json(resp, 200)
    resp = ctx.call("POST", "/v1/policies", POLICY, token=o.tok)
    expect_json(resp, 201)
    items = [item("GET", "/v1/records/" + UNKNOWN_ID),
             item("GET", "/v1/records/rec_1011"),
             item("GET", "/v1/records/" + rec["id"]),
             item("GET", "/v1/policies/no_such_policy"),
             item("GET", "/v1/records?foo=1"),
             item("PATCH", "/v1/records/" + UNKNOWN_ID,
                  {"title": "x", "causal": "0" * 26}),
             item("DELETE", "/v1/policies/" + POLICY["name"]),
             item("DELETE", "/v1/policies/" + POLICY["name"])]
    resp = batch(ctx, o.tok, items)
    got = expect_answers(resp, len(items))
    expect_item_problem(got[0], 404, "not_found", items[0]["path"],
                        "responses[0]", resp)
    expect_item_problem(got[1], 404, "not_found", items[1]["path"],
                        "responses[1]", resp)
    gone = expect_item_problem(got[2], 410, "record_deleted",
                               items[2]["path"], "responses[2]", resp)
    expect_equal(gone.get("record"), tomb, "responses[2]: member record",
                 resp)
    expect_equal(got[2]["headers"], {"ETag": '"%s"' % tomb["causal"]},
                 "responses[2]: headers", resp)
    expect_item_problem(got[3], 404, "not_found", items[3]["path"],
                        "responses[3]", resp)
    bad = expect_item_problem(got[4], 400, "invalid_request",
                              items[4]["path"], "responses[4]", resp)
    expect("foo" in field_errors(bad) or "foo" in (bad.get("detail") or ""),
           "responses[4]: the 400 should name foo", resp)
    expect_item_problem(got[5], 404, "not_found", items[5]["path"],
                        "responses[5]", resp)
    expect_equal(expect_item(got[6], 204, "responses[6]", resp), None,
                 "responses[6]: body of a 204", resp)
    expect_equal(got[6]["headers"], {}, "responses[6]: headers", resp)
    expect_item_problem(got[7], 404, "not_found", items[7]["path"],
                        "responses[7]", resp)
    for i in (0, 1, 2, 3, 4, 5, 7):
        expect_as_alone(ctx, o.tok, items[i], got[i], "responses[%d]" % i,
                        resp)


@btest("a body where the route takes none, or none where it takes one, is "
       "answered for that item as alone (400); the other items run")
def body_mismatch(ctx):
    o = Org(ctx, "bodies")
    rec_type = uniq("m")
    rec, _ = create_alone(ctx, o.tok, new_record(rec_type, 0))
    items = [item("POST", "/v1/records"),
             item("GET", "/v1/records?type=" + rec_type, {}),
             item("DELETE", "/v1/records/" + rec["id"], {"x": 1}),
             item("PATCH", "/v1/records/" + rec["id"]),
             item("POST", "/v1/records", new_record(rec_type, 1))]
    resp = batch(ctx, o.tok, items)
    got = expect_answers(resp, len(items))
    for i in range(4):
        expect_item_problem(got[i], 400, "invalid_request", items[i]["path"],
                            "responses[%d]" % i, resp)
        # alone, the web server may refuse a GET with a body itself
        expect_as_alone(ctx, o.tok, items[i], got[i], "responses[%d]" % i,
                        resp, detail=items[i]["method"] != "GET")
    made = expect_created(got[4], "responses[4]", resp)
    g = get_record(ctx, o.tok, rec["id"])
    expect_equal(expect_json(g, 200), rec, "the record items 2 and 3 named",
                 g)
    expect_equal(sorted(ids(records(ctx, o.tok))),
                 sorted([rec["id"], made["id"]]), "the org's records")


@btest("item headers: Idempotency-Key, If-Match, Prefer and a JSON "
       "Content-Type are taken in any case; no other name")
def item_headers_allowed(ctx):
    o = Org(ctx, "hdrs")
    rec_type = uniq("h")
    items = [item("POST", "/v1/records", new_record(rec_type, 0),
                  {"content-type": "application/json; charset=utf-8",
                   "prefer": "return=representation",
                   "Idempotency-Key": uniq("k")}),
             item("POST", "/v1/records", new_record(rec_type, 1),
                  {"CONTENT-TYPE": "application/json"})]
    resp = batch(ctx, o.tok, items)
    got = expect_answers(resp, 2)
    for i in range(2):
        expect_created(got[i], "responses[%d]" % i, resp)
    expect_equal(len(records(ctx, o.tok, type=rec_type)), 2,
                 "records of the type")


# ==========================================================================
# malformed batches: refused whole, nothing runs
# ==========================================================================

def malformed_cases(ok_item):
    """(label, body, field(s)) of batches refused whole; OK_ITEM (a valid
    create with an Idempotency-Key) comes first wherever items are."""
    def two(second):
        return envelope([ok_item, second])
    rec = "/v1/records"
    return [
        ("unknown path", two(item("GET", "/v1/nowhere")),
         "requests[1].path"),
        ("path without /v1", two(item("GET", "records")),
         "requests[1].path"),
        ("PUT (not a batch method)", two(item("PUT", rec, {"title": "x"})),
         "requests[1].method"),
        ("a method the path does not serve",
         two(item("DELETE", rec)), ("requests[1].method",
                                    "requests[1].path")),
        ("a method that is not a string", two({"method": 1, "path": rec}),
         "requests[1].method"),
        ("no path", two({"method": "GET"}), "requests[1].path"),
        ("batch in a batch",
         two(item("POST", "/v1/batch", envelope([ok_item]))),
         "requests[1].path"),
        ("auth/token in a batch",
         two(item("POST", "/v1/auth/token", {"api_key": "rs_live_x"})),
         "requests[1].path"),
        ("users/accept in a batch",
         two(item("POST", "/v1/users/accept", {"invite_token": "rsi_x"})),
         "requests[1].path"),
        ("health in a batch", two(item("GET", "/v1/health")),
         "requests[1].path"),
        ("me in a batch", two(item("GET", "/v1/me")), "requests[1].path"),
        ("audit in a batch", two(item("GET", "/v1/audit")),
         "requests[1].path"),
        ("openapi in a batch", two(item("GET", "/v1/openapi.json")),
         "requests[1].path"),
        ("a header not allowed",
         two(item("GET", rec, headers={"X-Custom": "1"})),
         "requests[1].headers"),
        ("Authorization as an item header",
         two(item("GET", rec, headers={"Authorization": "Bearer x"})),
         "requests[1].headers"),
        ("a header value that is not a string",
         two(item("GET", rec + "/" + UNKNOWN_ID, headers={"If-Match": 5})),
         "requests[1].headers"),
        ("a Content-Type that is not JSON",
         two(item("POST", rec, {"title": "x", "type": "y"},
                  {"Content-Type": "text/plain"})),
         "requests[1].headers"),
        ("headers not an object", two(item("GET", rec, headers=["x"])),
         "requests[1].headers"),
        ("a body that is not an object",
         two(item("POST", rec, [1])), "requests[1].body"),
        ("a string body", two(item("POST", rec, "title=x")),
         "requests[1].body"),
        ("an unknown item member",
         two(dict(item("POST", rec), bodyy={"title": "x"})),
         "requests[1].bodyy"),
        ("an item that is not an object", two("GET /v1/records"),
         "requests[1]"),
        ("an unknown envelope member",
         dict(envelope([ok_item]), atomc=True), "atomc"),
        ("atomic not a boolean", envelope([ok_item], atomic="yes"),
         "atomic"),
        ("0 items", envelope([]), "requests"),
        ("101 items", envelope([ok_item] + [item("GET", rec)] * MAX_ITEMS),
         "requests"),
        ("requests not an array", {"requests": {"0": ok_item}}, "requests"),
        ("no requests", {"atomic": False}, "requests"),
    ]


@btest("malformed batches are 400 invalid_request naming the field "
       "(requests[i].path/.method/.headers/.body, unknown members, 0 or 101 "
       "items, not an array, batch or auth/token inside) and run nothing")
def malformed(ctx):
    o = Org(ctx, "malformed")
    rec_type, ikey = uniq("x"), uniq("ik")
    ok_body = new_record(rec_type, 0)
    ok_item = item("POST", "/v1/records", ok_body, {"Idempotency-Key": ikey})
    audit_before = audit(ctx, o.tok)
    events_before = event_count(ctx, o.org)
    for label, body, fields in malformed_cases(ok_item):
        resp = batch(ctx, o.tok, None, raw=body)
        try:
            expect_batch_invalid(resp, fields)
        except Failure as e:
            raise Failure("%s: %s" % (label, e), e.response)
    for label, raw, codes in (
            ("a JSON array", b"[]", ("invalid_request",)),
            ("a JSON string", b"\"requests\"", ("invalid_request",)),
            ("not JSON", b"{\"requests\": [", ("invalid_json",
                                                "invalid_request"))):
        resp = batch(ctx, o.tok, None, raw=raw)
        try:
            code = resp.json().get("code") if resp.body else None
            expect(code in codes, "code: expected one of %r, got %r"
                   % (codes, code), resp)
            expect_problem(resp, 400, code)
        except Failure as e:
            raise Failure("%s: %s" % (label, e), e.response)
    expect_equal(records(ctx, o.tok), [], "the org's records")
    expect_equal(audit(ctx, o.tok), audit_before, "the org's audit entries")
    expect_equal(event_count(ctx, o.org), events_before, "the org's events")
    # item 0's key was never stored: alone it creates, no replay
    alone = ctx.call("POST", "/v1/records", ok_body,
                     {"Idempotency-Key": ikey}, o.tok)
    expect_json(alone, 201)
    expect(alone.headers.get("Idempotent-Replayed") != "true",
           "the key of an item of a refused batch replayed", alone)


@btest("POST /v1/batch without a bearer token is 401 and runs nothing")
def unauthenticated(ctx):
    o = Org(ctx, "noauth")
    rec_type = uniq("u")
    resp = batch(ctx, None, [item("POST", "/v1/records",
                                  new_record(rec_type, 0))])
    expect_problem(resp, 401, "unauthorized")
    expect_equal(records(ctx, o.tok), [], "the org's records")
    resp = ctx.call("GET", "/v1/batch", token=o.tok)
    expect_problem(resp, 405, "method_not_allowed")
    expect("POST" in (resp.headers.get("Allow") or ""),
           "GET /v1/batch: Allow should name POST", resp)


# ==========================================================================
# the per-item rate limit
# ==========================================================================

def call_from(ctx, source, method, path, body=None, headers=None,
              token=None):
    """ctx.call, from the local address SOURCE."""
    data = encode_body(body)
    hdrs = request_headers(data, headers, token)
    conn = http.client.HTTPConnection("127.0.0.1", ctx.port,
                                      timeout=harness.HTTP_TIMEOUT,
                                      source_address=(source, 0))
    try:
        conn.request(method, path, body=data, headers=hdrs)
        raw = conn.getresponse()
        payload = raw.read()
        return Response(method, path, hdrs, data, raw.status,
                        Headers(raw.getheaders()), payload)
    except (OSError, http.client.HTTPException) as e:
        stub = Response(method, path, hdrs, data, None, Headers([]), b"")
        raise Failure("no HTTP answer from %s: %s: %s"
                      % (source, type(e).__name__, e), stub)
    finally:
        conn.close()


@btest("per item rate limit: the batch takes one token and each item one; "
       "items beyond the org's bucket are 429 rate_limited with Retry-After")
def rate_limited_items(ctx):
    def exchange(key):
        resp = call_from(ctx, RATE_SOURCE, "POST", "/v1/auth/token",
                         {"api_key": key})
        return expect_json(resp, 200)["access_token"]
    # The exchange is unauthenticated: the bucket (burst LOW_RATE) is full.
    o = Org(ctx, "rate", rate=LOW_RATE, call_token=exchange)
    path = "/v1/records?limit=1"
    items = [item("GET", path) for _ in range(RATE_ITEMS)]
    t0 = time.monotonic()
    resp = call_from(ctx, RATE_SOURCE, "POST", "/v1/batch", envelope(items),
                     token=o.tok)
    elapsed = time.monotonic() - t0
    got = expect_answers(resp, RATE_ITEMS)
    ok = [i for i, r in enumerate(got) if r["status"] == 200]
    limited = [i for i, r in enumerate(got) if r["status"] == 429]
    expect_equal(sorted(ok + limited), list(range(RATE_ITEMS)),
                 "every item is 200 or 429 (statuses %r)"
                 % [r["status"] for r in got], resp)
    # the batch took 1 of the LOW_RATE tokens: item 0 found one left
    expect(0 in ok, "responses[0]: the bucket was full, one token was left "
           "after the batch's own", resp)
    # a bucket of rate R lets at most R + R*T through in T seconds; the
    # batch itself was one of them
    bound = LOW_RATE + LOW_RATE * elapsed - 1
    expect(len(ok) <= bound, "%d items admitted in %.2f s: at most %.2f "
           "(burst %d + refill, less the batch's own token)"
           % (len(ok), elapsed, bound, LOW_RATE), resp)
    expect(bound < RATE_ITEMS, "the batch took %.2f s: too slow to see the "
           "bucket run out" % elapsed, resp)
    expect(limited, "no item was limited", resp)
    for i in limited:
        what = "responses[%d]" % i
        expect_item_problem(got[i], 429, "rate_limited", path, what, resp)
        ra = got[i]["headers"].get("Retry-After")
        expect_match(r"^[1-9]\d*$", ra, what + ": Retry-After", resp)


# ==========================================================================
# the mount point
# ==========================================================================

def mount_checks(call, tok, mount):
    """Through CALL(method, url_path, body, headers, token) of a server
    with RelaySync under MOUNT: item Locations carry the mount, and item
    paths with the mount (as a Location) or without it both work."""
    rec_type = uniq("mnt")
    url = mount + "/v1/batch"
    resp = call("POST", url, envelope([
        item("POST", "/v1/records", new_record(rec_type, 0)),
        item("POST", mount + "/v1/records", new_record(rec_type, 1)),
        item("POST", "/v1/policies", POLICY)]), None, tok)
    got = expect_answers(resp, 3)
    a = expect_created(got[0], "responses[0]", resp, mount)
    b = expect_created(got[1], "responses[1]", resp, mount)
    expect_equal(expect_item(got[2], 201, "responses[2]", resp).get("name"),
                 POLICY["name"], "responses[2]: name", resp)
    expect_equal(got[2]["headers"].get("Location"),
                 mount + "/v1/policies/" + POLICY["name"],
                 "responses[2]: Location", resp)
    loc = got[0]["headers"]["Location"]
    g = call("GET", loc, None, None, tok)
    expect_equal(expect_json(g, 200), a, "GET of item 0's Location", g)
    resp = call("POST", url, envelope([
        item("GET", loc),
        item("GET", "/v1/records/" + b["id"]),
        item("PATCH", got[1]["headers"]["Location"],
             {"title": "moved", "causal": b["causal"]}),
        item("GET", mount + "/v1/records/" + UNKNOWN_ID)]), None, tok)
    got = expect_answers(resp, 4)
    expect_equal(expect_item(got[0], 200, "GET item 0", resp), a,
                 "GET by the Location (mount included)", resp)
    expect_equal(expect_item(got[1], 200, "GET item 1", resp), b,
                 "GET by the path without the mount", resp)
    moved = expect_item(got[2], 200, "PATCH item 2", resp)
    expect_equal(moved.get("title"), "moved", "PATCH by Location: title",
                 resp)
    expect_item_problem(got[3], 404, "not_found",
                        mount + "/v1/records/" + UNKNOWN_ID, "GET item 3",
                        resp)
    resp = call("POST", url, envelope([
        item("GET", "/~crew/elsewhere/v1/records")]), None, tok)
    expect_batch_invalid(resp, "requests[0].path")


@btest("under a mount: item Locations carry the mount, and item paths with "
       "the mount (a Location) or without it are both accepted")
def mount_locations(ctx):
    if ctx.server_name == "lighttpd":
        import hosting_lighttpd
        site = hosting_lighttpd.Site(ctx, "fastcgi", hosting_lighttpd.MOUNT)
        try:
            tok = site.token()
            mount_checks(lambda m, p, b, h, t: site.call_raw(m, p, b, h, t),
                         tok, site.mount)
        finally:
            site.stop()
        return
    from hosting_apache import HostedApache
    h = HostedApache(ctx, "fcgid")
    try:
        site = h.add_site("relaysync", rate=HIGH_RATE)
        h.start()
        resp = site.call("POST", "/v1/auth/token", {"api_key": site.key})
        tok = expect_json(resp, 200).get("access_token")
        mount_checks(lambda m, p, b, hd, t: http_call(h.port, m, p, b, hd, t),
                     tok, site.url)
    finally:
        h.stop()


# ==========================================================================
# delta sync, the answer's bound, the write lock
# ==========================================================================

@btest("delta sync after a batch lists each record once, in its latest "
       "state, whole and paged by 1")
def delta_after_batch(ctx):
    o = Org(ctx, "delta")
    x, _ = create_alone(ctx, o.tok, new_record(uniq("d"), 0, title="X"))
    y, _ = create_alone(ctx, o.tok, new_record(uniq("d"), 1, title="Y"))
    since = walk(ctx, o.tok, "/v1/records", {"limit": "200"})[1]["sync_token"]
    items = [item("POST", "/v1/records", new_record(uniq("d"), 2,
                                                    title="A")),
             item("PATCH", "/v1/records/" + x["id"],
                  {"title": "X2", "causal": x["causal"]}),
             item("POST", "/v1/records", new_record(uniq("d"), 3,
                                                    title="B")),
             item("DELETE", "/v1/records/" + y["id"]),
             item("GET", "/v1/records/" + x["id"])]
    resp = batch(ctx, o.tok, items)
    got = expect_answers(resp, len(items))
    a = expect_created(got[0], "responses[0]", resp)
    x2 = expect_item(got[1], 200, "responses[1]", resp)
    b = expect_created(got[2], "responses[2]", resp)
    y2 = expect_item(got[3], 200, "responses[3]", resp)
    expect_equal(expect_item(got[4], 200, "responses[4]", resp), x2,
                 "responses[4]: GET after the PATCH", resp)
    want = [a, x2, b, y2]
    whole, last = walk(ctx, o.tok, "/v1/records", {"since": since,
                                                   "limit": "200"})
    expect_equal(ids(whole), ids(want), "since: ids in change order")
    expect_equal(whole, want, "since: the records' latest states")
    paged, last1 = walk(ctx, o.tok, "/v1/records", {"since": since,
                                                    "limit": "1"})
    expect_equal(ids(paged), ids(want), "since, limit=1: ids")
    for tok_from in (last, last1):
        rest, _ = walk(ctx, o.tok, "/v1/records",
                       {"since": tok_from["sync_token"]})
        expect_equal(rest, [], "since the last page's sync_token")


@btest("items whose answers would take the batch past 16 MiB are 413 "
       "payload_too_large; the items before and after are answered")
def answer_bound(ctx):
    o = Org(ctx, "big")
    rec_type = uniq("big")
    payload = {"k": "a" * (MAX_DATA - 8)}
    expect_equal(len(json.dumps(payload, separators=(",", ":"))), MAX_DATA,
                 "test's own data size")
    made = 0
    for start in range(0, BIG_RECORDS, BIG_PER_BATCH):
        n = min(BIG_PER_BATCH, BIG_RECORDS - start)
        resp = batch(ctx, o.tok, [
            item("POST", "/v1/records",
                 new_record(rec_type, start + i, data=payload))
            for i in range(n)])
        for i, r in enumerate(expect_answers(resp, n)):
            expect_item(r, 201, "setup batch responses[%d]" % i, resp)
        made += n
    big = "/v1/records?limit=200&type=" + rec_type
    small = "/v1/records?limit=1&type=" + rec_type
    resp = batch(ctx, o.tok, [item("GET", big), item("GET", big),
                              item("GET", small)])
    expect(len(resp.body) <= MAX_ANSWER + 65536,
           "the answer is %d bytes, past 16 MiB" % len(resp.body), resp)
    got = expect_answers(resp, 3)
    first = expect_item(got[0], 200, "responses[0]", resp)
    expect_equal(len(first.get("data") or []), made, "responses[0]: records",
                 resp)
    half = len(json.dumps(first, separators=(",", ":")))
    expect(half <= MAX_ANSWER < 2 * half, "test bug: one list is %d bytes; "
           "two must pass 16 MiB and one must not" % half)
    expect_item_problem(got[1], 413, "payload_too_large", big,
                        "responses[1]", resp)
    last = expect_item(got[2], 200, "responses[2]", resp)
    expect_equal(len(last.get("data") or []), 1, "responses[2]: records",
                 resp)


def hold_write_lock(ctx, seconds, org):
    """A child process (as the database's user) that takes SQLite's write
    lock on the run's database (BEGIN IMMEDIATE) and holds it until
    released or SECONDS pass -> (pid, release fd). A Failure when it could
    not take the lock within 15 s. On PostgreSQL, where writers of
    different orgs do not wait for each other, the lock ORG's writers
    take turns on (db_pg.c: a transaction advisory lock keyed by the
    org's id), in a transaction held open the same way."""
    ws = ctx.workspace
    ready_r, ready_w = os.pipe()
    stop_r, stop_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(ready_r)
            os.close(stop_w)
            if ws.run_as:
                pw = pwd.getpwnam(ws.run_as)
                os.setgroups([])
                os.setgid(pw.pw_gid)
                os.setuid(pw.pw_uid)
            if harness.is_pg():
                con = harness.pg_connect(ws.db)
                cur = con.cursor()
                cur.execute("BEGIN")
                cur.execute("SELECT pg_advisory_xact_lock("
                            "hashtextextended(%s, 0))", (org,))
            else:
                con = sqlite3.connect(ws.db, timeout=10,
                                      isolation_level=None)
                con.execute("PRAGMA busy_timeout = 10000")
                cur = con.execute("BEGIN IMMEDIATE")
            os.write(ready_w, b"L")
            select.select([stop_r], [], [], seconds)
            cur.execute("ROLLBACK")
            con.close()
        except BaseException as e:  # noqa: reported to the parent
            try:
                os.write(ready_w, ("E%s: %s" % (type(e).__name__, e))
                         .encode("utf-8", "replace")[:400])
            except OSError:
                pass
        os._exit(0)
    os.close(ready_w)
    os.close(stop_r)
    try:
        ready = select.select([ready_r], [], [], 15)[0]
        msg = os.read(ready_r, 400) if ready else b""
    finally:
        os.close(ready_r)
    if msg != b"L":
        release_lock(pid, stop_w)
        raise Failure("could not take the write lock: %r"
                      % (msg.decode("utf-8", "replace") or "timed out"))
    return pid, stop_w


def release_lock(pid, stop_w):
    """Ends the holder (bounded: SIGKILL after 10 s)."""
    try:
        os.close(stop_w)
    except OSError:
        pass
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


@btest("the write lock not had within the busy timeout: 503 "
       "service_unavailable with Retry-After for the whole batch; nothing "
       "ran, and the same batch then runs")
def busy_lock(ctx):
    o = Org(ctx, "busy")
    rec_type, ikey = uniq("busy"), uniq("ik")
    items = [item("POST", "/v1/records", new_record(rec_type, 0),
                  {"Idempotency-Key": ikey}),
             item("POST", "/v1/records", new_record(rec_type, 1))]
    # a read first, so the token's user was touched (no write at auth)
    expect_equal(records(ctx, o.tok), [], "the org's records")
    pid, stop_w = hold_write_lock(ctx, LOCK_HOLD_MAX, o.org)
    try:
        t0 = time.monotonic()
        resp = batch(ctx, o.tok, items)
        waited = time.monotonic() - t0
    finally:
        release_lock(pid, stop_w)
    expect_problem(resp, 503, "service_unavailable")
    # it waited for the lock (the busy timeout is 5 s) before giving up
    expect(waited >= BUSY_WAIT_MIN, "the 503 came after %.2f s: the batch "
           "did not wait for the write lock" % waited, resp)
    expect_match(r"^[1-9]\d*$", resp.headers.get("Retry-After"),
                 "Retry-After", resp)
    expect("responses" not in resp.json(), "a 503 batch lists item answers",
           resp)
    expect_equal(records(ctx, o.tok), [], "the org's records after the 503")
    resp = batch(ctx, o.tok, items)
    got = expect_answers(resp, 2)
    for i in range(2):
        expect_created(got[i], "retry responses[%d]" % i, resp)
        not_replayed(got[i], "retry responses[%d]" % i, resp)


# --------------------------------------------------------------------------
# the pool's memory under batches
# --------------------------------------------------------------------------

HEAP_WARM = 3          # batches per pool process before the trace
HEAP_TRACED = 6        # batches answered under the trace
STRACE_WAIT = 20       # seconds strace may take to attach, and to leave


def strace_attached(proc, n):
    """Wait until strace (PROC) says on its standard error that it
    attached to N processes (each one's threads count too: at least N
    lines)."""
    deadline = time.monotonic() + STRACE_WAIT
    seen = 0
    buf = b""
    while seen < n and time.monotonic() < deadline:
        r, _, _ = select.select([proc.stderr], [], [], 0.5)
        if r:
            chunk = os.read(proc.stderr.fileno(), 4096)
            if not chunk:
                break
            buf += chunk
            seen = buf.count(b" attached")
    expect(seen >= n, "strace attached to %d of %d processes in %d s: %r"
           % (seen, n, STRACE_WAIT, buf[-400:]))


def sanitized(pid):
    """Whether process PID runs AddressSanitizer's allocator (libasan
    mapped), which keeps and returns memory its own way, not glibc's."""
    try:
        with open("/proc/%d/maps" % pid) as f:
            return "libasan" in f.read()
    except OSError:
        return False


def heap_returns(path):
    """From strace's output at PATH: (brk calls that lowered a process's
    break, munmap calls, write calls: the answers to the web server)."""
    lowered = unmapped = writes = 0
    top = {}
    with open(path) as f:
        for line in f:
            parts = line.split(None, 1)
            if len(parts) < 2:
                continue
            pid, call = parts
            if call.startswith("munmap("):
                unmapped += 1
            elif call.startswith("write("):
                writes += 1
            elif call.startswith("brk(") and "= 0x" in call:
                now = int(call.rsplit("= 0x", 1)[1].split()[0], 16)
                if pid in top and now < top[pid]:
                    lowered += 1
                top[pid] = now
    return lowered, unmapped, writes


@btest("a warmed pool answers batches of 100 creates without giving memory "
       "back to the kernel (strace of every pool process: no break lowered, "
       "no munmap): SQLite frees each item's savepoint journal, 120 KiB, at "
       "its release, and handing the heap's top back flushes every core's "
       "TLB each time")
def heap_kept(ctx):
    o = Org(ctx, "heap")
    rec_type = uniq("heap")

    def one_batch(what):
        items = [item("POST", "/v1/records", new_record(rec_type, i),
                      {"Idempotency-Key": uniq("hk")})
                 for i in range(MAX_ITEMS)]
        resp = batch(ctx, o.tok, items)
        got = expect_answers(resp, MAX_ITEMS)
        for i, r in enumerate(got):
            expect_created(r, "%s responses[%d]" % (what, i), resp)

    pids = harness.session_pids(ctx.server.proc.pid, fcgi_only=True)
    expect(pids, "no relaysync.fcgi process in the server's session")
    if sanitized(pids[0]):
        raise harness.NotApplicable("not applicable to programs built with "
                                    "AddressSanitizer: its allocator, not "
                                    "glibc's, decides what goes back")
    for n in range(HEAP_WARM * len(pids)):
        one_batch("warm-up batch %d" % n)
    pids = harness.session_pids(ctx.server.proc.pid, fcgi_only=True)
    out = ctx.workspace.path("heap-%s.strace" % secrets.token_hex(3))
    args = ["strace", "-f", "-e", "trace=brk,munmap,write",
            "-o", out]
    for pid in pids:
        args += ["-p", str(pid)]
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        strace_attached(proc, len(pids))
        for n in range(HEAP_TRACED):
            one_batch("traced batch %d" % n)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=STRACE_WAIT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    lowered, unmapped, writes = heap_returns(out)
    expect(writes > 0, "the traced processes answered nothing: the "
           "batches went elsewhere (%d pool processes traced)" % len(pids))
    expect(lowered == 0 and unmapped == 0, "%d batches of %d creates: the "
           "pool lowered its heap's break %d times and unmapped memory %d "
           "times" % (HEAP_TRACED, MAX_ITEMS, lowered, unmapped))
