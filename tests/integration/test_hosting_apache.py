"""RelaySync on an Apache host where the user can write only `.htaccess`
(issue 14, /work/issue14/DESIGN.md): the shipped apache/htaccess.example
with its placeholders filled, dropped into a directory that the host's
vhost serves with `AllowOverride All` and nothing RelaySync-specific,
reached at a sub-path (`Alias /~crew/<name> <dir>`), under mod_fcgid, under
plain CGI (mod_cgi, mpm_prefork) and once under mod_cgid (mpm_event). The
program is a copy of the installed relaysync.fcgi in that directory; its
settings come only from the .htaccess's `SetEnv RELAYSYNC_DB` /
`RELAYSYNC_SECRET_FILE` (no Define, no FcgidInitialEnv). The hosts are
built by hosting_apache.py.

Every test name starts with "hosting apache: " (`run.py -k hosting`).
They start private Apaches of their own (one per module, shared by that
module's tests, stopped when the run ends), so they do not depend on the
run's server: they are registered only in the `--server apache` pass
with relaysync.conf at server level (the default --apache-form), so
scripts/test runs them once, not again in the lighttpd or the vhost pass.

Sites (home/crew/public_html/<name> at /~crew/<name>, data in
home/crew/data/<name>/ unless said):
    relaysync      the example as shipped (RewriteBase commented out),
                   with console/ and docs/ copied in (its step 4)
    based          RewriteBase uncommented, CGIPassAuth deleted: the
                   RewriteRule alone passes Authorization
    unsafe-db      its database under the vhost's DocumentRoot
    unsafe-secret  its secret under the vhost's DocumentRoot
    second         (mod_fcgid) a hard link to relaysync's program, with its
                   own database
    shared, shared-b  (mod_fcgid) one directory at two URLs, its .htaccess
                   naming another database for the second: one program
                   path, so one mod_fcgid process class
    broken         (mod_cgi) a program that dies at once: the example's
                   JSON 500 (the mod_cgi host loads mod_unique_id; the
                   others have Debian's default module set, without it)
The mod_cgid host has "relaysync" only.

Every HTTP call has harness.HTTP_TIMEOUT; every loop is bounded.
"""

import argparse
import os
import re
import secrets
import sys
import time

import harness
from harness import (Failure, as_db_user, at_teardown, expect, expect_equal,
                     expect_json, expect_match, expect_problem, http_call,
                     media_type, test)
import hosting_apache
from hosting_apache import HostedApache
from web_checks import check_web

REC_RE = r"^rec_[0-9a-z]+$"
RATE = 2                  # the rate-limited org's --rate-limit
RATE_SHOTS = 6            # quick requests against it
PROC_WAIT = 10            # seconds for CGI programs to be gone
MIX_ROUNDS = 12           # alternating requests in the two-directory test
FOREIGN_KEY_ROUNDS = 3    # of them, with a's key at b (below b's throttle
                          # of 10 failed exchanges a minute)
# The mod_fcgid directives a host sets for everyone (its own files).
HOST_FCGID = ("FcgidIPCDir", "FcgidProcessTableFile")


def this_pass():
    """Is this the run that should carry these tests: --server apache
    with the default --apache-form server? (run.py imports the test
    modules before harness.main parses the arguments, so they are read
    here the same way.)"""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--server")
    p.add_argument("--apache-form", default="server")
    args, _ = p.parse_known_args(sys.argv[1:])
    return args.server == "apache" and args.apache_form == "server"


def htest(name):
    def register(func):
        def run(ctx):
            expect(ctx.server_name == "apache"
                   and harness.APACHE_FORM == "server",
                   "hosting tests belong to the --server apache pass with "
                   "--apache-form server (registered from sys.argv)")
            func(ctx)
        if this_pass():
            test("hosting apache: " + name)(run)
        return func
    return register


# --------------------------------------------------------------------------
# the hosts, started on first use and stopped when the run ends
# --------------------------------------------------------------------------

_HOSTS = {}


def host(ctx, module):
    """The running HostedApache for MODULE ("fcgid", "cgi", "cgid") with its
    sites; a start that failed fails every later test at once, with the
    same reason."""
    got = _HOSTS.get(module)
    if isinstance(got, Exception):
        raise Failure("the %s host could not start earlier: %s"
                      % (module, got))
    if got is not None:
        return got
    # The CGI host also loads mod_unique_id, for the example's JSON 500.
    h = HostedApache(ctx, module, extra_modules=("unique_id",)
                     if module == "cgi" else ())
    at_teardown(h.stop)
    try:
        build_sites(h)
        h.start()
    except Exception as e:  # noqa: kept for the later tests
        _HOSTS[module] = e
        raise
    _HOSTS[module] = h
    return h


