// Post-quantum key types: ML-DSA (FIPS 204), ML-KEM (FIPS 203), SLH-DSA (FIPS 205), on
// @noble/post-quantum. The stored private serialisation is PKCS#8 with the NIST OID, so the
// material names its own parameter set: ML-DSA/ML-KEM hold only the seed ([0] CHOICE, RFC 9881
// §6), SLH-DSA its 4n-byte key. noble is synchronous; every call here runs on the event loop.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ml_dsa44, ml_dsa65, ml_dsa87 } from '@noble/post-quantum/ml-dsa.js';
import { ml_kem512, ml_kem768, ml_kem1024 } from '@noble/post-quantum/ml-kem.js';
import * as slh from '@noble/post-quantum/slh-dsa.js';
import { HsmError } from '../errors.js';
import type { KeySpec } from '../mechanisms/types.js';
import { SecretBytes } from '../secret.js';
import type { KeyType, LoadedKey } from '../types.js';
import { decodePkcs8, decodeSeedChoice, decodeSpki, encodePkcs8, encodeSeedChoice, encodeSpki } from './pq-der.js';
import type { KeyFacts, KeyTypeDescriptor, KeyTypeMaterial } from './types.js';

/** What noble offers for a signature parameter set. */
export interface PqSigner {
  lengths: { secretKey?: number; publicKey?: number; seed?: number; signature?: number };
  keygen(seed?: Uint8Array): { secretKey: Uint8Array; publicKey: Uint8Array };
  getPublicKey(secretKey: Uint8Array): Uint8Array;
  sign(msg: Uint8Array, secretKey: Uint8Array, opts?: { context?: Uint8Array; extraEntropy?: Uint8Array | false }): Uint8Array;
  verify(sig: Uint8Array, msg: Uint8Array, publicKey: Uint8Array, opts?: { context?: Uint8Array }): boolean;
}

export interface PqKem {
  lengths: { secretKey?: number; publicKey?: number; seed?: number; cipherText?: number };
  keygen(seed?: Uint8Array): { secretKey: Uint8Array; publicKey: Uint8Array };
  encapsulate(publicKey: Uint8Array, msg?: Uint8Array): { cipherText: Uint8Array; sharedSecret: Uint8Array };
  decapsulate(cipherText: Uint8Array, secretKey: Uint8Array): Uint8Array;
}

interface SetInfo<T> {
  impl: T;
  /** NIST security category (FIPS 203 §8 Table 2, FIPS 204 §4 Table 1, FIPS 205 §11 Table 2). */
  category: 1 | 2 | 3 | 5;
  /** Seed length for keygen: ML-DSA ξ 32, ML-KEM d‖z 64, SLH-DSA SK.seed‖SK.prf‖PK.seed 3n. */
  seedLen: number;
}

export const ML_DSA_SETS: Record<string, SetInfo<PqSigner>> = {
  'ML-DSA-44': { impl: ml_dsa44, category: 2, seedLen: 32 },
  'ML-DSA-65': { impl: ml_dsa65, category: 3, seedLen: 32 },
  'ML-DSA-87': { impl: ml_dsa87, category: 5, seedLen: 32 },
};

export const ML_KEM_SETS: Record<string, SetInfo<PqKem>> = {
  'ML-KEM-512': { impl: ml_kem512, category: 1, seedLen: 64 },
  'ML-KEM-768': { impl: ml_kem768, category: 3, seedLen: 64 },
  'ML-KEM-1024': { impl: ml_kem1024, category: 5, seedLen: 64 },
};

