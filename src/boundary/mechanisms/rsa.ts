// RSA mechanisms: PKCS#1 v1.5 and PSS signatures (hashing and prehashed forms) and OAEP
// encryption/key transport. PKCS#1 v1.5 *encryption* and raw RSA (CKM_RSA_X_509) are not offered
// at all: see SECURITY note below. Decrypt/unwrap failures are uniform; verify never throws on a bad signature.
//
// SECURITY: RSA-PKCS lists sign/verify only. PKCS#1 v1.5 decryption is a Bleichenbacher/Marvin
// padding oracle (attacks.md B-01, B-03): Node 20 disables RSA_PKCS1_PADDING private decryption
// (CVE-2023-46809) and OpenSSL 3.0 lacks implicit rejection, so there is no safe way to offer it.
// CKM_RSA_X_509 would turn any decrypt key into a signing oracle (attacks.md A-19).

import { constants, createHash, createPrivateKey, createPublicKey, type KeyObject, privateDecrypt, privateEncrypt, publicDecrypt, publicEncrypt, timingSafeEqual } from 'node:crypto';
import { HsmError } from '../errors.js';
import { SecretBytes } from '../secret.js';
import type { LoadedKey } from '../types.js';
import { signAsync, verifyAsync } from './asymmetric-ops.js';
import {
  RSA_2048_PKCS8,
  RSA_OAEP_SHA256_CT,
  RSA_OAEP_SHA256_MSG,
  RSA_PKCS1_SHA256_MSG,
  RSA_PKCS1_SHA256_SIG,
  RSA_PSS_SHA256_MSG,
  RSA_PSS_SHA256_SIG,
} from './asymmetric-kat-vectors.js';
import { emsaPssEncode, emsaPssVerify, maxSaltLength } from './emsa-pss.js';
import { type HashInfo, hashByName } from './hash-names.js';
import type { MechanismDescriptor, MechanismParams } from './types.js';

function privateKeyOf(key: LoadedKey): KeyObject {
  if (key.keyType !== 'rsa' || key.keyObject?.type !== 'private') throw new HsmError('KEY_TYPE_INCONSISTENT', 'an RSA private key is required');
  return key.keyObject;
}

function publicKeyOf(key: LoadedKey): KeyObject {
  const k = key.keyObject?.type === 'public' ? key.keyObject : key.publicKeyObject;
  if (key.keyType !== 'rsa' || !k) throw new HsmError('KEY_TYPE_INCONSISTENT', 'an RSA key is required');
  return k;
}

function modulusBits(k: KeyObject): number {
  return k.asymmetricKeyDetails?.modulusLength ?? 0;
}

/** A hash named in params must agree with the one the mechanism fixes (PKCS#11 CK_RSA_PKCS_PSS_PARAMS.hashAlg). */
function fixedHash(fixed: HashInfo, params: MechanismParams, field: 'hash' | 'mgfHash'): void {
  const named = params[field];
  if (named !== undefined && hashByName(named) !== fixed) throw new HsmError('MECHANISM_PARAM_INVALID', `${field} must be ${fixed.name} for this mechanism`);
}

function saltLengthOf(params: MechanismParams, hash: HashInfo, bits: number): number {
  const s = params.saltLength ?? hash.length; // PKCS#11 callers always give sLen; others get hLen (RFC 8017 §9.1 note 4)
  if (!Number.isInteger(s) || s < 0 || s > maxSaltLength(bits, hash)) throw new HsmError('MECHANISM_PARAM_INVALID', 'saltLength out of range');
  return s;
}

// ---- PKCS#1 v1.5 signatures (RFC 8017 §8.2) ----

/** EMSA-PKCS1-v1_5 block for an already-encoded T (RFC 8017 §9.2 steps 4-5), k bytes long. */
function emsaPkcs1Block(t: Uint8Array, k: number): Buffer | undefined {
  if (t.length > k - 11) return undefined; // §9.2 step 3: emLen < tLen + 11
  const em = Buffer.alloc(k, 0xff);
  em[0] = 0x00;
  em[1] = 0x01;
  em[k - t.length - 1] = 0x00;
  em.set(t, k - t.length);
  return em;
}

