"""Sync policies (CONTRACT.md section 5): create or replace by name, the
list in evaluation order with cursor paging, delete, the evaluate dry run,
400 invalid_policy with the character position, roles, and the
policy.updated / policy.deleted events with the org's policy version.

Each test works in an org of its own (policies are per org and evaluation
tries all of them). Every test name starts with "policies:" so that
`run.py -k polic` selects them.
"""

import itertools
import json
import re
import secrets
import urllib.parse

from harness import (Failure, expect, expect_equal, expect_json,
                     expect_match, expect_problem, test, db_run)

TIME_RE = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"
POLICY_MEMBERS = {"id", "name", "when", "then", "order", "enabled",
                  "created_at", "updated_at"}
EVAL_MEMBERS = {"policy", "queue", "priority", "delay", "tried"}
SEED = {"name": "defer_media", "when": "size>5120", "then": "queue=wifi"}
MAX_PAGES = 100

_serial = itertools.count(1)


def unique_email(tag):
    return "%s-%d-%s@example.com" % (tag, next(_serial), secrets.token_hex(3))


def key_for(ctx, org, role):
    rc, out, err = ctx.cli(["key", "create", "--org", org, "--email",
                            unique_email(role), "--role", role, "--json"])
    expect(rc == 0, "key create: exit %d: %s%s" % (rc, out, err))
    return ctx.token_for(json.loads(out)["api_key"])


def fresh_org(ctx):
    """A new org (CLI) with an admin: returns (org_id, admin token)."""
    rc, out, err = ctx.cli(["org", "create", "pol-%s" % secrets.token_hex(3)])
    expect(rc == 0, "org create: exit %d: %s%s" % (rc, out, err))
    org = out.strip()
    return org, key_for(ctx, org, "admin")


def expect_policy(p, resp=None, what="policy"):
    expect(isinstance(p, dict), "%s: expected an object, got %r"
           % (what, p), resp)
    expect_equal(set(p), POLICY_MEMBERS, what + " members", resp)
    expect_match(r"^pol_\S+$", p["id"], what + ".id", resp)
    expect(isinstance(p["order"], int), what + ".order is not an integer",
           resp)
    expect(isinstance(p["enabled"], bool), what + ".enabled not boolean",
           resp)
    expect_match(TIME_RE, p["created_at"], what + ".created_at", resp)
    expect_match(TIME_RE, p["updated_at"], what + ".updated_at", resp)
    return p


def put(ctx, token, body, status):
    resp = ctx.call("POST", "/v1/policies", body, token=token)
    p = expect_policy(expect_json(resp, status), resp)
    for name, value in body.items():
        expect_equal(p[name], value, name, resp)
    if status == 201:
        expect_equal(resp.headers.get("Location"),
                     "/v1/policies/" + body["name"], "Location", resp)
    return p, resp


def list_page(ctx, token, query=""):
    resp = ctx.call("GET", "/v1/policies" + query, token=token)
    body = expect_json(resp, 200)
    expect(isinstance(body.get("data"), list), "data is not a list", resp)
    expect(isinstance(body.get("has_more"), bool), "has_more", resp)
    expect_equal(body.get("next_cursor") is not None, body["has_more"],
                 "next_cursor present exactly when has_more", resp)
    for i, p in enumerate(body["data"]):
        expect_policy(p, resp, "data[%d]" % i)
    return body


def walk(ctx, token, limit):
    """Every policy name the list shows, walking pages of LIMIT."""
    names, cursor = [], None
    for _ in range(MAX_PAGES):
        q = {"limit": str(limit)}
        if cursor:
            q["cursor"] = cursor
        body = list_page(ctx, token, "?" + urllib.parse.urlencode(q))
        expect(len(body["data"]) <= limit, "page longer than limit")
        names += [p["name"] for p in body["data"]]
        if not body["has_more"]:
            return names
        cursor = body["next_cursor"]
    raise Failure("GET /v1/policies: still has_more after %d pages"
                  % MAX_PAGES)


