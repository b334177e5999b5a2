// /v1/keys: key management. Generate (secret keys or pairs), import in the clear where the
// boundary allows it, unwrap, list with filters and a cursor, describe, change attributes and
// state, rotate, aliases, tags, scheduled and immediate deletion, and public keys as PEM/DER/JWK.
// A key is addressed by uid or `alias/<name>`; another partition's key is simply not found.

import { decodeBase64, type Hsm, HsmError, type KeyState, mechanismInfo, type ObjectInfo, type Template, templateFromJson } from '../../../boundary/api.js';
import { describeKey, KEY_ID_PARAMS, KEY_SCHEMA, TEMPLATE_SCHEMA } from '../key-description.js';
import { decodeCursor, encodeCursor, parseLimit } from '../key-list-cursor.js';
import { isPairKeyType, splitPairTemplate } from '../key-pair-template.js';
import { PARAMS_SCHEMA, paramsFromJson } from '../mechanism-params-json.js';
import { formatPublicKey, type PublicKeyFormat } from '../public-key-formats.js';
import { b64, type JsonSchema, type RouteDef } from '../route.js';

const MECHANISM = { type: 'string', minLength: 1, maxLength: 64 };
const KEY_REF = { type: 'string', minLength: 1, maxLength: 300, description: 'key uid, or alias/<name>' };
const ONE_KEY: JsonSchema = { type: 'object', properties: { key: KEY_SCHEMA } };
const EMPTY = { type: 'object', properties: {} };

export async function describe(hsm: Hsm, session: string, uid: string): Promise<Record<string, unknown>> {
  return describeKey(await hsm.getAttributes(session, uid));
}

function idOf(req: { params: unknown }): string {
  return (req.params as { id: string }).id;
}

interface GenerateBody {
  mechanism?: string;
  template?: unknown;
  publicTemplate?: unknown;
  privateTemplate?: unknown;
}

/** A pair when the key type (or the named generation mechanism) makes pairs, or the halves are given apart. */
function wantsPair(body: GenerateBody, tpl: Template | undefined, pub: Template | undefined, priv: Template | undefined): boolean {
  if (pub || priv) return true;
  if (tpl?.keyType) return isPairKeyType(tpl.keyType);
  if (tpl?.class === 'private-key' || tpl?.class === 'public-key') return true;
  return body.mechanism !== undefined && (mechanismInfo(body.mechanism)?.operations.includes('generate-pair') ?? false);
}

const LIST_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    class: { type: 'string', enum: ['secret-key', 'private-key', 'public-key', 'certificate', 'data'] },
    keyType: { type: 'string', maxLength: 32 },
    label: { type: 'string', maxLength: 256 },
    alias: { type: 'string', maxLength: 256 },
    state: { type: 'string', enum: ['enabled', 'disabled', 'pending-deletion'] },
    limit: { type: 'string', pattern: '^[0-9]{1,4}$', description: '1 to 1000, default 100' },
    cursor: { type: 'string', maxLength: 120, description: 'nextCursor of the previous page' },
  },
};

type ListQuery = { class?: string; keyType?: string; label?: string; alias?: string; state?: KeyState; limit?: string; cursor?: string };

