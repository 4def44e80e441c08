"""Foundation: routing, problems, JSON bodies, tokens, request ids, the CLI
and login throttling (CONTRACT.md sections 1, 2 and 10)."""

import datetime
import json
import os
import re
import secrets
import stat
import time

from harness import (db_run, dialect, expect, expect_equal, expect_json,
                     expect_match, expect_problem, expect_status, mint_token,
                     test)

TIME_RE = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"
ONE_MIB = 1024 * 1024
SAFE_REQUEST_ID = "abc-123_X.y"


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def parse_time(value):
    """An RFC 3339 UTC millisecond time -> Unix seconds (float)."""
    dt = datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ")
    return dt.replace(tzinfo=datetime.timezone.utc).timestamp()


def wrong_key():
    return "rs_live_" + secrets.token_hex(20)


def exchange(ctx, body, headers=None):
    return ctx.call("POST", "/v1/auth/token", body, headers)


def me(ctx, token):
    return ctx.call("GET", "/v1/me", token=token)


def me_body(ctx, token):
    return expect_json(me(ctx, token), 200)


def expect_unauthorized(resp):
    expect_problem(resp, 401, "unauthorized")
    expect_match(r"^Bearer", resp.headers.get("WWW-Authenticate"),
                 "WWW-Authenticate", resp)


def field_errors(body):
    errors = body.get("errors")
    if not isinstance(errors, list):
        return []
    return [e.get("field") for e in errors if isinstance(e, dict)]


def nested(depth):
    """{"api_key": [[...]]}: an object holding DEPTH-1 nested arrays."""
    inner = depth - 1
    return b'{"api_key":' + b"[" * inner + b"]" * inner + b"}"


def padded(size):
    """A JSON object of exactly SIZE bytes: {"api_key": <spaces> 5}."""
    head, tail = b'{"api_key":', b"5}"
    return head + b" " * (size - len(head) - len(tail)) + tail


def minted(ctx, identity, exp):
    return mint_token(ctx.secret_file, identity["org_id"], identity["user_id"],
                      identity["key_id"], identity["role"], exp)


def admin_identity(ctx):
    """GET /v1/me for the demo admin: the ids a minted token needs."""
    return me_body(ctx, ctx.token_for(ctx.admin_key))


def cli_ok(ctx, args):
    rc, out, err = ctx.cli(args)
    expect(rc == 0, "relaysync-admin %s: exit %d, stdout %r, stderr %r"
           % (" ".join(args), rc, out, err))
    return out


def cli_fails(ctx, args):
    rc, out, err = ctx.cli(args)
    expect(rc != 0, "relaysync-admin %s: expected a non-zero exit, got 0, "
           "stdout %r" % (" ".join(args), out))
    return out, err


def one_line(text, pattern, what):
    expect(text.endswith("\n") and text.count("\n") == 1,
           "%s: expected exactly one line, got %r" % (what, text))
    expect_match(pattern, text.rstrip("\n"), what)
    return text.rstrip("\n")


# --------------------------------------------------------------------------
# 1-4: health, openapi, routing
# --------------------------------------------------------------------------

@test("GET /v1/health answers ok, version and schema")
def health(ctx):
    resp = ctx.call("GET", "/v1/health")
    body = expect_json(resp)
    expect_equal(body.get("status"), "ok", "status", resp)
    expect(isinstance(body.get("version"), str) and body["version"],
           "version: expected a non-empty string", resp)
    schema = body.get("schema")
    expect(type(schema) is int and schema >= 1,
           "schema: expected an integer >= 1, got %r" % (schema,), resp)


@test("a database migrated past this program's schema makes it refuse: 503")
def newer_schema_refused(ctx):
    # By hand (not through relaysync-admin, which tells the pool at once):
    # each process trusts the version it last read for up to a second.
    ok = expect_json(ctx.call("GET", "/v1/health"), 200)
    known = ok["schema"]
    token = ctx.token_for(ctx.admin_key)
    # SQLite's user_version; PostgreSQL's is rs_schema's one row (db.c)
    version = dialect("PRAGMA user_version = %d",
                      "UPDATE rs_schema SET version = %d")
    db_run(ctx, version % (known + 1), write=True)
    try:
        deadline = time.monotonic() + 3
        while True:
            resp = ctx.call("GET", "/v1/health")
            if resp.status == 503 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        expect_problem(resp, 503, "service_unavailable")
        # Every process has had its second: none serves now.
        time.sleep(1.1)
        for _ in range(5):
            for path, token in (("/v1/health", None), ("/v1/me", token)):
                expect_problem(ctx.call("GET", path, token=token), 503,
                               "service_unavailable")
    finally:
        db_run(ctx, version % known, write=True)
    # A refusal is not kept: the next request of each process reads again.
    for _ in range(10):
        expect_json(ctx.call("GET", "/v1/health"), 200)


