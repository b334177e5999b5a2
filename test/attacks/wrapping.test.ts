// Attack tests for wrapping and derivation (attacks.md … ): keys leave
// only under keys at least as strong, trusted where required, through authenticated formats, and
// no re-import or derivation yields a copy of a protected key with a role that reveals it.

import assert from 'node:assert/strict';
import { createCipheriv, generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { importTrustedWrapKey, testHsm } from '../support/hsm.js';
import { attrsOf, refuses } from './refusals.js';

const K32 = new Uint8Array(32).fill(7);

test('A-08 Re-import / double unwrap with conflicting roles', async () => {
  const t = await testHsm();
  try {
    const w = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', wrap: true, unwrap: true } });
    const victim = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', encrypt: true, decrypt: true, extractable: true } });
    const k2 = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', encrypt: true, decrypt: true, extractable: true } });
    const { wrapped } = await t.hsm.wrapKey(t.user, { wrappingKey: w, key: k2, mechanism: 'AES-KWP' });
    // The wrapping half of the attack: an unwrapped key is never local, so it may never wrap (A-12 rule) ...
    const tpl = { class: 'secret-key', keyType: 'aes' } as const;
    await refuses(t, 'unwrap as a wrapping key', () => t.hsm.unwrapKey(t.user, { unwrappingKey: w, mechanism: 'AES-KWP', wrapped, template: { ...tpl, wrap: true } }), 'TEMPLATE_INCONSISTENT', 'key.unwrap');
    // ... and the user cannot make it trusted to get round that.
    await refuses(
      t,
      'unwrap as a trusted wrapping key',
      () => t.hsm.unwrapKey(t.user, { unwrappingKey: w, mechanism: 'AES-KWP', wrapped, template: { ...tpl, wrap: true, trusted: true } }),
      'ATTRIBUTE_READ_ONLY',
      'key.unwrap',
    );
    // Re-importing a *wrapping* key under a data role: a wrapping key is never extractable, so it
    // cannot be wrapped, re-imported with decrypt and used to read what it wrapped.
    await refuses(t, 'generate an extractable wrapping key', () => t.hsm.generateKey(t.user, { template: { keyType: 'aes', wrap: true, unwrap: true, extractable: true } }), 'TEMPLATE_INCONSISTENT', 'key.generate');
    await refuses(t, 'generate an extractable unwrapping key', () => t.hsm.generateKey(t.user, { template: { keyType: 'aes', unwrap: true, extractable: true } }), 'TEMPLATE_INCONSISTENT', 'key.generate');
    await refuses(t, 'wrap the wrapping key itself', () => t.hsm.wrapKey(t.user, { wrappingKey: w, key: w, mechanism: 'AES-KWP' }), 'KEY_UNEXTRACTABLE', 'key.wrap');
    // The RSA form: a key-transport private key exported and re-imported with decrypt would read OAEP blobs.
    await refuses(
      t,
      'generate an extractable RSA unwrap key',
      () => t.hsm.generateKeyPair(t.user, { publicTemplate: { keyType: 'rsa', modulusBits: 2048, wrap: true }, privateTemplate: { keyType: 'rsa', unwrap: true, extractable: true } }),
      'TEMPLATE_INCONSISTENT',
      'key.generate',
    );
    // Defence in depth: the data-role copy of K2 cannot decrypt a blob made by the wrap key.
    const k2b = await t.hsm.unwrapKey(t.user, { unwrappingKey: w, mechanism: 'AES-KWP', wrapped, template: { ...tpl, decrypt: true } });
    const blob = await t.hsm.wrapKey(t.user, { wrappingKey: w, key: victim, mechanism: 'AES-KW' });
    await refuses(t, 'decrypt the victim blob with the re-imported key', () => t.hsm.decrypt(t.user, { key: k2b, mechanism: 'AES-KW', data: blob.wrapped }), 'DECRYPT_FAILED', 'decrypt');
  } finally {
    await t.close();
  }
});

/** AES key wrap with padding (RFC 5649) done here, outside the HSM, as an attacker would. */
function kwp(kek: Uint8Array, plain: Uint8Array): Uint8Array {
  const c = createCipheriv(`id-aes${kek.length * 8}-wrap-pad`, kek, Buffer.from('a65959a6', 'hex')); // RFC 5649 §3: AIV prefix
  return new Uint8Array(Buffer.concat([c.update(plain), c.final()]));
}

test('A-10 Wrapping a strong key with a weaker key', async () => {
  const t = await testHsm();
  try {
    const w128 = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', valueLen: 16, wrap: true, unwrap: true } });
    const k256 = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', valueLen: 32, encrypt: true, decrypt: true, extractable: true } });
    await refuses(t, 'AES-128 wraps AES-256', () => t.hsm.wrapKey(t.user, { wrappingKey: w128, key: k256, mechanism: 'AES-KWP' }), 'WRAPPING_KEY_TYPE_INCONSISTENT', 'key.wrap');
    const p384 = await t.hsm.generateKeyPair(t.user, { publicTemplate: { keyType: 'ec', curve: 'P-384' }, privateTemplate: { keyType: 'ec', curve: 'P-384', sign: true, extractable: true } });
    await refuses(t, 'AES-128 wraps a P-384 private key (192-bit strength)', () => t.hsm.wrapKey(t.user, { wrappingKey: w128, key: p384.privateKey, mechanism: 'AES-KWP' }), 'WRAPPING_KEY_TYPE_INCONSISTENT', 'key.wrap');
    const rsa = await t.hsm.generateKeyPair(t.user, { publicTemplate: { keyType: 'rsa', modulusBits: 2048, wrap: true }, privateTemplate: { keyType: 'rsa', unwrap: true } });
    await refuses(t, 'RSA-2048 (112-bit) wraps AES-256', () => t.hsm.wrapKey(t.user, { wrappingKey: rsa.publicKey, key: k256, mechanism: 'RSA-PKCS-OAEP' }), 'WRAPPING_KEY_TYPE_INCONSISTENT', 'key.wrap');
    await refuses(t, 'RSA-1024 wrapping keys are not made', () => t.hsm.generateKeyPair(t.user, { publicTemplate: { keyType: 'rsa', modulusBits: 1024, wrap: true }, privateTemplate: { keyType: 'rsa', unwrap: true } }), 'KEY_SIZE_RANGE', 'key.generate');
    // TDES keys have no wrapping mechanism at all.
    const des = await t.hsm.generateKey(t.user, { template: { keyType: 'des2', wrap: true, unwrap: true } });
    await refuses(t, 'two-key TDES wraps with AES-KW', () => t.hsm.wrapKey(t.user, { wrappingKey: des, key: k256, mechanism: 'AES-KW' }), 'KEY_TYPE_INCONSISTENT', 'wrap');
    // Equal strength is fine: the rule is ≥, not >.
    const w256 = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', valueLen: 32, wrap: true, unwrap: true } });
    await t.hsm.wrapKey(t.user, { wrappingKey: w256, key: k256, mechanism: 'AES-KWP' });
  } finally {
    await t.close();
  }
});

test('A-11 Key-binding attack on two-key 3DES wrapped in ECB', async () => {
  // Not expressible as in attacks.md: Coffer offers no ECB (or any) TDES wrapping. What is tested:
  // no wrap mechanism takes a TDES key, TDES/AES ECB refuse to wrap, and a TDES key with equal
  // halves (what the half-swap produces) is refused on unwrap and on import.
  const { listMechanisms } = await import('../../src/boundary/api.js');
  const tdesWrap = listMechanisms().filter((m) => m.operations.some((op) => op === 'wrap' || op === 'unwrap') && m.keyTypes.some((k) => k === 'des2' || k === 'des3'));
  assert.deepEqual(tdesWrap.map((m) => m.name), [], 'no TDES wrapping mechanism');
  const t = await testHsm();
  try {
    const kek = await t.hsm.generateKey(t.user, { template: { keyType: 'des3', wrap: true, unwrap: true } });
    const victim = await t.hsm.generateKey(t.user, { template: { keyType: 'des2', encrypt: true, decrypt: true, extractable: true } });
    for (const mechanism of ['DES3-ECB', 'DES3-CBC', 'DES3-CBC-PAD', 'AES-ECB']) {
      await refuses(t, `wrap with ${mechanism}`, () => t.hsm.wrapKey(t.user, { wrappingKey: kek, key: victim, mechanism }), 'MECHANISM_INVALID', 'wrap');
      await refuses(t, `unwrap with ${mechanism}`, () => t.hsm.unwrapKey(t.user, { unwrappingKey: kek, mechanism, wrapped: new Uint8Array(16), template: { class: 'secret-key', keyType: 'des2', encrypt: true } }), 'MECHANISM_INVALID', 'unwrap');
    }
    const dataKey = await t.hsm.generateKey(t.user, { template: { keyType: 'des2', encrypt: true, decrypt: true } });
    await refuses(t, 'DES3-ECB is disabled for data too', () => t.hsm.encrypt(t.user, { key: dataKey, mechanism: 'DES3-ECB', data: new Uint8Array(16) }), 'MECHANISM_INVALID', 'encrypt');
    // The half-swapped result (L‖L) is single DES: refused however it arrives.
    const half = Uint8Array.from([0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef]);
    const lL = new Uint8Array([...half, ...half]);
    const aesKek = await importTrustedWrapKey(t, 'aes', K32);
    await refuses(
      t,
      'unwrap a TDES key with equal halves',
      () => t.hsm.unwrapKey(t.user, { unwrappingKey: aesKek, mechanism: 'AES-KWP', wrapped: kwp(K32, lL), template: { class: 'secret-key', keyType: 'des2', encrypt: true } }),
      'UNWRAP_FAILED',
      'key.unwrap',
    );
    await refuses(t, 'import a TDES key with equal halves', () => t.hsm.createObject(t.user, { class: 'secret-key', keyType: 'des2', value: lL, encrypt: true }), 'ATTRIBUTE_VALUE_INVALID', 'object.create');
  } finally {
    await t.close();
  }
});

test('A-12 Trojan wrapping key: import a wrap key the attacker controls', async () => {
  const t = await testHsm();
  try {
    const kAtk = new Uint8Array(32).fill(0xa7);
    await refuses(t, 'user imports a symmetric wrap key', () => t.hsm.createObject(t.user, { class: 'secret-key', keyType: 'aes', value: kAtk, wrap: true }), 'TEMPLATE_INCONSISTENT', 'object.create');
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const spki = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
    await refuses(t, 'user imports an RSA public wrap key', () => t.hsm.createObject(t.user, { class: 'public-key', keyType: 'rsa', publicKey: spki, wrap: true }), 'TEMPLATE_INCONSISTENT', 'object.create');
    // Defence in depth: imported without wrap, it cannot wrap; and a sensitive key marked
    // wrapWithTrusted refuses every untrusted wrapping key, even one generated inside.
    const pubAtk = await t.hsm.createObject(t.user, { class: 'public-key', keyType: 'rsa', publicKey: spki, encrypt: true });
    const victim = await t.hsm.generateKey(t.user, { template: { keyType: 'generic-secret', valueLen: 14, sign: true, extractable: true, wrapWithTrusted: true } });
    await refuses(t, 'wrap under the imported public key', () => t.hsm.wrapKey(t.user, { wrappingKey: pubAtk, key: victim, mechanism: 'RSA-PKCS-OAEP' }), 'KEY_FUNCTION_NOT_PERMITTED', 'wrap');
    const wLocal = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', wrap: true, unwrap: true } });
    await refuses(t, 'wrap a wrapWithTrusted key under an untrusted key', () => t.hsm.wrapKey(t.user, { wrappingKey: wLocal, key: victim, mechanism: 'AES-KWP' }), 'KEY_NOT_WRAPPABLE', 'key.wrap');
    const trusted = await importTrustedWrapKey(t, 'aes', K32);
    await t.hsm.wrapKey(t.user, { wrappingKey: trusted, key: victim, mechanism: 'AES-KWP' });
  } finally {
    await t.close();
  }
});

test('A-13 Trusted-wrap bypasses', async () => {
  const t = await testHsm();
  try {
    const wU = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', wrap: true, unwrap: true } });
    // 1. Only the officer sets trusted, on every path.
    await refuses(t, 'user sets trusted', () => t.hsm.setAttributes(t.user, wU, { trusted: true }), 'ATTRIBUTE_READ_ONLY', 'object.set');
    await refuses(t, 'user creates a trusted key', () => t.hsm.createObject(t.user, { class: 'secret-key', keyType: 'aes', value: K32, wrap: true, trusted: true }), 'ATTRIBUTE_READ_ONLY', 'object.create');
    await refuses(t, 'user generates a trusted key', () => t.hsm.generateKey(t.user, { template: { keyType: 'aes', wrap: true, trusted: true } }), 'ATTRIBUTE_READ_ONLY', 'key.generate');
    const k2 = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', encrypt: true, extractable: true } });
    const { wrapped } = await t.hsm.wrapKey(t.user, { wrappingKey: wU, key: k2, mechanism: 'AES-KWP' });
    await refuses(t, 'user unwraps into a trusted key', () => t.hsm.unwrapKey(t.user, { unwrappingKey: wU, mechanism: 'AES-KWP', wrapped, template: { class: 'secret-key', keyType: 'aes', wrap: true, trusted: true } }), 'ATTRIBUTE_READ_ONLY', 'key.unwrap');
    const base = await t.hsm.generateKey(t.user, { template: { keyType: 'generic-secret', derive: true } });
    await refuses(
      t,
      'user derives a trusted key',
      () => t.hsm.deriveKey(t.user, { baseKey: base, mechanism: 'HKDF', params: { hash: 'SHA-256' }, template: { keyType: 'aes', valueLen: 32, wrap: true, trusted: true } }),
      'ATTRIBUTE_READ_ONLY',
      'key.derive',
    );
    // 2. wrapWithTrusted is one-way, on set and on copy.
    const ks = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', encrypt: true, decrypt: true, extractable: true, wrapWithTrusted: true } });
    await refuses(t, 'set wrapWithTrusted=false', () => t.hsm.setAttributes(t.user, ks, { wrapWithTrusted: false }), 'ATTRIBUTE_READ_ONLY', 'object.set');
    await refuses(t, 'copy with wrapWithTrusted=false', () => t.hsm.copyObject(t.user, ks, { wrapWithTrusted: false }), 'ATTRIBUTE_READ_ONLY', 'object.copy');
    // ... and it survives derivation: the derived key is no easier to export than its base.
    const wwtBase = await t.hsm.generateKey(t.user, { template: { keyType: 'generic-secret', derive: true, extractable: true, wrapWithTrusted: true } });
    const derived = await t.hsm.deriveKey(t.user, { baseKey: wwtBase, mechanism: 'HKDF', params: { hash: 'SHA-256' }, template: { sign: true, extractable: true, wrapWithTrusted: false } });
    assert.equal((await attrsOf(t, derived)).wrapWithTrusted, true, 'derived key keeps wrapWithTrusted');
    await refuses(t, 'wrap the derived key under an untrusted key', () => t.hsm.wrapKey(t.user, { wrappingKey: wU, key: derived, mechanism: 'AES-KWP' }), 'KEY_NOT_WRAPPABLE', 'key.wrap');
    // 3. Unwrap may not drop wrapWithTrusted where the trusted key binds it (its unwrapTemplate).
    //    Blobs carry no attributes, so without an unwrapTemplate the caller's template decides;
    //    that can only widen which *internal* keys may wrap the copy (docs/policy.md).
    const wT = await t.hsm.createObject(t.officer, { class: 'secret-key', keyType: 'aes', value: K32, wrap: true, unwrap: true, trusted: true, unwrapTemplate: { wrapWithTrusted: true, extractable: false } });
    const blob = await t.hsm.wrapKey(t.user, { wrappingKey: wT, key: ks, mechanism: 'AES-KWP' });
    await refuses(
      t,
      'unwrap under the trusted key dropping wrapWithTrusted',
      () => t.hsm.unwrapKey(t.user, { unwrappingKey: wT, mechanism: 'AES-KWP', wrapped: blob.wrapped, template: { class: 'secret-key', keyType: 'aes', decrypt: true, wrapWithTrusted: false, extractable: true } }),
      'TEMPLATE_INCONSISTENT',
      'key.unwrap',
    );
    const again = await t.hsm.unwrapKey(t.user, { unwrappingKey: wT, mechanism: 'AES-KWP', wrapped: blob.wrapped, template: { class: 'secret-key', keyType: 'aes', decrypt: true } });
    const a = await attrsOf(t, again);
    assert.deepEqual([a.wrapWithTrusted, a.extractable, a.local, a.alwaysSensitive, a.trusted], [true, false, false, false, false]);
    // 4. A trusted key is a wrapping key only (A-01 applies to trusted keys too).
    await refuses(t, 'officer creates a trusted key that decrypts', () => t.hsm.createObject(t.officer, { class: 'secret-key', keyType: 'aes', value: K32, wrap: true, decrypt: true, trusted: true }), 'TEMPLATE_INCONSISTENT', 'object.create');
    // The officer manages trust and never uses keys.
    await refuses(t, 'officer wraps', () => t.hsm.wrapKey(t.officer, { wrappingKey: wT, key: ks, mechanism: 'AES-KWP' }), 'USER_TYPE_INVALID', 'wrap');
  } finally {
    await t.close();
  }
});

test('A-14 Wrap/unwrap/derive templates', async () => {
  const t = await testHsm();
  try {
    // 1. wrapTemplate: only matching keys are wrapped.
    const w = await t.hsm.createObject(t.officer, {
      class: 'secret-key',
      keyType: 'aes',
      value: K32,
      wrap: true,
      unwrap: true,
      trusted: true,
      wrapTemplate: { class: 'secret-key', keyType: 'aes', wrapWithTrusted: true },
    });
    const ec = await t.hsm.generateKeyPair(t.user, { publicTemplate: { keyType: 'ec', curve: 'P-256' }, privateTemplate: { keyType: 'ec', curve: 'P-256', sign: true, extractable: true, wrapWithTrusted: true } });
    await refuses(t, 'wrap an EC private key against the wrapTemplate', () => t.hsm.wrapKey(t.user, { wrappingKey: w, key: ec.privateKey, mechanism: 'AES-KWP' }), 'KEY_NOT_WRAPPABLE', 'key.wrap');
    const noWwt = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', encrypt: true, extractable: true } });
    await refuses(t, 'wrap an AES key without wrapWithTrusted', () => t.hsm.wrapKey(t.user, { wrappingKey: w, key: noWwt, mechanism: 'AES-KWP' }), 'KEY_NOT_WRAPPABLE', 'key.wrap');
    const ok = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', encrypt: true, extractable: true, wrapWithTrusted: true } });
    const { wrapped } = await t.hsm.wrapKey(t.user, { wrappingKey: w, key: ok, mechanism: 'AES-KWP' });
    // 2. unwrapTemplate: the caller may not contradict it.
    const u = await t.hsm.createObject(t.officer, { class: 'secret-key', keyType: 'aes', value: K32, unwrap: true, wrap: true, trusted: true, unwrapTemplate: { sensitive: true, extractable: false, decrypt: true } });
    await refuses(
      t,
      'unwrap contradicting the unwrapTemplate',
      () => t.hsm.unwrapKey(t.user, { unwrappingKey: u, mechanism: 'AES-KWP', wrapped, template: { class: 'secret-key', keyType: 'aes', extractable: true, decrypt: true } }),
      'TEMPLATE_INCONSISTENT',
      'key.unwrap',
    );
    const un = await t.hsm.unwrapKey(t.user, { unwrappingKey: u, mechanism: 'AES-KWP', wrapped, template: { class: 'secret-key', keyType: 'aes' } });
    const ua = await attrsOf(t, un);
    assert.deepEqual([ua.sensitive, ua.extractable, ua.decrypt, ua.encrypt], [true, false, true, false], 'the unwrapTemplate is applied');
    // 3. deriveTemplate: the caller may not contradict it.
    const base = await t.hsm.generateKey(t.user, { template: { keyType: 'generic-secret', derive: true, deriveTemplate: { sensitive: true, sign: true } } });
    await refuses(t, 'derive contradicting the deriveTemplate', () => t.hsm.deriveKey(t.user, { baseKey: base, mechanism: 'HKDF', params: { hash: 'SHA-256' }, template: { sensitive: false, sign: true } }), 'TEMPLATE_INCONSISTENT', 'key.derive');
    // 4. Templates are fixed at creation.
    await refuses(t, 'user clears a wrapTemplate', () => t.hsm.setAttributes(t.user, w, { wrapTemplate: {} }), 'ATTRIBUTE_READ_ONLY', 'object.set');
    await refuses(t, 'officer clears a wrapTemplate', () => t.hsm.setAttributes(t.officer, w, { wrapTemplate: {} }), 'ATTRIBUTE_READ_ONLY', 'object.set');
    // 5. Deep nesting is bounded.
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 1000; i++) deep = { wrapTemplate: deep };
    await refuses(t, 'templates nested 1000 deep', () => t.hsm.generateKey(t.user, { template: { keyType: 'aes', wrap: true, ...deep } }), 'TEMPLATE_INVALID', 'key.generate');
    await refuses(t, 'templates nested 1000 deep (create)', () => t.hsm.createObject(t.officer, { class: 'secret-key', keyType: 'aes', value: K32, wrap: true, trusted: true, ...deep }), 'TEMPLATE_INVALID', 'object.create');
  } finally {
    await t.close();
  }
});

