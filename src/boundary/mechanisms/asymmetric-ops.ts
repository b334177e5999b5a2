// Promise wrappers over node:crypto's callback forms of sign, verify and key-pair generation,
// so asymmetric work runs on libuv's thread pool instead of the event loop (DESIGN §5).
// Verification never throws for a bad signature: any OpenSSL error there means "not valid".

import {
  type KeyObject,
  type SignKeyObjectInput,
  type SignPrivateKeyInput,
  type VerifyKeyObjectInput,
  type VerifyPublicKeyInput,
  generateKeyPair,
  sign,
  verify,
} from 'node:crypto';

export function signAsync(
  algorithm: string | null,
  data: Uint8Array,
  key: KeyObject | SignKeyObjectInput | SignPrivateKeyInput,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    sign(algorithm, data, key, (err, sig) => (err ? reject(err) : resolve(sig)));
  });
}

/** Resolves false for every failure, including malformed signatures that OpenSSL rejects with an error. */
export function verifyAsync(
  algorithm: string | null,
  data: Uint8Array,
  key: KeyObject | VerifyKeyObjectInput | VerifyPublicKeyInput,
  signature: Uint8Array,
): Promise<boolean> {
  return new Promise((resolve) => {
    try {
      verify(algorithm, data, key, signature, (err, ok) => resolve(!err && ok === true));
    } catch {
      resolve(false);
    }
  });
}

export interface DerPair {
  /** PKCS#8 DER. */
  privateKey: Buffer;
  /** SPKI DER. */
  publicKey: Buffer;
}

type PairType = 'rsa' | 'ec' | 'ed25519' | 'ed448' | 'x25519' | 'x448';

export function generateDerPair(type: PairType, options: { modulusLength?: number; publicExponent?: number; namedCurve?: string }): Promise<DerPair> {
  const encoding = {
    publicKeyEncoding: { type: 'spki', format: 'der' },
    privateKeyEncoding: { type: 'pkcs8', format: 'der' },
  } as const;
  return new Promise((resolve, reject) => {
    // The overloads of generateKeyPair are per literal type; one cast keeps the call site single.
    (generateKeyPair as unknown as (t: string, o: object, cb: (e: Error | null, pub: Buffer, priv: Buffer) => void) => void)(
      type,
      { ...options, ...encoding },
      (err, publicKey, privateKey) => (err ? reject(err) : resolve({ privateKey, publicKey })),
    );
  });
}