def evaluate(ctx, token, record):
    resp = ctx.call("POST", "/v1/policies/evaluate", {"record": record},
                    token=token)
    body = expect_json(resp, 200)
    expect_equal(set(body), EVAL_MEMBERS, "evaluate members", resp)
    if body["policy"] is not None:
        expect_policy(body["policy"], resp, "policy")
    return body, resp


def rec(size=0, **kw):
    r = {"title": "t", "type": "photo"}
    if size:
        r["data"] = {"blob": "x" * size}
    r.update(kw)
    return r


def expect_invalid_policy(resp, member, pos, message):
    body = expect_problem(resp, 400, "invalid_policy")
    text = "position %d: %s" % (pos, message)
    expect_equal(body.get("detail"), "%s: %s" % (member, text), "detail",
                 resp)
    expect_equal(body.get("errors"), [{"field": member, "message": text}],
                 "errors", resp)
    return body


# --------------------------------------------------------------------------

@test("policies: the seed policy is 201, then 200 replaced, then listed")
def seed(ctx):
    org, adm = fresh_org(ctx)
    # The product page's curl: -d sends form-urlencoded, parsed as JSON.
    resp = ctx.call("POST", "/v1/policies", json.dumps(SEED).encode(),
                    headers={"Content-Type":
                             "application/x-www-form-urlencoded"},
                    token=adm)
    first = expect_policy(expect_json(resp, 201), resp)
    expect_equal(resp.headers.get("Location"), "/v1/policies/defer_media",
                 "Location", resp)
    expect_equal((first["order"], first["enabled"]), (100, True),
                 "defaults", resp)
    second, resp = put(ctx, adm, SEED, 200)
    expect("Location" not in resp.headers, "Location on a replace", resp)
    expect_equal(second["id"], first["id"], "id kept", resp)
    expect_equal(second["created_at"], first["created_at"], "created_at",
                 resp)
    body = list_page(ctx, adm)
    expect_equal([p["name"] for p in body["data"]], ["defer_media"],
                 "listed", None)
    expect_equal(body["data"][0], second, "listed as answered")
    resp = ctx.call("GET", "/v1/policies/defer_media", token=adm)
    expect_equal(expect_json(resp, 200), second, "GET by name", resp)


@test("policies: evaluate: over 5 KiB of data goes to wifi, small to default")
def evaluate_seed(ctx):
    org, adm = fresh_org(ctx)
    put(ctx, adm, SEED, 201)
    big, resp = evaluate(ctx, adm, rec(6000))
    expect_equal((big["queue"], big["priority"], big["delay"]),
                 ("wifi", 5, 0), "big record", resp)
    expect_equal(big["policy"]["name"], "defer_media", "policy", resp)
    expect_equal(big["tried"], ["defer_media"], "tried", resp)
    small, resp = evaluate(ctx, adm, rec(10))
    expect_equal(small, {"policy": None, "queue": "default", "priority": 5,
                         "delay": 0, "tried": ["defer_media"]},
                 "small record", resp)
    # size is the compact JSON length of data: {"blob":"..."} is 11 + n.
    edge, resp = evaluate(ctx, adm, rec(5120 - 11))
    expect_equal(edge["queue"], "default", "exactly 5120 bytes", resp)
    edge, resp = evaluate(ctx, adm, rec(5121 - 11))
    expect_equal(edge["queue"], "wifi", "5121 bytes", resp)
    rows, _ = db_run(ctx, "SELECT count(*) FROM records WHERE org_id = ?",
                     [org])
    expect_equal(rows[0][0], 0, "evaluate stores nothing")