export const SLH_DSA_SETS: Record<string, SetInfo<PqSigner>> = {
  'SLH-DSA-SHA2-128s': { impl: slh.slh_dsa_sha2_128s, category: 1, seedLen: 48 },
  'SLH-DSA-SHA2-128f': { impl: slh.slh_dsa_sha2_128f, category: 1, seedLen: 48 },
  'SLH-DSA-SHA2-192s': { impl: slh.slh_dsa_sha2_192s, category: 3, seedLen: 72 },
  'SLH-DSA-SHA2-192f': { impl: slh.slh_dsa_sha2_192f, category: 3, seedLen: 72 },
  'SLH-DSA-SHA2-256s': { impl: slh.slh_dsa_sha2_256s, category: 5, seedLen: 96 },
  'SLH-DSA-SHA2-256f': { impl: slh.slh_dsa_sha2_256f, category: 5, seedLen: 96 },
  'SLH-DSA-SHAKE-128s': { impl: slh.slh_dsa_shake_128s, category: 1, seedLen: 48 },
  'SLH-DSA-SHAKE-128f': { impl: slh.slh_dsa_shake_128f, category: 1, seedLen: 48 },
  'SLH-DSA-SHAKE-192s': { impl: slh.slh_dsa_shake_192s, category: 3, seedLen: 72 },
  'SLH-DSA-SHAKE-192f': { impl: slh.slh_dsa_shake_192f, category: 3, seedLen: 72 },
  'SLH-DSA-SHAKE-256s': { impl: slh.slh_dsa_shake_256s, category: 5, seedLen: 96 },
  'SLH-DSA-SHAKE-256f': { impl: slh.slh_dsa_shake_256f, category: 5, seedLen: 96 },
};

type PqFamily = 'ml-dsa' | 'ml-kem' | 'slh-dsa';

const SETS: Record<PqFamily, Record<string, SetInfo<PqSigner | PqKem>>> = {
  'ml-dsa': ML_DSA_SETS,
  'ml-kem': ML_KEM_SETS,
  'slh-dsa': SLH_DSA_SETS,
};

const DEFAULT_SET: Record<PqFamily, string> = { 'ml-dsa': 'ML-DSA-65', 'ml-kem': 'ML-KEM-768', 'slh-dsa': 'SLH-DSA-SHA2-128s' };

/** Category → security strength in bits (SP 800-57 Pt 1 Rev 5 §5.6.1.1; categories 1/2 → 128, 3/4 → 192, 5 → 256). */
function strengthOf(category: number): number {
  return category >= 5 ? 256 : category >= 3 ? 192 : 128;
}

/** The canonical spelling of a parameter set of `family` (case-insensitive), or undefined. */
function canonicalSet(family: PqFamily, name: string | undefined): string | undefined {
  if (typeof name !== 'string') return undefined;
  const up = name.toUpperCase();
  return Object.keys(SETS[family]).find((s) => s.toUpperCase() === up);
}

function setInfo<T extends PqSigner | PqKem>(family: PqFamily, parameterSet: string | undefined): SetInfo<T> & { name: string } {
  const name = canonicalSet(family, parameterSet);
  if (!name) throw new HsmError('KEY_TYPE_INCONSISTENT', `not a ${family} parameter set`);
  return { ...(SETS[family][name] as SetInfo<T>), name };
}

/** The noble signer for a loaded ML-DSA/SLH-DSA key (mechanisms call this). */
export function signerFor(key: LoadedKey): PqSigner {
  if (key.keyType !== 'ml-dsa' && key.keyType !== 'slh-dsa') throw new HsmError('KEY_TYPE_INCONSISTENT');
  return setInfo<PqSigner>(key.keyType, key.parameterSet).impl;
}

export function kemFor(key: LoadedKey): PqKem {
  if (key.keyType !== 'ml-kem') throw new HsmError('KEY_TYPE_INCONSISTENT');
  return setInfo<PqKem>('ml-kem', key.parameterSet).impl;
}


interface ParsedPrivate {
  parameterSet: string;
  /** The expanded secret key noble signs/decapsulates with. */
  expanded: Uint8Array;
  publicKey: Uint8Array;
}

const invalid = (why: string): HsmError => new HsmError('ATTRIBUTE_VALUE_INVALID', why);

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** FIPS 203 §7.2 modulus check: every 12-bit coefficient of ek's ByteEncode12 part is < q = 3329. */
function mlKemModulusOk(ek: Uint8Array, k: number): boolean {
  for (let i = 0; i < 384 * k; i += 3) {
    const b0 = ek[i] as number;
    const b1 = ek[i + 1] as number;
    const b2 = ek[i + 2] as number;
    if ((b0 | ((b1 & 0x0f) << 8)) >= 3329 || ((b1 >> 4) | (b2 << 4)) >= 3329) return false;
  }
  return true;
}

