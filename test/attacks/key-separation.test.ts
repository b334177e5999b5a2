// Attack tests for key separation (attacks.md ): no key ever holds
// a wrapping role together with a data role, nor sign with decrypt on RSA, at any creation or
// change point; and where a close key exists, the dangerous use is refused and audited.

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { importTrustedWrapKey, testHsm } from '../support/hsm.js';
import { attrsOf, refuses } from './refusals.js';

const K32 = new Uint8Array(32).fill(7);

test('A-01 Wrap/Decrypt with one symmetric key', async () => {
  const t = await testHsm();
  try {
    const victim = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', encrypt: true, decrypt: true, extractable: true } });
    // Prevention, at every creation and change point.
    await refuses(t, 'generateKey wrap+decrypt', () => t.hsm.generateKey(t.user, { template: { keyType: 'aes', wrap: true, decrypt: true, token: false } }), 'TEMPLATE_INCONSISTENT', 'key.generate');
    // An officer-trusted import passes the A-12 rule, so only separation can refuse it.
    await refuses(t, 'createObject wrap+decrypt (trusted)', () => t.hsm.createObject(t.officer, { class: 'secret-key', keyType: 'aes', value: K32, wrap: true, decrypt: true, trusted: true }), 'TEMPLATE_INCONSISTENT', 'object.create');
    const kek = await importTrustedWrapKey(t, 'aes', K32);
    const { wrapped } = await t.hsm.wrapKey(t.user, { wrappingKey: kek, key: victim, mechanism: 'AES-KWP' });
    await refuses(
      t,
      'unwrapKey into unwrap+decrypt',
      () => t.hsm.unwrapKey(t.user, { unwrappingKey: kek, mechanism: 'AES-KWP', wrapped, template: { class: 'secret-key', keyType: 'aes', unwrap: true, decrypt: true } }),
      'TEMPLATE_INCONSISTENT',
      'key.unwrap',
    );
    const base = await t.hsm.generateKey(t.user, { template: { keyType: 'generic-secret', derive: true } });
    await refuses(
      t,
      'deriveKey into unwrap+decrypt',
      () => t.hsm.deriveKey(t.user, { baseKey: base, mechanism: 'HKDF', params: { hash: 'SHA-256', info: new Uint8Array(1) }, template: { keyType: 'aes', valueLen: 32, unwrap: true, decrypt: true } }),
      'TEMPLATE_INCONSISTENT',
      'key.derive',
    );
    const wrapOnly = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', wrap: true, unwrap: true } });
    await refuses(t, 'copyObject adds decrypt', () => t.hsm.copyObject(t.user, wrapOnly, { decrypt: true }), 'ATTRIBUTE_READ_ONLY', 'object.copy');
    await refuses(t, 'setAttributes adds decrypt', () => t.hsm.setAttributes(t.user, wrapOnly, { decrypt: true }), 'ATTRIBUTE_READ_ONLY', 'object.set');
    // Defence in depth: the wrap key's blob cannot be decrypted with it, under any mechanism that decrypts.
    const blob = await t.hsm.wrapKey(t.user, { wrappingKey: wrapOnly, key: victim, mechanism: 'AES-KW' });
    for (const mechanism of ['AES-KW', 'AES-KWP', 'AES-ECB', 'AES-CBC']) {
      await refuses(t, `decrypt with the wrap key (${mechanism})`, () => t.hsm.decrypt(t.user, { key: wrapOnly, mechanism, data: blob.wrapped, params: { iv: new Uint8Array(16) } }), 'KEY_FUNCTION_NOT_PERMITTED', 'decrypt');
    }
    // And a data key never wraps.
    await refuses(t, 'wrap with a decrypt key', () => t.hsm.wrapKey(t.user, { wrappingKey: victim, key: wrapOnly, mechanism: 'AES-KW' }), 'KEY_FUNCTION_NOT_PERMITTED', 'wrap');
    const a = await attrsOf(t, wrapOnly);
    assert.equal(a.decrypt, false);
    assert.equal(a.encrypt, false);
  } finally {
    await t.close();
  }
});

