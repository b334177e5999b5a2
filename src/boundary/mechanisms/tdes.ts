// The TDES family over two- and three-key TDES (des2/des3): ECB (payment only), CBC, CBC-PAD,
// CMAC (SP 800-38B, 64-bit block) and the ISO/IEC 9797-1 MAC algorithm 3 retail MAC. None is
// approved: SP 800-131A Rev 2 §2 disallows TDES encryption after 2023; kept for payment systems.

import { loadSymmetricKey } from '../keytypes/symmetric.js';
import type { KeyType, LoadedKey } from '../types.js';
import { keyObjectFor, noParams, TDES_KEY_TYPES } from './block-cipher.js';
import { blockModeImpl } from './block-modes.js';
import { cmacImpl, macLength, tagMatches } from './cmac.js';
import { retailMac } from './iso9797-mac.js';
import { expectKat, hex, required } from './symmetric-kat.js';
import type { MechanismDescriptor, MechanismImpl, MechanismParams } from './types.js';

const BLOCK = 8;

const tdesKey = (keyType: KeyType, h: string): LoadedKey => loadSymmetricKey(keyType, hex(h));

async function withKey(keyType: KeyType, keyHex: string, body: (key: LoadedKey) => Promise<void>): Promise<void> {
  const key = tdesKey(keyType, keyHex);
  try {
    await body(key);
  } finally {
    key.secret?.destroy();
  }
}

async function katEncryptDecrypt(
  name: string,
  impl: MechanismImpl,
  key: LoadedKey,
  params: MechanismParams,
  plain: Buffer,
  cipher: Buffer,
): Promise<void> {
  expectKat(name, (await required(impl.encrypt, name)(key, plain, params)).output, cipher);
  expectKat(name, await required(impl.decrypt, name)(key, cipher, params), plain);
}

function retailMacImpl(method: 1 | 2): MechanismImpl {
  return {
    async sign(key, data, params) {
      keyObjectFor(key, TDES_KEY_TYPES);
      noParams(params, ['length']);
      // ISO/IEC 9797-1:2011 §7.4: the MAC is the leftmost m bits of the final block.
      return Buffer.from(retailMac(key, data, method).subarray(0, macLength(params, BLOCK))); // a copy, not a view of the full MAC
    },
    async verify(key, data, signature, params) {
      keyObjectFor(key, TDES_KEY_TYPES);
      noParams(params, ['length']);
      return tagMatches(retailMac(key, data, method).subarray(0, macLength(params, BLOCK)), signature);
    },
  };
}

// SP 800-67 Rev 2 / SSLeay's TDES-CBC vector (OpenSSL test/recipes/30-test_evp_data/evpciph_des3_common.txt):
// K1‖K2‖K3 = 0123456789abcdef f1e0d3c2b5a49786 fedcba9876543210, IV fedcba9876543210, "7654321 Now is the time for ".
const SSLEAY_KEY = '0123456789abcdeff1e0d3c2b5a49786fedcba9876543210';
const SSLEAY_IV = hex('fedcba9876543210');
const SSLEAY_PLAIN = hex('37363534333231204E6F77206973207468652074696D6520666F722000000000');
const SSLEAY_CIPHER = hex('3FE301C962AC01D02213763C1CBD4CDC799657C064ECF5D41C673812CFDE9675');

const ecbImpl = blockModeImpl('ecb', BLOCK, TDES_KEY_TYPES);
const cbcImpl = blockModeImpl('cbc', BLOCK, TDES_KEY_TYPES);
const cbcPadImpl = blockModeImpl('cbc-pad', BLOCK, TDES_KEY_TYPES);
const tdesCmacImpl = cmacImpl(BLOCK, TDES_KEY_TYPES);
const retailImpl = retailMacImpl(1);

