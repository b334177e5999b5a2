// ISO 9564-1:2017 PIN blocks, formats 0, 1, 3 (8-byte, TDES) and 4 (16-byte, AES), built and parsed
// only inside the boundary. A clear PIN is a SecretBytes of digit values 0..9, never a string; every
// parse failure is the one uniform DECRYPT_FAILED so that format checks are no oracle (attacks.md C-05).

import { randomBytes, randomInt } from 'node:crypto';
import { HsmError } from '../../errors.js';
import { SecretBytes } from '../../secret.js';
import type { LoadedKey } from '../../types.js';
import { digits, ecb, nibbles, packNibbles, xorInto } from './block.js';

export type PinFormat = 'ISO0' | 'ISO1' | 'ISO3' | 'ISO4';
export const PIN_FORMATS: readonly PinFormat[] = ['ISO0', 'ISO1', 'ISO3', 'ISO4'];
/** Formats whose block is bound to the PAN (PCI PIN Req. 3 / attacks.md C-03). */
export const PAN_BOUND: readonly PinFormat[] = ['ISO0', 'ISO3', 'ISO4'];

export function pinFormat(v: unknown): PinFormat {
  if (typeof v !== 'string' || !PIN_FORMATS.includes(v as PinFormat)) throw new HsmError('MECHANISM_PARAM_INVALID', 'PIN block format is ISO0, ISO1, ISO3 or ISO4');
  return v as PinFormat;
}

const fail = (): HsmError => new HsmError('DECRYPT_FAILED');

function checkPinDigits(pin: Uint8Array): void {
  // ISO 9564-1 §9.1: 4 to 12 decimal digits.
  if (pin.length < 4 || pin.length > 12 || pin.some((d) => d > 9)) throw new HsmError('MECHANISM_PARAM_INVALID', 'a PIN is 4-12 decimal digits');
}

/** ISO 9564-1 §9.3.1: 0000 ‖ rightmost 12 PAN digits excluding the check digit (left-padded with 0). */
export function panField0(pan: string): Buffer {
  digits(pan, 'PAN', 1, 19);
  const body = pan.slice(0, -1).slice(-12).padStart(12, '0');
  return Buffer.from(`0000${body}`, 'hex');
}

/** ISO 9564-1 §9.4.2 (format 4): M (PAN length − 12, 0 if shorter) ‖ PAN (left-padded to 12) ‖ zero fill to 32 nibbles. */
export function panField4(pan: string): Buffer {
  digits(pan, 'PAN', 1, 19);
  const m = Math.max(0, pan.length - 12);
  const body = pan.length < 12 ? pan.padStart(12, '0') : pan;
  return Buffer.from(`${m}${body}`.padEnd(32, '0'), 'hex');
}

/** The fill nibbles a format needs after the PIN (ISO 9564-1 §9.3): F for 0, random 0-F for 1, random A-F for 3, A for 4. */
function fillFor(format: PinFormat, count: number, given?: readonly number[]): number[] {
  if (given) {
    if (given.length < count) throw new HsmError('MECHANISM_PARAM_INVALID', 'fill too short');
    return given.slice(0, count);
  }
  if (format === 'ISO0') return Array(count).fill(15);
  if (format === 'ISO4') return Array(count).fill(10);
  if (format === 'ISO3') return Array.from({ length: count }, () => 10 + randomInt(6));
  return Array.from({ length: count }, () => randomInt(16));
}

/**
 * The clear PIN block: 8 bytes for formats 0/1/3; for format 4 the 16-byte plain-text PIN field (it is
 * combined with the PAN field during encipherment, §9.4.3). `fill` fixes the random nibbles for tests.
 */
export function buildPinBlock(format: PinFormat, pin: SecretBytes, pan?: string, fill?: readonly number[]): Buffer {
  const p = pin.insecureBytes();
  checkPinDigits(p);
  const control = { ISO0: 0, ISO1: 1, ISO3: 3, ISO4: 4 }[format];
  const head = [control, p.length, ...p];
  // Format 4's `fill` is its 16 random nibbles (§9.4.2); its PIN-field fill is always A.
  const n = [...head, ...fillFor(format, 16 - head.length, format === 'ISO4' ? undefined : fill)];
  if (format === 'ISO4') {
    if (fill && fill.length !== 16) throw new HsmError('MECHANISM_PARAM_INVALID', 'format 4 fill is 16 nibbles');
    n.push(...(fill ?? nibbles(randomBytes(8)))); // §9.4.2: 64 bits of random fill
  }
  const block = packNibbles(n);
  n.fill(0);
  head.fill(0);
  if (format === 'ISO0' || format === 'ISO3') {
    if (pan === undefined) throw new HsmError('MECHANISM_PARAM_INVALID', 'this format needs the PAN');
    xorInto(block, panField0(pan));
  }
  return block;
}

