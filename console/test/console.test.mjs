// The operator console in headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core from clients/js/node_modules) against the real
// server, which serves it at RS_URL/console/ with the strict CSP.
// Run by tests/integration/test_console.py, which documents the environment
// (RS_URL, RS_API_KEY, RS_OPERATOR_KEY, RS_OPERATOR_ID, RS_CONTROL,
// RS_HOOK_URL, RS_OUT, RS_CHROMIUM).
//
// Every page is watched: a console error or warning, an uncaught exception
// or a securitypolicyviolation fails the test, except the resource errors
// ("Failed to load resource: ... status of 4xx") a step provokes on
// purpose and declares.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { RelaySync } from "../../clients/js/src/relaysync.mjs";
import { verifyChain } from "../../clients/js/src/audit-chain.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..", "..");
const env = (n) => {
  const v = process.env[n];
  if (!v) throw new Error(`${n} is not set (see tests/integration/test_console.py)`);
  return v;
};
const URL_ = env("RS_URL");
const KEY = env("RS_API_KEY");
const OP_KEY = env("RS_OPERATOR_KEY");
const OP_ID = env("RS_OPERATOR_ID");
const CONTROL = env("RS_CONTROL");
const HOOK = env("RS_HOOK_URL");
const OUT = env("RS_OUT");
const CHROMIUM = process.env.RS_CHROMIUM || "/usr/bin/chromium";
const CONSOLE = `${URL_}/console/`;
const M = `c${Date.now().toString(36)}`; // this run's marker

const api = new RelaySync({ url: URL_, apiKey: KEY });

async function control(method, what) {
  const r = await fetch(`${CONTROL}/${what}`, { method });
  const body = await r.json();
  assert.equal(r.status, 200, `control ${what}: ${JSON.stringify(body)}`);
  return body;
}

const shots = [];
async function shot(page, name) {
  const path = join(OUT, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  shots.push(path);
  console.log(`# screenshot ${path}`);
}

/** A page whose console, errors and CSP violations are recorded. */
async function watched(context, label) {
  const page = await context.newPage();
  const w = { page, label, problems: [], allowed: new Set(), allowedSeen: [] };
  page.on("console", (msg) => {
    if (msg.type() !== "error" && msg.type() !== "warning") return;
    const text = msg.text();
    const m = text.match(/Failed to load resource: the server responded with a status of (\d+)/);
    if (m && w.allowed.has(Number(m[1]))) {
      w.allowedSeen.push(text);
      return;
    }
    w.problems.push(`console.${msg.type()}: ${text} (${msg.location().url})`);
  });
  page.on("pageerror", (err) => w.problems.push(`pageerror: ${err.message}`));
  await page.exposeBinding("__cspViolation", (_src, v) => w.problems.push(`CSP violation: ${JSON.stringify(v)}`));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      window.__cspViolation({ directive: e.violatedDirective, blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber });
    });
  });
  // Are the console's own responses served with the CSP? (each document)
  page.on("response", (res) => {
    if (res.request().resourceType() === "document" && res.url().startsWith(CONSOLE)) {
      const csp = res.headers()["content-security-policy"] || "";
      if (!csp.includes("script-src 'self'") || !csp.includes("default-src 'none'"))
        w.problems.push(`document ${res.url()} served without the strict CSP: ${csp}`);
    }
  });
  return w;
}

/** Runs fn while answers of the given statuses are expected (console "Failed to load resource"). */
async function expecting(w, statuses, fn) {
  for (const s of statuses) w.allowed.add(s);
  try {
    return await fn();
  } finally {
    await w.page.waitForTimeout(100);
    for (const s of statuses) w.allowed.delete(s);
  }
}

function clean(w) {
  assert.deepEqual(w.problems, [], `${w.label}: console errors, page errors or CSP violations`);
}

async function signIn(page, key) {
  await page.goto(CONSOLE);
  await page.getByLabel("API key").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
}

async function view(page, id) {
  await page.click(`#nav a[data-view="${id}"]`);
  await page.waitForSelector(`section.view[data-view="${id}"]`);
}

let browser;
test.before(async () => {
  const require = createRequire(join(ROOT, "clients", "js", "package.json"));
  const { chromium } = require("playwright-core");
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
});
test.after(async () => {
  if (browser) await browser.close();
  console.log(`# ${shots.length} screenshots in ${OUT}`);
});