def build_sites(h):
    www = h.ws.www
    add = h.add_site
    add("relaysync", web=True)
    if h.module == "cgid":
        return
    add("based", rewrite_base=hosting_apache.USER_URL + "/based/",
        pass_auth=False)
    add("unsafe-db", data_dir=os.path.join(www, "private"))
    add("unsafe-secret",
        secret=os.path.join(www, "keys", "relaysync.key"))
    if h.module == "fcgid":
        add("second", program_from=h.sites_by_name["relaysync"])
        data_b = h.ws.path("home", "crew", "data", "shared-b")
        add("shared", more_htaccess=(
            "\n# (test) The same directory as /~crew/shared-b: another "
            "database.\n"
            "<If \"%%{CONTEXT_PREFIX} == '%s/shared-b'\">\n"
            "    SetEnv RELAYSYNC_DB %s/relaysync.db\n"
            "    SetEnv RELAYSYNC_SECRET_FILE %s/relaysync.key\n"
            "</If>\n" % (hosting_apache.USER_URL, data_b, data_b)))
        h.add_alias("shared-b", h.sites_by_name["shared"], data_dir=data_b)
    else:
        add("broken", init=False)
        site = h.sites_by_name["broken"]
        os.unlink(site.program)
        harness.write_file(site.program, "#!/bin/sh\nexit 1\n")
        os.chmod(site.program, 0o755)
    h.own()


# --------------------------------------------------------------------------
# checks
# --------------------------------------------------------------------------

def token(s, key=None):
    resp = s.call("POST", "/v1/auth/token", {"api_key": key or s.key})
    body = expect_json(resp, 200)
    tok = body.get("access_token")
    expect(isinstance(tok, str) and tok, "no access_token", resp)
    return tok


def me(s, tok, org):
    """GET /v1/me with the bearer token: 200 and the token's org (so the
    Authorization header reached the program)."""
    resp = s.call("GET", "/v1/me", token=tok)
    body = expect_json(resp, 200)
    expect_equal(body.get("org_id"), org, "GET /v1/me org_id", resp)
    return body


def create(s, tok, label):
    """POST /v1/records -> (record, response): 201 with Location under the
    site's sub-path."""
    resp = s.call("POST", "/v1/records",
                  {"title": "Hosted " + label,
                   "type": "%s-%s" % (label, secrets.token_hex(4))},
                  token=tok)
    rec = expect_json(resp, 201)
    expect_match(REC_RE, rec.get("id"), "record id", resp)
    expect_equal(resp.headers.get("Location"),
                 "%s/v1/records/%s" % (s.url, rec["id"]),
                 "Location (the record's URL under the mount)", resp)
    return rec, resp


def db_record_ids(ctx, s):
    """Every record id in S's database (read as the web server's user)."""
    db = s.db

    def read():
        rows, _ = harness._db_do(db, "SELECT id FROM records", (), False)
        return sorted(r[0] for r in rows)
    return as_db_user(ctx, read)


def outside_mount(h, path="/v1/health"):
    """PATH at the server's root (outside every mount) is Apache's own
    404 from the DocumentRoot, not an answer of RelaySync's."""
    resp = http_call(h.port, "GET", path)
    expect_equal(resp.status, 404, "GET %s (outside the mount)" % path, resp)
    expect(media_type(resp) != "application/problem+json"
           and "X-Request-Id" not in resp.headers,
           "GET %s outside the mount: expected Apache's own 404, got an "
           "answer of the program's" % path, resp)


