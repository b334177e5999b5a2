// AES-256-GCM sealing (NIST SP 800-38D) of secret material and of partition keys. Sealed form:
// 0x01 ‖ IV (96-bit random, §8.2.2) ‖ ciphertext ‖ 128-bit tag. Associated data binds what the
// secret belongs to, so a blob moved to another object, version or attribute set fails to open.
// Any failure to open gives HsmError('TAMPER_DETECTED'): the row tags already vouch for the
// bytes, so a blob that does not open means the store was forged or mis-bound.

import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject, randomBytes } from 'node:crypto';
import { HsmError } from '../errors.js';
import { SecretBytes } from '../secret.js';
import type { StoredObject } from '../types.js';
import { canonicalJson } from './canonical-json.js';

const FORMAT = 0x01;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The attributes a sealed blob is bound to (DESIGN §3 Store). */
const BOUND_ATTRIBUTES = [
  'sensitive',
  'extractable',
  'alwaysSensitive',
  'neverExtractable',
  'local',
  'trusted',
  'wrapWithTrusted',
  'sign',
  'verify',
  'encrypt',
  'decrypt',
  'wrap',
  'unwrap',
  'derive',
  'encapsulate',
  'decapsulate',
] as const;

/** Canonical JSON of the object's identity and security-relevant attributes, for one version. */
export function materialAad(object: StoredObject, version: number): string {
  const bound: Record<string, unknown> = {
    purpose: 'material',
    uid: object.uid,
    partition: object.partition,
    version,
    class: object.attrs.class,
    keyType: object.attrs.keyType ?? null,
  };
  for (const a of BOUND_ATTRIBUTES) bound[a] = object.attrs[a] === true;
  return canonicalJson(bound);
}

export function partitionKeyAad(partition: string): string {
  return canonicalJson({ purpose: 'partition-key', partition });
}

export function seal(key: KeyObject, plaintext: Uint8Array, aad: string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([FORMAT]), iv, ct, cipher.getAuthTag()]);
}

/** Opens a sealed blob; the caller owns (and destroys) the returned secret. */
export function unseal(key: KeyObject, sealed: Uint8Array, aad: string, what: string): SecretBytes {
  if (sealed.length < 1 + IV_BYTES + TAG_BYTES || sealed[0] !== FORMAT) throw new HsmError('TAMPER_DETECTED', `${what} malformed`);
  const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  const iv = buf.subarray(1, 1 + IV_BYTES);
  const ct = buf.subarray(1 + IV_BYTES, buf.length - TAG_BYTES);
  const tag = buf.subarray(buf.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(tag);
    const head = decipher.update(ct);
    const tail = decipher.final(); // throws on a tag mismatch (SP 800-38D §7.2 step 8)
    const out = Buffer.concat([head, tail]);
    head.fill(0);
    tail.fill(0);
    return SecretBytes.adopt(out);
  } catch {
    throw new HsmError('TAMPER_DETECTED', `${what} does not open`);
  }
}

/** A fresh 256-bit partition key: its sealed form for the store and its KeyObject for use. */
export function newPartitionKey(wrapKey: KeyObject, partition: string): { wrapped: Buffer; key: KeyObject } {
  const raw = SecretBytes.random(32);
  try {
    return { wrapped: seal(wrapKey, raw.insecureBytes(), partitionKeyAad(partition)), key: raw.toKeyObject() };
  } finally {
    raw.destroy();
  }
}

export function openPartitionKey(wrapKey: KeyObject, partition: string, wrapped: Uint8Array): KeyObject {
  const raw = unseal(wrapKey, wrapped, partitionKeyAad(partition), 'partition key');
  try {
    return createSecretKey(raw.insecureBytes());
  } finally {
    raw.destroy();
  }
}
