// The audit trail (docs/audit.md): the Ed25519 audit key inside the boundary, checkpoints signed
// every N records and at seal/close/export, and exports of real sessions that verify offline.

import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { type AuditRecord, Hsm, SecretBytes, verifyAuditExport } from '../../src/boundary/api.js';
import { hashPassword } from '../../src/boundary/auth/passwords.js';
import { AUDIT_KEY_UID, SYSTEM_PARTITION } from '../../src/boundary/module/audit-trail.js';
import { checkpointPayload } from '../../src/boundary/store/audit-checkpoint.js';
import { openVault } from '../../src/boundary/store/vault.js';
import { expectCode } from '../support/expect-code.js';
import { PASSWORD, TEST_SCRYPT, testHsm } from '../support/hsm.js';

/** A session with some of everything: keys made and used, a refusal, failed logins. */
async function busySession(t: Awaited<ReturnType<typeof testHsm>>): Promise<void> {
  const { privateKey } = await t.hsm.generateKeyPair(t.user, { mechanism: 'EC-EDWARDS-KEY-PAIR-GEN', publicTemplate: { keyType: 'ec-edwards', curve: 'Ed25519' }, privateTemplate: { sign: true, auditUse: true } });
  for (let i = 0; i < 3; i++) await t.hsm.sign(t.user, { key: privateKey, mechanism: 'EDDSA', data: Buffer.from(`m${i}`) });
  const aes = await t.hsm.generateKey(t.user, { mechanism: 'AES-KEY-GEN', template: { keyType: 'aes', valueLen: 32, encrypt: true, decrypt: true } });
  await t.hsm.encrypt(t.user, { key: aes, mechanism: 'AES-GCM', data: Buffer.from('x') });
  await expectCode(() => t.hsm.sign(t.user, { key: aes, mechanism: 'EDDSA', data: Buffer.from('x') }), 'KEY_FUNCTION_NOT_PERMITTED');
  await expectCode(() => t.hsm.login({ user: 'alice', password: 'wrong password!' }), 'PIN_INCORRECT');
  await expectCode(() => t.hsm.login({ user: 'nobody', password: 'wrong password!' }), 'PIN_INCORRECT');
  await t.hsm.destroyObject(t.user, aes);
}

function allRecords(t: Awaited<ReturnType<typeof testHsm>>): AuditRecord[] {
  return t.hsm.listAudit(t.auditor, 1, 10_000);
}

test('checkpoints every N records are signed by the audit key and cover the record before them', async () => {
  const t = await testHsm({ auditCheckpointEvery: 10 });
  try {
    await busySession(t);
    const { publicKey } = t.hsm.auditPublicKey(t.admin);
    const key = createPublicKey(publicKey);
    assert.equal(key.asymmetricKeyType, 'ed25519');
    const records = allRecords(t);
    const checkpoints = records.filter((r) => r.op === 'audit.checkpoint');
    assert.ok(checkpoints.length >= 2, `expected periodic checkpoints, got ${checkpoints.length}`);
    for (const cp of checkpoints) {
      const before = records.find((r) => r.seq === cp.seq - 1)!;
      assert.equal(before.seq % 10, 0, 'a periodic checkpoint follows every 10th record');
      assert.equal(cp.checkpoint!.seq, before.seq);
      assert.equal(cp.checkpoint!.head, before.hash);
      assert.equal(cp.actor, 'system');
      const { signature, ...unsigned } = cp.checkpoint!;
      assert.ok(verify(null, checkpointPayload(unsigned), key, Buffer.from(signature, 'base64')), `checkpoint at seq ${cp.seq} verifies`);
    }
  } finally {
    await t.close();
  }
});

test('an export of a real session verifies offline, ends with a fresh checkpoint and records the export', async () => {
  const t = await testHsm();
  try {
    await busySession(t);
    const lines = t.hsm.exportAudit(t.auditor);
    const last = JSON.parse(lines[lines.length - 1]!) as AuditRecord;
    const before = JSON.parse(lines[lines.length - 2]!) as AuditRecord;
    assert.equal(last.op, 'audit.checkpoint');
    assert.equal(before.op, 'audit.export');
    assert.equal(before.actor, 'auditor');
    const verdict = verifyAuditExport(lines, t.hsm.auditPublicKey(t.auditor).publicKey);
    assert.ok(verdict.ok, JSON.stringify(verdict));
    assert.equal(verdict.records, lines.length);
    const ops = new Set(lines.map((l) => (JSON.parse(l) as AuditRecord).op));
    for (const op of ['module.initialize', 'audit.key-create', 'login', 'key.generate', 'sign', 'object.destroy', 'audit.export']) assert.ok(ops.has(op), `export holds a ${op} record`);
    // A second export is a superset: it starts with the same records.
    const again = t.hsm.exportAudit(t.auditor);
    assert.deepEqual(again.slice(0, lines.length), lines);
    assert.ok(verifyAuditExport(again, t.hsm.auditPublicKey(t.auditor).publicKey).ok);
  } finally {
    await t.close();
  }
});

test('only the auditor lists and exports; auditor and admin read the public key; partition roles neither', async () => {
  const t = await testHsm();
  try {
    for (const s of [t.user, t.officer, t.admin]) {
      await expectCode(async () => t.hsm.exportAudit(s), 'USER_TYPE_INVALID');
      await expectCode(async () => t.hsm.listAudit(s), 'USER_TYPE_INVALID');
    }
    for (const s of [t.user, t.officer]) await expectCode(async () => t.hsm.auditPublicKey(s), 'USER_TYPE_INVALID');
    assert.equal(t.hsm.auditPublicKey(t.auditor).publicKey, t.hsm.auditPublicKey(t.admin).publicKey);
  } finally {
    await t.close();
  }
});