def api_flow(ctx, h, s):
    """What a client of the sub-path does, end to end."""
    resp = s.call("GET", "/v1/health")
    expect_json(resp, 200)
    outside_mount(h)
    outside_mount(h, "/v1/openapi.json")

    # Without a token: the program's 401, its instance under the mount.
    expect_problem(s.call("GET", "/v1/me"), 401, "unauthorized")
    tok = token(s)
    me(s, tok, s.org)

    created = []
    for i in range(3):
        rec, resp = create(s, tok, "r%d" % i)
        created.append(rec["id"])
        if i == 0:
            loc = resp.headers.get("Location")
            got = http_call(h.port, "GET", loc, token=tok)
            body = expect_json(got, 200)
            expect_equal(body.get("id"), rec["id"], "GET Location: id", got)

    # limit=1 over the three, following next_cursor to the end.
    seen, path = [], "/v1/records?limit=1"
    for page in range(5):
        resp = s.call("GET", path, token=tok)
        body = expect_json(resp, 200)
        data = body.get("data")
        expect(isinstance(data, list) and len(data) <= 1,
               "page %d: data: expected at most 1 record" % page, resp)
        seen += [r.get("id") for r in data]
        if not body.get("has_more"):
            expect_equal(body.get("next_cursor"), None,
                         "next_cursor on the last page", resp)
            break
        cursor = body.get("next_cursor")
        expect(isinstance(cursor, str) and cursor,
               "has_more without a next_cursor", resp)
        path = "/v1/records?limit=1&cursor=" + cursor
    else:
        raise Failure("the listing did not end within 5 pages: %r" % seen)
    expect_equal(seen, created, "record ids over the pages")

    resp = s.call("GET", "/v1/openapi.json")
    doc = expect_json(resp, 200)
    servers = doc.get("servers")
    expect(isinstance(servers, list) and servers,
           "openapi.json has no servers", resp)
    expect_equal(servers[0].get("url"), s.url + "/",
                 "openapi.json servers[0].url", resp)

    # Another version and an unknown path: the program's own JSON 404.
    expect_problem(s.call("GET", "/v2/records"), 404, "not_found")
    expect_problem(s.call("GET", "/v1/nope", token=tok), 404, "not_found")

    # The records are in the database the .htaccess named.
    expect_equal(db_record_ids(ctx, s), sorted(created),
                 "record ids in %s" % s.db)
    return tok


def guard(h, s):
    """Nothing in the directory but the API is served: not the
    .htaccess, not the program by its own name, not a file put there,
    no listing; /v<digits> only."""
    notes = os.path.join(s.dir, "notes.txt")
    harness.write_file(notes, "not for the web\n")
    try:
        for path in ("/.htaccess", "/relaysync.fcgi", "/notes.txt", "/",
                     "/v1/../notes.txt", "/vx/health", "/v/health",
                     "/relaysync.fcgi/v1/health", "/V1/health"):
            resp = http_call(h.port, "GET", s.url + path)
            expect_equal(resp.status, 404, "GET %s%s" % (s.url, path), resp)
            expect(b"not for the web" not in resp.body
                   and b"RELAYSYNC" not in resp.body
                   and not resp.body.startswith(b"\x7fELF")
                   and "X-Request-Id" not in resp.headers,
                   "GET %s%s: expected Apache's 404, nothing of the "
                   "directory" % (s.url, path), resp)
        # v<digits> alone and with a path both reach the program.
        for path in ("/v1", "/v12/x"):
            expect_problem(s.call("GET", path), 404, "not_found")
    finally:
        os.unlink(notes)


def refused(ctx, h, s, what, path):
    """PATH (site S's database or secret) is under the vhost's
    DocumentRoot, where Apache does hand it out; every request to S is
    the program's 503 service_unavailable problem, and the error log
    names PATH and the document root."""
    root = h.ws.www
    url = path[len(root):]
    resp = http_call(h.port, "GET", url)
    expect_equal(resp.status, 200, "GET %s: Apache hands the file out (why "
                 "it must be refused)" % url, resp)
    for method, req, body, tok in (
            ("GET", "/v1/health", None, None),
            ("POST", "/v1/auth/token", {"api_key": s.key}, None),
            ("GET", "/v1/me", None, "rst1.x.y"),
            ("GET", "/v1/openapi.json", None, None)):
        resp = s.call(method, req, body, token=tok)
        prob = expect_problem(resp, 503, "service_unavailable")
        detail = prob.get("detail", "").lower()
        expect("unsafe" in detail and "log" in detail,
               "%s: the problem's detail should say the configuration is "
               "unsafe and to see the server log" % what, resp)
    # DESIGN.md item 3's wording: "<db>: the database is under the document
    # root <root>, where the web server could hand it out; move it (and the
    # secret) outside". What is checked: the file, the root, the reason.
    want = re.compile(r"%s\b.* under the document root %s, where the web "
                      r"server could hand it out"
                      % (re.escape(path), re.escape(root)))
    deadline = time.monotonic() + 5
    while not want.search(h.log_text()):
        if time.monotonic() > deadline:
            raise Failure("%s: the error log has no line naming %s under "
                          "the document root %s; it ends: %s"
                          % (what, path, root, h.log_tail()))
        time.sleep(0.2)


