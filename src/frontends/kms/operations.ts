// The KMS operations (TrentService.<Operation>), each a handler from the JSON request to the JSON
// response, all through the boundary API as the access key's owner. A KMS key is one Coffer key:
// a secret key, or the private half of a pair (its public peer verifies and encrypts).

import { type Hsm, HsmError, type ObjectInfo } from '../../boundary/api.js';
import { blobAad, decodeBlob, encodeBlob } from './ciphertext-blob.js';
import { KmsError } from './errors.js';
import { mlDsaSpki } from './ml-dsa-spki.js';
import { aliasArn, aliasName, keyArn, keyRef } from './key-ids.js';
import { describeSpec, encryptionAlgorithms, type KeyUsage, keyRequest, macAlgorithms, macMechanism, signingAlgorithms, signingMechanism } from './key-specs.js';
import type { Caller } from './sigv4.js';

export interface KmsContext {
  hsm: Hsm;
  caller: Caller;
}

export type Json = Record<string, unknown>;
export type Handler = (ctx: KmsContext, req: Json) => Promise<Json>;

export interface KmsKey {
  info: ObjectInfo;
  keySpec: string;
  keyUsage: KeyUsage;
}

const ACCESS_KEY_LABEL = 'coffer:kms-access-key:';

export async function findKey(ctx: KmsContext, keyId: unknown): Promise<KmsKey> {
  const ref = keyRef(keyId, ctx.caller.partition);
  const info = await ctx.hsm.getAttributes(ctx.caller.session, ref);
  const spec = describeSpec(info);
  if (!spec || info.label.startsWith(ACCESS_KEY_LABEL)) throw new KmsError('NotFoundException', `Key '${String(keyId).slice(0, 300)}' does not exist`);
  return { info, ...spec };
}

/** AWS refuses cryptographic use of a disabled key (DisabledException) or one pending deletion (KMSInvalidStateException). */
export function usable(k: KmsKey, ctx: KmsContext): void {
  const arn = keyArn(ctx.caller.region, ctx.caller.partition, k.info.uid);
  if (k.info.state === 'disabled') throw new KmsError('DisabledException', `${arn} is disabled.`);
  if (k.info.state !== 'enabled') throw new KmsError('KMSInvalidStateException', `${arn} is pending deletion.`);
}

export function needUsage(k: KmsKey, usage: KeyUsage): void {
  if (k.keyUsage !== usage) throw new KmsError('InvalidKeyUsageException', `the key's KeyUsage is ${k.keyUsage}`);
}

/** The public peer of a pair's private half (verify, encrypt, GetPublicKey). */
export function peerOf(k: KmsKey): string {
  if (k.info.class === 'secret-key') return k.info.uid;
  if (!k.info.peer) throw new KmsError('KMSInvalidStateException', 'the key pair has no public half');
  return k.info.peer;
}

export function b64in(v: unknown, what: string, max = 4096): Uint8Array {
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) throw new KmsError('ValidationException', `${what} must be base64`);
  const b = Buffer.from(v, 'base64');
  if (b.length < 1 || b.length > max) throw new KmsError('ValidationException', `${what} must be 1 to ${max} bytes`);
  return new Uint8Array(b);
}

export function b64out(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

export function context(v: unknown): Record<string, string> | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.values(v).every((x) => typeof x === 'string')) {
    throw new KmsError('ValidationException', 'EncryptionContext is a map of strings');
  }
  return v as Record<string, string>;
}

function str(v: unknown, what: string, max = 256): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max) throw new KmsError('ValidationException', `${what} is required`);
  return v;
}

function metadata(ctx: KmsContext, k: KmsKey): Json {
  const i = k.info;
  const m: Json = {
    AWSAccountId: ctx.caller.partition,
    KeyId: i.uid,
    Arn: keyArn(ctx.caller.region, ctx.caller.partition, i.uid),
    CreationDate: Date.parse(i.createdAt) / 1000,
    Enabled: i.state === 'enabled',
    Description: i.label,
    KeyUsage: k.keyUsage,
    KeyState: i.state === 'enabled' ? 'Enabled' : i.state === 'disabled' ? 'Disabled' : 'PendingDeletion',
    Origin: 'AWS_KMS',
    KeyManager: 'CUSTOMER',
    CustomerMasterKeySpec: k.keySpec,
    KeySpec: k.keySpec,
    MultiRegion: false,
  };
  if (i.deletionDate) m.DeletionDate = Date.parse(i.deletionDate) / 1000;
  if (k.keyUsage === 'ENCRYPT_DECRYPT') m.EncryptionAlgorithms = encryptionAlgorithms(k.keySpec);
  if (k.keyUsage === 'SIGN_VERIFY') m.SigningAlgorithms = signingAlgorithms(k.keySpec);
  if (k.keyUsage === 'GENERATE_VERIFY_MAC') m.MacAlgorithms = macAlgorithms(k.keySpec);
  if (k.keyUsage === 'KEY_AGREEMENT') m.KeyAgreementAlgorithms = ['ECDH'];
  return m;
}

