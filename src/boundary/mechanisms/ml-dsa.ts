// ML-DSA (FIPS 204) pure signatures, CKM_ML_DSA (PKCS#11 v3.2), on @noble/post-quantum.
// params.dsaContext is the context string (≤ 255 bytes); params.deterministic selects the
// deterministic variant (default hedged). noble is synchronous: a signature blocks the event loop (~ms).

import { createHash, timingSafeEqual } from 'node:crypto';
import { ML_DSA_SETS } from '../keytypes/pq.js';
import { pqSignatureImpl } from './pq-sign.js';
import type { MechanismDescriptor } from './types.js';

// Wycheproof mldsa_65_sign_seed_test.json, group 1 (privateSeed 2a×32), tcId 1 "baseline":
// msg "Hello world", no context, deterministic. SHA-256 of the published publicKey and sig.
const KAT_SEED = Buffer.alloc(32, 0x2a);
const KAT_MSG = Buffer.from('48656c6c6f20776f726c64', 'hex');
const KAT_PK_SHA256 = 'b7acce2ddb11f8cc1aa46e2bafac6eacfa2b732ef192bd636ad8d3a56d649c66';
const KAT_SIG_SHA256 = '39fbbb0d97a52c79844213b325af823a7f16a174e00a5b3daeb3e6e6d1c89681';

const sha256Is = (data: Uint8Array, want: string): boolean => timingSafeEqual(createHash('sha256').update(data).digest(), Buffer.from(want, 'hex'));

export const MECHANISMS: MechanismDescriptor[] = [
  {
    name: 'ML-DSA',
    // CKM_ML_DSA 0x1d (OASIS PKCS#11 v3.2 pkcs11t.h; mirrored in LudovicRousseau/PyKCS11 src/pykcs11.i)
    ckm: 0x1d,
    aliases: ['CKM_ML_DSA'],
    family: 'ml-dsa',
    operations: ['sign', 'verify'],
    keyTypes: ['ml-dsa'],
    usage: { sign: 'sign', verify: 'verify' },
    approved: true, // FIPS 204
    impl: pqSignatureImpl('ml-dsa'),
    async selfTest() {
      const impl = (ML_DSA_SETS['ML-DSA-65'] as (typeof ML_DSA_SETS)[string]).impl;
      const { secretKey, publicKey } = impl.keygen(KAT_SEED);
      const sig = impl.sign(KAT_MSG, secretKey, { extraEntropy: false });
      secretKey.fill(0);
      if (!sha256Is(publicKey, KAT_PK_SHA256) || !sha256Is(sig, KAT_SIG_SHA256) || !impl.verify(sig, KAT_MSG, publicKey)) {
        throw new Error('self-test failed: ML-DSA');
      }
    },
  },
];
