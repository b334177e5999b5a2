// The elliptic curves Coffer supports, as data: which key type each belongs to, OpenSSL's name,
// its OID (for building SPKI/PKCS#8 from raw encodings), sizes and SP 800-57 strength. Also the
// two DER builders that turn raw points/scalars (PKCS#11 CKA_EC_POINT / CKA_VALUE) into SPKI/PKCS#8.

import { HsmError } from '../errors.js';
import type { Curve, KeyType } from '../types.js';

export interface CurveInfo {
  curve: Curve;
  keyType: Extract<KeyType, 'ec' | 'ec-edwards' | 'ec-montgomery'>;
  /** node's asymmetricKeyType for the key. */
  nodeType: 'ec' | 'ed25519' | 'ed448' | 'x25519' | 'x448';
  /** OpenSSL curve name (asymmetricKeyDetails.namedCurve) for Weierstrass curves. */
  namedCurve?: string;
  /** DER of the curve OID (id-ecPublicKey parameter) or of the algorithm OID (RFC 8410). */
  oid: readonly number[];
  /** Field-element / raw key length in bytes. */
  size: number;
  /** Key size in bits as reported in attributes. */
  bits: number;
  /** SP 800-57 Pt 1 Rev 5 Table 2 (ECC: f = order bits; 224 for the 448-bit curves). */
  strength: number;
}

/** id-ecPublicKey, RFC 5480 §2.1.1. */
const ID_EC_PUBLIC_KEY = [0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01] as const;

export const CURVES: Readonly<Record<Curve, CurveInfo>> = {
  // RFC 5480 §2.1.1.1 curve OIDs
  'P-256': { curve: 'P-256', keyType: 'ec', nodeType: 'ec', namedCurve: 'prime256v1', oid: [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07], size: 32, bits: 256, strength: 128 },
  'P-384': { curve: 'P-384', keyType: 'ec', nodeType: 'ec', namedCurve: 'secp384r1', oid: [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22], size: 48, bits: 384, strength: 192 },
  'P-521': { curve: 'P-521', keyType: 'ec', nodeType: 'ec', namedCurve: 'secp521r1', oid: [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23], size: 66, bits: 521, strength: 256 },
  // SEC 2 v2 §2.4.1: secp256k1 = 1.3.132.0.10
  secp256k1: { curve: 'secp256k1', keyType: 'ec', nodeType: 'ec', namedCurve: 'secp256k1', oid: [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a], size: 32, bits: 256, strength: 128 },
  // RFC 8410 §3: id-Ed25519 1.3.101.112, id-Ed448 1.3.101.113, id-X25519 1.3.101.110, id-X448 1.3.101.111
  Ed25519: { curve: 'Ed25519', keyType: 'ec-edwards', nodeType: 'ed25519', oid: [0x06, 0x03, 0x2b, 0x65, 0x70], size: 32, bits: 256, strength: 128 },
  Ed448: { curve: 'Ed448', keyType: 'ec-edwards', nodeType: 'ed448', oid: [0x06, 0x03, 0x2b, 0x65, 0x71], size: 57, bits: 448, strength: 224 },
  X25519: { curve: 'X25519', keyType: 'ec-montgomery', nodeType: 'x25519', oid: [0x06, 0x03, 0x2b, 0x65, 0x6e], size: 32, bits: 256, strength: 128 },
  X448: { curve: 'X448', keyType: 'ec-montgomery', nodeType: 'x448', oid: [0x06, 0x03, 0x2b, 0x65, 0x6f], size: 56, bits: 448, strength: 224 },
};

/** The curve of a parsed node KeyObject, or undefined (explicit parameters, unknown curve). */
export function curveOfNodeKey(nodeType: string | undefined, namedCurve: string | undefined): CurveInfo | undefined {
  for (const info of Object.values(CURVES)) {
    if (info.nodeType !== nodeType) continue;
    if (info.nodeType !== 'ec' || info.namedCurve === namedCurve) return info;
  }
  return undefined;
}

/** X.690 §8.1.3 definite-length TLV. */
function tlv(tag: number, content: readonly number[] | Uint8Array): number[] {
  const n = content.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return [tag, ...len, ...content];
}

