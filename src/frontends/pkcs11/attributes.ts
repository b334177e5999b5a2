// Translation between PKCS#11 attributes and the boundary's Template / ObjectInfo. Policy is
// not here: the template goes to the boundary as given (templateFromEntries refuses duplicates)
// and the boundary decides. What PKCS#11 can read of an object is computed from ObjectInfo and
// the public key; secret material is never reachable, so CKA_VALUE of a key is always sensitive.

import { createPublicKey } from 'node:crypto';
import { type Curve, HsmError, type KeyType, mechanismInfo, type ObjectClass, type ObjectInfo, type Template, templateFromEntries } from '../../boundary/api.js';
import type { AttrValue, WireAttribute } from './attribute-wire.js';
import { type CertificateFields, certificateFields } from './certificate-fields.js';
import { CKA, CKO, UNAVAILABLE } from './constants.js';

export const CLASS_BY_CKO: ReadonlyMap<number, ObjectClass> = new Map([
  [CKO.DATA, 'data'],
  [CKO.CERTIFICATE, 'certificate'],
  [CKO.PUBLIC_KEY, 'public-key'],
  [CKO.PRIVATE_KEY, 'private-key'],
  [CKO.SECRET_KEY, 'secret-key'],
]);
const CKO_BY_CLASS = new Map([...CLASS_BY_CKO].map(([k, v]) => [v, k]));

// CKK_* (pkcs11t.h; ML-KEM/ML-DSA/SLH-DSA from PKCS#11 v3.2).
export const KEY_TYPE_BY_CKK: ReadonlyMap<number, KeyType> = new Map([
  [0x0, 'rsa'],
  [0x3, 'ec'],
  [0x10, 'generic-secret'],
  [0x14, 'des2'],
  [0x15, 'des3'],
  [0x1f, 'aes'],
  [0x40, 'ec-edwards'],
  [0x41, 'ec-montgomery'],
  [0x49, 'ml-kem'],
  [0x4a, 'ml-dsa'],
  [0x4b, 'slh-dsa'],
]);
const CKK_BY_KEY_TYPE = new Map([...KEY_TYPE_BY_CKK].map(([k, v]) => [v, k]));

/** CKA_PARAMETER_SET values, CKP_* (PKCS#11 v3.2 pkcs11t.h): the number means a set only together with the key type. */
const PARAMETER_SETS: Readonly<Record<string, readonly string[]>> = {
  'ml-dsa': ['ML-DSA-44', 'ML-DSA-65', 'ML-DSA-87'],
  'ml-kem': ['ML-KEM-512', 'ML-KEM-768', 'ML-KEM-1024'],
  'slh-dsa': [
    'SLH-DSA-SHA2-128s',
    'SLH-DSA-SHAKE-128s',
    'SLH-DSA-SHA2-128f',
    'SLH-DSA-SHAKE-128f',
    'SLH-DSA-SHA2-192s',
    'SLH-DSA-SHAKE-192s',
    'SLH-DSA-SHA2-192f',
    'SLH-DSA-SHAKE-192f',
    'SLH-DSA-SHA2-256s',
    'SLH-DSA-SHAKE-256s',
    'SLH-DSA-SHA2-256f',
    'SLH-DSA-SHAKE-256f',
  ],
};

