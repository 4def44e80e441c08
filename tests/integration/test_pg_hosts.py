"""PostgreSQL only (issue 19): several hosts on one database, PostgreSQL
itself crashing under load, and an SQLite deployment moved over with
relaysync-admin copy. On an SQLite run each reports itself not
applicable.

Two hosts: two web servers of the run's kind, each with its own temp
dir, FastCGI pool, RELAYSYNC_STATE (rate limits' table, worker lock) and
RELAYSYNC_HOSTS=2, on one PostgreSQL database and one server secret, as
two machines behind a load balancer would be.
"""

import json
import os
import secrets
import shutil
import subprocess
import threading
import time

import harness
from harness import Failure, expect, expect_equal, expect_json, test
from receiver import Receiver

WRITERS = 8            # client threads, each alternating the two hosts
CREATES = 12           # records each writer makes
PATCHES = 3            # patches of each, alternating hosts
RETRY_STATUS = (500, 502, 503, 504)
CRASH_SECONDS = 12.0   # the load around PostgreSQL's crash
CRASH_AT = 4.0         # seconds into it
ANSWER_TIMEOUT = 60.0  # for a write to be answered, retries included
DELIVERY_WAIT = 20.0


def pg_test(name, last=False):
    return test("postgresql: " + name, last)


def pg_only():
    if not harness.is_pg():
        raise harness.NotApplicable("not applicable to SQLite: a test of "
                                    "the PostgreSQL backend")


def cli_ok(ws, args):
    rc, out, err = ws.cli(args)
    expect(rc == 0, "relaysync-admin %s: exit %d: %s%s"
           % (" ".join(args), rc, out, err))
    return out.strip()


class Host:
    """A web server of the run's kind on its own workspace, serving the
    database DB with the secret in SECRET_FILE (copied into it)."""

    def __init__(self, ctx, db, secret_file, hosts=2):
        self.ws = harness.Workspace(ctx.prefix, ctx.workspace.run_as)
        self.ws.db = db
        shutil.copyfile(secret_file, self.ws.secret_file)
        os.chmod(self.ws.secret_file, 0o600)
        if ctx.workspace.run_as:
            harness.chown_tree(self.ws.dir, ctx.workspace.run_as)
        self.port = harness.free_port()
        cls = harness.SERVERS[ctx.server_name]
        self.server = cls(self.ws, self.port, form=harness.APACHE_FORM,
                          defines=[("RELAYSYNC_MAX_CONN_PER_IP",
                                    harness.RUN_MAX_CONN_PER_IP),
                                   ("RELAYSYNC_HOSTS", str(hosts))],
                          app_env={"RELAYSYNC_HOSTS": str(hosts)})
        ctx.logs.files = ctx.logs.files + self.server.log_files()
        self.server.start()
        harness.at_teardown(self.stop)
        harness.wait_healthy(
            lambda t: harness.http_call(self.port, "GET", "/v1/health",
                                        timeout=t),
            self.server.running, "host on port %d" % self.port,
            lambda: " | ".join(harness.LogWatch(
                self.server.log_files()).tail()[-8:]))

    def call(self, method, path, body=None, headers=None, token=None):
        return harness.http_call(self.port, method, path, body, headers,
                                 token)

    def stop(self):
        if self.server is not None:
            self.server.stop()
            self.server = None
            self.ws.remove()


def two_hosts(ctx):
    """Host A and B on the run's database (its org "demo"), each with
    RELAYSYNC_HOSTS=2."""
    a = Host(ctx, ctx.workspace.db, ctx.workspace.secret_file)
    b = Host(ctx, ctx.workspace.db, ctx.workspace.secret_file)
    return a, b


def token(host, key):
    resp = host.call("POST", "/v1/auth/token", {"api_key": key})
    return expect_json(resp, 200)["access_token"]


