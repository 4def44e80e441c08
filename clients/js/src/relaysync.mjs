// RelaySync JavaScript client: a durable outbox, delta sync, conflicts and a
// live follow of the event stream, for browsers and Node 18+.
// Dependency-free; uses only fetch, crypto.randomUUID, AbortController and
// TextDecoder. See ../README.md.

import { MemoryStorage, FileStorage, IndexedDBStorage } from "./storage.mjs";
import { SSEParser } from "./sse.mjs";

export { MemoryStorage, FileStorage, IndexedDBStorage, SSEParser };

const PATCH_FIELDS = new Set(["title", "type", "site", "status", "data"]);
const CREATE_FIELDS = PATCH_FIELDS;
const MAX_BATCH = 100;
// A batch body must stay under the server's 1 MiB; leave room for the envelope.
const MAX_BATCH_BYTES = 900 * 1024;
const PULL_LIMIT = 200;

const pad = (n) => String(n).padStart(12, "0");
const opKey = (seq) => `op/${pad(seq)}`;
const isLid = (id) => typeof id === "string" && id.startsWith("lid_");
const copy = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));

/**
 * An error the client reports: `status` (HTTP, or 0 for network), `code`,
 * `detail`, `errors` (the problem's field-level `errors`, or []),
 * `requestId` and `problem` (the server's problem+json body).
 */
export class RelaySyncError extends Error {
  constructor(status, problem, message) {
    const p = problem && typeof problem === "object" ? problem : {};
    super(message || p.detail || p.title || p.code || `HTTP ${status}`);
    this.name = "RelaySyncError";
    this.status = status;
    this.code = p.code || (status === 0 ? "network_error" : "http_error");
    this.detail = p.detail || this.message;
    this.errors = Array.isArray(p.errors) ? p.errors : [];
    this.requestId = p.request_id || null;
    this.problem = problem || null;
    this.retryAfterMs = null;
  }
}

const TOKEN_KEY = "relaysync.token";

