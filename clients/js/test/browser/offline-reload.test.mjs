// Headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core):
// a page queues edits in IndexedDB while the server is stopped, is
// reloaded (the edits are still queued), the server starts again, and the
// edits arrive exactly once, even after another reload and sync.
//
// The page (test/browser/app/index.html) and the client's modules are
// served from disk by page routes under /app/ on the server's own origin,
// so /v1/* is same-origin and goes to the real server.
//
// Environment (tests/integration/test_jsclient.py): RS_URL, RS_API_KEY (a
// side server's fresh org), RS_CONTROL (http://127.0.0.1:<port>: POST
// /stop and /start stop and start that side server), RS_CHROMIUM
// (optional; default /usr/bin/chromium).

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join, dirname, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { Api, env, marker, waitHealthy } from "../e2e/env.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const CLIENT = normalize(join(HERE, "..", ".."));
const URL_ = env("RS_URL");
const KEY = env("RS_API_KEY");
const CONTROL = env("RS_CONTROL");
const CHROMIUM = process.env.RS_CHROMIUM || "/usr/bin/chromium";

const TYPES = { ".html": "text/html; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
  ".js": "text/javascript; charset=utf-8" };

function fileFor(pathname) {
  // /app/index.html -> test/browser/app/index.html; /app/src/x.mjs -> src/x.mjs
  const rel = pathname.replace(/^\/app\//, "");
  if (rel.includes("..")) return null;
  const path = rel.startsWith("src/") ? join(CLIENT, rel) : join(HERE, "app", rel);
  return existsSync(path) ? path : null;
}

async function control(what) {
  const r = await fetch(`${CONTROL}/${what}`, { method: "POST" });
  const text = await r.text();
  assert.equal(r.status, 200, `control ${what}: ${r.status} ${text}`);
}

async function serverDown() {
  try {
    const r = await fetch(URL_ + "/v1/health");
    await r.arrayBuffer();
    return false;
  } catch { return true; }
}

async function launch() {
  const require = createRequire(join(CLIENT, "package.json"));
  const { chromium } = require("playwright-core");
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  const context = await browser.newContext();
  await context.route(`${URL_}/app/**`, async (route) => {
    const path = fileFor(new URL(route.request().url()).pathname);
    if (!path) return route.fulfill({ status: 404, body: "not found" });
    const ext = path.slice(path.lastIndexOf("."));
    return route.fulfill({ status: 200, headers: { "Content-Type": TYPES[ext] || "application/octet-stream" },
      body: readFileSync(path) });
  });
  return { browser, context };
}

async function openApp(page, opts = {}) {
  await page.goto(`${URL_}/app/index.html`);
  await page.waitForFunction(() => window.app !== undefined, null, { timeout: 10000 });
  return page.evaluate(([key, o]) => window.app.open(key, o), [KEY, opts]);
}

test("browser: edits queued in IndexedDB while the server is stopped survive a reload and arrive exactly once", async (t) => {
  const api = new Api(URL_, KEY);
  const m = marker("browser");
  const existing = await api.create({ title: `${m}-existing`, type: "t", data: { n: 0 } });

  const { browser, context } = await launch();
  try {
    const page = await context.newPage();
    const logs = [];
    page.on("console", (msg) => logs.push(`console.${msg.type()}: ${msg.text()}`));
    page.on("pageerror", (err) => logs.push(`pageerror: ${err.message}`));
    const load = async () => {
      await page.waitForFunction(() => window.app !== undefined, null, { timeout: 10000 });
      return page.evaluate((key) => window.app.open(key), KEY);
    };
    try {
      // first load, online: pull what the org has
      await page.goto(`${URL_}/app/index.html`);
      await load();
      let r = await page.evaluate(() => window.app.sync());
      assert.equal(r.status.queued, 0);
      assert.ok((await page.evaluate(() => window.app.list())).some((x) => x.id === existing.id));

      // the server stops; the page queues edits
      await control("stop");
      assert.ok(await serverDown(), "the server is stopped");
      const made = await page.evaluate(async (m) => {
        const out = [];
        for (let i = 0; i < 5; i++) out.push(await window.app.create({ title: `${m}-${i}`, type: "t", data: { i } }));
        await window.app.patch(out[1].id, { data: { patched: true } });
        await window.app.remove(out[2].id);
        return out;
      }, m);
      await page.evaluate((id) => window.app.patch(id, { title: "renamed-offline" }), existing.id);
      for (const x of made) assert.match(x.id, /^lid_/);
      r = await page.evaluate(() => window.app.sync());
      const queued = r.status.queued;
      assert.ok(queued >= 7, `nothing left the outbox while the server was down (${queued} queued)`);
      assert.ok(r.status.lastError, "the failure shows in status()");

      // reload (the server still stopped): the edits are in IndexedDB
      await page.reload();
      const st = await load();
      assert.equal(st.queued, queued, "the outbox survived the reload");
      const local = await page.evaluate(() => window.app.list());
      assert.equal(local.filter((x) => x.title.startsWith(m) && !x.deleted).length, 4);
      assert.equal(local.find((x) => x.id === existing.id).title, "renamed-offline");
      const dump = await page.evaluate(() => window.app.dump());
      assert.ok(dump.includes(`${m}-0`), "the ops are in IndexedDB");
      assert.ok(!dump.includes(KEY), "the API key is not in IndexedDB");

      // the server starts; sync
      await control("start");
      await waitHealthy(URL_);
      r = await page.evaluate(() => window.app.sync());
      for (let i = 0; i < 20 && r.status.queued > 0; i++) r = await page.evaluate(() => window.app.sync());
      assert.equal(r.status.queued, 0, "everything pushed: " + JSON.stringify(r));

      // reload again and sync: nothing is pushed twice
      await page.reload();
      assert.equal((await load()).queued, 0);
      await page.evaluate(() => window.app.sync());

      const all = await api.listAll();
      const mine = all.filter((x) => x.title.startsWith(m));
      const titles = mine.map((x) => x.title).sort();
      assert.deepEqual(titles, [`${m}-0`, `${m}-1`, `${m}-3`, `${m}-4`],
        "each create exactly once, the deleted one not live");
      assert.equal(mine.find((x) => x.title === `${m}-1`).data.patched, true);
      assert.equal(mine.find((x) => x.title === `${m}-1`).version, 2, "the patch applied once");
      const ex = all.find((x) => x.id === existing.id);
      assert.equal(ex.title, "renamed-offline");
      assert.equal(ex.version, 2);
      const browserList = await page.evaluate(() => window.app.list());
      assert.equal(browserList.filter((x) => x.title.startsWith(m) && !x.deleted).length, 4);
      t.diagnostic(`${queued} ops queued offline and kept over a reload; page log: ${logs.length} lines ` +
        `(${logs.filter((l) => l.includes("ERR_CONNECTION_REFUSED")).length} connection refused while stopped)`);
    } catch (e) {
      e.message += "\npage log: " + logs.join("\n");
      throw e;
    }
  } finally {
    await browser.close();
  }
});

test("browser: the tab closed mid-push; a new tab on the same IndexedDB finishes, each edit exactly once", async (t) => {
  const api = new Api(URL_, KEY);
  const m = marker("tabkill");
  const n = 400;
  const { browser, context } = await launch();
  try {
    const page = await context.newPage();
    await openApp(page, { batchSize: 10 });
    await page.evaluate(async ({ m, n }) => {
      for (let i = 0; i < n; i++) await window.app.create({ title: `${m}-${i}`, type: "t", data: { i } });
    }, { m, n });
    // start the push (small batches, so it takes a while) and close the tab during it
    await page.evaluate(() => { window.app.sync(); });
    await page.waitForFunction(() => window.app.events().filter((e) => e === "pushed").length >= 30,
      null, { timeout: 20000, polling: 1 });
    await page.close({ runBeforeUnload: false });
    const landed = (await api.listAll()).filter((r) => r.title.startsWith(m)).length;

    const page2 = await context.newPage();
    const st = await openApp(page2, { batchSize: 10 });
    t.diagnostic(`tab closed with ${landed} of ${n} on the server; the new tab found ${st.queued} queued`);
    assert.ok(st.queued > 0 && st.queued <= n, `queued in the new tab: ${st.queued}`);
    let r = await page2.evaluate(() => window.app.sync());
    for (let i = 0; i < 20 && r.status.queued > 0; i++) r = await page2.evaluate(() => window.app.sync());
    assert.equal(r.status.queued, 0);
    const titles = new Map();
    for (const x of await api.listAll()) {
      if (x.title.startsWith(m)) titles.set(x.title, (titles.get(x.title) || 0) + 1);
    }
    assert.equal(titles.size, n, "every create landed");
    for (const [title, k] of titles) assert.equal(k, 1, title + " exactly once");
    const local = await page2.evaluate(() => window.app.list());
    assert.equal(local.filter((x) => x.title.startsWith(m)).length, n, "the tab's copy holds each once");
  } finally {
    await browser.close();
  }
});
