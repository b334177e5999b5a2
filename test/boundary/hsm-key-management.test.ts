// KMS-style key management through the API: rotation appends versions (outputs name the version,
// old versions still decrypt), key states and the 7–30 day deletion window, aliases and tags,
// validity dates, allowedMechanisms (kept by copies), non-destroyable objects, and the bounded
// key cache. Every refusal is checked by its code, with a control call proving the key works.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { expectCode } from '../support/expect-code.js';
import { type TestHsm, testHsm } from '../support/hsm.js';

const MSG = Buffer.from('key management message');
const DAY_MS = 86_400_000;

async function aesKey(t: TestHsm, extra: Record<string, unknown> = {}): Promise<string> {
  return t.hsm.generateKey(t.user, { template: { keyType: 'aes', valueLen: 32, ...extra } });
}

async function roundTrip(t: TestHsm, key: string): Promise<void> {
  const enc = await t.hsm.encrypt(t.user, { key, mechanism: 'AES-GCM', data: MSG });
  const dec = await t.hsm.decrypt(t.user, { key, mechanism: 'AES-GCM', data: enc.data, params: enc.params! });
  assert.equal(Buffer.from(dec).toString(), MSG.toString());
}

test('rotateKey: new version encrypts, keyVersion names it, old ciphertext still decrypts with keyVersion 1', async () => {
  const t = await testHsm();
  try {
    const key = await aesKey(t);
    const v1 = await t.hsm.encrypt(t.user, { key, mechanism: 'AES-GCM', data: MSG });
    assert.equal(v1.keyVersion, 1);
    assert.equal(await t.hsm.rotateKey(t.user, key), 2);
    const info = await t.hsm.getAttributes(t.user, key);
    assert.equal(info.currentVersion, 2);
    assert.deepEqual(info.versions, [1, 2]);
    const v2 = await t.hsm.encrypt(t.user, { key, mechanism: 'AES-GCM', data: MSG });
    assert.equal(v2.keyVersion, 2, 'encrypt uses the new version');

    const old = await t.hsm.decrypt(t.user, { key, mechanism: 'AES-GCM', data: v1.data, params: v1.params!, keyVersion: 1 });
    assert.equal(Buffer.from(old).toString(), MSG.toString(), 'version 1 still decrypts');
    // Without keyVersion the current version is used, and it is a different key.
    await expectCode(() => t.hsm.decrypt(t.user, { key, mechanism: 'AES-GCM', data: v1.data, params: v1.params! }), 'DECRYPT_FAILED', 'v1 ciphertext under v2');
    const cur = await t.hsm.decrypt(t.user, { key, mechanism: 'AES-GCM', data: v2.data, params: v2.params! });
    assert.equal(Buffer.from(cur).toString(), MSG.toString());
    await expectCode(() => t.hsm.decrypt(t.user, { key, mechanism: 'AES-GCM', data: v2.data, params: v2.params!, keyVersion: 3 }), 'ARGUMENTS_BAD', 'unknown version');

    assert.equal(await t.hsm.rotateKey(t.user, key), 3);
    assert.equal((await t.hsm.encrypt(t.user, { key, mechanism: 'AES-GCM', data: MSG })).keyVersion, 3);
    const again = await t.hsm.decrypt(t.user, { key, mechanism: 'AES-GCM', data: v1.data, params: v1.params!, keyVersion: 1 });
    assert.equal(Buffer.from(again).toString(), MSG.toString(), 'version 1 survives a second rotation');

    const pair = await t.hsm.generateKeyPair(t.user, { privateTemplate: { keyType: 'ec', curve: 'P-256' } });
    await expectCode(() => t.hsm.rotateKey(t.user, pair.privateKey), 'KEY_TYPE_INCONSISTENT', 'rotating a private key');
  } finally {
    await t.close();
  }
});

