// Descriptor-level tests of the RSA/EC key types and the RSA, ECDSA, EdDSA and ECDH mechanisms:
// self-tests (published vectors), key-size and curve rules, pairwise tests, parameter checks,
// uniform failure codes and peer-key validation. Wycheproof runs through the API in test/vectors/.

import assert from 'node:assert/strict';
import { constants, createPrivateKey, createPublicKey, generateKeyPairSync, publicEncrypt } from 'node:crypto';
import { test } from 'node:test';
import { type ErrorCode, HsmError } from '../../src/boundary/errors.js';
import { CURVES, pkcs8FromRaw, spkiFromRaw } from '../../src/boundary/keytypes/ec-curves.js';
import { KEY_TYPES as EC_TYPES } from '../../src/boundary/keytypes/ec.js';
import { KEY_TYPES as RSA_TYPES } from '../../src/boundary/keytypes/rsa.js';
import type { KeyTypeDescriptor } from '../../src/boundary/keytypes/types.js';
import { MECHANISMS as ECDH } from '../../src/boundary/mechanisms/ecdh.js';
import { MECHANISMS as ECDSA } from '../../src/boundary/mechanisms/ecdsa.js';
import { MECHANISMS as EDDSA } from '../../src/boundary/mechanisms/eddsa.js';
import { MECHANISMS as RSA } from '../../src/boundary/mechanisms/rsa.js';
import type { MechanismImpl } from '../../src/boundary/mechanisms/types.js';
import { SecretBytes } from '../../src/boundary/secret.js';
import type { Curve, KeyType, LoadedKey } from '../../src/boundary/types.js';
import { testHsm } from '../support/hsm.js';

const ALL = [...RSA, ...ECDSA, ...EDDSA, ...ECDH];
const TYPES = [...RSA_TYPES, ...EC_TYPES];

function mech(name: string): MechanismImpl {
  const m = ALL.find((d) => d.name === name);
  assert.ok(m, name);
  return m.impl;
}

function fn<T>(f: T | undefined): T {
  assert.ok(f);
  return f;
}

function kt(keyType: KeyType): KeyTypeDescriptor {
  const d = TYPES.find((k) => k.keyType === keyType);
  assert.ok(d, keyType);
  return d;
}

async function rejectsWith(p: Promise<unknown> | (() => unknown), code: ErrorCode, msg?: string): Promise<void> {
  await assert.rejects(
    async () => (typeof p === 'function' ? p() : p),
    (e: unknown) => e instanceof HsmError && e.code === code,
    msg ?? code,
  );
}

/** A generated pair loaded as private and public LoadedKeys. */
async function pair(keyType: KeyType, spec: { modulusBits?: number; curve?: Curve }): Promise<{ priv: LoadedKey; pub: LoadedKey; secret: SecretBytes; publicData: Uint8Array }> {
  const d = kt(keyType);
  const g = await fn(d.generatePair)({ keyType, ...spec });
  return { priv: d.load('p', 1, { secret: g.secret }), pub: d.load('q', 1, { publicData: g.publicData }), secret: g.secret, publicData: g.publicData };
}

function pkcs8(k: ReturnType<typeof generateKeyPairSync>['privateKey']): SecretBytes {
  return SecretBytes.adopt(k.export({ format: 'der', type: 'pkcs8' }) as Buffer);
}

test('every asymmetric descriptor passes its known-answer self-test quickly', async () => {
  for (const d of ALL) {
    await d.selfTest(); // warm-up (first parse of fixed keys)
    // Best of five, so a loaded CI machine measures the work rather than the scheduler.
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 5 && best >= 50; i++) {
      const t0 = performance.now();
      await d.selfTest();
      best = Math.min(best, performance.now() - t0);
    }
    assert.ok(best < 50, `${d.name} self-test took ${best.toFixed(1)} ms`);
  }
});

test('no PKCS#1 v1.5 decryption and no raw RSA anywhere (attacks.md A-19, B-01, B-03)', () => {
  const pkcs = ALL.find((d) => d.name === 'RSA-PKCS');
  assert.deepEqual(pkcs?.operations, ['sign', 'verify']);
  assert.equal(pkcs?.impl.decrypt, undefined);
  assert.equal(pkcs?.impl.unwrap, undefined);
  assert.equal(
    ALL.find((d) => d.ckm === 0x3),
    undefined,
    'CKM_RSA_X_509 is not offered',
  );
  for (const d of ALL) for (const op of d.operations) assert.ok(op === 'generate' || d.impl[op as keyof MechanismImpl], `${d.name} implements ${op}`);
});

