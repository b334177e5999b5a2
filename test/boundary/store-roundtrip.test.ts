// Round trip through the sealed store on both backends: what is put comes back equal after
// seal/unseal and reopen, the wrong master key is told apart from tamper, transactions are
// atomic, attribute changes re-seal material, and the audit chain links.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isHsmError } from '../../src/boundary/errors.js';
import { SecretBytes } from '../../src/boundary/secret.js';
import { verifyAuditChain } from '../../src/boundary/store/audit-chain.js';
import type { Vault } from '../../src/boundary/store/types.js';
import { openVault, type VaultOptions } from '../../src/boundary/store/vault.js';
import {
  MASTER_BYTES,
  masterKey,
  OTHER_MASTER_BYTES,
  partition,
  secretValue,
  storedObject,
  tempDir,
  user,
} from '../support/store-fixtures.js';

function material(entries: [number, Uint8Array][]): Map<number, SecretBytes> {
  return new Map(entries.map(([v, b]) => [v, SecretBytes.from(b)]));
}

function secretOf(vault: Vault, uid: string, version: number): Uint8Array | undefined {
  const obj = vault.getObject(uid);
  assert.ok(obj, `object ${uid} present`);
  const s = vault.loadSecret(obj, version);
  if (!s) return undefined;
  const copy = Uint8Array.from(s.insecureBytes());
  s.destroy();
  return copy;
}

function populate(vault: Vault): void {
  vault.transaction(() => {
    vault.putPartition(partition('p1'));
    vault.putPartition(partition('p2'));
    vault.putUser(user('alice', 'p1'));
    vault.putUser(user('root'));
    vault.putObject(storedObject('k1', 'p1'), material([[1, secretValue('k1v1')]]));
    vault.putObject(storedObject('k2', 'p1', { sign: true, verify: true, encrypt: false, decrypt: false }), material([[1, secretValue('k2v1')]]));
    vault.putObject(storedObject('pub', 'p2', { class: 'public-key', keyType: 'ec', sensitive: false }));
  });
}

function checkContents(vault: Vault): void {
  assert.deepEqual(vault.getPartition('p1'), partition('p1'));
  assert.deepEqual(
    vault.listPartitions().map((p) => p.name),
    ['p1', 'p2'],
  );
  assert.deepEqual(vault.getUser('alice'), user('alice', 'p1'));
  assert.deepEqual(vault.getUser('root'), user('root'));
  assert.equal(vault.listUsers().length, 2);
  assert.deepEqual(vault.getObject('k1'), storedObject('k1', 'p1'));
  assert.deepEqual(
    vault.listObjects('p1').map((o) => o.uid),
    ['k1', 'k2'],
  );
  assert.equal(vault.countObjects(), 3);
  assert.equal(vault.countObjects('p1'), 2);
  assert.deepEqual(secretOf(vault, 'k1', 1), secretValue('k1v1'));
  assert.deepEqual(secretOf(vault, 'k2', 1), secretValue('k2v1'));
  assert.equal(secretOf(vault, 'pub', 1), undefined);
  assert.equal(vault.getObject('nope'), undefined);
}

const backends: { name: string; make: () => { options: VaultOptions; cleanup: () => void } }[] = [
  { name: 'memory', make: () => ({ options: { kind: 'memory' }, cleanup: () => {} }) },
  {
    name: 'sqlite',
    make: () => {
      const t = tempDir();
      return { options: { kind: 'sqlite', path: `${t.dir}/store.db` }, cleanup: t.cleanup };
    },
  },
];

