// Integrity tags for stored rows and the header. Every field is length-prefixed before it is
// MAC'd, so no two different rows share an encoding. The set digest is an incremental XOR-MAC
// (Bellare–Guérin–Rogaway 1995): XOR over rows of HMAC(storeMacKey, 'member' ‖ table ‖ key ‖ tag),
// updated in O(1) per row change and committing to exactly which rows exist.

import { createHmac, type Hmac, type KeyObject } from 'node:crypto';
import type { HeaderRow, Row, Table } from './backend.js';

export const DIGEST_BYTES = 32;

function field(h: Hmac, value: Uint8Array | string | null): void {
  if (value === null) {
    h.update(Buffer.from([0]));
    return;
  }
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const len = Buffer.alloc(5);
  len[0] = 1; // present (distinguishes null from empty)
  len.writeUInt32BE(bytes.length, 1);
  h.update(len);
  h.update(bytes);
}

export function rowTag(macKey: KeyObject, table: Table, row: Omit<Row, 'tag'>): Buffer {
  const h = createHmac('sha256', macKey);
  field(h, 'row');
  field(h, table);
  field(h, row.key);
  field(h, row.group);
  field(h, row.body);
  field(h, row.blob);
  field(h, row.revision === null ? null : String(row.revision));
  return h.digest();
}

export function memberHash(macKey: KeyObject, table: Table, key: string, tag: Uint8Array): Buffer {
  const h = createHmac('sha256', macKey);
  field(h, 'member');
  field(h, table);
  field(h, key);
  field(h, tag);
  return h.digest();
}

export function headerTag(macKey: KeyObject, header: Omit<HeaderRow, 'tag'>): Buffer {
  const h = createHmac('sha256', macKey);
  field(h, 'header');
  field(h, String(header.format));
  field(h, String(header.counter));
  field(h, header.setDigest);
  field(h, header.keyCheck);
  return h.digest();
}

/** acc ^= x, in place. */
export function xorInto(acc: Buffer, x: Uint8Array): void {
  if (x.length !== acc.length) throw new RangeError('xorInto: length mismatch');
  for (let i = 0; i < acc.length; i++) acc[i]! ^= x[i]!;
}
