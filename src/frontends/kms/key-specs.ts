// AWS KMS key specs, key usages and algorithms mapped onto Coffer key types and mechanisms: the
// template CreateKey generates, the spec DescribeKey reports back (read from the key's own
// attributes, so keys made through REST or PKCS#11 show up too), and the mechanism per algorithm.

import type { MechanismParams, ObjectInfo, Template } from '../../boundary/api.js';
import { KmsError } from './errors.js';

export type KeyUsage = 'ENCRYPT_DECRYPT' | 'SIGN_VERIFY' | 'GENERATE_VERIFY_MAC' | 'KEY_AGREEMENT';

interface Spec {
  keyType: 'aes' | 'ec' | 'rsa' | 'generic-secret' | 'ml-dsa';
  usages: KeyUsage[];
  curve?: 'P-256' | 'P-384' | 'P-521' | 'secp256k1';
  bits?: number;
  bytes?: number;
  parameterSet?: 'ML-DSA-44' | 'ML-DSA-65' | 'ML-DSA-87';
}

export const KEY_SPECS: Record<string, Spec> = {
  SYMMETRIC_DEFAULT: { keyType: 'aes', usages: ['ENCRYPT_DECRYPT'], bytes: 32 },
  RSA_2048: { keyType: 'rsa', usages: ['ENCRYPT_DECRYPT', 'SIGN_VERIFY'], bits: 2048 },
  RSA_3072: { keyType: 'rsa', usages: ['ENCRYPT_DECRYPT', 'SIGN_VERIFY'], bits: 3072 },
  RSA_4096: { keyType: 'rsa', usages: ['ENCRYPT_DECRYPT', 'SIGN_VERIFY'], bits: 4096 },
  // AWS allows KEY_AGREEMENT (ECDH) on the NIST curves only, not on secp256k1.
  ECC_NIST_P256: { keyType: 'ec', usages: ['SIGN_VERIFY', 'KEY_AGREEMENT'], curve: 'P-256' },
  ECC_NIST_P384: { keyType: 'ec', usages: ['SIGN_VERIFY', 'KEY_AGREEMENT'], curve: 'P-384' },
  ECC_NIST_P521: { keyType: 'ec', usages: ['SIGN_VERIFY', 'KEY_AGREEMENT'], curve: 'P-521' },
  ECC_SECG_P256K1: { keyType: 'ec', usages: ['SIGN_VERIFY'], curve: 'secp256k1' },
  HMAC_224: { keyType: 'generic-secret', usages: ['GENERATE_VERIFY_MAC'], bytes: 28 },
  HMAC_256: { keyType: 'generic-secret', usages: ['GENERATE_VERIFY_MAC'], bytes: 32 },
  HMAC_384: { keyType: 'generic-secret', usages: ['GENERATE_VERIFY_MAC'], bytes: 48 },
  HMAC_512: { keyType: 'generic-secret', usages: ['GENERATE_VERIFY_MAC'], bytes: 64 },
  ML_DSA_44: { keyType: 'ml-dsa', usages: ['SIGN_VERIFY'], parameterSet: 'ML-DSA-44' },
  ML_DSA_65: { keyType: 'ml-dsa', usages: ['SIGN_VERIFY'], parameterSet: 'ML-DSA-65' },
  ML_DSA_87: { keyType: 'ml-dsa', usages: ['SIGN_VERIFY'], parameterSet: 'ML-DSA-87' },
};

/** What CreateKey asks the boundary for: one secret key, or a pair (the KMS key is the private half). */
export type KeyRequest = { kind: 'secret'; mechanism: string; template: Template } | { kind: 'pair'; mechanism: string; publicTemplate: Template; privateTemplate: Template };

