// Prehashed ECDSA, CKM_ECDSA (PKCS#11 v3.0 §2.3.6): sign and verify a digest the caller computed,
// on P-256/384/521 and secp256k1; node:crypto cannot sign a given digest, so signing is
// ecdsa-sign-digest.ts (a random k precomputed with k⁻¹ and r by ecdsa-nonces.ts, OpenSSL's k·G)
// and verifying is @noble/curves. The private scalar is exported from OpenSSL once per loaded key
// and kept beside it as SecretBytes (LoadedKey.scalar), which the key cache zeroes when it drops
// the key. Everything on the signing path runs synchronously and costs two multiplications mod n.

import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import type { ECDSA } from '@noble/curves/abstract/weierstrass.js';
import { HsmError } from '../errors.js';
import { CURVES, type CurveInfo, curveOfNodeKey, pkcs8FromRaw } from '../keytypes/ec-curves.js';
import { SecretBytes } from '../secret.js';
import type { Curve, LoadedKey } from '../types.js';
import { encodingOf, privateKeyOf, publicKeyOf } from './ecdsa.js';
import { inlineNonce, intInto, type Nonce, type NonceCurve, takeNonce } from './ecdsa-nonces.js';
import { type DigestCurve, scalarOf, signDigest, signDigestPooled } from './ecdsa-sign-digest.js';
import { hashByName } from './hash-names.js';
import type { MechanismDescriptor, MechanismParams } from './types.js';

const NOBLE: Partial<Record<Curve, ECDSA>> = { 'P-256': p256, 'P-384': p384, 'P-521': p521, secp256k1 };

/** RFC 6979's hash per curve is the one noble pairs with it, so the deterministic (self-test) signatures are noble's byte for byte. */
const SIGNING: Partial<Record<Curve, DigestCurve>> = {
  'P-256': { openssl: 'prime256v1', hmac: 'sha256', Fn: p256.Point.Fn },
  'P-384': { openssl: 'secp384r1', hmac: 'sha384', Fn: p384.Point.Fn },
  'P-521': { openssl: 'secp521r1', hmac: 'sha512', Fn: p521.Point.Fn },
  secp256k1: { openssl: 'secp256k1', hmac: 'sha256', Fn: secp256k1.Point.Fn },
};

/** SHA-1 (20 bytes) up to SHA-512 (64 bytes): the digests PKCS#11 callers send for CKM_ECDSA. */
const MIN_DIGEST = 20;
const MAX_DIGEST = 64;

function curveOf(key: LoadedKey, k: KeyObject): { info: CurveInfo; ecdsa: ECDSA } {
  const info = key.curve ? CURVES[key.curve] : curveOfNodeKey(k.asymmetricKeyType, k.asymmetricKeyDetails?.namedCurve);
  const ecdsa = info ? NOBLE[info.curve] : undefined;
  if (!info || !ecdsa) throw new HsmError('KEY_TYPE_INCONSISTENT', 'an EC key on P-256, P-384, P-521 or secp256k1 is required');
  return { info, ecdsa };
}

/** The input must look like one digest; `params.hash`, when given, names it and fixes its length. */
function checkDigest(digest: Uint8Array, params: MechanismParams): void {
  if (params.hash !== undefined) {
    const h = hashByName(params.hash);
    if (digest.length !== h.length) throw new HsmError('DATA_LEN_RANGE', `a ${h.name} digest is ${h.length} bytes`);
  }
  if (digest.length < MIN_DIGEST || digest.length > MAX_DIGEST) throw new HsmError('DATA_LEN_RANGE', `the digest must be ${MIN_DIGEST} to ${MAX_DIGEST} bytes`);
}

/** X.690 §8.1.3 definite length at `at` (short form, or 1-2 length octets): [length, header bytes]. */
function derLength(der: Uint8Array, at: number): [number, number] {
  const first = der[at];
  if (first === undefined) throw new TypeError('truncated DER');
  if (first < 0x80) return [first, 1];
  if (first === 0x81 && at + 1 < der.length) return [der[at + 1]!, 2];
  if (first === 0x82 && at + 2 < der.length) return [(der[at + 1]! << 8) | der[at + 2]!, 3];
  throw new TypeError('unsupported DER length');
}

/** The SEC 1 §2.3.3 point inside an SPKI (RFC 5280 §4.1.2.7: SEQUENCE { AlgorithmIdentifier, BIT STRING }). */
function pointOfSpki(spki: Uint8Array): Uint8Array {
  if (spki[0] !== 0x30) throw new TypeError('SPKI is not a SEQUENCE');
  let at = 1 + derLength(spki, 1)[1];
  if (spki[at] !== 0x30) throw new TypeError('SPKI without AlgorithmIdentifier');
  const [algLen, algHeader] = derLength(spki, at + 1);
  at += 1 + algHeader + algLen;
  if (spki[at] !== 0x03) throw new TypeError('SPKI without BIT STRING');
  const [bitsLen, bitsHeader] = derLength(spki, at + 1);
  const start = at + 1 + bitsHeader;
  // X.690 §8.6.2.2: the first content octet counts unused bits, 0 for a point encoding.
  if (spki[start] !== 0x00 || start + bitsLen !== spki.length) throw new TypeError('SPKI BIT STRING malformed');
  return spki.slice(start + 1);
}

