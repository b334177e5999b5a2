// RSA key pairs (CKK_RSA). Private material is PKCS#8 DER, public is SPKI DER. Generation makes
// 2048/3072/4096-bit keys with e = 65537 only; import takes 2048..8192-bit keys and refuses
// anything smaller (SP 800-131A Rev 2 §2: < 2048 bits is disallowed) or anything not plain RSA.

import { constants, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { HsmError } from '../errors.js';
import { generateDerPair, signAsync, verifyAsync } from '../mechanisms/asymmetric-ops.js';
import type { KeySpec } from '../mechanisms/types.js';
import { SecretBytes } from '../secret.js';
import type { LoadedKey } from '../types.js';
import type { KeyFacts, KeyTypeDescriptor } from './types.js';

/** FIPS 186-5 §A.1.1 sizes we generate; larger imports are allowed up to IMPORT_MAX_BITS. */
const GENERATE_BITS = [2048, 3072, 4096] as const;
const IMPORT_MIN_BITS = 2048; // SP 800-131A Rev 2 Table 2: RSA < 2048 bits disallowed
const IMPORT_MAX_BITS = 8192;
const F4 = 65537;

interface ParsedRsa {
  key: KeyObject;
  publicKey: KeyObject;
  bits: number;
  exponent: number;
}

function parse(material: { secret?: SecretBytes; publicData?: Uint8Array }): ParsedRsa {
  let key: KeyObject;
  try {
    if (material.secret) key = createPrivateKey({ key: material.secret.insecureBytes(), format: 'der', type: 'pkcs8' });
    else if (material.publicData) key = createPublicKey({ key: Buffer.from(material.publicData), format: 'der', type: 'spki' });
    else throw new HsmError('ATTRIBUTE_VALUE_INVALID', 'RSA key without material');
  } catch (e) {
    if (e instanceof HsmError) throw e;
    throw new HsmError('ATTRIBUTE_VALUE_INVALID', material.secret ? 'not a PKCS#8 RSA private key' : 'not an SPKI RSA public key');
  }
  // 'rsa-pss' keys (id-RSASSA-PSS SPKI) carry restrictions we do not model: refuse them.
  if (key.asymmetricKeyType !== 'rsa') throw new HsmError('ATTRIBUTE_VALUE_INVALID', 'not an RSA key');
  const details = key.asymmetricKeyDetails;
  const bits = details?.modulusLength ?? 0;
  const e = details?.publicExponent ?? 0n;
  if (bits < IMPORT_MIN_BITS || bits > IMPORT_MAX_BITS) throw new HsmError('KEY_SIZE_RANGE', `RSA modulus must be ${IMPORT_MIN_BITS}..${IMPORT_MAX_BITS} bits`);
  // SP 800-56B / FIPS 186-5 §5.4 want odd e > 2^16 for new keys; imports may be legacy e = 3 keys,
  // which are safe with strict padding checks, so only odd e >= 3 below 2^53 is required here.
  if (e < 3n || e % 2n === 0n || e > BigInt(Number.MAX_SAFE_INTEGER)) throw new HsmError('ATTRIBUTE_VALUE_INVALID', 'RSA public exponent unsupported');
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return { key, publicKey, bits, exponent: Number(e) };
}

/** SP 800-57 Pt 1 Rev 5 Table 2 (floor to the next listed modulus size). */
function strengthOfBits(bits: number): number {
  if (bits >= 15360) return 256;
  if (bits >= 7680) return 192;
  if (bits >= 3072) return 128;
  if (bits >= 2048) return 112;
  return 80;
}

function normalizeSpec(spec: KeySpec): KeySpec {
  if (spec.modulusBits === undefined) throw new HsmError('TEMPLATE_INCOMPLETE', 'modulusBits is required for RSA');
  if (!(GENERATE_BITS as readonly number[]).includes(spec.modulusBits)) throw new HsmError('KEY_SIZE_RANGE', 'RSA keys are generated with 2048, 3072 or 4096 bits');
  const publicExponent = spec.publicExponent ?? F4;
  // FIPS 186-5 §A.1.1 allows other odd e > 2^16; we generate with F4 only, as every client expects.
  if (publicExponent !== F4) throw new HsmError('ATTRIBUTE_VALUE_INVALID', 'RSA keys are generated with public exponent 65537');
  return { keyType: 'rsa', modulusBits: spec.modulusBits, publicExponent };
}

/** An inconsistent pair is the caller's bad material on import; on generation the guard turns any throw into the error state. */
function pairwiseFailure(what: string): HsmError {
  return new HsmError('ATTRIBUTE_VALUE_INVALID', what);
}

const PAIRWISE_MESSAGE = Buffer.from('coffer pairwise consistency test (FIPS 140-3 IG 10.3.A)');

export const RSA_KEY_TYPE: KeyTypeDescriptor = {
  keyType: 'rsa',
  kind: 'pair',
  ckk: 0x0, // CKK_RSA
  normalizeSpec,
  async generatePair(spec: KeySpec) {
    const { modulusBits, publicExponent } = normalizeSpec(spec);
    const pair = await generateDerPair('rsa', { modulusLength: modulusBits ?? 0, publicExponent: publicExponent ?? F4 });
    return { secret: SecretBytes.adopt(pair.privateKey), publicData: new Uint8Array(pair.publicKey) };
  },
  load(uid: string, version: number, material: { secret?: SecretBytes; publicData?: Uint8Array }): LoadedKey {
    const p = parse(material);
    const publicData = new Uint8Array(p.publicKey.export({ format: 'der', type: 'spki' }));
    const loaded: LoadedKey = { uid, version, keyType: 'rsa', class: material.secret ? 'private-key' : 'public-key', keyObject: p.key, publicData, bits: p.bits };
    if (material.secret) loaded.publicKeyObject = p.publicKey;
    return loaded;
  },
  facts(material: { secret?: SecretBytes; publicData?: Uint8Array }): KeyFacts {
    const p = parse(material);
    return { modulusBits: p.bits, publicExponent: p.exponent };
  },
  publicFromPrivate(secret: SecretBytes): Uint8Array {
    return new Uint8Array(parse({ secret }).publicKey.export({ format: 'der', type: 'spki' }));
  },
  strength(facts: KeyFacts): number {
    return strengthOfBits(facts.modulusBits ?? 0);
  },
  async pairwiseTest(privateKey: LoadedKey, publicKey: LoadedKey): Promise<void> {
    const priv = privateKey.keyObject;
    const pub = publicKey.keyObject ?? publicKey.publicKeyObject;
    if (priv?.type !== 'private' || !pub) throw pairwiseFailure('pairwise test failed: rsa key objects missing');
    // RSASSA-PSS sign/verify exercises the private exponent against the stored public key (IG 10.3.A).
    const opts = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
    const sig = await signAsync('sha256', PAIRWISE_MESSAGE, { key: priv, ...opts }).catch(() => {
      throw pairwiseFailure('pairwise test failed: rsa signing');
    });
    if (!(await verifyAsync('sha256', PAIRWISE_MESSAGE, { key: pub, ...opts }, sig))) throw pairwiseFailure('pairwise test failed: rsa');
  },
};

export const KEY_TYPES: KeyTypeDescriptor[] = [RSA_KEY_TYPE];
