// Attack tests for the attribute rules (attacks.md ): protection
// attributes move only towards safety, bookkeeping is computed and never caller-set, values are
// never readable, copies only tighten, and one partition cannot see or squat another's keys.

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { HsmError, templateFromEntries } from '../../src/boundary/api.js';
import { importSecret, importTrustedWrapKey, PASSWORD, type TestHsm, testHsm } from '../support/hsm.js';
import { attrsOf, refuses } from './refusals.js';

const K32 = new Uint8Array(32).fill(7);

/** A second partition with its own user, as an attacker from another tenant. */
async function otherTenant(t: TestHsm): Promise<string> {
  t.hsm.createPartition(t.admin, { name: 'p2' });
  await t.hsm.createUser(t.admin, { name: 'bob', password: PASSWORD, role: 'user', partition: 'p2' });
  return (await t.hsm.login({ user: 'bob', password: PASSWORD })).session;
}

test('A-05 Flip SENSITIVE→FALSE or EXTRACTABLE→TRUE', async () => {
  const t = await testHsm();
  try {
    const ks = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', encrypt: true, decrypt: true, extractable: true } });
    const kne = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', encrypt: true, decrypt: true } });
    await refuses(t, 'set sensitive=false', () => t.hsm.setAttributes(t.user, ks, { sensitive: false }), 'ATTRIBUTE_READ_ONLY', 'object.set');
    await refuses(t, 'set extractable=true', () => t.hsm.setAttributes(t.user, kne, { extractable: true }), 'ATTRIBUTE_READ_ONLY', 'object.set');
    await refuses(t, 'copy with sensitive=false', () => t.hsm.copyObject(t.user, ks, { sensitive: false }), 'ATTRIBUTE_READ_ONLY', 'object.copy');
    await refuses(t, 'copy with extractable=true', () => t.hsm.copyObject(t.user, kne, { extractable: true }), 'ATTRIBUTE_READ_ONLY', 'object.copy');
    await refuses(t, 'set alwaysSensitive=true', () => t.hsm.setAttributes(t.user, ks, { alwaysSensitive: true }), 'ATTRIBUTE_READ_ONLY', 'object.set');
    await refuses(t, 'set neverExtractable=true', () => t.hsm.setAttributes(t.user, kne, { neverExtractable: true }), 'ATTRIBUTE_READ_ONLY', 'object.set');
    await refuses(t, 'officer sets sensitive=false', () => t.hsm.setAttributes(t.officer, ks, { sensitive: false }), 'USER_TYPE_INVALID', 'object.set');
    // Only the safer direction moves.
    const weak = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', encrypt: true, sensitive: false, extractable: true } });
    await t.hsm.setAttributes(t.user, weak, { sensitive: true });
    await t.hsm.setAttributes(t.user, weak, { extractable: false });
    const a = await attrsOf(t, weak);
    assert.deepEqual([a.sensitive, a.extractable, a.alwaysSensitive, a.neverExtractable], [true, false, false, false], 'made safer later: not always-sensitive, not never-extractable');
    await refuses(t, 'set sensitive back to false', () => t.hsm.setAttributes(t.user, weak, { sensitive: false }), 'ATTRIBUTE_READ_ONLY', 'object.set');
    await refuses(t, 'set extractable back to true', () => t.hsm.setAttributes(t.user, weak, { extractable: true }), 'ATTRIBUTE_READ_ONLY', 'object.set');
  } finally {
    await t.close();
  }
});