/** Points are public; caching them per KeyObject saves an SPKI export and parse on every verify. */
const points = new WeakMap<KeyObject, Uint8Array>();

function publicPoint(k: KeyObject): Uint8Array {
  let p = points.get(k);
  if (!p) {
    p = pointOfSpki(k.export({ format: 'der', type: 'spki' }));
    points.set(k, p);
  }
  return p;
}

/**
 * Runs `use` with the private scalar d, left-padded to the order size (RFC 6979 §2.3.3 int2octets). OpenSSL
 * exports an RFC 5915 ECPrivateKey (SEQUENCE { INTEGER 1, OCTET STRING d, ... }); the buffers are
 * zeroed before returning. The signer turns d into a bigint we cannot erase (SECURITY.md).
 */
function withScalar<T>(k: KeyObject, info: CurveInfo, use: (d: Uint8Array) => T): T {
  const sec1 = k.export({ format: 'der', type: 'sec1' });
  const d = new Uint8Array(info.size);
  try {
    if (sec1[0] !== 0x30) throw new TypeError('SEC 1 key is not a SEQUENCE');
    const at = 1 + derLength(sec1, 1)[1];
    // RFC 5915 §3: version INTEGER 1, then privateKey OCTET STRING
    if (sec1[at] !== 0x02 || sec1[at + 1] !== 0x01 || sec1[at + 2] !== 0x01 || sec1[at + 3] !== 0x04) throw new TypeError('SEC 1 key malformed');
    const [len, header] = derLength(sec1, at + 4);
    if (len > info.size) throw new TypeError('SEC 1 scalar longer than the order');
    const start = at + 4 + header;
    d.set(sec1.subarray(start, start + len), info.size - len);
    return use(d);
  } finally {
    sec1.fill(0);
    d.fill(0);
  }
}

/**
 * d of a cached key: exported from OpenSSL on the first signature and kept as LoadedKey.scalar,
 * which KeyCache destroys (zeroes) with the key, so the hot path skips a SEC 1 export per signature.
 */
function cachedScalar(key: LoadedKey, k: KeyObject, info: CurveInfo, curve: DigestCurve): bigint {
  if (!key.scalar || key.scalar.destroyed) key.scalar = withScalar(k, info, (d) => SecretBytes.from(d));
  return scalarOf(curve, key.scalar.insecureBytes());
}

function sign(key: LoadedKey, digest: Uint8Array, params: MechanismParams, nonces: (c: NonceCurve) => Nonce = takeNonce): Uint8Array {
  const format = encodingOf(params);
  checkDigest(digest, params);
  const k = privateKeyOf(key);
  const { info, ecdsa } = curveOf(key, k);
  const curve = SIGNING[info.curve]!;
  // A digest longer than the order is cut to its leftmost bits (FIPS 186-5 §6.4.1 step 4, SEC 1
  // §4.1.3 step 5); k is random (FIPS 186-5 §6.3.1), precomputed, and s ≤ n/2.
  const { r, s } = signDigestPooled(curve, cachedScalar(key, k, info, curve), digest, nonces);
  if (format === 'der') return new ecdsa.Signature(r, s).toBytes('der');
  // PKCS#11 v3.0 §2.3.1: r‖s, each the order's length, big-endian.
  const size = curve.Fn.BYTES;
  const out = new Uint8Array(2 * size);
  intInto(r, out.subarray(0, size));
  intInto(s, out.subarray(size));
  return out;
}

/** The same signature with RFC 6979's deterministic k, for the known-answer self-test. */
function signDeterministic(key: LoadedKey, digest: Uint8Array): Uint8Array {
  const k = privateKeyOf(key);
  const { info, ecdsa } = curveOf(key, k);
  const { r, s } = withScalar(k, info, (d) => signDigest(SIGNING[info.curve]!, d, digest));
  return new ecdsa.Signature(r, s).toBytes('compact');
}

function verify(key: LoadedKey, digest: Uint8Array, signature: Uint8Array, params: MechanismParams): boolean {
  const format = encodingOf(params);
  checkDigest(digest, params);
  const k = publicKeyOf(key);
  const { ecdsa } = curveOf(key, k);
  const point = publicPoint(k);
  try {
    let compact: Uint8Array = signature;
    if (format === 'der') {
      // Only the one DER encoding of (r, s) is valid: re-encode and compare, as OpenSSL does for
      // ECDSA-SHA* (no BER lengths, no extra zeros, no trailing bytes). Signatures are public.
      const sig = ecdsa.Signature.fromBytes(signature, 'der');
      if (!Buffer.from(sig.toBytes('der')).equals(signature)) return false;
      compact = sig.toBytes('compact');
    }
    // lowS: false: FIPS 186-5 §6.4.2 accepts either s, and so do Wycheproof and OpenSSL.
    return ecdsa.verify(compact, digest, point, { prehash: false, lowS: false, format: 'compact' });
  } catch {
    return false; // malformed encodings, r or s outside [1, n-1]
  }
}

