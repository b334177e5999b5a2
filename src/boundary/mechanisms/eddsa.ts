// Pure EdDSA (RFC 8032 §5.1 Ed25519, §5.2 Ed448) on ec-edwards keys. Contexts and the
// prehashed variants are refused: node 20 ignores a context silently, which would produce
// signatures that verify under the wrong context. Verify returns false for anything invalid.

import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { HsmError } from '../errors.js';
import { CURVES, pkcs8FromRaw, spkiFromRaw } from '../keytypes/ec-curves.js';
import type { LoadedKey } from '../types.js';
import { signAsync, verifyAsync } from './asymmetric-ops.js';
import { ED448_PUBLIC, ED448_SECRET, ED448_SIG, ED25519_PUBLIC, ED25519_SECRET, ED25519_SIG } from './asymmetric-kat-vectors.js';
import type { MechanismDescriptor, MechanismParams } from './types.js';

function privateKeyOf(key: LoadedKey): KeyObject {
  if (key.keyType !== 'ec-edwards' || key.keyObject?.type !== 'private') throw new HsmError('KEY_TYPE_INCONSISTENT', 'an EdDSA private key is required');
  return key.keyObject;
}

function publicKeyOf(key: LoadedKey): KeyObject {
  const k = key.keyObject?.type === 'public' ? key.keyObject : key.publicKeyObject;
  if (key.keyType !== 'ec-edwards' || !k) throw new HsmError('KEY_TYPE_INCONSISTENT', 'an EdDSA key is required');
  return k;
}

function checkParams(params: MechanismParams): void {
  // PKCS#11 CK_EDDSA_PARAMS: phFlag/context select Ed25519ctx/ph and Ed448ph; only pure EdDSA is offered.
  if (params.prehashed) throw new HsmError('MECHANISM_PARAM_INVALID', 'prehashed EdDSA is not supported');
  if (params.dsaContext !== undefined && params.dsaContext.length > 0) throw new HsmError('MECHANISM_PARAM_INVALID', 'EdDSA contexts are not supported');
}

const eddsa: MechanismDescriptor = {
  name: 'EDDSA',
  ckm: 0x1057, // CKM_EDDSA
  aliases: ['ED25519', 'ED448'],
  family: 'eddsa',
  operations: ['sign', 'verify'],
  keyTypes: ['ec-edwards'],
  approved: true, // FIPS 186-5 §7
  impl: {
    async sign(key, data, params) {
      checkParams(params);
      return new Uint8Array(await signAsync(null, data, privateKeyOf(key)));
    },
    async verify(key, data, signature, params) {
      checkParams(params);
      // OpenSSL checks length, S < L (RFC 8032 §5.1.7/§5.2.7) and the point encodings.
      return verifyAsync(null, data, publicKeyOf(key), signature);
    },
  },
  async selfTest() {
    const cases = [
      { info: CURVES.Ed25519, secret: ED25519_SECRET, pub: ED25519_PUBLIC, sig: ED25519_SIG },
      { info: CURVES.Ed448, secret: ED448_SECRET, pub: ED448_PUBLIC, sig: ED448_SIG },
    ];
    for (const c of cases) {
      const der = pkcs8FromRaw(c.info, Buffer.from(c.secret, 'hex'));
      const keyObject = createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' });
      der.fill(0);
      const publicKeyObject = createPublicKey({ key: Buffer.from(spkiFromRaw(c.info, Buffer.from(c.pub, 'hex'))), format: 'der', type: 'spki' });
      const key: LoadedKey = { uid: 'self-test', version: 1, keyType: 'ec-edwards', class: 'private-key', keyObject, publicKeyObject, curve: c.info.curve, bits: c.info.bits };
      // RFC 8032 §7.1 TEST 1 / §7.4 Blank: deterministic, so the published signature must come out exactly.
      const sig = await eddsa.impl.sign!(key, new Uint8Array(0), {});
      if (Buffer.compare(Buffer.from(sig), Buffer.from(c.sig, 'hex')) !== 0) throw new Error('self-test failed: EDDSA');
      if (!(await eddsa.impl.verify!(key, new Uint8Array(0), sig, {}))) throw new Error('self-test failed: EDDSA');
      const bad = Buffer.from(sig);
      bad[0]! ^= 1;
      if (await eddsa.impl.verify!(key, new Uint8Array(0), bad, {})) throw new Error('self-test failed: EDDSA');
    }
  },
};

export const MECHANISMS: MechanismDescriptor[] = [eddsa];
