"""The audit log (CONTRACT.md section 7; issue 12): every kind of write
appends exactly one entry (action, target, actor, request_id, ip) in the
same transaction, a failed write none; GET /v1/audit's filters and paging;
the per-org hash chain, recomputed here from the API's output alone
(Python's hashlib BLAKE2b-256, not our code) and by tools/audit-verify.mjs
(Node, no dependencies); the database's refusal of UPDATE and DELETE; and
`relaysync-admin audit verify` / tools/audit-verify.mjs on a tampered copy
(triggers dropped) naming the changed entry.

Every test name starts with "audit: " so that `run.py -k audit` selects
them. Each test works in an org of its own (made with the CLI, which
itself writes the org's first entries), so it knows every entry its org
holds.
"""

import concurrent.futures
import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import time
import urllib.parse

import harness
from harness import (Failure, db_run, expect, expect_equal, expect_json,
                     expect_match, expect_problem, expect_status, free_port,
                     test)

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.normpath(os.path.join(HERE, "..", "..", "tools",
                                     "audit-verify.mjs"))
TOOL_TIMEOUT = 120        # seconds for one run of tools/audit-verify.mjs
TIME_RE = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"
HEX64_RE = r"^[0-9a-f]{64}$"
ZERO_HASH = "0" * 64
ENTRY_MEMBERS = {"seq", "at", "org_id", "actor", "action", "target",
                 "request_id", "ip", "detail", "prev_hash", "hash"}
ACTIONS = {"record.create", "record.update", "record.delete",
           "record.conflict", "conflict.resolve", "policy.put",
           "policy.delete", "user.invite", "user.accept", "user.update",
           "webhook.create", "webhook.update",
           "webhook.delete", "webhook.rotate_secret", "webhook.replay",
           "job.retry", "token.issue", "org.create", "key.create",
           "key.revoke"}
CLI_ACTOR = {"type": "system", "id": "relaysync-admin"}
CLIENT_IP = "127.0.0.1"
CLOCK_SLACK = 120         # seconds between an entry's `at` and the test's clock
MAX_PAGES = 100
CHAIN_RECORDS = 300       # records made for the several-hundred-entry chain
CHAIN_THREADS = 8
PAYLOAD = "payload-value-never-audited-7f3a"


def atest(name, last=False):
    return test("audit: " + name, last)


# --------------------------------------------------------------------------
# helpers: orgs, keys, the CLI
# --------------------------------------------------------------------------

def cli_ok(ctx, args, ws=None):
    rc, out, err = (ws or ctx.workspace).cli(args)
    expect(rc == 0, "relaysync-admin %s: exit %d: %s%s"
           % (" ".join(args), rc, out, err))
    return out.strip()


def new_key(ctx, org, role, email=None):
    """key create --json -> its object (key_id, api_key, user_id, ...)."""
    email = email or "%s-%s@example.com" % (role, secrets.token_hex(4))
    out = cli_ok(ctx, ["key", "create", "--org", org, "--email", email,
                       "--role", role, "--json"])
    try:
        return json.loads(out)
    except ValueError:
        raise Failure("key create --json: not JSON: %r" % out)


class Org:
    """A fresh org made with the CLI (`--rate-limit` high: some tests write
    fast) and its admin: org, name, key (the key create object), api_key,
    tok (an access token: one token.issue entry), uid (the admin's id)."""

    def __init__(self, ctx, label, name=None, rate_limit=100000):
        self.ctx = ctx
        self.name = name or "%s-%s" % (label, secrets.token_hex(3))
        self.org = cli_ok(ctx, ["org", "create", self.name, "--rate-limit",
                                str(rate_limit)])
        expect_match(r"^org_\S+$", self.org, "org create output")
        self.key = new_key(ctx, self.org, "admin")
        self.api_key = self.key["api_key"]
        self.tok = ctx.token_for(self.api_key)
        self.uid = self.key["user_id"]

    def user_token(self, role):
        """A key of ROLE (key.create) and its token (token.issue) ->
        (key object, token)."""
        k = new_key(self.ctx, self.org, role)
        return k, self.ctx.token_for(k["api_key"])

    def entries(self, **params):
        return audit_all(self.ctx, self.tok, **params)

    def last_seq(self):
        got = self.entries()
        return got[-1]["seq"] if got else 0


SIDE_ADDRESS = "127.0.0.12"   # the source address of refused exchanges


def call_from(ctx, method, path, body=None, token=None):
    """ctx.call from SIDE_ADDRESS (its own throttle bucket)."""
    import http.client
    data = harness.encode_body(body)
    hdrs = harness.request_headers(data, None, token)
    conn = http.client.HTTPConnection("127.0.0.1", ctx.port,
                                      timeout=harness.HTTP_TIMEOUT,
                                      source_address=(SIDE_ADDRESS, 0))
    try:
        conn.request(method, path, body=data, headers=hdrs)
        raw = conn.getresponse()
        return harness.Response(method, path, hdrs, data, raw.status,
                                harness.Headers(raw.getheaders()), raw.read())
    except (OSError, http.client.HTTPException) as e:
        raise Failure("no HTTP answer from %s: %s" % (SIDE_ADDRESS, e))
    finally:
        conn.close()


def user_actor(uid):
    return {"type": "user", "id": uid}


# --------------------------------------------------------------------------
# helpers: GET /v1/audit
# --------------------------------------------------------------------------

def expect_entry(e, resp=None, what="entry"):
    """E has exactly the members section 7 names, of the right types."""
    expect(isinstance(e, dict), "%s: expected an object, got %r" % (what, e),
           resp)
    expect_equal(set(e), ENTRY_MEMBERS, what + " members", resp)
    expect(isinstance(e["seq"], int) and not isinstance(e["seq"], bool)
           and e["seq"] >= 1, "%s.seq: a positive integer, got %r"
           % (what, e["seq"]), resp)
    expect_match(TIME_RE, e["at"], what + ".at", resp)
    expect_match(r"^org_\S+$", e["org_id"], what + ".org_id", resp)
    actor = e["actor"]
    expect(isinstance(actor, dict) and set(actor) == {"type", "id"},
           "%s.actor: {type, id}, got %r" % (what, actor), resp)
    expect(actor["type"] in ("user", "system"), "%s.actor.type: %r"
           % (what, actor["type"]), resp)
    expect(isinstance(actor["id"], str) and actor["id"],
           "%s.actor.id: %r" % (what, actor["id"]), resp)
    expect(e["action"] in ACTIONS, "%s.action: unknown %r"
           % (what, e["action"]), resp)
    for name in ("target", "request_id", "ip"):
        expect(e[name] is None or (isinstance(e[name], str) and e[name]),
               "%s.%s: null or a non-empty string, got %r"
               % (what, name, e[name]), resp)
    expect(isinstance(e["detail"], dict), "%s.detail: an object, got %r"
           % (what, e["detail"]), resp)
    expect_match(HEX64_RE, e["prev_hash"], what + ".prev_hash", resp)
    expect_match(HEX64_RE, e["hash"], what + ".hash", resp)
    return e


