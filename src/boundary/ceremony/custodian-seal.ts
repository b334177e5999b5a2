// Encrypting a share to its custodian before it leaves the module, so only that custodian can read
// it: X25519 (age-like: ephemeral ECDH, HKDF-SHA256, AES-256-GCM), RSA-OAEP-SHA256 (readable with
// plain `openssl pkeyutl`), or a passphrase (scrypt, AES-256-GCM). The formats are in
// docs/ceremony.md; the custodian's side (decryption) is src/cli/share-envelope.ts.

import { createCipheriv, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, type KeyObject, publicEncrypt, randomBytes, scrypt } from 'node:crypto';
import { constants } from 'node:crypto';
import { HsmError } from '../errors.js';
import type { SecretBytes } from '../secret.js';

export type Custodian = { kind: 'x25519' | 'rsa-oaep'; publicKey: Uint8Array } | { kind: 'passphrase'; passphrase: string };

/** A custodian checked and ready to encrypt to. */
export type CustodianKey = { kind: 'x25519'; key: KeyObject } | { kind: 'rsa-oaep'; key: KeyObject } | { kind: 'passphrase'; passphrase: string };

export const SHARE_AAD = 'coffer/v1/share';
export const X25519_INFO = 'coffer/v1/share x25519';
/** scrypt cost for passphrase shares: N = 2^17 (RFC 7914 §2's interactive figure is 2^14; a share is kept for years). */
export const SCRYPT_LOG_N = 17;
export const SCRYPT_R = 8;
export const SCRYPT_P = 1;

const MIN_PASSPHRASE = 12;
const MAX_PASSPHRASE = 1024;

/** Parses and checks one custodian entry; refusals name its position (1-based) but never echo a passphrase. */
export function checkCustodian(c: unknown, index: number): CustodianKey {
  const where = `custodian ${index}`;
  if (typeof c !== 'object' || c === null) throw new HsmError('ARGUMENTS_BAD', `${where} must be an object`);
  const kind = (c as { kind?: unknown }).kind;
  if (kind === 'passphrase') {
    const p = (c as { passphrase?: unknown }).passphrase;
    if (typeof p !== 'string' || p.length < MIN_PASSPHRASE || p.length > MAX_PASSPHRASE) throw new HsmError('ARGUMENTS_BAD', `${where}: a passphrase has ${MIN_PASSPHRASE} to ${MAX_PASSPHRASE} characters`);
    return { kind, passphrase: p.normalize('NFC') };
  }
  if (kind !== 'x25519' && kind !== 'rsa-oaep') throw new HsmError('ARGUMENTS_BAD', `${where}: kind is x25519, rsa-oaep or passphrase`);
  const der = (c as { publicKey?: unknown }).publicKey;
  if (!(der instanceof Uint8Array) || der.length > 4096) throw new HsmError('ARGUMENTS_BAD', `${where}: publicKey must be SPKI DER bytes`);
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });
  } catch {
    throw new HsmError('ARGUMENTS_BAD', `${where}: publicKey is not SPKI DER`);
  }
  if (kind === 'x25519') {
    if (key.asymmetricKeyType !== 'x25519') throw new HsmError('ARGUMENTS_BAD', `${where}: not an X25519 public key`);
    return { kind, key };
  }
  // SP 800-131A: RSA below 2048 bits no longer protects anything new.
  if (key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) throw new HsmError('ARGUMENTS_BAD', `${where}: not an RSA public key of 2048 bits or more`);
  return { kind, key };
}

function gcmSeal(key: Uint8Array, plaintext: Uint8Array): Buffer {
  const nonce = randomBytes(12); // SP 800-38D §8.2.2: random 96-bit IV; each key here is used once anyway
  const c = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
  c.setAAD(Buffer.from(SHARE_AAD, 'utf8'));
  const ct = Buffer.concat([c.update(plaintext), c.final()]);
  return Buffer.concat([nonce, ct, c.getAuthTag()]);
}

function rawX25519(key: KeyObject): Buffer {
  return Buffer.from(key.export({ format: 'jwk' }).x as string, 'base64url');
}

/** The share as its custodian receives it: `<kind>:<base64>` (see docs/ceremony.md, "Share formats"). */
export async function sealShareFor(c: CustodianKey, share: SecretBytes): Promise<string> {
  const plain = share.insecureBytes();
  if (c.kind === 'rsa-oaep') {
    // RFC 8017 §7.1 RSAES-OAEP with SHA-256 and MGF1-SHA-256, empty label: `openssl pkeyutl` opens it.
    const ct = publicEncrypt({ key: c.key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, plain);
    return `rsa-oaep-sha256:${ct.toString('base64')}`;
  }
  if (c.kind === 'x25519') {
    const eph = generateKeyPairSync('x25519');
    const shared = diffieHellman({ privateKey: eph.privateKey, publicKey: c.key }); // RFC 7748 §6.1
    const ephPub = rawX25519(eph.publicKey);
    // RFC 5869: salt = ephemeral ‖ recipient public keys (as age's X25519 recipient stanza does).
    const k = Buffer.from(hkdfSync('sha256', shared, Buffer.concat([ephPub, rawX25519(c.key)]), X25519_INFO, 32));
    shared.fill(0);
    try {
      return `x25519:${Buffer.concat([ephPub, gcmSeal(k, plain)]).toString('base64')}`;
    } finally {
      k.fill(0);
    }
  }
  const salt = randomBytes(16);
  const k = await new Promise<Buffer>((resolve, reject) =>
    scrypt(c.passphrase, salt, 32, { N: 2 ** SCRYPT_LOG_N, r: SCRYPT_R, p: SCRYPT_P, maxmem: 256 * 1024 * 1024 }, (e, key) => (e ? reject(e) : resolve(key))),
  );
  try {
    return `scrypt:${Buffer.concat([Buffer.from([SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P]), salt, gcmSeal(k, plain)]).toString('base64')}`;
  } finally {
    k.fill(0);
  }
}
