// RelaySync client storage adapters.
//
// One small async interface:
//   get(key) -> value | undefined      (values are JSON-serialisable)
//   set(key, value)
//   delete(key)
//   entries(prefix) -> [[key, value], ...] sorted by key
// and two optional members the client uses when present:
//   batch([[key, value | undefined], ...])  several sets/deletes as one
//                                           atomic write (undefined = delete)
//   close()
//
// This module imports nothing at load time: FileStorage loads node:fs/promises
// and node:path lazily on first use, so a browser can import this module (and
// relaysync.mjs, which re-exports it) without ever touching a node: import.

const clone = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));

function sortedEntries(map, prefix) {
  const out = [];
  for (const [k, v] of map) if (k.startsWith(prefix)) out.push([k, v]);
  out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return out;
}

/** In-memory storage: nothing survives the process. Values are copied in and out. */
export class MemoryStorage {
  constructor() {
    this.map = new Map();
  }
  async get(key) {
    return clone(this.map.get(key));
  }
  async set(key, value) {
    this.map.set(key, clone(value));
  }
  async delete(key) {
    this.map.delete(key);
  }
  async batch(writes) {
    for (const [k, v] of writes) {
      if (v === undefined) this.map.delete(k);
      else this.map.set(k, clone(v));
    }
  }
  async entries(prefix = "") {
    return sortedEntries(this.map, prefix).map(([k, v]) => [k, clone(v)]);
  }
  async close() {}
}

/**
 * Node only: every key in one JSON file, rewritten atomically on every
 * set/delete/batch (write a temp file, fsync it, rename it over the file,
 * fsync the directory). Writes that arrive while one is in progress are
 * grouped into the next write, and each call resolves only once a write that
 * includes it is durable.
 */
export class FileStorage {
  constructor(path) {
    if (typeof path !== "string" || !path) throw new TypeError("FileStorage needs a file path");
    this.path = path;
    this.map = null;
    this._loading = null;
    this._writing = null; // promise of the write in progress
    this._pending = null; // {promise, resolve, reject} of the next write
    this._tmpSeq = 0;
  }

  async _mods() {
    if (!this._fs) {
      this._fs = await import("node:fs/promises");
      this._pathmod = await import("node:path");
    }
    return { fs: this._fs, path: this._pathmod };
  }

  async _load() {
    if (this.map) return;
    if (!this._loading) {
      this._loading = (async () => {
        const { fs } = await this._mods();
        let text = null;
        try {
          text = await fs.readFile(this.path, "utf8");
        } catch (e) {
          if (e.code !== "ENOENT") throw e;
        }
        const obj = text ? JSON.parse(text) : {};
        this.map = new Map(Object.entries(obj));
      })();
    }
    await this._loading;
  }

  async _writeNow() {
    const { fs, path } = await this._mods();
    const obj = {};
    for (const [k, v] of this.map) obj[k] = v;
    const text = JSON.stringify(obj);
    const dir = path.dirname(this.path);
    const tmp = `${this.path}.tmp-${process.pid}-${++this._tmpSeq}`;
    const fh = await fs.open(tmp, "w", 0o600);
    try {
      await fh.writeFile(text, "utf8");
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await fs.rename(tmp, this.path);
    } catch (e) {
      await fs.unlink(tmp).catch(() => {});
      throw e;
    }
    try {
      const dh = await fs.open(dir, "r");
      try {
        await dh.sync();
      } finally {
        await dh.close();
      }
    } catch (e) {
      // Some platforms cannot fsync a directory (EISDIR/EPERM on Windows); the rename stands.
      if (!["EISDIR", "EPERM", "EINVAL", "EBADF"].includes(e.code)) throw e;
    }
  }

