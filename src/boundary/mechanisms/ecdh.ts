// ECDH key agreement with a null KDF (PKCS#11 CKM_ECDH1_DERIVE, CKD_NULL) for 'ec' keys
// (SP 800-56A Rev 3 §5.7.1.2) and X25519/X448 for 'ec-montgomery' keys (RFC 7748). The peer key
// is fully validated (attacks.md A-18): anything off-curve, on another curve, or giving an
// all-zero secret is HsmError('DOMAIN_PARAMS_INVALID'). The output is the first `length` bytes of Z.

import { createPrivateKey, createPublicKey, diffieHellman, type KeyObject } from 'node:crypto';
import { HsmError } from '../errors.js';
import { CURVES, type CurveInfo, curveOfNodeKey, hasNamedAlgorithm, pkcs8FromRaw, spkiFromRaw } from '../keytypes/ec-curves.js';
import { SecretBytes } from '../secret.js';
import type { LoadedKey } from '../types.js';
import { ECDH_P256_PEER_SPKI, ECDH_P256_PRIVATE, ECDH_P256_SHARED, X25519_ALICE_PRIVATE, X25519_BOB_PUBLIC, X25519_SHARED } from './asymmetric-kat-vectors.js';
import type { MechanismDescriptor } from './types.js';

function rawLengthOk(info: CurveInfo, n: number): boolean {
  // SEC 1 §2.3.3: uncompressed 1+2·size or compressed 1+size; RFC 7748 §5: exactly size bytes.
  return info.nodeType === 'ec' ? n === 1 + 2 * info.size || n === 1 + info.size : n === info.size;
}

/**
 * The peer's public key as a KeyObject on the base key's curve. Accepts SPKI DER, the raw point
 * or u-coordinate, or (PKCS#11 clients send it) the raw point inside a DER OCTET STRING.
 */
function peerKey(info: CurveInfo, publicData: Uint8Array): KeyObject {
  let raw: Uint8Array | undefined;
  if (rawLengthOk(info, publicData.length)) raw = publicData;
  else if (publicData[0] === 0x04 && publicData.length >= 2 && publicData[1] === publicData.length - 2 && rawLengthOk(info, publicData.length - 2)) raw = publicData.subarray(2);
  // Explicit curve parameters are refused even when they describe this curve (attacks.md A-18).
  if (!raw && !hasNamedAlgorithm(info, publicData)) throw new HsmError('DOMAIN_PARAMS_INVALID', 'peer key must name its curve');
  let key: KeyObject;
  try {
    // OpenSSL's decoder refuses off-curve points, coordinates >= p and x without a square root (SEC 1 §3.2.2.1).
    key = createPublicKey({ key: Buffer.from(raw ? spkiFromRaw(info, raw) : publicData), format: 'der', type: 'spki' });
  } catch {
    throw new HsmError('DOMAIN_PARAMS_INVALID', 'peer public key invalid');
  }
  // Explicit parameters or another named curve: refused even when the point happens to fit (Wycheproof WrongCurve).
  if (curveOfNodeKey(key.asymmetricKeyType, key.asymmetricKeyDetails?.namedCurve) !== info) throw new HsmError('DOMAIN_PARAMS_INVALID', 'peer key is not on the base key curve');
  return key;
}

const ecdh: MechanismDescriptor = {
  name: 'ECDH1-DERIVE',
  ckm: 0x1050, // CKM_ECDH1_DERIVE with kdf = CKD_NULL; params.publicData is the peer key
  aliases: ['ECDH', 'X25519', 'X448'],
  family: 'ecdh',
  operations: ['derive'],
  keyTypes: ['ec', 'ec-montgomery'],
  // SP 800-56A Rev 3 for P-curves. X25519/X448 and secp256k1 are not approved curves; the
  // descriptor cannot say so per curve (see the helper's report).
  approved: true,
  impl: {
    async derive(baseKey: LoadedKey, params, length) {
      const priv = baseKey.keyObject;
      if ((baseKey.keyType !== 'ec' && baseKey.keyType !== 'ec-montgomery') || priv?.type !== 'private') {
        throw new HsmError('KEY_TYPE_INCONSISTENT', 'an EC or Montgomery private key is required');
      }
      const info = curveOfNodeKey(priv.asymmetricKeyType, priv.asymmetricKeyDetails?.namedCurve);
      if (!info) throw new HsmError('KEY_TYPE_INCONSISTENT', 'base key curve unsupported');
      if (!(params.publicData instanceof Uint8Array)) throw new HsmError('MECHANISM_PARAM_INVALID', 'publicData (the peer public key) is required');
      const peer = peerKey(info, params.publicData);
      let z: Buffer;
      try {
        // Synchronous: node 20's diffieHellman has no callback form; one scalar multiplication.
        z = diffieHellman({ privateKey: priv, publicKey: peer });
      } catch {
        // OpenSSL refuses a point at infinity result and X25519/X448 all-zero outputs.
        throw new HsmError('DOMAIN_PARAMS_INVALID', 'key agreement failed for this peer key');
      }
      if (info.keyType === 'ec-montgomery') {
        let acc = 0;
        for (const b of z) acc |= b;
        // RFC 7748 §6.1/§6.2: an all-zero X25519/X448 secret means a low-order peer point. (For the
        // Weierstrass curves Z = 0 is a legitimate x-coordinate: Wycheproof EdgeCaseSharedSecret.)
        if (acc === 0) throw new HsmError('DOMAIN_PARAMS_INVALID', 'peer key is of low order');
      }
      if (!Number.isInteger(length) || length < 1 || length > z.length) {
        z.fill(0);
        throw new HsmError('KEY_SIZE_RANGE', `derived key length must be 1..${z.length} bytes`);
      }
      const out = SecretBytes.from(z.subarray(0, length));
      z.fill(0);
      return out;
    },
  },
  async selfTest() {
    const cases = [
      // Wycheproof ecdh_secp256r1 tcId 1 (SPKI peer key).
      { info: CURVES['P-256'], d: ECDH_P256_PRIVATE, peer: ECDH_P256_PEER_SPKI, z: ECDH_P256_SHARED },
      // RFC 7748 §6.1 (raw u-coordinate peer key).
      { info: CURVES.X25519, d: X25519_ALICE_PRIVATE, peer: X25519_BOB_PUBLIC, z: X25519_SHARED },
    ];
    for (const c of cases) {
      const der = pkcs8FromRaw(c.info, Buffer.from(c.d, 'hex'));
      const keyObject = createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' });
      der.fill(0);
      const key: LoadedKey = { uid: 'self-test', version: 1, keyType: c.info.keyType, class: 'private-key', keyObject, curve: c.info.curve, bits: c.info.bits };
      const expected = Buffer.from(c.z, 'hex');
      const z = await ecdh.impl.derive!(key, { publicData: Buffer.from(c.peer, 'hex') }, expected.length);
      const ok = Buffer.compare(z.insecureBytes(), expected) === 0;
      z.destroy();
      if (!ok) throw new Error('self-test failed: ECDH1-DERIVE');
    }
  },
};

export const MECHANISMS: MechanismDescriptor[] = [ecdh];
