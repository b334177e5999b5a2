// IBM 3624 PIN offset method (IBM CCA "IBM 3624 PIN offset"; ISO 9564 Annex): the natural PIN is the
// decimalised TDES encryption of the validation data under the PVK; offset = customer − natural per
// digit mod 10. Works on SecretBytes PIN digits; the natural PIN is zero-filled after use.

import { HsmError } from '../../errors.js';
import type { SecretBytes } from '../../secret.js';
import type { LoadedKey } from '../../types.js';
import { ecb, hexField, nibbles, TDES_ONLY } from './block.js';
import type { DecimalisationTable } from './decimalisation.js';

function naturalPin(pvk: LoadedKey, table: DecimalisationTable, validationData: Uint8Array, length: number): number[] {
  const enc = ecb(pvk, validationData, 'encrypt', TDES_ONLY); // step 1: encrypt the 16-nibble validation data
  const n = nibbles(enc);
  enc.fill(0);
  const out = n.slice(0, length).map((x) => table[x]); // step 2-3: decimalise, keep the leftmost digits
  n.fill(0);
  return out;
}

function checkArgs(pin: Uint8Array, validationData: unknown): Buffer {
  if (pin.length < 4 || pin.length > 12) throw new HsmError('MECHANISM_PARAM_INVALID', 'PIN length 4-12'); // attacks.md C-02: no check length below 4
  return hexField(validationData, 'validation data', 8);
}

/** The offset (digits 0-9) for a customer PIN. Issuer function. */
export function ibm3624Offset(pvk: LoadedKey, table: DecimalisationTable, validationData: unknown, pin: SecretBytes): number[] {
  const p = pin.insecureBytes();
  const vd = checkArgs(p, validationData);
  const nat = naturalPin(pvk, table, vd, p.length);
  const off = nat.map((d, i) => (p[i] - d + 10) % 10); // step 4: digit-wise subtraction mod 10
  nat.fill(0);
  return off;
}

/** True when natural PIN + offset equals the customer PIN (offset as digits, same length as the PIN). */
export function ibm3624Verify(pvk: LoadedKey, table: DecimalisationTable, validationData: unknown, pin: SecretBytes, offset: readonly number[]): boolean {
  const p = pin.insecureBytes();
  const vd = checkArgs(p, validationData);
  if (offset.length !== p.length) return false;
  const nat = naturalPin(pvk, table, vd, p.length);
  let diff = 0;
  for (let i = 0; i < p.length; i++) diff |= ((nat[i] + offset[i]) % 10) ^ p[i]; // no early exit
  nat.fill(0);
  return diff === 0;
}