test('rsa key type: sizes, exponent, facts, strength', async () => {
  const d = kt('rsa');
  await rejectsWith(() => d.normalizeSpec({ keyType: 'rsa' }), 'TEMPLATE_INCOMPLETE');
  await rejectsWith(() => d.normalizeSpec({ keyType: 'rsa', modulusBits: 1024 }), 'KEY_SIZE_RANGE');
  await rejectsWith(() => d.normalizeSpec({ keyType: 'rsa', modulusBits: 2560 }), 'KEY_SIZE_RANGE');
  await rejectsWith(() => d.normalizeSpec({ keyType: 'rsa', modulusBits: 2048, publicExponent: 3 }), 'ATTRIBUTE_VALUE_INVALID');
  assert.deepEqual(d.normalizeSpec({ keyType: 'rsa', modulusBits: 3072 }), { keyType: 'rsa', modulusBits: 3072, publicExponent: 65537 });

  const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
  await rejectsWith(() => d.load('x', 1, { secret: pkcs8(small.privateKey) }), 'KEY_SIZE_RANGE');
  await rejectsWith(() => d.load('x', 1, { publicData: small.publicKey.export({ format: 'der', type: 'spki' }) }), 'KEY_SIZE_RANGE');
  await rejectsWith(() => d.load('x', 1, { secret: SecretBytes.from(Buffer.from('not a key')) }), 'ATTRIBUTE_VALUE_INVALID');
  const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  await rejectsWith(() => d.load('x', 1, { secret: pkcs8(ec.privateKey) }), 'ATTRIBUTE_VALUE_INVALID', 'an EC key is not an RSA key');

  const p = await pair('rsa', { modulusBits: 2048 });
  assert.equal(p.priv.class, 'private-key');
  assert.equal(p.priv.bits, 2048);
  assert.deepEqual(d.facts({ secret: p.secret }), { modulusBits: 2048, publicExponent: 65537 });
  assert.deepEqual(Buffer.from(fn(d.publicFromPrivate)(p.secret)), Buffer.from(p.publicData));
  await fn(d.pairwiseTest)(p.priv, p.pub);
  const other = await pair('rsa', { modulusBits: 2048 });
  await rejectsWith(fn(d.pairwiseTest)(p.priv, other.pub), 'ATTRIBUTE_VALUE_INVALID', 'a mismatched pair fails the pairwise test');

  const strength = (modulusBits: number) => d.strength({ modulusBits });
  assert.deepEqual([2048, 3072, 4096, 7680, 8192, 15360].map(strength), [112, 128, 128, 192, 192, 256]);
});

test('ec key types: curves per family, facts, strength, pairwise tests', async () => {
  const cases: [KeyType, Curve, number][] = [
    ['ec', 'P-256', 128],
    ['ec', 'P-384', 192],
    ['ec', 'P-521', 256],
    ['ec', 'secp256k1', 128],
    ['ec-edwards', 'Ed25519', 128],
    ['ec-edwards', 'Ed448', 224],
    ['ec-montgomery', 'X25519', 128],
    ['ec-montgomery', 'X448', 224],
  ];
  for (const [keyType, curve, strength] of cases) {
    const d = kt(keyType);
    const p = await pair(keyType, { curve });
    assert.equal(p.priv.curve, curve);
    assert.equal(p.pub.curve, curve);
    assert.deepEqual(d.facts({ publicData: p.publicData }), { curve });
    assert.equal(d.strength({ curve }), strength, curve);
    await fn(d.pairwiseTest)(p.priv, p.pub);
    const other = await pair(keyType, { curve });
    await rejectsWith(fn(d.pairwiseTest)(p.priv, other.pub), 'ATTRIBUTE_VALUE_INVALID', `${curve}: mismatched pair`);
  }
  await rejectsWith(() => kt('ec').normalizeSpec({ keyType: 'ec' }), 'TEMPLATE_INCOMPLETE');
  await rejectsWith(() => kt('ec').normalizeSpec({ keyType: 'ec', curve: 'Ed25519' }), 'DOMAIN_PARAMS_INVALID');
  await rejectsWith(() => kt('ec-edwards').normalizeSpec({ keyType: 'ec-edwards', curve: 'X25519' }), 'DOMAIN_PARAMS_INVALID');
  const ed = generateKeyPairSync('ed25519');
  await rejectsWith(() => kt('ec-montgomery').load('x', 1, { secret: pkcs8(ed.privateKey) }), 'ATTRIBUTE_VALUE_INVALID');
  const p224 = generateKeyPairSync('ec', { namedCurve: 'secp224r1' });
  await rejectsWith(() => kt('ec').load('x', 1, { secret: pkcs8(p224.privateKey) }), 'ATTRIBUTE_VALUE_INVALID', 'unsupported curve');
});