@test("policies: matching policies are tried by order, then name")
def evaluate_order(ctx):
    org, adm = fresh_org(ctx)
    put(ctx, adm, {"name": "b_first", "when": "true",
                   "then": "queue=b", "order": 10}, 201)
    put(ctx, adm, {"name": "a_late", "when": "true",
                   "then": "queue=a", "order": 20}, 201)
    put(ctx, adm, {"name": "a_tie", "when": "type == photo",
                   "then": "queue=bulk;priority=2;delay=5m",
                   "order": 10}, 201)
    put(ctx, adm, {"name": "a_off", "when": "true", "then": "queue=off",
                   "order": 1, "enabled": False}, 201)
    expect_equal([p["name"] for p in list_page(ctx, adm)["data"]],
                 ["a_off", "a_tie", "b_first", "a_late"], "list order")
    got, resp = evaluate(ctx, adm, rec())
    expect_equal((got["policy"]["name"], got["queue"], got["priority"],
                  got["delay"], got["tried"]),
                 ("a_tie", "bulk", 2, 300, ["a_tie"]), "photo", resp)
    got, resp = evaluate(ctx, adm, rec(type="note"))
    expect_equal((got["policy"]["name"], got["queue"], got["priority"],
                  got["tried"]), ("b_first", "b", 5, ["a_tie", "b_first"]),
                 "note", resp)
    # Reordering by replacing: a_late now comes first.
    put(ctx, adm, {"name": "a_late", "when": "true", "then": "queue=a",
                   "order": 5}, 200)
    got, resp = evaluate(ctx, adm, rec())
    expect_equal((got["queue"], got["tried"]), ("a", ["a_late"]),
                 "after reorder", resp)


@test("policies: a bad when or then is 400 invalid_policy with the position")
def invalid_policy(ctx):
    org, adm = fresh_org(ctx)
    cases = [
        ({"when": "size>", "then": "queue=wifi"}, "when", 6,
         "expected a number or string"),
        ({"when": "size>\"abc\"", "then": "queue=wifi"}, "when", 6,
         "size compares with numbers, not strings"),
        ({"when": "type>5", "then": "queue=wifi"}, "when", 6,
         "type compares with strings, not numbers"),
        ({"when": "(size>1", "then": "queue=wifi"}, "when", 8,
         "expected \")\""),
        ({"when": "true", "then": "prio=1"}, "then", 1,
         "expected queue=, priority= or delay="),
        ({"when": "true", "then": "priority=12"}, "then", 10,
         "priority is 0 to 9"),
    ]
    for body, member, pos, message in cases:
        body = dict(body, name="bad")
        resp = ctx.call("POST", "/v1/policies", body, token=adm)
        expect_invalid_policy(resp, member, pos, message)
    # Both bad: both named.
    resp = ctx.call("POST", "/v1/policies", {"name": "bad", "when": "size>",
                                             "then": "prio=1"}, token=adm)
    body = expect_problem(resp, 400, "invalid_policy")
    expect_equal([e["field"] for e in body["errors"]], ["when", "then"],
                 "both members", resp)
    # Over 1024 characters.
    resp = ctx.call("POST", "/v1/policies", {"name": "bad",
                    "when": "size>1 or " * 103, "then": "queue=x"},
                    token=adm)
    expect_problem(resp, 400, "invalid_policy")
    # Nothing was stored.
    expect_equal(list_page(ctx, adm)["data"], [], "nothing stored")


@test("policies: bad members are 400 invalid_request naming them")
def invalid_request(ctx):
    org, adm = fresh_org(ctx)
    for body, field in [
            ({"when": "true", "then": "queue=a"}, "name"),
            ({"name": "Bad-Name", "when": "true", "then": "queue=a"}, "name"),
            ({"name": "x" * 65, "when": "true", "then": "queue=a"}, "name"),
            ({"name": "a", "then": "queue=a"}, "when"),
            ({"name": "a", "when": "true", "then": "queue=a",
              "order": "1"}, "order"),
            ({"name": "a", "when": "true", "then": "queue=a",
              "order": -1}, "order"),
            ({"name": "a", "when": "true", "then": "queue=a",
              "enabled": 1}, "enabled"),
            ({"name": "a", "when": "true", "then": "queue=a",
              "extra": 1}, "extra")]:
        resp = ctx.call("POST", "/v1/policies", body, token=adm)
        got = expect_problem(resp, 400, "invalid_request")
        expect(field in [e.get("field") for e in got.get("errors", [])],
               "errors should name %r" % field, resp)
    resp = ctx.call("POST", "/v1/policies/evaluate",
                    {"record": {"title": "t"}}, token=adm)
    got = expect_problem(resp, 400, "invalid_request")
    expect_equal([e["field"] for e in got["errors"]], ["record.type"],
                 "evaluate without a type", resp)


