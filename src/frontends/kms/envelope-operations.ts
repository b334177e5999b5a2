// KMS operations whose intermediate secrets stay in the boundary: ReEncrypt (decrypt and encrypt
// in one boundary call, the plaintext never returned), GenerateDataKeyPair(WithoutPlaintext) (the
// pair generated inside, the private key leaving wrapped and, once, in the clear) and DeriveSharedSecret.

import type { Curve, MechanismParams } from '../../boundary/api.js';
import { blobAad, decodeBlob, encodeBlob } from './ciphertext-blob.js';
import { KmsError } from './errors.js';
import { keyArn } from './key-ids.js';
import { b64in, b64out, context, findKey, type Handler, type Json, type KmsContext, type KmsKey, needUsage, peerOf, usable } from './operations.js';

/** GenerateDataKeyPair's KeyPairSpec values Coffer makes; SM2 is refused (no SM2 in Coffer). */
const PAIR_SPECS: Record<string, { keyType: 'rsa'; modulusBits: 2048 | 3072 | 4096 } | { keyType: 'ec'; curve: Curve }> = {
  RSA_2048: { keyType: 'rsa', modulusBits: 2048 },
  RSA_3072: { keyType: 'rsa', modulusBits: 3072 },
  RSA_4096: { keyType: 'rsa', modulusBits: 4096 },
  ECC_NIST_P256: { keyType: 'ec', curve: 'P-256' },
  ECC_NIST_P384: { keyType: 'ec', curve: 'P-384' },
  ECC_NIST_P521: { keyType: 'ec', curve: 'P-521' },
  ECC_SECG_P256K1: { keyType: 'ec', curve: 'secp256k1' },
};

function oaep(algorithm: unknown): { hash: string; mgfHash: string } {
  if (algorithm === 'RSAES_OAEP_SHA_256') return { hash: 'SHA-256', mgfHash: 'SHA-256' };
  if (algorithm === 'RSAES_OAEP_SHA_1') return { hash: 'SHA-1', mgfHash: 'SHA-1' };
  throw new KmsError('ValidationException', 'the EncryptionAlgorithm for an RSA key is RSAES_OAEP_SHA_1 or RSAES_OAEP_SHA_256');
}

const symmetric = (a: unknown): boolean => a === undefined || a === 'SYMMETRIC_DEFAULT';

/** The ReEncrypt source: which key, and the boundary decrypt input for the blob. */
async function source(ctx: KmsContext, req: Json, raw: Uint8Array): Promise<{ k: KmsKey; input: { key: string; mechanism: string; data: Uint8Array; params: MechanismParams; keyVersion?: number } }> {
  if (!symmetric(req.SourceEncryptionAlgorithm)) {
    if (req.SourceKeyId === undefined) throw new KmsError('ValidationException', 'SourceKeyId is required for an asymmetric source');
    const k = await findKey(ctx, req.SourceKeyId);
    return { k, input: { key: k.info.uid, mechanism: 'RSA-PKCS-OAEP', data: raw, params: oaep(req.SourceEncryptionAlgorithm) } };
  }
  const blob = decodeBlob(raw);
  // attacks.md D-05: a SourceKeyId given must be the key the blob names.
  if (req.SourceKeyId !== undefined) {
    const named = await findKey(ctx, req.SourceKeyId);
    if (named.info.uid !== blob.uid) throw new KmsError('IncorrectKeyException', 'The source key ID in the request does not identify the key that encrypted the ciphertext.');
  }
  let k: KmsKey;
  try {
    k = await findKey(ctx, blob.uid);
  } catch {
    throw new KmsError('InvalidCiphertextException', 'the ciphertext does not decrypt under any key of this account');
  }
  return { k, input: { key: k.info.uid, mechanism: 'AES-GCM', data: blob.ciphertext, params: { iv: blob.iv, aad: blobAad(k.info.uid, context(req.SourceEncryptionContext)) }, keyVersion: blob.keyVersion } };
}