/** CKA_EC_PARAMS as DER namedCurve OIDs (RFC 5480 §2.1.1.1, RFC 8410 §3). */
const CURVE_OIDS: readonly (readonly [Curve, string])[] = [
  ['P-256', '06082a8648ce3d030107'],
  ['P-384', '06052b81040022'],
  ['P-521', '06052b81040023'],
  ['secp256k1', '06052b8104000a'],
  ['Ed25519', '06032b6570'],
  ['Ed448', '06032b6571'],
  ['X25519', '06032b656e'],
  ['X448', '06032b656f'],
];
/** PKCS#11 v3.0 §2.3.10 also allows the curve name as a PrintableString (pkcs11-tool sends these for Edwards curves). */
const CURVE_NAMES: Record<string, Curve> = { edwards25519: 'Ed25519', edwards448: 'Ed448', curve25519: 'X25519', curve448: 'X448' };

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function curveOf(der: Uint8Array): Curve {
  const h = hex(der);
  const hit = CURVE_OIDS.find(([, oid]) => oid === h);
  if (hit) return hit[0];
  if (der[0] === 0x13 && der[1] === der.length - 2) {
    const name = CURVE_NAMES[Buffer.from(der.subarray(2)).toString('latin1')];
    if (name) return name;
  }
  throw new HsmError('ATTRIBUTE_VALUE_INVALID', 'EC_PARAMS names no supported curve');
}

const BOOLEANS: readonly (readonly [number, keyof Template & keyof ObjectInfo])[] = [
  [CKA.TOKEN, 'token'],
  [CKA.PRIVATE, 'private'],
  [CKA.TRUSTED, 'trusted'],
  [CKA.SENSITIVE, 'sensitive'],
  [CKA.ENCRYPT, 'encrypt'],
  [CKA.DECRYPT, 'decrypt'],
  [CKA.WRAP, 'wrap'],
  [CKA.UNWRAP, 'unwrap'],
  [CKA.SIGN, 'sign'],
  [CKA.VERIFY, 'verify'],
  [CKA.DERIVE, 'derive'],
  [CKA.EXTRACTABLE, 'extractable'],
  [CKA.LOCAL, 'local'],
  [CKA.NEVER_EXTRACTABLE, 'neverExtractable'],
  [CKA.ALWAYS_SENSITIVE, 'alwaysSensitive'],
  [CKA.MODIFIABLE, 'modifiable'],
  [CKA.COPYABLE, 'copyable'],
  [CKA.DESTROYABLE, 'destroyable'],
  [CKA.WRAP_WITH_TRUSTED, 'wrapWithTrusted'],
  [CKA.ENCAPSULATE, 'encapsulate'],
  [CKA.DECAPSULATE, 'decapsulate'],
];
const BOOLEAN_BY_CKA = new Map(BOOLEANS);

/** Capabilities Coffer does not have: accepted in a template only as false (PKCS#11 lets a token refuse, never ignore, a true). */
const ABSENT_CAPABILITIES: ReadonlySet<number> = new Set([CKA.SIGN_RECOVER, CKA.VERIFY_RECOVER, CKA.ALWAYS_AUTHENTICATE]);
/** Informational attributes a template may carry that the boundary does not keep (pkcs11-tool sends an empty SUBJECT). */
const IGNORED_IF_EMPTY: ReadonlySet<number> = new Set([CKA.SUBJECT]);
/** CKC_X_509 (pkcs11t.h): the one certificate type Coffer keeps. */
const CKC_X_509 = 0;

const bad = (what: string): never => {
  throw new HsmError('ATTRIBUTE_VALUE_INVALID', what);
};

function asBool(a: WireAttribute): boolean {
  const v = a.value;
  if (v?.kind === 'byte') return v.v !== 0;
  // Types outside p11-kit 0.24.1's byte class (DESTROYABLE, ENCAPSULATE …) arrive as raw C memory: one byte (§3.2).
  if (v?.kind === 'bytes' && v.v?.length === 1) return v.v[0] !== 0;
  return bad(`attribute 0x${a.type.toString(16)} must be a CK_BBOOL`);
}

function asUlong(a: WireAttribute): number {
  const v = a.value;
  if (v?.kind === 'ulong' && v.v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v.v);
  // Unlisted ulong types arrive as 8 little-endian bytes (x86-64 client memory, §3.2).
  if (v?.kind === 'bytes' && v.v?.length === 8) return Number(Buffer.from(v.v).readBigUInt64LE());
  return bad(`attribute 0x${a.type.toString(16)} must be a CK_ULONG`);
}

