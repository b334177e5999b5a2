// `coffer init | unseal | seal | rekey … | rotate-master-key | seal-status`: the Shamir ceremony
// (docs/ceremony.md). A share is read from stdin or a hidden prompt, never from an argument (argv
// is visible in ps and shell history); an encrypted share is opened here with the custodian's
// private key or passphrase, so only the clear share crosses the wire, once.

import { createPublicKey } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { optInt, optList, optString, UsageError } from '../args.js';
import type { CommandDef, Context } from '../command.js';
import { CliError, EXIT } from '../exit-codes.js';
import { readPassword } from '../password-prompt.js';
import { openShare, ShareFormatError, shareEncoding } from '../share-envelope.js';
import { renderRecord, renderTable } from '../table.js';

type ShareOut = { index: number; encoding: string; share: string };
type Issued = { shares: ShareOut[]; threshold: number; epoch: number };
type Custodian = { kind: 'x25519' | 'rsa-oaep'; publicKey: string } | { kind: 'passphrase'; passphrase: string };

const CUSTODIAN_OPTIONS = [
  { name: 'custodian-key', kind: 'list' as const, value: 'FILE', help: "a custodian's public key (PEM or DER; X25519 or RSA ≥ 2048), repeatable: share 1 goes to the first, …" },
  { name: 'custodian-passphrase-file', kind: 'list' as const, value: 'FILE', help: 'a file holding a passphrase for the next share after the keys, repeatable' },
  { name: 'out-dir', kind: 'string' as const, value: 'DIR', help: 'write share-<i>.txt files (mode 0600) there instead of printing the shares' },
];

async function readFileOr(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new CliError(`cannot read ${what} ${JSON.stringify(path)} (${(e as { code?: string }).code ?? 'error'})`, EXIT.USAGE, 'FILE_UNREADABLE', 'check the path');
  }
}

/** Custodian keys first (their kind read from the key itself), then passphrases, in the order given. */
async function custodians(ctx: Context): Promise<Custodian[]> {
  const out: Custodian[] = [];
  for (const file of optList(ctx.args, 'custodian-key') ?? []) {
    const data = await readFileOr(file, 'custodian key');
    let key: ReturnType<typeof createPublicKey>;
    try {
      key = data.includes('-----BEGIN') ? createPublicKey(data.toString('utf8')) : createPublicKey({ key: data, format: 'der', type: 'spki' });
    } catch {
      throw new CliError(`${file} is not a public key`, EXIT.USAGE, 'KEY_FILE_INVALID', 'give a PEM or DER SubjectPublicKeyInfo (openssl pkey -pubout)');
    }
    const kind = key.asymmetricKeyType === 'x25519' ? 'x25519' : key.asymmetricKeyType === 'rsa' ? 'rsa-oaep' : undefined;
    if (!kind) throw new CliError(`${file}: a custodian key is X25519 or RSA`, EXIT.USAGE, 'KEY_FILE_INVALID');
    out.push({ kind, publicKey: key.export({ format: 'der', type: 'spki' }).toString('base64') });
  }
  for (const file of optList(ctx.args, 'custodian-passphrase-file') ?? []) {
    const passphrase = (await readFileOr(file, 'passphrase file')).toString('utf8').replace(/\r?\n$/, '');
    out.push({ kind: 'passphrase', passphrase });
  }
  return out;
}

/** Shows or files the shares, once, with the warning they deserve. */
async function deliver(ctx: Context, issued: Issued, what: string): Promise<void> {
  const dir = optString(ctx.args, 'out-dir');
  if (dir !== undefined) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    for (const s of issued.shares) await writeFile(join(dir, `share-${s.index}.txt`), `${s.share}\n`, { mode: 0o600, flag: 'wx' });
    ctx.print(
      { threshold: issued.threshold, epoch: issued.epoch, files: issued.shares.map((s) => ({ index: s.index, encoding: s.encoding, file: join(dir, `share-${s.index}.txt`) })) },
      `${what}: ${issued.shares.length} shares, any ${issued.threshold} unseal. Written to ${dir}/share-<i>.txt (0600): hand each to its custodian and delete the file.`,
    );
    return;
  }
  process.stderr.write(`${what}: the shares below are shown ONCE. Any ${issued.threshold} of ${issued.shares.length} unseal the module; fewer reveal nothing.\n`);
  ctx.print(issued, renderTable(issued.shares as unknown as Record<string, unknown>[], ['index', 'encoding', 'share']));
}