test('the audit key lives in a hidden system partition no account can reach', async () => {
  const t = await testHsm();
  try {
    assert.ok(!t.hsm.listPartitions(t.admin).some((p) => p.name === SYSTEM_PARTITION), 'not listed');
    await expectCode(() => t.hsm.createUser(t.admin, { name: 'mole', password: PASSWORD, role: 'user', partition: SYSTEM_PARTITION }), 'PARTITION_NOT_FOUND');
    await expectCode(() => t.hsm.createUser(t.admin, { name: 'mole2', password: PASSWORD, role: 'officer', partition: SYSTEM_PARTITION }), 'PARTITION_NOT_FOUND');
    await expectCode(async () => t.hsm.createPartition(t.admin, { name: SYSTEM_PARTITION }), 'ARGUMENTS_BAD');
    // Another partition's object is no object (D-01): the audit key's uid is not addressable.
    await expectCode(async () => t.hsm.getAttributes(t.user, AUDIT_KEY_UID), 'OBJECT_NOT_FOUND');
    await expectCode(() => t.hsm.sign(t.user, { key: AUDIT_KEY_UID, mechanism: 'EDDSA', data: Buffer.from('forged checkpoint') }), 'KEY_HANDLE_INVALID');
    await expectCode(() => t.hsm.wrapKey(t.user, { wrappingKey: AUDIT_KEY_UID, key: AUDIT_KEY_UID, mechanism: 'AES-KEY-WRAP-PAD' }), 'KEY_HANDLE_INVALID');
  } finally {
    await t.close();
  }
});

test('seal and close each end the log with a signed checkpoint; the key is the same after unseal and reopen', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-audit-'));
  const master = SecretBytes.random(32);
  try {
    const store = { kind: 'sqlite' as const, path: join(dir, 'store.db') };
    const hsm = await Hsm.open({ store, scrypt: TEST_SCRYPT });
    await hsm.initialize(master, { name: 'admin', password: PASSWORD });
    let admin = (await hsm.login({ user: 'admin', password: PASSWORD })).session;
    await hsm.createUser(admin, { name: 'auditor', password: PASSWORD, role: 'auditor' });
    const pem1 = hsm.auditPublicKey(admin).publicKey;
    hsm.seal();
    hsm.unseal(master);
    let auditor = (await hsm.login({ user: 'auditor', password: PASSWORD })).session;
    const records = hsm.listAudit(auditor, 1, 10_000);
    const sealAt = records.findIndex((r) => r.op === 'module.seal');
    assert.ok(sealAt > 0);
    assert.equal(records[sealAt + 1]!.op, 'audit.checkpoint');
    assert.equal(records[sealAt + 1]!.checkpoint!.head, records[sealAt]!.hash);
    admin = (await hsm.login({ user: 'admin', password: PASSWORD })).session;
    assert.equal(hsm.auditPublicKey(admin).publicKey, pem1, 'unseal loads the same key');
    hsm.close();

    const again = await Hsm.open({ store, scrypt: TEST_SCRYPT, masterKey: master });
    auditor = (await again.login({ user: 'auditor', password: PASSWORD })).session;
    const after = again.listAudit(auditor, 1, 10_000);
    const closeAt = after.findIndex((r) => r.op === 'module.close');
    assert.ok(closeAt > sealAt);
    assert.equal(after[closeAt + 1]!.op, 'audit.checkpoint');
    assert.equal(again.auditPublicKey(auditor).publicKey, pem1, 'reopen loads the same key');
    assert.equal(after.filter((r) => r.op === 'audit.key-create').length, 1, 'the key is made once');
    assert.ok(verifyAuditExport(again.exportAudit(auditor), pem1).ok);
    again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a store initialised before audit keys existed gets one on its first unseal', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-audit-'));
  const master = SecretBytes.random(32);
  try {
    const store = { kind: 'sqlite' as const, path: join(dir, 'store.db') };
    // What an older module left behind: header, an admin and an audit record, no system partition.
    const vault = openVault(store);
    vault.initialize(master);
    const passwordHash = await hashPassword(PASSWORD, TEST_SCRYPT);
    vault.transaction(() => {
      vault.putUser({ name: 'auditor', role: 'auditor', passwordHash, failedLogins: 0, locked: false, createdAt: new Date().toISOString() });
      vault.appendAudit({ actor: 'system', op: 'module.initialize', target: 'auditor', outcome: 'ok' });
    });
    assert.equal(vault.getPartition(SYSTEM_PARTITION), undefined);
    vault.close();

    const hsm = await Hsm.open({ store, scrypt: TEST_SCRYPT, masterKey: master });
    const auditor = (await hsm.login({ user: 'auditor', password: PASSWORD })).session;
    const lines = hsm.exportAudit(auditor);
    const ops = lines.map((l) => (JSON.parse(l) as AuditRecord).op);
    assert.deepEqual(ops.slice(0, 2), ['module.initialize', 'audit.key-create']);
    assert.ok(verifyAuditExport(lines, hsm.auditPublicKey(auditor).publicKey).ok);
    hsm.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