/** s^e mod n as a k-byte block, or undefined when s is not a valid representative (§8.2.2 step 2). */
function rsaPublicRaw(pub: KeyObject, signature: Uint8Array): Buffer | undefined {
  const k = Math.ceil(modulusBits(pub) / 8);
  if (signature.length !== k) return undefined; // §8.2.2 step 1
  try {
    return publicDecrypt({ key: pub, padding: constants.RSA_NO_PADDING }, signature);
  } catch {
    return undefined; // s >= n
  }
}

const rsaPkcsRaw: MechanismDescriptor = {
  name: 'RSA-PKCS',
  ckm: 0x1, // CKM_RSA_PKCS: signature over a caller-built DigestInfo; no encryption (see SECURITY above)
  family: 'rsa',
  operations: ['sign', 'verify'],
  keyTypes: ['rsa'],
  approved: true,
  impl: {
    async sign(key, data) {
      const priv = privateKeyOf(key);
      if (data.length > Math.ceil(modulusBits(priv) / 8) - 11) throw new HsmError('DATA_LEN_RANGE', 'input longer than k - 11 bytes');
      // RFC 8017 §8.2.1 with T = data: OpenSSL pads with block type 1 and applies the blinded private key.
      // Synchronous: node 20 has no async raw private operation (one RSA op, ~1-6 ms).
      return new Uint8Array(privateEncrypt({ key: priv, padding: constants.RSA_PKCS1_PADDING }, data));
    },
    async verify(key, data, signature) {
      const pub = publicKeyOf(key);
      const m = rsaPublicRaw(pub, signature);
      const em = emsaPkcs1Block(data, Math.ceil(modulusBits(pub) / 8));
      // §8.2.2 step 4: compare encodings, not a parse of the decrypted block (no parser to fool).
      return m !== undefined && em !== undefined && m.length === em.length && timingSafeEqual(m, em);
    },
  },
  async selfTest() {
    const key = fixedKey();
    const mHash = createHash('sha256').update(Buffer.from(RSA_PKCS1_SHA256_MSG, 'hex')).digest();
    const t = Buffer.concat([SHA256_DIGEST_INFO_PREFIX, mHash]);
    const sig = await rsaPkcsRaw.impl.sign!(key, t, {});
    if (Buffer.compare(Buffer.from(sig), Buffer.from(RSA_PKCS1_SHA256_SIG, 'hex')) !== 0) throw new Error('self-test failed: RSA-PKCS');
    if (!(await rsaPkcsRaw.impl.verify!(key, t, sig, {}))) throw new Error('self-test failed: RSA-PKCS');
  },
};

/** RFC 8017 §9.2 note 1: DER of DigestInfo for SHA-256, before the 32-byte hash. */
const SHA256_DIGEST_INFO_PREFIX = Buffer.from('3031300d060960864801650304020105000420', 'hex');

function pkcs1Hashing(name: string, ckm: number, hashName: string, alias: string | undefined, verifyOnly: boolean): MechanismDescriptor {
  const hash = hashByName(hashName);
  const d: MechanismDescriptor = {
    name,
    ckm,
    family: 'rsa',
    operations: verifyOnly ? ['verify'] : ['sign', 'verify'],
    keyTypes: ['rsa'],
    // SP 800-131A Rev 2 §9: SHA-1 signatures only for legacy verification, never approved for new ones.
    approved: hash.approved,
    impl: {
      async verify(key, data, signature, params) {
        fixedHash(hash, params, 'hash');
        return verifyAsync(hash.node, data, { key: publicKeyOf(key), padding: constants.RSA_PKCS1_PADDING }, signature);
      },
    },
    async selfTest() {
      const key = fixedKey();
      const msg = Buffer.from(RSA_PKCS1_SHA256_MSG, 'hex');
      if (hash.name === 'SHA-256') {
        // Deterministic scheme: the published signature must come out exactly.
        const sig = await d.impl.sign!(key, msg, {});
        if (Buffer.compare(Buffer.from(sig), Buffer.from(RSA_PKCS1_SHA256_SIG, 'hex')) !== 0) throw new Error(`self-test failed: ${name}`);
      }
      // Other hashes: the signature must equal RSA-PKCS over the DigestInfo (an independent encoding path).
      const digestInfo = Buffer.concat([DIGEST_INFO_PREFIX[hash.name]!, createHash(hash.node).update(msg).digest()]);
      const reference = await rsaPkcsRaw.impl.sign!(key, digestInfo, {});
      if (!verifyOnly) {
        const sig = await d.impl.sign!(key, msg, {});
        if (Buffer.compare(Buffer.from(sig), Buffer.from(reference)) !== 0) throw new Error(`self-test failed: ${name}`);
      }
      if (!(await d.impl.verify!(key, msg, reference, {}))) throw new Error(`self-test failed: ${name}`);
      const bad = Buffer.from(reference);
      bad[10]! ^= 1;
      if (await d.impl.verify!(key, msg, bad, {})) throw new Error(`self-test failed: ${name}`);
    },
  };
  if (alias) d.aliases = [alias];
  if (!verifyOnly) {
    d.impl.sign = async (key, data, params) => {
      fixedHash(hash, params, 'hash');
      return new Uint8Array(await signAsync(hash.node, data, { key: privateKeyOf(key), padding: constants.RSA_PKCS1_PADDING }));
    };
  }
  return d;
}

