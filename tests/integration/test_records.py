"""Records: create, read, patch, delete, idempotency keys, lists, cursors,
delta sync and the outbox (CONTRACT.md section 3; the decisions it leaves
open are pinned in spec/records.md).

Every test name starts with "records: " so that `-k records` selects them
all. Tests that need a clean slate (delta sync) use a fresh org made with
the CLI; the others use the demo org and a fresh record `type` per test,
listed with `?type=`.
"""

import datetime
import hashlib
import hmac
import json
import secrets
import sqlite3
import time
import urllib.parse

import harness
from harness import (HTTP_TIMEOUT, b64url, expect, expect_equal, expect_json,
                     expect_match, expect_problem, expect_status, kdf_subkey,
                     read_master_key, run_parallel, test)

TIME_RE = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"
REC_ID_RE = r"^rec_[0-9a-z]{26}$"
ULID_RE = r"^[0-9A-HJKMNP-TV-Z]{26}$"
USR_RE = r"^usr_\S+$"
EVT_RE = r"^evt_\S+$"
RECORD_MEMBERS = ["causal", "created_at", "created_by", "data", "deleted",
                  "deleted_at", "id", "queue", "site", "size", "status",
                  "title", "type", "updated_at", "version"]
MAX_DATA = 65536
FORM = "application/x-www-form-urlencoded"
TOKEN_REUSE = 600        # seconds a cached access token is reused (ttl 900)
RATE_RETRIES = 3         # a 429 rate_limited is retried (not what we test)
UNKNOWN_ID = "rec_" + "0" * 26
MAX_PAGES = 30           # bound on every cursor walk


def rtest(name, last=False):
    return test("records: " + name, last)


# --------------------------------------------------------------------------
# helpers: identities
# --------------------------------------------------------------------------

def state(ctx):
    """Per-run cache of API keys and access tokens (on the Context)."""
    st = getattr(ctx, "_records_state", None)
    if st is None:
        st = ctx._records_state = {"tokens": {}, "keys": {}}
    return st


def token(ctx, key):
    tokens = state(ctx)["tokens"]
    hit = tokens.get(key)
    if hit and time.monotonic() - hit[1] < TOKEN_REUSE:
        return hit[0]
    tok = ctx.token_for(key)
    tokens[key] = (tok, time.monotonic())
    return tok


def cli_ok(ctx, args):
    rc, out, err = ctx.cli(args)
    expect(rc == 0, "relaysync-admin %s: exit %d, stdout %r, stderr %r"
           % (" ".join(args), rc, out, err))
    return out.strip()


def admin(ctx):
    return token(ctx, ctx.admin_key)


def admin_b(ctx):
    return token(ctx, ctx.org_b_key)


def role_token(ctx, role):
    """A token of the demo org's records-<role>@example.com user."""
    keys = state(ctx)["keys"]
    if role not in keys:
        keys[role] = json.loads(cli_ok(
            ctx, ["key", "create", "--org", ctx.org_id, "--email",
                  "records-%s@example.com" % role, "--role", role,
                  "--json"]))["api_key"]
    return token(ctx, keys[role])


def fresh_org(ctx):
    """A new org with its own admin: (org_id, admin token)."""
    label = secrets.token_hex(4)
    org = cli_ok(ctx, ["org", "create", "records-" + label])
    key = json.loads(cli_ok(ctx, ["key", "create", "--org", org, "--email",
                                  "admin@%s.example.com" % label, "--role",
                                  "admin", "--json"]))["api_key"]
    return org, token(ctx, key)


def user_id(ctx, tok):
    resp = call(ctx, "GET", "/v1/me", token=tok)
    body = expect_json(resp)
    expect_match(USR_RE, body.get("user_id"), "me user_id", resp)
    return body["user_id"]


# --------------------------------------------------------------------------
# helpers: HTTP
# --------------------------------------------------------------------------

def call(ctx, method, path, body=None, headers=None, token=None):
    """ctx.call, retrying (bounded) a 429 rate_limited: the per-org rate
    limit is not what these tests are about."""
    for attempt in range(RATE_RETRIES + 1):
        resp = ctx.call(method, path, body, headers, token)
        if (resp.status != 429 or b"rate_limited" not in resp.body
                or attempt == RATE_RETRIES):
            return resp
        try:
            wait = float(resp.headers.get("Retry-After") or 1)
        except ValueError:
            wait = 1.0
        time.sleep(min(2.0, max(0.1, wait)))
    return resp


def uniq(label="t"):
    return "%s-%s" % (label, secrets.token_hex(6))


def new_body(**members):
    body = {"title": "Pressure check", "type": uniq()}
    body.update(members)
    return body


def rec_path(rec_id):
    return "/v1/records/" + rec_id


def post(ctx, body, tok=None, headers=None):
    return call(ctx, "POST", "/v1/records", body, headers, tok or admin(ctx))


def create(ctx, tok=None, **members):
    """POST a record (title, fresh type, MEMBERS); expects 201."""
    resp = post(ctx, new_body(**members), tok)
    rec = expect_json(resp, 201)
    expect(isinstance(rec, dict), "record is not an object", resp)
    expect_match(REC_ID_RE, rec.get("id"), "id", resp)
    expect_match(ULID_RE, rec.get("causal"), "causal", resp)
    return rec


def get(ctx, rec_id, tok=None):
    return call(ctx, "GET", rec_path(rec_id), token=tok or admin(ctx))


def get_ok(ctx, rec_id, tok=None):
    resp = get(ctx, rec_id, tok)
    return expect_json(resp, 200)


def patch(ctx, rec_id, body, tok=None, headers=None):
    return call(ctx, "PATCH", rec_path(rec_id), body, headers,
                tok or admin(ctx))


def patch_ok(ctx, rec, members, tok=None):
    body = dict(members)
    body["causal"] = rec["causal"]
    resp = patch(ctx, rec["id"], body, tok)
    return expect_json(resp, 200)


def delete(ctx, rec_id, tok=None, headers=None):
    return call(ctx, "DELETE", rec_path(rec_id), None, headers,
                tok or admin(ctx))


def delete_ok(ctx, rec_id, tok=None):
    return expect_json(delete(ctx, rec_id, tok), 200)


def if_match(causal):
    return {"If-Match": '"%s"' % causal}


def list_path(params):
    return "/v1/records" + ("?" + urllib.parse.urlencode(params)
                            if params else "")


def list_page(ctx, params, tok=None):
    return call(ctx, "GET", list_path(params), token=tok or admin(ctx))


def list_ok(ctx, params, tok=None):
    resp = list_page(ctx, params, tok)
    body = expect_json(resp, 200)
    expect_list_shape(body, resp)
    return body


def walk(ctx, params, tok=None):
    """Every item of a list, following next_cursor with the same PARAMS;
    returns (items, last page body)."""
    items, cursor = [], None
    for _ in range(MAX_PAGES):
        query = dict(params)
        if cursor:
            query["cursor"] = cursor
        resp = list_page(ctx, query, tok)
        body = expect_json(resp, 200)
        expect_list_shape(body, resp)
        items += body["data"]
        if not body["has_more"]:
            return items, body
        cursor = body["next_cursor"]
        expect(isinstance(cursor, str) and cursor,
               "has_more is true but next_cursor is %r" % (cursor,), resp)
    raise AssertionError("list did not end within %d pages" % MAX_PAGES)


def ids(items):
    return [r.get("id") for r in items]


def compact_len(data):
    return len(json.dumps(data, separators=(",", ":")).encode("utf-8"))


def alter_one_char(value):
    """VALUE with one character changed in the middle, away from '.' and
    from the ends (whose base64 characters may carry only padding bits)."""
    i = len(value) // 2
    while i < len(value) - 2 and "." in value[i - 1:i + 2]:
        i += 1
    repl = "A" if value[i] != "A" else "B"
    return value[:i] + repl + value[i + 1:]


# --------------------------------------------------------------------------
# helpers: expectations
# --------------------------------------------------------------------------

def parse_ms(value):
    """An RFC 3339 UTC millisecond time -> Unix milliseconds (int)."""
    dt = datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ")
    dt = dt.replace(tzinfo=datetime.timezone.utc)
    return int(dt.timestamp()) * 1000 + dt.microsecond // 1000