/** A share from --share-file, stdin (piped) or a hidden prompt; opened if it is encrypted to the custodian. */
async function readShare(ctx: Context): Promise<string> {
  const file = optString(ctx.args, 'share-file');
  const text = file !== undefined ? (await readFileOr(file, 'share file')).toString('utf8').trim() : (await readPassword(!process.stdin.isTTY, 'Share: ')).trim();
  if (text === '') throw new CliError('empty share', EXIT.USAGE, 'SHARE_EMPTY');
  let enc: ReturnType<typeof shareEncoding>;
  try {
    enc = shareEncoding(text);
  } catch (e) {
    throw new CliError((e as Error).message, EXIT.USAGE, 'SHARE_FORMAT');
  }
  if (enc === 'clear') return text;
  const secret: { identity?: Buffer; passphrase?: string } = {};
  if (enc === 'scrypt') {
    const pf = optString(ctx.args, 'passphrase-file');
    secret.passphrase = pf !== undefined ? (await readFileOr(pf, 'passphrase file')).toString('utf8').replace(/\r?\n$/, '') : await readPassword(false, 'Share passphrase: ');
  } else {
    const id = optString(ctx.args, 'identity');
    if (id === undefined) throw new CliError(`this share is encrypted to a ${enc === 'x25519' ? 'X25519' : 'RSA'} key`, EXIT.USAGE, 'IDENTITY_REQUIRED', "give the custodian's private key with --identity FILE");
    secret.identity = await readFileOr(id, 'identity');
  }
  try {
    return await openShare(text, secret);
  } catch (e) {
    if (e instanceof ShareFormatError) throw new CliError(e.message, EXIT.REFUSED, 'SHARE_UNREADABLE', 'check that this is your share and your key or passphrase');
    throw e;
  }
}

const SHARE_INPUT_OPTIONS = [
  { name: 'share-file', kind: 'string' as const, value: 'FILE', help: 'read the share from FILE (default: stdin if piped, else a hidden prompt)' },
  { name: 'identity', kind: 'string' as const, value: 'FILE', help: 'your private key (PEM/PKCS#8), for a share encrypted to X25519 or RSA' },
  { name: 'passphrase-file', kind: 'string' as const, value: 'FILE', help: 'your passphrase, for a passphrase-protected share (default: prompt)' },
];

function counts(ctx: Context, required: boolean): { shares?: number; threshold?: number } {
  const shares = optInt(ctx.args, 'shares');
  const threshold = optInt(ctx.args, 'threshold');
  if (required && (shares === undefined || threshold === undefined)) throw new UsageError('--shares and --threshold are required');
  const out: { shares?: number; threshold?: number } = {};
  if (shares !== undefined) out.shares = shares;
  if (threshold !== undefined) out.threshold = threshold;
  return out;
}

const COUNT_OPTIONS = [
  { name: 'shares', kind: 'integer' as const, value: 'N', help: 'how many shares (1–16)' },
  { name: 'threshold', kind: 'integer' as const, value: 'M', help: 'how many shares unseal (1–N)' },
];