/** FIPS 203 §7.3 hash check: dk's H(ek) field matches ek. */
function mlKemDkOk(dk: Uint8Array, k: number): boolean {
  const ek = dk.subarray(384 * k, 768 * k + 32);
  const h = dk.subarray(768 * k + 32, 768 * k + 64);
  return bytesEqual(createHash('sha3-256').update(ek).digest(), h);
}

/** Which set of `family` has a raw key of this length (unambiguous only for some). */
function setsWithLength(family: PqFamily, field: 'secretKey' | 'publicKey' | 'seed', len: number): string[] {
  return Object.entries(SETS[family])
    .filter(([, s]) => (field === 'seed' ? s.seedLen : s.impl.lengths[field]) === len)
    .map(([n]) => n);
}

function fromSeed(family: PqFamily, parameterSet: string, seed: Uint8Array): ParsedPrivate {
  const info = setInfo(family, parameterSet);
  if (seed.length !== info.seedLen) throw invalid('seed length does not fit the parameter set');
  const kp = info.impl.keygen(seed);
  return { parameterSet: info.name, expanded: kp.secretKey, publicKey: kp.publicKey };
}

function fromExpanded(family: PqFamily, parameterSet: string, sk: Uint8Array): ParsedPrivate {
  const info = setInfo(family, parameterSet);
  if (sk.length !== info.impl.lengths.secretKey) throw invalid('private key length does not fit the parameter set');
  if (family === 'ml-kem') {
    const k = (sk.length - 96) / 768;
    if (!mlKemDkOk(sk, k)) throw invalid('ML-KEM decapsulation key fails its hash check (FIPS 203 §7.3)');
    // dk = dkPKE ‖ ek ‖ H(ek) ‖ z (FIPS 203 Algorithm 16)
    return { parameterSet: info.name, expanded: Uint8Array.from(sk), publicKey: sk.slice(384 * k, 768 * k + 32) };
  }
  const publicKey = (info.impl as PqSigner).getPublicKey(sk);
  return { parameterSet: info.name, expanded: Uint8Array.from(sk), publicKey };
}

function pickSet(family: PqFamily, candidates: string[], material: KeyTypeMaterial): string {
  const hinted = canonicalSet(family, material.parameterSet);
  if (hinted) {
    if (!candidates.includes(hinted)) throw invalid('key length does not fit the parameter set');
    return hinted;
  }
  if (candidates.length === 1) return candidates[0] as string;
  // A raw seed fits several sets: the public key, if given, names the set (SPKI) or tells them apart by length.
  if (material.publicData) {
    const spki = decodeSpki(material.publicData);
    const named = spki ? canonicalSet(family, spki.parameterSet) : undefined;
    if (named && candidates.includes(named)) return named;
    const byPub = setsWithLength(family, 'publicKey', material.publicData.length).filter((s) => candidates.includes(s));
    if (byPub.length === 1) return byPub[0] as string;
  }
  throw new HsmError('TEMPLATE_INCOMPLETE', 'parameterSet is needed to read this key');
}