@test("GET /v1/openapi.json is OpenAPI 3.1 listing /v1/health")
def openapi(ctx):
    resp = ctx.call("GET", "/v1/openapi.json")
    body = expect_json(resp)
    expect_match(r"^3\.1", body.get("openapi"), "openapi", resp)
    paths = body.get("paths")
    expect(isinstance(paths, dict) and "/v1/health" in paths,
           "paths does not contain /v1/health", resp)


@test("unknown path /v1/nope is a 404 not_found problem")
def unknown_path(ctx):
    expect_problem(ctx.call("GET", "/v1/nope"), 404, "not_found")


@test("other version /v2/health is a 404 not_found problem")
def other_version(ctx):
    expect_problem(ctx.call("GET", "/v2/health"), 404, "not_found")


@test("DELETE /v1/health is 405 with Allow: GET")
def health_wrong_method(ctx):
    resp = ctx.call("DELETE", "/v1/health")
    expect_problem(resp, 405, "method_not_allowed")
    expect("GET" in (resp.headers.get("Allow") or ""),
           "Allow header should contain GET", resp)


@test("POST /v1/me is 405 with Allow: GET")
def me_wrong_method(ctx):
    token = ctx.token_for(ctx.admin_key)
    resp = ctx.call("POST", "/v1/me", token=token)
    expect_problem(resp, 405, "method_not_allowed")
    expect("GET" in (resp.headers.get("Allow") or ""),
           "Allow header should contain GET", resp)


@test("unknown query parameter is 400 invalid_request")
def unknown_query(ctx):
    expect_problem(ctx.call("GET", "/v1/health?x=1"), 400, "invalid_request")


# --------------------------------------------------------------------------
# 5: token exchange
# --------------------------------------------------------------------------

@test("POST /v1/auth/token exchanges a good key for a bearer token")
def token_exchange(ctx):
    resp = exchange(ctx, {"api_key": ctx.admin_key})
    body = expect_json(resp)
    expect(isinstance(body.get("access_token"), str) and body["access_token"],
           "access_token: expected a non-empty string", resp)
    expect_equal(body.get("token_type"), "Bearer", "token_type", resp)
    expect_equal(body.get("expires_in"), 900, "expires_in", resp)
    expect_match(TIME_RE, body.get("expires_at"), "expires_at", resp)
    expect_equal(body.get("org_id"), ctx.org_id, "org_id", resp)
    expect_match(r"^usr_\S+$", body.get("user_id"), "user_id", resp)
    expect_equal(body.get("role"), "admin", "role", resp)


@test("token expires_at is expires_in seconds from now")
def token_expires_at(ctx):
    resp = exchange(ctx, {"api_key": ctx.admin_key})
    body = expect_json(resp)
    expect_match(TIME_RE, body.get("expires_at"), "expires_at", resp)
    ahead = parse_time(body["expires_at"]) - time.time()
    expect(840 <= ahead <= 960,
           "expires_at is %.0f s from now, expected about 900" % ahead, resp)


@test("wrong api key is 401 invalid_api_key")
def token_wrong_key(ctx):
    resp = exchange(ctx, {"api_key": wrong_key()})
    expect_problem(resp, 401, "invalid_api_key")


@test("token body {} is 400 invalid_request naming api_key")
def token_missing_key(ctx):
    resp = exchange(ctx, {})
    body = expect_problem(resp, 400, "invalid_request")
    expect("api_key" in field_errors(body),
           "errors should have an entry with field api_key", resp)


@test("unknown member in token body is 400 naming it")
def token_unknown_member(ctx):
    resp = exchange(ctx, {"api_key": "x", "extra": 1})
    body = expect_problem(resp, 400, "invalid_request")
    expect("extra" in body.get("detail", "") or "extra" in field_errors(body),
           "neither detail nor errors name the field extra", resp)


@test("token body [1] is 400 invalid_request")
def token_array_body(ctx):
    expect_problem(exchange(ctx, b"[1]"), 400, "invalid_request")


@test("numeric api_key is 400 invalid_request")
def token_numeric_key(ctx):
    expect_problem(exchange(ctx, {"api_key": 12345}), 400, "invalid_request")


# --------------------------------------------------------------------------
# 6: request bodies
# --------------------------------------------------------------------------

