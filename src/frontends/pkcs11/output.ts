// PKCS#11 output-buffer rules over RPC (reference/p11-kit-rpc.md §4.3): a capacity of 0 is a
// size query that leaves the operation running, a too-small buffer gets the length only, and
// a result that fits ends the operation. Empty lists are `01 00000000` (p11-kit issue #257).

import type { Capacity, OutBytes, OutUlongs } from './codec.js';

/** Reply for a variable-length byte output; `done` says whether the operation has delivered. */
export function bytesReply(result: Uint8Array, cap: Capacity): { reply: OutBytes; done: boolean } {
  if (cap.query || cap.capacity < result.length) return { reply: { length: result.length }, done: false };
  return { reply: { data: result }, done: true };
}

/** Reply for a ulong list without operation state (slot, mechanism lists). */
export function listReply(items: readonly number[], cap: Capacity): OutUlongs {
  if (items.length === 0) return { items: [] };
  if (cap.query || cap.capacity < items.length) return { count: items.length };
  return { items };
}

/** The number in a `fy` that is a count, not a buffer (C_GenerateRandom). */
export function callCapacity(cap: Capacity): number {
  return cap.capacity;
}