/** Reads any accepted private serialisation: PKCS#8 (seed, expanded or both), raw expanded key, or raw seed. */
function parsePrivate(family: PqFamily, material: KeyTypeMaterial): ParsedPrivate {
  const bytes = material.secret?.insecureBytes();
  if (!bytes) throw new TypeError('no private material');
  const p8 = decodePkcs8(bytes);
  let parsed: ParsedPrivate;
  if (p8) {
    if (!canonicalSet(family, p8.parameterSet)) throw new HsmError('KEY_TYPE_INCONSISTENT', 'key is of another algorithm');
    if (family === 'slh-dsa') {
      parsed = fromExpanded(family, p8.parameterSet, p8.inner); // RFC 9814 §6: the raw 4n-byte key
    } else {
      const { seed, expanded } = decodeSeedChoice(p8.inner);
      parsed = seed ? fromSeed(family, p8.parameterSet, seed) : fromExpanded(family, p8.parameterSet, expanded as Uint8Array);
      // RFC 9881 §6: when both are present they must agree.
      if (seed && expanded && !bytesEqual(parsed.expanded, expanded)) throw invalid('seed and expanded key disagree');
    }
  } else {
    const asExpanded = setsWithLength(family, 'secretKey', bytes.length);
    const asSeed = family === 'slh-dsa' ? [] : setsWithLength(family, 'seed', bytes.length);
    if (asExpanded.length > 0) parsed = fromExpanded(family, pickSet(family, asExpanded, material), bytes);
    else if (asSeed.length > 0) parsed = fromSeed(family, pickSet(family, asSeed, material), bytes);
    else throw invalid('private key length fits no parameter set');
  }
  const hinted = canonicalSet(family, material.parameterSet);
  if (material.parameterSet !== undefined && hinted !== parsed.parameterSet) throw invalid('key does not match parameterSet');
  if (material.publicData && !bytesEqual(material.publicData, parsed.publicKey) && !spkiMatches(material.publicData, parsed)) {
    throw invalid('public key does not match the private key');
  }
  return parsed;
}

function spkiMatches(publicData: Uint8Array, parsed: ParsedPrivate): boolean {
  const spki = decodeSpki(publicData);
  return !!spki && spki.parameterSet === parsed.parameterSet && bytesEqual(spki.raw, parsed.publicKey);
}

/** Reads a public key: raw bytes (set from the hint or the length) or SPKI. */
function parsePublic(family: PqFamily, material: KeyTypeMaterial): { parameterSet: string; publicKey: Uint8Array } {
  const bytes = material.publicData;
  if (!bytes) throw new TypeError('no public material');
  let parameterSet: string;
  let publicKey: Uint8Array;
  const spki = decodeSpki(bytes);
  if (spki && canonicalSet(family, spki.parameterSet)) {
    parameterSet = spki.parameterSet;
    publicKey = spki.raw;
    const hinted = canonicalSet(family, material.parameterSet);
    if (material.parameterSet !== undefined && hinted !== parameterSet) throw invalid('key does not match parameterSet');
  } else {
    parameterSet = pickSet(family, setsWithLength(family, 'publicKey', bytes.length), material);
    publicKey = bytes;
  }
  const info = setInfo(family, parameterSet);
  if (publicKey.length !== info.impl.lengths.publicKey) throw invalid('public key length does not fit the parameter set');
  if (family === 'ml-kem' && !mlKemModulusOk(publicKey, (publicKey.length - 32) / 384)) {
    throw invalid('ML-KEM encapsulation key fails the modulus check (FIPS 203 §7.2)');
  }
  return { parameterSet: info.name, publicKey: Uint8Array.from(publicKey) };
}

/**
 * The stored public serialisation: the raw key for ML-DSA/ML-KEM, whose lengths name the set
 * (FIPS 204 Table 2, FIPS 203 Table 3), and SPKI (RFC 9814 §4) for SLH-DSA, where one 32/48/64-byte
 * key fits four sets and only the OID can tell them apart.
 */
function publicSerialisation(family: PqFamily, parameterSet: string, raw: Uint8Array): Uint8Array {
  return family === 'slh-dsa' ? encodeSpki(parameterSet, raw) : raw;
}

/** A fixed message for pairwise tests: FIPS 140-3 IG 10.3.A asks only that it be signed and verified. */
const PCT_MESSAGE = new TextEncoder().encode('coffer pairwise consistency test');