/** RFC 8017 §9.2 note 1: DigestInfo DER prefixes. */
const DIGEST_INFO_PREFIX: Record<string, Buffer> = {
  'SHA-1': Buffer.from('3021300906052b0e03021a05000414', 'hex'),
  'SHA-224': Buffer.from('302d300d06096086480165030402040500041c', 'hex'),
  'SHA-256': SHA256_DIGEST_INFO_PREFIX,
  'SHA-384': Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  'SHA-512': Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};

// ---- RSASSA-PSS (RFC 8017 §8.1) ----

const rsaPssPrehashed: MechanismDescriptor = {
  name: 'RSA-PKCS-PSS',
  ckm: 0xd, // CKM_RSA_PKCS_PSS: input is the digest; params.hash, mgfHash, saltLength as CK_RSA_PKCS_PSS_PARAMS
  family: 'rsa',
  operations: ['sign', 'verify'],
  keyTypes: ['rsa'],
  approved: true,
  impl: {
    async sign(key, data, params) {
      const priv = privateKeyOf(key);
      const { hash, mgfHash, saltLength, bits } = pssParams(params, modulusBits(priv));
      if (data.length !== hash.length) throw new HsmError('DATA_LEN_RANGE', `input must be a ${hash.name} digest`);
      const em = emsaPssEncode(data, bits, hash, mgfHash, saltLength);
      // RFC 8017 §8.1.1 step 2: RSASP1 on the encoded block; OpenSSL blinds and checks the CRT result.
      return new Uint8Array(privateEncrypt({ key: priv, padding: constants.RSA_NO_PADDING }, em));
    },
    async verify(key, data, signature, params) {
      const pub = publicKeyOf(key);
      const { hash, mgfHash, saltLength, bits } = pssParams(params, modulusBits(pub));
      const m = rsaPublicRaw(pub, signature);
      return m !== undefined && emsaPssVerify(data, m, bits, hash, mgfHash, saltLength);
    },
  },
  async selfTest() {
    const key = fixedKey();
    const params = { hash: 'SHA-256', mgfHash: 'SHA-256', saltLength: 32 };
    const mHash = createHash('sha256').update(Buffer.from(RSA_PSS_SHA256_MSG, 'hex')).digest();
    if (!(await rsaPssPrehashed.impl.verify!(key, mHash, Buffer.from(RSA_PSS_SHA256_SIG, 'hex'), params))) throw new Error('self-test failed: RSA-PKCS-PSS');
    const sig = await rsaPssPrehashed.impl.sign!(key, mHash, params);
    // Cross-check with OpenSSL's own PSS verifier.
    const ok = await verifyAsync('sha256', Buffer.from(RSA_PSS_SHA256_MSG, 'hex'), { key: publicKeyOf(key), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig);
    if (!ok) throw new Error('self-test failed: RSA-PKCS-PSS');
  },
};

function pssParams(params: MechanismParams, bits: number): { hash: HashInfo; mgfHash: HashInfo; saltLength: number; bits: number } {
  if (params.hash === undefined) throw new HsmError('MECHANISM_PARAM_INVALID', 'hash is required for RSA-PKCS-PSS');
  const hash = hashByName(params.hash);
  const mgfHash = params.mgfHash === undefined ? hash : hashByName(params.mgfHash);
  return { hash, mgfHash, saltLength: saltLengthOf(params, hash, bits), bits };
}

function pssHashing(name: string, ckm: number, hashName: string, alias: string): MechanismDescriptor {
  const hash = hashByName(hashName);
  const opts = (key: KeyObject, params: MechanismParams) => {
    fixedHash(hash, params, 'hash');
    // node sets MGF1 to the signature hash; PKCS#11 lets them differ, we accept only the usual pairing.
    fixedHash(hash, params, 'mgfHash');
    return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: saltLengthOf(params, hash, modulusBits(key)) };
  };
  const d: MechanismDescriptor = {
    name,
    ckm,
    aliases: [alias],
    family: 'rsa',
    operations: ['sign', 'verify'],
    keyTypes: ['rsa'],
    approved: true,
    impl: {
      async sign(key, data, params) {
        return new Uint8Array(await signAsync(hash.node, data, opts(privateKeyOf(key), params)));
      },
      async verify(key, data, signature, params) {
        return verifyAsync(hash.node, data, opts(publicKeyOf(key), params), signature);
      },
    },
    async selfTest() {
      const key = fixedKey();
      const msg = Buffer.from(RSA_PSS_SHA256_MSG, 'hex');
      if (hash.name === 'SHA-256' && !(await d.impl.verify!(key, msg, Buffer.from(RSA_PSS_SHA256_SIG, 'hex'), { saltLength: 32 }))) {
        throw new Error(`self-test failed: ${name}`);
      }
      // Randomised scheme: our signature must pass the independent prehashed EMSA-PSS verifier.
      const sig = await d.impl.sign!(key, msg, {});
      const mHash = createHash(hash.node).update(msg).digest();
      if (!(await rsaPssPrehashed.impl.verify!(key, mHash, sig, { hash: hash.name, saltLength: hash.length }))) throw new Error(`self-test failed: ${name}`);
    },
  };
  return d;
}

