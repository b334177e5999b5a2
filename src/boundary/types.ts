// The object model shared by everything inside the boundary and, through api.ts, by the
// front ends. Attribute names are PKCS#11's (v3.0 §4) in camelCase. Nothing in these types
// holds plaintext key material except LoadedKey, which never leaves the boundary.

import type { KeyObject } from 'node:crypto';
import type { SecretBytes } from './secret.js';

export type ObjectClass = 'secret-key' | 'private-key' | 'public-key' | 'certificate' | 'data';

/** Key types, each with a descriptor under keytypes/. PKCS#11 CKK_* in comments. */
export type KeyType =
  | 'aes' // CKK_AES
  | 'des2' // CKK_DES2 (two-key TDES, 16 bytes)
  | 'des3' // CKK_DES3 (three-key TDES, 24 bytes)
  | 'generic-secret' // CKK_GENERIC_SECRET (HMAC, HKDF, KDF input, derived secrets)
  | 'rsa' // CKK_RSA
  | 'ec' // CKK_EC (P-256, P-384, P-521, secp256k1)
  | 'ec-edwards' // CKK_EC_EDWARDS (Ed25519, Ed448)
  | 'ec-montgomery' // CKK_EC_MONTGOMERY (X25519, X448)
  | 'ml-dsa' // CKK_ML_DSA (PKCS#11 3.2)
  | 'ml-kem' // CKK_ML_KEM (PKCS#11 3.2)
  | 'slh-dsa'; // CKK_SLH_DSA (PKCS#11 3.2)

export type Curve = 'P-256' | 'P-384' | 'P-521' | 'secp256k1' | 'Ed25519' | 'Ed448' | 'X25519' | 'X448';

/** ML-DSA-44/65/87, ML-KEM-512/768/1024, SLH-DSA-SHA2-128s … */
export type ParameterSet = string;

export type KeyState = 'enabled' | 'disabled' | 'pending-deletion' | 'destroyed';

/** Boolean attributes with PKCS#11 meaning. */
export const BOOLEAN_ATTRIBUTES = [
  'token',
  'private',
  'modifiable',
  'copyable',
  'destroyable',
  'sign',
  'verify',
  'encrypt',
  'decrypt',
  'wrap',
  'unwrap',
  'derive',
  'sensitive',
  'extractable',
  'alwaysSensitive',
  'neverExtractable',
  'local',
  'trusted',
  'wrapWithTrusted',
  'encapsulate',
  'decapsulate',
  'auditUse',
] as const;
export type BooleanAttribute = (typeof BOOLEAN_ATTRIBUTES)[number];

export type UsageAttribute = 'sign' | 'verify' | 'encrypt' | 'decrypt' | 'wrap' | 'unwrap' | 'derive' | 'encapsulate' | 'decapsulate';

/** A template: what a caller asks for. Every field optional; unknown names are refused by the validator. */
export interface Template {
  class?: ObjectClass;
  keyType?: KeyType;
  label?: string;
  /** CKA_ID: application-chosen bytes, base64 in JSON. */
  id?: Uint8Array;
  token?: boolean;
  private?: boolean;
  modifiable?: boolean;
  copyable?: boolean;
  destroyable?: boolean;
  sign?: boolean;
  verify?: boolean;
  encrypt?: boolean;
  decrypt?: boolean;
  wrap?: boolean;
  unwrap?: boolean;
  derive?: boolean;
  encapsulate?: boolean;
  decapsulate?: boolean;
  sensitive?: boolean;
  extractable?: boolean;
  alwaysSensitive?: boolean;
  neverExtractable?: boolean;
  local?: boolean;
  trusted?: boolean;
  wrapWithTrusted?: boolean;
  startDate?: string;
  endDate?: string;
  /** Mechanism names (registry names, e.g. 'AES-GCM'). */
  allowedMechanisms?: string[];
  wrapTemplate?: Template;
  unwrapTemplate?: Template;
  deriveTemplate?: Template;
  /** Secret-key length in bytes (CKA_VALUE_LEN). */
  valueLen?: number;
  /** RSA modulus length in bits (CKA_MODULUS_BITS). */
  modulusBits?: number;
  /** RSA public exponent (CKA_PUBLIC_EXPONENT), default 65537. */
  publicExponent?: number;
  curve?: Curve;
  parameterSet?: ParameterSet;
  /** Payment key usage, TR-31 vocabulary (P0, V1, V2, C0, E0, B0, K0, M0–M3, D0). */
  keyUsage?: string;
  /** TR-31 mode of use (X9.143 Table 8: B, C, D, E, G, N, S, T, V, X, Y); fixed at creation. */
  modeOfUse?: string;
  /** TR-31 exportability (X9.143 Table 10): E, S or N; a key block export needs E or S (attacks.md C-10). */
  exportability?: 'E' | 'N' | 'S';
  /** TR-31 key version number (two characters, 00 = none). */
  keyVersionNumber?: string;
  /** Plaintext value: only on create (import in the clear) of secret keys and data objects. */
  value?: Uint8Array;
  /** Public key (SPKI DER for classical keys; raw encoding for post-quantum) on create of a public key. */
  publicKey?: Uint8Array;
  /** Private key as PKCS#8 DER (classical) or raw (post-quantum) on create: import in the clear. */
  privateKey?: Uint8Array;
  /** DER certificate on create of a certificate object. */
  certificate?: Uint8Array;
  /** Whether key use is recorded in the audit log (DESIGN §3 Audit). */
  auditUse?: boolean;
}

