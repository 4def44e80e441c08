"""Backups (issue 18): `relaysync-admin backup FILE` taken from the run's
live database while a few threads create records through the real server
(no write fails, none waits long: the worst write latency while the
backup ran is measured against the one before it and bounded), then
`relaysync-admin restore FILE` into a fresh directory, served by a side
server of the run's kind: every record acknowledged before the backup
began is there, none asked for after it ended, `audit verify` and `check`
pass, and the counts agree with what the backup printed. `restore`
refuses while the run's pool has the database open, changing nothing;
`check` passes on the live database and on the backup; `backup` refuses
an existing file and the database's own files.

Every test name starts with "backup: " so that `run.py -k backup`
selects them. The CLI runs as the web server's user (Workspace.cli).
"""

import json
import os
import re
import secrets
import shutil
import threading
import time
import urllib.parse

import harness
from harness import Failure, expect, expect_equal, expect_json, test

LOAD_THREADS = 2          # writers during the backup (below the pool's 4)
WARM_S = 2.0              # load before the backup: the latency baseline
AFTER_S = 1.0             # load after it
WORST_WRITE_S = 1.0       # bound on any write's latency while it runs,
APACHE_STALL_S = 1.0      # plus, under Apache, one of mod_fcgid's stalls
                          # (README: "Apache: the one-second stalls"),
                          # which come with or without a backup
MIN_DURING = 3            # writes acknowledged while the backup ran, and
PACE = 0.3                # at least this share of those the pace before
                          # it would make: a backup that held writers
                          # would let none through, and one that made
                          # every checkpoint stall them (fixed: db.c's
                          # rs_db_checkpoint_due) let a tenth through
PAUSE_MS = 50             # backup --pause: the copy lasts ~3 s instead
                          # of ~0.3 s, long enough to measure the pace
BULK_BATCHES = 20         # the bulk that makes the backup take a while:
BULK_PER_BATCH = 14       # 14 records of ~60 KB a batch (1 MiB body)
BULK_DATA = 60000
CENSUS = ("orgs", "users", "keys", "records", "events", "audit",
          "webhooks", "jobs")
PAGE = 200


def btest(name, last=False, sqlite_only=None):
    return test("backup: " + name, last, sqlite_only)


def cli_ok(ws, args):
    rc, out, err = ws.cli(args)
    expect(rc == 0, "relaysync-admin %s: exit %d: %s%s"
           % (" ".join(args), rc, out, err))
    return out


def kv(out):
    """The "name value" lines of a backup command -> {name: value}."""
    got = {}
    for line in out.splitlines():
        parts = line.split(None, 1)
        if len(parts) == 2:
            got[parts[0]] = parts[1].strip()
    return got


def census(lines, what):
    """The row counts among LINES (kv) -> {name: int}."""
    try:
        return {n: int(lines[n]) for n in CENSUS}
    except (KeyError, ValueError):
        raise Failure("%s: no row counts in %r" % (what, lines))


class Org:
    """A fresh org with an admin key and its token on the run's server."""

    def __init__(self, ctx):
        self.org = cli_ok(ctx.workspace, [
            "org", "create", "backup-" + secrets.token_hex(3),
            "--rate-limit", "1000000"]).strip()
        out = cli_ok(ctx.workspace, [
            "key", "create", "--org", self.org, "--email",
            "admin-%s@example.com" % secrets.token_hex(3), "--role",
            "admin", "--json"])
        self.api_key = json.loads(out)["api_key"]
        self.tok = ctx.token_for(self.api_key)


def bulk(ctx, o):
    """Some MiB of records in O's org, so that the copy takes many steps."""
    payload = {"blob": "x" * BULK_DATA}
    for b in range(BULK_BATCHES):
        items = [{"method": "POST", "path": "/v1/records",
                  "body": {"title": "bulk %d.%d" % (b, i),
                           "type": "bulk", "data": payload}}
                 for i in range(BULK_PER_BATCH)]
        resp = ctx.call("POST", "/v1/batch", {"requests": items},
                        token=o.tok)
        body = expect_json(resp, 200)
        got = [r.get("status") for r in body.get("responses", [])]
        expect_equal(got, [201] * BULK_PER_BATCH, "bulk batch statuses",
                     resp)


