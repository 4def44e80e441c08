import { test } from "node:test";
import assert from "node:assert/strict";
import { FakeServer, makeClient, problem, json } from "./fake-server.mjs";
import { SSEParser } from "../../src/sse.mjs";

function collect(chunks, init) {
  const evs = [];
  const p = new SSEParser((e) => evs.push(e), init);
  for (const c of chunks) p.push(c);
  return { evs, p };
}

test("SSE parser: id/event/data/retry, comments, multi-line data, CRLF and chunk splits", () => {
  const text =
    "retry: 1000\nid: 41\n\n" + // the server's opening block: no data, no event
    ": heartbeat\n\n" +
    "id: 42\nevent: record.created\ndata: {\"a\":1}\n\n" +
    "id: 43\r\nevent: record.updated\r\ndata: line1\r\ndata: line2\r\n\r\n" +
    "data:nospace\n\n" +
    "id: 44\nretry: abc\ndata: x\n";
  // every split point gives the same events
  const whole = collect([text]);
  for (let i = 1; i < text.length; i++) {
    const split = collect([text.slice(0, i), text.slice(i)]);
    assert.deepEqual(split.evs, whole.evs, `split at ${i}`);
  }
  const bytes = collect([...text]); // one character at a time
  assert.deepEqual(bytes.evs, whole.evs);
  assert.deepEqual(whole.evs, [
    { id: "42", event: "record.created", data: '{"a":1}' },
    { id: "43", event: "record.updated", data: "line1\nline2" },
    { id: "43", event: "message", data: "nospace" },
  ]);
  assert.equal(whole.p.retry, 1000, "a non-numeric retry is ignored");
  assert.equal(whole.p.lastEventId, "44", "the id of an unfinished event still counts as seen");
  const open = collect(["retry: 1000\nid: 7\n\n"]);
  assert.deepEqual(open.evs, []);
  assert.equal(open.p.lastEventId, "7");
});

function sse(text, { chunks = 1 } = {}) {
  const enc = new TextEncoder();
  const parts = [];
  const step = Math.ceil(text.length / chunks);
  for (let i = 0; i < text.length; i += step) parts.push(enc.encode(text.slice(i, i + step)));
  const body = new ReadableStream({
    start(ctl) {
      for (const p of parts) ctl.enqueue(p);
      ctl.close();
    },
  });
  return new Response(body, { status: 200, headers: { "Content-Type": "text/event-stream" } });
}

test("follow(): reads the stream, syncs on events, reconnects after `retry` ms with Last-Event-ID, stop() ends it", async () => {
  const s = new FakeServer();
  const c = await makeClient(s, { debounceMs: 5 });
  const conns = [];
  let stopped;
  const done = new Promise((r) => (stopped = r));
  s.hooks.stream = (entry, init) => {
    conns.push(entry.headers);
    if (conns.length === 1) {
      s.serverCreate("live1");
      return sse('retry: 30\nid: 10\n\nid: 11\nevent: record.created\ndata: {"type":"record.created"}\n\nid: 11\nretry: 20\n\n', { chunks: 4 });
    }
    if (conns.length === 2) return json(429, problem(429, "too_many_streams"), { "Retry-After": "0" });
    if (conns.length === 3) {
      s.serverCreate("live2");
      return sse('retry: 20\nid: 11\n\nid: 12\nevent: record.created\ndata: {}\n\n');
    }
    stopped();
    // hangs until aborted, as fetch does
    return new Promise((_, reject) => init.signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError"))));
  };
  const seen = [];
  const f = c.follow({ onEvent: (e) => seen.push(e.id) });
  await done;
  await new Promise((r) => setTimeout(r, 30));
  f.stop();
  await f.done;
  assert.equal(conns[0]["accept"], "text/event-stream");
  assert.match(conns[0]["authorization"], /^Bearer /);
  assert.equal(conns[0]["last-event-id"], undefined);
  assert.equal(conns[1]["last-event-id"], "11");
  assert.equal(conns[2]["last-event-id"], "11");
  assert.equal(conns[3]["last-event-id"], "12");
  assert.deepEqual(seen, ["11", "12"]);
  assert.equal(f.lastEventId, "12");
  assert.deepEqual(c.list().map((r) => r.title).sort(), ["live1", "live2"], "pulled on events");
});

test("follow(): renews the token on a 401 and close() stops every follow", async () => {
  const s = new FakeServer();
  const c = await makeClient(s, { debounceMs: 5 });
  let n = 0;
  let open;
  const opened = new Promise((r) => (open = r));
  s.hooks.stream = (entry, init) => {
    n++;
    if (n === 1) return json(401, problem(401, "unauthorized"));
    open();
    return new Promise((_, reject) => init.signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError"))));
  };
  const f = c.follow();
  await opened;
  assert.equal(s.tokenRequests, 2);
  await c.close();
  await f.done;
  assert.equal(n, 2);
});