@test("Content-Type text/plain is 415 unsupported_media_type")
def body_text_plain(ctx):
    resp = exchange(ctx, {"api_key": ctx.admin_key},
                    {"Content-Type": "text/plain"})
    expect_problem(resp, 415, "unsupported_media_type")


@test("Content-Type application/json; charset=utf-8 is accepted")
def body_json_charset(ctx):
    resp = exchange(ctx, {"api_key": ctx.admin_key},
                    {"Content-Type": "application/json; charset=utf-8"})
    expect_json(resp, 200)


@test("form-urlencoded JSON body (curl -d) is accepted")
def body_form_urlencoded(ctx):
    resp = exchange(ctx, {"api_key": ctx.admin_key},
                    {"Content-Type": "application/x-www-form-urlencoded"})
    expect_json(resp, 200)


@test("body of exactly 1 MiB is read, not 413")
def body_one_mib(ctx):
    resp = exchange(ctx, padded(ONE_MIB))
    expect_problem(resp, 400, "invalid_request")


@test("body of 1 MiB + 1 byte is 413 payload_too_large")
def body_too_large(ctx):
    resp = exchange(ctx, padded(ONE_MIB + 1))
    expect_problem(resp, 413, "payload_too_large")


@test("malformed JSON is 400 invalid_json saying which byte")
def body_malformed(ctx):
    resp = exchange(ctx, b'{"api_key": }')
    body = expect_problem(resp, 400, "invalid_json")
    expect_match(r"byte \d+", body.get("detail"), "detail", resp)


@test("invalid UTF-8 in a string is 400 invalid_json")
def body_bad_utf8(ctx):
    expect_problem(exchange(ctx, b'{"api_key":"\xff"}'), 400, "invalid_json")


@test("duplicate member is 400 invalid_json")
def body_duplicate_member(ctx):
    resp = exchange(ctx, b'{"api_key":"a","api_key":"b"}')
    expect_problem(resp, 400, "invalid_json")


@test("40 nested arrays in an object (41 levels) is 400 invalid_json")
def body_too_deep(ctx):
    expect_problem(exchange(ctx, nested(41)), 400, "invalid_json")


@test("nesting exactly 32 levels is valid JSON (400 invalid_request)")
def body_depth_32(ctx):
    expect_problem(exchange(ctx, nested(32)), 400, "invalid_request")


# --------------------------------------------------------------------------
# 7: bearer tokens and /v1/me
# --------------------------------------------------------------------------

@test("GET /v1/me without Authorization is 401 with WWW-Authenticate")
def me_no_token(ctx):
    expect_unauthorized(ctx.call("GET", "/v1/me"))


@test("GET /v1/me with Bearer garbage is 401")
def me_garbage_token(ctx):
    expect_unauthorized(me(ctx, "garbage"))


@test("GET /v1/me with one signature character changed is 401")
def me_tampered_token(ctx):
    token = ctx.token_for(ctx.admin_key)
    head, dot, sig = token.rpartition(".")
    expect(dot and sig, "token has no '.signature' part: %r" % token)
    flipped = ("B" if sig[0] == "A" else "A") + sig[1:]
    expect_unauthorized(me(ctx, head + "." + flipped))


@test("GET /v1/me describes the token's user")
def me_valid(ctx):
    resp = exchange(ctx, {"api_key": ctx.admin_key})
    issued = expect_json(resp)
    resp = me(ctx, issued.get("access_token"))
    body = expect_json(resp)
    expect_equal(body.get("user_id"), issued.get("user_id"), "user_id", resp)
    expect_equal(body.get("email"), "admin@example.com", "email", resp)
    expect_equal(body.get("org_id"), ctx.org_id, "org_id", resp)
    expect_equal(body.get("role"), "admin", "role", resp)
    expect_match(r"^key_\S+$", body.get("key_id"), "key_id", resp)
    expect_match(TIME_RE, body.get("token_expires_at"), "token_expires_at",
                 resp)
    expect_match(TIME_RE, issued.get("expires_at"), "exchange expires_at")
    gap = abs(parse_time(body["token_expires_at"])
              - parse_time(issued["expires_at"]))
    expect(gap < 1.0, "token_expires_at differs from the exchange's "
           "expires_at by %.3f s" % gap, resp)


