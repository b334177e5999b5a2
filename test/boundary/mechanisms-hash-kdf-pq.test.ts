// Descriptor-level tests for digests, HMAC, HKDF, SP 800-108 and the post-quantum mechanisms and
// key types: they call the descriptors directly (below the guard pipeline) so each rule of the
// family is checked on its own. The API-level vector tests are in test/vectors/.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import { ml_kem512, ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { HsmError } from '../../src/boundary/errors.js';
import { decodePkcs8, decodeSpki, encodePkcs8 } from '../../src/boundary/keytypes/pq-der.js';
import { KEY_TYPES as PQ_KEY_TYPES } from '../../src/boundary/keytypes/pq.js';
import type { KeyTypeDescriptor } from '../../src/boundary/keytypes/types.js';
import { hashByName, HASHES } from '../../src/boundary/mechanisms/hash-names.js';
import { kbkdfCounter, sp800108FixedInput } from '../../src/boundary/mechanisms/kdf.js';
import { mechanism } from '../../src/boundary/mechanisms/registry.js';
import type { MechanismDescriptor } from '../../src/boundary/mechanisms/types.js';
import { SecretBytes } from '../../src/boundary/secret.js';
import type { LoadedKey } from '../../src/boundary/types.js';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');
const isCode = (code: string) => (e: unknown) => e instanceof HsmError && e.code === code;

function kt(keyType: string): KeyTypeDescriptor {
  const d = PQ_KEY_TYPES.find((k) => k.keyType === keyType);
  assert.ok(d, keyType);
  return d;
}

function secretKey(value: Uint8Array): LoadedKey {
  return { uid: 'k', version: 1, keyType: 'generic-secret', class: 'secret-key', secret: SecretBytes.from(value), bits: value.length * 8 };
}

function m(name: string): MechanismDescriptor {
  return mechanism(name);
}

test('hash names: every spelling resolves, unknown names are a parameter error', () => {
  for (const s of ['SHA-256', 'SHA256', 'sha256', 'sha-256']) assert.equal(hashByName(s), HASHES['SHA-256']);
  for (const s of ['SHA3-256', 'sha3-256', 'SHA3_256']) assert.equal(hashByName(s), HASHES['SHA3-256']);
  assert.equal(hashByName('SHA-1').approved, false);
  assert.throws(() => hashByName('MD5'), isCode('MECHANISM_PARAM_INVALID'));
  assert.throws(() => hashByName(42 as unknown as string), isCode('MECHANISM_PARAM_INVALID'));
});

test('self-tests of every mechanism in these families pass', async () => {
  for (const name of ['SHA-1', 'SHA-224', 'SHA-256', 'SHA-384', 'SHA-512', 'SHA3-256', 'SHA3-384', 'SHA3-512', 'HMAC-SHA1', 'HMAC-SHA256', 'HMAC-SHA384', 'HMAC-SHA512', 'HKDF', 'SP800-108-COUNTER-KDF', 'ML-DSA', 'ML-KEM', 'SLH-DSA']) {
    await m(name).selfTest();
  }
});

test('PKCS#11 numbers', () => {
  const want: Record<string, number> = { 'SHA-256': 0x250, 'SHA3-256': 0x2b0, 'HMAC-SHA256': 0x251, 'HMAC-SHA1': 0x221, HKDF: 0x402a, 'SP800-108-COUNTER-KDF': 0x3ac, 'ML-DSA': 0x1d, 'ML-KEM': 0x17, 'SLH-DSA': 0x2e, 'ML-KEM-KEY-PAIR-GEN': 0x0f, 'ML-DSA-KEY-PAIR-GEN': 0x1c, 'SLH-DSA-KEY-PAIR-GEN': 0x2d };
  for (const [name, ckm] of Object.entries(want)) assert.equal(m(name).ckm, ckm, name);
  assert.deepEqual(PQ_KEY_TYPES.map((k) => [k.keyType, k.ckk]), [['ml-dsa', 0x4a], ['ml-kem', 0x49], ['slh-dsa', 0x4b]]);
});

