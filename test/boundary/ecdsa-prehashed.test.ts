// Descriptor-level tests of prehashed ECDSA (CKM_ECDSA): its self-test, signatures over a digest
// that OpenSSL's ECDSA-SHA* accepts on every curve and digest size (so truncation matches FIPS
// 186-5 §6.4.1), low-S signing and high-S acceptance, refusals and approval. Wycheproof is in test/vectors/.

import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, type KeyObject, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import { test } from 'node:test';
import { p256 } from '@noble/curves/nist.js';
import { KEY_TYPES as EC_TYPES } from '../../src/boundary/keytypes/ec.js';
import { KEY_TYPES as RSA_TYPES } from '../../src/boundary/keytypes/rsa.js';
import { MECHANISMS } from '../../src/boundary/mechanisms/ecdsa-prehashed.js';
import { mechanism } from '../../src/boundary/mechanisms/registry.js';
import type { MechanismParams } from '../../src/boundary/mechanisms/types.js';
import { serviceApproval } from '../../src/boundary/module/approval.js';
import { SecretBytes } from '../../src/boundary/secret.js';
import type { Curve, LoadedKey } from '../../src/boundary/types.js';
import { expectCode } from '../support/expect-code.js';
import { testHsm } from '../support/hsm.js';

const ECDSA = MECHANISMS[0]!;
const sign = ECDSA.impl.sign!;
const verify = ECDSA.impl.verify!;
const ec = EC_TYPES.find((k) => k.keyType === 'ec')!;

const NAMED: Record<string, string> = { 'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1', secp256k1: 'secp256k1' };

interface Pair {
  priv: LoadedKey;
  pub: LoadedKey;
  nodePriv: KeyObject;
  nodePub: KeyObject;
}

function pair(curve: Curve): Pair {
  const g = generateKeyPairSync('ec', { namedCurve: NAMED[curve]! });
  const pkcs8 = g.privateKey.export({ format: 'der', type: 'pkcs8' });
  const secret = SecretBytes.adopt(pkcs8);
  const priv = ec.load('p', 1, { secret });
  secret.destroy();
  const pub = ec.load('q', 1, { publicData: new Uint8Array(g.publicKey.export({ format: 'der', type: 'spki' })) });
  return { priv, pub, nodePriv: g.privateKey, nodePub: g.publicKey };
}

const MSG = Buffer.from('coffer prehashed ECDSA');
const digestOf = (hash: string): Buffer => createHash(hash).update(MSG).digest();

test('registry: ECDSA is CKM_ECDSA (0x1041), family ecdsa, EC keys only; the self-test passes', async () => {
  assert.equal(mechanism('ECDSA'), ECDSA);
  assert.equal(ECDSA.ckm, 0x1041);
  assert.equal(ECDSA.family, 'ecdsa');
  assert.deepEqual(ECDSA.keyTypes, ['ec']);
  await ECDSA.selfTest();
});

test('every curve and digest size: our signatures over H(m) verify in OpenSSL as ECDSA-H, and OpenSSL signatures verify here', async () => {
  for (const curve of ['P-256', 'P-384', 'P-521', 'secp256k1'] as const) {
    const k = pair(curve);
    // SHA-1 … SHA-512: P-256 cuts SHA-384/512 digests to 256 bits, P-384 cuts SHA-512 (FIPS 186-5 §6.4.1).
    for (const hash of ['sha1', 'sha224', 'sha256', 'sha384', 'sha512']) {
      const digest = digestOf(hash);
      for (const [signatureFormat, dsaEncoding] of [
        ['der', 'der'],
        ['raw', 'ieee-p1363'],
      ] as const) {
        const what = `${curve} ${hash} ${signatureFormat}`;
        const params: MechanismParams = { signatureFormat };
        const sig = await sign(k.priv, digest, params);
        assert.ok(nodeVerify(hash, MSG, { key: k.nodePub, dsaEncoding }, sig), `${what}: OpenSSL accepts ours`);
        assert.ok(await verify(k.pub, digest, sig, params), `${what}: we accept ours (public key)`);
        assert.ok(await verify(k.priv, digest, sig, params), `${what}: we accept ours (private key object)`);
        const theirs = nodeSign(hash, MSG, { key: k.nodePriv, dsaEncoding });
        assert.ok(await verify(k.pub, digest, theirs, params), `${what}: we accept OpenSSL's`);
        const other = Buffer.from(digest);
        other[0]! ^= 1;
        assert.equal(await verify(k.pub, other, sig, params), false, `${what}: another digest`);
      }
    }
  }
});

test('signing takes a fresh random k every time (FIPS 186-5 §6.3.1) and is low-S; verification accepts the high-S twin (§6.4.2)', async () => {
  const k = pair('P-256');
  const n = p256.Point.Fn.ORDER;
  for (let i = 0; i < 16; i++) {
    const digest = createHash('sha256').update(`m${i}`).digest();
    const sig = await sign(k.priv, digest, { signatureFormat: 'raw' });
    const again = await sign(k.priv, digest, { signatureFormat: 'raw' });
    assert.notDeepEqual(again.subarray(0, 32), sig.subarray(0, 32), 'same digest, another r');
    assert.ok(await verify(k.pub, digest, again, { signatureFormat: 'raw' }), 'both verify');
    const parsed = p256.Signature.fromBytes(sig, 'compact');
    assert.ok(parsed.s <= n / 2n, 'low S');
    const high = new p256.Signature(parsed.r, n - parsed.s);
    assert.ok(await verify(k.pub, digest, high.toBytes('compact'), { signatureFormat: 'raw' }), 'high S is valid');
    assert.ok(await verify(k.pub, digest, high.toBytes('der'), {}), 'high S is valid (DER)');
  }
});

