// EMSA-PSS encoding and verification (RFC 8017 §9.1) for signing a caller-supplied digest:
// node 20 can only sign messages it hashes itself, so CKM_RSA_PKCS_PSS (prehashed) pads here
// and uses OpenSSL's raw RSA private operation (blinded) on the encoded block.

import { createHash, randomBytes } from 'node:crypto';
import type { HashInfo } from './hash-names.js';

/** MGF1 (RFC 8017 §B.2.1). */
function mgf1(hash: HashInfo, seed: Uint8Array, length: number): Buffer {
  const out = Buffer.alloc(length);
  const counter = Buffer.alloc(4);
  for (let c = 0, off = 0; off < length; c++, off += hash.length) {
    counter.writeUInt32BE(c);
    createHash(hash.node).update(seed).update(counter).digest().copy(out, off);
  }
  return out;
}

/** The largest salt that fits (RFC 8017 §9.1.1 step 3: emLen >= hLen + sLen + 2). */
export function maxSaltLength(modulusBits: number, hash: HashInfo): number {
  return Math.ceil((modulusBits - 1) / 8) - hash.length - 2;
}

/**
 * EMSA-PSS-ENCODE(M, emBits) with mHash given (RFC 8017 §9.1.1 steps 4-12), left-padded to the
 * modulus length k so it can go straight into the raw RSA operation (§8.1.1 step 2a: OS2IP).
 */
export function emsaPssEncode(mHash: Uint8Array, modulusBits: number, hash: HashInfo, mgfHash: HashInfo, saltLength: number): Buffer {
  const emBits = modulusBits - 1;
  const emLen = Math.ceil(emBits / 8);
  const k = Math.ceil(modulusBits / 8);
  if (emLen < hash.length + saltLength + 2) throw new RangeError('salt too long for the modulus');
  const salt = randomBytes(saltLength);
  // §9.1.1 steps 5-6: M' = 0x00^8 || mHash || salt; H = Hash(M')
  const h = createHash(hash.node).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  // steps 7-8: DB = PS || 0x01 || salt
  const db = Buffer.alloc(emLen - hash.length - 1);
  db[db.length - saltLength - 1] = 0x01;
  salt.copy(db, db.length - saltLength);
  // steps 9-10: maskedDB = DB xor MGF(H, emLen - hLen - 1)
  const mask = mgf1(mgfHash, h, db.length);
  for (let i = 0; i < db.length; i++) db[i]! ^= mask[i]!;
  // step 11: clear the leftmost 8·emLen − emBits bits
  db[0]! &= 0xff >> (8 * emLen - emBits);
  const out = Buffer.alloc(k);
  // step 12: EM = maskedDB || H || 0xbc, placed at the end of a k-byte block
  db.copy(out, k - emLen);
  h.copy(out, k - emLen + db.length);
  out[k - 1] = 0xbc;
  return out;
}

/** EMSA-PSS-VERIFY (RFC 8017 §9.1.2) on m = s^e mod n as a k-byte block; false for any mismatch. */
export function emsaPssVerify(mHash: Uint8Array, block: Uint8Array, modulusBits: number, hash: HashInfo, mgfHash: HashInfo, saltLength: number): boolean {
  const emBits = modulusBits - 1;
  const emLen = Math.ceil(emBits / 8);
  const k = Math.ceil(modulusBits / 8);
  if (block.length !== k || mHash.length !== hash.length) return false;
  for (let i = 0; i < k - emLen; i++) if (block[i] !== 0) return false; // §8.1.2 step 2c: I2OSP(m, emLen)
  const em = block.subarray(k - emLen);
  if (emLen < hash.length + saltLength + 2) return false; // step 3
  if (em[emLen - 1] !== 0xbc) return false; // step 4
  const maskedDb = em.subarray(0, emLen - hash.length - 1);
  const h = em.subarray(emLen - hash.length - 1, emLen - 1);
  const topBits = 8 * emLen - emBits;
  if ((maskedDb[0]! & ~(0xff >> topBits) & 0xff) !== 0) return false; // step 6
  const db = mgf1(mgfHash, h, maskedDb.length);
  for (let i = 0; i < db.length; i++) db[i]! ^= maskedDb[i]!; // steps 7-8
  db[0]! &= 0xff >> topBits; // step 9
  const psLen = emLen - hash.length - saltLength - 2;
  for (let i = 0; i < psLen; i++) if (db[i] !== 0) return false; // step 10
  if (db[psLen] !== 0x01) return false;
  const salt = db.subarray(db.length - saltLength); // step 11
  const h2 = createHash(hash.node).update(Buffer.alloc(8)).update(mHash).update(salt).digest(); // steps 12-13
  return Buffer.compare(h2, h) === 0; // step 14 (public values: no timing concern)
}
