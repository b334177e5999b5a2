// Big-endian reader and writer for p11-kit RPC message bodies (reference/p11-kit-rpc.md §3).
// The reader never throws anything but ProtocolError: every length is checked against what is
// left before bytes are copied, so a hostile frame costs at most its own size.

/** Why a frame was refused; the connection decides whether to answer or to close. */
export type ProtocolErrorCode = 'TRUNCATED' | 'BAD_LENGTH' | 'UNKNOWN_CALL' | 'BAD_SIGNATURE' | 'TOO_LARGE' | 'TOO_DEEP' | 'BAD_VALUE';

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(
    readonly code: ProtocolErrorCode,
    detail: string,
  ) {
    super(`${code}: ${detail}`);
  }
}

/** `0xffffffff` as a byte-array length means a NULL pointer (§3.1). */
export const NULL_LENGTH = 0xffffffff;
/** Lengths at or above this (other than NULL_LENGTH) are refused, as p11-kit does (§3.1). */
const MAX_ARRAY_LENGTH = 0x7fffffff;

export class Reader {
  #pos = 0;
  readonly #view: DataView;

  constructor(private readonly buf: Uint8Array) {
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get remaining(): number {
    return this.buf.length - this.#pos;
  }

  #need(n: number, what: string): void {
    if (n > this.remaining) throw new ProtocolError('TRUNCATED', `${what} needs ${n} bytes, ${this.remaining} left`);
  }

  u8(): number {
    this.#need(1, 'byte');
    return this.#view.getUint8(this.#pos++);
  }

  u32(): number {
    this.#need(4, 'u32');
    const v = this.#view.getUint32(this.#pos);
    this.#pos += 4;
    return v;
  }

  u64(): bigint {
    this.#need(8, 'u64');
    const v = this.#view.getBigUint64(this.#pos);
    this.#pos += 8;
    return v;
  }

  bytes(n: number): Uint8Array {
    this.#need(n, 'bytes');
    const out = this.buf.slice(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }

  /** A byte array: u32 length then the bytes; NULL_LENGTH gives null (§3.1). */
  byteArray(): Uint8Array | null {
    const n = this.u32();
    if (n === NULL_LENGTH) return null;
    if (n >= MAX_ARRAY_LENGTH) throw new ProtocolError('BAD_LENGTH', `byte array of ${n}`);
    return this.bytes(n);
  }

  /** An array count that cannot promise more elements than the bytes left could hold. */
  count(minElementSize: number, what: string): number {
    const n = this.u32();
    if (n * minElementSize > this.remaining) throw new ProtocolError('BAD_LENGTH', `${what}: ${n} elements cannot fit in ${this.remaining} bytes`);
    return n;
  }
}

export class Writer {
  // One growing buffer: a reply is a handful of small values, and a typed array per value (each
  // its own ArrayBuffer, malloc'd and later swept) was a measurable share of a signature's cost.
  #buf = new Uint8Array(128);
  #view = new DataView(this.#buf.buffer);
  #size = 0;

  #room(n: number): number {
    const at = this.#size;
    if (at + n > this.#buf.length) {
      const grown = new Uint8Array(Math.max(2 * this.#buf.length, at + n));
      grown.set(this.#buf.subarray(0, at));
      this.#buf = grown;
      this.#view = new DataView(grown.buffer);
    }
    this.#size = at + n;
    return at;
  }

  // Each writer takes its offset from #room first: #room may replace #buf and #view.
  u8(v: number): this {
    const at = this.#room(1);
    this.#buf[at] = v & 0xff;
    return this;
  }

  u32(v: number): this {
    const at = this.#room(4);
    this.#view.setUint32(at, v >>> 0);
    return this;
  }

  u64(v: number | bigint): this {
    const at = this.#room(8);
    this.#view.setBigUint64(at, BigInt.asUintN(64, typeof v === 'bigint' ? v : BigInt(v)));
    return this;
  }

  raw(b: Uint8Array): this {
    const at = this.#room(b.length);
    this.#buf.set(b, at);
    return this;
  }

  byteArray(b: Uint8Array | null): this {
    if (b === null) return this.u32(NULL_LENGTH);
    this.u32(b.length);
    return this.raw(b);
  }

  /** The bytes written: a view of the writer's buffer, which the writer no longer touches. */
  finish(): Uint8Array {
    return this.#buf.subarray(0, this.#size);
  }
}

/** A CK_ULONG from the wire as a JS number; values beyond 2^53 become -1, which no handle or type ever equals. */
export function ulong(v: bigint): number {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : -1;
}
