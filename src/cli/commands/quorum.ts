// `coffer quorum list|show|approve|reject|policy|set-policy`: M-of-N approvals. Gated commands
// (partition create, user create/delete, key destroy, zeroize, backup …) are run as usual; under
// a quorum they exit 5 with QUORUM_REQUIRED and the request id. Approvers show it, then approve
// naming the digest they saw. The last approval runs it; backup export/restore are run again.

import { optBool, optInt, optString, requireString, UsageError } from '../args.js';
import type { CommandDef, Context } from '../command.js';
import { EXIT } from '../exit-codes.js';
import { renderRecord, renderTable } from '../table.js';

type Request = Record<string, unknown> & { id: string; status: string; quorum: number; approvals: { approver: string }[]; operation: unknown; canonical: string; digest: string };

function idArg(ctx: Context): string {
  const id = ctx.args.positionals[0];
  if (!id) throw new UsageError('give the request id (coffer quorum list)');
  return encodeURIComponent(id);
}

function summary(r: Request): Record<string, unknown> {
  return { ...r, approvals: `${r.approvals.length} of ${r.quorum}: ${r.approvals.map((a) => a.approver).join(', ') || 'none'}` };
}

const ORDER = ['id', 'class', 'status', 'requester', 'partition', 'approverRole', 'approvals', 'selfApproval', 'createdAt', 'expiresAt', 'closedAt', 'closedBy', 'reason', 'result', 'error'];

