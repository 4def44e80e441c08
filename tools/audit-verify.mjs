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
// Node 18 or later (global fetch), no dependencies. node:crypto offers
// BLAKE2b-512 only, and BLAKE2b-256 is not a truncation of it (the output
// length is part of the parameter block), so BLAKE2b is implemented here
// from RFC 7693.

import { createHash } from "node:crypto";
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";

const PAGE_LIMIT = 200;
const HTTP_TIMEOUT_MS = 30000;
const ZERO_HASH = "0".repeat(64);

// ---------------------------------------------------------------------------
// BLAKE2b (RFC 7693), unkeyed, any output length 1..64. 64-bit words are
// pairs of 32-bit halves in Uint32Arrays: word i is [2i] (low), [2i+1] (high).
// ---------------------------------------------------------------------------

const IV = new Uint32Array([
	0xf3bcc908, 0x6a09e667, 0x84caa73b, 0xbb67ae85,
	0xfe94f82b, 0x3c6ef372, 0x5f1d36f1, 0xa54ff53a,
	0xade682d1, 0x510e527f, 0x2b3e6c1f, 0x9b05688c,
	0xfb41bd6b, 0x1f83d9ab, 0x137e2179, 0x5be0cd19,
]);

const SIGMA = [
	[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
	[14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
	[11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
	[7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
	[9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
	[2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
	[12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
	[13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
	[6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
	[10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
	[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
	[14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
];

// v[a] += v[b] (64-bit)
function add64(v, a, b) {
	const lo = v[a] + v[b];
	v[a + 1] = v[a + 1] + v[b + 1] + (lo > 0xffffffff ? 1 : 0);
	v[a] = lo;
}

// v[a] += m[i] (64-bit)
function add64m(v, a, m, i) {
	const lo = v[a] + m[i];
	v[a + 1] = v[a + 1] + m[i + 1] + (lo > 0xffffffff ? 1 : 0);
	v[a] = lo;
}

// The mixing function G on words a, b, c, d (indices of low halves) with
// message words x, y (indices into m of low halves). RFC 7693 3.1.
function mix(v, m, a, b, c, d, x, y) {
	let lo, hi;
	add64(v, a, b);
	add64m(v, a, m, x);
	lo = v[d] ^ v[a]; hi = v[d + 1] ^ v[a + 1];		// rotr 32
	v[d] = hi; v[d + 1] = lo;
	add64(v, c, d);
	lo = v[b] ^ v[c]; hi = v[b + 1] ^ v[c + 1];		// rotr 24
	v[b] = (lo >>> 24) | (hi << 8); v[b + 1] = (hi >>> 24) | (lo << 8);
	add64(v, a, b);
	add64m(v, a, m, y);
	lo = v[d] ^ v[a]; hi = v[d + 1] ^ v[a + 1];		// rotr 16
	v[d] = (lo >>> 16) | (hi << 16); v[d + 1] = (hi >>> 16) | (lo << 16);
	add64(v, c, d);
	lo = v[b] ^ v[c]; hi = v[b + 1] ^ v[c + 1];		// rotr 63
	v[b] = (hi >>> 31) | (lo << 1); v[b + 1] = (lo >>> 31) | (hi << 1);
}

// The compression function F (RFC 7693 3.2) on the 128-byte block at
// data[off..], t = bytes hashed so far, last = the final block.
function compress(h, v, m, data, off, t, last) {
	for (let i = 0; i < 32; i++) {
		const p = off + 4 * i;
		m[i] = data[p] | (data[p + 1] << 8) | (data[p + 2] << 16) |
		    (data[p + 3] << 24);
	}
	for (let i = 0; i < 16; i++) {
		v[i] = h[i];
		v[i + 16] = IV[i];
	}
	v[24] ^= t >>> 0;
	v[25] ^= Math.floor(t / 0x100000000);
	if (last) {
		v[28] = ~v[28];
		v[29] = ~v[29];
	}
	for (let r = 0; r < 12; r++) {
		const s = SIGMA[r];
		mix(v, m, 0, 8, 16, 24, 2 * s[0], 2 * s[1]);
		mix(v, m, 2, 10, 18, 26, 2 * s[2], 2 * s[3]);
		mix(v, m, 4, 12, 20, 28, 2 * s[4], 2 * s[5]);
		mix(v, m, 6, 14, 22, 30, 2 * s[6], 2 * s[7]);
		mix(v, m, 0, 10, 20, 30, 2 * s[8], 2 * s[9]);
		mix(v, m, 2, 12, 22, 24, 2 * s[10], 2 * s[11]);
		mix(v, m, 4, 14, 16, 26, 2 * s[12], 2 * s[13]);
		mix(v, m, 6, 8, 18, 28, 2 * s[14], 2 * s[15]);
	}
	for (let i = 0; i < 16; i++)
		h[i] ^= v[i] ^ v[i + 16];
}

// BLAKE2b of the bytes DATA (Uint8Array) with an OUTLEN-byte digest, no key.
export function blake2b(data, outlen = 64) {
	if (!Number.isInteger(outlen) || outlen < 1 || outlen > 64)
		throw new RangeError("BLAKE2b output length must be 1..64");
	const h = new Uint32Array(IV);
	// parameter block word 0: digest length, key length 0, fanout 1, depth 1
	h[0] ^= 0x01010000 ^ outlen;
	const v = new Uint32Array(32);
	const m = new Uint32Array(32);
	const nblocks = Math.max(1, Math.ceil(data.length / 128));
	for (let i = 0; i < nblocks - 1; i++)
		compress(h, v, m, data, 128 * i, 128 * (i + 1), false);
	const tail = new Uint8Array(128);	// the last block, zero-padded
	tail.set(data.subarray(128 * (nblocks - 1)));
	compress(h, v, m, tail, 0, data.length, true);
	const out = new Uint8Array(outlen);
	for (let i = 0; i < outlen; i++)
		out[i] = h[i >> 2] >>> (8 * (i & 3));
	return out;
}

function hex(bytes) {
	return Buffer.from(bytes).toString("hex");
}

// ---------------------------------------------------------------------------
// The canonical JSON of an entry and its hash
// ---------------------------------------------------------------------------

// JSON.stringify with every object's members sorted by name (the default
// sort compares UTF-16 code units), no whitespace.
export function canonicalJson(value) {
	if (Array.isArray(value))
		return "[" + value.map(canonicalJson).join(",") + "]";
	if (value !== null && typeof value === "object") {
		const names = Object.keys(value).sort();
		return "{" + names.map((n) => JSON.stringify(n) + ":" +
		    canonicalJson(value[n])).join(",") + "}";
	}
	if (typeof value === "number" && !Number.isSafeInteger(value))
		throw new Error("a number that is not a safe integer: " + value);
	if (value === undefined || typeof value === "function" ||
	    typeof value === "bigint" || typeof value === "symbol")
		throw new Error("not a JSON value");
	return JSON.stringify(value);
}

// The hash an entry should carry: BLAKE2b-256 over prev_hash's 64 hex
// characters followed by the canonical JSON of the entry without "hash".
export function entryHash(entry) {
	const rest = {};
	for (const name of Object.keys(entry))
		if (name !== "hash")
			rest[name] = entry[name];
	const text = String(entry.prev_hash) + canonicalJson(rest);
	return hex(blake2b(new TextEncoder().encode(text), 32));
}

// Checks ENTRY (the next one of the chain) against the expected SEQ and
// PREV (the previous entry's hash): null when it holds, else why not.
export function checkEntry(entry, seq, prev) {
	if (entry === null || typeof entry !== "object" || Array.isArray(entry))
		return "not an object";
	if (entry.seq !== seq) {
		if (Number.isInteger(entry.seq) && entry.seq > seq)
			return "missing (the next entry listed has seq " +
			    entry.seq + ")";
		return "out of order (the entry listed here has seq " +
		    JSON.stringify(entry.seq) + ")";
	}
	if (typeof entry.hash !== "string" || !/^[0-9a-f]{64}$/.test(entry.hash))
		return "hash is not 64 lower-case hex digits: " +
		    JSON.stringify(entry.hash);
	if (entry.prev_hash !== prev)
		return "prev_hash " + JSON.stringify(entry.prev_hash) +
		    " is not the previous entry's hash " + prev;
	let computed;
	try {
		computed = entryHash(entry);
	} catch (e) {
		return "cannot be put in canonical form: " + e.message;
	}
	if (computed !== entry.hash)
		return "hash mismatch: stored " + entry.hash + ", computed " +
		    computed;
	return null;
}

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
