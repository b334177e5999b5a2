// The one codec for host-command bodies (STYLE §8): a command row lists its request and response
// fields as data (fixed text of a charset, binary, literal delimiters, variable text up to a
// delimiter, length-counted messages, key references), and these two functions read and write
// them. Decoding throws only HostError with the payShield error code to answer; a handler result
// that does not fit its response row is our bug (RangeError).

import { HostError } from './host-error.js';
import { decodeKeyField, encodeKeyBlock, encodeKeyRef, type KeyField } from './key-field.js';

/** payShield field types: N decimal digits, H hexadecimal, A printable characters. */
export type Charset = 'N' | 'H' | 'A';

type Cond = (f: Decoded) => boolean;

export type RequestField =
  /** `length` may depend on fields already read (a KSN whose length its descriptor gives). */
  | { kind: 'text'; name: string; length: number | ((f: Decoded) => number); charset: Charset; when?: Cond }
  | { kind: 'binary'; name: string; length: number; when?: Cond }
  | { kind: 'literal'; value: string; when?: Cond }
  | { kind: 'upto'; name: string; stop: string; charset: Charset; min: number; max: number; when?: Cond }
  | { kind: 'key'; name: string; error: string; when?: Cond }
  /** A length field (`digits` characters in `radix`) and then that many bytes; `formatField` names a field whose value 0/1/2 says binary/hex/text. */
  | { kind: 'counted'; name: string; digits: number; radix: 10 | 16; max: number; formatField?: string; when?: Cond };

export type ResponseField =
  | { kind: 'text'; name: string; length: number; charset: Charset; optional?: boolean }
  | { kind: 'binary'; name: string; length: number; optional?: boolean }
  | { kind: 'key'; name: string; optional?: boolean }
  | { kind: 'block'; name: string; optional?: boolean };

export type ResponseValues = Record<string, string | Uint8Array | undefined>;

/** Request field constructors: the command tables read like the manual's field lists. */
export const req = {
  n: (name: string, length: number, when?: Cond): RequestField => ({ kind: 'text', name, length, charset: 'N', ...(when ? { when } : {}) }),
  h: (name: string, length: number | ((f: Decoded) => number), when?: Cond): RequestField => ({ kind: 'text', name, length, charset: 'H', ...(when ? { when } : {}) }),
  a: (name: string, length: number, when?: Cond): RequestField => ({ kind: 'text', name, length, charset: 'A', ...(when ? { when } : {}) }),
  b: (name: string, length: number, when?: Cond): RequestField => ({ kind: 'binary', name, length, ...(when ? { when } : {}) }),
  lit: (value: string, when?: Cond): RequestField => ({ kind: 'literal', value, ...(when ? { when } : {}) }),
  upto: (name: string, stop: string, charset: Charset, min: number, max: number): RequestField => ({ kind: 'upto', name, stop, charset, min, max }),
  /** A key reference; `error` is the code a malformed one answers (10 first key, 11 second …). */
  key: (name: string, error: string, when?: Cond): RequestField => ({ kind: 'key', name, error, ...(when ? { when } : {}) }),
  counted: (name: string, digits: number, radix: 10 | 16, max: number, formatField?: string, when?: Cond): RequestField => ({ kind: 'counted', name, digits, radix, max, ...(formatField ? { formatField } : {}), ...(when ? { when } : {}) }),
};

export const res = {
  n: (name: string, length: number, optional = false): ResponseField => ({ kind: 'text', name, length, charset: 'N', optional }),
  h: (name: string, length: number, optional = false): ResponseField => ({ kind: 'text', name, length, charset: 'H', optional }),
  a: (name: string, length: number, optional = false): ResponseField => ({ kind: 'text', name, length, charset: 'A', optional }),
  b: (name: string, length: number, optional = false): ResponseField => ({ kind: 'binary', name, length, optional }),
  key: (name: string, optional = false): ResponseField => ({ kind: 'key', name, optional }),
  /** A TR-31 key block, written 'S' + block. */
  block: (name: string, optional = false): ResponseField => ({ kind: 'block', name, optional }),
};

const CHARSET: Record<Charset, RegExp> = { N: /^[0-9]*$/, H: /^[0-9A-Fa-f]*$/, A: /^[\x20-\x7e]*$/ };

/** payShield's end-message delimiter X'19 introduces an optional trailer of up to 32 characters, echoed back. */
export const END_DELIMITER = 0x19;
const MAX_TRAILER = 32;

/** Decoded request fields by name: text fields as strings (H upper-cased), binary and messages as Buffers. */
export class Decoded {
  readonly #values = new Map<string, string | Buffer>();
  readonly #keys = new Map<string, KeyField>();
  trailer: Buffer | undefined;