for (const backend of backends) {
  describe(`vault round trip (${backend.name})`, () => {
    test('initialize, put, seal, unseal with the right key: everything reads back equal', () => {
      const { options, cleanup } = backend.make();
      const vault = openVault(options);
      try {
        assert.equal(vault.initialized, false);
        assert.throws(() => vault.unseal(masterKey()), (e) => isHsmError(e, 'NOT_INITIALIZED'));
        vault.initialize(masterKey());
        assert.equal(vault.initialized, true);
        assert.equal(vault.unsealed, true);
        assert.throws(() => vault.initialize(masterKey()), (e) => isHsmError(e, 'ALREADY_INITIALIZED'));
        populate(vault);
        checkContents(vault);
        vault.seal();
        assert.equal(vault.unsealed, false);
        assert.throws(() => vault.getObject('k1'), (e) => isHsmError(e, 'SEALED'));
        assert.throws(() => vault.unseal(masterKey(OTHER_MASTER_BYTES)), (e) => isHsmError(e, 'ARGUMENTS_BAD') && /wrong master key/.test(e.message));
        assert.equal(vault.unsealed, false);
        vault.unseal(masterKey());
        checkContents(vault);
      } finally {
        vault.close();
        cleanup();
      }
    });

    test('a transaction that throws writes nothing, nested calls join it', () => {
      const { options, cleanup } = backend.make();
      const vault = openVault(options);
      try {
        vault.initialize(masterKey());
        populate(vault);
        assert.throws(
          () =>
            vault.transaction(() => {
              vault.putObject(storedObject('k3', 'p1'), material([[1, secretValue('k3')]]));
              vault.transaction(() => vault.putPartition(partition('p3')));
              vault.deleteObject('k1');
              vault.appendAudit({ actor: 'alice', op: 'key.generate', outcome: 'ok', target: 'k3' });
              throw new Error('boom');
            }),
          /boom/,
        );
        assert.equal(vault.getObject('k3'), undefined);
        assert.equal(vault.getPartition('p3'), undefined);
        assert.equal(vault.listAudit().length, 0);
        checkContents(vault);
        // The store is still internally consistent: the integrity scan passes.
        vault.seal();
        vault.unseal(masterKey());
        checkContents(vault);
        // An async callback is a bug: refused, and nothing is written.
        assert.throws(
          () =>
            vault.transaction(() => {
              vault.putPartition(partition('p4'));
              return Promise.resolve();
            }),
          TypeError,
        );
        assert.equal(vault.getPartition('p4'), undefined);
      } finally {
        vault.close();
        cleanup();
      }
    });

    test('changing a bound attribute re-seals every stored version; rotation appends', () => {
      const { options, cleanup } = backend.make();
      const vault = openVault(options);
      try {
        vault.initialize(masterKey());
        populate(vault);
        // Objects the vault returns are shared and frozen; a change starts from a copy.
        assert.throws(() => vault.getObject('k1')!.versions.push({ version: 9, createdAt: '' }), TypeError);
        const k1 = structuredClone(vault.getObject('k1')!);
        k1.versions.push({ version: 2, createdAt: '2025-02-01T00:00:00.000Z' });
        k1.meta.currentVersion = 2;
        k1.revision = 2;
        vault.putObject(k1, material([[2, secretValue('k1v2')]]));
        assert.throws(() => vault.putObject(k1, material([[2, secretValue('other')]])), TypeError);
        const changed = { ...k1, attrs: { ...k1.attrs, extractable: true, sensitive: true }, revision: 3 };
        vault.putObject(changed);
        assert.deepEqual(vault.getObject('k1'), changed);
        assert.deepEqual(secretOf(vault, 'k1', 1), secretValue('k1v1'));
        assert.deepEqual(secretOf(vault, 'k1', 2), secretValue('k1v2'));
        // Moving an object to another partition re-seals under that partition's key.
        vault.putObject({ ...changed, partition: 'p2', revision: 4 });
        assert.deepEqual(secretOf(vault, 'k1', 2), secretValue('k1v2'));
        assert.deepEqual(
          vault.listObjects('p2').map((o) => o.uid),
          ['k1', 'pub'],
        );
        vault.seal();
        vault.unseal(masterKey());
        assert.deepEqual(secretOf(vault, 'k1', 1), secretValue('k1v1'));
        // An object in a partition that does not exist is refused.
        assert.throws(() => vault.putObject(storedObject('x', 'nope')), (e) => isHsmError(e, 'PARTITION_NOT_FOUND'));
      } finally {
        vault.close();
        cleanup();
      }
    });

    test('deletes remove rows and the integrity scan still passes', () => {
      const { options, cleanup } = backend.make();
      const vault = openVault(options);
      try {
        vault.initialize(masterKey());
        populate(vault);
        vault.deleteObject('k2');
        vault.deleteUser('alice');
        vault.deletePartition('p2');
        assert.equal(vault.getObject('k2'), undefined);
        assert.equal(vault.getObject('pub'), undefined, 'objects of a deleted partition go with it');
        assert.equal(vault.getUser('alice'), undefined);
        assert.equal(vault.countObjects(), 1);
        vault.seal();
        vault.unseal(masterKey());
        assert.deepEqual(secretOf(vault, 'k1', 1), secretValue('k1v1'));
        // Re-creating a deleted partition gets a fresh key and works.
        vault.putPartition(partition('p2'));
        vault.putObject(storedObject('k9', 'p2'), material([[1, secretValue('k9')]]));
        assert.deepEqual(secretOf(vault, 'k9', 1), secretValue('k9'));
      } finally {
        vault.close();
        cleanup();
      }
    });

    test('audit records are hash-chained, committed with the caller, and listed by range', () => {
      const { options, cleanup } = backend.make();
      const vault = openVault(options);
      try {
        vault.initialize(masterKey());
        const r1 = vault.appendAudit({ actor: 'system', op: 'initialize', outcome: 'ok' });
        assert.equal(r1.seq, 1);
        assert.equal(r1.prevHash, '0'.repeat(64));
        vault.transaction(() => {
          vault.putPartition(partition('p1'));
          vault.appendAudit({ actor: 'admin', op: 'partition.create', target: 'p1', outcome: 'ok' });
        });
        vault.appendAudit({ actor: 'alice', partition: 'p1', op: 'login', outcome: 'refused', code: 'PIN_INCORRECT', detail: 'bad password' });
        const all = vault.listAudit();
        assert.equal(all.length, 3);
        assert.deepEqual(verifyAuditChain(all), { ok: true, last: { seq: 3, hash: all[2]!.hash } });
        assert.deepEqual(
          vault.listAudit(2, 1).map((r) => r.seq),
          [2],
        );
        vault.seal();
        vault.unseal(masterKey());
        const again = vault.listAudit();
        assert.deepEqual(again, all);
        const forged = again.map((r) => ({ ...r }));
        forged[1]!.outcome = 'refused';
        const verdict = verifyAuditChain(forged);
        assert.equal(verdict.ok, false);
        assert.equal(!verdict.ok && verdict.seq, 2);
      } finally {
        vault.close();
        cleanup();
      }
    });
  });
}

test('sqlite vault persists across close and reopen', () => {
  const t = tempDir();
  try {
    const path = `${t.dir}/store.db`;
    const v1 = openVault({ kind: 'sqlite', path });
    v1.initialize(masterKey());
    populate(v1);
    v1.close();
    const v2 = openVault({ kind: 'sqlite', path });
    assert.equal(v2.initialized, true);
    assert.equal(v2.unsealed, false);
    assert.throws(() => v2.unseal(SecretBytes.from(OTHER_MASTER_BYTES)), (e) => isHsmError(e, 'ARGUMENTS_BAD'));
    assert.throws(() => v2.unseal(SecretBytes.from(MASTER_BYTES.subarray(0, 16))), (e) => isHsmError(e, 'ARGUMENTS_BAD'));
    v2.unseal(masterKey());
    checkContents(v2);
    v2.close();
  } finally {
    t.cleanup();
  }
});
