"""relaysync-admin and relaysync-worker as an operator meets them: what key
create prints, the listings, help and usage errors, init naming a missing
directory, and a worker that exits non-zero when it cannot write the
database (README: Deploying, Cron, relaysync-admin)."""

import json
import os
import pwd
import re
import secrets
import shutil
import sqlite3
import subprocess
import tempfile

import harness
from harness import expect, expect_equal, expect_json, expect_match, test

CLI_TIMEOUT = 30
KEY_MEMBERS = {"key_id", "api_key", "org_id", "user_id", "email", "role"}
ORG_ROW = {"id", "name", "rate_limit", "users", "keys", "created_at"}
KEY_ROW = {"id", "org_id", "user_id", "email", "role", "created_at",
           "revoked_at"}
USER_ROW = {"id", "email", "role", "status", "last_sync_at", "created_at"}
COMMANDS = ["init", "migrate", "org", "org create", "org set-rate-limit",
            "org list", "key",
            "key create", "key list", "key revoke", "user", "user list",
            "stats"]


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def cli_ok(ctx, args):
    rc, out, err = ctx.cli(args)
    expect(rc == 0, "relaysync-admin %s: exit %d: %s%s"
           % (" ".join(args), rc, out, err))
    return out


def cli_json(ctx, args):
    out = cli_ok(ctx, args + ["--json"])
    try:
        return json.loads(out)
    except ValueError as e:
        expect(False, "relaysync-admin %s --json: not JSON (%s): %r"
               % (" ".join(args), e, out))


def labelled(out):
    """The "name value" lines of key create -> [(name, value)]."""
    pairs = []
    for line in out.splitlines():
        m = re.match(r"^([a-z_]+) +(\S.*)$", line)
        expect(m, "not a \"name value\" line: %r in %r" % (line, out))
        pairs.append((m.group(1), m.group(2)))
    return pairs


def fresh_org(ctx, label):
    name = "%s-%s" % (label, secrets.token_hex(3))
    return cli_ok(ctx, ["org", "create", name]).strip(), name


def exchange(ctx, key):
    return ctx.call("POST", "/v1/auth/token", {"api_key": key})


def table(out, first_column="ID"):
    """A listing's table -> (header words, rows as lists of words)."""
    lines = out.splitlines()
    expect(lines, "empty table")
    header = lines[0].split()
    expect_equal(header[0] if header else None, first_column,
                 "first header word (table: %r)" % out)
    return header, [l.split() for l in lines[1:]]


def run_as_argv(user, argv):
    """ARGV run as USER (None: as this process)."""
    if user is None or pwd.getpwuid(os.geteuid()).pw_name == user:
        return argv
    return ["runuser", "-u", user, "--"] + argv


def run(argv, env, user=None):
    done = subprocess.run(run_as_argv(user, argv), env=env,
                          stdin=subprocess.DEVNULL, capture_output=True,
                          timeout=CLI_TIMEOUT)
    return (done.returncode, done.stdout.decode("utf-8", "replace"),
            done.stderr.decode("utf-8", "replace"))


def state_env(ctx, var):
    """The settings of an installation whose files are in VAR: its
    database var/relaysync.db, or on PostgreSQL a database of the
    cluster that does not exist (none is made: these tests expect
    failures) with its host files named var/relaysync (RELAYSYNC_STATE)."""
    env = dict(os.environ)
    if harness.is_pg():
        env["RELAYSYNC_DB"] = harness.pg_uri(harness.PG_DB_PREFIX + "none")
        env["RELAYSYNC_STATE"] = os.path.join(var, "relaysync")
    else:
        env["RELAYSYNC_DB"] = os.path.join(var, "relaysync.db")
    env["RELAYSYNC_SECRET_FILE"] = os.path.join(var, "relaysync.key")
    return env


def admin(ctx):
    return os.path.join(ctx.prefix, "bin", "relaysync-admin")


def worker(ctx):
    return os.path.join(ctx.prefix, "bin", "relaysync-worker")


