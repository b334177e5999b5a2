// The AES family: ECB (payment use only), CBC, CBC-PAD, CTR, GCM, CMAC, key wrap (RFC 3394) and
// key wrap with padding (RFC 5649). GCM IVs are always made inside on encrypt (attacks.md B-08);
// every decrypt failure is DECRYPT_FAILED and every unwrap failure UNWRAP_FAILED, whatever the cause.

import { createCipheriv, createDecipheriv, type KeyObject, randomBytes } from 'node:crypto';
import { HsmError } from '../errors.js';
import { loadSymmetricKey } from '../keytypes/symmetric.js';
import { SecretBytes } from '../secret.js';
import type { LoadedKey } from '../types.js';
import { AES_KEY_TYPES, cipherName, gcmName, ivParam, keyObjectFor, noParams, runCipher } from './block-cipher.js';
import { blockModeImpl } from './block-modes.js';
import { cmacImpl } from './cmac.js';
import { expectKat, hex, required } from './symmetric-kat.js';
import type { MechanismDescriptor, MechanismImpl, MechanismParams } from './types.js';

const BLOCK = 16;
const AES_BITS = { min: 128, max: 256 } as const;

// ---------------------------------------------------------------------------------------------
// CTR

const ctrImpl: MechanismImpl = {
  async encrypt(key, data, params) {
    const ko = keyObjectFor(key, AES_KEY_TYPES);
    noParams(params, ['iv']);
    // SP 800-38A §6.5 / Appendix B: the initial counter block; random blocks make reuse unlikely.
    const { iv } = ivParam(params, BLOCK, 'random-if-absent');
    return { output: runCipher(cipherName(key, 'ctr'), ko, iv, data, 'encrypt', false), params: { iv: new Uint8Array(iv) } };
  },
  async decrypt(key, data, params) {
    const ko = keyObjectFor(key, AES_KEY_TYPES);
    noParams(params, ['iv']);
    const { iv } = ivParam(params, BLOCK, 'required');
    try {
      return runCipher(cipherName(key, 'ctr'), ko, iv, data, 'decrypt', false);
    } catch {
      throw new HsmError('DECRYPT_FAILED');
    }
  },
};

// ---------------------------------------------------------------------------------------------
// GCM

/** SP 800-38D §5.2.1.2: tags of 128, 120, 112, 104, 96 bits, and 64 or 32 bits for special uses. */
const GCM_TAG_LENGTHS = [4, 8, 12, 13, 14, 15, 16] as const;
/** OpenSSL 3.0 as bound by node accepts IVs of 1..128 bytes; SP 800-38D allows more, nobody uses them. */
const GCM_MAX_IV = 128;

function gcmTagLength(params: MechanismParams): number {
  const t = params.tagLength ?? 16;
  if (!(GCM_TAG_LENGTHS as readonly number[]).includes(t)) throw new HsmError('MECHANISM_PARAM_INVALID', 'tagLength must be 4, 8 or 12..16');
  return t;
}

function gcmAad(params: MechanismParams): Uint8Array | undefined {
  if (params.aad !== undefined && !(params.aad instanceof Uint8Array)) throw new HsmError('MECHANISM_PARAM_INVALID', 'aad must be bytes');
  return params.aad;
}

function gcmIvForOpen(params: MechanismParams): Buffer {
  const iv = params.iv;
  if (!(iv instanceof Uint8Array) || iv.length < 1 || iv.length > GCM_MAX_IV) {
    throw new HsmError('MECHANISM_PARAM_INVALID', `iv must be 1..${GCM_MAX_IV} bytes`);
  }
  return Buffer.from(iv);
}

/** GCM-AE (SP 800-38D §7.1): returns C‖T. */
function gcmSeal(key: LoadedKey, ko: KeyObject, iv: Buffer, data: Uint8Array, aad: Uint8Array | undefined, tagLength: number): Buffer {
  const c = createCipheriv(gcmName(key), ko, iv, { authTagLength: tagLength });
  if (aad) c.setAAD(aad);
  return Buffer.concat([c.update(data), c.final(), c.getAuthTag()]);
}

