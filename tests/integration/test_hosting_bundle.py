"""The upload bundle (`make bundle`) and the worker started the way a
hosting control panel's cron starts it (issue 14 part 2,
/work/issue14/DESIGN.md).

"hosting bundle: ..." (`run.py -k bundle`) need the tarball: they are
registered only when run.py is given `--bundle PATH` (harness.BUNDLE).
They unpack it into a temp dir, check what it holds against the source
tree, run ldd on its programs, and serve it from private Apaches
(hosting_apache.HostedApache with bundle=DIR, under mod_fcgid and under
mod_cgi): the directory's only RelaySync file besides a copy of the
bundle's relaysync.fcgi is the .htaccess made from the bundle's
htaccess.example, and the database is made by the bundle's relaysync-admin
configured by `--env-file` alone (the bundle's relaysync.env.example
filled in).

"hosting cron: ..." (`run.py -k cron`) run relaysync-worker (the bundle's
when --bundle is given, else PREFIX/bin's) as a control panel's cron does:
a bare environment (`env -i PATH=/usr/bin:/bin HOME=<home> SHELL=/bin/sh`)
with `--env-file <data>/relaysync.env` as its only configuration, as the
web server's user, on a site that the mod_fcgid host serves
(/~crew/cron; its .htaccess and the settings file also carry
RELAYSYNC_WEBHOOK_ALLOW_PRIVATE=1, since the receiver is
http://127.0.0.1:<port>).

Both kinds are registered only in the `--server apache` pass with the
default `--apache-form server` (as test_hosting_apache.py's), so
scripts/test runs them once. Every wait is bounded; everything listens on
127.0.0.1; the hosts, workers, receivers and temp dirs go when a test or
the run ends.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import shutil
import subprocess
import tarfile
import tempfile
import time

import harness
from harness import (Failure, at_teardown, expect, expect_equal, expect_json,
                     expect_match, test)
from hosting_apache import HostedApache
from receiver import Receiver, Reply
# test_hosting_apache.py is imported before this module (run.py imports
# them in sorted order), so this does not register its tests again.
from test_hosting_apache import (create, db_record_ids, me, pages,
                                 programs_gone, session_programs, this_pass,
                                 token)
from web_checks import installed, web_dir

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.normpath(os.path.join(HERE, "..", ".."))
BUNDLE = getattr(harness, "BUNDLE", None)   # run.py --bundle
BUNDLE_RE = r"^relaysync-bundle-(\d+\.\d+\.\d+[^/]*)\.tar\.gz$"
PROGRAMS = ("relaysync.fcgi", "relaysync-admin", "relaysync-worker")
# What the bundle holds besides the programs, and where each comes from in
# the source tree (Makefile.am's bundle rule copies them).
SHIPPED = {"htaccess.example": "apache/htaccess.example",
           "relaysync.env.example": "bundle/relaysync.env.example",
           "openapi.json": "openapi/openapi.json",
           "README.md": "README.md"}
# ldd's names of glibc's own libraries (and the kernel's vDSO).
GLIBC_RE = re.compile(r"^(linux-vdso\.so\.\d+|linux-gate\.so\.\d+|"
                      r"libc\.so\.\d+|libm\.so\.\d+|libpthread\.so\.\d+|"
                      r"libdl\.so\.\d+|librt\.so\.\d+|"
                      r"ld-linux[-\w.]*\.so\.\d+)$")
# The libraries every bundled program must carry inside: none of these may
# be a shared library the host has to have.
LINKED_IN_RE = re.compile(r"sqlite|json-c|sodium|fcgi", re.I)

CRON_PATH = "/usr/bin:/bin"
ALLOW_PRIVATE = {"RELAYSYNC_WEBHOOK_ALLOW_PRIVATE": "1"}
DELIVERY_WAIT = 15        # seconds for a delivery to reach the receiver
QUICK_EXIT = 5            # seconds: "exits at once" (the lock was held)
SIG_TOLERANCE = 300       # seconds between webhook-timestamp and arrival
EVT_RE = r"^evt_\S+$"

# The Standard Webhooks reference example: this file's verifier must agree
# with it before it judges a delivery.
SPEC_EXAMPLE = ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330",
                b'{"test": 2432232314}',
                "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")


def in_pass(ctx):
    expect(ctx.server_name == "apache" and harness.APACHE_FORM == "server",
           "hosting tests belong to the --server apache pass with "
           "--apache-form server (registered from sys.argv)")


def btest(name):
    """A test of the bundle: registered only with run.py --bundle."""
    def register(func):
        def run(ctx):
            in_pass(ctx)
            func(ctx)
        if this_pass() and BUNDLE:
            test("hosting bundle: " + name, sqlite_only=(
                "the shared-hosting bundle: its programs are linked "
                "statically against SQLite alone"))(run)
        return func
    return register


def ctest(name):
    """A test of the worker from cron (the bundle's worker, or the
    installed one without --bundle)."""
    def register(func):
        def run(ctx):
            in_pass(ctx)
            func(ctx)
        if this_pass():
            test("hosting cron: " + name)(run)
        return func
    return register


# --------------------------------------------------------------------------
# the bundle, unpacked once
# --------------------------------------------------------------------------

_UNPACKED = {}


def unpacked():
    """The unpacked bundle's directory (relaysync-bundle-<version>/ in a
    temp dir removed when the run ends); a failure is kept and repeated to
    every later caller."""
    got = _UNPACKED.get("dir")
    if isinstance(got, Exception):
        raise Failure("the bundle could not be unpacked earlier: %s" % got)
    if got is not None:
        return got
    try:
        _UNPACKED["dir"] = unpack(BUNDLE)
    except Exception as e:  # noqa: kept for the later tests
        _UNPACKED["dir"] = e
        raise
    return _UNPACKED["dir"]


def unpack(tarball):
    expect(tarball and os.path.isfile(tarball),
           "--bundle %s: no such file" % tarball)
    m = re.match(BUNDLE_RE, os.path.basename(tarball))
    expect(m, "%s: the name is not relaysync-bundle-<version>.tar.gz"
           % tarball)
    top_name = "relaysync-bundle-" + m.group(1)
    top = tempfile.mkdtemp(prefix="relaysync-bundle.")
    os.chmod(top, 0o755)     # the web server's user runs the programs
    if os.environ.get("KEEP") == "1":
        at_teardown(lambda: print("# kept the unpacked bundle %s" % top))
    else:
        at_teardown(lambda: shutil.rmtree(top, ignore_errors=True))
    try:
        tf = tarfile.open(tarball, "r:gz")
    except (OSError, tarfile.TarError) as e:
        raise Failure("%s: not a gzipped tar: %s" % (tarball, e))
    with tf:
        members = tf.getmembers()
        names = [t.name.rstrip("/") for t in members]
        bad = [n for n in names if n != top_name
               and not n.startswith(top_name + "/")]
        expect(not bad, "%s: expected one directory %s/, but it also holds "
               "%r" % (tarball, top_name, bad[:10]))
        odd = [t.name for t in members if not (t.isfile() or t.isdir())]
        expect(not odd, "%s: members that are neither files nor "
               "directories: %r" % (tarball, odd))
        expect(".." not in "/".join(names).split("/"),
               "%s: a member name holds '..'" % tarball)
        try:
            tf.extractall(top, filter="data")
        except TypeError:       # a Python without extraction filters
            tf.extractall(top)
    harness.make_world_readable(top)
    return os.path.join(top, top_name)


def ldd(path):
    """ldd PATH -> [(library name, what ldd says it resolves to)]; []
    for a static program."""
    try:
        done = subprocess.run(["ldd", path], stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise Failure("ldd %s: %s" % (path, e))
    out = done.stdout.decode("utf-8", "replace")
    err = done.stderr.decode("utf-8", "replace")
    if "not a dynamic executable" in out + err or \
            out.strip() == "statically linked":
        return []
    expect(done.returncode == 0, "ldd %s: exit %d: %s%s"
           % (path, done.returncode, out, err))
    libs = []
    for line in out.splitlines():
        line = line.strip()
        if not line:
            continue
        name, _, rest = line.partition(" ")
        libs.append((os.path.basename(name), rest.strip()))
    return libs


# --------------------------------------------------------------------------
# the hosts: mod_fcgid (the bundle's site and the cron site) and mod_cgi
# --------------------------------------------------------------------------

_HOSTS = {}


def host(ctx, module):
    """The running HostedApache for MODULE ("fcgid" or "cgi"), serving the
    bundle's programs with --bundle, else the installed ones. Sites:
    "relaysync" (with --bundle) and, under mod_fcgid, "cron". A start that
    failed fails every later test at once, with the same reason."""
    got = _HOSTS.get(module)
    if isinstance(got, Exception):
        raise Failure("the %s host could not start earlier: %s"
                      % (module, got))
    if got is not None:
        return got
    try:
        h = HostedApache(ctx, module,
                         bundle=unpacked() if BUNDLE else None)
        at_teardown(h.stop)
        if BUNDLE:
            h.add_site("relaysync", env_example=h.env_example, web=True)
        if module == "fcgid":
            h.add_site("cron", env_example=h.env_example,
                       env_settings=ALLOW_PRIVATE, more_htaccess=(
                           "\n# (test) Webhooks to the test's receiver, "
                           "http://127.0.0.1:<port>.\n"
                           "SetEnv RELAYSYNC_WEBHOOK_ALLOW_PRIVATE 1\n"))
        h.start()
    except Exception as e:  # noqa: kept for the later tests
        _HOSTS[module] = e
        raise
    _HOSTS[module] = h
    return h


# ==========================================================================
# the bundle
# ==========================================================================

@btest("the tarball holds one directory relaysync-bundle-<version>/ with "
       "the three programs, htaccess.example, relaysync.env.example, sql/, "
       "openapi.json, README.md, console/ and docs/, as in the source tree "
       "and the install")
def bundle_contents(ctx):
    d = unpacked()
    have = sorted(os.listdir(d))
    want = sorted(PROGRAMS + tuple(SHIPPED) + ("sql", "console", "docs"))
    expect_equal(have, want, "what %s holds" % os.path.basename(d))
    for prog in PROGRAMS:
        path = os.path.join(d, prog)
        expect(os.path.isfile(path) and os.access(path, os.X_OK),
               "%s is not an executable file" % path)
        with open(path, "rb") as f:
            expect(f.read(4) == b"\x7fELF", "%s is not an ELF program"
                   % path)
    for name, src in SHIPPED.items():
        with open(os.path.join(d, name), "rb") as f:
            got = f.read()
        with open(os.path.join(SOURCE, src), "rb") as f:
            expect(got == f.read(), "the bundle's %s differs from the "
                   "source tree's %s" % (name, src))
    try:
        with open(os.path.join(d, "openapi.json"), encoding="utf-8") as f:
            doc = json.load(f)
    except ValueError as e:
        raise Failure("the bundle's openapi.json is not JSON: %s" % e)
    expect(isinstance(doc, dict) and str(doc.get("openapi", ""))
           .startswith("3."), "the bundle's openapi.json is not an OpenAPI "
           "3 document")
    sql = os.path.join(d, "sql")
    expect(os.path.isdir(sql), "sql is not a directory")
    src_sql = sorted(n for n in os.listdir(os.path.join(SOURCE, "sql"))
                     if n.endswith(".sql"))
    expect(src_sql, "no sql/*.sql in the source tree %s" % SOURCE)
    expect_equal(sorted(os.listdir(sql)), src_sql,
                 "sql/: the source tree's migrations")
    for n in src_sql:
        with open(os.path.join(sql, n), "rb") as a, \
                open(os.path.join(SOURCE, "sql", n), "rb") as b:
            expect(a.read() == b.read(), "the bundle's sql/%s differs from "
                   "the source tree's" % n)
    bundle_pages(d, ctx.prefix)


def bundle_pages(d, prefix):
    """console/ and docs/ of the bundle D are what `make install` put
    under PREFIX (the console's files and the client's modules, the docs
    page built from the same document)."""
    for part in ("console", "docs"):
        got = installed(d, part)
        want = installed(web_dir(prefix), part)
        expect_equal([rel for rel, _ in got], [rel for rel, _ in want],
                     "the bundle's %s/ (against the install's)" % part)
        for (rel, a), (_, b) in zip(got, want):
            with open(a, "rb") as fa, open(b, "rb") as fb:
                expect(fa.read() == fb.read(), "the bundle's %s/%s differs "
                       "from the installed one" % (part, rel))


@btest("ldd: relaysync.fcgi and relaysync-admin need nothing beyond glibc; "
       "relaysync-worker only glibc and libcurl's chain (no SQLite, json-c, "
       "libsodium, libfcgi)")
def bundle_ldd(ctx):
    d = unpacked()
    problems = []
    seen = {}
    for prog in PROGRAMS:
        libs = ldd(os.path.join(d, prog))
        seen[prog] = [n for n, _ in libs]
        missing = ["%s (%s)" % (n, w) for n, w in libs if "not found" in w]
        if prog == "relaysync-worker":
            # Allowed: glibc and libcurl with whatever it needs (TLS,
            # HTTP/2, IDN, Kerberos, LDAP, zlib, ...); not the libraries
            # the bundle links in.
            extra = [n for n, _ in libs if LINKED_IN_RE.search(n)]
            rule = "SQLite, json-c, libsodium and libfcgi must be linked in"
        else:
            extra = [n for n, _ in libs if not GLIBC_RE.match(n)]
            rule = ("only libc, libm, libpthread, libdl, librt, the loader "
                    "and the vDSO may stay shared")
        if extra:
            problems.append("%s needs the shared libraries %s (%s)"
                            % (prog, ", ".join(extra), rule))
        if missing:
            problems.append("%s: ldd finds no %s" % (prog,
                                                     ", ".join(missing)))
    expect(any(n.startswith("libcurl") for n in seen["relaysync-worker"]),
           "relaysync-worker does not link libcurl dynamically (DESIGN.md: "
           "libcurl and its dependencies dynamic): ldd lists %r"
           % seen["relaysync-worker"])
    expect(not problems, "; ".join(problems))
    print("# ldd: %s" % "; ".join("%s: %s" % (p, " ".join(seen[p]) or
                                              "static")
                                  for p in PROGRAMS))


def bundle_site(ctx, module):
    """The bundle's program behind MODULE's .htaccess: health, the token
    exchange (Authorization reaches it: /v1/me), a record created (201,
    Location under the mount) and found in the database that the
    settings file names."""
    h = host(ctx, module)
    s = h.sites_by_name["relaysync"]
    expect(s.env_file and os.path.isfile(s.env_file),
           "the site has no settings file (relaysync.env)")
    with open(os.path.join(s.dir, ".htaccess"), encoding="utf-8") as f:
        text = f.read()
    expect("SetEnv RELAYSYNC_DB %s\n" % s.db in text,
           "the .htaccess does not name the database %s" % s.db)
    with open(s.program, "rb") as a, \
            open(os.path.join(h.bundle, "relaysync.fcgi"), "rb") as b:
        expect(a.read() == b.read(), "the site's program is not the "
               "bundle's relaysync.fcgi")
    expect_json(s.call("GET", "/v1/health"), 200)
    tok = token(s)
    me(s, tok, s.org)
    rec, _ = create(s, tok, "bundle-" + module)
    expect(rec["id"] in db_record_ids(ctx, s),
           "record %s is not in %s, the database relaysync.env names"
           % (rec["id"], s.db))
    return h


@btest("mod_fcgid: the bundle's relaysync.fcgi with the .htaccess from its "
       "htaccess.example, the database made by its relaysync-admin "
       "--env-file: health, token, record create 201")
def bundle_fcgid(ctx):
    h = bundle_site(ctx, "fcgid")
    expect(session_programs(h), "mod_fcgid: no relaysync.fcgi process runs "
           "(was the request served as CGI?)")


@btest("mod_fcgid: the bundle's console/ and docs/ copied beside its program "
       "are served by its .htaccess with the strict CSP")
def bundle_fcgid_pages(ctx):
    pages(bundle_site(ctx, "fcgid"))


@btest("mod_cgi: the bundle's relaysync.fcgi with the .htaccess from its "
       "htaccess.example, the database made by its relaysync-admin "
       "--env-file: health, token, record create 201")
def bundle_cgi(ctx):
    h = bundle_site(ctx, "cgi")
    programs_gone(h)


# ==========================================================================
# the worker from a control panel's cron
# ==========================================================================

class Cron:
    """relaysync-worker runs started the way a control panel's cron
    starts them (`env -i PATH=/usr/bin:/bin HOME=<home> SHELL=/bin/sh
    relaysync-worker --env-file <data>/relaysync.env`), as the web
    server's user, each in a session of its own with its output in a file;
    stop() kills whatever is left."""

    def __init__(self, h, site):
        self.h = h
        self.site = site
        self.home = h.ws.path("home", "crew")
        self.procs = []

    def argv(self, args=(), env_file=True, env=()):
        """ENV: more NAME=value pairs for `env -i` (the environment)."""
        head = ["/usr/bin/env", "-i", "PATH=" + CRON_PATH,
                "HOME=" + self.home, "SHELL=/bin/sh"] + \
            ["%s=%s" % kv for kv in env] + [self.h.worker_bin]
        if env_file is True:
            head += ["--env-file", self.site.env_file]
        elif env_file:
            head += ["--env-file", env_file]
        return head + list(args)

    def start(self, args=(), env_file=True, env=()):
        argv = self.argv(args, env_file, env)
        extra = {}
        if self.h.run_as:
            extra = {"user": self.h.run_as, "group": self.h.run_as,
                     "extra_groups": []}
        n = len([f for f in os.listdir(self.h.ws.dir)
                 if f.startswith("cron-")])
        path = self.h.ws.path("cron-%d.out" % n)
        with open(path, "wb") as out:
            proc = subprocess.Popen(argv, env={}, cwd=self.home,
                                    stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT,
                                    start_new_session=True, **extra)
        proc.output_path = path
        proc.argv = argv
        proc.started = time.monotonic()
        proc.ended = None
        self.procs.append(proc)
        return proc

    @staticmethod
    def poll(proc):
        if proc.ended is None and proc.poll() is not None:
            proc.ended = time.monotonic()
        return proc.returncode if proc.ended is not None else None

    def wait(self, proc, timeout=harness.WORKER_TIMEOUT):
        """Wait (bounded) for PROC -> (rc, output, seconds); a Failure
        when it runs past TIMEOUT (it is killed)."""
        deadline = proc.started + timeout
        while self.poll(proc) is None:
            if time.monotonic() > deadline:
                self.kill(proc)
                raise Failure("%s ran past %d s: %s"
                              % (" ".join(proc.argv), timeout,
                                 self.output(proc)))
            time.sleep(0.05)
        return proc.returncode, self.output(proc), proc.ended - proc.started

    def run(self, args=(), env_file=True, env=(),
            timeout=harness.WORKER_TIMEOUT):
        return self.wait(self.start(args, env_file, env), timeout)

    @staticmethod
    def output(proc):
        try:
            with open(proc.output_path, "rb") as f:
                return f.read(4000).decode("utf-8", "replace")
        except OSError as e:
            return "(%s)" % e

    @staticmethod
    def kill(proc):
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, 9)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                proc.wait(harness.STOP_GRACE)
            except subprocess.TimeoutExpired:
                pass

    def stop(self):
        for proc in self.procs:
            self.kill(proc)


def expected_signature(secret, msg_id, timestamp, body):
    """Standard Webhooks: base64 HMAC-SHA256 of "id.timestamp.body" under
    the base64 key after "whsec_"."""
    expect(secret.startswith("whsec_"), "secret %r lacks whsec_" % secret)
    key = base64.b64decode(secret[len("whsec_"):], validate=True)
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    return base64.b64encode(hmac.new(key, signed, hashlib.sha256)
                            .digest()).decode("ascii")


def expect_signed(req, secret, org, rec_id):
    """REQ is the delivery of record REC_ID's record.created in ORG,
    signed with SECRET: webhook-id, webhook-timestamp and
    webhook-signature present, a v1 signature that verifies."""
    secret0, msg0, ts0, body0, sig0 = SPEC_EXAMPLE
    expect_equal(expected_signature(secret0, msg0, ts0, body0), sig0,
                 "this test's signer on the specification's example")
    expect_equal(req.method, "POST", "delivery method")
    msg_id = req.header("webhook-id")
    ts = req.header("webhook-timestamp")
    sig = req.header("webhook-signature")
    expect(msg_id and ts and sig, "the delivery lacks webhook-id, "
           "webhook-timestamp or webhook-signature: %r" % req.pairs)
    expect_match(EVT_RE, msg_id, "webhook-id")
    expect_match(r"^\d+$", ts, "webhook-timestamp")
    expect(abs(int(ts) - req.arrived) <= SIG_TOLERANCE,
           "webhook-timestamp %s is %d s from its arrival"
           % (ts, int(ts) - req.arrived))
    want = expected_signature(secret, msg_id, ts, req.body)
    sigs = [p.partition(",") for p in sig.split()]
    expect(any(v == "v1" and hmac.compare_digest(s, want)
               for v, _, s in sigs),
           "webhook-signature %r does not verify under the endpoint's "
           "secret (want v1,%s)" % (sig, want))
    try:
        body = req.json()
    except ValueError as e:
        raise Failure("the delivery's body is not JSON: %s" % e)
    expect_equal((body.get("id"), body.get("type"), body.get("org_id")),
                 (msg_id, "record.created", org),
                 "the delivery's id, type and org_id")
    expect(rec_id in json.dumps(body.get("data")),
           "the delivery's data does not name record %s: %r"
           % (rec_id, body.get("data")))


class Scene:
    """A cron test's world on the cron site: a fresh org (made by
    relaysync-admin --env-file) with an admin token, a receiver on
    127.0.0.1, a webhook to it registered through the hosted API, and
    cron runs; all undone at the end (the webhook deleted, so later runs
    do not retry it; the receiver stopped; the workers killed)."""

    def __init__(self, ctx):
        self.h = host(ctx, "fcgid")
        self.s = self.h.sites_by_name["cron"]
        self.org, key = self.s.new_org("cron-%s" % secrets.token_hex(3))
        self.tok = token(self.s, key)
        self.rx = Receiver()
        self.cron = Cron(self.h, self.s)
        self.hook = None

    def register(self):
        resp = self.s.call("POST", "/v1/webhooks",
                           {"url": self.rx.url("/hook"),
                            "events": ["record.created"]}, token=self.tok)
        w = expect_json(resp, 201)
        expect_match(r"^whk_\S+$", w.get("id"), "webhook id", resp)
        self.hook = w["id"]
        expect_match(r"^whsec_\S+$", w.get("secret"), "webhook secret",
                     resp)
        expect_equal(resp.headers.get("Location"),
                     "%s/v1/webhooks/%s" % (self.s.url, w["id"]),
                     "Location (under the mount)", resp)
        return w

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        self.cron.stop()
        if self.hook:
            try:
                self.s.call("DELETE", "/v1/webhooks/" + self.hook,
                            token=self.tok)
            except Failure:
                pass
        lines = self.rx.describe()
        self.rx.stop()
        if isinstance(exc, Failure):
            lines += ["cron run %d: %s -> %s: %s"
                      % (i, " ".join(p.argv), p.returncode,
                         Cron.output(p).strip() or "(no output)")
                      for i, p in enumerate(self.cron.procs)]
            exc.args = (str(exc) + "\n# " + "\n# ".join(lines[:60]),)
        return False


def expect_quiet_ok(rc, out, what):
    """A run that did its work: exit 0 and nothing printed (cron mails
    whatever a job prints; etc/relaysync/cron/relaysync: "It prints
    nothing when all is well")."""
    expect(rc == 0, "%s: exit %s (want 0): %s" % (what, rc, out))
    expect(out.strip() == "", "%s printed %r (cron would mail it)"
           % (what, out))


@ctest("relaysync-worker --env-file in cron's bare environment (env -i) "
       "delivers the signed webhook of a record created through the hosted "
       "API")
def cron_delivers(ctx):
    with Scene(ctx) as sc:
        w = sc.register()
        rec, _ = create(sc.s, sc.tok, "cron")
        rc, out, secs = sc.cron.run()
        expect_quiet_ok(rc, out, "the cron run")
        reqs = sc.rx.wait_for(1, DELIVERY_WAIT)
        expect(reqs, "the receiver got nothing within %d s of the run"
               % DELIVERY_WAIT)
        time.sleep(0.5)            # a duplicate would come now
        reqs = sc.rx.requests
        expect_equal(len(reqs), 1, "deliveries")
        expect_signed(reqs[0], w["secret"], sc.org, rec["id"])
        expect_equal(reqs[0].answered, 200, "the receiver's answer")
        # A second run: nothing is due, nothing is sent again.
        rc, out, _ = sc.cron.run()
        expect_quiet_ok(rc, out, "a second cron run")
        time.sleep(0.3)
        expect_equal(len(sc.rx.requests), 1, "deliveries after a second "
                     "run")
        print("# cron run: %.2f s (%s)" % (secs, sc.h.worker_bin))


@ctest("two cron runs at once: one delivers, the other exits 0 at once "
       "without delivering (the lock)")
def cron_overlap(ctx):
    with Scene(ctx) as sc:
        w = sc.register()
        # The delivery is held at the receiver until released, so the run
        # that sends it still holds the lock when the other one starts.
        sc.rx.push(Reply(200, stall=True))
        rec, _ = create(sc.s, sc.tok, "overlap")
        a = sc.cron.start()
        b = sc.cron.start()
        reqs = sc.rx.wait_for(1, DELIVERY_WAIT)
        expect(reqs, "the receiver got nothing within %d s of the two "
               "runs' start" % DELIVERY_WAIT)
        deadline = time.monotonic() + QUICK_EXIT
        while time.monotonic() < deadline and \
                Cron.poll(a) is None and Cron.poll(b) is None:
            time.sleep(0.05)
        done = [p for p in (a, b) if Cron.poll(p) is not None]
        expect_equal(len(done), 1, "runs ended while the delivery is held "
                     "(within %d s)" % QUICK_EXIT)
        quick = done[0]
        holder = b if quick is a else a
        rc, out, secs = sc.cron.wait(quick)
        expect_quiet_ok(rc, out, "the run that found the lock held")
        expect(secs < QUICK_EXIT, "the run that found the lock held took "
               "%.1f s" % secs)
        expect_equal(len(sc.rx.requests), 1, "deliveries while one is "
                     "held")
        # The run holding the delivery has cron's bare environment.
        try:
            with open("/proc/%d/environ" % holder.pid, "rb") as f:
                environ = sorted(f.read().decode("utf-8", "replace")
                                 .strip("\0").split("\0"))
            with open("/proc/%d/cmdline" % holder.pid, "rb") as f:
                cmd = f.read().split(b"\0")[0].decode("utf-8", "replace")
        except OSError as e:
            raise Failure("the delivering run's /proc entry: %s" % e)
        expect_equal(cmd, sc.h.worker_bin, "the delivering run's program")
        expect_equal(environ, sorted(["PATH=" + CRON_PATH,
                                      "HOME=" + sc.cron.home,
                                      "SHELL=/bin/sh"]),
                     "the delivering run's environment")
        sc.rx.release()
        rc, out, _ = sc.cron.wait(holder)
        expect_quiet_ok(rc, out, "the run that delivered")
        time.sleep(0.5)            # a duplicate would come now
        reqs = sc.rx.requests
        expect_equal(len(reqs), 1, "deliveries in all")
        expect_signed(reqs[0], w["secret"], sc.org, rec["id"])
        expect_equal(reqs[0].answered, 200, "the receiver's answer")
        resp = sc.s.call("GET", "/v1/sync/queue", token=sc.tok)
        counts = expect_json(resp, 200).get("counts") or {}
        expect_equal(counts.get("succeeded"), 1, "the queue's succeeded "
                     "jobs", resp)
        print("# overlap: the quick run ended in %.2f s" % secs)


@ctest("the settings file is what configures the cron run: without "
       "--env-file it fails naming the database it could not open; the "
       "environment wins over the file; a bad line or a missing file is "
       "exit 2 naming the file (and line)")
def cron_needs_file(ctx):
    with Scene(ctx) as sc:
        sc.register()
        create(sc.s, sc.tok, "bare")
        s, home = sc.s, sc.cron.home

        # No --env-file: the built-in default database (the build's
        # localstatedir), not the site's.
        rc, out, _ = sc.cron.run(env_file=False)
        expect(rc not in (0, None), "without --env-file: exit %s (want a "
               "failure): %s" % (rc, out))
        paths = re.findall(r"(/[^\s:()'\"]+\.db)\b", out)
        expect(paths, "without --env-file: the message names no database "
               "file: %r" % out)
        expect(s.db not in paths, "without --env-file: the message names "
               "the site's database %s: %r" % (s.db, out))

        # The environment wins: RELAYSYNC_DB set for the run beats the
        # file's.
        elsewhere = os.path.join(home, "elsewhere", "relaysync.db")
        rc, out, _ = sc.cron.run(env=[("RELAYSYNC_DB", elsewhere)])
        expect(rc not in (0, None) and elsewhere in out,
               "RELAYSYNC_DB=%s in the environment and --env-file naming "
               "%s: expected a failure naming the environment's, got exit "
               "%s: %r" % (elsewhere, s.db, rc, out))

        # A bad line (line 3) and a missing file: exit 2, named.
        bad = s.env_file + ".bad"
        harness.write_file(bad, "# settings\nRELAYSYNC_DB=%s\n"
                           "DB=%s\n" % (s.db, s.db))
        sc.h.own()
        rc, out, _ = sc.cron.run(env_file=bad)
        expect(rc == 2 and bad in out and
               re.search(r"\bline 3\b|:3\b", out),
               "a settings file whose line 3 is bad: expected exit 2 and a "
               "message naming %s and line 3, got exit %s: %r"
               % (bad, rc, out))
        missing = s.env_file + ".missing"
        rc, out, _ = sc.cron.run(env_file=missing)
        expect(rc == 2 and missing in out,
               "a missing settings file: expected exit 2 and a message "
               "naming %s, got exit %s: %r" % (missing, rc, out))

        # What --help documents: the option, and the exit codes above.
        rc, out, _ = sc.cron.run(["--help"], env_file=False)
        expect(rc == 0 and "--env-file" in out and "Exit status" in out,
               "relaysync-worker --help: exit %s, expected --env-file and "
               "the exit status documented: %r" % (rc, out))

        # None of those delivered; the file does.
        time.sleep(0.3)
        expect_equal(len(sc.rx.requests), 0, "deliveries by the failed "
                     "runs")
        rc, out, _ = sc.cron.run()
        expect_quiet_ok(rc, out, "the run with --env-file")
        expect(sc.rx.wait_for(1, DELIVERY_WAIT),
               "the run with --env-file delivered nothing within %d s"
               % DELIVERY_WAIT)