@test("policies: a viewer or operator may list and evaluate, not write")
def roles(ctx):
    org, adm = fresh_org(ctx)
    put(ctx, adm, SEED, 201)
    for role in ("viewer", "operator"):
        tok = key_for(ctx, org, role)
        expect_problem(ctx.call("POST", "/v1/policies", SEED, token=tok),
                       403, "forbidden")
        expect_problem(ctx.call("DELETE", "/v1/policies/defer_media",
                                token=tok), 403, "forbidden")
        expect_equal([p["name"] for p in list_page(ctx, tok)["data"]],
                     ["defer_media"], role + " lists")
        got, resp = evaluate(ctx, tok, rec(6000))
        expect_equal(got["queue"], "wifi", role + " evaluates", resp)
    expect_problem(ctx.call("GET", "/v1/policies"), 401, "unauthorized")
    # Another org sees none of them.
    other, oadm = fresh_org(ctx)
    expect_equal(list_page(ctx, oadm)["data"], [], "other org's list")
    expect_problem(ctx.call("DELETE", "/v1/policies/defer_media",
                            token=oadm), 404, "not_found")


@test("policies: DELETE is 204, then 404; events and the policy version")
def delete(ctx):
    org, adm = fresh_org(ctx)
    first, _ = put(ctx, adm, SEED, 201)
    put(ctx, adm, SEED, 200)
    resp = ctx.call("DELETE", "/v1/policies/defer_media", token=adm)
    expect_equal(resp.status, 204, "status", resp)
    expect_equal(resp.body, b"", "no body", resp)
    expect_problem(ctx.call("DELETE", "/v1/policies/defer_media",
                            token=adm), 404, "not_found")
    expect_problem(ctx.call("GET", "/v1/policies/defer_media", token=adm),
                   404, "not_found")
    expect_equal(list_page(ctx, adm)["data"], [], "deleted, not listed")
    got, resp = evaluate(ctx, adm, rec(6000))
    expect_equal((got["queue"], got["tried"]), ("default", []),
                 "deleted, not tried", resp)
    rows, _ = db_run(ctx, "SELECT type, payload FROM events "
                     "WHERE org_id = ? AND type LIKE 'policy.%' "
                     "ORDER BY seq", [org])
    expect_equal([r[0] for r in rows], ["policy.updated", "policy.updated",
                                        "policy.deleted"], "events")
    expect_equal(json.loads(rows[0][1])["data"], first, "event data")
    rows, _ = db_run(ctx, "SELECT policy_version FROM orgs WHERE id = ?",
                     [org])
    expect_equal(rows[0][0], 3, "policy version")
    # The name can be created again, as a new policy.
    again, _ = put(ctx, adm, SEED, 201)
    expect(again["id"] != first["id"], "a new id")


@test("policies: paging with limit=1 walks (order, name) and holds")
def paging(ctx):
    org, adm = fresh_org(ctx)
    for name, order in (("c", 10), ("a", 10), ("b", 20), ("d", 5)):
        put(ctx, adm, {"name": name, "when": "true", "then": "queue=q",
                       "order": order}, 201)
    expect_equal(walk(ctx, adm, 1), ["d", "a", "c", "b"], "limit=1")
    expect_equal(walk(ctx, adm, 3), ["d", "a", "c", "b"], "limit=3")
    # The page's last policy is deleted before the next page: no skip.
    body = list_page(ctx, adm, "?limit=2")
    expect_equal([p["name"] for p in body["data"]], ["d", "a"], "page 1")
    expect_equal(ctx.call("DELETE", "/v1/policies/a", token=adm).status,
                 204, "delete a")
    body = list_page(ctx, adm, "?limit=2&cursor=" +
                     urllib.parse.quote(body["next_cursor"]))
    expect_equal([p["name"] for p in body["data"]], ["c", "b"], "page 2")
    expect_equal(body["has_more"], False, "the end")
    resp = ctx.call("GET", "/v1/policies?cursor=garbage", token=adm)
    expect_problem(resp, 400, "invalid_cursor")
    resp = ctx.call("GET", "/v1/policies?limit=0", token=adm)
    expect_problem(resp, 400, "invalid_request")
    resp = ctx.call("GET", "/v1/policies?foo=1", token=adm)
    expect_problem(resp, 400, "invalid_request")