def audit_query(params):
    return "/v1/audit" + ("?" + urllib.parse.urlencode(params)
                          if params else "")


def audit_page(ctx, tok, params=None):
    """One GET /v1/audit page (must be 200) -> (body, resp)."""
    resp = ctx.call("GET", audit_query(params), token=tok)
    body = expect_json(resp, 200)
    expect(isinstance(body, dict) and isinstance(body.get("data"), list),
           "GET /v1/audit: data should be a list", resp)
    expect(isinstance(body.get("has_more"), bool),
           "has_more should be a boolean", resp)
    nc = body.get("next_cursor", "missing")
    expect(nc is None or isinstance(nc, str),
           "next_cursor should be null or a string, got %r" % (nc,), resp)
    expect_equal(nc is not None, body["has_more"],
                 "next_cursor present exactly when has_more", resp)
    for i, e in enumerate(body["data"]):
        expect_entry(e, resp, "data[%d]" % i)
    seqs = [e["seq"] for e in body["data"]]
    expect(seqs == sorted(set(seqs)), "a page is not oldest first: %r"
           % seqs, resp)
    return body, resp


def audit_all(ctx, tok, **params):
    """Every entry GET /v1/audit lists with PARAMS, walking the cursor
    (limit 200 unless PARAMS says otherwise)."""
    params.setdefault("limit", "200")
    out, cursor = [], None
    for _ in range(MAX_PAGES):
        q = dict(params)
        if cursor:
            q["cursor"] = cursor
        body, resp = audit_page(ctx, tok, q)
        expect(len(body["data"]) <= int(params["limit"]),
               "page longer than limit", resp)
        if out and body["data"]:
            expect(body["data"][0]["seq"] > out[-1]["seq"],
                   "pages overlap or go back: %d after %d"
                   % (body["data"][0]["seq"], out[-1]["seq"]), resp)
        out += body["data"]
        if not body["has_more"]:
            return out
        cursor = body["next_cursor"]
    raise Failure("GET /v1/audit: still has_more after %d pages" % MAX_PAGES)


# --------------------------------------------------------------------------
# helpers: the chain, recomputed here (hashlib, not our C code)
# --------------------------------------------------------------------------

