import { test } from "node:test";
import assert from "node:assert/strict";
import { FakeServer, makeClient } from "./fake-server.mjs";
import { MemoryStorage } from "../../src/relaysync.mjs";

test("create() returns a lid_ record at once, stores the op first, never touches the network", async () => {
  const s = new FakeServer();
  const storage = new MemoryStorage();
  const c = await makeClient(s, { storage });
  const queued = [];
  c.on("queued", (op) => queued.push(op));
  const r = await c.create({ title: "A", type: "t", data: { x: 1 } });
  assert.match(r.id, /^lid_[0-9a-f-]{36}$/);
  assert.equal(r.title, "A");
  assert.deepEqual(r.data, { x: 1 });
  assert.equal(s.log.length, 0, "no request made");
  const ops = await storage.entries("op/");
  assert.equal(ops.length, 1);
  assert.equal(ops[0][0], "op/000000000001");
  const op = ops[0][1];
  assert.equal(op.kind, "create");
  assert.equal(op.id, r.id);
  assert.match(op.key, /^[0-9a-f-]{36}$/);
  assert.equal(op.causal, null);
  assert.equal(typeof op.queuedAt, "number");
  assert.equal(queued.length, 1);
  assert.equal(queued[0].key, op.key);
  assert.equal(c.status().queued, 1);
  assert.deepEqual(c.list().map((x) => x.title), ["A"]);
});

test("the op is durable before create() resolves (a slow storage is awaited)", async () => {
  const s = new FakeServer();
  const storage = new MemoryStorage();
  let release;
  const gate = new Promise((r) => (release = r));
  const origBatch = storage.batch.bind(storage);
  let writes = 0;
  storage.batch = async (w) => {
    await gate;
    writes++;
    return origBatch(w);
  };
  const c = await makeClient(s, { storage });
  let resolved = false;
  const p = c.create({ title: "A", type: "t" }).then(() => (resolved = true));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(resolved, false, "create() waits for the storage write");
  release();
  await p;
  assert.equal(writes, 1);
  assert.equal((await storage.entries("op/")).length, 1);
});

test("local edits are applied on top: patch (with data merge) and delete, get() and list()", async () => {
  const s = new FakeServer();
  const c = await makeClient(s);
  const r = await c.create({ title: "A", type: "t", data: { a: 1, b: { c: 1 } } });
  await c.patch(r.id, { title: "B", data: { a: null, b: { d: 2 } } });
  assert.equal(c.get(r.id).title, "B");
  assert.deepEqual(c.get(r.id).data, { b: { c: 1, d: 2 } });
  const r2 = await c.create({ title: "C", type: "t" });
  await c.delete(r2.id);
  assert.equal(c.get(r2.id), undefined);
  assert.deepEqual(c.list().map((x) => x.id), [r.id]);
  await assert.rejects(c.patch("rec_nope", { title: "x" }), /no local record/);
  await assert.rejects(c.patch(r.id, { bogus: 1 }), /unknown member/);
  await assert.rejects(c.create({ title: "x" }), /required/);
});

test("sync pushes in order, maps lid_ to the server id in later ops, one record's ops never share a batch", async () => {
  const s = new FakeServer();
  const c = await makeClient(s);
  const a = await c.create({ title: "A", type: "t" });
  const b = await c.create({ title: "B", type: "t" });
  await c.patch(a.id, { title: "A2" });
  await c.patch(a.id, { data: { n: 1 } });
  await c.patch(b.id, { title: "B2" });
  await c.delete(b.id);
  const pushed = [];
  c.on("pushed", (e) => pushed.push(e));
  const res = await c.sync();
  assert.equal(res.pushed, 6);
  assert.deepEqual(res.errors, []);
  const batches = s.batches();
  // chunk 1: create A, create B; then each chunk ends before a second op of one record
  assert.deepEqual(batches.map((b) => b.body.requests.map((r) => r.method)), [
    ["POST", "POST"],
    ["PATCH"],
    ["PATCH", "PATCH"],
    ["DELETE"],
  ]);
  const recA = [...s.records.values()].find((r) => r.title === "A2");
  assert.ok(recA, "A patched on the server");
  assert.deepEqual(recA.data, { n: 1 });
  assert.equal(batches[1].body.requests[0].path, `/v1/records/${recA.id}`);
  // each patch sent the causal the previous op of its record returned
  assert.equal(batches[1].body.requests[0].body.causal, pushed[0].record.causal);
  assert.equal(batches[2].body.requests[0].body.causal, pushed[2].record.causal);
  assert.equal(batches[2].body.requests[1].body.causal, pushed[1].record.causal);
  // delete sends If-Match with the patch's causal
  assert.equal(batches[3].body.requests[0].headers["If-Match"], `"${pushed[4].record.causal}"`);
  // lid maps to the server id locally
  assert.equal(c.get(a.id).id, recA.id);
  assert.equal(c.get(recA.id).title, "A2");
  assert.equal(c.get(b.id), undefined);
  assert.equal(c.status().queued, 0);
  assert.equal(pushed[0].op.id, a.id, "pushed event shows the op as queued (lid)");
  assert.equal(pushed[0].record.id, recA.id);
  assert.equal(s.applied, 6);
});

