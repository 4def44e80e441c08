"""The crash storm's moving parts (test_storm.py runs them and checks the
outcome): a side server of the run's kind that can be killed and started
again, 16 client threads that keep a journal of every request, a killer
thread (random FastCGI processes, once the whole server group), and a
worker loop that SIGKILLs relaysync-worker mid-delivery.

Every client owns the records it creates, so its requests never race
another client's: each answer it gets is determined (a 409 or 412 can only
mean a write was applied twice), and the final state of every record is
the last answer its owner got. Every write carries an Idempotency-Key; a
request that gets no answer (or the web server's 5xx, or a 409
idempotency_in_progress / 503 busy) is sent again, unchanged, with the
same key until it is answered (a replay or the first run) or the storm
ends; test_storm.py re-sends what is left.

Python 3 standard library only.
"""

import json
import os
import random
import re
import signal
import threading
import time

import harness
from harness import Failure, db_run, free_port

RETRY_STATUS = (500, 502, 503, 504)   # the web server's or the program's
RETRY_PAUSE = (0.1, 0.4)              # seconds between two attempts
REC_TYPE = "storm"


SAMPLE_PER_SHAPE = 5                  # exchanges of one shape in the log


def now():
    return time.time()


# --------------------------------------------------------------------------
# HTTP: harness.http_call, with a sample in the contract log
# --------------------------------------------------------------------------
# A storm makes tens of thousands of exchanges of a few dozen shapes. The
# contract log (harness.CONTRACT_LOG, checked against openapi.json after
# the run) gets the first SAMPLE_PER_SHAPE of each shape: method, route,
# status, replayed or not, problem code. So every kind of answer the
# storm saw (the web server's 5xx while a process dies included) is
# checked, and the log stays small.

_shapes = {}
_shapes_lock = threading.Lock()


def _shape(method, path, status, headers, body):
    route = re.sub(r"/rec_[0-9a-z]+", "/{id}", path.split("?")[0])
    route = re.sub(r"/job_[0-9a-z]+", "/{id}", route)
    code = None
    if status >= 400:
        m = re.search(rb'"code":"([a-z_]+)"', body or b"")
        code = m.group(1) if m else None
    return (method, route, status,
            headers.get("Idempotent-Replayed") == "true", code)


def _sampled(resp):
    """Record the first SAMPLE_PER_SHAPE answers of each shape."""
    shape = _shape(resp.request_method, resp.request_path, resp.status,
                   resp.headers, resp.body)
    with _shapes_lock:
        n = _shapes.get(shape, 0)
        _shapes[shape] = n + 1
    return n < SAMPLE_PER_SHAPE


def call(port, method, path, body=None, headers=None, token=None,
         timeout=harness.HTTP_TIMEOUT):
    """harness.http_call, recording only a sample."""
    return harness.http_call(port, method, path, body, headers, token,
                             timeout, sample=_sampled)



# --------------------------------------------------------------------------
# the side server
# --------------------------------------------------------------------------

