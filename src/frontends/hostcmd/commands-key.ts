// Diagnostics and key commands: NC (diagnostics), A0 (generate a key, stored in the partition and
// returned as a reference), BU (key check value). Key types are payShield's variant-LMK codes or,
// with key type FFF, TR-31 header fields after '#' as on a key-block LMK (docs/hostcmd.md).

import type { KeyType, Template } from '../../boundary/api.js';
import { type CommandRow, fail, ok } from './command.js';
import { req, res } from './fields.js';
import { HostError } from './host-error.js';

/** Coffer has no LMK: the diagnostics answer a fixed check value and Coffer's host-interface version. */
const LMK_CHECK = '0000000000000000';
const FIRMWARE = 'COFFER-01';

const NC: CommandRow = {
  code: 'NC',
  name: 'Perform diagnostics',
  request: [],
  response: [res.h('lmkCheck', 16), res.a('firmware', 9)],
  async run(ctx) {
    return ctx.hsm.status().state === 'unsealed' ? ok({ lmkCheck: LMK_CHECK, firmware: FIRMWARE }) : fail('13');
  },
};

/** Variant-LMK key type codes (payShield key type table) → TR-31 usage. TPK and PVK share 002; a PVK is made with FFF. */
const KEY_TYPES: Readonly<Record<string, string>> = { '000': 'K0', '001': 'P0', '002': 'P0', '003': 'M3', '008': 'M3', '009': 'B0', '109': 'E0', '402': 'C0' };
const SCHEMES: Readonly<Record<string, KeyType>> = { U: 'des2', X: 'des2', T: 'des3', Y: 'des3' };
/** TR-31 algorithm fields as payShield's key-block A0 takes them: T2/T3 TDES, A1/A2/A3 AES-128/192/256. */
const ALGORITHMS: Readonly<Record<string, { keyType: KeyType; valueLen?: number }>> = {
  T2: { keyType: 'des2' },
  T3: { keyType: 'des3' },
  A1: { keyType: 'aes', valueLen: 16 },
  A2: { keyType: 'aes', valueLen: 24 },
  A3: { keyType: 'aes', valueLen: 32 },
};
const EXPORTABILITY = new Set(['E', 'N', 'S']);

const keyBlock = (f: { text(n: string): string }): boolean => f.text('keyType') === 'FFF';

function template(f: { text(n: string): string }): Template {
  if (!keyBlock(f)) {
    const usage = KEY_TYPES[f.text('keyType')];
    if (!usage) throw new HostError('04', 'key type code');
    const keyType = SCHEMES[f.text('keyScheme')];
    if (!keyType) throw new HostError('26', 'key scheme');
    return { keyType, keyUsage: usage, token: true };
  }
  if (f.text('keyScheme') !== 'S') throw new HostError('26', 'key type FFF needs key scheme S');
  const alg = ALGORITHMS[f.text('algorithm')];
  if (!alg) throw new HostError('A7', 'algorithm');
  if (!EXPORTABILITY.has(f.text('exportability'))) throw new HostError('15', 'exportability');
  if (f.text('optionalBlocks') !== '00') throw new HostError('15', 'optional blocks are not taken here');
  // Mode of use and key version are header fields of an exported block; the stored key keeps its TR-31 usage.
  const t: Template = { keyType: alg.keyType, keyUsage: f.text('usage'), token: true };
  if (alg.valueLen) t.valueLen = alg.valueLen;
  if (f.text('exportability') === 'N') t.extractable = false;
  return t;
}

const A0: CommandRow = {
  code: 'A0',
  name: 'Generate a key',
  request: [
    req.h('mode', 1),
    req.h('keyType', 3),
    req.a('keyScheme', 1),
    req.lit(';', (f) => f.text('mode') === '1'),
    req.n('zmkFlag', 1, (f) => f.text('mode') === '1'),
    req.key('zmk', '10', (f) => f.text('mode') === '1'),
    req.a('zmkScheme', 1, (f) => f.text('mode') === '1'),
    req.lit('#', keyBlock),
    req.a('usage', 2, keyBlock),
    req.a('algorithm', 2, keyBlock),
    req.a('modeOfUse', 1, keyBlock),
    req.n('keyVersion', 2, keyBlock),
    req.a('exportability', 1, keyBlock),
    req.n('optionalBlocks', 2, keyBlock),
  ],
  response: [res.key('key'), res.h('kcv', 6)],
  async run(ctx, f) {
    const mode = f.text('mode');
    // Mode 1 exports the new key under a ZMK: that is TR-31 key-block export, not offered on this port yet.
    if (mode === '1') throw new HostError('68', 'A0 mode 1 (export under a ZMK)');
    if (mode !== '0') throw new HostError('15', 'A0 mode');
    const tpl = template(f);
    const key = await ctx.call((s) => ctx.hsm.generateKey(s, { template: tpl }));
    const kcv = await ctx.call((s) => ctx.hsm.paymentKeyCheckValue(s, { key, length: 3 }));
    return ok({ key, kcv: Buffer.from(kcv).toString('hex').toUpperCase() });
  },
};

const BU: CommandRow = {
  code: 'BU',
  name: 'Generate a key check value',
  request: [req.h('keyTypeCode', 2), req.n('keyLengthFlag', 1), req.key('key', '10')],
  // Always the 6-hex-digit form: a full-block check value is a known plaintext-ciphertext pair (attacks.md C-09).
  response: [res.h('kcv', 6)],
  async run(ctx, f) {
    if (!['0', '1', '2'].includes(f.text('keyLengthFlag'))) throw new HostError('05', 'key length flag');
    const kcv = await ctx.call((s) => ctx.hsm.paymentKeyCheckValue(s, { key: f.text('key'), length: 3 }));
    return ok({ kcv: Buffer.from(kcv).toString('hex').toUpperCase() });
  },
};

export const KEY_COMMANDS: readonly CommandRow[] = [NC, A0, BU];
