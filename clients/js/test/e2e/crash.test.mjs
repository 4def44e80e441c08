// Crashes mid-push: (1) the server's FastCGI pool SIGKILLed while a push of
// 3,000 creates runs, then sync again; (2) the client's own process
// SIGKILLed mid-push, and a new one opens its FileStorage and syncs. Either
// way every op is applied exactly once: the records are counted on the
// server by a title marker, and every re-sent item carried the key it was
// queued with.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Api, Recorder, env, lib, marker, tempDir, removeDir, titlesWith,
  syncUntilEmpty, killPool, waitHealthy, waitFor, header, sleep } from "./env.mjs";

const URL_ = env("RS_URL");
const KEY = env("RS_API_KEY");
const FCGI = env("RS_FCGI");
const DB = env("RS_DB");
const HERE = dirname(fileURLToPath(import.meta.url));
const N = 3000;

function expectExactlyOnce(titles, m, n) {
  const missing = [];
  const twice = [];
  for (let i = 0; i < n; i++) {
    const c = titles.get(`${m}-${i}`) || 0;
    if (c === 0) missing.push(i);
    if (c > 1) twice.push(i);
  }
  assert.deepEqual({ missing: missing.slice(0, 20), twice: twice.slice(0, 20) },
    { missing: [], twice: [] }, "every create applied exactly once");
  assert.equal(titles.size, n, "no record beyond the ones queued");
}

test(`crash: the pool SIGKILLed mid-push of ${N} creates (up to 7 times); sync again -> each exactly once`, async (t) => {
  const { RelaySync, MemoryStorage } = await lib();
  const api = new Api(URL_, KEY);
  const m = marker("kill");
  const rec = new Recorder();
  const c = new RelaySync({ url: URL_, apiKey: KEY, storage: new MemoryStorage(),
    fetch: rec.fetch, backoff: { baseMs: 100, maxMs: 1000 } });
  await c.open();
  const keys = new Map();   // key -> title
  c.on("queued", (op) => keys.set(op.key, op.body && op.body.title));
  for (let i = 0; i < N; i++) await c.create({ title: `${m}-${i}`, type: "t", data: { i } });
  assert.equal(c.status().queued, N);
  assert.equal(keys.size, N, "one key per op");

  // Kill the pool within a few ms of every 4th batch request going out, up
  // to the 28th, so the kills land while a batch runs: each holds 100
  // creates, 5-40 ms of work depending on the machine (a kill 2-10 ms
  // after the request missed every batch of a run on a fast machine).
  const kills = [];
  let batches = 0;
  rec.onRequest = (e) => {
    if (e.path !== "/v1/batch") return;
    batches += 1;
    if (batches % 4 === 0 && batches <= 28) {
      const at = batches;
      setTimeout(() => kills.push({ at, pids: killPool(FCGI, DB) }), Math.random() * 4);
    }
  };
  const first = await c.sync();
  t.diagnostic(`first sync: ${JSON.stringify({ status: c.status(), pushed: first.pushed?.length ?? first.pushed })}`);
  await waitHealthy(URL_);
  await syncUntilEmpty(c, 120000);
  rec.onRequest = null;

  // (a kill right after another may find the pool not respawned yet)
  t.diagnostic("kills: " + JSON.stringify(kills));
  assert.ok(kills.length >= 4, "every kill happened");
  assert.ok(kills.filter((k) => k.pids.length > 0).length >= 2, "the kills found pool processes");

  // the kills disturbed the push: some batch failed (5xx or a cut connection)
  const batchReqs = rec.requests("/v1/batch", "POST");
  const failed = batchReqs.filter((e) => e.status !== 200);
  t.diagnostic(`batch requests: ${batchReqs.length}, failed: ${failed.length} ` +
    `(${[...new Set(failed.map((e) => e.status))].join(", ")})`);
  assert.ok(failed.length > 0, "a batch request was cut by a kill");

  // every item ever sent carried the key its op was queued with; replays seen
  const items = rec.batchItems();
  let replayed = 0;
  for (const { entry, item, index } of items) {
    const k = header(item.headers, "Idempotency-Key");
    assert.ok(keys.has(k), "item sent with a key no op was queued with: " + k);
    assert.equal(item.body.title, keys.get(k), "a key re-sent with its own op");
    const answers = entry.items ? await entry.items : null;
    if (answers && answers[index] && header(answers[index].headers, "Idempotent-Replayed") === "true") replayed++;
  }
  t.diagnostic(`items sent: ${items.length} for ${N} ops; answered as replays: ${replayed}`);
  assert.ok(items.length >= N);

  expectExactlyOnce(await titlesWith(api, m), m, N);
  const mine = c.list().filter((r) => r.title.startsWith(m));
  assert.equal(mine.length, N, "the local copy holds each record once");
  assert.ok(mine.every((r) => r.id.startsWith("rec_")), "every local record has its server id");
  await c.close();
});

