// `coffer audit list|export|public-key|verify`: the audit log. `verify` runs offline, with only an
// export and the audit public key: it loads the pure verifier through the boundary's door on
// demand (no server, no store), so the other commands keep starting without the boundary.

import { readFile } from 'node:fs/promises';
import { optInt, optString, requireString, UsageError } from '../args.js';
import type { CommandDef } from '../command.js';
import { CliError, EXIT } from '../exit-codes.js';
import { writeOutput } from '../file-io.js';
import { renderTable } from '../table.js';

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new CliError(`cannot read ${what} ${JSON.stringify(path)}${code ? ` (${code})` : ''}`, EXIT.USAGE, 'FILE_UNREADABLE', 'check the path');
  }
}

export const AUDIT_COMMANDS: CommandDef[] = [
  {
    noun: 'audit',
    verb: 'list',
    summary: 'list audit records (auditor)',
    synopsis: '[--from-seq N] [--limit N]',
    options: [
      { name: 'from-seq', kind: 'integer', value: 'N', help: 'first record (default 1)' },
      { name: 'limit', kind: 'integer', value: 'N', help: 'at most this many records, 1–10000 (default 1000)' },
    ],
    examples: ['coffer audit list --from-seq 100 --limit 20', 'coffer audit list --output json'],
    async run(ctx) {
      const q = new URLSearchParams();
      const from = optInt(ctx.args, 'from-seq');
      const limit = optInt(ctx.args, 'limit');
      if (from !== undefined) q.set('fromSeq', String(from));
      if (limit !== undefined) q.set('limit', String(limit));
      const { body } = await ctx.client.request<{ records: Record<string, unknown>[]; nextFromSeq?: number }>('GET', `/v1/audit${q.size > 0 ? `?${q}` : ''}`);
      const more = body.nextFromSeq !== undefined ? `\n(more: --from-seq ${body.nextFromSeq})` : '';
      ctx.print(body, `${renderTable(body.records, ['seq', 'time', 'actor', 'partition', 'op', 'target', 'outcome', 'code'])}${more}`);
      return EXIT.OK;
    },
  },
  {
    noun: 'audit',
    verb: 'export',
    summary: 'export the whole audit log as JSON Lines, closed by a fresh signed checkpoint (auditor)',
    synopsis: '[-o FILE]',
    options: [{ name: 'out', short: 'o', kind: 'string', value: 'FILE', help: 'write here (default: stdout)' }],
    details: "Verify the file offline with 'coffer audit verify FILE --key audit.pem'. Note the last seq and hash it reports: a later export must reach them.",
    examples: ['coffer audit export -o audit.jsonl'],
    async run(ctx) {
      const { body } = await ctx.client.request<string>('GET', '/v1/audit/export', { raw: true });
      const out = optString(ctx.args, 'out');
      await writeOutput(out, body);
      const lines = body.split('\n').filter((l) => l !== '');
      const last = lines.length > 0 ? (JSON.parse(lines[lines.length - 1]!) as { seq?: number; hash?: string }) : {};
      if (out !== undefined && out !== '-') ctx.print({ file: out, records: lines.length, lastSeq: last.seq, lastHash: last.hash }, `Exported ${lines.length} records to ${out}; last seq ${last.seq}, hash ${last.hash}.`);
      return EXIT.OK;
    },
  },
  {
    noun: 'audit',
    verb: 'public-key',
    summary: 'print the audit public key (SPKI PEM) that verifies exports (auditor, admin)',
    synopsis: '[-o FILE]',
    options: [{ name: 'out', short: 'o', kind: 'string', value: 'FILE', help: 'write the PEM here (default: stdout)' }],
    examples: ['coffer audit public-key -o audit.pem'],
    async run(ctx) {
      const { body } = await ctx.client.request<{ publicKey: string; keyId: string }>('GET', '/v1/audit/public-key');
      const out = optString(ctx.args, 'out');
      if (ctx.output !== 'json') {
        await writeOutput(out, body.publicKey);
        return EXIT.OK;
      }
      if (out !== undefined && out !== '-') await writeOutput(out, body.publicKey);
      ctx.print(body, '');
      return EXIT.OK;
    },
  },
  {
    noun: 'audit',
    verb: 'verify',
    summary: 'verify an audit export offline: exit 0 valid, 1 broken (first bad record named), 2 usage',
    synopsis: '<export.jsonl> --key <audit-public.pem> [--min-seq N]',
    options: [
      { name: 'key', kind: 'string', value: 'PEM', help: "the audit public key ('coffer audit public-key'), obtained out of band" },
      { name: 'min-seq', kind: 'integer', value: 'N', help: 'fail unless the export reaches this seq (the last seq of an earlier export)' },
    ],
    positionals: [1, 1],
    details:
      'Needs no server. Checks every record from seq 1: the sequence, each link to the record before, each hash, and every signed checkpoint; the export must end with a checkpoint, so a cut tail is reported. Positions are line numbers.',
    examples: ['coffer audit verify audit.jsonl --key audit.pem', 'coffer audit verify audit.jsonl --key audit.pem --min-seq 1200 --output json'],
    async run(ctx) {
      const file = ctx.args.positionals[0]!;
      const keyPath = requireString(ctx.args, 'key');
      const minSeq = optInt(ctx.args, 'min-seq');
      const [text, pem] = await Promise.all([readText(file, 'export'), readText(keyPath, 'public key')]);
      // Loaded here only: the pure verifier (hashing and Ed25519), reached through the one door.
      const { verifyAuditExport, isHsmError } = await import('../../boundary/api.js');
      let verdict: ReturnType<typeof verifyAuditExport>;
      try {
        verdict = verifyAuditExport(text, pem, minSeq !== undefined ? { minSeq } : {});
      } catch (e) {
        if (isHsmError(e, 'ARGUMENTS_BAD')) throw new UsageError(`${keyPath}: not an Ed25519 public key (PEM)`);
        throw e;
      }
      if (verdict.ok) {
        ctx.print(verdict, `OK: ${verdict.records} records, ${verdict.checkpoints} signed checkpoints; verified through seq ${verdict.lastSeq} (hash ${verdict.lastHash}), last signed ${verdict.lastCheckpointTime}.`);
        return EXIT.OK;
      }
      ctx.print(verdict, `BROKEN at line ${verdict.position} (where seq ${verdict.expectedSeq} belongs): ${verdict.reason}. The ${verdict.records} records before it verify.`);
      return EXIT.NO;
    },
  },
];
