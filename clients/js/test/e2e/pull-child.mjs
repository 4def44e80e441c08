// Child process of crash.test.mjs: a new client on FILE pulls the whole
// org page by page (limit 200), printing one line per pulled page, until
// the parent SIGKILLs it.   node pull-child.mjs FILE   (env: RS_URL, RS_API_KEY)
import { RelaySync, FileStorage } from "../../src/relaysync.mjs";

// (a test runner that loads every .mjs here runs this without arguments)
if (process.argv.length < 3 || !process.env.RS_URL) process.exit(0);

const [file] = process.argv.slice(2);
const c = new RelaySync({ url: process.env.RS_URL, apiKey: process.env.RS_API_KEY,
  storage: new FileStorage(file) });
await c.open();
let pages = 0;
c.on("pulled", (p) => { pages += 1; console.log(`pulled ${pages} ${p.count}`); });
await c.sync();
console.log("done " + pages);
