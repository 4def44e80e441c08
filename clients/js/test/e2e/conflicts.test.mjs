// Two clients (two users of one org) edit one record: the loser's sync
// surfaces a conflict event carrying the server's conflict resource;
// resolve() takes either side or a hand-made record; with merge: true
// disjoint edits merge (Prefer: merge=fields) and overlapping ones still
// conflict.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Api, Recorder, env, lib, marker, syncUntilEmpty, count, header } from "./env.mjs";

const URL_ = env("RS_URL");
const KEY = env("RS_API_KEY");
const KEY2 = env("RS_API_KEY_2");

function conflictOf(ev) {
  return ev && ev.conflict && typeof ev.conflict === "object" ? ev.conflict : ev;
}

async function pair(opts = {}) {
  const { RelaySync, MemoryStorage } = await lib();
  const recA = new Recorder();
  const recB = new Recorder();
  const a = new RelaySync({ url: URL_, apiKey: KEY, storage: new MemoryStorage(),
    fetch: recA.fetch, backoff: { baseMs: 10, maxMs: 50 }, ...(opts.a || {}) });
  const b = new RelaySync({ url: URL_, apiKey: KEY2, storage: new MemoryStorage(),
    fetch: recB.fetch, backoff: { baseMs: 10, maxMs: 50 }, ...(opts.b || {}) });
  await a.open();
  await b.open();
  const conflictsB = [];
  const errorsB = [];
  b.on("conflict", (ev) => conflictsB.push(ev));
  b.on("error", (ev) => errorsB.push(ev));
  return { a, b, recA, recB, conflictsB, errorsB };
}

async function sharedRecord(api, a, b, m, data = { a: 1, b: 1 }) {
  const r = await api.create({ title: `${m}-r`, type: "t", data });
  await syncUntilEmpty(a, 20000);
  await syncUntilEmpty(b, 20000);
  assert.equal(a.get(r.id)?.causal, r.causal, "client A has the record");
  assert.equal(b.get(r.id)?.causal, r.causal, "client B has the record");
  return r;
}

async function loseOnTitle(api, m) {
  const p = await pair();
  const r = await sharedRecord(api, p.a, p.b, m);
  await p.a.patch(r.id, { title: `${m}-by-A` });
  await p.b.patch(r.id, { title: `${m}-by-B` });
  const ra = await p.a.sync();
  assert.equal(count(ra.conflicts), 0, "the first writer wins");
  const rb = await p.b.sync();
  assert.equal(count(rb.conflicts), 1, "B's sync reports one conflict: " + JSON.stringify(rb));
  assert.equal(p.conflictsB.length, 1, "one conflict event");
  assert.equal(p.b.status().queued, 0, "the losing op left the outbox");
  const cf = conflictOf(p.conflictsB[0]);
  assert.match(cf.id, /^cfl_/);
  assert.equal(cf.status, "open");
  assert.equal(cf.record_id, r.id);
  assert.equal(cf.attempted.title, `${m}-by-B`, "attempted is B's patch");
  assert.equal(cf.current.title, `${m}-by-A`, "current is A's write");
  assert.equal(cf.base_causal, r.causal, "B sent the causal it had seen");
  const srv = await api.conflict(cf.id);
  assert.equal(srv.id, cf.id);
  assert.deepEqual(srv.attempted, cf.attempted, "the event carries the server's resource");
  return { ...p, r, cf };
}

test("conflicts: two clients edit one title; the loser sees the conflict; resolve taking attempted", async () => {
  const api = new Api(URL_, KEY);
  const m = marker("cfl-att");
  const { a, b, r, cf } = await loseOnTitle(api, m);
  const res = await b.resolve(cf.id, { take: "attempted" });
  void res;
  const after = await api.conflict(cf.id);
  assert.equal(after.status, "resolved");
  const srv = (await api.get(r.id)).body;
  assert.equal(srv.title, `${m}-by-B`, "the attempted patch applied");
  await syncUntilEmpty(a, 20000);
  await syncUntilEmpty(b, 20000);
  assert.equal(a.get(r.id).title, `${m}-by-B`, "A pulls the resolution");
  assert.equal(b.get(r.id).title, `${m}-by-B`);
  assert.equal(b.get(r.id).causal, srv.causal);
  await a.close(); await b.close();
});