function algorithmIdentifier(info: CurveInfo): number[] {
  // RFC 5480 §2.1.1: id-ecPublicKey with the named-curve OID; RFC 8410 §3: the OID alone, no parameters.
  return info.nodeType === 'ec' ? tlv(0x30, [...ID_EC_PUBLIC_KEY, ...info.oid]) : tlv(0x30, info.oid);
}

/**
 * Whether an SPKI names its curve by OID (RFC 5480 §2.1.1: namedCurve; RFC 8410 §3). OpenSSL maps
 * explicit parameters that match a named curve onto it, even with fields missing (Wycheproof
 * NoCofactor), so a named key is recognised by its AlgorithmIdentifier bytes, not by the parse.
 */
export function hasNamedAlgorithm(info: CurveInfo, spki: Uint8Array): boolean {
  if (spki[0] !== 0x30 || spki.length < 2) return false;
  const first = spki[1]!;
  // X.690 §8.1.3: short form, or long form with 1-2 length octets
  const headerLength = first < 0x80 ? 2 : first === 0x81 ? 3 : first === 0x82 ? 4 : 0;
  if (headerLength === 0) return false;
  const algId = algorithmIdentifier(info);
  if (spki.length < headerLength + algId.length) return false;
  for (let i = 0; i < algId.length; i++) if (spki[headerLength + i] !== algId[i]) return false;
  return true;
}

/**
 * SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) around a raw public key: an SEC 1 §2.3.3 point
 * (0x04‖X‖Y or 0x02/0x03‖X) for EC curves, the raw RFC 7748/8032 key for the others. Only
 * the length is checked here; whether the point is valid is OpenSSL's parse.
 */
export function spkiFromRaw(info: CurveInfo, raw: Uint8Array): Uint8Array {
  const okLength = info.nodeType === 'ec' ? raw.length === 1 + 2 * info.size || raw.length === 1 + info.size : raw.length === info.size;
  if (!okLength) throw new HsmError('DOMAIN_PARAMS_INVALID', `public key has the wrong length for ${info.curve}`);
  return Uint8Array.from(tlv(0x30, [...algorithmIdentifier(info), ...tlv(0x03, [0x00, ...raw])]));
}

/**
 * PKCS#8 PrivateKeyInfo (RFC 5208) around a raw private key: the SEC 1 scalar as an RFC 5915
 * ECPrivateKey (left-padded to the field size), or the RFC 8410 §7 CurvePrivateKey octets.
 * The result holds the secret: the caller wraps it in SecretBytes and zero-fills the array.
 */
export function pkcs8FromRaw(info: CurveInfo, raw: Uint8Array): Uint8Array {
  let scalar: Uint8Array = raw;
  if (info.nodeType === 'ec') {
    let start = 0;
    while (start < raw.length - 1 && raw[start] === 0 && raw.length - start > info.size) start++;
    if (raw.length - start > info.size) throw new HsmError('ATTRIBUTE_VALUE_INVALID', `private scalar too long for ${info.curve}`);
    scalar = new Uint8Array(info.size);
    scalar.set(raw.subarray(start), info.size - (raw.length - start));
    // RFC 5915 §3: ECPrivateKey { version 1, privateKey OCTET STRING }
    const ecPrivateKey = tlv(0x30, [0x02, 0x01, 0x01, ...tlv(0x04, scalar)]);
    scalar.fill(0);
    const der = Uint8Array.from(tlv(0x30, [0x02, 0x01, 0x00, ...algorithmIdentifier(info), ...tlv(0x04, ecPrivateKey)]));
    ecPrivateKey.fill(0);
    return der;
  }
  if (raw.length !== info.size) throw new HsmError('ATTRIBUTE_VALUE_INVALID', `private key has the wrong length for ${info.curve}`);
  // RFC 8410 §7: privateKey OCTET STRING containing CurvePrivateKey ::= OCTET STRING
  const inner = tlv(0x04, scalar);
  const der = Uint8Array.from(tlv(0x30, [0x02, 0x01, 0x00, ...algorithmIdentifier(info), ...tlv(0x04, inner)]));
  inner.fill(0);
  return der;
}