class Load:
    """LOAD_THREADS threads creating records of TYPE in an org until
    stopped; each write kept as (started, answered, status, id, detail)."""

    def __init__(self, ctx, tok, rec_type):
        self.ctx, self.tok, self.type = ctx, tok, rec_type
        self.stop = threading.Event()
        self.writes = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(i,),
                                         daemon=True)
                        for i in range(LOAD_THREADS)]

    def run(self, n):
        i = 0
        while not self.stop.is_set():
            i += 1
            body = {"title": "load %d.%d" % (n, i), "type": self.type,
                    "data": {"thread": n, "i": i}}
            t0 = time.monotonic()
            try:
                resp = harness.http_call(self.ctx.port, "POST",
                                         "/v1/records", body, token=self.tok)
                status, detail = resp.status, ""
                rid = (resp.json() or {}).get("id") if status == 201 \
                    else None
                if status != 201:
                    detail = harness.show_bytes(resp.body)
            except Exception as e:  # noqa: counted as a failed write
                status, rid, detail = None, None, str(e)
            with self.lock:
                self.writes.append((t0, time.monotonic(), status, rid,
                                    detail))

    def start(self):
        for t in self.threads:
            t.start()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(harness.HTTP_TIMEOUT + 5)
        expect(not any(t.is_alive() for t in self.threads),
               "load threads did not stop")
        return list(self.writes)


def start_side(ctx, ws):
    """A server of the run's kind on WS (its database and secret in place)
    -> (server, port)."""
    port = harness.free_port()
    server = harness.SERVERS[ctx.server_name](
        ws, port, form=harness.APACHE_FORM,
        defines=[("RELAYSYNC_MAX_CONN_PER_IP", harness.RUN_MAX_CONN_PER_IP)])
    server.start()
    deadline = time.monotonic() + harness.START_TIMEOUT
    while time.monotonic() < deadline and server.running():
        try:
            if harness.http_call(port, "GET", "/v1/health",
                                 timeout=2).status == 200:
                return server, port
        except Failure:
            pass
        time.sleep(0.2)
    tail = " | ".join(harness.LogWatch(server.log_files()).tail()[-8:])
    server.stop()
    raise Failure("side server on the restored database not healthy: %s"
                  % tail)


def copy_secret(ctx, ws):
    """The run's secret into WS, as the database's user (mode 0600)."""
    src, dst = ctx.workspace.secret_file, ws.secret_file

    def work():
        shutil.copyfile(src, dst)
        os.chmod(dst, 0o600)
        return True
    harness.as_db_user(ctx, work)


def list_ids(port, tok, rec_type):
    """Every record id of REC_TYPE the server at PORT lists."""
    got, cursor = [], None
    for _ in range(1000):
        q = {"limit": PAGE, "type": rec_type}
        if cursor:
            q["cursor"] = cursor
        resp = harness.http_call(port, "GET", "/v1/records?" +
                                 urllib.parse.urlencode(q), token=tok)
        body = expect_json(resp, 200)
        got += [r["id"] for r in body["data"]]
        if not body["has_more"]:
            return got
        cursor = body["next_cursor"]
    raise Failure("the list of %s did not end" % rec_type)


def backup_path(ctx, label):
    return ctx.workspace.path("%s-%s.db" % (label, secrets.token_hex(3)))


def remove(path):
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            os.remove(path + suffix)
        except FileNotFoundError:
            pass


@btest("under load (2 threads creating records through the server), the "
       "CLI's backup succeeds, no write fails, writes keep their pace and "
       "none waits past 1 s (Apache: 2 s, mod_fcgid's stalls); "
       "restored into a fresh directory and served: every record "
       "acknowledged before it is there, none asked for after it, `audit "
       "verify` and `check` pass, the counts are the ones it printed",
       sqlite_only="backup and restore copy an SQLite database file; on "
       "PostgreSQL they refuse (pg_dump's work: the PostgreSQL test below)")
