// Secret-key types: AES, two- and three-key TDES, and generic secrets (HMAC keys, KDF inputs).
// Material is the raw key value; a LoadedKey carries a KeyObject plus a SecretBytes copy. DES
// keys with equal halves are refused on load: they reduce TDES to single DES (attacks.md A-11).

import { createSecretKey } from 'node:crypto';
import { HsmError } from '../errors.js';
import type { KeySpec } from '../mechanisms/types.js';
import { SecretBytes } from '../secret.js';
import type { KeyType, LoadedKey } from '../types.js';
import type { KeyFacts, KeyTypeDescriptor } from './types.js';

interface SymmetricRule {
  keyType: KeyType;
  ckk: number;
  /** Accepted value lengths in bytes. */
  lengths: (len: number) => boolean;
  defaultLen: number;
  /** SP 800-57 Pt 1 Rev 5 Table 2 security strength for a value of `len` bytes. */
  strength: (len: number) => number;
  des: boolean;
}

const RULES: readonly SymmetricRule[] = [
  // FIPS 197: AES-128/192/256; strength = key bits (SP 800-57 Pt 1 Table 2).
  { keyType: 'aes', ckk: 0x1f, lengths: (n) => n === 16 || n === 24 || n === 32, defaultLen: 32, strength: (n) => n * 8, des: false },
  // SP 800-57 Pt 1 Rev 5 Table 2 footnote: two-key TDEA gives at most 80 bits.
  { keyType: 'des2', ckk: 0x14, lengths: (n) => n === 16, defaultLen: 16, strength: () => 80, des: true },
  // SP 800-57 Pt 1 Rev 5 Table 2: three-key TDEA gives 112 bits.
  { keyType: 'des3', ckk: 0x15, lengths: (n) => n === 24, defaultLen: 24, strength: () => 112, des: true },
  // Generic secrets: strength is the entropy of the value, capped at 256 (no Coffer mechanism gives more).
  {
    keyType: 'generic-secret',
    ckk: 0x10,
    lengths: (n) => Number.isInteger(n) && n >= 1 && n <= 512,
    defaultLen: 32,
    strength: (n) => Math.min(8 * n, 256),
    des: false,
  },
];

/** Sets each byte's low bit so the byte has odd parity (FIPS 46-3 §1: bit 8 of each byte is parity). */
function setOddParity(bytes: Buffer): void {
  for (let i = 0; i < bytes.length; i++) {
    let b = bytes[i] & 0xfe;
    let ones = 0;
    for (let v = b; v !== 0; v >>= 1) ones += v & 1;
    if (ones % 2 === 0) b |= 1;
    bytes[i] = b;
  }
}

/** Constant-time comparison of two 8-byte DES keys, ignoring parity bits (DES ignores them). */
function desKeysEqual(bytes: Buffer, a: number, b: number): boolean {
  let diff = 0;
  for (let i = 0; i < 8; i++) diff |= (bytes[a + i] ^ bytes[b + i]) & 0xfe;
  return diff === 0;
}

/** TDES keys whose adjacent parts are equal collapse to single DES (SP 800-67 Rev 2 §3.1 keying options; attacks.md A-11). */
function desDegenerate(bytes: Buffer): boolean {
  if (desKeysEqual(bytes, 0, 8)) return true;
  return bytes.length === 24 && desKeysEqual(bytes, 8, 16);
}

function requireSecret(material: { secret?: SecretBytes }): Buffer {
  if (!material.secret) throw new HsmError('ATTRIBUTE_VALUE_INVALID', 'secret key without a value');
  return material.secret.insecureBytes();
}

function descriptor(rule: SymmetricRule): KeyTypeDescriptor {
  const checkValue = (bytes: Buffer): void => {
    if (!rule.lengths(bytes.length)) throw new HsmError('ATTRIBUTE_VALUE_INVALID', `${rule.keyType} value has a wrong length`);
    if (rule.des && desDegenerate(bytes)) throw new HsmError('ATTRIBUTE_VALUE_INVALID', 'TDES key parts must differ');
  };
  const normalizeSpec = (spec: KeySpec): KeySpec & { valueLen: number } => {
    const valueLen = spec.valueLen ?? rule.defaultLen;
    if (typeof valueLen !== 'number' || !Number.isInteger(valueLen) || !rule.lengths(valueLen)) {
      throw new HsmError('KEY_SIZE_RANGE', `${rule.keyType} does not take valueLen ${String(valueLen).slice(0, 16)}`);
    }
    return { keyType: rule.keyType, valueLen };
  };
  return {
    keyType: rule.keyType,
    kind: 'secret',
    ckk: rule.ckk,
    normalizeSpec,
    async generate(spec: KeySpec) {
      const len = normalizeSpec(spec).valueLen;
      for (;;) {
        const secret = SecretBytes.random(len);
        if (!rule.des) return { secret };
        const bytes = secret.insecureBytes();
        // PKCS#11 v3.0 §6.11 (CKM_DES3_KEY_GEN): generated DES keys have their parity bits set.
        setOddParity(bytes);
        if (!desDegenerate(bytes)) return { secret };
        secret.destroy(); // probability 2^-56; draw again rather than hand out single DES
      }
    },
    load(uid: string, version: number, material): LoadedKey {
      const bytes = requireSecret(material);
      checkValue(bytes);
      return {
        uid,
        version,
        keyType: rule.keyType,
        class: 'secret-key',
        keyObject: createSecretKey(bytes),
        secret: SecretBytes.from(bytes),
        bits: bytes.length * 8,
      };
    },
    facts(material): KeyFacts {
      const bytes = requireSecret(material);
      checkValue(bytes);
      return { valueLen: bytes.length };
    },
    strength(facts: KeyFacts): number {
      return rule.strength(facts.valueLen ?? rule.defaultLen);
    },
  };
}

export const KEY_TYPES: KeyTypeDescriptor[] = RULES.map(descriptor);

/** A LoadedKey over fixed bytes, for self-tests and unit tests of the symmetric mechanisms. */
export function loadSymmetricKey(keyType: KeyType, value: Uint8Array): LoadedKey {
  const d = KEY_TYPES.find((k) => k.keyType === keyType);
  if (!d) throw new TypeError(`no symmetric key type ${keyType}`);
  const secret = SecretBytes.from(value);
  try {
    return d.load('self-test', 0, { secret });
  } finally {
    secret.destroy();
  }
}