function asBytes(a: WireAttribute): Uint8Array {
  const v = a.value;
  if (v?.kind === 'bytes' || v?.kind === 'date') return v.v ?? new Uint8Array(0);
  return bad(`attribute 0x${a.type.toString(16)} must be bytes`);
}

function asDate(a: WireAttribute): string | undefined {
  const b = asBytes(a);
  if (b.length === 0) return undefined;
  const s = Buffer.from(b).toString('latin1');
  // CK_DATE is YYYYMMDD in ASCII (PKCS#11 v3.0 §3.3); the boundary keeps ISO YYYY-MM-DD.
  return /^\d{8}$/.test(s) ? `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}` : bad('a date is YYYYMMDD');
}

/** The big-endian CKA_PUBLIC_EXPONENT as a number (RSA exponents are small odd numbers). */
function asExponent(a: WireAttribute): number {
  const b = asBytes(a);
  if (b.length === 0 || b.length > 6) return bad('public exponent out of range');
  return b.reduce((n, x) => n * 256 + x, 0);
}

/** PKCS#11 template → boundary Template entries, in order; a duplicated attribute is refused by templateFromEntries. */
export function toTemplate(attrs: readonly WireAttribute[]): Template {
  const entries: [string, unknown][] = [];
  /** CKA_SUBJECT/ISSUER/SERIAL_NUMBER of a certificate: copies of its DER, checked against it below. */
  const certCopies: [number, Uint8Array][] = [];
  let certType = false;
  for (const a of attrs) {
    if (a.value === undefined) throw new HsmError('ATTRIBUTE_VALUE_INVALID', `attribute 0x${a.type.toString(16)} has no value`);
    const b = BOOLEAN_BY_CKA.get(a.type);
    if (b) {
      entries.push([b, asBool(a)]);
      continue;
    }
    if (ABSENT_CAPABILITIES.has(a.type)) {
      if (asBool(a)) throw new HsmError('TEMPLATE_INCONSISTENT', `attribute 0x${a.type.toString(16)} = true is not supported`);
      continue;
    }
    if (IGNORED_IF_EMPTY.has(a.type) && asBytes(a).length === 0) continue;
    switch (a.type) {
      case CKA.UNIQUE_ID:
        // PKCS#11 v3.0 §4.4.1: assigned by the token, never settable.
        throw new HsmError('ATTRIBUTE_READ_ONLY', 'CKA_UNIQUE_ID');
      case CKA.PARAMETER_SET:
        entries.push(['parameterSet', asUlong(a)]); // a CKP_* number until the key type is known (below)
        break;
      case CKA.CLASS:
        entries.push(['class', CLASS_BY_CKO.get(asUlong(a)) ?? bad('unknown object class')]);
        break;
      case CKA.KEY_TYPE:
        entries.push(['keyType', KEY_TYPE_BY_CKK.get(asUlong(a)) ?? bad('unsupported key type')]);
        break;
      case CKA.LABEL: {
        const label = new TextDecoder('utf-8', { fatal: true });
        try {
          entries.push(['label', label.decode(asBytes(a))]);
        } catch {
          bad('label is not UTF-8');
        }
        break;
      }
      case CKA.ID:
        entries.push(['id', asBytes(a)]);
        break;
      case CKA.CERTIFICATE_TYPE:
        if (asUlong(a) !== CKC_X_509) bad('only X.509 certificates (CKC_X_509)');
        certType = true;
        break;
      case CKA.SUBJECT:
      case CKA.ISSUER:
      case CKA.SERIAL_NUMBER:
        certCopies.push([a.type, asBytes(a)]);
        break;
      case CKA.VALUE:
        entries.push(['value', asBytes(a)]);
        break;
      case CKA.VALUE_LEN:
        entries.push(['valueLen', asUlong(a)]);
        break;
      case CKA.MODULUS_BITS:
        entries.push(['modulusBits', asUlong(a)]);
        break;
      case CKA.PUBLIC_EXPONENT:
        entries.push(['publicExponent', asExponent(a)]);
        break;
      case CKA.EC_PARAMS:
        entries.push(['curve', curveOf(asBytes(a))]);
        break;
      case CKA.START_DATE:
      case CKA.END_DATE: {
        const d = asDate(a);
        if (d) entries.push([a.type === CKA.START_DATE ? 'startDate' : 'endDate', d]);
        break;
      }
      case CKA.ALLOWED_MECHANISMS: {
        const v = a.value;
        if (v.kind !== 'mechs') bad('allowed mechanisms must be a mechanism array');
        const names = (v as { v: bigint[] }).v.map((m) => mechanismInfo(Number(m))?.name ?? bad(`mechanism 0x${m.toString(16)} is unknown`));
        entries.push(['allowedMechanisms', names]);
        break;
      }
      case CKA.WRAP_TEMPLATE:
      case CKA.UNWRAP_TEMPLATE:
      case CKA.DERIVE_TEMPLATE: {
        const v = a.value;
        if (v.kind !== 'attrs') throw new HsmError('ATTRIBUTE_VALUE_INVALID', 'a nested template must be an attribute array');
        const name = a.type === CKA.WRAP_TEMPLATE ? 'wrapTemplate' : a.type === CKA.UNWRAP_TEMPLATE ? 'unwrapTemplate' : 'deriveTemplate';
        entries.push([name, toTemplate((v as { v: WireAttribute[] }).v)]);
        break;
      }
      default:
        throw new HsmError('ATTRIBUTE_TYPE_INVALID', `attribute 0x${a.type.toString(16)}`);
    }
  }
  // CKA_VALUE of a certificate is its DER encoding, which the boundary names `certificate`.
  const ps = entries.find(([n]) => n === 'parameterSet');
  if (ps) {
    const kt = entries.find(([n]) => n === 'keyType')?.[1];
    const sets = typeof kt === 'string' ? PARAMETER_SETS[kt] : undefined;
    if (!sets) throw new HsmError('TEMPLATE_INCONSISTENT', 'CKA_PARAMETER_SET needs CKA_KEY_TYPE ML-DSA, ML-KEM or SLH-DSA in the same template');
    ps[1] = sets[(ps[1] as number) - 1] ?? bad('unknown CKA_PARAMETER_SET');
  }
  const cls = entries.find(([n]) => n === 'class')?.[1];
  if (cls === 'certificate') for (const e of entries) if (e[0] === 'value') e[0] = 'certificate';
  // Certificate attributes exist only beside CKA_CLASS = CKO_CERTIFICATE (alone, e.g. in a find
  // template, they are compared on read values instead). The copies must equal the DER's own fields.
  if ((certType || certCopies.length > 0) && cls !== 'certificate') throw new HsmError('ATTRIBUTE_TYPE_INVALID', 'certificate attribute outside a certificate');
  const der = entries.find(([n]) => n === 'certificate')?.[1];
  if (certCopies.length > 0 && der instanceof Uint8Array) {
    const fields = certificateFields(der);
    for (const [type, v] of certCopies) {
      const want = type === CKA.SUBJECT ? fields.subject : type === CKA.ISSUER ? fields.issuer : fields.serialNumber;
      if (Buffer.compare(Buffer.from(v), Buffer.from(want)) !== 0) throw new HsmError('TEMPLATE_INCONSISTENT', `attribute 0x${type.toString(16)} differs from the certificate`);
    }
  }
  return templateFromEntries(entries);
}