test('A-16 Derive-based leaks', async () => {
  const t = await testHsm();
  try {
    const ks = await t.hsm.generateKey(t.user, { template: { keyType: 'generic-secret', derive: true } });
    // 1. The simple KDFs (extract, concatenate, XOR) are not offered at all.
    for (const mechanism of ['EXTRACT-KEY-FROM-KEY', 'CKM_EXTRACT_KEY_FROM_KEY', 'CONCATENATE-BASE-AND-KEY', 'CONCATENATE-DATA-AND-BASE', 'CONCATENATE-BASE-AND-DATA', 'XOR-BASE-AND-DATA']) {
      await refuses(t, `derive with ${mechanism}`, () => t.hsm.deriveKey(t.user, { baseKey: ks, mechanism, template: { sign: true } }), 'MECHANISM_INVALID', 'derive');
    }
    // ... and short outputs of the KDFs that are offered are refused: HKDF output of length n is a
    // prefix of length n+1, so 1-byte keys brute-forced one length at a time rebuild a derived key.
    for (const valueLen of [1, 2, 8, 13]) {
      await refuses(t, `HKDF to ${valueLen} bytes`, () => t.hsm.deriveKey(t.user, { baseKey: ks, mechanism: 'HKDF', params: { hash: 'SHA-256' }, template: { valueLen, sign: true } }), 'KEY_SIZE_RANGE', 'key.derive');
    }
    await t.hsm.deriveKey(t.user, { baseKey: ks, mechanism: 'HKDF', params: { hash: 'SHA-256' }, template: { valueLen: 14, sign: true } });
    const ecdh = await t.hsm.generateKeyPair(t.user, { publicTemplate: { keyType: 'ec', curve: 'P-256', verify: false }, privateTemplate: { keyType: 'ec', curve: 'P-256', derive: true } });
    const peer = await t.hsm.generateKeyPair(t.user, { publicTemplate: { keyType: 'ec', curve: 'P-256', verify: false }, privateTemplate: { keyType: 'ec', curve: 'P-256', derive: true } });
    const peerPub = await t.hsm.getPublicKey(t.user, peer.publicKey);
    await refuses(t, 'ECDH to 1 byte', () => t.hsm.deriveKey(t.user, { baseKey: ecdh.privateKey, mechanism: 'ECDH1-DERIVE', params: { publicData: peerPub }, template: { valueLen: 1, sign: true } }), 'KEY_SIZE_RANGE', 'key.derive');
    // 2. Attribute escape: a derived key is at least as protected as its base.
    const d = await t.hsm.deriveKey(t.user, { baseKey: ks, mechanism: 'HKDF', params: { hash: 'SHA-256' }, template: { sign: true, sensitive: false, extractable: true } });
    const a = await attrsOf(t, d);
    assert.deepEqual([a.sensitive, a.extractable, a.local], [true, false, false], 'sensitive OR base, extractable AND base, never local');
    // 3. A derived key never becomes a wrapping key (its value exists outside the generator's control).
    await refuses(t, 'derive a wrapping key', () => t.hsm.deriveKey(t.user, { baseKey: ks, mechanism: 'HKDF', params: { hash: 'SHA-256' }, template: { keyType: 'aes', valueLen: 32, wrap: true } }), 'TEMPLATE_INCONSISTENT', 'key.derive');
    // 5. Derive needs derive.
    const signOnly = await t.hsm.generateKey(t.user, { template: { keyType: 'generic-secret', sign: true } });
    await refuses(t, 'derive from a key without derive', () => t.hsm.deriveKey(t.user, { baseKey: signOnly, mechanism: 'HKDF', params: { hash: 'SHA-256' }, template: { sign: true } }), 'KEY_FUNCTION_NOT_PERMITTED', 'derive');
  } finally {
    await t.close();
  }
});

