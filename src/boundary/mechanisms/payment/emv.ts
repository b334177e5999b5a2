// EMV issuer cryptography (EMV 4.4 Book 2 Annex A1): ICC master key derivation options A and B,
// the common session key and Mastercard SKD, ARQC/TC/AAC verification (ISO 9797-1 MAC alg 3) and
// ARPC methods 1 and 2. Derived keys are transient LoadedKeys, destroyed by the caller after use.

import { createHash } from 'node:crypto';
import { HsmError } from '../../errors.js';
import { loadSymmetricKey } from '../../keytypes/symmetric.js';
import type { LoadedKey } from '../../types.js';
import { retailMac } from '../iso9797-mac.js';
import { tagMatches } from '../cmac.js';
import { digits, ecb, hexField, nibbles, TDES_ONLY, xorInto } from './block.js';

/** FIPS 46-3 §1: odd parity in each byte's low bit. */
function oddParity(b: Buffer): void {
  for (let i = 0; i < b.length; i++) {
    let v = b[i] & 0xfe;
    let ones = 0;
    for (let x = v; x !== 0; x >>= 1) ones += x & 1;
    if (ones % 2 === 0) v |= 1;
    b[i] = v;
  }
}

/** Z = TDES(K)[Y] ‖ TDES(K)[Y ⊕ FF..FF] with odd parity (Book 2 A1.4.1 steps 2-3). */
function leftRight(key: LoadedKey, y: Buffer): LoadedKey {
  const yr = Buffer.from(y);
  for (let i = 0; i < 8; i++) yr[i] ^= 0xff;
  const z = ecb(key, Buffer.concat([y, yr]), 'encrypt', TDES_ONLY); // ECB: both blocks in one call, no loose halves to zero
  oddParity(z);
  const out = loadSymmetricKey('des2', z);
  z.fill(0);
  return out;
}

function panPsn(pan: string, psn: string): string {
  digits(pan, 'PAN', 12, 19);
  digits(psn, 'PAN sequence number', 2, 2);
  return `${pan}${psn}`;
}

/** Book 2 A1.4.1 (option A): Y = rightmost 16 digits of PAN ‖ PSN, left-padded with zeros. */
export function iccMasterKeyA(imk: LoadedKey, pan: string, psn: string): LoadedKey {
  return leftRight(imk, Buffer.from(panPsn(pan, psn).slice(-16).padStart(16, '0'), 'hex'));
}

/** Book 2 A1.4.2 (option B): PANs of 17-19 digits go through SHA-1 and decimalisation; shorter ones use option A. */
export function iccMasterKeyB(imk: LoadedKey, pan: string, psn: string): LoadedKey {
  const x = panPsn(pan, psn);
  if (pan.length <= 16) return iccMasterKeyA(imk, pan, psn);
  const h = nibbles(createHash('sha1').update(Buffer.from(x.length % 2 ? `0${x}` : x, 'hex')).digest());
  // decimal nibbles left to right, then A-F mapped to 0-5, first 16 digits
  const y = [...h.filter((n) => n <= 9), ...h.filter((n) => n > 9).map((n) => n - 10)].slice(0, 16).join('');
  return leftRight(imk, Buffer.from(y, 'hex'));
}

/** Book 2 A1.3.1 common session key: SK = TDES(MK)[R with R2=F0] ‖ TDES(MK)[R with R2=0F]. */
export function sessionKeyCommon(mk: LoadedKey, r: unknown): LoadedKey {
  const rb = hexField(r, 'R', 8);
  const left = Buffer.from(rb);
  left[2] = 0xf0;
  const right = Buffer.from(rb);
  right[2] = 0x0f;
  const z = ecb(mk, Buffer.concat([left, right]), 'encrypt', TDES_ONLY); // ECB: both blocks in one call
  oddParity(z);
  const out = loadSymmetricKey('des2', z);
  z.fill(0);
  return out;
}

/** Mastercard SKD (M/Chip): R = ATC ‖ 0000 ‖ UN, then the common session key derivation. */
export function sessionKeyMastercard(mk: LoadedKey, atc: unknown, un: unknown): LoadedKey {
  return sessionKeyCommon(mk, Buffer.concat([hexField(atc, 'ATC', 2), Buffer.alloc(2), hexField(un, 'UN', 4)]));
}

export type AcPadding = 'emv' | 'visa';

/** The application cryptogram: ISO 9797-1 MAC alg 3 under the session key; padding method 2 (EMV) or 1 (Visa CVN 10). */
export function applicationCryptogram(sk: LoadedKey, data: Uint8Array, padding: AcPadding): Buffer {
  if (padding !== 'emv' && padding !== 'visa') throw new HsmError('MECHANISM_PARAM_INVALID', 'padding is emv or visa');
  return retailMac(sk, data, padding === 'emv' ? 2 : 1);
}

export function verifyCryptogram(sk: LoadedKey, data: Uint8Array, padding: AcPadding, arqc: Uint8Array): boolean {
  return tagMatches(applicationCryptogram(sk, data, padding), arqc);
}

/** Book 2 A1.2.1 ARPC method 1: TDES(key)[ARQC ⊕ (ARC ‖ 00..00)]. */
export function arpcMethod1(key: LoadedKey, arqc: unknown, arc: unknown): Buffer {
  const x = hexField(arqc, 'ARQC', 8);
  xorInto(x, Buffer.concat([hexField(arc, 'ARC', 2), Buffer.alloc(6)]));
  return ecb(key, x, 'encrypt', TDES_ONLY);
}

/** Book 2 A1.2.2 ARPC method 2: leftmost 4 bytes of MAC alg 3 (padding 2) over ARQC ‖ CSU ‖ proprietary data. */
export function arpcMethod2(key: LoadedKey, arqc: unknown, csu: unknown, proprietary: Uint8Array): Buffer {
  if (proprietary.length > 8) throw new HsmError('MECHANISM_PARAM_INVALID', 'proprietary authentication data is 0-8 bytes');
  const mac = retailMac(key, Buffer.concat([hexField(arqc, 'ARQC', 8), hexField(csu, 'CSU', 4), proprietary]), 2);
  const out = Buffer.from(mac.subarray(0, 4));
  mac.fill(0);
  return out;
}
