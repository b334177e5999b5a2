// ML-KEM (FIPS 203) key encapsulation, CKM_ML_KEM (PKCS#11 v3.2), on @noble/post-quantum.
// Decapsulation of a well-formed but wrong ciphertext returns the implicit-rejection secret
// (FIPS 203 Algorithm 18 step 9); only a ciphertext of the wrong length fails outright.

import { createHash, timingSafeEqual } from 'node:crypto';
import { HsmError } from '../errors.js';
import { kemFor, ML_KEM_SETS } from '../keytypes/pq.js';
import { SecretBytes } from '../secret.js';
import type { LoadedKey } from '../types.js';
import type { MechanismDescriptor } from './types.js';

function checkKey(key: LoadedKey): void {
  if (key.keyType !== 'ml-kem') throw new HsmError('KEY_TYPE_INCONSISTENT', `ML-KEM mechanism, ${key.keyType} key`);
}

// Wycheproof mlkem_768_test.json tcId 2 and mlkem_768_encaps_test.json tcId 14 ("official round 3
// seeds 0"): the same key pair. keygen(d‖z) → ek, encaps(ek, m) → c, K; decaps(c) → K.
const KAT_SEED = '7c9935a0b07694aa0c6d10e4db6b1add2fd81a25ccb148032dcd739936737f2d8626ed79d451140800e03b59b956f8210e556067407d13dc90fa9e8b872bfb8f';
const KAT_M = '147c03f7a5bebba406c8fae1874d7f13c80efe79a3a9a874cc09fe76f6997615';
const KAT_EK_SHA256 = '86adbca81f4fee893e2fb58fb98aa2fe188f501fed268d7f4056f8c05c4e53c4';
const KAT_C_SHA256 = '36829a2f35cbf4deb62c0a12a15c22dae9f8d2c252566fc24f88abe805cb575e';
const KAT_K = 'e7184a0975ee3470878d2d159ec83129c8aec253d4ee17b4810311d198cd0368';

const same = (a: Uint8Array, hex: string): boolean => {
  const b = Buffer.from(hex, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
};
const sha256 = (d: Uint8Array): Buffer => createHash('sha256').update(d).digest();

export const MECHANISMS: MechanismDescriptor[] = [
  {
    name: 'ML-KEM',
    // CKM_ML_KEM 0x17 (OASIS PKCS#11 v3.2 pkcs11t.h; mirrored in LudovicRousseau/PyKCS11 src/pykcs11.i)
    ckm: 0x17,
    aliases: ['CKM_ML_KEM'],
    family: 'ml-kem',
    operations: ['encapsulate', 'decapsulate'],
    keyTypes: ['ml-kem'],
    usage: { encapsulate: 'encapsulate', decapsulate: 'decapsulate' },
    approved: true, // FIPS 203
    impl: {
      async encapsulate(publicKey) {
        checkKey(publicKey);
        const ek = publicKey.publicData;
        if (!ek) throw new TypeError('loaded ML-KEM key without public data');
        // The modulus check (FIPS 203 §7.2) ran when the key was loaded; noble repeats it.
        const { cipherText, sharedSecret } = kemFor(publicKey).encapsulate(ek);
        const secret = SecretBytes.from(sharedSecret);
        sharedSecret.fill(0);
        return { ciphertext: cipherText, sharedSecret: secret };
      },
      async decapsulate(privateKey, ciphertext) {
        checkKey(privateKey);
        const dk = privateKey.secret?.insecureBytes();
        if (!dk) throw new HsmError('KEY_TYPE_INCONSISTENT', 'decapsulation needs the private key');
        const kem = kemFor(privateKey);
        // FIPS 203 §7.3 input check: ciphertext length; the dk hash check ran at load and runs again in noble.
        if (!(ciphertext instanceof Uint8Array) || ciphertext.length !== kem.lengths.cipherText) throw new HsmError('DECAPSULATE_FAILED');
        let k: Uint8Array;
        try {
          k = kem.decapsulate(ciphertext, dk);
        } catch {
          throw new HsmError('DECAPSULATE_FAILED');
        }
        const secret = SecretBytes.from(k);
        k.fill(0);
        return secret;
      },
    },
    async selfTest() {
      const kem = (ML_KEM_SETS['ML-KEM-768'] as (typeof ML_KEM_SETS)[string]).impl;
      const { secretKey, publicKey } = kem.keygen(Buffer.from(KAT_SEED, 'hex'));
      const { cipherText, sharedSecret } = kem.encapsulate(publicKey, Buffer.from(KAT_M, 'hex'));
      const k2 = kem.decapsulate(cipherText, secretKey);
      secretKey.fill(0);
      const ok = same(sha256(publicKey), KAT_EK_SHA256) && same(sha256(cipherText), KAT_C_SHA256) && same(sharedSecret, KAT_K) && same(k2, KAT_K);
      k2.fill(0);
      if (!ok) throw new Error('self-test failed: ML-KEM');
    },
  },
];