test('A-02 Wrap/Decrypt with an asymmetric key pair', async () => {
  const t = await testHsm();
  try {
    // The pair counts as one key: wrap on the public half and decrypt on the private half conflict.
    await refuses(
      t,
      'generateKeyPair pub{wrap} priv{decrypt}',
      () => t.hsm.generateKeyPair(t.user, { publicTemplate: { keyType: 'rsa', modulusBits: 2048, wrap: true }, privateTemplate: { keyType: 'rsa', decrypt: true } }),
      'TEMPLATE_INCONSISTENT',
      'key.generate',
    );
    // Defence in depth: a legitimate key-transport pair (wrap/unwrap only) refuses decryption of what it wrapped.
    const pair = await t.hsm.generateKeyPair(t.user, { publicTemplate: { keyType: 'rsa', modulusBits: 2048, wrap: true }, privateTemplate: { keyType: 'rsa', unwrap: true } });
    const victim = await t.hsm.generateKey(t.user, { template: { keyType: 'generic-secret', valueLen: 14, sign: true, extractable: true } });
    const { wrapped } = await t.hsm.wrapKey(t.user, { wrappingKey: pair.publicKey, key: victim, mechanism: 'RSA-PKCS-OAEP', params: { hash: 'SHA-256' } });
    await refuses(t, 'decrypt the blob with the unwrap key', () => t.hsm.decrypt(t.user, { key: pair.privateKey, mechanism: 'RSA-PKCS-OAEP', data: wrapped, params: { hash: 'SHA-256' } }), 'KEY_FUNCTION_NOT_PERMITTED', 'decrypt');
    await refuses(t, 'setAttributes adds decrypt to the unwrap key', () => t.hsm.setAttributes(t.user, pair.privateKey, { decrypt: true }), 'ATTRIBUTE_READ_ONLY', 'object.set');
    // A clear-imported RSA private key may not combine unwrap with decrypt either.
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pkcs8 = new Uint8Array(privateKey.export({ format: 'der', type: 'pkcs8' }));
    await refuses(t, 'createObject RSA private unwrap+decrypt', () => t.hsm.createObject(t.user, { class: 'private-key', keyType: 'rsa', privateKey: pkcs8, unwrap: true, decrypt: true }), 'TEMPLATE_INCONSISTENT', 'object.create');
  } finally {
    await t.close();
  }
});

test('A-03 Encrypt/Unwrap: import a key whose value the attacker knows', async () => {
  const t = await testHsm();
  try {
    await refuses(t, 'generateKey encrypt+unwrap', () => t.hsm.generateKey(t.user, { template: { keyType: 'aes', encrypt: true, unwrap: true } }), 'TEMPLATE_INCONSISTENT', 'key.generate');
    await refuses(t, 'createObject encrypt+unwrap (trusted)', () => t.hsm.createObject(t.officer, { class: 'secret-key', keyType: 'aes', value: K32, wrap: true, unwrap: true, encrypt: true, trusted: true }), 'TEMPLATE_INCONSISTENT', 'object.create');
    // Defence in depth: a data key's ciphertext of a chosen value never unwraps under it.
    const dataKey = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', encrypt: true, decrypt: true } });
    const known = new Uint8Array(32).fill(0x41);
    const c = await t.hsm.encrypt(t.user, { key: dataKey, mechanism: 'AES-KW', data: known });
    await refuses(
      t,
      'unwrap a chosen ciphertext with the data key',
      () => t.hsm.unwrapKey(t.user, { unwrappingKey: dataKey, mechanism: 'AES-KW', wrapped: c.data, template: { class: 'secret-key', keyType: 'aes', encrypt: true } }),
      'KEY_FUNCTION_NOT_PERMITTED',
      'unwrap',
    );
    const unwrapKey = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', unwrap: true } });
    await refuses(t, 'encrypt with the unwrap key', () => t.hsm.encrypt(t.user, { key: unwrapKey, mechanism: 'AES-KW', data: known }), 'KEY_FUNCTION_NOT_PERMITTED', 'encrypt');
  } finally {
    await t.close();
  }
});