test('setKeyState: a disabled key is refused for every use; enabled again it works', async () => {
  const t = await testHsm();
  try {
    const key = await aesKey(t);
    const enc = await t.hsm.encrypt(t.user, { key, mechanism: 'AES-GCM', data: MSG });
    await t.hsm.setKeyState(t.user, key, 'disabled');
    assert.equal((await t.hsm.getAttributes(t.user, key)).state, 'disabled');
    await expectCode(() => t.hsm.encrypt(t.user, { key, mechanism: 'AES-GCM', data: MSG }), 'KEY_STATE_INVALID', 'encrypt while disabled');
    await expectCode(() => t.hsm.decrypt(t.user, { key, mechanism: 'AES-GCM', data: enc.data, params: enc.params! }), 'KEY_STATE_INVALID', 'decrypt while disabled');
    await expectCode(() => t.hsm.setKeyState(t.user, key, 'destroyed' as 'enabled'), 'ARGUMENTS_BAD', 'unknown state');
    await t.hsm.setKeyState(t.user, key, 'enabled');
    assert.equal((await t.hsm.getAttributes(t.user, key)).state, 'enabled');
    const dec = await t.hsm.decrypt(t.user, { key, mechanism: 'AES-GCM', data: enc.data, params: enc.params! });
    assert.equal(Buffer.from(dec).toString(), MSG.toString());
  } finally {
    await t.close();
  }
});

test('scheduleDeletion: 7–30 days (default 30), key unusable while pending, cancel → disabled, purge destroys', async () => {
  const t = await testHsm();
  try {
    const key = await aesKey(t);
    const bystander = await aesKey(t);
    await expectCode(() => t.hsm.scheduleDeletion(t.user, key, 6), 'ARGUMENTS_BAD', '6 days');
    await expectCode(() => t.hsm.scheduleDeletion(t.user, key, 31), 'ARGUMENTS_BAD', '31 days');
    await expectCode(() => t.hsm.scheduleDeletion(t.user, key, 7.5), 'ARGUMENTS_BAD', 'fractional days');
    assert.equal((await t.hsm.getAttributes(t.user, key)).state, 'enabled', 'refused schedules changed nothing');

    const before = Date.now();
    const date = await t.hsm.scheduleDeletion(t.user, key);
    const when = Date.parse(date);
    assert.ok(Math.abs(when - (before + 30 * DAY_MS)) < 60_000, `default deletion date ${date} is about now + 30 days`);
    const info = await t.hsm.getAttributes(t.user, key);
    assert.equal(info.state, 'pending-deletion');
    assert.equal(info.deletionDate, date);
    await expectCode(() => t.hsm.encrypt(t.user, { key, mechanism: 'AES-GCM', data: MSG }), 'KEY_STATE_INVALID', 'use while pending deletion');
    await expectCode(() => t.hsm.setKeyState(t.user, key, 'enabled'), 'KEY_STATE_INVALID', 'enable while pending deletion');

    await t.hsm.cancelDeletion(t.user, key);
    const cancelled = await t.hsm.getAttributes(t.user, key);
    assert.equal(cancelled.state, 'disabled', 'a cancelled deletion leaves the key disabled');
    assert.equal(cancelled.deletionDate, undefined);
    await expectCode(() => t.hsm.cancelDeletion(t.user, key), 'KEY_STATE_INVALID', 'cancel with nothing pending');
    await expectCode(() => t.hsm.encrypt(t.user, { key, mechanism: 'AES-GCM', data: MSG }), 'KEY_STATE_INVALID', 'disabled after cancel');

    const soon = await t.hsm.scheduleDeletion(t.user, key, 7);
    assert.ok(Math.abs(Date.parse(soon) - (Date.now() + 7 * DAY_MS)) < 60_000);
    assert.equal(t.hsm.purgeDueDeletions(), 0, 'nothing is due yet');
    assert.equal((await t.hsm.getAttributes(t.user, key)).state, 'pending-deletion');
    assert.equal(t.hsm.purgeDueDeletions(new Date(Date.now() + 8 * DAY_MS)), 1, 'due after 8 days');
    await expectCode(() => t.hsm.getAttributes(t.user, key), 'OBJECT_NOT_FOUND', 'after purge');
    await expectCode(() => t.hsm.encrypt(t.user, { key, mechanism: 'AES-GCM', data: MSG }), 'KEY_HANDLE_INVALID', 'use after purge');
    assert.ok(!(await t.hsm.findObjects(t.user, {})).includes(key));
    await roundTrip(t, bystander);
    assert.ok(t.hsm.listAudit(t.auditor).some((r) => r.op === 'object.destroy' && r.target === key && r.actor === 'system'), 'the purge is audited');
  } finally {
    await t.close();
  }
});