test('ec key with an embedded public key that is not its own fails the pairwise test', async () => {
  const d = kt('ec');
  const a = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const b = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  // Build an RFC 5915 ECPrivateKey with a's scalar and b's public point.
  const jwkA = a.privateKey.export({ format: 'jwk' });
  const jwkB = b.publicKey.export({ format: 'jwk' });
  const forged = createPrivateKey({ key: { ...jwkA, x: jwkB.x, y: jwkB.y }, format: 'jwk' });
  const secret = pkcs8(forged);
  const priv = d.load('x', 1, { secret });
  const pub = d.load('x', 1, { publicData: fn(d.publicFromPrivate)(secret) });
  await rejectsWith(fn(d.pairwiseTest)(priv, pub), 'ATTRIBUTE_VALUE_INVALID');
});

test('RSA signatures: every mechanism round-trips, garbage verifies false, parameters are checked', async () => {
  const { priv, pub } = await pair('rsa', { modulusBits: 2048 });
  const msg = Buffer.from('message');
  const sha256 = (await import('node:crypto')).createHash('sha256').update(msg).digest();
  const cases: [string, Uint8Array, object][] = [
    ['SHA256-RSA-PKCS', msg, {}],
    ['SHA384-RSA-PKCS', msg, {}],
    ['SHA512-RSA-PKCS', msg, {}],
    ['SHA256-RSA-PKCS-PSS', msg, {}],
    ['SHA384-RSA-PKCS-PSS', msg, { saltLength: 0 }],
    ['SHA512-RSA-PKCS-PSS', msg, { saltLength: 64 }],
    ['RSA-PKCS-PSS', sha256, { hash: 'SHA-256', saltLength: 32 }],
    ['RSA-PKCS-PSS', sha256, { hash: 'SHA-256', mgfHash: 'SHA-1', saltLength: 20 }],
    ['RSA-PKCS', Buffer.concat([Buffer.from('3031300d060960864801650304020105000420', 'hex'), sha256]), {}],
  ];
  for (const [name, data, params] of cases) {
    const m = mech(name);
    const sig = await fn(m.sign)(priv, data, params);
    assert.equal(sig.length, 256, name);
    assert.equal(await fn(m.verify)(pub, data, sig, params), true, name);
    assert.equal(await fn(m.verify)(priv, data, sig, params), true, `${name} with the private key object`);
    const bad = Buffer.from(sig);
    bad[100]! ^= 0x40;
    assert.equal(await fn(m.verify)(pub, data, bad, params), false, `${name} tampered`);
    assert.equal(await fn(m.verify)(pub, data, sig.subarray(1), params), false, `${name} short`);
    assert.equal(await fn(m.verify)(pub, data, Buffer.alloc(256, 0xff), params), false, `${name} >= n`);
    assert.equal(await fn(m.verify)(pub, data, new Uint8Array(0), params), false, `${name} empty`);
  }
  await rejectsWith(fn(mech('RSA-PKCS-PSS').sign)(priv, msg, { hash: 'SHA-256' }), 'DATA_LEN_RANGE');
  await rejectsWith(fn(mech('RSA-PKCS-PSS').sign)(priv, sha256, {}), 'MECHANISM_PARAM_INVALID');
  await rejectsWith(fn(mech('RSA-PKCS-PSS').sign)(priv, sha256, { hash: 'MD5' }), 'MECHANISM_PARAM_INVALID');
  await rejectsWith(fn(mech('RSA-PKCS-PSS').sign)(priv, sha256, { hash: 'SHA-256', saltLength: 300 }), 'MECHANISM_PARAM_INVALID');
  await rejectsWith(fn(mech('SHA256-RSA-PKCS-PSS').sign)(priv, msg, { mgfHash: 'SHA-1' }), 'MECHANISM_PARAM_INVALID');
  await rejectsWith(fn(mech('SHA256-RSA-PKCS-PSS').sign)(priv, msg, { hash: 'SHA-384' }), 'MECHANISM_PARAM_INVALID');
  await rejectsWith(fn(mech('SHA256-RSA-PKCS').sign)(pub, msg, {}), 'KEY_TYPE_INCONSISTENT', 'signing needs the private key');
  await rejectsWith(fn(mech('RSA-PKCS').sign)(priv, Buffer.alloc(246), {}), 'DATA_LEN_RANGE');
  const ec = await pair('ec', { curve: 'P-256' });
  await rejectsWith(fn(mech('SHA256-RSA-PKCS').sign)(ec.priv, msg, {}), 'KEY_TYPE_INCONSISTENT');
  assert.equal(ALL.find((d) => d.name === 'SHA1-RSA-PKCS')?.impl.sign, undefined, 'SHA-1 signing is not offered');
});

