"""Users and roles (CONTRACT.md sections 2 and 6, issue 4): listing and
filtering users, invites and their acceptance, PATCH (role, disable, enable,
last-admin protection), role enforcement on every route, last_sync_at and
the user.invited / user.activated events.

Every test name starts with "users:" so that `run.py -k users` selects them.
"""

import datetime
import itertools
import json
import re
import secrets
import time
import urllib.parse

from harness import (Failure, expect, expect_equal, expect_json,
                     expect_match, expect_problem, test, db_run,
                     dialect)

TIME_RE = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"
USER_MEMBERS = {"id", "email", "role", "status", "last_sync_at", "created_at"}
ROLES = ("admin", "operator", "viewer")
INVITE_DAYS = 7
MAX_PAGES = 500          # bound on any cursor walk

_serial = itertools.count(1)


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def parse_time(value):
    """An RFC 3339 UTC millisecond time -> Unix seconds (float)."""
    dt = datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ")
    return dt.replace(tzinfo=datetime.timezone.utc).timestamp()


def unique_email(tag="user"):
    return "%s-%d-%s@example.com" % (tag, next(_serial), secrets.token_hex(3))


def field_errors(body):
    errors = body.get("errors")
    if not isinstance(errors, list):
        return []
    return [e.get("field") for e in errors if isinstance(e, dict)]


def expect_invalid(resp, field):
    """400 invalid_request whose errors (or detail) name FIELD."""
    body = expect_problem(resp, 400, "invalid_request")
    expect(field in field_errors(body) or field in (body.get("detail") or ""),
           "400 should name the field %r in errors or detail" % field, resp)
    return body


def expect_unauthorized(resp):
    expect_problem(resp, 401, "unauthorized")
    expect_match(r"^Bearer", resp.headers.get("WWW-Authenticate"),
                 "WWW-Authenticate", resp)


def expect_user(user, resp=None, what="user"):
    """USER is a user object with exactly the contract's members."""
    expect(isinstance(user, dict), "%s: expected an object, got %r"
           % (what, user), resp)
    expect_equal(set(user), USER_MEMBERS, "%s members" % what, resp)
    expect_match(r"^usr_\S+$", user["id"], what + ".id", resp)
    expect(isinstance(user["email"], str) and "@" in user["email"],
           "%s.email: expected an address, got %r" % (what, user["email"]),
           resp)
    expect(user["role"] in ROLES, "%s.role: got %r" % (what, user["role"]),
           resp)
    expect(user["status"] in ("active", "invited", "disabled"),
           "%s.status: got %r" % (what, user["status"]), resp)
    if user["last_sync_at"] is not None:
        expect_match(TIME_RE, user["last_sync_at"], what + ".last_sync_at",
                     resp)
    expect_match(TIME_RE, user["created_at"], what + ".created_at", resp)
    return user


def admin_token(ctx):
    return ctx.token_for(ctx.admin_key)


def invite(ctx, token, email, role):
    """POST /v1/users/invite that must answer 201; returns the body."""
    resp = ctx.call("POST", "/v1/users/invite",
                    {"email": email, "role": role}, token=token)
    body = expect_json(resp, 201)
    expect(isinstance(body, dict), "invite body is not an object", resp)
    expect_user(body.get("user"), resp, "user")
    expect_match(r"^rsi_\S+$", body.get("invite_token"), "invite_token", resp)
    return body


def accept(ctx, invite_token):
    """POST /v1/users/accept (no bearer) that must answer 201."""
    resp = ctx.call("POST", "/v1/users/accept",
                    {"invite_token": invite_token})
    body = expect_json(resp, 201)
    expect(isinstance(body, dict), "accept body is not an object", resp)
    expect_user(body.get("user"), resp, "user")
    expect_match(r"^rs_live_\S+$", body.get("api_key"), "api_key", resp)
    return body


def new_user(ctx, role, token=None, tag=None):
    """Invite + accept a user of ROLE (in the org of TOKEN, default the demo
    admin's). Returns (user, api_key, access_token)."""
    token = token or admin_token(ctx)
    inv = invite(ctx, token, unique_email(tag or role), role)
    acc = accept(ctx, inv["invite_token"])
    return acc["user"], acc["api_key"], ctx.token_for(acc["api_key"])


def list_users(ctx, token, query=""):
    resp = ctx.call("GET", "/v1/users" + query, token=token)
    body = expect_json(resp, 200)
    expect(isinstance(body, dict) and isinstance(body.get("data"), list),
           "GET /v1/users: data should be a list", resp)
    expect(isinstance(body.get("has_more"), bool),
           "has_more should be a boolean", resp)
    nc = body.get("next_cursor", "missing")
    expect(nc is None or isinstance(nc, str),
           "next_cursor should be null or a string, got %r" % (nc,), resp)
    expect_equal(nc is not None, body["has_more"],
                 "next_cursor present exactly when has_more", resp)
    for i, user in enumerate(body["data"]):
        expect_user(user, resp, "data[%d]" % i)
    return body, resp


def all_users(ctx, token, params=None):
    """Every user a (filtered) list shows, walking the cursor."""
    params = dict(params or {})
    params.setdefault("limit", "200")
    out, cursor = [], None
    for _ in range(MAX_PAGES):
        q = dict(params)
        if cursor:
            q["cursor"] = cursor
        body, _ = list_users(ctx, token, "?" + urllib.parse.urlencode(q))
        out += body["data"]
        if not body["has_more"]:
            return out
        cursor = body["next_cursor"]
    raise Failure("GET /v1/users: still has_more after %d pages" % MAX_PAGES)


