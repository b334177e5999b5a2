// The TR-31 / ANSI X9.143 key block header as data: parse and build the 16-character fixed part and
// the optional blocks. The header is not secret; its every character is bound by the block's MAC, so
// the parser only checks shape, and policy (usage × algorithm × mode) lives in the tables below.

import { HsmError } from '../../errors.js';

export type Tr31Version = 'A' | 'B' | 'C' | 'D';

export interface OptionalBlock {
  /** Two printable characters, e.g. KS (key set id), KV (key block values version), PB (padding). */
  id: string;
  data: string;
}

export interface Tr31Header {
  version: Tr31Version;
  /** X9.143 Table 6 key usage, e.g. P0, K0, B0. */
  usage: string;
  /** X9.143 Table 7: A AES, T TDES, D DEA, R RSA, E ECC, H HMAC, S DSA. */
  algorithm: string;
  /** X9.143 Table 8: B, C, D, E, G, N, S, T, V, X, Y. */
  mode: string;
  /** Two characters; '00' = no version, 'c1'… = a component. */
  keyVersion: string;
  /** X9.143 Table 10: E exportable under a KEK (X9.24 form), N not exportable, S exportable in a non-X9.24 form. */
  exportability: 'E' | 'N' | 'S';
  /** The two characters after the optional-block count (reserved in TR-31:2018; key context in X9.143). */
  reserved: string;
  optionalBlocks: OptionalBlock[];
}

export const TR31_VERSIONS: readonly Tr31Version[] = ['A', 'B', 'C', 'D'];
export const MODES = ['B', 'C', 'D', 'E', 'G', 'N', 'S', 'T', 'V', 'X', 'Y'] as const;
export const EXPORTABILITY = ['E', 'N', 'S'] as const;

/** Cipher block size of each version's payload (the optional blocks pad the header to it, with a PB block if needed). */
export const BLOCK_SIZE: Record<Tr31Version, 8 | 16> = { A: 8, B: 8, C: 8, D: 16 };
/** MAC length in bytes: A/C 4 (key variant binding), B 8 (TDES-CMAC), D 16 (AES-CMAC). */
export const MAC_LENGTH: Record<Tr31Version, number> = { A: 4, B: 8, C: 4, D: 16 };

const PRINTABLE = /^[\x20-\x7e]*$/;
const FAIL = (): never => {
  throw new HsmError('UNWRAP_FAILED');
};

/**
 * Parses the header of `block` (the whole ASCII key block). Every malformation is UNWRAP_FAILED:
 * a parse error must tell an attacker no more than a bad MAC does.
 */
export function parseHeader(block: string): { header: Tr31Header; headerLength: number } {
  if (typeof block !== 'string' || block.length < 16 || block.length > 9999 || !PRINTABLE.test(block)) FAIL();
  const version = block[0] as Tr31Version;
  if (!TR31_VERSIONS.includes(version)) FAIL();
  const declared = block.slice(1, 5);
  if (!/^[0-9]{4}$/.test(declared) || Number(declared) !== block.length) FAIL(); // X9.143:2021 §6.2 table 1: the length of the whole block
  const exportability = block[11] as Tr31Header['exportability'];
  if (!(EXPORTABILITY as readonly string[]).includes(exportability)) FAIL();
  const count = block.slice(12, 14);
  if (!/^[0-9]{2}$/.test(count)) FAIL();
  const optionalBlocks: OptionalBlock[] = [];
  let at = 16;
  for (let i = 0; i < Number(count); i++) {
    const id = block.slice(at, at + 2);
    const len = block.slice(at + 2, at + 4);
    if (id.length !== 2 || !/^[0-9A-F]{2}$/.test(len)) FAIL();
    let total = Number.parseInt(len, 16);
    let dataAt = at + 4;
    if (total === 0) {
      // X9.143:2021 §6.2 table 1: optional block length 00 announces an extended length: 2 hex digits giving the digit count, then the length.
      const ll = block.slice(at + 4, at + 6);
      if (!/^[0-9A-F]{2}$/.test(ll)) FAIL();
      const n = Number.parseInt(ll, 16);
      const ext = block.slice(at + 6, at + 6 + n);
      if (n === 0 || ext.length !== n || !/^[0-9A-F]+$/.test(ext)) FAIL();
      total = Number.parseInt(ext, 16);
      dataAt = at + 6 + n;
    }
    if (total < dataAt - at || at + total > block.length) FAIL();
    optionalBlocks.push({ id, data: block.slice(dataAt, at + total) });
    at += total;
  }
  if (at % BLOCK_SIZE[version] !== 0) FAIL(); // the header is whole cipher blocks (padded by PB)
  const header: Tr31Header = {
    version,
    usage: block.slice(5, 7),
    algorithm: block[7] ?? '',
    mode: block[8] ?? '',
    keyVersion: block.slice(9, 11),
    exportability,
    reserved: block.slice(14, 16),
    optionalBlocks,
  };
  return { header, headerLength: at };
}

