"""Conflicts as resources (CONTRACT.md section 3, issue 15): a lost causal
check (a stale PATCH body causal: 409, a stale If-Match: 412, a stale
DELETE: 409) keeps a conflict whose id the answer, the record.conflict
event (delivered to a webhook receiver by the real worker) and the audit
entry name; GET /v1/conflicts (filters, cursor), GET /v1/conflicts/{id},
POST /v1/conflicts/{id}/resolve (take current, take attempted, a record
given; closed, roles, tenancy, body checks, a record deleted meanwhile,
Idempotency-Key), and the supersede rule.

Every test name starts with "conflicts: " so that `-k conflicts` selects
them. Each test works in an org of its own (lists are per org), made with
the CLI, with users of the roles it needs. Events other than the delivered
record.conflict are read from the outbox table, as test_records.py does.
"""

import json
import re
import secrets
import urllib.parse

from harness import (Failure, db_run, dialect, expect, expect_equal,
                     expect_json, expect_match, expect_problem, test)
from receiver import Receiver

TIME_RE = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"
CFL_RE = r"^cfl_[0-9a-z]{26}$"
ULID_RE = r"^[0-9A-HJKMNP-TV-Z]{26}$"
CONFLICT_MEMBERS = ["attempted", "base_causal", "created_at", "created_by",
                    "current", "id", "record_id", "resolution", "resolved_at",
                    "resolved_by", "status"]
EVENT_MEMBERS = ["conflict_id", "data", "id", "org_id", "timestamp", "type"]
MAX_PAGES = 30
DELIVERY_WAIT = 10       # seconds for the worker's deliveries to arrive


def ctest(name, last=False):
    return test("conflicts: " + name, last)


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def cli_ok(ctx, args):
    rc, out, err = ctx.cli(args)
    expect(rc == 0, "relaysync-admin %s: exit %d, stdout %r, stderr %r"
           % (" ".join(args), rc, out, err))
    return out.strip()


class Org:
    """A fresh org with an admin (tok, me); users of other roles on
    demand (user(role) -> (token, user id))."""

    def __init__(self, ctx, label="cfl"):
        self.ctx = ctx
        self.id = cli_ok(ctx, ["org", "create", "%s-%s"
                               % (label, secrets.token_hex(3))])
        self.tok, self.me = self.user("admin")

    def user(self, role):
        key = json.loads(cli_ok(self.ctx, [
            "key", "create", "--org", self.id, "--email",
            "%s-%s@example.com" % (role, secrets.token_hex(4)), "--role",
            role, "--json"]))["api_key"]
        tok = self.ctx.token_for(key)
        me = expect_json(self.call("GET", "/v1/me", tok=tok))["user_id"]
        return tok, me

    def call(self, method, path, body=None, headers=None, tok=None):
        return self.ctx.call(method, path, body, headers, tok or self.tok)

    def create(self, tok=None, **members):
        body = {"title": "Pressure check", "type": "cfl"}
        body.update(members)
        return expect_json(self.call("POST", "/v1/records", body, tok=tok),
                           201)

    def patch(self, rec, members, tok=None, headers=None, causal=True):
        body = dict(members)
        if causal:
            body["causal"] = rec["causal"]
        return self.call("PATCH", "/v1/records/" + rec["id"], body, headers,
                         tok)

    def patch_ok(self, rec, members, tok=None):
        return expect_json(self.patch(rec, members, tok), 200)

    def get_record(self, rec_id):
        resp = self.call("GET", "/v1/records/" + rec_id)
        if resp.status == 410:
            return expect_problem(resp, 410, "record_deleted")["record"]
        return expect_json(resp, 200)

    def conflict(self, cid, tok=None):
        resp = self.call("GET", "/v1/conflicts/" + cid, tok=tok)
        return expect_conflict(expect_json(resp, 200), resp)

    def resolve(self, cid, body, tok=None, headers=None):
        return self.call("POST", "/v1/conflicts/%s/resolve" % cid, body,
                         headers, tok)

    def audit(self, target):
        resp = self.call("GET", "/v1/audit?" + urllib.parse.urlencode(
            {"target": target, "limit": 200}))
        return expect_json(resp, 200)["data"]