/** What reading one attribute gives: a value (with its C length), or why not (§4.4). */
export type ReadResult = { value: AttrValue; length: number } | 'invalid' | 'sensitive';

const KEY_CLASSES: ReadonlySet<ObjectClass> = new Set(['secret-key', 'private-key', 'public-key']);
const SECRET_BEARING: ReadonlySet<ObjectClass> = new Set(['secret-key', 'private-key']);

const byte = (b: boolean): ReadResult => ({ value: { kind: 'byte', v: b ? 1 : 0 }, length: 1 });
const ulongOf = (n: number | bigint): ReadResult => ({ value: { kind: 'ulong', v: BigInt(n) }, length: 8 });
const bytesOf = (b: Uint8Array): ReadResult => ({ value: { kind: 'bytes', v: b }, length: b.length });
const dateOf = (d: string | undefined): ReadResult => {
  const b = d ? Buffer.from(d.replaceAll('-', ''), 'latin1') : new Uint8Array(0);
  return { value: { kind: 'date', v: new Uint8Array(b) }, length: b.length };
};

/** DER length octets (X.690 §8.1.3). */
function derLength(n: number): number[] {
  if (n < 0x80) return [n];
  if (n < 0x100) return [0x81, n];
  return [0x82, n >> 8, n & 0xff];
}

