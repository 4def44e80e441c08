// Queue edits while offline, then sync; follow live changes for a while.
//
//   RS_URL=http://127.0.0.1:8080 RS_API_KEY=rs_live_... node examples/offline.mjs [state.json]
//
// The outbox lives in a file (FileStorage): stop this script at any point
// and run it again, and the queued edits are sent once, with their keys.

import { RelaySync, FileStorage } from "../src/relaysync.mjs";

const url = process.env.RS_URL || "http://127.0.0.1:8080";
const apiKey = process.env.RS_API_KEY;
if (!apiKey) {
  console.error("set RS_API_KEY (and RS_URL)");
  process.exit(2);
}

const client = new RelaySync({
  url,
  apiKey,
  storage: new FileStorage(process.argv[2] || "relaysync-example.json"),
  merge: true, // disjoint concurrent edits are merged by the server
});

client.on("pushed", ({ op, record }) => console.log(`pushed ${op.kind} ${op.id} -> ${record.id} v${record.version}`));
client.on("pulled", ({ count }) => count && console.log(`pulled ${count} record(s)`));
client.on("conflict", ({ conflict }) =>
  console.log(`conflict ${conflict.id} on ${conflict.record_id}: wanted`, conflict.attempted, "server has", conflict.current.title),
);
client.on("error", ({ op, status, problem }) => console.log(`error ${status} ${problem?.code ?? ""}`, op ? `(${op.kind} ${op.id} dropped)` : ""));

await client.open();
console.log("resumed with", client.status().queued, "queued op(s)");

// Local writes: they return at once and never touch the network.
const r = await client.create({ title: "Pressure check", type: "inspection", site: "alpha", data: { psi: 87 } });
await client.patch(r.id, { data: { psi: 91, gauge: "G-114" } });
const scratch = await client.create({ title: "scratch", type: "note" });
await client.delete(scratch.id);
console.log("local:", client.get(r.id));
console.log("status before sync:", client.status());

// Push the outbox (in order, batched), then pull what changed.
const res = await client.sync();
console.log("sync:", { pushed: res.pushed, pulled: res.pulled, conflicts: res.conflicts.length, errors: res.errors.length });
console.log("now:", client.get(r.id)); // the lid_ still finds the record, now with its rec_ id
console.log("status after sync:", client.status());

// Resolve any conflict by taking our attempted change.
for (const c of res.conflicts) await client.resolve(c.id, { take: "attempted" });

// Live: pull on every change for 10 seconds.
const follow = client.follow({ onEvent: (ev) => console.log("event", ev.id, ev.event) });
await new Promise((r) => setTimeout(r, 10_000));
follow.stop();
await client.close();