def stale(o, members=None, tok=None, header=False, key=None):
    """A record changed after it was read, then a PATCH of MEMBERS with the
    causal read first (If-Match when HEADER) -> (record as first read,
    record as it is, problem body of the 409/412)."""
    rec = o.create()
    cur = o.patch_ok(rec, {"title": "first"})
    headers = {"If-Match": '"%s"' % rec["causal"]} if header else {}
    if key:
        headers["Idempotency-Key"] = key
    resp = o.patch(rec, members or {"title": "second"}, tok, headers,
                   causal=not header)
    body = expect_problem(resp, 412 if header else 409, "causal_conflict")
    expect_match(CFL_RE, body.get("conflict_id"), "conflict_id", resp)
    expect_equal(body.get("current"), cur, "member current", resp)
    return rec, cur, body


def expect_conflict(c, resp=None, what="conflict"):
    expect(isinstance(c, dict), "%s is not an object: %r" % (what, c), resp)
    expect_equal(sorted(c), CONFLICT_MEMBERS, what + " members", resp)
    expect_match(CFL_RE, c["id"], what + ".id", resp)
    expect_match(ULID_RE, c["base_causal"], what + ".base_causal", resp)
    expect(isinstance(c["attempted"], dict), what + ".attempted", resp)
    expect(isinstance(c["current"], dict), what + ".current", resp)
    expect(c["status"] in ("open", "resolved", "superseded"),
           what + ".status", resp)
    expect_match(TIME_RE, c["created_at"], what + ".created_at", resp)
    if c["status"] == "open":
        expect_equal((c["resolved_at"], c["resolved_by"], c["resolution"]),
                     (None, None, None), what + " resolved_*", resp)
    else:
        expect_match(TIME_RE, c["resolved_at"], what + ".resolved_at", resp)
        expect_match(r"^usr_\S+$", c["resolved_by"], what + ".resolved_by",
                     resp)
    return c


def conflicts_page(o, tok=None, **params):
    path = "/v1/conflicts"
    if params:
        path += "?" + urllib.parse.urlencode(params)
    return o.call("GET", path, tok=tok)


def walk(o, **params):
    """Every conflict the list gives with PARAMS, following the cursor
    -> (items, pages)."""
    items, cursor, pages = [], None, 0
    for _ in range(MAX_PAGES):
        q = dict(params)
        if cursor:
            q["cursor"] = cursor
        resp = conflicts_page(o, **q)
        body = expect_json(resp, 200)
        expect_equal(sorted(body), ["data", "has_more", "next_cursor"],
                     "list members", resp)
        for i, c in enumerate(body["data"]):
            expect_conflict(c, resp, "data[%d]" % i)
        items += body["data"]
        pages += 1
        if not body["has_more"]:
            expect_equal(body["next_cursor"], None, "next_cursor", resp)
            return items, pages
        cursor = body["next_cursor"]
        expect(isinstance(cursor, str) and cursor, "next_cursor", resp)
    raise Failure("GET /v1/conflicts: still has_more after %d pages"
                  % MAX_PAGES)


def events_of(ctx, record_id):
    """The outbox events of a record, oldest first: [(type, payload)]."""
    rows, _ = db_run(ctx, "SELECT type, payload FROM events WHERE "
                     "record_id = ? ORDER BY " + dialect("rowid", "seq"),
                     [record_id])
    return [(t, json.loads(p)) for t, p in rows]


def conflict_count(ctx, org):
    rows, _ = db_run(ctx, "SELECT count(*) FROM conflicts WHERE org_id = ?",
                     [org])
    return rows[0][0]