test('A-06 Read secret material directly', async () => {
  const t = await testHsm();
  try {
    const value = Uint8Array.from({ length: 32 }, (_, i) => 0xc0 ^ i);
    const ks = await importSecret(t, 'aes', value, { encrypt: true, decrypt: true });
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const d = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url');
    const ec = await t.hsm.createObject(t.user, { class: 'private-key', keyType: 'ec', privateKey: new Uint8Array(privateKey.export({ format: 'der', type: 'pkcs8' })), sign: true });
    // No read path carries the value: not the attributes, not the public-key call.
    for (const [uid, secret] of [
      [ks, Buffer.from(value)],
      [ec, d],
    ] as const) {
      const info = await attrsOf(t, uid);
      for (const field of ['value', 'privateKey', 'publicKey', 'certificate']) assert.equal(field in info, false, `no ${field} in attributes`);
      const dump = JSON.stringify(info, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));
      assert.equal(dump.includes(secret.toString('hex')), false, 'attributes do not contain the secret');
      assert.equal(dump.includes(secret.toString('base64').slice(0, 20)), false, 'attributes do not contain the secret (base64)');
    }
    const spki = Buffer.from(await t.hsm.getPublicKey(t.user, ec));
    assert.equal(spki.includes(d), false, 'the public key of a private key holds no private scalar');
    await refuses(t, 'public key of a secret key', () => t.hsm.getPublicKey(t.user, ks), 'KEY_TYPE_INCONSISTENT', 'object.public-key');
    // A find filter on the value is not an equality oracle: right and wrong guesses look alike.
    assert.deepEqual(await t.hsm.findObjects(t.user, { value }), []);
    assert.deepEqual(await t.hsm.findObjects(t.user, { value: new Uint8Array(32) }), []);
    // a4: a non-extractable key does not leave, even wrapped, even under a trusted key.
    const kek = await importTrustedWrapKey(t, 'aes', K32);
    await refuses(t, 'wrap a non-extractable key', () => t.hsm.wrapKey(t.user, { wrappingKey: kek, key: ks, mechanism: 'AES-KWP' }), 'KEY_UNEXTRACTABLE', 'key.wrap');
    await refuses(t, 'wrap a non-extractable private key', () => t.hsm.wrapKey(t.user, { wrappingKey: kek, key: ec, mechanism: 'AES-KWP' }), 'KEY_UNEXTRACTABLE', 'key.wrap');
  } finally {
    await t.close();
  }
});

test('A-07 Attribute laundering through copy, copyable, modifiable, destroyable', async () => {
  const t = await testHsm();
  try {
    const ks = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', encrypt: true, decrypt: true } });
    const copy = await t.hsm.copyObject(t.user, ks, { token: false });
    const [src, cp] = [await attrsOf(t, ks), await attrsOf(t, copy)];
    for (const k of ['sensitive', 'extractable', 'alwaysSensitive', 'neverExtractable', 'local', 'private', 'wrapWithTrusted', 'encrypt', 'decrypt']) assert.equal(cp[k], src[k], `copy keeps ${k}`);
    await refuses(t, 'copy makes a private object public', () => t.hsm.copyObject(t.user, ks, { private: false }), 'ATTRIBUTE_READ_ONLY', 'object.copy');
    const noCopy = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', encrypt: true, copyable: false } });
    await refuses(t, 'copy a non-copyable key', () => t.hsm.copyObject(t.user, noCopy, {}), 'ACTION_PROHIBITED', 'object.copy');
    await refuses(t, 'set copyable back to true', () => t.hsm.setAttributes(t.user, noCopy, { copyable: true }), 'ATTRIBUTE_READ_ONLY', 'object.set');
    const fixed = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', encrypt: true, modifiable: false } });
    await refuses(t, 'modify a non-modifiable key', () => t.hsm.setAttributes(t.user, fixed, { label: 'x' }), 'ACTION_PROHIBITED', 'object.set');
    await refuses(t, 'copy a non-modifiable key into a modifiable one', () => t.hsm.copyObject(t.user, fixed, { modifiable: true }), 'ATTRIBUTE_READ_ONLY', 'object.copy');
    const kept = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', encrypt: true, destroyable: false } });
    await refuses(t, 'destroy a non-destroyable key', () => t.hsm.destroyObject(t.user, kept), 'ACTION_PROHIBITED', 'object.destroy');
    await refuses(t, 'schedule deletion of a non-destroyable key', () => t.hsm.scheduleDeletion(t.user, kept, 7), 'ACTION_PROHIBITED', 'key.schedule-deletion');
    // Another tenant cannot copy, change or destroy the key: to it the key does not exist.
    const bob = await otherTenant(t);
    await refuses(t, 'another tenant copies the key', () => t.hsm.copyObject(bob, ks, { private: false }), 'OBJECT_NOT_FOUND', 'object.copy');
    await refuses(t, 'another tenant destroys the key', () => t.hsm.destroyObject(bob, ks), 'OBJECT_NOT_FOUND', 'object.destroy');
  } finally {
    await t.close();
  }
});

