"""The crash storm (issue 18): nothing acknowledged is lost, nothing is
duplicated, while FastCGI processes, the worker and once the whole server
group are SIGKILLed under load.

On a side server of the run's kind (storm_load.Side: its own temp dir and
database, the shipped includes), for STORM_SECONDS (60; the environment
variable RELAYSYNC_STORM_SECONDS sets another length, the long form):
- 16 client threads create, patch (If-Match or causal), delete and batch
  (POST /v1/batch: item keys and a batch key, independent or atomic)
  records of their own, every write with an Idempotency-Key; each keeps a
  journal of every request and its answer or "no answer", and sends a
  request that got no answer (or a 5xx, 409 idempotency_in_progress, 429)
  again with the same key until it is answered;
- a killer SIGKILLs a random FastCGI process every 0.5-2 s, and once, at
  half time, the server's whole process group, then starts the server
  again;
- a worker loop runs relaysync-worker --once against a webhook endpoint
  on a local receiver (receiver.py, 2xx to everything) and SIGKILLs the
  worker WORKER_KILLS times while a delivery is held by the receiver.

Then (the server up): what the storm left unanswered is sent again with
its key; every request is sent again with its key and must replay
(Idempotent-Replayed: true, same status and body; each batch item alone
too) and change nothing (records, events, keys and audit entries counted
before and after); the worker drains the queue. Every answered create is
one record with its fields, every version any answer showed is the
record's current row or its history row, and no version exists that no
client was answered (so no write was applied twice, none lost); each
write has exactly one event and one audit entry; PRAGMA integrity_check
is ok; relaysync-admin audit verify passes; every event was fanned out
once (one job per event and endpoint), every job succeeded, every event
reached the receiver with a 2xx at least once, no job was delivered after
the database had recorded it succeeded, and worker runs after the drain
deliver nothing. Counts are printed as # lines.

Apache is stormed in the server form only: the vhost form changes where
relaysync.conf is included, not how mod_fcgid starts, loses and replaces
processes or how the program writes, so a second 60 s storm there would
test nothing new (test_hosting_apache.py registers the same way).
"""

import argparse
import json
import os
import sys
import threading
import time

import harness
from harness import Failure, expect, test
from receiver import Receiver
from storm_load import Side, Storm, call, send

STORM_SECONDS = 60.0
LONG_ENV = "RELAYSYNC_STORM_SECONDS"   # the long form: e.g. 600
CLIENTS = 16
PACE = 0.05                 # a client waits up to this long between requests
KILL_GAP = (0.5, 2.0)       # seconds between two FastCGI kills
WORKER_KILLS = 4            # worker SIGKILLs mid-delivery per storm
SLOW_DELIVERY = 3.0         # seconds the receiver holds the delivery killed
WORKER_ARGS = ["--once", "--timeout", "5", "--lease", "6",
               "--concurrency", "16"]
# Bounds of the checks, for a 60 s storm; a longer one scales them (its
# volume grows with its length).
RESEND_TIMEOUT = 60         # seconds to get the storm's leftovers answered
REPLAY_TIMEOUT = 120        # seconds for every request's replay
REPLAY_THREADS = 16
DRAIN_TIMEOUT = 90          # seconds for the worker to drain the queue
AFTER_DRAIN_RUNS = 2        # worker runs that must deliver nothing
SHOWN = 15                  # problems shown of each kind


