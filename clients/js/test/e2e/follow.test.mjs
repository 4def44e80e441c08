// follow(): the client reads /v1/events/stream, pulls on each event, and
// when the server ends the stream (RELAYSYNC_STREAM_LIFETIME=3 on the side
// server that RS_FOLLOW_URL names) reconnects with Last-Event-ID and keeps
// pulling; stop() ends it for good. Under Apache the same runs against the
// buffered port too (RS_FOLLOW_BUFFERED_URL: each answer ends after the
// poll that sent entries).

import { test } from "node:test";
import assert from "node:assert/strict";
import { Api, Recorder, env, lib, marker, waitFor, sleep } from "./env.mjs";

const LIVE = env("RS_FOLLOW_URL");
const KEY = env("RS_FOLLOW_KEY");
const BUFFERED = process.env.RS_FOLLOW_BUFFERED_URL || null;
const LIFETIME_MS = Number(process.env.RS_FOLLOW_LIFETIME || 3) * 1000;
const ARRIVAL_MS = 6000;

async function scenario(t, url, label) {
  const { RelaySync, MemoryStorage } = await lib();
  const api = new Api(url, KEY);
  const m = marker(label);
  const rec = new Recorder();
  const c = new RelaySync({ url, apiKey: KEY, storage: new MemoryStorage(), fetch: rec.fetch,
    backoff: { baseMs: 50, maxMs: 500 } });
  await c.open();
  await c.sync();
  const pulled = [];
  c.on("pulled", (p) => pulled.push(p));
  const f = c.follow();
  try {
    assert.equal(typeof f.stop, "function");
    await waitFor(() => rec.requests("/v1/events/stream").length >= 1, 5000, "the stream request");
    const first = rec.requests("/v1/events/stream")[0];
    assert.match(first.headers.get("accept") || "", /text\/event-stream/);
    await sleep(300);

    // a change made elsewhere arrives through the stream
    const r1 = await api.create({ title: `${m}-1`, type: "t" });
    const t1 = Date.now();
    await waitFor(() => c.get(r1.id), ARRIVAL_MS, "the first record to arrive");
    t.diagnostic(`${label}: first change arrived in ${Date.now() - t1} ms`);

    // the server ends the stream after its lifetime; the client reconnects
    await waitFor(() => rec.requests("/v1/events/stream").length >= 2,
      LIFETIME_MS + 6000, "a reconnect after the stream ended");
    const streams = rec.requests("/v1/events/stream");
    const again = streams[streams.length - 1];
    const lastId = again.headers.get("last-event-id");
    assert.ok(lastId, "the reconnect sends Last-Event-ID");
    await sleep(300);

    // changes after the reconnect arrive too (create and update)
    const r2 = await api.create({ title: `${m}-2`, type: "t" });
    await waitFor(() => c.get(r2.id), ARRIVAL_MS, "a record created after the reconnect");
    await api.patch(r1.id, { title: `${m}-1b`, causal: r1.causal });
    await waitFor(() => c.get(r1.id)?.title === `${m}-1b`, ARRIVAL_MS, "an update after the reconnect");

    // several lifetimes: it keeps reconnecting, each time with a later or equal id
    await waitFor(() => rec.requests("/v1/events/stream").length >= 3,
      LIFETIME_MS + 6000, "a second reconnect");
    const r3 = await api.create({ title: `${m}-3`, type: "t" });
    await waitFor(() => c.get(r3.id), ARRIVAL_MS, "a record after the second reconnect");
    assert.ok(pulled.length >= 3, "pulled events emitted");

    // a burst: events arriving while the sync the first one started runs
    const burst = [];
    for (let i = 0; i < 20; i++) burst.push(await api.create({ title: `${m}-burst-${i}`, type: "t" }));
    await waitFor(() => burst.every((b) => c.get(b.id)), ARRIVAL_MS, "every record of a burst of 20");
    const all = rec.requests("/v1/events/stream");
    const ids = all.map((e) => e.headers.get("last-event-id")).filter(Boolean);
    t.diagnostic(`${label}: ${all.length} stream requests, Last-Event-IDs ${ids.join(",")}`);
    // each reconnect names the last id the streams before it sent
    let lastSeen = null;
    for (let i = 0; i < all.length; i++) {
      if (i > 0 && lastSeen !== null && all[i - 1].status === 200) {
        assert.equal(all[i].headers.get("last-event-id"), lastSeen,
          `stream request ${i} resumes from the last id seen`);
      }
      for (const line of (all[i].text || "").split(/\r\n|\r|\n/)) {
        const mm = /^id: ?(.*)$/.exec(line);
        if (mm) lastSeen = mm[1];
      }
    }
  } finally {
    f.stop();
  }
  // after stop(): no more streams
  const n = rec.requests("/v1/events/stream").length;
  await sleep(LIFETIME_MS + 1500);
  assert.equal(rec.requests("/v1/events/stream").length, n, "stop() ended the following");
  await c.close();
}

test("follow: pulls on each event and resumes after the server ends the stream", async (t) => {
  await scenario(t, LIVE, "follow-live");
});

test("follow: through a buffered stream (Apache's main port)", { skip: !BUFFERED && "no buffered port (lighttpd)" },
  async (t) => {
    await scenario(t, BUFFERED, "follow-buffered");
  });