const b64 = (s: string | undefined): Buffer => Buffer.from(s ?? '', 'base64url');

/** Public facts of an asymmetric key, parsed from its SPKI (public data, not secret). */
export interface PublicFacts {
  /** Absent for a certificate object. */
  spki?: Uint8Array;
  modulus?: Uint8Array;
  exponent?: Uint8Array;
  /** CKA_EC_POINT: DER OCTET STRING of the encoded point (PKCS#11 v3.0 §2.3.3). */
  ecPoint?: Uint8Array;
  /** A certificate object's DER and the fields PKCS#11 copies out of it. */
  certificate?: CertificateFields;
}

export function publicFacts(spki: Uint8Array): PublicFacts {
  const out: PublicFacts = { spki };
  let jwk: { kty?: string; n?: string; e?: string; x?: string; y?: string };
  try {
    jwk = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }).export({ format: 'jwk' });
  } catch {
    return out; // post-quantum keys are raw, not SPKI
  }
  if (jwk.kty === 'RSA') {
    out.modulus = new Uint8Array(b64(jwk.n));
    out.exponent = new Uint8Array(b64(jwk.e));
  } else if (jwk.kty === 'EC' || jwk.kty === 'OKP') {
    const point = jwk.kty === 'EC' ? Buffer.concat([Buffer.of(4), b64(jwk.x), b64(jwk.y)]) : b64(jwk.x); // SEC 1 §2.3.3 uncompressed; RFC 8410 raw
    out.ecPoint = new Uint8Array([0x04, ...derLength(point.length), ...point]);
  }
  return out;
}

