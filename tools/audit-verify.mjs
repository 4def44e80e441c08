#!/usr/bin/env node
// tools/audit-verify.mjs: verifies an org's RelaySync audit chain from the
// API alone (CONTRACT section 7), independently of the server's code.
//
//   node tools/audit-verify.mjs --base http://127.0.0.1:8080 --api-key KEY
//   RELAYSYNC_API_KEY=KEY node tools/audit-verify.mjs --base URL
//   node tools/audit-verify.mjs --self-test
//
// It exchanges the API key for a token (POST /v1/auth/token), pages through
// GET /v1/audit?limit=200 (oldest first, following next_cursor) and checks
// every entry:
//   - seq runs 1, 2, 3 ... with no gap,
//   - prev_hash is the previous entry's hash (64 "0"s for the first),
//   - hash = lower-case hex BLAKE2b-256 over the 64 ASCII hex characters of
//     prev_hash followed by the canonical JSON (UTF-8) of the entry without
//     its "hash" member: members sorted by name (UTF-16 code units), no
//     whitespace, strings and numbers as JSON.stringify writes them.
// Exit 0 printing "N entries, intact"; exit 1 naming the first broken seq
// and why; exit 2 on a usage, network or HTTP error.
//
// Node 18 or later (global fetch), no dependencies. The chain's rules
// (BLAKE2b from RFC 7693, the canonical form, each entry's check) are in
// clients/js/src/audit-chain.mjs, shared with the operator console, which
// runs the same check in the browser; --self-test checks them against the
// RFC's vectors and node:crypto here.

import { createHash } from "node:crypto";
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ZERO_HASH, blake2b, canonicalJson, checkEntry, entryHash, toHex as hex }
	from "../clients/js/src/audit-chain.mjs";

export { blake2b, canonicalJson, checkEntry, entryHash };

const PAGE_LIMIT = 200;
const HTTP_TIMEOUT_MS = 30000;

// ---------------------------------------------------------------------------
// Self-test
// ---------------------------------------------------------------------------

const VECTORS = [
	// RFC 7693 Appendix A: BLAKE2b-512("abc")
	["abc", 64, "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6f" +
	    "dbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386ed" +
	    "d4009923"],
	// python3: hashlib.blake2b(MESSAGE, digest_size=32).hexdigest()
	["abc", 32, "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c0" +
	    "68d52319"],
	["", 32, "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12" +
	    "fe3a8"],
	[128, 32, "c3582f71ebb2be66fa5dd750f80baae97554f3b015663c8be377cfcb24" +
	    "88c1d1"],	// bytes 0..127
	[129, 32, "f7f3c46ba2564ff4c4c162da1f5b605f9f1c4aa6a20652a9f9a337c1a2" +
	    "f5b9c9"],	// bytes 0..128
];

function selfTest() {
	const failures = [];
	for (const [msg, outlen, want] of VECTORS) {
		const data = typeof msg === "string" ? new TextEncoder().encode(msg)
		    : Uint8Array.from({ length: msg }, (_, i) => i);
		const got = hex(blake2b(data, outlen));
		const label = (typeof msg === "string" ? JSON.stringify(msg)
		    : msg + " bytes") + " (" + 8 * outlen + " bits)";
		if (got !== want)
			failures.push("BLAKE2b " + label + ": got " + got +
			    ", want " + want);
	}
	// Every length 0..300 (one, two and three blocks, each boundary)
	// against node:crypto's BLAKE2b-512.
	for (let n = 0; n <= 300; n++) {
		const data = Uint8Array.from({ length: n }, (_, i) =>
		    (i * 7 + 3) & 0xff);
		const want = createHash("blake2b512").update(data).digest("hex");
		const got = hex(blake2b(data, 64));
		if (got !== want) {
			failures.push("BLAKE2b-512 of " + n + " bytes: got " + got +
			    ", node:crypto " + want);
			break;
		}
	}
	const canon = canonicalJson({ b: [1, { z: null, a: true }], a: "\u0001/\"é",
	    "\u00e9": 0, B: -2 });
	const wantCanon = '{"B":-2,"a":"\\u0001/\\"é","b":[1,{"a":true,' +
	    '"z":null}],"é":0}';
	if (canon !== wantCanon)
		failures.push("canonical JSON: got " + canon + ", want " +
		    wantCanon);
	if (failures.length) {
		for (const f of failures)
			console.error("self-test: " + f);
		return 1;
	}
	console.log("self-test: BLAKE2b (RFC 7693 vectors, 256-bit vectors, " +
	    "lengths 0..300 against node:crypto) and canonical JSON: ok");
	return 0;
}

// ---------------------------------------------------------------------------
// The API
// ---------------------------------------------------------------------------

class UsageError extends Error {}
class FetchError extends Error {}

function usage() {
	return "usage: node tools/audit-verify.mjs --base URL [--api-key KEY]\n" +
	    "       (the key may come from RELAYSYNC_API_KEY instead)\n" +
	    "       node tools/audit-verify.mjs --self-test";
}

