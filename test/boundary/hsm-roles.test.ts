// Roles, partitions, lockout and sessions through the API (DESIGN §3 Roles): each role can do its
// own job and is refused everything else with USER_TYPE_INVALID; partitions are invisible to each
// other (same code as a uid that never existed); wrong passwords lock an account; sessions end on
// logout, idle expiry, deletion and lock, taking their session objects with them.

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import type { AuditRecord } from '../../src/boundary/api.js';
import { expectCode } from '../support/expect-code.js';
import { PASSWORD, type TestHsm, testHsm } from '../support/hsm.js';

const MSG = Buffer.from('roles message');
const NO_SUCH_UID = '0123456789abcdef0123456789abcdef';

/** Adds partition p2 with officer2 and bob; returns their sessions. */
async function secondPartition(t: TestHsm): Promise<{ officer2: string; bob: string }> {
  t.hsm.createPartition(t.admin, { name: 'p2' });
  await t.hsm.createUser(t.admin, { name: 'officer2', password: PASSWORD, role: 'officer', partition: 'p2' });
  await t.hsm.createUser(t.admin, { name: 'bob', password: PASSWORD, role: 'user', partition: 'p2' });
  const officer2 = (await t.hsm.login({ user: 'officer2', password: PASSWORD })).session;
  const bob = (await t.hsm.login({ user: 'bob', password: PASSWORD })).session;
  return { officer2, bob };
}

/** Calls that use or make keys: refused for every role but user. */
function keyUse(t: TestHsm, s: string, key: string): [string, () => unknown][] {
  return [
    ['generateKey', () => t.hsm.generateKey(s, { template: { keyType: 'aes', valueLen: 32 } })],
    ['generateKeyPair', () => t.hsm.generateKeyPair(s, { privateTemplate: { keyType: 'ec', curve: 'P-256' } })],
    ['encrypt', () => t.hsm.encrypt(s, { key, mechanism: 'AES-GCM', data: MSG })],
    ['decrypt', () => t.hsm.decrypt(s, { key, mechanism: 'AES-GCM', data: MSG, params: { iv: new Uint8Array(12) } })],
    ['sign', () => t.hsm.sign(s, { key, mechanism: 'AES-CMAC', data: MSG })],
    ['rotateKey', () => t.hsm.rotateKey(s, key)],
    ['setKeyState', () => t.hsm.setKeyState(s, key, 'disabled')],
    ['destroyObject', () => t.hsm.destroyObject(s, key)],
    ['copyObject', () => t.hsm.copyObject(s, key)],
  ];
}

test('admin: creates partitions and users, cannot use or make keys, cannot read the audit log', async () => {
  const t = await testHsm();
  try {
    const key = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', valueLen: 32 } });
    const p = t.hsm.createPartition(t.admin, { name: 'p2', label: 'second' });
    assert.equal(p.name, 'p2');
    await expectCode(() => t.hsm.createPartition(t.admin, { name: 'p2' }), 'ALREADY_EXISTS', 'duplicate partition');
    await t.hsm.createUser(t.admin, { name: 'carol', password: PASSWORD, role: 'user', partition: 'p2' });
    await t.hsm.createUser(t.admin, { name: 'officer2', password: PASSWORD, role: 'officer', partition: 'p2' });
    await t.hsm.createUser(t.admin, { name: 'admin2', password: PASSWORD, role: 'admin' });
    await expectCode(() => t.hsm.createUser(t.admin, { name: 'dave', password: PASSWORD, role: 'user', partition: 'nope' }), 'PARTITION_NOT_FOUND');
    await expectCode(() => t.hsm.createUser(t.admin, { name: 'carol', password: PASSWORD, role: 'user', partition: 'p2' }), 'ALREADY_EXISTS');
    assert.deepEqual(
      t.hsm
        .listPartitions(t.admin)
        .map((x) => x.name)
        .sort(),
      ['p1', 'p2'],
    );
    assert.equal((await t.hsm.login({ user: 'carol', password: PASSWORD })).partition, 'p2');
    for (const [name, call] of keyUse(t, t.admin, key)) await expectCode(call, 'USER_TYPE_INVALID', `admin ${name}`);
    await expectCode(() => t.hsm.createObject(t.admin, { class: 'secret-key', keyType: 'aes', value: new Uint8Array(32) }), 'USER_TYPE_INVALID', 'admin createObject');
    await expectCode(() => t.hsm.getAttributes(t.admin, key), 'USER_TYPE_INVALID', 'admin getAttributes');
    await expectCode(() => t.hsm.findObjects(t.admin, {}), 'USER_TYPE_INVALID', 'admin findObjects');
    await expectCode(() => t.hsm.listAudit(t.admin), 'USER_TYPE_INVALID', 'admin listAudit');
  } finally {
    await t.close();
  }
});

