// Offline edits are queued (durably, with their Idempotency-Key made when
// queued) and synced once the server is reachable; a client that restarts
// on the same FileStorage pushes what the last one queued, exactly once.

import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { Api, Recorder, env, lib, marker, tempDir, removeDir, titlesWith,
  syncUntilEmpty, count, header } from "./env.mjs";

const URL_ = env("RS_URL");
const KEY = env("RS_API_KEY");

test("offline: creates, patches and deletes queue at once and sync when online", async () => {
  const { RelaySync, MemoryStorage } = await lib();
  const api = new Api(URL_, KEY);
  const m = marker("offline");
  // a record the client knows from an earlier sync, changed while offline
  const known = await api.create({ title: `${m}-known`, type: "t", data: { n: 1 } });
  const doomed = await api.create({ title: `${m}-doomed`, type: "t" });

  const rec = new Recorder();
  const c = new RelaySync({ url: URL_, apiKey: KEY, storage: new MemoryStorage(),
    fetch: rec.fetch, backoff: { baseMs: 10, maxMs: 50 } });
  await c.open();
  await syncUntilEmpty(c, 20000);
  assert.ok(c.get(known.id), "the known record was pulled");

  rec.offline = true;
  const queued = [];
  c.on("queued", (op) => queued.push(op));
  const before = rec.log.length;
  const t0 = Date.now();
  const a = await c.create({ title: `${m}-a`, type: "t", data: { v: 1 } });
  const b = await c.create({ title: `${m}-b`, type: "t", site: "north" });
  await c.patch(a.id, { data: { v: 2 } });           // on a queued create
  await c.patch(known.id, { title: `${m}-known-2` }); // on a server record
  await c.delete(doomed.id);
  const elapsed = Date.now() - t0;
  assert.equal(rec.log.length, before, "local writes never touch the network");
  assert.ok(elapsed < 2000, `five local writes took ${elapsed} ms`);
  assert.match(a.id, /^lid_/, "a queued create has a local id");
  assert.equal(queued.length, 5, "one queued event per op");
  for (const op of queued) {
    assert.ok(typeof op.key === "string" && op.key.length >= 16, "op has its Idempotency-Key: " + JSON.stringify(op));
  }
  assert.equal(new Set(queued.map((o) => o.key)).size, 5, "every op has its own key");
  assert.equal(c.status().queued, 5);

  // the local copy shows the edits on top of the server state
  assert.equal(c.get(a.id).data.v, 2, "local patch applied to the queued create");
  assert.equal(c.get(known.id).title, `${m}-known-2`);
  assert.ok(!c.get(doomed.id) || c.get(doomed.id).deleted, "deleted locally");
  assert.ok(c.list().some((r) => r.id === b.id));

  // offline sync: nothing lost, an error in status, the same keys kept
  const r1 = await c.sync();
  assert.equal(c.status().queued, 5, "ops kept after a failed sync: " + JSON.stringify(r1));
  assert.ok(c.status().lastError, "status().lastError set while offline");
  const offlineKeys = rec.batchItems().map(({ item }) => header(item.headers, "Idempotency-Key"));
  for (const k of offlineKeys) assert.ok(queued.some((o) => o.key === k), "a retry re-sends a queued key: " + k);

  // back online
  rec.offline = false;
  await syncUntilEmpty(c, 30000);
  const st = c.status();
  assert.equal(st.queued, 0);
  assert.equal(st.lastError, null, "lastError cleared by a good sync");
  assert.ok(typeof st.lastSync === "number" && st.lastSync >= t0);

  // every key sent is one the op was queued with
  const sent = rec.batchItems().map(({ item }) => header(item.headers, "Idempotency-Key"));
  for (const k of sent) assert.ok(queued.some((o) => o.key === k), "unknown key sent: " + k);

  // server side: each create exactly once, the patches and the delete applied
  const titles = await titlesWith(api, m);
  assert.equal(titles.get(`${m}-a`), 1, "a created once");
  assert.equal(titles.get(`${m}-b`), 1, "b created once");
  assert.equal(titles.get(`${m}-known-2`), 1, "known patched");
  assert.equal(titles.get(`${m}-doomed`), undefined, "doomed deleted");
  const all = await api.listAll();
  const aSrv = all.find((r) => r.title === `${m}-a`);
  assert.deepEqual(aSrv.data, { v: 2 }, "patch of the queued create applied");
  assert.equal(aSrv.version, 2);
  assert.equal(all.find((r) => r.title === `${m}-b`).site, "north");
  const gone = await api.get(doomed.id);
  assert.equal(gone.status, 410, "deleted on the server");

  // the local copy now carries server ids and matches the server
  const local = c.list().filter((r) => r.title.startsWith(m));
  assert.deepEqual(local.map((r) => r.title).sort(), [`${m}-a`, `${m}-b`, `${m}-known-2`]);
  for (const r of local) assert.match(r.id, /^rec_/, "server id after sync");
  const la = local.find((r) => r.title === `${m}-a`);
  assert.equal(la.id, aSrv.id);
  assert.equal(la.causal, aSrv.causal, "local causal is the server's");
  await c.close();
});

