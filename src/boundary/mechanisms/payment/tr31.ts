// TR-31 / ANSI X9.143 key blocks: wrap and unwrap under a key block protection key (KBPK) for
// versions A and C (key variant binding, TDES, 4-byte MAC), B (TDES-CMAC derived keys, 8-byte MAC)
// and D (AES-CMAC derived keys, 16-byte MAC). Every unwrap failure is the one UNWRAP_FAILED; derived
// keys and clear payloads are zero-filled after use. Policy (who may wrap what) is module/payment-keys.ts.

import { randomBytes } from 'node:crypto';
import { HsmError } from '../../errors.js';
import { loadSymmetricKey } from '../../keytypes/symmetric.js';
import { SecretBytes } from '../../secret.js';
import type { KeyType, LoadedKey } from '../../types.js';
import { cipherName, keyObjectFor, runCipher } from '../block-cipher.js';
import { cmacTag, tagMatches } from '../cmac.js';
import { macAlg1 } from './iso9797-alg1.js';
import { BLOCK_SIZE, buildHeader, MAC_LENGTH, parseHeader, type Tr31Header, type Tr31Version } from './tr31-header.js';

export type KbpkType = 'des2' | 'des3' | 'aes';

/** The KBPK types each version takes: A/B/C are TDES (TR-31:2018 §5.3: key variant and TDES key derivation binding), D is AES (§5.3.2.3). */
export const VERSION_KBPK: Record<Tr31Version, readonly KeyType[]> = { A: ['des2', 'des3'], B: ['des2', 'des3'], C: ['des2', 'des3'], D: ['aes'] };

/** Largest key of each algorithm: the payload pads every key to it, so a block does not reveal its key's length (the padding TR-31 allows beyond the last block). */
const MASKED_LENGTH: Record<string, number> = { T: 24, A: 32 };

interface BlockKeys {
  kbek: LoadedKey;
  kbmk: LoadedKey;
}

function destroyKeys(k: BlockKeys): void {
  k.kbek.secret?.destroy();
  k.kbmk.secret?.destroy();
}

function rawKbpk(kbpk: LoadedKey): Buffer {
  const raw = kbpk.secret?.insecureBytes();
  if (raw) return Buffer.from(raw);
  if (kbpk.keyObject?.type === 'secret') return kbpk.keyObject.export();
  throw new HsmError('KEY_TYPE_INCONSISTENT', 'the KBPK has no value');
}

/** TR-31:2018 key variant binding method (versions A and C): KBEK = KBPK ⊕ 'E'…, KBAK = KBPK ⊕ 'M'… ('E' = 0x45, 'M' = 0x4D). */
function variantKeys(kbpk: LoadedKey): BlockKeys {
  const raw = rawKbpk(kbpk);
  const e = Buffer.from(raw.map((b) => b ^ 0x45));
  const m = Buffer.from(raw.map((b) => b ^ 0x4d));
  try {
    return { kbek: loadSymmetricKey(kbpk.keyType, e), kbmk: loadSymmetricKey(kbpk.keyType, m) };
  } finally {
    for (const b of [raw, e, m]) b.fill(0);
  }
}

/**
 * TR-31:2018 §5.3.2.1 table 1 (B) and §5.3.2.3 table 2 (D; ISO 20038:2017 §6.3 table 1): KBEK and KBMK from the KBPK by the SP 800-108 counter-mode KDF with
 * CMAC as PRF. Derivation data (8 bytes): counter ‖ key usage (0000 encryption, 0001 MAC) ‖ 00 ‖
 * algorithm (0000 2TDEA, 0001 3TDEA, 0002 AES-128, 0003 AES-192, 0004 AES-256) ‖ length in bits.
 */
function derivedKeys(kbpk: LoadedKey, version: 'B' | 'D'): BlockKeys {
  const len = kbpk.keyObject?.symmetricKeySize ?? kbpk.bits / 8;
  const bs = version === 'D' ? 16 : 8;
  const algorithm = version === 'D' ? { 16: 2, 24: 3, 32: 4 }[len] : { 16: 0, 24: 1 }[len];
  if (algorithm === undefined) throw new HsmError('KEY_SIZE_RANGE', 'KBPK length');
  const derive = (usage: number): LoadedKey => {
    const parts: Buffer[] = [];
    for (let counter = 1; parts.length * bs < len; counter++) {
      const data = Buffer.from([counter, 0, usage, 0, 0, algorithm, (len * 8) >> 8, (len * 8) & 0xff]);
      parts.push(cmacTag(kbpk, [kbpk.keyType], bs, data));
    }
    const out = Buffer.concat(parts).subarray(0, len);
    try {
      return loadSymmetricKey(kbpk.keyType, out);
    } finally {
      for (const p of parts) p.fill(0);
    }
  };
  return { kbek: derive(0), kbmk: derive(1) };
}

function blockKeys(kbpk: LoadedKey, version: Tr31Version): BlockKeys {
  if (!VERSION_KBPK[version].includes(kbpk.keyType)) throw new HsmError('WRAPPING_KEY_TYPE_INCONSISTENT', `version ${version} takes a ${VERSION_KBPK[version].join('/')} KBPK`);
  return version === 'A' || version === 'C' ? variantKeys(kbpk) : derivedKeys(kbpk, version);
}

/** KBEK and KBMK (KBAK) of a KBPK, as the tr31_kbpk_derive vectors state them; tests only. */
export function insecureBlockKeys(kbpk: LoadedKey, version: Tr31Version): { kbek: Buffer; kbmk: Buffer } {
  const k = blockKeys(kbpk, version);
  try {
    return { kbek: rawKbpk(k.kbek), kbmk: rawKbpk(k.kbmk) };
  } finally {
    destroyKeys(k);
  }
}