export const KEY_ROUTES: RouteDef[] = [
  {
    method: 'POST',
    url: '/v1/keys',
    summary: 'Generate a key inside the module: a secret key, or a key pair (one template split by usage, or publicTemplate/privateTemplate)',
    tags: ['keys'],
    auth: 'session',
    status: 201,
    schema: {
      body: {
        type: 'object',
        additionalProperties: false,
        properties: { mechanism: MECHANISM, template: TEMPLATE_SCHEMA, publicTemplate: TEMPLATE_SCHEMA, privateTemplate: TEMPLATE_SCHEMA },
      },
      response: { 201: { type: 'object', properties: { key: KEY_SCHEMA, publicKey: KEY_SCHEMA, privateKey: KEY_SCHEMA } } },
    },
    async handler({ hsm, session }, req) {
      const body = req.body as GenerateBody;
      if (body.template !== undefined && (body.publicTemplate !== undefined || body.privateTemplate !== undefined)) {
        throw new HsmError('ARGUMENTS_BAD', 'give template, or publicTemplate/privateTemplate, not both');
      }
      const tpl = body.template !== undefined ? templateFromJson(body.template) : undefined;
      const pub = body.publicTemplate !== undefined ? templateFromJson(body.publicTemplate) : undefined;
      const priv = body.privateTemplate !== undefined ? templateFromJson(body.privateTemplate) : undefined;
      const mechanism = body.mechanism !== undefined ? { mechanism: body.mechanism } : {};
      if (wantsPair(body, tpl, pub, priv)) {
        const halves = tpl ? splitPairTemplate(tpl) : { publicTemplate: pub ?? {}, privateTemplate: priv ?? {} };
        const pair = await hsm.generateKeyPair(session, { ...mechanism, ...halves });
        return { privateKey: await describe(hsm, session, pair.privateKey), publicKey: await describe(hsm, session, pair.publicKey) };
      }
      const uid = await hsm.generateKey(session, { ...mechanism, template: tpl ?? {} });
      return { key: await describe(hsm, session, uid) };
    },
  },
  {
    method: 'POST',
    url: '/v1/keys/import',
    summary: 'Create an object from clear material: public keys (SPKI), certificates, data; secret/private keys where policy allows',
    tags: ['keys'],
    auth: 'session',
    status: 201,
    schema: {
      body: { type: 'object', required: ['template'], additionalProperties: false, properties: { template: TEMPLATE_SCHEMA } },
      response: { 201: ONE_KEY },
    },
    async handler({ hsm, session }, req) {
      const uid = await hsm.createObject(session, templateFromJson((req.body as { template: unknown }).template));
      return { key: await describe(hsm, session, uid) };
    },
  },
  {
    method: 'POST',
    url: '/v1/keys/unwrap',
    summary: 'Import a wrapped key under an unwrapping key',
    tags: ['keys'],
    auth: 'session',
    status: 201,
    schema: {
      body: {
        type: 'object',
        required: ['unwrappingKey', 'mechanism', 'wrapped', 'template'],
        additionalProperties: false,
        properties: { unwrappingKey: KEY_REF, mechanism: MECHANISM, wrapped: b64('the wrapped key'), params: PARAMS_SCHEMA, template: TEMPLATE_SCHEMA },
      },
      // The approved-service indicator rides beside the key (attacks.md E-09).
      response: { 201: { type: 'object', properties: { key: KEY_SCHEMA, approved: { type: 'boolean' } } } },
    },
    async handler({ hsm, session }, req) {
      const body = req.body as { unwrappingKey: string; mechanism: string; wrapped: string; params?: unknown; template: unknown };
      const { key: uid, approved } = await hsm.unwrapKeyWithIndicator(session, {
        unwrappingKey: body.unwrappingKey,
        mechanism: body.mechanism,
        wrapped: decodeBase64(body.wrapped, 'wrapped'),
        params: paramsFromJson(body.params),
        template: templateFromJson(body.template),
      });
      return { key: await describe(hsm, session, uid), approved };
    },
  },
  {
    method: 'GET',
    url: '/v1/keys',
    summary: 'List the partition’s keys and objects, filtered, a page at a time (uid order)',
    tags: ['keys'],
    auth: 'session',
    schema: {
      querystring: LIST_QUERY,
      response: { 200: { type: 'object', properties: { keys: { type: 'array', items: KEY_SCHEMA }, nextCursor: { type: 'string' } } } },
    },
    async handler({ hsm, session }, req) {
      const q = req.query as ListQuery;
      const limit = parseLimit(q.limit);
      const after = q.cursor !== undefined ? decodeCursor(q.cursor) : undefined;
      const filter: Record<string, unknown> = {};
      if (q.class !== undefined) filter.class = q.class;
      if (q.keyType !== undefined) filter.keyType = q.keyType;
      if (q.label !== undefined) filter.label = q.label;
      const uids = (await hsm.findObjects(session, templateFromJson(filter))).filter((u) => after === undefined || u > after).sort();
      const keys: ObjectInfo[] = [];
      let more = false;
      for (const uid of uids) {
        let info: ObjectInfo;
        try {
          info = await hsm.getAttributes(session, uid);
        } catch (e) {
          if (e instanceof HsmError && e.code === 'OBJECT_NOT_FOUND') continue; // destroyed since the listing
          throw e;
        }
        if (q.state !== undefined && info.state !== q.state) continue;
        if (q.alias !== undefined && !info.aliases.includes(q.alias)) continue;
        if (keys.length === limit) {
          more = true;
          break;
        }
        keys.push(info);
      }
      const out: { keys: Record<string, unknown>[]; nextCursor?: string } = { keys: keys.map(describeKey) };
      if (more) out.nextCursor = encodeCursor(keys[keys.length - 1]!.uid);
      return out;
    },
  },
  {
    method: 'GET',
    url: '/v1/keys/:id',
    summary: 'Describe a key: attributes, state, versions, aliases, tags (never material)',
    tags: ['keys'],
    auth: 'session',
    schema: { params: KEY_ID_PARAMS, response: { 200: ONE_KEY } },
    async handler({ hsm, session }, req) {
      return { key: await describe(hsm, session, idOf(req)) };
    },
  },
  {
    method: 'PATCH',
    url: '/v1/keys/:id',
    summary: 'Change attributes (within the attribute policy) and/or enable or disable the key',
    tags: ['keys'],
    auth: 'session',
    schema: {
      params: KEY_ID_PARAMS,
      body: {
        type: 'object',
        minProperties: 1,
        additionalProperties: false,
        properties: { attributes: TEMPLATE_SCHEMA, state: { type: 'string', enum: ['enabled', 'disabled'] } },
      },
      response: { 200: ONE_KEY },
    },
    async handler({ hsm, session }, req) {
      const id = idOf(req);
      const body = req.body as { attributes?: unknown; state?: 'enabled' | 'disabled' };
      if (body.attributes !== undefined) await hsm.setAttributes(session, id, templateFromJson(body.attributes));
      if (body.state !== undefined) await hsm.setKeyState(session, id, body.state);
      return { key: await describe(hsm, session, id) };
    },
  },
  {
    method: 'POST',
    url: '/v1/keys/:id/rotate',
    summary: 'Append a new version of a secret key; new operations use it, older versions still decrypt and verify',
    tags: ['keys'],
    auth: 'session',
    schema: { params: KEY_ID_PARAMS, response: { 200: { type: 'object', properties: { version: { type: 'integer' } } } } },
    async handler({ hsm, session }, req) {
      return { version: await hsm.rotateKey(session, idOf(req)) };
    },
  },
  {
    method: 'PUT',
    url: '/v1/keys/:id/aliases',
    summary: 'Replace the key’s aliases (unique within the partition)',
    tags: ['keys'],
    auth: 'session',
    schema: {
      params: KEY_ID_PARAMS,
      body: {
        type: 'object',
        required: ['aliases'],
        additionalProperties: false,
        properties: { aliases: { type: 'array', maxItems: 32, items: { type: 'string', minLength: 1, maxLength: 256 } } },
      },
      response: { 200: ONE_KEY },
    },
    async handler({ hsm, session }, req) {
      // By uid from here on: the id may be an alias this call removes.
      const { uid } = await hsm.getAttributes(session, idOf(req));
      await hsm.setAliases(session, uid, (req.body as { aliases: string[] }).aliases);
      return { key: await describe(hsm, session, uid) };
    },
  },
  {
    method: 'PUT',
    url: '/v1/keys/:id/tags',
    summary: 'Replace the key’s tags (up to 50 string pairs)',
    tags: ['keys'],
    auth: 'session',
    schema: {
      params: KEY_ID_PARAMS,
      body: {
        type: 'object',
        required: ['tags'],
        additionalProperties: false,
        properties: { tags: { type: 'object', maxProperties: 50, additionalProperties: { type: 'string', maxLength: 256 }, propertyNames: { minLength: 1, maxLength: 128 } } },
      },
      response: { 200: ONE_KEY },
    },
    async handler({ hsm, session }, req) {
      const id = idOf(req);
      await hsm.setTags(session, id, (req.body as { tags: Record<string, string> }).tags);
      return { key: await describe(hsm, session, id) };
    },
  },
  {
    method: 'POST',
    url: '/v1/keys/:id/schedule-deletion',
    summary: 'Schedule destruction after 7 to 30 days (default 30); the key is unusable meanwhile',
    tags: ['keys'],
    auth: 'session',
    schema: {
      params: KEY_ID_PARAMS,
      // The body is optional, and fastify validates an absent body too: the rules apply to objects only
      // (if/then); the handler refuses any other JSON value.
      body: {
        if: { type: 'object' },
        // biome-ignore lint/suspicious/noThenProperty: the JSON Schema if/then keyword, not a thenable
        then: { type: 'object', additionalProperties: false, properties: { days: { type: 'integer', minimum: 7, maximum: 30, description: 'default 30' } } },
      },
      response: { 200: { type: 'object', properties: { deletionDate: { type: 'string' } } } },
    },
    async handler({ hsm, session }, req) {
      const body: unknown = req.body;
      if (body !== undefined && (typeof body !== 'object' || body === null || Array.isArray(body))) throw new HsmError('ARGUMENTS_BAD', 'the body is an object');
      const days = (body as { days?: number } | undefined)?.days;
      return { deletionDate: await hsm.scheduleDeletion(session, idOf(req), days) };
    },
  },
  {
    method: 'POST',
    url: '/v1/keys/:id/cancel-deletion',
    summary: 'Cancel a scheduled deletion; the key comes back disabled',
    tags: ['keys'],
    auth: 'session',
    schema: { params: KEY_ID_PARAMS, response: { 200: ONE_KEY } },
    async handler({ hsm, session }, req) {
      const id = idOf(req);
      await hsm.cancelDeletion(session, id);
      return { key: await describe(hsm, session, id) };
    },
  },
  {
    method: 'DELETE',
    url: '/v1/keys/:id',
    summary: 'Destroy the object now (if destroyable)',
    tags: ['keys'],
    auth: 'session',
    status: 204,
    schema: { params: KEY_ID_PARAMS, response: { 204: EMPTY } },
    async handler({ hsm, session }, req) {
      await hsm.destroyObject(session, idOf(req));
      return undefined;
    },
  },
  {
    method: 'GET',
    url: '/v1/keys/:id/public',
    summary: 'The public key of a pair: PEM (default), DER as base64, or JWK (RSA, EC, OKP)',
    tags: ['keys'],
    auth: 'session',
    schema: {
      params: KEY_ID_PARAMS,
      querystring: { type: 'object', additionalProperties: false, properties: { format: { type: 'string', enum: ['pem', 'der', 'jwk'] } } },
      response: {
        200: {
          type: 'object',
          properties: {
            format: { type: 'string' },
            pem: { type: 'string' },
            der: { type: 'string', contentEncoding: 'base64' },
            jwk: { type: 'object', additionalProperties: { type: 'string' } },
          },
        },
      },
    },
    async handler({ hsm, session }, req) {
      const id = idOf(req);
      const format = (req.query as { format?: PublicKeyFormat }).format ?? 'pem';
      const bytes = await hsm.getPublicKey(session, id);
      const info = await hsm.getAttributes(session, id);
      return formatPublicKey(format, bytes, info.keyType, info.parameterSet);
    },
  },
];