def find_user(ctx, token, user_id, params=None):
    """The user USER_ID as a (filtered) GET /v1/users shows it, or None."""
    found = [u for u in all_users(ctx, token, params) if u["id"] == user_id]
    expect(len(found) <= 1, "user %s listed %d times" % (user_id, len(found)))
    return found[0] if found else None


def patch_user(ctx, token, user_id, body):
    return ctx.call("PATCH", "/v1/users/" + user_id, body, token=token)


def patch_ok(ctx, token, user_id, body):
    resp = patch_user(ctx, token, user_id, body)
    got = expect_user(expect_json(resp, 200), resp)
    expect_equal(got["id"], user_id, "id", resp)
    for name, value in body.items():
        expect_equal(got[name], value, name, resp)
    return got


def me_of(ctx, token):
    return expect_json(ctx.call("GET", "/v1/me", token=token), 200)


def fresh_org(ctx, name):
    """A new org (CLI) with one admin: returns (org_id, admin token, me)."""
    rc, out, err = ctx.cli(["org", "create", "%s-%s" % (name,
                                                         secrets.token_hex(3))])
    expect(rc == 0, "org create: exit %d: %s%s" % (rc, out, err))
    org = out.strip()
    rc, out, err = ctx.cli(["key", "create", "--org", org, "--email",
                            unique_email("boss"), "--role", "admin",
                            "--json"])
    expect(rc == 0, "key create: exit %d: %s%s" % (rc, out, err))
    token = ctx.token_for(json.loads(out)["api_key"])
    return org, token, me_of(ctx, token)


# --------------------------------------------------------------------------
# the database (events, expiring an invite)
# --------------------------------------------------------------------------



def user_events(ctx, event_type, user_id):
    """(org_id, record_id, payload) of every TYPE event about USER_ID."""
    rows, _ = db_run(ctx, "SELECT org_id, record_id, payload FROM events "
                     "WHERE type = ? AND %s(payload, ?) > 0 "
                     "ORDER BY created_at" % dialect("instr", "strpos"),
                     [event_type, user_id])
    out = []
    for org, record_id, payload in rows:
        try:
            p = json.loads(payload)
        except ValueError:
            raise Failure("events.payload is not JSON: %r" % payload[:200])
        data = p.get("data") if isinstance(p, dict) else None
        if isinstance(data, dict) and data.get("id") == user_id:
            out.append((org, record_id, p))
    return out


# --------------------------------------------------------------------------
# invite
# --------------------------------------------------------------------------

@test("users: invite answers 201 with an invited user, rsi_ token, 7-day expiry")
def invite_shape(ctx):
    email = unique_email("inv")
    before = time.time()
    body = invite(ctx, admin_token(ctx), email, "operator")
    user = body["user"]
    expect_equal(set(body), {"user", "invite_token", "invite_expires_at"},
                 "invite members")
    expect_equal(user["email"], email, "user.email")
    expect_equal(user["role"], "operator", "user.role")
    expect_equal(user["status"], "invited", "user.status")
    expect_equal(user["last_sync_at"], None, "user.last_sync_at")
    created = parse_time(user["created_at"])
    expect(before - 5 <= created <= time.time() + 5,
           "created_at %s is not now" % user["created_at"])
    expect_match(TIME_RE, body.get("invite_expires_at"), "invite_expires_at")
    ahead = parse_time(body["invite_expires_at"]) - time.time()
    week = INVITE_DAYS * 86400
    expect(week - 60 <= ahead <= week + 5,
           "invite_expires_at is %.0f s from now, expected %d" % (ahead, week))
    listed = find_user(ctx, admin_token(ctx), user["id"])
    expect_equal(listed, user, "GET /v1/users shows the invited user as")


@test("users: invite with a bad email is 400 naming email")
def invite_bad_email(ctx):
    token = admin_token(ctx)
    # 255 characters: local part 64, domain 190 (labels of at most 63)
    long_email = ("a" * 64 + "@" + "x" * 60 + "." + "y" * 60 + "." +
                  "z" * 60 + ".example")
    expect_equal(len(long_email), 255, "test bug: email length")
    for email in ("nope", "a@b", "", "@example.com", "a b@example.com",
                  long_email):
        resp = ctx.call("POST", "/v1/users/invite",
                        {"email": email, "role": "viewer"}, token=token)
        expect_invalid(resp, "email")
    resp = ctx.call("POST", "/v1/users/invite",
                    {"email": 42, "role": "viewer"}, token=token)
    expect_invalid(resp, "email")
    resp = ctx.call("POST", "/v1/users/invite", {"role": "viewer"},
                    token=token)
    expect_invalid(resp, "email")


@test("users: invite accepts an email of exactly 254 characters")
def invite_email_254(ctx):
    # local part 64, labels of at most 63: 64 + 1 + 189 = 254
    domain = "x" * 60 + "." + "y" * 60 + "." + "z" * 59 + ".example"
    email = "a" * 60 + secrets.token_hex(2) + "@" + domain
    expect_equal(len(email), 254, "test bug: email length")
    body = invite(ctx, admin_token(ctx), email, "viewer")
    expect_equal(body["user"]["email"], email, "user.email")


@test("users: invite with a bad or missing role is 400 naming role")
def invite_bad_role(ctx):
    token = admin_token(ctx)
    for body in ({"email": unique_email(), "role": "wizard"},
                 {"email": unique_email(), "role": "Admin"},
                 {"email": unique_email(), "role": ""},
                 {"email": unique_email(), "role": 1},
                 {"email": unique_email()}):
        resp = ctx.call("POST", "/v1/users/invite", body, token=token)
        expect_invalid(resp, "role")