def expect_minted_accepted(ctx, identity):
    """Positive control: a token minted here with a future exp works, so a
    rejected expired one is rejected for its exp, not its format."""
    exp = int(time.time()) + 600
    resp = me(ctx, minted(ctx, identity, exp))
    body = expect_json(resp)
    expect_equal(body.get("key_id"), identity["key_id"], "key_id", resp)
    expect_equal(body.get("user_id"), identity["user_id"], "user_id", resp)
    expect_match(TIME_RE, body.get("token_expires_at"), "token_expires_at",
                 resp)
    gap = abs(parse_time(body["token_expires_at"]) - exp)
    expect(gap < 1.0, "token_expires_at should be the minted exp %d" % exp,
           resp)


@test("token minted with a future exp is accepted (format check)")
def me_minted_future(ctx):
    expect_minted_accepted(ctx, admin_identity(ctx))


@test("expired token is 401 unauthorized")
def me_expired(ctx):
    identity = admin_identity(ctx)
    expect_minted_accepted(ctx, identity)
    expect_unauthorized(me(ctx, minted(ctx, identity, int(time.time()) - 60)))


@test("revoking a key ends its tokens and its exchanges")
def me_revoked(ctx):
    key = json.loads(cli_ok(ctx, ["key", "create", "--org", ctx.org_id,
                                  "--email", "ops@example.com", "--role",
                                  "operator", "--json"]))["api_key"]
    token = ctx.token_for(key)
    resp = me(ctx, token)
    body = expect_json(resp)
    expect_equal(body.get("role"), "operator", "role", resp)
    expect_match(r"^key_\S+$", body.get("key_id"), "key_id", resp)
    cli_ok(ctx, ["key", "revoke", body["key_id"]])
    expect_unauthorized(me(ctx, token))
    expect_problem(exchange(ctx, {"api_key": key}), 401, "invalid_api_key")


@test("a token of org B shows org B's ids")
def me_org_b(ctx):
    a = me_body(ctx, ctx.token_for(ctx.admin_key))
    resp = me(ctx, ctx.token_for(ctx.org_b_key))
    b = expect_json(resp)
    expect_equal(b.get("org_id"), ctx.org_b_id, "org_id", resp)
    expect(b.get("user_id") != a.get("user_id"),
           "org B's token shows org A's user_id", resp)
    expect(b.get("key_id") != a.get("key_id"),
           "org B's token shows org A's key_id", resp)


# --------------------------------------------------------------------------
# 8: X-Request-Id
# --------------------------------------------------------------------------

def expect_fresh_id(resp, sent):
    got = resp.headers.get("X-Request-Id")
    expect(got, "X-Request-Id missing or empty", resp)
    expect(got not in (sent, sent[:64], sent.replace(" ", "")),
           "X-Request-Id %r should be fresh, not derived from %r"
           % (got, sent), resp)
    expect(not re.search(r"\s", got), "X-Request-Id contains whitespace",
           resp)


@test("X-Request-Id abc-123_X.y is echoed on a 200")
def request_id_echo_ok(ctx):
    resp = ctx.call("GET", "/v1/health", headers={"X-Request-Id":
                                                  SAFE_REQUEST_ID})
    expect_status(resp, 200)
    expect_equal(resp.headers.get("X-Request-Id"), SAFE_REQUEST_ID,
                 "X-Request-Id", resp)


@test("X-Request-Id abc-123_X.y is echoed on a problem")
def request_id_echo_problem(ctx):
    resp = ctx.call("GET", "/v1/nope", headers={"X-Request-Id":
                                                SAFE_REQUEST_ID})
    body = expect_problem(resp, 404, "not_found")
    expect_equal(resp.headers.get("X-Request-Id"), SAFE_REQUEST_ID,
                 "X-Request-Id", resp)
    expect_equal(body.get("request_id"), SAFE_REQUEST_ID, "request_id", resp)


@test("X-Request-Id of 65 characters is replaced by a fresh id")
def request_id_too_long(ctx):
    sent = "a" * 65
    resp = ctx.call("GET", "/v1/health", headers={"X-Request-Id": sent})
    expect_fresh_id(resp, sent)


@test("X-Request-Id with a space is replaced by a fresh id")
def request_id_space(ctx):
    sent = "abc def"
    resp = ctx.call("GET", "/v1/health", headers={"X-Request-Id": sent})
    expect_fresh_id(resp, sent)


@test("without X-Request-Id each answer gets its own fresh id")
def request_id_generated(ctx):
    ids = []
    for _ in range(2):
        resp = ctx.call("GET", "/v1/health")
        got = resp.headers.get("X-Request-Id")
        expect(got, "X-Request-Id missing or empty", resp)
        ids.append(got)
    expect(ids[0] != ids[1], "two requests got the same id %r" % ids[0])


