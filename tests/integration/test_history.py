"""Record history (CONTRACT.md section 3, issue 15): GET
/v1/records/{id}/history lists a record's prior versions newest first
(version, causal, changed, actor, at, record), paged with a cursor tied to
the record; the worker purges versions past RELAYSYNC_HISTORY_DAYS (and
closed conflicts), and a record's tombstone purge takes its history and
conflicts; RELAYSYNC_HISTORY_DAYS=0 keeps none (a side server).

Every test name starts with "history: " so that `-k history` selects them.
Each test works in an org of its own, made with the CLI. The purge tests
move rows into the past in the database (as test_users.py expires
invites), then run the real worker once.
"""

import json
import os
import secrets
import time
import types
import urllib.parse

import harness
from harness import (Failure, db_run, expect, expect_equal, expect_json,
                     expect_match, expect_problem, free_port, http_call, test)

TIME_RE = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"
ENTRY_MEMBERS = ["actor", "at", "causal", "changed", "record", "version"]
DAY_MS = 86400 * 1000
MAX_PAGES = 30


def htest(name, last=False):
    return test("history: " + name, last)


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

class Org:
    """A fresh org on the server at PORT (the run's unless given), with an
    admin (tok, me); users of other roles on demand."""

    def __init__(self, ctx, ws=None, port=None, label="hist"):
        self.ctx = ctx
        self.ws = ws or ctx.workspace
        self.port = port or ctx.port
        self.id = self.cli(["org", "create", "%s-%s"
                            % (label, secrets.token_hex(3))])
        self.tok, self.me = self.user("admin")

    def cli(self, args):
        rc, out, err = self.ws.cli(args)
        expect(rc == 0, "relaysync-admin %s: exit %d: %s%s"
               % (" ".join(args), rc, out, err))
        return out.strip()

    def user(self, role):
        key = json.loads(self.cli([
            "key", "create", "--org", self.id, "--email",
            "%s-%s@example.com" % (role, secrets.token_hex(4)), "--role",
            role, "--json"]))["api_key"]
        resp = self.call("POST", "/v1/auth/token", {"api_key": key}, tok="")
        tok = expect_json(resp, 200)["access_token"]
        me = expect_json(self.call("GET", "/v1/me", tok=tok))["user_id"]
        return tok, me

    def call(self, method, path, body=None, headers=None, tok=None):
        return http_call(self.port, method, path, body, headers,
                         tok if tok is not None else self.tok)

    def create(self, tok=None, **members):
        body = {"title": "Pressure check", "type": "hist"}
        body.update(members)
        return expect_json(self.call("POST", "/v1/records", body, tok=tok),
                           201)

    def patch(self, rec, members, tok=None):
        body = dict(members)
        body["causal"] = rec["causal"]
        return expect_json(self.call("PATCH", "/v1/records/" + rec["id"],
                                     body, tok=tok), 200)

    def delete(self, rec, tok=None):
        return expect_json(self.call("DELETE", "/v1/records/" + rec["id"],
                                     tok=tok), 200)

    def history(self, rec_id, tok=None, **params):
        path = "/v1/records/%s/history" % rec_id
        if params:
            path += "?" + urllib.parse.urlencode(params)
        return self.call("GET", path, tok=tok)


def expect_page(resp):
    body = expect_json(resp, 200)
    expect_equal(sorted(body), ["data", "has_more", "next_cursor"],
                 "page members", resp)
    for i, h in enumerate(body["data"]):
        expect_equal(sorted(h), ENTRY_MEMBERS, "data[%d] members" % i, resp)
        expect(type(h["version"]) is int, "data[%d].version" % i, resp)
        expect_match(TIME_RE, h["at"], "data[%d].at" % i, resp)
        expect(h["changed"] is None or isinstance(h["changed"], list),
               "data[%d].changed" % i, resp)
    expect_equal(body["next_cursor"] is not None, body["has_more"],
                 "next_cursor exactly when has_more", resp)
    return body


def walk(o, rec_id, **params):
    """Every entry of the history, following the cursor -> (items, pages)."""
    items, cursor = [], None
    for pages in range(1, MAX_PAGES + 1):
        q = dict(params)
        if cursor:
            q["cursor"] = cursor
        body = expect_page(o.history(rec_id, **q))
        items += body["data"]
        if not body["has_more"]:
            return items, pages
        cursor = body["next_cursor"]
    raise Failure("history: still has_more after %d pages" % MAX_PAGES)


def versions(o, rec_id):
    return [h["version"] for h in walk(o, rec_id)[0]]


def entry(version, actor, changed):
    """What the history shows of VERSION (a record as answered)."""
    return {"version": version["version"], "causal": version["causal"],
            "changed": changed, "actor": actor, "at": version["updated_at"],
            "record": version}


def count(ctx, sql, args):
    rows, _ = db_run(ctx, sql, args)
    return rows[0][0]