def this_pass():
    """lighttpd, or Apache with relaysync.conf at server level (read
    from sys.argv as test_hosting_apache.py does: run.py imports the
    modules before harness.main parses the arguments)."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--server")
    p.add_argument("--apache-form", default="server")
    args, _ = p.parse_known_args(sys.argv[1:])
    return args.server == "lighttpd" or args.apache_form == "server"


def storm_seconds():
    value = os.environ.get(LONG_ENV)
    if not value:
        return STORM_SECONDS
    try:
        seconds = float(value)
    except ValueError:
        raise Failure("%s=%r: not a number of seconds" % (LONG_ENV, value))
    expect(10 <= seconds <= 86400, "%s=%r: 10..86400 seconds"
           % (LONG_ENV, value))
    return seconds


class Problems:
    """What the checks found, by kind; shown bounded."""

    def __init__(self):
        self.kinds = {}

    def add(self, kind, line):
        self.kinds.setdefault(kind, []).append(line)

    def lines(self):
        out = []
        for kind, lines in self.kinds.items():
            out.append("%s: %d" % (kind, len(lines)))
            out += ["  " + l for l in lines[:SHOWN]]
            if len(lines) > SHOWN:
                out.append("  ... %d more" % (len(lines) - SHOWN))
        return out

    def check(self, report):
        expect(not self.kinds, "the storm's checks failed:\n# "
               + "\n# ".join(self.lines() + report))


def show(data, n=300):
    return harness.show_bytes(data or b"")[:n]


# --------------------------------------------------------------------------
# after the storm: leftovers, replays
# --------------------------------------------------------------------------

def scaled(storm, seconds):
    """SECONDS (a bound for a 60 s storm) for this storm's length."""
    return seconds * max(1.0, storm.seconds / STORM_SECONDS)


def resend_pending(storm, probs):
    """The storm's unanswered requests (at most one per client), sent
    again with their keys until answered."""
    pending = [c for c in storm.clients if c.pending is not None]
    until = time.monotonic() + RESEND_TIMEOUT

    def one(c):
        op = c.pending
        if send(storm.side.port, storm.token, op, until):
            c.pending = None
            if op.final is not None:
                c.apply(op)
            if op.bad is not None:
                storm.note_bad(op)
    threads = [threading.Thread(target=one, args=(c,), daemon=True)
               for c in pending]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, until + harness.HTTP_TIMEOUT - time.monotonic()))
    for c in pending:
        if c.pending is not None:
            probs.add("requests never answered", c.pending.describe())
    return len(pending)


def replay_calls(storm):
    """(method, path, body, headers, want, is_item) for every answered
    request and every batch item alone, made as they are taken; want =
    (status, body bytes) for a request, (status, JSON) for an item."""
    for op in storm.ops():
        if op.final is None or op.bad is not None:
            continue
        yield (op.method, op.path, op.data, op.headers,
               (op.final.status, op.final.body), False)
        if op.kind == "batch":
            items = op.sent()["requests"]
            for item, r in zip(items, op.item_answers()):
                yield (item["method"], item["path"], item.get("body"),
                       item["headers"], (r["status"], r["body"]), True)


def replay_all(storm, probs):
    """Every answered request (and each batch item alone) again with its
    key: the first answer, replayed. -> the number of replays sent."""
    calls = replay_calls(storm)
    lock = threading.Lock()
    sent = [0, False]          # how many taken; all taken
    until = time.monotonic() + scaled(storm, REPLAY_TIMEOUT)

    def worker():
        while time.monotonic() < until:
            with lock:
                nxt = next(calls, None)
                if nxt is None:
                    sent[1] = True
                    return
                sent[0] += 1
            method, path, body, headers, want, is_item = nxt
            what = "%s %s (key %s%s)" % (method, path,
                                         headers.get("Idempotency-Key"),
                                         ", a batch item alone"
                                         if is_item else "")
            try:
                resp = call(storm.side.port, method, path, body,
                            headers, storm.token)
            except Failure as e:
                probs.add("replays not answered", "%s: %s" % (what, e))
                continue
            if resp.headers.get("Idempotent-Replayed") != "true":
                probs.add("re-sent requests not replayed",
                          "%s: status %s, Idempotent-Replayed %r: %s"
                          % (what, resp.status,
                             resp.headers.get("Idempotent-Replayed"),
                             show(resp.body)))
                continue
            if is_item:
                try:
                    same = (resp.status, resp.json()) == want
                except Failure:
                    same = False
            else:
                same = (resp.status, resp.body) == want
            if not same:
                probs.add("replays that differ from the first answer",
                          "%s: first %s %s, replay %s %s"
                          % (what, want[0], show(json.dumps(want[1]).encode()
                                                 if is_item else want[1]),
                             resp.status, show(resp.body)))
    threads = [threading.Thread(target=worker, daemon=True)
               for _ in range(REPLAY_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, until + harness.HTTP_TIMEOUT - time.monotonic()))
    if not sent[1] or any(t.is_alive() for t in threads):
        probs.add("replays not finished", "%d sent within %d s, not all"
                  % (sent[0], scaled(storm, REPLAY_TIMEOUT)))
    return sent[0]


