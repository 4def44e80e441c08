// Auth: the API key is exchanged for a bearer token (POST /v1/auth/token);
// a 401 renews the token once and retries (the op lands once); a key the
// server keeps refusing does not loop; a token near its end is renewed
// before it is used.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Api, Recorder, env, lib, marker, titlesWith, sleep } from "./env.mjs";

const URL_ = env("RS_URL");
const KEY = env("RS_API_KEY");

/** A fetch that breaks the bearer of requests for which BREAK(url) says so
 * (the server then answers a real 401), and rewrites token answers with
 * TOKEN(body) when given. */
function tamperingFetch({ breakIf = () => false, token = null } = {}) {
  return async (url, init = {}) => {
    const path = new URL(url).pathname;
    let headers = new Headers(init.headers || {});
    if (headers.has("authorization") && breakIf(path)) {
      headers.set("authorization", "Bearer rst1.bm90LWEtdG9rZW4.AAAA");
      init = { ...init, headers };
    }
    const resp = await fetch(url, init);
    if (token && path === "/v1/auth/token" && resp.status === 200) {
      const body = token(await resp.json());
      return new Response(JSON.stringify(body), { status: 200, headers: resp.headers });
    }
    return resp;
  };
}

test("auth: a 401 renews the token once and retries; the op lands once", async () => {
  const { RelaySync, MemoryStorage } = await lib();
  const api = new Api(URL_, KEY);
  const m = marker("auth401");
  let broken = 0;
  const rec = new Recorder(tamperingFetch({ breakIf: (p) => p === "/v1/batch" && broken++ === 0 }));
  const c = new RelaySync({ url: URL_, apiKey: KEY, storage: new MemoryStorage(), fetch: rec.fetch,
    backoff: { baseMs: 10, maxMs: 50 } });
  await c.open();
  await c.create({ title: `${m}-0`, type: "t" });
  const r = await c.sync();
  assert.equal(c.status().queued, 0, "pushed after the renewal: " + JSON.stringify(r));
  const batches = rec.requests("/v1/batch");
  assert.equal(batches[0].status, 401, "the server refused the broken token");
  assert.equal(batches[1].status, 200, "the retry went through");
  const tokens = rec.requests("/v1/auth/token");
  assert.equal(tokens.length, 2, "one exchange at the start, one renewal");
  assert.ok(tokens[1].at > batches[0].at && tokens[1].at < batches[1].at, "renewed between the two");
  assert.equal((await titlesWith(api, m)).get(`${m}-0`), 1);
  await c.close();
});

test("auth: a token the server keeps refusing does not loop; sync() resolves with the 401", async () => {
  const { RelaySync, MemoryStorage } = await lib();
  const rec = new Recorder(tamperingFetch({ breakIf: () => true }));
  const c = new RelaySync({ url: URL_, apiKey: KEY, storage: new MemoryStorage(), fetch: rec.fetch,
    backoff: { baseMs: 10, maxMs: 50 } });
  await c.open();
  await c.create({ title: marker("auth-loop"), type: "t" });
  let timer;
  const hung = new Promise((res) => { timer = setTimeout(() => res("hung"), 60000); });
  const r = await Promise.race([c.sync(), hung]);
  clearTimeout(timer);
  assert.notEqual(r, "hung", "sync() resolved");
  assert.equal(c.status().queued, 1, "the op is kept");
  assert.equal(c.status().lastError?.status, 401, JSON.stringify(c.status()));
  const tokens = rec.requests("/v1/auth/token").length;
  assert.ok(tokens <= 4, `bounded renewals (${tokens} token requests)`);
  await c.close();
});

test("auth: a token near its end is renewed before it is used (no 401)", async () => {
  const { RelaySync, MemoryStorage } = await lib();
  // the server's tokens live 900 s; the test makes the client believe 3 s
  const rec = new Recorder(tamperingFetch({
    token: (b) => ({ ...b, expires_in: 3, expires_at: new Date(Date.now() + 3000).toISOString() }),
  }));
  const c = new RelaySync({ url: URL_, apiKey: KEY, storage: new MemoryStorage(), fetch: rec.fetch });
  await c.open();
  await c.sync();
  await sleep(3500);
  const mark = rec.log.length;
  await c.create({ title: marker("auth-renew"), type: "t" });
  await c.sync();
  const after = rec.log.slice(mark);
  assert.ok(after.length >= 2);
  assert.equal(after[0].path, "/v1/auth/token", "renewed first: " + after.map((e) => e.path).join(" "));
  assert.ok(!rec.log.some((e) => e.status === 401), "no request was refused");
  assert.equal(c.status().queued, 0);
  await c.close();
});
