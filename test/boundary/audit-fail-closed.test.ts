// attacks.md D-11 (8) and issue 4: "if an audit record cannot be written, the operation fails".
// A trigger installed from a second SQLite connection makes every insert into the audit table
// fail (as a full disk would), with no test hook in the product: each key-management and account
// operation must then fail and leave the store exactly as it was.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { Hsm, SecretBytes } from '../../src/boundary/api.js';
import { PASSWORD, TEST_SCRYPT } from '../support/hsm.js';

test('attacks.md D-11 (8): when the audit append fails, key management and account changes fail and change nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-audit-fail-'));
  const master = SecretBytes.random(32);
  const path = join(dir, 'store.db');
  try {
    const hsm = await Hsm.open({ store: { kind: 'sqlite', path }, scrypt: TEST_SCRYPT, usageFlushMs: 3_600_000 });
    await hsm.initialize(master, { name: 'admin', password: PASSWORD });
    const admin = (await hsm.login({ user: 'admin', password: PASSWORD })).session;
    hsm.createPartition(admin, { name: 'p1' });
    await hsm.createUser(admin, { name: 'alice', password: PASSWORD, role: 'user', partition: 'p1' });
    const user = (await hsm.login({ user: 'alice', password: PASSWORD })).session;
    const kept = await hsm.generateKey(user, { template: { keyType: 'aes', valueLen: 32, token: true, encrypt: true, decrypt: true, label: 'kept' } });
    const audited = await hsm.generateKey(user, { template: { keyType: 'generic-secret', valueLen: 32, token: true, sign: true, auditUse: true } });
    const snapshot = async (): Promise<unknown> => ({
      partitions: hsm.listPartitions(admin).map((p) => p.name),
      users: hsm.listUsers(admin).map((u) => u.name),
      keys: (await hsm.findObjects(user, {})).sort(),
      kept: { ...(await hsm.getAttributes(user, kept)), usage: undefined },
    });
    const before = await snapshot();

    const db = new Database(path);
    db.exec("CREATE TRIGGER audit_full BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'disk full (test)'); END;");
    const attempts: [string, () => unknown][] = [
      ['createPartition', () => hsm.createPartition(admin, { name: 'p2' })],
      ['createUser', () => hsm.createUser(admin, { name: 'bob', password: PASSWORD, role: 'user', partition: 'p1' })],
      ['generateKey', () => hsm.generateKey(user, { template: { keyType: 'aes', valueLen: 32, token: true, encrypt: true } })],
      ['createObject', () => hsm.createObject(user, { class: 'secret-key', keyType: 'aes', value: new Uint8Array(32), token: true, encrypt: true })],
      ['setAttributes', () => hsm.setAttributes(user, kept, { label: 'changed' })],
      ['setKeyState', () => hsm.setKeyState(user, kept, 'disabled')],
      ['destroyObject', () => hsm.destroyObject(user, kept)],
      ['sign with auditUse', () => hsm.sign(user, { key: audited, mechanism: 'HMAC-SHA256', data: Buffer.from('x') })],
    ];
    for (const [name, op] of attempts) {
      await assert.rejects(async () => op(), `${name} must fail when its audit record cannot be written`);
    }
    db.exec('DROP TRIGGER audit_full');
    db.close();

    assert.deepEqual(await snapshot(), before, 'nothing changed');
    // And the store is intact: a full unseal verifies every row, the set digest and the anchor.
    hsm.close();
    const again = await Hsm.open({ store: { kind: 'sqlite', path }, scrypt: TEST_SCRYPT, masterKey: master });
    assert.equal(again.status().state, 'unsealed');
    again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