export const QUORUM_COMMANDS: CommandDef[] = [
  {
    noun: 'quorum',
    verb: 'list',
    summary: 'list the quorum requests this account may see',
    synopsis: '[--status pending|approved|executed|rejected|failed|expired]',
    options: [{ name: 'status', kind: 'string', value: 'STATUS', help: 'only requests in this state' }],
    examples: ['coffer quorum list --status pending'],
    async run(ctx) {
      const status = optString(ctx.args, 'status');
      const { body } = await ctx.client.request<{ requests: Request[] }>('GET', `/v1/quorum/requests${status ? `?status=${encodeURIComponent(status)}` : ''}`);
      const rows = body.requests.map((r) => ({ ...r, approvals: `${r.approvals.length}/${r.quorum}` }));
      ctx.print(body, renderTable(rows, ['id', 'class', 'requester', 'partition', 'status', 'approvals', 'expiresAt']));
      return EXIT.OK;
    },
  },
  {
    noun: 'quorum',
    verb: 'show',
    summary: 'show one request: the exact operation, its canonical JSON and the digest to approve',
    synopsis: 'ID',
    options: [],
    positionals: [1, 1],
    details: 'The digest is the SHA-256 of the canonical JSON shown; it covers the operation, the requester, the request id and the expiry.',
    examples: ['coffer quorum show q-5f0c…'],
    async run(ctx) {
      const { body } = await ctx.client.request<{ request: Request }>('GET', `/v1/quorum/requests/${idArg(ctx)}`);
      const r = body.request;
      ctx.print(body, `${renderRecord(summary(r), ORDER, true)}\noperation: ${JSON.stringify(r.operation)}\ncanonical: ${r.canonical}\ndigest:    ${r.digest}`);
      return EXIT.OK;
    },
  },
  {
    noun: 'quorum',
    verb: 'approve',
    summary: 'approve a request, naming the digest you checked with `coffer quorum show`',
    synopsis: 'ID --digest SHA256',
    options: [{ name: 'digest', kind: 'string', value: 'SHA256', help: 'the digest shown by `coffer quorum show ID`' }],
    positionals: [1, 1],
    details: 'The approval that reaches the quorum runs the operation (as its requester) and prints its result; an approval for a changed or another request is refused.',
    examples: ['coffer quorum show q-5f0c…', 'coffer quorum approve q-5f0c… --digest 9b1e…'],
    async run(ctx) {
      const digest = requireString(ctx.args, 'digest');
      const { body } = await ctx.client.request<{ request: Request }>('POST', `/v1/quorum/requests/${idArg(ctx)}/approve`, { body: { digest } });
      ctx.print(body, renderRecord(summary(body.request), ORDER, true));
      return EXIT.OK;
    },
  },
  {
    noun: 'quorum',
    verb: 'reject',
    summary: 'reject a request (an approver) or withdraw it (its requester)',
    synopsis: 'ID [--reason TEXT]',
    options: [{ name: 'reason', kind: 'string', value: 'TEXT', help: 'why, for the record (≤ 200 characters)' }],
    positionals: [1, 1],
    examples: ['coffer quorum reject q-5f0c… --reason "not in the change plan"'],
    async run(ctx) {
      const reason = optString(ctx.args, 'reason');
      const { body } = await ctx.client.request<{ request: Request }>('POST', `/v1/quorum/requests/${idArg(ctx)}/reject`, { body: reason ? { reason } : {} });
      ctx.print(body, renderRecord(summary(body.request), ORDER, true));
      return EXIT.OK;
    },
  },
  {
    noun: 'quorum',
    verb: 'policy',
    summary: 'show the quorum policy per operation class',
    synopsis: '',
    options: [],
    examples: ['coffer quorum policy'],
    async run(ctx) {
      const { body } = await ctx.client.request<{ policy: { expiryMs: number; classes: Record<string, Record<string, unknown>>; partitions: Record<string, Record<string, Record<string, unknown>>> } }>('GET', '/v1/quorum/policy');
      const p = body.policy;
      const rows = [
        ...Object.entries(p.classes).map(([cls, r]) => ({ class: cls, partition: '(all)', ...r })),
        ...Object.entries(p.partitions).flatMap(([part, rules]) => Object.entries(rules).map(([cls, r]) => ({ class: cls, partition: part, ...r }))),
      ];
      const text = `${rows.length ? renderTable(rows, ['class', 'partition', 'quorum', 'approverRole', 'selfApproval']) : 'no quorum rules: every class runs on one authorised call'}\nrequests expire after ${p.expiryMs / 1000} s`;
      ctx.print(body, text);
      return EXIT.OK;
    },
  },
  {
    noun: 'quorum',
    verb: 'set-policy',
    summary: "set one class's quorum rule, or the request expiry (admin; needs the quorum it replaces)",
    synopsis: '--class CLASS --quorum M [--partition P] [--approver-role admin|officer|user] [--self-approval] | --expiry SECONDS',
    options: [
      { name: 'class', kind: 'string', value: 'CLASS', help: 'partition.create, partition.delete, user.create, user.delete, user.role, policy.change, backup.export, backup.restore, key.destroy, zeroize, payment.key-form' },
      { name: 'quorum', kind: 'integer', value: 'M', help: 'distinct approvers needed (1 = no quorum)' },
      { name: 'partition', kind: 'string', value: 'P', help: 'a rule for one partition (user.* and key.destroy)' },
      { name: 'approver-role', kind: 'string', value: 'ROLE', help: 'who approves (default admin; officer for a partition rule)' },
      { name: 'self-approval', kind: 'boolean', help: "the requester's own approval counts (default: it does not)" },
      { name: 'expiry', kind: 'integer', value: 'SECONDS', help: 'how long requests stay open (default 86400)' },
    ],
    details: 'Once a class has a quorum, changing its rule is itself a quorum request (class policy.change) needing at least that quorum.',
    examples: ['coffer quorum set-policy --class partition.create --quorum 2', 'coffer quorum set-policy --class key.destroy --partition payments --quorum 2 --approver-role officer', 'coffer quorum set-policy --expiry 3600'],
    async run(ctx) {
      const expiry = optInt(ctx.args, 'expiry');
      let body: Record<string, unknown>;
      if (expiry !== undefined) {
        if (optString(ctx.args, 'class') !== undefined) throw new UsageError('give either --expiry or --class, not both');
        body = { expiryMs: expiry * 1000 };
      } else {
        const quorum = optInt(ctx.args, 'quorum');
        if (quorum === undefined) throw new UsageError('missing required option --quorum');
        body = { class: requireString(ctx.args, 'class'), quorum };
        const partition = optString(ctx.args, 'partition');
        if (partition !== undefined) body.partition = partition;
        const role = optString(ctx.args, 'approver-role');
        if (role !== undefined) body.approverRole = role;
        if (optBool(ctx.args, 'self-approval')) body.selfApproval = true;
      }
      const res = await ctx.client.request<{ policy: unknown }>('PUT', '/v1/quorum/policy', { body });
      ctx.print(res.body, 'Policy changed.');
      return EXIT.OK;
    },
  },
];
