// /v1/sys backup routes (docs/backup.md): export (admin, quorum-gated) returns the sealed backup
// file as base64 with its Shamir shares, each output once; restore (admin, quorum-gated) takes
// the file and M of its shares into an empty module. The file is ciphertext end to end; the
// boundary checks every value. The server's body limit bounds the size of a restorable file.

import { type Custodian, decodeBase64 } from '../../../boundary/api.js';
import type { JsonSchema, RouteDef } from '../route.js';

/** Bytes a backup may have over REST; the server's bodyLimit is usually the tighter bound. */
const MAX_BACKUP = 512 * 1024 * 1024;

const CUSTODIAN: JsonSchema = {
  oneOf: [
    { type: 'null' },
    {
      type: 'object',
      required: ['kind', 'publicKey'],
      additionalProperties: false,
      properties: { kind: { type: 'string', enum: ['x25519', 'rsa-oaep'] }, publicKey: { type: 'string', contentEncoding: 'base64', maxLength: 8192 } },
    },
    {
      type: 'object',
      required: ['kind', 'passphrase'],
      additionalProperties: false,
      properties: { kind: { type: 'string', const: 'passphrase' }, passphrase: { type: 'string', minLength: 1, maxLength: 1024 } },
    },
  ],
};

const COUNTS: JsonSchema = {
  type: 'object',
  properties: { partitions: { type: 'integer' }, users: { type: 'integer' }, objects: { type: 'integer' }, versions: { type: 'integer' } },
};
const CHAIN_HEAD: JsonSchema = { type: 'object', properties: { seq: { type: 'integer' }, hash: { type: 'string' } } };
const SHARE_OUT: JsonSchema = { type: 'object', properties: { index: { type: 'integer' }, encoding: { type: 'string' }, share: { type: 'string' } } };

type CustodianJson = { kind: 'x25519' | 'rsa-oaep'; publicKey: string } | { kind: 'passphrase'; passphrase: string } | null;

export const BACKUP_ROUTES: RouteDef[] = [
  {
    method: 'POST',
    url: '/v1/sys/backup',
    summary:
      'Export a backup (admin; quorum-gated): every partition, account and key version sealed under a fresh backup key, verified before it returns; the backup key leaves only as N shares (threshold M), each output once',
    tags: ['sys'],
    auth: 'session',
    schema: {
      body: {
        type: 'object',
        additionalProperties: false,
        properties: {
          shares: { type: 'integer', minimum: 1, maximum: 16, description: "N backup shares (default: the module's own N)" },
          threshold: { type: 'integer', minimum: 1, maximum: 16, description: "M of them open the backup (default: the module's own M)" },
          custodians: { type: 'array', maxItems: 16, items: CUSTODIAN, description: 'custodian i receives backup share i encrypted to it; null leaves it clear' },
        },
      },
      response: {
        200: {
          type: 'object',
          properties: {
            backup: { type: 'string', contentEncoding: 'base64', description: 'the backup file' },
            backupId: { type: 'string' },
            createdAt: { type: 'string' },
            counts: COUNTS,
            chainHead: CHAIN_HEAD,
            shares: { type: 'array', items: SHARE_OUT },
            threshold: { type: 'integer' },
            verified: { type: 'boolean' },
          },
        },
      },
    },
    async handler({ hsm, session }, req) {
      const body = (req.body ?? {}) as { shares?: number; threshold?: number; custodians?: CustodianJson[] };
      const opts: Parameters<typeof hsm.exportBackup>[1] = {};
      if (body.shares !== undefined) opts.shares = body.shares;
      if (body.threshold !== undefined) opts.threshold = body.threshold;
      if (body.custodians) {
        opts.custodians = body.custodians.map((c, i): Custodian | null => {
          if (c === null || c.kind === 'passphrase') return c;
          return { kind: c.kind, publicKey: decodeBase64(c.publicKey, `custodians[${i}].publicKey`, 4096) };
        });
      }
      const out = await hsm.exportBackup(session, opts);
      return { ...out, backup: Buffer.from(out.backup).toString('base64') };
    },
  },
  {
    method: 'POST',
    url: '/v1/sys/restore',
    summary:
      "Restore a backup into an empty module (admin; quorum-gated) with M of the backup's shares, or without them on a module holding the source's master key; all or nothing. A corrupted or truncated file is BACKUP_INVALID",
    tags: ['sys'],
    auth: 'session',
    schema: {
      body: {
        type: 'object',
        required: ['backup'],
        additionalProperties: false,
        properties: {
          backup: { type: 'string', contentEncoding: 'base64', description: 'the backup file' },
          shares: { type: 'array', maxItems: 16, items: { type: 'string', minLength: 1, maxLength: 200 }, description: 'clear backup shares, base64' },
        },
      },
      response: {
        200: {
          type: 'object',
          properties: {
            backupId: { type: 'string' },
            createdAt: { type: 'string' },
            counts: COUNTS,
            sourceChainHead: CHAIN_HEAD,
            keySource: { type: 'string', enum: ['shares', 'master-key'] },
            skippedUsers: { type: 'array', items: { type: 'string' } },
          },
        },
      },
    },
    async handler({ hsm, session }, req) {
      const body = req.body as { backup: string; shares?: string[] };
      const opts: Parameters<typeof hsm.restoreBackup>[1] = { backup: decodeBase64(body.backup, 'backup', MAX_BACKUP) };
      if (body.shares) opts.shares = body.shares;
      return hsm.restoreBackup(session, opts);
    },
  },
];
