// CK_MECHANISM on the wire (reference/p11-kit-rpc.md §3.4, §7, §9). The layout depends on the
// client generation: 0.24.x (protocol 0) knows two parameter layouts, 0.25.0–0.25.5 (1) many
// more, and 0.25.6+ (2) drops the NULL marker of parameterless mechanisms and adds a
// has-parameter byte, chosen by the version byte the client sent.

import { ProtocolError, type Reader, type Writer } from './wire.js';

export type MechParam =
  | { kind: 'none' }
  | { kind: 'pss'; hash: bigint; mgf: bigint; sLen: bigint }
  | { kind: 'oaep'; hash: bigint; mgf: bigint; source: bigint; sourceData: Uint8Array | null }
  | { kind: 'iv'; iv: Uint8Array | null }
  | { kind: 'ctr'; counterBits: bigint; cb: Uint8Array | null }
  | { kind: 'gcm'; iv: Uint8Array | null; ivBits: bigint; aad: Uint8Array | null; tagBits: bigint }
  | { kind: 'ecdh'; kdf: bigint; sharedData: Uint8Array | null; publicData: Uint8Array | null }
  | { kind: 'ulong'; v: bigint }
  | { kind: 'dh'; publicValue: Uint8Array | null }
  | { kind: 'ibm-handle'; v: bigint }
  | { kind: 'ibm-btc-derive'; type: bigint; childKeyIndex: bigint; chainCode: Uint8Array | null; version: bigint }
  | { kind: 'ibm-kyber'; version: bigint; mode: bigint; kdf: bigint; prepend: number; cipher: Uint8Array | null; sharedData: Uint8Array | null; secret: bigint }
  | { kind: 'raw'; bytes: Uint8Array };

export interface WireMechanism {
  type: number;
  param: MechParam;
}

/** p11-kit 0.25.3+ sends a NULL CK_MECHANISM_PTR (cancel the operation, PKCS#11 v3.0 §5.2) as this type alone. */
export const NULL_MECHANISM = 0xffffffff;

export type Layout = Exclude<MechParam['kind'], 'none' | 'raw'>;

// p11-kit rpc-message.c p11_rpc_mechanism_serializers, as of 0.25.0 (protocol 1: 40 rows) and
// 0.25.6 (protocol 2 adds the three IBM rows). Every other mechanism's parameter is a byte array
// of the client's raw memory. [CKM, layout, first client generation that sends it]
export const SERIALIZERS: readonly (readonly [number, Layout, number])[] = [
  [0x80010031, 'ibm-handle', 2], // IBM_ECDSA_OTHER: u64 submechanism
  [0x80070001, 'ibm-btc-derive', 2], // IBM_BTC_DERIVE
  [0x80010024, 'ibm-kyber', 2], // IBM_KYBER
  [0x0d, 'pss', 0], // RSA_PKCS_PSS
  [0x0e, 'pss', 1], // SHA1_RSA_PKCS_PSS
  [0x47, 'pss', 1], // SHA224_RSA_PKCS_PSS
  [0x43, 'pss', 1], // SHA256_RSA_PKCS_PSS
  [0x44, 'pss', 1], // SHA384_RSA_PKCS_PSS
  [0x45, 'pss', 1], // SHA512_RSA_PKCS_PSS
  [0x09, 'oaep', 0], // RSA_PKCS_OAEP
  [0x1050, 'ecdh', 1], // ECDH1_DERIVE
  [0x80020004, 'ibm-handle', 1], // IBM_ATTRIBUTEBOUND_WRAP: u64 hSignVerifyKey
  [0x8001001b, 'ecdh', 1], // IBM_EC_X25519
  [0x8001001e, 'ecdh', 1], // IBM_EC_X448
  [0x1082, 'iv', 1], // AES_CBC
  [0x1085, 'iv', 1], // AES_CBC_PAD
  [0x2104, 'iv', 1], // AES_OFB
  [0x2108, 'iv', 1], // AES_CFB1
  [0x2106, 'iv', 1], // AES_CFB8
  [0x2105, 'iv', 1], // AES_CFB64
  [0x2107, 'iv', 1], // AES_CFB128
  [0x1089, 'iv', 1], // AES_CTS
  [0x1086, 'ctr', 1], // AES_CTR
  [0x1087, 'gcm', 1], // AES_GCM
  [0x122, 'iv', 1], // DES_CBC
  [0x125, 'iv', 1], // DES_CBC_PAD
  [0x133, 'iv', 1], // DES3_CBC
  [0x136, 'iv', 1], // DES3_CBC_PAD
  [0x153, 'iv', 1], // DES_CFB8
  [0x152, 'iv', 1], // DES_CFB64
  [0x150, 'iv', 1], // DES_OFB64
  [0x222, 'ulong', 1], // SHA_1_HMAC_GENERAL
  [0x257, 'ulong', 1], // SHA224_HMAC_GENERAL
  [0x252, 'ulong', 1], // SHA256_HMAC_GENERAL
  [0x262, 'ulong', 1], // SHA384_HMAC_GENERAL
  [0x272, 'ulong', 1], // SHA512_HMAC_GENERAL
  [0x4a, 'ulong', 1], // SHA512_224_HMAC_GENERAL
  [0x4e, 'ulong', 1], // SHA512_256_HMAC_GENERAL
  [0x1084, 'ulong', 1], // AES_MAC_GENERAL
  [0x108b, 'ulong', 1], // AES_CMAC_GENERAL
  [0x135, 'ulong', 1], // DES3_MAC_GENERAL
  [0x137, 'ulong', 1], // DES3_CMAC_GENERAL
  [0x21, 'dh', 1], // DH_PKCS_DERIVE: byte array public value
];

