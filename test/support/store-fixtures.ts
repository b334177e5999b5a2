// Fixtures for the sealed-store tests: complete StoredObject/PartitionRecord/UserRecord values,
// temporary directories and a fixed master key. Test-only; nothing here is secret.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretBytes } from '../../src/boundary/secret.js';
import type { Attributes, PartitionRecord, StoredObject, UserRecord } from '../../src/boundary/types.js';

export const MASTER_BYTES = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
export const OTHER_MASTER_BYTES = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);

export function masterKey(bytes: Uint8Array = MASTER_BYTES): SecretBytes {
  return SecretBytes.from(bytes);
}

export function tempDir(prefix = 'coffer-store-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function partition(name: string): PartitionRecord {
  return { name, label: `partition ${name}`, createdAt: '2025-01-01T00:00:00.000Z', fipsApprovedOnly: false };
}

export function user(name: string, part?: string): UserRecord {
  const u: UserRecord = {
    name,
    role: part ? 'user' : 'admin',
    passwordHash: 'scrypt$16384$8$1$c2FsdA==$aGFzaA==',
    failedLogins: 0,
    locked: false,
    createdAt: '2025-01-01T00:00:00.000Z',
  };
  if (part) u.partition = part;
  return u;
}

export function attributes(overrides: Partial<Attributes> = {}): Attributes {
  return {
    class: 'secret-key',
    keyType: 'aes',
    label: 'test key',
    id: Uint8Array.from([1, 2, 3]),
    token: true,
    private: true,
    modifiable: true,
    copyable: false,
    destroyable: true,
    sign: false,
    verify: false,
    encrypt: true,
    decrypt: true,
    wrap: false,
    unwrap: false,
    derive: false,
    encapsulate: false,
    decapsulate: false,
    sensitive: true,
    extractable: false,
    alwaysSensitive: true,
    neverExtractable: true,
    local: true,
    trusted: false,
    wrapWithTrusted: false,
    valueLen: 32,
    auditUse: false,
    ...overrides,
  };
}

export function storedObject(uid: string, part: string, overrides: Partial<Attributes> = {}): StoredObject {
  return {
    uid,
    partition: part,
    attrs: attributes(overrides),
    meta: {
      state: 'enabled',
      aliases: [],
      tags: { team: 'payments' },
      owner: 'alice',
      createdAt: '2025-01-01T00:00:00.000Z',
      updatedAt: '2025-01-01T00:00:00.000Z',
      currentVersion: 1,
      usage: {},
    },
    versions: [{ version: 1, createdAt: '2025-01-01T00:00:00.000Z' }],
    revision: 1,
  };
}

/** Deterministic 32-byte "key value" per label, so tests can compare what comes back. */
export function secretValue(label: string): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = (label.charCodeAt(i % label.length) * 31 + i) & 0xff;
  return out;
}
