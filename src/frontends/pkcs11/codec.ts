// The one codec for p11-kit RPC bodies (reference/p11-kit-rpc.md §2.2, §3, §4): requests are
// decoded and replies encoded from the call table's signature strings, never by hand. Decoding
// throws only ProtocolError; encoding a value that does not fit its letter is our bug (TypeError).

import { readAttributeRequests, readAttributes, type WireAttribute, writeAttributes } from './attribute-wire.js';
import { CALLS, type CallRow, ERROR_CALL, signatureParts } from './calls.js';
import { readMechanism, type WireMechanism, writeParamUpdate } from './mechanism-wire.js';
import { NULL_LENGTH, ProtocolError, type Reader, ulong, Writer } from './wire.js';

/** Protocol generation chosen for a connection: the negotiated version and the byte the client sent. */
export interface Dialect {
  version: number;
  clientVersion: number;
}

/** `fy`/`fu`: the caller's output capacity; `query` when it passed NULL (a size query, §4.3). */
export interface Capacity {
  capacity: number;
  query: boolean;
}

export type OutBytes = { data: Uint8Array } | { length: number };
export type OutUlongs = { items: readonly (number | bigint)[] } | { count: number };
/** `P` (C_DeriveKey2, protocol 2): the request's mechanism, whose parameter update is written back (§6 notes). */
export type OutParamUpdate = { paramUpdate: WireMechanism };
export type OutValue = number | bigint | Uint8Array | readonly [number, number] | OutBytes | OutUlongs | OutParamUpdate | readonly WireAttribute[];

/** Decoded arguments, read by position with the letter the call table promises. */
export class Args {
  constructor(
    readonly call: CallRow,
    private readonly parts: readonly string[],
    private readonly values: readonly unknown[],
    /** The connection's protocol generation, for the few answers that depend on it. */
    readonly dialect: Dialect = { version: 0, clientVersion: 0 },
  ) {}

  #at(i: number, letter: string): unknown {
    if (this.parts[i] !== letter) throw new TypeError(`${this.call.name} argument ${i} is ${this.parts[i]}, not ${letter}`);
    return this.values[i];
  }
  y(i: number): number {
    return this.#at(i, 'y') as number;
  }
  u(i: number): number {
    return this.#at(i, 'u') as number;
  }
  ay(i: number): Uint8Array | null {
    return this.#at(i, 'ay') as Uint8Array | null;
  }
  z(i: number): Uint8Array {
    return this.#at(i, 'z') as Uint8Array;
  }
  s(i: number): Uint8Array {
    return this.#at(i, 's') as Uint8Array;
  }
  fy(i: number): Capacity {
    return this.#at(i, 'fy') as Capacity;
  }
  fu(i: number): Capacity {
    return this.#at(i, 'fu') as Capacity;
  }
  aA(i: number): WireAttribute[] {
    return this.#at(i, 'aA') as WireAttribute[];
  }
  fA(i: number): { type: number; capacity: number }[] {
    return this.#at(i, 'fA') as { type: number; capacity: number }[];
  }
  M(i: number): WireMechanism {
    return this.#at(i, 'M') as WireMechanism;
  }
}

/** Signature strings as bytes, made once per string: every request's is compared, every reply's written. */
const signatureBytes = new Map<string, Buffer>();

function latin1Of(sig: string): Buffer {
  let b = signatureBytes.get(sig);
  if (!b) {
    b = Buffer.from(sig, 'latin1');
    signatureBytes.set(sig, b);
  }
  return b;
}

/** Reads the call id and signature: a failure here means the peer does not speak the protocol (§2.4: close). */
export function decodeHead(r: Reader): CallRow {
  const id = r.u32();
  const call = CALLS.get(id);
  if (!call) throw new ProtocolError('UNKNOWN_CALL', `call id ${id}`);
  const sig = r.byteArray();
  if (sig === null || !Buffer.from(sig.buffer, sig.byteOffset, sig.length).equals(latin1Of(call.request))) throw new ProtocolError('BAD_SIGNATURE', `${call.name}`);
  return call;
}

/** Reads the arguments of `call` (§3.1); a failure here is answered with CKR_DEVICE_ERROR (§2.4). */
export function decodeArgs(call: CallRow, r: Reader, d: Dialect): Args {
  const parts = signatureParts(call.request);
  const values: unknown[] = [];
  for (const p of parts) values.push(readPart(r, p, d));
  return new Args(call, parts, values, d);
}