export const MECHANISMS: MechanismDescriptor[] = [
  {
    name: 'DES3-ECB',
    ckm: 0x132, // CKM_DES3_ECB
    aliases: ['CKM_DES3_ECB'],
    family: 'tdes',
    operations: ['encrypt', 'decrypt'],
    keyTypes: TDES_KEY_TYPES,
    approved: false,
    // ECB is for payment functions only (PIN blocks, key check values); the payment layer enables it per key usage.
    disabledByDefault: true,
    impl: ecbImpl,
    // SP 800-67 Rev 1 Appendix B: three-key TDEA ECB of "The qufck brown fox jump"
    selfTest: () =>
      withKey('des3', '0123456789ABCDEF23456789ABCDEF01456789ABCDEF0123', (key) =>
        katEncryptDecrypt(
          'DES3-ECB',
          ecbImpl,
          key,
          {},
          hex('5468652071756663 6B2062726F776E20 666F78206A756D70'),
          hex('A826FD8CE53B855F CCE21C8112256FE6 68D5C05DD9B6B900'),
        ),
      ),
  },
  {
    name: 'DES3-CBC',
    ckm: 0x133, // CKM_DES3_CBC
    aliases: ['CKM_DES3_CBC'],
    family: 'tdes',
    operations: ['encrypt', 'decrypt'],
    keyTypes: TDES_KEY_TYPES,
    approved: false,
    impl: cbcImpl,
    selfTest: () =>
      withKey('des3', SSLEAY_KEY, (key) => katEncryptDecrypt('DES3-CBC', cbcImpl, key, { iv: SSLEAY_IV }, SSLEAY_PLAIN, SSLEAY_CIPHER)),
  },
  {
    name: 'DES3-CBC-PAD',
    ckm: 0x136, // CKM_DES3_CBC_PAD
    aliases: ['CKM_DES3_CBC_PAD'],
    family: 'tdes',
    // No wrap/unwrap: padding oracle (attacks.md B-05) and TDES key binding.
    operations: ['encrypt', 'decrypt'],
    keyTypes: TDES_KEY_TYPES,
    approved: false,
    impl: cbcPadImpl,
    // The SSLeay CBC vector: whole-block input gives the published blocks, then one padding block
    // (RFC 5652 §6.3) that decrypts back to the input; no published TDES-CBC-PAD vector exists.
    selfTest: () =>
      withKey('des3', SSLEAY_KEY, async (key) => {
        const out = (await required(cbcPadImpl.encrypt, 'DES3-CBC-PAD')(key, SSLEAY_PLAIN, { iv: SSLEAY_IV })).output;
        expectKat('DES3-CBC-PAD', out.subarray(0, SSLEAY_CIPHER.length), SSLEAY_CIPHER);
        expectKat('DES3-CBC-PAD', out.length === SSLEAY_CIPHER.length + BLOCK, true);
        expectKat('DES3-CBC-PAD', await required(cbcPadImpl.decrypt, 'DES3-CBC-PAD')(key, out, { iv: SSLEAY_IV }), SSLEAY_PLAIN);
      }),
  },
  {
    name: 'DES3-CMAC',
    ckm: 0x138, // CKM_DES3_CMAC
    aliases: ['CKM_DES3_CMAC'],
    family: 'tdes',
    operations: ['sign', 'verify'],
    keyTypes: TDES_KEY_TYPES,
    usage: { sign: 'sign', verify: 'verify' },
    approved: false,
    impl: tdesCmacImpl,
    // SP 800-38B Updated CMAC Examples, CMAC-TDES three-key, Example Mlen = 160
    selfTest: () =>
      withKey('des3', '8aa83bf8cbda10620bc1bf19fbb6cd58bc313d4a371ca8b5', async (key) => {
        const m = hex('6bc1bee22e409f96e93d7e117393172aae2d8a57');
        const t = hex('743ddbe0ce2dc2ed');
        expectKat('DES3-CMAC', await required(tdesCmacImpl.sign, 'DES3-CMAC')(key, m, {}), t);
        expectKat('DES3-CMAC', await required(tdesCmacImpl.verify, 'DES3-CMAC')(key, m, t, {}), true);
      }),
  },
  {
    name: 'DES3-RETAIL-MAC',
    aliases: ['ISO9797-1-MAC-ALG3'],
    family: 'tdes',
    operations: ['sign', 'verify'],
    keyTypes: TDES_KEY_TYPES,
    usage: { sign: 'sign', verify: 'verify' },
    approved: false,
    impl: retailImpl,
    // ISO/IEC 9797-1:2011 Annex B.4, MAC algorithm 3, padding method 1
    selfTest: () =>
      withKey('des2', '0123456789ABCDEFFEDCBA9876543210', async (key) => {
        const sign = required(retailImpl.sign, 'DES3-RETAIL-MAC');
        expectKat('DES3-RETAIL-MAC', await sign(key, Buffer.from('Now is the time for all ', 'latin1'), {}), hex('A1C72E74EA3FA9B6'));
        expectKat('DES3-RETAIL-MAC', await sign(key, Buffer.from('Now is the time for it', 'latin1'), {}), hex('2E2B1428CC78254F'));
      }),
  },
];

