// Per-key usage counters (issue 4: "per-key counters always"): every use counted whatever the
// key's auditUse says, shown by getAttributes before they are flushed, written to meta.usage in
// batches by a timer and at seal/close, so the hot path does no store write.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { Hsm, SecretBytes } from '../../src/boundary/api.js';
import { expectCode } from '../support/expect-code.js';
import { importSecret, PASSWORD, TEST_SCRYPT, testHsm } from '../support/hsm.js';

const KEY = new Uint8Array(32).fill(7);

test('counters count every use per operation, failures apart, without writing audit records', async () => {
  // A flush interval longer than the test: the counts shown come from memory.
  const t = await testHsm({ usageFlushMs: 3_600_000 });
  try {
    const key = await t.hsm.createObject(t.user, { class: 'secret-key', keyType: 'aes', value: KEY, token: true, encrypt: true, decrypt: true });
    const auditBefore = t.hsm.listAudit(t.auditor, 1, 10_000).length;
    const ct = await t.hsm.encrypt(t.user, { key, mechanism: 'AES-GCM', data: Buffer.from('hello') });
    await t.hsm.encrypt(t.user, { key, mechanism: 'AES-GCM', data: Buffer.from('hello') });
    await t.hsm.decrypt(t.user, { key, mechanism: 'AES-GCM', data: ct.data, ...(ct.params ? { params: ct.params } : {}) });
    const bad = Buffer.from(ct.data);
    bad[0]! ^= 1;
    await expectCode(() => t.hsm.decrypt(t.user, { key, mechanism: 'AES-GCM', data: bad, ...(ct.params ? { params: ct.params } : {}) }), 'DECRYPT_FAILED');
    const info = await t.hsm.getAttributes(t.user, key);
    assert.deepEqual(info.usage, { encrypt: 2, decrypt: 2, 'decrypt.failed': 1 });
    // Only the failure is on the record (auditUse is off); the successes cost no audit write.
    const records = t.hsm.listAudit(t.auditor, 1, 10_000);
    assert.equal(records.length - auditBefore, 1);
    assert.equal(records[records.length - 1]!.outcome, 'failed');
  } finally {
    await t.close();
  }
});

test('session objects count in the session; refused calls do not count as uses', async () => {
  const t = await testHsm({ usageFlushMs: 3_600_000 });
  try {
    const key = await importSecret(t, 'generic-secret', KEY, { sign: true, verify: true });
    for (let i = 0; i < 4; i++) await t.hsm.sign(t.user, { key, mechanism: 'HMAC-SHA256', data: Buffer.from([i]) });
    await expectCode(() => t.hsm.encrypt(t.user, { key, mechanism: 'AES-GCM', data: Buffer.from('x') }), 'KEY_FUNCTION_NOT_PERMITTED');
    assert.deepEqual((await t.hsm.getAttributes(t.user, key)).usage, { sign: 4 });
  } finally {
    await t.close();
  }
});

test('counters are flushed by the timer in one transaction and by close, and survive a reopen', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-usage-'));
  const master = SecretBytes.random(32);
  const store = { kind: 'sqlite' as const, path: join(dir, 'store.db') };
  try {
    const hsm = await Hsm.open({ store, scrypt: TEST_SCRYPT, usageFlushMs: 50 });
    await hsm.initialize(master, { name: 'admin', password: PASSWORD });
    const admin = (await hsm.login({ user: 'admin', password: PASSWORD })).session;
    hsm.createPartition(admin, { name: 'p1' });
    await hsm.createUser(admin, { name: 'alice', password: PASSWORD, role: 'user', partition: 'p1' });
    const user = (await hsm.login({ user: 'alice', password: PASSWORD })).session;
    const key = await hsm.createObject(user, { class: 'secret-key', keyType: 'generic-secret', value: KEY, token: true, sign: true, verify: true });
    const mac = await hsm.sign(user, { key, mechanism: 'HMAC-SHA256', data: Buffer.from('a') });
    await hsm.verify(user, { key, mechanism: 'HMAC-SHA256', data: Buffer.from('a'), signature: mac.signature });
    await sleep(200); // several flush intervals
    hsm.seal();
    hsm.unseal(master);
    // After seal the in-memory counts are gone; what shows now came from the store.
    const user2 = (await hsm.login({ user: 'alice', password: PASSWORD })).session;
    assert.deepEqual((await hsm.getAttributes(user2, key)).usage, { sign: 1, verify: 1 });
    await hsm.sign(user2, { key, mechanism: 'HMAC-SHA256', data: Buffer.from('b') });
    hsm.close(); // flushes the last sign before closing

    const again = await Hsm.open({ store, scrypt: TEST_SCRYPT, masterKey: master, usageFlushMs: 3_600_000 });
    const user3 = (await again.login({ user: 'alice', password: PASSWORD })).session;
    assert.deepEqual((await again.getAttributes(user3, key)).usage, { sign: 2, verify: 1 });
    again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a flush leaves the key usable from the cache and keeps the revision', async () => {
  const t = await testHsm({ usageFlushMs: 20 });
  try {
    const key = await t.hsm.createObject(t.user, { class: 'secret-key', keyType: 'generic-secret', value: KEY, token: true, sign: true });
    await t.hsm.sign(t.user, { key, mechanism: 'HMAC-SHA256', data: Buffer.from('a') });
    await sleep(100);
    await t.hsm.sign(t.user, { key, mechanism: 'HMAC-SHA256', data: Buffer.from('b') });
    assert.deepEqual((await t.hsm.getAttributes(t.user, key)).usage, { sign: 2 });
    await t.hsm.destroyObject(t.user, key);
    await sleep(60); // counts of a destroyed key are dropped, not written back
    await expectCode(() => t.hsm.getAttributes(t.user, key), 'OBJECT_NOT_FOUND');
  } finally {
    await t.close();
  }
});

const CHILD = fileURLToPath(new URL('../support/usage-crash-child.js', import.meta.url));

test('a crash loses at most the counts of the last flush interval (docs/architecture.md)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-usage-crash-'));
  const master = SecretBytes.random(32);
  const store = { kind: 'sqlite' as const, path: join(dir, 'store.db') };
  const keyFile = join(dir, 'master.key');
  try {
    const hsm = await Hsm.open({ store, scrypt: TEST_SCRYPT });
    await hsm.initialize(master, { name: 'admin', password: PASSWORD });
    const admin = (await hsm.login({ user: 'admin', password: PASSWORD })).session;
    hsm.createPartition(admin, { name: 'p1' });
    await hsm.createUser(admin, { name: 'alice', password: PASSWORD, role: 'user', partition: 'p1' });
    const user = (await hsm.login({ user: 'alice', password: PASSWORD })).session;
    const key = await hsm.createObject(user, { class: 'secret-key', keyType: 'generic-secret', value: KEY, token: true, sign: true });
    hsm.close();
    writeFileSync(keyFile, master.insecureBytes(), { mode: 0o600 });

    const child = spawn(process.execPath, [CHILD, store.path, keyFile, key], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('more\n')) resolve();
      });
      child.on('close', () => reject(new Error(`child ended early: ${err}`)));
    });
    child.kill('SIGKILL');
    await exited;

    const again = await Hsm.open({ store, scrypt: TEST_SCRYPT, masterKey: master, usageFlushMs: 3_600_000 });
    const u = (await again.login({ user: 'alice', password: PASSWORD })).session;
    // The first five were flushed by the timer; the last three died with the process.
    assert.deepEqual((await again.getAttributes(u, key)).usage, { sign: 5 });
    again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
