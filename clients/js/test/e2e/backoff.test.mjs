// 429 back-off on an org limited to 2 requests a second (RS_KEY_SLOW): a
// batch of creates is answered partly 429 (items past the bucket) or 429
// whole; the client keeps those ops, waits at least Retry-After before the
// next try (capped exponential back-off with jitter), shows the 429 in
// status(), and in the end every create lands exactly once.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Api, Recorder, env, lib, marker, syncUntilEmpty, header, sleep } from "./env.mjs";

const URL_ = env("RS_URL");
const SLOW = env("RS_KEY_SLOW");

// the raw API shares the slow org's bucket: wait out its 429s
async function patient(fn) {
  for (let i = 0; i < 40; i++) {
    try { return await fn(); } catch (e) {
      if (!/: 429 /.test(String(e.message))) throw e;
      await sleep(600);
    }
  }
  throw new Error("still 429 after 40 tries");
}

function retryAfterMs(resHeaders) {
  const v = resHeaders && resHeaders.get("retry-after");
  return v ? Number(v) * 1000 : null;
}

test("backoff: 429s on a 2/s org are waited out (Retry-After), every create lands once", async (t) => {
  const { RelaySync, MemoryStorage } = await lib();
  const m = marker("slow");
  const n = 8;
  const rec = new Recorder();
  const c = new RelaySync({ url: URL_, apiKey: SLOW, storage: new MemoryStorage(),
    fetch: rec.fetch, backoff: { baseMs: 250, maxMs: 4000 } });
  await c.open();
  const statuses = [];
  c.on("status", (s) => statuses.push(JSON.parse(JSON.stringify(s))));
  for (let i = 0; i < n; i++) await c.create({ title: `${m}-${i}`, type: "t" });
  const started = Date.now();
  await syncUntilEmpty(c, 90000, "the slow org's outbox to empty");
  const took = Date.now() - started;

  // what the server answered, in order
  const batches = rec.requests("/v1/batch", "POST");
  const throttled = [];   // {at, retryAfter} of each answer that carried a 429
  for (const e of batches) {
    if (e.status === 429) {
      throttled.push({ e, retryAfter: retryAfterMs(e.resHeaders) });
      continue;
    }
    const answers = e.items ? await e.items : null;
    const item429 = (answers || []).find((a) => a && a.status === 429);
    if (item429) {
      const ra = header(item429.headers, "Retry-After");
      throttled.push({ e, retryAfter: ra ? Number(ra) * 1000 : null });
    }
  }
  t.diagnostic(`${n} creates on a 2/s org: ${took} ms, ${batches.length} batch requests, ` +
    `${throttled.length} of them throttled`);
  assert.ok(throttled.length >= 1, "the slow org throttled the push");
  for (const th of throttled) assert.ok(th.retryAfter > 0, "a 429 carries Retry-After");

  // after a throttled answer, the next request waits at least Retry-After
  for (const th of throttled) {
    const next = rec.log.find((e) => e.at > th.e.at && e.path === "/v1/batch");
    if (!next) continue;
    const waited = next.at - (th.e.doneAt || th.e.at);
    assert.ok(waited >= th.retryAfter * 0.9,
      `the retry came ${waited} ms after a 429 with Retry-After ${th.retryAfter} ms`);
  }
  assert.ok(batches.length <= 4 * n, `no hammering: ${batches.length} batch requests for ${n} ops`);
  assert.ok(statuses.some((s) => s.lastError && s.lastError.status === 429),
    "status() showed the 429 as lastError: " + JSON.stringify(statuses.slice(-3)));

  // every create exactly once, checked with a raw client
  const api = new Api(URL_, SLOW);
  const all = await patient(() => api.listAll());
  const titles = all.map((r) => r.title).filter((x) => x.startsWith(m)).sort();
  assert.deepEqual(titles, [...Array(n).keys()].map((i) => `${m}-${i}`).sort());
  await c.close();
});

test("backoff: sync() gives up after bounded attempts and resolves with the 429 in status()", async () => {
  const { RelaySync, MemoryStorage } = await lib();
  const m = marker("slow2");
  // every batch answered 429 by the test (a fake in front of the server)
  const rec = new Recorder(async (url, init) => {
    if (new URL(url).pathname === "/v1/batch") {
      return new Response(JSON.stringify({ type: "https://relaysync.io/problems/rate_limited",
        title: "Too many requests", status: 429, code: "rate_limited", detail: "test" }),
      { status: 429, headers: { "Content-Type": "application/problem+json", "Retry-After": "1" } });
    }
    return fetch(url, init);
  });
  const c = new RelaySync({ url: URL_, apiKey: SLOW, storage: new MemoryStorage(),
    fetch: rec.fetch, backoff: { baseMs: 50, maxMs: 200 } });
  await c.open();
  await c.create({ title: `${m}-0`, type: "t" });
  const t0 = Date.now();
  let timer;
  const hung = new Promise((res) => { timer = setTimeout(() => res("hung"), 120000); });
  const r = await Promise.race([c.sync(), hung]);
  clearTimeout(timer);
  assert.notEqual(r, "hung", "sync() resolved (bounded attempts)");
  const took = Date.now() - t0;
  const tries = rec.requests("/v1/batch").length;
  assert.ok(tries >= 2, `retried within the sync (${tries} tries)`);
  assert.ok(took >= (tries - 1) * 900, `waited Retry-After between tries (${tries} tries in ${took} ms)`);
  assert.equal(c.status().queued, 1, "the op is kept");
  assert.equal(c.status().lastError?.status, 429);
  await c.close();
});