/** The full, validated attribute set of a stored object (no key material). */
export interface Attributes {
  class: ObjectClass;
  keyType?: KeyType;
  label: string;
  id: Uint8Array;
  token: boolean;
  private: boolean;
  modifiable: boolean;
  copyable: boolean;
  destroyable: boolean;
  sign: boolean;
  verify: boolean;
  encrypt: boolean;
  decrypt: boolean;
  wrap: boolean;
  unwrap: boolean;
  derive: boolean;
  encapsulate: boolean;
  decapsulate: boolean;
  sensitive: boolean;
  extractable: boolean;
  alwaysSensitive: boolean;
  neverExtractable: boolean;
  local: boolean;
  trusted: boolean;
  wrapWithTrusted: boolean;
  startDate?: string;
  endDate?: string;
  allowedMechanisms?: string[];
  wrapTemplate?: Template;
  unwrapTemplate?: Template;
  deriveTemplate?: Template;
  valueLen?: number;
  modulusBits?: number;
  publicExponent?: number;
  curve?: Curve;
  parameterSet?: ParameterSet;
  keyUsage?: string;
  modeOfUse?: string;
  exportability?: 'E' | 'N' | 'S';
  keyVersionNumber?: string;
  auditUse: boolean;
}

/** KMS-style metadata beside the PKCS#11 attributes. */
export interface ObjectMeta {
  state: KeyState;
  /** ISO date on which a pending deletion becomes destruction. */
  deletionDate?: string;
  aliases: string[];
  tags: Record<string, string>;
  owner: string;
  createdAt: string;
  updatedAt: string;
  /** Key version used for new operations (rotation appends versions). */
  currentVersion: number;
  /** Per-operation use counters. */
  usage: Record<string, number>;
  /** The other half of a key pair (private ↔ public), if any. */
  peer?: string;
  /** Automatic rotation (AWS KMS EnableKeyRotation): the period and when the next version is due. */
  rotation?: { periodDays: number; nextRotation: string };
}

export interface KeyVersionInfo {
  version: number;
  createdAt: string;
  /** Public part (SPKI DER or raw PQ public key) for asymmetric keys; not secret. */
  publicData?: Uint8Array;
  /** How a version after the first was made (AWS KMS ListKeyRotations' RotationType). */
  rotation?: 'automatic' | 'on-demand';
}

/** What the store keeps of an object, apart from sealed material. */
export interface StoredObject {
  /** Stable unique id, random, never reused (also CKA_UNIQUE_ID). */
  uid: string;
  partition: string;
  attrs: Attributes;
  meta: ObjectMeta;
  versions: KeyVersionInfo[];
  /** Monotonic revision of this record, bumped on every change. */
  revision: number;
}

/** Key material of one version, as it is sealed and unsealed by the store. */
export interface KeyMaterial {
  /** Secret key value, PKCS#8 private key, or raw PQ secret key; absent for public-only objects. */
  secret?: SecretBytes;
  /** SPKI DER or raw PQ public key, for asymmetric keys. */
  publicData?: Uint8Array;
}

/**
 * A key ready for use: parsed once, kept in the bounded cache. Only inside the boundary.
 * `secret` is present for secret keys and for post-quantum private keys (noble takes bytes).
 */
export interface LoadedKey {
  uid: string;
  version: number;
  keyType: KeyType;
  class: ObjectClass;
  /** Secret keys: createSecretKey; classical private/public keys: the node KeyObject. */
  keyObject?: KeyObject;
  /** The matching public KeyObject for classical private keys. */
  publicKeyObject?: KeyObject;
  /** Raw secret bytes (secret keys of DES types and PQ private keys). */
  secret?: SecretBytes;
  /** Raw public key bytes (PQ public keys, and SPKI DER for classical). */
  publicData?: Uint8Array;
  /** EC private keys: the scalar d, exported once by the first CKM_ECDSA signature; destroyed with `secret`. */
  scalar?: SecretBytes;
  curve?: Curve;
  parameterSet?: ParameterSet;
  /** Key size in bits (AES/DES value bits, RSA modulus bits, curve order bits). */
  bits: number;
}

export type PartitionRole = 'officer' | 'user';
export type ApplianceRole = 'admin' | 'auditor';
export type Role = PartitionRole | ApplianceRole;

export interface PartitionRecord {
  name: string;
  label: string;
  createdAt: string;
  /** Refuse mechanisms that are not FIPS-approved. */
  fipsApprovedOnly: boolean;
  /** Import TR-31 key blocks of versions A and C (key variant binding); off unless the officer allows it (attacks.md C-10). */
  tr31LegacyImport?: boolean;
}

export interface UserRecord {
  name: string;
  role: Role;
  /** Partition for officer/user roles; undefined for appliance roles. */
  partition?: string;
  /** scrypt hash: `scrypt$N$r$p$salt_b64$hash_b64`. */
  passwordHash: string;
  failedLogins: number;
  locked: boolean;
  createdAt: string;
  /** Payment grants an officer gave this user account (module/payment.ts): issuer (offset/PVV generation), card-production (CVV/CVC generation). */
  grants?: PaymentGrant[];
}

export type PaymentGrant = 'issuer' | 'card-production';
