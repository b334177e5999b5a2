// Elliptic-curve key pairs: 'ec' (CKK_EC: P-256/384/521, secp256k1), 'ec-edwards'
// (CKK_EC_EDWARDS: Ed25519, Ed448) and 'ec-montgomery' (CKK_EC_MONTGOMERY: X25519, X448).
// Private material is PKCS#8 DER, public is SPKI DER; only named curves from CURVES load.

import { createPrivateKey, createPublicKey, diffieHellman, type KeyObject, timingSafeEqual } from 'node:crypto';
import { HsmError } from '../errors.js';
import { generateDerPair, signAsync, verifyAsync } from '../mechanisms/asymmetric-ops.js';
import type { KeySpec } from '../mechanisms/types.js';
import { SecretBytes } from '../secret.js';
import type { Curve, LoadedKey } from '../types.js';
import { CURVES, type CurveInfo, curveOfNodeKey, hasNamedAlgorithm } from './ec-curves.js';
import type { KeyFacts, KeyTypeDescriptor } from './types.js';

type EcFamily = CurveInfo['keyType'];

interface ParsedEc {
  key: KeyObject;
  publicKey: KeyObject;
  info: CurveInfo;
}

function parse(family: EcFamily, material: { secret?: SecretBytes; publicData?: Uint8Array }): ParsedEc {
  let key: KeyObject;
  try {
    if (material.secret) key = createPrivateKey({ key: material.secret.insecureBytes(), format: 'der', type: 'pkcs8' });
    // OpenSSL's SPKI decoder refuses points off the curve, x or y >= p, and bad compressed x (SEC 1 §2.3.4).
    else if (material.publicData) key = createPublicKey({ key: Buffer.from(material.publicData), format: 'der', type: 'spki' });
    else throw new HsmError('ATTRIBUTE_VALUE_INVALID', `${family} key without material`);
  } catch (e) {
    if (e instanceof HsmError) throw e;
    throw new HsmError('ATTRIBUTE_VALUE_INVALID', material.secret ? 'not a PKCS#8 private key' : 'not an SPKI public key');
  }
  const info = curveOfNodeKey(key.asymmetricKeyType, key.asymmetricKeyDetails?.namedCurve);
  // Explicit (unnamed) curve parameters are refused: attacks.md A-18, Wycheproof "UnnamedCurve".
  if (!info || info.keyType !== family) throw new HsmError('ATTRIBUTE_VALUE_INVALID', `not a ${family} key on a supported named curve`);
  if (!material.secret && material.publicData && !hasNamedAlgorithm(info, material.publicData)) {
    throw new HsmError('ATTRIBUTE_VALUE_INVALID', 'public key must name its curve (no explicit parameters)');
  }
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return { key, publicKey, info };
}

function spki(key: KeyObject): Uint8Array {
  return new Uint8Array(key.export({ format: 'der', type: 'spki' }));
}

/** An inconsistent pair is the caller's bad material on import; on generation the guard turns any throw into the error state. */
function pairwiseFailure(what: string): HsmError {
  return new HsmError('ATTRIBUTE_VALUE_INVALID', what);
}

const PAIRWISE_MESSAGE = Buffer.from('coffer pairwise consistency test (FIPS 140-3 IG 10.3.A)');

/** IG 10.3.A for key-agreement keys: Z from (d, ephemeral Q) must equal Z from (ephemeral d, Q). */
async function agreementPairwise(info: CurveInfo, priv: KeyObject, pub: KeyObject): Promise<void> {
  const eph = await generateDerPair(info.nodeType, info.namedCurve ? { namedCurve: info.namedCurve } : {});
  const ephPriv = createPrivateKey({ key: eph.privateKey, format: 'der', type: 'pkcs8' });
  eph.privateKey.fill(0);
  const ephPub = createPublicKey({ key: eph.publicKey, format: 'der', type: 'spki' });
  let z1: Buffer;
  let z2: Buffer;
  try {
    z1 = diffieHellman({ privateKey: priv, publicKey: ephPub });
    z2 = diffieHellman({ privateKey: ephPriv, publicKey: pub });
  } catch {
    throw pairwiseFailure(`pairwise test failed: ${info.curve} agreement`);
  }
  const same = z1.length === z2.length && timingSafeEqual(z1, z2);
  z1.fill(0);
  z2.fill(0);
  if (!same) throw pairwiseFailure(`pairwise test failed: ${info.curve} agreement`);
}

