"""Who holds a key, kept in each FastCGI process between requests (issue
15: a GET by id no longer reads the token's holder from the database), and
changed by another process: every change must reach every process of the
pool at its next request. A role change, a user disabled, a key revoked
through the API and through relaysync-admin, an org's new rate limit: the
pool is warmed first (many requests at once, so every process keeps the
holder), the change is made, and then every one of many requests at once
must see it.

Every test name starts with "holders: " so that `-k holders` selects them.
Each test works in an org of its own, made with the CLI.
"""

import json
import secrets

from harness import (expect, expect_equal, expect_json, expect_problem,
                     http_call, run_parallel, test)

# Requests at once, to reach every process of the pool (lighttpd's
# include starts 4; mod_fcgid grows with the load).
WIDE = 24
TIMEOUT = 60


def htest(name, last=False):
    return test("holders: " + name, last)


class Org:
    """A fresh org (rate RATE) with an admin token (tok)."""

    def __init__(self, ctx, rate=1000000):
        self.ctx = ctx
        self.id = self.cli(["org", "create", "hold-%s"
                            % secrets.token_hex(3), "--rate-limit",
                            str(rate)])
        self.tok, _, _ = self.user("admin")

    def cli(self, args):
        rc, out, err = self.ctx.workspace.cli(args)
        expect(rc == 0, "relaysync-admin %s: exit %d: %s%s"
               % (" ".join(args), rc, out, err))
        return out.strip()

    def user(self, role):
        """A new user of ROLE with a key -> (token, user id, key id)."""
        key = json.loads(self.cli([
            "key", "create", "--org", self.id, "--email",
            "%s-%s@example.com" % (role, secrets.token_hex(4)), "--role",
            role, "--json"]))["api_key"]
        resp = http_call(self.ctx.port, "POST", "/v1/auth/token",
                         {"api_key": key})
        tok = expect_json(resp, 200)["access_token"]
        me = expect_json(http_call(self.ctx.port, "GET", "/v1/me",
                                   token=tok))
        return tok, me["user_id"], me["key_id"]


def wide(ctx, method, path, tok, body=None):
    """WIDE requests at once -> their responses."""
    def one():
        return http_call(ctx.port, method, path, body, token=tok)
    out = []
    for resp, exc in run_parallel([one] * WIDE, TIMEOUT):
        if exc is not None:
            raise exc
        out.append(resp)
    return out


def warm(ctx, tok, role):
    """Every process answers /v1/me for TOK with ROLE (and keeps it)."""
    for _ in range(2):
        for resp in wide(ctx, "GET", "/v1/me", tok):
            expect_equal(expect_json(resp).get("role"), role, "role", resp)


@htest("a role changed through the API is the role at once in every "
       "process")
def role_changed(ctx):
    o = Org(ctx)
    tok, uid, _ = o.user("operator")
    warm(ctx, tok, "operator")
    expect_json(http_call(ctx.port, "PATCH", "/v1/users/" + uid,
                          {"role": "viewer"}, token=o.tok), 200)
    for resp in wide(ctx, "GET", "/v1/me", tok):
        expect_equal(expect_json(resp).get("role"), "viewer", "role", resp)
    for resp in wide(ctx, "POST", "/v1/records", tok,
                     {"title": "t", "type": "x"}):
        expect_problem(resp, 403, "forbidden")


@htest("a user disabled through the API is refused at once in every "
       "process, and enabled again at once")
def user_disabled(ctx):
    o = Org(ctx)
    tok, uid, _ = o.user("operator")
    warm(ctx, tok, "operator")
    expect_json(http_call(ctx.port, "PATCH", "/v1/users/" + uid,
                          {"status": "disabled"}, token=o.tok), 200)
    for resp in wide(ctx, "GET", "/v1/me", tok):
        expect_problem(resp, 401, "unauthorized")
    expect_json(http_call(ctx.port, "PATCH", "/v1/users/" + uid,
                          {"status": "active"}, token=o.tok), 200)
    for resp in wide(ctx, "GET", "/v1/me", tok):
        expect_equal(expect_json(resp).get("role"), "operator", "role", resp)


@htest("a key revoked with relaysync-admin ends its tokens at once in "
       "every process")
def key_revoked_cli(ctx):
    o = Org(ctx)
    tok, _, kid = o.user("viewer")
    warm(ctx, tok, "viewer")
    o.cli(["key", "revoke", kid])
    for resp in wide(ctx, "GET", "/v1/me", tok):
        expect_problem(resp, 401, "unauthorized")
    for resp in wide(ctx, "GET", "/v1/records", tok):
        expect_problem(resp, 401, "unauthorized")


@htest("an org's rate limit set with relaysync-admin applies at once in "
       "every process")
def rate_changed_cli(ctx):
    o = Org(ctx, rate=500)
    tok, _, _ = o.user("viewer")
    for resp in wide(ctx, "GET", "/v1/me", tok):
        expect_equal(resp.headers.get("RateLimit-Limit"), "500",
                     "RateLimit-Limit", resp)
    o.cli(["org", "set-rate-limit", o.id, "900"])
    for resp in wide(ctx, "GET", "/v1/me", tok):
        expect_equal(resp.headers.get("RateLimit-Limit"), "900",
                     "RateLimit-Limit", resp)


@htest("another org's token, or a refused one, never reads a kept holder")
def kept_per_key(ctx):
    a = Org(ctx)
    b = Org(ctx)
    ta, _, ka = a.user("operator")
    tb, _, _ = b.user("viewer")
    warm(ctx, ta, "operator")
    warm(ctx, tb, "viewer")
    a.cli(["key", "revoke", ka])
    for resp in wide(ctx, "GET", "/v1/me", ta):
        expect_problem(resp, 401, "unauthorized")
    # Refusals are not kept: B's holder is still served, A's still refused.
    for resp in wide(ctx, "GET", "/v1/me", tb):
        body = expect_json(resp)
        expect_equal((body.get("role"), body.get("org_id")),
                     ("viewer", b.id), "role and org", resp)
    for resp in wide(ctx, "GET", "/v1/me", ta):
        expect_problem(resp, 401, "unauthorized")
