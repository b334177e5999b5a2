// The key-type registry: one descriptor per KeyType, from the family files.

import type { KeyType } from '../types.js';
import { KEY_TYPES as EC } from './ec.js';
import { KEY_TYPES as PQ } from './pq.js';
import { KEY_TYPES as RSA } from './rsa.js';
import { KEY_TYPES as SYMMETRIC } from './symmetric.js';
import type { KeyTypeDescriptor } from './types.js';

export const ALL_KEY_TYPES: readonly KeyTypeDescriptor[] = [...SYMMETRIC, ...RSA, ...EC, ...PQ];

const byType = new Map<KeyType, KeyTypeDescriptor>();
for (const k of ALL_KEY_TYPES) {
  if (byType.has(k.keyType)) throw new TypeError(`duplicate key type ${k.keyType}`);
  byType.set(k.keyType, k);
}

/** The descriptor of a key type; undefined when the type has none (a caller's bad input). */
export function keyTypeDescriptor(keyType: KeyType): KeyTypeDescriptor | undefined {
  return byType.get(keyType);
}
