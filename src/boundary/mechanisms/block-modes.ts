// ECB, CBC (no padding) and CBC with PKCS#7 padding over AES or TDES, shared by both families.
// Encrypt returns the IV it used; every decrypt failure (length, padding) is DECRYPT_FAILED.
// CBC-PAD offers no wrap/unwrap: its padding check is an oracle (Vaudenay 2002; attacks.md B-05).

import { HsmError } from '../errors.js';
import type { KeyType } from '../types.js';
import { cipherName, ivParam, keyObjectFor, noParams, runCipher } from './block-cipher.js';
import type { MechanismImpl } from './types.js';

export type PlainMode = 'ecb' | 'cbc' | 'cbc-pad';

export function blockModeImpl(mode: PlainMode, blockSize: 8 | 16, keyTypes: readonly KeyType[]): MechanismImpl {
  const cbc = mode !== 'ecb';
  const pad = mode === 'cbc-pad';
  return {
    async encrypt(key, data, params) {
      const ko = keyObjectFor(key, keyTypes);
      noParams(params, cbc ? ['iv'] : []);
      // SP 800-38A §5.2: ECB and CBC need whole blocks; PKCS#7 (RFC 5652 §6.3) makes them.
      if (!pad && data.length % blockSize !== 0) throw new HsmError('DATA_LEN_RANGE', `data must be a multiple of ${blockSize} bytes`);
      if (!cbc) return { output: runCipher(cipherName(key, 'ecb'), ko, null, data, 'encrypt', false) };
      // SP 800-38A Appendix C: the IV must be unpredictable; we make it unless the caller brings one.
      const { iv } = ivParam(params, blockSize, 'random-if-absent');
      const output = runCipher(cipherName(key, 'cbc'), ko, iv, data, 'encrypt', pad);
      return { output, params: { iv: new Uint8Array(iv) } };
    },
    async decrypt(key, data, params) {
      const ko = keyObjectFor(key, keyTypes);
      noParams(params, cbc ? ['iv'] : []);
      const iv = cbc ? ivParam(params, blockSize, 'required').iv : null;
      const name = cipherName(key, cbc ? 'cbc' : 'ecb');
      try {
        if (data.length % blockSize !== 0 || (pad && data.length === 0)) throw new RangeError('ciphertext length');
        return runCipher(name, ko, iv, data, 'decrypt', pad);
      } catch {
        throw new HsmError('DECRYPT_FAILED'); // one answer for length and padding errors (DESIGN §3)
      }
    },
  };
}