test('aliases: resolve as alias/<name>, unique in the partition, freed when moved, invisible elsewhere', async () => {
  const t = await testHsm();
  try {
    const k1 = await aesKey(t);
    const k2 = await aesKey(t);
    await t.hsm.setAliases(t.user, k1, ['payments/data', 'billing']);
    assert.deepEqual((await t.hsm.getAttributes(t.user, k1)).aliases.sort(), ['billing', 'payments/data']);
    assert.equal((await t.hsm.getAttributes(t.user, 'alias/payments/data')).uid, k1);
    const enc = await t.hsm.encrypt(t.user, { key: 'alias/billing', mechanism: 'AES-GCM', data: MSG });
    const dec = await t.hsm.decrypt(t.user, { key: k1, mechanism: 'AES-GCM', data: enc.data, params: enc.params! });
    assert.equal(Buffer.from(dec).toString(), MSG.toString(), 'alias and uid name the same key');

    await expectCode(() => t.hsm.setAliases(t.user, k2, ['billing']), 'ALREADY_EXISTS', 'alias held by another key');
    await expectCode(() => t.hsm.setAliases(t.user, k2, ['has space']), 'ARGUMENTS_BAD', 'malformed alias');
    await expectCode(() => t.hsm.getAttributes(t.user, 'alias/nope'), 'OBJECT_NOT_FOUND', 'unknown alias');
    // Replacing k1's aliases frees 'billing' for k2.
    await t.hsm.setAliases(t.user, k1, ['payments/data']);
    await expectCode(() => t.hsm.getAttributes(t.user, 'alias/billing'), 'OBJECT_NOT_FOUND', 'freed alias');
    await t.hsm.setAliases(t.user, k2, ['billing']);
    assert.equal((await t.hsm.getAttributes(t.user, 'alias/billing')).uid, k2);
    // Destroying a key frees its aliases.
    await t.hsm.destroyObject(t.user, k2);
    await expectCode(() => t.hsm.getAttributes(t.user, 'alias/billing'), 'OBJECT_NOT_FOUND', 'alias of a destroyed key');
    await t.hsm.setAliases(t.user, k1, ['payments/data', 'billing']);
    assert.equal((await t.hsm.getAttributes(t.user, 'alias/billing')).uid, k1);

    t.hsm.createPartition(t.admin, { name: 'p2' });
    await t.hsm.createUser(t.admin, { name: 'bob', password: 'correct horse battery staple', role: 'user', partition: 'p2' });
    const bob = (await t.hsm.login({ user: 'bob', password: 'correct horse battery staple' })).session;
    await expectCode(() => t.hsm.getAttributes(bob, 'alias/billing'), 'OBJECT_NOT_FOUND', 'alias from another partition');
    await expectCode(() => t.hsm.encrypt(bob, { key: 'alias/billing', mechanism: 'AES-GCM', data: MSG }), 'KEY_HANDLE_INVALID', 'alias use from another partition');
  } finally {
    await t.close();
  }
});