/** RFC 6979 §A.2.5: the P-256 key and the SHA-256 "sample" signature (r, and n − s since we sign low-S). */
const RFC6979_P256_X = 'c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721';
const RFC6979_P256_SAMPLE_RS =
  'efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716' + '0834e36ad29a83bf2bc9385e491d6099c8fdf9d1ed67aa7ea5f51f93782857a9';

/** Wycheproof ecdsa_secp256r1_sha256_p1363_test tcId 1 (valid): public point, message, r‖s. */
const WYCHEPROOF_P256_POINT =
  '042927b10512bae3eddcfe467828128bad2903269919f7086069c8c4df6c732838c7787964eaac00e5921fb1498a60f4606766b3d9685001558d1a974e7341513e';
const WYCHEPROOF_P256_MSG = '313233343030';
const WYCHEPROOF_P256_SIG =
  '2ba3a8be6b94d5ec80a6d9d1190a436effe50d85a1eee859b8cc6af9bd5c2e184cd60b855d442f5b3c7b11eb6c4e0ae7525fe710fab9aa7c77a67f79e6fadd76';

let selfTestKey: LoadedKey | undefined;

function rfc6979Key(): LoadedKey {
  if (!selfTestKey) {
    const der = pkcs8FromRaw(CURVES['P-256'], Buffer.from(RFC6979_P256_X, 'hex'));
    const secret = SecretBytes.adopt(Buffer.from(der));
    der.fill(0);
    const keyObject = createPrivateKey({ key: secret.insecureBytes(), format: 'der', type: 'pkcs8' });
    secret.destroy();
    selfTestKey = { uid: 'self-test', version: 1, keyType: 'ec', class: 'private-key', keyObject, publicKeyObject: createPublicKey(keyObject), curve: 'P-256', bits: 256 };
  }
  return selfTestKey;
}

const fail = (): never => {
  throw new Error('self-test failed: ECDSA');
};

async function selfTest(): Promise<void> {
  // Known-answer verify of a published signature.
  const spki = Buffer.concat([Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex'), Buffer.from(WYCHEPROOF_P256_POINT, 'hex')]);
  const pub: LoadedKey = { uid: 'self-test', version: 1, keyType: 'ec', class: 'public-key', keyObject: createPublicKey({ key: spki, format: 'der', type: 'spki' }), curve: 'P-256', bits: 256 };
  const digest = createHash('sha256').update(Buffer.from(WYCHEPROOF_P256_MSG, 'hex')).digest();
  const kat = Buffer.from(WYCHEPROOF_P256_SIG, 'hex');
  if (!verify(pub, digest, kat, { signatureFormat: 'raw' })) fail();
  kat[kat.length - 1]! ^= 1;
  if (verify(pub, digest, kat, { signatureFormat: 'raw' })) fail();
  // Known-answer sign: deterministic k makes the signature itself the answer (RFC 6979 §A.2.5); it
  // checks the s = k⁻¹(e + r·d) arithmetic the pooled path shares.
  const key = rfc6979Key();
  const sample = createHash('sha256').update('sample').digest();
  if (Buffer.from(signDeterministic(key, sample)).toString('hex') !== RFC6979_P256_SAMPLE_RS) fail();
  // The signing path itself with random nonces (computed in line, so start-up starts no nonce
  // worker): its signature must verify, twice signing must give two different r (fresh k), and
  // a changed digest must not verify.
  const first = sign(key, sample, { signatureFormat: 'raw' }, inlineNonce);
  const second = sign(key, sample, { signatureFormat: 'raw' }, inlineNonce);
  if (!verify(key, sample, first, { signatureFormat: 'raw' }) || !verify(key, sample, second, { signatureFormat: 'raw' })) fail();
  if (Buffer.from(first.subarray(0, 32)).equals(second.subarray(0, 32))) fail();
  sample[0]! ^= 1;
  if (verify(key, sample, first, { signatureFormat: 'raw' })) fail();
  key.scalar?.destroy();
}

export const MECHANISMS: MechanismDescriptor[] = [
  {
    name: 'ECDSA', // CKM_ECDSA
    ckm: 0x1041,
    family: 'ecdsa',
    operations: ['sign', 'verify'],
    keyTypes: ['ec'],
    // FIPS 186-5 §6.4 on the caller's digest; approval per curve (secp256k1 is not) is module/approval.ts.
    approved: true,
    maxInput: MAX_DIGEST,
    impl: {
      async sign(key, data, params) {
        return sign(key, data, params);
      },
      async verify(key, data, signature, params) {
        return verify(key, data, signature, params);
      },
    },
    selfTest,
  },
];