def canonical(value):
    """Section 7's canonical JSON: members sorted by name, no whitespace,
    strings as ECMAScript's JSON.stringify escapes them (Python's json
    escapes the same set for ASCII names and BMP text: \\" \\\\ \\b \\f
    \\n \\r \\t, other controls as lower-case \\u00xx, "/" and non-ASCII
    literal)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False, allow_nan=False)


def entry_hash(e):
    rest = {k: v for k, v in e.items() if k != "hash"}
    data = (e["prev_hash"] + canonical(rest)).encode("utf-8")
    return hashlib.blake2b(data, digest_size=32).hexdigest()


def expect_chain(entries, what="chain"):
    """ENTRIES (an org's whole log, oldest first) are seq 1..N, each linked
    to the one before and carrying the hash recomputed from its fields."""
    prev = ZERO_HASH
    org = entries[0]["org_id"] if entries else None
    for i, e in enumerate(entries, 1):
        expect_equal(e["seq"], i, "%s: seq of entry #%d" % (what, i))
        expect_equal(e["org_id"], org, "%s: org_id of entry %d" % (what, i))
        expect_equal(e["prev_hash"], prev, "%s: prev_hash of entry %d (%s)"
                     % (what, i, e["action"]))
        expect_equal(e["hash"], entry_hash(e), "%s: hash of entry %d (%s), "
                     "recomputed over prev_hash + %s"
                     % (what, i, e["action"],
                        canonical({k: v for k, v in e.items()
                                   if k != "hash"})))
        prev = e["hash"]


def summary(entries):
    return [(e["action"], e["target"], e["actor"]["type"], e["actor"]["id"])
            for e in entries]


class Writes:
    """The writes a test makes and the entries they must append: after
    mark(), want(resp, action, target, actor, detail=fn) for each write that
    must append one; check() then compares the org's new entries with them
    exactly (nothing more, nothing less, in order) and returns them."""

    def __init__(self, org):
        self.org = org
        self.wanted = []
        self.start = 0

    def mark(self):
        self.start = self.org.last_seq()
        self.wanted = []
        self.t0 = time.time()

    def want(self, resp, action, target, actor, detail=None, cli=False):
        self.wanted.append({"resp": resp, "action": action, "target": target,
                            "actor": actor, "detail": detail, "cli": cli})

    def check(self):
        got = [e for e in self.org.entries() if e["seq"] > self.start]
        want = [(w["action"], w["target"], w["actor"]["type"],
                 w["actor"]["id"]) for w in self.wanted]
        expect_equal(summary(got), want,
                     "new entries (action, target, actor type, actor id)")
        for i, (e, w) in enumerate(zip(got, self.wanted)):
            what = "entry %d (%s)" % (e["seq"], e["action"])
            expect_equal(e["seq"], self.start + 1 + i, what + " seq")
            expect_equal(e["org_id"], self.org.org, what + " org_id")
            expect_equal(e["actor"], w["actor"], what + " actor")
            resp = w["resp"]
            if w["cli"]:
                expect_equal((e["request_id"], e["ip"]), (None, None),
                             what + " (the CLI's) request_id and ip")
            else:
                expect_equal(e["request_id"],
                             resp.headers.get("X-Request-Id"),
                             what + " request_id vs the write's X-Request-Id",
                             resp)
                expect_equal(e["ip"], CLIENT_IP, what + " ip", resp)
            at = parse_time(e["at"])
            expect(abs(at - time.time()) <= CLOCK_SLACK,
                   "%s at %s is far from now" % (what, e["at"]))
            if w["detail"]:
                try:
                    w["detail"](e["detail"])
                except Failure as f:
                    raise Failure("%s detail %s: %s"
                                  % (what, canonical(e["detail"]), f), resp)
        return got


def parse_time(value):
    import calendar
    m = re.match(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3})Z$",
                 value)
    expect(m, "not an RFC 3339 ms UTC time: %r" % value)
    parts = [int(x) for x in m.groups()]
    return calendar.timegm(tuple(parts[:6]) + (0, 0, 0)) + parts[6] / 1000.0


def expect_nothing_secret(entries, secrets_seen, what="the audit log"):
    """No SECRETS_SEEN string and no key, token or secret prefix appears in
    any entry."""
    text = canonical(entries)
    for s in secrets_seen:
        expect(s not in text, "%s holds %r" % (what, s))
    for prefix in ("rs_live_", "rst1.", "rsi_", "whsec_"):
        expect(prefix not in text, "%s holds something starting %r"
               % (what, prefix))


def fields_of(detail):
    names = detail.get("fields")
    expect(isinstance(names, list) and all(isinstance(n, str)
                                           for n in names),
           "fields should be a list of member names, got %r" % (names,))
    return set(names)


# --------------------------------------------------------------------------
# helpers: tools/audit-verify.mjs and the CLI's verify
# --------------------------------------------------------------------------

def node_bin():
    path = shutil.which("node") or shutil.which("nodejs")
    expect(path, "node is not installed (scripts/test installs nodejs)")
    return path


def run_tool(args, env_key=None):
    """node tools/audit-verify.mjs ARGS -> (rc, stdout, stderr)."""
    env = dict(os.environ)
    env.pop("RELAYSYNC_API_KEY", None)
    if env_key is not None:
        env["RELAYSYNC_API_KEY"] = env_key
    try:
        done = subprocess.run([node_bin(), TOOL] + list(args), env=env,
                              stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=TOOL_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise Failure("tools/audit-verify.mjs %s: still running after %d s"
                      % (" ".join(args), TOOL_TIMEOUT))
    return (done.returncode, done.stdout.decode("utf-8", "replace"),
            done.stderr.decode("utf-8", "replace"))


def tool_verify(base, api_key):
    return run_tool(["--base", base, "--api-key", api_key])


def expect_tool_intact(base, api_key, count, org=None):
    rc, out, err = tool_verify(base, api_key)
    expect(rc == 0, "audit-verify.mjs: exit %d (want 0): %s%s"
           % (rc, out, err))
    expect(re.search(r"(^|\s)%d entries, intact\b" % count, out),
           "audit-verify.mjs should print '%d entries, intact', printed %r"
           % (count, out))
    if org:
        expect(org in out, "audit-verify.mjs should name %s: %r"
               % (org, out))


def expect_tool_broken(base, api_key, seq):
    rc, out, err = tool_verify(base, api_key)
    expect(rc == 1, "audit-verify.mjs: exit %d (want 1, broken at %d): "
           "%s%s" % (rc, seq, out, err))
    expect(re.search(r"\bentry %d is broken\b" % seq, out),
           "audit-verify.mjs should name entry %d, printed %r%r"
           % (seq, out, err))


def verify_line(text, org):
    """The line of `audit verify` output about ORG, or None."""
    for line in text.splitlines():
        if line.startswith(org + ":") or line.startswith(org + " "):
            return line
    return None


def expect_cli_intact(ws_cli, org, count):
    rc, out, err = ws_cli(["audit", "verify", "--org", org])
    expect(rc == 0, "audit verify --org %s: exit %d (want 0): %s%s"
           % (org, rc, out, err))
    line = verify_line(out, org)
    expect(line is not None and
           re.search(r"\b%d entries, intact\b" % count, line),
           "audit verify --org %s should print '%s: %d entries, intact', "
           "printed %r" % (org, org, count, out))


def expect_cli_broken(ws_cli, org, seq, args=None):
    args = args if args is not None else ["--org", org]
    rc, out, err = ws_cli(["audit", "verify"] + args)
    expect(rc == 1, "audit verify %s: exit %d (want 1, %s broken at %d): "
           "%s%s" % (" ".join(args), rc, org, seq, out, err))
    line = verify_line(out + err, org)
    expect(line is not None and
           re.search(r"\bentry %d is broken\b" % seq, line),
           "audit verify %s should print '%s: entry %d is broken (...)', "
           "printed %r%r" % (" ".join(args), org, seq, out, err))


# ==========================================================================
# the independent verifier itself
# ==========================================================================

@atest("tools/audit-verify.mjs --self-test passes (RFC 7693's \"abc\" "
       "vector, BLAKE2b-256 vectors from Python's hashlib); bad usage and "
       "an unreachable server exit 2")
def tool_self_test(ctx):
    rc, out, err = run_tool(["--self-test"])
    expect(rc == 0, "--self-test: exit %d: %s%s" % (rc, out, err))
    # this test's own copy of the vectors, checked against hashlib too
    expect_equal(hashlib.blake2b(b"abc", digest_size=32).hexdigest(),
                 "bddd813c634239723171ef3fee98579b"
                 "94964e3bb1cb3e427262c8c068d52319", "hashlib BLAKE2b-256")
    for args, env_key in ((["--api-key", "x"], None),        # no --base
                          (["--base", ctx.base_url], None),   # no key
                          (["--base", "nowhere", "--api-key", "x"], None),
                          (["--bogus"], None)):
        rc, out, err = run_tool(args, env_key)
        expect_equal(rc, 2, "exit of audit-verify.mjs %s (usage)"
                     % " ".join(args))
    port = free_port()   # nothing listens there
    rc, out, err = run_tool(["--base", "http://127.0.0.1:%d" % port],
                            env_key="rs_live_x")
    expect_equal(rc, 2, "exit with no server (stderr %r)" % err)
    rc, out, err = run_tool(["--base", ctx.base_url + "/not-here",
                             "--api-key", "rs_live_x"])
    expect_equal(rc, 2, "exit when the exchange is 404 (stderr %r)" % err)
    expect("404" in err, "an HTTP error names the status: %r" % err)


# ==========================================================================
# every kind of write: exactly one entry; a failed write none
# ==========================================================================

@atest("records: create, patch, a causal conflict and delete append one "
       "entry each (action, target, actor, request_id, ip, detail without "
       "the payload); failed writes and an idempotent replay append none")
def records_entries(ctx):
    o = Org(ctx, "aud-rec")
    _, viewer = o.user_token("viewer")
    w = Writes(o)
    w.mark()
    me = user_actor(o.uid)
    resp = ctx.call("POST", "/v1/records",
                    {"title": "Audited", "type": "aud",
                     "data": {"note": PAYLOAD}}, token=o.tok)
    rec = expect_json(resp, 201)
    w.want(resp, "record.create", rec["id"], me,
           lambda d: expect(fields_of(d) >= {"title", "type", "data"},
                            "fields should name title, type and data"))
    resp = ctx.call("PATCH", "/v1/records/" + rec["id"],
                    {"title": "Audited 2", "causal": rec["causal"]},
                    token=o.tok)
    cur = expect_json(resp, 200)
    w.want(resp, "record.update", rec["id"], me,
           lambda d: expect("title" in fields_of(d)
                            and "data" not in fields_of(d),
                            "fields should name title (and not data)"))
    resp = ctx.call("PATCH", "/v1/records/" + rec["id"],
                    {"title": "stale", "causal": rec["causal"]}, token=o.tok)
    expect_problem(resp, 409, "causal_conflict")

    def conflict_detail(d):
        expect_equal(d.get("causal_sent"), rec["causal"], "causal_sent")
        expect_equal(d.get("causal_current"), cur["causal"],
                     "causal_current")
    w.want(resp, "record.conflict", rec["id"], me, conflict_detail)

    # failed writes: none
    expect_problem(ctx.call("POST", "/v1/records", {"type": "no-title"},
                            token=o.tok), 400, "invalid_request")
    expect_problem(ctx.call("PATCH", "/v1/records/" + rec["id"],
                            {"title": "no causal"}, token=o.tok), 428,
                   "causal_required")
    expect_problem(ctx.call("DELETE", "/v1/records/rec_" + "0" * 26,
                            token=o.tok), 404, "not_found")
    expect_problem(ctx.call("POST", "/v1/records",
                            {"title": "viewer", "type": "aud"},
                            token=viewer), 403, "forbidden")
    expect_problem(ctx.call("POST", "/v1/records", b"{not json",
                            token=o.tok), 400, "invalid_json")

    # an idempotent replay: one entry for both answers
    key = "aud-" + secrets.token_hex(6)
    body = {"title": "Once", "type": "aud"}
    first = ctx.call("POST", "/v1/records", body,
                     headers={"Idempotency-Key": key}, token=o.tok)
    once = expect_json(first, 201)
    w.want(first, "record.create", once["id"], me)
    again = ctx.call("POST", "/v1/records", body,
                     headers={"Idempotency-Key": key}, token=o.tok)
    expect_equal(again.status, 201, "replayed status", again)
    expect_equal(again.headers.get("Idempotent-Replayed"), "true",
                 "Idempotent-Replayed", again)

    resp = ctx.call("DELETE", "/v1/records/" + rec["id"], token=o.tok)
    expect_json(resp, 200)
    w.want(resp, "record.delete", rec["id"], me)
    got = w.check()
    expect_nothing_secret(got, [PAYLOAD])
    expect_chain(o.entries(), "the org's chain")


@atest("policies: put (create and replace) and delete append one entry each "
       "with the policy's id and name; an invalid policy, a missing one and "
       "the evaluate dry run append none")
def policy_entries(ctx):
    o = Org(ctx, "aud-pol")
    w = Writes(o)
    w.mark()
    me = user_actor(o.uid)
    name = "aud_" + secrets.token_hex(3)

    def named(d):
        expect_equal(d.get("name"), name, "detail name")
    resp = ctx.call("POST", "/v1/policies",
                    {"name": name, "when": "size>10", "then": "queue=wifi"},
                    token=o.tok)
    pol = expect_json(resp, 201)
    w.want(resp, "policy.put", pol["id"], me, named)
    resp = ctx.call("POST", "/v1/policies",
                    {"name": name, "when": "size>20", "then": "queue=wifi"},
                    token=o.tok)
    pol2 = expect_json(resp, 200)
    w.want(resp, "policy.put", pol2["id"], me, named)
    # none
    expect_problem(ctx.call("POST", "/v1/policies",
                            {"name": "bad", "when": "size>>", "then": "x"},
                            token=o.tok), 400, "invalid_policy")
    expect_problem(ctx.call("DELETE", "/v1/policies/none_such",
                            token=o.tok), 404, "not_found")
    expect_json(ctx.call("POST", "/v1/policies/evaluate",
                         {"record": {"title": "t", "type": "photo"}},
                         token=o.tok), 200)
    resp = ctx.call("DELETE", "/v1/policies/" + name, token=o.tok)
    expect(resp.status in (200, 204), "DELETE policy: status %s"
           % resp.status, resp)
    w.want(resp, "policy.delete", pol2["id"], me, named)
    w.check()
    expect_chain(o.entries(), "the org's chain")


@atest("users: invite (by the admin), accept (by the accepting user) and a "
       "role change append one entry each, without the invite token or the "
       "key; bad invites, a bogus or reused token and a missing user none")
def user_entries(ctx):
    o = Org(ctx, "aud-usr")
    w = Writes(o)
    w.mark()
    me = user_actor(o.uid)
    email = "invited-%s@example.com" % secrets.token_hex(4)
    resp = ctx.call("POST", "/v1/users/invite",
                    {"email": email, "role": "operator"}, token=o.tok)
    inv = expect_json(resp, 201)
    uid = inv["user"]["id"]

    def invited(d):
        expect_equal((d.get("email"), d.get("role")), (email, "operator"),
                     "detail email, role")
    w.want(resp, "user.invite", uid, me, invited)
    # none
    expect_status(ctx.call("POST", "/v1/users/invite",
                           {"email": "not-an-email", "role": "operator"},
                           token=o.tok), 400)
    expect_problem(ctx.call("POST", "/v1/users/invite",
                            {"email": "x-%s@example.com" % secrets.token_hex(3),
                             "role": "wizard"}, token=o.tok),
                   400, "invalid_request")
    bogus = ctx.call("POST", "/v1/users/accept",
                     {"invite_token": "rsi_" + secrets.token_hex(16)})
    expect(400 <= bogus.status < 500, "a bogus invite token: status %s"
           % bogus.status, bogus)

    resp = ctx.call("POST", "/v1/users/accept",
                    {"invite_token": inv["invite_token"]})
    acc = expect_json(resp, 201)
    w.want(resp, "user.accept", uid, user_actor(uid))
    again = ctx.call("POST", "/v1/users/accept",
                     {"invite_token": inv["invite_token"]})
    expect(400 <= again.status < 500, "a reused invite token: status %s"
           % again.status, again)
    expect_equal(ctx.call("PATCH", "/v1/users/usr_" + "0" * 26,
                          {"role": "viewer"}, token=o.tok).status, 404,
                 "PATCH of a missing user")

    resp = ctx.call("PATCH", "/v1/users/" + uid, {"role": "viewer"},
                    token=o.tok)
    expect_json(resp, 200)
    w.want(resp, "user.update", uid, me,
           lambda d: expect(d.get("role") == "viewer",
                            "detail role should be viewer"))
    got = w.check()
    expect_nothing_secret(got, [inv["invite_token"], acc["api_key"]])
    expect_chain(o.entries(), "the org's chain")


@atest("webhooks and the queue: create, update, rotate-secret, replay, "
       "delete and a job retry append one entry each, never the secret; "
       "refused ones none")
def webhook_entries(ctx):
    o = Org(ctx, "aud-whk")
    w = Writes(o)
    w.mark()
    me = user_actor(o.uid)
    t0 = time.time() - 2
    # nothing listens there: the worker's delivery fails at once
    url = "http://127.0.0.1:%d/audit/in" % free_port()
    resp = ctx.call("POST", "/v1/webhooks",
                    {"url": url, "events": ["record.created"]}, token=o.tok)
    hook = expect_json(resp, 201)
    hid = hook["id"]
    seen_secrets = [hook["secret"]]
    try:
        def created(d):
            expect_equal((d.get("url"), d.get("events")),
                         (url, ["record.created"]), "detail url, events")
        w.want(resp, "webhook.create", hid, me, created)
        resp = ctx.call("PATCH", "/v1/webhooks/" + hid,
                        {"description": "audited"}, token=o.tok)
        expect_json(resp, 200)
        w.want(resp, "webhook.update", hid, me,
               lambda d: expect("description" in canonical(d),
                                "detail should name description"))
        resp = ctx.call("POST", "/v1/webhooks/%s/rotate-secret" % hid,
                        token=o.tok)
        rotated = expect_json(resp, 200)
        seen_secrets.append(rotated.get("secret") or "whsec_")
        w.want(resp, "webhook.rotate_secret", hid, me)
        resp = ctx.call("POST", "/v1/records", {"title": "Queued",
                                                "type": "aud"}, token=o.tok)
        rec = expect_json(resp, 201)
        w.want(resp, "record.create", rec["id"], me)
        # the worker makes the record's job and fails to deliver it
        # (writing no entry: it is not an API write)
        rc, out, err, _ = ctx.worker(["--once"])
        expect(rc == 0, "relaysync-worker --once: exit %d: %s%s"
               % (rc, out, err))
        q = expect_json(ctx.call("GET", "/v1/sync/queue?limit=200",
                                 token=o.tok), 200)
        jobs = [j for j in q["data"] if j.get("record_id") == rec["id"]]
        expect_equal(len(jobs), 1, "jobs of the record")
        state = jobs[0]["state"]
        resp = ctx.call("POST", "/v1/sync/retry/" + jobs[0]["id"],
                        token=o.tok)
        expect_json(resp, 202)
        w.want(resp, "job.retry", jobs[0]["id"], me,
               lambda d: expect_equal(d.get("job_state_before"), state,
                                      "job_state_before"))
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0))
        resp = ctx.call("POST", "/v1/webhooks/%s/replay" % hid,
                        {"since": since}, token=o.tok)
        answer = expect_json(resp, 202)

        def replayed(d):
            expect(d.get("since"), "detail since")
            expect("until" in d, "detail until")
            expect_equal(d.get("jobs"), answer.get("jobs"), "detail jobs")
        w.want(resp, "webhook.replay", hid, me, replayed)
        # refused: none
        expect_status(ctx.call("POST", "/v1/webhooks",
                               {"url": "ftp://hooks.example.com/x",
                                "events": ["record.created"]}, token=o.tok),
                      400)
        expect_problem(ctx.call("PATCH", "/v1/webhooks/whk_" + "0" * 26,
                                {"description": "x"}, token=o.tok),
                       404, "not_found")
        expect_problem(ctx.call("POST", "/v1/sync/retry/job_" + "0" * 26,
                                token=o.tok), 404, "not_found")
        expect_equal(ctx.call("POST", "/v1/webhooks/%s/rotate-secret"
                              % ("whk_" + "0" * 26), token=o.tok).status,
                     404, "rotate-secret of a missing webhook")
        bad = ctx.call("POST", "/v1/webhooks/%s/replay" % hid,
                       {"since": "yesterday"}, token=o.tok)
        expect_equal(bad.status, 400, "replay with a bad since", bad)
    finally:
        resp = ctx.call("DELETE", "/v1/webhooks/" + hid, token=o.tok)
    expect(resp.status in (200, 204), "DELETE webhook: status %s"
           % resp.status, resp)
    w.want(resp, "webhook.delete", hid, me)
    expect_problem(ctx.call("DELETE", "/v1/webhooks/" + hid, token=o.tok),
                   404, "not_found")
    got = w.check()
    expect_nothing_secret(got, seen_secrets)
    expect_chain(o.entries(), "the org's chain")


@atest("the CLI's org create, key create and key revoke (actor system, no "
       "request_id or ip) and a token exchange (actor the key's user) are "
       "the org's entries from seq 1; refused exchanges append none")
def cli_and_token_entries(ctx):
    name = "aud-cli-%s" % secrets.token_hex(3)
    org = cli_ok(ctx, ["org", "create", name])
    email = "admin-%s@example.com" % secrets.token_hex(4)
    k1 = new_key(ctx, org, "admin", email)
    resp = ctx.call("POST", "/v1/auth/token", {"api_key": k1["api_key"]})
    tok = expect_json(resp, 200)["access_token"]
    token_resp = resp
    k2 = new_key(ctx, org, "viewer")
    cli_ok(ctx, ["key", "revoke", k2["key_id"]])
    # refused: a revoked key, a wrong key, a malformed request (from a
    # loopback address of their own: wrong keys count towards the
    # throttle of 127.0.0.1, which test_foundation checks last)
    expect_status(call_from(ctx, "POST", "/v1/auth/token",
                            {"api_key": k2["api_key"]}), 401)
    expect_status(call_from(ctx, "POST", "/v1/auth/token",
                            {"api_key": k1["api_key"] + "x"}), 401)
    expect_status(call_from(ctx, "POST", "/v1/auth/token", {}), 400)
    got = audit_all(ctx, tok)
    uid = k1["user_id"]
    expect_equal([(e["action"], e["actor"]) for e in got],
                 [("org.create", CLI_ACTOR), ("key.create", CLI_ACTOR),
                  ("token.issue", user_actor(uid)), ("key.create", CLI_ACTOR),
                  ("key.revoke", CLI_ACTOR)], "the org's entries")
    expect_chain(got, "the org's chain")
    for e in got:
        expect_equal(e["org_id"], org, "org_id of %s" % e["action"])
        if e["actor"]["type"] == "system":
            expect_equal((e["request_id"], e["ip"]), (None, None),
                         "%s request_id, ip" % e["action"])
    oc, kc1, ti, kc2, kr = got
    expect_equal(oc["target"], org, "org.create target")
    expect_equal(oc["detail"].get("name"), name, "org.create detail name")
    expect_equal(kc1["target"], k1["key_id"], "key.create target")
    expect_equal((kc1["detail"].get("email"), kc1["detail"].get("role")),
                 (email, "admin"), "key.create detail email, role")
    expect_equal(kc2["target"], k2["key_id"], "second key.create target")
    expect_equal(kr["target"], k2["key_id"], "key.revoke target")
    expect_equal(ti["detail"].get("key_id"), k1["key_id"],
                 "token.issue detail key_id")
    expect(ti["target"] in (None, k1["key_id"], uid),
           "token.issue target: the key, its user or null, got %r"
           % ti["target"])
    expect_equal(ti["request_id"], token_resp.headers.get("X-Request-Id"),
                 "token.issue request_id", token_resp)
    expect_equal(ti["ip"], CLIENT_IP, "token.issue ip")
    expect_nothing_secret(got, [k1["api_key"], k2["api_key"], tok])


# ==========================================================================
# GET /v1/audit
# ==========================================================================

@atest("the lookup by target: the same answer before the worker fills it "
       "in (read from the log) and after it did, with an entry written "
       "since; the worker adds every entry, each once")
def target_lookup(ctx):
    o = Org(ctx, "aud-target")
    rec = expect_json(ctx.call("POST", "/v1/records",
                               {"title": "t0", "type": "aud"}, token=o.tok),
                      201)
    causal = rec["causal"]
    for i in range(3):
        got = expect_json(ctx.call("PATCH", "/v1/records/" + rec["id"],
                                   {"title": "t%d" % (i + 1),
                                    "causal": causal}, token=o.tok), 200)
        causal = got["causal"]
    want = [e["seq"] for e in o.entries() if e.get("target") == rec["id"]]
    expect_equal(len(want), 4, "the record's entries")
    for params in ({}, {"after_seq": want[1]}):
        got = [e["seq"] for e in o.entries(target=rec["id"], **params)]
        expect_equal(got, [s for s in want if s > params.get("after_seq", 0)],
                     "by target %r, before the worker" % params)
    rc, out, err, _ = ctx.worker(["--once"])
    expect(rc == 0, "relaysync-worker --once: exit %d: %s%s" % (rc, out, err))
    rows, _ = db_run(ctx, "SELECT count(*) FROM audit WHERE seq NOT IN "
                     "(SELECT seq FROM audit_targets)")
    expect_equal(rows[0][0], 0, "entries the worker left out of the lookup")
    rows, _ = db_run(ctx, "SELECT count(*) - count(DISTINCT seq) FROM "
                     "audit_targets")
    expect_equal(rows[0][0], 0, "entries in the lookup twice")
    # one more after the worker: part from the lookup, part from the log
    expect_json(ctx.call("PATCH", "/v1/records/" + rec["id"],
                         {"title": "t9", "causal": causal}, token=o.tok), 200)
    want = [e["seq"] for e in o.entries() if e.get("target") == rec["id"]]
    expect_equal(len(want), 5, "the record's entries, one more")
    for params in ({}, {"after_seq": want[2]}, {"limit": 2}):
        body, _ = audit_page(ctx, o.tok, dict(params, target=rec["id"]))
        got = [e["seq"] for e in body["data"]]
        lo = params.get("after_seq", 0)
        expect_equal(got, [s for s in want if s > lo][:params.get("limit",
                                                                    50)],
                     "by target %r, after the worker" % params)


@atest("GET /v1/audit filters by action, actor, target and after_seq (alone "
       "and together), pages oldest first with the cursor, shows only the "
       "caller's org, is admin only, and refuses bad parameters")
def list_filters(ctx):
    o = Org(ctx, "aud-list")
    op_key, op = o.user_token("operator")
    recs = []
    for i in range(3):
        recs.append(expect_json(ctx.call("POST", "/v1/records",
                                         {"title": "a%d" % i, "type": "aud"},
                                         token=o.tok), 201))
    for i in range(2):
        recs.append(expect_json(ctx.call("POST", "/v1/records",
                                         {"title": "o%d" % i, "type": "aud"},
                                         token=op), 201))
    expect_json(ctx.call("PATCH", "/v1/records/" + recs[0]["id"],
                         {"title": "a0!", "causal": recs[0]["causal"]},
                         token=o.tok), 200)
    full = o.entries()
    expect_chain(full, "the org's chain")
    seqs = [e["seq"] for e in full]
    op_uid = op_key["user_id"]

    def check(params, pred, what):
        got = [e["seq"] for e in audit_all(ctx, o.tok, **params)]
        want = [e["seq"] for e in full if pred(e)]
        expect(want or what.endswith("(empty)"),
               "%s: the test meant a non-empty result" % what)
        expect_equal(got, want, "%s: seqs" % what)
    check({"action": "record.create"},
          lambda e: e["action"] == "record.create", "action=record.create")
    check({"action": "record.update"},
          lambda e: e["action"] == "record.update", "action=record.update")
    check({"actor": op_uid}, lambda e: e["actor"]["id"] == op_uid,
          "actor=<operator>")
    check({"actor": "relaysync-admin"},
          lambda e: e["actor"]["id"] == "relaysync-admin",
          "actor=relaysync-admin")
    check({"target": recs[0]["id"]}, lambda e: e["target"] == recs[0]["id"],
          "target=<first record>")
    mid = seqs[len(seqs) // 2]
    check({"after_seq": str(mid)}, lambda e: e["seq"] > mid,
          "after_seq=%d" % mid)
    check({"action": "record.create", "actor": op_uid},
          lambda e: e["action"] == "record.create"
          and e["actor"]["id"] == op_uid, "action + actor")
    check({"action": "record.create", "after_seq": str(mid)},
          lambda e: e["action"] == "record.create" and e["seq"] > mid,
          "action + after_seq")
    check({"after_seq": str(seqs[-1])}, lambda e: False,
          "after_seq=<last> (empty)")
    check({"target": "rec_" + "0" * 26}, lambda e: False,
          "target=<unknown> (empty)")
    # paging: limit 1 and 2 walk the same list, oldest first
    for limit in ("1", "2"):
        got = [e["seq"] for e in audit_all(ctx, o.tok, limit=limit)]
        expect_equal(got, seqs, "limit=%s walk" % limit)
    got = [e["seq"] for e in audit_all(ctx, o.tok, limit="1",
                                       action="record.create")]
    expect_equal(got, [e["seq"] for e in full
                       if e["action"] == "record.create"],
                 "limit=1 walk with action=record.create")
    body, resp = audit_page(ctx, o.tok, {"limit": "2"})
    expect_equal([e["seq"] for e in body["data"]], seqs[:2], "first page",
                 resp)
    expect_equal(body["has_more"], True, "has_more on the first page", resp)
    # bad parameters
    for query in ("limit=0", "limit=201", "limit=abc", "limit=-1",
                  "after_seq=abc", "after_seq=-1", "after_seq=",
                  "foo=1"):
        expect_problem(ctx.call("GET", "/v1/audit?" + query, token=o.tok),
                       400, "invalid_request")
    expect_problem(ctx.call("GET", "/v1/audit?cursor=garbage",
                            token=o.tok), 400, "invalid_cursor")
    # roles and orgs
    expect_problem(ctx.call("GET", "/v1/audit", token=op), 403, "forbidden")
    expect_problem(ctx.call("GET", "/v1/audit"), 401, "unauthorized")
    other = Org(ctx, "aud-list-b")
    theirs = other.entries()
    expect(theirs and all(e["org_id"] == other.org for e in theirs),
           "another org sees only its own entries")
    expect_equal(audit_all(ctx, other.tok, target=recs[0]["id"]), [],
                 "another org's target filter")


# ==========================================================================
# the chain
# ==========================================================================

@atest("the chain links over several hundred entries written concurrently "
       "(recomputed here with hashlib, by tools/audit-verify.mjs and by "
       "`relaysync-admin audit verify --org`)")
def long_chain(ctx):
    # A name with characters the canonical form escapes or keeps literal
    # (its org.create entry's detail), if the CLI takes it.
    fancy = 'Audit "chain" \\ / \u00e9\u03a9 %s' % secrets.token_hex(2)
    try:
        o = Org(ctx, "aud-chain", name=fancy)
    except Failure:
        o = Org(ctx, "aud-chain")

    def make(i):
        resp = ctx.call("POST", "/v1/records",
                        {"title": "chain %d" % i, "type": "aud-chain",
                         "data": {"i": i}}, token=o.tok)
        expect_equal(resp.status, 201, "record %d" % i, resp)
        return resp.json()["id"]
    with concurrent.futures.ThreadPoolExecutor(CHAIN_THREADS) as pool:
        ids = list(pool.map(make, range(CHAIN_RECORDS)))
    full = o.entries()
    expect_chain(full, "the org's chain")
    made = [e["target"] for e in full if e["action"] == "record.create"]
    expect_equal(sorted(made), sorted(ids), "one record.create per record")
    expect(len(full) >= CHAIN_RECORDS + 3, "entries: %d" % len(full))
    if full[0]["detail"].get("name") == fancy:
        expect_equal(full[0]["action"], "org.create", "first action")
    expect_tool_intact(ctx.base_url, o.api_key, len(full) + 1, o.org)
    # the tool's own token exchange appended one more entry
    expect_cli_intact(ctx.cli, o.org, len(full) + 1)


@atest("the database refuses UPDATE and DELETE of audit rows (sqlite3, "
       "triggers); the rows are unchanged")
def triggers_refuse(ctx):
    o = Org(ctx, "aud-trg")
    before = o.entries()
    rows_sql = "SELECT * FROM audit WHERE hash = ?"
    last = before[-1]["hash"]
    rows, _ = db_run(ctx, rows_sql, (last,))
    expect_equal(len(rows), 1, "the row of the org's last entry")
    for sql in ("UPDATE audit SET detail = '{}' WHERE hash = ?",
                "UPDATE audit SET hash = '%s' WHERE hash = ?" % ("0" * 64),
                "DELETE FROM audit WHERE hash = ?"):
        try:
            db_run(ctx, sql, (last,), write=True)
        except Exception as e:  # noqa: sqlite3's error or the helper's
            expect("never changed" in str(e),
                   "%s: refused, but not by the trigger: %s" % (sql, e))
        else:
            raise Failure("%s: the database accepted it" % sql)
    again, _ = db_run(ctx, rows_sql, (last,))
    expect_equal(again, rows, "the row after the refused statements")
    expect_equal(o.entries(), before, "the org's entries")
    expect_chain(before, "the org's chain")


@atest("`relaysync-admin audit verify` on the intact database exits 0 with "
       "every org's count; tools/audit-verify.mjs agrees")
def verify_intact(ctx):
    tok = ctx.token_for(ctx.admin_key)
    demo = audit_all(ctx, tok)
    expect_chain(demo, "demo's chain")
    rc, out, err = ctx.cli(["audit", "verify"])
    expect(rc == 0, "audit verify: exit %d: %s%s" % (rc, out, err))
    line = verify_line(out, ctx.org_id)
    expect(line is not None and
           re.search(r"\b%d entries, intact\b" % len(demo), line),
           "audit verify should print '%s: %d entries, intact': %r"
           % (ctx.org_id, len(demo), out))
    expect(verify_line(out, ctx.org_b_id) is not None,
           "audit verify should name the second org: %r" % out)
    expect("broken" not in out + err, "nothing broken: %r" % (out + err))
    expect_cli_intact(ctx.cli, ctx.org_b_id,
                      len(audit_all(ctx, ctx.token_for(ctx.org_b_key))))
    expect_tool_intact(ctx.base_url, ctx.admin_key, len(demo) + 1,
                       ctx.org_id)
    rc, out, err = ctx.cli(["audit", "verify", "--org", "org_" + "0" * 26])
    expect(rc != 0, "audit verify --org <unknown>: exit %d" % rc)


# ==========================================================================
# a tampered copy
# ==========================================================================

def tamper(ctx, ws, changes):
    """On WS's database (a copy), with the run's secret put beside it,
    drop the audit triggers and apply CHANGES: a list of (column, value,
    hash of the row to change). Runs as the database's user. -> the
    dropped triggers' names."""
    db = ws.db
    secret_src = ctx.workspace.secret_file
    secret_dst = ws.secret_file

    def work():
        import sqlite3
        shutil.copyfile(secret_src, secret_dst)
        os.chmod(secret_dst, 0o600)
        if harness.is_pg():
            return tamper_pg(db, changes)
        con = sqlite3.connect(db, timeout=10)
        try:
            names = [r[0] for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                "AND tbl_name = 'audit'")]
            for name in names:
                con.execute('DROP TRIGGER "%s"' % name.replace('"', '""'))
            for column, value, row_hash in changes:
                cur = con.execute("UPDATE audit SET %s = ? WHERE hash = ?"
                                  % column, (value, row_hash))
                if cur.rowcount != 1:
                    raise RuntimeError("%d rows with hash %s"
                                       % (cur.rowcount, row_hash))
            con.commit()
        finally:
            con.close()
        return names
    return harness.as_db_user(ctx, work)


