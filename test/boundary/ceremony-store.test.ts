// Vault.rotateMasterKey and the system table at the store level: a rotation that fails inside
// rolls back whole (the old key still opens everything, the new one nothing); a committed one
// survives a reopen under the new key and refuses the old; a tampered row is never re-tagged; a
// system row is verified at unseal like any other.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { isHsmError } from '../../src/boundary/errors.js';
import type { Vault } from '../../src/boundary/store/types.js';
import { openVault } from '../../src/boundary/store/vault.js';
import { masterKey, OTHER_MASTER_BYTES, partition, secretValue, storedObject, tempDir } from '../support/store-fixtures.js';
import { SecretBytes } from '../../src/boundary/secret.js';

function populate(v: Vault): void {
  v.putPartition(partition('p1'));
  v.putPartition(partition('p2'));
  v.putObject(storedObject('k1', 'p1'), new Map([[1, SecretBytes.from(secretValue('k1'))]]));
  v.putObject(storedObject('k2', 'p2'), new Map([[1, SecretBytes.from(secretValue('k2'))]]));
  v.putSystemRecord('note', '{"a":1}');
  v.appendAudit({ actor: 'system', op: 'test', outcome: 'ok' });
}

function expectSecrets(v: Vault): void {
  for (const uid of ['k1', 'k2']) {
    const o = v.getObject(uid)!;
    assert.deepEqual(Uint8Array.from(v.loadSecret(o, 1)!.insecureBytes()), secretValue(uid), `${uid} opens`);
  }
}

test('a rotation that throws inside rolls back whole', () => {
  const { dir, cleanup } = tempDir();
  try {
    const path = join(dir, 'v.db');
    const v = openVault({ kind: 'sqlite', path });
    v.initialize(masterKey());
    populate(v);
    assert.throws(() => v.rotateMasterKey(masterKey(OTHER_MASTER_BYTES), () => {
      v.putSystemRecord('ceremony', '{}');
      throw new RangeError('boom');
    }), RangeError);
    expectSecrets(v);
    assert.equal(v.getSystemRecord('ceremony'), undefined);
    v.putSystemRecord('after', '1'); // the vault still writes under the old key
    v.close();
    const again = openVault({ kind: 'sqlite', path });
    assert.equal(again.matchesMasterKey(masterKey(OTHER_MASTER_BYTES)), false);
    again.unseal(masterKey());
    expectSecrets(again);
    assert.equal(again.getSystemRecord('after')?.body, '1');
    again.close();
  } finally {
    cleanup();
  }
});

test('a committed rotation reopens under the new key only; its own writes commit with it', () => {
  const { dir, cleanup } = tempDir();
  try {
    const path = join(dir, 'v.db');
    const v = openVault({ kind: 'sqlite', path });
    v.initialize(masterKey());
    populate(v);
    v.rotateMasterKey(masterKey(OTHER_MASTER_BYTES), () => v.putSystemRecord('ceremony', '{"epoch":2}'));
    expectSecrets(v);
    v.putPartition(partition('p3')); // later writes go under the new keys and the anchor follows
    v.close();
    const again = openVault({ kind: 'sqlite', path });
    assert.equal(again.peekSystemRecord('ceremony'), '{"epoch":2}', 'readable while sealed');
    assert.equal(again.matchesMasterKey(masterKey()), false);
    assert.throws(() => again.unseal(masterKey()), (e) => isHsmError(e, 'ARGUMENTS_BAD'));
    again.unseal(masterKey(OTHER_MASTER_BYTES));
    expectSecrets(again);
    assert.deepEqual(again.listPartitions().map((p) => p.name).sort(), ['p1', 'p2', 'p3']);
    assert.equal(again.listAudit().length, 1, 'the audit chain is carried over');
    again.close();
  } finally {
    cleanup();
  }
});

test('rotation never launders a tampered row, and a system row edited while sealed is tamper at unseal', () => {
  const { dir, cleanup } = tempDir();
  try {
    const path = join(dir, 'v.db');
    let v = openVault({ kind: 'sqlite', path });
    v.initialize(masterKey());
    populate(v);
    const db = new Database(path);
    db.prepare("UPDATE objects SET body = replace(body, 'payments', 'paymentz') WHERE uid = 'k1'").run();
    assert.throws(() => v.rotateMasterKey(masterKey(OTHER_MASTER_BYTES)), (e) => isHsmError(e, 'TAMPER_DETECTED'));
    db.prepare("UPDATE objects SET body = replace(body, 'paymentz', 'payments') WHERE uid = 'k1'").run();
    v.close();
    v = openVault({ kind: 'sqlite', path });
    v.unseal(masterKey()); // the failed rotation changed nothing
    v.close();
    db.prepare("UPDATE system SET body = '{\"a\":2}' WHERE name = 'note'").run();
    db.close();
    v = openVault({ kind: 'sqlite', path });
    assert.equal(v.peekSystemRecord('note'), '{"a":2}', 'a peek is unverified');
    assert.throws(() => v.unseal(masterKey()), (e) => isHsmError(e, 'TAMPER_DETECTED'));
    v.close();
  } finally {
    cleanup();
  }
});
