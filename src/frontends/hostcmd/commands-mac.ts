// MAC commands M6 (generate) and M8 (verify): ISO/IEC 9797-1 MAC algorithm 1 (M0/M1 keys) or 3
// (M3 keys), padding method 0 (none: whole blocks only), 1 or 2, over a binary, hex or text message.
// Multi-block modes (1-3, carrying an IV between calls) are not offered: messages fit one frame.

import type { Decoded } from './fields.js';
import { req, res } from './fields.js';
import { type CommandContext, type CommandRow, fail, ok } from './command.js';
import { HostError } from './host-error.js';

const MAX_MESSAGE = 32_000;

const request = [
  req.n('mode', 1),
  req.n('inputFormat', 1),
  req.n('algorithm', 2),
  req.n('padding', 1),
  req.h('keyType', 3),
  req.key('key', '10'),
  req.counted('message', 4, 16, MAX_MESSAGE, 'inputFormat'),
];

function macParams(f: Decoded): { algorithm: 1 | 3; padding: 1 | 2 | 3; data: Buffer } {
  if (f.text('mode') !== '0') throw new HostError('68', 'multi-block MAC modes');
  const kt = f.text('keyType');
  if (kt !== '003' && kt !== '008') throw new HostError('04', 'MAC key type is 003 (TAK) or 008 (ZAK)');
  const alg = f.text('algorithm');
  if (alg !== '01' && alg !== '03') throw new HostError('15', 'MAC algorithm 01 or 03');
  const data = f.bytes('message');
  const p = f.text('padding');
  // Padding 0 (none) is method 1 over whole blocks, where method 1 adds nothing (ISO/IEC 9797-1 §6.1.1).
  if (p === '0' && data.length % 8 !== 0) throw new HostError('80', 'unpadded message is not whole blocks');
  if (p !== '0' && p !== '1' && p !== '2' && p !== '3') throw new HostError('15', 'padding method');
  return { algorithm: alg === '01' ? 1 : 3, padding: p === '0' ? 1 : (Number(p) as 1 | 2 | 3), data };
}

const M6: CommandRow = {
  code: 'M6',
  name: 'Generate MAC',
  request,
  response: [res.h('mac', 16)],
  async run(ctx: CommandContext, f) {
    const p = macParams(f);
    const mac = await ctx.call((s) => ctx.hsm.paymentGenerateMac(s, { key: f.key('key'), ...p, length: 8 }));
    return ok({ mac: Buffer.from(mac).toString('hex').toUpperCase() });
  },
};

const M8: CommandRow = {
  code: 'M8',
  name: 'Verify MAC',
  request: [...request, req.h('mac', 16)],
  response: [],
  async run(ctx, f) {
    const p = macParams(f);
    const valid = await ctx.call((s) => ctx.hsm.paymentVerifyMac(s, { key: f.key('key'), ...p, mac: Buffer.from(f.text('mac'), 'hex') }));
    return valid ? ok() : fail('01');
  },
};

export const MAC_COMMANDS: readonly CommandRow[] = [M6, M8];
