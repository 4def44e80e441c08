"""Compression of answers on the wire (issue 15), through the shipped
includes: a JSON answer (application/json, application/problem+json) of
more than 1 KiB goes out compressed to a client that asks for it, with
`Vary: Accept-Encoding`; one of 1 KiB or less, an answer to a client that
does not ask, and the event streams (text/event-stream) go out as they
are.

What each include offers (ENCODINGS): lighttpd's mod_deflate br and gzip;
Apache's mod_deflate (through mod_filter) gzip only, since br would take
mod_brotli, which Debian does not enable. Compressed bodies are decoded
here (gzip: Python's gzip; br: node's zlib, which scripts/test installs
for the streams' client) and compared with the identity answer.

- lists over 1 KiB: GET /v1/audit (byte for byte) and GET /v1/records (the
  same JSON but for its sync_token, which carries its issue time);
  without Accept-Encoding, and with `identity`, they are identity;
- the floor: GET /v1/health, and a list and a problem sized to exactly
  1024 bytes (identity) and 1025 bytes (compressed);
- an answer with an ETag (one record: POST /v1/records, GET, PATCH, the
  410 of a deleted one) is never compressed, since mod_deflate would
  append -gzip/-br to the `"<causal>"` that If-Match takes back;
- a problem over 1 KiB (the 404 of a long unknown path: its instance is
  the path): compressed under lighttpd; under Apache as it is, since
  mod_filter passes every answer whose status is not 200 through
  untouched (NON_200);
- HEAD of a compressible GET sends no body;
- the event streams, asked with `Accept-Encoding: gzip, br`, on a side
  server of the run's kind with both stream modes (as test_streams.py):
  live (lighttpd: its one port; Apache: the vhost that Defines
  RELAYSYNC_STREAMING) sends `retry: 1000` within 1 s of the request and
  a record's event within 2 s of its write, uncompressed and without
  Content-Length; buffered (Apache's main port; lighttpd: a listener that
  sets RELAYSYNC_STREAM=buffered) answers whole and uncompressed;
- turned off (Apache: Define RELAYSYNC_NO_COMPRESSION before the Include;
  lighttpd: deflate.mimetypes := () in the include's $HTTP["url"] block,
  reopened after it), a side server answers a list over 1 KiB asked with
  gzip as identity;
- lighttpd runs only, under the mount /~crew/relaysync (where lighttpd
  cuts the path it matches conditions on, once the program has it), with
  relaysync.conf (FastCGI) and with relaysync-cgi.conf (mod_cgi): a list
  compressed, a record's answer not, an event stream not, and turned off
  (hosting_lighttpd.HostedLighttpd side servers).

Every test name starts with "compression: " (`run.py -k compress`).
"""

import gzip
import http.client
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time

import harness
from harness import (Failure, expect, expect_equal, expect_json,
                     expect_problem, free_port, open_stream, test)

FLOOR = 1024            # bytes: answers of more than this are compressed
# The codings each include offers, the preferred first.
ENCODINGS = {"lighttpd": ("br", "gzip"), "apache": ("gzip",)}
# Whether answers other than 200 (problems) are compressed: Apache's
# mod_filter passes every answer whose status is not 200 through as it is.
NON_200 = {"lighttpd": True, "apache": False}
RECORDS = 12            # records made for a list over 1 KiB
FIRST_FRAME = 1.0       # s from a stream's request to its first block
DELIVERY = 2.0          # s from a write's answer to its event on a stream
OPEN_TIMEOUT = 5        # s for a stream's head (a buffered one: its whole)
NODE_TIMEOUT = 30       # s for node to decode a br body
SIZE_TRIES = 6          # tries to size an answer to the byte

# The stream side server's knobs (the program's environment).
STREAM_KNOBS = {"RELAYSYNC_STREAM_LIFETIME": 6,
                "RELAYSYNC_STREAM_HEARTBEAT": 2,
                "RELAYSYNC_STREAMS": 10, "RELAYSYNC_STREAMS_PER_ORG": 10}


def ctest(name, last=False):
    return test("compression: " + name, last)


def offered(ctx):
    return ENCODINGS[ctx.server_name]


# --------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------