# --------------------------------------------------------------------------
# 9: relaysync-admin
# --------------------------------------------------------------------------

@test("relaysync-admin init a second time succeeds (idempotent)")
def cli_init_again(ctx):
    cli_ok(ctx, ["init"])


@test("relaysync-admin org create prints one org id")
def cli_org_create(ctx):
    one_line(cli_ok(ctx, ["org", "create", "cli-org"]), r"^org_\S+$",
             "org create stdout")


@test("relaysync-admin key create prints key_id and api_key first")
def cli_key_create(ctx):
    out = cli_ok(ctx, ["key", "create", "--org", ctx.org_id, "--email",
                       "viewer@example.com", "--role", "viewer"])
    expect_match(r"^key_id +key_\S+\napi_key +rs_live_\S+\n", out,
                 "key create stdout")


@test("relaysync-admin key create --role wizard fails on stderr only")
def cli_key_bad_role(ctx):
    out, err = cli_fails(ctx, ["key", "create", "--org", ctx.org_id,
                               "--email", "wiz@example.com",
                               "--role", "wizard"])
    expect_equal(out, "", "stdout")
    expect(err.strip(), "stderr is empty: expected a message")


@test("relaysync-admin key create for an unknown org fails")
def cli_key_unknown_org(ctx):
    out, _ = cli_fails(ctx, ["key", "create", "--org", "org_doesnotexist0",
                             "--email", "x@example.com", "--role", "admin"])
    expect(not out.startswith("rs_live_"), "a key was printed: %r" % out)


def expect_usage(ctx, args, must_mention):
    rc, out, err = ctx.cli(args)
    expect(rc == 0, "relaysync-admin %s: exit %d, stderr %r"
           % (" ".join(args), rc, err))
    text = out + err
    expect("usage" in text.lower(), "no usage text: %r" % text)
    for word in must_mention:
        expect(word in text, "usage text does not mention %s: %r"
               % (word, text))


@test("relaysync-admin --help prints usage")
def cli_help(ctx):
    expect_usage(ctx, ["--help"], ["key create", "org create"])


@test("relaysync-admin key create --help prints usage")
def cli_key_create_help(ctx):
    expect_usage(ctx, ["key", "create", "--help"], ["--org", "--role"])


@test("relaysync-admin bogus fails")
def cli_bogus(ctx):
    cli_fails(ctx, ["bogus"])


@test("relaysync-admin stats succeeds")
def cli_stats(ctx):
    cli_ok(ctx, ["stats"])


@test("secret file has mode 0600")
def cli_secret_mode(ctx):
    mode = stat.S_IMODE(os.stat(ctx.secret_file).st_mode)
    expect(mode == 0o600, "secret file mode is %o, expected 600" % mode)


@test("a key made by the CLI works end to end")
def cli_end_to_end(ctx):
    org = cli_ok(ctx, ["org", "create", "e2e"]).strip()
    key = json.loads(cli_ok(ctx, ["key", "create", "--org", org, "--email",
                                  "e2e@example.com", "--role", "viewer",
                                  "--json"]))["api_key"]
    resp = me(ctx, ctx.token_for(key))
    body = expect_json(resp)
    expect_equal(body.get("org_id"), org, "org_id", resp)
    expect_equal(body.get("email"), "e2e@example.com", "email", resp)
    expect_equal(body.get("role"), "viewer", "role", resp)


# --------------------------------------------------------------------------
# 10: throttling (last: it blocks wrong keys from 127.0.0.1 for the rest
# of the run)
# --------------------------------------------------------------------------

@test("10 wrong keys, then the 11th wrong key is 429 and a good key 200",
      last=True)
def throttle(ctx):
    first = exchange(ctx, {"api_key": wrong_key()})
    expect_problem(first, 401, "invalid_api_key")  # not throttled from the start
    for _ in range(9):
        resp = exchange(ctx, {"api_key": wrong_key()})
        expect(resp.status in (401, 429),
               "a wrong key answered %s, expected 401 or 429" % resp.status,
               resp)
    resp = exchange(ctx, {"api_key": wrong_key()})
    expect_problem(resp, 429, "rate_limited")
    retry = resp.headers.get("Retry-After") or ""
    expect(re.fullmatch(r"\d+", retry) is not None and int(retry) >= 1,
           "Retry-After: expected integer seconds >= 1, got %r" % retry, resp)
    good = exchange(ctx, {"api_key": ctx.admin_key})
    expect_json(good, 200)  # a correct key is never refused
