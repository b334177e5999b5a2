// Key fields on the host-command wire. payShield carries keys encrypted under its LMK; Coffer's keys
// never leave the boundary, so a key field carries a reference instead (docs/hostcmd.md):
//   'R' + 2 decimal digits n + n characters: a stored key's id or `alias/<name>`.
// A malformed field answers the row's key error code (10 first key, 11 second …), as payShield
// answers a key parity error.

import { HostError } from './host-error.js';

const REF = /^[A-Za-z0-9/_.:-]+$/;

export function decodeKeyField(body: Buffer, at: number, error: string): { ref: string; next: number } {
  const scheme = body[at];
  if (scheme === 0x52 /* R */) {
    const lenText = body.subarray(at + 1, at + 3).toString('latin1');
    if (!/^[0-9]{2}$/.test(lenText)) throw new HostError(error, 'key reference length');
    const n = Number(lenText);
    if (n === 0 || at + 3 + n > body.length) throw new HostError(error, 'key reference truncated');
    const ref = body.subarray(at + 3, at + 3 + n).toString('latin1');
    if (!REF.test(ref)) throw new HostError(error, 'key reference characters');
    return { ref, next: at + 3 + n };
  }
  throw new HostError(error, 'unknown key scheme');
}

/** The wire form of a key reference (for responses such as A0's new key). */
export function encodeKeyRef(ref: string): string {
  if (!REF.test(ref) || ref.length > 99) throw new RangeError('key reference cannot be encoded');
  return `R${String(ref.length).padStart(2, '0')}${ref}`;
}