def counts(side):
    """What a replay must not change: rows of the org's records, events,
    idempotency keys and audit entries."""
    org = side.org
    out = {}
    for table in ("records", "events", "idempotency_keys", "audit"):
        out[table] = side.db("SELECT count(*) FROM %s WHERE org_id = ?"
                             % table, (org,))[0][0]
    return out


# --------------------------------------------------------------------------
# the worker: drain, and nothing after
# --------------------------------------------------------------------------

def job_states(side):
    return dict(side.db("SELECT state, count(*) FROM jobs WHERE org_id = ? "
                        "GROUP BY state", (side.org,)))


def fanned_out(side):
    row = side.db("SELECT event_seq, fanout_seq FROM orgs WHERE id = ?",
                  (side.org,))[0]
    return row[0] == row[1]


def drain(storm, probs):
    """Worker runs until every event is fanned out and every job has
    succeeded (a failed job, e.g. a delivery that timed out under load,
    is sent again at once with POST /v1/sync/retry, as an operator
    would). -> the failed jobs retried."""
    side = storm.side
    retried = 0
    limit = scaled(storm, DRAIN_TIMEOUT)
    deadline = time.monotonic() + limit
    while True:
        states = job_states(side)
        if fanned_out(side) and set(states) <= {"succeeded"}:
            return retried
        if time.monotonic() > deadline:
            probs.add("queue not drained", "%d s after the storm: jobs %r, "
                      "fanned out: %s" % (limit, states,
                                          fanned_out(side)))
            return retried
        for (jid,) in side.db("SELECT id FROM jobs WHERE org_id = ? AND "
                              "state IN ('failed', 'dead')", (side.org,)):
            resp = call(side.port, "POST", "/v1/sync/retry/" + jid,
                             b"", {"Content-Length": "0",
                                   "Content-Type": None}, storm.token)
            if resp.status >= 300:
                probs.add("retries refused", "job %s: %s %s"
                          % (jid, resp.status, show(resp.body)))
                return retried
            retried += 1
        storm.run_worker()
        storm.snapshot_succeeded()
        if not set(job_states(side)) <= {"succeeded"}:
            time.sleep(0.5)     # a killed run's lease, a retry's due time


# --------------------------------------------------------------------------
# the database's side
# --------------------------------------------------------------------------

def canon(rec):
    """A record as one canonical string (kept instead of a dict: a 60 s
    storm answers some 40,000 versions)."""
    return json.dumps(rec, sort_keys=True, separators=(",", ":"))


def answered_records(storm, probs):
    """What the clients were answered: record id -> {version: (canon of
    the record as the answer showed it, deleted)}, and the answered
    creates (marker -> record id). Checks on the way that each answer
    shows what its request sent (a create's fields, a patch's members, a
    delete's tombstone)."""
    versions, creates = {}, {}

    def take(kind, marker, sent, rec, what):
        if not isinstance(rec, dict):
            probs.add("answers without a record", "%s: %r" % (what, rec))
            return
        rid, v = rec.get("id"), rec.get("version")
        seen = versions.setdefault(rid, {})
        got = (canon(rec), rec.get("deleted") is True)
        if v in seen and seen[v] != got:
            probs.add("one version answered two ways",
                      "%s: %s v%s: %s vs %s" % (what, rid, v,
                                                seen[v][0][:200],
                                                got[0][:200]))
        seen[v] = got
        if kind == "create":
            creates[marker] = rid
            want = {"title": sent["title"], "type": sent["type"],
                    "site": sent.get("site"), "data": sent["data"],
                    "version": 1}
            have = {k: rec.get(k) for k in want}
            if have != want:
                probs.add("creates answered without their fields",
                          "%s: sent %r, answered %r" % (what, want, have))
        elif kind == "patch":
            data = rec.get("data") or {}
            ok = rec.get("title") == sent["title"] and all(
                data.get(k) == x for k, x in sent["data"].items())
            if "status" in sent:
                ok = ok and rec.get("status") == sent["status"]
            if not ok:
                probs.add("patches answered without their effect",
                          "%s: sent %r, answered %s" % (what, sent,
                                                        got[0][:300]))
        elif kind == "delete" and rec.get("deleted") is not True:
            probs.add("deletes not deleted", "%s: %s" % (what, got[0]))

    for op in storm.ops():
        if op.final is None or op.bad is not None:
            continue
        if op.kind == "batch":
            items = op.sent()["requests"]
            for (kind, marker), item, r in zip(op.items, items,
                                               op.item_answers()):
                take(kind, marker, item.get("body"), r["body"],
                     "%s item %s" % (op.id, marker))
        else:
            take(op.kind, op.marker, op.sent(), op.final.json(), op.id)
    return versions, creates


