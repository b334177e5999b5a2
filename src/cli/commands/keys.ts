// `coffer key create|list|show|rotate|alias set|tag|enable|disable|delete|cancel-deletion|
// destroy|public`: key management. Material never passes through here: the server generates,
// keeps and uses keys; the CLI sees descriptions and public keys only.

import { optBool, optInt, optList, optString, UsageError } from '../args.js';
import type { CommandDef, Context } from '../command.js';
import { EXIT } from '../exit-codes.js';
import { writeOutput } from '../file-io.js';
import { KEY_TYPES, keyTypeFilter, templateFor } from '../key-defaults.js';
import { describeKey, type KeyDescription, keyArg } from '../key-ref.js';
import { RestClient } from '../rest-client.js';
import { renderRecord, renderTable } from '../table.js';

const KEY_OPTION = { name: 'key', short: 'k', kind: 'string', value: 'KEY', help: 'key uid or alias/<name> (or give it as the argument)' } as const;
const LIST_COLUMNS = ['uid', 'class', 'keyType', 'label', 'state', 'currentVersion', 'aliases'];
const SHOW_ORDER = ['uid', 'label', 'class', 'keyType', 'curve', 'modulusBits', 'valueLen', 'parameterSet', 'state', 'currentVersion', 'versions', 'aliases', 'tags', 'deletionDate', 'createdAt'];

async function patchState(ctx: Context, state: 'enabled' | 'disabled'): Promise<number> {
  const id = keyArg(ctx);
  const res = await ctx.client.request<{ key: KeyDescription }>('PATCH', RestClient.keyPath(id), { body: { state } });
  ctx.print(res.body, `Key ${res.body.key.uid} is ${res.body.key.state}.`);
  return EXIT.OK;
}