/** The layouts a client of generation `v` uses; protocol 0 (0.24.x) knows only PSS and OAEP (§3.4). */
function layoutFor(type: number, clientVersion: number): Layout | undefined {
  const row = SERIALIZERS.find(([t]) => t === type);
  return row && row[2] <= Math.min(clientVersion, 2) ? row[1] : undefined;
}

// p11-kit rpc-message.c mechanism_has_no_parameters (identical from 0.25.0 to 0.26.4, 124 types):
// from protocol 2 on these are sent as the bare type, every other type with a has-parameter byte.
// It must match the client's list exactly, or the bytes after the type are misread.
export const NO_PARAMS: ReadonlySet<number> = new Set([
  0x0, 0xa, 0x1, 0x2, 0x3, 0xb, 0x4, 0x5, 0x6, 0x46, 0x40, 0x41, 0x42, 0x7, 0x8, 0xc, 0x10, 0x2000, 0x11, 0x12, 0x1020, 0x1040, 0x1041, 0x1042, 0x1043, 0x1044, 0x1045, 0x1046, 0x20,
  0x2001, 0x30, 0x2002, 0x1010, 0x350, 0x100, 0x110, 0x111, 0x330, 0x1080, 0x1081, 0x1083, 0x108a, 0x120, 0x130, 0x131, 0x140, 0x300, 0x310, 0x320, 0x340, 0x370, 0x374, 0x1000, 0x1030,
  0x1060, 0x101, 0x121, 0x132, 0x141, 0x301, 0x311, 0x321, 0x331, 0x341, 0x103, 0x123, 0x134, 0x138, 0x143, 0x303, 0x313, 0x333, 0x343, 0x380, 0x381, 0x1008, 0x1036, 0x1065, 0x200, 0x201,
  0x210, 0x211, 0x220, 0x221, 0x392, 0x255, 0x256, 0x396, 0x250, 0x251, 0x393, 0x260, 0x261, 0x394, 0x270, 0x271, 0x395, 0x50, 0x51, 0x53, 0x48, 0x49, 0x4b, 0x4c, 0x4d, 0x4f, 0x1070, 0x230,
  0x231, 0x240, 0x241, 0x400, 0x80010001, 0x80010002, 0x80010003, 0x80010004, 0x80010007, 0x80010023, 0x80010025, 0x80010026, 0x80010027, 0x80010028, 0x8001001c, 0x8001001f,
]);

/** Whether a p11-kit client of generation `clientVersion` can put this mechanism on the wire at all (rpc-client.c refuses others locally). */
export function clientCanSend(type: number, clientVersion: number): boolean {
  if (clientVersion === 0) return type === 0x0d || type === 0x09 || V0_NO_PARAMS.has(type);
  return NO_PARAMS.has(type) || layoutFor(type, clientVersion) !== undefined;
}

