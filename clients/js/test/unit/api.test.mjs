// The public API surface the operator console uses: signIn/signOut with the
// key in memory and the token optionally in a tokenStorage, request(),
// pager(), stream().
import { test } from "node:test";
import assert from "node:assert/strict";
import { FakeServer, problem, json } from "./fake-server.mjs";
import { RelaySync, RelaySyncError } from "../../src/relaysync.mjs";

class SessionStore {
  constructor() { this.m = new Map(); }
  getItem(k) { return this.m.has(k) ? this.m.get(k) : null; }
  setItem(k, v) { this.m.set(k, String(v)); }
  removeItem(k) { this.m.delete(k); }
}

// The client is given a base URL with a path (a console served under a
// mount); the fake server lives at the root, so the mount is taken off
// here, after checking every request went under it.
function client(s, opts = {}) {
  const fetch = (url, init) => {
    assert.ok(String(url).startsWith("http://relaysync.test/base/v1/"), `under the base: ${url}`);
    return s.fetch(String(url).replace("/base/", "/"), init);
  };
  return new RelaySync({ url: "http://relaysync.test/base/", fetch, ...opts });
}

test("signIn() exchanges the key now and returns the session; the key never reaches tokenStorage", async () => {
  const s = new FakeServer();
  const store = new SessionStore();
  const c = client(s, { tokenStorage: store });
  assert.equal(c.signedIn, false);
  const session = await c.signIn(s.apiKey);
  assert.deepEqual(Object.keys(session).sort(), ["expires_at", "org_id", "role", "user_id"]);
  assert.equal(session.role, "admin");
  assert.equal(c.signedIn, true);
  const stored = store.getItem("relaysync.token");
  assert.ok(stored.includes("tok1"), "the token is kept");
  assert.ok(!stored.includes(s.apiKey), "the key is not");

  // a new client (a reload) on the same store uses the token without a key
  const c2 = client(s, { tokenStorage: store });
  assert.equal(c2.signedIn, true);
  assert.equal(c2.session.role, "admin");
  s.hooks.request = (e) => (e.path === "/v1/me" ? json(200, { role: "admin", auth: e.headers.authorization }) : null);
  assert.deepEqual(await c2.request("GET", "/v1/me"), { role: "admin", auth: "Bearer tok1" });
  assert.equal(s.tokenRequests, 1);

  // that token revoked: no key to renew it -> 401 no_api_key
  s.hooks.request = null;
  s.tokens.clear();
  await assert.rejects(c2.request("GET", "/v1/records"), (e) => e instanceof RelaySyncError && e.status === 401 && e.code === "no_api_key");

  c.signOut();
  assert.equal(store.getItem("relaysync.token"), null, "signOut removes the stored token");
  assert.equal(c.signedIn, false);
  await assert.rejects(c.request("GET", "/v1/records"), (e) => e.code === "no_api_key");
});

test("signIn() with a wrong key rejects with the problem; an expired stored token is dropped", async () => {
  const s = new FakeServer();
  const c = client(s);
  await assert.rejects(c.signIn("rs_live_wrong"), (e) => e.status === 401 && e.code === "invalid_api_key" && e.detail === "invalid_api_key");
  const store = new SessionStore();
  store.setItem("relaysync.token", JSON.stringify({ access: "old", expiresAt: Date.now() - 1, life: 900000 }));
  const c2 = client(s, { tokenStorage: store });
  assert.equal(c2.signedIn, false);
  assert.equal(store.getItem("relaysync.token"), null);
});

test("request(): query (empty values left out), JSON body, headers; 204 is null; a problem becomes a RelaySyncError with errors", async () => {
  const s = new FakeServer();
  const c = client(s, { apiKey: s.apiKey });
  const seen = [];
  s.hooks.request = (e) => {
    if (e.path.startsWith("/v1/auth")) return null;
    seen.push(e);
    if (e.path.startsWith("/v1/echo")) return json(200, { body: e.body });
    if (e.path === "/v1/gone") return new Response(null, { status: 204 });
    return json(400, problem(400, "invalid_request", {
      detail: "unknown member bogus",
      errors: [{ field: "bogus", message: "unknown member" }],
    }));
  };
  const r = await c.request("POST", "/v1/echo", { body: { a: 1 }, query: { x: "1 2", y: undefined, z: "", n: 0 }, headers: { "Idempotency-Key": "k1" } });
  assert.deepEqual(r, { body: { a: 1 } });
  assert.equal(seen[0].path, "/v1/echo?x=1+2&n=0");
  assert.equal(seen[0].headers["idempotency-key"], "k1");
  assert.equal(seen[0].headers["content-type"], "application/json");
  assert.equal(await c.request("DELETE", "/v1/gone"), null);
  const err = await c.request("POST", "/v1/bad", { body: { bogus: 1 } }).catch((e) => e);
  assert.ok(err instanceof RelaySyncError);
  assert.equal(err.status, 400);
  assert.equal(err.code, "invalid_request");
  assert.equal(err.detail, "unknown member bogus");
  assert.deepEqual(err.errors, [{ field: "bogus", message: "unknown member" }]);
  assert.equal(err.requestId, "req");
  // a network failure is status 0
  const c2 = client(s, { apiKey: s.apiKey, fetch: async () => { throw new TypeError("Failed to fetch"); } });
  await assert.rejects(c2.request("GET", "/v1/me"), (e) => e.status === 0 && e.code === "network_error");
});