function readPart(r: Reader, part: string, d: Dialect): unknown {
  switch (part) {
    case 'y':
      return r.u8();
    case 'u':
      return ulong(r.u64());
    case 'v':
      return [r.u8(), r.u8()] as const;
    case 's':
    case 'z':
      return r.byteArray() ?? new Uint8Array(0);
    case 'ay': {
      const valid = r.u8();
      // Always consume the length after a 0 flag (§3.1; p11-kit 0.24.1's server forgot to).
      if (valid === 0) {
        r.u32();
        return null;
      }
      return r.byteArray(); // 0.25+: `01 ffffffff` is a NULL input (§9)
    }
    case 'fy':
    case 'fu': {
      const n = r.u32();
      // 0.25.0+: 0xffffffff is a real buffer of capacity 0, not a size query (§9).
      if (n === NULL_LENGTH && d.version >= 1) return { capacity: 0, query: false } satisfies Capacity;
      return { capacity: n, query: n === 0 } satisfies Capacity;
    }
    case 'aA':
      return readAttributes(r, d.version);
    case 'fA':
      return readAttributeRequests(r, d.version);
    case 'M':
      return readMechanism(r, d.clientVersion);
    case 'au': {
      // Never sent in a request by any p11-kit, but the table is the authority: read it boundedly.
      const valid = r.u8();
      const n = r.count(valid ? 8 : 0, 'ulong array');
      const items: bigint[] = [];
      if (valid) for (let i = 0; i < n; i++) items.push(r.u64());
      return items;
    }
    default:
      throw new ProtocolError('BAD_SIGNATURE', `letter ${part}`);
  }
}

/** A successful reply body: call id, response signature, values in signature order (§4.1). */
export function encodeReply(call: CallRow, values: readonly OutValue[], d: Dialect): Uint8Array {
  const parts = signatureParts(call.response);
  if (parts.length !== values.length) throw new TypeError(`${call.name} reply needs ${parts.length} values, got ${values.length}`);
  const w = new Writer().u32(call.id).byteArray(latin1Of(call.response));
  for (const [i, p] of parts.entries()) writePart(w, p, values[i]!, call, d);
  return w.finish();
}

/** The error reply (§4.2): call id 0, signature `u`, the CKR value (never 0). */
export function encodeError(ckr: number): Uint8Array {
  if (!Number.isSafeInteger(ckr) || ckr <= 0 || ckr > 0xffffffff) throw new TypeError(`CKR ${ckr} cannot be an error reply`);
  return new Writer().u32(ERROR_CALL.id).byteArray(latin1Of(ERROR_CALL.response)).u64(ckr).finish();
}

function writePart(w: Writer, part: string, v: OutValue, call: CallRow, d: Dialect): void {
  const bad = (): never => {
    throw new TypeError(`${call.name}: value for ${part} has the wrong shape`);
  };
  switch (part) {
    case 'y':
      typeof v === 'number' ? w.u8(v) : bad();
      return;
    case 'u':
      typeof v === 'number' || typeof v === 'bigint' ? w.u64(v) : bad();
      return;
    case 'v':
      Array.isArray(v) && v.length === 2 ? w.u8(v[0] as number).u8(v[1] as number) : bad();
      return;
    case 's':
    case 'z':
      v instanceof Uint8Array ? w.byteArray(v) : bad();
      return;
    case 'ay': {
      if (typeof v !== 'object' || v === null) bad();
      else if ('data' in v) w.u8(1).byteArray(v.data);
      else if ('length' in v && typeof v.length === 'number') w.u8(0).u32(v.length);
      else bad();
      return;
    }
    case 'au': {
      if (typeof v !== 'object' || v === null) bad();
      else if ('items' in v) {
        w.u8(1).u32(v.items.length);
        for (const x of v.items) w.u64(x);
      } else if ('count' in v) w.u8(0).u32(v.count);
      else bad();
      return;
    }
    case 'aA':
      Array.isArray(v) ? writeAttributes(w, v as WireAttribute[], d.version) : bad();
      return;
    case 'P':
      typeof v === 'object' && v !== null && 'paramUpdate' in v ? writeParamUpdate(w, v.paramUpdate) : bad();
      return;
    default:
      bad();
  }
}

/** Frame header (§2.2): request code, options length, body length. */
export const FRAME_HEADER = 12;

export function encodeFrame(code: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER + body.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, code);
  v.setUint32(4, 0);
  v.setUint32(8, body.length);
  out.set(body, FRAME_HEADER);
  return out;
}
