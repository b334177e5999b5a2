// The Wycheproof ECDSA verification files Coffer runs, and how their public keys enter the HSM:
// shared by the vector tests of ECDSA-SHA* (hashing inside) and of prehashed ECDSA (CKM_ECDSA).

import type { TestHsm } from './hsm.js';
import { hex } from './hsm.js';

/** DER (X9.62 Ecdsa-Sig-Value) files and their IEEE P1363 (r‖s) twins. */
export const ECDSA_VERIFY_FILES = [
  'ecdsa_secp256r1_sha256_test.json',
  'ecdsa_secp384r1_sha384_test.json',
  'ecdsa_secp521r1_sha512_test.json',
  'ecdsa_secp256k1_sha256_test.json',
  'ecdsa_secp256r1_sha256_p1363_test.json',
  'ecdsa_secp384r1_sha384_p1363_test.json',
  'ecdsa_secp521r1_sha512_p1363_test.json',
  'ecdsa_secp256k1_sha256_p1363_test.json',
] as const;

/** The `signatureFormat` a file's signatures are in. */
export function signatureFormatOf(file: string): 'der' | 'raw' {
  return file.includes('p1363') ? 'raw' : 'der';
}

/** A group's `publicKeyDer` (SPKI) as a session verify key of the partition user. */
export function importEcPublic(t: TestHsm, spkiHex: string): Promise<string> {
  return t.hsm.createObject(t.user, { class: 'public-key', keyType: 'ec', publicKey: hex(spkiHex), verify: true, token: false });
}
