import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  blake2b, toHex, blake2b256Hex, canonicalJson, entryHash, checkEntry, verifyChain, ChainVerifier, ZERO_HASH,
} from "../../src/audit-chain.mjs";

test("BLAKE2b: the RFC 7693 Appendix A vector (BLAKE2b-512 of \"abc\")", () => {
  assert.equal(
    toHex(blake2b(new TextEncoder().encode("abc"), 64)),
    "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1" +
      "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923",
  );
});

test("BLAKE2b-256 vectors (python hashlib.blake2b(digest_size=32)), and 512 against node:crypto for lengths 0..300", () => {
  assert.equal(blake2b256Hex("abc"), "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
  assert.equal(blake2b256Hex(""), "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
  const b128 = Uint8Array.from({ length: 128 }, (_, i) => i);
  assert.equal(toHex(blake2b(b128, 32)), "c3582f71ebb2be66fa5dd750f80baae97554f3b015663c8be377cfcb2488c1d1");
  for (let n = 0; n <= 300; n++) {
    const data = Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff);
    assert.equal(toHex(blake2b(data, 64)), createHash("blake2b512").update(data).digest("hex"), `${n} bytes`);
  }
  assert.throws(() => blake2b(new Uint8Array(1), 65), RangeError);
});

test("canonical JSON: sorted members at every level, JSON.stringify escapes, no whitespace", () => {
  assert.equal(
    canonicalJson({ b: [1, { z: null, a: true }], a: "\u0001/\"é", "é": 0, B: -2 }),
    '{"B":-2,"a":"\\u0001/\\"é","b":[1,{"a":true,"z":null}],"é":0}',
  );
  assert.throws(() => canonicalJson({ x: 1.5 }), /safe integer/);
});

// A chain as the server makes it (the hash computed independently, here from the spec).
function chain(n, org = "org_test") {
  const out = [];
  let prev = ZERO_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const e = {
      seq, at: `2026-11-26T17:45:2${seq % 10}.123Z`, org_id: org,
      actor: { type: "user", id: "usr_a" }, action: "record.create", target: `rec_${seq}`,
      request_id: `req${seq}`, ip: "127.0.0.1", detail: { version: 1, fields: ["title", "type"] },
      prev_hash: prev,
    };
    const text = prev + canonicalJson(e);
    e.hash = toHex(blake2b(new TextEncoder().encode(text), 32));
    out.push(e);
    prev = e.hash;
  }
  return out;
}

test("a chain verifies; entryHash ignores member order and the hash member", () => {
  const c = chain(5);
  assert.deepEqual(verifyChain(c), { ok: true, count: 5, broken: null });
  const shuffled = Object.fromEntries(Object.entries(c[2]).reverse());
  assert.equal(entryHash(shuffled), c[2].hash);
  assert.equal(checkEntry(c[0], 1, ZERO_HASH), null);
});

test("a tampered entry, a wrong hash, a gap and a foreign org are each reported at their seq", () => {
  let c = chain(4);
  c[2].detail.version = 2; // changed after hashing
  let r = verifyChain(c);
  assert.equal(r.ok, false);
  assert.equal(r.count, 2);
  assert.equal(r.broken.seq, 3);
  assert.match(r.broken.why, /hash mismatch/);

  c = chain(3);
  c[1].hash = "f".repeat(64); // a wrong stored hash: entry 2 mismatches
  r = verifyChain(c);
  assert.equal(r.broken.seq, 2);
  assert.match(r.broken.why, /hash mismatch: stored f{64}, computed [0-9a-f]{64}/);

  c = chain(4);
  r = verifyChain([c[0], c[1], c[3]]);
  assert.deepEqual(r.broken, { seq: 3, why: "missing (the next entry listed has seq 4)" });

  c = chain(2);
  const other = chain(2, "org_other");
  const v = new ChainVerifier();
  assert.equal(v.add(c[0]), null);
  other[1].prev_hash = c[0].hash; // a well-formed link, another org
  other[1].hash = entryHash(other[1]);
  assert.match(v.add(other[1]), /org_id "org_other" is not the chain's "org_test"/);
  assert.equal(v.count, 1);
  assert.match(v.add(c[1]), /org_id/, "stays broken");

  c = chain(2);
  c[1].prev_hash = ZERO_HASH;
  c[1].hash = entryHash(c[1]);
  assert.match(verifyChain(c).broken.why, /prev_hash/);
});