test('A-09 Key conflicts / label and ID squatting', async () => {
  const t = await testHsm();
  try {
    const id = Uint8Array.from([1, 2, 3]);
    const victim = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', label: 'payroll-kek', id, wrap: true, unwrap: true } });
    await t.hsm.setAliases(t.user, victim, ['payroll-kek']);
    // (a) An imported look-alike may not wrap, so squatting a KEK's label buys nothing.
    await refuses(t, 'import a look-alike wrapping key', () => t.hsm.createObject(t.user, { class: 'secret-key', keyType: 'aes', label: 'payroll-kek', id, value: K32, wrap: true }), 'TEMPLATE_INCONSISTENT', 'object.create');
    // Same label and id are allowed, but identity is the uid (and aliases are unique).
    const lookAlike = await t.hsm.createObject(t.user, { class: 'secret-key', keyType: 'aes', label: 'payroll-kek', id, value: K32, encrypt: true });
    assert.notEqual(lookAlike, victim);
    await assert.rejects(t.hsm.setAliases(t.user, lookAlike, ['payroll-kek']), (e: unknown) => e instanceof HsmError && e.code === 'ALREADY_EXISTS');
    assert.equal((await t.hsm.getAttributes(t.user, 'alias/payroll-kek')).uid, victim);
    // (b) Another tenant's objects are invisible, whatever their label.
    const bob = await otherTenant(t);
    const bobs = await t.hsm.generateKey(bob, { template: { keyType: 'aes', label: 'payroll-kek', id, wrap: true, unwrap: true } });
    await t.hsm.setAliases(bob, bobs, ['payroll-kek']);
    assert.equal((await t.hsm.findObjects(t.user, { label: 'payroll-kek' })).includes(bobs), false);
    assert.equal((await t.hsm.getAttributes(t.user, 'alias/payroll-kek')).uid, victim, 'the alias resolves in the caller partition');
    // (c) Another tenant cannot relabel the victim, nor use it.
    await refuses(t, 'another tenant relabels the key', () => t.hsm.setAttributes(bob, victim, { label: 'mine' }), 'OBJECT_NOT_FOUND', 'object.set');
    await refuses(t, 'another tenant wraps with the key', () => t.hsm.wrapKey(bob, { wrappingKey: victim, key: bobs, mechanism: 'AES-KWP' }), 'KEY_HANDLE_INVALID', 'wrap');
  } finally {
    await t.close();
  }
});

