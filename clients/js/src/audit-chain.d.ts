// Types for src/audit-chain.mjs: BLAKE2b (RFC 7693) and the audit log's hash chain.

export const ZERO_HASH: string;
/** BLAKE2b, unkeyed, outlen 1..64 bytes (default 64). */
export function blake2b(data: Uint8Array, outlen?: number): Uint8Array;
export function toHex(bytes: Uint8Array): string;
/** BLAKE2b-256 of the UTF-8 of text, lower-case hex. */
export function blake2b256Hex(text: string): string;
/** Members sorted by name (UTF-16 code units), no whitespace, JSON.stringify strings; safe integers only. */
export function canonicalJson(value: unknown): string;
/** The hash an entry should carry: BLAKE2b-256(prev_hash + canonicalJson(entry without hash)). */
export function entryHash(entry: Record<string, unknown>): string;
/** null when entry is the chain's entry seq after prev, else why not. */
export function checkEntry(entry: unknown, seq: number, prev: string): string | null;
export class ChainVerifier {
  count: number;
  last: string;
  org: string | null;
  broken: { seq: number; why: string } | null;
  /** null when the entry holds, else why not (and the verifier stays broken). */
  add(entry: unknown): string | null;
}
export function verifyChain(entries: unknown[]): { ok: boolean; count: number; broken: { seq: number; why: string } | null };