def under_load(ctx):
    o = Org(ctx)
    bulk(ctx, o)
    rec_type = "load-" + secrets.token_hex(3)
    path = backup_path(ctx, "under-load")
    load = Load(ctx, o.tok, rec_type)
    ws = harness.Workspace(ctx.prefix, ctx.workspace.run_as)
    server = None
    try:
        load.start()
        time.sleep(WARM_S)
        b0 = time.monotonic()
        rc, out, err = ctx.cli(["backup", path, "--pause", str(PAUSE_MS)])
        b1 = time.monotonic()
        time.sleep(AFTER_S)
        writes = load.finish()
        expect(rc == 0, "backup under load: exit %d: %s%s" % (rc, out, err))
        printed = kv(out)
        expect_equal(printed.get("backup"), path, "backup's backup line")
        expect(int(printed.get("pages", "0")) > 4 * 256,
               "backup: pages %r, more than 4 steps" % printed.get("pages"))
        expect_equal(int(printed.get("bytes", "0")), os.path.getsize(path),
                     "backup's bytes, the file's size")
        expect(not os.path.exists(path + "-wal"), "a -wal beside the backup")
        expect(not [f for f in os.listdir(ctx.workspace.dir)
                    if ".tmp-" in f], "a temporary file left")
        counts = census(printed, "backup's output")

        # the writes: none failed, none waited long, some ran meanwhile
        failed = [w for w in writes if w[2] != 201]
        expect(not failed, "%d of %d writes failed, e.g. %r"
               % (len(failed), len(writes), failed[:3]))
        before = [w[1] - w[0] for w in writes if w[1] < b0]
        during = [w[1] - w[0] for w in writes if w[1] > b0 and w[0] < b1]
        inside = [w for w in writes if w[0] >= b0 and w[1] <= b1]
        harness.diag(["backup took %.3f s (CLI), printed %s s; writes: "
                      "%d before (worst %.3f s), %d overlapping it (worst "
                      "%.3f s), %d inside it"
                      % (b1 - b0, printed.get("seconds"), len(before),
                         max(before or [0]), len(during),
                         max(during or [0]), len(inside))])
        expect(before, "no write before the backup")
        pace = len(before) / (b0 - min(w[0] for w in writes))
        want = max(MIN_DURING, int(PACE * pace * (b1 - b0)))
        expect(len(inside) >= want, "only %d writes acknowledged while "
               "the backup ran (%.3f s), at %.0f/s before it: at least %d "
               "expected" % (len(inside), b1 - b0, pace, want))
        bound = WORST_WRITE_S + (APACHE_STALL_S
                                 if ctx.server_name == "apache" else 0)
        expect(max(during) < bound, "a write waited %.3f s while the "
               "backup ran (bound %.1f s; before it: worst %.3f s)"
               % (max(during), bound, max(before)))

        # check on the live database and on the backup
        live = cli_ok(ctx.workspace, ["check"])
        expect(re.search(r"^integrity\s+ok$", live, re.M),
               "check (live): %r" % live)
        got = kv(cli_ok(ctx.workspace, ["check", path]))
        expect_equal(census(got, "check FILE"), counts,
                     "check FILE's counts, the backup's")

        # restored into a fresh directory, served
        copy_secret(ctx, ws)
        restored = kv(cli_ok(ws, ["restore", path]))
        expect_equal(restored.get("kept"), "-", "restore into a fresh "
                     "directory keeps nothing")
        expect_equal(census(restored, "restore's output"), counts,
                     "restore's counts, the backup's")
        got = kv(cli_ok(ws, ["check"]))
        expect_equal(census(got, "check (restored)"), counts,
                     "the restored database's counts, the backup's")
        out = cli_ok(ws, ["audit", "verify"])
        expect(out.strip() and all(l.endswith("intact")
                                   for l in out.strip().splitlines()),
               "audit verify on the restored database: %r" % out)
        server, port = start_side(ctx, ws)
        tok = expect_json(harness.http_call(
            port, "POST", "/v1/auth/token", {"api_key": o.api_key}),
            200)["access_token"]
        served = set(list_ids(port, tok, rec_type))
        acked = [w[3] for w in writes if w[1] < b0]
        later = [w[3] for w in writes if w[0] > b1]
        missing = [i for i in acked if i not in served]
        expect(not missing, "%d of %d records acknowledged before the "
               "backup are not in it, e.g. %r"
               % (len(missing), len(acked), missing[:3]))
        extra = [i for i in later if i in served]
        expect(not extra, "%d records asked for after the backup ended are "
               "in it, e.g. %r" % (len(extra), extra[:3]))
        expect_equal(len(list_ids(port, tok, "bulk")),
                     BULK_BATCHES * BULK_PER_BATCH, "bulk records served")
    finally:
        if not load.stop.is_set():
            load.finish()
        if server:
            server.stop()
        ws.remove()
        remove(path)


@btest("restore refuses while the run's pool has the database open (exit "
       "1, saying to stop the web server), and changes nothing; backup "
       "refuses an existing file and the database's own files; check "
       "passes on the live database and on a backup",
       sqlite_only="the database's files and their backup; on PostgreSQL "
       "backup and restore refuse (the PostgreSQL test below)")