@test("users: invite with an unknown member is 400 naming it")
def invite_unknown_member(ctx):
    resp = ctx.call("POST", "/v1/users/invite",
                    {"email": unique_email(), "role": "viewer", "extra": 1},
                    token=admin_token(ctx))
    expect_invalid(resp, "extra")


@test("users: inviting an email already in the org, any case, is 409 user_exists")
def invite_duplicate(ctx):
    token = admin_token(ctx)
    tag = secrets.token_hex(3)
    email = "Dup.%s@Example.com" % tag
    first = invite(ctx, token, email, "viewer")
    for again in (email, email.lower(), email.upper(),
                  "dup.%s@EXAMPLE.COM" % tag):
        resp = ctx.call("POST", "/v1/users/invite",
                        {"email": again, "role": "operator"}, token=token)
        expect_problem(resp, 409, "user_exists")
    # an existing active user (the CLI-made admin) counts too
    resp = ctx.call("POST", "/v1/users/invite",
                    {"email": "ADMIN@example.com", "role": "viewer"},
                    token=token)
    expect_problem(resp, 409, "user_exists")
    same = [u for u in all_users(ctx, token)
            if u["email"].lower() == email.lower()]
    expect_equal(len(same), 1, "users with that email after the 409s")
    expect_equal(same[0]["id"], first["user"]["id"], "that user's id")
    # the same address in the other org is a different user
    other = invite(ctx, ctx.token_for(ctx.org_b_key), email, "viewer")
    expect(other["user"]["id"] != first["user"]["id"],
           "org B's invite reused org A's user id")


# --------------------------------------------------------------------------
# accept
# --------------------------------------------------------------------------

@test("users: accept (no bearer) activates the user and returns a working key")
def accept_flow(ctx):
    token = admin_token(ctx)
    email = unique_email("acc")
    inv = invite(ctx, token, email, "operator")
    resp = ctx.call("POST", "/v1/users/accept",
                    {"invite_token": inv["invite_token"]})
    body = expect_json(resp, 201)
    expect_equal(set(body), {"user", "api_key"}, "accept members", resp)
    user = expect_user(body["user"], resp)
    expect_equal(user["id"], inv["user"]["id"], "user.id", resp)
    expect_equal(user["email"], email, "user.email", resp)
    expect_equal(user["role"], "operator", "user.role", resp)
    expect_equal(user["status"], "active", "user.status", resp)
    expect_equal(user["created_at"], inv["user"]["created_at"],
                 "user.created_at", resp)
    expect_match(r"^rs_live_\S+$", body.get("api_key"), "api_key", resp)
    resp = ctx.call("POST", "/v1/auth/token", {"api_key": body["api_key"]})
    issued = expect_json(resp, 200)
    expect_equal(issued.get("role"), "operator", "exchanged token role", resp)
    expect_equal(issued.get("user_id"), user["id"], "exchanged user_id", resp)
    expect_equal(issued.get("org_id"), ctx.org_id, "exchanged org_id", resp)
    me = me_of(ctx, issued["access_token"])
    expect_equal(me.get("email"), email, "/v1/me email")
    expect_equal(me.get("role"), "operator", "/v1/me role")
    listed = find_user(ctx, token, user["id"])
    expect(listed is not None, "accepted user missing from GET /v1/users")
    expect_equal(listed["status"], "active", "listed status")


@test("users: each invited role gets a token of that role")
def accept_roles(ctx):
    for role in ROLES:
        user, _, tok = new_user(ctx, role)
        expect_equal(user["role"], role, "accepted user role")
        expect_equal(me_of(ctx, tok).get("role"), role, "/v1/me role")


@test("users: accepting the same invite token twice is 410 invite_invalid")
def accept_twice(ctx):
    inv = invite(ctx, admin_token(ctx), unique_email("twice"), "viewer")
    accept(ctx, inv["invite_token"])
    resp = ctx.call("POST", "/v1/users/accept",
                    {"invite_token": inv["invite_token"]})
    expect_problem(resp, 410, "invite_invalid")


@test("users: an unknown invite token is 410 invite_invalid")
def accept_unknown(ctx):
    for tok in ("rsi_" + secrets.token_urlsafe(32), "nonsense"):
        resp = ctx.call("POST", "/v1/users/accept", {"invite_token": tok})
        expect_problem(resp, 410, "invite_invalid")


@test("users: an expired invite token is 410 invite_invalid")
def accept_expired(ctx):
    token = admin_token(ctx)
    inv = invite(ctx, token, unique_email("exp"), "viewer")
    uid = inv["user"]["id"]
    rows, _ = db_run(ctx, "SELECT count(*) FROM invites WHERE user_id = ? "
                     "AND used_at IS NULL", [uid])
    expect_equal(rows[0][0], 1, "unused invites rows for %s" % uid)
    _, changes = db_run(ctx, "UPDATE invites SET expires_at = 0 "
                        "WHERE user_id = ?", [uid], write=True)
    expect_equal(changes, 1, "invite rows expired")
    resp = ctx.call("POST", "/v1/users/accept",
                    {"invite_token": inv["invite_token"]})
    expect_problem(resp, 410, "invite_invalid")
    listed = find_user(ctx, token, uid)
    expect(listed is not None, "invited user missing from the list")
    expect_equal(listed["status"], "invited", "status after expired accept")