/** p11-kit 0.24.1's no-parameter list (reference §7): all in NO_PARAMS except the ones added later. */
const V0_NO_PARAMS: ReadonlySet<number> = new Set([
  0x0, 0x1, 0x2, 0x3, 0x4, 0x5, 0x6, 0x7, 0x8, 0xa, 0xb, 0xc, 0x10, 0x11, 0x12, 0x20, 0x30, 0x40, 0x41, 0x42, 0x100, 0x101, 0x103, 0x110, 0x111, 0x120, 0x121, 0x123, 0x130, 0x131, 0x132,
  0x134, 0x140, 0x141, 0x143, 0x200, 0x201, 0x210, 0x211, 0x220, 0x221, 0x230, 0x231, 0x240, 0x241, 0x250, 0x251, 0x260, 0x261, 0x270, 0x271, 0x300, 0x301, 0x303, 0x310, 0x311, 0x313,
  0x320, 0x321, 0x330, 0x331, 0x333, 0x340, 0x341, 0x343, 0x350, 0x370, 0x374, 0x380, 0x381, 0x400, 0x1000, 0x1008, 0x1010, 0x1020, 0x1030, 0x1036, 0x1040, 0x1041, 0x1042, 0x1060, 0x1065,
  0x1070, 0x1080, 0x1081, 0x1083, 0x2000, 0x2001, 0x2002,
]);

function readLayout(r: Reader, layout: Layout): MechParam {
  switch (layout) {
    case 'pss':
      return { kind: 'pss', hash: r.u64(), mgf: r.u64(), sLen: r.u64() };
    case 'oaep':
      return { kind: 'oaep', hash: r.u64(), mgf: r.u64(), source: r.u64(), sourceData: r.byteArray() };
    case 'iv':
      return { kind: 'iv', iv: r.byteArray() };
    case 'ctr':
      return { kind: 'ctr', counterBits: r.u64(), cb: r.byteArray() };
    case 'gcm':
      return { kind: 'gcm', iv: r.byteArray(), ivBits: r.u64(), aad: r.byteArray(), tagBits: r.u64() };
    case 'ecdh':
      return { kind: 'ecdh', kdf: r.u64(), sharedData: r.byteArray(), publicData: r.byteArray() };
    case 'ulong':
      return { kind: 'ulong', v: r.u64() };
    case 'dh':
      return { kind: 'dh', publicValue: r.byteArray() };
    case 'ibm-handle':
      return { kind: 'ibm-handle', v: r.u64() };
    case 'ibm-btc-derive':
      return { kind: 'ibm-btc-derive', type: r.u64(), childKeyIndex: r.u64(), chainCode: r.byteArray(), version: r.u64() };
    case 'ibm-kyber':
      return { kind: 'ibm-kyber', version: r.u64(), mode: r.u64(), kdf: r.u64(), prepend: r.u8(), cipher: r.byteArray(), sharedData: r.byteArray(), secret: r.u64() };
  }
}

function readRaw(r: Reader): MechParam {
  const b = r.byteArray();
  return b === null ? { kind: 'none' } : { kind: 'raw', bytes: b };
}

/**
 * Decodes an `M` value; `clientVersion` is the byte the client sent (§9: 0.25.6+ changed the
 * layout whatever version was negotiated). p11-kit rpc-message.c p11_rpc_buffer_get_mechanism.
 */
export function readMechanism(r: Reader, clientVersion: number): WireMechanism {
  const type = r.u32();
  if (clientVersion >= 1 && type === NULL_MECHANISM) return { type, param: { kind: 'none' } };
  if (clientVersion >= 2) {
    if (NO_PARAMS.has(type)) return { type, param: { kind: 'none' } };
    const has = r.u8();
    if (has === 0) return { type, param: { kind: 'none' } };
    if (has !== 1) throw new ProtocolError('BAD_VALUE', 'mechanism has-parameter byte');
  }
  const layout = layoutFor(type, clientVersion);
  return { type, param: layout ? readLayout(r, layout) : readRaw(r) };
}

/**
 * The `P` of C_DeriveKey2's reply (p11-kit rpc-message.c p11_rpc_buffer_add_mech_param_update):
 * nothing for a no-parameter mechanism, else a has-parameter byte. Only the IBM BTC/Kyber
 * mechanisms write anything back into their parameter, and Coffer serves neither.
 */
export function writeParamUpdate(w: Writer, m: WireMechanism): void {
  if (NO_PARAMS.has(m.type)) return;
  w.u8(m.param.kind === 'none' ? 0 : 1);
}
