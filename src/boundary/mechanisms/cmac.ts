// CMAC (NIST SP 800-38B; RFC 4493 for AES) written once over any block cipher that node offers
// in ECB and CBC: the subkeys come from one ECB block, the chain from one CBC pass with a zero IV.
// Subkey buffers are zero-filled after use; verification compares in constant time.

import { timingSafeEqual } from 'node:crypto';
import { HsmError } from '../errors.js';
import type { KeyType, LoadedKey } from '../types.js';
import { cipherName, keyObjectFor, noParams, runCipher } from './block-cipher.js';
import type { MechanismImpl, MechanismParams } from './types.js';

/** SP 800-38B §5.3: Rb for 128-bit blocks is 0^120‖10000111, for 64-bit blocks 0^59‖11011. */
const RB = { 16: 0x87, 8: 0x1b } as const;

/** SP 800-38B §6.1 step 2–3: one doubling in GF(2^b): shift left, xor Rb if the top bit fell out. */
function dbl(block: Buffer, blockSize: 8 | 16): Buffer {
  const out = Buffer.alloc(blockSize);
  for (let i = 0; i < blockSize; i++) out[i] = ((block[i] << 1) | (i + 1 < blockSize ? block[i + 1] >> 7 : 0)) & 0xff;
  if (block[0] & 0x80) out[blockSize - 1] ^= RB[blockSize];
  return out;
}

/** The full-length CMAC tag of `data` under `key` (SP 800-38B §6.2). */
export function cmacTag(key: LoadedKey, keyTypes: readonly KeyType[], blockSize: 8 | 16, data: Uint8Array): Buffer {
  const ko = keyObjectFor(key, keyTypes);
  const L = runCipher(cipherName(key, 'ecb'), ko, null, Buffer.alloc(blockSize), 'encrypt', false); // §6.1 step 1
  const k1 = dbl(L, blockSize);
  const k2 = dbl(k1, blockSize);
  // §6.2 steps 2–4: n = ⌈len/b⌉ (at least 1); a complete last block is xored with K1, a padded one with K2.
  const n = Math.max(1, Math.ceil(data.length / blockSize));
  const complete = data.length > 0 && data.length % blockSize === 0;
  const msg = Buffer.alloc(n * blockSize);
  msg.set(data);
  if (!complete) msg[data.length] = 0x80; // §5.4 padding 10^j
  const sub = complete ? k1 : k2;
  const last = (n - 1) * blockSize;
  for (let i = 0; i < blockSize; i++) msg[last + i] ^= sub[i];
  // §6.2 steps 5–6: CBC-MAC with a zero IV; the tag is the last output block.
  const chain = runCipher(cipherName(key, 'cbc'), ko, Buffer.alloc(blockSize), msg, 'encrypt', false);
  const tag = Buffer.from(chain.subarray(last));
  for (const b of [L, k1, k2, msg, chain]) b.fill(0);
  return tag;
}

/** Tag length in bytes from params.length: whole bytes from 4 up to the block (SP 800-38B §5.5 allows truncation). */
export function macLength(params: MechanismParams, blockSize: number): number {
  const len = params.length ?? blockSize;
  if (typeof len !== 'number' || !Number.isInteger(len) || len < 4 || len > blockSize) {
    throw new HsmError('MECHANISM_PARAM_INVALID', `length must be 4..${blockSize}`);
  }
  return len;
}

/** Constant-time tag comparison; a tag of the wrong length is simply wrong (verify never throws for it). */
export function tagMatches(expected: Buffer, given: Uint8Array): boolean {
  return given instanceof Uint8Array && given.length === expected.length && timingSafeEqual(expected, given);
}

export function cmacImpl(blockSize: 8 | 16, keyTypes: readonly KeyType[]): MechanismImpl {
  return {
    async sign(key, data, params) {
      noParams(params, ['length']);
      const len = macLength(params, blockSize);
      // A copy, not a view: the truncated-away bits must not ride along in the ArrayBuffer.
      return Buffer.from(cmacTag(key, keyTypes, blockSize, data).subarray(0, len));
    },
    async verify(key, data, signature, params) {
      noParams(params, ['length']);
      const len = macLength(params, blockSize);
      return tagMatches(cmacTag(key, keyTypes, blockSize, data).subarray(0, len), signature);
    },
  };
}
