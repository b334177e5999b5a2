// Test support: what a terminal, a card or a peer switch computes outside the HSM, written from the
// specifications with node:crypto, so the host-command tests check Coffer against an independent
// computation (ISO 9564-1 format 0, ISO/IEC 9797-1 MAC algorithm 3, EMV Book 2 A1.4.1 and the
// Mastercard session key derivation, ARPC method 1).

import { createCipheriv, createDecipheriv } from 'node:crypto';

export const H = (x: string): Buffer => Buffer.from(x, 'hex');

function cipher(key: Buffer): string {
  return key.length === 24 ? 'des-ede3' : 'des-ede';
}

export function tdesEcb(key: Buffer, data: Buffer, decrypt = false): Buffer {
  const c = decrypt ? createDecipheriv(`${cipher(key)}-ecb`, key, null) : createCipheriv(`${cipher(key)}-ecb`, key, null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]);
}

/** ISO 9564-1 format 0 clear block: 0 ‖ length ‖ PIN ‖ F fill, XOR 0000 ‖ the 12 account digits. */
export function iso0Clear(pin: string, account12: string): Buffer {
  const p = H(`0${pin.length.toString(16)}${pin}`.padEnd(16, 'F'));
  const a = H(`0000${account12}`);
  return Buffer.from(p.map((x, i) => x ^ (a[i] ?? 0)));
}

export function iso0Block(zpk: Buffer, pin: string, account12: string): Buffer {
  return tdesEcb(zpk, iso0Clear(pin, account12));
}

/** ISO/IEC 9797-1 MAC algorithm 3 (retail MAC), padding method 1 or 2, with single DES as DES-EDE of K‖K. */
export function retailMac(key: Buffer, data: Buffer, padding: 1 | 2): Buffer {
  const kl = key.subarray(0, 8);
  const kr = key.subarray(8, 16);
  const single = (k: Buffer) => Buffer.concat([k, k]);
  let d = padding === 2 ? Buffer.concat([data, Buffer.from([0x80])]) : data;
  const rem = d.length % 8;
  if (rem !== 0 || d.length === 0) d = Buffer.concat([d, Buffer.alloc(rem === 0 ? 8 : 8 - rem)]);
  let h: Buffer = Buffer.alloc(8);
  for (let i = 0; i < d.length; i += 8) h = tdesEcb(single(kl), Buffer.from(h.map((x, j) => x ^ (d[i + j] ?? 0))));
  return tdesEcb(single(kl), tdesEcb(single(kr), h, true));
}

/** EMV Book 2 A1.4.1 option A: MK = TDES(IMK, Y) ‖ TDES(IMK, Y ⊕ FF…), Y = rightmost 16 digits of PAN ‖ PSN. */
export function iccMasterKeyA(imk: Buffer, panPsn16: string): Buffer {
  const y = H(panPsn16);
  return Buffer.concat([tdesEcb(imk, y), tdesEcb(imk, Buffer.from(y.map((x) => x ^ 0xff)))]);
}

/** Mastercard session key derivation: R = ATC ‖ 0000 ‖ UN; SK = TDES(MK, R with byte 2 = F0) ‖ TDES(MK, R with byte 2 = 0F). */
export function sessionKeyMastercard(mk: Buffer, atc: Buffer, un: Buffer): Buffer {
  const r = Buffer.concat([atc, Buffer.alloc(2), un]);
  const left = Buffer.from(r);
  left[2] = 0xf0;
  const right = Buffer.from(r);
  right[2] = 0x0f;
  return Buffer.concat([tdesEcb(mk, left), tdesEcb(mk, right)]);
}

/** ARPC method 1 (EMV Book 2 A1.2.1): TDES(key, ARQC ⊕ (ARC ‖ 000000000000)). */
export function arpcMethod1(key: Buffer, arqc: Buffer, arc: Buffer): Buffer {
  const x = Buffer.from(arqc);
  x[0] = (x[0] ?? 0) ^ (arc[0] ?? 0);
  x[1] = (x[1] ?? 0) ^ (arc[1] ?? 0);
  return tdesEcb(key, x);
}
