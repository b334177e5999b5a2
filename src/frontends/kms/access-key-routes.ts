// REST routes for SigV4 access keys (/v1/access-keys): a partition user creates, lists and deletes
// its own. The secret is in the create response only; the boundary keeps it sealed (docs/kms.md).

import type { RouteDef } from '../rest/route.js';
import { ERROR_BODY } from '../rest/route.js';

const KEY_INFO = { type: 'object', required: ['accessKeyId', 'createdAt'], properties: { accessKeyId: { type: 'string' }, user: { type: 'string' }, createdAt: { type: 'string' } } };

export const ACCESS_KEY_ROUTES: readonly RouteDef[] = [
  {
    method: 'POST',
    url: '/v1/access-keys',
    summary: 'Create a SigV4 access key for the AWS-KMS endpoint; the secret is shown once',
    tags: ['kms'],
    auth: 'session',
    status: 201,
    schema: {
      response: {
        201: { type: 'object', required: ['accessKeyId', 'secretAccessKey', 'createdAt'], properties: { accessKeyId: { type: 'string' }, secretAccessKey: { type: 'string' }, createdAt: { type: 'string' } } },
        400: ERROR_BODY,
      },
    },
    async handler({ hsm, session }) {
      const k = await hsm.createAccessKey(session);
      try {
        // The one time the secret leaves: the caller stores it like a password.
        return { accessKeyId: k.accessKeyId, secretAccessKey: Buffer.from(k.secretAccessKey.insecureBytes()).toString('ascii'), createdAt: k.createdAt };
      } finally {
        k.secretAccessKey.destroy();
      }
    },
  },
  {
    method: 'GET',
    url: '/v1/access-keys',
    summary: "List the caller's access keys (never their secrets)",
    tags: ['kms'],
    auth: 'session',
    schema: { response: { 200: { type: 'object', required: ['accessKeys'], properties: { accessKeys: { type: 'array', items: KEY_INFO } } } } },
    async handler({ hsm, session }) {
      return { accessKeys: await hsm.listAccessKeys(session) };
    },
  },
  {
    method: 'DELETE',
    url: '/v1/access-keys/:id',
    summary: 'Delete one of the caller\'s access keys; requests signed with it fail from now on',
    tags: ['kms'],
    auth: 'session',
    status: 204,
    schema: { params: { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } } },
    async handler({ hsm, session }, req) {
      await hsm.deleteAccessKey(session, (req.params as { id: string }).id);
      return undefined;
    },
  },
];
