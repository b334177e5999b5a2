// /v1/random, /v1/digest, /v1/mechanisms: operations without a key, and what the module offers.

import { decodeBase64, listMechanisms } from '../../../boundary/api.js';
import { PARAMS_SCHEMA, paramsFromJson } from '../mechanism-params-json.js';
import { b64, type RouteDef } from '../route.js';

const MECHANISM_INFO = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    ckm: { type: 'integer' },
    aliases: { type: 'array', items: { type: 'string' } },
    family: { type: 'string' },
    operations: { type: 'array', items: { type: 'string' } },
    keyTypes: { type: 'array', items: { type: 'string' } },
    keyBits: { type: 'object', properties: { min: { type: 'integer' }, max: { type: 'integer' } } },
    approved: { type: 'boolean' },
    disabledByDefault: { type: 'boolean' },
  },
};

export const CRYPTO_ROUTES: RouteDef[] = [
  {
    method: 'POST',
    url: '/v1/random',
    summary: 'Random bytes from the module (1 to 65536)',
    tags: ['crypto'],
    auth: 'session',
    schema: {
      body: { type: 'object', required: ['length'], additionalProperties: false, properties: { length: { type: 'integer', minimum: 1, maximum: 65536 } } },
      response: { 200: { type: 'object', properties: { random: { type: 'string', contentEncoding: 'base64' } } } },
    },
    async handler({ hsm, session }, req) {
      const bytes = hsm.randomBytes(session, (req.body as { length: number }).length);
      return { random: Buffer.from(bytes).toString('base64') };
    },
  },
  {
    method: 'POST',
    url: '/v1/digest',
    summary: 'Hash data (SHA-2, SHA-3)',
    tags: ['crypto'],
    auth: 'session',
    schema: {
      body: {
        type: 'object',
        required: ['mechanism', 'data'],
        additionalProperties: false,
        properties: { mechanism: { type: 'string', minLength: 1, maxLength: 64 }, data: b64('data to hash'), params: PARAMS_SCHEMA },
      },
      response: { 200: { type: 'object', properties: { digest: { type: 'string', contentEncoding: 'base64' }, approved: { type: 'boolean' } } } },
    },
    async handler({ hsm, session }, req) {
      const b = req.body as { mechanism: string; data: string; params?: unknown };
      const { digest, approved } = await hsm.digestWithIndicator(session, { mechanism: b.mechanism, data: decodeBase64(b.data, 'data'), params: paramsFromJson(b.params) });
      return { digest: Buffer.from(digest).toString('base64'), approved };
    },
  },
  {
    method: 'GET',
    url: '/v1/mechanisms',
    summary: 'Every mechanism: names, PKCS#11 number, operations, key types and sizes, FIPS approval',
    tags: ['crypto'],
    auth: 'session',
    schema: { response: { 200: { type: 'object', properties: { mechanisms: { type: 'array', items: MECHANISM_INFO } } } } },
    async handler({ hsm, session }) {
      hsm.whoami(session); // the token's session must still be live (not sealed, not ended)
      return { mechanisms: listMechanisms() };
    },
  },
];
