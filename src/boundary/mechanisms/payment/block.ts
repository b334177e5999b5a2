// Raw single-block ciphers for the payment functions, run inside the boundary on a LoadedKey:
// TDES/AES ECB (not reachable through the general mechanism path, where ECB is disabled by default)
// and single DES under one 8-byte half (EDE with K‖K). Outputs are fresh buffers the caller zero-fills.
// A key's ECB contexts live exactly as long as its LoadedKey and are dropped once its secret is zeroised.

import { type Cipher, createCipheriv, createDecipheriv, createSecretKey, type Decipher, type KeyObject } from 'node:crypto';
import { HsmError } from '../../errors.js';
import type { KeyType, LoadedKey } from '../../types.js';
import { cipherName, keyObjectFor, runCipher } from '../block-cipher.js';

export const PAYMENT_KEY_TYPES = ['des2', 'des3', 'aes'] as const satisfies readonly KeyType[];
export const TDES_ONLY = ['des2', 'des3'] as const satisfies readonly KeyType[];

interface EcbPair {
  ko: KeyObject;
  encrypt?: Cipher;
  decrypt?: Decipher;
}

/**
 * One OpenSSL ECB context per key and direction, reused across calls: creating a cipher per PIN block
 * was 17 % of a PIN translation's time. Only update() on whole blocks ever runs on these contexts
 * (padding off, final() never called), so nothing is buffered between calls and ECB carries no state
 * from one block to the next. Held weakly by the LoadedKey, they are freed (EVP_CIPHER_CTX_free cleanses
 * the key schedule) with it and its KeyObject; a key whose secret the cache has zeroised gets no context.
 */
const ECB_CONTEXTS = new WeakMap<LoadedKey, EcbPair>();

function ecbContext(key: LoadedKey, ko: KeyObject, direction: 'encrypt' | 'decrypt'): Cipher | Decipher | undefined {
  if (!key.secret || key.secret.destroyed) {
    ECB_CONTEXTS.delete(key);
    return undefined;
  }
  let pair = ECB_CONTEXTS.get(key);
  if (!pair || pair.ko !== ko) {
    pair = { ko };
    ECB_CONTEXTS.set(key, pair);
  }
  if (direction === 'encrypt') {
    pair.encrypt ??= createCipheriv(cipherName(key, 'ecb'), ko, null).setAutoPadding(false);
    return pair.encrypt;
  }
  pair.decrypt ??= createDecipheriv(cipherName(key, 'ecb'), ko, null).setAutoPadding(false);
  return pair.decrypt;
}

/** ECB over whole blocks under a TDES or AES key (SP 800-67 / FIPS 197, no padding). */
export function ecb(key: LoadedKey, data: Uint8Array, direction: 'encrypt' | 'decrypt', keyTypes: readonly KeyType[] = PAYMENT_KEY_TYPES): Buffer {
  const ko = keyObjectFor(key, keyTypes);
  const bs = key.keyType === 'aes' ? 16 : 8;
  if (data.length === 0 || data.length % bs !== 0) throw new HsmError('MECHANISM_PARAM_INVALID', `data must be whole ${bs}-byte blocks`);
  const ctx = ecbContext(key, ko, direction);
  if (!ctx) return runCipher(cipherName(key, 'ecb'), ko, null, data, direction, false);
  // Whole blocks in, the same number out: update() never holds a block back with padding off.
  const out = ctx.update(data);
  if (out.length !== data.length) {
    out.fill(0);
    ECB_CONTEXTS.delete(key);
    throw new RangeError('ECB context out of step'); // cannot happen with whole blocks: our bug if it does
  }
  return out;
}

/** The raw bytes of a TDES key (needed where an algorithm uses one half alone, e.g. CVV, MAC alg 3). */
export function tdesHalves(key: LoadedKey): { a: Buffer; b: Buffer } {
  keyObjectFor(key, TDES_ONLY);
  const s = key.secret?.insecureBytes();
  if (!s || s.length < 16) throw new HsmError('KEY_TYPE_INCONSISTENT', 'needs a TDES key value');
  return { a: Buffer.from(s.subarray(0, 8)), b: Buffer.from(s.subarray(8, 16)) };
}

/** Single-DES encryption of 8-byte blocks under one key half: EDE with K‖K collapses to E_K. */
export function singleDes(half: Uint8Array, data: Uint8Array): Buffer {
  const kk = Buffer.alloc(16);
  kk.set(half, 0);
  kk.set(half, 8);
  const ko = createSecretKey(kk);
  kk.fill(0);
  return runCipher('des-ede-ecb', ko, null, data, 'encrypt', false);
}

export function xorInto(target: Uint8Array, other: Uint8Array): void {
  for (let i = 0; i < target.length; i++) target[i] ^= other[i];
}

/** Nibbles of a byte string, high first. */
export function nibbles(b: Uint8Array): number[] {
  const out: number[] = [];
  for (const x of b) out.push(x >> 4, x & 15);
  return out;
}

export function packNibbles(n: readonly number[]): Buffer {
  const out = Buffer.alloc(Math.ceil(n.length / 2));
  for (let i = 0; i < n.length; i++) out[i >> 1] |= (n[i] & 15) << (i % 2 === 0 ? 4 : 0);
  return out;
}

/** Validates a digit string (PAN, expiry, service code …) that is not secret; returns it unchanged. */
export function digits(s: unknown, what: string, min: number, max: number): string {
  if (typeof s !== 'string' || s.length < min || s.length > max || !/^[0-9]+$/.test(s)) {
    throw new HsmError('MECHANISM_PARAM_INVALID', `${what} must be ${min}-${max} decimal digits`);
  }
  return s;
}

export function hexField(s: unknown, what: string, bytes: number): Buffer {
  if (s instanceof Uint8Array) {
    if (s.length !== bytes) throw new HsmError('MECHANISM_PARAM_INVALID', `${what} must be ${bytes} bytes`);
    return Buffer.from(s);
  }
  if (typeof s !== 'string' || s.length !== bytes * 2 || !/^[0-9A-Fa-f]+$/.test(s)) {
    throw new HsmError('MECHANISM_PARAM_INVALID', `${what} must be ${bytes} bytes`);
  }
  return Buffer.from(s, 'hex');
}
