// The approved-service indicator (FIPS 140-3 IG 2.4.C; attacks.md E-09): every operation's result
// says whether it used an approved service, judged per call (mechanism, curve, key size, IV
// source, hash), and a fipsApprovedOnly partition refuses exactly what is not approved.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectCode } from '../support/expect-code.js';
import { importSecret, PASSWORD, type TestHsm, testHsm } from '../support/hsm.js';

const DATA = Buffer.from('approved or not');

async function fipsUser(t: TestHsm): Promise<string> {
  t.hsm.createPartition(t.admin, { name: 'fips', fipsApprovedOnly: true });
  await t.hsm.createUser(t.admin, { name: 'fred', password: PASSWORD, role: 'user', partition: 'fips' });
  return (await t.hsm.login({ user: 'fred', password: PASSWORD })).session;
}

test('E-09: mixed mode: AES-GCM (module IV) approved, DES3-CBC not, a caller’s GCM IV refused; decrypt says the same', async () => {
  const t = await testHsm();
  const aes = await importSecret(t, 'aes', new Uint8Array(32).fill(3), { encrypt: true, decrypt: true });
  const gcm = await t.hsm.encrypt(t.user, { key: aes, mechanism: 'AES-GCM', data: DATA });
  assert.equal(gcm.approved, true, 'AES-256-GCM with a module-generated IV');
  const dec = await t.hsm.decryptWithIndicator(t.user, { key: aes, mechanism: 'AES-GCM', data: gcm.data, params: gcm.params ?? {} });
  assert.deepEqual([Buffer.from(dec.data).toString(), dec.approved], [DATA.toString(), true]);
  // FIPS 140-3 IG C.H: a GCM IV from outside would not be approved; Coffer refuses it outright.
  await expectCode(() => t.hsm.encrypt(t.user, { key: aes, mechanism: 'AES-GCM', data: DATA, params: { iv: new Uint8Array(12).fill(9) } }), 'MECHANISM_PARAM_INVALID', 'GCM with the caller’s IV');
  const des3 = await importSecret(t, 'des3', Buffer.from('0123456789abcdeffedcba987654321089abcdef01234567', 'hex'), { encrypt: true, decrypt: true });
  const tdes = await t.hsm.encrypt(t.user, { key: des3, mechanism: 'DES3-CBC', data: new Uint8Array(16), params: { iv: new Uint8Array(8) } });
  assert.equal(tdes.approved, false, 'TDES encryption is not approved (SP 800-131A Rev 2 §2)');
  assert.equal((await t.hsm.decryptWithIndicator(t.user, { key: des3, mechanism: 'DES3-CBC', data: tdes.data, params: { iv: new Uint8Array(8) } })).approved, false);
  await t.close();
});

test('E-09: ECDSA on P-256 is approved, on secp256k1 it is not; EdDSA on Ed25519 is (FIPS 186-5); verify carries the flag too', async () => {
  const t = await testHsm();
  for (const [curve, keyType, mechanism, want] of [
    ['P-256', 'ec', 'ECDSA-SHA256', true],
    ['secp256k1', 'ec', 'ECDSA-SHA256', false],
    ['Ed25519', 'ec-edwards', 'EDDSA', true],
  ] as const) {
    const pair = await t.hsm.generateKeyPair(t.user, { privateTemplate: { keyType, curve, sign: true } });
    const s = await t.hsm.sign(t.user, { key: pair.privateKey, mechanism, data: DATA });
    assert.equal(s.approved, want, `${mechanism} on ${curve}: sign`);
    const v = await t.hsm.verifyWithIndicator(t.user, { key: pair.publicKey, mechanism, data: DATA, signature: s.signature });
    assert.deepEqual(v, { valid: true, approved: want }, `${mechanism} on ${curve}: verify`);
  }
  await t.close();
});