def retry_again(resp):
    """Whether a client sends RESP's request again, unchanged with its
    key: no answer from the program (a 5xx), or 409
    idempotency_in_progress (its write could not begin: Retry-After)."""
    if resp.status in RETRY_STATUS:
        return True
    return resp.status == 409 and b'"idempotency_in_progress"' in resp.body


def answered(call, what):
    """CALL() until it is answered by the program (retry_again: sent
    again, unchanged, as the writes carry their key) -> the Response."""
    deadline = time.monotonic() + ANSWER_TIMEOUT
    while True:
        try:
            resp = call()
            if not retry_again(resp):
                return resp
        except Failure:
            pass
        if time.monotonic() >= deadline:
            raise Failure("%s: not answered within %d s" % (what,
                                                           ANSWER_TIMEOUT))
        time.sleep(0.1)


@pg_test("two hosts: concurrent creates and patches from both, with keys: "
         "every record once, every version once, replays across hosts")
def hosts_writes(ctx):
    pg_only()
    a, b = two_hosts(ctx)
    hosts = (a, b)
    toks = (token(a, ctx.admin_key), token(b, ctx.admin_key))
    made, errors = [], []
    lock = threading.Lock()

    def writer(n):
        try:
            for i in range(CREATES):
                h = (n + i) % 2
                key = "pg-%d-%d-%s" % (n, i, secrets.token_hex(4))
                body = {"title": "w%d r%d" % (n, i), "type": "pg-hosts"}
                hdr = {"Idempotency-Key": key}
                resp = answered(lambda: hosts[h].call(
                    "POST", "/v1/records", body, hdr, toks[h]), "create")
                rec = expect_json(resp, 201)
                # the same request on the other host: the first answer
                again = answered(lambda: hosts[1 - h].call(
                    "POST", "/v1/records", body, hdr, toks[1 - h]),
                    "replay")
                expect_equal(again.status, 201, "replay status", again)
                expect_equal(again.headers.get("Idempotent-Replayed"),
                             "true", "replayed on the other host", again)
                expect_equal(json.loads(again.body), rec,
                             "the replay's body", again)
                for p in range(PATCHES):
                    h = (h + 1) % 2
                    resp = answered(lambda: hosts[h].call(
                        "PATCH", "/v1/records/" + rec["id"],
                        {"title": "w%d r%d p%d" % (n, i, p),
                         "causal": rec["causal"]},
                        {"Idempotency-Key": key + "-p%d" % p}, toks[h]),
                        "patch")
                    rec = expect_json(resp, 200)
                with lock:
                    made.append(rec)
        except Exception as e:  # noqa: reported below
            with lock:
                errors.append("writer %d: %s" % (n, e))

    threads = [threading.Thread(target=writer, args=(n,))
               for n in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(ANSWER_TIMEOUT * 4)
    expect(not errors, "; ".join(errors[:5]))
    expect_equal(len(made), WRITERS * CREATES, "records made")
    rows, _ = harness.db_run(
        ctx, "SELECT id, version, title FROM records WHERE type = ?",
        ("pg-hosts",))
    got = {r[0]: (r[1], r[2]) for r in rows}
    expect_equal(len(rows), WRITERS * CREATES,
                 "rows (none lost, none twice)")
    for rec in made:
        expect_equal(got.get(rec["id"]), (rec["version"], rec["title"]),
                     "record %s as its last answer" % rec["id"])
        expect_equal(rec["version"], PATCHES + 1, "versions of " + rec["id"])
    rows, _ = harness.db_run(
        ctx, "SELECT count(*), count(DISTINCT change_seq) FROM records "
        "WHERE org_id = ?", (ctx.org_id,))
    expect_equal(rows[0][0], rows[0][1],
                 "change numbers of the org (each once)")


@pg_test("two hosts: a worker on each delivers each webhook event once")
def hosts_workers(ctx):
    pg_only()
    a, b = two_hosts(ctx)
    org = cli_ok(ctx.workspace, ["org", "create", "pg-hooks-%s"
                                 % secrets.token_hex(3)])
    key = json.loads(cli_ok(ctx.workspace, [
        "key", "create", "--org", org, "--email", "hooks@example.com",
        "--role", "admin", "--json"]))["api_key"]
    tok = token(a, key)
    n = 40
    with Receiver() as rx:
        rx.answer(200, delay=0.02)
        resp = a.call("POST", "/v1/webhooks",
                      {"url": rx.url("/hook"),
                       "events": ["record.created"]}, token=tok)
        expect_json(resp, 201)
        for i in range(n):
            h = (a, b)[i % 2]
            expect_json(h.call("POST", "/v1/records",
                               {"title": "hook %d" % i, "type": "pg"},
                               {"Idempotency-Key": "hk-%d" % i}, tok), 201)
        results = harness.run_parallel(
            [lambda: a.ws.worker(["--once"]),
             lambda: b.ws.worker(["--once"])],
            harness.WORKER_TIMEOUT + 10)
        for i, (res, exc) in enumerate(results):
            if exc is not None:
                raise exc
            rc, out, err, _ = res
            expect_equal(rc, 0, "worker %d exit (stderr %r)" % (i, err))
        rx.wait_for(n, DELIVERY_WAIT)
        time.sleep(0.5)   # a duplicate would come now
        ids = [r.header("webhook-id") for r in rx.requests]
        expect_equal(len(ids), n, "deliveries")
        expect_equal(len(set(ids)), n, "distinct events delivered")
        rows, _ = harness.db_run(
            ctx, "SELECT count(*) FROM jobs j JOIN webhooks w ON "
            "w.seq = j.webhook_seq WHERE w.org_id = ? AND "
            "j.state = 'succeeded'", (org,))
        expect_equal(rows[0][0], n, "jobs succeeded")


@pg_test("two hosts: each enforces its share of an org's rate limit "
         "(RELAYSYNC_HOSTS=2), and a key revoked on one stops on the other "
         "within a second")
def hosts_limits(ctx):
    pg_only()
    a, b = two_hosts(ctx)
    org = cli_ok(ctx.workspace, ["org", "create", "pg-rate-%s"
                                 % secrets.token_hex(3), "--rate-limit",
                                 "20"])
    out = json.loads(cli_ok(ctx.workspace, [
        "key", "create", "--org", org, "--email", "rate@example.com",
        "--role", "admin", "--json"]))
    tok_a, tok_b = token(a, out["api_key"]), token(b, out["api_key"])
    resp = a.call("GET", "/v1/me", token=tok_a)
    expect_json(resp, 200)
    expect_equal(resp.headers.get("RateLimit-Limit"), "10",
                 "host A's share of 20 requests/s")
    codes = [a.call("GET", "/v1/me", token=tok_a).status for _ in range(30)]
    expect(429 in codes, "host A never limited the org: %r" % codes)
    expect(codes.count(200) <= 12, "host A let %d of 30 through (its "
           "share is 10/s)" % codes.count(200))
    expect_json(b.call("GET", "/v1/me", token=tok_b), 200)
    cli_ok(ctx.workspace, ["key", "revoke", out["key_id"]])
    deadline = time.monotonic() + 2.0
    while True:
        st = b.call("GET", "/v1/me", token=tok_b).status
        if st == 401:
            break
        expect(time.monotonic() < deadline, "host B still took the "
               "revoked key's token after 2 s (status %d)" % st)
        time.sleep(0.1)


def cluster_dir():
    """The throwaway cluster's directory (tests/pg/cluster puts its
    socket there), or a Failure when the run's cluster is not one."""
    host = (harness.PG_CLUSTER or {}).get("host", "")
    expect(host.startswith("/") and os.path.isdir(os.path.join(host,
                                                                "data")),
           "the run's PostgreSQL (%r) is not a tests/pg/cluster one: "
           "cannot crash it" % host)
    return host


@pg_test("a crash of PostgreSQL under load: the answers in flight are "
         "503, the pool reconnects, every acknowledged write is there "
         "once, every retry with its key replays", last=True)
def pg_crash(ctx):
    pg_only()
    top = cluster_dir()
    root = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    tok = ctx.token_for(ctx.admin_key)
    done, errors, statuses = [], [], []
    lock = threading.Lock()
    stop = time.monotonic() + CRASH_SECONDS

    def client(n):
        i = 0
        try:
            while time.monotonic() < stop:
                key = "crash-%d-%d-%s" % (n, i, secrets.token_hex(4))
                body = {"title": "c%d-%d" % (n, i), "type": "pg-crash"}
                deadline = time.monotonic() + ANSWER_TIMEOUT
                while True:
                    try:
                        resp = ctx.call("POST", "/v1/records", body,
                                        {"Idempotency-Key": key}, tok)
                        with lock:
                            statuses.append(resp.status)
                        if not retry_again(resp):
                            break
                    except Failure:
                        with lock:
                            statuses.append(0)
                    expect(time.monotonic() < deadline,
                           "create %s unanswered" % key)
                    time.sleep(0.1)
                rec = expect_json(resp, 201)
                with lock:
                    done.append((key, body, rec))
                i += 1
        except Exception as e:  # noqa: reported below
            with lock:
                errors.append("client %d: %s" % (n, e))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    time.sleep(CRASH_AT)
    crash = subprocess.run([os.path.join(root, "tests/pg/cluster"), "crash",
                            top], capture_output=True, timeout=120)
    expect(crash.returncode == 0, "tests/pg/cluster crash: %s"
           % crash.stderr.decode("utf-8", "replace"))
    for t in threads:
        t.join(ANSWER_TIMEOUT * 2)
    expect(not errors, "; ".join(errors[:5]))
    expect(500 not in statuses and 502 not in statuses,
           "a request met the crash with a 500 or 502 (statuses seen: %r), "
           "not 503 or 409 idempotency_in_progress" % sorted(set(statuses)))
    expect(503 in statuses or 409 in statuses or 0 in statuses,
           "no request met the crash "
           "(statuses seen: %r): the test proved nothing" % sorted(
               set(statuses)))
    rows, _ = harness.db_run(
        ctx, "SELECT id FROM records WHERE type = ?", ("pg-crash",))
    ids = [r[0] for r in rows]
    expect_equal(len(ids), len(set(ids)), "distinct rows")
    acked = set(r["id"] for _, _, r in done)
    lost, extra = acked - set(ids), set(ids) - acked
    expect(not lost and not extra, "%d creates answered 201 are missing "
           "(%s), %d rows no client was answered (%s)"
           % (len(lost), sorted(lost)[:5], len(extra), sorted(extra)[:5]))
    for key, body, rec in done:
        resp = ctx.call("POST", "/v1/records", body,
                        {"Idempotency-Key": key}, tok)
        expect_equal((resp.status, resp.headers.get("Idempotent-Replayed")),
                     (201, "true"), "replay of %s" % key, resp)
        expect_equal(json.loads(resp.body), rec, "replayed body", resp)
    rc, out, err = ctx.cli(["audit", "verify"])
    expect(rc == 0, "audit verify after the crash: %s%s" % (out, err))


def collect(host, tok, path):
    """Every item of a list route, following next cursors."""
    items, url = [], path
    while url:
        body = expect_json(host.call("GET", url, token=tok), 200)
        items += body["data"]
        nxt = body.get("next_cursor")
        url = None if not nxt else path + ("&" if "?" in path else "?") + \
            "cursor=" + nxt
    return items


@pg_test("relaysync-admin copy: a filled SQLite deployment moved to "
         "PostgreSQL serves the same records, history, conflicts, audit "
         "log and keys, replays its Idempotency-Keys, verifies its audit "
         "chains, and goes on numbering")
def copy_from_sqlite(ctx):
    pg_only()
    src = Host.__new__(Host)
    src.ws = harness.Workspace(ctx.prefix, ctx.workspace.run_as, sqlite=True)
    harness.at_teardown(lambda: src.ws.remove())
    cli_ok(src.ws, ["init"])
    org = cli_ok(src.ws, ["org", "create", "moving"])
    key = json.loads(cli_ok(src.ws, [
        "key", "create", "--org", org, "--email", "move@example.com",
        "--role", "admin", "--json"]))["api_key"]
    src.port = harness.free_port()
    src.server = harness.SERVERS[ctx.server_name](
        src.ws, src.port, form=harness.APACHE_FORM,
        defines=[("RELAYSYNC_MAX_CONN_PER_IP", harness.RUN_MAX_CONN_PER_IP)])
    src.server.start()
    harness.at_teardown(lambda: src.server and src.server.stop())
    harness.wait_healthy(
        lambda t: harness.http_call(src.port, "GET", "/v1/health",
                                    timeout=t),
        src.server.running, "SQLite source", lambda: "")
    tok = token(src, key)
    keyed = []
    recs = []
    for i in range(30):
        body = {"title": "moved %d" % i, "type": "move",
                "data": {"n": i}}
        hdr = {"Idempotency-Key": "move-%d" % i}
        rec = expect_json(src.call("POST", "/v1/records", body, hdr, tok),
                          201)
        keyed.append((body, hdr, rec))
        recs.append(rec)
    for rec in recs[:10]:
        expect_json(src.call("PATCH", "/v1/records/" + rec["id"],
                             {"title": rec["title"] + "!",
                              "causal": rec["causal"]}, token=tok), 200)
    stale = src.call("PATCH", "/v1/records/" + recs[0]["id"],
                     {"title": "stale", "causal": recs[0]["causal"]},
                     token=tok)
    expect(stale.status in (409, 412), "a stale patch: %d" % stale.status)
    for rec in recs[20:25]:
        expect_json(src.call("DELETE", "/v1/records/" + rec["id"],
                             token=tok), 200)
    before = {
        "records": collect(src, tok, "/v1/records?limit=7"),
        "conflicts": collect(src, tok, "/v1/conflicts?limit=5"),
        "audit": collect(src, tok, "/v1/audit?limit=9"),
        "history": collect(src, tok, "/v1/records/%s/history"
                           % recs[1]["id"]),
    }
    src.server.stop()
    src.server = None

    dst_ws = harness.Workspace(ctx.prefix, ctx.workspace.run_as)
    harness.at_teardown(lambda: dst_ws.remove())
    rc, out, err = dst_ws.cli(["copy", "--from", src.ws.db, "--to",
                               dst_ws.db])
    expect(rc == 0, "copy: exit %d: %s%s" % (rc, out, err))
    lines = dict(line.split(None, 1) for line in out.splitlines())
    expect_equal(lines.get("records"), "30", "records copied")
    expect(lines.get("audit_chains", "").endswith("entries") and
           lines["audit_chains"].startswith("1 intact"),
           "copy's audit check: %r" % lines.get("audit_chains"))
    # Statistics gathered: a planner that still saw empty tables would
    # answer a list page by walking and sorting the whole org.
    con = harness.pg_connect(dst_ws.db, readonly=True)
    try:
        cur = con.cursor()
        cur.execute("SELECT count(*) FROM pg_stat_user_tables WHERE "
                    "relname IN ('records', 'audit', 'events') AND "
                    "last_analyze IS NOT NULL")
        analyzed = cur.fetchone()[0]
    finally:
        con.close()
    expect_equal(analyzed, 3, "tables analyzed by the copy")
    rc, out, err = dst_ws.cli(["copy", "--from", src.ws.db, "--to",
                               dst_ws.db])
    expect(rc != 0 and "holds 1 orgs" in err,
           "a second copy into the filled target is refused: %s%s"
           % (out, err))
    rc, out, err = dst_ws.cli(["audit", "verify"])
    expect(rc == 0, "audit verify on the target: %s%s" % (out, err))

    # The target served with the source's secret: same keys, tokens,
    # cursors.
    dst = Host(ctx, dst_ws.db, src.ws.secret_file, hosts=1)
    tok2 = token(dst, key)
    after = {
        "records": collect(dst, tok2, "/v1/records?limit=7"),
        "conflicts": collect(dst, tok2, "/v1/conflicts?limit=5"),
        "audit": collect(dst, tok2, "/v1/audit?limit=9"),
        "history": collect(dst, tok2, "/v1/records/%s/history"
                           % recs[1]["id"]),
    }
    # The target's own token exchange is its first new entry.
    n = len(before["audit"])
    expect_equal([e["action"] for e in after["audit"][n:]],
                 ["token.issue"], "the target's new audit entries")
    after["audit"] = after["audit"][:n]
    for what in before:
        expect_equal(after[what], before[what], what + " after the copy")
    for body, hdr, rec in keyed[:5]:
        resp = dst.call("POST", "/v1/records", body, hdr, tok2)
        expect_equal((resp.status, resp.headers.get("Idempotent-Replayed")),
                     (201, "true"), "a key kept on SQLite replays", resp)
    new = expect_json(dst.call("POST", "/v1/records",
                               {"title": "after", "type": "move"},
                               {"Idempotency-Key": "move-new"}, tok2), 201)
    expect(new["id"] not in [r["id"] for r in recs], "a new id")
    org2 = cli_ok(dst_ws, ["org", "create", "after-copy"])
    expect(org2 != org, "a new org on the target")
    rc, out, err = dst_ws.cli(["audit", "verify"])
    expect(rc == 0, "audit verify after new writes: %s%s" % (out, err))


@pg_test("a pool started while PostgreSQL is down answers 503, then "
         "serves within seconds of the database coming back", last=True)
def pg_down_at_start(ctx):
    pg_only()
    top = cluster_dir()
    root = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    cluster = os.path.join(root, "tests/pg/cluster")
    tok = ctx.token_for(ctx.admin_key)
    ws = harness.Workspace(ctx.prefix, ctx.workspace.run_as)
    harness.at_teardown(ws.remove)
    ws.db = ctx.workspace.db
    shutil.copyfile(ctx.workspace.secret_file, ws.secret_file)
    done = subprocess.run([cluster, "stop", top], capture_output=True,
                          timeout=120)
    expect(done.returncode == 0, "tests/pg/cluster stop: %s"
           % done.stderr.decode("utf-8", "replace"))
    try:
        port = harness.free_port()
        server = harness.SERVERS[ctx.server_name](
            ws, port, form=harness.APACHE_FORM,
            defines=[("RELAYSYNC_MAX_CONN_PER_IP",
                      harness.RUN_MAX_CONN_PER_IP)])
        ctx.logs.files = ctx.logs.files + server.log_files()
        server.start()
        harness.at_teardown(server.stop)
        deadline = time.monotonic() + harness.START_TIMEOUT
        while True:
            try:
                resp = harness.http_call(port, "GET", "/v1/me", token=tok)
                break
            except Failure:
                expect(time.monotonic() < deadline, "the pool never "
                       "answered while the database was down")
                time.sleep(0.2)
        expect_equal(resp.status, 503, "an answer while the database is "
                     "down", resp)
    finally:
        done = subprocess.run([cluster, "start", top], capture_output=True,
                              timeout=120)
        expect(done.returncode == 0, "tests/pg/cluster start: %s"
               % done.stderr.decode("utf-8", "replace"))
    deadline = time.monotonic() + 10.0
    while True:
        resp = harness.http_call(port, "GET", "/v1/me", token=tok)
        if resp.status == 200:
            break
        expect(time.monotonic() < deadline, "still %d 10 s after the "
               "database came back (the pool's processes never tried "
               "again)" % resp.status)
        time.sleep(0.2)