def expect_resolved(resp, cid, take, me, record):
    """A resolve's 200: {conflict, record}, the conflict resolved by ME
    with TAKE, the record RECORD (when given) with its ETag -> body."""
    body = expect_json(resp, 200)
    expect_equal(sorted(body), ["conflict", "record"], "answer members",
                 resp)
    c = expect_conflict(body["conflict"], resp, "conflict")
    expect_equal((c["id"], c["status"], c["resolution"], c["resolved_by"]),
                 (cid, "resolved", take, me), "conflict closed", resp)
    if record is not None:
        expect_equal(body["record"], record, "record", resp)
    expect_equal(resp.headers.get("ETag"), '"%s"' % body["record"]["causal"],
                 "ETag", resp)
    return body


def expect_one_resolve_entry(o, cid, record_id, take, version):
    entries = o.audit(cid)
    expect_equal([(e["action"], e["target"]) for e in entries],
                 [("conflict.resolve", cid)], "audit entries of " + cid)
    expect_equal(entries[0]["detail"], {"record_id": record_id, "take": take,
                                        "version": version},
                 "conflict.resolve detail")
    expect_equal(entries[0]["actor"], {"type": "user", "id": o.me},
                 "conflict.resolve actor")


# ==========================================================================
# a lost causal check keeps a conflict
# ==========================================================================

@ctest("a stale PATCH (body causal) is 409 with conflict_id; the conflict "
       "is open and holds the attempt and the current record")
def stale_patch_body(ctx):
    o = Org(ctx)
    rec, cur, prob = stale(o, {"title": "second", "site": None,
                               "data": {"a": 1}})
    c = o.conflict(prob["conflict_id"])
    expect_equal(c["id"], prob["conflict_id"], "id")
    expect_equal(c["record_id"], rec["id"], "record_id")
    expect_equal(c["base_causal"], rec["causal"], "base_causal: the token sent")
    expect_equal(c["attempted"], {"title": "second", "site": None,
                                  "data": {"a": 1}},
                 "attempted: the body without causal")
    expect_equal(c["current"], cur, "current: the record as the 409 showed it")
    expect_equal((c["status"], c["created_by"]), ("open", o.me),
                 "status, created_by")
    expect_equal(o.get_record(rec["id"]), cur, "the record is unchanged")


@ctest("a stale If-Match PATCH is 412 with conflict_id; attempted is the body")
def stale_patch_header(ctx):
    o = Org(ctx)
    rec, cur, prob = stale(o, {"status": "synced"}, header=True)
    c = o.conflict(prob["conflict_id"])
    expect_equal((c["base_causal"], c["attempted"], c["current"]),
                 (rec["causal"], {"status": "synced"}, cur),
                 "base_causal, attempted, current")


@ctest("a stale DELETE is 409 with conflict_id; attempted is "
       "{\"deleted\": true}; the record is kept")
def stale_delete(ctx):
    o = Org(ctx)
    rec = o.create()
    cur = o.patch_ok(rec, {"title": "first"})
    resp = o.call("DELETE", "/v1/records/" + rec["id"],
                  headers={"If-Match": '"%s"' % rec["causal"]})
    prob = expect_problem(resp, 409, "causal_conflict")
    expect_match(CFL_RE, prob.get("conflict_id"), "conflict_id", resp)
    c = o.conflict(prob["conflict_id"])
    expect_equal((c["attempted"], c["current"], c["status"]),
                 ({"deleted": True}, cur, "open"), "attempted, current")
    expect_equal(o.get_record(rec["id"]), cur, "the record is kept")


@ctest("record.conflict, delivered by the worker, carries conflict_id beside "
       "data (body 409, If-Match 412, DELETE 409); the audit entry names it")