/** Reads attribute `type` of an object; `pub` gives its public facts when it has any. */
export function readAttribute(type: number, o: ObjectInfo, pub: PublicFacts | undefined): ReadResult {
  const isKey = KEY_CLASSES.has(o.class);
  const b = BOOLEAN_BY_CKA.get(type);
  if (b) {
    const v = (o as unknown as Record<string, unknown>)[b];
    return typeof v === 'boolean' && (isKey || ['token', 'private', 'modifiable', 'copyable', 'destroyable'].includes(b)) ? byte(v) : 'invalid';
  }
  switch (type) {
    case CKA.CLASS:
      return ulongOf(CKO_BY_CLASS.get(o.class) ?? 0);
    case CKA.UNIQUE_ID:
      return bytesOf(new Uint8Array(Buffer.from(o.uid, 'utf8')));
    case CKA.LABEL:
      return bytesOf(new Uint8Array(Buffer.from(o.label, 'utf8')));
    case CKA.ID:
      return bytesOf(Uint8Array.from(o.id));
    case CKA.KEY_TYPE:
      return isKey && o.keyType ? ulongOf(CKK_BY_KEY_TYPE.get(o.keyType) ?? UNAVAILABLE) : 'invalid';
    case CKA.SUBJECT:
      if (o.class === 'certificate') return pub?.certificate ? bytesOf(pub.certificate.subject) : 'invalid';
      return isKey ? bytesOf(new Uint8Array(0)) : 'invalid';
    case CKA.ISSUER:
      return o.class === 'certificate' && pub?.certificate ? bytesOf(pub.certificate.issuer) : 'invalid';
    case CKA.SERIAL_NUMBER:
      return o.class === 'certificate' && pub?.certificate ? bytesOf(pub.certificate.serialNumber) : 'invalid';
    case CKA.CERTIFICATE_TYPE:
      return o.class === 'certificate' ? ulongOf(CKC_X_509) : 'invalid';
    case CKA.CERTIFICATE_CATEGORY:
      return o.class === 'certificate' ? ulongOf(0) : 'invalid'; // CK_CERTIFICATE_CATEGORY_UNSPECIFIED
    case CKA.START_DATE:
      return isKey ? dateOf(o.startDate) : 'invalid';
    case CKA.END_DATE:
      return isKey ? dateOf(o.endDate) : 'invalid';
    case CKA.SIGN_RECOVER:
    case CKA.VERIFY_RECOVER:
      return isKey ? byte(false) : 'invalid';
    case CKA.ALWAYS_AUTHENTICATE:
      return o.class === 'private-key' ? byte(false) : 'invalid';
    case CKA.PARAMETER_SET: {
      const i = o.keyType && o.parameterSet ? (PARAMETER_SETS[o.keyType]?.findIndex((x) => x.toUpperCase() === o.parameterSet?.toUpperCase()) ?? -1) : -1;
      return isKey && i >= 0 ? ulongOf(i + 1) : 'invalid';
    }
    case CKA.KEY_GEN_MECHANISM:
      return isKey ? ulongOf(UNAVAILABLE) : 'invalid';
    case CKA.ALLOWED_MECHANISMS: {
      if (!isKey) return 'invalid';
      const ckms = (o.allowedMechanisms ?? []).map((n) => mechanismInfo(n)?.ckm).filter((c): c is number => c !== undefined);
      return { value: { kind: 'mechs', v: ckms.map(BigInt) }, length: 8 * ckms.length };
    }
    case CKA.VALUE_LEN:
      return o.class === 'secret-key' && o.valueLen !== undefined ? ulongOf(o.valueLen) : 'invalid';
    case CKA.MODULUS_BITS:
      return o.keyType === 'rsa' && o.modulusBits !== undefined ? ulongOf(o.modulusBits) : 'invalid';
    case CKA.MODULUS:
      return pub?.modulus ? bytesOf(pub.modulus) : 'invalid';
    case CKA.PUBLIC_EXPONENT:
      return pub?.exponent ? bytesOf(pub.exponent) : 'invalid';
    case CKA.EC_PARAMS: {
      const oid = CURVE_OIDS.find(([c]) => c === o.curve)?.[1];
      return oid ? bytesOf(new Uint8Array(Buffer.from(oid, 'hex'))) : 'invalid';
    }
    case CKA.EC_POINT:
      return o.class === 'public-key' && pub?.ecPoint ? bytesOf(pub.ecPoint) : 'invalid';
    case CKA.PUBLIC_KEY_INFO:
      return pub?.spki && (o.class === 'public-key' || o.class === 'private-key') ? bytesOf(pub.spki) : 'invalid';
    case CKA.VALUE:
      // Key values never leave in the clear; a PQ public key's CKA_VALUE is its raw encoding (PKCS#11 v3.2).
      if (SECRET_BEARING.has(o.class) || o.class === 'data') return 'sensitive';
      if (o.class === 'public-key' && pub?.spki && !pub.modulus && !pub.ecPoint) return bytesOf(pub.spki);
      if (o.class === 'certificate' && pub?.certificate) return bytesOf(pub.certificate.der);
      return 'invalid';
    case CKA.PRIVATE_EXPONENT:
    case CKA.PRIME_1:
    case CKA.PRIME_2:
    case CKA.EXPONENT_1:
    case CKA.EXPONENT_2:
    case CKA.COEFFICIENT:
      return o.class === 'private-key' && o.keyType === 'rsa' ? 'sensitive' : 'invalid';
    default:
      return 'invalid';
  }
}
