// Card commands: Visa CVV/CVV2/iCVV generation (CW) and verification (CY), and EMV ARQC
// verification with ARPC generation (KQ). Generation is audited by the boundary (attacks.md C-11);
// an ARPC is produced only for a cryptogram that verifies, in the same call (C-12).

import { type CommandRow, fail, ok } from './command.js';
import { req, res } from './fields.js';
import { HostError } from './host-error.js';

const card = [req.upto('pan', ';', 'N', 12, 19), req.lit(';'), req.n('expiry', 4), req.n('serviceCode', 3)];

const CW: CommandRow = {
  code: 'CW',
  name: 'Generate a Visa CVV',
  request: [req.key('cvk', '10'), ...card],
  response: [res.n('cvv', 3)],
  async run(ctx, f) {
    const cvv = await ctx.call((s) => ctx.hsm.paymentGenerateCvv(s, { key: f.key('cvk'), pan: f.text('pan'), expiry: f.text('expiry'), serviceCode: f.text('serviceCode') }));
    return ok({ cvv });
  },
};

const CY: CommandRow = {
  code: 'CY',
  name: 'Verify a Visa CVV',
  request: [req.key('cvk', '10'), req.n('cvv', 3), ...card],
  response: [],
  async run(ctx, f) {
    const valid = await ctx.call((s) => ctx.hsm.paymentVerifyCvv(s, { key: f.key('cvk'), pan: f.text('pan'), expiry: f.text('expiry'), serviceCode: f.text('serviceCode'), cvv: f.text('cvv') }));
    return valid ? ok() : fail('01');
  },
};

const verifying = (f: { text(n: string): string }): boolean => f.text('mode') === '0' || f.text('mode') === '1';

const KQ: CommandRow = {
  code: 'KQ',
  name: 'ARQC verification and ARPC generation',
  request: [
    req.n('mode', 1),
    req.n('scheme', 1),
    req.key('mkac', '10'),
    req.b('panPsn', 8),
    req.b('atc', 2),
    req.b('un', 4),
    req.counted('data', 2, 16, 255, undefined, verifying),
    req.lit(';', verifying),
    req.b('arqc', 8),
    req.b('arc', 2, (f) => f.text('mode') !== '0'),
  ],
  response: [res.b('arpc', 8, true)],
  async run(ctx, f) {
    const mode = f.text('mode');
    // Mode 2 (an ARPC without verifying the cryptogram) would make ARPC method 1 an encryption oracle (attacks.md C-12).
    if (mode === '2') throw new HostError('68', 'KQ mode 2 (ARPC only) is refused');
    if (mode !== '0' && mode !== '1') throw new HostError('15', 'KQ mode');
    // Scheme 1 (M/Chip) is Mastercard session-key derivation from ATC and UN; scheme 0 (Visa CVN 10, no session key) is not offered.
    if (f.text('scheme') !== '1') throw new HostError('68', 'KQ scheme');
    // PAN/PSN: 16 BCD digits, the rightmost 14 of the PAN and the 2-digit PSN (EMV Book 2 A1.4.1 option A input).
    const digits = f.bytes('panPsn').toString('hex');
    if (!/^[0-9]{16}$/.test(digits)) throw new HostError('15', 'PAN/PSN is not BCD');
    const arc = mode === '1' ? f.bytes('arc').toString('hex') : undefined;
    const r = await ctx.call((s) =>
      ctx.hsm.paymentVerifyArqc(s, {
        key: f.key('mkac'),
        pan: digits.slice(0, 14),
        psn: digits.slice(14),
        sessionKey: { method: 'mastercard', atc: f.bytes('atc').toString('hex'), un: f.bytes('un').toString('hex') },
        data: f.bytes('data'),
        // The host pads; data not a multiple of 8 gets zero padding (ISO/IEC 9797-1 padding method 1), as the manual says.
        padding: 'visa',
        arqc: f.bytes('arqc'),
        ...(arc !== undefined ? { arpc: { method: 1 as const, arc } } : {}),
      }),
    );
    if (!r.valid) return fail('01');
    return ok(r.arpc ? { arpc: r.arpc } : {});
  },
};

export const CARD_COMMANDS: readonly CommandRow[] = [CW, CY, KQ];