test('RSA-OAEP: encrypt/decrypt and wrap/unwrap round-trip; every failure is uniform', async () => {
  const { priv, pub } = await pair('rsa', { modulusBits: 2048 });
  const m = mech('RSA-PKCS-OAEP');
  const pt = Buffer.from('a data key, say');
  for (const params of [{}, { hash: 'SHA-1' }, { hash: 'SHA-384', label: Buffer.from('L') }, { hash: 'SHA-512' }]) {
    const { output } = await fn(m.encrypt)(pub, pt, params);
    assert.deepEqual(Buffer.from((await fn(m.decrypt)(priv, output, params)) as Uint8Array), pt);
    const bad = Buffer.from(output);
    bad[5]! ^= 1;
    await rejectsWith(fn(m.decrypt)(priv, bad, params), 'DECRYPT_FAILED');
    await rejectsWith(fn(m.decrypt)(priv, output.subarray(1), params), 'DECRYPT_FAILED');
    await rejectsWith(fn(m.decrypt)(priv, output, { ...params, label: Buffer.from('other') }), 'DECRYPT_FAILED');
    const wrapped = await fn(m.wrap)(pub, SecretBytes.from(pt), params);
    const un = await fn(m.unwrap)(priv, wrapped.output, params);
    assert.ok(un.equals(SecretBytes.from(pt)));
    await rejectsWith(fn(m.unwrap)(priv, bad, params), 'UNWRAP_FAILED');
  }
  // PKCS#1 v1.5 ciphertext under the same key is just another decryption failure.
  const v15 = publicEncrypt({ key: fn(pub.keyObject), padding: constants.RSA_PKCS1_PADDING }, pt);
  await rejectsWith(fn(m.decrypt)(priv, v15, {}), 'DECRYPT_FAILED');
  await rejectsWith(fn(m.encrypt)(pub, Buffer.alloc(191), {}), 'DATA_LEN_RANGE');
  await rejectsWith(fn(m.encrypt)(pub, pt, { hash: 'SHA-256', mgfHash: 'SHA-1' }), 'MECHANISM_PARAM_INVALID');
  await rejectsWith(fn(m.encrypt)(pub, pt, { hash: 'SHA3-256' }), 'MECHANISM_PARAM_INVALID');
  await rejectsWith(fn(m.decrypt)(pub, Buffer.alloc(256), {}), 'KEY_TYPE_INCONSISTENT');
});

