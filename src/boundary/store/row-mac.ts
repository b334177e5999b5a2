// Integrity tags for stored rows and the header. Every field is length-prefixed before it is
// MAC'd, so no two different rows share an encoding. The set digest is an incremental XOR-MAC
// (Bellare–Guérin–Rogaway 1995): XOR over rows of HMAC(storeMacKey, 'member' ‖ table ‖ key ‖ tag),
// updated in O(1) per row change and committing to exactly which rows exist.

import { createHmac, type KeyObject } from 'node:crypto';
import type { HeaderRow, Row, Table } from './backend.js';

export const DIGEST_BYTES = 32;

type Field = Uint8Array | string | null;

/**
 * One HMAC over the length-prefixed fields: each is 0x00 (null) or 0x01 ‖ u32be length ‖ bytes.
 * The encoding is built in one buffer first: one update() is several times faster than many.
 */
function macFields(key: KeyObject, fields: readonly Field[]): Buffer {
  const parts = fields.map((f) => (f === null ? null : typeof f === 'string' ? Buffer.from(f, 'utf8') : f));
  let total = 0;
  for (const p of parts) total += p === null ? 1 : 5 + p.length;
  const buf = Buffer.allocUnsafe(total);
  let at = 0;
  for (const p of parts) {
    if (p === null) {
      buf[at++] = 0;
      continue;
    }
    buf[at] = 1; // present (distinguishes null from empty)
    buf.writeUInt32BE(p.length, at + 1);
    buf.set(p, at + 5);
    at += 5 + p.length;
  }
  return createHmac('sha256', key).update(buf).digest();
}

export function rowTag(macKey: KeyObject, table: Table, row: Omit<Row, 'tag'>): Buffer {
  return macFields(macKey, ['row', table, row.key, row.group, row.body, row.blob, row.revision === null ? null : String(row.revision)]);
}

export function memberHash(macKey: KeyObject, table: Table, key: string, tag: Uint8Array): Buffer {
  return macFields(macKey, ['member', table, key, tag]);
}

export function headerTag(macKey: KeyObject, header: Omit<HeaderRow, 'tag'>): Buffer {
  return macFields(macKey, ['header', String(header.format), String(header.counter), header.setDigest, header.keyCheck]);
}

/** acc ^= x, in place. */
export function xorInto(acc: Buffer, x: Uint8Array): void {
  if (x.length !== acc.length) throw new RangeError('xorInto: length mismatch');
  for (let i = 0; i < acc.length; i++) acc[i]! ^= x[i]!;
}
