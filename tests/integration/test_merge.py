"""Field-level merge (CONTRACT.md section 3, issue 15): a PATCH with
`Prefer: merge=fields` whose causal token (member `causal`) is stale but
a version the record's history keeps, and whose members (and `data`'s
keys, one level deep) do not overlap what was changed since that version,
is applied to the record as it is now: 200, `Preference-Applied:
merge=fields`, member `merged_from` (the base causal). An overlap, a base
the history does not keep, the If-Match form, or no `Prefer` at all:
409/412 `causal_conflict` with a conflict kept, as without merging, and
with `Prefer` the reason in `merge_refused`.

Every test name starts with "merge: ". Each test works in an org of its
own, made with the CLI.
"""

import json
import secrets

from harness import (db_run, expect, expect_equal, expect_json,
                     expect_match, expect_problem, http_call, test)

PREFER = {"Prefer": "merge=fields"}
CFL_RE = r"^cfl_[0-9a-z]{26}$"


def mtest(name, last=False):
    return test("merge: " + name, last)


class Org:
    """A fresh org with an operator (tok) and a second operator (tok2)."""

    def __init__(self, ctx):
        self.ctx = ctx
        rc, out, err = ctx.cli(["org", "create",
                                "merge-%s" % secrets.token_hex(3)])
        expect(rc == 0, "org create: %s%s" % (out, err))
        self.id = out.strip()
        self.tok = self.user("operator")
        self.tok2 = self.user("operator")

    def user(self, role):
        rc, out, err = self.ctx.cli([
            "key", "create", "--org", self.id, "--email",
            "%s-%s@example.com" % (role, secrets.token_hex(4)), "--role",
            role, "--json"])
        expect(rc == 0, "key create: %s%s" % (out, err))
        return self.ctx.token_for(json.loads(out)["api_key"])

    def call(self, method, path, body=None, headers=None, tok=None):
        return http_call(self.ctx.port, method, path, body, headers,
                         tok or self.tok)

    def create(self, **members):
        body = {"title": "Pump 4", "type": "inspection", "status": "queued",
                "data": {"rpm": 1480, "photo": "a.jpg", "note": "ok"}}
        body.update(members)
        return expect_json(self.call("POST", "/v1/records", body), 201)

    def patch(self, rec, members, headers=None, tok=None, causal=None):
        body = dict(members)
        body["causal"] = causal or rec["causal"]
        return self.call("PATCH", "/v1/records/" + rec["id"], body,
                         headers, tok)


def expect_merged(resp, base, what):
    rec = expect_json(resp, 200)
    expect_equal(resp.headers.get("Preference-Applied"), "merge=fields",
                 what + ": Preference-Applied", resp)
    expect_equal(rec.get("merged_from"), base["causal"],
                 what + ": merged_from", resp)
    expect_equal(resp.headers.get("ETag"), '"%s"' % rec.get("causal"),
                 what + ": ETag", resp)
    return rec


def expect_refused(resp, status, what, reason=None):
    p = expect_problem(resp, status, "causal_conflict")
    expect(resp.headers.get("Preference-Applied") is None,
           what + ": no Preference-Applied on a refusal", resp)
    expect_match(CFL_RE, p.get("conflict_id"), what + ": conflict_id", resp)
    if reason is None:
        expect("merge_refused" not in p, what + ": merge_refused only "
               "when a merge was asked for", resp)
    else:
        expect(reason in (p.get("merge_refused") or ""),
               what + ": merge_refused names %r" % reason, resp)
    return p


def record_of(o, rec):
    return expect_json(o.call("GET", "/v1/records/" + rec["id"]), 200)


@mtest("disjoint members and data keys are merged over a stale token: "
       "200, Preference-Applied, merged_from; the record holds both writes")
