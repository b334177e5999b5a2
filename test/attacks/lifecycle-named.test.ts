// attacks.md D-10, D-13, D-15, E-04, E-08 and E-10 as named tests through the boundary API.
// (D-11, D-12, D-14, D-16…D-19 and E-01…E-03, E-05, E-06, E-09, E-11 have their own files.)

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HsmError } from '../../src/boundary/api.js';
import { expectCode } from '../support/expect-code.js';
import { PASSWORD, testHsm } from '../support/hsm.js';

const MSG = Buffer.from('lifecycle');

test('D-10 deletion waiting period: 7–30 days only, every use refused while pending, cancel returns to disabled, audited twice', async () => {
  const t = await testHsm();
  try {
    const key = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', valueLen: 32 } });
    const { data, params } = await t.hsm.encrypt(t.user, { key, mechanism: 'AES-GCM', data: MSG });
    for (const days of [0, 6, 31, -1, 7.5]) await expectCode(() => t.hsm.scheduleDeletion(t.user, key, days), 'ARGUMENTS_BAD', `window of ${days} days`);
    await expectCode(() => t.hsm.scheduleDeletion(t.officer, key, 30), 'USER_TYPE_INVALID', 'an officer schedules no deletion');
    const date = await t.hsm.scheduleDeletion(t.user, key, 7);
    assert.ok(Date.parse(date) > Date.now() + 6.9 * 86_400_000, 'at least seven days away');
    await expectCode(() => t.hsm.encrypt(t.user, { key, mechanism: 'AES-GCM', data: MSG }), 'KEY_STATE_INVALID', 'encrypt while pending');
    await expectCode(() => t.hsm.decrypt(t.user, { key, mechanism: 'AES-GCM', data, params: params! }), 'KEY_STATE_INVALID', 'decrypt while pending');
    await t.hsm.cancelDeletion(t.user, key);
    assert.equal((await t.hsm.getAttributes(t.user, key)).state, 'disabled', 'cancel leaves the key disabled, not enabled');
    await t.hsm.scheduleDeletion(t.user, key, 7);
    assert.equal(t.hsm.purgeDueDeletions(new Date(Date.now() + 6 * 86_400_000)), 0, 'nothing is destroyed before the date');
    assert.equal(t.hsm.purgeDueDeletions(new Date(Date.now() + 8 * 86_400_000)), 1, 'destroyed after the date');
    await expectCode(() => t.hsm.getAttributes(t.user, key), 'OBJECT_NOT_FOUND', 'gone');
    const ops = t.hsm.listAudit(t.auditor, 1, 10_000).filter((r) => r.target === key).map((r) => r.op);
    assert.ok(ops.includes('key.schedule-deletion') && ops.includes('object.destroy'), `schedule and completion audited: ${ops.join(',')}`);
    // With the partition's key.destroy policy set, an immediate destroy is no way around the window.
    const other = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', valueLen: 32 } });
    await t.hsm.createUser(t.admin, { name: 'officer2', password: PASSWORD, role: 'officer', partition: 'p1' });
    t.hsm.setQuorumPolicy(t.admin, { class: 'key.destroy', partition: 'p1', quorum: 2 });
    await expectCode(() => t.hsm.destroyObject(t.user, other), 'QUORUM_REQUIRED', 'direct destroy under a destroy policy');
    assert.equal((await t.hsm.getAttributes(t.user, other)).state, 'enabled', 'still there');
  } finally {
    await t.close();
  }
});

test('D-13 lockout: concurrent attempts all count, the right password stays locked out, the lock ends sessions, only an officer unlocks', async () => {
  const t = await testHsm({ lockoutThreshold: 3 });
  try {
    await t.hsm.createUser(t.officer, { name: 'bob', password: PASSWORD, role: 'user', partition: 'p1' });
    const bob = (await t.hsm.login({ user: 'bob', password: PASSWORD })).session;
    for (let i = 0; i < 2; i++) await expectCode(() => t.hsm.login({ user: 'alice', password: 'wrong password!' }), 'PIN_INCORRECT', `attempt ${i + 1}`);
    // Racing attempts cannot slip past the count: all three concurrent tries are counted.
    const racing = await Promise.allSettled([1, 2, 3].map(() => t.hsm.login({ user: 'alice', password: 'wrong password!' })));
    assert.ok(racing.every((r) => r.status === 'rejected'));
    await expectCode(() => t.hsm.login({ user: 'alice', password: PASSWORD }), 'PIN_LOCKED', 'right password, locked account');
    const user = t.hsm.listUsers(t.officer).find((u) => u.name === 'alice');
    assert.equal(user?.locked, true);
    assert.ok(!('passwordHash' in (user ?? {})), 'listing never shows password hashes');
    await expectCode(async () => t.hsm.whoami(t.user), 'SESSION_INVALID', "the lock ended alice's own session");
    await expectCode(async () => t.hsm.unlockUser(bob, 'alice'), 'USER_TYPE_INVALID', 'a user cannot unlock');
    t.hsm.unlockUser(t.officer, 'alice');
    assert.ok((await t.hsm.login({ user: 'alice', password: PASSWORD })).session);
    const refused = t.hsm.listAudit(t.auditor, 1, 10_000).filter((r) => r.op === 'login' && r.outcome === 'refused' && r.actor === 'alice');
    assert.ok(refused.length >= 5, 'every failed login is audited');
  } finally {
    await t.close();
  }
});

