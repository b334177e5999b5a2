// SubjectPublicKeyInfo for ML-DSA public keys, as AWS KMS GetPublicKey returns them: the boundary
// hands out the raw FIPS 204 public key, this wraps it (public data only, no secret passes here).
// RFC 9881 §4 / NIST CSOR: AlgorithmIdentifier with id-ml-dsa-44/65/87 and no parameters.

const OID_PREFIX = '06096086480165030403'; // tag 06, length 9, then 2.16.840.1.101.3.4.3 (8 bytes); the last arc follows
const LAST_ARC: Record<string, number> = { 'ML-DSA-44': 0x11, 'ML-DSA-65': 0x12, 'ML-DSA-87': 0x13 };

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  if (n < 0x100) return Buffer.from([0x81, n]);
  return Buffer.from([0x82, n >> 8, n & 0xff]);
}

function tlv(tag: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

export function mlDsaSpki(parameterSet: string, raw: Uint8Array): Uint8Array {
  const last = LAST_ARC[parameterSet];
  if (last === undefined) throw new RangeError(`not an ML-DSA parameter set: ${parameterSet.slice(0, 40)}`);
  const oid = Buffer.concat([Buffer.from(OID_PREFIX, 'hex'), Buffer.from([last])]);
  const algorithm = tlv(0x30, oid);
  // BIT STRING with 0 unused bits.
  const key = tlv(0x03, Buffer.concat([Buffer.from([0]), raw]));
  return new Uint8Array(tlv(0x30, Buffer.concat([algorithm, key])));
}
