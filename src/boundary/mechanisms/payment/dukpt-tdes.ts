// TDES DUKPT (ANSI X9.24-1:2009 Annex A): the IPEK from a double-length BDK and the KSN, the
// current transaction key by the non-reversible key generation process, and its PIN/MAC/data
// variants. Every intermediate key is a Buffer zero-filled here; callers get transient LoadedKeys.

import { HsmError } from '../../errors.js';
import { loadSymmetricKey } from '../../keytypes/symmetric.js';
import type { LoadedKey } from '../../types.js';
import { ecb, singleDes, TDES_ONLY } from './block.js';

/** X9.24-1:2009 A.6: the key mask applied to the BDK (IPEK right half) and inside the NRKGP. */
const C0_MASK = Buffer.from('C0C0C0C000000000C0C0C0C000000000', 'hex');

/** X9.24-1:2009 A.6 (and the 2004 data variant, A.4.2 test data): the variant masks per working key. */
export const TDES_VARIANTS = {
  pin: '00000000000000FF00000000000000FF',
  'mac-request': '000000000000FF00000000000000FF00',
  'mac-response': '00000000FF00000000000000FF000000',
  'data-request': '0000000000FF00000000000000FF0000',
  'data-response': '000000FF00000000000000FF00000000',
} as const;
export type TdesVariant = keyof typeof TDES_VARIANTS;

/** KSN: 80 bits, the rightmost 21 are the transaction counter (X9.24-1:2009 A.2). */
export function tdesKsn(ksn: unknown): Buffer {
  const k = ksnBytes(ksn, 10);
  const counter = ((k[7] & 0x1f) << 16) | (k[8] << 8) | k[9];
  // A.2: an originating device never uses a counter with more than 10 one-bits; such a KSN is forged.
  if (popcount(counter) > 10 || counter === 0) throw new HsmError('MECHANISM_PARAM_INVALID', 'KSN counter is not one a device can use');
  return k;
}

export function ksnBytes(ksn: unknown, len: number): Buffer {
  const b = ksn instanceof Uint8Array ? Buffer.from(ksn) : typeof ksn === 'string' && /^[0-9A-Fa-f]*$/.test(ksn) ? Buffer.from(ksn, 'hex') : undefined;
  if (!b || b.length !== len) throw new HsmError('MECHANISM_PARAM_INVALID', `KSN must be ${len} bytes`);
  return b;
}

export function popcount(n: number): number {
  let c = 0;
  for (let x = n >>> 0; x !== 0; x >>>= 1) c += x & 1;
  return c;
}

function xor(a: Uint8Array, b: Uint8Array): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] ^ b[i];
  return out;
}

/** X9.24-1:2009 A.6 "Non-reversible Key Generation Process": 16-byte key, 8-byte KSN register → next key. */
function nrkgp(key: Buffer, reg: Buffer): Buffer {
  const half = (k: Buffer): Buffer => {
    const l = k.subarray(0, 8);
    const r = k.subarray(8, 16);
    const x = xor(reg, r); // crypto register-1 XOR key right
    const e = singleDes(l, x); // DEA-encrypt under key left
    const out = xor(e, r); // XOR key right
    x.fill(0);
    e.fill(0);
    return out;
  };
  const right = half(key);
  const masked = xor(key, C0_MASK);
  const left = half(masked);
  masked.fill(0);
  const out = Buffer.concat([left, right]);
  left.fill(0);
  right.fill(0);
  return out;
}

function bdkBytes(bdk: LoadedKey): Buffer {
  if (bdk.keyType !== 'des2' || !bdk.secret) throw new HsmError('KEY_TYPE_INCONSISTENT', 'a TDES DUKPT BDK is a double-length TDES key');
  return Buffer.from(bdk.secret.insecureBytes());
}

/** X9.24-1:2009 A.6 "IPEK": TDES(BDK)[KSN₆₄ with counter cleared] ‖ TDES(BDK ⊕ C0..)[same]. */
function ipekBytes(bdk: LoadedKey, ksn: Buffer): Buffer {
  const reg = Buffer.from(ksn.subarray(0, 8));
  reg[7] &= 0xe0; // the leftmost 64 bits of the KSN with the 21-bit counter zeroed
  const raw = bdkBytes(bdk);
  const masked = xor(raw, C0_MASK);
  const mk = loadSymmetricKey('des2', masked);
  try {
    return Buffer.concat([ecb(bdk, reg, 'encrypt', TDES_ONLY), ecb(mk, reg, 'encrypt', TDES_ONLY)]);
  } finally {
    raw.fill(0);
    masked.fill(0);
    mk.secret?.destroy();
  }
}

/** The current transaction key (no variant): one NRKGP per one-bit of the counter, high bit first (A.6). */
function transactionKeyBytes(bdk: LoadedKey, ksn: Buffer): Buffer {
  let key = ipekBytes(bdk, ksn);
  const reg = Buffer.from(ksn.subarray(2, 10));
  reg[5] &= 0xe0;
  reg[6] = 0;
  reg[7] = 0;
  const counter = ((ksn[7] & 0x1f) << 16) | (ksn[8] << 8) | ksn[9];
  for (let bit = 0x100000; bit > 0; bit >>>= 1) {
    if ((counter & bit) === 0) continue;
    reg[5] |= (bit >>> 16) & 0xff;
    reg[6] |= (bit >>> 8) & 0xff;
    reg[7] |= bit & 0xff;
    const next = nrkgp(key, reg);
    key.fill(0);
    key = next;
  }
  return key;
}

/** IPEK as a transient key (self-tests and derivation of terminal initial keys only). */
export function tdesIpek(bdk: LoadedKey, ksnIn: unknown): LoadedKey {
  const b = ipekBytes(bdk, ksnBytes(ksnIn, 10));
  try {
    return loadSymmetricKey('des2', b);
  } finally {
    b.fill(0);
  }
}

/**
 * A transaction working key: the current key XOR the variant; the data variants are then made one-way by
 * encrypting each half under the variant key itself (X9.24-1:2009 A.4.2 "data encryption" key).
 */
export function tdesWorkingKey(bdk: LoadedKey, ksnIn: unknown, variant: TdesVariant | 'none'): LoadedKey {
  const ksn = tdesKsn(ksnIn);
  const cur = transactionKeyBytes(bdk, ksn);
  const v = variant === 'none' ? cur : xor(cur, Buffer.from(TDES_VARIANTS[variant], 'hex'));
  let out = v;
  if (variant === 'data-request' || variant === 'data-response') {
    const vk = loadSymmetricKey('des2', v);
    try {
      out = ecb(vk, v.subarray(0, 16), 'encrypt', TDES_ONLY); // ECB: each half encrypted on its own, in one call
    } finally {
      vk.secret?.destroy();
    }
  }
  try {
    return loadSymmetricKey('des2', out);
  } finally {
    for (const b of [cur, v, out]) b.fill(0);
  }
}