test("console: every view as an admin, against the real server", async (t) => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: new URL(URL_).origin });
  const w = await watched(context, "admin page");
  const { page } = w;
  page.on("dialog", (d) => d.accept());
  try {
    // -- sign in
    await page.goto(CONSOLE);
    await page.waitForSelector("#signin");
    await shot(page, "01-signin");
    await signIn(page, KEY);
    await page.waitForSelector('#nav a[data-view="records"]');
    assert.match(await page.textContent("#who"), /console-admin@example.com \(admin\)/);
    const navs = await page.$$eval("#nav a", (as) => as.map((a) => a.dataset.view));
    assert.deepEqual(navs, ["records", "queue", "webhooks", "policies", "users", "audit"]);
    const storage = await page.evaluate(() => ({
      session: JSON.stringify(Object.entries(sessionStorage)),
      local: localStorage.length,
      cookie: document.cookie,
    }));
    assert.ok(!storage.session.includes(KEY), "the API key is not in sessionStorage");
    assert.ok(storage.session.includes("relaysync.token"), "the access token is");
    assert.equal(storage.local, 0, "nothing in localStorage");
    assert.equal(storage.cookie, "", "no cookie");
    // a reload keeps the session (the token, not the key)
    await page.reload();
    await page.waitForSelector('#nav a[data-view="records"]');

    // -- records: one made through the API shows in the list; its history; a conflict resolved
    await api.signIn();
    const rec = await api.request("POST", "/v1/records", { body: { title: `${M} pump`, type: `${M}-t`, site: "alpha", data: { psi: 87 } } });
    const v2 = await api.request("PATCH", `/v1/records/${rec.id}`, { body: { causal: rec.causal, data: { psi: 91 } } });
    const lost = await api.request("PATCH", `/v1/records/${rec.id}`, { body: { causal: rec.causal, site: "beta" } }).catch((e) => e);
    assert.equal(lost.status, 409, "a stale causal: a conflict");
    const conflictId = lost.problem.conflict_id;
    await view(page, "records");
    await page.fill("#record-filters input[name=type]", `${M}-t`);
    await page.click("#record-filters button[type=submit]");
    const row = page.locator(`#records-table tr[data-id="${rec.id}"]`);
    await row.waitFor();
    assert.match(await row.textContent(), new RegExp(`${M} pump`));
    await shot(page, "02-records");
    await row.getByRole("link").click();
    await page.waitForSelector("#history-table tbody tr td.num");
    const hist = await page.$$eval("#history-table tbody tr", (trs) => trs.map((tr) => tr.children[0].textContent));
    assert.deepEqual(hist, ["1"], "the prior version is listed");
    const card = page.locator(`#conflicts article[data-id="${conflictId}"]`);
    await card.waitFor();
    assert.match(await card.textContent(), /beta/, "the attempted change is shown");
    await shot(page, "03-record");
    await card.getByRole("button", { name: "Take attempted" }).click();
    await card.waitFor({ state: "detached" });
    await page.waitForFunction(() => document.querySelectorAll("#history-table tbody tr").length === 2);
    const after = await api.request("GET", `/v1/records/${rec.id}`);
    assert.equal(after.site, "beta", "the resolve applied the attempted change");
    assert.equal(after.version, v2.version + 1);

    // -- webhooks: create through the console (secret shown once), pointed at the failing receiver
    await view(page, "webhooks");
    await page.fill("#webhook-create input[name=url]", HOOK);
    await page.uncheck("#webhook-create input[value='*']");
    await page.check("#webhook-create input[value='record.created']");
    await page.click("#webhook-create button[type=submit]");
    await page.waitForSelector("#webhook-created output.secret");
    const secret = await page.textContent("#webhook-created output.secret");
    assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    await page.click("#webhook-created .once button");
    await page.waitForFunction(() => /Copied|Selected/.test(document.querySelector("#webhook-created .once").textContent));
    const hooks = await api.request("GET", "/v1/webhooks");
    assert.equal(hooks.data.length, 1);
    const hook = hooks.data[0];
    assert.deepEqual(hook.events, ["record.created"]);
    await page.waitForSelector(`#webhooks-table tr[data-id="${hook.id}"]`);
    await shot(page, "04-webhooks");

    // a record -> the worker delivers -> the receiver answers 500 -> the job failed
    const rec2 = await api.request("POST", "/v1/records", { body: { title: `${M} hooked`, type: `${M}-t` } });
    await control("POST", "worker");
    assert.equal((await control("GET", "receiver")).requests, 1, "one attempt reached the receiver");
    await view(page, "queue");
    await page.selectOption("#job-filters select[name=state]", "failed");
    await page.click("#job-filters button[type=submit]");
    const jobRow = page.locator(`table.jobs tr[data-state="failed"]`).first();
    await jobRow.waitFor();
    const jobId = await jobRow.getAttribute("data-id");
    assert.match(await jobRow.textContent(), new RegExp(hook.id));
    assert.match(await jobRow.textContent(), /500/);
    assert.match(await page.textContent("#queue-counts"), /failed 1/);
    assert.equal(await page.locator("#queue-chart svg circle.dot.st-failed").count(), 1, "the chart shows the sample");
    await shot(page, "05-queue-failed");
    // the receiver is fixed; retry from the console; the next worker run delivers it
    await control("POST", "receiver/200");
    await jobRow.getByRole("button", { name: "Retry" }).click();
    await page.waitForFunction((id) => !document.querySelector(`table.jobs tr[data-id="${id}"][data-state="failed"]`), jobId);
    const pending = await api.request("GET", "/v1/sync/queue", { query: { state: "pending" } });
    assert.ok(pending.data.some((j) => j.id === jobId), "the retried job is pending");
    await control("POST", "worker");
    const rx = await control("GET", "receiver");
    assert.deepEqual(rx.answered, [500, 200], "the retry was delivered");
    await page.selectOption("#job-filters select[name=state]", "succeeded");
    await page.click("#job-filters button[type=submit]");
    await page.locator(`table.jobs tr[data-id="${jobId}"][data-state="succeeded"]`).waitFor();
    assert.match(await page.textContent("#queue-counts"), /succeeded 1/);
    await shot(page, "06-queue-succeeded");
    // the endpoint's deliveries
    await page.goto(`${CONSOLE}#/webhooks/${hook.id}`);
    await page.locator(`#deliveries tr[data-id="${jobId}"][data-state="succeeded"]`).waitFor();
    assert.ok(rec2.id);
    await shot(page, "07-webhook-deliveries");

    // -- users: invite (the token shown once)
    await view(page, "users");
    await page.fill("#user-invite input[name=email]", `${M}@example.com`);
    await page.selectOption("#user-invite select[name=role]", "operator");
    await page.click("#user-invite button[type=submit]");
    await page.waitForSelector("#invited output.secret");
    assert.match(await page.textContent("#invited output.secret"), /^rsi_[A-Za-z0-9_-]{43}$/);
    await page.locator(`#users-table tr[data-email="${M}@example.com"]`).waitFor();
    assert.match(await page.locator(`#users-table tr[data-email="${M}@example.com"]`).textContent(), /invited/);
    await shot(page, "08-users");

    // -- policies: save one; the dry run follows the sample record as it is typed
    await view(page, "policies");
    await page.fill("#policy-editor input[name=name]", "big_media");
    await page.fill("#policy-editor textarea[name=when]", "size>1k");
    await page.fill("#policy-editor input[name=then]", "queue=wifi; priority=2");
    await page.click("#policy-editor button[type=submit]");
    await page.locator('#policies-table tr[data-name="big_media"]').waitFor();
    await page.waitForFunction(() => /No policy matches/.test(document.querySelector("#dry-run").textContent));
    const t0 = Date.now();
    await page.fill("#policy-dry-run textarea[name=data]", JSON.stringify({ blob: "x".repeat(2000) }));
    await page.waitForFunction(() => /Matches big_media → queue wifi, priority 2/.test(document.querySelector("#dry-run").textContent));
    t.diagnostic(`policy dry run updated ${Date.now() - t0} ms after typing`);
    // an invalid policy: the 400's detail and field errors are shown
    await expecting(w, [400], async () => {
      await page.fill("#policy-editor textarea[name=when]", "size>");
      await page.click("#policy-editor button[type=submit]");
      await page.waitForSelector("#policy-editor .error");
    });
    const perr = await page.textContent("#policy-editor .error");
    assert.match(perr, /400 invalid_policy/);
    assert.match(perr, /when: position/);
    await shot(page, "09-policies");

    // -- audit: live, within 2 s; verify the chain; a wrong hash is reported
    // (Behind a buffering server, Apache's mod_fcgid here, the stream's
    // answer, headers included, arrives only when the server ends it, which
    // it does as soon as it has sent an entry: so wait for the request, not
    // for the answer.)
    const streamReq = page.waitForRequest((r) => r.url().startsWith(`${URL_}/v1/audit/stream`));
    await view(page, "audit");
    await streamReq;
    await page.waitForTimeout(1000); // the server has begun the stream
    const t1 = Date.now();
    const rec3 = await api.request("POST", "/v1/records", { body: { title: `${M} audited`, type: `${M}-t` } });
    await page.locator(`#audit-live td code:text-is("${rec3.id}")`).waitFor({ timeout: 2000 });
    const liveMs = Date.now() - t1;
    t.diagnostic(`audit entry of ${rec3.id} in the live view ${liveMs} ms after the write`);
    assert.ok(liveMs <= 2000, `live within 2 s (${liveMs} ms)`);
    assert.equal(await page.textContent("#live-state"), "live");
    await page.click("#verify");
    await page.waitForSelector("#verify-result.ok, #verify-result.bad");
    const verdict = await page.textContent("#verify-result");
    const all = await api.pager("/v1/audit", { limit: 200 }).all();
    assert.equal(verdict, `${all.length} entries, intact.`);
    assert.ok(verifyChain(all).ok, "the same chain verifies in Node (audit-chain.mjs)");
    t.diagnostic(`chain: ${all.length} entries verified in the browser`);
    await shot(page, "10-audit");
    // the same chain with one hash changed in transit: reported at that entry
    await page.route(`${URL_}/v1/audit?**`, async (route) => {
      const res = await route.fetch();
      const doc = await res.json();
      for (const e of doc.data) if (e.seq === 3) e.hash = e.hash.replace(/^./, (c) => (c === "0" ? "1" : "0"));
      await route.fulfill({ response: res, body: JSON.stringify(doc) });
    });
    await page.click("#verify");
    await page.waitForSelector("#verify-result.bad");
    assert.match(await page.textContent("#verify-result"), /^Broken: entry 3: hash mismatch: stored [0-9a-f]{64}, computed [0-9a-f]{64}$/);
    await page.unroute(`${URL_}/v1/audit?**`);
    // leave the view (its stream stops), write, come back: the stream resumes
    // after the last entry seen (Last-Event-ID kept for the tab), so the
    // entry written meanwhile is shown
    await view(page, "records");
    const rec4 = await api.request("POST", "/v1/records", { body: { title: `${M} while away`, type: `${M}-t` } });
    const resumed = page.waitForRequest((r) => r.url().startsWith(`${URL_}/v1/audit/stream`));
    await view(page, "audit");
    assert.equal((await resumed).headers()["last-event-id"], String(all.length), "resumes after the last entry seen");
    await page.locator(`#audit-live td code:text-is("${rec4.id}")`).waitFor({ timeout: 5000 });
    await view(page, "records");

    // -- 360 px wide
    await page.setViewportSize({ width: 360, height: 740 });
    await page.goto(`${CONSOLE}#/records`);
    await page.locator(`#records-table tr[data-id="${rec.id}"]`).waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `no sideways scrolling of the page at 360 px (${overflow} px too wide)`);
    await shot(page, "11-records-360px");
    await view(page, "queue");
    await page.locator("table.jobs").waitFor();
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 360), "queue fits 360 px");
    await shot(page, "12-queue-360px");

    // sign out: the token is gone
    await page.click("#signout");
    await page.waitForSelector("#signin");
    assert.equal(await page.evaluate(() => sessionStorage.getItem("relaysync.token")), null);
    clean(w);
  } catch (e) {
    await page.screenshot({ path: join(OUT, "failure-admin.png"), fullPage: true }).catch(() => {});
    e.message += `\npage problems: ${w.problems.join("\n")}`;
    throw e;
  } finally {
    await context.close();
  }
});