def create_record(ctx, token, record):
    resp = ctx.call("POST", "/v1/records", record, token=token)
    return expect_json(resp, 201), resp


def event_schedule(ctx, record_id, etype):
    """(queue, priority, not_before, created_at) of the record's event."""
    rows, _ = db_run(ctx, "SELECT queue, priority, not_before, created_at "
                     "FROM events WHERE record_id = ? AND type = ? "
                     "ORDER BY seq DESC LIMIT 1", [record_id, etype])
    expect(len(rows) == 1, "no %s event for %s" % (etype, record_id))
    return tuple(rows[0])


@test("policies: record writes take the queue their policies choose, and "
      "their events the queue, priority and not-before")
def record_writes(ctx):
    org, adm = fresh_org(ctx)
    put(ctx, adm, SEED, 201)
    put(ctx, adm, {"name": "urgent", "when": "type==alarm",
                   "then": "queue=now;priority=1;delay=2m", "order": 10},
        201)
    small, resp = create_record(ctx, adm, rec(10))
    expect_equal(small["queue"], "default", "a small record", resp)
    q, prio, nb, at = event_schedule(ctx, small["id"], "record.created")
    expect_equal((q, prio, nb), ("default", 5, at), "its event", resp)
    big, resp = create_record(ctx, adm, rec(6000))
    expect_equal(big["queue"], "wifi", "a record over 5 KiB", resp)
    q, prio, nb, at = event_schedule(ctx, big["id"], "record.created")
    expect_equal((q, prio, nb), ("wifi", 5, at), "its event", resp)
    alarm, resp = create_record(ctx, adm, rec(6000, type="alarm"))
    expect_equal(alarm["queue"], "now", "order 10 is tried first", resp)
    q, prio, nb, at = event_schedule(ctx, alarm["id"], "record.created")
    expect_equal((q, prio, nb - at), ("now", 1, 120000),
                 "priority and a 2 minute delay", resp)
    # A patch is chosen for as the record will be.
    resp = ctx.call("PATCH", "/v1/records/" + small["id"],
                    {"causal": small["causal"],
                     "data": {"blob": "y" * 6000}}, token=adm)
    patched = expect_json(resp, 200)
    expect_equal(patched["queue"], "wifi", "a record patched past 5 KiB",
                 resp)
    q, _, _, _ = event_schedule(ctx, small["id"], "record.updated")
    expect_equal(q, "wifi", "the update's event", resp)
    # Every process of the pool sees a changed or deleted policy at once.
    put(ctx, adm, {"name": "defer_media", "when": "size>5120",
                   "then": "queue=cellular"}, 200)
    for _ in range(8):
        got, resp = create_record(ctx, adm, rec(6000))
        expect_equal(got["queue"], "cellular", "after the replace", resp)
    resp = ctx.call("DELETE", "/v1/policies/defer_media", token=adm)
    expect(resp.status == 204, "delete: %d" % resp.status, resp)
    for _ in range(8):
        got, resp = create_record(ctx, adm, rec(6000))
        expect_equal(got["queue"], "default", "after the delete", resp)
    # Another org's policies never choose for this one.
    other = ctx.token_for(ctx.org_b_key)
    got, resp = create_record(ctx, other, rec(6000, type="alarm"))
    expect_equal(got["queue"], "default", "another org", resp)
