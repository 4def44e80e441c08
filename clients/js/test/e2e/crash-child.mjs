// Child process of crash.test.mjs: queues N creates in a FileStorage, then
// syncs, printing one line per pushed op, until the parent SIGKILLs it.
//   node crash-child.mjs FILE MARKER N BATCH   (env: RS_URL, RS_API_KEY)
import { RelaySync, FileStorage } from "../../src/relaysync.mjs";

// (a test runner that loads every .mjs here runs this without arguments)
if (process.argv.length < 3 || !process.env.RS_URL) process.exit(0);

const [file, m, n, batch] = process.argv.slice(2);
const c = new RelaySync({ url: process.env.RS_URL, apiKey: process.env.RS_API_KEY,
  storage: new FileStorage(file), batchSize: Number(batch),
  backoff: { baseMs: 20, maxMs: 200 } });
await c.open();
for (let i = 0; i < Number(n); i++) {
  await c.create({ title: `${m}-${i}`, type: "t", data: { i } });
}
console.log("queued");
let pushed = 0;
c.on("pushed", () => { pushed += 1; console.log("pushed " + pushed); });
// the server may still be recovering from the pool kills of the test before
for (let i = 0; i < 200 && c.status().queued > 0; i++) {
  await c.sync();
  if (c.status().queued > 0) {
    console.log("retry " + JSON.stringify(c.status().lastError));
    await new Promise((r) => setTimeout(r, 100));
  }
}
console.log("done " + c.status().queued);