// RFC 7396 JSON Merge Patch.
function mergePatch(target, patch) {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return copy(patch);
  const out = target && typeof target === "object" && !Array.isArray(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function header(headers, name) {
  if (!headers) return null;
  if (typeof headers.get === "function") return headers.get(name);
  const low = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === low) return v;
  return null;
}

/** Retry-After (seconds or an HTTP date) in ms, or null. */
export function parseRetryAfter(value, now = Date.now()) {
  if (value === null || value === undefined || value === "") return null;
  const s = String(value).trim();
  if (/^[0-9]+$/.test(s)) return parseInt(s, 10) * 1000;
  const t = Date.parse(s);
  if (Number.isNaN(t)) return null;
  return Math.max(0, t - now);
}

export class RelaySync {
  constructor(opts = {}) {
    if (!opts.url) throw new TypeError("RelaySync: url is required");
    this.url = String(opts.url).replace(/\/+$/, "");
    this._apiKey = opts.apiKey || null;
    this.storage = opts.storage || new MemoryStorage();
    this.persistKey = !!opts.persistKey;
    this.merge = !!opts.merge;
    this.batchSize = Math.max(1, Math.min(MAX_BATCH, opts.batchSize || MAX_BATCH));
    const b = opts.backoff || {};
    this.backoff = {
      baseMs: b.baseMs ?? 250,
      maxMs: b.maxMs ?? 30000,
      attempts: b.attempts ?? 8,
    };
    this._fetch = opts.fetch || globalThis.fetch?.bind(globalThis);
    if (!this._fetch) throw new TypeError("RelaySync: no fetch available; pass options.fetch");
    this._sleepImpl = opts.sleep || null;
    this._random = opts.random || Math.random;
    this._now = opts.now || Date.now;
    this.debounceMs = opts.debounceMs ?? 50;
    // Where the access token (never the key) is kept across reloads, e.g.
    // sessionStorage: anything with getItem/setItem/removeItem.
    this._tokenStorage = opts.tokenStorage || null;
    this._tokenStorageKey = opts.tokenStorageKey || TOKEN_KEY;
    this.session = null; // {role, org_id, user_id, expires_at} of the last token exchange

    this._listeners = new Map();
    this._opened = false;
    this._closed = false;
    this._meta = { seq: 0, syncToken: null };
    this._ops = []; // outbox, in seq order
    this._byId = new Map(); // record id -> its queued ops, in order
    this._base = new Map(); // id -> server copy of the record
    this._view = new Map(); // id -> local copy (base + queued ops)
    this._lids = new Map(); // lid -> server id, once its create is pushed
    this._token = null; // {access, expiresAt, life}
    this._tokenP = null;
    this._syncing = false;
    this._syncP = null;
    this._syncAgain = null;
    this._lastSync = null;
    this._lastError = null;
    this._follows = new Set();
    this._ctl = new AbortController(); // aborted by close()
    this._loadStoredToken();
  }

  _loadStoredToken() {
    if (!this._tokenStorage) return;
    try {
      const raw = this._tokenStorage.getItem(this._tokenStorageKey);
      const t = raw ? JSON.parse(raw) : null;
      if (t && typeof t.access === "string" && t.expiresAt > this._now()) {
        this._token = { access: t.access, expiresAt: t.expiresAt, life: t.life };
        this.session = t.session || null;
      } else if (raw) {
        this._tokenStorage.removeItem(this._tokenStorageKey);
      }
    } catch {
      /* unreadable: ignore it */
    }
  }

  // ---------------------------------------------------------------- sign in

  /**
   * Exchange the API key (this one, else the constructor's) for a bearer
   * token now. The key stays in memory only; the token goes to
   * `tokenStorage` when one was given. Resolves the session
   * `{role, org_id, user_id, expires_at}`; rejects with a RelaySyncError.
   */
  async signIn(apiKey) {
    if (this._closed) throw new Error("RelaySync: closed");
    if (apiKey !== undefined) this._apiKey = apiKey || null;
    this._token = null;
    await this._auth(true);
    return this.session;
  }

  /** True when a token is held (from signIn() or tokenStorage) or a key can get one. */
  get signedIn() {
    return !!(this._apiKey || (this._token && this._token.expiresAt > this._now()));
  }

  /** Forget the key and the token (and the stored token); stop every stream. */
  signOut() {
    this._apiKey = null;
    this._token = null;
    this.session = null;
    for (const f of [...this._follows]) f.stop();
    if (this._tokenStorage) {
      try {
        this._tokenStorage.removeItem(this._tokenStorageKey);
      } catch {}
    }
  }

  // ---------------------------------------------------------------- events

  on(type, fn) {
    if (!this._listeners.has(type)) this._listeners.set(type, new Set());
    this._listeners.get(type).add(fn);
    return this;
  }
  off(type, fn) {
    this._listeners.get(type)?.delete(fn);
    return this;
  }
  _emit(type, payload) {
    const set = this._listeners.get(type);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        fn(payload);
      } catch (e) {
        // A listener's exception must not break the sync loop.
        if (typeof console !== "undefined") console.error("RelaySync listener for", type, "threw:", e);
      }
    }
  }
  _emitStatus() {
    this._emit("status", this.status());
  }

  status() {
    return {
      queued: this._ops.length,
      syncing: this._syncing,
      lastSync: this._lastSync,
      lastError: this._lastError,
    };
  }

  // ---------------------------------------------------------------- open/close

  async open() {
    if (this._opened) return this;
    const st = this.storage;
    const meta = (await st.get("meta")) || {};
    this._meta = { seq: 0, syncToken: null, ...meta };
    if (this.persistKey) {
      if (!this._apiKey && meta.apiKey) this._apiKey = meta.apiKey;
      if (meta.token && meta.token.expiresAt > this._now()) this._token = meta.token;
      if (this._apiKey && meta.apiKey !== this._apiKey) {
        this._meta.apiKey = this._apiKey;
        await st.set("meta", this._meta);
      }
    } else if ("apiKey" in meta || "token" in meta) {
      // Written by an earlier persistKey: true session: the app no longer wants it kept.
      delete this._meta.apiKey;
      delete this._meta.token;
      await st.set("meta", this._meta);
    }
    for (const [k, id] of await st.entries("lid/")) this._lids.set(k.slice(4), id);
    for (const [k, rec] of await st.entries("rec/")) this._base.set(k.slice(4), rec);
    const ops = await st.entries("op/");
    this._ops = ops.map(([, op]) => op);
    let maxSeq = this._meta.seq || 0;
    for (const op of this._ops) if (op.seq > maxSeq) maxSeq = op.seq;
    this._meta.seq = maxSeq;
    // Ops queued against a lid whose create was pushed just before a crash.
    for (const op of this._ops) if (isLid(op.id) && this._lids.has(op.id)) op.id = this._lids.get(op.id);
    this._reindex();
    this._rebuildAllViews();
    this._opened = true;
    this._emitStatus();
    return this;
  }

  async close() {
    if (this._closed) return;
    this._closed = true;
    for (const f of [...this._follows]) f.stop();
    this._ctl.abort();
    if (this._syncP) await this._syncP.catch(() => {});
    if (this.storage.close) await this.storage.close();
  }

  _checkOpen() {
    if (!this._opened) throw new Error("RelaySync: call open() first");
    if (this._closed) throw new Error("RelaySync: closed");
  }

  // ---------------------------------------------------------------- storage helpers

  async _write(writes) {
    if (!writes.length) return;
    const st = this.storage;
    if (st.batch) return st.batch(writes);
    // No batch(): deletes of ops go last, so a crash leaves an op to replay
    // rather than a lost mapping.
    const sets = writes.filter(([k, v]) => !(v === undefined && k.startsWith("op/")));
    const dels = writes.filter(([k, v]) => v === undefined && k.startsWith("op/"));
    await Promise.all(sets.map(([k, v]) => (v === undefined ? st.delete(k) : st.set(k, v))));
    await Promise.all(dels.map(([k]) => st.delete(k)));
  }

  _metaWrite() {
    const m = { ...this._meta };
    if (!this.persistKey) {
      delete m.apiKey;
      delete m.token;
    }
    return ["meta", m];
  }

  // ---------------------------------------------------------------- local view

  _resolveId(id) {
    let cur = id;
    while (isLid(cur) && this._lids.has(cur)) cur = this._lids.get(cur);
    return cur;
  }

  _opsOf(id) {
    return this._byId.get(id) || [];
  }

  _reindex() {
    this._byId.clear();
    for (const op of this._ops) {
      if (!this._byId.has(op.id)) this._byId.set(op.id, []);
      this._byId.get(op.id).push(op);
    }
  }

  _removeOps(dropped) {
    if (!dropped.size) return;
    this._ops = this._ops.filter((o) => !dropped.has(o));
    for (const op of dropped) {
      const list = this._byId.get(op.id);
      if (!list) continue;
      const i = list.indexOf(op);
      if (i >= 0) list.splice(i, 1);
      if (!list.length) this._byId.delete(op.id);
    }
  }

  _computeView(id, ops) {
    let rec = this._base.has(id) ? copy(this._base.get(id)) : undefined;
    if (rec && rec.deleted) rec = undefined;
    for (const op of ops) {
      if (op.kind === "create") {
        rec = {
          id,
          title: op.body.title,
          type: op.body.type,
          site: op.body.site ?? null,
          status: op.body.status ?? "queued",
          data: copy(op.body.data ?? {}),
          causal: null,
          version: 0,
          deleted: false,
          deleted_at: null,
          created_at: new Date(op.queuedAt).toISOString(),
          updated_at: new Date(op.queuedAt).toISOString(),
        };
      } else if (op.kind === "patch") {
        if (!rec) continue;
        for (const [k, v] of Object.entries(op.body)) {
          if (k === "causal") continue;
          if (k === "data") rec.data = mergePatch(rec.data || {}, v);
          else rec[k] = v;
        }
        rec.updated_at = new Date(op.queuedAt).toISOString();
      } else if (op.kind === "delete") {
        rec = undefined;
      }
    }
    return rec;
  }

  _rebuildView(id) {
    const v = this._computeView(id, this._opsOf(id));
    if (v) this._view.set(id, v);
    else this._view.delete(id);
  }

  _rebuildAllViews() {
    this._view.clear();
    const byId = this._byId;
    for (const [id, rec] of this._base) if (!rec.deleted && !byId.has(id)) this._view.set(id, rec);
    for (const [id, ops] of byId) {
      const v = this._computeView(id, ops);
      if (v) this._view.set(id, v);
    }
  }

  /** The local copy of a record (server state with own queued edits applied), or undefined. */
  get(id) {
    const rec = this._view.get(this._resolveId(id));
    return rec ? copy(rec) : undefined;
  }

  /** Every local record (not deleted), oldest first by creation time. */
  list() {
    const out = [...this._view.values()].map(copy);
    out.sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0));
    return out;
  }

  // ---------------------------------------------------------------- local writes

  async _queue(kind, id, body, causal) {
    const op = {
      seq: ++this._meta.seq,
      kind,
      id,
      body,
      causal,
      key: crypto.randomUUID(),
      queuedAt: this._now(),
    };
    // The view and the in-memory queue change at once (so later calls see
    // them); the call resolves when the op is durable.
    this._ops.push(op);
    if (!this._byId.has(id)) this._byId.set(id, []);
    this._byId.get(id).push(op);
    this._rebuildView(id);
    await this._write([[opKey(op.seq), op], this._metaWrite()]);
    this._emit("queued", copy(op));
    this._emitStatus();
    return op;
  }

  async create(fields) {
    this._checkOpen();
    if (!fields || typeof fields !== "object") throw new TypeError("create(fields): fields must be an object");
    const body = {};
    for (const [k, v] of Object.entries(fields)) {
      if (!CREATE_FIELDS.has(k)) throw new TypeError(`create: unknown member ${k}`);
      if (v !== undefined) body[k] = copy(v);
    }
    if (typeof body.title !== "string" || typeof body.type !== "string")
      throw new TypeError("create: title and type are required strings");
    const id = "lid_" + crypto.randomUUID();
    await this._queue("create", id, body, null);
    return this.get(id);
  }

  _causalFor(id) {
    if (this._byId.has(id)) return null; // the previous op's answer
    const b = this._base.get(id);
    return b ? b.causal : null;
  }

  async patch(id, fields) {
    this._checkOpen();
    if (!fields || typeof fields !== "object") throw new TypeError("patch(id, fields): fields must be an object");
    const rid = this._resolveId(id);
    if (!this._view.has(rid)) throw new RelaySyncError(404, { code: "not_found", detail: `no local record ${id}` });
    const body = {};
    for (const [k, v] of Object.entries(fields)) {
      if (!PATCH_FIELDS.has(k)) throw new TypeError(`patch: unknown member ${k}`);
      if (v !== undefined) body[k] = copy(v);
    }
    if (!Object.keys(body).length) throw new TypeError("patch: nothing to change");
    await this._queue("patch", rid, body, this._causalFor(rid));
    return this.get(rid);
  }

  async delete(id) {
    this._checkOpen();
    const rid = this._resolveId(id);
    if (!this._view.has(rid)) throw new RelaySyncError(404, { code: "not_found", detail: `no local record ${id}` });
    await this._queue("delete", rid, null, this._causalFor(rid));
  }

  // ---------------------------------------------------------------- HTTP

  _sleep(ms) {
    if (this._sleepImpl) return this._sleepImpl(ms);
    const signal = this._ctl.signal;
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done, { once: true });
    });
  }

  _delay(attempt, retryAfterMs) {
    const cap = Math.min(this.backoff.maxMs, this.backoff.baseMs * 2 ** attempt);
    const jittered = this._random() * cap; // full jitter
    return retryAfterMs != null ? Math.max(retryAfterMs, jittered) : jittered;
  }

  async _auth(force = false) {
    const t = this._token;
    if (!force && t) {
      const left = t.expiresAt - this._now();
      const margin = Math.min(Math.max(t.life * 0.1, 60000), t.life * 0.5);
      if (left > margin) return t.access;
    }
    if (!this._tokenP) {
      this._tokenP = (async () => {
        if (!this._apiKey) throw new RelaySyncError(401, { code: "no_api_key", detail: "no API key" });
        const res = await this._raw("POST", "/v1/auth/token", { api_key: this._apiKey }, {}, null);
        if (res.status !== 200) throw this._errorFrom(res);
        const life = (res.body.expires_in || 900) * 1000;
        this._token = { access: res.body.access_token, expiresAt: this._now() + life, life };
        const b = res.body;
        this.session = { role: b.role, org_id: b.org_id, user_id: b.user_id, expires_at: b.expires_at };
        if (this._tokenStorage) {
          try {
            this._tokenStorage.setItem(this._tokenStorageKey, JSON.stringify({ ...this._token, session: this.session }));
          } catch {}
        }
        if (this.persistKey) {
          this._meta.token = this._token;
          this._meta.apiKey = this._apiKey;
          await this._write([this._metaWrite()]);
        }
        return this._token.access;
      })().finally(() => {
        this._tokenP = null;
      });
    }
    return this._tokenP;
  }

  async _raw(method, path, body, headers, auth, signal) {
    const h = { Accept: "application/json", ...headers };
    if (auth) h.Authorization = `Bearer ${auth}`;
    let payload;
    if (body !== undefined && body !== null) {
      h["Content-Type"] = "application/json";
      payload = typeof body === "string" ? body : JSON.stringify(body);
    }
    let res;
    try {
      res = await this._fetch(this.url + path, { method, headers: h, body: payload, signal: signal || this._ctl.signal });
    } catch (e) {
      const err = new RelaySyncError(0, { code: "network_error", detail: String(e && e.message ? e.message : e) });
      err.cause = e;
      throw err;
    }
    let data = null;
    const text = await res.text().catch(() => "");
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = { detail: text.slice(0, 500) };
      }
    }
    return { status: res.status, headers: res.headers, body: data };
  }

  /** An authenticated request; renews the token once on a 401. Throws only on network errors. */
  async _request(method, path, body, headers = {}, signal) {
    let token = await this._auth();
    let res = await this._raw(method, path, body, headers, token, signal);
    if (res.status === 401) {
      token = await this._auth(true);
      res = await this._raw(method, path, body, headers, token, signal);
    }
    return res;
  }

  // ---------------------------------------------------------------- plain API calls

  /**
   * One authenticated API call: `path` is "/v1/..."; `query` an object of
   * parameters (undefined, null and "" left out); `body` sent as JSON.
   * Resolves the parsed JSON answer (null for an empty one, e.g. 204);
   * rejects with a RelaySyncError carrying the problem (`status`, `code`,
   * `detail`, `errors`) for any non-2xx answer, and status 0 for a network
   * error. A 401 renews the token once. No retries otherwise.
   */
  async request(method, path, { body, headers = {}, query, signal } = {}) {
    if (this._closed) throw new Error("RelaySync: closed");
    const res = await this._request(method, withQuery(path, query), body, headers, signal);
    if (res.status >= 200 && res.status < 300) return res.body;
    throw this._errorFrom(res);
  }

  /**
   * Pages through a cursor list (`data`, `has_more`, `next_cursor`).
   * `next()` resolves the next page (null when done); `done` says whether
   * the last page was read; `for await (const item of pager)` walks every
   * item; `all(max)` collects up to `max` items.
   */
  pager(path, { query = {}, limit } = {}) {
    const self = this;
    let cursor = null;
    let done = false;
    const p = {
      get done() {
        return done;
      },
      get cursor() {
        return cursor;
      },
      async next() {
        if (done) return null;
        const q = { ...query };
        if (limit) q.limit = limit;
        if (cursor) q.cursor = cursor;
        const page = await self.request("GET", path, { query: q });
        cursor = page && page.next_cursor ? page.next_cursor : null;
        done = !(page && page.has_more && cursor);
        return page;
      },
      async *[Symbol.asyncIterator]() {
        while (!done) {
          const page = await p.next();
          for (const item of (page && page.data) || []) yield item;
        }
      },
      async all(max = Infinity) {
        const out = [];
        for await (const item of p) {
          out.push(item);
          if (out.length >= max) break;
        }
        return out;
      },
    };
    return p;
  }

  _errorFrom(res) {
    const err = new RelaySyncError(res.status, res.body);
    err.retryAfterMs = parseRetryAfter(header(res.headers, "Retry-After"), this._now());
    return err;
  }

  _setError(err) {
    this._lastError = { status: err.status, code: err.code, detail: err.detail };
  }

  // Retry fn while it throws a retryable RelaySyncError; throws the last one.
  async _retrying(fn, state) {
    for (;;) {
      try {
        return await fn();
      } catch (e) {
        if (!(e instanceof RelaySyncError) || !retryable(e.status, e.problem) || this._closed) throw e;
        if (state.attempt >= this.backoff.attempts) throw e;
        await this._sleep(this._delay(state.attempt++, e.retryAfterMs));
        if (this._closed) throw e;
      }
    }
  }

  // ---------------------------------------------------------------- sync

  /** Push the outbox, then pull. Resolves {pushed, pulled, conflicts, errors}. */
  sync() {
    try {
      this._checkOpen();
    } catch (e) {
      return Promise.reject(e);
    }
    if (this._syncP) {
      // One more run after the current one (several calls share it).
      if (!this._syncAgain) this._syncAgain = this._syncP.catch(() => {}).then(() => {
        this._syncAgain = null;
        return this._startSync();
      });
      return this._syncAgain;
    }
    return this._startSync();
  }

  _startSync() {
    if (this._closed) return Promise.resolve({ pushed: 0, pulled: 0, conflicts: [], errors: [] });
    if (this._syncP) return this._syncP;
    this._syncP = this._runSync().finally(() => {
      this._syncP = null;
      this._syncing = false;
      this._emitStatus();
    });
    return this._syncP;
  }

  async _runSync() {
    this._syncing = true;
    this._emitStatus();
    const result = { pushed: 0, pulled: 0, conflicts: [], errors: [] };
    let failed = null;
    try {
      await this._push(result);
      await this._pull(result);
    } catch (e) {
      if (!(e instanceof RelaySyncError)) throw e;
      failed = e;
    }
    if (failed) {
      this._setError(failed);
      const ev = { status: failed.status, problem: failed.problem || { code: failed.code, detail: failed.detail } };
      result.errors.push(ev);
      this._emit("error", ev);
    } else if (result.errors.length) {
      const last = result.errors[result.errors.length - 1];
      this._lastError = { status: last.status, code: last.problem?.code ?? null, detail: last.problem?.detail ?? null };
      this._lastSync = this._now();
    } else {
      this._lastError = null;
      this._lastSync = this._now();
    }
    return result;
  }

  // Chunks: at most batchSize items and ~900 KiB; ends before an op whose
  // record already has an op in the chunk (its lid or base causal comes from it).
  _nextChunk() {
    const chunk = [];
    const ids = new Set();
    let bytes = 0;
    for (const op of this._ops) {
      if (chunk.length >= this.batchSize) break;
      if (ids.has(op.id)) break;
      const size = JSON.stringify(op.body ?? null).length + 200;
      if (chunk.length && bytes + size > MAX_BATCH_BYTES) break;
      chunk.push(op);
      ids.add(op.id);
      bytes += size;
    }
    return chunk;
  }

  _item(op) {
    const headers = { "Idempotency-Key": op.key };
    if (op.kind === "create") return { method: "POST", path: "/v1/records", headers, body: op.body };
    const path = `/v1/records/${encodeURIComponent(op.id)}`;
    if (op.kind === "patch") {
      if (this.merge) headers.Prefer = "merge=fields";
      const body = { ...op.body };
      if (op.causal) body.causal = op.causal;
      return { method: "PATCH", path, headers, body };
    }
    if (op.causal) headers["If-Match"] = `"${op.causal}"`;
    return { method: "DELETE", path, headers };
  }

  async _push(result) {
    const state = { attempt: 0 };
    let single = false; // after a whole-batch 4xx: one op per batch to find the bad one
    while (this._ops.length && !this._closed) {
      let chunk = this._nextChunk();
      if (single) chunk = chunk.slice(0, 1);
      // An op whose record id is still a lid whose create is not queued any more cannot be sent.
      const orphan = chunk.find((op) => op.kind !== "create" && isLid(op.id));
      if (orphan && orphan === chunk[0]) {
        await this._dropOrphans(result);
        continue;
      }
      if (orphan) chunk = chunk.slice(0, chunk.indexOf(orphan));
      // Freeze the causal token of any op that still has none (it must be
      // re-sent byte for byte on a retry).
      const freeze = [];
      for (const op of chunk) {
        if (op.kind !== "create" && !op.causal) {
          const b = this._base.get(op.id);
          if (b && b.causal) {
            op.causal = b.causal;
            freeze.push([opKey(op.seq), op]);
          }
        }
      }
      await this._write(freeze);

      const envelope = { requests: chunk.map((op) => this._item(op)) };
      let res;
      try {
        res = await this._request("POST", "/v1/batch", envelope);
      } catch (e) {
        if (!(e instanceof RelaySyncError)) throw e;
        await this._backoffOrThrow(e, state); // network error or auth failure
        continue;
      }
      if (res.status !== 200 || !res.body || !Array.isArray(res.body.responses)) {
        const err = this._errorFrom(res);
        if (retryable(res.status, res.body) || res.status === 401 || res.status === 200) {
          await this._backoffOrThrow(err, state);
          continue;
        }
        // The batch as a whole was refused (400/413/415/422): isolate the bad op.
        if (chunk.length > 1) {
          single = true;
          continue;
        }
        await this._applyAnswers(chunk, [{ status: res.status, headers: {}, body: res.body }], result);
        single = false;
        state.attempt = 0;
        continue;
      }
      // (In single mode, keep going one op at a time until the refused op is found.)
      const retry = await this._applyAnswers(chunk, res.body.responses, result);
      if (retry) {
        if (retry.progress) state.attempt = 0;
        await this._backoffOrThrow(retry.err, state);
      } else {
        state.attempt = 0;
      }
    }
  }

  async _backoffOrThrow(err, state) {
    if (!retryable(err.status, err.problem) || this._closed || state.attempt >= this.backoff.attempts) throw err;
    this._setError(err);
    this._emitStatus();
    await this._sleep(this._delay(state.attempt++, err.retryAfterMs));
    if (this._closed) throw err;
  }

  async _dropOrphans(result) {
    const writes = [];
    const dropped = [];
    for (const op of this._ops) {
      if (op.kind !== "create" && isLid(op.id) && !this._opsOf(op.id).some((o) => o.kind === "create")) {
        writes.push([opKey(op.seq), undefined]);
        dropped.push(op);
      }
    }
    this._removeOps(new Set(dropped));
    await this._write(writes);
    for (const op of dropped) {
      this._rebuildView(op.id);
      const ev = {
        op: copy(op),
        status: 424,
        problem: { code: "dependency_failed", detail: `the create of ${op.id} was not applied`, status: 424 },
      };
      result.errors.push(ev);
      this._emit("error", ev);
    }
    this._emitStatus();
  }

  // Apply one batch's answers. Returns null, or {err, progress} when some op must be retried.
  async _applyAnswers(chunk, answers, result) {
    const writes = [];
    const events = [];
    const dropped = new Set();
    const touched = new Set();
    let retry = null;
    let progress = false;

    const nextOpOf = (id, after) => this._opsOf(id).find((o) => o.seq > after && !dropped.has(o));

    for (let i = 0; i < chunk.length; i++) {
      const op = chunk[i];
      const asQueued = copy(op);
      const ans = answers[i];
      if (!ans) {
        retry = retry || { err: new RelaySyncError(502, { code: "bad_gateway", detail: "missing batch answer" }) };
        continue;
      }
      const status = ans.status;
      const body = ans.body;
      if (status >= 200 && status < 300) {
        progress = true;
        const rec = body;
        let id = op.id;
        if (op.kind === "create" && rec && rec.id) {
          const lid = op.id;
          id = rec.id;
          this._lids.set(lid, id);
          writes.push([`lid/${lid}`, id]);
          const moved = this._opsOf(lid);
          for (const o of moved) {
            o.id = id;
            if (o !== op) writes.push([opKey(o.seq), o]);
          }
          this._byId.delete(lid);
          if (moved.length) this._byId.set(id, [...(this._byId.get(id) || []), ...moved]);
          this._view.delete(lid);
        }
        if (rec && rec.id) {
          const clean = { ...rec };
          delete clean.merged_from;
          if (clean.deleted) {
            this._base.delete(id);
            writes.push([`rec/${id}`, undefined]);
          } else {
            this._base.set(id, clean);
            writes.push([`rec/${id}`, clean]);
          }
          const next = nextOpOf(id, op.seq);
          if (next && next.kind !== "create" && !next.causal && rec.causal) {
            next.causal = rec.causal;
            writes.push([opKey(next.seq), next]);
          }
        }
        dropped.add(op);
        writes.push([opKey(op.seq), undefined]);
        touched.add(id);
        result.pushed++;
        events.push(["pushed", { op: asQueued, status, record: copy(rec) }]);
        continue;
      }
      if ((status === 409 || status === 412) && body && body.conflict_id) {
        progress = true;
        if (body.current && body.current.id) {
          this._base.set(body.current.id, body.current);
          writes.push([`rec/${body.current.id}`, body.current]);
        }
        // Later ops of this record were based on this one's view: they keep its (stale) base.
        const next = nextOpOf(op.id, op.seq);
        if (next && next.kind !== "create" && !next.causal && op.causal) {
          next.causal = op.causal;
          writes.push([opKey(next.seq), next]);
        }
        let conflict = null;
        try {
          const r = await this._request("GET", `/v1/conflicts/${encodeURIComponent(body.conflict_id)}`);
          if (r.status === 200) conflict = r.body;
        } catch {
          /* fall back below */
        }
        if (!conflict) {
          conflict = {
            id: body.conflict_id,
            record_id: op.id,
            base_causal: op.causal,
            attempted: op.kind === "delete" ? { deleted: true } : op.body,
            current: body.current,
            status: "open",
          };
        }
        dropped.add(op);
        writes.push([opKey(op.seq), undefined]);
        touched.add(op.id);
        result.conflicts.push(conflict);
        events.push(["conflict", { conflict, op: asQueued, problem: body }]);
        continue;
      }
      if (retryable(status, body)) {
        const err = new RelaySyncError(status, body);
        err.retryAfterMs = parseRetryAfter(header(ans.headers, "Retry-After"), this._now());
        if (!retry || (err.retryAfterMs ?? 0) > (retry.err.retryAfterMs ?? 0)) retry = { err };
        continue;
      }
      // Any other 4xx: a poison op; report and drop it so it cannot block the queue.
      progress = true;
      if (status === 410 && body && body.record && body.record.id) {
        this._base.delete(body.record.id);
        writes.push([`rec/${body.record.id}`, undefined]);
      }
      const next = nextOpOf(op.id, op.seq);
      if (next && next.kind !== "create" && !next.causal && op.causal) {
        next.causal = op.causal;
        writes.push([opKey(next.seq), next]);
      }
      dropped.add(op);
      writes.push([opKey(op.seq), undefined]);
      touched.add(op.id);
      const ev = { op: asQueued, status, problem: body };
      result.errors.push(ev);
      events.push(["error", ev]);
    }

    this._removeOps(dropped);
    await this._write(writes);
    for (const id of touched) this._rebuildView(id);
    for (const [type, payload] of events) this._emit(type, payload);
    if (dropped.size) this._emitStatus();
    if (retry) {
      retry.progress = progress;
      return retry;
    }
    return null;
  }

  // One page of GET /v1/records, a delta when since is set. A delta's 410
  // (sync_token_expired), or a since the server does not know, is handed
  // back for a full resync; any other refusal is thrown.
  async _page(since, cursor, state) {
    const q = new URLSearchParams();
    if (since) q.set("since", since);
    q.set("limit", String(PULL_LIMIT));
    if (cursor) q.set("cursor", cursor);
    const path = `/v1/records?${q}`;
    return this._retrying(async () => {
      const r = await this._request("GET", path);
      if (r.status === 200) return r;
      const code = r.body && r.body.code;
      if (since && (r.status === 410 || (r.status === 400 && code === "invalid_cursor" && !cursor))) return r;
      throw this._errorFrom(r);
    }, state);
  }

  async _pull(result) {
    const state = { attempt: 0 };
    const since = this._meta.syncToken || null;
    if (!since) return this._pullFull(result, state);
    let cursor = null;
    for (;;) {
      const res = await this._page(since, cursor, state);
      if (res.status !== 200) {
        // 410 sync_token_expired (or a token the server does not know): full resync.
        this._meta.syncToken = null;
        await this._write([this._metaWrite()]);
        return this._pullFull(result, state);
      }
      await this._applyPage(res.body, { full: false, seen: null, last: !res.body.has_more }, result);
      if (!res.body.has_more) return;
      cursor = res.body.next_cursor;
    }
  }

  async _pullFull(result, state) {
    const seen = new Set();
    let cursor = null;
    for (;;) {
      const res = await this._page(null, cursor, state);
      await this._applyPage(res.body, { full: true, seen, last: !res.body.has_more }, result);
      if (!res.body.has_more) return;
      cursor = res.body.next_cursor;
    }
  }

  // Apply one page; its sync_token is stored with it (a full listing's only with its last page).
  async _applyPage(page, { full, seen, last }, result) {
    const writes = [];
    const touched = [];
    for (const rec of page.data || []) {
      if (seen) seen.add(rec.id);
      if (rec.deleted) {
        if (this._base.has(rec.id)) writes.push([`rec/${rec.id}`, undefined]);
        this._base.delete(rec.id);
      } else {
        this._base.set(rec.id, rec);
        writes.push([`rec/${rec.id}`, rec]);
      }
      touched.push(rec.id);
    }
    if (full && last && seen) {
      // A full listing: server copies not in it are gone (deleted, or past the horizon).
      for (const id of [...this._base.keys()]) {
        if (!seen.has(id)) {
          this._base.delete(id);
          writes.push([`rec/${id}`, undefined]);
          touched.push(id);
        }
      }
    }
    if (!full || last) {
      this._meta.syncToken = page.sync_token;
      writes.push(this._metaWrite());
    }
    await this._write(writes);
    for (const id of touched) {
      if (this._byId.has(id)) this._rebuildView(id);
      else {
        const b = this._base.get(id);
        if (b && !b.deleted) this._view.set(id, b);
        else this._view.delete(id);
      }
    }
    result.pulled += (page.data || []).length;
    this._emit("pulled", { count: (page.data || []).length, syncToken: this._meta.syncToken });
  }

  // ---------------------------------------------------------------- conflicts

  /** POST /v1/conflicts/{id}/resolve with {take} or {record}; applies the answer's record locally. */
  async resolve(conflictId, how) {
    this._checkOpen();
    if (!how || (how.take === undefined) === (how.record === undefined))
      throw new TypeError('resolve: pass {take: "current" | "attempted"} or {record: {...}}');
    const body = how.take !== undefined ? { take: how.take } : { record: how.record };
    const key = crypto.randomUUID();
    const state = { attempt: 0 };
    const res = await this._retrying(async () => {
      const r = await this._request("POST", `/v1/conflicts/${encodeURIComponent(conflictId)}/resolve`, body, {
        "Idempotency-Key": key,
      });
      if (r.status === 200) return r;
      throw this._errorFrom(r);
    }, state);
    const rec = res.body.record;
    if (rec && rec.id) {
      if (rec.deleted) {
        this._base.delete(rec.id);
        await this._write([[`rec/${rec.id}`, undefined]]);
      } else {
        this._base.set(rec.id, rec);
        await this._write([[`rec/${rec.id}`, rec]]);
      }
      this._rebuildView(rec.id);
    }
    return res.body;
  }

  // ---------------------------------------------------------------- live

  /** Follow /v1/events/stream; a debounced sync() on each event. Returns {stop()}. */
  follow(opts = {}) {
    this._checkOpen();
    let timer = null;
    const debounced = () => {
      if (timer) return;
      timer = setTimeout(() => {
        timer = null;
        if (!handle.stopped && !this._closed) this.sync().catch(() => {});
      }, this.debounceMs);
    };
    let first = true;
    const handle = this._stream("/v1/events/stream", {
      lastEventId: opts.lastEventId,
      onOpen: () => {
        if (first) {
          first = false;
          debounced(); // catch up on what happened before the stream opened
        }
      },
      onEvent: (ev) => {
        if (opts.onEvent) {
          try {
            opts.onEvent(ev);
          } catch {}
        }
        debounced();
      },
      onError: (ev) => this._emit("error", ev),
      onStop: () => {
        if (timer) clearTimeout(timer);
      },
    });
    return handle;
  }

  /**
   * Read a Server-Sent Events stream of the API (e.g. "/v1/audit/stream")
   * over fetch, with the bearer header, until stop() or close(). When the
   * server ends it, it reconnects after the stream's `retry` with
   * `Last-Event-ID` (so nothing is missed); errors (429, 503, network) back
   * off, a 401 renews the token. Options: `lastEventId` (resume after it),
   * `query`, `onEvent({id, event, data})`, `onOpen()` (each connection),
   * `onError({status, problem})`. Returns {stop(), lastEventId, connected, done}.
   */
  stream(path, opts = {}) {
    if (this._closed) throw new Error("RelaySync: closed");
    return this._stream(withQuery(path, opts.query), opts);
  }

  _stream(path, opts) {
    const ctl = new AbortController();
    const onClose = () => ctl.abort();
    this._ctl.signal.addEventListener("abort", onClose, { once: true });
    const self = this;
    const handle = {
      lastEventId: opts.lastEventId ?? null,
      connected: false,
      stopped: false,
      stop() {
        handle.stopped = true;
        handle.connected = false;
        ctl.abort();
        if (opts.onStop) opts.onStop();
        self._follows.delete(handle);
        self._ctl.signal.removeEventListener("abort", onClose);
      },
      done: null,
    };
    this._follows.add(handle);
    const call = (fn, arg) => {
      if (!fn) return;
      try {
        fn(arg);
      } catch (e) {
        if (typeof console !== "undefined") console.error("RelaySync stream callback threw:", e);
      }
    };
    const sleep = (ms) =>
      new Promise((resolve) => {
        if (ctl.signal.aborted) return resolve();
        const t = setTimeout(fin, ms);
        function fin() {
          clearTimeout(t);
          ctl.signal.removeEventListener("abort", fin);
          resolve();
        }
        ctl.signal.addEventListener("abort", fin, { once: true });
      });
    handle.done = (async () => {
      let retryMs = 1000;
      let attempt = 0;
      while (!ctl.signal.aborted) {
        let res;
        try {
          const token = await this._auth();
          const headers = { Accept: "text/event-stream", Authorization: `Bearer ${token}` };
          if (handle.lastEventId) headers["Last-Event-ID"] = handle.lastEventId;
          res = await this._fetch(this.url + path, { method: "GET", headers, signal: ctl.signal });
        } catch (e) {
          if (ctl.signal.aborted) break;
          const err = e instanceof RelaySyncError ? e : new RelaySyncError(0, { code: "network_error", detail: String(e?.message || e) });
          call(opts.onError, { status: err.status, problem: err.problem || { code: err.code, detail: err.detail } });
          await sleep(this._delay(attempt++, err.retryAfterMs));
          continue;
        }
        if (res.status === 401) {
          await res.text().catch(() => {});
          try {
            await this._auth(true);
          } catch (e) {
            if (e instanceof RelaySyncError) call(opts.onError, { status: e.status, problem: e.problem || { code: e.code, detail: e.detail } });
          }
          await sleep(this._delay(attempt++, null));
          continue;
        }
        if (res.status !== 200 || !res.body) {
          let body = null;
          try {
            body = JSON.parse(await res.text());
          } catch {}
          const err = new RelaySyncError(res.status, body);
          err.retryAfterMs = parseRetryAfter(header(res.headers, "Retry-After"), this._now());
          call(opts.onError, { status: res.status, problem: body });
          await sleep(this._delay(attempt++, err.retryAfterMs));
          continue;
        }
        attempt = 0;
        handle.connected = true;
        call(opts.onOpen);
        const parser = new SSEParser(
          (ev) => {
            handle.lastEventId = ev.id || handle.lastEventId;
            call(opts.onEvent, ev);
          },
          { lastEventId: handle.lastEventId || "" },
        );
        const decoder = new TextDecoder();
        try {
          const reader = res.body.getReader();
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            parser.push(decoder.decode(value, { stream: true }));
            if (parser.lastEventId) handle.lastEventId = parser.lastEventId;
          }
          parser.push(decoder.decode());
        } catch (e) {
          if (ctl.signal.aborted) break;
        }
        handle.connected = false;
        parser.end();
        if (parser.lastEventId) handle.lastEventId = parser.lastEventId;
        if (parser.retry != null) retryMs = parser.retry;
        if (ctl.signal.aborted) break;
        await sleep(retryMs);
      }
      handle.connected = false;
    })();
    return handle;
  }
}

// path + "?" + the query's set members (undefined, null and "" left out).
function withQuery(path, query) {
  if (!query) return path;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === "") continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return s ? path + (path.includes("?") ? "&" : "?") + s : path;
}

function retryable(status, body) {
  if (status === 0 || status === 408 || status === 425 || status === 429 || status >= 500) return true;
  // 409 without a conflict: idempotency_in_progress (another request holds the key).
  if (status === 409 && body && body.code === "idempotency_in_progress") return true;
  return false;
}

export default RelaySync;