def merge_disjoint(ctx):
    o = Org(ctx)
    v1 = o.create()
    # another device changes status and data.photo
    v2 = expect_json(o.patch(v1, {"status": "synced",
                                  "data": {"photo": "b.jpg"}},
                             tok=o.tok2), 200)
    # this device, still at v1, changes title and data.note
    resp = o.patch(v1, {"title": "Pump 4 (checked)",
                        "data": {"note": "bearing noise"}}, PREFER)
    v3 = expect_merged(resp, v1, "the merged patch")
    expect_equal((v3["title"], v3["status"], v3["data"], v3["version"]),
                 ("Pump 4 (checked)", "synced",
                  {"rpm": 1480, "photo": "b.jpg", "note": "bearing noise"},
                  v2["version"] + 1), "the merged record", resp)
    got = record_of(o, v1)
    expect("merged_from" not in got, "merged_from is the answer's, not "
           "the record's", got)
    expect_equal(got, {k: v for k, v in v3.items() if k != "merged_from"},
                 "the record read back", got)
    # the entry says it was a merge
    rows, _ = db_run(ctx, "SELECT detail FROM audit WHERE org_id = ? "
                     "AND action = 'record.update' ORDER BY seq DESC "
                     "LIMIT 1", (o.id,))
    expect_equal(json.loads(rows[0][0]).get("merged_from"), v1["causal"],
                 "the audit entry's detail names merged_from")
    # and no conflict was kept
    lst = expect_json(o.call("GET", "/v1/conflicts?record_id=" + v1["id"]))
    expect_equal(lst["data"], [], "no conflict for a merge")


@mtest("a merge over several versions: every version since the base counts")
def merge_many(ctx):
    o = Org(ctx)
    v1 = o.create()
    v2 = expect_json(o.patch(v1, {"data": {"rpm": 1500}}, tok=o.tok2), 200)
    v3 = expect_json(o.patch(v2, {"site": "beta"}, tok=o.tok2), 200)
    expect_json(o.patch(v3, {"data": {"extra": 1}}, tok=o.tok2), 200)
    # site changed in v3: overlaps though v2 did not touch it
    expect_refused(o.patch(v1, {"site": "gamma"}, PREFER), 409,
                   "site over v1", "site")
    # data.rpm changed in v2
    expect_refused(o.patch(v1, {"data": {"rpm": 1}}, PREFER), 409,
                   "data.rpm over v1", "data.rpm")
    # based on v2: rpm is no longer "since"
    resp = o.patch(v2, {"data": {"rpm": 1600}, "status": "failed"}, PREFER)
    v5 = expect_merged(resp, v2, "data.rpm over v2")
    expect_equal((v5["data"]["rpm"], v5["site"], v5["data"]["extra"],
                  v5["status"]), (1600, "beta", 1, "failed"),
                 "the record after the merge over v2", resp)


@mtest("overlapping members are refused: 409 causal_conflict with a "
       "conflict kept, merge_refused names what changed; nothing written")
def merge_overlap(ctx):
    o = Org(ctx)
    v1 = o.create()
    v2 = expect_json(o.patch(v1, {"title": "theirs",
                                  "data": {"photo": "b.jpg"}}, tok=o.tok2),
                     200)
    cases = [({"title": "mine"}, "title"),
             ({"data": {"photo": "c.jpg"}}, "data.photo"),
             ({"data": {"photo": None}}, "data.photo"),
             ({"status": "synced", "title": "mine"}, "title")]
    for members, name in cases:
        p = expect_refused(o.patch(v1, members, PREFER), 409,
                           "%r" % members, name)
        expect_equal(p.get("current"), v2, "current", p)
        c = expect_json(o.call("GET", "/v1/conflicts/" + p["conflict_id"]))
        expect_equal((c["status"], c["base_causal"]),
                     ("open", v1["causal"]), "the conflict kept", c)
    expect_equal(record_of(o, v1), v2, "the record is unchanged")


@mtest("never merged without Prefer, nor for the If-Match form (412), nor "
       "for a DELETE; other Prefer values do not merge")
