// The mechanism registry: every family file's descriptors, indexed by name, alias and CKM.
// Adding a mechanism is a descriptor in its family file and its vectors, nothing here.

import { HsmError } from '../errors.js';
import { MECHANISMS as AES } from './aes.js';
import { MECHANISMS as DIGEST } from './digest.js';
import { MECHANISMS as ECDH } from './ecdh.js';
import { MECHANISMS as ECDSA } from './ecdsa.js';
import { MECHANISMS as ECDSA_PREHASHED } from './ecdsa-prehashed.js';
import { MECHANISMS as EDDSA } from './eddsa.js';
import { MECHANISMS as HMAC } from './hmac.js';
import { MECHANISMS as KDF } from './kdf.js';
import { MECHANISMS as KEYGEN } from './keygen.js';
import { MECHANISMS as ML_DSA } from './ml-dsa.js';
import { MECHANISMS as ML_KEM } from './ml-kem.js';
import { MECHANISMS as RSA } from './rsa.js';
import { MECHANISMS as SLH_DSA } from './slh-dsa.js';
import { MECHANISMS as TDES } from './tdes.js';
import type { MechanismDescriptor, Operation } from './types.js';

export const ALL_MECHANISMS: readonly MechanismDescriptor[] = [
  ...KEYGEN,
  ...AES,
  ...TDES,
  ...HMAC,
  ...DIGEST,
  ...KDF,
  ...RSA,
  ...ECDSA,
  ...ECDSA_PREHASHED,
  ...EDDSA,
  ...ECDH,
  ...ML_DSA,
  ...ML_KEM,
  ...SLH_DSA,
];

const byName = new Map<string, MechanismDescriptor>();
const byCkm = new Map<number, MechanismDescriptor>();
for (const m of ALL_MECHANISMS) {
  for (const n of [m.name, ...(m.aliases ?? [])]) {
    const key = n.toUpperCase();
    if (byName.has(key)) throw new TypeError(`duplicate mechanism name ${n}`);
    byName.set(key, m);
  }
  if (m.ckm !== undefined) {
    if (byCkm.has(m.ckm)) throw new TypeError(`duplicate CKM 0x${m.ckm.toString(16)} (${m.name})`);
    byCkm.set(m.ckm, m);
  }
  for (const op of m.operations) {
    const fn = op === 'generate' || op === 'generate-pair' ? true : m.impl[op];
    if (!fn) throw new TypeError(`mechanism ${m.name} lists ${op} without implementing it`);
  }
}

/** Looks a mechanism up by name or alias (case-insensitive): HsmError('MECHANISM_INVALID') if unknown. */
export function mechanism(name: string): MechanismDescriptor {
  const m = typeof name === 'string' ? byName.get(name.toUpperCase()) : undefined;
  if (!m) throw new HsmError('MECHANISM_INVALID', typeof name === 'string' ? `unknown mechanism ${name.slice(0, 64)}` : undefined);
  return m;
}

export function mechanismByCkm(ckm: number): MechanismDescriptor | undefined {
  return byCkm.get(ckm);
}

export function mechanismsFor(op: Operation): MechanismDescriptor[] {
  return ALL_MECHANISMS.filter((m) => m.operations.includes(op));
}

/** What front ends may know of a mechanism: its facts, not its implementation. */
export interface MechanismInfo {
  name: string;
  ckm?: number;
  aliases: string[];
  family: string;
  operations: Operation[];
  keyTypes: string[];
  keyBits?: { min: number; max: number };
  approved: boolean;
  disabledByDefault: boolean;
}

function info(m: MechanismDescriptor): MechanismInfo {
  const i: MechanismInfo = {
    name: m.name,
    aliases: [...(m.aliases ?? [])],
    family: m.family,
    operations: [...m.operations],
    keyTypes: [...m.keyTypes],
    approved: m.approved,
    disabledByDefault: m.disabledByDefault === true,
  };
  if (m.ckm !== undefined) i.ckm = m.ckm;
  if (m.keyBits) i.keyBits = { ...m.keyBits };
  return i;
}

export function listMechanisms(): MechanismInfo[] {
  return ALL_MECHANISMS.map(info);
}

/** Facts of one mechanism by name, alias or CKM number; undefined if unknown. */
export function mechanismInfo(ref: string | number): MechanismInfo | undefined {
  const m = typeof ref === 'number' ? byCkm.get(ref) : byName.get(ref.toUpperCase());
  return m ? info(m) : undefined;
}