def conflict_event_delivered(ctx):
    o = Org(ctx)
    rx = Receiver()
    hook = None
    try:
        resp = o.call("POST", "/v1/webhooks", {
            "url": rx.url("/hook"), "events": ["record.conflict"]})
        hook = expect_json(resp, 201)["id"]
        _, cur1, p1 = stale(o)
        _, cur2, p2 = stale(o, header=True)
        rec3 = o.create()
        cur3 = o.patch_ok(rec3, {"title": "first"})
        p3 = expect_problem(o.call("DELETE", "/v1/records/" + rec3["id"],
                                   headers={"If-Match": '"%s"'
                                            % rec3["causal"]}),
                            409, "causal_conflict")
        rc, out, err, _ = ctx.worker(["--once"])
        expect(rc == 0, "relaysync-worker --once: exit %d: %s%s"
               % (rc, out, err))
        reqs = rx.wait_for(3, timeout=DELIVERY_WAIT)
        got = {}
        for req in reqs:
            body = req.json()
            expect_equal(sorted(body), EVENT_MEMBERS, "event members")
            expect_equal((body["type"], body["org_id"], body["id"]),
                         ("record.conflict", o.id, req.header("webhook-id")),
                         "event type, org, id")
            got[body["conflict_id"]] = body["data"]
        expect_equal(got, {p1["conflict_id"]: cur1, p2["conflict_id"]: cur2,
                           p3["conflict_id"]: cur3},
                     "each conflict's event: its id and the record")
        for prob, cur in ((p1, cur1), (p3, cur3)):
            entries = [e for e in o.audit(cur["id"])
                       if e["action"] == "record.conflict"]
            expect_equal(len(entries), 1, "record.conflict entries")
            expect_equal(entries[0]["detail"].get("conflict_id"),
                         prob["conflict_id"], "entry detail conflict_id")
    finally:
        if hook:
            o.call("DELETE", "/v1/webhooks/" + hook)
        rx.stop()


@ctest("a stale PATCH replayed under its Idempotency-Key replays the same "
       "conflict_id and keeps no second conflict")
def stale_replayed(ctx):
    o = Org(ctx)
    key = "cfl-" + secrets.token_hex(6)
    rec, _, prob = stale(o, key=key)
    again = o.patch(rec, {"title": "second"},
                    headers={"Idempotency-Key": key})
    # A replayed problem names the first request (its request_id).
    expect_equal(again.status, 409, "status", again)
    body = again.json()
    expect_equal((body.get("code"), body.get("request_id")),
                 ("causal_conflict", prob["request_id"]),
                 "the first answer's code and request_id", again)
    expect_equal(again.headers.get("Idempotent-Replayed"), "true",
                 "Idempotent-Replayed", again)
    expect_equal(body["conflict_id"], prob["conflict_id"], "conflict_id",
                 again)
    expect_equal(conflict_count(ctx, o.id), 1, "conflicts kept")


# ==========================================================================
# GET /v1/conflicts, GET /v1/conflicts/{id}
# ==========================================================================

@ctest("GET /v1/conflicts lists oldest first, filters status and record_id, "
       "pages with a cursor tied to the filters")