test('ECDSA: DER and raw signatures on every curve; malformed signatures verify false', async () => {
  for (const curve of ['P-256', 'P-384', 'P-521', 'secp256k1'] as const) {
    const { priv, pub } = await pair('ec', { curve });
    for (const name of ['ECDSA-SHA224', 'ECDSA-SHA256', 'ECDSA-SHA384', 'ECDSA-SHA512']) {
      const m = mech(name);
      const msg = Buffer.from(`hello ${curve}`);
      const der = await fn(m.sign)(priv, msg, {});
      assert.equal(der[0], 0x30, `${name} ${curve} DER`);
      assert.equal(await fn(m.verify)(pub, msg, der, {}), true);
      const raw = await fn(m.sign)(priv, msg, { signatureFormat: 'raw' });
      assert.equal(raw.length, 2 * CURVES[curve].size, `${name} ${curve} raw length`);
      assert.equal(await fn(m.verify)(pub, msg, raw, { signatureFormat: 'raw' }), true);
      assert.equal(await fn(m.verify)(pub, msg, raw, {}), false, 'raw signature read as DER');
      assert.equal(await fn(m.verify)(pub, msg, der, { signatureFormat: 'raw' }), false, 'DER read as raw');
      assert.equal(await fn(m.verify)(pub, msg, Buffer.concat([der, Buffer.from([0])]), {}), false, 'trailing byte');
      assert.equal(await fn(m.verify)(pub, msg, new Uint8Array(0), {}), false, 'empty');
      assert.equal(await fn(m.verify)(pub, Buffer.from('other'), der, {}), false, 'other message');
    }
  }
  const { priv } = await pair('ec', { curve: 'P-256' });
  await rejectsWith(fn(mech('ECDSA-SHA256').sign)(priv, Buffer.from('x'), { signatureFormat: 'pem' as 'der' }), 'MECHANISM_PARAM_INVALID');
  await rejectsWith(fn(mech('ECDSA-SHA256').sign)(priv, Buffer.from('x'), { hash: 'SHA-384' }), 'MECHANISM_PARAM_INVALID');
  const ed = await pair('ec-edwards', { curve: 'Ed25519' });
  await rejectsWith(fn(mech('ECDSA-SHA256').sign)(ed.priv, Buffer.from('x'), {}), 'KEY_TYPE_INCONSISTENT');
  assert.equal(ALL.find((d) => d.name === 'ECDSA-SHA1')?.impl.sign, undefined, 'SHA-1 signing is not offered');
});

test('EdDSA: Ed25519 and Ed448 round-trip; contexts and prehash are refused', async () => {
  const m = mech('EDDSA');
  for (const curve of ['Ed25519', 'Ed448'] as const) {
    const { priv, pub } = await pair('ec-edwards', { curve });
    const sig = await fn(m.sign)(priv, Buffer.from('msg'), {});
    assert.equal(sig.length, curve === 'Ed25519' ? 64 : 114);
    assert.equal(await fn(m.verify)(pub, Buffer.from('msg'), sig, {}), true);
    assert.equal(await fn(m.verify)(pub, Buffer.from('msh'), sig, {}), false);
    assert.equal(await fn(m.verify)(pub, Buffer.from('msg'), sig.subarray(1), {}), false);
    await rejectsWith(fn(m.sign)(priv, Buffer.from('msg'), { dsaContext: Buffer.from('ctx') }), 'MECHANISM_PARAM_INVALID');
    await rejectsWith(fn(m.sign)(priv, Buffer.from('msg'), { prehashed: true }), 'MECHANISM_PARAM_INVALID');
    assert.ok(await fn(m.sign)(priv, Buffer.from('msg'), { dsaContext: new Uint8Array(0) }), 'an empty context is pure EdDSA');
  }
});