def scratch_dir():
    d = tempfile.mkdtemp(prefix="relaysync-cli.")
    os.chmod(d, 0o755)
    return d


# --------------------------------------------------------------------------
# key create
# --------------------------------------------------------------------------

@test("cli: key create prints key_id and api_key as name-value lines; "
      "the key works and its key_id revokes it")
def cli_key_create_labelled(ctx):
    email = "cli-%s@example.com" % secrets.token_hex(3)
    out = cli_ok(ctx, ["key", "create", "--org", ctx.org_id, "--email",
                       email, "--role", "operator"])
    pairs = labelled(out)
    expect_equal([n for n, _ in pairs][:2], ["key_id", "api_key"],
                 "first two names (output %r)" % out)
    got = dict(pairs)
    expect_equal(set(got), KEY_MEMBERS, "names printed")
    expect_match(r"^key_\S+$", got["key_id"], "key_id")
    expect_match(r"^rs_live_\S+$", got["api_key"], "api_key")
    expect_match(r"^usr_\S+$", got["user_id"], "user_id")
    expect_equal(got["org_id"], ctx.org_id, "org_id")
    expect_equal(got["email"], email, "email")
    expect_equal(got["role"], "operator", "role")
    token = ctx.token_for(got["api_key"])
    me = expect_json(ctx.call("GET", "/v1/me", token=token), 200)
    expect_equal(me.get("key_id"), got["key_id"], "/v1/me key_id")
    cli_ok(ctx, ["key", "revoke", got["key_id"]])
    resp = exchange(ctx, got["api_key"])
    expect_equal(resp.status, 401, "exchange after key revoke", resp)


@test("cli: key create --json prints one object with key_id, api_key, "
      "org_id, user_id, email, role")
def cli_key_create_json(ctx):
    email = "cli-json-%s@example.com" % secrets.token_hex(3)
    got = cli_json(ctx, ["key", "create", "--org", ctx.org_id, "--email",
                         email, "--role", "viewer"])
    expect(isinstance(got, dict), "not an object: %r" % got)
    expect_equal(set(got), KEY_MEMBERS, "members")
    expect_match(r"^key_\S+$", got["key_id"], "key_id")
    expect_match(r"^rs_live_\S+$", got["api_key"], "api_key")
    expect_equal((got["org_id"], got["email"], got["role"]),
                 (ctx.org_id, email, "viewer"), "org_id, email, role")
    token = ctx.token_for(got["api_key"])
    me = expect_json(ctx.call("GET", "/v1/me", token=token), 200)
    expect_equal(me.get("key_id"), got["key_id"], "/v1/me key_id")
    cli_ok(ctx, ["key", "revoke", got["key_id"]])
    expect_equal(exchange(ctx, got["api_key"]).status, 401,
                 "exchange after key revoke")


@test("cli: org create --json prints org_id, name and rate_limit")
def cli_org_create_json(ctx):
    name = "cli-json-%s" % secrets.token_hex(3)
    got = cli_json(ctx, ["org", "create", name, "--rate-limit", "7"])
    expect_equal(set(got), {"org_id", "name", "rate_limit"}, "members")
    expect_match(r"^org_\S+$", got["org_id"], "org_id")
    expect_equal((got["name"], got["rate_limit"]), (name, 7),
                 "name, rate_limit")


# --------------------------------------------------------------------------
# listings
# --------------------------------------------------------------------------

@test("cli: org list: a table with a header and the orgs made; --json an array")
def cli_org_list(ctx):
    org, name = fresh_org(ctx, "cli-list")
    header, rows = table(cli_ok(ctx, ["org", "list"]))
    expect_equal(header, ["ID", "CREATED", "RATE", "USERS", "KEYS", "NAME"],
                 "header")
    ids = [r[0] for r in rows]
    expect(org in ids and ctx.org_id in ids and ctx.org_b_id in ids,
           "orgs missing from the table: %r" % ids)
    mine = rows[ids.index(org)]
    expect_equal((mine[-1], mine[2:5]), (name, ["120", "0", "0"]),
                 "the new org's row")
    got = cli_json(ctx, ["org", "list"])
    expect(isinstance(got, list), "not an array: %r" % got)
    for o in got:
        expect_equal(set(o), ORG_ROW, "members of %r" % o)
    byid = {o["id"]: o for o in got}
    expect_equal(byid.get(org, {}).get("name"), name, "the new org's name")
    expect(byid.get(ctx.org_id, {}).get("keys", 0) >= 1,
           "demo org has no live key: %r" % byid.get(ctx.org_id))


