// The shape of a key-type descriptor: how a key type is generated, serialised for sealing and
// wrapping, loaded into a usable LoadedKey, and how strong it is (for the rule that a key is
// wrapped only by a key at least as strong, SP 800-57 Part 1 Table 2).

import type { KeySpec } from '../mechanisms/types.js';
import type { SecretBytes } from '../secret.js';
import type { Attributes, KeyType, LoadedKey } from '../types.js';

export interface GeneratedSecret {
  /** Secret value (raw bytes). */
  secret: SecretBytes;
}

export interface GeneratedPair {
  /** Private key serialised: PKCS#8 DER (classical) or raw secret key / seed (post-quantum). */
  secret: SecretBytes;
  /** Public key serialised: SPKI DER (classical) or raw public key (post-quantum). */
  publicData: Uint8Array;
}

/** Public facts about a key derived from its material, merged into the object's attributes. */
export interface KeyFacts {
  valueLen?: number;
  modulusBits?: number;
  publicExponent?: number;
  curve?: Attributes['curve'];
  parameterSet?: string;
}

/**
 * Serialised material handed to a key type. `parameterSet` is the object's (or import template's)
 * attribute: a raw post-quantum seed (32-byte ML-DSA ξ, 64-byte ML-KEM d‖z) or a raw SLH-DSA key
 * fits several parameter sets, and only this names which. Other key types ignore it.
 */
export interface KeyTypeMaterial {
  secret?: SecretBytes;
  publicData?: Uint8Array;
  parameterSet?: string;
}

export interface KeyTypeDescriptor {
  keyType: KeyType;
  /** 'secret' types make secret-key objects; 'pair' types make private/public pairs. */
  kind: 'secret' | 'pair';
  /** PKCS#11 CKK_* number. */
  ckk: number;
  /** Validates and completes a generation spec (defaults, ranges): HsmError('KEY_SIZE_RANGE' | 'TEMPLATE_INCOMPLETE'). */
  normalizeSpec(spec: KeySpec): KeySpec;
  generate?(spec: KeySpec): Promise<GeneratedSecret>;
  generatePair?(spec: KeySpec): Promise<GeneratedPair>;
  /**
   * Parses serialised material into a usable key, checking it (length, DES parity is not
   * required, curve membership, RSA consistency). Bad material: HsmError('ATTRIBUTE_VALUE_INVALID').
   * `secret` absent means a public key from `publicData`.
   */
  load(uid: string, version: number, material: KeyTypeMaterial): LoadedKey;
  /** Public facts of the material (sizes, curve) so attributes describe the key truthfully. */
  facts(material: KeyTypeMaterial): KeyFacts;
  /** For pairs: the public key bytes derived from the private material (`parameterSet` as in KeyTypeMaterial). */
  publicFromPrivate?(secret: SecretBytes, parameterSet?: string): Uint8Array;
  /** Security strength in bits (SP 800-57 Pt 1 Rev 5 Table 2; FIPS 203/204/205 categories). */
  strength(facts: KeyFacts): number;
  /** Pairwise-consistency test for generated and imported pairs (FIPS 140-3 IG 10.3.A): throws on failure. */
  pairwiseTest?(privateKey: LoadedKey, publicKey: LoadedKey): Promise<void>;
}
