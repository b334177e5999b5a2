// Templates and attributes as JSON for the front ends: byte-valued attributes travel as
// base64 strings (strictly decoded: anything that is not canonical base64 is refused), every
// other value as itself. The attribute table says which attributes are bytes.

import { HsmError } from '../errors.js';
import type { Template } from '../types.js';
import { ATTRIBUTE_RULES, type AttributeName } from './attribute-table.js';
import { checkTemplateShape } from './validator.js';

/**
 * Strict, canonical base64 (RFC 4648 §4, padded, zero pad bits §3.5): one spelling per value, so
 * two different request texts never mean the same bytes (attacks.md D-08). Node's decoder skips
 * what it does not understand; re-encoding and comparing refuses all of that natively.
 */
export function decodeBase64(value: unknown, what: string, maxBytes = 1024 * 1024): Uint8Array {
  if (typeof value !== 'string') throw new HsmError('ARGUMENTS_BAD', `${what} must be base64`);
  if ((value.length / 4) * 3 > maxBytes + 3) throw new HsmError('DATA_LEN_RANGE', `${what} is longer than ${maxBytes} bytes`);
  const bytes = Buffer.from(value, 'base64');
  if (bytes.toString('base64') !== value) throw new HsmError('ARGUMENTS_BAD', `${what} must be canonical base64`);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A template from JSON (base64 for byte attributes); the result has been through checkTemplateShape. */
export function templateFromJson(json: unknown, depth = 0): Template {
  if (!isObject(json)) throw new HsmError('ARGUMENTS_BAD', 'a template must be an object');
  if (depth > 2) throw new HsmError('TEMPLATE_INVALID', 'templates nest too deep');
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(json)) {
    if (!Object.hasOwn(ATTRIBUTE_RULES, name)) throw new HsmError('ATTRIBUTE_TYPE_INVALID', `unknown attribute ${name.slice(0, 40)}`);
    const rule = ATTRIBUTE_RULES[name as AttributeName];
    if (rule.type === 'bytes') out[name] = decodeBase64(value, name);
    else if (rule.type === 'template') out[name] = templateFromJson(value, depth + 1);
    else out[name] = value;
  }
  return depth === 0 ? checkTemplateShape(out) : (out as Template);
}

/** JSON form of attributes or an object description: bytes as base64, everything else as is. */
export function attributesToJson<T extends object>(attrs: T): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(attrs)) {
    if (v instanceof Uint8Array) out[k] = Buffer.from(v).toString('base64');
    else if (isObject(v) && (k === 'wrapTemplate' || k === 'unwrapTemplate' || k === 'deriveTemplate')) out[k] = attributesToJson(v);
    else out[k] = v;
  }
  return out;
}
