// Message digests (PKCS#11 v3.0 §6.18–6.20, §6.22): no key, the `digest` operation only.
// One descriptor per hash from the shared table; each self-tests on the FIPS 180-4 / FIPS 202
// example message "abc". node's createHash is synchronous but fast (no thread-pool variant exists).

import { createHash, timingSafeEqual } from 'node:crypto';
import { HASHES, type HashInfo, type HashName } from './hash-names.js';
import type { MechanismDescriptor } from './types.js';

/** Digest of "abc": FIPS 180-4 / FIPS 202 example values (NIST CSRC "Examples with intermediate values"). */
const ABC_DIGESTS: Record<HashName, string> = {
  'SHA-1': 'a9993e364706816aba3e25717850c26c9cd0d89d',
  'SHA-224': '23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7',
  'SHA-256': 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
  'SHA-384': 'cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7',
  'SHA-512': 'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
  'SHA3-256': '3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532',
  'SHA3-384': 'ec01498288516fc926459f58e2c6ad8df9b473cb0fc08c2596da7cf0e49be4b298d88cea927ac7f539f1edf228376d25',
  'SHA3-512': 'b751850b1a57168a5693cd924b6b096e08f621827444f70d884f5d0240d2712e10e116e9192af3c91a7ec57647e3934057340b4cf408d5a56592f8274eec53f0',
};

function digestMechanism(hash: HashInfo, ckm: number, aliases: string[], approved: boolean): MechanismDescriptor {
  const name = hash.name as HashName;
  return {
    name,
    ckm,
    aliases,
    family: 'digest',
    operations: ['digest'],
    keyTypes: [],
    approved,
    impl: {
      async digest(data) {
        return new Uint8Array(createHash(hash.node).update(data).digest());
      },
    },
    async selfTest() {
      const got = createHash(hash.node).update('abc').digest();
      const want = Buffer.from(ABC_DIGESTS[name], 'hex');
      if (got.length !== want.length || !timingSafeEqual(got, want)) throw new Error(`self-test failed: ${name}`);
    },
  };
}

export const MECHANISMS: MechanismDescriptor[] = [
  // SHA-1 digests stay approved for non-signature uses, but Coffer offers SHA-1 only for legacy data (SP 800-131A r2 §9).
  digestMechanism(HASHES['SHA-1'], 0x220, ['SHA1', 'CKM_SHA_1'], false), // CKM_SHA_1
  digestMechanism(HASHES['SHA-224'], 0x255, ['SHA224', 'CKM_SHA224'], true), // CKM_SHA224
  digestMechanism(HASHES['SHA-256'], 0x250, ['SHA256', 'CKM_SHA256'], true), // CKM_SHA256
  digestMechanism(HASHES['SHA-384'], 0x260, ['SHA384', 'CKM_SHA384'], true), // CKM_SHA384
  digestMechanism(HASHES['SHA-512'], 0x270, ['SHA512', 'CKM_SHA512'], true), // CKM_SHA512
  digestMechanism(HASHES['SHA3-256'], 0x2b0, ['SHA3_256', 'CKM_SHA3_256'], true), // CKM_SHA3_256
  digestMechanism(HASHES['SHA3-384'], 0x2c0, ['SHA3_384', 'CKM_SHA3_384'], true), // CKM_SHA3_384
  digestMechanism(HASHES['SHA3-512'], 0x2d0, ['SHA3_512', 'CKM_SHA3_512'], true), // CKM_SHA3_512
];