test('E-09: digest, derive, wrap, unwrap and KEM results carry the flag', async () => {
  const t = await testHsm();
  assert.equal((await t.hsm.digestWithIndicator(t.user, { mechanism: 'SHA-256', data: DATA })).approved, true);
  assert.equal((await t.hsm.digestWithIndicator(t.user, { mechanism: 'SHA-1', data: DATA })).approved, false);
  const kek = await t.hsm.createObject(t.officer, { class: 'secret-key', keyType: 'aes', value: new Uint8Array(32).fill(5), wrap: true, unwrap: true, trusted: true });
  const target = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', valueLen: 32, extractable: true, encrypt: true } });
  const w = await t.hsm.wrapKey(t.user, { wrappingKey: kek, key: target, mechanism: 'AES-KW' });
  assert.equal(w.approved, true, 'AES-KW (SP 800-38F)');
  const u = await t.hsm.unwrapKeyWithIndicator(t.user, { unwrappingKey: kek, mechanism: 'AES-KW', wrapped: w.wrapped, template: { class: 'secret-key', keyType: 'aes', encrypt: true } });
  assert.equal(u.approved, true);
  const x = await t.hsm.generateKeyPair(t.user, { privateTemplate: { keyType: 'ec-montgomery', curve: 'X25519', derive: true } });
  const peer = await t.hsm.generateKeyPair(t.user, { privateTemplate: { keyType: 'ec-montgomery', curve: 'X25519', derive: true } });
  const ecdh = await t.hsm.deriveKeyWithIndicator(t.user, { baseKey: x.privateKey, mechanism: 'ECDH1-DERIVE', params: { publicData: await t.hsm.getPublicKey(t.user, peer.publicKey) }, template: { keyType: 'generic-secret', valueLen: 32, sign: true } });
  assert.equal(ecdh.approved, false, 'X25519 is not an SP 800-56A Rev 3 curve');
  const kem = await t.hsm.generateKeyPair(t.user, { mechanism: 'ML-KEM-KEY-PAIR-GEN', privateTemplate: { keyType: 'ml-kem', parameterSet: 'ML-KEM-768' } });
  const enc = await t.hsm.encapsulate(t.user, { key: kem.publicKey, mechanism: 'ML-KEM', template: { keyType: 'generic-secret', sign: true } });
  assert.equal(enc.approved, true, 'ML-KEM (FIPS 203)');
  const dec = await t.hsm.decapsulateWithIndicator(t.user, { key: kem.privateKey, mechanism: 'ML-KEM', ciphertext: enc.ciphertext, template: { keyType: 'generic-secret', sign: true } });
  assert.equal(dec.approved, true);
  await t.close();
});

test('E-09: approved-only partition: refuses DES3, secp256k1 key generation and ECDSA; accepts the approved forms', async () => {
  const t = await testHsm();
  const fred = await fipsUser(t);
  await expectCode(() => t.hsm.generateKeyPair(fred, { privateTemplate: { keyType: 'ec', curve: 'secp256k1', sign: true } }), 'MECHANISM_NOT_APPROVED', 'secp256k1 pair');
  const p256 = await t.hsm.generateKeyPair(fred, { privateTemplate: { keyType: 'ec', curve: 'P-256', sign: true } });
  assert.equal((await t.hsm.sign(fred, { key: p256.privateKey, mechanism: 'ECDSA-SHA256', data: DATA })).approved, true);
  const aes = await t.hsm.createObject(fred, { class: 'secret-key', keyType: 'aes', value: new Uint8Array(32).fill(3), encrypt: true, decrypt: true, token: false });
  assert.equal((await t.hsm.encrypt(fred, { key: aes, mechanism: 'AES-GCM', data: DATA })).approved, true);
  const des3 = await t.hsm.createObject(fred, { class: 'secret-key', keyType: 'des3', value: Buffer.from('0123456789abcdeffedcba987654321089abcdef01234567', 'hex'), encrypt: true, token: false });
  await expectCode(() => t.hsm.encrypt(fred, { key: des3, mechanism: 'DES3-CBC', data: new Uint8Array(8), params: { iv: new Uint8Array(8) } }), 'MECHANISM_NOT_APPROVED', 'DES3-CBC');
  // A secp256k1 key imported into the partition cannot be used for ECDSA there either.
  const { generateKeyPairSync } = await import('node:crypto');
  const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey.export({ format: 'der', type: 'pkcs8' });
  const imported = await t.hsm.createObject(fred, { class: 'private-key', keyType: 'ec', privateKey: k1, sign: true, token: false });
  await expectCode(() => t.hsm.sign(fred, { key: imported, mechanism: 'ECDSA-SHA256', data: DATA }), 'MECHANISM_NOT_APPROVED', 'ECDSA on secp256k1');
  const refusals = t.hsm.listAudit(t.auditor, 1, 10_000).filter((r) => r.code === 'MECHANISM_NOT_APPROVED');
  assert.ok(refusals.length >= 3, 'each refusal is audited');
  await t.close();
});
