// `coffer backup export|restore|inspect` (docs/backup.md). Export writes the sealed backup file
// (0600) and shows the backup shares once; restore sends the file with M shares read from files
// (an encrypted share is opened here with the custodian's key or passphrase, as for unseal);
// inspect reads the clear header offline, through the boundary's door, with no server and no key.

import { createPublicKey } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { optInt, optList, optString, UsageError } from '../args.js';
import type { CommandDef, Context } from '../command.js';
import { CliError, EXIT } from '../exit-codes.js';
import { writeOutput } from '../file-io.js';
import { readPassword } from '../password-prompt.js';
import { openShare, ShareFormatError, shareEncoding } from '../share-envelope.js';
import { renderRecord, renderTable } from '../table.js';

type ShareOut = { index: number; encoding: string; share: string };
type Counts = { partitions: number; users: number; objects: number; versions: number };
type Exported = { backup: string; backupId: string; createdAt: string; counts: Counts; chainHead: { seq: number; hash: string }; shares: ShareOut[]; threshold: number; verified: boolean };

/** A backup file may be far larger than the 1 MiB of ordinary inputs; the server's body limit decides. */
const MAX_BACKUP_FILE = 512 * 1024 * 1024;

async function readFileOr(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new CliError(`cannot read ${what} ${JSON.stringify(path)} (${(e as { code?: string }).code ?? 'error'})`, EXIT.USAGE, 'FILE_UNREADABLE', 'check the path');
  }
}

async function readBackupFile(ctx: Context): Promise<Buffer> {
  const path = optString(ctx.args, 'in');
  if (path === undefined) throw new UsageError('-i FILE is required (the backup file)');
  const data = await readFileOr(path, 'backup');
  if (data.length > MAX_BACKUP_FILE) throw new CliError(`the backup is larger than ${MAX_BACKUP_FILE} bytes`, EXIT.USAGE, 'INPUT_TOO_LARGE');
  return data;
}

type Custodian = { kind: 'x25519' | 'rsa-oaep'; publicKey: string } | { kind: 'passphrase'; passphrase: string };

async function custodians(ctx: Context): Promise<Custodian[]> {
  const out: Custodian[] = [];
  for (const file of optList(ctx.args, 'custodian-key') ?? []) {
    const data = await readFileOr(file, 'custodian key');
    let kind: 'x25519' | 'rsa-oaep' | undefined;
    let der: Buffer;
    try {
      const key = data.includes('-----BEGIN') ? createPublicKey(data.toString('utf8')) : createPublicKey({ key: data, format: 'der', type: 'spki' });
      kind = key.asymmetricKeyType === 'x25519' ? 'x25519' : key.asymmetricKeyType === 'rsa' ? 'rsa-oaep' : undefined;
      der = key.export({ format: 'der', type: 'spki' });
    } catch {
      throw new CliError(`${file} is not a public key`, EXIT.USAGE, 'KEY_FILE_INVALID', 'give a PEM or DER SubjectPublicKeyInfo (openssl pkey -pubout)');
    }
    if (!kind) throw new CliError(`${file}: a custodian key is X25519 or RSA`, EXIT.USAGE, 'KEY_FILE_INVALID');
    out.push({ kind, publicKey: der.toString('base64') });
  }
  for (const file of optList(ctx.args, 'custodian-passphrase-file') ?? []) {
    out.push({ kind: 'passphrase', passphrase: (await readFileOr(file, 'passphrase file')).toString('utf8').replace(/\r?\n$/, '') });
  }
  return out;
}