test("crash: the client's process SIGKILLed mid-push; a new one on its FileStorage finishes, each exactly once", async (t) => {
  const { RelaySync, FileStorage } = await lib();
  const api = new Api(URL_, KEY);
  const m = marker("clientkill");
  const n = 300;
  const dir = tempDir("crash");
  const file = join(dir, "state.json");
  await waitHealthy(URL_);
  try {
    const child = spawn(process.execPath, [join(HERE, "crash-child.mjs"), file, m, String(n), "20"],
      { env: process.env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stderr.on("data", (d) => { err += d; });
    const exited = new Promise((r) => child.on("exit", (code, sig) => r({ code, sig })));
    let killedAt = null;
    child.stdout.on("data", (d) => {
      out += d;
      const all = [...out.matchAll(/pushed (\d+)/g)];
      const pushed = all.length ? Number(all[all.length - 1][1]) : 0;
      if (killedAt === null && pushed >= 70) {
        killedAt = pushed;
        child.kill("SIGKILL");
      }
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 90000);
    const how = await exited;
    clearTimeout(timer);
    assert.equal(how.sig, "SIGKILL", `the child ran to its end instead of being killed: ${out.slice(-300)} ${err}`);
    assert.ok(killedAt !== null, `killed before any push (timeout): ${out.slice(-300)} ${err}`);
    t.diagnostic(`child killed after ${killedAt} pushed events`);

    const before = await titlesWith(api, m);
    assert.ok(before.size >= killedAt && before.size < n, `part of the push landed (${before.size})`);

    const rec = new Recorder();
    const c = new RelaySync({ url: URL_, apiKey: KEY, storage: new FileStorage(file),
      fetch: rec.fetch, batchSize: 20, backoff: { baseMs: 20, maxMs: 200 } });
    await c.open();
    const left = c.status().queued;
    t.diagnostic(`the restarted client found ${left} queued ops`);
    assert.ok(left > 0 && left <= n, `queued after the restart: ${left}`);
    await syncUntilEmpty(c, 60000);
    expectExactlyOnce(await titlesWith(api, m), m, n);
    const mine = c.list().filter((r) => r.title.startsWith(m));
    assert.equal(mine.length, n, "the local copy holds each record once");
    await c.close();
  } finally {
    removeDir(dir);
  }
});

test("crash: the server applied a batch but its answer was lost (twice); the retry replays, nothing doubles", async (t) => {
  const { RelaySync, MemoryStorage } = await lib();
  const api = new Api(URL_, KEY);
  const m = marker("lost");
  let lost = 0;
  // forwards each batch to the server, but for the first two throws away
  // the answer and fails as a cut connection does
  const rec = new Recorder(async (url, init) => {
    const resp = await fetch(url, init);
    if (new URL(url).pathname === "/v1/batch" && lost < 2) {
      lost += 1;
      await resp.arrayBuffer();
      throw new TypeError("fetch failed (answer lost, simulated by the test)");
    }
    return resp;
  });
  const c = new RelaySync({ url: URL_, apiKey: KEY, storage: new MemoryStorage(),
    fetch: rec.fetch, batchSize: 50, backoff: { baseMs: 20, maxMs: 100 } });
  await c.open();
  const n = 120;
  const made = [];
  for (let i = 0; i < n; i++) made.push(await c.create({ title: `${m}-${i}`, type: "t", data: { i } }));
  for (let i = 0; i < n; i += 10) await c.patch(made[i].id, { data: { patched: true } });
  await c.delete(made[5].id);
  await syncUntilEmpty(c, 30000);
  assert.equal(lost, 2);
  const items = rec.batchItems();
  let replayed = 0;
  for (const { entry, index } of items) {
    const answers = entry.items ? await entry.items : null;
    if (answers && answers[index] && header(answers[index].headers, "Idempotent-Replayed") === "true") replayed++;
  }
  t.diagnostic(`items sent: ${items.length}; answered as replays: ${replayed}`);
  assert.ok(replayed >= 1, "the re-sent items were answered as replays");
  const titles = await titlesWith(api, m);
  assert.equal(titles.size, n - 1, "n - 1 live records");
  for (const [title, k] of titles) assert.equal(k, 1, title + " exactly once");
  const all = (await api.listAll()).filter((r) => r.title.startsWith(m));
  for (const r of all) {
    const i = r.data.i;
    assert.equal(r.data.patched === true, i % 10 === 0, `patch of ${r.title} applied once, where queued`);
    assert.equal(r.version, i % 10 === 0 ? 2 : 1, `${r.title} version`);
  }
  assert.equal(c.list().filter((r) => r.title.startsWith(m) && !r.deleted).length, n - 1);
  await c.close();
});

test("crash: the client's process SIGKILLed mid-pull; a new one on its FileStorage ends with the server's state", async (t) => {
  const { RelaySync, FileStorage } = await lib();
  const api = new Api(URL_, KEY);
  const dir = tempDir("pull");
  const file = join(dir, "state.json");
  try {
    // the org holds the records of the tests above (thousands: many pages)
    const server0 = await api.listAll();
    assert.ok(server0.length >= 1000, `enough records for several pages (${server0.length})`);
    const child = spawn(process.execPath, [join(HERE, "pull-child.mjs"), file],
      { env: process.env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stderr.on("data", (d) => { err += d; });
    const exited = new Promise((r) => child.on("exit", (code, sig) => r({ code, sig })));
    let killedAt = null;
    child.stdout.on("data", (d) => {
      out += d;
      const pages = (out.match(/^pulled /gm) || []).length;
      if (killedAt === null && pages >= 3) {
        killedAt = pages;
        child.kill("SIGKILL");
      }
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 90000);
    const how = await exited;
    clearTimeout(timer);
    assert.equal(how.sig, "SIGKILL", `the child ran to its end instead of being killed: ${out.slice(-300)} ${err}`);
    assert.ok(killedAt !== null, `killed before 3 pages: ${out.slice(-300)} ${err}`);
    t.diagnostic(`pull child killed after ${killedAt} pages`);

    // meanwhile the server changes: records of the first page and of later ones
    const first = server0[0];
    const last = server0[server0.length - 1];
    await api.patch(first.id, { title: first.title + "-changed", causal: first.causal });
    await api.del(server0[1].id);
    await api.patch(last.id, { title: last.title + "-changed", causal: last.causal });
    const added = await api.create({ title: marker("after-kill"), type: "t" });

    const c = new RelaySync({ url: URL_, apiKey: KEY, storage: new FileStorage(file) });
    await c.open();
    await syncUntilEmpty(c, 60000);
    const server = await api.listAll();
    const local = c.list().filter((r) => !r.deleted);
    const byId = new Map(local.map((r) => [r.id, r]));
    const missing = server.filter((r) => !byId.has(r.id));
    const stale = server.filter((r) => byId.has(r.id) && byId.get(r.id).causal !== r.causal);
    const extra = local.filter((r) => !server.some((s) => s.id === r.id));
    assert.deepEqual({ missing: missing.length, stale: stale.length, extra: extra.length },
      { missing: 0, stale: 0, extra: 0 },
      `the restarted client's copy is the server's (of ${server.length}; first missing: ${missing[0]?.title})`);
    assert.ok(byId.has(added.id));
    await c.close();
  } finally {
    removeDir(dir);
  }
});

// quiet unused-import linters
void sleep; void waitFor;
