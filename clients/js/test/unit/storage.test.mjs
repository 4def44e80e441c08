import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryStorage, FileStorage, IndexedDBStorage } from "../../src/relaysync.mjs";
import { FakeServer, makeClient } from "./fake-server.mjs";

async function contract(st) {
  assert.equal(await st.get("missing"), undefined);
  await st.set("op/000000000002", { b: 2 });
  await st.set("op/000000000001", { a: 1 });
  await st.set("rec/x", { n: [1, 2] });
  await st.set("meta", { seq: 2 });
  assert.deepEqual(await st.get("rec/x"), { n: [1, 2] });
  assert.deepEqual(await st.entries("op/"), [
    ["op/000000000001", { a: 1 }],
    ["op/000000000002", { b: 2 }],
  ]);
  // values are copies, not shared
  const v = await st.get("rec/x");
  v.n.push(3);
  assert.deepEqual(await st.get("rec/x"), { n: [1, 2] });
  await st.delete("op/000000000001");
  await st.delete("never-there");
  assert.deepEqual((await st.entries("op/")).map(([k]) => k), ["op/000000000002"]);
  await st.batch([["op/000000000002", undefined], ["rec/y", { y: 1 }], ["meta", { seq: 3 }]]);
  assert.deepEqual(await st.entries("op/"), []);
  assert.deepEqual((await st.entries("rec/")).map(([k]) => k), ["rec/x", "rec/y"]);
  assert.deepEqual((await st.entries("")).map(([k]) => k), ["meta", "rec/x", "rec/y"]);
}

test("MemoryStorage follows the storage contract", async () => {
  await contract(new MemoryStorage());
});

test("FileStorage follows the contract and persists across instances", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "rs-fs-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, "state.json");
  const st = new FileStorage(path);
  await contract(st);
  await st.close();
  const again = new FileStorage(path);
  assert.deepEqual(await again.get("rec/y"), { y: 1 });
  assert.deepEqual(JSON.parse(await readFile(path, "utf8")).meta, { seq: 3 });
  assert.deepEqual(await readdir(dir), ["state.json"], "no temp files left behind");
});

test("FileStorage writes atomically: temp file, fsync, rename (the file is always whole)", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "rs-fs-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, "state.json");
  const st = new FileStorage(path);
  await st.set("a", 1);
  const fs = await import("node:fs/promises");
  const calls = [];
  st._fs = {
    ...fs,
    open: async (p, ...rest) => {
      calls.push(["open", p.replace(dir, "D"), rest[0]]);
      const h = await fs.open(p, ...rest);
      return {
        writeFile: (...a) => (calls.push(["write"]), h.writeFile(...a)),
        sync: () => (calls.push(["fsync", p.replace(dir, "D")]), h.sync()),
        close: () => h.close(),
      };
    },
    rename: async (a, b) => {
      // the old file is still whole right up to the rename
      assert.deepEqual(JSON.parse(await fs.readFile(b, "utf8")), { a: 1 });
      calls.push(["rename", a.replace(dir, "D"), b.replace(dir, "D")]);
      return fs.rename(a, b);
    },
  };
  await st.set("b", 2);
  assert.deepEqual(calls.map((c) => c[0]), ["open", "write", "fsync", "rename", "open", "fsync"]);
  assert.match(calls[0][1], /^D\/state\.json\.tmp-/);
  assert.equal(calls[3][2], "D/state.json");
  assert.equal(calls[4][1], "D", "the directory is fsynced after the rename");
  assert.deepEqual(JSON.parse(await fs.readFile(path, "utf8")), { a: 1, b: 2 });

  // a crash before the rename (the write fails) leaves the old file whole
  st._fs = { ...fs, rename: async () => { throw Object.assign(new Error("EIO"), { code: "EIO" }); } };
  await assert.rejects(st.set("c", 3), /EIO/);
  assert.deepEqual(JSON.parse(await fs.readFile(path, "utf8")), { a: 1, b: 2 });
  assert.deepEqual(await readdir(dir), ["state.json"], "the temp file is removed");
});

test("FileStorage groups concurrent writes; each resolves once durable", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "rs-fs-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, "s.json");
  const st = new FileStorage(path);
  await st.get("x");
  let writes = 0;
  const orig = st._writeNow.bind(st);
  st._writeNow = () => (writes++, orig());
  await Promise.all(Array.from({ length: 50 }, (_, i) => st.set(`k${i}`, i)));
  assert.ok(writes <= 3, `50 concurrent sets took ${writes} writes`);
  const again = new FileStorage(path);
  assert.equal((await again.entries("k")).length, 50);
});

test("FileStorage: a client restarted on the same file resumes its outbox", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "rs-fs-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, "client.json");
  const s = new FakeServer();
  const c1 = await makeClient(s, { storage: new FileStorage(path) });
  await c1.create({ title: "a", type: "t" });
  await c1.create({ title: "b", type: "t" });
  const keys = c1._ops.map((o) => o.key);
  await c1.close();
  const c2 = await makeClient(s, { storage: new FileStorage(path) });
  assert.deepEqual(c2._ops.map((o) => o.key), keys);
  await c2.sync();
  assert.equal(s.applied, 2);
  await c2.close();
  const c3 = await makeClient(s, { storage: new FileStorage(path) });
  assert.equal(c3.status().queued, 0);
  assert.deepEqual(c3.list().map((r) => r.title), ["a", "b"]);
  const text = await readFile(path, "utf8");
  assert.ok(!text.includes(s.apiKey), "the API key is not in the file");
});

test("FileStorage rejects a corrupt file instead of starting empty", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "rs-fs-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, "bad.json");
  await writeFile(path, "{not json");
  await assert.rejects(new FileStorage(path).get("x"), SyntaxError);
});

test("IndexedDBStorage without indexedDB fails clearly (its behaviour is covered by the Chromium test)", async () => {
  if (globalThis.indexedDB) return;
  const st = new IndexedDBStorage("x");
  await assert.rejects(st.get("a"), /indexedDB is not available/);
});

test("importing relaysync.mjs loads no node: module (browser safe)", async () => {
  const { readFile } = await import("node:fs/promises");
  for (const f of ["relaysync.mjs", "storage.mjs", "sse.mjs"]) {
    const src = await readFile(new URL(`../../src/${f}`, import.meta.url), "utf8");
    const staticImports = [...src.matchAll(/^\s*import\s[^(]*?from\s+["']([^"']+)["']/gm)].map((m) => m[1]);
    assert.ok(staticImports.every((m) => m.startsWith("./")), `${f}: ${staticImports}`);
  }
});