@test("users: an invitee whose invite lapsed can be invited again")
def reinvite_lapsed(ctx):
    token = admin_token(ctx)
    email = unique_email("lapsed")
    first = invite(ctx, token, email, "viewer")
    uid = first["user"]["id"]
    resp = ctx.call("POST", "/v1/users/invite",
                    {"email": email, "role": "viewer"}, token=token)
    expect_problem(resp, 409, "user_exists")
    db_run(ctx, "UPDATE invites SET expires_at = 0 WHERE user_id = ?", [uid],
           write=True)
    again = invite(ctx, token, email.upper(), "operator")
    expect_equal(again["user"]["id"], uid, "re-invited user keeps its id")
    expect_equal(again["user"]["role"], "operator", "role of the new invite")
    expect(again["invite_token"] != first["invite_token"],
           "a fresh invite token")
    resp = ctx.call("POST", "/v1/users/accept",
                    {"invite_token": first["invite_token"]})
    expect_problem(resp, 410, "invite_invalid")
    acc = accept(ctx, again["invite_token"])
    expect_equal(acc["user"]["id"], uid, "accepted user id")
    expect_equal(acc["user"]["role"], "operator", "accepted user role")


@test("users: accept with a missing, non-string or extra member is 400")
def accept_bad_body(ctx):
    expect_invalid(ctx.call("POST", "/v1/users/accept", {}), "invite_token")
    expect_invalid(ctx.call("POST", "/v1/users/accept", {"invite_token": 5}),
                   "invite_token")
    expect_invalid(ctx.call("POST", "/v1/users/accept",
                            {"invite_token": "rsi_x", "extra": True}),
                   "extra")


# --------------------------------------------------------------------------
# GET /v1/users
# --------------------------------------------------------------------------

@test("users: GET /v1/users lists the org's users with the contract's members")
def list_shape(ctx):
    token = admin_token(ctx)
    body, resp = list_users(ctx, token)
    expect_equal(set(body), {"data", "has_more", "next_cursor"},
                 "list members", resp)
    users = all_users(ctx, token)
    admins = [u for u in users if u["email"] == "admin@example.com"]
    expect_equal(len(admins), 1, "admin@example.com entries")
    expect_equal(admins[0]["role"], "admin", "admin role")
    expect_equal(admins[0]["status"], "active", "admin status")
    me = me_of(ctx, token)
    expect_equal(admins[0]["id"], me.get("user_id"), "admin id vs /v1/me")
    ids = [u["id"] for u in users]
    expect_equal(len(ids), len(set(ids)), "distinct ids in the list")
    # org B's users are not shown
    b_me = me_of(ctx, ctx.token_for(ctx.org_b_key))
    expect(b_me.get("user_id") not in ids, "org B's admin listed in org A")
    expect(all(u["email"] != "admin@other.example.com" for u in users),
           "org B's admin email listed in org A")


@test("users: ?role=operator returns only operators")
def list_role_filter(ctx):
    token = admin_token(ctx)
    op_active, _, _ = new_user(ctx, "operator")
    op_invited = invite(ctx, token, unique_email("opinv"), "operator")["user"]
    viewer = invite(ctx, token, unique_email("vw"), "viewer")["user"]
    ops = all_users(ctx, token, {"role": "operator"})
    roles = sorted({u["role"] for u in ops})
    expect_equal(roles, ["operator"], "roles in ?role=operator")
    ids = {u["id"] for u in ops}
    expect(op_active["id"] in ids, "active operator missing")
    expect(op_invited["id"] in ids, "invited operator missing")
    expect(viewer["id"] not in ids, "viewer listed under role=operator")
    everyone = all_users(ctx, token)
    expect_equal(ids, {u["id"] for u in everyone if u["role"] == "operator"},
                 "role=operator vs the operators of the full list")
    for role in ("admin", "viewer"):
        got = all_users(ctx, token, {"role": role})
        expect_equal(sorted({u["role"] for u in got}), [role],
                     "roles in ?role=%s" % role)


@test("users: ?status= filters by status, combined with role")
def list_status_filter(ctx):
    token = admin_token(ctx)
    invited = invite(ctx, token, unique_email("stinv"), "viewer")["user"]
    active, _, _ = new_user(ctx, "viewer")
    everyone = all_users(ctx, token)
    for status in ("active", "invited", "disabled"):
        got = all_users(ctx, token, {"status": status})
        expect(all(u["status"] == status for u in got),
               "?status=%s listed other statuses: %r"
               % (status, sorted({u["status"] for u in got})))
        expect_equal({u["id"] for u in got},
                     {u["id"] for u in everyone if u["status"] == status},
                     "?status=%s vs the full list" % status)
    got = {u["id"] for u in all_users(ctx, token, {"status": "invited",
                                                   "role": "viewer"})}
    expect(invited["id"] in got, "invited viewer missing")
    expect(active["id"] not in got, "active viewer under status=invited")


@test("users: bad filters, limits and unknown params are 400 invalid_request")
def list_bad_params(ctx):
    token = admin_token(ctx)
    for query, field in (("role=wizard", "role"), ("role=", "role"),
                         ("status=gone", "status"), ("status=", "status"),
                         ("limit=0", "limit"), ("limit=201", "limit"),
                         ("limit=abc", "limit"), ("limit=-1", "limit")):
        resp = ctx.call("GET", "/v1/users?" + query, token=token)
        expect_invalid(resp, field)
    expect_problem(ctx.call("GET", "/v1/users?foo=1", token=token), 400,
                   "invalid_request")
    for limit in ("1", "200"):
        list_users(ctx, token, "?limit=" + limit)


