// Types for the RelaySync JavaScript client (src/relaysync.mjs).

export type RecordStatus = string;

/** A record as the server shows it (schema `Record`). Local records not yet pushed have a `lid_` id, `causal: null`, `version: 0`. */
export interface RSRecord {
  id: string;
  title: string;
  type: string;
  site: string | null;
  status: RecordStatus;
  data: Record<string, unknown>;
  size?: number;
  causal: string | null;
  version: number;
  deleted: boolean;
  deleted_at: string | null;
  created_at: string;
  updated_at: string;
  created_by?: string;
  queue?: string;
}

export interface RecordCreate {
  title: string;
  type: string;
  site?: string | null;
  status?: RecordStatus;
  data?: Record<string, unknown>;
}

/** `data` is a JSON Merge Patch (RFC 7396): null removes a member. */
export interface RecordPatch {
  title?: string;
  type?: string;
  site?: string | null;
  status?: RecordStatus;
  data?: Record<string, unknown>;
}

/** RFC 9457 problem details as the server answers them. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  code: string;
  detail?: string;
  instance?: string;
  request_id?: string;
  errors?: { field: string; message: string }[];
  [extra: string]: unknown;
}

/** A conflict resource (`GET /v1/conflicts/{id}`). */
export interface Conflict {
  id: string;
  record_id: string;
  base_causal: string | null;
  attempted: Record<string, unknown>;
  current: RSRecord;
  status: "open" | "resolved" | "superseded";
  created_by?: string;
  created_at?: string;
  resolved_at?: string | null;
  resolved_by?: string | null;
  resolution?: "current" | "attempted" | "record" | "superseded" | null;
}

/** One queued operation of the outbox (stored as `op/<12-digit seq>`). */
export interface OutboxOp {
  seq: number;
  kind: "create" | "patch" | "delete";
  /** Server id, or the `lid_` of a create not yet pushed. */
  id: string;
  body: RecordCreate | RecordPatch | null;
  /** Base causal token known when queued; null = the causal the previous op of this record returns. */
  causal: string | null;
  /** Idempotency-Key, made when queued and re-sent unchanged on every retry. */
  key: string;
  queuedAt: number;
}

export interface Status {
  queued: number;
  syncing: boolean;
  /** ms since the epoch of the last completed sync(), or null. */
  lastSync: number | null;
  lastError: { status: number; code: string | null; detail: string | null } | null;
}

export interface ErrorEvent {
  op?: OutboxOp;
  /** HTTP status, 0 for a network failure, 424 for an op whose create was refused. */
  status: number;
  problem: Problem | null;
}

export interface PushedEvent {
  op: OutboxOp;
  status: number;
  record: RSRecord;
}

export interface ConflictEvent {
  conflict: Conflict;
  op: OutboxOp;
  /** The 409/412 causal_conflict problem (with `current` and `conflict_id`). */
  problem: Problem;
}

export interface PulledEvent {
  count: number;
  syncToken: string | null;
}

export interface SyncResult {
  /** Ops the server applied (2xx) in this call. */
  pushed: number;
  /** Records received (tombstones included) in this call. */
  pulled: number;
  conflicts: Conflict[];
  errors: ErrorEvent[];
}

export interface EventMap {
  queued: OutboxOp;
  pushed: PushedEvent;
  pulled: PulledEvent;
  conflict: ConflictEvent;
  error: ErrorEvent;
  status: Status;
}