def via_rewrite_alone(ctx, h):
    """RewriteBase set (as for Apache before 2.4.16) and no CGIPassAuth:
    the RewriteRule E=HTTP_AUTHORIZATION passes the token."""
    s = h.sites_by_name["based"]
    expect_json(s.call("GET", "/v1/health"), 200)
    tok = token(s)
    me(s, tok, s.org)
    create(s, tok, "based")


def session_programs(h):
    """Live relaysync.fcgi processes in the host's session."""
    sid = h.proc.pid
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            if os.getsid(int(name)) != sid:
                continue
            with open("/proc/%s/stat" % name) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
            with open("/proc/%s/cmdline" % name, "rb") as f:
                cmd = f.read().replace(b"\0", b" ")
        except (OSError, IndexError):
            continue
        if state != "Z" and b"relaysync.fcgi" in cmd:
            out.append(int(name))
    return out


# --------------------------------------------------------------------------
# mod_fcgid
# --------------------------------------------------------------------------

@htest("mod_fcgid: the API at /~crew/relaysync, configured by .htaccess "
       "alone")
def fcgid_api(ctx):
    h = host(ctx, "fcgid")
    with open(h.config_path()) as f:
        words = [line.split()[0] for line in f if line.strip()]
    expect(not [w for w in words if w in ("Define", "SetEnv", "PassEnv")
                or w.startswith("Fcgid") and w not in HOST_FCGID],
           "the host's config must set nothing RelaySync-specific: %r"
           % words)
    api_flow(ctx, h, h.sites_by_name["relaysync"])
    expect(session_programs(h), "mod_fcgid: no relaysync.fcgi process runs "
           "(was the request served as CGI?)")


@htest("mod_fcgid: RewriteBase set, Authorization through the RewriteRule "
       "alone")
def fcgid_rewrite_auth(ctx):
    via_rewrite_alone(ctx, host(ctx, "fcgid"))


@htest("mod_fcgid: the directory serves nothing but the API")
def fcgid_guard(ctx):
    h = host(ctx, "fcgid")
    guard(h, h.sites_by_name["relaysync"])


def pages(h):
    """The console and docs page that the relaysync site has beside its
    program (the example's step 4), served by the .htaccess alone."""
    s = h.sites_by_name["relaysync"]
    check_web(lambda method, url, headers=None:
              http_call(h.port, method, url, headers=headers), s.url,
              s.dir, ".htaccess")


@htest("mod_fcgid: console/ and docs/ copied beside the program are served "
       "at /~crew/relaysync/console/ and /docs/ with the strict CSP; the "
       ".htaccess is not reachable through them")
def fcgid_pages(ctx):
    pages(host(ctx, "fcgid"))


@htest("mod_fcgid: a database or secret under the document root is refused")
def fcgid_docroot(ctx):
    h = host(ctx, "fcgid")
    s = h.sites_by_name["unsafe-db"]
    refused(ctx, h, s, "database under the root", s.db)
    s = h.sites_by_name["unsafe-secret"]
    refused(ctx, h, s, "secret under the root", s.secret)