def format_ms(ms):
    dt = datetime.datetime.fromtimestamp(ms // 1000, datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (ms % 1000)


def expect_record(rec, resp):
    """REC has exactly the record members, each of the right shape."""
    expect(isinstance(rec, dict), "record is not an object: %r" % (rec,),
           resp)
    expect_equal(sorted(rec), RECORD_MEMBERS, "record members", resp)
    expect_match(REC_ID_RE, rec["id"], "id", resp)
    expect_match(ULID_RE, rec["causal"], "causal", resp)
    expect_match(USR_RE, rec["created_by"], "created_by", resp)
    for name in ("created_at", "updated_at"):
        expect_match(TIME_RE, rec[name], name, resp)
    for name in ("title", "type", "status", "queue"):
        expect(isinstance(rec[name], str), "%s is not a string" % name, resp)
    expect(rec["site"] is None or isinstance(rec["site"], str),
           "site is neither null nor a string", resp)
    expect(isinstance(rec["data"], dict), "data is not an object", resp)
    expect(type(rec["size"]) is int, "size is not an integer", resp)
    expect(type(rec["version"]) is int, "version is not an integer", resp)
    expect(type(rec["deleted"]) is bool, "deleted is not a boolean", resp)
    if rec["deleted"]:
        expect_match(TIME_RE, rec["deleted_at"], "deleted_at", resp)
    else:
        expect_equal(rec["deleted_at"], None, "deleted_at", resp)


def expect_etag(resp, causal):
    expect_equal(resp.headers.get("ETag"), '"%s"' % causal, "ETag", resp)


def expect_list_shape(body, resp):
    expect(isinstance(body, dict), "list answer is not an object", resp)
    expect(isinstance(body.get("data"), list), "data is not an array", resp)
    expect(type(body.get("has_more")) is bool, "has_more is not a boolean",
           resp)
    cursor = body.get("next_cursor", "missing")
    expect(cursor is None or (isinstance(cursor, str) and cursor),
           "next_cursor: expected a string or null, got %r" % (cursor,), resp)
    expect(isinstance(body.get("sync_token"), str) and body["sync_token"],
           "sync_token: expected a non-empty string", resp)


def field_errors(body):
    errors = body.get("errors")
    if not isinstance(errors, list):
        return []
    return [e.get("field") for e in errors if isinstance(e, dict)]


def expect_invalid(resp, fields, exact=False):
    """400 invalid_request whose `errors` name every one of FIELDS (and
    nothing else when EXACT), each with a message."""
    body = expect_problem(resp, 400, "invalid_request")
    errors = body.get("errors")
    expect(isinstance(errors, list), "errors: expected an array", resp)
    for e in errors:
        expect(isinstance(e, dict) and isinstance(e.get("field"), str)
               and isinstance(e.get("message"), str) and e["message"],
               "errors entry without field and message: %r" % (e,), resp)
    got = field_errors(body)
    for field in fields:
        expect(field in got, "errors should name %r, named %r"
               % (field, got), resp)
    if exact:
        expect_equal(sorted(got), sorted(fields), "errors fields", resp)
    return body


def expect_unchanged(ctx, rec, tok=None):
    """The record still reads exactly as REC."""
    resp = get(ctx, rec["id"], tok)
    now = expect_json(resp, 200)
    expect_equal(now, rec, "record after the refused write", resp)


def expect_count_of_type(ctx, rec_type, count, tok=None, deleted=False):
    params = {"type": rec_type}
    if deleted:
        params["include_deleted"] = "true"
    items, _ = walk(ctx, params, tok)
    expect_equal(len(items), count, "records of type %s" % rec_type)
    return items


# --------------------------------------------------------------------------
# helpers: the outbox and sync tokens
# --------------------------------------------------------------------------

def db_rows(ctx, sql, args):
    if harness.is_pg():
        return harness.db_run(ctx, sql, args)[0]
    conn = sqlite3.connect("file:%s?mode=ro" % ctx.workspace.db, uri=True,
                           timeout=5)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def events_of(ctx, record_id):
    """The outbox rows of one record, oldest first, as dicts."""
    rows = db_rows(ctx, "SELECT id, org_id, type, record_id, payload, "
                   "created_at FROM events WHERE record_id = ? ORDER BY " +
                   harness.dialect("rowid", "seq"), (record_id,))
    out = []
    for row in rows:
        event = dict(zip(("id", "org_id", "type", "record_id", "payload",
                          "created_at"), row))
        try:
            event["payload"] = json.loads(event["payload"])
        except ValueError as e:
            raise AssertionError("event %s payload is not JSON: %s"
                                 % (event["id"], e))
        out.append(event)
    return out


def event_count(ctx, org_id):
    return db_rows(ctx, "SELECT count(*) FROM events WHERE org_id = ?",
                   (org_id,))[0][0]


def event_types(events):
    return [e["type"] for e in events]


def expect_event(ctx, event, etype, record):
    """EVENT is an outbox row of type ETYPE whose payload carries RECORD."""
    what = "event %s" % event["id"]
    expect_match(EVT_RE, event["id"], what + " id")
    expect_equal(event["type"], etype, what + " type")
    expect_equal(event["org_id"], ctx.org_id, what + " org_id")
    payload = event["payload"]
    expect(isinstance(payload, dict), what + " payload is not an object")
    # record.conflict also names the conflict it kept (test_conflicts.py).
    members = ["data", "id", "org_id", "timestamp", "type"]
    if etype == "record.conflict":
        members = ["conflict_id"] + members
        expect_match(r"^cfl_[0-9a-z]{26}$", payload.get("conflict_id"),
                     what + " conflict_id")
    expect_equal(sorted(payload), members, what + " payload members")
    expect_equal(payload["id"], event["id"], what + " payload id")
    expect_equal(payload["type"], etype, what + " payload type")
    expect_equal(payload["org_id"], ctx.org_id, what + " payload org_id")
    expect_match(TIME_RE, payload["timestamp"], what + " payload timestamp")
    expect_equal(payload["data"], record, what + " payload data")


def mint_sync_token(ctx, org_id, change_seq, issued_ms):
    """A sync token signed as the server signs them (spec/records.md)."""
    payload = "sync\n%s\n%d\n%d" % (org_id, change_seq, issued_ms)
    head = "rss1." + b64url(payload.encode("utf-8"))
    key = kdf_subkey(read_master_key(ctx.secret_file), 3, b"rs_cursr")
    tag = hmac.new(key, head.encode("ascii"), hashlib.sha512).digest()[:32]
    return head + "." + b64url(tag)


def now_ms():
    return int(time.time() * 1000)


# ==========================================================================
# create
# ==========================================================================

@rtest("POST /v1/records answers 201 with every record member")
def create_shape(ctx):
    body = new_body(site="alpha", status="queued",
                    data={"pressure": 7, "unit": "bar"})
    resp = post(ctx, body)
    rec = expect_json(resp, 201)
    expect_record(rec, resp)
    for name in ("title", "type", "site", "status", "data"):
        expect_equal(rec[name], body[name], name, resp)
    expect_equal(rec["version"], 1, "version", resp)
    expect_equal(rec["deleted"], False, "deleted", resp)
    expect_equal(rec["queue"], "default", "queue", resp)
    expect_equal(rec["size"], compact_len(body["data"]), "size", resp)


@rtest("POST /v1/records sets Location: /v1/records/<id>")
def create_location(ctx):
    resp = post(ctx, new_body())
    rec = expect_json(resp, 201)
    expect_equal(resp.headers.get("Location"), rec_path(rec.get("id")),
                 "Location", resp)


@rtest("POST /v1/records sets ETag: \"<causal>\"")
def create_etag(ctx):
    resp = post(ctx, new_body())
    rec = expect_json(resp, 201)
    expect_match(ULID_RE, rec.get("causal"), "causal", resp)
    expect_etag(resp, rec["causal"])


@rtest("created_by is the creating admin's user id")
def create_created_by_admin(ctx):
    me = user_id(ctx, admin(ctx))
    expect_equal(create(ctx)["created_by"], me, "created_by")


@rtest("an operator may create; created_by is the operator's user id")
def create_operator(ctx):
    tok = role_token(ctx, "operator")
    me = user_id(ctx, tok)
    expect_equal(create(ctx, tok)["created_by"], me, "created_by")


@rtest("POST defaults: site null, status queued, data {} of size 2")
def create_defaults(ctx):
    resp = post(ctx, {"title": "Defaults", "type": uniq()})
    rec = expect_json(resp, 201)
    expect_record(rec, resp)
    expect_equal(rec["site"], None, "site", resp)
    expect_equal(rec["status"], "queued", "status", resp)
    expect_equal(rec["data"], {}, "data", resp)
    expect_equal(rec["size"], 2, "size", resp)


@rtest("size is the compact byte length of data sent with whitespace")
def create_size_compact(ctx):
    data = {"b": [1, 2, {"c": "x y"}], "a": "z", "n": {"m": 12345}}
    raw = ('{"title":"Size","type":"%s","data":{ "b" : [1, 2, {"c" : "x y"}],'
           ' "a" :\n"z", "n" : { "m" : 12345 } } }' % uniq()).encode()
    resp = post(ctx, raw)
    rec = expect_json(resp, 201)
    expect_equal(rec.get("data"), data, "data", resp)
    expect_equal(rec.get("size"), compact_len(data), "size", resp)


@rtest("POST accepts status synced, conflict and failed")
def create_statuses(ctx):
    for status in ("synced", "conflict", "failed"):
        resp = post(ctx, new_body(status=status))
        rec = expect_json(resp, 201)
        expect_equal(rec.get("status"), status, "status", resp)


@rtest("POST accepts site null")
def create_site_null(ctx):
    resp = post(ctx, new_body(site=None))
    expect_equal(expect_json(resp, 201).get("site"), None, "site", resp)


@rtest("POST accepts title, type and site of exactly 200 characters")
def create_200_chars(ctx):
    rec_type = uniq()
    body = {"title": "t" * 200, "type": rec_type + "y" * (200 - len(rec_type)),
            "site": "s" * 200}
    resp = post(ctx, body)
    rec = expect_json(resp, 201)
    for name in ("title", "type", "site"):
        expect_equal(rec.get(name), body[name], name, resp)


@rtest("POST accepts data of exactly 64 KiB compact")
def create_data_64k(ctx):
    data = {"k": "a" * (MAX_DATA - 8)}
    expect_equal(compact_len(data), MAX_DATA, "test's own data size")
    resp = post(ctx, new_body(data=data))
    rec = expect_json(resp, 201)
    expect_equal(rec.get("size"), MAX_DATA, "size", resp)


@rtest("GET /v1/records/<id> answers the created record with its ETag")
def get_one(ctx):
    rec = create(ctx, site="beta", data={"x": 1})
    resp = get(ctx, rec["id"])
    body = expect_json(resp, 200)
    expect_equal(body, rec, "record", resp)
    expect_etag(resp, rec["causal"])


# --------------------------------------------------------------------------
# create: validation
# --------------------------------------------------------------------------

@rtest("POST without title and type names both in errors")
def create_missing_required(ctx):
    expect_invalid(post(ctx, {"site": "alpha"}), ["title", "type"])


@rtest("POST with a 201-char title and status bogus gives exactly two errors")
def create_two_errors(ctx):
    resp = post(ctx, new_body(title="t" * 201, status="bogus"))
    expect_invalid(resp, ["title", "status"], exact=True)


@rtest("POST with an empty title is 400 naming title")
def create_empty_title(ctx):
    expect_invalid(post(ctx, new_body(title="")), ["title"])


@rtest("POST with a numeric title is 400 naming title")
def create_numeric_title(ctx):
    expect_invalid(post(ctx, new_body(title=5)), ["title"])


@rtest("POST with a 201-char type is 400 naming type")
def create_long_type(ctx):
    expect_invalid(post(ctx, new_body(type="y" * 201)), ["type"])


@rtest("POST with an empty site is 400 naming site")
def create_empty_site(ctx):
    expect_invalid(post(ctx, new_body(site="")), ["site"])


@rtest("POST with a 201-char site is 400 naming site")
def create_long_site(ctx):
    expect_invalid(post(ctx, new_body(site="s" * 201)), ["site"])


@rtest("POST with status bogus is 400 naming status")
def create_bad_status(ctx):
    expect_invalid(post(ctx, new_body(status="bogus")), ["status"])


@rtest("POST with an unknown member is 400 naming it")
def create_unknown_member(ctx):
    expect_invalid(post(ctx, new_body(colour="red")), ["colour"])


@rtest("POST with data [1] is 400 naming data")
def create_data_array(ctx):
    expect_invalid(post(ctx, new_body(data=[1])), ["data"])


@rtest("POST with data of 64 KiB + 1 byte is 400 naming data")
def create_data_too_big(ctx):
    data = {"k": "a" * (MAX_DATA - 7)}
    expect_equal(compact_len(data), MAX_DATA + 1, "test's own data size")
    expect_invalid(post(ctx, new_body(data=data)), ["data"])


@rtest("POST body [1] is 400 invalid_request")
def create_array_body(ctx):
    expect_problem(post(ctx, b"[1]"), 400, "invalid_request")


@rtest("POST with Content-Type text/plain is 415")
def create_text_plain(ctx):
    resp = post(ctx, new_body(), headers={"Content-Type": "text/plain"})
    expect_problem(resp, 415, "unsupported_media_type")


@rtest("a refused POST creates nothing")
def create_refused_nothing(ctx):
    body = new_body(status="bogus")
    expect_problem(post(ctx, body), 400, "invalid_request")
    expect_count_of_type(ctx, body["type"], 0)


# --------------------------------------------------------------------------
# roles and auth
# --------------------------------------------------------------------------

@rtest("GET /v1/records without a bearer token is 401")
def list_no_token(ctx):
    resp = ctx.call("GET", "/v1/records")
    expect_problem(resp, 401, "unauthorized")


@rtest("a viewer may not POST /v1/records (403 forbidden)")
def viewer_post(ctx):
    body = new_body()
    resp = post(ctx, body, role_token(ctx, "viewer"))
    expect_problem(resp, 403, "forbidden")
    expect_count_of_type(ctx, body["type"], 0)


@rtest("a viewer may not PATCH a record (403 forbidden)")
def viewer_patch(ctx):
    rec = create(ctx)
    resp = patch(ctx, rec["id"], {"title": "x", "causal": rec["causal"]},
                 role_token(ctx, "viewer"))
    expect_problem(resp, 403, "forbidden")
    expect_unchanged(ctx, rec)


@rtest("a viewer may not DELETE a record (403 forbidden)")
def viewer_delete(ctx):
    rec = create(ctx)
    expect_problem(delete(ctx, rec["id"], role_token(ctx, "viewer")), 403,
                   "forbidden")
    expect_unchanged(ctx, rec)


@rtest("a viewer may GET a record and the list")
def viewer_reads(ctx):
    rec = create(ctx)
    tok = role_token(ctx, "viewer")
    expect_equal(get_ok(ctx, rec["id"], tok), rec, "record")
    expect_equal(ids(list_ok(ctx, {"type": rec["type"]}, tok)["data"]),
                 [rec["id"]], "list ids")


@rtest("an operator may PATCH a record")
def operator_patch(ctx):
    rec = create(ctx)
    done = patch_ok(ctx, rec, {"title": "by operator"},
                    role_token(ctx, "operator"))
    expect_equal(done.get("title"), "by operator", "title")


@rtest("an operator may DELETE a record")
def operator_delete(ctx):
    rec = create(ctx)
    done = delete_ok(ctx, rec["id"], role_token(ctx, "operator"))
    expect_equal(done.get("deleted"), True, "deleted")


# --------------------------------------------------------------------------
# get
# --------------------------------------------------------------------------

@rtest("GET an unknown well-formed record id is 404")
def get_unknown(ctx):
    expect_problem(get(ctx, UNKNOWN_ID), 404, "not_found")


@rtest("GET /v1/records/rec_1011 (malformed id) is 404")
def get_malformed(ctx):
    expect_problem(get(ctx, "rec_1011"), 404, "not_found")


@rtest("GET another org's record is 404")
def get_other_org(ctx):
    rec = create(ctx)
    expect_problem(get(ctx, rec["id"], admin_b(ctx)), 404, "not_found")


@rtest("PATCH another org's record is 404 and changes nothing")
def patch_other_org(ctx):
    rec = create(ctx)
    resp = patch(ctx, rec["id"], {"title": "mine", "causal": rec["causal"]},
                 admin_b(ctx))
    expect_problem(resp, 404, "not_found")
    expect_unchanged(ctx, rec)


@rtest("DELETE another org's record is 404 and changes nothing")
def delete_other_org(ctx):
    rec = create(ctx)
    expect_problem(delete(ctx, rec["id"], admin_b(ctx)), 404, "not_found")
    expect_unchanged(ctx, rec)


@rtest("another org's list does not show the record")
def list_other_org(ctx):
    rec = create(ctx)
    body = list_ok(ctx, {"type": rec["type"]}, admin_b(ctx))
    expect_equal(body["data"], [], "org B's data")


@rtest("GET a deleted record is 410 record_deleted with the tombstone")
def get_deleted(ctx):
    rec = create(ctx)
    tomb = delete_ok(ctx, rec["id"])
    resp = get(ctx, rec["id"])
    body = expect_problem(resp, 410, "record_deleted")
    expect_equal(body.get("record"), tomb, "member record", resp)
    expect_equal(body["record"].get("deleted"), True, "record.deleted", resp)
    expect_etag(resp, tomb["causal"])


@rtest("PUT /v1/records/<id> is 405 with Allow")
def put_record(ctx):
    rec = create(ctx)
    resp = call(ctx, "PUT", rec_path(rec["id"]), {"title": "x"},
                token=admin(ctx))
    expect_problem(resp, 405, "method_not_allowed")
    allow = resp.headers.get("Allow") or ""
    for method in ("GET", "PATCH", "DELETE"):
        expect(method in allow, "Allow should contain %s" % method, resp)


# ==========================================================================
# patch
# ==========================================================================

@rtest("PATCH with body causal: 200, new causal, version+1, updated_at later")
def patch_body_causal(ctx):
    rec = create(ctx, site="alpha", data={"a": 1})
    time.sleep(0.02)  # so that a later updated_at is visible in ms
    resp = patch(ctx, rec["id"], {"title": "Renamed", "causal": rec["causal"]})
    new = expect_json(resp, 200)
    expect_record(new, resp)
    expect_equal(new["title"], "Renamed", "title", resp)
    expect(new["causal"] != rec["causal"], "causal did not change", resp)
    expect_equal(new["version"], rec["version"] + 1, "version", resp)
    expect(parse_ms(new["updated_at"]) > parse_ms(rec["updated_at"]),
           "updated_at did not advance", resp)
    for name in ("id", "type", "site", "status", "data", "size", "deleted",
                 "deleted_at", "created_at", "created_by", "queue"):
        expect_equal(new[name], rec[name], name, resp)
    expect_etag(resp, new["causal"])


@rtest("PATCH is visible to a later GET")
def patch_persisted(ctx):
    rec = create(ctx)
    new = patch_ok(ctx, rec, {"status": "failed", "type": uniq()})
    expect_equal(get_ok(ctx, rec["id"]), new, "record after PATCH")


@rtest("PATCH with If-Match: \"<causal>\" is applied")
def patch_if_match(ctx):
    rec = create(ctx)
    resp = patch(ctx, rec["id"], {"status": "conflict"},
                 headers=if_match(rec["causal"]))
    new = expect_json(resp, 200)
    expect_equal(new.get("status"), "conflict", "status", resp)
    expect_equal(new.get("version"), 2, "version", resp)


@rtest("PATCH with equal If-Match and body causal is applied")
def patch_both_equal(ctx):
    rec = create(ctx)
    resp = patch(ctx, rec["id"], {"title": "both", "causal": rec["causal"]},
                 headers=if_match(rec["causal"]))
    expect_equal(expect_json(resp, 200).get("title"), "both", "title", resp)


@rtest("each PATCH adds 1 to version and gives a new causal")
def patch_versions(ctx):
    rec = create(ctx)
    one = patch_ok(ctx, rec, {"title": "one"})
    two = patch_ok(ctx, one, {"title": "two"})
    expect_equal([rec["version"], one["version"], two["version"]], [1, 2, 3],
                 "versions")
    expect(len({rec["causal"], one["causal"], two["causal"]}) == 3,
           "causal repeated: %r" % ([rec["causal"], one["causal"],
                                     two["causal"]],))


@rtest("PATCH site null clears the site")
def patch_site_null(ctx):
    rec = create(ctx, site="alpha")
    expect_equal(patch_ok(ctx, rec, {"site": None}).get("site"), None, "site")


@rtest("PATCH data merges by RFC 7396 (null removes, objects merge)")
def patch_data_merge(ctx):
    rec = create(ctx, data={"a": 1, "b": {"c": 1, "d": 2}, "e": "x"})
    new = patch_ok(ctx, rec, {"data": {"a": None, "b": {"c": None, "f": 3},
                                       "g": [1]}})
    expect_equal(new.get("data"), {"b": {"d": 2, "f": 3}, "e": "x",
                                   "g": [1]}, "data")


@rtest("PATCH data recomputes size")
def patch_data_size(ctx):
    rec = create(ctx, data={"a": 1})
    new = patch_ok(ctx, rec, {"data": {"long": "z" * 100}})
    expect(isinstance(new.get("data"), dict), "data is not an object")
    expect_equal(new.get("size"), compact_len(new["data"]), "size")
    expect_equal(new["size"], compact_len({"a": 1, "long": "z" * 100}),
                 "size")


@rtest("PATCH without a causal token is 428 causal_required")
def patch_no_causal(ctx):
    rec = create(ctx)
    expect_problem(patch(ctx, rec["id"], {"title": "x"}), 428,
                   "causal_required")
    expect_unchanged(ctx, rec)


@rtest("PATCH with a stale body causal is 409 with current, unchanged")
def patch_stale_body(ctx):
    rec = create(ctx)
    cur = patch_ok(ctx, rec, {"title": "first"})
    resp = patch(ctx, rec["id"], {"title": "second", "causal": rec["causal"]})
    body = expect_problem(resp, 409, "causal_conflict")
    expect_equal(body.get("current"), cur, "member current", resp)
    expect_unchanged(ctx, cur)


@rtest("PATCH with a stale If-Match is 412 with current, unchanged")
def patch_stale_header(ctx):
    rec = create(ctx)
    cur = patch_ok(ctx, rec, {"title": "first"})
    resp = patch(ctx, rec["id"], {"title": "second"},
                 headers=if_match(rec["causal"]))
    body = expect_problem(resp, 412, "causal_conflict")
    expect_equal(body.get("current"), cur, "member current", resp)
    expect_unchanged(ctx, cur)


@rtest("PATCH with If-Match and body causal different is 400")
def patch_both_differ(ctx):
    rec = create(ctx)
    cur = patch_ok(ctx, rec, {"title": "first"})
    resp = patch(ctx, rec["id"], {"title": "x", "causal": rec["causal"]},
                 headers=if_match(cur["causal"]))
    expect_problem(resp, 400, "invalid_request")
    expect_unchanged(ctx, cur)


@rtest("PATCH with only causal is 400 invalid_request")
def patch_only_causal(ctx):
    rec = create(ctx)
    expect_problem(patch(ctx, rec["id"], {"causal": rec["causal"]}), 400,
                   "invalid_request")
    expect_unchanged(ctx, rec)


@rtest("PATCH status bogus is 400 naming status")
def patch_bad_status(ctx):
    rec = create(ctx)
    resp = patch(ctx, rec["id"], {"status": "bogus", "causal": rec["causal"]})
    expect_invalid(resp, ["status"])
    expect_unchanged(ctx, rec)


@rtest("PATCH title null is 400 naming title")
def patch_title_null(ctx):
    rec = create(ctx)
    resp = patch(ctx, rec["id"], {"title": None, "causal": rec["causal"]})
    expect_invalid(resp, ["title"])
    expect_unchanged(ctx, rec)


@rtest("PATCH data [1] is 400 naming data")
def patch_data_array(ctx):
    rec = create(ctx)
    resp = patch(ctx, rec["id"], {"data": [1], "causal": rec["causal"]})
    expect_invalid(resp, ["data"])
    expect_unchanged(ctx, rec)


@rtest("PATCH with an unknown member is 400 naming it")
def patch_unknown_member(ctx):
    rec = create(ctx)
    resp = patch(ctx, rec["id"], {"colour": "red", "causal": rec["causal"]})
    expect_invalid(resp, ["colour"])
    expect_unchanged(ctx, rec)


@rtest("PATCH a deleted record is 410 record_deleted")
def patch_deleted(ctx):
    rec = create(ctx)
    tomb = delete_ok(ctx, rec["id"])
    resp = patch(ctx, rec["id"], {"title": "x", "causal": tomb["causal"]})
    expect_problem(resp, 410, "record_deleted")


@rtest("PATCH an unknown record is 404")
def patch_unknown(ctx):
    resp = patch(ctx, UNKNOWN_ID, {"title": "x", "causal": "0" * 26})
    expect_problem(resp, 404, "not_found")


# ==========================================================================
# delete
# ==========================================================================

@rtest("DELETE answers 200 with the tombstone")
def delete_tombstone(ctx):
    rec = create(ctx, site="alpha", data={"a": 1})
    resp = delete(ctx, rec["id"])
    tomb = expect_json(resp, 200)
    expect_record(tomb, resp)
    expect_equal(tomb["deleted"], True, "deleted", resp)
    expect_match(TIME_RE, tomb["deleted_at"], "deleted_at", resp)
    expect(tomb["causal"] != rec["causal"], "causal did not change", resp)
    expect_equal(tomb["version"], rec["version"] + 1, "version", resp)
    for name in ("id", "title", "type", "site", "status", "data", "size",
                 "created_at", "created_by"):
        expect_equal(tomb[name], rec[name], name, resp)
    expect_etag(resp, tomb["causal"])


@rtest("DELETE twice answers 200 with a byte-identical body")
def delete_twice(ctx):
    rec = create(ctx)
    first = delete(ctx, rec["id"])
    expect_status(first, 200)
    second = delete(ctx, rec["id"])
    expect_status(second, 200)
    expect_equal(second.body, first.body, "second DELETE body", second)


@rtest("DELETE with a stale If-Match is 409 with current, record kept")
def delete_stale(ctx):
    rec = create(ctx)
    cur = patch_ok(ctx, rec, {"title": "first"})
    resp = delete(ctx, rec["id"], headers=if_match(rec["causal"]))
    body = expect_problem(resp, 409, "causal_conflict")
    expect_equal(body.get("current"), cur, "member current", resp)
    expect_unchanged(ctx, cur)


@rtest("DELETE with the current If-Match deletes")
def delete_if_match(ctx):
    rec = create(ctx)
    resp = delete(ctx, rec["id"], headers=if_match(rec["causal"]))
    expect_equal(expect_json(resp, 200).get("deleted"), True, "deleted", resp)


@rtest("DELETE an unknown record is 404")
def delete_unknown(ctx):
    expect_problem(delete(ctx, UNKNOWN_ID), 404, "not_found")


# ==========================================================================
# idempotency keys
# ==========================================================================

def idem(key):
    return {"Idempotency-Key": key}


@rtest("POST replay: same status, body, Location, ETag; Idempotent-Replayed")
def idem_replay(ctx):
    key, body = uniq("k"), new_body()
    first = post(ctx, body, headers=idem(key))
    expect_json(first, 201)
    expect(first.headers.get("Idempotent-Replayed") != "true",
           "the first answer says Idempotent-Replayed: true", first)
    again = post(ctx, body, headers=idem(key))
    expect_status(again, 201)
    expect_equal(again.body, first.body, "replayed body", again)
    for name in ("Location", "ETag"):
        # exactly the first answer's: nothing of a new record shows
        expect_equal(again.headers.get_all(name),
                     first.headers.get_all(name), name, again)
    expect_equal(again.headers.get("Idempotent-Replayed"), "true",
                 "Idempotent-Replayed", again)


@rtest("POST replay creates no second record")
def idem_replay_one_record(ctx):
    key, body = uniq("k"), new_body()
    expect_status(post(ctx, body, headers=idem(key)), 201)
    expect_status(post(ctx, body, headers=idem(key)), 201)
    expect_count_of_type(ctx, body["type"], 1)


@rtest("Idempotency-Key \"abc\" (quoted) and abc name the same key")
def idem_quoted(ctx):
    key, body = uniq("k"), new_body()
    first = post(ctx, body, headers=idem('"%s"' % key))
    expect_json(first, 201)
    again = post(ctx, body, headers=idem(key))
    expect_status(again, 201)
    expect_equal(again.headers.get("Idempotent-Replayed"), "true",
                 "Idempotent-Replayed", again)
    expect_equal(again.body, first.body, "replayed body", again)


@rtest("Idempotency-Key of 255 visible characters is accepted")
def idem_255(ctx):
    key = (uniq("k") + "!~" * 200)[:255]
    expect_status(post(ctx, new_body(), headers=idem(key)), 201)


@rtest("Idempotency-Key of 256 characters is 400")
def idem_256(ctx):
    body = new_body()
    resp = post(ctx, body, headers=idem((uniq("k") + "x" * 256)[:256]))
    expect_problem(resp, 400, "invalid_request")
    expect_count_of_type(ctx, body["type"], 0)


@rtest("Idempotency-Key with a space is 400")
def idem_space(ctx):
    body = new_body()
    resp = post(ctx, body, headers=idem(uniq("k") + " x"))
    expect_problem(resp, 400, "invalid_request")
    expect_count_of_type(ctx, body["type"], 0)


@rtest("same Idempotency-Key with a different body is 422")
def idem_reused(ctx):
    key, body = uniq("k"), new_body()
    expect_status(post(ctx, body, headers=idem(key)), 201)
    other = dict(body, title="Something else")
    resp = post(ctx, other, headers=idem(key))
    expect_problem(resp, 422, "idempotency_key_reused")
    for name in ("Location", "ETag"):
        expect(name not in resp.headers, "the 422 carries %s" % name, resp)
    expect_count_of_type(ctx, body["type"], 1)


@rtest("Idempotency-Keys are per org: org B's same key creates its own")
def idem_per_org(ctx):
    key, body = uniq("k"), new_body()
    a = expect_json(post(ctx, body, headers=idem(key)), 201)
    resp = post(ctx, body, admin_b(ctx), headers=idem(key))
    b = expect_json(resp, 201)
    expect(resp.headers.get("Idempotent-Replayed") != "true",
           "org B's request was answered as a replay", resp)
    expect(b.get("id") != a.get("id"), "org B got org A's record", resp)
    expect_count_of_type(ctx, body["type"], 1, admin_b(ctx))


@rtest("a POST refused with 400 does not store its Idempotency-Key")
def idem_after_400(ctx):
    key, body = uniq("k"), new_body()
    expect_problem(post(ctx, dict(body, status="bogus"), headers=idem(key)),
                   400, "invalid_request")
    resp = post(ctx, body, headers=idem(key))
    expect_json(resp, 201)
    expect(resp.headers.get("Idempotent-Replayed") != "true",
           "the fixed request was answered as a replay", resp)
    expect_count_of_type(ctx, body["type"], 1)


@rtest("Idempotency-Key bodies compare after canonicalisation")
def idem_canonical(ctx):
    key, rec_type = uniq("k"), uniq()
    first = post(ctx, ('{"title":"a","type":"%s"}' % rec_type).encode(),
                 headers=idem(key))
    expect_json(first, 201)
    again = post(ctx, ('{ "type":"%s", "title":"a" }' % rec_type).encode(),
                 headers=idem(key))
    expect_status(again, 201)
    expect_equal(again.headers.get("Idempotent-Replayed"), "true",
                 "Idempotent-Replayed", again)
    expect_equal(again.body, first.body, "replayed body", again)
    expect_count_of_type(ctx, rec_type, 1)


@rtest("PATCH replay with the same Idempotency-Key writes nothing twice")
def idem_patch_replay(ctx):
    rec = create(ctx)
    key, body = uniq("k"), {"title": "once", "causal": rec["causal"]}
    first = patch(ctx, rec["id"], body, headers=idem(key))
    new = expect_json(first, 200)
    again = patch(ctx, rec["id"], body, headers=idem(key))
    expect_status(again, 200)
    expect_equal(again.body, first.body, "replayed body", again)
    expect_equal(again.headers.get("Idempotent-Replayed"), "true",
                 "Idempotent-Replayed", again)
    expect_equal(get_ok(ctx, rec["id"]).get("version"), new["version"],
                 "version after the replay")


@rtest("PATCH with a reused Idempotency-Key and another body is 422")
def idem_patch_reused(ctx):
    rec = create(ctx)
    key = uniq("k")
    new = expect_json(patch(ctx, rec["id"], {"title": "once",
                                             "causal": rec["causal"]},
                            headers=idem(key)), 200)
    resp = patch(ctx, rec["id"], {"title": "twice", "causal": new["causal"]},
                 headers=idem(key))
    expect_problem(resp, 422, "idempotency_key_reused")
    expect_unchanged(ctx, new)


@rtest("DELETE replay with the same Idempotency-Key says Idempotent-Replayed")
def idem_delete_replay(ctx):
    rec = create(ctx)
    key = uniq("k")
    first = delete(ctx, rec["id"], headers=idem(key))
    expect_json(first, 200)
    again = delete(ctx, rec["id"], headers=idem(key))
    expect_status(again, 200)
    expect_equal(again.body, first.body, "replayed body", again)
    expect_equal(again.headers.get("Idempotent-Replayed"), "true",
                 "Idempotent-Replayed", again)


@rtest("20 concurrent POSTs with one key create exactly one record")
def idem_concurrent(ctx):
    _, tok = fresh_org(ctx)  # a full rate-limit bucket for the burst
    key, body = uniq("k"), new_body()
    data = json.dumps(body).encode("utf-8")
    funcs = [lambda: ctx.call("POST", "/v1/records", data, idem(key), tok)
             for _ in range(20)]
    results = run_parallel(funcs, 3 * HTTP_TIMEOUT)
    answers = []
    for resp, exc in results:
        if exc is not None:
            raise exc
        answers.append(resp)
    created = []
    for resp in answers:
        if resp.status == 409:
            expect_problem(resp, 409, "idempotency_in_progress")
        else:
            expect_status(resp, 201)
            created.append(resp)
    fresh = [r for r in created
             if r.headers.get("Idempotent-Replayed") != "true"]
    expect_equal(len(fresh), 1, "201 answers without Idempotent-Replayed "
                 "(of %d 201s)" % len(created))
    for resp in created:
        expect_equal(resp.body, created[0].body, "201 body", resp)
    items = expect_count_of_type(ctx, body["type"], 1, tok)
    expect_equal(items[0].get("title"), body["title"], "title")


# ==========================================================================
# lists
# ==========================================================================

@rtest("GET /v1/records answers data, has_more, next_cursor, sync_token")
def list_shape(ctx):
    rec = create(ctx)
    resp = list_page(ctx, {"type": rec["type"]})
    body = expect_json(resp, 200)
    expect_list_shape(body, resp)
    expect_equal(body["data"], [rec], "data", resp)
    expect_equal(body["has_more"], False, "has_more", resp)
    expect_equal(body["next_cursor"], None, "next_cursor", resp)


@rtest("list limit defaults to 50")
def list_default_limit(ctx):
    rec_type = uniq()
    for i in range(51):
        create(ctx, type=rec_type, title="n%d" % i)
    body = list_ok(ctx, {"type": rec_type})
    expect_equal(len(body["data"]), 50, "items on the first page")
    expect_equal(body["has_more"], True, "has_more")
    expect(isinstance(body["next_cursor"], str), "next_cursor is not a string")


@rtest("list limit=1 answers one item and has_more")
def list_limit_1(ctx):
    rec_type = uniq()
    first = create(ctx, type=rec_type)
    create(ctx, type=rec_type)
    body = list_ok(ctx, {"type": rec_type, "limit": "1"})
    expect_equal(ids(body["data"]), [first["id"]], "ids")
    expect_equal(body["has_more"], True, "has_more")


@rtest("list limit=200 is accepted")
def list_limit_200(ctx):
    rec = create(ctx)
    body = list_ok(ctx, {"type": rec["type"], "limit": "200"})
    expect_equal(ids(body["data"]), [rec["id"]], "ids")


def bad_list_param(name, value):
    @rtest("list %s=%s is 400 invalid_request" % (name, value))
    def check(ctx):
        expect_problem(list_page(ctx, {name: value}), 400, "invalid_request")
    return check


for _name, _value in (("limit", "0"), ("limit", "201"), ("limit", "abc"),
                      ("include_deleted", "maybe"),
                      ("updated_after", "yesterday"), ("status", "bogus"),
                      ("colour", "red")):
    bad_list_param(_name, _value)


@rtest("list order is oldest first")
def list_order(ctx):
    rec_type = uniq()
    made = [create(ctx, type=rec_type, title="n%d" % i)["id"]
            for i in range(4)]
    patch_ok(ctx, get_ok(ctx, made[0]), {"title": "touched"})
    expect_equal(ids(list_ok(ctx, {"type": rec_type})["data"]), made, "ids")


@rtest("list status filter")
def list_status(ctx):
    rec_type = uniq()
    create(ctx, type=rec_type)
    want = create(ctx, type=rec_type, status="failed")
    body = list_ok(ctx, {"type": rec_type, "status": "failed"})
    expect_equal(ids(body["data"]), [want["id"]], "ids")


@rtest("list type filter")
def list_type(ctx):
    rec = create(ctx)
    create(ctx)
    expect_equal(ids(list_ok(ctx, {"type": rec["type"]})["data"]),
                 [rec["id"]], "ids")


@rtest("list site filter")
def list_site(ctx):
    rec_type, site = uniq(), uniq("site")
    create(ctx, type=rec_type, site="other")
    create(ctx, type=rec_type)
    want = create(ctx, type=rec_type, site=site)
    body = list_ok(ctx, {"type": rec_type, "site": site})
    expect_equal(ids(body["data"]), [want["id"]], "ids")


@rtest("list created_by filter")
def list_created_by(ctx):
    rec_type = uniq()
    create(ctx, type=rec_type)
    tok = role_token(ctx, "operator")
    want = create(ctx, tok, type=rec_type)
    body = list_ok(ctx, {"type": rec_type, "created_by": user_id(ctx, tok)})
    expect_equal(ids(body["data"]), [want["id"]], "ids")


@rtest("list updated_after filter")
def list_updated_after(ctx):
    rec_type = uniq()
    old = create(ctx, type=rec_type)
    time.sleep(0.05)
    new = create(ctx, type=rec_type)
    after = format_ms(parse_ms(old["updated_at"]) + 1)
    expect(parse_ms(new["updated_at"]) > parse_ms(after),
           "setup: second record's updated_at %s is not after %s"
           % (new["updated_at"], after))
    body = list_ok(ctx, {"type": rec_type, "updated_after": after})
    expect_equal(ids(body["data"]), [new["id"]], "ids")


@rtest("list updated_after includes an older record patched later")
def list_updated_after_patch(ctx):
    rec_type = uniq()
    first = create(ctx, type=rec_type)
    create(ctx, type=rec_type)
    time.sleep(0.05)
    after = format_ms(now_ms() - 10)
    patch_ok(ctx, first, {"title": "touched"})
    body = list_ok(ctx, {"type": rec_type, "updated_after": after})
    expect_equal(ids(body["data"]), [first["id"]], "ids")


@rtest("list leaves deleted records out by default")
def list_no_deleted(ctx):
    rec_type = uniq()
    gone = create(ctx, type=rec_type)
    kept = create(ctx, type=rec_type)
    delete_ok(ctx, gone["id"])
    expect_equal(ids(list_ok(ctx, {"type": rec_type})["data"]), [kept["id"]],
                 "ids")


@rtest("list include_deleted=false leaves deleted records out")
def list_include_deleted_false(ctx):
    rec_type = uniq()
    gone = create(ctx, type=rec_type)
    kept = create(ctx, type=rec_type)
    delete_ok(ctx, gone["id"])
    body = list_ok(ctx, {"type": rec_type, "include_deleted": "false"})
    expect_equal(ids(body["data"]), [kept["id"]], "ids")


@rtest("list include_deleted=true shows tombstones")
def list_include_deleted(ctx):
    rec_type = uniq()
    gone = create(ctx, type=rec_type)
    kept = create(ctx, type=rec_type)
    tomb = delete_ok(ctx, gone["id"])
    body = list_ok(ctx, {"type": rec_type, "include_deleted": "true"})
    expect_equal(body["data"], [tomb, kept], "data")


@rtest("list pages by cursor: each record once, in order")
def list_paging(ctx):
    rec_type = uniq()
    made = [create(ctx, type=rec_type, title="n%d" % i)["id"]
            for i in range(5)]
    pages, cursor = [], None
    for _ in range(5):
        query = {"type": rec_type, "limit": "2"}
        if cursor:
            query["cursor"] = cursor
        body = list_ok(ctx, query)
        pages.append((ids(body["data"]), body["has_more"]))
        cursor = body["next_cursor"]
        if not body["has_more"]:
            expect_equal(cursor, None, "next_cursor on the last page")
            break
    expect_equal(pages, [(made[0:2], True), (made[2:4], True),
                         (made[4:5], False)], "pages (ids, has_more)")


@rtest("a cursor with one character altered is 400 invalid_cursor")
def list_cursor_altered(ctx):
    rec_type = uniq()
    for _ in range(2):
        create(ctx, type=rec_type)
    cursor = list_ok(ctx, {"type": rec_type, "limit": "1"})["next_cursor"]
    expect(isinstance(cursor, str), "no next_cursor")
    resp = list_page(ctx, {"type": rec_type, "limit": "1",
                           "cursor": alter_one_char(cursor)})
    expect_problem(resp, 400, "invalid_cursor")


@rtest("org A's cursor used by org B is 400 invalid_cursor")
def list_cursor_other_org(ctx):
    rec_type = uniq()
    for _ in range(2):
        create(ctx, type=rec_type)
    cursor = list_ok(ctx, {"type": rec_type, "limit": "1"})["next_cursor"]
    expect(isinstance(cursor, str), "no next_cursor")
    resp = list_page(ctx, {"type": rec_type, "limit": "1", "cursor": cursor},
                     admin_b(ctx))
    expect_problem(resp, 400, "invalid_cursor")


@rtest("a cursor reused with another filter is 400 invalid_cursor")
def list_cursor_other_filter(ctx):
    rec_type = uniq()
    for _ in range(2):
        create(ctx, type=rec_type)
    cursor = list_ok(ctx, {"type": rec_type, "limit": "1"})["next_cursor"]
    expect(isinstance(cursor, str), "no next_cursor")
    resp = list_page(ctx, {"type": uniq(), "limit": "1", "cursor": cursor})
    expect_problem(resp, 400, "invalid_cursor")


@rtest("a cursor walk while records are added sees each original once")
def list_walk_under_change(ctx):
    rec_type = uniq()
    originals = [create(ctx, type=rec_type, title="orig%d" % i)["id"]
                 for i in range(7)]
    seen, cursor = [], None
    for _ in range(MAX_PAGES):
        query = {"type": rec_type, "limit": "3"}
        if cursor:
            query["cursor"] = cursor
        body = list_ok(ctx, query)
        seen += ids(body["data"])
        if not body["has_more"]:
            break
        cursor = body["next_cursor"]
        for i in range(2):
            create(ctx, type=rec_type, title="added")
    else:
        raise AssertionError("walk did not end within %d pages" % MAX_PAGES)
    for rec_id in originals:
        expect_equal(seen.count(rec_id), 1, "times %s was seen" % rec_id)
    repeated = sorted({i for i in seen if seen.count(i) > 1})
    expect_equal(repeated, [], "ids seen more than once")


# ==========================================================================
# delta sync
# ==========================================================================

def delta_scenario(ctx):
    """In a fresh org: B and C exist; take the sync token S; then create A,
    patch B, delete C. Returns (token, S, A, B', C')."""
    _, tok = fresh_org(ctx)
    b = create(ctx, tok, title="B")
    c = create(ctx, tok, title="C")
    since = list_ok(ctx, {}, tok)["sync_token"]
    a = create(ctx, tok, title="A")
    b2 = patch_ok(ctx, b, {"title": "B2"}, tok)
    c2 = delete_ok(ctx, c["id"], tok)
    return tok, since, a, b2, c2


@rtest("since=<sync_token> lists A, B, C once each in change order")
def delta_order(ctx):
    tok, since, a, b, c = delta_scenario(ctx)
    body = list_ok(ctx, {"since": since}, tok)
    expect_equal(ids(body["data"]), [a["id"], b["id"], c["id"]], "ids")
    expect_equal(body["has_more"], False, "has_more")


@rtest("since lists each record's latest state, tombstone included")
def delta_states(ctx):
    tok, since, a, b, c = delta_scenario(ctx)
    body = list_ok(ctx, {"since": since}, tok)
    expect_equal(body["data"], [a, b, c], "data")
    expect_equal(body["data"][2].get("deleted"), True, "C deleted")


@rtest("since with the last page's sync_token lists nothing")
def delta_caught_up(ctx):
    tok, since, _, _, _ = delta_scenario(ctx)
    _, last = walk(ctx, {"since": since}, tok)
    body = list_ok(ctx, {"since": last["sync_token"]}, tok)
    expect_equal(body["data"], [], "data")
    expect_equal(body["has_more"], False, "has_more")


@rtest("since with limit=1 pages through A, B, C once each")
def delta_pages(ctx):
    tok, since, a, b, c = delta_scenario(ctx)
    items, last = walk(ctx, {"since": since, "limit": "1"}, tok)
    expect_equal(ids(items), [a["id"], b["id"], c["id"]], "ids")
    body = list_ok(ctx, {"since": last["sync_token"]}, tok)
    expect_equal(body["data"], [], "data after the last page's token")


@rtest("since lists a record changed twice once, in its latest state")
def delta_one_entry(ctx):
    _, tok = fresh_org(ctx)
    rec = create(ctx, tok)
    since = list_ok(ctx, {}, tok)["sync_token"]
    one = patch_ok(ctx, rec, {"title": "one"}, tok)
    two = patch_ok(ctx, one, {"title": "two"}, tok)
    expect_equal(list_ok(ctx, {"since": since}, tok)["data"], [two], "data")


@rtest("since moves a record to where its latest change happened")
def delta_change_order(ctx):
    _, tok = fresh_org(ctx)
    x = create(ctx, tok, title="X")
    since = list_ok(ctx, {}, tok)["sync_token"]
    x2 = patch_ok(ctx, x, {"title": "X1"}, tok)
    y = create(ctx, tok, title="Y")
    x3 = patch_ok(ctx, x2, {"title": "X2"}, tok)
    expect_equal(ids(list_ok(ctx, {"since": since}, tok)["data"]),
                 [y["id"], x3["id"]], "ids")


@rtest("since with a type filter is 400 invalid_request")
def delta_with_filter(ctx):
    since = list_ok(ctx, {})["sync_token"]
    expect_problem(list_page(ctx, {"since": since, "type": "x"}), 400,
                   "invalid_request")


@rtest("since with include_deleted is 400 invalid_request")
def delta_with_include_deleted(ctx):
    since = list_ok(ctx, {})["sync_token"]
    expect_problem(list_page(ctx, {"since": since,
                                   "include_deleted": "true"}),
                   400, "invalid_request")


@rtest("a forged since token is 400 invalid_cursor")
def delta_forged(ctx):
    since = list_ok(ctx, {})["sync_token"]
    expect_problem(list_page(ctx, {"since": alter_one_char(since)}), 400,
                   "invalid_cursor")


@rtest("org A's sync token used by org B is 400 invalid_cursor")
def delta_other_org(ctx):
    create(ctx)
    since = list_ok(ctx, {})["sync_token"]
    expect_problem(list_page(ctx, {"since": since}, admin_b(ctx)), 400,
                   "invalid_cursor")


@rtest("a since token minted now with change 0 is accepted (control)")
def delta_minted_now(ctx):
    org, tok = fresh_org(ctx)
    rec = create(ctx, tok)
    body = list_ok(ctx, {"since": mint_sync_token(ctx, org, 0, now_ms())},
                   tok)
    expect_equal(ids(body["data"]), [rec["id"]], "ids")


@rtest("a since token issued 91 days ago is 410 sync_token_expired")
def delta_expired(ctx):
    org, tok = fresh_org(ctx)
    create(ctx, tok)
    list_ok(ctx, {"since": mint_sync_token(ctx, org, 0, now_ms())}, tok)
    old = now_ms() - 91 * 86400 * 1000
    resp = list_page(ctx, {"since": mint_sync_token(ctx, org, 0, old)}, tok)
    expect_problem(resp, 410, "sync_token_expired")


# ==========================================================================
# events (the outbox)
# ==========================================================================

@rtest("create writes one record.created event carrying the record")
def event_created(ctx):
    rec = create(ctx)
    events = events_of(ctx, rec["id"])
    expect_equal(event_types(events), ["record.created"], "event types")
    expect_event(ctx, events[0], "record.created", rec)


@rtest("patch writes one record.updated event carrying the new record")
def event_updated(ctx):
    rec = create(ctx)
    new = patch_ok(ctx, rec, {"title": "changed"})
    events = events_of(ctx, rec["id"])
    expect_equal(event_types(events), ["record.created", "record.updated"],
                 "event types")
    expect_event(ctx, events[1], "record.updated", new)


@rtest("patch to status synced writes record.updated and record.synced")
def event_synced(ctx):
    rec = create(ctx)
    new = patch_ok(ctx, rec, {"status": "synced"})
    events = events_of(ctx, rec["id"])
    expect_equal(sorted(event_types(events)[1:]),
                 ["record.synced", "record.updated"], "new event types")
    for event in events[1:]:
        expect_event(ctx, event, event["type"], new)


@rtest("delete writes record.deleted carrying the tombstone")
def event_deleted(ctx):
    rec = create(ctx)
    tomb = delete_ok(ctx, rec["id"])
    events = events_of(ctx, rec["id"])
    expect_equal(event_types(events), ["record.created", "record.deleted"],
                 "event types")
    expect_event(ctx, events[1], "record.deleted", tomb)


@rtest("a causal conflict writes record.conflict and changes nothing")
def event_conflict(ctx):
    rec = create(ctx)
    cur = patch_ok(ctx, rec, {"title": "first"})
    resp = patch(ctx, rec["id"], {"title": "second", "causal": rec["causal"]})
    expect_problem(resp, 409, "causal_conflict")
    events = events_of(ctx, rec["id"])
    expect_equal(event_types(events), ["record.created", "record.updated",
                                       "record.conflict"], "event types")
    expect_event(ctx, events[2], "record.conflict", cur)
    expect_unchanged(ctx, cur)


@rtest("an idempotent replay writes no event")
def event_replay(ctx):
    key, body = uniq("k"), new_body()
    rec = expect_json(post(ctx, body, headers=idem(key)), 201)
    expect_status(post(ctx, body, headers=idem(key)), 201)
    expect_equal(event_types(events_of(ctx, rec["id"])), ["record.created"],
                 "event types")


@rtest("an idempotent PATCH replay writes no event")
def event_patch_replay(ctx):
    rec = create(ctx)
    key, body = uniq("k"), {"title": "once", "causal": rec["causal"]}
    expect_status(patch(ctx, rec["id"], body, headers=idem(key)), 200)
    expect_status(patch(ctx, rec["id"], body, headers=idem(key)), 200)
    expect_equal(event_types(events_of(ctx, rec["id"])),
                 ["record.created", "record.updated"], "event types")


@rtest("a refused (400) write writes no event")
def event_on_400(ctx):
    rec = create(ctx)
    before = event_count(ctx, ctx.org_id)
    expect_problem(post(ctx, new_body(status="bogus")), 400, "invalid_request")
    expect_problem(patch(ctx, rec["id"], {"status": "bogus",
                                          "causal": rec["causal"]}),
                   400, "invalid_request")
    expect_equal(event_count(ctx, ctx.org_id), before, "events in the org")


# ==========================================================================
# the seed page's curl examples (curl -d sends form-urlencoded)
# ==========================================================================

@rtest("seed: POST with Idempotency-Key and curl -d's content type is 201")
def seed_post(ctx):
    site = uniq("alpha")
    raw = ('{"title":"Pressure check","type":"inspection","site":"%s"}'
           % site).encode()
    resp = post(ctx, raw, headers={"Content-Type": FORM,
                                   "Idempotency-Key": uniq("2f3a")})
    rec = expect_json(resp, 201)
    expect_equal([rec.get("title"), rec.get("type"), rec.get("site")],
                 ["Pressure check", "inspection", site], "title/type/site",
                 resp)


@rtest("seed: GET /v1/records?status=queued&limit=50 is 200")
def seed_list(ctx):
    create(ctx)
    resp = call(ctx, "GET", "/v1/records?status=queued&limit=50",
                token=admin(ctx))
    body = expect_json(resp, 200)
    expect_list_shape(body, resp)
    expect(body["data"] and all(r.get("status") == "queued"
                                for r in body["data"]),
           "expected queued records only", resp)


@rtest("seed: PATCH status synced with causal, curl -d's content type")
def seed_patch(ctx):
    rec = create(ctx)
    raw = ('{"status":"synced","causal":"%s"}' % rec["causal"]).encode()
    resp = patch(ctx, rec["id"], raw, headers={"Content-Type": FORM})
    expect_equal(expect_json(resp, 200).get("status"), "synced", "status",
                 resp)


@rtest("seed: DELETE /v1/records/<id> without a body is 200")
def seed_delete(ctx):
    rec = create(ctx)
    resp = call(ctx, "DELETE", rec_path(rec["id"]), token=admin(ctx))
    expect_equal(expect_json(resp, 200).get("deleted"), True, "deleted", resp)


# --------------------------------------------------------------------------
# the WAL
# --------------------------------------------------------------------------

@test("records: writes reach the database file without the worker "
      "(the pool checkpoints between requests)",
      sqlite_only="SQLite's WAL and its checkpoints into the database file")
def wal_checkpointed_by_pool(ctx):
    import os
    db = ctx.workspace.db
    before = os.path.getsize(db)
    # Enough writes to pass the pool's checkpoint threshold (1000 WAL
    # pages) several times over; no worker runs during the tests.
    filler = {"blob": "x" * 3000}
    for i in range(900):
        create(ctx, title="wal %d" % i, data=filler)
    after = os.path.getsize(db)
    expect(after > before + 2 * 1024 * 1024,
           "database file grew from %d to %d bytes only: the WAL was not "
           "checkpointed into it" % (before, after))


@test("records: the WAL stays bounded under steady writes from the whole "
      "pool (it starts again from its beginning)",
      sqlite_only="the size of SQLite's -wal file")
def wal_bounded_under_load(ctx):
    import os
    import threading
    wal = ctx.workspace.db + "-wal"
    filler = {"blob": "y" * 3000}
    data = json.dumps(new_body(data=filler)).encode("utf-8")
    tok = admin(ctx)
    largest = [0]
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            try:
                largest[0] = max(largest[0], os.path.getsize(wal))
            except OSError:
                pass
            stop.wait(0.005)

    def writer():
        for _ in range(250):
            resp = ctx.call("POST", "/v1/records", data, {}, tok)
            expect_status(resp, 201)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        results = run_parallel([writer] * 8, 40 * HTTP_TIMEOUT)
    finally:
        stop.set()
        watcher.join()
    for _, exc in results:
        if exc is not None:
            raise exc
    # 2,000 creates write well over 100 MiB of WAL frames; the pool
    # checkpoints at 1,000 pages (4 MiB) and the file is capped at
    # 16 MiB, so a WAL that restarts never comes near 24 MiB.
    expect(largest[0] < 24 * 1024 * 1024,
           "the WAL reached %d bytes during 2,000 concurrent creates: it "
           "never started again from its beginning" % largest[0])