test('auditor: reads the audit log and nothing else', async () => {
  const t = await testHsm();
  try {
    const key = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', valueLen: 32 } });
    const log = t.hsm.listAudit(t.auditor);
    assert.ok(log.some((r) => r.op === 'key.generate' && r.target === key && r.outcome === 'ok'), 'the generation is in the log');
    assert.ok(log.some((r) => r.op === 'partition.create' && r.target === 'p1'));
    const json = JSON.stringify(log);
    assert.ok(!json.includes(PASSWORD), 'no password in the audit log');
    for (const [name, call] of keyUse(t, t.auditor, key)) await expectCode(call, 'USER_TYPE_INVALID', `auditor ${name}`);
    await expectCode(() => t.hsm.createPartition(t.auditor, { name: 'p9' }), 'USER_TYPE_INVALID', 'auditor createPartition');
    await expectCode(() => t.hsm.createUser(t.auditor, { name: 'eve', password: PASSWORD, role: 'user', partition: 'p1' }), 'USER_TYPE_INVALID', 'auditor createUser');
    await expectCode(() => t.hsm.listUsers(t.auditor), 'USER_TYPE_INVALID', 'auditor listUsers');
    await expectCode(() => t.hsm.unlockUser(t.auditor, 'alice'), 'USER_TYPE_INVALID', 'auditor unlockUser');
    await expectCode(() => t.hsm.deleteUser(t.auditor, 'alice'), 'USER_TYPE_INVALID', 'auditor deleteUser');
    await expectCode(() => t.hsm.getAttributes(t.auditor, key), 'USER_TYPE_INVALID', 'auditor getAttributes');
    await expectCode(() => t.hsm.findObjects(t.auditor, {}), 'USER_TYPE_INVALID', 'auditor findObjects');
    await expectCode(() => t.hsm.createObject(t.auditor, { class: 'secret-key', keyType: 'aes', value: new Uint8Array(32) }), 'USER_TYPE_INVALID', 'auditor createObject');
  } finally {
    await t.close();
  }
});

test('officer: creates users of its own partition only, marks keys trusted, cannot use keys', async () => {
  const t = await testHsm();
  try {
    const { bob } = await secondPartition(t);
    await t.hsm.createUser(t.officer, { name: 'frank', password: PASSWORD, role: 'user', partition: 'p1' });
    assert.equal((await t.hsm.login({ user: 'frank', password: PASSWORD })).partition, 'p1');
    await expectCode(() => t.hsm.createUser(t.officer, { name: 'gina', password: PASSWORD, role: 'user', partition: 'p2' }), 'USER_TYPE_INVALID', 'officer → other partition');
    await expectCode(() => t.hsm.createUser(t.officer, { name: 'gina', password: PASSWORD, role: 'officer', partition: 'p1' }), 'USER_TYPE_INVALID', 'officer → officer');
    await expectCode(() => t.hsm.createUser(t.officer, { name: 'gina', password: PASSWORD, role: 'admin' }), 'USER_TYPE_INVALID', 'officer → admin');
    await expectCode(() => t.hsm.createPartition(t.officer, { name: 'p9' }), 'USER_TYPE_INVALID', 'officer createPartition');
    assert.deepEqual(
      t.hsm
        .listUsers(t.officer)
        .map((u) => u.name)
        .sort(),
      ['alice', 'frank', 'officer'],
      'an officer lists its partition only',
    );
    // Other partitions' accounts do not exist for this officer.
    await expectCode(() => t.hsm.deleteUser(t.officer, 'bob'), 'USER_NOT_FOUND', 'officer deletes another partition user');
    await expectCode(() => t.hsm.unlockUser(t.officer, 'bob'), 'USER_NOT_FOUND', 'officer unlocks another partition user');
    await t.hsm.whoami(bob);

    // Trust: only the officer may set it (PKCS#11 CKA_TRUSTED), and only on a wrapping key.
    const kek = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', valueLen: 32, wrap: true, unwrap: true } });
    await expectCode(() => t.hsm.setAttributes(t.user, kek, { trusted: true }), 'ATTRIBUTE_READ_ONLY', 'user sets trusted');
    assert.equal((await t.hsm.getAttributes(t.user, kek)).trusted, false);
    await t.hsm.setAttributes(t.officer, kek, { trusted: true });
    assert.equal((await t.hsm.getAttributes(t.user, kek)).trusted, true);
    await expectCode(() => t.hsm.setAttributes(t.officer, kek, { encrypt: true }), 'USER_TYPE_INVALID', 'officer changes a usage');

    for (const [name, call] of keyUse(t, t.officer, kek)) await expectCode(call, 'USER_TYPE_INVALID', `officer ${name}`);
    await expectCode(() => t.hsm.wrapKey(t.officer, { wrappingKey: kek, key: kek, mechanism: 'AES-KW' }), 'USER_TYPE_INVALID', 'officer wrapKey');
  } finally {
    await t.close();
  }
});