test("conflicts: resolve taking current keeps the winner, and the loser's copy follows it", async () => {
  const api = new Api(URL_, KEY);
  const m = marker("cfl-cur");
  const { a, b, r, cf } = await loseOnTitle(api, m);
  await b.resolve(cf.id, { take: "current" });
  assert.equal((await api.conflict(cf.id)).status, "resolved");
  const srv = (await api.get(r.id)).body;
  assert.equal(srv.title, `${m}-by-A`, "the record kept A's title");
  await syncUntilEmpty(b, 20000);
  assert.equal(b.get(r.id).title, `${m}-by-A`, "B's local copy is the server's again");
  assert.equal(b.get(r.id).causal, srv.causal);
  await a.close(); await b.close();
});

test("conflicts: resolve with a hand-made record", async () => {
  const api = new Api(URL_, KEY);
  const m = marker("cfl-rec");
  const { a, b, r, cf } = await loseOnTitle(api, m);
  await b.resolve(cf.id, { record: { title: `${m}-by-hand`, data: { hand: true } } });
  const srv = (await api.get(r.id)).body;
  assert.equal(srv.title, `${m}-by-hand`);
  assert.equal(srv.data.hand, true);
  assert.equal((await api.conflict(cf.id)).status, "resolved");
  await syncUntilEmpty(b, 20000);
  assert.equal(b.get(r.id).title, `${m}-by-hand`);
  await a.close(); await b.close();
});

test("conflicts: merge: true merges disjoint data edits (Prefer: merge=fields), no conflict", async () => {
  const api = new Api(URL_, KEY);
  const m = marker("merge");
  const p = await pair({ b: { merge: true } });
  const r = await sharedRecord(api, p.a, p.b, m);
  await p.a.patch(r.id, { data: { a: 2 } });
  await p.b.patch(r.id, { data: { b: 3 } });
  await syncUntilEmpty(p.a, 20000);
  const rb = await p.b.sync();
  assert.equal(count(rb.conflicts), 0, "merged, not a conflict: " + JSON.stringify(rb));
  assert.equal(p.conflictsB.length, 0);
  assert.equal(p.errorsB.length, 0, "no error: " + JSON.stringify(p.errorsB));
  const items = p.recB.batchItems().filter(({ item }) => item.method === "PATCH");
  assert.ok(items.length >= 1);
  for (const { item } of items) {
    assert.equal(header(item.headers, "Prefer"), "merge=fields", "PATCH items carry Prefer");
  }
  const srv = (await api.get(r.id)).body;
  assert.deepEqual(srv.data, { a: 2, b: 3 }, "both edits kept");
  assert.equal(srv.version, 3);
  await syncUntilEmpty(p.a, 20000);
  assert.deepEqual(p.a.get(r.id).data, { a: 2, b: 3 });
  assert.deepEqual(p.b.get(r.id).data, { a: 2, b: 3 });
  assert.equal(p.b.get(r.id).causal, srv.causal);
  await p.a.close(); await p.b.close();
});

test("conflicts: merge: true still conflicts when both edit the same key; merge: false conflicts on disjoint ones", async () => {
  const api = new Api(URL_, KEY);
  // same key, merge on
  {
    const m = marker("merge-same");
    const p = await pair({ b: { merge: true } });
    const r = await sharedRecord(api, p.a, p.b, m);
    await p.a.patch(r.id, { data: { a: 2 } });
    await p.b.patch(r.id, { data: { a: 3 } });
    await syncUntilEmpty(p.a, 20000);
    const rb = await p.b.sync();
    assert.equal(count(rb.conflicts), 1, "overlap: a conflict");
    const cf = conflictOf(p.conflictsB[0]);
    assert.deepEqual(cf.attempted, { data: { a: 3 } });
    assert.equal((await api.get(r.id)).body.data.a, 2, "the server kept A's value");
    await p.a.close(); await p.b.close();
  }
  // disjoint keys, merge off
  {
    const m = marker("merge-off");
    const p = await pair();
    const r = await sharedRecord(api, p.a, p.b, m);
    await p.a.patch(r.id, { data: { a: 2 } });
    await p.b.patch(r.id, { data: { b: 3 } });
    await syncUntilEmpty(p.a, 20000);
    const rb = await p.b.sync();
    assert.equal(count(rb.conflicts), 1, "without merge: a conflict");
    for (const { item } of p.recB.batchItems()) {
      assert.equal(header(item.headers, "Prefer"), undefined, "no Prefer without merge");
    }
    await p.a.close(); await p.b.close();
  }
});