def fetch(port, method, path, token=None, ae=None, body=None):
    """One exchange on a fresh connection with exactly these headers: AE
    is the Accept-Encoding value, None for none at all (http.client would
    otherwise send `identity`). The body is returned as sent (not
    decoded)."""
    hdrs = {}
    if token is not None:
        hdrs["Authorization"] = "Bearer " + token
    if ae is not None:
        hdrs["Accept-Encoding"] = ae
    data = None
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        hdrs["Content-Type"] = "application/json"
    conn = http.client.HTTPConnection("127.0.0.1", port,
                                      timeout=harness.HTTP_TIMEOUT)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in hdrs.items():
            conn.putheader(name, value)
        if data is not None:
            conn.putheader("Content-Length", str(len(data)))
        conn.endheaders(data)
        raw = conn.getresponse()
        payload = raw.read()
        return harness.Response(method, path, hdrs, data, raw.status,
                                harness.Headers(raw.getheaders()), payload)
    except (OSError, http.client.HTTPException) as e:
        stub = harness.Response(method, path, hdrs, data, None,
                                harness.Headers([]), b"")
        raise Failure("no HTTP answer: %s: %s" % (type(e).__name__, e), stub)
    finally:
        conn.close()


def coding(resp):
    return (resp.headers.get("Content-Encoding") or "").strip().lower()


def vary_tokens(resp):
    out = set()
    for value in resp.headers.get_all("Vary"):
        out.update(t.strip().lower() for t in value.split(",") if t.strip())
    return out


