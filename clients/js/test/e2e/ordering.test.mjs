// Ordering and concurrency: one record's ops are never reordered, at any
// batch size, however ops of many records interleave; sync() called again
// while one runs pushes nothing twice; writes made while a sync pushes
// (patches of creates still in flight included) all land, once.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Api, Recorder, env, lib, marker, syncUntilEmpty, titlesWith, count } from "./env.mjs";

const URL_ = env("RS_URL");
const KEY = env("RS_API_KEY");

async function client(opts = {}) {
  const { RelaySync, MemoryStorage } = await lib();
  const rec = new Recorder();
  const c = new RelaySync({ url: URL_, apiKey: KEY, storage: new MemoryStorage(), fetch: rec.fetch,
    backoff: { baseMs: 10, maxMs: 50 }, ...opts });
  await c.open();
  return { c, rec };
}

// a deterministic pseudo-random sequence
function lcg(seed) {
  let x = seed >>> 0;
  return () => { x = (Math.imul(x, 1664525) + 1013904223) >>> 0; return x / 2 ** 32; };
}

for (const batchSize of [1, 2, 7, 100]) {
  test(`ordering: interleaved ops of 12 records, batchSize ${batchSize}: the server ends as the local copy`, async () => {
    const api = new Api(URL_, KEY);
    const m = marker(`order${batchSize}`);
    const { c } = await client({ batchSize });
    const rnd = lcg(batchSize * 7919);
    const ids = [];
    const expect = new Map();   // index -> expected {title, data} or null (deleted)
    for (let step = 0; step < 80; step++) {
      const roll = rnd();
      const live = [...expect.entries()].filter(([, v]) => v).map(([k]) => k);
      if (ids.length < 12 && (roll < 0.25 || live.length === 0)) {
        const i = ids.length;
        const r = await c.create({ title: `${m}-${i}-v0`, type: "t", data: { i } });
        ids.push(r.id);
        expect.set(i, { title: `${m}-${i}-v0`, data: { i } });
      } else if (roll < 0.93 || live.length < 3) {
        const i = live[Math.floor(rnd() * live.length)];
        const e = expect.get(i);
        const title = `${m}-${i}-v${step}`;
        const key = `k${step % 5}`;
        await c.patch(ids[i], { title, data: { [key]: step } });
        expect.set(i, { title, data: { ...e.data, [key]: step } });
      } else {
        const i = live[Math.floor(rnd() * live.length)];
        await c.delete(ids[i]);
        expect.set(i, null);
      }
    }
    const results = await syncUntilEmpty(c, 60000);
    for (const r of results) {
      assert.equal(count(r.conflicts), 0, "no conflict with oneself: " + JSON.stringify(r));
      // a transient 5xx/429 is retried by the next sync; a 4xx would drop an op
      const dropped = (r.errors || []).filter((e) => e.status && e.status < 500 && e.status !== 429);
      assert.deepEqual(dropped, [], "no op refused: " + JSON.stringify(r));
    }
    const server = (await api.listAll()).filter((r) => r.title.startsWith(m + "-"));
    const want = [...expect.values()].filter(Boolean).map((e) => e.title).sort();
    assert.deepEqual(server.map((r) => r.title).sort(), want, "the live records and their last titles");
    for (const r of server) {
      const i = Number(r.title.slice(m.length + 1).split("-")[0]);
      assert.deepEqual(r.data, expect.get(i).data, `record ${i}'s data`);
    }
    const local = c.list().filter((r) => !r.deleted && r.title.startsWith(m + "-"));
    assert.deepEqual(local.map((r) => [r.id, r.title, r.causal]).sort(),
      server.map((r) => [r.id, r.title, r.causal]).sort(), "the local copy is the server's");
    await c.close();
  });
}

test("ordering: sync() called three times at once pushes each op once", async () => {
  const api = new Api(URL_, KEY);
  const m = marker("concurrent");
  const { c, rec } = await client({ batchSize: 50 });
  for (let i = 0; i < 400; i++) await c.create({ title: `${m}-${i}`, type: "t" });
  const rs = await Promise.all([c.sync(), c.sync(), c.sync()]);
  await syncUntilEmpty(c, 30000);
  const titles = await titlesWith(api, m);
  assert.equal(titles.size, 400);
  for (const [t, n] of titles) assert.equal(n, 1, t);
  const items = rec.batchItems().length;
  assert.ok(items <= 400 + 50, `items sent ${items}: concurrent syncs do not each push the outbox`);
  const local = c.list().filter((r) => r.title.startsWith(m));
  assert.equal(local.length, 400, "each record once in the local copy");
  void rs;
  await c.close();
});

