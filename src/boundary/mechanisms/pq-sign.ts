// The sign/verify implementation shared by ML-DSA (FIPS 204 §5.2–5.3) and SLH-DSA (FIPS 205
// §10.2–10.3), pure (non-prehash) variants with a context string. Verification answers false for
// every malformed signature; only a bad argument (context too long, prehash asked) throws.

import { HsmError } from '../errors.js';
import { signerFor } from '../keytypes/pq.js';
import type { KeyType, LoadedKey } from '../types.js';
import type { MechanismImpl, MechanismParams } from './types.js';

/** FIPS 204 §5.2 / FIPS 205 §10.2: ctx is at most 255 bytes. */
const MAX_CONTEXT = 255;

function context(params: MechanismParams): Uint8Array | undefined {
  const ctx = params.dsaContext;
  if (ctx === undefined) return undefined;
  if (!(ctx instanceof Uint8Array) || ctx.length > MAX_CONTEXT) throw new HsmError('MECHANISM_PARAM_INVALID', `context must be at most ${MAX_CONTEXT} bytes`);
  return ctx;
}

function checkParams(params: MechanismParams): void {
  // The pre-hash variants (HashML-DSA, HashSLH-DSA) are other mechanisms in PKCS#11 v3.2.
  if (params.prehashed) throw new HsmError('MECHANISM_PARAM_INVALID', 'pre-hashed input needs the Hash… variant');
  if (params.deterministic !== undefined && typeof params.deterministic !== 'boolean') throw new HsmError('MECHANISM_PARAM_INVALID', 'deterministic must be a boolean');
}

function checkKey(key: LoadedKey, keyType: KeyType): void {
  if (key.keyType !== keyType) throw new HsmError('KEY_TYPE_INCONSISTENT', `${keyType} mechanism, ${key.keyType} key`);
}

export function pqSignatureImpl(keyType: 'ml-dsa' | 'slh-dsa'): MechanismImpl {
  return {
    async sign(key, data, params) {
      checkKey(key, keyType);
      checkParams(params);
      const ctx = context(params);
      const sk = key.secret?.insecureBytes();
      if (!sk) throw new HsmError('KEY_TYPE_INCONSISTENT', 'signing needs the private key');
      // Hedged by default (FIPS 204 §3.4 recommends it); deterministic uses rnd = 0^32 / opt_rand = PK.seed.
      const opts = params.deterministic ? { extraEntropy: false as const } : {};
      return signerFor(key).sign(data, sk, ctx ? { ...opts, context: ctx } : opts);
    },
    async verify(key, data, signature, params) {
      checkKey(key, keyType);
      checkParams(params);
      const ctx = context(params);
      const pk = key.publicData;
      if (!pk) throw new TypeError('loaded PQ key without public data');
      const signer = signerFor(key);
      if (!(signature instanceof Uint8Array) || signature.length !== signer.lengths.signature) return false;
      try {
        return signer.verify(signature, data, pk, ctx ? { context: ctx } : {});
      } catch {
        return false; // noble throws on some malformed encodings: still just an invalid signature
      }
    },
  };
}