export function keyRequest(keySpec: string, keyUsage: KeyUsage, label: string): KeyRequest {
  const spec = KEY_SPECS[keySpec];
  if (!spec) throw new KmsError('ValidationException', `KeySpec ${keySpec.slice(0, 40)} is not supported`);
  if (!spec.usages.includes(keyUsage)) throw new KmsError('ValidationException', `KeyUsage ${keyUsage} does not fit KeySpec ${keySpec}`);
  if (spec.keyType === 'aes') return { kind: 'secret', mechanism: 'AES-KEY-GEN', template: { class: 'secret-key', keyType: 'aes', valueLen: spec.bytes!, encrypt: true, decrypt: true, label } };
  if (spec.keyType === 'generic-secret') return { kind: 'secret', mechanism: 'GENERIC-SECRET-KEY-GEN', template: { class: 'secret-key', keyType: 'generic-secret', valueLen: spec.bytes!, sign: true, verify: true, label } };
  const enc = keyUsage === 'ENCRYPT_DECRYPT';
  const agree = keyUsage === 'KEY_AGREEMENT';
  const pub: Template = { class: 'public-key', keyType: spec.keyType, label, verify: !enc && !agree, encrypt: enc, wrap: false, derive: false };
  const priv: Template = { class: 'private-key', keyType: spec.keyType, label, sign: !enc && !agree, decrypt: enc, unwrap: false, derive: agree };
  if (spec.parameterSet) {
    // ML-DSA has no encrypt or wrap usage at all.
    const mlPub: Template = { class: 'public-key', keyType: 'ml-dsa', label, verify: true, parameterSet: spec.parameterSet };
    const mlPriv: Template = { class: 'private-key', keyType: 'ml-dsa', label, sign: true, parameterSet: spec.parameterSet };
    return { kind: 'pair', mechanism: 'ML-DSA-KEY-PAIR-GEN', publicTemplate: mlPub, privateTemplate: mlPriv };
  }
  if (spec.curve) {
    pub.curve = spec.curve;
    priv.curve = spec.curve;
    return { kind: 'pair', mechanism: 'EC-KEY-PAIR-GEN', publicTemplate: pub, privateTemplate: priv };
  }
  pub.modulusBits = spec.bits!;
  priv.modulusBits = spec.bits!;
  return { kind: 'pair', mechanism: 'RSA-PKCS-KEY-PAIR-GEN', publicTemplate: pub, privateTemplate: priv };
}

/** The AWS key spec and usage of an existing key, or undefined for keys KMS cannot express. */
export function describeSpec(o: ObjectInfo): { keySpec: string; keyUsage: KeyUsage } | undefined {
  if (o.class === 'secret-key' && o.keyType === 'aes' && o.valueLen === 32 && o.encrypt) return { keySpec: 'SYMMETRIC_DEFAULT', keyUsage: 'ENCRYPT_DECRYPT' };
  if (o.class === 'secret-key' && o.keyType === 'generic-secret' && o.sign) {
    const spec = Object.entries(KEY_SPECS).find(([, s]) => s.keyType === 'generic-secret' && s.bytes === o.valueLen);
    return spec ? { keySpec: spec[0], keyUsage: 'GENERATE_VERIFY_MAC' } : undefined;
  }
  if (o.class !== 'private-key') return undefined;
  const usage: KeyUsage | undefined = o.sign ? 'SIGN_VERIFY' : o.decrypt ? 'ENCRYPT_DECRYPT' : o.derive && o.keyType === 'ec' ? 'KEY_AGREEMENT' : undefined;
  if (!usage) return undefined;
  if (o.keyType === 'ec') {
    const spec = Object.entries(KEY_SPECS).find(([, s]) => s.curve === o.curve);
    return spec?.[1].usages.includes(usage) ? { keySpec: spec[0], keyUsage: usage } : undefined;
  }
  if (o.keyType === 'ml-dsa') {
    const spec = Object.entries(KEY_SPECS).find(([, s]) => s.parameterSet === o.parameterSet);
    return spec && usage === 'SIGN_VERIFY' ? { keySpec: spec[0], keyUsage: usage } : undefined;
  }
  if (o.keyType === 'rsa' && [2048, 3072, 4096].includes(o.modulusBits ?? 0)) return { keySpec: `RSA_${o.modulusBits}`, keyUsage: usage };
  return undefined;
}

const HASH_OF: Record<string, 'SHA-256' | 'SHA-384' | 'SHA-512'> = { SHA_256: 'SHA-256', SHA_384: 'SHA-384', SHA_512: 'SHA-512' };
/** RFC 8017 §9.2 note 1: DER DigestInfo prefixes for PKCS#1 v1.5 over a caller's digest. */
const DIGEST_INFO: Record<string, string> = {
  'SHA-256': '3031300d060960864801650304020105000420',
  'SHA-384': '3041300d060960864801650304020205000430',
  'SHA-512': '3051300d060960864801650304020305000440',
};
const DIGEST_LEN: Record<string, number> = { 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64 };

