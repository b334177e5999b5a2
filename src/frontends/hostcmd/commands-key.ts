// Diagnostics and key commands: NC (diagnostics), A0 (generate a key, stored in the partition and
// returned as a reference; mode 1 also exports it), A6/A8 (import/export under a ZMK as TR-31 key
// blocks), BU (key check value). Key types are payShield's variant-LMK codes or,
// with key type FFF, TR-31 header fields after '#' as on a key-block LMK (docs/hostcmd.md).

import type { KeyType, Template } from '../../boundary/api.js';
import { type CommandContext, type CommandRow, fail, ok } from './command.js';
import { type Decoded, req, res } from './fields.js';
import { HostError } from './host-error.js';
import type { KeyField } from './key-field.js';

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
const EXPORTABILITY: Readonly<Record<string, 'E' | 'N' | 'S'>> = { E: 'E', N: 'N', S: 'S' };

const keyBlock = (f: { text(n: string): string }): boolean => f.text('keyType') === 'FFF';

function template(f: { text(n: string): string }): Template {
  if (!keyBlock(f)) {
    const usage = KEY_TYPES[f.text('keyType')];
    if (!usage) throw new HostError('04', 'key type code');
    const keyType = SCHEMES[f.text('keyScheme')];
    if (!keyType) throw new HostError('26', 'key scheme');
    // Variant-LMK keys are exchange keys: exportable under a ZMK as key blocks (A0 mode 1, A8).
    return { keyType, keyUsage: usage, exportability: 'E', token: true };
  }
  if (f.text('keyScheme') !== 'S') throw new HostError('26', 'key type FFF needs key scheme S');
  const alg = ALGORITHMS[f.text('algorithm')];
  if (!alg) throw new HostError('28', 'algorithm'); // payShield: invalid key type
  const exportability = EXPORTABILITY[f.text('exportability')];
  if (!exportability) throw new HostError('15', 'exportability');
  if (f.text('optionalBlocks') !== '00') throw new HostError('15', 'optional blocks are not taken here');
  const t: Template = { keyType: alg.keyType, keyUsage: f.text('usage'), modeOfUse: f.text('modeOfUse'), exportability, token: true };
  if (alg.valueLen) t.valueLen = alg.valueLen;
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
  response: [res.key('key'), res.block('keyUnderZmk', true), res.h('kcv', 6)],
  async run(ctx, f) {
    const mode = f.text('mode');
    if (mode !== '0' && mode !== '1') throw new HostError('15', 'A0 mode');
    const tpl = template(f);
    const key = await ctx.call((s) => ctx.hsm.generateKey(s, { template: tpl }));
    // Mode 1 also exports the new key under the ZMK as a TR-31 key block.
    const keyUnderZmk = mode === '1' ? await exportBlock(ctx, f.key('zmk'), key) : undefined;
    return ok({ key, keyUnderZmk, kcv: await kcv(ctx, key) });
  },
};

async function kcv(ctx: CommandContext, key: KeyField): Promise<string> {
  const v = await ctx.call((s) => ctx.hsm.paymentKeyCheckValue(s, { key, length: 3 }));
  return Buffer.from(v).toString('hex').toUpperCase();
}

/** The ZMK of an import or export: a stored K0/K1 key, or `partition` (R09partition) for the partition's own KBPK. */
function zmkRef(zmk: KeyField): string {
  if (typeof zmk !== 'string') throw new HostError('10', 'the ZMK is a stored key reference');
  return zmk;
}

/** TR-31 export under the ZMK: version D under an AES ZMK, B under a TDES one (X9.143 §6.3.1). */
async function exportBlock(ctx: CommandContext, zmk: KeyField, key: KeyField): Promise<string> {
  const kbpk = zmkRef(zmk);
  if (typeof key !== 'string') throw new HostError('11', 'the key to export is a stored key reference');
  const aes = kbpk === 'partition' || (await ctx.call((s) => ctx.hsm.getAttributes(s, kbpk))).keyType === 'aes';
  return ctx.call((s) => ctx.hsm.paymentExportKeyBlock(s, { key, kbpk, version: aes ? 'D' : 'B' }));
}

const A6: CommandRow = {
  code: 'A6',
  name: 'Import a key',
  // Key type FFF (or any code: the block's header carries the usage), the ZMK, the key as 'S' + TR-31 block under the ZMK, key scheme S.
  request: [req.h('keyType', 3), req.key('zmk', '10'), req.key('key', '11'), req.a('keyScheme', 1)],
  response: [res.key('key'), res.h('kcv', 6)],
  async run(ctx, f: Decoded) {
    const block = f.key('key');
    if (typeof block === 'string') throw new HostError('11', 'an imported key is a TR-31 key block');
    const kbpk = zmkRef(f.key('zmk'));
    const key = await ctx.call((s) => ctx.hsm.paymentImportKeyBlock(s, { kbpk, keyBlock: block.keyBlock, token: true }));
    return ok({ key, kcv: await kcv(ctx, key) });
  },
};

const A8: CommandRow = {
  code: 'A8',
  name: 'Export a key',
  request: [req.h('keyType', 3), req.key('zmk', '10'), req.key('key', '11'), req.a('keyScheme', 1)],
  response: [res.block('keyUnderZmk'), res.h('kcv', 6)],
  async run(ctx, f) {
    if (f.text('keyScheme') !== 'S') throw new HostError('26', 'export is as a TR-31 key block (scheme S)');
    const keyUnderZmk = await exportBlock(ctx, f.key('zmk'), f.key('key'));
    return ok({ keyUnderZmk, kcv: await kcv(ctx, f.key('key')) });
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
    return ok({ kcv: await kcv(ctx, f.key('key')) });
  },
};

export const KEY_COMMANDS: readonly CommandRow[] = [NC, A0, A6, A8, BU];