test('A-04 Attribute toggling across time', async () => {
  const t = await testHsm();
  try {
    const victim = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', encrypt: true, decrypt: true, extractable: true } });
    const k1 = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', wrap: true, unwrap: true } });
    const { wrapped } = await t.hsm.wrapKey(t.user, { wrappingKey: k1, key: victim, mechanism: 'AES-KW' });
    // Dropping a usage is allowed ...
    await t.hsm.setAttributes(t.user, k1, { wrap: false });
    await t.hsm.setAttributes(t.user, k1, { unwrap: false });
    // ... but no new role ever arrives, and the dropped one does not come back: role history counts.
    for (const usage of ['decrypt', 'encrypt', 'sign', 'derive', 'wrap', 'unwrap'] as const) {
      await refuses(t, `set ${usage}=true after the key wrapped`, () => t.hsm.setAttributes(t.user, k1, { [usage]: true }), 'ATTRIBUTE_READ_ONLY', 'object.set');
    }
    await refuses(t, 'decrypt the old blob', () => t.hsm.decrypt(t.user, { key: k1, mechanism: 'AES-KW', data: wrapped }), 'KEY_FUNCTION_NOT_PERMITTED', 'decrypt');
    const a = await attrsOf(t, k1);
    assert.deepEqual([a.wrap, a.unwrap, a.decrypt, a.encrypt], [false, false, false, false]);
  } finally {
    await t.close();
  }
});

test('A-19 Sign/decrypt key reuse, raw RSA', async () => {
  const t = await testHsm();
  try {
    await refuses(
      t,
      'generateKeyPair priv{sign, decrypt}',
      () => t.hsm.generateKeyPair(t.user, { publicTemplate: { keyType: 'rsa', modulusBits: 2048 }, privateTemplate: { keyType: 'rsa', sign: true, decrypt: true } }),
      'TEMPLATE_INCONSISTENT',
      'key.generate',
    );
    await refuses(
      t,
      'generateKeyPair pub{verify} priv{decrypt} (pair counts as one key)',
      () => t.hsm.generateKeyPair(t.user, { publicTemplate: { keyType: 'rsa', modulusBits: 2048, verify: true, encrypt: true }, privateTemplate: { keyType: 'rsa', decrypt: true } }),
      'TEMPLATE_INCONSISTENT',
      'key.generate',
    );
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pkcs8 = new Uint8Array(privateKey.export({ format: 'der', type: 'pkcs8' }));
    await refuses(t, 'createObject RSA private sign+decrypt', () => t.hsm.createObject(t.user, { class: 'private-key', keyType: 'rsa', privateKey: pkcs8, sign: true, decrypt: true }), 'TEMPLATE_INCONSISTENT', 'object.create');
    // Defence in depth: a signing key does not decrypt; raw RSA (CKM_RSA_X_509) is not offered at all.
    const pair = await t.hsm.generateKeyPair(t.user, { publicTemplate: { keyType: 'rsa', modulusBits: 2048 }, privateTemplate: { keyType: 'rsa', sign: true } });
    await refuses(t, 'decrypt with the signing key', () => t.hsm.decrypt(t.user, { key: pair.privateKey, mechanism: 'RSA-PKCS-OAEP', data: new Uint8Array(256) }), 'KEY_FUNCTION_NOT_PERMITTED', 'decrypt');
    await refuses(t, 'setAttributes adds decrypt to the signing key', () => t.hsm.setAttributes(t.user, pair.privateKey, { decrypt: true }), 'ATTRIBUTE_READ_ONLY', 'object.set');
    for (const raw of ['RSA-X-509', 'CKM_RSA_X_509', 'RSA-RAW']) {
      await refuses(t, `mechanism ${raw}`, () => t.hsm.sign(t.user, { key: pair.privateKey, mechanism: raw, data: new Uint8Array(256) }), 'MECHANISM_INVALID', 'sign');
    }
    // PKCS#1 v1.5 *decryption* is not offered: RSA-PKCS signs only (B-01 would turn a decrypt oracle into forgeries).
    const transport = await t.hsm.generateKeyPair(t.user, { publicTemplate: { keyType: 'rsa', modulusBits: 2048, encrypt: true }, privateTemplate: { keyType: 'rsa', decrypt: true } });
    await refuses(t, 'RSA-PKCS decrypt', () => t.hsm.decrypt(t.user, { key: transport.privateKey, mechanism: 'RSA-PKCS', data: new Uint8Array(256) }), 'MECHANISM_INVALID', 'decrypt');
  } finally {
    await t.close();
  }
});