@test("users: limit=1 pages walk every user exactly once")
def list_paging(ctx):
    token = admin_token(ctx)
    for _ in range(2):
        invite(ctx, token, unique_email("page"), "viewer")
    full = [u["id"] for u in all_users(ctx, token)]
    expect(len(full) >= 3, "need 3 users, have %d" % len(full))
    seen, cursor = [], None
    for _ in range(len(full) + 2):
        q = "?limit=1" + ("&cursor=" + urllib.parse.quote(cursor)
                          if cursor else "")
        body, resp = list_users(ctx, token, q)
        expect(len(body["data"]) <= 1, "limit=1 gave %d users"
               % len(body["data"]), resp)
        seen += [u["id"] for u in body["data"]]
        if not body["has_more"]:
            break
        cursor = body["next_cursor"]
    else:
        raise Failure("limit=1 walk did not end after %d pages"
                      % (len(full) + 2))
    expect_equal(seen, full, "ids seen walking limit=1 (vs limit=200)")


@test("users: a records cursor or an altered cursor is 400 invalid_cursor")
def list_bad_cursor(ctx):
    token = admin_token(ctx)
    for _ in range(2):
        invite(ctx, token, unique_email("cur"), "viewer")
    body, resp = list_users(ctx, token, "?limit=1")
    cursor = body["next_cursor"]
    expect(isinstance(cursor, str) and len(cursor) > 4,
           "limit=1 gave no next_cursor", resp)
    # positive control: the cursor as handed out works
    list_users(ctx, token, "?limit=1&cursor=" + urllib.parse.quote(cursor))
    mid = len(cursor) // 2
    altered = cursor[:mid] + ("A" if cursor[mid] != "A" else "B") + \
        cursor[mid + 1:]
    for bad in (altered, cursor + "A", cursor[:-2], "garbage"):
        resp = ctx.call("GET", "/v1/users?limit=1&cursor="
                        + urllib.parse.quote(bad), token=token)
        expect_problem(resp, 400, "invalid_cursor")
    # a cursor of another list (records)
    for i in range(2):
        resp = ctx.call("POST", "/v1/records",
                        {"title": "cursor %d" % i, "type": "note"},
                        token=token)
        expect_json(resp, 201)
    resp = ctx.call("GET", "/v1/records?limit=1", token=token)
    rec = expect_json(resp, 200)
    rc = rec.get("next_cursor")
    expect(isinstance(rc, str) and rc, "records gave no next_cursor", resp)
    resp = ctx.call("GET", "/v1/users?limit=1&cursor=" + urllib.parse.quote(rc),
                    token=token)
    expect_problem(resp, 400, "invalid_cursor")
    # a users cursor of org A in org B
    resp = ctx.call("GET", "/v1/users?limit=1&cursor=" +
                    urllib.parse.quote(cursor),
                    token=ctx.token_for(ctx.org_b_key))
    expect_problem(resp, 400, "invalid_cursor")


# --------------------------------------------------------------------------
# PATCH /v1/users/<id>
# --------------------------------------------------------------------------

@test("users: PATCH role and status answer 200 with the changed user")
def patch_ok_cases(ctx):
    token = admin_token(ctx)
    user, _, _ = new_user(ctx, "viewer")
    uid = user["id"]
    got = patch_ok(ctx, token, uid, {"role": "operator"})
    expect_equal(got["status"], "active", "status after a role change")
    expect_equal(got["email"], user["email"], "email")
    expect_equal(got["created_at"], user["created_at"], "created_at")
    expect_equal(find_user(ctx, token, uid)["role"], "operator",
                 "listed role after PATCH")
    patch_ok(ctx, token, uid, {"status": "disabled"})
    expect_equal(find_user(ctx, token, uid)["status"], "disabled",
                 "listed status after disable")
    patch_ok(ctx, token, uid, {"status": "active", "role": "viewer"})
    listed = find_user(ctx, token, uid)
    expect_equal((listed["role"], listed["status"]), ("viewer", "active"),
                 "listed (role, status) after enable + role")
    # a role change of a still-invited user is fine
    inv = invite(ctx, token, unique_email("invrole"), "viewer")["user"]
    got = patch_ok(ctx, token, inv["id"], {"role": "operator"})
    expect_equal(got["status"], "invited", "invited user's status")


@test("users: PATCH with no member, bad values or unknown members is 400")
def patch_bad_body(ctx):
    token = admin_token(ctx)
    user, _, _ = new_user(ctx, "viewer")
    uid = user["id"]
    expect_problem(patch_user(ctx, token, uid, {}), 400, "invalid_request")
    for body, field in (({"role": "wizard"}, "role"),
                        ({"role": ""}, "role"),
                        ({"role": 3}, "role"),
                        ({"status": "invited"}, "status"),
                        ({"status": "gone"}, "status"),
                        ({"status": None}, "status"),
                        ({"role": "operator", "status": "paused"}, "status"),
                        ({"email": "x@example.com"}, "email"),
                        ({"role": "viewer", "extra": 1}, "extra")):
        expect_invalid(patch_user(ctx, token, uid, body), field)
    listed = find_user(ctx, token, uid)
    expect_equal((listed["role"], listed["status"]), ("viewer", "active"),
                 "user unchanged after the 400s")


@test("users: PATCH an unknown id or another org's user is 404")
def patch_not_found(ctx):
    token = admin_token(ctx)
    expect_problem(patch_user(ctx, token, "usr_doesnotexist0",
                              {"role": "viewer"}), 404, "not_found")
    b_token = ctx.token_for(ctx.org_b_key)
    b_user, _, b_user_token = new_user(ctx, "viewer", token=b_token,
                                       tag="orgb")
    for body in ({"role": "admin"}, {"status": "disabled"}):
        expect_problem(patch_user(ctx, token, b_user["id"], body), 404,
                       "not_found")
    listed = find_user(ctx, b_token, b_user["id"])
    expect_equal((listed["role"], listed["status"]), ("viewer", "active"),
                 "org B's user after org A's PATCHes")
    me_of(ctx, b_user_token)  # still works


