// The hash functions mechanisms may name in their parameters (OAEP, PSS, HKDF, KDF, HMAC,
// ECDSA), as one table: canonical name, OpenSSL name, output and block sizes, and whether the
// hash is approved for digital signatures (SP 800-131A Rev 2 §9: SHA-1 is not).

import { HsmError } from '../errors.js';

export const HASHES = {
  'SHA-1': { name: 'SHA-1', node: 'sha1', length: 20, blockSize: 64, approved: false }, // FIPS 180-4; SP 800-131A r2 §9: disallowed for signature generation
  'SHA-224': { name: 'SHA-224', node: 'sha224', length: 28, blockSize: 64, approved: true }, // FIPS 180-4
  'SHA-256': { name: 'SHA-256', node: 'sha256', length: 32, blockSize: 64, approved: true }, // FIPS 180-4
  'SHA-384': { name: 'SHA-384', node: 'sha384', length: 48, blockSize: 128, approved: true }, // FIPS 180-4
  'SHA-512': { name: 'SHA-512', node: 'sha512', length: 64, blockSize: 128, approved: true }, // FIPS 180-4
  'SHA3-256': { name: 'SHA3-256', node: 'sha3-256', length: 32, blockSize: 136, approved: true }, // FIPS 202 (rate = block size)
  'SHA3-384': { name: 'SHA3-384', node: 'sha3-384', length: 48, blockSize: 104, approved: true }, // FIPS 202
  'SHA3-512': { name: 'SHA3-512', node: 'sha3-512', length: 64, blockSize: 72, approved: true }, // FIPS 202
} as const;

export type HashName = keyof typeof HASHES;
export type HashInfo = (typeof HASHES)[HashName];

/** Spellings accepted for each hash: 'SHA-256', 'SHA256', 'sha256', 'sha-256', 'SHA3-256', 'sha3_256'. */
const BY_SPELLING = new Map<string, HashInfo>();
for (const h of Object.values(HASHES)) {
  BY_SPELLING.set(h.name.toUpperCase(), h);
  BY_SPELLING.set(h.name.replace('-', '').toUpperCase(), h);
  BY_SPELLING.set(h.node.toUpperCase(), h);
  BY_SPELLING.set(h.name.replace('-', '_').toUpperCase(), h);
}

/** The hash named `name` (any accepted spelling): HsmError('MECHANISM_PARAM_INVALID') if unknown. */
export function hashByName(name: string): HashInfo {
  const h = typeof name === 'string' ? BY_SPELLING.get(name.toUpperCase()) : undefined;
  if (!h) throw new HsmError('MECHANISM_PARAM_INVALID', typeof name === 'string' ? `unknown hash ${name.slice(0, 32)}` : 'hash must be a string');
  return h;
}
