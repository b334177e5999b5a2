// JSON encoding of stored records whose fields may hold bytes (CKA_ID, public data, templates).
// A Uint8Array becomes {"$b64": "<base64>"}; an object key that starts with '$' gets one more
// '$' in front, so user data such as a tag named "$b64" can never be mistaken for bytes.
// decode(encode(v)) deep-equals v for every JSON value extended with Uint8Array.

/** A JSON value extended with byte strings. */
export type CodecValue = null | boolean | number | string | Uint8Array | CodecValue[] | { [key: string]: CodecValue | undefined };

const BYTES_KEY = '$b64';

function toJsonSafe(value: unknown): unknown {
  if (value instanceof Uint8Array) return { [BYTES_KEY]: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : toJsonSafe(v)));
  if (value !== null && typeof value === 'object') {
    const entries: [string, unknown][] = [];
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) continue; // as JSON.stringify does
      entries.push([k.startsWith('$') ? `$${k}` : k, toJsonSafe(v)]);
    }
    return Object.fromEntries(entries); // fromEntries defines own properties: '__proto__' stays data
  }
  if (typeof value === 'number' && !Number.isFinite(value)) throw new RangeError('json-codec: non-finite number');
  return value;
}

function fromJsonSafe(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromJsonSafe);
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value);
    const rec = value as Record<string, unknown>;
    if (keys.length === 1 && keys[0] === BYTES_KEY) {
      const b64 = rec[BYTES_KEY];
      if (typeof b64 !== 'string') throw new TypeError('json-codec: $b64 must be a string');
      return new Uint8Array(Buffer.from(b64, 'base64'));
    }
    return Object.fromEntries(keys.map((k) => [k.startsWith('$$') ? k.slice(1) : k, fromJsonSafe(rec[k])]));
  }
  return value;
}

/** Serialises a record to JSON text, bytes as {"$b64": …}. */
export function encodeJson(value: unknown): string {
  return JSON.stringify(toJsonSafe(value));
}

/** Parses JSON text written by encodeJson. Throws SyntaxError/TypeError on malformed input. */
export function decodeJson<T>(text: string): T {
  return fromJsonSafe(JSON.parse(text)) as T;
}