// ---- RSAES-OAEP (RFC 8017 §7.1) ----

function oaepOptions(key: KeyObject, params: MechanismParams): { key: KeyObject; padding: number; oaepHash: string; oaepLabel?: Buffer; maxInput: number } {
  const hash = hashByName(params.hash ?? 'SHA-256');
  if (hash.name.startsWith('SHA3')) throw new HsmError('MECHANISM_PARAM_INVALID', 'OAEP takes SHA-1 or SHA-2 hashes');
  // node's oaepHash also drives MGF1 (OpenSSL default), so a different mgfHash cannot be honoured.
  if (params.mgfHash !== undefined && hashByName(params.mgfHash) !== hash) throw new HsmError('MECHANISM_PARAM_INVALID', 'mgfHash must equal hash');
  if (params.label !== undefined && !(params.label instanceof Uint8Array)) throw new HsmError('MECHANISM_PARAM_INVALID', 'label must be bytes');
  const k = Math.ceil(modulusBits(key) / 8);
  const o: { key: KeyObject; padding: number; oaepHash: string; oaepLabel?: Buffer; maxInput: number } = {
    key,
    padding: constants.RSA_PKCS1_OAEP_PADDING,
    oaepHash: hash.node,
    maxInput: k - 2 * hash.length - 2, // RFC 8017 §7.1.1 step 1b
  };
  if (params.label && params.label.length > 0) o.oaepLabel = Buffer.from(params.label);
  return o;
}

function oaepEncrypt(key: LoadedKey, data: Uint8Array, params: MechanismParams): Uint8Array {
  const { maxInput, ...opts } = oaepOptions(publicKeyOf(key), params);
  if (data.length > maxInput) throw new HsmError('DATA_LEN_RANGE', `OAEP input must be at most ${maxInput} bytes for this key`);
  // Public-key operation: cheap, so the synchronous call is acceptable on the event loop.
  return new Uint8Array(publicEncrypt(opts, data));
}

/** RFC 8017 §7.1.2 note: one failure whatever the cause (Manger, attacks.md B-02). */
function oaepDecrypt(key: LoadedKey, data: Uint8Array, params: MechanismParams): Buffer | undefined {
  const { maxInput: _, ...opts } = oaepOptions(privateKeyOf(key), params);
  if (data.length !== Math.ceil(modulusBits(opts.key) / 8)) return undefined;
  try {
    // Synchronous: node 20 offers no async RSA decryption for KeyObjects (one private op).
    return privateDecrypt(opts, data);
  } catch {
    return undefined;
  }
}