test("pager(): next() follows next_cursor with the same query; for await walks every item; all(max)", async () => {
  const s = new FakeServer();
  for (let i = 0; i < 7; i++) s.serverCreate(`r${i}`);
  const c = client(s, { apiKey: s.apiKey });
  const p = c.pager("/v1/records", { limit: 3, query: { type: "t" } });
  assert.equal(p.done, false);
  const first = await p.next();
  assert.equal(first.data.length, 3);
  assert.equal(p.done, false);
  const lists = s.log.filter((e) => e.path.includes("/v1/records"));
  assert.equal(lists[0].path, "/v1/records?type=t&limit=3");
  await p.next();
  const last = await p.next();
  assert.equal(last.data.length, 1);
  assert.equal(p.done, true);
  assert.equal(await p.next(), null);
  assert.match(s.log.filter((e) => e.path.includes("/v1/records")).at(-1).path, /cursor=/);
  const titles = [];
  for await (const r of c.pager("/v1/records", { limit: 2 })) titles.push(r.title);
  assert.deepEqual(titles, ["r0", "r1", "r2", "r3", "r4", "r5", "r6"]);
  assert.equal((await c.pager("/v1/records", { limit: 2 }).all(3)).length, 3);
  s.hooks.list = () => json(403, problem(403, "forbidden", { detail: "your role may not" }));
  await assert.rejects(c.pager("/v1/records").next(), (e) => e.status === 403 && e.detail === "your role may not");
});

function sse(text) {
  const body = new ReadableStream({
    start(ctl) {
      ctl.enqueue(new TextEncoder().encode(text));
      ctl.close();
    },
  });
  return new Response(body, { status: 200, headers: { "Content-Type": "text/event-stream" } });
}

test("stream(): bearer header, events, reconnect after retry with Last-Event-ID, errors reported, stop()", async () => {
  const s = new FakeServer();
  const c = client(s, { apiKey: s.apiKey });
  const conns = [];
  s.hooks.request = (e, init) => {
    if (!e.path.startsWith("/v1/audit/stream")) return null;
    conns.push(e);
    if (conns.length === 1) return sse("retry: 10\nid: 5\n\nid: 6\nevent: audit\ndata: {\"seq\":6}\n\n");
    if (conns.length === 2) return json(429, problem(429, "too_many_streams"), { "Retry-After": "0" });
    if (conns.length === 3) return sse("id: 7\nevent: audit\ndata: {\"seq\":7}\n\n");
    // open until stop() aborts it
    return new Promise((_, reject) => init.signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError"))));
  };
  const events = [];
  const errors = [];
  let opens = 0;
  const h = c.stream("/v1/audit/stream", {
    lastEventId: "4",
    onEvent: (ev) => events.push(ev),
    onOpen: () => opens++,
    onError: (ev) => errors.push(ev),
  });
  for (let i = 0; i < 200 && conns.length < 4; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(conns.length, 4);
  assert.equal(conns[0].headers["last-event-id"], "4");
  assert.equal(conns[0].headers.authorization, "Bearer tok1");
  assert.equal(conns[0].headers.accept, "text/event-stream");
  assert.equal(conns[1].headers["last-event-id"], "6", "resumes after the last event");
  assert.equal(conns[3].headers["last-event-id"], "7");
  assert.deepEqual(events.map((e) => [e.id, e.event, JSON.parse(e.data).seq]), [["6", "audit", 6], ["7", "audit", 7]]);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].status, 429);
  assert.equal(errors[0].problem.code, "too_many_streams");
  assert.equal(opens, 2);
  assert.equal(h.lastEventId, "7");
  h.stop();
  await h.done;
  assert.equal(h.connected, false);
});

test("stream(): query parameters; signOut() stops every stream", async () => {
  const s = new FakeServer();
  const c = client(s, { apiKey: s.apiKey });
  const conns = [];
  s.hooks.request = (e, init) => {
    if (!e.path.startsWith("/v1/audit/stream")) return null;
    conns.push(e);
    return new Promise((_, reject) => init.signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError"))));
  };
  const h = c.stream("/v1/audit/stream", { query: { after_seq: 0 } });
  for (let i = 0; i < 100 && !conns.length; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(conns[0].path, "/v1/audit/stream?after_seq=0");
  c.signOut();
  await h.done;
  assert.equal(conns.length, 1);
});
