// `coffer partition list|create|delete`: the tenants of the module. Creating one is the admin's job;
// the server decides who may, the CLI only asks.

import { optBool, optString, requireString, UsageError } from '../args.js';
import type { CommandDef } from '../command.js';
import { EXIT } from '../exit-codes.js';
import { renderRecord, renderTable } from '../table.js';

type Partition = Record<string, unknown>;

export const PARTITION_COMMANDS: CommandDef[] = [
  {
    noun: 'partition',
    verb: 'list',
    summary: 'list the partitions this account may see',
    synopsis: '',
    options: [],
    examples: ['coffer partition list'],
    async run(ctx) {
      const { body } = await ctx.client.request<{ partitions: Partition[] }>('GET', '/v1/partitions');
      ctx.print(body, renderTable(body.partitions, ['name', 'label', 'fipsApprovedOnly', 'createdAt']));
      return EXIT.OK;
    },
  },
  {
    noun: 'partition',
    verb: 'create',
    summary: 'create a partition (admin)',
    synopsis: '--name NAME [--label TEXT] [--fips]',
    options: [
      { name: 'name', kind: 'string', value: 'NAME', help: 'lower-case letters, digits and dashes' },
      { name: 'label', kind: 'string', value: 'TEXT', help: 'a description' },
      { name: 'fips', kind: 'boolean', help: 'refuse mechanisms that are not FIPS-approved in this partition' },
    ],
    examples: ['coffer login --user admin', 'coffer partition create --name payments --label "Payment keys" --fips'],
    async run(ctx) {
      const body: Record<string, unknown> = { name: requireString(ctx.args, 'name') };
      const label = optString(ctx.args, 'label');
      if (label !== undefined) body.label = label;
      if (optBool(ctx.args, 'fips')) body.fipsApprovedOnly = true;
      const res = await ctx.client.request<{ partition: Partition }>('POST', '/v1/partitions', { body });
      ctx.print(res.body, `Created partition:\n${renderRecord(res.body.partition, ['name', 'label'])}`);
      return EXIT.OK;
    },
  },
  {
    noun: 'partition',
    verb: 'delete',
    summary: 'delete a partition and every key in it (admin; refused while it has accounts; may need quorum approval)',
    synopsis: '--name NAME --yes',
    options: [
      { name: 'name', kind: 'string', value: 'NAME', help: 'the partition' },
      { name: 'yes', kind: 'boolean', help: 'confirm: its keys are destroyed' },
    ],
    examples: ['coffer partition delete --name old-tenant --yes'],
    async run(ctx) {
      const name = requireString(ctx.args, 'name');
      if (!optBool(ctx.args, 'yes')) throw new UsageError('deleting a partition destroys every key in it: add --yes to confirm');
      await ctx.client.request('DELETE', `/v1/partitions/${encodeURIComponent(name)}`);
      ctx.print({ deleted: name }, `Deleted partition ${name} and its keys.`);
      return EXIT.OK;
    },
  },
];
