// The custodian's side of the share formats (docs/ceremony.md, "Share formats"): opening a share
// that the module encrypted to an X25519 or RSA key or to a passphrase, so `coffer unseal` can
// submit it. It mirrors src/boundary/ceremony/custodian-seal.ts; tests prove the two agree.
// The CLI never imports the boundary, so the format lives on both sides of the wire, like age's.

import { createDecipheriv, createPrivateKey, createPublicKey, diffieHellman, hkdfSync, type KeyObject, privateDecrypt, scrypt } from 'node:crypto';
import { constants } from 'node:crypto';

export type ShareEncoding = 'clear' | 'x25519' | 'rsa-oaep-sha256' | 'scrypt';

const AAD = 'coffer/v1/share';
const X25519_INFO = 'coffer/v1/share x25519';
const SHARE_BYTES = 33;
/** Highest scrypt cost a share file may ask for: 2^20 needs 1 GiB, beyond that a file is a denial of service. */
const MAX_LOG_N = 20;

export class ShareFormatError extends Error {
  override readonly name = 'ShareFormatError';
}

export function shareEncoding(text: string): ShareEncoding {
  const m = /^([a-z0-9-]+):/.exec(text.trim());
  if (!m) return 'clear';
  if (m[1] === 'x25519' || m[1] === 'rsa-oaep-sha256' || m[1] === 'scrypt') return m[1];
  throw new ShareFormatError(`unknown share encoding ${JSON.stringify(m[1])}`);
}

function gcmOpen(key: Uint8Array, box: Buffer): Buffer {
  if (box.length < 12 + 16) throw new ShareFormatError('share ciphertext too short');
  const d = createDecipheriv('aes-256-gcm', key, box.subarray(0, 12), { authTagLength: 16 });
  d.setAAD(Buffer.from(AAD, 'utf8'));
  d.setAuthTag(box.subarray(box.length - 16));
  try {
    return Buffer.concat([d.update(box.subarray(12, box.length - 16)), d.final()]);
  } catch {
    throw new ShareFormatError('the share does not open with this key or passphrase');
  }
}

const rawX25519 = (k: KeyObject): Buffer => Buffer.from(k.export({ format: 'jwk' }).x as string, 'base64url');

/**
 * The clear share (base64) inside `text`. `identity` is the custodian's private key (PEM or DER
 * PKCS#8) for x25519 and rsa-oaep-sha256 shares; `passphrase` opens scrypt shares.
 */
export async function openShare(text: string, secret: { identity?: string | Buffer; passphrase?: string }): Promise<string> {
  const enc = shareEncoding(text);
  const body = text.trim();
  if (enc === 'clear') return body;
  const blob = Buffer.from(body.slice(enc.length + 1), 'base64');
  let plain: Buffer;
  if (enc === 'scrypt') {
    if (secret.passphrase === undefined) throw new ShareFormatError('this share is protected by a passphrase');
    if (blob.length < 3 + 16 + 12 + 16) throw new ShareFormatError('share ciphertext too short');
    const [logN, r, p] = [blob[0]!, blob[1]!, blob[2]!];
    if (logN < 10 || logN > MAX_LOG_N || r < 1 || r > 32 || p < 1 || p > 16) throw new ShareFormatError('share scrypt parameters out of range');
    const key = await new Promise<Buffer>((resolve, reject) =>
      scrypt(secret.passphrase!.normalize('NFC'), blob.subarray(3, 19), 32, { N: 2 ** logN, r, p, maxmem: 256 * r * 2 ** logN }, (e, k) => (e ? reject(e) : resolve(k))),
    );
    try {
      plain = gcmOpen(key, blob.subarray(19));
    } finally {
      key.fill(0);
    }
  } else {
    if (secret.identity === undefined) throw new ShareFormatError(`this share is encrypted to a ${enc === 'x25519' ? 'X25519' : 'RSA'} key: give the custodian's private key`);
    let priv: KeyObject;
    try {
      priv = typeof secret.identity === 'string' || secret.identity.includes('-----BEGIN') ? createPrivateKey(secret.identity) : createPrivateKey({ key: secret.identity, format: 'der', type: 'pkcs8' });
    } catch {
      throw new ShareFormatError('the identity is not a private key (PEM or PKCS#8 DER)');
    }
    if (enc === 'rsa-oaep-sha256') {
      if (priv.asymmetricKeyType !== 'rsa') throw new ShareFormatError('this share needs an RSA private key');
      try {
        plain = privateDecrypt({ key: priv, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, blob); // RFC 8017 §7.1.2
      } catch {
        throw new ShareFormatError('the share does not open with this key');
      }
    } else {
      if (priv.asymmetricKeyType !== 'x25519') throw new ShareFormatError('this share needs an X25519 private key');
      if (blob.length < 32) throw new ShareFormatError('share ciphertext too short');
      const ephPub = blob.subarray(0, 32);
      const eph = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: ephPub.toString('base64url') }, format: 'jwk' });
      const shared = diffieHellman({ privateKey: priv, publicKey: eph }); // RFC 7748 §6.1
      const key = Buffer.from(hkdfSync('sha256', shared, Buffer.concat([ephPub, rawX25519(createPublicKey(priv))]), X25519_INFO, 32));
      shared.fill(0);
      try {
        plain = gcmOpen(key, blob.subarray(32));
      } finally {
        key.fill(0);
      }
    }
  }
  if (plain.length !== SHARE_BYTES) throw new ShareFormatError('the opened share has the wrong length');
  const out = plain.toString('base64');
  plain.fill(0);
  return out;
}
