// AES DUKPT (ANSI X9.24-3:2017 §6): the initial key from an AES BDK and the initial key ID, the
// transaction derivation key for a 32-bit counter, and working keys per key usage, all by AES-ECB of
// 16-byte derivation data under the parent key. Intermediate keys are Buffers zero-filled here.

import { HsmError } from '../../errors.js';
import { loadSymmetricKey } from '../../keytypes/symmetric.js';
import type { LoadedKey } from '../../types.js';
import { ecb } from './block.js';
import { ksnBytes, popcount } from './dukpt-tdes.js';

/** X9.24-3:2017 §6.2.2 Table 2: key usage indicators in the derivation data. */
export const AES_DUKPT_USAGE = {
  'key-encryption': 0x0002,
  pin: 0x1000,
  'mac-generate': 0x2000,
  'mac-verify': 0x2001,
  'mac-both': 0x2002,
  'data-encrypt': 0x3000,
  'data-decrypt': 0x3001,
  'data-both': 0x3002,
} as const;
export type AesDukptUsage = keyof typeof AES_DUKPT_USAGE;
const DERIVATION = 0x8000;
const INITIAL = 0x8001;

/** X9.24-3:2017 §6.2.2 Table 3: algorithm indicator and key length of each derivable key type. */
export const AES_DUKPT_KEYS = {
  des2: { alg: 0x0000, bits: 128 },
  des3: { alg: 0x0001, bits: 192 },
  aes128: { alg: 0x0002, bits: 128 },
  aes192: { alg: 0x0003, bits: 192 },
  aes256: { alg: 0x0004, bits: 256 },
} as const;
export type AesDukptKeyType = keyof typeof AES_DUKPT_KEYS;

/** KSN: 96 bits = initial key ID (BDK ID ‖ derivation ID, 64 bits) ‖ 32-bit counter (§6.1). */
export function aesKsn(ksn: unknown): Buffer {
  const k = ksnBytes(ksn, 12);
  const counter = k.readUInt32BE(8);
  // §6.1: a device skips counters with more than 16 one-bits, so such a KSN never comes from a device.
  if (counter === 0 || popcount(counter) > 16) throw new HsmError('MECHANISM_PARAM_INVALID', 'KSN counter is not one a device can use');
  return k;
}

function typeOfKey(key: LoadedKey): AesDukptKeyType {
  if (key.keyType !== 'aes' || !key.secret) throw new HsmError('KEY_TYPE_INCONSISTENT', 'an AES DUKPT BDK is an AES key');
  const n = key.secret.length;
  return n === 16 ? 'aes128' : n === 24 ? 'aes192' : 'aes256';
}

/** §6.3.2 "Create Derivation Data": version 01 ‖ block counter ‖ usage ‖ algorithm ‖ length in bits ‖ 8 bytes of data. */
function derivationData(usage: number, type: AesDukptKeyType, data: Uint8Array): Buffer {
  const d = Buffer.alloc(16);
  d[0] = 0x01;
  d[1] = 0x01;
  d.writeUInt16BE(usage, 2);
  d.writeUInt16BE(AES_DUKPT_KEYS[type].alg, 4);
  d.writeUInt16BE(AES_DUKPT_KEYS[type].bits, 6);
  d.set(data, 8);
  return d;
}

/** §6.3.1 "Derive Key": AES-ECB of the derivation data, block counter 1, 2 … until the key length is reached. */
function deriveBytes(parent: LoadedKey, usage: number, type: AesDukptKeyType, data: Uint8Array): Buffer {
  const dd = derivationData(usage, type, data);
  const len = AES_DUKPT_KEYS[type].bits / 8;
  const parts: Buffer[] = [];
  for (let i = 1; i * 16 < len + 16; i++) {
    dd[1] = i;
    parts.push(ecb(parent, dd, 'encrypt', ['aes']));
  }
  const out = Buffer.concat(parts).subarray(0, len);
  const copy = Buffer.from(out);
  for (const p of parts) p.fill(0);
  return copy;
}

function load(type: AesDukptKeyType, b: Buffer): LoadedKey {
  try {
    return loadSymmetricKey(type.startsWith('aes') ? 'aes' : (type as 'des2' | 'des3'), b);
  } finally {
    b.fill(0);
  }
}

/** §6.3.3 "Derive Initial Key": usage 8001 over the 8-byte initial key ID, same type as the BDK. */
export function aesInitialKey(bdk: LoadedKey, ksnIn: unknown): LoadedKey {
  const ksn = ksnBytes(ksnIn, 12);
  return load(typeOfKey(bdk), deriveBytes(bdk, INITIAL, typeOfKey(bdk), ksn.subarray(0, 8)));
}

/**
 * §6.4 "Host Security Module Derive Working Key": from the initial key, one derivation (usage 8000, data =
 * rightmost 4 bytes of the initial key ID ‖ working counter) per one-bit of the counter, high bit first.
 */
export function aesTransactionKey(bdk: LoadedKey, ksnIn: unknown): LoadedKey {
  const ksn = aesKsn(ksnIn);
  const type = typeOfKey(bdk);
  let key = aesInitialKey(bdk, ksn);
  const counter = ksn.readUInt32BE(8);
  const data = Buffer.alloc(8);
  ksn.copy(data, 0, 4, 8);
  let working = 0;
  for (let bit = 0x80000000; bit >= 1; bit = Math.floor(bit / 2)) {
    if ((counter & bit) === 0) continue;
    working = (working | bit) >>> 0;
    data.writeUInt32BE(working, 4);
    const next = load(type, deriveBytes(key, DERIVATION, type, data));
    key.secret?.destroy();
    key = next;
  }
  return key;
}

/** §6.4: the working key of one usage and type from the transaction key (data = IK ID[4..8] ‖ counter). */
export function aesWorkingKey(bdk: LoadedKey, ksnIn: unknown, usage: AesDukptUsage, type: AesDukptKeyType): LoadedKey {
  if (!Object.hasOwn(AES_DUKPT_USAGE, usage)) throw new HsmError('MECHANISM_PARAM_INVALID', 'unknown DUKPT key usage');
  if (!Object.hasOwn(AES_DUKPT_KEYS, type)) throw new HsmError('MECHANISM_PARAM_INVALID', 'working key type is des2, des3, aes128, aes192 or aes256');
  const ksn = aesKsn(ksnIn);
  // §6.2.2: a working key is never stronger than the BDK it comes from.
  if (AES_DUKPT_KEYS[type].bits > AES_DUKPT_KEYS[typeOfKey(bdk)].bits) throw new HsmError('KEY_SIZE_RANGE', 'the working key cannot be longer than the BDK');
  const txn = aesTransactionKey(bdk, ksn);
  try {
    return load(type, deriveBytes(txn, AES_DUKPT_USAGE[usage], type, ksn.subarray(4, 12)));
  } finally {
    txn.secret?.destroy();
  }
}
