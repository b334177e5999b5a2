// CKM_ECDSA signing with OpenSSL's k·G (ecdsa-sign-digest.ts) against its reference. The
// deterministic arithmetic (RFC 6979 k) is byte-for-byte the signature @noble/curves gives for
// sign(digest, d, { prehash: false }), over random keys and every allowed digest length on all four
// curves, and RFC 6979 §A.2.5–A.2.7 where the RFC's message hash is the curve's own. The mechanism
// signs with precomputed random nonces: its signatures must verify under noble, be low-S, carry a
// fresh r every time, and fail for any other digest.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import type { ECDSA } from '@noble/curves/abstract/weierstrass.js';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import fc from 'fast-check';
import { KEY_TYPES as EC_TYPES } from '../../src/boundary/keytypes/ec.js';
import { CURVES, pkcs8FromRaw } from '../../src/boundary/keytypes/ec-curves.js';
import { MECHANISMS } from '../../src/boundary/mechanisms/ecdsa-prehashed.js';
import { type DigestCurve, signDigest } from '../../src/boundary/mechanisms/ecdsa-sign-digest.js';
import { SecretBytes } from '../../src/boundary/secret.js';
import type { Curve, LoadedKey } from '../../src/boundary/types.js';

const ECDSA_MECH = MECHANISMS[0]!;
const sign = ECDSA_MECH.impl.sign!;
const verify = ECDSA_MECH.impl.verify!;
const ec = EC_TYPES.find((k) => k.keyType === 'ec')!;

const CASES: { curve: Curve; noble: ECDSA; signer: DigestCurve }[] = [
  { curve: 'P-256', noble: p256, signer: { openssl: 'prime256v1', hmac: 'sha256', Fn: p256.Point.Fn } },
  { curve: 'P-384', noble: p384, signer: { openssl: 'secp384r1', hmac: 'sha384', Fn: p384.Point.Fn } },
  { curve: 'P-521', noble: p521, signer: { openssl: 'secp521r1', hmac: 'sha512', Fn: p521.Point.Fn } },
  { curve: 'secp256k1', noble: secp256k1, signer: { openssl: 'secp256k1', hmac: 'sha256', Fn: secp256k1.Point.Fn } },
];

/** A private key object holding scalar `d` (big-endian, order length), as the key store loads it. */
function keyOf(curve: Curve, d: Uint8Array): LoadedKey {
  const der = pkcs8FromRaw(CURVES[curve], d);
  const secret = SecretBytes.adopt(Buffer.from(der));
  der.fill(0);
  const key = ec.load('k', 1, { secret });
  secret.destroy();
  return key;
}

for (const { curve, noble, signer } of CASES) {
  const n = noble.Point.Fn.ORDER;
  const scalar = fc.oneof(
    { weight: 1, arbitrary: fc.constantFrom(1n, 2n, n - 1n, n >> 1n, (n >> 1n) + 1n) },
    { weight: 8, arbitrary: fc.bigInt({ min: 1n, max: n - 1n }) },
  );
  // Every length CKM_ECDSA accepts (20..64 bytes), random bytes or the extremes (e = 0, and a
  // digest whose leftmost qlen bits exceed n, so bits2int mod n reduces).
  const digest = fc.integer({ min: 20, max: 64 }).chain((len) =>
    fc.oneof(
      { weight: 8, arbitrary: fc.uint8Array({ minLength: len, maxLength: len }) },
      { weight: 1, arbitrary: fc.constantFrom(new Uint8Array(len), new Uint8Array(len).fill(0xff)) },
    ),
  );

  test(`${curve}: RFC 6979 signatures are byte-identical to noble's sign(digest, d, { prehash: false })`, () => {
    let runs = 0;
    fc.assert(
      fc.property(scalar, digest, (dInt, z) => {
        const d = noble.Point.Fn.toBytes(dInt);
        const expected = noble.sign(z, d, { prehash: false, format: 'compact' });
        const { r, s } = signDigest(signer, d, z);
        assert.deepEqual(new noble.Signature(r, s).toBytes('compact'), expected);
        runs++;
      }),
      { numRuns: 200 },
    );
    assert.equal(runs, 200);
  });

  test(`${curve}: CKM_ECDSA signatures (pooled random k) verify under noble, are low-S and never repeat r`, async () => {
    const seen = new Set<string>();
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(scalar, digest, async (dInt, z) => {
        const d = noble.Point.Fn.toBytes(dInt);
        const key = keyOf(curve, d);
        const point = noble.getPublicKey(d, false);
        const raw = await sign(key, z, { signatureFormat: 'raw' });
        const der = await sign(key, z, { signatureFormat: 'der' });
        for (const [sig, format] of [
          [raw, 'compact'],
          [der, 'der'],
        ] as const) {
          // lowS: true (noble's default) also rejects the high-S form.
          assert.ok(noble.verify(sig, z, point, { prehash: false, format }), 'signature verifies');
          const other = Uint8Array.from(z);
          other[0]! ^= 0x80;
          assert.equal(noble.verify(sig, other, point, { prehash: false, format }), false, 'another digest does not verify');
        }
        assert.ok(await verify(key, z, raw, { signatureFormat: 'raw' }));
        for (const sig of [raw, noble.Signature.fromBytes(der, 'der').toBytes('compact')]) {
          const r = Buffer.from(sig.subarray(0, sig.length / 2)).toString('hex');
          assert.ok(!seen.has(r), 'r (so k) is fresh for every signature');
          seen.add(r);
        }
        key.scalar?.destroy();
        runs++;
      }),
      { numRuns: 150 },
    );
    assert.equal(runs, 150);
  });
}

