// The PKCS#11 attributes of an X.509 certificate object that are copies of parts of its DER
// (CKA_SUBJECT, CKA_ISSUER, CKA_SERIAL_NUMBER, PKCS#11 v3.0 §4.6.3), read from the DER the
// boundary keeps. Public data only; a certificate that does not parse is refused, not guessed at.

import { HsmError } from '../../boundary/api.js';

export interface CertificateFields {
  der: Uint8Array;
  /** DER Name of the subject (full TLV). */
  subject: Uint8Array;
  /** DER Name of the issuer (full TLV). */
  issuer: Uint8Array;
  /** DER INTEGER of the serial number (full TLV), as PKCS#11 stores CKA_SERIAL_NUMBER. */
  serialNumber: Uint8Array;
}

interface Tlv {
  tag: number;
  /** Offset of the tag byte. */
  at: number;
  /** Offset of the first content byte. */
  start: number;
  /** Offset just past the content. */
  end: number;
}

function invalid(): never {
  throw new HsmError('ATTRIBUTE_VALUE_INVALID', 'certificate is not DER X.509');
}

/** One TLV at `at` in `der`, bounded by `limit` (X.690 §8.1: single-byte tags, definite lengths). */
function tlv(der: Uint8Array, at: number, limit: number): Tlv {
  if (at + 2 > limit) return invalid();
  const tag = der[at]!;
  let len = der[at + 1]!;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 3 || start + n > limit) return invalid();
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[start + i]!;
    start += n;
  }
  const end = start + len;
  if (end > limit) return invalid();
  return { tag, at, start, end };
}

/** Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL, serialNumber, signature, issuer, validity, subject, … } … } (RFC 5280 §4.1). */
export function certificateFields(der: Uint8Array): CertificateFields {
  const cert = tlv(der, 0, der.length);
  if (cert.tag !== 0x30 || cert.end !== der.length) invalid();
  const tbs = tlv(der, cert.start, cert.end);
  if (tbs.tag !== 0x30) invalid();
  const fields: Tlv[] = [];
  let at = tbs.start;
  while (at < tbs.end && fields.length < 6) {
    const t = tlv(der, at, tbs.end);
    fields.push(t);
    at = t.end;
  }
  if (fields[0]?.tag === 0xa0) fields.shift();
  const [serial, sigAlg, issuer, validity, subject] = fields;
  if (serial?.tag !== 0x02 || sigAlg?.tag !== 0x30 || issuer?.tag !== 0x30 || validity?.tag !== 0x30 || subject?.tag !== 0x30) invalid();
  const whole = (t: Tlv): Uint8Array => der.slice(t.at, t.end);
  return { der: Uint8Array.from(der), serialNumber: whole(serial), issuer: whole(issuer), subject: whole(subject) };
}
