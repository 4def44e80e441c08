import { test } from "node:test";
import assert from "node:assert/strict";
import { FakeServer, makeClient, problem, json } from "./fake-server.mjs";
import { RelaySync, MemoryStorage, parseRetryAfter } from "../../src/relaysync.mjs";

async function seeded(opts = {}) {
  const s = new FakeServer();
  const rec = s.serverCreate("orig");
  const c = await makeClient(s, opts);
  await c.sync(); // pull it
  s.log.length = 0;
  return { s, c, rec };
}

test("409 causal_conflict: the conflict is fetched, emitted with the op, the op dropped, the server copy updated", async () => {
  const { s, c, rec } = await seeded();
  await c.patch(rec.id, { title: "mine" });
  s.serverPatch(rec.id, { title: "theirs" }); // someone else wrote first
  const conflicts = [];
  c.on("conflict", (e) => conflicts.push(e));
  const res = await c.sync();
  assert.equal(res.conflicts.length, 1);
  assert.equal(conflicts.length, 1);
  const ev = conflicts[0];
  assert.match(ev.conflict.id, /^cfl_/);
  assert.equal(ev.conflict.record_id, rec.id);
  assert.deepEqual(ev.conflict.attempted, { title: "mine" });
  assert.equal(ev.op.kind, "patch");
  assert.equal(ev.problem.code, "causal_conflict");
  assert.ok(s.log.some((e) => e.method === "GET" && e.path === `/v1/conflicts/${ev.conflict.id}`), "conflict fetched");
  assert.equal(c.status().queued, 0, "op dropped");
  assert.equal(c.get(rec.id).title, "theirs", "local copy is the server's");
  // resolve it: take attempted
  const out = await c.resolve(ev.conflict.id, { take: "attempted" });
  assert.equal(out.conflict.status, "resolved");
  assert.equal(c.get(rec.id).title, "mine");
  const rq = s.log.find((e) => e.path.endsWith("/resolve"));
  assert.deepEqual(rq.body, { take: "attempted" });
  assert.ok(rq.headers["idempotency-key"]);
  await assert.rejects(c.resolve(ev.conflict.id, { take: "current", record: {} }), /resolve/);
});

test("merge: true sends Prefer: merge=fields on every PATCH item (and only there)", async () => {
  const { s, c, rec } = await seeded({ merge: true });
  await c.patch(rec.id, { title: "x" });
  await c.create({ title: "n", type: "t" });
  await c.sync();
  const items = s.batches().flatMap((b) => b.body.requests);
  const patch = items.find((i) => i.method === "PATCH");
  const post = items.find((i) => i.method === "POST");
  assert.equal(patch.headers.Prefer, "merge=fields");
  assert.equal(post.headers.Prefer, undefined);
  assert.match(patch.body.causal, /^0/);
});

test("other 4xx (400/404/410/422) are reported as error events and dropped: a poison op does not block the queue", async () => {
  const { s, c, rec } = await seeded();
  await c.create({ title: "bad", type: "t" });
  await c.create({ title: "good", type: "t" });
  await c.patch(rec.id, { title: "later" });
  s.hooks.item = (it) => (it.body?.title === "bad" ? { status: 400, body: problem(400, "invalid_request") } : null);
  const errors = [];
  c.on("error", (e) => errors.push(e));
  const res = await c.sync();
  assert.equal(res.pushed, 2);
  assert.equal(res.errors.length, 1);
  assert.equal(errors[0].status, 400);
  assert.equal(errors[0].op.body.title, "bad");
  assert.equal(errors[0].problem.code, "invalid_request");
  assert.equal(c.status().queued, 0);
  assert.equal(c.status().lastError.code, "invalid_request");
  assert.deepEqual(c.list().map((r) => r.title).sort(), ["good", "later"]);
});

test("ops queued on a lid_ whose create was refused are dropped with dependency_failed", async () => {
  const s = new FakeServer();
  const c = await makeClient(s);
  const a = await c.create({ title: "bad", type: "t" });
  await c.patch(a.id, { title: "bad2" });
  await c.create({ title: "ok", type: "t" });
  s.hooks.item = (it) => (it.body?.title === "bad" ? { status: 422, body: problem(422, "idempotency_key_reused") } : null);
  const res = await c.sync();
  assert.deepEqual(res.errors.map((e) => e.problem.code), ["idempotency_key_reused", "dependency_failed"]);
  assert.equal(res.pushed, 1);
  assert.equal(c.status().queued, 0);
  assert.equal(c.get(a.id), undefined);
});

test("410 record_deleted on a patch drops the op and the local copy", async () => {
  const { s, c, rec } = await seeded();
  await c.patch(rec.id, { title: "x" });
  s.records.get(rec.id).deleted = true;
  const res = await c.sync();
  assert.equal(res.errors[0].status, 410);
  assert.equal(c.get(rec.id), undefined);
});

test("429 item: Retry-After honoured, the op and the rest kept and retried in the same sync()", async () => {
  const s = new FakeServer();
  const c = await makeClient(s, { backoff: { baseMs: 100, maxMs: 1000 } });
  for (let i = 0; i < 4; i++) await c.create({ title: `r${i}`, type: "t" });
  let n = 0;
  s.hooks.item = (it) => {
    // the 3rd and 4th items of the first batch are rate limited
    if (n++ >= 2 && n <= 4) return { status: 429, headers: { "Retry-After": "3" }, body: problem(429, "rate_limited") };
    return null;
  };
  const res = await c.sync();
  assert.equal(res.pushed, 4);
  assert.deepEqual(res.errors, []);
  assert.deepEqual(c.sleeps, [3000], "waited Retry-After (3 s) once");
  const b = s.batches();
  assert.equal(b.length, 2);
  assert.deepEqual(b[1].body.requests.map((r) => r.body.title), ["r2", "r3"], "only the kept ops re-sent, in order");
  assert.equal(b[1].body.requests[0].headers["Idempotency-Key"], b[0].body.requests[2].headers["Idempotency-Key"]);
  assert.equal(s.applied, 4);
  assert.equal(c.status().lastError, null, "cleared by the successful end");
});