test('ECDH1-DERIVE: both sides agree for every peer-key encoding', async () => {
  const m = mech('ECDH1-DERIVE');
  for (const curve of ['P-256', 'P-384', 'P-521', 'secp256k1', 'X25519', 'X448'] as const) {
    const keyType = CURVES[curve].keyType;
    const a = await pair(keyType, { curve });
    const b = await pair(keyType, { curve });
    const size = CURVES[curve].size;
    const z1 = await fn(m.derive)(a.priv, { publicData: b.publicData }, size);
    const z2 = await fn(m.derive)(b.priv, { publicData: a.publicData }, size);
    assert.ok(z1.equals(z2), curve);
    // Raw encodings: the point (SEC 1) or u-coordinate (RFC 7748) from the SPKI's BIT STRING.
    const rawLen = CURVES[curve].nodeType === 'ec' ? 1 + 2 * size : size;
    const raw = Buffer.from(b.publicData).subarray(-rawLen);
    assert.ok((await fn(m.derive)(a.priv, { publicData: raw }, size)).equals(z1), `${curve} raw`);
    if (CURVES[curve].nodeType === 'ec') {
      const compressed = Buffer.concat([Buffer.from([0x02 | (raw[raw.length - 1]! & 1)]), raw.subarray(1, 1 + size)]);
      assert.ok((await fn(m.derive)(a.priv, { publicData: compressed }, size)).equals(z1), `${curve} compressed`);
      const wrapped = Buffer.concat([Buffer.from([0x04, raw.length]), raw]);
      assert.ok((await fn(m.derive)(a.priv, { publicData: wrapped }, size)).equals(z1), `${curve} OCTET STRING`);
    }
    const short = await fn(m.derive)(a.priv, { publicData: b.publicData }, 16);
    assert.deepEqual(short.insecureBytes(), z1.insecureBytes().subarray(0, 16), 'first bytes of Z');
    await rejectsWith(fn(m.derive)(a.priv, { publicData: b.publicData }, size + 1), 'KEY_SIZE_RANGE');
    await rejectsWith(fn(m.derive)(a.priv, { publicData: b.publicData }, 0), 'KEY_SIZE_RANGE');
    await rejectsWith(fn(m.derive)(a.priv, {}, size), 'MECHANISM_PARAM_INVALID');
    await rejectsWith(fn(m.derive)(a.pub, { publicData: b.publicData }, size), 'KEY_TYPE_INCONSISTENT');
  }
});

test('ECDH1-DERIVE: invalid peer keys are DOMAIN_PARAMS_INVALID (attacks.md A-18)', async () => {
  const m = mech('ECDH1-DERIVE');
  const a = await pair('ec', { curve: 'P-256' });
  const other = await pair('ec', { curve: 'P-384' });
  const k1 = await pair('ec', { curve: 'secp256k1' });
  const raw = Buffer.from((await pair('ec', { curve: 'P-256' })).publicData).subarray(-65);
  const offCurve = Buffer.from(raw);
  offCurve[64]! ^= 1;
  const xTooBig = Buffer.concat([Buffer.from([0x04]), Buffer.alloc(32, 0xff), raw.subarray(33)]);
  const bad: [string, Uint8Array][] = [
    ['other curve (SPKI)', other.publicData],
    ['secp256k1 point (SPKI)', k1.publicData],
    ['off-curve point', offCurve],
    ['x >= p', xTooBig],
    ['point at infinity', Buffer.from([0x00])],
    ['all-zero point', Buffer.alloc(65)],
    ['garbage', Buffer.from('not a key at all')],
    ['X25519 key', (await pair('ec-montgomery', { curve: 'X25519' })).publicData],
  ];
  for (const [what, publicData] of bad) await rejectsWith(fn(m.derive)(a.priv, { publicData }, 32), 'DOMAIN_PARAMS_INVALID', what);

  const x = await pair('ec-montgomery', { curve: 'X25519' });
  // RFC 7748 §6.1: u = 0 and u = 1 are low-order points; the shared secret would be all zero.
  for (const u of [Buffer.alloc(32), Buffer.concat([Buffer.from([1]), Buffer.alloc(31)])]) {
    await rejectsWith(fn(m.derive)(x.priv, { publicData: u }, 32), 'DOMAIN_PARAMS_INVALID', 'low-order u');
  }
  await rejectsWith(fn(m.derive)(x.priv, { publicData: Buffer.alloc(31, 9) }, 32), 'DOMAIN_PARAMS_INVALID', 'short u');
  await rejectsWith(fn(m.derive)(x.priv, { publicData: a.publicData }, 32), 'DOMAIN_PARAMS_INVALID', 'P-256 key for X25519');
});

test('raw-key DER builders round-trip through OpenSSL', () => {
  for (const info of Object.values(CURVES)) {
    const k = info.nodeType === 'ec' ? generateKeyPairSync('ec', { namedCurve: info.namedCurve ?? '' }) : generateKeyPairSync(info.nodeType as 'ed25519');
    const spki = k.publicKey.export({ format: 'der', type: 'spki' });
    const rawLen = info.nodeType === 'ec' ? 1 + 2 * info.size : info.size;
    assert.deepEqual(Buffer.from(spkiFromRaw(info, spki.subarray(-rawLen))), spki, `${info.curve} SPKI`);
    const jwk = k.privateKey.export({ format: 'jwk' });
    const d = Buffer.from(jwk.d ?? '', 'base64url');
    const rebuilt = createPrivateKey({ key: Buffer.from(pkcs8FromRaw(info, d)), format: 'der', type: 'pkcs8' });
    assert.deepEqual(createPublicKey(rebuilt).export({ format: 'der', type: 'spki' }), spki, `${info.curve} PKCS#8`);
  }
  assert.throws(() => pkcs8FromRaw(CURVES['P-256'], Buffer.alloc(33, 1)), HsmError);
});