test("offline: a restarted client (FileStorage) pushes what the last one queued, once", async () => {
  const { RelaySync, FileStorage } = await lib();
  const api = new Api(URL_, KEY);
  const m = marker("restart");
  const dir = tempDir("offline");
  const file = join(dir, "state.json");
  try {
    const rec1 = new Recorder();
    rec1.offline = true;
    const c1 = new RelaySync({ url: URL_, apiKey: KEY, storage: new FileStorage(file),
      fetch: rec1.fetch, backoff: { baseMs: 10, maxMs: 20 } });
    await c1.open();
    const keys = [];
    c1.on("queued", (op) => keys.push(op.key));
    const made = [];
    for (let i = 0; i < 20; i++) made.push(await c1.create({ title: `${m}-${i}`, type: "t", data: { i } }));
    await c1.patch(made[3].id, { status: "synced" });
    await c1.delete(made[4].id);
    await c1.sync();  // fails: offline; every op stays
    assert.equal(c1.status().queued, 22);
    await c1.close();

    // the key is not in the file unless persistKey
    const { readFileSync } = await import("node:fs");
    const text = readFileSync(file, "utf8");
    assert.ok(!text.includes(KEY), "the API key is not written to storage");

    const rec2 = new Recorder();
    const c2 = new RelaySync({ url: URL_, apiKey: KEY, storage: new FileStorage(file),
      fetch: rec2.fetch, backoff: { baseMs: 10, maxMs: 50 } });
    await c2.open();
    assert.equal(c2.status().queued, 22, "the outbox survived the restart");
    assert.equal(c2.list().filter((r) => r.title.startsWith(m)).length, 19,
      "local records (20 created, 1 deleted) survived");
    await syncUntilEmpty(c2, 30000);
    const sent = rec2.batchItems().map(({ item }) => header(item.headers, "Idempotency-Key"));
    assert.deepEqual([...new Set(sent)].sort(), [...keys].sort(),
      "the restarted client sent the keys the ops were queued with");

    const titles = await titlesWith(api, m);
    assert.equal(titles.size, 19, "19 live records");
    for (const [t, n] of titles) assert.equal(n, 1, t + " exactly once");
    assert.equal(titles.get(`${m}-4`), undefined, "the deleted one is not live");
    const all = await api.listAll();
    assert.equal(all.find((r) => r.title === `${m}-3`).status, "synced");
    await c2.close();

    // a third client on the same file has nothing left to push
    const c3 = new RelaySync({ url: URL_, apiKey: KEY, storage: new FileStorage(file) });
    await c3.open();
    assert.equal(c3.status().queued, 0);
    const r = await c3.sync();
    assert.equal(count(r.pushed), 0);
    await c3.close();
  } finally {
    removeDir(dir);
  }
});

test("offline: persistKey: true keeps the key for the next start; the lid of a pushed create still names it", async () => {
  const { RelaySync, FileStorage } = await lib();
  const { readFileSync } = await import("node:fs");
  const api = new Api(URL_, KEY);
  const m = marker("persist");
  const dir = tempDir("persist");
  const file = join(dir, "state.json");
  try {
    const c1 = new RelaySync({ url: URL_, apiKey: KEY, storage: new FileStorage(file), persistKey: true });
    await c1.open();
    const a = await c1.create({ title: `${m}-a`, type: "t" });
    await syncUntilEmpty(c1, 20000);
    await c1.close();
    assert.ok(readFileSync(file, "utf8").includes(KEY), "persistKey: true writes the key");

    // the next start needs no key, and the app's lid still works
    const c2 = new RelaySync({ url: URL_, storage: new FileStorage(file), persistKey: true });
    await c2.open();
    assert.equal(c2.get(a.id)?.title, `${m}-a`, "get(lid) after a restart");
    await c2.patch(a.id, { title: `${m}-a2` });
    await syncUntilEmpty(c2, 20000);
    await c2.close();
    const titles = await titlesWith(api, m);
    assert.deepEqual([...titles.entries()], [[`${m}-a2`, 1]]);

    // persistKey: false again: the key leaves the file
    const c3 = new RelaySync({ url: URL_, apiKey: KEY, storage: new FileStorage(file) });
    await c3.open();
    await c3.sync();
    await c3.close();
    assert.ok(!readFileSync(file, "utf8").includes(KEY), "persistKey: false removes a kept key");
  } finally {
    removeDir(dir);
  }
});
