// The attribute rules as data: one row per attribute, flags after the PKCS#11 v3.0 §4
// attribute-table footnotes (settable on create/generate/unwrap/derive, modifiable later,
// one-way) plus Coffer's hardening from attacks.md §1.4 (usage attributes only narrow after
// creation, A-04; bookkeeping attributes never caller-set, A-15; CKA_TRUSTED officer-only, A-13).
// One generic validator (validator.ts) applies this table for every operation.

import type { ObjectClass, Template } from '../types.js';

/** The operations through which a template reaches an object. */
export type TemplateOp = 'create' | 'generate' | 'unwrap' | 'derive' | 'copy' | 'set';

export type AttributeType = 'boolean' | 'string' | 'bytes' | 'date' | 'int' | 'enum' | 'mechanisms' | 'template';

export interface AttributeRule {
  type: AttributeType;
  /** Classes the attribute applies to; 'keys' = secret, private and public keys. */
  classes: 'all' | 'keys' | readonly ObjectClass[];
  /** Operations in which the caller may name the attribute. */
  settable: readonly TemplateOp[];
  /** On copy and set: the only direction a boolean may move (PKCS#11 footnotes 11/12). */
  oneWay?: 'to-true' | 'to-false';
  /** Only a partition officer may set it (CKA_TRUSTED, PKCS#11 v3.0 §4.10 footnote). */
  officerOnly?: boolean;
  /** Allowed string values for 'enum'. */
  values?: readonly string[];
  /** Why, with the citation. */
  note: string;
}

const MAKE = ['create', 'generate', 'unwrap', 'derive'] as const;
const MAKE_COPY = ['create', 'generate', 'unwrap', 'derive', 'copy'] as const;
const ALL = ['create', 'generate', 'unwrap', 'derive', 'copy', 'set'] as const;

const usage = (note: string): AttributeRule => ({
  type: 'boolean',
  classes: 'keys',
  settable: ['create', 'generate', 'unwrap', 'derive', 'copy', 'set'],
  oneWay: 'to-false',
  note: `${note}; after creation a usage may be dropped but never added (attacks.md A-04: role history, not current role, is what matters)`,
});