function descriptor(keyType: PqFamily, ckk: number): KeyTypeDescriptor {
  return {
    keyType: keyType as KeyType,
    kind: 'pair',
    ckk,
    normalizeSpec(spec: KeySpec): KeySpec {
      if (spec.parameterSet === undefined) return { ...spec, parameterSet: DEFAULT_SET[keyType] };
      const name = canonicalSet(keyType, spec.parameterSet);
      if (!name) throw new HsmError('ATTRIBUTE_VALUE_INVALID', `unknown ${keyType} parameter set`);
      return { ...spec, parameterSet: name };
    },
    async generatePair(spec: KeySpec) {
      const info = setInfo(keyType, spec.parameterSet ?? DEFAULT_SET[keyType]);
      const seed = randomBytes(info.seedLen);
      try {
        const kp = info.impl.keygen(seed);
        // ML-DSA/ML-KEM keep only the seed (the expanded key is re-derived on load); SLH-DSA's key is already small.
        const inner = keyType === 'slh-dsa' ? kp.secretKey : encodeSeedChoice(seed);
        const secret = SecretBytes.adopt(Buffer.from(encodePkcs8(info.name, inner)));
        inner.fill(0);
        kp.secretKey.fill(0);
        return { secret, publicData: publicSerialisation(keyType, info.name, kp.publicKey) };
      } finally {
        seed.fill(0);
      }
    },
    load(uid: string, version: number, material: KeyTypeMaterial): LoadedKey {
      if (material.secret) {
        const p = parsePrivate(keyType, material);
        const info = setInfo(keyType, p.parameterSet);
        const secret = SecretBytes.from(p.expanded);
        p.expanded.fill(0);
        return { uid, version, keyType, class: 'private-key', secret, publicData: p.publicKey, parameterSet: p.parameterSet, bits: strengthOf(info.category) };
      }
      const p = parsePublic(keyType, material);
      const info = setInfo(keyType, p.parameterSet);
      return { uid, version, keyType, class: 'public-key', publicData: p.publicKey, parameterSet: p.parameterSet, bits: strengthOf(info.category) };
    },
    facts(material: KeyTypeMaterial): KeyFacts {
      if (material.secret) {
        const p = parsePrivate(keyType, material);
        p.expanded.fill(0);
        return { parameterSet: p.parameterSet };
      }
      return { parameterSet: parsePublic(keyType, material).parameterSet };
    },
    publicFromPrivate(secret: SecretBytes, parameterSet?: string): Uint8Array {
      const p = parsePrivate(keyType, parameterSet === undefined ? { secret } : { secret, parameterSet });
      p.expanded.fill(0);
      return publicSerialisation(keyType, p.parameterSet, p.publicKey);
    },
    strength(facts: KeyFacts): number {
      return strengthOf(setInfo(keyType, facts.parameterSet).category);
    },
    async pairwiseTest(privateKey: LoadedKey, publicKey: LoadedKey): Promise<void> {
      const sk = privateKey.secret?.insecureBytes();
      const pk = publicKey.publicData;
      if (!sk || !pk || privateKey.parameterSet !== publicKey.parameterSet) throw new Error(`pairwise test failed: ${keyType}`);
      const info = setInfo(keyType, privateKey.parameterSet);
      if (keyType === 'ml-kem') {
        const kem = info.impl as PqKem;
        const { cipherText, sharedSecret } = kem.encapsulate(pk);
        const ok = bytesEqual(kem.decapsulate(cipherText, sk), sharedSecret);
        sharedSecret.fill(0);
        if (!ok) throw new Error('pairwise test failed: ml-kem');
        return;
      }
      const signer = info.impl as PqSigner;
      if (keyType === 'slh-dsa' && info.name.endsWith('s')) {
        // The 's' sets sign in seconds in noble; recomputing PK.root from the seeds
        // (FIPS 205 Algorithm 18) proves the same consistency at the cost of one keygen.
        const seedLen = info.seedLen;
        const again = signer.keygen(sk.subarray(0, seedLen));
        const ok = bytesEqual(again.publicKey, pk);
        again.secretKey.fill(0);
        if (!ok) throw new Error('pairwise test failed: slh-dsa');
        return;
      }
      const sig = signer.sign(PCT_MESSAGE, sk, { extraEntropy: false });
      if (!signer.verify(sig, PCT_MESSAGE, pk)) throw new Error(`pairwise test failed: ${keyType}`);
    },
  };
}

export const KEY_TYPES: KeyTypeDescriptor[] = [
  descriptor('ml-dsa', 0x4a), // CKK_ML_DSA (PKCS#11 v3.2 pkcs11t.h)
  descriptor('ml-kem', 0x49), // CKK_ML_KEM
  descriptor('slh-dsa', 0x4b), // CKK_SLH_DSA
];