test("503 for the whole batch and network failures keep every op; capped exponential back-off with full jitter", async () => {
  const s = new FakeServer();
  let r = 0.999;
  const c = await makeClient(s, { backoff: { baseMs: 100, maxMs: 1000, attempts: 20 }, random: () => r });
  await c.create({ title: "a", type: "t" });
  await c.create({ title: "b", type: "t" });
  let fails = 8;
  s.hooks.batch = () => {
    if (fails-- <= 0) return null;
    if (fails % 2) throw new TypeError("ECONNREFUSED");
    return json(503, problem(503, "service_unavailable"));
  };
  const statuses = [];
  c.on("status", (st) => statuses.push(st));
  const res = await c.sync();
  assert.equal(res.pushed, 2);
  // 100, 200, 400, 800, then capped at 1000 (times the 0.999 jitter draw)
  assert.deepEqual(c.sleeps.map((x) => Math.round(x)), [100, 200, 400, 799, 999, 999, 999, 999]);
  assert.ok(statuses.some((st) => st.syncing && st.lastError), "status shows the error while retrying");
  // full jitter: a draw of 0 may mean no wait at all
  const s2 = new FakeServer();
  const c2 = await makeClient(s2, { random: () => 0 });
  await c2.create({ title: "a", type: "t" });
  let once = true;
  s2.hooks.batch = () => (once ? ((once = false), json(500, problem(500, "internal_error"))) : null);
  await c2.sync();
  assert.deepEqual(c2.sleeps, [0]);
});

test("after the bounded attempts sync() resolves with the error in status and every op kept", async () => {
  const s = new FakeServer();
  const c = await makeClient(s, { backoff: { baseMs: 1, maxMs: 10, attempts: 3 } });
  await c.create({ title: "a", type: "t" });
  s.hooks.batch = () => json(429, problem(429, "rate_limited"), { "Retry-After": "1" });
  const errs = [];
  c.on("error", (e) => errs.push(e));
  const res = await c.sync();
  assert.equal(res.pushed, 0);
  assert.equal(res.errors.length, 1);
  assert.equal(res.errors[0].status, 429);
  assert.equal(s.batches().length, 4, "1 try + 3 retries");
  assert.deepEqual(c.sleeps, [1000, 1000, 1000]);
  const st = c.status();
  assert.equal(st.queued, 1);
  assert.equal(st.syncing, false);
  assert.deepEqual(st.lastError, { status: 429, code: "rate_limited", detail: "rate_limited" });
  assert.equal(errs.length, 1);
  assert.equal(s.log.filter((e) => e.path.startsWith("/v1/records")).length, 0, "no pull after a failed push");
  // the next sync() succeeds with the same key
  s.hooks.batch = null;
  const key = c._ops[0].key;
  const res2 = await c.sync();
  assert.equal(res2.pushed, 1);
  assert.equal(s.batches().at(-1).body.requests[0].headers["Idempotency-Key"], key);
  assert.equal(c.status().lastError, null);
});

test("a whole batch refused with a 4xx is split to find the bad op", async () => {
  const s = new FakeServer();
  const c = await makeClient(s);
  for (const t of ["a", "b", "c"]) await c.create({ title: t, type: "t" });
  s.hooks.batch = (body) =>
    body.requests.some((r) => r.body.title === "b") ? json(413, problem(413, "payload_too_large")) : null;
  const res = await c.sync();
  assert.equal(res.pushed, 2);
  assert.equal(res.errors.length, 1);
  assert.equal(res.errors[0].op.body.title, "b");
  assert.deepEqual(s.batches().map((b) => b.body.requests.length), [3, 1, 1, 1]);
});

test("chunks stay under the 1 MiB body limit", async () => {
  const s = new FakeServer();
  const c = await makeClient(s);
  const big = "x".repeat(60000);
  for (let i = 0; i < 40; i++) await c.create({ title: `r${i}`, type: "t", data: { big } });
  await c.sync();
  for (const b of s.batches()) assert.ok(JSON.stringify(b.body).length < 1024 * 1024);
  assert.ok(s.batches().length >= 3);
  assert.equal(s.applied, 40);
});

test("parseRetryAfter: seconds and HTTP dates", () => {
  assert.equal(parseRetryAfter("2"), 2000);
  assert.equal(parseRetryAfter(null), null);
  assert.equal(parseRetryAfter("garbage"), null);
  const now = Date.parse("2026-01-01T00:00:00Z");
  assert.equal(parseRetryAfter("Thu, 01 Jan 2026 00:00:05 GMT", now), 5000);
});

test("concurrent sync() calls share one run plus at most one follow-up", async () => {
  const s = new FakeServer();
  const c = await makeClient(s);
  await c.create({ title: "a", type: "t" });
  const p1 = c.sync();
  const p2 = c.sync();
  const p3 = c.sync();
  assert.equal(p2, p3);
  const [r1] = await Promise.all([p1, p2, p3]);
  assert.equal(r1.pushed, 1);
  assert.equal(s.batches().length, 1);
  assert.equal(s.log.filter((e) => e.path.startsWith("/v1/records?")).length, 2, "two pulls");
});