function parseArgs(argv) {
	const opts = { base: null, apiKey: null, selfTest: false };
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i];
		let name = arg, value = null;
		const eq = arg.indexOf("=");
		if (arg.startsWith("--") && eq > 0) {
			name = arg.slice(0, eq);
			value = arg.slice(eq + 1);
		}
		const take = () => {
			if (value !== null)
				return value;
			if (i + 1 >= argv.length)
				throw new UsageError(name + " needs a value");
			return argv[++i];
		};
		switch (name) {
		case "--base": opts.base = take(); break;
		case "--api-key": opts.apiKey = take(); break;
		case "--self-test": opts.selfTest = true; break;
		case "-h": case "--help":
			console.log(usage());
			process.exit(0);
			break;
		default:
			throw new UsageError("unknown argument " + arg);
		}
	}
	if (opts.selfTest)
		return opts;
	if (!opts.base)
		throw new UsageError("--base is required");
	if (!/^https?:\/\/[^/]/.test(opts.base))
		throw new UsageError("--base must be an http:// or https:// URL");
	opts.base = opts.base.replace(/\/+$/, "");
	if (!opts.apiKey)
		opts.apiKey = process.env.RELAYSYNC_API_KEY || null;
	if (!opts.apiKey)
		throw new UsageError("no API key: --api-key or RELAYSYNC_API_KEY");
	return opts;
}

async function request(method, url, headers, body) {
	let resp, text;
	try {
		resp = await fetch(url, {
			method, headers, body,
			redirect: "error",
			signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
		});
		text = await resp.text();
	} catch (e) {
		const why = e.cause && e.cause.message ? e.cause.message
		    : e.message;
		throw new FetchError(method + " " + url + ": " + why);
	}
	let doc = null;
	try {
		doc = JSON.parse(text);
	} catch (e) {
		// reported below
	}
	if (resp.status !== 200) {
		const detail = doc && typeof doc === "object" ? (doc.code || "") +
		    (doc.detail ? ": " + doc.detail : "") : text.slice(0, 200);
		throw new FetchError(method + " " + url + ": HTTP " + resp.status +
		    (detail ? " (" + detail + ")" : ""));
	}
	if (doc === null || typeof doc !== "object")
		throw new FetchError(method + " " + url + ": the answer is not a " +
		    "JSON object");
	return doc;
}

async function token(base, apiKey) {
	const doc = await request("POST", base + "/v1/auth/token",
	    { "Content-Type": "application/json", Accept: "application/json" },
	    JSON.stringify({ api_key: apiKey }));
	if (typeof doc.access_token !== "string" || !doc.access_token)
		throw new FetchError("POST /v1/auth/token: no access_token");
	return doc.access_token;
}

// Pages through GET /v1/audit, handing each entry to visit(entry) in order;
// stops early when visit returns false.
async function eachEntry(base, tok, visit) {
	let cursor = null;
	const seen = new Set();
	for (;;) {
		let url = base + "/v1/audit?limit=" + PAGE_LIMIT;
		if (cursor !== null)
			url += "&cursor=" + encodeURIComponent(cursor);
		const doc = await request("GET", url,
		    { Authorization: "Bearer " + tok, Accept: "application/json" });
		if (!Array.isArray(doc.data))
			throw new FetchError("GET " + url + ": data is not a list");
		for (const entry of doc.data)
			if (visit(entry) === false)
				return;
		if (!doc.has_more)
			return;
		if (typeof doc.next_cursor !== "string" || !doc.next_cursor)
			throw new FetchError("GET " + url + ": has_more without a " +
			    "next_cursor");
		if (seen.has(doc.next_cursor))
			throw new FetchError("GET " + url + ": next_cursor repeats");
		seen.add(doc.next_cursor);
		cursor = doc.next_cursor;
	}
}

async function verify(opts) {
	const tok = await token(opts.base, opts.apiKey);
	let count = 0, prev = ZERO_HASH, org = null, broken = null;
	await eachEntry(opts.base, tok, (entry) => {
		const seq = count + 1;
		let why = checkEntry(entry, seq, prev);
		if (why === null) {
			if (org === null)
				org = entry.org_id;
			else if (entry.org_id !== org)
				why = "org_id " + JSON.stringify(entry.org_id) +
				    " is not the chain's " + JSON.stringify(org);
		}
		if (why !== null) {
			broken = { seq, why };
			return false;
		}
		count = seq;
		prev = entry.hash;
		return true;
	});
	const who = org ? org + ": " : "";
	if (broken) {
		console.log(who + "entry " + broken.seq + " is broken (" +
		    broken.why + ")");
		return 1;
	}
	console.log(who + count + " entries, intact");
	return 0;
}

async function main() {
	let opts;
	try {
		opts = parseArgs(process.argv.slice(2));
	} catch (e) {
		if (!(e instanceof UsageError))
			throw e;
		console.error("audit-verify: " + e.message + "\n" + usage());
		return 2;
	}
	if (opts.selfTest)
		return selfTest();
	try {
		return await verify(opts);
	} catch (e) {
		if (!(e instanceof FetchError))
			throw e;
		console.error("audit-verify: " + e.message);
		return 2;
	}
}

// Run as a program (not when imported for its functions).
function isMain() {
	try {
		return process.argv[1] !== undefined &&
		    realpathSync(process.argv[1]) ===
		    realpathSync(fileURLToPath(import.meta.url));
	} catch (e) {
		return false;
	}
}

if (isMain())
	main().then((rc) => { process.exitCode = rc; }, (e) => {
		console.error("audit-verify: " + (e && e.stack ? e.stack : e));
		process.exitCode = 2;
	});