def never_mixed(ctx, a, b):
    """Requests to sites A and B (whose programs may share mod_fcgid
    processes), alternating, MIX_ROUNDS times: each answer is either the
    program's 503 service_unavailable (a process that took the other
    site's settings refused it) or a correct one from the site's own
    database, never the other's. -> {"a": {200: n, 503: n}, "b": ...}
    (2xx counted as 200)."""
    tok_a = token(a)           # a process takes a's settings first
    counts = {"a": {200: 0, 503: 0}, "b": {200: 0, 503: 0}}
    mine = {"a": [], "b": []}
    tok_b = None

    def judge(label, resp, ok_status):
        if resp.status == 503:
            expect_problem(resp, 503, "service_unavailable")
            counts[label][503] += 1
            return None
        expect_equal(resp.status, ok_status, "%s: status (expected %d or "
                     "503 refused)" % (label, ok_status), resp)
        counts[label][200] += 1
        return resp.json()

    for i in range(MIX_ROUNDS):
        # b's key exists only in b's database: a process on a's would
        # answer 401, never 200.
        if tok_b is None:
            body = judge("b", b.call("POST", "/v1/auth/token",
                                     {"api_key": b.key}), 200)
            if body:
                tok_b = body["access_token"]
        else:
            body = judge("b", b.call("GET", "/v1/me", token=tok_b), 200)
            if body:
                expect_equal(body.get("org_id"), b.org, "b: /v1/me org_id")
            body = judge("b", b.call("POST", "/v1/records",
                                     {"title": "b", "type": "b%d" % i},
                                     token=tok_b), 201)
            if body:
                mine["b"].append(body["id"])
        body = judge("a", a.call("GET", "/v1/me", token=tok_a), 200)
        if body:
            expect_equal(body.get("org_id"), a.org, "a: /v1/me org_id")
        body = judge("a", a.call("POST", "/v1/records",
                                 {"title": "a", "type": "a%d" % i},
                                 token=tok_a), 201)
        if body:
            mine["a"].append(body["id"])
        if i < FOREIGN_KEY_ROUNDS:
            # a's key at b: b's database does not know it, or refused.
            resp = b.call("POST", "/v1/auth/token", {"api_key": a.key})
            expect(resp.status in (401, 503),
                   "a's key at b: expected 401 (b's database) or 503 "
                   "(refused), got %s" % resp.status, resp)
    # Each database holds exactly what was created through its own site.
    a_ids, b_ids = db_record_ids(ctx, a), db_record_ids(ctx, b)
    expect(not set(a_ids) & set(mine["b"]) and
           not set(b_ids) & set(mine["a"]),
           "records crossed databases: a's holds %r, b's holds %r"
           % (a_ids, b_ids))
    expect(set(mine["a"]) <= set(a_ids) and set(b_ids) == set(mine["b"]),
           "created through a: %r (a's database: %r); through b: %r (b's "
           "database: %r)" % (mine["a"], a_ids, mine["b"], b_ids))
    return counts


@htest("mod_fcgid: two directories, one program file: never each other's "
       "database")
def fcgid_two_dirs(ctx):
    # "second" is a hard link to "relaysync"'s program (one inode) with
    # its own .htaccess naming its own database. Observed (Apache 2.4.71,
    # mod_fcgid 2.3.9): served correctly from its own database, never
    # refused: mod_fcgid's process class is the inode AND the path (its
    # cmdline) and the vhost, so the link gets processes of its own.
    # Either outcome of DESIGN.md item 2 passes (a 503 refusal or the
    # site's own data); mixed data fails. The same program path with two
    # settings (the refusal itself) is the next test.
    h = host(ctx, "fcgid")
    a, b = h.sites_by_name["relaysync"], h.sites_by_name["second"]
    expect_equal(os.stat(a.program).st_ino, os.stat(b.program).st_ino,
                 "the two programs' inode")
    counts = never_mixed(ctx, a, b)
    print("# hard link (mod_fcgid): a %s, b %s (status: count)"
          % (counts["a"], counts["b"]))


@htest("mod_fcgid: one program path, two databases: refused, not mixed")
def fcgid_one_path(ctx):
    # One directory reached as /~crew/shared and /~crew/shared-b, its
    # .htaccess naming another database for the second (an <If> on
    # CONTEXT_PREFIX): one program path, one mod_fcgid class, so a
    # process that took one site's settings gets the other's requests
    # and must refuse them (503, logged) rather than serve them from its
    # database.
    h = host(ctx, "fcgid")
    a, b = h.sites_by_name["shared"], h.sites_by_name["shared-b"]
    counts = never_mixed(ctx, a, b)
    refusals = counts["a"][503] + counts["b"][503]
    expect(refusals > 0, "no request was refused: a %s, b %s (status: "
           "count); one mod_fcgid process class served both sites' "
           "settings without a 503" % (counts["a"], counts["b"]))
    expect(re.search(r"a request with other settings \(RELAYSYNC_\w+\) "
                     r"than the ones this process took", h.log_text()),
           "the refusal is not in the error log: %s" % h.log_tail())
    print("# one path (mod_fcgid): a %s, b %s (status: count)"
          % (counts["a"], counts["b"]))