/** GCM-AD (SP 800-38D §7.2) over C‖T; throws (any error) when the tag does not verify. */
function gcmOpen(key: LoadedKey, ko: KeyObject, iv: Buffer, input: Uint8Array, aad: Uint8Array | undefined, tagLength: number): Buffer {
  if (input.length < tagLength) throw new RangeError('ciphertext shorter than the tag');
  const split = input.length - tagLength;
  const d = createDecipheriv(gcmName(key), ko, iv, { authTagLength: tagLength });
  d.setAuthTag(input.subarray(split));
  if (aad) d.setAAD(aad);
  const head = d.update(input.subarray(0, split));
  try {
    const tail = d.final();
    if (tail.length === 0) return head;
    const out = Buffer.concat([head, tail]);
    head.fill(0);
    return out;
  } catch (e) {
    head.fill(0); // no unauthenticated plaintext survives a failed tag check
    throw e;
  }
}

/** A fresh 96-bit IV from the RBG (SP 800-38D §8.2.2); a caller-chosen IV on encrypt is refused. */
function gcmEncryptParams(params: MechanismParams): { iv: Buffer; aad: Uint8Array | undefined; tagLength: number } {
  noParams(params, ['iv', 'aad', 'tagLength']);
  if (params.iv !== undefined) throw new HsmError('MECHANISM_PARAM_INVALID', 'the GCM IV is generated inside the module');
  return { iv: randomBytes(12), aad: gcmAad(params), tagLength: gcmTagLength(params) };
}

function gcmDecryptParams(params: MechanismParams): { iv: Buffer; aad: Uint8Array | undefined; tagLength: number } {
  noParams(params, ['iv', 'aad', 'tagLength']);
  return { iv: gcmIvForOpen(params), aad: gcmAad(params), tagLength: gcmTagLength(params) };
}

async function gcmDecrypt(key: LoadedKey, data: Uint8Array, params: MechanismParams): Promise<Buffer> {
  const ko = keyObjectFor(key, AES_KEY_TYPES);
  const p = gcmDecryptParams(params);
  try {
    return gcmOpen(key, ko, p.iv, data, p.aad, p.tagLength);
  } catch {
    throw new HsmError('DECRYPT_FAILED');
  }
}

const gcmImpl: MechanismImpl = {
  decrypt: gcmDecrypt,
  async encrypt(key, data, params) {
    const ko = keyObjectFor(key, AES_KEY_TYPES);
    const p = gcmEncryptParams(params);
    return { output: gcmSeal(key, ko, p.iv, data, p.aad, p.tagLength), params: { iv: new Uint8Array(p.iv) } };
  },
  async wrap(wrappingKey, material, params) {
    const ko = keyObjectFor(wrappingKey, AES_KEY_TYPES);
    const p = gcmEncryptParams(params);
    return { output: gcmSeal(wrappingKey, ko, p.iv, material.insecureBytes(), p.aad, p.tagLength), params: { iv: new Uint8Array(p.iv) } };
  },
  async unwrap(unwrappingKey, wrapped, params) {
    const ko = keyObjectFor(unwrappingKey, AES_KEY_TYPES);
    const p = gcmDecryptParams(params);
    try {
      return SecretBytes.adopt(gcmOpen(unwrappingKey, ko, p.iv, wrapped, p.aad, p.tagLength));
    } catch {
      throw new HsmError('UNWRAP_FAILED');
    }
  },
};

// ---------------------------------------------------------------------------------------------
// Key wrap (RFC 3394 / SP 800-38F KW) and key wrap with padding (RFC 5649 / SP 800-38F KWP)

const KW_IV = hex('A6A6A6A6A6A6A6A6'); // RFC 3394 §2.2.3.1 default initial value
const KWP_AIV = hex('A65959A6'); // RFC 5649 §3 alternative initial value (the MLI is appended by OpenSSL)
/** SP 800-38F §5.3.1: KW and KWP take inputs below 2^32 bytes; KWP's MLI is 32 bits. */
const KW_MAX = 0xffff_fff8;

