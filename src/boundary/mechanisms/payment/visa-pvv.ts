// Visa PIN Verification Value (Visa PIN security; IBM CCA "VISA-PVV"): TSP = 11 rightmost PAN digits
// excluding the check digit ‖ PVKI ‖ 4 leftmost PIN digits, TDES-encrypted under the PVK; the PVV is
// the first 4 decimal digits of the result, then A-F minus 10 if fewer than 4 are found.

import { HsmError } from '../../errors.js';
import type { SecretBytes } from '../../secret.js';
import type { LoadedKey } from '../../types.js';
import { digits, ecb, nibbles, packNibbles, TDES_ONLY } from './block.js';

/** Visa/IBM decimalisation: decimal nibbles left to right, then the hex ones minus 10. */
export function decimaliseVisa(block: Uint8Array, count: number): number[] {
  const n = nibbles(block);
  const out = [...n.filter((x) => x <= 9), ...n.filter((x) => x > 9).map((x) => x - 10)].slice(0, count);
  n.fill(0);
  return out;
}

export function visaPvv(pvk: LoadedKey, pan: string, pvki: number, pin: SecretBytes): number[] {
  digits(pan, 'PAN', 12, 19);
  if (!Number.isInteger(pvki) || pvki < 0 || pvki > 9) throw new HsmError('MECHANISM_PARAM_INVALID', 'PVKI is one digit');
  const p = pin.insecureBytes();
  if (p.length < 4) throw new HsmError('MECHANISM_PARAM_INVALID', 'PIN length 4-12');
  const tsp = [...pan.slice(-12, -1)].map(Number);
  tsp.push(pvki, p[0], p[1], p[2], p[3]);
  const block = packNibbles(tsp);
  tsp.fill(0);
  const enc = ecb(pvk, block, 'encrypt', TDES_ONLY);
  block.fill(0);
  const out = decimaliseVisa(enc, 4);
  enc.fill(0);
  return out;
}