def tamper_pg(db, changes):
    """tamper()'s work on a PostgreSQL copy DB: the audit table's own
    triggers (not the foreign keys' internal ones) dropped, CHANGES
    applied, in one transaction -> the triggers' names."""
    con = harness.pg_connect(db)
    try:
        cur = con.cursor()
        cur.execute("BEGIN")
        cur.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = "
                    "'audit'::regclass AND NOT tgisinternal")
        names = [r[0] for r in cur.fetchall()]
        for name in names:
            cur.execute('DROP TRIGGER "%s" ON audit'
                        % name.replace('"', '""'))
        for column, value, row_hash in changes:
            cur.execute("UPDATE audit SET %s = %%s WHERE hash = %%s"
                        % column, (value, row_hash))
            if cur.rowcount != 1:
                raise RuntimeError("%d rows with hash %s"
                                   % (cur.rowcount, row_hash))
        cur.execute("COMMIT")
    finally:
        con.close()
    return names


def start_side(ctx, ws):
    """A server of the run's kind on WS (its database and secret in place)
    -> (server, port)."""
    port = free_port()
    server = harness.SERVERS[ctx.server_name](
        ws, port, form=harness.APACHE_FORM,
        defines=[("RELAYSYNC_MAX_CONN_PER_IP", harness.RUN_MAX_CONN_PER_IP)])
    server.start()
    deadline = time.monotonic() + harness.START_TIMEOUT
    while time.monotonic() < deadline:
        if not server.running():
            break
        try:
            if harness.http_call(port, "GET", "/v1/health",
                                 timeout=2).status == 200:
                return server, port
        except Failure:
            pass
        time.sleep(0.2)
    tail = " | ".join(harness.LogWatch(server.log_files()).tail()[-8:])
    server.stop()
    raise Failure("side server on the tampered copy not healthy: %s" % tail)