/** One share file's clear share: opened here if it is encrypted to its custodian. */
async function clearShare(ctx: Context, file: string): Promise<string> {
  const text = (await readFileOr(file, 'share file')).toString('utf8').trim();
  let enc: ReturnType<typeof shareEncoding>;
  try {
    enc = shareEncoding(text);
  } catch (e) {
    throw new CliError(`${file}: ${(e as Error).message}`, EXIT.USAGE, 'SHARE_FORMAT');
  }
  if (enc === 'clear') return text;
  const unreadable = (e: ShareFormatError): CliError => new CliError(`${file}: ${e.message}`, EXIT.REFUSED, 'SHARE_UNREADABLE', 'check that this is the share and the key or passphrase');
  if (enc === 'scrypt') {
    const pf = optString(ctx.args, 'passphrase-file');
    const passphrase = pf !== undefined ? (await readFileOr(pf, 'passphrase file')).toString('utf8').replace(/\r?\n$/, '') : await readPassword(false, `Passphrase for ${file}: `);
    try {
      return await openShare(text, { passphrase });
    } catch (e) {
      if (e instanceof ShareFormatError) throw unreadable(e);
      throw e;
    }
  }
  // Several custodians may be present at one restore: each share is tried with each --identity.
  const ids = optList(ctx.args, 'identity') ?? [];
  if (ids.length === 0) throw new CliError(`${file} is encrypted to a custodian key`, EXIT.USAGE, 'IDENTITY_REQUIRED', "give the custodian's private key with --identity FILE");
  let last: ShareFormatError | undefined;
  for (const id of ids) {
    try {
      return await openShare(text, { identity: await readFileOr(id, 'identity') });
    } catch (e) {
      if (!(e instanceof ShareFormatError)) throw e;
      last = e;
    }
  }
  throw unreadable(last!);
}

function countsLine(c: Counts): string {
  return `${c.partitions} partitions, ${c.users} accounts, ${c.objects} objects, ${c.versions} key versions`;
}