/** Parses a clear PIN block (format 4: the clear PIN field). Any malformation → DECRYPT_FAILED, one code. */
export function parsePinBlock(format: PinFormat, clear: Uint8Array, pan?: string): SecretBytes {
  const block = Buffer.from(clear);
  try {
    if ((format === 'ISO4') !== (block.length === 16) || (format !== 'ISO4' && block.length !== 8)) throw fail();
    if (format === 'ISO0' || format === 'ISO3') {
      if (pan === undefined) throw new HsmError('MECHANISM_PARAM_INVALID', 'this format needs the PAN');
      xorInto(block, panField0(pan));
    }
    const n = nibbles(block.subarray(0, 8));
    const control = { ISO0: 0, ISO1: 1, ISO3: 3, ISO4: 4 }[format];
    const len = n[1];
    let ok = n[0] === control && len >= 4 && len <= 12;
    for (let i = 2; i < 2 + len && i < 16; i++) ok = ok && n[i] <= 9;
    for (let i = 2 + len; i < 16; i++) {
      if (format === 'ISO0') ok = ok && n[i] === 15;
      else if (format === 'ISO3') ok = ok && n[i] >= 10;
      else if (format === 'ISO4') ok = ok && n[i] === 10;
    }
    const pin = ok ? SecretBytes.from(Uint8Array.from(n.slice(2, 2 + len))) : undefined;
    n.fill(0);
    if (!pin) throw fail();
    return pin;
  } finally {
    block.fill(0);
  }
}

/** Encrypts a PIN block under a PIN key: TDES-ECB for 0/1/3, the ISO 9564-1 §9.4.3 AES chain for 4. */
export function encryptPinBlock(key: LoadedKey, format: PinFormat, clear: Uint8Array, pan?: string): Buffer {
  if (format !== 'ISO4') {
    if (key.keyType === 'aes') throw new HsmError('KEY_TYPE_INCONSISTENT', 'formats 0, 1 and 3 use a TDES key');
    return ecb(key, clear, 'encrypt', ['des2', 'des3']);
  }
  if (key.keyType !== 'aes' || pan === undefined) throw new HsmError(pan === undefined ? 'MECHANISM_PARAM_INVALID' : 'KEY_TYPE_INCONSISTENT', 'format 4 needs an AES key and the PAN');
  const a = ecb(key, clear, 'encrypt', ['aes']); // §9.4.3: intermediate block A = E(PIN field)
  xorInto(a, panField4(pan)); // B = A ⊕ PAN field
  const out = ecb(key, a, 'encrypt', ['aes']); // C = E(B)
  a.fill(0);
  return out;
}

/** The inverse of encryptPinBlock followed by parsePinBlock; every failure is DECRYPT_FAILED. */
export function decryptPinBlock(key: LoadedKey, format: PinFormat, enc: Uint8Array, pan?: string): SecretBytes {
  if (format !== 'ISO4' && key.keyType === 'aes') throw new HsmError('KEY_TYPE_INCONSISTENT', 'formats 0, 1 and 3 use a TDES key');
  if (format === 'ISO4' && key.keyType !== 'aes') throw new HsmError('KEY_TYPE_INCONSISTENT', 'format 4 uses an AES key');
  if (enc.length !== (format === 'ISO4' ? 16 : 8)) throw fail();
  if (pan !== undefined) digits(pan, 'PAN', 1, 19);
  let clear = ecb(key, enc, 'decrypt');
  if (format === 'ISO4') {
    if (pan === undefined) throw new HsmError('MECHANISM_PARAM_INVALID', 'format 4 needs the PAN');
    xorInto(clear, panField4(pan));
    const b = ecb(key, clear, 'decrypt', ['aes']);
    clear.fill(0);
    clear = b;
  }
  try {
    return parsePinBlock(format, clear, pan);
  } finally {
    clear.fill(0);
  }
}