def differ(a, b):
    """The members in which the records (canon strings) A (the
    database's) and B (an answer's) differ."""
    a, b = json.loads(a), json.loads(b)
    return ", ".join("%s: %s vs answered %s" % (k, json.dumps(a.get(k)),
                                               json.dumps(b.get(k)))
                     for k in sorted(set(a) | set(b))
                     if a.get(k) != b.get(k))[:400]


def check_records(storm, probs):
    """Every answered write is in the database exactly once, with its
    effect, and nothing else is. -> (records, versions) counted."""
    side = storm.side
    versions, creates = answered_records(storm, probs)
    history = {}
    for rid, v, rec in side.db("SELECT record_id, version, record FROM "
                               "record_history WHERE org_id = ?",
                               (side.org,)):
        history[(rid, v)] = canon(json.loads(rec))
    by_marker = {}
    db_rows = {}
    for rid, v, deleted, text, marker in side.db(
            "SELECT id, version, deleted_at IS NOT NULL, json, " +
            harness.dialect("json_extract(data, '$.op')",
                            "data::jsonb ->> 'op'") +
            " FROM records WHERE org_id = ?",
            (side.org,)):
        db_rows[rid] = (v, bool(deleted), canon(json.loads(text)))
        by_marker.setdefault(marker, []).append(rid)

    # creates: one record per answered create, and no other record
    for marker, rid in creates.items():
        got = by_marker.get(marker, [])
        if got != [rid]:
            probs.add("creates not stored exactly once",
                      "%s: answered %s, the database has %r"
                      % (marker, rid, got))
    for marker, rids in by_marker.items():
        if marker not in creates:
            probs.add("records no client was answered for",
                      "data.op %r: %r" % (marker, rids))

    # every version answered is in the database (current or history), and
    # the database has no version no client was answered
    nver = 0
    for rid, seen in versions.items():
        top = max(seen)
        nver += top
        if sorted(seen) != list(range(1, top + 1)):
            probs.add("versions applied without an answer (or twice)",
                      "%s: answered versions %r" % (rid, sorted(seen)))
        row = db_rows.get(rid)
        if row is None:
            probs.add("answered records missing", rid)
            continue
        v, deleted, current = row
        if v != top or current != seen[top][0]:
            probs.add("records not as their last answer",
                      "%s: database v%s, last answer v%s; %s"
                      % (rid, v, top, differ(current, seen[top][0])))
        if deleted != seen[top][1]:
            probs.add("deleted flags wrong", "%s: database deleted=%s, "
                      "answer %r" % (rid, deleted, seen[top][1]))
        for old in range(1, v):
            h = history.get((rid, old))
            if h is None:
                probs.add("history rows missing", "%s v%d" % (rid, old))
            elif old in seen and h != seen[old][0]:
                probs.add("history rows not as answered",
                          "%s v%d: %s" % (rid, old, differ(h, seen[old][0])))
    for rid in db_rows:
        if rid not in versions:
            probs.add("records no client was answered for", rid)

    # one event and one audit entry per write (version)
    per = {}
    for rid, n in side.db(
            "SELECT record_id, count(*) FROM events WHERE org_id = ? AND "
            "type IN ('record.created', 'record.updated', "
            "'record.deleted') GROUP BY record_id", (side.org,)):
        per[rid] = [n, 0]
    for rid, n in side.db(
            "SELECT target, count(*) FROM audit WHERE org_id = ? AND "
            "target LIKE 'rec_%' GROUP BY target", (side.org,)):
        per.setdefault(rid, [0, 0])[1] = n
    for rid in set(per) | set(db_rows):
        want = db_rows[rid][0] if rid in db_rows else 0
        ev, au = per.get(rid, [0, 0])
        if (ev, au) != (want, want):
            probs.add("writes without exactly one event and audit entry",
                      "%s: %d version(s), %d event(s), %d audit entries"
                      % (rid, want, ev, au))
    return len(db_rows), nver


