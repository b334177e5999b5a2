// ECDSA with hashing (FIPS 186-5 §6.4) on P-256/384/521 and secp256k1 keys, signatures in DER
// (default) or raw r‖s (IEEE P1363, what PKCS#11 uses). Verify returns false for any malformed
// or wrong signature. The prehashed CKM_ECDSA (node 20 cannot sign a given digest) is in ecdsa-prehashed.ts.

import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { HsmError } from '../errors.js';
import { CURVES, pkcs8FromRaw } from '../keytypes/ec-curves.js';
import { SecretBytes } from '../secret.js';
import type { LoadedKey } from '../types.js';
import { signAsync, verifyAsync } from './asymmetric-ops.js';
import {
  ECDH_P256_PRIVATE,
  ECDSA_P256_SHA256_MSG,
  ECDSA_P256_SHA256_SIG,
  ECDSA_P256_SHA256_SPKI,
  ECDSA_P384_SHA384_MSG,
  ECDSA_P384_SHA384_SIG,
  ECDSA_P384_SHA384_SPKI,
  ECDSA_P521_SHA512_MSG,
  ECDSA_P521_SHA512_SIG,
  ECDSA_P521_SHA512_SPKI,
} from './asymmetric-kat-vectors.js';
import { hashByName } from './hash-names.js';
import type { MechanismDescriptor, MechanismParams } from './types.js';

export function privateKeyOf(key: LoadedKey): KeyObject {
  if (key.keyType !== 'ec' || key.keyObject?.type !== 'private') throw new HsmError('KEY_TYPE_INCONSISTENT', 'an EC private key is required');
  return key.keyObject;
}

export function publicKeyOf(key: LoadedKey): KeyObject {
  const k = key.keyObject?.type === 'public' ? key.keyObject : key.publicKeyObject;
  if (key.keyType !== 'ec' || !k) throw new HsmError('KEY_TYPE_INCONSISTENT', 'an EC key is required');
  return k;
}

/** 'der' → X9.62 Ecdsa-Sig-Value (RFC 3279 §2.2.3); 'raw' → r‖s each padded to the order size (IEEE 1363). */
export function encodingOf(params: MechanismParams): 'der' | 'ieee-p1363' {
  const f = params.signatureFormat ?? 'der';
  if (f !== 'der' && f !== 'raw') throw new HsmError('MECHANISM_PARAM_INVALID', "signatureFormat must be 'der' or 'raw'");
  return f === 'der' ? 'der' : 'ieee-p1363';
}

interface Kat {
  spki: string;
  msg: string;
  sig: string;
}

function ecdsa(name: string, ckm: number, hashName: string, aliases: string[], verifyOnly: boolean, kat?: Kat): MechanismDescriptor {
  const hash = hashByName(hashName);
  const checkHash = (params: MechanismParams): void => {
    if (params.hash !== undefined && hashByName(params.hash) !== hash) throw new HsmError('MECHANISM_PARAM_INVALID', `hash must be ${hash.name} for ${name}`);
  };
  const d: MechanismDescriptor = {
    name,
    ckm,
    family: 'ecdsa',
    operations: verifyOnly ? ['verify'] : ['sign', 'verify'],
    keyTypes: ['ec'],
    // SP 800-131A Rev 2 §9: SHA-1 only for legacy verification. (secp256k1 keys are not an
    // approved curve either; approval per curve is the guard's concern, SP 800-186 §3.1.)
    approved: hash.approved,
    impl: {
      async verify(key, data, signature, params) {
        checkHash(params);
        const dsaEncoding = encodingOf(params);
        // OpenSSL re-encodes DER and rejects any difference (BER, trailing bytes), and checks 0 < r,s < n.
        return verifyAsync(hash.node, data, { key: publicKeyOf(key), dsaEncoding }, signature);
      },
    },
    async selfTest() {
      const key = fixedKey();
      const msg = Buffer.from('coffer ECDSA self-test');
      if (kat) {
        const pub: LoadedKey = { uid: 'self-test', version: 1, keyType: 'ec', class: 'public-key', keyObject: createPublicKey({ key: Buffer.from(kat.spki, 'hex'), format: 'der', type: 'spki' }), bits: 0 };
        if (!(await d.impl.verify!(pub, Buffer.from(kat.msg, 'hex'), Buffer.from(kat.sig, 'hex'), {}))) throw new Error(`self-test failed: ${name}`);
      }
      // Randomised scheme: sign-then-verify with the fixed key, and a flipped bit must fail.
      const sig = verifyOnly
        ? await signAsync(hash.node, msg, { key: privateKeyOf(key), dsaEncoding: 'ieee-p1363' })
        : await d.impl.sign!(key, msg, { signatureFormat: 'raw' });
      if (!(await d.impl.verify!(key, msg, sig, { signatureFormat: 'raw' }))) throw new Error(`self-test failed: ${name}`);
      const bad = Buffer.from(sig);
      bad[bad.length - 1]! ^= 1;
      if (await d.impl.verify!(key, msg, bad, { signatureFormat: 'raw' })) throw new Error(`self-test failed: ${name}`);
    },
  };
  if (aliases.length > 0) d.aliases = aliases;
  if (!verifyOnly) {
    d.impl.sign = async (key, data, params) => {
      checkHash(params);
      return new Uint8Array(await signAsync(hash.node, data, { key: privateKeyOf(key), dsaEncoding: encodingOf(params) }));
    };
  }
  return d;
}

let cachedKey: LoadedKey | undefined;

/** P-256 test key: the private scalar of Wycheproof ecdh_secp256r1 tcId 1 (public test data). */
function fixedKey(): LoadedKey {
  if (!cachedKey) {
    const der = pkcs8FromRaw(CURVES['P-256'], Buffer.from(ECDH_P256_PRIVATE, 'hex'));
    const secret = SecretBytes.adopt(Buffer.from(der));
    const keyObject = createPrivateKey({ key: secret.insecureBytes(), format: 'der', type: 'pkcs8' });
    secret.destroy();
    der.fill(0);
    cachedKey = { uid: 'self-test', version: 1, keyType: 'ec', class: 'private-key', keyObject, publicKeyObject: createPublicKey(keyObject), curve: 'P-256', bits: 256 };
  }
  return cachedKey;
}

export const MECHANISMS: MechanismDescriptor[] = [
  ecdsa('ECDSA-SHA1', 0x1042, 'SHA-1', [], true), // CKM_ECDSA_SHA1: legacy verification only
  ecdsa('ECDSA-SHA224', 0x1043, 'SHA-224', [], false), // CKM_ECDSA_SHA224
  ecdsa('ECDSA-SHA256', 0x1044, 'SHA-256', ['ECDSA_SHA_256'], false, { spki: ECDSA_P256_SHA256_SPKI, msg: ECDSA_P256_SHA256_MSG, sig: ECDSA_P256_SHA256_SIG }), // CKM_ECDSA_SHA256
  ecdsa('ECDSA-SHA384', 0x1045, 'SHA-384', ['ECDSA_SHA_384'], false, { spki: ECDSA_P384_SHA384_SPKI, msg: ECDSA_P384_SHA384_MSG, sig: ECDSA_P384_SHA384_SIG }), // CKM_ECDSA_SHA384
  ecdsa('ECDSA-SHA512', 0x1046, 'SHA-512', ['ECDSA_SHA_512'], false, { spki: ECDSA_P521_SHA512_SPKI, msg: ECDSA_P521_SHA512_MSG, sig: ECDSA_P521_SHA512_SIG }), // CKM_ECDSA_SHA512
];