test('D-15 stale privileges: logout, password change, deletion and lock each end existing sessions at once', async () => {
  const t = await testHsm();
  try {
    const a = (await t.hsm.login({ user: 'alice', password: PASSWORD })).session;
    const b = (await t.hsm.login({ user: 'alice', password: PASSWORD })).session;
    assert.notEqual(a, b, 'every login gets a fresh session id');
    t.hsm.logout(a);
    await expectCode(async () => t.hsm.whoami(a), 'SESSION_INVALID', 'after logout');
    await t.hsm.changePassword(t.officer, { name: 'alice', password: 'another long password' });
    await expectCode(async () => t.hsm.whoami(b), 'SESSION_INVALID', 'after an officer reset the password');
    const c = (await t.hsm.login({ user: 'alice', password: 'another long password' })).session;
    t.hsm.deleteUser(t.officer, 'alice');
    await expectCode(async () => t.hsm.whoami(c), 'SESSION_INVALID', 'after deletion');
  } finally {
    await t.close();
  }
});

test('E-04 random-source health: a failed start-up health test means no random output and no key generation', async () => {
  const t = await testHsm();
  await t.close();
  const { Hsm } = await import('../../src/boundary/api.js');
  const broken = await Hsm.open({ store: { kind: 'memory' }, forceSelfTestFailure: 'random-health' });
  try {
    assert.equal(broken.status().state, 'error');
    assert.match(broken.status().error ?? '', /random-health/);
    await expectCode(async () => broken.randomBytes('any', 16), 'DEVICE_ERROR', 'no random bytes');
    await expectCode(() => broken.generateKey('any', { template: { keyType: 'aes' } }), 'DEVICE_ERROR', 'no key generation');
  } finally {
    broken.close();
  }
});

test('E-08 identity-based authentication: named accounts, one answer for unknown account and wrong password, no secret in any listing', async () => {
  const t = await testHsm();
  try {
    const unknown = await t.hsm.login({ user: 'mallory', password: PASSWORD }).catch((e: unknown) => e);
    const wrong = await t.hsm.login({ user: 'alice', password: 'not the password' }).catch((e: unknown) => e);
    assert.ok(unknown instanceof HsmError && wrong instanceof HsmError);
    assert.equal(unknown.code, wrong.code, 'the same code: no account enumeration');
    assert.equal(unknown.message, wrong.message, 'the same text');
    for (const s of [t.admin, t.officer]) {
      const text = JSON.stringify(t.hsm.listUsers(s));
      assert.ok(!text.includes('scrypt$'), 'no password hash in a listing');
    }
    assert.deepEqual(t.hsm.whoami(t.user), { user: 'alice', role: 'user', partition: 'p1' }, 'every session is a named person in one role');
  } finally {
    await t.close();
  }
});

test('E-10 conditional tests: a failed software-load (integrity) test means the error state; a clear-imported key is never treated as generated inside', async () => {
  const { Hsm } = await import('../../src/boundary/api.js');
  const broken = await Hsm.open({ store: { kind: 'memory' }, forceSelfTestFailure: 'software-integrity' });
  try {
    assert.equal(broken.status().state, 'error');
    await expectCode(() => broken.login({ user: 'a', password: PASSWORD }), 'DEVICE_ERROR', 'nothing served');
  } finally {
    broken.close();
  }
  const t = await testHsm();
  try {
    const k = await t.hsm.createObject(t.user, { class: 'secret-key', keyType: 'aes', value: Buffer.alloc(32, 7), encrypt: true, decrypt: true });
    const a = await t.hsm.getAttributes(t.user, k);
    assert.deepEqual([a.local, a.alwaysSensitive, a.neverExtractable], [false, false, false], 'manual entry leaves no claim of inside generation');
  } finally {
    await t.close();
  }
});