test('user: uses keys but cannot create users, partitions, or read the audit log', async () => {
  const t = await testHsm();
  try {
    await expectCode(() => t.hsm.createUser(t.user, { name: 'mallory', password: PASSWORD, role: 'user', partition: 'p1' }), 'USER_TYPE_INVALID', 'user createUser');
    await expectCode(() => t.hsm.createPartition(t.user, { name: 'p9' }), 'USER_TYPE_INVALID', 'user createPartition');
    await expectCode(() => t.hsm.listAudit(t.user), 'USER_TYPE_INVALID', 'user listAudit');
    await expectCode(() => t.hsm.listUsers(t.user), 'USER_TYPE_INVALID', 'user listUsers');
    await expectCode(() => t.hsm.unlockUser(t.user, 'alice'), 'USER_TYPE_INVALID', 'user unlockUser');
    await expectCode(() => t.hsm.login({ user: 'mallory', password: PASSWORD }), 'PIN_INCORRECT', 'the refused account was not created');
  } finally {
    await t.close();
  }
});

test("partitions: another partition's uid and alias are indistinguishable from no object", async () => {
  const t = await testHsm();
  try {
    const { officer2, bob } = await secondPartition(t);
    const aKey = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', valueLen: 32, label: 'a-key' } });
    const aPair = await t.hsm.generateKeyPair(t.user, { privateTemplate: { keyType: 'ec', curve: 'P-256' } });
    await t.hsm.setAliases(t.user, aKey, ['shared-name']);
    const bKey = await t.hsm.generateKey(bob, { template: { keyType: 'aes', valueLen: 32, label: 'b-key' } });

    for (const ref of [aKey, 'alias/shared-name', aPair.privateKey, NO_SUCH_UID, 'alias/never-set']) {
      await expectCode(() => t.hsm.encrypt(bob, { key: ref, mechanism: 'AES-GCM', data: MSG }), 'KEY_HANDLE_INVALID', `bob encrypt ${ref}`);
      await expectCode(() => t.hsm.sign(bob, { key: ref, mechanism: 'ECDSA-SHA256', data: MSG }), 'KEY_HANDLE_INVALID', `bob sign ${ref}`);
      await expectCode(() => t.hsm.getAttributes(bob, ref), 'OBJECT_NOT_FOUND', `bob getAttributes ${ref}`);
      await expectCode(() => t.hsm.setAttributes(bob, ref, { label: 'mine now' }), 'OBJECT_NOT_FOUND', `bob setAttributes ${ref}`);
      await expectCode(() => t.hsm.destroyObject(bob, ref), 'OBJECT_NOT_FOUND', `bob destroyObject ${ref}`);
      await expectCode(() => t.hsm.copyObject(bob, ref), 'OBJECT_NOT_FOUND', `bob copyObject ${ref}`);
      await expectCode(() => t.hsm.getPublicKey(bob, ref), 'KEY_HANDLE_INVALID', `bob getPublicKey ${ref}`);
      await expectCode(() => t.hsm.rotateKey(bob, ref), 'KEY_HANDLE_INVALID', `bob rotateKey ${ref}`);
      await expectCode(() => t.hsm.setAttributes(officer2, ref, { label: 'x' }), 'OBJECT_NOT_FOUND', `officer2 setAttributes ${ref}`);
    }
    await expectCode(() => t.hsm.wrapKey(bob, { wrappingKey: bKey, key: aKey, mechanism: 'AES-KW' }), 'KEY_FUNCTION_NOT_PERMITTED', 'bob wraps with a non-wrap key');

    const bobSees = await t.hsm.findObjects(bob, {});
    assert.deepEqual(bobSees, [bKey], 'bob finds only his own key');
    assert.deepEqual(await t.hsm.findObjects(bob, { label: 'a-key' }), []);
    const aliceSees = await t.hsm.findObjects(t.user, {});
    assert.ok(!aliceSees.includes(bKey), 'alice does not find bob key');
    assert.equal(aliceSees.length, 3);

    // The alias namespace is per partition: bob may use the same name for his own key.
    await t.hsm.setAliases(bob, bKey, ['shared-name']);
    assert.equal((await t.hsm.getAttributes(bob, 'alias/shared-name')).uid, bKey);
    assert.equal((await t.hsm.getAttributes(t.user, 'alias/shared-name')).uid, aKey);
    // Alice's key was untouched by every refused call above.
    assert.equal((await t.hsm.getAttributes(t.user, aKey)).label, 'a-key');
  } finally {
    await t.close();
  }
});