def refusals(ctx):
    path = backup_path(ctx, "refusals")
    db = ctx.workspace.db
    try:
        out = cli_ok(ctx.workspace, ["backup", path])
        counts = census(kv(out), "backup's output")
        ino = os.stat(db).st_ino
        rc, out, err = ctx.cli(["restore", path])
        expect(rc == 1, "restore while the pool runs: exit %d: %s%s"
               % (rc, out, err))
        expect("in use" in err and "Stop the web server" in err,
               "restore's refusal says why and what to do: %r" % err)
        expect_equal(os.stat(db).st_ino, ino, "the run's database's inode")
        left = [f for f in os.listdir(os.path.dirname(db))
                if "before-restore" in f or ".restore-" in f]
        expect(not left, "restore refused but left %r" % left)
        expect_equal(ctx.call("GET", "/v1/health").status, 200,
                     "health after the refused restore")

        rc, out, err = ctx.cli(["backup", path])
        expect(rc == 1 and "--force" in err, "backup onto an existing "
               "file: exit %d: %s" % (rc, err))
        for name in (db, db + "-wal", db + "-shm"):
            rc, out, err = ctx.cli(["backup", "--force", name])
            expect(rc == 1 and "live database" in err,
                   "backup --force %s: exit %d: %s" % (name, rc, err))
        expect_equal(os.stat(db).st_ino, ino, "the run's database's inode")

        live = kv(cli_ok(ctx.workspace, ["check"]))
        for name, want in (("integrity", "ok"), ("foreign_keys", "ok")):
            expect_equal(live.get(name), want, "check (live) " + name)
        expect(re.match(r"^\d+ intact, \d+ entries$",
                        live.get("audit_chains", "")),
               "check (live) audit_chains: %r" % live.get("audit_chains"))
        got = kv(cli_ok(ctx.workspace, ["check", path]))
        expect_equal(census(got, "check FILE"), counts,
                     "check FILE's counts, the backup's")
    finally:
        remove(path)


if harness.is_pg():
    @btest("on PostgreSQL, backup and restore refuse (exit 1, naming "
           "pg_dump), making no file and changing nothing; check passes on "
           "the live database: the server's own integrity, every audit chain "
           "intact, the counts")
    def pg_refusals(ctx):
        path = backup_path(ctx, "pg")
        before = harness.db_contents(ctx)
        for args in (["backup", path], ["backup", "--force", path],
                     ["restore", path]):
            rc, out, err = ctx.cli(args)
            expect(rc == 1 and out == "" and "PostgreSQL" in err
                   and "pg_dump" in err, "%r: exit %d: %r %r"
                   % (args, rc, out, err))
            expect(not os.path.exists(path), "%r made %s" % (args, path))
        expect(not [f for f in os.listdir(ctx.workspace.dir)
                    if ".tmp-" in f or "before-restore" in f],
               "a file left in the workspace")
        expect_equal(harness.db_contents(ctx), before,
                     "the database after the refusals")
        expect_equal(ctx.call("GET", "/v1/health").status, 200,
                     "health after the refusals")
        live = kv(cli_ok(ctx.workspace, ["check"]))
        for name in ("integrity", "foreign_keys"):
            expect_equal(live.get(name), "the server's",
                         "check (live) " + name)
        m = re.match(r"^(\d+) intact, (\d+) entries$",
                     live.get("audit_chains", ""))
        expect(m and int(m.group(1)) >= 2,
               "check (live) audit_chains: %r" % live.get("audit_chains"))
        counts = census(live, "check (live)")
        rows, _ = harness.db_run(ctx, "SELECT count(*) FROM records")
        expect_equal(counts["records"], rows[0][0],
                     "check's records, the table's")


@btest("backup, restore and check: --help and help CMD print the same "
       "usage and explain every option; a missing or extra argument or an "
       "unknown option exits 2 with the usage on stderr, doing nothing")
def usage(ctx):
    for cmd, opts in (("backup", ["--force"]), ("restore", []),
                      ("check", [])):
        rc, out, err = ctx.cli([cmd, "--help"])
        expect(rc == 0 and out.startswith("usage: relaysync-admin " + cmd)
               and err == "", "%s --help: exit %d: %r %r"
               % (cmd, rc, out[:80], err))
        rc, again, _ = ctx.cli(["help", cmd])
        expect_equal(again, out, "help %s vs %s --help" % (cmd, cmd))
        for opt in opts:
            expect(re.search(r"(?m)^ +%s\b" % opt, out),
                   "%s --help does not explain %s" % (cmd, opt))
    names = set(os.listdir(ctx.workspace.dir))
    for args in (["backup"], ["backup", "a.db", "b.db"],
                 ["backup", "x.db", "--bogus"], ["restore"],
                 ["restore", "x.db", "--force"], ["check", "a.db", "b.db"],
                 ["check", "--json"]):
        rc, out, err = ctx.cli(args)
        expect(rc == 2 and out == "" and "usage: relaysync-admin" in err,
               "%r: exit %d: %r %r" % (args, rc, out, err))
    expect_equal(set(os.listdir(ctx.workspace.dir)), names,
                 "files in the workspace after the usage errors")