@test("cli: key list: ids, org, email, role, created, revoked; never a key "
      "or its hash")
def cli_key_list(ctx):
    org, _ = fresh_org(ctx, "cli-keys")
    made = [cli_json(ctx, ["key", "create", "--org", org, "--email",
                           "k%d@example.com" % i, "--role", role])
            for i, role in enumerate(["admin", "viewer"])]
    cli_ok(ctx, ["key", "revoke", made[1]["key_id"]])
    out = cli_ok(ctx, ["key", "list", "--org", org])
    header, rows = table(out)
    expect_equal(header, ["ID", "ORG", "ROLE", "CREATED", "REVOKED",
                          "EMAIL"], "header")
    expect_equal([(r[0], r[1], r[2], r[-1]) for r in rows],
                 [(m["key_id"], org, m["role"], m["email"]) for m in made],
                 "rows (id, org, role, email)")
    expect_equal(rows[0][4], "-", "REVOKED of the live key")
    expect_match(r"^\d{4}-\d\d-\d\dT", rows[1][4], "REVOKED of the revoked")
    got = cli_json(ctx, ["key", "list", "--org", org])
    expect_equal([k["id"] for k in got], [m["key_id"] for m in made],
                 "JSON ids")
    for k in got:
        expect_equal(set(k), KEY_ROW, "members of %r" % k)
    expect(got[0]["revoked_at"] is None and got[1]["revoked_at"],
           "revoked_at: %r" % [k["revoked_at"] for k in got])
    expect(not re.search(r"[0-9a-fA-F]{32}|[A-Za-z0-9_-]{40}",
                         out + json.dumps(got)),
           "something like a hash printed: %r" % out)
    everything = cli_ok(ctx, ["key", "list"]) + \
        cli_ok(ctx, ["key", "list", "--json"])
    for m in made:
        expect(m["api_key"] not in everything, "a key was printed")
    expect("rs_live_" not in everything, "something like a key printed")
    expect(ctx.org_id in everything and ctx.org_b_id in everything,
           "key list without --org misses an org")


@test("cli: user list --org: a table with a header and the users; --json an "
      "array of users")
def cli_user_list(ctx):
    org, _ = fresh_org(ctx, "cli-users")
    emails = ["u%d-%s@example.com" % (i, secrets.token_hex(2))
              for i in range(2)]
    for email, role in zip(emails, ["admin", "operator"]):
        cli_ok(ctx, ["key", "create", "--org", org, "--email", email,
                     "--role", role])
    header, rows = table(cli_ok(ctx, ["user", "list", "--org", org]))
    expect_equal(header, ["ID", "ROLE", "STATUS", "LAST_SYNC", "CREATED",
                          "EMAIL"], "header")
    expect_equal([(r[1], r[2], r[3], r[-1]) for r in rows],
                 [("admin", "active", "-", emails[0]),
                  ("operator", "active", "-", emails[1])],
                 "rows (role, status, last sync, email)")
    got = cli_json(ctx, ["user", "list", "--org", org])
    for u in got:
        expect_equal(set(u), USER_ROW, "members of %r" % u)
    expect_equal([(u["email"], u["role"], u["status"], u["last_sync_at"])
                  for u in got],
                 [(emails[0], "admin", "active", None),
                  (emails[1], "operator", "active", None)], "users")
    expect_equal([u["id"] for u in got], [r[0] for r in rows],
                 "ids of table and JSON")


