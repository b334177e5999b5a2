// CKM numbers ↔ boundary mechanisms, and CK_*_PARAMS ↔ MechanismParams. Every boundary
// mechanism with a PKCS#11 number is served; which ones a client can send depends on its
// p11-kit generation (reference/p11-kit-rpc.md §7), not on us.

import { HsmError, listMechanisms, type MechanismInfo, type MechanismParams, mechanismInfo, type Operation } from '../../boundary/api.js';
import { CKF } from './constants.js';
import type { WireMechanism } from './mechanism-wire.js';

/** Digest mechanisms by CKM, for the hashAlg fields of PSS and OAEP (PKCS#11 v3.0 §2.1.8, §2.1.14). */
const HASH_BY_CKM = new Map<bigint, string>([
  [0x220n, 'SHA-1'],
  [0x255n, 'SHA-224'],
  [0x250n, 'SHA-256'],
  [0x260n, 'SHA-384'],
  [0x270n, 'SHA-512'],
]);
/** CKG_MGF1_* (PKCS#11 v3.0 §2.1.7). */
const MGF_HASH = new Map<bigint, string>([
  [1n, 'SHA-1'],
  [2n, 'SHA-256'],
  [3n, 'SHA-384'],
  [4n, 'SHA-512'],
  [5n, 'SHA-224'],
]);
const CKZ_DATA_SPECIFIED = 1n;
const CKD_NULL = 1n;

const invalid = (why: string): never => {
  throw new HsmError('MECHANISM_PARAM_INVALID', why);
};

/** The mechanisms a slot lists: those with a CKM that a partition may use without naming them first. */
export function slotMechanisms(): MechanismInfo[] {
  return listMechanisms().filter((m) => m.ckm !== undefined && !m.disabledByDefault);
}

const OP_FLAGS: Record<Operation, number> = {
  encrypt: CKF.ENCRYPT,
  decrypt: CKF.DECRYPT,
  sign: CKF.SIGN,
  verify: CKF.VERIFY,
  digest: CKF.DIGEST,
  wrap: CKF.WRAP,
  unwrap: CKF.UNWRAP,
  derive: CKF.DERIVE,
  generate: CKF.GENERATE,
  'generate-pair': CKF.GENERATE_KEY_PAIR,
  encapsulate: CKF.ENCAPSULATE,
  decapsulate: CKF.DECAPSULATE,
} as Record<Operation, number>;

const SECRET_KEY_TYPES = new Set(['aes', 'des2', 'des3', 'generic-secret']);

/** CK_MECHANISM_INFO: key sizes in bytes for secret keys and bits otherwise (PKCS#11 v3.0 §5.7). */
export function mechanismFacts(m: MechanismInfo): { min: number; max: number; flags: number } {
  let flags = 0;
  for (const op of m.operations) flags |= OP_FLAGS[op] ?? 0;
  if (m.keyTypes.includes('ec')) flags |= CKF.EC_F_P | CKF.EC_NAMEDCURVE | CKF.EC_UNCOMPRESS;
  const bytes = m.keyTypes.length > 0 && m.keyTypes.every((k) => SECRET_KEY_TYPES.has(k));
  const kb = m.keyBits;
  if (!kb) return { min: 0, max: 0, flags };
  return bytes ? { min: Math.ceil(kb.min / 8), max: Math.floor(kb.max / 8), flags } : { min: kb.min, max: kb.max, flags };
}

/** A wire mechanism resolved to a boundary mechanism name and parameters, for operation `op`. */
export function resolveMechanism(m: WireMechanism, op: Operation): { name: string; params: MechanismParams } {
  const info = mechanismInfo(m.type);
  if (!info || info.ckm === undefined || !info.operations.includes(op)) throw new HsmError('MECHANISM_INVALID', `0x${m.type.toString(16)} for ${op}`);
  const params: MechanismParams = {};
  const p = m.param;
  switch (p.kind) {
    case 'none':
      break;
    case 'pss':
      params.hash = HASH_BY_CKM.get(p.hash) ?? invalid('PSS hashAlg');
      params.mgfHash = MGF_HASH.get(p.mgf) ?? invalid('PSS mgf');
      if (p.sLen > 0xffffn) invalid('PSS sLen');
      params.saltLength = Number(p.sLen);
      break;
    case 'oaep':
      params.hash = HASH_BY_CKM.get(p.hash) ?? invalid('OAEP hashAlg');
      params.mgfHash = MGF_HASH.get(p.mgf) ?? invalid('OAEP mgf');
      if (p.source !== 0n && p.source !== CKZ_DATA_SPECIFIED) invalid('OAEP source');
      if (p.sourceData && p.sourceData.length > 0) params.label = p.sourceData;
      break;
    case 'iv':
      if (p.iv) params.iv = p.iv;
      break;
    case 'ctr':
      if (p.counterBits === 0n || p.counterBits > 128n) invalid('CTR counter bits');
      if (p.cb) params.iv = p.cb;
      break;
    case 'gcm':
      // CK_GCM_PARAMS (PKCS#11 v3.0 §2.12.3): tag bits a whole number of bytes.
      if (p.tagBits % 8n !== 0n || p.tagBits === 0n || p.tagBits > 128n) invalid('GCM tag bits');
      if (p.iv && p.iv.length > 0) params.iv = p.iv;
      if (p.ivBits !== 0n && p.iv && p.ivBits !== BigInt(p.iv.length * 8)) invalid('GCM ivBits disagrees with the IV');
      if (p.aad && p.aad.length > 0) params.aad = p.aad;
      params.tagLength = Number(p.tagBits / 8n);
      break;
    case 'ecdh':
      if (p.kdf !== CKD_NULL) invalid('only CKD_NULL');
      if (p.sharedData && p.sharedData.length > 0) invalid('no shared data with CKD_NULL');
      if (!p.publicData) invalid('public data required');
      params.publicData = p.publicData as Uint8Array;
      break;
    case 'ulong':
      if (p.v === 0n || p.v > 64n) invalid('output length');
      params.length = Number(p.v);
      break;
    case 'dh':
    case 'ibm-handle':
    case 'ibm-btc-derive':
    case 'ibm-kyber':
    case 'raw':
      // A raw parameter is the client's C memory (pointers included), which means nothing here.
      invalid('unexpected parameter');
  }
  // PKCS#11 ECDSA signatures are r‖s (v3.0 §2.3.1), not DER.
  if (info.family === 'ecdsa') params.signatureFormat = 'raw';
  return { name: info.name, params };
}

/** The digest mechanism for C_DigestInit. */
export function resolveDigest(m: WireMechanism): string {
  return resolveMechanism(m, 'digest').name;
}
