// Key derivation from a generic-secret base key: HKDF (RFC 5869, SP 800-56C r2 §5) through
// node's thread-pool crypto.hkdf, and the SP 800-108 r1 §4.1 counter-mode KDF with an HMAC PRF.
// Both return exactly `length` bytes as SecretBytes; the caller's template decides the key type.

import { createHmac, hkdf, timingSafeEqual } from 'node:crypto';
import { HsmError } from '../errors.js';
import { SecretBytes } from '../secret.js';
import type { LoadedKey } from '../types.js';
import { type HashInfo, hashByName } from './hash-names.js';
import { hmacKey } from './hmac.js';
import type { MechanismDescriptor, MechanismParams } from './types.js';

/** node/OpenSSL refuse HKDF info longer than this (lib/internal/crypto/hkdf.js). */
const HKDF_MAX_INFO = 1024;

function kdfHash(params: MechanismParams): HashInfo {
  if (params.hash === undefined) throw new HsmError('MECHANISM_PARAM_INVALID', 'hash is required');
  return hashByName(params.hash);
}

function checkLength(length: number, max: number): void {
  if (!Number.isInteger(length) || length < 1 || length > max) throw new HsmError('MECHANISM_PARAM_INVALID', `output length must be 1..${max} bytes`);
}

function optionalBytes(v: unknown, what: string): Uint8Array {
  if (v === undefined) return new Uint8Array(0);
  if (!(v instanceof Uint8Array)) throw new HsmError('MECHANISM_PARAM_INVALID', `${what} must be bytes`);
  return v;
}

/** HKDF-Extract-then-Expand (RFC 5869 §2). An absent salt is HashLen zero bytes (§2.2), which OpenSSL applies. */
export function hkdfDerive(hash: HashInfo, ikm: LoadedKey, salt: Uint8Array, info: Uint8Array, length: number): Promise<SecretBytes> {
  checkLength(length, 255 * hash.length); // RFC 5869 §2.3: L <= 255*HashLen
  if (info.length > HKDF_MAX_INFO) throw new HsmError('MECHANISM_PARAM_INVALID', `info longer than ${HKDF_MAX_INFO} bytes`);
  const key = hmacKey(ikm);
  return new Promise((resolve, reject) => {
    hkdf(hash.node, key, salt, info, length, (err, out) => {
      if (err) reject(err);
      else resolve(SecretBytes.adopt(Buffer.from(out)));
    });
  });
}

/**
 * SP 800-108 r1 §4.1 counter mode: K(i) = PRF(K_IN, [i]_32 ‖ FixedInput), i = 1..n, output the
 * leftmost L bits. `fixedInput` is opaque here, as in the CAVP KDFCTR vectors.
 */
export function kbkdfCounter(hash: HashInfo, key: LoadedKey | Buffer, fixedInput: Uint8Array, length: number): SecretBytes {
  const k = Buffer.isBuffer(key) ? key : hmacKey(key);
  const n = Math.ceil(length / hash.length);
  const out = Buffer.alloc(n * hash.length);
  const counter = Buffer.alloc(4);
  for (let i = 1; i <= n; i++) {
    counter.writeUInt32BE(i); // [i]_2 with r = 32 (§4.1: r ≤ 32)
    createHmac(hash.node, k).update(counter).update(fixedInput).digest().copy(out, (i - 1) * hash.length);
  }
  const result = SecretBytes.from(out.subarray(0, length));
  out.fill(0);
  return result;
}

/**
 * Coffer's fixed input (SP 800-108 r1 §5 suggestion): Label ‖ 0x00 ‖ Context ‖ [L]_32, L in bits,
 * big-endian — the layout OpenSSL's KBKDF and PKCS#11 CK_SP800_108_* data-parameter lists agree on.
 */
export function sp800108FixedInput(label: Uint8Array, context: Uint8Array, length: number): Uint8Array {
  const fixed = Buffer.alloc(label.length + 1 + context.length + 4);
  fixed.set(label, 0);
  fixed.set(context, label.length + 1);
  fixed.writeUInt32BE(length * 8, label.length + 1 + context.length);
  return fixed;
}

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

function expectEqual(got: SecretBytes, want: Buffer, name: string): void {
  const ok = got.length === want.length && timingSafeEqual(got.insecureBytes(), want);
  got.destroy();
  if (!ok) throw new Error(`self-test failed: ${name}`);
}

const katKey = (value: Buffer): LoadedKey => ({
  uid: 'self-test',
  version: 1,
  keyType: 'generic-secret',
  class: 'secret-key',
  secret: SecretBytes.from(value),
  bits: value.length * 8,
});

export const MECHANISMS: MechanismDescriptor[] = [
  {
    name: 'HKDF',
    ckm: 0x402a, // CKM_HKDF_DERIVE (PKCS#11 v3.0 §2.43)
    aliases: ['HKDF-DERIVE', 'CKM_HKDF_DERIVE'],
    family: 'kdf',
    operations: ['derive'],
    keyTypes: ['generic-secret'],
    usage: { derive: 'derive' },
    approved: true, // SP 800-56C r2 §5 two-step KDF with HMAC
    impl: {
      /** params: hash (required), salt (optional), info (optional). */
      async derive(baseKey, params, length) {
        return hkdfDerive(kdfHash(params), baseKey, optionalBytes(params.salt, 'salt'), optionalBytes(params.info, 'info'), length);
      },
    },
    async selfTest() {
      // RFC 5869 Appendix A.1 (SHA-256, 42 bytes)
      const ikm = katKey(Buffer.alloc(22, 0x0b));
      const okm = await hkdfDerive(hashByName('SHA-256'), ikm, hex('000102030405060708090a0b0c'), hex('f0f1f2f3f4f5f6f7f8f9'), 42);
      ikm.secret?.destroy();
      expectEqual(okm, hex('3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865'), 'HKDF');
    },
  },
  {
    name: 'SP800-108-COUNTER-KDF',
    ckm: 0x3ac, // CKM_SP800_108_COUNTER_KDF (PKCS#11 v3.0 §2.42.6)
    aliases: ['KBKDF-COUNTER', 'CKM_SP800_108_COUNTER_KDF'],
    family: 'kdf',
    operations: ['derive'],
    keyTypes: ['generic-secret'],
    usage: { derive: 'derive' },
    approved: true, // SP 800-108 r1 with HMAC PRF
    impl: {
      /** params: hash (HMAC PRF, required), label (SP 800-108 Label), context (Context). */
      async derive(baseKey, params, length) {
        const hash = kdfHash(params);
        checkLength(length, 0x1fffffff); // [L]_32 must hold L in bits (§5)
        const fixed = sp800108FixedInput(optionalBytes(params.label, 'label'), optionalBytes(params.context, 'context'), length);
        return kbkdfCounter(hash, baseKey, fixed, length);
      },
    },
    async selfTest() {
      // NIST CAVP KBKDF (CAVS 14.4, KDFCTR_gen.rsp) [PRF=HMAC_SHA256][CTRLOCATION=BEFORE_FIXED][RLEN=32_BITS] COUNT=0, L=128
      const got = kbkdfCounter(
        hashByName('SHA-256'),
        hex('dd1d91b7d90b2bd3138533ce92b272fbf8a369316aefe242e659cc0ae238afe0'),
        hex('01322b96b30acd197979444e468e1c5c6859bf1b1cf951b7e725303e237e46b864a145fab25e517b08f8683d0315bb2911d80a0e8aba17f3b413faac'),
        16,
      );
      expectEqual(got, hex('10621342bfb0fd40046c0e29f2cfdbf0'), 'SP800-108-COUNTER-KDF');
    },
  },
];