interface KwVariant {
  mode: 'wrap' | 'wrap-pad';
  iv: Buffer;
  /** Plaintext lengths the variant accepts (bytes). */
  plainOk(len: number): boolean;
  /** Ciphertext lengths the variant accepts (bytes). */
  cipherOk(len: number): boolean;
}

const KW: KwVariant = {
  mode: 'wrap',
  iv: KW_IV,
  // RFC 3394 §2: n ≥ 2 64-bit blocks; SP 800-38F §6.2 KW-AE needs len ≥ 16 and a multiple of 8.
  plainOk: (n) => n >= 16 && n % 8 === 0 && n <= KW_MAX,
  cipherOk: (n) => n >= 24 && n % 8 === 0,
};

const KWP: KwVariant = {
  mode: 'wrap-pad',
  iv: KWP_AIV,
  // RFC 5649 §4.1: 1 ≤ m < 2^32 octets.
  plainOk: (n) => n >= 1 && n <= KW_MAX,
  cipherOk: (n) => n >= 16 && n % 8 === 0,
};

function kwSeal(v: KwVariant, key: LoadedKey, data: Uint8Array): Buffer {
  return runCipher(cipherName(key, v.mode), keyObjectFor(key, AES_KEY_TYPES), v.iv, data, 'encrypt', false);
}

function kwOpen(v: KwVariant, key: LoadedKey, data: Uint8Array): Buffer {
  const name = cipherName(key, v.mode);
  const ko = keyObjectFor(key, AES_KEY_TYPES);
  if (!v.cipherOk(data.length)) throw new RangeError('wrapped length');
  return runCipher(name, ko, v.iv, data, 'decrypt', false); // OpenSSL checks the ICV / AIV and padding (RFC 5649 §4.2)
}

