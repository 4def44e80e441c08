import { test } from "node:test";
import assert from "node:assert/strict";
import { FakeServer, makeClient, problem, json } from "./fake-server.mjs";
import { MemoryStorage } from "../../src/relaysync.mjs";

const pulls = (s) => s.log.filter((e) => e.method === "GET" && e.path.startsWith("/v1/records?"));

test("first sync is a full listing walked page by page (limit 200, cursor while has_more)", async () => {
  const s = new FakeServer();
  for (let i = 0; i < 450; i++) s.serverCreate(`r${i}`);
  const c = await makeClient(s);
  const pulled = [];
  c.on("pulled", (e) => pulled.push(e));
  const res = await c.sync();
  assert.equal(res.pulled, 450);
  assert.equal(c.list().length, 450);
  const p = pulls(s).map((e) => new URL("http://x" + e.path).searchParams);
  assert.equal(p.length, 3);
  assert.equal(p[0].get("since"), null);
  assert.equal(p[0].get("limit"), "200");
  assert.equal(p[1].get("cursor"), "l450:200");
  assert.deepEqual(pulled.map((e) => e.count), [200, 200, 50]);
  assert.equal(pulled.at(-1).syncToken, "t450");
  assert.equal(c._meta.syncToken, "t450");
});

test("delta sync uses since, pages with cursor, applies tombstones, keeps local edits on top", async () => {
  const s = new FakeServer();
  const a = s.serverCreate("a");
  const b = s.serverCreate("b");
  const c = await makeClient(s);
  await c.sync();
  s.log.length = 0;
  s.serverPatch(a.id, { title: "a2" });
  s.serverDelete(b.id);
  const n = s.serverCreate("n");
  // a local queued edit on `a` that a failing push keeps queued
  await c.patch(a.id, { site: "mine" });
  s.hooks.batch = () => json(400, problem(400, "invalid_request"));
  const res = await c.sync();
  s.hooks.batch = null;
  assert.equal(res.errors.length, 1); // the patch was refused and dropped
  const p = pulls(s).map((e) => new URL("http://x" + e.path).searchParams);
  assert.equal(p[0].get("since"), "t2");
  assert.equal(c.get(b.id), undefined, "tombstone removed the local record");
  assert.equal(c.get(a.id).title, "a2");
  assert.equal(c.get(n.id).title, "n");
  // local edits on top of a pulled change
  await c.patch(a.id, { site: "mine" });
  s.serverPatch(a.id, { status: "synced" });
  s.hooks.batch = () => json(503, problem(503, "service_unavailable"));
  await c.sync(); // push fails: no pull
  s.hooks.batch = null;
  await c._pull({ pulled: 0, errors: [], conflicts: [] });
  const la = c.get(a.id);
  assert.equal(la.status, "synced", "server change applied");
  assert.equal(la.site, "mine", "own queued edit stays on top");
});

test("the sync token is stored only after its page is applied; an interrupted walk resumes from the last applied page", async () => {
  const s = new FakeServer();
  const storage = new MemoryStorage();
  const c = await makeClient(s, { storage, backoff: { attempts: 0 } });
  await c.sync();
  assert.equal((await storage.get("meta")).syncToken, "t0");
  for (let i = 0; i < 450; i++) s.serverCreate(`r${i}`);
  let n = 0;
  const order = [];
  const origBatch = storage.batch.bind(storage);
  storage.batch = async (w) => {
    const meta = w.find(([k]) => k === "meta");
    const recs = w.filter(([k]) => k.startsWith("rec/")).length;
    if (meta) order.push(["token", meta[1].syncToken, "with", recs, "records"]);
    return origBatch(w);
  };
  s.hooks.list = () => (++n === 3 ? json(503, problem(503, "service_unavailable")) : null);
  const res = await c.sync();
  assert.equal(res.errors[0].status, 503);
  // each page's records and its token in one write
  assert.deepEqual(order, [
    ["token", "t200", "with", 200, "records"],
    ["token", "t400", "with", 200, "records"],
  ]);
  assert.equal((await storage.get("meta")).syncToken, "t400");
  s.hooks.list = null;
  s.log.length = 0;
  await c.sync();
  assert.equal(new URL("http://x" + pulls(s)[0].path).searchParams.get("since"), "t400");
  assert.equal(c.list().length, 450);
  assert.equal((await storage.get("meta")).syncToken, "t450");
});

test("a full listing keeps its token only with the last page", async () => {
  const s = new FakeServer();
  for (let i = 0; i < 300; i++) s.serverCreate(`r${i}`);
  const storage = new MemoryStorage();
  const c = await makeClient(s, { storage, backoff: { attempts: 0 } });
  let n = 0;
  s.hooks.list = () => (++n === 2 ? json(500, problem(500, "internal_error")) : null);
  await c.sync();
  assert.equal((await storage.get("meta"))?.syncToken ?? null, null, "no token after a partial full walk");
  s.hooks.list = null;
  await c.sync();
  assert.equal((await storage.get("meta")).syncToken, "t300");
  assert.equal(c.list().length, 300);
});

test("410 sync_token_expired: drop the token and the server copies, resync in full", async () => {
  const s = new FakeServer();
  const a = s.serverCreate("a");
  const b = s.serverCreate("b");
  const storage = new MemoryStorage();
  const c = await makeClient(s, { storage });
  await c.sync();
  await c.patch(a.id, { site: "local" });
  // b is deleted and its tombstone purged (past the horizon); the old token is expired
  s.records.delete(b.id);
  s.serverCreate("n");
  s.minToken = 1000;
  s.hooks.batch = () => json(503, problem(503, "service_unavailable")); // keep the local edit queued
  await c._pull({ pulled: 0, errors: [], conflicts: [] });
  s.hooks.batch = null;
  assert.deepEqual(c.list().map((r) => r.title).sort(), ["a", "n"]);
  assert.equal(c.get(a.id).site, "local", "queued edit kept on top");
  assert.equal(await storage.get(`rec/${b.id}`), undefined, "stale server copy dropped");
  const p = pulls(s).map((e) => new URL("http://x" + e.path).searchParams);
  assert.equal(p.at(-2).get("since"), "t2");
  assert.equal(p.at(-1).get("since"), null, "full listing after the 410");
  assert.equal((await storage.get("meta")).syncToken, "t3");
});