test('deleting an account ends its sessions; an account cannot delete itself', async () => {
  const t = await testHsm();
  try {
    const key = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', valueLen: 32 } });
    const second = (await t.hsm.login({ user: 'alice', password: PASSWORD })).session;
    await t.hsm.encrypt(second, { key, mechanism: 'AES-GCM', data: MSG });
    t.hsm.deleteUser(t.officer, 'alice');
    await expectCode(() => t.hsm.encrypt(t.user, { key, mechanism: 'AES-GCM', data: MSG }), 'SESSION_INVALID', 'first session after delete');
    await expectCode(() => t.hsm.encrypt(second, { key, mechanism: 'AES-GCM', data: MSG }), 'SESSION_INVALID', 'second session after delete');
    await expectCode(() => t.hsm.login({ user: 'alice', password: PASSWORD }), 'PIN_INCORRECT', 'deleted account');
    await expectCode(() => t.hsm.deleteUser(t.admin, 'admin'), 'ACTION_PROHIBITED', 'admin deletes itself');
    await t.hsm.whoami(t.officer); // other accounts' sessions are untouched
  } finally {
    await t.close();
  }
});

function loginRecords(log: AuditRecord[], actor: string): AuditRecord[] {
  return log.filter((r) => r.op === 'login' && r.actor === actor);
}

test('lockout: wrong passwords lock the account and end its sessions; unknown user looks the same; officer unlocks', async () => {
  const t = await testHsm({ lockoutThreshold: 3 });
  try {
    const key = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', valueLen: 32 } });
    // A success resets the count: two failures, a success, two failures is still not locked.
    await expectCode(() => t.hsm.login({ user: 'alice', password: 'wrong password 1' }), 'PIN_INCORRECT');
    await expectCode(() => t.hsm.login({ user: 'alice', password: 'wrong password 2' }), 'PIN_INCORRECT');
    await t.hsm.login({ user: 'alice', password: PASSWORD });
    await expectCode(() => t.hsm.login({ user: 'alice', password: 'wrong password 3' }), 'PIN_INCORRECT');
    await expectCode(() => t.hsm.login({ user: 'alice', password: 'wrong password 4' }), 'PIN_INCORRECT');
    await t.hsm.encrypt(t.user, { key, mechanism: 'AES-GCM', data: MSG });
    // The third failure in a row locks.
    await expectCode(() => t.hsm.login({ user: 'alice', password: 'wrong password 5' }), 'PIN_LOCKED', 'third failure');
    await expectCode(() => t.hsm.login({ user: 'alice', password: PASSWORD }), 'PIN_LOCKED', 'right password on a locked account');
    await expectCode(() => t.hsm.encrypt(t.user, { key, mechanism: 'AES-GCM', data: MSG }), 'SESSION_INVALID', 'session of a locked account');

    // Unknown account: the same code as a wrong password (no enumeration).
    await expectCode(() => t.hsm.login({ user: 'nobody', password: PASSWORD }), 'PIN_INCORRECT', 'unknown user');
    await expectCode(() => t.hsm.login({ user: 'not a valid name!', password: PASSWORD }), 'PIN_INCORRECT', 'malformed user name');

    t.hsm.unlockUser(t.officer, 'alice');
    const again = (await t.hsm.login({ user: 'alice', password: PASSWORD })).session;
    await t.hsm.encrypt(again, { key, mechanism: 'AES-GCM', data: MSG });
    // Unlock reset the counter: two more failures do not lock.
    await expectCode(() => t.hsm.login({ user: 'alice', password: 'wrong password 6' }), 'PIN_INCORRECT');
    await expectCode(() => t.hsm.login({ user: 'alice', password: 'wrong password 7' }), 'PIN_INCORRECT');
    await t.hsm.login({ user: 'alice', password: PASSWORD });

    const log = t.hsm.listAudit(t.auditor);
    const alice = loginRecords(log, 'alice');
    const refused = alice.filter((r) => r.outcome === 'refused');
    assert.equal(refused.filter((r) => r.code === 'PIN_INCORRECT').length, 6, 'each wrong password is audited');
    assert.ok(refused.filter((r) => r.code === 'PIN_LOCKED').length >= 2, 'the locking failure and the locked attempt are audited');
    assert.ok(loginRecords(log, 'nobody').some((r) => r.outcome === 'refused' && r.code === 'PIN_INCORRECT'), 'unknown-account attempts are audited');
    assert.ok(log.some((r) => r.op === 'user.unlock' && r.target === 'alice' && r.actor === 'officer'));
    assert.ok(!JSON.stringify(log).includes('wrong password'), 'attempted passwords never reach the log');
  } finally {
    await t.close();
  }
});