async function generateDataKeyPair(ctx: KmsContext, req: Json, withPlaintext: boolean): Promise<Json> {
  const k = await findKey(ctx, req.KeyId);
  usable(k, ctx);
  needUsage(k, 'ENCRYPT_DECRYPT');
  if (k.keySpec !== 'SYMMETRIC_DEFAULT') throw new KmsError('InvalidKeyUsageException', 'data key pairs are encrypted under a SYMMETRIC_DEFAULT key');
  const spec = typeof req.KeyPairSpec === 'string' ? PAIR_SPECS[req.KeyPairSpec] : undefined;
  if (!spec || !Object.hasOwn(PAIR_SPECS, String(req.KeyPairSpec))) {
    if (req.KeyPairSpec === 'SM2') throw new KmsError('UnsupportedOperationException', 'SM2 is not supported by Coffer');
    throw new KmsError('ValidationException', `KeyPairSpec is one of ${Object.keys(PAIR_SPECS).join(', ')}`);
  }
  const ec = context(req.EncryptionContext);
  const r = await ctx.hsm.insecureGenerateDataKeyPair(ctx.caller.session, { key: k.info.uid, mechanism: 'AES-GCM', params: { aad: blobAad(k.info.uid, ec) }, pair: spec, withPlaintext });
  try {
    const out: Json = {
      KeyId: keyArn(ctx.caller.region, ctx.caller.partition, k.info.uid),
      KeyPairSpec: req.KeyPairSpec,
      PrivateKeyCiphertextBlob: b64out(encodeBlob({ uid: k.info.uid, keyVersion: r.keyVersion, iv: r.params!.iv!, ciphertext: r.privateCiphertext })),
      PublicKey: b64out(r.publicKey),
    };
    // The one clear copy GenerateDataKeyPair defines (PKCS#8 DER), like GenerateDataKey's Plaintext.
    if (withPlaintext && r.privatePlaintext) out.PrivateKeyPlaintext = b64out(r.privatePlaintext.insecureBytes());
    return out;
  } finally {
    r.privatePlaintext?.destroy();
  }
}

export const ENVELOPE_OPERATIONS: Record<string, Handler> = {
  async ReEncrypt(ctx, req) {
    const raw = b64in(req.CiphertextBlob, 'CiphertextBlob', 6144);
    const src = await source(ctx, req, raw);
    usable(src.k, ctx);
    needUsage(src.k, 'ENCRYPT_DECRYPT');
    const dst = await findKey(ctx, req.DestinationKeyId);
    usable(dst, ctx);
    needUsage(dst, 'ENCRYPT_DECRYPT');
    const region = ctx.caller.region;
    const partition = ctx.caller.partition;
    const base: Json = { SourceKeyId: keyArn(region, partition, src.k.info.uid), KeyId: keyArn(region, partition, dst.info.uid), SourceEncryptionAlgorithm: req.SourceEncryptionAlgorithm ?? 'SYMMETRIC_DEFAULT' };
    if (dst.keySpec === 'SYMMETRIC_DEFAULT') {
      if (!symmetric(req.DestinationEncryptionAlgorithm)) throw new KmsError('ValidationException', 'DestinationEncryptionAlgorithm for a symmetric key is SYMMETRIC_DEFAULT');
      const res = await ctx.hsm.reEncrypt(ctx.caller.session, { source: src.input, destination: { key: dst.info.uid, mechanism: 'AES-GCM', params: { aad: blobAad(dst.info.uid, context(req.DestinationEncryptionContext)) } } });
      return { ...base, CiphertextBlob: b64out(encodeBlob({ uid: dst.info.uid, keyVersion: res.keyVersion, iv: res.params!.iv!, ciphertext: res.data })), DestinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
    }
    if (req.DestinationEncryptionContext !== undefined) throw new KmsError('ValidationException', 'an asymmetric destination key takes no encryption context');
    const res = await ctx.hsm.reEncrypt(ctx.caller.session, { source: src.input, destination: { key: peerOf(dst), mechanism: 'RSA-PKCS-OAEP', params: oaep(req.DestinationEncryptionAlgorithm) } });
    return { ...base, CiphertextBlob: b64out(res.data), DestinationEncryptionAlgorithm: req.DestinationEncryptionAlgorithm };
  },
  GenerateDataKeyPair: (ctx, req) => generateDataKeyPair(ctx, req, true),
  GenerateDataKeyPairWithoutPlaintext: (ctx, req) => generateDataKeyPair(ctx, req, false),
  async DeriveSharedSecret(ctx, req) {
    const k = await findKey(ctx, req.KeyId);
    usable(k, ctx);
    needUsage(k, 'KEY_AGREEMENT');
    if (req.KeyAgreementAlgorithm !== 'ECDH') throw new KmsError('ValidationException', 'KeyAgreementAlgorithm is ECDH');
    if (req.Recipient !== undefined) throw new KmsError('UnsupportedOperationException', 'Recipient (Nitro Enclaves attestation) is not supported by Coffer');
    const peer = b64in(req.PublicKey, 'PublicKey', 8192);
    const z = await ctx.hsm.insecureDeriveSharedSecret(ctx.caller.session, { key: k.info.uid, peerPublicKey: peer });
    try {
      return { KeyId: keyArn(ctx.caller.region, ctx.caller.partition, k.info.uid), SharedSecret: b64out(z.insecureBytes()), KeyAgreementAlgorithm: 'ECDH', KeyOrigin: 'AWS_KMS' };
    } finally {
      z.destroy();
    }
  },
};