class Side:
    """A server of the run's kind on a temp dir and database of its own
    (the shipped includes, via harness.SERVERS), with org "storm" (no
    rate limit reached) and its admin key. kill_group() SIGKILLs the
    server's whole session, restart() starts it again on the same port."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.ws = harness.Workspace(ctx.prefix, ctx.workspace.run_as)
        self.db_ctx = _DbCtx(self.ws)
        self.server = None
        self.logs = []
        try:
            self.cli(["init"])
            self.org = self.cli(["org", "create", "storm", "--rate-limit",
                                 harness.SHARED_ORG_RATE]).strip()
            self.api_key = json.loads(self.cli(
                ["key", "create", "--org", self.org, "--email",
                 "storm@example.com", "--role", "admin",
                 "--json"]))["api_key"]
            self.port = free_port()
            cls = harness.SERVERS[ctx.server_name]
            # The longest token lifetime: a long storm outlives 15 min.
            self.server = cls(self.ws, self.port, form=harness.APACHE_FORM,
                              defines=[("RELAYSYNC_MAX_CONN_PER_IP",
                                        harness.RUN_MAX_CONN_PER_IP)],
                              app_env={"RELAYSYNC_TOKEN_TTL": "86400"})
            self.logs = self.server.log_files()
            ctx.logs.files = ctx.logs.files + self.logs
            self.server.start()
            self.wait_healthy(harness.START_TIMEOUT)
        except BaseException:
            self.stop()
            raise

    def cli(self, args):
        rc, out, err = self.ws.cli(args)
        if rc != 0:
            raise Failure("storm side server: relaysync-admin %s: exit %d: "
                          "%s%s" % (" ".join(args), rc, out, err))
        return out

    def wait_healthy(self, timeout):
        harness.wait_healthy(
            lambda t: call(self.port, "GET", "/v1/health", timeout=t),
            self.server.running, "storm side server", self.log_tail,
            timeout)

    def log_tail(self):
        return " | ".join(harness.LogWatch(self.logs).tail()[-8:])

    def fcgi_pids(self):
        proc = self.server.proc
        return [] if proc is None else harness.session_pids(proc.pid, True)

    def kill_group(self):
        """SIGKILL the server's process group, then anything left of its
        session (bounded)."""
        proc = self.server.proc
        sid = proc.pid
        try:
            os.killpg(sid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            left = harness.session_pids(sid, False)
            if not left:
                return
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.1)
        raise Failure("processes of the killed server's session still "
                      "alive after 10 s: %r" % harness.session_pids(sid, False))

    def restart(self):
        """Start the server again (its log so far kept beside)."""
        out = self.server.output
        if os.path.exists(out):
            os.replace(out, out + ".before-kill")
        self.server.proc = None
        self.server.start()
        self.wait_healthy(harness.START_TIMEOUT)

    def stop(self):
        if self.server is not None:
            self.server.stop()
        self.ctx.logs.files = [f for f in self.ctx.logs.files
                               if f not in self.logs]
        if os.environ.get("KEEP") == "1":
            print("# kept storm side server dir %s" % self.ws.dir)
        else:
            self.ws.remove()

    def db(self, sql, params=()):
        """Rows of one read-only statement on the side database."""
        return db_run(self.db_ctx, sql, params)[0]


class _DbCtx:
    """What harness.db_run needs of a context: the workspace."""

    def __init__(self, ws):
        self.workspace = ws


# --------------------------------------------------------------------------
# requests and the journal
# --------------------------------------------------------------------------

class Attempt:
    """One request sent: when (t0, t1: time.time()), and its answer:
    status (None: no answer, then error says why), body (None for a 2xx:
    the op's final answer holds it), replayed (Idempotent-Replayed)."""

    __slots__ = ("t0", "t1", "status", "body", "replayed", "error")

    def __init__(self, t0, t1, status, body, replayed, error):
        self.t0, self.t1 = t0, t1
        self.status, self.body = status, body
        self.replayed, self.error = replayed, error


class Answer:
    """An answer kept: status, body (bytes), replayed."""

    __slots__ = ("status", "body", "replayed")

    def __init__(self, resp):
        self.status = resp.status
        self.body = resp.body
        self.replayed = resp.headers.get("Idempotent-Replayed") == "true"

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None


class Op:
    """One logical request (create, patch, delete, batch) with its
    Idempotency-Key, sent until answered: data (the body's bytes, sent
    unchanged on every attempt), attempts (the journal), final (the 2xx
    Answer) or bad (an answer neither 2xx nor to be retried). MARKER: a
    create's data.op; ITEMS (a batch): (kind, marker) of each item, in
    the order of the body's requests."""

    __slots__ = ("id", "kind", "method", "path", "data", "headers",
                 "marker", "items", "attempts", "final", "bad")

    def __init__(self, oid, kind, method, path, body, headers, marker=None,
                 items=()):
        self.id = oid
        self.kind = kind
        self.method = method
        self.path = path
        self.data = harness.encode_body(body)
        self.headers = headers
        self.marker = marker
        self.items = tuple(items)
        self.attempts = []
        self.final = None
        self.bad = None

    @property
    def key(self):
        return self.headers["Idempotency-Key"]

    def sent(self):
        """The body sent, as JSON (None: no body)."""
        return None if self.data is None else json.loads(self.data)

    def item_answers(self):
        """A batch's final answer's responses (None when not a list of
        one per item)."""
        body = self.final.json() if self.final is not None else None
        got = body.get("responses") if isinstance(body, dict) else None
        if not isinstance(got, list) or len(got) != len(self.items):
            return None
        return got

    def describe(self):
        return "%s %s %s (key %s, %d attempt(s): %s)" % (
            self.kind, self.method, self.path, self.key, len(self.attempts),
            ", ".join(str(a.status) if a.status else "no answer"
                      for a in self.attempts[:8]))


def retryable(resp):
    """Is RESP an answer that says the request may not have run (and may
    be sent again with its key)? A 5xx, a 409 idempotency_in_progress
    (the write lock was busy), a 429."""
    if resp.status in RETRY_STATUS or resp.status == 429:
        return True
    if resp.status == 409:
        try:
            return resp.json().get("code") == "idempotency_in_progress"
        except Failure:
            return False
    return False


def send(port, token, op, until, timeout=harness.HTTP_TIMEOUT):
    """Send OP until a 2xx (op.final) or another answer that is not to be
    retried (op.bad), or until monotonic UNTIL passes. Every attempt goes
    in op.attempts. True when OP is answered."""
    while True:
        t0 = now()
        try:
            resp = call(port, op.method, op.path, op.data, op.headers,
                        token, timeout=timeout)
        except Failure as e:
            op.attempts.append(Attempt(t0, now(), None, None, False, str(e)))
        else:
            # a 2xx body is kept once, in op.final
            ok = 200 <= resp.status < 300
            op.attempts.append(Attempt(
                t0, now(), resp.status, None if ok else resp.body,
                resp.headers.get("Idempotent-Replayed") == "true", None))
            if ok:
                op.final = Answer(resp)
                return True
            if not retryable(resp):
                op.bad = Answer(resp)
                return True
        if time.monotonic() >= until:
            return False
        time.sleep(random.uniform(*RETRY_PAUSE))


# --------------------------------------------------------------------------
# a client
# --------------------------------------------------------------------------

class Client:
    """One of the storm's clients: makes its own records and changes only
    those. live: record id -> the record as last answered (not deleted)."""

    def __init__(self, storm, n):
        self.storm = storm
        self.n = n
        self.rng = random.Random(storm.seed * 100 + n)
        self.ops = []
        self.live = {}
        self.seq = 0
        self.pending = None      # the op the storm's end left unanswered
        self.error = None

    def new_id(self):
        self.seq += 1
        return "%s-c%02d-%05d" % (self.storm.tag, self.n, self.seq)

    # -- what to send ---------------------------------------------------
    def create_body(self, marker):
        rng = self.rng
        body = {"title": "storm %s" % marker, "type": REC_TYPE,
                "data": {"op": marker, "client": self.n,
                         "v": rng.randrange(1 << 30)}}
        if rng.random() < 0.5:
            body["site"] = "site-%d" % rng.randrange(8)
        return body

    def patch_parts(self, oid, rec):
        """(body, headers) of a patch of REC: causal in the body or
        If-Match."""
        rng = self.rng
        body = {"title": "patched %s" % oid,
                "data": {"op": rec["data"]["op"], "p": oid,
                         "v": rng.randrange(1 << 30)}}
        if rng.random() < 0.3:
            body["status"] = rng.choice(["synced", "queued", "failed"])
        headers = {}
        if rng.random() < 0.5:
            headers["If-Match"] = '"%s"' % rec["causal"]
        else:
            body["causal"] = rec["causal"]
        return body, headers

    def delete_headers(self, rec):
        if self.rng.random() < 0.5:
            return {"If-Match": '"%s"' % rec["causal"]}
        return {}

    def next_op(self):
        rng = self.rng
        oid = self.new_id()
        key = {"Idempotency-Key": "k-" + oid}
        r = rng.random()
        if not self.live or r < 0.35:
            return Op(oid, "create", "POST", "/v1/records",
                      self.create_body(oid), key, marker=oid)
        rid = rng.choice(sorted(self.live))
        rec = self.live[rid]
        if r < 0.65:
            body, headers = self.patch_parts(oid, rec)
            headers.update(key)
            return Op(oid, "patch", "PATCH", "/v1/records/" + rid, body,
                      headers)
        if r < 0.75:
            headers = self.delete_headers(rec)
            headers.update(key)
            return Op(oid, "delete", "DELETE", "/v1/records/" + rid, None,
                      headers)
        return self.batch_op(oid, key)

    def batch_op(self, oid, key):
        """1-4 creates, maybe a patch of one live record and a delete of
        another, each item with its own key; the batch has KEY."""
        rng = self.rng
        items = []
        for j in range(rng.randint(1, 4)):
            marker = "%s.i%d" % (oid, j)
            items.append((("create", marker), {
                "method": "POST", "path": "/v1/records",
                "headers": {"Idempotency-Key": "k-" + marker},
                "body": self.create_body(marker)}))
        recs = sorted(self.live)
        rng.shuffle(recs)
        if recs and rng.random() < 0.6:
            rid = recs.pop()
            marker = "%s.p" % oid
            body, headers = self.patch_parts(marker, self.live[rid])
            headers["Idempotency-Key"] = "k-" + marker
            items.append((("patch", marker), {
                "method": "PATCH", "path": "/v1/records/" + rid,
                "headers": headers, "body": body}))
        if recs and rng.random() < 0.3:
            rid = recs.pop()
            marker = "%s.d" % oid
            headers = self.delete_headers(self.live[rid])
            headers["Idempotency-Key"] = "k-" + marker
            items.append((("delete", marker), {
                "method": "DELETE", "path": "/v1/records/" + rid,
                "headers": headers}))
        rng.shuffle(items)
        body = {"requests": [it for _, it in items]}
        if rng.random() < 0.5:
            body["atomic"] = True
        return Op(oid, "batch", "POST", "/v1/batch", body, key,
                  items=[meta for meta, _ in items])

    # -- what an answer changes ---------------------------------------
    def apply(self, op):
        """Takes OP's 2xx answer into live (an answer that is not what
        was asked for, e.g. a batch item that is not 2xx, makes OP
        bad)."""
        if op.kind == "batch":
            got = op.item_answers()
            if got is None or not all(
                    isinstance(r, dict) and isinstance(r.get("body"), dict)
                    and r.get("status") in (200, 201) for r in got):
                op.bad = op.final
                return
            for (kind, _), r in zip(op.items, got):
                self.take(kind, r["body"])
            return
        body = op.final.json()
        if not isinstance(body, dict) or "id" not in body:
            op.bad = op.final
            return
        self.take(op.kind, body)

    def take(self, kind, rec):
        if kind == "delete" or rec.get("deleted"):
            self.live.pop(rec["id"], None)
        else:
            self.live[rec["id"]] = rec

    # -- the loop -------------------------------------------------------
    def run(self):
        st = self.storm
        try:
            while time.monotonic() < st.end:
                op = self.next_op()
                self.ops.append(op)
                if not send(st.side.port, st.token, op, st.end):
                    self.pending = op
                    return
                if op.final is not None:
                    self.apply(op)
                if op.bad is not None:
                    st.note_bad(op)
                time.sleep(self.rng.uniform(0, st.pace))
        except Exception as e:  # noqa: reported by the test
            self.error = "%s: %s" % (type(e).__name__, e)


# --------------------------------------------------------------------------
# the storm: clients, killer, worker loop
# --------------------------------------------------------------------------

class Storm:
    """Runs CLIENTS clients for SECONDS against SIDE while a killer and a
    worker loop run; every thread ends by itself after the storm."""

    def __init__(self, side, token, rx, seconds, clients, pace, kill_gap,
                 worker_args, worker_kills, slow_delivery):
        self.side = side
        self.token = token
        self.rx = rx
        self.seconds = seconds
        self.pace = pace
        self.kill_gap = kill_gap
        self.worker_args = list(worker_args)
        self.worker_kills_planned = worker_kills
        self.slow_delivery = slow_delivery
        self.seed = random.randrange(1 << 30)
        self.tag = "s%06x" % random.randrange(1 << 24)
        self.clients = [Client(self, n) for n in range(clients)]
        self.lock = threading.Lock()
        self.bad = []
        self.errors = []
        # what happened, for the report
        self.fcgi_kills = 0
        self.group_kills = 0
        self.group_down = 0.0      # seconds the server was down
        self.worker_runs = 0
        self.worker_kills = 0      # SIGKILLs that landed mid-delivery
        # event id -> time.time() by which its job was seen succeeded
        self.succeeded_seen = {}
        self._armed = False
        self._slow = threading.Event()
        self.start = self.end = None

    def note_bad(self, op):
        with self.lock:
            self.bad.append(op)

    # -- the receiver's rule: one slow answer when armed ------------------
    def rule(self, req):
        with self.lock:
            if self._armed:
                self._armed = False
                self._slow.set()
                return _slow_reply(self.slow_delivery)
        return None

    def arm(self):
        with self.lock:
            self._slow.clear()
            self._armed = True

    def disarm(self):
        with self.lock:
            self._armed = False

    # -- the killer --------------------------------------------------------
    def killer(self):
        rng = random.Random(self.seed + 7)
        group_at = self.start + self.seconds / 2
        grouped = False
        try:
            while True:
                pause = rng.uniform(*self.kill_gap)
                if time.monotonic() + pause >= self.end:
                    return
                time.sleep(pause)
                if not grouped and time.monotonic() >= group_at:
                    grouped = True
                    t = time.monotonic()
                    self.side.kill_group()
                    self.group_kills += 1
                    time.sleep(0.5)
                    self.side.restart()
                    self.group_down += time.monotonic() - t
                    continue
                pids = self.side.fcgi_pids()
                if not pids:
                    continue
                try:
                    os.kill(rng.choice(pids), signal.SIGKILL)
                    self.fcgi_kills += 1
                except ProcessLookupError:
                    pass
        except Exception as e:  # noqa: reported by the test
            self.errors.append("killer: %s: %s" % (type(e).__name__, e))

    # -- the worker loop -----------------------------------------------------
    def snapshot_succeeded(self):
        """Note, for every job the database says succeeded, a time by
        which it was (taken after the read)."""
        rows = self.side.db(
            "SELECT e.id FROM jobs j JOIN events e ON e.seq = j.event_seq "
            "WHERE j.org_id = ? AND j.state = 'succeeded'", (self.side.org,))
        t = now()
        for (eid,) in rows:
            self.succeeded_seen.setdefault(eid, t)

    def run_worker(self, plan=None):
        """One relaysync-worker run, bounded. PLAN: monotonic times at
        which to kill a worker; once the first has passed, the receiver
        is armed and the run is SIGKILLed as soon as one of its
        deliveries is held there (that time is then taken off PLAN).
        True when it was killed so."""
        proc = self.side.ws.spawn_worker(self.worker_args)
        self.worker_runs += 1
        armed = killed = False
        deadline = time.monotonic() + harness.WORKER_TIMEOUT
        try:
            while proc.poll() is None and time.monotonic() < deadline:
                if plan and not armed and time.monotonic() >= plan[0]:
                    self.arm()
                    armed = True
                if armed and self._slow.is_set():
                    time.sleep(0.2)     # the delivery is on the wire
                    if proc.poll() is None:
                        os.killpg(proc.pid, signal.SIGKILL)
                        killed = True
                        plan.pop(0)
                    break
                time.sleep(0.05)
        finally:
            if proc.poll() is None and not killed:
                os.killpg(proc.pid, signal.SIGKILL)
                self.errors.append("worker: still running after %d s"
                                   % harness.WORKER_TIMEOUT)
            proc.wait(10)
            if armed:
                self.disarm()
        if not killed and proc.returncode != 0:
            self.errors.append("worker: exit %s: %s" % (
                proc.returncode, harness.read_from(proc.output_path, 0)[-400:]))
        return killed

    def worker_loop(self):
        plan = [self.start + self.seconds * f
                for f in _spread(self.worker_kills_planned)]
        try:
            while time.monotonic() < self.end:
                if self.run_worker(plan):
                    self.worker_kills += 1
                self.snapshot_succeeded()
                time.sleep(0.3)
        except Exception as e:  # noqa: reported by the test
            self.errors.append("worker loop: %s: %s" % (type(e).__name__, e))

    # -- all of it ---------------------------------------------------------
    def run(self):
        self.start = time.monotonic()
        self.end = self.start + self.seconds
        threads = [threading.Thread(target=c.run, daemon=True)
                   for c in self.clients]
        threads.append(threading.Thread(target=self.killer, daemon=True))
        threads.append(threading.Thread(target=self.worker_loop,
                                        daemon=True))
        for t in threads:
            t.start()
        # Every thread stops starting work at self.end; an HTTP call, a
        # server restart or a worker run may still be under way.
        limit = (self.end + harness.HTTP_TIMEOUT + harness.START_TIMEOUT
                 + harness.WORKER_TIMEOUT)
        for t in threads:
            t.join(max(0.0, limit - time.monotonic()))
        alive = sum(1 for t in threads if t.is_alive())
        if alive:
            raise Failure("%d storm thread(s) still running %d s after the "
                          "storm's end" % (alive, limit - self.end))
        for c in self.clients:
            if c.error:
                self.errors.append("client %d: %s" % (c.n, c.error))

    def ops(self):
        return [op for c in self.clients for op in c.ops]


def _slow_reply(delay):
    from receiver import Reply
    return Reply(200, delay=delay)


def _spread(n):
    """N fractions of the storm at which the worker is killed."""
    return [(i + 0.5) / n * 0.9 for i in range(n)] if n else []