test('A-15 ALWAYS_SENSITIVE / NEVER_EXTRACTABLE / LOCAL bookkeeping', async () => {
  const t = await testHsm();
  try {
    const book = async (uid: string): Promise<unknown[]> => {
      const a = await attrsOf(t, uid);
      return [a.alwaysSensitive, a.neverExtractable, a.local];
    };
    const gen = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', encrypt: true, sensitive: true, extractable: false } });
    assert.deepEqual(await book(gen), [true, true, true], 'generated');
    const imported = await importSecret(t, 'aes', K32, { encrypt: true, decrypt: true, extractable: true });
    assert.deepEqual(await book(imported), [false, false, false], 'created');
    const kek = await importTrustedWrapKey(t, 'aes', Uint8Array.from(K32, (b) => b ^ 1));
    const { wrapped } = await t.hsm.wrapKey(t.user, { wrappingKey: kek, key: imported, mechanism: 'AES-KWP' });
    const unwrapped = await t.hsm.unwrapKey(t.user, { unwrappingKey: kek, mechanism: 'AES-KWP', wrapped, template: { class: 'secret-key', keyType: 'aes', encrypt: true, extractable: false } });
    assert.deepEqual(await book(unwrapped), [false, false, false], 'unwrapped');
    const base = await importSecret(t, 'generic-secret', K32, { derive: true });
    const derived = await t.hsm.deriveKey(t.user, { baseKey: base, mechanism: 'HKDF', params: { hash: 'SHA-256' }, template: { sign: true } });
    assert.deepEqual(await book(derived), [false, false, false], 'derived from a base that was never always-sensitive');
    const copy = await t.hsm.copyObject(t.user, gen, {});
    assert.deepEqual(await book(copy), [true, true, true], 'copied, not raised nor lowered');
    // Never caller-supplied, on any path.
    for (const name of ['alwaysSensitive', 'neverExtractable', 'local'] as const) {
      await refuses(t, `generate with ${name}`, () => t.hsm.generateKey(t.user, { template: { keyType: 'aes', encrypt: true, [name]: true } }), 'ATTRIBUTE_READ_ONLY', 'key.generate');
      await refuses(t, `create with ${name}`, () => t.hsm.createObject(t.user, { class: 'secret-key', keyType: 'aes', value: K32, encrypt: true, [name]: true }), 'ATTRIBUTE_READ_ONLY', 'object.create');
      await refuses(
        t,
        `unwrap with ${name}`,
        () => t.hsm.unwrapKey(t.user, { unwrappingKey: kek, mechanism: 'AES-KWP', wrapped, template: { class: 'secret-key', keyType: 'aes', encrypt: true, [name]: true } }),
        'ATTRIBUTE_READ_ONLY',
        'key.unwrap',
      );
      await refuses(t, `derive with ${name}`, () => t.hsm.deriveKey(t.user, { baseKey: base, mechanism: 'HKDF', params: { hash: 'SHA-256' }, template: { sign: true, [name]: true } }), 'ATTRIBUTE_READ_ONLY', 'key.derive');
      await refuses(t, `copy with ${name}`, () => t.hsm.copyObject(t.user, imported, { [name]: true }), 'ATTRIBUTE_READ_ONLY', 'object.copy');
      await refuses(t, `set ${name}`, () => t.hsm.setAttributes(t.user, imported, { [name]: true }), 'ATTRIBUTE_READ_ONLY', 'object.set');
    }
  } finally {
    await t.close();
  }
});

test('A-17 Duplicate attributes in one template', async () => {
  // A JavaScript template object cannot hold a name twice; duplicates exist only on the wire, where
  // front ends build templates with templateFromEntries. That refuses them (TEMPLATE_INVALID)
  // before the Hsm is called, so there is no Hsm call to audit here.
  for (const entries of [
    [
      ['sensitive', true],
      ['sensitive', false],
    ],
    [
      ['extractable', false],
      ['keyType', 'aes'],
      ['extractable', true],
    ],
    [
      ['wrap', true],
      ['decrypt', true],
      ['wrap', true],
    ],
  ] as [string, unknown][][]) {
    assert.throws(
      () => templateFromEntries(entries),
      (e: unknown) => e instanceof HsmError && e.code === 'TEMPLATE_INVALID',
    );
  }
  assert.deepEqual(
    templateFromEntries([
      ['sensitive', true],
      ['extractable', false],
    ]),
    { sensitive: true, extractable: false },
  );
  // No checker/builder differential: the Hsm reads the caller's template once, into a copy that
  // both the policy check and the object builder use. A template whose getter answers differently
  // on each read gets the first answer everywhere.
  const t = await testHsm();
  try {
    let reads = 0;
    const shifty = {
      keyType: 'aes' as const,
      encrypt: true,
      get extractable(): boolean {
        reads++;
        return reads > 1; // false to the first reader, true to any later one
      },
    };
    const uid = await t.hsm.generateKey(t.user, { template: shifty });
    assert.equal(reads, 1, 'the template is read once');
    assert.equal((await attrsOf(t, uid)).extractable, false);
  } finally {
    await t.close();
  }
});