export const KEY_COMMANDS: CommandDef[] = [
  {
    noun: 'key',
    verb: 'create',
    summary: 'generate a key (or key pair) inside the server',
    synopsis: '--type TYPE [--curve C] [--bits N] [--param-set P] [--label L] [--usage U,U] [--extractable]',
    options: [
      { name: 'type', short: 't', kind: 'string', value: 'TYPE', help: Object.keys(KEY_TYPES).join(', ') },
      { name: 'curve', kind: 'string', value: 'CURVE', help: 'ec: P-256 (default), P-384, P-521, secp256k1' },
      { name: 'bits', kind: 'integer', value: 'N', help: 'aes/hmac: 128|192|256 (default 256); rsa: 2048|3072|4096 (default 3072)' },
      { name: 'param-set', kind: 'string', value: 'P', help: 'ml-dsa: ML-DSA-65 (default); ml-kem: ML-KEM-768; slh-dsa: SLH-DSA-SHA2-128s' },
      { name: 'label', short: 'l', kind: 'string', value: 'L', help: 'a label to find the key by' },
      { name: 'usage', kind: 'list', value: 'U,U', help: 'sign, verify, encrypt, decrypt, wrap, unwrap, derive, encapsulate, decapsulate (default by type)' },
      { name: 'extractable', kind: 'boolean', help: 'the key may leave the server wrapped under another key' },
    ],
    details:
      'Pairs: a private-key usage also gives the public key its partner (sign→verify, decrypt→encrypt,\nunwrap→wrap, decapsulate→encapsulate). Keys are persistent (token objects).',
    examples: [
      'coffer key create --type ec --curve P-256 --label release --usage sign',
      'coffer key create --type aes --bits 256 --label data-key',
      'coffer key create --type ml-dsa --param-set ML-DSA-87 --output json',
    ],
    async run(ctx) {
      const type = optString(ctx.args, 'type');
      if (!type) throw new UsageError(`missing required option --type (${Object.keys(KEY_TYPES).join(', ')})`);
      const choices: Parameters<typeof templateFor>[0] = { type };
      const curve = optString(ctx.args, 'curve');
      const bits = optInt(ctx.args, 'bits');
      const paramSet = optString(ctx.args, 'param-set');
      const label = optString(ctx.args, 'label');
      const usage = optList(ctx.args, 'usage');
      if (curve !== undefined) choices.curve = curve;
      if (bits !== undefined) choices.bits = bits;
      if (paramSet !== undefined) choices.paramSet = paramSet;
      if (label !== undefined) choices.label = label;
      if (usage !== undefined) choices.usage = usage;
      if (optBool(ctx.args, 'extractable')) choices.extractable = true;
      const template = templateFor(choices);
      ctx.info(`generating ${type} key${template.modulusBits ? ` (${String(template.modulusBits)} bits; this can take a few seconds)` : ''}…`);
      const { body } = await ctx.client.request<{ key?: KeyDescription; privateKey?: KeyDescription; publicKey?: KeyDescription }>('POST', '/v1/keys', { body: { template } });
      const lines = body.key
        ? [`Created key ${body.key.uid}`, renderRecord(body.key, SHOW_ORDER.slice(1, 9), true)]
        : [`Created key pair`, `private key: ${body.privateKey?.uid}`, `public key:  ${body.publicKey?.uid}`, renderRecord(body.privateKey ?? {}, SHOW_ORDER.slice(1, 9), true)];
      ctx.print(body, lines.join('\n'));
      return EXIT.OK;
    },
  },
  {
    noun: 'key',
    verb: 'list',
    summary: 'list keys, filtered',
    synopsis: '[--label L] [--type T] [--class C] [--state S] [--alias A] [--limit N]',
    options: [
      { name: 'label', short: 'l', kind: 'string', value: 'L', help: 'only keys with this label' },
      { name: 'type', short: 't', kind: 'string', value: 'TYPE', help: 'only this key type (ec, rsa, aes, ml-dsa …)' },
      { name: 'class', kind: 'string', value: 'C', help: 'secret-key, private-key, public-key, certificate, data' },
      { name: 'state', kind: 'string', value: 'S', help: 'enabled, disabled, pending-deletion' },
      { name: 'alias', kind: 'string', value: 'A', help: 'only the key with this alias' },
      { name: 'limit', short: 'n', kind: 'integer', value: 'N', help: 'show at most N keys (default 100)' },
    ],
    examples: ['coffer key list', 'coffer key list --type ec --label release', 'coffer key list --output json --limit 1000'],
    async run(ctx) {
      const limit = optInt(ctx.args, 'limit') ?? 100;
      if (limit < 1 || limit > 100_000) throw new UsageError('--limit must be 1 to 100000');
      const query = new URLSearchParams();
      const filters: [string, string][] = [
        ['label', 'label'],
        ['class', 'class'],
        ['state', 'state'],
        ['alias', 'alias'],
      ];
      for (const [opt, q] of filters) {
        const v = optString(ctx.args, opt);
        if (v !== undefined) query.set(q, v);
      }
      const type = optString(ctx.args, 'type');
      if (type !== undefined) query.set('keyType', keyTypeFilter(type));
      const keys: KeyDescription[] = [];
      let cursor: string | undefined;
      do {
        const q = new URLSearchParams(query);
        q.set('limit', String(Math.min(1000, limit - keys.length)));
        if (cursor) q.set('cursor', cursor);
        const { body } = await ctx.client.request<{ keys: KeyDescription[]; nextCursor?: string }>('GET', `/v1/keys?${q}`);
        keys.push(...body.keys);
        cursor = body.nextCursor;
      } while (cursor && keys.length < limit);
      const result: { keys: KeyDescription[]; more?: boolean } = { keys };
      if (cursor) result.more = true;
      ctx.print(result, keys.length === 0 ? 'No keys.' : renderTable(keys, LIST_COLUMNS));
      if (cursor) ctx.info(`more keys than --limit ${limit}; raise --limit or filter`);
      return EXIT.OK;
    },
  },
  {
    noun: 'key',
    verb: 'show',
    summary: 'describe a key: attributes, state, versions, aliases, tags',
    synopsis: '<key | alias/NAME>',
    options: [KEY_OPTION],
    positionals: [0, 1],
    examples: ['coffer key show 3f9c…', 'coffer key show alias/release'],
    async run(ctx) {
      const key = await describeKey(ctx, keyArg(ctx));
      ctx.print({ key }, renderRecord(key, SHOW_ORDER));
      return EXIT.OK;
    },
  },
  {
    noun: 'key',
    verb: 'rotate',
    summary: 'add a new version of a secret key; older versions still decrypt and verify',
    synopsis: '<key>',
    options: [KEY_OPTION],
    positionals: [0, 1],
    examples: ['coffer key rotate alias/data-key'],
    async run(ctx) {
      const id = keyArg(ctx);
      const { body } = await ctx.client.request<{ version: number }>('POST', RestClient.keyPath(id, '/rotate'), { body: {} });
      ctx.print(body, `Key ${id} is now at version ${body.version}.`);
      return EXIT.OK;
    },
  },
  {
    noun: 'key',
    verb: 'alias set',
    summary: "replace a key's aliases",
    synopsis: '--key K NAME...',
    options: [{ ...KEY_OPTION, help: 'key uid or alias/<name>' }],
    positionals: [0, 32],
    details: 'With no NAME the aliases are removed. Use a key by alias as alias/NAME.',
    examples: ['coffer key alias set --key 3f9c… release release-2025', 'coffer key sign --key alias/release -i file -o file.sig'],
    async run(ctx) {
      const id = optString(ctx.args, 'key');
      if (!id) throw new UsageError('missing required option --key');
      const res = await ctx.client.request<{ key: KeyDescription }>('PUT', RestClient.keyPath(id, '/aliases'), { body: { aliases: ctx.args.positionals } });
      const aliases = (res.body.key.aliases as string[] | undefined) ?? [];
      ctx.print(res.body, aliases.length ? `Key ${res.body.key.uid} aliases: ${aliases.join(', ')}` : `Key ${res.body.key.uid} has no aliases.`);
      return EXIT.OK;
    },
  },
  {
    noun: 'key',
    verb: 'tag',
    summary: 'set or remove tags on a key (NAME=VALUE adds or changes, --remove NAME drops)',
    synopsis: '--key K [NAME=VALUE...] [--remove NAME,...]',
    options: [{ ...KEY_OPTION, help: 'key uid or alias/<name>' }, { name: 'remove', kind: 'list', value: 'NAME', help: 'tags to remove' }],
    positionals: [0, 50],
    examples: ['coffer key tag --key alias/release team=build env=prod', 'coffer key tag --key alias/release --remove env'],
    async run(ctx) {
      const id = optString(ctx.args, 'key');
      if (!id) throw new UsageError('missing required option --key');
      const changes: [string, string][] = ctx.args.positionals.map((p) => {
        const eq = p.indexOf('=');
        if (eq < 1) throw new UsageError(`tags are NAME=VALUE, not ${JSON.stringify(p.slice(0, 40))}`);
        return [p.slice(0, eq), p.slice(eq + 1)];
      });
      const current = await describeKey(ctx, id);
      const tags: Record<string, string> = { ...((current.tags as Record<string, string> | undefined) ?? {}) };
      for (const name of optList(ctx.args, 'remove') ?? []) delete tags[name];
      for (const [n, v] of changes) tags[n] = v;
      const res = await ctx.client.request<{ key: KeyDescription }>('PUT', RestClient.keyPath(current.uid, '/tags'), { body: { tags } });
      ctx.print(res.body, renderRecord({ uid: res.body.key.uid, tags: res.body.key.tags }));
      return EXIT.OK;
    },
  },
  {
    noun: 'key',
    verb: 'enable',
    summary: 'allow a disabled key to be used again',
    synopsis: '<key>',
    options: [KEY_OPTION],
    positionals: [0, 1],
    examples: ['coffer key enable alias/release'],
    run: (ctx) => patchState(ctx, 'enabled'),
  },
  {
    noun: 'key',
    verb: 'disable',
    summary: 'refuse every use of a key until it is enabled',
    synopsis: '<key>',
    options: [KEY_OPTION],
    positionals: [0, 1],
    examples: ['coffer key disable alias/release'],
    run: (ctx) => patchState(ctx, 'disabled'),
  },
  {
    noun: 'key',
    verb: 'delete',
    summary: 'schedule a key for destruction after N days (7 to 30, default 30)',
    synopsis: '<key> [--days N]',
    options: [KEY_OPTION, { name: 'days', kind: 'integer', value: 'N', help: 'waiting period, 7 to 30 days (default 30)' }],
    positionals: [0, 1],
    details: 'The key is unusable while it waits; cancel with coffer key cancel-deletion.',
    examples: ['coffer key delete alias/old --days 7'],
    async run(ctx) {
      const id = keyArg(ctx);
      const days = optInt(ctx.args, 'days');
      if (days !== undefined && (days < 7 || days > 30)) throw new UsageError('--days must be 7 to 30');
      const { body } = await ctx.client.request<{ deletionDate: string }>('POST', RestClient.keyPath(id, '/schedule-deletion'), { body: days !== undefined ? { days } : {} });
      ctx.print(body, `Key ${id} will be destroyed on ${body.deletionDate}.\nChanged your mind? coffer key cancel-deletion ${id}`);
      return EXIT.OK;
    },
  },
  {
    noun: 'key',
    verb: 'cancel-deletion',
    summary: 'cancel a scheduled deletion (the key comes back disabled)',
    synopsis: '<key>',
    options: [KEY_OPTION],
    positionals: [0, 1],
    examples: ['coffer key cancel-deletion alias/old && coffer key enable alias/old'],
    async run(ctx) {
      const id = keyArg(ctx);
      const res = await ctx.client.request<{ key: KeyDescription }>('POST', RestClient.keyPath(id, '/cancel-deletion'), { body: {} });
      ctx.print(res.body, `Deletion cancelled; key ${res.body.key.uid} is ${res.body.key.state}.`);
      return EXIT.OK;
    },
  },
  {
    noun: 'key',
    verb: 'destroy',
    summary: 'destroy a key now, irrevocably (needs --yes)',
    synopsis: '<key> --yes',
    options: [KEY_OPTION, { name: 'yes', kind: 'boolean', help: 'confirm: data encrypted under the key becomes unreadable' }],
    positionals: [0, 1],
    details: 'Prefer coffer key delete, which leaves a waiting period to change your mind.',
    examples: ['coffer key destroy 3f9c… --yes'],
    async run(ctx) {
      const id = keyArg(ctx);
      if (!optBool(ctx.args, 'yes')) throw new UsageError(`destroying is irrevocable: add --yes, or use 'coffer key delete ${id}' for a waiting period`);
      await ctx.client.request('DELETE', RestClient.keyPath(id));
      ctx.print({ destroyed: id }, `Destroyed key ${id}.`);
      return EXIT.OK;
    },
  },
  {
    noun: 'key',
    verb: 'public',
    summary: 'export the public key of a pair as PEM, DER or JWK',
    synopsis: '--key K [--format pem|der|jwk] [-o FILE]',
    options: [
      KEY_OPTION,
      { name: 'format', short: 'f', kind: 'string', value: 'pem|der|jwk', help: 'pem (default), der (binary), or jwk (RSA, EC, OKP)' },
      { name: 'out', short: 'o', kind: 'string', value: 'FILE', help: 'write here (default: stdout)' },
    ],
    positionals: [0, 1],
    examples: ['coffer key public --key alias/release -o release.pem', 'openssl dgst -sha256 -verify release.pem -signature file.sig file'],
    async run(ctx) {
      const id = keyArg(ctx);
      const format = optString(ctx.args, 'format') ?? 'pem';
      if (!['pem', 'der', 'jwk'].includes(format)) throw new UsageError('--format must be pem, der or jwk');
      const { body } = await ctx.client.request<{ pem?: string; der?: string; jwk?: Record<string, unknown> }>('GET', RestClient.keyPath(id, `/public?format=${format}`));
      const out = optString(ctx.args, 'out');
      if (ctx.output === 'json' && out === undefined) ctx.print(body, '');
      else if (format === 'der') await writeOutput(out, Buffer.from(body.der ?? '', 'base64'));
      else if (format === 'jwk') await writeOutput(out, `${JSON.stringify(body.jwk, null, 2)}\n`);
      else await writeOutput(out, body.pem ?? '');
      if (out !== undefined && out !== '-') ctx.info(`wrote the public key of ${id} to ${out}`);
      return EXIT.OK;
    },
  },
];