test('A-18 Invalid-curve ECDH', async () => {
  const t = await testHsm();
  try {
    const ecdh = await t.hsm.generateKeyPair(t.user, { publicTemplate: { keyType: 'ec', curve: 'P-256', verify: false }, privateTemplate: { keyType: 'ec', curve: 'P-256', derive: true } });
    const peer = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
    const x = Buffer.from(peer.x!, 'base64url');
    const y = Buffer.from(peer.y!, 'base64url');
    const yOff = Buffer.from(y);
    yOff[31]! ^= 1;
    const p = Buffer.from('ffffffff00000001000000000000000000000000ffffffffffffffffffffffff', 'hex');
    const p384 = new Uint8Array(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'der', type: 'spki' }));
    const bad: [string, Uint8Array][] = [
      ['off-curve point', new Uint8Array(Buffer.concat([Buffer.from([4]), x, yOff]))],
      ['x ≥ p', new Uint8Array(Buffer.concat([Buffer.from([4]), p, y]))],
      ['point at infinity', new Uint8Array([0])],
      ['point of another curve (P-384 SPKI)', p384],
      ['all-zero point', new Uint8Array(65).fill(0)],
    ];
    for (const [what, publicData] of bad) {
      await refuses(
        t,
        `ECDH with ${what}`,
        () => t.hsm.deriveKey(t.user, { baseKey: ecdh.privateKey, mechanism: 'ECDH1-DERIVE', params: { publicData }, template: { sign: true, sensitive: false, extractable: true } }),
        'DOMAIN_PARAMS_INVALID',
        'derive',
      );
    }
    // X25519: a low-order u-coordinate gives the all-zero secret (RFC 7748 §6.1).
    const x25519 = await t.hsm.generateKeyPair(t.user, { publicTemplate: { keyType: 'ec-montgomery', curve: 'X25519' }, privateTemplate: { keyType: 'ec-montgomery', curve: 'X25519', derive: true } });
    await refuses(t, 'X25519 with a low-order point', () => t.hsm.deriveKey(t.user, { baseKey: x25519.privateKey, mechanism: 'ECDH1-DERIVE', params: { publicData: new Uint8Array(32) }, template: { sign: true } }), 'DOMAIN_PARAMS_INVALID', 'derive');
    // A valid point works, and the derived secret stays sensitive whatever the template says.
    const good = new Uint8Array(Buffer.concat([Buffer.from([4]), x, y]));
    const k = await t.hsm.deriveKey(t.user, { baseKey: ecdh.privateKey, mechanism: 'ECDH1-DERIVE', params: { publicData: good }, template: { sign: true, sensitive: false } });
    assert.equal((await attrsOf(t, k)).sensitive, true);
  } finally {
    await t.close();
  }
});
