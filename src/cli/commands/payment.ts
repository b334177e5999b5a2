// `coffer payment …`: the payment-key ceremonies over REST (docs/payment.md): the partition KBPK,
// key forming from clear components (each custodian runs `component enter` in their own login;
// the component is read hidden from the terminal or from stdin, never from an argument), TR-31
// export and import, check values, grants and attempt counters. Clear components travel only in
// the request body to the server (use TLS) and are never printed.

import { optBool, optInt, optString, UsageError } from '../args.js';
import type { CommandDef, Context } from '../command.js';
import { CliError, EXIT } from '../exit-codes.js';
import { readInput, writeOutput } from '../file-io.js';
import { readPassword } from '../password-prompt.js';
import { renderRecord } from '../table.js';

const HEX = /^[0-9A-Fa-f]+$/;

function required(ctx: Context, name: string): string {
  const v = optString(ctx.args, name);
  if (v === undefined || v === '') throw new UsageError(`missing required option --${name}`);
  return v;
}

/** A key reference: a uid, `alias/<name>`, or `--key-block FILE` for a TR-31 block under the partition KBPK. */
async function keyRef(ctx: Context): Promise<string | { keyBlock: string }> {
  const file = optString(ctx.args, 'key-block');
  const key = optString(ctx.args, 'key') ?? ctx.args.positionals[0];
  if (file !== undefined && key !== undefined) throw new UsageError('give --key or --key-block, not both');
  if (file !== undefined) return { keyBlock: (await readInput(file, 'key block')).toString('utf8').trim() };
  if (key === undefined) throw new UsageError('missing required option --key (a key uid or alias/<name>) or --key-block FILE');
  return key;
}

/** The clear component: hidden from the terminal, or piped with --component-stdin; hex, 16/24/32 bytes. */
async function readComponent(ctx: Context): Promise<string> {
  const text = (await readPassword(optBool(ctx.args, 'component-stdin'), 'Component (hex, not echoed): ')).trim().replace(/\s+/g, '');
  if (!HEX.test(text) || ![32, 48, 64].includes(text.length)) throw new CliError('a component is 16, 24 or 32 bytes of hex', EXIT.USAGE, 'COMPONENT_FORMAT');
  return text;
}