def worker_once(ctx, env=None):
    """relaysync-worker --once on the run's database, with ENV added to
    its environment (the worker reads RELAYSYNC_HISTORY_DAYS there)."""
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        rc, out, err, _ = ctx.worker(["--once"])
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    expect(rc == 0, "relaysync-worker --once: exit %d: %s%s" % (rc, out, err))


# ==========================================================================
# GET /v1/records/{id}/history
# ==========================================================================

@htest("prior versions are listed newest first, each as it was, with what "
       "its write changed, who wrote it and when")
def listed(ctx):
    o = Org(ctx)
    op_tok, op_id = o.user("operator")
    v1 = o.create(site="north", data={"a": 1})
    v2 = o.patch(v1, {"title": "second"}, op_tok)
    v3 = o.patch(v2, {"data": {"b": 2, "a": None}, "status": "synced"})
    v4 = o.delete(v3, op_tok)
    items, _ = walk(o, v1["id"])
    expect_equal(items, [
        entry(v3, o.me, ["data.b", "data.a", "status"]),
        entry(v2, op_id, ["title"]),
        entry(v1, o.me, ["title", "type", "site", "data.a"]),
    ], "the history: every prior version, the current one not")
    expect_equal(v4["version"], 4, "the current version")
    # A deleted record's history is still there, for any role.
    viewer, _ = o.user("viewer")
    resp = o.history(v1["id"], tok=viewer)
    expect_equal(expect_page(resp)["data"], items, "a viewer reads it, "
                 "the record deleted", resp)


@htest("a create writes no history, a stale write and a repeated delete "
       "none either")
def nothing_written(ctx):
    o = Org(ctx)
    rec = o.create()
    expect_equal(versions(o, rec["id"]), [], "a new record")
    cur = o.patch(rec, {"title": "b"})
    expect_problem(o.call("PATCH", "/v1/records/" + rec["id"],
                          {"title": "c", "causal": rec["causal"]}),
                   409, "causal_conflict")
    expect_equal(versions(o, rec["id"]), [1], "the conflict kept no version")
    o.delete(cur)
    o.delete(cur)
    expect_equal(versions(o, rec["id"]), [2, 1], "one delete, one version")


@htest("the history pages with limit and cursor; a cursor is tied to its "
       "record; unknown and another org's records are 404")
def paging(ctx):
    o = Org(ctx)
    rec = o.create()
    cur = rec
    for i in range(5):
        cur = o.patch(cur, {"title": "t%d" % i})
    items, pages = walk(o, rec["id"], limit=2)
    expect_equal([h["version"] for h in items], [5, 4, 3, 2, 1],
                 "every version, newest first")
    expect_equal(pages, 3, "pages of two")
    first = expect_page(o.history(rec["id"], limit=2))
    other = o.create()
    o.patch(other, {"title": "x"})
    expect_problem(o.history(other["id"], limit=2,
                             cursor=first["next_cursor"]), 400,
                   "invalid_cursor")
    expect_problem(o.history(rec["id"], limit=0), 400, "invalid_request")
    expect_problem(o.history(rec["id"], colour="red"), 400,
                   "invalid_request")
    expect_problem(o.history("rec_" + "0" * 26), 404, "not_found")
    expect_problem(o.history("nope"), 404, "not_found")
    stranger = Org(ctx)
    expect_problem(stranger.history(rec["id"]), 404, "not_found")


# ==========================================================================
# keeping: the worker's purges
# ==========================================================================

@htest("the worker purges versions superseded more than "
       "RELAYSYNC_HISTORY_DAYS ago, and closed conflicts closed as long ago")
def purged(ctx):
    o = Org(ctx)
    rec = o.create()
    v2 = o.patch(rec, {"title": "b"})
    v3 = o.patch(v2, {"title": "c"})
    o.patch(v3, {"title": "d"})
    prob = expect_problem(o.call("PATCH", "/v1/records/" + rec["id"],
                                 {"title": "x", "causal": rec["causal"]}),
                          409, "causal_conflict")
    closed = prob["conflict_id"]
    expect_json(o.call("POST", "/v1/conflicts/%s/resolve" % closed,
                       {"take": "current"}), 200)
    prob = expect_problem(o.call("PATCH", "/v1/records/" + rec["id"],
                                 {"title": "y", "causal": rec["causal"]}),
                          409, "causal_conflict")
    still_open = prob["conflict_id"]
    long_ago = int(time.time() * 1000) - 31 * DAY_MS
    db_run(ctx, "UPDATE record_history SET superseded_at = ? WHERE "
           "record_id = ? AND version IN (1, 2)", [long_ago, rec["id"]],
           write=True)
    db_run(ctx, "UPDATE conflicts SET resolved_at = ?, created_at = ? "
           "WHERE id = ?", [long_ago, long_ago, closed], write=True)
    db_run(ctx, "UPDATE conflicts SET created_at = ? WHERE id = ?",
           [long_ago, still_open], write=True)
    expect_equal(versions(o, rec["id"]), [3],
                 "versions past their keeping are not listed before the "
                 "purge either")
    worker_once(ctx)
    expect_equal(count(ctx, "SELECT count(*) FROM record_history WHERE "
                       "record_id = ?", [rec["id"]]), 1,
                 "the worker removed the two old versions")
    expect_equal(versions(o, rec["id"]), [3], "the kept version")
    expect_problem(o.call("GET", "/v1/conflicts/" + closed), 404,
                   "not_found")
    expect_equal(expect_json(o.call("GET", "/v1/conflicts/" +
                                    still_open))["status"], "open",
                 "an open conflict stays, however old")


