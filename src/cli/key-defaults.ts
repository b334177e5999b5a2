// What `coffer key create --type X` means as a template, and which mechanism a key uses when -m
// is not given. The defaults follow current guidance: ECDSA with the curve's matching hash
// (FIPS 186-5 §6.4 / SP 800-57 Pt 1 Table 2), RSA-PSS and OAEP rather than PKCS#1 v1.5
// (RFC 8017 §8, §7: PKCS#1 v1.5 kept for compatibility only), AES-GCM, AES-KWP for wrapping.

import { UsageError } from './args.js';

interface TypeRule {
  keyType: string;
  pair: boolean;
  curve?: string;
  /** Allowed --curve values (ec only). */
  curves?: readonly string[];
  /** Default --bits and the attribute it sets. */
  bits?: { default: number; allowed: readonly number[]; attribute: 'valueLen' | 'modulusBits' };
  paramSets?: { default: string; allowed: readonly string[] };
  usage: readonly string[];
}

export const KEY_TYPES: Record<string, TypeRule> = {
  aes: { keyType: 'aes', pair: false, bits: { default: 256, allowed: [128, 192, 256], attribute: 'valueLen' }, usage: ['encrypt', 'decrypt'] },
  hmac: { keyType: 'generic-secret', pair: false, bits: { default: 256, allowed: [128, 160, 192, 256, 384, 512], attribute: 'valueLen' }, usage: ['sign', 'verify'] },
  'generic-secret': { keyType: 'generic-secret', pair: false, bits: { default: 256, allowed: [128, 160, 192, 256, 384, 512], attribute: 'valueLen' }, usage: ['derive'] },
  des3: { keyType: 'des3', pair: false, usage: ['encrypt', 'decrypt'] },
  ec: { keyType: 'ec', pair: true, curve: 'P-256', curves: ['P-256', 'P-384', 'P-521', 'secp256k1'], usage: ['sign'] },
  rsa: { keyType: 'rsa', pair: true, bits: { default: 3072, allowed: [2048, 3072, 4096], attribute: 'modulusBits' }, usage: ['sign'] },
  ed25519: { keyType: 'ec-edwards', pair: true, curve: 'Ed25519', usage: ['sign'] },
  ed448: { keyType: 'ec-edwards', pair: true, curve: 'Ed448', usage: ['sign'] },
  x25519: { keyType: 'ec-montgomery', pair: true, curve: 'X25519', usage: ['derive'] },
  x448: { keyType: 'ec-montgomery', pair: true, curve: 'X448', usage: ['derive'] },
  'ml-dsa': { keyType: 'ml-dsa', pair: true, paramSets: { default: 'ML-DSA-65', allowed: ['ML-DSA-44', 'ML-DSA-65', 'ML-DSA-87'] }, usage: ['sign'] },
  'ml-kem': { keyType: 'ml-kem', pair: true, paramSets: { default: 'ML-KEM-768', allowed: ['ML-KEM-512', 'ML-KEM-768', 'ML-KEM-1024'] }, usage: ['decapsulate'] },
  'slh-dsa': {
    keyType: 'slh-dsa',
    pair: true,
    paramSets: {
      default: 'SLH-DSA-SHA2-128s',
      allowed: ['SHA2', 'SHAKE'].flatMap((h) => ['128s', '128f', '192s', '192f', '256s', '256f'].map((p) => `SLH-DSA-${h}-${p}`)),
    },
    usage: ['sign'],
  },
};

export const USAGES = ['sign', 'verify', 'encrypt', 'decrypt', 'wrap', 'unwrap', 'derive', 'encapsulate', 'decapsulate'] as const;

/** The private half's usage implies its public partner, so a signing pair can also verify. */
const PUBLIC_PARTNER: Record<string, string> = { sign: 'verify', decrypt: 'encrypt', unwrap: 'wrap', decapsulate: 'encapsulate' };

export interface CreateChoices {
  type: string;
  curve?: string;
  bits?: number;
  paramSet?: string;
  label?: string;
  usage?: string[];
  extractable?: boolean;
}