export const PAYMENT_COMMANDS: CommandDef[] = [
  {
    noun: 'payment',
    verb: 'kbpk create',
    summary: "create the partition's own key-block protection key (officer), under which keys travel and are kept as TR-31 blocks",
    synopsis: '',
    options: [],
    examples: ['coffer payment kbpk create'],
    async run(ctx) {
      const { body } = await ctx.client.request<{ key: string }>('POST', '/v1/payments/partition-kbpk', { body: {} });
      ctx.print(body, `Partition KBPK: ${body.key}`);
      return EXIT.OK;
    },
  },
  {
    noun: 'payment',
    verb: 'component begin',
    summary: 'open the forming of a key from 2 or 3 clear components (officer); each custodian then runs `component enter`',
    synopsis: '--key-type des2|des3|aes --usage P0 --components 2|3 --label NAME [--mode B] [--exportability E|N|S] [--parity odd|any]',
    options: [
      { name: 'key-type', kind: 'string', value: 'TYPE', help: 'des2, des3 or aes' },
      { name: 'usage', kind: 'string', value: 'XX', help: 'TR-31 key usage (K0, P0, M3, C0, …)' },
      { name: 'components', kind: 'integer', value: 'N', help: '2 or 3 components, each from a different custodian' },
      { name: 'label', kind: 'string', value: 'NAME', help: 'label of the key to form' },
      { name: 'mode', kind: 'string', value: 'M', help: 'TR-31 mode of use' },
      { name: 'exportability', kind: 'string', value: 'E|N|S', help: 'TR-31 exportability of the formed key (default N)' },
      { name: 'parity', kind: 'string', value: 'odd|any', help: 'odd (default) refuses a TDES component without odd parity' },
    ],
    examples: ['coffer payment component begin --key-type des2 --usage K0 --components 2 --label zmk-acquirer --exportability E'],
    async run(ctx) {
      const body: Record<string, unknown> = { keyType: required(ctx, 'key-type'), usage: required(ctx, 'usage'), components: optInt(ctx.args, 'components') ?? 2, label: required(ctx, 'label') };
      for (const [opt, field] of [['mode', 'modeOfUse'], ['exportability', 'exportability'], ['parity', 'parity']] as const) {
        const v = optString(ctx.args, opt);
        if (v !== undefined) body[field] = v;
      }
      const r = await ctx.client.request<{ forming: string; expiresAt: string }>('POST', '/v1/payments/components', { body });
      ctx.print(r.body, `${renderRecord(r.body, ['forming', 'expiresAt'])}\nEach custodian now runs: coffer payment component enter ${r.body.forming}`);
      return EXIT.OK;
    },
  },
  {
    noun: 'payment',
    verb: 'component enter',
    summary: "enter one clear component into a forming (a custodian, logged in as themselves); prints the component's check value",
    synopsis: 'FORMING [--component-stdin]',
    positionals: [1, 1],
    options: [{ name: 'component-stdin', kind: 'boolean', help: 'read the component from stdin instead of the terminal' }],
    details: 'The component is read without echo. Compare the check value printed with the one on the component form before the next custodian enters theirs.',
    examples: ['coffer payment component enter 8f3c…', 'coffer payment component enter 8f3c… --component-stdin < component-1.txt'],
    async run(ctx) {
      const forming = ctx.args.positionals[0]!;
      const component = await readComponent(ctx);
      const r = await ctx.client.request<Record<string, unknown>>('POST', `/v1/payments/components/${encodeURIComponent(forming)}`, { body: { component } });
      const lines = [`Component check value: ${r.body.kcv}   (${r.body.entered} entered, ${r.body.remaining} to go)`];
      if (r.body.key) {
        lines.push(`Key formed: ${r.body.key}   check value ${r.body.keyKcv}`);
        lines.push(`Not usable yet: an officer who entered no component compares the check value with the forms and runs\n  coffer payment component confirm ${forming} --kcv ${r.body.keyKcv}`);
      }
      ctx.print(r.body, lines.join('\n'));
      return EXIT.OK;
    },
  },
  {
    noun: 'payment',
    verb: 'component confirm',
    summary: "confirm a formed key's check value (an officer who entered no component); the key becomes usable",
    synopsis: 'FORMING --kcv XXXXXX',
    positionals: [1, 1],
    options: [{ name: 'kcv', kind: 'string', value: 'XXXXXX', help: "the formed key's check value as read on the custodians' forms (6 hex digits)" }],
    details:
      "Type the check value from the paper forms, not from the screen of the last custodian. A different value is refused and audited, and the key stays unusable. The officer who opened the forming may confirm only when every other officer of the partition entered a component (or there is none); a payment.key-form quorum rule makes the first run open a request: once approved, run the same command again.",
    examples: ['coffer payment component confirm 8f3c… --kcv 08D7B4'],
    async run(ctx) {
      const forming = ctx.args.positionals[0]!;
      const kcv = required(ctx, 'kcv').trim();
      if (!/^[0-9A-Fa-f]{6}$/.test(kcv)) throw new CliError('a check value is 6 hex digits', EXIT.USAGE, 'KCV_FORMAT');
      const r = await ctx.client.request<{ key: string; kcv: string }>('POST', `/v1/payments/components/${encodeURIComponent(forming)}/confirm`, { body: { kcv } });
      ctx.print(r.body, `Key confirmed and usable: ${r.body.key}   check value ${r.body.kcv}`);
      return EXIT.OK;
    },
  },
  {
    noun: 'payment',
    verb: 'key export',
    summary: 'export a payment key as a TR-31 / X9.143 key block (B or D) under a K0/K1 KBPK or the partition KBPK',
    synopsis: '--key K --kbpk K|partition [--version D] [--exportability E|N|S] [-o FILE]',
    options: [
      { name: 'key', kind: 'string', value: 'K', help: 'the key to export (uid or alias/<name>)' },
      { name: 'kbpk', kind: 'string', value: 'K', help: 'the key-block protection key, or "partition"' },
      { name: 'version', kind: 'string', value: 'B|D', help: 'key block version: D (AES, default) or B (TDES)' },
      { name: 'exportability', kind: 'string', value: 'E|N|S', help: "narrower than the key's own" },
      { name: 'out', short: 'o', kind: 'string', value: 'FILE', help: 'write the block to FILE (default: print it)' },
    ],
    examples: ['coffer payment key export --key alias/zpk-visa --kbpk alias/zmk-visa --version B -o zpk.tr31'],
    async run(ctx) {
      const body: Record<string, unknown> = { key: required(ctx, 'key'), kbpk: required(ctx, 'kbpk'), version: optString(ctx.args, 'version') ?? 'D' };
      const exp = optString(ctx.args, 'exportability');
      if (exp !== undefined) body.exportability = exp;
      const r = await ctx.client.request<{ keyBlock: string }>('POST', '/v1/payments/keys/export', { body });
      const out = optString(ctx.args, 'out');
      if (out !== undefined) {
        await writeOutput(out, `${r.body.keyBlock}\n`, 0o600);
        ctx.info(`wrote ${out}`);
      }
      ctx.print(r.body, out === undefined ? r.body.keyBlock : `Key block written to ${out}`);
      return EXIT.OK;
    },
  },
  {
    noun: 'payment',
    verb: 'key import',
    summary: 'import a TR-31 / X9.143 key block under a K0/K1 KBPK or the partition KBPK; the header becomes the key\'s fixed attributes',
    synopsis: '--kbpk K|partition -i FILE [--label NAME]',
    options: [
      { name: 'kbpk', kind: 'string', value: 'K', help: 'the key-block protection key, or "partition"' },
      { name: 'in', short: 'i', kind: 'string', value: 'FILE', help: 'the key block (text)' },
      { name: 'label', kind: 'string', value: 'NAME', help: 'label of the imported key' },
    ],
    examples: ['coffer payment key import --kbpk alias/zmk-visa -i zpk.tr31 --label zpk-visa'],
    async run(ctx) {
      const keyBlock = (await readInput(required(ctx, 'in'), 'key block')).toString('utf8').trim();
      const body: Record<string, unknown> = { kbpk: required(ctx, 'kbpk'), keyBlock };
      const label = optString(ctx.args, 'label');
      if (label !== undefined) body.label = label;
      const r = await ctx.client.request<{ key: string }>('POST', '/v1/payments/keys/import', { body });
      const kcv = await ctx.client.request<{ kcv: string }>('POST', '/v1/payments/kcv', { body: { key: r.body.key } });
      ctx.print({ ...r.body, kcv: kcv.body.kcv }, `Imported ${r.body.key}   check value ${kcv.body.kcv}`);
      return EXIT.OK;
    },
  },
  {
    noun: 'payment',
    verb: 'kcv',
    summary: 'the check value of a payment key (TDES: ECB of zeros; AES: CMAC of zeros)',
    synopsis: '--key K | --key-block FILE [--length 3]',
    positionals: [0, 1],
    options: [
      { name: 'key', kind: 'string', value: 'K', help: 'uid or alias/<name>' },
      { name: 'key-block', kind: 'string', value: 'FILE', help: 'a TR-31 block under the partition KBPK instead' },
      { name: 'length', kind: 'integer', value: 'N', help: 'bytes, 2-5 (default 3)' },
    ],
    examples: ['coffer payment kcv alias/zpk-visa'],
    async run(ctx) {
      const body: Record<string, unknown> = { key: await keyRef(ctx) };
      const len = optInt(ctx.args, 'length');
      if (len !== undefined) body.length = len;
      const r = await ctx.client.request<{ kcv: string }>('POST', '/v1/payments/kcv', { body });
      ctx.print(r.body, r.body.kcv);
      return EXIT.OK;
    },
  },
  {
    noun: 'payment',
    verb: 'grant',
    summary: 'give (or --revoke) the issuer or card-production grant of a partition user (officer or admin)',
    synopsis: 'ACCOUNT issuer|card-production [--revoke]',
    positionals: [2, 2],
    options: [{ name: 'revoke', kind: 'boolean', help: 'take the grant back' }],
    examples: ['coffer payment grant alice issuer', 'coffer payment grant alice card-production --revoke'],
    async run(ctx) {
      const [account, grant] = ctx.args.positionals as [string, string];
      const r = await ctx.client.request<Record<string, unknown>>('POST', '/v1/payments/grants', { body: { account, grant, revoke: optBool(ctx.args, 'revoke') } });
      ctx.print(r.body, `${r.body.revoked ? 'Revoked' : 'Granted'} ${grant} ${r.body.revoked ? 'from' : 'to'} ${account}.`);
      return EXIT.OK;
    },
  },
  {
    noun: 'payment',
    verb: 'attempts reset',
    summary: "reset a PAN's failed PIN or card-verification counter (officer)",
    synopsis: 'PAN [--kind pin|cvv]',
    positionals: [1, 1],
    options: [{ name: 'kind', kind: 'string', value: 'pin|cvv', help: 'which counter (default: both)' }],
    examples: ['coffer payment attempts reset 4012345678909 --kind pin'],
    async run(ctx) {
      const body: Record<string, unknown> = { pan: ctx.args.positionals[0] };
      const kind = optString(ctx.args, 'kind');
      if (kind !== undefined) body.kind = kind;
      await ctx.client.request('POST', '/v1/payments/attempts/reset', { body });
      ctx.print({ reset: true }, 'Counter reset.');
      return EXIT.OK;
    },
  },
  {
    noun: 'payment',
    verb: 'decimalisation add',
    summary: 'register a named IBM 3624 decimalisation table (officer; callers only ever name it)',
    synopsis: 'NAME TABLE',
    positionals: [2, 2],
    options: [],
    examples: ['coffer payment decimalisation add issuer-2026 0123456789012345'],
    async run(ctx) {
      const [name, table] = ctx.args.positionals as [string, string];
      await ctx.client.request('POST', '/v1/payments/decimalisation-tables', { body: { name, table } });
      ctx.print({ name }, `Registered decimalisation table ${name}.`);
      return EXIT.OK;
    },
  },
];
