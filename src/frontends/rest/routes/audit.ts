// /v1/audit: the audit log for auditors (list as JSON, export as JSON Lines closed by a fresh
// signed checkpoint) and the audit public key for auditors and admins, so an export can be
// verified offline with `coffer audit verify` (docs/audit.md).

import { HsmError } from '../../../boundary/api.js';
import type { RouteDef } from '../route.js';

const CHECKPOINT = {
  type: 'object',
  properties: {
    seq: { type: 'integer' },
    head: { type: 'string' },
    time: { type: 'string' },
    alg: { type: 'string' },
    keyId: { type: 'string' },
    signature: { type: 'string', contentEncoding: 'base64' },
  },
};

const RECORD = {
  type: 'object',
  properties: {
    seq: { type: 'integer' },
    time: { type: 'string' },
    actor: { type: 'string' },
    partition: { type: 'string' },
    op: { type: 'string' },
    target: { type: 'string' },
    outcome: { type: 'string', enum: ['ok', 'refused', 'failed'] },
    code: { type: 'string' },
    detail: { type: 'string' },
    checkpoint: CHECKPOINT,
    prevHash: { type: 'string' },
    hash: { type: 'string' },
  },
};

const LIST_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    fromSeq: { type: 'string', pattern: '^[0-9]{1,15}$', description: 'first seq (default 1)' },
    limit: { type: 'string', pattern: '^[0-9]{1,5}$', description: '1 to 10000, default 1000' },
  },
};

function int(v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new HsmError('ARGUMENTS_BAD', 'not an integer');
  return n;
}

export const AUDIT_ROUTES: RouteDef[] = [
  {
    method: 'GET',
    url: '/v1/audit',
    summary: 'List audit records from fromSeq (auditor)',
    tags: ['audit'],
    auth: 'session',
    schema: {
      querystring: LIST_QUERY,
      response: { 200: { type: 'object', properties: { records: { type: 'array', items: RECORD }, nextFromSeq: { type: 'integer' } } } },
    },
    async handler({ hsm, session }, req) {
      const q = req.query as { fromSeq?: string; limit?: string };
      const limit = int(q.limit, 1000);
      const records = hsm.listAudit(session, int(q.fromSeq, 1), limit);
      const last = records[records.length - 1];
      return records.length === limit && last ? { records, nextFromSeq: last.seq + 1 } : { records };
    },
  },
  {
    method: 'GET',
    url: '/v1/audit/export',
    summary: 'Export the whole audit log as JSON Lines, closed by a fresh signed checkpoint (auditor)',
    tags: ['audit'],
    auth: 'session',
    // No response schema: the body is application/x-ndjson, one canonical JSON record per line.
    schema: {},
    async handler({ hsm, session }, _req, reply) {
      const lines = hsm.exportAudit(session);
      void reply.type('application/x-ndjson; charset=utf-8').header('content-disposition', 'attachment; filename="coffer-audit.jsonl"');
      return `${lines.join('\n')}\n`;
    },
  },
  {
    method: 'GET',
    url: '/v1/audit/public-key',
    summary: 'The audit public key (SPKI PEM) that verifies checkpoints (auditor, admin)',
    tags: ['audit'],
    auth: 'session',
    schema: { response: { 200: { type: 'object', properties: { publicKey: { type: 'string' }, keyId: { type: 'string' } } } } },
    async handler({ hsm, session }) {
      return hsm.auditPublicKey(session);
    },
  },
];