def check_database(storm, probs):
    side = storm.side
    rows = harness.db_integrity(side.db_ctx)
    if rows != [["ok"]]:
        probs.add("integrity_check", repr(rows[:10]))
    rc, out, err = side.ws.cli(["audit", "verify"])
    if rc != 0:
        probs.add("audit verify", "exit %d: %s%s" % (rc, out[-300:],
                                                     err[-300:]))


def check_fanout(storm, probs, hook_id):
    """One job per (event, endpoint) for every event after the endpoint
    was made; every job succeeded. -> the org's event ids."""
    side = storm.side
    (wseq, from_event), = side.db("SELECT seq, from_event FROM webhooks "
                                  "WHERE id = ?", (hook_id,))
    events = {seq: eid for seq, eid in side.db(
        "SELECT seq, id FROM events WHERE org_id = ?", (side.org,))}
    due = {seq for seq in events if seq & ((1 << 40) - 1) > from_event}
    jobs = {}
    for seq, n in side.db("SELECT event_seq, count(*) FROM jobs WHERE "
                          "webhook_seq = ? GROUP BY event_seq", (wseq,)):
        jobs[seq] = n
    for seq in sorted(due):
        if jobs.get(seq, 0) != 1:
            probs.add("events not fanned out exactly once",
                      "%s: %d job(s)" % (events[seq], jobs.get(seq, 0)))
    for seq in sorted(set(jobs) - due):
        probs.add("jobs of no due event", "event seq %d: %d job(s)"
                  % (seq, jobs[seq]))
    if not fanned_out(side):
        probs.add("fan-out behind", "orgs.fanout_seq != event_seq")
    states = job_states(side)
    if set(states) - {"succeeded"}:
        probs.add("jobs not succeeded", repr(states))
    return {events[seq] for seq in due}


def check_deliveries(storm, probs, event_ids):
    """Every event reached the receiver with a 2xx; none came that is no
    event; none came after its job was recorded succeeded. -> (requests,
    distinct webhook-ids)."""
    reqs = storm.rx.requests
    got = {}
    for r in reqs:
        wid = r.header("webhook-id")
        got.setdefault(wid, []).append(r)
        seen = storm.succeeded_seen.get(wid)
        if seen is not None and r.arrived > seen:
            probs.add("delivered again after the database recorded success",
                      "%s: recorded by %.3f, delivered again at %.3f"
                      % (wid, seen, r.arrived))
    for wid in sorted(set(got) - event_ids):
        probs.add("deliveries of no event", "webhook-id %r (%d)"
                  % (wid, len(got[wid])))
    for eid in sorted(event_ids):
        if not any(r.answered is not None and 200 <= r.answered < 300
                   for r in got.get(eid, [])):
            probs.add("events never received with a 2xx",
                      "%s: %d request(s)" % (eid, len(got.get(eid, []))))
    return len(reqs), len(got)


# --------------------------------------------------------------------------
# the test
# --------------------------------------------------------------------------