  set(name: string, v: string | Buffer): void {
    this.#values.set(name, v);
  }
  setKey(name: string, k: KeyField): void {
    this.#keys.set(name, k);
  }
  has(name: string): boolean {
    return this.#values.has(name) || this.#keys.has(name);
  }
  key(name: string): KeyField {
    const k = this.#keys.get(name);
    if (k === undefined) throw new TypeError(`host-command field ${name} is not a decoded key`);
    return k;
  }
  text(name: string): string {
    const v = this.#values.get(name);
    if (typeof v !== 'string') throw new TypeError(`host-command field ${name} is not decoded text`);
    return v;
  }
  bytes(name: string): Buffer {
    const v = this.#values.get(name);
    if (!Buffer.isBuffer(v)) throw new TypeError(`host-command field ${name} is not decoded bytes`);
    return v;
  }
}

function take(body: Buffer, at: number, length: number): Buffer {
  if (at + length > body.length) throw new HostError('15', 'truncated');
  return body.subarray(at, at + length);
}

function text(raw: Buffer, charset: Charset): string {
  const s = raw.toString('latin1');
  if (!CHARSET[charset].test(s)) throw new HostError('15', `not ${charset}`);
  return charset === 'H' ? s.toUpperCase() : s;
}

/** Reads `fields` from `body` starting at `at`; everything after them must be nothing or X'19 + trailer. */
export function decodeFields(fields: readonly RequestField[], body: Buffer, at: number): Decoded {
  const out = new Decoded();
  let i = at;
  for (const f of fields) {
    if (f.when && !f.when(out)) continue;
    switch (f.kind) {
      case 'text': {
        const n = typeof f.length === 'function' ? f.length(out) : f.length;
        out.set(f.name, text(take(body, i, n), f.charset));
        i += n;
        break;
      }
      case 'binary':
        out.set(f.name, Buffer.from(take(body, i, f.length)));
        i += f.length;
        break;
      case 'literal':
        if (take(body, i, f.value.length).toString('latin1') !== f.value) throw new HostError('15', `expected '${f.value}'`);
        i += f.value.length;
        break;
      case 'upto': {
        const end = body.indexOf(f.stop, i, 'latin1');
        if (end < 0) throw new HostError('15', `no '${f.stop}' after ${f.name}`);
        const v = text(body.subarray(i, end), f.charset);
        if (v.length < f.min || v.length > f.max) throw new HostError('15', `${f.name} length`);
        out.set(f.name, v);
        i = end;
        break;
      }
      case 'key': {
        const k = decodeKeyField(body, i, f.error);
        out.setKey(f.name, k.key);
        i = k.next;
        break;
      }
      case 'counted': {
        const lenText = text(take(body, i, f.digits), f.radix === 16 ? 'H' : 'N');
        i += f.digits;
        const n = Number.parseInt(lenText, f.radix);
        if (!(n >= 1 && n <= f.max)) throw new HostError('80', `${f.name} length`);
        const format = f.formatField ? out.text(f.formatField) : '0';
        if (format === '1') {
          const hex = text(take(body, i, 2 * n), 'H');
          out.set(f.name, Buffer.from(hex, 'hex'));
          i += 2 * n;
        } else if (format === '0' || format === '2') {
          out.set(f.name, Buffer.from(take(body, i, n)));
          i += n;
        } else throw new HostError('15', 'input format flag');
        break;
      }
    }
  }
  if (i < body.length) {
    if (body[i] !== END_DELIMITER || body.length - i - 1 > MAX_TRAILER) throw new HostError('15', 'unexpected data after the last field');
    out.trailer = Buffer.from(body.subarray(i + 1));
  }
  return out;
}

/** Writes a response row's fields from `values`; a missing or misfitting value is our bug. */
export function encodeFields(fields: readonly ResponseField[], values: ResponseValues): Buffer[] {
  const parts: Buffer[] = [];
  for (const f of fields) {
    const v = values[f.name];
    if (v === undefined) {
      if (f.optional) continue;
      throw new RangeError(`host-command response field ${f.name} missing`);
    }
    if (f.kind === 'key' || f.kind === 'block') {
      if (typeof v !== 'string') throw new RangeError(`host-command response field ${f.name} is not a key reference`);
      parts.push(Buffer.from(f.kind === 'key' ? encodeKeyRef(v) : encodeKeyBlock(v), 'latin1'));
    } else if (f.kind === 'binary') {
      if (typeof v === 'string' || v.length !== f.length) throw new RangeError(`host-command response field ${f.name} is not ${f.length} bytes`);
      parts.push(Buffer.from(v));
    } else {
      if (typeof v !== 'string' || v.length !== f.length || !CHARSET[f.charset].test(v)) throw new RangeError(`host-command response field ${f.name} is not ${f.length}${f.charset}`);
      parts.push(Buffer.from(v, 'latin1'));
    }
  }
  return parts;
}
