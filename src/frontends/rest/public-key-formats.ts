// Public keys out of the REST API as PEM, DER (base64) or JWK. Public keys are not secret, so
// the conversion happens here, outside the boundary: classical keys through node's KeyObject,
// post-quantum raw keys wrapped in an SPKI with their NIST OID (RFC 9881 ML-DSA, RFC 9814
// SLH-DSA, draft-ietf-lamps-kyber-certificates ML-KEM; all: parameters absent).

import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { HsmError } from '../../boundary/api.js';

export type PublicKeyFormat = 'pem' | 'der' | 'jwk';

/** NIST CSOR arc 2.16.840.1.101.3.4 tails: sigAlgs 3.17–3.31, kems 4.1–4.3. */
const PQ_OID_TAIL: Record<string, readonly [number, number]> = {
  'ML-DSA-44': [3, 17],
  'ML-DSA-65': [3, 18],
  'ML-DSA-87': [3, 19],
  'SLH-DSA-SHA2-128S': [3, 20],
  'SLH-DSA-SHA2-128F': [3, 21],
  'SLH-DSA-SHA2-192S': [3, 22],
  'SLH-DSA-SHA2-192F': [3, 23],
  'SLH-DSA-SHA2-256S': [3, 24],
  'SLH-DSA-SHA2-256F': [3, 25],
  'SLH-DSA-SHAKE-128S': [3, 26],
  'SLH-DSA-SHAKE-128F': [3, 27],
  'SLH-DSA-SHAKE-192S': [3, 28],
  'SLH-DSA-SHAKE-192F': [3, 29],
  'SLH-DSA-SHAKE-256S': [3, 30],
  'SLH-DSA-SHAKE-256F': [3, 31],
  'ML-KEM-512': [4, 1],
  'ML-KEM-768': [4, 2],
  'ML-KEM-1024': [4, 3],
};
const NIST_ALG_ARC = [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04];

/** X.690 §8.1.3 definite length, short or long form. */
function derLength(n: number): number[] {
  if (n < 0x80) return [n];
  if (n < 0x100) return [0x81, n];
  if (n < 0x10000) return [0x82, n >> 8, n & 0xff];
  throw new RangeError('DER length too large');
}

function tlv(tag: number, body: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag, ...derLength(body.length)]), body]);
}

function algorithmId(parameterSet: string): Buffer {
  const tail = PQ_OID_TAIL[parameterSet.toUpperCase()];
  if (!tail) throw new HsmError('KEY_TYPE_INCONSISTENT', `no SPKI encoding known for ${parameterSet.slice(0, 40)}`);
  return tlv(0x30, tlv(0x06, Uint8Array.from([...NIST_ALG_ARC, ...tail])));
}

/** RFC 5280 §4.1.2.7 SubjectPublicKeyInfo for a raw post-quantum public key. */
function pqSpki(parameterSet: string, raw: Uint8Array): Buffer {
  const bits = tlv(0x03, Buffer.concat([Buffer.from([0]), raw]));
  return tlv(0x30, Buffer.concat([algorithmId(parameterSet), bits]));
}

/** True when `bytes` is already an SPKI naming this parameter set (the outer header is 2–4 bytes). */
function isPqSpki(parameterSet: string, bytes: Uint8Array): boolean {
  const alg = algorithmId(parameterSet);
  if (bytes[0] !== 0x30) return false;
  for (const at of [2, 3, 4]) if (Buffer.from(bytes.subarray(at, at + alg.length)).equals(alg)) return true;
  return false;
}

function classical(bytes: Uint8Array): KeyObject | undefined {
  try {
    return createPublicKey({ key: Buffer.from(bytes), format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
}

function pem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN PUBLIC KEY-----\n${lines.join('\n')}\n-----END PUBLIC KEY-----\n`;
}

/** The SPKI DER of a public key as getPublicKey returns it (SPKI classical, raw or SPKI post-quantum). */
export function spkiOf(bytes: Uint8Array, keyType: string | undefined, parameterSet: string | undefined): Uint8Array {
  if (classical(bytes)) return bytes;
  if (!parameterSet) throw new HsmError('KEY_TYPE_INCONSISTENT', `no SPKI encoding known for ${keyType ?? 'this'} key`);
  // Post-quantum keys may already be stored as SPKI (SLH-DSA); otherwise wrap the raw key.
  return isPqSpki(parameterSet, bytes) ? bytes : pqSpki(parameterSet, bytes);
}

export function formatPublicKey(
  format: PublicKeyFormat,
  bytes: Uint8Array,
  keyType: string | undefined,
  parameterSet: string | undefined,
): { format: PublicKeyFormat; pem?: string; der?: string; jwk?: JsonWebKey } {
  const spki = spkiOf(bytes, keyType, parameterSet);
  if (format === 'pem') return { format, pem: pem(spki) };
  if (format === 'der') return { format, der: Buffer.from(spki).toString('base64') };
  const ko = classical(spki);
  if (!ko) throw new HsmError('KEY_TYPE_INCONSISTENT', 'JWK covers RSA, EC and OKP keys; use pem or der');
  return { format, jwk: ko.export({ format: 'jwk' }) };
}