export const ATTRIBUTE_RULES = {
  class: { type: 'enum', classes: 'all', settable: MAKE, values: ['secret-key', 'private-key', 'public-key', 'certificate', 'data'], note: 'CKA_CLASS: fixed at creation' },
  keyType: {
    type: 'enum',
    classes: 'keys',
    settable: MAKE,
    values: ['aes', 'des2', 'des3', 'generic-secret', 'rsa', 'ec', 'ec-edwards', 'ec-montgomery', 'ml-dsa', 'ml-kem', 'slh-dsa'],
    note: 'CKA_KEY_TYPE: fixed at creation',
  },
  label: { type: 'string', classes: 'all', settable: ALL, note: 'CKA_LABEL: modifiable' },
  id: { type: 'bytes', classes: 'all', settable: ALL, note: 'CKA_ID: modifiable' },
  token: { type: 'boolean', classes: 'all', settable: MAKE_COPY, note: 'CKA_TOKEN: persistent (true) or session object; set on creation or copy' },
  private: { type: 'boolean', classes: 'all', settable: ['create', 'generate', 'unwrap', 'derive', 'copy'], oneWay: 'to-true', note: 'CKA_PRIVATE: a copy never turns a private object public (attacks.md A-07)' },
  modifiable: { type: 'boolean', classes: 'all', settable: ['create', 'generate', 'unwrap', 'derive', 'copy'], oneWay: 'to-false', note: 'CKA_MODIFIABLE: changed only by copy, only to false (PKCS#11 v3.0 §4.4)' },
  copyable: { type: 'boolean', classes: 'all', settable: ALL, oneWay: 'to-false', note: 'CKA_COPYABLE: once false stays false (PKCS#11 v3.0 §4.4)' },
  destroyable: { type: 'boolean', classes: 'all', settable: ALL, oneWay: 'to-false', note: 'CKA_DESTROYABLE: once false stays false' },
  sign: usage('CKA_SIGN (also MAC generation)'),
  verify: usage('CKA_VERIFY (also MAC verification)'),
  encrypt: usage('CKA_ENCRYPT'),
  decrypt: usage('CKA_DECRYPT'),
  wrap: usage('CKA_WRAP'),
  unwrap: usage('CKA_UNWRAP'),
  derive: usage('CKA_DERIVE'),
  encapsulate: usage('CKA_ENCAPSULATE (PKCS#11 v3.2)'),
  decapsulate: usage('CKA_DECAPSULATE (PKCS#11 v3.2)'),
  sensitive: { type: 'boolean', classes: ['secret-key', 'private-key'], settable: ALL, oneWay: 'to-true', note: 'CKA_SENSITIVE: only false→true (PKCS#11 v3.0 §4.9 footnote 11; attacks.md A-05)' },
  extractable: { type: 'boolean', classes: ['secret-key', 'private-key'], settable: ALL, oneWay: 'to-false', note: 'CKA_EXTRACTABLE: only true→false (footnote 12; attacks.md A-05)' },
  alwaysSensitive: { type: 'boolean', classes: ['secret-key', 'private-key'], settable: [], note: 'CKA_ALWAYS_SENSITIVE: bookkeeping, computed, never caller-set (attacks.md A-15)' },
  neverExtractable: { type: 'boolean', classes: ['secret-key', 'private-key'], settable: [], note: 'CKA_NEVER_EXTRACTABLE: bookkeeping (A-15)' },
  local: { type: 'boolean', classes: 'keys', settable: [], note: 'CKA_LOCAL: true only for keys generated inside (A-15)' },
  trusted: { type: 'boolean', classes: ['secret-key', 'public-key'], settable: ALL, officerOnly: true, note: 'CKA_TRUSTED: only the security officer may set it (PKCS#11 v3.0 §4.8; attacks.md A-13)' },
  wrapWithTrusted: { type: 'boolean', classes: ['secret-key', 'private-key'], settable: ALL, oneWay: 'to-true', note: 'CKA_WRAP_WITH_TRUSTED: once true stays true (A-13)' },
  startDate: { type: 'date', classes: 'keys', settable: ALL, note: 'CKA_START_DATE: no originating use before it' },
  endDate: { type: 'date', classes: 'keys', settable: ALL, note: 'CKA_END_DATE: no originating use after it (SP 800-57 originator-usage period)' },
  allowedMechanisms: { type: 'mechanisms', classes: 'keys', settable: MAKE, note: 'CKA_ALLOWED_MECHANISMS: fixed at creation' },
  wrapTemplate: { type: 'template', classes: 'keys', settable: MAKE, note: 'CKA_WRAP_TEMPLATE: fixed at creation (A-14)' },
  unwrapTemplate: { type: 'template', classes: 'keys', settable: MAKE, note: 'CKA_UNWRAP_TEMPLATE: fixed at creation (A-14)' },
  deriveTemplate: { type: 'template', classes: 'keys', settable: MAKE, note: 'CKA_DERIVE_TEMPLATE: fixed at creation (A-14)' },
  valueLen: { type: 'int', classes: ['secret-key'], settable: ['generate', 'unwrap', 'derive'], note: 'CKA_VALUE_LEN: from the material on create' },
  modulusBits: { type: 'int', classes: ['private-key', 'public-key'], settable: ['generate'], note: 'CKA_MODULUS_BITS: generation only' },
  publicExponent: { type: 'int', classes: ['private-key', 'public-key'], settable: ['generate'], note: 'CKA_PUBLIC_EXPONENT: generation only' },
  curve: {
    type: 'enum',
    classes: ['private-key', 'public-key'],
    settable: ['generate'],
    values: ['P-256', 'P-384', 'P-521', 'secp256k1', 'Ed25519', 'Ed448', 'X25519', 'X448'],
    note: 'CKA_EC_PARAMS as a curve name: generation only',
  },
  parameterSet: {
    type: 'string',
    classes: ['private-key', 'public-key'],
    settable: ['generate', 'create', 'unwrap'],
    note: 'CKA_PARAMETER_SET (v3.2): fixed at creation; on import it names the set where raw bytes cannot (a 32-byte ML-DSA seed fits all three)',
  },
  keyUsage: { type: 'enum', classes: 'keys', settable: MAKE, values: ['P0', 'V1', 'V2', 'C0', 'E0', 'E1', 'E2', 'E3', 'E4', 'E5', 'E6', 'B0', 'K0', 'K1', 'M0', 'M1', 'M2', 'M3', 'M6', 'D0', 'S0'], note: 'TR-31 key usage: fixed at creation' },
  modeOfUse: { type: 'enum', classes: 'keys', settable: MAKE, values: ['B', 'C', 'D', 'E', 'G', 'N', 'S', 'T', 'V', 'X', 'Y'], note: 'TR-31 mode of use (X9.143 Table 8): fixed at creation; bound by a key block MAC on export' },
  exportability: { type: 'enum', classes: ['secret-key', 'private-key'], settable: MAKE, values: ['E', 'N', 'S'], note: 'TR-31 exportability (X9.143 Table 10): fixed at creation; N refuses every key block export (attacks.md C-10)' },
  keyVersionNumber: { type: 'string', classes: 'keys', settable: MAKE, note: 'TR-31 key version number (two characters): fixed at creation' },
  auditUse: { type: 'boolean', classes: 'keys', settable: ALL, oneWay: 'to-true', note: 'Coffer: log every use of this key; a user may switch it on, never off' },
  value: { type: 'bytes', classes: ['secret-key', 'data'], settable: ['create'], note: 'CKA_VALUE: clear import on create only; never readable' },
  publicKey: { type: 'bytes', classes: ['public-key'], settable: ['create'], note: 'public key material on create' },
  privateKey: { type: 'bytes', classes: ['private-key'], settable: ['create'], note: 'private key material on create (clear import)' },
  certificate: { type: 'bytes', classes: ['certificate'], settable: ['create'], note: 'DER certificate on create' },
} as const satisfies Record<keyof Template, AttributeRule>;

