// Tombstones: deletions made elsewhere reach the client through delta sync
// (since=<token>); the client's own deletes (of server records and of
// queued creates) land; a patch of a record deleted meanwhile is a poison
// op (410) that is reported and dropped without blocking the queue; and a
// 410 sync_token_expired makes the client resync in full, dropping the
// server copies that the full listing no longer has.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Api, Recorder, env, lib, marker, syncUntilEmpty, count, titlesWith } from "./env.mjs";

const URL_ = env("RS_URL");
const KEY = env("RS_API_KEY");
const OLD_TOKEN = env("RS_OLD_SYNC_TOKEN");

function isGone(c, id) {
  const r = c.get(id);
  return r === undefined || r === null || r.deleted === true;
}

function visible(c) {
  return c.list().filter((r) => !r.deleted);
}

async function client(rec, opts = {}) {
  const { RelaySync, MemoryStorage } = await lib();
  const c = new RelaySync({ url: URL_, apiKey: KEY, storage: new MemoryStorage(),
    fetch: rec.fetch, backoff: { baseMs: 10, maxMs: 50 }, ...opts });
  await c.open();
  return c;
}

test("tombstones: deletions elsewhere arrive by delta sync; own deletes land", async () => {
  const api = new Api(URL_, KEY);
  const m = marker("tomb");
  const x = await api.create({ title: `${m}-x`, type: "t" });
  const y = await api.create({ title: `${m}-y`, type: "t" });
  const rec = new Recorder();
  const c = await client(rec);
  await syncUntilEmpty(c, 20000);
  assert.ok(c.get(x.id) && c.get(y.id), "both pulled");

  await api.del(x.id);
  const before = rec.requests("/v1/records", "GET").length;
  const r = await c.sync();
  const pulls = rec.requests("/v1/records", "GET").slice(before);
  assert.ok(pulls.length >= 1 && pulls.every((e) => new URL(e.url).searchParams.get("since")),
    "the second sync is a delta sync (since=): " + pulls.map((e) => e.query).join(" "));
  assert.ok(count(r.pulled) >= 1, "the tombstone was pulled: " + JSON.stringify(r));
  assert.ok(isGone(c, x.id), "the deleted record left the local copy");
  assert.ok(!visible(c).some((z) => z.id === x.id), "list() does not show it");
  assert.ok(c.get(y.id) && !c.get(y.id).deleted, "the other record stays");

  // own delete of a server record
  await c.delete(y.id);
  assert.ok(isGone(c, y.id), "deleted locally at once");
  await syncUntilEmpty(c, 20000);
  assert.equal((await api.get(y.id)).status, 410, "the server has the tombstone");
  const tomb = (await api.listAll({ includeDeleted: true })).find((z) => z.id === y.id);
  assert.equal(tomb.deleted, true);
  assert.ok(isGone(c, y.id));

  // delete of a queued create: never live on the server
  const z = await c.create({ title: `${m}-z`, type: "t" });
  await c.patch(z.id, { data: { q: 1 } });
  await c.delete(z.id);
  assert.ok(isGone(c, z.id));
  const rz = await c.sync();
  assert.equal(count(rz.errors), 0, "no error: " + JSON.stringify(rz));
  assert.equal(c.status().queued, 0);
  const live = await titlesWith(api, m);
  assert.equal(live.get(`${m}-z`), undefined, "no live record for a create deleted before its push");
  assert.ok(!visible(c).some((w) => w.title === `${m}-z`));
  await c.close();
});

test("tombstones: a patch of a record deleted meanwhile is reported (410) and dropped; the queue goes on", async () => {
  const api = new Api(URL_, KEY);
  const m = marker("poison");
  const w = await api.create({ title: `${m}-w`, type: "t" });
  const rec = new Recorder();
  const c = await client(rec);
  await syncUntilEmpty(c, 20000);
  const errors = [];
  c.on("error", (e) => errors.push(e));
  await c.patch(w.id, { title: `${m}-w2` });
  const after = await c.create({ title: `${m}-after`, type: "t" });
  void after;
  await api.del(w.id);
  const r = await c.sync();
  assert.equal(c.status().queued, 0, "the poison op did not block the queue");
  assert.equal(errors.length, 1, "one error event: " + JSON.stringify(errors));
  assert.equal(errors[0].status, 410);
  assert.equal(errors[0].problem?.code, "record_deleted");
  assert.equal(count(r.errors), 1);
  const live = await titlesWith(api, m);
  assert.equal(live.get(`${m}-after`), 1, "the op after it was pushed");
  assert.ok(isGone(c, w.id), "the tombstone pulled over the local edit");
  await c.close();
});

test("tombstones: 410 sync_token_expired -> full resync (server copies dropped, queued work kept)", async () => {
  const api = new Api(URL_, KEY);
  const m = marker("resync");
  const p = await api.create({ title: `${m}-p`, type: "t" });
  const q = await api.create({ title: `${m}-q`, type: "t" });
  const rec = new Recorder();
  const c = await client(rec);
  await syncUntilEmpty(c, 20000);
  assert.ok(c.get(p.id) && c.get(q.id));

  await api.del(p.id);
  const s = await api.create({ title: `${m}-s`, type: "t" });
  const l = await c.create({ title: `${m}-local`, type: "t" });
  void l;

  // the next delta sync presents a token issued 91 days ago
  let swapped = 0;
  rec.rewrite = (url) => {
    const u = new URL(url);
    if (u.pathname === "/v1/records" && u.searchParams.get("since") && swapped === 0) {
      swapped += 1;
      u.searchParams.set("since", OLD_TOKEN);
      return u.toString();
    }
    return url;
  };
  const errors = [];
  c.on("error", (e) => errors.push(e));
  const mark = rec.log.length;
  await c.sync();
  rec.rewrite = null;
  assert.equal(swapped, 1, "the client made a delta sync");
  const pulls = rec.log.slice(mark).filter((e) => e.path === "/v1/records" && e.method === "GET");
  assert.equal(pulls[0].status, 410, "the old token was refused");
  const rest = pulls.slice(1);
  assert.ok(rest.length >= 1, "the client pulled again after the 410");
  assert.equal(new URL(rest[0].url).searchParams.get("since"), null, "a full listing (no since)");
  assert.ok(rest.every((e) => e.status === 200));
  assert.equal(c.status().queued, 0);

  assert.ok(isGone(c, p.id), "the record deleted while the token was stale is gone (full resync)");
  assert.ok(c.get(q.id) && c.get(s.id), "the others are there");
  const mine = visible(c).filter((r) => r.title.startsWith(m)).map((r) => r.title).sort();
  assert.deepEqual(mine, [`${m}-local`, `${m}-q`, `${m}-s`]);
  // the local copy is the server's whole org
  const server = await api.listAll();
  assert.deepEqual(visible(c).map((r) => r.id).sort(), server.map((r) => r.id).sort(),
    "after a full resync the local copy is exactly the server's records");

  // the next sync is a delta sync again, with the token of the resync
  const mark2 = rec.log.length;
  await c.sync();
  const next = rec.log.slice(mark2).filter((e) => e.path === "/v1/records" && e.method === "GET");
  assert.ok(next.length >= 1 && new URL(next[0].url).searchParams.get("since"), "delta sync again");
  assert.equal(next[0].status, 200);
  await c.close();
});