def list_filters(ctx):
    o = Org(ctx)
    made = []
    for _ in range(3):
        _, cur, prob = stale(o)
        made.append((prob["conflict_id"], cur["id"]))
    rec = made[0][1]
    r = o.get_record(rec)
    extra = expect_problem(o.patch({"id": rec, "causal": "0" * 26},
                                   {"title": "x"}), 409,
                           "causal_conflict")["conflict_id"]
    made.append((extra, rec))
    expect_resolved(o.resolve(made[0][0], {"take": "current"}), made[0][0],
                    "current", o.me, r)
    ids = [cid for cid, _ in made]
    items, pages = walk(o, limit=1)
    expect_equal([c["id"] for c in items], ids, "every conflict, oldest first")
    expect_equal(pages, 4, "pages of one")
    items, _ = walk(o, status="open", limit=2)
    expect_equal([c["id"] for c in items], ids[1:], "status=open")
    items, _ = walk(o, status="resolved")
    expect_equal([c["id"] for c in items], ids[:1], "status=resolved")
    items, _ = walk(o, status="superseded")
    expect_equal(items, [], "status=superseded")
    items, _ = walk(o, record_id=rec, limit=1)
    expect_equal([c["id"] for c in items], [ids[0], ids[3]], "record_id")
    items, _ = walk(o, record_id=rec, status="open")
    expect_equal([c["id"] for c in items], [ids[3]], "record_id and status")
    first = expect_json(conflicts_page(o, status="open", limit=1))
    resp = conflicts_page(o, status="resolved", limit=1,
                          cursor=first["next_cursor"])
    expect_problem(resp, 400, "invalid_cursor")
    for params, field in (({"status": "closed"}, "status"),
                          ({"record_id": "nope"}, "record_id"),
                          ({"limit": "0"}, "limit")):
        body = expect_problem(conflicts_page(o, **params), 400,
                              "invalid_request")
        expect(field in [e.get("field") for e in body.get("errors", [])],
               "errors name %s: %r" % (field, body.get("errors")))
    expect_problem(conflicts_page(o, colour="red"), 400, "invalid_request")


@ctest("GET /v1/conflicts/{id}: any role reads it; another org's, an unknown "
       "and a malformed id are 404")
def get_one(ctx):
    o = Org(ctx)
    _, _, prob = stale(o)
    cid = prob["conflict_id"]
    viewer, _ = o.user("viewer")
    expect_equal(o.conflict(cid, tok=viewer)["id"], cid, "a viewer reads it")
    expect_equal(walk(o)[0][0]["id"], cid, "listed")
    other = Org(ctx)
    expect_problem(other.call("GET", "/v1/conflicts/" + cid), 404,
                   "not_found")
    expect_equal(expect_json(conflicts_page(other))["data"], [],
                 "another org lists none of it")
    expect_problem(o.call("GET", "/v1/conflicts/cfl_" + "0" * 26), 404,
                   "not_found")
    expect_problem(o.call("GET", "/v1/conflicts/rec_" + "0" * 26), 404,
                   "not_found")


# ==========================================================================
# POST /v1/conflicts/{id}/resolve
# ==========================================================================

@ctest("resolve take current: the record is left as it is, no event, the "
       "conflict resolved, one conflict.resolve entry")
def resolve_current(ctx):
    o = Org(ctx)
    rec, cur, prob = stale(o)
    cid = prob["conflict_id"]
    before = events_of(ctx, rec["id"])
    resp = o.resolve(cid, {"take": "current"})
    expect_resolved(resp, cid, "current", o.me, cur)
    expect_equal(o.get_record(rec["id"]), cur, "the record is unchanged")
    expect_equal(events_of(ctx, rec["id"]), before, "no event")
    expect_equal(o.conflict(cid)["status"], "resolved", "GET shows it")
    expect_one_resolve_entry(o, cid, rec["id"], "current", cur["version"])
    expect_equal([e["action"] for e in o.audit(rec["id"])],
                 ["record.create", "record.update", "record.conflict"],
                 "the record's entries: no write")


@ctest("resolve take attempted (a patch): applied to the record as it is "
       "now, record.updated, a history row, one conflict.resolve entry")
