// Shared helpers of the end-to-end tests (not a test file itself).
//
// The tests run against a real RelaySync server that
// tests/integration/test_jsclient.py starts (lighttpd or Apache); it passes
// what a file needs in the environment:
//
//   RS_URL       http://127.0.0.1:<port> (the run's server)
//   RS_API_KEY   admin key of a fresh org (RS_ORG), rate limit 1,000,000/s
//   RS_API_KEY_2 a second admin user's key in the same org
//   RS_KEY_SLOW  admin key of an org with --rate-limit 2
//   RS_FCGI      path of relaysync.fcgi (to SIGKILL the pool: its processes
//                whose RELAYSYNC_DB is RS_DB)
//   RS_DB        the server's database
//   RS_OLD_SYNC_TOKEN  a sync token of RS_ORG minted 91 days ago (410)
//   RS_FOLLOW_URL, RS_FOLLOW_KEY  a side server with a 3 s stream lifetime
//   RS_FOLLOW_BUFFERED_URL        its buffered-stream port (Apache), if any
//   RS_SPEED_KEY a fresh, empty org's admin key (speed)
//
// Raw HTTP here uses fetch directly, never the client, so what the tests
// check on the server is independent of the code under test.

import { readdirSync, readFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
export const CLIENT_MODULE = join(HERE, "..", "..", "src", "relaysync.mjs");

export function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is not set ` +
    "(run this file from tests/integration/test_jsclient.py)");
  return v;
}

export async function lib() {
  return import(CLIENT_MODULE);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function marker(label) {
  return `${label}-${process.pid}-${Date.now().toString(36)}-` +
    Math.random().toString(36).slice(2, 8);
}

export function tempDir(label) {
  return mkdtempSync(join(tmpdir(), `rsjs-${label}-`));
}

export function removeDir(dir) {
  rmSync(dir, { recursive: true, force: true });
}

/** Polls FN until it returns a truthy value (returned) or TIMEOUT ms. */
export async function waitFor(fn, timeout, what) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** Count from a sync() result member: a number or an array. */
export function count(x) {
  if (Array.isArray(x)) return x.length;
  if (typeof x === "number") return x;
  return 0;
}

// --------------------------------------------------------------------------
// A raw API client (fetch, no retries), for setting up and checking state
// --------------------------------------------------------------------------

export class Api {
  constructor(url, key) {
    this.url = url.replace(/\/$/, "");
    this.key = key;
    this.token = null;
  }

  async auth() {
    const r = await fetch(this.url + "/v1/auth/token", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ api_key: this.key }),
    });
    const body = await r.json();
    if (r.status !== 200) throw new Error(`token exchange: ${r.status} ${JSON.stringify(body)}`);
    this.token = body.access_token;
    return this.token;
  }

  /** -> {status, headers, body (parsed JSON or null)} */
  async call(method, path, body, headers = {}) {
    if (!this.token) await this.auth();
    const h = { Authorization: `Bearer ${this.token}`, ...headers };
    if (body !== undefined) h["Content-Type"] = "application/json";
    const r = await fetch(this.url + path, {
      method, headers: h, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    let parsed = null;
    try { parsed = text ? JSON.parse(text) : null; } catch { parsed = text; }
    return { status: r.status, headers: r.headers, body: parsed };
  }

  async ok(method, path, body, headers, want) {
    const r = await this.call(method, path, body, headers);
    const wanted = want ?? [200, 201];
    if (!wanted.includes(r.status)) {
      throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    }
    return r.body;
  }

  create(body) { return this.ok("POST", "/v1/records", body); }
  get(id) { return this.call("GET", "/v1/records/" + id); }
  patch(id, body) { return this.ok("PATCH", "/v1/records/" + id, body); }
  del(id) { return this.ok("DELETE", "/v1/records/" + id); }
  conflict(id) { return this.ok("GET", "/v1/conflicts/" + id); }

  /** Every record of the org (every page), tombstones too if asked. */
  async listAll({ includeDeleted = false } = {}) {
    const out = [];
    let cursor = null;
    for (let page = 0; page < 1000; page++) {
      const q = new URLSearchParams({ limit: "200" });
      if (includeDeleted) q.set("include_deleted", "true");
      if (cursor) q.set("cursor", cursor);
      const body = await this.ok("GET", "/v1/records?" + q);
      out.push(...body.data);
      if (!body.has_more) return out;
      cursor = body.next_cursor;
    }
    throw new Error("listAll: more than 1000 pages");
  }
}

/** How many records (live, or tombstones too) carry each title starting
 * with PREFIX -> Map title -> count. */
export async function titlesWith(api, prefix, opts) {
  const m = new Map();
  for (const r of await api.listAll(opts)) {
    if (typeof r.title === "string" && r.title.startsWith(prefix)) {
      m.set(r.title, (m.get(r.title) || 0) + 1);
    }
  }
  return m;
}

// --------------------------------------------------------------------------
// A recording fetch (injected into the client): logs every request and its
// answer, and can play "offline" (every call fails as a network error does)
// --------------------------------------------------------------------------

export class Recorder {
  constructor(inner = globalThis.fetch) {
    this.inner = inner;
    this.log = [];
    this.offline = false;
    this.rewrite = null;    // (url) -> url, applied before sending
    this.onRequest = null;  // (entry) -> void, called as each request goes
    this.fetch = this.fetch.bind(this);
  }

  async fetch(input, init = {}) {
    let url = typeof input === "string" ? input : (input.url ?? String(input));
    if (this.rewrite) url = this.rewrite(url);
    const method = (init.method || (typeof input === "object" && input.method) || "GET").toUpperCase();
    const headers = new Headers(init.headers || (typeof input === "object" ? input.headers : undefined));
    const entry = { method, url, path: new URL(url).pathname, query: new URL(url).search,
      headers, at: Date.now(), status: null, resHeaders: null, body: null, items: null };
    if (typeof init.body === "string") {
      try { entry.body = JSON.parse(init.body); } catch { entry.body = init.body; }
    }
    this.log.push(entry);
    if (this.onRequest) this.onRequest(entry);
    if (this.offline) {
      entry.status = "offline";
      throw new TypeError("fetch failed (offline, simulated by the test)");
    }
    let resp;
    try {
      resp = await this.inner(url, init);
    } catch (e) {
      entry.status = "network-error";
      entry.error = String(e);
      throw e;
    }
    entry.status = resp.status;
    entry.resHeaders = resp.headers;
    entry.doneAt = Date.now();
    const type = resp.headers.get("content-type") || "";
    if (entry.path.endsWith("/stream") && resp.body) {
      // keep a copy of what the event stream sends, for the test to read
      const [mine, theirs] = resp.body.tee();
      entry.text = "";
      (async () => {
        const dec = new TextDecoder();
        for await (const chunk of theirs) entry.text += dec.decode(chunk, { stream: true });
      })().catch(() => {});
      return new Response(mine, { status: resp.status, statusText: resp.statusText, headers: resp.headers });
    }
    if (entry.path === "/v1/batch" && type.includes("json")) {
      // read a copy, so the answers of each item are known to the test
      entry.items = resp.clone().json().then((b) => b.responses ?? b, () => null);
    }
    return resp;
  }

  requests(path, method) {
    return this.log.filter((e) => e.path.startsWith(path) && (!method || e.method === method));
  }

  /** The batch items sent so far: [{entry, item, index}] */
  batchItems() {
    const out = [];
    for (const e of this.requests("/v1/batch", "POST")) {
      const reqs = e.body && e.body.requests;
      if (!Array.isArray(reqs)) continue;
      reqs.forEach((item, index) => out.push({ entry: e, item, index }));
    }
    return out;
  }
}

export function header(obj, name) {
  if (!obj) return undefined;
  const want = name.toLowerCase();
  for (const [k, v] of Object.entries(obj)) if (k.toLowerCase() === want) return v;
  return undefined;
}

// --------------------------------------------------------------------------
// The FastCGI pool: SIGKILL the processes running RS_FCGI on this server's
// database (RELAYSYNC_DB in their environment is RS_DB), by pid, found in
// /proc; the web server respawns them. Other servers of the same install
// (another run sharing the prefix) are left alone.
// --------------------------------------------------------------------------

export function poolPids(fcgi, db) {
  const pids = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let argv0;
    let environ;
    try {
      argv0 = readFileSync(`/proc/${name}/cmdline`, "latin1").split("\0")[0];
      if (argv0 !== fcgi) continue;
      environ = readFileSync(`/proc/${name}/environ`, "latin1").split("\0");
    } catch { continue; }
    if (environ.includes(`RELAYSYNC_DB=${db}`)) pids.push(Number(name));
  }
  return pids;
}

export function killPool(fcgi, db) {
  if (!db) throw new Error("killPool: the database path is required");
  const pids = poolPids(fcgi, db);
  for (const pid of pids) {
    try { process.kill(pid, "SIGKILL"); } catch { /* gone already */ }
  }
  return pids;
}

/** Waits (bounded) until the server answers /v1/health 200 again. */
export async function waitHealthy(url, timeout = 30000) {
  return waitFor(async () => {
    try {
      const r = await fetch(url.replace(/\/$/, "") + "/v1/health");
      await r.arrayBuffer();
      return r.status === 200;
    } catch { return false; }
  }, timeout, "GET /v1/health 200");
}

/** sync() until the outbox is empty (bounded by TIMEOUT ms) -> the results. */
export async function syncUntilEmpty(client, timeout, what = "the outbox to empty") {
  const deadline = Date.now() + timeout;
  const results = [];
  for (;;) {
    results.push(await client.sync());
    if (client.status().queued === 0) return results;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}: ` +
        JSON.stringify(client.status()));
    }
    await sleep(100);
  }
}