export function signingAlgorithms(keySpec: string): string[] {
  if (keySpec.startsWith('ML_DSA_')) return ['ML_DSA_SHAKE_256'];
  if (keySpec.startsWith('RSA_')) return ['RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_384', 'RSASSA_PSS_SHA_512', 'RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384', 'RSASSA_PKCS1_V1_5_SHA_512'];
  return [{ ECC_NIST_P256: 'ECDSA_SHA_256', ECC_SECG_P256K1: 'ECDSA_SHA_256', ECC_NIST_P384: 'ECDSA_SHA_384', ECC_NIST_P521: 'ECDSA_SHA_512' }[keySpec] ?? 'ECDSA_SHA_256'];
}

/** Mechanism, params and the bytes to pass for one SigningAlgorithm and MessageType. */
export function signingMechanism(keySpec: string, algorithm: string, messageType: 'RAW' | 'DIGEST' | 'EXTERNAL_MU', message: Uint8Array): { mechanism: string; params: MechanismParams; data: Uint8Array } {
  if (!signingAlgorithms(keySpec).includes(algorithm)) throw new KmsError('InvalidKeyUsageException', `SigningAlgorithm ${algorithm.slice(0, 40)} does not fit ${keySpec}`);
  if (algorithm === 'ML_DSA_SHAKE_256') {
    // Pure ML-DSA (FIPS 204 Algorithm 2) with an empty context, as AWS KMS signs RAW messages.
    // EXTERNAL_MU would need the boundary to sign a caller's μ (FIPS 204 §6.2 external-μ); it cannot yet.
    if (messageType !== 'RAW') throw new KmsError('ValidationException', `MessageType ${messageType} is not supported for ML-DSA keys; use RAW`);
    return { mechanism: 'ML-DSA', params: {}, data: message };
  }
  if (messageType === 'EXTERNAL_MU') throw new KmsError('ValidationException', 'MessageType EXTERNAL_MU is for ML-DSA keys');
  const hash = HASH_OF[algorithm.slice(-7)]!;
  if (messageType === 'DIGEST' && message.length !== DIGEST_LEN[hash]) throw new KmsError('ValidationException', `a ${hash} digest is ${DIGEST_LEN[hash]} bytes`);
  const h = hash.replace('-', '');
  if (algorithm.startsWith('ECDSA')) {
    return messageType === 'RAW'
      ? { mechanism: `ECDSA-${h}`, params: { signatureFormat: 'der' }, data: message }
      : { mechanism: 'ECDSA', params: { signatureFormat: 'der', hash }, data: message };
  }
  if (algorithm.startsWith('RSASSA_PSS')) {
    // AWS KMS PSS: MGF1 with the same hash, salt length = digest length.
    return messageType === 'RAW'
      ? { mechanism: `${h}-RSA-PKCS-PSS`, params: { saltLength: DIGEST_LEN[hash]! }, data: message }
      : { mechanism: 'RSA-PKCS-PSS', params: { hash, mgfHash: hash, saltLength: DIGEST_LEN[hash]! }, data: message };
  }
  return messageType === 'RAW'
    ? { mechanism: `${h}-RSA-PKCS`, params: {}, data: message }
    : { mechanism: 'RSA-PKCS', params: {}, data: new Uint8Array(Buffer.concat([Buffer.from(DIGEST_INFO[hash]!, 'hex'), message])) };
}

export function macMechanism(keySpec: string, algorithm: string): string {
  const want = { HMAC_224: 'HMAC_SHA_224', HMAC_256: 'HMAC_SHA_256', HMAC_384: 'HMAC_SHA_384', HMAC_512: 'HMAC_SHA_512' }[keySpec];
  if (algorithm !== want) throw new KmsError('InvalidKeyUsageException', `MacAlgorithm ${algorithm.slice(0, 40)} does not fit ${keySpec}`);
  return `HMAC-SHA${algorithm.slice(-3)}`;
}

export function encryptionAlgorithms(keySpec: string): string[] {
  return keySpec === 'SYMMETRIC_DEFAULT' ? ['SYMMETRIC_DEFAULT'] : keySpec.startsWith('RSA_') ? ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'] : [];
}

export function macAlgorithms(keySpec: string): string[] {
  return keySpec.startsWith('HMAC_') ? [`HMAC_SHA_${keySpec.slice(5)}`] : [];
}