/** The JSON template for POST /v1/keys; usage errors for anything the type does not take. */
export function templateFor(c: CreateChoices): Record<string, unknown> {
  const rule = KEY_TYPES[c.type.toLowerCase()];
  if (!rule) throw new UsageError(`unknown key type ${JSON.stringify(c.type)}; one of ${Object.keys(KEY_TYPES).join(', ')}`);
  const t: Record<string, unknown> = { keyType: rule.keyType, token: true };
  if (c.curve !== undefined && !rule.curves) throw new UsageError(`--curve does not apply to --type ${c.type}`);
  if (rule.curves) {
    const curve = rule.curves.find((k) => k.toLowerCase() === (c.curve ?? rule.curve ?? '').toLowerCase());
    if (!curve) throw new UsageError(`--curve must be one of ${rule.curves.join(', ')}`);
    t.curve = curve;
  } else if (rule.curve) t.curve = rule.curve;
  if (c.bits !== undefined && !rule.bits) throw new UsageError(`--bits does not apply to --type ${c.type}`);
  if (rule.bits) {
    const bits = c.bits ?? rule.bits.default;
    if (!rule.bits.allowed.includes(bits)) throw new UsageError(`--bits must be one of ${rule.bits.allowed.join(', ')} for --type ${c.type}`);
    // CKA_VALUE_LEN counts bytes (PKCS#11 v3.0 §4.7); CKA_MODULUS_BITS counts bits.
    t[rule.bits.attribute] = rule.bits.attribute === 'valueLen' ? bits / 8 : bits;
  }
  if (c.paramSet !== undefined && !rule.paramSets) throw new UsageError(`--param-set does not apply to --type ${c.type}`);
  if (rule.paramSets) {
    const ps = rule.paramSets.allowed.find((p) => p.toLowerCase() === (c.paramSet ?? rule.paramSets!.default).toLowerCase());
    if (!ps) throw new UsageError(`--param-set must be one of ${rule.paramSets.allowed.join(', ')}`);
    t.parameterSet = ps;
  }
  if (c.label !== undefined) t.label = c.label;
  if (c.extractable) t.extractable = true;
  const usage = c.usage && c.usage.length > 0 ? c.usage : [...rule.usage];
  for (const u of usage) {
    if (!(USAGES as readonly string[]).includes(u)) throw new UsageError(`unknown usage ${JSON.stringify(u)}; one of ${USAGES.join(', ')}`);
    t[u] = true;
    const partner = PUBLIC_PARTNER[u];
    if (rule.pair && partner) t[partner] = true;
  }
  return t;
}

/** The keyType filter for `key list --type`: a CLI type name or a keyType as the server spells it. */
export function keyTypeFilter(type: string): string {
  return KEY_TYPES[type.toLowerCase()]?.keyType ?? type;
}

export interface KeyFacts {
  class?: string;
  keyType?: string;
  curve?: string;
}

const ECDSA_BY_CURVE: Record<string, string> = { 'P-256': 'ECDSA-SHA256', secp256k1: 'ECDSA-SHA256', 'P-384': 'ECDSA-SHA384', 'P-521': 'ECDSA-SHA512' };

const SIGN_BY_TYPE: Record<string, string> = {
  rsa: 'SHA256-RSA-PKCS-PSS',
  'ec-edwards': 'EDDSA',
  'ml-dsa': 'ML-DSA',
  'slh-dsa': 'SLH-DSA',
  'generic-secret': 'HMAC-SHA256',
  aes: 'AES-CMAC',
  des3: 'DES3-CMAC',
};

const ENCRYPT_BY_TYPE: Record<string, string> = { aes: 'AES-GCM', des3: 'DES3-CBC-PAD', rsa: 'RSA-PKCS-OAEP' };
const WRAP_BY_TYPE: Record<string, string> = { aes: 'AES-KWP', rsa: 'RSA-PKCS-OAEP' };

function pick(table: Record<string, string>, k: KeyFacts, what: string): string {
  const m = k.keyType === 'ec' ? ECDSA_BY_CURVE[k.curve ?? ''] : undefined;
  const found = what === 'sign' && m ? m : table[k.keyType ?? ''];
  if (!found) throw new UsageError(`no default ${what} mechanism for a ${k.keyType ?? 'unknown'} key; give one with -m`);
  return found;
}

export const defaultSignMechanism = (k: KeyFacts): string => pick(SIGN_BY_TYPE, k, 'sign');
export const defaultEncryptMechanism = (k: KeyFacts): string => pick(ENCRYPT_BY_TYPE, k, 'encrypt');
export const defaultWrapMechanism = (k: KeyFacts): string => pick(WRAP_BY_TYPE, k, 'wrap');

/** Secret keys authenticate with a MAC (the /mac routes), pairs sign (the /sign routes). */
export function isMacKey(k: KeyFacts): boolean {
  return k.class === 'secret-key';
}