def storm_test(ctx):
    seconds = storm_seconds()
    side = Side(ctx)
    rx = Receiver()
    phases = []
    try:
        token = harness.expect_json(call(
            side.port, "POST", "/v1/auth/token",
            {"api_key": side.api_key}), 200)["access_token"]
        resp = call(side.port, "POST", "/v1/webhooks",
                    {"url": rx.url("/hook"), "events": ["*"]}, token=token)
        hook_id = harness.expect_json(resp, 201)["id"]
        storm = Storm(side, token, rx, seconds, CLIENTS, PACE, KILL_GAP,
                      WORKER_ARGS, WORKER_KILLS, SLOW_DELIVERY)
        rx.rule(storm.rule)
        t = time.monotonic()

        def phase(name):
            nonlocal t
            phases.append("%s %.0f s" % (name, time.monotonic() - t))
            t = time.monotonic()

        storm.run()
        phase("storm")
        probs = Problems()
        for e in storm.errors:
            probs.add("storm threads", e)
        side.wait_healthy(harness.START_TIMEOUT)
        left = resend_pending(storm, probs)
        for op in storm.bad:
            probs.add("answers that are neither 2xx nor to be retried",
                      "%s: %s %s" % (op.describe(), op.bad.status,
                                     show(op.bad.body)))
        before = counts(side)
        replays = replay_all(storm, probs)
        after = counts(side)
        if after != before:
            probs.add("replays that changed something",
                      "before %r, after %r" % (before, after))
        phase("replays")
        retried = drain(storm, probs)
        phase("drain")
        check_database(storm, probs)
        nrec, nver = check_records(storm, probs)
        event_ids = check_fanout(storm, probs, hook_id)
        time.sleep(0.2)   # the receiver notes a 2xx just after sending it
        ndel, nids = check_deliveries(storm, probs, event_ids)
        for _ in range(AFTER_DRAIN_RUNS):
            storm.run_worker()
        extra = len(rx.requests) - ndel
        if extra:
            probs.add("deliveries after the drain",
                      "%d request(s) from %d worker run(s)"
                      % (extra, AFTER_DRAIN_RUNS))
        phase("checks")
        if storm.fcgi_kills == 0:
            probs.add("kills", "no FastCGI process was killed")
        if storm.group_kills != 1:
            probs.add("kills", "the server group was killed %d times"
                      % storm.group_kills)
        if storm.worker_kills == 0:
            probs.add("kills", "no worker run was killed mid-delivery")
        report = summary(storm, seconds, left, replays, retried, nrec, nver,
                         len(event_ids), ndel, nids) + \
            ["time: " + ", ".join(phases)]
        probs.check(report)
        harness.diag(report)
    finally:
        rx.stop()
        side.stop()


def summary(storm, seconds, left, replays, retried, nrec, nver, nevents,
            ndel, nids):
    ops = storm.ops()
    attempts = [a for op in ops for a in op.attempts]
    ok = sum(1 for a in attempts if a.status and 200 <= a.status < 300)
    none = sum(1 for a in attempts if a.status is None)
    fivexx = sum(1 for a in attempts if a.status and a.status >= 500)
    busy = sum(1 for a in attempts if a.status in (409, 429))
    replayed = sum(1 for a in attempts if a.replayed)
    kinds = {}
    for op in ops:
        kinds[op.kind] = kinds.get(op.kind, 0) + 1
    items = sum(len(op.items) for op in ops)
    return [
        "storm: %s, %.0f s, %d clients" % (
            storm.side.server.name, seconds, len(storm.clients)),
        "requests: %d sent for %d writes (%s; %d batch items); 2xx %d, "
        "no answer %d, 5xx %d, 409 in progress/429 %d, replayed during "
        "the storm %d, left unanswered at its end %d" % (
            len(attempts), len(ops), ", ".join(
                "%s %d" % kv for kv in sorted(kinds.items())), items, ok,
            none, fivexx, busy, replayed, left),
        "kills: %d FastCGI processes, %d server group (down %.1f s), %d "
        "worker runs mid-delivery (of %d runs)" % (
            storm.fcgi_kills, storm.group_kills, storm.group_down,
            storm.worker_kills, storm.worker_runs),
        "after: %d requests (and batch items alone) re-sent with their "
        "keys; %d records, %d versions" % (replays, nrec, nver),
        "webhooks: %d events, %d deliveries (%d redelivered), %d failed "
        "jobs retried in the drain" % (nevents, ndel, ndel - nids, retried),
    ]


if this_pass():
    test("storm: 16 clients under SIGKILLs of FastCGI processes, the "
         "worker and the server group: every 2xx stored once with its "
         "effect, every request replays, events fanned out once, "
         "deliveries not repeated after success")(storm_test)
