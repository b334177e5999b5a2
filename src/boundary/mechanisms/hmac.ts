// HMAC (FIPS 198-1; PKCS#11 v3.0 §6.19–6.20 CKM_SHA*_HMAC) over generic-secret keys: sign
// generates a tag, verify recomputes it and compares in constant time. A truncated tag is
// asked for explicitly (params.length); verify never infers the length from the tag it is given.

import { createHmac, type KeyObject, timingSafeEqual } from 'node:crypto';
import { HsmError } from '../errors.js';
import type { LoadedKey } from '../types.js';
import { HASHES, type HashInfo } from './hash-names.js';
import type { MechanismDescriptor, MechanismParams } from './types.js';

/** SP 800-107 Rev 1 §5.3.3: a truncated HMAC tag keeps at least 32 bits. */
const MIN_TAG_BYTES = 4;

/** RFC 4231 test case 2 (and RFC 2202 §3 case 2 for SHA-1): key "Jefe". */
const KAT_KEY = Buffer.from('Jefe');
const KAT_DATA = Buffer.from('what do ya want for nothing?');
const KAT_TAGS: Record<string, string> = {
  'SHA-1': 'effcdf6ae5eb2fa2d27416d5f184df9c259a7c79',
  'SHA-224': 'a30e01098bc6dbbf45690f3a7e9e6d0f8bbea2a39e6148008fd05e44',
  'SHA-256': '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
  'SHA-384': 'af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649',
  'SHA-512': '164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737',
};

/** The HMAC key of a loaded generic-secret key; KEY_TYPE_INCONSISTENT for anything else. */
export function hmacKey(key: LoadedKey): KeyObject | Buffer {
  if (key.keyType !== 'generic-secret') throw new HsmError('KEY_TYPE_INCONSISTENT', 'HMAC takes a generic-secret key');
  const k = key.keyObject ?? key.secret?.insecureBytes();
  if (!k) throw new TypeError('loaded secret key without material');
  return k;
}

/** Tag length asked for: params.length if given (bounded by SP 800-107 and the hash), else the full output. */
function tagLength(hash: HashInfo, params: MechanismParams): number {
  const n = params.length;
  if (n === undefined) return hash.length;
  if (!Number.isInteger(n) || n < MIN_TAG_BYTES || n > hash.length) {
    throw new HsmError('MECHANISM_PARAM_INVALID', `tag length must be ${MIN_TAG_BYTES}..${hash.length} bytes`);
  }
  return n;
}

function hmacMechanism(hash: HashInfo, ckm: number, aliases: string[], opts: { verifyOnly?: boolean; approved: boolean }): MechanismDescriptor {
  const name = `HMAC-${hash.name.replace('-', '')}`;
  return {
    name,
    ckm,
    aliases,
    family: 'hmac',
    operations: opts.verifyOnly ? ['verify'] : ['sign', 'verify'],
    keyTypes: ['generic-secret'],
    // SP 800-131A Rev 2 §10: HMAC keys shorter than 112 bits are disallowed.
    keyBits: { min: 112, max: 8 * 1024 },
    usage: { sign: 'sign', verify: 'verify' },
    approved: opts.approved,
    impl: {
      ...(opts.verifyOnly
        ? {}
        : {
            async sign(key: LoadedKey, data: Uint8Array, params: MechanismParams) {
              const len = tagLength(hash, params);
              return new Uint8Array(createHmac(hash.node, hmacKey(key)).update(data).digest().subarray(0, len));
            },
          }),
      async verify(key, data, signature, params) {
        const len = tagLength(hash, params);
        const tag = createHmac(hash.node, hmacKey(key)).update(data).digest().subarray(0, len);
        // A tag of the wrong length is a bad MAC, not a bad argument (uniform verify failures).
        return signature instanceof Uint8Array && signature.length === len && timingSafeEqual(tag, signature);
      },
    },
    async selfTest() {
      const want = Buffer.from(KAT_TAGS[hash.name] as string, 'hex');
      const got = createHmac(hash.node, KAT_KEY).update(KAT_DATA).digest();
      if (!timingSafeEqual(got, want)) throw new Error(`self-test failed: ${name}`);
    },
  };
}

export const MECHANISMS: MechanismDescriptor[] = [
  // SHA-1 HMAC stays for verifying legacy data only: Coffer makes no new SHA-1 tags.
  hmacMechanism(HASHES['SHA-1'], 0x221, ['SHA-1-HMAC', 'CKM_SHA_1_HMAC'], { verifyOnly: true, approved: false }), // CKM_SHA_1_HMAC
  hmacMechanism(HASHES['SHA-224'], 0x256, ['SHA224-HMAC', 'CKM_SHA224_HMAC', 'HMAC_SHA_224'], { approved: true }), // CKM_SHA224_HMAC
  hmacMechanism(HASHES['SHA-256'], 0x251, ['SHA256-HMAC', 'CKM_SHA256_HMAC', 'HMAC_SHA_256'], { approved: true }), // CKM_SHA256_HMAC
  hmacMechanism(HASHES['SHA-384'], 0x261, ['SHA384-HMAC', 'CKM_SHA384_HMAC', 'HMAC_SHA_384'], { approved: true }), // CKM_SHA384_HMAC
  hmacMechanism(HASHES['SHA-512'], 0x271, ['SHA512-HMAC', 'CKM_SHA512_HMAC', 'HMAC_SHA_512'], { approved: true }), // CKM_SHA512_HMAC
];