test('malformed or wrong signatures are false, never a throw', async () => {
  const k = pair('P-256');
  const digest = digestOf('sha256');
  const der = Buffer.from(await sign(k.priv, digest, {}));
  const raw = Buffer.from(await sign(k.priv, digest, { signatureFormat: 'raw' }));
  const flip = (b: Buffer, i: number): Buffer => Buffer.from(b.map((x, j) => (j === i ? x ^ 1 : x)));
  // X.690 §8.1.3.5: the same SEQUENCE with a long-form length is BER, not DER.
  const ber = Buffer.concat([Buffer.from([0x30, 0x81, der[1]!]), der.subarray(2)]);
  const bad: [string, Uint8Array, MechanismParams][] = [
    ['DER bit flip', flip(der, der.length - 1), {}],
    ['raw bit flip', flip(raw, 3), { signatureFormat: 'raw' }],
    ['DER with a trailing byte', Buffer.concat([der, Buffer.of(0)]), {}],
    ['BER length', ber, {}],
    ['DER read as raw', der, { signatureFormat: 'raw' }],
    ['raw read as DER', raw, {}],
    ['raw one byte short', raw.subarray(1), { signatureFormat: 'raw' }],
    ['r = 0', Buffer.concat([Buffer.alloc(32), raw.subarray(32)]), { signatureFormat: 'raw' }],
    ['s = n', Buffer.concat([raw.subarray(0, 32), Buffer.from(p256.Point.Fn.ORDER.toString(16), 'hex')]), { signatureFormat: 'raw' }],
    ['empty', new Uint8Array(0), {}],
  ];
  for (const [what, sig, params] of bad) assert.equal(await verify(k.pub, digest, sig, params), false, what);
});

test('refusals: digest length, declared hash, signature format, key type and class', async () => {
  const k = pair('P-384');
  const d = digestOf('sha384');
  await expectCode(() => sign(k.priv, d.subarray(0, 19), {}), 'DATA_LEN_RANGE', '19 bytes');
  await expectCode(() => sign(k.priv, Buffer.concat([d, d]).subarray(0, 65), {}), 'DATA_LEN_RANGE', '65 bytes');
  await expectCode(() => verify(k.pub, new Uint8Array(0), new Uint8Array(96), { signatureFormat: 'raw' }), 'DATA_LEN_RANGE', 'verify of an empty digest');
  await expectCode(() => sign(k.priv, d, { hash: 'SHA-256' }), 'DATA_LEN_RANGE', 'a 48-byte digest is not SHA-256');
  await expectCode(() => sign(k.priv, d, { hash: 'MD5' }), 'MECHANISM_PARAM_INVALID', 'unknown hash');
  assert.ok(await verify(k.pub, d, await sign(k.priv, d, { hash: 'SHA-384' }), { hash: 'SHA-384' }), 'declared hash that fits');
  await expectCode(() => sign(k.priv, d, { signatureFormat: 'pem' as 'raw' }), 'MECHANISM_PARAM_INVALID', 'signature format');
  await expectCode(() => sign(k.pub, d, {}), 'KEY_TYPE_INCONSISTENT', 'a public key does not sign');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const secret = SecretBytes.adopt(rsa.privateKey.export({ format: 'der', type: 'pkcs8' }));
  const rsaKey = RSA_TYPES[0]!.load('r', 1, { secret });
  secret.destroy();
  await expectCode(() => sign(rsaKey, d, {}), 'KEY_TYPE_INCONSISTENT', 'RSA key');
  const ed = EC_TYPES.find((x) => x.keyType === 'ec-edwards')!;
  const edPair = generateKeyPairSync('ed25519');
  const edSecret = SecretBytes.adopt(edPair.privateKey.export({ format: 'der', type: 'pkcs8' }));
  const edKey = ed.load('e', 1, { secret: edSecret });
  edSecret.destroy();
  await expectCode(() => sign(edKey, d, {}), 'KEY_TYPE_INCONSISTENT', 'Ed25519 key');
});

test('approval: P-256/384/521 approved, secp256k1 not (SP 800-186 §3.2), a declared SHA-1 digest not for signing', () => {
  for (const curve of ['P-256', 'P-384', 'P-521']) assert.ok(serviceApproval(ECDSA, { keyType: 'ec', curve }, 'sign').approved, curve);
  assert.equal(serviceApproval(ECDSA, { keyType: 'ec', curve: 'secp256k1' }, 'sign').approved, false);
  assert.equal(serviceApproval(ECDSA, { keyType: 'ec', curve: 'P-256' }, 'sign', { hash: 'SHA-1' }).approved, false);
  assert.ok(serviceApproval(ECDSA, { keyType: 'ec', curve: 'P-256' }, 'verify', { hash: 'SHA-1' }).approved);
});

test('through the API: a generated P-256 key signs a digest with ECDSA; OpenSSL verifies it against the exported public key', async () => {
  const t = await testHsm();
  try {
    const { publicKey, privateKey } = await t.hsm.generateKeyPair(t.user, { privateTemplate: { keyType: 'ec', curve: 'P-256' } });
    const digest = digestOf('sha256');
    const { signature } = await t.hsm.sign(t.user, { key: privateKey, mechanism: 'ECDSA', data: digest });
    const spki = await t.hsm.getPublicKey(t.user, publicKey);
    assert.ok(nodeVerify('sha256', MSG, { key: Buffer.from(spki), format: 'der', type: 'spki' }, signature));
    assert.ok(await t.hsm.verify(t.user, { key: publicKey, mechanism: 'ECDSA', data: digest, signature }));
    await expectCode(() => t.hsm.sign(t.user, { key: privateKey, mechanism: 'ECDSA', data: MSG.subarray(0, 10) }), 'DATA_LEN_RANGE');
  } finally {
    await t.close();
  }
});