function descriptor(family: EcFamily, ckk: number): KeyTypeDescriptor {
  const curveFor = (curve: string | undefined): CurveInfo => {
    if (curve === undefined) throw new HsmError('TEMPLATE_INCOMPLETE', `curve is required for ${family}`);
    const info = (CURVES as Record<string, CurveInfo | undefined>)[curve];
    if (!info || info.keyType !== family) throw new HsmError('DOMAIN_PARAMS_INVALID', `curve not supported for ${family}`);
    return info;
  };
  return {
    keyType: family,
    kind: 'pair',
    ckk,
    normalizeSpec(spec: KeySpec): KeySpec {
      return { keyType: family, curve: curveFor(spec.curve).curve };
    },
    async generatePair(spec: KeySpec) {
      const info = curveFor(spec.curve);
      const pair = await generateDerPair(info.nodeType, info.namedCurve ? { namedCurve: info.namedCurve } : {});
      return { secret: SecretBytes.adopt(pair.privateKey), publicData: new Uint8Array(pair.publicKey) };
    },
    load(uid: string, version: number, material: { secret?: SecretBytes; publicData?: Uint8Array }): LoadedKey {
      const p = parse(family, material);
      const loaded: LoadedKey = {
        uid,
        version,
        keyType: family,
        class: material.secret ? 'private-key' : 'public-key',
        keyObject: p.key,
        publicData: spki(p.publicKey),
        curve: p.info.curve,
        bits: p.info.bits,
      };
      if (material.secret) loaded.publicKeyObject = p.publicKey;
      return loaded;
    },
    facts(material: { secret?: SecretBytes; publicData?: Uint8Array }): KeyFacts {
      return { curve: parse(family, material).info.curve };
    },
    publicFromPrivate(secret: SecretBytes): Uint8Array {
      return spki(parse(family, { secret }).publicKey);
    },
    strength(facts: KeyFacts): number {
      const info = facts.curve ? (CURVES as Record<Curve, CurveInfo>)[facts.curve] : undefined;
      return info?.strength ?? 0;
    },
    async pairwiseTest(privateKey: LoadedKey, publicKey: LoadedKey): Promise<void> {
      const priv = privateKey.keyObject;
      const pub = publicKey.keyObject?.type === 'public' ? publicKey.keyObject : publicKey.publicKeyObject;
      if (priv?.type !== 'private' || !pub) throw pairwiseFailure(`pairwise test failed: ${family} key objects missing`);
      const info = curveOfNodeKey(priv.asymmetricKeyType, priv.asymmetricKeyDetails?.namedCurve);
      if (!info || info.keyType !== family) throw pairwiseFailure(`pairwise test failed: ${family} curve`);
      // The stored public key must be the one the private key implies (a PKCS#8 may embed another).
      const a = spki(createPublicKey(priv));
      const b = spki(pub);
      if (a.length !== b.length || !timingSafeEqual(a, b)) throw pairwiseFailure(`pairwise test failed: ${info.curve} public key mismatch`);
      if (family !== 'ec-montgomery') {
        const hash = family === 'ec' ? 'sha256' : null; // RFC 8032 EdDSA hashes internally
        const sig = await signAsync(hash, PAIRWISE_MESSAGE, priv).catch(() => {
          throw pairwiseFailure(`pairwise test failed: ${info.curve} signing`);
        });
        if (!(await verifyAsync(hash, PAIRWISE_MESSAGE, pub, sig))) throw pairwiseFailure(`pairwise test failed: ${info.curve} signature`);
      }
      if (family !== 'ec-edwards') await agreementPairwise(info, priv, pub);
    },
  };
}

export const KEY_TYPES: KeyTypeDescriptor[] = [
  descriptor('ec', 0x3), // CKK_EC
  descriptor('ec-edwards', 0x40), // CKK_EC_EDWARDS
  descriptor('ec-montgomery', 0x41), // CKK_EC_MONTGOMERY
];
