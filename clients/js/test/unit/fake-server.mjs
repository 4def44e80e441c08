// An in-memory imitation of the parts of the RelaySync API the client uses,
// exposed as a fetch function (no network). Enough of the contract for unit
// tests: tokens, idempotency keys with replay, causal checks and conflicts,
// batches, delta sync with cursors and tombstones, 410 for old tokens.
// Tests steer it through hooks.

const json = (status, body, headers = {}) =>
  new Response(body === null ? null : JSON.stringify(body), {
    status,
    headers: {
      "Content-Type": status >= 400 ? "application/problem+json" : "application/json",
      ...headers,
    },
  });

export const problem = (status, code, extra = {}) => ({
  type: `https://relaysync.io/problems/${code}`,
  title: code,
  status,
  code,
  detail: extra.detail || code,
  request_id: "req",
  ...extra,
});

function canon(v) {
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  if (Array.isArray(v)) return "[" + v.map(canon).join(",") + "]";
  return "{" + Object.keys(v).sort().map((k) => JSON.stringify(k) + ":" + canon(v[k])).join(",") + "}";
}

function mergePatch(t, p) {
  if (p === null || typeof p !== "object" || Array.isArray(p)) return p;
  const out = t && typeof t === "object" && !Array.isArray(t) ? { ...t } : {};
  for (const [k, v] of Object.entries(p)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

export class FakeServer {
  constructor({ apiKey = "rs_live_test", ttl = 900 } = {}) {
    this.apiKey = apiKey;
    this.ttl = ttl;
    this.now = 0; // fake clock offset (ms) added to Date.now() for token expiry
    this.records = new Map();
    this.seq = 0; // change counter
    this.idSeq = 0;
    this.causalSeq = 0;
    this.keys = new Map();
    this.conflicts = new Map();
    this.tokens = new Map(); // token -> expiresAt
    this.tokenRequests = 0;
    this.minToken = 0; // tokens t<n> with n < minToken are 410
    this.log = []; // every request: {method, path, headers, body}
    this.applied = 0; // writes really applied (not replays)
    this.hooks = {};
    this.fetch = this.fetch.bind(this);
  }

  causal() {
    return "0" + String(++this.causalSeq).padStart(25, "0");
  }

  // ------------------------------------------------------------ transport

  async fetch(url, init = {}) {
    const u = new URL(url);
    const method = init.method || "GET";
    const headers = {};
    for (const [k, v] of Object.entries(init.headers || {})) headers[k.toLowerCase()] = v;
    const body = init.body ? JSON.parse(init.body) : null;
    const entry = { method, path: u.pathname + u.search, headers, body };
    this.log.push(entry);
    if (this.hooks.request) {
      const r = await this.hooks.request(entry, init);
      if (r) return r;
    }
    if (u.pathname === "/v1/auth/token" && method === "POST") return this.token(body);
    const auth = headers.authorization || "";
    const tok = auth.replace(/^Bearer /, "");
    const exp = this.tokens.get(tok);
    if (!exp || exp <= Date.now() + this.now) return json(401, problem(401, "unauthorized"), { "WWW-Authenticate": "Bearer" });
    if (u.pathname === "/v1/batch" && method === "POST") return this.batch(body);
    if (u.pathname === "/v1/records" && method === "GET") return this.list(u.searchParams);
    if (u.pathname === "/v1/events/stream") {
      if (this.hooks.stream) return this.hooks.stream(entry, init);
      return json(503, problem(503, "service_unavailable"), { "Retry-After": "1" });
    }
    let m;
    if ((m = u.pathname.match(/^\/v1\/conflicts\/([^/]+)$/)) && method === "GET") {
      const c = this.conflicts.get(m[1]);
      return c ? json(200, c) : json(404, problem(404, "not_found"));
    }
    if ((m = u.pathname.match(/^\/v1\/conflicts\/([^/]+)\/resolve$/)) && method === "POST") {
      const r = this.resolve(m[1], body, headers["idempotency-key"]);
      return json(r.status, r.body);
    }
    const r = this.item({ method, path: u.pathname, headers, body });
    return json(r.status, r.body, r.headers);
  }

  token(body) {
    this.tokenRequests++;
    if (!body || body.api_key !== this.apiKey) return json(401, problem(401, "invalid_api_key"));
    const t = `tok${this.tokenRequests}`;
    const expiresAt = Date.now() + this.now + this.ttl * 1000;
    this.tokens.set(t, expiresAt);
    return json(200, {
      access_token: t,
      token_type: "Bearer",
      expires_in: this.ttl,
      expires_at: new Date(expiresAt).toISOString(),
      org_id: "org_x",
      user_id: "usr_x",
      role: "admin",
    });
  }

  batch(body) {
    if (this.hooks.batch) {
      const r = this.hooks.batch(body);
      if (r) return r;
    }
    const responses = body.requests.map((it, i) => {
      const h = {};
      for (const [k, v] of Object.entries(it.headers || {})) h[k.toLowerCase()] = v;
      const item = { method: it.method, path: it.path, headers: h, body: it.body ?? null, index: i };
      if (this.hooks.item) {
        const r = this.hooks.item(item);
        if (r) return { status: r.status, headers: r.headers || {}, body: r.body ?? null };
      }
      const r = this.item(item);
      return { status: r.status, headers: r.headers || {}, body: r.body };
    });
    return json(200, { responses });
  }

  // ------------------------------------------------------------ records

  item({ method, path, headers, body }) {
    const key = headers["idempotency-key"];
    const reqId = method + " " + path + " " + (headers["if-match"] || "") + " " + canon(body);
    if (key) {
      const seen = this.keys.get(key);
      if (seen) {
        if (seen.req !== reqId) return { status: 422, body: problem(422, "idempotency_key_reused") };
        return { status: seen.status, body: seen.body, headers: { ...seen.headers, "Idempotent-Replayed": "true" } };
      }
    }
    const r = this.write(method, path, headers, body);
    if (key && (r.status < 400 || r.body?.code === "causal_conflict")) this.keys.set(key, { req: reqId, ...r });
    return r;
  }

  touch(rec) {
    rec.causal = this.causal();
    rec._seq = ++this.seq;
    rec.updated_at = new Date().toISOString();
  }

  show(rec) {
    const { _seq, ...out } = rec;
    return JSON.parse(JSON.stringify(out));
  }

  write(method, path, headers, body) {
    if (method === "POST" && path === "/v1/records") {
      if (!body || typeof body.title !== "string" || typeof body.type !== "string")
        return { status: 400, body: problem(400, "invalid_request") };
      const id = `rec_${String(++this.idSeq).padStart(6, "0")}`;
      const now = new Date().toISOString();
      const rec = {
        id,
        title: body.title,
        type: body.type,
        site: body.site ?? null,
        status: body.status ?? "queued",
        data: body.data ?? {},
        size: 2,
        causal: null,
        version: 1,
        deleted: false,
        deleted_at: null,
        created_at: now,
        updated_at: now,
        created_by: "usr_x",
        queue: "default",
      };
      this.touch(rec);
      this.records.set(id, rec);
      this.applied++;
      return { status: 201, body: this.show(rec), headers: { Location: `/v1/records/${id}`, ETag: `"${rec.causal}"` } };
    }
    const m = path.match(/^\/v1\/records\/([^/?]+)$/);
    if (!m) return { status: 404, body: problem(404, "not_found") };
    const rec = this.records.get(decodeURIComponent(m[1]));
    if (!rec) return { status: 404, body: problem(404, "not_found") };
    const ifMatch = headers["if-match"] ? headers["if-match"].replace(/"/g, "") : null;
    if (method === "PATCH") {
      if (rec.deleted) return { status: 410, body: problem(410, "record_deleted", { record: this.show(rec) }) };
      const causal = body?.causal ?? ifMatch;
      if (!causal) return { status: 428, body: problem(428, "causal_required") };
      const { causal: _c, ...changes } = body || {};
      if (causal !== rec.causal) return this.conflict(rec, causal, changes, ifMatch ? 412 : 409);
      for (const [k, v] of Object.entries(changes)) rec[k] = k === "data" ? mergePatch(rec.data, v) : v;
      rec.version++;
      this.touch(rec);
      this.applied++;
      return { status: 200, body: this.show(rec), headers: { ETag: `"${rec.causal}"` } };
    }
    if (method === "DELETE") {
      if (rec.deleted) return { status: 200, body: this.show(rec) };
      if (ifMatch && ifMatch !== rec.causal) return this.conflict(rec, ifMatch, { deleted: true }, 409);
      rec.deleted = true;
      rec.deleted_at = new Date().toISOString();
      rec.version++;
      this.touch(rec);
      this.applied++;
      return { status: 200, body: this.show(rec) };
    }
    return { status: 405, body: problem(405, "method_not_allowed") };
  }

  conflict(rec, base, attempted, status) {
    const id = `cfl_${String(this.conflicts.size + 1).padStart(26, "0")}`;
    const c = {
      id,
      record_id: rec.id,
      base_causal: base,
      attempted,
      current: this.show(rec),
      status: "open",
      created_by: "usr_x",
      created_at: new Date().toISOString(),
      resolved_at: null,
      resolved_by: null,
      resolution: null,
    };
    this.conflicts.set(id, c);
    return {
      status,
      body: problem(status, "causal_conflict", { current: this.show(rec), conflict_id: id }),
      headers: { ETag: `"${rec.causal}"` },
    };
  }

  resolve(id, body) {
    const c = this.conflicts.get(id);
    if (!c) return { status: 404, body: problem(404, "not_found") };
    if (c.status !== "open") return { status: 409, body: problem(409, "conflict_closed", { conflict: c }) };
    const rec = this.records.get(c.record_id);
    const changes = body.take === "attempted" ? c.attempted : body.take === "current" ? null : body.record;
    if (changes) {
      if (changes.deleted) rec.deleted = true;
      else for (const [k, v] of Object.entries(changes)) rec[k] = k === "data" ? mergePatch(rec.data, v) : v;
      rec.version++;
      this.touch(rec);
    }
    c.status = "resolved";
    c.resolution = body.take || "record";
    return { status: 200, body: { conflict: c, record: this.show(rec) } };
  }

  // ------------------------------------------------------------ listing / delta sync

  list(q) {
    if (this.hooks.list) {
      const r = this.hooks.list(q);
      if (r) return r;
    }
    const limit = parseInt(q.get("limit") || "50", 10);
    const since = q.get("since");
    const cursor = q.get("cursor");
    if (since) {
      const n = parseInt(since.slice(1), 10);
      if (n < this.minToken) return json(410, problem(410, "sync_token_expired"));
      const after = cursor ? parseInt(cursor.slice(1), 10) : n;
      const changed = [...this.records.values()].filter((r) => r._seq > after).sort((a, b) => a._seq - b._seq);
      const page = changed.slice(0, limit);
      const more = changed.length > limit;
      const last = page.length ? page[page.length - 1]._seq : after;
      return json(200, {
        data: page.map((r) => this.show(r)),
        has_more: more,
        next_cursor: more ? `c${last}` : null,
        sync_token: `t${last}`,
      });
    }
    let start = this.seq;
    let from = 0;
    if (cursor) {
      const [s, f] = cursor.slice(1).split(":");
      start = parseInt(s, 10);
      from = parseInt(f, 10);
    }
    const live = [...this.records.values()].filter((r) => !r.deleted);
    const page = live.slice(from, from + limit);
    const more = live.length > from + limit;
    return json(200, {
      data: page.map((r) => this.show(r)),
      has_more: more,
      next_cursor: more ? `l${start}:${from + limit}` : null,
      sync_token: `t${start}`,
    });
  }

  // Writes as another client would make them, directly.
  serverPatch(id, changes) {
    const rec = this.records.get(id);
    for (const [k, v] of Object.entries(changes)) rec[k] = v;
    rec.version++;
    this.touch(rec);
  }
  serverDelete(id) {
    const rec = this.records.get(id);
    rec.deleted = true;
    rec.version++;
    this.touch(rec);
  }
  serverCreate(title) {
    return this.write("POST", "/v1/records", {}, { title, type: "t" }).body;
  }
  batches() {
    return this.log.filter((e) => e.path === "/v1/batch");
  }
}

export { json };

// A client on a fake server; sleeps are recorded, not waited.
export async function makeClient(server, opts = {}) {
  const { RelaySync, MemoryStorage } = await import("../../src/relaysync.mjs");
  const sleeps = [];
  const c = new RelaySync({
    url: "http://relaysync.test",
    apiKey: server.apiKey,
    storage: opts.storage || new MemoryStorage(),
    fetch: server.fetch,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    ...opts,
  });
  c.sleeps = sleeps;
  await c.open();
  return c;
}