function optionalBlockText(b: OptionalBlock): string {
  if (!/^[0-9A-Z]{2}$/.test(b.id) || !PRINTABLE.test(b.data)) throw new HsmError('MECHANISM_PARAM_INVALID', 'optional block ids are 2 letters/digits, data printable ASCII');
  const total = 4 + b.data.length;
  if (total <= 0xff) return `${b.id}${total.toString(16).toUpperCase().padStart(2, '0')}${b.data}`;
  // X9.143:2021 §6.2 table 1, extended length: 00, then 04 digits of length counting the 8 header characters.
  const ext = 8 + b.data.length;
  if (ext > 0xffff) throw new HsmError('MECHANISM_PARAM_INVALID', 'optional block too long');
  return `${b.id}0004${ext.toString(16).toUpperCase().padStart(4, '0')}${b.data}`;
}

/**
 * The header text for a block of `totalLength` characters. Optional blocks are kept in order and a
 * PB block is appended when they do not end on a cipher-block boundary (X9.143 optional block PB).
 */
export function buildHeader(h: Omit<Tr31Header, 'optionalBlocks'> & { optionalBlocks?: OptionalBlock[] }, payloadChars: number): string {
  const blocks = (h.optionalBlocks ?? []).map(optionalBlockText);
  let opt = blocks.join('');
  let count = blocks.length;
  const bs = BLOCK_SIZE[h.version];
  if ((16 + opt.length) % bs !== 0) {
    const pad = (bs - ((16 + opt.length + 4) % bs)) % bs;
    opt += `PB${(4 + pad).toString(16).toUpperCase().padStart(2, '0')}${'0'.repeat(pad)}`;
    count++;
  }
  if (count > 99) throw new HsmError('MECHANISM_PARAM_INVALID', 'at most 99 optional blocks');
  const total = 16 + opt.length + payloadChars;
  if (total > 9999) throw new HsmError('MECHANISM_PARAM_INVALID', 'key block longer than 9999 characters');
  for (const [v, n] of [
    [h.usage, 2],
    [h.algorithm, 1],
    [h.mode, 1],
    [h.keyVersion, 2],
    [h.reserved, 2],
  ] as const) {
    if (typeof v !== 'string' || v.length !== n || !/^[0-9A-Za-z]+$/.test(v)) throw new HsmError('MECHANISM_PARAM_INVALID', 'bad header field');
  }
  return `${h.version}${String(total).padStart(4, '0')}${h.usage}${h.algorithm}${h.mode}${h.keyVersion}${h.exportability}${String(count).padStart(2, '0')}${h.reserved}${opt}`;
}

/** X9.143 Table 6 usages Coffer holds, with the algorithms (Table 7) and modes (Table 8) each may carry. */
export const USAGE_RULES: Record<string, { algorithms: string; modes: string }> = {
  B0: { algorithms: 'TA', modes: 'XN' },
  D0: { algorithms: 'TA', modes: 'BDEN' },
  E0: { algorithms: 'TA', modes: 'XN' },
  E1: { algorithms: 'TA', modes: 'XN' },
  E2: { algorithms: 'TA', modes: 'XN' },
  E3: { algorithms: 'TA', modes: 'XN' },
  E4: { algorithms: 'TA', modes: 'XN' },
  E5: { algorithms: 'TA', modes: 'XN' },
  E6: { algorithms: 'TA', modes: 'XN' },
  K0: { algorithms: 'TA', modes: 'BDEN' },
  K1: { algorithms: 'TA', modes: 'BDEN' },
  M0: { algorithms: 'T', modes: 'CGVN' },
  M1: { algorithms: 'T', modes: 'CGVN' },
  M2: { algorithms: 'T', modes: 'CGVN' },
  M3: { algorithms: 'T', modes: 'CGVN' },
  M6: { algorithms: 'TA', modes: 'CGVN' },
  P0: { algorithms: 'TA', modes: 'BDEN' },
  V1: { algorithms: 'T', modes: 'CGVN' },
  V2: { algorithms: 'T', modes: 'CGVN' },
  C0: { algorithms: 'T', modes: 'CGVN' },
  S0: { algorithms: 'RE', modes: 'SN' },
};

/** The mode a key gets when nothing narrower was asked for: both directions of its function. */
export function defaultMode(usage: string): string {
  const modes = USAGE_RULES[usage]?.modes ?? 'N';
  return modes[0] ?? 'N';
}

/**
 * Whether a key's TR-31 mode of use allows a payment operation: G (generate only) refuses
 * verification, V (verify only) refuses generation. Keys made without a mode are unrestricted.
 */
export function modeAllows(mode: string | undefined, op: string): boolean {
  if (mode === undefined || mode === 'N' || mode === 'C' || mode === 'B' || mode === 'X') return true;
  if (op.endsWith('.generate')) return mode === 'G';
  if (op.endsWith('.verify')) return mode === 'V';
  return true;
}
