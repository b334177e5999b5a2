// CK_MECHANISM on the wire (reference/p11-kit-rpc.md §3.4, §7, §9). The layout depends on the
// client generation: 0.24.x (protocol 0) knows two parameter layouts, 0.25.0–0.25.5 (1) many
// more, and 0.25.6+ (2) drops the NULL marker of parameterless mechanisms and adds a
// has-parameter byte, chosen by the version byte the client sent.

import { ProtocolError, type Reader } from './wire.js';

export type MechParam =
  | { kind: 'none' }
  | { kind: 'pss'; hash: bigint; mgf: bigint; sLen: bigint }
  | { kind: 'oaep'; hash: bigint; mgf: bigint; source: bigint; sourceData: Uint8Array | null }
  | { kind: 'iv'; iv: Uint8Array | null }
  | { kind: 'ctr'; counterBits: bigint; cb: Uint8Array | null }
  | { kind: 'gcm'; iv: Uint8Array | null; ivBits: bigint; aad: Uint8Array | null; tagBits: bigint }
  | { kind: 'ecdh'; kdf: bigint; sharedData: Uint8Array | null; publicData: Uint8Array | null }
  | { kind: 'ulong'; v: bigint }
  | { kind: 'raw'; bytes: Uint8Array };

export interface WireMechanism {
  type: number;
  param: MechParam;
}

type Layout = MechParam['kind'];

// p11-kit 0.25+ rpc-message.c p11_rpc_mechanism_serializers (§7 last paragraph).
const LAYOUTS = new Map<number, Layout>([
  [0x0d, 'pss'], // RSA_PKCS_PSS
  [0x0e, 'pss'], // SHA1_RSA_PKCS_PSS
  [0x43, 'pss'], // SHA256_RSA_PKCS_PSS
  [0x44, 'pss'], // SHA384_RSA_PKCS_PSS
  [0x45, 'pss'], // SHA512_RSA_PKCS_PSS
  [0x47, 'pss'], // SHA224_RSA_PKCS_PSS
  [0x09, 'oaep'], // RSA_PKCS_OAEP
  [0x1050, 'ecdh'], // ECDH1_DERIVE
  [0x1082, 'iv'], // AES_CBC
  [0x1085, 'iv'], // AES_CBC_PAD
  [0x1086, 'ctr'], // AES_CTR
  [0x1087, 'gcm'], // AES_GCM
  [0x133, 'iv'], // DES3_CBC
  [0x136, 'iv'], // DES3_CBC_PAD
  [0x222, 'ulong'], // SHA_1_HMAC_GENERAL
  [0x252, 'ulong'], // SHA256_HMAC_GENERAL
  [0x257, 'ulong'], // SHA224_HMAC_GENERAL
  [0x262, 'ulong'], // SHA384_HMAC_GENERAL
  [0x272, 'ulong'], // SHA512_HMAC_GENERAL
  [0x108b, 'ulong'], // AES_CMAC_GENERAL
]);

/** Protocol 0 carries only PSS and OAEP parameters (§3.4). */
const V0_LAYOUTS = new Map<number, Layout>([
  [0x0d, 'pss'],
  [0x09, 'oaep'],
]);

// p11-kit's mechanism_has_no_parameters list (§7, plus the 0.26 additions our boundary serves):
// from protocol 2 on these are sent as the bare type.
const NO_PARAMS = new Set([
  0x0, 0x1, 0x2, 0x3, 0x4, 0x5, 0x6, 0x7, 0x8, 0xa, 0xb, 0xc, 0x10, 0x11, 0x12, 0x20, 0x30, 0x40, 0x41, 0x42, 0x46, 0x100, 0x101, 0x103, 0x110, 0x111, 0x120, 0x121, 0x123, 0x130, 0x131,
  0x132, 0x134, 0x140, 0x141, 0x143, 0x200, 0x201, 0x210, 0x211, 0x220, 0x221, 0x230, 0x231, 0x240, 0x241, 0x250, 0x251, 0x255, 0x256, 0x260, 0x261, 0x270, 0x271, 0x300, 0x301, 0x303, 0x310,
  0x311, 0x313, 0x320, 0x321, 0x330, 0x331, 0x333, 0x340, 0x341, 0x343, 0x350, 0x370, 0x374, 0x380, 0x381, 0x400, 0x1000, 0x1008, 0x1010, 0x1020, 0x1030, 0x1036, 0x1040, 0x1041, 0x1042,
  0x1043, 0x1044, 0x1045, 0x1046, 0x1060, 0x1065, 0x1070, 0x1080, 0x1081, 0x1083, 0x108a, 0x2000, 0x2001, 0x2002,
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
    case 'none':
    case 'raw': {
      const b = r.byteArray();
      return b === null ? { kind: 'none' } : { kind: 'raw', bytes: b };
    }
  }
}

/** Decodes an `M` value; `clientVersion` is the byte the client sent (§9: 0.25.6+ changed the layout unconditionally). */
export function readMechanism(r: Reader, clientVersion: number): WireMechanism {
  const type = r.u32();
  if (clientVersion >= 2) {
    if (NO_PARAMS.has(type)) return { type, param: { kind: 'none' } };
    const has = r.u8();
    if (has === 0) return { type, param: { kind: 'none' } };
    if (has !== 1) throw new ProtocolError('BAD_VALUE', 'mechanism has-parameter byte');
    return { type, param: readLayout(r, LAYOUTS.get(type) ?? 'raw') };
  }
  const layouts = clientVersion >= 1 ? LAYOUTS : V0_LAYOUTS;
  return { type, param: readLayout(r, layouts.get(type) ?? 'raw') };
}
