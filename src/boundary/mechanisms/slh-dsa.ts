// SLH-DSA (FIPS 205) pure signatures, CKM_SLH_DSA (PKCS#11 v3.2), on @noble/post-quantum.
// The 's' parameter sets take seconds per signature in noble, synchronously on the event loop:
// they suit rare, high-value signatures (roots, firmware), not request paths.

import { timingSafeEqual } from 'node:crypto';
import { SLH_DSA_SETS } from '../keytypes/pq.js';
import { pqSignatureImpl } from './pq-sign.js';
import type { MechanismDescriptor } from './types.js';

// NIST ACVP-Server gen-val/json-files/SLH-DSA-keyGen-FIPS205/internalProjection.json (vsId 53):
// tcId 21 (SHA2-128f) and tcId 31 (SHAKE-128f): skSeed ‖ skPrf ‖ pkSeed → pk. A signature KAT
// would embed 17 KB per case; keygen exercises the hash layer and the XMSS/hypertree root.
const KATS = [
  {
    set: 'SLH-DSA-SHA2-128f',
    seed: 'E2BDAA37C8CFFE5E8D5676C23267890C31441758F573285881CDC82AB911DD8472DC8D26DF6EF708F4C41AF9FD04B65A',
    pk: '72DC8D26DF6EF708F4C41AF9FD04B65A8927927229891D47A60D67ECEF3D2C17',
  },
  {
    set: 'SLH-DSA-SHAKE-128f',
    seed: 'BBC74306F75DC2DAF7372B3C9841A4D6852C17B459F1692B8E9A1A0DACE5BA26380C99304A0DDD32F344B95144E1FDEF',
    pk: '380C99304A0DDD32F344B95144E1FDEF60BBC2340E08770FB41A80A76CB08E34',
  },
] as const;

export const MECHANISMS: MechanismDescriptor[] = [
  {
    name: 'SLH-DSA',
    // CKM_SLH_DSA 0x2e (OASIS PKCS#11 v3.2 pkcs11t.h; mirrored in LudovicRousseau/PyKCS11 src/pykcs11.i)
    ckm: 0x2e,
    aliases: ['CKM_SLH_DSA'],
    family: 'slh-dsa',
    operations: ['sign', 'verify'],
    keyTypes: ['slh-dsa'],
    usage: { sign: 'sign', verify: 'verify' },
    approved: true, // FIPS 205
    impl: pqSignatureImpl('slh-dsa'),
    async selfTest() {
      for (const kat of KATS) {
        const impl = (SLH_DSA_SETS[kat.set] as (typeof SLH_DSA_SETS)[string]).impl;
        const { secretKey, publicKey } = impl.keygen(Buffer.from(kat.seed, 'hex'));
        secretKey.fill(0);
        const want = Buffer.from(kat.pk, 'hex');
        if (publicKey.length !== want.length || !timingSafeEqual(publicKey, want)) throw new Error('self-test failed: SLH-DSA');
      }
    },
  },
];
