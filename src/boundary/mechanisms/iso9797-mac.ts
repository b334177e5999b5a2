// ISO/IEC 9797-1:2011 MAC algorithm 3 ("retail MAC", ANSI X9.19) over a two- or three-key TDES key:
// single-DES CBC under K for all blocks, then decrypt under K' and encrypt under K on the last.
// Single DES is not in OpenSSL 3's default provider, so it runs as EDE with K‖K (= E_K).

import { createSecretKey } from 'node:crypto';
import { HsmError } from '../errors.js';
import type { LoadedKey } from '../types.js';
import { cipherName, keyObjectFor, runCipher, TDES_KEY_TYPES } from './block-cipher.js';

/** ISO/IEC 9797-1:2011 §6.1: method 1 right-pads with zero bits to a positive number of blocks; method 2 adds a 1 bit first. */
function pad(data: Uint8Array, method: 1 | 2): Buffer {
  const len = method === 2 ? data.length + 1 : Math.max(data.length, 1);
  const out = Buffer.alloc(Math.ceil(len / 8) * 8);
  out.set(data);
  if (method === 2) out[data.length] = 0x80;
  return out;
}

/**
 * The 8-byte MAC. For des2 (K‖K') this is exactly MAC algorithm 3 (§7.3 output transformation 3).
 * For des3 (K1‖K2‖K3) the last block is enciphered with full three-key EDE — the same shape with
 * K' = K2 and a third key for the final encryption — as payment HSMs do for triple-length keys.
 */
export function retailMac(key: LoadedKey, data: Uint8Array, method: 1 | 2): Buffer {
  const ko = keyObjectFor(key, TDES_KEY_TYPES);
  const secret = key.secret?.insecureBytes();
  if (!secret) throw new HsmError('KEY_TYPE_INCONSISTENT', 'retail MAC needs the key value');
  const d = pad(data, method);
  const last = d.length - 8;
  let h = Buffer.alloc(8);
  if (last > 0) {
    // §7.1 iteration with CBC under K alone: EDE with K‖K collapses to single-DES E_K.
    const kk = Buffer.alloc(16);
    kk.set(secret.subarray(0, 8), 0);
    kk.set(secret.subarray(0, 8), 8);
    const single = createSecretKey(kk);
    kk.fill(0);
    const chain = runCipher('des-ede-cbc', single, Buffer.alloc(8), d.subarray(0, last), 'encrypt', false);
    h = Buffer.from(chain.subarray(last - 8));
    chain.fill(0);
  }
  // Last block: E_K(D_K'(E_K(H_{q-1} ⊕ D_q))) is one EDE-CBC step under K‖K' with IV H_{q-1}.
  const mac = runCipher(cipherName(key, 'cbc'), ko, h, d.subarray(last), 'encrypt', false);
  d.fill(0);
  h.fill(0);
  return mac;
}
