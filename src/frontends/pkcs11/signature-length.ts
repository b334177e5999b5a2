// The signature length a PKCS#11 signature or MAC mechanism defines for a key, so that C_Verify
// answers CKR_SIGNATURE_LEN_RANGE when the length alone shows a signature invalid (PKCS#11 v3.0
// §5.13, C_Verify). No rule (undefined) where PKCS#11 fixes no length: the boundary then decides.

import type { MechanismParams, ObjectInfo } from '../../boundary/api.js';
import { CkrError } from './application.js';
import { CKR } from './constants.js';

/** `exact`: the only valid length. `ecdsa`: r‖s with each half at most this many bytes (the order's length). */
export type LengthRule = { exact: number } | { ecdsa: number };

/** Byte length of the group order n (FIPS 186-5 / SEC 2 curve parameters). */
const EC_ORDER_BYTES: Readonly<Record<string, number>> = { 'P-256': 32, 'P-384': 48, 'P-521': 66, secp256k1: 32 };
/** EdDSA signatures are 2·b bits: 64 bytes for Ed25519, 114 for Ed448 (RFC 8032 §5.1.6, §5.2.6). */
const EDDSA_BYTES: Readonly<Record<string, number>> = { Ed25519: 64, Ed448: 114 };
/** Full-length MACs: CKM_SHAx_HMAC gives the hash's output, CKM_AES_CMAC and CKM_DES3_CMAC one block (PKCS#11 v3.0 mechanisms §2.x "signature length" rows). */
const MAC_BYTES: Readonly<Record<string, number>> = {
  'HMAC-SHA1': 20,
  'HMAC-SHA224': 28,
  'HMAC-SHA256': 32,
  'HMAC-SHA384': 48,
  'HMAC-SHA512': 64,
  'AES-CMAC': 16,
  'DES3-CMAC': 8,
};
/** ML-DSA signature sizes (FIPS 204 Table 2). */
const ML_DSA_BYTES: Readonly<Record<string, number>> = { 'ML-DSA-44': 2420, 'ML-DSA-65': 3309, 'ML-DSA-87': 4627 };

export function signatureLengthRule(mechanism: string, family: string, key: ObjectInfo, params: MechanismParams): LengthRule | undefined {
  // A truncated-MAC (…_GENERAL) mechanism's length is its parameter.
  if (params.length !== undefined) return { exact: params.length };
  const mac = MAC_BYTES[mechanism.toUpperCase()];
  if (mac !== undefined) return { exact: mac };
  switch (family) {
    case 'rsa':
      // Every RSA signature mechanism: k bytes, the modulus length (PKCS #1 v2.2 §8.1.2, §8.2.2 step 1).
      return key.modulusBits ? { exact: Math.ceil(key.modulusBits / 8) } : undefined;
    case 'ecdsa': {
      const n = key.curve ? EC_ORDER_BYTES[key.curve] : undefined;
      return n ? { ecdsa: n } : undefined;
    }
    case 'eddsa': {
      const b = key.curve ? EDDSA_BYTES[key.curve] : undefined;
      return b ? { exact: b } : undefined;
    }
    case 'ml-dsa': {
      const b = key.parameterSet ? ML_DSA_BYTES[key.parameterSet.toUpperCase()] : undefined;
      return b ? { exact: b } : undefined;
    }
    default:
      return undefined;
  }
}

/**
 * The signature to verify, or CKR_SIGNATURE_LEN_RANGE. PKCS#11 v3.0 §2.3.1: an ECDSA signature is
 * r‖s, both halves the same length, and one passed in for verification "may have a shorter length":
 * such a one is widened here to r and s each left-padded to the order's length, as the boundary's
 * IEEE P1363 verification expects.
 */
export function checkedSignature(rule: LengthRule | undefined, signature: Uint8Array): Uint8Array {
  if (!rule) return signature;
  if ('exact' in rule) {
    if (signature.length !== rule.exact) throw new CkrError(CKR.SIGNATURE_LEN_RANGE);
    return signature;
  }
  const n = rule.ecdsa;
  if (signature.length === 2 * n) return signature;
  if (signature.length === 0 || signature.length % 2 !== 0 || signature.length > 2 * n) throw new CkrError(CKR.SIGNATURE_LEN_RANGE);
  const half = signature.length / 2;
  const out = new Uint8Array(2 * n);
  out.set(signature.subarray(0, half), n - half);
  out.set(signature.subarray(half), 2 * n - half);
  return out;
}