test('through the API: generated RSA and EC pairs sign, verify, encrypt and agree', async () => {
  const t = await testHsm();
  try {
    const gen = (publicTemplate: object, privateTemplate: object) =>
      t.hsm.generateKeyPair(t.user, { publicTemplate: { token: false, ...publicTemplate }, privateTemplate: { token: false, ...privateTemplate } });
    const rsa = await gen({ keyType: 'rsa', modulusBits: 2048, verify: true }, { keyType: 'rsa', sign: true });
    const msg = Buffer.from('api round trip');
    const { signature } = await t.hsm.sign(t.user, { key: rsa.privateKey, mechanism: 'RSASSA_PSS_SHA_256', data: msg });
    assert.ok(await t.hsm.verify(t.user, { key: rsa.publicKey, mechanism: 'SHA256-RSA-PKCS-PSS', data: msg, signature }));
    const spki = await t.hsm.getPublicKey(t.user, rsa.publicKey);
    assert.equal(createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }).asymmetricKeyDetails?.modulusLength, 2048);

    const oaep = await gen({ keyType: 'rsa', modulusBits: 3072, encrypt: true }, { keyType: 'rsa', decrypt: true });
    const ct = await t.hsm.encrypt(t.user, { key: oaep.publicKey, mechanism: 'RSA-PKCS-OAEP', data: msg });
    assert.deepEqual(Buffer.from(await t.hsm.decrypt(t.user, { key: oaep.privateKey, mechanism: 'RSA-PKCS-OAEP', data: ct.data })), msg);

    for (const curve of ['P-256', 'Ed25519'] as const) {
      const keyType = curve === 'P-256' ? 'ec' : 'ec-edwards';
      const mechanism = curve === 'P-256' ? 'ECDSA-SHA256' : 'EDDSA';
      const p = await gen({ keyType, curve, verify: true }, { keyType, curve, sign: true });
      const sig = await t.hsm.sign(t.user, { key: p.privateKey, mechanism, data: msg });
      assert.ok(await t.hsm.verify(t.user, { key: p.publicKey, mechanism, data: msg, signature: sig.signature }), curve);
      assert.equal((await t.hsm.getAttributes(t.user, p.publicKey)).curve, curve);
    }

    const a = await gen({ keyType: 'ec-montgomery', curve: 'X25519' }, { keyType: 'ec-montgomery', curve: 'X25519', derive: true });
    const b = await gen({ keyType: 'ec-montgomery', curve: 'X25519' }, { keyType: 'ec-montgomery', curve: 'X25519', derive: true });
    const template = { class: 'secret-key', keyType: 'generic-secret', valueLen: 32, sign: true, token: false } as const;
    const za = await t.hsm.deriveKey(t.user, { baseKey: a.privateKey, mechanism: 'ECDH1-DERIVE', params: { publicData: await t.hsm.getPublicKey(t.user, b.publicKey) }, template });
    const zb = await t.hsm.deriveKey(t.user, { baseKey: b.privateKey, mechanism: 'ECDH1-DERIVE', params: { publicData: await t.hsm.getPublicKey(t.user, a.publicKey) }, template });
    const mac = async (key: string) => Buffer.from((await t.hsm.sign(t.user, { key, mechanism: 'HMAC-SHA256', data: msg })).signature);
    assert.deepEqual(await mac(za), await mac(zb), 'both sides derive the same key');
    await assert.rejects(
      t.hsm.generateKeyPair(t.user, { publicTemplate: { keyType: 'rsa', modulusBits: 1024 }, privateTemplate: { keyType: 'rsa', sign: true } }),
      (e: unknown) => e instanceof Error && (e as { code?: string }).code === 'KEY_SIZE_RANGE',
    );
  } finally {
    await t.close();
  }
});
