// `coffer selftest` and `coffer zeroize`: the admin's on-demand self-tests (attacks.md E-11) and
// the explicit zeroize command (D-17, E-06). Zeroize is irrevocable under the erase response, so
// it asks for --yes like `coffer key destroy`.

import { optBool, UsageError } from '../args.js';
import type { CommandDef } from '../command.js';
import { EXIT } from '../exit-codes.js';
import { renderRecord } from '../table.js';

interface SelfTestAnswer {
  passed: number;
  failed: string[];
  at?: string;
  state: string;
}

interface ZeroizeAnswer {
  tamper: { signal: string; at: string; response: string; detail?: string; auditArchive?: string };
  state: string;
}

export const SELF_PROTECTION_COMMANDS: CommandDef[] = [
  {
    noun: 'selftest',
    summary: 'run every self-test now (admin); exit 7 if one failed: the server is then in its error state',
    synopsis: '',
    options: [],
    details: 'Runs every mechanism known-answer test, the random-source health test and the software-integrity test against the build manifest. No key operation answers while they run.',
    examples: ['coffer login --user admin', 'coffer selftest'],
    async run(ctx) {
      const res = await ctx.client.request<SelfTestAnswer>('POST', '/v1/sys/selftest');
      const b = res.body;
      const ok = b.failed.length === 0;
      ctx.print(b, ok ? `All ${b.passed} self-tests passed.` : `Self-tests FAILED: ${b.failed.join(', ')} (${b.passed} passed). The server is in the ${b.state} state; 'GET /v1/sys/health' says why.`);
      return ok ? EXIT.OK : EXIT.SERVER;
    },
  },
  {
    noun: 'zeroize',
    summary: "zeroize (admin): the configured tamper response, seal or erase (needs --yes)",
    synopsis: '--yes',
    options: [{ name: 'yes', kind: 'boolean', help: 'confirm: every session ends and every key is forgotten; with [tamper] response = "erase" the store is destroyed' }],
    details: 'With the seal response the keys come back when the server is unsealed again; with erase they come back only from a backup.',
    examples: ['coffer zeroize --yes'],
    async run(ctx) {
      if (!optBool(ctx.args, 'yes')) throw new UsageError('zeroize ends every session and forgets every key (erase: destroys the store): add --yes');
      const res = await ctx.client.request<ZeroizeAnswer>('POST', '/v1/sys/zeroize');
      const t = res.body.tamper;
      ctx.print(res.body, `Zeroized (response ${t.response}); the server is ${res.body.state}.\n${renderRecord(t, ['signal', 'at', 'response', 'detail', 'auditArchive'])}`);
      return EXIT.OK;
    },
  },
];