test("ordering: writes made while a sync pushes (patches of creates in flight) all land once", async () => {
  const api = new Api(URL_, KEY);
  const m = marker("during");
  const { c } = await client({ batchSize: 100 });
  const made = [];
  for (let i = 0; i < 1000; i++) made.push(await c.create({ title: `${m}-${i}`, type: "t", data: { i } }));
  let firstPush = null;
  const pushedOnce = new Promise((res) => { firstPush = res; });
  c.on("pushed", () => firstPush());
  const s = c.sync();
  await pushedOnce;
  // the push runs: queue more work, some of it on records still queued
  const extra = [];
  for (let i = 0; i < 50; i++) extra.push(await c.create({ title: `${m}-x${i}`, type: "t" }));
  await c.patch(made[999].id, { data: { late: true } });       // its create not pushed yet
  await c.patch(extra[3].id, { title: `${m}-x3-renamed` });
  await c.delete(made[998].id);
  await s;
  await syncUntilEmpty(c, 30000);
  const titles = await titlesWith(api, m);
  assert.equal(titles.size, 1000 - 1 + 50, "all creates but the deleted one");
  for (const [t, n] of titles) assert.equal(n, 1, t + " once");
  assert.ok(titles.has(`${m}-x3-renamed`));
  const all = await api.listAll();
  assert.deepEqual(all.find((r) => r.title === `${m}-999`).data, { i: 999, late: true });
  assert.equal(all.find((r) => r.title === `${m}-998`), undefined);
  assert.equal(c.list().filter((r) => !r.deleted && r.title.startsWith(m)).length, 1049);
  await c.close();
});

test("ordering: large records (60 KB of data each, 2.4 MB in all) are chunked under the 1 MiB body cap", async () => {
  const api = new Api(URL_, KEY);
  const m = marker("big");
  const { c, rec } = await client();
  const blob = "x".repeat(60000);
  for (let i = 0; i < 40; i++) await c.create({ title: `${m}-${i}`, type: "t", data: { i, blob } });
  const errors = [];
  c.on("error", (e) => errors.push(e));
  await syncUntilEmpty(c, 60000);
  assert.deepEqual(errors.map((e) => e.status), [], "no op refused");
  for (const e of rec.requests("/v1/batch", "POST")) {
    assert.notEqual(e.status, 413, "no batch over the cap");
    assert.ok(JSON.stringify(e.body).length <= 1048576, "each batch body within 1 MiB");
  }
  const all = (await api.listAll()).filter((r) => r.title.startsWith(m));
  assert.equal(all.length, 40);
  assert.ok(all.every((r) => r.data.blob.length === 60000));
  await c.close();
});

test("ordering: a create the server refuses (400) is reported and dropped; the ops around it land", async () => {
  const api = new Api(URL_, KEY);
  const m = marker("bad");
  const { c } = await client({ batchSize: 100 });
  const errors = [];
  c.on("error", (e) => errors.push(e));
  await c.create({ title: `${m}-0`, type: "t" });
  let refusedLocally = false;
  try {
    await c.create({ title: `${m}-bad`, type: "t", status: "no-such-status" });
  } catch {
    refusedLocally = true;   // a client may refuse it at once instead
  }
  await c.create({ title: `${m}-2`, type: "t" });
  const r = await c.sync();
  assert.equal(c.status().queued, 0, "nothing stuck: " + JSON.stringify(c.status()));
  if (!refusedLocally) {
    assert.equal(errors.length, 1, "one error event: " + JSON.stringify(errors));
    assert.equal(errors[0].status, 400);
    assert.equal(count(r.errors), 1);
    assert.ok(!c.list().some((x) => x.title === `${m}-bad`), "the refused create left the local copy");
  }
  const titles = await titlesWith(api, m);
  assert.deepEqual([...titles.keys()].sort(), [`${m}-0`, `${m}-2`]);
  await c.close();
});
