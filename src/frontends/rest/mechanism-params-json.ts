// Mechanism parameters as JSON: byte fields are strict base64, numbers, strings and booleans
// travel as themselves. The field list is MechanismParams's; any other name, or a value of the
// wrong kind, is MECHANISM_PARAM_INVALID (what the boundary answers for bad parameters).

import { decodeBase64, HsmError, type MechanismParams } from '../../boundary/api.js';
import { b64, type JsonSchema } from './route.js';

const BYTE_FIELDS = ['iv', 'aad', 'label', 'publicData', 'salt', 'info', 'context', 'dsaContext'] as const;
const INT_FIELDS = ['tagLength', 'saltLength', 'length'] as const;
const STRING_FIELDS = ['hash', 'mgfHash', 'signatureFormat'] as const;
const BOOL_FIELDS = ['prehashed', 'deterministic'] as const;

const KIND = new Map<string, 'bytes' | 'int' | 'string' | 'boolean'>([
  ...BYTE_FIELDS.map((f) => [f, 'bytes'] as const),
  ...INT_FIELDS.map((f) => [f, 'int'] as const),
  ...STRING_FIELDS.map((f) => [f, 'string'] as const),
  ...BOOL_FIELDS.map((f) => [f, 'boolean'] as const),
]);

/**
 * Documents the fields for OpenAPI. additionalProperties stays open on purpose: unknown names
 * reach paramsFromJson and get MECHANISM_PARAM_INVALID rather than a generic validation error.
 */
export const PARAMS_SCHEMA: JsonSchema = {
  type: 'object',
  maxProperties: 16,
  description: 'Mechanism parameters; byte fields are base64. Unknown names are refused with MECHANISM_PARAM_INVALID.',
  properties: {
    ...Object.fromEntries(BYTE_FIELDS.map((f) => [f, b64(f)])),
    ...Object.fromEntries(INT_FIELDS.map((f) => [f, { type: 'integer', minimum: 0, maximum: 1_048_576 }])),
    hash: { type: 'string', maxLength: 32 },
    mgfHash: { type: 'string', maxLength: 32 },
    signatureFormat: { type: 'string', enum: ['der', 'raw'] },
    prehashed: { type: 'boolean' },
    deterministic: { type: 'boolean' },
  },
};

/** Parameters the module returns (an IV it chose): bytes as base64. */
export const PARAMS_OUT_SCHEMA: JsonSchema = {
  type: 'object',
  properties: PARAMS_SCHEMA.properties as JsonSchema,
};

function invalid(why: string): HsmError {
  return new HsmError('MECHANISM_PARAM_INVALID', why);
}

export function paramsFromJson(json: unknown): MechanismParams {
  if (json === undefined) return {};
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw invalid('params must be an object');
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(json)) {
    const kind = KIND.get(name);
    if (!kind) throw invalid(`unknown parameter ${name.slice(0, 40)}`);
    if (kind === 'bytes') {
      try {
        out[name] = decodeBase64(value, name);
      } catch {
        throw invalid(`${name} must be base64`);
      }
    } else if (kind === 'int') {
      if (!Number.isSafeInteger(value) || (value as number) < 0) throw invalid(`${name} must be a non-negative integer`);
      out[name] = value;
    } else if (typeof value !== kind) {
      throw invalid(`${name} must be a ${kind}`);
    } else out[name] = value;
  }
  return out as MechanismParams;
}

export function paramsToJson(params: MechanismParams): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue;
    out[name] = value instanceof Uint8Array ? Buffer.from(value).toString('base64') : value;
  }
  return out;
}