test('sessions: logout ends the session and its session objects (token:false) with it', async () => {
  const t = await testHsm();
  try {
    const other = (await t.hsm.login({ user: 'alice', password: PASSWORD })).session;
    const tokenKey = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', valueLen: 32, token: true } });
    const sessionKey = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', valueLen: 32, token: false } });
    const imported = await t.hsm.createObject(t.user, { class: 'secret-key', keyType: 'aes', value: new Uint8Array(32).fill(7), token: false });
    await t.hsm.encrypt(t.user, { key: sessionKey, mechanism: 'AES-GCM', data: MSG });
    assert.deepEqual((await t.hsm.findObjects(t.user, {})).sort(), [tokenKey, sessionKey, imported].sort());
    assert.equal((await t.hsm.getAttributes(t.user, sessionKey)).token, false);
    // Session objects belong to their session.
    assert.deepEqual(await t.hsm.findObjects(other, {}), [tokenKey]);
    await expectCode(() => t.hsm.getAttributes(other, sessionKey), 'OBJECT_NOT_FOUND', 'another session sees the session object');

    t.hsm.logout(t.user);
    await expectCode(() => t.hsm.encrypt(t.user, { key: tokenKey, mechanism: 'AES-GCM', data: MSG }), 'SESSION_INVALID', 'after logout');
    await expectCode(() => t.hsm.whoami(t.user), 'SESSION_INVALID', 'whoami after logout');
    await expectCode(() => t.hsm.logout(t.user), 'SESSION_INVALID', 'second logout');
    const fresh = (await t.hsm.login({ user: 'alice', password: PASSWORD })).session;
    assert.deepEqual(await t.hsm.findObjects(fresh, {}), [tokenKey], 'session objects are gone, token objects stay');
    await expectCode(() => t.hsm.encrypt(fresh, { key: sessionKey, mechanism: 'AES-GCM', data: MSG }), 'KEY_HANDLE_INVALID', 'session key after logout');
    await t.hsm.encrypt(other, { key: tokenKey, mechanism: 'AES-GCM', data: MSG });
    await expectCode(() => t.hsm.encrypt(t.user, { key: tokenKey, mechanism: 'AES-GCM', data: MSG }), 'SESSION_INVALID', 'a made-up handle');
    await expectCode(() => t.hsm.whoami('not-a-session'), 'SESSION_INVALID', 'a made-up handle');
  } finally {
    await t.close();
  }
});

test('sessions: idle expiry ends a session; use keeps it alive', async () => {
  // Idle limits are wide enough that a loaded machine's slow logins do not expire a session early.
  const t = await testHsm({ sessionIdleMs: 1000 });
  try {
    const user = (await t.hsm.login({ user: 'alice', password: PASSWORD })).session;
    const key = await t.hsm.generateKey(user, { template: { keyType: 'aes', valueLen: 32 } });
    await sleep(1500);
    await expectCode(() => t.hsm.encrypt(user, { key, mechanism: 'AES-GCM', data: MSG }), 'SESSION_INVALID', 'idle session');
    await expectCode(() => t.hsm.whoami(user), 'SESSION_INVALID', 'still ended');
  } finally {
    await t.close();
  }
  const k = await testHsm({ sessionIdleMs: 1000 });
  try {
    const user = (await k.hsm.login({ user: 'alice', password: PASSWORD })).session;
    // Five uses 400 ms apart span 2 s, twice the idle limit, without a gap that long.
    for (let i = 0; i < 5; i++) {
      await sleep(400);
      assert.equal(k.hsm.whoami(user).user, 'alice', `use ${i}`);
    }
  } finally {
    await k.close();
  }
});
