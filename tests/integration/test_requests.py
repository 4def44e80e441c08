"""Requests as the web server hands them over: paths routed as sent (an
encoded slash never separates segments), HEAD on every GET route, the
charset of a request body, and the throttle on failed key exchanges
(counted per client address and per key prefix; a correct key always
works; X-Forwarded-For is believed only from a configured trusted proxy,
and none is configured here).

The throttle tests each talk from an address of their own in 127/8 (the
loopback network; the server listens on 127.0.0.1), so that they neither
throttle nor are throttled by the tests that use 127.0.0.1.
"""

import http.client
import os
import re
import secrets
import time

import harness
from harness import (Failure, Headers, Response, encode_body, expect,
                     expect_equal, expect_json, expect_problem,
                     request_headers, test, HTTP_TIMEOUT)

BURST = 10          # RS_AUTH_FAIL_BURST: wrong keys answered 401 first


def call_from(ctx, source, method, path, body=None, headers=None,
              token=None):
    """ctx.call, from the local address SOURCE (e.g. "127.0.0.7")."""
    data = encode_body(body)
    hdrs = request_headers(data, headers, token)
    conn = http.client.HTTPConnection("127.0.0.1", ctx.port,
                                      timeout=HTTP_TIMEOUT,
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


def wrong_key(prefix=None):
    """A key of the right shape that no one has; PREFIX, when given, is
    its first 16 characters (the part failures are counted under)."""
    key = "rs_live_" + secrets.token_urlsafe(32)[:43]
    return key if prefix is None else prefix + key[len(prefix):]


def exchange_from(ctx, source, key, headers=None):
    return call_from(ctx, source, "POST", "/v1/auth/token",
                     {"api_key": key}, headers)


def expect_throttled(resp):
    expect_problem(resp, 429, "rate_limited")
    retry = resp.headers.get("Retry-After") or ""
    expect(re.fullmatch(r"\d+", retry) is not None and int(retry) >= 1,
           "Retry-After: expected integer seconds >= 1, got %r" % retry,
           resp)


def new_record(ctx, token, title):
    resp = ctx.call("POST", "/v1/records", {"title": title, "type": "note"},
                    token=token)
    return expect_json(resp, 201)["id"]


# --------------------------------------------------------------------------
# Paths
# --------------------------------------------------------------------------

@test("an encoded slash (/v1/records%2F<id>) does not reach the record: 404")
def encoded_slash(ctx):
    token = ctx.token_for(ctx.admin_key)
    title = "encoded-slash-" + secrets.token_hex(4)
    rid = new_record(ctx, token, title)
    expect_json(ctx.call("GET", "/v1/records/" + rid, token=token))
    for path in ("/v1/records%2F" + rid, "/v1/records%2f" + rid,
                 "/v1%2Frecords%2F" + rid):
        resp = ctx.call("GET", path, token=token)
        expect_equal(resp.status, 404, "status of GET " + path, resp)
        expect(title.encode() not in resp.body and "ETag" not in resp.headers,
               "GET %s reached the record" % path, resp)
        # The program's problem under both servers (Apache would refuse
        # an encoded slash itself with an HTML 404 without the include's
        # AllowEncodedSlashes NoDecode).
        expect_problem(resp, 404, "not_found")


@test("a path with a malformed escape is a 400 problem with the path as "
      "instance and an X-Request-Id")
def malformed_escape(ctx):
    resp = ctx.call("GET", "/v1/records/%zz")
    # Apache answers it itself (before any path is matched) and escapes
    # the path it puts in the JSON: the "%" of the malformed escape is
    # %25 there, a valid URI reference; lighttpd hands it to the program.
    expect_problem(resp, 400, "invalid_request",
                   "/v1/records/%25zz" if ctx.server_name == "apache"
                   else "/v1/records/%zz")
    expect(resp.headers.get("X-Request-Id"), "no X-Request-Id", resp)


# --------------------------------------------------------------------------
# HEAD
# --------------------------------------------------------------------------

SAME = ("Content-Type", "Content-Length", "Cache-Control", "ETag")


def expect_head_like_get(ctx, path, token=None):
    get = ctx.call("GET", path, token=token)
    head = ctx.call("HEAD", path, token=token)
    expect_equal(head.status, get.status, "HEAD %s status vs GET" % path,
                 head)
    for name in SAME:
        expect_equal(head.headers.get(name), get.headers.get(name),
                     "HEAD %s header %s vs GET" % (path, name), head)
    expect(head.headers.get("X-Request-Id"), "HEAD: no X-Request-Id", head)
    expect_equal(head.body, b"", "HEAD %s body" % path, head)


@test("HEAD /v1/health answers as GET does, without a body")
def head_health(ctx):
    expect_head_like_get(ctx, "/v1/health")


@test("HEAD /v1/records/<id> answers as GET does, without a body")
def head_record(ctx):
    token = ctx.token_for(ctx.admin_key)
    rid = new_record(ctx, token, "head-" + secrets.token_hex(4))
    expect_head_like_get(ctx, "/v1/records/" + rid, token)
    expect_head_like_get(ctx, "/v1/records/rec_00000000000000000000000000",
                         token)


@test("HEAD /v1/records answers as GET does, without a body")
def head_records(ctx):
    token = ctx.token_for(ctx.admin_key)
    expect_head_like_get(ctx, "/v1/records?limit=2", token)
    expect_head_like_get(ctx, "/v1/records")    # 401 without a token


@test("405's Allow lists HEAD wherever GET is allowed, and only there")
def head_allow(ctx):
    resp = ctx.call("DELETE", "/v1/health")
    expect_problem(resp, 405, "method_not_allowed")
    expect_equal(resp.headers.get("Allow"), "GET, HEAD", "Allow", resp)
    resp = ctx.call("HEAD", "/v1/auth/token")
    expect_equal(resp.status, 405, "HEAD /v1/auth/token status", resp)
    expect_equal(resp.headers.get("Allow"), "POST", "Allow", resp)
    expect_equal(resp.body, b"", "body", resp)


# --------------------------------------------------------------------------
# Request bodies
# --------------------------------------------------------------------------

@test("a body whose charset is not UTF-8 is 415; charset=UTF-8 is fine")
def body_charset(ctx):
    for ctype in ("application/json; charset=latin1",
                  "application/json; charset=iso-8859-1",
                  "application/x-www-form-urlencoded; charset=latin1"):
        resp = ctx.call("POST", "/v1/auth/token", {"api_key": ctx.admin_key},
                        {"Content-Type": ctype})
        expect_problem(resp, 415, "unsupported_media_type")
    for ctype in ("application/json; charset=utf-8",
                  "application/json; charset=UTF-8",
                  'application/json; charset="utf-8"',
                  "application/x-www-form-urlencoded"):
        resp = ctx.call("POST", "/v1/auth/token", {"api_key": ctx.admin_key},
                        {"Content-Type": ctype})
        expect_json(resp, 200)


# --------------------------------------------------------------------------
# The throttle on failed key exchanges
# --------------------------------------------------------------------------

@test("10 wrong keys from one address: a correct key is 200, the 11th "
      "wrong key 429")
def throttle_address(ctx):
    src = "127.0.0.2"
    for i in range(BURST):
        expect_problem(exchange_from(ctx, src, wrong_key()), 401,
                       "invalid_api_key")
    good = exchange_from(ctx, src, ctx.admin_key)
    expect_json(good, 200)
    expect_throttled(exchange_from(ctx, src, wrong_key()))
    expect_json(exchange_from(ctx, src, ctx.admin_key), 200)
    # Another address is not throttled.
    expect_problem(exchange_from(ctx, "127.0.0.3", wrong_key()), 401,
                   "invalid_api_key")


@test("failures for many key prefixes from one address throttle it")
def throttle_many_prefixes(ctx):
    src = "127.0.0.4"
    prefixes = set()
    for i in range(BURST):
        key = wrong_key()
        prefixes.add(key[:16])
        expect_problem(exchange_from(ctx, src, key), 401, "invalid_api_key")
    expect_equal(len(prefixes), BURST, "distinct prefixes")
    expect_throttled(exchange_from(ctx, src, wrong_key()))


@test("failures for one key prefix from many addresses throttle the prefix")
def throttle_one_prefix(ctx):
    prefix = wrong_key()[:16]
    for i in range(BURST):
        expect_problem(exchange_from(ctx, "127.0.1.%d" % (i + 1),
                                     wrong_key(prefix)),
                       401, "invalid_api_key")
    expect_throttled(exchange_from(ctx, "127.0.1.100", wrong_key(prefix)))
    # The same address with another prefix is not throttled.
    expect_problem(exchange_from(ctx, "127.0.1.100", wrong_key()), 401,
                   "invalid_api_key")


@test("without RELAYSYNC_TRUSTED_PROXIES, X-Forwarded-For is ignored")
def throttle_forwarded_ignored(ctx):
    src = "127.0.0.5"
    for i in range(BURST):
        xff = {"X-Forwarded-For": "198.51.100.%d" % (i + 1)}
        expect_problem(exchange_from(ctx, src, wrong_key(), xff), 401,
                       "invalid_api_key")
    # A fresh X-Forwarded-For does not make a fresh client ...
    expect_throttled(exchange_from(ctx, src, wrong_key(),
                                   {"X-Forwarded-For": "203.0.113.9"}))
    # ... nor does naming the throttled address throttle another one.
    expect_problem(exchange_from(ctx, "127.0.0.6", wrong_key(),
                                 {"X-Forwarded-For": "127.0.0.5"}),
                   401, "invalid_api_key")


def wal_state(ctx):
    """(size, mtime) of the database's WAL: what any commit changes. On
    PostgreSQL, whose WAL is the whole cluster's, every table's rows
    instead (harness.db_contents): what any write would change."""
    if harness.is_pg():
        return harness.db_contents(ctx)
    try:
        st = os.stat(ctx.workspace.db + "-wal")
    except FileNotFoundError:
        return None
    return (st.st_size, st.st_mtime_ns)


@test("a flood of wrong keys writes nothing to the database")
def throttle_no_writes(ctx):
    # Counted in the shared table beside the database, not in SQLite: a
    # commit (a row per failure, as before) would grow or touch the WAL.
    src = "127.0.0.8"
    time.sleep(0.05)
    before = wal_state(ctx)
    for i in range(BURST + 15):
        resp = exchange_from(ctx, src, wrong_key())
        if i < BURST:
            expect_problem(resp, 401, "invalid_api_key")
        else:
            expect_throttled(resp)
    expect_equal(wal_state(ctx), before,
                 "the WAL (size, mtime) after 25 wrong keys")
