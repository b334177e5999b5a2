// Key fields on the host-command wire. payShield carries keys encrypted under its LMK; Coffer's keys
// never leave the boundary, so a key field carries one of (docs/hostcmd.md):
//   'R' + 2 decimal digits n + n characters: a stored key's id or `alias/<name>`;
//   'S' + a TR-31 key block: the block's own header gives its length (characters 2-5, X9.143 §6.2);
//        as a working key it is opened under the partition's KBPK inside the boundary, and as the
//        key of an import (A6) under the ZMK named beside it.
// A malformed field answers the row's key error code (10 first key, 11 second …), as payShield
// answers a key parity error.

import { HostError } from './host-error.js';

export type KeyField = string | { keyBlock: string };

const REF = /^[A-Za-z0-9/_.:-]+$/;
/** TR-31 blocks are printable ASCII (X9.143 §6.1); the length is four decimal digits. */
const BLOCK = /^[\x20-\x7e]+$/;
const MIN_BLOCK = 16 + 16; // header and at least one cipher block

export function decodeKeyField(body: Buffer, at: number, error: string): { key: KeyField; next: number } {
  const scheme = body[at];
  if (scheme === 0x52 /* R */) {
    const lenText = body.subarray(at + 1, at + 3).toString('latin1');
    if (!/^[0-9]{2}$/.test(lenText)) throw new HostError(error, 'key reference length');
    const n = Number(lenText);
    if (n === 0 || at + 3 + n > body.length) throw new HostError(error, 'key reference truncated');
    const ref = body.subarray(at + 3, at + 3 + n).toString('latin1');
    if (!REF.test(ref)) throw new HostError(error, 'key reference characters');
    return { key: ref, next: at + 3 + n };
  }
  if (scheme === 0x53 /* S */) {
    const lenText = body.subarray(at + 2, at + 6).toString('latin1');
    if (!/^[0-9]{4}$/.test(lenText)) throw new HostError(error, 'key block length');
    const n = Number(lenText);
    if (n < MIN_BLOCK || at + 1 + n > body.length) throw new HostError(error, 'key block truncated');
    const keyBlock = body.subarray(at + 1, at + 1 + n).toString('latin1');
    if (!BLOCK.test(keyBlock)) throw new HostError(error, 'key block characters');
    return { key: { keyBlock }, next: at + 1 + n };
  }
  throw new HostError(error, 'unknown key scheme');
}

/** The wire form of a stored key's reference (for responses such as A0's new key). */
export function encodeKeyRef(ref: string): string {
  if (!REF.test(ref) || ref.length > 99) throw new RangeError('key reference cannot be encoded');
  return `R${String(ref.length).padStart(2, '0')}${ref}`;
}

/** The wire form of a key block in a response: 'S' + the block. */
export function encodeKeyBlock(block: string): string {
  if (!BLOCK.test(block)) throw new RangeError('key block cannot be encoded');
  return `S${block}`;
}