export const BACKUP_COMMANDS: CommandDef[] = [
  {
    noun: 'backup',
    verb: 'export',
    summary: 'write a backup of every partition, account and key, sealed under a new backup key split into N shares (admin; quorum-gated)',
    synopsis: '-o FILE [--shares N --threshold M] [--custodian-key FILE …] [--custodian-passphrase-file FILE …] [--share-dir DIR]',
    options: [
      { name: 'out', short: 'o', kind: 'string', value: 'FILE', help: 'write the backup file here (mode 0600)' },
      { name: 'shares', kind: 'integer', value: 'N', help: "backup shares (1–16; default: the server's own N)" },
      { name: 'threshold', kind: 'integer', value: 'M', help: "how many open the backup (default: the server's own M)" },
      { name: 'custodian-key', kind: 'list', value: 'FILE', help: "a custodian's public key (X25519 or RSA), repeatable: backup share 1 goes to the first, …" },
      { name: 'custodian-passphrase-file', kind: 'list', value: 'FILE', help: 'a passphrase for the next share after the keys, repeatable' },
      { name: 'share-dir', kind: 'string', value: 'DIR', help: 'write backup-share-<i>.txt files (0600) there instead of printing the shares' },
    ],
    details:
      'The server reads the file back and opens it with its own shares before answering. The shares are shown once: without M of them the backup restores only on a server with this master key. If a quorum governs backup.export, the first call opens a request; run the same command again once it is approved.',
    examples: ['coffer backup export -o coffer.backup --shares 5 --threshold 3 --share-dir ./backup-shares'],
    async run(ctx) {
      const out = optString(ctx.args, 'out');
      if (out === undefined || out === '-') throw new UsageError('-o FILE is required (the backup is binary)');
      const body: Record<string, unknown> = {};
      const n = optInt(ctx.args, 'shares');
      const m = optInt(ctx.args, 'threshold');
      if (n !== undefined) body.shares = n;
      if (m !== undefined) body.threshold = m;
      const cs = await custodians(ctx);
      if (cs.length > 0) body.custodians = cs;
      ctx.info('exporting and verifying the backup …');
      const { body: r } = await ctx.client.request<Exported>('POST', '/v1/sys/backup', { body });
      await writeOutput(out, Buffer.from(r.backup, 'base64'), 0o600);
      const summary = { file: out, backupId: r.backupId, createdAt: r.createdAt, counts: r.counts, chainHead: r.chainHead, threshold: r.threshold, verified: r.verified };
      const dir = optString(ctx.args, 'share-dir');
      if (dir !== undefined) {
        await mkdir(dir, { recursive: true, mode: 0o700 });
        const files = [];
        for (const s of r.shares) {
          const f = join(dir, `backup-share-${s.index}.txt`);
          await writeFile(f, `${s.share}\n`, { mode: 0o600, flag: 'wx' });
          files.push({ index: s.index, encoding: s.encoding, file: f });
        }
        ctx.print({ ...summary, shares: files }, `Backup ${r.backupId} written to ${out} (${countsLine(r.counts)}), verified.\n${r.shares.length} backup shares in ${dir}/backup-share-<i>.txt; any ${r.threshold} restore it.`);
        return EXIT.OK;
      }
      process.stderr.write(`Backup ${r.backupId} written to ${out} (${countsLine(r.counts)}), verified.\nThe backup shares below are shown ONCE. Any ${r.threshold} of ${r.shares.length} open the backup.\n`);
      ctx.print({ ...summary, shares: r.shares }, renderTable(r.shares as unknown as Record<string, unknown>[], ['index', 'encoding', 'share']));
      return EXIT.OK;
    },
  },
  {
    noun: 'backup',
    verb: 'restore',
    summary: "restore a backup into an empty server with M of the backup's shares (admin; quorum-gated)",
    synopsis: '-i FILE [--share-file FILE …] [--identity FILE …] [--passphrase-file FILE]',
    options: [
      { name: 'in', short: 'i', kind: 'string', value: 'FILE', help: 'the backup file' },
      { name: 'share-file', kind: 'list', value: 'FILE', help: 'a backup share, repeatable (M of them); none: only a server with the source master key opens it' },
      { name: 'identity', kind: 'list', value: 'FILE', help: 'a custodian private key, for shares encrypted to it; repeatable (each share is tried with each)' },
      { name: 'passphrase-file', kind: 'string', value: 'FILE', help: 'the passphrase, for passphrase-protected shares (default: prompt)' },
    ],
    details:
      "The server must be initialised, unsealed and empty (no partitions): initialise a new one with 'coffer init' first. Everything is written in one transaction or nothing is; a corrupted or truncated file is refused with BACKUP_INVALID. Accounts the server already has (its own admin) are kept.",
    examples: ['coffer backup restore -i coffer.backup --share-file backup-share-1.txt --share-file backup-share-4.txt --share-file backup-share-5.txt'],
    async run(ctx) {
      const file = await readBackupFile(ctx);
      const shares: string[] = [];
      for (const f of optList(ctx.args, 'share-file') ?? []) shares.push(await clearShare(ctx, f));
      const body: Record<string, unknown> = { backup: file.toString('base64') };
      if (shares.length > 0) body.shares = shares;
      const { body: r } = await ctx.client.request<{ backupId: string; counts: Counts; keySource: string; skippedUsers: string[] }>('POST', '/v1/sys/restore', { body });
      const kept = r.skippedUsers.length > 0 ? `\nKept this server's own accounts: ${r.skippedUsers.join(', ')}.` : '';
      ctx.print(r, `Restored backup ${r.backupId} (${countsLine(r.counts)}), opened with ${r.keySource}.${kept}`);
      return EXIT.OK;
    },
  },
  {
    noun: 'backup',
    verb: 'inspect',
    summary: "show a backup file's clear header offline: id, date, counts, share threshold (no server, no key)",
    synopsis: '-i FILE',
    options: [{ name: 'in', short: 'i', kind: 'string', value: 'FILE', help: 'the backup file' }],
    examples: ['coffer backup inspect -i coffer.backup'],
    async run(ctx) {
      const file = await readBackupFile(ctx);
      // Loaded here only: the header parser, reached through the one door (no store, no key).
      const { describeBackup, isHsmError } = await import('../../boundary/api.js');
      let d: ReturnType<typeof describeBackup>;
      try {
        d = describeBackup(file);
      } catch (e) {
        if (isHsmError(e)) throw new CliError(e.message, EXIT.REFUSED, e.code, 'this is not a Coffer backup, or it is damaged');
        throw e;
      }
      ctx.print(d, renderRecord({ backupId: d.backupId, createdAt: d.createdAt, counts: countsLine(d.counts), chainHead: `${d.chainHead.seq}:${d.chainHead.hash}`, shares: `${d.shares.threshold} of ${d.shares.count}`, masterKeyWrapped: d.masterKeyWrapped }));
      return EXIT.OK;
    },
  },
];