test('tags: set, replaced as a whole, validated', async () => {
  const t = await testHsm();
  try {
    const key = await aesKey(t);
    assert.deepEqual((await t.hsm.getAttributes(t.user, key)).tags, {});
    await t.hsm.setTags(t.user, key, { team: 'payments', env: 'test' });
    assert.deepEqual((await t.hsm.getAttributes(t.user, key)).tags, { team: 'payments', env: 'test' });
    await t.hsm.setTags(t.user, key, { team: 'billing' });
    assert.deepEqual((await t.hsm.getAttributes(t.user, key)).tags, { team: 'billing' });
    await expectCode(() => t.hsm.setTags(t.user, key, { n: 1 as unknown as string }), 'ARGUMENTS_BAD', 'non-string tag');
    await expectCode(() => t.hsm.setTags(t.user, key, { '': 'x' }), 'ARGUMENTS_BAD', 'empty tag key');
    await expectCode(() => t.hsm.setTags(t.user, key, Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']))), 'ARGUMENTS_BAD', '51 tags');
    assert.deepEqual((await t.hsm.getAttributes(t.user, key)).tags, { team: 'billing' }, 'refused tag sets changed nothing');
  } finally {
    await t.close();
  }
});

test('validity dates: after endDate signing is refused but verifying still works; before startDate nothing works', async () => {
  const t = await testHsm();
  try {
    const value = Uint8Array.from({ length: 32 }, (_, i) => i * 3);
    const key = await t.hsm.createObject(t.user, { class: 'secret-key', keyType: 'generic-secret', value, sign: true, verify: true, token: true });
    const mac = createHmac('sha256', value).update(MSG).digest();
    const made = await t.hsm.sign(t.user, { key, mechanism: 'HMAC-SHA256', data: MSG });
    assert.equal(Buffer.from(made.signature).toString('hex'), mac.toString('hex'));

    await t.hsm.setAttributes(t.user, key, { endDate: '2020-01-01' });
    await expectCode(() => t.hsm.sign(t.user, { key, mechanism: 'HMAC-SHA256', data: MSG }), 'KEY_STATE_INVALID', 'sign after endDate');
    assert.equal(await t.hsm.verify(t.user, { key, mechanism: 'HMAC-SHA256', data: MSG, signature: mac }), true, 'verify after endDate');
    assert.equal(await t.hsm.verify(t.user, { key, mechanism: 'HMAC-SHA256', data: Buffer.from('other'), signature: mac }), false);

    const future = new Date(Date.now() + 10 * DAY_MS).toISOString().slice(0, 10);
    const later = await t.hsm.createObject(t.user, { class: 'secret-key', keyType: 'generic-secret', value, sign: true, verify: true, startDate: future });
    await expectCode(() => t.hsm.sign(t.user, { key: later, mechanism: 'HMAC-SHA256', data: MSG }), 'KEY_STATE_INVALID', 'sign before startDate');
    await expectCode(() => t.hsm.verify(t.user, { key: later, mechanism: 'HMAC-SHA256', data: MSG, signature: mac }), 'KEY_STATE_INVALID', 'verify before startDate');
  } finally {
    await t.close();
  }
});

test('allowedMechanisms: other mechanisms are refused; copies keep the restriction and cannot loosen protection', async () => {
  const t = await testHsm();
  try {
    const key = await aesKey(t, { allowedMechanisms: ['AES-GCM'], label: 'gcm only' });
    await roundTrip(t, key);
    await expectCode(() => t.hsm.encrypt(t.user, { key, mechanism: 'AES-CBC-PAD', data: MSG, params: { iv: new Uint8Array(16) } }), 'MECHANISM_INVALID', 'AES-CBC-PAD');
    await expectCode(() => t.hsm.encrypt(t.user, { key, mechanism: 'AES-CTR', data: MSG, params: { iv: new Uint8Array(16) } }), 'MECHANISM_INVALID', 'AES-CTR');
    // Control: an unrestricted key accepts CBC-PAD, so the refusal above is the restriction.
    const free = await aesKey(t);
    await t.hsm.encrypt(t.user, { key: free, mechanism: 'AES-CBC-PAD', data: MSG, params: { iv: new Uint8Array(16) } });

    const copy = await t.hsm.copyObject(t.user, key, { label: 'the copy' });
    const info = await t.hsm.getAttributes(t.user, copy);
    assert.equal(info.label, 'the copy');
    assert.deepEqual(info.allowedMechanisms, ['AES-GCM']);
    assert.equal(info.sensitive, true);
    assert.equal(info.extractable, false);
    await expectCode(() => t.hsm.encrypt(t.user, { key: copy, mechanism: 'AES-CBC-PAD', data: MSG, params: { iv: new Uint8Array(16) } }), 'MECHANISM_INVALID', 'copy AES-CBC-PAD');
    // The copy holds the same key: it decrypts what the original encrypted.
    const enc = await t.hsm.encrypt(t.user, { key, mechanism: 'AES-GCM', data: MSG });
    const dec = await t.hsm.decrypt(t.user, { key: copy, mechanism: 'AES-GCM', data: enc.data, params: enc.params! });
    assert.equal(Buffer.from(dec).toString(), MSG.toString());

    await expectCode(() => t.hsm.copyObject(t.user, key, { allowedMechanisms: ['AES-GCM', 'AES-CBC-PAD'] }), 'ATTRIBUTE_READ_ONLY', 'widening allowedMechanisms on copy');
    await expectCode(() => t.hsm.copyObject(t.user, key, { sensitive: false }), 'ATTRIBUTE_READ_ONLY', 'sensitive true→false on copy');
    await expectCode(() => t.hsm.copyObject(t.user, key, { extractable: true }), 'ATTRIBUTE_READ_ONLY', 'extractable false→true on copy');
    const locked = await aesKey(t, { copyable: false });
    await expectCode(() => t.hsm.copyObject(t.user, locked), 'ACTION_PROHIBITED', 'copyable:false');
  } finally {
    await t.close();
  }
});

test('destroyable:false: destroy and scheduled deletion are ACTION_PROHIBITED; modifiable:false refuses changes', async () => {
  const t = await testHsm();
  try {
    const key = await aesKey(t, { destroyable: false });
    await expectCode(() => t.hsm.destroyObject(t.user, key), 'ACTION_PROHIBITED', 'destroyObject');
    await expectCode(() => t.hsm.scheduleDeletion(t.user, key), 'ACTION_PROHIBITED', 'scheduleDeletion');
    await roundTrip(t, key);
    const fixed = await aesKey(t, { modifiable: false, label: 'fixed' });
    await expectCode(() => t.hsm.setAttributes(t.user, fixed, { label: 'changed' }), 'ACTION_PROHIBITED', 'setAttributes on modifiable:false');
    assert.equal((await t.hsm.getAttributes(t.user, fixed)).label, 'fixed');
    // Control: a destroyable key goes.
    const gone = await aesKey(t);
    await t.hsm.destroyObject(t.user, gone);
    await expectCode(() => t.hsm.getAttributes(t.user, gone), 'OBJECT_NOT_FOUND', 'destroyed');
  } finally {
    await t.close();
  }
});

test('the key cache stays bounded (cacheSize 4, 20 keys) and every key still works', async () => {
  const t = await testHsm({ cacheSize: 4 });
  try {
    const keys: string[] = [];
    for (let i = 0; i < 20; i++) keys.push(await aesKey(t));
    const cts = [];
    for (const key of keys) {
      cts.push(await t.hsm.encrypt(t.user, { key, mechanism: 'AES-GCM', data: Buffer.from(key) }));
      assert.ok(t.hsm.status().cachedKeys <= 4, `cachedKeys ${t.hsm.status().cachedKeys} ≤ 4`);
    }
    assert.equal(t.hsm.status().cachedKeys, 4, 'the cache is in use');
    // Second pass in reverse order: every key is unsealed again after eviction and still right.
    for (let i = keys.length - 1; i >= 0; i--) {
      const ct = cts[i]!;
      const dec = await t.hsm.decrypt(t.user, { key: keys[i]!, mechanism: 'AES-GCM', data: ct.data, params: ct.params! });
      assert.equal(Buffer.from(dec).toString(), keys[i]);
      assert.ok(t.hsm.status().cachedKeys <= 4);
    }
    // Concurrent use of more keys than the cache holds: eviction must not break keys in flight.
    const results = await Promise.all(keys.map((key) => t.hsm.encrypt(t.user, { key, mechanism: 'AES-GCM', data: MSG })));
    await Promise.all(
      results.map(async (r, i) => {
        const dec = await t.hsm.decrypt(t.user, { key: keys[i]!, mechanism: 'AES-GCM', data: r.data, params: r.params! });
        assert.equal(Buffer.from(dec).toString(), MSG.toString(), `concurrent key ${i}`);
      }),
    );
    assert.ok(t.hsm.status().cachedKeys <= 4);
  } finally {
    await t.close();
  }
});
