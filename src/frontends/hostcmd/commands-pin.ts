// PIN commands (payShield 10K host command manual field lists; docs/hostcmd.md): translation
// TPK→ZPK (CA), ZPK→ZPK (CC) and DUKPT→ZPK (CI), verification by IBM 3624 offset (DA terminal, EA interchange) and
// by Visa PVV (DC terminal, EC interchange). Every call is a boundary payment function; the PCI
// translation rules (attacks.md C-03/C-04) and attempt limits (C-13) are the boundary's.

import type { Decoded } from './fields.js';
import { req, res } from './fields.js';
import { type CommandContext, type CommandRow, fail, ok } from './command.js';
import { HostError } from './host-error.js';
import { panFromAccount, pinFormat, pinLength } from './pin-fields.js';

const pinBlock = (f: Decoded, name: string): Buffer => Buffer.from(f.text(name), 'hex');

function translateRow(code: string, name: string, source: string): CommandRow {
  return {
    code,
    name,
    request: [req.key(`source${source}`, '10'), req.key('destinationZpk', '11'), req.n('maxPinLength', 2), req.h('pinBlock', 16), req.n('sourceFormat', 2), req.n('destinationFormat', 2), req.n('account', 12)],
    // Coffer does not disclose the PIN's length: the PIN length field is always 00 (docs/hostcmd.md).
    response: [res.n('pinLength', 2), res.h('pinBlock', 16), res.n('destinationFormat', 2)],
    async run(ctx: CommandContext, f: Decoded) {
      pinLength(f.text('maxPinLength'));
      const inFormat = pinFormat(f.text('sourceFormat'));
      const outFormat = pinFormat(f.text('destinationFormat'));
      const pan = panFromAccount(f.text('account'));
      const out = await ctx.call((s) =>
        ctx.hsm.paymentTranslatePin(s, { in: { key: f.key(`source${source}`), format: inFormat, pinBlock: pinBlock(f, 'pinBlock'), pan }, outKey: f.key('destinationZpk'), outFormat }),
      );
      return ok({ pinLength: '00', pinBlock: Buffer.from(out).toString('hex').toUpperCase(), destinationFormat: f.text('destinationFormat') });
    },
  };
}

/** IBM 3624 offset field: 12H, the check-length digits left-justified and padded with F. */
function offset(field: string, checkLength: number): string {
  const digits = field.slice(0, checkLength);
  if (!/^[0-9]+$/.test(digits) || !/^F*$/.test(field.slice(checkLength))) throw new HostError('15', 'offset');
  return digits;
}

function ibmRow(code: string, name: string, pinKey: string): CommandRow {
  return {
    code,
    name,
    request: [
      req.key(pinKey, '10'),
      req.key('pvk', '11'),
      req.n('maxPinLength', 2),
      req.h('pinBlock', 16),
      req.n('format', 2),
      req.n('checkLength', 2),
      req.n('account', 12),
      // The name of a table an officer registered (attacks.md C-01), space-padded to 16; registering a
      // table under its own 16 digits keeps a switch that sends the clear table working unchanged.
      req.a('decimalisationTable', 16),
      // Read and not used: the module derives validation data from the account number (attacks.md C-02).
      req.a('validationData', 12),
      req.h('offset', 12),
    ],
    response: [],
    async run(ctx, f) {
      pinLength(f.text('maxPinLength'));
      const check = pinLength(f.text('checkLength'));
      const format = pinFormat(f.text('format'));
      const table = f.text('decimalisationTable').trimEnd();
      const pan = panFromAccount(f.text('account'));
      const valid = await ctx.call((s) =>
        ctx.hsm.paymentVerifyPinIbm3624(s, { pin: { key: f.key(pinKey), format, pinBlock: pinBlock(f, 'pinBlock'), pan }, pvk: f.key('pvk'), table, offset: offset(f.text('offset'), check) }),
      );
      return valid ? ok() : fail('01');
    },
  };
}

function pvvRow(code: string, name: string, pinKey: string): CommandRow {
  return {
    code,
    name,
    request: [req.key(pinKey, '10'), req.key('pvk', '11'), req.h('pinBlock', 16), req.n('format', 2), req.n('account', 12), req.n('pvki', 1), req.n('pvv', 4)],
    response: [],
    async run(ctx, f) {
      const format = pinFormat(f.text('format'));
      const pan = panFromAccount(f.text('account'));
      const valid = await ctx.call((s) =>
        ctx.hsm.paymentVerifyPvv(s, { pin: { key: f.key(pinKey), format, pinBlock: pinBlock(f, 'pinBlock'), pan }, pvk: f.key('pvk'), pvki: Number(f.text('pvki')), pvv: f.text('pvv') }),
      );
      return valid ? ok() : fail('01');
    },
  };
}

/** KSN descriptor (3H): base-derivation-key id, sub-key id and device id lengths; the KSN adds the 5-digit counter (X9.24-1 Annex A). */
function ksnLength(f: Decoded): number {
  const d = f.text('ksnDescriptor');
  const n = Number.parseInt(d[0] ?? '', 16) + Number.parseInt(d[1] ?? '', 16) + Number.parseInt(d[2] ?? '', 16) + 5;
  if (!(n >= 10 && n <= 20)) throw new HostError('15', 'KSN descriptor');
  return n;
}

const CI: CommandRow = {
  code: 'CI',
  name: 'Translate a PIN from a DUKPT BDK to a ZPK',
  request: [req.key('bdk', '10'), req.key('zpk', '11'), req.h('ksnDescriptor', 3), req.h('ksn', ksnLength), req.h('pinBlock', 16), req.n('destinationFormat', 2), req.n('account', 12)],
  response: [res.n('pinLength', 2), res.h('pinBlock', 16), res.n('destinationFormat', 2)],
  async run(ctx, f) {
    const outFormat = pinFormat(f.text('destinationFormat'));
    const pan = panFromAccount(f.text('account'));
    // The terminal's block is ANSI X9.8 (ISO 9564-1 format 0); a KSN shorter than 80 bits is left-padded with F.
    const ksn = f.text('ksn').padStart(20, 'F');
    const out = await ctx.call((s) => ctx.hsm.paymentTranslatePinFromDukpt(s, { bdk: f.key('bdk'), ksn, format: 'ISO0', pinBlock: pinBlock(f, 'pinBlock'), pan, outKey: f.key('zpk'), outFormat }));
    return ok({ pinLength: '00', pinBlock: Buffer.from(out).toString('hex').toUpperCase(), destinationFormat: f.text('destinationFormat') });
  },
};

export const PIN_COMMANDS: readonly CommandRow[] = [
  CI,
  translateRow('CA', 'Translate a PIN from TPK to ZPK encryption', 'Tpk'),
  translateRow('CC', 'Translate a PIN from one ZPK to another', 'Zpk'),
  ibmRow('DA', 'Verify a terminal PIN using the IBM offset method', 'tpk'),
  ibmRow('EA', 'Verify an interchange PIN using the IBM offset method', 'zpk'),
  pvvRow('DC', 'Verify a terminal PIN using the Visa PVV method', 'tpk'),
  pvvRow('EC', 'Verify an interchange PIN using the Visa PVV method', 'zpk'),
];