/** RFC 6979 §A.2.5 (P-256/SHA-256), §A.2.6 (P-384/SHA-384), §A.2.7 (P-521/SHA-512): key x, message, (r, s). */
const RFC6979: { curve: Curve; hash: string; x: string; message: string; r: string; s: string }[] = [
  {
    curve: 'P-256',
    hash: 'sha256',
    x: 'c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721',
    message: 'sample',
    r: 'efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716',
    s: 'f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8',
  },
  {
    curve: 'P-256',
    hash: 'sha256',
    x: 'c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721',
    message: 'test',
    r: 'f1abb023518351cd71d881567b1ea663ed3efcf6c5132b354f28d3b0b7d38367',
    s: '019f4113742a2b14bd25926b49c649155f267e60d3814b4c0cc84250e46f0083',
  },
  {
    curve: 'P-384',
    hash: 'sha384',
    x: '6b9d3dad2e1b8c1c05b19875b6659f4de23c3b667bf297ba9aa47740787137d896d5724e4c70a825f872c9ea60d2edf5',
    message: 'sample',
    r: '94edbb92a5ecb8aad4736e56c691916b3f88140666ce9fa73d64c4ea95ad133c81a648152e44acf96e36dd1e80fabe46',
    s: '99ef4aeb15f178cea1fe40db2603138f130e740a19624526203b6351d0a3a94fa329c145786e679e7b82c71a38628ac8',
  },
  {
    curve: 'P-384',
    hash: 'sha384',
    x: '6b9d3dad2e1b8c1c05b19875b6659f4de23c3b667bf297ba9aa47740787137d896d5724e4c70a825f872c9ea60d2edf5',
    message: 'test',
    r: '8203b63d3c853e8d77227fb377bcf7b7b772e97892a80f36ab775d509d7a5feb0542a7f0812998da8f1dd3ca3cf023db',
    s: 'ddd0760448d42d8a43af45af836fce4de8be06b485e9b61b827c2f13173923e06a739f040649a667bf3b828246baa5a5',
  },
  {
    curve: 'P-521',
    hash: 'sha512',
    x: '00fad06daa62ba3b25d2fb40133da757205de67f5bb0018fee8c86e1b68c7e75caa896eb32f1f47c70855836a6d16fcc1466f6d8fbec67db89ec0c08b0e996b83538',
    message: 'sample',
    r: '00c328fafcbd79dd77850370c46325d987cb525569fb63c5d3bc53950e6d4c5f174e25a1ee9017b5d450606add152b534931d7d4e8455cc91f9b15bf05ec36e377fa',
    s: '00617cce7cf5064806c467f678d3b4080d6f1cc50af26ca209417308281b68af282623eaa63e5b5c0723d8b8c37ff0777b1a20f8ccb1dccc43997f1ee0e44da4a67a',
  },
  {
    curve: 'P-521',
    hash: 'sha512',
    x: '00fad06daa62ba3b25d2fb40133da757205de67f5bb0018fee8c86e1b68c7e75caa896eb32f1f47c70855836a6d16fcc1466f6d8fbec67db89ec0c08b0e996b83538',
    message: 'test',
    r: '013e99020abf5cee7525d16b69b229652ab6bdf2affcaef38773b4b7d08725f10cdb93482fdcc54edcee91eca4166b2a7c6265ef0ce2bd7051b7cef945babd47ee6d',
    s: '01fbd0013c674aa79cb39849527916ce301c66ea7ce8b80682786ad60f98f7e78a19ca69eff5c57400e3b3a0ad66ce0978214d13baf4e9ac60752f7b155e2de4dce3',
  },
];

test('RFC 6979 §A.2.5–A.2.7: the deterministic signatures over H(m), with s as its low-S form', () => {
  for (const v of RFC6979) {
    const { noble, signer } = CASES.find((c) => c.curve === v.curve)!;
    const n = noble.Point.Fn.ORDER;
    const size = noble.Point.Fn.BYTES;
    const s = BigInt(`0x${v.s}`);
    const lowS = s > n >> 1n ? n - s : s;
    const expected = v.r + lowS.toString(16).padStart(size * 2, '0');
    const z = createHash(v.hash).update(v.message).digest();
    const { r, s: sig } = signDigest(signer, Buffer.from(v.x, 'hex'), z);
    assert.equal(Buffer.from(new noble.Signature(r, sig).toBytes('compact')).toString('hex'), expected, `${v.curve} ${v.hash} "${v.message}"`);
  }
});

test('signDigest refuses a scalar that is 0, above n, n, or of the wrong length', () => {
  const { signer, noble } = CASES[0]!;
  const z = createHash('sha256').update('x').digest();
  assert.throws(() => signDigest(signer, new Uint8Array(32), z), RangeError);
  assert.throws(() => signDigest(signer, noble.Point.Fn.toBytes(0n).fill(0xff), z), RangeError); // > n
  assert.throws(() => signDigest(signer, Buffer.from(noble.Point.Fn.ORDER.toString(16).padStart(64, '0'), 'hex'), z), RangeError);
  assert.throws(() => signDigest(signer, new Uint8Array(31).fill(1), z), RangeError);
});

test('the mechanism self-test still signs the RFC 6979 known answer', async () => {
  await ECDSA_MECH.selfTest();
});