test("console: a wrong key's 401 and a 403's detail are shown; an operator sees only its views", async () => {
  const context = await browser.newContext({ viewport: { width: 1024, height: 800 } });
  const w = await watched(context, "operator page");
  const { page } = w;
  try {
    await expecting(w, [401], async () => {
      await signIn(page, "rs_live_wrong_key_0000000000000000");
      await page.waitForSelector("#signin .error");
    });
    assert.match(await page.textContent("#signin .error"), /^401 invalid_api_key: \S/);
    await signIn(page, OP_KEY);
    await page.waitForSelector('#nav a[data-view="records"]');
    const navs = await page.$$eval("#nav a", (as) => as.map((a) => a.dataset.view));
    assert.deepEqual(navs, ["records", "queue", "policies"], "an operator's views");
    await view(page, "policies");
    assert.equal(await page.locator("#policy-editor").count(), 0, "no policy editor for an operator");
    await page.waitForSelector("#dry-run p.result");
    // an admin makes the operator a viewer; the queue's next call is a 403 with its detail
    await view(page, "queue");
    await page.locator("table.jobs").waitFor();
    await api.request("PATCH", `/v1/users/${OP_ID}`, { body: { role: "viewer" } });
    await expecting(w, [403], async () => {
      await page.click("#queue-refresh");
      await page.waitForSelector("section.view .error");
    });
    const err = await page.textContent("section.view .error");
    assert.match(err, /^403 forbidden: \S+/, "the 403 and its detail");
    await shot(page, "13-forbidden");
    clean(w);
  } catch (e) {
    await page.screenshot({ path: join(OUT, "failure-operator.png"), fullPage: true }).catch(() => {});
    e.message += `\npage problems: ${w.problems.join("\n")}`;
    throw e;
  } finally {
    await context.close();
  }
});