export type AttributeName = keyof typeof ATTRIBUTE_RULES;

/** The material-carrying template fields: consumed by creation, never stored as attributes. */
export const MATERIAL_FIELDS = ['value', 'publicKey', 'privateKey', 'certificate'] as const;

/** Usage attributes each key type and class can carry (a key type that cannot sign has no `sign`). */
export const USAGES_BY_KEY_TYPE: Record<string, { secret?: readonly string[]; private?: readonly string[]; public?: readonly string[] }> = {
  aes: { secret: ['encrypt', 'decrypt', 'sign', 'verify', 'wrap', 'unwrap', 'derive'] },
  des2: { secret: ['encrypt', 'decrypt', 'sign', 'verify', 'wrap', 'unwrap', 'derive'] },
  des3: { secret: ['encrypt', 'decrypt', 'sign', 'verify', 'wrap', 'unwrap', 'derive'] },
  'generic-secret': { secret: ['sign', 'verify', 'derive'] },
  rsa: { private: ['sign', 'decrypt', 'unwrap'], public: ['verify', 'encrypt', 'wrap'] },
  ec: { private: ['sign', 'derive'], public: ['verify'] },
  'ec-edwards': { private: ['sign'], public: ['verify'] },
  'ec-montgomery': { private: ['derive'], public: [] },
  'ml-dsa': { private: ['sign'], public: ['verify'] },
  'slh-dsa': { private: ['sign'], public: ['verify'] },
  'ml-kem': { private: ['decapsulate'], public: ['encapsulate'] },
};