def resolve_attempted_patch(ctx):
    o = Org(ctx)
    rec = o.create(data={"k": 1})
    cur = o.patch_ok(rec, {"title": "first", "data": {"j": 2}})
    prob = expect_problem(o.patch(rec, {"site": "north",
                                        "data": {"k": None, "m": 3}}),
                          409, "causal_conflict")
    cid = prob["conflict_id"]
    resp = o.resolve(cid, {"take": "attempted"})
    body = expect_resolved(resp, cid, "attempted", o.me, None)
    new = body["record"]
    expect_equal((new["title"], new["site"], new["data"], new["version"]),
                 ("first", "north", {"j": 2, "m": 3}, cur["version"] + 1),
                 "the attempt merged into the current record")
    expect(new["causal"] != cur["causal"], "a new causal token", resp)
    expect_equal(o.get_record(rec["id"]), new, "the record now")
    evs = events_of(ctx, rec["id"])
    expect_equal(evs[-1][0], "record.updated", "the last event")
    expect_equal(evs[-1][1]["data"], new, "record.updated carries it")
    expect("conflict_id" not in evs[-1][1], "no conflict_id on an update")
    expect_one_resolve_entry(o, cid, rec["id"], "attempted", new["version"])
    expect_equal([e["action"] for e in o.audit(rec["id"])],
                 ["record.create", "record.update", "record.conflict"],
                 "no record.update entry for the resolve")
    hist = expect_json(o.call("GET", "/v1/records/%s/history"
                              % rec["id"]))["data"]
    expect_equal([(h["version"], h["record"]) for h in hist[:1]],
                 [(cur["version"], cur)], "the replaced version is kept")
    expect_equal(hist[0]["changed"], ["title", "data.j"],
                 "what the replaced version changed")


@ctest("resolve take attempted (a delete): the record deleted, "
       "record.deleted; its tombstone answered")
def resolve_attempted_delete(ctx):
    o = Org(ctx)
    rec = o.create()
    cur = o.patch_ok(rec, {"title": "first"})
    prob = expect_problem(o.call("DELETE", "/v1/records/" + rec["id"],
                                 headers={"If-Match": '"%s"'
                                          % rec["causal"]}),
                          409, "causal_conflict")
    body = expect_resolved(o.resolve(prob["conflict_id"],
                                     {"take": "attempted"}),
                           prob["conflict_id"], "attempted", o.me, None)
    tomb = body["record"]
    expect_equal((tomb["deleted"], tomb["version"], tomb["title"]),
                 (True, cur["version"] + 1, "first"), "the tombstone")
    expect_problem(o.call("GET", "/v1/records/" + rec["id"]), 410,
                   "record_deleted")
    evs = events_of(ctx, rec["id"])
    expect_equal((evs[-1][0], evs[-1][1]["data"]), ("record.deleted", tomb),
                 "record.deleted carries the tombstone")
    expect_one_resolve_entry(o, prob["conflict_id"], rec["id"], "attempted",
                             tomb["version"])


@ctest("resolve with a record: that patch applied (record.updated and "
       "record.synced), one conflict.resolve entry")
def resolve_record(ctx):
    o = Org(ctx)
    rec, cur, prob = stale(o)
    cid = prob["conflict_id"]
    resp = o.resolve(cid, {"record": {"title": "merged by hand",
                                      "status": "synced"}})
    new = expect_resolved(resp, cid, "record", o.me, None)["record"]
    expect_equal((new["title"], new["status"], new["version"]),
                 ("merged by hand", "synced", cur["version"] + 1),
                 "the record given, applied")
    expect_equal(o.get_record(rec["id"]), new, "the record now")
    evs = events_of(ctx, rec["id"])
    expect_equal([t for t, _ in evs[-2:]], ["record.updated",
                                            "record.synced"], "events")
    expect(all(p["data"] == new for _, p in evs[-2:]), "events carry it")
    expect_one_resolve_entry(o, cid, rec["id"], "record", new["version"])


@ctest("resolving a closed conflict is 409 conflict_closed with member "
       "conflict; nothing is written")
def resolve_twice(ctx):
    o = Org(ctx)
    rec, cur, prob = stale(o)
    cid = prob["conflict_id"]
    first = expect_resolved(o.resolve(cid, {"take": "attempted"}), cid,
                            "attempted", o.me, None)
    for body in ({"take": "current"}, {"take": "attempted"},
                 {"record": {"title": "again"}}):
        resp = o.resolve(cid, body)
        again = expect_problem(resp, 409, "conflict_closed")
        expect_equal(again.get("conflict"), first["conflict"],
                     "member conflict", resp)
    expect_equal(o.get_record(rec["id"]), first["record"],
                 "the record as the first resolve left it")
    expect_equal(len(o.audit(cid)), 1, "one entry")