@htest("the tombstone purge takes a record's history and conflicts with it")
def tombstone_purged(ctx):
    o = Org(ctx)
    gone = o.create()
    g2 = o.patch(gone, {"title": "b"})
    cid = expect_problem(o.call("PATCH", "/v1/records/" + gone["id"],
                                {"title": "x", "causal": gone["causal"]}),
                         409, "causal_conflict")["conflict_id"]
    o.delete(g2)
    kept = o.create()
    o.patch(kept, {"title": "b"})
    db_run(ctx, "UPDATE records SET deleted_at = ? WHERE id = ?",
           [int(time.time() * 1000) - 91 * DAY_MS, gone["id"]], write=True)
    expect_equal(count(ctx, "SELECT count(*) FROM record_history WHERE "
                       "record_id = ?", [gone["id"]]), 2, "before: versions")
    worker_once(ctx)
    expect_problem(o.call("GET", "/v1/records/" + gone["id"]), 404,
                   "not_found")
    expect_equal(count(ctx, "SELECT count(*) FROM record_history WHERE "
                       "record_id = ?", [gone["id"]]), 0,
                 "the purged record's versions")
    expect_equal(count(ctx, "SELECT count(*) FROM conflicts WHERE "
                       "record_id = ?", [gone["id"]]), 0,
                 "the purged record's conflict")
    expect_problem(o.call("GET", "/v1/conflicts/" + cid), 404, "not_found")
    expect_equal(versions(o, kept["id"]), [1], "another record's history")


# ==========================================================================
# RELAYSYNC_HISTORY_DAYS=0
# ==========================================================================

class Side:
    """A server of the run's kind on a temp dir and database of its own,
    with APP_ENV added to the program's environment."""

    def __init__(self, ctx, app_env):
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
        self.server.start()
        ctx.logs.files = ctx.logs.files + self.server.log_files()
        deadline = time.monotonic() + harness.START_TIMEOUT
        while True:
            try:
                if http_call(self.port, "GET", "/v1/health",
                             timeout=2).status == 200:
                    return
            except Failure:
                pass
            if time.monotonic() > deadline or not self.server.running():
                self.stop()
                raise Failure("side server: not healthy")
            time.sleep(0.2)

    def stop(self):
        self.server.stop()
        self.ws.remove()


@htest("RELAYSYNC_HISTORY_DAYS=0 keeps no history (none written, none "
       "listed); conflicts are still kept, and the worker leaves closed ones")
def keep_none(ctx):
    side = Side(ctx, {"RELAYSYNC_HISTORY_DAYS": "0"})
    try:
        o = Org(ctx, side.ws, side.port)
        rec = o.create()
        v2 = o.patch(rec, {"title": "b"})
        o.patch(v2, {"title": "c"})
        expect_equal(versions(o, rec["id"]), [], "nothing listed")
        side_ctx = types.SimpleNamespace(workspace=side.ws)
        expect_equal(count(side_ctx, "SELECT count(*) FROM record_history",
                           []), 0, "nothing written")
        prob = expect_problem(o.call("PATCH", "/v1/records/" + rec["id"],
                                     {"title": "x",
                                      "causal": rec["causal"]}),
                              409, "causal_conflict")
        cid = prob["conflict_id"]
        expect_json(o.call("POST", "/v1/conflicts/%s/resolve" % cid,
                           {"take": "current"}), 200)
        db_run(side_ctx, "UPDATE conflicts SET resolved_at = 1 WHERE id = ?",
               [cid], write=True)
        saved = os.environ.get("RELAYSYNC_HISTORY_DAYS")
        os.environ["RELAYSYNC_HISTORY_DAYS"] = "0"
        try:
            rc, out, err, _ = side.ws.worker(["--once"])
        finally:
            if saved is None:
                os.environ.pop("RELAYSYNC_HISTORY_DAYS", None)
            else:
                os.environ["RELAYSYNC_HISTORY_DAYS"] = saved
        expect(rc == 0, "relaysync-worker --once: exit %d: %s%s"
               % (rc, out, err))
        c = expect_json(o.call("GET", "/v1/conflicts/" + cid))
        expect_equal(c["status"], "resolved",
                     "a closed conflict stays (0 days: until its record "
                     "goes)")
    finally:
        side.stop()