@atest("a tampered copy (triggers dropped; one entry's detail changed in one "
       "org, one entry's hash in another): `audit verify` exits 1 naming "
       "each org's changed seq, and tools/audit-verify.mjs, served the copy, "
       "fails at that seq; the run's database stays intact")
def tampered_copy(ctx):
    orgs = []
    for label in ("aud-tamper-d", "aud-tamper-h"):
        o = Org(ctx, label)
        for i in range(6):
            expect_json(ctx.call("POST", "/v1/records",
                                 {"title": "t%d" % i, "type": "aud"},
                                 token=o.tok), 201)
        orgs.append((o, o.entries()))
    (od, ed), (oh, eh) = orgs
    kd, kh = 5, 6     # the changed entries: in the middle of each chain
    expect(len(ed) > kd + 2 and len(eh) > kh + 2, "chains long enough")
    forged_detail = canonical({"fields": ["forged"]})
    expect(canonical(ed[kd - 1]["detail"]) != forged_detail, "a change")
    forged_hash = hashlib.blake2b(b"forged", digest_size=32).hexdigest()
    ws = harness.Workspace(ctx.prefix, ctx.workspace.run_as)
    server = None
    try:
        harness.db_backup(ctx, ws.db)
        dropped = tamper(ctx, ws,
                         [("detail", forged_detail, ed[kd - 1]["hash"]),
                          ("hash", forged_hash, eh[kh - 1]["hash"])])
        expect(len(dropped) >= 2, "the audit table's triggers (UPDATE and "
               "DELETE), found %r" % (dropped,))
        # the CLI on the copy (RELAYSYNC_DB = the copy)
        expect_cli_broken(ws.cli, od.org, kd)
        expect_cli_broken(ws.cli, oh.org, kh)
        rc, out, err = ws.cli(["audit", "verify"])
        expect(rc == 1, "audit verify (every org) on the copy: exit %d: "
               "%s%s" % (rc, out, err))
        lines = [l for l in (out + err).splitlines() if "broken" in l]
        expect(lines, "audit verify names a broken entry: %r" % (out + err))
        for l in lines:
            expect(re.search(r"^%s: entry %d is broken\b" % (od.org, kd), l)
                   or re.search(r"^%s: entry %d is broken\b"
                                % (oh.org, kh), l),
                   "a broken line about another org or entry: %r" % l)
        expect_cli_intact(ws.cli, ctx.org_id, len(audit_all(
            ctx, ctx.token_for(ctx.admin_key))) - 1)
        # the independent tool, served the copy
        server, port = start_side(ctx, ws)
        base = "http://127.0.0.1:%d" % port
        expect_tool_broken(base, od.api_key, kd)
        expect_tool_broken(base, oh.api_key, kh)
        side_tok = expect_json(harness.http_call(
            port, "POST", "/v1/auth/token", {"api_key": od.api_key}),
            200)["access_token"]
        shown = expect_json(harness.http_call(
            port, "GET", "/v1/audit?limit=200", token=side_tok), 200)
        expect_equal(shown["data"][kd - 1]["detail"], {"fields": ["forged"]},
                     "the copy serves the forged detail")
    finally:
        if server:
            server.stop()
        ws.remove()
    # the run's database is untouched
    for o, before in orgs:
        now = o.entries()
        expect_equal(now[:len(before)], before, "%s's entries" % o.org)
        expect_chain(now, "%s's chain" % o.org)
    expect_cli_intact(ctx.cli, od.org, len(od.entries()))
