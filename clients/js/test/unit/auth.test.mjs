import { test } from "node:test";
import assert from "node:assert/strict";
import { FakeServer, makeClient } from "./fake-server.mjs";
import { MemoryStorage } from "../../src/relaysync.mjs";

test("the API key is exchanged for a bearer token, reused while fresh, renewed before expiry", async () => {
  const s = new FakeServer({ ttl: 900 });
  let now = 1_000_000;
  const c = await makeClient(s, { now: () => now });
  await c.sync();
  await c.sync();
  assert.equal(s.tokenRequests, 1);
  const tokReq = s.log.find((e) => e.path === "/v1/auth/token");
  assert.deepEqual(tokReq.body, { api_key: s.apiKey });
  assert.equal(s.log.find((e) => e.path.startsWith("/v1/records")).headers.authorization, "Bearer tok1");
  now += 800_000; // 100 s left: less than 10% (90 s)? no; less than 60 s? no -> within the margin max(90,60)
  await c.sync();
  assert.equal(s.tokenRequests, 1, "100 s left of 900: still fresh");
  now += 20_000; // 80 s left < 90 s (10%)
  await c.sync();
  assert.equal(s.tokenRequests, 2, "renewed before expiry");
  assert.equal(s.log.at(-1).headers.authorization, "Bearer tok2");
});

test("a 401 renews the token once and retries; a second 401 is an error", async () => {
  const s = new FakeServer();
  const c = await makeClient(s);
  await c.sync();
  s.tokens.clear(); // revoked server side
  await c.create({ title: "a", type: "t" });
  const res = await c.sync();
  assert.equal(res.pushed, 1);
  assert.equal(s.tokenRequests, 2);
  // now the key itself is revoked: the renewal is refused
  s.tokens.clear();
  s.apiKey = "rs_live_other";
  await c.create({ title: "b", type: "t" });
  const res2 = await c.sync();
  assert.equal(res2.pushed, 0);
  assert.equal(res2.errors[0].status, 401);
  assert.equal(c.status().lastError.code, "invalid_api_key");
  assert.equal(c.status().queued, 1, "op kept");
  assert.equal(s.tokenRequests, 3, "renewed only once");
});

test("the key and token are never written to storage unless persistKey: true", async () => {
  const s = new FakeServer();
  const storage = new MemoryStorage();
  const c = await makeClient(s, { storage });
  await c.create({ title: "a", type: "t" });
  await c.sync();
  const dump = JSON.stringify(await storage.entries(""));
  assert.ok(!dump.includes(s.apiKey));
  assert.ok(!dump.includes("tok1"));

  const storage2 = new MemoryStorage();
  const c2 = await makeClient(s, { storage: storage2, persistKey: true });
  await c2.sync();
  const meta = await storage2.get("meta");
  assert.equal(meta.apiKey, s.apiKey);
  assert.ok(meta.token.access);
  // a later session without the key uses the stored one (and its token)
  const c3 = await makeClient(s, { storage: storage2, persistKey: true, apiKey: undefined });
  const before = s.tokenRequests;
  await c3.sync();
  assert.equal(s.tokenRequests, before);
  // and one with persistKey: false removes them
  await makeClient(s, { storage: storage2 });
  const meta2 = await storage2.get("meta");
  assert.equal(meta2.apiKey, undefined);
  assert.equal(meta2.token, undefined);
});