function kwImpl(v: KwVariant): MechanismImpl {
  return {
    async encrypt(key, data, params) {
      noParams(params, []);
      if (!v.plainOk(data.length)) throw new HsmError('DATA_LEN_RANGE', v === KW ? 'KW takes multiples of 8 bytes, at least 16' : 'KWP takes 1 byte or more');
      return { output: kwSeal(v, key, data) };
    },
    async decrypt(key, data, params) {
      noParams(params, []);
      keyObjectFor(key, AES_KEY_TYPES);
      try {
        return kwOpen(v, key, data);
      } catch {
        throw new HsmError('DECRYPT_FAILED');
      }
    },
    async wrap(wrappingKey, material, params) {
      noParams(params, []);
      if (!v.plainOk(material.length)) throw new HsmError('KEY_SIZE_RANGE', v === KW ? 'KW wraps keys of 16 bytes or more in multiples of 8' : 'KWP wraps keys of 1 byte or more');
      return { output: kwSeal(v, wrappingKey, material.insecureBytes()) };
    },
    async unwrap(unwrappingKey, wrapped, params) {
      noParams(params, []);
      keyObjectFor(unwrappingKey, AES_KEY_TYPES);
      try {
        return SecretBytes.adopt(kwOpen(v, unwrappingKey, wrapped));
      } catch {
        throw new HsmError('UNWRAP_FAILED');
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Self-test vectors

const SP800_38A_KEY = '2b7e151628aed2a6abf7158809cf4f3c';
const SP800_38A_PLAIN = `6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51
  30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710`;

const aesKey = (h: string): LoadedKey => loadSymmetricKey('aes', hex(h));

async function katEncryptDecrypt(
  name: string,
  impl: MechanismImpl,
  keyHex: string,
  params: MechanismParams,
  plainHex: string,
  cipherHex: string,
): Promise<void> {
  const key = aesKey(keyHex);
  try {
    const ct = await required(impl.encrypt, name)(key, hex(plainHex), params);
    expectKat(name, ct.output, hex(cipherHex));
    expectKat(name, await required(impl.decrypt, name)(key, hex(cipherHex), params), hex(plainHex));
  } finally {
    key.secret?.destroy();
  }
}

const cbcImpl = blockModeImpl('cbc', BLOCK, AES_KEY_TYPES);
const cbcPadImpl = blockModeImpl('cbc-pad', BLOCK, AES_KEY_TYPES);
const ecbImpl = blockModeImpl('ecb', BLOCK, AES_KEY_TYPES);
const aesCmacImpl = cmacImpl(BLOCK, AES_KEY_TYPES);
const kwMechImpl = kwImpl(KW);
const kwpMechImpl = kwImpl(KWP);

export const MECHANISMS: MechanismDescriptor[] = [
  {
    name: 'AES-ECB',
    ckm: 0x1081, // CKM_AES_ECB
    aliases: ['CKM_AES_ECB'],
    family: 'aes',
    operations: ['encrypt', 'decrypt'],
    keyTypes: AES_KEY_TYPES,
    keyBits: AES_BITS,
    approved: true,
    // ECB leaks equal blocks; only payment functions (PIN blocks, key check values) need it.
    disabledByDefault: true,
    impl: ecbImpl,
    // SP 800-38A F.1.1 ECB-AES128.Encrypt
    selfTest: () =>
      katEncryptDecrypt(
        'AES-ECB',
        ecbImpl,
        SP800_38A_KEY,
        {},
        SP800_38A_PLAIN,
        `3ad77bb40d7a3660a89ecaf32466ef97 f5d3d58503b9699de785895a96fdbaaf
         43b1cd7f598ece23881b00e3ed030688 7b0c785e27e8ad3f8223207104725dd4`,
      ),
  },
  {
    name: 'AES-CBC',
    ckm: 0x1082, // CKM_AES_CBC
    aliases: ['CKM_AES_CBC'],
    family: 'aes',
    operations: ['encrypt', 'decrypt'],
    keyTypes: AES_KEY_TYPES,
    keyBits: AES_BITS,
    approved: true,
    impl: cbcImpl,
    // SP 800-38A F.2.1 CBC-AES128.Encrypt
    selfTest: () =>
      katEncryptDecrypt(
        'AES-CBC',
        cbcImpl,
        SP800_38A_KEY,
        { iv: hex('000102030405060708090a0b0c0d0e0f') },
        SP800_38A_PLAIN,
        `7649abac8119b246cee98e9b12e9197d 5086cb9b507219ee95db113a917678b2
         73bed6b8e3c1743b7116e69e22229516 3ff1caa1681fac09120eca307586e1a7`,
      ),
  },
  {
    name: 'AES-CBC-PAD',
    ckm: 0x1085, // CKM_AES_CBC_PAD
    aliases: ['CKM_AES_CBC_PAD'],
    family: 'aes',
    // No wrap/unwrap: a padding check on unwrap is an oracle (attacks.md B-05, A-20).
    operations: ['encrypt', 'decrypt'],
    keyTypes: AES_KEY_TYPES,
    keyBits: AES_BITS,
    approved: true,
    impl: cbcPadImpl,
    // Wycheproof aes_cbc_pkcs5_test.json tcId 2 (a 16-byte message gains a whole padding block)
    selfTest: () =>
      katEncryptDecrypt(
        'AES-CBC-PAD',
        cbcPadImpl,
        'e09eaa5a3f5e56d279d5e7a03373f6ea',
        { iv: hex('c9ee3cd746bf208c65ca9e72a266d54f') },
        'ef4eab37181f98423e53e947e7050fd0',
        'd1fa697f3e2e04d64f1a0da203813ca5bc226a0b1d42287b2a5b994a66eaf14a',
      ),
  },
  {
    name: 'AES-CTR',
    ckm: 0x1086, // CKM_AES_CTR
    aliases: ['CKM_AES_CTR'],
    family: 'aes',
    operations: ['encrypt', 'decrypt'],
    keyTypes: AES_KEY_TYPES,
    keyBits: AES_BITS,
    approved: true,
    impl: ctrImpl,
    // SP 800-38A F.5.1 CTR-AES128.Encrypt
    selfTest: () =>
      katEncryptDecrypt(
        'AES-CTR',
        ctrImpl,
        SP800_38A_KEY,
        { iv: hex('f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff') },
        SP800_38A_PLAIN,
        `874d6191b620e3261bef6864990db6ce 9806f66b7970fdff8617187bb9fffdff
         5ae4df3edbd5d35e5b4f09020db03eab 1e031dda2fbe03d1792170a0f3009cee`,
      ),
  },
  {
    name: 'AES-GCM',
    ckm: 0x1087, // CKM_AES_GCM
    aliases: ['CKM_AES_GCM'],
    family: 'aes',
    operations: ['encrypt', 'decrypt', 'wrap', 'unwrap'],
    keyTypes: AES_KEY_TYPES,
    keyBits: AES_BITS,
    approved: true,
    impl: gcmImpl,
    // McGrew & Viega, "The Galois/Counter Mode of Operation", Test Case 4 (AES-128, 60-byte P, 20-byte A).
    async selfTest() {
      const key = aesKey('feffe9928665731c6d6a8f9467308308');
      const ko = keyObjectFor(key, AES_KEY_TYPES);
      const iv = hex('cafebabefacedbaddecaf888');
      const aad = hex('feedfacedeadbeeffeedfacedeadbeefabaddad2');
      const p = hex(`d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72
                     1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39`);
      const ct = hex(`42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e
                      21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091
                      5bc94fbc3221a5db94fae95ae7121a47`);
      try {
        expectKat('AES-GCM', gcmSeal(key, ko, iv, p, aad, 16), ct);
        expectKat('AES-GCM', await gcmDecrypt(key, ct, { iv, aad }), p);
        const bad = Buffer.from(ct);
        bad[0] ^= 1;
        const refused = await gcmDecrypt(key, bad, { iv, aad }).then(
          () => false,
          () => true,
        );
        expectKat('AES-GCM', refused, true);
      } finally {
        key.secret?.destroy();
      }
    },
  },
  {
    name: 'AES-CMAC',
    ckm: 0x108a, // CKM_AES_CMAC
    aliases: ['CKM_AES_CMAC'],
    family: 'aes',
    operations: ['sign', 'verify'],
    keyTypes: AES_KEY_TYPES,
    keyBits: AES_BITS,
    usage: { sign: 'sign', verify: 'verify' },
    approved: true,
    impl: aesCmacImpl,
    // RFC 4493 §4 Example 2 (= SP 800-38B D.1 Example 2)
    async selfTest() {
      const key = aesKey(SP800_38A_KEY);
      try {
        const m = hex('6bc1bee22e409f96e93d7e117393172a');
        const t = hex('070a16b46b4d4144f79bdd9dd04a287c');
        expectKat('AES-CMAC', await required(aesCmacImpl.sign, 'AES-CMAC')(key, m, {}), t);
        expectKat('AES-CMAC', await required(aesCmacImpl.verify, 'AES-CMAC')(key, m, t, {}), true);
      } finally {
        key.secret?.destroy();
      }
    },
  },
  {
    name: 'AES-KW',
    ckm: 0x2109, // CKM_AES_KEY_WRAP
    aliases: ['CKM_AES_KEY_WRAP', 'AES-KEY-WRAP'],
    family: 'aes',
    operations: ['encrypt', 'decrypt', 'wrap', 'unwrap'],
    keyTypes: AES_KEY_TYPES,
    keyBits: AES_BITS,
    approved: true,
    impl: kwMechImpl,
    // RFC 3394 §4.1: 128 bits of key data with a 128-bit KEK
    selfTest: () =>
      katEncryptDecrypt(
        'AES-KW',
        kwMechImpl,
        '000102030405060708090A0B0C0D0E0F',
        {},
        '00112233445566778899AABBCCDDEEFF',
        '1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5',
      ),
  },
  {
    name: 'AES-KWP',
    ckm: 0x210b, // CKM_AES_KEY_WRAP_KWP
    aliases: ['CKM_AES_KEY_WRAP_KWP'],
    family: 'aes',
    operations: ['encrypt', 'decrypt', 'wrap', 'unwrap'],
    keyTypes: AES_KEY_TYPES,
    keyBits: AES_BITS,
    approved: true,
    impl: kwpMechImpl,
    // RFC 5649 §6: 20 octets of key data with a 192-bit KEK
    selfTest: () =>
      katEncryptDecrypt(
        'AES-KWP',
        kwpMechImpl,
        '5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8',
        {},
        'c37b7e6492584340bed12207808941155068f738',
        '138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a',
      ),
  },
];