export const CEREMONY_COMMANDS: CommandDef[] = [
  {
    noun: 'init',
    summary: 'initialise a new server: master key made inside, split into N shares (threshold M), first admin',
    synopsis: '--shares N --threshold M [--admin NAME] [--password-stdin] [--custodian-key FILE …] [--custodian-passphrase-file FILE …] [--out-dir DIR]',
    options: [
      ...COUNT_OPTIONS,
      { name: 'admin', kind: 'string', value: 'NAME', help: 'the first admin account (default admin)' },
      { name: 'password-stdin', kind: 'boolean', help: "read the admin's password from stdin (default: prompt)" },
      ...CUSTODIAN_OPTIONS,
    ],
    details: 'Shares without a custodian are printed in the clear. The server is left sealed: unseal it with M shares to prove them.',
    examples: ['coffer init --shares 5 --threshold 3 --custodian-key alice.pub.pem --custodian-key bob.pub.pem --out-dir ./shares'],
    async run(ctx) {
      const body: Record<string, unknown> = { ...counts(ctx, true) };
      const cs = await custodians(ctx);
      if (cs.length > 0) body.custodians = cs;
      const password = await readPassword(ctx.args.options['password-stdin'] === true, 'New admin password: ');
      body.admin = { name: optString(ctx.args, 'admin') ?? 'admin', password };
      const res = await ctx.client.request<Issued>('POST', '/v1/sys/init', { body, anonymous: true });
      await deliver(ctx, res.body, 'Initialised');
      return EXIT.OK;
    },
  },
  {
    noun: 'unseal',
    summary: 'submit one share towards unsealing (from stdin or a prompt, never an argument)',
    synopsis: '[--share-file FILE] [--identity FILE] [--passphrase-file FILE]',
    options: SHARE_INPUT_OPTIONS,
    examples: ['coffer unseal                               # prompts for the share', 'coffer unseal --share-file share-2.txt --identity ~/.coffer/custodian.pem'],
    async run(ctx) {
      const share = await readShare(ctx);
      const res = await ctx.client.request<{ progress: number; threshold: number; unsealed: boolean }>('POST', '/v1/sys/unseal', { body: { share }, anonymous: true });
      const b = res.body;
      ctx.print(b, b.unsealed ? 'Unsealed.' : `Share accepted: ${b.progress} of ${b.threshold}. Sealed until ${b.threshold - b.progress} more.`);
      return EXIT.OK;
    },
  },
  {
    noun: 'seal',
    summary: 'seal the server (admin): forget the master key and every key, end every session',
    synopsis: '',
    options: [],
    async run(ctx) {
      const res = await ctx.client.request<{ state: string }>('POST', '/v1/sys/seal');
      ctx.print(res.body, `Sealed (state ${res.body.state}).`);
      return EXIT.OK;
    },
  },
  {
    noun: 'seal-status',
    summary: 'initialised?, sealed?, shares, threshold and unseal/rekey progress (no login needed)',
    synopsis: '',
    options: [],
    async run(ctx) {
      const res = await ctx.client.request<Record<string, unknown>>('GET', '/v1/sys/seal-status', { anonymous: true });
      const { rekey, ...rest } = res.body;
      ctx.print(res.body, `${renderRecord(rest, ['initialized', 'state', 'shares', 'threshold', 'epoch', 'unsealProgress'])}${rekey ? `\nrekey in progress:\n${renderRecord(rekey as Record<string, unknown>)}` : ''}`);
      return EXIT.OK;
    },
  },
  {
    noun: 'rekey',
    verb: 'init',
    summary: 'start a rekey (admin): new shares (N, M) for the same master key once M current shares are submitted',
    synopsis: '--shares N --threshold M [--custodian-key FILE …] [--custodian-passphrase-file FILE …]',
    options: [...COUNT_OPTIONS, ...CUSTODIAN_OPTIONS.slice(0, 2)],
    examples: ['coffer rekey init --shares 3 --threshold 2', 'coffer rekey submit --nonce <nonce>   # by M custodians'],
    async run(ctx) {
      const body: Record<string, unknown> = { ...counts(ctx, true) };
      const cs = await custodians(ctx);
      if (cs.length > 0) body.custodians = cs;
      const res = await ctx.client.request<Record<string, unknown>>('POST', '/v1/sys/rekey/init', { body });
      ctx.print(res.body, `Rekey started. Custodians submit their current shares with:\n  coffer rekey submit --nonce ${String(res.body.nonce)}\n${res.body.threshold} current shares are needed.`);
      return EXIT.OK;
    },
  },
  {
    noun: 'rekey',
    verb: 'submit',
    summary: 'submit one current share towards the rekey (no login); the last one receives the new shares',
    synopsis: '--nonce NONCE [--share-file FILE] [--identity FILE] [--passphrase-file FILE] [--out-dir DIR]',
    options: [{ name: 'nonce', kind: 'string', value: 'NONCE', help: "the rekey's nonce, from 'coffer rekey init' or 'coffer seal-status'" }, ...SHARE_INPUT_OPTIONS, CUSTODIAN_OPTIONS[2]!],
    async run(ctx) {
      const nonce = optString(ctx.args, 'nonce');
      if (!nonce) throw new UsageError('--nonce is required');
      const share = await readShare(ctx);
      const res = await ctx.client.request<{ progress: number; threshold: number; complete: boolean; issued?: Issued }>('POST', '/v1/sys/rekey', { body: { share, nonce }, anonymous: true });
      if (res.body.complete && res.body.issued) await deliver(ctx, res.body.issued, 'Rekeyed (the old shares no longer work)');
      else ctx.print(res.body, `Share accepted: ${res.body.progress} of ${res.body.threshold}.`);
      return EXIT.OK;
    },
  },
  {
    noun: 'rekey',
    verb: 'cancel',
    summary: 'cancel the rekey in progress (admin)',
    synopsis: '',
    options: [],
    async run(ctx) {
      const res = await ctx.client.request('POST', '/v1/sys/rekey/cancel');
      ctx.print(res.body, 'Rekey cancelled.');
      return EXIT.OK;
    },
  },
  {
    noun: 'rotate-master-key',
    summary: 'new master key (admin): partition keys re-wrapped, new shares issued, the old shares stop working',
    synopsis: '[--shares N --threshold M] [--custodian-key FILE …] [--custodian-passphrase-file FILE …] [--out-dir DIR]',
    options: [...COUNT_OPTIONS, ...CUSTODIAN_OPTIONS],
    details: 'N and M default to the current ones. Keep the output safe before anything else: it is the only copy of the new shares.',
    async run(ctx) {
      const body: Record<string, unknown> = { ...counts(ctx, false) };
      const cs = await custodians(ctx);
      if (cs.length > 0) body.custodians = cs;
      const res = await ctx.client.request<Issued>('POST', '/v1/sys/rotate-master-key', { body });
      await deliver(ctx, res.body, 'Master key rotated (the old shares no longer work)');
      return EXIT.OK;
    },
  },
];
