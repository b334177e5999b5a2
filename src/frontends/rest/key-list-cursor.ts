// The opaque cursor of GET /v1/keys: the last uid a page returned, so the next page starts
// after it in uid order (keys created during a walk may or may not appear; none appears twice).

import { HsmError } from '../../boundary/api.js';

const PREFIX = 'k1:';
const UID = /^[0-9a-f]{1,64}$/;
const CURSOR = /^[A-Za-z0-9_-]{1,120}$/;

export function encodeCursor(lastUid: string): string {
  return Buffer.from(PREFIX + lastUid, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): string {
  const text = CURSOR.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const uid = text.startsWith(PREFIX) ? text.slice(PREFIX.length) : '';
  if (!UID.test(uid) || encodeCursor(uid) !== cursor) throw new HsmError('ARGUMENTS_BAD', 'cursor is not one this API returned');
  return uid;
}

/** `limit` from the query string (strings there: the app does not coerce types). */
export function parseLimit(text: string | undefined, fallback = 100, max = 1000): number {
  if (text === undefined) return fallback;
  const n = /^[0-9]{1,4}$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= 1 && n <= max)) throw new HsmError('ARGUMENTS_BAD', `limit is 1 to ${max}`);
  return n;
}