test("chunks of at most 100 items (250 creates -> 100, 100, 50) and batchSize is honoured", async () => {
  const s = new FakeServer();
  const c = await makeClient(s);
  for (let i = 0; i < 250; i++) await c.create({ title: `r${i}`, type: "t" });
  const res = await c.sync();
  assert.equal(res.pushed, 250);
  assert.deepEqual(s.batches().map((b) => b.body.requests.length), [100, 100, 50]);
  assert.deepEqual(
    s.batches().flatMap((b) => b.body.requests.map((r) => r.body.title)),
    Array.from({ length: 250 }, (_, i) => `r${i}`),
    "order kept",
  );
  const s2 = new FakeServer();
  const c2 = await makeClient(s2, { batchSize: 7 });
  for (let i = 0; i < 20; i++) await c2.create({ title: `r${i}`, type: "t" });
  await c2.sync();
  assert.deepEqual(s2.batches().map((b) => b.body.requests.length), [7, 7, 6]);
  const c3 = await makeClient(new FakeServer(), { batchSize: 500 });
  assert.equal(c3.batchSize, 100, "capped at 100");
});

test("a chunk ends before an op that depends on an earlier op of the same record in it", async () => {
  const s = new FakeServer();
  const c = await makeClient(s);
  const ids = [];
  for (let i = 0; i < 5; i++) ids.push((await c.create({ title: `r${i}`, type: "t" })).id);
  await c.patch(ids[2], { title: "x" }); // depends on create #2 in the same chunk
  for (let i = 5; i < 8; i++) await c.create({ title: `r${i}`, type: "t" });
  await c.sync();
  assert.deepEqual(s.batches().map((b) => b.body.requests.map((r) => r.method + (r.body?.title ?? ""))), [
    ["POSTr0", "POSTr1", "POSTr2", "POSTr3", "POSTr4"],
    ["PATCHx", "POSTr5", "POSTr6", "POSTr7"],
  ]);
});

test("the Idempotency-Key is made when queued and re-sent unchanged on every retry", async () => {
  const s = new FakeServer();
  const c = await makeClient(s);
  await c.create({ title: "A", type: "t" });
  await c.create({ title: "B", type: "t" });
  const [op1, op2] = c._ops.map((o) => o.key);
  let fail = 2;
  s.hooks.batch = () => {
    if (fail-- > 0) throw new TypeError("fetch failed"); // network error
  };
  const res = await c.sync();
  assert.equal(res.pushed, 2);
  const keys = s.batches().map((b) => b.body.requests.map((r) => r.headers["Idempotency-Key"]));
  assert.equal(keys.length, 3);
  for (const k of keys) assert.deepEqual(k, [op1, op2]);
  assert.equal(c.sleeps.length, 2, "backed off twice");
});

test("a batch applied by the server but whose answer was lost is replayed, not applied twice", async () => {
  const s = new FakeServer();
  const c = await makeClient(s);
  for (let i = 0; i < 5; i++) await c.create({ title: `r${i}`, type: "t" });
  let lose = true;
  const orig = s.batch.bind(s);
  s.batch = (body) => {
    const r = orig(body);
    if (lose) {
      lose = false;
      throw new TypeError("socket hang up"); // the server applied it, the answer never came
    }
    return r;
  };
  const res = await c.sync();
  assert.equal(res.pushed, 5);
  assert.equal(s.applied, 5, "each create applied exactly once");
  assert.equal([...s.records.values()].length, 5);
  assert.equal(c.list().length, 5);
  assert.ok(c.list().every((r) => r.id.startsWith("rec_")));
});

test("a restart (new client on the same storage) resumes the queue with the same keys", async () => {
  const s = new FakeServer();
  const storage = new MemoryStorage();
  const c1 = await makeClient(s, { storage });
  const a = await c1.create({ title: "A", type: "t" });
  await c1.patch(a.id, { title: "A2" });
  const b = await c1.create({ title: "B", type: "t" });
  const keys = c1._ops.map((o) => o.key);
  // first attempt: the server applies it all, the answer is lost, and the
  // process "dies" while backing off (its sleep never ends).
  s.hooks.batch = (body) => {
    s.hooks.batch = null;
    s.batch(body);
    throw new TypeError("socket hang up");
  };
  c1._sleepImpl = () => new Promise(() => {});
  c1.sync();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(s.applied, 1, "the first chunk (create A) was applied");
  const c2 = await makeClient(s, { storage });
  assert.equal(c2.status().queued, 3);
  assert.deepEqual(c2._ops.map((o) => o.key), keys);
  assert.equal(c2.get(a.id).title, "A2", "local view rebuilt from storage");
  const res = await c2.sync();
  assert.equal(res.pushed, 3);
  assert.deepEqual(res.errors, []);
  const sent = s.batches().flatMap((x) => x.body.requests.map((r) => r.headers["Idempotency-Key"]));
  assert.equal(sent.filter((x) => x === keys[0]).length, 2, "create A re-sent with its key");
  assert.deepEqual([...new Set(sent)].sort(), [...keys].sort(), "no other key ever sent");
  assert.equal(s.applied, 3, "nothing applied twice");
  assert.equal(c2.get(b.id).title, "B");
  assert.equal(c2.get(a.id).title, "A2");
  // seq continues after a restart
  await c2.create({ title: "C", type: "t" });
  assert.ok(c2._ops[0].seq > 3);
});

test("a restart after a create was pushed maps later ops queued on its lid_", async () => {
  const s = new FakeServer();
  const storage = new MemoryStorage();
  const c1 = await makeClient(s, { storage });
  const a = await c1.create({ title: "A", type: "t" });
  await c1.sync();
  await c1.patch(a.id, { title: "A2" }); // patch by lid after push
  await c1.close();
  const c2 = await makeClient(s, { storage });
  assert.equal(c2.get(a.id).title, "A2");
  await c2.sync();
  assert.equal([...s.records.values()][0].title, "A2");
});