/** Every KMS key of the caller's partition (secret keys and private halves KMS can describe). */
async function allKeys(ctx: KmsContext): Promise<KmsKey[]> {
  const s = ctx.caller.session;
  const uids = [...(await ctx.hsm.findObjects(s, { class: 'secret-key' })), ...(await ctx.hsm.findObjects(s, { class: 'private-key' }))];
  const out: KmsKey[] = [];
  for (const uid of uids) {
    const info = await ctx.hsm.getAttributes(s, uid);
    const spec = describeSpec(info);
    if (spec && !info.label.startsWith(ACCESS_KEY_LABEL) && info.state !== 'destroyed') out.push({ info, ...spec });
  }
  return out.sort((a, b) => a.info.createdAt.localeCompare(b.info.createdAt) || a.info.uid.localeCompare(b.info.uid));
}

/** Marker-based paging over a sorted list: the marker is the last returned index, base64url. */
export function page<T>(items: T[], req: Json): { items: T[]; next?: string } {
  const limit = req.Limit === undefined ? 100 : Number(req.Limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new KmsError('ValidationException', 'Limit is 1 to 1000');
  const start = typeof req.Marker === 'string' ? Number(Buffer.from(req.Marker, 'base64url').toString()) : 0;
  if (!Number.isInteger(start) || start < 0) throw new KmsError('ValidationException', 'Marker is invalid');
  const slice = items.slice(start, start + limit);
  return start + limit < items.length ? { items: slice, next: Buffer.from(String(start + limit)).toString('base64url') } : { items: slice };
}

async function symmetricEncrypt(ctx: KmsContext, k: KmsKey, plaintext: Uint8Array, ec: Record<string, string> | undefined): Promise<Uint8Array> {
  const res = await ctx.hsm.encrypt(ctx.caller.session, { key: k.info.uid, mechanism: 'AES-GCM', data: plaintext, params: { aad: blobAad(k.info.uid, ec) } });
  return encodeBlob({ uid: k.info.uid, keyVersion: res.keyVersion, iv: res.params!.iv!, ciphertext: res.data });
}

function oaepParams(algorithm: unknown): { hash: string; mgfHash: string } {
  if (algorithm === 'RSAES_OAEP_SHA_256') return { hash: 'SHA-256', mgfHash: 'SHA-256' };
  if (algorithm === 'RSAES_OAEP_SHA_1') return { hash: 'SHA-1', mgfHash: 'SHA-1' };
  throw new KmsError('ValidationException', 'EncryptionAlgorithm for an RSA key is RSAES_OAEP_SHA_1 or RSAES_OAEP_SHA_256');
}

const DATA_KEY_BYTES: Record<string, number> = { AES_256: 32, AES_128: 16 };

async function generateDataKey(ctx: KmsContext, req: Json, withPlaintext: boolean): Promise<Json> {
  const k = await findKey(ctx, req.KeyId);
  usable(k, ctx);
  needUsage(k, 'ENCRYPT_DECRYPT');
  if (k.keySpec !== 'SYMMETRIC_DEFAULT') throw new KmsError('InvalidKeyUsageException', 'data keys need a SYMMETRIC_DEFAULT key');
  if ((req.KeySpec === undefined) === (req.NumberOfBytes === undefined)) throw new KmsError('ValidationException', 'give exactly one of KeySpec and NumberOfBytes');
  const length = req.KeySpec !== undefined ? DATA_KEY_BYTES[String(req.KeySpec)] : Number(req.NumberOfBytes);
  if (length === undefined || !Number.isInteger(length) || length < 1 || length > 1024) throw new KmsError('ValidationException', 'KeySpec is AES_128 or AES_256; NumberOfBytes 1 to 1024');
  const ec = context(req.EncryptionContext);
  const dk = await ctx.hsm.insecureGenerateDataKey(ctx.caller.session, { key: k.info.uid, mechanism: 'AES-GCM', length, params: { aad: blobAad(k.info.uid, ec) } });
  try {
    const out: Json = { KeyId: keyArn(ctx.caller.region, ctx.caller.partition, k.info.uid), CiphertextBlob: b64out(encodeBlob({ uid: k.info.uid, keyVersion: dk.keyVersion, iv: dk.params!.iv!, ciphertext: dk.ciphertext })) };
    // The one place the data key leaves in the clear, as GenerateDataKey promises (docs/kms.md).
    if (withPlaintext) out.Plaintext = b64out(dk.plaintext.insecureBytes());
    return out;
  } finally {
    dk.plaintext.destroy();
  }
}

/** The KMS key and, for a pair, its public half: state changes apply to both (the public half verifies and encrypts outside KMS too, through REST and PKCS#11). */
function halves(k: KmsKey): string[] {
  return k.info.peer ? [k.info.uid, k.info.peer] : [k.info.uid];
}

async function setState(ctx: KmsContext, req: Json, state: 'enabled' | 'disabled'): Promise<Json> {
  const k = await findKey(ctx, req.KeyId);
  if (k.info.state === 'pending-deletion') throw new KmsError('KMSInvalidStateException', 'the key is pending deletion');
  for (const uid of halves(k)) await ctx.hsm.setKeyState(ctx.caller.session, uid, state);
  return {};
}

async function aliasHolder(ctx: KmsContext, alias: string): Promise<KmsKey> {
  try {
    return await findKey(ctx, `alias/${alias}`);
  } catch (e) {
    if (e instanceof HsmError || e instanceof KmsError) throw new KmsError('NotFoundException', `Alias alias/${alias} is not found.`);
    throw e;
  }
}

export const OPERATIONS: Record<string, Handler> = {
  async CreateKey(ctx, req) {
    const keySpec = req.KeySpec === undefined ? String(req.CustomerMasterKeySpec ?? 'SYMMETRIC_DEFAULT') : String(req.KeySpec);
    const keyUsage = String(req.KeyUsage ?? (keySpec.startsWith('HMAC_') ? 'GENERATE_VERIFY_MAC' : keySpec.startsWith('ECC_') || keySpec.startsWith('ML_DSA_') ? 'SIGN_VERIFY' : 'ENCRYPT_DECRYPT')) as KeyUsage;
    const description = req.Description === undefined ? '' : str(req.Description, 'Description', 8192);
    if (req.Origin !== undefined && req.Origin !== 'AWS_KMS') throw new KmsError('UnsupportedOperationException', 'only Origin AWS_KMS is supported');
    const r = keyRequest(keySpec, keyUsage, description);
    const s = ctx.caller.session;
    const uid = r.kind === 'secret' ? await ctx.hsm.generateKey(s, { mechanism: r.mechanism, template: r.template }) : (await ctx.hsm.generateKeyPair(s, { mechanism: r.mechanism, publicTemplate: r.publicTemplate, privateTemplate: r.privateTemplate })).privateKey;
    if (Array.isArray(req.Tags)) await ctx.hsm.setTags(s, uid, tagMap(req.Tags));
    return { KeyMetadata: metadata(ctx, await findKey(ctx, uid)) };
  },
  async DescribeKey(ctx, req) {
    return { KeyMetadata: metadata(ctx, await findKey(ctx, req.KeyId)) };
  },
  async ListKeys(ctx, req) {
    const p = page(await allKeys(ctx), req);
    const out: Json = { Keys: p.items.map((k) => ({ KeyId: k.info.uid, KeyArn: keyArn(ctx.caller.region, ctx.caller.partition, k.info.uid) })), Truncated: p.next !== undefined };
    if (p.next) out.NextMarker = p.next;
    return out;
  },
  EnableKey: (ctx, req) => setState(ctx, req, 'enabled'),
  DisableKey: (ctx, req) => setState(ctx, req, 'disabled'),
  async ScheduleKeyDeletion(ctx, req) {
    const k = await findKey(ctx, req.KeyId);
    const days = req.PendingWindowInDays === undefined ? 30 : Number(req.PendingWindowInDays);
    // A public half that may not be destroyed (made so through PKCS#11) refuses before either half changes.
    if (k.info.peer && !(await ctx.hsm.getAttributes(ctx.caller.session, k.info.peer)).destroyable) throw new KmsError('KMSInvalidStateException', "the key pair's public half is not destroyable");
    const date = await ctx.hsm.scheduleDeletion(ctx.caller.session, k.info.uid, days);
    if (k.info.peer) await ctx.hsm.scheduleDeletion(ctx.caller.session, k.info.peer, days);
    return { KeyId: keyArn(ctx.caller.region, ctx.caller.partition, k.info.uid), DeletionDate: Date.parse(date) / 1000, KeyState: 'PendingDeletion', PendingWindowInDays: days };
  },
  async CancelKeyDeletion(ctx, req) {
    const k = await findKey(ctx, req.KeyId);
    for (const uid of halves(k)) await ctx.hsm.cancelDeletion(ctx.caller.session, uid);
    return { KeyId: keyArn(ctx.caller.region, ctx.caller.partition, k.info.uid) };
  },
  async CreateAlias(ctx, req) {
    const alias = aliasName(req.AliasName);
    const k = await findKey(ctx, req.TargetKeyId);
    if (typeof req.TargetKeyId === 'string' && req.TargetKeyId.includes('alias/')) throw new KmsError('ValidationException', 'TargetKeyId must be a key id or key ARN');
    await ctx.hsm.setAliases(ctx.caller.session, k.info.uid, [...k.info.aliases, alias]);
    return {};
  },
  async UpdateAlias(ctx, req) {
    const alias = aliasName(req.AliasName);
    const from = await aliasHolder(ctx, alias);
    const to = await findKey(ctx, req.TargetKeyId);
    if (from.keyUsage !== to.keyUsage || from.keySpec.slice(0, 3) !== to.keySpec.slice(0, 3)) throw new KmsError('ValidationException', 'the new target key must have the same key type and usage');
    if (from.info.uid === to.info.uid) return {};
    await ctx.hsm.setAliases(ctx.caller.session, from.info.uid, from.info.aliases.filter((a) => a !== alias));
    await ctx.hsm.setAliases(ctx.caller.session, to.info.uid, [...to.info.aliases, alias]);
    return {};
  },
  async DeleteAlias(ctx, req) {
    const alias = aliasName(req.AliasName);
    const k = await aliasHolder(ctx, alias);
    await ctx.hsm.setAliases(ctx.caller.session, k.info.uid, k.info.aliases.filter((a) => a !== alias));
    return {};
  },
  async ListAliases(ctx, req) {
    const keys = req.KeyId === undefined ? await allKeys(ctx) : [await findKey(ctx, req.KeyId)];
    const aliases = keys
      .flatMap((k) => k.info.aliases.map((a) => ({ AliasName: `alias/${a}`, AliasArn: aliasArn(ctx.caller.region, ctx.caller.partition, a), TargetKeyId: k.info.uid })))
      .sort((a, b) => a.AliasName.localeCompare(b.AliasName));
    const p = page(aliases, req);
    const out: Json = { Aliases: p.items, Truncated: p.next !== undefined };
    if (p.next) out.NextMarker = p.next;
    return out;
  },
  async TagResource(ctx, req) {
    const k = await findKey(ctx, req.KeyId);
    await ctx.hsm.setTags(ctx.caller.session, k.info.uid, { ...k.info.tags, ...tagMap(req.Tags) });
    return {};
  },
  async UntagResource(ctx, req) {
    const k = await findKey(ctx, req.KeyId);
    if (!Array.isArray(req.TagKeys) || !req.TagKeys.every((t) => typeof t === 'string')) throw new KmsError('ValidationException', 'TagKeys is a list of strings');
    const drop = new Set(req.TagKeys as string[]);
    await ctx.hsm.setTags(ctx.caller.session, k.info.uid, Object.fromEntries(Object.entries(k.info.tags).filter(([t]) => !drop.has(t))));
    return {};
  },
  async ListResourceTags(ctx, req) {
    const k = await findKey(ctx, req.KeyId);
    const tags = Object.entries(k.info.tags)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([TagKey, TagValue]) => ({ TagKey, TagValue }));
    const p = page(tags, req);
    const out: Json = { Tags: p.items, Truncated: p.next !== undefined };
    if (p.next) out.NextMarker = p.next;
    return out;
  },
  async Encrypt(ctx, req) {
    const k = await findKey(ctx, req.KeyId);
    usable(k, ctx);
    needUsage(k, 'ENCRYPT_DECRYPT');
    const plaintext = b64in(req.Plaintext, 'Plaintext');
    const arn = keyArn(ctx.caller.region, ctx.caller.partition, k.info.uid);
    if (k.keySpec === 'SYMMETRIC_DEFAULT') {
      if (req.EncryptionAlgorithm !== undefined && req.EncryptionAlgorithm !== 'SYMMETRIC_DEFAULT') throw new KmsError('ValidationException', 'EncryptionAlgorithm for a symmetric key is SYMMETRIC_DEFAULT');
      return { KeyId: arn, CiphertextBlob: b64out(await symmetricEncrypt(ctx, k, plaintext, context(req.EncryptionContext))), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
    }
    const res = await ctx.hsm.encrypt(ctx.caller.session, { key: peerOf(k), mechanism: 'RSA-PKCS-OAEP', data: plaintext, params: oaepParams(req.EncryptionAlgorithm) });
    return { KeyId: arn, CiphertextBlob: b64out(res.data), EncryptionAlgorithm: req.EncryptionAlgorithm };
  },
  async Decrypt(ctx, req) {
    const raw = b64in(req.CiphertextBlob, 'CiphertextBlob', 6144);
    const asymmetric = req.EncryptionAlgorithm !== undefined && req.EncryptionAlgorithm !== 'SYMMETRIC_DEFAULT';
    if (asymmetric) {
      const k = await findKey(ctx, req.KeyId);
      usable(k, ctx);
      needUsage(k, 'ENCRYPT_DECRYPT');
      const pt = await ctx.hsm.decrypt(ctx.caller.session, { key: k.info.uid, mechanism: 'RSA-PKCS-OAEP', data: raw, params: oaepParams(req.EncryptionAlgorithm) });
      return { KeyId: keyArn(ctx.caller.region, ctx.caller.partition, k.info.uid), Plaintext: b64out(pt), EncryptionAlgorithm: req.EncryptionAlgorithm };
    }
    const blob = decodeBlob(raw);
    // attacks.md D-05: a KeyId given must be the key the blob names.
    if (req.KeyId !== undefined) {
      const named = await findKey(ctx, req.KeyId);
      if (named.info.uid !== blob.uid) throw new KmsError('IncorrectKeyException', 'The key ID in the request does not identify the key that encrypted the ciphertext.');
    }
    let k: KmsKey;
    try {
      k = await findKey(ctx, blob.uid);
    } catch {
      // The blob's key is not this account's (or no longer exists): no oracle on which.
      throw new KmsError('InvalidCiphertextException', 'the ciphertext does not decrypt under any key of this account');
    }
    usable(k, ctx);
    needUsage(k, 'ENCRYPT_DECRYPT');
    const pt = await ctx.hsm.decrypt(ctx.caller.session, { key: k.info.uid, mechanism: 'AES-GCM', data: blob.ciphertext, params: { iv: blob.iv, aad: blobAad(k.info.uid, context(req.EncryptionContext)) }, keyVersion: blob.keyVersion });
    return { KeyId: keyArn(ctx.caller.region, ctx.caller.partition, k.info.uid), Plaintext: b64out(pt), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
  },
  GenerateDataKey: (ctx, req) => generateDataKey(ctx, req, true),
  GenerateDataKeyWithoutPlaintext: (ctx, req) => generateDataKey(ctx, req, false),
  async Sign(ctx, req) {
    const k = await findKey(ctx, req.KeyId);
    usable(k, ctx);
    needUsage(k, 'SIGN_VERIFY');
    const m = signingMechanism(k.keySpec, String(req.SigningAlgorithm), messageType(req.MessageType), b64in(req.Message, 'Message'));
    const res = await ctx.hsm.sign(ctx.caller.session, { key: k.info.uid, mechanism: m.mechanism, data: m.data, params: m.params });
    return { KeyId: keyArn(ctx.caller.region, ctx.caller.partition, k.info.uid), Signature: b64out(res.signature), SigningAlgorithm: req.SigningAlgorithm };
  },
  async Verify(ctx, req) {
    const k = await findKey(ctx, req.KeyId);
    usable(k, ctx);
    needUsage(k, 'SIGN_VERIFY');
    const m = signingMechanism(k.keySpec, String(req.SigningAlgorithm), messageType(req.MessageType), b64in(req.Message, 'Message'));
    const ok = await ctx.hsm.verify(ctx.caller.session, { key: peerOf(k), mechanism: m.mechanism, data: m.data, signature: b64in(req.Signature, 'Signature', 6144), params: m.params });
    if (!ok) throw new KmsError('KMSInvalidSignatureException', 'the signature is not valid');
    return { KeyId: keyArn(ctx.caller.region, ctx.caller.partition, k.info.uid), SignatureValid: true, SigningAlgorithm: req.SigningAlgorithm };
  },
  async GetPublicKey(ctx, req) {
    const k = await findKey(ctx, req.KeyId);
    if (k.info.class !== 'private-key') throw new KmsError('UnsupportedOperationException', 'a symmetric key has no public key');
    const pub = await ctx.hsm.getPublicKey(ctx.caller.session, peerOf(k));
    // The boundary gives ML-DSA public keys raw; KMS clients expect SPKI like every other key.
    const spki = k.info.keyType === 'ml-dsa' ? mlDsaSpki(k.info.parameterSet ?? '', pub) : pub;
    const out: Json = { KeyId: keyArn(ctx.caller.region, ctx.caller.partition, k.info.uid), PublicKey: b64out(spki), KeySpec: k.keySpec, CustomerMasterKeySpec: k.keySpec, KeyUsage: k.keyUsage };
    if (k.keyUsage === 'SIGN_VERIFY') out.SigningAlgorithms = signingAlgorithms(k.keySpec);
    else if (k.keyUsage === 'KEY_AGREEMENT') out.KeyAgreementAlgorithms = ['ECDH'];
    else out.EncryptionAlgorithms = encryptionAlgorithms(k.keySpec);
    return out;
  },
  async GenerateMac(ctx, req) {
    const k = await findKey(ctx, req.KeyId);
    usable(k, ctx);
    needUsage(k, 'GENERATE_VERIFY_MAC');
    const res = await ctx.hsm.sign(ctx.caller.session, { key: k.info.uid, mechanism: macMechanism(k.keySpec, String(req.MacAlgorithm)), data: b64in(req.Message, 'Message') });
    return { KeyId: keyArn(ctx.caller.region, ctx.caller.partition, k.info.uid), Mac: b64out(res.signature), MacAlgorithm: req.MacAlgorithm };
  },
  async VerifyMac(ctx, req) {
    const k = await findKey(ctx, req.KeyId);
    usable(k, ctx);
    needUsage(k, 'GENERATE_VERIFY_MAC');
    const ok = await ctx.hsm.verify(ctx.caller.session, { key: k.info.uid, mechanism: macMechanism(k.keySpec, String(req.MacAlgorithm)), data: b64in(req.Message, 'Message'), signature: b64in(req.Mac, 'Mac', 64) });
    if (!ok) throw new KmsError('KMSInvalidMacException', 'the MAC is not valid');
    return { KeyId: keyArn(ctx.caller.region, ctx.caller.partition, k.info.uid), MacValid: true, MacAlgorithm: req.MacAlgorithm };
  },
  async GenerateRandom(ctx, req) {
    const n = Number(req.NumberOfBytes);
    if (!Number.isInteger(n) || n < 1 || n > 1024) throw new KmsError('ValidationException', 'NumberOfBytes is 1 to 1024');
    return { Plaintext: b64out(await ctx.hsm.randomBytes(ctx.caller.session, n)) };
  },
};

function messageType(v: unknown): 'RAW' | 'DIGEST' | 'EXTERNAL_MU' {
  if (v === undefined || v === 'RAW') return 'RAW';
  if (v === 'DIGEST' || v === 'EXTERNAL_MU') return v;
  throw new KmsError('ValidationException', 'MessageType is RAW, DIGEST or EXTERNAL_MU');
}

function tagMap(tags: unknown): Record<string, string> {
  if (!Array.isArray(tags)) throw new KmsError('ValidationException', 'Tags is a list of {TagKey, TagValue}');
  const out: Record<string, string> = {};
  for (const t of tags as Json[]) {
    if (typeof t?.TagKey !== 'string' || typeof t.TagValue !== 'string') throw new KmsError('ValidationException', 'each tag has a TagKey and a TagValue');
    out[t.TagKey] = t.TagValue;
  }
  return out;
}