@test("users: changing the status of a still-invited user is 409 invalid_user_state")
def patch_invited_status(ctx):
    token = admin_token(ctx)
    inv = invite(ctx, token, unique_email("pend"), "viewer")
    uid = inv["user"]["id"]
    for status in ("active", "disabled"):
        expect_problem(patch_user(ctx, token, uid, {"status": status}), 409,
                       "invalid_user_state")
    expect_equal(find_user(ctx, token, uid)["status"], "invited",
                 "status after the 409s")
    accept(ctx, inv["invite_token"])  # the invite still works


@test("users: the last active admin cannot be disabled or demoted (409 last_admin)")
def patch_last_admin(ctx):
    org, token_a, me_a = fresh_org(ctx, "lastadmin")
    a = me_a["user_id"]
    for body in ({"status": "disabled"}, {"role": "operator"},
                 {"role": "viewer"}, {"role": "viewer", "status": "disabled"}):
        expect_problem(patch_user(ctx, token_a, a, body), 409, "last_admin")
    # a no-op PATCH of the last admin is fine
    patch_ok(ctx, token_a, a, {"role": "admin", "status": "active"})
    # an invited admin does not count
    invite(ctx, token_a, unique_email("pendadmin"), "admin")
    expect_problem(patch_user(ctx, token_a, a, {"role": "operator"}), 409,
                   "last_admin")
    # a disabled admin does not count
    c, _, _ = new_user(ctx, "admin", token=token_a, tag="admc")
    patch_ok(ctx, token_a, c["id"], {"status": "disabled"})
    expect_problem(patch_user(ctx, token_a, a, {"status": "disabled"}), 409,
                   "last_admin")
    # with two active admins, demoting one works, then the other is last
    b, _, token_b = new_user(ctx, "admin", token=token_a, tag="admb")
    patch_ok(ctx, token_a, a, {"role": "operator"})
    for body in ({"role": "operator"}, {"status": "disabled"}):
        expect_problem(patch_user(ctx, token_b, b["id"], body), 409,
                       "last_admin")
    users = all_users(ctx, token_b)
    active_admins = [u["id"] for u in users
                     if u["role"] == "admin" and u["status"] == "active"]
    expect_equal(active_admins, [b["id"]], "active admins at the end")


@test("users: disabling a user ends their token and key at once; enabling restores")
def patch_disable(ctx):
    admin = admin_token(ctx)
    user, key, token = new_user(ctx, "operator")
    uid = user["id"]
    me_of(ctx, token)
    expect_json(ctx.call("GET", "/v1/records", token=token), 200)
    patch_ok(ctx, admin, uid, {"status": "disabled"})
    expect_unauthorized(ctx.call("GET", "/v1/me", token=token))
    expect_unauthorized(ctx.call("GET", "/v1/records", token=token))
    expect_problem(ctx.call("POST", "/v1/auth/token", {"api_key": key}), 401,
                   "invalid_api_key")
    got = find_user(ctx, admin, uid, {"status": "disabled"})
    expect(got is not None, "disabled user missing from ?status=disabled")
    patch_ok(ctx, admin, uid, {"status": "active"})
    me = me_of(ctx, token)
    expect_equal(me.get("user_id"), uid, "/v1/me user_id after enabling")
    expect_json(ctx.call("GET", "/v1/records", token=token), 200)
    me_of(ctx, ctx.token_for(key))


# --------------------------------------------------------------------------
# roles on every route
# --------------------------------------------------------------------------

PUBLIC = "public"
ANY = frozenset(ROLES)
WRITERS = frozenset(("admin", "operator"))
ADMIN = frozenset(("admin",))

# (method, path with {id}) -> roles admitted (or PUBLIC).
ROUTES = {
    ("GET", "/v1/health"): PUBLIC,
    ("GET", "/v1/openapi.json"): PUBLIC,
    ("POST", "/v1/auth/token"): PUBLIC,
    ("POST", "/v1/users/accept"): PUBLIC,
    ("GET", "/v1/me"): ANY,
    ("POST", "/v1/records"): WRITERS,
    ("GET", "/v1/records"): ANY,
    ("GET", "/v1/records/{id}"): ANY,
    ("PATCH", "/v1/records/{id}"): WRITERS,
    ("DELETE", "/v1/records/{id}"): WRITERS,
    ("GET", "/v1/records/{id}/history"): ANY,
    ("GET", "/v1/conflicts"): ANY,
    ("GET", "/v1/conflicts/{id}"): ANY,
    ("POST", "/v1/conflicts/{id}/resolve"): WRITERS,
    ("GET", "/v1/users"): ADMIN,
    ("POST", "/v1/users/invite"): ADMIN,
    ("PATCH", "/v1/users/{id}"): ADMIN,
    ("POST", "/v1/policies"): ADMIN,
    ("GET", "/v1/policies"): ANY,
    ("POST", "/v1/policies/evaluate"): ANY,
    ("GET", "/v1/policies/{id}"): ANY,
    ("DELETE", "/v1/policies/{id}"): ADMIN,
    ("POST", "/v1/webhooks"): ADMIN,
    ("GET", "/v1/webhooks"): ADMIN,
    ("GET", "/v1/webhooks/{id}"): ADMIN,
    ("PATCH", "/v1/webhooks/{id}"): ADMIN,
    ("DELETE", "/v1/webhooks/{id}"): ADMIN,
    ("POST", "/v1/webhooks/{id}/rotate-secret"): ADMIN,
    ("POST", "/v1/webhooks/{id}/replay"): ADMIN,
    ("GET", "/v1/sync/queue"): WRITERS,
    ("POST", "/v1/sync/retry/{id}"): WRITERS,
    ("GET", "/v1/audit"): ADMIN,
    ("GET", "/v1/audit/stream"): ADMIN,
    ("GET", "/v1/events/stream"): ANY,
    ("POST", "/v1/batch"): ANY,
}

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch",
                "trace")