function cbc(key: LoadedKey, iv: Buffer, data: Uint8Array, direction: 'encrypt' | 'decrypt'): Buffer {
  return runCipher(cipherName(key, 'cbc'), keyObjectFor(key, [key.keyType]), iv, data, direction, false);
}

function mac(version: Tr31Version, kbmk: LoadedKey, data: Buffer): Buffer {
  if (version === 'B' || version === 'D') return cmacTag(kbmk, [kbmk.keyType], BLOCK_SIZE[version], data);
  // TR-31:2018 key variant binding: ISO 9797-1 MAC algorithm 1 (TDES CBC-MAC), padding method 1, leftmost 4 bytes.
  const full = macAlg1(kbmk, data, 1);
  const out = Buffer.from(full.subarray(0, 4));
  full.fill(0);
  return out;
}

export interface WrapInput {
  header: Omit<Tr31Header, 'optionalBlocks'> & { optionalBlocks?: Tr31Header['optionalBlocks'] };
  key: SecretBytes;
  /** Test vectors only: the padding bytes; otherwise random up to the masked length. */
  padding?: Uint8Array;
}

/** Wraps `key` into an ASCII key block under `kbpk`. */
export function wrapKeyBlock(kbpk: LoadedKey, input: WrapInput): string {
  const v = input.header.version;
  const bs = BLOCK_SIZE[v];
  const key = input.key.insecureBytes();
  if (key.length === 0 || key.length > 4096) throw new HsmError('KEY_SIZE_RANGE', 'key length');
  // TR-31 / X9.143 key block payload: 2-byte key length in bits ‖ key ‖ padding to whole blocks.
  const masked = Math.max(key.length, MASKED_LENGTH[input.header.algorithm] ?? key.length);
  const padLen = input.padding?.length ?? Math.ceil((2 + masked) / bs) * bs - 2 - key.length;
  if ((2 + key.length + padLen) % bs !== 0) throw new HsmError('MECHANISM_PARAM_INVALID', 'padding does not fill the last block');
  const payload = Buffer.alloc(2 + key.length + padLen);
  payload.writeUInt16BE(key.length * 8, 0);
  payload.set(key, 2);
  payload.set(input.padding ?? randomBytes(padLen), 2 + key.length);
  const header = buildHeader(input.header, (payload.length + MAC_LENGTH[v]) * 2);
  const h = Buffer.from(header, 'ascii');
  const k = blockKeys(kbpk, v);
  let enc: Buffer;
  let tag: Buffer;
  try {
    if (v === 'A' || v === 'C') {
      enc = cbc(k.kbek, h.subarray(0, 8), payload, 'encrypt'); // IV = the first 8 header characters
      tag = mac(v, k.kbmk, Buffer.concat([h, enc]));
    } else {
      const macInput = Buffer.concat([h, payload]);
      tag = mac(v, k.kbmk, macInput); // TR-31:2018 §5.3.2 (B, D): MAC over header ‖ clear payload, then CBC with the MAC as IV
      macInput.fill(0);
      enc = cbc(k.kbek, tag, payload, 'encrypt');
    }
  } finally {
    payload.fill(0);
    destroyKeys(k);
  }
  return `${header}${enc.toString('hex').toUpperCase()}${tag.toString('hex').toUpperCase()}`;
}

export interface Unwrapped {
  header: Tr31Header;
  key: SecretBytes;
}

/** Verifies and opens a key block. Any bad MAC, length, padding or encoding is UNWRAP_FAILED. */
export function unwrapKeyBlock(kbpk: LoadedKey, block: string): Unwrapped {
  const { header, headerLength } = parseHeader(block);
  const v = header.version;
  if (!VERSION_KBPK[v].includes(kbpk.keyType)) throw new HsmError('WRAPPING_KEY_TYPE_INCONSISTENT', `version ${v} takes a ${VERSION_KBPK[v].join('/')} KBPK`);
  const bs = BLOCK_SIZE[v];
  const macChars = MAC_LENGTH[v] * 2;
  const body = block.slice(headerLength, block.length - macChars);
  const tagHex = block.slice(block.length - macChars);
  if (body.length < 2 * bs || body.length % (2 * bs) !== 0 || !/^[0-9A-F]+$/.test(body) || !/^[0-9A-F]+$/.test(tagHex)) throw new HsmError('UNWRAP_FAILED');
  const h = Buffer.from(block.slice(0, headerLength), 'ascii');
  const enc = Buffer.from(body, 'hex');
  const given = Buffer.from(tagHex, 'hex');
  let k: BlockKeys | undefined;
  let payload: Buffer | undefined;
  try {
    k = blockKeys(kbpk, v);
    let ok: boolean;
    if (v === 'A' || v === 'C') {
      ok = tagMatches(mac(v, k.kbmk, Buffer.concat([h, enc])), given);
      if (ok) payload = cbc(k.kbek, h.subarray(0, 8), enc, 'decrypt');
    } else {
      payload = cbc(k.kbek, given, enc, 'decrypt');
      const macInput = Buffer.concat([h, payload]);
      ok = tagMatches(mac(v, k.kbmk, macInput), given);
      macInput.fill(0);
    }
    if (!ok || !payload) throw new HsmError('UNWRAP_FAILED');
    const bits = payload.readUInt16BE(0);
    // The key length field must name whole bytes that fit in the payload (the payload's key length field).
    if (bits === 0 || bits % 8 !== 0 || 2 + bits / 8 > payload.length) throw new HsmError('UNWRAP_FAILED');
    return { header, key: SecretBytes.from(payload.subarray(2, 2 + bits / 8)) };
  } catch {
    throw new HsmError('UNWRAP_FAILED');
  } finally {
    payload?.fill(0);
    if (k) destroyKeys(k);
  }
}
