// Speed: push 10,000 queued creates to an empty org (< 10 s), then a full
// pull of its 10,000 records by a new client (< 5 s). The times are printed
// as "SPEED push_ms=... pull_ms=..." lines (test_jsclient.py shows them).

import { test } from "node:test";
import assert from "node:assert/strict";
import { Api, Recorder, env, lib, marker } from "./env.mjs";

const URL_ = env("RS_URL");
const KEY = env("RS_SPEED_KEY");
const N = Number(process.env.RS_SPEED_N || 10000);
const PUSH_LIMIT_MS = 10000;
const PULL_LIMIT_MS = 5000;

test(`speed: push ${N} queued creates < ${PUSH_LIMIT_MS} ms; full pull of ${N} < ${PULL_LIMIT_MS} ms`, async (t) => {
  const { RelaySync, MemoryStorage } = await lib();
  const api = new Api(URL_, KEY);
  assert.equal((await api.listAll()).length, 0, "the org starts empty");
  const m = marker("speed");

  const rec = new Recorder();
  const c = new RelaySync({ url: URL_, apiKey: KEY, storage: new MemoryStorage(), fetch: rec.fetch });
  await c.open();
  const q0 = performance.now();
  for (let i = 0; i < N; i++) {
    await c.create({ title: `${m}-${i}`, type: "bench", site: "s" + (i % 7), data: { i, ok: true } });
  }
  const queueMs = performance.now() - q0;
  assert.equal(c.status().queued, N);

  // the push ends when the first pull request goes out
  let pushEnd = null;
  rec.onRequest = (e) => {
    if (pushEnd === null && e.path === "/v1/records" && e.method === "GET") pushEnd = performance.now();
  };
  const s0 = performance.now();
  await c.sync();
  const syncMs = performance.now() - s0;
  const pushMs = (pushEnd ?? performance.now()) - s0;
  assert.equal(c.status().queued, 0, "everything pushed: " + JSON.stringify(c.status()));
  const batches = rec.requests("/v1/batch", "POST");

  const all = await api.listAll();
  assert.equal(all.length, N, "the server holds every record once");
  assert.equal(new Set(all.map((r) => r.title)).size, N);

  // a new client pulls the whole org
  const { RelaySync: R2 } = await lib();
  const d = new R2({ url: URL_, apiKey: KEY, storage: new MemoryStorage() });
  await d.open();
  const p0 = performance.now();
  await d.sync();
  const pullMs = performance.now() - p0;
  assert.equal(d.list().length, N, "the new client has every record");

  const line = `SPEED n=${N} queue_ms=${queueMs.toFixed(0)} push_ms=${pushMs.toFixed(0)} ` +
    `sync_ms=${syncMs.toFixed(0)} batches=${batches.length} pull_ms=${pullMs.toFixed(0)}`;
  console.log(line);
  t.diagnostic(line);
  assert.ok(pushMs < PUSH_LIMIT_MS, `push of ${N} creates took ${pushMs.toFixed(0)} ms`);
  assert.ok(pullMs < PULL_LIMIT_MS, `full pull of ${N} records took ${pullMs.toFixed(0)} ms`);
  await c.close();
  await d.close();
});