/** The storage interface: all async, JSON-serialisable values. */
export interface Storage {
  get(key: string): Promise<unknown | undefined>;
  set(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
  /** Every [key, value] whose key starts with prefix, sorted by key. */
  entries(prefix: string): Promise<[string, unknown][]>;
  /** Optional: several writes as one atomic write (value undefined = delete). */
  batch?(writes: [string, unknown | undefined][]): Promise<void>;
  /** Optional: called by RelaySync.close(). */
  close?(): Promise<void>;
}

export class MemoryStorage implements Storage {
  constructor();
  get(key: string): Promise<unknown | undefined>;
  set(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
  entries(prefix: string): Promise<[string, unknown][]>;
  batch(writes: [string, unknown | undefined][]): Promise<void>;
  close(): Promise<void>;
}

/** Node only: one JSON file, replaced atomically (temp file, fsync, rename, fsync dir) on every write. */
export class FileStorage implements Storage {
  constructor(path: string);
  readonly path: string;
  get(key: string): Promise<unknown | undefined>;
  set(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
  entries(prefix: string): Promise<[string, unknown][]>;
  batch(writes: [string, unknown | undefined][]): Promise<void>;
  close(): Promise<void>;
}

/** Browser only: one IndexedDB database with one object store (`kv`). */
export class IndexedDBStorage implements Storage {
  constructor(name?: string, deps?: { indexedDB?: IDBFactory; IDBKeyRange?: typeof IDBKeyRange });
  readonly name: string;
  get(key: string): Promise<unknown | undefined>;
  set(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
  entries(prefix: string): Promise<[string, unknown][]>;
  batch(writes: [string, unknown | undefined][]): Promise<void>;
  close(): Promise<void>;
}

export interface RelaySyncOptions {
  /** Base URL; the client adds /v1/... */
  url: string;
  /** API key (rs_live_...); kept in memory only unless persistKey is true. */
  apiKey?: string;
  storage?: Storage;
  /** Store the API key and bearer token in storage (default false). */
  persistKey?: boolean;
  /** Send `Prefer: merge=fields` on every PATCH item (default false). */
  merge?: boolean;
  /** Items per POST /v1/batch, at most 100 (default 100). */
  batchSize?: number;
  /** Capped exponential back-off with full jitter; `attempts`: retries without progress per sync() (default 8). */
  backoff?: { baseMs?: number; maxMs?: number; attempts?: number };
  /** Injectable fetch (default globalThis.fetch). */
  fetch?: typeof fetch;
  /** Injectable for tests: the wait between retries (default setTimeout, cut short by close()). */
  sleep?: (ms: number) => Promise<void>;
  /** Injectable for tests: the jitter draw in [0, 1) (default Math.random). */
  random?: () => number;
  /** Injectable for tests: the clock in ms (default Date.now). */
  now?: () => number;
  /** follow(): delay before the sync() an event triggers (default 50 ms). */
  debounceMs?: number;
  /**
   * Where the access token (never the API key) is kept across reloads,
   * e.g. `sessionStorage`; a later client on the same store uses it until
   * it expires. Default: memory only.
   */
  tokenStorage?: { getItem(k: string): string | null; setItem(k: string, v: string): void; removeItem(k: string): void };
  /** The tokenStorage key (default "relaysync.token"). */
  tokenStorageKey?: string;
}

/** Who the last token exchange was for (from POST /v1/auth/token). */
export interface Session {
  role: "admin" | "operator" | "viewer";
  org_id: string;
  user_id: string;
  expires_at: string;
}

export interface RequestOptions {
  /** Sent as JSON (Content-Type: application/json). */
  body?: unknown;
  headers?: Record<string, string>;
  /** Query parameters; undefined, null and "" are left out. */
  query?: Record<string, string | number | boolean | null | undefined>;
  signal?: AbortSignal;
}

/** A cursor list page (`GET /v1/records`, `/v1/audit`, `/v1/sync/queue`, ...). */
export interface Page<T = any> {
  data: T[];
  has_more: boolean;
  next_cursor: string | null;
  [extra: string]: unknown;
}

export interface Pager<T = any> extends AsyncIterable<T> {
  /** The next page, or null once the last one was read. */
  next(): Promise<Page<T> | null>;
  /** True once the last page was read. */
  readonly done: boolean;
  readonly cursor: string | null;
  /** Every item (at most max) of the remaining pages. */
  all(max?: number): Promise<T[]>;
}

export interface StreamEvent {
  id: string;
  event: string;
  data: string;
}

export interface StreamOptions {
  /** Resume after this event id (sent as Last-Event-ID). */
  lastEventId?: string;
  query?: Record<string, string | number | boolean | null | undefined>;
  onEvent?: (ev: StreamEvent) => void;
  /** Each time a connection is established. */
  onOpen?: () => void;
  /** A refused or failed connection (then it backs off and reconnects). */
  onError?: (ev: { status: number; problem: Problem | null }) => void;
}

export interface StreamHandle {
  stop(): void;
  /** The id of the last event seen (sent as Last-Event-ID on reconnect). */
  readonly lastEventId: string | null;
  /** True while a connection is open. */
  readonly connected: boolean;
  /** Settles once the loop has ended (after stop(), signOut() or close()). */
  readonly done: Promise<void>;
}

export interface FollowHandle {
  stop(): void;
  /** The id of the last event seen (sent as Last-Event-ID on reconnect). */
  readonly lastEventId: string | null;
  /** Settles once the follow loop has ended (after stop() or close()). */
  readonly done: Promise<void>;
}

export interface FollowOptions {
  /** Resume after this event id. */
  lastEventId?: string;
  /** Called with each event of the stream. */
  onEvent?: (ev: { id: string; event: string; data: string }) => void;
}

export class RelaySyncError extends Error {
  /** HTTP status; 0 for a network error. */
  status: number;
  code: string;
  detail: string;
  /** The problem's field-level errors ([] when none). */
  errors: { field: string; message: string }[];
  requestId: string | null;
  problem: Problem | null;
  retryAfterMs: number | null;
}

export class RelaySync {
  constructor(options: RelaySyncOptions);
  /** Loads the outbox, records and sync token from storage. */
  open(): Promise<this>;
  close(): Promise<void>;