@test("cli: an empty listing: a header alone, or []")
def cli_list_empty(ctx):
    org, _ = fresh_org(ctx, "cli-empty")
    header, rows = table(cli_ok(ctx, ["user", "list", "--org", org]))
    expect_equal((header[-1], rows), ("EMAIL", []), "last header, rows")
    expect_equal(cli_json(ctx, ["key", "list", "--org", org]), [], "JSON")


@test("cli: key list and user list of an unknown org exit 1 naming it")
def cli_list_unknown_org(ctx):
    for args in (["key", "list", "--org", "org_nosuchorg"],
                 ["user", "list", "--org", "org_nosuchorg"],
                 ["user", "list", "--org", "org_nosuchorg", "--json"]):
        rc, out, err = ctx.cli(args)
        expect_equal(rc, 1, "exit of %s" % " ".join(args))
        expect_equal(out, "", "stdout of %s" % " ".join(args))
        expect("org_nosuchorg" in err and "no such org" in err,
               "stderr of %s: %r" % (" ".join(args), err))


# --------------------------------------------------------------------------
# help and usage
# --------------------------------------------------------------------------

@test("cli: CMD --help and help CMD: exit 0, the same text, one usage format")
def cli_help_every_command(ctx):
    for cmd in COMMANDS:
        words = cmd.split()
        rc, out, err = ctx.cli(words + ["--help"])
        expect_equal(rc, 0, "exit of %s --help (stderr %r)" % (cmd, err))
        expect(out.startswith("usage: relaysync-admin " + cmd),
               "%s --help starts %r" % (cmd, out[:80]))
        expect_equal(err, "", "stderr of %s --help" % cmd)
        rc, again, _ = ctx.cli(["help"] + words)
        expect_equal(rc, 0, "exit of help %s" % cmd)
        expect_equal(again, out, "help %s vs %s --help" % (cmd, cmd))
        usage = [l for l in out.splitlines() if l.startswith(
            ("usage: relaysync-admin ", "       relaysync-admin "))]
        for line in usage:
            for opt in re.findall(r"--[a-z-]+", line):
                expect(re.search(r"(?m)^ +%s\b" % opt, out),
                       "%s --help does not explain %s" % (cmd, opt))
        expect("-h, --help" in out, "%s --help does not list --help" % cmd)
    for argv in (["--help"], ["-h"], ["help"]):
        rc, out, _ = ctx.cli(argv)
        expect_equal(rc, 0, "exit of %s" % argv)
        expect(out.startswith("usage: relaysync-admin "), "%s: %r"
               % (argv, out[:80]))
        for cmd in COMMANDS:
            if " " in cmd or cmd in ("init", "migrate", "stats"):
                expect("relaysync-admin %s" % cmd in out,
                       "%s does not show %s" % (argv, cmd))


@test("cli: a bad option or argument exits 2 with the usage on stderr")
def cli_usage_errors(ctx):
    for args in (["init", "--bogus"], ["migrate", "extra"],
                 ["org", "create"], ["org", "create", "x", "--bogus"],
                 ["org", "list", "--org"], ["key", "create", "--org",
                                            ctx.org_id, "--bogus"],
                 ["key", "create", "--email", "a@example.com"],
                 ["key", "list", "--org"], ["key", "revoke"],
                 ["user", "list"], ["user", "list", "--org", ctx.org_id,
                                    "--bogus"], ["stats", "--json"],
                 ["key"], ["key", "frob"], ["frob"], []):
        rc, out, err = ctx.cli(args)
        expect_equal(rc, 2, "exit of %r (stderr %r)" % (args, err))
        expect_equal(out, "", "stdout of %r" % args)
        expect("usage: relaysync-admin " in err,
               "no usage on stderr for %r: %r" % (args, err))


# --------------------------------------------------------------------------
# init
# --------------------------------------------------------------------------