def brotli_decode(data, resp):
    """DATA decoded as br by node's zlib (no Python brotli module)."""
    script = ("process.stdout.write(require('zlib')"
              ".brotliDecompressSync(require('fs').readFileSync(0)))")
    try:
        p = subprocess.run(["node", "-e", script], input=data,
                           capture_output=True, timeout=NODE_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise Failure("node could not decode br: %s" % e, resp)
    expect(p.returncode == 0, "br body does not decode: %s"
           % p.stderr.decode("utf-8", "replace")[-400:], resp)
    return p.stdout


def decoded(resp):
    """The body with its Content-Encoding undone."""
    enc = coding(resp)
    if enc == "":
        return resp.body
    if enc == "gzip":
        try:
            return gzip.decompress(resp.body)
        except (OSError, EOFError, ValueError) as e:
            raise Failure("gzip body does not decode: %s" % e, resp)
    if enc == "br":
        return brotli_decode(resp.body, resp)
    raise Failure("unexpected Content-Encoding %r" % enc, resp)


def expect_identity(resp, what):
    expect_equal(coding(resp), "", what + ": Content-Encoding", resp)
    cl = resp.headers.get("Content-Length")
    expect(cl is None or cl == str(len(resp.body)),
           "%s: Content-Length %s, body %d bytes" % (what, cl, len(resp.body)),
           resp)


def expect_compressed(resp, codings, what):
    """RESP is compressed with one of CODINGS, says Vary: Accept-Encoding,
    is smaller than it decodes to -> the decoded body."""
    enc = coding(resp)
    expect(enc in codings, "%s: Content-Encoding: want one of %r, got %r"
           % (what, list(codings), enc or None), resp)
    expect("accept-encoding" in vary_tokens(resp),
           "%s: Vary: want Accept-Encoding among %r"
           % (what, resp.headers.get_all("Vary")), resp)
    cl = resp.headers.get("Content-Length")
    expect(cl is None or cl == str(len(resp.body)),
           "%s: Content-Length %s, body %d bytes" % (what, cl, len(resp.body)),
           resp)
    plain = decoded(resp)
    expect(len(resp.body) < len(plain), "%s: %d bytes on the wire for %d "
           "decoded" % (what, len(resp.body), len(plain)), resp)
    return plain


def expect_same_bytes(got, want, what, resp):
    expect(got == want, "%s: decoded %d bytes differ from the identity "
           "answer's %d (first difference at %s)"
           % (what, len(got), len(want),
              next((i for i, (a, b) in enumerate(zip(got, want)) if a != b),
                   min(len(got), len(want)))), resp)


# --------------------------------------------------------------------------
# orgs and data
# --------------------------------------------------------------------------

class Org:
    """A fresh org with an admin key and token on the server at PORT
    whose database WS holds."""

    def __init__(self, ws, port, label, base=""):
        self.ws = ws
        self.port = port
        self.base = base   # the mount: put before every /v1 path
        name = "%s-%s" % (label, secrets.token_hex(3))
        self.org = self.cli_ok(["org", "create", name, "--rate-limit",
                                "1000000"])
        self.key = json.loads(self.cli_ok(
            ["key", "create", "--org", self.org, "--email",
             "admin@%s.example.com" % name, "--role", "admin",
             "--json"]))["api_key"]
        resp = harness.http_call(port, "POST", base + "/v1/auth/token",
                                 {"api_key": self.key})
        self.tok = expect_json(resp, 200)["access_token"]

    def cli_ok(self, args):
        rc, out, err = self.ws.cli(args)
        expect(rc == 0, "relaysync-admin %s: exit %d: %s%s"
               % (" ".join(args), rc, out, err))
        return out.strip()

    def post_record(self, title, rtype="cmp", data=None):
        body = {"title": title, "type": rtype}
        if data is not None:
            body["data"] = data
        resp = harness.http_call(self.port, "POST", self.base + "/v1/records",
                                 body, token=self.tok)
        return expect_json(resp, 201)

    def fill(self, n=RECORDS, rtype="cmp"):
        for i in range(n):
            self.post_record("Pressure check %d of the north pump house" % i,
                             rtype, {"reading": i, "unit": "kPa"})


def ctx_org(ctx, label):
    return Org(ctx.workspace, ctx.port, label)


# --------------------------------------------------------------------------
# side servers (streams, compression turned off)
# --------------------------------------------------------------------------

class SideServer:
    """A server of the run's kind on a temp dir of its own (harness
    classes, as test_streams.py's), started and answering on every port;
    stopped when the run ends."""

    def __init__(self, ctx, label, cls=None, base="", **kwargs):
        """CLS: the server class (default: the run's kind); BASE: the
        mount its API is under ("": the root); KWARGS: CLS's."""
        self.ctx = ctx
        self.label = label
        self.base = base
        self.ws = harness.Workspace(ctx.prefix, ctx.workspace.run_as)
        self.server = None
        rc, out, err = self.ws.cli(["init"])
        if rc != 0:
            self.ws.remove()
            raise Failure("relaysync-admin init: %s%s" % (out, err))
        self.port = free_port()
        defines = [("RELAYSYNC_MAX_CONN_PER_IP", harness.RUN_MAX_CONN_PER_IP)]
        defines += kwargs.pop("defines", [])
        cls = cls or harness.SERVERS[ctx.server_name]
        self.server = cls(self.ws, self.port, form=harness.APACHE_FORM,
                          defines=defines, **kwargs)
        self.logs = self.server.log_files()
        harness.at_teardown(self.stop)
        self.server.start()
        ctx.logs.files = ctx.logs.files + self.logs
        ports = {self.port, self.server.stream_port or self.port,
                 self.server.buffered_port or self.port}
        deadline = time.monotonic() + harness.START_TIMEOUT
        for port in sorted(ports):
            while True:
                if not self.server.running():
                    raise Failure("%s side server exited: %s"
                                  % (label, self.log_tail()))
                try:
                    if harness.http_call(port, "GET", base + "/v1/health",
                                         timeout=2).status == 200:
                        break
                except Failure:
                    pass
                if time.monotonic() > deadline:
                    raise Failure("%s side server: port %d not healthy: %s"
                                  % (label, port, self.log_tail()))
                time.sleep(0.2)

    def log_tail(self):
        return " | ".join(harness.LogWatch(self.logs).tail()[-8:])

    def stop(self):
        if self.server is not None:
            self.server.stop()
            self.ctx.logs.files = [f for f in self.ctx.logs.files
                                   if f not in self.logs]
            self.server = None
            if os.environ.get("KEEP") == "1":
                print("# kept %s side server dir %s"
                      % (self.label, self.ws.dir))
            else:
                self.ws.remove()


_SIDE = {}


def side_server(ctx, label, **kwargs):
    """The side server LABEL (started once, on first use)."""
    ss = _SIDE.get(label)
    if ss is None or ss.server is None or not ss.server.running():
        ss = _SIDE[label] = SideServer(ctx, label, **kwargs)
    return ss


# --------------------------------------------------------------------------
# lists
# --------------------------------------------------------------------------

@ctest("a list over 1 KiB (GET /v1/audit of an org with 12 records) asked "
       "with Accept-Encoding: gzip comes back gzip with Vary: "
       "Accept-Encoding, smaller, and decodes to exactly the identity "
       "answer's bytes; asked with no Accept-Encoding, or with identity, it "
       "is identity")
def audit_list_gzip(ctx):
    o = ctx_org(ctx, "cmp-audit")
    o.fill()
    path = "/v1/audit?limit=100"
    plain = fetch(ctx.port, "GET", path, o.tok)
    expect_json(plain, 200)
    expect_identity(plain, "no Accept-Encoding")
    expect(len(plain.body) > FLOOR, "the list should be over %d bytes, is %d"
           % (FLOOR, len(plain.body)), plain)
    ident = fetch(ctx.port, "GET", path, o.tok, ae="identity")
    expect_equal(ident.status, 200, "status", ident)
    expect_identity(ident, "Accept-Encoding: identity")
    expect_same_bytes(ident.body, plain.body, "Accept-Encoding: identity",
                      ident)
    gz = fetch(ctx.port, "GET", path, o.tok, ae="gzip")
    expect_equal(gz.status, 200, "status", gz)
    expect_equal(harness.media_type(gz), "application/json", "Content-Type",
                 gz)
    body = expect_compressed(gz, ("gzip",), "Accept-Encoding: gzip")
    expect_same_bytes(body, plain.body, "Accept-Encoding: gzip", gz)


@ctest("GET /v1/records over 1 KiB asked with gzip decodes to the identity "
       "answer's JSON, byte for byte up to its sync_token (which carries "
       "its issue time)")
def records_list_gzip(ctx):
    o = ctx_org(ctx, "cmp-rec")
    o.fill()
    path = "/v1/records?type=cmp&limit=50"
    plain = fetch(ctx.port, "GET", path, o.tok)
    want = expect_json(plain, 200)
    expect_identity(plain, "no Accept-Encoding")
    expect_equal(len(want.get("data") or []), RECORDS, "records listed",
                 plain)
    expect(len(plain.body) > FLOOR, "the list should be over %d bytes, is %d"
           % (FLOOR, len(plain.body)), plain)
    gz = fetch(ctx.port, "GET", path, o.tok, ae="gzip")
    expect_equal(gz.status, 200, "status", gz)
    body = expect_compressed(gz, ("gzip",), "Accept-Encoding: gzip")
    cut = b'"sync_token":"'
    expect(cut in body and cut in plain.body, "sync_token in both answers",
           gz)
    expect_same_bytes(body.split(cut)[0], plain.body.split(cut)[0],
                      "up to sync_token", gz)
    got = json.loads(body.decode("utf-8"))
    expect(isinstance(got.get("sync_token"), str)
           and got["sync_token"].startswith("rss1."),
           "decoded sync_token: %r" % got.get("sync_token"), gz)
    got.pop("sync_token")
    want.pop("sync_token")
    expect_equal(got, want, "decoded JSON without sync_token", gz)


@ctest("no answer varies on a request header it does not depend on: "
       "Vary never names Content-Length (GET, POST, a problem)")
def vary_no_content_length(ctx):
    # Apache adds every request header an <If> reads through %{HTTP:...}
    # to Vary; the include's body-size guard must read it without that.
    o = ctx_org(ctx, "cmp-vary")
    answers = [("GET /v1/health", fetch(ctx.port, "GET", "/v1/health")),
               ("GET /v1/records", fetch(ctx.port, "GET",
                                         "/v1/records?limit=1", o.tok,
                                         ae="gzip")),
               ("POST /v1/records", fetch(ctx.port, "POST", "/v1/records",
                                          o.tok, body={"title": "vary",
                                                       "type": "cmp"})),
               ("GET /v1/nothing-here", fetch(ctx.port, "GET",
                                              "/v1/nothing-here"))]
    for what, resp in answers:
        expect(resp.status is not None and resp.status < 500,
               "%s: status %r" % (what, resp.status), resp)
        expect("content-length" not in vary_tokens(resp),
               "%s: Vary names Content-Length: %r"
               % (what, resp.headers.get_all("Vary")), resp)


@ctest("br where the include offers it (lighttpd: br and gzip; Apache: gzip "
       "only): Accept-Encoding: br gets br under lighttpd and identity under "
       "Apache; br, gzip gets one of the offered; both decode to the "
       "identity answer")
def brotli(ctx):
    o = ctx_org(ctx, "cmp-br")
    o.fill()
    path = "/v1/audit?limit=100"
    plain = fetch(ctx.port, "GET", path, o.tok)
    expect_json(plain, 200)
    br = fetch(ctx.port, "GET", path, o.tok, ae="br")
    expect_equal(br.status, 200, "status", br)
    if "br" in offered(ctx):
        body = expect_compressed(br, ("br",), "Accept-Encoding: br")
    else:
        expect_identity(br, "Accept-Encoding: br (not offered)")
        body = br.body
    expect_same_bytes(body, plain.body, "Accept-Encoding: br", br)
    both = fetch(ctx.port, "GET", path, o.tok, ae="br, gzip")
    expect_equal(both.status, 200, "status", both)
    body = expect_compressed(both, offered(ctx), "Accept-Encoding: br, gzip")
    expect_same_bytes(body, plain.body, "Accept-Encoding: br, gzip", both)


# --------------------------------------------------------------------------
# the 1 KiB floor
# --------------------------------------------------------------------------

def sized(make, size, what):
    """MAKE(n) -> (path, identity answer) for a pad of n bytes; the pad
    that makes the answer exactly SIZE bytes -> (path, answer). The answer
    grows one byte per pad byte (past a start that is large enough); a few
    tries absorb the rest."""
    pad = 700
    last = None
    for _ in range(SIZE_TRIES):
        path, resp = make(pad)
        last = resp
        if len(resp.body) == size:
            return path, resp
        pad += size - len(resp.body)
        expect(pad >= 0, "%s: over %d bytes with no pad" % (what, size),
               resp)
    raise Failure("%s: no answer of exactly %d bytes in %d tries"
                  % (what, size, SIZE_TRIES), last)


def floor_pair(ctx, make, what, check_plain, compressible=True):
    """The answers of exactly FLOOR and FLOOR + 1 bytes that MAKE sizes,
    asked with every offered coding: the first identity, the second
    compressed (identity too unless COMPRESSIBLE), both decoding to their
    identity answer (CHECK_PLAIN checks an identity answer)."""
    ae = ", ".join(offered(ctx))
    for size in (FLOOR, FLOOR + 1):
        path, plain = sized(make, size, what)
        check_plain(plain)
        got = fetch(ctx.port, "GET", path, ae=ae, token=getattr(
            make, "token", None))
        expect_equal(got.status, plain.status, "status", got)
        label = "%s of %d bytes" % (what, size)
        if size <= FLOOR or not compressible:
            expect_identity(got, label)
            body = got.body
        else:
            body = expect_compressed(got, offered(ctx), label)
        expect_equal(len(body), size, label + ": decoded bytes", got)
        plain_cmp, body_cmp = check_plain.comparable(plain.body, body)
        expect_same_bytes(body_cmp, plain_cmp, label, got)


@ctest("an answer of 1 KiB or less is never compressed, one byte more is: "
       "GET /v1/health, and, asked with every offered coding, a list "
       "(GET /v1/records of one padded record) and a problem (the 404 of an "
       "unknown path) of exactly 1024 bytes are identity, and of 1025 bytes "
       "compressed (the problem under lighttpd; Apache leaves every "
       "non-200 answer alone)")
def floor(ctx):
    health = fetch(ctx.port, "GET", "/v1/health", ae="gzip, br")
    expect_json(health, 200)
    expect(len(health.body) <= FLOOR, "health is %d bytes" % len(health.body),
           health)
    expect_identity(health, "GET /v1/health")

    o = ctx_org(ctx, "cmp-floor")

    def make_list(n):
        rtype = "size-" + secrets.token_hex(4)
        o.post_record("sized", rtype, {"pad": "x" * n})
        path = "/v1/records?type=" + rtype
        return path, fetch(ctx.port, "GET", path, o.tok)
    make_list.token = o.tok

    def list_ok(resp):
        expect_json(resp, 200)
    # the sync_token carries its issue time: compare up to it
    list_ok.comparable = lambda a, b: (a.split(b'"sync_token"')[0],
                                       b.split(b'"sync_token"')[0])
    floor_pair(ctx, make_list, "a list", list_ok)

    def make_problem(n):
        path = "/v1/floor-" + "x" * n
        return path, fetch(ctx.port, "GET", path)

    def problem_ok(resp):
        expect_problem(resp, 404, "not_found")
    # request_id (fixed length) differs from answer to answer
    problem_ok.comparable = lambda a, b: (
        re.sub(rb'"request_id":"[^"]*"', b"", a),
        re.sub(rb'"request_id":"[^"]*"', b"", b))
    floor_pair(ctx, make_problem, "a problem", problem_ok,
               NON_200[ctx.server_name])


@ctest("an answer that carries one record (ETag: \"<causal>\") is never "
       "compressed, whatever its size, so its ETag stays what If-Match "
       "takes: POST /v1/records with 3 KiB of data, its GET, a PATCH with "
       "If-Match: that ETag, and the 410 of its GET once deleted, all asked "
       "with gzip, br")
def etag_answers(ctx):
    o = ctx_org(ctx, "cmp-etag")
    ae = "gzip, br"
    big = {"note": "n" * 3072}
    created = fetch(ctx.port, "POST", "/v1/records", o.tok, ae=ae,
                    body={"title": "big", "type": "cmp-etag", "data": big})
    rec = expect_json(created, 201)
    expect_identity(created, "POST /v1/records")
    expect(len(created.body) > FLOOR, "a record of %d bytes"
           % len(created.body), created)
    etag = '"%s"' % rec["causal"]
    expect_equal(created.headers.get("ETag"), etag, "ETag", created)
    path = "/v1/records/" + rec["id"]
    got = fetch(ctx.port, "GET", path, o.tok, ae=ae)
    expect_json(got, 200)
    expect_identity(got, "GET " + path)
    expect_equal(got.headers.get("ETag"), etag, "ETag", got)
    patched = harness.http_call(
        ctx.port, "PATCH", path, {"title": "big, patched"},
        {"If-Match": got.headers.get("ETag"), "Accept-Encoding": ae},
        o.tok)
    now = expect_json(patched, 200)
    expect_identity(patched, "PATCH " + path)
    expect_equal(patched.headers.get("ETag"), '"%s"' % now["causal"], "ETag",
                 patched)
    gone = harness.http_call(ctx.port, "DELETE", path, None,
                             {"If-Match": patched.headers.get("ETag")}, o.tok)
    expect(gone.status in (200, 204), "DELETE: status %s" % gone.status, gone)
    dead = fetch(ctx.port, "GET", path, o.tok, ae=ae)
    expect_problem(dead, 410, "record_deleted")
    expect(len(dead.body) > FLOOR, "the 410 carries the %d-byte tombstone"
           % len(dead.body), dead)
    expect_identity(dead, "GET " + path + " (deleted)")
    expect(dead.headers.get("ETag"), "the 410's ETag", dead)


# --------------------------------------------------------------------------
# problems, HEAD
# --------------------------------------------------------------------------

@ctest("a problem over 1 KiB (the 404 of an unknown path of 1200 bytes, "
       "its instance that path) asked with gzip comes back gzip under "
       "lighttpd, and as it is under Apache (mod_filter leaves non-200 "
       "answers alone); either way a complete problem whose request_id is "
       "the answer's X-Request-Id")
def big_problem(ctx):
    path = "/v1/compression-" + "x" * 1200
    plain = fetch(ctx.port, "GET", path)
    expect_problem(plain, 404, "not_found")
    expect_identity(plain, "no Accept-Encoding")
    expect(len(plain.body) > FLOOR, "the problem should be over %d bytes, is "
           "%d" % (FLOOR, len(plain.body)), plain)
    gz = fetch(ctx.port, "GET", path, ae="gzip")
    if NON_200[ctx.server_name]:
        body = expect_compressed(gz, ("gzip",), "Accept-Encoding: gzip")
    else:
        expect_identity(gz, "Accept-Encoding: gzip (a 404 under Apache)")
        body = gz.body
    got = harness.Response("GET", path, gz.request_headers, None, gz.status,
                           gz.headers, body)
    expect_problem(got, 404, "not_found")
    want = json.loads(plain.body.decode("utf-8"))
    have = json.loads(body.decode("utf-8"))
    want.pop("request_id")
    have.pop("request_id")
    expect_equal(have, want, "the problem but for its request_id", got)


def raw_head(port, path, token, ae):
    """HEAD on a fresh connection closed by the server after the answer:
    (status line, headers, every byte after the head)."""
    req = ("HEAD %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer "
           "%s\r\nAccept-Encoding: %s\r\nConnection: close\r\n\r\n"
           % (path, port, token, ae)).encode("ascii")
    data = b""
    deadline = time.monotonic() + harness.HTTP_TIMEOUT
    with socket.create_connection(("127.0.0.1", port),
                                  timeout=harness.HTTP_TIMEOUT) as s:
        s.sendall(req)
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            data += chunk
        else:
            raise Failure("HEAD %s: the server did not close within %d s "
                          "(got %r)" % (path, harness.HTTP_TIMEOUT,
                                        data[:300]))
    head, sep, rest = data.partition(b"\r\n\r\n")
    expect(sep, "HEAD %s: no complete answer head: %r" % (path, data[:300]))
    lines = head.decode("iso-8859-1").split("\r\n")
    pairs = [tuple(x.strip() for x in line.partition(":")[::2])
             for line in lines[1:]]
    return lines[0], harness.Headers(pairs), rest


@ctest("HEAD of a compressible GET (a list over 1 KiB, asked with gzip, br) "
       "is 200 with the JSON type and no body at all")
def head_no_body(ctx):
    o = ctx_org(ctx, "cmp-head")
    o.fill()
    path = "/v1/audit?limit=100"
    gz = fetch(ctx.port, "GET", path, o.tok, ae="gzip, br")
    expect_compressed(gz, offered(ctx), "GET")
    status, headers, rest = raw_head(ctx.port, path, o.tok, "gzip, br")
    resp = harness.Response("HEAD", path, {"Accept-Encoding": "gzip, br"},
                            None, None, headers, rest)
    expect(re.match(r"^HTTP/1\.[01] 200\b", status), "HEAD status line %r"
           % status, resp)
    expect_equal(harness.media_type(resp), "application/json",
                 "Content-Type", resp)
    expect_equal(rest, b"", "bytes after HEAD's answer head", resp)


# --------------------------------------------------------------------------
# event streams
# --------------------------------------------------------------------------

def stream_query(path):
    return path + "?after_seq=0"


def expect_plain_stream(s, what):
    r = s.response()
    expect_equal(s.status, 200, what + ": status", r)
    expect_equal(harness.media_type(r), "text/event-stream",
                 what + ": Content-Type", r)
    expect_equal(coding(r), "", what + ": Content-Encoding", r)


@ctest("the event streams (/v1/audit/stream, /v1/events/stream) asked with "
       "Accept-Encoding: gzip, br are never compressed: live (lighttpd: its "
       "port; Apache: the RELAYSYNC_STREAMING vhost) `retry: 1000` arrives "
       "within 1 s of the request with no Content-Length, and a record's "
       "event within 2 s of its write; buffered (Apache's main port, "
       "lighttpd's buffered listener) the whole answer, uncompressed")
def streams_uncompressed(ctx):
    ss = side_server(ctx, "streams", app_env=STREAM_KNOBS, streams=True,
                     procs=10)
    o = Org(ss.ws, ss.port, "cmp-stream")
    o.post_record("before")   # entries and an event for buffered answers
    ae = {"Accept-Encoding": "gzip, br"}
    live = ss.server.stream_port
    for path in ("/v1/audit/stream", "/v1/events/stream"):
        what = "live %s" % path
        t0 = time.monotonic()
        s = open_stream(live, path, token=o.tok, headers=ae,
                        timeout=OPEN_TIMEOUT)
        try:
            expect_plain_stream(s, what)
            expect("Content-Length" not in s.headers,
                   what + ": a live stream has no Content-Length",
                   s.response())
            f = s.next_frame(max(0.0, t0 + FIRST_FRAME - time.monotonic()))
            expect(f is not None and f.is_retry(), "%s: no `retry: 1000` "
                   "block within %.1f s of the request (got %r)"
                   % (what, FIRST_FRAME, f), s.response())
            expect(s.body.startswith(b"retry: 1000\n"), "%s: the body's "
                   "first bytes: %r" % (what, s.body[:40]), s.response())
            if path == "/v1/events/stream":
                rec = o.post_record("during")
                written = time.monotonic()
                deadline = written + DELIVERY
                seen = []
                while True:
                    f = s.next_frame(max(0.0, deadline - time.monotonic()))
                    expect(f is not None, "%s: the event of %s did not "
                           "arrive within %.1f s of its write (blocks: %r)"
                           % (what, rec["id"], DELIVERY, seen), s.response())
                    seen.append(f.lines)
                    if rec["id"] in (f.data or ""):
                        break
        finally:
            s.close()
    buffered = ss.server.buffered_port
    for path in ("/v1/audit/stream", "/v1/events/stream"):
        what = "buffered %s" % path
        s = open_stream(buffered, stream_query(path), token=o.tok,
                        headers=ae, timeout=OPEN_TIMEOUT)
        try:
            expect_plain_stream(s, what)
            expect(s.read_all(OPEN_TIMEOUT), "%s: the answer did not end "
                   "within %d s" % (what, OPEN_TIMEOUT), s.response())
            expect(s.body.startswith(b"retry: 1000\n"), "%s: the body's "
                   "first bytes: %r" % (what, s.body[:40]), s.response())
            frames = s.frames(0)
            expect(any(f.data for f in frames), "%s: no entry in the "
                   "answer: %r" % (what, [f.lines for f in frames]),
                   s.response())
        finally:
            s.close()


# --------------------------------------------------------------------------
# turned off
# --------------------------------------------------------------------------

# lighttpd: the include's own block, reopened (deflate.mimetypes := ()).
OFF_LIGHTTPD = ('$HTTP["url"] =~ var.relaysync_api + "(/|$)" { '
                'deflate.mimetypes := () }')


@ctest("turned off (Apache: Define RELAYSYNC_NO_COMPRESSION before the "
       "Include; lighttpd: deflate.mimetypes := () in the include's "
       "$HTTP[\"url\"] block, reopened after it), a list over 1 KiB asked "
       "with gzip, br is identity")
def turned_off(ctx):
    if ctx.server_name == "apache":
        ss = side_server(ctx, "off", defines=[("RELAYSYNC_NO_COMPRESSION",
                                               "1")])
    else:
        ss = side_server(ctx, "off", extra=[OFF_LIGHTTPD])
    o = Org(ss.ws, ss.port, "cmp-off")
    o.fill()
    path = "/v1/audit?limit=100"
    plain = fetch(ss.port, "GET", path, o.tok)
    expect_json(plain, 200)
    expect(len(plain.body) > FLOOR, "the list should be over %d bytes, is %d"
           % (FLOOR, len(plain.body)), plain)
    gz = fetch(ss.port, "GET", path, o.tok, ae="gzip, br")
    expect_equal(gz.status, 200, "status", gz)
    expect_identity(gz, "compression off")
    expect_same_bytes(gz.body, plain.body, "compression off", gz)


# --------------------------------------------------------------------------
# lighttpd under a mount, FastCGI and mod_cgi (lighttpd runs only)
# --------------------------------------------------------------------------

def run_server():
    """The --server of this run (None when the command line has none)."""
    argv = sys.argv[1:]
    for i, arg in enumerate(argv):
        if arg == "--server" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--server="):
            return arg.split("=", 1)[1]
    return None


def check_hosted(ctx, hosting):
    """lighttpd with HOSTING's include under hosting_lighttpd.MOUNT: on,
    then turned off."""
    import hosting_lighttpd
    mount = hosting_lighttpd.MOUNT
    ss = side_server(ctx, "lighttpd-" + hosting,
                     cls=hosting_lighttpd.HostedLighttpd, base=mount,
                     hosting=hosting, mount=mount,
                     app_env={"RELAYSYNC_STREAM_LIFETIME": 3})
    o = Org(ss.ws, ss.port, "cmp-" + hosting, base=mount)
    o.fill()
    path = mount + "/v1/audit?limit=100"
    plain = fetch(ss.port, "GET", path, o.tok)
    expect_json(plain, 200)
    expect(len(plain.body) > FLOOR, "the list should be over %d bytes, is %d"
           % (FLOOR, len(plain.body)), plain)
    gz = fetch(ss.port, "GET", path, o.tok, ae="gzip")
    body = expect_compressed(gz, ("gzip",), "Accept-Encoding: gzip")
    expect_same_bytes(body, plain.body, "Accept-Encoding: gzip", gz)
    rec = o.post_record("big", "cmp-etag", {"note": "n" * 3072})
    got = fetch(ss.port, "GET", mount + "/v1/records/" + rec["id"], o.tok,
                ae="gzip, br")
    expect_json(got, 200)
    expect(len(got.body) > FLOOR, "a record of %d bytes" % len(got.body), got)
    expect_identity(got, "a record's GET")
    expect_equal(got.headers.get("ETag"), '"%s"' % rec["causal"], "ETag", got)
    t0 = time.monotonic()
    s = open_stream(ss.port, mount + "/v1/events/stream", token=o.tok,
                    headers={"Accept-Encoding": "gzip, br"},
                    timeout=OPEN_TIMEOUT)
    try:
        expect_plain_stream(s, "events stream")
        expect("Content-Length" not in s.headers,
               "a live stream has no Content-Length", s.response())
        f = s.next_frame(max(0.0, t0 + FIRST_FRAME - time.monotonic()))
        expect(f is not None and f.is_retry(), "no `retry: 1000` block "
               "within %.1f s of the request (got %r)" % (FIRST_FRAME, f),
               s.response())
    finally:
        s.close()
    off = side_server(ctx, "lighttpd-%s-off" % hosting,
                      cls=hosting_lighttpd.HostedLighttpd, base=mount,
                      hosting=hosting, mount=mount, extra=[OFF_LIGHTTPD])
    o = Org(off.ws, off.port, "cmp-off-" + hosting, base=mount)
    o.fill()
    plain = fetch(off.port, "GET", path, o.tok)
    expect_json(plain, 200)
    expect(len(plain.body) > FLOOR, "the list should be over %d bytes, is %d"
           % (FLOOR, len(plain.body)), plain)
    gz = fetch(off.port, "GET", path, o.tok, ae="gzip, br")
    expect_equal(gz.status, 200, "status", gz)
    expect_identity(gz, "compression off")
    expect_same_bytes(gz.body, plain.body, "compression off", gz)


if run_server() in (None, "lighttpd"):
    for _hosting, _include in (("fastcgi", "relaysync.conf"),
                               ("cgi", "relaysync-cgi.conf")):
        def _register(hosting, include):
            @ctest("lighttpd under /~crew/relaysync with %s (%s): a list "
                   "over 1 KiB asked with gzip decodes to the identity "
                   "answer; a record's GET over 1 KiB is identity with "
                   "ETag \"<causal>\"; an event stream asked with gzip, br "
                   "is uncompressed, `retry: 1000` within 1 s; turned off "
                   "(deflate.mimetypes := () reopened), the list is identity"
                   % (include, hosting))
            def run(ctx):
                expect_equal(ctx.server_name, "lighttpd", "the run's server")
                check_hosted(ctx, hosting)
            return run
        _register(_hosting, _include)