def normalise(path):
    return re.sub(r"\{[^}/]*\}", "{id}", path)


def documented_routes(ctx):
    resp = ctx.call("GET", "/v1/openapi.json")
    doc = expect_json(resp, 200)
    paths = doc.get("paths") if isinstance(doc, dict) else None
    expect(isinstance(paths, dict) and paths, "openapi has no paths", resp)
    out = set()
    for path, item in paths.items():
        if not isinstance(item, dict):
            continue
        for method in item:
            if method.lower() in HTTP_METHODS:
                out.add((method.upper(), normalise(path)))
    return out


def new_record(ctx, token):
    resp = ctx.call("POST", "/v1/records", {"title": "roles", "type": "note"},
                    token=token)
    rec = expect_json(resp, 201)
    expect_match(r"^rec_\S+$", rec.get("id"), "record id", resp)
    return rec


def route_request(ctx, method, path, role, fx):
    """(path, body) for one call of the matrix: real ids, valid bodies."""
    if path == "/v1/records/{id}":
        # DELETE gets a record of its own, so a delete does not disturb
        # the other calls
        rid = new_record(ctx, fx["admin"])["id"] if method == "DELETE" \
            else fx["record"]["id"]
        real = "/v1/records/" + rid
        if method == "PATCH":
            return real, {"title": "patched by " + role,
                          "causal": fx["record"]["causal"]}
        return real, None
    if path == "/v1/records/{id}/history":
        return "/v1/records/%s/history" % fx["record"]["id"], None
    if path.startswith("/v1/conflicts/{id}"):
        # no such conflict: admitted is 404, and nothing is changed
        real = path.replace("{id}", "cfl_" + "0" * 26)
        return real, {"take": "current"} if method == "POST" else None
    if path == "/v1/users/{id}":
        return "/v1/users/" + fx["target"]["id"], {"role": "viewer"}
    if path == "/v1/policies/{id}":
        return "/v1/policies/matrix_none", None     # admitted: 404
    if path.startswith("/v1/webhooks/{id}"):
        # no such endpoint: admitted is 404, and nothing is changed
        real = path.replace("{id}", "whk_" + "0" * 26)
        return real, {("PATCH", "/v1/webhooks/{id}"): {"status": "enabled"},
                      ("POST", "/v1/webhooks/{id}/replay"):
                          {"since": "2026-01-01T00:00:00.000Z"}
                      }.get((method, path))
    if path == "/v1/sync/retry/{id}":
        return "/v1/sync/retry/job_" + "0" * 26, None   # admitted: 404
    # A stream admitted would run for its lifetime: a bad start makes the
    # admitted answer 400 at once (roles are checked before the query).
    if path == "/v1/audit/stream":
        return path + "?after_seq=x", None
    if path == "/v1/events/stream":
        return path + "?types=matrix.none", None
    body = {
        ("POST", "/v1/records"): {"title": "by " + role, "type": "note"},
        ("POST", "/v1/auth/token"): {"api_key": ctx.admin_key},
        ("POST", "/v1/users/accept"): {"invite_token": "rsi_" +
                                       secrets.token_urlsafe(32)},
        ("POST", "/v1/users/invite"): {"email": unique_email("matrix"),
                                       "role": "viewer"},
        ("POST", "/v1/policies"): {"name": "matrix_" + role,
                                   "when": "title == matrix_never",
                                   "then": "queue=matrix"},
        ("POST", "/v1/policies/evaluate"): {"record": {"title": "t",
                                                       "type": "note"}},
        # no items: admitted is 400, and nothing runs
        ("POST", "/v1/batch"): {"requests": []},
        # an unknown event name: admitted is 400, and no endpoint is made
        # (one would get the demo org's events)
        ("POST", "/v1/webhooks"): {"url": "https://8.8.8.8/matrix",
                                   "events": ["matrix.none"]},
    }.get((method, path))
    return path, body