# --------------------------------------------------------------------------
# plain CGI (mod_cgi)
# --------------------------------------------------------------------------

@htest("mod_cgi: the API at /~crew/relaysync, configured by .htaccess alone")
def cgi_api(ctx):
    h = host(ctx, "cgi")
    api_flow(ctx, h, h.sites_by_name["relaysync"])
    programs_gone(h)


def programs_gone(h):
    """One CGI program per request, gone once it has answered."""
    deadline = time.monotonic() + PROC_WAIT
    while session_programs(h):
        expect(time.monotonic() < deadline, "CGI programs still running %d "
               "s after their answers: %r" % (PROC_WAIT,
                                              session_programs(h)))
        time.sleep(0.2)


@htest("mod_cgi: RewriteBase set, Authorization through the RewriteRule "
       "alone")
def cgi_rewrite_auth(ctx):
    via_rewrite_alone(ctx, host(ctx, "cgi"))


@htest("mod_cgi: the directory serves nothing but the API")
def cgi_guard(ctx):
    h = host(ctx, "cgi")
    guard(h, h.sites_by_name["relaysync"])


@htest("mod_cgi: console/ and docs/ beside the program are served with the "
       "strict CSP")
def cgi_pages(ctx):
    pages(host(ctx, "cgi"))


@htest("mod_cgi: a database or secret under the document root is refused")
def cgi_docroot(ctx):
    h = host(ctx, "cgi")
    s = h.sites_by_name["unsafe-db"]
    refused(ctx, h, s, "database under the root", s.db)
    s = h.sites_by_name["unsafe-secret"]
    refused(ctx, h, s, "secret under the root", s.secret)


@htest("mod_cgi: an org's rate limit holds across CGI programs")
def cgi_rate_limit(ctx):
    h = host(ctx, "cgi")
    s = h.sites_by_name["relaysync"]
    org, key = s.new_org("limited-%s" % secrets.token_hex(3), RATE)
    tok = token(s, key)
    shots = []
    t0 = time.monotonic()
    for i in range(RATE_SHOTS):
        shots.append(s.call("GET", "/v1/me", token=tok))
    span = time.monotonic() - t0
    ok = [r for r in shots if r.status == 200]
    limited = [r for r in shots if r.status == 429]
    expect_equal(len(ok) + len(limited), RATE_SHOTS,
                 "answers that are 200 or 429 (statuses %r)"
                 % [r.status for r in shots])
    bound = RATE + int(RATE * span) + 1
    expect(limited and len(ok) <= bound,
           "%d quick requests in %.2f s at %d/s: expected some 429 and at "
           "most %d 200, got %d 200" % (RATE_SHOTS, span, RATE, bound,
                                        len(ok)))
    for r in ok:
        expect_equal(r.headers.get("RateLimit-Limit"), str(RATE),
                     "RateLimit-Limit on a 200", r)
    for r in limited:
        expect_problem(r, 429, "rate_limited")
        expect_match(r"^[1-9][0-9]*$", r.headers.get("Retry-After"),
                     "Retry-After", r)
        expect_equal(r.headers.get("RateLimit-Limit"), str(RATE),
                     "RateLimit-Limit", r)
        expect_equal(r.headers.get("RateLimit-Remaining"), "0",
                     "RateLimit-Remaining", r)
        expect_equal(r.headers.get("RateLimit-Policy"),
                     '"org";q=%d;w=1' % RATE, "RateLimit-Policy", r)
        expect_match(r'^"org";r=0;t=\d+$', r.headers.get("RateLimit"),
                     "RateLimit", r)
    expect(os.path.exists(s.db + ".ratelimit"),
           "the shared rate file %s.ratelimit is missing" % s.db)


@htest("mod_cgid (mpm_event): the API at /~crew/relaysync, configured by "
       ".htaccess alone")
def cgid_api(ctx):
    h = host(ctx, "cgid")
    api_flow(ctx, h, h.sites_by_name["relaysync"])
    programs_gone(h)


@htest("mod_cgi: a program that cannot answer gets the example's JSON 500")
def cgi_broken(ctx):
    h = host(ctx, "cgi")
    s = h.sites_by_name["broken"]
    resp = s.call("GET", "/v1/health")
    expect_problem(resp, 500, "internal_error")
    expect_match(r"^\S{20,}$", resp.headers.get("X-Request-Id"),
                 "X-Request-Id (mod_unique_id's)", resp)