@ctest("a viewer cannot resolve (403, the conflict stays open); an operator "
       "can")
def resolve_roles(ctx):
    o = Org(ctx)
    _, _, prob = stale(o)
    cid = prob["conflict_id"]
    viewer, _ = o.user("viewer")
    expect_problem(o.resolve(cid, {"take": "current"}, tok=viewer), 403,
                   "forbidden")
    expect_equal(o.conflict(cid)["status"], "open", "still open")
    operator, op_id = o.user("operator")
    expect_resolved(o.resolve(cid, {"take": "current"}, tok=operator), cid,
                    "current", op_id, None)


@ctest("another org's conflict is 404 to resolve, and stays open")
def resolve_other_org(ctx):
    o = Org(ctx)
    _, _, prob = stale(o)
    other = Org(ctx)
    expect_problem(other.resolve(prob["conflict_id"], {"take": "current"}),
                   404, "not_found")
    expect_problem(other.resolve("cfl_" + "0" * 26, {"take": "current"}),
                   404, "not_found")
    expect_equal(o.conflict(prob["conflict_id"])["status"], "open",
                 "still open")


@ctest("resolve's body is exactly one of take (current or attempted) and "
       "record (a record patch without causal); else 400 naming the member")
def resolve_body(ctx):
    o = Org(ctx)
    rec, cur, prob = stale(o)
    cid = prob["conflict_id"]
    for body, field in (({}, "take"), ({"take": "mine"}, "take"),
                        ({"take": 1}, "take"),
                        ({"take": "current", "record": {"title": "x"}},
                         "record"),
                        ({"record": "x"}, "record"),
                        ({"record": {}}, "record"),
                        ({"record": {"causal": rec["causal"],
                                     "title": "x"}}, "record.causal"),
                        ({"record": {"title": ""}}, "record.title"),
                        ({"record": {"colour": "red"}}, "record.colour"),
                        ({"record": {"data": [1]}}, "record.data"),
                        ({"take": "current", "why": "x"}, "why")):
        resp = o.resolve(cid, body)
        got = expect_problem(resp, 400, "invalid_request")
        fields = [e.get("field") for e in got.get("errors", [])]
        expect(field in fields, "%r: errors should name %s, named %r"
               % (body, field, fields), resp)
    expect_equal(o.conflict(cid)["status"], "open", "still open")
    expect_equal(o.get_record(rec["id"]), cur, "the record is unchanged")


@ctest("resolve take attempted of a patch on a record deleted meanwhile is "
       "410 record_deleted; the conflict stays open; take current closes it")
def resolve_deleted_meanwhile(ctx):
    o = Org(ctx)
    operator, _ = o.user("operator")
    rec, cur, prob = stale(o, tok=operator)
    cid = prob["conflict_id"]
    # Deleted by another user: the operator's conflict is not superseded.
    tomb = expect_json(o.call("DELETE", "/v1/records/" + rec["id"]), 200)
    for body in ({"take": "attempted"}, {"record": {"title": "x"}}):
        resp = o.resolve(cid, body)
        got = expect_problem(resp, 410, "record_deleted")
        expect_equal(got.get("record"), tomb, "member record", resp)
    expect_equal(o.conflict(cid)["status"], "open", "still open")
    expect_resolved(o.resolve(cid, {"take": "current"}), cid, "current",
                    o.me, tomb)


@ctest("a later successful write by the same user supersedes their open "
       "conflicts on the record; another user's write does not")