  /** Queues a create; resolves (once the op is stored) with the local record, id `lid_<uuid>`. */
  create(fields: RecordCreate): Promise<RSRecord>;
  /** Queues a patch of a server id or a lid_; resolves with the local record. */
  patch(id: string, fields: RecordPatch): Promise<RSRecord | undefined>;
  /** Queues a delete (sent with If-Match of the causal known). */
  delete(id: string): Promise<void>;
  /** The local copy (server state with own queued edits applied); a pushed lid_ still finds its record. */
  get(id: string): RSRecord | undefined;
  list(): RSRecord[];

  /** Push the outbox, then pull. Never rejects for HTTP or network failures: see `errors` and status(). */
  sync(): Promise<SyncResult>;
  follow(options?: FollowOptions): FollowHandle;
  resolve(
    conflictId: string,
    how: { take: "current" | "attempted" } | { record: RecordPatch },
  ): Promise<{ conflict: Conflict; record: RSRecord }>;
  status(): Status;

  /** Exchange the API key (this one, else the constructor's) for a token now. Needs no open(). */
  signIn(apiKey?: string): Promise<Session>;
  /** Forget the key, the token and the stored token; stop every stream. */
  signOut(): void;
  /** A token is held, or a key can get one. */
  readonly signedIn: boolean;
  /** The last token exchange's session, or one restored from tokenStorage. */
  session: Session | null;
  /** One authenticated call; the parsed JSON (null when empty); rejects with RelaySyncError. Needs no open(). */
  request<T = any>(method: string, path: string, options?: RequestOptions): Promise<T>;
  /** Pages through a cursor list with the same query. */
  pager<T = any>(path: string, options?: { query?: RequestOptions["query"]; limit?: number }): Pager<T>;
  /** Reads an SSE route (e.g. "/v1/audit/stream") with the bearer token, reconnecting with Last-Event-ID. */
  stream(path: string, options?: StreamOptions): StreamHandle;

  on<K extends keyof EventMap>(type: K, fn: (ev: EventMap[K]) => void): this;
  off<K extends keyof EventMap>(type: K, fn: (ev: EventMap[K]) => void): this;
}

export class SSEParser {
  constructor(onEvent: (ev: { id: string; event: string; data: string }) => void, init?: { lastEventId?: string });
  lastEventId: string;
  retry: number | null;
  push(text: string): void;
  end(): void;
}

export function parseRetryAfter(value: string | null | undefined, now?: number): number | null;

export default RelaySync;