def merge_not_asked(ctx):
    o = Org(ctx)
    v1 = o.create()
    v2 = expect_json(o.patch(v1, {"status": "synced"}, tok=o.tok2), 200)
    # disjoint, but no Prefer
    expect_refused(o.patch(v1, {"title": "mine"}), 409, "no Prefer")
    for prefer in ("return=minimal", "merge=none", "merge", "merged=fields"):
        expect_refused(o.patch(v1, {"title": "mine"},
                               {"Prefer": prefer}), 409, prefer)
    # the If-Match form: HTTP's precondition, never bent
    resp = o.call("PATCH", "/v1/records/" + v1["id"], {"title": "mine"},
                  {"If-Match": '"%s"' % v1["causal"],
                   "Prefer": "merge=fields"})
    expect_refused(resp, 412, "If-Match", "If-Match")
    resp = o.call("DELETE", "/v1/records/" + v1["id"], None,
                  {"If-Match": '"%s"' % v1["causal"],
                   "Prefer": "merge=fields"})
    expect_refused(resp, 409, "DELETE")
    expect_equal(record_of(o, v1), v2, "the record is unchanged")
    # Prefer among others, any case, quoted, with parameters: merged
    resp = o.patch(v1, {"title": "mine"},
                   {"Prefer": 'return=minimal, Merge="Fields"; x=1'})
    expect_merged(resp, v1, "Prefer among others")


@mtest("a base the history no longer keeps (or never did) is refused: "
       "409 with merge_refused")
def merge_unknown_base(ctx):
    o = Org(ctx)
    v1 = o.create()
    v2 = expect_json(o.patch(v1, {"status": "synced"}, tok=o.tok2), 200)
    # a token of no version of this record
    other = o.create()
    expect_refused(o.patch(v1, {"title": "mine"}, PREFER,
                           causal=other["causal"]), 409,
                   "a foreign causal", "history")
    # v1's history row purged (as the worker does past retention)
    _, n = db_run(ctx, "DELETE FROM record_history WHERE org_id = ? AND "
                  "record_id = ? AND version = 1", (o.id, v1["id"]),
                  write=True)
    expect_equal(n, 1, "v1's history row removed")
    expect_refused(o.patch(v1, {"title": "mine"}, PREFER), 409,
                   "a purged base", "history")
    expect_equal(record_of(o, v1), v2, "the record is unchanged")


@mtest("a deleted record is 410, merge or not; the idempotent replay of "
       "a merge is the merge's answer")
def merge_deleted_and_replayed(ctx):
    o = Org(ctx)
    v1 = o.create()
    v2 = expect_json(o.patch(v1, {"status": "synced"}, tok=o.tok2), 200)
    key = {"Prefer": "merge=fields", "Idempotency-Key": secrets.token_hex(8)}
    first = o.patch(v1, {"title": "mine"}, key)
    v3 = expect_merged(first, v1, "the first merge")
    again = o.patch(v1, {"title": "mine"}, key)
    expect_equal(again.status, 200, "the replay's status", again)
    expect_equal(again.headers.get("Idempotent-Replayed"), "true",
                 "Idempotent-Replayed", again)
    expect_equal(again.headers.get("Preference-Applied"), "merge=fields",
                 "the replay keeps Preference-Applied", again)
    expect_equal(again.body, first.body, "the replay's body", again)
    expect_json(o.call("DELETE", "/v1/records/" + v1["id"]), 200)
    resp = o.patch(v3, {"data": {"x": 1}}, PREFER)
    expect_problem(resp, 410, "record_deleted")
    del v2


@mtest("in a batch, an item's Prefer merges it and its headers show "
       "Preference-Applied")
def merge_in_batch(ctx):
    o = Org(ctx)
    v1 = o.create()
    expect_json(o.patch(v1, {"status": "synced"}, tok=o.tok2), 200)
    path = "/v1/records/" + v1["id"]
    resp = o.call("POST", "/v1/batch", {"requests": [
        {"method": "PATCH", "path": path, "headers": PREFER,
         "body": {"title": "from the batch", "causal": v1["causal"]}},
        {"method": "PATCH", "path": path, "headers": PREFER,
         "body": {"status": "failed", "causal": v1["causal"]}}]})
    got = expect_json(resp, 200)["responses"]
    expect_equal((got[0]["status"],
                  got[0]["headers"].get("Preference-Applied"),
                  got[0]["body"].get("merged_from"),
                  got[0]["body"].get("title")),
                 (200, "merge=fields", v1["causal"], "from the batch"),
                 "responses[0]: merged", resp)
    expect_equal((got[1]["status"], got[1]["body"].get("code")),
                 (409, "causal_conflict"), "responses[1]: status changed "
                 "since v1 (by v2): refused", resp)
    expect("status" in (got[1]["body"].get("merge_refused") or ""),
           "responses[1]: merge_refused names status", resp)
