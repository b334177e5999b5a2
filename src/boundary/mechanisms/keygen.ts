// Key-generation mechanisms (PKCS#11 v3.0 §6, v3.2 for the post-quantum ones). The work is
// done by the key-type descriptors; these entries name the mechanism, its number and the key
// types it makes, so generation goes through the same registry and policy as every other use.
// Their self-tests are the key types' pairwise-consistency tests, run on every generated pair.

import type { MechanismDescriptor } from './types.js';

const noSelfTest = async (): Promise<void> => {};

function gen(name: string, ckm: number, keyTypes: MechanismDescriptor['keyTypes'], pair: boolean, approved = true): MechanismDescriptor {
  return {
    name,
    ckm,
    family: 'keygen',
    operations: [pair ? 'generate-pair' : 'generate'],
    keyTypes,
    approved,
    impl: {},
    selfTest: noSelfTest,
  };
}

export const MECHANISMS: MechanismDescriptor[] = [
  gen('AES-KEY-GEN', 0x1080, ['aes'], false), // CKM_AES_KEY_GEN
  gen('DES2-KEY-GEN', 0x130, ['des2'], false, false), // CKM_DES2_KEY_GEN: two-key TDES is not approved
  gen('DES3-KEY-GEN', 0x131, ['des3'], false, false), // CKM_DES3_KEY_GEN: TDES encryption is legacy-only since 2024
  gen('GENERIC-SECRET-KEY-GEN', 0x350, ['generic-secret'], false), // CKM_GENERIC_SECRET_KEY_GEN
  gen('RSA-PKCS-KEY-PAIR-GEN', 0x0, ['rsa'], true), // CKM_RSA_PKCS_KEY_PAIR_GEN
  gen('EC-KEY-PAIR-GEN', 0x1040, ['ec'], true), // CKM_EC_KEY_PAIR_GEN
  gen('EC-EDWARDS-KEY-PAIR-GEN', 0x1055, ['ec-edwards'], true), // CKM_EC_EDWARDS_KEY_PAIR_GEN
  gen('EC-MONTGOMERY-KEY-PAIR-GEN', 0x1056, ['ec-montgomery'], true), // CKM_EC_MONTGOMERY_KEY_PAIR_GEN
  // PKCS#11 v3.2 numbers checked against the OASIS pkcs11t.h as mirrored in LudovicRousseau/PyKCS11
  // src/pykcs11.i (CKM_ML_KEM_KEY_PAIR_GEN 0x0F, CKM_ML_DSA_KEY_PAIR_GEN 0x1C, CKM_SLH_DSA_KEY_PAIR_GEN 0x2D).
  gen('ML-KEM-KEY-PAIR-GEN', 0x0f, ['ml-kem'], true), // CKM_ML_KEM_KEY_PAIR_GEN (v3.2)
  gen('ML-DSA-KEY-PAIR-GEN', 0x1c, ['ml-dsa'], true), // CKM_ML_DSA_KEY_PAIR_GEN (v3.2)
  gen('SLH-DSA-KEY-PAIR-GEN', 0x2d, ['slh-dsa'], true), // CKM_SLH_DSA_KEY_PAIR_GEN (v3.2)
];
