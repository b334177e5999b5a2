// ISO/IEC 9797-1:2011 MAC algorithm 1 over a TDES key: CBC-MAC with a zero IV, padding method 1
// (zeros) or 2 (0x80 then zeros); the output is the last ciphertext block (truncated by the caller).
// Algorithm 3 lives in ../iso9797-mac.ts and is reused, not repeated.

import { HsmError } from '../../errors.js';
import type { LoadedKey } from '../../types.js';
import { cipherName, keyObjectFor, runCipher } from '../block-cipher.js';
import { TDES_ONLY } from './block.js';

export function macAlg1(key: LoadedKey, data: Uint8Array, padding: 1 | 2): Buffer {
  if (padding !== 1 && padding !== 2) throw new HsmError('MECHANISM_PARAM_INVALID', 'padding method 1 or 2');
  const ko = keyObjectFor(key, TDES_ONLY);
  const len = padding === 2 ? data.length + 1 : Math.max(1, data.length); // §6.1.2-6.1.3
  const d = Buffer.alloc(Math.ceil(len / 8) * 8);
  d.set(data);
  if (padding === 2) d[data.length] = 0x80;
  const chain = runCipher(cipherName(key, 'cbc'), ko, Buffer.alloc(8), d, 'encrypt', false);
  const mac = Buffer.from(chain.subarray(chain.length - 8));
  chain.fill(0);
  d.fill(0);
  return mac;
}

/**
 * ISO/IEC 9797-1:2011 §6.1.4 padding method 3: a block holding the data length in bits (right-justified)
 * is prepended, then zeros as in method 1. Returned so that alg 1 or alg 3 can run with method 1 over it.
 */
export function lengthPrefixed(data: Uint8Array): Buffer {
  const out = Buffer.alloc(8 + data.length);
  out.writeBigUInt64BE(BigInt(data.length) * 8n, 0);
  out.set(data, 8);
  return out;
}