@test("cli: init with a missing directory exits 1 and names the directory")
def cli_init_missing_dir(ctx):
    top = scratch_dir()
    try:
        missing = os.path.join(top, "var", "lib", "relaysync")
        rc, out, err = run([admin(ctx), "init"], state_env(ctx, missing))
        expect_equal(rc, 1, "exit (stderr %r)" % err)
        expect(missing + ":" in err and "no such directory" in err,
               "stderr does not name %s: %r" % (missing, err))
        expect(not os.path.exists(missing), "init created %s" % missing)
        # the secret's directory exists, the database's (PostgreSQL: its
        # host files') does not
        env = state_env(ctx, top)
        if harness.is_pg():
            env["RELAYSYNC_STATE"] = os.path.join(missing, "relaysync")
        else:
            env["RELAYSYNC_DB"] = os.path.join(missing, "relaysync.db")
        rc, out, err = run([admin(ctx), "init"], env)
        expect_equal(rc, 1, "exit, database directory missing")
        expect(missing + ":" in err, "stderr does not name %s: %r"
               % (missing, err))
    finally:
        shutil.rmtree(top, ignore_errors=True)


# --------------------------------------------------------------------------
# the worker
# --------------------------------------------------------------------------

def other_user():
    """A user that is not this process's: nobody, when running as root."""
    return "nobody" if os.geteuid() == 0 else None


@test("cli: the worker exits 1 on a database it cannot write, naming the file "
      "and the user, and 0 on a healthy one",
      sqlite_only="the permissions of the SQLite database file and its -wal "
      "and -shm (a PostgreSQL role's rights are the server's)")
def cli_worker_readonly(ctx):
    top = scratch_dir()
    con = None
    try:
        env = state_env(ctx, top)
        db = env["RELAYSYNC_DB"]
        for args in (["init"], ["org", "create", "ro"]):
            rc, out, err = run([admin(ctx)] + args, env)
            expect_equal(rc, 0, "relaysync-admin %s: %s" % (args, err))
        # A server is using it: the -wal and -shm files exist and the WAL
        # holds a write (the state a cron run meets).
        con = sqlite3.connect(db, timeout=10)
        con.execute("UPDATE orgs SET rate_limit = rate_limit + 1")
        con.commit()
        expect(os.path.exists(db + "-wal"), "no -wal file")
        user = other_user()
        if user is None:  # not root: take write permission away instead
            for f in (db, db + "-wal", db + "-shm"):
                os.chmod(f, 0o444)
        rc, out, err = run([worker(ctx)], env, user)
        expect_equal(rc, 1, "worker exit as %s (stderr %r)"
                     % (user or "self", err))
        name = user or pwd.getpwuid(os.geteuid()).pw_name
        expect(db in err and name in err and "not writable" in err,
               "stderr names neither %s nor %s: %r" % (db, name, err))
        if user is None:
            for f in (db, db + "-wal", db + "-shm"):
                os.chmod(f, 0o644)
        rc, out, err = run([worker(ctx)], env)
        expect_equal((rc, out, err), (0, "", ""), "worker on a healthy "
                     "database (exit, stdout, stderr)")
    finally:
        if con is not None:
            con.close()
        shutil.rmtree(top, ignore_errors=True)


@test("cli: the worker exits 0 on the running server's database, as its user")
def cli_worker_healthy(ctx):
    ws = ctx.workspace
    rc, out, err = run([worker(ctx)], ws.cli_env(), ws.run_as)
    expect_equal((rc, out, err), (0, "", ""), "worker (exit, stdout, stderr)")


@test("cli: the worker exits 1 on a missing database")
def cli_worker_missing(ctx):
    top = scratch_dir()
    try:
        env = state_env(ctx, top)
        rc, out, err = run([worker(ctx)], env)
        expect_equal(rc, 1, "exit (stderr %r)" % err)
        if harness.is_pg():
            # named, but never by its conninfo (it may hold a password)
            expect("RELAYSYNC_DB" in err and "no such database" in err,
                   "stderr: %r" % err)
            expect(env["RELAYSYNC_DB"] not in err,
                   "stderr shows the conninfo: %r" % err)
            return
        expect(env["RELAYSYNC_DB"] in err, "stderr: %r" % err)
    finally:
        shutil.rmtree(top, ignore_errors=True)
