// Key check values (ANSI X9.24-1:2017 Annex A; X9.143): TDES = leftmost bytes of ECB(key, zeros);
// AES = leftmost bytes of AES-CMAC(key, 16 zero bytes). At most 5 bytes are ever returned, so a
// check value is never a full known-plaintext block for a meet-in-the-middle search (attacks.md C-09).

import { HsmError } from '../../errors.js';
import type { LoadedKey } from '../../types.js';
import { cmacTag } from '../cmac.js';
import { ecb, PAYMENT_KEY_TYPES } from './block.js';

export function checkValue(key: LoadedKey, length = 3): Buffer {
  if (!Number.isInteger(length) || length < 2 || length > 5) throw new HsmError('MECHANISM_PARAM_INVALID', 'check value length is 2..5 bytes');
  const full = key.keyType === 'aes' ? cmacTag(key, ['aes'], 16, Buffer.alloc(16)) : ecb(key, Buffer.alloc(8), 'encrypt', PAYMENT_KEY_TYPES);
  const out = Buffer.from(full.subarray(0, length));
  full.fill(0);
  return out;
}
