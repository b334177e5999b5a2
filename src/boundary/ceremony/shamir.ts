// The master key split into N shares with threshold M (Shamir 1979, over GF(2^8), by the audited
// `shamir-secret-sharing`), and rebuilt from M of them. Shares are SecretBytes from the moment the
// library returns them; the library's own arrays are zero-filled at once. A share is the 32 key
// bytes' polynomial values followed by its x coordinate (one byte, distinct per share).

import { createHmac, timingSafeEqual } from 'node:crypto';
import { combine, split } from 'shamir-secret-sharing';
import { SecretBytes } from '../secret.js';

export const MASTER_KEY_BYTES = 32;
export const SHARE_BYTES = MASTER_KEY_BYTES + 1;
export const MAX_SHARES = 16;

/**
 * Splits `master` into `n` shares, any `m` of which rebuild it. The library needs m ≥ 2; with
 * m = 1 there is nothing to split (a degree-0 polynomial): every share is the key itself, told
 * apart by its x coordinate 1..n. That is for a single-custodian set-up only, and docs say so.
 */
export async function splitMasterKey(master: SecretBytes, n: number, m: number): Promise<SecretBytes[]> {
  if (master.length !== MASTER_KEY_BYTES) throw new RangeError('master key must be 32 bytes');
  if (!Number.isSafeInteger(n) || !Number.isSafeInteger(m) || m < 1 || n < m || n > MAX_SHARES) throw new RangeError('bad share counts');
  if (m === 1) {
    return Array.from({ length: n }, (_, i) => {
      const s = Buffer.alloc(SHARE_BYTES);
      master.insecureBytes().copy(s);
      s[MASTER_KEY_BYTES] = i + 1;
      return SecretBytes.adopt(s);
    });
  }
  // The library accepts plain Uint8Arrays only (not Buffers); the copy is zeroed after use.
  const input = Uint8Array.from(master.insecureBytes());
  let raw: Uint8Array[];
  try {
    raw = await split(input, n, m);
  } finally {
    input.fill(0);
  }
  return raw.map((r) => {
    const s = SecretBytes.from(r);
    r.fill(0);
    return s;
  });
}

/** Rebuilds the key from `threshold` shares (distinct x coordinates; the caller checked them against the store). */
export async function combineShares(shares: readonly SecretBytes[], threshold: number): Promise<SecretBytes> {
  if (shares.length < threshold || shares.length === 0) throw new RangeError('not enough shares');
  if (threshold === 1) return SecretBytes.from(shares[0]!.insecureBytes().subarray(0, MASTER_KEY_BYTES));
  const inputs = shares.slice(0, threshold).map((s) => Uint8Array.from(s.insecureBytes()));
  try {
    const raw = await combine(inputs);
    const key = SecretBytes.from(raw);
    raw.fill(0);
    return key;
  } finally {
    for (const i of inputs) i.fill(0);
  }
}

/**
 * The check stored for each share: HMAC-SHA256 keyed by a fixed label (a domain-separated
 * SHA-256), so a submitted share can be recognised while the module is sealed. It reveals
 * nothing usable: a share has 256 bits of entropy, and with m = 1 the share is the key, whose
 * own key check the header already carries.
 */
export function shareCheck(share: SecretBytes): string {
  return createHmac('sha256', 'coffer/v1/share-check').update(share.insecureBytes()).digest('hex');
}

/** Index of `check` in `checks`, comparing every entry in constant time; -1 if absent. */
export function findCheck(checks: readonly string[], check: string): number {
  const want = Buffer.from(check, 'hex');
  let found = -1;
  for (let i = 0; i < checks.length; i++) {
    const have = Buffer.from(checks[i]!, 'hex');
    if (have.length === want.length && timingSafeEqual(have, want) && found < 0) found = i;
  }
  return found;
}