  // Schedule a write that includes every change made so far.
  _flush() {
    if (this._pending) return this._pending.promise;
    let resolve, reject;
    const promise = new Promise((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this._pending = { promise, resolve, reject };
    const start = async () => {
      if (this._writing) await this._writing.catch(() => {});
      const mine = this._pending;
      this._pending = null;
      this._writing = this._writeNow();
      try {
        await this._writing;
        mine.resolve();
      } catch (e) {
        mine.reject(e);
      } finally {
        this._writing = null;
      }
    };
    start();
    return promise;
  }

  async get(key) {
    await this._load();
    return clone(this.map.get(key));
  }
  async set(key, value) {
    await this._load();
    this.map.set(key, clone(value));
    return this._flush();
  }
  async delete(key) {
    await this._load();
    if (!this.map.has(key)) return;
    this.map.delete(key);
    return this._flush();
  }
  async batch(writes) {
    await this._load();
    for (const [k, v] of writes) {
      if (v === undefined) this.map.delete(k);
      else this.map.set(k, clone(v));
    }
    return this._flush();
  }
  async entries(prefix = "") {
    await this._load();
    return sortedEntries(this.map, prefix).map(([k, v]) => [k, clone(v)]);
  }
  async close() {
    if (this._pending) await this._pending.promise.catch(() => {});
    if (this._writing) await this._writing.catch(() => {});
  }
}

/**
 * Browser only: one IndexedDB database `name` with one object store
 * (`kv`, out-of-line string keys). Each set/delete/batch is one readwrite
 * transaction and resolves when it completes (durability "strict" where the
 * browser supports it).
 */
export class IndexedDBStorage {
  constructor(name = "relaysync", { indexedDB, IDBKeyRange } = {}) {
    this.name = name;
    this.store = "kv";
    this._idb = indexedDB || globalThis.indexedDB;
    this._range = IDBKeyRange || globalThis.IDBKeyRange;
    this._db = null;
  }

  _open() {
    if (this._db) return this._db;
    if (!this._idb) throw new Error("IndexedDBStorage: indexedDB is not available here");
    this._db = new Promise((resolve, reject) => {
      const req = this._idb.open(this.name, 1);
      req.onupgradeneeded = () => {
        const db = req.result;
        if (!db.objectStoreNames.contains(this.store)) db.createObjectStore(this.store);
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
      req.onblocked = () => reject(new Error("IndexedDBStorage: open blocked by another connection"));
    });
    return this._db;
  }

  async _tx(mode, fn) {
    const db = await this._open();
    return new Promise((resolve, reject) => {
      let tx;
      try {
        tx = mode === "readwrite"
          ? db.transaction(this.store, mode, { durability: "strict" })
          : db.transaction(this.store, mode);
      } catch (e) {
        tx = db.transaction(this.store, mode);
      }
      const os = tx.objectStore(this.store);
      let result;
      try {
        result = fn(os);
      } catch (e) {
        try { tx.abort(); } catch {}
        reject(e);
        return;
      }
      tx.oncomplete = () => resolve(typeof result === "function" ? result() : result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error || new Error("IndexedDB transaction aborted"));
    });
  }

  async get(key) {
    return this._tx("readonly", (os) => {
      const req = os.get(key);
      return () => req.result;
    });
  }
  async set(key, value) {
    return this._tx("readwrite", (os) => {
      os.put(clone(value), key);
    });
  }
  async delete(key) {
    return this._tx("readwrite", (os) => {
      os.delete(key);
    });
  }
  async batch(writes) {
    return this._tx("readwrite", (os) => {
      for (const [k, v] of writes) {
        if (v === undefined) os.delete(k);
        else os.put(clone(v), k);
      }
    });
  }
  async entries(prefix = "") {
    return this._tx("readonly", (os) => {
      // Every key starting with prefix: [prefix, prefix + U+FFFF).
      const range = prefix ? this._range.bound(prefix, prefix + "\uffff", false, true) : undefined;
      const kreq = os.getAllKeys(range);
      const vreq = os.getAll(range);
      return () => kreq.result.map((k, i) => [k, vreq.result[i]]);
    });
  }
  async close() {
    if (this._db) {
      const db = await this._db.catch(() => null);
      if (db) db.close();
      this._db = null;
    }
  }
}
