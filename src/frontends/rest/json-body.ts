// The JSON body parser: size is bounded by fastify's bodyLimit; here nesting depth is bounded
// before parsing (a linear scan outside strings), and `__proto__` / `constructor.prototype`
// keys are refused (attacks.md D-08), so no body can reach a handler as a polluted object.

import { HsmError } from '../../boundary/api.js';

/** Opening brackets in the text, counted natively; a text with no more than the limit cannot nest deeper. */
function openings(text: string, limit: number): number {
  let n = 0;
  for (const c of ['{', '[']) {
    for (let i = text.indexOf(c); i !== -1 && n <= limit; i = text.indexOf(c, i + 1)) n++;
  }
  return n;
}

export function checkDepth(text: string, maxDepth: number): void {
  if (openings(text, maxDepth) <= maxDepth) return;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) throw new HsmError('ARGUMENTS_BAD', `JSON nested deeper than ${maxDepth}`);
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
}

// RFC 8259 §8.1: JSON text is UTF-8. A lossy decode would turn invalid bytes into U+FFFD and let
// two different bodies mean the same request; a BOM is kept, so JSON.parse refuses it as before.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function parseJsonBody(body: string | Uint8Array, maxDepth: number): unknown {
  let text: string;
  if (typeof body === 'string') text = body;
  else {
    try {
      text = UTF8.decode(body);
    } catch {
      throw new HsmError('ARGUMENTS_BAD', 'the body is not UTF-8');
    }
  }
  if (text.length === 0) return undefined;
  checkDepth(text, maxDepth);
  let value: unknown;
  try {
    // The reviver costs a call per value; only a text that names one of the keys can hold it
    // (a JSON escape such as "__pro\u0074o__" still spells the name, so look for both forms).
    const suspicious = /__proto__|constructor|\\u00/.test(text);
    value = suspicious
      ? JSON.parse(text, (key, v) => {
          if (key === '__proto__' || (key === 'constructor' && typeof v === 'object' && v !== null && 'prototype' in v)) {
            throw new HsmError('ARGUMENTS_BAD', 'forbidden key in JSON');
          }
          return v;
        })
      : JSON.parse(text);
  } catch (e) {
    if (e instanceof HsmError) throw e;
    throw new HsmError('ARGUMENTS_BAD', 'malformed JSON');
  }
  return value;
}
