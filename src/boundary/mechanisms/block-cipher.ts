// Shared plumbing for the AES and TDES families: which OpenSSL cipher a key selects, defensive
// key checks, IV parameter checks, and one runner over node:crypto's Cipheriv. Nothing here keeps
// state; key bytes never leave the KeyObject except where a caller asks for `secret` explicitly.

import { type CipherGCMTypes, createCipheriv, createDecipheriv, type KeyObject, randomBytes } from 'node:crypto';
import { HsmError } from '../errors.js';
import type { KeyType, LoadedKey } from '../types.js';
import type { MechanismParams } from './types.js';

export type BlockMode = 'ecb' | 'cbc' | 'ctr' | 'gcm' | 'wrap' | 'wrap-pad';

export const AES_KEY_TYPES = ['aes'] as const satisfies readonly KeyType[];
export const TDES_KEY_TYPES = ['des2', 'des3'] as const satisfies readonly KeyType[];

/** The key's KeyObject after checking that its type fits the mechanism (the guard pipeline checks first). */
export function keyObjectFor(key: LoadedKey, keyTypes: readonly KeyType[]): KeyObject {
  if (!keyTypes.includes(key.keyType) || key.class !== 'secret-key' || !key.keyObject) {
    throw new HsmError('KEY_TYPE_INCONSISTENT', `needs a ${keyTypes.join('/')} secret key`);
  }
  return key.keyObject;
}

/** OpenSSL 3.0 cipher names; single DES needs the legacy provider and is not offered. */
export function cipherName(key: LoadedKey, mode: BlockMode): string {
  const bits = key.keyObject?.symmetricKeySize !== undefined ? key.keyObject.symmetricKeySize * 8 : key.bits;
  if (key.keyType === 'aes') {
    if (bits !== 128 && bits !== 192 && bits !== 256) throw new HsmError('KEY_SIZE_RANGE', 'AES keys are 128, 192 or 256 bits');
    if (mode === 'wrap') return `id-aes${bits}-wrap`; // RFC 3394
    if (mode === 'wrap-pad') return `id-aes${bits}-wrap-pad`; // RFC 5649
    return `aes-${bits}-${mode}`;
  }
  if ((key.keyType === 'des2' && bits === 128) || (key.keyType === 'des3' && bits === 192)) {
    const base = key.keyType === 'des2' ? 'des-ede' : 'des-ede3'; // SP 800-67 Rev 2 keying options 2 and 1
    if (mode === 'ecb' || mode === 'cbc') return `${base}-${mode}`;
    throw new HsmError('MECHANISM_INVALID', `TDES has no ${mode} mode here`);
  }
  throw new HsmError('KEY_TYPE_INCONSISTENT', `no block cipher for ${key.keyType}`);
}

/** Returns the caller's IV after checking its size, a fresh random one when absent and allowed, or throws. */
export function ivParam(params: MechanismParams, size: number, mode: 'required' | 'random-if-absent'): { iv: Buffer; generated: boolean } {
  const iv = params.iv;
  if (iv === undefined) {
    if (mode === 'required') throw new HsmError('MECHANISM_PARAM_INVALID', 'iv is required');
    return { iv: randomBytes(size), generated: true };
  }
  if (!(iv instanceof Uint8Array) || iv.length !== size) throw new HsmError('MECHANISM_PARAM_INVALID', `iv must be ${size} bytes`);
  return { iv: Buffer.from(iv), generated: false };
}

/** Refuses parameters a mechanism does not read, so a confused caller learns early (attacks.md A-23). */
export function noParams(params: MechanismParams, allowed: readonly (keyof MechanismParams)[]): void {
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && !allowed.includes(k as keyof MechanismParams)) {
      throw new HsmError('MECHANISM_PARAM_INVALID', `parameter ${k.slice(0, 32)} is not used by this mechanism`);
    }
  }
}

/** One-shot run of a non-AEAD cipher; node/OpenSSL errors propagate for the caller to map uniformly. */
export function runCipher(
  name: string,
  key: KeyObject,
  iv: Buffer | null,
  data: Uint8Array,
  direction: 'encrypt' | 'decrypt',
  padding: boolean,
): Buffer {
  const c = direction === 'encrypt' ? createCipheriv(name, key, iv) : createDecipheriv(name, key, iv);
  c.setAutoPadding(padding);
  const head = c.update(data);
  let tail: Buffer;
  try {
    tail = c.final();
  } catch (e) {
    head.fill(0); // plaintext of a refused decryption (bad padding, bad ICV) never survives
    throw e;
  }
  if (tail.length === 0) return head;
  const out = Buffer.concat([head, tail]);
  head.fill(0);
  tail.fill(0);
  return out;
}

export function gcmName(key: LoadedKey): CipherGCMTypes {
  return cipherName(key, 'gcm') as CipherGCMTypes;
}
