// How a key looks over REST: its attributes and KMS metadata (never material) as JSON, with the
// response schema that fastify serialises through, so a field not listed here cannot leak.
// Also the shared request pieces for keys: the `:id` path parameter and the template body.

import { attributesToJson, BOOLEAN_ATTRIBUTES, type ObjectInfo } from '../../boundary/api.js';
import type { JsonSchema } from './route.js';

const bool = { type: 'boolean' } as const;
const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const nested = { type: 'object', additionalProperties: true } as const;

export const KEY_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    uid: str,
    partition: str,
    class: str,
    keyType: str,
    label: str,
    id: { type: 'string', contentEncoding: 'base64' },
    state: { type: 'string', enum: ['enabled', 'disabled', 'pending-deletion', 'destroyed'] },
    deletionDate: str,
    currentVersion: int,
    versions: { type: 'array', items: int },
    aliases: { type: 'array', items: str },
    tags: { type: 'object', additionalProperties: str },
    owner: str,
    createdAt: str,
    peer: str,
    /** Uses per operation, including counts not yet flushed (docs/audit.md). */
    usage: { type: 'object', additionalProperties: int },
    ...Object.fromEntries(BOOLEAN_ATTRIBUTES.map((n) => [n, bool])),
    startDate: str,
    endDate: str,
    allowedMechanisms: { type: 'array', items: str },
    wrapTemplate: nested,
    unwrapTemplate: nested,
    deriveTemplate: nested,
    valueLen: int,
    modulusBits: int,
    publicExponent: int,
    curve: str,
    parameterSet: str,
    keyUsage: str,
  },
};

export function describeKey(info: ObjectInfo): Record<string, unknown> {
  return attributesToJson(info);
}

/**
 * A template as JSON. Attribute names and kinds are checked by the boundary's attribute table
 * (templateFromJson), the one place they are written down: an unknown name is
 * ATTRIBUTE_TYPE_INVALID there, so this schema bounds only size.
 */
export const TEMPLATE_SCHEMA: JsonSchema = {
  type: 'object',
  maxProperties: 64,
  description:
    'PKCS#11 attributes in camelCase (class, keyType, label, id, token, sign, verify, encrypt, decrypt, wrap, unwrap, derive, encapsulate, decapsulate, sensitive, extractable, valueLen, modulusBits, publicExponent, curve, parameterSet, allowedMechanisms, startDate, endDate, value, publicKey, privateKey, certificate …); byte values are base64.',
};

/** `:id` is a uid or `alias/<name>` (URL-encode the slash: alias%2Fname). */
export const KEY_ID_PARAMS: JsonSchema = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', minLength: 1, maxLength: 300, description: 'key uid, or alias/<name>' } },
};
