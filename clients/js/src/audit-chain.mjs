// The audit log's hash chain (GET /v1/audit, AuditEntry in the OpenAPI
// document): BLAKE2b (RFC 7693) in plain JavaScript, the canonical JSON of
// an entry, each entry's hash, and a verifier that checks a chain page by
// page or entry by entry (the live stream). Browsers and Node 18+; no
// imports (WebCrypto has no BLAKE2b, and node:crypto only BLAKE2b-512,
// which is not BLAKE2b-256 truncated: the output length is in the
// parameter block).
//
// One implementation serves the console (in the browser) and
// tools/audit-verify.mjs (the Node command-line verifier), which imports
// it; its --self-test checks it against RFC 7693 and node:crypto.
//
// An entry's hash: lower-case hex BLAKE2b-256 over the UTF-8 of its
// prev_hash (64 hex characters) followed by the canonical JSON of the
// entry without its "hash" member: members sorted by name (UTF-16 code
// units), no whitespace, strings and numbers as JSON.stringify writes them.

export const ZERO_HASH = "0".repeat(64);

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

/** Lower-case hex of a Uint8Array. */
export function toHex(bytes) {
	let s = "";
	for (const b of bytes)
		s += (b < 16 ? "0" : "") + b.toString(16);
	return s;
}

/** BLAKE2b-256 of a string's UTF-8 bytes, lower-case hex. */
export function blake2b256Hex(text) {
	return toHex(blake2b(new TextEncoder().encode(text), 32));
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
	return toHex(blake2b(new TextEncoder().encode(text), 32));
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
// A chain, checked in order
// ---------------------------------------------------------------------------

/**
 * Checks a chain entry by entry, in seq order from 1: `add(entry)` returns
 * null when it holds, else why not (and the verifier stays broken: `broken`
 * is {seq, why}). `count` is the number of entries that held; `last` the
 * hash of the last one. Also checks that every entry has the first one's
 * org_id.
 */
export class ChainVerifier {
	constructor() {
		this.count = 0;
		this.last = ZERO_HASH;
		this.org = null;
		this.broken = null;
	}

	add(entry) {
		if (this.broken)
			return this.broken.why;
		const seq = this.count + 1;
		let why = checkEntry(entry, seq, this.last);
		if (why === null) {
			if (this.org === null)
				this.org = entry.org_id;
			else if (entry.org_id !== this.org)
				why = "org_id " + JSON.stringify(entry.org_id) +
				    " is not the chain's " + JSON.stringify(this.org);
		}
		if (why !== null) {
			this.broken = { seq, why };
			return why;
		}
		this.count = seq;
		this.last = entry.hash;
		return null;
	}
}

/** Verifies a whole chain (an array, seq 1 first): {ok, count, broken}. */
export function verifyChain(entries) {
	const v = new ChainVerifier();
	for (const e of entries)
		if (v.add(e) !== null)
			break;
	return { ok: v.broken === null, count: v.count, broken: v.broken };
}
