// `coffer kms access-key create|list|delete`: SigV4 access keys for the AWS-KMS endpoint, owned by
// the logged-in partition user. The secret is printed by create and can never be read again.

import type { CommandDef } from '../command.js';
import { EXIT } from '../exit-codes.js';
import { renderRecord, renderTable } from '../table.js';

type AccessKey = Record<string, unknown>;

export const KMS_COMMANDS: CommandDef[] = [
  {
    noun: 'kms',
    verb: 'access-key create',
    summary: 'create a SigV4 access key for the AWS-KMS endpoint (the secret is shown once)',
    synopsis: '',
    options: [],
    examples: ['coffer kms access-key create', 'AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… aws kms list-keys --endpoint-url "$COFFER_ADDR" --region eu-west-1'],
    async run(ctx) {
      const { body } = await ctx.client.request<AccessKey>('POST', '/v1/access-keys');
      ctx.print(body, `${renderRecord(body, ['accessKeyId', 'secretAccessKey', 'createdAt'])}\nStore the secret now: it cannot be shown again.`);
      return EXIT.OK;
    },
  },
  {
    noun: 'kms',
    verb: 'access-key list',
    summary: "list this account's access keys (ids only)",
    synopsis: '',
    options: [],
    examples: ['coffer kms access-key list'],
    async run(ctx) {
      const { body } = await ctx.client.request<{ accessKeys: AccessKey[] }>('GET', '/v1/access-keys');
      ctx.print(body, renderTable(body.accessKeys, ['accessKeyId', 'user', 'createdAt']));
      return EXIT.OK;
    },
  },
  {
    noun: 'kms',
    verb: 'access-key delete',
    summary: 'delete an access key; requests signed with it are refused from now on',
    synopsis: 'ACCESS_KEY_ID',
    options: [],
    positionals: [1, 1],
    examples: ['coffer kms access-key delete CFRABCDEFGHIJKLMNOPQ'],
    async run(ctx) {
      const id = ctx.args.positionals[0]!;
      await ctx.client.request('DELETE', `/v1/access-keys/${encodeURIComponent(id)}`);
      ctx.print({ deleted: id }, `Deleted access key ${id}.`);
      return EXIT.OK;
    },
  },
];