test("conflicts: a client's own successive edits of one record never conflict (causal chained)", async () => {
  const api = new Api(URL_, KEY);
  const m = marker("chain");
  const { RelaySync, MemoryStorage } = await lib();
  const rec = new Recorder();
  const c = new RelaySync({ url: URL_, apiKey: KEY, storage: new MemoryStorage(), fetch: rec.fetch,
    batchSize: 100 });
  await c.open();
  const x = await c.create({ title: `${m}-0`, type: "t" });
  for (let i = 1; i <= 5; i++) await c.patch(x.id, { title: `${m}-${i}`, data: { [`k${i}`]: i } });
  const r = await c.sync();
  assert.equal(count(r.conflicts), 0, JSON.stringify(r));
  assert.equal(c.status().queued, 0, JSON.stringify(c.status()));
  assert.deepEqual((r.errors || []).filter((e) => e.status < 500 && e.status !== 429), [], JSON.stringify(r));
  const all = (await api.listAll()).filter((y) => y.title.startsWith(m));
  assert.equal(all.length, 1);
  assert.equal(all[0].title, `${m}-5`);
  assert.equal(all[0].version, 6);
  assert.deepEqual(all[0].data, { k1: 1, k2: 2, k3: 3, k4: 4, k5: 5 });
  assert.equal(c.get(all[0].id).causal, all[0].causal);
  await c.close();
});

test("conflicts: an edit queued while a pull is in flight stays on top of the pulled state, then surfaces as a conflict", async () => {
  const { RelaySync, MemoryStorage } = await lib();
  const api = new Api(URL_, KEY);
  const m = marker("ontop");
  const r = await api.create({ title: `${m}-r`, type: "t", data: { a: 1, b: 1 } });
  const rec = new Recorder();
  const c = new RelaySync({ url: URL_, apiKey: KEY, storage: new MemoryStorage(), fetch: rec.fetch });
  await c.open();
  await syncUntilEmpty(c, 20000);
  const statuses = [];
  c.on("status", (s) => statuses.push(s));
  // someone else changes the record; the app edits it while the pull that
  // brings that change is on the wire (the edit is based on what it saw)
  const other = await api.patch(r.id, { data: { b: 2 }, causal: r.causal });
  let queuedDuringPull = null;
  rec.onRequest = (e) => {
    if (!queuedDuringPull && e.path === "/v1/records" && e.method === "GET") {
      queuedDuringPull = c.patch(r.id, { title: `${m}-local` });
    }
  };
  await c.sync();
  rec.onRequest = null;
  assert.ok(queuedDuringPull, "the edit was made during the pull");
  await queuedDuringPull;
  assert.ok(statuses.some((s) => s.syncing === true), "status() showed syncing during sync()");
  const view = c.get(r.id);
  assert.equal(view.title, `${m}-local`, "the queued edit stays on top of the pulled record");
  assert.deepEqual(view.data, { a: 1, b: 2 }, "the pulled server change shows under it");
  // pushed: it was based on the causal seen before the other write
  const conflicts = [];
  c.on("conflict", (e) => conflicts.push(conflictOf(e)));
  await syncUntilEmpty(c, 20000);
  assert.equal(conflicts.length, 1, "the edit made on a stale view surfaces as a conflict");
  assert.equal(conflicts[0].base_causal, r.causal, "sent with the causal known when queued");
  assert.equal(conflicts[0].current.causal, other.causal);
  assert.equal(c.get(r.id).title, `${m}-r`, "the local copy is the server's again");
  await c.close();
});