const rsaOaep: MechanismDescriptor = {
  name: 'RSA-PKCS-OAEP',
  ckm: 0x9, // CKM_RSA_PKCS_OAEP; params.hash (default SHA-256) = MGF1 hash, params.label
  aliases: ['RSAES_OAEP_SHA_256'],
  family: 'rsa',
  operations: ['encrypt', 'decrypt', 'wrap', 'unwrap'],
  keyTypes: ['rsa'],
  approved: true,
  impl: {
    async encrypt(key, data, params) {
      return { output: oaepEncrypt(key, data, params) };
    },
    async decrypt(key, data, params) {
      const out = oaepDecrypt(key, data, params);
      if (!out) throw new HsmError('DECRYPT_FAILED');
      return new Uint8Array(out);
    },
    async wrap(key, material, params) {
      return { output: oaepEncrypt(key, material.insecureBytes(), params) };
    },
    async unwrap(key, wrapped, params) {
      const out = oaepDecrypt(key, wrapped, params);
      if (!out) throw new HsmError('UNWRAP_FAILED');
      return SecretBytes.adopt(out);
    },
  },
  async selfTest() {
    const key = fixedKey();
    const pt = await rsaOaep.impl.decrypt!(key, Buffer.from(RSA_OAEP_SHA256_CT, 'hex'), { hash: 'SHA-256' });
    if (Buffer.compare(Buffer.from(pt as Uint8Array), Buffer.from(RSA_OAEP_SHA256_MSG, 'hex')) !== 0) throw new Error('self-test failed: RSA-PKCS-OAEP');
    const { output } = await rsaOaep.impl.encrypt!(key, Buffer.from(RSA_OAEP_SHA256_MSG, 'hex'), {});
    const back = await rsaOaep.impl.decrypt!(key, output, {});
    if (Buffer.compare(Buffer.from(back as Uint8Array), Buffer.from(RSA_OAEP_SHA256_MSG, 'hex')) !== 0) throw new Error('self-test failed: RSA-PKCS-OAEP');
  },
};

// ---- the fixed self-test key ----

let cachedKey: LoadedKey | undefined;

/** The Wycheproof 2048-bit test key as a LoadedKey, parsed once. */
function fixedKey(): LoadedKey {
  if (!cachedKey) {
    const der = Buffer.from(RSA_2048_PKCS8, 'hex');
    const keyObject = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    cachedKey = { uid: 'self-test', version: 1, keyType: 'rsa', class: 'private-key', keyObject, publicKeyObject: createPublicKey(keyObject), bits: 2048 };
  }
  return cachedKey;
}

export const MECHANISMS: MechanismDescriptor[] = [
  rsaPkcsRaw,
  pkcs1Hashing('SHA1-RSA-PKCS', 0x6, 'SHA-1', undefined, true), // CKM_SHA1_RSA_PKCS: legacy verification only
  pkcs1Hashing('SHA224-RSA-PKCS', 0x46, 'SHA-224', undefined, false), // CKM_SHA224_RSA_PKCS
  pkcs1Hashing('SHA256-RSA-PKCS', 0x40, 'SHA-256', 'RSASSA_PKCS1_V1_5_SHA_256', false), // CKM_SHA256_RSA_PKCS
  pkcs1Hashing('SHA384-RSA-PKCS', 0x41, 'SHA-384', 'RSASSA_PKCS1_V1_5_SHA_384', false), // CKM_SHA384_RSA_PKCS
  pkcs1Hashing('SHA512-RSA-PKCS', 0x42, 'SHA-512', 'RSASSA_PKCS1_V1_5_SHA_512', false), // CKM_SHA512_RSA_PKCS
  rsaPssPrehashed,
  pssHashing('SHA256-RSA-PKCS-PSS', 0x43, 'SHA-256', 'RSASSA_PSS_SHA_256'), // CKM_SHA256_RSA_PKCS_PSS
  pssHashing('SHA384-RSA-PKCS-PSS', 0x44, 'SHA-384', 'RSASSA_PSS_SHA_384'), // CKM_SHA384_RSA_PKCS_PSS
  pssHashing('SHA512-RSA-PKCS-PSS', 0x45, 'SHA-512', 'RSASSA_PSS_SHA_512'), // CKM_SHA512_RSA_PKCS_PSS
  rsaOaep,
];
