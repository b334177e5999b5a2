// The shape of a mechanism descriptor. A mechanism family is one file under mechanisms/
// exporting an array of descriptors; registry.ts collects them. Front ends look mechanisms up
// by name, PKCS#11 number or REST/KMS name; nobody switches on a mechanism.

import type { SecretBytes } from '../secret.js';
import type { KeyType, LoadedKey, UsageAttribute } from '../types.js';

export type Operation =
  | 'encrypt'
  | 'decrypt'
  | 'sign'
  | 'verify'
  | 'digest'
  | 'wrap'
  | 'unwrap'
  | 'derive'
  | 'encapsulate'
  | 'decapsulate'
  | 'generate'
  | 'generate-pair';

/**
 * Mechanism parameters, as plain data. Each descriptor documents and checks the fields it
 * reads; anything malformed is HsmError('MECHANISM_PARAM_INVALID').
 */
export interface MechanismParams {
  /** IV / nonce (CBC, CTR counter block, GCM when a standard needs the caller's). */
  iv?: Uint8Array;
  /** Additional authenticated data (GCM). */
  aad?: Uint8Array;
  /** GCM tag length in bytes (default 16). */
  tagLength?: number;
  /** Hash for OAEP/PSS/HKDF/KDF/ECDSA-with-prehash: 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512' | 'SHA3-256' … */
  hash?: string;
  /** OAEP MGF1 hash / PSS MGF1 hash (default: same as hash). */
  mgfHash?: string;
  /** OAEP label. */
  label?: Uint8Array;
  /** PSS salt length in bytes (default: hash length). */
  saltLength?: number;
  /** ECDSA signature encoding: 'der' (default for PKCS#11-free callers) or 'raw' (r‖s, IEEE P1363). */
  signatureFormat?: 'der' | 'raw';
  /** The input is already a digest (ECDSA/RSA 'prehashed' variants). */
  prehashed?: boolean;
  /** ECDH / X25519 peer public key: SPKI DER, or the raw point / u-coordinate. */
  publicData?: Uint8Array;
  /** HKDF salt and info; SP 800-108 label and context. */
  salt?: Uint8Array;
  info?: Uint8Array;
  context?: Uint8Array;
  /** Output length in bytes for derive/KDF/MAC truncation. */
  length?: number;
  /** Ed448/ML-DSA/SLH-DSA context string. */
  dsaContext?: Uint8Array;
  /** Deterministic signing for ML-DSA/SLH-DSA (default: hedged/randomised). */
  deterministic?: boolean;
}

/** What a key-generation request resolves to before it reaches a key-type descriptor. */
export interface KeySpec {
  keyType: KeyType;
  valueLen?: number;
  modulusBits?: number;
  publicExponent?: number;
  curve?: string;
  parameterSet?: string;
}

export interface EncryptResult {
  output: Uint8Array;
  /** Parameters the caller needs to decrypt that the module chose (a GCM IV made inside). */
  params?: MechanismParams;
}

export interface Encapsulation {
  ciphertext: Uint8Array;
  sharedSecret: SecretBytes;
}

export interface MechanismImpl {
  encrypt?(key: LoadedKey, data: Uint8Array, params: MechanismParams): Promise<EncryptResult>;
  /** Throws HsmError('DECRYPT_FAILED') for every authentication/padding failure, whatever the cause. */
  decrypt?(key: LoadedKey, data: Uint8Array, params: MechanismParams): Promise<SecretBytes | Uint8Array>;
  sign?(key: LoadedKey, data: Uint8Array, params: MechanismParams): Promise<Uint8Array>;
  /** Returns false for any invalid signature/MAC; throws only for bad arguments. */
  verify?(key: LoadedKey, data: Uint8Array, signature: Uint8Array, params: MechanismParams): Promise<boolean>;
  digest?(data: Uint8Array, params: MechanismParams): Promise<Uint8Array>;
  /** Wraps serialised key material (see keytypes: secret value or PKCS#8). */
  wrap?(wrappingKey: LoadedKey, material: SecretBytes, params: MechanismParams): Promise<EncryptResult>;
  /** Throws HsmError('UNWRAP_FAILED') for every failure, whatever the cause. */
  unwrap?(unwrappingKey: LoadedKey, wrapped: Uint8Array, params: MechanismParams): Promise<SecretBytes>;
  /** Returns `length` bytes of derived secret. Invalid peer points: HsmError('DOMAIN_PARAMS_INVALID'). */
  derive?(baseKey: LoadedKey, params: MechanismParams, length: number): Promise<SecretBytes>;
  encapsulate?(publicKey: LoadedKey, params: MechanismParams): Promise<Encapsulation>;
  /** Throws HsmError('DECAPSULATE_FAILED') on malformed ciphertext (ML-KEM itself rejects implicitly). */
  decapsulate?(privateKey: LoadedKey, ciphertext: Uint8Array, params: MechanismParams): Promise<SecretBytes>;
}

export interface MechanismDescriptor {
  /** Registry name, also the REST name: 'AES-GCM', 'RSA-PSS', 'ECDSA-SHA256', 'ML-DSA' … */
  name: string;
  /** PKCS#11 CKM_* number, where one exists. */
  ckm?: number;
  /** Other names front ends use (KMS 'RSASSA_PSS_SHA_256', payment names …). */
  aliases?: string[];
  family: string;
  /** Operations this mechanism offers (must match the implemented functions). */
  operations: readonly Operation[];
  /** Key types it accepts; empty for digest/random. */
  keyTypes: readonly KeyType[];
  /** Accepted key sizes in bits (inclusive); omitted = any size the key type allows. */
  keyBits?: { min: number; max: number };
  /** The usage attribute each operation needs (PKCS#11: CKA_SIGN for MAC generation …). */
  usage?: Partial<Record<Operation, UsageAttribute>>;
  /** FIPS 140-3 approved (SP 800-140C/D). */
  approved: boolean;
  /** Refused unless a partition explicitly enables it (e.g. RSA PKCS#1 v1.5 decryption). */
  disabledByDefault?: boolean;
  /** Maximum input length in bytes for single-shot operations, where the algorithm bounds it. */
  maxInput?: number;
  impl: MechanismImpl;
  /** Known-answer self-test: throws on mismatch. Runs before service (DESIGN §3). */
  selfTest(): Promise<void>;
}

/** Default usage attribute for each operation (PKCS#11 semantics). */
export const DEFAULT_USAGE: Record<Operation, UsageAttribute | undefined> = {
  encrypt: 'encrypt',
  decrypt: 'decrypt',
  sign: 'sign',
  verify: 'verify',
  digest: undefined,
  wrap: 'wrap',
  unwrap: 'unwrap',
  derive: 'derive',
  encapsulate: 'encapsulate',
  decapsulate: 'decapsulate',
  generate: undefined,
  'generate-pair': undefined,
};