def supersede(ctx):
    o = Org(ctx)
    ann, ann_id = o.user("operator")
    bob, bob_id = o.user("operator")
    rec = o.create()
    cur = o.patch_ok(rec, {"title": "first"})
    ca = expect_problem(o.patch(rec, {"title": "ann"}, ann), 409,
                        "causal_conflict")["conflict_id"]
    cb = expect_problem(o.patch(rec, {"title": "bob"}, bob), 409,
                        "causal_conflict")["conflict_id"]
    other = o.create()
    other_cur = o.patch_ok(other, {"title": "first"})
    cx = expect_problem(o.patch(other, {"title": "ann"}, ann), 409,
                        "causal_conflict")["conflict_id"]
    cur = o.patch_ok(cur, {"title": "admin's"})
    expect_equal((o.conflict(ca)["status"], o.conflict(cb)["status"]),
                 ("open", "open"), "a third user's write supersedes none")
    cur = o.patch_ok(cur, {"title": "ann's"}, ann)
    c = o.conflict(ca)
    expect_equal((c["status"], c["resolution"], c["resolved_by"]),
                 ("superseded", "superseded", ann_id),
                 "ann's write supersedes ann's conflict")
    expect_equal(c["resolved_at"], cur["updated_at"], "... at the write")
    expect_equal(o.conflict(cb)["status"], "open", "bob's stays open")
    expect_equal(o.conflict(cx)["status"], "open",
                 "ann's on another record stays open")
    expect_json(o.call("DELETE", "/v1/records/" + rec["id"], tok=bob), 200)
    c = o.conflict(cb)
    expect_equal((c["status"], c["resolved_by"]), ("superseded", bob_id),
                 "bob's delete supersedes bob's")
    expect_problem(o.resolve(cb, {"take": "current"}), 409,
                   "conflict_closed")
    expect_equal(o.get_record(other["id"]), other_cur, "other unchanged")


@ctest("a resolve supersedes the resolver's other open conflicts on the "
       "record, not the one it resolves")
def resolve_supersedes(ctx):
    o = Org(ctx)
    rec = o.create()
    o.patch_ok(rec, {"title": "first"})
    c1 = expect_problem(o.patch(rec, {"title": "one"}), 409,
                        "causal_conflict")["conflict_id"]
    c2 = expect_problem(o.patch(rec, {"site": "two"}), 409,
                        "causal_conflict")["conflict_id"]
    expect_resolved(o.resolve(c1, {"take": "attempted"}), c1, "attempted",
                    o.me, None)
    c = o.conflict(c2)
    expect_equal((c["status"], c["resolution"]), ("superseded", "superseded"),
                 "the other one")
    expect_equal(o.conflict(c1)["resolution"], "attempted",
                 "the resolved one stays resolved")


@ctest("an idempotent resolve replays its answer (Idempotent-Replayed) and "
       "writes nothing more; the key with another body is 422")
def resolve_idempotent(ctx):
    o = Org(ctx)
    rec, cur, prob = stale(o)
    cid = prob["conflict_id"]
    key = {"Idempotency-Key": "res-" + secrets.token_hex(6)}
    first = o.resolve(cid, {"record": {"title": "kept"}}, headers=key)
    body = expect_resolved(first, cid, "record", o.me, None)
    n_events = len(events_of(ctx, rec["id"]))
    again = o.resolve(cid, {"record": {"title": "kept"}}, headers=key)
    expect_equal(again.status, 200, "status", again)
    expect_equal(again.body, first.body, "the same body, byte for byte",
                 again)
    expect_equal(again.headers.get("Idempotent-Replayed"), "true",
                 "Idempotent-Replayed", again)
    expect_equal(again.headers.get("ETag"), first.headers.get("ETag"),
                 "ETag", again)
    expect_equal(o.get_record(rec["id"]), body["record"], "one write")
    expect_equal(len(events_of(ctx, rec["id"])), n_events, "no event")
    expect_equal(len(o.audit(cid)), 1, "one entry")
    expect_problem(o.resolve(cid, {"take": "current"}, headers=key), 422,
                   "idempotency_key_reused")