test('digest: FIPS 180-4 "abc" through the descriptor, by alias too', async () => {
  const out = await m('SHA256').impl.digest?.(Buffer.from('abc'), {});
  assert.equal(Buffer.from(out as Uint8Array).toString('hex'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.deepEqual(m('SHA-256').keyTypes, []);
});

test('HMAC: RFC 4231 case 2, truncation, uniform false on bad tags, parameter and key-type errors', async () => {
  const key = secretKey(Buffer.from('Jefe'));
  const data = Buffer.from('what do ya want for nothing?');
  const h = m('HMAC-SHA256').impl;
  const tag = (await h.sign?.(key, data, {})) as Uint8Array;
  assert.equal(Buffer.from(tag).toString('hex'), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  assert.equal(await h.verify?.(key, data, tag, {}), true);
  // RFC 4231 §4.6 (case 5) shows truncation to 128 bits: the prefix of the full tag.
  const t16 = (await h.sign?.(key, data, { length: 16 })) as Uint8Array;
  assert.deepEqual(Buffer.from(t16), Buffer.from(tag).subarray(0, 16));
  assert.equal(await h.verify?.(key, data, t16, { length: 16 }), true);
  assert.equal(await h.verify?.(key, data, t16, {}), false, 'a truncated tag is not accepted unless asked for');
  assert.equal(await h.verify?.(key, data, tag.subarray(0, 31), {}), false);
  const bad = Uint8Array.from(tag);
  bad[31] = (bad[31] as number) ^ 1;
  assert.equal(await h.verify?.(key, data, bad, {}), false);
  await assert.rejects(async () => h.sign?.(key, data, { length: 3 }), isCode('MECHANISM_PARAM_INVALID'));
  await assert.rejects(async () => h.sign?.(key, data, { length: 33 }), isCode('MECHANISM_PARAM_INVALID'));
  await assert.rejects(async () => h.sign?.({ ...key, keyType: 'aes' }, data, {}), isCode('KEY_TYPE_INCONSISTENT'));
  assert.deepEqual(m('HMAC-SHA1').operations, ['verify'], 'SHA-1 HMAC verifies legacy tags only');
});

test('HKDF: RFC 5869 A.2/A.3 and bounds', async () => {
  const d = m('HKDF').impl;
  // RFC 5869 A.3: SHA-256, zero-length salt and info.
  const ikm = secretKey(Buffer.alloc(22, 0x0b));
  const okm = (await d.derive?.(ikm, { hash: 'SHA-256' }, 42)) as SecretBytes;
  assert.equal(okm.insecureBytes().toString('hex'), '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8');
  // RFC 5869 A.2: longer inputs (80-byte ikm, salt, info).
  const seq = (from: number) => Buffer.from(Array.from({ length: 80 }, (_, i) => from + i));
  const okm2 = (await d.derive?.(secretKey(seq(0)), { hash: 'SHA-256', salt: seq(0x60), info: seq(0xb0) }, 82)) as SecretBytes;
  assert.equal(
    okm2.insecureBytes().toString('hex'),
    'b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87',
  );
  await assert.rejects(async () => d.derive?.(ikm, { hash: 'SHA-256' }, 255 * 32 + 1), isCode('MECHANISM_PARAM_INVALID'));
  await assert.rejects(async () => d.derive?.(ikm, { hash: 'SHA-256' }, 0), isCode('MECHANISM_PARAM_INVALID'));
  await assert.rejects(async () => d.derive?.(ikm, {}, 32), isCode('MECHANISM_PARAM_INVALID'));
  await assert.rejects(async () => d.derive?.(ikm, { hash: 'SHA-256', info: Buffer.alloc(1025) }, 32), isCode('MECHANISM_PARAM_INVALID'));
});

// NIST CAVP KBKDF (CAVS 14.4 KDFCTR_gen.rsp) [PRF=HMAC_SHA256][CTRLOCATION=BEFORE_FIXED][RLEN=32_BITS],
// as quoted in public test suites: COUNT=0 (L=128), an L=256 case and two L=320 cases (two PRF blocks).
const CAVP_KBKDF = [
  ['dd1d91b7d90b2bd3138533ce92b272fbf8a369316aefe242e659cc0ae238afe0', '01322b96b30acd197979444e468e1c5c6859bf1b1cf951b7e725303e237e46b864a145fab25e517b08f8683d0315bb2911d80a0e8aba17f3b413faac', '10621342bfb0fd40046c0e29f2cfdbf0'],
  ['e204d6d466aad507ffaf6d6dab0a5b26152c9e21e764370464e360c8fbc765c6', '7b03b98d9f94b899e591f3ef264b71b193fba7043c7e953cde23bc5384bc1a6293580115fae3495fd845dadbd02bd6455cf48d0f62b33e62364a3a80', '770dfab6a6a4a4bee0257ff335213f78d8287b4fd537d5c1fffa956910e7c779'],
  ['c4bedbddb66493e7c7259a3bbbc25f8c7e0ca7fe284d92d431d9cd99a0d214ac', '1c69c54766791e315c2cc5c47ecd3ffab87d0d273dd920e70955814c220eacace6a5946542da3dfe24ff626b4897898cafb7db83bdff3c14fa46fd4b', '1da47638d6c9c4d04d74d4640bbd42ab814d9e8cc22f4326695239f96b0693f12d0dd1152cf44430'],
  ['22256ca571d5c896db80a8758ff81cf8631d2bc38c7e76f3bafb0c2af540a356', '9dd2dcd97b926251b50c6111d988e2951b02accc143702c88920cf36848f7c731756ab0537cb26e22725f11de069e5335802b0cb56c158dd75014791', 'a11aa3b1a93d2ce117550866c28d6974cf626719385b8868101a71a5d2aa793bc23c3cfdebe52ec9'],
] as const;

test('SP 800-108 counter KDF: CAVP KDFCTR vectors (opaque fixed input)', () => {
  for (const [ki, fixed, ko] of CAVP_KBKDF) {
    const out = kbkdfCounter(hashByName('SHA-256'), hex(ki), hex(fixed), ko.length / 2);
    assert.equal(out.insecureBytes().toString('hex'), ko, `cavp:KDFCTR:${ki.slice(0, 8)}`);
  }
});

test('SP 800-108 counter KDF: Label ‖ 0x00 ‖ Context ‖ [L]_32 agrees with OpenSSL 3.0 KBKDF', async () => {
  // Expected values from `openssl kdf -keylen N -kdfopt mac:HMAC -kdfopt digest:D -kdfopt hexkey:K
  // -kdfopt hexsalt:<label> -kdfopt hexinfo:<context> KBKDF` (OpenSSL 3.0.19: salt = Label, info = Context).
  const d = m('SP800-108-COUNTER-KDF').impl;
  const k16 = secretKey(hex('000102030405060708090a0b0c0d0e0f'));
  const a = (await d.derive?.(k16, { hash: 'SHA-256', label: Buffer.from('label'), context: Buffer.from('context') }, 16)) as SecretBytes;
  assert.equal(a.insecureBytes().toString('hex'), '6b8121eb7cfe43d1cf3692dec7bfa60f');
  const k32 = secretKey(hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'));
  const p = { label: Buffer.from('coffer'), context: Buffer.from('test-key') };
  const b = (await d.derive?.(k32, { hash: 'SHA-384', ...p }, 40)) as SecretBytes;
  assert.equal(b.insecureBytes().toString('hex'), 'f6d99cb38cdca542cc9951df2f80fee6a60045292efdb2af734025515545cec26b8b261a0a655e68');
  const c = (await d.derive?.(k32, { hash: 'SHA-256', ...p }, 80)) as SecretBytes;
  assert.equal(
    c.insecureBytes().toString('hex'),
    '547315c284817cb4f1bb85393acb8ab7a66cc1fae34ec87f85df83d1e6f1862cdef27cdbb92badf706d862864ca5d51e817edd480a205df8a9b441d1a0676085daf1d729c0f2d723309236a41c6bb746',
  );
  assert.deepEqual(Buffer.from(sp800108FixedInput(Buffer.from('L'), Buffer.from('C'), 32)), hex('4c0043' + '00000100'));
  await assert.rejects(async () => d.derive?.(k16, { hash: 'SHA-256' }, 0), isCode('MECHANISM_PARAM_INVALID'));
  await assert.rejects(async () => d.derive?.(k16, { hash: 'MD5' }, 16), isCode('MECHANISM_PARAM_INVALID'));
});

test('PQ key types: normalizeSpec defaults and refuses unknown sets; strength follows the category', () => {
  assert.equal(kt('ml-dsa').normalizeSpec({ keyType: 'ml-dsa' }).parameterSet, 'ML-DSA-65');
  assert.equal(kt('ml-kem').normalizeSpec({ keyType: 'ml-kem' }).parameterSet, 'ML-KEM-768');
  assert.equal(kt('slh-dsa').normalizeSpec({ keyType: 'slh-dsa' }).parameterSet, 'SLH-DSA-SHA2-128s');
  assert.equal(kt('ml-dsa').normalizeSpec({ keyType: 'ml-dsa', parameterSet: 'ml-dsa-87' }).parameterSet, 'ML-DSA-87');
  assert.throws(() => kt('ml-dsa').normalizeSpec({ keyType: 'ml-dsa', parameterSet: 'ML-KEM-768' }), isCode('ATTRIBUTE_VALUE_INVALID'));
  assert.equal(kt('ml-dsa').strength({ parameterSet: 'ML-DSA-44' }), 128);
  assert.equal(kt('ml-kem').strength({ parameterSet: 'ML-KEM-768' }), 192);
  assert.equal(kt('slh-dsa').strength({ parameterSet: 'SLH-DSA-SHAKE-256f' }), 256);
});

test('ML-DSA: generate, store as PKCS#8 seed, load, pairwise, sign/verify with context and determinism', async () => {
  const d = kt('ml-dsa');
  const pair = await (d.generatePair as NonNullable<KeyTypeDescriptor['generatePair']>)({ keyType: 'ml-dsa', parameterSet: 'ML-DSA-44' });
  const p8 = decodePkcs8(pair.secret.insecureBytes());
  assert.equal(p8?.parameterSet, 'ML-DSA-44');
  assert.equal(p8?.inner.length, 34, '[0] seed of 32 bytes');
  assert.equal(pair.publicData.length, 1312);
  const priv = d.load('u', 1, { secret: pair.secret, publicData: pair.publicData });
  const pub = d.load('u', 1, { publicData: pair.publicData });
  assert.equal(priv.parameterSet, 'ML-DSA-44');
  assert.equal(pub.class, 'public-key');
  await d.pairwiseTest?.(priv, pub);
  const impl = m('ML-DSA').impl;
  const msg = Buffer.from('message');
  const ctx = Buffer.from('ctx');
  const sig = (await impl.sign?.(priv, msg, { dsaContext: ctx })) as Uint8Array;
  assert.equal(await impl.verify?.(pub, msg, sig, { dsaContext: ctx }), true);
  assert.equal(await impl.verify?.(pub, msg, sig, {}), false, 'another context is another message');
  assert.equal(await impl.verify?.(pub, msg, sig.subarray(1), { dsaContext: ctx }), false);
  const det1 = (await impl.sign?.(priv, msg, { deterministic: true })) as Uint8Array;
  const det2 = (await impl.sign?.(priv, msg, { deterministic: true })) as Uint8Array;
  assert.deepEqual(det1, det2);
  const hedged = (await impl.sign?.(priv, msg, {})) as Uint8Array;
  assert.notDeepEqual(hedged, det1);
  await assert.rejects(async () => impl.sign?.(priv, msg, { dsaContext: Buffer.alloc(256) }), isCode('MECHANISM_PARAM_INVALID'));
  await assert.rejects(async () => impl.verify?.(pub, msg, sig, { dsaContext: Buffer.alloc(256) }), isCode('MECHANISM_PARAM_INVALID'));
  await assert.rejects(async () => impl.sign?.(priv, msg, { prehashed: true }), isCode('MECHANISM_PARAM_INVALID'));
  await assert.rejects(async () => impl.sign?.({ ...priv, keyType: 'slh-dsa' }, msg, {}), isCode('KEY_TYPE_INCONSISTENT'));
});

test('ML-DSA import forms: raw seed needs the parameter set, expanded key and PKCS#8 name it', () => {
  const d = kt('ml-dsa');
  const seed = Buffer.alloc(32, 0x2a);
  const { secretKey, publicKey } = ml_dsa65.keygen(seed);
  const wycheproofPkcs8 = hex('3034020100300b0609608648016503040312042280202a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a');
  for (const material of [
    { secret: SecretBytes.from(wycheproofPkcs8) },
    { secret: SecretBytes.from(seed), parameterSet: 'ML-DSA-65' },
    { secret: SecretBytes.from(seed), publicData: publicKey },
    { secret: SecretBytes.from(secretKey) },
  ]) {
    assert.deepEqual(Buffer.from(d.load('u', 1, material).publicData as Uint8Array), Buffer.from(publicKey));
    assert.equal(d.facts(material).parameterSet, 'ML-DSA-65');
  }
  assert.deepEqual(Buffer.from(d.publicFromPrivate?.(SecretBytes.from(seed), 'ML-DSA-65') as Uint8Array), Buffer.from(publicKey));
  assert.throws(() => d.facts({ secret: SecretBytes.from(seed) }), isCode('TEMPLATE_INCOMPLETE'));
  assert.throws(() => d.facts({ secret: SecretBytes.from(seed), parameterSet: 'ML-DSA-44', publicData: publicKey }), isCode('ATTRIBUTE_VALUE_INVALID'));
  assert.throws(() => d.facts({ secret: SecretBytes.from(Buffer.alloc(31)) }), isCode('ATTRIBUTE_VALUE_INVALID'));
  assert.throws(() => d.load('u', 1, { publicData: publicKey.subarray(1) }), isCode('TEMPLATE_INCOMPLETE'));
  assert.throws(() => kt('ml-kem').facts({ secret: SecretBytes.from(wycheproofPkcs8) }), isCode('KEY_TYPE_INCONSISTENT'));
  const other = ml_dsa65.keygen(Buffer.alloc(32, 1)).publicKey;
  assert.throws(() => d.load('u', 1, { secret: SecretBytes.from(wycheproofPkcs8), publicData: other }), isCode('ATTRIBUTE_VALUE_INVALID'));
});

test('ML-KEM: generate, encapsulate/decapsulate, implicit rejection, malformed inputs', async () => {
  const d = kt('ml-kem');
  const pair = await (d.generatePair as NonNullable<KeyTypeDescriptor['generatePair']>)({ keyType: 'ml-kem' });
  const priv = d.load('u', 1, { secret: pair.secret, publicData: pair.publicData });
  const pub = d.load('u', 1, { publicData: pair.publicData });
  assert.equal(priv.parameterSet, 'ML-KEM-768');
  await d.pairwiseTest?.(priv, pub);
  const impl = m('ML-KEM').impl;
  const enc = await impl.encapsulate?.(pub, {});
  assert.ok(enc);
  const k = await impl.decapsulate?.(priv, enc.ciphertext, {});
  assert.ok(k?.equals(enc.sharedSecret));
  const flipped = Uint8Array.from(enc.ciphertext);
  flipped[0] = (flipped[0] as number) ^ 1;
  const rejected = await impl.decapsulate?.(priv, flipped, {});
  assert.equal(rejected?.length, 32, 'FIPS 203: a wrong ciphertext yields the implicit-rejection secret');
  assert.ok(!rejected?.equals(enc.sharedSecret));
  await assert.rejects(async () => impl.decapsulate?.(priv, enc.ciphertext.subarray(1), {}), isCode('DECAPSULATE_FAILED'));
  // FIPS 203 §7.2: an encapsulation key with a coefficient ≥ q is refused on load.
  const bad = Uint8Array.from(pair.publicData);
  bad[0] = 0xff;
  bad[1] = (bad[1] as number) | 0x0f;
  assert.throws(() => d.load('u', 1, { publicData: bad }), isCode('ATTRIBUTE_VALUE_INVALID'));
  // Raw seed and expanded dk import; a dk whose H(ek) field is wrong fails FIPS 203 §7.3.
  const seed = Buffer.alloc(64, 7);
  const kp = ml_kem512.keygen(seed);
  assert.equal(d.facts({ secret: SecretBytes.from(seed), parameterSet: 'ML-KEM-512' }).parameterSet, 'ML-KEM-512');
  assert.equal(d.facts({ secret: SecretBytes.from(kp.secretKey) }).parameterSet, 'ML-KEM-512');
  const tampered = Uint8Array.from(kp.secretKey);
  tampered[768 * 2 + 40] = (tampered[768 * 2 + 40] as number) ^ 1;
  assert.throws(() => d.facts({ secret: SecretBytes.from(tampered) }), isCode('ATTRIBUTE_VALUE_INVALID'));
  const p8 = encodePkcs8('ML-KEM-768', Buffer.concat([Buffer.from([0x80, 0x40]), seed]));
  assert.deepEqual(Buffer.from(d.publicFromPrivate?.(SecretBytes.from(p8)) as Uint8Array), Buffer.from(ml_kem768.keygen(seed).publicKey));
});

test('SLH-DSA: SPKI public serialisation, pairwise for s and f sets, sign/verify (f set)', async () => {
  const d = kt('slh-dsa');
  const gen = d.generatePair as NonNullable<KeyTypeDescriptor['generatePair']>;
  const pair = await gen({ keyType: 'slh-dsa', parameterSet: 'SLH-DSA-SHA2-128f' });
  assert.equal(decodeSpki(pair.publicData)?.parameterSet, 'SLH-DSA-SHA2-128f');
  const priv = d.load('u', 1, { secret: pair.secret, publicData: pair.publicData });
  const pub = d.load('u', 1, { publicData: pair.publicData });
  await d.pairwiseTest?.(priv, pub);
  const impl = m('SLH-DSA').impl;
  const msg = Buffer.from('firmware image');
  const sig = (await impl.sign?.(priv, msg, { deterministic: true })) as Uint8Array;
  assert.equal(sig.length, 17088);
  assert.equal(await impl.verify?.(pub, msg, sig, {}), true);
  assert.equal(await impl.verify?.(pub, Buffer.from('other'), sig, {}), false);
  // A raw 32-byte public key fits four sets: it needs the parameter set.
  const raw = decodeSpki(pair.publicData)?.raw as Uint8Array;
  assert.throws(() => d.load('u', 1, { publicData: raw }), isCode('TEMPLATE_INCOMPLETE'));
  assert.equal(d.load('u', 1, { publicData: raw, parameterSet: 'SLH-DSA-SHA2-128f' }).parameterSet, 'SLH-DSA-SHA2-128f');
  // 's' sets: the pairwise test recomputes the root instead of signing (seconds in noble).
  const s = await gen({ keyType: 'slh-dsa', parameterSet: 'SLH-DSA-SHA2-128s' });
  const sPriv = d.load('u', 1, { secret: s.secret, publicData: s.publicData });
  await d.pairwiseTest?.(sPriv, d.load('u', 1, { publicData: s.publicData }));
  await assert.rejects(async () => d.pairwiseTest?.(sPriv, pub), /pairwise test failed/);
});

test('the ML-KEM self-test vector is the published one (guards the embedded digests)', () => {
  const ek = ml_kem768.keygen(hex('7c9935a0b07694aa0c6d10e4db6b1add2fd81a25ccb148032dcd739936737f2d8626ed79d451140800e03b59b956f8210e556067407d13dc90fa9e8b872bfb8f')).publicKey;
  assert.equal(createHash('sha256').update(ek).digest('hex'), '86adbca81f4fee893e2fb58fb98aa2fe188f501fed268d7f4056f8c05c4e53c4');
});