@test("users: every route answers 403 forbidden exactly where the role matrix says")
def role_matrix(ctx):
    admin = admin_token(ctx)
    _, _, operator = new_user(ctx, "operator", tag="mxop")
    _, _, viewer = new_user(ctx, "viewer", tag="mxvw")
    tokens = {"admin": admin, "operator": operator, "viewer": viewer}
    for role, tok in tokens.items():
        expect_equal(me_of(ctx, tok).get("role"), role, "token role")
    fx = {"admin": admin, "record": new_record(ctx, admin),
          "target": invite(ctx, admin, unique_email("mxtgt"),
                           "viewer")["user"]}
    problems = []
    for (method, path), allowed in sorted(ROUTES.items()):
        callers = [(None, None)] + sorted(tokens.items())
        for role, tok in callers:
            real, body = route_request(ctx, method, path, role or "anon", fx)
            resp = ctx.call(method, real, body, token=tok)
            where = "%s %s as %s" % (method, real, role or "no token")
            if allowed == PUBLIC:
                if resp.status is None or resp.status in (401, 403, 405) \
                        or resp.status >= 500:
                    problems.append("%s: got %s, expected a public answer"
                                    % (where, resp.status))
            elif role is None:
                if resp.status != 401:
                    problems.append("%s: got %s, expected 401"
                                    % (where, resp.status))
            elif role in allowed:
                if resp.status is None or resp.status in (401, 403, 405) \
                        or resp.status >= 500:
                    problems.append("%s: got %s, expected the role to be "
                                    "admitted" % (where, resp.status))
            else:
                try:
                    expect_problem(resp, 403, "forbidden")
                except Failure as e:
                    problems.append("%s: expected 403 forbidden: %s"
                                    % (where, e))
    expect(not problems, "role matrix mismatches: " + "; ".join(problems))
    # the refused PATCHes of the target user changed nothing
    expect_equal(find_user(ctx, admin, fx["target"]["id"])["status"],
                 "invited", "target user's status")


@test("users: every route /v1/openapi.json documents has a role expectation")
def role_matrix_covers_openapi(ctx):
    missing = sorted(documented_routes(ctx) - set(ROUTES))
    expect(not missing, "documented routes without a role expectation in "
           "test_users.ROUTES: %r" % missing)


@test("users: /v1/openapi.json documents the users routes")
def openapi_documents_users(ctx):
    documented = documented_routes(ctx)
    wanted = {r for r in ROUTES if r[1].startswith("/v1/users")}
    missing = sorted(wanted - documented)
    expect(not missing, "routes missing from /v1/openapi.json: %r" % missing)


# --------------------------------------------------------------------------
# last_sync_at
# --------------------------------------------------------------------------

@test("users: last_sync_at is set by a records read, not by /v1/me, and kept within the minute")
def last_sync(ctx):
    admin = admin_token(ctx)
    user, _, token = new_user(ctx, "viewer", tag="sync")
    uid = user["id"]
    expect_equal(user["last_sync_at"], None, "last_sync_at after accept")
    filt = {"role": "viewer"}
    expect_equal(find_user(ctx, admin, uid, filt)["last_sync_at"], None,
                 "last_sync_at of a fresh user")
    me_of(ctx, token)
    expect_equal(find_user(ctx, admin, uid, filt)["last_sync_at"], None,
                 "last_sync_at after GET /v1/me")
    expect_json(ctx.call("GET", "/v1/records", token=token), 200)
    first = find_user(ctx, admin, uid, filt)["last_sync_at"]
    expect(first is not None, "last_sync_at still null after GET /v1/records")
    expect_match(TIME_RE, first, "last_sync_at")
    gap = abs(parse_time(first) - time.time())
    expect(gap <= 5, "last_sync_at %s is %.1f s from now" % (first, gap))
    time.sleep(1.2)
    expect_json(ctx.call("GET", "/v1/records", token=token), 200)
    expect_equal(find_user(ctx, admin, uid, filt)["last_sync_at"], first,
                 "last_sync_at after a second records call within the minute")
    # the unfiltered list agrees
    expect_equal(find_user(ctx, admin, uid)["last_sync_at"], first,
                 "unfiltered list")


@test("users: last_sync_at is set by a records write")
def last_sync_write(ctx):
    admin = admin_token(ctx)
    user, _, token = new_user(ctx, "operator", tag="syncw")
    expect_equal(find_user(ctx, admin, user["id"])["last_sync_at"], None,
                 "last_sync_at of a fresh user")
    new_record(ctx, token)
    got = find_user(ctx, admin, user["id"])["last_sync_at"]
    expect(got is not None, "last_sync_at still null after POST /v1/records")
    gap = abs(parse_time(got) - time.time())
    expect(gap <= 5, "last_sync_at %s is %.1f s from now" % (got, gap))


# --------------------------------------------------------------------------
# events
# --------------------------------------------------------------------------

@test("users: one user.invited event per invite and one user.activated per accept")
def events(ctx):
    token = admin_token(ctx)
    inv = invite(ctx, token, unique_email("evt"), "operator")
    uid = inv["user"]["id"]
    got = user_events(ctx, "user.invited", uid)
    expect_equal(len(got), 1, "user.invited events for %s" % uid)
    expect_equal(got[0][0], ctx.org_id, "event org_id")
    expect_equal(got[0][2].get("data"), inv["user"],
                 "user.invited payload.data")
    expect_equal(len(user_events(ctx, "user.activated", uid)), 0,
                 "user.activated events before accept")
    # a refused duplicate invite adds no event
    resp = ctx.call("POST", "/v1/users/invite",
                    {"email": inv["user"]["email"].upper(), "role": "viewer"},
                    token=token)
    expect_problem(resp, 409, "user_exists")
    acc = accept(ctx, inv["invite_token"])
    act = user_events(ctx, "user.activated", uid)
    expect_equal(len(act), 1, "user.activated events for %s" % uid)
    expect_equal(act[0][0], ctx.org_id, "event org_id")
    expect_equal(act[0][2].get("data"), acc["user"],
                 "user.activated payload.data")
    # a refused second accept adds no event
    resp = ctx.call("POST", "/v1/users/accept",
                    {"invite_token": inv["invite_token"]})
    expect_problem(resp, 410, "invite_invalid")
    expect_equal(len(user_events(ctx, "user.invited", uid)), 1,
                 "user.invited events at the end")
    expect_equal(len(user_events(ctx, "user.activated", uid)), 1,
                 "user.activated events at the end")
