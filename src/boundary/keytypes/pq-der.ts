// The standard, self-describing encodings of post-quantum keys: PKCS#8 OneAsymmetricKey and
// SPKI carrying the NIST algorithm OIDs, so a stored or imported key names its own parameter
// set (a raw 32-byte ML-DSA seed or a 64-byte SLH-DSA key fits several sets). Strict DER only.

import { HsmError } from '../errors.js';

/** NIST CSOR OIDs (arc 2.16.840.1.101.3.4): ML-DSA 3.17–19 (RFC 9881), SLH-DSA 3.20–31 (RFC 9814), ML-KEM 4.1–3 (draft-ietf-lamps-kyber-certificates). */
export const PQ_OIDS = {
  'ML-DSA-44': '3.17',
  'ML-DSA-65': '3.18',
  'ML-DSA-87': '3.19',
  'SLH-DSA-SHA2-128s': '3.20',
  'SLH-DSA-SHA2-128f': '3.21',
  'SLH-DSA-SHA2-192s': '3.22',
  'SLH-DSA-SHA2-192f': '3.23',
  'SLH-DSA-SHA2-256s': '3.24',
  'SLH-DSA-SHA2-256f': '3.25',
  'SLH-DSA-SHAKE-128s': '3.26',
  'SLH-DSA-SHAKE-128f': '3.27',
  'SLH-DSA-SHAKE-192s': '3.28',
  'SLH-DSA-SHAKE-192f': '3.29',
  'SLH-DSA-SHAKE-256s': '3.30',
  'SLH-DSA-SHAKE-256f': '3.31',
  'ML-KEM-512': '4.1',
  'ML-KEM-768': '4.2',
  'ML-KEM-1024': '4.3',
} as const;

const NIST_ALG_ARC = [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04]; // 2.16.840.1.101.3.4

function oidBytes(parameterSet: string): Uint8Array {
  const tail = (PQ_OIDS as Record<string, string>)[parameterSet];
  if (!tail) throw new TypeError(`no OID for ${parameterSet}`);
  const [a, b] = tail.split('.').map(Number) as [number, number];
  return Uint8Array.from([0x06, 0x09, ...NIST_ALG_ARC, a, b]);
}

function setFromOid(oid: Uint8Array): string | undefined {
  if (oid.length !== 9 || NIST_ALG_ARC.some((v, i) => oid[i] !== v)) return undefined;
  const tail = `${oid[7]}.${oid[8]}`;
  for (const [set, t] of Object.entries(PQ_OIDS)) if (t === tail) return set;
  return undefined;
}

function derLength(n: number): number[] {
  if (n < 0x80) return [n];
  if (n < 0x100) return [0x81, n];
  if (n < 0x10000) return [0x82, n >> 8, n & 0xff];
  throw new RangeError('DER length too large');
}

function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const len = parts.reduce((s, p) => s + p.length, 0);
  const head = [tag, ...derLength(len)];
  const out = new Uint8Array(head.length + len);
  out.set(head, 0);
  let o = head.length;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Reads one DER TLV at `pos`; returns undefined on anything malformed or non-minimal. */
function readTlv(buf: Uint8Array, pos: number): { tag: number; value: Uint8Array; end: number } | undefined {
  if (pos + 2 > buf.length) return undefined;
  const tag = buf[pos] as number;
  let len = buf[pos + 1] as number;
  let p = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n < 1 || n > 2 || p + n > buf.length) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = (len << 8) | (buf[p + i] as number);
    p += n;
    if (len < 0x80 || (n === 2 && len < 0x100)) return undefined; // X.690 §10.1: minimal length
  }
  if (p + len > buf.length) return undefined;
  return { tag, value: buf.subarray(p, p + len), end: p + len };
}

/** PKCS#8 v1 OneAsymmetricKey (RFC 5958) around `inner`, the privateKey OCTET STRING's content. */
export function encodePkcs8(parameterSet: string, inner: Uint8Array): Uint8Array {
  return tlv(0x30, Uint8Array.from([0x02, 0x01, 0x00]), tlv(0x30, oidBytes(parameterSet)), tlv(0x04, inner));
}

/** The parameter set and privateKey content of a PKCS#8 PQ key, or undefined if `der` is not one. */
export function decodePkcs8(der: Uint8Array): { parameterSet: string; inner: Uint8Array } | undefined {
  const seq = readTlv(der, 0);
  if (seq?.tag !== 0x30 || seq.end !== der.length) return undefined;
  const v = seq.value;
  const ver = readTlv(v, 0);
  if (ver?.tag !== 0x02 || ver.value.length !== 1 || ver.value[0] !== 0) return undefined;
  const alg = readTlv(v, ver.end);
  if (alg?.tag !== 0x30) return undefined;
  const oid = readTlv(alg.value, 0);
  // RFC 9881 §2 / RFC 9814 §3: the parameters field is absent.
  if (oid?.tag !== 0x06 || oid.end !== alg.value.length) return undefined;
  const parameterSet = setFromOid(oid.value);
  const key = readTlv(v, alg.end);
  // Trailing attributes / public key ([0], [1]) are not accepted: nothing here reads them.
  if (!parameterSet || !key || key.tag !== 0x04 || key.end !== v.length) return undefined;
  return { parameterSet, inner: key.value };
}

/** SPKI (RFC 5280 §4.1.2.7) around a raw PQ public key. */
export function encodeSpki(parameterSet: string, raw: Uint8Array): Uint8Array {
  const bits = new Uint8Array(raw.length + 1);
  bits.set(raw, 1);
  return tlv(0x30, tlv(0x30, oidBytes(parameterSet)), tlv(0x03, bits));
}

export function decodeSpki(der: Uint8Array): { parameterSet: string; raw: Uint8Array } | undefined {
  const seq = readTlv(der, 0);
  if (seq?.tag !== 0x30 || seq.end !== der.length) return undefined;
  const alg = readTlv(seq.value, 0);
  if (alg?.tag !== 0x30) return undefined;
  const oid = readTlv(alg.value, 0);
  if (oid?.tag !== 0x06 || oid.end !== alg.value.length) return undefined;
  const parameterSet = setFromOid(oid.value);
  const bits = readTlv(seq.value, alg.end);
  if (!parameterSet || !bits || bits.tag !== 0x03 || bits.end !== seq.value.length || bits.value[0] !== 0) return undefined;
  return { parameterSet, raw: bits.value.subarray(1) };
}

/** Reads the CHOICE inside an ML-DSA/ML-KEM PKCS#8 privateKey: seed [0], expandedKey, or both (RFC 9881 §6). */
export function decodeSeedChoice(inner: Uint8Array): { seed?: Uint8Array; expanded?: Uint8Array } {
  const t = readTlv(inner, 0);
  if (!t || t.end !== inner.length) throw new HsmError('ATTRIBUTE_VALUE_INVALID', 'malformed private key');
  if (t.tag === 0x80) return { seed: t.value };
  if (t.tag === 0x04) return { expanded: t.value };
  if (t.tag === 0x30) {
    const s = readTlv(t.value, 0);
    const e = s ? readTlv(t.value, s.end) : undefined;
    if (s && e && s.tag === 0x04 && e.tag === 0x04 && e.end === t.value.length) return { seed: s.value, expanded: e.value };
  }
  throw new HsmError('ATTRIBUTE_VALUE_INVALID', 'malformed private key');
}

/** The seed form of the CHOICE: [0] IMPLICIT OCTET STRING. */
export function encodeSeedChoice(seed: Uint8Array): Uint8Array {
  return tlv(0x80, seed);
}
