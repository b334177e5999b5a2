// Card verification values: Visa CVV/CVV2/iCVV (one algorithm; CVV2 uses service code 000, iCVV 999)
// and Mastercard dynamic CVC3. CVV: E_A(block 1) ⊕ block 2, then TDES(A‖B), decimalised (Visa
// decimalisation). A CVK whose halves are equal is refused: it degenerates to single DES (attacks.md C-11).

import { HsmError } from '../../errors.js';
import type { LoadedKey } from '../../types.js';
import { retailMac } from '../iso9797-mac.js';
import { digits, ecb, hexField, packNibbles, singleDes, tdesHalves, TDES_ONLY, xorInto } from './block.js';
import { decimaliseVisa } from './visa-pvv.js';

export function cvv(cvk: LoadedKey, pan: string, expiry: string, serviceCode: string): string {
  digits(pan, 'PAN', 12, 19);
  digits(expiry, 'expiry', 4, 4);
  digits(serviceCode, 'service code', 3, 3);
  if (cvk.keyType !== 'des2') throw new HsmError('KEY_TYPE_INCONSISTENT', 'a CVK is a double-length TDES key');
  const { a, b } = tdesHalves(cvk);
  try {
    if (a.equals(b)) throw new HsmError('KEY_TYPE_INCONSISTENT', 'CVK halves must differ');
    const data = packNibbles([...`${pan}${expiry}${serviceCode}`.padEnd(32, '0')].map(Number)); // right-pad with zeros to 128 bits
    const r = singleDes(a, data.subarray(0, 8)); // E_A(block 1)
    xorInto(r, data.subarray(8, 16));
    const out = ecb(cvk, r, 'encrypt', TDES_ONLY); // E_A(D_B(E_A(·))) = TDES(A‖B)
    const cvvDigits = decimaliseVisa(out, 3);
    out.fill(0);
    r.fill(0);
    return cvvDigits.join('');
  } finally {
    a.fill(0);
    b.fill(0);
  }
}

/**
 * Mastercard CVC3 (PayPass M/Chip): IVCVC3 = last 2 bytes of ISO 9797-1 MAC alg 3 (padding 2) over the
 * track data under the ICC CVC3 key; CVC3 = last 2 bytes of TDES(ICC key)[IVCVC3 ‖ UN ‖ ATC] as a decimal number.
 */
export function cvc3(iccKey: LoadedKey, trackData: Uint8Array, un: unknown, atc: unknown): number {
  const unB = hexField(un, 'UN', 4);
  const atcB = hexField(atc, 'ATC', 2);
  const mac = retailMac(iccKey, trackData, 2);
  const block = Buffer.concat([mac.subarray(6, 8), unB, atcB]);
  const enc = ecb(iccKey, block, 'encrypt', TDES_ONLY);
  const value = enc.readUInt16BE(6);
  enc.fill(0);
  mac.fill(0);
  return value;
}
