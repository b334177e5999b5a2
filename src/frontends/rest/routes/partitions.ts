// /v1/partitions: the tenants. The admin creates them; every role lists what it may see (the
// boundary filters: admin and auditor see all, partition roles their own).

import type { PartitionRecord } from '../../../boundary/api.js';
import type { RouteDef } from '../route.js';

const PARTITION = {
  type: 'object',
  properties: { name: { type: 'string' }, label: { type: 'string' }, createdAt: { type: 'string' }, fipsApprovedOnly: { type: 'boolean' } },
};

const CREATE_BODY = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 63, description: 'lower-case letters, digits and dashes' },
    label: { type: 'string', maxLength: 64 },
    fipsApprovedOnly: { type: 'boolean', description: 'refuse mechanisms that are not FIPS-approved' },
  },
};

export const PARTITION_ROUTES: RouteDef[] = [
  {
    method: 'GET',
    url: '/v1/partitions',
    summary: 'List the partitions this account may see',
    tags: ['partitions'],
    auth: 'session',
    schema: { response: { 200: { type: 'object', properties: { partitions: { type: 'array', items: PARTITION } } } } },
    async handler({ hsm, session }) {
      return { partitions: hsm.listPartitions(session) };
    },
  },
  {
    method: 'POST',
    url: '/v1/partitions',
    summary: 'Create a partition (admin)',
    tags: ['partitions'],
    auth: 'session',
    status: 201,
    schema: { body: CREATE_BODY, response: { 201: { type: 'object', properties: { partition: PARTITION } } } },
    async handler({ hsm, session }, req) {
      const body = req.body as { name: string; label?: string; fipsApprovedOnly?: boolean };
      const partition: PartitionRecord = hsm.createPartition(session, body);
      return { partition };
    },
  },
  {
    method: 'DELETE',
    url: '/v1/partitions/:name',
    summary: 'Delete a partition and every key in it (admin; refused while it has accounts; quorum-gated when a policy says so)',
    tags: ['partitions'],
    auth: 'session',
    status: 204,
    schema: {
      params: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: { type: 'string', minLength: 1, maxLength: 63 } } },
      response: { 204: { type: 'object', properties: {} } },
    },
    async handler({ hsm, session }, req) {
      hsm.deletePartition(session, (req.params as { name: string }).name);
      return undefined;
    },
  },
];
